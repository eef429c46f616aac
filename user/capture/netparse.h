/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Taking captured frames apart: link layer (Ethernet with 802.1Q/QinQ
 * tags and MPLS, Linux cooked v1/v2, raw IP, BSD loopback, NFLOG, IPoIB,
 * PKTAP), IPv4 (with options) and IPv6 (with extension headers), tunnels
 * (netparse_decap), then UDP or TCP. No allocation, no copies: results
 * point into the frame.
 *
 * Lengths are tracked twice: what the IP and UDP length fields say was on
 * the wire, and what the capture holds (shorter when the snap length cut
 * the packet). Bytes past the IP datagram (Ethernet padding) are ignored.
 */
#ifndef DNSSNOOP_NETPARSE_H
#define DNSSNOOP_NETPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/packet.h"

/* Link types (libpcap DLT_* values) that netparse_frame() understands. */
#define NETPARSE_DLT_NULL	0 /* BSD loopback, family in the writer's byte order */
#define NETPARSE_DLT_EN10MB	1
#define NETPARSE_DLT_RAW	12 /* DLT_RAW on Linux */
#define NETPARSE_LINKTYPE_RAW	101 /* LINKTYPE_RAW, in case a reader passes it through */
#define NETPARSE_DLT_LOOP	108 /* BSD loopback, family in network byte order */
#define NETPARSE_DLT_LINUX_SLL	113
#define NETPARSE_DLT_IPV4	228
#define NETPARSE_DLT_IPV6	229
#define NETPARSE_DLT_NFLOG	239 /* iptables NFLOG: TLVs around the IP packet */
#define NETPARSE_DLT_IPOIB	242
#define NETPARSE_DLT_PKTAP	258 /* Apple: metadata header, then a frame of its own type */
#define NETPARSE_DLT_LINUX_SLL2 276

enum netparse_rc {
	NETPARSE_OK = 0, /* a UDP/TCP packet to or from a DNS port */
	NETPARSE_FRAGMENT, /* an IP fragment: see the frag_* fields */
	NETPARSE_SKIP, /* not IP, not UDP/TCP, other ports, or nothing in it for us */
	NETPARSE_SHORT, /* headers cut by the snap length */
	NETPARSE_MALFORMED, /* headers that do not hold together */
};

/* One IP datagram (or fragment), as found in a frame. */
struct netparse_ip {
	uint8_t family; /* AF_INET / AF_INET6 */
	/*
	 * Protocol of what l4 points at: the L4 protocol, or for a fragment
	 * the first header of the fragmentable part (IPv6: the Fragment
	 * header's next header; may be another extension header).
	 */
	uint8_t proto;
	bool frag_more; /* more fragments follow (MF / M flag) */
	uint8_t saddr[16], daddr[16]; /* IPv4 in the first 4 bytes, rest zero */
	const uint8_t *l4; /* first byte after the IP headers */
	uint32_t l4_caplen; /* bytes at l4 that were captured (<= l4_len) */
	uint32_t l4_len; /* bytes after the IP headers on the wire */
	uint8_t dir; /* enum dnssnoop_dir: from Linux cooked headers, else unknown */
	uint32_t ifindex; /* Linux cooked v2 only; 0 = unknown */
	uint32_t frag_id; /* identification (IPv4: 16 bits, IPv6: 32 bits) */
	uint32_t frag_off; /* offset of this fragment's data, in bytes */
};

/* True if netparse_frame() knows link type dlt. */
bool netparse_link_supported(int dlt);

/*
 * Find the IP datagram in a frame of link type dlt and parse its IP
 * headers into *ip. Returns NETPARSE_OK (ip->l4 is a whole datagram's L4
 * header and data), NETPARSE_FRAGMENT, or why the frame is of no use.
 */
int netparse_frame(int dlt, const uint8_t *frame, size_t caplen, struct netparse_ip *ip);

/*
 * Parse an IP packet starting at its IPv4 or IPv6 header. family is the
 * family the link layer announced (AF_INET, AF_INET6), or 0 to go by the
 * version field alone.
 */
int netparse_ip(const uint8_t *pkt, size_t caplen, int family, struct netparse_ip *ip);

/*
 * After fragment reassembly: point ip at the rebuilt data (the
 * fragmentable part) and, for IPv6, walk any extension headers that begin
 * it. Returns NETPARSE_OK, NETPARSE_SHORT or NETPARSE_MALFORMED.
 */
int netparse_reassembled(struct netparse_ip *ip, const uint8_t *data, uint32_t caplen,
			 uint32_t len);

/* Tunnels inside tunnels are unwrapped up to this depth. */
#define NETPARSE_PORT_VXLAN  4789 /* UDP destination ports of the UDP tunnels */
#define NETPARSE_PORT_GENEVE 6081
#define NETPARSE_PORT_GTPU   2152
#define NETPARSE_MAX_TUNNELS 4

/*
 * If the datagram ip holds is a tunnel (IPv4/IPv6 in IP, GRE with IP,
 * Ethernet or ERSPAN inside, VXLAN to UDP port 4789, Geneve to 6081,
 * GTP-U to 2152), parse the packet inside it into *inner, as
 * netparse_frame() does, and describe the tunnel in *tun. NETPARSE_SKIP
 * when ip is not a tunnel (or carries no IP); UDP to or from one of the
 * DNS ports is never taken for a tunnel.
 */
int netparse_decap(const struct netparse_ip *ip, const uint16_t *ports, int nports,
		   struct netparse_ip *inner, struct pkt_tunnel *tun);

/*
 * False when ip cannot be a tunnel netparse_decap() unwraps: the cheap
 * test done for every packet (most are plain UDP or TCP).
 */
static inline bool netparse_may_be_tunnel(const struct netparse_ip *ip)
{
	uint16_t dport;

	switch (ip->proto) {
	case 4: /* IPIP */
	case 41: /* IPv6 */
	case 47: /* GRE */
		return true;
	case 17: /* UDP: VXLAN, Geneve, GTP-U by destination port */
		if (ip->l4_caplen < 4)
			return false;
		dport = (uint16_t)(ip->l4[2] << 8 | ip->l4[3]);
		return dport == NETPARSE_PORT_VXLAN || dport == NETPARSE_PORT_GENEVE ||
		       dport == NETPARSE_PORT_GTPU;
	default:
		return false;
	}
}

/*
 * Take the UDP or TCP header at ip->l4 apart. A packet is DNS when its
 * source or destination port is one of ports. On NETPARSE_OK fills the
 * address, port, length and TCP fields of *meta (leaving the others as
 * they are) and points *payload / *caplen at the captured L4 payload;
 * meta->orig_len is the payload's length on the wire. TCP segments that
 * carry neither data nor SYN/FIN/RST (pure ACKs) are NETPARSE_SKIP.
 */
int netparse_l4(const struct netparse_ip *ip, const uint16_t *ports, int nports,
		struct pkt_meta *meta, const uint8_t **payload, size_t *caplen);

#endif
