/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The statistics stage's reports, written to one output: its tables
 * (report/stats_report.h) and the detectors' findings
 * (report/detect_report.h). The app connects a summary to it.
 */
#ifndef DNSSNOOP_REPORT_SINK_H
#define DNSSNOOP_REPORT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/summary.h"
#include "report/metrics.h"
#include "report/output.h"

struct report_sink {
	struct output *out;
	size_t top_n; /* entries per table (--top); 0: all */
	size_t max_entries; /* the tables' bound (--max-entries) */
	bool no_processes; /* the source cannot tell processes (pcap input) */
	/* An --interval closes, before its tables; may be NULL. */
	void (*interval)(void *ctx, uint64_t start_ns, uint64_t end_ns);
	void *interval_ctx;
	struct metrics *metrics; /* --metrics: findings and cases counted at each report; or NULL */
};

/* A summary_sink that writes through rs (rs must outlive the summary). */
struct summary_sink report_sink(struct report_sink *rs);

#endif
