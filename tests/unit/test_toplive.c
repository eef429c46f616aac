// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The counts behind --top-live (user/report/toplive.c): the 10 s window of
 * one-second buckets, rcode classes and the failing view, latency
 * percentiles (upper edge of a bucket, at most 25 % high), the bound on
 * entries (least recent out), the filter and the sorts, a local
 * server's copy of an exchange counted for its process only, and a
 * process's unit or container (with a fake resolver) and the rows grouped
 * by it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "capture/cgroup_ident.h"
#include "report/toplive.h"

#define SEC 1000000000ULL
#define MS  1000000ULL
#define T0  (1767225600ULL * SEC)

static struct dnssnoop_owner dig = {.tgid = 4242, .pid = 4242, .comm = "dig"};
static struct dnssnoop_owner nsd = {.tgid = 53, .pid = 53, .comm = "nsd"};

/* One query (rcode < 0) or response of name by owner, client vantage unless dir says. */
static void feed(struct toplive *t, uint64_t ts, const char *name, int rcode, int64_t latency,
		 const struct dnssnoop_owner *owner, uint8_t dir, uint16_t id)
{
	struct dns_obs o = {
		.kind = rcode < 0 ? OBS_QUERY : OBS_RESPONSE,
		.ts_ns = ts,
		.dir = dir,
		.proto = IPPROTO_UDP,
		.family = AF_INET,
		.client_addr = {10, 0, 0, 1},
		.server_addr = {10, 0, 0, 53},
		.client_port = 40000,
		.server_port = 53,
		.owner = owner,
		.qname = name,
		.qname_len = strlen(name),
		.id = id,
		.rcode = rcode < 0 ? 0 : (uint16_t)rcode,
		.has_latency = latency >= 0,
		.latency_ns = latency >= 0 ? (uint64_t)latency : 0,
	};

	toplive_observation(t, &o);
}

static void query(struct toplive *t, uint64_t ts, const char *name)
{
	feed(t, ts, name, -1, -1, &dig, DNSSNOOP_EGRESS, 1);
}

static void answer(struct toplive *t, uint64_t ts, const char *name, int rcode, int64_t lat)
{
	feed(t, ts, name, rcode, lat, &dig, DNSSNOOP_INGRESS, 1);
}

static struct toplive *open_top(size_t max)
{
	struct toplive *t = toplive_new(&(struct toplive_config){.max_entries = max});

	assert_non_null(t);
	return t;
}

static const struct toplive_row *find(const struct toplive_row *rows, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].key, key))
			return &rows[i];
	return NULL;
}

static void test_window(void **state)
{
	struct toplive *t = open_top(0);
	struct toplive_row rows[8];
	const struct toplive_row *r;
	size_t n;

	(void)state;
	for (int i = 0; i < 5; i++)
		query(t, T0 + 100 * SEC, "A.example");
	query(t, T0 + 105 * SEC, "b.example");
	query(t, T0 + 105 * SEC, "b.example");
	n = toplive_rows(t, TOPLIVE_NAMES, TOPLIVE_SORT_RATE, NULL, rows, 8);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].key, "a.example"); /* case-folded, most queries first */
	assert_int_equal(rows[0].queries, 5);
	assert_true(rows[0].qps > 5.0 / 6 - 1e-9 && rows[0].qps < 5.0 / 6 + 1e-9); /* 6 s so far */
	toplive_tick(t, T0 + 109 * SEC);
	n = toplive_rows(t, TOPLIVE_NAMES, TOPLIVE_SORT_RATE, NULL, rows, 8);
	assert_int_equal(n, 2);
	assert_true(rows[0].qps > 0.5 - 1e-9 && rows[0].qps < 0.5 + 1e-9); /* 5 in 10 s */
	toplive_tick(t, T0 + 110 * SEC); /* second 100 has left the window */
	n = toplive_rows(t, TOPLIVE_NAMES, TOPLIVE_SORT_RATE, NULL, rows, 8);
	assert_int_equal(n, 1);
	r = find(rows, n, "b.example");
	assert_non_null(r);
	assert_int_equal(r->queries, 2);
	query(t, T0 + 110 * SEC, "a.example"); /* the reused bucket starts empty */
	n = toplive_rows(t, TOPLIVE_NAMES, TOPLIVE_SORT_RATE, NULL, rows, 8);
	assert_int_equal(find(rows, n, "a.example")->queries, 1);
	toplive_free(t);
}

static void test_rcodes_and_failing(void **state)
{
	struct toplive *t = open_top(0);
	struct toplive_row rows[8];
	size_t n;

	(void)state;
	query(t, T0, "ok.example");
	answer(t, T0, "ok.example", 0, 1 * MS);
	query(t, T0, "bad.example");
	answer(t, T0, "bad.example", 3, 1 * MS);
	answer(t, T0, "bad.example", 2, 1 * MS);
	answer(t, T0, "bad.example", 5, -1); /* REFUSED: other */
	n = toplive_rows(t, TOPLIVE_FAILING, TOPLIVE_SORT_FAILS, NULL, rows, 8);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].key, "bad.example");
	assert_int_equal(rows[0].rc[TOPLIVE_NXDOMAIN], 1);
	assert_int_equal(rows[0].rc[TOPLIVE_SERVFAIL], 1);
	assert_int_equal(rows[0].rc[TOPLIVE_OTHER], 1);
	assert_int_equal(rows[0].fails, 3);
	assert_int_equal(rows[0].timed, 2);
	n = toplive_rows(t, TOPLIVE_PROCESSES, TOPLIVE_SORT_RATE, NULL, rows, 8);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].key, "dig(4242)");
	assert_int_equal(rows[0].responses, 4);
	n = toplive_rows(t, TOPLIVE_SERVERS, TOPLIVE_SORT_RATE, NULL, rows, 8);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].key, "10.0.0.53");
	assert_int_equal(rows[0].queries, 2);
	toplive_free(t);
}

static void test_percentiles(void **state)
{
	struct toplive *t = open_top(0);
	struct toplive_row rows[8];

	(void)state;
	for (int i = 0; i < 10; i++)
		answer(t, T0, "slow.example", 0, 1 * MS);
	answer(t, T0, "slow.example", 0, 500 * MS);
	answer(t, T0, "fast.example", 0, 100000);
	assert_int_equal(toplive_rows(t, TOPLIVE_SLOWEST, TOPLIVE_SORT_P99, NULL, rows, 8), 2);
	assert_string_equal(rows[0].key, "slow.example");
	assert_true(rows[0].p50_ns >= 1 * MS && rows[0].p50_ns <= 1 * MS * 5 / 4);
	/* rank ceil(0.99 * 11) = 11: the 500 ms one */
	assert_true(rows[0].p99_ns >= 500 * MS && rows[0].p99_ns <= 500 * MS * 5 / 4);
	assert_true(rows[1].p99_ns >= 100000 && rows[1].p99_ns <= 125000 + 16384);
	toplive_free(t);
}

static void test_bound_evicts_least_recent(void **state)
{
	struct toplive *t = open_top(16);
	struct toplive_row rows[32];
	char name[32];
	size_t n;

	(void)state;
	for (int i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "n%d.example", i);
		query(t, T0, name);
	}
	query(t, T0, "n0.example"); /* n0 seen again: n1 is now the least recent */
	query(t, T0, "new.example");
	assert_int_equal(toplive_entries(t, TOPLIVE_NAMES), 16);
	n = toplive_rows(t, TOPLIVE_NAMES, TOPLIVE_SORT_KEY, NULL, rows, 32);
	assert_int_equal(n, 16);
	assert_non_null(find(rows, n, "n0.example"));
	assert_non_null(find(rows, n, "new.example"));
	assert_null(find(rows, n, "n1.example"));
	assert_string_equal(rows[0].key, "n0.example"); /* by key */
	toplive_free(t);
}

static void test_filter(void **state)
{
	struct toplive *t = open_top(0);
	struct toplive_row rows[8];

	(void)state;
	query(t, T0, "www.example");
	query(t, T0, "mail.example");
	assert_int_equal(toplive_rows(t, TOPLIVE_NAMES, TOPLIVE_SORT_RATE, "WWW", rows, 8), 1);
	assert_string_equal(rows[0].key, "www.example");
	assert_int_equal(toplive_rows(t, TOPLIVE_NAMES, TOPLIVE_SORT_RATE, "", rows, 8), 2);
	assert_int_equal(toplive_rows(t, TOPLIVE_NAMES, TOPLIVE_SORT_RATE, "nope", rows, 8), 0);
	assert_int_equal(toplive_rows(t, TOPLIVE_NAMES, TOPLIVE_SORT_RATE, NULL, rows, 1), 1);
	toplive_free(t);
}

/* dig's query and nsd's copy of it (ingress at the server): names count it once. */
static void test_mirror_counts_once(void **state)
{
	struct toplive *t = open_top(0);
	struct toplive_row rows[8];
	size_t n;

	(void)state;
	feed(t, T0, "www.example", -1, -1, &dig, DNSSNOOP_EGRESS, 7);
	feed(t, T0, "www.example", -1, -1, &nsd, DNSSNOOP_INGRESS, 7);
	assert_int_equal(toplive_rows(t, TOPLIVE_NAMES, TOPLIVE_SORT_RATE, NULL, rows, 8), 1);
	assert_int_equal(rows[0].queries, 1);
	n = toplive_rows(t, TOPLIVE_PROCESSES, TOPLIVE_SORT_RATE, NULL, rows, 8);
	assert_int_equal(n, 2);
	assert_int_equal(find(rows, n, "nsd(53)")->queries, 1);
	toplive_free(t);
}

/* The fake resolver's cgroups: 7 a unit, 8 a named container, 9 an unnamed one, else none. */
static const struct cgroup_ident *fake_ident(void *ctx, uint64_t cgroup_id)
{
	static struct cgroup_ident unit = {.unit = "nginx.service"};
	static struct cgroup_ident named = {.unit = "libpod-0123.scope",
					    .runtime = "podman",
					    .container_id = "0123456789abcdef0123",
					    .container_name = "web-1"};
	static struct cgroup_ident unnamed = {.runtime = "docker",
					      .container_id = "fedcba9876543210fedc"};

	(void)ctx;
	return cgroup_id == 7 ? &unit : cgroup_id == 8 ? &named : cgroup_id == 9 ? &unnamed : NULL;
}

static void answer_as(struct toplive *t, uint32_t tgid, uint64_t cgroup_id, int64_t lat)
{
	struct dnssnoop_owner o = {
		.tgid = tgid, .pid = tgid, .comm = "app", .cgroup_id = cgroup_id};

	feed(t, T0, "www.example", 0, lat, &o, DNSSNOOP_INGRESS, 1);
}

static void test_owner_and_grouping(void **state)
{
	struct toplive *t = toplive_new(&(struct toplive_config){.cgroup_ident = fake_ident});
	struct toplive_row rows[8];
	const struct toplive_row *r;
	size_t n;

	(void)state;
	answer_as(t, 1, 7, 1 * MS);
	answer_as(t, 2, 7, 1 * MS);
	answer_as(t, 2, 7, 400 * MS);
	answer_as(t, 3, 8, -1);
	answer_as(t, 4, 9, -1);
	answer_as(t, 5, 1, -1);
	n = toplive_rows(t, TOPLIVE_PROCESSES, TOPLIVE_SORT_KEY, NULL, rows, 8);
	assert_int_equal(n, 5);
	assert_string_equal(find(rows, n, "app(1)")->owner, "nginx.service");
	assert_string_equal(find(rows, n, "app(3)")->owner, "web-1"); /* name before unit */
	assert_string_equal(find(rows, n, "app(4)")->owner, "fedcba987654"); /* a short id */
	assert_string_equal(find(rows, n, "app(5)")->owner, "-");
	assert_int_equal(toplive_rows(t, TOPLIVE_PROCESSES, TOPLIVE_SORT_KEY, "NGINX", rows, 8), 2);
	n = toplive_unit_rows(t, TOPLIVE_SORT_RATE, NULL, rows, 8);
	assert_int_equal(n, 4);
	r = find(rows, n, "nginx.service");
	assert_non_null(r);
	assert_string_equal(r->owner, "2 processes");
	assert_int_equal(r->responses, 3);
	assert_int_equal(r->timed, 3);
	assert_true(r->p99_ns >= 400 * MS); /* of the processes' latencies together */
	assert_string_equal(find(rows, n, "web-1")->owner, "1 process");
	assert_string_equal(rows[0].key, "nginx.service"); /* the most responses */
	assert_int_equal(toplive_unit_rows(t, TOPLIVE_SORT_RATE, "web", rows, 8), 1);
	toplive_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_rcodes_and_failing),
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_bound_evicts_least_recent),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_mirror_counts_once),
		cmocka_unit_test(test_owner_and_grouping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
