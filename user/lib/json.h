/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A small JSON writer into a growable byte buffer, for JSON Lines output.
 *
 * The writer inserts the commas itself: it only needs to know the nesting
 * depth and whether the current container already holds an item. Values
 * written at depth 0 are separate top-level documents and are simply
 * concatenated; the caller puts the '\n' between lines with jbuf_append().
 *
 * Strings are written as UTF-8. '"', '\\' and control characters are
 * escaped (\b \f \n \r \t, others \u00XX). A byte that is not part of a
 * well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF, no truncated sequence, no lone continuation
 * byte) is written as \u00XX of its byte value, one escape per byte, so
 * the output is always valid JSON. Because valid characters U+0080..U+00FF
 * are always written as raw UTF-8, never escaped, an escape in
 * \u0080..\u00ff in the JSON text always stands for one raw input byte.
 *
 * Errors are sticky: when the buffer cannot grow, j->failed is set and
 * every later write is dropped until jbuf_reset()/jbuf_truncate().
 * No function allocates except to grow the buffer.
 */
#ifndef DNSSNOOP_JSON_H
#define DNSSNOOP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct jbuf {
	char *buf;
	size_t len;
	size_t cap;
	bool failed; /* the buffer could not grow: writes are being dropped */
	bool has_item; /* the innermost open container holds an item */
	bool after_key; /* a key was written; its value comes next */
	uint32_t depth; /* open objects/arrays */
};

/* Initial capacity may be 0. Returns 0 or -ENOMEM. */
int jbuf_init(struct jbuf *j, size_t initial_cap);
void jbuf_free(struct jbuf *j);
/* Empty the buffer and forget the nesting state and any failure. */
void jbuf_reset(struct jbuf *j);
/* Cut back to len bytes (e.g. drop a half-written record); clears state. */
void jbuf_truncate(struct jbuf *j, size_t len);

/* Grow so that n more bytes fit. Returns false (and sets failed) if not. */
bool jbuf_grow(struct jbuf *j, size_t n);

static inline bool jbuf_reserve(struct jbuf *j, size_t n)
{
	if (j->failed)
		return false;
	if (j->cap - j->len >= n)
		return true;
	return jbuf_grow(j, n);
}

/*
 * Raw bytes, no JSON structure (newlines, text output). Not inline: a
 * record's writer calls these dozens of times, and inlined they made it
 * several times larger and measurably slower, though it ran fewer
 * instructions (see docs/benchmarks.md, user-space pipeline).
 */
void jbuf_append(struct jbuf *j, const void *data, size_t n);
void jbuf_append_char(struct jbuf *j, char c);
void jbuf_append_str(struct jbuf *j, const char *s);
/* Decimal digits of v, no separators. */
void jbuf_append_u64(struct jbuf *j, uint64_t v);

/* Writes the decimal digits of v ending just before end; returns the start. */
char *jbuf_u64_digits(uint64_t v, char *end);
#define JBUF_U64_MAX_DIGITS 20

/* Structure. */
void jbuf_obj_begin(struct jbuf *j);
void jbuf_obj_end(struct jbuf *j);
void jbuf_arr_begin(struct jbuf *j);
void jbuf_arr_end(struct jbuf *j);
/* An object key (escaped like any string); the next call writes its value. */
void jbuf_key(struct jbuf *j, const char *key);

/*
 * A key that is a string literal needing no escaping: copied, not scanned.
 * JBUF_KEY(j, "ttl") writes "ttl": with one memcpy.
 */
#define JBUF_KEY(j, lit) jbuf_key_raw((j), "\"" lit "\":", sizeof("\"" lit "\":") - 1)
void jbuf_key_raw(struct jbuf *j, const char *quoted_key, size_t n);

/* JBUF_KEY plus a value. */
#define JBUF_KV_STR(j, lit, s)	(JBUF_KEY(j, lit), jbuf_str((j), (s)))
#define JBUF_KV_U64(j, lit, v)	(JBUF_KEY(j, lit), jbuf_u64((j), (v)))
#define JBUF_KV_I64(j, lit, v)	(JBUF_KEY(j, lit), jbuf_i64((j), (v)))
#define JBUF_KV_BOOL(j, lit, v) (JBUF_KEY(j, lit), jbuf_bool((j), (v)))
#define JBUF_KV_NULL(j, lit)	(JBUF_KEY(j, lit), jbuf_null(j))

/* Values. */
void jbuf_str(struct jbuf *j, const char *s);
void jbuf_strn(struct jbuf *j, const char *s, size_t n); /* may hold NULs */
void jbuf_u64(struct jbuf *j, uint64_t v);
void jbuf_i64(struct jbuf *j, int64_t v);
void jbuf_bool(struct jbuf *j, bool v);
void jbuf_null(struct jbuf *j);
/*
 * A string the program made itself (type names, addresses, times), known
 * to hold only printable ASCII other than '"' and '\\': quoted and copied,
 * not scanned. Anything that came off the wire goes through jbuf_str().
 */
void jbuf_word(struct jbuf *j, const char *s, size_t n);

#define JBUF_KV_WORD(j, lit, s) (JBUF_KEY(j, lit), jbuf_word((j), (s), strlen(s)))

/* An already-encoded JSON value, copied as is. */
void jbuf_raw(struct jbuf *j, const char *json, size_t n);

/* key + value shorthands. */
static inline void jbuf_kv_str(struct jbuf *j, const char *key, const char *s)
{
	jbuf_key(j, key);
	jbuf_str(j, s);
}

static inline void jbuf_kv_u64(struct jbuf *j, const char *key, uint64_t v)
{
	jbuf_key(j, key);
	jbuf_u64(j, v);
}

static inline void jbuf_kv_i64(struct jbuf *j, const char *key, int64_t v)
{
	jbuf_key(j, key);
	jbuf_i64(j, v);
}

static inline void jbuf_kv_bool(struct jbuf *j, const char *key, bool v)
{
	jbuf_key(j, key);
	jbuf_bool(j, v);
}

static inline void jbuf_kv_null(struct jbuf *j, const char *key)
{
	jbuf_key(j, key);
	jbuf_null(j);
}

/* Values that may be absent: null when s is NULL, or when !known. */
static inline void jbuf_str_or_null(struct jbuf *j, const char *s)
{
	if (s)
		jbuf_str(j, s);
	else
		jbuf_null(j);
}

static inline void jbuf_strn_or_null(struct jbuf *j, const char *s, size_t n)
{
	if (s)
		jbuf_strn(j, s, n);
	else
		jbuf_null(j);
}

static inline void jbuf_u64_or_null(struct jbuf *j, bool known, uint64_t v)
{
	if (known)
		jbuf_u64(j, v);
	else
		jbuf_null(j);
}

/* Appends the escaped form of s[0..n) without quotes or separators. */
void jbuf_append_escaped(struct jbuf *j, const char *s, size_t n);

/*
 * Cursor writes, for a record written in one pass: the writer asks for
 * room for a bounded run of fields once (jbuf_room), writes them at a
 * char pointer with no check per field, keys and their separators as one
 * literal (JPUT(p, ",\"ttl\":"), a fixed-size copy the compiler turns
 * into a few stores), and hands the end back (jbuf_commit). No nesting
 * state is kept: the writer puts every comma and bracket itself.
 */
static inline char *jbuf_room(struct jbuf *j, size_t n)
{
	return jbuf_reserve(j, n) ? j->buf + j->len : NULL;
}

static inline void jbuf_commit(struct jbuf *j, char *end)
{
	j->len = (size_t)(end - j->buf);
}

#define JPUT(p, lit) ((char *)memcpy((p), (lit), sizeof(lit) - 1) + sizeof(lit) - 1)

static inline char *jput(char *p, const void *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* "00" .. "99": two digits per table entry. */
extern const char jbuf_digit_pairs[201];

char *jput_u64_long(char *p, uint64_t v);

/* Decimal digits of v; most values in a record are below 100. */
static inline char *jput_u64(char *p, uint64_t v)
{
	if (v < 10) {
		*p = (char)('0' + v);
		return p + 1;
	}
	if (v < 100)
		return jput(p, &jbuf_digit_pairs[2 * v], 2);
	return jput_u64_long(p, v);
}

static inline char *jput_bool(char *p, bool v)
{
	return v ? JPUT(p, "true") : JPUT(p, "false");
}

/* Room jput_str() may take for n bytes: every byte \u00XX, and quotes. */
#define JPUT_STR_MAX(n) (6 * (size_t)(n) + 2)

/* s[0..n) as a JSON string, escaped (see the rules above). */
char *jput_str(char *p, const char *s, size_t n);
/* The escaped bytes alone, no quotes. */
char *jput_escaped(char *p, const char *s, size_t n);
/* Whether s[0..n) goes into a JSON string as it is (no byte to escape). */
bool json_plain(const char *s, size_t n);

/*
 * Length of the well-formed UTF-8 sequence starting at s (at most n bytes
 * available): 1..4, or 0 when the byte at s does not start one.
 */
size_t utf8_seq_len(const unsigned char *s, size_t n);

#endif
