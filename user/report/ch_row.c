// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The fleet's messages table rows; see ch_row.h, the columns in
 * sql/clickhouse/schema.sql and docs/fleet.md.
 */
#include <endian.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fmt.h"
#include "lib/hash.h"
#include "lib/units.h"
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

/*
 * The columns, once: their names and types for ch_row_columns, and their
 * names for the INSERT's column list. ch_row_build writes them in this order.
 */
/* clang-format off */
#define REST_COLUMNS(X)             \
	X(ts_ns, CH_U64)            \
	X(day, CH_DATE)             \
	X(host, CH_STRING)          \
	X(dir, CH_STRING)           \
	X(proto, CH_STRING)         \
	X(saddr, CH_STRING)         \
	X(sport, CH_U16)            \
	X(daddr, CH_STRING)         \
	X(dport, CH_U16)            \
	X(pid, CH_U32)              \
	X(comm, CH_STRING)          \
	X(uid, CH_U32)              \
	X(cgroup, CH_STRING)        \
	X(id, CH_U16)               \
	X(qr, CH_U8)                \
	X(opcode, CH_STRING)        \
	X(rcode, CH_STRING)         \
	X(qname, CH_STRING)         \
	X(qtype, CH_STRING)         \
	X(qclass, CH_STRING)        \
	X(flags, CH_STRINGS)        \
	X(len, CH_U32)              \
	X(latency_ns, CH_U64)       \
	X(answers, CH_STRINGS)      \
	X(unanswered, CH_U8)        \
	X(source, CH_STRING)        \
	X(mirror, CH_U8)            \
	X(retransmit, CH_U8)        \
	X(client_key, CH_U64)       \
	X(client, CH_STRING)        \
	X(client_process, CH_U8)    \
	X(client_comm, CH_STRING)   \
	X(client_uid, CH_U32)       \
	X(client_cgroup, CH_STRING) \
	X(client_addr, CH_STRING)   \
	X(name, CH_STRING)          \
	X(domain, CH_STRING)        \
	X(peer, CH_STRING)          \
	X(lookup, CH_U8)            \
	X(first_of_name, CH_U8)     \
	X(name_answer_ns, CH_U64)   \
	X(domain_answer_ns, CH_U64)
/* clang-format on */

#define COLUMN_ENTRY(n, t) {#n, t},
#define COLUMN_NAME(n, t)  ", " #n

const struct ch_row_column ch_row_columns[] = {{"batch", CH_U64}, REST_COLUMNS(COLUMN_ENTRY)};
const size_t ch_row_ncolumns = sizeof(ch_row_columns) / sizeof(ch_row_columns[0]);
const char ch_row_column_list[] = "batch" REST_COLUMNS(COLUMN_NAME);

/* ---- RowBinary ---- */

static bool room(struct ch_rowbuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 512;
	uint8_t *p;

	if (b->failed)
		return false;
	if (b->len + n <= b->cap)
		return true;
	while (cap < b->len + n)
		cap *= 2;
	p = realloc(b->buf, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->buf = p;
	b->cap = cap;
	return true;
}

/* An unsigned integer of n bytes, little-endian whatever the host's order. */
static void put_le(struct ch_rowbuf *b, uint64_t v, size_t n)
{
	uint64_t le = htole64(v);

	if (!room(b, n))
		return;
	memcpy(b->buf + b->len, &le, n);
	b->len += n;
}

static void put_u8(struct ch_rowbuf *b, uint64_t v)
{
	put_le(b, v, 1);
}

static void put_u16(struct ch_rowbuf *b, uint64_t v)
{
	put_le(b, v, 2);
}

static void put_u32(struct ch_rowbuf *b, uint64_t v)
{
	put_le(b, v, 4);
}

static void put_u64(struct ch_rowbuf *b, uint64_t v)
{
	put_le(b, v, 8);
}

/* A length or count: LEB128. */
static void put_varint(struct ch_rowbuf *b, uint64_t v)
{
	if (!room(b, 10))
		return;
	while (v >= 0x80) {
		b->buf[b->len++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b->buf[b->len++] = (uint8_t)v;
}

static void put_strn(struct ch_rowbuf *b, const char *s, size_t n)
{
	put_varint(b, n);
	if (!n || !room(b, n))
		return;
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

static void put_str(struct ch_rowbuf *b, const char *s)
{
	put_strn(b, s, s ? strlen(s) : 0);
}

static void put_addr(struct ch_rowbuf *b, uint8_t family, const uint8_t *addr)
{
	char text[FMT_ADDR_MAX + 1];

	put_strn(b, text, fmt_addr(text, family, addr));
}

void ch_rowbuf_free(struct ch_rowbuf *b)
{
	free(b->buf);
	*b = (struct ch_rowbuf){0};
}

/* ---- the columns ---- */

/* ts_ns and its UTC day (the partition). */
static void put_time(struct ch_rowbuf *b, uint64_t ts_ns)
{
	put_u64(b, ts_ns);
	put_u16(b, ts_ns / (86400 * NS_PER_SEC));
}

/* The packet's own source and destination: a response goes from the server. */
static void put_endpoints(struct ch_rowbuf *b, const struct dns_obs *o)
{
	bool from_client = o->kind != OBS_RESPONSE;

	put_addr(b, o->family, from_client ? o->client_addr : o->server_addr);
	put_u16(b, from_client ? o->client_port : o->server_port);
	put_addr(b, o->family, from_client ? o->server_addr : o->client_addr);
	put_u16(b, from_client ? o->server_port : o->client_port);
}

static void put_owner(struct ch_rowbuf *b, const struct dns_obs *o)
{
	bool known = o->owner && o->owner->tgid;

	put_u32(b, known ? o->owner->tgid : 0);
	if (known)
		put_strn(b, o->owner->comm, strnlen(o->owner->comm, DNSSNOOP_COMM_LEN));
	else
		put_str(b, "");
	put_u32(b, known ? o->owner->uid : 0);
	put_str(b, known ? o->cgroup : "");
}

static void put_flags(struct ch_rowbuf *b, uint16_t flags)
{
	size_t n = 0;

	for (size_t k = 0; k < DNS_HEADER_FLAGS; k++)
		n += !!(flags & dns_header_flags[k].bit);
	put_varint(b, n);
	for (size_t k = 0; k < DNS_HEADER_FLAGS; k++)
		if (flags & dns_header_flags[k].bit)
			put_str(b, dns_header_flags[k].name);
}

static void put_header(struct ch_rowbuf *b, const struct dns_obs *o)
{
	char buf[16];

	put_u16(b, o->id);
	put_u8(b, o->kind == OBS_RESPONSE);
	put_str(b, dns_opcode_str((uint8_t)(o->flags >> 11 & 0xf), buf));
	put_str(b, o->kind == OBS_RESPONSE ? dns_rcode_str(o->rcode, buf) : "");
	put_strn(b, o->qname ? o->qname : "", o->qname ? o->qname_len : 0);
	put_str(b, dns_type_str(o->qtype, buf));
	put_str(b, o->qclass ? dns_class_str(o->qclass, buf) : "");
	put_flags(b, o->flags);
	put_u32(b, o->len);
}

static void put_response(struct ch_rowbuf *b, const struct dns_obs *o)
{
	int n = o->kind == OBS_RESPONSE ? o->naddrs : 0;

	if (n > OBS_MAX_ADDRS)
		n = OBS_MAX_ADDRS;
	put_u64(b, o->has_latency ? o->latency_ns : 0);
	put_varint(b, (uint64_t)(n > 0 ? n : 0));
	for (int k = 0; k < n; k++)
		put_addr(b, o->addrs[k].family, o->addrs[k].addr);
}

/* The detectors' columns: who the client is, the targets, and the tap's verdict. */
static void put_verdict(struct ch_rowbuf *b, const struct detect_verdict *v)
{
	static const struct detect_verdict none = {.name = "", .domain = "", .peer = ""};
	const struct detect_client *c;

	if (!v)
		v = &none;
	c = &v->client;
	put_u64(b, v == &none ? 0 : ch_row_client_key(c));
	put_str(b, c->label);
	put_u8(b, c->process);
	put_strn(b, c->comm, strnlen(c->comm, DNSSNOOP_COMM_LEN));
	put_u32(b, c->uid);
	put_str(b, c->cgroup);
	if (c->process || !c->family)
		put_str(b, "");
	else
		put_addr(b, c->family, c->addr);
	put_str(b, v->name);
	put_str(b, v->domain);
	put_str(b, v->peer);
	put_u8(b, v->lookup);
	put_u8(b, v->first_of_name);
	put_u64(b, v->name_answer_ns);
	put_u64(b, v->domain_answer_ns);
}

void ch_row_build(struct ch_rowbuf *b, const struct dns_obs *o, const struct detect_verdict *v)
{
	static const char *const dirs[] = {
		[DNSSNOOP_EGRESS] = "egress", [DNSSNOOP_INGRESS] = "ingress"};
	bool known_dir = o->dir == DNSSNOOP_EGRESS || o->dir == DNSSNOOP_INGRESS;

	b->len = 0;
	b->failed = false;
	put_time(b, o->ts_ns);
	put_str(b, o->host);
	put_str(b, known_dir ? dirs[o->dir] : "");
	put_str(b, o->proto == IPPROTO_UDP ? "udp" : o->proto == IPPROTO_TCP ? "tcp" : "");
	put_endpoints(b, o);
	put_owner(b, o);
	put_header(b, o);
	put_response(b, o);
	put_u8(b, o->kind == OBS_UNANSWERED);
	put_str(b, o->logged ? "dnstap" : "");
	put_u8(b, o->mirror);
	put_u8(b, o->retransmit);
	put_verdict(b, v);
}
