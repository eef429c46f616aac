/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The counts behind --top-live: three tables (processes, names, servers)
 * fed once per decoded message by the pipeline, each entry keeping the
 * last TOPLIVE_WINDOW seconds as one-second buckets (queries, responses
 * by rcode class, a latency histogram). Feeding is a hash lookup and a few
 * increments, never formatting; rows are made (key text, rates,
 * percentiles, filter, sort) only when the screen is drawn, once a second.
 *
 * Time is the newest item time seen (packet time offline, the wall clock
 * live, where toplive_tick() also moves it while no message comes), so a
 * replayed capture shows the rates it had.
 *
 * Each table keeps at most max_entries entries (TOPLIVE_MAX_ENTRIES at
 * most); a new key beyond that takes the place of the entry seen least
 * recently. The views "failing" and "slowest" are the names table, sorted
 * by failures and by p99.
 */
#ifndef DNSSNOOP_TOPLIVE_H
#define DNSSNOOP_TOPLIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/summary.h"
#include "lib/obs.h"
#include "report/output.h"

#define TOPLIVE_WINDOW	    10 /* seconds the rates and percentiles cover */
#define TOPLIVE_MAX_ENTRIES 4096 /* per table, whatever --max-entries says (about 2 KiB each) */
#define TOPLIVE_KEY_TEXT    256 /* a row's key as shown, NUL included */
#define TOPLIVE_OWNER_TEXT  64 /* a process's unit or container as shown, NUL included */

enum toplive_view {
	TOPLIVE_PROCESSES,
	TOPLIVE_NAMES,
	TOPLIVE_SERVERS,
	TOPLIVE_FAILING,
	TOPLIVE_SLOWEST,
	TOPLIVE_NVIEWS
};

/* The columns a view can be sorted by (descending; the key ascending). */
enum toplive_sort {
	TOPLIVE_SORT_RATE,
	TOPLIVE_SORT_FAILS,
	TOPLIVE_SORT_P50,
	TOPLIVE_SORT_P99,
	TOPLIVE_SORT_KEY,
	TOPLIVE_NSORTS
};

/* Responses by rcode class. */
enum toplive_rcode {
	TOPLIVE_NOERROR,
	TOPLIVE_NXDOMAIN,
	TOPLIVE_SERVFAIL,
	TOPLIVE_OTHER,
	TOPLIVE_NRC
};

/* One row of a view, over the window. */
struct toplive_row {
	char key[TOPLIVE_KEY_TEXT];
	/*
	 * Processes: the container's name, else its id's first 12 digits,
	 * else the systemd unit, else "-"; other views: "".
	 */
	char owner[TOPLIVE_OWNER_TEXT];
	double qps; /* queries per second */
	uint64_t queries, responses;
	uint64_t rc[TOPLIVE_NRC];
	uint64_t fails; /* responses other than NOERROR */
	uint64_t timed; /* responses with a latency: the percentiles mean something */
	uint64_t p50_ns, p99_ns;
};

struct toplive_config {
	size_t max_entries; /* per table; 0 or above TOPLIVE_MAX_ENTRIES: that */
	/* live: a process's identity, asked only when rows are made; NULL: "-" */
	cgroup_ident_fn cgroup_ident;
	void *cgroup_ctx;
};

struct toplive;

struct toplive *toplive_new(const struct toplive_config *cfg);
void toplive_free(struct toplive *t);

/* One decoded query or response (unanswered ones are not counted). */
void toplive_message(struct toplive *t, const struct summary_msg *sm);
/* The same for a record read back (JSON Lines input). */
void toplive_observation(struct toplive *t, const struct dns_obs *o);
/* Time has advanced to now_ns without a message (live). */
void toplive_tick(struct toplive *t, uint64_t now_ns);

/* The newest time seen; 0 before any. */
uint64_t toplive_now(const struct toplive *t);
/* Queries per second over the window, all processes together. */
double toplive_total_qps(const struct toplive *t);
/* Entries of view v's table now. */
size_t toplive_entries(const struct toplive *t, enum toplive_view v);

/*
 * The first max rows of view v whose key (or owner) contains filter
 * (case-folded; NULL or "": every row), sorted by sort. Returns how many were written.
 */
size_t toplive_rows(const struct toplive *t, enum toplive_view v, enum toplive_sort sort,
		    const char *filter, struct toplive_row *rows, size_t max);

/*
 * The processes table grouped (key 'u' of the view): a row per unit or
 * container (toplive_row.owner of its processes, "-" for those of none),
 * its owner "N processes", its figures those of its processes together
 * (percentiles of their latencies together). As toplive_rows() otherwise.
 */
size_t toplive_unit_rows(const struct toplive *t, enum toplive_sort sort, const char *filter,
			 struct toplive_row *rows, size_t max);

/* The sort a view starts with. */
enum toplive_sort toplive_default_sort(enum toplive_view v);

#endif
