// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The statistics stage: messages -> observations -> tables -> reports.
 * See summary.h.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/mirror.h"
#include "analysis/summary.h"

struct summary {
	struct summary_config cfg;
	struct stats *current; /* this interval (the whole session without --interval) */
	struct stats *total; /* running totals; NULL without --interval */
	struct mirror_set *mirrors;
	struct detect *detect; /* NULL: no detection */
	uint64_t window_start_ns; /* first time seen; 0 until then */
	uint64_t interval_start_ns;
	struct detect_verdict verdict; /* scratch: the observation's, for cfg.observed */
};

struct summary *summary_new(const struct summary_config *cfg)
{
	struct summary *s = calloc(1, sizeof(*s));
	struct stats_config scfg = {.max_entries = cfg->max_entries};

	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->current = stats_new(&scfg);
	s->total = cfg->interval_ns ? stats_new(&scfg) : NULL;
	s->mirrors = mirror_new(65536, cfg->mirror_ttl_ns);
	if (cfg->detect && cfg->detect->kinds) {
		s->detect = detect_new(cfg->detect);
		if (!s->detect) {
			summary_free(s);
			return NULL;
		}
	}
	if (!s->current || (cfg->interval_ns && !s->total) || !s->mirrors) {
		summary_free(s);
		return NULL;
	}
	return s;
}

void summary_free(struct summary *s)
{
	if (!s)
		return;
	stats_free(s->current);
	stats_free(s->total);
	mirror_free(s->mirrors);
	detect_free(s->detect);
	free(s);
}

const struct stats *summary_totals(const struct summary *s)
{
	return s->total ? s->total : s->current;
}

static void start_window(struct summary *s, uint64_t now_ns)
{
	if (!s->window_start_ns)
		s->window_start_ns = s->interval_start_ns = now_ns;
}

/* The A/AAAA answer addresses, for the names' distinct-address counts. */
static void collect_addresses(const struct dns_msg *msg, struct dns_obs *o)
{
	for (int i = 0; i < msg->nrrs && o->naddrs < OBS_MAX_ADDRS; i++) {
		const struct dns_rr *rr = &msg->rrs[i];
		struct obs_addr *a = &o->addrs[o->naddrs];

		if (rr->section != DNS_SEC_ANSWER)
			continue;
		if (rr->type == DNS_T_A && rr->rdlen == 4)
			a->family = AF_INET;
		else if (rr->type == DNS_T_AAAA && rr->rdlen == 16)
			a->family = AF_INET6;
		else
			continue;
		memset(a->addr, 0, sizeof(a->addr));
		memcpy(a->addr, msg->buf + rr->rdata_off, rr->rdlen);
		o->naddrs++;
	}
}

static void fill_observation(const struct summary *s, const struct summary_msg *m,
			     struct dns_obs *o)
{
	const struct pkt_meta *meta = m->meta;
	bool from_client = m->kind != OBS_RESPONSE;

	memset(o, 0, offsetof(struct dns_obs, addrs));
	o->kind = m->kind;
	o->ts_ns = meta->ts_ns;
	o->dir = meta->dir;
	o->proto = meta->proto;
	o->family = meta->family;
	memcpy(o->client_addr, from_client ? meta->saddr : meta->daddr, 16);
	memcpy(o->server_addr, from_client ? meta->daddr : meta->saddr, 16);
	o->client_port = from_client ? meta->sport : meta->dport;
	o->server_port = from_client ? meta->dport : meta->sport;
	if (pkt_has_owner(meta)) {
		o->owner = &meta->owner;
		if (s->cfg.cgroup_path)
			o->cgroup = s->cfg.cgroup_path(s->cfg.cgroup_ctx, meta->owner.cgroup_id);
	}
	o->qname = m->msg->qname;
	o->qname_len = m->msg->qname_len;
	o->qtype = m->msg->qtype;
	o->qclass = m->msg->qclass;
	o->flags = m->msg->flags;
	o->logged = meta->vantage != NULL;
	o->id = m->msg->id;
	o->len = m->wire_len;
	o->retransmit = m->kind == OBS_QUERY && m->retransmit;
	if (m->kind == OBS_RESPONSE) {
		o->rcode = m->msg->rcode;
		o->tc = m->msg->flags & DNS_FLAG_TC;
		o->has_latency = m->has_latency;
		o->latency_ns = m->latency_ns;
		collect_addresses(m->msg, o);
	}
}

static void close_finished_intervals(struct summary *s, uint64_t now_ns);

/*
 * Every source's observations end here: one path for mirrors, intervals and
 * tables. An observation past the end of the interval closes it first, so
 * an interval holds what happened in it whenever the timers last ran.
 */
static void observe(struct summary *s, struct dns_obs *o)
{
	o->mirror = mirror_observe(s->mirrors, o);
	start_window(s, o->ts_ns);
	close_finished_intervals(s, o->ts_ns);
	stats_add(s->current, o);
	if (!s->cfg.observed) {
		detect_add(s->detect, o);
		return;
	}
	detect_add_verdict(s->detect, o, s->detect ? &s->verdict : NULL);
	s->cfg.observed(s->cfg.observed_ctx, o, s->detect ? &s->verdict : NULL);
}

void summary_message(struct summary *s, const struct summary_msg *m)
{
	struct dns_obs o;

	if (!m->msg->has_question)
		return; /* nothing to key it by */
	fill_observation(s, m, &o);
	observe(s, &o);
}

void summary_observation(struct summary *s, const struct dns_obs *o)
{
	struct dns_obs copy = *o; /* the mirror flag is ours to set */

	observe(s, &copy);
}

static void report(struct summary *s, const struct stats *st, bool interval, uint64_t start_ns,
		   uint64_t end_ns)
{
	if (s->cfg.sink.tables)
		s->cfg.sink.tables(s->cfg.sink.ctx, st, interval, start_ns, end_ns);
}

static void report_findings(struct summary *s, bool interval)
{
	if (s->detect && s->cfg.sink.findings)
		s->cfg.sink.findings(s->cfg.sink.ctx, s->detect, interval);
}

/* Report the interval ending at end_ns, fold it into the totals, report those.
 */
static void close_interval(struct summary *s, uint64_t end_ns)
{
	if (s->cfg.sink.interval)
		s->cfg.sink.interval(s->cfg.sink.ctx, s->interval_start_ns, end_ns);
	report(s, s->current, true, s->interval_start_ns, end_ns);
	stats_merge(s->total, s->current);
	stats_reset(s->current);
	report(s, s->total, false, s->window_start_ns, end_ns);
}

static void close_finished_intervals(struct summary *s, uint64_t now_ns)
{
	uint64_t step = s->cfg.interval_ns;

	if (!step || now_ns < s->interval_start_ns + step)
		return;
	/* Findings that became true, judged on everything before the close. */
	report_findings(s, true);
	close_interval(s, s->interval_start_ns + step);
	/* Offline time can jump over empty intervals: resume at now's interval. */
	s->interval_start_ns += step * ((now_ns - s->interval_start_ns) / step);
}

void summary_tick(struct summary *s, uint64_t now_ns)
{
	start_window(s, now_ns);
	mirror_expire(s->mirrors, now_ns);
	close_finished_intervals(s, now_ns);
}

void summary_finish(struct summary *s, uint64_t now_ns)
{
	start_window(s, now_ns);
	/* Findings first: they are what the session was for. */
	report_findings(s, false);
	if (s->total)
		close_interval(s, now_ns);
	else
		report(s, s->current, false, s->window_start_ns, now_ns);
}

struct detect *summary_detect(struct summary *s)
{
	return s->detect;
}
