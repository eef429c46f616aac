/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The JSON Lines source (fleet input): reads back the records dnssnoop
 * wrote, on this host or on many, and turns every "dns" and "unanswered"
 * record into the observation (struct dns_obs) the statistics stage made
 * of that message where it was captured, with the record's "host" as part
 * of the client's identity. Other record types (capture_stats, the
 * *_stats records, findings, types added later) are skipped and counted.
 *
 * Parsing is json-c's; this module maps the fields (docs/output.md) and
 * checks their types. A line that is not a dnssnoop record (not JSON, not
 * an object, a field of the wrong type, a half line at the end of a file)
 * is reported with its file and line number and skipped; reading goes on
 * with the next line.
 *
 * Raw bytes: the writer escapes every byte that is not valid UTF-8 as one
 * \u0080..\u00ff escape, while valid characters are never escaped. Before
 * json-c sees a line, such escapes are marked so that comm, cgroup and
 * host come back as the bytes the writer was given, not as their UTF-8
 * look-alikes.
 */
#ifndef DNSSNOOP_CAPTURE_JSONL_H
#define DNSSNOOP_CAPTURE_JSONL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto/dns.h"
#include "lib/obs.h"

#define JSONL_HOST_MAX	      255 /* bytes kept of "host" (the statistics keep as many) */
#define JSONL_CGROUP_MAX      4096 /* bytes kept of "cgroup" */
#define JSONL_REPORTED_ERRORS 20 /* bad lines reported one by one per input */
#define JSONL_MAX_LINE	      (1u << 20) /* default line cap, newline not counted */

/* One record turned into an observation; obs points into the fields below. */
struct jsonl_record {
	struct dns_obs obs;
	/*
	 * When the record was written, the order in which its writer saw
	 * things: ts, and for an "unanswered" record (whose ts is the query's)
	 * ts + waited_ns. Inputs are merged by this.
	 */
	uint64_t order_ns;
	struct dnssnoop_owner owner;
	char host[JSONL_HOST_MAX + 1];
	char cgroup[JSONL_CGROUP_MAX + 1];
	char qname[DNS_MAX_NAME_TEXT];
};

enum jsonl_line_kind {
	JSONL_BAD = -1, /* not a dnssnoop record: err says why */
	JSONL_OBSERVATION = 0, /* a dns or unanswered record: *rec filled */
	JSONL_OTHER_TYPE, /* another record type: skipped */
	JSONL_NO_QUESTION, /* dns/unanswered without a question: not counted, as live */
	JSONL_BLANK, /* empty or white space only */
};

struct jsonl_parser;

struct jsonl_parser *jsonl_parser_new(void);
void jsonl_parser_free(struct jsonl_parser *p);

/*
 * One line (its '\n' may be left out) -> *rec. Returns an enum
 * jsonl_line_kind; for JSONL_BAD, err holds a short reason without file
 * or line ("not JSON: unexpected character", "\"sport\" is not an integer
 * from 0 to 65535"). rec must stay where it is while rec->obs is used.
 */
int jsonl_parse_line(struct jsonl_parser *p, const char *line, size_t len, struct jsonl_record *rec,
		     char *err, size_t errlen);

struct jsonl_source_stats {
	uint64_t lines; /* lines read */
	uint64_t observations; /* records turned into observations */
	uint64_t no_question; /* dns/unanswered records without a question */
	uint64_t other_types; /* records of other types, skipped */
	uint64_t errors; /* bad lines, skipped */
};

struct jsonl_source;

/* Open path ("-": stdin). NULL with one line in err when it cannot be read. */
struct jsonl_source *jsonl_source_open(const char *path, char *err, size_t errlen);
/* The same from an open stream, called name in messages; f is taken over (closed by close, or on
 * failure). */
struct jsonl_source *jsonl_source_fopen(FILE *f, const char *name, char *err, size_t errlen);

/*
 * Lines longer than max bytes (without "\n" or "\r\n") are reported as
 * bad and skipped: read and thrown away up to their newline, never held.
 * JSONL_MAX_LINE until set.
 */
void jsonl_source_set_max_line(struct jsonl_source *js, size_t max);

/*
 * Once *stop is non-zero, jsonl_source_next() returns 0 (the end), also
 * in the middle of a run of other record types; a last line cut short by
 * a read that gave up for it is not reported. NULL (the default): never.
 */
void jsonl_source_set_stop(struct jsonl_source *js, volatile sig_atomic_t *stop);

/*
 * The next observation: 1 with *rec set (valid until the next call), 0 at
 * the end of the input, -1 with a message in err ("dnssnoop: FILE:LINE:
 * reason", or a read error that ends the input); call again to go on.
 * After JSONL_REPORTED_ERRORS bad lines the others are only counted, and
 * the end of an input that had any brings one more -1: a line with the
 * totals.
 */
int jsonl_source_next(struct jsonl_source *js, const struct jsonl_record **rec, char *err,
		      size_t errlen);

void jsonl_source_get_stats(const struct jsonl_source *js, struct jsonl_source_stats *st);
void jsonl_source_close(struct jsonl_source *js);

#endif
