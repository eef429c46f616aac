/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --clickhouse URL: rows (built elsewhere: RowBinary rows or JSON objects)
 * into ClickHouse tables over its HTTP interface, from a thread of the sink's
 * own, so that the capture never waits for the server. The capture thread
 * appends rows to the open batch of their table (clickhouse_sink_add);
 * a batch closes at CH_BATCH_ROWS rows, CH_BATCH_BYTES bytes or
 * CH_BATCH_AGE_NS of age and goes to a bounded queue; the thread inserts
 * it. A batch the server does not take (down, slow, refusing) goes to the
 * spool (report/clickhouse_spool.h), as does every batch after it while
 * the spool holds any, and the spool is sent, oldest first, when the
 * server answers again; the queue full, the capture thread spills itself.
 *
 * No row twice: every row carries batch, an id unique to its batch (a
 * random 64-bit session base plus a sequence number). When an insert went
 * out and no answer came (a timeout, a reset connection), the server is
 * asked how many rows of that batch it has before the batch is sent again
 * (the insert is synchronous through a Distributed table, so the count
 * is true once the insert returned).
 */
#ifndef DNSSNOOP_CLICKHOUSE_SINK_H
#define DNSSNOOP_CLICKHOUSE_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/obs.h"

#define CH_BATCH_ROWS	100000
#define CH_BATCH_BYTES	(32u << 20)
#define CH_BATCH_AGE_NS 1000000000ull
/* Batches handed over and not yet sent; beyond, they are spilled. */
#define CH_QUEUE_BATCHES 4

/* The tables rows go to. */
enum ch_table {
	CH_TABLE_MESSAGES, /* dns and unanswered records */
	CH_TABLE_STATS, /* statistics records: host, ts, type, json */
	CH_NTABLES,
};

struct clickhouse_sink_config {
	const char *url; /* --clickhouse */
	const char *spool_dir; /* --clickhouse-spool */
	uint64_t spool_max_bytes; /* --clickhouse-spool-mb; 0: no bound */
	/*
	 * Per table: NULL, its rows are JSON objects; else they are RowBinary
	 * rows of these columns ("batch, a, b"), batch (UInt64) the first and
	 * left out of the rows given.
	 */
	const char *binary_columns[CH_NTABLES];
};

struct clickhouse_sink;

/*
 * Parse the URL, open the spool (earlier sessions' batches taken over),
 * and probe the server (SELECT 1, both tables), saying on stderr what is
 * wrong with it: a server that cannot be used yet costs a warning, not
 * the start (rows are spilled and sent once it can). NULL with err set and
 * *status the exit status: 2 a URL that is not one, 1 otherwise.
 */
struct clickhouse_sink *clickhouse_sink_open(const struct clickhouse_sink_config *cfg, int *status,
					     char *err, size_t errlen);

/* Start the thread (live: after the privilege drop). 0, or -1 with err. */
int clickhouse_sink_start(struct clickhouse_sink *s, char *err, size_t errlen);

/*
 * One row for table t: a whole JSON object (the newline optional), to
 * which "batch" is added; or, for a binary table, a RowBinary row without
 * its batch, which is put before it.
 */
void clickhouse_sink_add(struct clickhouse_sink *s, enum ch_table t, const char *row, size_t len);

/*
 * Send everything added so far, waiting up to timeout_ns; what is not
 * sent by then stays in the spool. The thread keeps running.
 */
void clickhouse_sink_flush(struct clickhouse_sink *s, uint64_t timeout_ns);

/*
 * Flush (timeout_ns), stop the thread, say on stderr what was left in the
 * spool for the next session, and free.
 */
void clickhouse_sink_close(struct clickhouse_sink *s, uint64_t timeout_ns);

void clickhouse_sink_counts(struct clickhouse_sink *s, struct clickhouse_counts *c);

#endif
