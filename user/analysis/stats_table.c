// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The bounded table under each statistics table (layout in stats_impl.h):
 *  - a dense array of struct entry, slots 0 .. used - 1 in use, grown by
 *    doubling up to max_entries (memory follows use: a table of twelve
 *    processes costs twelve entries, not max_entries of them), and beside
 *    it the slots' Space-Saving counts;
 *  - index-linked hash chains over it (the 64-bit hash is kept in the
 *    entry, so a probe touches the bucket word and the entry only);
 *  - once the table is full, a min-heap of (count, slot) that finds the
 *    Space-Saving victim.
 * An eviction replaces the victim in its slot, so slots are never freed
 * and the array stays dense. The victim's figures (all but its count,
 * which the newcomer inherits) join the table's untracked row, so the top
 * entries plus the others row always add up to everything observed.
 *
 * Why not slots.h: it keeps the hash apart from the entry (one more cache
 * miss per probe), and its eviction order is an age list, while
 * Space-Saving evicts the smallest count.
 *
 * The heap is lazy: a query only increments the slot's count; the heap
 * node keeps the count it had when last sifted, which is never above the
 * slot's. To find the victim, the root is refreshed and sifted down until
 * its snapshot is current; then its count is the smallest of all, since
 * every snapshot is a lower bound of its slot's count and the root has
 * the smallest snapshot. Counting a query is O(1); each eviction sifts
 * O(log n) per root refreshed, at most one refresh per count increase.
 *
 * The lookup itself (chain_find(), table_entry_for()) is inline in
 * stats_impl.h, for the observation's hot path in stats.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "analysis/stats_impl.h"

#define FIRST_CAPACITY 64

/* ---- hashing ---- */

uint64_t fast_hash(const void *data, size_t len, const uint64_t secret[2])
{
	return hash_fast(data, len, secret);
}

/* ---- chains, growth ---- */

uint32_t table_find_key(const struct table *t, const uint8_t *key, size_t klen)
{
	uint64_t h = key_hash(t, key, klen);

	return chain_find(t, bucket_head(t, h), h, key, klen);
}

static void chain_link(struct table *t, uint32_t i)
{
	uint32_t *head = &t->bucket[t->e[i].hash & t->bucket_mask];

	t->e[i].next = *head;
	*head = i;
}

static void chain_unlink(struct table *t, uint32_t i)
{
	uint32_t *link = &t->bucket[t->e[i].hash & t->bucket_mask];

	while (*link != i)
		link = &t->e[*link].next;
	*link = t->e[i].next;
}

/* A bucket array of n heads (a power of two), every used slot relinked. */
static int table_rehash(struct table *t, uint32_t n)
{
	uint32_t *b = malloc((size_t)n * sizeof(*b));

	if (!b)
		return -ENOMEM;
	free(t->bucket);
	t->bucket = b;
	t->bucket_mask = n - 1;
	memset(b, 0xff, (size_t)n * sizeof(*b)); /* NIL */
	for (uint32_t i = 0; i < t->used; i++)
		chain_link(t, i);
	return 0;
}

static int table_grow(struct table *t)
{
	uint32_t ncap = t->cap ? t->cap * 2 : FIRST_CAPACITY;
	uint32_t nbuckets;
	uint64_t *count;
	struct entry *e;

	if (t->cap >= t->max)
		return -ENOSPC;
	if (ncap > t->max || ncap < t->cap)
		ncap = t->max;
	count = realloc(t->count, (size_t)ncap * sizeof(*count));
	if (!count)
		return -ENOMEM;
	t->count = count;
	e = realloc(t->e, (size_t)ncap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	t->e = e;
	t->cap = ncap;
	/* Load <= 1/2: a lookup of an absent key (every eviction) walks 0.5 entries. */
	nbuckets = hash_roundup_pow2(ncap) * 2;
	if (!t->bucket || nbuckets != t->bucket_mask + 1)
		if (table_rehash(t, nbuckets) && !t->bucket)
			return -ENOMEM; /* longer chains are fine; no chains are not */
	return 0;
}

/* ---- heap ---- */

/*
 * The heap is 4-ary, its node k stored at heap_mem[k + HEAP_SKEW] in a
 * 64-byte aligned array: the four children of a node (4k+1 .. 4k+4) then
 * fill one cache line, and a sift down a 100000-entry heap crosses 9
 * lines, against 17 for a binary heap.
 */
#define HEAP_ARITY 4
#define HEAP_SKEW  3

static struct heap_node *heap_nodes(const struct table *t)
{
	return t->heap + HEAP_SKEW;
}

static void heap_sift_down(struct heap_node *h, uint32_t n, uint32_t i)
{
	struct heap_node x = h[i];

	for (;;) {
		uint32_t c = HEAP_ARITY * i + 1, end = c + HEAP_ARITY, best = c;

		if (c >= n)
			break;
		if (end > n)
			end = n;
		for (uint32_t j = c + 1; j < end; j++)
			if (h[j].count < h[best].count)
				best = j;
		if (h[best].count >= x.count)
			break;
		h[i] = h[best];
		i = best;
	}
	h[i] = x;
}

static int heap_build(struct table *t)
{
	struct heap_node *h;

	if (t->heap_cap < t->used) {
		size_t bytes = ((size_t)t->cap + HEAP_SKEW) * sizeof(*h);

		h = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
		if (!h)
			return -ENOMEM;
		free(t->heap);
		t->heap = h;
		t->heap_cap = t->cap;
	}
	h = heap_nodes(t);
	for (uint32_t i = 0; i < t->used; i++)
		h[i] = (struct heap_node){.count = t->count[i], .idx = i};
	for (uint32_t i = t->used > 1 ? (t->used - 2) / HEAP_ARITY + 1 : 0; i-- > 0;)
		heap_sift_down(h, t->used, i);
	t->heap_valid = true;
	return 0;
}

static uint32_t table_min_scan(const struct table *t)
{
	uint32_t best = 0;

	for (uint32_t i = 1; i < t->used; i++)
		if (t->count[i] < t->count[best])
			best = i;
	return best;
}

/* The slot with the smallest count (NIL when empty). */
uint32_t table_min(struct table *t)
{
	if (!t->used)
		return NIL;
	if (!t->heap_valid && heap_build(t))
		return table_min_scan(t); /* out of memory: O(n), still right */
	for (;;) {
		struct heap_node *root = heap_nodes(t);
		uint64_t count = t->count[root->idx];

		if (count == root->count)
			return root->idx;
		root->count = count;
		heap_sift_down(root, t->used, 0);
	}
}

/* ---- eviction ---- */

/*
 * A table that evicts once tends to evict again soon (a flood, a long
 * tail): find the next victim now and prefetch its entry, and stats.c's
 * run_lookups() prefetches its bucket with the next observation's, so the
 * next eviction's cache misses overlap the lookups instead of following
 * them. Called after the newcomer's count is final.
 */
void prepare_next_victim(struct table *t)
{
	uint32_t v = table_min(t);

	t->next_victim = v;
	if (v != NIL)
		prefetch_entry(&t->e[v]); /* its count was read: cached */
}

/* A new slot for the key if the table has room, its count the absent bound. */
uint32_t table_insert(struct table *t, uint64_t h, const uint8_t *key, size_t klen, size_t reserve)
{
	uint32_t i;
	struct entry *e;

	if (t->used == t->cap && table_grow(t))
		return NIL;
	i = t->used;
	e = &t->e[i];
	if (i == t->init) {
		memset(e, 0, sizeof(*e));
		t->init++;
	}
	if (entry_key_room(e, klen + reserve))
		return NIL;
	entry_clear(e);
	entry_set_key(e, h, key, klen);
	t->count[i] = e->error = t->absent_bound;
	chain_link(t, i);
	t->used++;
	t->heap_valid = false;
	t->next_victim = NIL;
	return i;
}

/*
 * Replaces slot i's key (a victim, the smallest count) with a new one.
 * Its figures go to the untracked row; its count stays as the newcomer's
 * base and error (Space-Saving) unless drop_count (a merge cutting the
 * union to size), where the count goes to the untracked row too.
 */
uint32_t table_replace(struct table *t, uint32_t i, uint64_t h, const uint8_t *key, size_t klen,
		       size_t reserve, bool drop_count)
{
	struct entry *e = &t->e[i];
	uint64_t count = t->count[i];

	if (entry_key_room(e, klen + reserve))
		return NIL;
	chain_unlink(t, i);
	entry_merge_figures(&t->untracked, e);
	if (drop_count) {
		t->untracked_count += count;
		t->untracked.error += e->error;
	}
	entry_clear(e);
	entry_set_key(e, h, key, klen);
	t->count[i] = e->error = drop_count ? 0 : count;
	chain_link(t, i);
	t->evictions++;
	if (count > t->absent_bound)
		t->absent_bound = count;
	return i;
}

/* ---- life cycle ---- */

/* An empty table of at most max entries (its id and what its sets count: the caller's). */
void table_init(struct table *t, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->max = (uint32_t)max;
	t->next_victim = NIL;
	t->secret[0] = hash_random_seed(t) | 1;
	t->secret[1] = hash_mix64(t->secret[0] ^ hash_random_seed(&t->secret)) | 1;
	entry_clear(&t->untracked);
}

void table_reset(struct table *t)
{
	for (uint32_t i = 0; i < t->used; i++)
		entry_clear(&t->e[i]);
	if (t->bucket)
		memset(t->bucket, 0xff, ((size_t)t->bucket_mask + 1) * sizeof(*t->bucket));
	t->used = 0;
	t->heap_valid = false;
	t->next_victim = NIL;
	t->total_queries = t->evictions = t->absent_bound = t->untracked_count = 0;
	entry_clear(&t->untracked);
}

void table_destroy(struct table *t)
{
	for (uint32_t i = 0; i < t->init; i++)
		entry_destroy(&t->e[i]);
	entry_destroy(&t->untracked);
	free(t->e);
	free(t->count);
	free(t->bucket);
	free(t->heap);
}

/* ---- merging ---- */

/*
 * A key of src that dst lacks, with count c and error err: inserted if
 * there is room, else it replaces dst's smallest entry if c is larger
 * (that entry is cut), else it is cut itself.
 */
static void table_merge_new(struct table *d, const struct table *s, uint32_t j, uint64_t md)
{
	const struct entry *se = &s->e[j];
	uint64_t c = s->count[j] + md, err = se->error + md;
	size_t attrs = entry_attr_len(s, se);
	const uint8_t *key = entry_key(se);
	uint64_t h = key_hash(d, key, se->klen);
	uint32_t i = table_insert(d, h, key, se->klen, attrs);
	struct entry *e;

	if (i == NIL) {
		i = table_min(d);
		if (i != NIL && d->count[i] < c)
			i = table_replace(d, i, h, key, se->klen, attrs, true);
		else
			i = NIL;
	}
	if (i == NIL) {
		entry_merge_figures(&d->untracked, se);
		d->untracked_count += c;
		d->untracked.error += err;
		d->evictions++;
		if (c > d->absent_bound)
			d->absent_bound = c;
		return;
	}
	e = &d->e[i];
	memcpy(entry_key_mut(e) + e->klen, key + se->klen, attrs); /* process attributes */
	d->count[i] = c;
	e->error = err;
	entry_merge_figures(e, se);
}

/*
 * Mergeable Space-Saving (after Agarwal et al., "Mergeable summaries",
 * 2012): a key's merged count is the sum of its counts in both tables,
 * where a table that lacks it contributes its absent bound (no absent key
 * can have more queries there; 0 while the table never evicted) to the
 * count and the error alike; then the union is cut to the max_entries
 * largest counts. Counts stay upper bounds and count - error stays a lower
 * bound. Every key whose true count exceeds the smallest count kept is
 * present; that smallest count is at most 2N/max_entries over the merged
 * N queries (the absent bounds add at most N to the union's sum), against
 * N/max_entries for a table that saw the whole stream. Two tables that
 * never evicted merge exactly.
 */
int table_merge(struct table *d, const struct table *s)
{
	uint64_t md = d->absent_bound, ms = s->absent_bound;
	uint8_t *common = NULL;

	if (s->used && !(common = calloc(s->used, 1)))
		return -ENOMEM;
	if (ms) {
		for (uint32_t i = 0; i < d->used; i++) {
			struct entry *e = &d->e[i];

			if (table_find_key(s, entry_key(e), e->klen) == NIL) {
				d->count[i] += ms;
				e->error += ms;
			}
		}
	}
	for (uint32_t j = 0; j < s->used; j++) {
		const struct entry *se = &s->e[j];
		uint32_t i = table_find_key(d, entry_key(se), se->klen);

		if (i != NIL) {
			d->count[i] += s->count[j];
			entry_add(&d->e[i], se);
			common[j] = 1;
		}
	}
	for (uint32_t j = 0; j < s->used; j++)
		if (!common[j])
			table_merge_new(d, s, j, md);
	entry_add(&d->untracked, &s->untracked);
	d->untracked_count += s->untracked_count;
	d->total_queries += s->total_queries;
	d->evictions += s->evictions;
	if (md + ms > d->absent_bound)
		d->absent_bound = md + ms;
	free(common);
	return 0;
}

/* ---- ranking ---- */

/* a ranks before b: more queries, then smaller key bytes. */
static int rank_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct table *t = ctx;
	uint32_t ia = *(const uint32_t *)pa, ib = *(const uint32_t *)pb;
	const struct entry *a = &t->e[ia], *b = &t->e[ib];
	int c;

	if (t->count[ia] != t->count[ib])
		return t->count[ia] > t->count[ib] ? -1 : 1;
	c = memcmp(entry_key(a), entry_key(b), a->klen < b->klen ? a->klen : b->klen);
	if (c)
		return c;
	return (int)a->klen - (int)b->klen;
}

/* Sift down in a heap whose root is the worst-ranked of order[0 .. n). */
static void worst_sift_down(const struct table *t, uint32_t *order, size_t n, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1;
		uint32_t tmp;

		if (c >= n)
			return;
		if (c + 1 < n && rank_cmp(&order[c + 1], &order[c], (void *)t) > 0)
			c++;
		if (rank_cmp(&order[c], &order[i], (void *)t) <= 0)
			return;
		tmp = order[i];
		order[i] = order[c];
		order[c] = tmp;
		i = c;
	}
}

/*
 * order[0 .. used): slots with the best n first, sorted; the rest after
 * them in no order. O(used log n) with a heap of the n best so far.
 */
void rank_entries(const struct table *t, uint32_t *order, size_t n)
{
	for (uint32_t i = 0; i < t->used; i++)
		order[i] = i;
	if (n < t->used) {
		for (size_t i = n / 2; i-- > 0;)
			worst_sift_down(t, order, n, i);
		for (size_t i = n; n && i < t->used; i++) {
			if (rank_cmp(&order[i], &order[0], (void *)t) < 0) {
				uint32_t tmp = order[0];

				order[0] = order[i];
				order[i] = tmp;
				worst_sift_down(t, order, n, 0);
			}
		}
	}
	qsort_r(order, n, sizeof(*order), rank_cmp, (void *)t);
}
