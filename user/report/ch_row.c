// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The fleet's messages table rows; see ch_row.h, the columns in
 * sql/clickhouse/schema.sql and docs/fleet.md.
 */
#include <netinet/in.h>
#include <string.h>

#include "lib/fmt.h"
#include "lib/hash.h"
#include "proto/dns.h"
#include "report/ch_row.h"

/* client_key's seed: fixed, so that every host keys a client alike. */
#define CLIENT_KEY_SEED 0x646e73736e6f6f70ULL /* "dnssnoop" */

uint64_t ch_row_client_key(const struct detect_client *c)
{
	uint64_t h = hash_bytes(c->host, strlen(c->host), CLIENT_KEY_SEED);

	if (c->process) {
		h = hash_bytes(c->comm, strnlen(c->comm, DNSSNOOP_COMM_LEN), h ^ c->uid);
		return hash_bytes(c->cgroup, strlen(c->cgroup), h ^ 1);
	}
	return hash_bytes(c->addr, 16, h ^ c->family ^ 2);
}

static void kv_addr(struct jbuf *j, const char *key, uint8_t family, const uint8_t *addr)
{
	char text[FMT_ADDR_MAX + 1];

	text[fmt_addr(text, family, addr)] = 0;
	jbuf_kv_str(j, key, text);
}

/* ts_ns and its UTC day ("YYYY-MM-DD": the Date column parses that form). */
static void kv_time(struct jbuf *j, uint64_t ts_ns)
{
	char text[FMT_RFC3339_LEN + 1];

	jbuf_kv_u64(j, "ts_ns", ts_ns);
	fmt_time(text, ts_ns);
	jbuf_key(j, "day");
	jbuf_strn(j, text, 10);
}

/* The packet's own source and destination: a response goes from the server. */
static void kv_endpoints(struct jbuf *j, const struct dns_obs *o)
{
	bool from_client = o->kind != OBS_RESPONSE;

	kv_addr(j, "saddr", o->family, from_client ? o->client_addr : o->server_addr);
	jbuf_kv_u64(j, "sport", from_client ? o->client_port : o->server_port);
	kv_addr(j, "daddr", o->family, from_client ? o->server_addr : o->client_addr);
	jbuf_kv_u64(j, "dport", from_client ? o->server_port : o->client_port);
}

static void kv_owner(struct jbuf *j, const struct dns_obs *o)
{
	bool known = o->owner && o->owner->tgid;

	jbuf_kv_u64(j, "pid", known ? o->owner->tgid : 0);
	jbuf_key(j, "comm");
	if (known)
		jbuf_strn(j, o->owner->comm, strnlen(o->owner->comm, DNSSNOOP_COMM_LEN));
	else
		jbuf_str(j, "");
	jbuf_kv_u64(j, "uid", known ? o->owner->uid : 0);
	jbuf_kv_str(j, "cgroup", known && o->cgroup ? o->cgroup : "");
}

static void kv_header(struct jbuf *j, const struct dns_obs *o)
{
	char buf[16];

	jbuf_kv_u64(j, "id", o->id);
	jbuf_kv_u64(j, "qr", o->kind == OBS_RESPONSE);
	jbuf_kv_str(j, "opcode", dns_opcode_str((uint8_t)(o->flags >> 11 & 0xf), buf));
	jbuf_kv_str(j, "rcode", o->kind == OBS_RESPONSE ? dns_rcode_str(o->rcode, buf) : "");
	jbuf_key(j, "qname");
	jbuf_strn(j, o->qname ? o->qname : "", o->qname ? o->qname_len : 0);
	jbuf_kv_str(j, "qtype", dns_type_str(o->qtype, buf));
	jbuf_kv_str(j, "qclass", o->qclass ? dns_class_str(o->qclass, buf) : "");
	jbuf_key(j, "flags");
	jbuf_arr_begin(j);
	for (size_t k = 0; k < DNS_HEADER_FLAGS; k++)
		if (o->flags & dns_header_flags[k].bit)
			jbuf_str(j, dns_header_flags[k].name);
	jbuf_arr_end(j);
	jbuf_kv_u64(j, "len", o->len);
}

static void kv_response(struct jbuf *j, const struct dns_obs *o)
{
	jbuf_kv_u64(j, "latency_ns", o->has_latency ? o->latency_ns : 0);
	jbuf_key(j, "answers");
	jbuf_arr_begin(j);
	for (int k = 0; o->kind == OBS_RESPONSE && k < o->naddrs && k < OBS_MAX_ADDRS; k++) {
		char text[FMT_ADDR_MAX + 1];

		text[fmt_addr(text, o->addrs[k].family, o->addrs[k].addr)] = 0;
		jbuf_str(j, text);
	}
	jbuf_arr_end(j);
}

/* The detectors' columns: who the client is, the targets, and the tap's verdict. */
static void kv_verdict(struct jbuf *j, const struct detect_verdict *v)
{
	static const struct detect_verdict none = {.name = "", .domain = "", .peer = ""};
	const struct detect_client *c;

	if (!v)
		v = &none;
	c = &v->client;
	jbuf_kv_u64(j, "client_key", v == &none ? 0 : ch_row_client_key(c));
	jbuf_kv_str(j, "client", c->label);
	jbuf_kv_u64(j, "client_process", c->process);
	jbuf_key(j, "client_comm");
	jbuf_strn(j, c->comm, strnlen(c->comm, DNSSNOOP_COMM_LEN));
	jbuf_kv_u64(j, "client_uid", c->uid);
	jbuf_kv_str(j, "client_cgroup", c->cgroup);
	if (c->process || !c->family)
		jbuf_kv_str(j, "client_addr", "");
	else
		kv_addr(j, "client_addr", c->family, c->addr);
	jbuf_kv_str(j, "name", v->name);
	jbuf_kv_str(j, "domain", v->domain);
	jbuf_kv_str(j, "peer", v->peer);
	jbuf_kv_u64(j, "lookup", v->lookup);
	jbuf_kv_u64(j, "first_of_name", v->first_of_name);
	jbuf_kv_u64(j, "name_answer_ns", v->name_answer_ns);
	jbuf_kv_u64(j, "domain_answer_ns", v->domain_answer_ns);
}

void ch_row_append(struct jbuf *j, const struct dns_obs *o, const struct detect_verdict *v)
{
	static const char *const dirs[] = {
		[DNSSNOOP_EGRESS] = "egress", [DNSSNOOP_INGRESS] = "ingress"};
	bool known_dir = o->dir == DNSSNOOP_EGRESS || o->dir == DNSSNOOP_INGRESS;

	jbuf_obj_begin(j);
	kv_time(j, o->ts_ns);
	jbuf_kv_str(j, "host", o->host ? o->host : "");
	jbuf_kv_str(j, "dir", known_dir ? dirs[o->dir] : "");
	jbuf_kv_str(j, "proto",
		    o->proto == IPPROTO_UDP   ? "udp"
		    : o->proto == IPPROTO_TCP ? "tcp"
					      : "");
	kv_endpoints(j, o);
	kv_owner(j, o);
	kv_header(j, o);
	kv_response(j, o);
	jbuf_kv_u64(j, "unanswered", o->kind == OBS_UNANSWERED);
	jbuf_kv_str(j, "source", o->logged ? "dnstap" : "");
	jbuf_kv_u64(j, "mirror", o->mirror);
	jbuf_kv_u64(j, "retransmit", o->retransmit);
	kv_verdict(j, v);
	jbuf_obj_end(j);
}
