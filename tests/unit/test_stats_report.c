// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for the statistics report (user/report/stats_report.c) and the
 * generic record API of the output stage it writes through. The tables are
 * filled with stats_add() from known observations; every JSON line is read
 * back by Python's json module and the figures, computed by hand in the
 * comments, are asserted there. Text tables are checked for their exact
 * text and for column alignment.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "capture/cgroup_ident.h"
#include "lib/json.h"
#include "report/output.h"
#include "analysis/stats.h"
#include "report/stats_report.h"
#include "lib/fmt.h"
#include "testutil.h"

/* 2026-11-27T14:05:01Z */
#define T0_NS  (1795788301ULL * 1000000000ULL)
#define MS     1000000ULL
#define SEC    1000000000ULL
#define MAXENT 100

/* ---- observations ---- */

struct proc {
	struct dnssnoop_owner owner;
	const char *cgroup;
};

static struct proc make_proc(uint32_t tgid, uint32_t uid, const char *comm, const char *cgroup)
{
	struct proc p;

	memset(&p, 0, sizeof(p));
	p.owner.tgid = tgid;
	p.owner.pid = tgid;
	p.owner.uid = uid;
	strncpy(p.owner.comm, comm, sizeof(p.owner.comm) - 1);
	p.cgroup = cgroup;
	return p;
}

/* One message between client 10.0.0.1:cport and the resolver 10.0.0.53:53, seen by the client. */
static struct dns_obs make_obs(enum obs_kind kind, uint64_t ts_ns, const struct proc *p,
			       uint8_t proto, uint16_t cport, const char *qname, uint16_t qtype,
			       uint32_t len)
{
	struct dns_obs o;

	memset(&o, 0, sizeof(o));
	o.kind = kind;
	o.ts_ns = ts_ns;
	o.dir = kind == OBS_RESPONSE ? DNSSNOOP_INGRESS : DNSSNOOP_EGRESS;
	o.proto = proto;
	o.family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "10.0.0.1", o.client_addr), 1);
	assert_int_equal(inet_pton(AF_INET, "10.0.0.53", o.server_addr), 1);
	o.client_port = cport;
	o.server_port = 53;
	o.owner = p ? &p->owner : NULL;
	o.cgroup = p ? p->cgroup : NULL;
	o.qname = qname;
	o.qname_len = strlen(qname);
	o.qtype = qtype;
	o.len = len;
	return o;
}

static void add_query(struct stats *s, uint64_t ts, const struct proc *p, uint8_t proto,
		      const char *qname, uint16_t qtype, uint32_t len)
{
	struct dns_obs o = make_obs(OBS_QUERY, ts, p, proto, 40001, qname, qtype, len);

	stats_add(s, &o);
}

static void add_response(struct stats *s, uint64_t ts, const struct proc *p, uint8_t proto,
			 const char *qname, uint16_t qtype, uint32_t len, uint16_t rcode, bool tc,
			 uint64_t latency_ns, const char *const *addrs, int naddrs)
{
	struct dns_obs o = make_obs(OBS_RESPONSE, ts, p, proto, 40001, qname, qtype, len);

	o.rcode = rcode;
	o.tc = tc;
	o.has_latency = true;
	o.latency_ns = latency_ns;
	o.naddrs = naddrs;
	for (int i = 0; i < naddrs; i++) {
		o.addrs[i].family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addrs[i], o.addrs[i].addr), 1);
	}
	stats_add(s, &o);
}

static void add_unanswered(struct stats *s, uint64_t ts, const struct proc *p, uint8_t proto,
			   const char *qname, uint16_t qtype, uint32_t len)
{
	struct dns_obs o = make_obs(OBS_UNANSWERED, ts, p, proto, 40001, qname, qtype, len);

	stats_add(s, &o);
}

static struct stats *new_stats(size_t max_entries)
{
	struct stats_config cfg = {.max_entries = max_entries};
	struct stats *s = stats_new(&cfg);

	assert_non_null(s);
	return s;
}

/*
 * The reference session (all UDP answers of dig also carry addresses):
 *   dig  pid 4242 uid 1000, udp:
 *     www.example.com A     33 B -> NOERROR 49 B, 1 ms, 192.0.2.1
 *     WWW.Example.COM A     33 B -> NOERROR 65 B, 3 ms, 192.0.2.1 192.0.2.2
 *     www.example.com AAAA  33 B -> unanswered
 *     nx.example.com  A     32 B -> NXDOMAIN 90 B with TC, 0.5 ms
 *   curl pid 777 uid 0, tcp:
 *     api.example.org A     35 B -> SERVFAIL 35 B, 100 ms
 *     api.example.org A     35 B -> REFUSED 35 B, 200 ms
 */
#define DIG_CGROUP  "/user.slice/user-1000.slice/session-1.scope"
#define CURL_CGROUP "/system.slice/cron.service"

static struct stats *reference_stats(void)
{
	static const char *const one[] = {"192.0.2.1"};
	static const char *const two[] = {"192.0.2.1", "192.0.2.2"};
	struct stats *s = new_stats(MAXENT);
	struct proc dig = make_proc(4242, 1000, "dig", DIG_CGROUP);
	struct proc curl = make_proc(777, 0, "curl", CURL_CGROUP);

	add_query(s, T0_NS + 1 * MS, &dig, IPPROTO_UDP, "www.example.com", 1, 33);
	add_response(s, T0_NS + 2 * MS, &dig, IPPROTO_UDP, "www.example.com", 1, 49, 0, false,
		     1 * MS, one, 1);
	add_query(s, T0_NS + 3 * MS, &dig, IPPROTO_UDP, "WWW.Example.COM", 1, 33);
	add_response(s, T0_NS + 6 * MS, &dig, IPPROTO_UDP, "WWW.Example.COM", 1, 65, 0, false,
		     3 * MS, two, 2);
	add_query(s, T0_NS + 10 * MS, &dig, IPPROTO_UDP, "www.example.com", 28, 33);
	add_query(s, T0_NS + 20 * MS, &dig, IPPROTO_UDP, "nx.example.com", 1, 32);
	add_response(s, T0_NS + 20 * MS + 500000, &dig, IPPROTO_UDP, "nx.example.com", 1, 90, 3,
		     true, 500000, NULL, 0);
	add_query(s, T0_NS + 1000 * MS, &curl, IPPROTO_TCP, "api.example.org", 1, 35);
	add_response(s, T0_NS + 1100 * MS, &curl, IPPROTO_TCP, "api.example.org", 1, 35, 2, false,
		     100 * MS, NULL, 0);
	add_query(s, T0_NS + 2000 * MS, &curl, IPPROTO_TCP, "api.example.org", 1, 35);
	add_response(s, T0_NS + 2200 * MS, &curl, IPPROTO_TCP, "api.example.org", 1, 35, 5, false,
		     200 * MS, NULL, 0);
	add_unanswered(s, T0_NS + 5010 * MS, &dig, IPPROTO_UDP, "www.example.com", 28, 33);
	return s;
}

/* ---- sinks and reports ---- */

static void sink_open_fmt(struct sink *k, enum output_format format, const char *host)
{
	sink_open_cfg(k, (struct output_config){.format = format, .host = host});
}

static struct stats_report_opts opts_for(size_t top_n, enum stats_report_scope scope)
{
	return (struct stats_report_opts){
		.top_n = top_n,
		.window_start_ns = T0_NS,
		.window_end_ns = T0_NS + 60 * SEC,
		.scope = scope,
		.max_entries = MAXENT,
	};
}

/* Python helpers for the checks: the records of a table, and one record. */
static const char py_helpers[] =
	"def table(type, group=None):\n"
	"    key = {'process_stats': 'by', 'pair_stats': 'pair'}.get(type)\n"
	"    return [r for r in recs if r['type'] == type and (key is None or r[key] == group)]\n"
	"def entries(type, group=None):\n"
	"    return [r for r in table(type, group) if not r['others']]\n"
	"def others(type, group=None):\n"
	"    o = [r for r in table(type, group) if r['others']]\n"
	"    eq(len(o), 1)\n"
	"    return o[0]\n"
	"def ts(ms):\n"
	"    t = datetime.datetime(2026, 11, 27, 14, 5, 1, tzinfo=datetime.timezone.utc)\n"
	"    t += datetime.timedelta(microseconds=ms * 1000)\n"
	"    return t.strftime('%Y-%m-%dT%H:%M:%S.%fZ')\n"
	"TABLES = [('process_stats', 'pid'), ('process_stats', 'comm'), ('peer_stats', None),\n"
	"          ('name_stats', None), ('client_stats', None), ('pair_stats', 'process_peer'),\n"
	"          ('pair_stats', 'process_name'), ('pair_stats', 'client_name')]\n";

static void check(struct sink *k, const char *body)
{
	size_t n = strlen(py_helpers) + strlen(body) + 1;
	char *script = malloc(n);

	assert_non_null(script);
	snprintf(script, n, "%s%s", py_helpers, body);
	check_py(k, script);
	free(script);
}

/* ---- JSON records ---- */

static void test_json_reference_figures(void **state)
{
	struct stats *s = reference_stats();
	struct stats_report_opts opts = opts_for(STATS_REPORT_DEFAULT_TOP, STATS_SCOPE_INTERVAL);
	struct sink k;

	sink_open_fmt(&k, OUTPUT_JSON, "lab");
	stats_report(s, k.out, &opts);
	check(&k,
	      /* Every table: its entries in rank order, then exactly one others record. */
	      "eq([(r['type'], r.get('by', r.get('pair'))) for r in recs if r['others']], TABLES)\n"
	      "eq(len(recs), 2 + 2 + 2 + 3 + 1 + 2 + 3 + 3 + 8)\n"
	      "for r in recs:\n"
	      "    eq(list(r)[:7], ['type', 'v', 'host', 'window_start', 'window_end', 'scope',\n"
	      "                     'others'] if r['type'] in ('peer_stats', 'name_stats',\n"
	      "                                               'client_stats') else\n"
	      "                    ['type', 'v', 'host', 'window_start', 'window_end', 'scope',\n"
	      "                     'by' if r['type'] == 'process_stats' else 'pair'])\n"
	      "    eq(r['v'], 1); eq(r['host'], 'lab'); eq(r['scope'], 'interval')\n"
	      "    eq(r['window_start'], '2026-11-27T14:05:01.000000Z')\n"
	      "    eq(r['window_end'], '2026-11-27T14:06:01.000000Z')\n"
	      "    assert 'key_host' not in r\n"
	      /* dig: 4 queries, 3 responses, 1 unanswered; 7 UDP messages. */
	      "d = entries('process_stats', 'pid')[0]\n"
	      "eq(list(d), ['type','v','host','window_start','window_end','scope','by','others',\n"
	      "  'rank','pid','comm','uid','cgroup','unit','container','pod','queries',\n"
	      "  'queries_error','responses',\n"
	      "  "
	      "'unanswered','retransmits','rcodes','qtypes','udp','tcp','truncated','bytes_query',"
	      "\n"
	      "  'bytes_response','distinct_names','distinct_names_estimated','first_seen',\n"
	      "  'last_seen','latency'])\n"
	      "eq(d['others'], False); eq(d['rank'], 1)\n"
	      "eq((d['pid'], d['comm'], d['uid'], d['cgroup']), (4242, 'dig', 1000,\n"
	      "   '/user.slice/user-1000.slice/session-1.scope'))\n"
	      /* Without a live source, what the path says (docs/output.md). */
	      "eq((d['unit'], d['container'], d['pod']), ('session-1.scope', None, None))\n"
	      "eq((d['queries'], d['queries_error'], d['responses'], d['unanswered']), (4, 0, 3, "
	      "1))\n"
	      "eq(d['rcodes'], {'NOERROR': 2, 'NXDOMAIN': 1, 'SERVFAIL': 0, 'REFUSED': 0, 'other': "
	      "0})\n"
	      "eq(list(d['rcodes']), ['NOERROR', 'NXDOMAIN', 'SERVFAIL', 'REFUSED', 'other'])\n"
	      "eq(list(d['qtypes'].items()), [('A', 3), ('AAAA', 1), ('other', 0)])\n"
	      "eq((d['udp'], d['tcp'], d['truncated']), (7, 0, 1))\n"
	      "eq((d['bytes_query'], d['bytes_response']), (33 * 3 + 32, 49 + 65 + 90))\n"
	      "eq((d['distinct_names'], d['distinct_names_estimated']), (2, False))\n"
	      "eq((d['first_seen'], d['last_seen']), (ts(1), ts(5010)))\n"
	      /* 0.5, 1, 3 ms: p50 is the 2nd value, 1 ms, reported as its bucket's upper edge
	       * 999424 + 8191 (2^19 + 58 * 8192 .. ); p90 and p99 are the 3rd, capped at max. */
	      "eq(d['latency'], {'count': 3, 'min_ns': 500000, 'p50_ns': 1007615,\n"
	      "   'p90_ns': 3000000, 'p99_ns': 3000000, 'max_ns': 3000000})\n"
	      "assert abs(d['latency']['p50_ns'] - 1000000) / 1000000 < 0.016\n"
	      /* curl: 2 TCP queries, SERVFAIL and REFUSED, 100 and 200 ms. */
	      "c = entries('process_stats', 'pid')[1]\n"
	      "eq((c['rank'], c['pid'], c['comm'], c['uid'], c['cgroup']),\n"
	      "   (2, 777, 'curl', 0, '/system.slice/cron.service'))\n"
	      "eq(c['unit'], 'cron.service')\n"
	      "eq((c['queries'], c['responses'], c['unanswered'], c['udp'], c['tcp']), (2, 2, 0, "
	      "0, 4))\n"
	      "eq(c['rcodes'], {'NOERROR': 0, 'NXDOMAIN': 0, 'SERVFAIL': 1, 'REFUSED': 1, 'other': "
	      "0})\n"
	      "eq(c['qtypes'], {'A': 2, 'other': 0})\n"
	      "eq((c['bytes_query'], c['bytes_response'], c['truncated']), (70, 70, 0))\n"
	      "eq((c['first_seen'], c['last_seen']), (ts(1000), ts(2200)))\n"
	      /* 100 ms = 2^26 + 31 * 2^20 + 0.37 * 2^20: upper edge 100663295. */
	      "eq(c['latency'], {'count': 2, 'min_ns': 100000000, 'p50_ns': 100663295,\n"
	      "   'p90_ns': 200000000, 'p99_ns': 200000000, 'max_ns': 200000000})\n"
	      "o = others('process_stats', 'pid')\n"
	      "eq(list(o)[:9], ['type','v','host','window_start','window_end','scope','by',\n"
	      "   'others','entries'])\n"
	      "eq(list(o)[-5:], "
	      "['latency','max_entries','evictions','total_queries','count_bound'])\n"
	      "assert 'rank' not in o and 'pid' not in o and 'comm' not in o\n"
	      "eq((o['entries'], o['queries'], o['responses'], o['unanswered']), (0, 0, 0, 0))\n"
	      "eq((o['first_seen'], o['last_seen'], o['latency']), (None, None, None))\n"
	      "eq((o['max_entries'], o['evictions'], o['total_queries'], o['count_bound']),\n"
	      "   (100, 0, 6, 0))\n"
	      /* By comm: the same two rows, keyed by (comm, cgroup); no pid, no uid. */
	      "b = entries('process_stats', 'comm')\n"
	      "eq([(r['rank'], r['comm'], r['cgroup'], r['queries']) for r in b],\n"
	      "   [(1, 'dig', d['cgroup'], 4), (2, 'curl', c['cgroup'], 2)])\n"
	      "eq([(r['unit'], r['container'], r['pod']) for r in b],\n"
	      "   [(d['unit'], None, None), (c['unit'], None, None)])\n"
	      "assert 'pid' not in b[0] and 'uid' not in b[0]\n"
	      "eq(b[0]['latency'], d['latency']); eq(b[1]['rcodes'], c['rcodes'])\n"
	      /* Peers: the resolver over UDP and over TCP. */
	      "p = entries('peer_stats')\n"
	      "eq([(r['rank'], r['peer'], r['port'], r['proto'], r['queries'], r['responses'])\n"
	      "    for r in p], [(1, '10.0.0.53', 53, 'udp', 4, 3), (2, '10.0.0.53', 53, 'tcp', 2, "
	      "2)])\n"
	      "assert 'pid' not in p[0] and 'by' not in p[0] and 'pair' not in p[0]\n"
	      "eq((p[0]['distinct_names'], p[1]['distinct_names']), (2, 1))\n"
	      /* Names, case-folded: answers' distinct addresses instead of distinct names. */
	      "n = entries('name_stats')\n"
	      "eq([(r['rank'], r['name'], r['queries']) for r in n],\n"
	      "   [(1, 'www.example.com', 3), (2, 'api.example.org', 2), (3, 'nx.example.com', "
	      "1)])\n"
	      "w = n[0]\n"
	      "assert 'distinct_names' not in w\n"
	      "eq((w['distinct_addrs'], w['distinct_addrs_estimated']), (2, False))\n"
	      "eq((w['responses'], w['unanswered'], w['udp']), (2, 1, 5))\n"
	      "eq(list(w['qtypes'].items()), [('A', 2), ('AAAA', 1), ('other', 0)])\n"
	      "eq((w['bytes_query'], w['bytes_response']), (99, 114))\n"
	      "eq(w['latency'], {'count': 2, 'min_ns': 1000000, 'p50_ns': 1007615,\n"
	      "   'p90_ns': 3000000, 'p99_ns': 3000000, 'max_ns': 3000000})\n"
	      "eq((n[2]['distinct_addrs'], n[2]['rcodes']['NXDOMAIN'], n[2]['truncated']), (0, 1, "
	      "1))\n"
	      /* Pairs. */
	      "pp = entries('pair_stats', 'process_peer')\n"
	      "eq([(r['rank'], r['pid'], r['comm'], r['uid'], r['peer'], r['port'], r['proto'],\n"
	      "     r['queries']) for r in pp], [(1, 4242, 'dig', 1000, '10.0.0.53', 53, 'udp', "
	      "4),\n"
	      "                                (2, 777, 'curl', 0, '10.0.0.53', 53, 'tcp', 2)])\n"
	      "eq(pp[0]['cgroup'], d['cgroup']); eq(pp[0]['distinct_names'], 2)\n"
	      "pn = entries('pair_stats', 'process_name')\n"
	      "eq([(r['rank'], r['pid'], r['comm'], r['name'], r['queries'], r['unanswered'])\n"
	      "    for r in pn], [(1, 4242, 'dig', 'www.example.com', 3, 1),\n"
	      "                   (2, 777, 'curl', 'api.example.org', 2, 0),\n"
	      "                   (3, 4242, 'dig', 'nx.example.com', 1, 0)])\n"
	      "assert 'distinct_addrs' in pn[0] and 'peer' not in pn[0]\n"
	      "cn = entries('pair_stats', 'client_name')\n"
	      "eq([(r['rank'], r['client'], r['name'], r['queries']) for r in cn],\n"
	      "   [(1, '10.0.0.1', 'www.example.com', 3), (2, '10.0.0.1', 'api.example.org', 2),\n"
	      "    (3, '10.0.0.1', 'nx.example.com', 1)])\n"
	      "assert 'pid' not in cn[0] and 'comm' not in cn[0]\n"
	      /* The one client: every exchange of both processes. */
	      "cl = entries('client_stats')\n"
	      "eq(len(cl), 1)\n"
	      "eq(list(cl[0])[:10], ['type','v','host','window_start','window_end','scope',\n"
	      "   'others','rank','client','queries'])\n"
	      "eq((cl[0]['client'], cl[0]['queries'], cl[0]['responses'], cl[0]['unanswered'],\n"
	      "    cl[0]['retransmits']), ('10.0.0.1', 6, 5, 1, 0))\n"
	      "eq(cl[0]['rcodes'], {'NOERROR': 2, 'NXDOMAIN': 1, 'SERVFAIL': 1, 'REFUSED': 1,\n"
	      "   'other': 0})\n"
	      "eq((cl[0]['udp'], cl[0]['tcp'], cl[0]['distinct_names']), (7, 4, 3))\n"
	      "eq(cl[0]['latency']['count'], 5)\n"
	      "eq((cl[0]['first_seen'], cl[0]['last_seen']), (ts(1), ts(5010)))\n"
	      "for t, g in TABLES:\n"
	      "    o = others(t, g)\n"
	      "    eq((o['entries'], o['queries'], o['evictions'], o['count_bound']), (0, 0, 0, "
	      "0))\n"
	      "    eq(o['total_queries'], 6)\n");
	sink_close(&k);
	stats_free(s);
}

/*
 * 25 processes, pid 1000 + i sending i + 1 queries (1 .. 25), each
 * answered NOERROR in exactly 1 ms. --top 5 keeps pids 1024 .. 1020
 * (25 .. 21 queries); the others row holds the 20 cut: 1 + .. + 20 = 210.
 */
static struct stats *ladder_stats(void)
{
	struct stats *s = new_stats(MAXENT);

	for (uint32_t i = 0; i < 25; i++) {
		struct proc p = make_proc(1000 + i, 0, "worker", "/system.slice/w.service");

		for (uint32_t q = 0; q <= i; q++) {
			uint64_t t = T0_NS + (i * 100 + q) * MS;

			add_query(s, t, &p, IPPROTO_UDP, "w.example.net", 1, 31);
			add_response(s, t + MS, &p, IPPROTO_UDP, "w.example.net", 1, 47, 0, false,
				     MS, NULL, 0);
		}
	}
	return s;
}

static void test_json_top_cut_and_others(void **state)
{
	struct stats *s = ladder_stats();
	struct stats_report_opts opts = opts_for(5, STATS_SCOPE_TOTAL);
	struct sink k;

	sink_open_fmt(&k, OUTPUT_JSON, NULL);
	stats_report(s, k.out, &opts);
	check(&k,
	      "for r in recs:\n"
	      "    eq(r['host'], None); eq(r['scope'], 'total')\n"
	      "e = entries('process_stats', 'pid')\n"
	      "eq([r['rank'] for r in e], [1, 2, 3, 4, 5])\n"
	      "eq([(r['pid'], r['queries']) for r in e],\n"
	      "   [(1024, 25), (1023, 24), (1022, 23), (1021, 22), (1020, 21)])\n"
	      "eq([r['responses'] for r in e], [25, 24, 23, 22, 21])\n"
	      "o = others('process_stats', 'pid')\n"
	      "eq(recs.index(o), 5)\n"
	      "eq((o['entries'], o['queries'], o['queries_error']), (20, 210, 0))\n"
	      "eq((o['responses'], o['rcodes']['NOERROR'], o['unanswered']), (210, 210, 0))\n"
	      "eq((o['udp'], o['bytes_query'], o['bytes_response']), (420, 210 * 31, 210 * 47))\n"
	      "eq(o['qtypes'], {'A': 210, 'other': 0})\n"
	      "eq(o['distinct_names'], 1)\n"
	      /* pid 1000's one query at 0 ms .. pid 1019's last at 1900 + 19 + 1 ms. */
	      "eq((o['first_seen'], o['last_seen']), (ts(0), ts(1920)))\n"
	      "eq(o['latency'], {'count': 210, 'min_ns': 1000000, 'p50_ns': 1000000,\n"
	      "   'p90_ns': 1000000, 'p99_ns': 1000000, 'max_ns': 1000000})\n"
	      "eq((o['max_entries'], o['evictions'], o['total_queries'], o['count_bound']),\n"
	      "   (100, 0, 325, 0))\n"
	      /* One comm and one peer: a single entry, nothing cut. */
	      "eq(len(entries('process_stats', 'comm')), 1)\n"
	      "eq(others('process_stats', 'comm')['entries'], 0)\n"
	      "eq([(r['rank'], r['queries']) for r in entries('peer_stats')], [(1, 325)])\n"
	      "eq(others('peer_stats')['queries'], 0)\n"
	      "eq(len(entries('pair_stats', 'process_name')), 5)\n"
	      "eq(others('pair_stats', 'process_name')['entries'], 20)\n");
	sink_close(&k);

	/* --top 0: every entry, ranks 1 .. 25 in descending query order. */
	opts.top_n = 0;
	sink_open_fmt(&k, OUTPUT_JSON, "h");
	stats_report(s, k.out, &opts);
	check(&k, "e = entries('process_stats', 'pid')\n"
		  "eq([r['rank'] for r in e], list(range(1, 26)))\n"
		  "eq([r['queries'] for r in e], list(range(25, 0, -1)))\n"
		  "eq(others('process_stats', 'pid')['entries'], 0)\n");
	sink_close(&k);
	stats_free(s);
}

static void test_json_empty_tables(void **state)
{
	struct stats *s = new_stats(MAXENT);
	struct stats_report_opts opts = opts_for(20, STATS_SCOPE_INTERVAL);
	struct sink k;

	sink_open_fmt(&k, OUTPUT_JSON, "lab");
	stats_report(s, k.out, &opts);
	check(&k, "eq(len(recs), 8)\n"
		  "eq([(r['type'], r.get('by', r.get('pair'))) for r in recs], TABLES)\n"
		  "for r in recs:\n"
		  "    eq(r['others'], True); eq(r['entries'], 0); eq(r['queries'], 0)\n"
		  "    eq((r['responses'], r['unanswered'], r['udp'], r['tcp']), (0, 0, 0, 0))\n"
		  "    eq(r['retransmits'], 0)\n"
		  "    eq(r['qtypes'], {'other': 0}); eq(r['rcodes']['other'], 0)\n"
		  "    eq((r['latency'], r['first_seen'], r['last_seen']), (None, None, None))\n"
		  "    eq((r['evictions'], r['total_queries'], r['count_bound']), (0, 0, 0))\n");
	sink_close(&k);
	stats_free(s);
}

/*
 * Eviction: max_entries 4, one name asked 50 times among 100 names asked
 * once, every query answered NXDOMAIN. The name table evicts; total 150
 * queries, so count_bound = 150 / 4 = 37 and the heavy name (50 > 37) is
 * guaranteed present, its reported count at most queries_error above 50.
 * Every response is counted once: in an entry or in the others row.
 */
static void test_json_eviction_error_bound(void **state)
{
	struct stats_config cfg = {.max_entries = 4};
	struct stats *s = stats_new(&cfg);
	struct stats_report_opts opts = opts_for(20, STATS_SCOPE_INTERVAL);
	struct proc p = make_proc(9, 0, "flood", NULL);
	char name[32], script[1024];
	struct sink k;

	assert_non_null(s);
	opts.max_entries = 4;
	for (int i = 0; i < 100; i++) {
		uint64_t t = T0_NS + (uint64_t)i * MS;

		snprintf(name, sizeof(name), "r%03d.example.com", i);
		add_query(s, t, &p, IPPROTO_UDP, name, 1, 34);
		add_response(s, t + 1, &p, IPPROTO_UDP, name, 1, 34, 3, false, 1000, NULL, 0);
		if (i % 2 == 0) {
			add_query(s, t + 2, &p, IPPROTO_UDP, "heavy.example.com", 1, 35);
			add_response(s, t + 3, &p, IPPROTO_UDP, "heavy.example.com", 1, 35, 3,
				     false, 1000, NULL, 0);
		}
	}
	assert_true(stats_evictions(s, STATS_NAME) > 0);
	sink_open_fmt(&k, OUTPUT_JSON, "lab");
	stats_report(s, k.out, &opts);
	snprintf(script, sizeof(script),
		 "e = entries('name_stats')\n"
		 "o = others('name_stats')\n"
		 "eq(len(e), 4); eq(o['entries'], 0)\n"
		 "eq((o['max_entries'], o['total_queries'], o['count_bound']), (4, 150, 37))\n"
		 "eq(o['evictions'], %llu)\n"
		 "eq((e[0]['rank'], e[0]['name']), (1, 'heavy.example.com'))\n"
		 "assert e[0]['queries'] - e[0]['queries_error'] <= 50 <= e[0]['queries']\n"
		 "assert any(r['queries_error'] > 0 for r in e)\n"
		 "eq(sum(r['responses'] for r in e + [o]), 150)\n"
		 "eq(sum(r['rcodes']['NXDOMAIN'] for r in e + [o]), 150)\n"
		 "assert o['responses'] > 0 and o['latency']['count'] == o['responses']\n"
		 /* The tables that did not fill up have no bound to state. */
		 "eq(others('peer_stats')['count_bound'], 0)\n",
		 (unsigned long long)stats_evictions(s, STATS_NAME));
	check(&k, script);
	sink_close(&k);
	stats_free(s);
}

/* One query of p to the resolver at 10.0.0.<last>. */
static void add_query_to(struct stats *s, const struct proc *p, uint8_t last)
{
	struct dns_obs o = make_obs(OBS_QUERY, T0_NS, p, IPPROTO_UDP, 40001, "x.example", 1, 27);

	o.server_addr[3] = last;
	stats_add(s, &o);
}

/*
 * A pair outlives its process's entry: max_entries 2; A asks peers .1 and
 * .2, B asks .1 (its pair evicts (A,.1)), C asks .1 (evicts process B,
 * and the pair (A,.2)). (B,.1) is left with no process entry: comm, uid
 * and cgroup are null, not uid 0.
 */
static void test_json_pair_without_process(void **state)
{
	struct stats_config cfg = {.max_entries = 2};
	struct stats *s = stats_new(&cfg);
	struct stats_report_opts opts = opts_for(20, STATS_SCOPE_INTERVAL);
	struct proc a = make_proc(10, 1, "a", "/a"), b = make_proc(11, 2, "b", "/b");
	struct proc c = make_proc(12, 3, "c", "/c");
	struct sink k;

	assert_non_null(s);
	add_query_to(s, &a, 1);
	add_query_to(s, &a, 2);
	add_query_to(s, &b, 1);
	add_query_to(s, &c, 1);
	sink_open_fmt(&k, OUTPUT_JSON, "lab");
	stats_report(s, k.out, &opts);
	check(&k, "eq(sorted(r['pid'] for r in entries('process_stats', 'pid')), [10, 12])\n"
		  "pp = {r['pid']: r for r in entries('pair_stats', 'process_peer')}\n"
		  "eq(sorted(pp), [11, 12])\n"
		  "eq((pp[11]['comm'], pp[11]['uid'], pp[11]['cgroup'], pp[11]['peer']),\n"
		  "   (None, None, None, '10.0.0.1'))\n"
		  "eq((pp[12]['comm'], pp[12]['uid'], pp[12]['cgroup']), ('c', 3, '/c'))\n");
	sink_close(&k);
	stats_free(s);
}

#define PODMAN_CGROUP "/machine.slice/libpod-" PODMAN_ID ".scope/container"
#define PODMAN_ID     "3f2a9c1b7e4d5a6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7"

/* A live source's identity of PODMAN_CGROUP, with the name from its state. */
static const struct cgroup_ident *podman_ident(void *ctx, const char *path)
{
	static struct cgroup_ident id;

	if (strcmp(path, PODMAN_CGROUP) != 0)
		return NULL;
	cgroup_ident_parse(path, &id);
	strcpy(id.container_name, "dnsprobe");
	return &id;
}

/*
 * The identity of the live source where it knows the cgroup (names
 * included), the path's alone for one it does not: in the process tables
 * and the pairs with a process.
 */
static void test_json_identity_of_live_source(void **state)
{
	struct stats *s = new_stats(MAXENT);
	struct stats_report_opts opts = opts_for(20, STATS_SCOPE_INTERVAL);
	struct proc a = make_proc(40, 0, "probe", PODMAN_CGROUP);
	struct proc b = make_proc(41, 0, "dig", "/system.slice/docker-" PODMAN_ID ".scope");
	struct dns_obs oa = make_obs(OBS_QUERY, T0_NS, &a, IPPROTO_UDP, 5353, "a.example", 1, 28);
	struct dns_obs ob = make_obs(OBS_QUERY, T0_NS, &b, IPPROTO_UDP, 5354, "b.example", 1, 28);
	struct sink k;

	stats_add(s, &oa);
	stats_add(s, &ob);
	sink_open_cfg(&k, (struct output_config){.format = OUTPUT_JSON,
						 .host = "h",
						 .cgroup_ident_by_path = podman_ident});
	stats_report(s, k.out, &opts);
	check(&k,
	      "want = {'probe': ('libpod-" PODMAN_ID
	      ".scope', {'runtime': 'podman', 'id': '" PODMAN_ID "', 'name': 'dnsprobe'}),\n"
	      "        'dig': ('docker-" PODMAN_ID
	      ".scope', {'runtime': 'docker', 'id': '" PODMAN_ID "', 'name': None})}\n"
	      "for t, g in (('process_stats', 'pid'), ('process_stats', 'comm'),\n"
	      "             ('pair_stats', 'process_peer'), ('pair_stats', 'process_name')):\n"
	      "    rs = entries(t, g); eq(len(rs), 2)\n"
	      "    for r in rs:\n"
	      "        eq((r['unit'], r['container']), want[r['comm']]); eq(r['pod'], None)\n"
	      "for t, g in (('peer_stats', None), ('name_stats', None), ('client_stats', None),\n"
	      "             ('pair_stats', 'client_name')):\n"
	      "    assert 'unit' not in entries(t, g)[0]\n");
	sink_close(&k);
	stats_free(s);
}

/* Fleet keys (another host's observations) and IPv6 addresses. */
static void test_json_key_host_and_ipv6(void **state)
{
	struct stats *s = new_stats(MAXENT);
	struct stats_report_opts opts = opts_for(20, STATS_SCOPE_INTERVAL);
	struct proc p = make_proc(31, 101, "unbound", "/system.slice/unbound.service");
	struct dns_obs o = make_obs(OBS_QUERY, T0_NS, &p, IPPROTO_UDP, 5353, "v6.example", 28, 28);
	struct sink k;

	o.host = "web-1";
	o.family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", o.client_addr), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::53", o.server_addr), 1);
	stats_add(s, &o);
	sink_open_fmt(&k, OUTPUT_JSON, "collector");
	stats_report(s, k.out, &opts);
	check(&k, "for t, g in TABLES:\n"
		  "    r = entries(t, g)[0]\n"
		  "    eq(r['host'], 'collector')\n"
		  "    if t in ('peer_stats', 'name_stats'):\n"
		  "        assert 'key_host' not in r\n"
		  "    else:\n"
		  "        eq(r['key_host'], 'web-1')\n"
		  "        eq(list(r)[9 if g else 8], 'key_host')\n"
		  "eq(entries('client_stats')[0]['client'], '2001:db8::1')\n"
		  "eq(entries('peer_stats')[0]['peer'], '2001:db8::53')\n"
		  "eq(entries('pair_stats', 'process_peer')[0]['peer'], '2001:db8::53')\n"
		  "eq(entries('pair_stats', 'client_name')[0]['client'], '2001:db8::1')\n"
		  "r = entries('process_stats', 'pid')[0]\n"
		  "eq((r['pid'], r['comm'], r['uid'], r['queries']), (31, 'unbound', 101, 1))\n"
		  "eq(r['qtypes'], {'AAAA': 1, 'other': 0})\n");
	sink_close(&k);
	stats_free(s);
}

/* ---- text tables ---- */

/*
 * Python: split the text output into tables (title, header, rows) and check
 * that every row's cells line up under the header: right-aligned columns
 * end where their header ends, left-aligned ones start where it starts.
 * Header words have no spaces, so the header's words are the columns.
 */
static const char py_text[] =
	"RIGHT = {'PID','PORT','QUERIES','RESP','UNANS','RETX','P50','P99',\n"
	"         'NAMES','ADDRS'}\n"
	"KEYS = {'HOST','PID','COMM','PEER','PORT','PROTO','CLIENT','NAME','CGROUP'}\n"
	"lines = text.split('\\n')[:-1]\n"
	"tables = []\n"
	"for l in lines:\n"
	"    if l.startswith('# ') and not l.startswith('# table full'):\n"
	"        tables.append({'title': l, 'rows': [], 'notes': []})\n"
	"    elif l.startswith('# table full'):\n"
	"        tables[-1]['notes'].append(l)\n"
	"    elif l:\n"
	"        tables[-1]['rows'].append(l)\n"
	"import re\n"
	"def columns(header):\n"
	"    return [(m.group(), m.start(), m.end()) for m in re.finditer(r'\\S+', header)]\n"
	"def aligned(t, width=100):\n"
	"    header, rows = t['rows'][0], t['rows'][1:]\n"
	"    cols = columns(header)\n"
	"    for row in rows:\n"
	"        assert len(row) <= width, (len(row), row)\n"
	"        assert row == row.rstrip(), row\n"
	"        other = row.lstrip().startswith('(others)')\n"
	"        for name, s, e in cols:\n"
	"            if other and name in KEYS:\n"
	"                continue\n"
	"            if name in RIGHT:\n"
	"                assert row[e - 1] != ' ' and (e == len(row) or row[e] == ' '), (name, "
	"row)\n"
	"            else:\n"
	"                assert row[s] != ' ' and (s == 0 or row[s - 1] == ' '), (name, row)\n"
	"    return cols\n";

/* Text is not JSON Lines, so not check_py: Python reads it as `text` and `tables`. */
static void check_text(struct sink *k, const char *body)
{
	char cmd[128];
	FILE *py;

	assert_int_equal(output_flush(k->out), 0);
	snprintf(cmd, sizeof(cmd), "python3 - %s", k->path);
	py = popen(cmd, "w");
	assert_non_null(py);
	fputs("import sys\n"
	      "text = open(sys.argv[1], encoding='utf-8').read()\n"
	      "assert text.endswith('\\n'), 'output does not end in a newline'\n"
	      "def eq(a, b):\n"
	      "    assert a == b, (a, b)\n",
	      py);
	fputs(py_text, py);
	fputs(body, py);
	assert_int_equal(pclose(py), 0);
}

static void test_text_reference_tables(void **state)
{
	struct stats *s = reference_stats();
	struct stats_report_opts opts = opts_for(STATS_REPORT_DEFAULT_TOP, STATS_SCOPE_INTERVAL);
	struct sink k;

	sink_open_fmt(&k, OUTPUT_TEXT, "lab");
	stats_report(s, k.out, &opts);
	check_text(
		&k,
		"eq(len(tables), 8)\n"
		"eq([t['title'].split(' (')[0] for t in tables], ['# processes',\n"
		"   '# processes by name and cgroup', '# peers', '# names', '# clients',\n"
		"   '# process x peer', '# process x name', '# client x name'])\n"
		"eq(tables[0]['title'],\n"
		"   '# processes (all 2 by queries; 2026-11-27 14:05:01 .. 14:06:01 UTC, "
		"interval)')\n"
		/* One header and one line per entry, nothing cut so no (others) row. */
		"eq([len(t['rows']) for t in tables], [3, 3, 3, 4, 2, 3, 4, 4])\n"
		"for t in tables:\n"
		"    aligned(t)\n"
		"    eq(t['notes'], [])\n"
		/* Between tables, one empty line. */
		"eq(lines.count(''), 8)\n"
		/* The peers table exactly: 0.5/1/3 ms -> p50 1.00ms (1007615 ns), p99 3.00ms;
		 * 100/200 ms -> 100ms (100663295 ns) and 200ms. RCODES: failures first,
		 * ties (SERVFAIL, REFUSED: one each) in the order of the JSON rcodes,
		 * NOERROR last. */
		/* clang-format off */
		"eq(tables[2]['rows'], [\n"
		"  'PEER      PORT PROTO QUERIES RESP RCODES               UNANS RETX    P50    P99 NAMES TOP-QTYPE',\n"
		"  '10.0.0.53   53 udp         4    3 NXDOMAIN:1 NOERROR:2     1    0 1.00ms 3.00ms     2 A 75%',\n"
		"  '10.0.0.53   53 tcp         2    2 SERVFAIL:1 REFUSED:1     0    0  100ms  200ms     1 A 100%'])\n"
		/* clang-format on */
		"eq(tables[0]['rows'][0].split(), ['PID', 'COMM', 'QUERIES', 'RESP', 'RCODES',\n"
		"   'UNANS', 'RETX', 'P50', 'P99', 'NAMES', 'TOP-QTYPE', 'CGROUP'])\n"
		/* 85 columns before CGROUP: its 43 bytes are cut to the last 14 after "…". */
		/* clang-format off */
		"eq(tables[0]['rows'][1],\n"
		"   '4242 dig        4    3 NXDOMAIN:1 NOERROR:2     1    0 1.00ms 3.00ms     2 A 75%     …ession-1.scope')\n"
		/* clang-format on */
		"eq(len(tables[0]['rows'][1]), 100)\n"
		"eq(tables[3]['rows'][1].split(), ['www.example.com', '3', '2', 'NOERROR:2', '1',\n"
		"   '1.00ms', '3.00ms', '2', 'A', '66%'])\n"
		/* The client: 103 columns wide; RCODES gives up 3 of its 41 and drops
		 * its last word, NOERROR. P50 3.01ms: the 3rd of 0.5, 1, 3, 100, 200 ms. */
		/* clang-format off */
		"eq(tables[4]['rows'], [\n"
		"  'CLIENT   QUERIES RESP RCODES                                 UNANS RETX    P50   P99 NAMES TOP-QTYPE',\n"
		"  '10.0.0.1       6    5 NXDOMAIN:1 SERVFAIL:1 REFUSED:1 …          1    0 3.01ms 200ms     3 A 83%'])\n"
		/* clang-format on */
		"eq(tables[7]['rows'][0].split()[:2], ['CLIENT', 'NAME'])\n");
	sink_close(&k);
	stats_free(s);
}

static void test_text_top_cut_others_row(void **state)
{
	struct stats *s = ladder_stats();
	struct stats_report_opts opts = opts_for(5, STATS_SCOPE_TOTAL);
	struct sink k;

	sink_open_fmt(&k, OUTPUT_TEXT, NULL);
	stats_report(s, k.out, &opts);
	check_text(&k,
		   "t = tables[0]\n"
		   "eq(t['title'], '# processes (top 5 of 25 by queries; '\n"
		   "   '2026-11-27 14:05:01 .. 14:06:01 UTC, total)')\n"
		   "eq(len(t['rows']), 1 + 5 + 1)\n"
		   "aligned(t)\n"
		   "eq([r.split()[0] for r in t['rows'][1:6]], ['1024', '1023', '1022', '1021', "
		   "'1020'])\n"
		   "eq([r.split()[2] for r in t['rows'][1:6]], ['25', '24', '23', '22', '21'])\n"
		   /* (others): the 20 cut, 210 queries, all answered in 1 ms. */
		   "eq(t['rows'][6].split(), ['(others)', '210', '210', 'NOERROR:210', '0', '0',\n"
		   "   '1.00ms', '1.00ms', '1', 'A', '100%'])\n"
		   "eq(tables[2]['title'].split(' (')[1].split(';')[0], 'all 1 by queries')\n"
		   "eq(len(tables[2]['rows']), 2)\n");
	sink_close(&k);
	stats_free(s);
}

static void test_text_empty_tables(void **state)
{
	struct stats *s = new_stats(MAXENT);
	struct stats_report_opts opts = opts_for(20, STATS_SCOPE_INTERVAL);
	struct sink k;

	sink_open_fmt(&k, OUTPUT_TEXT, "lab");
	stats_report(s, k.out, &opts);
	check_text(&k, "eq(len(lines), 16)\n"
		       "eq(lines[0], '# processes (none; 2026-11-27 14:05:01 .. 14:06:01 UTC, "
		       "interval)')\n"
		       "for t in tables:\n"
		       "    assert '(none; ' in t['title']\n"
		       "    eq(t['rows'], [])\n");
	sink_close(&k);
	stats_free(s);
}

/*
 * Long cells: a 60-byte cgroup path and a 70-byte name are cut from the left
 * with "…" so the table fits 100 columns; a comm with a tab and a non-UTF-8
 * byte is escaped; latencies below 1 ms are in µs.
 */
static void test_text_cut_and_escape(void **state)
{
	static const char cgroup[] =
		"/system.slice/very-long-service-name-for-testing-cuts.service";
	static const char name[] =
		"a-label-that-is-rather-long.another-label-that-is-long.zone.example.com";
	struct stats *s = new_stats(MAXENT);
	struct stats_report_opts opts = opts_for(20, STATS_SCOPE_INTERVAL);
	struct proc p = make_proc(123456, 0, "x\ty\xff", cgroup);
	struct sink k;

	add_query(s, T0_NS, &p, IPPROTO_UDP, name, 16, 90);
	add_response(s, T0_NS + 812345, &p, IPPROTO_UDP, name, 16, 120, 0, false, 812345, NULL, 0);
	sink_open_fmt(&k, OUTPUT_TEXT, "lab");
	opts.window_end_ns = T0_NS + 86400 * SEC; /* the next day: the end shows its date */
	stats_report(s, k.out, &opts);
	check_text(
		&k,
		"cgroup = '/system.slice/very-long-service-name-for-testing-cuts.service'\n"
		"name = 'a-label-that-is-rather-long.another-label-that-is-long.zone.example.com'\n"
		"eq(tables[0]['title'], '# processes (all 1 by queries; 2026-11-27 14:05:01 .. '\n"
		"   '2026-11-28 14:05:01 UTC, interval)')\n"
		"for t in tables:\n"
		"    aligned(t)\n"
		"row = tables[0]['rows'][1]\n"
		"eq(row.split()[:2], ['123456', 'x\\\\009y\\\\255'])\n"
		/* 812345 ns, the only value: its bucket's upper edge (819199) capped at the max. */
		"assert ' 812µs 812µs ' in row, row\n"
		"assert ' TXT 100%' in row, row\n"
		"cell = row.split()[-1]\n"
		"assert cell.startswith('…') and cgroup.endswith(cell[1:]), cell\n"
		"assert len(row) <= 100\n"
		"n = tables[3]['rows'][1].split()[0]\n"
		"assert n.startswith('…') and name.endswith(n[1:]) and len(n) < len(name), n\n"
		/* The other columns take 49 + 8 separators: the name gets the 43 left. */
		"eq((len(n), len(tables[3]['rows'][0])), (43, 100))\n");
	sink_close(&k);
	stats_free(s);
}

/*
 * RCODES: every rcode seen, the failures first, the most frequent first
 * (ties in the JSON order), then NOERROR, however many: 4 NOERROR,
 * 3 NXDOMAIN, 3 SERVFAIL, 2 of rcode 9 (other).
 */
static void test_text_rcode_mix(void **state)
{
	static const uint16_t rcodes[] = {0, 3, 3, 2, 9, 3, 0, 2, 9, 2, 0, 0};
	struct stats *s = new_stats(MAXENT);
	struct stats_report_opts opts = opts_for(20, STATS_SCOPE_INTERVAL);
	struct sink k;

	for (size_t i = 0; i < sizeof(rcodes) / sizeof(rcodes[0]); i++) {
		uint64_t t = T0_NS + i * MS;

		add_query(s, t, NULL, IPPROTO_UDP, "mix.example", 1, 29);
		add_response(s, t + MS, NULL, IPPROTO_UDP, "mix.example", 1, 29, rcodes[i], false,
			     MS, NULL, 0);
	}
	sink_open_fmt(&k, OUTPUT_TEXT, "lab");
	stats_report(s, k.out, &opts);
	check_text(&k, "t = [t for t in tables if t['title'].startswith('# names ')][0]\n"
		       "aligned(t)\n"
		       /* clang-format off */
		       "eq(t['rows'], [\n"
		       "  'NAME        QUERIES RESP RCODES                                  UNANS    P50    P99 ADDRS TOP-QTYPE',\n"
		       "  'mix.example      12   12 NXDOMAIN:3 SERVFAIL:3 other:2 NOERROR:4     0 1.00ms 1.00ms     0 A 100%'])\n"
		   /* clang-format on */);
	sink_close(&k);
	/* 17 columns narrower: RCODES 22 wide keeps 21 bytes, two words that end there. */
	opts.width = 83;
	sink_open_fmt(&k, OUTPUT_TEXT, "lab");
	stats_report(s, k.out, &opts);
	check_text(&k, "t = [t for t in tables if t['title'].startswith('# names ')][0]\n"
		       "aligned(t, 83)\n"
		       /* clang-format off */
		       "eq(t['rows'][1],\n"
		       "   'mix.example      12   12 NXDOMAIN:3 SERVFAIL:3…     0 1.00ms 1.00ms     0 A 100%')\n"
		   /* clang-format on */);
	sink_close(&k);
	stats_free(s);
}

/*
 * A source that cannot know processes (pcap): text leaves out the four
 * empty process tables, JSON still ends every table with its others
 * record; a process table that has entries is shown all the same.
 */
static void test_text_no_process_tables(void **state)
{
	struct stats *s = new_stats(MAXENT);
	struct stats_report_opts opts = opts_for(20, STATS_SCOPE_INTERVAL);
	struct proc p = make_proc(5, 0, "p", NULL);
	struct sink k;

	add_query(s, T0_NS, NULL, IPPROTO_UDP, "a.example", 1, 27);
	opts.no_processes = true;
	sink_open_fmt(&k, OUTPUT_TEXT, "lab");
	stats_report(s, k.out, &opts);
	check_text(&k, "eq([t['title'].split(' (')[0] for t in tables],\n"
		       "   ['# peers', '# names', '# clients', '# client x name'])\n"
		       "eq(lines.count(''), 4)\n");
	sink_close(&k);
	sink_open_fmt(&k, OUTPUT_JSON, "lab");
	stats_report(s, k.out, &opts);
	check(&k, "eq([(r['type'], r.get('by', r.get('pair'))) for r in recs if r['others']], "
		  "TABLES)\n"
		  "eq(len(recs), 8 + 4)\n");
	sink_close(&k);
	/* Without the flag, the empty process tables are there, as "(none; ...)". */
	opts.no_processes = false;
	sink_open_fmt(&k, OUTPUT_TEXT, "lab");
	stats_report(s, k.out, &opts);
	check_text(&k,
		   "eq(len(tables), 8)\n"
		   "assert '(none; ' in tables[0]['title'] and '(none; ' in tables[5]['title']\n");
	sink_close(&k);
	add_query(s, T0_NS, &p, IPPROTO_UDP, "a.example", 1, 27);
	opts.no_processes = true;
	sink_open_fmt(&k, OUTPUT_TEXT, "lab");
	stats_report(s, k.out, &opts);
	check_text(&k, "eq(len(tables), 8)\n"
		       "eq(tables[0]['rows'][1].split()[:3], ['5', 'p', '1'])\n");
	sink_close(&k);
	stats_free(s);
}

/* The eviction note and the '*' of an overestimated count. */
static void test_text_eviction_note(void **state)
{
	struct stats_config cfg = {.max_entries = 2};
	struct stats *s = stats_new(&cfg);
	struct stats_report_opts opts = opts_for(20, STATS_SCOPE_INTERVAL);
	struct proc p = make_proc(9, 0, "flood", NULL);
	char name[32];
	struct sink k;

	assert_non_null(s);
	opts.max_entries = 2;
	/* a, b, c, d, each once: c evicts a (count 1 -> 2, error 1), d evicts b. */
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "%c.example", 'a' + i);
		add_query(s, T0_NS + (uint64_t)i * MS, &p, IPPROTO_UDP, name, 1, 30);
	}
	sink_open_fmt(&k, OUTPUT_TEXT, "lab");
	stats_report(s, k.out, &opts);
	check_text(&k,
		   "t = tables[3]\n"
		   "aligned(t)\n"
		   "eq([r.split()[:2] for r in t['rows'][1:]], [['c.example', '2*'],\n"
		   "   ['d.example', '2*']])\n"
		   "eq(t['notes'], ['# table full (2 entries, 2 evicted): every key with more '\n"
		   "   'than 2 queries is listed; * = count may be over by its error'])\n"
		   "eq(tables[0]['notes'], [])\n");
	sink_close(&k);
	stats_free(s);
}

/* ---- the output stage's generic record API ---- */

static void test_output_generic_records(void **state)
{
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t v4[4] = {192, 0, 2, 1};
	struct sink k;
	struct jbuf *j;

	sink_open_fmt(&k, OUTPUT_JSON, "h\"1");
	assert_int_equal(output_format_of(k.out), OUTPUT_JSON);
	j = output_begin_record(k.out, "finding");
	assert_non_null(j);
	/* One record at a time. */
	assert_null(output_begin_record(k.out, "other"));
	JBUF_KEY(j, "at");
	fmt_json_time(j, T0_NS + 1500);
	JBUF_KEY(j, "a4");
	fmt_json_addr(j, AF_INET, v4);
	JBUF_KEY(j, "a6");
	fmt_json_addr(j, AF_INET6, v6);
	JBUF_KEY(j, "none");
	fmt_json_addr(j, 0, v4);
	/* Flushing now must not write the open record in part. */
	assert_int_equal(output_flush(k.out), 0);
	assert_int_equal(lseek(k.fd, 0, SEEK_END), 0);
	output_end_record(k.out);
	output_end_record(k.out); /* no record open: nothing */
	/* A record left with a nested object open is dropped whole. */
	j = output_begin_record(k.out, "broken");
	assert_non_null(j);
	JBUF_KEY(j, "x");
	jbuf_obj_begin(j);
	output_end_record(k.out);
	/* Text lines are for the text format only. */
	output_text_line(k.out, "not json", 8);
	assert_non_null(output_begin_record(k.out, "last"));
	output_end_record(k.out);
	check_py(&k, "eq(recs, [{'type': 'finding', 'v': 1, 'host': 'h\"1',\n"
		     "  'at': '2026-11-27T14:05:01.000001Z', 'a4': '192.0.2.1',\n"
		     "  'a6': '2001:db8::1', 'none': None},\n"
		     "  {'type': 'last', 'v': 1, 'host': 'h\"1'}])\n");
	sink_close(&k);

	sink_open_fmt(&k, OUTPUT_TEXT, NULL);
	assert_int_equal(output_format_of(k.out), OUTPUT_TEXT);
	assert_null(output_begin_record(k.out, "x"));
	output_text_line(k.out, "a\tb\nc \xc2\xb5s", 9);
	output_text_line(k.out, "", 0);
	output_text_line(k.out, NULL, 3); /* bad input: ignored */
	{
		size_t len;
		char *data;

		assert_int_equal(output_flush(k.out), 0);
		data = sink_read(&k, &len);
		assert_int_equal(len, strlen("a\\009b\\010c \xc2\xb5s\n\n"));
		assert_memory_equal(data, "a\\009b\\010c \xc2\xb5s\n\n", len);
	}
	sink_close(&k);
	assert_int_equal(output_format_of(NULL), OUTPUT_JSON);
	assert_null(output_begin_record(NULL, "x"));
}

static void test_output_helpers(void **state)
{
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = 0, [15] = 0x53};
	char t[FMT_RFC3339_LEN], a[FMT_ADDR_MAX];
	struct jbuf j;

	fmt_time(t, T0_NS + 123456789);
	assert_memory_equal(t, "2026-11-27T14:05:01.123456Z", FMT_RFC3339_LEN);
	assert_int_equal(fmt_addr(a, AF_INET6, v6), strlen("2001:db8::53"));
	assert_memory_equal(a, "2001:db8::53", strlen("2001:db8::53"));
	assert_int_equal(fmt_addr(a, 99, v6), 0);
	assert_string_equal(fmt_proto_name(IPPROTO_UDP), "udp");
	assert_string_equal(fmt_proto_name(IPPROTO_TCP), "tcp");
	assert_null(fmt_proto_name(1));
	assert_int_equal(jbuf_init(&j, 0), 0);
	fmt_text_safe(&j, "a\\b\x01\xc3\xa9", 6, true);
	assert_int_equal(j.len, strlen("a\\092b\\001\\195\\169"));
	assert_memory_equal(j.buf, "a\\092b\\001\\195\\169", j.len);
	jbuf_reset(&j);
	fmt_text_safe(&j, "x\\.y", 4, false);
	assert_memory_equal(j.buf, "x\\.y", 4);
	jbuf_free(&j);
}

static void test_bad_arguments(void **state)
{
	struct stats *s = new_stats(MAXENT);
	struct stats_report_opts opts = opts_for(20, STATS_SCOPE_INTERVAL);
	struct sink k;

	sink_open_fmt(&k, OUTPUT_JSON, "lab");
	stats_report(NULL, k.out, &opts);
	stats_report(s, NULL, &opts);
	stats_report(s, k.out, NULL);
	assert_int_equal(output_flush(k.out), 0);
	assert_int_equal(lseek(k.fd, 0, SEEK_END), 0);
	/* max_entries unknown: the bound cannot be stated once the table evicted,
	 * but a table that never evicted still has bound 0. */
	opts.max_entries = 0;
	stats_report(s, k.out, &opts);
	check(&k, "eq(len(recs), 8)\n"
		  "for r in recs:\n"
		  "    eq((r['max_entries'], r['count_bound']), (0, 0))\n");
	sink_close(&k);
	stats_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_reference_figures),
		cmocka_unit_test(test_json_top_cut_and_others),
		cmocka_unit_test(test_json_empty_tables),
		cmocka_unit_test(test_json_eviction_error_bound),
		cmocka_unit_test(test_json_pair_without_process),
		cmocka_unit_test(test_json_key_host_and_ipv6),
		cmocka_unit_test(test_json_identity_of_live_source),
		cmocka_unit_test(test_text_reference_tables),
		cmocka_unit_test(test_text_top_cut_others_row),
		cmocka_unit_test(test_text_empty_tables),
		cmocka_unit_test(test_text_cut_and_escape),
		cmocka_unit_test(test_text_eviction_note),
		cmocka_unit_test(test_text_rcode_mix),
		cmocka_unit_test(test_text_no_process_tables),
		cmocka_unit_test(test_output_generic_records),
		cmocka_unit_test(test_output_helpers),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
