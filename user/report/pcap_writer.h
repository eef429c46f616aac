/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Saves captured DNS packets as a pcap file (libpcap, Linux cooked v2:
 * each record an IPv4 or IPv6 packet behind a header carrying the
 * direction and the interface, as `tcpdump -i any` writes) that tcpdump
 * and Wireshark open, and `dnssnoop -r` reads back with directions. The live
 * source only has the L4 payload and its metadata, so the IP and UDP/TCP
 * headers are rebuilt from pkt_meta (addresses, ports, TCP sequence number
 * and flags); a record's captured length is what was copied, its original
 * length what was on the wire.
 */
#ifndef DNSSNOOP_PCAP_WRITER_H
#define DNSSNOOP_PCAP_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "lib/packet.h"

struct pcap_writer;

/*
 * Write to fd (taken over: closed by pcap_writer_close, or here on
 * failure); name is for messages. NULL with one line in err on failure.
 */
struct pcap_writer *pcap_writer_fdopen(int fd, const char *name, char *err, size_t errlen);
/* Create or empty path, opened as lib/outfile.h does; "-" is standard output. */
struct pcap_writer *pcap_writer_open(const char *path, char *err, size_t errlen);
/*
 * Append one packet. Returns 0 or -errno (e.g. -ENOSPC). After the first
 * error nothing more is written, and a regular file is cut back to the
 * end of its last whole record.
 */
int pcap_writer_write(struct pcap_writer *w, const struct pkt_meta *meta, const uint8_t *payload,
		      size_t caplen);
/*
 * Append one DNS message as a packet of its own, for a writer that keeps
 * only some messages (display filters): a UDP message is its datagram as
 * captured; a TCP message (len bytes captured of wire_len) becomes one
 * segment holding its length prefix and itself, the headers of meta (the
 * segment that completed it) with FIN set, so that a reader's reassembly
 * takes it whole and alone whatever segments around it were left out.
 * Returns as pcap_writer_write.
 */
int pcap_writer_write_message(struct pcap_writer *w, const struct pkt_meta *meta,
			      const uint8_t *msg, size_t len, size_t wire_len);
/* Flush and close; returns 0 or -errno. */
int pcap_writer_close(struct pcap_writer *w);

#endif
