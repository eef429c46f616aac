// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Classic tc attachment (clsact qdisc + cls_bpf filters) for --hook tc
 * with --tc-attach clsact or on kernels without TCX, and the guard
 * process that makes it safe.
 *
 * A TCX or xdp bpf_link belongs to a file descriptor: the kernel detaches
 * it when the process dies, however it dies. A clsact filter belongs to
 * the interface and outlives the process that attached it, so a tracer
 * killed with SIGKILL would leave its program running on the interface.
 * Hence the guard: a process of its own session, forked before the first
 * filter exists, told of each filter before it is attached and of each
 * qdisc we create, which removes exactly those when the tracer's end of
 * their socket pair closes without a "done". What a tracer killed together
 * with its guard leaves behind, the next dnssnoop clears as stale.
 * See tc_clsact.h and docs/capture.md ("tc attachment").
 */
#include "capture/tc_clsact.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/caps.h"
#include "lib/errmsg.h"

/* Ingress and egress on each interface. */
#define MAX_FILTERS (2 * TC_CLSACT_MAX_IFACES)

/*
 * Our clsact filters are known by this handle and priority (tc's own
 * defaults are handle 1 and an allocated priority near 49152), plus the
 * name and id of the program they run.
 */
#define TC_HANDLE	0xd55
#define TC_PRIORITY	0xd55
#define TC_INGRESS_NAME "dns_tc_ingress"
#define TC_EGRESS_NAME	"dns_tc_egress"
/* How long a normal detach waits for the guard to exit before killing it. */
#define GUARD_REAP_MS 2000
#define GUARD_NAME    "dnssnoop-guard"
/* One rtnetlink dump read; filter messages are far smaller. */
#define NL_BUF_SIZE 32768

/* One clsact filter of ours: where it is and which program it runs. */
struct tc_filter {
	int32_t ifindex;
	uint32_t point; /* BPF_TC_INGRESS or BPF_TC_EGRESS */
	uint32_t prog_id;
};

/*
 * What to remove from the interfaces on exit: the filters we attached and
 * the clsact qdiscs we created (not those that were there before us).
 * The tracer and its guard process each keep one.
 */
struct clsact_set {
	struct tc_filter filters[MAX_FILTERS];
	int nfilters;
	int32_t qdiscs[TC_CLSACT_MAX_IFACES]; /* ifindexes */
	int nqdiscs;
};

/* Tracer -> guard, one per datagram of a SOCK_SEQPACKET pair. */
enum guard_kind {
	GUARD_FILTER = 1, /* about to attach this filter */
	GUARD_QDISC, /* created this qdisc */
	GUARD_DONE, /* removed everything ourselves: exit, touch nothing */
};

struct guard_msg {
	uint32_t kind; /* enum guard_kind */
	struct tc_filter f; /* GUARD_FILTER; GUARD_QDISC uses f.ifindex */
};

struct tc_clsact {
	struct clsact_set set; /* what we attached the classic way */
	pid_t guard_pid; /* 0: no guard */
	int guard_fd; /* our end of the guard's socket pair, -1: none */
};

struct tc_clsact *tc_clsact_new(char *err, size_t errlen)
{
	struct tc_clsact *tc = calloc(1, sizeof(*tc));

	if (!tc) {
		set_err(err, errlen, "dnssnoop: out of memory");
		return NULL;
	}
	tc->guard_fd = -1;
	return tc;
}

/* ------------------------------------------------------------ filters and qdiscs */

static uint32_t prog_id_of_fd(int fd)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ? 0 : info.id;
}

/* The name of loaded program id into name (empty if it is gone). */
static void prog_name_of_id(uint32_t id, char *name, size_t len)
{
	struct bpf_prog_info info;
	uint32_t ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	name[0] = '\0';
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen) == 0)
		snprintf(name, len, "%s", info.name);
	close(fd);
}

/* The program id of the filter at our handle and priority, 0 if none. */
static uint32_t our_slot_prog_id(int ifindex, uint32_t point)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = TC_HANDLE, .priority = TC_PRIORITY);

	return bpf_tc_query(&hook, &q) < 0 ? 0 : q.prog_id;
}

static int detach_our_slot(int ifindex, uint32_t point)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, d, .handle = TC_HANDLE, .priority = TC_PRIORITY);

	return bpf_tc_detach(&hook, &d);
}

/*
 * Remove a filter only if our slot still runs the program we put there:
 * never someone else's filter, even one that took the slot after ours.
 * Returns 1 if removed.
 */
static int remove_filter(const struct tc_filter *f)
{
	if (!f->prog_id || our_slot_prog_id(f->ifindex, f->point) != f->prog_id)
		return 0;
	return detach_our_slot(f->ifindex, f->point) == 0;
}

/*
 * Filters under one direction of an interface's clsact qdisc (all
 * owners), from an rtnetlink dump; -1 if the dump failed.
 */
static int count_tc_filters(int ifindex, uint32_t point)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req = {
		.nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
		       .nlmsg_type = RTM_GETTFILTER,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		       .nlmsg_seq = 1},
		.tc = {.tcm_family = AF_UNSPEC,
		       .tcm_ifindex = ifindex,
		       .tcm_parent =
			       TC_H_MAKE(TC_H_CLSACT, point == BPF_TC_INGRESS ? TC_H_MIN_INGRESS
									      : TC_H_MIN_EGRESS)},
	};
	union {
		struct nlmsghdr nh;
		char raw[NL_BUF_SIZE];
	} buf;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int count = 0;

	if (fd < 0)
		return -1;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0)
		goto fail;
	for (;;) {
		ssize_t n = recv(fd, &buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		for (nh = &buf.nh; NLMSG_OK(nh, n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_DONE) {
				close(fd);
				return count;
			}
			if (nh->nlmsg_type == NLMSG_ERROR)
				goto fail;
			if (nh->nlmsg_type == RTM_NEWTFILTER)
				count++;
		}
	}
fail:
	close(fd);
	return -1;
}

/*
 * Delete a clsact qdisc we created, but only while it holds no filter:
 * deleting it would silently take filters someone added meanwhile.
 */
static int remove_qdisc(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

	if (count_tc_filters(ifindex, BPF_TC_INGRESS) != 0 ||
	    count_tc_filters(ifindex, BPF_TC_EGRESS) != 0)
		return 0;
	return bpf_tc_hook_destroy(&hook) == 0;
}

/* Filters first (the qdisc check wants them gone); returns filters removed. */
static int clsact_remove_all(struct clsact_set *set)
{
	int removed = 0;

	for (int i = 0; i < set->nfilters; i++)
		removed += remove_filter(&set->filters[i]);
	for (int i = 0; i < set->nqdiscs; i++)
		remove_qdisc(set->qdiscs[i]);
	set->nfilters = 0;
	set->nqdiscs = 0;
	return removed;
}

static void clsact_record(struct clsact_set *set, const struct guard_msg *m)
{
	if (m->kind == GUARD_FILTER && set->nfilters < MAX_FILTERS)
		set->filters[set->nfilters++] = m->f;
	else if (m->kind == GUARD_QDISC && set->nqdiscs < TC_CLSACT_MAX_IFACES)
		set->qdiscs[set->nqdiscs++] = m->f.ifindex;
}

/* ------------------------------------------------------------ the guard */

/*
 * The guard keeps only its end of the socket pair (as fd 3) and stderr:
 * it must not keep the tracer's output, BPF objects or anything else open.
 */
static void guard_isolate(int fd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
	}
	if (fd != 3) {
		dup2(fd, 3);
		fd = 3;
	}
	if (close_range(4, ~0U, 0) < 0) {
		for (int i = 4; i < 1024; i++)
			close(i);
	}
}

/*
 * The guard only ever removes filters and qdiscs (rtnetlink): it keeps
 * CAP_NET_ADMIN and nothing else, and can gain nothing through execve.
 * Best effort: it must start even where a step is refused.
 */
static void guard_drop_privileges(void)
{
	caps_drop_bounding(CAPS_BIT(CAP_NET_ADMIN));
	caps_limit(CAPS_BIT(CAP_NET_ADMIN), CAPS_BIT(CAP_NET_ADMIN));
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/*
 * The guard: collect what the tracer attaches; when the tracer's end of
 * the pair closes without GUARD_DONE (it died, however), remove exactly
 * that. A new session, so a signal to the tracer's process group (Ctrl-C,
 * kill -PGID) does not reach it; SIGINT/SIGTERM/SIGHUP are ignored too.
 */
static __attribute__((noreturn)) void guard_main(int fd)
{
	struct clsact_set set = {0};
	struct guard_msg m;
	const char ready = 'r';
	sigset_t none;
	int removed;

	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* start_guard blocked them all */
	setsid();
	prctl(PR_SET_NAME, GUARD_NAME, 0, 0, 0);
	guard_isolate(fd);
	guard_drop_privileges();
	if (send(3, &ready, 1, MSG_NOSIGNAL) != 1)
		_exit(1);
	for (;;) {
		ssize_t n = recv(3, &m, sizeof(m), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EOF: the tracer is gone */
		if ((size_t)n != sizeof(m))
			continue;
		if (m.kind == GUARD_DONE)
			_exit(0);
		clsact_record(&set, &m);
	}
	removed = clsact_remove_all(&set);
	if (removed)
		dprintf(STDERR_FILENO,
			"dnssnoop: " GUARD_NAME ": the tracer ended without detaching; removed its "
			"%d tc filter(s)\n",
			removed);
	_exit(0);
}

/*
 * The guard says it is ready once it ignores signals and has left our
 * session: only then is a filter safe to attach.
 */
static int wait_guard_ready(struct tc_clsact *tc, char *err, size_t errlen)
{
	char ready;
	ssize_t n;

	do {
		n = recv(tc->guard_fd, &ready, 1, 0);
	} while (n < 0 && errno == EINTR);
	if (n == 1)
		return 0;
	set_err(err, errlen, "dnssnoop: the clsact guard process did not start (%s)",
		n < 0 ? strerror(errno) : "it exited");
	return -1;
}

/*
 * Fork the guard before the first clsact filter exists, so no filter is
 * ever unguarded. Signals are blocked across fork() so the child cannot
 * die of one before it has set them to be ignored.
 */
static int start_guard(struct tc_clsact *tc, char *err, size_t errlen)
{
	sigset_t all, old;
	int sv[2];
	pid_t pid;

	if (tc->guard_pid)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		set_err(err, errlen, "dnssnoop: cannot create the clsact guard's socket: %s",
			strerror(errno));
		return -1;
	}
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		guard_main(sv[1]);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		set_err(err, errlen, "dnssnoop: cannot start the clsact guard process: %s",
			strerror(errno));
		return -1;
	}
	tc->guard_pid = pid;
	tc->guard_fd = sv[0];
	return wait_guard_ready(tc, err, errlen);
}

static int guard_send(struct tc_clsact *tc, enum guard_kind kind, const struct tc_filter *f,
		      char *err, size_t errlen)
{
	struct guard_msg m = {.kind = kind};

	if (f)
		m.f = *f;
	if (send(tc->guard_fd, &m, sizeof(m), MSG_NOSIGNAL) == (ssize_t)sizeof(m))
		return 0;
	set_err(err, errlen,
		"dnssnoop: the clsact guard process is gone (%s): not attaching filters "
		"nobody would remove",
		strerror(errno));
	return -1;
}

/*
 * Tell the guard we cleaned up (cleaned: else it removes what is left when
 * our end closes), and reap it (bounded: it must not hang us).
 */
static void stop_guard(struct tc_clsact *tc, bool cleaned)
{
	int status;

	if (!tc->guard_pid)
		return;
	if (cleaned)
		guard_send(tc, GUARD_DONE, NULL, NULL, 0);
	close(tc->guard_fd);
	tc->guard_fd = -1;
	for (int waited = 0;; waited++) {
		pid_t r = waitpid(tc->guard_pid, &status, WNOHANG);

		if (r == tc->guard_pid || (r < 0 && errno != EINTR))
			break;
		if (waited == GUARD_REAP_MS) {
			kill(tc->guard_pid, SIGKILL);
			while (waitpid(tc->guard_pid, &status, 0) < 0 && errno == EINTR)
				;
			break;
		}
		usleep(1000);
	}
	tc->guard_pid = 0;
}

/* ------------------------------------------------------------ stale filters */

/* Does any process hold a file descriptor of BPF program id? (fdinfo's prog_id) */
static bool prog_held(uint32_t id)
{
	DIR *proc = opendir("/proc");
	struct dirent *p;
	char want[32];
	bool held = false;

	if (!proc)
		return true; /* cannot tell: assume a live owner, remove nothing */
	snprintf(want, sizeof(want), "prog_id:\t%u\n", id);
	while (!held && (p = readdir(proc))) {
		char path[300], line[128];
		struct dirent *f;
		DIR *fds;

		if (!isdigit((unsigned char)p->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fdinfo", p->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!held && (f = readdir(fds))) {
			int fd;
			FILE *fi;

			if (f->d_name[0] == '.')
				continue;
			fd = openat(dirfd(fds), f->d_name, O_RDONLY | O_CLOEXEC);
			fi = fd < 0 ? NULL : fdopen(fd, "r");
			if (!fi) {
				if (fd >= 0)
					close(fd);
				continue;
			}
			while (!held && fgets(line, sizeof(line), fi))
				held = !strcmp(line, want);
			fclose(fi);
		}
		closedir(fds);
	}
	closedir(proc);
	return held;
}

/*
 * A filter in our slot running our program that no process holds is what
 * a dnssnoop killed together with its guard left behind: remove it. One
 * that a live process holds belongs to a running dnssnoop; leave it.
 */
static void clear_stale_filter(int ifindex, const char *iface, uint32_t point)
{
	const char *ours = point == BPF_TC_INGRESS ? TC_INGRESS_NAME : TC_EGRESS_NAME;
	uint32_t id = our_slot_prog_id(ifindex, point);
	char name[BPF_OBJ_NAME_LEN];

	if (!id)
		return;
	prog_name_of_id(id, name, sizeof(name));
	if (strcmp(name, ours) != 0 || prog_held(id))
		return;
	if (detach_our_slot(ifindex, point) == 0)
		fprintf(stderr,
			"dnssnoop: removed a stale tc filter (%s, program id %u) that an earlier "
			"dnssnoop left on %s\n",
			name, id, iface);
}

void tc_clsact_clear_stale(int ifindex, const char *iface)
{
	clear_stale_filter(ifindex, iface, BPF_TC_INGRESS);
	clear_stale_filter(ifindex, iface, BPF_TC_EGRESS);
}

/* ------------------------------------------------------------ attaching */

/* Create the clsact qdisc unless one exists (then it is not ours to delete). */
static enum tc_clsact_result ensure_clsact(struct tc_clsact *tc, int ifindex, const char *iface,
					   char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	struct guard_msg m = {.kind = GUARD_QDISC, .f = {.ifindex = ifindex}};
	int ret = bpf_tc_hook_create(&hook);

	if (ret == -EEXIST)
		return TC_CLSACT_OK;
	if (ret < 0) {
		set_err(err, errlen, "dnssnoop: cannot create a clsact qdisc on %s: %s", iface,
			strerror(-ret));
		return ret == -EPERM || ret == -EACCES ? TC_CLSACT_NOT_PERMITTED : TC_CLSACT_FAILED;
	}
	clsact_record(&tc->set, &m);
	if (guard_send(tc, GUARD_QDISC, &m.f, err, errlen) < 0)
		return TC_CLSACT_FAILED;
	return TC_CLSACT_OK;
}

/* The guard hears of the filter before it exists, so none is unguarded. */
static int attach_clsact_filter(struct tc_clsact *tc, struct bpf_program *prog, int ifindex,
				const char *iface, uint32_t point, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(prog), .handle = TC_HANDLE,
		    .priority = TC_PRIORITY);
	struct guard_msg m = {.kind = GUARD_FILTER,
			      .f = {.ifindex = ifindex,
				    .point = point,
				    .prog_id = prog_id_of_fd(bpf_program__fd(prog))}};
	int ret;

	if (guard_send(tc, GUARD_FILTER, &m.f, err, errlen) < 0)
		return -1;
	ret = bpf_tc_attach(&hook, &opts);
	if (ret == -EEXIST) {
		set_err(err, errlen,
			"dnssnoop: %s already has a tc filter at dnssnoop's handle 0x%x priority "
			"%d "
			"(is another dnssnoop running there?)",
			iface, TC_HANDLE, TC_PRIORITY);
		return -1;
	}
	if (ret < 0) {
		set_err(err, errlen, "dnssnoop: cannot attach %s to %s with a clsact filter: %s",
			bpf_program__name(prog), iface, strerror(-ret));
		return -1;
	}
	clsact_record(&tc->set, &m);
	return 0;
}

enum tc_clsact_result tc_clsact_attach(struct tc_clsact *tc, int ifindex, const char *iface,
				       struct bpf_program *ingress, struct bpf_program *egress,
				       char *err, size_t errlen)
{
	enum tc_clsact_result ret;

	if (start_guard(tc, err, errlen) < 0)
		return TC_CLSACT_FAILED;
	ret = ensure_clsact(tc, ifindex, iface, err, errlen);
	if (ret != TC_CLSACT_OK)
		return ret;
	if (attach_clsact_filter(tc, ingress, ifindex, iface, BPF_TC_INGRESS, err, errlen) < 0 ||
	    attach_clsact_filter(tc, egress, ifindex, iface, BPF_TC_EGRESS, err, errlen) < 0)
		return TC_CLSACT_FAILED;
	return TC_CLSACT_OK;
}

bool tc_clsact_guard_gone(struct tc_clsact *tc)
{
	int status;

	if (!tc || !tc->guard_pid || waitpid(tc->guard_pid, &status, WNOHANG) != tc->guard_pid)
		return false;
	tc->guard_pid = 0;
	close(tc->guard_fd);
	tc->guard_fd = -1;
	return true;
}

pid_t tc_clsact_guard_pid(const struct tc_clsact *tc)
{
	return tc ? tc->guard_pid : 0;
}

void tc_clsact_detach(struct tc_clsact *tc)
{
	int attached;

	if (!tc)
		return;
	/*
	 * Ourselves first, then tell the guard there is nothing left to do.
	 * After a privilege drop CAP_NET_ADMIN is only permitted: raise it.
	 */
	attached = tc->set.nfilters;
	if (tc->set.nfilters || tc->set.nqdiscs)
		caps_raise(CAP_NET_ADMIN);
	stop_guard(tc, clsact_remove_all(&tc->set) == attached);
}

void tc_clsact_free(struct tc_clsact *tc)
{
	tc_clsact_detach(tc);
	free(tc);
}
