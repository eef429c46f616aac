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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_exchange_counts_once_host_wide),
		cmocka_unit_test(test_intervals_report_and_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
