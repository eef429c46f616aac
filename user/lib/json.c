// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* JSON writer; see json.h for the escaping rules. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"

#define JBUF_MIN_CAP 256

int jbuf_init(struct jbuf *j, size_t initial_cap)
{
	memset(j, 0, sizeof(*j));
	if (initial_cap && !jbuf_grow(j, initial_cap))
		return -ENOMEM;
	return 0;
}

void jbuf_free(struct jbuf *j)
{
	free(j->buf);
	memset(j, 0, sizeof(*j));
}

void jbuf_reset(struct jbuf *j)
{
	jbuf_truncate(j, 0);
}

void jbuf_truncate(struct jbuf *j, size_t len)
{
	if (len < j->len)
		j->len = len;
	j->failed = false;
	j->has_item = false;
	j->after_key = false;
	j->depth = 0;
}

bool jbuf_grow(struct jbuf *j, size_t n)
{
	size_t need, cap;
	char *p;

	if (j->failed)
		return false;
	if (j->cap - j->len >= n)
		return true;
	if (n > SIZE_MAX / 2 - j->len)
		goto fail;
	need = j->len + n;
	cap = j->cap > JBUF_MIN_CAP ? j->cap : JBUF_MIN_CAP;
	while (cap < need)
		cap *= 2;
	p = realloc(j->buf, cap);
	if (!p)
		goto fail;
	j->buf = p;
	j->cap = cap;
	return true;
fail:
	j->failed = true;
	return false;
}

void jbuf_append_str(struct jbuf *j, const char *s)
{
	jbuf_append(j, s, strlen(s));
}

void jbuf_append(struct jbuf *j, const void *data, size_t n)
{
	if (!jbuf_reserve(j, n))
		return;
	memcpy(j->buf + j->len, data, n);
	j->len += n;
}

void jbuf_append_char(struct jbuf *j, char c)
{
	if (!jbuf_reserve(j, 1))
		return;
	j->buf[j->len++] = c;
}

/* Separator before a value or key: a comma unless first in its container. */
static void before_item(struct jbuf *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth && j->has_item)
		jbuf_append_char(j, ',');
	j->has_item = true;
}

void jbuf_key_raw(struct jbuf *j, const char *quoted_key, size_t n)
{
	before_item(j);
	jbuf_append(j, quoted_key, n);
	j->after_key = true;
}

void jbuf_null(struct jbuf *j)
{
	before_item(j);
	jbuf_append(j, "null", 4);
}

void jbuf_word(struct jbuf *j, const char *s, size_t n)
{
	before_item(j);
	if (!jbuf_reserve(j, n + 2))
		return;
	j->buf[j->len] = '"';
	memcpy(j->buf + j->len + 1, s, n);
	j->buf[j->len + n + 1] = '"';
	j->len += n + 2;
}

const char jbuf_digit_pairs[201] = "00010203040506070809"
				     "10111213141516171819"
				     "20212223242526272829"
				     "30313233343536373839"
				     "40414243444546474849"
				     "50515253545556575859"
				     "60616263646566676869"
				     "70717273747576777879"
				     "80818283848586878889"
				     "90919293949596979899";

char *jbuf_u64_digits(uint64_t v, char *end)
{
	char *p = end;

	/* Two digits per division: half the divisions of the naive loop. */
	while (v >= 100) {
		unsigned int r = (unsigned int)(v % 100);

		v /= 100;
		p -= 2;
		memcpy(p, &jbuf_digit_pairs[2 * r], 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, &jbuf_digit_pairs[2 * v], 2);
	} else {
		*--p = (char)('0' + v);
	}
	return p;
}

static unsigned int dec_len(uint64_t v)
{
	unsigned int n = 1;

	for (; v >= 10000; v /= 10000)
		n += 4;
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/* Digits of a v >= 100 that fits 32 bits: cheaper divisions than 64-bit ones. */
static char *put_u32_long(char *p, uint32_t v)
{
	unsigned int n = v >= 100000 ? (v >= 10000000 ? 8 + (v >= 100000000) + (v >= 1000000000)
						      : 6 + (v >= 1000000))
				     : 3 + (v >= 1000) + (v >= 10000);
	char *end = p + n, *q = end;

	for (; v >= 100; v /= 100) {
		q -= 2;
		memcpy(q, &jbuf_digit_pairs[2 * (v % 100)], 2);
	}
	if (v >= 10)
		memcpy(q - 2, &jbuf_digit_pairs[2 * v], 2);
	else
		q[-1] = (char)('0' + v);
	return end;
}

/* 100 <= v < 100000: ports, ids, lengths, most TTLs; no loop. */
static char *put_u17(char *p, unsigned int v)
{
	unsigned int hi = v / 100, lo = v % 100;

	if (v >= 10000) {
		*p++ = (char)('0' + hi / 100);
		hi %= 100;
	} else if (v < 1000) {
		*p++ = (char)('0' + hi);
		return jput(p, &jbuf_digit_pairs[2 * lo], 2);
	}
	p = jput(p, &jbuf_digit_pairs[2 * hi], 2);
	return jput(p, &jbuf_digit_pairs[2 * lo], 2);
}

char *jput_u64_long(char *p, uint64_t v)
{
	char *end;

	if (v < 100000)
		return put_u17(p, (unsigned int)v);
	if (v <= UINT32_MAX)
		return put_u32_long(p, (uint32_t)v);
	end = p + dec_len(v);
	jbuf_u64_digits(v, end);
	return end;
}

void jbuf_append_u64(struct jbuf *j, uint64_t v)
{
	char tmp[JBUF_U64_MAX_DIGITS];
	char *start = jbuf_u64_digits(v, tmp + sizeof(tmp));

	jbuf_append(j, start, (size_t)(tmp + sizeof(tmp) - start));
}

/* Length of a well-formed UTF-8 sequence (Unicode 15, table 3-7). */
size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c, lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (n == 0)
		return 0;
	c = s[0];
	if (c < 0x80)
		return 1;
	if (c < 0xc2) /* continuation byte, or C0/C1: overlong 2-byte form */
		return 0;
	if (c < 0xe0) {
		len = 2;
	} else if (c < 0xf0) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* UTF-16 surrogates */
	} else if (c < 0xf5) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

static const char hex_digits[] = "0123456789abcdef";

static char *put_u00xx(char *out, unsigned char c)
{
	memcpy(out, "\\u00", 4);
	out[4] = hex_digits[c >> 4];
	out[5] = hex_digits[c & 0xf];
	return out + 6;
}

static char *put_ascii_escape(char *out, unsigned char c)
{
	char e;

	switch (c) {
	case '"':
		e = '"';
		break;
	case '\\':
		e = '\\';
		break;
	case '\b':
		e = 'b';
		break;
	case '\f':
		e = 'f';
		break;
	case '\n':
		e = 'n';
		break;
	case '\r':
		e = 'r';
		break;
	case '\t':
		e = 't';
		break;
	default:
		return put_u00xx(out, c);
	}
	out[0] = '\\';
	out[1] = e;
	return out + 2;
}

/* 1 for the bytes copied as they are: printable ASCII but '"' and '\\'. */
#define PLAIN(c) ((c) >= 0x20 && (c) < 0x80 && (c) != '"' && (c) != '\\')
#define P4(b)	 PLAIN(b), PLAIN((b) + 1), PLAIN((b) + 2), PLAIN((b) + 3)
#define P16(b)	 P4(b), P4((b) + 4), P4((b) + 8), P4((b) + 12)
#define P64(b)	 P16(b), P16((b) + 16), P16((b) + 32), P16((b) + 48)
static const uint8_t plain_byte[256] = {P64(0), P64(64), P64(128), P64(192)};

/*
 * Whether 8 bytes (loaded in any byte order) are all plain: no byte >= 0x80,
 * none below 0x20, none equal to '"' or '\\'. Bit tricks from
 * "Bit Twiddling Hacks" (haszero / hasless), exact when no byte >= 0x80.
 */
static inline bool plain8(uint64_t v)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t quote = v ^ (ones * '"'), bslash = v ^ (ones * '\\');
	uint64_t bad = (v | ((v - ones * 0x20) & ~v) | ((quote - ones) & ~quote) |
			((bslash - ones) & ~bslash)) &
		       highs;

	return bad == 0;
}

bool json_plain(const char *s, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t v;

		memcpy(&v, s + i, 8);
		if (!plain8(v))
			return false;
	}
	for (; i < n; i++)
		if (!plain_byte[(unsigned char)s[i]])
			return false;
	return true;
}

void jbuf_append_escaped(struct jbuf *j, const char *s, size_t n)
{
	/* Reserve the worst case (every byte \u00XX) once: no checks per byte. */
	if (n > SIZE_MAX / 8) {
		j->failed = true;
		return;
	}
	if (!jbuf_reserve(j, 6 * n))
		return;
	jbuf_commit(j, jput_escaped(j->buf + j->len, s, n));
}

char *jput_str(char *out, const char *s, size_t n)
{
	*out = '"';
	out = jput_escaped(out + 1, s, n);
	*out = '"';
	return out + 1;
}

char *jput_escaped(char *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		size_t k;
		uint64_t v;

		/* Most text is plain ASCII: copy it 8 bytes at a time. */
		while (end - p >= 8) {
			memcpy(&v, p, 8);
			if (!plain8(v))
				break;
			memcpy(out, p, 8);
			out += 8;
			p += 8;
		}
		if (p == end)
			break;
		if (plain_byte[*p]) {
			*out++ = (char)*p++;
			continue;
		}
		if (*p < 0x80) {
			out = put_ascii_escape(out, *p++);
			continue;
		}
		k = utf8_seq_len(p, (size_t)(end - p));
		if (k) {
			memcpy(out, p, k);
			out += k;
			p += k;
		} else {
			out = put_u00xx(out, *p++);
		}
	}
	return out;
}

static void open_container(struct jbuf *j, char c)
{
	before_item(j);
	jbuf_append_char(j, c);
	j->depth++;
	j->has_item = false;
}

static void close_container(struct jbuf *j, char c)
{
	jbuf_append_char(j, c);
	if (j->depth)
		j->depth--;
	j->has_item = true;
	j->after_key = false;
}

void jbuf_obj_begin(struct jbuf *j)
{
	open_container(j, '{');
}

void jbuf_obj_end(struct jbuf *j)
{
	close_container(j, '}');
}

void jbuf_arr_begin(struct jbuf *j)
{
	open_container(j, '[');
}

void jbuf_arr_end(struct jbuf *j)
{
	close_container(j, ']');
}

static void quoted(struct jbuf *j, const char *s, size_t n)
{
	jbuf_append_char(j, '"');
	jbuf_append_escaped(j, s, n);
	jbuf_append_char(j, '"');
}

void jbuf_key(struct jbuf *j, const char *key)
{
	before_item(j);
	quoted(j, key, strlen(key));
	jbuf_append_char(j, ':');
	j->after_key = true;
}

void jbuf_strn(struct jbuf *j, const char *s, size_t n)
{
	before_item(j);
	quoted(j, s, n);
}

void jbuf_str(struct jbuf *j, const char *s)
{
	jbuf_strn(j, s, strlen(s));
}

void jbuf_u64(struct jbuf *j, uint64_t v)
{
	before_item(j);
	jbuf_append_u64(j, v);
}

void jbuf_i64(struct jbuf *j, int64_t v)
{
	before_item(j);
	if (v < 0) {
		jbuf_append_char(j, '-');
		/* Negate in unsigned arithmetic: INT64_MIN has no positive twin. */
		jbuf_append_u64(j, 0 - (uint64_t)v);
	} else {
		jbuf_append_u64(j, (uint64_t)v);
	}
}

void jbuf_bool(struct jbuf *j, bool v)
{
	before_item(j);
	if (v)
		jbuf_append(j, "true", 4);
	else
		jbuf_append(j, "false", 5);
}

void jbuf_raw(struct jbuf *j, const char *json, size_t n)
{
	before_item(j);
	jbuf_append(j, json, n);
}
