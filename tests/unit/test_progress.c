// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests for the -r progress line (user/app/progress.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "app/progress.h"
#include "lib/units.h"

static void test_format_halfway(void **state)
{
	char buf[160];
	size_t n = progress_format(buf, sizeof(buf), 2 * NS_PER_SEC, 123456, "packets", 50000000,
				   100000000);

	assert_string_equal(buf,
			    "dnssnoop: 50% 50.0 MB of 100 MB, 123456 packets, 25.0 MB/s, 2s left");
	assert_int_equal(n, strlen(buf));
}

static void test_format_units_and_time_left(void **state)
{
	char buf[160];

	/* 1 kB/s with 3 723 000 bytes left: an hour and more */
	progress_format(buf, sizeof(buf), NS_PER_SEC, 7, "records", 1000, 3724000);
	assert_string_equal(buf, "dnssnoop: 0% 1.0 kB of 3.7 MB, 7 records, 1.0 kB/s, 1h02m left");
	progress_format(buf, sizeof(buf), 10 * NS_PER_SEC, 1, "records", 950, 1900 + 950 * 90);
	assert_string_equal(buf, "dnssnoop: 1% 950 B of 87.4 kB, 1 records, 95 B/s, 15m10s left");
}

/* Nothing read yet: no rate, so no time left; an empty total is all read. */
static void test_format_edges(void **state)
{
	char buf[160];

	progress_format(buf, sizeof(buf), 0, 0, "packets", 0, 1000);
	assert_string_equal(buf, "dnssnoop: 0% 0 B of 1.0 kB, 0 packets, 0 B/s, ? left");
	progress_format(buf, sizeof(buf), NS_PER_SEC, 0, "packets", 0, 0);
	assert_string_equal(buf, "dnssnoop: 100% 0 B of 0 B, 0 packets, 0 B/s, ? left");
}

/* A short buffer is cut, never overrun, and the length says what is there. */
static void test_format_cut(void **state)
{
	char buf[12];
	size_t n = progress_format(buf, sizeof(buf), NS_PER_SEC, 1, "packets", 1, 2);

	assert_int_equal(n, sizeof(buf) - 1);
	assert_string_equal(buf, "dnssnoop: 5");
}

/* Off: no redraw is ever due; on: not before the first quarter second. */
static void test_due(void **state)
{
	struct progress p;

	progress_init(&p, -1, "packets", 0);
	assert_false(progress_item(&p, 10 * NS_PER_SEC));
	progress_init(&p, 2, "packets", NS_PER_SEC);
	assert_false(progress_item(&p, NS_PER_SEC + PROGRESS_EVERY_NS - 1));
	assert_true(progress_item(&p, NS_PER_SEC + PROGRESS_EVERY_NS));
	assert_int_equal(p.items, 2);
	progress_clear(&p); /* nothing shown: nothing written */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_halfway),
		cmocka_unit_test(test_format_units_and_time_left),
		cmocka_unit_test(test_format_edges),
		cmocka_unit_test(test_format_cut),
		cmocka_unit_test(test_due),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
