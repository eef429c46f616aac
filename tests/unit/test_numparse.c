// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests for the strict number parser (user/lib/numparse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/numparse.h"

/* Text that strtoul or strtod would take, and no number here is. */
static const char *const not_numbers[] = {
	"",    " 5",  "5 ", "+5", "-5",	  "0x10",  "0X10", "1e3", "1e-300", "5abc", "abc",
	"inf", "nan", "5.", ".5", "5..0", "5.0.0", "5,0",  "\t5", "5\n",    "0b1",  "1_000",
};

static void test_uint_refuses(void **state)
{
	uint64_t v = 42;

	for (size_t i = 0; i < sizeof(not_numbers) / sizeof(not_numbers[0]); i++) {
		const char *s = not_numbers[i];

		if (num_parse_uint(s, strlen(s), UINT64_MAX, &v))
			fail_msg("'%s' taken as %llu", s, (unsigned long long)v);
	}
	assert_int_equal(v, 42); /* untouched */
	assert_false(num_parse_uint(NULL, 0, 10, &v));
}

static void check_uint(const char *s, uint64_t max, bool ok, uint64_t want)
{
	uint64_t v = 0;
	bool got = num_parse_uint(s, strlen(s), max, &v);

	if (got != ok || (ok && v != want))
		fail_msg("'%s' (max %llu): want %d %llu, got %d %llu", s, (unsigned long long)max,
			 ok, (unsigned long long)want, got, (unsigned long long)v);
}

static void test_uint_bounds(void **state)
{
	check_uint("0", 0, true, 0);
	check_uint("1", 0, false, 0);
	check_uint("7", 5, false, 0); /* one digit above a one-digit bound */
	check_uint("5", 5, true, 5);
	check_uint("007", 10, true, 7); /* leading zeros are decimal, not octal */
	check_uint("65535", 65535, true, 65535);
	check_uint("65536", 65535, false, 0);
	check_uint("18446744073709551615", UINT64_MAX, true, UINT64_MAX);
	check_uint("18446744073709551616", UINT64_MAX, false, 0); /* would wrap to 0 */
	check_uint("99999999999999999999", UINT64_MAX, false, 0);
	check_uint("184467440737095516150", UINT64_MAX, false, 0);
}

static void check_ns(const char *s, uint64_t max_ns, bool ok, uint64_t want)
{
	uint64_t v = 0;
	bool got = num_parse_seconds_ns(s, strlen(s), max_ns, &v);

	if (got != ok || (ok && v != want))
		fail_msg("'%s': want %d %llu, got %d %llu", s, ok, (unsigned long long)want, got,
			 (unsigned long long)v);
}

static void test_seconds(void **state)
{
	const uint64_t max = 1000000000ULL * 1000000000ULL;
	uint64_t v;

	check_ns("5", max, true, 5000000000ULL);
	check_ns("0.5", max, true, 500000000ULL);
	check_ns("0.000000001", max, true, 1);
	check_ns("0.000000003", max, true, 3); /* exact: no float rounding to 2 */
	check_ns("0.0000000001", max, false, 0); /* finer than 1 ns: not silently 0 */
	check_ns("0.0000000000", max, false, 0);
	check_ns("1.250", max, true, 1250000000ULL);
	check_ns("0", max, true, 0); /* zero is a number; callers refuse it */
	check_ns("1000000000", max, true, max);
	check_ns("1000000000.000000001", max, false, 0);
	check_ns("1000000001", max, false, 0);
	check_ns("18446744073709551616", UINT64_MAX, false, 0);
	check_ns("18446744073.709551615", UINT64_MAX, true, UINT64_MAX);
	check_ns("18446744073.709551616", UINT64_MAX, false, 0);
	for (size_t i = 0; i < sizeof(not_numbers) / sizeof(not_numbers[0]); i++)
		if (num_parse_seconds_ns(not_numbers[i], strlen(not_numbers[i]), max, &v))
			fail_msg("'%s' taken as %llu ns", not_numbers[i], (unsigned long long)v);
}

static void test_decimal(void **state)
{
	char long_text[80];
	double v = 0;

	assert_true(num_parse_decimal("0.8", 3, &v));
	assert_true(v == 0.8);
	assert_true(num_parse_decimal("3", 1, &v));
	assert_true(v == 3.0);
	assert_true(num_parse_decimal("0.8xyz", 3, &v)); /* only len bytes are looked at */
	assert_true(v == 0.8);
	for (size_t i = 0; i < sizeof(not_numbers) / sizeof(not_numbers[0]); i++)
		if (num_parse_decimal(not_numbers[i], strlen(not_numbers[i]), &v))
			fail_msg("'%s' taken as %g", not_numbers[i], v);
	memset(long_text, '1', 65);
	assert_false(num_parse_decimal(long_text, 65, &v));
	assert_true(num_parse_decimal(long_text, 64, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uint_refuses),
		cmocka_unit_test(test_uint_bounds),
		cmocka_unit_test(test_seconds),
		cmocka_unit_test(test_decimal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
