// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The cost floor for tools/bench-bpf-cost: programs that do nothing, for
 * the same hooks as dnssnoop's packet programs. What the kernel's BPF
 * statistics report for them (the two clock reads around each run, the
 * call) is part of every figure they report for dnssnoop too.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("cgroup_skb/ingress")
int floor_cg_in(struct __sk_buff *skb)
{
	return 1;
}

SEC("cgroup_skb/egress")
int floor_cg_eg(struct __sk_buff *skb)
{
	return 1;
}

/* TCX_NEXT, as dnssnoop's tc programs return. */
SEC("tc")
int floor_tc_in(struct __sk_buff *skb)
{
	return -1;
}

SEC("tc")
int floor_tc_eg(struct __sk_buff *skb)
{
	return -1;
}

SEC("xdp")
int floor_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
