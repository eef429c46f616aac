// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * DNS presentation text: rdata as in zone files, EDNS options, and the
 * mnemonics of types, classes, rcodes and opcodes (both ways). Off the
 * per-message path: called only for what a writer prints. See dns.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sys/socket.h>

#include "lib/fmt.h"
#include "lib/numparse.h"
#include "proto/dns_impl.h"

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

static void put_ipv4(struct text *t, const uint8_t *a)
{
	char tmp[FMT_ADDR_MAX];

	put_mem(t, tmp, fmt_addr(tmp, AF_INET, a));
}

static void put_ipv6(struct text *t, const uint8_t *a)
{
	char tmp[FMT_ADDR_MAX];

	put_mem(t, tmp, fmt_ipv6_as_dig(tmp, a));
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
	if (code == EDNS_OPT_ECS && dns_parse_ecs(p, n, &ecs)) {
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
/*
 * One escape at text[i] == '\\': its length in text (2 or 4), or 0 when it
 * is not one (\DDD must have three digits and be at most 255).
 */
static size_t escape_len(const char *text, size_t len, size_t i)
{
	uint64_t v;

	if (i + 1 >= len)
		return 0;
	if (text[i + 1] < '0' || text[i + 1] > '9')
		return 2; /* \X: X itself, printable (checked by the caller) */
	if (i + 4 > len || !num_parse_uint(text + i + 1, 3, 255, &v))
		return 0;
	return 4;
}

const char *dns_name_text_check(const char *text, size_t len)
{
	size_t label = 0, wire = 1; /* the root label's length byte */

	if (len == 1 && text[0] == '.')
		return NULL;
	if (len == 0)
		return "is empty (the root is \".\")";
	for (size_t i = 0; i < len; i++)
		if (text[i] < '!' || text[i] > '~')
			return "holds a control character, a space or a byte that is not "
			       "printable ASCII (those are written \\DDD)";
	for (size_t i = 0; i < len;) {
		size_t step = 1;

		if (text[i] == '.') {
			if (label == 0)
				return "has an empty label";
			wire += label + 1;
			label = 0;
			i++;
			continue;
		}
		if (text[i] == '\\' && !(step = escape_len(text, len, i)))
			return "has a backslash that is not \\X or \\DDD (000..255)";
		if (++label > 63)
			return "has a label longer than 63 bytes";
		i += step;
	}
	if (label == 0)
		return "has an empty label (a trailing dot)";
	wire += label + 1;
	if (wire > DNS_MAX_NAME_WIRE)
		return "is longer than 255 bytes in wire format";
	return NULL;
}

/* "TYPE65535", "RCODE23": the number after prefix, digits only (numparse.h), or -1. */
static int numbered_value(const char *s, const char *prefix, unsigned int max)
{
	size_t plen = strlen(prefix);
	uint64_t v;

	if (strncasecmp(s, prefix, plen) != 0 ||
	    !num_parse_uint(s + plen, strlen(s + plen), max, &v))
		return -1;
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
