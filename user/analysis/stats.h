/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Statistics: per-process, per-peer, per-name, per-client and pair tables, bounded in
 * memory, mergeable across intervals and hosts.
 *
 * The pipeline turns every DNS message (query, response, unanswered query)
 * into a struct dns_obs and calls stats_add(); the fleet input builds the
 * same observations from other hosts' JSON records. The statistics never
 * see packets or wire format.
 *
 * Each table holds at most max_entries keys. Past that it evicts with the
 * Space-Saving algorithm keyed on query count: the key with the smallest
 * count is replaced and the newcomer inherits that count as its error
 * bound, so every key whose true query count exceeds total/max_entries is
 * guaranteed to be present, and its reported count is at most `error`
 * above the truth. Figures other than the count restart for a newcomer.
 */
#ifndef DNSSNOOP_STATS_H
#define DNSSNOOP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h> /* the __u32 of dnssnoop.h */

#include "bpf/dnssnoop.h"
#include "lib/obs.h"
#include "analysis/lathist.h"

enum stats_table {
	STATS_PROCESS, /* (host, tgid) */
	STATS_COMM, /* (host, comm, cgroup): short-lived processes add up */
	STATS_PEER, /* (remote address, port, proto) */
	STATS_NAME, /* case-folded qname */
	STATS_CLIENT, /* (host, client address): the query's sender */
	STATS_PROC_PEER, /* (host, tgid) x peer */
	STATS_PROC_NAME, /* (host, tgid) x name */
	STATS_CLIENT_NAME, /* (host, client address) x name */
	STATS_NTABLES,
};

/* Rcode columns. */
enum stats_rcode { RC_NOERROR, RC_NXDOMAIN, RC_SERVFAIL, RC_REFUSED, RC_OTHER, RC_NCOLS };

#define STATS_QTYPE_SLOTS    8 /* distinct qtypes counted exactly per entry; the rest "other" */
#define STATS_EXACT_DISTINCT 64 /* distinct names/addresses counted exactly, then estimated */

struct stats_qtype_count {
	uint16_t qtype;
	uint64_t count;
};

/* The figures of one table entry (or of the "others" row). */
struct stats_figures {
	uint64_t queries; /* Space-Saving count (may be over by `error`) */
	uint64_t error; /* overestimation bound of queries (0 = exact) */
	uint64_t responses, unanswered;
	uint64_t retransmits; /* of the queries, those the matcher saw again while pending */
	uint64_t rcode[RC_NCOLS];
	struct stats_qtype_count qtypes[STATS_QTYPE_SLOTS]; /* by count, descending */
	uint64_t qtype_other;
	uint64_t udp, tcp; /* messages by transport */
	uint64_t truncated; /* responses with TC */
	uint64_t bytes_query, bytes_response; /* message bytes, queries / responses */
	uint64_t first_ns, last_ns;
	uint64_t distinct_names; /* exact, or an estimate when names_estimated */
	bool names_estimated;
	uint64_t distinct_addrs; /* names: answer addresses; exact or estimated */
	bool addrs_estimated;
	struct lathist latency; /* of matched responses */
};

/* The key of an entry, decoded for output (fields unused by a table are 0/NULL). */
struct stats_key {
	const char *host; /* NULL: this host */
	uint32_t tgid;
	const char *comm; /* STATS_COMM and process tables: the process name */
	const char *cgroup;
	uint32_t uid;
	uint8_t family;
	uint8_t addr[16]; /* peer or client address */
	uint16_t port; /* peer port */
	uint8_t proto;
	const char *name; /* case-folded qname */
};

struct stats_config {
	size_t max_entries; /* per table; --max-entries, default 100000 */
};

struct stats;

struct stats *stats_new(const struct stats_config *cfg);
void stats_free(struct stats *s);

void stats_add(struct stats *s, const struct dns_obs *o);

/* dst += src (intervals or hosts); src is unchanged. Bounds still hold. */
void stats_merge(struct stats *dst, const struct stats *src);
/* Empty every table (start of a new interval). */
void stats_reset(struct stats *s);

/* Observations and queries added, for totals and the Space-Saving bound. */
uint64_t stats_total_queries(const struct stats *s, enum stats_table t);
/* Entries evicted from table t so far (0: every count is exact). */
uint64_t stats_evictions(const struct stats *s, enum stats_table t);
/* Entries in table t now (at most max_entries); O(1). */
size_t stats_entries(const struct stats *s, enum stats_table t);

/*
 * The top n entries of table t by query count (n = 0: all), in descending
 * order, with the sum of the rest in *others (may be NULL). fn is called
 * once per entry; the pointers are valid during the call only.
 * Ties are broken by key, so the order is deterministic.
 * *others is overwritten (not added to). It holds the entries after the
 * top n and also the figures that have no entry: those of evicted entries
 * and responses whose key was not in a full table; so it may be non-zero
 * even when every entry was reported. Its latency histogram belongs to
 * the caller: release it with lathist_free(&others->latency).
 */
typedef void (*stats_entry_fn)(void *ctx, const struct stats_key *key,
			       const struct stats_figures *fig);
void stats_top(const struct stats *s, enum stats_table t, size_t n, stats_entry_fn fn, void *ctx,
	       struct stats_figures *others);

#endif
