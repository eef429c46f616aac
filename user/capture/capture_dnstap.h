/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dnstap input: what a DNS server logged of the messages it received and
 * sent (Frame Streams of Dnstap protobufs), as the pipeline's packets.
 * Each message becomes a pkt_meta and the DNS message it carries:
 *   - the query's initiator (query_address/port) is the client, the
 *     responder (response_address/port) the server;
 *   - the logging server's side says the direction: AUTH, CLIENT and
 *     UPDATE messages are the server's (a query came in, a response went
 *     out), RESOLVER, FORWARDER, STUB and TOOL messages the client's;
 *   - time is the message's own (query_time for queries, response_time
 *     for responses);
 *   - the vantage (pkt_meta.vantage) names the type, the transport and the
 *     server's identity and version.
 * Whole messages, never TCP segments: they go to pipeline_message().
 *
 * Two sources: a file (dnstap_source_fopen, after merge.c told it by its
 * first bytes) and a collector socket that DNS servers connect to
 * (dnstap_socket_*, capture/dnstap_socket.c).
 */
#ifndef DNSSNOOP_CAPTURE_DNSTAP_H
#define DNSSNOOP_CAPTURE_DNSTAP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/packet.h"

/* A data frame may hold a query and a response, 64 KiB each at most. */
#define DNSTAP_MAX_FRAME (256 * 1024)

struct dnstap_stats {
	uint64_t frames; /* data frames read */
	uint64_t messages; /* handed on */
	uint64_t no_message; /* without the DNS message of their type */
	uint64_t bad; /* not a Dnstap protobuf, or not a message */
};

/* One decoded message: valid until the next decode. */
struct dnstap_packet {
	struct pkt_meta meta;
	const uint8_t *msg;
	size_t len;
};

/* Turns data frames into packets; keeps the vantages it hands out. */
struct dnstap_decoder;

struct dnstap_decoder *dnstap_decoder_new(void);
void dnstap_decoder_free(struct dnstap_decoder *d);
/*
 * 1 with *out set, 0 when the frame holds no DNS message of its type
 * (counted, skipped), -1 with err when it is not a Dnstap message.
 */
int dnstap_decode(struct dnstap_decoder *d, const uint8_t *frame, size_t len,
		  struct dnstap_packet *out, char *err, size_t errlen);
void dnstap_decoder_stats(const struct dnstap_decoder *d, struct dnstap_stats *st);

/* A dnstap message type's name ("CLIENT_QUERY"), or NULL. */
const char *dnstap_type_name(int type);

/* ---- a file ---- */

struct dnstap_source;

/* Takes f over (closed by dnstap_source_close). NULL with err: no memory. */
struct dnstap_source *dnstap_source_fopen(FILE *f, const char *name, char *err, size_t errlen);
void dnstap_source_set_stop(struct dnstap_source *ds, volatile sig_atomic_t *stop);
/*
 * The next message: 1 with *pkt set (valid until the next call), 0 at the
 * end (a STOP frame, or the end of the file), -1 with err: a bad frame,
 * which is skipped (reading goes on), or damage that ends the file.
 */
int dnstap_source_next(struct dnstap_source *ds, const struct dnstap_packet **pkt, char *err,
		       size_t errlen);
void dnstap_source_get_stats(const struct dnstap_source *ds, struct dnstap_stats *st);
void dnstap_source_close(struct dnstap_source *ds);

#endif
