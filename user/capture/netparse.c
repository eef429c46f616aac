// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Frame parsing for the offline source: link layer -> IP -> UDP/TCP.
 *
 * Every step checks two things separately: that the headers agree with
 * each other (else NETPARSE_MALFORMED) and that the bytes it needs were
 * captured (else NETPARSE_SHORT). Lengths from the headers win over the
 * capture length, so padding after a datagram is never taken for data and
 * a snap-length cut shows as caplen < len.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "capture/netparse.h"

#define ETHERTYPE_IPV4	   0x0800
#define ETHERTYPE_IPV6	   0x86dd
#define ETHERTYPE_8021Q	   0x8100
#define ETHERTYPE_8021AD   0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100 /* pre-802.1ad QinQ outer tag */
#define ETHERTYPE_MPLS	   0x8847
#define ETHERTYPE_MPLS_MC  0x8848
#define ETHERTYPE_TEB	   0x6558 /* transparent Ethernet bridging: a frame inside */
#define ETHERTYPE_ERSPAN2  0x88be
#define ETHERTYPE_ERSPAN3  0x22eb

#define ETH_HLEN	14
#define VLAN_TAG_LEN	4
#define MAX_VLAN_TAGS	4 /* more than QinQ needs; a bound for garbage */
#define MAX_MPLS_LABELS 8
#define MPLS_LABEL_LEN	4
#define SLL_HLEN	16
#define SLL2_HLEN	20
#define LOOP_HLEN	4
#define IPV4_MIN_HLEN	20
#define IPV6_HLEN	40
#define IPV6_FRAG_HLEN	8
#define IPV6_MAX_EXT	16 /* extension headers walked before giving up */
#define UDP_HLEN	8
#define TCP_MIN_HLEN	20
#define IPOIB_HLEN	4
#define NFLOG_HLEN	4
#define NFULA_PAYLOAD	9 /* the TLV holding the packet */
#define PKTAP_MIN_HLEN	12
#define PTH_TYPE_PACKET 1

#define VXLAN_HLEN  8
#define GENEVE_HLEN 8
#define GTPU_HLEN   8
#define GTPU_G_PDU  0xff

/* BSD loopback address families: AF_INET everywhere, AF_INET6 differs. */
#define BSD_AF_INET	     2
#define BSD_AF_INET6_LINUX   10
#define BSD_AF_INET6_BSD     24 /* NetBSD, OpenBSD, BSD/OS */
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN  30

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

bool netparse_link_supported(int dlt)
{
	switch (dlt) {
	case NETPARSE_DLT_NULL:
	case NETPARSE_DLT_EN10MB:
	case NETPARSE_DLT_RAW:
	case NETPARSE_LINKTYPE_RAW:
	case NETPARSE_DLT_LOOP:
	case NETPARSE_DLT_LINUX_SLL:
	case NETPARSE_DLT_IPV4:
	case NETPARSE_DLT_IPV6:
	case NETPARSE_DLT_LINUX_SLL2:
	case NETPARSE_DLT_NFLOG:
	case NETPARSE_DLT_IPOIB:
	case NETPARSE_DLT_PKTAP:
		return true;
	default:
		return false;
	}
}

static bool ipv6_is_ext_header(uint8_t nh)
{
	switch (nh) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case 135: /* Mobility */
	case 139: /* HIP */
	case 140: /* Shim6 */
		return true;
	default:
		return false;
	}
}

/*
 * Walk IPv6 extension headers starting with header type next at p (cap
 * bytes captured, len on the wire) and leave ip at the upper-layer header,
 * or at a fragment's data. allow_frag is false for reassembled data: a
 * Fragment header inside a fragmentable part is garbage.
 */
static int ipv6_walk(struct netparse_ip *ip, uint8_t next, const uint8_t *p, uint32_t cap,
		     uint32_t len, bool allow_frag)
{
	for (int n = 0; n < IPV6_MAX_EXT; n++) {
		uint32_t hlen;

		if (next == IPPROTO_FRAGMENT) {
			uint16_t off_flags;

			if (!allow_frag || len < IPV6_FRAG_HLEN)
				return NETPARSE_MALFORMED;
			if (cap < IPV6_FRAG_HLEN)
				return NETPARSE_SHORT;
			off_flags = get_be16(p + 2);
			ip->frag_off = off_flags & 0xfff8;
			ip->frag_more = off_flags & 1;
			ip->frag_id = get_be32(p + 4);
			next = p[0];
			p += IPV6_FRAG_HLEN;
			cap -= IPV6_FRAG_HLEN;
			len -= IPV6_FRAG_HLEN;
			if (ip->frag_off || ip->frag_more) {
				ip->proto = next;
				ip->l4 = p;
				ip->l4_caplen = cap;
				ip->l4_len = len;
				return NETPARSE_FRAGMENT;
			}
			continue; /* an atomic fragment is a whole datagram (RFC 6946) */
		}
		if (!ipv6_is_ext_header(next))
			break;
		if (len < 8)
			return NETPARSE_MALFORMED;
		if (cap < 2)
			return NETPARSE_SHORT;
		/* AH counts 4-byte units minus 2, the others 8-byte units minus 1. */
		hlen = next == IPPROTO_AH ? (p[1] + 2u) * 4 : (p[1] + 1u) * 8;
		if (hlen > len)
			return NETPARSE_MALFORMED;
		if (hlen > cap)
			return NETPARSE_SHORT;
		next = p[0];
		p += hlen;
		cap -= hlen;
		len -= hlen;
	}
	if (next == IPPROTO_FRAGMENT || ipv6_is_ext_header(next))
		return NETPARSE_MALFORMED; /* a chain longer than any real one */
	ip->proto = next;
	ip->l4 = p;
	ip->l4_caplen = cap;
	ip->l4_len = len;
	return NETPARSE_OK;
}

static int parse_ipv6(const uint8_t *p, size_t caplen, struct netparse_ip *ip)
{
	uint32_t len;

	if (caplen < IPV6_HLEN)
		return NETPARSE_SHORT;
	len = get_be16(p + 4);
	if (len == 0)
		return NETPARSE_MALFORMED; /* jumbogram: not DNS */
	ip->family = AF_INET6;
	ip->frag_more = false;
	ip->frag_off = 0;
	ip->frag_id = 0;
	memcpy(ip->saddr, p + 8, 16);
	memcpy(ip->daddr, p + 24, 16);
	return ipv6_walk(ip, p[6], p + IPV6_HLEN, min_u32(caplen - IPV6_HLEN, len), len, true);
}

static int parse_ipv4(const uint8_t *p, size_t caplen, struct netparse_ip *ip)
{
	uint32_t hlen, tot_len;
	uint16_t frag;

	if (caplen < IPV4_MIN_HLEN)
		return NETPARSE_SHORT;
	hlen = (p[0] & 0x0f) * 4u;
	tot_len = get_be16(p + 2);
	if (hlen < IPV4_MIN_HLEN || tot_len < hlen)
		return NETPARSE_MALFORMED;
	if (caplen < hlen)
		return NETPARSE_SHORT;
	ip->family = AF_INET;
	ip->proto = p[9];
	memset(ip->saddr, 0, sizeof(ip->saddr));
	memset(ip->daddr, 0, sizeof(ip->daddr));
	memcpy(ip->saddr, p + 12, 4);
	memcpy(ip->daddr, p + 16, 4);
	ip->l4 = p + hlen;
	ip->l4_len = tot_len - hlen;
	ip->l4_caplen = min_u32(caplen, tot_len) - hlen;
	frag = get_be16(p + 6);
	ip->frag_id = get_be16(p + 4);
	ip->frag_off = (frag & 0x1fffu) * 8;
	ip->frag_more = frag & 0x2000;
	if (ip->frag_off || ip->frag_more)
		return NETPARSE_FRAGMENT;
	return NETPARSE_OK;
}

int netparse_ip(const uint8_t *pkt, size_t caplen, int family, struct netparse_ip *ip)
{
	int version;

	if (caplen < 1)
		return NETPARSE_SHORT;
	version = pkt[0] >> 4;
	if (version == 4 && family != AF_INET6)
		return parse_ipv4(pkt, caplen, ip);
	if (version == 6 && family != AF_INET)
		return parse_ipv6(pkt, caplen, ip);
	return NETPARSE_MALFORMED;
}

int netparse_reassembled(struct netparse_ip *ip, const uint8_t *data, uint32_t caplen, uint32_t len)
{
	ip->frag_more = false;
	ip->frag_off = 0;
	caplen = min_u32(caplen, len);
	if (ip->family == AF_INET6)
		return ipv6_walk(ip, ip->proto, data, caplen, len, false);
	ip->l4 = data;
	ip->l4_caplen = caplen;
	ip->l4_len = len;
	return NETPARSE_OK;
}

/*
 * An MPLS label stack: labels up to the one with the bottom-of-stack bit,
 * then IP, told by its version nibble (RFC 4182). A pseudowire's Ethernet
 * frame is not guessed at.
 */
static int parse_mpls(const uint8_t *p, size_t cap, struct netparse_ip *ip)
{
	for (int n = 0; n < MAX_MPLS_LABELS; n++) {
		bool bottom;

		if (cap < MPLS_LABEL_LEN)
			return NETPARSE_SHORT;
		bottom = p[2] & 1;
		p += MPLS_LABEL_LEN;
		cap -= MPLS_LABEL_LEN;
		if (bottom)
			return cap && (p[0] >> 4 == 4 || p[0] >> 4 == 6)
				       ? netparse_ip(p, cap, 0, ip)
				       : NETPARSE_SKIP;
	}
	return NETPARSE_MALFORMED;
}

/* Skip 802.1Q / QinQ tags and hand the IP packet on. */
static int parse_ethertype(uint16_t type, const uint8_t *p, size_t cap, struct netparse_ip *ip)
{
	for (int tags = 0;; tags++) {
		switch (type) {
		case ETHERTYPE_IPV4:
			return netparse_ip(p, cap, AF_INET, ip);
		case ETHERTYPE_IPV6:
			return netparse_ip(p, cap, AF_INET6, ip);
		case ETHERTYPE_MPLS:
		case ETHERTYPE_MPLS_MC:
			return parse_mpls(p, cap, ip);
		case ETHERTYPE_8021Q:
		case ETHERTYPE_8021AD:
		case ETHERTYPE_QINQ_OLD:
			if (tags == MAX_VLAN_TAGS)
				return NETPARSE_MALFORMED;
			if (cap < VLAN_TAG_LEN)
				return NETPARSE_SHORT;
			type = get_be16(p + 2);
			p += VLAN_TAG_LEN;
			cap -= VLAN_TAG_LEN;
			break;
		default:
			return NETPARSE_SKIP; /* ARP, LLC, ... */
		}
	}
}

/* BSD loopback: a 4-byte address family, in either byte order. */
static int parse_loopback(const uint8_t *p, size_t cap, struct netparse_ip *ip)
{
	uint32_t le, be;

	if (cap < LOOP_HLEN)
		return NETPARSE_SHORT;
	be = get_be32(p);
	le = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
	for (int i = 0; i < 2; i++) {
		switch (i ? be : le) {
		case BSD_AF_INET:
			return netparse_ip(p + LOOP_HLEN, cap - LOOP_HLEN, AF_INET, ip);
		case BSD_AF_INET6_LINUX:
		case BSD_AF_INET6_BSD:
		case BSD_AF_INET6_FREEBSD:
		case BSD_AF_INET6_DARWIN:
			return netparse_ip(p + LOOP_HLEN, cap - LOOP_HLEN, AF_INET6, ip);
		}
	}
	return NETPARSE_SKIP;
}

/*
 * Linux cooked captures (tcpdump -i any, dnssnoop -w) say which way a
 * packet went: "outgoing" is egress, "to us" (and broadcast/multicast) is
 * ingress; another host's packet seen in promiscuous mode is neither.
 */
static uint8_t sll_dir(uint16_t pkttype)
{
	switch (pkttype) {
	case 0: /* PACKET_HOST */
	case 1: /* PACKET_BROADCAST */
	case 2: /* PACKET_MULTICAST */
		return DNSSNOOP_INGRESS;
	case 4: /* PACKET_OUTGOING */
		return DNSSNOOP_EGRESS;
	default:
		return DNSSNOOP_DIR_UNKNOWN;
	}
}

static uint16_t get_host16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/*
 * NFLOG (iptables -j NFLOG, tcpdump -i nflog:N): a 4-byte header (address
 * family, version, group) and TLVs whose length and type are in the
 * capturing host's byte order (libpcap swaps them for files written on a
 * host of the other order); NFULA_PAYLOAD holds the IP packet.
 */
static int parse_nflog(const uint8_t *p, size_t cap, struct netparse_ip *ip)
{
	int family;

	if (cap < NFLOG_HLEN)
		return NETPARSE_SHORT;
	family = p[0] == 2 ? AF_INET : p[0] == 10 ? AF_INET6 : -1;
	if (family < 0)
		return NETPARSE_SKIP;
	for (size_t off = NFLOG_HLEN; off + 4 <= cap;) {
		uint16_t len = get_host16(p + off), type = get_host16(p + off + 2);

		if (len < 4)
			return NETPARSE_MALFORMED;
		if (type == NFULA_PAYLOAD)
			return netparse_ip(p + off + 4, min_u32(len - 4u, cap - off - 4), family,
					   ip);
		off += (len + 3u) & ~3u;
	}
	return NETPARSE_SHORT;
}

static int netparse_link(int dlt, const uint8_t *frame, size_t caplen, struct netparse_ip *ip);

/*
 * PKTAP (Apple's per-packet metadata): a little-endian header giving its
 * own length and the link type of the frame after it.
 */
static int parse_pktap(const uint8_t *p, size_t cap, struct netparse_ip *ip)
{
	uint32_t hlen, dlt;

	if (cap < PKTAP_MIN_HLEN)
		return NETPARSE_SHORT;
	hlen = get_le32(p);
	dlt = get_le32(p + 8);
	if (hlen < PKTAP_MIN_HLEN || dlt == NETPARSE_DLT_PKTAP)
		return NETPARSE_MALFORMED;
	if (get_le32(p + 4) != PTH_TYPE_PACKET)
		return NETPARSE_SKIP;
	if (hlen > cap)
		return NETPARSE_SHORT;
	return netparse_link((int)dlt, p + hlen, cap - hlen, ip);
}

int netparse_frame(int dlt, const uint8_t *frame, size_t caplen, struct netparse_ip *ip)
{
	ip->dir = DNSSNOOP_DIR_UNKNOWN;
	ip->ifindex = 0;
	return netparse_link(dlt, frame, caplen, ip);
}

static int netparse_link(int dlt, const uint8_t *frame, size_t caplen, struct netparse_ip *ip)
{
	switch (dlt) {
	case NETPARSE_DLT_EN10MB:
		if (caplen < ETH_HLEN)
			return NETPARSE_SHORT;
		return parse_ethertype(get_be16(frame + 12), frame + ETH_HLEN, caplen - ETH_HLEN,
				       ip);
	case NETPARSE_DLT_LINUX_SLL:
		if (caplen < SLL_HLEN)
			return NETPARSE_SHORT;
		ip->dir = sll_dir(get_be16(frame));
		return parse_ethertype(get_be16(frame + 14), frame + SLL_HLEN, caplen - SLL_HLEN,
				       ip);
	case NETPARSE_DLT_LINUX_SLL2:
		if (caplen < SLL2_HLEN)
			return NETPARSE_SHORT;
		ip->dir = sll_dir(frame[10]);
		ip->ifindex = get_be32(frame + 4);
		return parse_ethertype(get_be16(frame), frame + SLL2_HLEN, caplen - SLL2_HLEN, ip);
	case NETPARSE_DLT_RAW:
	case NETPARSE_LINKTYPE_RAW:
		return netparse_ip(frame, caplen, 0, ip);
	case NETPARSE_DLT_IPV4:
		return netparse_ip(frame, caplen, AF_INET, ip);
	case NETPARSE_DLT_IPV6:
		return netparse_ip(frame, caplen, AF_INET6, ip);
	case NETPARSE_DLT_NULL:
	case NETPARSE_DLT_LOOP:
		return parse_loopback(frame, caplen, ip);
	case NETPARSE_DLT_NFLOG:
		return parse_nflog(frame, caplen, ip);
	case NETPARSE_DLT_IPOIB: /* a 2-byte ethertype and 2 reserved bytes */
		if (caplen < IPOIB_HLEN)
			return NETPARSE_SHORT;
		return parse_ethertype(get_be16(frame), frame + IPOIB_HLEN, caplen - IPOIB_HLEN,
				       ip);
	case NETPARSE_DLT_PKTAP:
		return parse_pktap(frame, caplen, ip);
	default:
		return NETPARSE_SKIP;
	}
}

static bool is_dns_port(const uint16_t *ports, int nports, uint16_t sport, uint16_t dport)
{
	for (int i = 0; i < nports; i++)
		if (ports[i] == sport || ports[i] == dport)
			return true;
	return false;
}

static void fill_addresses(const struct netparse_ip *ip, struct pkt_meta *meta, uint16_t sport,
			   uint16_t dport)
{
	meta->family = ip->family;
	meta->proto = ip->proto;
	meta->sport = sport;
	meta->dport = dport;
	memcpy(meta->saddr, ip->saddr, sizeof(meta->saddr));
	memcpy(meta->daddr, ip->daddr, sizeof(meta->daddr));
}

static int parse_udp(const struct netparse_ip *ip, const uint16_t *ports, int nports,
		     struct pkt_meta *meta, const uint8_t **payload, size_t *caplen)
{
	const uint8_t *h = ip->l4;
	uint16_t sport, dport;
	uint32_t ulen;

	if (ip->l4_len < UDP_HLEN)
		return NETPARSE_MALFORMED;
	if (ip->l4_caplen < UDP_HLEN)
		return NETPARSE_SHORT;
	sport = get_be16(h);
	dport = get_be16(h + 2);
	if (!is_dns_port(ports, nports, sport, dport))
		return NETPARSE_SKIP;
	ulen = get_be16(h + 4);
	if (ulen < UDP_HLEN || ulen > ip->l4_len)
		return NETPARSE_MALFORMED;
	fill_addresses(ip, meta, sport, dport);
	meta->orig_len = ulen - UDP_HLEN;
	meta->tcp_seq = 0;
	meta->tcp_flags = 0;
	*payload = h + UDP_HLEN;
	*caplen = min_u32(ip->l4_caplen, ulen) - UDP_HLEN;
	return NETPARSE_OK;
}

static int parse_tcp(const struct netparse_ip *ip, const uint16_t *ports, int nports,
		     struct pkt_meta *meta, const uint8_t **payload, size_t *caplen)
{
	const uint8_t *h = ip->l4;
	uint16_t sport, dport;
	uint32_t hlen;
	uint8_t flags;

	if (ip->l4_len < TCP_MIN_HLEN)
		return NETPARSE_MALFORMED;
	if (ip->l4_caplen < TCP_MIN_HLEN)
		return NETPARSE_SHORT;
	sport = get_be16(h);
	dport = get_be16(h + 2);
	if (!is_dns_port(ports, nports, sport, dport))
		return NETPARSE_SKIP;
	hlen = (h[12] >> 4) * 4u;
	if (hlen < TCP_MIN_HLEN || hlen > ip->l4_len)
		return NETPARSE_MALFORMED;
	if (hlen > ip->l4_caplen)
		return NETPARSE_SHORT;
	flags = h[13];
	/* Pure ACKs say nothing to the reassembler (as in the kernel program). */
	if (ip->l4_len == hlen &&
	    !(flags & (DNSSNOOP_TCP_SYN | DNSSNOOP_TCP_FIN | DNSSNOOP_TCP_RST)))
		return NETPARSE_SKIP;
	fill_addresses(ip, meta, sport, dport);
	meta->orig_len = ip->l4_len - hlen;
	meta->tcp_seq = get_be32(h + 4);
	meta->tcp_flags = flags;
	*payload = h + hlen;
	*caplen = ip->l4_caplen - hlen;
	return NETPARSE_OK;
}

int netparse_l4(const struct netparse_ip *ip, const uint16_t *ports, int nports,
		struct pkt_meta *meta, const uint8_t **payload, size_t *caplen)
{
	switch (ip->proto) {
	case IPPROTO_UDP:
		return parse_udp(ip, ports, nports, meta, payload, caplen);
	case IPPROTO_TCP:
		return parse_tcp(ip, ports, nports, meta, payload, caplen);
	default:
		return NETPARSE_SKIP;
	}
}

/* ------------------------------------------------------------------ */
/* Tunnels                                                             */

static void tunnel_from(struct pkt_tunnel *tun, const struct netparse_ip *outer, uint8_t type)
{
	memset(tun, 0, sizeof(*tun));
	tun->type = type;
	tun->family = outer->family;
	memcpy(tun->saddr, outer->saddr, sizeof(tun->saddr));
	memcpy(tun->daddr, outer->daddr, sizeof(tun->daddr));
}

static void tunnel_id(struct pkt_tunnel *tun, uint32_t id)
{
	tun->has_id = true;
	tun->id = id;
}

/* What a tunnel carries, by ethertype: IP, or an Ethernet frame (TEB). */
static int decap_payload(uint16_t ethertype, const uint8_t *p, size_t cap,
			 struct netparse_ip *inner)
{
	if (ethertype != ETHERTYPE_TEB)
		return parse_ethertype(ethertype, p, cap, inner);
	if (cap < ETH_HLEN)
		return NETPARSE_SHORT;
	return parse_ethertype(get_be16(p + 12), p + ETH_HLEN, cap - ETH_HLEN, inner);
}

/*
 * ERSPAN type II (8-byte header) and III (12 bytes, and 8 more when its O
 * flag is set) in GRE: a mirrored Ethernet frame, with a 10-bit session id.
 */
static int decap_erspan(uint16_t proto, const uint8_t *p, size_t cap, struct netparse_ip *inner,
			struct pkt_tunnel *tun)
{
	size_t hlen = proto == ETHERTYPE_ERSPAN2 ? 8 : 12;

	tun->type = PKT_TUNNEL_ERSPAN;
	if (cap < hlen)
		return NETPARSE_SHORT;
	if ((p[0] >> 4) != (proto == ETHERTYPE_ERSPAN2 ? 1 : 2))
		return NETPARSE_SKIP;
	tunnel_id(tun, get_be16(p + 2) & 0x3ff);
	if (proto == ETHERTYPE_ERSPAN3 && (p[11] & 1))
		hlen += 8; /* platform-specific subheader */
	if (cap < hlen)
		return NETPARSE_SHORT;
	return decap_payload(ETHERTYPE_TEB, p + hlen, cap - hlen, inner);
}

/* GRE (RFC 2784, 2890): optional checksum, key (the id) and sequence. */
static int decap_gre(const struct netparse_ip *outer, struct netparse_ip *inner,
		     struct pkt_tunnel *tun)
{
	const uint8_t *p = outer->l4;
	size_t cap = outer->l4_caplen, hlen = 4;
	uint16_t flags, proto;

	if (cap < 4)
		return NETPARSE_SHORT;
	flags = get_be16(p);
	proto = get_be16(p + 2);
	if (flags & 7)
		return NETPARSE_SKIP; /* version 1 is PPTP's */
	tunnel_from(tun, outer, PKT_TUNNEL_GRE);
	if (flags & 0x8000)
		hlen += 4;
	if (flags & 0x2000) {
		if (cap < hlen + 4)
			return NETPARSE_SHORT;
		tunnel_id(tun, get_be32(p + hlen));
		hlen += 4;
	}
	if (flags & 0x1000)
		hlen += 4;
	if (cap < hlen)
		return NETPARSE_SHORT;
	if (proto == ETHERTYPE_ERSPAN2 || proto == ETHERTYPE_ERSPAN3)
		return decap_erspan(proto, p + hlen, cap - hlen, inner, tun);
	return decap_payload(proto, p + hlen, cap - hlen, inner);
}

/* VXLAN (RFC 7348): flags with the I bit, a 24-bit VNI, an Ethernet frame. */
static int decap_vxlan(const uint8_t *p, size_t cap, struct netparse_ip *inner,
		       struct pkt_tunnel *tun)
{
	if (cap < VXLAN_HLEN)
		return NETPARSE_SHORT;
	if (!(p[0] & 0x08))
		return NETPARSE_SKIP;
	tunnel_id(tun, get_be32(p + 4) >> 8);
	return decap_payload(ETHERTYPE_TEB, p + VXLAN_HLEN, cap - VXLAN_HLEN, inner);
}

/* Geneve (RFC 8926): options of 4-byte units, then what its protocol says. */
static int decap_geneve(const uint8_t *p, size_t cap, struct netparse_ip *inner,
			struct pkt_tunnel *tun)
{
	size_t hlen;

	if (cap < GENEVE_HLEN)
		return NETPARSE_SHORT;
	if (p[0] >> 6)
		return NETPARSE_SKIP; /* version 0 only */
	hlen = GENEVE_HLEN + (p[0] & 0x3fu) * 4;
	tunnel_id(tun, get_be32(p + 4) >> 8);
	if (cap < hlen)
		return NETPARSE_SHORT;
	return decap_payload(get_be16(p + 2), p + hlen, cap - hlen, inner);
}

/*
 * GTP-U (3GPP TS 29.281): version 1 G-PDUs carry the user's IP packet after
 * an 8-byte header, 4 more when E, S or PN is set, and the extension
 * headers that E chains (each counting 4-byte units, ending in the next
 * one's type).
 */
static int decap_gtpu(const uint8_t *p, size_t cap, struct netparse_ip *inner,
		      struct pkt_tunnel *tun)
{
	size_t hlen = GTPU_HLEN;
	uint8_t next = 0;

	if (cap < GTPU_HLEN)
		return NETPARSE_SHORT;
	if ((p[0] >> 5) != 1 || !(p[0] & 0x10) || p[1] != GTPU_G_PDU)
		return NETPARSE_SKIP;
	tunnel_id(tun, get_be32(p + 4));
	if (p[0] & 0x07) {
		if (cap < hlen + 4)
			return NETPARSE_SHORT;
		next = (p[0] & 0x04) ? p[hlen + 3] : 0;
		hlen += 4;
	}
	for (int n = 0; next; n++) {
		size_t len;

		if (n == 8)
			return NETPARSE_MALFORMED;
		if (cap < hlen + 1)
			return NETPARSE_SHORT;
		len = p[hlen] * 4u;
		if (len == 0)
			return NETPARSE_MALFORMED;
		if (cap < hlen + len)
			return NETPARSE_SHORT;
		next = p[hlen + len - 1];
		hlen += len;
	}
	return netparse_ip(p + hlen, cap - hlen, 0, inner);
}

static int decap_udp(const struct netparse_ip *outer, const uint16_t *ports, int nports,
		     struct netparse_ip *inner, struct pkt_tunnel *tun)
{
	const uint8_t *p = outer->l4;
	size_t cap;
	uint16_t sport, dport, ulen;

	if (outer->l4_caplen < UDP_HLEN)
		return NETPARSE_SKIP; /* left to netparse_l4 to judge */
	sport = get_be16(p);
	dport = get_be16(p + 2);
	ulen = get_be16(p + 4);
	if (ulen < UDP_HLEN || ulen > outer->l4_len)
		return NETPARSE_SKIP;
	/* DNS from an ephemeral port that happens to be a tunnel's is DNS. */
	if (is_dns_port(ports, nports, sport, dport))
		return NETPARSE_SKIP;
	cap = min_u32(outer->l4_caplen, ulen) - UDP_HLEN;
	p += UDP_HLEN;
	if (dport == NETPARSE_PORT_VXLAN) {
		tunnel_from(tun, outer, PKT_TUNNEL_VXLAN);
		return decap_vxlan(p, cap, inner, tun);
	}
	if (dport == NETPARSE_PORT_GENEVE) {
		tunnel_from(tun, outer, PKT_TUNNEL_GENEVE);
		return decap_geneve(p, cap, inner, tun);
	}
	if (dport == NETPARSE_PORT_GTPU) {
		tunnel_from(tun, outer, PKT_TUNNEL_GTPU);
		return decap_gtpu(p, cap, inner, tun);
	}
	return NETPARSE_SKIP;
}

int netparse_decap(const struct netparse_ip *outer, const uint16_t *ports, int nports,
		   struct netparse_ip *inner, struct pkt_tunnel *tun)
{
	inner->dir = outer->dir;
	inner->ifindex = outer->ifindex;
	switch (outer->proto) {
	case IPPROTO_IPIP:
	case IPPROTO_IPV6:
		tunnel_from(tun, outer, PKT_TUNNEL_IPIP);
		return netparse_ip(outer->l4, outer->l4_caplen,
				   outer->proto == IPPROTO_IPIP ? AF_INET : AF_INET6, inner);
	case IPPROTO_GRE:
		return decap_gre(outer, inner, tun);
	case IPPROTO_UDP:
		return decap_udp(outer, ports, nports, inner, tun);
	default:
		return NETPARSE_SKIP;
	}
}
