// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * IP fragment reassembly.
 *
 * Datagrams in progress live in a table allocated once (max_datagrams
 * slots), found through hash chains and kept on an age list ordered by
 * their first fragment, which is what both the timeout and the eviction
 * of the oldest walk. Each slot remembers its fragments as (offset,
 * length on the wire, length captured) ranges; with overlaps refused, a
 * datagram is complete when the ranges' lengths add up to the total that
 * the last fragment announced.
 *
 * Data is copied into a per-slot buffer that grows on demand; small
 * buffers stay with their slot for reuse, so steady fragmented traffic
 * does not allocate per datagram. The slot of a datagram just delivered
 * is released on the next call, so the caller can read its data first.
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/hash.h"
#include "capture/ipfrag.h"
#include "lib/grow.h"
#include "lib/units.h"

#define NIL UINT32_MAX

#define DEFAULT_MAX_DATAGRAMS	1024
#define DEFAULT_MAX_BYTES	65535u
#define DEFAULT_MAX_TOTAL_BYTES (32u << 20)
#define DEFAULT_TIMEOUT_NS	(30 * NS_PER_SEC)
#define MIN_BUF			2048u
#define KEEP_BUF		4096u /* larger buffers are freed with their datagram */

/* Zero-padded so that equal keys compare equal with memcmp. */
struct frag_key {
	uint8_t saddr[16], daddr[16];
	uint32_t id;
	uint8_t family;
	uint8_t proto; /* IPv4 only: part of a datagram's identity (RFC 791) */
	uint8_t pad[2];
};

struct frag_range {
	uint32_t off, len, cap;
};

struct datagram {
	struct frag_key key;
	uint64_t hash;
	uint64_t first_ns; /* packet time of the first fragment seen */
	uint32_t next; /* hash chain, or free list */
	uint32_t older, newer; /* age list */
	uint32_t total; /* length of the whole datagram; 0 until the last fragment */
	uint32_t covered; /* sum of the ranges' wire lengths */
	uint32_t bufcap;
	uint8_t *buf;
	uint8_t proto; /* from the offset-0 fragment */
	bool in_use;
	uint8_t nranges;
	struct frag_range ranges[IPFRAG_MAX_FRAGS];
};

struct ipfrag {
	struct ipfrag_config cfg;
	struct datagram *slots;
	uint32_t *buckets;
	uint32_t mask;
	uint32_t free_head;
	uint32_t oldest, newest;
	uint32_t delivered; /* slot whose data the caller may still be reading */
	uint64_t seed;
	struct ipfrag_stats st;
};

struct ipfrag *ipfrag_new(const struct ipfrag_config *cfg)
{
	struct ipfrag *f = calloc(1, sizeof(*f));
	uint32_t nbuckets;

	if (!f)
		return NULL;
	if (cfg)
		f->cfg = *cfg;
	if (!f->cfg.max_datagrams || f->cfg.max_datagrams > (1u << 20))
		f->cfg.max_datagrams = DEFAULT_MAX_DATAGRAMS;
	if (!f->cfg.max_bytes || f->cfg.max_bytes > DEFAULT_MAX_BYTES)
		f->cfg.max_bytes = DEFAULT_MAX_BYTES;
	if (!f->cfg.max_total_bytes)
		f->cfg.max_total_bytes = DEFAULT_MAX_TOTAL_BYTES;
	if (!f->cfg.timeout_ns)
		f->cfg.timeout_ns = DEFAULT_TIMEOUT_NS;
	nbuckets = hash_roundup_pow2(2 * (uint32_t)f->cfg.max_datagrams);
	f->slots = calloc(f->cfg.max_datagrams, sizeof(*f->slots));
	f->buckets = malloc(nbuckets * sizeof(*f->buckets));
	if (!f->slots || !f->buckets) {
		ipfrag_free(f);
		return NULL;
	}
	memset(f->buckets, 0xff, nbuckets * sizeof(*f->buckets));
	f->mask = nbuckets - 1;
	for (uint32_t i = 0; i < f->cfg.max_datagrams; i++)
		f->slots[i].next = i + 1 < f->cfg.max_datagrams ? i + 1 : NIL;
	f->free_head = 0;
	f->oldest = f->newest = f->delivered = NIL;
	f->seed = hash_random_seed(f);
	return f;
}

void ipfrag_free(struct ipfrag *f)
{
	if (!f)
		return;
	if (f->slots)
		for (size_t i = 0; i < f->cfg.max_datagrams; i++)
			free(f->slots[i].buf);
	free(f->slots);
	free(f->buckets);
	free(f);
}

static void buf_release(struct ipfrag *f, struct datagram *d)
{
	f->st.buffer_bytes -= d->bufcap;
	free(d->buf);
	d->buf = NULL;
	d->bufcap = 0;
}

/* Take d out of its hash chain and the age list (it stays allocated). */
static void dgram_unlink(struct ipfrag *f, uint32_t idx)
{
	struct datagram *d = &f->slots[idx];
	uint32_t *link = &f->buckets[d->hash & f->mask];

	while (*link != idx)
		link = &f->slots[*link].next;
	*link = d->next;
	if (d->older != NIL)
		f->slots[d->older].newer = d->newer;
	else
		f->oldest = d->newer;
	if (d->newer != NIL)
		f->slots[d->newer].older = d->older;
	else
		f->newest = d->older;
	d->in_use = false;
	f->st.active--;
	f->st.held -= d->nranges;
}

/* Put an unlinked slot back on the free list, keeping a small buffer. */
static void slot_free(struct ipfrag *f, uint32_t idx)
{
	struct datagram *d = &f->slots[idx];

	if (d->bufcap > KEEP_BUF)
		buf_release(f, d);
	d->next = f->free_head;
	f->free_head = idx;
}

/* Give a datagram in progress up; its fragments count as dropped. */
static void dgram_drop(struct ipfrag *f, uint32_t idx, uint64_t *why)
{
	(*why)++;
	f->st.dropped += f->slots[idx].nranges;
	dgram_unlink(f, idx);
	slot_free(f, idx);
}

/* The datagram delivered by the previous call may now be reused. */
static void finish_delivered(struct ipfrag *f)
{
	if (f->delivered == NIL)
		return;
	slot_free(f, f->delivered);
	f->delivered = NIL;
}

void ipfrag_expire(struct ipfrag *f, uint64_t now_ns)
{
	if (!f)
		return;
	finish_delivered(f);
	/* Oldest first; a packet time that goes backwards only delays expiry. */
	while (f->oldest != NIL) {
		const struct datagram *d = &f->slots[f->oldest];

		if (now_ns <= d->first_ns || now_ns - d->first_ns <= f->cfg.timeout_ns)
			break;
		dgram_drop(f, f->oldest, &f->st.timeouts);
	}
}

static void make_key(const struct netparse_ip *ip, struct frag_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->saddr, ip->saddr, sizeof(k->saddr));
	memcpy(k->daddr, ip->daddr, sizeof(k->daddr));
	k->id = ip->frag_id;
	k->family = ip->family;
	if (ip->family == AF_INET)
		k->proto = ip->proto;
}

static uint32_t dgram_lookup(const struct ipfrag *f, const struct frag_key *k, uint64_t h)
{
	for (uint32_t i = f->buckets[h & f->mask]; i != NIL; i = f->slots[i].next)
		if (f->slots[i].hash == h && !memcmp(&f->slots[i].key, k, sizeof(*k)))
			return i;
	return NIL;
}

static uint32_t dgram_create(struct ipfrag *f, const struct frag_key *k, uint64_t h,
			     uint64_t now_ns)
{
	uint32_t idx;
	struct datagram *d;

	if (f->free_head == NIL)
		dgram_drop(f, f->oldest, &f->st.evicted); /* table full: oldest goes */
	idx = f->free_head;
	d = &f->slots[idx];
	f->free_head = d->next;
	d->key = *k;
	d->hash = h;
	d->first_ns = now_ns;
	d->total = 0;
	d->covered = 0;
	d->proto = 0;
	d->nranges = 0;
	d->in_use = true;
	d->next = f->buckets[h & f->mask];
	f->buckets[h & f->mask] = idx;
	d->newer = NIL;
	d->older = f->newest;
	if (f->newest != NIL)
		f->slots[f->newest].newer = idx;
	else
		f->oldest = idx;
	f->newest = idx;
	f->st.active++;
	return idx;
}

/* Free idle slots' buffers until need more bytes fit in the budget. */
static void free_idle_buffers(struct ipfrag *f, size_t need)
{
	for (uint32_t i = f->free_head; i != NIL; i = f->slots[i].next) {
		if (f->st.buffer_bytes + need <= f->cfg.max_total_bytes)
			return;
		if (f->slots[i].buf)
			buf_release(f, &f->slots[i]);
	}
}

/* Make d's buffer hold at least need bytes, within the memory budget. */
static bool dgram_reserve(struct ipfrag *f, uint32_t idx, uint32_t need)
{
	struct datagram *d = &f->slots[idx];
	uint32_t cap;
	uint8_t *buf;

	if (need <= d->bufcap)
		return true;
	cap = grow_capacity(d->bufcap, MIN_BUF, need, f->cfg.max_bytes);
	free_idle_buffers(f, cap - d->bufcap);
	while (f->st.buffer_bytes + cap - d->bufcap > f->cfg.max_total_bytes) {
		uint32_t victim = f->oldest != idx ? f->oldest : d->newer;

		if (victim == NIL)
			return false; /* nothing else to give up */
		buf_release(f, &f->slots[victim]);
		dgram_drop(f, victim, &f->st.evicted);
	}
	buf = realloc(d->buf, cap);
	if (!buf)
		return false;
	f->st.buffer_bytes += cap - d->bufcap;
	d->buf = buf;
	d->bufcap = cap;
	return true;
}

/* Does [off, off + len) overlap a range of d? An exact duplicate is 1. */
static int find_overlap(const struct datagram *d, uint32_t off, uint32_t len)
{
	for (int i = 0; i < d->nranges; i++) {
		const struct frag_range *r = &d->ranges[i];

		if (r->off == off && r->len == len)
			return 1;
		if (off < r->off + r->len && r->off < off + len)
			return -1;
	}
	return 0;
}

/* Lengths that cannot belong to a real datagram. */
static bool lengths_conflict(const struct datagram *d, uint32_t off, uint32_t len, bool more)
{
	uint32_t end = off + len;

	if (more)
		return d->total && end > d->total;
	if (d->total)
		return d->total != end;
	for (int i = 0; i < d->nranges; i++)
		if (d->ranges[i].off + d->ranges[i].len > end)
			return true;
	return end == 0;
}

/* The complete datagram's bytes: the captured run without a gap from 0. */
static void dgram_deliver(struct ipfrag *f, uint32_t idx, struct ipfrag_datagram *out)
{
	struct datagram *d = &f->slots[idx];
	uint32_t prefix = 0;

	/* Insertion sort: at most IPFRAG_MAX_FRAGS ranges, usually in order. */
	for (int i = 1; i < d->nranges; i++) {
		struct frag_range r = d->ranges[i];
		int j = i - 1;

		for (; j >= 0 && d->ranges[j].off > r.off; j--)
			d->ranges[j + 1] = d->ranges[j];
		d->ranges[j + 1] = r;
	}
	for (int i = 0; i < d->nranges; i++) {
		const struct frag_range *r = &d->ranges[i];

		if (r->off != prefix)
			break;
		prefix = r->off + r->cap;
		if (r->cap < r->len)
			break;
	}
	out->data = d->buf ? d->buf : (const uint8_t *)"";
	out->caplen = prefix;
	out->len = d->total;
	out->proto = d->proto;
	f->st.reassembled++;
	dgram_unlink(f, idx);
	f->delivered = idx;
}

static int reject(struct ipfrag *f, uint32_t idx, uint64_t *why)
{
	f->st.dropped++; /* this fragment */
	if (idx != NIL)
		dgram_drop(f, idx, why);
	else
		(*why)++;
	return IPFRAG_DROPPED;
}

int ipfrag_add(struct ipfrag *f, const struct netparse_ip *ip, uint64_t now_ns,
	       struct ipfrag_datagram *out)
{
	uint32_t off = ip->frag_off, len = ip->l4_len;
	uint32_t cap = ip->l4_caplen < len ? ip->l4_caplen : len;
	struct frag_key key;
	struct datagram *d;
	uint32_t idx;
	uint64_t h;
	int overlap;

	ipfrag_expire(f, now_ns);
	f->st.fragments++;
	make_key(ip, &key);
	h = hash_bytes(&key, sizeof(key), f->seed);
	idx = dgram_lookup(f, &key, h);

	/* Every fragment but the last carries a multiple of 8 bytes. */
	if ((uint64_t)off + len > f->cfg.max_bytes || (ip->frag_more && (len == 0 || len % 8)))
		return reject(f, idx, &f->st.invalid);
	if (idx == NIL)
		idx = dgram_create(f, &key, h, now_ns);
	d = &f->slots[idx];
	overlap = find_overlap(d, off, len);
	if (overlap > 0) {
		f->st.duplicates++;
		return IPFRAG_PENDING;
	}
	if (overlap < 0)
		return reject(f, idx, &f->st.overlaps);
	if (lengths_conflict(d, off, len, ip->frag_more) || d->nranges == IPFRAG_MAX_FRAGS)
		return reject(f, idx, &f->st.invalid);
	if (cap) {
		if (!dgram_reserve(f, idx, off + cap))
			return reject(f, idx, &f->st.evicted);
		memcpy(d->buf + off, ip->l4, cap);
	}
	d->ranges[d->nranges++] = (struct frag_range){.off = off, .len = len, .cap = cap};
	d->covered += len;
	f->st.held++;
	if (!ip->frag_more)
		d->total = off + len;
	if (off == 0)
		d->proto = ip->proto;
	if (d->total && d->covered == d->total) {
		dgram_deliver(f, idx, out);
		return IPFRAG_DONE;
	}
	return IPFRAG_PENDING;
}

void ipfrag_get_stats(const struct ipfrag *f, struct ipfrag_stats *st)
{
	*st = f->st;
}
