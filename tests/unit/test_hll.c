// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for the HyperLogLog counter (user/analysis/hll.c). Keys are fixed
 * strings, so every estimate is deterministic; the bounds are 3 standard
 * errors (3 x 1.625% = 4.875%) as documented in hll.h. The registers are
 * checked against a reference computed here from the definition (top 12
 * bits of the mixed hash pick the register, the rank is the position of
 * the first 1 in the other 52), whatever state the sketch is in.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/hll.h"

#define THREE_SIGMA (3 * HLL_STD_ERROR)

/* Key i: "host<i>.example.com" (distinct for distinct i). */
static size_t key_of(uint32_t i, char *buf, size_t size)
{
	return (size_t)snprintf(buf, size, "host%u.example.com", i);
}

static void add_keys(struct hll *h, uint32_t from, uint32_t to)
{
	char key[32];

	for (uint32_t i = from; i < to; i++)
		assert_int_equal(hll_add(h, key, key_of(i, key, sizeof(key))), 0);
}

/* The dense registers that keys [from, to) define, computed independently. */
static void reference_registers(uint8_t *regs, uint32_t from, uint32_t to)
{
	char key[32];

	memset(regs, 0, HLL_M);
	for (uint32_t i = from; i < to; i++) {
		size_t len = key_of(i, key, sizeof(key));
		uint64_t x = hash_mix64(hll_hash(key, len));
		uint32_t idx = (uint32_t)(x >> (64 - HLL_P));
		uint64_t rest = x << HLL_P;
		uint8_t rank = rest ? (uint8_t)(__builtin_clzll(rest) + 1) : 64 - HLL_P + 1;

		if (regs[idx] < rank)
			regs[idx] = rank;
	}
}

static void assert_registers(const struct hll *h, const uint8_t *regs)
{
	for (uint32_t i = 0; i < HLL_M; i++)
		assert_int_equal(hll_register(h, i), regs[i]);
}

static void assert_same_sketch(const struct hll *a, const struct hll *b)
{
	for (uint32_t i = 0; i < HLL_M; i++)
		assert_int_equal(hll_register(a, i), hll_register(b, i));
	assert_int_equal(a->cap == HLL_CAP_DENSE, b->cap == HLL_CAP_DENSE);
	assert_int_equal(a->nsparse, b->nsparse);
	assert_true(hll_estimate(a) == hll_estimate(b));
}

static double relative_error(double estimate, double n)
{
	return fabs(estimate - n) / n;
}

/* Estimate of n distinct keys, checked within 3 standard errors; returns the error. */
static double check_estimate(uint32_t n)
{
	uint8_t *regs = malloc(HLL_M);
	struct hll h;
	double err;

	assert_non_null(regs);
	hll_init(&h);
	add_keys(&h, 0, n);
	err = relative_error(hll_estimate(&h), n);
	print_message("n = %u: estimate %.1f, error %.3f%%\n", n, hll_estimate(&h), 100 * err);
	assert_true(err < THREE_SIGMA);
	reference_registers(regs, 0, n);
	assert_registers(&h, regs);
	hll_free(&h);
	free(regs);
	return err;
}

static void test_empty(void **unused)
{
	struct hll h;

	hll_init(&h);
	assert_int_equal(sizeof(struct hll), 16);
	assert_true(hll_estimate(&h) == 0.0);
	assert_int_equal(hll_heap_bytes(&h), 0);
	assert_int_equal(hll_register(&h, 0), 0);
	assert_int_equal(hll_register(&h, HLL_M), 0);
	hll_free(&h);
	assert_true(hll_estimate(&h) == 0.0);
}

static void test_one_key(void **unused)
{
	struct hll h;

	memset(&h, 0, sizeof(h)); /* all-zero bytes: empty */
	assert_int_equal(hll_add(&h, "example.com", 11), 0);
	/* Sparse: 2^25 ln(2^25 / (2^25 - 1)) = 1 + 1.5e-8. */
	assert_true(fabs(hll_estimate(&h) - 1.0) < 1e-6);
	assert_int_equal(hll_heap_bytes(&h), HLL_SPARSE_MIN * 4);
	hll_free(&h);
	assert_int_equal(hll_heap_bytes(&h), 0);
}

/* Small range: the sparse words make 100 keys practically exact (< 2% asked). */
static void test_100_keys(void **unused)
{
	struct hll h;
	double est;

	hll_init(&h);
	add_keys(&h, 0, 100);
	est = hll_estimate(&h);
	print_message("n = 100: estimate %.4f\n", est);
	assert_true(relative_error(est, 100) < 0.02);
	/* 100 distinct 25-bit prefixes: 2^25 ln(2^25 / (2^25 - 100)) = 100.00015. */
	assert_int_equal(h.nsparse, 100);
	assert_true(fabs(est - 100.00015) < 1e-4);
	assert_int_equal(hll_heap_bytes(&h), 128 * 4);
	hll_free(&h);
}

static void test_estimates_within_three_sigma(void **unused)
{
	static const uint32_t ns[] = {512, 513, 1000, 2000, 5000, 10000, 20000, 100000};

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		check_estimate(ns[i]);
}

static void test_one_million(void **unused)
{
	check_estimate(1000000);
}

/* Raw integers (sequential addresses) are mixed, so they estimate as well as strings. */
static void test_add_hash_sequential_integers(void **unused)
{
	struct hll h;
	double err;

	hll_init(&h);
	for (uint64_t ip = 0x0a000000; ip < 0x0a000000 + 100000; ip++)
		assert_int_equal(hll_add_hash(&h, ip), 0);
	err = relative_error(hll_estimate(&h), 100000);
	print_message("100000 sequential integers: error %.3f%%\n", 100 * err);
	assert_true(err < THREE_SIGMA);
	hll_free(&h);
}

static void test_add_is_add_hash_of_hll_hash(void **unused)
{
	struct hll a, b;
	char key[32];

	hll_init(&a);
	hll_init(&b);
	for (uint32_t i = 0; i < 3000; i++) {
		size_t len = key_of(i, key, sizeof(key));

		hll_add(&a, key, len);
		hll_add_hash(&b, hll_hash(key, len));
	}
	assert_same_sketch(&a, &b);
	hll_free(&a);
	hll_free(&b);
}

/* Adding every key again, in another order, changes nothing. */
static void check_duplicates(uint32_t n)
{
	struct hll once, thrice;
	char key[32];

	hll_init(&once);
	hll_init(&thrice);
	add_keys(&once, 0, n);
	add_keys(&thrice, 0, n);
	for (int round = 0; round < 2; round++)
		for (uint32_t i = n; i-- > 0;)
			hll_add(&thrice, key, key_of(i, key, sizeof(key)));
	assert_same_sketch(&once, &thrice);
	hll_free(&once);
	hll_free(&thrice);
}

static void test_duplicates(void **unused)
{
	check_duplicates(50); /* sparse */
	check_duplicates(10000); /* dense */
}

/* The sparse words convert to exactly the reference registers at every size. */
static void test_sparse_to_dense(void **unused)
{
	uint8_t *regs = malloc(HLL_M);
	struct hll h;
	uint32_t n = 0;

	assert_non_null(regs);
	hll_init(&h);
	for (uint32_t target = 1; target <= 2000; target++) {
		add_keys(&h, n, target);
		n = target;
		if (n <= HLL_SPARSE_MAX) {
			assert_true(h.cap != HLL_CAP_DENSE);
			assert_int_equal(h.nsparse, n); /* no 25-bit collision among these keys */
			assert_true(hll_heap_bytes(&h) <= HLL_SPARSE_MAX * 4);
		} else {
			assert_int_equal(h.cap, HLL_CAP_DENSE);
			assert_int_equal(hll_heap_bytes(&h), HLL_M);
		}
		if (n == 1 || n == 16 || n == 17 || n == 512 || n == 513 || n == 2000) {
			reference_registers(regs, 0, n);
			assert_registers(&h, regs);
		}
	}
	hll_free(&h);
	free(regs);
}

/* merge(A, B) equals the sketch of A u B: same registers, same state, same estimate. */
static void check_merge(uint32_t a_from, uint32_t a_to, uint32_t b_from, uint32_t b_to)
{
	uint32_t lo = a_from < b_from ? a_from : b_from;
	uint32_t hi = a_to > b_to ? a_to : b_to;
	struct hll a, b, u;

	hll_init(&a);
	hll_init(&b);
	hll_init(&u);
	add_keys(&a, a_from, a_to);
	add_keys(&b, b_from, b_to);
	add_keys(&u, lo, hi); /* callers pass overlapping or adjacent ranges */
	assert_int_equal(hll_merge(&a, &b), 0);
	assert_same_sketch(&a, &u);
	hll_free(&a);
	hll_free(&b);
	hll_free(&u);
}

static void test_merge_equals_union(void **unused)
{
	check_merge(0, 0, 0, 200); /* empty + sparse */
	check_merge(0, 200, 0, 0); /* sparse + empty */
	check_merge(0, 200, 150, 350); /* sparse + sparse = sparse */
	check_merge(0, 300, 300, 600); /* sparse + sparse = dense */
	check_merge(0, 6000, 4000, 4100); /* dense + sparse */
	check_merge(0, 100, 50, 6000); /* sparse + dense */
	check_merge(0, 0, 0, 6000); /* empty + dense */
	check_merge(0, 60000, 40000, 100000); /* dense + dense */
}

/* Two sketches built apart (two intervals, two processes) count shared keys once. */
static void test_merge_counts_shared_keys_once(void **unused)
{
	struct hll a, b;
	double err;

	hll_init(&a);
	hll_init(&b);
	add_keys(&a, 0, 60000);
	add_keys(&b, 0, 60000);
	add_keys(&b, 60000, 80000);
	assert_int_equal(hll_merge(&a, &b), 0);
	err = relative_error(hll_estimate(&a), 80000);
	assert_true(err < THREE_SIGMA);
	assert_int_equal(hll_merge(&a, &a), 0); /* self-merge: no change */
	assert_true(relative_error(hll_estimate(&a), 80000) == err);
	hll_free(&a);
	hll_free(&b);
}

/* Inverse of c modulo 2^64 (c odd), by Newton's iteration. */
static uint64_t inverse_mod64(uint64_t c)
{
	uint64_t y = c; /* correct to 3 bits; each step doubles that */

	for (int i = 0; i < 5; i++)
		y *= 2 - c * y;
	return y;
}

/* The key whose mixed hash is x: hll_add_hash(h, unmix(x)) feeds exactly x. */
static uint64_t unmix(uint64_t x)
{
	x ^= x >> 33;
	x *= inverse_mod64(0xc4ceb9fe1a85ec53ULL);
	x ^= x >> 33;
	x *= inverse_mod64(0xff51afd7ed558ccdULL);
	x ^= x >> 33;
	return x;
}

/* A mixed hash with the given 25-bit prefix and the first 1 after it at rank r (0: none). */
static uint64_t crafted(uint32_t idx25, int rank)
{
	uint64_t x = (uint64_t)idx25 << (64 - HLL_SPARSE_P);

	if (rank > 0)
		x |= 1ull << (64 - HLL_SPARSE_P - rank);
	return x;
}

/*
 * Hand-built hashes: dense register = top 12 bits, rank = first 1 among the
 * next 52. Keys sharing a 25-bit prefix keep the larger rank, in either order.
 */
static void test_crafted_hashes(void **unused)
{
	uint8_t *regs = malloc(HLL_M);
	struct hll h, d;

	assert_non_null(regs);
	assert_true(hash_mix64(unmix(0x0123456789abcdefULL)) == 0x0123456789abcdefULL);
	hll_init(&h);
	/* Register 5, 13 zero gap bits, rank 3 after the prefix: 13 + 3 = 16. */
	hll_add_hash(&h, unmix(crafted(5 << 13, 3)));
	/* Same prefix, rank 1 (14): must not lower the register. */
	hll_add_hash(&h, unmix(crafted(5 << 13, 1)));
	/* Register 5 again, gap 0x400 (first 1 at gap bit 3 of 13): rank 3. */
	hll_add_hash(&h, unmix(crafted(5 << 13 | 0x400, 0)));
	/* Register 7, gap all ones: rank 1; then rank 2 with the same prefix. */
	hll_add_hash(&h, unmix(crafted(7 << 13 | 0x1fff, 0)));
	hll_add_hash(&h, unmix(crafted(7 << 13 | 0x0fff, 5)));
	hll_add_hash(&h, unmix(crafted(7 << 13 | 0x0fff, 9)));
	/* Register 9, all 52 bits zero: the top rank, 53. */
	hll_add_hash(&h, unmix(crafted(9 << 13, 0)));
	assert_int_equal(h.nsparse, 5);
	assert_int_equal(hll_register(&h, 5), 16);
	assert_int_equal(hll_register(&h, 7), 2);
	assert_int_equal(hll_register(&h, 9), 53);
	assert_int_equal(hll_register(&h, 6), 0);

	/* The same maxima once merged into a dense sketch. */
	hll_init(&d);
	add_keys(&d, 0, 600);
	reference_registers(regs, 0, 600);
	assert_int_equal(d.cap, HLL_CAP_DENSE);
	assert_int_equal(hll_merge(&d, &h), 0);
	assert_int_equal(hll_register(&d, 5), regs[5] > 16 ? regs[5] : 16);
	assert_int_equal(hll_register(&d, 7), regs[7] > 2 ? regs[7] : 2);
	assert_int_equal(hll_register(&d, 9), 53);
	hll_free(&d);
	hll_free(&h);
	free(regs);
}

/*
 * Calibration: over 50 disjoint sets of 20000 keys the mean error (bias)
 * has a standard deviation of 1.625% / sqrt(50) = 0.23%, so a correct
 * estimator stays within 0.7%; a constant off by 1% would not.
 */
static void test_bias_over_many_sets(void **unused)
{
	const uint32_t n = 20000, sets = 50;
	double sum = 0, squares = 0;

	for (uint32_t s = 0; s < sets; s++) {
		struct hll h;
		double err;

		hll_init(&h);
		add_keys(&h, 1000000 + s * n, 1000000 + (s + 1) * n);
		err = hll_estimate(&h) / n - 1;
		sum += err;
		squares += err * err;
		hll_free(&h);
	}
	print_message("%u sets of %u: bias %+.3f%%, rms error %.3f%%\n", sets, n, 100 * sum / sets,
		      100 * sqrt(squares / sets));
	assert_true(fabs(sum / sets) < 0.007);
	assert_true(sqrt(squares / sets) < 2 * HLL_STD_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_one_key),
		cmocka_unit_test(test_100_keys),
		cmocka_unit_test(test_estimates_within_three_sigma),
		cmocka_unit_test(test_one_million),
		cmocka_unit_test(test_add_hash_sequential_integers),
		cmocka_unit_test(test_add_is_add_hash_of_hll_hash),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_sparse_to_dense),
		cmocka_unit_test(test_merge_equals_union),
		cmocka_unit_test(test_merge_counts_shared_keys_once),
		cmocka_unit_test(test_crafted_hashes),
		cmocka_unit_test(test_bias_over_many_sets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
