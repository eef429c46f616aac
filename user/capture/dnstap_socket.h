/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --dnstap-socket PATH: dnssnoop as a dnstap collector. DNS servers
 * (unbound's dnstap-socket-path, BIND's dnstap-output unix, Knot
 * Resolver, PowerDNS, CoreDNS...) connect to this unix socket and send
 * their dnstap. Each connection does Frame Streams' bidirectional
 * handshake: the writer's READY (offering content types) is answered
 * with ACCEPT of dnstap's, then START, data frames, and STOP, answered
 * with FINISH. A writer that starts with START (unidirectional) is taken
 * too. Several servers (or one server's threads) may be connected at
 * once; their messages come out in arrival order.
 *
 * The socket is created with mode 0600 (the owner's servers only: anyone
 * who may connect can inject messages); a stale socket file at PATH is
 * replaced, anything else there is an error. It is removed at the end.
 */
#ifndef DNSSNOOP_DNSTAP_SOCKET_H
#define DNSSNOOP_DNSTAP_SOCKET_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/capture_dnstap.h"

struct dnstap_socket_stats {
	struct dnstap_stats msgs;
	uint64_t connections; /* accepted */
	uint64_t refused; /* dropped: a bad handshake, another content type, damage */
};

struct dnstap_socket;

/* Listening at path; NULL with err naming it when that cannot be. */
struct dnstap_socket *dnstap_socket_listen(const char *path, char *err, size_t errlen);
/* Reading ends once *stop is set, or at CLOCK_MONOTONIC deadline_ns (0: never). */
void dnstap_socket_set_end(struct dnstap_socket *ds, volatile sig_atomic_t *stop,
			   uint64_t deadline_ns);
/* dnstap_socket_next(): nothing came for a while (100 ms). */
#define DNSTAP_SOCKET_IDLE 2

/*
 * The next message: 1 with *pkt set (valid until the next call), 0 when
 * reading has ended, DNSTAP_SOCKET_IDLE when nothing came for a while (so
 * the caller's timers can run), -1 with err about one connection (which is
 * dropped; the others and the socket go on).
 */
int dnstap_socket_next(struct dnstap_socket *ds, const struct dnstap_packet **pkt, char *err,
		       size_t errlen);
void dnstap_socket_get_stats(const struct dnstap_socket *ds, struct dnstap_socket_stats *st);
void dnstap_socket_close(struct dnstap_socket *ds);

#endif
