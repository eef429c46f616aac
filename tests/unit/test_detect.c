// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the detectors (detect.c) on small synthetic observation
 * sets whose findings are worked out by hand: the support rules (3 lookups
 * are nothing, 16 of 16 are), the population and top-two rules,
 * retransmissions and mirrors, a dominant client, time windows in zones,
 * periodicity, and the JSON record.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "analysis/detect.h"
#include "report/detect_report.h"
#include "testutil.h"

#define S	  1000000000ULL
#define HOUR	  (3600 * S)
#define DAY	  (24 * HOUR)
#define T0	  (1767571200ULL * S) /* Monday 2026-01-05 00:00 UTC */
#define WILSON_16 0.806392 /* 16 / (16 + 1.959964^2) */

struct got {
	size_t n;
	struct {
		enum detect_kind kind;
		enum detect_target_kind tkind;
		char target[DETECT_TEXT_MAX];
		char client[320];
		char second_client[320];
		struct detect_side by_target, by_client;
		uint64_t pair_lookups, total;
		double npmi, repeat, one_off;
		bool has_window;
		struct detect_time_window window;
		struct detstat_periodic periodic;
		size_t nexamples;
		struct detect_replacement replacement; /* pointers valid while the detector lives */
	} f[32];
};

static void collect(void *ctx, const struct detect_finding *f)
{
	struct got *g = ctx;

	if (g->n == 32)
		return;
	g->f[g->n].kind = f->kind;
	g->f[g->n].tkind = f->target_kind;
	snprintf(g->f[g->n].target, DETECT_TEXT_MAX, "%s", f->target);
	snprintf(g->f[g->n].client, 320, "%s", f->client->label);
	snprintf(g->f[g->n].second_client, 320, "%s",
		 f->second_client ? f->second_client->label : "");
	g->f[g->n].by_target = f->by_target;
	g->f[g->n].by_client = f->by_client;
	g->f[g->n].pair_lookups = f->pair_lookups;
	g->f[g->n].total = f->total_lookups;
	g->f[g->n].npmi = f->npmi;
	g->f[g->n].repeat = f->pair_repeat;
	g->f[g->n].one_off = f->client_one_off_share;
	g->f[g->n].has_window = f->window != NULL;
	if (f->window)
		g->f[g->n].window = *f->window;
	g->f[g->n].periodic = f->periodic;
	g->f[g->n].nexamples = f->nexamples;
	g->f[g->n].replacement = f->replacement;
	g->n++;
}

static struct detect *new_detect(unsigned int kinds)
{
	struct detect_config cfg;
	struct detect *d;

	detect_config_default(&cfg);
	cfg.kinds = kinds;
	cfg.max_entries = 1024;
	d = detect_new(&cfg);
	assert_non_null(d);
	return d;
}

/* One query from an IPv4 client to resolver 10.0.0.1. */
static void query(struct detect *d, const char *client, const char *name, uint16_t id, uint64_t ts)
{
	struct dns_obs o;

	memset(&o, 0, sizeof(o));
	o.kind = OBS_QUERY;
	o.ts_ns = ts;
	o.dir = DNSSNOOP_DIR_UNKNOWN;
	o.proto = IPPROTO_UDP;
	o.family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, client, o.client_addr), 1);
	assert_int_equal(inet_pton(AF_INET, "10.0.0.1", o.server_addr), 1);
	o.client_port = 40000;
	o.server_port = 53;
	o.qname = name;
	o.qname_len = strlen(name);
	o.qtype = 1;
	o.id = id;
	detect_add(d, &o);
}

/* Four other clients, 5 lookups each of names under their own domains, every 6 h from T0. */
static void population(struct detect *d, int clients)
{
	char addr[32], name[64];

	for (int c = 0; c < clients; c++)
		for (int k = 0; k < 5; k++) {
			snprintf(addr, sizeof(addr), "10.1.0.%d", 10 + c);
			snprintf(name, sizeof(name), "www.bg%d-%d.net", c, k);
			query(d, addr, name, (uint16_t)(c * 100 + k), T0 + (uint64_t)k * 6 * HOUR);
		}
}

static struct got *judge(struct detect *d)
{
	static struct got g;

	memset(&g, 0, sizeof(g));
	assert_true(detect_findings(d, collect, &g) >= 0);
	return &g;
}

#define EXCLUSIVE_KINDS \
	((1u << DETECT_MUTUAL) | (1u << DETECT_EXCLUSIVE_TARGET) | (1u << DETECT_EXCLUSIVE_CLIENT))

static void test_three_lookups_are_not_a_finding(void **state)
{
	struct detect *d = new_detect(DETECT_ALL_KINDS);

	(void)state;
	population(d, 4);
	for (int k = 0; k < 3; k++)
		query(d, "10.9.9.9", "secret.example.org", (uint16_t)k, T0 + (uint64_t)k * HOUR);
	assert_int_equal(judge(d)->n, 0);
	detect_free(d);
}

/*
 * 16 lookups of one name by one client, one an hour, among 5 active
 * clients (20 other lookups): the name has N = 16, D = 1, s1 = 1, HHI = 1,
 * Wilson 0.806392; the client looks up nothing else: mutual, NPMI 1
 * (p(x,y) = p(x) = p(y) = 16/36). Name and registered domain both.
 */
static void test_sixteen_of_sixteen_is_mutual(void **state)
{
	struct detect *d = new_detect(EXCLUSIVE_KINDS);
	struct got *g;

	(void)state;
	population(d, 4);
	for (int k = 0; k < 16; k++)
		query(d, "10.9.9.9", "Secret.Example.ORG.", (uint16_t)k, T0 + (uint64_t)k * HOUR);
	g = judge(d);
	assert_int_equal(g->n, 2);
	assert_int_equal(g->f[0].kind, DETECT_MUTUAL);
	assert_int_equal(g->f[0].tkind, DETECT_T_NAME);
	assert_string_equal(g->f[0].target, "secret.example.org");
	assert_int_equal(g->f[1].tkind, DETECT_T_DOMAIN);
	assert_string_equal(g->f[1].target, "example.org");
	for (int i = 0; i < 2; i++) {
		const struct detect_side *t = &g->f[i].by_target, *c = &g->f[i].by_client;

		assert_string_equal(g->f[i].client, "10.9.9.9");
		assert_int_equal(t->lookups, 16);
		assert_int_equal(t->distinct, 1);
		assert_float_equal(t->top_share, 1.0, 1e-12);
		assert_float_equal(t->hhi, 1.0, 1e-12);
		assert_float_equal(t->effective, 1.0, 1e-12);
		assert_float_equal(t->wilson_lower, WILSON_16, 1e-6);
		assert_false(t->top_two);
		assert_int_equal(t->active_clients, 5);
		assert_int_equal(c->lookups, 16);
		assert_int_equal(c->active_hours, 16);
		assert_float_equal(c->wilson_lower, WILSON_16, 1e-6);
		assert_float_equal(g->f[i].npmi, 1.0, 1e-9);
		assert_int_equal(g->f[i].total, 36);
		assert_int_equal(g->f[i].pair_lookups, 16);
	}
	detect_free(d);
}

static struct detect *new_detect_cfg(unsigned int kinds, uint64_t population_window_ns,
				     unsigned int min_spread)
{
	struct detect_config cfg;
	struct detect *d;

	detect_config_default(&cfg);
	cfg.kinds = kinds;
	cfg.max_entries = 1024;
	cfg.population_window_ns = population_window_ns;
	cfg.min_spread = min_spread;
	d = detect_new(&cfg);
	assert_non_null(d);
	return d;
}

/*
 * A mail filter's shape: 20 distinct names under one domain, once each, one
 * an hour. The domain has 20 lookups, all from this client (Wilson 0.84),
 * but 1 lookup per name: no finding. The same 20 lookups as 5 names 4
 * times each (4 per name) are contact: the domain is exclusive.
 */
static void test_one_off_names_are_not_contact(void **state)
{
	char name[64];

	(void)state;
	for (int per = 1; per <= 4; per += 3) {
		struct detect *d = new_detect(EXCLUSIVE_KINDS);
		struct got *g;

		population(d, 4);
		for (int k = 0; k < 20; k++) {
			snprintf(name, sizeof(name), "sender%d.bulkmail.example", k % (20 / per));
			query(d, "10.9.9.9", name, (uint16_t)k, T0 + (uint64_t)k * HOUR);
		}
		g = judge(d);
		if (per == 1) {
			assert_int_equal(g->n, 0);
		} else {
			assert_int_equal(g->n, 1);
			assert_int_equal(g->f[0].tkind, DETECT_T_DOMAIN);
			assert_string_equal(g->f[0].target, "bulkmail.example");
			assert_float_equal(g->f[0].repeat, 4.0, 1e-12);
			assert_float_equal(g->f[0].one_off, 5.0 / 20, 1e-12);
		}
		detect_free(d);
	}
}

/*
 * 20 lookups within one second of a ten-day session lie in one of its 1000
 * slices (about 14 min each): one event, no finding; --min-spread 1 takes it.
 */
static void test_burst_in_one_slice(void **state)
{
	(void)state;
	for (int spread = 3; spread >= 1; spread -= 2) {
		struct detect *d = new_detect_cfg(EXCLUSIVE_KINDS, 86400 * S, (unsigned int)spread);

		char addr[32];

		population(d, 4);
		for (int c = 0; c < 4; c++) { /* the others around the burst, and at the end */
			snprintf(addr, sizeof(addr), "10.1.0.%d", 10 + c);
			query(d, addr, "www.shared.net", (uint16_t)c, T0 + 5 * 24 * HOUR + HOUR);
		}
		query(d, "10.1.0.10", "late.bg.net", 1, T0 + 10 * 24 * HOUR);
		for (int k = 0; k < 20; k++)
			query(d, "10.9.9.9", "burst.example.org", (uint16_t)k,
			      T0 + 5 * 24 * HOUR + (uint64_t)k * (S / 20));
		assert_int_equal(judge(d)->n, spread == 3 ? 0 : 2);
		detect_free(d);
	}
}

/*
 * The population is counted around the target, over at least
 * --population-window: four clients active in the first hour, the client's
 * 16 lookups one a minute ten hours later. A day's window sees all five;
 * a 1 s window sees the client alone.
 */
static void test_population_window(void **state)
{
	(void)state;
	for (int wide = 1; wide >= 0; wide--) {
		struct detect *d = new_detect_cfg(EXCLUSIVE_KINDS, wide ? 86400 * S : S, 3);
		char addr[32];

		for (int c = 0; c < 20; c++) {
			snprintf(addr, sizeof(addr), "10.1.0.%d", 10 + c % 4);
			query(d, addr, "www.shared.net", (uint16_t)c, T0 + (uint64_t)c * 10 * S);
		}
		for (int k = 0; k < 16; k++)
			query(d, "10.9.9.9", "secret.example.org", (uint16_t)k,
			      T0 + 10 * HOUR + (uint64_t)k * 60 * S);
		assert_int_equal(judge(d)->n, wide ? 2 : 0);
		detect_free(d);
	}
}

/* 15 of 15: Wilson 0.796 < 0.8, nothing. */
static void test_fifteen_lookups_are_not_enough(void **state)
{
	struct detect *d = new_detect(DETECT_ALL_KINDS);

	(void)state;
	population(d, 4);
	for (int k = 0; k < 15; k++)
		query(d, "10.9.9.9", "secret.example.org", (uint16_t)k, T0 + (uint64_t)k * HOUR);
	assert_int_equal(judge(d)->n, 0);
	detect_free(d);
}

/* The same 16 lookups among 4 active clients only: the population rule says no. */
static void test_population_rule(void **state)
{
	struct detect *d = new_detect(DETECT_ALL_KINDS);

	(void)state;
	population(d, 3);
	for (int k = 0; k < 16; k++)
		query(d, "10.9.9.9", "secret.example.org", (uint16_t)k, T0 + (uint64_t)k * HOUR);
	assert_int_equal(judge(d)->n, 0);
	detect_free(d);
}

/* Clients whose last lookup is before the target's first are not its population. */
static void test_population_is_of_the_same_window(void **state)
{
	struct detect *d = new_detect(DETECT_ALL_KINDS);

	(void)state;
	population(d, 4); /* T0 .. T0 + 24 h */
	for (int k = 0; k < 16; k++)
		query(d, "10.9.9.9", "secret.example.org", (uint16_t)k,
		      T0 + 2 * DAY + (uint64_t)k * HOUR);
	assert_int_equal(judge(d)->n, 0);
	detect_free(d);
}

/*
 * Top two: A 10 and B 8 lookups of shared.example.com (each also 10 and 8
 * lookups of names of their own): N = 18, s1 = 10/18, Wilson(10, 18) =
 * 0.337 fails, Wilson(18, 18) = 0.824121 passes; HHI = 164/324 = 0.506173,
 * 1/HHI = 1.975610. Neither client is exclusive (half their lookups).
 */
static void test_top_two_rule(void **state)
{
	struct detect *d = new_detect(EXCLUSIVE_KINDS);
	char name[64];
	struct got *g;

	(void)state;
	population(d, 4);
	for (int k = 0; k < 10; k++) {
		query(d, "10.9.9.1", "shared.example.com", (uint16_t)k, T0 + (uint64_t)k * HOUR);
		snprintf(name, sizeof(name), "a.own%d.net", k);
		query(d, "10.9.9.1", name, (uint16_t)(50 + k), T0 + (uint64_t)k * HOUR + S * 10);
	}
	for (int k = 0; k < 8; k++) {
		query(d, "10.9.9.2", "shared.example.com", (uint16_t)k, T0 + (uint64_t)k * HOUR);
		snprintf(name, sizeof(name), "b.other%d.net", k);
		query(d, "10.9.9.2", name, (uint16_t)(50 + k), T0 + (uint64_t)k * HOUR + S * 10);
	}
	g = judge(d);
	assert_int_equal(g->n, 2);
	for (int i = 0; i < 2; i++) {
		const struct detect_side *t = &g->f[i].by_target;

		assert_int_equal(g->f[i].kind, DETECT_EXCLUSIVE_TARGET);
		assert_int_equal(g->f[i].tkind, i == 0 ? DETECT_T_NAME : DETECT_T_DOMAIN);
		assert_string_equal(g->f[i].client, "10.9.9.1");
		assert_string_equal(g->f[i].second_client, "10.9.9.2");
		assert_int_equal(t->lookups, 18);
		assert_int_equal(t->distinct, 2);
		assert_true(t->top_two);
		assert_float_equal(t->top_share, 10.0 / 18, 1e-12);
		assert_float_equal(t->second_share, 8.0 / 18, 1e-12);
		assert_float_equal(t->wilson_lower, 0.337164, 1e-6);
		assert_float_equal(t->wilson_lower_top_two, 0.824121, 1e-6);
		assert_float_equal(t->hhi, 164.0 / 324, 1e-9);
		assert_float_equal(t->effective, 324.0 / 164, 1e-6);
	}
	assert_string_equal(g->f[0].target, "shared.example.com");
	assert_string_equal(g->f[1].target, "example.com");
	detect_free(d);
}

/* Equal counts: the top client is the one whose label sorts first, whatever the hash seed. */
static void test_ties_by_label(void **state)
{
	for (int run = 0; run < 4; run++) {
		struct detect *d = new_detect(1u << DETECT_EXCLUSIVE_TARGET);
		char name[64];
		struct got *g;

		(void)state;
		population(d, 4);
		for (int k = 0; k < 9; k++) {
			/* 10.9.9.2 first in time, so arrival order would favour it */
			query(d, "10.9.9.2", "tied.example.com", (uint16_t)k,
			      T0 + (uint64_t)k * HOUR);
			query(d, "10.9.9.1", "tied.example.com", (uint16_t)k,
			      T0 + (uint64_t)k * HOUR + S);
			snprintf(name, sizeof(name), "a.own%d.net", k);
			query(d, "10.9.9.1", name, (uint16_t)(50 + k),
			      T0 + (uint64_t)k * HOUR + 9 * S);
			query(d, "10.9.9.2", name, (uint16_t)(50 + k),
			      T0 + (uint64_t)k * HOUR + 9 * S);
		}
		g = judge(d);
		assert_int_equal(g->n, 2);
		assert_string_equal(g->f[0].client, "10.9.9.1");
		assert_string_equal(g->f[0].second_client, "10.9.9.2");
		assert_true(g->f[0].by_target.top_two);
		detect_free(d);
	}
}

/*
 * Each of 16 lookups sent twice, 0.5 s apart with the same id: 16 lookups,
 * not 32. The same id again 2 s later is a new lookup. A resent A query
 * after its AAAA is still recognised.
 */
static void test_retransmissions_count_once(void **state)
{
	struct detect *d = new_detect(EXCLUSIVE_KINDS);
	struct got *g;

	(void)state;
	population(d, 4);
	for (int k = 0; k < 15; k++) {
		uint64_t t = T0 + (uint64_t)k * HOUR;

		query(d, "10.9.9.9", "secret.example.org", (uint16_t)k, t);
		query(d, "10.9.9.9", "secret.example.org", (uint16_t)k, t + S / 2);
	}
	query(d, "10.9.9.9", "secret.example.org", 14, T0 + 14 * HOUR + 2 * S);
	/* An A (id 7000) and AAAA (id 7001) pair, then the A resent: 2 lookups. */
	query(d, "10.8.8.8", "dual.example.net", 7000, T0 + 20 * HOUR);
	query(d, "10.8.8.8", "dual.example.net", 7001, T0 + 20 * HOUR + S / 1000);
	query(d, "10.8.8.8", "dual.example.net", 7000, T0 + 20 * HOUR + S / 2);
	g = judge(d);
	assert_int_equal(g->n, 2);
	assert_int_equal(g->f[0].kind, DETECT_MUTUAL);
	assert_int_equal(g->f[0].by_target.lookups, 16);
	assert_int_equal(g->f[0].total, 38);
	detect_free(d);
}

/* Mirrors (the server's copy of a local exchange) and responses are not lookups. */
static void test_mirrors_and_responses_skipped(void **state)
{
	struct detect *d = new_detect(DETECT_ALL_KINDS);
	struct dns_obs o;

	(void)state;
	population(d, 4);
	memset(&o, 0, sizeof(o));
	o.family = AF_INET;
	inet_pton(AF_INET, "10.9.9.9", o.client_addr);
	inet_pton(AF_INET, "10.0.0.1", o.server_addr);
	o.qname = "hidden.example.org";
	o.qname_len = strlen(o.qname);
	for (int k = 0; k < 40; k++) {
		o.ts_ns = T0 + (uint64_t)k * HOUR;
		o.id = (uint16_t)k;
		o.kind = OBS_QUERY;
		o.mirror = true;
		detect_add(d, &o);
		o.kind = OBS_RESPONSE;
		o.mirror = false;
		detect_add(d, &o);
		o.kind = OBS_UNANSWERED;
		detect_add(d, &o);
	}
	assert_int_equal(judge(d)->n, 0);
	detect_free(d);
}

/*
 * A host where one process makes almost every lookup (5 names x 40, the
 * other 5 processes 2 lookups each of the same names): each name's top
 * share is 40/42 (Wilson 0.84), but the process is the traffic (200 of
 * 210 lookups; its only domain is service.com): nothing. Its lookups
 * come at growing intervals, so they are not periodic either.
 */
static void test_dominant_process_is_not_exclusive(void **state)
{
	struct detect *d = new_detect(DETECT_ALL_KINDS);
	struct dnssnoop_owner owner[6];
	char name[64];
	struct dns_obs o;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.kind = OBS_QUERY;
	o.dir = DNSSNOOP_EGRESS;
	o.family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", o.client_addr);
	inet_pton(AF_INET, "127.0.0.53", o.server_addr);
	for (int p = 0; p < 6; p++) {
		memset(&owner[p], 0, sizeof(owner[p]));
		owner[p].tgid = 100 + p;
		owner[p].uid = 1000;
		snprintf(owner[p].comm, sizeof(owner[p].comm), "proc%d", p);
	}
	for (int k = 0; k < 40; k++)
		for (int n = 0; n < 5; n++) {
			snprintf(name, sizeof(name), "api%d.service.com", n);
			o.qname = name;
			o.qname_len = strlen(name);
			o.owner = &owner[0];
			o.id = (uint16_t)(k * 5 + n);
			o.ts_ns = T0 + (uint64_t)(k * k) * 60 * S + (uint64_t)n * S;
			detect_add(d, &o);
			if (k < 2) {
				o.owner = &owner[1 + n];
				detect_add(d, &o);
			}
		}
	assert_int_equal(judge(d)->n, 0);
	detect_free(d);
}

/*
 * A process client: comm, uid and cgroup name it; 16 lookups of one name
 * within one clock hour are exclusive_target, but not exclusive_client
 * (active on 1 hour only).
 */
static void test_process_client_and_hours_rule(void **state)
{
	struct detect *d = new_detect(EXCLUSIVE_KINDS);
	struct dnssnoop_owner owner = {.tgid = 4242, .uid = 1001, .comm = "updater"};
	struct dns_obs o;
	struct got *g;

	(void)state;
	population(d, 4);
	memset(&o, 0, sizeof(o));
	o.kind = OBS_QUERY;
	o.dir = DNSSNOOP_EGRESS;
	o.family = AF_INET;
	o.owner = &owner;
	o.cgroup = "/system.slice/updater.service";
	o.qname = "check.updates.example";
	o.qname_len = strlen(o.qname);
	for (int k = 0; k < 16; k++) {
		o.ts_ns = T0 + 3 * HOUR + (uint64_t)k * 60 * S;
		o.id = (uint16_t)k;
		detect_add(d, &o);
	}
	g = judge(d);
	assert_int_equal(g->n, 2); /* the PSL's default rule: updates.example */
	assert_int_equal(g->f[0].kind, DETECT_EXCLUSIVE_TARGET);
	assert_string_equal(g->f[0].target, "check.updates.example");
	assert_string_equal(g->f[0].client, "updater uid=1001 /system.slice/updater.service");
	assert_int_equal(g->f[1].kind, DETECT_EXCLUSIVE_TARGET);
	assert_string_equal(g->f[1].target, "updates.example");
	detect_free(d);
}

/*
 * Time window: 16 lookups Monday to Thursday at 09:30, 10:30, 11:30 and
 * 12:30 UTC: window 09-13 (4 h) against a baseline of 22 h (the other
 * clients every 6 h, the pair's own lookups): concentrated. Moscow (UTC+3
 * all year): 12-16, inside business hours 08-19 on weekdays; New York
 * (UTC-5 in January): 04-08, not.
 */
static void test_time_window_in_zones(void **state)
{
	struct detect_config cfg;
	struct detect *d;
	struct got *g;
	size_t i;

	(void)state;
	detect_config_default(&cfg);
	cfg.kinds = (1u << DETECT_MUTUAL) | (1u << DETECT_TIME_WINDOW);
	cfg.zones[0] = "Europe/Moscow";
	cfg.zones[1] = "America/New_York";
	cfg.nzones = 2;
	d = detect_new(&cfg);
	assert_non_null(d);
	population(d, 4);
	for (int day = 0; day < 4; day++)
		for (int h = 9; h < 13; h++)
			query(d, "10.9.9.9", "secret.example.org", (uint16_t)(day * 24 + h),
			      T0 + (uint64_t)day * DAY + (uint64_t)h * HOUR + 1800 * S);
	g = judge(d);
	assert_int_equal(g->n, 4); /* mutual name, domain; time_window name, domain */
	for (i = 0; i < g->n && g->f[i].kind != DETECT_TIME_WINDOW; i++)
		;
	assert_true(i < g->n && g->f[i].has_window);
	assert_string_equal(g->f[i].target, "secret.example.org");
	{
		const struct detect_time_window *w = &g->f[i].window;

		assert_int_equal(w->counted, 16);
		assert_int_equal(w->week_utc[9], 1);
		assert_int_equal(w->week_utc[3 * 24 + 12], 1);
		assert_int_equal(w->utc.start, 9);
		assert_int_equal(w->utc.len, 4);
		assert_float_equal(w->weekday_share_utc, 1.0, 1e-12);
		assert_int_equal(w->baseline.len, 19);
		assert_true(w->concentrated);
		assert_int_equal(w->nzones, 2);
		assert_string_equal(w->zones[0].zone, "Europe/Moscow");
		assert_true(w->zones[0].exact);
		assert_int_equal(w->zones[0].offset_s, 3 * 3600);
		assert_int_equal(w->zones[0].res.window.start, 12);
		assert_int_equal(w->zones[0].res.window.len, 4);
		assert_true(w->zones[0].res.business);
		assert_int_equal(w->zones[1].offset_s, -5 * 3600);
		assert_int_equal(w->zones[1].res.window.start, 4);
		assert_false(w->zones[1].res.window_inside);
		assert_false(w->zones[1].res.business);
	}
	detect_free(d);
}

/*
 * A beacon: 20 lookups exactly 300 s apart by a client that does nothing
 * else: mutual, and periodic with median 300 s and score 1 (no spread, no
 * skew, even histogram).
 */
static void test_periodic_beacon(void **state)
{
	struct detect *d = new_detect((1u << DETECT_MUTUAL) | (1u << DETECT_PERIODIC));
	struct got *g;

	(void)state;
	population(d, 4);
	for (int k = 0; k < 20; k++)
		query(d, "10.6.6.6", "beacon.example.net", (uint16_t)k,
		      T0 + 2 * HOUR + (uint64_t)k * 300 * S);
	g = judge(d);
	assert_int_equal(g->n, 4); /* mutual name, domain; periodic name, domain */
	assert_int_equal(g->f[2].kind, DETECT_PERIODIC);
	assert_string_equal(g->f[2].target, "beacon.example.net");
	assert_float_equal(g->f[2].periodic.median_s, 300.0, 1e-9);
	assert_float_equal(g->f[2].periodic.score, 1.0, 1e-9);
	assert_int_equal(g->f[2].periodic.events, 20);
	assert_int_equal(g->f[2].nexamples, 10);
	detect_free(d);
}

/* 20 lookups at random-looking gaps by an ordinary client: not periodic. */
static void test_irregular_pair_not_periodic(void **state)
{
	struct detect *d = new_detect(DETECT_ALL_KINDS);
	static const unsigned int gaps[] = {5,	 700, 30,  2000, 90,   15, 4000, 60, 300, 9000,
					    120, 45,  800, 7,	 3000, 20, 600,	 50, 1500};
	uint64_t t = T0 + HOUR;
	char name[64];

	(void)state;
	population(d, 4);
	for (int k = 0; k < 20; k++) {
		query(d, "10.7.7.7", "irregular.example.net", (uint16_t)k, t);
		snprintf(name, sizeof(name), "x.other%d.org", k);
		query(d, "10.7.7.7", name, (uint16_t)(100 + k), t + S);
		t += (k < 19 ? gaps[k] : 1) * S;
	}
	assert_int_equal(judge(d)->n, 0);
	detect_free(d);
}

/* Odd names (root, empty labels, non-UTF-8, NUL, over-long) count or are skipped, never crash. */
static void test_odd_names(void **state)
{
	struct detect *d = new_detect(DETECT_ALL_KINDS);
	static const char *const names[] = {".",   "a..b",  "\xff\xfe.com", "x\x01y.example.net",
					    "com", "co.uk", "-.-",	    "*.example.com"};
	char long_name[400];
	struct got *g;

	(void)state;
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	for (int k = 0; k < 20; k++) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			query(d, "10.3.3.3", names[i], (uint16_t)(k * 16 + i),
			      T0 + (uint64_t)k * HOUR + i * S);
		query(d, "10.3.3.4", long_name, (uint16_t)k, T0 + (uint64_t)k * HOUR);
	}
	/* names with a NUL inside are cut there */
	{
		struct dns_obs o;

		memset(&o, 0, sizeof(o));
		o.kind = OBS_QUERY;
		o.family = AF_INET;
		o.qname = "nul\0inside.example";
		o.qname_len = 19;
		detect_add(d, &o);
		o.qname = NULL;
		detect_add(d, &o);
	}
	g = judge(d);
	/* one client, nobody else active: the population rule holds everything back */
	assert_int_equal(g->n, 0);
	detect_free(d);
}

static void test_parse_kinds(void **state)
{
	unsigned int kinds;
	char bad[8] = "";

	(void)state;
	assert_int_equal(detect_parse_kinds("mutual,periodic", &kinds, bad, sizeof(bad)), 0);
	assert_int_equal(kinds, (1u << DETECT_MUTUAL) | (1u << DETECT_PERIODIC));
	assert_int_equal(detect_parse_kinds("mutual,replacing", &kinds, bad, sizeof(bad)), -EINVAL);
	assert_string_equal(bad, "replaci"); /* cut to fit */
	assert_int_equal(detect_parse_kinds("replacement", &kinds, bad, sizeof(bad)), 0);
	assert_int_equal(kinds, 1u << DETECT_REPLACEMENT);
	assert_int_equal(detect_parse_kinds("time_window,,exclusive_client", &kinds, NULL, 0), 0);
	assert_int_equal(kinds, (1u << DETECT_TIME_WINDOW) | (1u << DETECT_EXCLUSIVE_CLIENT));
	assert_int_equal(detect_parse_kinds("", &kinds, bad, sizeof(bad)), 0);
	assert_int_equal(kinds, 0);
}

/* Bounded tables: more clients and names than entries neither crash nor invent findings. */
static void test_bounded_tables(void **state)
{
	struct detect_config cfg;
	struct detect *d;
	char addr[32], name[64];

	(void)state;
	detect_config_default(&cfg);
	cfg.max_entries = 16;
	cfg.max_details = 2;
	d = detect_new(&cfg);
	assert_non_null(d);
	for (int k = 0; k < 3000; k++) {
		snprintf(addr, sizeof(addr), "10.2.%d.%d", k % 50, k % 7);
		snprintf(name, sizeof(name), "n%d.d%d.com", k % 97, k % 13);
		query(d, addr, name, (uint16_t)k, T0 + (uint64_t)k * 60 * S);
	}
	assert_int_equal(judge(d)->n, 0);
	detect_free(d);
}

/* The JSON record: read back with Python's json module. */
static void test_json_record(void **state)
{
	struct detect *d = new_detect(DETECT_ALL_KINDS);
	struct sink sk;

	(void)state;
	population(d, 4);
	for (int k = 0; k < 16; k++)
		query(d, "10.9.9.9", "secret.example.org", (uint16_t)k, T0 + (uint64_t)k * HOUR);
	sink_open_cfg(&sk, (struct output_config){.format = OUTPUT_JSON, .host = "h"});
	assert_int_equal(detect_report(d, sk.out), 6);
	check_py(&sk,
		 "r = [l for l in recs if l['type'] == 'finding']\n"
		 "assert [x['kind'] for x in r] == ['mutual', 'mutual', 'time_window', "
		 "'time_window', 'periodic', 'periodic'], r\n"
		 "m = r[0]\n"
		 "assert m['target_kind'] == 'name' and m['target'] == 'secret.example.org'\n"
		 "assert m['client'] == {'address': '10.9.9.9', 'label': '10.9.9.9'}\n"
		 "t = m['by_target']\n"
		 "assert t['lookups'] == 16 and t['distinct_clients'] == 1, t\n"
		 "assert t['wilson_lower'] == 0.806392 and t['hhi'] == 1, t\n"
		 "assert t['rule'] == 'top' and t['second_client'] is None, t\n"
		 "assert m['by_client']['top_target'] == 'secret.example.org'\n"
		 "assert m['npmi'] == 1 and m['total_lookups'] == 36\n"
		 "assert m['thresholds']['min_lookups'] == 16\n"
		 "assert m['thresholds']['exclusive_share'] == 0.8\n"
		 "assert m['first_seen'] == '2026-01-05T00:00:00.000000Z'\n"
		 "assert len(m['examples']) == 10\n"
		 "assert m['examples'][-1] == '2026-01-05T15:00:00.000000Z'\n"
		 "w = r[2]['time_window']\n"
		 "assert len(w['hour_of_week_utc']) == 168 and sum(w['hour_of_week_utc']) == 16\n"
		 "assert w['utc'] == {'start_hour': 0, 'end_hour': 15, 'hours': 15, "
		 "'share': 0.9375}, w['utc']\n"
		 "assert r[4]['periodic']['median_interval_s'] == 3600\n"
		 "c = [l for l in recs if l['type'] == 'case']\n"
		 "assert len(c) == 1 and c[0]['rank'] == 1, c\n"
		 "c = c[0]\n"
		 "assert c['target'] == 'secret.example.org' and c['group'] == 'example.org', c\n"
		 "assert [(f['kind'], f['target_kind']) for f in c['findings']] == [('mutual', "
		 "'name'), ('mutual', 'domain'), ('time_window', 'name'), ('time_window', "
		 "'domain'), ('periodic', 'name'), ('periodic', 'domain')], c['findings']\n"
		 "assert c['client']['label'] == '10.9.9.9' and c['second_client'] is None\n"
		 "assert c['lookups'] == 16 and c['share'] == 1 and c['repeat'] == 16, c\n"
		 "assert c['score_parts']['exclusivity'] == 0.806392, c\n"
		 "p = c['score_parts']\n"
		 "want = 100 * p['exclusivity'] * (1 + p['concentration'] + p['episode'] + "
		 "p['replacement']) / 4 * p['recurrence']\n"
		 "assert p['recurrence'] == 0.666667, p\n"
		 "assert abs(c['score'] - want) <= 0.05, (c['score'], want)\n"
		 "assert c['periodic']['median_interval_s'] == 3600 and c['replacement'] is None\n");
	sink_close(&sk);
	detect_free(d);
}

/*
 * --interval: a mutual pair that becomes true in the second interval (16
 * lookups reached there, not in the first's 8) is written at that close,
 * name and domain, with "scope":"interval" and its figures then (16
 * lookups); not at the first close, nor again at the third (20 lookups);
 * the end writes the full list again, "scope":"total", with 20.
 */
static void test_interval_writes_new_findings_once(void **state)
{
	struct detect *d = new_detect(EXCLUSIVE_KINDS);
	struct sink sk;
	int k = 0;

	(void)state;
	population(d, 4);
	sink_open_cfg(&sk, (struct output_config){.format = OUTPUT_JSON, .host = "h"});
	for (; k < 8; k++)
		query(d, "10.9.9.9", "secret.example.org", (uint16_t)k, T0 + (uint64_t)k * HOUR);
	assert_int_equal(detect_report_new(d, sk.out), 0);
	for (; k < 16; k++)
		query(d, "10.9.9.9", "secret.example.org", (uint16_t)k, T0 + (uint64_t)k * HOUR);
	assert_int_equal(detect_report_new(d, sk.out), 2);
	for (; k < 20; k++)
		query(d, "10.9.9.9", "secret.example.org", (uint16_t)k, T0 + (uint64_t)k * HOUR);
	assert_int_equal(detect_report_new(d, sk.out), 0);
	assert_int_equal(detect_report(d, sk.out), 2);
	assert_int_equal(detect_report_new(d, sk.out), 0);
	check_py(&sk, "r = [l for l in recs if l['type'] == 'finding']\n"
		      "assert [(x['scope'], x['kind'], x['target_kind'], x['target'], "
		      "x['by_target']['lookups']) for x in r] == ["
		      "('interval', 'mutual', 'name', 'secret.example.org', 16), "
		      "('interval', 'mutual', 'domain', 'example.org', 16), "
		      "('total', 'mutual', 'name', 'secret.example.org', 20), "
		      "('total', 'mutual', 'domain', 'example.org', 20)], r\n"
		      "assert r[0]['last_seen'] == '2026-01-05T15:00:00.000000Z'\n"
		      "assert r[2]['last_seen'] == '2026-01-05T19:00:00.000000Z'\n");
	sink_close(&sk);
	detect_free(d);
}

/* ---- replacement ------------------------------------------------------ */

#define REPLACEMENT (1u << DETECT_REPLACEMENT)
#define OLD_NAME    "mail1.old-example.com"
#define NEW_NAME    "mail2.new-example.org"
#define LATENCY	    (10 * 1000000ULL)

/* A response to `client`'s lookup of `name` sent at ts, one A record 192.0.2.7 if NOERROR. */
static void response(struct detect *d, const char *client, const char *name, uint16_t id,
		     uint64_t ts, uint16_t rcode)
{
	struct dns_obs o;

	memset(&o, 0, sizeof(o));
	o.kind = OBS_RESPONSE;
	o.ts_ns = ts + LATENCY;
	o.has_latency = true;
	o.latency_ns = LATENCY;
	o.dir = DNSSNOOP_DIR_UNKNOWN;
	o.proto = IPPROTO_UDP;
	o.family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, client, o.client_addr), 1);
	assert_int_equal(inet_pton(AF_INET, "10.0.0.1", o.server_addr), 1);
	o.qname = name;
	o.qname_len = strlen(name);
	o.qtype = 1;
	o.id = id;
	o.rcode = rcode;
	if (!rcode) {
		o.naddrs = 1;
		o.addrs[0].family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, "192.0.2.7", o.addrs[0].addr), 1);
	}
	detect_add(d, &o);
}

/* Old: A 8, B 4, C 2, D 2 lookups, one an hour from T0 (last at T0 + 15 h), answered. */
static const char *const old_clients[16] = {
	"10.2.0.1", "10.2.0.2", "10.2.0.1", "10.2.0.3", "10.2.0.1", "10.2.0.2",
	"10.2.0.1", "10.2.0.4", "10.2.0.1", "10.2.0.2", "10.2.0.1", "10.2.0.3",
	"10.2.0.1", "10.2.0.2", "10.2.0.1", "10.2.0.4",
};
/* New: B first, then A 8, B 4, C 2 and a stranger E 2. */
static const char *const new_clients[16] = {
	"10.2.0.2", "10.2.0.1", "10.2.0.1", "10.2.0.3", "10.2.0.1", "10.2.0.2",
	"10.2.0.1", "10.2.0.9", "10.2.0.1", "10.2.0.2", "10.2.0.1", "10.2.0.3",
	"10.2.0.1", "10.2.0.2", "10.2.0.1", "10.2.0.9",
};
/* Strangers: four clients that never looked the old name up, 4 lookups each. */
static const char *const stranger_clients[16] = {
	"10.3.0.1", "10.3.0.2", "10.3.0.3", "10.3.0.4", "10.3.0.1", "10.3.0.2",
	"10.3.0.3", "10.3.0.4", "10.3.0.1", "10.3.0.2", "10.3.0.3", "10.3.0.4",
	"10.3.0.1", "10.3.0.2", "10.3.0.3", "10.3.0.4",
};

#define OLD_END (T0 + 15 * HOUR)

/*
 * The old name (16 lookups, population of 8 clients in its span), then 16
 * lookups of the new name an hour apart from OLD_END + gap by `who`.
 */
static void replaced(struct detect *d, uint64_t gap, const char *const *who)
{
	population(d, 4);
	for (int k = 0; k < 16; k++) {
		query(d, old_clients[k], OLD_NAME, (uint16_t)k, T0 + (uint64_t)k * HOUR);
		response(d, old_clients[k], OLD_NAME, (uint16_t)k, T0 + (uint64_t)k * HOUR, 0);
	}
	for (int k = 0; k < 16; k++) {
		uint64_t ts = OLD_END + gap + (uint64_t)k * HOUR;

		query(d, who[k], NEW_NAME, (uint16_t)(100 + k), ts);
		response(d, who[k], NEW_NAME, (uint16_t)(100 + k), ts, 0);
	}
}

/*
 * Shares old A .5 B .25 C .125 D .125, new A .5 B .25 C .125 E .125:
 * weighted Jaccard (.5 + .25 + .125) / (.5 + .25 + .125 + .125 + .125)
 * = 7/9, containment 14/16, set Jaccard 3/5; gap 3 days; first client B.
 */
static void test_replacement_found(void **state)
{
	struct detect *d = new_detect(REPLACEMENT);
	struct got *g;

	(void)state;
	replaced(d, 3 * DAY, new_clients);
	g = judge(d);
	assert_int_equal(g->n, 2); /* the name, then its registered domain */
	assert_int_equal(g->f[0].kind, DETECT_REPLACEMENT);
	assert_int_equal(g->f[0].tkind, DETECT_T_NAME);
	assert_string_equal(g->f[0].target, OLD_NAME);
	assert_int_equal(g->f[1].tkind, DETECT_T_DOMAIN);
	assert_string_equal(g->f[1].target, "old-example.com");
	assert_string_equal(g->f[1].replacement.new_target, "new-example.org");
	for (size_t i = 0; i < 2; i++) {
		const struct detect_replacement *r = &g->f[i].replacement;

		assert_false(r->nxdomain);
		assert_int_equal(r->old_lookups, 16);
		assert_int_equal(r->old_distinct, 4);
		assert_int_equal(r->old_end_ns, OLD_END);
		assert_int_equal(r->new_lookups, 16);
		assert_int_equal(r->new_distinct, 4);
		assert_int_equal(r->gap_ns, 3 * DAY);
		assert_float_equal(r->overlap.weighted_jaccard, 7.0 / 9.0, 1e-12);
		assert_float_equal(r->overlap.containment, 0.875, 1e-12);
		assert_float_equal(r->overlap.set_jaccard, 0.6, 1e-12);
		assert_string_equal(r->first_client->label, "10.2.0.2");
		assert_int_equal(r->first_client_ns, OLD_END + 3 * DAY);
		assert_int_equal(r->address_overlap, 1);
		assert_int_equal(r->nold_addrs, 1);
		assert_int_equal(g->f[i].pair_lookups, 4); /* B's lookups of the new target */
	}
	assert_string_equal(g->f[0].replacement.new_target, NEW_NAME);
	assert_string_equal(g->f[0].client, "10.2.0.2");
	detect_free(d);
}

/* The old name stops; its clients only look up a name they knew before: nothing. */
static void test_replacement_no_successor(void **state)
{
	struct detect *d = new_detect(REPLACEMENT);
	const char *abcd[4] = {"10.2.0.1", "10.2.0.2", "10.2.0.3", "10.2.0.4"};

	(void)state;
	population(d, 4);
	for (int k = 0; k < 16; k++) {
		query(d, old_clients[k], OLD_NAME, (uint16_t)k, T0 + (uint64_t)k * HOUR);
		/* the same clients, the same proportions, but a name seen from the start */
		query(d, old_clients[k], "www.known.net", (uint16_t)(50 + k),
		      T0 + (uint64_t)k * HOUR + 60 * S);
	}
	for (int k = 0; k < 16; k++)
		query(d, old_clients[k], "www.known.net", (uint16_t)(100 + k),
		      OLD_END + 3 * DAY + (uint64_t)k * HOUR);
	for (int k = 0; k < 4; k++)
		query(d, abcd[k], "www.other.net", (uint16_t)(200 + k), OLD_END + 4 * DAY);
	assert_int_equal(judge(d)->n, 0);
	detect_free(d);
}

/* A new name looked up only by clients that never asked for the old one: nothing. */
static void test_replacement_other_clients(void **state)
{
	struct detect *d = new_detect(REPLACEMENT);

	(void)state;
	replaced(d, 3 * DAY, stranger_clients);
	assert_int_equal(judge(d)->n, 0);
	detect_free(d);
}

/* The successor 8 days after the old name's end: outside the 7-day window, inside 9 days. */
static void test_replacement_after_window(void **state)
{
	struct detect_config cfg;
	struct detect *d = new_detect(REPLACEMENT);

	(void)state;
	replaced(d, 8 * DAY, new_clients);
	assert_int_equal(judge(d)->n, 0);
	detect_free(d);

	detect_config_default(&cfg);
	cfg.kinds = REPLACEMENT;
	cfg.replacement_window_ns = 9 * DAY;
	d = detect_new(&cfg);
	assert_non_null(d);
	replaced(d, 8 * DAY, new_clients);
	assert_int_equal(judge(d)->n, 2);
	assert_int_equal(judge(d)->f[0].replacement.gap_ns, 8 * DAY);
	detect_free(d);
}

/*
 * The old name keeps being looked up by A (4 more lookups, 2 days on) but
 * answers NXDOMAIN; the new one appears 1 hour after its last answer, so
 * it was never silent for a day. Old shares A .6 B .2 C .1 D .1: weighted
 * Jaccard (.5 + .2 + .1) / (.6 + .25 + .125 + .1 + .125) = 2/3; the gap
 * runs from the last NOERROR-answered lookup.
 */
static void test_replacement_nxdomain(void **state)
{
	struct detect *d = new_detect(REPLACEMENT);
	const struct detect_replacement *r;
	struct got *g;

	(void)state;
	population(d, 4);
	for (int k = 0; k < 16; k++) {
		query(d, old_clients[k], OLD_NAME, (uint16_t)k, T0 + (uint64_t)k * HOUR);
		response(d, old_clients[k], OLD_NAME, (uint16_t)k, T0 + (uint64_t)k * HOUR, 0);
	}
	for (int k = 0; k < 16; k++) {
		uint64_t ts = OLD_END + HOUR + (uint64_t)k * HOUR;

		query(d, new_clients[k], NEW_NAME, (uint16_t)(100 + k), ts);
		if (k < 4) {
			query(d, "10.2.0.1", OLD_NAME, (uint16_t)(50 + k), ts + 60 * S);
			response(d, "10.2.0.1", OLD_NAME, (uint16_t)(50 + k), ts + 60 * S, 3);
		}
	}
	g = judge(d);
	assert_int_equal(g->n, 2);
	r = &g->f[0].replacement;
	assert_true(r->nxdomain);
	assert_int_equal(r->old_lookups, 20);
	assert_int_equal(r->old_nxdomain, 4);
	assert_int_equal(r->old_end_ns, OLD_END);
	assert_int_equal(r->gap_ns, HOUR);
	assert_float_equal(r->overlap.weighted_jaccard, 2.0 / 3.0, 1e-12);
	assert_float_equal(r->overlap.containment, 0.875, 1e-12);
	assert_int_equal(r->address_overlap, -1); /* the new name's answers were not seen */
	detect_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_lookups_are_not_a_finding),
		cmocka_unit_test(test_sixteen_of_sixteen_is_mutual),
		cmocka_unit_test(test_fifteen_lookups_are_not_enough),
		cmocka_unit_test(test_one_off_names_are_not_contact),
		cmocka_unit_test(test_burst_in_one_slice),
		cmocka_unit_test(test_population_window),
		cmocka_unit_test(test_population_rule),
		cmocka_unit_test(test_population_is_of_the_same_window),
		cmocka_unit_test(test_top_two_rule),
		cmocka_unit_test(test_ties_by_label),
		cmocka_unit_test(test_retransmissions_count_once),
		cmocka_unit_test(test_mirrors_and_responses_skipped),
		cmocka_unit_test(test_dominant_process_is_not_exclusive),
		cmocka_unit_test(test_process_client_and_hours_rule),
		cmocka_unit_test(test_time_window_in_zones),
		cmocka_unit_test(test_periodic_beacon),
		cmocka_unit_test(test_irregular_pair_not_periodic),
		cmocka_unit_test(test_odd_names),
		cmocka_unit_test(test_parse_kinds),
		cmocka_unit_test(test_bounded_tables),
		cmocka_unit_test(test_json_record),
		cmocka_unit_test(test_interval_writes_new_findings_once),
		cmocka_unit_test(test_replacement_found),
		cmocka_unit_test(test_replacement_no_successor),
		cmocka_unit_test(test_replacement_other_clients),
		cmocka_unit_test(test_replacement_after_window),
		cmocka_unit_test(test_replacement_nxdomain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
