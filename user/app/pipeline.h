/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The pipeline every capture source feeds:
 *   packet -> (TCP reassembly) -> decoder -> matcher -> statistics -> output
 * and other hosts' JSON Lines records straight into the statistics. A
 * source hands over pipeline_packet() or pipeline_observation() per item,
 * in time order, and calls pipeline_tick() when it is idle (live); item
 * time drives the timers otherwise. pipeline_finish() ends the session and
 * pipeline_write_stats() writes its capture_stats record. The pipeline
 * keeps the session's counters and writes capture_stats at each
 * --interval close too (pipeline_interval, wired to the summary's sink).
 */
#ifndef DNSSNOOP_PIPELINE_H
#define DNSSNOOP_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/json.h"
#include "lib/obs.h"
#include "lib/packet.h"
#include "report/metrics.h"
#include "report/output.h"
#include "report/toplive.h"

struct summary;
struct clickhouse_sink;
struct dnstap_writer;
struct msgfilter;
struct pcap_writer;

/* A source's own counters for capture_stats (the kernel's, live), into st. */
typedef void (*source_stats_fn)(void *ctx, struct capture_stats *st);

struct pipeline_config {
	struct output *out;
	bool events; /* a record per message (false: --no-events) */
	struct summary *summary; /* statistics stage (--summary); NULL: none */
	uint64_t timeout_ns; /* --timeout: unanswered after this */
	size_t max_pending; /* bound on pending queries */
	size_t max_tcp_flows; /* bound on reassembled TCP flows */
	uint32_t filter_pid; /* -p: tgid, 0 = any */
	const char *filter_comm; /* --comm, NULL = any */
	uint64_t max_messages; /* -c: stop after this many, 0 = no limit */
	/*
	 * The source sees one direction only (xdp: ingress), so a query's
	 * response never comes: nothing is matched, no query waits, none is
	 * reported unanswered.
	 */
	bool one_direction;
	struct dnstap_writer *dnstap; /* --dnstap-out: every message decoded; NULL: none */
	source_stats_fn source_stats; /* NULL: no counters of the source's own */
	void *source_ctx;
	struct metrics *metrics; /* --metrics: fed every query and response; NULL: none */
	/*
	 * Display filters: only records that pass are written (events,
	 * pcap, dnstap); the statistics and metrics count every message
	 * unless filter_stats. NULL: none, everything passes.
	 */
	const struct msgfilter *msgfilter;
	bool filter_stats;
	/*
	 * -w with display filters: the packets of the messages that pass
	 * (pcap_writer_write_message), an unanswered query's when it is
	 * given up on; NULL: the session writes every packet itself.
	 */
	struct pcap_writer *pcap;
	int *pcap_err; /* with pcap: where its first error (-errno) goes; the session stops */
	struct toplive *toplive; /* --top-live: fed every query, response and record; NULL: none */
	/*
	 * --clickhouse: capture_stats written here too, and the sink's counts
	 * in capture_stats; NULL: none. (The messages table's rows come from
	 * the summary stage, with the detectors' verdict: report/ch_row.h.)
	 */
	struct output *rows;
	struct clickhouse_sink *clickhouse;
};

struct pipeline;

struct pipeline *pipeline_new(const struct pipeline_config *cfg);
void pipeline_free(struct pipeline *p);

void pipeline_packet(struct pipeline *p, const struct pkt_meta *meta, const uint8_t *payload,
		     size_t caplen);
/*
 * One whole DNS message a server logged (dnstap): no TCP framing, not
 * cut by a snap length.
 */
void pipeline_message(struct pipeline *p, const struct pkt_meta *meta, const uint8_t *msg,
		      size_t len);
/*
 * A record another dnssnoop wrote (JSON Lines input), for the statistics;
 * at_ns: its place in time (an unanswered record's is when its writer
 * gave up waiting, not the query's time).
 */
void pipeline_observation(struct pipeline *p, const struct dns_obs *obs, uint64_t at_ns);
/* Time has advanced to now_ns: expire pending queries and idle TCP flows. */
void pipeline_tick(struct pipeline *p, uint64_t now_ns);
/* End of session: report every pending query as unanswered. */
void pipeline_finish(struct pipeline *p, uint64_t now_ns);
/* -c reached. */
bool pipeline_done(const struct pipeline *p);
/* The session's counters so far: the pipeline's and the source's. */
void pipeline_get_stats(const struct pipeline *p, struct capture_stats *st);
/* The time of the first and last item seen; false before any. */
bool pipeline_time_seen(const struct pipeline *p, uint64_t *first_ns, uint64_t *last_ns);
/* An --interval closed: write capture_stats with that interval's counts. */
void pipeline_interval(void *p, uint64_t start_ns, uint64_t end_ns);
/* --metrics: the exposition of everything counted so far, appended to out (0 or -ENOMEM). */
int pipeline_render_metrics(struct pipeline *p, struct jbuf *out);
/* The session's capture_stats record, for [start_ns, end_ns]. */
void pipeline_write_stats(struct pipeline *p, uint64_t start_ns, uint64_t end_ns);

#endif
