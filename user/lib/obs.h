/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the stages pass on once a message is decoded: the observation (one
 * DNS message as statistics and detection see it, whatever the source:
 * live, pcap, or other hosts' JSON Lines) and the session's counters for
 * the capture_stats record. Plain data, so every stage may include it.
 */
#ifndef DNSSNOOP_OBS_H
#define DNSSNOOP_OBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h> /* the __u32 of dnssnoop.h */

#include "bpf/dnssnoop.h"

enum obs_kind { OBS_QUERY, OBS_RESPONSE, OBS_UNANSWERED };

#define OBS_MAX_ADDRS 8

struct obs_addr {
	uint8_t family; /* AF_INET / AF_INET6 */
	uint8_t addr[16];
};

/* One DNS message as the statistics see it. */
struct dns_obs {
	enum obs_kind kind;
	uint64_t ts_ns; /* wall clock (live) or packet time (offline) */
	const char *host; /* host that captured it (fleet input); NULL = this one */
	uint8_t dir; /* enum dnssnoop_dir */
	uint8_t proto; /* IPPROTO_UDP / IPPROTO_TCP */
	uint8_t family; /* of the addresses below */
	/*
	 * True for the second copy of an exchange whose client copy was also
	 * captured (both ends local: the server's ingress query and egress
	 * response; in fleet input, the client on one host and the server on
	 * another). Host-wide tables (peer, name, client x name) skip mirrors
	 * so every exchange counts once there; per-process tables count them
	 * (the server process did serve it). Set by the summary stage
	 * (summary_observation), whatever the caller put here.
	 */
	bool mirror;
	uint8_t client_addr[16], server_addr[16]; /* client = the query's sender */
	uint16_t client_port, server_port;
	const struct dnssnoop_owner *owner; /* local process; NULL or tgid 0: unknown */
	const char *cgroup; /* the owner's cgroup path; NULL: unknown */
	const char *qname; /* presentation format as seen; tables case-fold it */
	size_t qname_len;
	uint16_t qtype;
	uint16_t qclass; /* for a store of every message (report/ch_row.h); 0: not known */
	uint16_t flags; /* the header's flags word (DNS_FLAG_*), opcode bits included */
	bool logged; /* a message a server logged (dnstap), not a packet */
	uint16_t id; /* DNS message id: with the addresses, ports and proto, the exchange */
	/*
	 * OBS_QUERY: the matcher already had this query pending (same
	 * sockets, id and question): a retransmission. Still a query.
	 */
	bool retransmit;
	uint16_t rcode; /* OBS_RESPONSE */
	bool tc; /* OBS_RESPONSE: truncated (TC bit) */
	uint32_t len; /* message bytes on the wire */
	bool has_latency; /* OBS_RESPONSE matched to its query */
	uint64_t latency_ns;
	int naddrs; /* OBS_RESPONSE: A/AAAA answer addresses */
	struct obs_addr addrs[OBS_MAX_ADDRS];
};

/*
 * Which side of the exchange the capturing socket was on: a server
 * vantage is an ingress query or an egress response (the local socket
 * answered); everything else, offline traffic included, is a client
 * vantage. The peer of an observation is the other side.
 */
static inline bool obs_server_vantage(const struct dns_obs *o)
{
	if (o->dir == DNSSNOOP_DIR_UNKNOWN)
		return false;
	return (o->kind == OBS_RESPONSE) == (o->dir == DNSSNOOP_EGRESS);
}

/* A live source's resolver of an owner's cgroup id to its path; NULL: unknown. */
typedef const char *(*cgroup_path_fn)(void *ctx, uint64_t cgroup_id);

/*
 * --clickhouse: what the sink did with its batches (report/clickhouse_sink.h);
 * session totals. Batches, except rows_sent.
 */
struct clickhouse_counts {
	uint64_t batches_sent, rows_sent; /* the server took them (replayed ones included) */
	uint64_t retried; /* sends after a failed one (a batch may count several times) */
	uint64_t spilled; /* written to the spool */
	uint64_t replayed; /* from the spool into the server */
	uint64_t dropped; /* lost: the spool was full or could not be written */
};

/* Counters for the end-of-session "capture_stats" record. */
struct capture_stats {
	uint64_t start_ns, end_ns; /* session window, wall clock */
	bool has_kernel; /* the kernel counters below are meaningful */
	uint64_t packets_matched; /* kernel: packets that passed the port filter */
	uint64_t events_submitted; /* kernel: events written to the ring */
	uint64_t events_lost; /* kernel: events dropped, ring full */
	uint64_t events_delivered; /* events user space read from the ring */
	uint64_t messages; /* DNS messages decoded (including partly) */
	uint64_t decode_errors; /* messages not decodable past the header */
	uint64_t truncated_captures; /* messages cut by the snap length */
	uint64_t responses_matched;
	uint64_t responses_unmatched;
	uint64_t unanswered;
	uint64_t retransmits; /* queries the matcher already had pending */
	uint64_t tcp_gaps;
	uint64_t filtered; /* messages dropped by -p/--comm */
	bool has_ring_fill; /* live: ring_fill is known */
	double ring_fill; /* live: share of the ring buffer holding unread events, now */
	const char *const *degraded; /* live: features missing on this kernel */
	int ndegraded;
	bool interval; /* the counts of one --interval, not of the session */
	/* --dnstap-out: messages written (or queued), and dropped (full queue); session totals */
	bool has_dnstap_out;
	uint64_t dnstap_written, dnstap_dropped;
	bool has_clickhouse;
	struct clickhouse_counts clickhouse;
};

#endif
