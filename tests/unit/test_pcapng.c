// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pcapng: files built here block by block, in both byte orders: two
 * interfaces of different link types and timestamp resolutions (one with
 * an offset), Enhanced, Simple and obsolete Packet Blocks, blocks to skip,
 * a second section that starts over; and damage: lengths that disagree or
 * run past the end, unknown interfaces, a file cut inside a block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "capture/pcapng.h"

struct file {
	uint8_t b[8192];
	size_t len;
	bool big; /* write big-endian */
};

static void put(struct file *f, const void *p, size_t n)
{
	assert_true(f->len + n <= sizeof(f->b));
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void put16(struct file *f, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	if (f->big)
		b[0] = (uint8_t)(v >> 8), b[1] = (uint8_t)v;
	put(f, b, 2);
}

static void put32(struct file *f, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		uint8_t byte = (uint8_t)(v >> (f->big ? 24 - 8 * i : 8 * i));

		put(f, &byte, 1);
	}
}

static void put64(struct file *f, uint64_t v)
{
	if (f->big) {
		put32(f, (uint32_t)(v >> 32));
		put32(f, (uint32_t)v);
	} else {
		put32(f, (uint32_t)v);
		put32(f, (uint32_t)(v >> 32));
	}
}

/* A block of type with body (padded to 4 bytes). */
static void block(struct file *f, uint32_t type, const struct file *body)
{
	size_t pad = (4 - body->len % 4) % 4;
	uint32_t total = (uint32_t)(12 + body->len + pad);
	static const uint8_t zeros[4];

	put32(f, type);
	put32(f, total);
	put(f, body->b, body->len);
	put(f, zeros, pad);
	put32(f, total);
}

static void shb(struct file *f)
{
	struct file b = {.big = f->big};

	put32(&b, 0x1a2b3c4d);
	put16(&b, 1);
	put16(&b, 0);
	put64(&b, UINT64_MAX); /* section length unknown */
	block(f, 0x0a0d0d0a, &b);
}

/* An IDB; tsresol < 0: none; tsoffset 0: none. */
static void idb(struct file *f, uint16_t dlt, int tsresol, int64_t tsoffset)
{
	struct file b = {.big = f->big};

	put16(&b, dlt);
	put16(&b, 0);
	put32(&b, 65535);
	put16(&b, 2); /* if_name */
	put16(&b, 3);
	put(&b, "eth\0", 4);
	if (tsresol >= 0) {
		uint8_t v[4] = {(uint8_t)tsresol};

		put16(&b, 9);
		put16(&b, 1);
		put(&b, v, 4);
	}
	if (tsoffset) {
		put16(&b, 14);
		put16(&b, 8);
		put64(&b, (uint64_t)tsoffset);
	}
	put16(&b, 0);
	put16(&b, 0);
	block(f, 1, &b);
}

static void epb(struct file *f, uint32_t iface, uint64_t ts, const char *data)
{
	struct file b = {.big = f->big};
	uint32_t n = (uint32_t)strlen(data);

	put32(&b, iface);
	put32(&b, (uint32_t)(ts >> 32));
	put32(&b, (uint32_t)ts);
	put32(&b, n);
	put32(&b, n + 100); /* on the wire: longer */
	put(&b, data, n);
	while (b.len % 4)
		put(&b, "", 1);
	put16(&b, 1); /* opt_comment */
	put16(&b, 2);
	put(&b, "hi\0\0", 4);
	put16(&b, 0);
	put16(&b, 0);
	block(f, 6, &b);
}

static void other_block(struct file *f, uint32_t type)
{
	struct file b = {.big = f->big};

	put32(&b, 12345);
	put(&b, "whatever", 8);
	block(f, type, &b);
}

static FILE *as_file(const struct file *f, size_t len)
{
	FILE *s = tmpfile();

	assert_non_null(s);
	assert_int_equal(fwrite(f->b, 1, len, s), len);
	rewind(s);
	return s;
}

struct got {
	int rc;
	struct pcapng_packet p;
	char err[256];
};

static struct got next(struct pcapng_reader *r)
{
	struct got g;

	memset(&g, 0, sizeof(g));
	g.rc = pcapng_next(r, &g.p, g.err, sizeof(g.err));
	return g;
}

static void expect_packet(struct pcapng_reader *r, int dlt, uint32_t iface, uint64_t ts_ns,
			  const char *data)
{
	struct got g = next(r);

	if (g.rc != 1)
		fail_msg("no packet: %d %s", g.rc, g.err);
	assert_int_equal(g.p.dlt, dlt);
	assert_int_equal(g.p.iface, iface);
	assert_int_equal(g.p.ts_ns, ts_ns);
	assert_int_equal(g.p.caplen, strlen(data));
	assert_memory_equal(g.p.data, data, strlen(data));
}

/* Two interfaces (Ethernet µs; Linux cooked v2 ns + 10 s), other blocks, two sections. */
static void two_interfaces(bool big)
{
	struct file f = {.big = big};
	struct pcapng_reader *r;

	shb(&f);
	idb(&f, 1, -1, 0);
	idb(&f, 276, 9, 10);
	other_block(&f, 4); /* name resolution */
	epb(&f, 0, 1700000000123456ull, "ethernet frame");
	epb(&f, 1, 1700000000123456789ull, "cooked frame!");
	other_block(&f, 5); /* interface statistics */
	other_block(&f, 0x40000bad); /* custom */
	shb(&f); /* a new section: interfaces start over */
	idb(&f, 101, 0x80 | 20, -100); /* 2^-20 s units, 100 s back */
	epb(&f, 0, 3ull << 20, "raw");
	r = pcapng_open(as_file(&f, f.len));
	expect_packet(r, 1, 0, 1700000000123456000ull, "ethernet frame");
	expect_packet(r, 276, 1, 1700000010123456789ull, "cooked frame!");
	expect_packet(r, 101, 0, 0, "raw"); /* 3 s - 100 s: before the epoch */
	assert_int_equal(next(r).rc, 0);
	assert_int_equal(pcapng_packets(r), 3);
	pcapng_close(r);
}

static void test_two_interfaces_little_endian(void **state)
{
	two_interfaces(false);
}

static void test_two_interfaces_big_endian(void **state)
{
	two_interfaces(true);
}

/* Simple and obsolete Packet Blocks. */
static void test_simple_and_obsolete_blocks(void **state)
{
	struct file f = {.big = false}, b = {.big = false};
	struct pcapng_reader *r;
	struct got g;

	shb(&f);
	idb(&f, 1, 3, 0); /* ms */
	put32(&b, 5);
	put(&b, "hello", 5);
	block(&f, 3, &b);
	b.len = 0;
	put16(&b, 0); /* interface */
	put16(&b, 0); /* drops */
	put32(&b, 0);
	put32(&b, 1500); /* 1.5 s in ms */
	put32(&b, 2);
	put32(&b, 2);
	put(&b, "ok", 2);
	block(&f, 2, &b);
	r = pcapng_open(as_file(&f, f.len));
	g = next(r);
	assert_int_equal(g.rc, 1);
	assert_int_equal(g.p.len, 5);
	assert_int_equal(g.p.ts_ns, 0);
	assert_memory_equal(g.p.data, "hello", 5);
	expect_packet(r, 1, 0, 1500000000ull, "ok");
	assert_int_equal(next(r).rc, 0);
	pcapng_close(r);
}

static void expect_damage(struct file *f, size_t len, const char *why)
{
	struct pcapng_reader *r = pcapng_open(as_file(f, len));
	struct got g;

	do
		g = next(r);
	while (g.rc == 1);
	assert_int_equal(g.rc, -1);
	if (!strstr(g.err, why))
		fail_msg("'%s' does not say '%s'", g.err, why);
	pcapng_close(r);
}

static void test_damage(void **state)
{
	struct file f = {.big = false};
	size_t whole;

	shb(&f);
	idb(&f, 1, -1, 0);
	epb(&f, 0, 1, "frame");
	whole = f.len;
	expect_damage(&f, whole - 3, "ends inside a block");
	expect_damage(&f, whole - 40, "ends inside a block");
	epb(&f, 7, 1, "frame"); /* no interface 7 */
	expect_damage(&f, f.len, "interface 7");
	f.len = whole;
	f.b[whole - 4] ^= 4; /* trailing length differs */
	expect_damage(&f, whole, "two lengths differ");
	f.b[whole - 4] ^= 4;
	f.b[28 + 4 + 4 + 2] = 0xff; /* a block length not a multiple of 4 / huge */
	f.len = 0;
	shb(&f);
	put32(&f, 6);
	put32(&f, 0x7ffffff0);
	put32(&f, 0);
	expect_damage(&f, f.len, "a block of");
	f.len = 0;
	put32(&f, 1); /* an IDB before any section */
	put32(&f, 20);
	put32(&f, 0);
	expect_damage(&f, f.len, "no section header");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_interfaces_little_endian),
		cmocka_unit_test(test_two_interfaces_big_endian),
		cmocka_unit_test(test_simple_and_obsolete_blocks),
		cmocka_unit_test(test_damage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
