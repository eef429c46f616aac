// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * DNS presentation text: EDNS options, and the mnemonics of types,
 * classes, rcodes and opcodes (both ways). Off the
 * per-message path: called only for what a writer prints. See dns.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sys/socket.h>

#include "lib/fmt.h"
#include "lib/numparse.h"
#include "proto/dns_impl.h"
#include "proto/dns_textbuf.h"

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

const struct dns_flag_name dns_header_flags[DNS_HEADER_FLAGS] = {
	{DNS_FLAG_AA, "aa"}, {DNS_FLAG_TC, "tc"}, {DNS_FLAG_RD, "rd"}, {DNS_FLAG_RA, "ra"},
	{DNS_FLAG_Z, "z"},   {DNS_FLAG_AD, "ad"}, {DNS_FLAG_CD, "cd"},
};

int dns_opcode_from_str(const char *s)
{
	int v;

	if (!s)
		return -1;
	v = numbered_value(s, "OPCODE", 15);
	return v >= 0 ? v : name_index(opcode_names, N_OF(opcode_names), s);
}

int dns_class_from_str(const char *s)
{
	static const uint16_t named[] = {1, 3, 4, 254, 255};
	char buf[16];
	int v;

	if (!s)
		return -1;
	v = numbered_value(s, "CLASS", UINT16_MAX);
	for (size_t i = 0; v < 0 && i < N_OF(named); i++)
		if (!strcasecmp(s, dns_class_str(named[i], buf)))
			v = named[i];
	return v;
}

const char *dns_opcode_str(uint8_t opcode, char buf[16])
{
	if (opcode < N_OF(opcode_names) && opcode_names[opcode])
		return opcode_names[opcode];
	return numbered(buf, "OPCODE", opcode);
}
