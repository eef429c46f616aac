/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The pipeline every capture source feeds:
 *   packet -> (TCP reassembly) -> decoder -> matcher -> statistics -> output
 * A source calls pipeline_packet() per packet and pipeline_tick() when it
 * is idle (live) or as packet time advances (offline), then
 * pipeline_finish() once at the end.
 */
#ifndef DNSSNOOP_PIPELINE_H
#define DNSSNOOP_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/output.h"
#include "lib/packet.h"

struct summary;

struct pipeline_config {
	struct output *out;
	bool events; /* a record per message (false: --no-events) */
	struct summary *summary; /* statistics stage (--summary); NULL: none */
	uint64_t timeout_ns; /* --timeout: unanswered after this */
	size_t max_pending; /* bound on pending queries */
	size_t max_tcp_flows; /* bound on reassembled TCP flows */
	uint32_t filter_pid; /* -p: tgid, 0 = any */
	const char *filter_comm; /* --comm, NULL = any */
	uint64_t max_messages; /* -c: stop after this many, 0 = no limit */
	/*
	 * The source sees one direction only (xdp: ingress), so a query's
	 * response never comes: nothing is matched, no query waits, none is
	 * reported unanswered.
	 */
	bool one_direction;
};

struct pipeline;

struct pipeline *pipeline_new(const struct pipeline_config *cfg);
void pipeline_free(struct pipeline *p);

void pipeline_packet(struct pipeline *p, const struct pkt_meta *meta, const uint8_t *payload,
		     size_t caplen);
/* Time has advanced to now_ns: expire pending queries and idle TCP flows. */
void pipeline_tick(struct pipeline *p, uint64_t now_ns);
/* End of session: report every pending query as unanswered. */
void pipeline_finish(struct pipeline *p, uint64_t now_ns);
/* -c reached. */
bool pipeline_done(const struct pipeline *p);
/* Fills the pipeline's part of *st (messages, errors, matching). */
void pipeline_get_stats(const struct pipeline *p, struct capture_stats *st);

#endif
