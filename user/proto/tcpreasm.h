/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * DNS-over-TCP stream reassembly (RFC 1035 4.2.2, RFC 7766): splits each
 * direction of a TCP connection into DNS messages using the 2-byte length
 * prefix, whether a segment holds several messages or a message spans
 * several segments. Memory is bounded: at most max_flows flows, each
 * buffering at most one message (<= 65535 bytes + prefix); the least
 * recently used flow is dropped when the table is full. Segments that
 * arrive early are held (bounded: one frame's span past the next
 * expected byte, per flow and in total) until the hole before them is
 * filled; see tcpreasm.c.
 *
 * Segments whose payload was cut by the snap length (caplen < orig_len)
 * still advance the stream by orig_len: the bytes that were not captured
 * are skipped, and the message they belonged to is delivered with
 * truncated = true and as many bytes as were captured.
 */
#ifndef DNSSNOOP_TCPREASM_H
#define DNSSNOOP_TCPREASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/packet.h"

/*
 * Bounds on out-of-order segments held: they end at most one whole frame
 * (prefix + 65535) past the next expected byte; per flow at most this
 * many segments and bytes (bookkeeping counted, so that tiny segments
 * cannot cost more), and in all flows together at most TOTAL bytes.
 */
#define TCP_REASM_HOLD_WINDOW	  (2u + 65535u)
#define TCP_REASM_HOLD_FLOW_SEGS  256u
#define TCP_REASM_HOLD_FLOW_BYTES (2u * TCP_REASM_HOLD_WINDOW) /* room for overlaps */
#define TCP_REASM_HOLD_TOTAL	  (16u << 20)

struct tcp_reasm;

/*
 * Called once per DNS message found in the stream. meta is the packet that
 * completed the message; msg excludes the 2-byte length prefix; wire_len is
 * the length the prefix announced (> len when truncated).
 */
typedef void (*tcp_msg_fn)(void *ctx, const struct pkt_meta *meta, const uint8_t *msg, size_t len,
			   size_t wire_len, bool truncated);

struct tcp_reasm_stats {
	uint64_t messages; /* messages delivered */
	uint64_t gaps; /* sequence gaps (lost segments, or reordered past the bounds): resync */
	uint64_t evicted; /* flows dropped because the table was full */
	uint64_t active; /* flows currently tracked */
	uint64_t held_segments; /* out-of-order segments held now */
	uint64_t held_bytes; /* what they cost, bookkeeping included */
};

struct tcp_reasm *tcp_reasm_new(size_t max_flows);
void tcp_reasm_free(struct tcp_reasm *r);

/* Feed one TCP segment (meta->proto == IPPROTO_TCP). FIN/RST end the flow. */
void tcp_reasm_feed(struct tcp_reasm *r, const struct pkt_meta *meta, const uint8_t *payload,
		    size_t caplen, tcp_msg_fn fn, void *ctx);

/* Forget flows idle for longer than idle_ns before now_ns. */
void tcp_reasm_expire(struct tcp_reasm *r, uint64_t now_ns, uint64_t idle_ns);

void tcp_reasm_get_stats(const struct tcp_reasm *r, struct tcp_reasm_stats *st);

#endif
