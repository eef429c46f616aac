/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The detectors' state, shared by their two halves: counting (detect.c,
 * per lookup) and judging (detect_judge.c, at interval closes and at the
 * end). Not for other modules: they use detect.h.
 */
#ifndef DNSSNOOP_DETECT_IMPL_H
#define DNSSNOOP_DETECT_IMPL_H

#include <libpsl.h>

#include "analysis/detect.h"
#include "lib/fmt.h"
#include "lib/slots.h"
#include "lib/u64set.h"

#define RETRANSMIT_NS NS_PER_SEC
#define EVICT_SAMPLE  32 /* entries looked at to pick a victim in a full table */
#define NO_DETAIL     UINT32_MAX
/* Lookups remembered per pair: an A and AAAA pair and their resends fit. */
#define DETECT_RECENT 4
/*
 * Registered domains remembered by name hash, in sets of two (the most
 * recently used first): libpsl's lookup costs more than everything else
 * done per lookup, and a host's names repeat. Direct-mapped, a 5000-name
 * zone's names evicted each other in a quarter of the slots.
 */
#define DOMAIN_MEMO_SETS 8192
#define NO_DOMAIN	 (-1)

/* The common head of every table entry. */
struct ehead {
	uint64_t hash;
	uint64_t lookups;
	uint64_t error; /* lookups possibly missed before it (re)entered the table */
	uint64_t first_ns, last_ns;
};

struct dclient {
	struct ehead h;
	struct detect_client id;
	uint64_t last_hour; /* absolute hour of the last lookup */
	unsigned int hours; /* distinct absolute hours with lookups */
	uint64_t first_contacts; /* lookups that were the first of their name by this client */
};

/*
 * The text last: every lookup and response touches the fields before it,
 * which then share the head's cache lines (it was a miss per response).
 */
struct dtarget {
	struct ehead h;
	uint8_t kind;
	uint8_t naddrs; /* answer addresses kept */
	/* Responses, for replacement: */
	uint64_t last_ok_ns; /* query time of the last NOERROR-answered lookup */
	uint64_t nx_after; /* NXDOMAIN answers after it */
	struct obs_addr addrs[DETECT_TARGET_ADDRS]; /* the first distinct answer addresses */
	char text[DETECT_TEXT_MAX];
};

struct dpair {
	struct ehead h;
	uint64_t chash, thash;
	uint64_t names; /* distinct names: lookups that were the client's first of their name */
	uint8_t tkind;
	uint8_t recent_next; /* next slot of recent_* to overwrite */
	uint16_t recent_id[DETECT_RECENT]; /* the last lookups' ids and times, */
	uint64_t recent_ns[DETECT_RECENT]; /* to recognise retransmissions */
	uint64_t early[DETECT_DETAIL_MIN - 1]; /* first lookups, before a detail */
	uint32_t detail; /* index into the detail pool, or NO_DETAIL */
};

/* The time record of a pair. */
struct ddetail {
	uint32_t owner; /* the pair's slot + 1; 0: free (a calloc'd pool is all free) */
	uint32_t nts, head; /* ring of the last DETSTAT_TS_MAX timestamps */
	uint64_t counted; /* lookups in week[] */
	uint64_t week[DETSTAT_WEEK_BINS];
	uint64_t ts[DETSTAT_TS_MAX];
};

/* Entries grow with the pool (slots.h): up to max_entries of them. */
struct table {
	struct slots s;
	uint32_t cursor; /* where the next eviction sample starts */
};

/* A name's registered domain: a suffix of the name, at this offset. */
struct domain_memo {
	uint64_t name_hash;
	int16_t offset; /* NO_DOMAIN: none */
	bool used;
};

/* The last peer seen, its text and hash: most hosts talk to a few resolvers. */
struct peer_memo {
	uint8_t family;
	uint8_t addr[16];
	uint64_t hash;
	char text[FMT_ADDR_MAX + 1];
};

struct detect {
	struct detect_config cfg;
	uint64_t seed;
	const psl_ctx_t *psl;
	struct domain_memo domains[DOMAIN_MEMO_SETS][2];
	struct peer_memo peer;
	struct table clients, targets, pairs;
	struct ddetail *details;
	uint32_t ndetails, used_details, detail_cursor;
	uint64_t total; /* lookups */
	uint64_t week[DETSTAT_WEEK_BINS]; /* baseline: all lookups */
	uint64_t first_ns, last_ns;
	/*
	 * Identities of the findings written at interval closes, so that
	 * each is written once before the end.
	 */
	struct u64set written;
	/* Hashes of the history's targets (detect_load_known_target): first_seen. */
	struct u64set known;
	uint64_t known_first_ns;
	struct detect_tap tap; /* counted lookups, also given to another stage */
	struct detect_verdict *verdict; /* during detect_add_verdict: the one to fill */
};

static inline bool wants(const struct detect *d, enum detect_kind k)
{
	return d->cfg.kinds & (1u << k);
}

static inline struct ehead *entry(const struct table *t, uint32_t i)
{
	return (struct ehead *)((char *)slots_entries(&t->s) + (size_t)i * t->s.entry_size);
}

static inline uint32_t table_find(const struct table *t, uint64_t hash)
{
	return slots_first(&t->s, hash);
}

#endif
