/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Statistics report: the tables of a struct stats as JSON records
 * (process_stats, peer_stats, name_stats, client_stats, pair_stats; schema in
 * docs/output.md) or, in text format, as one aligned table per table type.
 *
 * Each table is reported as its top entries by query count, then one
 * "others" row with the totals of the entries that were cut and the
 * table's error bound (Space-Saving, see stats.h). In JSON the others
 * record is always written, also for an empty table, so every report of a
 * table ends with it; the text format shows an "(others)" row only when
 * something was cut, and leaves out the empty process tables of a source
 * that cannot know processes (stats_report_opts.no_processes).
 */
#ifndef DNSSNOOP_STATS_REPORT_H
#define DNSSNOOP_STATS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/output.h"
#include "analysis/stats.h"

#define STATS_REPORT_DEFAULT_TOP   20 /* --top */
#define STATS_REPORT_DEFAULT_WIDTH 100 /* text: terminal columns to fit */

/* What the figures cover: one --interval, or everything since the start. */
enum stats_report_scope { STATS_SCOPE_INTERVAL, STATS_SCOPE_TOTAL };

struct stats_report_opts {
	size_t top_n; /* entries per table (--top); 0 = all */
	uint64_t window_start_ns, window_end_ns; /* wall clock, ns since the epoch */
	enum stats_report_scope scope;
	size_t max_entries; /* the tables' bound (--max-entries), for the error statement */
	unsigned int width; /* text: columns to fit when possible; 0 = STATS_REPORT_DEFAULT_WIDTH */
	/*
	 * The source cannot tell processes (pcap input): text leaves out
	 * the tables keyed by process while they are empty.
	 */
	bool no_processes;
};

/* Writes every table of s to o: processes, peers, names, clients, then the pairs. */
void stats_report(const struct stats *s, struct output *o, const struct stats_report_opts *opts);

#endif
