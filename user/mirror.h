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

#include "packet.h"

struct mirror_set;

struct mirror_set *mirror_new(size_t capacity, uint64_t ttl_ns);
void mirror_free(struct mirror_set *ms);

/* A query left a local client socket (dir egress). */
void mirror_note_query(struct mirror_set *ms, const struct pkt_meta *meta, uint16_t id);

/*
 * Is this server-side message (ingress query or egress response, with DNS
 * id `id`) the second copy of an exchange whose client copy was noted?
 */
bool mirror_is_mirror(struct mirror_set *ms, const struct pkt_meta *meta, uint16_t id,
		      bool is_response);

/* Forget queries noted more than ttl_ns before now_ns. */
void mirror_expire(struct mirror_set *ms, uint64_t now_ns);

#endif
