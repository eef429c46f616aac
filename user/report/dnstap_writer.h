/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --dnstap-out: every DNS message the pipeline decodes, written as dnstap
 * (Frame Streams of Dnstap protobufs, libfstrm), so that dnstap
 * collectors can take dnssnoop as one more source.
 *
 * The message type says the vantage, as a DNS server would log it:
 *   - a message a server logged (dnstap input) keeps its type;
 *   - the server's side of an exchange (an ingress query, an egress
 *     response) is CLIENT_QUERY/CLIENT_RESPONSE, or AUTH_* when the query
 *     did not ask for recursion (RD clear);
 *   - the client's side (and a capture file's packets, whose direction is
 *     not known) is STUB_QUERY/STUB_RESPONSE, or RESOLVER_* when the query
 *     did not ask for recursion (an iterating resolver's query).
 * The process, when known, goes into the Dnstap "extra" field as one JSON
 * object: {"pid":..,"tid":..,"comm":..,"uid":..,"cgroup":..}.
 *
 * A file is written synchronously, like the records (nothing is lost).
 * A unix socket ("unix:PATH", where a collector listens) is written by
 * libfstrm's I/O thread with the bidirectional handshake, reconnecting
 * when the collector goes away; a full queue drops messages (counted)
 * rather than hold capture up.
 */
#ifndef DNSSNOOP_DNSTAP_WRITER_H
#define DNSSNOOP_DNSTAP_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/output.h"

/* The target names a unix socket. */
#define DNSTAP_UNIX_PREFIX "unix:"

struct dnstap_writer_config {
	const char *target; /* "unix:PATH" or a file's name (for messages) */
	int fd; /* a file: open for writing, taken over; -1 for a socket */
	const char *identity; /* this host's name */
	const char *version; /* "dnssnoop VERSION" */
	/* Process cgroup path of an owner; NULL: none written. */
	const char *(*cgroup_path)(void *ctx, uint64_t cgroup_id);
	void *cgroup_ctx;
};

struct dnstap_writer_stats {
	uint64_t written; /* handed to the file or the socket's queue */
	uint64_t dropped; /* the socket's queue was full */
};

struct dnstap_writer;

/*
 * NULL with err naming the target when it cannot be opened. A file is
 * ready; a socket's I/O thread starts with dnstap_writer_start().
 */
struct dnstap_writer *dnstap_writer_new(const struct dnstap_writer_config *cfg, char *err,
					size_t errlen);
/*
 * A socket's I/O thread started (called after the privilege drop: the
 * thread keeps the credentials it was created with); nothing for a file.
 * 0, or -1 with err.
 */
int dnstap_writer_start(struct dnstap_writer *w, char *err, size_t errlen);
/* rec's message, whose wire bytes are msg[0..len). */
void dnstap_writer_message(struct dnstap_writer *w, const struct dns_record *rec,
			   const uint8_t *msg, size_t len);
void dnstap_writer_get_stats(const struct dnstap_writer *w, struct dnstap_writer_stats *st);
/* The stream ended (STOP), flushed and closed: 0, or -errno of a failed write. */
int dnstap_writer_close(struct dnstap_writer *w);

#endif
