// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The fleet's messages rows (report/ch_row.h) and the detectors' verdict
 * they carry (detect_add_verdict): counted lookups, retransmissions not
 * counted, first lookups of a name, counted answers with the answered
 * lookup's time, the client identity of a process and of an address, and
 * a row without detectors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "analysis/detect.h"
#include "proto/dns.h"
#include "report/ch_row.h"
#include "testutil.h"

#define SEC (1000000000ULL)
#define T0  (1767225600ULL * SEC) /* 2026-01-01 00:00 UTC */

static struct dns_obs query(const char *host, const char *name, uint16_t id, uint64_t ts)
{
	struct dns_obs o = {
		.kind = OBS_QUERY,
		.ts_ns = ts,
		.host = host,
		.dir = DNSSNOOP_DIR_UNKNOWN,
		.proto = IPPROTO_UDP,
		.family = AF_INET,
		.client_port = 40000,
		.server_port = 53,
		.qname = name,
		.qname_len = strlen(name),
		.qtype = 1,
		.qclass = 1,
		.flags = DNS_FLAG_RD,
		.id = id,
		.len = 40,
	};

	inet_pton(AF_INET, "10.1.2.3", o.client_addr);
	inet_pton(AF_INET, "10.0.0.53", o.server_addr);
	return o;
}

/* RowBinary reading: each returns false when the row ends too soon. */
static bool get_le(const uint8_t *b, size_t len, size_t *at, size_t n, uint64_t *v)
{
	if (len - *at < n)
		return false;
	*v = 0;
	for (size_t k = 0; k < n; k++)
		*v |= (uint64_t)b[*at + k] << (8 * k);
	*at += n;
	return true;
}

static bool get_varint(const uint8_t *b, size_t len, size_t *at, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; *at < len && shift < 64; shift += 7) {
		uint8_t c = b[(*at)++];

		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return true;
	}
	return false;
}

static json_object *get_string(const uint8_t *b, size_t len, size_t *at)
{
	uint64_t n;
	json_object *s;

	assert_true(get_varint(b, len, at, &n));
	assert_true(n <= len - *at);
	s = json_object_new_string_len((const char *)b + *at, (int)n);
	*at += n;
	return s;
}

/* One column's value as JSON: a Date as "YYYY-MM-DD". */
static json_object *get_value(const uint8_t *b, size_t len, size_t *at, enum ch_row_type type)
{
	static const size_t width[] = {
		[CH_U8] = 1, [CH_U16] = 2, [CH_U32] = 4, [CH_U64] = 8, [CH_DATE] = 2};
	json_object *arr;
	uint64_t v, n;
	char day[16];
	time_t t;

	if (type == CH_STRING)
		return get_string(b, len, at);
	if (type == CH_STRINGS) {
		assert_true(get_varint(b, len, at, &n));
		arr = json_object_new_array();
		while (n--)
			json_object_array_add(arr, get_string(b, len, at));
		return arr;
	}
	assert_true(get_le(b, len, at, width[type], &v));
	if (type != CH_DATE)
		return json_object_new_uint64(v);
	t = (time_t)(v * 86400);
	strftime(day, sizeof(day), "%Y-%m-%d", gmtime(&t));
	return json_object_new_string(day);
}

/* A RowBinary row (without batch) as an object of its columns; every byte read. */
static json_object *decode_row(const struct ch_rowbuf *row)
{
	json_object *obj = json_object_new_object();
	size_t at = 0;

	assert_false(row->failed);
	for (size_t c = 1; c < ch_row_ncolumns; c++)
		json_object_object_add(obj, ch_row_columns[c].name,
				       get_value(row->buf, row->len, &at, ch_row_columns[c].type));
	assert_int_equal(at, row->len);
	return obj;
}

/* The row of o as json-c's object (the caller puts it). */
static json_object *row_of(struct detect *d, const struct dns_obs *o, struct detect_verdict *v)
{
	struct ch_rowbuf row = {0};
	json_object *obj;

	if (d)
		detect_add_verdict(d, o, v);
	ch_row_build(&row, o, d ? v : NULL);
	obj = decode_row(&row);
	ch_rowbuf_free(&row);
	return obj;
}

/* The column list of an INSERT names the columns in their order. */
static void test_column_list(void **state)
{
	char want[2048] = "";

	(void)state;
	assert_string_equal(ch_row_columns[0].name, "batch");
	for (size_t c = 0; c < ch_row_ncolumns; c++) {
		if (c)
			strcat(want, ", ");
		strcat(want, ch_row_columns[c].name);
	}
	assert_string_equal(ch_row_column_list, want);
}

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_string(v);
}

static uint64_t num(json_object *o, const char *key)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return (uint64_t)json_object_get_uint64(v);
}

static struct detect *new_detect(void)
{
	struct detect_config cfg;

	detect_config_default(&cfg);
	return detect_new(&cfg);
}

static void test_lookup_and_retransmission(void **state)
{
	struct detect *d = new_detect();
	struct detect_verdict v;
	struct dns_obs q = query("h1", "WWW.Example.COM.", 7, T0);
	json_object *r = row_of(d, &q, &v);

	(void)state;
	assert_string_equal(str(r, "day"), "2026-01-01");
	assert_int_equal(num(r, "ts_ns"), T0);
	assert_string_equal(str(r, "qname"), "WWW.Example.COM.");
	assert_string_equal(str(r, "name"), "www.example.com");
	assert_string_equal(str(r, "domain"), "example.com");
	assert_string_equal(str(r, "peer"), "10.0.0.53");
	assert_string_equal(str(r, "saddr"), "10.1.2.3");
	assert_string_equal(str(r, "daddr"), "10.0.0.53");
	assert_string_equal(str(r, "client"), "h1/10.1.2.3");
	assert_string_equal(str(r, "client_addr"), "10.1.2.3");
	assert_string_equal(str(r, "opcode"), "QUERY");
	assert_string_equal(str(r, "qclass"), "IN");
	assert_string_equal(str(r, "rcode"), "");
	assert_int_equal(num(r, "lookup"), 1);
	assert_int_equal(num(r, "first_of_name"), 1);
	json_object_put(r);
	/* The same id to the same name within 1 s: a retransmission, not counted. */
	q.ts_ns = T0 + SEC / 2;
	r = row_of(d, &q, &v);
	assert_int_equal(num(r, "lookup"), 0);
	json_object_put(r);
	/* Another id: counted, not the first of the name. */
	q.id = 8;
	r = row_of(d, &q, &v);
	assert_int_equal(num(r, "lookup"), 1);
	assert_int_equal(num(r, "first_of_name"), 0);
	json_object_put(r);
	detect_free(d);
}

static void test_answers(void **state)
{
	struct detect *d = new_detect();
	struct detect_verdict v;
	struct dns_obs q = query("h1", "a.example.org", 1, T0), resp = q;
	json_object *r;

	(void)state;
	json_object_put(row_of(d, &q, &v));
	resp.kind = OBS_RESPONSE;
	resp.ts_ns = T0 + 3000;
	resp.has_latency = true;
	resp.latency_ns = 3000;
	resp.flags = DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA;
	resp.naddrs = 1;
	resp.addrs[0].family = AF_INET;
	inet_pton(AF_INET, "192.0.2.9", resp.addrs[0].addr);
	r = row_of(d, &resp, &v);
	assert_int_equal(num(r, "qr"), 1);
	assert_string_equal(str(r, "rcode"), "NOERROR");
	assert_string_equal(str(r, "saddr"), "10.0.0.53");
	assert_int_equal(num(r, "latency_ns"), 3000);
	assert_string_equal(json_object_to_json_string(json_object_object_get(r, "answers")),
			    "[ \"192.0.2.9\" ]");
	assert_string_equal(json_object_to_json_string(json_object_object_get(r, "flags")),
			    "[ \"rd\", \"ra\" ]");
	assert_int_equal(num(r, "lookup"), 0);
	assert_int_equal(num(r, "name_answer_ns"), T0); /* the answered lookup's time */
	assert_int_equal(num(r, "domain_answer_ns"), T0);
	json_object_put(r);
	/* A response for a name nobody looked up: not counted. */
	resp.qname = "b.example.net";
	resp.qname_len = strlen(resp.qname);
	resp.rcode = 3;
	r = row_of(d, &resp, &v);
	assert_int_equal(num(r, "name_answer_ns"), 0);
	assert_string_equal(str(r, "rcode"), "NXDOMAIN");
	json_object_put(r);
	detect_free(d);
}

static void test_process_client(void **state)
{
	struct detect *d = new_detect();
	struct dnssnoop_owner ow = {.tgid = 42, .uid = 1000};
	struct detect_verdict v;
	struct dns_obs q = query("h2", "x.test", 1, T0);
	uint64_t key;
	json_object *r;

	(void)state;
	memcpy(ow.comm, "curl", 5);
	q.owner = &ow;
	q.cgroup = "/user.slice";
	q.dir = DNSSNOOP_EGRESS;
	r = row_of(d, &q, &v);
	assert_int_equal(num(r, "client_process"), 1);
	assert_string_equal(str(r, "client_comm"), "curl");
	assert_int_equal(num(r, "client_uid"), 1000);
	assert_string_equal(str(r, "client_cgroup"), "/user.slice");
	assert_string_equal(str(r, "client_addr"), "");
	assert_string_equal(str(r, "client"), "h2/curl uid=1000 /user.slice");
	assert_int_equal(num(r, "pid"), 42);
	assert_string_equal(str(r, "dir"), "egress");
	key = num(r, "client_key");
	assert_int_equal(key, ch_row_client_key(&v.client));
	json_object_put(r);
	/* Another pid of the same program: the same client. */
	ow.tgid = 43;
	r = row_of(d, &q, &v);
	assert_int_equal(num(r, "client_key"), key);
	json_object_put(r);
	/* The same program on another host: another client. */
	q.host = "h3";
	r = row_of(d, &q, &v);
	assert_true(num(r, "client_key") != key);
	json_object_put(r);
	detect_free(d);
}

static void test_without_detectors(void **state)
{
	struct dns_obs q = query(NULL, "x.test", 1, T0);
	json_object *r = row_of(NULL, &q, NULL);

	(void)state;
	assert_string_equal(str(r, "host"), "");
	assert_string_equal(str(r, "name"), "");
	assert_string_equal(str(r, "client"), "");
	assert_int_equal(num(r, "client_key"), 0);
	assert_int_equal(num(r, "lookup"), 0);
	json_object_put(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_column_list),
		cmocka_unit_test(test_lookup_and_retransmission),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_process_client),
		cmocka_unit_test(test_without_detectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
