/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The last pipeline stage: turns records into JSON Lines (default) or one
 * readable text line each. Output is buffered and written with write(2)
 * in whole lines only, so a reader never sees half a record; call
 * output_flush() when the source goes idle so live output is not delayed.
 */
#ifndef DNSSNOOP_OUTPUT_H
#define DNSSNOOP_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "dns.h"
#include "packet.h"

#define OUTPUT_SCHEMA_VERSION 1

enum output_format { OUTPUT_JSON, OUTPUT_TEXT };

/* Maps a cgroup id to its path (e.g. "/system.slice/nsd.service"), or NULL. */
typedef const char *(*cgroup_path_fn)(void *ctx, uint64_t cgroup_id);

struct output_config {
	int fd; /* where records go; not closed by output_free */
	enum output_format format;
	const char *host; /* this host's name, in every record */
	cgroup_path_fn cgroup_path; /* may be NULL */
	void *cgroup_ctx;
};

enum record_kind { RECORD_DNS, RECORD_UNANSWERED };

/* One DNS message (or unanswered query) with everything known about it. */
struct dns_record {
	enum record_kind kind;
	const struct pkt_meta *meta;
	const struct dns_msg *msg;
	bool truncated_capture; /* payload shorter than on the wire */
	uint32_t wire_len; /* the message's length on the wire (>= msg->len) */
	bool has_latency; /* RECORD_DNS response matched to its query */
	uint64_t latency_ns;
	uint64_t waited_ns; /* RECORD_UNANSWERED */
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
	uint64_t tcp_gaps;
	uint64_t filtered; /* messages dropped by -p/--comm */
};

struct output;

struct output *output_new(const struct output_config *cfg);
void output_free(struct output *o); /* flushes first */

void output_dns(struct output *o, const struct dns_record *rec);
void output_capture_stats(struct output *o, const struct capture_stats *st);

/* Write out buffered lines. Returns 0, or -errno (e.g. -EPIPE). */
int output_flush(struct output *o);

#endif
