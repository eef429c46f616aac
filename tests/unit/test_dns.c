// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the DNS decoder (user/proto/dns.c) on real messages.
 *
 * The fixtures below are DNS payloads captured with tcpdump on lo while
 * dig queried a throwaway nsd 4.6 (127.0.0.1@5399) serving a small zone,
 * plus hand-made malformed messages (names starting with evil_/edge_).
 * The expected strings were checked against dig's and tshark's decoding
 * of the same bytes (with dig's trailing dot dropped). Each fixture is
 * also tests/fixtures/dns/NAME.bin, the fuzzer's seed corpus; one test
 * checks the two copies agree.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "proto/dns.h"

/* ------------------------------------------------------------------ */
/* Fixtures (hex of the DNS payload)                                   */

static const char fx_edge_name_255[] = /* 273 bytes */
	"1008010000010000000000003f616161616161616161616161616161616161616161616161616161"
	"616161616161616161616161616161616161616161616161616161616161616161616161c0520001"
	"00013f62626262626262626262626262626262626262626262626262626262626262626262626262"
	"62626262626262626262626262626262626262626262626262623f63636363636363636363636363"
	"63636363636363636363636363636363636363636363636363636363636363636363636363636363"
	"636363636363636363633d6464646464646464646464646464646464646464646464646464646464"
	"646464646464646464646464646464646464646464646464646464646464646400";

static const char fx_evil_ancount[] = /* 35 bytes */
	"100981800001ffff0000000001610000010001c00c000100010000012c0004c0000207";

static const char fx_evil_fwd_chain[] = /* 31 bytes */
	"100401000001000000000000c01200010001c014c016c018c01a03666f6f00";

static const char fx_evil_garbage[] = /* 96 bytes */
	"e24786502419c20c75817a03adcf9bac7a51c6c6fd194f980f6402442eaff075cc8e57b4d25e1a18"
	"841d47c687e73e0044a8548e575a650c2823997644e3a8a81dd07ae21c0e90c448aa5f0b87b13f3f"
	"e3e73c31670ab267ad00800eb9dd7e32";

static const char fx_evil_label_64[] = /* 82 bytes */
	"10060100000100000000000040616161616161616161616161616161616161616161616161616161"
	"61616161616161616161616161616161616161616161616161616161616161616161616161000001"
	"0001";

static const char fx_evil_label_loop[] = /* 37 bytes */
	"100381800001000100000000016100000100010161c013000100010000003c0004c0000201";

static const char fx_evil_name_257[] = /* 275 bytes */
	"1007010000010000000000003f616161616161616161616161616161616161616161616161616161"
	"616161616161616161616161616161616161616161616161616161616161616161616161c0520001"
	"00013f62626262626262626262626262626262626262626262626262626262626262626262626262"
	"62626262626262626262626262626262626262626262626262623f63636363636363636363636363"
	"63636363636363636363636363636363636363636363636363636363636363636363636363636363"
	"636363636363636363633f6464646464646464646464646464646464646464646464646464646464"
	"6464646464646464646464646464646464646464646464646464646464646464646400";

static const char fx_evil_ptr_chain_65[] = /* 151 bytes */
	"100501000001000000000000c01200010001c014c016c018c01ac01cc01ec020c022c024c026c028"
	"c02ac02cc02ec030c032c034c036c038c03ac03cc03ec040c042c044c046c048c04ac04cc04ec050"
	"c052c054c056c058c05ac05cc05ec060c062c064c066c068c06ac06cc06ec070c072c074c076c078"
	"c07ac07cc07ec080c082c084c086c088c08ac08cc08ec090c09203666f6f00";

static const char fx_evil_ptr_self[] = /* 18 bytes */
	"100101000001000000000000c00c00010001";

static const char fx_evil_ptr_two_loop[] = /* 35 bytes */
	"10028180000100010000000001610000010001c015c01300010000003c0004c0000201";

static const char fx_query_a_mixed_case[] = /* 57 bytes */
	"f87e0120000100000000000103577757074578616d706c650454455354000001000100002904d000"
	"000000000c000a0008ecb3c89b6d4d7b95";

static const char fx_query_aaaa_ecs[] = /* 68 bytes */
	"bff90120000100000000000103777777076578616d706c65047465737400001c000100002904d000"
	"00000000170008000700011800c00002000a00083f22e539bc1980a7";

static const char fx_query_do_ecs6[] = /* 72 bytes */
	"163d0120000100000000000103777777076578616d706c65047465737400001c000100002904d000"
	"008000001b0008000b0002380020010db8abcd00000a0008395e6991ca4de3da";

static const char fx_query_edns1[] = /* 57 bytes */
	"6f4b0120000100000000000103777777076578616d706c650474657374000001000100002904d000"
	"010000000c000a0008364ac5b43ce8a0f5";

static const char fx_query_escaped_name[] = /* 63 bytes */
	"19ca0120000100000000000109612e622063226400ff076578616d706c6504746573740000010001"
	"00002904d000000000000c000a00081549e194ba9205a6";

static const char fx_query_mx[] = /* 53 bytes */
	"dc0101200001000000000001076578616d706c65047465737400000f000100002904d00000000000"
	"0c000a000868a0c0f06c7b1bde";

static const char fx_query_ns_cookie_nsid[] = /* 57 bytes */
	"a2e901200001000000000001076578616d706c650474657374000002000100002904d00000000000"
	"1000030000000a00080123456789abcdef";

static const char fx_resp_a_mixed_case[] = /* 111 bytes */
	"f87e8500000100020001000203577757074578616d706c6504544553540000010001c00c00010001"
	"00000e100004c000020ac00c0001000100000e100004c000020bc0100002000100000e100006036e"
	"7331c010c04e0001000100000e100004c000023500002904d0000000000000";

static const char fx_resp_aaaa[] = /* 135 bytes */
	"bff98500000100020001000203777777076578616d706c65047465737400001c0001c00c001c0001"
	"0000012c001020010db8000000000000000000000010c00c001c00010000012c0010000000000000"
	"00000000ffffc000020ac0100002000100000e100006036e7331c010c0660001000100000e100004"
	"c000023500002904d0000000000000";

static const char fx_resp_badvers[] = /* 45 bytes */
	"6f4b8100000100000000000103777777076578616d706c650474657374000001000100002904d001"
	"0000000000";

static const char fx_resp_caa[] = /* 134 bytes */
	"727585000001000200010002076578616d706c6504746573740001010001c00c0101000100000e10"
	"0016000569737375656c657473656e63727970742e6f7267c00c0101000100000e10000d80037462"
	"73556e226b6e6f776ec00c0002000100000e100006036e7331c00cc0650001000100000e100004c0"
	"00023500002904d0000000000000";

static const char fx_resp_cname[] = /* 131 bytes */
	"a3818500000100030001000205636e616d65076578616d706c6504746573740000010001c00c0005"
	"000100000e10000603777777c012c0300001000100000e100004c000020ac0300001000100000e10"
	"0004c000020bc0120002000100000e100006036e7331c012c0620001000100000e100004c0000235"
	"00002904d0000000000000";

static const char fx_resp_do[] = /* 135 bytes */
	"163d8500000100020001000203777777076578616d706c65047465737400001c0001c00c001c0001"
	"0000012c001020010db8000000000000000000000010c00c001c00010000012c0010000000000000"
	"00000000ffffc000020ac0100002000100000e100006036e7331c010c0660001000100000e100004"
	"c000023500002904d0000080000000";

static const char fx_resp_escaped_name[] = /* 101 bytes */
	"19ca8500000100010001000209612e622063226400ff076578616d706c6504746573740000010001"
	"c00c0001000100000e100004c0000263c0160002000100000e100006036e7331c016c04400010001"
	"00000e100004c000023500002904d0000000000000";

static const char fx_resp_https[] = /* 233 bytes */
	"b10d8500000100010001000203737663076578616d706c6504746573740000410001c00c00410001"
	"00000e10008e000100000100060268320268330003000220fb00040008c0000201c0000202000500"
	"470043fe0d003f040020002096dbf75f381640b50539e7f28fc854b0e40d9c13dc56bbf241511d65"
	"5e73c4e30004000100010010636c6f7564666c6172652d6563682e636f6d00000006002020010db8"
	"00000000000000000000000120010db8000000010000000000000002c0100002000100000e100006"
	"036e7331c010c0c80001000100000e100004c000023500002904d0000000000000";

static const char fx_resp_https_alias[] = /* 113 bytes */
	"a9568500000100010001000205616c696173076578616d706c6504746573740000410001c00c0041"
	"000100000e100014000003737663076578616d706c65047465737400c0120002000100000e100006"
	"036e7331c012c0500001000100000e100004c000023500002904d0000000000000";

static const char fx_resp_mx[] = /* 145 bytes */
	"dc0185000001000200010003076578616d706c65047465737400000f0001c00c000f000100000e10"
	"0009000a046d61696cc00cc00c000f000100000e1000150014056d61696c32076578616d706c6503"
	"6e657400c00c0002000100000e100006036e7331c00cc02c0001000100000e100004c0000219c060"
	"0001000100000e100004c000023500002904d0000000000000";

static const char fx_resp_mx_cut60[] = /* 60 bytes */
	"dc0185000001000200010003076578616d706c65047465737400000f0001c00c000f000100000e10"
	"0009000a046d61696cc00cc00c000f000100000e";

static const char fx_resp_ns_cookie[] = /* 75 bytes */
	"a2e985000001000100000002076578616d706c6504746573740000020001c00c0002000100000e10"
	"0006036e7331c00cc02a0001000100000e100004c000023500002904d0000000000000";

static const char fx_resp_nxdomain[] = /* 98 bytes */
	"44e585030001000000010001046e6f7065076578616d706c6504746573740000010001c011000600"
	"010000012c0028036e7331c0110b686f73742e6d6173746572c01178a3f17500001c2000000e1000"
	"1275000000012c00002904d0000000000000";

static const char fx_resp_ptr[] = /* 97 bytes */
	"47298500000100010001000203707472076578616d706c65047465737400000c0001c00c000c0001"
	"00000e10000603777777c010c0100002000100000e100006036e7331c010c0400001000100000e10"
	"0004c000023500002904d0000000000000";

static const char fx_resp_soa_noedns[] = /* 112 bytes */
	"497385000001000100010001076578616d706c6504746573740000060001c00c0006000100000e10"
	"0028036e7331c00c0b686f73742e6d6173746572c00c78a3f17500001c2000000e10001275000000"
	"012cc00c0002000100000e100002c02ac02a0001000100000e100004c0000235";

static const char fx_resp_specials[] = /* 105 bytes */
	"059a850000010001000100020d782879297a3b77407624755c74076578616d706c65047465737400"
	"00010001c00c0001000100000e100004c0000262c01a0002000100000e100006036e7331c01ac048"
	"0001000100000e100004c000023500002904d0000000000000";

static const char fx_resp_srv[] = /* 121 bytes */
	"dcc485000001000100010002045f736970045f746370076578616d706c6504746573740000210001"
	"c00c0021000100000e100018000a003c13c403736970076578616d706c65047465737400c0160002"
	"000100000e100006036e7331c016c0580001000100000e100004c000023500002904d00000000000"
	"00";

static const char fx_resp_svcb[] = /* 139 bytes */
	"83a7850000010001000100020473766332076578616d706c6504746573740000400001c00c004000"
	"0100000e10002f000203737663076578616d706c6504746573740000000004000100030001000302"
	"68320003000201bbfde800026869c0110002000100000e100006036e7331c011c06a000100010000"
	"0e100004c000023500002904d0000000000000";

static const char fx_resp_txt[] = /* 130 bytes */
	"d9188500000100010001000203747874076578616d706c6504746573740000100001c00c00100001"
	"00000e1000270b68656c6c6f20776f726c640f7361792022686922205c206261636b0962696e00ff"
	"09656e6400c0100002000100000e100006036e7331c010c0610001000100000e100004c000023500"
	"002904d0000000000000";

struct fixture {
	const char *name;
	const char *hex;
};

static const struct fixture fixtures[] = {
	{"edge_name_255", fx_edge_name_255},
	{"evil_ancount", fx_evil_ancount},
	{"evil_fwd_chain", fx_evil_fwd_chain},
	{"evil_garbage", fx_evil_garbage},
	{"evil_label_64", fx_evil_label_64},
	{"evil_label_loop", fx_evil_label_loop},
	{"evil_name_257", fx_evil_name_257},
	{"evil_ptr_chain_65", fx_evil_ptr_chain_65},
	{"evil_ptr_self", fx_evil_ptr_self},
	{"evil_ptr_two_loop", fx_evil_ptr_two_loop},
	{"query_a_mixed_case", fx_query_a_mixed_case},
	{"query_aaaa_ecs", fx_query_aaaa_ecs},
	{"query_do_ecs6", fx_query_do_ecs6},
	{"query_edns1", fx_query_edns1},
	{"query_escaped_name", fx_query_escaped_name},
	{"query_mx", fx_query_mx},
	{"query_ns_cookie_nsid", fx_query_ns_cookie_nsid},
	{"resp_a_mixed_case", fx_resp_a_mixed_case},
	{"resp_aaaa", fx_resp_aaaa},
	{"resp_badvers", fx_resp_badvers},
	{"resp_caa", fx_resp_caa},
	{"resp_cname", fx_resp_cname},
	{"resp_do", fx_resp_do},
	{"resp_escaped_name", fx_resp_escaped_name},
	{"resp_https", fx_resp_https},
	{"resp_https_alias", fx_resp_https_alias},
	{"resp_mx", fx_resp_mx},
	{"resp_mx_cut60", fx_resp_mx_cut60},
	{"resp_ns_cookie", fx_resp_ns_cookie},
	{"resp_nxdomain", fx_resp_nxdomain},
	{"resp_ptr", fx_resp_ptr},
	{"resp_soa_noedns", fx_resp_soa_noedns},
	{"resp_specials", fx_resp_specials},
	{"resp_srv", fx_resp_srv},
	{"resp_svcb", fx_resp_svcb},
	{"resp_txt", fx_resp_txt},
};

#define N_FIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))
#define MAX_MSG	   4096

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static size_t from_hex(const char *hex, uint8_t *buf, size_t cap)
{
	size_t n = strlen(hex) / 2;

	assert_true(strlen(hex) % 2 == 0);
	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		assert_true(hi >= 0 && lo >= 0);
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	return n;
}

/* Test state: one message buffer and its parse, reused by every test. */
struct ctx {
	uint8_t buf[MAX_MSG];
	size_t len;
	struct dns_msg msg;
	int rc;
};

static int ctx_setup(void **state)
{
	static struct ctx c;

	memset(&c, 0, sizeof(c));
	*state = &c;
	return 0;
}

static struct dns_msg *parse_hex(void **state, const char *hex)
{
	struct ctx *c = *state;

	c->len = from_hex(hex, c->buf, sizeof(c->buf));
	c->rc = dns_parse(c->buf, c->len, &c->msg);
	return &c->msg;
}

static struct dns_msg *parse_bytes(void **state, const uint8_t *b, size_t n)
{
	struct ctx *c = *state;

	assert_true(n <= sizeof(c->buf));
	memcpy(c->buf, b, n);
	c->len = n;
	c->rc = dns_parse(c->buf, c->len, &c->msg);
	return &c->msg;
}

static int last_rc(void **state)
{
	return ((struct ctx *)*state)->rc;
}

static void expect_counts(const struct dns_msg *m, unsigned qd, unsigned an, unsigned ns,
			  unsigned ar)
{
	assert_int_equal(m->section_count[0], qd);
	assert_int_equal(m->section_count[DNS_SEC_ANSWER], an);
	assert_int_equal(m->section_count[DNS_SEC_AUTHORITY], ns);
	assert_int_equal(m->section_count[DNS_SEC_ADDITIONAL], ar);
}

static void expect_question(const struct dns_msg *m, const char *qname, uint16_t qtype)
{
	assert_true(m->has_question);
	assert_string_equal(m->qname, qname);
	assert_int_equal(m->qname_len, strlen(qname));
	assert_int_equal(m->qtype, qtype);
	assert_int_equal(m->qclass, 1);
}

/* Checks rrs[i] completely: section, owner, type, class IN, TTL, rdata text. */
static void expect_rr(const struct dns_msg *m, unsigned i, int section, const char *name,
		      const char *type, uint32_t ttl, const char *data)
{
	char text[DNS_MAX_NAME_TEXT], rdata[1024], tb[16], cb[16];

	assert_true(i < m->nrrs);
	const struct dns_rr *rr = &m->rrs[i];

	assert_int_equal(rr->section, section);
	assert_int_equal(dns_rr_name(m, rr, text), strlen(name));
	assert_string_equal(text, name);
	assert_string_equal(dns_type_str(rr->type, tb), type);
	assert_string_equal(dns_class_str(rr->rclass, cb), "IN");
	assert_int_equal(rr->ttl, ttl);
	assert_int_equal(dns_rr_data(m, rr, rdata, sizeof(rdata)), strlen(data));
	assert_string_equal(rdata, data);
}

static void expect_options(const struct dns_msg *m, const char *text)
{
	char out[512];

	assert_int_equal(dns_edns_options_text(m, out, sizeof(out)), strlen(text));
	assert_string_equal(out, text);
}

static void expect_rcode(const struct dns_msg *m, const char *rcode)
{
	char b[16];

	assert_string_equal(dns_rcode_str(m->rcode, b), rcode);
}

/* The nsd responses all end with the same NS in authority and its glue. */
static void expect_ns_glue(const struct dns_msg *m, unsigned first)
{
	expect_rr(m, first, DNS_SEC_AUTHORITY, "example.test", "NS", 3600, "ns1.example.test");
	expect_rr(m, first + 1, DNS_SEC_ADDITIONAL, "ns1.example.test", "A", 3600, "192.0.2.53");
}

/* A message under construction, for the hand-made cases. */
struct wire {
	uint8_t b[MAX_MSG];
	size_t n;
};

static void w8(struct wire *w, uint8_t v)
{
	assert_true(w->n < sizeof(w->b));
	w->b[w->n++] = v;
}

static void w16(struct wire *w, uint16_t v)
{
	w8(w, (uint8_t)(v >> 8));
	w8(w, (uint8_t)v);
}

static void w32(struct wire *w, uint32_t v)
{
	w16(w, (uint16_t)(v >> 16));
	w16(w, (uint16_t)v);
}

static void wmem(struct wire *w, const void *p, size_t n)
{
	assert_true(w->n + n <= sizeof(w->b));
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

#define WLIT(w, s) wmem(w, s, sizeof(s) - 1)

static void whdr(struct wire *w, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns,
		 uint16_t ar)
{
	w->n = 0;
	w16(w, id);
	w16(w, flags);
	w16(w, qd);
	w16(w, an);
	w16(w, ns);
	w16(w, ar);
}

/* Question "a." type A class IN: offsets 12..18. */
static void wquestion_a(struct wire *w)
{
	WLIT(w, "\x01"
		"a\x00");
	w16(w, 1);
	w16(w, 1);
}

/* An RR's fixed part after its owner name. */
static void wrr(struct wire *w, uint16_t type, uint16_t rclass, uint32_t ttl, uint16_t rdlen)
{
	w16(w, type);
	w16(w, rclass);
	w32(w, ttl);
	w16(w, rdlen);
}

/* ------------------------------------------------------------------ */
/* Real messages                                                       */

static void test_query_mixed_case(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_query_a_mixed_case);
	char b[16];

	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->len, 57);
	assert_int_equal(m->id, 0xf87e);
	assert_int_equal(m->flags, DNS_FLAG_RD | DNS_FLAG_AD);
	assert_false(dns_is_response(m));
	assert_string_equal(dns_opcode_str(m->opcode, b), "QUERY");
	expect_rcode(m, "NOERROR");
	assert_int_equal(m->qdcount, 1);
	assert_int_equal(m->arcount, 1);
	/* The question keeps the case it was asked in (dig: WwW.Example.TEST.). */
	expect_question(m, "WwW.Example.TEST", 1);
	expect_counts(m, 1, 0, 0, 1);
	assert_int_equal(m->nrrs, 0); /* the OPT is not an indexed RR */
	assert_int_equal(m->rrs_seen, 0);
	assert_true(m->edns.present);
	assert_int_equal(m->edns.udp_size, 1232);
	assert_int_equal(m->edns.version, 0);
	assert_false(m->edns.do_bit);
	assert_int_equal(m->edns.noptions, 1);
	assert_false(m->edns.has_ecs);
	expect_options(m, "COOKIE ecb3c89b6d4d7b95");
}

static void test_resp_compressed(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_resp_a_mixed_case);

	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->id, 0xf87e);
	assert_true(dns_is_response(m));
	assert_int_equal(m->flags, DNS_FLAG_QR | DNS_FLAG_AA | DNS_FLAG_RD);
	expect_rcode(m, "NOERROR");
	expect_question(m, "WwW.Example.TEST", 1);
	expect_counts(m, 1, 2, 1, 2);
	assert_int_equal(m->nrrs, 4);
	assert_int_equal(m->rrs_seen, 4);
	/* Every owner name is a pointer into the question, so the case follows it. */
	assert_int_equal(m->rrs[0].name_off, 12 + 22);
	assert_int_equal(m->buf[m->rrs[0].name_off], 0xc0);
	assert_int_equal(m->buf[m->rrs[0].name_off + 1], 0x0c);
	expect_rr(m, 0, DNS_SEC_ANSWER, "WwW.Example.TEST", "A", 3600, "192.0.2.10");
	expect_rr(m, 1, DNS_SEC_ANSWER, "WwW.Example.TEST", "A", 3600, "192.0.2.11");
	expect_rr(m, 2, DNS_SEC_AUTHORITY, "Example.TEST", "NS", 3600, "ns1.Example.TEST");
	expect_rr(m, 3, DNS_SEC_ADDITIONAL, "ns1.Example.TEST", "A", 3600, "192.0.2.53");
	assert_true(m->edns.present);
	assert_int_equal(m->edns.noptions, 0);
	expect_options(m, "");
}

static void test_query_ecs_v4(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_query_aaaa_ecs);
	static const uint8_t addr[16] = {192, 0, 2};

	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->id, 0xbff9);
	expect_question(m, "www.example.test", 28);
	assert_true(m->edns.present);
	assert_int_equal(m->edns.noptions, 2);
	assert_true(m->edns.has_ecs);
	assert_int_equal(m->edns.ecs.family, 1);
	assert_int_equal(m->edns.ecs.source_prefix, 24);
	assert_int_equal(m->edns.ecs.scope_prefix, 0);
	assert_memory_equal(m->edns.ecs.addr, addr, 16);
	assert_int_equal(m->edns.rdlen, 23); /* tshark: Data length: 23 */
	expect_options(m, "ECS 192.0.2.0/24/0 COOKIE 3f22e539bc1980a7");
}

static void test_query_ecs_v6_do(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_query_do_ecs6);
	static const uint8_t addr[16] = {0x20, 0x01, 0x0d, 0xb8, 0xab, 0xcd, 0x00};

	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->id, 0x163d);
	expect_question(m, "www.example.test", 28);
	assert_true(m->edns.do_bit); /* tshark: Z: 0x8000, DO bit set */
	assert_int_equal(m->edns.z, 0);
	assert_int_equal(m->edns.ext_rcode, 0);
	assert_true(m->edns.has_ecs);
	assert_int_equal(m->edns.ecs.family, 2);
	assert_int_equal(m->edns.ecs.source_prefix, 56);
	assert_memory_equal(m->edns.ecs.addr, addr, 16);
	expect_options(m, "ECS 2001:db8:abcd::/56/0 COOKIE 395e6991ca4de3da");

	m = parse_hex(state, fx_resp_do);
	assert_int_equal(m->id, 0x163d);
	assert_true(m->edns.do_bit);
	expect_counts(m, 1, 2, 1, 2);
}

static void test_resp_aaaa(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_resp_aaaa);

	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->id, 0xbff9);
	expect_question(m, "www.example.test", 28);
	expect_counts(m, 1, 2, 1, 2);
	expect_rr(m, 0, DNS_SEC_ANSWER, "www.example.test", "AAAA", 300, "2001:db8::10");
	expect_rr(m, 1, DNS_SEC_ANSWER, "www.example.test", "AAAA", 300, "::ffff:192.0.2.10");
	expect_ns_glue(m, 2);
}

static void test_resp_mx(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_resp_mx);

	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->id, 0xdc01);
	expect_question(m, "example.test", 15);
	expect_counts(m, 1, 2, 1, 3);
	assert_int_equal(m->nrrs, 5);
	/* "mail" + pointer to the question; the glue's owner points into that rdata. */
	expect_rr(m, 0, DNS_SEC_ANSWER, "example.test", "MX", 3600, "10 mail.example.test");
	expect_rr(m, 1, DNS_SEC_ANSWER, "example.test", "MX", 3600, "20 mail2.example.net");
	expect_rr(m, 2, DNS_SEC_AUTHORITY, "example.test", "NS", 3600, "ns1.example.test");
	expect_rr(m, 3, DNS_SEC_ADDITIONAL, "mail.example.test", "A", 3600, "192.0.2.25");
	expect_rr(m, 4, DNS_SEC_ADDITIONAL, "ns1.example.test", "A", 3600, "192.0.2.53");
}

static void test_resp_txt(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_resp_txt);

	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->id, 0xd918);
	expect_question(m, "txt.example.test", 16);
	expect_counts(m, 1, 1, 1, 2);
	/* Four strings: quotes and backslash escaped, 0x00 0xff 0x09 as \DDD, one empty. */
	expect_rr(m, 0, DNS_SEC_ANSWER, "txt.example.test", "TXT", 3600,
		  "\"hello world\" \"say \\\"hi\\\" \\\\ back\" \"bin\\000\\255\\009end\" \"\"");
	expect_ns_glue(m, 1);
}

static void test_resp_https(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_resp_https);

	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->id, 0xb10d);
	expect_question(m, "svc.example.test", 65);
	expect_counts(m, 1, 1, 1, 2);
	expect_rr(m, 0, DNS_SEC_ANSWER, "svc.example.test", "HTTPS", 3600,
		  "1 . alpn=\"h2,h3\" port=8443 ipv4hint=192.0.2.1,192.0.2.2 "
		  "ech=AEP+DQA/BAAgACCW2/dfOBZAtQU55/KPyFSw5A2cE9xWu/"
		  "JBUR1lXnPE4wAEAAEAAQAQY2xvdWRmbGFyZS1lY2guY29tAAA= "
		  "ipv6hint=2001:db8::1,2001:db8:0:1::2");
	expect_ns_glue(m, 1);

	m = parse_hex(state, fx_resp_https_alias);
	assert_int_equal(m->status, 0);
	expect_rr(m, 0, DNS_SEC_ANSWER, "alias.example.test", "HTTPS", 3600, "0 svc.example.test");
}

static void test_resp_svcb(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_resp_svcb);

	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->id, 0x83a7);
	expect_question(m, "svc2.example.test", 64);
	expect_rr(m, 0, DNS_SEC_ANSWER, "svc2.example.test", "SVCB", 3600,
		  "2 svc.example.test mandatory=alpn,port alpn=\"h2\" port=443 key65000=\"hi\"");
	expect_ns_glue(m, 1);
}

static void test_resp_srv_caa_ptr_cname(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_resp_srv);

	assert_int_equal(m->status, 0);
	assert_int_equal(m->id, 0xdcc4);
	expect_question(m, "_sip._tcp.example.test", 33);
	expect_rr(m, 0, DNS_SEC_ANSWER, "_sip._tcp.example.test", "SRV", 3600,
		  "10 60 5060 sip.example.test");
	expect_ns_glue(m, 1);

	m = parse_hex(state, fx_resp_caa);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->id, 0x7275);
	expect_question(m, "example.test", 257);
	expect_rr(m, 0, DNS_SEC_ANSWER, "example.test", "CAA", 3600, "0 issue \"letsencrypt.org\"");
	expect_rr(m, 1, DNS_SEC_ANSWER, "example.test", "CAA", 3600, "128 tbs \"Un\\\"known\"");
	expect_ns_glue(m, 2);

	m = parse_hex(state, fx_resp_ptr);
	assert_int_equal(m->status, 0);
	expect_question(m, "ptr.example.test", 12);
	expect_rr(m, 0, DNS_SEC_ANSWER, "ptr.example.test", "PTR", 3600, "www.example.test");

	m = parse_hex(state, fx_resp_cname);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->id, 0xa381);
	expect_question(m, "cname.example.test", 1);
	expect_counts(m, 1, 3, 1, 2);
	expect_rr(m, 0, DNS_SEC_ANSWER, "cname.example.test", "CNAME", 3600, "www.example.test");
	/* These owners point into the CNAME's rdata. */
	expect_rr(m, 1, DNS_SEC_ANSWER, "www.example.test", "A", 3600, "192.0.2.10");
	expect_rr(m, 2, DNS_SEC_ANSWER, "www.example.test", "A", 3600, "192.0.2.11");
	expect_ns_glue(m, 3);
}

static void test_resp_soa_without_edns(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_resp_soa_noedns);

	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->id, 0x4973);
	expect_question(m, "example.test", 6);
	expect_counts(m, 1, 1, 1, 1);
	assert_false(m->edns.present);
	expect_options(m, "");
	expect_rr(m, 0, DNS_SEC_ANSWER, "example.test", "SOA", 3600,
		  "ns1.example.test host\\.master.example.test 2024010101 7200 3600 1209600 300");
	expect_ns_glue(m, 1);
}

static void test_resp_nxdomain(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_resp_nxdomain);

	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->id, 0x44e5);
	assert_int_equal(m->rcode, 3);
	expect_rcode(m, "NXDOMAIN");
	expect_question(m, "nope.example.test", 1);
	expect_counts(m, 1, 0, 1, 1);
	assert_int_equal(m->nrrs, 1);
	/* Owner "example.test" is a pointer into the middle of the question. */
	expect_rr(m, 0, DNS_SEC_AUTHORITY, "example.test", "SOA", 300,
		  "ns1.example.test host\\.master.example.test 2024010101 7200 3600 1209600 300");
}

static void test_resp_badvers(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_query_edns1);

	assert_int_equal(m->edns.version, 1);

	m = parse_hex(state, fx_resp_badvers);
	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->id, 0x6f4b);
	/* Header rcode 0, EDNS extended rcode 1: 1 << 4 = 16 (tshark). */
	assert_int_equal(m->flags & 0xf, 0);
	assert_int_equal(m->edns.ext_rcode, 1);
	assert_int_equal(m->edns.version, 0);
	assert_int_equal(m->rcode, 16);
	expect_rcode(m, "BADVERS");
	expect_counts(m, 1, 0, 0, 1);
	assert_int_equal(m->nrrs, 0);
}

static void test_escaped_names_real(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_query_escaped_name);

	/* dig prints a\.b\032c\"d\000\255.example.test. for the same bytes. */
	assert_int_equal(last_rc(state), DNS_OK);
	expect_question(m, "a\\.b\\032c\\\"d\\000\\255.example.test", 1);

	m = parse_hex(state, fx_resp_escaped_name);
	expect_rr(m, 0, DNS_SEC_ANSWER, "a\\.b\\032c\\\"d\\000\\255.example.test", "A", 3600,
		  "192.0.2.99");

	m = parse_hex(state, fx_resp_specials);
	expect_question(m, "x\\(y\\)z\\;w\\@v\\$u\\\\t.example.test", 1);
	expect_rr(m, 0, DNS_SEC_ANSWER, "x\\(y\\)z\\;w\\@v\\$u\\\\t.example.test", "A", 3600,
		  "192.0.2.98");
	expect_ns_glue(m, 1);
}

static void test_query_nsid_cookie(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_query_ns_cookie_nsid);

	assert_int_equal(m->edns.noptions, 2);
	expect_options(m, "NSID COOKIE 0123456789abcdef");
	m = parse_hex(state, fx_resp_ns_cookie);
	expect_rr(m, 0, DNS_SEC_ANSWER, "example.test", "NS", 3600, "ns1.example.test");
}

static void test_truncated_in_answer(void **state)
{
	/* resp_mx cut at 60 bytes: the second MX stops after its TTL. */
	const struct dns_msg *m = parse_hex(state, fx_resp_mx_cut60);

	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, DNS_F_TRUNCATED);
	assert_int_equal(m->id, 0xdc01);
	assert_int_equal(m->ancount, 2);
	assert_int_equal(m->arcount, 3);
	expect_question(m, "example.test", 15);
	expect_counts(m, 1, 1, 0, 0);
	assert_int_equal(m->nrrs, 1);
	assert_int_equal(m->rrs_seen, 1);
	expect_rr(m, 0, DNS_SEC_ANSWER, "example.test", "MX", 3600, "10 mail.example.test");
	assert_false(m->edns.present);

	/* Every shorter cut of a real response must also be safe and consistent. */
	struct ctx *c = *state;
	uint8_t whole[MAX_MSG];
	size_t n = from_hex(fx_resp_https, whole, sizeof(whole));

	for (size_t cut = 0; cut < n; cut++) {
		m = parse_bytes(state, whole, cut);
		if (cut < DNS_HEADER_LEN) {
			assert_int_equal(c->rc, DNS_ERR_SHORT);
			continue;
		}
		assert_true(m->status & DNS_F_TRUNCATED);
		assert_int_equal(c->rc, cut < 12 + 22 ? DNS_ERR_QUESTION : DNS_OK);
		assert_true(m->nrrs <= 3); /* the OPT, last, is never complete */
		assert_false(m->edns.present);
	}
}

/* ------------------------------------------------------------------ */
/* Malicious and malformed messages                                    */

static void test_pointer_loops(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_evil_ptr_self);

	assert_int_equal(last_rc(state), DNS_ERR_QUESTION);
	assert_int_equal(m->status, DNS_F_BAD_NAME);
	assert_int_equal(m->id, 0x1001);
	assert_false(m->has_question);
	assert_string_equal(m->qname, "");

	/* Answer owner at 19 points to 21, which points back to 19. */
	m = parse_hex(state, fx_evil_ptr_two_loop);
	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, DNS_F_BAD_NAME);
	expect_question(m, "a", 1);
	expect_counts(m, 1, 0, 0, 0);
	assert_int_equal(m->nrrs, 0);

	/* "a" + pointer to itself: a.a.a... stopped by the 255-byte limit. */
	m = parse_hex(state, fx_evil_label_loop);
	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, DNS_F_BAD_NAME);
	assert_int_equal(m->nrrs, 0);

	char out[DNS_MAX_NAME_TEXT];

	assert_int_equal(dns_name_text(m, 19, out), -1);
	assert_string_equal(out, "");
	assert_int_equal(dns_name_text(m, 12, out), 1);
	assert_string_equal(out, "a");
}

static void test_pointer_chains(void **state)
{
	/* Question name 12 -> 18 -> 20 -> 22 -> 24 -> 26 "foo": forward but allowed. */
	const struct dns_msg *m = parse_hex(state, fx_evil_fwd_chain);

	assert_int_equal(last_rc(state), DNS_OK);
	expect_question(m, "foo", 1);
	assert_int_equal(m->status, DNS_F_TRAILING); /* the pointer targets follow */

	/* 65 pointers: one more than DNS_MAX_POINTERS. */
	m = parse_hex(state, fx_evil_ptr_chain_65);
	assert_int_equal(last_rc(state), DNS_ERR_QUESTION);
	assert_int_equal(m->status, DNS_F_BAD_NAME);

	/* Exactly DNS_MAX_POINTERS pointers is accepted: drop one link. */
	struct wire w;

	whdr(&w, 0x1010, 0x0100, 1, 0, 0, 0);
	w16(&w, 0xc012);
	w16(&w, 1);
	w16(&w, 1);
	for (int i = 0; i < DNS_MAX_POINTERS - 1; i++)
		w16(&w, (uint16_t)(0xc000 | (w.n + 2)));
	WLIT(&w, "\x03"
		 "foo\x00");
	m = parse_bytes(state, w.b, w.n);
	assert_int_equal(last_rc(state), DNS_OK);
	expect_question(m, "foo", 1);

	/* A pointer into the header is refused, as is one past the end. */
	whdr(&w, 0x1011, 0x0100, 1, 0, 0, 0);
	w16(&w, 0xc002);
	w16(&w, 1);
	w16(&w, 1);
	m = parse_bytes(state, w.b, w.n);
	assert_int_equal(last_rc(state), DNS_ERR_QUESTION);
	assert_int_equal(m->status, DNS_F_BAD_NAME);
	whdr(&w, 0x1012, 0x0100, 1, 0, 0, 0);
	w16(&w, 0xc000 | 18);
	w16(&w, 1);
	w16(&w, 1);
	m = parse_bytes(state, w.b, w.n);
	assert_int_equal(last_rc(state), DNS_ERR_QUESTION);
	assert_int_equal(m->status, DNS_F_BAD_NAME);
}

static void test_bad_labels(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_evil_label_64);

	assert_int_equal(last_rc(state), DNS_ERR_QUESTION);
	assert_int_equal(m->status, DNS_F_BAD_NAME);
	assert_int_equal(m->id, 0x1006);

	/* 0x40 (extended) and 0x80 (reserved) label types. */
	static const uint8_t types[] = {0x41, 0x80, 0xbf};

	for (size_t i = 0; i < sizeof(types); i++) {
		struct wire w;

		whdr(&w, 0x1013, 0x0100, 1, 0, 0, 0);
		w8(&w, types[i]);
		for (int j = 0; j < 0x40; j++)
			w8(&w, 'a');
		w8(&w, 0);
		w16(&w, 1);
		w16(&w, 1);
		m = parse_bytes(state, w.b, w.n);
		assert_int_equal(last_rc(state), DNS_ERR_QUESTION);
		assert_int_equal(m->status, DNS_F_BAD_NAME);
	}
}

static void test_name_length_limit(void **state)
{
	/* 63a + pointer -> 63b 63c 63d: 4 * 64 + 1 = 257 wire bytes. */
	const struct dns_msg *m = parse_hex(state, fx_evil_name_257);

	assert_int_equal(last_rc(state), DNS_ERR_QUESTION);
	assert_int_equal(m->status, DNS_F_BAD_NAME);
	assert_string_equal(m->qname, ""); /* not the 63 a's written before the failure */
	assert_int_equal(m->qname_len, 0);

	/* The same with a 61-byte last label is exactly 255 bytes: valid. */
	m = parse_hex(state, fx_edge_name_255);
	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, DNS_F_TRAILING);
	assert_int_equal(m->qname_len, 63 * 3 + 61 + 3);
	assert_int_equal(m->qname[63], '.');
	assert_int_equal(m->qname[64], 'b');
	assert_int_equal(m->qname[m->qname_len - 1], 'd');

	/* Worst-case text: 127 one-byte labels of 0xff, each "\255". */
	struct wire w;

	whdr(&w, 0x1014, 0x0100, 1, 0, 0, 0);
	for (int i = 0; i < 127; i++) {
		w8(&w, 1);
		w8(&w, 0xff);
	}
	w8(&w, 0);
	w16(&w, 1);
	w16(&w, 1);
	m = parse_bytes(state, w.b, w.n);
	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->qname_len, 127 * 4 + 126);
	assert_int_equal(strlen(m->qname), m->qname_len);
}

static void test_lying_counts(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_evil_ancount);

	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, DNS_F_TRUNCATED);
	assert_int_equal(m->ancount, 65535);
	expect_counts(m, 1, 1, 0, 0);
	assert_int_equal(m->nrrs, 1);
	expect_rr(m, 0, DNS_SEC_ANSWER, "a", "A", 300, "192.0.2.7");

	/* qdcount 2 with one question present. */
	struct wire w;

	whdr(&w, 0x1015, 0x0100, 2, 0, 0, 0);
	wquestion_a(&w);
	m = parse_bytes(state, w.b, w.n);
	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, DNS_F_TRUNCATED);
	expect_question(m, "a", 1);
	expect_counts(m, 1, 0, 0, 0);
}

static void test_garbage(void **state)
{
	/* Byte 12 is 0x75: a 0x40-type label. */
	const struct dns_msg *m = parse_hex(state, fx_evil_garbage);

	assert_int_equal(last_rc(state), DNS_ERR_QUESTION);
	assert_int_equal(m->status, DNS_F_BAD_NAME);
	assert_int_equal(m->id, 0xe247);
	assert_int_equal(m->qdcount, 0x2419);
	assert_false(m->has_question);

	/* Pseudo-random messages built around a valid header never misbehave. */
	uint32_t seed = 12345;
	uint8_t b[300];

	for (int iter = 0; iter < 20000; iter++) {
		size_t n = 12 + (seed % 280);

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			b[i] = (uint8_t)(seed >> 16);
			/* Bias toward small labels and pointers so walks go deep. */
			if (i >= 12 && (seed & 0x300) == 0)
				b[i] = (uint8_t)(b[i] & 0x0f);
		}
		b[4] = 0, b[5] = 1;
		m = parse_bytes(state, b, n);
		if (m->has_question)
			assert_int_equal(strlen(m->qname), m->qname_len);
		for (unsigned i = 0; i < m->nrrs; i++) {
			char name[DNS_MAX_NAME_TEXT], data[256];
			int dl = dns_rr_data(m, &m->rrs[i], data, sizeof(data));

			assert_true(dns_rr_name(m, &m->rrs[i], name) >= 0);
			assert_true(dl < (int)sizeof(data));
			assert_true(dl < 0 || strlen(data) == (size_t)dl);
		}
	}
}

static void test_short_messages(void **state)
{
	struct wire w;
	const struct dns_msg *m;

	m = parse_bytes(state, (const uint8_t *)"\x12\x34", 2);
	assert_int_equal(last_rc(state), DNS_ERR_SHORT);
	assert_int_equal(m->id, 0);
	assert_false(m->has_question);
	m = parse_bytes(state, (const uint8_t *)"", 0);
	assert_int_equal(last_rc(state), DNS_ERR_SHORT);

	/* A bare header with no question is fine. */
	whdr(&w, 0xbeef, 0x2800, 0, 0, 0, 0); /* opcode 5 */
	m = parse_bytes(state, w.b, w.n);
	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->id, 0xbeef);
	assert_int_equal(m->opcode, 5);
	assert_false(m->has_question);
	assert_int_equal(m->qname_len, 0);

	/* Name complete but qtype/qclass cut. */
	whdr(&w, 1, 0, 1, 0, 0, 0);
	WLIT(&w, "\x01"
		 "a\x00\x00\x01");
	m = parse_bytes(state, w.b, w.n);
	assert_int_equal(last_rc(state), DNS_ERR_QUESTION);
	assert_int_equal(m->status, DNS_F_TRUNCATED);
	assert_false(m->has_question);

	/* Root question name, then two trailing bytes. */
	whdr(&w, 2, 0, 1, 0, 0, 0);
	w8(&w, 0);
	w16(&w, 2);
	w16(&w, 1);
	w16(&w, 0);
	m = parse_bytes(state, w.b, w.n);
	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, DNS_F_TRAILING);
	expect_question(m, ".", 2);
}

static void test_more_rrs_than_indexed(void **state)
{
	struct wire w;
	const unsigned total = DNS_MAX_RRS + 6;

	whdr(&w, 0x1016, 0x8180, 1, (uint16_t)total, 0, 0);
	wquestion_a(&w);
	for (unsigned i = 0; i < total; i++) {
		w16(&w, 0xc00c);
		wrr(&w, 1, 1, i, 4);
		w32(&w, 0xc0000200 | i);
	}
	const struct dns_msg *m = parse_bytes(state, w.b, w.n);

	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->nrrs, DNS_MAX_RRS);
	assert_int_equal(m->rrs_seen, total);
	expect_counts(m, 1, total, 0, 0);
	expect_rr(m, DNS_MAX_RRS - 1, DNS_SEC_ANSWER, "a", "A", DNS_MAX_RRS - 1, "192.0.2.63");
}

static void test_opt_edge_cases(void **state)
{
	struct wire w;
	const struct dns_msg *m;

	/* Two OPT records: the first is used, the second flagged. */
	whdr(&w, 0x1017, 0x8003, 1, 0, 0, 2);
	wquestion_a(&w);
	w8(&w, 0);
	wrr(&w, 41, 4096, 0x02008000, 0); /* ext rcode 2, DO */
	w8(&w, 0);
	wrr(&w, 41, 512, 0, 0);
	m = parse_bytes(state, w.b, w.n);
	assert_int_equal(last_rc(state), DNS_OK);
	assert_int_equal(m->status, DNS_F_BAD_OPT);
	assert_int_equal(m->edns.udp_size, 4096);
	assert_true(m->edns.do_bit);
	assert_int_equal(m->rcode, 2 << 4 | 3); /* 35: no mnemonic */
	expect_rcode(m, "RCODE35");
	expect_counts(m, 1, 0, 0, 2);
	assert_int_equal(m->nrrs, 0);

	/* OPT in the answer section: indexed like any RR and flagged. */
	whdr(&w, 0x1018, 0x8000, 1, 1, 0, 0);
	wquestion_a(&w);
	w8(&w, 0);
	wrr(&w, 41, 1232, 0, 0);
	m = parse_bytes(state, w.b, w.n);
	assert_int_equal(m->status, DNS_F_BAD_OPT);
	assert_false(m->edns.present);
	assert_int_equal(m->nrrs, 1);

	/* Non-root owner, Z bits, an option overrunning the rdata. */
	whdr(&w, 0x1019, 0x8000, 1, 0, 0, 1);
	wquestion_a(&w);
	w16(&w, 0xc00c);
	wrr(&w, 41, 1232, 0x00010123, 6);
	w16(&w, 10);
	w16(&w, 8);
	w16(&w, 0xabcd);
	m = parse_bytes(state, w.b, w.n);
	assert_int_equal(m->status, DNS_F_BAD_OPT);
	assert_true(m->edns.present);
	assert_int_equal(m->edns.version, 1);
	assert_int_equal(m->edns.z, 0x0123);
	assert_false(m->edns.do_bit);

	char out[64];

	assert_int_equal(dns_edns_options_text(m, out, sizeof(out)), -1);

	/* ECS whose address is longer than its prefix needs. */
	whdr(&w, 0x101a, 0, 1, 0, 0, 1);
	wquestion_a(&w);
	w8(&w, 0);
	wrr(&w, 41, 1232, 0, 12);
	w16(&w, 8);
	w16(&w, 8);
	w16(&w, 1);
	w8(&w, 16);
	w8(&w, 0);
	w32(&w, 0x0a000000);
	m = parse_bytes(state, w.b, w.n);
	assert_int_equal(m->status, DNS_F_BAD_OPT);
	assert_false(m->edns.has_ecs);
	assert_int_equal(m->edns.noptions, 1);
	expect_options(m, "ECS 000110000a000000"); /* shown raw when invalid */
}

static void test_edns_option_texts(void **state)
{
	struct wire w;
	static const char ede_text[] = "blocked \"x\"";

	whdr(&w, 0x101b, 0x8000, 1, 0, 0, 1);
	wquestion_a(&w);
	w8(&w, 0);
	size_t rdlen_at = w.n + 8;

	wrr(&w, 41, 1232, 0, 0);
	size_t start = w.n;

	w16(&w, 3); /* NSID "gns1" */
	w16(&w, 4);
	WLIT(&w, "gns1");
	w16(&w, 9); /* EXPIRE 3600 */
	w16(&w, 4);
	w32(&w, 3600);
	w16(&w, 11); /* KEEPALIVE 1200 (x 100 ms) */
	w16(&w, 2);
	w16(&w, 1200);
	w16(&w, 12); /* PADDING of 5 */
	w16(&w, 5);
	w32(&w, 0);
	w8(&w, 0);
	w16(&w, 15); /* EDE 17 with text */
	w16(&w, (uint16_t)(2 + sizeof(ede_text) - 1));
	w16(&w, 17);
	WLIT(&w, ede_text);
	w16(&w, 65001); /* unknown */
	w16(&w, 2);
	w16(&w, 0xbeef);
	w16(&w, 8); /* ECS IPv6 /0: no address bytes */
	w16(&w, 4);
	w16(&w, 2);
	w16(&w, 0);
	w.b[rdlen_at] = (uint8_t)((w.n - start) >> 8);
	w.b[rdlen_at + 1] = (uint8_t)(w.n - start);

	const struct dns_msg *m = parse_bytes(state, w.b, w.n);

	assert_int_equal(m->status, 0);
	assert_int_equal(m->edns.noptions, 7);
	assert_true(m->edns.has_ecs);
	assert_int_equal(m->edns.ecs.source_prefix, 0);
	expect_options(m, "NSID 676e7331 EXPIRE 3600 KEEPALIVE 1200 PADDING 5 "
			  "EDE 17 \"blocked \\\"x\\\"\" OPT65001 beef ECS ::/0/0");

	/* Cut short: ends in "..." and stays within cap. */
	char out[20];

	assert_int_equal(dns_edns_options_text(m, out, sizeof(out)), 19);
	assert_string_equal(out, "NSID 676e7331 EX...");
}

/* One RR in the answer section with the given rdata; returns the parse. */
static const struct dns_msg *msg_with_rdata(void **state, uint16_t type, const void *rdata,
					    size_t n)
{
	struct wire w;

	whdr(&w, 0x2000, 0x8400, 1, 1, 0, 0);
	wquestion_a(&w);
	w16(&w, 0xc00c);
	wrr(&w, type, 1, 60, (uint16_t)n);
	wmem(&w, rdata, n);
	return parse_bytes(state, w.b, w.n);
}

static void expect_rdata(void **state, uint16_t type, const void *rdata, size_t n, const char *text)
{
	const struct dns_msg *m = msg_with_rdata(state, type, rdata, n);
	char out[512];

	assert_int_equal(m->nrrs, 1);
	assert_int_equal(dns_rr_data(m, &m->rrs[0], out, sizeof(out)),
			 text ? (int)strlen(text) : -1);
	assert_string_equal(out, text ? text : "");
}

#define RDATA(type, lit, text) expect_rdata(state, type, lit, sizeof(lit) - 1, text)

static void test_rdata_malformed(void **state)
{
	const struct dns_msg *m = msg_with_rdata(state, 1, "\x01\x02\x03\x04\x05", 5);

	assert_int_equal(m->status, DNS_F_BAD_RDATA);
	RDATA(1, "\x01\x02\x03\x04\x05", NULL);
	RDATA(28, "\x20\x01\x0d\xb8", NULL);
	/* MX whose name runs past its rdata, and with a byte left over. */
	RDATA(15, "\x00\x0a\x04mail", NULL);
	RDATA(15, "\x00\x0a\x00\x00", NULL);
	RDATA(15, "\x00\x0a\x00", "10 .");
	/* MX with a compressed name pointing to the question. */
	RDATA(15, "\x00\x0a\xc0\x0c", "10 a");
	/* SOA missing a number. */
	RDATA(6, "\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04",
	      NULL);
	RDATA(6,
	      "\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00"
	      "\x05",
	      ". . 1 2 3 4 5");
	/* TXT whose string overruns; empty TXT rdata. */
	RDATA(16,
	      "\x05"
	      "abc",
	      NULL);
	RDATA(16, "", NULL);
	RDATA(16,
	      "\x03"
	      "a b\x01;",
	      "\"a b\" \";\"");
	/* HINFO needs exactly two strings. */
	RDATA(13,
	      "\x03"
	      "x86\x05Linux",
	      "\"x86\" \"Linux\"");
	RDATA(13, "\x03x86", NULL);
	/* CAA with an empty tag. */
	RDATA(257, "\x00\x00value", NULL);
	/* SRV target pointing past the message. */
	RDATA(33, "\x00\x01\x00\x02\x00\x03\xc3\xff", NULL);
	RDATA(33, "\x00\x01\x00\x02\x00\x03\x00", "1 2 3 .");
}

static void test_rdata_svcb_edges(void **state)
{
	/* Key length overruns the rdata. */
	RDATA(64, "\x00\x01\x00\x00\x03\x00\x04\x01\xbb", NULL);
	/* port must be 2 bytes; no-default-alpn must be empty; alpn needs a value. */
	RDATA(64, "\x00\x01\x00\x00\x03\x00\x03\x01\xbb\x00", NULL);
	RDATA(64, "\x00\x01\x00\x00\x02\x00\x01\x00", NULL);
	RDATA(64, "\x00\x01\x00\x00\x01\x00\x00", NULL);
	RDATA(64, "\x00\x01\x00\x00\x02\x00\x00", "1 . no-default-alpn");
	/* alpn ids with a comma and a backslash are escaped twice (RFC 9460 A.1). */
	RDATA(65,
	      "\x00\x01\x00\x00\x01\x00\x08\x03"
	      "a,b\x03"
	      "c\\d",
	      "1 . alpn=\"a\\\\,b,c\\\\\\\\d\"");
	/* Unknown key with a non-printable value; dohpath; empty unknown key. */
	RDATA(65, "\x00\x01\x00\x00\x07\x00\x03/q\"\xfd\xe8\x00\x02x\x01\xfd\xe9\x00\x00",
	      "1 . dohpath=\"/q\\\"\" key65000=\"x\\001\" key65001");
	/* ech: base64 with padding of one and two characters. */
	RDATA(65, "\x00\x01\x00\x00\x05\x00\x04\x01\x02\x03\x04", "1 . ech=AQIDBA==");
	RDATA(65, "\x00\x01\x00\x00\x05\x00\x05\x01\x02\x03\x04\x05", "1 . ech=AQIDBAU=");
	/* A compressed target is tolerated. */
	RDATA(64, "\x00\x01\xc0\x0c", "1 a");
}

static void test_rdata_unknown_types(void **state)
{
	RDATA(65280, "\x0a\x0b\xfc", "\\# 3 0A0BFC");
	RDATA(65280, "", "\\# 0");
	RDATA(10, "\x30\x39\x08\x02", "\\# 4 30390802"); /* NULL: no text form */
	RDATA(29,
	      "\x01\x12\x16\x13"
	      "0123456789ab",
	      "\\# 16 01121613303132333435363738396162"); /* LOC version 1 */
	RDATA(99, "\x07v=spf1-", "\"v=spf1-\""); /* SPF like TXT */
	RDATA(17, "\x00\x00", ". ."); /* RP */
}

/* DNSSEC (RFC 4034, 5155) and TSIG/TKEY (RFC 8945, 2930) in their text forms. */
static void test_rdata_dnssec_and_tsig(void **state)
{
	/* nsec3 salt */
	RDATA(50,
	      "\x01\x01\x00\x0c\x04\xaa\xbb\xcc\xdd\x14\x17\x4e\xb2\x40\x9f\xe2"
	      "\x8b\xcb\x48\x87\xa1\x83\x6f\x95\x7f\x0a\x84\x25\xe2\x7b\x00\x06"
	      "\x40\x00\x00\x00\x00\x02",
	      "1 1 12 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG");
	/* nsec3 empty */
	RDATA(50, "\x01\x00\x00\x00\x00\x05\xff\xff\xff\xff\xff", "1 0 0 - VVVVVVVV");
	/* nsec3 1-byte hash */
	RDATA(50, "\x01\x00\x00\x00\x00\x01\xf8", "1 0 0 - V0");
	/* nsec windows */
	RDATA(47,
	      "\x04\x68\x6f\x73\x74\x07\x65\x78\x61\x6d\x70\x6c\x65\x00\x00\x01"
	      "\x40\x01\x01\x40\x04\x1b\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	      "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	      "\x20",
	      "host.example A CAA TYPE1234");
	/* nsec windows out of order */
	RDATA(47, "\x01\x68\x00\x01\x01\x40\x00\x01\x40", NULL);
	/* nsec window length 0 */
	RDATA(47, "\x01\x68\x00\x00\x00", NULL);
	/* nsec window length 33 */
	RDATA(47,
	      "\x01\x68\x00\x00\x21\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	      "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	      "\x00\x00\x00\x00\x00\x00",
	      NULL);
	/* tsig */
	RDATA(250,
	      "\x0b\x68\x6d\x61\x63\x2d\x73\x68\x61\x32\x35\x36\x00\x00\x01\x00"
	      "\x00\x00\x02\x01\x2c\x00\x02\x01\x02\x00\x07\x00\x10\x00\x06\x00"
	      "\x00\x5f\x5e\x10\x00",
	      "hmac-sha256 4294967298 300 2 AQI= 7 BADSIG 6 AABfXhAA");
	/* tsig no mac */
	RDATA(250,
	      "\x0b\x68\x6d\x61\x63\x2d\x73\x68\x61\x32\x35\x36\x00\x00\x00\x6b"
	      "\x13\xb8\x1c\x01\x2c\x00\x00\x5e\x9c\x00\x00\x00\x00",
	      "hmac-sha256 1796454428 300 0 24220 NOERROR 0");
	/* tsig mac past the end */
	RDATA(250, "\x01\x61\x00\x00\x00\x00\x00\x00\x01\x01\x2c\x00\x09\x01\x02", NULL);
	/* tkey */
	RDATA(249,
	      "\x08\x67\x73\x73\x2d\x74\x73\x69\x67\x00\x00\x00\x03\xe8\x00\x00"
	      "\x07\xd0\x00\x03\x00\x00\x00\x03\x61\x62\x63\x00\x00",
	      "gss-tsig 1000 2000 3 NOERROR 3 YWJj 0");
	/* rrsig */
	RDATA(46,
	      "\x00\x01\x08\x03\x00\x01\x51\x80\x70\xdb\xd8\x80\x65\x92\x00\x80"
	      "\x0a\x52\x02\x72\x72\x04\x74\x65\x73\x74\x00\x01\x02\x03",
	      "A 8 3 86400 20300101000000 20240101000000 2642 rr.test AQID");
	/* rrsig time 2^32-1 */
	RDATA(46,
	      "\x00\x01\x08\x03\x00\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00"
	      "\x00\x01\x01\x61\x00\x01",
	      "A 8 3 0 21060207062815 19700101000000 1 a AQ==");
	/* ds */
	RDATA(43, "\x30\x39\x08\x02\xab", "12345 8 2 AB");
}

/* LOC, APL, gateways, HIP, EUI, ILNP, WKS, NSAP: text forms and malformed rdata. */
static void test_rdata_addresses_and_locations(void **state)
{
	/* loc */
	RDATA(29, "\x00\x00\x16\x13\x8b\x3c\xf0\x18\x81\x0c\xbc\xe0\x00\x98\x95\xb8",
	      "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m");
	/* loc south west */
	RDATA(29, "\x00\x99\x10\x01\x7f\xff\xff\xff\x59\x60\x4e\x00\xff\xff\xff\xff",
	      "0 0 0.001 S 180 0 0.000 W 42849672.95m 90000000m 0.01m 0.00m");
	/* loc mantissa 10 */
	RDATA(29, "\x00\xa0\x16\x13\x80\x00\x00\x00\x80\x00\x00\x00\x00\x98\x96\x80", NULL);
	/* loc latitude past the pole */
	RDATA(29, "\x00\x12\x16\x13\x93\x4f\xd9\x01\x80\x00\x00\x00\x00\x98\x96\x80", NULL);
	/* loc short */
	RDATA(29, "\x00\x12\x16\x13\x80\x00\x00\x00\x80\x00\x00\x00\x00\x98\x96", NULL);
	/* apl */
	RDATA(42,
	      "\x00\x01\x15\x03\xc0\xa8\x20\x00\x01\x1c\x84\xc0\xa8\x26\x00\x00"
	      "\x02\x20\x04\x20\x01\x0d\xb8",
	      "1:192.168.32.0/21 !1:192.168.38.0/28 2:2001:db8::/32");
	/* apl empty */
	RDATA(42, "", "");
	/* apl family 3 */
	RDATA(42, "\x00\x03\x08\x01\x01", NULL);
	/* apl v4 afdlength 5 */
	RDATA(42, "\x00\x01\x20\x05\x00\x00\x00\x00\x00", NULL);
	/* apl prefix 33 */
	RDATA(42, "\x00\x01\x21\x00", NULL);
	/* ipseckey no key */
	RDATA(45, "\x0a\x01\x02\xc0\x00\x02\x26", "10 1 2 192.0.2.38");
	/* ipseckey gateway type 4 */
	RDATA(45, "\x0a\x04\x02\x01\x02\x03\x04", NULL);
	/* amtrelay name */
	RDATA(260,
	      "\x80\x83\x05\x72\x65\x6c\x61\x79\x07\x65\x78\x61\x6d\x70\x6c\x65"
	      "\x00",
	      "128 1 3 relay.example");
	/* amtrelay trailing */
	RDATA(260, "\x01\x01\x01\x02\x03\x04\x05", NULL);
	/* hip no servers */
	RDATA(55, "\x02\x02\x00\x03\x20\x01\x61\x62\x63", "2 2001 YWJj");
	/* hip key past the end */
	RDATA(55, "\x02\x02\x00\x09\x20\x01\x61\x62\x63", NULL);
	/* eui48 length 7 */
	RDATA(108, "\x00\x00\x00\x00\x00\x00\x00", NULL);
	/* eui64 */
	RDATA(109, "\x00\x00\x5e\xef\x10\x00\x00\x2a", "00-00-5e-ef-10-00-00-2a");
	/* wks */
	RDATA(11, "\xc0\x00\x02\x01\x06\x00\x00\x00\x40\x00\x00\x00\x00\x00\x80",
	      "192.0.2.1 6 25 72");
	/* nsap */
	RDATA(22, "\x47\x00\x05\x80", "0x47000580");
	/* nsap empty */
	RDATA(22, "", NULL);
	/* l64 */
	RDATA(106, "\x00\x0a\x20\x01\x0d\xb8\x11\x40\x10\x00", "10 2001:db8:1140:1000");
}

/* CERT mnemonics, character-string types, URI. */
static void test_rdata_certs_and_strings(void **state)
{
	/* cert numbers */
	RDATA(37, "\x00\x09\x00\x01\xc8\x01", "9 1 200 AQ==");
	/* cert uri */
	RDATA(37, "\x00\xfd\x00\x01\xfd\x01", "URI 1 PRIVATEDNS AQ==");
	/* isdn three strings */
	RDATA(20, "\x01\x61\x01\x62\x01\x63", NULL);
	/* gpos */
	RDATA(27, "\x01\x31\x01\x32\x01\x33", "\"1\" \"2\" \"3\"");
	/* uri */
	RDATA(256, "\x00\x0a\x00\x01\x66\x74\x70\x3a\x2f\x2f\x78\x2f\x22\x71\x22",
	      "10 1 \"ftp://x/\\\"q\\\"\"");
}

static void test_rdata_truncated_output(void **state)
{
	const struct dns_msg *m = parse_hex(state, fx_resp_txt);
	char out[64];

	/* Full text is 58 bytes. */
	memset(out, 'x', sizeof(out));
	assert_int_equal(dns_rr_data(m, &m->rrs[0], out, 16), 15);
	assert_string_equal(out, "\"hello world...");
	assert_int_equal(out[16], 'x'); /* nothing past cap */
	assert_int_equal(dns_rr_data(m, &m->rrs[0], out, 59), 58);
	assert_int_equal(dns_rr_data(m, &m->rrs[0], out, 58), 57);
	assert_string_equal(out + 54, "...");
	assert_int_equal(dns_rr_data(m, &m->rrs[0], out, 4), 3);
	assert_string_equal(out, "...");
	assert_int_equal(dns_rr_data(m, &m->rrs[0], out, 3), 2);
	assert_string_equal(out, "..");
	assert_int_equal(dns_rr_data(m, &m->rrs[0], out, 2), 1);
	assert_string_equal(out, ".");
	assert_int_equal(dns_rr_data(m, &m->rrs[0], out, 1), 0);
	assert_string_equal(out, "");
	out[0] = 'x';
	assert_int_equal(dns_rr_data(m, &m->rrs[0], out, 0), 0);
	assert_int_equal(out[0], 'x');
}

static void test_name_escaping(void **state)
{
	/* One label holding every character class: a.b c"d \0 \xff \ ( ) ; @ $ */
	static const char label[] = "a.b c\"d\x00\xff\\e(f)g;h@i$j~!";
	struct wire w;

	whdr(&w, 0x3000, 0, 1, 0, 0, 0);
	w8(&w, sizeof(label) - 1);
	wmem(&w, label, sizeof(label) - 1);
	WLIT(&w, "\x02"
		 "Zz\x00");
	w16(&w, 255);
	w16(&w, 3);

	const struct dns_msg *m = parse_bytes(state, w.b, w.n);
	char b[16];

	assert_int_equal(last_rc(state), DNS_OK);
	assert_string_equal(m->qname, "a\\.b\\032c\\\"d\\000\\255\\\\e\\(f\\)g\\;h\\@i\\$j~!.Zz");
	assert_int_equal(m->qname_len, strlen(m->qname));
	assert_string_equal(dns_type_str(m->qtype, b), "ANY");
	assert_string_equal(dns_class_str(m->qclass, b), "CH");
}

static void test_aaaa_text(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"::", "::"},
		{"::1", "::1"},
		{"1::", "1::"},
		{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
		{"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
		{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
		{"2001:DB8:AAAA:BBBB:CCCC:DDDD:EEEE:0001", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"},
		{"fe80::1:ff:fe00:1", "fe80::1:ff:fe00:1"},
		{"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
		{"::192.0.2.1", "::192.0.2.1"},
		{"::ffff:0:0", "::ffff:0.0.0.0"},
		{"0:0:1::", "0:0:1::"},
		{"1:0:0:2:0:0:0:0", "1:0:0:2::"},
		{"1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t a[16];
		char ref[INET6_ADDRSTRLEN];

		assert_int_equal(inet_pton(AF_INET6, cases[i].in, a), 1);
		assert_non_null(inet_ntop(AF_INET6, a, ref, sizeof(ref)));
		assert_string_equal(ref, cases[i].out); /* the expectation agrees with libc */
		expect_rdata(state, 28, a, sizeof(a), cases[i].out);
	}
}

static void test_mnemonics(void **state)
{
	static const struct {
		uint16_t v;
		const char *s;
	} types[] = {
		{1, "A"},
		{2, "NS"},
		{5, "CNAME"},
		{6, "SOA"},
		{12, "PTR"},
		{13, "HINFO"},
		{15, "MX"},
		{16, "TXT"},
		{17, "RP"},
		{18, "AFSDB"},
		{24, "SIG"},
		{25, "KEY"},
		{28, "AAAA"},
		{29, "LOC"},
		{33, "SRV"},
		{35, "NAPTR"},
		{36, "KX"},
		{37, "CERT"},
		{39, "DNAME"},
		{41, "OPT"},
		{42, "APL"},
		{43, "DS"},
		{44, "SSHFP"},
		{45, "IPSECKEY"},
		{46, "RRSIG"},
		{47, "NSEC"},
		{48, "DNSKEY"},
		{49, "DHCID"},
		{50, "NSEC3"},
		{51, "NSEC3PARAM"},
		{52, "TLSA"},
		{53, "SMIMEA"},
		{55, "HIP"},
		{59, "CDS"},
		{60, "CDNSKEY"},
		{61, "OPENPGPKEY"},
		{62, "CSYNC"},
		{63, "ZONEMD"},
		{64, "SVCB"},
		{65, "HTTPS"},
		{99, "SPF"},
		{104, "NID"},
		{105, "L32"},
		{106, "L64"},
		{107, "LP"},
		{108, "EUI48"},
		{109, "EUI64"},
		{249, "TKEY"},
		{250, "TSIG"},
		{251, "IXFR"},
		{252, "AXFR"},
		{255, "ANY"},
		{256, "URI"},
		{257, "CAA"},
		{258, "AVC"},
		{32769, "DLV"},
		{0, "TYPE0"},
		{54, "TYPE54"},
		{66, "TYPE66"},
		{98, "TYPE98"},
		{110, "TYPE110"},
		{248, "TYPE248"},
		{261, "TYPE261"},
		{65280, "TYPE65280"},
		{65535, "TYPE65535"},
	};
	char b[16];

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		assert_string_equal(dns_type_str(types[i].v, b), types[i].s);

	assert_string_equal(dns_class_str(1, b), "IN");
	assert_string_equal(dns_class_str(3, b), "CH");
	assert_string_equal(dns_class_str(4, b), "HS");
	assert_string_equal(dns_class_str(254, b), "NONE");
	assert_string_equal(dns_class_str(255, b), "ANY");
	assert_string_equal(dns_class_str(2, b), "CLASS2");
	assert_string_equal(dns_class_str(7, b), "CLASS7");
	assert_string_equal(dns_class_str(1232, b), "CLASS1232");

	static const char *const rcodes[] = {
		"NOERROR", "FORMERR",  "SERVFAIL",  "NXDOMAIN", "NOTIMP",    "REFUSED", "YXDOMAIN",
		"YXRRSET", "NXRRSET",  "NOTAUTH",   "NOTZONE",	"DSOTYPENI", "RCODE12", "RCODE13",
		"RCODE14", "RCODE15",  "BADVERS",   "BADKEY",	"BADTIME",   "BADMODE", "BADNAME",
		"BADALG",  "BADTRUNC", "BADCOOKIE", "RCODE24",
	};

	for (uint16_t i = 0; i < sizeof(rcodes) / sizeof(rcodes[0]); i++)
		assert_string_equal(dns_rcode_str(i, b), rcodes[i]);
	assert_string_equal(dns_rcode_str(4095, b), "RCODE4095");

	static const char *const opcodes[] = {
		"QUERY", "IQUERY", "STATUS", "OPCODE3", "NOTIFY", "UPDATE", "DSO", "OPCODE7",
	};

	for (uint8_t i = 0; i < sizeof(opcodes) / sizeof(opcodes[0]); i++)
		assert_string_equal(dns_opcode_str(i, b), opcodes[i]);
	assert_string_equal(dns_opcode_str(15, b), "OPCODE15");
}

static void test_name_equal(void **state)
{
	assert_true(dns_name_equal("WwW.Example.TEST", 16, "www.example.test", 16));
	assert_true(dns_name_equal(".", 1, ".", 1));
	assert_true(dns_name_equal("", 0, "", 0));
	assert_false(dns_name_equal("www.example.test", 16, "www.example.tes", 15));
	assert_false(dns_name_equal("www.example.test", 16, "www.example.tesu", 16));
	/* Only letters fold: '@' (0x40) and '`' (0x60) differ by 0x20 too. */
	assert_false(dns_name_equal("a\\@b", 4, "a\\`b", 4));
	assert_false(dns_name_equal("[", 1, "{", 1));
	assert_true(dns_name_equal("a\\255Z", 6, "A\\255z", 6));
	/* Compares only the given lengths. */
	assert_true(dns_name_equal("abcXYZ", 3, "ABCdef", 3));
}

/* Every fixture, decoded completely: nothing may crash or overrun. */
static void test_all_fixtures_format(void **state)
{
	for (size_t f = 0; f < N_FIXTURES; f++) {
		const struct dns_msg *m = parse_hex(state, fixtures[f].hex);
		char name[DNS_MAX_NAME_TEXT], data[2048];

		if (m->has_question)
			assert_int_equal(strlen(m->qname), m->qname_len);
		assert_true(m->nrrs <= m->rrs_seen);
		for (unsigned i = 0; i < m->nrrs; i++) {
			int nl = dns_rr_name(m, &m->rrs[i], name);
			int dl = dns_rr_data(m, &m->rrs[i], data, sizeof(data));

			assert_true(nl > 0 && (size_t)nl == strlen(name));
			/* Only the hand-made malformed messages may have bad rdata. */
			if (strncmp(fixtures[f].name, "evil_", 5) != 0)
				assert_true(dl > 0 && (size_t)dl == strlen(data));
		}
		assert_true(dns_edns_options_text(m, data, sizeof(data)) >= 0);
	}
}

/* ------------------------------------------------------------------ */
/* Limits, each at the bound and one past it                           */

/*
 * Appends a name of exactly `wire` bytes (its labels, their length bytes
 * and the root byte) made of labels of at most `max_label` bytes (one may
 * be 2 when max_label is 1, for an odd length), filled with `fill`.
 */
static void wname_of(struct wire *w, size_t wire, size_t max_label, char fill)
{
	size_t left = wire - 1; /* bytes of labels with their length bytes */

	while (left) {
		size_t l = left - 1 < max_label ? left - 1 : max_label;

		/* Never leave a remainder of 1: it would need a 0-byte label. */
		if (left - (l + 1) == 1)
			l = l > 1 ? l - 1 : 2;
		w8(w, (uint8_t)l);
		for (size_t i = 0; i < l; i++)
			w8(w, (uint8_t)fill);
		left -= l + 1;
	}
	w8(w, 0);
}

/* A query whose only question is a name of `wire` bytes; returns the parse. */
static const struct dns_msg *parse_question_of(void **state, size_t wire, size_t max_label)
{
	struct wire w;

	whdr(&w, 0x2255, 0x0100, 1, 0, 0, 0);
	wname_of(&w, wire, max_label, 'x');
	assert_int_equal(w.n, DNS_HEADER_LEN + wire);
	w16(&w, 1);
	w16(&w, 1);
	return parse_bytes(state, w.b, w.n);
}

/*
 * RFC 1035 2.3.4: a name is at most 255 bytes on the wire. 255 is
 * accepted and 256 refused, whether the labels are long or short, in the
 * question and as an answer's owner; a decoder that allows 256 fails here
 * (the 257-byte fixture alone would not catch it).
 */
static void test_name_255_accepted_256_refused(void **state)
{
	static const size_t max_labels[] = {63, 1, 17};

	for (size_t i = 0; i < sizeof(max_labels) / sizeof(max_labels[0]); i++) {
		const struct dns_msg *m = parse_question_of(state, 255, max_labels[i]);

		assert_int_equal(last_rc(state), DNS_OK);
		assert_int_equal(m->status, 0);
		assert_true(m->has_question);
		/* Text: the wire bytes less the first length byte and the root. */
		assert_int_equal(m->qname_len, 255 - 2);
		assert_int_equal(strlen(m->qname), 253);

		m = parse_question_of(state, 256, max_labels[i]);
		assert_int_equal(last_rc(state), DNS_ERR_QUESTION);
		assert_int_equal(m->status, DNS_F_BAD_NAME);
		assert_false(m->has_question);
		assert_int_equal(m->qname_len, 0);
	}

	/* As an answer's owner name: 255 indexed, 256 stops the walk. */
	for (size_t wire = 255; wire <= 256; wire++) {
		struct wire w;

		whdr(&w, 0x2256, 0x8180, 1, 1, 0, 0);
		wquestion_a(&w);
		wname_of(&w, wire, 63, 'o');
		wrr(&w, DNS_T_A, 1, 60, 4);
		w32(&w, 0xc0000201);
		const struct dns_msg *m = parse_bytes(state, w.b, w.n);
		char name[DNS_MAX_NAME_TEXT];

		assert_int_equal(last_rc(state), DNS_OK);
		if (wire == 255) {
			assert_int_equal(m->status, 0);
			assert_int_equal(m->nrrs, 1);
			assert_int_equal(dns_rr_name(m, &m->rrs[0], name), 253);
		} else {
			assert_int_equal(m->status, DNS_F_BAD_NAME);
			assert_int_equal(m->nrrs, 0);
			assert_int_equal(dns_name_text(m, 19, name), -1);
		}
	}

	/* Reached through a pointer: 2 + 64 bytes here, the rest at the target. */
	for (size_t wire = 255; wire <= 256; wire++) {
		struct wire w;

		whdr(&w, 0x2257, 0x0100, 1, 0, 0, 0);
		w8(&w, 63);
		for (int i = 0; i < 63; i++)
			w8(&w, 'p');
		w16(&w, (uint16_t)(0xc000 | (DNS_HEADER_LEN + 64 + 2 + 4)));
		w16(&w, 1);
		w16(&w, 1);
		wname_of(&w, wire - 64, 63, 't'); /* the pointer adds no name bytes */
		const struct dns_msg *m = parse_bytes(state, w.b, w.n);

		if (wire == 255) {
			assert_int_equal(last_rc(state), DNS_OK);
			assert_int_equal(m->qname_len, 253);
			assert_int_equal(m->status, DNS_F_TRAILING); /* the pointer's target */
		} else {
			assert_int_equal(last_rc(state), DNS_ERR_QUESTION);
			assert_int_equal(m->status, DNS_F_BAD_NAME);
		}
	}
}

/* Labels: 63 bytes is the largest (RFC 1035 2.3.4); 64 is a bad label type. */
static void test_label_63_accepted_64_refused(void **state)
{
	for (int len = 62; len <= 64; len++) {
		struct wire w;

		whdr(&w, 0x2263, 0x0100, 1, 0, 0, 0);
		w8(&w, (uint8_t)len);
		for (int i = 0; i < len; i++)
			w8(&w, 'L');
		WLIT(&w, "\x03"
			 "com\x00");
		w16(&w, 1);
		w16(&w, 1);
		const struct dns_msg *m = parse_bytes(state, w.b, w.n);

		if (len <= 63) {
			assert_int_equal(last_rc(state), DNS_OK);
			assert_int_equal(m->status, 0);
			assert_int_equal(m->qname_len, len + 4);
			assert_int_equal(m->qname[len], '.');
		} else {
			assert_int_equal(last_rc(state), DNS_ERR_QUESTION);
			assert_int_equal(m->status, DNS_F_BAD_NAME);
		}
	}
}

/* A message as large as TCP's 2-byte prefix allows, in a buffer of its own. */
static uint8_t big_msg[65536 + 16];

/*
 * 65535 bytes: header, question "a.", one answer of an unknown type whose
 * rdata fills the rest. Returns the length written (65535 + extra).
 */
static size_t build_65535(size_t extra)
{
	size_t rdlen = 65535 - DNS_HEADER_LEN - 7 - 2 - 10, n = 0;
	uint8_t *b = big_msg;
	static const uint8_t head[] = {0x65, 0x35, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, /* header */
				       1,    'a',  0,	 0,    1, 0, 1, /* a. A IN */
				       0xc0, 0x0c, 0xff, 0x00, 0, 1, 0, 0, 0, 60}; /* TYPE65280 */

	memcpy(b, head, sizeof(head));
	n = sizeof(head);
	b[n++] = (uint8_t)(rdlen >> 8);
	b[n++] = (uint8_t)rdlen;
	for (size_t i = 0; i < rdlen; i++)
		b[n++] = (uint8_t)(i * 31 + 7);
	assert_int_equal(n, 65535);
	for (size_t i = 0; i < extra; i++)
		b[n++] = 0xee;
	return n;
}

/*
 * The largest message a TCP length prefix can announce (65535 bytes)
 * parses cleanly, its record's offsets intact in 16 bits; one byte more
 * is reported as trailing bytes past the 65535 the decoder reads.
 */
static void test_tcp_message_65535(void **state)
{
	struct dns_msg *m = &((struct ctx *)*state)->msg;
	size_t n = build_65535(0);

	assert_int_equal(dns_parse(big_msg, n, m), DNS_OK);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->len, 65535);
	assert_int_equal(m->nrrs, 1);
	assert_int_equal(m->rrs[0].type, 0xff00);
	assert_int_equal(m->rrs[0].rdlen, 65535 - 31);
	assert_int_equal(m->rrs[0].rdata_off, 31);
	assert_int_equal(m->rrs[0].rdata_off + m->rrs[0].rdlen, 65535);

	/* One byte short of the rdata: truncated, not read past the end. */
	assert_int_equal(dns_parse(big_msg, n - 1, m), DNS_OK);
	assert_int_equal(m->status, DNS_F_TRUNCATED);
	assert_int_equal(m->nrrs, 0);

	/* 65536 bytes: nothing past 65535 is read, and that is said. */
	n = build_65535(1);
	assert_int_equal(dns_parse(big_msg, n, m), DNS_OK);
	assert_int_equal(m->status, DNS_F_TRAILING);
	assert_int_equal(m->len, 65535);
	assert_int_equal(m->nrrs, 1);
}

/*
 * 16-bit counts at their maximum, 65535, with as many records as fit in
 * a 65535-byte message: the walk counts what is there (more than 255, so
 * no 8-bit counter would do; more than DNS_MAX_RRS, so only rrs_seen
 * keeps counting) and says the message is short of its counts.
 */
static void test_section_counts_65535(void **state)
{
	struct dns_msg *m = &((struct ctx *)*state)->msg;
	size_t n = 0, records = (65535 - DNS_HEADER_LEN - 5) / 11;
	uint8_t *b = big_msg;

	/* Answers: root owner, type A, class IN, TTL, rdlen 0: 11 bytes each. */
	static const uint8_t head[] = {0x00, 0x01, 0x81, 0x80, 0, 1, 0xff, 0xff, 0,
				       0,    0,	   0,	 0,    0, 1, 0,	   1};

	memcpy(b, head, sizeof(head));
	n = sizeof(head);
	for (size_t i = 0; i < records; i++) {
		static const uint8_t rr[] = {0, 0, 0x10, 0, 1, 0, 0, 0, 1, 0, 0}; /* TXT, empty */

		memcpy(b + n, rr, sizeof(rr));
		n += sizeof(rr);
	}
	assert_int_equal(dns_parse(big_msg, n, m), DNS_OK);
	assert_int_equal(m->ancount, 65535);
	assert_int_equal(m->status & DNS_F_TRUNCATED, DNS_F_TRUNCATED);
	assert_int_equal(m->section_count[DNS_SEC_ANSWER], records);
	assert_int_equal(m->rrs_seen, records);
	assert_int_equal(m->nrrs, DNS_MAX_RRS);
	assert_true(records > 5000);

	/* qdcount 65535: root questions (5 bytes each) until the message ends. */
	static const uint8_t qhead[] = {0x00, 0x02, 0x01, 0x00, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff};
	size_t questions = (65535 - DNS_HEADER_LEN) / 5;

	memcpy(b, qhead, sizeof(qhead));
	n = sizeof(qhead);
	for (size_t i = 0; i < questions; i++) {
		memcpy(b + n, "\x00\x00\x01\x00\x01", 5);
		n += 5;
	}
	assert_int_equal(dns_parse(big_msg, n, m), DNS_OK);
	assert_int_equal(m->qdcount, 65535);
	assert_int_equal(m->arcount, 65535);
	assert_int_equal(m->section_count[0], questions);
	assert_int_equal(m->status, DNS_F_TRUNCATED);
	assert_string_equal(m->qname, ".");
	assert_int_equal(m->rrs_seen, 0); /* the questions fell short: no records walked */
}

/*
 * Compression pointers: a loop of any length is refused, whatever it
 * passes through; a forward pointer is fine; a pointer to its own offset,
 * into the header, or past the end is refused. Exactly DNS_MAX_POINTERS
 * pointers are followed, one more is refused (also with labels between).
 */
static void test_pointer_loops_and_forward_pointers(void **state)
{
	struct wire w;
	const struct dns_msg *m;

	/* Loops of 2, 3 and 10 pointers starting at the question. */
	for (int len = 2; len <= 10; len += len == 3 ? 7 : 1) {
		whdr(&w, 0x3001, 0x0100, 1, 0, 0, 0);
		size_t q = w.n;

		w16(&w, (uint16_t)(0xc000 | (q + 6))); /* -> first link, past qtype/qclass */
		w16(&w, 1);
		w16(&w, 1);
		for (int i = 0; i < len; i++) {
			size_t next = i + 1 < len ? w.n + 2 : q + 6;

			w16(&w, (uint16_t)(0xc000 | next));
		}
		m = parse_bytes(state, w.b, w.n);
		assert_int_equal(last_rc(state), DNS_ERR_QUESTION);
		assert_int_equal(m->status, DNS_F_BAD_NAME);
	}

	/* A loop through a label ("b" then back): ends by the 255-byte bound. */
	whdr(&w, 0x3002, 0x0100, 1, 0, 0, 0);
	w16(&w, 0xc000 | 18);
	w16(&w, 1);
	w16(&w, 1);
	WLIT(&w, "\x01"
		 "b");
	w16(&w, 0xc000 | 18);
	m = parse_bytes(state, w.b, w.n);
	assert_int_equal(last_rc(state), DNS_ERR_QUESTION);
	assert_int_equal(m->status, DNS_F_BAD_NAME);

	/* A forward pointer to a name after the question: allowed. */
	whdr(&w, 0x3003, 0x0100, 1, 0, 0, 0);
	w16(&w, 0xc000 | 18);
	w16(&w, 1);
	w16(&w, 1);
	WLIT(&w, "\x03"
		 "fwd\x04test\x00");
	m = parse_bytes(state, w.b, w.n);
	assert_int_equal(last_rc(state), DNS_OK);
	expect_question(m, "fwd.test", 1);

	/* The last byte of the message as a target (a root label): allowed. */
	whdr(&w, 0x3004, 0x0100, 1, 0, 0, 0);
	w16(&w, 0xc000 | 18);
	w16(&w, 1);
	w16(&w, 1);
	w8(&w, 0);
	m = parse_bytes(state, w.b, w.n);
	assert_int_equal(last_rc(state), DNS_OK);
	expect_question(m, ".", 1);
	/* ... and one past it: refused. */
	w.b[13] = 19;
	m = parse_bytes(state, w.b, w.n);
	assert_int_equal(last_rc(state), DNS_ERR_QUESTION);
	assert_int_equal(m->status, DNS_F_BAD_NAME);

	/* The first byte after the header is a valid target; the last header byte is not. */
	whdr(&w, 0x3005, 0x8180, 1, 1, 0, 0);
	wquestion_a(&w);
	w16(&w, 0xc000 | DNS_HEADER_LEN);
	wrr(&w, DNS_T_A, 1, 60, 4);
	w32(&w, 0xc0000202);
	m = parse_bytes(state, w.b, w.n);
	assert_int_equal(m->status, 0);
	assert_int_equal(m->nrrs, 1);
	w.b[20] = DNS_HEADER_LEN - 1;
	m = parse_bytes(state, w.b, w.n);
	assert_int_equal(m->status, DNS_F_BAD_NAME);
	assert_int_equal(m->nrrs, 0);

	/* DNS_MAX_POINTERS pointers, each past a one-byte label: 64 accepted, 65 not. */
	for (int ptrs = DNS_MAX_POINTERS; ptrs <= DNS_MAX_POINTERS + 1; ptrs++) {
		whdr(&w, 0x3006, 0x0100, 1, 0, 0, 0);
		w16(&w, 0xc000 | 18);
		w16(&w, 1);
		w16(&w, 1);
		for (int i = 1; i < ptrs; i++)
			w16(&w, (uint16_t)(0xc000 | (w.n + 2)));
		w8(&w, 0);
		m = parse_bytes(state, w.b, w.n);
		if (ptrs == DNS_MAX_POINTERS) {
			assert_int_equal(last_rc(state), DNS_OK);
			expect_question(m, ".", 1);
		} else {
			assert_int_equal(last_rc(state), DNS_ERR_QUESTION);
			assert_int_equal(m->status, DNS_F_BAD_NAME);
		}
	}
}

/* The .bin files (fuzz seeds) hold the same bytes as the hex above. */
static void test_fixture_files_match(void **state)
{
	uint8_t want[MAX_MSG], got[MAX_MSG + 1];
	char path[256];
	size_t found = 0;

	for (size_t f = 0; f < N_FIXTURES; f++) {
		snprintf(path, sizeof(path), "tests/fixtures/dns/%s.bin", fixtures[f].name);
		FILE *fp = fopen(path, "rb");

		if (!fp)
			continue; /* not run from the repository root */
		size_t n = fread(got, 1, sizeof(got), fp);

		fclose(fp);
		assert_int_equal(n, from_hex(fixtures[f].hex, want, sizeof(want)));
		assert_memory_equal(got, want, n);
		found++;
	}
	if (found == 0)
		skip();
	assert_int_equal(found, N_FIXTURES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_mixed_case),
		cmocka_unit_test(test_resp_compressed),
		cmocka_unit_test(test_query_ecs_v4),
		cmocka_unit_test(test_query_ecs_v6_do),
		cmocka_unit_test(test_resp_aaaa),
		cmocka_unit_test(test_resp_mx),
		cmocka_unit_test(test_resp_txt),
		cmocka_unit_test(test_resp_https),
		cmocka_unit_test(test_resp_svcb),
		cmocka_unit_test(test_resp_srv_caa_ptr_cname),
		cmocka_unit_test(test_resp_soa_without_edns),
		cmocka_unit_test(test_resp_nxdomain),
		cmocka_unit_test(test_resp_badvers),
		cmocka_unit_test(test_escaped_names_real),
		cmocka_unit_test(test_query_nsid_cookie),
		cmocka_unit_test(test_truncated_in_answer),
		cmocka_unit_test(test_pointer_loops),
		cmocka_unit_test(test_pointer_chains),
		cmocka_unit_test(test_bad_labels),
		cmocka_unit_test(test_name_length_limit),
		cmocka_unit_test(test_lying_counts),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_short_messages),
		cmocka_unit_test(test_more_rrs_than_indexed),
		cmocka_unit_test(test_opt_edge_cases),
		cmocka_unit_test(test_edns_option_texts),
		cmocka_unit_test(test_rdata_malformed),
		cmocka_unit_test(test_rdata_svcb_edges),
		cmocka_unit_test(test_rdata_unknown_types),
		cmocka_unit_test(test_rdata_dnssec_and_tsig),
		cmocka_unit_test(test_rdata_addresses_and_locations),
		cmocka_unit_test(test_rdata_certs_and_strings),
		cmocka_unit_test(test_rdata_truncated_output),
		cmocka_unit_test(test_name_escaping),
		cmocka_unit_test(test_aaaa_text),
		cmocka_unit_test(test_mnemonics),
		cmocka_unit_test(test_name_equal),
		cmocka_unit_test(test_all_fixtures_format),
		cmocka_unit_test(test_fixture_files_match),
		cmocka_unit_test(test_name_255_accepted_256_refused),
		cmocka_unit_test(test_label_63_accepted_64_refused),
		cmocka_unit_test(test_tcp_message_65535),
		cmocka_unit_test(test_section_counts_65535),
		cmocka_unit_test(test_pointer_loops_and_forward_pointers),
	};

	return cmocka_run_group_tests_name("dns", tests, ctx_setup, NULL);
}
