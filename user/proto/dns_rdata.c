// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Rdata in presentation format, as in zone files: the RFC form of every
 * type that has one, RFC 3597's \# form for the others. Off the
 * per-message path: called only for what a writer prints. See dns.h.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

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

/*
 * TXT, SPF, HINFO, X25, ISDN, GPOS: min to max character-strings
 * separated by spaces (max 0: any number).
 */
static bool fmt_strings(struct rdata *r, struct text *t, int min, int max)
{
	int n = 0;

	while (!rd_done(r)) {
		if (n++)
			put_char(t, ' ');
		if (!rd_string(r, t) || (max && n > max))
			return false;
	}
	return n >= min;
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

/* The rest of the rdata, if any, after a space. */
static void put_rest_sep(struct rdata *r, struct text *t)
{
	if (!rd_done(r))
		put_char(t, ' ');
}

/* RFC 4034 3.2: a 32-bit time as YYYYMMDDHHmmSS in UTC. */
static bool rd_time(struct rdata *r, struct text *t)
{
	uint32_t v;
	struct tm tm;
	time_t secs;
	char buf[24];

	if (!rd_u32(r, &v))
		return false;
	secs = (time_t)v;
	if (!gmtime_r(&secs, &tm))
		return false;
	put_mem(t, buf, strftime(buf, sizeof(buf), "%Y%m%d%H%M%S", &tm));
	return true;
}

/* TSIG's 48-bit time in seconds, as a decimal number. */
static bool rd_time48(struct rdata *r, struct text *t)
{
	uint16_t hi;
	uint32_t lo;
	char buf[24];

	if (!rd_u16(r, &hi) || !rd_u32(r, &lo))
		return false;
	put_mem(t, buf,
		(size_t)snprintf(buf, sizeof(buf), "%llu", (unsigned long long)hi << 32 | lo));
	return true;
}

static bool rd_bytes(struct rdata *r, size_t n, const uint8_t **p)
{
	if (r->end - r->pos < n)
		return false;
	*p = r->msg->buf + r->pos;
	r->pos += n;
	return true;
}

/* NSEC3 salt: an 8-bit length and hex, "-" when empty (RFC 5155 3.3). */
static bool rd_salt(struct rdata *r, struct text *t)
{
	const uint8_t *p;
	uint8_t n;

	if (!rd_u8(r, &n) || !rd_bytes(r, n, &p))
		return false;
	if (n == 0)
		put_char(t, '-');
	put_hex(t, p, n, hex_upper);
	return true;
}

/* NSEC3 next hashed owner: an 8-bit length and base32hex (RFC 4648 7). */
static bool rd_base32hex(struct rdata *r, struct text *t)
{
	static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
	const uint8_t *p;
	uint32_t acc = 0;
	uint8_t n;
	int bits = 0;

	if (!rd_u8(r, &n) || n == 0 || !rd_bytes(r, n, &p))
		return false;
	for (size_t i = 0; i < n; i++) {
		acc = acc << 8 | p[i];
		for (bits += 8; bits >= 5; bits -= 5)
			put_char(t, digits[(acc >> (bits - 5)) & 31]);
	}
	if (bits)
		put_char(t, digits[(acc << (5 - bits)) & 31]);
	return true;
}

/* A 16-bit length and that many bytes in base64: "LEN BASE64" (TSIG, TKEY). */
static bool rd_sized_base64(struct rdata *r, struct text *t)
{
	const uint8_t *p;
	uint16_t n;

	if (!rd_u16(r, &n) || !rd_bytes(r, n, &p))
		return false;
	put_dec(t, n);
	if (n) {
		put_char(t, ' ');
		put_base64(t, p, n);
	}
	return true;
}

/* TSIG and TKEY errors: rcodes, with 16 read as BADSIG (RFC 8945 3). */
static bool rd_tsig_error(struct rdata *r, struct text *t)
{
	uint16_t v;
	char buf[16];

	if (!rd_u16(r, &v))
		return false;
	put_str(t, v == 16 ? "BADSIG" : dns_rcode_str(v, buf));
	return true;
}

/* Type bitmap of NSEC, NSEC3, CSYNC (RFC 4034 4.1.2): the rest. */
static bool rd_type_bitmap(struct rdata *r, struct text *t)
{
	const uint8_t *p;
	int last_window = -1;
	uint8_t window, n;
	char buf[16];
	bool first = true;

	while (!rd_done(r)) {
		if (!rd_u8(r, &window) || !rd_u8(r, &n) || n == 0 || n > 32 ||
		    window <= last_window || !rd_bytes(r, n, &p))
			return false;
		last_window = window;
		for (unsigned int bit = 0; bit < n * 8u; bit++) {
			if (!(p[bit / 8] & (0x80 >> (bit % 8))))
				continue;
			if (!first)
				put_char(t, ' ');
			first = false;
			put_str(t, dns_type_str((uint16_t)(window << 8 | bit), buf));
		}
	}
	return true;
}

static const char *const cert_type_names[] = {
	[1] = "PKIX", "SPKI", "PGP", "IPKIX", "ISPKI", "IPGP", "ACPKIX", "IACPKIX",
};

/* CERT type (RFC 4398 2.1): mnemonic or number. */
static bool rd_cert_type(struct rdata *r, struct text *t)
{
	uint16_t v;

	if (!rd_u16(r, &v))
		return false;
	if (v < sizeof(cert_type_names) / sizeof(cert_type_names[0]) && cert_type_names[v])
		put_str(t, cert_type_names[v]);
	else if (v == 253 || v == 254)
		put_str(t, v == 253 ? "URI" : "OID");
	else
		put_dec(t, v);
	return true;
}

static const char *const secalg_names[] = {
	[1] = "RSAMD5",
	[2] = "DH",
	[3] = "DSA",
	[5] = "RSASHA1",
	[6] = "NSEC3DSA",
	[7] = "NSEC3RSASHA1",
	[8] = "RSASHA256",
	[10] = "RSASHA512",
	[12] = "ECCGOST",
	[13] = "ECDSAP256SHA256",
	[14] = "ECDSAP384SHA384",
	[15] = "ED25519",
	[16] = "ED448",
};

/* CERT's algorithm, a DNSSEC algorithm number: mnemonic or number. */
static bool rd_secalg(struct rdata *r, struct text *t)
{
	uint8_t v;

	if (!rd_u8(r, &v))
		return false;
	if (v < sizeof(secalg_names) / sizeof(secalg_names[0]) && secalg_names[v])
		put_str(t, secalg_names[v]);
	else if (v >= 252 && v <= 254)
		put_str(t, v == 252 ? "INDIRECT" : v == 253 ? "PRIVATEDNS" : "PRIVATEOID");
	else
		put_dec(t, v);
	return true;
}

/* EUI48/EUI64 (RFC 7043): n bytes, lower-case hex pairs joined by '-'. */
static bool rd_eui(struct rdata *r, struct text *t, size_t n)
{
	const uint8_t *p;

	if (r->end - r->pos != n || !rd_bytes(r, n, &p))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (i)
			put_char(t, '-');
		put_hex(t, p + i, 1, hex_lower);
	}
	return true;
}

/* L64 and NID locators (RFC 6742): four 16-bit groups in hex, joined by ':'. */
static bool rd_locator64(struct rdata *r, struct text *t)
{
	char buf[24];
	uint16_t g[4];

	for (int i = 0; i < 4; i++)
		if (!rd_u16(r, &g[i]))
			return false;
	put_mem(t, buf, (size_t)snprintf(buf, sizeof(buf), "%x:%x:%x:%x", g[0], g[1], g[2], g[3]));
	return true;
}

/* WKS (RFC 1035 3.4.2): protocol number and the ports of the bitmap. */
static bool rd_wks_ports(struct rdata *r, struct text *t)
{
	const uint8_t *p = r->msg->buf + r->pos;
	size_t n = r->end - r->pos;
	uint8_t proto;

	if (!rd_u8(r, &proto))
		return false;
	put_dec(t, proto);
	p++, n--;
	for (size_t bit = 0; bit < n * 8; bit++) {
		if (p[bit / 8] & (0x80 >> (bit % 8))) {
			put_char(t, ' ');
			put_dec(t, (uint32_t)bit);
		}
	}
	r->pos = r->end;
	return true;
}

static bool rd_addr(struct rdata *r, struct text *t, size_t n)
{
	const uint8_t *p;

	if (!rd_bytes(r, n, &p))
		return false;
	if (n == 4)
		put_ipv4(t, p);
	else
		put_ipv6(t, p);
	return true;
}

/*
 * Most rdata is a fixed sequence of fields, printed separated by spaces:
 * such a type is a string of field codes. S x b M N p read to the end
 * of the rdata, and so come last.
 *   1 2 4  unsigned decimal of 8, 16, 32 bits    n  a domain name
 *   a A    IPv4, IPv6 address                    t  a type mnemonic
 *   T      a time, YYYYMMDDHHmmSS                W  a 48-bit time (TSIG)
 *   s      a character-string                    S  the rest, one quoted string
 *   x      the rest in upper-case hex            b  the rest in base64
 *   X      NSEC3 salt                            h  NSEC3 next hashed owner
 *   k      a 16-bit length, then base64          r  a TSIG error
 *   M      the rest, a type bitmap               N  the rest, names
 *   c      a CERT type                           g  a DNSSEC algorithm
 *   e E    the rest, an EUI48, EUI64             l  a 64-bit locator
 *   P      WKS protocol and ports                p  the rest, NSAP hex
 */
static bool rd_field(struct rdata *r, struct text *t, char code)
{
	uint8_t v8;
	const uint8_t *p;
	size_t rest = r->end - r->pos;

	switch (code) {
	case '1':
		if (!rd_u8(r, &v8))
			return false;
		put_dec(t, v8);
		return true;
	case '2':
		return rd_dec16(r, t);
	case '4':
		return rd_dec32(r, t);
	case 'n':
		return rd_name(r, t);
	case 'a':
		return rd_addr(r, t, 4);
	case 'A':
		return rd_addr(r, t, 16);
	case 't': {
		uint16_t type;
		char buf[16];

		if (!rd_u16(r, &type))
			return false;
		put_str(t, dns_type_str(type, buf));
		return true;
	}
	case 'T':
		return rd_time(r, t);
	case 'W':
		return rd_time48(r, t);
	case 's':
		return rd_string(r, t);
	case 'S':
		put_quoted(t, r->msg->buf + r->pos, rest);
		r->pos = r->end;
		return true;
	case 'x':
	case 'b':
	case 'p':
		if (!rest)
			return code != 'p';
		rd_bytes(r, rest, &p);
		if (code == 'b')
			put_base64(t, p, rest);
		else if (code == 'x')
			put_hex(t, p, rest, hex_upper);
		else
			put_str(t, "0x"), put_hex(t, p, rest, hex_lower);
		return true;
	case 'X':
		return rd_salt(r, t);
	case 'h':
		return rd_base32hex(r, t);
	case 'k':
		return rd_sized_base64(r, t);
	case 'r':
		return rd_tsig_error(r, t);
	case 'M':
		return rd_type_bitmap(r, t);
	case 'N':
		while (!rd_done(r)) {
			if (!rd_name(r, t))
				return false;
			put_rest_sep(r, t);
		}
		return true;
	case 'c':
		return rd_cert_type(r, t);
	case 'g':
		return rd_secalg(r, t);
	case 'e':
		return rd_eui(r, t, 6);
	case 'E':
		return rd_eui(r, t, 8);
	case 'l':
		return rd_locator64(r, t);
	case 'P':
		return rd_wks_ports(r, t);
	default:
		return false;
	}
}

/*
 * The fields of prog in turn. A field reading the rest of an rdata that
 * has no rest left prints nothing, and no space before it.
 */
static bool fmt_fields(struct rdata *r, struct text *t, const char *prog)
{
	for (const char *c = prog; *c; c++) {
		bool reads_rest = strchr("SxbMNp", *c) != NULL;

		if (c != prog && !(reads_rest && rd_done(r)))
			put_char(t, ' ');
		if (!rd_field(r, t, *c))
			return false;
	}
	return rd_done(r);
}

/* IPSECKEY and AMTRELAY gateways (RFC 4025 2.5, RFC 8777 4.2): by type. */
static bool rd_gateway(struct rdata *r, struct text *t, uint8_t type)
{
	switch (type) {
	case 0:
		put_char(t, '.');
		return true;
	case 1:
		return rd_addr(r, t, 4);
	case 2:
		return rd_addr(r, t, 16);
	case 3:
		return rd_name(r, t);
	default:
		return false;
	}
}

/* IPSECKEY (RFC 4025): precedence type algorithm gateway [key]. */
static bool fmt_ipseckey(struct rdata *r, struct text *t)
{
	uint8_t prec, type, alg;

	if (!rd_u8(r, &prec) || !rd_u8(r, &type) || !rd_u8(r, &alg))
		return false;
	put_dec(t, prec);
	put_char(t, ' ');
	put_dec(t, type);
	put_char(t, ' ');
	put_dec(t, alg);
	put_char(t, ' ');
	if (!rd_gateway(r, t, type))
		return false;
	put_rest_sep(r, t);
	return rd_field(r, t, 'b');
}

/* AMTRELAY (RFC 8777): precedence D type relay, D the high bit of type. */
static bool fmt_amtrelay(struct rdata *r, struct text *t)
{
	uint8_t prec, dtype;

	if (!rd_u8(r, &prec) || !rd_u8(r, &dtype))
		return false;
	put_dec(t, prec);
	put_str(t, dtype & 0x80 ? " 1 " : " 0 ");
	put_dec(t, dtype & 0x7f);
	put_char(t, ' ');
	return rd_gateway(r, t, dtype & 0x7f) && rd_done(r);
}

/* HIP (RFC 8005): algorithm HIT key [rendezvous servers]. */
static bool fmt_hip(struct rdata *r, struct text *t)
{
	const uint8_t *hit, *key;
	uint8_t hit_len, alg;
	uint16_t key_len;

	if (!rd_u8(r, &hit_len) || !rd_u8(r, &alg) || !rd_u16(r, &key_len) ||
	    !rd_bytes(r, hit_len, &hit) || !rd_bytes(r, key_len, &key))
		return false;
	put_dec(t, alg);
	put_char(t, ' ');
	put_hex(t, hit, hit_len, hex_upper);
	put_char(t, ' ');
	put_base64(t, key, key_len);
	put_rest_sep(r, t);
	return rd_field(r, t, 'N');
}

/* APL (RFC 3123): [!]family:address/prefix for each item. */
static bool fmt_apl(struct rdata *r, struct text *t)
{
	while (!rd_done(r)) {
		uint8_t addr[16] = {0}, prefix, nlen, len;
		uint16_t family;
		const uint8_t *p;

		if (!rd_u16(r, &family) || !rd_u8(r, &prefix) || !rd_u8(r, &nlen))
			return false;
		len = nlen & 0x7f;
		if ((family != 1 && family != 2) || len > (family == 1 ? 4 : 16) ||
		    prefix > (family == 1 ? 32 : 128) || !rd_bytes(r, len, &p))
			return false;
		memcpy(addr, p, len);
		if (nlen & 0x80)
			put_char(t, '!');
		put_str(t, family == 1 ? "1:" : "2:");
		if (family == 1)
			put_ipv4(t, addr);
		else
			put_ipv6(t, addr);
		put_char(t, '/');
		put_dec(t, prefix);
		put_rest_sep(r, t);
	}
	return true;
}

/* LOC size and precisions (RFC 1876): mantissa and power of ten, in cm. */
static bool put_loc_size(struct text *t, uint8_t b)
{
	static const uint32_t pow10[] = {1,	 10,	  100,	    1000,      10000,
					 100000, 1000000, 10000000, 100000000, 1000000000};
	unsigned int m = b >> 4, e = b & 15;
	char buf[24];

	if (m > 9 || e > 9)
		return false;
	if (e >= 2)
		snprintf(buf, sizeof(buf), "%um", m * pow10[e - 2]);
	else
		snprintf(buf, sizeof(buf), "0.%02um", m * pow10[e]);
	put_str(t, buf);
	return true;
}

/* A LOC angle: thousandths of an arc second off 2^31; d m s.sss H. */
static bool put_loc_angle(struct text *t, uint32_t raw, const char *hemispheres, uint32_t max_deg)
{
	int64_t v = (int64_t)raw - (1ll << 31);
	char hemi = hemispheres[v < 0];
	char buf[48];

	if (v < 0)
		v = -v;
	if (v > (int64_t)max_deg * 3600000)
		return false;
	snprintf(buf, sizeof(buf), "%u %u %u.%03u %c", (unsigned int)(v / 3600000),
		 (unsigned int)(v / 60000 % 60), (unsigned int)(v / 1000 % 60),
		 (unsigned int)(v % 1000), hemi);
	put_str(t, buf);
	return true;
}

/* LOC (RFC 1876): latitude longitude altitude size hp vp. */
static bool fmt_loc(struct rdata *r, struct text *t)
{
	uint8_t version, size, hp, vp;
	uint32_t lat, lon, alt;
	int64_t cm;
	char buf[32];

	if (r->end - r->pos == 16 && r->msg->buf[r->pos] != 0)
		return fmt_unknown(r, t); /* only version 0 has a text form */
	if (r->end - r->pos != 16 || !rd_u8(r, &version) || !rd_u8(r, &size) || !rd_u8(r, &hp) ||
	    !rd_u8(r, &vp) || !rd_u32(r, &lat) || !rd_u32(r, &lon) || !rd_u32(r, &alt))
		return false;
	if (!put_loc_angle(t, lat, "NS", 90))
		return false;
	put_char(t, ' ');
	if (!put_loc_angle(t, lon, "EW", 180))
		return false;
	cm = (int64_t)alt - 10000000; /* altitude: cm above 100 km below the WGS 84 spheroid */
	snprintf(buf, sizeof(buf), " %s%lld.%02lldm ", cm < 0 ? "-" : "",
		 (long long)(cm < 0 ? -cm : cm) / 100, (long long)(cm < 0 ? -cm : cm) % 100);
	put_str(t, buf);
	if (!put_loc_size(t, size))
		return false;
	put_char(t, ' ');
	if (!put_loc_size(t, hp))
		return false;
	put_char(t, ' ');
	return put_loc_size(t, vp);
}

/* Types whose rdata is a fixed sequence of fields (see rd_field). */
static const struct {
	uint16_t type;
	const char *prog;
} field_types[] = {
	{DNS_T_A, "a"},		  {DNS_T_AAAA, "A"},
	{DNS_T_NS, "n"},	  {DNS_T_MD, "n"},
	{DNS_T_MF, "n"},	  {DNS_T_CNAME, "n"},
	{DNS_T_MB, "n"},	  {DNS_T_MG, "n"},
	{DNS_T_MR, "n"},	  {DNS_T_PTR, "n"},
	{DNS_T_DNAME, "n"},	  {DNS_T_MINFO, "nn"},
	{DNS_T_RP, "nn"},	  {DNS_T_MX, "2n"},
	{DNS_T_AFSDB, "2n"},	  {DNS_T_RT, "2n"},
	{DNS_T_KX, "2n"},	  {DNS_T_LP, "2n"},
	{DNS_T_PX, "2nn"},	  {DNS_T_SOA, "nn44444"},
	{DNS_T_SRV, "222n"},	  {DNS_T_NAPTR, "22sssn"},
	{DNS_T_WKS, "aP"},	  {DNS_T_NSAP, "p"},
	{DNS_T_SIG, "t114TT2nb"}, {DNS_T_RRSIG, "t114TT2nb"},
	{DNS_T_KEY, "211b"},	  {DNS_T_DNSKEY, "211b"},
	{DNS_T_CDNSKEY, "211b"},  {DNS_T_DS, "211x"},
	{DNS_T_CDS, "211x"},	  {DNS_T_TA, "211x"},
	{DNS_T_DLV, "211x"},	  {DNS_T_NSEC, "nM"},
	{DNS_T_NSEC3, "112XhM"},  {DNS_T_NSEC3PARAM, "112X"},
	{DNS_T_CSYNC, "42M"},	  {DNS_T_SSHFP, "11x"},
	{DNS_T_TLSA, "111x"},	  {DNS_T_SMIMEA, "111x"},
	{DNS_T_CERT, "c2gb"},	  {DNS_T_DHCID, "b"},
	{DNS_T_OPENPGPKEY, "b"},  {DNS_T_ZONEMD, "411x"},
	{DNS_T_URI, "22S"},	  {DNS_T_EUI48, "e"},
	{DNS_T_EUI64, "E"},	  {DNS_T_L32, "2a"},
	{DNS_T_L64, "2l"},	  {DNS_T_NID, "2l"},
	{DNS_T_TSIG, "nW2k2rk"},  {DNS_T_TKEY, "n442rkk"},
};

static bool fmt_rdata(struct rdata *r, struct text *t, uint16_t type)
{
	for (size_t i = 0; i < sizeof(field_types) / sizeof(field_types[0]); i++)
		if (field_types[i].type == type)
			return fmt_fields(r, t, field_types[i].prog);
	switch (type) {
	case DNS_T_TXT:
	case DNS_T_SPF:
		return fmt_strings(r, t, 1, 0);
	case DNS_T_HINFO:
		return fmt_strings(r, t, 2, 2);
	case DNS_T_X25:
		return fmt_strings(r, t, 1, 1);
	case DNS_T_ISDN:
		return fmt_strings(r, t, 1, 2);
	case DNS_T_GPOS:
		return fmt_strings(r, t, 3, 3);
	case DNS_T_CAA:
		return fmt_caa(r, t);
	case DNS_T_SVCB:
	case DNS_T_HTTPS:
		return fmt_svcb(r, t);
	case DNS_T_LOC:
		return fmt_loc(r, t);
	case DNS_T_APL:
		return fmt_apl(r, t);
	case DNS_T_IPSECKEY:
		return fmt_ipseckey(r, t);
	case DNS_T_AMTRELAY:
		return fmt_amtrelay(r, t);
	case DNS_T_HIP:
		return fmt_hip(r, t);
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
	/* UPDATE's prerequisites and RRset deletions (RFC 2136 2.4, 2.5): no rdata. */
	if (rr->rdlen == 0 && (rr->rclass == DNS_CLASS_ANY || rr->rclass == DNS_CLASS_NONE))
		return text_finish(&t, true);
	return text_finish(&t, fmt_rdata(&r, &t, rr->type));
}
