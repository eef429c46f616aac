// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Mirror detection: a bounded set of recent egress queries, keyed by the
 * exchange's addresses, ports, transport and DNS id. See mirror.h.
 */
#include <netinet/in.h>
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

/*
 * The exchange an observation belongs to, oriented as its query travels
 * (client -> server), in the form the mirror set keys: the same for the
 * client's and the server's copy, and without the host, so that a client
 * on one host and its server on another (fleet input) also make one
 * exchange.
 */
static void exchange_of(const struct dns_obs *o, struct mirror_exchange *ex)
{
	size_t alen = o->family == AF_INET ? 4 : 16; /* ignore bytes past IPv4 */

	memset(ex, 0, sizeof(*ex));
	memcpy(ex->client, o->client_addr, alen);
	memcpy(ex->server, o->server_addr, alen);
	ex->client_port = o->client_port;
	ex->server_port = o->server_port;
	ex->id = o->id;
	ex->family = o->family;
	ex->proto = o->proto;
}

/*
 * A query leaving a client socket is remembered; a server's copy of a
 * remembered exchange (ingress query, egress response) is a mirror. Needs
 * observations in time order, which every source delivers (offline inputs
 * are merged by time).
 */
bool mirror_observe(struct mirror_set *ms, const struct dns_obs *o)
{
	struct mirror_exchange ex;

	if (o->kind == OBS_QUERY && o->dir == DNSSNOOP_EGRESS) {
		exchange_of(o, &ex);
		mirror_note_query(ms, &ex, o->ts_ns);
		return false;
	}
	if (!obs_server_vantage(o))
		return false;
	exchange_of(o, &ex);
	return mirror_is_mirror(ms, &ex);
}
