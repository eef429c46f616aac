// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * HyperLogLog; see hll.h for the precision, states and memory.
 *
 * Dense: a key's 64-bit hash x gives a register, its top p = 12 bits, and
 * a rank, the position of the first 1 bit in the remaining 52 bits (1 ..
 * 53; 53 when they are all zero). Each register keeps the largest rank.
 *
 * Sparse: a word per distinct 25-bit prefix of x (idx25), with the rank of
 * the 39 bits after it (1 .. 40), largest kept. A word determines the
 * dense register it feeds: register idx25 >> 13, and rank from the 13
 * bits between the prefixes if any is set, else 13 + the stored rank. So
 * a sparse sketch converts to exactly the dense sketch the same keys would
 * have built, and merging in either state gives the same registers as
 * adding the union of the keys.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/hll.h"

#define RANK_MAX	(64 - HLL_P + 1) /* dense ranks are 0 .. 53 */
#define GAP_BITS	(HLL_SPARSE_P - HLL_P) /* 13 bits between the prefixes */
#define SPARSE_RANK_MAX (64 - HLL_SPARSE_P + 1)
#define WORD(idx25, r)	((uint32_t)(idx25) << 6 | (uint32_t)(r))
#define WORD_IDX(w)	((w) >> 6)
#define WORD_RANK(w)	((w)&0x3f)

_Static_assert(sizeof(struct hll) == 16, "struct hll size documented in hll.h");
_Static_assert(HLL_SPARSE_MAX < HLL_CAP_DENSE, "dense marker is not a capacity");
_Static_assert(HLL_SPARSE_MAX * sizeof(uint32_t) < HLL_M, "sparse stays smaller than dense");
_Static_assert(HLL_SPARSE_P + 6 <= 32 && SPARSE_RANK_MAX < 64, "a sparse word fits 32 bits");
_Static_assert(GAP_BITS + SPARSE_RANK_MAX == RANK_MAX, "sparse ranks cover the dense ones");

void hll_init(struct hll *h)
{
	memset(h, 0, sizeof(*h));
}

static bool is_dense(const struct hll *h)
{
	return h->cap == HLL_CAP_DENSE;
}

void hll_free(struct hll *h)
{
	/* sparse and regs share the pointer; NULL when empty. */
	free(is_dense(h) ? (void *)h->regs : (void *)h->sparse);
	hll_init(h);
}

size_t hll_heap_bytes(const struct hll *h)
{
	if (is_dense(h))
		return HLL_M;
	return h->cap * sizeof(uint32_t);
}

/* The dense register and rank a sparse word feeds. */
static uint32_t word_register(uint32_t w)
{
	return WORD_IDX(w) >> GAP_BITS;
}

static uint8_t word_dense_rank(uint32_t w)
{
	uint32_t gap = WORD_IDX(w) & ((1u << GAP_BITS) - 1);

	if (gap)
		return (uint8_t)(GAP_BITS - (31 - __builtin_clz(gap)));
	return (uint8_t)(GAP_BITS + WORD_RANK(w));
}

/* Where idx25 would sit among n sorted words if the indexes were spread evenly. */
static uint32_t sparse_guess(uint32_t n, uint32_t idx25)
{
	return (uint32_t)(((uint64_t)idx25 * n) >> HLL_SPARSE_P);
}

/*
 * Index of the first sparse word whose 25-bit index is >= idx25. The
 * indexes are hash bits, spread evenly, so the answer is near
 * sparse_guess() (within sqrt(n) / 2 words, one standard deviation):
 * bracket it there with one more probe two to three deviations away, then
 * bisect the bracket: about two probes fewer than bisecting the whole
 * array, in two or three cache lines around the guess rather than about
 * six across a cold 2 KiB array. When the bracket misses, the rest of the
 * array is bisected: crafted keys cost at most two probes more than a
 * plain bisection.
 */
static uint32_t sparse_search(const struct hll *h, uint32_t idx25)
{
	uint32_t n = h->nsparse, lo = 0, hi = n;
	uint32_t g = sparse_guess(n, idx25);
	uint32_t w = 1u << ((33 - __builtin_clz(n | 1)) / 2); /* about 2 sqrt(n) */

	/* Invariant: words before lo are < idx25, words from hi on are >= idx25. */
	if (n > 2 * w) {
		if (WORD_IDX(h->sparse[g]) < idx25) {
			lo = g + 1;
			if (g + w < n) {
				if (WORD_IDX(h->sparse[g + w]) >= idx25)
					hi = g + w;
				else
					lo = g + w + 1;
			}
		} else {
			hi = g;
			if (g >= w) {
				if (WORD_IDX(h->sparse[g - w]) < idx25)
					lo = g - w + 1;
				else
					hi = g - w;
			}
		}
	}
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (WORD_IDX(h->sparse[mid]) < idx25)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void dense_set(uint8_t *regs, uint32_t idx, uint8_t rank)
{
	if (regs[idx] < rank)
		regs[idx] = rank;
}

static int to_dense(struct hll *h)
{
	uint8_t *regs = calloc(HLL_M, 1);

	if (!regs)
		return -ENOMEM;
	for (uint32_t i = 0; i < h->nsparse; i++)
		dense_set(regs, word_register(h->sparse[i]), word_dense_rank(h->sparse[i]));
	free(h->sparse);
	h->regs = regs;
	h->cap = HLL_CAP_DENSE;
	h->nsparse = 0;
	return 0;
}

/* Room for one more sparse word: first allocation, doubling, or dense. */
static int grow(struct hll *h)
{
	uint32_t cap = h->cap == 0 ? HLL_SPARSE_MIN : 2u * h->cap;
	uint32_t *words;

	if (h->cap >= HLL_SPARSE_MAX)
		return to_dense(h);
	words = realloc(h->sparse, cap * sizeof(*words));
	if (!words)
		return -ENOMEM;
	h->sparse = words;
	h->cap = (uint16_t)cap;
	return 0;
}

/* Adds one sparse word (idx25, rank) to h, in whatever state h is. */
static int add_word(struct hll *h, uint32_t w)
{
	uint32_t idx25 = WORD_IDX(w), i;
	int err;

	if (is_dense(h)) {
		dense_set(h->regs, word_register(w), word_dense_rank(w));
		return 0;
	}
	i = sparse_search(h, idx25);
	if (i < h->nsparse && WORD_IDX(h->sparse[i]) == idx25) {
		if (WORD_RANK(h->sparse[i]) < WORD_RANK(w))
			h->sparse[i] = w;
		return 0;
	}
	if (h->nsparse == h->cap) {
		err = grow(h);
		if (err)
			return err;
		if (is_dense(h))
			return add_word(h, w);
	}
	memmove(&h->sparse[i + 1], &h->sparse[i], (h->nsparse - i) * sizeof(*h->sparse));
	h->sparse[i] = w;
	h->nsparse++;
	return 0;
}

int hll_add_hash(struct hll *h, uint64_t hash)
{
	uint64_t x = hash_mix64(hash);
	uint64_t rest = x << HLL_SPARSE_P;
	uint32_t rank = rest ? (uint32_t)__builtin_clzll(rest) + 1 : SPARSE_RANK_MAX;

	if (is_dense(h)) {
		/* What add_word() would store, without building the word. */
		uint64_t after = x << HLL_P;

		dense_set(h->regs, (uint32_t)(x >> (64 - HLL_P)),
			  after ? (uint8_t)(__builtin_clzll(after) + 1) : RANK_MAX);
		return 0;
	}
	return add_word(h, WORD(x >> (64 - HLL_SPARSE_P), rank));
}

int hll_add(struct hll *h, const void *key, size_t len)
{
	return hll_add_hash(h, hll_hash(key, len));
}

int hll_merge(struct hll *dst, const struct hll *src)
{
	int ret = 0;

	if (dst == src)
		return 0;
	if (!is_dense(src)) {
		for (uint32_t i = 0; i < src->nsparse; i++) {
			int err = add_word(dst, src->sparse[i]);

			if (err && !ret)
				ret = err;
		}
		return ret;
	}
	if (!is_dense(dst)) {
		ret = to_dense(dst);
		if (ret)
			return ret;
	}
	for (uint32_t i = 0; i < HLL_M; i++)
		dense_set(dst->regs, i, src->regs[i]);
	return 0;
}

unsigned int hll_register(const struct hll *h, uint32_t idx)
{
	unsigned int rank = 0;

	if (idx >= HLL_M)
		return 0;
	if (is_dense(h))
		return h->regs[idx];
	for (uint32_t i = sparse_search(h, idx << GAP_BITS);
	     i < h->nsparse && word_register(h->sparse[i]) == idx; i++)
		if (word_dense_rank(h->sparse[i]) > rank)
			rank = word_dense_rank(h->sparse[i]);
	return rank;
}

/* Ertl's sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1), for x = zero registers / m. */
static double ertl_sigma(double x)
{
	double y = 1, z = x, prev;

	if (x == 1)
		return INFINITY;
	do {
		x *= x;
		prev = z;
		z += x * y;
		y += y;
	} while (z != prev);
	return z;
}

/* Ertl's tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3, for the top rank. */
static double ertl_tau(double x)
{
	double y = 1, z = 1 - x, prev;

	if (x == 0 || x == 1)
		return 0;
	do {
		x = sqrt(x);
		prev = z;
		y *= 0.5;
		z -= (1 - x) * (1 - x) * y;
	} while (z != prev);
	return z / 3;
}

/* The improved estimator from the histogram of the dense ranks. */
static double dense_estimate(const uint8_t *regs)
{
	const double m = HLL_M;
	uint32_t counts[RANK_MAX + 1] = {0};
	double z;

	for (uint32_t i = 0; i < HLL_M; i++)
		counts[regs[i]]++;
	if (counts[0] == HLL_M)
		return 0;
	z = m * ertl_tau(1 - counts[RANK_MAX] / m);
	for (int k = RANK_MAX - 1; k >= 1; k--)
		z = 0.5 * (z + counts[k]);
	z += m * ertl_sigma(counts[0] / m);
	return m * m / (2 * M_LN2 * z);
}

/* Linear counting over the 2^25 cells of the sparse words. */
static double sparse_estimate(const struct hll *h)
{
	const double cells = (double)(1u << HLL_SPARSE_P);

	return cells * log(cells / (cells - h->nsparse));
}

double hll_estimate(const struct hll *h)
{
	return is_dense(h) ? dense_estimate(h->regs) : sparse_estimate(h);
}
