/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The unit that every capture source hands to the pipeline: one packet's
 * metadata plus its L4 payload. Live (BPF ring) and offline (pcap) sources
 * both produce these; nothing after the source knows which one ran.
 */
#ifndef DNSSNOOP_PACKET_H
#define DNSSNOOP_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "bpf/dnssnoop.h"

struct pkt_meta {
	uint64_t ts_ns; /* wall clock, ns since the Unix epoch */
	uint64_t cookie; /* socket cookie; 0 when unknown (offline) */
	struct dnssnoop_owner owner; /* owner.tgid == 0: unknown */
	uint32_t ifindex;
	uint32_t orig_len; /* L4 payload length on the wire */
	uint32_t tcp_seq;
	uint8_t dir; /* enum dnssnoop_dir */
	uint8_t family; /* AF_INET / AF_INET6 */
	uint8_t proto; /* IPPROTO_UDP / IPPROTO_TCP */
	uint8_t tcp_flags; /* DNSSNOOP_TCP_* */
	uint16_t sport, dport; /* host byte order */
	uint8_t saddr[16], daddr[16];
};

/* How a capture source hands each packet (metadata + L4 payload) on. */
typedef void (*packet_fn)(void *ctx, const struct pkt_meta *meta, const uint8_t *payload,
			  size_t caplen);

static inline bool pkt_has_owner(const struct pkt_meta *m)
{
	return m->owner.tgid != 0;
}

#endif
