/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the decoder's two halves share: wire reading (dns.c) and
 * presentation text (dns_rdata.c, dns_text.c). Not for other modules: they use dns.h.
 */
#ifndef DNSSNOOP_DNS_IMPL_H
#define DNSSNOOP_DNS_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/dns.h"

#define EDNS_OPT_ECS 8 /* client subnet, RFC 7871 */

/*
 * How a byte appears in a name in presentation format (RFC 1035 5.1):
 * 0 as itself, 1 after a backslash, 2 as \DDD. Space is below 0x21 and
 * so becomes \032, as dig and the zone-file parsers print it: a text
 * line split on spaces then never cuts a name in two.
 */
#define NAME_ESC(c)                                                                              \
	((c) < 0x21 || (c) > 0x7e ? 2                                                            \
	 : ((c) == '.' || (c) == '\\' || (c) == '"' || (c) == '(' || (c) == ')' || (c) == ';' || \
	    (c) == '@' || (c) == '$')                                                            \
		 ? 1                                                                             \
		 : 0)

/* Inside a quoted character-string: only '"' and '\' need a backslash. */
#define STR_ESC(c) ((c) < 0x20 || (c) > 0x7e ? 2 : ((c) == '"' || (c) == '\\') ? 1 : 0)

#define T4(M, b)  M(b), M((b) + 1), M((b) + 2), M((b) + 3)
#define T16(M, b) T4(M, b), T4(M, (b) + 4), T4(M, (b) + 8), T4(M, (b) + 12)
#define T64(M, b) T16(M, b), T16(M, (b) + 16), T16(M, (b) + 32), T16(M, (b) + 48)
#define T256(M)	  T64(M, 0), T64(M, 64), T64(M, 128), T64(M, 192)

extern const uint8_t dns_name_esc[256];
extern const uint8_t dns_str_esc[256];

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Writes "\DDD" for byte c; returns the new end. */
static inline char *put_ddd(char *o, uint8_t c)
{
	o[0] = '\\';
	o[1] = (char)('0' + c / 100);
	o[2] = (char)('0' + c / 10 % 10);
	o[3] = (char)('0' + c % 10);
	return o + 4;
}

/* Unsigned decimal into o (room for 10 digits); returns the new end. */
static inline char *put_u32(char *o, uint32_t v)
{
	char tmp[10];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*o++ = tmp[--n];
	return o;
}

enum name_rc {
	NAME_OK = 0,
	NAME_BAD = -1, /* loop, bad label type, too long, pointer out of range */
	NAME_SHORT = -2, /* the message ended inside the name's own bytes */
};

/*
 * Walk the name at off: validate it (pointers followed, bounded), and when
 * out is not NULL write its presentation text there (*text_len: its
 * length). *end: the offset after the name's own bytes. Returns NAME_OK or
 * a negative enum name_rc.
 */
int dns_name_walk(const uint8_t *buf, size_t len, size_t off, char *out, size_t *end,
		  size_t *text_len);
/* The EDNS client-subnet option's value (RFC 7871); false if malformed. */
bool dns_parse_ecs(const uint8_t *p, size_t n, struct dns_ecs *ecs);

#endif
