/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The offline capture source: reads a pcap or pcapng file with libpcap,
 * takes each frame apart (Ethernet with 802.1Q/QinQ, Linux cooked v1/v2,
 * raw IPv4/IPv6, BSD loopback), reassembles IPv4/IPv6 fragments (bounded),
 * walks IPv6 extension headers, and hands UDP/TCP payloads to or from the
 * DNS ports to the pipeline as pkt_meta + payload, exactly as the live
 * source does. Time comes from the packets. dir is known only from Linux
 * cooked headers (tcpdump -i any, dnssnoop -w), otherwise DNSSNOOP_DIR_UNKNOWN;
 * cookie 0 and owner unknown: a file cannot say which process it was.
 */
#ifndef DNSSNOOP_CAPTURE_PCAP_H
#define DNSSNOOP_CAPTURE_PCAP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/packet.h"

struct pcap_source_stats {
	uint64_t packets; /* records read from the file */
	uint64_t dns_packets; /* handed on (UDP/TCP to or from a DNS port) */
	uint64_t skipped; /* other traffic: not IP, not UDP/TCP, other ports */
	uint64_t truncated; /* captured shorter than on the wire */
	uint64_t malformed; /* link/IP/UDP/TCP headers that do not hold together */
	uint64_t fragments; /* IP fragments seen */
	uint64_t reassembled; /* datagrams rebuilt from fragments */
	uint64_t fragments_dropped; /* fragments given up (incomplete, over the bounds) */
};

struct pcap_source;

/*
 * Open path ("-" is stdin) and, if filter is not NULL, compile it as a
 * tcpdump-style BPF expression. ports (host order) select the DNS traffic.
 * On failure returns NULL with one line naming the file and what is wrong
 * in err.
 */
struct pcap_source *pcap_source_open(const char *path, const char *filter, const uint16_t *ports,
				     int nports, char *err, size_t errlen);

/*
 * The same from a stream already open (the caller may have looked at its
 * first bytes to tell a pcap from another format). name is what messages
 * call the file. f is taken over: pcap_source_close() closes it, and so
 * does a failed open.
 */
struct pcap_source *pcap_source_fopen(FILE *f, const char *name, const char *filter,
				      const uint16_t *ports, int nports, char *err, size_t errlen);

/*
 * Once *stop is non-zero, pcap_source_next() returns 0 (the end), also in
 * the middle of a stream of other traffic; a record cut short by a read
 * that gave up for it is not damage. NULL (the default): never.
 */
void pcap_source_set_stop(struct pcap_source *ps, volatile sig_atomic_t *stop);

/*
 * Pull style, for merging several inputs by time: the next DNS packet of
 * the file. Returns 1 with *meta, *payload and *caplen set (valid until
 * the next call or pcap_source_close()), 0 at the end of the file, or -1
 * when the file is damaged (err as for pcap_source_run(); every packet
 * before was returned, and later calls return 0).
 */
int pcap_source_next(struct pcap_source *ps, const struct pkt_meta **meta, const uint8_t **payload,
		     size_t *caplen, char *err, size_t errlen);

/*
 * Deliver every DNS packet of the file to fn, in file order, until the end
 * or until *stop becomes non-zero. Returns 0 at a clean end, or -1 when the
 * file is damaged (truncated record, garbage): err then names the file and
 * the packet number where reading stopped; everything before was delivered.
 */
int pcap_source_run(struct pcap_source *ps, packet_fn fn, void *ctx, volatile sig_atomic_t *stop,
		    char *err, size_t errlen);

void pcap_source_get_stats(const struct pcap_source *ps, struct pcap_source_stats *st);
void pcap_source_close(struct pcap_source *ps);

#endif
