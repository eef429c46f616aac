// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The start-up socket scan: see sockscan.h. What each step reads:
 *   /proc/PID/fd/N -> "socket:[INODE]"        holders, sorted by inode
 *   /proc/PID/{comm,status,cgroup}            the owner of a holder
 *   /proc/PID/ns/net                          namespaces, by inode
 *   SOCK_DIAG_BY_FAMILY dumps (inet_diag)     inode, cookie, state, port
 * A socket held by several processes (a forking server) goes to the
 * lowest pid that holds it, the same choice every run.
 */
#include "capture/sockscan.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <bpf/bpf.h>

#include "bpf/dnssnoop.h"
#include "lib/caps.h"
#include "lib/errmsg.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* the same number on every architecture */
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

#define MAX_NETNS  4096
#define TCP_LISTEN 10
#define PATH_LEN   4096

/* A process that holds sockets, and what the owners map says of it. */
struct proc_owner {
	int pid;
	struct dnssnoop_owner owner;
};

/* A socket inode and where one process holds it. */
struct holder {
	uint64_t inode;
	uint32_t proc; /* index into procs */
	int fd; /* the fd number in that process */
};

struct scan {
	const struct sockscan_config *cfg;
	struct sockscan_result *res;
	struct proc_owner *procs;
	size_t nprocs, procs_cap;
	struct holder *holders;
	size_t nholders, holders_cap;
	uint64_t netns_ino[MAX_NETNS];
	int netns_fd[MAX_NETNS]; /* [0] is this process's own */
	unsigned int nnetns;
	uint32_t seq;
	bool may_ptrace; /* CAP_SYS_PTRACE: a refused link is not ours to count */
};

static void *grow(void *arr, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;
	void *p;

	if (need <= *cap)
		return arr;
	while (n < need)
		n *= 2;
	p = realloc(arr, n * size);
	if (p)
		*cap = n;
	return p;
}

/* Read a small /proc file into buf (NUL-terminated); bytes read or -1. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* The cgroup2 path in /proc/PID/cgroup ("0::/x") -> the directory's inode (the cgroup id). */
static uint64_t proc_cgroup_id(const struct scan *sc, int pid)
{
	char buf[PATH_LEN], path[PATH_LEN + 64];
	struct stat st;
	char *line, *nl;

	if (!sc->cfg->cgroup_root)
		return 0;
	snprintf(path, sizeof(path), "%s/%d/cgroup", sc->cfg->proc, pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return 0;
	line = strstr(buf, "0::");
	if (!line || (line != buf && line[-1] != '\n'))
		return 0;
	line += 3;
	nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	snprintf(path, sizeof(path), "%s%s", sc->cfg->cgroup_root, line);
	return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

static void proc_owner(const struct scan *sc, int pid, struct dnssnoop_owner *o)
{
	char path[PATH_LEN], buf[4096];
	const char *uid;
	ssize_t n;

	memset(o, 0, sizeof(*o));
	o->tgid = (uint32_t)pid;
	o->pid = (uint32_t)pid;
	snprintf(path, sizeof(path), "%s/%d/comm", sc->cfg->proc, pid);
	n = read_small(path, buf, sizeof(buf));
	if (n > 0) {
		buf[strcspn(buf, "\n")] = '\0';
		memcpy(o->comm, buf, strnlen(buf, sizeof(o->comm) - 1));
	}
	snprintf(path, sizeof(path), "%s/%d/status", sc->cfg->proc, pid);
	if (read_small(path, buf, sizeof(buf)) > 0 && (uid = strstr(buf, "\nUid:")))
		o->uid = (uint32_t)strtoul(uid + 5, NULL, 10); /* the real uid comes first */
	o->cgroup_id = proc_cgroup_id(sc, pid);
}

static void note_netns(struct scan *sc, const char *path)
{
	struct stat st;
	int fd;

	if (sc->nnetns == MAX_NETNS || stat(path, &st) < 0)
		return;
	for (unsigned int i = 0; i < sc->nnetns; i++)
		if (sc->netns_ino[i] == (uint64_t)st.st_ino)
			return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	sc->netns_ino[sc->nnetns] = (uint64_t)st.st_ino;
	sc->netns_fd[sc->nnetns++] = fd;
}

static int add_holder(struct scan *sc, uint64_t inode, uint32_t proc, int fd)
{
	struct holder *h = grow(sc->holders, &sc->holders_cap, sc->nholders + 1, sizeof(*h));

	if (!h)
		return -1;
	sc->holders = h;
	h[sc->nholders++] = (struct holder){.inode = inode, .proc = proc, .fd = fd};
	return 0;
}

static bool refused(int err)
{
	return err == EACCES || err == EPERM;
}

/*
 * The sockets in /proc/PID/fd; the process becomes a proc_owner if it has any.
 * Another user's process takes two privileges: listing the directory is a
 * permission check (CAP_DAC_READ_SEARCH), reading its links a ptrace check
 * (CAP_SYS_PTRACE). Either refusal counts the process as unreadable once; a
 * link refused despite CAP_SYS_PTRACE (a security module's, or a process
 * of another user namespace) is not what the degradation line is about.
 */
static int scan_fds(struct scan *sc, int pid)
{
	char path[PATH_LEN], link[64];
	size_t before = sc->nholders;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%d/fd", sc->cfg->proc, pid);
	d = opendir(path);
	if (!d && refused(errno))
		sc->res->procs_unreadable++; /* another user's, and we may not look */
	if (!d)
		return 0; /* gone, or a kernel thread */
	while ((de = readdir(d))) {
		uint64_t inode;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%d/fd/%s", sc->cfg->proc, pid, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0 && refused(errno) && !sc->may_ptrace) {
			sc->res->procs_unreadable++;
			break;
		}
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%" SCNu64 "]", &inode) != 1)
			continue;
		if (add_holder(sc, inode, (uint32_t)sc->nprocs, atoi(de->d_name)) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	if (sc->nholders == before)
		return 0;
	sc->procs = grow(sc->procs, &sc->procs_cap, sc->nprocs + 1, sizeof(*sc->procs));
	if (!sc->procs)
		return -1;
	sc->procs[sc->nprocs].pid = pid;
	proc_owner(sc, pid, &sc->procs[sc->nprocs].owner);
	sc->nprocs++;
	return 0;
}

static int walk_proc(struct scan *sc)
{
	char path[PATH_LEN];
	struct dirent *de;
	DIR *d = opendir(sc->cfg->proc);

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "%s/%ld/ns/net", sc->cfg->proc, pid);
		note_netns(sc, path);
		if (scan_fds(sc, (int)pid) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

/* By inode, then by holder (processes in /proc order: lowest pid first). */
static int holder_cmp(const void *a, const void *b)
{
	const struct holder *x = a, *y = b;

	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	return x->proc < y->proc ? -1 : x->proc > y->proc;
}

static const struct holder *find_holder(const struct scan *sc, uint64_t inode)
{
	size_t lo = 0, hi = sc->nholders;

	while (lo < hi) { /* the first holder with this inode */
		size_t mid = lo + (hi - lo) / 2;

		if (sc->holders[mid].inode < inode)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sc->nholders && sc->holders[lo].inode == inode ? &sc->holders[lo] : NULL;
}

static bool traced_port(const struct sockscan_config *cfg, uint16_t port)
{
	for (int i = 0; i < cfg->nports; i++)
		if (cfg->ports[i] == port)
			return true;
	return false;
}

/*
 * Socket storage is keyed by a socket fd of ours: borrow the holder's
 * (pidfd_getfd, Linux 5.6) and check it is still the same socket.
 */
static void give_listener(struct scan *sc, const struct holder *h, const struct dnssnoop_owner *o)
{
	int pidfd = (int)syscall(SYS_pidfd_open, sc->procs[h->proc].pid, 0);
	struct stat st;
	int fd;

	if (pidfd < 0)
		return;
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, h->fd, 0);
	close(pidfd);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_ino == h->inode &&
	    bpf_map_update_elem(sc->cfg->listeners_fd, &fd, o, BPF_NOEXIST) == 0)
		sc->res->listeners++;
	close(fd);
}

static void on_socket(struct scan *sc, int proto, const struct inet_diag_msg *m)
{
	uint64_t cookie = (uint64_t)m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32;
	const struct holder *h = find_holder(sc, m->idiag_inode);
	const struct dnssnoop_owner *o;

	sc->res->sockets++;
	if (!h || !m->idiag_inode)
		return; /* a socket no process holds (a TIME_WAIT, a kernel socket) */
	o = &sc->procs[h->proc].owner;
	/* BPF_NOEXIST: a hook that saw the socket used since we attached knows better. */
	if (bpf_map_update_elem(sc->cfg->owners_fd, &cookie, o, BPF_NOEXIST) == 0)
		sc->res->owned++;
	if (proto == IPPROTO_TCP && m->idiag_state == TCP_LISTEN && sc->cfg->listeners_fd >= 0 &&
	    traced_port(sc->cfg, ntohs(m->id.idiag_sport)))
		give_listener(sc, h, o);
}

/* One SOCK_DIAG_BY_FAMILY dump. Returns 0 or -errno (-ENOENT: no diag module for it). */
static int dump(struct scan *sc, int nl, uint8_t family, uint8_t proto)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = {
		.nlh = {.nlmsg_len = sizeof(req),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = ++sc->seq},
		.r = {.sdiag_family = family, .sdiag_protocol = proto, .idiag_states = ~0u},
	};
	static _Alignas(struct nlmsghdr) char buf[32768];

	if (send(nl, &req, sizeof(req), 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);
		int left = (int)n;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPROTO;
		/* NLMSG_OK, with the comparison of nlmsg_len to left made unsigned explicitly. */
		for (struct nlmsghdr *h = (void *)buf;
		     left >= (int)sizeof(*h) && h->nlmsg_len >= sizeof(*h) &&
		     h->nlmsg_len <= (unsigned int)left;
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != sc->seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				return h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error
					       ? e->error
					       : -EPROTO;
			}
			if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
			    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				on_socket(sc, proto, NLMSG_DATA(h));
		}
	}
}

/* A sock_diag socket in namespace i (0: ours); -errno on failure. */
static int diag_socket(struct scan *sc, unsigned int i)
{
	int s, e;

	if (i == 0) {
		s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
		return s < 0 ? -errno : s;
	}
	if (setns(sc->netns_fd[i], CLONE_NEWNET) < 0)
		return -errno;
	s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	e = errno;
	/* The socket stays in the namespace it was made in; we go home. */
	if (setns(sc->netns_fd[0], CLONE_NEWNET) < 0) {
		perror("dnssnoop: cannot return to its own network namespace");
		abort();
	}
	return s < 0 ? -e : s;
}

/*
 * Every UDP and TCP socket of namespace i. Returns 0 when every dump
 * worked, else -errno of the last failure and what failed in *what.
 */
static int scan_netns(struct scan *sc, unsigned int i, const char **what)
{
	static const struct {
		uint8_t family, proto;
		const char *name;
	} dumps[] = {
		{AF_INET, IPPROTO_UDP, "UDP over IPv4"},
		{AF_INET6, IPPROTO_UDP, "UDP over IPv6"},
		{AF_INET, IPPROTO_TCP, "TCP over IPv4"},
		{AF_INET6, IPPROTO_TCP, "TCP over IPv6"},
	};
	int nl = diag_socket(sc, i), err = 0;

	*what = "a sock_diag socket";
	if (nl < 0)
		return nl;
	for (size_t d = 0; d < sizeof(dumps) / sizeof(dumps[0]); d++) {
		int ret = dump(sc, nl, dumps[d].family, dumps[d].proto);

		if (ret < 0) {
			err = ret;
			*what = dumps[d].name;
		}
	}
	close(nl);
	return err;
}

static void scan_free(struct scan *sc)
{
	for (unsigned int i = 0; i < sc->nnetns; i++)
		close(sc->netns_fd[i]);
	free(sc->holders);
	free(sc->procs);
	free(sc);
}

int sockscan_run(const struct sockscan_config *cfg, struct sockscan_result *res, char *err,
		 size_t errlen)
{
	struct scan *sc = calloc(1, sizeof(*sc));
	char self[PATH_LEN];
	int ret = 0;

	memset(res, 0, sizeof(*res));
	if (!sc) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	sc->cfg = cfg;
	sc->res = res;
	sc->may_ptrace = caps_permitted() & CAPS_BIT(CAP_SYS_PTRACE);
	snprintf(self, sizeof(self), "%s/self/ns/net", cfg->proc);
	note_netns(sc, self);
	if (sc->nnetns == 0 || walk_proc(sc) < 0) {
		set_err(err, errlen, "cannot read %s: %s", cfg->proc, strerror(errno));
		scan_free(sc);
		return -1;
	}
	if (sc->nholders) /* holders is NULL when no process holds a socket */
		qsort(sc->holders, sc->nholders, sizeof(*sc->holders), holder_cmp);
	/* Our own namespace must work; another that cannot be entered is skipped. */
	for (unsigned int i = 0; i < sc->nnetns; i++) {
		const char *what;
		int n = scan_netns(sc, i, &what);

		res->netns++;
		if (n == -EPERM && i > 0)
			res->netns_unentered++;
		if (n < 0 && i == 0) {
			set_err(err, errlen, "sock_diag refused %s: %s", what, strerror(-n));
			ret = -1;
		}
	}
	scan_free(sc);
	return ret;
}
