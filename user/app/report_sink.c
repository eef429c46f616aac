// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The summary's reports written to an output; see report_sink.h. */
#include "app/report_sink.h"
#include "report/detect_report.h"
#include "report/stats_report.h"

static void write_findings(void *ctx, struct detect *d, bool interval)
{
	struct report_sink *rs = ctx;

	if (interval)
		detect_report_new(d, rs->out);
	else
		detect_report(d, rs->out);
	/*
	 * Judged again for the gauges, at an interval close only: at the end
	 * the responder closes right after, and nobody would see them.
	 */
	if (rs->metrics && interval)
		metrics_findings(rs->metrics, d);
}

static void write_tables(void *ctx, const struct stats *st, bool interval, uint64_t start_ns,
			 uint64_t end_ns)
{
	struct report_sink *rs = ctx;
	struct stats_report_opts opts = {
		.top_n = rs->top_n,
		.window_start_ns = start_ns,
		.window_end_ns = end_ns,
		.scope = interval ? STATS_SCOPE_INTERVAL : STATS_SCOPE_TOTAL,
		.max_entries = rs->max_entries,
		.no_processes = rs->no_processes,
	};

	stats_report(st, rs->out, &opts);
}

static void interval_closes(void *ctx, uint64_t start_ns, uint64_t end_ns)
{
	struct report_sink *rs = ctx;

	if (rs->interval)
		rs->interval(rs->interval_ctx, start_ns, end_ns);
}

struct summary_sink report_sink(struct report_sink *rs)
{
	return (struct summary_sink){
		.ctx = rs,
		.findings = write_findings,
		.interval = interval_closes,
		.tables = write_tables,
	};
}
