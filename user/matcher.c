// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Query/response matching.
 *
 * Pending queries live in an array of max_pending entries allocated once.
 * Two structures are threaded through it by index: hash chains (with a
 * free list reusing the chain link) to find a query from its response, and
 * a doubly linked list in arrival order to find the oldest query, for
 * expiry and for eviction when the table is full. Arrival order is time
 * order as long as packet times increase, which they nearly always do;
 * see matcher_expire() for what happens when they do not.
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
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "matcher.h"

#define MATCHER_NIL	   UINT32_MAX
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
	uint64_t hash;
	uint32_t hnext; /* hash chain, or free list when unused */
	uint32_t older, newer; /* arrival order */
	uint16_t query_len;
	bool query_truncated; /* query bytes cut to MATCHER_MAX_QUERY_BYTES */
	char qname[MATCHER_QNAME_KEEP]; /* folded, first bytes of the name */
	struct pkt_meta meta;
	uint8_t query[MATCHER_MAX_QUERY_BYTES];
};

struct matcher {
	struct pending *entries;
	uint32_t *buckets;
	uint32_t bucket_mask;
	uint32_t capacity;
	uint32_t free_head;
	uint32_t oldest, newest;
	uint64_t timeout_ns;
	uint64_t seed;
	struct matcher_stats stats;
};

/* A key under construction, with its folded name. */
struct lookup {
	struct match_key key;
	char qname[MATCHER_QNAME_KEEP];
	uint64_t hash;
};

static uint64_t random_seed(const void *salt)
{
	uint64_t seed = 0;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed))
		return seed;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)salt;
}

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

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

/* Fold the name into l->qname (first bytes) and hash all of it. */
static void key_set_qname(struct lookup *l, const struct dns_msg *msg, uint64_t seed)
{
	size_t len = msg->qname_len < sizeof(msg->qname) ? msg->qname_len : sizeof(msg->qname);
	uint64_t h = 0xcbf29ce484222325ULL ^ seed; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		char c = fold(msg->qname[i]);

		if (i < MATCHER_QNAME_KEEP)
			l->qname[i] = c;
		h = (h ^ (uint8_t)c) * 0x100000001b3ULL;
	}
	l->key.qname_len = (uint16_t)len;
	l->key.qname_hash = mix64(h);
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
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = m->seed;

	memset(l, 0, sizeof(*l));
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
	key_set_qname(l, msg, m->seed);

	for (size_t i = 0; i < sizeof(*k); i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h = mix64(h ^ w) + i;
	}
	l->hash = mix64(h);
}

static uint32_t roundup_pow2(uint32_t n)
{
	uint32_t p = 16;

	while (p < n)
		p <<= 1;
	return p;
}

struct matcher *matcher_new(uint64_t timeout_ns, size_t max_pending)
{
	struct matcher *m;

	if (max_pending == 0 || max_pending > (1u << 28))
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->capacity = (uint32_t)max_pending;
	m->bucket_mask = roundup_pow2(m->capacity) - 1;
	/* calloc: pages of entries never used are never touched. */
	m->entries = calloc(m->capacity, sizeof(*m->entries));
	m->buckets = malloc(((size_t)m->bucket_mask + 1) * sizeof(*m->buckets));
	if (!m->entries || !m->buckets) {
		matcher_free(m);
		return NULL;
	}
	for (uint32_t i = 0; i <= m->bucket_mask; i++)
		m->buckets[i] = MATCHER_NIL;
	for (uint32_t i = 0; i < m->capacity; i++)
		m->entries[i].hnext = i + 1 < m->capacity ? i + 1 : MATCHER_NIL;
	m->free_head = 0;
	m->oldest = m->newest = MATCHER_NIL;
	m->timeout_ns = timeout_ns;
	m->seed = random_seed(m);
	return m;
}

void matcher_free(struct matcher *m)
{
	if (!m)
		return;
	free(m->entries);
	free(m->buckets);
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

	for (uint32_t i = m->buckets[l->hash & m->bucket_mask]; i != MATCHER_NIL;
	     i = m->entries[i].hnext) {
		struct pending *e = &m->entries[i];

		if (e->hash == l->hash && memcmp(&e->key, &l->key, sizeof(l->key)) == 0 &&
		    memcmp(e->qname, l->qname, cmp) == 0)
			return e;
	}
	return NULL;
}

static void remove_entry(struct matcher *m, struct pending *e)
{
	uint32_t idx = (uint32_t)(e - m->entries);
	uint32_t *link = &m->buckets[e->hash & m->bucket_mask];

	while (*link != idx)
		link = &m->entries[*link].hnext;
	*link = e->hnext;

	if (e->older != MATCHER_NIL)
		m->entries[e->older].newer = e->newer;
	else
		m->oldest = e->newer;
	if (e->newer != MATCHER_NIL)
		m->entries[e->newer].older = e->older;
	else
		m->newest = e->older;

	e->hnext = m->free_head;
	m->free_head = idx;
	m->stats.pending--;
}

static uint64_t elapsed(uint64_t from, uint64_t to)
{
	return to > from ? to - from : 0; /* clocks may go backwards */
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
	uint32_t idx = m->free_head;
	struct pending *e = &m->entries[idx];
	size_t qlen = msg->buf ? msg->len : 0;
	size_t keep = l->key.qname_len < MATCHER_QNAME_KEEP ? l->key.qname_len : MATCHER_QNAME_KEEP;

	m->free_head = e->hnext;
	e->key = l->key;
	e->hash = l->hash;
	memcpy(e->qname, l->qname, keep);
	e->meta = *meta;
	e->query_truncated = qlen > MATCHER_MAX_QUERY_BYTES;
	if (e->query_truncated)
		qlen = MATCHER_MAX_QUERY_BYTES;
	if (qlen)
		memcpy(e->query, msg->buf, qlen);
	e->query_len = (uint16_t)qlen;

	e->hnext = m->buckets[l->hash & m->bucket_mask];
	m->buckets[l->hash & m->bucket_mask] = idx;
	e->newer = MATCHER_NIL;
	e->older = m->newest;
	if (m->newest != MATCHER_NIL)
		m->entries[m->newest].newer = idx;
	else
		m->oldest = idx;
	m->newest = idx;
	m->stats.pending++;
}

void matcher_query(struct matcher *m, const struct pkt_meta *meta, const struct dns_msg *msg,
		   matcher_unanswered_fn fn, void *ctx)
{
	struct lookup l;

	if (!m || !meta || !msg || !msg->has_question)
		return;
	make_lookup(m, meta, msg, false, &l);
	if (find(m, &l)) {
		/* Keep the first copy: latency counts from the first send. */
		m->stats.retransmits++;
		return;
	}
	if (m->free_head == MATCHER_NIL)
		report_unanswered(m, &m->entries[m->oldest], meta->ts_ns, fn, ctx);
	insert_entry(m, &l, meta, msg);
	m->stats.queries++;
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
	while (m && m->oldest != MATCHER_NIL && expired(m, &m->entries[m->oldest], now_ns))
		report_unanswered(m, &m->entries[m->oldest], now_ns, fn, ctx);
}

void matcher_flush(struct matcher *m, uint64_t now_ns, matcher_unanswered_fn fn, void *ctx)
{
	while (m && m->oldest != MATCHER_NIL)
		report_unanswered(m, &m->entries[m->oldest], now_ns, fn, ctx);
}
