// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Mirror detection: the server's copy of a local exchange is recognised. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mirror.h"
#include "testutil.h"

#define SEC 1000000000ULL

/* dig (10.0.0.1:40000) asks nsd (10.0.0.2:53); both are local. */
static struct pkt_meta msg(uint8_t dir, bool response, uint64_t ts)
{
	struct pkt_meta m = response
				    ? meta_ip4(IPPROTO_UDP, dir, "10.0.0.2", 53, "10.0.0.1", 40000)
				    : meta_ip4(IPPROTO_UDP, dir, "10.0.0.1", 40000, "10.0.0.2", 53);

	m.ts_ns = ts;
	return m;
}

static void test_server_copies_are_mirrors(void **state)
{
	struct mirror_set *ms = mirror_new(16, 5 * SEC);
	struct pkt_meta q_out = msg(DNSSNOOP_EGRESS, false, SEC);
	struct pkt_meta q_in = msg(DNSSNOOP_INGRESS, false, SEC + 10);
	struct pkt_meta r_out = msg(DNSSNOOP_EGRESS, true, SEC + 20);

	assert_false(mirror_is_mirror(ms, &q_in, 7, false)); /* nothing noted yet */
	mirror_note_query(ms, &q_out, 7);
	assert_true(mirror_is_mirror(ms, &q_in, 7, false));
	assert_true(mirror_is_mirror(ms, &r_out, 7, true));
	assert_false(mirror_is_mirror(ms, &q_in, 8, false)); /* another id */
	r_out.dport = 40001; /* another client port */
	assert_false(mirror_is_mirror(ms, &r_out, 7, true));
	q_in.proto = IPPROTO_TCP;
	assert_false(mirror_is_mirror(ms, &q_in, 7, false));
	mirror_free(ms);
}

static void test_expiry_and_bound(void **state)
{
	struct mirror_set *ms = mirror_new(2, 5 * SEC);
	struct pkt_meta q = msg(DNSSNOOP_EGRESS, false, SEC);
	struct pkt_meta in = msg(DNSSNOOP_INGRESS, false, SEC);

	mirror_note_query(ms, &q, 1);
	q.ts_ns = 3 * SEC;
	mirror_note_query(ms, &q, 2);
	mirror_expire(ms, 6 * SEC + 1); /* id 1 is 5 s + 1 ns old: gone; id 2 stays */
	assert_false(mirror_is_mirror(ms, &in, 1, false));
	assert_true(mirror_is_mirror(ms, &in, 2, false));
	mirror_note_query(ms, &q, 3);
	mirror_note_query(ms, &q, 4); /* full: the oldest (id 2) makes room */
	assert_false(mirror_is_mirror(ms, &in, 2, false));
	assert_true(mirror_is_mirror(ms, &in, 3, false));
	assert_true(mirror_is_mirror(ms, &in, 4, false));
	mirror_free(ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_copies_are_mirrors),
		cmocka_unit_test(test_expiry_and_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
