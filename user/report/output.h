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
#include <stddef.h>
#include <stdint.h>

#include "proto/dns.h"
#include "lib/packet.h"

#define OUTPUT_SCHEMA_VERSION 1

struct jbuf; /* json.h */

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
	const char *const *degraded; /* live: features missing on this kernel */
	int ndegraded;
	bool interval; /* the counts of one --interval, not of the session */
};

/* d = now - before, counter by counter (an interval's share of the session). */
void capture_stats_delta(struct capture_stats *d, const struct capture_stats *now,
			 const struct capture_stats *before);

struct output;

struct output *output_new(const struct output_config *cfg);
void output_free(struct output *o); /* flushes first */

void output_dns(struct output *o, const struct dns_record *rec);
void output_capture_stats(struct output *o, const struct capture_stats *st);

/* Write out buffered lines. Returns 0, or -errno (e.g. -EPIPE). */
int output_flush(struct output *o);

enum output_format output_format_of(const struct output *o);

/*
 * Records of other stages (statistics, findings), written without knowing
 * the buffer. One record at a time; the same whole-line and flushing rules
 * as the records above.
 *
 * JSON format: output_begin_record() opens the record's object and writes
 * "type", "v" and "host"; the caller adds its fields to the returned
 * buffer with the json.h writer, leaving the object open, and
 * output_end_record() closes it and ends the line. NULL (write nothing, do
 * not call end) when o is NULL, the format is text, a record is already
 * open or an earlier write failed. A record that could not be formatted
 * completely, or that leaves a nested object or array open, is dropped.
 * output_flush() holds back an open record until its end.
 */
struct jbuf *output_begin_record(struct output *o, const char *type);
void output_end_record(struct output *o);

/*
 * Text format: one whole line of the caller's text ('\n' is added; pass
 * none). Control bytes are written as \DDD so it stays one line; other
 * bytes (UTF-8) are kept. Ignored in JSON format.
 */
void output_text_line(struct output *o, const char *text, size_t len);

/* Field values in the formats docs/output.md describes. */
#define OUTPUT_RFC3339_LEN   27 /* "2026-11-27T14:05:01.123456Z", no NUL */
#define OUTPUT_ADDR_TEXT_MAX 48 /* INET6_ADDRSTRLEN + slack */

/* RFC 3339 UTC with microseconds into out[OUTPUT_RFC3339_LEN] (not terminated). */
void output_format_time(char *out, uint64_t ts_ns);
/* The same as a JSON string value. */
void output_json_time(struct jbuf *j, uint64_t ts_ns);
/* IPv4 dotted quad or RFC 5952 IPv6 into out[OUTPUT_ADDR_TEXT_MAX] (not
 * terminated); returns the length, 0 for an unknown family. */
size_t output_addr_text(char *out, uint8_t family, const uint8_t *addr);
/* The same as a JSON string value, null for an unknown family. */
void output_json_addr(struct jbuf *j, uint8_t family, const uint8_t *addr);
/* "udp", "tcp", or NULL for another protocol. */
const char *output_proto_name(uint8_t proto);
/*
 * Text for a terminal: printable ASCII kept, other bytes as \DDD. raw: the
 * bytes are not presentation-format text (comm, cgroup, host), so '\' is
 * written \092 too; decoder names already escape their own backslashes.
 */
void output_text_safe(struct jbuf *j, const char *s, size_t n, bool raw);

#endif
