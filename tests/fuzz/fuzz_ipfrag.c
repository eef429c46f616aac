// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for IP fragment reassembly (ipfrag), driven as the
 * offline source drives it: each fragment goes to ipfrag_add() at its
 * packet time, and a completed datagram goes on to netparse_reassembled()
 * and netparse_l4().
 *
 * Input: two bytes of configuration, then fragments, each a 7-byte header
 * and its captured data:
 *   cfg[0]  bits 0-2: max_datagrams - 1; bits 3-4: timeout (30 s, 1 s,
 *           10 ms, 1 ns)
 *   cfg[1]  bits 0-1: max_bytes (65535, 1500, 256, 64); bits 2-3:
 *           max_total_bytes (32 MiB, 64 KiB, 8 KiB, 2 KiB)
 *   h[0]    bit 0: IPv6; bits 1-2: which datagram (identification and
 *           source); bit 3: more fragments; bit 4: TCP rather than UDP;
 *           bit 5: call ipfrag_expire() first
 *   h[1]    packet time step: 125 ms units; 255 steps 1 s back
 *   h[2..3] fragment offset in 8-byte units (13 bits, big endian)
 *   h[4..5] length on the wire (big endian)
 *   h[6]    bytes of the capture cut off (snap length)
 *   data    min(length, what is left) - cut bytes
 *
 * Invariants: the bounds in ipfrag.h hold (datagrams, bytes per datagram,
 * buffer bytes); a completed datagram's captured bytes are exactly those
 * its fragments carried (overlaps are refused and duplicates ignored, so
 * there is only one candidate for each byte); caplen <= len; the
 * counters add up.
 * Seed corpus: tests/fuzz/corpus/ipfrag (tests/fuzz/gen-seeds).
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "capture/ipfrag.h"
#include "capture/netparse.h"
#include "fuzz_check.h"

#define HDR_LEN	    7
#define MAX_FRAGS   4096
#define NKEYS	    16 /* family x datagram x protocol */
#define NS_PER_MSEC 1000000ull

static const uint64_t timeouts[] = {0, 1000 * NS_PER_MSEC, 10 * NS_PER_MSEC, 1};
static const uint32_t max_bytes[] = {0, 1500, 256, 64};
static const size_t max_total[] = {0, 64 * 1024, 8 * 1024, 2 * 1024};
static const uint16_t ports[] = {53};

/* What each datagram's fragments carried, by offset: the expected reassembly. */
static uint8_t shadow[NKEYS][65536];

static void check_datagram(const struct ipfrag_datagram *dg, const struct netparse_ip *frag,
			   uint32_t limit, int key)
{
	struct netparse_ip ip = *frag;
	struct pkt_meta meta;
	const uint8_t *payload;
	size_t caplen;
	int rc;

	CHECK(dg->caplen <= dg->len);
	CHECK(dg->len <= limit);
	CHECK(dg->data != NULL);
	CHECK(memcmp(dg->data, shadow[key], dg->caplen) == 0);
	if (ip.family == AF_INET)
		CHECK(dg->proto == ip.proto); /* part of the key */

	/* On as capture_pcap does with it. */
	ip.proto = dg->proto;
	rc = netparse_reassembled(&ip, dg->data, dg->caplen, dg->len);
	CHECK(rc == NETPARSE_OK || rc == NETPARSE_SHORT || rc == NETPARSE_MALFORMED);
	if (rc != NETPARSE_OK)
		return;
	CHECK(ip.l4_caplen <= ip.l4_len);
	CHECK(INSIDE(ip.l4, ip.l4_caplen, dg->data, dg->caplen));
	memset(&meta, 0, sizeof(meta));
	if (netparse_l4(&ip, ports, 1, &meta, &payload, &caplen) == NETPARSE_OK) {
		CHECK(caplen <= meta.orig_len);
		CHECK(INSIDE(payload, caplen, dg->data, dg->caplen));
		fuzz_touch(payload, caplen);
	}
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipfrag_config cfg = {0};
	struct ipfrag_stats st, before;
	struct ipfrag *f;
	uint64_t now = 1700000000ull * 1000000000ull, latest = now, adds = 0, done = 0;
	uint32_t limit;
	size_t total_limit, pos = 2;

	if (size < 2)
		return 0;
	cfg.max_datagrams = 1 + (data[0] & 7);
	cfg.timeout_ns = timeouts[(data[0] >> 3) & 3];
	cfg.max_bytes = max_bytes[data[1] & 3];
	cfg.max_total_bytes = max_total[(data[1] >> 2) & 3];
	limit = cfg.max_bytes ? cfg.max_bytes : 65535;
	total_limit = cfg.max_total_bytes ? cfg.max_total_bytes : 32u << 20;
	f = ipfrag_new(&cfg);
	if (!f)
		return 0;

	for (int n = 0; n < MAX_FRAGS && size - pos >= HDR_LEN; n++) {
		const uint8_t *h = data + pos;
		bool v6 = h[0] & 1, tcp = h[0] & 0x10;
		int which = (h[0] >> 1) & 3;
		int key = (v6 ? 8 : 0) + which * 2 + (!v6 && tcp);
		uint32_t len = be16(h + 4), cap = len, cut = h[6];
		struct netparse_ip ip;
		struct ipfrag_datagram dg;
		uint8_t *copy;
		int rc;

		pos += HDR_LEN;
		if (cap > size - pos)
			cap = (uint32_t)(size - pos);
		copy = malloc(cap ? cap : 1); /* exactly sized: ASan sees reads past it */
		if (!copy)
			break;
		memcpy(copy, data + pos, cap);
		pos += cap;
		cap -= cut < cap ? cut : cap;

		if (h[1] == 255)
			now -= 1000 * NS_PER_MSEC;
		else
			now += h[1] * 125 * NS_PER_MSEC;
		if (now > latest)
			latest = now;

		memset(&ip, 0, sizeof(ip));
		ip.family = v6 ? AF_INET6 : AF_INET;
		ip.proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
		ip.saddr[0] = v6 ? 0xfd : 10;
		ip.saddr[v6 ? 15 : 3] = (uint8_t)(1 + (which >> 1));
		ip.daddr[0] = v6 ? 0xfd : 10;
		ip.daddr[v6 ? 15 : 3] = 53;
		ip.frag_id = (v6 ? 0x10000u : 0) + 0x1234 + (which & 1);
		ip.frag_off = (uint32_t)(be16(h + 2) & 0x1fff) * 8;
		ip.frag_more = h[0] & 8;
		ip.l4 = copy;
		ip.l4_caplen = cap;
		ip.l4_len = len;

		if (h[0] & 0x20)
			ipfrag_expire(f, now);
		ipfrag_get_stats(f, &before);
		rc = ipfrag_add(f, &ip, now, &dg);
		adds++;
		ipfrag_get_stats(f, &st);
		CHECK(rc == IPFRAG_DONE || rc == IPFRAG_PENDING || rc == IPFRAG_DROPPED);
		if (rc != IPFRAG_DROPPED && st.duplicates == before.duplicates)
			memcpy(shadow[key] + ip.frag_off, copy, cap); /* offset + cap <= 65535 */
		if (rc == IPFRAG_DONE) {
			done++;
			check_datagram(&dg, &ip, limit, key);
		}
		CHECK(st.fragments == adds);
		CHECK(st.reassembled == done);
		CHECK(st.active <= cfg.max_datagrams);
		CHECK(st.held <= st.active * IPFRAG_MAX_FRAGS);
		CHECK(st.buffer_bytes <= total_limit);
		CHECK(rc != IPFRAG_DROPPED || st.dropped > before.dropped);
		free(copy);
	}
	ipfrag_expire(f, latest + 3600 * 1000 * NS_PER_MSEC); /* past every timeout */
	ipfrag_get_stats(f, &st);
	CHECK(st.active == 0 && st.held == 0);
	ipfrag_free(f);
	return 0;
}
