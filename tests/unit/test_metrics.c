// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Prometheus renderer (user/report/metrics.c): label escaping, the
 * cumulative fixed-bucket histogram, and the "other" series that the
 * label sets past the bound are summed into, whose membership never
 * changes (counters stay monotonic). Expected lines are written out by
 * hand from the exposition format 0.0.4.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "report/metrics.h"
#include "testutil.h"

#define MS 1000000ULL

struct rig {
	struct metrics *m;
	struct capture_stats st;
	struct jbuf out;
};

static void rig_open(struct rig *r, size_t max_series)
{
	struct metrics_config cfg = {
		.max_series = max_series, .max_pending = 64, .max_entries = 16};

	memset(r, 0, sizeof(*r));
	r->m = metrics_new(&cfg);
	assert_non_null(r->m);
	assert_int_equal(jbuf_init(&r->out, 0), 0);
}

static void rig_close(struct rig *r)
{
	metrics_free(r->m);
	jbuf_free(&r->out);
}

/* The exposition now, NUL-terminated. */
static const char *render(struct rig *r)
{
	struct metrics_gauges g = {.st = &r->st};

	jbuf_reset(&r->out);
	assert_int_equal(metrics_render(r->m, &g, &r->out), 0);
	jbuf_append_char(&r->out, '\0');
	return r->out.buf;
}

static void assert_line(const char *text, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (!strstr(text, want))
		fail_msg("no line '%s' in:\n%s", line, text);
}

/* One message of process comm (uid 1000), to or from 10.0.0.53. */
static void feed(struct rig *r, const char *comm, enum obs_kind kind, uint16_t qtype,
		 uint16_t rcode, int64_t latency_ns)
{
	bool resp = kind == OBS_RESPONSE;
	struct pkt_meta meta =
		resp ? meta_v4(1, DNSSNOOP_INGRESS, "10.0.0.53", 53, "10.0.0.1", 40000, 40)
		     : meta_v4(1, DNSSNOOP_EGRESS, "10.0.0.1", 40000, "10.0.0.53", 53, 40);
	struct dns_msg msg = {.qtype = qtype, .rcode = rcode, .has_question = true};
	struct summary_msg sm = {.kind = kind, .meta = &meta, .msg = &msg};

	if (comm) {
		meta.owner.tgid = meta.owner.pid = 77;
		meta.owner.uid = 1000;
		meta.owner.cgroup_id = 5;
		strncpy(meta.owner.comm, comm, sizeof(meta.owner.comm));
	}
	sm.has_latency = latency_ns >= 0;
	sm.latency_ns = latency_ns >= 0 ? (uint64_t)latency_ns : 0;
	metrics_message(r->m, &sm);
}

static void test_label_escaping(void **unused)
{
	struct rig r;
	struct jbuf j;
	const char raw[] = "a\"b\\c\nd\x01\xff";

	assert_int_equal(jbuf_init(&j, 0), 0);
	metrics_label_value(&j, raw, sizeof(raw) - 1);
	jbuf_append_char(&j, '\0');
	assert_string_equal(j.buf, "a\\\"b\\\\c\\nd??");
	jbuf_free(&j);

	rig_open(&r, 0);
	feed(&r, "x\"y\\z", OBS_QUERY, 1, 0, -1);
	assert_line(
		render(&r),
		"dnssnoop_process_queries_total{comm=\"x\\\"y\\\\z\",uid=\"1000\",cgroup=\"\"} 1");
	rig_close(&r);
}

static void test_counts_by_qtype_and_rcode(void **unused)
{
	struct rig r;
	const char *t;

	rig_open(&r, 0);
	feed(&r, "dig", OBS_QUERY, 1, 0, -1);
	feed(&r, "dig", OBS_QUERY, 28, 0, -1);
	feed(&r, "dig", OBS_QUERY, 1, 0, -1);
	feed(&r, "dig", OBS_RESPONSE, 1, 3, 2 * MS);
	feed(&r, "dig", OBS_UNANSWERED, 1, 0, -1); /* counted by the pipeline, not here */
	feed(&r, NULL, OBS_QUERY, 15, 0, -1); /* no process: no process series */
	t = render(&r);
	assert_line(t, "# TYPE dnssnoop_queries_total counter");
	assert_line(t, "dnssnoop_queries_total{qtype=\"A\"} 2");
	assert_line(t, "dnssnoop_queries_total{qtype=\"AAAA\"} 1");
	assert_line(t, "dnssnoop_queries_total{qtype=\"MX\"} 1");
	assert_line(t, "dnssnoop_responses_total{rcode=\"NXDOMAIN\",qtype=\"A\"} 1");
	assert_line(t, "dnssnoop_process_queries_total{comm=\"dig\",uid=\"1000\",cgroup=\"\"} 3");
	assert_line(t, "dnssnoop_process_responses_total{comm=\"dig\",uid=\"1000\",cgroup=\"\","
		       "rcode=\"NXDOMAIN\"} 1");
	assert_line(t, "dnssnoop_peer_queries_total{peer=\"10.0.0.53\"} 4");
	assert_null(strstr(t, "\"other\""));
	rig_close(&r);
}

/* Buckets hold everything up to their bound, inclusive, and add up to the count. */
static void test_histogram_cumulative(void **unused)
{
	struct rig r;
	const char *t;

	rig_open(&r, 0);
	feed(&r, "dig", OBS_RESPONSE, 1, 0, MS / 2); /* exactly 0.0005 */
	feed(&r, "dig", OBS_RESPONSE, 1, 0, MS / 2 + 1);
	feed(&r, "dig", OBS_RESPONSE, 1, 0, 3 * MS);
	feed(&r, "dig", OBS_RESPONSE, 1, 0, 10000 * MS); /* above 5 s: +Inf only */
	feed(&r, "dig", OBS_RESPONSE, 1, 0, -1); /* unmatched: no latency */
	t = render(&r);
	assert_line(t, "# TYPE dnssnoop_response_latency_seconds histogram");
	assert_line(t, "dnssnoop_response_latency_seconds_bucket{le=\"0.0005\"} 1");
	assert_line(t, "dnssnoop_response_latency_seconds_bucket{le=\"0.001\"} 2");
	assert_line(t, "dnssnoop_response_latency_seconds_bucket{le=\"0.0025\"} 2");
	assert_line(t, "dnssnoop_response_latency_seconds_bucket{le=\"0.005\"} 3");
	assert_line(t, "dnssnoop_response_latency_seconds_bucket{le=\"5\"} 3");
	assert_line(t, "dnssnoop_response_latency_seconds_bucket{le=\"+Inf\"} 4");
	assert_line(t, "dnssnoop_response_latency_seconds_count 4");
	assert_line(t, "dnssnoop_response_latency_seconds_sum 10.004000001");
	rig_close(&r);
}

/*
 * Bound 2: the first two programs keep their series; the third and
 * fourth go to "other", and stay there when the first ones come again.
 */
static void test_other_folding(void **unused)
{
	struct rig r;
	const char *t;

	rig_open(&r, 2);
	feed(&r, "one", OBS_QUERY, 1, 0, -1);
	feed(&r, "two", OBS_QUERY, 1, 0, -1);
	feed(&r, "three", OBS_QUERY, 1, 0, -1);
	feed(&r, "four", OBS_QUERY, 1, 0, -1);
	feed(&r, "one", OBS_QUERY, 1, 0, -1);
	feed(&r, "three", OBS_QUERY, 1, 0, -1);
	t = render(&r);
	assert_line(t, "dnssnoop_process_queries_total{comm=\"one\",uid=\"1000\",cgroup=\"\"} 2");
	assert_line(t, "dnssnoop_process_queries_total{comm=\"two\",uid=\"1000\",cgroup=\"\"} 1");
	assert_line(t, "dnssnoop_process_queries_total{comm=\"other\",uid=\"other\","
		       "cgroup=\"other\"} 3");
	assert_null(strstr(t, "comm=\"three\""));
	/* qtype A and the one peer: within the bound, no "other" */
	assert_line(t, "dnssnoop_queries_total{qtype=\"A\"} 6");
	assert_null(strstr(t, "qtype=\"other\""));
	rig_close(&r);
}

/* Kernel counters only when the source has them; findings only once judged. */
static void test_stats_and_gauges(void **unused)
{
	struct rig r;
	const char *t;

	rig_open(&r, 0);
	r.st.messages = 9;
	r.st.unanswered = 2;
	r.st.events_lost = 4;
	t = render(&r);
	assert_line(t, "dnssnoop_messages_total 9");
	assert_line(t, "dnssnoop_unanswered_total 2");
	assert_line(t, "dnssnoop_pending_queries_max 64");
	assert_null(strstr(t, "dnssnoop_events_lost_total"));
	assert_null(strstr(t, "dnssnoop_findings"));
	r.st.has_kernel = true;
	t = render(&r);
	assert_line(t, "# TYPE dnssnoop_events_lost_total counter");
	assert_line(t, "dnssnoop_events_lost_total 4");
	rig_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_counts_by_qtype_and_rcode),
		cmocka_unit_test(test_histogram_cumulative),
		cmocka_unit_test(test_other_folding),
		cmocka_unit_test(test_stats_and_gauges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
