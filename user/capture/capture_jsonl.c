// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The JSON Lines source: dnssnoop's own records, read back with json-c
 * and turned into observations. See capture_jsonl.h; the fields are those
 * of docs/output.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "capture/capture_jsonl.h"
#include "lib/errmsg.h"
#include "lib/fmt.h"

#define EXCERPT_LEN  40 /* bytes of a line quoted when it is not JSON */
#define ADDR_TEXT    64 /* longer than any address text */
#define MNEMONIC_MAX 16 /* "TYPE65535", "BADCOOKIE", ... */

struct jsonl_parser {
	json_tokener *tok;
	char *marked; /* a line with its raw-byte escapes marked */
	size_t marked_cap;
};

struct jsonl_source {
	FILE *f;
	struct jsonl_parser *parser;
	char *line; /* the current line: as long as the longest line kept */
	size_t line_cap;
	size_t max_line; /* longer lines are skipped unread */
	volatile sig_atomic_t *stop;
	struct jsonl_source_stats st;
	bool ended; /* end of input or read error */
	bool totals_reported; /* the closing line about bad lines was given */
	struct jsonl_record rec;
	char name[256];
};

struct jsonl_parser *jsonl_parser_new(void)
{
	struct jsonl_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->tok = json_tokener_new();
	if (!p->tok) {
		free(p);
		return NULL;
	}
	return p;
}

void jsonl_parser_free(struct jsonl_parser *p)
{
	if (!p)
		return;
	json_tokener_free(p->tok);
	free(p->marked);
	free(p);
}

/* ---- raw bytes ---- */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* At s (inside a string): "\u00XX" with XX >= 0x80, a raw byte's escape? */
static bool raw_byte_escape(const char *s, size_t left)
{
	return left >= 6 && s[0] == '\\' && s[1] == 'u' && s[2] == '0' && s[3] == '0' &&
	       hex_value(s[4]) >= 8 && hex_value(s[5]) >= 0;
}

/*
 * json-c decodes \u00e9 to the UTF-8 of U+00E9, as it does the character
 * é written as is; but from dnssnoop the first is the raw byte 0xE9.
 * Each such escape inside a string gets a \u0000 in front (no dnssnoop
 * string holds a NUL), which raw_text() undoes after decoding. The copy
 * ends in a NUL, which tells json-c that the text is complete (a number
 * at the end is not waiting for more digits). Returns NULL when out of
 * memory.
 */
static const char *mark_raw_bytes(struct jsonl_parser *p, const char *line, size_t len,
				  size_t *out_len)
{
	bool in_string = false;
	size_t n = 0;

	if (p->marked_cap < 2 * len + 1) { /* every escape at most doubles */
		char *m = realloc(p->marked, 2 * len + 1);

		if (!m)
			return NULL;
		p->marked = m;
		p->marked_cap = 2 * len + 1;
	}
	for (size_t i = 0; i < len;) {
		if (in_string && raw_byte_escape(line + i, len - i)) {
			memcpy(p->marked + n, "\\u0000", 6);
			memcpy(p->marked + n + 6, line + i, 6);
			n += 12;
			i += 6;
			continue;
		}
		if (in_string && line[i] == '\\' && i + 1 < len) {
			memcpy(p->marked + n, line + i, 2);
			n += 2;
			i += 2;
			continue;
		}
		if (line[i] == '"')
			in_string = !in_string;
		p->marked[n++] = line[i++];
	}
	p->marked[n] = '\0';
	*out_len = n;
	return p->marked;
}

/*
 * A decoded string back to the writer's bytes: a NUL and the UTF-8 of
 * U+0080..U+00FF is one marked raw byte; any other NUL ends the text.
 * Writes at most cap - 1 bytes and a NUL; returns the full length.
 */
static size_t raw_text(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0) {
			unsigned char lead = i + 2 < n ? (unsigned char)s[i + 1] : 0;
			unsigned char cont = i + 2 < n ? (unsigned char)s[i + 2] : 0;

			if ((lead != 0xc2 && lead != 0xc3) || (cont & 0xc0) != 0x80)
				break;
			c = (unsigned char)(((lead & 0x03) << 6) | (cont & 0x3f));
			i += 2;
		}
		if (o + 1 < cap)
			out[o] = (char)c;
		o++;
	}
	if (cap)
		out[o < cap ? o : cap - 1] = '\0';
	return o;
}

/* ---- fields ---- */

/* The value of key; NULL when it is absent or JSON null (json-c makes null a NULL object). */
static json_object *field(json_object *obj, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(obj, key, &v);
	return v;
}

/* An integer from 0 to max: 1 with *v, 0 when absent or null, -1 otherwise (err set). */
static int get_uint(json_object *obj, const char *key, uint64_t max, uint64_t *v, char *err,
		    size_t errlen)
{
	json_object *f = field(obj, key);

	if (!f)
		return 0;
	if (json_object_is_type(f, json_type_int) && json_object_get_int64(f) >= 0 &&
	    json_object_get_uint64(f) <= max) {
		*v = json_object_get_uint64(f);
		return 1;
	}
	set_err(err, errlen, "\"%s\" is not an integer from 0 to %llu", key,
		(unsigned long long)max);
	return -1;
}

/* The same, for a field that must be there. */
static bool need_uint(json_object *obj, const char *key, uint64_t max, uint64_t *v, char *err,
		      size_t errlen)
{
	int rc = get_uint(obj, key, max, v, err, errlen);

	if (rc == 0)
		set_err(err, errlen, "\"%s\" is missing", key);
	return rc == 1;
}

/* A string: 1 with *s and *len, 0 when absent or null, -1 when of another type (err set). */
static int get_str(json_object *obj, const char *key, const char **s, size_t *len, char *err,
		   size_t errlen)
{
	json_object *f = field(obj, key);

	if (!f)
		return 0;
	if (!json_object_is_type(f, json_type_string)) {
		set_err(err, errlen, "\"%s\" is not a string", key);
		return -1;
	}
	*s = json_object_get_string(f);
	*len = (size_t)json_object_get_string_len(f);
	return 1;
}

static bool need_str(json_object *obj, const char *key, const char **s, size_t *len, char *err,
		     size_t errlen)
{
	int rc = get_str(obj, key, s, len, err, errlen);

	if (rc == 0)
		set_err(err, errlen, "\"%s\" is missing", key);
	return rc == 1;
}

/* A string into buf (at most cap - 1 bytes); false if longer or with a NUL. */
static bool copy_text(const char *s, size_t len, char *buf, size_t cap)
{
	if (len >= cap || memchr(s, '\0', len))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return true;
}

/* Address text -> family and 16 bytes (IPv4 in the first 4). */
static bool parse_addr(const char *s, size_t len, uint8_t *family, uint8_t addr[16])
{
	char text[ADDR_TEXT];

	memset(addr, 0, 16);
	if (!copy_text(s, len, text, sizeof(text)))
		return false;
	if (inet_pton(AF_INET, text, addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, text, addr) == 1)
		*family = AF_INET6;
	else
		return false;
	return true;
}

/* One of saddr/daddr: *family 0 for null (an unknown family). */
static bool get_addr(json_object *obj, const char *key, uint8_t *family, uint8_t addr[16],
		     char *err, size_t errlen)
{
	const char *s;
	size_t len;
	int rc = get_str(obj, key, &s, &len, err, errlen);

	*family = 0;
	memset(addr, 0, 16);
	if (rc < 0)
		return false;
	if (rc > 0 && !parse_addr(s, len, family, addr)) {
		set_err(err, errlen, "\"%s\" is not an IPv4 or IPv6 address", key);
		return false;
	}
	return true;
}

/* A mnemonic field through from_str (dns_type_from_str, dns_rcode_from_str). */
static bool get_mnemonic(json_object *obj, const char *key, int (*from_str)(const char *),
			 uint16_t *v, char *err, size_t errlen)
{
	char text[MNEMONIC_MAX];
	const char *s;
	size_t len;
	int n;

	if (!need_str(obj, key, &s, &len, err, errlen))
		return false;
	n = copy_text(s, len, text, sizeof(text)) ? from_str(text) : -1;
	if (n < 0) {
		set_err(err, errlen, "\"%s\" is not a known mnemonic or %s", key,
			!strcmp(key, "rcode")	 ? "RCODEn"
			: !strcmp(key, "opcode") ? "OPCODEn"
			: !strcmp(key, "qclass") ? "CLASSn"
						 : "TYPEn");
		return false;
	}
	*v = (uint16_t)n;
	return true;
}

/* ---- the record ---- */

static int bad(char *err, size_t errlen, const char *why)
{
	set_err(err, errlen, "%s", why);
	return JSONL_BAD;
}

/* "type", "v", "qr" -> the observation's kind; JSONL_OTHER_TYPE for other records. */
static int record_kind(json_object *root, enum obs_kind *kind, char *err, size_t errlen)
{
	const char *type, *qr;
	size_t tlen, qlen;
	uint64_t v;

	if (get_str(root, "type", &type, &tlen, err, errlen) != 1)
		return bad(err, errlen, "not a dnssnoop record (no \"type\" string)");
	if (strcmp(type, "dns") != 0 && strcmp(type, "unanswered") != 0)
		return JSONL_OTHER_TYPE;
	if (!need_uint(root, "v", UINT32_MAX, &v, err, errlen))
		return JSONL_BAD;
	if (v != 1) {
		set_err(err, errlen, "record version %llu is not supported (1 is)",
			(unsigned long long)v);
		return JSONL_BAD;
	}
	if (!need_str(root, "qr", &qr, &qlen, err, errlen))
		return JSONL_BAD;
	if (strcmp(qr, "query") != 0 && strcmp(qr, "response") != 0)
		return bad(err, errlen, "\"qr\" is neither \"query\" nor \"response\"");
	if (type[0] == 'u') {
		if (qr[0] != 'q')
			return bad(err, errlen, "an unanswered record that is not a query");
		*kind = OBS_UNANSWERED;
	} else {
		*kind = qr[0] == 'q' ? OBS_QUERY : OBS_RESPONSE;
	}
	return JSONL_OBSERVATION;
}

/* "ts", and "waited_ns" of an unanswered record, -> ts_ns and order_ns. */
static bool record_times(json_object *root, struct jsonl_record *rec, char *err, size_t errlen)
{
	const char *ts;
	size_t len;
	uint64_t waited = 0;

	if (!need_str(root, "ts", &ts, &len, err, errlen))
		return false;
	if (!fmt_parse_time(ts, len, &rec->obs.ts_ns)) {
		set_err(err, errlen, "\"ts\" is not an RFC 3339 time");
		return false;
	}
	if (rec->obs.kind == OBS_UNANSWERED &&
	    !need_uint(root, "waited_ns", INT64_MAX, &waited, err, errlen))
		return false;
	rec->order_ns = rec->obs.ts_ns + waited;
	if (rec->order_ns < rec->obs.ts_ns)
		rec->order_ns = UINT64_MAX;
	return true;
}

static bool record_host_dir_proto(json_object *root, struct jsonl_record *rec, char *err,
				  size_t errlen)
{
	const char *s;
	size_t len;
	int rc;

	rc = get_str(root, "host", &s, &len, err, errlen);
	if (rc < 0)
		return false;
	if (rc > 0) {
		raw_text(s, len, rec->host, sizeof(rec->host)); /* cut like the tables cut it */
		rec->obs.host = rec->host;
	}
	rec->obs.dir = DNSSNOOP_DIR_UNKNOWN;
	rc = get_str(root, "dir", &s, &len, err, errlen);
	if (rc < 0)
		return false;
	if (rc > 0 && !strcmp(s, "egress"))
		rec->obs.dir = DNSSNOOP_EGRESS;
	else if (rc > 0 && !strcmp(s, "ingress"))
		rec->obs.dir = DNSSNOOP_INGRESS;
	else if (rc > 0) {
		set_err(err, errlen, "\"dir\" is neither \"egress\" nor \"ingress\"");
		return false;
	}
	rc = get_str(root, "proto", &s, &len, err, errlen);
	if (rc < 0)
		return false;
	if (rc > 0 && !strcmp(s, "udp"))
		rec->obs.proto = IPPROTO_UDP;
	else if (rc > 0 && !strcmp(s, "tcp"))
		rec->obs.proto = IPPROTO_TCP;
	else if (rc > 0) {
		set_err(err, errlen, "\"proto\" is neither \"udp\" nor \"tcp\"");
		return false;
	}
	return true;
}

/* Addresses and ports, oriented client/server: the client sent the query. */
static bool record_endpoints(json_object *root, struct jsonl_record *rec, char *err, size_t errlen)
{
	struct dns_obs *o = &rec->obs;
	bool from_client = o->kind != OBS_RESPONSE;
	uint8_t sfam, dfam, saddr[16], daddr[16];
	uint64_t sport, dport;

	if (!get_addr(root, "saddr", &sfam, saddr, err, errlen) ||
	    !get_addr(root, "daddr", &dfam, daddr, err, errlen) ||
	    !need_uint(root, "sport", UINT16_MAX, &sport, err, errlen) ||
	    !need_uint(root, "dport", UINT16_MAX, &dport, err, errlen))
		return false;
	if (sfam && dfam && sfam != dfam) {
		set_err(err, errlen, "\"saddr\" and \"daddr\" are of different families");
		return false;
	}
	o->family = sfam ? sfam : dfam;
	memcpy(o->client_addr, from_client ? saddr : daddr, 16);
	memcpy(o->server_addr, from_client ? daddr : saddr, 16);
	o->client_port = (uint16_t)(from_client ? sport : dport);
	o->server_port = (uint16_t)(from_client ? dport : sport);
	return true;
}

/* pid, tid, uid, comm, cgroup: the owner when pid is known. */
static bool record_owner(json_object *root, struct jsonl_record *rec, char *err, size_t errlen)
{
	struct dnssnoop_owner *ow = &rec->owner;
	uint64_t pid, tid, uid = 0;
	const char *s;
	size_t len;
	int rc = get_uint(root, "pid", UINT32_MAX, &pid, err, errlen);

	if (rc < 0)
		return false;
	if (rc == 0 || pid == 0)
		return true; /* unknown owner */
	rc = get_uint(root, "tid", UINT32_MAX, &tid, err, errlen);
	if (rc < 0 || get_uint(root, "uid", UINT32_MAX, &uid, err, errlen) < 0)
		return false;
	memset(ow, 0, sizeof(*ow));
	ow->tgid = (uint32_t)pid;
	ow->pid = (uint32_t)(rc ? tid : pid);
	ow->uid = (uint32_t)uid;
	rc = get_str(root, "comm", &s, &len, err, errlen);
	if (rc < 0)
		return false;
	if (rc > 0) /* up to 15 bytes, NUL-padded as the kernel gives it */
		raw_text(s, len, ow->comm, sizeof(ow->comm));
	rec->obs.owner = ow;
	rc = get_str(root, "cgroup", &s, &len, err, errlen);
	if (rc < 0)
		return false;
	if (rc > 0) {
		raw_text(s, len, rec->cgroup, sizeof(rec->cgroup));
		rec->obs.cgroup = rec->cgroup;
	}
	return true;
}

/* tc, rcode, latency and the A/AAAA answer addresses of a response. */
static bool record_response(json_object *root, struct jsonl_record *rec, char *err, size_t errlen)
{
	struct dns_obs *o = &rec->obs;
	json_object *answers = field(root, "answers");
	size_t n;
	int rc;

	if (!get_mnemonic(root, "rcode", dns_rcode_from_str, &o->rcode, err, errlen))
		return false;
	rc = get_uint(root, "latency_ns", INT64_MAX, &o->latency_ns, err, errlen);
	if (rc < 0)
		return false;
	o->has_latency = rc > 0;
	if (!answers)
		return true;
	if (!json_object_is_type(answers, json_type_array)) {
		set_err(err, errlen, "\"answers\" is not an array");
		return false;
	}
	n = json_object_array_length(answers);
	for (size_t i = 0; i < n && o->naddrs < OBS_MAX_ADDRS; i++) {
		json_object *rr = json_object_array_get_idx(answers, i);
		const char *type, *data;
		size_t tlen, dlen;
		struct obs_addr *a = &o->addrs[o->naddrs];

		if (!json_object_is_type(rr, json_type_object)) {
			set_err(err, errlen, "an element of \"answers\" is not an object");
			return false;
		}
		if (get_str(rr, "type", &type, &tlen, err, errlen) != 1 ||
		    get_str(rr, "data", &data, &dlen, err, errlen) != 1)
			continue; /* no rdata to count (malformed on the wire) */
		if ((!strcmp(type, "A") || !strcmp(type, "AAAA")) &&
		    parse_addr(data, dlen, &a->family, a->addr) &&
		    (a->family == AF_INET) == !strcmp(type, "A"))
			o->naddrs++;
	}
	return true;
}

/*
 * The header as a store of every message keeps it (report/ch_row.h): the
 * flags word rebuilt from "qr", "opcode" and "flags", "qclass" and whether
 * a server logged it. opcode and qclass may be absent (QUERY, IN).
 */
static bool record_header(json_object *root, json_object *flags, struct dns_obs *o, char *err,
			  size_t errlen)
{
	uint16_t opcode = 0, qclass = 1;
	const char *s;
	size_t len;

	if ((field(root, "opcode") &&
	     !get_mnemonic(root, "opcode", dns_opcode_from_str, &opcode, err, errlen)) ||
	    (field(root, "qclass") &&
	     !get_mnemonic(root, "qclass", dns_class_from_str, &qclass, err, errlen)))
		return false;
	o->qclass = qclass;
	o->flags = (uint16_t)((o->kind == OBS_RESPONSE ? DNS_FLAG_QR : 0) | (opcode & 0xf) << 11);
	for (size_t i = 0; i < json_object_array_length(flags); i++) {
		json_object *f = json_object_array_get_idx(flags, i);

		for (size_t k = 0; json_object_is_type(f, json_type_string) && k < DNS_HEADER_FLAGS;
		     k++)
			if (!strcmp(json_object_get_string(f), dns_header_flags[k].name))
				o->flags |= dns_header_flags[k].bit;
	}
	o->logged = get_str(root, "source", &s, &len, err, errlen) > 0;
	return true;
}

/* Everything after the kind and the question. */
static bool record_fields(json_object *root, struct jsonl_record *rec, char *err, size_t errlen)
{
	struct dns_obs *o = &rec->obs;
	json_object *flags;
	uint64_t id, len;

	if (!record_times(root, rec, err, errlen) ||
	    !record_host_dir_proto(root, rec, err, errlen) ||
	    !record_endpoints(root, rec, err, errlen) || !record_owner(root, rec, err, errlen) ||
	    !need_uint(root, "id", UINT16_MAX, &id, err, errlen) ||
	    !need_uint(root, "len", UINT16_MAX, &len, err, errlen) ||
	    !get_mnemonic(root, "qtype", dns_type_from_str, &o->qtype, err, errlen))
		return false;
	o->id = (uint16_t)id;
	o->len = (uint32_t)len;
	flags = field(root, "flags");
	if (!flags || !json_object_is_type(flags, json_type_array)) {
		set_err(err, errlen, "\"flags\" is not an array");
		return false;
	}
	if (!record_header(root, flags, o, err, errlen))
		return false;
	if (o->kind != OBS_RESPONSE)
		return true;
	o->tc = o->flags & DNS_FLAG_TC;
	return record_response(root, rec, err, errlen);
}

/* root (an object) -> *rec. */
static int convert(json_object *root, struct jsonl_record *rec, char *err, size_t errlen)
{
	struct dns_obs *o = &rec->obs;
	const char *qname, *why;
	size_t qlen;
	int rc;

	memset(o, 0, sizeof(*o));
	rc = record_kind(root, &o->kind, err, errlen);
	if (rc != JSONL_OBSERVATION)
		return rc;
	rc = get_str(root, "qname", &qname, &qlen, err, errlen);
	if (rc < 0)
		return JSONL_BAD;
	if (rc == 0)
		return JSONL_NO_QUESTION; /* the tables have nothing to key it by */
	/* Printable ASCII only: no raw-byte marks, and the text is the name as is. */
	why = dns_name_text_check(qname, qlen);
	if (why) {
		set_err(err, errlen, "\"qname\" %s", why);
		return JSONL_BAD;
	}
	memcpy(rec->qname, qname, qlen); /* checked: at most 4 * 255 bytes */
	rec->qname[qlen] = '\0';
	o->qname = rec->qname;
	o->qname_len = qlen;
	return record_fields(root, rec, err, errlen) ? JSONL_OBSERVATION : JSONL_BAD;
}

static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/* The start of a line that is not JSON, printable, for the message. */
static void excerpt(const char *line, size_t len, char *out, size_t cap)
{
	size_t n = len < EXCERPT_LEN ? len : EXCERPT_LEN;
	size_t i;

	for (i = 0; i < n && i + 1 < cap; i++)
		out[i] = line[i] >= ' ' && line[i] <= '~' ? line[i] : '?';
	out[i] = '\0';
}

/* why: "not JSON (...)" or "not a JSON object"; the start of the line follows. */
static int syntax_error(const char *line, size_t len, const char *why, char *err, size_t errlen)
{
	char start[EXCERPT_LEN + 1];

	excerpt(line, len, start, sizeof(start));
	set_err(err, errlen, "%s: \"%s%s\"", why, start, len > EXCERPT_LEN ? "..." : "");
	return JSONL_BAD;
}

/* Every record is an object: a line that starts otherwise is not one, whatever JSON it is. */
static bool starts_object(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i < len && s[i] == '{';
}

int jsonl_parse_line(struct jsonl_parser *p, const char *line, size_t len, struct jsonl_record *rec,
		     char *err, size_t errlen)
{
	enum json_tokener_error jerr;
	json_object *root;
	const char *text;
	size_t tlen, end;
	int rc;

	if (blank(line, len))
		return JSONL_BLANK;
	if (!starts_object(line, len))
		return syntax_error(line, len, "not a JSON object", err, errlen);
	if (len > INT32_MAX / 2 - 1)
		return bad(err, errlen, "a line of more than 1 GiB");
	text = mark_raw_bytes(p, line, len, &tlen);
	if (!text)
		return bad(err, errlen, "out of memory");
	json_tokener_reset(p->tok);
	root = json_tokener_parse_ex(p->tok, text, (int)tlen + 1); /* with the NUL */
	jerr = json_tokener_get_error(p->tok);
	if (jerr == json_tokener_continue || jerr == json_tokener_error_parse_eof)
		return syntax_error(line, len, "not JSON (the line ends inside the object)", err,
				    errlen);
	if (jerr != json_tokener_success) {
		char why[128];

		snprintf(why, sizeof(why), "not JSON (%s)", json_tokener_error_desc(jerr));
		return syntax_error(line, len, why, err, errlen);
	}
	end = json_tokener_get_parse_end(p->tok);
	if (end > tlen)
		end = tlen; /* the NUL was read */
	if (!blank(text + end, tlen - end)) {
		json_object_put(root);
		return syntax_error(line, len, "not JSON (more after the object)", err, errlen);
	}
	rc = convert(root, rec, err, errlen);
	json_object_put(root);
	return rc;
}

/* ---- the source ---- */

struct jsonl_source *jsonl_source_fopen(FILE *f, const char *name, char *err, size_t errlen)
{
	struct jsonl_source *js = f ? calloc(1, sizeof(*js)) : NULL;

	if (js)
		js->parser = jsonl_parser_new();
	if (!js || !js->parser) {
		set_err(err, errlen, "dnssnoop: out of memory opening %s", name);
		if (f && f != stdin)
			fclose(f);
		if (js)
			free(js);
		return NULL;
	}
	js->f = f;
	js->max_line = JSONL_MAX_LINE;
	snprintf(js->name, sizeof(js->name), "%s", name);
	return js;
}

void jsonl_source_set_max_line(struct jsonl_source *js, size_t max)
{
	js->max_line = max;
}

void jsonl_source_set_stop(struct jsonl_source *js, volatile sig_atomic_t *stop)
{
	js->stop = stop;
}

static bool stop_requested(const struct jsonl_source *js)
{
	return js->stop && *js->stop;
}

struct jsonl_source *jsonl_source_open(const char *path, char *err, size_t errlen)
{
	bool is_stdin = !strcmp(path, "-");
	FILE *f = is_stdin ? stdin : fopen(path, "r");

	if (!f) {
		set_err(err, errlen, "dnssnoop: cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	return jsonl_source_fopen(f, is_stdin ? "standard input" : path, err, errlen);
}

/* At the end: one line with the totals when lines were bad, then 0. */
static int report_totals(struct jsonl_source *js, char *err, size_t errlen)
{
	const struct jsonl_source_stats *st = &js->st;

	if (!st->errors || js->totals_reported)
		return 0;
	js->totals_reported = true;
	set_err(err, errlen,
		"dnssnoop: %s: %llu bad line%s skipped%s; %llu records of %llu lines used",
		js->name, (unsigned long long)st->errors, st->errors == 1 ? "" : "s",
		st->errors > JSONL_REPORTED_ERRORS ? " (only the first ones were shown)" : "",
		(unsigned long long)st->observations, (unsigned long long)st->lines);
	return -1;
}

/* Room for n bytes in js->line, doubling; false when out of memory. */
static bool line_reserve(struct jsonl_source *js, size_t n)
{
	size_t cap = js->line_cap ? js->line_cap : 256;
	char *b;

	if (n <= js->line_cap)
		return true;
	while (cap < n)
		cap *= 2;
	b = realloc(js->line, cap);
	if (!b)
		return false;
	js->line = b;
	js->line_cap = cap;
	return true;
}

/* How read_line() ended. */
enum line_end {
	LINE_OK,
	LINE_TOO_LONG, /* over max_line: skipped up to its newline */
	LINE_END, /* no more input */
	LINE_FAILED, /* read error or out of memory: err set */
};

/*
 * Reads the next line into js->line; *len without "\n" / "\r\n". Up to
 * max_line + 1 bytes are kept (one more than allowed, so that a '\r'
 * before the newline still fits); past that the line is only counted
 * through to its newline, so a huge line costs no memory.
 */
static enum line_end read_line(struct jsonl_source *js, size_t *len, bool *complete, char *err,
			       size_t errlen)
{
	size_t n = 0, keep = js->max_line + 1;
	bool over = false;
	int c;

	errno = 0;
	while ((c = getc_unlocked(js->f)) != EOF && c != '\n') {
		if (n >= keep) {
			over = true;
			continue;
		}
		if (!line_reserve(js, n + 1)) {
			set_err(err, errlen, "dnssnoop: %s: out of memory at line %llu", js->name,
				(unsigned long long)js->st.lines + 1);
			js->ended = true;
			return LINE_FAILED;
		}
		js->line[n++] = (char)c;
	}
	*complete = c == '\n';
	if (c == EOF && ferror(js->f) && !stop_requested(js)) {
		js->ended = true;
		set_err(err, errlen, "dnssnoop: %s: read error after line %llu: %s", js->name,
			(unsigned long long)js->st.lines, strerror(errno ? errno : EIO));
		return LINE_FAILED;
	}
	/* Nothing more, or a line cut short only because reading gave up: the end. */
	if (c == EOF && ((n == 0 && !over) || stop_requested(js))) {
		js->ended = true;
		return LINE_END;
	}
	js->st.lines++;
	if (!over && n > 0 && js->line[n - 1] == '\r')
		n--;
	*len = n;
	return over || n > js->max_line ? LINE_TOO_LONG : LINE_OK;
}

/* A bad line: reported ("dnssnoop: FILE:LINE: ...") among the first ones, else only counted. */
static bool report_bad_line(struct jsonl_source *js, const char *why, bool complete, char *err,
			    size_t errlen)
{
	if (++js->st.errors > JSONL_REPORTED_ERRORS)
		return false;
	set_err(err, errlen, "dnssnoop: %s:%llu: %s%s", js->name, (unsigned long long)js->st.lines,
		complete ? "" : "last line cut short (no newline at the end): ", why);
	return true;
}

int jsonl_source_next(struct jsonl_source *js, const struct jsonl_record **rec, char *err,
		      size_t errlen)
{
	char why[512];

	while (!js->ended && !stop_requested(js)) {
		bool complete = true;
		size_t len = 0;
		enum line_end end = read_line(js, &len, &complete, err, errlen);

		if (end == LINE_FAILED)
			return -1;
		if (end == LINE_END)
			break;
		if (end == LINE_TOO_LONG) {
			snprintf(why, sizeof(why), "line longer than %zu bytes, skipped",
				 js->max_line);
			if (report_bad_line(js, why, true, err, errlen))
				return -1;
			continue;
		}
		switch (jsonl_parse_line(js->parser, js->line, len, &js->rec, why, sizeof(why))) {
		case JSONL_OBSERVATION:
			js->st.observations++;
			*rec = &js->rec;
			return 1;
		case JSONL_OTHER_TYPE:
			js->st.other_types++;
			break;
		case JSONL_NO_QUESTION:
			js->st.no_question++;
			break;
		case JSONL_BLANK:
			break;
		default:
			if (report_bad_line(js, why, complete, err, errlen))
				return -1;
		}
	}
	return report_totals(js, err, errlen);
}

void jsonl_source_get_stats(const struct jsonl_source *js, struct jsonl_source_stats *st)
{
	*st = js->st;
}

void jsonl_source_close(struct jsonl_source *js)
{
	if (!js)
		return;
	if (js->f && js->f != stdin)
		fclose(js->f);
	jsonl_parser_free(js->parser);
	free(js->line);
	free(js);
}
