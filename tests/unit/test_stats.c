// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Statistics tables: figures of hand-computed observation sets, the
 * mirror and vantage rules, percentiles, distinct counts, Space-Saving
 * under a random-name flood, merging, top-n order and the others row.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "analysis/hll.h"
#include "analysis/stats.h"

#define MS 1000000ull

/* ---- observations ---- */

static const struct dnssnoop_owner curl = {.tgid = 100, .pid = 100, .uid = 1000, .comm = "curl"};

static void set_ip(uint8_t *dst, const char *text)
{
	memset(dst, 0, 16);
	if (strchr(text, ':'))
		assert_int_equal(inet_pton(AF_INET6, text, dst), 1);
	else
		assert_int_equal(inet_pton(AF_INET, text, dst), 1);
}

/* A client-vantage message between 10.0.0.1:40000 and 10.0.0.53:53 over UDP. */
static struct dns_obs obs(enum obs_kind kind, const struct dnssnoop_owner *owner, const char *name,
			  uint16_t qtype, uint32_t len, uint64_t ts)
{
	struct dns_obs o;

	memset(&o, 0, sizeof(o));
	o.kind = kind;
	o.ts_ns = ts;
	o.dir = kind == OBS_RESPONSE ? DNSSNOOP_INGRESS : DNSSNOOP_EGRESS;
	o.proto = IPPROTO_UDP;
	o.family = AF_INET;
	set_ip(o.client_addr, "10.0.0.1");
	set_ip(o.server_addr, "10.0.0.53");
	o.client_port = 40000;
	o.server_port = 53;
	o.owner = owner;
	o.cgroup = owner ? "/user.slice/curl.scope" : NULL;
	o.qname = name;
	o.qname_len = name ? strlen(name) : 0;
	o.qtype = qtype;
	o.len = len;
	return o;
}

static void add_query(struct stats *s, const struct dnssnoop_owner *owner, const char *name,
		      uint16_t qtype, uint8_t proto, uint32_t len, uint64_t ts)
{
	struct dns_obs o = obs(OBS_QUERY, owner, name, qtype, len, ts);

	o.proto = proto;
	stats_add(s, &o);
}

static struct dns_obs response(const struct dnssnoop_owner *owner, const char *name, uint16_t qtype,
			       uint16_t rcode, uint32_t len, uint64_t latency, uint64_t ts)
{
	struct dns_obs o = obs(OBS_RESPONSE, owner, name, qtype, len, ts);

	o.rcode = rcode;
	o.has_latency = latency != 0;
	o.latency_ns = latency;
	return o;
}

static void add_addr(struct dns_obs *o, const char *text)
{
	struct obs_addr *a = &o->addrs[o->naddrs++];

	a->family = strchr(text, ':') ? AF_INET6 : AF_INET;
	set_ip(a->addr, text);
}

/* ---- reading tables back ---- */

struct row {
	struct stats_key k; /* pointers redirected to the copies below by table_rows() */
	char host[300], comm[32], cgroup[128], name[1100];
	struct stats_figures f; /* latency zeroed; its summary below */
	uint64_t lat_count, lat_min, lat_max, lat_p[3]; /* p50, p90, p99 */
};

struct rows {
	struct row *r;
	size_t n, cap;
};

static const char *copy_str(char *dst, size_t size, const char *src)
{
	if (!src)
		return NULL;
	assert_true(strlen(src) < size);
	strcpy(dst, src);
	return dst;
}

static void collect(void *ctx, const struct stats_key *k, const struct stats_figures *f)
{
	static const double ps[3] = {50, 90, 99};
	struct rows *rows = ctx;
	struct row *r;

	if (rows->n == rows->cap) {
		rows->cap = rows->cap ? rows->cap * 2 : 64;
		rows->r = realloc(rows->r, rows->cap * sizeof(*rows->r));
		assert_non_null(rows->r);
	}
	r = &rows->r[rows->n++];
	memset(r, 0, sizeof(*r));
	r->k = *k;
	r->k.host = copy_str(r->host, sizeof(r->host), k->host);
	r->k.comm = copy_str(r->comm, sizeof(r->comm), k->comm);
	r->k.cgroup = copy_str(r->cgroup, sizeof(r->cgroup), k->cgroup);
	r->k.name = copy_str(r->name, sizeof(r->name), k->name);
	r->f = *f;
	memset(&r->f.latency, 0, sizeof(r->f.latency));
	r->lat_count = lathist_count(&f->latency);
	r->lat_min = lathist_min(&f->latency);
	r->lat_max = lathist_max(&f->latency);
	lathist_percentiles(&f->latency, ps, r->lat_p, 3);
}

static struct rows table_rows(const struct stats *s, enum stats_table t, size_t n,
			      struct stats_figures *others)
{
	struct rows rows = {0};

	stats_top(s, t, n, collect, &rows, others);
	for (size_t i = 0; i < rows.n; i++) { /* the copies moved with realloc */
		struct row *r = &rows.r[i];

		r->k.host = r->k.host ? r->host : NULL;
		r->k.comm = r->k.comm ? r->comm : NULL;
		r->k.cgroup = r->k.cgroup ? r->cgroup : NULL;
		r->k.name = r->k.name ? r->name : NULL;
	}
	return rows;
}

static const struct row *row_named(const struct rows *rows, const char *name)
{
	for (size_t i = 0; i < rows->n; i++)
		if (rows->r[i].k.name && !strcmp(rows->r[i].k.name, name))
			return &rows->r[i];
	fail_msg("no row for %s", name);
	return NULL;
}

static const struct row *row_peer(const struct rows *rows, const char *addr, uint16_t port,
				  uint8_t proto)
{
	uint8_t a[16];

	set_ip(a, addr);
	for (size_t i = 0; i < rows->n; i++) {
		const struct stats_key *k = &rows->r[i].k;

		if (!memcmp(k->addr, a, k->family == AF_INET ? 4 : 16) && k->port == port &&
		    k->proto == proto)
			return &rows->r[i];
	}
	fail_msg("no row for %s:%u", addr, port);
	return NULL;
}

static const struct row *row_tgid(const struct rows *rows, uint32_t tgid)
{
	for (size_t i = 0; i < rows->n; i++)
		if (rows->r[i].k.tgid == tgid)
			return &rows->r[i];
	fail_msg("no row for tgid %u", tgid);
	return NULL;
}

static uint64_t qtype_count(const struct stats_figures *f, uint16_t qtype)
{
	for (int i = 0; i < STATS_QTYPE_SLOTS; i++)
		if (f->qtypes[i].qtype == qtype)
			return f->qtypes[i].count;
	return 0;
}

/* v is the rank value; lathist reports its bucket's upper edge: v <= p < v * (1 + 1/64). */
static void assert_percentile(uint64_t reported, uint64_t v)
{
	assert_true(reported >= v);
	assert_true(reported < v + v / 64);
}

/* ---- a known set of observations ---- */

/*
 * One process (curl, tgid 100) asks 10.0.0.53:53:
 *  #  name              qtype proto len  answer                     latency
 *  1  Example.COM       A     udp   40   NOERROR 100 B, 1 addr        2 ms
 *  2  example.com       AAAA  udp   41   NOERROR 120 B, 2 addrs       4 ms
 *  3  nope.example.com  A     udp   45   NXDOMAIN 90 B                1 ms
 *  4  example.com       A     tcp   42   NOERROR 100 B, same addr     3 ms
 *  5  bad.example       A     udp   40   (unanswered)
 *  6  ref.example       MX    udp   40   REFUSED 40 B                 5 ms
 *  7  x.example         TXT   udp   38   NOTIMP 38 B, TC              (unmatched)
 *  8  fail.example      A     udp   41   SERVFAIL 41 B                6 ms
 */
static void add_known_set(struct stats *s)
{
	struct dns_obs o;

	add_query(s, &curl, "Example.COM", 1, IPPROTO_UDP, 40, 1000);
	o = response(&curl, "Example.COM", 1, 0, 100, 2 * MS, 2000);
	add_addr(&o, "93.184.216.34");
	stats_add(s, &o);

	add_query(s, &curl, "example.com", 28, IPPROTO_UDP, 41, 3000);
	o = response(&curl, "example.com", 28, 0, 120, 4 * MS, 4000);
	add_addr(&o, "2001:db8::1");
	add_addr(&o, "2001:db8::2");
	stats_add(s, &o);

	add_query(s, &curl, "nope.example.com", 1, IPPROTO_UDP, 45, 5000);
	o = response(&curl, "nope.example.com", 1, 3, 90, 1 * MS, 6000);
	stats_add(s, &o);

	add_query(s, &curl, "example.com", 1, IPPROTO_TCP, 42, 7000);
	o = response(&curl, "example.com", 1, 0, 100, 3 * MS, 8000);
	o.proto = IPPROTO_TCP;
	add_addr(&o, "93.184.216.34");
	stats_add(s, &o);

	add_query(s, &curl, "bad.example", 1, IPPROTO_UDP, 40, 9000);
	o = obs(OBS_UNANSWERED, &curl, "bad.example", 1, 0, 10000);
	stats_add(s, &o);

	add_query(s, &curl, "ref.example", 15, IPPROTO_UDP, 40, 11000);
	o = response(&curl, "ref.example", 15, 5, 40, 5 * MS, 12000);
	stats_add(s, &o);

	add_query(s, &curl, "x.example", 16, IPPROTO_UDP, 38, 13000);
	o = response(&curl, "x.example", 16, 4, 38, 0, 14000);
	o.tc = true;
	stats_add(s, &o);

	add_query(s, &curl, "fail.example", 1, IPPROTO_UDP, 41, 15000);
	o = response(&curl, "fail.example", 1, 2, 41, 6 * MS, 16000);
	stats_add(s, &o);
}

static void test_process_figures(void **state)
{
	struct stats_config cfg = {.max_entries = 1000};
	struct stats *s = stats_new(&cfg);
	struct stats_figures others;
	struct rows rows;
	const struct stats_figures *f;

	add_known_set(s);
	rows = table_rows(s, STATS_PROCESS, 0, &others);
	assert_int_equal(rows.n, 1);
	assert_int_equal(rows.r[0].k.tgid, 100);
	assert_int_equal(rows.r[0].k.uid, 1000);
	assert_string_equal(rows.r[0].k.comm, "curl");
	assert_string_equal(rows.r[0].k.cgroup, "/user.slice/curl.scope");
	assert_null(rows.r[0].k.host);
	f = &rows.r[0].f;
	assert_int_equal(f->queries, 8);
	assert_int_equal(f->error, 0);
	assert_int_equal(f->responses, 7);
	assert_int_equal(f->unanswered, 1);
	assert_int_equal(f->rcode[RC_NOERROR], 3);
	assert_int_equal(f->rcode[RC_NXDOMAIN], 1);
	assert_int_equal(f->rcode[RC_SERVFAIL], 1);
	assert_int_equal(f->rcode[RC_REFUSED], 1);
	assert_int_equal(f->rcode[RC_OTHER], 1);
	/* A 5, then the three types seen once, by type number: MX 15, TXT 16, AAAA 28. */
	assert_int_equal(f->qtypes[0].qtype, 1);
	assert_int_equal(f->qtypes[0].count, 5);
	assert_int_equal(f->qtypes[1].qtype, 15);
	assert_int_equal(f->qtypes[2].qtype, 16);
	assert_int_equal(f->qtypes[3].qtype, 28);
	assert_int_equal(f->qtypes[3].count, 1);
	assert_int_equal(f->qtypes[4].count, 0);
	assert_int_equal(f->qtype_other, 0);
	assert_int_equal(f->udp, 13);
	assert_int_equal(f->tcp, 2);
	assert_int_equal(f->truncated, 1);
	assert_int_equal(f->bytes_query, 40 + 41 + 45 + 42 + 40 + 40 + 38 + 41);
	assert_int_equal(f->bytes_response, 100 + 120 + 90 + 100 + 40 + 38 + 41);
	assert_int_equal(f->first_ns, 1000);
	assert_int_equal(f->last_ns, 16000);
	/* example.com (any case), nope.example.com, bad, ref, x, fail. */
	assert_int_equal(f->distinct_names, 6);
	assert_false(f->names_estimated);
	assert_int_equal(rows.r[0].lat_count, 6);
	assert_int_equal(rows.r[0].lat_min, 1 * MS);
	assert_int_equal(rows.r[0].lat_max, 6 * MS);
	assert_percentile(rows.r[0].lat_p[0], 3 * MS); /* rank 3 of 1..6 ms */
	assert_int_equal(others.queries, 0);
	assert_int_equal(others.responses, 0);
	lathist_free(&others.latency);
	free(rows.r);

	/* Rolled up by (comm, cgroup): the same figures. */
	rows = table_rows(s, STATS_COMM, 0, NULL);
	assert_int_equal(rows.n, 1);
	assert_string_equal(rows.r[0].k.comm, "curl");
	assert_string_equal(rows.r[0].k.cgroup, "/user.slice/curl.scope");
	assert_int_equal(rows.r[0].f.queries, 8);
	assert_int_equal(rows.r[0].f.distinct_names, 6);
	free(rows.r);
	assert_int_equal(stats_total_queries(s, STATS_PROCESS), 8);
	assert_int_equal(stats_evictions(s, STATS_PROCESS), 0);
	stats_free(s);
}

static void test_name_and_peer_figures(void **state)
{
	struct stats *s = stats_new(NULL);
	struct rows rows;
	const struct row *r;

	add_known_set(s);
	rows = table_rows(s, STATS_NAME, 0, NULL);
	assert_int_equal(rows.n, 6);
	r = row_named(&rows, "example.com"); /* "Example.COM" folded */
	assert_int_equal(r->f.queries, 3);
	assert_int_equal(r->f.responses, 3);
	assert_int_equal(r->f.rcode[RC_NOERROR], 3);
	assert_int_equal(qtype_count(&r->f, 1), 2);
	assert_int_equal(qtype_count(&r->f, 28), 1);
	assert_int_equal(r->f.udp, 4);
	assert_int_equal(r->f.tcp, 2);
	assert_int_equal(r->f.bytes_query, 123);
	assert_int_equal(r->f.bytes_response, 320);
	assert_int_equal(r->f.distinct_addrs, 3); /* 93.184.216.34 twice, 2 v6 */
	assert_false(r->f.addrs_estimated);
	assert_int_equal(r->f.distinct_names, 0); /* not a figure of name tables */
	assert_int_equal(r->lat_count, 3);
	r = row_named(&rows, "bad.example");
	assert_int_equal(r->f.queries, 1);
	assert_int_equal(r->f.responses, 0);
	assert_int_equal(r->f.unanswered, 1);
	r = row_named(&rows, "x.example");
	assert_int_equal(r->f.truncated, 1);
	assert_int_equal(r->f.rcode[RC_OTHER], 1);
	assert_int_equal(r->lat_count, 0);
	/* Top order: example.com (3), then the five names with 1 query by key. */
	assert_string_equal(rows.r[0].k.name, "example.com");
	assert_string_equal(rows.r[1].k.name, "bad.example");
	assert_string_equal(rows.r[2].k.name, "fail.example");
	assert_string_equal(rows.r[5].k.name, "x.example");
	free(rows.r);

	/* Client vantage: the peer is the server; TCP is a peer of its own. */
	rows = table_rows(s, STATS_PEER, 0, NULL);
	assert_int_equal(rows.n, 2);
	r = row_peer(&rows, "10.0.0.53", 53, IPPROTO_UDP);
	assert_int_equal(r->k.family, AF_INET);
	assert_int_equal(r->f.queries, 7);
	assert_int_equal(r->f.distinct_names, 6);
	r = row_peer(&rows, "10.0.0.53", 53, IPPROTO_TCP);
	assert_int_equal(r->f.queries, 1);
	assert_int_equal(r->f.responses, 1);
	assert_int_equal(r->f.distinct_names, 1);
	free(rows.r);

	rows = table_rows(s, STATS_PROC_PEER, 0, NULL);
	assert_int_equal(rows.n, 2);
	r = row_peer(&rows, "10.0.0.53", 53, IPPROTO_UDP);
	assert_int_equal(r->k.tgid, 100);
	assert_string_equal(r->k.comm, "curl"); /* from the process entry */
	assert_int_equal(r->k.uid, 1000);
	assert_int_equal(r->f.queries, 7);
	free(rows.r);

	rows = table_rows(s, STATS_PROC_NAME, 0, NULL);
	assert_int_equal(rows.n, 6);
	r = row_named(&rows, "example.com");
	assert_int_equal(r->k.tgid, 100);
	assert_string_equal(r->k.comm, "curl");
	assert_int_equal(r->f.queries, 3);
	assert_int_equal(r->f.distinct_addrs, 3);
	free(rows.r);

	rows = table_rows(s, STATS_CLIENT_NAME, 0, NULL);
	assert_int_equal(rows.n, 6);
	r = row_named(&rows, "nope.example.com");
	assert_int_equal(r->k.family, AF_INET);
	assert_memory_equal(r->k.addr, "\x0a\x00\x00\x01", 4);
	assert_int_equal(r->f.rcode[RC_NXDOMAIN], 1);
	free(rows.r);
	stats_free(s);
}

/*
 * Both ends local: dig (tgid 200, 10.0.0.1:40000) asks nsd (tgid 300,
 * 10.0.0.2:53). Four copies: dig's query and response, and nsd's mirrors.
 */
static void test_mirrors_and_vantage(void **state)
{
	static const struct dnssnoop_owner dig = {.tgid = 200, .comm = "dig"};
	static const struct dnssnoop_owner nsd = {.tgid = 300, .comm = "nsd"};
	struct stats *s = stats_new(NULL);
	struct dns_obs o[4];
	struct rows rows;
	const struct row *r;

	o[0] = obs(OBS_QUERY, &dig, "www.example", 1, 40, 1000);
	o[1] = o[0];
	o[1].dir = DNSSNOOP_INGRESS;
	o[1].owner = &nsd;
	o[1].mirror = true;
	o[2] = response(&nsd, "www.example", 1, 0, 80, 0, 2000);
	o[2].dir = DNSSNOOP_EGRESS;
	o[2].mirror = true;
	o[3] = response(&dig, "www.example", 1, 0, 80, 1 * MS, 2000);
	for (int i = 0; i < 4; i++) {
		set_ip(o[i].server_addr, "10.0.0.2");
		stats_add(s, &o[i]);
	}

	rows = table_rows(s, STATS_PROCESS, 0, NULL);
	assert_int_equal(rows.n, 2);
	assert_int_equal(row_tgid(&rows, 200)->f.queries, 1);
	assert_int_equal(row_tgid(&rows, 200)->f.responses, 1);
	assert_int_equal(row_tgid(&rows, 300)->f.queries, 1); /* mirrors count here */
	assert_int_equal(row_tgid(&rows, 300)->f.responses, 1);
	free(rows.r);

	/* Host-wide: the exchange once. */
	rows = table_rows(s, STATS_NAME, 0, NULL);
	assert_int_equal(rows.n, 1);
	assert_int_equal(rows.r[0].f.queries, 1);
	assert_int_equal(rows.r[0].f.responses, 1);
	free(rows.r);
	rows = table_rows(s, STATS_PEER, 0, NULL);
	assert_int_equal(rows.n, 1);
	row_peer(&rows, "10.0.0.2", 53, IPPROTO_UDP);
	free(rows.r);
	rows = table_rows(s, STATS_CLIENT_NAME, 0, NULL);
	assert_int_equal(rows.n, 1);
	assert_int_equal(rows.r[0].f.queries, 1);
	free(rows.r);
	assert_int_equal(stats_total_queries(s, STATS_NAME), 1);
	assert_int_equal(stats_total_queries(s, STATS_PROCESS), 2);

	/* Per process, the peer is the other end: the server for dig, the client for nsd. */
	rows = table_rows(s, STATS_PROC_PEER, 0, NULL);
	assert_int_equal(rows.n, 2);
	r = row_peer(&rows, "10.0.0.2", 53, IPPROTO_UDP);
	assert_int_equal(r->k.tgid, 200);
	assert_int_equal(r->f.queries, 1);
	r = row_peer(&rows, "10.0.0.1", 0, IPPROTO_UDP); /* a client: port 0 */
	assert_int_equal(r->k.tgid, 300);
	assert_int_equal(r->f.queries, 1);
	assert_int_equal(r->f.responses, 1);
	free(rows.r);
	stats_free(s);
}

/* A server host: queries come in from remote clients; offline traffic is client vantage. */
static void test_server_vantage_and_offline(void **state)
{
	static const struct dnssnoop_owner nsd = {.tgid = 300, .comm = "nsd"};
	struct stats *s = stats_new(NULL);
	struct dns_obs q = obs(OBS_QUERY, &nsd, "zone.example", 1, 40, 1000);
	struct dns_obs r = response(&nsd, "zone.example", 1, 0, 80, 0, 1100);
	struct dns_obs off = obs(OBS_QUERY, NULL, "zone.example", 1, 40, 1200);
	struct rows rows;

	q.dir = DNSSNOOP_INGRESS;
	r.dir = DNSSNOOP_EGRESS;
	set_ip(q.client_addr, "192.0.2.7");
	set_ip(r.client_addr, "192.0.2.7");
	q.client_port = r.client_port = 5353;
	stats_add(s, &q);
	stats_add(s, &r);
	off.dir = DNSSNOOP_DIR_UNKNOWN;
	set_ip(off.server_addr, "198.51.100.1");
	stats_add(s, &off);

	rows = table_rows(s, STATS_PEER, 0, NULL);
	assert_int_equal(rows.n, 2);
	assert_int_equal(row_peer(&rows, "192.0.2.7", 0, IPPROTO_UDP)->f.queries, 1);
	assert_int_equal(row_peer(&rows, "192.0.2.7", 0, IPPROTO_UDP)->f.responses, 1);
	assert_int_equal(row_peer(&rows, "198.51.100.1", 53, IPPROTO_UDP)->f.queries, 1);
	free(rows.r);
	/* Client x name: the remote client, and the offline capture's client. */
	rows = table_rows(s, STATS_CLIENT_NAME, 0, NULL);
	assert_int_equal(rows.n, 2);
	assert_memory_equal(rows.r[0].k.addr, "\x0a\x00\x00\x01", 4); /* ties: key order */
	assert_memory_equal(rows.r[1].k.addr, "\xc0\x00\x02\x07", 4);
	assert_int_equal(rows.r[1].f.responses, 1);
	free(rows.r);
	/* No owner: not in the process tables. */
	assert_int_equal(stats_total_queries(s, STATS_PROCESS), 1);
	stats_free(s);
}

/* A query to nsd (tgid 300, 10.0.0.53:53) from client:5353, seen on the server. */
static struct dns_obs served(enum obs_kind kind, const char *client, const char *name, uint64_t ts)
{
	static const struct dnssnoop_owner nsd = {.tgid = 300, .comm = "nsd"};
	struct dns_obs o = obs(kind, &nsd, name, 1, 40, ts);

	o.dir = kind == OBS_RESPONSE ? DNSSNOOP_EGRESS : DNSSNOOP_INGRESS;
	set_ip(o.client_addr, client);
	o.client_port = 5353;
	return o;
}

/*
 * The clients table on a server: two remote clients, one retransmission,
 * an unanswered query, a mirror (not host-wide), another host's client
 * with the same address (a key of its own), and a response marked
 * retransmit (only queries are retransmissions).
 */
static void test_clients_and_retransmits(void **state)
{
	struct stats *s = stats_new(NULL), *merged = stats_new(NULL);
	struct dns_obs o[9];
	struct rows rows;
	const struct row *r;

	o[0] = served(OBS_QUERY, "192.0.2.7", "a.example", 1000);
	o[1] = o[0];
	o[1].ts_ns = 1500;
	o[1].retransmit = true;
	o[2] = served(OBS_RESPONSE, "192.0.2.7", "a.example", 2000);
	o[2].has_latency = true;
	o[2].latency_ns = 1 * MS;
	o[3] = served(OBS_QUERY, "192.0.2.7", "b.example", 3000);
	o[4] = served(OBS_QUERY, "192.0.2.8", "A.Example", 4000);
	o[5] = served(OBS_RESPONSE, "192.0.2.8", "a.example", 4100);
	o[5].rcode = 5;
	o[5].retransmit = true;
	o[6] = served(OBS_QUERY, "192.0.2.8", "c.example", 5000);
	o[6].mirror = true;
	o[6].retransmit = true;
	o[7] = served(OBS_QUERY, "192.0.2.7", "a.example", 6000);
	o[7].host = "web-1";
	o[7].owner = NULL;
	o[7].retransmit = true;
	o[8] = served(OBS_UNANSWERED, "192.0.2.7", "b.example", 8000);
	for (int i = 0; i < 9; i++)
		stats_add(s, &o[i]);

	/* Ranked by queries, ties by key: this host's (empty host) before web-1's. */
	rows = table_rows(s, STATS_CLIENT, 0, NULL);
	assert_int_equal(rows.n, 3);
	r = &rows.r[0];
	assert_null(r->k.host);
	assert_int_equal(r->k.family, AF_INET);
	assert_memory_equal(r->k.addr, "\xc0\x00\x02\x07", 4);
	assert_null(r->k.name);
	assert_int_equal(r->k.tgid, 0);
	assert_int_equal(r->f.queries, 3);
	assert_int_equal(r->f.retransmits, 1);
	assert_int_equal(r->f.responses, 1);
	assert_int_equal(r->f.rcode[RC_NOERROR], 1);
	assert_int_equal(r->f.unanswered, 1);
	assert_int_equal(r->f.distinct_names, 2);
	assert_int_equal(r->lat_count, 1);
	assert_int_equal(r->f.first_ns, 1000);
	assert_int_equal(r->f.last_ns, 8000);
	r = &rows.r[1];
	assert_null(r->k.host);
	assert_memory_equal(r->k.addr, "\xc0\x00\x02\x08", 4);
	assert_int_equal(r->f.queries, 1); /* the mirror is not counted host-wide */
	assert_int_equal(r->f.retransmits, 0);
	assert_int_equal(r->f.rcode[RC_REFUSED], 1);
	assert_int_equal(r->f.distinct_names, 1); /* A.Example folded */
	r = &rows.r[2];
	assert_string_equal(r->k.host, "web-1");
	assert_memory_equal(r->k.addr, "\xc0\x00\x02\x07", 4);
	assert_int_equal(r->f.queries, 1);
	assert_int_equal(r->f.retransmits, 1);
	free(rows.r);
	assert_int_equal(stats_total_queries(s, STATS_CLIENT), 5);

	/* nsd served the mirror too: its retransmission counts there. */
	rows = table_rows(s, STATS_PROCESS, 0, NULL);
	assert_int_equal(rows.n, 1);
	assert_int_equal(rows.r[0].f.queries, 5);
	assert_int_equal(rows.r[0].f.retransmits, 2);
	free(rows.r);
	rows = table_rows(s, STATS_PEER, 0, NULL);
	assert_int_equal(rows.n, 2);
	assert_int_equal(row_peer(&rows, "192.0.2.7", 0, IPPROTO_UDP)->f.retransmits, 2);
	assert_int_equal(row_peer(&rows, "192.0.2.8", 0, IPPROTO_UDP)->f.retransmits, 0);
	free(rows.r);

	/* Merging carries the counter. */
	stats_merge(merged, s);
	stats_merge(merged, s);
	rows = table_rows(merged, STATS_CLIENT, 0, NULL);
	assert_int_equal(rows.n, 3);
	assert_int_equal(rows.r[0].f.queries, 6);
	assert_int_equal(rows.r[0].f.retransmits, 2);
	free(rows.r);
	stats_free(merged);
	stats_free(s);
}

static void test_latency_percentiles(void **state)
{
	struct stats *s = stats_new(NULL);
	struct rows rows;

	/* 1 .. 100 ms, in a scrambled order: p50 = 50, p90 = 90, p99 = 99 ms. */
	for (int i = 0; i < 100; i++) {
		int ms = (i * 37) % 100 + 1;
		struct dns_obs o = response(&curl, "lat.example", 1, 0, 60, ms * MS, 1000 + i);

		stats_add(s, &o);
	}
	rows = table_rows(s, STATS_NAME, 0, NULL);
	assert_int_equal(rows.n, 1);
	assert_int_equal(rows.r[0].f.queries, 0); /* responses only: entry with 0 queries */
	assert_int_equal(rows.r[0].f.responses, 100);
	assert_int_equal(rows.r[0].lat_count, 100);
	assert_int_equal(rows.r[0].lat_min, 1 * MS);
	assert_int_equal(rows.r[0].lat_max, 100 * MS);
	assert_percentile(rows.r[0].lat_p[0], 50 * MS);
	assert_percentile(rows.r[0].lat_p[1], 90 * MS);
	assert_percentile(rows.r[0].lat_p[2], 99 * MS);
	free(rows.r);
	stats_free(s);
}

static void test_distinct_names(void **state)
{
	struct stats *s = stats_new(NULL);
	char name[64];
	struct rows rows;

	/* 63 names, each twice (second time upper case): exact 63. */
	for (int i = 0; i < 63; i++) {
		snprintf(name, sizeof(name), "host%d.example", i);
		add_query(s, &curl, name, 1, IPPROTO_UDP, 40, i);
		snprintf(name, sizeof(name), "HOST%d.EXAMPLE", i);
		add_query(s, &curl, name, 1, IPPROTO_UDP, 40, i);
	}
	rows = table_rows(s, STATS_PROCESS, 0, NULL);
	assert_int_equal(rows.r[0].f.distinct_names, 63);
	assert_false(rows.r[0].f.names_estimated);
	free(rows.r);

	add_query(s, &curl, "host63.example", 1, IPPROTO_UDP, 40, 63);
	rows = table_rows(s, STATS_PROCESS, 0, NULL);
	assert_int_equal(rows.r[0].f.distinct_names, 64);
	assert_false(rows.r[0].f.names_estimated);
	free(rows.r);

	/* Past 64: a HyperLogLog estimate, within 3 standard errors. */
	for (int i = 64; i < 10000; i++) {
		snprintf(name, sizeof(name), "host%d.example", i);
		add_query(s, &curl, name, 1, IPPROTO_UDP, 40, i);
	}
	rows = table_rows(s, STATS_PROCESS, 0, NULL);
	assert_true(rows.r[0].f.names_estimated);
	assert_true(fabs((double)rows.r[0].f.distinct_names - 10000) <= 10000 * 3 * HLL_STD_ERROR);
	free(rows.r);
	rows = table_rows(s, STATS_PEER, 0, NULL);
	assert_true(rows.r[0].f.names_estimated);
	assert_true(fabs((double)rows.r[0].f.distinct_names - 10000) <= 10000 * 3 * HLL_STD_ERROR);
	free(rows.r);
	stats_free(s);
}

static void test_distinct_addrs(void **state)
{
	struct stats *s = stats_new(NULL);
	char text[32];
	struct rows rows;

	/* 8 responses x 8 addresses: 10.1.0.0 .. 10.1.0.63, then the same again. */
	for (int round = 0; round < 2; round++) {
		for (int r = 0; r < 8; r++) {
			struct dns_obs o = response(NULL, "cdn.example", 1, 0, 300, 0, r);

			for (int a = 0; a < 8; a++) {
				snprintf(text, sizeof(text), "10.1.0.%d", r * 8 + a);
				add_addr(&o, text);
			}
			stats_add(s, &o);
		}
	}
	rows = table_rows(s, STATS_NAME, 0, NULL);
	assert_int_equal(rows.r[0].f.distinct_addrs, 64);
	assert_false(rows.r[0].f.addrs_estimated);
	free(rows.r);
	for (int r = 0; r < 500; r++) {
		struct dns_obs o = response(NULL, "cdn.example", 1, 0, 300, 0, r);

		for (int a = 0; a < 8; a++) {
			snprintf(text, sizeof(text), "10.2.%d.%d", r / 32, (r % 32) * 8 + a);
			add_addr(&o, text);
		}
		stats_add(s, &o);
	}
	rows = table_rows(s, STATS_NAME, 0, NULL);
	assert_true(rows.r[0].f.addrs_estimated);
	assert_true(fabs((double)rows.r[0].f.distinct_addrs - 4064) <= 4064 * 3 * HLL_STD_ERROR);
	free(rows.r);
	stats_free(s);
}

/* ---- Space-Saving ---- */

static const char *const heavy[5] = {"alpha.example", "bravo.example", "charlie.example",
				     "delta.example", "echo.example"};

/*
 * Blocks of 50 queries: the 5 heavy names once each (2% of traffic each),
 * then 45 names never seen before. blocks = 22223 gives 1000035 random names.
 */
static void flood(struct stats *s, uint32_t blocks, uint32_t salt, bool check_bound, size_t bound)
{
	char name[64];
	uint64_t ts = 0;

	for (uint32_t b = 0; b < blocks; b++) {
		for (int i = 0; i < 5; i++)
			add_query(s, NULL, heavy[i], 1, IPPROTO_UDP, 40, ts++);
		for (int i = 0; i < 45; i++) {
			snprintf(name, sizeof(name), "r%08x-%u.flood.example", b * 45 + i, salt);
			add_query(s, NULL, name, 1, IPPROTO_UDP, 40, ts++);
		}
		if (check_bound && b % 1000 == 0) {
			assert_true(stats_entries(s, STATS_NAME) <= bound);
			assert_true(stats_entries(s, STATS_CLIENT_NAME) <= bound);
		}
	}
}

/* sum_exact: one stream (no merge), so the counts sum to the queries seen. */
static void assert_heavy_hitters(const struct stats *s, enum stats_table t, uint64_t truth,
				 uint64_t error_bound, bool sum_exact)
{
	struct stats_figures others;
	struct rows rows = table_rows(s, t, 5, &others);
	uint64_t sum = others.queries;

	assert_int_equal(rows.n, 5);
	for (int i = 0; i < 5; i++) {
		const struct row *r = row_named(&rows, heavy[i]);

		assert_true(r->f.queries >= truth); /* never under */
		assert_true(r->f.queries - r->f.error <= truth);
		assert_true(r->f.error <= error_bound);
		sum += rows.r[i].f.queries;
	}
	/* Space-Saving keeps the sum of counts equal to the queries seen. */
	if (sum_exact)
		assert_int_equal(sum, stats_total_queries(s, t));
	lathist_free(&others.latency);
	free(rows.r);
}

/*
 * A table grows by doubling (64, 128, 256, 512, then max_entries 1000):
 * queries to new names interleaved with repeats of older ones, across
 * every doubling, keep every name with its exact count; the first
 * eviction comes with name 1001, not before.
 */
static void test_growth_exact(void **state)
{
	struct stats_config cfg = {.max_entries = 1000};
	struct stats *s = stats_new(&cfg);
	uint32_t truth[1000] = {0};
	uint64_t total = 0, ts = 0;
	struct stats_figures others;
	struct rows rows;
	char name[64];

	for (uint32_t i = 0; i < 1000; i++) {
		for (uint32_t j = 0; j <= i % 3; j++) {
			uint32_t k = j ? (i * 7919 + j) % (i + 1) : i; /* i, then older names */

			snprintf(name, sizeof(name), "g%04u.example", k);
			add_query(s, &curl, name, 1, IPPROTO_UDP, 40, ts++);
			truth[k]++;
			total++;
		}
		assert_int_equal(stats_entries(s, STATS_NAME), i + 1);
		assert_int_equal(stats_evictions(s, STATS_NAME), 0);
	}
	rows = table_rows(s, STATS_NAME, 0, &others);
	assert_int_equal(rows.n, 1000);
	assert_int_equal(others.queries, 0);
	for (uint32_t k = 0; k < 1000; k++) {
		const struct row *r;

		snprintf(name, sizeof(name), "g%04u.example", k);
		r = row_named(&rows, name);
		assert_int_equal(r->f.queries, truth[k]);
		assert_int_equal(r->f.error, 0);
		assert_int_equal(r->f.bytes_query, 40ull * truth[k]);
	}
	free(rows.r);
	assert_int_equal(stats_total_queries(s, STATS_NAME), total);
	assert_int_equal(stats_entries(s, STATS_CLIENT_NAME), 1000);
	assert_int_equal(stats_entries(s, STATS_PROC_NAME), 1000);
	assert_int_equal(stats_entries(s, STATS_PROCESS), 1);

	add_query(s, &curl, "new.example", 1, IPPROTO_UDP, 40, ts++);
	assert_int_equal(stats_entries(s, STATS_NAME), 1000);
	assert_int_equal(stats_evictions(s, STATS_NAME), 1);
	stats_free(s);
}

static void test_eviction_flood(void **state)
{
	struct stats_config cfg = {.max_entries = 1000};
	struct stats *s = stats_new(&cfg);
	const uint32_t blocks = 22223;
	uint64_t total = blocks * 50ull;

	flood(s, blocks, 0, true, 1000);
	assert_int_equal(stats_total_queries(s, STATS_NAME), total);
	assert_int_equal(stats_entries(s, STATS_NAME), 1000);
	assert_int_equal(stats_entries(s, STATS_CLIENT_NAME), 1000);
	assert_true(stats_evictions(s, STATS_NAME) >= 1000000 - 1000);
	/* Every key over N/k = 1111 queries is kept, over-counted by at most N/k. */
	assert_heavy_hitters(s, STATS_NAME, blocks, total / 1000, true);
	assert_heavy_hitters(s, STATS_CLIENT_NAME, blocks, total / 1000, true);
	/* The peer table never filled: exact. */
	assert_int_equal(stats_entries(s, STATS_PEER), 1);
	assert_int_equal(stats_evictions(s, STATS_PEER), 0);
	stats_free(s);
}

/* Responses for keys a full table does not hold go to the others row. */
static void test_untracked(void **state)
{
	struct stats_config cfg = {.max_entries = 2};
	struct stats *s = stats_new(&cfg);
	struct stats_figures others;
	struct rows rows;
	struct dns_obs o;

	add_query(s, NULL, "a.example", 1, IPPROTO_UDP, 40, 1);
	add_query(s, NULL, "a.example", 1, IPPROTO_UDP, 40, 2);
	o = response(NULL, "b.example", 1, 0, 50, 7 * MS, 3); /* room: entry with 0 queries */
	stats_add(s, &o);
	o = response(NULL, "c.example", 1, 3, 60, 9 * MS, 4); /* full: untracked */
	stats_add(s, &o);
	rows = table_rows(s, STATS_NAME, 0, &others);
	assert_int_equal(rows.n, 2);
	assert_string_equal(rows.r[0].k.name, "a.example");
	assert_int_equal(rows.r[0].f.queries, 2);
	assert_string_equal(rows.r[1].k.name, "b.example");
	assert_int_equal(rows.r[1].f.queries, 0);
	assert_int_equal(rows.r[1].f.responses, 1);
	assert_int_equal(others.queries, 0);
	assert_int_equal(others.responses, 1);
	assert_int_equal(others.rcode[RC_NXDOMAIN], 1);
	assert_int_equal(others.bytes_response, 60);
	assert_int_equal(lathist_count(&others.latency), 1);
	assert_int_equal(lathist_max(&others.latency), 9 * MS);
	lathist_free(&others.latency);
	free(rows.r);

	/* A query for d evicts b (count 0): d gets count 1, error 0; b's figures join others. */
	add_query(s, NULL, "d.example", 1, IPPROTO_UDP, 40, 5);
	rows = table_rows(s, STATS_NAME, 0, &others);
	assert_int_equal(rows.n, 2);
	assert_string_equal(rows.r[1].k.name, "d.example");
	assert_int_equal(rows.r[1].f.queries, 1);
	assert_int_equal(rows.r[1].f.error, 0);
	assert_int_equal(rows.r[1].f.responses, 0);
	assert_int_equal(others.responses, 2);
	assert_int_equal(others.bytes_response, 110);
	assert_int_equal(lathist_count(&others.latency), 2);
	assert_int_equal(stats_evictions(s, STATS_NAME), 1);
	lathist_free(&others.latency);
	free(rows.r);

	/* The next newcomer replaces d (1) and inherits its count as error. */
	add_query(s, NULL, "e.example", 1, IPPROTO_UDP, 40, 6);
	rows = table_rows(s, STATS_NAME, 0, &others);
	assert_string_equal(rows.r[1].k.name, "e.example");
	assert_int_equal(rows.r[1].f.queries, 2);
	assert_int_equal(rows.r[1].f.error, 1);
	assert_int_equal(rows.r[1].f.bytes_query, 40); /* figures restart */
	assert_int_equal(others.bytes_query, 40); /* d's query; b had none */
	lathist_free(&others.latency);
	free(rows.r);
	stats_free(s);
}

static void test_top_and_others(void **state)
{
	struct stats *s = stats_new(NULL);
	struct stats_figures others;
	struct rows rows;
	/* d 1, c 3, a 5, b 3 queries; each query answered with 1 ms x its count. */
	static const struct {
		const char *name;
		int n;
	} set[] = {{"d.example", 1}, {"c.example", 3}, {"a.example", 5}, {"b.example", 3}};

	for (size_t i = 0; i < 4; i++) {
		for (int j = 0; j < set[i].n; j++) {
			struct dns_obs o =
				response(NULL, set[i].name, 1, 0, 100, set[i].n * MS, 10);

			add_query(s, NULL, set[i].name, 1, IPPROTO_UDP, 10 * set[i].n, 10 + i);
			stats_add(s, &o);
		}
	}
	rows = table_rows(s, STATS_NAME, 0, &others);
	assert_int_equal(rows.n, 4);
	assert_string_equal(rows.r[0].k.name, "a.example");
	assert_string_equal(rows.r[1].k.name, "b.example"); /* tie with c: key order */
	assert_string_equal(rows.r[2].k.name, "c.example");
	assert_string_equal(rows.r[3].k.name, "d.example");
	assert_int_equal(others.queries, 0);
	lathist_free(&others.latency);
	free(rows.r);

	rows = table_rows(s, STATS_NAME, 2, &others);
	assert_int_equal(rows.n, 2);
	assert_string_equal(rows.r[0].k.name, "a.example");
	assert_string_equal(rows.r[1].k.name, "b.example");
	/* Others = c (3 queries of 30 B, 3 ms) + d (1 of 10 B, 1 ms). */
	assert_int_equal(others.queries, 4);
	assert_int_equal(others.error, 0);
	assert_int_equal(others.responses, 4);
	assert_int_equal(others.rcode[RC_NOERROR], 4);
	assert_int_equal(others.bytes_query, 3 * 30 + 10);
	assert_int_equal(others.bytes_response, 400);
	assert_int_equal(others.qtypes[0].qtype, 1);
	assert_int_equal(others.qtypes[0].count, 4);
	assert_int_equal(others.udp, 8);
	assert_int_equal(others.distinct_addrs, 0);
	assert_int_equal(others.first_ns, 10);
	assert_int_equal(others.last_ns, 11);
	assert_int_equal(lathist_count(&others.latency), 4);
	assert_int_equal(lathist_min(&others.latency), 1 * MS);
	assert_int_equal(lathist_max(&others.latency), 3 * MS);
	lathist_free(&others.latency);
	free(rows.r);

	/* Distinct names of the others row: the union over the rest. */
	rows = table_rows(s, STATS_PEER, 0, &others);
	assert_int_equal(rows.r[0].f.distinct_names, 4);
	assert_int_equal(rows.r[0].f.queries, 12);
	lathist_free(&others.latency);
	free(rows.r);
	stats_free(s);
}

/* ---- merging ---- */

/* A reproducible mix: 6 processes, 150 names, 5 qtypes, both vantages, mirrors. */
static void add_mix(struct stats *s, uint32_t from, uint32_t to)
{
	static struct dnssnoop_owner owners[6];
	static const uint16_t qtypes[5] = {1, 28, 65, 15, 16};
	static const char *const cgroups[3] = {"/a.scope", "/b.scope", NULL};
	static const char *const hosts[3] = {NULL, "web1", "web2"};
	char name[64];

	for (int i = 0; i < 6; i++) {
		owners[i].tgid = 1000 + i;
		owners[i].uid = i;
		snprintf(owners[i].comm, sizeof(owners[i].comm), "proc%d", i % 3);
	}
	for (uint32_t i = from; i < to; i++) {
		uint32_t h = i * 2654435761u;
		uint32_t n = (h >> 8) % 150 ? (h >> 8) % 150 : i % 150;
		struct dns_obs o;

		snprintf(name, sizeof(name), "%s%u.example", (h & 1) ? "Host" : "host", n);
		o = obs(OBS_QUERY, (h >> 3) % 7 ? &owners[(h >> 4) % 6] : NULL, name,
			qtypes[(h >> 12) % 5], 30 + h % 50, 1000 + i);
		o.cgroup = cgroups[(h >> 4) % 6 % 3];
		o.host = hosts[(h >> 20) % 3];
		o.proto = (h >> 14) % 5 ? IPPROTO_UDP : IPPROTO_TCP;
		o.client_addr[3] = (uint8_t)(h >> 16) % 4;
		o.server_addr[3] = 53 + (h >> 18) % 2;
		o.mirror = (h >> 22) % 9 == 0;
		if ((h >> 24) % 5 == 0) {
			o.dir = DNSSNOOP_INGRESS; /* server vantage */
		}
		if ((h >> 26) % 3 == 1) {
			o.kind = OBS_RESPONSE;
			o.dir ^= 1;
			o.rcode = (h >> 10) % 6;
			o.tc = (h >> 9) % 17 == 0;
			o.has_latency = (h >> 5) % 4 != 0;
			o.latency_ns = (h % 100000) * 1000;
			for (int a = 0; a < (int)((h >> 2) % 3); a++) {
				o.addrs[a].family = AF_INET;
				o.addrs[a].addr[0] = 10;
				o.addrs[a].addr[3] = (uint8_t)(n + a);
			}
			o.naddrs = (h >> 2) % 3;
		} else if ((h >> 26) % 3 == 2 && (h >> 28) % 4 == 0) {
			o.kind = OBS_UNANSWERED;
		}
		stats_add(s, &o);
	}
}

static void assert_figures_equal(const struct stats_figures *x, const struct stats_figures *y)
{
	assert_int_equal(x->queries, y->queries);
	assert_int_equal(x->error, y->error);
	assert_int_equal(x->responses, y->responses);
	assert_int_equal(x->unanswered, y->unanswered);
	assert_memory_equal(x->rcode, y->rcode, sizeof(x->rcode));
	for (int i = 0; i < STATS_QTYPE_SLOTS; i++) {
		assert_int_equal(x->qtypes[i].qtype, y->qtypes[i].qtype);
		assert_int_equal(x->qtypes[i].count, y->qtypes[i].count);
	}
	assert_int_equal(x->qtype_other, y->qtype_other);
	assert_int_equal(x->udp, y->udp);
	assert_int_equal(x->tcp, y->tcp);
	assert_int_equal(x->truncated, y->truncated);
	assert_int_equal(x->bytes_query, y->bytes_query);
	assert_int_equal(x->bytes_response, y->bytes_response);
	assert_int_equal(x->first_ns, y->first_ns);
	assert_int_equal(x->last_ns, y->last_ns);
	assert_int_equal(x->distinct_names, y->distinct_names);
	assert_int_equal(x->names_estimated, y->names_estimated);
	assert_int_equal(x->distinct_addrs, y->distinct_addrs);
	assert_int_equal(x->addrs_estimated, y->addrs_estimated);
}

static void assert_rows_equal(const struct rows *a, const struct rows *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct row *x = &a->r[i], *y = &b->r[i];

		assert_int_equal(x->k.tgid, y->k.tgid);
		assert_int_equal(x->k.uid, y->k.uid);
		assert_int_equal(x->k.port, y->k.port);
		assert_int_equal(x->k.proto, y->k.proto);
		assert_int_equal(x->k.family, y->k.family);
		assert_memory_equal(x->k.addr, y->k.addr, 16);
		assert_int_equal(!x->k.host, !y->k.host);
		if (x->k.host)
			assert_string_equal(x->k.host, y->k.host);
		assert_int_equal(!x->k.name, !y->k.name);
		if (x->k.name)
			assert_string_equal(x->k.name, y->k.name);
		assert_int_equal(!x->k.comm, !y->k.comm);
		if (x->k.comm)
			assert_string_equal(x->k.comm, y->k.comm);
		assert_int_equal(!x->k.cgroup, !y->k.cgroup);
		if (x->k.cgroup)
			assert_string_equal(x->k.cgroup, y->k.cgroup);
		assert_figures_equal(&x->f, &y->f);
		assert_int_equal(x->lat_count, y->lat_count);
		assert_int_equal(x->lat_min, y->lat_min);
		assert_int_equal(x->lat_max, y->lat_max);
		assert_memory_equal(x->lat_p, y->lat_p, sizeof(x->lat_p));
	}
}

static void test_merge_equals_one_pass(void **state)
{
	struct stats *one = stats_new(NULL), *a = stats_new(NULL), *b = stats_new(NULL);
	bool estimated = false, multi_host = false;

	add_mix(one, 0, 6000);
	add_mix(a, 0, 2500);
	add_mix(b, 2500, 6000);
	stats_merge(a, b);
	for (int t = 0; t < STATS_NTABLES; t++) {
		struct stats_figures oa, oo;
		struct rows ra = table_rows(a, t, 0, &oa), ro = table_rows(one, t, 0, &oo);

		assert_int_equal(stats_evictions(one, t), 0);
		assert_int_equal(stats_evictions(a, t), 0);
		assert_int_equal(stats_total_queries(a, t), stats_total_queries(one, t));
		assert_true(ro.n > 1);
		assert_rows_equal(&ra, &ro);
		for (size_t i = 0; i < ro.n; i++) {
			estimated |= ro.r[i].f.names_estimated;
			multi_host |= ro.r[i].k.host != NULL;
		}
		lathist_free(&oa.latency);
		lathist_free(&oo.latency);
		free(ra.r);
		free(ro.r);
	}
	assert_true(estimated); /* HLL registers merged too */
	assert_true(multi_host);
	stats_free(one);
	stats_free(a);
	stats_free(b);
}

/* Two flooded intervals: the union cut to max_entries keeps the heavy names. */
static void test_merge_under_eviction(void **state)
{
	struct stats_config cfg = {.max_entries = 1000};
	struct stats *a = stats_new(&cfg), *b = stats_new(&cfg);
	const uint32_t blocks = 4000;
	uint64_t total = 2 * blocks * 50ull;

	flood(a, blocks, 1, false, 0);
	flood(b, blocks, 2, false, 0);
	stats_merge(a, b);
	assert_int_equal(stats_entries(a, STATS_NAME), 1000);
	assert_int_equal(stats_total_queries(a, STATS_NAME), total);
	assert_true(stats_evictions(a, STATS_NAME) > 0);
	/* Merged error bound: 2N/k (each side adds at most its N/k). */
	assert_heavy_hitters(a, STATS_NAME, 2 * blocks, 2 * total / 1000, false);
	stats_free(a);
	stats_free(b);
}

/* The count of key in table t (0: absent), and its error. */
static uint64_t count_of(const struct stats *s, enum stats_table t, const char *name,
			 uint64_t *error)
{
	struct rows rows = table_rows(s, t, 0, NULL);
	uint64_t c = 0;

	*error = 0;
	for (size_t i = 0; i < rows.n; i++) {
		if (!strcmp(rows.r[i].k.name, name)) {
			c = rows.r[i].f.queries;
			*error = rows.r[i].f.error;
		}
	}
	free(rows.r);
	return c;
}

/*
 * A key that one side evicted and the other kept: the side that lacks it
 * adds its absent bound (what the key may have had there) to the count and
 * the error, whichever side is dst, so the merged count stays an upper
 * bound of the truth and count - error a lower bound.
 */
static void test_merge_absent_bound(void **state)
{
	struct stats_config cfg = {.max_entries = 100};
	struct stats *a = stats_new(&cfg), *b = stats_new(&cfg), *m;
	char name[64];
	uint64_t c, err;

	/* a: 3 queries for x, then 10000 new names evict it. */
	for (int i = 0; i < 3; i++)
		add_query(a, NULL, "x.example", 1, IPPROTO_UDP, 40, i);
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "n%d.example", i);
		add_query(a, NULL, name, 1, IPPROTO_UDP, 40, 10 + i);
	}
	assert_int_equal(count_of(a, STATS_NAME, "x.example", &err), 0);
	/* b: 500 queries for x, no eviction. */
	for (int i = 0; i < 500; i++)
		add_query(b, NULL, "x.example", 1, IPPROTO_UDP, 40, 20000 + i);

	m = stats_new(&cfg); /* dst evicted, x only in src */
	stats_merge(m, a);
	stats_merge(m, b);
	c = count_of(m, STATS_NAME, "x.example", &err);
	assert_true(c >= 503);
	assert_true(c - err <= 503);
	assert_true(err > 0);
	stats_free(m);

	stats_merge(b, a); /* src evicted, x only in dst */
	c = count_of(b, STATS_NAME, "x.example", &err);
	assert_true(c >= 503);
	assert_true(c - err <= 503);
	assert_true(err > 0);
	assert_int_equal(stats_entries(b, STATS_NAME), 100);
	stats_free(a);
	stats_free(b);
}

/* Equal counts: key bytes decide, a prefix before its extensions. */
static void test_tie_order(void **state)
{
	static const char *const names[] = {"x.example.com", "x.example", "w.example"};
	struct stats *s = stats_new(NULL);
	struct rows rows;

	for (int i = 0; i < 3; i++)
		add_query(s, NULL, names[i], 1, IPPROTO_UDP, 40, i);
	rows = table_rows(s, STATS_NAME, 0, NULL);
	assert_int_equal(rows.n, 3);
	assert_string_equal(rows.r[0].k.name, "w.example");
	assert_string_equal(rows.r[1].k.name, "x.example");
	assert_string_equal(rows.r[2].k.name, "x.example.com");
	free(rows.r);
	stats_free(s);
}

/* ---- life cycle and robustness ---- */

static void test_reset(void **state)
{
	struct stats *s = stats_new(NULL);
	struct rows rows;

	add_known_set(s);
	stats_reset(s);
	for (int t = 0; t < STATS_NTABLES; t++) {
		assert_int_equal(stats_entries(s, t), 0);
		assert_int_equal(stats_total_queries(s, t), 0);
	}
	add_known_set(s);
	rows = table_rows(s, STATS_PROCESS, 0, NULL);
	assert_int_equal(rows.n, 1);
	assert_int_equal(rows.r[0].f.queries, 8);
	assert_int_equal(rows.r[0].f.distinct_names, 6);
	free(rows.r);
	stats_free(s);
}

/* Counters are 32 bits in the entry, with high halves once one overflows. */
static void test_large_counters(void **state)
{
	struct stats *s = stats_new(NULL);
	struct rows rows;

	for (int i = 0; i < 70000; i++)
		add_query(s, &curl, "big.example", 1, IPPROTO_TCP, 65535, i);
	rows = table_rows(s, STATS_NAME, 0, NULL);
	assert_int_equal(rows.r[0].f.bytes_query, 70000ull * 65535);
	assert_int_equal(rows.r[0].f.queries, 70000);
	assert_int_equal(rows.r[0].f.tcp, 70000);
	free(rows.r);
	stats_free(s);
}

static void test_bad_input(void **state)
{
	static const struct dnssnoop_owner anon = {.tgid = 0, .comm = "x"};
	static const struct dnssnoop_owner full = {.tgid = 7, .comm = "0123456789abcdef"};
	struct stats *s = stats_new(NULL);
	char *longname = malloc(3000), *longhost = malloc(600);
	struct dns_obs o;
	struct rows rows;

	memset(longname, 'A', 2999);
	longname[2999] = '\0';
	memset(longhost, 'h', 599);
	longhost[599] = '\0';
	o = obs(OBS_QUERY, &full, longname, 1, 40, 1); /* cut to the name cap */
	o.host = longhost;
	o.cgroup = NULL;
	stats_add(s, &o);
	o = obs(OBS_QUERY, &anon, NULL, 0, 40, 2); /* no name, unknown owner */
	o.family = 99;
	stats_add(s, &o);
	o = response(NULL, "n.example", 1, 4095, 40, 1, 3);
	o.naddrs = 100;
	stats_add(s, &o);
	o.naddrs = -5;
	stats_add(s, &o);
	o.kind = (enum obs_kind)42;
	stats_add(s, &o);
	stats_add(s, NULL);
	stats_add(NULL, &o);
	stats_merge(s, s);
	stats_top(NULL, STATS_NAME, 0, collect, NULL, NULL);
	stats_top(s, STATS_NTABLES, 0, collect, NULL, NULL);

	rows = table_rows(s, STATS_PROCESS, 0, NULL);
	assert_int_equal(rows.n, 1);
	assert_string_equal(rows.r[0].k.comm, "0123456789abcdef"); /* 16 bytes, no NUL */
	assert_int_equal(strlen(rows.r[0].k.host), 255);
	assert_null(rows.r[0].k.cgroup);
	free(rows.r);
	rows = table_rows(s, STATS_NAME, 0, NULL);
	assert_int_equal(rows.n, 2);
	assert_int_equal(strlen(row_named(&rows, "n.example")->k.name), 9);
	assert_int_equal(row_named(&rows, "n.example")->f.rcode[RC_OTHER], 2);
	assert_int_equal(row_named(&rows, "n.example")->f.distinct_addrs, 1); /* 8 zero addrs */
	assert_int_equal(rows.r[0].f.queries, 1);
	assert_int_equal(strlen(rows.r[0].k.name), 1024);
	free(rows.r);
	assert_int_equal(stats_total_queries(s, STATS_PEER), 2);
	free(longname);
	free(longhost);
	stats_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_process_figures),
		cmocka_unit_test(test_name_and_peer_figures),
		cmocka_unit_test(test_mirrors_and_vantage),
		cmocka_unit_test(test_server_vantage_and_offline),
		cmocka_unit_test(test_clients_and_retransmits),
		cmocka_unit_test(test_latency_percentiles),
		cmocka_unit_test(test_distinct_names),
		cmocka_unit_test(test_distinct_addrs),
		cmocka_unit_test(test_growth_exact),
		cmocka_unit_test(test_eviction_flood),
		cmocka_unit_test(test_untracked),
		cmocka_unit_test(test_top_and_others),
		cmocka_unit_test(test_merge_equals_one_pass),
		cmocka_unit_test(test_merge_under_eviction),
		cmocka_unit_test(test_merge_absent_bound),
		cmocka_unit_test(test_tie_order),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_large_counters),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
