/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Least privilege for the live tracer: once the BPF programs are loaded
 * and attached, the ring buffer mapped and the output files open, the
 * session needs no privilege to read events and write records. Switch to
 * an unprivileged user, drop every capability, set no_new_privs and
 * confine the remaining system calls with seccomp. See docs/security.md.
 */
#ifndef DNSSNOOP_PRIVDROP_H
#define DNSSNOOP_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>

/* --seccomp */
enum privdrop_seccomp {
	PRIVDROP_SECCOMP_ON = 0, /* anything not allowed fails with EPERM */
	PRIVDROP_SECCOMP_OFF, /* no filter (a debugging aid) */
	PRIVDROP_SECCOMP_LOG, /* allow, but the kernel logs what "on" would refuse */
};

/* Called for a protection this kernel cannot give (one stderr line). */
typedef void (*privdrop_degrade_fn)(void *ctx, const char *name, const char *why, const char *cost);

struct privdrop_config {
	const char *user; /* -Z: a name or uid; "root" keeps uid 0; NULL: the default */
	enum privdrop_seccomp seccomp;
	/*
	 * clsact filters are attached: keep CAP_NET_ADMIN permitted (never
	 * effective until the teardown raises it) and allow netlink sockets,
	 * so the tracer can remove them itself should its guard be gone.
	 */
	bool keep_net_admin;
	/*
	 * --dnstap-out unix:PATH: libfstrm's I/O thread starts after the
	 * drop and connects (and reconnects) to the collector: unix sockets
	 * and starting a thread allowed.
	 */
	bool unix_client;
	/*
	 * --metrics: a listening socket is open and its responder thread
	 * starts after the drop: allow accepting, sending, receiving and
	 * shutting down on sockets, and starting a thread (clone with
	 * CLONE_THREAD only), nothing more (app/metrics_http.h).
	 */
	bool serve_sockets;
	/*
	 * --clickhouse: its thread starts after the drop and talks HTTP to
	 * the server's TCP address (resolved before): IPv4 and IPv6 TCP
	 * sockets, connect, send, receive, and starting a thread; pwritev
	 * for its spool (files opened before the drop).
	 */
	bool tcp_client;
	/*
	 * --top-live: the terminal's modes are read and set (cbreak while
	 * the view runs, restored at its end) and its size read: ioctl with
	 * those requests only.
	 */
	bool terminal;
	bool verbose; /* say what was kept */
	privdrop_degrade_fn degrade;
	void *degrade_ctx;
};

/*
 * Is user something -Z can switch to? "root", an existing user name or a
 * number. For the command line's usage check.
 */
bool privdrop_user_valid(const char *user);

/*
 * Drop. Returns 0, or -1 with err set when a step that must succeed failed
 * (the caller must not go on: it would run with more privilege than asked).
 */
int privdrop_apply(const struct privdrop_config *cfg, char *err, size_t errlen);

#endif
