// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests for the set of 64-bit hashes (user/lib/u64set.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/hash.h"
#include "lib/u64set.h"

static void test_add_and_has(void **state)
{
	struct u64set s = {0};

	assert_false(u64set_has(&s, 5)); /* empty, nothing allocated */
	assert_int_equal(u64set_add(&s, 5), 1);
	assert_int_equal(u64set_add(&s, 5), 0);
	assert_true(u64set_has(&s, 5));
	assert_false(u64set_has(&s, 6));
	/* 0 is stored as 1: the two are one value */
	assert_int_equal(u64set_add(&s, 0), 1);
	assert_true(u64set_has(&s, 1));
	assert_int_equal(u64set_add(&s, 1), 0);
	assert_int_equal(s.n, 2);
	u64set_free(&s);
	assert_false(u64set_has(&s, 5));
}

/* Many values through several doublings; colliding low bits included. */
static void test_growth_keeps_every_value(void **state)
{
	struct u64set s = {0};
	const uint32_t n = 100000;

	for (uint32_t i = 1; i <= n; i++) {
		assert_int_equal(u64set_add(&s, hash_mix64(i)), 1);
		assert_true(2 * (uint64_t)s.n <= s.cap); /* never more than half full */
	}
	for (uint32_t i = 1; i <= 1000; i++) /* same low 32 bits, other high bits */
		assert_int_equal(u64set_add(&s, (uint64_t)i << 40 | 7), 1);
	assert_int_equal(s.n, n + 1000);
	assert_true(2 * (uint64_t)s.n <= s.cap);
	for (uint32_t i = 1; i <= n; i++)
		assert_true(u64set_has(&s, hash_mix64(i)));
	for (uint32_t i = 1; i <= 1000; i++)
		assert_true(u64set_has(&s, (uint64_t)i << 40 | 7));
	assert_false(u64set_has(&s, hash_mix64(n + 1)));
	u64set_free(&s);
}

static void test_max(void **state)
{
	struct u64set s = {.max = 3};

	for (uint64_t v = 1; v <= 3; v++)
		assert_int_equal(u64set_add(&s, v), 1);
	assert_int_equal(u64set_add(&s, 4), -1);
	assert_int_equal(u64set_add(&s, 2), 0); /* a value held is still found */
	assert_false(u64set_has(&s, 4));
	u64set_free(&s);
	assert_int_equal(s.max, 3); /* kept for reuse */
	assert_int_equal(u64set_add(&s, 4), 1);
	u64set_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_and_has),
		cmocka_unit_test(test_growth_keeps_every_value),
		cmocka_unit_test(test_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
