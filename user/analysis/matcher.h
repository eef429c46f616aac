/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Query/response matching. A query is keyed by (vantage, socket cookie,
 * client address and port, server address and port, protocol, DNS id,
 * question); the vantage is the direction the query was seen in, so on a
 * host where both ends are local the client's copy (egress query, ingress
 * response) and the server's copy (ingress query, egress response) match
 * separately, each with its own latency.
 *
 * Pending queries are bounded (max_pending); when full, the oldest is
 * reported as unanswered early. Each pending entry keeps a copy of the
 * query's bytes (up to MATCHER_MAX_QUERY_BYTES) so an unanswered record
 * can show the query's fields.
 */
#ifndef DNSSNOOP_MATCHER_H
#define DNSSNOOP_MATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/dns.h"
#include "lib/packet.h"

#define MATCHER_MAX_QUERY_BYTES 512

struct matcher;

/* An expired query: its packet metadata, its bytes, and how long it waited. */
typedef void (*matcher_unanswered_fn)(void *ctx, const struct pkt_meta *query_meta,
				      const uint8_t *query, size_t len, bool truncated,
				      uint64_t waited_ns);

struct matcher_stats {
	uint64_t queries; /* queries added */
	uint64_t retransmits; /* same key seen again while pending */
	uint64_t matched; /* responses matched to a query */
	uint64_t unmatched; /* responses with no pending query */
	uint64_t unanswered; /* queries reported unanswered (timeout, eviction, end) */
	uint64_t pending; /* currently pending */
};

struct matcher *matcher_new(uint64_t timeout_ns, size_t max_pending);
void matcher_free(struct matcher *m);

/*
 * Record a query (msg must be a parsed query with a question). Returns
 * true when the same query (key and question) was already pending: a
 * retransmission, counted and not recorded again (latency counts from
 * the first copy).
 */
bool matcher_query(struct matcher *m, const struct pkt_meta *meta, const struct dns_msg *msg,
		   matcher_unanswered_fn fn, void *ctx);

/*
 * Look up the query a response answers. On a match, removes it, stores the
 * latency (response ts - query ts, >= 0) and returns true.
 */
bool matcher_response(struct matcher *m, const struct pkt_meta *meta, const struct dns_msg *msg,
		      uint64_t *latency_ns);

/* Report and remove queries older than the timeout at now_ns. */
void matcher_expire(struct matcher *m, uint64_t now_ns, matcher_unanswered_fn fn, void *ctx);

/* Report and remove every pending query (end of session). */
void matcher_flush(struct matcher *m, uint64_t now_ns, matcher_unanswered_fn fn, void *ctx);

void matcher_get_stats(const struct matcher *m, struct matcher_stats *st);

#endif
