// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for the output stage (user/report/output.c). Every JSON line is read
 * back by Python's json module, and field values are asserted in Python.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "capture/cgroup_ident.h"
#include "proto/dns.h"
#include "report/output.h"
#include "testutil.h"

/* 2026-11-27T14:05:01Z */
#define T0_SEC 1795788301ULL
#define T0_NS  (T0_SEC * 1000000000ULL)

/* ---- real DNS messages, as hex (spaces ignored) ---- */

/* dig www.example.com A: the query (RD), 33 bytes. */
static const char q_www_hex[] = "1234 0100 0001 0000 0000 0000"
				"03 777777 07 6578616d706c65 03 636f6d 00 0001 0001";

/* Its response: RD RA, two A records, OPT 1232 with a client COOKIE; 88 bytes. */
static const char r_www_hex[] = "1234 8180 0001 0002 0000 0001"
				"03 777777 07 6578616d706c65 03 636f6d 00 0001 0001"
				"c00c 0001 0001 0000012c 0004 c0000201"
				"c00c 0001 0001 0000012c 0004 c0000202"
				"00 0029 04d0 00000000 000c 000a 0008 0102030405060708";

/* example.org AAAA, RD AD, OPT 4096 with DO and ECS 192.0.2.0/24; 51 bytes. */
static const char q_ecs_hex[] = "beef 0120 0001 0000 0000 0001"
				"07 6578616d706c65 03 6f7267 00 001c 0001"
				"00 0029 1000 00008000 000b 0008 0007 0001 18 00 c00002";

/*
 * NXDOMAIN for nx.example.com with AA: SOA (TTL 3600) in authority, and a
 * TXT (TTL 60) in additional whose string holds '"', '\' and a newline.
 * "example.com" starts at offset 15.
 */
static const char r_nx_hex[] = "5678 8403 0001 0000 0001 0001"
			       "02 6e78 07 6578616d706c65 03 636f6d 00 0001 0001"
			       "c00f 0006 0001 00000e10 0027"
			       "03 6e7331 c00f 0a 686f73746d6173746572 c00f"
			       "78c406bd 00001c20 00000e10 00127500 0000012c"
			       "c00f 0010 0001 0000003c 0007 06 6122625c630a";

/*
 * A query whose name has labels with '"', '\', control bytes, non-UTF-8
 * bytes and a '.': a"b . c\d . e^A\n . \xff\xc3\xa9 . x.y . com; type 65280.
 */
static const char q_weird_hex[] = "0007 0100 0001 0000 0000 0000"
				  "03 612262 03 635c64 03 65010a 03 ffc3a9 03 782e79 03 636f6d 00"
				  "ff00 0001";

/* A header-only NXDOMAIN response: no question at all. */
static const char r_noq_hex[] = "abcd 8183 0000 0000 0000 0000";

/* Parses hex into msg; the bytes live in *w, which must outlive msg. */
static void parse_hex(const char *hex, struct wire *w, struct dns_msg *msg)
{
	*w = from_hex(hex);
	assert_int_equal(dns_parse(w->buf, w->len, msg), DNS_OK);
	assert_int_equal(msg->status, 0); /* every fixture is a well-formed message */
	assert_int_equal(msg->len, w->len);
}

static void parse(const uint8_t *buf, size_t len, struct dns_msg *msg)
{
	assert_int_equal(dns_parse(buf, len, msg), DNS_OK);
}

/* ---- packet metadata ---- */

static void set_owner(struct pkt_meta *m, uint32_t tgid, uint32_t tid, uint32_t uid,
		      uint64_t cgroup_id, const char *comm, size_t comm_len)
{
	m->owner.tgid = tgid;
	m->owner.pid = tid;
	m->owner.uid = uid;
	m->owner.cgroup_id = cgroup_id;
	memset(m->owner.comm, 0, sizeof(m->owner.comm));
	memcpy(m->owner.comm, comm, comm_len);
}

/* ---- sinks: a temp file read back by Python ---- */

#define CGROUP_CTX ((void *)0x5eed)

static const char *test_cgroup_path(void *ctx, uint64_t id)
{
	if (ctx != CGROUP_CTX)
		return "/wrong-ctx";
	if (id == 42)
		return "/system.slice/nsd.service";
	if (id == 43)
		return "/odd/\xff\x01\"q\\";
	if (id == 44)
		return "/kubepods.slice/...";
	if (id == 45 || id == 46)
		return "/docker/...";
	return NULL;
}

/* The identity of id 42 from its path; 44: a pod's container with names, one of them odd. */
static const struct cgroup_ident *test_cgroup_ident(void *ctx, uint64_t id)
{
	static struct cgroup_ident ident;

	static struct cgroup_ident a, b;

	if (ctx == CGROUP_CTX && (id == 45 || id == 46)) {
		/* Two identities of the cache whose serials share a slot of the writer's memo. */
		cgroup_ident_parse(
			"/docker/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			id == 45 ? &a : &b);
		strcpy(id == 45 ? a.container_name : b.container_name, id == 45 ? "a" : "b");
		a.serial = 1;
		b.serial = 65;
		return id == 45 ? &a : &b;
	}
	if (ctx != CGROUP_CTX || (id != 42 && id != 44))
		return NULL;
	cgroup_ident_parse(
		id == 42 ? "/system.slice/nsd.service"
			 : "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-"
			   "pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/cri-containerd-"
			   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
			   ".scope",
		&ident);
	if (id == 44) {
		strcpy(ident.pod_name, "web-\"0\"");
		strcpy(ident.pod_namespace, "default");
	}
	return &ident;
}

static void sink_open(struct sink *s, enum output_format format, const char *host)
{
	sink_open_cfg(s, (struct output_config){
				 .format = format,
				 .host = host,
				 .cgroup_path = test_cgroup_path,
				 .cgroup_ident = test_cgroup_ident,
				 .cgroup_ctx = CGROUP_CTX,
			 });
}

/* ---- JSON records ---- */

static void test_dns_response_record(void **state)
{
	struct sink s;
	struct dns_msg msg;
	struct wire wire_msg;
	struct pkt_meta m =
		meta_v4(T0_NS + 124001999, DNSSNOOP_INGRESS, "10.0.0.2", 53, "10.0.0.1", 45321, 88);
	struct dns_record rec = {
		.kind = RECORD_DNS,
		.meta = &m,
		.msg = &msg,
		.has_latency = true,
		.latency_ns = 551234,
	};

	set_owner(&m, 4242, 4243, 1000, 42, "dig", 3);
	parse_hex(r_www_hex, &wire_msg, &msg);
	sink_open(&s, OUTPUT_JSON, "lab-1");
	output_dns(s.out, &rec);
	check_py(
		&s,
		"eq(len(recs), 1)\n"
		"r = recs[0]\n"
		"eq(list(r), ['type','v','ts','host','dir','proto','ifindex','saddr','sport',"
		"'daddr','dport','pid','tid','comm','uid','cgroup','unit','container','pod',"
		"'cookie','id','qr','opcode','rcode','flags','qname','qtype','qclass','qdcount',"
		"'ancount','nscount','arcount',"
		"'answers','authority','additional','edns','len','truncated_capture',"
		"'latency_ns','decode_status'])\n"
		"eq(r['type'], 'dns'); eq(r['v'], 1)\n"
		"eq(r['ts'], '2026-11-27T14:05:01.124001Z')\n"
		"eq(r['host'], 'lab-1'); eq(r['dir'], 'ingress'); eq(r['proto'], 'udp')\n"
		"eq(r['ifindex'], 2); eq(r['saddr'], '10.0.0.2'); eq(r['sport'], 53)\n"
		"eq(r['daddr'], '10.0.0.1'); eq(r['dport'], 45321)\n"
		"eq(r['pid'], 4242); eq(r['tid'], 4243); eq(r['comm'], 'dig'); eq(r['uid'], 1000)\n"
		"eq(r['cgroup'], '/system.slice/nsd.service'); eq(r['cookie'], 8193)\n"
		"eq(r['unit'], 'nsd.service'); eq(r['container'], None); eq(r['pod'], None)\n"
		"eq(r['id'], 0x1234); eq(r['qr'], 'response'); eq(r['opcode'], 'QUERY')\n"
		"eq(r['rcode'], 'NOERROR'); eq(r['flags'], ['rd', 'ra'])\n"
		"eq(r['qname'], 'www.example.com'); eq(r['qtype'], 'A'); eq(r['qclass'], 'IN')\n"
		"eq([r[k] for k in ('qdcount','ancount','nscount','arcount')], [1, 2, 0, 1])\n"
		"eq(r['answers'], [{'name': 'www.example.com', 'type': 'A', 'class': 'IN', 'ttl': 300,"
		" 'data': '192.0.2.1'}, {'name': 'www.example.com', 'type': 'A', 'class': 'IN', 'ttl': 300,"
		" 'data': '192.0.2.2'}])\n"
		"eq(r['authority'], []); eq(r['additional'], [])\n"
		"eq(r['edns'], {'udp_size': 1232, 'version': 0, 'do': False, 'ext_rcode': 0,"
		" 'options': 'COOKIE 0102030405060708', 'ecs': None})\n"
		"eq(r['len'], 88); eq(r['truncated_capture'], False)\n"
		"eq(r['latency_ns'], 551234); eq(r['decode_status'], [])\n");
	sink_close(&s);
}

static void test_dns_query_record_with_ecs(void **state)
{
	struct sink s;
	struct dns_msg msg;
	struct wire wire_msg;
	struct pkt_meta m = meta_v4(T0_NS, DNSSNOOP_EGRESS, "10.0.0.1", 40000, "10.0.0.2", 53, 51);
	struct dns_record rec = {.kind = RECORD_DNS, .meta = &m, .msg = &msg};

	set_owner(&m, 77, 78, 0, 999, "resolver", 8);
	parse_hex(q_ecs_hex, &wire_msg, &msg);
	sink_open(&s, OUTPUT_JSON, "h");
	output_dns(s.out, &rec);
	check_py(&s, "r = recs[0]\n"
		     "assert 'rcode' not in r and 'latency_ns' not in r and 'waited_ns' not in r\n"
		     "eq(r['ts'], '2026-11-27T14:05:01.000000Z')\n"
		     "eq(r['qr'], 'query'); eq(r['flags'], ['rd', 'ad'])\n"
		     "eq(r['qname'], 'example.org'); eq(r['qtype'], 'AAAA'); eq(r['id'], 0xbeef)\n"
		     "eq(r['cgroup'], None)  # the callback does not know id 999\n"
		     "eq([r[k] for k in ('unit','container','pod')], [None] * 3)\n"
		     "eq(r['comm'], 'resolver'); eq(r['uid'], 0); eq(r['len'], 51)\n"
		     "eq(r['edns'], {'udp_size': 4096, 'version': 0, 'do': True, 'ext_rcode': 0,"
		     " 'options': 'ECS 192.0.2.0/24/0', 'ecs': {'family': 1, 'source_prefix': 24,"
		     " 'scope_prefix': 0, 'address': '192.0.2.0'}})\n"
		     "eq(list(r)[-4:], ['edns', 'len', 'truncated_capture', 'decode_status'])\n");
	sink_close(&s);
}

/* A pod's container: both objects, the names escaped as any string from outside. */
static void test_identity_container_pod(void **state)
{
	struct sink s;
	struct dns_msg msg;
	struct wire wire_msg;
	struct pkt_meta m = meta_v4(T0_NS, DNSSNOOP_EGRESS, "10.0.0.1", 40000, "10.0.0.2", 53, 51);
	struct dns_record rec = {.kind = RECORD_UNANSWERED, .meta = &m, .msg = &msg};

	set_owner(&m, 77, 78, 0, 44, "curl", 4);
	parse_hex(q_ecs_hex, &wire_msg, &msg);
	sink_open(&s, OUTPUT_JSON, "h");
	output_dns(s.out, &rec);
	check_py(&s, "r = recs[0]\n"
		     "eq(r['type'], 'unanswered')\n"
		     "k = list(r); eq(k[k.index('cgroup'):k.index('cgroup') + 5],"
		     " ['cgroup', 'unit', 'container', 'pod', 'cookie'])\n"
		     "eq(r['unit'], 'cri-containerd-' + '0123456789abcdef' * 4 + '.scope')\n"
		     "eq(r['container'], {'runtime': 'containerd', 'id': '0123456789abcdef' * 4,"
		     " 'name': None})\n"
		     "eq(r['pod'], {'uid': '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',"
		     " 'name': 'web-\"0\"', 'namespace': 'default'})\n");
	sink_close(&s);
}

/* Identities rendered once per serial: each record still gets its own. */
static void test_identity_memo(void **state)
{
	static const uint64_t ids[] = {45, 46, 45, 45, 46};
	struct sink s;
	struct dns_msg msg;
	struct wire wire_msg;
	struct pkt_meta m = meta_v4(T0_NS, DNSSNOOP_EGRESS, "10.0.0.1", 40000, "10.0.0.2", 53, 51);
	struct dns_record rec = {.kind = RECORD_DNS, .meta = &m, .msg = &msg};

	parse_hex(q_ecs_hex, &wire_msg, &msg);
	sink_open(&s, OUTPUT_JSON, "h");
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		set_owner(&m, 77, 78, 0, ids[i], "curl", 4);
		output_dns(s.out, &rec);
	}
	check_py(&s, "eq([r['container']['name'] for r in recs], ['a', 'b', 'a', 'a', 'b'])\n"
		     "eq({r['container']['runtime'] for r in recs}, {'docker'})\n");
	sink_close(&s);
}

static void test_authority_additional_and_escaping(void **state)
{
	struct sink s;
	struct dns_msg msg;
	struct wire wire_msg;
	struct pkt_meta m = meta_v4(T0_NS, DNSSNOOP_INGRESS, "10.0.0.2", 53, "10.0.0.1", 1234, 102);
	struct dns_record rec = {.kind = RECORD_DNS, .meta = &m, .msg = &msg};

	parse_hex(r_nx_hex, &wire_msg, &msg);
	sink_open(&s, OUTPUT_JSON, "h");
	output_dns(s.out, &rec);
	check_py(&s,
		 "r = recs[0]\n"
		 "eq(r['rcode'], 'NXDOMAIN'); eq(r['flags'], ['aa']); eq(r['len'], 102)\n"
		 "eq(r['answers'], []); eq(r['edns'], None)\n"
		 "eq(r['authority'], [{'name': 'example.com', 'type': 'SOA', 'class': 'IN', 'ttl': 3600, 'data':"
		 " 'ns1.example.com hostmaster.example.com 2026112701 7200 3600 1209600 300'}])\n"
		 "eq(r['additional'], [{'name': 'example.com', 'type': 'TXT', 'class': 'IN', 'ttl': 60,"
		 " 'data': r'\"a\\\"b\\\\c\\010\"'}])\n"
		 "# no owner: all five owner fields null\n"
		 "eq([r[k] for k in ('pid','tid','comm','uid','cgroup','unit','container','pod')],"
		 " [None] * 8)\n");
	sink_close(&s);
}

static void test_weird_names_comm_cgroup(void **state)
{
	static const char comm[16] = "a\"b\\c\n\x01\xff\xc3\xa9\x80zzzzz";
	struct sink s;
	struct dns_msg msg;
	struct wire wire_msg;
	struct pkt_meta m = meta_v4(T0_NS, DNSSNOOP_EGRESS, "10.0.0.1", 5353, "10.0.0.2", 53, 41);
	struct dns_record rec = {.kind = RECORD_DNS, .meta = &m, .msg = &msg};

	/* All 16 comm bytes used: no NUL terminator from the kernel. */
	set_owner(&m, 1, 1, 0, 43, comm, sizeof(comm));
	parse_hex(q_weird_hex, &wire_msg, &msg);
	sink_open(&s, OUTPUT_JSON, "host\"with\\odd\tname");
	output_dns(s.out, &rec);
	check_py(&s, "r = recs[0]\n"
		     "eq(r['qname'], r'a\\\"b.c\\\\d.e\\001\\010.\\255\\195\\169.x\\.y.com')\n"
		     "eq(r['qtype'], 'TYPE65280'); eq(r['len'], 41)\n"
		     "eq(r['comm'], 'a\"b\\\\c\\n\\x01\\xff\\u00e9\\x80zzzzz')\n"
		     "eq(r['cgroup'], '/odd/\\xff\\x01\"q\\\\')\n"
		     "eq(r['host'], 'host\"with\\\\odd\\tname')\n"
		     "raw = data.decode()\n"
		     "assert '\\\\u00ff' in raw and '\\\\u0080' in raw, raw  # invalid bytes\n"
		     "assert '\\u00e9' in raw, raw  # valid UTF-8 kept as is\n");
	sink_close(&s);
}

static void test_no_question_and_status(void **state)
{
	struct sink s;
	struct dns_msg msg;
	struct wire wire_msg;
	struct pkt_meta m =
		meta_v4(T0_NS, DNSSNOOP_DIR_UNKNOWN, "10.0.0.2", 53, "10.0.0.1", 1234, 12);
	struct dns_record rec = {.kind = RECORD_DNS, .meta = &m, .msg = &msg};

	parse_hex(r_noq_hex, &wire_msg, &msg);
	assert_false(msg.has_question);
	sink_open(&s, OUTPUT_JSON, NULL);
	output_dns(s.out, &rec);
	/* Every status bit: the array lists them in a fixed order. */
	msg.status =
		DNS_F_BAD_OPT | DNS_F_TRAILING | DNS_F_BAD_RDATA | DNS_F_BAD_NAME | DNS_F_TRUNCATED;
	m.proto = IPPROTO_TCP;
	output_dns(s.out, &rec);
	check_py(&s, "r = recs[0]\n"
		     "eq(r['host'], None); eq(r['dir'], None)\n"
		     "eq([r['qname'], r['qtype'], r['qclass']], [None, None, None])\n"
		     "eq(r['rcode'], 'NXDOMAIN'); eq(r['qdcount'], 0); eq(r['decode_status'], [])\n"
		     "r = recs[1]\n"
		     "eq(r['proto'], 'tcp')\n"
		     "eq(r['decode_status'], ['truncated','bad_name','bad_rdata','trailing',"
		     "'bad_opt'])\n");
	sink_close(&s);
}

static void test_len_rules(void **state)
{
	struct sink s;
	struct dns_msg msg;
	struct wire wire_msg;
	struct pkt_meta m =
		meta_v4(T0_NS, DNSSNOOP_INGRESS, "10.0.0.2", 53, "10.0.0.1", 1234, 1400);
	struct dns_record rec = {.kind = RECORD_DNS, .meta = &m, .msg = &msg};

	parse_hex(r_www_hex, &wire_msg, &msg);
	sink_open(&s, OUTPUT_JSON, "h");
	rec.wire_len = 2900; /* what the pipeline says wins */
	rec.truncated_capture = true;
	output_dns(s.out, &rec);
	/* wire_len left 0: a guess from the packet */
	rec.wire_len = 0;
	rec.truncated_capture = false;
	output_dns(s.out, &rec); /* UDP: orig_len */
	rec.truncated_capture = true;
	output_dns(s.out, &rec); /* UDP, cut: still orig_len */
	m.proto = IPPROTO_TCP;
	m.orig_len = 3000;
	rec.truncated_capture = false;
	output_dns(s.out, &rec); /* TCP, whole: the message */
	rec.truncated_capture = true;
	output_dns(s.out, &rec); /* TCP, cut: the segment's length is all we know */
	check_py(&s,
		 "eq([r['len'] for r in recs], [2900, 1400, 1400, 88, 3000])\n"
		 "eq([r['truncated_capture'] for r in recs], [True, False, True, False, True])\n");
	sink_close(&s);
}

static void test_unanswered_record(void **state)
{
	struct sink s;
	struct dns_msg msg;
	struct wire wire_msg;
	struct pkt_meta m =
		meta_v4(T0_NS + 123456789, DNSSNOOP_EGRESS, "10.0.0.1", 45321, "10.0.0.2", 53, 33);
	struct dns_record rec = {
		.kind = RECORD_UNANSWERED,
		.meta = &m,
		.msg = &msg,
		.waited_ns = 5000000000ULL,
		/* ignored for unanswered records */
		.has_latency = true,
		.latency_ns = 1,
	};

	set_owner(&m, 4242, 4242, 1000, 42, "dig", 3);
	parse_hex(q_www_hex, &wire_msg, &msg);
	sink_open(&s, OUTPUT_JSON, "h");
	output_dns(s.out, &rec);
	check_py(&s, "r = recs[0]\n"
		     "eq(r['type'], 'unanswered'); eq(r['ts'], '2026-11-27T14:05:01.123456Z')\n"
		     "eq(r['waited_ns'], 5000000000); assert 'latency_ns' not in r\n"
		     "assert 'rcode' not in r\n"
		     "eq(r['qname'], 'www.example.com'); eq(r['qr'], 'query'); eq(r['len'], 33)\n"
		     "eq(list(r)[-3:], ['truncated_capture', 'waited_ns', 'decode_status'])\n");
	sink_close(&s);
}

static void test_ipv6_addresses(void **state)
{
	static const struct {
		const char *in; /* any form inet_pton accepts */
		const char *want; /* RFC 5952 */
	} cases[] = {
		{"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
		{"::1", "::1"},
		{"::", "::"},
		{"fe80:0:0:0:0:0:0:0", "fe80::"},
		{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
		{"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
		{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
		{"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
		{"2001:DB8::ABCD", "2001:db8::abcd"},
		{"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
		{"0:0:1:0:0:0:0:0", "0:0:1::"},
		{"1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0"},
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	char body[4096], *p = body;
	struct sink s;
	struct dns_msg msg;
	struct wire wire_msg;
	struct pkt_meta m = meta_v4(T0_NS, DNSSNOOP_EGRESS, "10.0.0.1", 1, "10.0.0.2", 53, 33);
	struct dns_record rec = {.kind = RECORD_DNS, .meta = &m, .msg = &msg};

	parse_hex(q_www_hex, &wire_msg, &msg);
	sink_open(&s, OUTPUT_JSON, "h");
	m.family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::53", m.daddr), 1);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(inet_pton(AF_INET6, cases[i].in, m.saddr), 1);
		output_dns(s.out, &rec);
	}
	p += sprintf(p, "eq([r['saddr'] for r in recs[:%zu]], [", n);
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "'%s',", cases[i].want);
	p += sprintf(p, "])\neq(recs[0]['daddr'], '2001:db8::53')\n");
	/* Random addresses with many zero groups, checked against Python. */
	uint64_t seed = 12345;

	for (int i = 0; i < 300; i++) {
		for (int g = 0; g < 8; g++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			uint16_t v = (seed >> 60) < 10 ? 0 : (uint16_t)(seed >> 20);

			if ((seed >> 59) == 0x1f)
				v = 0x1; /* small values: no leading zeros */
			m.saddr[2 * g] = (uint8_t)(v >> 8);
			m.saddr[2 * g + 1] = (uint8_t)v;
		}
		if (!memcmp(m.saddr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12))
			m.saddr[0] = 1; /* Python 3.11 prints mapped ones in hex */
		output_dns(s.out, &rec);
	}
	p += sprintf(p,
		     "eq(len(recs), %zu)\n"
		     "for r in recs[%zu:]:\n"
		     "    eq(r['saddr'], str(ipaddress.IPv6Address(r['saddr'])))\n",
		     n + 300, n);
	check_py(&s, body);
	sink_close(&s);
}

static void test_capture_stats_record(void **state)
{
	struct sink s;
	struct capture_stats st = {
		.start_ns = T0_NS - 10000000000ULL + 500,
		.end_ns = T0_NS + 999999999,
		.has_kernel = true,
		.packets_matched = 1,
		.events_submitted = 2,
		.events_lost = 3,
		.events_delivered = 4,
		.messages = 5,
		.decode_errors = 6,
		.truncated_captures = 7,
		.responses_matched = 8,
		.responses_unmatched = 9,
		.unanswered = 10,
		.retransmits = 11,
		.tcp_gaps = 12,
		.filtered = UINT64_MAX,
		.degraded = (const char *const[]){"sock_scan", "tcx"},
		.ndegraded = 2,
	};

	struct capture_stats before = st, delta;

	sink_open(&s, OUTPUT_JSON, "h");
	output_capture_stats(s.out, &st);
	st.has_kernel = false;
	output_capture_stats(s.out, &st);
	/* An interval's share: every counter minus its value at the last close. */
	before.events_lost = 1;
	before.filtered = UINT64_MAX - 5;
	capture_stats_delta(&delta, &st, &before);
	delta.interval = true;
	output_capture_stats(s.out, &delta);
	check_py(&s,
		 "names = ['packets_matched','events_submitted','events_lost',"
		 "'events_delivered','messages','decode_errors','truncated_captures',"
		 "'responses_matched','responses_unmatched','unanswered','retransmits','tcp_gaps',"
		 "'filtered']\n"
		 "r = recs[0]\n"
		 "eq(list(r), ['type','v','ts','host','window_start','window_end','scope'] + "
		 "names + ['degraded'])\n"
		 "eq(r['degraded'], ['sock_scan', 'tcx'])\n"
		 "eq(recs[1]['degraded'], None)\n"
		 "eq(recs[2]['degraded'], None)\n"
		 "eq(r['scope'], 'total')\n"
		 "eq(r['type'], 'capture_stats'); eq(r['v'], 1); eq(r['host'], 'h')\n"
		 "eq(r['ts'], '2026-11-27T14:05:01.999999Z')\n"
		 "eq(r['window_start'], '2026-11-27T14:04:51.000000Z')\n"
		 "eq(r['window_end'], r['ts'])\n"
		 "eq([r[k] for k in names], list(range(1, 13)) + [2**64 - 1])\n"
		 "r = recs[1]\n"
		 "eq([r[k] for k in names[:3]], [None, None, None])\n"
		 "eq(r['events_delivered'], 4)\n"
		 "r = recs[2]\n"
		 "eq(r['scope'], 'interval')\n"
		 "eq([r[k] for k in names[3:]], [0] * 9 + [5])\n"
		 "eq(r['events_lost'], None)\n");
	sink_close(&s);
}

/*
 * Timestamps over the whole uint64 range against Python's calendar; the
 * raw ns value travels in the "messages" counter.
 */
static void test_timestamps_against_python(void **state)
{
	static const uint64_t fixed[] = {
		0, UINT64_MAX, 951782400ULL * 1000000000ULL, /* 2000-02-29 */
		4107542399ULL * 1000000000ULL + 999999999, /* 2100-02-28T23:59:59.999999 */
	};
	struct sink s;
	struct capture_stats st = {0};
	uint64_t seed = 99;

	sink_open(&s, OUTPUT_JSON, "h");
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		st.start_ns = st.messages = fixed[i];
		output_capture_stats(s.out, &st);
	}
	for (int i = 0; i < 2000; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		st.start_ns = st.messages = seed >> (seed & 7); /* small and large values */
		output_capture_stats(s.out, &st);
	}
	check_py(&s, "eq(recs[0]['window_start'], '1970-01-01T00:00:00.000000Z')\n"
		     "eq(recs[1]['window_start'], '2554-07-21T23:34:33.709551Z')\n"
		     "eq(recs[2]['window_start'], '2000-02-29T00:00:00.000000Z')\n"
		     "eq(recs[3]['window_start'], '2100-02-28T23:59:59.999999Z')\n"
		     "epoch = datetime.datetime(1970, 1, 1)\n"
		     "for r in recs:\n"
		     "    d = epoch + datetime.timedelta(microseconds=r['messages'] // 1000)\n"
		     "    eq(r['window_start'], d.strftime('%Y-%m-%dT%H:%M:%S.%fZ'))\n"
		     "eq(len(recs), 2004)\n");
	sink_close(&s);
}

/*
 * Mutated and cut copies of real messages, with random process names:
 * whatever the decoder makes of them, every record is one valid JSON line.
 */
static void test_garbage_in_valid_json_out(void **state)
{
	static const char *const seeds[] = {r_www_hex, r_nx_hex, q_ecs_hex, q_weird_hex};
	struct sink s, t;
	struct dns_msg msg;
	struct pkt_meta m = meta_v4(T0_NS, DNSSNOOP_INGRESS, "10.0.0.2", 53, "10.0.0.1", 1, 100);
	struct dns_record rec = {.kind = RECORD_DNS, .meta = &m, .msg = &msg};
	uint64_t seed = 7;
	int records = 0;
	char body[256];

	sink_open(&s, OUTPUT_JSON, "h");
	sink_open(&t, OUTPUT_TEXT, "h");
	for (int i = 0; i < 4000; i++) {
		struct wire w = from_hex(seeds[i % 4]);
		size_t len = w.len;

		for (int k = 0; k < 4; k++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			w.buf[(seed >> 33) % w.len] ^= (uint8_t)(1u << ((seed >> 20) % 8));
		}
		if ((seed >> 60) < 4)
			len = (seed >> 40) % w.len;
		for (size_t k = 0; k < sizeof(m.owner.comm); k++)
			m.owner.comm[k] = (char)(seed >> (k % 8 * 8));
		m.owner.tgid = (uint32_t)i;
		if (dns_parse(w.buf, len, &msg) == DNS_ERR_SHORT)
			continue;
		output_dns(s.out, &rec);
		output_dns(t.out, &rec);
		records++;
	}
	assert_true(records > 3000);
	snprintf(body, sizeof(body), "eq(len(recs), %d)\n", records);
	check_py(&s, body);
	/* Text: one line per record, whatever the bytes. */
	assert_int_equal(output_flush(t.out), 0);
	size_t len, lines = 0;
	const char *text = sink_read(&t, &len);

	for (size_t k = 0; k < len; k++)
		lines += text[k] == '\n';
	assert_int_equal(lines, records);
	assert_int_equal(strlen(text), len); /* no NUL bytes either */
	sink_close(&s);
	sink_close(&t);
}

/* ---- text format ---- */

static void test_text_lines(void **state)
{
	struct sink s;
	struct dns_msg q, r;
	struct wire wire_q, wire_r;
	struct pkt_meta mq =
		meta_v4(T0_NS + 123456000, DNSSNOOP_EGRESS, "10.0.0.1", 45321, "10.0.0.2", 53, 33);
	struct pkt_meta mr =
		meta_v4(T0_NS + 124001000, DNSSNOOP_INGRESS, "10.0.0.2", 53, "10.0.0.1", 45321, 88);
	struct dns_record rq = {.kind = RECORD_DNS, .meta = &mq, .msg = &q};
	struct dns_record rr = {
		.kind = RECORD_DNS,
		.meta = &mr,
		.msg = &r,
		.has_latency = true,
		.latency_ns = 551000,
	};
	struct dns_record ru = {
		.kind = RECORD_UNANSWERED,
		.meta = &mq,
		.msg = &q,
		.waited_ns = 5000000000ULL,
	};
	struct capture_stats st = {
		.start_ns = T0_NS,
		.end_ns = T0_NS + 10000000000ULL,
		.messages = 2,
	};
	size_t len;
	const char *data;

	set_owner(&mq, 4242, 4242, 0, 0, "dig", 3);
	set_owner(&mr, 4242, 4242, 0, 0, "dig", 3);
	parse_hex(q_www_hex, &wire_q, &q);
	parse_hex(r_www_hex, &wire_r, &r);
	sink_open(&s, OUTPUT_TEXT, "lab");
	output_dns(s.out, &rq);
	output_dns(s.out, &rr);
	output_dns(s.out, &ru);
	mq.owner.tgid = 0; /* unknown owner */
	mq.dir = DNSSNOOP_DIR_UNKNOWN;
	memcpy(mq.owner.comm, "x\ny", 4);
	output_dns(s.out, &rq);
	set_owner(&mq, 7, 7, 0, 0, "x\ny\\", 4);
	mq.dir = DNSSNOOP_EGRESS;
	mq.family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", mq.saddr), 1);
	assert_int_equal(inet_pton(AF_INET6, "::1", mq.daddr), 1);
	output_dns(s.out, &rq);
	output_capture_stats(s.out, &st);
	assert_int_equal(output_flush(s.out), 0);
	data = sink_read(&s, &len);
	assert_string_equal(
		data,
		"14:05:01.123456 dig(4242) egress  udp 10.0.0.1:45321 -> 10.0.0.2:53  Q  A "
		"www.example.com\n"
		"14:05:01.124001 dig(4242) ingress udp 10.0.0.2:53 -> 10.0.0.1:45321  R  A "
		"www.example.com NOERROR 192.0.2.1,192.0.2.2 0.551ms\n"
		"14:05:01.123456 dig(4242) egress  udp 10.0.0.1:45321 -> 10.0.0.2:53  Q  A "
		"www.example.com UNANSWERED after 5.000s\n"
		"14:05:01.123456 - unknown udp 10.0.0.1:45321 -> 10.0.0.2:53  Q  A "
		"www.example.com\n"
		"14:05:01.123456 x\\010y\\092(7) egress  udp [2001:db8::1]:45321 -> [::1]:53  Q  A "
		"www.example.com\n"
		"# capture stats lab 2026-11-27T14:05:01.000000Z .. 2026-11-27T14:05:11.000000Z\n"
		"#   packets_matched=- events_submitted=- events_lost=-\n"
		"#   events_delivered=0 messages=2 decode_errors=0 truncated_captures=0\n"
		"#   responses_matched=0 responses_unmatched=0 unanswered=0 retransmits=0\n"
		"#   tcp_gaps=0 filtered=0\n");
	sink_close(&s);
}

static void test_text_status_and_cut_answers(void **state)
{
	/* 20 A records for a.b: the answer list is cut near 160 bytes. */
	uint8_t buf[12 + 9 + 20 * 16];
	struct sink s;
	struct dns_msg msg;
	struct pkt_meta m;
	struct dns_record rec = {.kind = RECORD_DNS, .msg = &msg, .truncated_capture = true};
	size_t len, pos = 0;
	const char *data, *end;

	memcpy(buf, "\x00\x01\x81\x80\x00\x01\x00\x14\x00\x00\x00\x00", 12);
	memcpy(buf + 12,
	       "\x01"
	       "a\x01"
	       "b\x00\x00\x01\x00\x01",
	       9);
	pos = 21;
	for (int i = 0; i < 20; i++) {
		memcpy(buf + pos, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc6\x33\x64",
		       15);
		buf[pos + 15] = (uint8_t)(100 + i);
		pos += 16;
	}
	assert_int_equal(pos, sizeof(buf));
	parse(buf, sizeof(buf), &msg);
	assert_int_equal(msg.nrrs, 20);
	msg.status = DNS_F_TRAILING;
	m = meta_v4(0, DNSSNOOP_INGRESS, "10.0.0.2", 53, "10.0.0.1", 1, sizeof(buf));
	rec.meta = &m;
	sink_open(&s, OUTPUT_TEXT, "lab");
	output_dns(s.out, &rec);
	assert_int_equal(output_flush(s.out), 0);
	data = sink_read(&s, &len);
	end = strchr(data, '\n');
	assert_non_null(end);
	assert_int_equal(end + 1 - data, (ptrdiff_t)len); /* one line */
	assert_non_null(strstr(data,
			       "00:00:00.000000 - ingress udp 10.0.0.2:53 -> 10.0.0.1:1  R  A "
			       "a.b NOERROR 198.51.100.100,198.51.100.101,"));
	/* 15 bytes per answer (",198.51.100.1xx"): past 160 after the 11th. */
	assert_non_null(strstr(data, ",198.51.100.110,... [capture_truncated,trailing]\n"));
	assert_null(strstr(data, "198.51.100.111"));
	sink_close(&s);
}

/* ---- whole lines, partial writes, errors ---- */

static void fill_records(struct output *o, int n, const struct dns_record *rec)
{
	for (int i = 0; i < n; i++)
		output_dns(o, rec);
}

static void test_whole_lines_on_pipe(void **state)
{
	struct output_config cfg = {.format = OUTPUT_JSON, .host = "h"};
	struct dns_msg msg;
	struct wire wire_msg;
	struct pkt_meta m = meta_v4(T0_NS, DNSSNOOP_EGRESS, "10.0.0.1", 1, "10.0.0.2", 53, 88);
	struct dns_record rec = {.kind = RECORD_DNS, .meta = &m, .msg = &msg};
	static char buf[1 << 20];
	struct output *o;
	int p[2], lines = 0;
	ssize_t n;

	parse_hex(r_www_hex, &wire_msg, &msg);
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	assert_true(fcntl(p[1], F_SETPIPE_SZ, 1 << 20) >= (1 << 20));
	cfg.fd = p[1];
	o = output_new(&cfg);
	assert_non_null(o);

	/* Below the threshold nothing reaches the pipe... */
	fill_records(o, 10, &rec);
	assert_int_equal(read(p[0], buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);
	/* ...until flushed, and then it is whole lines. */
	assert_int_equal(output_flush(o), 0);
	n = read(p[0], buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(buf[n - 1], '\n');
	for (ssize_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	assert_int_equal(lines, 10);

	/* Past 64 KiB the output writes by itself, again ending on a newline. */
	for (int i = 0; i < 1000; i++) {
		output_dns(o, &rec);
		n = read(p[0], buf, sizeof(buf));
		if (n > 0)
			break;
	}
	assert_true(n >= 64 * 1024);
	assert_int_equal(buf[n - 1], '\n');
	output_free(o);
	close(p[0]);
	close(p[1]);
}

/* With SOCK_SEQPACKET every write(2) arrives as its own message. */
static void test_every_write_is_whole_lines(void **state)
{
	struct output_config cfg = {.format = OUTPUT_TEXT, .host = "h"};
	struct dns_msg msg;
	struct wire wire_msg;
	struct pkt_meta m = meta_v4(T0_NS, DNSSNOOP_EGRESS, "10.0.0.1", 1, "10.0.0.2", 53, 88);
	struct dns_record rec = {.kind = RECORD_DNS, .meta = &m, .msg = &msg};
	static char buf[1 << 20];
	int sv[2], writes = 0, lines = 0, sndbuf = 1 << 20;
	struct output *o;

	parse_hex(r_www_hex, &wire_msg, &msg);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	/* Room for one 64 KiB write; FORCE needs root, plain SNDBUF is enough otherwise. */
	if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)))
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	cfg.fd = sv[0];
	o = output_new(&cfg);
	assert_non_null(o);
	for (int i = 0; i < 3000; i++) {
		ssize_t n;

		output_dns(o, &rec);
		if (i == 1500)
			assert_int_equal(output_flush(o), 0);
		while ((n = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			assert_int_equal(buf[n - 1], '\n');
			writes++;
			for (ssize_t k = 0; k < n; k++)
				lines += buf[k] == '\n';
		}
	}
	assert_int_equal(output_flush(o), 0);
	for (;;) {
		ssize_t n = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);

		if (n <= 0)
			break;
		assert_int_equal(buf[n - 1], '\n');
		writes++;
		for (ssize_t k = 0; k < n; k++)
			lines += buf[k] == '\n';
	}
	assert_int_equal(lines, 3000);
	assert_true(writes >= 3); /* several automatic flushes happened */
	output_free(o);
	close(sv[0]);
	close(sv[1]);
}

struct slow_reader {
	int fd;
	char *buf;
	size_t len, cap;
};

static void *slow_reader_main(void *arg)
{
	struct slow_reader *r = arg;

	for (;;) {
		ssize_t n;

		usleep(200);
		n = read(r->fd, r->buf + r->len, 1000 < r->cap - r->len ? 1000 : r->cap - r->len);
		if (n == 0)
			break;
		if (n > 0)
			r->len += (size_t)n;
	}
	return NULL;
}

/*
 * A non-blocking pipe of one page and a slow reader: writes come back
 * partial or EAGAIN, and every byte must still arrive once, in order.
 */
static void test_partial_writes(void **state)
{
	struct sink ref;
	struct dns_msg msg;
	struct wire wire_msg;
	struct pkt_meta m = meta_v4(T0_NS, DNSSNOOP_EGRESS, "10.0.0.1", 1, "10.0.0.2", 53, 88);
	struct dns_record rec = {.kind = RECORD_DNS, .meta = &m, .msg = &msg};
	struct output_config cfg = {.format = OUTPUT_JSON, .host = "h"};
	struct slow_reader r = {.cap = 1 << 20};
	struct output *o;
	pthread_t th;
	const char *want;
	size_t want_len;
	int p[2];

	parse_hex(r_www_hex, &wire_msg, &msg);
	r.buf = malloc(r.cap);
	assert_non_null(r.buf);
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	fcntl(p[0], F_SETFL, 0); /* the reader blocks */
	r.fd = p[0];
	cfg.fd = p[1];
	o = output_new(&cfg);
	assert_non_null(o);
	assert_int_equal(pthread_create(&th, NULL, slow_reader_main, &r), 0);
	for (int i = 0; i < 200; i++) {
		m.cookie = (uint64_t)i;
		output_dns(o, &rec);
	}
	assert_int_equal(output_flush(o), 0);
	output_free(o);
	close(p[1]);
	pthread_join(th, NULL);
	close(p[0]);

	/* The same records written to a file are the reference. */
	sink_open(&ref, OUTPUT_JSON, "h");
	for (int i = 0; i < 200; i++) {
		m.cookie = (uint64_t)i;
		output_dns(ref.out, &rec);
	}
	assert_int_equal(output_flush(ref.out), 0);
	want = sink_read(&ref, &want_len);
	assert_true(want_len > 100 * 1024);
	assert_int_equal(r.len, want_len);
	assert_memory_equal(r.buf, want, want_len);
	sink_close(&ref);
	free(r.buf);
}

static void test_epipe(void **state)
{
	struct output_config cfg = {.format = OUTPUT_JSON, .host = "h"};
	struct dns_msg msg;
	struct wire wire_msg;
	struct pkt_meta m = meta_v4(T0_NS, DNSSNOOP_EGRESS, "10.0.0.1", 1, "10.0.0.2", 53, 88);
	struct dns_record rec = {.kind = RECORD_DNS, .meta = &m, .msg = &msg};
	struct output *o;
	int p[2];

	signal(SIGPIPE, SIG_IGN);
	parse_hex(r_www_hex, &wire_msg, &msg);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	cfg.fd = p[1];
	o = output_new(&cfg);
	assert_non_null(o);
	assert_int_equal(output_flush(o), 0); /* nothing to write yet */
	output_dns(o, &rec);
	assert_int_equal(output_flush(o), -EPIPE);
	output_dns(o, &rec); /* dropped: the reader is gone */
	assert_int_equal(output_flush(o), -EPIPE);
	output_free(o);
	close(p[1]);
}

/*
 * A regular file that fills up (RLIMIT_FSIZE) in the middle of a line: the
 * error is reported, the file is cut back to its last whole line, and
 * nothing more is written.
 */
static void test_short_write_cut_back(void **state)
{
	struct output_config cfg = {.format = OUTPUT_JSON, .host = "h"};
	struct dns_msg msg;
	struct wire wire_msg;
	struct pkt_meta m = meta_v4(T0_NS, DNSSNOOP_EGRESS, "10.0.0.1", 1, "10.0.0.2", 53, 88);
	struct dns_record rec = {.kind = RECORD_DNS, .meta = &m, .msg = &msg};
	char path[] = "/tmp/dnssnoop_test_output_XXXXXX";
	struct output *o;
	struct rlimit old;
	struct stat st;
	off_t line;
	int rc, fd = mkstemp(path);

	assert_true(fd >= 0);
	parse_hex(r_www_hex, &wire_msg, &msg);
	cfg.fd = fd;
	o = output_new(&cfg);
	assert_non_null(o);
	output_dns(o, &rec);
	assert_int_equal(output_flush(o), 0);
	assert_int_equal(fstat(fd, &st), 0);
	line = st.st_size; /* every record below is this long */
	old = limit_file_size(10000);
	for (int i = 0; i < 200; i++)
		output_dns(o, &rec);
	rc = output_flush(o);
	setrlimit(RLIMIT_FSIZE, &old); /* before any assertion can end the test */
	assert_int_equal(rc, -EFBIG);
	assert_int_equal(output_error(o), -EFBIG);
	output_dns(o, &rec);
	assert_int_equal(output_flush(o), -EFBIG);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 10000 / line * line);
	output_free(o);
	close(fd);
	unlink(path);
}

static void test_bad_arguments(void **state)
{
	struct sink s;
	struct dns_msg msg;
	struct dns_record rec = {.kind = RECORD_DNS, .meta = NULL, .msg = &msg};
	size_t len;

	sink_open(&s, OUTPUT_JSON, "h");
	output_dns(s.out, &rec);
	output_dns(s.out, NULL);
	output_capture_stats(s.out, NULL);
	output_dns(NULL, &rec);
	assert_int_equal(output_flush(s.out), 0);
	sink_read(&s, &len);
	assert_int_equal(len, 0);
	output_free(NULL);
	sink_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_response_record),
		cmocka_unit_test(test_dns_query_record_with_ecs),
		cmocka_unit_test(test_identity_container_pod),
		cmocka_unit_test(test_identity_memo),
		cmocka_unit_test(test_authority_additional_and_escaping),
		cmocka_unit_test(test_weird_names_comm_cgroup),
		cmocka_unit_test(test_no_question_and_status),
		cmocka_unit_test(test_len_rules),
		cmocka_unit_test(test_unanswered_record),
		cmocka_unit_test(test_ipv6_addresses),
		cmocka_unit_test(test_capture_stats_record),
		cmocka_unit_test(test_timestamps_against_python),
		cmocka_unit_test(test_garbage_in_valid_json_out),
		cmocka_unit_test(test_text_lines),
		cmocka_unit_test(test_text_status_and_cut_answers),
		cmocka_unit_test(test_whole_lines_on_pipe),
		cmocka_unit_test(test_every_write_is_whole_lines),
		cmocka_unit_test(test_partial_writes),
		cmocka_unit_test(test_epipe),
		cmocka_unit_test(test_short_write_cut_back),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
