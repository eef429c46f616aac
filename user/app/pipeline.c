// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The one pipeline:
 *   packet -> TCP reassembly -> decoder -> matcher -> statistics -> output.
 * Sources (live ring buffer, pcap files, JSON Lines) only call
 * pipeline_packet(), pipeline_observation() and pipeline_tick();
 * everything after the source is shared, time included.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "proto/dns.h"
#include "analysis/matcher.h"
#include "app/pipeline.h"
#include "analysis/summary.h"
#include "proto/tcpreasm.h"
#include "report/clickhouse_sink.h"
#include "report/dnstap_writer.h"
#include "report/msgfilter.h"
#include "report/pcap_writer.h"
#include "lib/units.h"

/* TCP flows without traffic for this long are forgotten. */
#define TCP_IDLE_NS (60 * NS_PER_SEC)
/* Item time advancing this far runs the timers (offline sources never idle). */
#define TICK_NS (100 * NS_PER_MSEC)

struct pipeline {
	struct pipeline_config cfg;
	struct tcp_reasm *tcp;
	struct matcher *matcher;
	struct capture_stats st;
	struct capture_stats at_interval; /* the counters at the last --interval close */
	uint64_t emitted; /* dns messages processed, for -c */
	uint64_t next_tick_ns; /* item time at which to run the timers */
	uint64_t first_ns, last_ns; /* item time seen; 0: none yet */
	struct dns_msg msg; /* scratch: the message being processed */
	struct dns_msg query; /* scratch: an unanswered query, re-decoded */
};

struct pipeline *pipeline_new(const struct pipeline_config *cfg)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cfg = *cfg;
	p->tcp = tcp_reasm_new(cfg->max_tcp_flows);
	p->matcher = matcher_new(cfg->timeout_ns, cfg->max_pending);
	if (!p->tcp || !p->matcher) {
		pipeline_free(p);
		return NULL;
	}
	return p;
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	tcp_reasm_free(p->tcp);
	matcher_free(p->matcher);
	free(p);
}

/* -p and --comm: records of other processes are not shown, matched or counted.
 */
static bool pipeline_wants(const struct pipeline *p, const struct pkt_meta *meta)
{
	if (p->cfg.filter_pid && meta->owner.tgid != p->cfg.filter_pid)
		return false;
	if (p->cfg.filter_comm &&
	    (!pkt_has_owner(meta) ||
	     strncmp(meta->owner.comm, p->cfg.filter_comm, DNSSNOOP_COMM_LEN) != 0))
		return false;
	return true;
}

static void count_message(struct pipeline *p, const struct dns_record *rec, enum obs_kind kind,
			  bool retransmit)
{
	struct summary_msg m = {
		.kind = kind,
		.meta = rec->meta,
		.msg = rec->msg,
		.wire_len = rec->wire_len,
		.has_latency = rec->has_latency,
		.latency_ns = rec->latency_ns,
		.retransmit = retransmit,
	};

	if (p->cfg.summary)
		summary_message(p->cfg.summary, &m);
	if (p->cfg.metrics)
		metrics_message(p->cfg.metrics, &m);
	if (p->cfg.toplive)
		toplive_message(p->cfg.toplive, &m);
}

/* Display filters: does rec get written? Without any, one pointer test. */
static bool pipeline_shows(const struct pipeline *p, const struct dns_record *rec)
{
	return !p->cfg.msgfilter || msgfilter_match(p->cfg.msgfilter, rec);
}

/* The statistics count every message, or with --filter-stats what is shown. */
static bool pipeline_counts(const struct pipeline *p, bool shown)
{
	return shown || !p->cfg.filter_stats;
}

/* -w with display filters: a message that passed, as a packet of its own. */
static void write_pcap(struct pipeline *p, const struct dns_record *rec, const uint8_t *bytes,
		       size_t len)
{
	int err;

	if (rec->meta->vantage || *p->cfg.pcap_err)
		return; /* a message a server logged was never a packet */
	err = pcap_writer_write_message(p->cfg.pcap, rec->meta, bytes, len, rec->wire_len);
	if (err)
		*p->cfg.pcap_err = err;
}

/*
 * An unanswered query that passes goes to -w and --dnstap-out now, unless
 * it passed as a query when it was seen (and went then): a filter on
 * anything but unansweredness judges the two alike.
 */
static void copy_unanswered(struct pipeline *p, const struct dns_record *rec, const uint8_t *query,
			    size_t len)
{
	struct dns_record as_query = *rec;

	as_query.kind = RECORD_DNS;
	if (msgfilter_match(p->cfg.msgfilter, &as_query))
		return;
	if (p->cfg.pcap)
		write_pcap(p, rec, query, len);
	if (p->cfg.dnstap)
		dnstap_writer_message(p->cfg.dnstap, rec, query, len);
}

static void report_unanswered(void *ctx, const struct pkt_meta *meta, const uint8_t *query,
			      size_t len, bool truncated, uint64_t waited_ns)
{
	struct pipeline *p = ctx;
	struct dns_record rec = {
		.kind = RECORD_UNANSWERED,
		.meta = meta,
		.msg = &p->query,
		.truncated_capture = truncated,
		.wire_len = len,
		.waited_ns = waited_ns,
	};
	bool shown;

	p->st.unanswered++;
	if (dns_parse(query, len, &p->query) == DNS_ERR_SHORT)
		return; /* cannot happen: only parsed queries are pending */
	shown = pipeline_shows(p, &rec);
	if (pipeline_counts(p, shown))
		count_message(p, &rec, OBS_UNANSWERED, false);
	if (!shown)
		return;
	if (p->cfg.msgfilter)
		copy_unanswered(p, &rec, query, len);
	if (p->cfg.events)
		output_dns(p->cfg.out, &rec);
}

/*
 * A decoded message with a question through the matcher: a query
 * pending (true when it retransmits one), a response's latency in rec.
 */
static bool match_message(struct pipeline *p, struct dns_record *rec)
{
	const struct dns_msg *msg = rec->msg;
	bool retransmit = false;

	if (p->cfg.one_direction) {
		/* no partner to match with: counted as seen */
	} else if (!dns_is_response(msg)) {
		retransmit = matcher_query(p->matcher, rec->meta, msg, report_unanswered, p);
		p->st.retransmits += retransmit;
	} else if (matcher_response(p->matcher, rec->meta, msg, &rec->latency_ns)) {
		rec->has_latency = true;
		p->st.responses_matched++;
	} else {
		p->st.responses_unmatched++;
	}
	return retransmit;
}

static enum obs_kind obs_kind_of(const struct dns_msg *msg)
{
	return dns_is_response(msg) ? OBS_RESPONSE : OBS_QUERY;
}

/* A message shown: its record, its dnstap copy; -c counts it. */
static void emit_message(struct pipeline *p, const struct dns_record *rec, const uint8_t *bytes,
			 size_t len)
{
	if (p->cfg.events)
		output_dns(p->cfg.out, rec);
	if (p->cfg.dnstap)
		dnstap_writer_message(p->cfg.dnstap, rec, bytes, len);
	p->emitted++;
}

/*
 * With display filters: counted unless --filter-stats leaves it out, and
 * shown (-w included) if it passes. Kept apart so that a session without
 * filters pays one pointer test per message.
 */
static void filter_message(struct pipeline *p, const struct dns_record *rec, const uint8_t *bytes,
			   size_t len, bool question, bool retransmit)
{
	bool shown = msgfilter_match(p->cfg.msgfilter, rec);

	if (question && pipeline_counts(p, shown))
		count_message(p, rec, obs_kind_of(rec->msg), retransmit);
	if (!shown)
		return;
	if (p->cfg.pcap)
		write_pcap(p, rec, bytes, len);
	emit_message(p, rec, bytes, len);
}

/* One whole (or snap-truncated) DNS message, from UDP or from a TCP stream. */
static void handle_message(void *ctx, const struct pkt_meta *meta, const uint8_t *bytes, size_t len,
			   size_t wire_len, bool truncated)
{
	struct pipeline *p = ctx;
	struct dns_msg *msg = &p->msg;
	struct dns_record rec = {
		.kind = RECORD_DNS,
		.meta = meta,
		.msg = msg,
		.truncated_capture = truncated,
		.wire_len = wire_len,
	};
	bool retransmit = false, question;
	int rc;

	if (!pipeline_wants(p, meta)) {
		p->st.filtered++;
		return;
	}
	p->st.messages++;
	if (truncated)
		p->st.truncated_captures++;
	rc = dns_parse(bytes, len, msg);
	if (rc != DNS_OK)
		p->st.decode_errors++;
	if (rc == DNS_ERR_SHORT)
		return; /* not even a header: nothing to show */

	question = rc == DNS_OK && msg->has_question;
	if (question)
		retransmit = match_message(p, &rec);
	if (p->cfg.msgfilter) {
		filter_message(p, &rec, bytes, len, question, retransmit);
		return;
	}
	if (question)
		count_message(p, &rec, obs_kind_of(msg), retransmit);
	emit_message(p, &rec, bytes, len);
}

static void note_time(struct pipeline *p, uint64_t ts_ns)
{
	if (!p->first_ns)
		p->first_ns = ts_ns;
	if (ts_ns > p->last_ns)
		p->last_ns = ts_ns;
}

/* Every item: its time seen, counted, the timers run; false once -c is reached. */
static bool begin_item(struct pipeline *p, uint64_t ts_ns)
{
	note_time(p, ts_ns);
	p->st.events_delivered++;
	if (pipeline_done(p))
		return false;
	if (ts_ns >= p->next_tick_ns)
		pipeline_tick(p, ts_ns);
	return true;
}

void pipeline_packet(struct pipeline *p, const struct pkt_meta *meta, const uint8_t *payload,
		     size_t caplen)
{
	if (!begin_item(p, meta->ts_ns))
		return;
	if (meta->proto == IPPROTO_TCP) {
		tcp_reasm_feed(p->tcp, meta, payload, caplen, handle_message, p);
		return;
	}
	if (caplen > meta->orig_len)
		caplen = meta->orig_len;
	handle_message(p, meta, payload, caplen, meta->orig_len, caplen < meta->orig_len);
}

void pipeline_message(struct pipeline *p, const struct pkt_meta *meta, const uint8_t *msg,
		      size_t len)
{
	if (begin_item(p, meta->ts_ns))
		handle_message(p, meta, msg, len, len, false);
}

/*
 * An observation's time drives the timers like packet time does, so
 * intervals close and pending queries of pcap inputs expire in order;
 * except an unanswered record's: its writer reported it from its timers,
 * before they went on to close an interval at that time.
 */
void pipeline_observation(struct pipeline *p, const struct dns_obs *obs, uint64_t at_ns)
{
	note_time(p, at_ns);
	if (obs->kind != OBS_UNANSWERED && at_ns >= p->next_tick_ns)
		pipeline_tick(p, at_ns);
	if (p->cfg.summary)
		summary_observation(p->cfg.summary, obs);
	if (p->cfg.toplive)
		toplive_observation(p->cfg.toplive, obs);
}

void pipeline_tick(struct pipeline *p, uint64_t now_ns)
{
	p->next_tick_ns = now_ns + TICK_NS;
	matcher_expire(p->matcher, now_ns, report_unanswered, p);
	tcp_reasm_expire(p->tcp, now_ns, TCP_IDLE_NS);
	if (p->cfg.summary)
		summary_tick(p->cfg.summary, now_ns);
}

void pipeline_finish(struct pipeline *p, uint64_t now_ns)
{
	matcher_flush(p->matcher, now_ns, report_unanswered, p);
	if (p->cfg.summary)
		summary_finish(p->cfg.summary, now_ns);
}

bool pipeline_done(const struct pipeline *p)
{
	return p->cfg.max_messages && p->emitted >= p->cfg.max_messages;
}

void pipeline_get_stats(const struct pipeline *p, struct capture_stats *st)
{
	struct tcp_reasm_stats ts;

	*st = p->st;
	if (p->cfg.source_stats)
		p->cfg.source_stats(p->cfg.source_ctx, st);
	tcp_reasm_get_stats(p->tcp, &ts);
	st->tcp_gaps = ts.gaps;
	if (p->cfg.dnstap) {
		struct dnstap_writer_stats ds;

		dnstap_writer_get_stats(p->cfg.dnstap, &ds);
		st->has_dnstap_out = true;
		st->dnstap_written = ds.written;
		st->dnstap_dropped = ds.dropped;
	}
	if (p->cfg.clickhouse) {
		st->has_clickhouse = true;
		clickhouse_sink_counts(p->cfg.clickhouse, &st->clickhouse);
	}
}

bool pipeline_time_seen(const struct pipeline *p, uint64_t *first_ns, uint64_t *last_ns)
{
	*first_ns = p->first_ns;
	*last_ns = p->last_ns;
	return p->first_ns != 0;
}

void pipeline_interval(void *ctx, uint64_t start_ns, uint64_t end_ns)
{
	struct pipeline *p = ctx;
	struct capture_stats now, d;

	pipeline_get_stats(p, &now);
	capture_stats_delta(&d, &now, &p->at_interval);
	p->at_interval = now;
	d.start_ns = start_ns;
	d.end_ns = end_ns;
	d.interval = true;
	output_capture_stats(p->cfg.out, &d);
	output_capture_stats(p->cfg.rows, &d);
}

int pipeline_render_metrics(struct pipeline *p, struct jbuf *out)
{
	struct capture_stats st;
	struct matcher_stats ms;
	struct metrics_gauges g = {.st = &st};

	pipeline_get_stats(p, &st);
	matcher_get_stats(p->matcher, &ms);
	g.pending = ms.pending;
	g.has_ring = st.has_ring_fill;
	g.ring_fill = st.ring_fill;
	if (p->cfg.summary) {
		const struct stats *t = summary_totals(p->cfg.summary);

		g.has_tables = true;
		for (int i = 0; i < STATS_NTABLES; i++)
			g.table_entries[i] = stats_entries(t, i);
	}
	return metrics_render(p->cfg.metrics, &g, out);
}

void pipeline_write_stats(struct pipeline *p, uint64_t start_ns, uint64_t end_ns)
{
	struct capture_stats st;

	pipeline_get_stats(p, &st);
	st.start_ns = start_ns;
	st.end_ns = end_ns;
	output_capture_stats(p->cfg.out, &st);
	output_capture_stats(p->cfg.rows, &st);
}
