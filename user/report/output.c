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

#include "lib/json.h"
#include "lib/outfile.h"
#include "report/output.h"
#include "lib/fmt.h"

#define OUTPUT_FLUSH_BYTES (64 * 1024)
#define OUTPUT_INITIAL_CAP (OUTPUT_FLUSH_BYTES + 16 * 1024)
#define OUTPUT_RDATA_CAP   8192 /* longer rdata text is cut with "..." */
#define TEXT_ANSWERS_MAX   160 /* text format: answer data cut after this */
#define HMS_LEN		   15 /* "14:05:01.123456" */

struct output {
	int fd;
	enum output_format format;
	cgroup_path_fn cgroup_path;
	void *cgroup_ctx;
	char *host; /* NULL: unknown */
	struct jbuf host_json; /* host as an encoded JSON value */
	struct jbuf lines; /* whole lines not yet written */
	int err; /* first write error (-errno); sticky */
	size_t record_start; /* where the record being formatted begins in lines */
	bool record_open; /* output_begin_record() called, output_end_record() not yet */
	char name[DNS_MAX_NAME_TEXT];
	char rdata[OUTPUT_RDATA_CAP];
};

/* ---- shared field helpers ---- */

static const char *dir_name(uint8_t dir)
{
	switch (dir) {
	case DNSSNOOP_EGRESS:
		return "egress";
	case DNSSNOOP_INGRESS:
		return "ingress";
	default:
		return NULL;
	}
}

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

static const struct {
	uint16_t bit;
	const char *name;
} header_flags[] = {
	{DNS_FLAG_AA, "aa"}, {DNS_FLAG_TC, "tc"}, {DNS_FLAG_RD, "rd"}, {DNS_FLAG_RA, "ra"},
	{DNS_FLAG_Z, "z"},   {DNS_FLAG_AD, "ad"}, {DNS_FLAG_CD, "cd"},
};

static const struct {
	uint8_t bit;
	const char *name;
} status_flags[] = {
	{DNS_F_TRUNCATED, "truncated"}, {DNS_F_BAD_NAME, "bad_name"},
	{DNS_F_BAD_RDATA, "bad_rdata"}, {DNS_F_TRAILING, "trailing"},
	{DNS_F_BAD_OPT, "bad_opt"},
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

/* One of our own names (jbuf_word), or null. */
static void json_word_or_null(struct jbuf *j, const char *s)
{
	if (s)
		jbuf_word(j, s, strlen(s));
	else
		jbuf_null(j);
}

/* Only for a packet that came through a tunnel: the outermost one. */
static void json_tunnel(struct jbuf *j, const struct pkt_tunnel *t)
{
	JBUF_KEY(j, "tunnel");
	jbuf_obj_begin(j);
	JBUF_KEY(j, "type");
	json_word_or_null(j, pkt_tunnel_name(t->type));
	JBUF_KEY(j, "saddr");
	fmt_json_addr(j, t->family, t->saddr);
	JBUF_KEY(j, "daddr");
	fmt_json_addr(j, t->family, t->daddr);
	if (t->has_id)
		JBUF_KV_U64(j, "id", t->id);
	else
		JBUF_KV_NULL(j, "id");
	jbuf_obj_end(j);
}

static void json_packet(struct jbuf *j, const struct pkt_meta *m)
{
	JBUF_KEY(j, "dir");
	json_word_or_null(j, dir_name(m->dir));
	JBUF_KEY(j, "proto");
	json_word_or_null(j, fmt_proto_name(m->proto));
	JBUF_KV_U64(j, "ifindex", m->ifindex);
	JBUF_KEY(j, "saddr");
	fmt_json_addr(j, m->family, m->saddr);
	JBUF_KV_U64(j, "sport", m->sport);
	JBUF_KEY(j, "daddr");
	fmt_json_addr(j, m->family, m->daddr);
	JBUF_KV_U64(j, "dport", m->dport);
	if (m->tunnel.type)
		json_tunnel(j, &m->tunnel);
}

static void json_owner(struct output *o, const struct pkt_meta *m)
{
	struct jbuf *j = &o->lines;

	if (!pkt_has_owner(m)) {
		JBUF_KV_NULL(j, "pid");
		JBUF_KV_NULL(j, "tid");
		JBUF_KV_NULL(j, "comm");
		JBUF_KV_NULL(j, "uid");
		JBUF_KV_NULL(j, "cgroup");
		return;
	}
	JBUF_KV_U64(j, "pid", m->owner.tgid);
	JBUF_KV_U64(j, "tid", m->owner.pid);
	JBUF_KEY(j, "comm");
	jbuf_strn(j, m->owner.comm, comm_len(m));
	JBUF_KV_U64(j, "uid", m->owner.uid);
	JBUF_KEY(j, "cgroup");
	jbuf_str_or_null(j, cgroup_of(o, m));
}

static void json_header(struct jbuf *j, const struct dns_msg *msg)
{
	char tmp[16];

	JBUF_KV_U64(j, "id", msg->id);
	JBUF_KV_WORD(j, "qr", dns_is_response(msg) ? "response" : "query");
	JBUF_KV_WORD(j, "opcode", dns_opcode_str(msg->opcode, tmp));
	if (dns_is_response(msg))
		JBUF_KV_WORD(j, "rcode", dns_rcode_str(msg->rcode, tmp));
	JBUF_KEY(j, "flags");
	jbuf_arr_begin(j);
	for (size_t i = 0; i < ARRAY_SIZE(header_flags); i++)
		if (msg->flags & header_flags[i].bit)
			jbuf_word(j, header_flags[i].name, strlen(header_flags[i].name));
	jbuf_arr_end(j);
}

static void json_question(struct jbuf *j, const struct dns_msg *msg)
{
	char tmp[16];

	if (!msg->has_question) {
		JBUF_KV_NULL(j, "qname");
		JBUF_KV_NULL(j, "qtype");
		JBUF_KV_NULL(j, "qclass");
		return;
	}
	JBUF_KEY(j, "qname");
	jbuf_strn(j, msg->qname, strnlen(msg->qname, sizeof(msg->qname)));
	JBUF_KV_WORD(j, "qtype", dns_type_str(msg->qtype, tmp));
	JBUF_KV_WORD(j, "qclass", dns_class_str(msg->qclass, tmp));
}

/* Text a dns_* formatter wrote into buf (n = its return value), or null. */
static void json_scratch_text(struct jbuf *j, const char *buf, size_t cap, int n)
{
	if (n < 0)
		jbuf_null(j);
	else
		jbuf_strn(j, buf, (size_t)n < cap ? (size_t)n : cap - 1);
}

static size_t put_text(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return n;
}

/*
 * "type":"A","class":"IN","ttl":300 in one append: the fixed keys of every
 * RR (the mnemonics need no escaping). jbuf_key_raw() takes the whole run,
 * as it ends in a key.
 */
static void json_rr_type_class_ttl(struct jbuf *j, const struct dns_rr *rr)
{
	char tb[16], cb[16], buf[64];
	const char *type = dns_type_str(rr->type, tb);
	const char *cls = rr->rclass == 1 ? "IN" : dns_class_str(rr->rclass, cb);
	size_t n = put_text(buf, "\"type\":\"", 8);

	n += put_text(buf + n, type, strlen(type));
	n += put_text(buf + n, "\",\"class\":\"", 11);
	n += put_text(buf + n, cls, strlen(cls));
	n += put_text(buf + n, "\",\"ttl\":", 8);
	jbuf_key_raw(j, buf, n);
	jbuf_u64(j, rr->ttl);
}

static void json_rr(struct output *o, const struct dns_msg *msg, const struct dns_rr *rr)
{
	struct jbuf *j = &o->lines;
	int n;

	jbuf_obj_begin(j);
	JBUF_KEY(j, "name");
	n = dns_rr_name(msg, rr, o->name);
	if (n >= 0)
		jbuf_strn(j, o->name, (size_t)n);
	else
		jbuf_null(j);
	json_rr_type_class_ttl(j, rr);
	JBUF_KEY(j, "data");
	n = dns_rr_data(msg, rr, o->rdata, sizeof(o->rdata));
	json_scratch_text(j, o->rdata, sizeof(o->rdata), n);
	jbuf_obj_end(j);
}

#define DNS_TYPE_OPT 41

/* One section's records as an array (the caller has written the key). */
static void json_section(struct output *o, const struct dns_msg *msg, uint8_t section)
{
	struct jbuf *j = &o->lines;
	uint16_t nrrs = msg->nrrs < DNS_MAX_RRS ? msg->nrrs : DNS_MAX_RRS;

	jbuf_arr_begin(j);
	for (uint16_t i = 0; i < nrrs; i++) {
		const struct dns_rr *rr = &msg->rrs[i];

		if (rr->section != section || rr->type == DNS_TYPE_OPT)
			continue;
		json_rr(o, msg, rr);
	}
	jbuf_arr_end(j);
}

static void json_ecs(struct jbuf *j, const struct dns_ecs *ecs)
{
	char text[FMT_ADDR_MAX];
	size_t n = 0;

	jbuf_obj_begin(j);
	JBUF_KV_U64(j, "family", ecs->family);
	JBUF_KV_U64(j, "source_prefix", ecs->source_prefix);
	JBUF_KV_U64(j, "scope_prefix", ecs->scope_prefix);
	if (ecs->family == 1)
		n = fmt_addr(text, AF_INET, ecs->addr);
	else if (ecs->family == 2)
		n = fmt_addr(text, AF_INET6, ecs->addr);
	JBUF_KEY(j, "address");
	if (n)
		jbuf_strn(j, text, n);
	else
		jbuf_null(j);
	jbuf_obj_end(j);
}

static void json_edns(struct output *o, const struct dns_msg *msg)
{
	struct jbuf *j = &o->lines;
	const struct dns_edns *e = &msg->edns;
	int n;

	JBUF_KEY(j, "edns");
	if (!e->present) {
		jbuf_null(j);
		return;
	}
	jbuf_obj_begin(j);
	JBUF_KV_U64(j, "udp_size", e->udp_size);
	JBUF_KV_U64(j, "version", e->version);
	JBUF_KV_BOOL(j, "do", e->do_bit);
	JBUF_KV_U64(j, "ext_rcode", e->ext_rcode);
	JBUF_KEY(j, "options");
	n = dns_edns_options_text(msg, o->rdata, sizeof(o->rdata));
	json_scratch_text(j, o->rdata, sizeof(o->rdata), n);
	JBUF_KEY(j, "ecs");
	if (e->has_ecs)
		json_ecs(j, &e->ecs);
	else
		jbuf_null(j);
	jbuf_obj_end(j);
}

static void json_dns(struct output *o, const struct dns_record *rec)
{
	struct jbuf *j = &o->lines;
	const struct pkt_meta *m = rec->meta;
	const struct dns_msg *msg = rec->msg;
	bool unanswered = rec->kind == RECORD_UNANSWERED;

	json_open_record(o, unanswered ? "unanswered" : "dns", &m->ts_ns);
	json_packet(j, m);
	json_owner(o, m);
	JBUF_KV_U64(j, "cookie", m->cookie);
	json_header(j, msg);
	json_question(j, msg);
	JBUF_KV_U64(j, "qdcount", msg->qdcount);
	JBUF_KV_U64(j, "ancount", msg->ancount);
	JBUF_KV_U64(j, "nscount", msg->nscount);
	JBUF_KV_U64(j, "arcount", msg->arcount);
	/* UPDATE (RFC 2136 2): the same sections hold prerequisites and updates. */
	if (msg->opcode == DNS_OPCODE_UPDATE)
		JBUF_KEY(j, "prerequisite");
	else
		JBUF_KEY(j, "answers");
	json_section(o, msg, DNS_SEC_ANSWER);
	if (msg->opcode == DNS_OPCODE_UPDATE)
		JBUF_KEY(j, "update");
	else
		JBUF_KEY(j, "authority");
	json_section(o, msg, DNS_SEC_AUTHORITY);
	JBUF_KEY(j, "additional");
	json_section(o, msg, DNS_SEC_ADDITIONAL);
	json_edns(o, msg);
	JBUF_KV_U64(j, "len", wire_len(rec));
	JBUF_KV_BOOL(j, "truncated_capture", rec->truncated_capture);
	if (unanswered)
		JBUF_KV_U64(j, "waited_ns", rec->waited_ns);
	else if (rec->has_latency)
		JBUF_KV_U64(j, "latency_ns", rec->latency_ns);
	JBUF_KEY(j, "decode_status");
	jbuf_arr_begin(j);
	for (size_t i = 0; i < ARRAY_SIZE(status_flags); i++)
		if (msg->status & status_flags[i].bit)
			jbuf_word(j, status_flags[i].name, strlen(status_flags[i].name));
	jbuf_arr_end(j);
	jbuf_obj_end(j);
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
	o->cgroup_path = cfg->cgroup_path;
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
	free(o->host);
	free(o);
}

void output_dns(struct output *o, const struct dns_record *rec)
{
	if (!o || !rec || !rec->meta || !rec->msg || !start_record(o))
		return;
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
