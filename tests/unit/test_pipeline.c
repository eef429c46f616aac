// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The pipeline end to end (reassembly -> decoder -> matcher -> output) on
 * real captured messages from tests/fixtures/dns, with every JSON line read
 * back by Python.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "app/pipeline.h"
#include "testutil.h"

#define SEC 1000000000ULL
#define T0  (1795788301ULL * SEC)

struct rig {
	struct sink sink;
	struct pipeline *p;
};

static void rig_open(struct rig *r, uint32_t filter_pid, uint64_t max_messages)
{
	struct pipeline_config cfg = {
		.events = true,
		.timeout_ns = 5 * SEC,
		.max_pending = 1024,
		.max_tcp_flows = 64,
		.filter_pid = filter_pid,
		.max_messages = max_messages,
	};

	sink_open_cfg(&r->sink, (struct output_config){.format = OUTPUT_JSON, .host = "h"});
	cfg.out = r->sink.out;
	r->p = pipeline_new(&cfg);
	assert_non_null(r->p);
}

static void rig_close(struct rig *r)
{
	pipeline_free(r->p);
	sink_close(&r->sink);
}

/* A client (10.0.0.1:40000, pid 4242 "dig") and server (10.0.0.2:53) pair. */
static struct pkt_meta client_meta(uint64_t ts, uint8_t proto, uint32_t len)
{
	struct pkt_meta m = meta_v4(ts, DNSSNOOP_EGRESS, "10.0.0.1", 40000, "10.0.0.2", 53, len);

	m.proto = proto;
	m.owner.tgid = m.owner.pid = 4242;
	memcpy(m.owner.comm, "dig", 4);
	return m;
}

static struct pkt_meta reply_meta(uint64_t ts, uint8_t proto, uint32_t len)
{
	struct pkt_meta m = client_meta(ts, proto, len);

	m.dir = DNSSNOOP_INGRESS;
	memcpy(m.saddr, m.daddr, 16);
	inet_pton(AF_INET, "10.0.0.1", m.daddr);
	m.sport = 53;
	m.dport = 40000;
	return m;
}

static void feed_udp(struct rig *r, const struct pkt_meta *m, const struct fixture *f)
{
	pipeline_packet(r->p, m, f->buf, f->len);
}

static void test_udp_query_response_latency(void **state)
{
	struct fixture q = load_fixture("query_mx"), a = load_fixture("resp_mx");
	struct pkt_meta mq = client_meta(T0, IPPROTO_UDP, q.len);
	struct pkt_meta ma = reply_meta(T0 + 1234567, IPPROTO_UDP, a.len);
	struct capture_stats st = {0};
	struct rig r;

	rig_open(&r, 0, 0);
	feed_udp(&r, &mq, &q);
	feed_udp(&r, &ma, &a);
	pipeline_finish(r.p, T0 + 10 * SEC);
	pipeline_get_stats(r.p, &st);
	assert_int_equal(st.messages, 2);
	assert_int_equal(st.responses_matched, 1);
	assert_int_equal(st.unanswered, 0);
	check_py(&r.sink, "eq(len(recs), 2)\n"
			  "q, a = recs\n"
			  "eq((q['qr'], a['qr']), ('query', 'response'))\n"
			  "eq(q['id'], a['id'])\n"
			  "eq(a['qtype'], 'MX')\n"
			  "eq(a['latency_ns'], 1234567)\n"
			  "assert 'latency_ns' not in q\n"
			  "eq((a['pid'], a['comm'], a['proto']), (4242, 'dig', 'udp'))\n"
			  "assert len(a['answers']) >= 1 and a['answers'][0]['type'] == 'MX'\n");
	rig_close(&r);
}

/* Prepends the 2-byte DNS-over-TCP length prefix. */
static struct fixture framed(const struct fixture *f)
{
	struct fixture t = {.len = f->len + 2};

	t.buf[0] = f->len >> 8;
	t.buf[1] = f->len & 0xff;
	memcpy(t.buf + 2, f->buf, f->len);
	return t;
}

static void test_tcp_split_response(void **state)
{
	struct fixture rq = load_fixture("query_mx"), ra = load_fixture("resp_mx");
	struct fixture q = framed(&rq), a = framed(&ra);
	struct pkt_meta m;
	struct rig r;
	size_t cut = 7; /* splits the response inside its question */

	rig_open(&r, 0, 0);
	m = client_meta(T0, IPPROTO_TCP, q.len);
	m.tcp_seq = 1000;
	pipeline_packet(r.p, &m, q.buf, q.len);
	m = reply_meta(T0 + 2 * SEC, IPPROTO_TCP, cut);
	m.tcp_seq = 5000;
	pipeline_packet(r.p, &m, a.buf, cut);
	m = reply_meta(T0 + 3 * SEC, IPPROTO_TCP, a.len - cut);
	m.tcp_seq = 5000 + cut;
	pipeline_packet(r.p, &m, a.buf + cut, a.len - cut);
	check_py(&r.sink, "eq(len(recs), 2)\n"
			  "eq([x['proto'] for x in recs], ['tcp', 'tcp'])\n"
			  "eq(recs[1]['latency_ns'], 3 * 10**9)\n"
			  "eq(recs[1]['len'], 145)\n"
			  "eq(recs[1]['truncated_capture'], False)\n");
	rig_close(&r);
}

static void test_unanswered_on_timeout_and_finish(void **state)
{
	struct fixture q1 = load_fixture("query_mx"), q2 = load_fixture("query_a_mixed_case");
	struct pkt_meta m1 = client_meta(T0, IPPROTO_UDP, q1.len);
	struct pkt_meta m2 = client_meta(T0 + 4 * SEC, IPPROTO_UDP, q2.len);
	struct capture_stats st = {0};
	struct rig r;

	rig_open(&r, 0, 0);
	feed_udp(&r, &m1, &q1);
	feed_udp(&r, &m2, &q2);
	pipeline_tick(r.p, T0 + 6 * SEC); /* only the first has waited > 5 s */
	pipeline_get_stats(r.p, &st);
	assert_int_equal(st.unanswered, 1);
	pipeline_finish(r.p, T0 + 7 * SEC);
	pipeline_get_stats(r.p, &st);
	assert_int_equal(st.unanswered, 2);
	check_py(&r.sink, "u = [x for x in recs if x['type'] == 'unanswered']\n"
			  "eq(len(u), 2)\n"
			  "eq(u[0]['qtype'], 'MX')\n"
			  "eq(u[0]['waited_ns'], 6 * 10**9)\n"
			  "eq(u[1]['waited_ns'], 3 * 10**9)\n"
			  "eq(u[1]['comm'], 'dig')\n");
	rig_close(&r);
}

static void test_pid_filter_and_count_limit(void **state)
{
	struct fixture q = load_fixture("query_mx");
	struct pkt_meta mine = client_meta(T0, IPPROTO_UDP, q.len);
	struct pkt_meta other = mine;
	struct capture_stats st = {0};
	struct rig r;

	other.owner.tgid = 7;
	rig_open(&r, 4242, 2);
	feed_udp(&r, &other, &q);
	feed_udp(&r, &mine, &q);
	assert_false(pipeline_done(r.p));
	mine.sport++; /* another query, not a retransmission */
	feed_udp(&r, &mine, &q);
	assert_true(pipeline_done(r.p));
	mine.sport++;
	feed_udp(&r, &mine, &q); /* after -c is reached: ignored */
	pipeline_get_stats(r.p, &st);
	assert_int_equal(st.filtered, 1);
	assert_int_equal(st.messages, 2);
	check_py(&r.sink, "eq([x['pid'] for x in recs], [4242, 4242])\n");
	rig_close(&r);
}

static void test_hostile_and_truncated(void **state)
{
	struct fixture loop = load_fixture("evil_ptr_self"), a = load_fixture("resp_mx");
	struct fixture tiny = {.buf = {1, 2, 3}, .len = 3};
	struct pkt_meta m = reply_meta(T0, IPPROTO_UDP, 3);
	struct capture_stats st = {0};
	struct rig r;

	rig_open(&r, 0, 0);
	feed_udp(&r, &m, &tiny); /* shorter than a header: counted, not shown */
	m.orig_len = loop.len;
	feed_udp(&r, &m, &loop);
	m.orig_len = a.len; /* the snap length cut the response at 60 bytes */
	pipeline_packet(r.p, &m, a.buf, 60);
	pipeline_get_stats(r.p, &st);
	assert_int_equal(st.messages, 3);
	assert_int_equal(st.decode_errors, 2);
	assert_int_equal(st.truncated_captures, 1);
	check_py(&r.sink, "eq(len(recs), 2)\n"
			  "assert recs[0]['decode_status'], recs[0]\n"
			  "eq(recs[1]['truncated_capture'], True)\n"
			  "eq(recs[1]['len'], 145)\n"
			  "eq(recs[1]['qtype'], 'MX')\n");
	assert_int_equal(a.len, 145);
	rig_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_query_response_latency),
		cmocka_unit_test(test_tcp_split_response),
		cmocka_unit_test(test_unanswered_on_timeout_and_finish),
		cmocka_unit_test(test_pid_filter_and_count_limit),
		cmocka_unit_test(test_hostile_and_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
