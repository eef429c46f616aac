/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The live capture source: loads the BPF programs, attaches them with
 * bpf_links (so they go away with the process, however it dies) or, for
 * tc without TCX, with clsact filters that a guard process removes if we
 * die, and turns ring-buffer events into pkt_meta + payload for the
 * pipeline.
 */
#ifndef DNSSNOOP_CAPTURE_LIVE_H
#define DNSSNOOP_CAPTURE_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/obs.h"
#include "lib/packet.h"

/* Where the packet programs run (docs/capture.md says what each can see). */
enum live_hook {
	LIVE_HOOK_CGROUP = 0, /* cgroup_skb: local sockets, with their processes */
	LIVE_HOOK_TC, /* sched_cls on interfaces, both directions, TCX links */
	LIVE_HOOK_XDP, /* xdp on interfaces, ingress only */
};

#define LIVE_MAX_IFACES 8

/* How --hook tc attaches (docs/capture.md, "tc attachment"). */
enum live_tc_attach {
	LIVE_TC_AUTO = 0, /* TCX; clsact if the kernel has no TCX */
	LIVE_TC_TCX, /* TCX links only */
	LIVE_TC_CLSACT, /* clsact qdisc + cls_bpf filters, removed on exit */
};

struct live_config {
	const uint16_t *ports; /* host order; nports in 1..DNSSNOOP_MAX_PORTS */
	int nports;
	uint32_t snaplen; /* DNSSNOOP_MIN_SNAPLEN..DNSSNOOP_MAX_SNAPLEN */
	const char *cgroup_path; /* NULL: the cgroup v2 root */
	uint32_t ringbuf_mb; /* 0: default */
	bool verbose; /* let libbpf print its messages */
	enum live_hook hook; /* 0 (cgroup) by default */
	/* tc/xdp: interface names, resolved in the tracer's network namespace */
	const char *const *ifaces;
	int nifaces; /* 1..LIVE_MAX_IFACES for tc/xdp, 0 for cgroup */
	enum live_tc_attach tc_attach; /* tc only; 0 (auto) by default */
	/*
	 * Comma-separated features or optional programs to act as missing
	 * (the DNSSNOOP_DISABLE environment variable; docs/capture.md,
	 * "Kernels"); NULL: none.
	 */
	const char *disable;
};

typedef packet_fn live_packet_fn;

struct live_capture;

/*
 * Load and attach. On failure returns NULL and writes one line saying what
 * is missing and what to do into err.
 */
struct live_capture *live_open(const struct live_config *cfg, live_packet_fn fn, void *ctx,
			       char *err, size_t errlen);
/*
 * Deliver ready events; waits up to timeout_ms. Returns events or -errno;
 * -ECHILD (said on stderr) when the clsact guard process died: stop.
 */
int live_poll(struct live_capture *lc, int timeout_ms);
/* Sum of the per-CPU kernel counters. */
void live_get_counters(struct live_capture *lc, struct dnssnoop_counters *c);
/*
 * The live source's part of capture_stats: the kernel counters and the
 * degraded features (a pipeline's source_stats_fn; ctx is the capture).
 */
void live_stats(void *ctx, struct capture_stats *st);
/*
 * Report something the session does without, as the capture's own
 * degraded features are: one stderr line, and the name in capture_stats.
 */
void live_degrade(struct live_capture *lc, const char *name, const char *why, const char *cost);
/* Are clsact filters attached (their removal needs CAP_NET_ADMIN)? */
bool live_uses_clsact(const struct live_capture *lc);
/* Events handed to the callback so far. */
uint64_t live_delivered(const struct live_capture *lc);
/* Resolve a cgroup id to its path below the cgroup2 mount ("/" is the root). */
const char *live_cgroup_path(void *lc, uint64_t cgroup_id);
/* Its unit, container and pod (capture/cgroup_ident.h), by id or by that path. */
struct cgroup_ident;
const struct cgroup_ident *live_cgroup_ident(void *lc, uint64_t cgroup_id);
const struct cgroup_ident *live_cgroup_ident_by_path(void *lc, const char *path);
/* Wall-clock ns now, on the same clock as pkt_meta.ts_ns. */
uint64_t live_now_ns(const struct live_capture *lc);
/*
 * Detach the programs from the kernel (no new events), keeping the ring
 * buffer and the counters readable so the session can drain and report.
 */
void live_detach(struct live_capture *lc);
/* Detach everything and free. */
void live_close(struct live_capture *lc);

#endif
