// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Mirror detection: a noted exchange is recognised, anything differing in a
 * key field is not, and the set forgets by age and by bound. (Which copy of
 * a message is the server's, and how it is oriented, is the summary
 * stage's job: tests/unit/test_summary.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "analysis/mirror.h"
#include "testutil.h"

#define SEC 1000000000ULL

/* dig (10.0.0.1:40000) asks nsd (10.0.0.2:53), DNS id `id`. */
static struct mirror_exchange exchange(uint16_t id)
{
	struct mirror_exchange ex;

	memset(&ex, 0, sizeof(ex));
	assert_int_equal(inet_pton(AF_INET, "10.0.0.1", ex.client), 1);
	assert_int_equal(inet_pton(AF_INET, "10.0.0.2", ex.server), 1);
	ex.client_port = 40000;
	ex.server_port = 53;
	ex.id = id;
	ex.family = AF_INET;
	ex.proto = IPPROTO_UDP;
	return ex;
}

static void test_noted_exchange_is_recognised(void **state)
{
	struct mirror_set *ms = mirror_new(16, 5 * SEC);
	struct mirror_exchange ex = exchange(7), other;

	assert_false(mirror_is_mirror(ms, &ex)); /* nothing noted yet */
	mirror_note_query(ms, &ex, SEC);
	assert_true(mirror_is_mirror(ms, &ex));
	other = exchange(8); /* another id */
	assert_false(mirror_is_mirror(ms, &other));
	other = exchange(7);
	other.client_port = 40001; /* another client port */
	assert_false(mirror_is_mirror(ms, &other));
	other = exchange(7);
	other.proto = IPPROTO_TCP;
	assert_false(mirror_is_mirror(ms, &other));
	mirror_free(ms);
}

static void test_expiry_and_bound(void **state)
{
	struct mirror_set *ms = mirror_new(2, 5 * SEC);
	struct mirror_exchange ex[5];

	for (uint16_t id = 1; id <= 4; id++)
		ex[id] = exchange(id);
	mirror_note_query(ms, &ex[1], SEC);
	mirror_note_query(ms, &ex[2], 3 * SEC);
	mirror_expire(ms, 6 * SEC + 1); /* id 1 is 5 s + 1 ns old: gone; id 2 stays */
	assert_false(mirror_is_mirror(ms, &ex[1]));
	assert_true(mirror_is_mirror(ms, &ex[2]));
	mirror_note_query(ms, &ex[3], 3 * SEC);
	mirror_note_query(ms, &ex[4], 3 * SEC); /* full: the oldest (id 2) makes room */
	assert_false(mirror_is_mirror(ms, &ex[2]));
	assert_true(mirror_is_mirror(ms, &ex[3]));
	assert_true(mirror_is_mirror(ms, &ex[4]));
	mirror_free(ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_noted_exchange_is_recognised),
		cmocka_unit_test(test_expiry_and_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
