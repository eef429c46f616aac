// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * DNS wire-format decoder. See dns.h for the contract.
 *
 * Design notes:
 * - dns_parse() is on the hot path. It reads the header, converts the
 *   first question name to text, and then only walks the records: each
 *   owner name is validated (pointers followed) but not converted, and
 *   rdata is only bounds-checked (plus cheap size checks by type, such
 *   as 4 bytes for A). Nothing is allocated and struct dns_msg is not cleared
 *   as a whole: rrs[] beyond nrrs and qname beyond qname_len stay stale.
 * - Every name walk is bounded twice: at most DNS_MAX_POINTERS pointers
 *   and at most DNS_MAX_NAME_WIRE bytes of uncompressed name, so a
 *   pointer loop (even one that passes through labels) ends after a few
 *   hundred steps. Pointers may go forward, but never into the header.
 * - Byte classification (what needs escaping) is done with 256-entry
 *   tables, not per-byte calls.
 * - rrs_seen counts the same records as nrrs (the OPT record excluded)
 *   but is not capped at DNS_MAX_RRS; section_count[] does count OPT.
 *   section_count[0] is the number of questions present.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proto/dns.h"
#include "lib/fmt.h"

enum {
	T_A = 1,
	T_NS = 2,
	T_MD = 3,
	T_MF = 4,
	T_CNAME = 5,
	T_SOA = 6,
	T_MB = 7,
	T_MG = 8,
	T_MR = 9,
	T_PTR = 12,
	T_HINFO = 13,
	T_MINFO = 14,
	T_MX = 15,
	T_TXT = 16,
	T_RP = 17,
	T_AFSDB = 18,
	T_RT = 21,
	T_AAAA = 28,
	T_SRV = 33,
	T_KX = 36,
	T_DNAME = 39,
	T_OPT = 41,
	T_SVCB = 64,
	T_HTTPS = 65,
	T_SPF = 99,
	T_CAA = 257,
};

#define EDNS_OPT_ECS 8

/* ------------------------------------------------------------------ */
/* Byte tables                                                         */

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

static const uint8_t name_esc[256] = {T256(NAME_ESC)};
static const uint8_t str_esc[256] = {T256(STR_ESC)};

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
static char *put_u32(char *o, uint32_t v)
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

/* ------------------------------------------------------------------ */
/* Names                                                               */

enum name_rc {
	NAME_OK = 0,
	NAME_BAD = -1, /* loop, bad label type, too long, pointer out of range */
	NAME_SHORT = -2, /* the message ended inside the name's own bytes */
};

/*
 * Follows the name at off in buf[0..len) and, when out is not NULL,
 * writes its presentation form there (NUL-terminated, at most
 * DNS_MAX_NAME_TEXT bytes: the 255-byte wire limit keeps the text under
 * 1004 bytes, so no per-byte bounds check is needed). *end gets the
 * offset just past the name's bytes at off (its first pointer or its
 * root label); *text_len the text length.
 */
static int name_walk(const uint8_t *buf, size_t len, size_t off, char *out, size_t *end,
		     size_t *text_len)
{
	size_t pos = off, here_end = 0, wire = 1;
	unsigned int pointers = 0;
	char *o = out;

	for (;;) {
		if (pos >= len)
			return here_end ? NAME_BAD : NAME_SHORT;
		uint8_t l = buf[pos];

		if (l == 0) {
			if (!here_end)
				here_end = pos + 1;
			break;
		}
		if (l >= 0xc0) {
			if (pos + 1 >= len)
				return here_end ? NAME_BAD : NAME_SHORT;
			size_t target = (size_t)(l & 0x3f) << 8 | buf[pos + 1];

			if (!here_end)
				here_end = pos + 2;
			if (++pointers > DNS_MAX_POINTERS || target < DNS_HEADER_LEN ||
			    target >= len || target == pos)
				return NAME_BAD;
			pos = target;
			continue;
		}
		if (l > 63) /* 0x40 and 0x80: extended and reserved label types */
			return NAME_BAD;
		wire += (size_t)l + 1;
		if (wire > DNS_MAX_NAME_WIRE)
			return NAME_BAD;
		if (pos + 1 + l > len)
			return here_end ? NAME_BAD : NAME_SHORT;
		if (out) {
			const uint8_t *p = buf + pos + 1, *pe = p + l;

			if (o != out)
				*o++ = '.';
			for (; p < pe; p++) {
				uint8_t c = *p;

				switch (name_esc[c]) {
				case 0:
					*o++ = (char)c;
					break;
				case 1:
					o[0] = '\\';
					o[1] = (char)c;
					o += 2;
					break;
				default:
					o = put_ddd(o, c);
				}
			}
		}
		pos += 1 + (size_t)l;
	}
	if (out) {
		if (o == out)
			*o++ = '.';
		*o = '\0';
		*text_len = (size_t)(o - out);
	}
	*end = here_end;
	return NAME_OK;
}

int dns_name_text(const struct dns_msg *msg, size_t off, char *out)
{
	size_t end, n = 0;

	if (name_walk(msg->buf, msg->len, off, out, &end, &n) != NAME_OK) {
		out[0] = '\0';
		return -1;
	}
	return (int)n;
}

int dns_rr_name(const struct dns_msg *msg, const struct dns_rr *rr, char *out)
{
	return dns_name_text(msg, rr->name_off, out);
}

bool dns_name_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x != y) {
			x |= 0x20;
			if (x != (y | 0x20) || x < 'a' || x > 'z')
				return false;
		}
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

static uint8_t status_of(int name_rc)
{
	return name_rc == NAME_SHORT ? DNS_F_TRUNCATED : DNS_F_BAD_NAME;
}

/* Client subnet (RFC 7871): family, source and scope prefix, address. */
static bool parse_ecs(const uint8_t *p, size_t n, struct dns_ecs *ecs)
{
	if (n < 4)
		return false;
	uint16_t family = get16(p);
	size_t alen = n - 4, max = family == 1 ? 4 : family == 2 ? 16 : 0;

	ecs->family = family;
	ecs->source_prefix = p[2];
	ecs->scope_prefix = p[3];
	memset(ecs->addr, 0, sizeof(ecs->addr));
	if (!max || alen > max || ecs->source_prefix > max * 8 || ecs->scope_prefix > max * 8)
		return false;
	memcpy(ecs->addr, p + 4, alen);
	/* The address must be exactly as long as the source prefix needs. */
	return alen == (size_t)(ecs->source_prefix + 7) / 8;
}

static void parse_opt(struct dns_msg *msg, size_t name_off, uint16_t rclass, uint32_t ttl,
		      size_t rdoff, uint16_t rdlen)
{
	struct dns_edns *e = &msg->edns;
	const uint8_t *p = msg->buf + rdoff, *pe = p + rdlen;

	if (e->present) {
		msg->status |= DNS_F_BAD_OPT; /* RFC 6891 6.1.1: only one */
		return;
	}
	if (msg->buf[name_off] != 0)
		msg->status |= DNS_F_BAD_OPT; /* owner must be the root */
	e->present = true;
	e->udp_size = rclass;
	e->ext_rcode = (uint8_t)(ttl >> 24);
	e->version = (uint8_t)(ttl >> 16);
	e->do_bit = ttl & 0x8000;
	e->z = ttl & 0x7fff;
	e->rdata_off = (uint16_t)rdoff;
	e->rdlen = rdlen;
	while (p < pe) {
		if (pe - p < 4) {
			msg->status |= DNS_F_BAD_OPT;
			return;
		}
		uint16_t code = get16(p), olen = get16(p + 2);

		p += 4;
		if (olen > pe - p) {
			msg->status |= DNS_F_BAD_OPT;
			return;
		}
		e->noptions++;
		if (code == EDNS_OPT_ECS && !e->has_ecs) {
			if (parse_ecs(p, olen, &e->ecs))
				e->has_ecs = true;
			else
				msg->status |= DNS_F_BAD_OPT;
		}
		p += olen;
	}
}

/* The cheap rdata checks: fixed sizes only; names are checked on demand. */
static bool rdata_plausible(uint16_t type, uint16_t rdlen)
{
	switch (type) {
	case T_A:
		return rdlen == 4;
	case T_AAAA:
		return rdlen == 16;
	case T_MX:
	case T_AFSDB:
	case T_RT:
	case T_KX:
		return rdlen >= 3;
	case T_SOA:
		return rdlen >= 22;
	case T_SRV:
		return rdlen >= 7;
	case T_SVCB:
	case T_HTTPS:
		return rdlen >= 3;
	case T_TXT:
	case T_SPF:
		return rdlen >= 1;
	default:
		return true;
	}
}

/* Walks one record at *pos; returns false when the walk must stop. */
static bool walk_rr(struct dns_msg *msg, size_t *pos, uint8_t section)
{
	const uint8_t *buf = msg->buf;
	size_t len = msg->len, name_off = *pos, end, unused;
	int rc = name_walk(buf, len, name_off, NULL, &end, &unused);

	if (rc != NAME_OK) {
		msg->status |= status_of(rc);
		return false;
	}
	if (len - end < 10) {
		msg->status |= DNS_F_TRUNCATED;
		return false;
	}
	const uint8_t *f = buf + end;
	uint16_t type = get16(f), rclass = get16(f + 2), rdlen = get16(f + 8);
	uint32_t ttl = get32(f + 4);
	size_t rdoff = end + 10;

	if (len - rdoff < rdlen) {
		msg->status |= DNS_F_TRUNCATED;
		return false;
	}
	*pos = rdoff + rdlen;
	msg->section_count[section]++;
	if (type == T_OPT && section == DNS_SEC_ADDITIONAL) {
		parse_opt(msg, name_off, rclass, ttl, rdoff, rdlen);
		return true;
	}
	if (type == T_OPT)
		msg->status |= DNS_F_BAD_OPT; /* OPT outside the additional section */
	if (!rdata_plausible(type, rdlen))
		msg->status |= DNS_F_BAD_RDATA;
	if (msg->nrrs < DNS_MAX_RRS) {
		struct dns_rr *rr = &msg->rrs[msg->nrrs++];

		rr->name_off = (uint16_t)name_off;
		rr->type = type;
		rr->rclass = rclass;
		rr->rdlen = rdlen;
		rr->ttl = ttl;
		rr->rdata_off = (uint16_t)rdoff;
		rr->section = section;
	}
	msg->rrs_seen++;
	return true;
}

/* The first question is converted to text; any further ones are skipped. */
static int parse_questions(struct dns_msg *msg, size_t *pos)
{
	const uint8_t *buf = msg->buf;
	size_t len = msg->len, end, n = 0;

	for (unsigned int i = 0; i < msg->qdcount; i++) {
		char *out = i == 0 ? msg->qname : NULL;
		int rc = name_walk(buf, len, *pos, out, &end, &n);

		if (rc != NAME_OK || len - end < 4) {
			msg->status |= rc != NAME_OK ? status_of(rc) : DNS_F_TRUNCATED;
			msg->qname[msg->qname_len] = '\0'; /* drop a partly written name */
			return i == 0 ? DNS_ERR_QUESTION : DNS_OK;
		}
		if (i == 0) {
			msg->qname_len = (uint16_t)n;
			msg->qtype = get16(buf + end);
			msg->qclass = get16(buf + end + 2);
			msg->has_question = true;
		}
		*pos = end + 4;
		msg->section_count[0]++;
	}
	return DNS_OK;
}

static void reset(struct dns_msg *msg, const uint8_t *buf, size_t len)
{
	msg->buf = buf;
	msg->len = (uint16_t)len;
	msg->id = msg->flags = 0;
	msg->opcode = 0;
	msg->rcode = 0;
	msg->qdcount = msg->ancount = msg->nscount = msg->arcount = 0;
	msg->has_question = false;
	msg->qtype = msg->qclass = 0;
	msg->qname_len = 0;
	msg->qname[0] = '\0';
	msg->nrrs = msg->rrs_seen = 0;
	memset(msg->section_count, 0, sizeof(msg->section_count));
	memset(&msg->edns, 0, sizeof(msg->edns));
	msg->status = 0;
}

int dns_parse(const uint8_t *buf, size_t len, struct dns_msg *msg)
{
	/* A DNS message is at most 65535 bytes (the TCP length prefix). */
	bool too_long = len > UINT16_MAX;

	reset(msg, buf, too_long ? UINT16_MAX : len);
	if (len < DNS_HEADER_LEN) {
		msg->status = DNS_F_TRUNCATED;
		return DNS_ERR_SHORT;
	}
	msg->id = get16(buf);
	msg->flags = get16(buf + 2);
	msg->opcode = (msg->flags >> 11) & 0xf;
	msg->qdcount = get16(buf + 4);
	msg->ancount = get16(buf + 6);
	msg->nscount = get16(buf + 8);
	msg->arcount = get16(buf + 10);
	msg->rcode = msg->flags & 0xf;

	size_t pos = DNS_HEADER_LEN;
	int rc = parse_questions(msg, &pos);

	if (rc != DNS_OK || msg->section_count[0] != msg->qdcount)
		return rc;

	const uint16_t counts[4] = {0, msg->ancount, msg->nscount, msg->arcount};
	bool complete = true;

	for (uint8_t sec = DNS_SEC_ANSWER; sec <= DNS_SEC_ADDITIONAL && complete; sec++) {
		for (unsigned int i = 0; i < counts[sec]; i++) {
			if (!walk_rr(msg, &pos, sec)) {
				complete = false;
				break;
			}
		}
	}
	if (msg->edns.present)
		msg->rcode |= (uint16_t)(msg->edns.ext_rcode << 4);
	if (complete && (pos < msg->len || too_long))
		msg->status |= DNS_F_TRAILING;
	return DNS_OK;
}

/* ------------------------------------------------------------------ */
/* Bounded text output for rdata and options                          */

struct text {
	char *start;
	char *p;
	char *end; /* where the NUL goes at the latest */
	bool full;
};

static void text_init(struct text *t, char *out, size_t cap)
{
	t->start = t->p = out;
	t->end = out + cap - 1;
	t->full = false;
}

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

static void put_mem(struct text *t, const char *s, size_t n)
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

static void put_str(struct text *t, const char *s)
{
	put_mem(t, s, strlen(s));
}

static void put_char(struct text *t, char c)
{
	if (text_room(t, 1))
		*t->p++ = c;
}

static void put_dec(struct text *t, uint32_t v)
{
	char tmp[10];

	put_mem(t, tmp, (size_t)(put_u32(tmp, v) - tmp));
}

/* Ends the text; returns its length, or -1 for malformed data. */
static int text_finish(struct text *t, bool ok)
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

static char *fmt_ipv4(char *o, const uint8_t *a)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			*o++ = '.';
		o = put_u32(o, a[i]);
	}
	return o;
}

static char *put_hex16(char *o, uint16_t w)
{
	bool started = false;

	for (int shift = 12; shift >= 0; shift -= 4) {
		unsigned int d = (w >> shift) & 0xf;

		if (d || started || shift == 0) {
			*o++ = hex_lower[d];
			started = true;
		}
	}
	return o;
}

/*
 * RFC 5952 text (lower case, leading zeros dropped, the first longest
 * run of two or more zero groups as "::"), with the same embedded-IPv4
 * forms as glibc's inet_ntop (::ffff:a.b.c.d and ::a.b.c.d). o needs
 * 46 bytes (INET6_ADDRSTRLEN); returns the new end, not NUL-terminated.
 */
static char *fmt_ipv6(char *o, const uint8_t *a)
{
	uint16_t w[8];
	int best = -1, best_len = 0, cur = -1, cur_len = 0;

	for (int i = 0; i < 8; i++) {
		w[i] = get16(a + 2 * i);
		if (w[i] == 0) {
			if (cur < 0)
				cur = i, cur_len = 0;
			if (++cur_len > best_len)
				best = cur, best_len = cur_len;
		} else {
			cur = -1;
		}
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*o++ = ':';
			continue;
		}
		if (i)
			*o++ = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
			return fmt_ipv4(o, a + 12);
		o = put_hex16(o, w[i]);
	}
	if (best >= 0 && best + best_len == 8)
		*o++ = ':';
	return o;
}

static void put_ipv4(struct text *t, const uint8_t *a)
{
	char tmp[16];

	put_mem(t, tmp, (size_t)(fmt_ipv4(tmp, a) - tmp));
}

static void put_ipv6(struct text *t, const uint8_t *a)
{
	char tmp[48];

	put_mem(t, tmp, (size_t)(fmt_ipv6(tmp, a) - tmp));
}

static void put_hex(struct text *t, const uint8_t *p, size_t n, const char *digits)
{
	for (size_t i = 0; i < n; i++) {
		if (!text_room(t, 2))
			return;
		t->p[0] = digits[p[i] >> 4];
		t->p[1] = digits[p[i] & 0xf];
		t->p += 2;
	}
}

static void put_base64(struct text *t, const uint8_t *p, size_t n)
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
static void put_escaped(struct text *t, const uint8_t *p, size_t n)
{
	static const uint8_t out_len[3] = {1, 2, 4};

	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i], esc = str_esc[c];

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

static void put_quoted(struct text *t, const uint8_t *p, size_t n)
{
	put_char(t, '"');
	put_escaped(t, p, n);
	put_char(t, '"');
}

/* ------------------------------------------------------------------ */
/* rdata                                                               */

/* A view of one record's rdata being read front to back. */
struct rdata {
	const struct dns_msg *msg;
	size_t pos, end;
};

static bool rd_u8(struct rdata *r, uint8_t *v)
{
	if (r->end - r->pos < 1)
		return false;
	*v = r->msg->buf[r->pos++];
	return true;
}

static bool rd_u16(struct rdata *r, uint16_t *v)
{
	if (r->end - r->pos < 2)
		return false;
	*v = get16(r->msg->buf + r->pos);
	r->pos += 2;
	return true;
}

static bool rd_u32(struct rdata *r, uint32_t *v)
{
	if (r->end - r->pos < 4)
		return false;
	*v = get32(r->msg->buf + r->pos);
	r->pos += 4;
	return true;
}

/* A (possibly compressed) name whose own bytes lie inside the rdata. */
static bool rd_name(struct rdata *r, struct text *t)
{
	char name[DNS_MAX_NAME_TEXT];
	size_t end, n;

	if (name_walk(r->msg->buf, r->msg->len, r->pos, name, &end, &n) != NAME_OK || end > r->end)
		return false;
	r->pos = end;
	put_mem(t, name, n);
	return true;
}

static bool rd_dec16(struct rdata *r, struct text *t)
{
	uint16_t v;

	if (!rd_u16(r, &v))
		return false;
	put_dec(t, v);
	return true;
}

static bool rd_dec32(struct rdata *r, struct text *t)
{
	uint32_t v;

	if (!rd_u32(r, &v))
		return false;
	put_dec(t, v);
	return true;
}

/* One <character-string>: a length byte and that many bytes, quoted. */
static bool rd_string(struct rdata *r, struct text *t)
{
	uint8_t n;

	if (!rd_u8(r, &n) || r->end - r->pos < n)
		return false;
	put_quoted(t, r->msg->buf + r->pos, n);
	r->pos += n;
	return true;
}

static bool rd_done(const struct rdata *r)
{
	return r->pos == r->end;
}

/* NS, CNAME, PTR, DNAME and the old mailbox types: one name. */
static bool fmt_name_rr(struct rdata *r, struct text *t)
{
	return rd_name(r, t) && rd_done(r);
}

/* MINFO, RP: two names. */
static bool fmt_two_names(struct rdata *r, struct text *t)
{
	if (!rd_name(r, t))
		return false;
	put_char(t, ' ');
	return rd_name(r, t) && rd_done(r);
}

/* MX, AFSDB, RT, KX: a 16-bit preference and a name. */
static bool fmt_pref_name(struct rdata *r, struct text *t)
{
	if (!rd_dec16(r, t))
		return false;
	put_char(t, ' ');
	return rd_name(r, t) && rd_done(r);
}

static bool fmt_soa(struct rdata *r, struct text *t)
{
	if (!rd_name(r, t))
		return false;
	put_char(t, ' ');
	if (!rd_name(r, t) || r->end - r->pos != 20)
		return false;
	for (int i = 0; i < 5; i++) {
		put_char(t, ' ');
		rd_dec32(r, t);
	}
	return true;
}

static bool fmt_srv(struct rdata *r, struct text *t)
{
	for (int i = 0; i < 3; i++) {
		if (!rd_dec16(r, t))
			return false;
		put_char(t, ' ');
	}
	return rd_name(r, t) && rd_done(r);
}

/* TXT, SPF, HINFO: character-strings separated by spaces. */
static bool fmt_strings(struct rdata *r, struct text *t, int want)
{
	int n = 0;

	if (rd_done(r))
		return false; /* at least one string */
	while (!rd_done(r)) {
		if (n++)
			put_char(t, ' ');
		if (!rd_string(r, t))
			return false;
	}
	return want == 0 || n == want;
}

/* CAA (RFC 8659): flags tag "value". */
static bool fmt_caa(struct rdata *r, struct text *t)
{
	uint8_t flags, tlen;
	const uint8_t *buf = r->msg->buf;

	if (!rd_u8(r, &flags) || !rd_u8(r, &tlen) || tlen == 0 || r->end - r->pos < tlen)
		return false;
	put_dec(t, flags);
	put_char(t, ' ');
	put_escaped(t, buf + r->pos, tlen);
	r->pos += tlen;
	put_char(t, ' ');
	put_quoted(t, buf + r->pos, r->end - r->pos);
	r->pos = r->end;
	return true;
}

static const char *const svc_key_names[] = {
	"mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint", "dohpath",
};

static void put_svc_key(struct text *t, uint16_t key)
{
	if (key < sizeof(svc_key_names) / sizeof(svc_key_names[0])) {
		put_str(t, svc_key_names[key]);
	} else {
		put_str(t, "key");
		put_dec(t, key);
	}
}

/*
 * alpn: a list of length-prefixed ids shown as one quoted, comma
 * separated value. A comma or backslash inside an id is escaped twice
 * (once for the list, once for the character-string): RFC 9460 A.1.
 */
static bool fmt_alpn(struct text *t, const uint8_t *p, size_t n)
{
	const uint8_t *pe = p + n;

	if (n == 0)
		return false;
	put_char(t, '"');
	for (bool first = true; p < pe; first = false) {
		size_t l = *p++;

		if (l == 0 || l > (size_t)(pe - p))
			return false;
		if (!first)
			put_char(t, ',');
		for (const uint8_t *e = p + l; p < e; p++) {
			if (*p == ',' || *p == '\\')
				put_str(t, "\\\\");
			put_escaped(t, p, 1);
		}
	}
	put_char(t, '"');
	return true;
}

static bool fmt_svc_value(struct text *t, uint16_t key, const uint8_t *p, size_t n)
{
	switch (key) {
	case 0: /* mandatory: key list */
		if (n == 0 || n % 2)
			return false;
		for (size_t i = 0; i < n; i += 2) {
			if (i)
				put_char(t, ',');
			put_svc_key(t, get16(p + i));
		}
		return true;
	case 1:
		return fmt_alpn(t, p, n);
	case 3: /* port */
		if (n != 2)
			return false;
		put_dec(t, get16(p));
		return true;
	case 4: /* ipv4hint */
		if (n == 0 || n % 4)
			return false;
		for (size_t i = 0; i < n; i += 4) {
			if (i)
				put_char(t, ',');
			put_ipv4(t, p + i);
		}
		return true;
	case 5: /* ech: base64 */
		put_base64(t, p, n);
		return true;
	case 6: /* ipv6hint */
		if (n == 0 || n % 16)
			return false;
		for (size_t i = 0; i < n; i += 16) {
			if (i)
				put_char(t, ',');
			put_ipv6(t, p + i);
		}
		return true;
	default: /* dohpath and unknown keys: an escaped string */
		put_quoted(t, p, n);
		return true;
	}
}

/* SVCB and HTTPS (RFC 9460): priority target key=value ... */
static bool fmt_svcb(struct rdata *r, struct text *t)
{
	const uint8_t *buf = r->msg->buf;

	if (!rd_dec16(r, t))
		return false;
	put_char(t, ' ');
	if (!rd_name(r, t))
		return false;
	while (!rd_done(r)) {
		uint16_t key, n;

		if (!rd_u16(r, &key) || !rd_u16(r, &n) || r->end - r->pos < n)
			return false;
		put_char(t, ' ');
		put_svc_key(t, key);
		if (key == 2) { /* no-default-alpn: no value */
			if (n)
				return false;
		} else if (n) {
			put_char(t, '=');
			if (!fmt_svc_value(t, key, buf + r->pos, n))
				return false;
		} else if (key <= 6) {
			return false; /* these keys need a value */
		}
		r->pos += n;
	}
	return true;
}

/* RFC 3597: \# LEN HEX */
static bool fmt_unknown(struct rdata *r, struct text *t)
{
	size_t n = r->end - r->pos;

	put_str(t, "\\# ");
	put_dec(t, (uint32_t)n);
	if (n) {
		put_char(t, ' ');
		put_hex(t, r->msg->buf + r->pos, n, hex_upper);
	}
	r->pos = r->end;
	return true;
}

static bool fmt_rdata(struct rdata *r, struct text *t, uint16_t type)
{
	const uint8_t *p = r->msg->buf + r->pos;
	size_t n = r->end - r->pos;

	switch (type) {
	case T_A:
		if (n != 4)
			return false;
		put_ipv4(t, p);
		return true;
	case T_AAAA:
		if (n != 16)
			return false;
		put_ipv6(t, p);
		return true;
	case T_NS:
	case T_MD:
	case T_MF:
	case T_CNAME:
	case T_MB:
	case T_MG:
	case T_MR:
	case T_PTR:
	case T_DNAME:
		return fmt_name_rr(r, t);
	case T_MINFO:
	case T_RP:
		return fmt_two_names(r, t);
	case T_MX:
	case T_AFSDB:
	case T_RT:
	case T_KX:
		return fmt_pref_name(r, t);
	case T_SOA:
		return fmt_soa(r, t);
	case T_SRV:
		return fmt_srv(r, t);
	case T_TXT:
	case T_SPF:
		return fmt_strings(r, t, 0);
	case T_HINFO:
		return fmt_strings(r, t, 2);
	case T_CAA:
		return fmt_caa(r, t);
	case T_SVCB:
	case T_HTTPS:
		return fmt_svcb(r, t);
	default:
		return fmt_unknown(r, t);
	}
}

int dns_rr_data(const struct dns_msg *msg, const struct dns_rr *rr, char *out, size_t cap)
{
	struct rdata r = {msg, rr->rdata_off, (size_t)rr->rdata_off + rr->rdlen};
	struct text t;

	if (cap == 0)
		return 0;
	if (r.end > msg->len) {
		out[0] = '\0';
		return -1;
	}
	text_init(&t, out, cap);
	return text_finish(&t, fmt_rdata(&r, &t, rr->type));
}

/* ------------------------------------------------------------------ */
/* EDNS options                                                        */

static const char *const edns_opt_names[] = {
	[1] = "LLQ",
	[2] = "UL",
	[3] = "NSID",
	[5] = "DAU",
	[6] = "DHU",
	[7] = "N3U",
	[8] = "ECS",
	[9] = "EXPIRE",
	[10] = "COOKIE",
	[11] = "KEEPALIVE",
	[12] = "PADDING",
	[13] = "CHAIN",
	[14] = "KEY-TAG",
	[15] = "EDE",
	[16] = "CLIENT-TAG",
	[17] = "SERVER-TAG",
	[18] = "REPORT-CHANNEL",
};

static void put_ecs(struct text *t, const struct dns_ecs *ecs)
{
	if (ecs->family == 1)
		put_ipv4(t, ecs->addr);
	else
		put_ipv6(t, ecs->addr);
	put_char(t, '/');
	put_dec(t, ecs->source_prefix);
	put_char(t, '/');
	put_dec(t, ecs->scope_prefix);
}

static void put_option(struct text *t, uint16_t code, const uint8_t *p, uint16_t n)
{
	struct dns_ecs ecs;
	bool named =
		code < sizeof(edns_opt_names) / sizeof(edns_opt_names[0]) && edns_opt_names[code];

	if (named) {
		put_str(t, edns_opt_names[code]);
	} else {
		put_str(t, "OPT");
		put_dec(t, code);
	}
	if (n == 0)
		return;
	put_char(t, ' ');
	if (code == EDNS_OPT_ECS && parse_ecs(p, n, &ecs)) {
		put_ecs(t, &ecs);
	} else if (code == 9 && n == 4) { /* EXPIRE: seconds */
		put_dec(t, get32(p));
	} else if (code == 11 && n == 2) { /* KEEPALIVE: units of 100 ms */
		put_dec(t, get16(p));
	} else if (code == 12) { /* PADDING: only its length matters */
		put_dec(t, n);
	} else if (code == 15 && n >= 2) { /* EDE: info-code "extra text" */
		put_dec(t, get16(p));
		if (n > 2) {
			put_char(t, ' ');
			put_quoted(t, p + 2, n - 2u);
		}
	} else {
		put_hex(t, p, n, hex_lower);
	}
}

int dns_edns_options_text(const struct dns_msg *msg, char *out, size_t cap)
{
	const struct dns_edns *e = &msg->edns;
	struct text t;

	if (cap == 0)
		return 0;
	text_init(&t, out, cap);
	if (!e->present)
		return text_finish(&t, true);
	if ((size_t)e->rdata_off + e->rdlen > msg->len)
		return text_finish(&t, false);

	const uint8_t *p = msg->buf + e->rdata_off, *pe = p + e->rdlen;

	while (p < pe) {
		if (pe - p < 4)
			return text_finish(&t, false);
		uint16_t code = get16(p), n = get16(p + 2);

		p += 4;
		if (n > pe - p)
			return text_finish(&t, false);
		if (t.p != t.start)
			put_char(&t, ' ');
		put_option(&t, code, p, n);
		p += n;
	}
	return text_finish(&t, true);
}

/* ------------------------------------------------------------------ */
/* Mnemonics                                                           */

static const char *const type_names_low[] = {
	[1] = "A",	     [2] = "NS",     [3] = "MD",	  [4] = "MF",
	[5] = "CNAME",	     [6] = "SOA",    [7] = "MB",	  [8] = "MG",
	[9] = "MR",	     [10] = "NULL",  [11] = "WKS",	  [12] = "PTR",
	[13] = "HINFO",	     [14] = "MINFO", [15] = "MX",	  [16] = "TXT",
	[17] = "RP",	     [18] = "AFSDB", [19] = "X25",	  [20] = "ISDN",
	[21] = "RT",	     [22] = "NSAP",  [23] = "NSAP-PTR",	  [24] = "SIG",
	[25] = "KEY",	     [26] = "PX",    [27] = "GPOS",	  [28] = "AAAA",
	[29] = "LOC",	     [30] = "NXT",   [33] = "SRV",	  [35] = "NAPTR",
	[36] = "KX",	     [37] = "CERT",  [38] = "A6",	  [39] = "DNAME",
	[41] = "OPT",	     [42] = "APL",   [43] = "DS",	  [44] = "SSHFP",
	[45] = "IPSECKEY",   [46] = "RRSIG", [47] = "NSEC",	  [48] = "DNSKEY",
	[49] = "DHCID",	     [50] = "NSEC3", [51] = "NSEC3PARAM", [52] = "TLSA",
	[53] = "SMIMEA",     [55] = "HIP",   [59] = "CDS",	  [60] = "CDNSKEY",
	[61] = "OPENPGPKEY", [62] = "CSYNC", [63] = "ZONEMD",	  [64] = "SVCB",
	[65] = "HTTPS",
};

static const char *const type_names_99[] = {
	[0] = "SPF", [5] = "NID",   [6] = "L32",    [7] = "L64",
	[8] = "LP",  [9] = "EUI48", [10] = "EUI64",
};

static const char *const type_names_249[] = {
	[0] = "TKEY", [1] = "TSIG", [2] = "IXFR", [3] = "AXFR", [4] = "MAILB",	   [5] = "MAILA",
	[6] = "ANY",  [7] = "URI",  [8] = "CAA",  [9] = "AVC",	[11] = "AMTRELAY",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *known_type(uint16_t type)
{
	if (type < N_OF(type_names_low))
		return type_names_low[type];
	if (type >= 99 && type - 99u < N_OF(type_names_99))
		return type_names_99[type - 99];
	if (type >= 249 && type - 249u < N_OF(type_names_249))
		return type_names_249[type - 249];
	if (type == 32768)
		return "TA";
	if (type == 32769)
		return "DLV";
	return NULL;
}

static const char *numbered(char buf[16], const char *prefix, unsigned int v)
{
	snprintf(buf, 16, "%s%u", prefix, v);
	return buf;
}

const char *dns_type_str(uint16_t type, char buf[16])
{
	const char *s = known_type(type);

	return s ? s : numbered(buf, "TYPE", type);
}

const char *dns_class_str(uint16_t rclass, char buf[16])
{
	switch (rclass) {
	case 1:
		return "IN";
	case 3:
		return "CH";
	case 4:
		return "HS";
	case 254:
		return "NONE";
	case 255:
		return "ANY";
	default:
		return numbered(buf, "CLASS", rclass);
	}
}

static const char *const rcode_names[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",	   "REFUSED",	     "YXDOMAIN",
	"YXRRSET", "NXRRSET", "NOTAUTH",  "NOTZONE",  "DSOTYPENI", [16] = "BADVERS", "BADKEY",
	"BADTIME", "BADMODE", "BADNAME",  "BADALG",   "BADTRUNC",  "BADCOOKIE",
};

const char *dns_rcode_str(uint16_t rcode, char buf[16])
{
	if (rcode < N_OF(rcode_names) && rcode_names[rcode])
		return rcode_names[rcode];
	return numbered(buf, "RCODE", rcode);
}

/* "PREFIXn" with n a decimal number up to max (no sign, no spaces); else -1. */
static int numbered_value(const char *s, const char *prefix, unsigned int max)
{
	size_t plen = strlen(prefix);
	unsigned int v = 0;

	if (strncasecmp(s, prefix, plen) != 0 || !s[plen])
		return -1;
	for (s += plen; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned int)(*s - '0');
		if (v > max)
			return -1;
	}
	return (int)v;
}

static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcasecmp(names[i], s))
			return (int)i;
	return -1;
}

int dns_type_from_str(const char *s)
{
	int v;

	if (!s)
		return -1;
	v = numbered_value(s, "TYPE", UINT16_MAX);
	if (v >= 0)
		return v;
	if ((v = name_index(type_names_low, N_OF(type_names_low), s)) >= 0)
		return v;
	if ((v = name_index(type_names_99, N_OF(type_names_99), s)) >= 0)
		return 99 + v;
	if ((v = name_index(type_names_249, N_OF(type_names_249), s)) >= 0)
		return 249 + v;
	if (!strcasecmp(s, "TA"))
		return 32768;
	if (!strcasecmp(s, "DLV"))
		return 32769;
	return -1;
}

int dns_rcode_from_str(const char *s)
{
	int v;

	if (!s)
		return -1;
	v = numbered_value(s, "RCODE", 4095); /* 12 bits with EDNS */
	if (v >= 0)
		return v;
	return name_index(rcode_names, N_OF(rcode_names), s);
}

static const char *const opcode_names[] = {
	"QUERY", "IQUERY", "STATUS", [4] = "NOTIFY", "UPDATE", "DSO",
};

const char *dns_opcode_str(uint8_t opcode, char buf[16])
{
	if (opcode < N_OF(opcode_names) && opcode_names[opcode])
		return opcode_names[opcode];
	return numbered(buf, "OPCODE", opcode);
}
