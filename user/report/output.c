// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Output stage: JSON Lines (schema in docs/output.md) or readable text.
 *
 * Records are formatted into one growable buffer that only ever holds
 * whole lines; it is written out with write(2) when it passes
 * OUTPUT_FLUSH_BYTES and on output_flush(). A record that cannot be
 * formatted completely (allocation failure) is cut off the buffer, so a
 * reader never sees half a line from us. When a write fails half way
 * (a full disk), the part of a line that went out is cut off the file
 * again if it is a regular one, and nothing more is written.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "capture/cgroup_ident.h"
#include "lib/json.h"
#include "lib/outfile.h"
#include "report/output.h"
#include "lib/fmt.h"

#define OUTPUT_FLUSH_BYTES (64 * 1024)
#define OUTPUT_INITIAL_CAP (2 * OUTPUT_FLUSH_BYTES) /* a record's largest room fits */
#define OUTPUT_RDATA_CAP   8192 /* longer rdata text is cut with "..." */
#define TEXT_ANSWERS_MAX   160 /* text format: answer data cut after this */
#define HMS_LEN		   15 /* "14:05:01.123456" */
#define IDENTITY_MEMO	   64 /* identities kept rendered, by serial (power of two) */

struct output {
	int fd;
	enum output_format format;
	cgroup_path_fn cgroup_path;
	cgroup_ident_fn cgroup_ident;
	cgroup_ident_path_fn cgroup_ident_by_path;
	void *cgroup_ctx;
	char *host; /* NULL: unknown */
	struct jbuf host_json; /* host as an encoded JSON value */
	struct jbuf lines; /* whole lines not yet written */
	int err; /* first write error (-errno); sticky */
	size_t record_start; /* where the record being formatted begins in lines */
	bool record_open; /* output_begin_record() called, output_end_record() not yet */
	const char *record_type; /* the record being formatted's, for line */
	output_line_fn line;
	void *line_ctx;
	char name[DNS_MAX_NAME_TEXT];
	char rdata[OUTPUT_RDATA_CAP];
	struct fmt_time_memo time_memo; /* the last second of a record's "ts" */
	/* Rendered identities (put_identity), direct-mapped by their serial. */
	struct identity_memo {
		uint64_t serial; /* 0: empty */
		char *json;
		size_t len;
	} identity_memo[IDENTITY_MEMO];
};

/* ---- shared field helpers ---- */

/* Text format: direction padded to one width so the columns line up. */
static const char *dir_text(uint8_t dir)
{
	switch (dir) {
	case DNSSNOOP_EGRESS:
		return "egress ";
	case DNSSNOOP_INGRESS:
		return "ingress";
	default:
		return "unknown";
	}
}

static size_t comm_len(const struct pkt_meta *m)
{
	return strnlen(m->owner.comm, sizeof(m->owner.comm));
}

static const char *cgroup_of(const struct output *o, const struct pkt_meta *m)
{
	if (!pkt_has_owner(m) || !o->cgroup_path)
		return NULL;
	return o->cgroup_path(o->cgroup_ctx, m->owner.cgroup_id);
}

static const struct cgroup_ident *identity_of(const struct output *o, const struct pkt_meta *m)
{
	if (!pkt_has_owner(m) || !o->cgroup_ident)
		return NULL;
	return o->cgroup_ident(o->cgroup_ctx, m->owner.cgroup_id);
}

/*
 * The DNS message length on the wire, as the pipeline passes it in
 * wire_len (UDP: the datagram's payload; TCP: the 2-byte length prefix).
 * A caller that leaves it 0 gets the best guess from the packet.
 */
static uint64_t wire_len(const struct dns_record *rec)
{
	if (rec->wire_len)
		return rec->wire_len;
	if (rec->meta->proto == IPPROTO_TCP && !rec->truncated_capture)
		return rec->msg->len;
	return rec->meta->orig_len;
}

struct flag_name {
	uint16_t bit;
	uint8_t json_len; /* of json */
	const char *name;
	const char *json; /* the name as a JSON string */
};

#define FLAG(bit, name) {bit, sizeof("\"" name "\"") - 1, name, "\"" name "\""}

static const struct flag_name header_flags[] = {
	FLAG(DNS_FLAG_AA, "aa"), FLAG(DNS_FLAG_TC, "tc"), FLAG(DNS_FLAG_RD, "rd"),
	FLAG(DNS_FLAG_RA, "ra"), FLAG(DNS_FLAG_Z, "z"),	  FLAG(DNS_FLAG_AD, "ad"),
	FLAG(DNS_FLAG_CD, "cd"),
};

static const struct flag_name status_flags[] = {
	FLAG(DNS_F_TRUNCATED, "truncated"), FLAG(DNS_F_BAD_NAME, "bad_name"),
	FLAG(DNS_F_BAD_RDATA, "bad_rdata"), FLAG(DNS_F_TRAILING, "trailing"),
	FLAG(DNS_F_BAD_OPT, "bad_opt"),
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- JSON records ---- */

/* How every record starts: "type", "v", "ts" when ts_ns is given, "host". */
static void json_open_record(struct output *o, const char *type, const uint64_t *ts_ns)
{
	struct jbuf *j = &o->lines;

	jbuf_obj_begin(j);
	JBUF_KV_WORD(j, "type", type);
	JBUF_KV_U64(j, "v", OUTPUT_SCHEMA_VERSION);
	if (ts_ns) {
		JBUF_KEY(j, "ts");
		fmt_json_time(j, *ts_ns);
	}
	JBUF_KEY(j, "host");
	jbuf_raw(j, o->host_json.buf, o->host_json.len);
}

/*
 * A DNS record is written in one pass at a cursor (jbuf_room): room is
 * asked once for the part before the sections, once per RR and once for
 * the rest, each with a bound on what it can take, and every key goes out
 * with its comma and quotes as one literal.
 */
#define HEAD_FIXED_MAX 2048 /* keys, numbers, our own words, four addresses */
#define RR_FIXED_MAX   128 /* keys, type, class, TTL of one RR */
#define TAIL_MAX       512

/* One of our own words as a JSON string, or null. */
static char *put_word_or_null(char *p, const char *s)
{
	if (!s)
		return JPUT(p, "null");
	*p = '"';
	p = jput(p + 1, s, strlen(s));
	*p = '"';
	return p + 1;
}

/* A string from outside (escaped) or null. */
static char *put_str_or_null(char *p, const char *s, size_t n)
{
	return s ? jput_str(p, s, n) : JPUT(p, "null");
}

/* Only for a packet that came through a tunnel: the outermost one. */
static char *put_tunnel(char *p, const struct pkt_tunnel *t)
{
	p = JPUT(p, ",\"tunnel\":{\"type\":");
	p = put_word_or_null(p, pkt_tunnel_name(t->type));
	p = JPUT(p, ",\"saddr\":");
	p = fmt_put_json_addr(p, t->family, t->saddr);
	p = JPUT(p, ",\"daddr\":");
	p = fmt_put_json_addr(p, t->family, t->daddr);
	p = JPUT(p, ",\"id\":");
	p = t->has_id ? jput_u64(p, t->id) : JPUT(p, "null");
	*p = '}';
	return p + 1;
}

/* "dir" and "proto", each key with its value as one literal. */
static char *put_dir_proto(char *p, const struct pkt_meta *m)
{
	if (m->dir == DNSSNOOP_EGRESS)
		p = JPUT(p, ",\"dir\":\"egress\"");
	else if (m->dir == DNSSNOOP_INGRESS)
		p = JPUT(p, ",\"dir\":\"ingress\"");
	else
		p = JPUT(p, ",\"dir\":null");
	if (m->proto == IPPROTO_UDP)
		return JPUT(p, ",\"proto\":\"udp\"");
	if (m->proto == IPPROTO_TCP)
		return JPUT(p, ",\"proto\":\"tcp\"");
	return JPUT(p, ",\"proto\":null");
}

/* Only for a message a server logged: where it was seen (see packet.h). */
static char *put_vantage(char *p, const struct pkt_vantage *v)
{
	p = JPUT(p, ",\"source\":");
	p = put_word_or_null(p, v->source);
	p = JPUT(p, ",\"dnstap\":{\"type\":");
	p = put_word_or_null(p, v->type);
	p = JPUT(p, ",\"transport\":");
	p = put_word_or_null(p, v->transport);
	p = JPUT(p, ",\"identity\":");
	p = put_str_or_null(p, v->identity, v->identity ? strlen(v->identity) : 0);
	p = JPUT(p, ",\"version\":");
	p = put_str_or_null(p, v->version, v->version ? strlen(v->version) : 0);
	*p = '}';
	return p + 1;
}

/* Room for the vantage's strings from outside. */
static size_t vantage_room(const struct pkt_vantage *v)
{
	if (!v)
		return 0;
	return (v->identity ? JPUT_STR_MAX(strlen(v->identity)) : 0) +
	       (v->version ? JPUT_STR_MAX(strlen(v->version)) : 0);
}

static char *put_packet(char *p, const struct pkt_meta *m)
{
	p = put_dir_proto(p, m);
	p = JPUT(p, ",\"ifindex\":");
	p = jput_u64(p, m->ifindex);
	p = JPUT(p, ",\"saddr\":");
	p = fmt_put_json_addr(p, m->family, m->saddr);
	p = JPUT(p, ",\"sport\":");
	p = jput_u64(p, m->sport);
	p = JPUT(p, ",\"daddr\":");
	p = fmt_put_json_addr(p, m->family, m->daddr);
	p = JPUT(p, ",\"dport\":");
	p = jput_u64(p, m->dport);
	if (m->tunnel.type)
		p = put_tunnel(p, &m->tunnel);
	if (m->vantage)
		p = put_vantage(p, m->vantage);
	return p;
}

/* A string of the identity: "" is unknown. */
static char *put_ident_str(char *p, const char *s)
{
	return put_str_or_null(p, *s ? s : NULL, strlen(s));
}

/* Room put_identity() may take. */
static size_t identity_room(const struct cgroup_ident *id)
{
	static const char keys[] = ",\"unit\":,\"container\":{\"runtime\":\"\",\"id\":\"\","
				   "\"name\":},\"pod\":{\"uid\":\"\",\"name\":,\"namespace\":}";

	return sizeof(keys) + 5 * 4 + (id ? JPUT_STR_MAX(sizeof(*id)) : 0);
}

/* ,"unit":..,"container":{..}|null,"pod":{..}|null (docs/output.md). */
static char *put_identity(char *p, const struct cgroup_ident *id)
{
	if (!id)
		return JPUT(p, ",\"unit\":null,\"container\":null,\"pod\":null");
	p = put_ident_str(JPUT(p, ",\"unit\":"), id->unit);
	if (cgroup_ident_is_container(id)) {
		p = jput_str(JPUT(p, ",\"container\":{\"runtime\":"), id->runtime,
			     strlen(id->runtime));
		p = jput_str(JPUT(p, ",\"id\":"), id->container_id, strlen(id->container_id));
		p = put_ident_str(JPUT(p, ",\"name\":"), id->container_name);
		*p++ = '}';
	} else {
		p = JPUT(p, ",\"container\":null");
	}
	if (!cgroup_ident_is_pod(id))
		return JPUT(p, ",\"pod\":null");
	p = jput_str(JPUT(p, ",\"pod\":{\"uid\":"), id->pod_uid, strlen(id->pod_uid));
	p = put_ident_str(JPUT(p, ",\"name\":"), id->pod_name);
	p = put_ident_str(JPUT(p, ",\"namespace\":"), id->pod_namespace);
	*p++ = '}';
	return p;
}

/*
 * put_identity() of a cached identity once per serial: a cgroup's records
 * copy the same bytes, so they are rendered (escaped) once, not per record.
 */
static char *put_identity_memo(struct output *o, char *p, const struct cgroup_ident *id)
{
	struct identity_memo *m;
	char *end;

	if (!id || !id->serial)
		return put_identity(p, id);
	m = &o->identity_memo[id->serial & (IDENTITY_MEMO - 1)];
	if (m->serial == id->serial)
		return jput(p, m->json, m->len);
	end = put_identity(p, id);
	free(m->json);
	m->len = (size_t)(end - p);
	m->json = malloc(m->len);
	m->serial = m->json ? id->serial : 0;
	if (m->json)
		memcpy(m->json, p, m->len);
	return end;
}

void output_json_identity(struct output *o, struct jbuf *j, const char *path)
{
	const struct cgroup_ident *id = NULL;
	struct cgroup_ident parsed;
	char *p;

	if (path && o->cgroup_ident_by_path)
		id = o->cgroup_ident_by_path(o->cgroup_ctx, path);
	if (path && !id) {
		cgroup_ident_parse(path, &parsed);
		id = &parsed;
	}
	p = jbuf_room(j, identity_room(id));
	if (p)
		jbuf_commit(j, put_identity_memo(o, p, id));
}

static char *put_owner(struct output *o, char *p, const struct pkt_meta *m, const char *cgroup,
		       const struct cgroup_ident *id)
{
	if (!pkt_has_owner(m))
		return JPUT(p, ",\"pid\":null,\"tid\":null,\"comm\":null,\"uid\":null,"
			       "\"cgroup\":null,\"unit\":null,\"container\":null,\"pod\":null");
	p = JPUT(p, ",\"pid\":");
	p = jput_u64(p, m->owner.tgid);
	p = JPUT(p, ",\"tid\":");
	p = jput_u64(p, m->owner.pid);
	p = JPUT(p, ",\"comm\":");
	p = jput_str(p, m->owner.comm, comm_len(m));
	p = JPUT(p, ",\"uid\":");
	p = jput_u64(p, m->owner.uid);
	p = JPUT(p, ",\"cgroup\":");
	p = put_str_or_null(p, cgroup, cgroup ? strlen(cgroup) : 0);
	return put_identity_memo(o, p, id);
}

/* The names of the flags set in bits, as the items of a JSON array. */
static char *put_flag_words(char *p, unsigned int bits, const struct flag_name *names,
			    size_t n)
{
	bool first = true;

	for (size_t i = 0; i < n; i++) {
		if (!(bits & names[i].bit))
			continue;
		if (!first)
			*p++ = ',';
		first = false;
		p = jput(p, names[i].json, names[i].json_len);
	}
	return p;
}

static char *put_header(char *p, const struct dns_msg *msg)
{
	char tmp[16];

	p = JPUT(p, ",\"id\":");
	p = jput_u64(p, msg->id);
	if (dns_is_response(msg))
		p = JPUT(p, ",\"qr\":\"response\",\"opcode\":");
	else
		p = JPUT(p, ",\"qr\":\"query\",\"opcode\":");
	if (msg->opcode == 0) /* the usual values without a call */
		p = JPUT(p, "\"QUERY\"");
	else
		p = put_word_or_null(p, dns_opcode_str(msg->opcode, tmp));
	if (dns_is_response(msg) && msg->rcode == 0)
		p = JPUT(p, ",\"rcode\":\"NOERROR\"");
	else if (dns_is_response(msg))
		p = put_word_or_null(JPUT(p, ",\"rcode\":"), dns_rcode_str(msg->rcode, tmp));
	p = JPUT(p, ",\"flags\":[");
	p = put_flag_words(p, msg->flags, header_flags, ARRAY_SIZE(header_flags));
	*p = ']';
	return p + 1;
}

/*
 * A name in presentation format (dns.h) is printable ASCII, and has a
 * byte JSON must escape ('"', '\\', what \DDD stands for) only after a
 * backslash of its own: without one it is copied as it is.
 */
static char *put_name_text(char *p, const char *name, size_t n)
{
	if (memchr(name, '\\', n))
		return jput_str(p, name, n);
	*p = '"';
	p = jput(p + 1, name, n);
	*p = '"';
	return p + 1;
}

static char *put_question(char *p, const struct dns_msg *msg)
{
	char tmp[16];

	if (!msg->has_question)
		return JPUT(p, ",\"qname\":null,\"qtype\":null,\"qclass\":null");
	p = JPUT(p, ",\"qname\":");
	p = put_name_text(p, msg->qname, msg->qname_len);
	p = JPUT(p, ",\"qtype\":");
	p = put_word_or_null(p, dns_type_str(msg->qtype, tmp));
	p = JPUT(p, ",\"qclass\":");
	return put_word_or_null(p, dns_class_str(msg->qclass, tmp));
}

static char *put_counts(char *p, const struct dns_msg *msg)
{
	p = JPUT(p, ",\"qdcount\":");
	p = jput_u64(p, msg->qdcount);
	p = JPUT(p, ",\"ancount\":");
	p = jput_u64(p, msg->ancount);
	p = JPUT(p, ",\"nscount\":");
	p = jput_u64(p, msg->nscount);
	p = JPUT(p, ",\"arcount\":");
	return jput_u64(p, msg->arcount);
}

/* Everything before the sections: the packet, its owner, header and question. */
static void json_dns_head(struct output *o, const struct dns_record *rec)
{
	const struct pkt_meta *m = rec->meta;
	const char *cgroup = cgroup_of(o, m);
	const struct cgroup_ident *id = cgroup ? identity_of(o, m) : NULL;
	size_t room = HEAD_FIXED_MAX + o->host_json.len + JPUT_STR_MAX(sizeof(m->owner.comm)) +
		      JPUT_STR_MAX(sizeof(rec->msg->qname)) +
		      (cgroup ? JPUT_STR_MAX(strlen(cgroup)) : 0) + vantage_room(m->vantage) +
		      identity_room(id);
	char *p = jbuf_room(&o->lines, room);

	if (!p)
		return;
	if (rec->kind == RECORD_UNANSWERED)
		p = JPUT(p, "{\"type\":\"unanswered\",\"v\":");
	else
		p = JPUT(p, "{\"type\":\"dns\",\"v\":");
	p = jput_u64(p, OUTPUT_SCHEMA_VERSION);
	p = JPUT(p, ",\"ts\":");
	p = fmt_put_json_time(p, &o->time_memo, m->ts_ns);
	p = JPUT(p, ",\"host\":");
	p = jput(p, o->host_json.buf, o->host_json.len);
	p = put_packet(p, m);
	p = put_owner(o, p, m, cgroup, id);
	p = JPUT(p, ",\"cookie\":");
	p = jput_u64(p, m->cookie);
	p = put_header(p, rec->msg);
	p = put_question(p, rec->msg);
	jbuf_commit(&o->lines, put_counts(p, rec->msg));
}

/* Text a dns_* formatter wrote into buf (n = its return value), or null. */
static char *put_scratch_text(char *p, const char *buf, size_t cap, int n)
{
	if (n < 0)
		return JPUT(p, "null");
	return jput_str(p, buf, (size_t)n < cap ? (size_t)n : cap - 1);
}

/*
 * An RR's owner name, its text made in place (room for JPUT_STR_MAX of a
 * name): moved out and escaped only when it has a backslash.
 */
static char *put_rr_name(struct output *o, char *p, const struct dns_msg *msg,
			 const struct dns_rr *rr)
{
	int n = dns_rr_name(msg, rr, p + 1);

	if (n < 0)
		return JPUT(p, "null");
	if (memchr(p + 1, '\\', (size_t)n)) {
		memcpy(o->name, p + 1, (size_t)n);
		return jput_str(p, o->name, (size_t)n);
	}
	*p = '"';
	p[n + 1] = '"';
	return p + n + 2;
}

/*
 * An RR's data as text, made in place (room for JPUT_STR_MAX of the
 * scratch buffer): moved out and escaped only when JSON needs it.
 * Addresses never do.
 */
static char *put_rr_data(struct output *o, char *p, const struct dns_msg *msg,
			 const struct dns_rr *rr)
{
	int n = dns_rr_data(msg, rr, p + 1, sizeof(o->rdata));
	size_t len;

	if (n < 0)
		return JPUT(p, "null");
	len = (size_t)n < sizeof(o->rdata) ? (size_t)n : sizeof(o->rdata) - 1;
	if (rr->type != DNS_T_A && rr->type != DNS_T_AAAA && !json_plain(p + 1, len)) {
		memcpy(o->rdata, p + 1, len);
		return jput_str(p, o->rdata, len);
	}
	*p = '"';
	p[len + 1] = '"';
	return p + len + 2;
}

/* "type":"A","class":"IN","ttl":300: the fixed keys of every RR. */
static char *put_rr_type_class_ttl(char *p, const struct dns_rr *rr)
{
	char tb[16], cb[16];
	const char *type = dns_type_str(rr->type, tb);
	const char *cls = rr->rclass == 1 ? "IN" : dns_class_str(rr->rclass, cb);

	p = JPUT(p, ",\"type\":\"");
	p = jput(p, type, strlen(type));
	p = JPUT(p, "\",\"class\":\"");
	p = jput(p, cls, strlen(cls));
	p = JPUT(p, "\",\"ttl\":");
	return jput_u64(p, rr->ttl);
}

/* One RR; first: no comma before it. */
static void json_rr(struct output *o, const struct dns_msg *msg, const struct dns_rr *rr,
		    bool first)
{
	char *p = jbuf_room(&o->lines, RR_FIXED_MAX + JPUT_STR_MAX(sizeof(o->name)) +
					       JPUT_STR_MAX(sizeof(o->rdata)));

	if (!p)
		return;
	p = first ? JPUT(p, "{\"name\":") : JPUT(p, ",{\"name\":");
	p = put_rr_name(o, p, msg, rr);
	p = put_rr_type_class_ttl(p, rr);
	p = JPUT(p, ",\"data\":");
	p = put_rr_data(o, p, msg, rr);
	*p = '}';
	jbuf_commit(&o->lines, p + 1);
}

#define DNS_TYPE_OPT 41

/* The key (with its comma) and one section's records as an array. */
static void json_section(struct output *o, const struct dns_msg *msg, uint8_t section,
			 const char *key, size_t key_len)
{
	struct jbuf *j = &o->lines;
	uint16_t nrrs = msg->nrrs < DNS_MAX_RRS ? msg->nrrs : DNS_MAX_RRS;
	bool first = true;

	jbuf_append(j, key, key_len);
	for (uint16_t i = 0; i < nrrs; i++) {
		const struct dns_rr *rr = &msg->rrs[i];

		if (rr->section != section || rr->type == DNS_TYPE_OPT)
			continue;
		json_rr(o, msg, rr, first);
		first = false;
	}
	jbuf_append_char(j, ']');
}

#define SECTION(o, msg, sec, lit) json_section(o, msg, sec, lit, sizeof(lit) - 1)
#define SECTIONS_EMPTY(o, lit)	  jbuf_append(&(o)->lines, lit, sizeof(lit) - 1)

/* Whether any record but OPT is there to write (a query usually has none). */
static bool has_records(const struct dns_msg *msg)
{
	uint16_t nrrs = msg->nrrs < DNS_MAX_RRS ? msg->nrrs : DNS_MAX_RRS;

	for (uint16_t i = 0; i < nrrs; i++)
		if (msg->rrs[i].type != DNS_TYPE_OPT)
			return true;
	return false;
}

static void json_sections(struct output *o, const struct dns_msg *msg)
{
	bool update = msg->opcode == DNS_OPCODE_UPDATE;

	if (!has_records(msg)) {
		/* UPDATE (RFC 2136 2): the same sections hold prerequisites and updates. */
		if (update)
			SECTIONS_EMPTY(o, ",\"prerequisite\":[],\"update\":[],\"additional\":[]");
		else
			SECTIONS_EMPTY(o, ",\"answers\":[],\"authority\":[],\"additional\":[]");
		return;
	}
	if (update) {
		SECTION(o, msg, DNS_SEC_ANSWER, ",\"prerequisite\":[");
		SECTION(o, msg, DNS_SEC_AUTHORITY, ",\"update\":[");
	} else {
		SECTION(o, msg, DNS_SEC_ANSWER, ",\"answers\":[");
		SECTION(o, msg, DNS_SEC_AUTHORITY, ",\"authority\":[");
	}
	SECTION(o, msg, DNS_SEC_ADDITIONAL, ",\"additional\":[");
}

static char *put_ecs(char *p, const struct dns_ecs *ecs)
{
	p = JPUT(p, "{\"family\":");
	p = jput_u64(p, ecs->family);
	p = JPUT(p, ",\"source_prefix\":");
	p = jput_u64(p, ecs->source_prefix);
	p = JPUT(p, ",\"scope_prefix\":");
	p = jput_u64(p, ecs->scope_prefix);
	p = JPUT(p, ",\"address\":");
	if (ecs->family == 1)
		p = fmt_put_json_addr(p, AF_INET, ecs->addr);
	else if (ecs->family == 2)
		p = fmt_put_json_addr(p, AF_INET6, ecs->addr);
	else
		p = JPUT(p, "null");
	*p = '}';
	return p + 1;
}

static void json_edns(struct output *o, const struct dns_msg *msg)
{
	const struct dns_edns *e = &msg->edns;
	/* Most messages carry no option: "" without a call. */
	bool none = e->rdlen == 0 && e->rdata_off <= msg->len;
	int n = e->present && !none ? dns_edns_options_text(msg, o->rdata, sizeof(o->rdata)) : 0;
	char *p = jbuf_room(&o->lines, TAIL_MAX + JPUT_STR_MAX(sizeof(o->rdata)));

	if (!p)
		return;
	if (!e->present) {
		jbuf_commit(&o->lines, JPUT(p, ",\"edns\":null"));
		return;
	}
	p = JPUT(p, ",\"edns\":{\"udp_size\":");
	p = jput_u64(p, e->udp_size);
	p = JPUT(p, ",\"version\":");
	p = jput_u64(p, e->version);
	p = JPUT(p, ",\"do\":");
	p = jput_bool(p, e->do_bit);
	p = JPUT(p, ",\"ext_rcode\":");
	p = jput_u64(p, e->ext_rcode);
	p = JPUT(p, ",\"options\":");
	p = none ? JPUT(p, "\"\"") : put_scratch_text(p, o->rdata, sizeof(o->rdata), n);
	p = JPUT(p, ",\"ecs\":");
	p = e->has_ecs ? put_ecs(p, &e->ecs) : JPUT(p, "null");
	*p = '}';
	jbuf_commit(&o->lines, p + 1);
}

/* From "len" to the end of the record. */
static void json_dns_tail(struct output *o, const struct dns_record *rec)
{
	char *p = jbuf_room(&o->lines, TAIL_MAX);

	if (!p)
		return;
	p = JPUT(p, ",\"len\":");
	p = jput_u64(p, wire_len(rec));
	p = JPUT(p, ",\"truncated_capture\":");
	p = jput_bool(p, rec->truncated_capture);
	if (rec->kind == RECORD_UNANSWERED) {
		p = JPUT(p, ",\"waited_ns\":");
		p = jput_u64(p, rec->waited_ns);
	} else if (rec->has_latency) {
		p = JPUT(p, ",\"latency_ns\":");
		p = jput_u64(p, rec->latency_ns);
	}
	p = JPUT(p, ",\"decode_status\":[");
	p = put_flag_words(p, rec->msg->status, status_flags, ARRAY_SIZE(status_flags));
	jbuf_commit(&o->lines, JPUT(p, "]}"));
}

static void json_dns(struct output *o, const struct dns_record *rec)
{
	json_dns_head(o, rec);
	json_sections(o, rec->msg);
	json_edns(o, rec->msg);
	json_dns_tail(o, rec);
}

/* capture_stats counters, in record order; group splits the text lines. */
static const struct stat_field {
	const char *name;
	size_t off;
	bool kernel;
	uint8_t group;
} stat_fields[] = {
#define STAT(f, k, g)                                       \
	{                                                   \
#f, offsetof(struct capture_stats, f), k, g \
	}
	STAT(packets_matched, true, 0),
	STAT(events_submitted, true, 0),
	STAT(events_lost, true, 0),
	STAT(events_delivered, false, 1),
	STAT(messages, false, 1),
	STAT(decode_errors, false, 1),
	STAT(truncated_captures, false, 1),
	STAT(responses_matched, false, 2),
	STAT(responses_unmatched, false, 2),
	STAT(unanswered, false, 2),
	STAT(retransmits, false, 2),
	STAT(tcp_gaps, false, 3),
	STAT(filtered, false, 3),
#undef STAT
};

static uint64_t stat_value(const struct capture_stats *st, const struct stat_field *f)
{
	uint64_t v;

	memcpy(&v, (const char *)st + f->off, sizeof(v));
	return v;
}

void capture_stats_delta(struct capture_stats *d, const struct capture_stats *now,
			 const struct capture_stats *before)
{
	*d = *now;
	for (size_t i = 0; i < ARRAY_SIZE(stat_fields); i++) {
		uint64_t v = stat_value(now, &stat_fields[i]) - stat_value(before, &stat_fields[i]);

		memcpy((char *)d + stat_fields[i].off, &v, sizeof(v));
	}
}

static void json_clickhouse_counts(struct jbuf *j, const struct clickhouse_counts *c)
{
	JBUF_KEY(j, "clickhouse");
	jbuf_obj_begin(j);
	JBUF_KV_U64(j, "batches_sent", c->batches_sent);
	JBUF_KV_U64(j, "rows_sent", c->rows_sent);
	JBUF_KV_U64(j, "retried", c->retried);
	JBUF_KV_U64(j, "spilled", c->spilled);
	JBUF_KV_U64(j, "replayed", c->replayed);
	JBUF_KV_U64(j, "dropped", c->dropped);
	jbuf_obj_end(j);
}

static void json_capture_stats(struct output *o, const struct capture_stats *st)
{
	struct jbuf *j = &o->lines;

	json_open_record(o, "capture_stats", &st->end_ns);
	JBUF_KEY(j, "window_start");
	fmt_json_time(j, st->start_ns);
	JBUF_KEY(j, "window_end");
	fmt_json_time(j, st->end_ns);
	JBUF_KV_WORD(j, "scope", st->interval ? "interval" : "total");
	for (size_t i = 0; i < ARRAY_SIZE(stat_fields); i++) {
		const struct stat_field *f = &stat_fields[i];

		if (f->kernel && !st->has_kernel)
			jbuf_kv_null(j, f->name);
		else
			jbuf_kv_u64(j, f->name, stat_value(st, f));
	}
	if (!st->has_kernel) {
		JBUF_KV_NULL(j, "degraded");
	} else {
		JBUF_KEY(j, "degraded");
		jbuf_arr_begin(j);
		for (int i = 0; i < st->ndegraded; i++)
			jbuf_word(j, st->degraded[i], strlen(st->degraded[i]));
		jbuf_arr_end(j);
	}
	if (st->has_dnstap_out) {
		JBUF_KEY(j, "dnstap_out");
		jbuf_obj_begin(j);
		JBUF_KV_U64(j, "written", st->dnstap_written);
		JBUF_KV_U64(j, "dropped", st->dnstap_dropped);
		jbuf_obj_end(j);
	}
	if (st->has_clickhouse)
		json_clickhouse_counts(j, &st->clickhouse);
	jbuf_obj_end(j);
}

/* ---- text records ---- */

static void text_addr_port(struct jbuf *j, uint8_t family, const uint8_t *addr, uint16_t port)
{
	char text[FMT_ADDR_MAX];
	size_t n = fmt_addr(text, family, addr);

	if (!n) {
		jbuf_append_char(j, '?');
	} else if (family == AF_INET6) {
		jbuf_append_char(j, '[');
		jbuf_append(j, text, n);
		jbuf_append_char(j, ']');
	} else {
		jbuf_append(j, text, n);
	}
	jbuf_append_char(j, ':');
	jbuf_append_u64(j, port);
}

/* "1.234" + unit: v in ns scaled down to unit_ns, three decimals. */
static void text_duration(struct jbuf *j, uint64_t ns, uint64_t unit_ns, const char *unit)
{
	char frac[3];

	jbuf_append_u64(j, ns / unit_ns);
	jbuf_append_char(j, '.');
	fmt_digits(frac, (unsigned int)(ns % unit_ns / (unit_ns / 1000)), 3);
	jbuf_append(j, frac, sizeof(frac));
	jbuf_append_str(j, unit);
}

/* Answer data, comma-separated, cut after about TEXT_ANSWERS_MAX bytes. */
static void text_answers(struct output *o, const struct dns_msg *msg)
{
	struct jbuf *j = &o->lines;
	size_t start = j->len, nrrs = msg->nrrs < DNS_MAX_RRS ? msg->nrrs : DNS_MAX_RRS;
	bool first = true;

	for (size_t i = 0; i < nrrs; i++) {
		const struct dns_rr *rr = &msg->rrs[i];
		int n;

		if (rr->section != DNS_SEC_ANSWER)
			continue;
		if (j->len - start > TEXT_ANSWERS_MAX) {
			jbuf_append(j, ",...", 4);
			return;
		}
		n = dns_rr_data(msg, rr, o->rdata, sizeof(o->rdata));
		jbuf_append_char(j, first ? ' ' : ',');
		first = false;
		if (n < 0) {
			jbuf_append_char(j, '?');
			continue;
		}
		if ((size_t)n > TEXT_ANSWERS_MAX) {
			fmt_text_safe(j, o->rdata, TEXT_ANSWERS_MAX, false);
			jbuf_append(j, "...", 3);
		} else {
			fmt_text_safe(j, o->rdata, (size_t)n, false);
		}
	}
}

static void text_status(struct jbuf *j, const struct dns_record *rec)
{
	bool first = true;

	if (rec->truncated_capture) {
		jbuf_append_str(j, " [capture_truncated");
		first = false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(status_flags); i++) {
		if (!(rec->msg->status & status_flags[i].bit))
			continue;
		jbuf_append_str(j, first ? " [" : ",");
		jbuf_append_str(j, status_flags[i].name);
		first = false;
	}
	if (!first)
		jbuf_append_char(j, ']');
}

static void text_dns(struct output *o, const struct dns_record *rec)
{
	struct jbuf *j = &o->lines;
	const struct pkt_meta *m = rec->meta;
	const struct dns_msg *msg = rec->msg;
	const char *proto = fmt_proto_name(m->proto);
	bool response = dns_is_response(msg);
	char hms[HMS_LEN], tmp[16];

	fmt_hms(hms, m->ts_ns);
	jbuf_append(j, hms, sizeof(hms));
	jbuf_append_char(j, ' ');
	if (pkt_has_owner(m)) {
		fmt_text_safe(j, m->owner.comm, comm_len(m), true);
		jbuf_append_char(j, '(');
		jbuf_append_u64(j, m->owner.tgid);
		jbuf_append_char(j, ')');
	} else if (m->vantage) {
		jbuf_append_str(j, m->vantage->source);
		jbuf_append_char(j, '(');
		jbuf_append_str(j, m->vantage->type);
		jbuf_append_char(j, ')');
	} else {
		jbuf_append_char(j, '-');
	}
	jbuf_append_char(j, ' ');
	jbuf_append_str(j, dir_text(m->dir));
	jbuf_append_char(j, ' ');
	jbuf_append_str(j, proto ? proto : "?");
	jbuf_append_char(j, ' ');
	text_addr_port(j, m->family, m->saddr, m->sport);
	jbuf_append(j, " -> ", 4);
	text_addr_port(j, m->family, m->daddr, m->dport);
	jbuf_append_str(j, response ? "  R  " : "  Q  ");
	if (msg->has_question) {
		jbuf_append_str(j, dns_type_str(msg->qtype, tmp));
		jbuf_append_char(j, ' ');
		fmt_text_safe(j, msg->qname, strnlen(msg->qname, sizeof(msg->qname)), false);
	} else {
		jbuf_append_str(j, "- -");
	}
	if (rec->kind == RECORD_UNANSWERED) {
		jbuf_append_str(j, " UNANSWERED after ");
		text_duration(j, rec->waited_ns, NS_PER_SEC, "s");
	} else if (response) {
		jbuf_append_char(j, ' ');
		jbuf_append_str(j, dns_rcode_str(msg->rcode, tmp));
		text_answers(o, msg);
		if (rec->has_latency) {
			jbuf_append_char(j, ' ');
			text_duration(j, rec->latency_ns, 1000000, "ms");
		}
	}
	text_status(j, rec);
}

static void text_capture_stats(struct output *o, const struct capture_stats *st)
{
	struct jbuf *j = &o->lines;
	char t[FMT_RFC3339_LEN];
	int group = -1;

	jbuf_append_str(j, "# capture stats");
	if (o->host) {
		jbuf_append_char(j, ' ');
		fmt_text_safe(j, o->host, strlen(o->host), true);
	}
	fmt_time(t, st->start_ns);
	jbuf_append_char(j, ' ');
	jbuf_append(j, t, sizeof(t));
	jbuf_append(j, " .. ", 4);
	fmt_time(t, st->end_ns);
	jbuf_append(j, t, sizeof(t));
	if (st->interval)
		jbuf_append_str(j, " (interval)");
	for (size_t i = 0; i < ARRAY_SIZE(stat_fields); i++) {
		const struct stat_field *f = &stat_fields[i];

		jbuf_append_str(j, f->group != group ? "\n#  " : "");
		group = f->group;
		jbuf_append_char(j, ' ');
		jbuf_append_str(j, f->name);
		jbuf_append_char(j, '=');
		if (f->kernel && !st->has_kernel)
			jbuf_append_char(j, '-');
		else
			jbuf_append_u64(j, stat_value(st, f));
	}
	if (st->has_kernel) {
		jbuf_append_str(j, "\n#   degraded=");
		for (int i = 0; i < st->ndegraded; i++) {
			jbuf_append_str(j, i ? "," : "");
			jbuf_append_str(j, st->degraded[i]);
		}
		jbuf_append_str(j, st->ndegraded ? "" : "-");
	}
}

/* ---- buffering and writing ---- */

/* Block until fd can take more (it may be non-blocking). */
static int wait_writable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};

	for (;;) {
		int r = poll(&pfd, 1, -1);

		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/*
 * A write failed after off bytes of the buffer: on a regular file, cut off
 * what went out of the line it stopped in, so that the file ends with a
 * whole record. The file offset is where that line's next byte would
 * have gone.
 */
static void cut_partial_line(struct output *o, size_t off)
{
	const char *nl = memrchr(o->lines.buf, '\n', off);
	size_t partial = off - (nl ? (size_t)(nl - o->lines.buf) + 1 : 0);
	off_t end;

	if (!partial)
		return;
	end = lseek(o->fd, 0, SEEK_CUR);
	if (end >= (off_t)partial)
		outfile_truncate(o->fd, end - (off_t)partial);
}

/* Write the whole buffer, retrying partial writes. Empties the buffer. */
static int write_lines(struct output *o)
{
	size_t off = 0;
	int err = 0;

	while (off < o->lines.len) {
		ssize_t n = write(o->fd, o->lines.buf + off, o->lines.len - off);

		if (n > 0) {
			off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			err = wait_writable(o->fd);
			if (err)
				break;
		} else {
			err = n < 0 ? -errno : -EIO;
			break;
		}
	}
	if (err)
		cut_partial_line(o, off);
	jbuf_reset(&o->lines);
	if (err && !o->err)
		o->err = err;
	return err;
}

/* Mark where a record begins; false when nothing may be written now. */
static bool start_record(struct output *o)
{
	if (o->err || o->record_open)
		return false;
	o->record_start = o->lines.len;
	return true;
}

/*
 * Seal the record just formatted: newline, or drop it if it is incomplete
 * (the buffer could not grow, or a caller of the generic record API left
 * an object or array open).
 */
static void end_record(struct output *o)
{
	struct jbuf *j = &o->lines;

	jbuf_append_char(j, '\n');
	if (j->failed || j->depth)
		jbuf_truncate(j, o->record_start);
	if (o->line) {
		if (j->len > o->record_start)
			o->line(o->line_ctx, o->record_type, j->buf + o->record_start,
				j->len - o->record_start);
		jbuf_truncate(j, o->record_start);
		return;
	}
	if (j->len >= OUTPUT_FLUSH_BYTES)
		write_lines(o);
}

struct output *output_new(const struct output_config *cfg)
{
	struct output *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->fd = cfg->fd;
	o->format = cfg->format;
	o->line = cfg->line;
	o->line_ctx = cfg->line_ctx;
	o->cgroup_path = cfg->cgroup_path;
	o->cgroup_ident = cfg->cgroup_ident;
	o->cgroup_ident_by_path = cfg->cgroup_ident_by_path;
	o->cgroup_ctx = cfg->cgroup_ctx;
	if (jbuf_init(&o->lines, OUTPUT_INITIAL_CAP) || jbuf_init(&o->host_json, 64))
		goto fail;
	if (cfg->host) {
		o->host = strdup(cfg->host);
		if (!o->host)
			goto fail;
		jbuf_str(&o->host_json, o->host);
	} else {
		jbuf_null(&o->host_json);
	}
	if (o->host_json.failed)
		goto fail;
	return o;
fail:
	output_free(o);
	return NULL;
}

void output_free(struct output *o)
{
	if (!o)
		return;
	output_flush(o);
	jbuf_free(&o->lines);
	jbuf_free(&o->host_json);
	for (size_t i = 0; i < IDENTITY_MEMO; i++)
		free(o->identity_memo[i].json);
	free(o->host);
	free(o);
}

void output_dns(struct output *o, const struct dns_record *rec)
{
	if (!o || !rec || !rec->meta || !rec->msg || !start_record(o))
		return;
	o->record_type = rec->kind == RECORD_DNS ? "dns" : "unanswered";
	if (o->format == OUTPUT_TEXT)
		text_dns(o, rec);
	else
		json_dns(o, rec);
	end_record(o);
}

void output_capture_stats(struct output *o, const struct capture_stats *st)
{
	if (!o || !st || !start_record(o))
		return;
	o->record_type = "capture_stats";
	if (o->format == OUTPUT_TEXT)
		text_capture_stats(o, st);
	else
		json_capture_stats(o, st);
	end_record(o);
}

enum output_format output_format_of(const struct output *o)
{
	return o ? o->format : OUTPUT_JSON;
}

struct jbuf *output_begin_record(struct output *o, const char *type)
{
	if (!o || !type || o->format != OUTPUT_JSON || !start_record(o))
		return NULL;
	o->record_open = true;
	o->record_type = type;
	json_open_record(o, type, NULL);
	return &o->lines;
}

void output_end_record(struct output *o)
{
	if (!o || !o->record_open)
		return;
	o->record_open = false;
	jbuf_obj_end(&o->lines);
	end_record(o);
}

void output_text_line(struct output *o, const char *text, size_t len)
{
	if (!o || (!text && len) || o->format != OUTPUT_TEXT || !start_record(o))
		return;
	fmt_text_escape(&o->lines, text, len, FMT_KEEP_ALL_BUT_CONTROLS);
	end_record(o);
}

int output_error(const struct output *o)
{
	return o ? o->err : -EINVAL;
}

int output_flush(struct output *o)
{
	if (!o)
		return -EINVAL;
	if (o->err) {
		jbuf_reset(&o->lines);
		return o->err;
	}
	/* Never write part of a record: a record still open waits for its end. */
	if (!o->lines.len || o->record_open)
		return 0;
	return write_lines(o);
}
