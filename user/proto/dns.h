/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * DNS wire-format decoder (RFC 1035, EDNS RFC 6891, ECS RFC 7871).
 *
 * dns_parse() validates a message in one pass and records where every
 * resource record sits; it copies nothing but the question name. Turning
 * an RR's owner name or rdata into presentation format is done on demand
 * by dns_rr_name()/dns_rr_data(), so a consumer that only counts pays
 * only for the header and question.
 *
 * The decoder never reads outside [buf, buf+len), never follows more than
 * DNS_MAX_POINTERS compression pointers for one name, and rejects labels
 * over 63 bytes and names over 255. Counts that claim more records than
 * the message holds stop the walk and set DNS_F_TRUNCATED.
 */
#ifndef DNSSNOOP_DNS_H
#define DNSSNOOP_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_LEN	  12
#define DNS_MAX_NAME_WIRE 255
/* Presentation format: every byte may become "\DDD" plus the dots. */
#define DNS_MAX_NAME_TEXT (4 * DNS_MAX_NAME_WIRE + 1)
#define DNS_MAX_POINTERS  64
#define DNS_MAX_RRS	  64 /* RRs indexed per message; more are counted only */

/* Header flag bits (host order of the 16-bit flags word). */
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_FLAG_Z  0x0040
#define DNS_FLAG_AD 0x0020
#define DNS_FLAG_CD 0x0010

/* RR types the decoder knows by name (IANA numbers). */
enum dns_type {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_MD = 3,
	DNS_T_MF = 4,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_MB = 7,
	DNS_T_MG = 8,
	DNS_T_MR = 9,
	DNS_T_WKS = 11,
	DNS_T_PTR = 12,
	DNS_T_HINFO = 13,
	DNS_T_MINFO = 14,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_RP = 17,
	DNS_T_AFSDB = 18,
	DNS_T_X25 = 19,
	DNS_T_ISDN = 20,
	DNS_T_RT = 21,
	DNS_T_NSAP = 22,
	DNS_T_SIG = 24,
	DNS_T_KEY = 25,
	DNS_T_PX = 26,
	DNS_T_GPOS = 27,
	DNS_T_AAAA = 28,
	DNS_T_LOC = 29,
	DNS_T_SRV = 33,
	DNS_T_NAPTR = 35,
	DNS_T_KX = 36,
	DNS_T_CERT = 37,
	DNS_T_DNAME = 39,
	DNS_T_OPT = 41,
	DNS_T_APL = 42,
	DNS_T_DS = 43,
	DNS_T_SSHFP = 44,
	DNS_T_IPSECKEY = 45,
	DNS_T_RRSIG = 46,
	DNS_T_NSEC = 47,
	DNS_T_DNSKEY = 48,
	DNS_T_DHCID = 49,
	DNS_T_NSEC3 = 50,
	DNS_T_NSEC3PARAM = 51,
	DNS_T_TLSA = 52,
	DNS_T_SMIMEA = 53,
	DNS_T_HIP = 55,
	DNS_T_CDS = 59,
	DNS_T_CDNSKEY = 60,
	DNS_T_OPENPGPKEY = 61,
	DNS_T_CSYNC = 62,
	DNS_T_ZONEMD = 63,
	DNS_T_SVCB = 64,
	DNS_T_HTTPS = 65,
	DNS_T_SPF = 99,
	DNS_T_NID = 104,
	DNS_T_L32 = 105,
	DNS_T_L64 = 106,
	DNS_T_LP = 107,
	DNS_T_EUI48 = 108,
	DNS_T_EUI64 = 109,
	DNS_T_TKEY = 249,
	DNS_T_TSIG = 250,
	DNS_T_URI = 256,
	DNS_T_CAA = 257,
	DNS_T_AMTRELAY = 260,
	DNS_T_TA = 32768,
	DNS_T_DLV = 32769,
};

#define DNS_OPCODE_UPDATE 5
#define DNS_CLASS_NONE	  254 /* UPDATE: "not present", "delete this RR" */
#define DNS_CLASS_ANY	  255 /* also "delete" in UPDATE (RFC 2136 2.5) */

enum dns_section { DNS_SEC_ANSWER = 1, DNS_SEC_AUTHORITY = 2, DNS_SEC_ADDITIONAL = 3 };

/* dns_msg.status bits: what went wrong while parsing (0 = clean). */
#define DNS_F_TRUNCATED 0x01 /* message ended before its counts were met */
#define DNS_F_BAD_NAME	0x02 /* loop, bad label, name too long, bad pointer */
#define DNS_F_BAD_RDATA 0x04 /* rdata inconsistent with its type */
#define DNS_F_TRAILING	0x08 /* bytes left after the last counted record */
#define DNS_F_BAD_OPT	0x10 /* malformed or duplicate EDNS OPT */

enum dns_parse_result {
	DNS_OK = 0, /* header and question decoded (status may still be set) */
	DNS_ERR_SHORT = -1, /* shorter than a header */
	DNS_ERR_QUESTION = -2, /* header fine, question undecodable */
};

struct dns_rr {
	uint16_t name_off; /* offset of the owner name in the message */
	uint16_t type;
	uint16_t rclass;
	uint16_t rdlen;
	uint32_t ttl;
	uint16_t rdata_off; /* offset of rdata in the message */
	uint8_t section; /* enum dns_section */
};

struct dns_ecs {
	uint16_t family; /* 1 = IPv4, 2 = IPv6 (IANA address family) */
	uint8_t source_prefix;
	uint8_t scope_prefix;
	uint8_t addr[16]; /* zero-padded */
};

struct dns_edns {
	bool present;
	uint16_t udp_size;
	uint8_t ext_rcode; /* upper 8 bits of the 12-bit rcode */
	uint8_t version;
	bool do_bit;
	uint16_t z; /* remaining flag bits */
	uint16_t rdata_off, rdlen; /* the options, for dns_edns_options_text */
	uint16_t noptions;
	bool has_ecs;
	struct dns_ecs ecs;
};

struct dns_msg {
	const uint8_t *buf; /* the message; must outlive every use of this */
	uint16_t len;
	uint16_t id;
	uint16_t flags; /* raw flags word */
	uint8_t opcode;
	uint16_t rcode; /* 12-bit: header rcode | EDNS ext_rcode << 4 */
	uint16_t qdcount, ancount, nscount, arcount; /* as the header says */
	bool has_question;
	bool qname_flat; /* the question's name is all labels: a pointer to it needs no walk */
	uint16_t qtype, qclass;
	uint16_t qname_len; /* length of qname text */
	char qname[DNS_MAX_NAME_TEXT]; /* presentation format, no trailing dot, root "." */
	uint16_t nrrs; /* RRs indexed in rrs[] (OPT excluded) */
	uint16_t rrs_seen; /* RRs walked, including any beyond DNS_MAX_RRS */
	uint16_t section_count[4]; /* records actually present, by section */
	struct dns_rr rrs[DNS_MAX_RRS];
	struct dns_edns edns;
	uint8_t status; /* DNS_F_* */
};

/* Parse buf[0..len). Fills *msg; returns enum dns_parse_result. */
int dns_parse(const uint8_t *buf, size_t len, struct dns_msg *msg);

/*
 * Decode the (possibly compressed) name at offset off of msg into
 * presentation format in out (at least DNS_MAX_NAME_TEXT bytes).
 * Returns the text length, or -1 when the name is malformed.
 */
int dns_name_text(const struct dns_msg *msg, size_t off, char *out);

/* Presentation format of an RR's owner name. */
int dns_rr_name(const struct dns_msg *msg, const struct dns_rr *rr, char *out);

/*
 * Presentation format of an RR's rdata (A: dotted quad, MX: "10 mx.example",
 * TXT: quoted strings separated by spaces, SOA/SRV/CAA/SVCB/HTTPS as in
 * zone files; other types RFC 3597 "\# LEN HEX"). Writes at most cap bytes
 * including the NUL; returns the length written (truncated text ends in
 * "..." when cap was too small) or -1 if the rdata is malformed.
 */
int dns_rr_data(const struct dns_msg *msg, const struct dns_rr *rr, char *out, size_t cap);

/* EDNS options as text, e.g. "ECS 192.0.2.0/24/0 COOKIE 0123..."; same
 * contract as dns_rr_data. */
int dns_edns_options_text(const struct dns_msg *msg, char *out, size_t cap);

/* Mnemonics; unknown values become "TYPE65280", "CLASS7", "RCODE23", "OPCODE9". */
const char *dns_type_str(uint16_t type, char buf[16]);
const char *dns_class_str(uint16_t rclass, char buf[16]);
const char *dns_rcode_str(uint16_t rcode, char buf[16]);
const char *dns_opcode_str(uint8_t opcode, char buf[16]);

/*
 * The reverse, for reading records back: a type mnemonic ("AAAA") or its
 * RFC 3597 form ("TYPE65280"), an rcode mnemonic ("NXDOMAIN", "BADCOOKIE")
 * or "RCODE23" (12 bits at most), case-insensitive. -1 when s is neither.
 */
int dns_type_from_str(const char *s);
int dns_rcode_from_str(const char *s);
/* The header flags as records name them, in header order (QR is not one: it is "qr"). */
struct dns_flag_name {
	uint16_t bit;
	const char *name;
};
#define DNS_HEADER_FLAGS 7
extern const struct dns_flag_name dns_header_flags[DNS_HEADER_FLAGS];
/* Opcode (QUERY, ..., OPCODEn) and class (IN, ..., CLASSn) mnemonics back to numbers; -1: none. */
int dns_opcode_from_str(const char *s);
int dns_class_from_str(const char *s);

/*
 * Is text[0..len) a name as the decoder writes it (presentation format,
 * RFC 1035 5.1: printable ASCII, '\\' before a special character or as
 * \DDD up to 255, no empty label, no trailing dot, the root "."), with
 * labels of at most 63 bytes and at most DNS_MAX_NAME_WIRE bytes in wire
 * format? NULL when it is, else why not ("has an empty label", ...).
 */
const char *dns_name_text_check(const char *text, size_t len);

/* Case-insensitive equality of two presentation-format names. */
bool dns_name_equal(const char *a, size_t alen, const char *b, size_t blen);

static inline bool dns_is_response(const struct dns_msg *m)
{
	return m->flags & DNS_FLAG_QR;
}

#endif
