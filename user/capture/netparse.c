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

#define ETH_HLEN       14
#define VLAN_TAG_LEN   4
#define MAX_VLAN_TAGS  4 /* more than QinQ needs; a bound for garbage */
#define SLL_HLEN       16
#define SLL2_HLEN      20
#define LOOP_HLEN      4
#define IPV4_MIN_HLEN  20
#define IPV6_HLEN      40
#define IPV6_FRAG_HLEN 8
#define IPV6_MAX_EXT   16 /* extension headers walked before giving up */
#define UDP_HLEN       8
#define TCP_MIN_HLEN   20

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

/* Skip 802.1Q / QinQ tags and hand the IP packet on. */
static int parse_ethertype(uint16_t type, const uint8_t *p, size_t cap, struct netparse_ip *ip)
{
	for (int tags = 0;; tags++) {
		switch (type) {
		case ETHERTYPE_IPV4:
			return netparse_ip(p, cap, AF_INET, ip);
		case ETHERTYPE_IPV6:
			return netparse_ip(p, cap, AF_INET6, ip);
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

int netparse_frame(int dlt, const uint8_t *frame, size_t caplen, struct netparse_ip *ip)
{
	ip->dir = DNSSNOOP_DIR_UNKNOWN;
	ip->ifindex = 0;
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
