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

#include "proto/dns_impl.h"

const uint8_t dns_name_esc[256] = {T256(NAME_ESC)};
const uint8_t dns_str_esc[256] = {T256(STR_ESC)};

/* ------------------------------------------------------------------ */
/* Names                                                               */

/* One label's presentation text at o; returns the end. */
static char *put_label(char *o, const uint8_t *p, uint8_t l)
{
	uint8_t any = 0;

	/* Most labels need no escape: look first (no stores), then copy at once. */
	for (uint8_t i = 0; i < l; i++)
		any |= dns_name_esc[p[i]];
	if (!any) {
		memcpy(o, p, l);
		return o + l;
	}
	for (const uint8_t *pe = p + l; p < pe; p++) {
		uint8_t c = *p;

		switch (dns_name_esc[c]) {
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
	return o;
}

/*
 * Follows the name at off in buf[0..len) and, when out is not NULL,
 * writes its presentation form there (NUL-terminated, at most
 * DNS_MAX_NAME_TEXT bytes: the 255-byte wire limit keeps the text under
 * 1004 bytes, so no per-byte bounds check is needed). *end gets the
 * offset just past the name's bytes at off (its first pointer or its
 * root label); *text_len the text length.
 */
int dns_name_walk(const uint8_t *buf, size_t len, size_t off, char *out, size_t *end,
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
			if (o != out)
				*o++ = '.';
			o = put_label(o, buf + pos + 1, l);
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

	if (dns_name_walk(msg->buf, msg->len, off, out, &end, &n) != NAME_OK) {
		out[0] = '\0';
		return -1;
	}
	return (int)n;
}

/* Whether the name at off is all labels, no pointer (a question's usually is). */
static bool name_is_flat(const uint8_t *buf, size_t len, size_t off)
{
	while (off < len && buf[off] != 0) {
		if (buf[off] > 63)
			return false;
		off += 1 + (size_t)buf[off];
	}
	return off < len;
}

/*
 * An owner name that is one pointer to the question's name (most answers
 * are): its text is the question's, already made by dns_parse(). With no
 * pointer in the question's name, following the one pointer gives the
 * same walk, within every limit.
 */
static bool is_question_name(const struct dns_msg *msg, size_t off)
{
	return msg->qname_flat && off + 1 < msg->len && msg->buf[off] == 0xc0 &&
	       msg->buf[off + 1] == DNS_HEADER_LEN;
}

int dns_rr_name(const struct dns_msg *msg, const struct dns_rr *rr, char *out)
{
	if (is_question_name(msg, rr->name_off)) {
		memcpy(out, msg->qname, (size_t)msg->qname_len + 1);
		return msg->qname_len;
	}
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
bool dns_parse_ecs(const uint8_t *p, size_t n, struct dns_ecs *ecs)
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
			if (dns_parse_ecs(p, olen, &e->ecs))
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
	case DNS_T_A:
		return rdlen == 4;
	case DNS_T_AAAA:
		return rdlen == 16;
	case DNS_T_MX:
	case DNS_T_AFSDB:
	case DNS_T_RT:
	case DNS_T_KX:
		return rdlen >= 3;
	case DNS_T_SOA:
		return rdlen >= 22;
	case DNS_T_SRV:
		return rdlen >= 7;
	case DNS_T_SVCB:
	case DNS_T_HTTPS:
		return rdlen >= 3;
	case DNS_T_TXT:
	case DNS_T_SPF:
		return rdlen >= 1;
	default:
		return true;
	}
}

/* Walks one record at *pos; returns false when the walk must stop. */
static bool walk_rr(struct dns_msg *msg, size_t *pos, uint8_t section)
{
	const uint8_t *buf = msg->buf;
	size_t len = msg->len, name_off = *pos, end = name_off + 2, unused;
	/* Most owner names are one pointer to the question's: nothing to walk. */
	int rc = is_question_name(msg, name_off)
			 ? NAME_OK
			 : dns_name_walk(buf, len, name_off, NULL, &end, &unused);

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
	if (type == DNS_T_OPT && section == DNS_SEC_ADDITIONAL) {
		parse_opt(msg, name_off, rclass, ttl, rdoff, rdlen);
		return true;
	}
	if (type == DNS_T_OPT)
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
		int rc = dns_name_walk(buf, len, *pos, out, &end, &n);

		if (rc != NAME_OK || len - end < 4) {
			msg->status |= rc != NAME_OK ? status_of(rc) : DNS_F_TRUNCATED;
			msg->qname[msg->qname_len] = '\0'; /* drop a partly written name */
			return i == 0 ? DNS_ERR_QUESTION : DNS_OK;
		}
		if (i == 0) {
			msg->qname_flat = name_is_flat(buf, len, *pos);
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
	msg->qname_flat = false;
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
