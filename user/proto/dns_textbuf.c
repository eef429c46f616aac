// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Bounded presentation text (see dns_textbuf.h): what rdata (dns_rdata.c)
 * and EDNS options (dns_text.c) are written with.
 */
#include <string.h>

#include <sys/socket.h>

#include "lib/fmt.h"
#include "proto/dns_impl.h"
#include "proto/dns_textbuf.h"

/* ------------------------------------------------------------------ */
/* Bounded text output for rdata and options                          */

void put_dec(struct text *t, uint32_t v)
{
	char tmp[10];

	put_mem(t, tmp, (size_t)(put_u32(tmp, v) - tmp));
}

/* Ends the text; returns its length, or -1 for malformed data. */
int text_finish(struct text *t, bool ok)
{
	if (!ok) {
		t->start[0] = '\0';
		return -1;
	}
	if (t->full) {
		/* Mark the cut, even in a buffer too small for all three dots. */
		size_t dots = t->end - t->start < 3 ? (size_t)(t->end - t->start) : 3;

		memset(t->end - dots, '.', dots);
		t->p = t->end;
	}
	*t->p = '\0';
	return (int)(t->p - t->start);
}

void put_ipv4(struct text *t, const uint8_t *a)
{
	char tmp[FMT_ADDR_MAX];

	put_mem(t, tmp, fmt_addr(tmp, AF_INET, a));
}

void put_ipv6(struct text *t, const uint8_t *a)
{
	char tmp[FMT_ADDR_MAX];

	put_mem(t, tmp, fmt_ipv6_as_dig(tmp, a));
}

void put_hex(struct text *t, const uint8_t *p, size_t n, const char *digits)
{
	for (size_t i = 0; i < n; i++) {
		if (!text_room(t, 2))
			return;
		t->p[0] = digits[p[i] >> 4];
		t->p[1] = digits[p[i] & 0xf];
		t->p += 2;
	}
}

void put_base64(struct text *t, const uint8_t *p, size_t n)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		char q[4];

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = b64[v >> 18];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? b64[v & 63] : '=';
		put_mem(t, q, 4);
	}
}

/* Bytes escaped as inside a quoted character-string (no quotes added). */
void put_escaped(struct text *t, const uint8_t *p, size_t n)
{
	static const uint8_t out_len[3] = {1, 2, 4};

	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i], esc = dns_str_esc[c];

		if (!text_room(t, out_len[esc]))
			return;
		switch (esc) {
		case 0:
			*t->p++ = (char)c;
			break;
		case 1:
			t->p[0] = '\\';
			t->p[1] = (char)c;
			t->p += 2;
			break;
		default:
			t->p = put_ddd(t->p, c);
		}
	}
}

void put_quoted(struct text *t, const uint8_t *p, size_t n)
{
	put_char(t, '"');
	put_escaped(t, p, n);
	put_char(t, '"');
}
