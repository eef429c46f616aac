/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One row of the fleet's ClickHouse messages table (sql/clickhouse/,
 * docs/fleet.md) per dns or unanswered record: the record's fields that
 * are useful as columns, plus what the detectors made of it (analysis/
 * detect.h, struct detect_verdict): the client identity, the case-folded
 * name, its registered domain, the peer, and whether the message is a
 * counted lookup or a counted answer. With those, the server's SQL only
 * groups and sums to get the aggregates the state file stores, and
 * dnssnoop --from-clickhouse judges them with the same detectors.
 *
 * Rows are built from the observation (struct dns_obs), which every source
 * gives the summary stage (packets, dnstap, other hosts' JSON Lines), right
 * after the detectors counted it (summary_config.observed).
 *
 * The format is RowBinary, the columns of ch_row_columns in their order:
 * little-endian integers, a Date as its days since 1970, a String as its
 * LEB128 length and bytes, an Array as its LEB128 count and elements. The
 * server parses it for a fraction of the CPU that JSON costs it. The
 * first column, `batch`, is not in a row: the sink knows the batch only
 * when it sends one and puts its 8 bytes first (report/clickhouse_sink.h).
 */
#ifndef DNSSNOOP_CH_ROW_H
#define DNSSNOOP_CH_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/detect.h"
#include "lib/obs.h"

/* The tables rows go to (database dns, sql/clickhouse/schema.sql). */
#define CH_ROW_TABLE	   "messages"
#define CH_ROW_STATS_TABLE "stats"

enum ch_row_type { CH_U8, CH_U16, CH_U32, CH_U64, CH_DATE, CH_STRING, CH_STRINGS };

struct ch_row_column {
	const char *name;
	enum ch_row_type type;
};

/* The messages table's columns as a row carries them, batch first. */
extern const struct ch_row_column ch_row_columns[];
extern const size_t ch_row_ncolumns;
/* The same, as the column list of an INSERT: "batch, ts_ns, day, ...". */
extern const char ch_row_column_list[];

/* A row's bytes; a failed buffer (out of memory) holds no row. */
struct ch_rowbuf {
	uint8_t *buf;
	size_t len, cap;
	bool failed;
};

void ch_rowbuf_free(struct ch_rowbuf *b);

/*
 * Replaces b's content with the row of observation o; v: the detectors'
 * verdict on it (NULL: no detectors ran; the derived columns are then
 * empty or 0).
 */
void ch_row_build(struct ch_rowbuf *b, const struct dns_obs *o, const struct detect_verdict *v);

/*
 * The client_key column: a 64-bit hash of a client identity (host,
 * process or address, comm, uid, cgroup) with a fixed seed, the same on
 * every host and every run, unlike the detectors' seeded hashes.
 */
uint64_t ch_row_client_key(const struct detect_client *c);

#endif
