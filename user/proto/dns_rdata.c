// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Rdata in presentation format, as in zone files: the RFC form of every
 * type that has one, RFC 3597's \# form for the others. Off the
 * per-message path: called only for what a writer prints. See dns.h.
 */
#include <string.h>

#include "proto/dns_impl.h"
#include "proto/dns_textbuf.h"

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

	if (dns_name_walk(r->msg->buf, r->msg->len, r->pos, name, &end, &n) != NAME_OK ||
	    end > r->end)
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
	case DNS_T_A:
		if (n != 4)
			return false;
		put_ipv4(t, p);
		return true;
	case DNS_T_AAAA:
		if (n != 16)
			return false;
		put_ipv6(t, p);
		return true;
	case DNS_T_NS:
	case DNS_T_MD:
	case DNS_T_MF:
	case DNS_T_CNAME:
	case DNS_T_MB:
	case DNS_T_MG:
	case DNS_T_MR:
	case DNS_T_PTR:
	case DNS_T_DNAME:
		return fmt_name_rr(r, t);
	case DNS_T_MINFO:
	case DNS_T_RP:
		return fmt_two_names(r, t);
	case DNS_T_MX:
	case DNS_T_AFSDB:
	case DNS_T_RT:
	case DNS_T_KX:
		return fmt_pref_name(r, t);
	case DNS_T_SOA:
		return fmt_soa(r, t);
	case DNS_T_SRV:
		return fmt_srv(r, t);
	case DNS_T_TXT:
	case DNS_T_SPF:
		return fmt_strings(r, t, 0);
	case DNS_T_HINFO:
		return fmt_strings(r, t, 2);
	case DNS_T_CAA:
		return fmt_caa(r, t);
	case DNS_T_SVCB:
	case DNS_T_HTTPS:
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
