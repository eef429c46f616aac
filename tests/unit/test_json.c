// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests for the JSON writer (user/lib/json.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/json.h"

/* The JSON text of one string value written from n raw bytes. */
static void assert_escapes_to(const char *in, size_t n, const char *expected)
{
	struct jbuf j;

	assert_int_equal(jbuf_init(&j, 0), 0);
	jbuf_strn(&j, in, n);
	assert_false(j.failed);
	jbuf_append_char(&j, '\0');
	assert_string_equal(j.buf, expected);
	jbuf_free(&j);
}

#define ESCAPES_TO(lit, expected) assert_escapes_to(lit, sizeof(lit) - 1, expected)

static void test_plain_and_specials(void **state)
{
	ESCAPES_TO("", "\"\"");
	ESCAPES_TO("www.example.com", "\"www.example.com\"");
	ESCAPES_TO("a\"b", "\"a\\\"b\"");
	ESCAPES_TO("a\\b", "\"a\\\\b\"");
	ESCAPES_TO("\\\"", "\"\\\\\\\"\"");
	/* '/' and DEL need no escape in JSON. */
	ESCAPES_TO("a/b\x7f", "\"a/b\x7f\"");
	/* A NUL inside the given length is data, not the end. */
	ESCAPES_TO("a\0b", "\"a\\u0000b\"");
}

static void test_all_control_chars(void **state)
{
	char in[32];

	for (int i = 0; i < 32; i++)
		in[i] = (char)i;
	assert_escapes_to(in, sizeof(in),
			  "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
			  "\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
			  "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
			  "\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\"");
}

static void test_valid_utf8_kept(void **state)
{
	/* é, €, U+1D11E, U+10FFFF, U+D7FF, U+E000, U+0080 */
	ESCAPES_TO("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	ESCAPES_TO("\xe2\x82\xac", "\"\xe2\x82\xac\"");
	ESCAPES_TO("\xf0\x9d\x84\x9e", "\"\xf0\x9d\x84\x9e\"");
	ESCAPES_TO("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");
	ESCAPES_TO("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");
	ESCAPES_TO("\xee\x80\x80", "\"\xee\x80\x80\"");
	ESCAPES_TO("\xc2\x80", "\"\xc2\x80\"");
}

static void test_invalid_utf8_escaped_per_byte(void **state)
{
	/* Lone continuation bytes. */
	ESCAPES_TO("\x80", "\"\\u0080\"");
	ESCAPES_TO("a\xbf"
		   "b",
		   "\"a\\u00bfb\"");
	/* Overlong forms of '/', and C0/C1 leads. */
	ESCAPES_TO("\xc0\xaf", "\"\\u00c0\\u00af\"");
	ESCAPES_TO("\xc1\xbf", "\"\\u00c1\\u00bf\"");
	ESCAPES_TO("\xe0\x80\xaf", "\"\\u00e0\\u0080\\u00af\"");
	ESCAPES_TO("\xf0\x80\x80\xaf", "\"\\u00f0\\u0080\\u0080\\u00af\"");
	/* UTF-16 surrogate U+D800 encoded in UTF-8. */
	ESCAPES_TO("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"");
	/* Above U+10FFFF, and bytes that never occur. */
	ESCAPES_TO("\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\"");
	ESCAPES_TO("\xf5\xfe\xff", "\"\\u00f5\\u00fe\\u00ff\"");
	/* Truncated sequences: at the end, and before an ASCII byte. */
	ESCAPES_TO("\xe2\x82", "\"\\u00e2\\u0082\"");
	ESCAPES_TO("\xe2\x82"
		   "A",
		   "\"\\u00e2\\u0082A\"");
	ESCAPES_TO("\xf0\x9d\x84", "\"\\u00f0\\u009d\\u0084\"");
	ESCAPES_TO("\xc3", "\"\\u00c3\"");
	/* A broken sequence followed by a valid one: the valid one survives. */
	ESCAPES_TO("\xe2\xc3\xa9", "\"\\u00e2\xc3\xa9\"");
}

/* A special byte in every position of a long plain run (the 8-byte fast path). */
static void test_special_byte_in_every_lane(void **state)
{
	static const struct {
		char c;
		const char *esc;
	} cases[] = {
		{'"', "\\\""},	     {'\\', "\\\\"},	  {'\n', "\\n"},    {'\x1f', "\\u001f"},
		{'\x80', "\\u0080"}, {'\xff', "\\u00ff"}, {'\x7f', "\x7f"}, {' ', " "},
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		for (size_t pos = 0; pos < 24; pos++) {
			char in[24], want[64];

			memset(in, 'a', sizeof(in));
			in[pos] = cases[k].c;
			snprintf(want, sizeof(want), "\"%.*s%s%.*s\"", (int)pos, in, cases[k].esc,
				 (int)(sizeof(in) - pos - 1), in + pos + 1);
			assert_escapes_to(in, sizeof(in), want);
		}
	}
}

static void test_utf8_seq_len(void **state)
{
	assert_int_equal(utf8_seq_len((const unsigned char *)"A", 1), 1);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xc3\xa9", 2), 2);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xc3\xa9", 1), 0);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xf0\x9d\x84\x9e", 4), 4);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xf0\x9d\x84\x9e", 3), 0);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\x80", 1), 0);
	assert_int_equal(utf8_seq_len((const unsigned char *)"", 0), 0);
}

static void assert_buf(struct jbuf *j, const char *expected)
{
	assert_false(j->failed);
	assert_int_equal(j->len, strlen(expected));
	assert_memory_equal(j->buf, expected, j->len);
}

static void test_u64_i64_extremes(void **state)
{
	static const struct {
		uint64_t v;
		const char *text;
	} u[] = {
		{0, "0"},
		{9, "9"},
		{10, "10"},
		{99, "99"},
		{100, "100"},
		{101, "101"},
		{4294967295u, "4294967295"},
		{4294967296u, "4294967296"},
		{10000000000000000000u, "10000000000000000000"},
		{UINT64_MAX, "18446744073709551615"},
	};
	static const struct {
		int64_t v;
		const char *text;
	} s[] = {
		{0, "0"},
		{-1, "-1"},
		{42, "42"},
		{INT64_MAX, "9223372036854775807"},
		{INT64_MIN, "-9223372036854775808"},
	};
	struct jbuf j;

	assert_int_equal(jbuf_init(&j, 0), 0);
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		jbuf_reset(&j);
		jbuf_u64(&j, u[i].v);
		assert_buf(&j, u[i].text);
	}
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		jbuf_reset(&j);
		jbuf_i64(&j, s[i].v);
		assert_buf(&j, s[i].text);
	}
	jbuf_free(&j);
}

static void test_structure_and_commas(void **state)
{
	struct jbuf j;

	assert_int_equal(jbuf_init(&j, 0), 0);
	jbuf_obj_begin(&j);
	jbuf_kv_str(&j, "a", "x");
	jbuf_kv_u64(&j, "b", 1);
	jbuf_key(&j, "c");
	jbuf_arr_begin(&j);
	jbuf_arr_end(&j);
	jbuf_key(&j, "d");
	jbuf_arr_begin(&j);
	jbuf_u64(&j, 1);
	jbuf_obj_begin(&j);
	jbuf_obj_end(&j);
	jbuf_arr_begin(&j);
	jbuf_null(&j);
	jbuf_bool(&j, true);
	jbuf_arr_end(&j);
	jbuf_bool(&j, false);
	jbuf_arr_end(&j);
	jbuf_key(&j, "e");
	jbuf_raw(&j, "{\"r\":1}", 7);
	jbuf_kv_i64(&j, "f", -5);
	jbuf_kv_null(&j, "g\n");
	jbuf_obj_end(&j);
	assert_int_equal(j.depth, 0);
	assert_buf(&j, "{\"a\":\"x\",\"b\":1,\"c\":[],\"d\":[1,{},[null,true],false],"
		       "\"e\":{\"r\":1},\"f\":-5,\"g\\n\":null}");

	/* Top-level values are separate documents: no comma between them. */
	jbuf_reset(&j);
	jbuf_obj_begin(&j);
	jbuf_obj_end(&j);
	jbuf_append_char(&j, '\n');
	jbuf_obj_begin(&j);
	jbuf_kv_u64(&j, "x", 2);
	jbuf_obj_end(&j);
	jbuf_append_char(&j, '\n');
	assert_buf(&j, "{}\n{\"x\":2}\n");
	jbuf_free(&j);
}

/* Words are quoted and copied, with the same separators as any string. */
static void test_words_like_strings(void **state)
{
	struct jbuf j;

	assert_int_equal(jbuf_init(&j, 0), 0);
	jbuf_obj_begin(&j);
	JBUF_KV_WORD(&j, "qtype", "AAAA");
	JBUF_KEY(&j, "flags");
	jbuf_arr_begin(&j);
	jbuf_word(&j, "rd", 2);
	jbuf_word(&j, "", 0);
	jbuf_str(&j, "ra");
	jbuf_arr_end(&j);
	JBUF_KV_WORD(&j, "addr", "2001:db8::1");
	jbuf_obj_end(&j);
	jbuf_append_char(&j, '\0');
	assert_false(j.failed);
	assert_string_equal(
		j.buf,
		"{\"qtype\":\"AAAA\",\"flags\":[\"rd\",\"\",\"ra\"],\"addr\":\"2001:db8::1\"}");
	jbuf_free(&j);
}

static void test_growth_and_truncate(void **state)
{
	struct jbuf j;
	char big[5000];
	size_t mark;

	memset(big, '\x01', sizeof(big));
	assert_int_equal(jbuf_init(&j, 0), 0);
	jbuf_append_str(&j, "keep");
	mark = j.len;
	jbuf_arr_begin(&j);
	jbuf_strn(&j, big, sizeof(big));
	assert_false(j.failed);
	/* '[' + quotes + 6 bytes per \u0001 */
	assert_int_equal(j.len, mark + 1 + 2 + 6 * sizeof(big));
	assert_memory_equal(j.buf + mark + 2, "\\u0001\\u0001", 12);
	jbuf_truncate(&j, mark);
	assert_int_equal(j.len, 4);
	assert_int_equal(j.depth, 0);
	jbuf_u64(&j, 7);
	assert_buf(&j, "keep7");

	/* Once failed, writes are dropped until truncate clears the failure. */
	j.failed = true;
	jbuf_str(&j, "lost");
	jbuf_append_u64(&j, 1);
	assert_int_equal(j.len, 5);
	jbuf_truncate(&j, 4);
	assert_false(j.failed);
	jbuf_append_char(&j, '!');
	assert_buf(&j, "keep!");
	jbuf_free(&j);
}

/* ---- round trip through a real JSON parser ---- */

static const char roundtrip_py[] =
	"import json, sys\n"
	"def ref(b):\n"
	"    # Our rule: valid UTF-8 kept, each invalid byte becomes U+00XX.\n"
	"    s = b.decode('utf-8', 'surrogateescape')\n"
	"    return ''.join(chr(ord(c) - 0xdc00) if 0xdc80 <= ord(c) <= 0xdcff else c for c in s)\n"
	"n = 0\n"
	"with open(sys.argv[1], 'rb') as f:\n"
	"    data = f.read()\n"
	"data.decode('utf-8')  # the whole output must be valid UTF-8\n"
	"for line in data.split(b'\\n')[:-1]:\n"
	"    rec = json.loads(line)\n"
	"    want = ref(bytes.fromhex(rec['hex']))\n"
	"    if rec['s'] != want:\n"
	"        print('mismatch', rec['hex'], repr(rec['s']), repr(want)); sys.exit(1)\n"
	"    n += 1\n"
	"if n != int(sys.argv[2]):\n"
	"    print('lines', n); sys.exit(1)\n";

static int run_python(const char *script, const char *arg1, const char *arg2)
{
	char path[] = "/tmp/test_json_py_XXXXXX";
	char cmd[512];
	int fd = mkstemp(path), rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, script, strlen(script)), (ssize_t)strlen(script));
	close(fd);
	snprintf(cmd, sizeof(cmd), "python3 %s %s %s", path, arg1, arg2);
	rc = system(cmd);
	unlink(path);
	return rc;
}

/* Random byte strings, biased towards UTF-8 lead and continuation bytes. */
static void test_random_bytes_parse_back(void **state)
{
	static const uint8_t interesting[] = {0x00, 0x1f, '"',	'\\', 0x7f, 0x80, 0xbf, 0xc0,
					      0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5,
					      0xff, 0x9f, 0xa0, 0x8f, 0x90, 'a'};
	char path[] = "/tmp/test_json_XXXXXX", count[16];
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	struct jbuf j;
	int fd = mkstemp(path);
	const int lines = 3000;

	assert_true(fd >= 0);
	assert_int_equal(jbuf_init(&j, 0), 0);
	for (int l = 0; l < lines; l++) {
		uint8_t b[40];
		size_t n;
		char hex[2 * sizeof(b) + 1];

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		n = (seed >> 33) % sizeof(b);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			b[i] = (seed >> 40) & 1 ? interesting[(seed >> 41) % sizeof(interesting)]
						: (uint8_t)(seed >> 48);
			sprintf(hex + 2 * i, "%02x", b[i]);
		}
		hex[2 * n] = '\0';
		jbuf_obj_begin(&j);
		jbuf_kv_str(&j, "hex", hex);
		jbuf_key(&j, "s");
		jbuf_strn(&j, (const char *)b, n);
		jbuf_obj_end(&j);
		jbuf_append_char(&j, '\n');
	}
	assert_false(j.failed);
	assert_int_equal(write(fd, j.buf, j.len), (ssize_t)j.len);
	close(fd);
	snprintf(count, sizeof(count), "%d", lines);
	assert_int_equal(run_python(roundtrip_py, path, count), 0);
	unlink(path);
	jbuf_free(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_specials),
		cmocka_unit_test(test_all_control_chars),
		cmocka_unit_test(test_valid_utf8_kept),
		cmocka_unit_test(test_invalid_utf8_escaped_per_byte),
		cmocka_unit_test(test_special_byte_in_every_lane),
		cmocka_unit_test(test_utf8_seq_len),
		cmocka_unit_test(test_u64_i64_extremes),
		cmocka_unit_test(test_structure_and_commas),
		cmocka_unit_test(test_words_like_strings),
		cmocka_unit_test(test_growth_and_truncate),
		cmocka_unit_test(test_random_bytes_parse_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
