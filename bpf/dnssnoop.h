/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Types shared by the kernel programs (dnssnoop.bpf.c) and user space.
 * Every field has a fixed width so both compilers lay the structs out
 * the same way; the layout is the ABI of the ring buffer.
 */
#ifndef DNSSNOOP_H
#define DNSSNOOP_H

#define DNSSNOOP_COMM_LEN	 16
#define DNSSNOOP_MAX_PORTS	 8
#define DNSSNOOP_MIN_SNAPLEN	 64
#define DNSSNOOP_DEFAULT_SNAPLEN 65535 /* every DNS message whole, TCP's largest too */
#define DNSSNOOP_MAX_SNAPLEN	 65535

enum dnssnoop_dir {
	DNSSNOOP_EGRESS = 0,
	DNSSNOOP_INGRESS = 1,
	DNSSNOOP_DIR_UNKNOWN = 2, /* offline sources that cannot tell */
};

/* Who owns a socket, recorded from process context. tgid == 0: unknown. */
struct dnssnoop_owner {
	__u32 tgid;
	__u32 pid; /* thread id */
	__u32 uid;
	__u32 _pad;
	__u64 cgroup_id;
	char comm[DNSSNOOP_COMM_LEN];
};

/* TCP flags as they appear in byte 13 of the TCP header. */
#define DNSSNOOP_TCP_FIN 0x01
#define DNSSNOOP_TCP_SYN 0x02
#define DNSSNOOP_TCP_RST 0x04

/*
 * One captured packet: this header, then cap_len bytes of the L4 payload
 * (the DNS message for UDP, the TCP segment's data for TCP). The ring
 * record is sizeof(header) plus the smallest of 64, 128, ... 32768 or
 * snaplen bytes that holds the copy (reservations must have a constant
 * size), so cap_len <= snaplen and cap_len <= record size - header.
 */
struct dnssnoop_event {
	__u64 ts_boot_ns; /* bpf_ktime_get_boot_ns() */
	__u64 cookie; /* socket cookie, 0 if no socket */
	struct dnssnoop_owner owner;
	__u32 ifindex;
	__u32 orig_len; /* L4 payload length on the wire */
	__u32 cap_len; /* bytes of payload copied after this header */
	__u32 tcp_seq; /* sequence number of the first payload byte */
	__u8 dir; /* enum dnssnoop_dir */
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 proto; /* IPPROTO_UDP or IPPROTO_TCP */
	__u8 tcp_flags;
	__u16 sport; /* host byte order */
	__u16 dport;
	__u8 saddr[16]; /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u8 payload[];
};

/* Per-CPU counters, summed by user space. */
struct dnssnoop_counters {
	__u64 matched; /* packets that passed the port filter */
	__u64 submitted; /* events written to the ring */
	__u64 lost; /* events dropped because the ring was full */
	__u64 owner_filled; /* socket owners recorded from process context */
};

#endif /* DNSSNOOP_H */
