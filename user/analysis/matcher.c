// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Query/response matching.
 *
 * Pending queries live in an array of up to max_pending entries, grown as
 * queries wait, indexed by the slots of a slot pool (slots.h): its hash
 * chains find a query from its response, and its age list, in arrival order (entries
 * are never touched), finds the oldest query, for expiry and for eviction
 * when the table is full. Arrival order is time order as long as packet
 * times increase, which they nearly always do; see matcher_expire() for
 * what happens when they do not.
 *
 * The question name is compared case-insensitively (ASCII letters, as DNS
 * does, RFC 4343). An entry keeps the first MATCHER_QNAME_KEEP bytes of
 * the folded name plus its length and a 64-bit hash of all of it, so a
 * longer name (legal in presentation format, rare in practice) could only
 * be confused with another that agrees on length, prefix and hash.
 *
 * Callbacks must not call back into the same matcher.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/hash.h"
#include "analysis/matcher.h"
#include "lib/slots.h"

#define MATCHER_QNAME_KEEP 256

/* Everything two messages must agree on. Zeroed first, so memcmp works. */
struct match_key {
	uint64_t cookie;
	uint64_t qname_hash; /* of the whole case-folded name */
	uint8_t client[16], server[16];
	uint16_t client_port, server_port;
	uint16_t id, qtype, qclass;
	uint16_t qname_len;
	uint8_t vantage; /* direction the query was seen in */
	uint8_t family, proto;
	uint8_t pad[1];
};

_Static_assert(sizeof(struct match_key) == 64, "match_key must have no padding");

struct pending {
	struct match_key key;
	uint16_t query_len;
	bool query_truncated; /* query bytes cut to MATCHER_MAX_QUERY_BYTES */
	char qname[MATCHER_QNAME_KEEP]; /* folded, first bytes of the name */
	struct pkt_meta meta;
	uint8_t query[MATCHER_MAX_QUERY_BYTES];
};

struct matcher {
	struct slots slots; /* owns the pending queries, one per slot */
	uint64_t timeout_ns;
	uint64_t secret[2]; /* hash_fast() keys: random per matcher */
	struct matcher_stats stats;
};

/* Slot i's query. The array moves when the pool grows (slots_full()). */
static struct pending *pending_at(const struct matcher *m, uint32_t i)
{
	return (struct pending *)slots_entries(&m->slots) + i;
}

static uint32_t slot_of(const struct matcher *m, const struct pending *e)
{
	return (uint32_t)(e - (const struct pending *)slots_entries(&m->slots));
}

/* A key under construction, with its folded name. */
struct lookup {
	struct match_key key;
	char qname[MATCHER_QNAME_KEEP];
	uint64_t hash;
};

static char fold(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static uint8_t flip_dir(uint8_t dir)
{
	if (dir == DNSSNOOP_EGRESS)
		return DNSSNOOP_INGRESS;
	if (dir == DNSSNOOP_INGRESS)
		return DNSSNOOP_EGRESS;
	return dir;
}

/* Eight bytes with ASCII 'A'..'Z' made lower case, the others untouched. */
static uint64_t fold8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t low7 = w & ~highs;
	uint64_t ge_a = low7 + ones * (0x80 - 'A'); /* high bit: byte >= 'A' */
	uint64_t gt_z = low7 + ones * (0x80 - 'Z' - 1); /* high bit: byte > 'Z' */
	uint64_t upper = (ge_a ^ gt_z) & ~w & highs;

	return w | (upper >> 2); /* 0x80 >> 2 is the case bit, 0x20 */
}

/*
 * Fold the name into l->qname (the first MATCHER_QNAME_KEEP bytes, eight
 * at a time) and hash all of it: the kept bytes in one go, the rest (a
 * name that long is rare) byte by byte.
 */
static void key_set_qname(struct lookup *l, const struct dns_msg *msg, const uint64_t secret[2])
{
	size_t len = msg->qname_len < sizeof(msg->qname) ? msg->qname_len : sizeof(msg->qname);
	size_t keep = len < MATCHER_QNAME_KEEP ? len : MATCHER_QNAME_KEEP, i = 0;
	uint64_t h;

	/*
	 * Whole words, the last one past keep too: both arrays are longer than
	 * MATCHER_QNAME_KEEP (a multiple of 8), and only the first keep bytes
	 * are hashed, compared and kept.
	 */
	_Static_assert(MATCHER_QNAME_KEEP % 8 == 0 && sizeof(msg->qname) >= MATCHER_QNAME_KEEP,
		       "whole words of the name fit");
	for (; i < keep; i += 8) {
		uint64_t w;

		memcpy(&w, msg->qname + i, 8);
		w = fold8(w);
		memcpy(l->qname + i, &w, 8);
	}
	i = keep;
	h = hash_fast(l->qname, keep, secret);
	for (; i < len; i++)
		h = (h ^ (uint8_t)fold(msg->qname[i])) * 0x100000001b3ULL;
	l->key.qname_len = (uint16_t)len;
	l->key.qname_hash = len > keep ? hash_mix64(h) : h;
}

/*
 * Build the key of a query, or of the query a response answers: the
 * response travels the other way, so its destination is the client and
 * its direction is the opposite of the query's.
 */
static void make_lookup(const struct matcher *m, const struct pkt_meta *meta,
			const struct dns_msg *msg, bool is_response, struct lookup *l)
{
	size_t alen = meta->family == AF_INET ? 4 : 16; /* ignore bytes past IPv4 */
	const uint8_t *client = is_response ? meta->daddr : meta->saddr;
	const uint8_t *server = is_response ? meta->saddr : meta->daddr;
	struct match_key *k = &l->key;

	memset(k, 0, sizeof(*k)); /* compared with memcmp; the name only up to its length */
	k->cookie = meta->cookie;
	memcpy(k->client, client, alen);
	memcpy(k->server, server, alen);
	k->client_port = is_response ? meta->dport : meta->sport;
	k->server_port = is_response ? meta->sport : meta->dport;
	k->id = msg->id;
	k->qtype = msg->qtype;
	k->qclass = msg->qclass;
	k->vantage = is_response ? flip_dir(meta->dir) : meta->dir;
	k->family = meta->family;
	k->proto = meta->proto;
	key_set_qname(l, msg, m->secret);
	l->hash = hash_fast(k, sizeof(*k), m->secret);
}

struct matcher *matcher_new(uint64_t timeout_ns, size_t max_pending)
{
	struct matcher *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (!slots_init(&m->slots, max_pending, sizeof(struct pending))) {
		free(m);
		return NULL;
	}
	m->timeout_ns = timeout_ns;
	hash_fast_secrets(m->secret, hash_random_seed(m));
	return m;
}

void matcher_free(struct matcher *m)
{
	if (!m)
		return;
	slots_destroy(&m->slots);
	free(m);
}

void matcher_get_stats(const struct matcher *m, struct matcher_stats *st)
{
	if (!st)
		return;
	if (!m) {
		memset(st, 0, sizeof(*st));
		return;
	}
	*st = m->stats;
}

static struct pending *find(struct matcher *m, const struct lookup *l)
{
	size_t cmp = l->key.qname_len < MATCHER_QNAME_KEEP ? l->key.qname_len : MATCHER_QNAME_KEEP;

	for (uint32_t i = slots_first(&m->slots, l->hash); i != SLOTS_NIL;
	     i = slots_next(&m->slots, i)) {
		struct pending *e = pending_at(m, i);

		if (memcmp(&e->key, &l->key, sizeof(l->key)) == 0 &&
		    memcmp(e->qname, l->qname, cmp) == 0)
			return e;
	}
	return NULL;
}

static void remove_entry(struct matcher *m, struct pending *e)
{
	slots_release(&m->slots, slot_of(m, e));
	m->stats.pending--;
}

static uint64_t elapsed(uint64_t from, uint64_t to)
{
	return to > from ? to - from : 0; /* clocks may go backwards */
}

/* The query that arrived first, or NULL when none is pending. */
static struct pending *oldest(struct matcher *m)
{
	uint32_t i = slots_oldest(&m->slots);

	return i == SLOTS_NIL ? NULL : pending_at(m, i);
}

static void report_unanswered(struct matcher *m, struct pending *e, uint64_t now_ns,
			      matcher_unanswered_fn fn, void *ctx)
{
	m->stats.unanswered++;
	if (fn)
		fn(ctx, &e->meta, e->query, e->query_len, e->query_truncated,
		   elapsed(e->meta.ts_ns, now_ns));
	remove_entry(m, e);
}

static void insert_entry(struct matcher *m, const struct lookup *l, const struct pkt_meta *meta,
			 const struct dns_msg *msg)
{
	struct pending *e = pending_at(m, slots_take(&m->slots, l->hash));
	size_t qlen = msg->buf ? msg->len : 0;
	size_t keep = l->key.qname_len < MATCHER_QNAME_KEEP ? l->key.qname_len : MATCHER_QNAME_KEEP;

	e->key = l->key;
	memcpy(e->qname, l->qname, keep);
	e->meta = *meta;
	e->query_truncated = qlen > MATCHER_MAX_QUERY_BYTES;
	if (e->query_truncated)
		qlen = MATCHER_MAX_QUERY_BYTES;
	if (qlen)
		memcpy(e->query, msg->buf, qlen);
	e->query_len = (uint16_t)qlen;
	m->stats.pending++;
}

bool matcher_query(struct matcher *m, const struct pkt_meta *meta, const struct dns_msg *msg,
		   matcher_unanswered_fn fn, void *ctx)
{
	struct lookup l;

	if (!m || !meta || !msg || !msg->has_question)
		return false;
	make_lookup(m, meta, msg, false, &l);
	if (find(m, &l)) {
		/* Keep the first copy: latency counts from the first send. */
		m->stats.retransmits++;
		return true;
	}
	if (slots_full(&m->slots))
		report_unanswered(m, oldest(m), meta->ts_ns, fn, ctx);
	insert_entry(m, &l, meta, msg);
	m->stats.queries++;
	return false;
}

bool matcher_response(struct matcher *m, const struct pkt_meta *meta, const struct dns_msg *msg,
		      uint64_t *latency_ns)
{
	struct pending *e = NULL;
	struct lookup l;

	if (!m || !meta || !msg)
		return false;
	/* Without a question there is nothing to match on. */
	if (msg->has_question) {
		make_lookup(m, meta, msg, true, &l);
		e = find(m, &l);
		/*
		 * A capture file that saw a local exchange from one side only
		 * has the query and its response in the same direction (tcpdump
		 * -i any on loopback marks every packet as arriving). Live
		 * (a socket cookie), the direction is always right.
		 */
		if (!e && !meta->cookie && l.key.vantage != DNSSNOOP_DIR_UNKNOWN) {
			l.key.vantage = meta->dir;
			l.hash = hash_fast(&l.key, sizeof(l.key), m->secret);
			e = find(m, &l);
		}
	}
	if (!e) {
		m->stats.unmatched++;
		return false;
	}
	if (latency_ns)
		*latency_ns = elapsed(e->meta.ts_ns, meta->ts_ns);
	remove_entry(m, e);
	m->stats.matched++;
	return true;
}

/*
 * A query has expired when its age exceeds the timeout. A query whose
 * time is ahead of now by more than the timeout means the clock stepped
 * back (or a capture file has a bogus time); its age is unknowable, and
 * leaving it at the front would hold back every expiry behind it, so it
 * expires too (waited 0).
 */
static bool expired(const struct matcher *m, const struct pending *e, uint64_t now_ns)
{
	uint64_t ts = e->meta.ts_ns;

	return now_ns >= ts ? now_ns - ts > m->timeout_ns : ts - now_ns > m->timeout_ns;
}

void matcher_expire(struct matcher *m, uint64_t now_ns, matcher_unanswered_fn fn, void *ctx)
{
	/*
	 * Oldest first, stopping at the first live query. When packet times
	 * go backwards a query may sit behind a younger one and expire late,
	 * by at most the timeout; never early.
	 */
	if (!m)
		return;
	for (struct pending *e = oldest(m); e && expired(m, e, now_ns); e = oldest(m))
		report_unanswered(m, e, now_ns, fn, ctx);
}

void matcher_flush(struct matcher *m, uint64_t now_ns, matcher_unanswered_fn fn, void *ctx)
{
	if (!m)
		return;
	for (struct pending *e = oldest(m); e; e = oldest(m))
		report_unanswered(m, e, now_ns, fn, ctx);
}
