// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dnssnoop kernel side.
 *
 * Packet path: cgroup_skb ingress/egress programs on a cgroup (the v2 root
 * by default, which sees every local socket in every network namespace).
 * A packet whose UDP/TCP source or destination port is not in ports[]
 * leaves after a handful of loads and compares (no helper call, no map
 * lookup); a matching one is copied, header plus up to snaplen bytes of L4
 * payload, into a ring buffer, in a reservation sized to the payload (see
 * reserve_event()).
 *
 * Process attribution: the packet programs never ask "who is running now"
 * (on ingress that is whoever runs the softirq). Instead the socket's owner
 * is recorded from process context, keyed by socket cookie, by:
 *   - cgroup/sock_create        sockets created while we run,
 *   - cgroup/connect*, sendmsg*, recvmsg*
 *                               the task actually using a socket (it may
 *                               have been inherited or passed on),
 * and user space seeds the map at start with the sockets that already
 * existed (sock_diag and /proc, see sockscan.c). Accepted TCP sockets are
 * created in softirq and touched by no hook before their first segment
 * arrives, so a listener bound to a DNS port carries its owner in socket
 * storage with BPF_F_CLONE: every accepted child gets a copy, and the
 * packet programs fall back to it.
 *
 * Portability: the oldest verifier we load on is Linux 5.10's. Map keys
 * live on the stack; every helper on a path that must load exists there
 * for the program's type; a helper that only some kernels have sits
 * behind a use_* constant that user space sets from a probe before load,
 * so the verifier drops the branch a kernel cannot run.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>

#include "dnssnoop.h"

#define AF_INET	   2
#define AF_INET6   10
#define TCP_LISTEN 10

#define IPV6_HOPOPTS	  0
#define IPV6_ROUTING	  43
#define IPV6_FRAGMENT	  44
#define IPV6_DSTOPTS	  60
#define IPV6_MAX_EXT_HDRS 6

#define IP_OFFSET 0x1fff
/* Headers we read lie well within this; it bounds offsets for the verifier. */
#define MAX_HDR_OFF 4096

#define ALLOW 1

/* Set by user space before load; frozen, so the verifier sees constants. */
const volatile __u16 ports[DNSSNOOP_MAX_PORTS] = {0}; /* network byte order */
const volatile __u32 nports = 0;
const volatile __u32 snaplen = DNSSNOOP_DEFAULT_SNAPLEN;
/* The reader is woken when this much is waiting, at most once per interval. */
const volatile __u64 wakeup_bytes = 1 << 20;
const volatile __u64 wakeup_interval_ns = 1000000;
/* Optional features (capture_live.c probes them; docs/capture.md, "Kernels"). */
const volatile bool use_leader_comm = true; /* bpf_get_current_task + probe_read_kernel */
const volatile bool use_listener_owner = true; /* listen_owners socket storage */
const volatile bool use_xdp_load_bytes = true; /* bpf_xdp_load_bytes, bpf_xdp_get_buff_len (5.18) */

__u64 last_wakeup_ns = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* user space sets the real size */
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dnssnoop_counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* socket cookie */
	__type(value, struct dnssnoop_owner);
} owners SEC(".maps");

/* Owner of TCP listeners on DNS ports; cloned into every accepted socket. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct dnssnoop_owner);
} listen_owners SEC(".maps");

static __always_inline struct dnssnoop_counters *get_counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&counters, &zero);
}

/* Ports arrive in network byte order; so are the ones in ports[]. */
static __always_inline bool is_dns_port(__u16 port)
{
#pragma unroll
	for (__u32 i = 0; i < DNSSNOOP_MAX_PORTS; i++) {
		if (i >= nports)
			return false;
		if (ports[i] == port)
			return true;
	}
	return false;
}

/*
 * Where a packet program runs. Every entry point passes a constant, so
 * after inlining clang keeps only the branches of its own kind.
 */
enum hook_kind {
	HOOK_CGROUP, /* cgroup_skb: data starts at the IP header, a local socket */
	HOOK_TC, /* sched_cls (TCX): data starts at the Ethernet header */
	HOOK_XDP, /* xdp: Ethernet header, no socket, no skb */
};

/*
 * The packet, with data and data_end read once: clang may otherwise merge
 * two context loads into one load through a computed context pointer,
 * which the verifier refuses. data points at the network header, l3 is
 * its offset from the start of the packet (what the load helpers count
 * from) and len the bytes from the network header to the end.
 */
struct pkt {
	void *ctx; /* struct __sk_buff or struct xdp_md */
	void *data;
	void *end;
	__u32 l3;
	__u32 len;
	enum hook_kind kind;
};

/*
 * An xdp frame before Linux 5.18 is one linear buffer, and the kernel has
 * no bpf_xdp_load_bytes: read it with bpf_probe_read_kernel, which xdp
 * programs have had since 5.5, inside the buffer's bounds.
 */
static __always_inline int xdp_linear_load(struct xdp_md *ctx, __u32 off, void *to, __u32 len)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (off > 0xffff || data + off + len > end)
		return -1;
	return bpf_probe_read_kernel(to, len, data + off);
}

/* bpf_skb_load_bytes or the xdp equivalent; off counts from the network header. */
static __always_inline int load_bytes(void *ctx, enum hook_kind kind, __u32 l3, __u32 off, void *to,
				      __u32 len)
{
	if (kind != HOOK_XDP)
		return bpf_skb_load_bytes(ctx, l3 + off, to, len);
	if (use_xdp_load_bytes)
		return bpf_xdp_load_bytes(ctx, l3 + off, to, len);
	return xdp_linear_load(ctx, l3 + off, to, len);
}

/*
 * Copy len bytes at off into to: straight from the linear packet data when
 * it is there (the usual case: the stack builds headers linear), through
 * the helper otherwise. Returns 0 or a negative error.
 */
static __always_inline int read_hdr(const struct pkt *p, __u32 off, void *to, __u32 len)
{
	if (off > MAX_HDR_OFF)
		return -1;
	if (p->data + off + len <= p->end) {
		__builtin_memcpy(to, p->data + off, len);
		return 0;
	}
	return load_bytes(p->ctx, p->kind, p->l3, off, to, len);
}

/* What the header walk found out about one packet. */
struct pkt_info {
	__u32 l4_off; /* offset of the UDP/TCP header from the network header */
	__u32 payload_off;
	__u32 payload_len;
	__u32 tcp_seq;
	__u16 sport, dport; /* network byte order */
	__u8 family;
	__u8 proto;
	__u8 tcp_flags;
};

/* IPv4: fills family, proto, l4_off. Returns false for what we skip. */
static __always_inline bool parse_ipv4(const struct pkt *p, __u8 first, struct pkt_info *pi)
{
	struct {
		__u8 pad[6];
		__be16 frag_off;
		__u8 ttl;
		__u8 protocol;
	} h;

	if (read_hdr(p, 0, &h, sizeof(h)) < 0)
		return false;
	if (h.protocol != IPPROTO_UDP && h.protocol != IPPROTO_TCP)
		return false;
	/* Only a first fragment carries the ports. */
	if (h.frag_off & bpf_htons(IP_OFFSET))
		return false;
	pi->family = AF_INET;
	pi->proto = h.protocol;
	pi->l4_off = (first & 0x0f) * 4;
	return pi->l4_off >= 20;
}

/*
 * The rare IPv6 packet with extension headers: walk a bounded chain. Not
 * inlined (it would be copied into every program); kind arrives as a
 * constant scalar, so the verifier follows only the matching helper.
 */
static __noinline bool skip_ipv6_ext(void *ctx, __u32 kind, __u32 l3, struct pkt_info *pi,
				     __u8 nexthdr)
{
	__u32 off = 40;

	for (int i = 0; i < IPV6_MAX_EXT_HDRS; i++) {
		__u8 eh[4];

		if (nexthdr == IPPROTO_UDP || nexthdr == IPPROTO_TCP) {
			pi->proto = nexthdr;
			pi->l4_off = off;
			return true;
		}
		if (nexthdr != IPV6_HOPOPTS && nexthdr != IPV6_ROUTING && nexthdr != IPV6_DSTOPTS &&
		    nexthdr != IPV6_FRAGMENT)
			return false;
		if (load_bytes(ctx, kind, l3, off, eh, sizeof(eh)) < 0)
			return false;
		if (nexthdr == IPV6_FRAGMENT) {
			/* fragment offset: the high 13 bits of bytes 2-3 */
			if (((eh[2] << 8) | eh[3]) & 0xfff8)
				return false;
			off += 8;
		} else {
			off += ((__u32)eh[1] + 1) * 8;
		}
		nexthdr = eh[0];
	}
	return false;
}

static __always_inline bool parse_ipv6(const struct pkt *p, struct pkt_info *pi)
{
	struct {
		__u8 pad[6];
		__u8 nexthdr;
	} h;

	if (read_hdr(p, 0, &h, sizeof(h)) < 0)
		return false;
	pi->family = AF_INET6;
	if (h.nexthdr == IPPROTO_UDP || h.nexthdr == IPPROTO_TCP) {
		pi->proto = h.nexthdr;
		pi->l4_off = 40;
		return true;
	}
	return skip_ipv6_ext(p->ctx, p->kind, p->l3, pi, h.nexthdr);
}

/*
 * TCP: payload offset, sequence number and flags. Pure ACKs and SYNs
 * carry nothing for us; FIN/RST without data still go up so user space
 * can drop its flow state.
 */
static __always_inline bool parse_tcp(const struct pkt *p, struct pkt_info *pi)
{
	struct {
		__be16 sport, dport;
		__be32 seq;
		__be32 ack;
		__u8 doff;
		__u8 flags;
	} th;
	__u32 hlen;

	if (read_hdr(p, pi->l4_off, &th, sizeof(th)) < 0)
		return false;
	hlen = (th.doff >> 4) * 4;
	if (hlen < 20)
		return false;
	pi->payload_off = pi->l4_off + hlen;
	if (p->len < pi->payload_off)
		return false;
	pi->payload_len = p->len - pi->payload_off;
	pi->tcp_flags = th.flags;
	pi->tcp_seq = bpf_ntohl(th.seq);
	return pi->payload_len > 0 || (th.flags & (DNSSNOOP_TCP_FIN | DNSSNOOP_TCP_RST));
}

/*
 * Addresses with word loads and stores (event offsets 80 and 96 are
 * 8-byte aligned): byte-wise copies and helper calls cost more here than
 * the rest of the header together.
 */
static __always_inline void copy_addrs(const struct pkt *p, const struct pkt_info *pi,
				       struct dnssnoop_event *ev)
{
	__u32 *d = (__u32 *)ev->saddr; /* saddr[16] then daddr[16] */
	__u64 *d64 = (__u64 *)ev->saddr;

	if (pi->family == AF_INET) {
		__u32 *ip = p->data + 12;

		d[1] = d[2] = d[3] = 0;
		d[5] = d[6] = d[7] = 0;
		if ((void *)(ip + 2) <= p->end) {
			d[0] = ip[0];
			d[4] = ip[1];
		} else if (load_bytes(p->ctx, p->kind, p->l3, 12, &d[0], 4) < 0 ||
			   load_bytes(p->ctx, p->kind, p->l3, 16, &d[4], 4) < 0) {
			d[0] = d[4] = 0;
		}
	} else {
		__u64 *ip6 = p->data + 8; /* saddr and daddr are adjacent here too */

		if ((void *)(ip6 + 4) <= p->end) {
			d64[0] = ip6[0];
			d64[1] = ip6[1];
			d64[2] = ip6[2];
			d64[3] = ip6[3];
		} else if (load_bytes(p->ctx, p->kind, p->l3, 8, d64, 32) < 0) {
			d64[0] = d64[1] = d64[2] = d64[3] = 0;
		}
	}
}

/*
 * Owner of the socket: by cookie, else (accepted TCP) from its listener.
 * The key is a stack copy: verifiers before 6.x take map keys only from
 * the stack or a map value, not from ring-buffer memory.
 */
static __always_inline void copy_owner(struct __sk_buff *skb, const struct pkt_info *pi,
				       struct dnssnoop_event *ev, __u64 cookie)
{
	struct dnssnoop_owner *o = bpf_map_lookup_elem(&owners, &cookie);

	if (!o && use_listener_owner && pi->proto == IPPROTO_TCP) {
		struct bpf_sock *sk = skb->sk;

		if (sk)
			sk = bpf_sk_fullsock(sk);
		if (sk)
			o = bpf_sk_storage_get(&listen_owners, sk, 0, 0);
	}
	if (o)
		__builtin_memcpy(&ev->owner, o, sizeof(ev->owner));
	else
		__builtin_memset(&ev->owner, 0, sizeof(ev->owner));
}

/*
 * Socket, owner and interface. Only cgroup_skb runs for a local socket
 * with an owner we recorded; tc and xdp see packets on an interface (the
 * socket may be in another namespace or on another host), so their
 * events say "unknown" (cookie 0, owner zeroed).
 */
static __always_inline void copy_origin(const struct pkt *p, const struct pkt_info *pi,
					struct dnssnoop_event *ev)
{
	if (p->kind == HOOK_XDP) {
		ev->ifindex = ((struct xdp_md *)p->ctx)->ingress_ifindex;
	} else {
		struct __sk_buff *skb = p->ctx;

		ev->ifindex = skb->ifindex;
		if (p->kind == HOOK_CGROUP) {
			__u64 cookie = bpf_get_socket_cookie(skb);

			ev->cookie = cookie;
			copy_owner(skb, pi, ev, cookie);
			return;
		}
	}
	ev->cookie = 0;
	__builtin_memset(&ev->owner, 0, sizeof(ev->owner));
}

/*
 * Waking the reader costs an interrupt and a context switch (microseconds
 * in a VM), and the ring's default policy wakes it for nearly every event
 * when it keeps up. The reader looks at the ring on a timer of its own
 * (live_poll), which bounds a record's delay; the kernel wakes it only
 * when wakeup_bytes are waiting (a burst that the timer would let fill the
 * ring), at most once per wakeup_interval_ns.
 */
static __always_inline __u64 wakeup_flags(__u64 now)
{
	if (now - last_wakeup_ns < wakeup_interval_ns ||
	    bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) < wakeup_bytes)
		return BPF_RB_NO_WAKEUP;
	last_wakeup_ns = now;
	return BPF_RB_FORCE_WAKEUP;
}

/*
 * Ring space for an event with want payload bytes (want <= snaplen): the
 * smallest of 64, 128, ..., 32768 and snaplen that holds it. The reserve
 * size must be a constant, hence one call per class; the verifier drops
 * the classes that snaplen (a load-time constant) makes dead. Compared with
 * always reserving snaplen, a 40-byte query moves far less of the ring
 * through the caches, and the ring holds more events. *room: the payload
 * bytes reserved.
 */
#define RESERVE_CLASS(n)                                                                 \
	if (want <= (n) && (n) < snaplen) {                                              \
		*room = (n);                                                             \
		return bpf_ringbuf_reserve(&rb, sizeof(struct dnssnoop_event) + (n), 0); \
	}

static __always_inline struct dnssnoop_event *reserve_event(__u64 want, __u64 *room)
{
	RESERVE_CLASS(64)
	RESERVE_CLASS(128)
	RESERVE_CLASS(256)
	RESERVE_CLASS(512)
	RESERVE_CLASS(1024)
	RESERVE_CLASS(2048)
	RESERVE_CLASS(4096)
	RESERVE_CLASS(8192)
	RESERVE_CLASS(16384)
	RESERVE_CLASS(32768)
	*room = snaplen;
	return bpf_ringbuf_reserve(&rb, sizeof(struct dnssnoop_event) + snaplen, 0);
}

/*
 * Copy the first cap bytes of the payload, cap <= room; returns the bytes
 * copied. The length passed is (cap - 1) + 1 after checking cap - 1 <
 * room: verifiers before 6.8 learn nothing from "cap != 0", but they learn
 * 1 <= length <= room from that (a zero cap wraps and fails the check).
 * The empty asm statements keep clang from folding the check back into
 * "cap == 0" or testing a copy of the register it then passes.
 */
static __always_inline __u32 copy_payload(const struct pkt *p, const struct pkt_info *pi,
					  struct dnssnoop_event *ev, __u64 cap, __u64 room)
{
	__u64 last;

	asm volatile("" : "+r"(cap));
	if (cap > room)
		cap = room;
	last = cap - 1;
	asm volatile("" : "+r"(last));
	if (last >= room)
		return 0;
	if (p->kind == HOOK_XDP && !use_xdp_load_bytes) {
		/* pkt_len() made the length the linear buffer's: this stays inside */
		if (bpf_probe_read_kernel(ev->payload, last + 1, p->data + pi->payload_off) < 0)
			return 0;
		return last + 1;
	}
	if (load_bytes(p->ctx, p->kind, p->l3, pi->payload_off, ev->payload, last + 1) < 0)
		return 0;
	return last + 1;
}

static __always_inline void submit_event(const struct pkt *p, const struct pkt_info *pi, __u8 dir,
					 struct dnssnoop_counters *cnt)
{
	struct dnssnoop_event *ev;
	__u64 cap = pi->payload_len, room;

	if (cap > snaplen)
		cap = snaplen;
	ev = reserve_event(cap, &room);
	if (!ev) {
		cnt->lost++;
		return;
	}
	ev->ts_boot_ns = bpf_ktime_get_boot_ns();
	ev->orig_len = pi->payload_len;
	ev->tcp_seq = pi->tcp_seq;
	ev->dir = dir;
	ev->family = pi->family;
	ev->proto = pi->proto;
	ev->tcp_flags = pi->tcp_flags;
	ev->sport = bpf_ntohs(pi->sport);
	ev->dport = bpf_ntohs(pi->dport);
	copy_addrs(p, pi, ev);
	copy_origin(p, pi, ev);
	ev->cap_len = copy_payload(p, pi, ev, cap, room);
	cnt->submitted++;
	bpf_ringbuf_submit(ev, wakeup_flags(ev->ts_boot_ns));
}

/* From the network header on: the same for every hook. */
/*
 * Bytes from the network header to the end of the packet. An skb knows its
 * length; an xdp buffer with fragments needs a helper call, which only a
 * packet on a DNS port pays.
 */
static __always_inline bool pkt_len(struct pkt *p)
{
	if (p->kind == HOOK_XDP && !use_xdp_load_bytes) {
		p->len = p->end - p->data; /* one linear buffer */
		return true;
	}
	if (p->kind == HOOK_XDP) {
		__u32 len = bpf_xdp_get_buff_len(p->ctx);

		if (len < p->l3)
			return false;
		p->len = len - p->l3;
	}
	return true;
}

static __always_inline void handle_l3(struct pkt *p, __u8 dir)
{
	struct dnssnoop_counters *cnt;
	struct pkt_info pi = {};
	__u16 ports_be[2];
	__u8 first;

	if (read_hdr(p, 0, &first, 1) < 0)
		return;
	if ((first >> 4) == 4) {
		if (!parse_ipv4(p, first, &pi))
			return;
	} else if ((first >> 4) == 6) {
		if (!parse_ipv6(p, &pi))
			return;
	} else {
		return;
	}
	if (read_hdr(p, pi.l4_off, ports_be, sizeof(ports_be)) < 0)
		return;
	if (!is_dns_port(ports_be[0]) && !is_dns_port(ports_be[1]))
		return;
	pi.sport = ports_be[0];
	pi.dport = ports_be[1];
	if (!pkt_len(p))
		return;

	if (pi.proto == IPPROTO_TCP) {
		if (!parse_tcp(p, &pi))
			return;
	} else {
		pi.payload_off = pi.l4_off + 8;
		if (p->len < pi.payload_off)
			return;
		pi.payload_len = p->len - pi.payload_off;
	}

	cnt = get_counters();
	if (!cnt)
		return;
	cnt->matched++;
	submit_event(p, &pi, dir, cnt);
}

#define ETH_HLEN      14
#define ETH_P_IP_BE   bpf_htons(0x0800)
#define ETH_P_IPV6_BE bpf_htons(0x86DD)

/*
 * Ethernet frames (tc, xdp): only untagged IPv4/IPv6 go on; the network
 * header then starts ETH_HLEN bytes in.
 */
static __always_inline void handle_eth(struct pkt *p, __u8 dir)
{
	__be16 proto;

	if (p->data + ETH_HLEN > p->end)
		return; /* headers are linear: a short frame is not ours */
	proto = *(__be16 *)(p->data + 12);
	if (proto != ETH_P_IP_BE && proto != ETH_P_IPV6_BE)
		return;
	p->data += ETH_HLEN;
	p->l3 = ETH_HLEN;
	if (p->kind != HOOK_XDP) {
		if (p->len < ETH_HLEN)
			return;
		p->len -= ETH_HLEN;
	}
	handle_l3(p, dir);
}

static __always_inline struct pkt skb_pkt(struct __sk_buff *skb, enum hook_kind kind)
{
	return (struct pkt){
		.ctx = skb,
		.data = (void *)(long)skb->data,
		.end = (void *)(long)skb->data_end,
		.len = skb->len,
		.kind = kind,
	};
}

SEC("cgroup_skb/ingress")
int dns_ingress(struct __sk_buff *skb)
{
	struct pkt p = skb_pkt(skb, HOOK_CGROUP);

	handle_l3(&p, DNSSNOOP_INGRESS);
	return ALLOW;
}

SEC("cgroup_skb/egress")
int dns_egress(struct __sk_buff *skb)
{
	struct pkt p = skb_pkt(skb, HOOK_CGROUP);

	handle_l3(&p, DNSSNOOP_EGRESS);
	return ALLOW;
}

/* TCX_NEXT: let the next program (or the stack) decide, as if we were not there. */
#define TC_NEXT (-1)

SEC("tc")
int dns_tc_ingress(struct __sk_buff *skb)
{
	struct pkt p = skb_pkt(skb, HOOK_TC);

	handle_eth(&p, DNSSNOOP_INGRESS);
	return TC_NEXT;
}

SEC("tc")
int dns_tc_egress(struct __sk_buff *skb)
{
	struct pkt p = skb_pkt(skb, HOOK_TC);

	handle_eth(&p, DNSSNOOP_EGRESS);
	return TC_NEXT;
}

SEC("xdp")
int dns_xdp(struct xdp_md *ctx)
{
	struct pkt p = {
		.ctx = ctx,
		.data = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
		/* .len: see pkt_len() */
		.kind = HOOK_XDP,
	};

	handle_eth(&p, DNSSNOOP_INGRESS);
	return XDP_PASS;
}

/* ---- process context: who owns which socket ---- */

static __always_inline void current_owner(struct dnssnoop_owner *o)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	o->tgid = pid_tgid >> 32;
	o->pid = (__u32)pid_tgid;
	o->uid = (__u32)bpf_get_current_uid_gid();
	o->_pad = 0;
	o->cgroup_id = bpf_get_current_cgroup_id();
	/*
	 * The process's name (what ps and ss -p show, and what --comm users
	 * type), not the thread's: dig sends from a thread named
	 * "isc-net-0000". bpf_get_current_task (not its _btf twin, which
	 * socket programs lack before 6.1) and CO-RE reads reach the group
	 * leader on every kernel; where probe_read_kernel is refused
	 * (lockdown=confidentiality) the thread's own name has to do.
	 */
	if (use_leader_comm) {
		struct task_struct *task = (void *)bpf_get_current_task();

		BPF_CORE_READ_STR_INTO(&o->comm, task, group_leader, comm);
	} else {
		bpf_get_current_comm(&o->comm, sizeof(o->comm));
	}
}

static __always_inline void count_owner(void)
{
	struct dnssnoop_counters *cnt = get_counters();

	if (cnt)
		cnt->owner_filled++;
}

/* Record the current task as the socket's owner unless it already is. */
static __always_inline void claim_socket(__u64 cookie)
{
	struct dnssnoop_owner *cur = bpf_map_lookup_elem(&owners, &cookie);
	struct dnssnoop_owner o;

	if (cur && cur->tgid == (__u32)(bpf_get_current_pid_tgid() >> 32))
		return;
	current_owner(&o);
	bpf_map_update_elem(&owners, &cookie, &o, BPF_ANY);
	count_owner();
}

static __always_inline bool is_inet_udp_tcp(__u32 family, __u32 protocol)
{
	if (family != AF_INET && family != AF_INET6)
		return false;
	return protocol == IPPROTO_UDP || protocol == IPPROTO_TCP;
}

SEC("cgroup/sock_create")
int sock_create(struct bpf_sock *sk)
{
	struct dnssnoop_owner o;
	__u64 cookie;

	if (!is_inet_udp_tcp(sk->family, sk->protocol))
		return ALLOW;
	cookie = bpf_get_socket_cookie(sk);
	current_owner(&o);
	bpf_map_update_elem(&owners, &cookie, &o, BPF_ANY);
	count_owner();
	return ALLOW;
}

/*
 * Context fields are read once, into locals: clang otherwise likes to
 * compute a field's address in one branch and load it in another, and the
 * verifier refuses loads through a modified context pointer.
 */
static __always_inline int on_sock_addr(struct bpf_sock_addr *ctx)
{
	__u32 family = ctx->family, protocol = ctx->protocol;

	if (is_inet_udp_tcp(family, protocol))
		claim_socket(bpf_get_socket_cookie(ctx));
	return ALLOW;
}

/*
 * bind: besides claiming the socket, a TCP socket bound to a DNS port is
 * (almost always) a server's listener; give it the owner in clonable
 * socket storage so its accepted connections inherit it.
 */
static __always_inline int on_bind(struct bpf_sock_addr *ctx)
{
	__u32 family = ctx->family, protocol = ctx->protocol;
	__u16 port = (__u16)ctx->user_port;
	struct bpf_sock *sk = ctx->sk;
	struct dnssnoop_owner o;

	if (!is_inet_udp_tcp(family, protocol))
		return ALLOW;
	claim_socket(bpf_get_socket_cookie(ctx));
	if (!use_listener_owner || protocol != IPPROTO_TCP || !is_dns_port(port) || !sk)
		return ALLOW;
	current_owner(&o);
	bpf_sk_storage_get(&listen_owners, sk, &o, BPF_SK_STORAGE_GET_F_CREATE);
	return ALLOW;
}

SEC("cgroup/bind4")
int sock_bind4(struct bpf_sock_addr *ctx)
{
	return on_bind(ctx);
}

SEC("cgroup/bind6")
int sock_bind6(struct bpf_sock_addr *ctx)
{
	return on_bind(ctx);
}

SEC("cgroup/connect4")
int sock_connect4(struct bpf_sock_addr *ctx)
{
	return on_sock_addr(ctx);
}

SEC("cgroup/connect6")
int sock_connect6(struct bpf_sock_addr *ctx)
{
	return on_sock_addr(ctx);
}

SEC("cgroup/sendmsg4")
int sock_sendmsg4(struct bpf_sock_addr *ctx)
{
	return on_sock_addr(ctx);
}

SEC("cgroup/sendmsg6")
int sock_sendmsg6(struct bpf_sock_addr *ctx)
{
	return on_sock_addr(ctx);
}

SEC("cgroup/recvmsg4")
int sock_recvmsg4(struct bpf_sock_addr *ctx)
{
	return on_sock_addr(ctx);
}

SEC("cgroup/recvmsg6")
int sock_recvmsg6(struct bpf_sock_addr *ctx)
{
	return on_sock_addr(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
