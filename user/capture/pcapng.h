/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A pcapng reader (draft-ietf-opsawg-pcapng): any number of sections and
 * interfaces, each interface with its own link type, timestamp resolution
 * (if_tsresol) and offset (if_tsoffset); Enhanced, Simple and obsolete
 * Packet Blocks; every other block (names, statistics, secrets, custom,
 * comments) skipped. libpcap 1.10 refuses files whose interfaces differ in
 * link type, which dumpcap writes when capturing on several interfaces.
 */
#ifndef DNSSNOOP_PCAPNG_H
#define DNSSNOOP_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The first four bytes of a pcapng file (a Section Header Block). */
#define PCAPNG_MAGIC "\x0a\x0d\x0d\x0a"
/* Blocks larger than this are damage, not data (a DNS message is 64 KiB). */
#define PCAPNG_MAX_BLOCK (16u * 1024 * 1024)

struct pcapng_packet {
	uint64_t ts_ns; /* ns since the Unix epoch; 0 when the block has none */
	int dlt; /* link type of its interface */
	uint32_t iface; /* interface number within its section */
	uint32_t caplen, len;
	const uint8_t *data; /* caplen bytes, valid until the next call */
};

struct pcapng_reader;

/* A reader of f (closed by pcapng_close); NULL when out of memory. */
struct pcapng_reader *pcapng_open(FILE *f);

/*
 * The next packet. 1: in *pkt; 0: the end; -1: damage, or a read error,
 * said in err. A read interrupted by a signal (errno EINTR) returns -1
 * with err empty: nothing is lost, the next call goes on from there.
 */
int pcapng_next(struct pcapng_reader *r, struct pcapng_packet *pkt, char *err, size_t errlen);

/* Packets read so far, for messages ("damaged at packet N"). */
uint64_t pcapng_packets(const struct pcapng_reader *r);

void pcapng_close(struct pcapng_reader *r);

#endif
