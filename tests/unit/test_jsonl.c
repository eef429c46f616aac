// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The JSON Lines source (capture_jsonl) and the merge of offline inputs
 * (merge): real records (written by build/dnssnoop -r
 * tests/fixtures/pcap/lab-lo-ethernet.pcap --port 15353, and the generated
 * examples of docs/output.md) turned into observations field by field;
 * raw bytes in comm and host; bad lines of every kind with their reason;
 * RFC 3339 times to the nanosecond; the reverse mnemonics of dns.c; the
 * source reading a file with damage in the middle and at the end; content
 * detection and the merge by time of JSON Lines and pcap inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>

#include "capture/capture_jsonl.h"
#include "proto/dns.h"
#include "capture/merge.h"
#include "report/pcap_writer.h"
#include "lib/fmt.h"
#include "testutil.h"

#define SEC 1000000000ULL
/* 2026-11-27 is day 20784 since 1970-01-01: 20784 * 86400 = 1795737600. */
#define DAY_2026_11_27 1795737600ULL

/* build/dnssnoop -r tests/fixtures/pcap/lab-lo-ethernet.pcap --port 15353, lines 1, 2, 10, 20. */
static const char LAB_QUERY[] =
	"{\"type\":\"dns\",\"v\":1,\"ts\":\"2026-11-27T14:39:15.246112Z\",\"host\":\"vm\",\"d"
	"ir\":null,\"proto\":\"udp\",\"ifindex\":0,\"saddr\":\"127.0.0.1\",\"sport\":50051,\""
	"daddr\":\"127.0.0.1\",\"dport\":15353,\"pid\":null,\"tid\":null,\"comm\":null,\"uid"
	"\":null,\"cgroup\":null,\"cookie\":0,\"id\":48975,\"qr\":\"query\",\"opcode\":\"QUER"
	"Y\",\"flags\":[\"rd\",\"ad\"],\"qname\":\"www.lab.test\",\"qtype\":\"A\",\"qclass\":"
	"\"IN\",\"qdcount\":1,\"ancount\":0,\"nscount\":0,\"arcount\":1,\"answers\":[],\"auth"
	"ority\":[],\"additional\":[],\"edns\":{\"udp_size\":1232,\"version\":0,\"do\":false,"
	"\"ext_rcode\":0,\"options\":\"COOKIE e110298812792221\",\"ecs\":null},\"len\":53,\"t"
	"runcated_capture\":false,\"decode_status\":[]}";

static const char LAB_RESPONSE[] =
	"{\"type\":\"dns\",\"v\":1,\"ts\":\"2026-11-27T14:39:15.246217Z\",\"host\":\"vm\",\"d"
	"ir\":null,\"proto\":\"udp\",\"ifindex\":0,\"saddr\":\"127.0.0.1\",\"sport\":15353,\""
	"daddr\":\"127.0.0.1\",\"dport\":50051,\"pid\":null,\"tid\":null,\"comm\":null,\"uid"
	"\":null,\"cgroup\":null,\"cookie\":0,\"id\":48975,\"qr\":\"response\",\"opcode\":\"Q"
	"UERY\",\"rcode\":\"NOERROR\",\"flags\":[\"aa\",\"rd\"],\"qname\":\"www.lab.test\",\""
	"qtype\":\"A\",\"qclass\":\"IN\",\"qdcount\":1,\"ancount\":2,\"nscount\":1,\"arcount"
	"\":2,\"answers\":[{\"name\":\"www.lab.test\",\"type\":\"A\",\"ttl\":300,\"data\":\"1"
	"92.0.2.1\"},{\"name\":\"www.lab.test\",\"type\":\"A\",\"ttl\":300,\"data\":\"192.0.2"
	".2\"}],\"authority\":[{\"name\":\"lab.test\",\"type\":\"NS\",\"ttl\":3600,\"data\":"
	"\"ns.lab.test\"}],\"additional\":[{\"name\":\"ns.lab.test\",\"type\":\"A\",\"ttl\":3"
	"600,\"data\":\"192.0.2.53\"}],\"edns\":{\"udp_size\":1232,\"version\":0,\"do\":false"
	",\"ext_rcode\":0,\"options\":\"\",\"ecs\":null},\"len\":106,\"truncated_capture\":fa"
	"lse,\"latency_ns\":105000,\"decode_status\":[]}";

static const char LAB_NXDOMAIN[] =
	"{\"type\":\"dns\",\"v\":1,\"ts\":\"2026-11-27T14:39:15.319899Z\",\"host\":\"vm\",\"d"
	"ir\":null,\"proto\":\"udp\",\"ifindex\":0,\"saddr\":\"127.0.0.1\",\"sport\":15353,\""
	"daddr\":\"127.0.0.1\",\"dport\":40913,\"pid\":null,\"tid\":null,\"comm\":null,\"uid"
	"\":null,\"cgroup\":null,\"cookie\":0,\"id\":36141,\"qr\":\"response\",\"opcode\":\"Q"
	"UERY\",\"rcode\":\"NXDOMAIN\",\"flags\":[\"aa\",\"rd\"],\"qname\":\"nope.lab.test\","
	"\"qtype\":\"A\",\"qclass\":\"IN\",\"qdcount\":1,\"ancount\":0,\"nscount\":1,\"arcoun"
	"t\":1,\"answers\":[],\"authority\":[{\"name\":\"lab.test\",\"type\":\"SOA\",\"ttl\":"
	"60,\"data\":\"ns.lab.test hostmaster.lab.test 2024010101 3600 900 604800 60\"}],\"ad"
	"ditional\":[],\"edns\":{\"udp_size\":1232,\"version\":0,\"do\":false,\"ext_rcode\":0"
	",\"options\":\"\",\"ecs\":null},\"len\":92,\"truncated_capture\":false,\"latency_ns"
	"\":71000,\"decode_status\":[]}";

static const char LAB_V6_RESPONSE[] =
	"{\"type\":\"dns\",\"v\":1,\"ts\":\"2026-11-27T14:39:15.395352Z\",\"host\":\"vm\",\"d"
	"ir\":null,\"proto\":\"udp\",\"ifindex\":0,\"saddr\":\"::1\",\"sport\":15353,\"daddr"
	"\":\"::1\",\"dport\":52952,\"pid\":null,\"tid\":null,\"comm\":null,\"uid\":null,\"cg"
	"roup\":null,\"cookie\":0,\"id\":52346,\"qr\":\"response\",\"opcode\":\"QUERY\",\"rco"
	"de\":\"NOERROR\",\"flags\":[\"aa\",\"rd\"],\"qname\":\"www.lab.test\",\"qtype\":\"AA"
	"AA\",\"qclass\":\"IN\",\"qdcount\":1,\"ancount\":1,\"nscount\":1,\"arcount\":2,\"ans"
	"wers\":[{\"name\":\"www.lab.test\",\"type\":\"AAAA\",\"ttl\":600,\"data\":\"2001:db8"
	"::1\"}],\"authority\":[{\"name\":\"lab.test\",\"type\":\"NS\",\"ttl\":3600,\"data\":"
	"\"ns.lab.test\"}],\"additional\":[{\"name\":\"ns.lab.test\",\"type\":\"A\",\"ttl\":3"
	"600,\"data\":\"192.0.2.53\"}],\"edns\":{\"udp_size\":1232,\"version\":0,\"do\":false"
	",\"ext_rcode\":0,\"options\":\"\",\"ecs\":null},\"len\":102,\"truncated_capture\":fa"
	"lse,\"latency_ns\":69000,\"decode_status\":[]}";

/* docs/output.md, "Examples": a query with its owner, an unanswered query, and the escapes. */
static const char DOC_QUERY[] =
	"{\"type\":\"dns\",\"v\":1,\"ts\":\"2026-11-27T14:05:01.123456Z\",\"host\":\"lab\",\""
	"dir\":\"egress\",\"proto\":\"udp\",\"ifindex\":2,\"saddr\":\"10.0.0.1\",\"sport\":45"
	"321,\"daddr\":\"10.0.0.2\",\"dport\":53,\"pid\":4242,\"tid\":4242,\"comm\":\"dig\","
	"\"uid\":0,\"cgroup\":\"/user.slice/user-0.slice/session-1.scope\",\"cookie\":8193,\""
	"id\":4660,\"qr\":\"query\",\"opcode\":\"QUERY\",\"flags\":[\"rd\",\"ad\"],\"qname\":"
	"\"www.example.com\",\"qtype\":\"A\",\"qclass\":\"IN\",\"qdcount\":1,\"ancount\":0,\""
	"nscount\":0,\"arcount\":1,\"answers\":[],\"authority\":[],\"additional\":[],\"edns\""
	":{\"udp_size\":1232,\"version\":0,\"do\":false,\"ext_rcode\":0,\"options\":\"COOKIE "
	"0102030405060708 ECS 192.0.2.0/24/0\",\"ecs\":{\"family\":1,\"source_prefix\":24,\"s"
	"cope_prefix\":0,\"address\":\"192.0.2.0\"}},\"len\":67,\"truncated_capture\":false,"
	"\"decode_status\":[]}";

static const char DOC_UNANSWERED[] =
	"{\"type\":\"unanswered\",\"v\":1,\"ts\":\"2026-11-27T14:05:02.000101Z\",\"host\":\"l"
	"ab\",\"dir\":\"egress\",\"proto\":\"udp\",\"ifindex\":2,\"saddr\":\"2001:db8::1\",\""
	"sport\":51000,\"daddr\":\"2001:db8::53\",\"dport\":53,\"pid\":null,\"tid\":null,\"co"
	"mm\":null,\"uid\":null,\"cgroup\":null,\"cookie\":8193,\"id\":4660,\"qr\":\"query\","
	"\"opcode\":\"QUERY\",\"flags\":[\"rd\",\"ad\"],\"qname\":\"www.example.com\",\"qtype"
	"\":\"A\",\"qclass\":\"IN\",\"qdcount\":1,\"ancount\":0,\"nscount\":0,\"arcount\":1,"
	"\"answers\":[],\"authority\":[],\"additional\":[],\"edns\":{\"udp_size\":1232,\"vers"
	"ion\":0,\"do\":false,\"ext_rcode\":0,\"options\":\"COOKIE 0102030405060708 ECS 192.0"
	".2.0/24/0\",\"ecs\":{\"family\":1,\"source_prefix\":24,\"scope_prefix\":0,\"address"
	"\":\"192.0.2.0\"}},\"len\":67,\"truncated_capture\":false,\"waited_ns\":5000812000,"
	"\"decode_status\":[]}";

static const char DOC_ESCAPES[] =
	"{\"type\":\"dns\",\"v\":1,\"ts\":\"2026-11-27T14:05:01.123456Z\",\"host\":\"lab\",\""
	"dir\":\"egress\",\"proto\":\"udp\",\"ifindex\":2,\"saddr\":\"10.0.0.1\",\"sport\":45"
	"321,\"daddr\":\"10.0.0.2\",\"dport\":53,\"pid\":4242,\"tid\":4242,\"comm\":\"caf\303"
	"\251\\t\\u00ff\\\\\\\"\",\"uid\":0,\"cgroup\":\"/user.slice/user-0.slice/session-1.s"
	"cope\",\"cookie\":8193,\"id\":7,\"qr\":\"query\",\"opcode\":\"QUERY\",\"flags\":[\"r"
	"d\"],\"qname\":\"a\\\\\\\"b.c\\\\\\\\d.e\\\\001\\\\010.x\\\\.y.com\",\"qtype\":\"A\""
	",\"qclass\":\"IN\",\"qdcount\":1,\"ancount\":0,\"nscount\":0,\"arcount\":0,\"answers"
	"\":[],\"authority\":[],\"additional\":[],\"edns\":null,\"len\":37,\"truncated_captur"
	"e\":false,\"decode_status\":[]}";

struct parsed {
	struct jsonl_parser *p;
	struct jsonl_record rec;
	char err[512];
};

static int parse(struct parsed *ps, const char *line)
{
	if (!ps->p)
		ps->p = jsonl_parser_new();
	assert_non_null(ps->p);
	ps->err[0] = '\0';
	return jsonl_parse_line(ps->p, line, strlen(line), &ps->rec, ps->err, sizeof(ps->err));
}

/* line with the first occurrence of from replaced by to (the caller frees it). */
static char *with(const char *line, const char *from, const char *to)
{
	const char *at = strstr(line, from);
	size_t pre, len;
	char *s;

	assert_non_null(at);
	pre = (size_t)(at - line);
	len = strlen(line) - strlen(from) + strlen(to);
	s = malloc(len + 1);
	assert_non_null(s);
	memcpy(s, line, pre);
	strcpy(s + pre, to);
	strcat(s, at + strlen(from));
	return s;
}

static void assert_addr(const uint8_t *got, int family, const char *text)
{
	uint8_t want[16] = {0};

	assert_int_equal(inet_pton(family, text, want), 1);
	assert_memory_equal(got, want, 16);
}

static void test_lab_query(void **state)
{
	struct parsed ps = {0};
	const struct dns_obs *o = &ps.rec.obs;

	assert_int_equal(parse(&ps, LAB_QUERY), JSONL_OBSERVATION);
	assert_int_equal(o->kind, OBS_QUERY);
	/* 14:39:15.246112 */
	assert_int_equal(o->ts_ns, (DAY_2026_11_27 + 14 * 3600 + 39 * 60 + 15) * SEC + 246112000);
	assert_int_equal(ps.rec.order_ns, o->ts_ns);
	assert_string_equal(o->host, "vm");
	assert_int_equal(o->dir, DNSSNOOP_DIR_UNKNOWN);
	assert_int_equal(o->proto, IPPROTO_UDP);
	assert_int_equal(o->family, AF_INET);
	assert_addr(o->client_addr, AF_INET, "127.0.0.1");
	assert_addr(o->server_addr, AF_INET, "127.0.0.1");
	assert_int_equal(o->client_port, 50051);
	assert_int_equal(o->server_port, 15353);
	assert_null(o->owner);
	assert_null(o->cgroup);
	assert_int_equal(o->qname_len, 12);
	assert_memory_equal(o->qname, "www.lab.test", 12);
	assert_int_equal(o->qtype, 1);
	assert_int_equal(o->id, 48975);
	assert_int_equal(o->len, 53);
	assert_false(o->has_latency);
	assert_int_equal(o->naddrs, 0);
	assert_false(o->mirror);
	jsonl_parser_free(ps.p);
}

static void test_lab_responses(void **state)
{
	struct parsed ps = {0};
	const struct dns_obs *o = &ps.rec.obs;

	assert_int_equal(parse(&ps, LAB_RESPONSE), JSONL_OBSERVATION);
	assert_int_equal(o->kind, OBS_RESPONSE);
	assert_int_equal(o->ts_ns, (DAY_2026_11_27 + 14 * 3600 + 39 * 60 + 15) * SEC + 246217000);
	/* The client is the response's destination. */
	assert_int_equal(o->client_port, 50051);
	assert_int_equal(o->server_port, 15353);
	assert_int_equal(o->rcode, 0);
	assert_false(o->tc);
	assert_true(o->has_latency);
	assert_int_equal(o->latency_ns, 105000);
	assert_int_equal(o->len, 106);
	assert_int_equal(o->naddrs, 2); /* the NS and the glue A are not answers */
	assert_int_equal(o->addrs[0].family, AF_INET);
	assert_addr(o->addrs[0].addr, AF_INET, "192.0.2.1");
	assert_addr(o->addrs[1].addr, AF_INET, "192.0.2.2");

	assert_int_equal(parse(&ps, LAB_NXDOMAIN), JSONL_OBSERVATION);
	assert_int_equal(o->rcode, 3);
	assert_int_equal(o->naddrs, 0);
	assert_int_equal(o->latency_ns, 71000);
	assert_memory_equal(o->qname, "nope.lab.test", 13);

	assert_int_equal(parse(&ps, LAB_V6_RESPONSE), JSONL_OBSERVATION);
	assert_int_equal(o->family, AF_INET6);
	assert_addr(o->client_addr, AF_INET6, "::1");
	assert_int_equal(o->client_port, 52952);
	assert_int_equal(o->qtype, 28);
	assert_int_equal(o->naddrs, 1);
	assert_int_equal(o->addrs[0].family, AF_INET6);
	assert_addr(o->addrs[0].addr, AF_INET6, "2001:db8::1");
	assert_int_equal(o->latency_ns, 69000);
	jsonl_parser_free(ps.p);
}

/*
 * The identity fields after cgroup (null, or a container's and a pod's
 * objects) are read past: the observation is the one without them.
 */
static void test_identity_fields(void **state)
{
	static const char *const idents[] = {
		"\"unit\":null,\"container\":null,\"pod\":null",
		"\"unit\":\"session-1.scope\",\"container\":{\"runtime\":\"podman\",\"id\":"
		"\"3f2a9c1b7e4d5a6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7\",\"name\":"
		"\"dnsprobe\"},\"pod\":{\"uid\":\"6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d\",\"name\""
		":\"web-0\",\"namespace\":null}",
	};
	struct parsed ps = {0};
	const struct dns_obs *o = &ps.rec.obs;

	for (size_t i = 0; i < sizeof(idents) / sizeof(idents[0]); i++) {
		char to[512];
		char *line;

		snprintf(to, sizeof(to), "\"cookie\":8193,%s,", idents[i]);
		line = with(DOC_QUERY, "\"cookie\":8193,", to);
		assert_int_equal(parse(&ps, line), JSONL_OBSERVATION);
		assert_string_equal(o->cgroup, "/user.slice/user-0.slice/session-1.scope");
		assert_int_equal(o->owner->tgid, 4242);
		assert_string_equal(o->owner->comm, "dig");
		assert_int_equal(o->id, 4660);
		free(line);
		line = with(DOC_UNANSWERED, "\"cookie\":8193,", to);
		assert_int_equal(parse(&ps, line), JSONL_OBSERVATION);
		assert_null(o->owner);
		free(line);
	}
	jsonl_parser_free(ps.p);
}

static void test_owner_and_direction(void **state)
{
	struct parsed ps = {0};
	const struct dns_obs *o = &ps.rec.obs;
	char *no_tid = with(DOC_QUERY, "\"tid\":4242", "\"tid\":null");

	assert_int_equal(parse(&ps, DOC_QUERY), JSONL_OBSERVATION);
	assert_int_equal(o->dir, DNSSNOOP_EGRESS);
	assert_string_equal(o->host, "lab");
	assert_non_null(o->owner);
	assert_int_equal(o->owner->tgid, 4242);
	assert_int_equal(o->owner->pid, 4242);
	assert_int_equal(o->owner->uid, 0);
	assert_string_equal(o->owner->comm, "dig");
	assert_string_equal(o->cgroup, "/user.slice/user-0.slice/session-1.scope");
	assert_int_equal(o->id, 4660);
	assert_addr(o->client_addr, AF_INET, "10.0.0.1");
	assert_int_equal(o->client_port, 45321);
	assert_addr(o->server_addr, AF_INET, "10.0.0.2");
	assert_int_equal(o->server_port, 53);

	/* tid null: the owner's thread is its process. */
	assert_int_equal(parse(&ps, no_tid), JSONL_OBSERVATION);
	assert_int_equal(o->owner->pid, 4242);
	free(no_tid);
	jsonl_parser_free(ps.p);
}

static void test_unanswered_order(void **state)
{
	struct parsed ps = {0};
	const struct dns_obs *o = &ps.rec.obs;
	uint64_t ts = (DAY_2026_11_27 + 14 * 3600 + 5 * 60 + 2) * SEC + 101000;

	assert_int_equal(parse(&ps, DOC_UNANSWERED), JSONL_OBSERVATION);
	assert_int_equal(o->kind, OBS_UNANSWERED);
	assert_int_equal(o->ts_ns, ts); /* the query's time, as the pipeline counts it */
	assert_int_equal(ps.rec.order_ns, ts + 5000812000ULL); /* when it was reported */
	assert_null(o->owner); /* pid null */
	assert_null(o->cgroup);
	assert_int_equal(o->family, AF_INET6);
	assert_addr(o->client_addr, AF_INET6, "2001:db8::1");
	assert_int_equal(o->client_port, 51000);
	assert_int_equal(o->server_port, 53);
	jsonl_parser_free(ps.p);
}

/* docs/output.md: comm is caf, é (valid UTF-8), TAB, the byte 0xFF, '\', '"'. */
static void test_raw_bytes(void **state)
{
	static const char comm[] = "caf\xc3\xa9\t\xff\\\"";
	static const char qname[] = "a\\\"b.c\\\\d.e\\001\\010.x\\.y.com";
	struct parsed ps = {0};
	const struct dns_obs *o = &ps.rec.obs;
	char *raw_host = with(LAB_QUERY, "\"host\":\"vm\"", "\"host\":\"h\\u00e9\\u00FF\"");
	char *utf8_host = with(LAB_QUERY, "\"host\":\"vm\"", "\"host\":\"h\xc3\xa9\"");
	char *text_host = with(LAB_QUERY, "\"host\":\"vm\"", "\"host\":\"\\\\u00e9\"");

	assert_int_equal(parse(&ps, DOC_ESCAPES), JSONL_OBSERVATION);
	assert_int_equal(strlen(o->owner->comm), 9);
	assert_memory_equal(o->owner->comm, comm, 9);
	assert_int_equal(o->qname_len, strlen(qname));
	assert_memory_equal(o->qname, qname, strlen(qname));
	assert_int_equal(o->id, 7);

	assert_int_equal(parse(&ps, raw_host), JSONL_OBSERVATION);
	assert_string_equal(o->host, "h\xe9\xff"); /* two raw bytes */
	assert_int_equal(parse(&ps, utf8_host), JSONL_OBSERVATION);
	assert_string_equal(o->host, "h\xc3\xa9"); /* é as written */
	assert_int_equal(parse(&ps, text_host), JSONL_OBSERVATION);
	assert_string_equal(o->host, "\\u00e9"); /* an escaped backslash, then text */
	free(raw_host);
	free(utf8_host);
	free(text_host);
	jsonl_parser_free(ps.p);
}

static void test_not_observations(void **state)
{
	struct parsed ps = {0};
	char *no_question = with(LAB_QUERY, "\"qname\":\"www.lab.test\"", "\"qname\":null");
	char *finding = with(LAB_QUERY, "\"type\":\"dns\"", "\"type\":\"finding\"");

	assert_int_equal(parse(&ps, "{\"type\":\"capture_stats\",\"v\":1,\"messages\":3}"),
			 JSONL_OTHER_TYPE);
	assert_int_equal(parse(&ps, "{\"type\":\"process_stats\",\"v\":1,\"others\":true}"),
			 JSONL_OTHER_TYPE);
	assert_int_equal(parse(&ps, finding), JSONL_OTHER_TYPE);
	assert_int_equal(parse(&ps, no_question), JSONL_NO_QUESTION);
	assert_int_equal(parse(&ps, ""), JSONL_BLANK);
	assert_int_equal(parse(&ps, " \t\r"), JSONL_BLANK);
	free(no_question);
	free(finding);
	jsonl_parser_free(ps.p);
}

struct bad_case {
	const char *from, *to; /* in LAB_RESPONSE; from NULL: to is the whole line */
	const char *why; /* expected in the message */
};

static void test_bad_lines(void **state)
{
	static const struct bad_case cases[] = {
		{NULL, "garbage", "not a JSON object: \"garbage\""},
		{NULL, "{\"type\":\"dns\",\"v\":1,\"ts\":\"2026-11",
		 "the line ends inside the object"},
		{NULL, "[1,2]", "not a JSON object: \"[1,2]\""},
		{NULL, "{\"type\":\"dns\" \"v\":1}",
		 "not JSON (object value separator ',' expected)"},
		{NULL, "42", "not a JSON object: \"42\""},
		{NULL, "{\"foo\":1}", "not a dnssnoop record (no \"type\" string)"},
		{"\"decode_status\":[]}", "\"decode_status\":[]} x", "more after the object"},
		{"\"sport\":15353", "\"sport\":\"15353\"",
		 "\"sport\" is not an integer from 0 to 65535"},
		{"\"sport\":15353", "\"sport\":70000",
		 "\"sport\" is not an integer from 0 to 65535"},
		{"\"dport\":50051", "\"dport\":-1", "\"dport\" is not an integer from 0 to 65535"},
		{"\"len\":106", "\"len\":1.5", "\"len\" is not an integer"},
		{"\"id\":48975,", "", "\"id\" is missing"},
		{"\"v\":1", "\"v\":2", "record version 2 is not supported"},
		{"\"qr\":\"response\"", "\"qr\":\"answer\"", "\"qr\" is neither"},
		{"\"qtype\":\"A\"", "\"qtype\":\"BOGUS\"", "\"qtype\" is not a known mnemonic"},
		{"\"qtype\":\"A\"", "\"qtype\":\"TYPE65536\"", "\"qtype\" is not a known mnemonic"},
		{"\"rcode\":\"NOERROR\"", "\"rcode\":\"RCODE4096\"", "\"rcode\" is not a known"},
		{"\"rcode\":\"NOERROR\",", "", "\"rcode\" is missing"},
		{"\"ts\":\"2026-11-27T", "\"ts\":\"2026-02-30T", "\"ts\" is not an RFC 3339 time"},
		{"\"saddr\":\"127.0.0.1\"", "\"saddr\":\"300.0.0.1\"", "\"saddr\" is not an IPv4"},
		{"\"saddr\":\"127.0.0.1\"", "\"saddr\":\"::1\"", "different families"},
		{"\"dir\":null", "\"dir\":\"sideways\"", "\"dir\" is neither"},
		{"\"proto\":\"udp\"", "\"proto\":\"sctp\"", "\"proto\" is neither"},
		{"\"host\":\"vm\"", "\"host\":5", "\"host\" is not a string"},
		{"\"flags\":[\"aa\",\"rd\"],", "", "\"flags\" is not an array"},
		{"\"answers\":[", "\"answers\":7,\"x\":[", "\"answers\" is not an array"},
		{"\"answers\":[", "\"answers\":[3,", "an element of \"answers\" is not an object"},
		{"\"latency_ns\":105000", "\"latency_ns\":\"fast\"", "\"latency_ns\" is not an"},
		{"\"pid\":null", "\"pid\":true", "\"pid\" is not an integer"},
		{"\"type\":\"dns\"", "\"type\":\"unanswered\"",
		 "an unanswered record that is not a query"},
		{"\"latency_ns\":105000", "\"latency_ns\":9223372036854775808",
		 "\"latency_ns\" is not an integer from 0 to 9223372036854775807"},
		{"\"latency_ns\":105000", "\"latency_ns\":18446744073709551615",
		 "\"latency_ns\" is not an integer from 0 to 9223372036854775807"},
		{"\"latency_ns\":105000", "\"latency_ns\":99999999999999999999",
		 "\"latency_ns\" is not an integer from 0 to 9223372036854775807"},
		{"\"latency_ns\":105000", "\"latency_ns\":-1", "\"latency_ns\" is not an integer"},
		{"\"latency_ns\":105000", "\"latency_ns\":1e3", "\"latency_ns\" is not an integer"},
		{"\"sport\":15353", "\"sport\":65536",
		 "\"sport\" is not an integer from 0 to 65535"},
		{"\"len\":106", "\"len\":65536", "\"len\" is not an integer from 0 to 65535"},
		{"\"id\":48975", "\"id\":\"48975\"", "\"id\" is not an integer"},
		{"\"qtype\":\"A\"", "\"qtype\":\"TYPE+1\"", "\"qtype\" is not a known mnemonic"},
		{"\"qtype\":\"A\"", "\"qtype\":\"TYPE 1\"", "\"qtype\" is not a known mnemonic"},
		{"\"qtype\":\"A\"", "\"qtype\":\"TYPE0x1\"", "\"qtype\" is not a known mnemonic"},
		{"\"qtype\":\"A\"", "\"qtype\":\"TYPE\"", "\"qtype\" is not a known mnemonic"},
		{"\"qname\":\"www.lab.test\"", "\"qname\":5", "\"qname\" is not a string"},
		{"\"qname\":\"www.lab.test\"", "\"qname\":\"www..test\"",
		 "\"qname\" has an empty label"},
		{"\"qname\":\"www.lab.test\"", "\"qname\":\".www\"",
		 "\"qname\" has an empty label"},
		{"\"qname\":\"www.lab.test\"", "\"qname\":\"www.lab.test.\"",
		 "\"qname\" has an empty label (a trailing dot)"},
		{"\"qname\":\"www.lab.test\"", "\"qname\":\"\"", "\"qname\" is empty"},
		{"\"qname\":\"www.lab.test\"", "\"qname\":\"www\\nlab\"",
		 "\"qname\" holds a control character"},
		{"\"qname\":\"www.lab.test\"", "\"qname\":\"www lab\"",
		 "\"qname\" holds a control character, a space"},
		{"\"qname\":\"www.lab.test\"", "\"qname\":\"caf\\u00e9\"",
		 "\"qname\" holds a control character"},
		{"\"qname\":\"www.lab.test\"", "\"qname\":\"caf\303\251\"",
		 "\"qname\" holds a control character"},
		{"\"qname\":\"www.lab.test\"", "\"qname\":\"www\\u0000.evil\"",
		 "\"qname\" holds a control character"},
		{"\"qname\":\"www.lab.test\"", "\"qname\":\"a\\\\\"",
		 "\"qname\" has a backslash that is not"},
		{"\"qname\":\"www.lab.test\"", "\"qname\":\"a\\\\256\"",
		 "\"qname\" has a backslash that is not"},
		{"\"qname\":\"www.lab.test\"", "\"qname\":\"a\\\\12\"",
		 "\"qname\" has a backslash that is not"},
	};
	struct parsed ps = {0};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		char *line = c->from ? with(LAB_RESPONSE, c->from, c->to) : strdup(c->to);

		if (parse(&ps, line) != JSONL_BAD || !strstr(ps.err, c->why))
			fail_msg("case %zu: want JSONL_BAD with \"%s\", got \"%s\"", i, c->why,
				 ps.err);
		free(line);
	}
	/* The parser is not left in a bad state: a good line still parses. */
	assert_int_equal(parse(&ps, LAB_RESPONSE), JSONL_OBSERVATION);
	assert_int_equal(ps.rec.obs.latency_ns, 105000);
	jsonl_parser_free(ps.p);
}

/* qname "<labels joined by '.'>" in LAB_RESPONSE: the parse result and message. */
static int parse_qname(struct parsed *ps, const char *qname)
{
	char *q = malloc(strlen(qname) + 16), *line;
	int rc;

	assert_non_null(q);
	sprintf(q, "\"qname\":\"%s\"", qname);
	line = with(LAB_RESPONSE, "\"qname\":\"www.lab.test\"", q);
	rc = parse(ps, line);
	free(line);
	free(q);
	return rc;
}

/* n labels of len bytes each ("aaa.aaa..."); returns a static buffer. */
static const char *labels(int n, int len, const char *unit)
{
	static char buf[4096];
	size_t o = 0;

	for (int i = 0; i < n; i++) {
		if (i)
			buf[o++] = '.';
		for (int k = 0; k < len; k++)
			o += (size_t)sprintf(buf + o, "%s", unit);
	}
	buf[o] = '\0';
	return buf;
}

static void test_qname_bounds(void **state)
{
	struct parsed ps = {0};
	char name[4096];

	/* 63-byte label fine, 64 not; as \DDD escapes the count is in bytes. */
	assert_int_equal(parse_qname(&ps, labels(1, 63, "a")), JSONL_OBSERVATION);
	assert_int_equal(ps.rec.obs.qname_len, 63);
	assert_int_equal(parse_qname(&ps, labels(1, 64, "a")), JSONL_BAD);
	assert_non_null(strstr(ps.err, "\"qname\" has a label longer than 63 bytes"));
	assert_int_equal(parse_qname(&ps, labels(1, 63, "\\\\255")), JSONL_OBSERVATION);
	assert_int_equal(ps.rec.obs.qname_len, 63 * 4);
	assert_int_equal(parse_qname(&ps, labels(1, 64, "\\\\255")), JSONL_BAD);
	/* 63+63+63+61 bytes: 255 in wire format; one more byte: 256. */
	snprintf(name, sizeof(name), "%s.", labels(3, 63, "b"));
	strcat(name, labels(1, 61, "c"));
	assert_int_equal(parse_qname(&ps, name), JSONL_OBSERVATION);
	assert_int_equal(ps.rec.obs.qname_len, 3 * 64 + 61);
	strcat(name, "c");
	assert_int_equal(parse_qname(&ps, name), JSONL_BAD);
	assert_non_null(strstr(ps.err, "\"qname\" is longer than 255 bytes in wire format"));
	/* What the decoder writes is read back as it is. */
	assert_int_equal(parse_qname(&ps, "."), JSONL_OBSERVATION);
	assert_string_equal(ps.rec.obs.qname, ".");
	assert_int_equal(parse_qname(&ps, "a\\\\.b.c\\\\\\\"d.\\\\000\\\\010x.*._tcp"),
			 JSONL_OBSERVATION);
	assert_string_equal(ps.rec.obs.qname, "a\\.b.c\\\"d.\\000\\010x.*._tcp");
	jsonl_parser_free(ps.p);
}

static void check_time(const char *text, bool ok, uint64_t want)
{
	uint64_t ns = 0;
	bool got = fmt_parse_time(text, strlen(text), &ns);

	if (got != ok || (ok && ns != want))
		fail_msg("%s: want %d %llu, got %d %llu", text, ok, (unsigned long long)want, got,
			 (unsigned long long)ns);
}

static void test_times(void **state)
{
	/* 2024-02-29 is day 19782: 1709164800 s. */
	const uint64_t leap = 1709164800ULL * SEC;

	check_time("1970-01-01T00:00:00Z", true, 0);
	check_time("1970-01-01T00:00:00.000000001Z", true, 1);
	check_time("2026-11-27T14:39:15.246112Z", true, (DAY_2026_11_27 + 52755) * SEC + 246112000);
	check_time("2024-02-29T00:00:00Z", true, leap);
	check_time("2024-02-29t00:00:00.5z", true, leap + SEC / 2);
	check_time("2024-02-29T01:30:00+01:30", true, leap); /* offsets count */
	check_time("2024-02-28T23:00:00.25-01:00", true, leap + SEC / 4);
	check_time("2024-02-29T00:00:00.1234567891Z", true, leap + 123456789); /* finer: cut */
	check_time("2023-02-29T00:00:00Z", false, 0); /* not a leap year */
	check_time("2026-13-01T00:00:00Z", false, 0);
	check_time("2026-01-01T24:00:00Z", false, 0);
	check_time("2026-01-01T00:00:00", false, 0); /* no zone */
	check_time("2026-01-01T00:00:00.Z", false, 0);
	check_time("2026-01-01 00:00:00Z", false, 0);
	check_time("1969-12-31T23:59:59Z", false, 0);
	/* The last second 64-bit ns can hold, its last ns, and the next one. */
	check_time("2554-07-21T23:34:33Z", true, 18446744073ULL * SEC);
	check_time("2554-07-21T23:34:33.709551615Z", true, UINT64_MAX);
	check_time("2554-07-21T23:34:33.709551616Z", false, 0);
	check_time("9999-12-31T23:59:59Z", false, 0);
	check_time("2026-01-01T00:00:00Zjunk", false, 0);
}

static void test_reverse_mnemonics(void **state)
{
	char buf[16];

	assert_int_equal(dns_type_from_str("A"), 1);
	assert_int_equal(dns_type_from_str("aaaa"), 28);
	assert_int_equal(dns_type_from_str("SPF"), 99);
	assert_int_equal(dns_type_from_str("AMTRELAY"), 260);
	assert_int_equal(dns_type_from_str("CAA"), 257);
	assert_int_equal(dns_type_from_str("TA"), 32768);
	assert_int_equal(dns_type_from_str("DLV"), 32769);
	assert_int_equal(dns_type_from_str("NSAP-PTR"), 23);
	assert_int_equal(dns_type_from_str("TYPE65280"), 65280);
	assert_int_equal(dns_type_from_str("TYPE1"), 1);
	assert_int_equal(dns_type_from_str("type0"), 0);
	assert_int_equal(dns_type_from_str("TYPE65535"), 65535);
	assert_int_equal(dns_type_from_str("TYPE65536"), -1);
	assert_int_equal(dns_type_from_str("TYPE"), -1);
	assert_int_equal(dns_type_from_str("TYPE-1"), -1);
	assert_int_equal(dns_type_from_str("TYPE1x"), -1);
	assert_int_equal(dns_type_from_str(""), -1);
	assert_int_equal(dns_type_from_str("A "), -1);
	assert_int_equal(dns_type_from_str(NULL), -1);
	for (unsigned int t = 0; t <= UINT16_MAX; t++)
		if (dns_type_from_str(dns_type_str((uint16_t)t, buf)) != (int)t)
			fail_msg("type %u (%s) does not come back", t,
				 dns_type_str((uint16_t)t, buf));

	assert_int_equal(dns_rcode_from_str("NOERROR"), 0);
	assert_int_equal(dns_rcode_from_str("NXDOMAIN"), 3);
	assert_int_equal(dns_rcode_from_str("badvers"), 16);
	assert_int_equal(dns_rcode_from_str("BADCOOKIE"), 23);
	assert_int_equal(dns_rcode_from_str("RCODE23"), 23);
	assert_int_equal(dns_rcode_from_str("RCODE4095"), 4095);
	assert_int_equal(dns_rcode_from_str("RCODE4096"), -1);
	assert_int_equal(dns_rcode_from_str("NOPE"), -1);
	assert_int_equal(dns_rcode_from_str(NULL), -1);
	for (unsigned int r = 0; r < 4096; r++)
		if (dns_rcode_from_str(dns_rcode_str((uint16_t)r, buf)) != (int)r)
			fail_msg("rcode %u (%s) does not come back", r,
				 dns_rcode_str((uint16_t)r, buf));
}

/* ---- files ---- */

static void temp_path(char *path, size_t len, const char *name)
{
	snprintf(path, len, "/tmp/dnssnoop-test-jsonl-%d-%s", (int)getpid(), name);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static char *concat(const char *const *parts, size_t n)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(parts[i]);
	s = calloc(1, len);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		strcat(s, parts[i]);
	return s;
}

static void test_source_damage(void **state)
{
	const char *parts[] = {
		LAB_QUERY,
		"\n",
		"Nov 27 14:39:15 garbage from a log shipper\n",
		"{\"type\":\"capture_stats\",\"v\":1}\n",
		"\n",
		LAB_RESPONSE,
		"\r\n",
		"{\"type\":\"dns\",\"v\":1,\"ts\":\"2026", /* cut: no newline */
	};
	const struct jsonl_record *rec;
	struct jsonl_source_stats st;
	struct jsonl_source *js;
	char path[128], err[512], want[256];
	char *text = concat(parts, sizeof(parts) / sizeof(parts[0]));

	temp_path(path, sizeof(path), "damage.jsonl");
	write_file(path, text);
	js = jsonl_source_open(path, err, sizeof(err));
	assert_non_null(js);
	assert_int_equal(jsonl_source_next(js, &rec, err, sizeof(err)), 1);
	assert_int_equal(rec->obs.kind, OBS_QUERY);
	assert_int_equal(jsonl_source_next(js, &rec, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "dnssnoop: %s:2: not a JSON object: \"Nov 27", path);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "Nov 27 14:39:15 garbage"));
	assert_int_equal(jsonl_source_next(js, &rec, err, sizeof(err)), 1);
	assert_int_equal(rec->obs.kind, OBS_RESPONSE);
	assert_int_equal(rec->obs.latency_ns, 105000); /* the \r is not part of the record */
	assert_int_equal(jsonl_source_next(js, &rec, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "dnssnoop: %s:6: last line cut short", path);
	assert_non_null(strstr(err, want));
	assert_int_equal(jsonl_source_next(js, &rec, err, sizeof(err)), -1); /* the totals */
	assert_non_null(strstr(err, "2 bad lines skipped; 2 records of 6 lines used"));
	assert_int_equal(jsonl_source_next(js, &rec, err, sizeof(err)), 0);
	assert_int_equal(jsonl_source_next(js, &rec, err, sizeof(err)), 0);
	jsonl_source_get_stats(js, &st);
	assert_int_equal(st.lines, 6);
	assert_int_equal(st.observations, 2);
	assert_int_equal(st.other_types, 1);
	assert_int_equal(st.errors, 2);
	jsonl_source_close(js);
	unlink(path);
	free(text);
}

/* Past JSONL_REPORTED_ERRORS bad lines, the rest are counted, not reported; a long line is fine. */
static void test_source_many_errors_long_line(void **state)
{
	const size_t pad = 300000;
	char *big = malloc(pad + 32), *line;
	const struct jsonl_record *rec;
	struct jsonl_source *js;
	char path[128], err[512];
	int messages = 0, n;
	FILE *f;

	assert_non_null(big);
	strcpy(big, "\"pad\":\"");
	memset(big + 7, 'x', pad);
	strcpy(big + 7 + pad, "\",\"v\":1");
	line = with(LAB_QUERY, "\"v\":1", big);
	temp_path(path, sizeof(path), "many.jsonl");
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 30; i++)
		fprintf(f, "not json %d\n", i);
	fprintf(f, "%s\n", line);
	assert_int_equal(fclose(f), 0);

	js = jsonl_source_open(path, err, sizeof(err));
	assert_non_null(js);
	while ((n = jsonl_source_next(js, &rec, err, sizeof(err))) == -1)
		messages++;
	assert_int_equal(messages, JSONL_REPORTED_ERRORS);
	assert_int_equal(n, 1);
	assert_int_equal(rec->obs.id, 48975); /* the 300 KB line */
	assert_int_equal(jsonl_source_next(js, &rec, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "30 bad lines skipped (only the first ones were shown)"));
	assert_int_equal(jsonl_source_next(js, &rec, err, sizeof(err)), 0);
	jsonl_source_close(js);
	unlink(path);
	free(line);
	free(big);
}

/*
 * A line over the cap is reported with its number and skipped without
 * being held: the lines around it are read, and the buffer never grows
 * past the cap.
 */
static void test_source_line_cap(void **state)
{
	const size_t cap = 1000, long_len = 200000;
	const struct jsonl_record *rec;
	struct jsonl_source_stats st;
	struct jsonl_source *js;
	char path[128], err[512], want[256];
	FILE *f;

	temp_path(path, sizeof(path), "cap.jsonl");
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n{\"type\":\"x\",\"pad\":\"", LAB_QUERY);
	for (size_t i = 0; i < long_len; i++)
		fputc('x', f);
	fprintf(f, "\"}\n%s\r\n", LAB_RESPONSE);
	/* Exactly cap bytes, then cap + 1, both with \r\n: only the second is too long. */
	fprintf(f, "{\"type\":\"y\",\"pad\":\"%0*d\"}\r\n", (int)cap - 21, 0);
	fprintf(f, "{\"type\":\"y\",\"pad\":\"%0*d\"}\r\n", (int)cap - 20, 0);
	assert_int_equal(fclose(f), 0);

	js = jsonl_source_open(path, err, sizeof(err));
	assert_non_null(js);
	jsonl_source_set_max_line(js, cap);
	assert_int_equal(jsonl_source_next(js, &rec, err, sizeof(err)), 1);
	assert_int_equal(jsonl_source_next(js, &rec, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "dnssnoop: %s:2: line longer than 1000 bytes, skipped", path);
	assert_string_equal(err, want);
	assert_int_equal(jsonl_source_next(js, &rec, err, sizeof(err)), 1);
	assert_int_equal(rec->obs.latency_ns, 105000);
	assert_int_equal(jsonl_source_next(js, &rec, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "dnssnoop: %s:5: line longer than 1000 bytes, skipped", path);
	assert_string_equal(err, want);
	assert_int_equal(jsonl_source_next(js, &rec, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "2 bad lines skipped; 2 records of 5 lines used"));
	assert_int_equal(jsonl_source_next(js, &rec, err, sizeof(err)), 0);
	jsonl_source_get_stats(js, &st);
	assert_int_equal(st.other_types, 1);
	assert_int_equal(st.errors, 2);
	jsonl_source_close(js);
	unlink(path);
}

/* ---- merge ---- */

static char *record_at(const char *base, uint64_t s_of_minute, const char *qname)
{
	char ts[64], q[300], *a, *b;

	snprintf(ts, sizeof(ts), "\"ts\":\"2026-11-27T14:40:%02llu.000000Z\"",
		 (unsigned long long)s_of_minute);
	snprintf(q, sizeof(q), "\"qname\":\"%s\"", qname);
	a = with(base, "\"ts\":\"2026-11-27T14:39:15.246112Z\"", ts);
	b = with(a, "\"qname\":\"www.lab.test\"", q);
	free(a);
	return b;
}

static void write_records(const char *path, const char *first_line, int n, const uint64_t *secs,
			  const char *const *names)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	if (first_line)
		fputs(first_line, f);
	for (int i = 0; i < n; i++) {
		char *r = record_at(LAB_QUERY, secs[i], names[i]);

		fprintf(f, "%s\n", r);
		free(r);
	}
	assert_int_equal(fclose(f), 0);
}

static void write_pcap(const char *path, int n, const uint64_t *secs)
{
	struct pcap_writer *w;
	uint8_t payload[12] = {0};
	char err[256];

	w = pcap_writer_open(path, err, sizeof(err));
	assert_non_null(w);
	for (int i = 0; i < n; i++) {
		struct pkt_meta m = meta_ip4(IPPROTO_UDP, DNSSNOOP_EGRESS, "10.1.0.5", 40000 + i,
					     "10.0.0.1", 53);

		m.ts_ns = (DAY_2026_11_27 + 14 * 3600 + 40 * 60 + secs[i]) * SEC;
		m.orig_len = sizeof(payload);
		assert_int_equal(pcap_writer_write(w, &m, payload, sizeof(payload)), 0);
	}
	assert_int_equal(pcap_writer_close(w), 0);
}

static void test_merge_by_time(void **state)
{
	static const uint64_t a_secs[] = {1, 3, 3, 7}, b_secs[] = {2, 3, 9};
	static const char *const a_names[] = {"a1", "a3", "a3b", "a7"};
	static const char *const d_names[] = {"d5"};
	static const uint64_t d_secs[] = {5};
	/* Expected order: time, then the input named first (a, pcap b, d). */
	static const char *const want[] = {"a1",      "b:40000", "a3", "a3b",
					   "b:40001", "d5",	 "a7", "b:40002"};
	struct merge_config cfg = {.ports = (const uint16_t[]){53}, .nports = 1};
	char a[128], b[128], c[128], d[128], e[128], err[512], got[64];
	struct merge *m = merge_new(&cfg);
	struct merge_item it;
	int n = 0, rc;

	assert_non_null(m);
	temp_path(a, sizeof(a), "a.jsonl");
	temp_path(b, sizeof(b), "b.capture"); /* kinds come from content, not names */
	temp_path(c, sizeof(c), "c.jsonl");
	temp_path(d, sizeof(d), "d.pcap");
	temp_path(e, sizeof(e), "e.jsonl");
	write_records(a, NULL, 4, a_secs, a_names);
	write_pcap(b, 3, b_secs);
	write_file(c, "GIF89a, not a capture\n");
	/* d starts with the tail of a record cut by log rotation. */
	write_records(d, "0,\"decode_status\":[]}\n", 1, d_secs, d_names);
	write_file(e, "");

	assert_int_equal(merge_add(m, a, err, sizeof(err)), MERGE_JSONL);
	assert_int_equal(merge_add(m, b, err, sizeof(err)), MERGE_PCAP);
	assert_int_equal(merge_add(m, c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, c));
	assert_non_null(strstr(err, "unknown file format"));
	assert_int_equal(merge_add(m, d, err, sizeof(err)), MERGE_JSONL);
	assert_int_equal(merge_add(m, e, err, sizeof(err)), MERGE_JSONL); /* empty */
	assert_int_equal(merge_inputs(m), 4);
	assert_true(merge_has(m, MERGE_PCAP));

	while ((rc = merge_next(m, &it, err, sizeof(err))) != 0) {
		if (rc < 0) { /* d's first line, then d's totals */
			assert_non_null(strstr(err, d));
			continue;
		}
		if (it.kind == MERGE_PCAP)
			snprintf(got, sizeof(got), "b:%u", it.meta->sport);
		else
			snprintf(got, sizeof(got), "%.*s", (int)it.obs->qname_len, it.obs->qname);
		assert_true(n < 8);
		assert_string_equal(got, want[n]);
		assert_int_equal(it.input, it.kind == MERGE_PCAP ? 1 : got[0] == 'a' ? 0 : 2);
		n++;
	}
	assert_int_equal(n, 8);
	assert_int_equal(merge_next(m, &it, err, sizeof(err)), 0);
	merge_free(m);
	unlink(a);
	unlink(b);
	unlink(c);
	unlink(d);
	unlink(e);
}

static void test_merge_rejects(void **state)
{
	struct merge_config cfg = {
		.filter = "host 10.0.0.1", .ports = (const uint16_t[]){53}, .nports = 1};
	char a[128], err[512];
	struct merge *m = merge_new(&cfg);

	temp_path(a, sizeof(a), "f.jsonl");
	write_file(a, "{\"type\":\"capture_stats\",\"v\":1}\n");
	assert_int_equal(merge_add(m, a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "a filter expression applies to pcap input only"));
	assert_int_equal(merge_add(m, "/nonexistent/x.jsonl", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot read /nonexistent/x.jsonl"));
	assert_int_equal(merge_inputs(m), 0);
	merge_free(m);
	unlink(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lab_query),
		cmocka_unit_test(test_lab_responses),
		cmocka_unit_test(test_owner_and_direction),
		cmocka_unit_test(test_identity_fields),
		cmocka_unit_test(test_unanswered_order),
		cmocka_unit_test(test_raw_bytes),
		cmocka_unit_test(test_not_observations),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_reverse_mnemonics),
		cmocka_unit_test(test_qname_bounds),
		cmocka_unit_test(test_source_damage),
		cmocka_unit_test(test_source_line_cap),
		cmocka_unit_test(test_source_many_errors_long_line),
		cmocka_unit_test(test_merge_by_time),
		cmocka_unit_test(test_merge_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
