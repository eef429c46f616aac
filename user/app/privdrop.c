// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Least privilege for the live tracer: see privdrop.h and docs/security.md.
 * Order matters: the bounding set needs CAP_SETPCAP, so it goes before the
 * user switch; capabilities go after it (a switch away from uid 0 clears
 * them anyway, unless CAP_NET_ADMIN is to be kept); seccomp goes last, as
 * it forbids the calls that came before.
 */
#include "app/privdrop.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <seccomp.h>

#include "lib/caps.h"
#include "lib/errmsg.h"

#define DEFAULT_USER  "dnssnoop"
#define FALLBACK_USER "nobody"
/* nobody's uid and gid on Debian and most others, when no user is named so. */
#define NOBODY_ID 65534

/*
 * The sanitizer build's runtime needs more after the drop (LeakSanitizer
 * stops the process with ptrace from a cloned task at exit; reports open
 * their log file and start a symbolizer).
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif

/*
 * What the session does after the drop: read the ring buffer (epoll,
 * mmap'd pages, bpf() for the counters), write records and pcaps, read
 * cgroup directories and tz files (read-only openat, below), keep time,
 * handle signals, reap the clsact guard, and at exit close the BPF links
 * (closing their fds detaches them) and free memory.
 */
/* One line per purpose. */
/* clang-format off */
static const char *const allowed[] = {
	"read", "readv", "pread64", "write", "writev", "pwrite64", "lseek", "ftruncate",
	"fsync", "fdatasync", "close",
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl", "poll", "ppoll", "select",
	"pselect6",
	"bpf",
	"munmap", "mremap", "brk", "madvise",
	"fstat", "newfstatat", "statx", "fcntl", "getdents64",
	"clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "restart_syscall", "kill", "tgkill",
	"futex", "getpid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getrandom",
	"uname",
	"wait4", "waitid",
	"exit", "exit_group",
};

/*
 * Only with clsact filters: the teardown raises CAP_NET_ADMIN (capget,
 * capset) and removes them with netlink requests; the guard's socket.
 */
static const char *const allowed_clsact[] = {
	"capget", "capset",
	"sendto", "recvfrom", "sendmsg", "recvmsg", "bind", "getsockname", "setsockopt",
	"getsockopt",
};

/*
 * Only with --dnstap-out unix:PATH: libfstrm's I/O thread, started after
 * the drop, connects (and reconnects) to the collector (socket() of
 * AF_UNIX only, below) and starts as a thread does (as with --metrics).
 */
static const char *const allowed_unix_client[] = {
	"connect", "shutdown", "setsockopt", "getsockopt", "sendmsg", "recvmsg", "set_robust_list",
	"rseq",
};

/*
 * Only with --metrics: its responder's sockets (the listener was made
 * before the drop) and what a new thread does as it starts (robust futex
 * list, restartable sequences; both optional to glibc, but harmless).
 */
static const char *const allowed_serve[] = {
	"accept4", "accept", "recvfrom", "sendto", "shutdown", "set_robust_list", "rseq",
};

/* Only with --clickhouse: libcurl's connection (socket() below: AF_INET, AF_INET6), the spool. */
static const char *const allowed_tcp_client[] = {
	"connect", "shutdown", "setsockopt", "getsockopt", "getsockname", "getpeername",
	"sendto", "recvfrom", "sendmsg", "recvmsg", "set_robust_list", "rseq",
	"pwritev",
};

#ifdef SANITIZER_BUILD
static const char *const allowed_sanitizer[] = {
	"clone", "clone3", "ptrace", "prctl", "sched_yield", "sigaltstack", "getrlimit",
	"prlimit64", "setrlimit", "readlink", "readlinkat", "getppid", "dup", "dup2", "dup3",
	"pipe", "pipe2", "sched_getaffinity", "rt_sigtimedwait", "set_robust_list", "getdents",
	"mkdir", "unlink", "access", "faccessat", "faccessat2", "open", "stat", "lstat",
	"getcwd", "sysinfo", "mprotect", "mmap", "openat", "fork", "vfork", "execve",
};
#else
/* Never needed after the drop, and the sign of a compromise: end the process. */
static const char *const killed[] = {"execve", "execveat"};
#endif
/* clang-format on */

struct target {
	uid_t uid;
	gid_t gid;
	char name[64]; /* for initgroups; empty: a bare number, no groups */
};

static bool parse_id(const char *s, unsigned long *v)
{
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return !errno && !*end && *v < UINT32_MAX;
}

static bool target_of(const char *user, struct target *t)
{
	const struct passwd *pw = getpwnam(user);
	unsigned long id;

	if (pw) {
		t->uid = pw->pw_uid;
		t->gid = pw->pw_gid;
		snprintf(t->name, sizeof(t->name), "%s", pw->pw_name);
		return true;
	}
	if (!parse_id(user, &id))
		return false;
	pw = getpwuid((uid_t)id);
	t->uid = (uid_t)id;
	t->gid = pw ? pw->pw_gid : (gid_t)id;
	snprintf(t->name, sizeof(t->name), "%s", pw ? pw->pw_name : "");
	return true;
}

bool privdrop_user_valid(const char *user)
{
	struct target t;

	return target_of(user, &t);
}

/* -Z, or dnssnoop, or nobody, or the number nobody has everywhere. */
static int find_target(const char *user, struct target *t, char *err, size_t errlen)
{
	if (user) {
		if (target_of(user, t))
			return 0;
		set_err(err, errlen, "dnssnoop: -Z: no user %s", user);
		return -1;
	}
	if (target_of(DEFAULT_USER, t) || target_of(FALLBACK_USER, t))
		return 0;
	*t = (struct target){.uid = NOBODY_ID, .gid = NOBODY_ID};
	return 0;
}

static bool is_current(const struct target *t)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	getresuid(&r, &e, &s);
	getresgid(&rg, &eg, &sg);
	return r == t->uid && e == t->uid && s == t->uid && rg == t->gid && eg == t->gid &&
	       sg == t->gid;
}

/* After the switch: every id is the target's, and uid 0 is out of reach. */
static int verify_switch(const struct target *t, char *err, size_t errlen)
{
	if (!is_current(t)) {
		set_err(err, errlen, "dnssnoop: switching to uid %u gid %u did not take",
			(unsigned)t->uid, (unsigned)t->gid);
		return -1;
	}
	if (t->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		set_err(err, errlen, "dnssnoop: uid %u could become root again", (unsigned)t->uid);
		return -1;
	}
	return 0;
}

static int set_ids(const struct target *t, char *err, size_t errlen)
{
	int ret = t->name[0] ? initgroups(t->name, t->gid) : setgroups(0, NULL);

	if (ret < 0 || setresgid(t->gid, t->gid, t->gid) < 0 ||
	    setresuid(t->uid, t->uid, t->uid) < 0) {
		set_err(err, errlen, "dnssnoop: cannot switch to uid %u gid %u: %s",
			(unsigned)t->uid, (unsigned)t->gid, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Without CAP_SETUID (started unprivileged, with capabilities) the default
 * user is not worth failing for: the caller is not root already. A user
 * named with -Z is.
 */
static int switch_user(const struct privdrop_config *cfg, const struct target *t, uint64_t keep,
		       char *err, size_t errlen)
{
	int ret;

	if (is_current(t))
		return 0;
	if (!(caps_permitted() & CAPS_BIT(CAP_SETUID)) ||
	    !(caps_permitted() & CAPS_BIT(CAP_SETGID))) {
		if (!cfg->user && getuid() != 0 && geteuid() != 0)
			return 0;
		set_err(err, errlen,
			"dnssnoop: cannot switch to uid %u (-Z): that needs root or "
			"CAP_SETUID and CAP_SETGID",
			(unsigned)t->uid);
		return -1;
	}
	if (keep)
		prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
	ret = set_ids(t, err, errlen);
	if (keep)
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	return ret < 0 ? -1 : verify_switch(t, err, errlen);
}

static int add_rules(scmp_filter_ctx ctx, uint32_t action, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);

		if (nr == __NR_SCMP_ERROR)
			continue; /* not a system call on this architecture */
		if (seccomp_rule_add(ctx, action, nr, 0) < 0)
			return -1;
	}
	return 0;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#ifndef SANITIZER_BUILD
/* Argument arg with the bits of mask clear (libseccomp's SCMP_A* leave datum_b implicit). */
static struct scmp_arg_cmp bits_clear(unsigned int arg, uint64_t mask)
{
	return (struct scmp_arg_cmp){.arg = arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = mask};
}
#endif

/*
 * Files are opened for reading only; memory is never made executable (the
 * sanitizer build allows these three unconditionally).
 */
static int add_restricted(scmp_filter_ctx ctx, bool netlink)
{
	struct scmp_arg_cmp netlink_only = {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = AF_NETLINK};
	int ret = 0;

#ifndef SANITIZER_BUILD
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
			       bits_clear(2, O_ACCMODE | O_CREAT | O_TRUNC));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				       bits_clear(2, PROT_EXEC));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				       bits_clear(2, PROT_EXEC));
#endif
	if (!ret && netlink)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, netlink_only);
	return ret;
}

/*
 * A thread, but no process: clone only with CLONE_THREAD. clone3 passes
 * its flags in memory, which a filter cannot read: it fails with ENOSYS,
 * and glibc falls back to clone. The sanitizer build allows both already.
 */
static int add_thread_start(scmp_filter_ctx ctx)
{
#ifndef SANITIZER_BUILD
	struct scmp_arg_cmp thread = {.arg = 0,
				      .op = SCMP_CMP_MASKED_EQ,
				      .datum_a = CLONE_THREAD,
				      .datum_b = CLONE_THREAD};

	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, thread) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0)
		return -1;
#endif
	return 0;
}

/* The terminal's modes and size, nothing else ioctl can do. */
static int add_terminal(scmp_filter_ctx ctx)
{
	static const unsigned long requests[] = {
		TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ, FIONREAD,
	};

	for (size_t i = 0; i < NELEM(requests); i++) {
		struct scmp_arg_cmp req = {.arg = 1, .op = SCMP_CMP_EQ, .datum_a = requests[i]};

		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, req) < 0)
			return -1;
	}
	return 0;
}

static int add_unix_client(scmp_filter_ctx ctx)
{
	struct scmp_arg_cmp unix_only = {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = AF_UNIX};

	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, unix_only) < 0)
		return -1;
	return add_rules(ctx, SCMP_ACT_ALLOW, allowed_unix_client, NELEM(allowed_unix_client));
}

static int add_tcp_client(scmp_filter_ctx ctx)
{
	static const int families[] = {AF_INET, AF_INET6};

	for (size_t i = 0; i < NELEM(families); i++) {
		struct scmp_arg_cmp family = {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = families[i]};

		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, family) < 0)
			return -1;
	}
	return add_rules(ctx, SCMP_ACT_ALLOW, allowed_tcp_client, NELEM(allowed_tcp_client));
}

static int build_filter(scmp_filter_ctx ctx, const struct privdrop_config *cfg)
{
	bool netlink = cfg->keep_net_admin;

#ifdef SANITIZER_BUILD
	/* A report starts the symbolizer with fork and execve: allowed, not killed. */
	if (add_rules(ctx, SCMP_ACT_ALLOW, allowed_sanitizer, NELEM(allowed_sanitizer)) < 0)
		return -1;
#else
	if (add_rules(ctx, SCMP_ACT_KILL_PROCESS, killed, NELEM(killed)) < 0)
		return -1;
#endif
	if (add_rules(ctx, SCMP_ACT_ALLOW, allowed, NELEM(allowed)) < 0 ||
	    add_restricted(ctx, netlink) < 0)
		return -1;
	if (netlink && add_rules(ctx, SCMP_ACT_ALLOW, allowed_clsact, NELEM(allowed_clsact)) < 0)
		return -1;
	if (cfg->serve_sockets &&
	    add_rules(ctx, SCMP_ACT_ALLOW, allowed_serve, NELEM(allowed_serve)) < 0)
		return -1;
	if (cfg->unix_client && add_unix_client(ctx) < 0)
		return -1;
	if (cfg->terminal && add_terminal(ctx) < 0)
		return -1;
	if (cfg->tcp_client && add_tcp_client(ctx) < 0)
		return -1;
	if ((cfg->serve_sockets || cfg->unix_client || cfg->tcp_client) &&
	    add_thread_start(ctx) < 0)
		return -1;
	return 0;
}

static int install_seccomp(const struct privdrop_config *cfg, char *err, size_t errlen)
{
	uint32_t dflt = cfg->seccomp == PRIVDROP_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(EPERM);
	scmp_filter_ctx ctx = seccomp_init(dflt);
	int ret;

	if (!ctx) {
		set_err(err, errlen, "dnssnoop: seccomp: out of memory");
		return -1;
	}
	if (build_filter(ctx, cfg) < 0) {
		seccomp_release(ctx);
		set_err(err, errlen, "dnssnoop: internal error: the seccomp filter does not build");
		return -1;
	}
	ret = seccomp_load(ctx);
	seccomp_release(ctx);
	/* A kernel without seccomp filters (CONFIG_SECCOMP_FILTER off) says EINVAL. */
	if (ret == -EINVAL || ret == -ENOSYS || ret == -EOPNOTSUPP) {
		cfg->degrade(cfg->degrade_ctx, "seccomp", strerror(-ret),
			     "the tracer's system calls are not confined");
		return 0;
	}
	if (ret < 0) {
		set_err(err, errlen, "dnssnoop: installing the seccomp filter failed: %s",
			strerror(-ret));
		return -1;
	}
	return 0;
}

/* Not dumpable: no core file of our memory, no ptrace by other processes of our uid. */
static void set_dumpable(void)
{
#ifdef SANITIZER_BUILD
	/* LeakSanitizer's exit check attaches to us with ptrace from a cloned task. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#else
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

static int drop_caps(const struct privdrop_config *cfg, uint64_t keep, char *err, size_t errlen)
{
	/* Kept only permitted: the clsact teardown raises it for itself. */
	int ret = caps_limit(keep, 0);

	if (ret < 0) {
		set_err(err, errlen, "dnssnoop: cannot drop capabilities: %s", strerror(-ret));
		return -1;
	}
	if (caps_permitted() & ~keep) {
		set_err(err, errlen, "dnssnoop: capabilities are still permitted after the drop");
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		cfg->degrade(cfg->degrade_ctx, "no_new_privs", strerror(errno),
			     "a program started by the tracer could gain privileges");
	set_dumpable();
	return 0;
}

static void say_kept(const struct privdrop_config *cfg, uint64_t keep)
{
	if (!cfg->verbose)
		return;
	fprintf(stderr, "dnssnoop: running as uid %u gid %u; capabilities: %s; seccomp: %s\n",
		(unsigned)getuid(), (unsigned)getgid(),
		keep ? "CAP_NET_ADMIN permitted (to remove the clsact filters)" : "none",
		cfg->seccomp == PRIVDROP_SECCOMP_ON    ? "on"
		: cfg->seccomp == PRIVDROP_SECCOMP_LOG ? "log"
						       : "off");
}

int privdrop_apply(const struct privdrop_config *cfg, char *err, size_t errlen)
{
	uint64_t keep = cfg->keep_net_admin ? CAPS_BIT(CAP_NET_ADMIN) : 0;
	struct target t;
	int ret;

	if (find_target(cfg->user, &t, err, errlen) < 0)
		return -1;
	/*
	 * All of it: raising a permitted capability ignores the bounding set.
	 * Without CAP_SETPCAP (started with a few capabilities) it stays: see
	 * security.md.
	 */
	ret = caps_drop_bounding(0);
	if (ret < 0 && ret != -EPERM) {
		set_err(err, errlen, "dnssnoop: cannot drop the bounding set: %s", strerror(-ret));
		return -1;
	}
	if (switch_user(cfg, &t, keep, err, errlen) < 0 || drop_caps(cfg, keep, err, errlen) < 0)
		return -1;
	if (cfg->seccomp != PRIVDROP_SECCOMP_OFF && install_seccomp(cfg, err, errlen) < 0)
		return -1;
	say_kept(cfg, keep);
	return 0;
}
