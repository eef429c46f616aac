// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The statistics stage: one local exchange seen from both ends counts once
 * in host-wide tables and once per process; intervals report and merge.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "analysis/summary.h"
#include "app/report_sink.h"
#include "testutil.h"

#define SEC 1000000000ULL
#define T0  (1795788301ULL * SEC)

struct exchange {
	struct fixture q, r;
	struct dns_msg qmsg, rmsg;
};

static void parse_exchange(struct exchange *x)
{
	x->q = load_fixture("query_mx");
	x->r = load_fixture("resp_mx");
	assert_int_equal(dns_parse(x->q.buf, x->q.len, &x->qmsg), DNS_OK);
	assert_int_equal(dns_parse(x->r.buf, x->r.len, &x->rmsg), DNS_OK);
}

/* dig (pid 100) at 10.0.0.1:40000 asks nsd (pid 200) at 10.0.0.2:53; both local. */
static void feed_local_exchange(struct summary *s, struct exchange *x, uint64_t t)
{
	struct pkt_meta q_out =
		meta_ip4(IPPROTO_UDP, DNSSNOOP_EGRESS, "10.0.0.1", 40000, "10.0.0.2", 53);
	struct pkt_meta q_in = q_out, r_out, r_in;
	struct summary_msg m = {.wire_len = 50};

	q_out.ts_ns = t;
	q_out.owner.tgid = 100;
	memcpy(q_out.owner.comm, "dig", 4);
	q_in.dir = DNSSNOOP_INGRESS;
	q_in.ts_ns = t + 10;
	q_in.owner.tgid = 200;
	memcpy(q_in.owner.comm, "nsd", 4);
	r_out = meta_ip4(IPPROTO_UDP, DNSSNOOP_EGRESS, "10.0.0.2", 53, "10.0.0.1", 40000);
	r_out.owner = q_in.owner;
	r_out.ts_ns = t + 20;
	r_in = r_out;
	r_in.dir = DNSSNOOP_INGRESS;
	r_in.owner = q_out.owner;
	r_in.ts_ns = t + 30;

	m.kind = OBS_QUERY, m.msg = &x->qmsg;
	m.meta = &q_out, summary_message(s, &m);
	m.meta = &q_in, summary_message(s, &m);
	m.kind = OBS_RESPONSE, m.msg = &x->rmsg, m.has_latency = true;
	m.meta = &r_out, m.latency_ns = 10, summary_message(s, &m);
	m.meta = &r_in, m.latency_ns = 30, summary_message(s, &m);
}

struct row {
	uint32_t tgid;
	uint64_t queries, responses;
};

struct rows {
	int n;
	struct row row[8];
};

static void collect(void *ctx, const struct stats_key *key, const struct stats_figures *fig)
{
	struct rows *r = ctx;

	assert_true(r->n < 8);
	r->row[r->n++] = (struct row){key->tgid, fig->queries, fig->responses};
}

static struct rows top(const struct stats *st, enum stats_table t)
{
	struct rows r = {0};

	stats_top(st, t, 0, collect, &r, NULL);
	return r;
}

static struct report_sink reports;

static struct summary *open_summary(struct sink *sink, uint64_t interval_ns)
{
	struct summary_config cfg = {
		.max_entries = 1000,
		.interval_ns = interval_ns,
		.mirror_ttl_ns = 5 * SEC,
		.sink = report_sink(&reports),
	};
	struct summary *s;

	sink_open_cfg(sink, (struct output_config){.format = OUTPUT_JSON, .host = "h"});
	reports = (struct report_sink){.out = sink->out, .top_n = 20, .max_entries = 1000};
	s = summary_new(&cfg);
	assert_non_null(s);
	return s;
}

static void test_local_exchange_counts_once_host_wide(void **state)
{
	struct exchange x;
	struct sink sink;
	struct summary *s = open_summary(&sink, 0);
	struct rows names, peers, procs;

	parse_exchange(&x);
	feed_local_exchange(s, &x, T0);
	names = top(summary_totals(s), STATS_NAME);
	assert_int_equal(names.n, 1);
	assert_int_equal(names.row[0].queries, 1);
	assert_int_equal(names.row[0].responses, 1);
	peers = top(summary_totals(s), STATS_PEER); /* dig's resolver only */
	assert_int_equal(peers.n, 1);
	assert_int_equal(peers.row[0].queries, 1);
	procs = top(summary_totals(s), STATS_PROCESS); /* dig asked, nsd answered */
	assert_int_equal(procs.n, 2);
	for (int i = 0; i < 2; i++) {
		assert_true(procs.row[i].tgid == 100 || procs.row[i].tgid == 200);
		assert_int_equal(procs.row[i].queries, 1);
		assert_int_equal(procs.row[i].responses, 1);
	}
	summary_finish(s, T0 + SEC);
	check_py(&sink, "names = [r for r in recs if r['type'] == 'name_stats' and not "
			"r.get('others')]\n"
			"eq(len(names), 1)\n"
			"eq((names[0]['name'], names[0]['queries'], names[0]['scope']), "
			"('example.test', 1, 'total'))\n");
	summary_free(s);
	sink_close(&sink);
}

static void test_intervals_report_and_merge(void **state)
{
	struct exchange x;
	struct sink sink;
	struct summary *s = open_summary(&sink, 10 * SEC);

	parse_exchange(&x);
	feed_local_exchange(s, &x, T0);
	summary_tick(s, T0 + 11 * SEC); /* closes [T0, T0+10 s) */
	feed_local_exchange(s, &x, T0 + 12 * SEC);
	summary_finish(s, T0 + 15 * SEC);
	assert_int_equal(top(summary_totals(s), STATS_NAME).row[0].queries, 2);
	check_py(&sink, "n = [(r['scope'], r['queries'], r['window_start'][11:19], "
			"r['window_end'][11:19]) for r in recs\n"
			"     if r['type'] == 'name_stats' and not r.get('others')]\n"
			"eq(n, [('interval', 1, '14:05:01', '14:05:11'), ('total', 1, '14:05:01', "
			"'14:05:11'),\n"
			"       ('interval', 1, '14:05:11', '14:05:16'), ('total', 2, '14:05:01', "
			"'14:05:16')])\n");
	summary_free(s);
	sink_close(&sink);
}

/*
 * An observation stamped exactly at the end of an interval belongs to the
 * next one: intervals are [start, start + interval).
 */
static void test_interval_boundary_is_exclusive(void **state)
{
	struct exchange x;
	struct sink sink;
	struct summary *s = open_summary(&sink, 10 * SEC);

	parse_exchange(&x);
	feed_local_exchange(s, &x, T0);
	feed_local_exchange(s, &x, T0 + 10 * SEC); /* its query at exactly T0 + 10 s */
	summary_finish(s, T0 + 15 * SEC);
	check_py(&sink, "n = [(r['scope'], r['queries'], r['window_start'][11:19], "
			"r['window_end'][11:19]) for r in recs\n"
			"     if r['type'] == 'name_stats' and not r.get('others')]\n"
			"eq(n, [('interval', 1, '14:05:01', '14:05:11'), ('total', 1, '14:05:01', "
			"'14:05:11'),\n"
			"       ('interval', 1, '14:05:11', '14:05:16'), ('total', 2, '14:05:01', "
			"'14:05:16')])\n");
	summary_free(s);
	sink_close(&sink);
}

/* A response to "a.example" A: `answers` A records, then `glue` A records in additional. */
static size_t build_a_response(uint8_t *b, int answers, int glue)
{
	static const uint8_t head[] = {0x12, 0x34, 0x81, 0x80, 0,   1, 0,   0,	 0,
				       0,    0,	   0,	 1,    'a', 7, 'e', 'x', 'a',
				       'm',  'p',  'l',	 'e',  0,   0, 1,   0,	 1};
	size_t n = sizeof(head);

	memcpy(b, head, n);
	b[7] = (uint8_t)answers;
	b[11] = (uint8_t)glue;
	for (int i = 0; i < answers + glue; i++) {
		static const uint8_t rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4};

		memcpy(b + n, rr, sizeof(rr));
		n += sizeof(rr);
		b[n++] = i < answers ? 192 : 198;
		b[n++] = 0;
		b[n++] = 2;
		b[n++] = (uint8_t)(i + 1);
	}
	return n;
}

static uint64_t name_addrs;

static void collect_addrs(void *ctx, const struct stats_key *key, const struct stats_figures *fig)
{
	name_addrs = fig->distinct_addrs;
}

/* The distinct answer addresses of a name after one response of this shape. */
static uint64_t addrs_counted(int answers, int glue)
{
	struct summary_config cfg = {.max_entries = 1000, .mirror_ttl_ns = 5 * SEC};
	struct summary *s = summary_new(&cfg);
	struct pkt_meta meta =
		meta_ip4(IPPROTO_UDP, DNSSNOOP_INGRESS, "10.0.0.2", 53, "10.0.0.1", 40000);
	static uint8_t wire[1024];
	struct dns_msg msg;
	struct summary_msg m = {.kind = OBS_RESPONSE, .meta = &meta, .msg = &msg};

	assert_non_null(s);
	meta.ts_ns = T0;
	m.wire_len = (uint32_t)build_a_response(wire, answers, glue);
	assert_int_equal(dns_parse(wire, m.wire_len, &msg), DNS_OK);
	assert_int_equal(msg.status, 0);
	summary_message(s, &m);
	name_addrs = UINT64_MAX;
	stats_top(summary_totals(s), STATS_NAME, 0, collect_addrs, NULL, NULL);
	summary_free(s);
	return name_addrs;
}

/*
 * A name's distinct addresses are those of its answers (A and AAAA in the
 * answer section), not the glue of the additional section, and at most
 * OBS_MAX_ADDRS of one response (the observation's bound).
 */
static void test_answer_addresses_only_and_bounded(void **state)
{
	assert_int_equal(addrs_counted(3, 0), 3);
	assert_int_equal(addrs_counted(3, 2), 3);
	assert_int_equal(addrs_counted(0, 2), 0);
	assert_int_equal(addrs_counted(OBS_MAX_ADDRS, 0), OBS_MAX_ADDRS);
	assert_int_equal(addrs_counted(OBS_MAX_ADDRS + 1, 0), OBS_MAX_ADDRS);
	assert_int_equal(addrs_counted(20, 3), OBS_MAX_ADDRS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_exchange_counts_once_host_wide),
		cmocka_unit_test(test_intervals_report_and_merge),
		cmocka_unit_test(test_interval_boundary_is_exclusive),
		cmocka_unit_test(test_answer_addresses_only_and_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
