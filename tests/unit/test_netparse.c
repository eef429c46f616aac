// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * netparse: frames of every supported link type taken apart, with the
 * payload offsets and lengths worked out by hand; IPv6 extension headers
 * and fragments; snap-length cuts; headers that do not hold together; and
 * every prefix of every frame parsed from an exactly sized heap buffer so
 * ASan catches any read past the capture.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "capture/netparse.h"

static const uint16_t dns_ports[] = {53};

struct frame {
	uint8_t b[4096];
	size_t len;
};

static void put_hex(struct frame *f, const char *hex)
{
	for (const char *p = hex; *p;) {
		unsigned int byte;

		if (*p == ' ') {
			p++;
			continue;
		}
		assert_int_equal(sscanf(p, "%2x", &byte), 1);
		assert_true(f->len < sizeof(f->b));
		f->b[f->len++] = (uint8_t)byte;
		p += 2;
	}
}

/* The DNS payload used everywhere: 12 bytes, a header with id 0xabcd. */
static const char dns12[] = "abcd 0100 0001 0000 0000 0000";

/* IPv4 10.1.0.5:50000 -> 10.0.0.1:53, UDP, 12 bytes of payload: 40 bytes. */
static const char ipv4_udp[] = "4500 0028 1234 4000 4011 0000 0a010005 0a000001"
			       "c350 0035 0014 0000";
/* IPv6 fd00::5:50000 -> fd00::53:53, UDP, 12 bytes of payload: 60 bytes. */
static const char ipv6_udp_hdr[] = "6000 0000 0014 1140"
				   "fd000000000000000000000000000005"
				   "fd000000000000000000000000000053";
static const char udp_50000_53_len20[] = "c350 0035 0014 0000";

static void put_ipv4_udp(struct frame *f)
{
	put_hex(f, ipv4_udp);
	put_hex(f, dns12);
}

static void put_ipv6_udp(struct frame *f)
{
	put_hex(f, ipv6_udp_hdr);
	put_hex(f, udp_50000_53_len20);
	put_hex(f, dns12);
}

static const char eth_ipv4[] = "020000000002 020000000001 0800";

struct parsed {
	int rc;
	struct netparse_ip ip;
	struct pkt_meta meta;
	const uint8_t *payload;
	size_t caplen;
};

static struct parsed parse(int dlt, const struct frame *f, size_t caplen)
{
	struct parsed p;

	memset(&p, 0, sizeof(p));
	p.rc = netparse_frame(dlt, f->b, caplen, &p.ip);
	if (p.rc == NETPARSE_OK)
		p.rc = netparse_l4(&p.ip, dns_ports, 1, &p.meta, &p.payload, &p.caplen);
	return p;
}

static void assert_v4_dns(const struct frame *f, const struct parsed *p, size_t payload_off)
{
	static const uint8_t src[16] = {10, 1, 0, 5}, dst[16] = {10, 0, 0, 1};

	assert_int_equal(p->rc, NETPARSE_OK);
	assert_int_equal(p->meta.family, AF_INET);
	assert_int_equal(p->meta.proto, IPPROTO_UDP);
	assert_memory_equal(p->meta.saddr, src, 16);
	assert_memory_equal(p->meta.daddr, dst, 16);
	assert_int_equal(p->meta.sport, 50000);
	assert_int_equal(p->meta.dport, 53);
	assert_int_equal(p->meta.orig_len, 12);
	assert_int_equal(p->caplen, 12);
	assert_ptr_equal(p->payload, f->b + payload_off);
	assert_int_equal(p->payload[0], 0xab);
}

static void assert_v6_dns(const struct frame *f, const struct parsed *p, size_t payload_off)
{
	uint8_t src[16], dst[16];

	assert_int_equal(inet_pton(AF_INET6, "fd00::5", src), 1);
	assert_int_equal(inet_pton(AF_INET6, "fd00::53", dst), 1);
	assert_int_equal(p->rc, NETPARSE_OK);
	assert_int_equal(p->meta.family, AF_INET6);
	assert_memory_equal(p->meta.saddr, src, 16);
	assert_memory_equal(p->meta.daddr, dst, 16);
	assert_int_equal(p->meta.sport, 50000);
	assert_int_equal(p->meta.orig_len, 12);
	assert_int_equal(p->caplen, 12);
	assert_ptr_equal(p->payload, f->b + payload_off);
}

static void test_ethernet_ipv4_udp(void **state)
{
	struct frame f = {.len = 0};
	struct parsed p;

	put_hex(&f, eth_ipv4);
	put_ipv4_udp(&f);
	assert_int_equal(f.len, 54);
	p = parse(NETPARSE_DLT_EN10MB, &f, f.len);
	assert_v4_dns(&f, &p, 42);
	assert_int_equal(p.meta.tcp_seq, 0);
	/* Ethernet pads to 60 bytes: the padding is not payload. */
	put_hex(&f, "000000000000");
	p = parse(NETPARSE_DLT_EN10MB, &f, f.len);
	assert_v4_dns(&f, &p, 42);
}

static void test_vlan_and_qinq(void **state)
{
	struct frame vlan = {.len = 0}, qinq = {.len = 0}, old = {.len = 0};
	struct parsed p;

	put_hex(&vlan, "020000000002 020000000001 8100 0064 0800");
	put_ipv4_udp(&vlan);
	p = parse(NETPARSE_DLT_EN10MB, &vlan, vlan.len);
	assert_v4_dns(&vlan, &p, 46);

	put_hex(&qinq, "020000000002 020000000001 88a8 000a 8100 00c8 86dd");
	put_ipv6_udp(&qinq);
	p = parse(NETPARSE_DLT_EN10MB, &qinq, qinq.len);
	assert_v6_dns(&qinq, &p, 14 + 8 + 48);

	put_hex(&old, "020000000002 020000000001 9100 000a 8100 00c8 0800");
	put_ipv4_udp(&old);
	p = parse(NETPARSE_DLT_EN10MB, &old, old.len);
	assert_v4_dns(&old, &p, 50);
}

static void test_too_many_vlan_tags(void **state)
{
	struct frame f = {.len = 0};

	put_hex(&f, "020000000002 020000000001");
	for (int i = 0; i < 5; i++)
		put_hex(&f, "8100 0001");
	put_hex(&f, "0800");
	put_ipv4_udp(&f);
	assert_int_equal(parse(NETPARSE_DLT_EN10MB, &f, f.len).rc, NETPARSE_MALFORMED);
}

static void test_linux_cooked(void **state)
{
	struct frame sll = {.len = 0}, sll2 = {.len = 0};
	struct parsed p;

	/* pkttype 4 (outgoing), ARPHRD_ETHER, 6-byte address, protocol. */
	put_hex(&sll, "0004 0001 0006 020000000001 0000 0800");
	put_ipv4_udp(&sll);
	p = parse(NETPARSE_DLT_LINUX_SLL, &sll, sll.len);
	assert_v4_dns(&sll, &p, 44);

	/* protocol, reserved, ifindex 2, ARPHRD_ETHER, pkttype, halen, address. */
	put_hex(&sll2, "86dd 0000 00000002 0001 00 06 0200000000010000");
	put_ipv6_udp(&sll2);
	p = parse(NETPARSE_DLT_LINUX_SLL2, &sll2, sll2.len);
	assert_v6_dns(&sll2, &p, 68);
}

static void test_raw_ip(void **state)
{
	struct frame v4 = {.len = 0}, v6 = {.len = 0};
	struct parsed p;

	put_ipv4_udp(&v4);
	put_ipv6_udp(&v6);
	p = parse(NETPARSE_DLT_RAW, &v4, v4.len);
	assert_v4_dns(&v4, &p, 28);
	p = parse(NETPARSE_LINKTYPE_RAW, &v6, v6.len);
	assert_v6_dns(&v6, &p, 48);
	p = parse(NETPARSE_DLT_IPV4, &v4, v4.len);
	assert_v4_dns(&v4, &p, 28);
	p = parse(NETPARSE_DLT_IPV6, &v6, v6.len);
	assert_v6_dns(&v6, &p, 48);
	/* A link type for one family carrying the other is garbage. */
	assert_int_equal(parse(NETPARSE_DLT_IPV4, &v6, v6.len).rc, NETPARSE_MALFORMED);
	assert_int_equal(parse(NETPARSE_DLT_IPV6, &v4, v4.len).rc, NETPARSE_MALFORMED);
	v4.b[0] = 0x55; /* version 5 */
	assert_int_equal(parse(NETPARSE_DLT_RAW, &v4, v4.len).rc, NETPARSE_MALFORMED);
}

static void test_bsd_loopback_both_byte_orders(void **state)
{
	static const struct {
		int dlt;
		const char *hdr;
		int family;
	} cases[] = {
		{NETPARSE_DLT_NULL, "02000000", AF_INET}, /* little-endian writer */
		{NETPARSE_DLT_NULL, "00000002", AF_INET}, /* big-endian writer */
		{NETPARSE_DLT_LOOP, "00000002", AF_INET},
		{NETPARSE_DLT_NULL, "1e000000", AF_INET6}, /* Darwin: 30 */
		{NETPARSE_DLT_NULL, "1c000000", AF_INET6}, /* FreeBSD: 28 */
		{NETPARSE_DLT_LOOP, "00000018", AF_INET6}, /* OpenBSD: 24 */
		{NETPARSE_DLT_NULL, "0000000a", AF_INET6}, /* Linux: 10 */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame f = {.len = 0};
		struct parsed p;

		put_hex(&f, cases[i].hdr);
		if (cases[i].family == AF_INET)
			put_ipv4_udp(&f);
		else
			put_ipv6_udp(&f);
		p = parse(cases[i].dlt, &f, f.len);
		if (cases[i].family == AF_INET)
			assert_v4_dns(&f, &p, 32);
		else
			assert_v6_dns(&f, &p, 52);
	}
}

static void test_not_for_us(void **state)
{
	struct frame arp = {.len = 0}, icmp = {.len = 0}, ntp = {.len = 0};
	struct frame loop = {.len = 0};

	put_hex(&arp, "ffffffffffff 020000000001 0806 0001 0800 0604 0001");
	assert_int_equal(parse(NETPARSE_DLT_EN10MB, &arp, arp.len).rc, NETPARSE_SKIP);
	put_hex(&icmp, "4500 001c 0001 0000 4001 0000 0a010005 0a000001 0800 f7fe 0001 0000");
	assert_int_equal(parse(NETPARSE_DLT_RAW, &icmp, icmp.len).rc, NETPARSE_SKIP);
	put_hex(&ntp, "4500 0024 0001 0000 4011 0000 0a010005 0a000001 007b 007b 0010 0000"
		      "2300000000000000");
	assert_int_equal(parse(NETPARSE_DLT_RAW, &ntp, ntp.len).rc, NETPARSE_SKIP);
	put_hex(&loop, "07000000");
	put_ipv4_udp(&loop);
	assert_int_equal(parse(NETPARSE_DLT_NULL, &loop, loop.len).rc, NETPARSE_SKIP);
	assert_false(netparse_link_supported(105)); /* 802.11 */
	assert_true(netparse_link_supported(NETPARSE_DLT_LINUX_SLL2));
	assert_int_equal(parse(105, &loop, loop.len).rc, NETPARSE_SKIP);
}

static void test_other_dns_ports(void **state)
{
	static const uint16_t ports[] = {5353, 853, 15353};
	struct frame f = {.len = 0};
	struct parsed p;

	/* 15353 -> 40000 */
	put_hex(&f, "4500 0028 0001 0000 4011 0000 0a000001 0a010005 3bf9 9c40 0014 0000");
	put_hex(&f, dns12);
	memset(&p, 0, sizeof(p));
	assert_int_equal(netparse_frame(NETPARSE_DLT_RAW, f.b, f.len, &p.ip), NETPARSE_OK);
	assert_int_equal(netparse_l4(&p.ip, dns_ports, 1, &p.meta, &p.payload, &p.caplen),
			 NETPARSE_SKIP);
	assert_int_equal(netparse_l4(&p.ip, ports, 3, &p.meta, &p.payload, &p.caplen), NETPARSE_OK);
	assert_int_equal(p.meta.sport, 15353);
	assert_int_equal(p.meta.dport, 40000);
}

/* IPv4 header with options (IHL 6) in front of UDP. */
static void test_ipv4_options(void **state)
{
	struct frame f = {.len = 0};
	struct parsed p;

	put_hex(&f, "4600 002c 1234 4000 4011 0000 0a010005 0a000001 01010100"
		    "c350 0035 0014 0000");
	put_hex(&f, dns12);
	p = parse(NETPARSE_DLT_RAW, &f, f.len);
	assert_v4_dns(&f, &p, 32);
}

static void test_tcp(void **state)
{
	struct frame f = {.len = 0}, ack = {.len = 0}, fin = {.len = 0}, syn = {.len = 0};
	struct parsed p;

	/* 10.1.0.5:50000 -> 10.0.0.1:53, seq 0x01020304, PSH|ACK, 12-byte TCP
	 * options (doff 8): payload = 2-byte prefix + 12-byte message. */
	put_hex(&f, "4500 0042 0001 4000 4006 0000 0a010005 0a000001"
		    "c350 0035 01020304 00000000 8018 ffff 0000 0000"
		    "0101080a0000000100000002 000c");
	put_hex(&f, dns12);
	p = parse(NETPARSE_DLT_RAW, &f, f.len);
	assert_int_equal(p.rc, NETPARSE_OK);
	assert_int_equal(p.meta.proto, IPPROTO_TCP);
	assert_int_equal(p.meta.tcp_seq, 0x01020304);
	assert_int_equal(p.meta.tcp_flags, 0x18);
	assert_int_equal(p.meta.orig_len, 14);
	assert_int_equal(p.caplen, 14);
	assert_ptr_equal(p.payload, f.b + 52);

	/* A pure ACK carries nothing for DNS. */
	put_hex(&ack, "4500 0028 0001 4000 4006 0000 0a010005 0a000001"
		      "c350 0035 01020304 00000000 5010 ffff 0000 0000");
	assert_int_equal(parse(NETPARSE_DLT_RAW, &ack, ack.len).rc, NETPARSE_SKIP);
	/* FIN and SYN without data still go up (flow state). */
	put_hex(&fin, "4500 0028 0001 4000 4006 0000 0a010005 0a000001"
		      "c350 0035 01020304 00000000 5011 ffff 0000 0000");
	p = parse(NETPARSE_DLT_RAW, &fin, fin.len);
	assert_int_equal(p.rc, NETPARSE_OK);
	assert_int_equal(p.meta.orig_len, 0);
	assert_int_equal(p.caplen, 0);
	assert_int_equal(p.meta.tcp_flags & DNSSNOOP_TCP_FIN, DNSSNOOP_TCP_FIN);
	put_hex(&syn, "4500 0028 0001 4000 4006 0000 0a010005 0a000001"
		      "c350 0035 01020304 00000000 5002 ffff 0000 0000");
	assert_int_equal(parse(NETPARSE_DLT_RAW, &syn, syn.len).rc, NETPARSE_OK);
	/* Data offset 4 (16 bytes) is less than a TCP header. */
	syn.b[32] = 0x40;
	assert_int_equal(parse(NETPARSE_DLT_RAW, &syn, syn.len).rc, NETPARSE_MALFORMED);
	/* Data offset 15 (60 bytes) reaches past the IP datagram (20 bytes). */
	syn.b[32] = 0xf0;
	assert_int_equal(parse(NETPARSE_DLT_RAW, &syn, syn.len).rc, NETPARSE_MALFORMED);
}

static void test_snap_length_cuts(void **state)
{
	struct frame f = {.len = 0};
	struct parsed p;

	put_hex(&f, eth_ipv4);
	put_ipv4_udp(&f);
	/* Cut after 5 payload bytes: still DNS, 5 captured of 12. */
	p = parse(NETPARSE_DLT_EN10MB, &f, 47);
	assert_int_equal(p.rc, NETPARSE_OK);
	assert_int_equal(p.meta.orig_len, 12);
	assert_int_equal(p.caplen, 5);
	/* Cut inside the UDP header, the IP header, the Ethernet header. */
	assert_int_equal(parse(NETPARSE_DLT_EN10MB, &f, 40).rc, NETPARSE_SHORT);
	assert_int_equal(parse(NETPARSE_DLT_EN10MB, &f, 30).rc, NETPARSE_SHORT);
	assert_int_equal(parse(NETPARSE_DLT_EN10MB, &f, 10).rc, NETPARSE_SHORT);
	assert_int_equal(parse(NETPARSE_DLT_EN10MB, &f, 14).rc, NETPARSE_SHORT);
}

static void test_inconsistent_lengths(void **state)
{
	struct frame f = {.len = 0};

	put_ipv4_udp(&f);
	f.b[0] = 0x44; /* IHL 4: shorter than an IPv4 header */
	assert_int_equal(parse(NETPARSE_DLT_RAW, &f, f.len).rc, NETPARSE_MALFORMED);
	f.b[0] = 0x45;
	f.b[3] = 0x10; /* total length 16 < header length 20 */
	assert_int_equal(parse(NETPARSE_DLT_RAW, &f, f.len).rc, NETPARSE_MALFORMED);
	f.b[3] = 0x1a; /* total length 26: no room for the UDP header */
	assert_int_equal(parse(NETPARSE_DLT_RAW, &f, f.len).rc, NETPARSE_MALFORMED);
	f.b[3] = 0x28;
	f.b[25] = 0x07; /* UDP length 7 */
	assert_int_equal(parse(NETPARSE_DLT_RAW, &f, f.len).rc, NETPARSE_MALFORMED);
	f.b[25] = 0x15; /* UDP length 21 > 20 bytes after the IP header */
	assert_int_equal(parse(NETPARSE_DLT_RAW, &f, f.len).rc, NETPARSE_MALFORMED);
	f.b[25] = 0x10; /* UDP length 16 < 20: the UDP length wins (trailing bytes) */
	{
		struct parsed p = parse(NETPARSE_DLT_RAW, &f, f.len);

		assert_int_equal(p.rc, NETPARSE_OK);
		assert_int_equal(p.meta.orig_len, 8);
		assert_int_equal(p.caplen, 8);
	}
}

static void test_ipv6_extension_headers(void **state)
{
	struct frame f = {.len = 0};
	struct parsed p;

	/* Hop-by-Hop (8) -> Destination Options (16) -> Routing (8) -> UDP. */
	put_hex(&f, "6000 0000 0034 0040"
		    "fd000000000000000000000000000005 fd000000000000000000000000000053"
		    "3c00 0104 00000000"
		    "2b01 0106 000000000000 01040000 0000"
		    "1100 0000 00000000");
	put_hex(&f, udp_50000_53_len20);
	put_hex(&f, dns12);
	p = parse(NETPARSE_DLT_RAW, &f, f.len);
	assert_v6_dns(&f, &p, 40 + 32 + 8);

	/* An extension header longer than the payload length says. */
	f.b[49] = 0x09;
	assert_int_equal(parse(NETPARSE_DLT_RAW, &f, f.len).rc, NETPARSE_MALFORMED);
	/* The same header cut by the snap length. */
	f.b[49] = 0x01;
	assert_int_equal(parse(NETPARSE_DLT_RAW, &f, 60).rc, NETPARSE_SHORT);
	/* ESP: nothing readable after it. */
	f.b[6] = 50;
	assert_int_equal(parse(NETPARSE_DLT_RAW, &f, f.len).rc, NETPARSE_SKIP);
	/* Payload length 0 (a jumbogram) is not DNS. */
	f.b[6] = 0;
	f.b[5] = 0;
	assert_int_equal(parse(NETPARSE_DLT_RAW, &f, f.len).rc, NETPARSE_MALFORMED);
}

static void test_ipv6_endless_extension_chain(void **state)
{
	struct frame f = {.len = 0};

	put_hex(&f, "6000 0000 0088 3c40"
		    "fd000000000000000000000000000005 fd000000000000000000000000000053");
	for (int i = 0; i < 17; i++)
		put_hex(&f, "3c00 0104 00000000");
	assert_int_equal(parse(NETPARSE_DLT_RAW, &f, f.len).rc, NETPARSE_MALFORMED);
}

static void test_fragments(void **state)
{
	struct frame v4 = {.len = 0}, v4b = {.len = 0}, v6 = {.len = 0}, atomic = {.len = 0};
	struct netparse_ip ip;

	/* First IPv4 fragment: MF, offset 0, id 0x1234, 16 bytes of data. */
	put_hex(&v4, "4500 0024 1234 2000 4011 0000 0a000001 0a010005"
		     "0035 c350 0024 0000 abcd 8180 0001 0000");
	assert_int_equal(netparse_frame(NETPARSE_DLT_RAW, v4.b, v4.len, &ip), NETPARSE_FRAGMENT);
	assert_int_equal(ip.family, AF_INET);
	assert_int_equal(ip.proto, IPPROTO_UDP);
	assert_int_equal(ip.frag_id, 0x1234);
	assert_int_equal(ip.frag_off, 0);
	assert_true(ip.frag_more);
	assert_int_equal(ip.l4_len, 16);
	assert_int_equal(ip.l4_caplen, 16);
	assert_ptr_equal(ip.l4, v4.b + 20);
	/* Last fragment: offset 2 (16 bytes), no MF. */
	put_hex(&v4b,
		"4500 0020 1234 0002 4011 0000 0a000001 0a010005 0001 0000 0000 0000 0000 0000");
	assert_int_equal(netparse_frame(NETPARSE_DLT_RAW, v4b.b, v4b.len, &ip), NETPARSE_FRAGMENT);
	assert_int_equal(ip.frag_off, 16);
	assert_false(ip.frag_more);
	assert_int_equal(ip.l4_len, 12);

	/* IPv6: Hop-by-Hop, then a Fragment header (offset 1448, M, id 7) whose
	 * fragmentable part starts with Destination Options. */
	put_hex(&v6, "6000 0000 0020 0040"
		     "fd000000000000000000000000000053 fd000000000000000000000000000005"
		     "2c00 0104 00000000"
		     "3c00 05a9 00000007"
		     "0001020304050607 08090a0b0c0d0e0f");
	assert_int_equal(netparse_frame(NETPARSE_DLT_RAW, v6.b, v6.len, &ip), NETPARSE_FRAGMENT);
	assert_int_equal(ip.family, AF_INET6);
	assert_int_equal(ip.proto, IPPROTO_DSTOPTS);
	assert_int_equal(ip.frag_off, 1448);
	assert_true(ip.frag_more);
	assert_int_equal(ip.frag_id, 7);
	assert_int_equal(ip.l4_len, 16);
	assert_ptr_equal(ip.l4, v6.b + 56);

	/* An atomic fragment (offset 0, no M) is a whole datagram (RFC 6946). */
	put_hex(&atomic, "6000 0000 0022 2c40"
			 "fd000000000000000000000000000005 fd000000000000000000000000000053"
			 "1100 0000 00000009");
	put_hex(&atomic, "c350 0035 001a 0000");
	put_hex(&atomic, dns12);
	put_hex(&atomic, "0000 0000 0000");
	{
		struct parsed p = parse(NETPARSE_DLT_RAW, &atomic, atomic.len);

		assert_int_equal(p.rc, NETPARSE_OK);
		assert_int_equal(p.meta.orig_len, 18);
		assert_ptr_equal(p.payload, atomic.b + 56);
	}
}

static void test_reassembled(void **state)
{
	/* Fragmentable part: Destination Options, then UDP + 12 bytes. */
	struct frame part = {.len = 0}, nested = {.len = 0};
	struct netparse_ip ip;
	struct pkt_meta meta;
	const uint8_t *payload;
	size_t caplen;

	memset(&ip, 0, sizeof(ip));
	ip.family = AF_INET6;
	ip.proto = IPPROTO_DSTOPTS;
	put_hex(&part, "1100 0104 00000000");
	put_hex(&part, udp_50000_53_len20);
	put_hex(&part, dns12);
	assert_int_equal(netparse_reassembled(&ip, part.b, part.len, part.len), NETPARSE_OK);
	assert_int_equal(ip.proto, IPPROTO_UDP);
	assert_ptr_equal(ip.l4, part.b + 8);
	assert_int_equal(netparse_l4(&ip, dns_ports, 1, &meta, &payload, &caplen), NETPARSE_OK);
	assert_int_equal(meta.orig_len, 12);
	/* Only the first 10 bytes captured: what is there, and the wire length. */
	ip.proto = IPPROTO_DSTOPTS;
	assert_int_equal(netparse_reassembled(&ip, part.b, 22, part.len), NETPARSE_OK);
	assert_int_equal(netparse_l4(&ip, dns_ports, 1, &meta, &payload, &caplen), NETPARSE_OK);
	assert_int_equal(caplen, 6);
	assert_int_equal(meta.orig_len, 12);

	/* A Fragment header inside a fragmentable part is garbage. */
	ip.proto = IPPROTO_FRAGMENT;
	put_hex(&nested, "1100 0000 00000001");
	put_hex(&nested, udp_50000_53_len20);
	assert_int_equal(netparse_reassembled(&ip, nested.b, nested.len, nested.len),
			 NETPARSE_MALFORMED);

	/* IPv4: the data is the L4 header on. */
	memset(&ip, 0, sizeof(ip));
	ip.family = AF_INET;
	ip.proto = IPPROTO_UDP;
	assert_int_equal(netparse_reassembled(&ip, part.b + 8, 20, 20), NETPARSE_OK);
	assert_ptr_equal(ip.l4, part.b + 8);
	assert_int_equal(ip.l4_len, 20);
}

/* Every prefix of every frame, from a heap buffer of exactly that size. */
static void parse_every_prefix(int dlt, const struct frame *f)
{
	for (size_t n = 0; n <= f->len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		struct netparse_ip ip;
		struct pkt_meta meta;
		const uint8_t *payload;
		size_t caplen;
		int rc;

		assert_non_null(copy);
		memcpy(copy, f->b, n);
		rc = netparse_frame(dlt, copy, n, &ip);
		if (rc == NETPARSE_OK) {
			rc = netparse_l4(&ip, dns_ports, 1, &meta, &payload, &caplen);
			if (rc == NETPARSE_OK) {
				assert_true(payload + caplen <= copy + n);
				assert_true(caplen <= meta.orig_len);
				if (caplen)
					assert_int_equal(payload[caplen - 1],
							 f->b[payload - copy + caplen - 1]);
			}
		} else if (rc == NETPARSE_FRAGMENT) {
			assert_true(ip.l4 + ip.l4_caplen <= copy + n);
			assert_true(ip.l4_caplen <= ip.l4_len);
		}
		free(copy);
	}
}

/*
 * Frame -> IP, then out of tunnels until there are none (as the pcap
 * source does, without fragments), then L4. The outermost tunnel in *tun.
 */
static struct parsed parse_tunneled(int dlt, const struct frame *f, struct pkt_tunnel *tun)
{
	struct parsed p;

	memset(&p, 0, sizeof(p));
	memset(tun, 0, sizeof(*tun));
	p.rc = netparse_frame(dlt, f->b, f->len, &p.ip);
	for (int depth = 0; p.rc == NETPARSE_OK && depth < NETPARSE_MAX_TUNNELS; depth++) {
		struct netparse_ip inner;
		struct pkt_tunnel t;
		int rc = netparse_decap(&p.ip, dns_ports, 1, &inner, &t);

		if (rc == NETPARSE_SKIP)
			break;
		if (!tun->type)
			*tun = t;
		p.ip = inner;
		p.rc = rc;
	}
	if (p.rc == NETPARSE_OK)
		p.rc = netparse_l4(&p.ip, dns_ports, 1, &p.meta, &p.payload, &p.caplen);
	return p;
}

/* Outer IPv4 192.0.2.1 -> 192.0.2.2 of protocol proto around len bytes. */
static void put_outer_ipv4(struct frame *f, uint8_t proto, size_t len)
{
	char hex[64];

	snprintf(hex, sizeof(hex), "4500 %04zx 0001 0000 40%02x 0000 c0000201 c0000202", len + 20,
		 proto);
	put_hex(f, eth_ipv4);
	put_hex(f, hex);
}

static void put_outer_udp(struct frame *f, uint16_t dport, size_t len)
{
	char hex[32];

	put_outer_ipv4(f, 17, len + 8);
	snprintf(hex, sizeof(hex), "d000 %04x %04zx 0000", dport, len + 8);
	put_hex(f, hex);
}

static void assert_tunnel(const struct pkt_tunnel *t, uint8_t type, bool has_id, uint32_t id)
{
	static const uint8_t src[16] = {192, 0, 2, 1}, dst[16] = {192, 0, 2, 2};

	assert_int_equal(t->type, type);
	assert_int_equal(t->family, AF_INET);
	assert_memory_equal(t->saddr, src, 16);
	assert_memory_equal(t->daddr, dst, 16);
	assert_int_equal(t->has_id, has_id);
	assert_int_equal(t->id, id);
}

/* VXLAN and Geneve (with and without options) around an Ethernet frame. */
static void test_vxlan_and_geneve(void **state)
{
	struct frame vx = {.len = 0}, gn = {.len = 0}, gno = {.len = 0};
	struct pkt_tunnel t;
	struct parsed p;

	put_outer_udp(&vx, 4789, 8 + 54);
	put_hex(&vx, "0800 0000 00002a00");
	put_hex(&vx, eth_ipv4);
	put_ipv4_udp(&vx);
	p = parse_tunneled(NETPARSE_DLT_EN10MB, &vx, &t);
	assert_v4_dns(&vx, &p, 14 + 28 + 8 + 14 + 28);
	assert_tunnel(&t, PKT_TUNNEL_VXLAN, true, 42);

	put_outer_udp(&gn, 6081, 8 + 54);
	put_hex(&gn, "0000 6558 00002a00");
	put_hex(&gn, eth_ipv4);
	put_ipv4_udp(&gn);
	p = parse_tunneled(NETPARSE_DLT_EN10MB, &gn, &t);
	assert_v4_dns(&gn, &p, 14 + 28 + 8 + 14 + 28);
	assert_tunnel(&t, PKT_TUNNEL_GENEVE, true, 42);

	/* Geneve with 8 bytes of options, carrying IPv6 directly. */
	put_outer_udp(&gno, 6081, 16 + 60);
	put_hex(&gno, "0200 86dd 00000700 0101 0101 00000000");
	put_ipv6_udp(&gno);
	p = parse_tunneled(NETPARSE_DLT_EN10MB, &gno, &t);
	assert_v6_dns(&gno, &p, 14 + 28 + 16 + 48);
	assert_tunnel(&t, PKT_TUNNEL_GENEVE, true, 7);

	/* VXLAN without its I flag is not taken apart. */
	vx.b[14 + 28] = 0;
	p = parse_tunneled(NETPARSE_DLT_EN10MB, &vx, &t);
	assert_int_equal(p.rc, NETPARSE_SKIP);
	assert_int_equal(t.type, PKT_TUNNEL_NONE);
}

/* GRE with a key around IPv4, with TEB around Ethernet; ERSPAN II and III. */
static void test_gre_and_erspan(void **state)
{
	struct frame key = {.len = 0}, teb = {.len = 0}, e2 = {.len = 0}, e3 = {.len = 0};
	struct pkt_tunnel t;
	struct parsed p;

	put_outer_ipv4(&key, 47, 8 + 40);
	put_hex(&key, "2000 0800 00000007");
	put_ipv4_udp(&key);
	p = parse_tunneled(NETPARSE_DLT_EN10MB, &key, &t);
	assert_v4_dns(&key, &p, 14 + 20 + 8 + 28);
	assert_tunnel(&t, PKT_TUNNEL_GRE, true, 7);

	put_outer_ipv4(&teb, 47, 8 + 54);
	put_hex(&teb, "8000 6558 00000000"); /* checksum present, no key */
	put_hex(&teb, eth_ipv4);
	put_ipv4_udp(&teb);
	p = parse_tunneled(NETPARSE_DLT_EN10MB, &teb, &t);
	assert_v4_dns(&teb, &p, 14 + 20 + 8 + 14 + 28);
	assert_tunnel(&t, PKT_TUNNEL_GRE, false, 0);

	put_outer_ipv4(&e2, 47, 8 + 8 + 54);
	put_hex(&e2, "1000 88be 00000001 1000 0005 00000000");
	put_hex(&e2, eth_ipv4);
	put_ipv4_udp(&e2);
	p = parse_tunneled(NETPARSE_DLT_EN10MB, &e2, &t);
	assert_v4_dns(&e2, &p, 14 + 20 + 16 + 14 + 28);
	assert_tunnel(&t, PKT_TUNNEL_ERSPAN, true, 5);

	/* Type III with its 8-byte platform subheader (O flag). */
	put_outer_ipv4(&e3, 47, 4 + 12 + 8 + 54);
	put_hex(&e3, "0000 22eb 2000 0123 00000000 0000 0001 1111111111111111");
	put_hex(&e3, eth_ipv4);
	put_ipv4_udp(&e3);
	p = parse_tunneled(NETPARSE_DLT_EN10MB, &e3, &t);
	assert_v4_dns(&e3, &p, 14 + 20 + 24 + 14 + 28);
	assert_tunnel(&t, PKT_TUNNEL_ERSPAN, true, 0x123);

	/* GRE version 1 (PPTP) is not unwrapped. */
	key.b[14 + 20 + 1] |= 1;
	p = parse_tunneled(NETPARSE_DLT_EN10MB, &key, &t);
	assert_int_equal(p.rc, NETPARSE_SKIP);
}

/* GTP-U G-PDUs, plain and with an extension header; other messages skipped. */
static void test_gtpu(void **state)
{
	struct frame g = {.len = 0}, ext = {.len = 0};
	struct pkt_tunnel t;
	struct parsed p;

	put_outer_udp(&g, 2152, 8 + 40);
	put_hex(&g, "30ff 0028 00000063");
	put_ipv4_udp(&g);
	p = parse_tunneled(NETPARSE_DLT_EN10MB, &g, &t);
	assert_v4_dns(&g, &p, 14 + 28 + 8 + 28);
	assert_tunnel(&t, PKT_TUNNEL_GTPU, true, 99);

	put_outer_udp(&ext, 2152, 16 + 40);
	put_hex(&ext, "34ff 0030 00000063 0000 00 85 01 0900 00");
	put_ipv4_udp(&ext);
	p = parse_tunneled(NETPARSE_DLT_EN10MB, &ext, &t);
	assert_v4_dns(&ext, &p, 14 + 28 + 16 + 28);

	/* An extension header of length 0 would loop: malformed. */
	ext.b[14 + 28 + 12] = 0;
	p = parse_tunneled(NETPARSE_DLT_EN10MB, &ext, &t);
	assert_int_equal(p.rc, NETPARSE_MALFORMED);
	/* An echo request (type 1) carries no user packet. */
	g.b[14 + 28 + 1] = 1;
	p = parse_tunneled(NETPARSE_DLT_EN10MB, &g, &t);
	assert_int_equal(p.rc, NETPARSE_SKIP);
}

/* DNS from ephemeral ports that are tunnels' ports stays DNS, whatever its bytes. */
static void test_dns_on_tunnel_ports(void **state)
{
	static const char *const sports[] = {"12b5", "17c1", "0868"}; /* 4789, 6081, 2152 */
	struct pkt_tunnel t;

	for (int i = 0; i < 3; i++) {
		struct frame f = {.len = 0};
		char hex[64];
		struct parsed p;

		put_hex(&f, eth_ipv4);
		put_hex(&f, "4500 0028 1234 4000 4011 0000 0a010005 0a000001");
		snprintf(hex, sizeof(hex), "%s 0035 0014 0000", sports[i]);
		put_hex(&f, hex);
		put_hex(&f, "30ff 0800 0001 0000 0000 0000"); /* id 0x30ff: a G-PDU's first bytes */
		p = parse_tunneled(NETPARSE_DLT_EN10MB, &f, &t);
		assert_int_equal(p.rc, NETPARSE_OK);
		assert_int_equal(t.type, PKT_TUNNEL_NONE);
		assert_int_equal(p.meta.dport, 53);
		assert_int_equal(p.caplen, 12);
	}
}

/* IPv4 in IPv4, IPv6 in IPv4, and MPLS label stacks. */
static void test_ip_in_ip_and_mpls(void **state)
{
	struct frame v4 = {.len = 0}, v6 = {.len = 0}, mpls = {.len = 0};
	struct pkt_tunnel t;
	struct parsed p;

	put_outer_ipv4(&v4, 4, 40);
	put_ipv4_udp(&v4);
	p = parse_tunneled(NETPARSE_DLT_EN10MB, &v4, &t);
	assert_v4_dns(&v4, &p, 14 + 20 + 28);
	assert_tunnel(&t, PKT_TUNNEL_IPIP, false, 0);

	put_outer_ipv4(&v6, 41, 60);
	put_ipv6_udp(&v6);
	p = parse_tunneled(NETPARSE_DLT_EN10MB, &v6, &t);
	assert_v6_dns(&v6, &p, 14 + 20 + 48);
	assert_tunnel(&t, PKT_TUNNEL_IPIP, false, 0);

	put_hex(&mpls, "020000000002 020000000001 8847 000020ff 000011ff");
	put_ipv4_udp(&mpls);
	p = parse_tunneled(NETPARSE_DLT_EN10MB, &mpls, &t);
	assert_v4_dns(&mpls, &p, 14 + 8 + 28);
	assert_int_equal(t.type, PKT_TUNNEL_NONE);
	/* No bottom of stack within the bound: malformed. */
	mpls.len = 14;
	for (int i = 0; i < 9; i++)
		put_hex(&mpls, "000020ff");
	p = parse(NETPARSE_DLT_EN10MB, &mpls, mpls.len);
	assert_int_equal(p.rc, NETPARSE_MALFORMED);
}

/* Tunnels in tunnels: unwrapped up to NETPARSE_MAX_TUNNELS; the outermost reported. */
static void test_nested_tunnels(void **state)
{
	struct frame f = {.len = 0};
	struct pkt_tunnel t;
	struct parsed p;
	char hex[64];

	/* GRE(key 1) around IPIP (10.9.9.1 -> 10.9.9.2) around the DNS packet. */
	put_outer_ipv4(&f, 47, 8 + 20 + 40);
	put_hex(&f, "2000 0800 00000001");
	snprintf(hex, sizeof(hex), "4500 %04x 0001 0000 4004 0000 0a090901 0a090902", 60);
	put_hex(&f, hex);
	put_ipv4_udp(&f);
	p = parse_tunneled(NETPARSE_DLT_EN10MB, &f, &t);
	assert_v4_dns(&f, &p, 14 + 20 + 8 + 20 + 28);
	assert_tunnel(&t, PKT_TUNNEL_GRE, true, 1);
}

/* NFLOG TLVs, PKTAP's header around Ethernet, IPoIB. */
static void test_nflog_pktap_ipoib(void **state)
{
	struct frame nf = {.len = 0}, pk = {.len = 0}, ib = {.len = 0};
	struct parsed p;

	/* Header (AF_INET), a prefix TLV of 8 bytes, the payload TLV. */
	put_hex(&nf, "02 00 0000 0800 0a00 61626300 2c00 0900");
	put_ipv4_udp(&nf);
	p = parse(NETPARSE_DLT_NFLOG, &nf, nf.len);
	assert_v4_dns(&nf, &p, 16 + 28);
	/* Without a payload TLV: nothing to parse. */
	nf.len = 12;
	assert_int_equal(parse(NETPARSE_DLT_NFLOG, &nf, nf.len).rc, NETPARSE_SHORT);

	put_hex(&pk, "6c000000 01000000 01000000");
	for (int i = 12; i < 108; i++)
		put_hex(&pk, "00");
	put_hex(&pk, eth_ipv4);
	put_ipv4_udp(&pk);
	p = parse(NETPARSE_DLT_PKTAP, &pk, pk.len);
	assert_v4_dns(&pk, &p, 108 + 14 + 28);
	pk.b[8] = (uint8_t)NETPARSE_DLT_PKTAP & 0xff; /* PKTAP in PKTAP: refused */
	pk.b[9] = NETPARSE_DLT_PKTAP >> 8;
	assert_int_equal(parse(NETPARSE_DLT_PKTAP, &pk, pk.len).rc, NETPARSE_MALFORMED);

	put_hex(&ib, "0800 0000");
	put_ipv4_udp(&ib);
	p = parse(NETPARSE_DLT_IPOIB, &ib, ib.len);
	assert_v4_dns(&ib, &p, 4 + 28);
	for (int dlt = NETPARSE_DLT_NFLOG; dlt <= NETPARSE_DLT_PKTAP; dlt++)
		assert_int_equal(netparse_link_supported(dlt), dlt == NETPARSE_DLT_NFLOG ||
								       dlt == NETPARSE_DLT_IPOIB ||
								       dlt == NETPARSE_DLT_PKTAP);
}

static void test_every_prefix_stays_inside(void **state)
{
	struct frame eth = {.len = 0}, sll2 = {.len = 0}, ext = {.len = 0};

	put_hex(&eth, "020000000002 020000000001 88a8 000a 8100 00c8 0800");
	put_ipv4_udp(&eth);
	parse_every_prefix(NETPARSE_DLT_EN10MB, &eth);
	put_hex(&sll2, "86dd 0000 00000002 0001 00 06 0200000000010000");
	put_ipv6_udp(&sll2);
	parse_every_prefix(NETPARSE_DLT_LINUX_SLL2, &sll2);
	put_hex(&ext, "6000 0000 0024 0040"
		      "fd000000000000000000000000000005 fd000000000000000000000000000053"
		      "2c00 0104 00000000 1100 0001 00000009");
	put_hex(&ext, udp_50000_53_len20);
	parse_every_prefix(NETPARSE_DLT_RAW, &ext);
	parse_every_prefix(NETPARSE_DLT_NULL, &ext);
	parse_every_prefix(NETPARSE_DLT_LINUX_SLL, &ext);
}

/* Random bytes behind every link header: any result, no crash, no over-read. */
static void test_random_garbage(void **state)
{
	static const int dlts[] = {
		NETPARSE_DLT_NULL,  NETPARSE_DLT_EN10MB,    NETPARSE_DLT_RAW,
		NETPARSE_DLT_LOOP,  NETPARSE_DLT_LINUX_SLL, NETPARSE_DLT_LINUX_SLL2,
		NETPARSE_DLT_IPV4,  NETPARSE_DLT_IPV6,	    NETPARSE_DLT_NFLOG,
		NETPARSE_DLT_IPOIB, NETPARSE_DLT_PKTAP};
	uint32_t x = 12345;

	for (int iter = 0; iter < 20000; iter++) {
		struct frame f = {.len = 0};
		size_t n;

		x = x * 1103515245 + 12345;
		n = (x >> 16) % 120;
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245 + 12345;
			f.b[i] = (uint8_t)(x >> 16);
		}
		/* Steer some of it towards IP so the deeper paths run too. */
		if (n > 20 && iter % 2)
			f.b[iter % 4 == 1 ? 0 : 4] = iter % 8 == 1 ? 0x45 : 0x60;
		f.len = n;
		parse_every_prefix(dlts[iter % 8], &f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet_ipv4_udp),
		cmocka_unit_test(test_vlan_and_qinq),
		cmocka_unit_test(test_too_many_vlan_tags),
		cmocka_unit_test(test_linux_cooked),
		cmocka_unit_test(test_raw_ip),
		cmocka_unit_test(test_bsd_loopback_both_byte_orders),
		cmocka_unit_test(test_not_for_us),
		cmocka_unit_test(test_other_dns_ports),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_snap_length_cuts),
		cmocka_unit_test(test_inconsistent_lengths),
		cmocka_unit_test(test_ipv6_extension_headers),
		cmocka_unit_test(test_ipv6_endless_extension_chain),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_reassembled),
		cmocka_unit_test(test_vxlan_and_geneve),
		cmocka_unit_test(test_gre_and_erspan),
		cmocka_unit_test(test_gtpu),
		cmocka_unit_test(test_ip_in_ip_and_mpls),
		cmocka_unit_test(test_nested_tunnels),
		cmocka_unit_test(test_dns_on_tunnel_ports),
		cmocka_unit_test(test_nflog_pktap_ipoib),
		cmocka_unit_test(test_every_prefix_stays_inside),
		cmocka_unit_test(test_random_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
