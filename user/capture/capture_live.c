// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Live capture: load bpf/dnssnoop.bpf.c, attach it to a cgroup or to
 * interfaces with bpf_links (closed by the kernel when this process dies,
 * however it dies) or, for tc on kernels without TCX, with clsact filters
 * (which a guard process removes if we die, see tc_clsact.c), seed socket
 * owners with a one-shot task_file iterator, and turn ring-buffer events
 * into pkt_meta for the pipeline. See capture_live.h and docs/capture.md.
 */
#include "capture/capture_live.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture/cgroup.h"
#include "lib/caps.h"
#include "lib/errmsg.h"
#include "dnssnoop.skel.h"
#include "capture/sockscan.h"
#include "capture/tc_clsact.h"
#include "lib/units.h"

#define DEFAULT_RINGBUF_MB 8
#define MAX_RINGBUF_MB	   1024
#define MAX_BPF_LINKS	   (16 + LIVE_MAX_IFACES)
#define MAX_TCX_LINKS	   (2 * LIVE_MAX_IFACES)
/* clsact attachment records at most that many interfaces. */
_Static_assert(LIVE_MAX_IFACES <= TC_CLSACT_MAX_IFACES, "tc_clsact must hold every interface");
/*
 * The reader looks at the ring at least this often (live_poll): the
 * longest a record waits for its packet's event to be read. The kernel
 * wakes it sooner only when RING_WAKEUP_SHARE of the ring is waiting.
 */
#define READ_EVERY_MS	  50
#define RING_WAKEUP_SHARE 8 /* 1/8 of the ring */
/* How often live_poll looks whether the clsact guard is still there. */
#define GUARD_CHECK_NS (100 * NS_PER_MSEC)

/*
 * TCX attach types (kernel 6.6+). libbpf 1.1 and its uapi headers predate
 * them; the values are part of the kernel ABI.
 */
#define ATTACH_TCX_INGRESS 46
#define ATTACH_TCX_EGRESS  47
/* The kernel's internal "not supported" errno, which can leak to user space. */
#define ENOTSUPP_KERNEL 524

#define OLDEST_KERNEL "5.10"

#define NEED_ROOT_MSG                                                                         \
	"dnssnoop: need root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN, to load and attach " \
	"BPF programs: run with sudo (docs/security.md)"

/*
 * What the capture can do without: a kernel that lacks one (or
 * DNSSNOOP_DISABLE naming it) costs what cost says, in one stderr line,
 * and the name goes into capture_stats.degraded.
 */
enum live_feature {
	FEAT_SOCK_SCAN,
	FEAT_LISTENER_OWNER,
	FEAT_LEADER_COMM,
	FEAT_XDP_LOAD_BYTES,
	FEAT_TCX,
	FEAT_COUNT,
};

static const struct feature_info {
	const char *name;
	const char *cost;
} features[FEAT_COUNT] = {
	[FEAT_SOCK_SCAN] = {"sock_scan", "sockets opened before the start are attributed from "
					 "their next send or receive"},
	[FEAT_LISTENER_OWNER] = {"listener_owner", "TCP connections a server accepts carry no "
						   "process"},
	[FEAT_LEADER_COMM] = {"leader_comm", "comm is the name of the thread that used the "
					     "socket, not of its process"},
	[FEAT_XDP_LOAD_BYTES] = {"xdp_load_bytes", "xdp reads only the first buffer of a "
						   "multi-buffer (jumbo) frame"},
	[FEAT_TCX] = {"tcx", "tc attaches clsact filters instead of links (a guard process "
			     "removes them if the tracer dies)"},
};

/*
 * Socket programs that only improve attribution: the kernel refusing one
 * drops it (the object is opened and loaded again without it).
 */
static const struct optional_prog {
	const char *prefix; /* of the program names (the 4 and 6 variants) */
	const char *cost;
} optional_progs[] = {
	{"sock_create", "sockets created while tracing are attributed from their first use"},
	{"sock_bind", "connections accepted by TCP listeners bound while tracing carry no "
		      "process"},
	{"sock_connect", "a connected socket used by another process than its creator keeps "
			 "the creator"},
	{"sock_sendmsg", "a socket used by another process than its creator keeps the creator"},
	{"sock_recvmsg", "a socket used by another process than its creator keeps the creator"},
};

#define MAX_PROGS    32
#define MAX_DEGRADED (FEAT_COUNT + MAX_PROGS)

struct live_capture {
	struct dnssnoop_bpf *skel;
	struct ring_buffer *ring;
	/*
	 * The ring's consumer and producer positions (its first two pages,
	 * mapped read-only: the kernel allows that), for the fill gauge of
	 * --metrics; NULL: not mapped.
	 */
	const uint8_t *ring_pos;
	size_t ring_pos_len;
	uint32_t ring_bytes;
	struct cgroup_names *cgroups;
	struct bpf_link *links[MAX_BPF_LINKS];
	int nlinks;
	int tcx_fds[MAX_TCX_LINKS]; /* TCX links, as bare fds */
	int ntcx;
	enum live_tc_attach tc_mode; /* AUTO until the first attach decides */
	struct tc_clsact *clsact; /* NULL until the first clsact attach */
	int cgroup_fd;
	live_packet_fn fn;
	void *fn_ctx;
	uint64_t delivered;
	uint64_t guard_checked_ns; /* CLOCK_BOOTTIME of the last guard check */
	uint64_t realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_BOOTTIME */
	int ncpus;
	struct dnssnoop_counters *percpu; /* scratch for reading the counters */
	bool use[FEAT_COUNT]; /* probed and not disabled: the use_* constants */
	bool disabled[FEAT_COUNT]; /* DNSSNOOP_DISABLE */
	const char *disabled_progs[MAX_PROGS]; /* DNSSNOOP_DISABLE, program names */
	int ndisabled_progs;
	char refused[MAX_PROGS][BPF_OBJ_NAME_LEN]; /* optional programs the kernel refused */
	int nrefused;
	const char *degraded[MAX_DEGRADED];
	int ndegraded;
};

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/*
 * Events carry CLOCK_BOOTTIME (it keeps counting through suspend, like
 * the wall clock). Take the offset to the wall clock once, reading the
 * wall clock between two boot-time reads, so every event of a session is
 * on one consistent timeline even if the wall clock is stepped later.
 */
static uint64_t realtime_offset(void)
{
	uint64_t b1 = clock_ns(CLOCK_BOOTTIME);
	uint64_t rt = clock_ns(CLOCK_REALTIME);
	uint64_t b2 = clock_ns(CLOCK_BOOTTIME);

	return rt - (b1 + (b2 - b1) / 2);
}

/*
 * libbpf's print callback takes no context pointer, so the name of the
 * program that failed to load ("prog 'X': failed to load") is kept here,
 * set only while live_open loads.
 */
static struct {
	bool verbose;
	char culprit[BPF_OBJ_NAME_LEN];
} load_log;

static int load_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char line[512];
	const char *p;
	va_list copy;

	va_copy(copy, args);
	vsnprintf(line, sizeof(line), fmt, copy);
	va_end(copy);
	p = strstr(line, "prog '");
	if (p && strstr(p, "': failed to load"))
		sscanf(p, "prog '%15[^']'", load_log.culprit);
	if (load_log.verbose)
		vfprintf(stderr, fmt, args); /* whole: a verifier log is longer than line */
	return 0;
}

static void degrade(struct live_capture *lc, const char *name, const char *why, const char *cost)
{
	for (int i = 0; i < lc->ndegraded; i++)
		if (strcmp(lc->degraded[i], name) == 0)
			return;
	if (lc->ndegraded < MAX_DEGRADED)
		lc->degraded[lc->ndegraded++] = name;
	fprintf(stderr, "dnssnoop: degraded: %s (%s): %s\n", name, why, cost);
}

static void degrade_feature(struct live_capture *lc, enum live_feature f, const char *why)
{
	degrade(lc, features[f].name, lc->disabled[f] ? "DNSSNOOP_DISABLE" : why, features[f].cost);
}

static const struct optional_prog *optional_prog(const char *name)
{
	for (size_t i = 0; i < sizeof(optional_progs) / sizeof(optional_progs[0]); i++)
		if (strncmp(name, optional_progs[i].prefix, strlen(optional_progs[i].prefix)) == 0)
			return &optional_progs[i];
	return NULL;
}

/*
 * DNSSNOOP_DISABLE=a,b: act as if the kernel lacked these features, or
 * refused these optional programs (to test every fallback on any kernel).
 */
static int parse_disable(struct live_capture *lc, const char *list, char *err, size_t errlen)
{
	static char words[256];
	char *save = NULL;

	if (!list || !*list)
		return 0;
	snprintf(words, sizeof(words), "%s", list);
	for (char *w = strtok_r(words, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		int f;

		for (f = 0; f < FEAT_COUNT && strcmp(w, features[f].name) != 0; f++)
			;
		if (f < FEAT_COUNT) {
			lc->disabled[f] = true;
		} else if (optional_prog(w) && lc->ndisabled_progs < MAX_PROGS) {
			lc->disabled_progs[lc->ndisabled_progs++] = w;
		} else {
			set_err(err, errlen,
				"dnssnoop: DNSSNOOP_DISABLE: %s is neither a feature (sock_scan, "
				"listener_owner, leader_comm, xdp_load_bytes, tcx) nor an optional "
				"program (sock_create, sock_bind4, ... sock_recvmsg6)",
				w);
			return -1;
		}
	}
	return 0;
}

static const char *kernel_release(void)
{
	static struct utsname u;

	return uname(&u) == 0 ? u.release : "unknown";
}

static int check_hook(const struct live_config *cfg, char *err, size_t errlen)
{
	if (cfg->hook == LIVE_HOOK_CGROUP) {
		if (cfg->nifaces) {
			set_err(err, errlen,
				"dnssnoop: -i chooses interfaces for --hook tc or xdp, not cgroup");
			return -1;
		}
		return 0;
	}
	if (cfg->hook != LIVE_HOOK_TC && cfg->hook != LIVE_HOOK_XDP) {
		set_err(err, errlen, "dnssnoop: internal error: unknown hook %d", (int)cfg->hook);
		return -1;
	}
	if (cfg->nifaces < 1 || cfg->nifaces > LIVE_MAX_IFACES) {
		set_err(err, errlen, "dnssnoop: --hook %s needs between 1 and %d interfaces (-i)",
			cfg->hook == LIVE_HOOK_TC ? "tc" : "xdp", LIVE_MAX_IFACES);
		return -1;
	}
	if (cfg->cgroup_path) {
		set_err(err, errlen, "dnssnoop: --cgroup only works with --hook cgroup");
		return -1;
	}
	return 0;
}

static int check_config(const struct live_config *cfg, char *err, size_t errlen)
{
	if (cfg->nports < 1 || cfg->nports > DNSSNOOP_MAX_PORTS) {
		set_err(err, errlen, "dnssnoop: between 1 and %d ports can be traced, not %d",
			DNSSNOOP_MAX_PORTS, cfg->nports);
		return -1;
	}
	for (int i = 0; i < cfg->nports; i++) {
		if (cfg->ports[i] == 0) {
			set_err(err, errlen, "dnssnoop: port 0 cannot be traced");
			return -1;
		}
	}
	if (cfg->snaplen < DNSSNOOP_MIN_SNAPLEN || cfg->snaplen > DNSSNOOP_MAX_SNAPLEN) {
		set_err(err, errlen, "dnssnoop: snap length %u is outside %d..%d", cfg->snaplen,
			DNSSNOOP_MIN_SNAPLEN, DNSSNOOP_MAX_SNAPLEN);
		return -1;
	}
	if (cfg->ringbuf_mb > MAX_RINGBUF_MB) {
		set_err(err, errlen, "dnssnoop: --ringbuf-mb %u is too large (at most %d)",
			cfg->ringbuf_mb, MAX_RINGBUF_MB);
		return -1;
	}
	if (check_hook(cfg, err, errlen) < 0)
		return -1;
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		set_err(err, errlen,
			"dnssnoop: this kernel (%s) has no BTF (/sys/kernel/btf/vmlinux is "
			"missing): dnssnoop needs Linux " OLDEST_KERNEL " or later built with "
			"CONFIG_DEBUG_INFO_BTF=y",
			kernel_release());
		return -1;
	}
	return 0;
}

/* The kernel wants a power-of-two number of pages. */
static uint32_t ringbuf_bytes(uint32_t mb)
{
	uint32_t bytes = 1u << 20;

	if (!mb)
		mb = DEFAULT_RINGBUF_MB;
	while (bytes < mb * (1u << 20))
		bytes <<= 1;
	return bytes;
}

/*
 * Create the ring buffer ourselves, before anything else: it is the first
 * bpf() call, so it tells "not allowed" apart from "too big" cleanly.
 */
static int create_ringbuf(uint32_t bytes, char *err, size_t errlen)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "rb", 0, 0, bytes, NULL);

	if (fd >= 0)
		return fd;
	if (errno == EPERM || errno == EACCES)
		set_err(err, errlen, NEED_ROOT_MSG);
	else if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 0)
		set_err(err, errlen,
			"dnssnoop: this kernel (%s) has no BPF ring buffer: dnssnoop needs "
			"Linux " OLDEST_KERNEL " or later",
			kernel_release());
	else
		set_err(err, errlen,
			"dnssnoop: the kernel refused a %u MiB ring buffer (%s): try a smaller "
			"--ringbuf-mb",
			bytes >> 20, strerror(errno));
	return -1;
}

static bool helper_ok(enum bpf_prog_type type, enum bpf_func_id helper)
{
	return libbpf_probe_bpf_helper(type, helper, NULL) > 0;
}

/*
 * Decide the optional features before load: each use_* constant lets the
 * verifier drop the code of a feature this kernel cannot run.
 */
static void probe_features(struct live_capture *lc, const struct live_config *cfg)
{
	bool leader = !lc->disabled[FEAT_LEADER_COMM];

	if (cfg->hook == LIVE_HOOK_CGROUP) {
		for (int t = 0; leader && t < 2; t++) {
			enum bpf_prog_type type =
				t ? BPF_PROG_TYPE_CGROUP_SOCK : BPF_PROG_TYPE_CGROUP_SOCK_ADDR;

			leader = helper_ok(type, BPF_FUNC_get_current_task) &&
				 helper_ok(type, BPF_FUNC_probe_read_kernel);
		}
		if (!leader)
			degrade_feature(lc, FEAT_LEADER_COMM,
					"socket programs may not read the task");
		if (lc->disabled[FEAT_LISTENER_OWNER] ||
		    !helper_ok(BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_sk_storage_get))
			degrade_feature(lc, FEAT_LISTENER_OWNER, "no socket storage");
	}
	lc->use[FEAT_LEADER_COMM] = leader;
	lc->use[FEAT_LISTENER_OWNER] = cfg->hook == LIVE_HOOK_CGROUP &&
				       !lc->disabled[FEAT_LISTENER_OWNER] &&
				       helper_ok(BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_sk_storage_get);
	if (cfg->hook == LIVE_HOOK_XDP) {
		lc->use[FEAT_XDP_LOAD_BYTES] =
			!lc->disabled[FEAT_XDP_LOAD_BYTES] &&
			helper_ok(BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_load_bytes);
		if (!lc->use[FEAT_XDP_LOAD_BYTES])
			degrade_feature(lc, FEAT_XDP_LOAD_BYTES,
					"no bpf_xdp_load_bytes before Linux 5.18");
	}
}

static void set_rodata(struct live_capture *lc, const struct live_config *cfg)
{
	struct dnssnoop_bpf *skel = lc->skel;

	for (int i = 0; i < cfg->nports; i++)
		skel->rodata->ports[i] = htons(cfg->ports[i]);
	skel->rodata->nports = (uint32_t)cfg->nports;
	skel->rodata->wakeup_bytes = ringbuf_bytes(cfg->ringbuf_mb) / RING_WAKEUP_SHARE;
	skel->rodata->snaplen = cfg->snaplen;
	skel->rodata->use_leader_comm = lc->use[FEAT_LEADER_COMM];
	skel->rodata->use_listener_owner = lc->use[FEAT_LISTENER_OWNER];
	skel->rodata->use_xdp_load_bytes = lc->use[FEAT_XDP_LOAD_BYTES];
}

static bool name_in(const char *name, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

static bool was_refused(const struct live_capture *lc, const char *name)
{
	for (int i = 0; i < lc->nrefused; i++)
		if (strcmp(lc->refused[i], name) == 0)
			return true;
	return false;
}

/*
 * A program DNSSNOOP_DISABLE names is made unloadable, not just skipped:
 * an expected attach type its program type cannot have (egress is a
 * cgroup_skb type; 0, ingress, would mean "the default" to a cgroup/sock
 * program) makes the kernel refuse it, so the test takes the same path as
 * a kernel that refuses.
 */
static void break_disabled(struct live_capture *lc)
{
	struct bpf_program *prog;

	bpf_object__for_each_program (prog, lc->skel->obj) {
		if (name_in(bpf_program__name(prog), lc->disabled_progs, lc->ndisabled_progs))
			bpf_program__set_expected_attach_type(prog, BPF_CGROUP_INET_EGRESS);
	}
}

/* Loads; on failure returns -errno with the refused program's name in load_log.culprit. */
static int load_once(struct live_capture *lc)
{
	load_log.culprit[0] = '\0';
	return dnssnoop_bpf__load(lc->skel);
}

static void load_error(const char *culprit, int ret, char *err, size_t errlen)
{
	if (ret == -EPERM)
		set_err(err, errlen, NEED_ROOT_MSG);
	else if (culprit[0])
		set_err(err, errlen,
			"dnssnoop: this kernel (%s) refused program %s (run with -v for the "
			"verifier log); dnssnoop is tested on Linux " OLDEST_KERNEL " and later%s",
			kernel_release(), culprit,
			caps_permitted() & CAPS_BIT(CAP_PERFMON)
				? ""
				: "; without CAP_PERFMON the verifier refuses what it allows root");
	else
		set_err(err, errlen,
			"dnssnoop: loading the BPF programs failed: %s (run with -v "
			"for details)",
			strerror(-ret));
}

static int attach_cgroup_programs(struct live_capture *lc, const char *where, char *err,
				  size_t errlen)
{
	struct bpf_program *prog;

	bpf_object__for_each_program (prog, lc->skel->obj) {
		struct bpf_link *link;

		const struct optional_prog *opt = optional_prog(bpf_program__name(prog));

		if (!bpf_program__autoload(prog))
			continue; /* another hook's program, or one the kernel refused */
		if (lc->nlinks == MAX_BPF_LINKS) {
			set_err(err, errlen, "dnssnoop: internal error: too many programs");
			return -1;
		}
		link = bpf_program__attach_cgroup(prog, lc->cgroup_fd);
		if (!link && opt && errno != EPERM) {
			const char *name = bpf_program__name(prog);

			degrade(lc, name,
				name_in(name, lc->disabled_progs, lc->ndisabled_progs)
					? "DNSSNOOP_DISABLE"
					: "the kernel refused to attach it",
				opt->cost);
			continue;
		}
		if (!link) {
			int e = errno;

			set_err(err, errlen, "dnssnoop: cannot attach %s to cgroup %s: %s",
				bpf_program__name(prog), where, strerror(e));
			if (e == EPERM)
				set_err(err, errlen, NEED_ROOT_MSG);
			return -1;
		}
		lc->links[lc->nlinks++] = link;
	}
	return 0;
}

static int add_link(struct live_capture *lc, struct bpf_link *link)
{
	if (lc->nlinks == MAX_BPF_LINKS) {
		bpf_link__destroy(link);
		return -1;
	}
	lc->links[lc->nlinks++] = link;
	return 0;
}

static int resolve_iface(const char *name, char *err, size_t errlen)
{
	unsigned int ifindex = if_nametoindex(name);

	if (!ifindex)
		set_err(err, errlen,
			"dnssnoop: no interface %s in this network namespace (%s); for an "
			"interface in another one run dnssnoop there: ip netns exec NS dnssnoop "
			"...",
			name, strerror(errno));
	return (int)ifindex;
}

static bool tcx_unsupported(int e)
{
	return e == EINVAL || e == EOPNOTSUPP || e == ENOTSUPP_KERNEL;
}

/*
 * A TCX link: owned by our file descriptor, so the kernel detaches it
 * whatever way we die. libbpf 1.1 has no bpf_program__attach_tcx, hence
 * the bare link fd from bpf_link_create (closing it detaches). Returns 0
 * or -errno (err is set either way on failure).
 */
static int attach_tcx(struct live_capture *lc, struct bpf_program *prog, int ifindex,
		      const char *iface, int attach_type, char *err, size_t errlen)
{
	int fd = bpf_link_create(bpf_program__fd(prog), ifindex, attach_type, NULL);
	if (fd < 0) {
		int e = errno;

		if (e == EPERM || e == EACCES)
			set_err(err, errlen, NEED_ROOT_MSG);
		else
			set_err(err, errlen,
				"dnssnoop: cannot attach %s to %s with a TCX link: %s (TCX needs "
				"Linux 6.6 or later; on older kernels use --tc-attach clsact, "
				"--hook cgroup or xdp)",
				bpf_program__name(prog), iface, strerror(e));
		return -e;
	}
	if (lc->ntcx == MAX_TCX_LINKS) {
		close(fd);
		set_err(err, errlen, "dnssnoop: internal error: too many links");
		return -ENOSPC;
	}
	lc->tcx_fds[lc->ntcx++] = fd;
	return 0;
}

/*
 * Classic filters for both directions; the guard (tc_clsact.c) removes
 * them if we die. Started on the first clsact interface.
 */
static int attach_clsact(struct live_capture *lc, int ifindex, const char *iface, char *err,
			 size_t errlen)
{
	enum tc_clsact_result ret;

	if (!lc->clsact)
		lc->clsact = tc_clsact_new(err, errlen);
	if (!lc->clsact)
		return -1;
	ret = tc_clsact_attach(lc->clsact, ifindex, iface, lc->skel->progs.dns_tc_ingress,
			       lc->skel->progs.dns_tc_egress, err, errlen);
	if (ret == TC_CLSACT_NOT_PERMITTED)
		set_err(err, errlen, NEED_ROOT_MSG);
	return ret == TC_CLSACT_OK ? 0 : -1;
}

/*
 * tc on one interface. In auto mode the first TCX attach decides: refused
 * as unsupported (a kernel before 6.6), every interface goes clsact.
 */
static int attach_tc(struct live_capture *lc, int ifindex, const char *iface, char *err,
		     size_t errlen)
{
	char why[128];
	int ret;

	tc_clsact_clear_stale(ifindex, iface);
	if (lc->tc_mode == LIVE_TC_AUTO && lc->disabled[FEAT_TCX]) {
		degrade_feature(lc, FEAT_TCX, "");
		lc->tc_mode = LIVE_TC_CLSACT;
	}
	if (lc->tc_mode == LIVE_TC_CLSACT)
		return attach_clsact(lc, ifindex, iface, err, errlen);
	ret = attach_tcx(lc, lc->skel->progs.dns_tc_ingress, ifindex, iface, ATTACH_TCX_INGRESS,
			 err, errlen);
	if (ret == 0)
		ret = attach_tcx(lc, lc->skel->progs.dns_tc_egress, ifindex, iface,
				 ATTACH_TCX_EGRESS, err, errlen);
	if (ret == 0) {
		lc->tc_mode = LIVE_TC_TCX;
		return 0;
	}
	/* A link already made means TCX works: this refusal is something else. */
	if (lc->tc_mode != LIVE_TC_AUTO || lc->ntcx || !tcx_unsupported(-ret))
		return -1;
	snprintf(why, sizeof(why), "this kernel refused a TCX link: %s", strerror(-ret));
	degrade_feature(lc, FEAT_TCX, why);
	lc->tc_mode = LIVE_TC_CLSACT;
	return attach_clsact(lc, ifindex, iface, err, errlen);
}

static int attach_xdp(struct live_capture *lc, int ifindex, const char *iface, char *err,
		      size_t errlen)
{
	struct bpf_link *link = bpf_program__attach_xdp(lc->skel->progs.dns_xdp, ifindex);

	if (!link) {
		int e = errno;

		if (e == EPERM || e == EACCES)
			set_err(err, errlen, NEED_ROOT_MSG);
		else
			set_err(err, errlen, "dnssnoop: cannot attach the XDP program to %s: %s%s",
				iface, strerror(e),
				e == EBUSY || e == EEXIST ? " (another XDP program is attached)"
							  : "");
		return -1;
	}
	if (add_link(lc, link) < 0) {
		set_err(err, errlen, "dnssnoop: internal error: too many links");
		return -1;
	}
	return 0;
}

static int attach_iface_programs(struct live_capture *lc, const struct live_config *cfg, char *err,
				 size_t errlen)
{
	for (int i = 0; i < cfg->nifaces; i++) {
		const char *iface = cfg->ifaces[i];
		int ifindex = resolve_iface(iface, err, errlen);

		if (!ifindex)
			return -1;
		if (cfg->hook == LIVE_HOOK_XDP) {
			if (attach_xdp(lc, ifindex, iface, err, errlen) < 0)
				return -1;
			continue;
		}
		if (attach_tc(lc, ifindex, iface, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/*
 * Load only what the hook needs: the cgroup hook's socket programs are
 * useless (and an extra attach) on an interface hook, and tc/xdp programs
 * are never attached with the cgroup hook. Optional programs the kernel
 * refused in an earlier attempt stay out.
 */
static void select_programs(struct live_capture *lc, const struct live_config *cfg)
{
	struct dnssnoop_bpf *skel = lc->skel;
	enum live_hook hook = cfg->hook;
	struct bpf_program *prog;

	bpf_object__for_each_program (prog, skel->obj) {
		enum bpf_prog_type type = bpf_program__type(prog);
		bool want;

		if (type == BPF_PROG_TYPE_SCHED_CLS)
			want = hook == LIVE_HOOK_TC;
		else if (type == BPF_PROG_TYPE_XDP)
			want = hook == LIVE_HOOK_XDP;
		else
			want = hook == LIVE_HOOK_CGROUP &&
			       !was_refused(lc, bpf_program__name(prog));
		bpf_program__set_autoload(prog, want);
	}
	/* TCX wants them; a classic filter does not care (checked on 6.18). */
	if (cfg->tc_attach == LIVE_TC_CLSACT)
		return;
	bpf_program__set_expected_attach_type(skel->progs.dns_tc_ingress, ATTACH_TCX_INGRESS);
	bpf_program__set_expected_attach_type(skel->progs.dns_tc_egress, ATTACH_TCX_EGRESS);
}

/* The owners of sockets that existed before the hooks were attached. */
static void scan_sockets(struct live_capture *lc, const struct live_config *cfg)
{
	struct sockscan_config sc = {
		.owners_fd = bpf_map__fd(lc->skel->maps.owners),
		.listeners_fd = lc->use[FEAT_LISTENER_OWNER]
					? bpf_map__fd(lc->skel->maps.listen_owners)
					: -1,
		.ports = cfg->ports,
		.nports = cfg->nports,
		.cgroup_root = cgroup_names_root(lc->cgroups),
		.proc = "/proc",
	};
	struct sockscan_result res;
	char why[256];

	if (lc->disabled[FEAT_SOCK_SCAN]) {
		degrade_feature(lc, FEAT_SOCK_SCAN, "");
		return;
	}
	if (sockscan_run(&sc, &res, why, sizeof(why)) < 0) {
		degrade_feature(lc, FEAT_SOCK_SCAN, why);
	} else if (res.procs_unreadable || res.netns_unentered) {
		/* Started without root: partly, which costs the same for what it missed. */
		snprintf(why, sizeof(why),
			 "%u processes' descriptors unreadable without CAP_SYS_PTRACE and "
			 "CAP_DAC_READ_SEARCH, %u network namespaces not entered without "
			 "CAP_SYS_ADMIN",
			 res.procs_unreadable, res.netns_unentered);
		degrade_feature(lc, FEAT_SOCK_SCAN, why);
	}
	if (cfg->verbose)
		fprintf(stderr,
			"dnssnoop: socket scan: %u sockets in %u network namespaces, %u owners "
			"recorded, %u listeners\n",
			res.sockets, res.netns, res.owned, res.listeners);
}

static void event_to_meta(const struct live_capture *lc, const struct dnssnoop_event *ev,
			  struct pkt_meta *m)
{
	m->ts_ns = ev->ts_boot_ns + lc->realtime_offset_ns;
	m->cookie = ev->cookie;
	m->owner = ev->owner;
	m->ifindex = ev->ifindex;
	m->orig_len = ev->orig_len;
	m->tcp_seq = ev->tcp_seq;
	m->dir = ev->dir;
	m->family = ev->family;
	m->proto = ev->proto;
	m->tcp_flags = ev->tcp_flags;
	m->sport = ev->sport;
	m->dport = ev->dport;
	memcpy(m->saddr, ev->saddr, sizeof(m->saddr));
	memcpy(m->daddr, ev->daddr, sizeof(m->daddr));
	m->vantage = NULL; /* a packet */
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct live_capture *lc = ctx;
	const struct dnssnoop_event *ev = data;
	struct pkt_meta meta;

	if (size < sizeof(*ev) || ev->cap_len > size - sizeof(*ev))
		return 0; /* cannot happen with our programs; never trust it anyway */
	event_to_meta(lc, ev, &meta);
	lc->delivered++;
	lc->fn(lc->fn_ctx, &meta, ev->payload, ev->cap_len);
	return 0;
}

static int open_cgroup(struct live_capture *lc, const struct live_config *cfg, char *err,
		       size_t errlen)
{
	lc->cgroups = cgroup_names_new(NULL, err, errlen);
	if (!lc->cgroups)
		return -1;
	lc->cgroup_fd = cgroup_names_open(lc->cgroups, cfg->cgroup_path, err, errlen);
	return lc->cgroup_fd < 0 ? -1 : 0;
}

static int open_skeleton(struct live_capture *lc, const struct live_config *cfg, int rb_fd,
			 char *err, size_t errlen)
{
	lc->skel = dnssnoop_bpf__open();
	if (!lc->skel) {
		set_err(err, errlen, "dnssnoop: cannot open the BPF object: %s", strerror(errno));
		return -1;
	}
	set_rodata(lc, cfg);
	select_programs(lc, cfg);
	break_disabled(lc);
	/* reuse_fd dups rb_fd: the caller still closes its own. */
	if (bpf_map__reuse_fd(lc->skel->maps.rb, rb_fd) < 0) {
		set_err(err, errlen, "dnssnoop: cannot use the ring buffer: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Open and load; when the kernel refuses an optional program, say what
 * that costs and start over without it (libbpf cannot load an object
 * twice). A refused core program is an error naming it.
 */
static int load_skeleton(struct live_capture *lc, const struct live_config *cfg, int rb_fd,
			 char *err, size_t errlen)
{
	for (;;) {
		const struct optional_prog *opt;
		int ret;

		if (open_skeleton(lc, cfg, rb_fd, err, errlen) < 0)
			return -1;
		ret = load_once(lc);
		if (ret == 0)
			return 0;
		opt = cfg->hook == LIVE_HOOK_CGROUP ? optional_prog(load_log.culprit) : NULL;
		if (!opt || ret == -EPERM || was_refused(lc, load_log.culprit) ||
		    lc->nrefused == MAX_PROGS) {
			load_error(load_log.culprit, ret, err, errlen);
			return -1;
		}
		snprintf(lc->refused[lc->nrefused], sizeof(lc->refused[0]), "%s", load_log.culprit);
		degrade(lc, lc->refused[lc->nrefused],
			name_in(load_log.culprit, lc->disabled_progs, lc->ndisabled_progs)
				? "DNSSNOOP_DISABLE"
				: "the kernel refused the program",
			opt->cost);
		lc->nrefused++;
		dnssnoop_bpf__destroy(lc->skel);
		lc->skel = NULL;
	}
}

static int attach_cgroup(struct live_capture *lc, const struct live_config *cfg, char *err,
			 size_t errlen)
{
	if (open_cgroup(lc, cfg, err, errlen) < 0)
		return -1;
	if (attach_cgroup_programs(lc, cfg->cgroup_path ? cfg->cgroup_path : "/", err, errlen) < 0)
		return -1;
	/* After attaching: a socket created meanwhile is seen by sock_create. */
	scan_sockets(lc, cfg);
	return 0;
}

/* A ring that cannot be mapped once more costs the fill gauge only. */
static void map_ring_positions(struct live_capture *lc, int fd, uint32_t bytes)
{
	size_t len = 2 * (size_t)sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return;
	lc->ring_pos = p;
	lc->ring_pos_len = len;
	lc->ring_bytes = bytes;
}

/* Bytes written and not consumed yet, over the ring's size. */
static void ring_fill(const struct live_capture *lc, struct capture_stats *st)
{
	const uint64_t *cons = (const uint64_t *)lc->ring_pos;
	const uint64_t *prod = (const uint64_t *)(lc->ring_pos + lc->ring_pos_len / 2);
	uint64_t c, p;

	if (!lc->ring_pos)
		return;
	c = __atomic_load_n(cons, __ATOMIC_ACQUIRE);
	p = __atomic_load_n(prod, __ATOMIC_ACQUIRE);
	st->has_ring_fill = true;
	st->ring_fill = p > c ? (double)(p - c) / (double)lc->ring_bytes : 0;
}

static int start(struct live_capture *lc, const struct live_config *cfg, char *err, size_t errlen)
{
	uint32_t rb_bytes = ringbuf_bytes(cfg->ringbuf_mb);
	int rb_fd = create_ringbuf(rb_bytes, err, errlen);
	int ret;

	if (rb_fd < 0)
		return -1;
	if (cfg->hook == LIVE_HOOK_CGROUP &&
	    libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_CGROUP_SKB, NULL) == 0) {
		close(rb_fd);
		set_err(err, errlen,
			"dnssnoop: this kernel (%s) has no cgroup BPF (CONFIG_CGROUP_BPF): the "
			"default hook needs it; --hook tc or xdp -i IFACE may work",
			kernel_release());
		return -1;
	}
	probe_features(lc, cfg);
	ret = load_skeleton(lc, cfg, rb_fd, err, errlen);
	close(rb_fd);
	if (ret < 0)
		return -1;
	if (cfg->hook == LIVE_HOOK_CGROUP) {
		if (attach_cgroup(lc, cfg, err, errlen) < 0)
			return -1;
	} else if (attach_iface_programs(lc, cfg, err, errlen) < 0) {
		return -1;
	}
	lc->ring = ring_buffer__new(bpf_map__fd(lc->skel->maps.rb), on_event, lc, NULL);
	if (!lc->ring) {
		set_err(err, errlen, "dnssnoop: cannot map the ring buffer: %s", strerror(errno));
		return -1;
	}
	map_ring_positions(lc, bpf_map__fd(lc->skel->maps.rb), rb_bytes);
	lc->ncpus = libbpf_num_possible_cpus();
	if (lc->ncpus <= 0) {
		set_err(err, errlen, "dnssnoop: cannot count CPUs");
		return -1;
	}
	lc->percpu = calloc((size_t)lc->ncpus, sizeof(*lc->percpu));
	if (!lc->percpu) {
		set_err(err, errlen, "dnssnoop: out of memory");
		return -1;
	}
	lc->realtime_offset_ns = realtime_offset();
	return 0;
}

struct live_capture *live_open(const struct live_config *cfg, live_packet_fn fn, void *ctx,
			       char *err, size_t errlen)
{
	libbpf_print_fn_t old_print;
	struct live_capture *lc;
	int ret;

	if (check_config(cfg, err, errlen) < 0)
		return NULL;
	lc = calloc(1, sizeof(*lc));
	if (!lc) {
		set_err(err, errlen, "dnssnoop: out of memory");
		return NULL;
	}
	lc->cgroup_fd = -1;
	lc->tc_mode = cfg->tc_attach;
	lc->fn = fn;
	lc->fn_ctx = ctx;
	load_log.verbose = cfg->verbose;
	/* libbpf's printer is process-wide: ours only while we load and attach. */
	old_print = libbpf_set_print(load_print);
	ret = parse_disable(lc, cfg->disable, err, errlen);
	if (ret == 0)
		ret = start(lc, cfg, err, errlen);
	libbpf_set_print(old_print);
	if (ret < 0) {
		live_close(lc);
		return NULL;
	}
	return lc;
}

/*
 * Killing the clsact guard would leave the filters unguarded: a tracer
 * killed next would leave them attached. Stop instead (the caller's
 * detach removes them).
 */
static bool guard_lost(struct live_capture *lc)
{
	uint64_t now = clock_ns(CLOCK_BOOTTIME);
	pid_t pid = tc_clsact_guard_pid(lc->clsact);

	if (!pid || now - lc->guard_checked_ns < GUARD_CHECK_NS)
		return false;
	lc->guard_checked_ns = now;
	if (!tc_clsact_guard_gone(lc->clsact))
		return false;
	fprintf(stderr,
		"dnssnoop: the clsact guard process (pid %d) is gone: stopping, as nothing would "
		"remove the tc filters if the tracer died now\n",
		(int)pid);
	return true;
}

int live_poll(struct live_capture *lc, int timeout_ms)
{
	int n;

	if (guard_lost(lc))
		return -ECHILD;
	n = ring_buffer__consume(lc->ring);
	if (n != 0)
		return n;
	/*
	 * The kernel wakes us only for a ring filling up (wakeup_flags() in
	 * the BPF code): events come unannounced, so wait at most
	 * READ_EVERY_MS and then look whatever epoll says.
	 */
	if (timeout_ms < 0 || timeout_ms > READ_EVERY_MS)
		timeout_ms = READ_EVERY_MS;
	n = ring_buffer__poll(lc->ring, timeout_ms);
	return n == 0 ? ring_buffer__consume(lc->ring) : n;
}

void live_get_counters(struct live_capture *lc, struct dnssnoop_counters *c)
{
	uint32_t zero = 0;

	memset(c, 0, sizeof(*c));
	if (bpf_map__lookup_elem(lc->skel->maps.counters, &zero, sizeof(zero), lc->percpu,
				 (size_t)lc->ncpus * sizeof(*lc->percpu), 0) < 0)
		return;
	for (int i = 0; i < lc->ncpus; i++) {
		c->matched += lc->percpu[i].matched;
		c->submitted += lc->percpu[i].submitted;
		c->lost += lc->percpu[i].lost;
		c->owner_filled += lc->percpu[i].owner_filled;
	}
}

void live_stats(void *ctx, struct capture_stats *st)
{
	struct live_capture *lc = ctx;
	struct dnssnoop_counters kc;

	live_get_counters(lc, &kc);
	st->has_kernel = true;
	st->packets_matched = kc.matched;
	st->events_submitted = kc.submitted;
	st->events_lost = kc.lost;
	st->degraded = lc->degraded;
	st->ndegraded = lc->ndegraded;
	ring_fill(lc, st);
}

void live_degrade(struct live_capture *lc, const char *name, const char *why, const char *cost)
{
	degrade(lc, name, why, cost);
}

bool live_uses_clsact(const struct live_capture *lc)
{
	return lc->clsact != NULL;
}

uint64_t live_delivered(const struct live_capture *lc)
{
	return lc->delivered;
}

const char *live_cgroup_path(void *lc, uint64_t cgroup_id)
{
	struct live_capture *l = lc;

	return l && l->cgroups ? cgroup_names_lookup(l->cgroups, cgroup_id) : NULL;
}

const struct cgroup_ident *live_cgroup_ident(void *lc, uint64_t cgroup_id)
{
	struct live_capture *l = lc;

	return l && l->cgroups ? cgroup_names_ident(l->cgroups, cgroup_id) : NULL;
}

const struct cgroup_ident *live_cgroup_ident_by_path(void *lc, const char *path)
{
	struct live_capture *l = lc;

	return l && l->cgroups ? cgroup_names_ident_by_path(l->cgroups, path) : NULL;
}

uint64_t live_now_ns(const struct live_capture *lc)
{
	return clock_ns(CLOCK_BOOTTIME) + lc->realtime_offset_ns;
}

void live_detach(struct live_capture *lc)
{
	for (int i = 0; i < lc->nlinks; i++)
		bpf_link__destroy(lc->links[i]);
	lc->nlinks = 0;
	for (int i = 0; i < lc->ntcx; i++)
		close(lc->tcx_fds[i]);
	lc->ntcx = 0;
	tc_clsact_detach(lc->clsact);
}

void live_close(struct live_capture *lc)
{
	if (!lc)
		return;
	live_detach(lc);
	ring_buffer__free(lc->ring);
	if (lc->ring_pos)
		munmap((void *)lc->ring_pos, lc->ring_pos_len);
	dnssnoop_bpf__destroy(lc->skel);
	if (lc->cgroup_fd >= 0)
		close(lc->cgroup_fd);
	cgroup_names_free(lc->cgroups);
	tc_clsact_free(lc->clsact);
	free(lc->percpu);
	free(lc);
}
