// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ipfrag: datagrams rebuilt from fragments in and out of order; exact
 * duplicates ignored; overlaps, bad lengths and too many fragments give
 * the datagram up; the table, memory and time bounds; fragments cut by
 * the snap length; and a random storm checked against the counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "capture/ipfrag.h"

#define SEC 1000000000ULL
#define T0  (1767225600ULL * SEC)

static uint8_t data[65536]; /* the datagrams' bytes: data[i] = pattern(i) */

static uint8_t pattern(uint32_t i)
{
	return (uint8_t)(i * 31 + (i >> 8));
}

static int setup(void **state)
{
	for (uint32_t i = 0; i < sizeof(data); i++)
		data[i] = pattern(i);
	return 0;
}

/* Fragment [off, off + len) of datagram id from 10.0.0.1 to 10.1.0.5. */
static struct netparse_ip frag4(uint32_t id, uint32_t off, uint32_t len, bool more)
{
	struct netparse_ip ip;

	memset(&ip, 0, sizeof(ip));
	ip.family = AF_INET;
	ip.proto = IPPROTO_UDP;
	ip.saddr[0] = 10;
	ip.saddr[3] = 1;
	ip.daddr[0] = 10;
	ip.daddr[1] = 1;
	ip.daddr[3] = 5;
	ip.frag_id = id;
	ip.frag_off = off;
	ip.frag_more = more;
	ip.l4 = data + off;
	ip.l4_len = len;
	ip.l4_caplen = len;
	return ip;
}

static struct netparse_ip frag6(uint32_t id, uint32_t off, uint32_t len, bool more)
{
	struct netparse_ip ip = frag4(id, off, len, more);

	ip.family = AF_INET6;
	ip.proto = IPPROTO_DSTOPTS;
	ip.saddr[0] = 0xfd;
	ip.daddr[0] = 0xfd;
	return ip;
}

static struct ipfrag_stats stats_of(const struct ipfrag *f)
{
	struct ipfrag_stats st;

	ipfrag_get_stats(f, &st);
	return st;
}

static int add(struct ipfrag *f, struct netparse_ip ip, uint64_t ts, struct ipfrag_datagram *out)
{
	return ipfrag_add(f, &ip, ts, out);
}

static void assert_datagram(const struct ipfrag_datagram *d, uint32_t len)
{
	assert_int_equal(d->len, len);
	assert_int_equal(d->caplen, len);
	assert_memory_equal(d->data, data, len);
}

static void test_in_order(void **state)
{
	struct ipfrag *f = ipfrag_new(NULL);
	struct ipfrag_datagram d;

	assert_int_equal(add(f, frag4(1, 0, 1480, true), T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag4(1, 1480, 1480, true), T0 + 1, &d), IPFRAG_PENDING);
	assert_int_equal(stats_of(f).active, 1);
	assert_int_equal(stats_of(f).held, 2);
	assert_int_equal(add(f, frag4(1, 2960, 100, false), T0 + 2, &d), IPFRAG_DONE);
	assert_datagram(&d, 3060);
	assert_int_equal(d.proto, IPPROTO_UDP);
	assert_int_equal(stats_of(f).reassembled, 1);
	assert_int_equal(stats_of(f).fragments, 3);
	assert_int_equal(stats_of(f).active, 0);
	assert_int_equal(stats_of(f).held, 0);
	ipfrag_free(f);
}

static void test_out_of_order(void **state)
{
	struct ipfrag *f = ipfrag_new(NULL);
	struct ipfrag_datagram d;

	/* Last, first, middle. */
	assert_int_equal(add(f, frag4(2, 2960, 7, false), T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag4(2, 0, 1480, true), T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag4(2, 1480, 1480, true), T0, &d), IPFRAG_DONE);
	assert_datagram(&d, 2967);
	/* The next datagram with the same id starts afresh. */
	assert_int_equal(add(f, frag4(2, 8, 8, false), T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag4(2, 0, 8, true), T0, &d), IPFRAG_DONE);
	assert_datagram(&d, 16);
	ipfrag_free(f);
}

static void test_datagrams_kept_apart(void **state)
{
	struct ipfrag *f = ipfrag_new(NULL);
	struct ipfrag_datagram d;
	struct netparse_ip other_src = frag4(3, 0, 800, true), other_proto = frag4(3, 0, 800, true);

	other_src.saddr[3] = 2;
	other_proto.proto = IPPROTO_TCP;
	assert_int_equal(add(f, frag4(3, 0, 800, true), T0, &d), IPFRAG_PENDING);
	assert_int_equal(ipfrag_add(f, &other_src, T0, &d), IPFRAG_PENDING);
	assert_int_equal(ipfrag_add(f, &other_proto, T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag6(3, 0, 800, true), T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag4(4, 0, 800, true), T0, &d), IPFRAG_PENDING);
	assert_int_equal(stats_of(f).active, 5);
	assert_int_equal(add(f, frag6(3, 800, 10, false), T0, &d), IPFRAG_DONE);
	assert_datagram(&d, 810);
	assert_int_equal(d.proto, IPPROTO_DSTOPTS);
	assert_int_equal(add(f, frag4(3, 800, 20, false), T0, &d), IPFRAG_DONE);
	assert_datagram(&d, 820);
	assert_int_equal(stats_of(f).active, 3);
	ipfrag_free(f);
}

/* IPv6 identifies a datagram by addresses and id only: the protocol of a
 * later fragment does not matter, the offset-0 fragment's does. */
static void test_ipv6_proto_from_first(void **state)
{
	struct ipfrag *f = ipfrag_new(NULL);
	struct ipfrag_datagram d;
	struct netparse_ip last = frag6(9, 8, 8, false), first = frag6(9, 0, 8, true);

	last.proto = IPPROTO_TCP;
	first.proto = IPPROTO_UDP;
	assert_int_equal(ipfrag_add(f, &last, T0, &d), IPFRAG_PENDING);
	assert_int_equal(ipfrag_add(f, &first, T0, &d), IPFRAG_DONE);
	assert_int_equal(d.proto, IPPROTO_UDP);
	ipfrag_free(f);
}

static void test_exact_duplicate_ignored(void **state)
{
	struct ipfrag *f = ipfrag_new(NULL);
	struct ipfrag_datagram d;

	assert_int_equal(add(f, frag4(5, 0, 1480, true), T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag4(5, 0, 1480, true), T0, &d), IPFRAG_PENDING);
	assert_int_equal(stats_of(f).duplicates, 1);
	assert_int_equal(stats_of(f).held, 1);
	assert_int_equal(add(f, frag4(5, 1480, 20, false), T0, &d), IPFRAG_DONE);
	assert_datagram(&d, 1500);
	ipfrag_free(f);
}

static void test_overlap_gives_up(void **state)
{
	struct ipfrag *f = ipfrag_new(NULL);
	struct ipfrag_datagram d;

	assert_int_equal(add(f, frag4(6, 0, 1480, true), T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag4(6, 1480, 1480, true), T0, &d), IPFRAG_PENDING);
	/* Starts inside the first fragment: overlap, both held ones and it go. */
	assert_int_equal(add(f, frag4(6, 1400, 200, false), T0, &d), IPFRAG_DROPPED);
	assert_int_equal(stats_of(f).overlaps, 1);
	assert_int_equal(stats_of(f).dropped, 3);
	assert_int_equal(stats_of(f).active, 0);
	/* Same offset, other length: an overlap too, not a duplicate. */
	assert_int_equal(add(f, frag4(7, 0, 1480, true), T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag4(7, 0, 1488, true), T0, &d), IPFRAG_DROPPED);
	assert_int_equal(stats_of(f).overlaps, 2);
	/* A later fragment of a given-up datagram starts a new one that never completes. */
	assert_int_equal(add(f, frag4(7, 1480, 8, false), T0, &d), IPFRAG_PENDING);
	ipfrag_free(f);
}

static void test_bad_lengths(void **state)
{
	struct ipfrag *f = ipfrag_new(NULL);
	struct ipfrag_datagram d;

	/* Not the last fragment, yet not a multiple of 8 bytes. */
	assert_int_equal(add(f, frag4(8, 0, 1479, true), T0, &d), IPFRAG_DROPPED);
	/* Empty and not the last. */
	assert_int_equal(add(f, frag4(8, 0, 0, true), T0, &d), IPFRAG_DROPPED);
	/* Past 65535 bytes. */
	assert_int_equal(add(f, frag4(8, 65528, 16, false), T0, &d), IPFRAG_DROPPED);
	assert_int_equal(stats_of(f).invalid, 3);
	assert_int_equal(stats_of(f).active, 0);
	/* Two last fragments that disagree on the total. */
	assert_int_equal(add(f, frag4(9, 1480, 10, false), T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag4(9, 2960, 10, false), T0, &d), IPFRAG_DROPPED);
	/* A fragment past the announced end. */
	assert_int_equal(add(f, frag4(10, 1480, 10, false), T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag4(10, 1496, 8, true), T0, &d), IPFRAG_DROPPED);
	/* A last fragment ending before data already held. */
	assert_int_equal(add(f, frag4(11, 1480, 16, true), T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag4(11, 8, 8, false), T0, &d), IPFRAG_DROPPED);
	assert_int_equal(stats_of(f).invalid, 6);
	assert_int_equal(stats_of(f).active, 0);
	ipfrag_free(f);
}

static void test_too_many_fragments(void **state)
{
	struct ipfrag *f = ipfrag_new(NULL);
	struct ipfrag_datagram d;

	for (uint32_t i = 0; i < IPFRAG_MAX_FRAGS; i++)
		assert_int_equal(add(f, frag4(12, i * 8, 8, true), T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag4(12, IPFRAG_MAX_FRAGS * 8, 8, false), T0, &d), IPFRAG_DROPPED);
	assert_int_equal(stats_of(f).dropped, IPFRAG_MAX_FRAGS + 1);
	/* 64 is fine. */
	for (uint32_t i = 0; i + 1 < IPFRAG_MAX_FRAGS; i++)
		assert_int_equal(add(f, frag4(13, i * 8, 8, true), T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag4(13, (IPFRAG_MAX_FRAGS - 1) * 8, 3, false), T0, &d),
			 IPFRAG_DONE);
	assert_datagram(&d, (IPFRAG_MAX_FRAGS - 1) * 8 + 3);
	ipfrag_free(f);
}

static void test_timeout_on_packet_time(void **state)
{
	struct ipfrag_config cfg = {.timeout_ns = 30 * SEC};
	struct ipfrag *f = ipfrag_new(&cfg);
	struct ipfrag_datagram d;

	assert_int_equal(add(f, frag4(14, 0, 1480, true), T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag4(15, 0, 1480, true), T0 + 10 * SEC, &d), IPFRAG_PENDING);
	/* 30 s after the first fragment: not yet. */
	ipfrag_expire(f, T0 + 30 * SEC);
	assert_int_equal(stats_of(f).timeouts, 0);
	/* Time going backwards expires nothing. */
	ipfrag_expire(f, T0 - 100 * SEC);
	assert_int_equal(stats_of(f).active, 2);
	/* The rest of datagram 14 arrives too late: it starts a new one. */
	assert_int_equal(add(f, frag4(14, 1480, 8, false), T0 + 30 * SEC + 1, &d), IPFRAG_PENDING);
	assert_int_equal(stats_of(f).timeouts, 1);
	assert_int_equal(stats_of(f).dropped, 1);
	/* Datagram 15 (10 s younger) is still there. */
	assert_int_equal(add(f, frag4(15, 1480, 8, false), T0 + 31 * SEC, &d), IPFRAG_DONE);
	assert_datagram(&d, 1488);
	ipfrag_expire(f, T0 + 100 * SEC);
	assert_int_equal(stats_of(f).timeouts, 2);
	assert_int_equal(stats_of(f).active, 0);
	ipfrag_free(f);
}

static void test_table_full_evicts_oldest(void **state)
{
	struct ipfrag_config cfg = {.max_datagrams = 4};
	struct ipfrag *f = ipfrag_new(&cfg);
	struct ipfrag_datagram d;

	for (uint32_t id = 100; id < 105; id++)
		assert_int_equal(add(f, frag4(id, 0, 8, true), T0 + id, &d), IPFRAG_PENDING);
	assert_int_equal(stats_of(f).evicted, 1);
	assert_int_equal(stats_of(f).active, 4);
	/* 100 was the oldest: gone. 101 is complete with its second half. */
	assert_int_equal(add(f, frag4(101, 8, 8, false), T0 + 200, &d), IPFRAG_DONE);
	assert_datagram(&d, 16);
	assert_int_equal(add(f, frag4(100, 8, 8, false), T0 + 201, &d), IPFRAG_PENDING);
	ipfrag_free(f);
}

static void test_memory_budget(void **state)
{
	/* Room for two 2 KiB buffers, not for a 4 KiB one as well. */
	struct ipfrag_config cfg = {.max_total_bytes = 6144};
	struct ipfrag *f = ipfrag_new(&cfg);
	struct ipfrag_datagram d;

	assert_int_equal(add(f, frag4(20, 0, 1000, true), T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag4(21, 0, 1000, true), T0 + 1, &d), IPFRAG_PENDING);
	assert_int_equal(stats_of(f).buffer_bytes, 4096);
	/* Datagram 22 needs 4 KiB: the oldest (20) is given up for it. */
	assert_int_equal(add(f, frag4(22, 0, 3000, true), T0 + 2, &d), IPFRAG_PENDING);
	assert_int_equal(stats_of(f).evicted, 1);
	assert_true(stats_of(f).buffer_bytes <= 6144);
	assert_int_equal(add(f, frag4(21, 1000, 5, false), T0 + 3, &d), IPFRAG_DONE);
	assert_datagram(&d, 1005);
	/* One datagram alone larger than the budget cannot be kept. */
	assert_int_equal(add(f, frag4(23, 0, 8000, true), T0 + 4, &d), IPFRAG_DROPPED);
	assert_true(stats_of(f).buffer_bytes <= 6144);
	ipfrag_free(f);
}

static void test_snap_length_cut_fragment(void **state)
{
	struct ipfrag *f = ipfrag_new(NULL);
	struct ipfrag_datagram d;
	struct netparse_ip first = frag4(30, 0, 1480, true), second = frag4(30, 1480, 1480, true);

	/* Only 100 bytes of the first fragment captured: 100 usable bytes. */
	first.l4_caplen = 100;
	assert_int_equal(ipfrag_add(f, &first, T0, &d), IPFRAG_PENDING);
	assert_int_equal(ipfrag_add(f, &second, T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag4(30, 2960, 40, false), T0, &d), IPFRAG_DONE);
	assert_int_equal(d.len, 3000);
	assert_int_equal(d.caplen, 100);
	assert_memory_equal(d.data, data, 100);

	/* The middle one cut: the first whole, then 200 bytes of the second. */
	second = frag4(31, 1480, 1480, true);
	second.l4_caplen = 200;
	assert_int_equal(add(f, frag4(31, 2960, 40, false), T0, &d), IPFRAG_PENDING);
	assert_int_equal(ipfrag_add(f, &second, T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag4(31, 0, 1480, true), T0, &d), IPFRAG_DONE);
	assert_int_equal(d.len, 3000);
	assert_int_equal(d.caplen, 1680);
	assert_memory_equal(d.data, data, 1680);
	ipfrag_free(f);
}

static void test_large_datagram(void **state)
{
	struct ipfrag *f = ipfrag_new(NULL);
	struct ipfrag_datagram d;
	uint32_t off = 0;

	/* 65535 bytes in 45 fragments of 1480 and a last one. */
	for (; off + 1480 < 65535; off += 1480)
		assert_int_equal(add(f, frag4(40, off, 1480, true), T0, &d), IPFRAG_PENDING);
	assert_int_equal(add(f, frag4(40, off, 65535 - off, false), T0, &d), IPFRAG_DONE);
	assert_datagram(&d, 65535);
	ipfrag_free(f);
}

/* Random fragments of random datagrams: never a crash, counters agree. */
static void test_random_storm(void **state)
{
	struct ipfrag_config cfg = {.max_datagrams = 16, .max_total_bytes = 64 * 1024};
	struct ipfrag *f = ipfrag_new(&cfg);
	struct ipfrag_datagram d;
	uint32_t x = 777;
	uint64_t done = 0, offered = 0;

	for (int i = 0; i < 200000; i++) {
		struct netparse_ip ip;
		uint32_t off, len;
		int rc;

		x = x * 1103515245 + 12345;
		off = ((x >> 8) % 16) * 8;
		x = x * 1103515245 + 12345;
		len = (x >> 8) % 40;
		ip = frag4((x >> 20) % 24, off, len, (x >> 4) & 1);
		x = x * 1103515245 + 12345;
		ip.l4_caplen = (x >> 3) & 1 ? len : len / 2;
		rc = ipfrag_add(f, &ip, T0 + (uint64_t)i * 1000000, &d);
		offered++;
		if (rc == IPFRAG_DONE) {
			done++;
			assert_true(d.caplen <= d.len);
			assert_memory_equal(d.data, data, d.caplen);
		}
	}
	assert_true(done > 100);
	assert_int_equal(stats_of(f).reassembled, done);
	assert_int_equal(stats_of(f).fragments, offered);
	assert_true(stats_of(f).active <= 16);
	assert_true(stats_of(f).buffer_bytes <= 64 * 1024);
	ipfrag_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_datagrams_kept_apart),
		cmocka_unit_test(test_ipv6_proto_from_first),
		cmocka_unit_test(test_exact_duplicate_ignored),
		cmocka_unit_test(test_overlap_gives_up),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_too_many_fragments),
		cmocka_unit_test(test_timeout_on_packet_time),
		cmocka_unit_test(test_table_full_evicts_oldest),
		cmocka_unit_test(test_memory_budget),
		cmocka_unit_test(test_snap_length_cut_fragment),
		cmocka_unit_test(test_large_datagram),
		cmocka_unit_test(test_random_storm),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
