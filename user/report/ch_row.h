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
 * The format is JSONEachRow: one JSON object, no newline. The `batch`
 * column is not in it: the sink knows the batch only when it sends one and
 * puts it first (report/clickhouse_sink.h).
 */
#ifndef DNSSNOOP_CH_ROW_H
#define DNSSNOOP_CH_ROW_H

#include <stdint.h>

#include "analysis/detect.h"
#include "lib/json.h"
#include "lib/obs.h"

/* The tables rows go to (database dns, sql/clickhouse/schema.sql). */
#define CH_ROW_TABLE	   "messages"
#define CH_ROW_STATS_TABLE "stats"

/*
 * Appends the row of observation o to j; v: the detectors' verdict on it
 * (NULL: no detectors ran; the derived columns are then empty or 0).
 */
void ch_row_append(struct jbuf *j, const struct dns_obs *o, const struct detect_verdict *v);

/*
 * The client_key column: a 64-bit hash of a client identity (host,
 * process or address, comm, uid, cgroup) with a fixed seed, the same on
 * every host and every run, unlike the detectors' seeded hashes.
 */
uint64_t ch_row_client_key(const struct detect_client *c);

#endif
