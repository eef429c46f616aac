// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Live capture: load bpf/dnssnoop.bpf.c, attach it to a cgroup or to
 * interfaces with bpf_links (closed by the kernel when this process dies,
 * however it dies) or, for tc on kernels without TCX, with clsact filters
 * (which a guard process removes if we die, see tc_clsact.c), seed socket
 * owners with a one-shot task_file iterator, and turn ring-buffer events
 * into pkt_meta for the pipeline. See capture_live.h and docs/capture.md.
 */
#include "capture_live.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cgroup.h"
#include "errmsg.h"
#include "dnssnoop.skel.h"
#include "tc_clsact.h"

#define NSEC_PER_SEC	   1000000000ULL
#define DEFAULT_RINGBUF_MB 8
#define MAX_RINGBUF_MB	   1024
#define MAX_BPF_LINKS	   (16 + LIVE_MAX_IFACES)
#define MAX_TCX_LINKS	   (2 * LIVE_MAX_IFACES)
/* clsact attachment records at most that many interfaces. */
_Static_assert(LIVE_MAX_IFACES <= TC_CLSACT_MAX_IFACES, "tc_clsact must hold every interface");
/* Enough to tell which program the verifier refused (non-verbose mode). */
#define PROG_LOG_SIZE 4096
/* Longer than the kernel side's minimum wakeup interval (5 ms). */
#define TAIL_POLL_MS 10

/*
 * TCX attach types (kernel 6.6+). libbpf 1.1 and its uapi headers predate
 * them; the values are part of the kernel ABI.
 */
#define ATTACH_TCX_INGRESS 46
#define ATTACH_TCX_EGRESS  47
/* The kernel's internal "not supported" errno, which can leak to user space. */
#define ENOTSUPP_KERNEL 524

#define NEED_ROOT_MSG                                                                        \
	"dnssnoop: need root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN) to load BPF programs: " \
	"run with sudo"

struct live_capture {
	struct dnssnoop_bpf *skel;
	struct ring_buffer *ring;
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
	bool recent; /* the last poll delivered events: expect an unannounced tail */
	uint64_t realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_BOOTTIME */
	int ncpus;
	struct dnssnoop_counters *percpu; /* scratch for reading the counters */
};

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
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

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return 0;
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
			"dnssnoop: this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): "
			"it needs CONFIG_DEBUG_INFO_BTF=y");
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
	else
		set_err(err, errlen,
			"dnssnoop: the kernel refused a %u MiB ring buffer (%s): try a smaller "
			"--ringbuf-mb",
			bytes >> 20, strerror(errno));
	return -1;
}

static void set_rodata(struct dnssnoop_bpf *skel, const struct live_config *cfg)
{
	for (int i = 0; i < cfg->nports; i++)
		skel->rodata->ports[i] = htons(cfg->ports[i]);
	skel->rodata->nports = (uint32_t)cfg->nports;
	skel->rodata->snaplen = cfg->snaplen;
}

/*
 * Load the object. Without -v each program gets its own log buffer: libbpf
 * only fills the log of a program that failed (it retries that one with
 * logging on), which names the culprit without a global print hook.
 */
static int load_programs(struct dnssnoop_bpf *skel, bool verbose, char *err, size_t errlen)
{
	struct bpf_program *prog;
	char *logs = NULL;
	int nprogs = 0, i, ret;

	bpf_object__for_each_program(prog, skel->obj) nprogs++;
	if (!verbose) {
		logs = calloc((size_t)nprogs, PROG_LOG_SIZE);
		if (!logs) {
			set_err(err, errlen, "dnssnoop: out of memory");
			return -1;
		}
		i = 0;
		bpf_object__for_each_program(prog, skel->obj) bpf_program__set_log_buf(
			prog, logs + (size_t)i++ * PROG_LOG_SIZE, PROG_LOG_SIZE);
	}
	ret = dnssnoop_bpf__load(skel);
	if (ret < 0) {
		const char *culprit = NULL;

		i = 0;
		bpf_object__for_each_program(prog, skel->obj)
		{
			if (logs && logs[(size_t)i++ * PROG_LOG_SIZE] != '\0') {
				culprit = bpf_program__name(prog);
				break;
			}
		}
		if (ret == -EPERM)
			set_err(err, errlen, NEED_ROOT_MSG);
		else if (culprit)
			set_err(err, errlen,
				"dnssnoop: the kernel rejected program %s (run with -v for the "
				"verifier log)",
				culprit);
		else
			set_err(err, errlen,
				"dnssnoop: loading the BPF programs failed: %s (run with -v for "
				"details)",
				strerror(-ret));
	}
	/* libbpf keeps the pointers: drop them before freeing the buffers. */
	if (logs) {
		bpf_object__for_each_program(prog, skel->obj)
			bpf_program__set_log_buf(prog, NULL, 0);
		free(logs);
	}
	return ret < 0 ? -1 : 0;
}

static int attach_cgroup_programs(struct live_capture *lc, const char *where, char *err,
				  size_t errlen)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, lc->skel->obj)
	{
		struct bpf_link *link;

		if (!bpf_program__autoload(prog))
			continue; /* another hook's program */
		if (bpf_program__type(prog) == BPF_PROG_TYPE_TRACING)
			continue; /* the iterator runs once, see seed_owners() */
		if (lc->nlinks == MAX_BPF_LINKS) {
			set_err(err, errlen, "dnssnoop: internal error: too many programs");
			return -1;
		}
		link = bpf_program__attach_cgroup(prog, lc->cgroup_fd);
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
	int ret;

	tc_clsact_clear_stale(ifindex, iface);
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
	fprintf(stderr,
		"dnssnoop: this kernel refused a TCX link (%s): attaching with a clsact qdisc "
		"and tc filters instead (removed on exit)\n",
		strerror(-ret));
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
 * Load only what the hook needs: the cgroup hook's socket programs and
 * iterator are useless (and an extra attach) on an interface hook, and
 * tc/xdp programs are never attached with the cgroup hook.
 */
static void select_programs(struct dnssnoop_bpf *skel, const struct live_config *cfg)
{
	enum live_hook hook = cfg->hook;

	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj)
	{
		enum bpf_prog_type type = bpf_program__type(prog);
		bool want;

		if (type == BPF_PROG_TYPE_SCHED_CLS)
			want = hook == LIVE_HOOK_TC;
		else if (type == BPF_PROG_TYPE_XDP)
			want = hook == LIVE_HOOK_XDP;
		else
			want = hook == LIVE_HOOK_CGROUP;
		bpf_program__set_autoload(prog, want);
	}
	/* TCX wants them; a classic filter does not care (checked on 6.18). */
	if (cfg->tc_attach == LIVE_TC_CLSACT)
		return;
	bpf_program__set_expected_attach_type(skel->progs.dns_tc_ingress, ATTACH_TCX_INGRESS);
	bpf_program__set_expected_attach_type(skel->progs.dns_tc_egress, ATTACH_TCX_EGRESS);
}

/*
 * Run the task_file iterator once: it records the owner of every socket
 * that is already open. Reading the iterator to EOF is what runs it.
 */
static int seed_owners(struct live_capture *lc)
{
	struct bpf_link *link = bpf_program__attach_iter(lc->skel->progs.seed_owners, NULL);
	char buf[256];
	ssize_t n;
	int fd;

	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		int e = errno;

		bpf_link__destroy(link);
		return -e;
	}
	do {
		n = read(fd, buf, sizeof(buf));
	} while (n > 0 || (n < 0 && errno == EINTR));
	close(fd);
	bpf_link__destroy(link);
	return n < 0 ? -errno : 0;
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
	set_rodata(lc->skel, cfg);
	select_programs(lc->skel, cfg);
	/* reuse_fd dups rb_fd: the caller still closes its own. */
	if (bpf_map__reuse_fd(lc->skel->maps.rb, rb_fd) < 0) {
		set_err(err, errlen, "dnssnoop: cannot use the ring buffer: %s", strerror(errno));
		return -1;
	}
	return load_programs(lc->skel, cfg->verbose, err, errlen);
}

static int attach_cgroup(struct live_capture *lc, const struct live_config *cfg, char *err,
			 size_t errlen)
{
	int ret;

	if (open_cgroup(lc, cfg, err, errlen) < 0)
		return -1;
	if (attach_cgroup_programs(lc, cfg->cgroup_path ? cfg->cgroup_path : "/", err, errlen) < 0)
		return -1;
	/* After attaching: a socket created meanwhile is seen by sock_create. */
	ret = seed_owners(lc);
	if (ret < 0 && cfg->verbose)
		fprintf(stderr,
			"dnssnoop: iter/task_file failed (%s): sockets opened before start "
			"stay unattributed until they send\n",
			strerror(-ret));
	return 0;
}

static int start(struct live_capture *lc, const struct live_config *cfg, char *err, size_t errlen)
{
	uint32_t rb_bytes = ringbuf_bytes(cfg->ringbuf_mb);
	int rb_fd = create_ringbuf(rb_bytes, err, errlen);
	int ret;

	if (rb_fd < 0)
		return -1;
	ret = open_skeleton(lc, cfg, rb_fd, err, errlen);
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
	struct live_capture *lc;
	libbpf_print_fn_t old_print = NULL;
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
	/* libbpf's printer is process-wide: silence it only while we load. */
	if (!cfg->verbose)
		old_print = libbpf_set_print(silent_print);
	ret = start(lc, cfg, err, errlen);
	if (!cfg->verbose)
		libbpf_set_print(old_print);
	if (ret < 0) {
		live_close(lc);
		return NULL;
	}
	return lc;
}

/*
 * The kernel wakes us at most once per 5 ms (wakeup_flags() in the
 * BPF code), so events that arrive just after a wakeup come without one.
 * After any delivery, wait at most TAIL_POLL_MS and then look at the ring
 * whatever epoll says; once a short wait finds nothing, the next event
 * is more than 5 ms after the last wakeup and wakes us itself.
 */
int live_poll(struct live_capture *lc, int timeout_ms)
{
	int n = ring_buffer__consume(lc->ring);

	if (n == 0) {
		if (lc->recent && (timeout_ms < 0 || timeout_ms > TAIL_POLL_MS))
			timeout_ms = TAIL_POLL_MS;
		n = ring_buffer__poll(lc->ring, timeout_ms);
		if (n == 0 && lc->recent)
			n = ring_buffer__consume(lc->ring);
	}
	if (n >= 0)
		lc->recent = n > 0;
	return n;
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

uint64_t live_delivered(const struct live_capture *lc)
{
	return lc->delivered;
}

const char *live_cgroup_path(void *lc, uint64_t cgroup_id)
{
	struct live_capture *l = lc;

	return l && l->cgroups ? cgroup_names_lookup(l->cgroups, cgroup_id) : NULL;
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
	dnssnoop_bpf__destroy(lc->skel);
	if (lc->cgroup_fd >= 0)
		close(lc->cgroup_fd);
	cgroup_names_free(lc->cgroups);
	tc_clsact_free(lc->clsact);
	free(lc->percpu);
	free(lc);
}
