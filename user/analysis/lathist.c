// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Log-linear latency histogram; see lathist.h for the layout and states.
 *
 * Bucket index. Let u = ns >> 4 (16 ns units). For u < 64 the bucket is u
 * (linear range, 16 ns wide). Otherwise let e = floor(log2 u), 6 <= e <= 35;
 * [2^e, 2^(e+1)) is cut into 64 sub-buckets of width 2^(e-6) units and
 *	bucket = (e - 5) * 64 + (u >> (e - 6)) - 64.
 * e = 6 gives buckets 64..127, e = 35 gives 1920..1983; u >= 2^36 goes to
 * 1983 (clamped).
 *
 * Error bound of a reported percentile. Let v be the value of rank r and
 * [L, U] (ns, inclusive) its bucket. We report R = min(U, max); since
 * v <= max and v <= U, v <= R <= U, so 0 <= R - v <= U - L = W - 1 < W,
 * where W is the bucket width in ns.
 *  - Log range (v >= 1024 ns): with e as above, L >= 2^e units and
 *    W = 2^(e-6) units, so W <= L / 64 <= v / 64 and
 *	0 <= (R - v) / v < 1/64 = 1.5625% < 2%.
 *  - Linear range (v < 1024 ns): W = 16 ns, so R - v <= 15 ns: under 2%
 *    for v >= 750 ns, under 1.5% from 1 us. Below that only the absolute
 *    error (< 16 ns) is meaningful, which is far below what a DNS exchange
 *    can measure.
 *  - Top bucket: U is unbounded, so R = max, still >= v.
 * The error is one-sided: a percentile is never under-reported. Reporting
 * the bucket midpoint would halve the bound but could under-report.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/lathist.h"

_Static_assert(sizeof(struct lathist) == 64, "struct lathist is one cache line");
_Static_assert(LATHIST_BUCKETS == 1984, "bucket count documented in lathist.h");
_Static_assert(LATHIST_BUCKETS - 1 <= UINT16_MAX, "bucket numbers fit the slots");
_Static_assert(LATHIST_SPARSE_MAX < LATHIST_CAP_DENSE, "dense marker is not a capacity");

uint32_t lathist_bucket_of(uint64_t ns)
{
	uint64_t u = ns >> LATHIST_UNIT_SHIFT;
	unsigned int e;

	if (u < LATHIST_SUB_COUNT)
		return (uint32_t)u;
	e = 63 - (unsigned int)__builtin_clzll(u);
	if (e > LATHIST_TOP_EXP)
		return LATHIST_BUCKETS - 1;
	return (e - LATHIST_SUB_BITS + 1) * LATHIST_SUB_COUNT +
	       (uint32_t)(u >> (e - LATHIST_SUB_BITS)) - LATHIST_SUB_COUNT;
}

uint64_t lathist_bucket_lower(uint32_t bucket)
{
	uint32_t octave = bucket / LATHIST_SUB_COUNT; /* 0: the linear range */
	uint64_t sub = bucket % LATHIST_SUB_COUNT;

	if (bucket >= LATHIST_BUCKETS)
		return UINT64_MAX;
	if (octave == 0)
		return sub << LATHIST_UNIT_SHIFT;
	return ((LATHIST_SUB_COUNT + sub) << (octave - 1)) << LATHIST_UNIT_SHIFT;
}

uint64_t lathist_bucket_upper(uint32_t bucket)
{
	if (bucket >= LATHIST_BUCKETS - 1)
		return UINT64_MAX;
	return lathist_bucket_lower(bucket + 1) - 1;
}

void lathist_init(struct lathist *h)
{
	memset(h, 0, sizeof(*h));
}

static bool is_dense(const struct lathist *h)
{
	return h->cap == LATHIST_CAP_DENSE;
}

void lathist_free(struct lathist *h)
{
	if (is_dense(h))
		free(h->dense);
	else if (h->cap != 0)
		free(h->sparse);
	lathist_init(h);
}

void lathist_reset(struct lathist *h)
{
	h->count = 0;
	h->min_ns = 0;
	h->max_ns = 0;
	h->lost = 0;
	h->nslots = 0;
	if (is_dense(h))
		memset(h->dense, 0, LATHIST_BUCKETS * sizeof(*h->dense));
}

enum lathist_state lathist_state(const struct lathist *h)
{
	if (h->cap == 0)
		return LATHIST_STATE_INLINE;
	return is_dense(h) ? LATHIST_STATE_DENSE : LATHIST_STATE_SPARSE;
}

size_t lathist_heap_bytes(const struct lathist *h)
{
	if (h->cap == 0)
		return 0;
	if (is_dense(h))
		return LATHIST_BUCKETS * sizeof(*h->dense);
	return h->cap * sizeof(struct lathist_slot);
}

uint64_t lathist_count(const struct lathist *h)
{
	return h->count;
}

uint64_t lathist_lost(const struct lathist *h)
{
	return h->lost;
}

uint64_t lathist_min(const struct lathist *h)
{
	return h->count ? h->min_ns : 0;
}

uint64_t lathist_max(const struct lathist *h)
{
	return h->count ? h->max_ns : 0;
}

static void add_lost(struct lathist *h, uint64_t n)
{
	h->lost = n >= UINT32_MAX - h->lost ? UINT32_MAX : h->lost + (uint32_t)n;
}

/* Adds n to a bucket counter; what does not fit is lost. */
static int add_saturating(struct lathist *h, uint32_t *counter, uint32_t n)
{
	uint32_t room = UINT32_MAX - *counter;

	if (n > room) {
		*counter = UINT32_MAX;
		add_lost(h, n - room);
		return -EOVERFLOW;
	}
	*counter += n;
	return 0;
}

static struct lathist_slot *slots_of(struct lathist *h)
{
	return h->cap == 0 ? h->inl : h->sparse;
}

static const struct lathist_slot *const_slots_of(const struct lathist *h)
{
	return h->cap == 0 ? h->inl : h->sparse;
}

static uint32_t slot_capacity(const struct lathist *h)
{
	return h->cap == 0 ? LATHIST_INLINE : h->cap;
}

/* Index of the first slot whose bucket is >= bucket. */
static uint32_t slot_search(const struct lathist_slot *slots, uint32_t n, uint32_t bucket)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (slots[mid].bucket < bucket)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int to_dense(struct lathist *h)
{
	uint32_t *dense = calloc(LATHIST_BUCKETS, sizeof(*dense));
	const struct lathist_slot *slots = const_slots_of(h);

	if (!dense)
		return -ENOMEM;
	for (uint32_t i = 0; i < h->nslots; i++)
		dense[slots[i].bucket] = slots[i].count;
	if (h->cap != 0)
		free(h->sparse);
	h->dense = dense;
	h->cap = LATHIST_CAP_DENSE;
	h->nslots = 0;
	return 0;
}

/* Room for one more slot: inline -> sparse, sparse x2, or sparse -> dense. */
static int grow(struct lathist *h)
{
	struct lathist_slot *slots;
	uint32_t cap;

	if (h->cap >= LATHIST_SPARSE_MAX)
		return to_dense(h);
	cap = h->cap == 0 ? LATHIST_SPARSE_MIN : 2u * h->cap;
	if (h->cap == 0) {
		slots = malloc(cap * sizeof(*slots));
		if (slots)
			memcpy(slots, h->inl, h->nslots * sizeof(*slots));
	} else {
		slots = realloc(h->sparse, cap * sizeof(*slots));
	}
	if (!slots)
		return -ENOMEM;
	h->sparse = slots;
	h->cap = (uint16_t)cap;
	return 0;
}

/* Adds n values to one bucket, in whatever state h is. */
static int add_to_bucket(struct lathist *h, uint32_t bucket, uint32_t n)
{
	struct lathist_slot *slots;
	uint32_t i;
	int err;

	if (is_dense(h))
		return add_saturating(h, &h->dense[bucket], n);
	slots = slots_of(h);
	i = slot_search(slots, h->nslots, bucket);
	if (i < h->nslots && slots[i].bucket == bucket)
		return add_saturating(h, &slots[i].count, n);
	if (h->nslots == slot_capacity(h)) {
		err = grow(h);
		if (err) {
			add_lost(h, n);
			return err;
		}
		if (is_dense(h))
			return add_saturating(h, &h->dense[bucket], n);
		slots = slots_of(h);
	}
	memmove(&slots[i + 1], &slots[i], (h->nslots - i) * sizeof(*slots));
	slots[i].bucket = bucket;
	slots[i].count = n;
	h->nslots++;
	return 0;
}

int lathist_record(struct lathist *h, uint64_t ns)
{
	if (h->count == 0 || ns < h->min_ns)
		h->min_ns = ns;
	if (h->count == 0 || ns > h->max_ns)
		h->max_ns = ns;
	h->count++;
	return add_to_bucket(h, lathist_bucket_of(ns), 1);
}

/* Walks the non-empty buckets of any state in ascending order. */
struct bucket_cursor {
	const struct lathist *h;
	uint32_t next; /* slot index, or bucket number when dense */
};

static bool cursor_next(struct bucket_cursor *c, uint32_t *bucket, uint32_t *count)
{
	const struct lathist *h = c->h;

	if (is_dense(h)) {
		while (c->next < LATHIST_BUCKETS && h->dense[c->next] == 0)
			c->next++;
		if (c->next >= LATHIST_BUCKETS)
			return false;
		*bucket = c->next;
		*count = h->dense[c->next++];
		return true;
	}
	if (c->next >= h->nslots)
		return false;
	*bucket = const_slots_of(h)[c->next].bucket;
	*count = const_slots_of(h)[c->next++].count;
	return true;
}

uint32_t lathist_bucket_count(const struct lathist *h, uint32_t bucket)
{
	const struct lathist_slot *slots;
	uint32_t i;

	if (bucket >= LATHIST_BUCKETS)
		return 0;
	if (is_dense(h))
		return h->dense[bucket];
	slots = const_slots_of(h);
	i = slot_search(slots, h->nslots, bucket);
	return i < h->nslots && slots[i].bucket == bucket ? slots[i].count : 0;
}

int lathist_merge(struct lathist *dst, const struct lathist *src)
{
	/* Read src's totals first: dst may be src. */
	uint64_t count = src->count, min_ns = src->min_ns, max_ns = src->max_ns;
	uint32_t lost = src->lost;
	struct bucket_cursor c = {.h = src};
	uint32_t bucket, n;
	int ret = 0;

	if (count == 0)
		return 0;
	if (dst->count == 0 || min_ns < dst->min_ns)
		dst->min_ns = min_ns;
	if (dst->count == 0 || max_ns > dst->max_ns)
		dst->max_ns = max_ns;
	dst->count += count;
	add_lost(dst, lost);
	/* Adding to an existing bucket never moves slots, so dst == src is safe. */
	while (cursor_next(&c, &bucket, &n)) {
		int err = add_to_bucket(dst, bucket, n);

		if (err && !ret)
			ret = err;
	}
	return ret;
}

static uint64_t stored_count(const struct lathist *h)
{
	struct bucket_cursor c = {.h = h};
	uint32_t bucket, n;
	uint64_t sum = 0;

	while (cursor_next(&c, &bucket, &n))
		sum += n;
	return sum;
}

/* The 1-based rank of percentile p among n values: ceil(p/100 * n) in [1, n]. */
static uint64_t rank_of(double p, uint64_t n)
{
	double x = p * (double)n / 100.0; /* exact for integer p: 7 * n / 100, not 0.07 * n */
	uint64_t r;

	if (!(x > 0)) /* also NaN */
		return 1;
	if (x >= (double)n)
		return n;
	r = (uint64_t)x;
	if ((double)r < x)
		r++;
	return r ? r : 1;
}

/* The reported value for a bucket: its upper edge, never above the max. */
static uint64_t report(const struct lathist *h, uint32_t bucket)
{
	uint64_t upper = lathist_bucket_upper(bucket);

	return upper < h->max_ns ? upper : h->max_ns;
}

/* Exact answers that need no walk: empty, p <= 0, p >= 100, nothing stored. */
static bool percentile_exact(const struct lathist *h, double p, uint64_t stored, uint64_t *out)
{
	if (h->count == 0) {
		*out = 0;
		return true;
	}
	if (!(p > 0)) {
		*out = h->min_ns;
		return true;
	}
	if (p >= 100 || stored == 0) {
		*out = h->max_ns;
		return true;
	}
	return false;
}

void lathist_percentiles(const struct lathist *h, const double *ps, uint64_t *out, size_t n)
{
	uint64_t stored = stored_count(h), seen = 0;
	struct bucket_cursor c = {.h = h};
	uint32_t bucket = 0, count;
	size_t i;

	for (i = 1; i < n; i++) {
		if (!(ps[i] >= ps[i - 1])) { /* unsorted or NaN: one walk each */
			for (i = 0; i < n; i++)
				out[i] = lathist_percentile(h, ps[i]);
			return;
		}
	}
	for (i = 0; i < n; i++) {
		uint64_t rank;

		if (percentile_exact(h, ps[i], stored, &out[i]))
			continue;
		rank = rank_of(ps[i], stored);
		while (seen < rank && cursor_next(&c, &bucket, &count))
			seen += count;
		out[i] = report(h, bucket);
	}
}

uint64_t lathist_percentile(const struct lathist *h, double p)
{
	uint64_t out;

	lathist_percentiles(h, &p, &out, 1);
	return out;
}
