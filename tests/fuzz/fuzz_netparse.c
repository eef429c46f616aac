// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for netparse: one captured frame taken apart as the
 * offline source does (netparse_frame, then netparse_l4), for every link
 * type netparse knows. The first input byte picks the link type (see
 * links[] below), the rest is the frame. A fragment's data is also fed to
 * netparse_reassembled() as if it were a whole datagram's fragmentable
 * part (an IPv6 fragment's may start with more extension headers).
 *
 * Invariants:
 *  - everything netparse points at lies inside the captured frame, and
 *    what it says was captured is never more than what was on the wire;
 *  - a packet handed on has a known family and protocol and a DNS port.
 * Seed corpus: tests/fuzz/corpus/netparse (tests/fuzz/gen-seeds).
 */
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "capture/netparse.h"
#include "fuzz_check.h"

static const int links[] = {
	NETPARSE_DLT_EN10MB,   NETPARSE_DLT_LINUX_SLL, NETPARSE_DLT_LINUX_SLL2, NETPARSE_DLT_RAW,
	NETPARSE_LINKTYPE_RAW, NETPARSE_DLT_IPV4,      NETPARSE_DLT_IPV6,	NETPARSE_DLT_NULL,
	NETPARSE_DLT_LOOP,     NETPARSE_DLT_NFLOG,     NETPARSE_DLT_IPOIB,	NETPARSE_DLT_PKTAP,
};

#define NLINKS (sizeof(links) / sizeof(links[0]))

/* 15353: the port of the captures in tests/fixtures/pcap. */
static const uint16_t ports[] = {53, 15353};

static void check_ip(const struct netparse_ip *ip, const uint8_t *frame, size_t caplen)
{
	CHECK(ip->family == AF_INET || ip->family == AF_INET6);
	CHECK(ip->l4_caplen <= ip->l4_len);
	CHECK(INSIDE(ip->l4, ip->l4_caplen, frame, caplen));
	fuzz_touch(ip->l4, ip->l4_caplen);
}

static void check_l4(const struct netparse_ip *ip, const uint8_t *frame, size_t caplen)
{
	struct pkt_meta meta;
	const uint8_t *payload = NULL;
	size_t pcap = 0;
	int rc;

	memset(&meta, 0, sizeof(meta));
	rc = netparse_l4(ip, ports, 2, &meta, &payload, &pcap);
	CHECK(rc == NETPARSE_OK || rc == NETPARSE_SKIP || rc == NETPARSE_SHORT ||
	      rc == NETPARSE_MALFORMED);
	if (rc != NETPARSE_OK)
		return;
	CHECK(meta.proto == IPPROTO_UDP || meta.proto == IPPROTO_TCP);
	CHECK(meta.family == ip->family);
	CHECK(meta.sport == 53 || meta.dport == 53 || meta.sport == 15353 || meta.dport == 15353);
	CHECK(pcap <= meta.orig_len);
	CHECK(meta.orig_len <= ip->l4_len);
	CHECK(INSIDE(payload, pcap, ip->l4, ip->l4_caplen));
	CHECK(INSIDE(payload, pcap, frame, caplen));
	fuzz_touch(payload, pcap);
}

/* Out of tunnels, as deep as the pcap source goes: every layer inside the frame. */
static void check_tunnels(struct netparse_ip ip, const uint8_t *frame, size_t caplen)
{
	for (int depth = 0; depth < NETPARSE_MAX_TUNNELS; depth++) {
		struct netparse_ip inner;
		struct pkt_tunnel t;
		int rc = netparse_decap(&ip, ports, 2, &inner, &t);

		CHECK(rc == NETPARSE_OK || rc == NETPARSE_FRAGMENT || rc == NETPARSE_SKIP ||
		      rc == NETPARSE_SHORT || rc == NETPARSE_MALFORMED);
		if (rc != NETPARSE_OK && rc != NETPARSE_FRAGMENT)
			return;
		CHECK(t.type > PKT_TUNNEL_NONE && t.type <= PKT_TUNNEL_GTPU);
		CHECK(t.family == ip.family);
		check_ip(&inner, frame, caplen);
		if (rc == NETPARSE_FRAGMENT)
			return;
		check_l4(&inner, frame, caplen);
		ip = inner;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netparse_ip ip;
	const uint8_t *frame;
	size_t caplen;
	int dlt, rc;

	if (size < 1)
		return 0;
	dlt = links[data[0] % NLINKS];
	CHECK(netparse_link_supported(dlt));
	frame = data + 1; /* ends where libFuzzer's exactly sized buffer ends */
	caplen = size - 1;

	memset(&ip, 0, sizeof(ip));
	rc = netparse_frame(dlt, frame, caplen, &ip);
	switch (rc) {
	case NETPARSE_OK:
		check_ip(&ip, frame, caplen);
		check_l4(&ip, frame, caplen);
		check_tunnels(ip, frame, caplen);
		break;
	case NETPARSE_FRAGMENT:
		check_ip(&ip, frame, caplen);
		CHECK(ip.frag_more || ip.frag_off);
		/* As if this fragment's data were the whole fragmentable part. */
		rc = netparse_reassembled(&ip, ip.l4, ip.l4_caplen, ip.l4_len);
		CHECK(rc == NETPARSE_OK || rc == NETPARSE_SHORT || rc == NETPARSE_MALFORMED);
		if (rc == NETPARSE_OK) {
			check_ip(&ip, frame, caplen);
			check_l4(&ip, frame, caplen);
		}
		break;
	default:
		CHECK(rc == NETPARSE_SKIP || rc == NETPARSE_SHORT || rc == NETPARSE_MALFORMED);
		break;
	}
	return 0;
}
