// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for the latency histogram (user/analysis/lathist.c). Expected bucket
 * edges are worked out by hand from the layout in lathist.h:
 *   u = ns >> 4; u < 64: bucket u; else e = floor(log2 u),
 *   bucket = (e - 5) * 64 + (u >> (e - 6)) - 64, width 2^(e-6) units of 16 ns.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/lathist.h"

#define US 1000ull
#define MS (1000 * US)
#define S  (1000 * MS)

/* v <= got < v * (1 + 1/64): the documented one-sided bound, which is < 2%. */
static void assert_within_bound(uint64_t got, uint64_t v)
{
	assert_true(got >= v);
	assert_true((got - v) * 64 < v);
	assert_true((double)(got - v) < 0.02 * (double)v);
}

static void assert_same_buckets(const struct lathist *a, const struct lathist *b)
{
	for (uint32_t i = 0; i < LATHIST_BUCKETS; i++)
		assert_int_equal(lathist_bucket_count(a, i), lathist_bucket_count(b, i));
	assert_int_equal(lathist_count(a), lathist_count(b));
	assert_int_equal(lathist_min(a), lathist_min(b));
	assert_int_equal(lathist_max(a), lathist_max(b));
}

static void assert_same_percentiles(const struct lathist *a, const struct lathist *b)
{
	for (double p = 0; p <= 100; p += 0.5)
		assert_int_equal(lathist_percentile(a, p), lathist_percentile(b, p));
}

/* A deterministic latency between lo and hi ns, spread log-uniformly-ish. */
static uint64_t pseudo_latency(uint64_t *state, uint64_t lo, uint64_t hi)
{
	uint64_t x;

	*state = *state * 6364136223846793005ull + 1442695040888963407ull;
	x = *state >> 33;
	return lo + (x * x % (hi - lo)) / ((x % 7) + 1);
}

static void test_empty(void **unused)
{
	struct lathist h;

	lathist_init(&h);
	assert_int_equal(sizeof(struct lathist), 64);
	assert_int_equal(lathist_count(&h), 0);
	assert_int_equal(lathist_min(&h), 0);
	assert_int_equal(lathist_max(&h), 0);
	assert_int_equal(lathist_percentile(&h, 50), 0);
	assert_int_equal(lathist_state(&h), LATHIST_STATE_INLINE);
	assert_int_equal(lathist_heap_bytes(&h), 0);
	lathist_free(&h);
}

/* All-zero bytes (a calloc'ed table entry) is a usable empty histogram. */
static void test_zeroed_struct_is_empty(void **unused)
{
	struct lathist h;

	memset(&h, 0, sizeof(h));
	assert_int_equal(lathist_record(&h, 5 * US), 0);
	assert_int_equal(lathist_count(&h), 1);
	assert_int_equal(lathist_min(&h), 5 * US);
	assert_int_equal(lathist_max(&h), 5 * US);
	lathist_free(&h);
}

static void test_bucket_edges(void **unused)
{
	/* Linear range: 16 ns buckets. */
	assert_int_equal(lathist_bucket_of(0), 0);
	assert_int_equal(lathist_bucket_of(15), 0);
	assert_int_equal(lathist_bucket_of(16), 1);
	assert_int_equal(lathist_bucket_of(1023), 63);
	/* First octave [1024, 2048) ns: 64 buckets 16 ns wide. */
	assert_int_equal(lathist_bucket_of(1024), 64);
	assert_int_equal(lathist_bucket_lower(64), 1024);
	assert_int_equal(lathist_bucket_upper(64), 1039);
	assert_int_equal(lathist_bucket_of(2047), 127);
	/* Second octave: 32 ns wide. */
	assert_int_equal(lathist_bucket_of(2048), 128);
	assert_int_equal(lathist_bucket_upper(128), 2079);
	/* 500 us: u = 31250, e = 14, 31250 >> 8 = 122: bucket 9*64 + 58 = 634,
	 * units [122*256, 123*256) = ns [499712, 503808). */
	assert_int_equal(lathist_bucket_of(500 * US), 634);
	assert_int_equal(lathist_bucket_lower(634), 499712);
	assert_int_equal(lathist_bucket_upper(634), 503807);
	/* Top: bucket 1983 starts at 127 << 29 units = 127 * 2^33 ns. */
	assert_int_equal(lathist_bucket_lower(LATHIST_BUCKETS - 1), 127ull << 33);
	assert_int_equal(lathist_bucket_of(LATHIST_MAX_TRACKED), LATHIST_BUCKETS - 1);
	assert_int_equal(lathist_bucket_upper(LATHIST_BUCKETS - 1), UINT64_MAX);
	/* 10 minutes is inside the tracked range, not clamped. */
	assert_true(lathist_bucket_of(600 * S) < LATHIST_BUCKETS - 1);
	assert_int_equal(LATHIST_MAX_TRACKED, (1ull << 40) - 1);
}

/* The buckets tile 0 .. 2^40 - 1 and are at most 1/64 of their lower edge wide. */
static void test_bucket_tiling_and_width(void **unused)
{
	for (uint32_t b = 0; b + 1 < LATHIST_BUCKETS; b++) {
		uint64_t lo = lathist_bucket_lower(b), hi = lathist_bucket_upper(b);

		assert_int_equal(hi + 1, lathist_bucket_lower(b + 1));
		assert_int_equal(lathist_bucket_of(lo), b);
		assert_int_equal(lathist_bucket_of(hi), b);
		if (lo >= 1024)
			assert_true((hi - lo + 1) * 64 <= lo);
		else
			assert_int_equal(hi - lo + 1, 16);
	}
}

static void test_single_value(void **unused)
{
	struct lathist h;

	lathist_init(&h);
	assert_int_equal(lathist_record(&h, 12345), 0);
	assert_int_equal(lathist_count(&h), 1);
	assert_int_equal(lathist_min(&h), 12345);
	assert_int_equal(lathist_max(&h), 12345);
	/* The bucket's upper edge (12415) is capped at the exact max. */
	assert_int_equal(lathist_percentile(&h, 0), 12345);
	assert_int_equal(lathist_percentile(&h, 1), 12345);
	assert_int_equal(lathist_percentile(&h, 50), 12345);
	assert_int_equal(lathist_percentile(&h, 99), 12345);
	assert_int_equal(lathist_percentile(&h, 100), 12345);
	lathist_free(&h);
}

/* 1 .. 1000 us in a scrambled order: rank r holds r us exactly. */
static void test_1_to_1000_us(void **unused)
{
	struct lathist h;

	lathist_init(&h);
	for (uint64_t i = 0; i < 1000; i++)
		assert_int_equal(lathist_record(&h, ((i * 337) % 1000 + 1) * US), 0);
	assert_int_equal(lathist_count(&h), 1000);
	assert_int_equal(lathist_min(&h), 1 * US);
	assert_int_equal(lathist_max(&h), 1000 * US);
	/* p50: rank 500 = 500 us, bucket [499712, 503807]. */
	assert_int_equal(lathist_percentile(&h, 50), 503807);
	/* p90: 900 us: u = 56250, e = 15, 56250 >> 9 = 109: [892928, 901119]. */
	assert_int_equal(lathist_percentile(&h, 90), 901119);
	/* p99: 990 us: u = 61875, e = 15, >> 9 = 120: [983040, 991231]. */
	assert_int_equal(lathist_percentile(&h, 99), 991231);
	/* p99.9: 999 us: u = 62437, >> 9 = 121: [991232, 999423]. */
	assert_int_equal(lathist_percentile(&h, 99.9), 999423);
	for (int p = 1; p < 100; p++)
		assert_within_bound(lathist_percentile(&h, p), (uint64_t)p * 10 * US);
	assert_int_equal(lathist_percentile(&h, 0), 1 * US);
	assert_int_equal(lathist_percentile(&h, 100), 1000 * US);
	/* Hundreds of distinct buckets: dense, 1984 x 4 bytes. */
	assert_int_equal(lathist_state(&h), LATHIST_STATE_DENSE);
	assert_int_equal(lathist_heap_bytes(&h), 7936);
	lathist_free(&h);
}

/* Ranks are ceil(p/100 * n): with 3 values p33 is rank 1, p34 and p50 rank 2. */
static void test_rank_rounding(void **unused)
{
	struct lathist h;

	lathist_init(&h);
	lathist_record(&h, 30 * US);
	lathist_record(&h, 10 * US);
	lathist_record(&h, 20 * US);
	/* 10 us: u = 625, e = 9, width 8 units, 625 >> 3 = 78: [9984, 10111]. */
	assert_int_equal(lathist_percentile(&h, 33), 10111);
	/* 20 us: u = 1250, e = 10, width 16 units, 1250 >> 4 = 78: [19968, 20223]. */
	assert_int_equal(lathist_percentile(&h, 34), 20223);
	assert_int_equal(lathist_percentile(&h, 50), 20223);
	/* Rank 3's bucket edge (30207) is capped at the max. */
	assert_int_equal(lathist_percentile(&h, 67), 30 * US);
	lathist_free(&h);
}

/*
 * Percentiles whose rank p * n / 100 is a whole number take that rank, not
 * the next: of 10, 20, 30, 40 us the 25th percentile is 10 us, the 50th
 * 20 us, the 75th 30 us; just past each, the next value. Of 1 .. 100 us,
 * the 7th percentile is 7 us (7 * 100 / 100 exactly, not 0.07 * 100).
 */
static void test_rank_exact_percentiles(void **unused)
{
	static const double ps[] = {25, 50, 75, 25.001, 50.001, 75.001};
	static const uint64_t want_us[] = {10, 20, 30, 20, 30, 40};
	struct lathist h;

	lathist_init(&h);
	for (uint64_t v = 10; v <= 40; v += 10)
		lathist_record(&h, v * US);
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		uint64_t got = lathist_percentile(&h, ps[i]);

		/* The value's bucket: never below it, at most 1/64 above. */
		assert_true(got >= want_us[i] * US &&
			    got <= want_us[i] * US + want_us[i] * US / 64);
	}
	lathist_free(&h);

	lathist_init(&h);
	for (uint64_t v = 1; v <= 100; v++)
		lathist_record(&h, v * US);
	for (int p = 1; p < 100; p++) {
		uint64_t got = lathist_percentile(&h, p);

		assert_true(got >= (uint64_t)p * US &&
			    got <= (uint64_t)p * US + (uint64_t)p * US / 64);
	}
	lathist_free(&h);
}

/* One value per decade from 1 us to 100 s, and 10 minutes. */
static void test_span_1us_to_10min(void **unused)
{
	static const uint64_t v[10] = {1 * US,	 10 * US, 100 * US, 1 * MS,  10 * MS,
				       100 * MS, 1 * S,	  10 * S,   100 * S, 600 * S};
	/* Upper edges of their buckets, from the formula in the file comment. */
	static const uint64_t upper[10] = {
		1007,	   10111,      100351,	    1007615,	     10092543,
		100663295, 1006632959, 10066329599, 100931731455ull, 601295421439ull};
	struct lathist h;

	lathist_init(&h);
	for (int i = 9; i >= 0; i--)
		assert_int_equal(lathist_record(&h, v[i]), 0);
	for (int i = 0; i < 10; i++) {
		uint64_t got = lathist_percentile(&h, 10.0 * (i + 1));

		assert_int_equal(got, i == 9 ? 600 * S : upper[i]);
		assert_within_bound(got, v[i]);
		assert_int_equal(lathist_bucket_count(&h, lathist_bucket_of(v[i])), 1);
	}
	assert_int_equal(lathist_min(&h), 1 * US);
	assert_int_equal(lathist_max(&h), 600 * S);
	/* Ten distinct buckets: sparse, second capacity (16 slots of 8 bytes). */
	assert_int_equal(lathist_state(&h), LATHIST_STATE_SPARSE);
	assert_int_equal(lathist_heap_bytes(&h), 128);
	lathist_free(&h);
}

static void test_min_max_exact(void **unused)
{
	struct lathist h;

	lathist_init(&h);
	lathist_record(&h, 1000003);
	lathist_record(&h, 57);
	lathist_record(&h, 999999999999ull);
	lathist_record(&h, 4242);
	assert_int_equal(lathist_min(&h), 57);
	assert_int_equal(lathist_max(&h), 999999999999ull);
	assert_int_equal(lathist_percentile(&h, 0), 57);
	assert_int_equal(lathist_percentile(&h, 100), 999999999999ull);
	/* Rank 4 is the max: its bucket edge is capped to the exact value. */
	assert_int_equal(lathist_percentile(&h, 99), 999999999999ull);
	lathist_free(&h);
}

static void test_out_of_range(void **unused)
{
	struct lathist h;
	const uint32_t top = LATHIST_BUCKETS - 1;

	lathist_init(&h);
	/* Above 2^40 - 1 ns: clamped into the top bucket, still counted. */
	lathist_record(&h, 1ull << 40);
	lathist_record(&h, 3600 * S);
	lathist_record(&h, UINT64_MAX);
	assert_int_equal(lathist_bucket_count(&h, top), 3);
	assert_int_equal(lathist_count(&h), 3);
	assert_int_equal(lathist_min(&h), 1ull << 40);
	assert_int_equal(lathist_max(&h), UINT64_MAX);
	/* The top bucket has no upper edge: it reports the exact max. */
	assert_int_equal(lathist_percentile(&h, 50), UINT64_MAX);
	lathist_free(&h);

	/* Below the 1 us range: exact counts in the lowest bucket. */
	lathist_record(&h, 0);
	lathist_record(&h, 1);
	lathist_record(&h, 15);
	assert_int_equal(lathist_bucket_count(&h, 0), 3);
	assert_int_equal(lathist_count(&h), 3);
	assert_int_equal(lathist_min(&h), 0);
	assert_int_equal(lathist_percentile(&h, 50), 15);
	lathist_free(&h);
}

/* Values at the lower edge of bucket (i * 17) % 311: 311 distinct buckets, out of order. */
static uint64_t transition_value(uint32_t i)
{
	return lathist_bucket_lower((i * 17) % 311);
}

static uint32_t transition_count(uint32_t i)
{
	return (i % 3) + 1;
}

static void assert_transition_counts(const struct lathist *h, uint32_t n)
{
	uint64_t total = 0;

	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(lathist_bucket_count(h, (i * 17) % 311), transition_count(i));
		total += transition_count(i);
	}
	assert_int_equal(lathist_count(h), total);
}

/* inline (4 buckets) -> sparse 8, 16, .. 256 slots -> dense, counts kept at each step. */
static void test_sparse_to_dense(void **unused)
{
	struct lathist h;

	lathist_init(&h);
	for (uint32_t i = 0; i < 311; i++) {
		for (uint32_t k = 0; k < transition_count(i); k++)
			assert_int_equal(lathist_record(&h, transition_value(i)), 0);
		if (i + 1 <= LATHIST_INLINE) {
			assert_int_equal(lathist_state(&h), LATHIST_STATE_INLINE);
			assert_int_equal(lathist_heap_bytes(&h), 0);
		} else if (i + 1 <= LATHIST_SPARSE_MAX) {
			assert_int_equal(lathist_state(&h), LATHIST_STATE_SPARSE);
			assert_true(lathist_heap_bytes(&h) >= (i + 1) * 8);
			assert_true(lathist_heap_bytes(&h) <= 2048);
		} else {
			assert_int_equal(lathist_state(&h), LATHIST_STATE_DENSE);
			assert_int_equal(lathist_heap_bytes(&h), 7936);
		}
		if (i + 1 == 4 || i + 1 == 5 || i + 1 == 8 || i + 1 == 9 || i + 1 == 256 ||
		    i + 1 == 257 || i + 1 == 311)
			assert_transition_counts(&h, i + 1);
	}
	assert_int_equal(lathist_min(&h), 0);
	assert_int_equal(lathist_max(&h), lathist_bucket_lower(310));
	lathist_free(&h);
	assert_int_equal(lathist_state(&h), LATHIST_STATE_INLINE);
	assert_int_equal(lathist_heap_bytes(&h), 0);
}

static void record_range(struct lathist *h, uint64_t seed, int n, uint64_t lo, uint64_t hi)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(lathist_record(h, pseudo_latency(&seed, lo, hi)), 0);
}

/*
 * merge(A, B) has the same buckets, count, min, max and percentiles as
 * recording A u B into one histogram, for each pair of states.
 */
static void check_merge(int na, enum lathist_state sa, int nb, enum lathist_state sb)
{
	struct lathist a, b, u;

	lathist_init(&a);
	lathist_init(&b);
	lathist_init(&u);
	record_range(&a, 1, na, 20 * US, 200 * MS);
	record_range(&b, 2, nb, 5 * US, 3 * S);
	assert_int_equal(lathist_state(&a), sa);
	assert_int_equal(lathist_state(&b), sb);
	record_range(&u, 1, na, 20 * US, 200 * MS);
	record_range(&u, 2, nb, 5 * US, 3 * S);
	assert_int_equal(lathist_merge(&a, &b), 0);
	assert_same_buckets(&a, &u);
	assert_same_percentiles(&a, &u);
	lathist_free(&a);
	lathist_free(&b);
	lathist_free(&u);
}

static void test_merge_equals_union(void **unused)
{
	static const int sizes[] = {0, 1, 3, 40, 3000};
	static const enum lathist_state states[] = {LATHIST_STATE_INLINE, LATHIST_STATE_INLINE,
						    LATHIST_STATE_INLINE, LATHIST_STATE_SPARSE,
						    LATHIST_STATE_DENSE};

	for (size_t i = 0; i < 5; i++)
		for (size_t j = 0; j < 5; j++)
			check_merge(sizes[i], states[i], sizes[j], states[j]);
}

/* Merging a histogram into itself doubles every bucket. */
static void test_merge_self(void **unused)
{
	struct lathist h, twice;

	lathist_init(&h);
	lathist_init(&twice);
	record_range(&h, 7, 50, 1 * MS, 50 * MS);
	record_range(&twice, 7, 50, 1 * MS, 50 * MS);
	record_range(&twice, 7, 50, 1 * MS, 50 * MS);
	assert_int_equal(lathist_merge(&h, &h), 0);
	assert_same_buckets(&h, &twice);
	lathist_free(&h);
	lathist_free(&twice);
}

/* A bucket past UINT32_MAX saturates; the total stays exact and the excess is lost. */
static void test_bucket_overflow(void **unused)
{
	struct lathist h;

	lathist_init(&h);
	lathist_record(&h, 3 * MS);
	for (int i = 0; i < 31; i++) /* 2^31 values in one bucket */
		assert_int_equal(lathist_merge(&h, &h), 0);
	assert_int_equal(lathist_merge(&h, &h), -EOVERFLOW);
	assert_int_equal(lathist_count(&h), 1ull << 32);
	assert_int_equal(lathist_bucket_count(&h, lathist_bucket_of(3 * MS)), UINT32_MAX);
	assert_int_equal(lathist_lost(&h), 1);
	assert_int_equal(lathist_percentile(&h, 50), 3 * MS);
	lathist_free(&h);
}

static void test_reset_keeps_memory(void **unused)
{
	struct lathist h;

	lathist_init(&h);
	record_range(&h, 3, 3000, 20 * US, 200 * MS);
	assert_int_equal(lathist_state(&h), LATHIST_STATE_DENSE);
	lathist_reset(&h);
	assert_int_equal(lathist_state(&h), LATHIST_STATE_DENSE);
	assert_int_equal(lathist_count(&h), 0);
	assert_int_equal(lathist_percentile(&h, 50), 0);
	for (uint32_t i = 0; i < LATHIST_BUCKETS; i++)
		assert_int_equal(lathist_bucket_count(&h, i), 0);
	lathist_record(&h, 7 * MS);
	assert_int_equal(lathist_min(&h), 7 * MS);
	assert_int_equal(lathist_percentile(&h, 50), 7 * MS);
	lathist_free(&h);

	record_range(&h, 3, 40, 20 * US, 200 * MS);
	assert_int_equal(lathist_state(&h), LATHIST_STATE_SPARSE);
	lathist_reset(&h);
	assert_int_equal(lathist_count(&h), 0);
	lathist_record(&h, 9 * MS);
	assert_int_equal(lathist_bucket_count(&h, lathist_bucket_of(9 * MS)), 1);
	assert_int_equal(lathist_percentile(&h, 99), 9 * MS);
	lathist_free(&h);
}

static void test_percentiles_batch(void **unused)
{
	static const double sorted[] = {0, 50, 90, 99, 99.9, 100};
	static const double unsorted[] = {99, 50, 100, 0};
	uint64_t out[6];
	struct lathist h;

	lathist_init(&h);
	record_range(&h, 4, 3000, 20 * US, 200 * MS);
	lathist_percentiles(&h, sorted, out, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(out[i], lathist_percentile(&h, sorted[i]));
	lathist_percentiles(&h, unsorted, out, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(out[i], lathist_percentile(&h, unsorted[i]));
	lathist_free(&h);
}

static void test_bad_percentile_arguments(void **unused)
{
	struct lathist h;

	lathist_init(&h);
	lathist_record(&h, 2 * MS);
	lathist_record(&h, 8 * MS);
	assert_int_equal(lathist_percentile(&h, -5), 2 * MS);
	assert_int_equal(lathist_percentile(&h, NAN), 2 * MS);
	assert_int_equal(lathist_percentile(&h, 150), 8 * MS);
	assert_int_equal(lathist_percentile(&h, INFINITY), 8 * MS);
	assert_int_equal(lathist_bucket_count(&h, LATHIST_BUCKETS), 0);
	assert_int_equal(lathist_bucket_lower(LATHIST_BUCKETS), UINT64_MAX);
	lathist_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_zeroed_struct_is_empty),
		cmocka_unit_test(test_bucket_edges),
		cmocka_unit_test(test_bucket_tiling_and_width),
		cmocka_unit_test(test_single_value),
		cmocka_unit_test(test_1_to_1000_us),
		cmocka_unit_test(test_rank_rounding),
		cmocka_unit_test(test_rank_exact_percentiles),
		cmocka_unit_test(test_span_1us_to_10min),
		cmocka_unit_test(test_min_max_exact),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_sparse_to_dense),
		cmocka_unit_test(test_merge_equals_union),
		cmocka_unit_test(test_merge_self),
		cmocka_unit_test(test_bucket_overflow),
		cmocka_unit_test(test_reset_keeps_memory),
		cmocka_unit_test(test_percentiles_batch),
		cmocka_unit_test(test_bad_percentile_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
