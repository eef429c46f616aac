/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Detectors of exclusive communication patterns (docs/detection.md):
 * exclusive_target, exclusive_client, mutual, time_window, periodic,
 * replacement and first_seen findings from the observations of a session.
 *
 * detect_add() sees every observation (the summary stage calls it after
 * marking mirrors); it counts lookups (queries, not mirrors, retransmissions
 * of the same id to the same name within 1 s once) per client, per target
 * (name, registered domain, peer address) and per client x target pair, in
 * bounded tables. detect_findings() judges them (end of session, interval closes).
 *
 * Memory: three tables of at most max_entries entries (clients, targets,
 * pairs; past that, the entry with the smallest count among a sample is
 * replaced and the newcomer records it as its error bound), plus at most
 * max_details per-pair time records (168 hour-of-week counters and the last
 * DETSTAT_TS_MAX timestamps) for pairs of at least DETECT_DETAIL_MIN lookups.
 * Each target entry also keeps its last NOERROR-answered lookup, the
 * NXDOMAIN answers since, and its first DETECT_TARGET_ADDRS answer addresses.
 */
#ifndef DNSSNOOP_DETECT_H
#define DNSSNOOP_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/detstat.h"
#include "analysis/stats.h"
#include "lib/obs.h"

enum detect_kind {
	DETECT_MUTUAL,
	DETECT_EXCLUSIVE_TARGET,
	DETECT_EXCLUSIVE_CLIENT,
	DETECT_TIME_WINDOW,
	DETECT_PERIODIC,
	DETECT_REPLACEMENT,
	DETECT_FIRST_SEEN,
	DETECT_NKINDS,
};

#define DETECT_ALL_KINDS ((1u << DETECT_NKINDS) - 1)

enum detect_target_kind { DETECT_T_NAME, DETECT_T_DOMAIN, DETECT_T_PEER, DETECT_T_NKINDS };

#define DETECT_MAX_ZONES       8
#define DETECT_DETAIL_MIN      4 /* lookups before a pair keeps its time record */
#define DETECT_DEFAULT_DETAILS 4096
#define DETECT_EXAMPLES	       10
#define DETECT_TEXT_MAX	       256 /* target text: a name is at most 253 bytes */
#define DETECT_HOST_MAX	       64
#define DETECT_CGROUP_MAX      192
#define DETECT_TARGET_ADDRS    4 /* answer addresses kept per target (replacement) */
#define DETECT_DOMINANT_SHARE  0.5 /* a client with more of all lookups is the traffic */
/* --min-spread counts time slices of the session's span / DETECT_SPREAD_SLICES (>= 1 ms). */
#define DETECT_SPREAD_SLICES 1000
/* exclusive_client: the client's share of its top target's lookups, at least. */
#define DETECT_OWN_TARGET_SHARE 0.5
/* A client whose lookups are mostly first lookups of a name is "one-off" (spam filter, crawler). */
#define DETECT_ONE_OFF_SHARE 0.5
/* Finding identities remembered for detect_findings_new (a set of 64-bit hashes). */
#define DETECT_WRITTEN_MAX 16384

struct detect_config {
	unsigned int kinds; /* bit (1 << enum detect_kind); 0: detect nothing */
	size_t max_entries; /* per table (--max-entries) */
	size_t max_details; /* per-pair time records; 0: DETECT_DEFAULT_DETAILS */
	uint64_t min_lookups; /* --min-lookups (16) */
	double exclusive_share; /* --exclusive-share (0.8) */
	uint64_t min_clients; /* --min-clients (5) */
	uint64_t population_window_ns; /* --population-window: the span judged, at least (1 day) */
	double min_repeat; /* --min-repeat: a pair's lookups per distinct name (3) */
	unsigned int min_spread; /* --min-spread: distinct time slices of a pair's lookups (3) */
	unsigned int min_hours; /* exclusive_client: distinct active hours (2) */
	double periodic_score; /* DETSTAT_PERIODIC_SCORE */
	uint64_t periodic_min_lookups; /* DETSTAT_PERIODIC_MIN_LOOKUPS */
	double concentrated_ratio; /* pair window <= ratio x baseline window (0.5) */
	const char *zones[DETECT_MAX_ZONES]; /* --tz, checked by the caller */
	size_t nzones;
	unsigned int business_start, business_end; /* --business-hours, [start, end) */
	uint64_t silence_ns; /* replacement: --silence (24 h) */
	uint64_t replacement_window_ns; /* replacement: --replacement-window (7 days) */
	double replacement_containment; /* new target's lookups from old clients (0.8) */
	double replacement_jaccard; /* weighted Jaccard of client shares (0.5) */
	/*
	 * first_seen: every target new to the history (--first-seen), not
	 * only those that are part of another finding.
	 */
	bool first_seen_all;
};

/* Fills the defaults above (all kinds, no zones, 08-19). */
void detect_config_default(struct detect_config *cfg);
/*
 * "mutual,periodic" -> kinds mask (empty words are skipped). -EINVAL for
 * an unknown kind, whose word is copied to bad[bad_len] (may be NULL).
 */
int detect_parse_kinds(const char *list, unsigned int *kinds, char *bad, size_t bad_len);
const char *detect_kind_name(enum detect_kind k);
const char *detect_target_kind_name(enum detect_target_kind k);

/* A client as the finding names it. */
struct detect_client {
	bool process; /* a local process (owner known), else an address */
	char comm[DNSSNOOP_COMM_LEN + 1];
	uint32_t uid, pid; /* pid: the last one seen, for display */
	char cgroup[DETECT_CGROUP_MAX]; /* "" if unknown */
	uint8_t family;
	uint8_t addr[16];
	char host[DETECT_HOST_MAX]; /* "" = this host */
	char label[DETECT_HOST_MAX + DETECT_CGROUP_MAX + 48]; /* one string for text and tests */
};

/* Concentration of one side: a target's clients or a client's targets. */
struct detect_side {
	uint64_t lookups; /* N */
	uint64_t error; /* table bound: up to this many earlier lookups missed */
	uint64_t distinct; /* D */
	uint64_t top_lookups, second_lookups;
	double top_share, second_share; /* s1, s2 */
	double hhi, effective; /* sum share^2, 1/HHI */
	double wilson_lower, wilson_lower_top_two;
	bool top_two; /* qualified only with the second party */
	uint64_t active_clients; /* population: clients active in first .. last */
	unsigned int active_hours; /* distinct clock hours with lookups (clients) */
	uint64_t first_ns, last_ns;
	bool exclusive; /* met every rule */
};

struct detect_window_zone {
	const char *zone;
	long offset_s; /* at the pair's last lookup */
	bool exact; /* from every timestamp, not a histogram shifted by offset_s */
	struct detstat_business_result res;
};

struct detect_time_window {
	uint64_t week_utc[DETSTAT_WEEK_BINS];
	uint64_t counted; /* lookups in the histogram */
	struct detstat_window utc;
	double weekday_share_utc;
	struct detstat_window baseline;
	double baseline_weekday_share;
	bool concentrated;
	size_t nzones;
	struct detect_window_zone zones[DETECT_MAX_ZONES];
};

/* A target that went silent (or NXDOMAIN) and the new one that took its clients. */
struct detect_replacement {
	const char *old_target, *new_target;
	bool nxdomain; /* the old target answers NXDOMAIN from its end on; else silent */
	uint64_t old_lookups, old_distinct, old_first_ns, old_last_ns;
	uint64_t old_end_ns; /* its last answered lookup (last lookup if no answers seen) */
	uint64_t old_nxdomain; /* NXDOMAIN answers after old_end_ns */
	uint64_t new_lookups, new_distinct, new_first_ns, new_last_ns;
	uint64_t gap_ns; /* new_first_ns - old_end_ns */
	struct detstat_overlap overlap;
	const struct detect_client *first_client; /* of the new target */
	uint64_t first_client_ns;
	size_t nold_addrs, nnew_addrs;
	struct obs_addr old_addrs[DETECT_TARGET_ADDRS], new_addrs[DETECT_TARGET_ADDRS];
	int address_overlap; /* 1, 0, or -1: no answer addresses seen for one of them */
};

/* A target that the history (the state file) did not hold, looked up now. */
struct detect_first_seen {
	uint64_t lookups, clients; /* of the target, over all its clients */
	uint64_t first_ns, last_ns;
	uint64_t known_targets; /* targets of the history it was checked against */
	uint64_t history_first_ns; /* the history's earliest first lookup */
};

struct detect_finding {
	enum detect_kind kind;
	enum detect_target_kind target_kind;
	const char *target;
	const struct detect_client *client; /* the pair's client */
	const struct detect_client *second_client; /* exclusive_target/mutual: or NULL */
	const char *top_target, *second_target; /* exclusive_client/mutual: or NULL */
	struct detect_side by_target; /* the target's clients (exclusive_target, mutual) */
	struct detect_side by_client; /* the client's targets (exclusive_client, mutual) */
	uint64_t pair_lookups;
	uint64_t pair_first_ns, pair_last_ns;
	double npmi;
	double pair_repeat; /* the pair's lookups per distinct name */
	unsigned int pair_spread; /* distinct slices (of DETECT_SPREAD_SLICES) with its lookups */
	double client_one_off_share; /* the client's lookups that were its first of a name */
	uint64_t total_lookups; /* all lookups of the session */
	uint64_t examples[DETECT_EXAMPLES]; /* the pair's last lookups, oldest first */
	size_t nexamples;
	const struct detect_time_window *window; /* time_window */
	struct detstat_periodic periodic; /* periodic */
	struct detect_replacement
		replacement; /* replacement: target = old, client = first of new */
	struct detect_first_seen first_seen; /* first_seen: client = its first client */
};

struct detect;

struct detect *detect_new(const struct detect_config *cfg);
void detect_free(struct detect *d);

/*
 * One observation, in time order. Queries (not mirrors) are lookups;
 * responses (not mirrors) of known name and domain targets record their
 * NOERROR / NXDOMAIN state and a few answer addresses (replacement).
 */
void detect_add(struct detect *d, const struct dns_obs *o);

typedef void (*detect_finding_fn)(void *ctx, const struct detect_finding *f);
/*
 * Judges everything seen so far and calls fn for each finding: mutual,
 * exclusive_target, exclusive_client, time_window, periodic, replacement,
 * first_seen, each kind by target kind (name, domain, peer), then lookups descending. Returns the
 * number of findings, or -ENOMEM.
 */
int detect_findings(struct detect *d, detect_finding_fn fn, void *ctx);

struct detect_case;
typedef void (*detect_case_fn)(void *ctx, const struct detect_case *c);
/*
 * detect_findings, then the findings grouped into cases (analysis/detect_case.h),
 * best score first, each given to case_fn (NULL: none). Returns the number
 * of findings, or -ENOMEM.
 */
int detect_findings_and_cases(struct detect *d, detect_finding_fn fn, detect_case_fn case_fn,
			      void *ctx);

/*
 * The same for an --interval close: only the findings whose identity
 * (kind, target kind, target, client label; a seeded 64-bit hash of them)
 * no earlier call gave, remembering them. At most DETECT_WRITTEN_MAX
 * identities are remembered; past that, new findings wait for the end.
 * Returns the number given, or -ENOMEM.
 */
int detect_findings_new(struct detect *d, detect_finding_fn fn, void *ctx);

/*
 * What the detectors counted, given to another stage as it is counted (the
 * state file, analysis/state.h), so that it sees the same lookups: the same
 * clients, retransmissions left out, the same registered domains. Both
 * functions may be NULL.
 */
struct detect_tap {
	void *ctx;
	/*
	 * One counted lookup of a target by a client (chash, thash: the
	 * detector's hashes of them); first_of_name: the client's first
	 * lookup of the name as far as the pairs table remembers (what
	 * --min-repeat's distinct names count).
	 */
	void (*lookup)(void *ctx, const struct detect_client *c, uint64_t chash,
		       enum detect_target_kind kind, const char *text, uint64_t thash,
		       uint64_t ts_ns, bool first_of_name);
	/*
	 * A NOERROR (rcode 0) or NXDOMAIN (3) response for a known name or
	 * domain target; query_ns: the answered lookup's time (NOERROR), the
	 * response's (NXDOMAIN).
	 */
	void (*answer)(void *ctx, enum detect_target_kind kind, const char *text, uint64_t thash,
		       int rcode, uint64_t query_ns, const struct obs_addr *addrs, size_t naddrs);
};

/*
 * What the detectors made of one observation, for a store that keeps every
 * message (the fleet's messages table, report/ch_row.h) and sums it later:
 * the same client identity, names, registered domain and peer as the
 * tables use, and the tap's verdict on it, so that the sums are the
 * detectors' counts. Pointers are valid until the next detect_add_verdict().
 */
struct detect_verdict {
	struct detect_client client; /* the query sender, label filled in */
	const char *name; /* case-folded, without the final dot; "" when none */
	const char *domain; /* its registered domain; "" when none */
	const char *peer; /* the server's address; "" when unknown */
	bool lookup; /* a counted lookup (not a mirror, not a retransmission) */
	bool first_of_name; /* ... and the client's first of the name */
	/* The answer tap's query_ns for the name / domain target; 0: no answer counted. */
	uint64_t name_answer_ns, domain_answer_ns;
	char name_buf[DETECT_TEXT_MAX];
};

/* detect_add, and what it made of o in *v (which may be NULL). */
void detect_add_verdict(struct detect *d, const struct dns_obs *o, struct detect_verdict *v);

/* Counted lookups and answers go to tap as well (NULL: to nothing). Copied. */
void detect_set_tap(struct detect *d, const struct detect_tap *tap);

/*
 * History (the state file): counts of earlier sessions, added as if this
 * session had observed them, before its first observation. The detectors'
 * code is the same for both; a loaded entry differs from an observed one
 * only in having no recent query ids (so no retransmission matches it).
 */
struct detect_history_pair {
	const struct detect_client *client; /* identity: host, comm, uid, cgroup or address */
	enum detect_target_kind kind;
	const char *text;
	uint64_t lookups; /* > 0 */
	uint64_t names; /* distinct names (1 for a name target) */
	uint64_t first_ns, last_ns;
	const uint64_t *week; /* DETSTAT_WEEK_BINS lookups by UTC hour of week (sum = lookups) */
	const uint64_t *ts; /* the pair's last lookups, oldest first */
	size_t nts; /* at most DETSTAT_TS_MAX */
};

/*
 * One client x target pair of the history: client, target and pair
 * entries created or added to, the pair's time record filled from week
 * and ts, and the session's totals and baseline (name targets) grown.
 * Returns 0 or -EINVAL (no lookups, empty text).
 */
int detect_load_pair(struct detect *d, const struct detect_history_pair *h);
/* A client's distinct clock hours with lookups in the history (exclusive_client's min_hours). */
void detect_load_client_hours(struct detect *d, const struct detect_client *c, unsigned int hours);
/*
 * A target's answers in the history (replacement): its last NOERROR-answered
 * lookup, the NXDOMAIN answers since, its first answer addresses. Only for
 * a target loaded already; false if it is not there.
 */
bool detect_load_answers(struct detect *d, enum detect_target_kind kind, const char *text,
			 uint64_t last_ok_ns, uint64_t nx_after, const struct obs_addr *addrs,
			 size_t naddrs);

/*
 * A target of the history, known before now (first lookup first_ns):
 * first_seen reports targets looked up now that no such call named. A
 * detector given none (no history) reports no first_seen finding. Returns
 * 0 or -ENOMEM.
 */
int detect_load_known_target(struct detect *d, enum detect_target_kind kind, const char *text,
			     uint64_t first_ns);

/* The configuration in use (defaults filled in), for the findings' thresholds. */
const struct detect_config *detect_config_of(const struct detect *d);

#endif
