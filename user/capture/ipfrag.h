/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * IPv4 and IPv6 fragment reassembly for the offline source, bounded in
 * memory and in (packet) time:
 *  - at most max_datagrams datagrams in progress; when the table is full
 *    the oldest is given up to make room;
 *  - at most max_bytes bytes per datagram (fragments reaching past it give
 *    the datagram up) and at most IPFRAG_MAX_FRAGS fragments each;
 *  - buffers count against max_total_bytes; the oldest datagrams are
 *    given up when a new fragment would pass it;
 *  - a datagram not complete timeout_ns after its first fragment is
 *    given up.
 *
 * Overlapping fragments give the whole datagram up (as RFC 5722 requires
 * for IPv6, and as Linux does for IPv4): two different byte values for one
 * position are an attack or garbage, never something to pick from. An
 * exact duplicate (same offset and length) is ignored.
 *
 * Fragments cut by the snap length still count with their length on the
 * wire: the datagram completes, and its data is the bytes captured
 * without a gap from the start (caplen < len).
 */
#ifndef DNSSNOOP_IPFRAG_H
#define DNSSNOOP_IPFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "capture/netparse.h"

#define IPFRAG_MAX_FRAGS 64

struct ipfrag_config {
	size_t max_datagrams; /* 0: 1024 */
	uint32_t max_bytes; /* per datagram, 0: 65535 */
	size_t max_total_bytes; /* all buffers together, 0: 32 MiB */
	uint64_t timeout_ns; /* 0: 30 s */
};

struct ipfrag_stats {
	uint64_t fragments; /* fragments offered */
	uint64_t reassembled; /* datagrams completed */
	uint64_t duplicates; /* exact duplicates ignored */
	uint64_t dropped; /* fragments given up (with their datagram, or rejected) */
	uint64_t timeouts; /* datagrams given up for age */
	uint64_t evicted; /* datagrams given up for room (table or memory) */
	uint64_t overlaps; /* datagrams given up for overlapping fragments */
	uint64_t invalid; /* datagrams given up for inconsistent lengths */
	uint64_t active; /* datagrams in progress now */
	uint64_t held; /* fragments those datagrams hold */
	uint64_t buffer_bytes; /* bytes of buffers allocated now */
};

/* A completed datagram: the fragmentable part (IPv4: from the L4 header on). */
struct ipfrag_datagram {
	const uint8_t *data; /* valid until the next call on this ipfrag */
	uint32_t caplen; /* bytes from the start captured without a gap */
	uint32_t len; /* bytes on the wire */
	uint8_t proto; /* from the first fragment (IPv6: may be an extension header) */
};

enum ipfrag_rc {
	IPFRAG_DONE = 1, /* this fragment completed a datagram: *out is filled */
	IPFRAG_PENDING = 0, /* kept; more are needed */
	IPFRAG_DROPPED = -1, /* rejected, or its datagram was given up */
};

struct ipfrag;

struct ipfrag *ipfrag_new(const struct ipfrag_config *cfg);
void ipfrag_free(struct ipfrag *f);

/*
 * Add the fragment netparse_frame() described in *ip (NETPARSE_FRAGMENT),
 * seen at packet time now_ns. Returns an enum ipfrag_rc.
 */
int ipfrag_add(struct ipfrag *f, const struct netparse_ip *ip, uint64_t now_ns,
	       struct ipfrag_datagram *out);

/* Give up datagrams older than the timeout at now_ns. */
void ipfrag_expire(struct ipfrag *f, uint64_t now_ns);

void ipfrag_get_stats(const struct ipfrag *f, struct ipfrag_stats *st);

#endif
