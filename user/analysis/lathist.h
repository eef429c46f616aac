/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Latency histogram, HDR-histogram style, for the statistics tables: one
 * per process, peer, name and pair entry, so up to 100000 per table, most
 * of which see only a few responses. It gives the exact count, min and
 * max, and percentiles that are never low and at most 1/64 = 1.56% high
 * from 1024 ns up (under 2% from 750 ns; under 16 ns below), see
 * lathist.c for the proof; two histograms merge exactly.
 *
 * Buckets (values in ns): below 1024 ns, 64 linear buckets 16 ns wide;
 * then each power of two [2^e, 2^(e+1)) ns, e = 10 .. 39, is split into
 * 64 linear sub-buckets. That is 1984 buckets covering 0 .. 2^40 - 1 ns
 * (18.3 minutes). Smaller values land in the lowest buckets (0 ns in
 * bucket 0); larger ones are clamped into the top bucket (they are
 * counted, and max stays exact).
 *
 * Memory, by state (x86-64; the state changes only upwards until free):
 *  - inline: 64 bytes, no heap. Holds up to LATHIST_INLINE (4) distinct
 *    buckets, however many values fall into them. An all-zero struct is
 *    an empty histogram, so calloc'ed table entries need no init call.
 *  - sparse: 64 bytes + 8 per slot on the heap, sorted (bucket, count)
 *    pairs; capacity doubles 8 .. LATHIST_SPARSE_MAX (256), so at most
 *    64 + 2048 bytes.
 *  - dense: 64 bytes + 1984 x 4 = 7936 bytes on the heap (8000 in all);
 *    recording is O(1).
 * Recording never allocates in the inline state; leaving it (5th distinct
 * bucket), growing the sparse array and going dense do.
 *
 * Counts are uint32 per bucket and uint64 in total. A value that cannot
 * be stored (out of memory, or a bucket already at UINT32_MAX) is still
 * counted in lathist_count(), min and max, and in lathist_lost(); the
 * percentiles are then taken over the values that were stored.
 *
 * A struct lathist owns its heap part: do not copy one by assignment (the
 * two would share and double-free it); merge into an empty one instead.
 */
#ifndef DNSSNOOP_LATHIST_H
#define DNSSNOOP_LATHIST_H

#include <stddef.h>
#include <stdint.h>

#define LATHIST_UNIT_SHIFT 4 /* the linear range's buckets are 16 ns wide */
#define LATHIST_SUB_BITS   6 /* 64 sub-buckets per power of two */
#define LATHIST_SUB_COUNT  (1u << LATHIST_SUB_BITS)
#define LATHIST_TOP_EXP	   35 /* highest power of two, in 16 ns units */
#define LATHIST_BUCKETS	   ((LATHIST_TOP_EXP - LATHIST_SUB_BITS + 2) * LATHIST_SUB_COUNT)
/* Values above this are clamped into the top bucket: 2^40 - 1 ns. */
#define LATHIST_MAX_TRACKED ((1ull << (LATHIST_TOP_EXP + 1 + LATHIST_UNIT_SHIFT)) - 1)

#define LATHIST_INLINE	   4
#define LATHIST_SPARSE_MIN 8 /* first heap capacity, in slots */
#define LATHIST_SPARSE_MAX 256
#define LATHIST_CAP_DENSE  0xffff

/* A bucket and how many values it holds (sparse and inline states). */
struct lathist_slot {
	uint32_t bucket;
	uint32_t count;
};

enum lathist_state { LATHIST_STATE_INLINE, LATHIST_STATE_SPARSE, LATHIST_STATE_DENSE };

/* Treat as opaque; it is public only so it can be embedded (64 bytes). */
struct lathist {
	uint64_t count; /* every value recorded, stored or not */
	uint64_t min_ns; /* valid when count > 0 */
	uint64_t max_ns;
	uint32_t lost; /* values counted but not stored (saturates) */
	uint16_t nslots; /* slots in use (inline and sparse states) */
	uint16_t cap; /* 0: inline; LATHIST_CAP_DENSE: dense; else sparse capacity */
	union {
		struct lathist_slot inl[LATHIST_INLINE];
		struct lathist_slot *sparse;
		uint32_t *dense; /* LATHIST_BUCKETS counts */
	};
};

/* An empty histogram (the same as all-zero bytes). Allocates nothing. */
void lathist_init(struct lathist *h);

/* Releases the heap part; h is left empty (inline) and reusable. */
void lathist_free(struct lathist *h);

/* Empties h but keeps its heap arrays, for the next interval. */
void lathist_reset(struct lathist *h);

/*
 * Records one value. Returns 0, -ENOMEM when growing failed, or -EOVERFLOW
 * when its bucket is full; in both error cases the value still counts in
 * count/min/max/lost, and later calls retry the growth.
 */
int lathist_record(struct lathist *h, uint64_t ns);

/* Adds src's values to dst (dst == src doubles it). Errors as for record. */
int lathist_merge(struct lathist *dst, const struct lathist *src);

uint64_t lathist_count(const struct lathist *h);
uint64_t lathist_lost(const struct lathist *h);
uint64_t lathist_min(const struct lathist *h); /* exact; 0 when empty */
uint64_t lathist_max(const struct lathist *h); /* exact; 0 when empty */

/*
 * The value at percentile p in [0, 100] (clamped; NaN counts as 0): the
 * rank r = ceil(p/100 * n) (at least 1) value v, reported as the upper edge
 * of v's bucket, capped at the exact max. So v <= result < v * (1 + 1/64)
 * for v >= 1024 ns, and result - v < 16 ns below. p = 0 and p = 100 give
 * the exact min and max. 0 when empty.
 */
uint64_t lathist_percentile(const struct lathist *h, double p);

/*
 * Several percentiles in one pass over the buckets: ps[0..n) must be
 * ascending (otherwise each is computed on its own); out[i] is
 * lathist_percentile(h, ps[i]).
 */
void lathist_percentiles(const struct lathist *h, const double *ps, uint64_t *out, size_t n);

enum lathist_state lathist_state(const struct lathist *h);

/* Heap bytes held (0 inline); add sizeof(struct lathist) for the total. */
size_t lathist_heap_bytes(const struct lathist *h);

/* The bucket layout, for tests and for documenting the output. */
uint32_t lathist_bucket_of(uint64_t ns);
uint64_t lathist_bucket_lower(uint32_t bucket); /* smallest ns in the bucket */
uint64_t lathist_bucket_upper(uint32_t bucket); /* largest ns; UINT64_MAX for the top */
uint32_t lathist_bucket_count(const struct lathist *h, uint32_t bucket);

#endif
