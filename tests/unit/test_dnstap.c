// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for dnstap input: the Frame Streams splitter
 * (user/capture/framestream.c) and Dnstap messages as packets
 * (user/capture/capture_dnstap.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "capture/capture_dnstap.h"
#include "capture/dnstap.pb-c.h"
#include "capture/framestream.h"

static const uint8_t client[4] = {192, 0, 2, 7}, server[4] = {198, 51, 100, 53};
static const uint8_t dns_query[12] = {0x12, 0x34, 0x01, 0x00}; /* id 0x1234, RD */

static void add(struct fs_buf *b, const void *p, size_t n)
{
	uint8_t *room;

	assert_true(fs_buf_space(b, n, &room) >= n);
	memcpy(room, p, n);
	fs_buf_added(b, n);
}

static void add_be32(struct fs_buf *b, uint32_t v)
{
	v = htonl(v);
	add(b, &v, 4);
}

/* A START control frame, then a data frame fed one byte at a time. */
static void test_frames_split_wherever_bytes_stop(void **state)
{
	uint8_t ctl[FS_CONTROL_MAX];
	size_t n = fs_control_encode(FS_START, true, ctl);
	struct fs_buf b;
	struct fs_frame f;
	char err[128];

	assert_true(fs_buf_init(&b, 64));
	assert_true(fs_looks_like_start(ctl, n));
	add(&b, ctl, n);
	assert_int_equal(fs_buf_next(&b, &f, err, sizeof(err)), FS_CONTROL);
	assert_int_equal(f.control, FS_START);
	assert_true(f.dnstap);
	add_be32(&b, 3);
	assert_int_equal(fs_buf_next(&b, &f, err, sizeof(err)), FS_MORE);
	add(&b, "a", 1);
	add(&b, "b", 1);
	assert_int_equal(fs_buf_next(&b, &f, err, sizeof(err)), FS_MORE);
	assert_int_equal(fs_buf_pending(&b), 6);
	add(&b, "c", 1);
	assert_int_equal(fs_buf_next(&b, &f, err, sizeof(err)), FS_DATA);
	assert_int_equal(f.len, 3);
	assert_memory_equal(f.data, "abc", 3);
	assert_int_equal(fs_buf_pending(&b), 0);
	assert_int_equal(b.bytes, n + 7);
	fs_buf_free(&b);
}

static void test_bad_frames(void **state)
{
	struct fs_buf b;
	struct fs_frame f;
	char err[128] = "";

	assert_true(fs_buf_init(&b, 64));
	add_be32(&b, 65); /* over the bound */
	assert_int_equal(fs_buf_next(&b, &f, err, sizeof(err)), FS_BAD);
	assert_non_null(strstr(err, "65 bytes"));
	fs_buf_free(&b);
	assert_true(fs_buf_init(&b, 64));
	add_be32(&b, 0);
	add_be32(&b, 2); /* a control frame too short for its type */
	assert_int_equal(fs_buf_next(&b, &f, err, sizeof(err)), FS_BAD);
	fs_buf_free(&b);
	/* Not a START frame: no dnstap file */
	{
		uint8_t ctl[FS_CONTROL_MAX];
		size_t n = fs_control_encode(FS_STOP, false, ctl);

		assert_false(fs_looks_like_start(ctl, n));
	}
}

/* One Dnstap message of type, packed into a malloc'd buffer. */
static uint8_t *pack(int type, bool with_dns, size_t *len)
{
	Dnstap__Dnstap t = DNSTAP__DNSTAP__INIT;
	Dnstap__Message m = DNSTAP__MESSAGE__INIT;
	bool query = type % 2 == 1;
	uint8_t *buf;

	m.type = type;
	m.has_socket_family = m.has_socket_protocol = true;
	m.socket_family = DNSTAP__SOCKET_FAMILY__INET;
	m.socket_protocol = DNSTAP__SOCKET_PROTOCOL__DOT;
	m.has_query_address = m.has_response_address = true;
	m.query_address = (ProtobufCBinaryData){4, (uint8_t *)client};
	m.response_address = (ProtobufCBinaryData){4, (uint8_t *)server};
	m.has_query_port = m.has_response_port = true;
	m.query_port = 40000;
	m.response_port = 853;
	m.has_query_time_sec = m.has_query_time_nsec = true;
	m.query_time_sec = 1000;
	m.query_time_nsec = 5;
	m.has_response_time_sec = m.has_response_time_nsec = true;
	m.response_time_sec = 1001;
	m.response_time_nsec = 7;
	if (with_dns && query) {
		m.has_query_message = true;
		m.query_message = (ProtobufCBinaryData){sizeof(dns_query), (uint8_t *)dns_query};
	} else if (with_dns) {
		m.has_response_message = true;
		m.response_message = (ProtobufCBinaryData){sizeof(dns_query), (uint8_t *)dns_query};
	}
	t.type = DNSTAP__DNSTAP__TYPE__MESSAGE;
	t.message = &m;
	t.has_identity = true;
	t.identity = (ProtobufCBinaryData){4, (uint8_t *)"res1"};
	*len = dnstap__dnstap__get_packed_size(&t);
	buf = malloc(*len);
	assert_non_null(buf);
	dnstap__dnstap__pack(&t, buf);
	return buf;
}

static void decode(struct dnstap_decoder *d, int type, struct dnstap_packet *p, int want)
{
	size_t len;
	uint8_t *buf = pack(type, true, &len);
	char err[128];

	assert_int_equal(dnstap_decode(d, buf, len, p, err, sizeof(err)), want);
	free(buf);
}

/* The client is the query's initiator; the logging side says the direction. */
static void test_vantage_and_endpoints(void **state)
{
	struct dnstap_decoder *d = dnstap_decoder_new();
	struct dnstap_packet p;

	decode(d, DNSTAP__MESSAGE__TYPE__CLIENT_QUERY, &p, 1);
	assert_int_equal(p.meta.dir, DNSSNOOP_INGRESS);
	assert_memory_equal(p.meta.saddr, client, 4);
	assert_memory_equal(p.meta.daddr, server, 4);
	assert_int_equal(p.meta.sport, 40000);
	assert_int_equal(p.meta.dport, 853);
	assert_int_equal(p.meta.ts_ns, 1000000000005ULL);
	assert_int_equal(p.meta.proto, IPPROTO_TCP); /* DoT runs on TCP */
	assert_int_equal(p.meta.family, AF_INET);
	assert_string_equal(p.meta.vantage->type, "CLIENT_QUERY");
	assert_string_equal(p.meta.vantage->transport, "dot");
	assert_string_equal(p.meta.vantage->identity, "res1");
	assert_null(p.meta.vantage->version);
	assert_int_equal(p.len, sizeof(dns_query));

	decode(d, DNSTAP__MESSAGE__TYPE__CLIENT_RESPONSE, &p, 1);
	assert_int_equal(p.meta.dir, DNSSNOOP_EGRESS);
	assert_memory_equal(p.meta.saddr, server, 4); /* the response comes from the server */
	assert_int_equal(p.meta.dport, 40000);
	assert_int_equal(p.meta.ts_ns, 1001000000007ULL);

	decode(d, DNSTAP__MESSAGE__TYPE__RESOLVER_QUERY, &p, 1);
	assert_int_equal(p.meta.dir, DNSSNOOP_EGRESS);
	assert_memory_equal(p.meta.saddr, client, 4);
	decode(d, DNSTAP__MESSAGE__TYPE__STUB_RESPONSE, &p, 1);
	assert_int_equal(p.meta.dir, DNSSNOOP_INGRESS);
	decode(d, DNSTAP__MESSAGE__TYPE__AUTH_RESPONSE, &p, 1);
	assert_int_equal(p.meta.dir, DNSSNOOP_EGRESS);
	dnstap_decoder_free(d);
}

/* Vantages are kept once per (type, transport, identity, version). */
static void test_vantages_interned(void **state)
{
	struct dnstap_decoder *d = dnstap_decoder_new();
	struct dnstap_packet p;
	const struct pkt_vantage *first;

	decode(d, DNSTAP__MESSAGE__TYPE__CLIENT_QUERY, &p, 1);
	first = p.meta.vantage;
	decode(d, DNSTAP__MESSAGE__TYPE__CLIENT_RESPONSE, &p, 1);
	assert_ptr_not_equal(p.meta.vantage, first);
	decode(d, DNSTAP__MESSAGE__TYPE__CLIENT_QUERY, &p, 1);
	assert_ptr_equal(p.meta.vantage, first);
	assert_string_equal(first->source, "dnstap");
	dnstap_decoder_free(d);
}

static void test_no_message_and_garbage(void **state)
{
	struct dnstap_decoder *d = dnstap_decoder_new();
	struct dnstap_packet p;
	struct dnstap_stats st;
	char err[128] = "";
	size_t len;
	uint8_t *buf = pack(DNSTAP__MESSAGE__TYPE__CLIENT_QUERY, false, &len);

	assert_int_equal(dnstap_decode(d, buf, len, &p, err, sizeof(err)), 0);
	free(buf);
	assert_int_equal(dnstap_decode(d, (const uint8_t *)"\xff\xff\xff", 3, &p, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "not a dnstap message"));
	dnstap_decoder_stats(d, &st);
	assert_int_equal(st.frames, 2);
	assert_int_equal(st.no_message, 1);
	assert_int_equal(st.bad, 1);
	assert_int_equal(st.messages, 0);
	assert_null(dnstap_type_name(15));
	assert_string_equal(dnstap_type_name(14), "UPDATE_RESPONSE");
	dnstap_decoder_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames_split_wherever_bytes_stop),
		cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_vantage_and_endpoints),
		cmocka_unit_test(test_vantages_interned),
		cmocka_unit_test(test_no_message_and_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
