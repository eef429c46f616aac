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

/* Tunnel types a packet may have come through (offline captures only). */
enum pkt_tunnel_type {
	PKT_TUNNEL_NONE = 0,
	PKT_TUNNEL_IPIP, /* IPv4 or IPv6 in IPv4 or IPv6 (protocols 4, 41) */
	PKT_TUNNEL_GRE,
	PKT_TUNNEL_ERSPAN, /* GRE with ERSPAN type II or III */
	PKT_TUNNEL_VXLAN,
	PKT_TUNNEL_GENEVE,
	PKT_TUNNEL_GTPU,
};

/* The outermost tunnel of a packet: its kind, outer addresses and id. */
struct pkt_tunnel {
	uint8_t type; /* enum pkt_tunnel_type */
	uint8_t family; /* of the outer addresses */
	bool has_id;
	uint32_t id; /* VXLAN/Geneve VNI, GRE key, ERSPAN session, GTP-U TEID */
	uint8_t saddr[16], daddr[16];
};

/*
 * Where a message was seen when no packet was: a DNS server's own log
 * (dnstap) of what it received or sent. Its strings stay valid as long
 * as the source that made it, so a pkt_meta copy (pending queries) can
 * keep the pointer.
 */
struct pkt_vantage {
	const char *source; /* "dnstap" */
	const char *type; /* the dnstap message type: "CLIENT_QUERY", ... */
	const char *transport; /* "udp", "tcp", "dot", "doh", ... as the log said; NULL: not said */
	const char *identity; /* the server's name for itself; NULL: not said */
	const char *version; /* its version string; NULL: not said */
};

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
	struct pkt_tunnel tunnel; /* tunnel.type 0: none */
	const struct pkt_vantage *vantage; /* NULL: a packet (live or pcap) */
};

/* How a capture source hands each packet (metadata + L4 payload) on. */
typedef void (*packet_fn)(void *ctx, const struct pkt_meta *meta, const uint8_t *payload,
			  size_t caplen);

static inline bool pkt_has_owner(const struct pkt_meta *m)
{
	return m->owner.tgid != 0;
}

static inline const char *pkt_tunnel_name(uint8_t type)
{
	static const char *const names[] = {NULL, "ipip", "gre", "erspan", "vxlan", "geneve", "gtpu"};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : NULL;
}

#endif
