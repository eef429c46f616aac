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
#include "lib/obs.h"
#include "lib/packet.h"

#define OUTPUT_SCHEMA_VERSION 1

struct jbuf; /* json.h */
struct cgroup_ident; /* capture/cgroup_ident.h */

enum output_format { OUTPUT_JSON, OUTPUT_TEXT };

/*
 * A live source's identity (unit, container, pod) of a cgroup, by id or
 * by the path cgroup_path_fn gave; NULL: unknown.
 */
typedef const struct cgroup_ident *(*cgroup_ident_fn)(void *ctx, uint64_t cgroup_id);
typedef const struct cgroup_ident *(*cgroup_ident_path_fn)(void *ctx, const char *path);

/*
 * Instead of a file: every whole JSON record handed over as it is made
 * (line ends with '\n'; type: "dns", "unanswered", "capture_stats" or the
 * type given to output_begin_record).
 */
typedef void (*output_line_fn)(void *ctx, const char *type, const char *line, size_t len);

struct output_config {
	int fd; /* where records go; not closed by output_free */
	output_line_fn line; /* with fd -1: records go here (JSON format only) */
	void *line_ctx;
	enum output_format format;
	const char *host; /* this host's name, in every record */
	cgroup_path_fn cgroup_path; /* may be NULL, and so may the two below */
	cgroup_ident_fn cgroup_ident;
	cgroup_ident_path_fn cgroup_ident_by_path;
	void *cgroup_ctx; /* the three's */
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

/* d = now - before, counter by counter (an interval's share of the session). */
void capture_stats_delta(struct capture_stats *d, const struct capture_stats *now,
			 const struct capture_stats *before);

struct output;

struct output *output_new(const struct output_config *cfg);
void output_free(struct output *o); /* flushes first */

void output_dns(struct output *o, const struct dns_record *rec);
void output_capture_stats(struct output *o, const struct capture_stats *st);

/*
 * Write out buffered lines. Returns 0, or -errno (e.g. -EPIPE, -ENOSPC).
 * After the first error nothing more is written; on a regular file, the
 * part of a line the failed write left is cut off again, so the file ends
 * with a whole record.
 */
int output_flush(struct output *o);

/* The first write error (-errno), or 0. */
int output_error(const struct output *o);

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
 * Into the open object j: "unit", "container" and "pod" of a process in
 * the cgroup at path (NULL: unknown, all three null), as the dns records
 * write them. Without a live source (cgroup_ident_by_path NULL, or the
 * cgroup gone), what the path alone says, without names.
 */
void output_json_identity(struct output *o, struct jbuf *j, const char *path);

/*
 * Text format: one whole line of the caller's text ('\n' is added; pass
 * none). Control bytes are written as \DDD so it stays one line; other
 * bytes (UTF-8) are kept. Ignored in JSON format.
 */
void output_text_line(struct output *o, const char *text, size_t len);

#endif
