// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Mirror detection: a bounded set of recent egress queries, keyed by the
 * exchange's addresses, ports, transport and DNS id. See mirror.h.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "analysis/mirror.h"
#include "lib/slots.h"

struct noted_query {
	struct mirror_exchange key;
	uint64_t ts_ns;
};

struct mirror_set {
	struct slots slots;
	struct noted_query *queries; /* indexed by slot; owned by slots */
	uint64_t ttl_ns;
	uint64_t seed;
};

struct mirror_set *mirror_new(size_t capacity, uint64_t ttl_ns)
{
	struct mirror_set *ms = calloc(1, sizeof(*ms));

	if (!ms)
		return NULL;
	ms->queries = slots_init(&ms->slots, capacity, sizeof(*ms->queries));
	if (!ms->queries) {
		mirror_free(ms);
		return NULL;
	}
	ms->ttl_ns = ttl_ns;
	ms->seed = hash_random_seed(ms);
	return ms;
}

void mirror_free(struct mirror_set *ms)
{
	if (!ms)
		return;
	slots_destroy(&ms->slots); /* frees the queries too */
	free(ms);
}

static uint32_t find(const struct mirror_set *ms, const struct mirror_exchange *k, uint64_t h)
{
	uint32_t i;

	for (i = slots_first(&ms->slots, h); i != SLOTS_NIL; i = slots_next(&ms->slots, i))
		if (!memcmp(&ms->queries[i].key, k, sizeof(*k)))
			break;
	return i;
}

void mirror_note_query(struct mirror_set *ms, const struct mirror_exchange *ex, uint64_t ts_ns)
{
	uint64_t h = hash_bytes(ex, sizeof(*ex), ms->seed);
	uint32_t i = find(ms, ex, h);

	if (i != SLOTS_NIL) {
		ms->queries[i].ts_ns = ts_ns; /* a retransmission: keep it longer */
		slots_touch(&ms->slots, i);
		return;
	}
	if (slots_full(&ms->slots))
		slots_release(&ms->slots, slots_oldest(&ms->slots));
	i = slots_take(&ms->slots, h);
	ms->queries = slots_entries(&ms->slots); /* moved if the pool grew */
	ms->queries[i].key = *ex;
	ms->queries[i].ts_ns = ts_ns;
}

bool mirror_is_mirror(struct mirror_set *ms, const struct mirror_exchange *ex)
{
	return find(ms, ex, hash_bytes(ex, sizeof(*ex), ms->seed)) != SLOTS_NIL;
}

void mirror_expire(struct mirror_set *ms, uint64_t now_ns)
{
	uint32_t i;

	while ((i = slots_oldest(&ms->slots)) != SLOTS_NIL &&
	       ms->queries[i].ts_ns + ms->ttl_ns < now_ns)
		slots_release(&ms->slots, i);
}
