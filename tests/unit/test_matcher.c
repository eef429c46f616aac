// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for query/response matching (user/analysis/matcher.c). Messages are
 * built by hand (no dns_parse): only the fields the matcher reads are set.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "analysis/matcher.h"
#include "testutil.h"

#define MAX_REPORTS 16

struct report {
	uint64_t query_ts;
	uint16_t sport;
	uint16_t id; /* first two bytes of the query copy */
	size_t len;
	bool truncated;
	uint64_t waited_ns;
	uint8_t dir;
	uint8_t bytes[MATCHER_MAX_QUERY_BYTES];
};

struct reports {
	struct report r[MAX_REPORTS];
	size_t n;
};

static void on_unanswered(void *ctx, const struct pkt_meta *meta, const uint8_t *query, size_t len,
			  bool truncated, uint64_t waited_ns)
{
	struct reports *rs = ctx;
	struct report *r;

	assert_true(rs->n < MAX_REPORTS);
	assert_true(len <= MATCHER_MAX_QUERY_BYTES);
	r = &rs->r[rs->n++];
	r->query_ts = meta->ts_ns;
	r->sport = meta->sport;
	r->id = len >= 2 ? (uint16_t)(query[0] << 8 | query[1]) : 0;
	r->len = len;
	r->truncated = truncated;
	r->waited_ns = waited_ns;
	r->dir = meta->dir;
	memcpy(r->bytes, query, len);
}

/* Report i is of the query with this id, and says it waited waited_ns. */
static void assert_report(const struct reports *rs, size_t i, uint16_t id, uint64_t waited_ns)
{
	assert_int_equal(rs->r[i].id, id);
	assert_int_equal(rs->r[i].waited_ns, waited_ns);
}

/* A message plus the wire bytes its buf points at. */
struct test_msg {
	struct dns_msg msg;
	uint8_t wire[1024];
};

static void make_msg(struct test_msg *t, uint16_t id, const char *qname, uint16_t qtype,
		     bool response, size_t wire_len)
{
	memset(t, 0, sizeof(*t));
	t->wire[0] = (uint8_t)(id >> 8);
	t->wire[1] = (uint8_t)id;
	for (size_t i = 2; i < sizeof(t->wire); i++)
		t->wire[i] = (uint8_t)(i * 13);
	t->msg.buf = t->wire;
	t->msg.len = (uint16_t)wire_len;
	t->msg.id = id;
	t->msg.flags = response ? DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA : DNS_FLAG_RD;
	t->msg.qdcount = 1;
	t->msg.has_question = true;
	t->msg.qtype = qtype;
	t->msg.qclass = 1;
	t->msg.qname_len = (uint16_t)strlen(qname);
	memcpy(t->msg.qname, qname, t->msg.qname_len);
}

#define CLIENT_IP "10.0.0.2"
#define SERVER_IP "10.0.0.53"

/* Query: client:cport -> server:53. */
static struct pkt_meta query_meta(uint64_t ts, uint8_t dir, uint16_t cport)
{
	struct pkt_meta m = meta_ip4(IPPROTO_UDP, dir, CLIENT_IP, cport, SERVER_IP, 53);

	m.ts_ns = ts;
	return m;
}

/* Response: server:53 -> client:cport. */
static struct pkt_meta response_meta(uint64_t ts, uint8_t dir, uint16_t cport)
{
	struct pkt_meta m = meta_ip4(IPPROTO_UDP, dir, SERVER_IP, 53, CLIENT_IP, cport);

	m.ts_ns = ts;
	return m;
}

static struct matcher_stats stats_of(const struct matcher *m)
{
	struct matcher_stats st;

	matcher_get_stats(m, &st);
	return st;
}

/* Returns matcher_query()'s verdict: true for a retransmission. */
static bool add_query(struct matcher *m, struct reports *rs, uint64_t ts, uint8_t dir,
		      uint16_t cport, uint16_t id, const char *qname)
{
	static struct test_msg q;
	struct pkt_meta meta = query_meta(ts, dir, cport);

	make_msg(&q, id, qname, 1, false, 40);
	return matcher_query(m, &meta, &q.msg, on_unanswered, rs);
}

/* Returns the latency, or UINT64_MAX when the response matched nothing. */
static uint64_t answer(struct matcher *m, uint64_t ts, uint8_t dir, uint16_t cport, uint16_t id,
		       const char *qname, uint16_t qtype)
{
	static struct test_msg r;
	struct pkt_meta meta = response_meta(ts, dir, cport);
	uint64_t latency = 12345;

	make_msg(&r, id, qname, qtype, true, 56);
	if (!matcher_response(m, &meta, &r.msg, &latency)) {
		assert_int_equal(latency, 12345); /* untouched */
		return UINT64_MAX;
	}
	return latency;
}

static void test_latency(void **state)
{
	struct matcher *m = matcher_new(5000000000ULL, 64);
	struct reports rs = {0};

	add_query(m, &rs, 1000000, DNSSNOOP_EGRESS, 40001, 0x1234, "example.com");
	assert_int_equal(stats_of(m).pending, 1);
	assert_int_equal(answer(m, 1250000, DNSSNOOP_INGRESS, 40001, 0x1234, "example.com", 1),
			 250000);
	assert_int_equal(stats_of(m).matched, 1);
	assert_int_equal(stats_of(m).pending, 0);
	/* A duplicate response finds nothing. */
	assert_int_equal(answer(m, 1260000, DNSSNOOP_INGRESS, 40001, 0x1234, "example.com", 1),
			 UINT64_MAX);
	assert_int_equal(stats_of(m).unmatched, 1);
	assert_int_equal(rs.n, 0);
	matcher_free(m);
}

/*
 * Both ends on this host, same cookie (as offline): the client's copy
 * (egress query at 1000, ingress response at 5200) and the server's copy
 * (ingress query at 1100, egress response at 5100) pair up by vantage.
 */
static void test_vantage(void **state)
{
	struct matcher *m = matcher_new(5000000000ULL, 64);
	struct reports rs = {0};

	add_query(m, &rs, 1000, DNSSNOOP_EGRESS, 40002, 7, "a.example");
	add_query(m, &rs, 1100, DNSSNOOP_INGRESS, 40002, 7, "a.example");
	assert_int_equal(stats_of(m).pending, 2);
	assert_int_equal(stats_of(m).retransmits, 0);

	/* Server's egress response: the server's (ingress) query, 5100 - 1100. */
	assert_int_equal(answer(m, 5100, DNSSNOOP_EGRESS, 40002, 7, "a.example", 1), 4000);
	/* Client's ingress response: the client's (egress) query, 5200 - 1000. */
	assert_int_equal(answer(m, 5200, DNSSNOOP_INGRESS, 40002, 7, "a.example", 1), 4200);
	assert_int_equal(stats_of(m).matched, 2);
	assert_int_equal(stats_of(m).pending, 0);

	/*
	 * Live (a socket cookie): an egress query is not answered by an
	 * egress response, only by the ingress one.
	 */
	{
		struct test_msg q, r;
		struct pkt_meta mq = query_meta(6000, DNSSNOOP_EGRESS, 40002);
		struct pkt_meta mr = response_meta(6100, DNSSNOOP_EGRESS, 40002);
		uint64_t latency = 0;

		mq.cookie = mr.cookie = 77;
		make_msg(&q, 8, "a.example", 1, false, 40);
		make_msg(&r, 8, "a.example", 1, true, 56);
		matcher_query(m, &mq, &q.msg, on_unanswered, &rs);
		assert_false(matcher_response(m, &mr, &r.msg, &latency));
		mr.dir = DNSSNOOP_INGRESS;
		mr.ts_ns = 6200;
		assert_true(matcher_response(m, &mr, &r.msg, &latency));
		assert_int_equal(latency, 200);
	}

	/*
	 * A file (no cookie) that saw only one side of a local exchange: both
	 * copies arrive in the same direction, and still pair up.
	 */
	add_query(m, &rs, 6500, DNSSNOOP_INGRESS, 40002, 10, "a.example");
	assert_int_equal(answer(m, 6600, DNSSNOOP_INGRESS, 40002, 10, "a.example", 1), 100);

	/* Offline: direction unknown on both sides still matches. */
	add_query(m, &rs, 7000, DNSSNOOP_DIR_UNKNOWN, 40002, 9, "a.example");
	assert_int_equal(answer(m, 7300, DNSSNOOP_DIR_UNKNOWN, 40002, 9, "a.example", 1), 300);
	matcher_free(m);
}

static void test_key_fields(void **state)
{
	struct matcher *m = matcher_new(5000000000ULL, 64);
	struct reports rs = {0};
	struct test_msg r;
	struct pkt_meta meta;

	add_query(m, &rs, 100, DNSSNOOP_EGRESS, 40003, 77, "Example.COM");
	/* Wrong id, name, type, port: no match, and the query stays. */
	assert_int_equal(answer(m, 200, DNSSNOOP_INGRESS, 40003, 78, "example.com", 1), UINT64_MAX);
	assert_int_equal(answer(m, 200, DNSSNOOP_INGRESS, 40003, 77, "example.org", 1), UINT64_MAX);
	assert_int_equal(answer(m, 200, DNSSNOOP_INGRESS, 40003, 77, "example.co", 1), UINT64_MAX);
	assert_int_equal(answer(m, 200, DNSSNOOP_INGRESS, 40003, 77, "example.com", 28),
			 UINT64_MAX);
	assert_int_equal(answer(m, 200, DNSSNOOP_INGRESS, 40004, 77, "example.com", 1), UINT64_MAX);

	/* Another socket (cookie) or another server address: no match. */
	make_msg(&r, 77, "example.com", 1, true, 50);
	meta = response_meta(200, DNSSNOOP_INGRESS, 40003);
	meta.cookie = 99;
	assert_false(matcher_response(m, &meta, &r.msg, NULL));
	meta = response_meta(200, DNSSNOOP_INGRESS, 40003);
	meta.saddr[3] = 54;
	assert_false(matcher_response(m, &meta, &r.msg, NULL));
	/* Nor over TCP. */
	meta = response_meta(200, DNSSNOOP_INGRESS, 40003);
	meta.proto = IPPROTO_TCP;
	assert_false(matcher_response(m, &meta, &r.msg, NULL));
	assert_int_equal(stats_of(m).unmatched, 8);
	assert_int_equal(stats_of(m).pending, 1);

	/* Case differs, bytes past the IPv4 address differ: still the same query. */
	meta = response_meta(350, DNSSNOOP_INGRESS, 40003);
	meta.saddr[7] = 0xee;
	make_msg(&r, 77, "eXAMPLE.com", 1, true, 50);
	assert_true(matcher_response(m, &meta, &r.msg, NULL)); /* NULL latency is fine */
	assert_int_equal(stats_of(m).matched, 1);
	assert_int_equal(stats_of(m).pending, 0);
	matcher_free(m);
}

/*
 * Case folding at every length and lane: a name in one case matches the
 * same name in the other; the bytes next to the letters ('@' '[' '`' '{')
 * are not letters and stay distinct; past the kept prefix (256 bytes) the
 * name still counts.
 */
static void test_case_folding(void **state)
{
	static const char alphabet[] = "aZ@[`{mQ.z-A";
	struct matcher *m = matcher_new(5000000000ULL, 64);
	struct reports rs = {0};
	char lower[301], upper[301], other[301];

	for (size_t len = 1; len <= 300; len++) {
		for (size_t i = 0; i < len; i++) {
			char c = alphabet[(i * 7 + len) % (sizeof(alphabet) - 1)];

			lower[i] = c >= 'A' && c <= 'Z' ? c + 32 : c;
			upper[i] = c >= 'a' && c <= 'z' ? c - 32 : c;
		}
		lower[len] = upper[len] = 0;
		memcpy(other, lower, len + 1);
		other[len - 1] = other[len - 1] == '@' ? '`' : '@'; /* one case-folding near miss */
		add_query(m, &rs, 100, DNSSNOOP_EGRESS, 40009, (uint16_t)len, lower);
		assert_int_equal(answer(m, 200, DNSSNOOP_INGRESS, 40009, (uint16_t)len, other, 1),
				 UINT64_MAX);
		assert_int_equal(answer(m, 300, DNSSNOOP_INGRESS, 40009, (uint16_t)len, upper, 1),
				 200);
	}
	assert_int_equal(stats_of(m).matched, 300);
	assert_int_equal(stats_of(m).unmatched, 300);
	assert_int_equal(rs.n, 0);
	matcher_free(m);
}

static void test_timeout_expiry(void **state)
{
	struct matcher *m = matcher_new(1000, 64);
	struct reports rs = {0};

	add_query(m, &rs, 100, DNSSNOOP_EGRESS, 40010, 1, "one.example");
	add_query(m, &rs, 200, DNSSNOOP_EGRESS, 40010, 2, "two.example");
	add_query(m, &rs, 300, DNSSNOOP_EGRESS, 40010, 3, "three.example");
	add_query(m, &rs, 1500, DNSSNOOP_EGRESS, 40010, 4, "four.example");

	matcher_expire(m, 1250, on_unanswered, &rs);
	assert_int_equal(rs.n, 2);
	assert_report(&rs, 0, 1, 1150);
	assert_int_equal(rs.r[0].query_ts, 100);
	assert_int_equal(rs.r[0].len, 40);
	assert_false(rs.r[0].truncated);
	assert_report(&rs, 1, 2, 1050);
	assert_int_equal(stats_of(m).pending, 2);
	assert_int_equal(stats_of(m).unanswered, 2);

	matcher_expire(m, 1300, on_unanswered, &rs); /* age exactly 1000: not yet */
	assert_int_equal(rs.n, 2);
	matcher_expire(m, 1301, on_unanswered, &rs);
	assert_int_equal(rs.n, 3);
	assert_report(&rs, 2, 3, 1001);

	/* The survivor is still answerable. */
	assert_int_equal(answer(m, 1600, DNSSNOOP_INGRESS, 40010, 4, "four.example", 1), 100);
	assert_int_equal(stats_of(m).pending, 0);
	assert_int_equal(stats_of(m).unanswered, 3);
	matcher_free(m);
}

static void test_retransmit(void **state)
{
	struct matcher *m = matcher_new(1000000, 64);
	struct reports rs = {0};

	assert_false(add_query(m, &rs, 100, DNSSNOOP_EGRESS, 40020, 5, "r.example"));
	assert_true(add_query(m, &rs, 150, DNSSNOOP_EGRESS, 40020, 5, "R.example"));
	assert_true(add_query(m, &rs, 180, DNSSNOOP_EGRESS, 40020, 5, "r.example"));
	/* Another id is another query. */
	assert_false(add_query(m, &rs, 190, DNSSNOOP_EGRESS, 40020, 6, "r.example"));
	assert_int_equal(stats_of(m).queries, 2);
	assert_int_equal(stats_of(m).retransmits, 2);
	assert_int_equal(stats_of(m).pending, 2);
	/* Latency counts from the first send. */
	assert_int_equal(answer(m, 400, DNSSNOOP_INGRESS, 40020, 5, "r.example", 1), 300);
	matcher_free(m);
}

static void test_capacity_eviction_order(void **state)
{
	struct matcher *m = matcher_new(1000000, 3);
	struct reports rs = {0};

	add_query(m, &rs, 10, DNSSNOOP_EGRESS, 40030, 1, "q.example");
	add_query(m, &rs, 20, DNSSNOOP_EGRESS, 40030, 2, "q.example");
	add_query(m, &rs, 30, DNSSNOOP_EGRESS, 40030, 3, "q.example");
	assert_int_equal(answer(m, 35, DNSSNOOP_INGRESS, 40030, 2, "q.example", 1), 15);
	add_query(m, &rs, 40, DNSSNOOP_EGRESS, 40030, 4, "q.example"); /* takes 2's slot */
	assert_int_equal(rs.n, 0);

	add_query(m, &rs, 50, DNSSNOOP_EGRESS, 40030, 5, "q.example"); /* full: 1 goes */
	assert_int_equal(rs.n, 1);
	assert_report(&rs, 0, 1, 40);
	add_query(m, &rs, 60, DNSSNOOP_EGRESS, 40030, 6, "q.example"); /* then 3 */
	assert_int_equal(rs.n, 2);
	assert_report(&rs, 1, 3, 30);
	assert_int_equal(stats_of(m).pending, 3);
	assert_int_equal(stats_of(m).unanswered, 2);
	assert_int_equal(stats_of(m).queries, 6);

	/* 4, 5 and 6 are still there. */
	assert_int_equal(answer(m, 70, DNSSNOOP_INGRESS, 40030, 5, "q.example", 1), 20);
	assert_int_equal(answer(m, 70, DNSSNOOP_INGRESS, 40030, 4, "q.example", 1), 30);
	assert_int_equal(answer(m, 70, DNSSNOOP_INGRESS, 40030, 6, "q.example", 1), 10);
	assert_int_equal(answer(m, 70, DNSSNOOP_INGRESS, 40030, 1, "q.example", 1), UINT64_MAX);
	matcher_free(m);
}

static void test_flush(void **state)
{
	struct matcher *m = matcher_new(1000000, 8);
	struct reports rs = {0};

	add_query(m, &rs, 500, DNSSNOOP_EGRESS, 40040, 11, "f.example");
	add_query(m, &rs, 700, DNSSNOOP_INGRESS, 40040, 12, "f.example");
	add_query(m, &rs, 900, DNSSNOOP_EGRESS, 40041, 13, "f.example");
	matcher_flush(m, 1000, on_unanswered, &rs);
	assert_int_equal(rs.n, 3);
	assert_report(&rs, 0, 11, 500);
	assert_report(&rs, 1, 12, 300);
	assert_int_equal(rs.r[1].dir, DNSSNOOP_INGRESS);
	assert_report(&rs, 2, 13, 100);
	assert_int_equal(rs.r[2].sport, 40041);
	assert_int_equal(stats_of(m).pending, 0);
	assert_int_equal(stats_of(m).unanswered, 3);

	/* Empty now: flushing again reports nothing, the table is reusable. */
	matcher_flush(m, 2000, on_unanswered, &rs);
	assert_int_equal(rs.n, 3);
	add_query(m, &rs, 2100, DNSSNOOP_EGRESS, 40040, 11, "f.example");
	assert_int_equal(stats_of(m).pending, 1);
	matcher_free(m);
}

static void test_query_copy(void **state)
{
	struct matcher *m = matcher_new(1000000, 8);
	struct reports rs = {0};
	static struct test_msg big, small;
	struct pkt_meta meta = query_meta(100, DNSSNOOP_EGRESS, 40050);

	make_msg(&big, 21, "big.example", 16, false, 600);
	matcher_query(m, &meta, &big.msg, on_unanswered, &rs);
	meta.sport = 40051;
	make_msg(&small, 22, "small.example", 1, false, 33);
	matcher_query(m, &meta, &small.msg, on_unanswered, &rs);

	/* The caller's buffers may be reused once matcher_query returns. */
	memset(big.wire, 0, sizeof(big.wire));
	make_msg(&big, 21, "big.example", 16, false, 600);
	make_msg(&small, 22, "small.example", 1, false, 33);
	matcher_flush(m, 200, on_unanswered, &rs);
	assert_int_equal(rs.n, 2);
	assert_int_equal(rs.r[0].len, MATCHER_MAX_QUERY_BYTES);
	assert_true(rs.r[0].truncated);
	assert_memory_equal(rs.r[0].bytes, big.wire, MATCHER_MAX_QUERY_BYTES);
	assert_int_equal(rs.r[1].len, 33);
	assert_false(rs.r[1].truncated);
	assert_memory_equal(rs.r[1].bytes, small.wire, 33);
	matcher_free(m);
}

static void test_clock_going_backwards(void **state)
{
	struct matcher *m = matcher_new(1000, 8);
	struct reports rs = {0};

	/* Response stamped before its query: latency 0, not a huge number. */
	add_query(m, &rs, 5000, DNSSNOOP_EGRESS, 40060, 1, "t.example");
	assert_int_equal(answer(m, 4990, DNSSNOOP_INGRESS, 40060, 1, "t.example", 1), 0);

	/*
	 * Clock stepped back 9900 (more than the timeout): the stranded query
	 * expires (waited 0) and does not hold back the one behind it.
	 */
	add_query(m, &rs, 10000, DNSSNOOP_EGRESS, 40060, 2, "t.example");
	add_query(m, &rs, 100, DNSSNOOP_EGRESS, 40060, 3, "t.example");
	matcher_expire(m, 500, on_unanswered, &rs);
	assert_int_equal(rs.n, 1);
	assert_report(&rs, 0, 2, 0);
	matcher_expire(m, 1101, on_unanswered, &rs);
	assert_int_equal(rs.n, 2);
	assert_report(&rs, 1, 3, 1001);

	/* Eviction with a newer query stamped earlier: waited clamps at 0. */
	matcher_free(m);
	m = matcher_new(1000000, 1);
	add_query(m, &rs, 800, DNSSNOOP_EGRESS, 40060, 4, "t.example");
	add_query(m, &rs, 700, DNSSNOOP_EGRESS, 40060, 5, "t.example");
	assert_int_equal(rs.n, 3);
	assert_report(&rs, 2, 4, 0);
	matcher_free(m);
}

static void test_bad_input(void **state)
{
	struct matcher *m = matcher_new(1000, 4);
	struct reports rs = {0};
	struct test_msg q;
	struct pkt_meta meta = query_meta(100, DNSSNOOP_EGRESS, 40070);

	assert_null(matcher_new(1000, 0));
	matcher_free(NULL);

	/* No question: not recorded, and a response without one cannot match. */
	make_msg(&q, 1, "x.example", 1, false, 20);
	q.msg.has_question = false;
	matcher_query(m, &meta, &q.msg, on_unanswered, &rs);
	assert_int_equal(stats_of(m).queries, 0);
	assert_int_equal(stats_of(m).pending, 0);
	q.msg.has_question = true;
	matcher_query(m, &meta, &q.msg, on_unanswered, &rs);
	meta = response_meta(200, DNSSNOOP_INGRESS, 40070);
	q.msg.has_question = false;
	assert_false(matcher_response(m, &meta, &q.msg, NULL));
	assert_int_equal(stats_of(m).unmatched, 1);

	/* NULL buf, absurd qname_len, NULL callback: no crash. */
	make_msg(&q, 2, "y.example", 1, false, 20);
	q.msg.buf = NULL;
	q.msg.qname_len = 65535;
	meta = query_meta(300, DNSSNOOP_EGRESS, 40071);
	matcher_query(m, &meta, &q.msg, NULL, NULL);
	matcher_query(NULL, &meta, &q.msg, NULL, NULL);
	matcher_query(m, NULL, &q.msg, NULL, NULL);
	matcher_query(m, &meta, NULL, NULL, NULL);
	assert_false(matcher_response(NULL, &meta, &q.msg, NULL));
	assert_int_equal(stats_of(m).pending, 2);
	matcher_expire(m, 100000, NULL, NULL);
	assert_int_equal(stats_of(m).pending, 0);
	assert_int_equal(stats_of(m).unanswered, 2);
	matcher_expire(NULL, 0, NULL, NULL);
	matcher_flush(NULL, 0, NULL, NULL);
	matcher_free(m);
}

/*
 * Near-collisions of the DNS id on one socket: two queries for the same
 * name outstanding together whose ids differ only in the high byte
 * (0x0101 / 0x0201, 0x00ff / 0xffff) or only in the low byte are two
 * queries, and each response finds its own (answered in either order).
 * A key that kept only one byte of the id would take the second query
 * for a retransmission and leave a response unmatched.
 */
static void test_ids_differing_in_one_byte(void **state)
{
	static const uint16_t pairs[][2] = {
		{0x0101, 0x0201}, {0x00ff, 0xffff}, {0x1234, 0x1235},
		{0x8000, 0x0000}, {0xff00, 0xff01},
	};
	struct matcher *m = matcher_new(5000000000ULL, 64);
	struct reports rs = {0};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		uint64_t t = 1000000 * (i + 1);
		uint16_t a = pairs[i][0], b = pairs[i][1];

		add_query(m, &rs, t, DNSSNOOP_EGRESS, 40100, a, "same.example");
		add_query(m, &rs, t + 10, DNSSNOOP_EGRESS, 40100, b, "same.example");
		assert_int_equal(stats_of(m).pending, 2);
		assert_int_equal(stats_of(m).retransmits, 0);
		/* Odd pairs answered in order, even ones the later query first. */
		if (i % 2) {
			assert_int_equal(
				answer(m, t + 500, DNSSNOOP_INGRESS, 40100, a, "same.example", 1),
				500);
			assert_int_equal(
				answer(m, t + 700, DNSSNOOP_INGRESS, 40100, b, "same.example", 1),
				690);
		} else {
			assert_int_equal(
				answer(m, t + 500, DNSSNOOP_INGRESS, 40100, b, "same.example", 1),
				490);
			assert_int_equal(
				answer(m, t + 700, DNSSNOOP_INGRESS, 40100, a, "same.example", 1),
				700);
		}
		assert_int_equal(stats_of(m).pending, 0);
	}
	assert_int_equal(stats_of(m).queries, 10);
	assert_int_equal(stats_of(m).matched, 10);
	assert_int_equal(stats_of(m).unmatched, 0);

	/* Only one of the pair pending: the other id finds nothing. */
	add_query(m, &rs, 9000000, DNSSNOOP_EGRESS, 40100, 0x0101, "same.example");
	assert_int_equal(answer(m, 9000100, DNSSNOOP_INGRESS, 40100, 0x0201, "same.example", 1),
			 UINT64_MAX);
	assert_int_equal(answer(m, 9000100, DNSSNOOP_INGRESS, 40100, 0x0001, "same.example", 1),
			 UINT64_MAX);
	assert_int_equal(answer(m, 9000100, DNSSNOOP_INGRESS, 40100, 0x0100, "same.example", 1),
			 UINT64_MAX);
	assert_int_equal(answer(m, 9000200, DNSSNOOP_INGRESS, 40100, 0x0101, "same.example", 1),
			 200);
	assert_int_equal(rs.n, 0);
	matcher_free(m);
}

/*
 * The same name and id outstanding on two sockets at once: two client
 * ports (offline, no cookie), and two socket cookies on the same address
 * and port (live: one socket per network namespace). Each response goes
 * to its own query.
 */
static void test_same_id_two_sockets(void **state)
{
	struct matcher *m = matcher_new(5000000000ULL, 64);
	struct reports rs = {0};
	static struct test_msg q, r;

	add_query(m, &rs, 1000, DNSSNOOP_EGRESS, 40200, 0x4242, "two.example");
	add_query(m, &rs, 1100, DNSSNOOP_EGRESS, 40201, 0x4242, "two.example");
	assert_int_equal(stats_of(m).pending, 2);
	assert_int_equal(stats_of(m).retransmits, 0);
	assert_int_equal(answer(m, 2000, DNSSNOOP_INGRESS, 40201, 0x4242, "two.example", 1), 900);
	assert_int_equal(answer(m, 2500, DNSSNOOP_INGRESS, 40200, 0x4242, "two.example", 1), 1500);

	/* Two cookies, one 5-tuple. */
	make_msg(&q, 0x4343, "two.example", 1, false, 40);
	make_msg(&r, 0x4343, "two.example", 1, true, 56);
	for (uint64_t cookie = 1; cookie <= 2; cookie++) {
		struct pkt_meta mq = query_meta(3000 + cookie * 100, DNSSNOOP_EGRESS, 40202);

		mq.cookie = cookie;
		matcher_query(m, &mq, &q.msg, on_unanswered, &rs);
	}
	assert_int_equal(stats_of(m).pending, 2);
	for (uint64_t cookie = 2; cookie >= 1; cookie--) {
		struct pkt_meta mr = response_meta(4000, DNSSNOOP_INGRESS, 40202);
		uint64_t latency = 0;

		mr.cookie = cookie;
		assert_true(matcher_response(m, &mr, &r.msg, &latency));
		assert_int_equal(latency, 4000 - (3000 + cookie * 100));
	}
	assert_int_equal(stats_of(m).matched, 4);
	assert_int_equal(stats_of(m).pending, 0);
	assert_int_equal(stats_of(m).retransmits, 0);
	matcher_free(m);
}

/*
 * Retransmissions: the same query sent again before the answer is one
 * query (latency from the first send); next to it a query whose id
 * differs in the high byte stays a query of its own; a second response
 * to the retransmitted query finds nothing.
 */
static void test_retransmit_next_to_near_collision(void **state)
{
	struct matcher *m = matcher_new(5000000000ULL, 64);
	struct reports rs = {0};

	add_query(m, &rs, 100, DNSSNOOP_EGRESS, 40300, 0x0101, "rt.example");
	add_query(m, &rs, 200, DNSSNOOP_EGRESS, 40300, 0x0201, "rt.example");
	add_query(m, &rs, 300, DNSSNOOP_EGRESS, 40300, 0x0101, "rt.example"); /* resent */
	add_query(m, &rs, 400, DNSSNOOP_EGRESS, 40300, 0x0201, "RT.example"); /* resent */
	assert_int_equal(stats_of(m).queries, 2);
	assert_int_equal(stats_of(m).retransmits, 2);
	assert_int_equal(stats_of(m).pending, 2);
	assert_int_equal(answer(m, 1000, DNSSNOOP_INGRESS, 40300, 0x0101, "rt.example", 1), 900);
	assert_int_equal(answer(m, 1100, DNSSNOOP_INGRESS, 40300, 0x0101, "rt.example", 1),
			 UINT64_MAX); /* the answer to the copy: nothing left */
	assert_int_equal(stats_of(m).pending, 1);
	assert_int_equal(answer(m, 1200, DNSSNOOP_INGRESS, 40300, 0x0201, "rt.example", 1), 1000);
	assert_int_equal(stats_of(m).matched, 2);
	assert_int_equal(stats_of(m).unmatched, 1);
	matcher_flush(m, 2000, on_unanswered, &rs);
	assert_int_equal(rs.n, 0);
	matcher_free(m);
}

/*
 * A response with the right id but another question (name, type or
 * class) answers nothing; two queries with one id and different names
 * on one socket are two queries, each answered by its own response.
 */
static void test_same_id_other_question(void **state)
{
	struct matcher *m = matcher_new(5000000000ULL, 64);
	struct reports rs = {0};
	static struct test_msg r;
	struct pkt_meta meta = response_meta(500, DNSSNOOP_INGRESS, 40400);

	add_query(m, &rs, 100, DNSSNOOP_EGRESS, 40400, 7, "q1.example");
	add_query(m, &rs, 110, DNSSNOOP_EGRESS, 40400, 7, "q2.example");
	assert_int_equal(stats_of(m).queries, 2);
	assert_int_equal(stats_of(m).retransmits, 0);
	assert_int_equal(answer(m, 500, DNSSNOOP_INGRESS, 40400, 7, "q3.example", 1), UINT64_MAX);
	assert_int_equal(answer(m, 500, DNSSNOOP_INGRESS, 40400, 7, "q1.example", 28), UINT64_MAX);
	make_msg(&r, 7, "q1.example", 1, true, 56);
	r.msg.qclass = 3; /* CH */
	assert_false(matcher_response(m, &meta, &r.msg, NULL));
	assert_int_equal(stats_of(m).unmatched, 3);
	assert_int_equal(stats_of(m).pending, 2);
	assert_int_equal(answer(m, 600, DNSSNOOP_INGRESS, 40400, 7, "q2.example", 1), 490);
	assert_int_equal(answer(m, 700, DNSSNOOP_INGRESS, 40400, 7, "q1.example", 1), 600);
	assert_int_equal(stats_of(m).pending, 0);
	matcher_free(m);
}

/*
 * The pending limit exactly: max_pending queries are all kept (none
 * reported early, all answerable); one more evicts exactly the oldest.
 */
static void test_pending_limit_exact(void **state)
{
	enum { MAX = 100 };
	struct matcher *m = matcher_new(5000000000ULL, MAX);
	struct reports rs = {0};

	for (uint16_t i = 0; i < MAX; i++)
		add_query(m, &rs, 1000 + i, DNSSNOOP_EGRESS, 40500, (uint16_t)(0x0100 * i + 1),
			  "full.example");
	assert_int_equal(stats_of(m).pending, MAX);
	assert_int_equal(rs.n, 0);
	add_query(m, &rs, 5000, DNSSNOOP_EGRESS, 40500, 0xbeef, "full.example");
	assert_int_equal(rs.n, 1);
	assert_report(&rs, 0, 0x0001, 4000);
	assert_int_equal(stats_of(m).pending, MAX);
	for (uint16_t i = 1; i < MAX; i++)
		assert_int_equal(answer(m, 6000, DNSSNOOP_INGRESS, 40500,
					(uint16_t)(0x0100 * i + 1), "full.example", 1),
				 6000 - (1000 + i));
	assert_int_equal(answer(m, 6000, DNSSNOOP_INGRESS, 40500, 0xbeef, "full.example", 1), 1000);
	assert_int_equal(answer(m, 6000, DNSSNOOP_INGRESS, 40500, 0x0001, "full.example", 1),
			 UINT64_MAX);
	assert_int_equal(stats_of(m).pending, 0);
	matcher_free(m);
}

/*
 * Throughput sanity (no timing asserted): a million pairs with up to 64
 * outstanding and a recycled id space, through a table much smaller than
 * the total; run under ASan this also checks for leaks.
 */
static void test_million_pairs(void **state)
{
	enum { PAIRS = 1000000, WINDOW = 64 };
	struct matcher *m = matcher_new(1000000000ULL, 256);
	static struct test_msg q, r;
	struct reports rs = {0};
	uint64_t latency_sum = 0;

	make_msg(&q, 0, "www.Example.com", 1, false, 40);
	make_msg(&r, 0, "www.example.COM", 1, true, 56);
	for (uint32_t i = 0; i < PAIRS + WINDOW; i++) {
		if (i < PAIRS) {
			struct pkt_meta qm =
				query_meta(i * 10ULL, DNSSNOOP_EGRESS, (uint16_t)(1024 + i % 4096));

			q.msg.id = (uint16_t)(i * 40503u);
			matcher_query(m, &qm, &q.msg, on_unanswered, &rs);
		}
		if (i >= WINDOW) {
			uint32_t j = i - WINDOW;
			struct pkt_meta rm = response_meta(j * 10ULL + 700, DNSSNOOP_INGRESS,
							   (uint16_t)(1024 + j % 4096));
			uint64_t latency = 0;

			r.msg.id = (uint16_t)(j * 40503u);
			if (matcher_response(m, &rm, &r.msg, &latency))
				latency_sum += latency;
		}
	}
	assert_int_equal(rs.n, 0);
	assert_int_equal(stats_of(m).queries, PAIRS);
	assert_int_equal(stats_of(m).matched, PAIRS);
	assert_int_equal(stats_of(m).unmatched, 0);
	assert_int_equal(stats_of(m).retransmits, 0);
	assert_int_equal(stats_of(m).pending, 0);
	assert_int_equal(latency_sum, 700ULL * PAIRS);
	matcher_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_vantage),
		cmocka_unit_test(test_key_fields),
		cmocka_unit_test(test_case_folding),
		cmocka_unit_test(test_timeout_expiry),
		cmocka_unit_test(test_retransmit),
		cmocka_unit_test(test_capacity_eviction_order),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_query_copy),
		cmocka_unit_test(test_clock_going_backwards),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_million_pairs),
		cmocka_unit_test(test_ids_differing_in_one_byte),
		cmocka_unit_test(test_same_id_two_sockets),
		cmocka_unit_test(test_retransmit_next_to_near_collision),
		cmocka_unit_test(test_same_id_other_question),
		cmocka_unit_test(test_pending_limit_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
