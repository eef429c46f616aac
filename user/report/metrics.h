/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Prometheus metrics (--metrics): counters fed once per decoded message by
 * the pipeline, and their text exposition (format 0.0.4), rendered on
 * demand into a buffer that app/metrics_http.c serves. The hot path does
 * a few hash lookups and increments, never formatting: label text (qtype
 * and rcode names, addresses, cgroup paths) is made at render time.
 *
 * Every labelled family keeps at most max_series label sets, in the order
 * they first came; later ones are summed into one series whose labels are
 * all "other". A label set never moves between its own series and
 * "other", so every counter stays monotonic (what rate() needs). Every
 * metric is listed in docs/output.md, "Prometheus metrics".
 */
#ifndef DNSSNOOP_METRICS_H
#define DNSSNOOP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/detect.h"
#include "analysis/stats.h"
#include "analysis/summary.h"
#include "lib/json.h"
#include "lib/obs.h"

/* Label sets per family, whatever --max-entries says: one scrape stays small. */
#define METRICS_MAX_SERIES 1000

struct metrics_config {
	size_t max_series; /* label sets per family; 0 or more than METRICS_MAX_SERIES: that */
	cgroup_path_fn cgroup_path; /* live: a process's cgroup id to its path; NULL: "" */
	void *cgroup_ctx;
	uint64_t max_pending; /* --max-pending, for its gauge */
	uint64_t max_entries; /* --max-entries, for its gauge */
};

/* What other stages know at render time; given by the pipeline. */
struct metrics_gauges {
	const struct capture_stats *st; /* the session's counters so far */
	uint64_t pending; /* queries waiting for their response */
	bool has_tables; /* the statistics run (--summary): the entries below mean something */
	size_t table_entries[STATS_NTABLES]; /* entries of the session's tables */
	bool has_ring; /* live: the ring's fill below is known */
	double ring_fill; /* bytes waiting in the ring / its size */
};

struct metrics;

struct metrics *metrics_new(const struct metrics_config *cfg);
void metrics_free(struct metrics *m);

/* One decoded query or response (unanswered ones are counted elsewhere: skipped). */
void metrics_message(struct metrics *m, const struct summary_msg *sm);
/* The detectors' findings and cases by kind, judged now: the latest report's gauges. */
void metrics_findings(struct metrics *m, struct detect *d);
/* The whole exposition, appended to out. Returns 0, or -ENOMEM. */
int metrics_render(const struct metrics *m, const struct metrics_gauges *g, struct jbuf *out);

/*
 * A label value as the format escapes it (backslash, double quote,
 * newline); bytes that are not printable ASCII become '?', so the text is
 * valid UTF-8 whatever a process name holds.
 */
void metrics_label_value(struct jbuf *out, const char *s, size_t n);

#endif
