// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests for the display filters (user/report/msgfilter.c). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "capture/cgroup_ident.h"
#include "report/msgfilter.h"

/* A record to judge: a message, its packet and what the matcher said. */
struct rec {
	struct pkt_meta meta;
	struct dns_msg msg;
	struct dns_record r;
};

static void addr_of(const char *text, uint8_t *family, uint8_t *addr)
{
	*family = strchr(text, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(*family, text, addr), 1);
}

/* A query from src to dst (a response: flags QR, rcode), for qname and qtype. */
static void make(struct rec *x, enum record_kind kind, bool response, const char *src,
		 const char *dst, const char *qname, uint16_t qtype, uint16_t rcode)
{
	memset(x, 0, sizeof(*x));
	addr_of(src, &x->meta.family, x->meta.saddr);
	addr_of(dst, &x->meta.family, x->meta.daddr);
	x->meta.dir = DNSSNOOP_EGRESS;
	x->msg.flags = response ? 0x8000 : 0;
	x->msg.rcode = rcode;
	x->msg.has_question = true;
	x->msg.qtype = qtype;
	x->msg.qname_len = (uint16_t)strlen(qname);
	memcpy(x->msg.qname, qname, x->msg.qname_len + 1);
	x->r = (struct dns_record){.kind = kind, .meta = &x->meta, .msg = &x->msg};
}

static void add(struct msgfilter *f, enum msgfilter_flag flag, const char *arg)
{
	char err[256];

	if (msgfilter_add(f, flag, arg, err, sizeof(err)))
		fail_msg("%s refused: %s", arg, err);
}

static bool name_matches(const char *glob, const char *qname)
{
	struct msgfilter f = {0};
	struct rec x;

	add(&f, MSGFILTER_NAME, glob);
	make(&x, RECORD_DNS, false, "10.0.0.1", "10.0.0.2", qname, 1, 0);
	return msgfilter_match(&f, &x.r);
}

static void test_globs(void **state)
{
	assert_true(name_matches("*.example.com", "www.example.com"));
	assert_true(name_matches("*.example.com", "a.b.example.com")); /* '*' crosses dots */
	assert_false(name_matches("*.example.com", "example.com"));
	assert_false(name_matches("*.example.com", "www.example.com.evil"));
	assert_true(name_matches("*.EXAMPLE.com", "WWW.example.COM")); /* case-insensitive */
	assert_true(name_matches("www?.example.com", "www1.example.com"));
	assert_true(name_matches("[ab]*", "beta"));
	assert_false(name_matches("[ab]*", "gamma"));
	assert_true(name_matches("*", "."));
}

static bool in_prefix(const char *prefix, const char *addr)
{
	struct msgfilter_prefix p;
	uint8_t family, a[16] = {0};

	if (!msgfilter_parse_prefix(prefix, &p))
		fail_msg("'%s' refused", prefix);
	addr_of(addr, &family, a);
	return msgfilter_prefix_has(&p, family, a);
}

static void test_prefix_edges(void **state)
{
	assert_true(in_prefix("0.0.0.0/0", "255.255.255.255"));
	assert_false(in_prefix("0.0.0.0/0", "::1")); /* another family never */
	assert_true(in_prefix("::/0", "fd00::1"));
	assert_false(in_prefix("::/0", "10.0.0.1"));
	assert_true(in_prefix("10.0.0.1/32", "10.0.0.1"));
	assert_false(in_prefix("10.0.0.1/32", "10.0.0.0"));
	assert_true(in_prefix("10.0.0.1", "10.0.0.1")); /* no length: the whole address */
	assert_false(in_prefix("10.0.0.1", "10.0.0.3"));
	assert_true(in_prefix("fd00::53/128", "fd00::53"));
	assert_false(in_prefix("fd00::53/128", "fd00::52"));
	assert_true(in_prefix("10.1.0.0/15", "10.0.255.255")); /* its host bits do not count */
	assert_true(in_prefix("10.0.0.0/15", "10.1.255.255"));
	assert_false(in_prefix("10.0.0.0/15", "10.2.0.0"));
	assert_true(in_prefix("fd00:c::/33", "fd00:c:7fff::1"));
	assert_false(in_prefix("fd00:c::/33", "fd00:c:8000::1"));
	assert_false(in_prefix("::ffff:10.0.0.0/104", "10.0.0.1")); /* mapped is IPv6 */
}

static void test_prefix_refused(void **state)
{
	static const char *const bad[] = {
		"10.0.0.0/33", "fd00::/129",  "10.0.0.0/", "10.0.0.0/-1",   "10.0.0.0/08x",
		"10.0.0",      "example.com", "",	   "10.0.0.0/24/1", "fd00::1%eth0"};
	struct msgfilter_prefix p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (msgfilter_parse_prefix(bad[i], &p))
			fail_msg("'%s' taken as a prefix", bad[i]);
}

static void check_duration(const char *s, bool ok, uint64_t want)
{
	uint64_t ns = 0;
	bool got = msgfilter_parse_duration(s, &ns);

	if (got != ok || (ok && ns != want))
		fail_msg("'%s': want %d %llu, got %d %llu", s, ok, (unsigned long long)want, got,
			 (unsigned long long)ns);
}

static void test_durations(void **state)
{
	check_duration("100ms", true, 100000000);
	check_duration("2s", true, 2000000000);
	check_duration("2", true, 2000000000); /* bare: seconds */
	check_duration("1500us", true, 1500000);
	check_duration("1.5ms", true, 1500000);
	check_duration("250ns", true, 250);
	check_duration("0", true, 0);
	check_duration("0.000000001", true, 1);
	check_duration("1000000000s", true, 1000000000ull * 1000000000ull);
	check_duration("1000000000ms", true, 1000000000ull * 1000000);
	check_duration("1000000001ms", false, 0);
	check_duration("1.5ns", false, 0); /* a fraction of a nanosecond */
	check_duration("0.0001us", false, 0);
	check_duration("ms", false, 0);
	check_duration("", false, 0);
	check_duration("10 ms", false, 0);
	check_duration("-1s", false, 0);
	check_duration("1m", false, 0);
	check_duration("5x", false, 0);
}

/* rcode and slower-than judge responses and unanswered records only. */
static void test_queries_and_responses(void **state)
{
	struct msgfilter rc = {0}, slow = {0}, none = {0};
	struct rec q, r, u;

	add(&rc, MSGFILTER_RCODE, "NXDOMAIN");
	add(&none, MSGFILTER_RCODE, "none");
	add(&slow, MSGFILTER_SLOWER, "100ms");
	make(&q, RECORD_DNS, false, "10.1.0.1", "10.0.0.1", "a.example", 1, 0);
	make(&r, RECORD_DNS, true, "10.0.0.1", "10.1.0.1", "a.example", 1, 3);
	make(&u, RECORD_UNANSWERED, false, "10.1.0.1", "10.0.0.1", "a.example", 1, 0);
	q.msg.rcode = 3; /* a query's rcode field means nothing */
	assert_false(msgfilter_match(&rc, &q.r));
	assert_true(msgfilter_match(&rc, &r.r));
	assert_false(msgfilter_match(&rc, &u.r));
	assert_true(msgfilter_match(&none, &u.r));
	assert_false(msgfilter_match(&none, &r.r));
	r.r.has_latency = true;
	r.r.latency_ns = 100000000;
	assert_false(msgfilter_match(&slow, &r.r)); /* exceeds: not equal */
	r.r.latency_ns++;
	assert_true(msgfilter_match(&slow, &r.r));
	r.r.has_latency = false;
	assert_false(msgfilter_match(&slow, &r.r)); /* unmatched: latency unknown */
	assert_true(msgfilter_match(&slow, &u.r));
	assert_false(msgfilter_match(&slow, &q.r));
}

/* The client is the query's sender: a response's destination. */
static void test_client_and_server(void **state)
{
	struct msgfilter f = {0};
	struct rec q, r;

	add(&f, MSGFILTER_CLIENT, "10.1.0.0/16");
	add(&f, MSGFILTER_CLIENT, "fd00:c::/32");
	add(&f, MSGFILTER_SERVER, "10.0.0.1");
	make(&q, RECORD_DNS, false, "10.1.2.3", "10.0.0.1", "a.example", 1, 0);
	make(&r, RECORD_DNS, true, "10.0.0.1", "10.1.2.3", "a.example", 1, 0);
	assert_true(msgfilter_match(&f, &q.r));
	assert_true(msgfilter_match(&f, &r.r));
	make(&r, RECORD_DNS, true, "10.1.2.3", "10.0.0.1", "a.example", 1, 0);
	assert_false(msgfilter_match(&f, &r.r)); /* the server 10.1.2.3 answered 10.0.0.1 */
	make(&q, RECORD_DNS, false, "fd00:c::1", "fd00::53", "a.example", 1, 0);
	assert_false(msgfilter_match(&f, &q.r)); /* no IPv6 server given */
}

static void test_combined_and_repeated(void **state)
{
	struct msgfilter f = {0};
	struct rec x;

	add(&f, MSGFILTER_QTYPE, "AAAA");
	add(&f, MSGFILTER_QTYPE, "TYPE15");
	add(&f, MSGFILTER_DIR, "ingress");
	make(&x, RECORD_DNS, false, "10.1.0.1", "10.0.0.1", "a.example", 28, 0);
	assert_false(msgfilter_match(&f, &x.r)); /* egress */
	x.meta.dir = DNSSNOOP_INGRESS;
	assert_true(msgfilter_match(&f, &x.r));
	x.msg.qtype = 15;
	assert_true(msgfilter_match(&f, &x.r));
	x.msg.qtype = 1;
	assert_false(msgfilter_match(&f, &x.r));
	x.msg.qtype = 28;
	x.meta.dir = DNSSNOOP_DIR_UNKNOWN;
	assert_false(msgfilter_match(&f, &x.r));
	x.meta.dir = DNSSNOOP_INGRESS;
	x.msg.has_question = false;
	assert_false(msgfilter_match(&f, &x.r)); /* no question: no type */
}

static void test_bad_values(void **state)
{
	struct msgfilter f = {0};
	char err[256];

	assert_int_equal(msgfilter_add(&f, MSGFILTER_RCODE, "NXDOMAN", err, sizeof(err)), -1);
	assert_string_equal(err, "--rcode: 'NXDOMAN' is not an rcode (NOERROR, NXDOMAIN, "
				 "SERVFAIL, ..., RCODEn, or none)");
	assert_int_equal(msgfilter_add(&f, MSGFILTER_DIR, "both", err, sizeof(err)), -1);
	assert_int_equal(msgfilter_add(&f, MSGFILTER_NAME, "", err, sizeof(err)), -1);
	assert_false(msgfilter_active(&f));
	for (int i = 0; i < MSGFILTER_MAX_VALUES; i++)
		add(&f, MSGFILTER_CLIENT, "10.0.0.1");
	assert_int_equal(msgfilter_add(&f, MSGFILTER_CLIENT, "10.0.0.2", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at most"));
	assert_true(msgfilter_active(&f));
}

/* The fake resolver's cgroups: 7 a unit, 8 a podman container, 9 no identity. */
static int lookups;

static const struct cgroup_ident *fake_ident(void *ctx, uint64_t cgroup_id)
{
	static struct cgroup_ident unit = {.unit = "nginx.service"};
	static struct cgroup_ident ctr = {
		.unit = "libpod-0123abcd.scope",
		.runtime = "podman",
		.container_id = "0123abcdef4567890123abcdef4567890123abcdef4567890123abcdef456789",
		.container_name = "web-1",
	};

	(void)ctx;
	lookups++;
	return cgroup_id == 7 ? &unit : cgroup_id == 8 ? &ctr : NULL;
}

/* Does a query of the process in cgroup_id pass f (owner: tgid 0 is none)? */
static bool owner_passes(struct msgfilter *f, uint32_t tgid, uint64_t cgroup_id)
{
	struct rec x;

	make(&x, RECORD_DNS, false, "10.0.0.1", "10.0.0.2", "a.example", 1, 0);
	x.meta.owner.tgid = tgid;
	x.meta.owner.cgroup_id = cgroup_id;
	return msgfilter_match(f, &x.r);
}

static void test_unit(void **state)
{
	struct msgfilter f = {0};

	add(&f, MSGFILTER_UNIT, "*.scope");
	add(&f, MSGFILTER_UNIT, "nginx.service");
	assert_false(owner_passes(&f, 1, 7)); /* no resolver: never */
	msgfilter_set_ident(&f, fake_ident, NULL);
	lookups = 0;
	assert_true(owner_passes(&f, 1, 7));
	assert_int_equal(lookups, 1); /* once per message */
	assert_true(owner_passes(&f, 1, 8)); /* libpod-....scope */
	assert_false(owner_passes(&f, 1, 9)); /* no identity */
	assert_false(owner_passes(&f, 0, 7)); /* no owner */
	assert_int_equal(lookups, 3); /* no owner: not looked up */
}

static void test_container(void **state)
{
	struct msgfilter f = {0};

	msgfilter_set_ident(&f, fake_ident, NULL);
	add(&f, MSGFILTER_CONTAINER, "web-*");
	assert_true(owner_passes(&f, 1, 8));
	assert_false(owner_passes(&f, 1, 7)); /* a unit, not a container */
	memset(&f.containers, 0, sizeof(f.containers));
	add(&f, MSGFILTER_CONTAINER, "0123abcdef45"); /* a short id */
	assert_true(owner_passes(&f, 1, 8));
	memset(&f.containers, 0, sizeof(f.containers));
	add(&f, MSGFILTER_CONTAINER, "123abc"); /* not its start */
	add(&f, MSGFILTER_CONTAINER, "web"); /* a glob, whole name */
	assert_false(owner_passes(&f, 1, 8));
	add(&f, MSGFILTER_UNIT, "nginx.service"); /* AND: a container and the unit */
	add(&f, MSGFILTER_CONTAINER, "web-1");
	assert_false(owner_passes(&f, 1, 8));
	assert_false(owner_passes(&f, 1, 7));
}

static void test_unit_and_others(void **state)
{
	struct msgfilter f = {0};
	char err[256];

	assert_int_equal(msgfilter_add(&f, MSGFILTER_UNIT, "", err, sizeof(err)), -1);
	assert_string_equal(err, "--unit: '' is not a unit glob");
	assert_int_equal(msgfilter_add(&f, MSGFILTER_CONTAINER, "", err, sizeof(err)), -1);
	assert_false(msgfilter_wants_ident(&f));
	msgfilter_set_ident(&f, fake_ident, NULL);
	add(&f, MSGFILTER_QTYPE, "A");
	lookups = 0;
	assert_true(owner_passes(&f, 1, 7)); /* no identity flag: none looked up */
	assert_false(msgfilter_wants_ident(&f));
	assert_int_equal(lookups, 0);
	f = (struct msgfilter){0};
	msgfilter_set_ident(&f, fake_ident, NULL);
	add(&f, MSGFILTER_UNIT, "nginx.*");
	add(&f, MSGFILTER_QTYPE, "AAAA");
	assert_true(msgfilter_wants_ident(&f));
	assert_false(owner_passes(&f, 1, 7)); /* an A query */
	assert_int_equal(lookups, 0); /* the cheap conditions first */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_globs),
		cmocka_unit_test(test_prefix_edges),
		cmocka_unit_test(test_prefix_refused),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_queries_and_responses),
		cmocka_unit_test(test_client_and_server),
		cmocka_unit_test(test_combined_and_repeated),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_unit),
		cmocka_unit_test(test_container),
		cmocka_unit_test(test_unit_and_others),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
