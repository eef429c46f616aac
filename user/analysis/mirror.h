/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Mirror detection. When both ends of an exchange are local (a client and
 * a resolver on one host, or containers talking to each other), the live
 * hook sees every message twice: the client's copy (egress query, ingress
 * response) and the server's copy (ingress query, egress response).
 * Host-wide statistics must count such an exchange once; this set
 * remembers recent egress queries from local clients so the server's copy
 * can be recognised as a mirror.
 *
 * Bounded: at most capacity queries, each forgotten after ttl_ns (or when
 * the set is full, oldest first).
 */
#ifndef DNSSNOOP_MIRROR_H
#define DNSSNOOP_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>

#include "lib/obs.h"

/*
 * One exchange, oriented as its query travels (client -> server): the same
 * for the client's copy and the server's. Addresses are 16 bytes, IPv4 in
 * the first 4 and zeros after; build it zeroed, since it is compared and
 * hashed as bytes.
 */
struct mirror_exchange {
	uint8_t client[16], server[16];
	uint16_t client_port, server_port;
	uint16_t id; /* DNS id */
	uint8_t family, proto;
};

struct mirror_set;

struct mirror_set *mirror_new(size_t capacity, uint64_t ttl_ns);
void mirror_free(struct mirror_set *ms);

/* A query of this exchange left a local client socket (dir egress) at ts_ns. */
void mirror_note_query(struct mirror_set *ms, const struct mirror_exchange *ex, uint64_t ts_ns);

/*
 * Is a server-side message (ingress query or egress response) of this
 * exchange the second copy of one whose client copy was noted?
 */
bool mirror_is_mirror(struct mirror_set *ms, const struct mirror_exchange *ex);

/* Forget queries noted more than ttl_ns before now_ns. */
void mirror_expire(struct mirror_set *ms, uint64_t now_ns);

/*
 * The exchange an observation belongs to, oriented as its query travels
 * (client -> server), in the form the mirror set keys: the same for the
 * client's and the server's copy, and without the host, so that a client
 * on one host and its server on another (fleet input) also make one
 * exchange.
 */
static inline void mirror_exchange_of(const struct dns_obs *o, struct mirror_exchange *ex)
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
 * are merged by time). Inline: the statistics call it per message.
 */
static inline bool mirror_observe(struct mirror_set *ms, const struct dns_obs *o)
{
	struct mirror_exchange ex;

	if (o->kind == OBS_QUERY && o->dir == DNSSNOOP_EGRESS) {
		mirror_exchange_of(o, &ex);
		mirror_note_query(ms, &ex, o->ts_ns);
		return false;
	}
	if (!obs_server_vantage(o))
		return false;
	mirror_exchange_of(o, &ex);
	return mirror_is_mirror(ms, &ex);
}

#endif
