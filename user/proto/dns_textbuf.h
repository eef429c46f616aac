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

struct text {
	char *start;
	char *p;
	char *end; /* where the NUL goes at the latest */
	bool full;
};

void text_init(struct text *t, char *out, size_t cap);
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

void put_mem(struct text *t, const char *s, size_t n);
void put_str(struct text *t, const char *s);
void put_char(struct text *t, char c);
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
