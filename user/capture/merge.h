/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The offline inputs (-r), merged into one stream in time order.
 *
 * Each input is told apart by its first bytes, not its name: a pcap or
 * pcapng magic number makes it a capture (capture_pcap), a Frame Streams
 * START frame a dnstap log (capture_dnstap), a first line starting with
 * '{' JSON Lines written by dnssnoop (capture_jsonl).
 * Standard input ("-") is peeked without losing the bytes looked at.
 *
 * Both sources are pulled one item at a time (a packet, or an
 * observation) and the earliest head of all inputs goes next (a k-way
 * merge on a binary heap; ties go to the input named first). Within an
 * input, file order is kept. Time order matters to what follows: the
 * matcher, the intervals and mirror detection all assume it.
 */
#ifndef DNSSNOOP_MERGE_H
#define DNSSNOOP_MERGE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/packet.h"
#include "lib/obs.h"

/*
 * MERGE_DNSTAP items are whole DNS messages with their meta (no TCP
 * segments): the pipeline takes them with pipeline_message().
 */
enum merge_input_kind { MERGE_PCAP, MERGE_JSONL, MERGE_DNSTAP };

/* How long a read from a pipe waits before it looks at the stop flag again. */
#define MERGE_POLL_MS 100

struct merge_config {
	const char *filter; /* tcpdump filter expression for pcap inputs; NULL: none */
	const uint16_t *ports; /* DNS ports of pcap inputs */
	int nports;
	size_t max_line_bytes; /* JSON Lines: longer lines are skipped; 0: the default */
	/*
	 * Non-zero once the session wants to end: reading stops within
	 * MERGE_POLL_MS, even on an idle pipe, and merge_next() returns 0 as at
	 * the end of the inputs. NULL: never.
	 */
	volatile sig_atomic_t *stop;
};

/* One item of the merged stream. */
struct merge_item {
	enum merge_input_kind kind;
	uint64_t ts_ns; /* its place in time: packet time, or the record's order_ns */
	int input; /* which input, counting merge_add() calls that succeeded from 0 */
	const struct pkt_meta *meta; /* MERGE_PCAP: the packet; MERGE_DNSTAP: the message */
	const uint8_t *payload;
	size_t caplen;
	const struct dns_obs *obs; /* MERGE_JSONL: the observation */
};

struct merge;

struct merge *merge_new(const struct merge_config *cfg);
void merge_free(struct merge *m);

/*
 * Open path ("-": standard input, once) as the next input. Returns its
 * enum merge_input_kind, or -1 with one line in err (not a capture nor
 * JSON Lines, unreadable, a filter given for JSON Lines...): the input is
 * then left out and the others still work.
 */
int merge_add(struct merge *m, const char *path, char *err, size_t errlen);

/*
 * A dnstap collector socket at path (capture/dnstap_socket.h) as the next
 * input, read until the stop flag or CLOCK_MONOTONIC deadline_ns (0:
 * none). Its messages come in arrival order, so merged with files it
 * waits for each. Returns MERGE_DNSTAP, or -1 with err.
 */
int merge_add_dnstap_socket(struct merge *m, const char *path, uint64_t deadline_ns, char *err,
			    size_t errlen);

/* Inputs of this kind were added. */
bool merge_has(const struct merge *m, enum merge_input_kind kind);

/* merge_next(): a socket input had nothing for a while; no item. */
#define MERGE_IDLE 2

/*
 * The next item in time order: 1 with *item set (its pointers valid until
 * the next call), 0 when every input has ended, MERGE_IDLE when a socket
 * input waits for its writers (time passes: run the timers), -1 with a
 * message in err about one input (a damaged pcap, which ends there; a bad
 * JSON line, after which reading goes on); call again to go on.
 */
int merge_next(struct merge *m, struct merge_item *item, char *err, size_t errlen);

/* One line about input i: kind, what was read, what was skipped. */
void merge_describe(const struct merge *m, int i, char *buf, size_t len);
int merge_inputs(const struct merge *m);

/*
 * How far reading the inputs got: bytes read of every input's size (a
 * compressed input's compressed bytes), for a progress report. The
 * offsets run ahead of the items returned by what readers buffer (a few
 * KiB to a decompressor's block). false (and no total) when an input is
 * not a regular file: standard input, a pipe, a collector socket.
 */
bool merge_progress(const struct merge *m, uint64_t *done, uint64_t *total);

#endif
