/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The fleet's history in ClickHouse (--from-clickhouse URL, docs/fleet.md):
 * the aggregates the state file stores (pairs with their lookups, names,
 * first and last lookup, hourly counts and last timestamps; clients'
 * active hours; targets' answers and answer addresses), computed by SQL on
 * the server from the messages table and its materialized views
 * (sql/clickhouse/schema.sql), read over HTTP and loaded into the
 * detectors through detect_load_*, as analysis/state.c loads a file. The
 * detectors then judge them as one run over the same records would.
 */
#ifndef DNSSNOOP_CH_HISTORY_H
#define DNSSNOOP_CH_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/detect.h"

struct ch_history_config {
	/* the sink's URL (lib/clickhouse_http.h): its database= holds the tables */
	const char *url;
	uint64_t since_ns; /* the days from the newest lookup minus this on; 0: all */
	/*
	 * Hosts judged: NULL for all; a comma list of names, or one glob
	 * pattern (* and ?) matched with LIKE.
	 */
	const char *hosts;
};

/* What was read, for -v. */
struct ch_history_stats {
	uint64_t pairs, clients, targets_answered;
	uint64_t bytes; /* of the server's answers */
};

/*
 * Load the fleet's history into d. Returns the number of pairs loaded, or
 * -1 with one line in err (the URL shown with its password masked): a
 * URL that is not http(s), a server that cannot be reached, failed
 * authentication, a missing table, an answer that is not ClickHouse's.
 */
long ch_history_load(const struct ch_history_config *cfg, struct detect *d,
		     struct ch_history_stats *st, char *err, size_t errlen);

#endif
