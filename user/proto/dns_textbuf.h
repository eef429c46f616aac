/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Bounded text output for presentation formats: writers never pass the
 * end of the caller's buffer, and a text cut short ends in "..." (see
 * text_finish). Inside proto/ only: other modules use dns.h.
 */
#ifndef DNSSNOOP_DNS_TEXTBUF_H
#define DNSSNOOP_DNS_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct text {
	char *start;
	char *p;
	char *end; /* where the NUL goes at the latest */
	bool full;
};

/* Ends the text; returns its length, or -1 for malformed data. */
int text_finish(struct text *t, bool ok);

/*
 * Room for n more bytes? If not, the output is marked truncated and
 * nothing more is written: what is there stays an exact prefix of the
 * full text, and text_finish() puts "..." over its last three bytes.
 */
static inline bool text_room(struct text *t, size_t n)
{
	if (!t->full && (size_t)(t->end - t->p) >= n)
		return true;
	t->full = true;
	return false;
}

/* The hot writers, inline: rdata text is written for every answer. */
static inline void text_init(struct text *t, char *out, size_t cap)
{
	t->start = t->p = out;
	t->end = out + cap - 1;
	t->full = false;
}

static inline void put_mem(struct text *t, const char *s, size_t n)
{
	size_t room = (size_t)(t->end - t->p);

	if (t->full)
		return;
	if (n > room) { /* fill up to the end: the prefix stays exact */
		n = room;
		t->full = true;
	}
	memcpy(t->p, s, n);
	t->p += n;
}

static inline void put_str(struct text *t, const char *s)
{
	put_mem(t, s, strlen(s));
}

static inline void put_char(struct text *t, char c)
{
	if (text_room(t, 1))
		*t->p++ = c;
}

void put_dec(struct text *t, uint32_t v);
void put_ipv4(struct text *t, const uint8_t *a);
/* IPv6 as dig prints it. */
void put_ipv6(struct text *t, const uint8_t *a);
void put_hex(struct text *t, const uint8_t *p, size_t n, const char *digits);
void put_base64(struct text *t, const uint8_t *p, size_t n);
/* Bytes escaped as inside a quoted character-string (no quotes added). */
void put_escaped(struct text *t, const uint8_t *p, size_t n);
void put_quoted(struct text *t, const uint8_t *p, size_t n);

#endif
