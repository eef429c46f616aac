// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests for the slot pool (user/lib/slots.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/slots.h"

/* Slots in age order, oldest first, walked through the newer links. */
static size_t age_order(const struct slots *s, uint32_t *out, size_t max)
{
	size_t n = 0;

	for (uint32_t i = slots_oldest(s); i != SLOTS_NIL && n < max; i = s->link[i].newer)
		out[n++] = i;
	return n;
}

static void test_capacity_limits(void **state)
{
	struct slots s;
	uint64_t *entries;

	assert_null(slots_init(&s, 0, 8));
	assert_null(slots_init(&s, (size_t)SLOTS_MAX_CAPACITY + 1, 8));
	slots_destroy(&s);
	slots_destroy(&s); /* twice is fine */

	entries = slots_init(&s, 1, sizeof(*entries));
	assert_non_null(entries);
	entries[0] = 42; /* garbage until the slot is first taken */
	assert_int_equal(s.bucket_mask, 15); /* at least 16 buckets */
	assert_false(slots_full(&s));
	assert_int_equal(slots_oldest(&s), SLOTS_NIL);
	assert_int_equal(slots_take(&s, 7), 0);
	assert_int_equal(entries[0], 0); /* zeroed when first taken */
	assert_true(slots_full(&s));
	assert_int_equal(s.used, 1);
	slots_destroy(&s);

	assert_non_null(slots_init(&s, 17, 1));
	assert_int_equal(s.bucket_mask, 31);
	slots_destroy(&s);
}

static void test_take_find_release(void **state)
{
	struct slots s;
	uint32_t a, b, c;

	assert_non_null(slots_init(&s, 3, 1));
	/* 5 and 21 share bucket 5 of 16; c has the same hash as a. */
	a = slots_take(&s, 5);
	b = slots_take(&s, 21);
	c = slots_take(&s, 5);
	assert_int_equal(a, 0);
	assert_int_equal(b, 1);
	assert_int_equal(c, 2);
	assert_true(slots_full(&s));
	assert_int_equal(s.used, 3);

	/* Chains are walked newest first and skip other hashes. */
	assert_int_equal(slots_first(&s, 5), c);
	assert_int_equal(slots_next(&s, c), a);
	assert_int_equal(slots_next(&s, a), SLOTS_NIL);
	assert_int_equal(slots_first(&s, 21), b);
	assert_int_equal(slots_next(&s, b), SLOTS_NIL);
	assert_int_equal(slots_first(&s, 37), SLOTS_NIL); /* same bucket, no such hash */
	assert_int_equal(slots_first(&s, 6), SLOTS_NIL);

	/* Released from the middle of a chain: the rest stays findable. */
	slots_release(&s, b);
	assert_false(slots_full(&s));
	assert_int_equal(s.used, 2);
	assert_int_equal(slots_first(&s, 21), SLOTS_NIL);
	assert_int_equal(slots_first(&s, 5), c);
	assert_int_equal(slots_next(&s, c), a);

	/* The freed slot is the next one taken. */
	assert_int_equal(slots_take(&s, 99), b);
	assert_int_equal(slots_first(&s, 99), b);
	slots_destroy(&s);
}

static void test_age_order(void **state)
{
	struct slots s;
	uint32_t order[8];

	assert_non_null(slots_init(&s, 4, 1));
	for (uint64_t h = 100; h < 104; h++)
		slots_take(&s, h); /* slots 0, 1, 2, 3 */
	assert_int_equal(age_order(&s, order, 8), 4);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[3], 3);

	slots_touch(&s, 0); /* oldest becomes newest */
	slots_touch(&s, 0); /* already newest: no change */
	slots_touch(&s, 2);
	assert_int_equal(age_order(&s, order, 8), 4);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 3);
	assert_int_equal(order[2], 0);
	assert_int_equal(order[3], 2);
	assert_int_equal(slots_oldest(&s), 1);

	slots_release(&s, 1); /* the oldest */
	slots_release(&s, 2); /* the newest */
	assert_int_equal(age_order(&s, order, 8), 2);
	assert_int_equal(order[0], 3);
	assert_int_equal(order[1], 0);
	assert_int_equal(s.newest, 0);

	/* A new slot is newest; emptying leaves no oldest. */
	assert_int_equal(slots_take(&s, 7), 2);
	assert_int_equal(s.newest, 2);
	slots_release(&s, 3);
	slots_release(&s, 0);
	slots_release(&s, 2);
	assert_int_equal(slots_oldest(&s), SLOTS_NIL);
	assert_int_equal(s.newest, SLOTS_NIL);
	assert_int_equal(s.used, 0);
	slots_destroy(&s);
}

/*
 * A key's hash: keys k, k + 100, k + 200, ... share one, so every chain
 * holds equal hashes taken before and after each doubling.
 */
static uint64_t key_hash(uint32_t k)
{
	return (uint64_t)(k % 100 + 1) * 0x9e3779b97f4a7c15ull;
}

struct item {
	uint32_t key;
	uint32_t value;
};

/*
 * The pool starts small and doubles (64, 128, 256, 512, then the capacity
 * 1000) as slots are taken, keeping every entry, every chain and the
 * order of equal hashes in a chain (newest first), and is full only at
 * its capacity.
 */
static void test_growth(void **state)
{
	static const uint32_t steps[] = {64, 128, 256, 512, 1000};
	struct slots s;
	struct item *items;
	size_t nsteps = 0;

	assert_non_null(slots_init(&s, 1000, sizeof(*items)));
	assert_int_equal(s.allocated, 64);
	assert_int_equal(s.bucket_mask, 63);
	for (uint32_t k = 0; k < 1000; k++) {
		uint32_t i;

		assert_false(slots_full(&s));
		if (nsteps == 0 || s.allocated != steps[nsteps - 1]) {
			assert_true(nsteps < 5);
			assert_int_equal(s.allocated, steps[nsteps++]);
		}
		i = slots_take(&s, key_hash(k));
		assert_int_equal(i, k); /* never-used slots in increasing order */
		items = slots_entries(&s);
		assert_int_equal(items[i].key, 0); /* zeroed when first taken */
		items[i] = (struct item){.key = k, .value = 3 * k + 1};
	}
	assert_int_equal(nsteps, 5);
	assert_true(slots_full(&s));
	assert_int_equal(s.allocated, 1000);
	assert_int_equal(s.bucket_mask, 1023);
	assert_int_equal(s.used, 1000);
	items = slots_entries(&s);
	for (uint32_t k = 0; k < 100; k++) {
		uint32_t i = slots_first(&s, key_hash(k));

		for (uint32_t j = 10; j-- > 0;) { /* newest first */
			assert_int_equal(i, k + 100 * j);
			assert_int_equal(items[i].key, k + 100 * j);
			assert_int_equal(items[i].value, 3 * (k + 100 * j) + 1);
			i = slots_next(&s, i);
		}
		assert_int_equal(i, SLOTS_NIL);
	}
	/* Age order survives growth: arrival order. */
	for (uint32_t i = slots_oldest(&s), k = 0; i != SLOTS_NIL; i = s.link[i].newer, k++)
		assert_int_equal(i, k);
	slots_destroy(&s);
}

/* Released slots are taken before the pool grows, last released first. */
static void test_growth_after_release(void **state)
{
	struct slots s;

	assert_non_null(slots_init(&s, 100, 1));
	for (uint64_t h = 0; h < 64; h++) {
		assert_false(slots_full(&s));
		slots_take(&s, h);
	}
	slots_release(&s, 10);
	slots_release(&s, 20);
	assert_false(slots_full(&s));
	assert_int_equal(s.allocated, 64); /* room without growing */
	assert_int_equal(slots_take(&s, 1000), 20);
	assert_false(slots_full(&s));
	assert_int_equal(slots_take(&s, 1001), 10);
	assert_false(slots_full(&s)); /* grows */
	assert_int_equal(s.allocated, 100);
	assert_int_equal(slots_take(&s, 1002), 64);
	assert_int_equal(slots_first(&s, 1000), 20);
	assert_int_equal(slots_first(&s, 1001), 10);
	assert_int_equal(slots_first(&s, 1002), 64);
	assert_int_equal(slots_first(&s, 63), 63);
	assert_int_equal(slots_first(&s, 10), SLOTS_NIL);
	slots_destroy(&s);
}

/* The largest capacity allocates what the first slots need, not the capacity. */
static void test_large_capacity_starts_small(void **state)
{
	struct slots s;

	assert_non_null(slots_init(&s, SLOTS_MAX_CAPACITY, 4096));
	assert_int_equal(s.allocated, SLOTS_FIRST_ALLOC);
	assert_int_equal(s.bucket_mask + 1, SLOTS_FIRST_ALLOC);
	assert_false(slots_full(&s));
	slots_destroy(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capacity_limits),
		cmocka_unit_test(test_take_find_release),
		cmocka_unit_test(test_age_order),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_growth_after_release),
		cmocka_unit_test(test_large_capacity_starts_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
