// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests for DNS-over-TCP reassembly (user/proto/tcpreasm.c). */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "proto/tcpreasm.h"
#include "testutil.h"

#define MAX_GOT	      16
#define MAX_GOT_BYTES 8192

/* One delivered message, copied out of the callback. */
struct got_msg {
	uint8_t data[MAX_GOT_BYTES];
	size_t len, wire_len;
	bool truncated;
	uint32_t seq; /* tcp_seq of the segment that completed it */
	uint64_t ts_ns;
	uint8_t dir;
};

struct recorder {
	struct got_msg msgs[MAX_GOT];
	size_t n;
};

static void record(void *ctx, const struct pkt_meta *meta, const uint8_t *msg, size_t len,
		   size_t wire_len, bool truncated)
{
	struct recorder *rec = ctx;
	struct got_msg *g;

	assert_true(rec->n < MAX_GOT);
	assert_true(len <= MAX_GOT_BYTES);
	g = &rec->msgs[rec->n++];
	if (len)
		memcpy(g->data, msg, len);
	g->len = len;
	g->wire_len = wire_len;
	g->truncated = truncated;
	g->seq = meta->tcp_seq;
	g->ts_ns = meta->ts_ns;
	g->dir = meta->dir;
}

/* A client (192.0.2.1:port) to server (192.0.2.53:53) segment. */
static struct pkt_meta seg_meta(uint16_t sport, uint32_t seq, uint8_t flags, uint32_t orig_len)
{
	struct pkt_meta m =
		meta_ip4(IPPROTO_TCP, DNSSNOOP_EGRESS, "192.0.2.1", sport, "192.0.2.53", 53);

	m.ts_ns = 1000;
	m.cookie = 42;
	m.tcp_seq = seq;
	m.tcp_flags = flags;
	m.orig_len = orig_len;
	return m;
}

/* Feed a fully captured segment of the default flow (port 40000). */
static void feed(struct tcp_reasm *r, struct recorder *rec, uint32_t seq, uint8_t flags,
		 const void *data, size_t len)
{
	struct pkt_meta m = seg_meta(40000, seq, flags, (uint32_t)len);

	tcp_reasm_feed(r, &m, data, len, record, rec);
}

static struct tcp_reasm_stats stats_of(const struct tcp_reasm *r)
{
	struct tcp_reasm_stats st;

	tcp_reasm_get_stats(r, &st);
	return st;
}

static void fill_pattern(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7);
}

static void test_two_messages_in_one_segment(void **state)
{
	static const uint8_t seg[] = {0, 3, 'a', 'b', 'c', 0, 2, 'x', 'y'};
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};

	feed(r, &rec, 99, DNSSNOOP_TCP_SYN, NULL, 0);
	feed(r, &rec, 100, 0, seg, sizeof(seg));

	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.msgs[0].len, 3);
	assert_int_equal(rec.msgs[0].wire_len, 3);
	assert_false(rec.msgs[0].truncated);
	assert_memory_equal(rec.msgs[0].data, "abc", 3);
	assert_int_equal(rec.msgs[1].len, 2);
	assert_memory_equal(rec.msgs[1].data, "xy", 2);
	assert_int_equal(rec.msgs[1].seq, 100);
	assert_int_equal(stats_of(r).messages, 2);
	assert_int_equal(stats_of(r).gaps, 0);
	assert_int_equal(stats_of(r).active, 1);
	tcp_reasm_free(r);
}

/* Body of 20 bytes; prefix 00 14 split: "00" | "14" + body[0..9] | body[10..19]. */
static void test_message_over_three_segments_prefix_split(void **state)
{
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};
	uint8_t body[20], seg2[11];
	static const uint8_t seg1[] = {0x00};

	fill_pattern(body, sizeof(body), 1);
	seg2[0] = 0x14;
	memcpy(seg2 + 1, body, 10);

	feed(r, &rec, 1999, DNSSNOOP_TCP_SYN, NULL, 0);
	feed(r, &rec, 2000, 0, seg1, sizeof(seg1));
	assert_int_equal(rec.n, 0);
	feed(r, &rec, 2001, 0, seg2, sizeof(seg2));
	assert_int_equal(rec.n, 0);
	feed(r, &rec, 2012, 0, body + 10, 10);

	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.msgs[0].len, 20);
	assert_int_equal(rec.msgs[0].wire_len, 20);
	assert_false(rec.msgs[0].truncated);
	assert_memory_equal(rec.msgs[0].data, body, 20);
	assert_int_equal(rec.msgs[0].seq, 2012); /* the completing segment's meta */
	tcp_reasm_free(r);
}

static void test_retransmission_overlap(void **state)
{
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};
	uint8_t body[10], segA[8];

	fill_pattern(body, sizeof(body), 50);
	segA[0] = 0, segA[1] = 10;
	memcpy(segA + 2, body, 6); /* stream 1000..1007 */

	feed(r, &rec, 999, DNSSNOOP_TCP_SYN, NULL, 0);
	feed(r, &rec, 1000, 0, segA, sizeof(segA));
	/* 1004..1011: 4 bytes seen already (body[2..5]), then body[6..9]. */
	feed(r, &rec, 1004, 0, body + 2, 8);
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.msgs[0].len, 10);
	assert_memory_equal(rec.msgs[0].data, body, 10);

	/* Pure retransmissions deliver nothing and are not gaps. */
	feed(r, &rec, 1004, 0, body + 2, 8);
	feed(r, &rec, 1000, 0, segA, sizeof(segA));
	assert_int_equal(rec.n, 1);
	assert_int_equal(stats_of(r).messages, 1);
	assert_int_equal(stats_of(r).gaps, 0);

	/* The stream continues at 1012. */
	feed(r, &rec, 1012, 0, "\x00\x01Z", 3);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.msgs[1].len, 1);
	assert_int_equal(rec.msgs[1].data[0], 'Z');
	tcp_reasm_free(r);
}

/*
 * A hole is waited for while what follows it fits the hold window; a
 * segment past the window gives the hole up (a gap): the stream resyncs
 * at the first held segment, and at the new one when nothing is held.
 */
static void test_gap_resyncs(void **state)
{
	static const uint8_t partial[] = {0, 10, 1, 2, 3, 4, 5}; /* 100..106 */
	const uint32_t far = 200000;
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};

	feed(r, &rec, 99, DNSSNOOP_TCP_SYN, NULL, 0);
	feed(r, &rec, 100, 0, partial, sizeof(partial));
	/* 107..119 missing: "abc" and "xy" are held. */
	feed(r, &rec, 120, 0,
	     "\x00\x03"
	     "abc",
	     5);
	feed(r, &rec, 125, 0, "\x00\x02xy", 4);
	assert_int_equal(rec.n, 0);
	assert_int_equal(stats_of(r).gaps, 0);
	assert_int_equal(stats_of(r).held_segments, 2);

	/* Far past the window: the hole is given up, then the stream resyncs here. */
	feed(r, &rec, far, 0, "\x00\x01Q", 3);
	assert_int_equal(stats_of(r).gaps, 2);
	assert_int_equal(rec.n, 3);
	assert_memory_equal(rec.msgs[0].data, "abc", 3);
	assert_memory_equal(rec.msgs[1].data, "xy", 2);
	assert_int_equal(rec.msgs[2].len, 1);
	assert_int_equal(rec.msgs[2].data[0], 'Q');
	assert_int_equal(rec.msgs[2].seq, far);
	assert_int_equal(stats_of(r).held_segments, 0);
	assert_int_equal(stats_of(r).held_bytes, 0);

	feed(r, &rec, far + 3, 0, "\x00\x02zz", 4);
	assert_int_equal(rec.n, 4);
	assert_int_equal(stats_of(r).gaps, 2);
	assert_int_equal(stats_of(r).messages, 4);
	tcp_reasm_free(r);
}

/* Ends exactly at the window's edge: held; one byte past it: a gap. */
static void test_hold_window_edge(void **state)
{
	const uint32_t w = TCP_REASM_HOLD_WINDOW;
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};

	feed(r, &rec, 99, DNSSNOOP_TCP_SYN, NULL, 0);
	feed(r, &rec, 100 + w - 3, 0,
	     "\x00\x01"
	     "a",
	     3); /* ends at 100 + w */
	assert_int_equal(stats_of(r).held_segments, 1);
	assert_int_equal(stats_of(r).gaps, 0);
	tcp_reasm_free(r);

	r = tcp_reasm_new(8);
	feed(r, &rec, 99, DNSSNOOP_TCP_SYN, NULL, 0);
	feed(r, &rec, 100 + w - 2, 0,
	     "\x00\x01"
	     "a",
	     3);
	assert_int_equal(stats_of(r).held_segments, 0);
	assert_int_equal(stats_of(r).gaps, 1);
	assert_int_equal(rec.n, 1);
	tcp_reasm_free(r);
}

/* 602 bytes on the wire (prefix 0x0258 = 600), 100 captured. */
static void test_snaplen_truncated_then_clean(void **state)
{
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};
	uint8_t seg[100];
	struct pkt_meta m;

	fill_pattern(seg, sizeof(seg), 9);
	seg[0] = 0x02, seg[1] = 0x58;

	feed(r, &rec, 0, DNSSNOOP_TCP_SYN, NULL, 0);
	m = seg_meta(40000, 1, 0, 602);
	tcp_reasm_feed(r, &m, seg, sizeof(seg), record, &rec);
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.msgs[0].len, 98);
	assert_int_equal(rec.msgs[0].wire_len, 600);
	assert_true(rec.msgs[0].truncated);
	assert_memory_equal(rec.msgs[0].data, seg + 2, 98);

	/* Next message starts at 1 + 602 = 603. */
	feed(r, &rec, 603, 0, "\x00\x05hello", 7);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.msgs[1].len, 5);
	assert_int_equal(rec.msgs[1].wire_len, 5);
	assert_false(rec.msgs[1].truncated);
	assert_memory_equal(rec.msgs[1].data, "hello", 5);
	assert_int_equal(stats_of(r).gaps, 0);
	tcp_reasm_free(r);
}

/* A message spanning segments, the first of which was cut by the snap length. */
static void test_snaplen_truncated_spanning(void **state)
{
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};
	uint8_t seg1[30], seg2[45];
	struct pkt_meta m;

	/* Body of 100: 58 bytes in seg1 (60 on the wire, 30 captured), 42 in seg2. */
	fill_pattern(seg1, sizeof(seg1), 3);
	seg1[0] = 0, seg1[1] = 100;
	fill_pattern(seg2, 42, 77);
	memcpy(seg2 + 42, "\x00\x01Q", 3);

	feed(r, &rec, 0, DNSSNOOP_TCP_SYN, NULL, 0);
	m = seg_meta(40000, 1, 0, 60);
	tcp_reasm_feed(r, &m, seg1, sizeof(seg1), record, &rec);
	assert_int_equal(rec.n, 0);
	m = seg_meta(40000, 61, 0, sizeof(seg2));
	tcp_reasm_feed(r, &m, seg2, sizeof(seg2), record, &rec);

	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.msgs[0].len, 28); /* only the bytes before the hole */
	assert_int_equal(rec.msgs[0].wire_len, 100);
	assert_true(rec.msgs[0].truncated);
	assert_memory_equal(rec.msgs[0].data, seg1 + 2, 28);
	assert_int_equal(rec.msgs[0].seq, 61);
	assert_int_equal(rec.msgs[1].len, 1);
	assert_int_equal(rec.msgs[1].data[0], 'Q');
	assert_false(rec.msgs[1].truncated);
	tcp_reasm_free(r);
}

/* A segment with nothing captured (caplen 0) still finishes a message. */
static void test_uncaptured_segment(void **state)
{
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};
	struct pkt_meta m = seg_meta(40000, 7, 0, 6);

	feed(r, &rec, 0, DNSSNOOP_TCP_SYN, NULL, 0);
	feed(r, &rec, 1, 0,
	     "\x00\x0a"
	     "abcd",
	     6);
	tcp_reasm_feed(r, &m, NULL, 0, record, &rec);
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.msgs[0].len, 4);
	assert_int_equal(rec.msgs[0].wire_len, 10);
	assert_true(rec.msgs[0].truncated);
	assert_memory_equal(rec.msgs[0].data, "abcd", 4);
	assert_int_equal(rec.msgs[0].seq, 7);
	feed(r, &rec, 13, 0, "\x00\x01!", 3);
	assert_int_equal(rec.n, 2);
	assert_int_equal(stats_of(r).gaps, 0);
	tcp_reasm_free(r);
}

/*
 * The uncaptured tail holds a later message's prefix: that message is lost
 * and the next segment is taken as a message boundary.
 */
static void test_snaplen_hides_prefix(void **state)
{
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};
	uint8_t seg[41] = {0, 10};
	struct pkt_meta m;

	fill_pattern(seg + 2, 10, 1);
	seg[12] = 0, seg[13] = 20; /* second message: 22 bytes at 12..33 */
	seg[34] = 0, seg[35] = 5; /* third: 7 bytes at 34..40 */

	feed(r, &rec, 0, DNSSNOOP_TCP_SYN, NULL, 0);
	/* Captured 20: all of message 1, prefix + 6 bytes of message 2. */
	m = seg_meta(40000, 1, 0, sizeof(seg));
	tcp_reasm_feed(r, &m, seg, 20, record, &rec);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.msgs[0].len, 10);
	assert_false(rec.msgs[0].truncated);
	assert_int_equal(rec.msgs[1].len, 6);
	assert_int_equal(rec.msgs[1].wire_len, 20);
	assert_true(rec.msgs[1].truncated);
	assert_memory_equal(rec.msgs[1].data, seg + 14, 6);

	/* Same again, captured 12: message 2's prefix is lost, 2 and 3 are gone. */
	m = seg_meta(40000, 42, 0, sizeof(seg));
	tcp_reasm_feed(r, &m, seg, 12, record, &rec);
	assert_int_equal(rec.n, 3);
	assert_int_equal(rec.msgs[2].len, 10);
	feed(r, &rec, 83, 0, "\x00\x02xy", 4);
	assert_int_equal(rec.n, 4);
	assert_memory_equal(rec.msgs[3].data, "xy", 2);
	assert_int_equal(stats_of(r).messages, 4);
	assert_int_equal(stats_of(r).gaps, 0);
	tcp_reasm_free(r);
}

static void test_fin_frees_flow(void **state)
{
	static const uint8_t seg[] = {0, 3, 'a', 'b', 'c', 0, 4, 'w', 'x'};
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};

	feed(r, &rec, 5000, DNSSNOOP_TCP_SYN, NULL, 0);
	assert_int_equal(stats_of(r).active, 1);
	feed(r, &rec, 5001, DNSSNOOP_TCP_FIN, seg, sizeof(seg));
	assert_int_equal(rec.n, 1); /* the partial "wx" message is dropped */
	assert_memory_equal(rec.msgs[0].data, "abc", 3);
	assert_int_equal(stats_of(r).active, 0);

	/* A later segment on the same addresses is a new flow. */
	feed(r, &rec, 9000, 0, "\x00\x01z", 3);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.msgs[1].data[0], 'z');
	assert_int_equal(stats_of(r).active, 1);
	tcp_reasm_free(r);
}

static void test_rst_frees_flow(void **state)
{
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};

	feed(r, &rec, 1, DNSSNOOP_TCP_SYN, NULL, 0);
	feed(r, &rec, 2, 0,
	     "\x00\x09"
	     "abc",
	     5);
	assert_int_equal(stats_of(r).active, 1);
	feed(r, &rec, 7, DNSSNOOP_TCP_RST, "ignored", 7);
	assert_int_equal(stats_of(r).active, 0);
	assert_int_equal(rec.n, 0);
	tcp_reasm_free(r);
}

static void feed_port(struct tcp_reasm *r, struct recorder *rec, uint16_t sport, uint32_t seq,
		      const void *data, size_t len)
{
	struct pkt_meta m = seg_meta(sport, seq, 0, (uint32_t)len);

	tcp_reasm_feed(r, &m, data, len, record, rec);
}

static void test_eviction_is_lru(void **state)
{
	struct tcp_reasm *r = tcp_reasm_new(2);
	struct recorder rec = {0};

	feed_port(r, &rec, 1001, 1,
		  "\x00\x04"
		  "ab",
		  4); /* A, partial */
	feed_port(r, &rec, 1002, 1,
		  "\x00\x04"
		  "cd",
		  4); /* B, partial */
	feed_port(r, &rec, 1001, 5, NULL, 0); /* pure ACK: A is now the most recent */
	assert_int_equal(stats_of(r).evicted, 0);

	feed_port(r, &rec, 1003, 1,
		  "\x00\x04"
		  "ef",
		  4); /* C evicts B */
	assert_int_equal(stats_of(r).evicted, 1);
	assert_int_equal(stats_of(r).active, 2);

	feed_port(r, &rec, 1001, 5, "gh", 2); /* A completes */
	assert_int_equal(rec.n, 1);
	assert_memory_equal(rec.msgs[0].data, "abgh", 4);

	/* B's continuation starts a new flow (prefix "ij" = 0x696a): nothing out. */
	feed_port(r, &rec, 1002, 5, "ijkl", 4);
	assert_int_equal(rec.n, 1);
	assert_int_equal(stats_of(r).evicted, 2); /* C was least recent */
	assert_int_equal(stats_of(r).active, 2);

	/* A survived, so its stream continues. */
	feed_port(r, &rec, 1001, 7,
		  "\x00\x01"
		  "m",
		  3);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.msgs[1].data[0], 'm');
	tcp_reasm_free(r);
}

static void test_sequence_wraparound(void **state)
{
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};
	static const uint8_t seg1[] = {0, 8, 1, 2, 3}; /* 0xffffffff .. 3 */
	static const uint8_t seg2[] = {4, 5, 6, 7, 8}; /* 4 .. 8 */

	feed(r, &rec, 0xfffffffeu, DNSSNOOP_TCP_SYN, NULL, 0);
	feed(r, &rec, 0xffffffffu, 0, seg1, sizeof(seg1));
	feed(r, &rec, 4, 0, seg2, sizeof(seg2));
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.msgs[0].len, 8);
	assert_memory_equal(rec.msgs[0].data, "\1\2\3\4\5\6\7\x08", 8);

	/* A retransmission from before the wrap is old, not a gap. */
	feed(r, &rec, 0xffffffffu, 0, seg1, sizeof(seg1));
	assert_int_equal(stats_of(r).gaps, 0);
	assert_int_equal(rec.n, 1);

	/* One overlapping the wrap keeps only its new bytes (9..11). */
	feed(r, &rec, 0xfffffffdu, 0, "123456789012\x00\x01q", 15);
	assert_int_equal(stats_of(r).gaps, 0);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.msgs[1].data[0], 'q');
	tcp_reasm_free(r);
}

static void test_mid_stream_start(void **state)
{
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};

	feed(r, &rec, 777777, 0, "\x00\x02hi\x00\x01", 6);
	assert_int_equal(rec.n, 1);
	assert_memory_equal(rec.msgs[0].data, "hi", 2);
	feed(r, &rec, 777783, 0, "!", 1);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.msgs[1].data[0], '!');
	assert_int_equal(stats_of(r).active, 1);
	tcp_reasm_free(r);
}

static void test_zero_length_prefix_skipped(void **state)
{
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};

	feed(r, &rec, 10, 0, "\x00\x00\x00\x02hi", 6);
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.msgs[0].len, 2);
	assert_int_equal(stats_of(r).messages, 1);
	tcp_reasm_free(r);
}

static void test_idle_expiry(void **state)
{
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};
	struct pkt_meta a = seg_meta(1001, 1, 0, 3);
	struct pkt_meta b = seg_meta(1002, 1, 0, 3);

	a.ts_ns = 1000;
	b.ts_ns = 5000;
	tcp_reasm_feed(r, &a, (const uint8_t *)"\x00\x03x", 3, record, &rec);
	tcp_reasm_feed(r, &b, (const uint8_t *)"\x00\x03y", 3, record, &rec);
	assert_int_equal(stats_of(r).active, 2);

	tcp_reasm_expire(r, 6000, 2000); /* A idle 5000, B idle 1000 */
	assert_int_equal(stats_of(r).active, 1);
	tcp_reasm_expire(r, 7000, 2000); /* B idle exactly 2000: kept */
	assert_int_equal(stats_of(r).active, 1);
	tcp_reasm_expire(r, 7001, 2000);
	assert_int_equal(stats_of(r).active, 0);

	/* A's partial message went with it: "ab" now starts a new message. */
	a = seg_meta(1001, 4, 0, 2);
	tcp_reasm_feed(r, &a, (const uint8_t *)"ab", 2, record, &rec);
	assert_int_equal(rec.n, 0);
	tcp_reasm_free(r);
}

/* Same addresses, other direction or socket: separate flows. */
static void test_vantages_are_separate_flows(void **state)
{
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};
	struct pkt_meta eg = seg_meta(40000, 100, 0, 4);
	struct pkt_meta in = seg_meta(40000, 100, 0, 4);
	struct pkt_meta other = seg_meta(40000, 100, 0, 4);

	in.dir = DNSSNOOP_INGRESS;
	other.cookie = 43;
	tcp_reasm_feed(r, &eg,
		       (const uint8_t *)"\x00\x04"
					"ab",
		       4, record, &rec);
	tcp_reasm_feed(r, &in,
		       (const uint8_t *)"\x00\x04"
					"ab",
		       4, record, &rec);
	tcp_reasm_feed(r, &other,
		       (const uint8_t *)"\x00\x04"
					"AB",
		       4, record, &rec);
	assert_int_equal(stats_of(r).active, 3);

	in.tcp_seq = 104, in.orig_len = 2;
	tcp_reasm_feed(r, &in, (const uint8_t *)"cd", 2, record, &rec);
	eg.tcp_seq = 104, eg.orig_len = 2;
	tcp_reasm_feed(r, &eg, (const uint8_t *)"CD", 2, record, &rec);
	assert_int_equal(rec.n, 2);
	assert_memory_equal(rec.msgs[0].data, "abcd", 4);
	assert_int_equal(rec.msgs[0].dir, DNSSNOOP_INGRESS);
	assert_memory_equal(rec.msgs[1].data, "abCD", 4);
	assert_int_equal(rec.msgs[1].dir, DNSSNOOP_EGRESS);
	assert_int_equal(stats_of(r).gaps, 0);
	tcp_reasm_free(r);
}

/* A 3203-byte response in three segments, then a 5000-byte one (buffer grows). */
static void test_large_messages(void **state)
{
	static uint8_t body[5000];
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};
	uint8_t prefix[2] = {3203 >> 8, 3203 & 0xff};

	fill_pattern(body, sizeof(body), 200);
	feed(r, &rec, 0, DNSSNOOP_TCP_SYN, NULL, 0);
	feed(r, &rec, 1, 0, prefix, 2);
	feed(r, &rec, 3, 0, body, 1000);
	feed(r, &rec, 1003, 0, body + 1000, 1500);
	feed(r, &rec, 2503, 0, body + 2500, 703);
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.msgs[0].len, 3203);
	assert_memory_equal(rec.msgs[0].data, body, 3203);

	prefix[0] = 5000 >> 8, prefix[1] = 5000 & 0xff;
	feed(r, &rec, 3206, 0, prefix, 2);
	feed(r, &rec, 3208, 0, body, 2500);
	feed(r, &rec, 5708, 0, body + 2500, 2500);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.msgs[1].len, 5000);
	assert_memory_equal(rec.msgs[1].data, body, 5000);
	tcp_reasm_free(r);
}

static void test_bad_input(void **state)
{
	struct tcp_reasm *r = tcp_reasm_new(4);
	struct recorder rec = {0};
	struct pkt_meta m = seg_meta(40000, 1, 0, 0);

	assert_null(tcp_reasm_new(0));
	tcp_reasm_free(NULL);
	tcp_reasm_feed(NULL, &m, (const uint8_t *)"x", 1, record, &rec);
	tcp_reasm_feed(r, NULL, (const uint8_t *)"x", 1, record, &rec);

	/* NULL payload with a length: nothing captured, nothing on the wire. */
	tcp_reasm_feed(r, &m, NULL, 10, record, &rec);
	assert_int_equal(stats_of(r).active, 0);

	/* Not TCP: ignored. */
	m.proto = IPPROTO_UDP;
	tcp_reasm_feed(r, &m, (const uint8_t *)"\x00\x01x", 3, record, &rec);
	assert_int_equal(stats_of(r).active, 0);

	/* caplen > orig_len: the captured bytes are believed. */
	m.proto = IPPROTO_TCP;
	tcp_reasm_feed(r, &m, (const uint8_t *)"\x00\x01x", 3, record, &rec);
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.msgs[0].data[0], 'x');

	/* No callback: counted all the same. */
	m.tcp_seq = 4;
	tcp_reasm_feed(r, &m, (const uint8_t *)"\x00\x01y", 3, NULL, NULL);
	assert_int_equal(stats_of(r).messages, 2);
	tcp_reasm_free(r);
}

/* Big deliveries, checked against the pattern they were sent with. */
struct big_rec {
	size_t n, len[4], wire_len[4];
	bool truncated[4], intact[4];
	uint8_t seed;
};

static void record_big(void *ctx, const struct pkt_meta *meta, const uint8_t *msg, size_t len,
		       size_t wire_len, bool truncated)
{
	struct big_rec *b = ctx;
	size_t i = b->n++;
	bool intact = true;

	assert_true(i < 4);
	for (size_t j = 0; j < len && intact; j++)
		intact = msg[j] == (uint8_t)(b->seed + j * 7);
	b->len[i] = len;
	b->wire_len[i] = wire_len;
	b->truncated[i] = truncated;
	b->intact[i] = intact;
}

static void assert_big(const struct big_rec *b, size_t i, size_t len)
{
	assert_int_equal(b->len[i], len);
	assert_int_equal(b->wire_len[i], len);
	assert_false(b->truncated[i]);
	assert_true(b->intact[i]);
}

/*
 * The largest message a 2-byte prefix announces, 65535 bytes: in 1460-byte
 * segments (copied into the flow's buffer, grown to its bound), in one
 * segment (no copy), and with the next message's prefix in its last
 * segment. A buffer bound one byte short overflows here (ASan).
 */
static void test_message_65535(void **state)
{
	static uint8_t stream[3 * (2 + 65535) + 3];
	struct tcp_reasm *r = tcp_reasm_new(4);
	struct big_rec b = {.seed = 9};
	size_t n = 0, off;
	uint32_t seq = 1;

	for (int k = 0; k < 3; k++) {
		stream[n++] = 0xff;
		stream[n++] = 0xff;
		fill_pattern(stream + n, 65535, 9);
		n += 65535;
	}
	stream[n++] = 0, stream[n++] = 1, stream[n++] = 9; /* a 1-byte message: 9 */

	feed(r, NULL, 0, DNSSNOOP_TCP_SYN, NULL, 0);
	/* First message: 1460-byte segments. */
	for (off = 0; off < 2 + 65535; off += 1460) {
		size_t len = 2 + 65535 - off < 1460 ? 2 + 65535 - off : 1460;
		struct pkt_meta m = seg_meta(40000, seq + (uint32_t)off, 0, (uint32_t)len);

		tcp_reasm_feed(r, &m, stream + off, len, record_big, &b);
	}
	assert_int_equal(b.n, 1);
	assert_big(&b, 0, 65535);
	off = 2 + 65535;

	/* Second: prefix and body in one segment. */
	{
		struct pkt_meta m = seg_meta(40000, seq + (uint32_t)off, 0, 2 + 65535);

		tcp_reasm_feed(r, &m, stream + off, 2 + 65535, record_big, &b);
		off += 2 + 65535;
	}
	assert_int_equal(b.n, 2);
	assert_big(&b, 1, 65535);

	/* Third: two segments, the second ending with the next message. */
	{
		struct pkt_meta m = seg_meta(40000, seq + (uint32_t)off, 0, 30000);

		tcp_reasm_feed(r, &m, stream + off, 30000, record_big, &b);
		m = seg_meta(40000, seq + (uint32_t)off + 30000, 0, 2 + 65535 - 30000 + 3);
		tcp_reasm_feed(r, &m, stream + off + 30000, 2 + 65535 - 30000 + 3, record_big, &b);
	}
	assert_int_equal(b.n, 4);
	assert_big(&b, 2, 65535);
	assert_int_equal(b.len[3], 1);
	assert_int_equal(stats_of(r).messages, 4);
	assert_int_equal(stats_of(r).gaps, 0);
	tcp_reasm_free(r);
}

/*
 * A segment up to 2^24 bytes behind the stream is an old one (dropped
 * when wholly seen); one byte further behind is a new connection on the
 * same addresses whose SYN was missed: the stream resyncs there.
 */
static void test_stale_window_bound(void **state)
{
	const uint32_t start = 0x40000000u, window = 1u << 24;
	struct tcp_reasm *r = tcp_reasm_new(4);
	struct recorder rec = {0};

	feed(r, &rec, start - 1, DNSSNOOP_TCP_SYN, NULL, 0);
	feed(r, &rec, start, 0,
	     "\x00\x01"
	     "a",
	     3);
	assert_int_equal(rec.n, 1);
	/* Ends exactly window bytes behind the next expected byte: old data. */
	feed(r, &rec, start + 3 - window, 0,
	     "\x00\x01"
	     "b",
	     3);
	assert_int_equal(rec.n, 1);
	assert_int_equal(stats_of(r).gaps, 0);
	/* Starts one byte further back: a new stream, resynchronised. */
	feed(r, &rec, start + 3 - window - 1, 0,
	     "\x00\x01"
	     "c",
	     3);
	assert_int_equal(stats_of(r).gaps, 1);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.msgs[1].data[0], 'c');
	tcp_reasm_free(r);
}

/* A permutation of 0..n-1 from seed (xorshift, Fisher-Yates). */
static void shuffle(size_t *order, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;

	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j, t;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		j = (size_t)(x % (i + 1));
		t = order[i];
		order[i] = order[j], order[j] = t;
	}
}

/*
 * The largest message, 65535 bytes with its prefix, in 1000-byte segments
 * fed in shuffled orders (some segments twice): one message, whole, no
 * gap, nothing left held; then the stream goes on in order.
 */
static void test_shuffled_64k(void **state)
{
	static uint8_t stream[2 + 65535 + 3];
	enum { SEG = 1000, NSEG = (2 + 65535 + SEG - 1) / SEG };
	size_t order[NSEG];

	stream[0] = 0xff, stream[1] = 0xff;
	fill_pattern(stream + 2, 65535, 77);
	stream[2 + 65535] = 0, stream[2 + 65535 + 1] = 1, stream[2 + 65535 + 2] = 77;
	for (uint64_t seed = 1; seed <= 8; seed++) {
		struct tcp_reasm *r = tcp_reasm_new(4);
		struct big_rec b = {.seed = 77};

		feed(r, NULL, 0, DNSSNOOP_TCP_SYN, NULL, 0);
		shuffle(order, NSEG, seed);
		for (size_t k = 0; k < NSEG; k++) {
			size_t off = order[k] * SEG;
			size_t len = 2 + 65535 - off < SEG ? 2 + 65535 - off : SEG;
			struct pkt_meta m = seg_meta(40000, 1 + (uint32_t)off, 0, (uint32_t)len);

			tcp_reasm_feed(r, &m, stream + off, len, record_big, &b);
			if (k % 7 == 3) /* a duplicate, at once */
				tcp_reasm_feed(r, &m, stream + off, len, record_big, &b);
			assert_true(stats_of(r).held_segments <= NSEG);
		}
		assert_int_equal(b.n, 1);
		assert_big(&b, 0, 65535);
		assert_int_equal(stats_of(r).gaps, 0);
		assert_int_equal(stats_of(r).held_segments, 0);
		assert_int_equal(stats_of(r).held_bytes, 0);
		{
			struct pkt_meta m = seg_meta(40000, 1 + 2 + 65535, 0, 3);

			tcp_reasm_feed(r, &m, stream + 2 + 65535, 3, record_big, &b);
		}
		assert_int_equal(b.n, 2);
		assert_int_equal(b.len[1], 1);
		tcp_reasm_free(r);
	}
}

/*
 * Overlaps: bytes already taken win; among held segments the one that
 * starts first supplies the bytes; a copy of a held segment is dropped.
 */
static void test_overlap_rule(void **state)
{
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};
	uint8_t head[12] = {0, 30}, a[10], b[15];

	memset(head + 2, 'h', 10); /* stream 100..111: prefix, body 0..9 */
	memset(a, 'A', sizeof(a)); /* body 20..29 */
	memset(b, 'B', sizeof(b)); /* body 15..29 */
	feed(r, &rec, 99, DNSSNOOP_TCP_SYN, NULL, 0);
	feed(r, &rec, 122, 0, a, sizeof(a));
	feed(r, &rec, 122, 0, a, sizeof(a)); /* the same again */
	feed(r, &rec, 124, 0, a, 5); /* inside it */
	assert_int_equal(stats_of(r).held_segments, 1);
	feed(r, &rec, 117, 0, b, sizeof(b)); /* starts first: its bytes are used */
	assert_int_equal(stats_of(r).held_segments, 2);
	feed(r, &rec, 100, 0, head, sizeof(head));
	assert_int_equal(rec.n, 0); /* 112..116 still missing */
	feed(r, &rec, 110, 0, "xxzzzzzzz", 9); /* 110..111 taken already: 'h' stays */
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.msgs[0].len, 30);
	assert_memory_equal(rec.msgs[0].data, "hhhhhhhhhhzzzzzzzBBBBBBBBBBBBB", 30);
	assert_int_equal(rec.msgs[0].seq, 110); /* the segment that filled the hole */
	assert_int_equal(stats_of(r).held_segments, 0);
	assert_int_equal(stats_of(r).gaps, 0);

	/* Equal starts: the first to come supplies the bytes, the longer one the rest. */
	feed(r, &rec, 136, 0, "CCCCC", 5); /* body 2..6 of a 10-byte message at 132 */
	feed(r, &rec, 136, 0, "DDDDDDDD", 8); /* body 2..9 */
	feed(r, &rec, 132, 0,
	     "\x00\x0a"
	     "hh",
	     4);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.msgs[1].len, 10);
	assert_memory_equal(rec.msgs[1].data, "hhCCCCCDDD", 10);
	assert_int_equal(stats_of(r).gaps, 0);
	tcp_reasm_free(r);
}

/* A hole never filled: the FIN waits for it; when the flow ends, it is a gap. */
static void test_hole_never_filled(void **state)
{
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};
	struct pkt_meta m = seg_meta(40000, 110, DNSSNOOP_TCP_FIN, 4);

	feed(r, &rec, 99, DNSSNOOP_TCP_SYN, NULL, 0);
	feed(r, &rec, 100, 0,
	     "\x00\x08"
	     "abcd",
	     6); /* 106..109 never come */
	tcp_reasm_feed(r, &m, (const uint8_t *)"\x00\x02zz", 4, record, &rec);
	assert_int_equal(stats_of(r).active, 1); /* the FIN came early: kept */
	assert_int_equal(stats_of(r).held_segments, 1);
	assert_int_equal(stats_of(r).gaps, 0);
	tcp_reasm_expire(r, 1000 + 3000, 2000);
	assert_int_equal(stats_of(r).active, 0);
	assert_int_equal(stats_of(r).gaps, 1);
	assert_int_equal(stats_of(r).held_segments, 0);
	assert_int_equal(stats_of(r).held_bytes, 0);
	assert_int_equal(rec.n, 0);

	/* Filled in time, the early FIN ends the flow once its hole is gone. */
	feed(r, &rec, 199, DNSSNOOP_TCP_SYN, NULL, 0);
	m.tcp_seq = 206;
	tcp_reasm_feed(r, &m, (const uint8_t *)"\x00\x02zz", 4, record, &rec);
	feed(r, &rec, 200, 0,
	     "\x00\x04"
	     "abcd",
	     6);
	assert_int_equal(rec.n, 2);
	assert_memory_equal(rec.msgs[1].data, "zz", 2);
	assert_int_equal(stats_of(r).active, 0);
	assert_int_equal(stats_of(r).gaps, 1);
	tcp_reasm_free(r);
}

/* Per flow: at most TCP_REASM_HOLD_FLOW_SEGS segments; past that the oldest hole goes. */
static void test_hold_flow_bound(void **state)
{
	struct tcp_reasm *r = tcp_reasm_new(8);
	struct recorder rec = {0};

	feed(r, &rec, 99, DNSSNOOP_TCP_SYN, NULL, 0);
	for (uint32_t i = 0; i < TCP_REASM_HOLD_FLOW_SEGS; i++)
		feed(r, &rec, 102 + 2 * i, 0, "x", 1); /* a one-byte hole before each */
	assert_int_equal(stats_of(r).held_segments, TCP_REASM_HOLD_FLOW_SEGS);
	assert_int_equal(stats_of(r).gaps, 0);
	feed(r, &rec, 102 + 2 * TCP_REASM_HOLD_FLOW_SEGS, 0, "x", 1);
	assert_int_equal(stats_of(r).gaps, 1); /* the first hole given up, one held taken */
	assert_int_equal(stats_of(r).held_segments, TCP_REASM_HOLD_FLOW_SEGS);
	assert_true(stats_of(r).held_bytes <= TCP_REASM_HOLD_FLOW_BYTES);
	tcp_reasm_free(r);
}

/* In all flows together: at most TCP_REASM_HOLD_TOTAL bytes held. */
static void test_hold_total_bound(void **state)
{
	static uint8_t data[60000];
	const int flows = 300;
	struct tcp_reasm *r = tcp_reasm_new(512);
	struct recorder rec = {0};
	int held_flows = 0;

	for (int i = 0; i < flows; i++) {
		struct pkt_meta m = seg_meta((uint16_t)(1000 + i), 99, DNSSNOOP_TCP_SYN, 0);
		uint64_t before;

		tcp_reasm_feed(r, &m, NULL, 0, record, &rec);
		m = seg_meta((uint16_t)(1000 + i), 1100, 0, sizeof(data)); /* 100..1099 missing */
		before = stats_of(r).held_segments;
		tcp_reasm_feed(r, &m, data, sizeof(data), record, &rec);
		held_flows += stats_of(r).held_segments > before;
		assert_true(stats_of(r).held_bytes <= TCP_REASM_HOLD_TOTAL);
	}
	assert_int_equal(held_flows, TCP_REASM_HOLD_TOTAL / (sizeof(data) + 16 + 24));
	assert_true(held_flows < flows);
	assert_int_equal(stats_of(r).gaps, flows - held_flows);
	assert_int_equal(stats_of(r).active, flows);
	tcp_reasm_free(r);
	assert_int_equal(rec.n, 0);
}

/* Invariants every delivery must satisfy, whatever the input. */
struct invariants {
	uint64_t calls;
	bool ok;
};

static void check_delivery(void *ctx, const struct pkt_meta *meta, const uint8_t *msg, size_t len,
			   size_t wire_len, bool truncated)
{
	struct invariants *inv = ctx;
	volatile uint8_t sink = 0;

	inv->calls++;
	if (len > wire_len || wire_len == 0 || wire_len > 65535 || truncated != (len < wire_len))
		inv->ok = false;
	for (size_t i = 0; i < len; i++)
		sink ^= msg[i]; /* ASan checks the bytes are readable */
	(void)sink;
}

/* Deterministic garbage: random flags, sequence numbers, lengths, flows. */
static void test_random_segments(void **state)
{
	struct tcp_reasm *r = tcp_reasm_new(4);
	struct invariants inv = {0, true};
	uint32_t next[6] = {0};
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	static uint8_t payload[3000];

	for (int i = 0; i < 300000; i++) {
		uint32_t flow, len, cap;
		struct pkt_meta m;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		flow = (uint32_t)(x % 6);
		len = (uint32_t)(x >> 8) % 3000;
		cap = x & 0x100 ? len : (uint32_t)(x >> 20) % (len + 1);
		for (uint32_t j = 0; j < 8 && j < cap; j++)
			payload[(x >> (j * 3)) % cap] = (uint8_t)(x >> (j * 8));
		m = seg_meta((uint16_t)(1000 + flow), next[flow], 0, len);
		m.ts_ns = (uint64_t)i * 1000;
		if ((x >> 40) % 50 == 0)
			m.tcp_flags = (uint8_t)((x >> 48) & 7); /* FIN/SYN/RST mixes */
		if ((x >> 30) % 20 == 0)
			m.tcp_seq += (uint32_t)(x >> 32) % 4000 - 2000; /* gap or overlap */
		tcp_reasm_feed(r, &m, payload, cap, check_delivery, &inv);
		next[flow] = m.tcp_seq + len;
		if (i % 10000 == 0)
			tcp_reasm_expire(r, m.ts_ns, 5000000);
		assert_true(stats_of(r).active <= 4);
	}
	assert_true(inv.ok);
	assert_int_equal(stats_of(r).messages, inv.calls);
	assert_true(inv.calls > 0);
	tcp_reasm_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_messages_in_one_segment),
		cmocka_unit_test(test_message_over_three_segments_prefix_split),
		cmocka_unit_test(test_retransmission_overlap),
		cmocka_unit_test(test_gap_resyncs),
		cmocka_unit_test(test_snaplen_truncated_then_clean),
		cmocka_unit_test(test_snaplen_truncated_spanning),
		cmocka_unit_test(test_snaplen_hides_prefix),
		cmocka_unit_test(test_uncaptured_segment),
		cmocka_unit_test(test_fin_frees_flow),
		cmocka_unit_test(test_rst_frees_flow),
		cmocka_unit_test(test_eviction_is_lru),
		cmocka_unit_test(test_sequence_wraparound),
		cmocka_unit_test(test_mid_stream_start),
		cmocka_unit_test(test_zero_length_prefix_skipped),
		cmocka_unit_test(test_idle_expiry),
		cmocka_unit_test(test_vantages_are_separate_flows),
		cmocka_unit_test(test_large_messages),
		cmocka_unit_test(test_hold_window_edge),
		cmocka_unit_test(test_shuffled_64k),
		cmocka_unit_test(test_overlap_rule),
		cmocka_unit_test(test_hole_never_filled),
		cmocka_unit_test(test_hold_flow_bound),
		cmocka_unit_test(test_hold_total_bound),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_random_segments),
		cmocka_unit_test(test_message_65535),
		cmocka_unit_test(test_stale_window_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
