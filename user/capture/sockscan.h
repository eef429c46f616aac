/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Owners of the sockets that already exist when the live capture starts.
 *
 * The cgroup socket hooks record a socket's owner when it is created or
 * used; a socket opened before the tracer (a server's or resolver's) would
 * stay unknown until its owner next sends or receives through a hooked
 * call, so a server's first query would carry no process. sockscan_run()
 * fills that gap once, right after the hooks are attached, from interfaces
 * that are stable on every kernel (no BPF iterator):
 *   - /proc/PID/fd: which process holds which socket inode, and
 *     /proc/PID/ns/net: which network namespaces are in use;
 *   - sock_diag (NETLINK_SOCK_DIAG, what ss uses) in each namespace: each
 *     UDP/TCP socket's inode, cookie, state and local port;
 *   - the owners map gets cookie -> owner for every socket a process holds
 *     (without replacing what a hook recorded meanwhile), and the listener
 *     storage gets the owner of every TCP listener on a traced port (keyed
 *     by socket fd: a copy of the holder's fd, through pidfd_getfd).
 */
#ifndef DNSSNOOP_SOCKSCAN_H
#define DNSSNOOP_SOCKSCAN_H

#include <stddef.h>
#include <stdint.h>

struct sockscan_config {
	int owners_fd; /* BPF hash map: socket cookie -> struct dnssnoop_owner */
	int listeners_fd; /* BPF sk storage map for TCP listeners; -1: none */
	const uint16_t *ports; /* traced ports, host order */
	int nports;
	const char *cgroup_root; /* cgroup2 mount point, for owners' cgroup ids */
	const char *proc; /* "/proc" (tests may point elsewhere) */
};

struct sockscan_result {
	unsigned int netns; /* network namespaces asked */
	unsigned int sockets; /* UDP/TCP sockets sock_diag listed */
	unsigned int owned; /* of those, held by a process: owners recorded */
	unsigned int listeners; /* TCP listeners on traced ports given an owner */
	/* Without CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE: other users' processes */
	unsigned int procs_unreadable;
	/* Without CAP_SYS_ADMIN: network namespaces that could not be entered */
	unsigned int netns_unentered;
};

/*
 * Scan and fill the maps. Returns 0 (res filled; namespaces that could not
 * be entered are skipped), or -1 with one line in err when part of this
 * process's own namespace could not be asked (no sock_diag, or no
 * udp_diag module); what could be asked is in the maps even then.
 */
int sockscan_run(const struct sockscan_config *cfg, struct sockscan_result *res, char *err,
		 size_t errlen);

#endif
