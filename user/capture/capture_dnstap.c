// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dnstap messages as packets, and the file source. See capture_dnstap.h.
 */
#include <netinet/in.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "capture/dnstap.pb-c.h"

#include "capture/capture_dnstap.h"
#include "capture/framestream.h"
#include "lib/errmsg.h"
#include "lib/units.h"

/* Distinct vantages (type, transport, identity, version) kept per source. */
#define MAX_VANTAGES 4096
/* Longer identities and versions are cut: they are names, not data. */
#define MAX_LABEL 255

/*
 * protobuf-c copies every bytes field out of the frame: a bump allocator
 * over one buffer, reset per frame, keeps that from malloc. Two frames'
 * worth always suffices (the copies plus the structures).
 */
#define ARENA_BYTES (2 * DNSTAP_MAX_FRAME + 64 * 1024)

struct arena {
	uint8_t *buf;
	size_t used;
};

static const char *const type_names[] = {
	NULL,
	"AUTH_QUERY",
	"AUTH_RESPONSE",
	"RESOLVER_QUERY",
	"RESOLVER_RESPONSE",
	"CLIENT_QUERY",
	"CLIENT_RESPONSE",
	"FORWARDER_QUERY",
	"FORWARDER_RESPONSE",
	"STUB_QUERY",
	"STUB_RESPONSE",
	"TOOL_QUERY",
	"TOOL_RESPONSE",
	"UPDATE_QUERY",
	"UPDATE_RESPONSE",
};
#define NTYPES (int)(sizeof(type_names) / sizeof(type_names[0]))

static const char *const transport_names[] = {
	NULL, "udp", "tcp", "dot", "doh", "dnscrypt-udp", "dnscrypt-tcp", "doq",
};
#define NTRANSPORTS (int)(sizeof(transport_names) / sizeof(transport_names[0]))

struct dnstap_decoder {
	struct arena arena;
	ProtobufCAllocator alloc;
	struct pkt_vantage *vantages;
	int nvantages;
	struct pkt_vantage unnamed[NTYPES]; /* per type, no server named: see intern_vantage */
	struct dnstap_stats st;
};

const char *dnstap_type_name(int type)
{
	return type > 0 && type < NTYPES ? type_names[type] : NULL;
}

static void *arena_alloc(void *ctx, size_t size)
{
	struct arena *a = ctx;
	size_t at = (a->used + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);

	if (size > ARENA_BYTES || at > ARENA_BYTES - size)
		return NULL;
	a->used = at + size;
	return a->buf + at;
}

static void arena_free(void *ctx, void *p)
{
	(void)ctx;
	(void)p; /* all of it goes at the next frame */
}

struct dnstap_decoder *dnstap_decoder_new(void)
{
	struct dnstap_decoder *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->arena.buf = malloc(ARENA_BYTES);
	if (!d->arena.buf) {
		free(d);
		return NULL;
	}
	d->alloc = (ProtobufCAllocator){arena_alloc, arena_free, &d->arena};
	for (int i = 0; i < NTYPES; i++)
		d->unnamed[i] = (struct pkt_vantage){.source = "dnstap", .type = type_names[i]};
	return d;
}

static void free_vantage(struct pkt_vantage *v)
{
	free((char *)v->identity);
	free((char *)v->version);
}

void dnstap_decoder_free(struct dnstap_decoder *d)
{
	if (!d)
		return;
	for (int i = 0; i < d->nvantages; i++)
		free_vantage(&d->vantages[i]);
	free(d->vantages);
	free(d->arena.buf);
	free(d);
}

void dnstap_decoder_stats(const struct dnstap_decoder *d, struct dnstap_stats *st)
{
	*st = d->st;
}

/* A label as a C string (cut at MAX_LABEL and at a NUL), or NULL when absent. */
static bool label_equal(const char *kept, bool has, const ProtobufCBinaryData *b)
{
	size_t n;

	if (!has || !kept)
		return !has && !kept;
	n = strnlen((const char *)b->data, b->len < MAX_LABEL ? b->len : MAX_LABEL);
	return strlen(kept) == n && !memcmp(kept, b->data, n);
}

static char *label_dup(bool has, const ProtobufCBinaryData *b, bool *failed)
{
	char *s;

	if (!has)
		return NULL;
	s = strndup((const char *)b->data, b->len < MAX_LABEL ? b->len : MAX_LABEL);
	*failed |= !s;
	return s;
}

static const struct pkt_vantage *find_vantage(const struct dnstap_decoder *d, const char *type,
					      const char *transport, const Dnstap__Dnstap *t)
{
	for (int i = d->nvantages - 1; i >= 0; i--) {
		const struct pkt_vantage *v = &d->vantages[i];

		if (v->type == type && v->transport == transport &&
		    label_equal(v->identity, t->has_identity, &t->identity) &&
		    label_equal(v->version, t->has_version, &t->version))
			return v;
	}
	return NULL;
}

static bool grow_vantages(struct dnstap_decoder *d)
{
	struct pkt_vantage *v;

	if (d->nvantages == MAX_VANTAGES)
		return false;
	if (d->nvantages % 64)
		return true;
	v = realloc(d->vantages, (d->nvantages + 64) * sizeof(*v));
	if (v)
		d->vantages = v;
	return v != NULL;
}

/*
 * The vantage of this message, kept for the decoder's lifetime (pending
 * queries hold pointers to it). Few distinct ones exist in practice: one
 * per server and type. Past MAX_VANTAGES (or out of memory) the type's
 * own, which names no server.
 */
static const struct pkt_vantage *intern_vantage(struct dnstap_decoder *d, int type,
						int transport, const Dnstap__Dnstap *t)
{
	const char *tname = type_names[type];
	const char *trname = transport > 0 && transport < NTRANSPORTS ? transport_names[transport]
								       : NULL;
	const struct pkt_vantage *found = find_vantage(d, tname, trname, t);
	struct pkt_vantage *v;
	bool failed = false;

	if (found)
		return found;
	if (!grow_vantages(d))
		return &d->unnamed[type];
	v = &d->vantages[d->nvantages];
	*v = (struct pkt_vantage){.source = "dnstap", .type = tname, .transport = trname};
	v->identity = label_dup(t->has_identity, &t->identity, &failed);
	v->version = label_dup(t->has_version, &t->version, &failed);
	if (failed) {
		free_vantage(v);
		return &d->unnamed[type];
	}
	d->nvantages++;
	return v;
}

/* ---- one message ---- */

/* The initiator's side logs AUTH, CLIENT and UPDATE messages only from the server. */
static bool server_side(int type)
{
	return type == DNSTAP__MESSAGE__TYPE__AUTH_QUERY ||
	       type == DNSTAP__MESSAGE__TYPE__AUTH_RESPONSE ||
	       type == DNSTAP__MESSAGE__TYPE__CLIENT_QUERY ||
	       type == DNSTAP__MESSAGE__TYPE__CLIENT_RESPONSE ||
	       type == DNSTAP__MESSAGE__TYPE__UPDATE_QUERY ||
	       type == DNSTAP__MESSAGE__TYPE__UPDATE_RESPONSE;
}

/* Queries have odd numbers, their responses the next even one. */
static bool is_query(int type)
{
	return type % 2 == 1;
}

static int family_of(const Dnstap__Message *m)
{
	if (m->has_socket_family)
		return m->socket_family == DNSTAP__SOCKET_FAMILY__INET6 ? AF_INET6 : AF_INET;
	if ((m->has_query_address && m->query_address.len == 16) ||
	    (m->has_response_address && m->response_address.len == 16))
		return AF_INET6;
	return AF_INET;
}

/* UDP-like transports (QUIC runs on UDP) and the rest, which are streams. */
static uint8_t ip_proto_of(const Dnstap__Message *m)
{
	if (!m->has_socket_protocol)
		return IPPROTO_UDP;
	switch (m->socket_protocol) {
	case DNSTAP__SOCKET_PROTOCOL__UDP:
	case DNSTAP__SOCKET_PROTOCOL__DNSCryptUDP:
	case DNSTAP__SOCKET_PROTOCOL__DOQ:
		return IPPROTO_UDP;
	default:
		return IPPROTO_TCP;
	}
}

static void copy_addr(uint8_t *to, int family, bool has, const ProtobufCBinaryData *b)
{
	size_t want = family == AF_INET6 ? 16 : 4;

	memset(to, 0, 16);
	if (has && b->len == want)
		memcpy(to, b->data, want);
}

static uint64_t time_of(bool has_sec, uint64_t sec, bool has_nsec, uint32_t nsec)
{
	if (!has_sec)
		return 0;
	return sec * NS_PER_SEC + (has_nsec && nsec < NS_PER_SEC ? nsec : 0);
}

/* The message's own time; the other end's when its own is missing. */
static uint64_t message_time(const Dnstap__Message *m, bool query)
{
	uint64_t q = time_of(m->has_query_time_sec, m->query_time_sec, m->has_query_time_nsec,
			     m->query_time_nsec);
	uint64_t r = time_of(m->has_response_time_sec, m->response_time_sec,
			     m->has_response_time_nsec, m->response_time_nsec);

	return query ? (q ? q : r) : (r ? r : q);
}

/* Addresses, ports and direction: the client is the query's initiator. */
static void fill_endpoints(struct pkt_meta *meta, const Dnstap__Message *m, bool query)
{
	uint8_t *client = query ? meta->saddr : meta->daddr;
	uint8_t *server = query ? meta->daddr : meta->saddr;
	uint16_t cport = m->has_query_port ? (uint16_t)m->query_port : 0;
	uint16_t sport = m->has_response_port ? (uint16_t)m->response_port : 0;

	meta->family = (uint8_t)family_of(m);
	copy_addr(client, meta->family, m->has_query_address, &m->query_address);
	copy_addr(server, meta->family, m->has_response_address, &m->response_address);
	meta->sport = query ? cport : sport;
	meta->dport = query ? sport : cport;
	if (server_side(m->type))
		meta->dir = query ? DNSSNOOP_INGRESS : DNSSNOOP_EGRESS;
	else
		meta->dir = query ? DNSSNOOP_EGRESS : DNSSNOOP_INGRESS;
}

static int fill_packet(struct dnstap_decoder *d, const Dnstap__Dnstap *t,
		       struct dnstap_packet *out)
{
	const Dnstap__Message *m = t->message;
	bool query = is_query(m->type);
	const ProtobufCBinaryData *dns = query ? &m->query_message : &m->response_message;
	bool has_dns = query ? m->has_query_message : m->has_response_message;

	if (!has_dns || dns->len == 0) {
		d->st.no_message++;
		return 0;
	}
	memset(&out->meta, 0, sizeof(out->meta));
	fill_endpoints(&out->meta, m, query);
	out->meta.ts_ns = message_time(m, query);
	out->meta.proto = ip_proto_of(m);
	out->meta.orig_len = (uint32_t)dns->len;
	out->meta.vantage = intern_vantage(d, m->type,
					   m->has_socket_protocol ? (int)m->socket_protocol : 0, t);
	out->msg = dns->data;
	out->len = dns->len;
	d->st.messages++;
	return 1;
}

int dnstap_decode(struct dnstap_decoder *d, const uint8_t *frame, size_t len,
		  struct dnstap_packet *out, char *err, size_t errlen)
{
	Dnstap__Dnstap *t;

	d->st.frames++;
	d->arena.used = 0;
	t = dnstap__dnstap__unpack(&d->alloc, len, frame);
	if (!t || t->type != DNSTAP__DNSTAP__TYPE__MESSAGE || !t->message ||
	    !dnstap_type_name(t->message->type)) {
		d->st.bad++;
		set_err(err, errlen, "frame %llu is not a dnstap message",
			(unsigned long long)d->st.frames);
		return -1;
	}
	return fill_packet(d, t, out);
}

/* ---- a file ---- */

struct dnstap_source {
	FILE *f;
	char name[256];
	struct fs_buf fb;
	struct dnstap_decoder *dec;
	struct dnstap_packet pkt;
	bool ended; /* the end of the file, or damage */
	volatile sig_atomic_t *stop;
};

struct dnstap_source *dnstap_source_fopen(FILE *f, const char *name, char *err, size_t errlen)
{
	struct dnstap_source *ds = calloc(1, sizeof(*ds));

	if (!ds || !fs_buf_init(&ds->fb, DNSTAP_MAX_FRAME) || !(ds->dec = dnstap_decoder_new())) {
		set_err(err, errlen, "dnssnoop: cannot read %s: out of memory", name);
		if (ds)
			fs_buf_free(&ds->fb);
		free(ds);
		fclose(f);
		return NULL;
	}
	ds->f = f;
	snprintf(ds->name, sizeof(ds->name), "%s", name);
	return ds;
}

void dnstap_source_set_stop(struct dnstap_source *ds, volatile sig_atomic_t *stop)
{
	ds->stop = stop;
}

/* More bytes into the buffer: false at the end of the file (or a read error). */
static bool fill(struct dnstap_source *ds)
{
	uint8_t *room;
	size_t n = fs_buf_space(&ds->fb, 4096, &room), got;

	if (!n || (ds->stop && *ds->stop))
		return false;
	got = fread(room, 1, n, ds->f);
	fs_buf_added(&ds->fb, got);
	return got > 0;
}

/*
 * What a control frame means for a file: a START must name dnstap's
 * content type (or none); STOP needs nothing, as another stream may follow
 * (files put end to end).
 */
static int on_control(struct dnstap_source *ds, const struct fs_frame *fr, char *err,
		      size_t errlen)
{
	if (fr->control != FS_START || fr->dnstap || fr->no_type)
		return 0;
	set_err(err, errlen, "dnssnoop: %s: Frame Streams of another content type than dnstap's",
		ds->name);
	ds->ended = true;
	return -1;
}

static int end_of_file(struct dnstap_source *ds, char *err, size_t errlen)
{
	bool cut = fs_buf_pending(&ds->fb) > 0 && !(ds->stop && *ds->stop);

	ds->ended = true;
	if (ferror(ds->f) || cut) {
		set_err(err, errlen, "dnssnoop: %s: %s after %llu bytes; what came before was read",
			ds->name, ferror(ds->f) ? "read error" : "the last frame is cut short",
			(unsigned long long)ds->fb.bytes);
		return -1;
	}
	return 0;
}

int dnstap_source_next(struct dnstap_source *ds, const struct dnstap_packet **pkt, char *err,
		       size_t errlen)
{
	struct fs_frame fr;
	char why[128];
	int rc;

	while (!ds->ended) {
		switch (fs_buf_next(&ds->fb, &fr, why, sizeof(why))) {
		case FS_MORE:
			if (!fill(ds))
				return end_of_file(ds, err, errlen);
			continue;
		case FS_BAD:
			ds->ended = true;
			set_err(err, errlen, "dnssnoop: %s: %s; what came before was read",
				ds->name, why);
			return -1;
		case FS_CONTROL:
			if (on_control(ds, &fr, err, errlen) < 0)
				return -1;
			continue;
		case FS_DATA:
			rc = dnstap_decode(ds->dec, fr.data, fr.len, &ds->pkt, why, sizeof(why));
			if (rc < 0) {
				set_err(err, errlen, "dnssnoop: %s: %s", ds->name, why);
				return -1;
			}
			if (rc == 1) {
				*pkt = &ds->pkt;
				return 1;
			}
		}
	}
	return 0;
}

void dnstap_source_get_stats(const struct dnstap_source *ds, struct dnstap_stats *st)
{
	dnstap_decoder_stats(ds->dec, st);
}

void dnstap_source_close(struct dnstap_source *ds)
{
	if (!ds)
		return;
	fclose(ds->f);
	fs_buf_free(&ds->fb);
	dnstap_decoder_free(ds->dec);
	free(ds);
}
