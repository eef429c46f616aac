/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The statistics stage of the pipeline: turns decoded messages into
 * observations (struct dns_obs), recognises the mirrored second copy of
 * local exchanges, feeds the statistics tables, and reports them every
 * --interval and at the end of the session.
 *
 * With an interval, two sets of tables are kept: the current interval's,
 * and the running totals, into which each finished interval is merged.
 * Time is whatever the source says (packet time offline), so a capture
 * covering weeks is summarised as weeks.
 */
#ifndef DNSSNOOP_SUMMARY_H
#define DNSSNOOP_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/detect.h"
#include "analysis/stats.h"
#include "lib/obs.h"
#include "lib/packet.h"
#include "proto/dns.h"

/*
 * Where the summary's reports go, in this order at an interval close:
 * findings, interval, tables of the interval, tables of the totals. The
 * writers are in report/; app/ wires them. Any may be NULL.
 */
struct summary_sink {
	void *ctx;
	/* The detectors' findings: every one (the end), or those not given
	 * before (interval: an --interval close). */
	void (*findings)(void *ctx, struct detect *d, bool interval);
	/* An --interval closes: [start_ns, end_ns), before its tables. */
	void (*interval)(void *ctx, uint64_t start_ns, uint64_t end_ns);
	/* One set of tables: an interval's (interval) or the session's. */
	void (*tables)(void *ctx, const struct stats *st, bool interval, uint64_t start_ns,
		       uint64_t end_ns);
};

struct summary_config {
	struct summary_sink sink;
	size_t max_entries; /* per table (--max-entries) */
	uint64_t interval_ns; /* --interval; 0: report at the end only */
	uint64_t mirror_ttl_ns; /* how long a local query is remembered */
	cgroup_path_fn cgroup_path; /* live: cgroup id -> path; may be NULL */
	void *cgroup_ctx;
	/*
	 * The detectors (detect.h): every observation is fed to them and
	 * their findings are written before the statistics: new ones at each
	 * --interval close, the complete list at summary_finish.
	 * NULL or no kinds: no detection. Copied; the zone names must outlive
	 * the summary.
	 */
	const struct detect_config *detect;
	/*
	 * Every observation, after the detectors counted it, with what they
	 * made of it (v: NULL without detectors): a store of every message
	 * (the fleet's ClickHouse sink, report/ch_row.h). NULL: none.
	 */
	void (*observed)(void *ctx, const struct dns_obs *o, const struct detect_verdict *v);
	void *observed_ctx;
};

/* One decoded message and what the matcher found out about it. */
struct summary_msg {
	enum obs_kind kind;
	const struct pkt_meta *meta;
	const struct dns_msg *msg;
	uint32_t wire_len;
	bool has_latency;
	uint64_t latency_ns;
	bool retransmit; /* a query the matcher already had pending */
};

struct summary;

struct summary *summary_new(const struct summary_config *cfg);
void summary_free(struct summary *s);

void summary_message(struct summary *s, const struct summary_msg *m);
/*
 * An observation from another source (other hosts' JSON records). Both
 * entry points end in the same code: mirror detection (o->mirror is
 * ignored and worked out here, from o->dir, o->id and the exchange's
 * addresses and ports, not the host) and the tables. Observations must
 * come in time order.
 */
void summary_observation(struct summary *s, const struct dns_obs *o);
/* Time has advanced to now_ns: report finished intervals. */
void summary_tick(struct summary *s, uint64_t now_ns);
/* End of session at now_ns: report the last interval and the totals. */
void summary_finish(struct summary *s, uint64_t now_ns);
/* The detectors (NULL: no detection), for the state file's history and counts. */
struct detect *summary_detect(struct summary *s);
/* Everything seen so far (the last interval merged in after summary_finish). */
const struct stats *summary_totals(const struct summary *s);

#endif
