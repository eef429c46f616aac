/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --clickhouse wired into the session: the sink (report/clickhouse_sink.h)
 * with its spool directory chosen, and an output (report/output.h) in JSON
 * for the capture_stats records, independent of what the records on
 * standard output are (--format text, --no-events): into the stats table as
 * {host, ts, type, json} with the record as json. The messages table's rows
 * (report/ch_row.h) come from the summary stage, one per observation with
 * the detectors' verdict: clickhouse_feed_observed().
 */
#ifndef DNSSNOOP_CLICKHOUSE_FEED_H
#define DNSSNOOP_CLICKHOUSE_FEED_H

#include <stdint.h>

#include "app/cli.h"
#include "analysis/detect.h"
#include "report/ch_row.h"
#include "report/clickhouse_sink.h"
#include "report/output.h"

/* --clickhouse-spool-mb's default. */
#define CH_SPOOL_DEFAULT_MB 1024
/* At the end: how long the rows of the session may take to go (the rest stays spooled). */
#define CH_FLUSH_TIMEOUT_NS (10ull * 1000000000ull)
/* After the last capture_stats: its own row. */
#define CH_CLOSE_TIMEOUT_NS (2ull * 1000000000ull)

struct clickhouse_feed {
	struct clickhouse_sink *sink;
	struct output *rows; /* what the pipeline writes the sink's rows to */
	struct jbuf *stats_row; /* a stats table row, reused */
	struct ch_rowbuf message_row; /* a messages table row, reused */
	char host[256]; /* the stats rows' */
};

/*
 * Open the sink (o->clickhouse), its spool and the rows' output (ocfg:
 * the session's output settings; fd and format are the feed's own).
 * Returns 0, or the exit status with the reason said on stderr.
 */
int clickhouse_feed_open(struct clickhouse_feed *f, const struct options *o,
			 const struct output_config *ocfg);
/*
 * summary_config.observed: the observation's row (report/ch_row.h) to the
 * messages table. ctx: the feed.
 */
void clickhouse_feed_observed(void *ctx, const struct dns_obs *o, const struct detect_verdict *v);
/* Everything the session added, sent (bounded wait); the feed stays open. */
void clickhouse_feed_flush(struct clickhouse_feed *f);
/* Send what is left (bounded wait), stop, free; safe on a feed never opened. */
void clickhouse_feed_close(struct clickhouse_feed *f);

#endif
