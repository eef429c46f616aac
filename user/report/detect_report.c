// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The detectors' findings as "finding" records (JSON) or text lines; see
 * docs/detection.md for the fields.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/detect_case.h"
#include "lib/fmt.h"
#include "report/detect_report.h"

/* A number rounded to 6 decimals, trailing zeros dropped; null if not finite. */
static void json_double(struct jbuf *j, double v)
{
	char buf[48];
	int n;

	if (!(v == v) || v > 1e300 || v < -1e300) {
		jbuf_null(j);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%.6f", v);
	while (n > 1 && buf[n - 1] == '0' && buf[n - 2] != '.')
		n--;
	jbuf_raw(j, buf, (size_t)n);
}

#define KV_DOUBLE(j, lit, v) (JBUF_KEY(j, lit), json_double((j), (v)))

static void json_client(struct jbuf *j, const struct detect_client *c)
{
	if (!c) {
		jbuf_null(j);
		return;
	}
	jbuf_obj_begin(j);
	if (c->host[0])
		JBUF_KV_STR(j, "host", c->host);
	if (c->process) {
		JBUF_KEY(j, "comm");
		jbuf_strn(j, c->comm, strnlen(c->comm, DNSSNOOP_COMM_LEN));
		JBUF_KV_U64(j, "uid", c->uid);
		JBUF_KV_U64(j, "pid", c->pid);
		if (c->cgroup[0])
			JBUF_KV_STR(j, "cgroup", c->cgroup);
		else
			JBUF_KV_NULL(j, "cgroup");
	} else {
		JBUF_KEY(j, "address");
		fmt_json_addr(j, c->family, c->addr);
	}
	JBUF_KV_STR(j, "label", c->label);
	jbuf_obj_end(j);
}

static void json_window(struct jbuf *j, const struct detstat_window *w)
{
	jbuf_obj_begin(j);
	JBUF_KV_U64(j, "start_hour", w->start);
	JBUF_KV_U64(j, "end_hour", (w->start + w->len) % DETSTAT_DAY_BINS);
	JBUF_KV_U64(j, "hours", w->len);
	KV_DOUBLE(j, "share", w->share);
	jbuf_obj_end(j);
}

static void json_side_common(struct jbuf *j, const struct detect_side *s)
{
	JBUF_KV_U64(j, "lookups", s->lookups);
	JBUF_KV_U64(j, "lookups_error", s->error);
	KV_DOUBLE(j, "top_share", s->top_share);
	JBUF_KV_U64(j, "top_lookups", s->top_lookups);
	KV_DOUBLE(j, "second_share", s->second_share);
	JBUF_KV_U64(j, "second_lookups", s->second_lookups);
	KV_DOUBLE(j, "hhi", s->hhi);
	KV_DOUBLE(j, "wilson_lower", s->wilson_lower);
	KV_DOUBLE(j, "wilson_lower_top_two", s->wilson_lower_top_two);
	JBUF_KV_STR(j, "rule", s->top_two ? "top_two" : "top");
	JBUF_KV_U64(j, "active_clients", s->active_clients);
	JBUF_KEY(j, "first_seen");
	fmt_json_time(j, s->first_ns);
	JBUF_KEY(j, "last_seen");
	fmt_json_time(j, s->last_ns);
}

static void json_by_target(struct jbuf *j, const struct detect_finding *f)
{
	const struct detect_side *s = &f->by_target;

	JBUF_KEY(j, "by_target");
	jbuf_obj_begin(j);
	json_side_common(j, s);
	JBUF_KV_U64(j, "distinct_clients", s->distinct);
	KV_DOUBLE(j, "effective_clients", s->effective);
	JBUF_KEY(j, "top_client");
	json_client(j, f->client);
	JBUF_KEY(j, "second_client");
	json_client(j, f->second_client);
	if (s->top_two) {
		JBUF_KEY(j, "clients");
		jbuf_arr_begin(j);
		json_client(j, f->client);
		json_client(j, f->second_client);
		jbuf_arr_end(j);
	}
	jbuf_obj_end(j);
}

static void json_by_client(struct jbuf *j, const struct detect_finding *f)
{
	const struct detect_side *s = &f->by_client;

	JBUF_KEY(j, "by_client");
	jbuf_obj_begin(j);
	json_side_common(j, s);
	JBUF_KV_U64(j, "distinct_targets", s->distinct);
	KV_DOUBLE(j, "effective_targets", s->effective);
	JBUF_KV_U64(j, "active_hours", s->active_hours);
	JBUF_KV_STR(j, "top_target", f->top_target);
	JBUF_KEY(j, "second_target");
	jbuf_str_or_null(j, f->second_target);
	if (s->top_two) {
		JBUF_KEY(j, "targets");
		jbuf_arr_begin(j);
		jbuf_str(j, f->top_target);
		jbuf_str(j, f->second_target);
		jbuf_arr_end(j);
	}
	jbuf_obj_end(j);
}

static void json_time_window(struct jbuf *j, const struct detect_time_window *w)
{
	JBUF_KEY(j, "time_window");
	jbuf_obj_begin(j);
	JBUF_KEY(j, "hour_of_week_utc");
	jbuf_arr_begin(j);
	for (int h = 0; h < DETSTAT_WEEK_BINS; h++)
		jbuf_u64(j, w->week_utc[h]);
	jbuf_arr_end(j);
	JBUF_KV_U64(j, "lookups_counted", w->counted);
	JBUF_KEY(j, "utc");
	json_window(j, &w->utc);
	KV_DOUBLE(j, "weekday_share_utc", w->weekday_share_utc);
	JBUF_KEY(j, "baseline_utc");
	json_window(j, &w->baseline);
	KV_DOUBLE(j, "baseline_weekday_share_utc", w->baseline_weekday_share);
	JBUF_KV_BOOL(j, "concentrated", w->concentrated);
	JBUF_KEY(j, "zones");
	jbuf_arr_begin(j);
	for (size_t i = 0; i < w->nzones; i++) {
		const struct detect_window_zone *z = &w->zones[i];

		jbuf_obj_begin(j);
		JBUF_KV_STR(j, "zone", z->zone);
		JBUF_KV_I64(j, "utc_offset_s", z->offset_s);
		JBUF_KV_BOOL(j, "exact", z->exact);
		JBUF_KEY(j, "local");
		json_window(j, &z->res.window);
		KV_DOUBLE(j, "weekday_share", z->res.weekday_share);
		JBUF_KV_BOOL(j, "window_inside_business_hours", z->res.window_inside);
		JBUF_KV_BOOL(j, "business_hours", z->res.business);
		jbuf_obj_end(j);
	}
	jbuf_arr_end(j);
	jbuf_obj_end(j);
}

static void json_periodic(struct jbuf *j, const struct detstat_periodic *p)
{
	JBUF_KEY(j, "periodic");
	jbuf_obj_begin(j);
	KV_DOUBLE(j, "score", p->score);
	KV_DOUBLE(j, "skew_score", p->skew_score);
	KV_DOUBLE(j, "madm_score", p->madm_score);
	KV_DOUBLE(j, "hist_score", p->hist_score);
	KV_DOUBLE(j, "bowley", p->bowley);
	KV_DOUBLE(j, "median_interval_s", p->median_s);
	KV_DOUBLE(j, "madm_s", p->madm_s);
	JBUF_KV_U64(j, "events", p->events);
	jbuf_obj_end(j);
}

static void json_addrs(struct jbuf *j, const struct obs_addr *a, size_t n)
{
	jbuf_arr_begin(j);
	for (size_t i = 0; i < n; i++)
		fmt_json_addr(j, a[i].family, a[i].addr);
	jbuf_arr_end(j);
}

static void json_replacement(struct jbuf *j, const struct detect_replacement *r)
{
	JBUF_KEY(j, "replacement");
	jbuf_obj_begin(j);
	JBUF_KV_STR(j, "old_target", r->old_target);
	JBUF_KV_STR(j, "new_target", r->new_target);
	JBUF_KV_STR(j, "ended", r->nxdomain ? "nxdomain" : "silent");
	JBUF_KV_U64(j, "old_lookups", r->old_lookups);
	JBUF_KV_U64(j, "old_distinct_clients", r->old_distinct);
	JBUF_KEY(j, "old_first_seen");
	fmt_json_time(j, r->old_first_ns);
	JBUF_KEY(j, "old_last_seen");
	fmt_json_time(j, r->old_last_ns);
	JBUF_KEY(j, "old_last_answered");
	fmt_json_time(j, r->old_end_ns);
	JBUF_KV_U64(j, "old_nxdomain_after", r->old_nxdomain);
	JBUF_KV_U64(j, "new_lookups", r->new_lookups);
	JBUF_KV_U64(j, "new_distinct_clients", r->new_distinct);
	JBUF_KEY(j, "new_first_seen");
	fmt_json_time(j, r->new_first_ns);
	JBUF_KEY(j, "new_last_seen");
	fmt_json_time(j, r->new_last_ns);
	JBUF_KV_U64(j, "gap_ns", r->gap_ns);
	KV_DOUBLE(j, "gap_s", (double)r->gap_ns / NS_PER_SEC);
	KV_DOUBLE(j, "weighted_jaccard", r->overlap.weighted_jaccard);
	KV_DOUBLE(j, "containment", r->overlap.containment);
	KV_DOUBLE(j, "set_jaccard", r->overlap.set_jaccard);
	JBUF_KEY(j, "first_client");
	json_client(j, r->first_client);
	JBUF_KEY(j, "first_client_seen");
	fmt_json_time(j, r->first_client_ns);
	JBUF_KEY(j, "old_addresses");
	json_addrs(j, r->old_addrs, r->nold_addrs);
	JBUF_KEY(j, "new_addresses");
	json_addrs(j, r->new_addrs, r->nnew_addrs);
	JBUF_KEY(j, "address_overlap");
	if (r->address_overlap < 0)
		jbuf_null(j);
	else
		jbuf_bool(j, r->address_overlap);
	jbuf_obj_end(j);
}

static void json_first_seen(struct jbuf *j, const struct detect_first_seen *s)
{
	JBUF_KEY(j, "new_target");
	jbuf_obj_begin(j);
	JBUF_KV_U64(j, "lookups", s->lookups);
	JBUF_KV_U64(j, "clients", s->clients);
	JBUF_KEY(j, "first_seen");
	fmt_json_time(j, s->first_ns);
	JBUF_KEY(j, "last_seen");
	fmt_json_time(j, s->last_ns);
	jbuf_obj_end(j);
	JBUF_KEY(j, "history");
	jbuf_obj_begin(j);
	JBUF_KV_U64(j, "targets", s->known_targets);
	JBUF_KEY(j, "since");
	fmt_json_time(j, s->history_first_ns);
	jbuf_obj_end(j);
}

static void json_thresholds(struct jbuf *j, const struct detect_config *cfg, enum detect_kind kind)
{
	char bh[8];

	JBUF_KEY(j, "thresholds");
	jbuf_obj_begin(j);
	switch (kind) {
	case DETECT_PERIODIC:
		JBUF_KV_U64(j, "min_lookups", cfg->periodic_min_lookups);
		KV_DOUBLE(j, "min_score", cfg->periodic_score);
		break;
	case DETECT_TIME_WINDOW:
		KV_DOUBLE(j, "window_share", DETSTAT_WINDOW_SHARE);
		KV_DOUBLE(j, "concentrated_ratio", cfg->concentrated_ratio);
		snprintf(bh, sizeof(bh), "%02u-%02u", cfg->business_start % 100,
			 cfg->business_end % 100);
		JBUF_KV_STR(j, "business_hours", bh);
		KV_DOUBLE(j, "business_weekday_share", 0.9);
		break;
	case DETECT_REPLACEMENT:
		JBUF_KV_U64(j, "min_lookups", cfg->min_lookups);
		JBUF_KV_U64(j, "min_clients", cfg->min_clients);
		KV_DOUBLE(j, "silence_s", (double)cfg->silence_ns / NS_PER_SEC);
		KV_DOUBLE(j, "replacement_window_s",
			  (double)cfg->replacement_window_ns / NS_PER_SEC);
		KV_DOUBLE(j, "containment", cfg->replacement_containment);
		KV_DOUBLE(j, "weighted_jaccard", cfg->replacement_jaccard);
		KV_DOUBLE(j, "clients_active_share", 0.5);
		break;
	case DETECT_FIRST_SEEN:
		JBUF_KV_STR(j, "listed", cfg->first_seen_all ? "all" : "in_pattern");
		break;
	default:
		JBUF_KV_U64(j, "min_lookups", cfg->min_lookups);
		KV_DOUBLE(j, "exclusive_share", cfg->exclusive_share);
		JBUF_KV_U64(j, "min_clients", cfg->min_clients);
		KV_DOUBLE(j, "population_window_s", (double)cfg->population_window_ns / NS_PER_SEC);
		KV_DOUBLE(j, "min_repeat", cfg->min_repeat);
		JBUF_KV_U64(j, "min_spread", cfg->min_spread);
		JBUF_KV_U64(j, "min_hours", cfg->min_hours);
		KV_DOUBLE(j, "dominant_share", DETECT_DOMINANT_SHARE);
		KV_DOUBLE(j, "own_target_share", DETECT_OWN_TARGET_SHARE);
		break;
	}
	jbuf_obj_end(j);
}

struct report_ctx {
	struct detect *d;
	struct output *out;
	struct jbuf line; /* text format */
	bool interval; /* an interval close: only findings not written before */
	int written;
};

static void json_finding(struct report_ctx *r, const struct detect_finding *f)
{
	struct jbuf *j = output_begin_record(r->out, "finding");

	if (!j)
		return;
	JBUF_KV_STR(j, "scope", r->interval ? "interval" : "total");
	JBUF_KV_STR(j, "kind", detect_kind_name(f->kind));
	JBUF_KV_STR(j, "target_kind", detect_target_kind_name(f->target_kind));
	JBUF_KV_STR(j, "target", f->target);
	JBUF_KEY(j, "client");
	json_client(j, f->client);
	JBUF_KV_U64(j, "lookups", f->pair_lookups);
	JBUF_KEY(j, "first_seen");
	fmt_json_time(j, f->pair_first_ns);
	JBUF_KEY(j, "last_seen");
	fmt_json_time(j, f->pair_last_ns);
	KV_DOUBLE(j, "npmi", f->npmi);
	KV_DOUBLE(j, "repeat", f->pair_repeat);
	JBUF_KV_U64(j, "spread", f->pair_spread);
	KV_DOUBLE(j, "client_one_off_share", f->client_one_off_share);
	JBUF_KV_U64(j, "total_lookups", f->total_lookups);
	if (f->kind == DETECT_MUTUAL || f->kind == DETECT_EXCLUSIVE_TARGET)
		json_by_target(j, f);
	if (f->kind == DETECT_MUTUAL || f->kind == DETECT_EXCLUSIVE_CLIENT)
		json_by_client(j, f);
	if (f->window)
		json_time_window(j, f->window);
	if (f->kind == DETECT_PERIODIC)
		json_periodic(j, &f->periodic);
	if (f->kind == DETECT_REPLACEMENT)
		json_replacement(j, &f->replacement);
	if (f->kind == DETECT_FIRST_SEEN)
		json_first_seen(j, &f->first_seen);
	json_thresholds(j, detect_config_of(r->d), f->kind);
	JBUF_KEY(j, "examples");
	jbuf_arr_begin(j);
	for (size_t i = 0; i < f->nexamples; i++)
		fmt_json_time(j, f->examples[i]);
	jbuf_arr_end(j);
	output_end_record(r->out);
}

static void text_printf(struct jbuf *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_printf(struct jbuf *l, const char *fmt, ...)
{
	char buf[768];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		jbuf_append(l, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void text_side(struct jbuf *l, const char *what, const struct detect_side *s)
{
	text_printf(l, " %s: N=%llu D=%llu s1=%.3f s2=%.3f hhi=%.3f 1/hhi=%.2f wilson=%.3f%s", what,
		    (unsigned long long)s->lookups, (unsigned long long)s->distinct, s->top_share,
		    s->second_share, s->hhi, s->effective,
		    s->top_two ? s->wilson_lower_top_two : s->wilson_lower,
		    s->top_two ? " (top two)" : "");
}

static void text_finding(struct report_ctx *r, const struct detect_finding *f)
{
	struct jbuf *l = &r->line;
	char first[FMT_RFC3339_LEN + 1], last[FMT_RFC3339_LEN + 1];

	jbuf_reset(l);
	fmt_time(first, f->pair_first_ns);
	fmt_time(last, f->pair_last_ns);
	first[FMT_RFC3339_LEN] = last[FMT_RFC3339_LEN] = 0;
	text_printf(l, "finding %s %s %s client %s lookups %llu %s .. %s",
		    detect_kind_name(f->kind), detect_target_kind_name(f->target_kind), f->target,
		    f->client->label, (unsigned long long)f->pair_lookups, first, last);
	if (f->kind == DETECT_MUTUAL || f->kind == DETECT_EXCLUSIVE_TARGET)
		text_side(l, "target", &f->by_target);
	if (f->kind == DETECT_MUTUAL || f->kind == DETECT_EXCLUSIVE_CLIENT)
		text_side(l, "client", &f->by_client);
	if (f->kind == DETECT_MUTUAL)
		text_printf(l, " npmi=%.3f", f->npmi);
	if (f->window) {
		const struct detect_time_window *w = f->window;

		text_printf(l, " utc %02u-%02u (%uh) weekdays %.2f baseline %uh%s", w->utc.start,
			    (w->utc.start + w->utc.len) % 24, w->utc.len, w->weekday_share_utc,
			    w->baseline.len, w->concentrated ? " concentrated" : "");
		for (size_t i = 0; i < w->nzones; i++)
			text_printf(l, " %s %02u-%02u%s", w->zones[i].zone,
				    w->zones[i].res.window.start,
				    (w->zones[i].res.window.start + w->zones[i].res.window.len) %
					    24,
				    w->zones[i].res.business ? " business-hours" : "");
	}
	if (f->kind == DETECT_PERIODIC)
		text_printf(l, " score=%.3f median=%.1fs events=%u", f->periodic.score,
			    f->periodic.median_s, f->periodic.events);
	if (f->kind == DETECT_REPLACEMENT) {
		const struct detect_replacement *r = &f->replacement;

		text_printf(l,
			    " -> %s (%s) gap=%.0fs wjaccard=%.3f containment=%.3f jaccard=%.3f%s",
			    r->new_target, r->nxdomain ? "nxdomain" : "silent",
			    (double)r->gap_ns / NS_PER_SEC, r->overlap.weighted_jaccard,
			    r->overlap.containment, r->overlap.set_jaccard,
			    r->address_overlap > 0 ? " same-address" : "");
	}
	if (f->kind == DETECT_FIRST_SEEN) {
		const struct detect_first_seen *s = &f->first_seen;

		fmt_time(first, s->history_first_ns);
		first[FMT_RFC3339_LEN] = 0;
		text_printf(l, " new target: lookups %llu clients %llu; not among %llu targets since %s",
			    (unsigned long long)s->lookups, (unsigned long long)s->clients,
			    (unsigned long long)s->known_targets, first);
	}
	if (r->interval)
		text_printf(l, " [interval]");
	if (!l->failed)
		output_text_line(r->out, l->buf, l->len);
}

/* ---- cases ------------------------------------------------------------ */

static void json_case_score(struct jbuf *j, const struct detect_case *c)
{
	KV_DOUBLE(j, "score", round(c->score * 10) / 10);
	JBUF_KEY(j, "score_parts");
	jbuf_obj_begin(j);
	KV_DOUBLE(j, "exclusivity", c->parts.exclusivity);
	KV_DOUBLE(j, "concentration", c->parts.concentration);
	KV_DOUBLE(j, "episode", c->parts.episode);
	KV_DOUBLE(j, "replacement", c->parts.replacement);
	KV_DOUBLE(j, "recurrence", c->parts.recurrence);
	KV_DOUBLE(j, "one_off_share", c->parts.one_off_share);
	jbuf_obj_end(j);
}

/* The figures of the relationship: those of the finding that leads it. */
static void json_case_figures(struct jbuf *j, const struct detect_case *c)
{
	const struct detect_finding *f = c->lead;
	const struct detect_side *s = f->kind == DETECT_EXCLUSIVE_CLIENT ? &f->by_client
									  : &f->by_target;

	JBUF_KV_U64(j, "lookups", f->pair_lookups);
	if (f->kind == DETECT_MUTUAL || f->kind == DETECT_EXCLUSIVE_TARGET ||
	    f->kind == DETECT_EXCLUSIVE_CLIENT) {
		JBUF_KV_STR(j, "share_of", f->kind == DETECT_EXCLUSIVE_CLIENT ? "client" : "target");
		KV_DOUBLE(j, "share", s->top_two ? s->top_share + s->second_share : s->top_share);
		KV_DOUBLE(j, "wilson_lower", s->top_two ? s->wilson_lower_top_two : s->wilson_lower);
		JBUF_KV_U64(j, "parties", s->distinct);
		JBUF_KV_U64(j, "active_clients", s->active_clients);
	} else {
		JBUF_KV_NULL(j, "share_of");
		JBUF_KV_NULL(j, "share");
		JBUF_KV_NULL(j, "wilson_lower");
		JBUF_KV_NULL(j, "parties");
		JBUF_KV_NULL(j, "active_clients");
	}
	KV_DOUBLE(j, "repeat", f->pair_repeat);
	JBUF_KV_U64(j, "spread", f->pair_spread);
	JBUF_KEY(j, "first_seen");
	fmt_json_time(j, c->first_ns);
	JBUF_KEY(j, "last_seen");
	fmt_json_time(j, c->last_ns);
}

static void json_case_findings(struct jbuf *j, const struct detect_case *c)
{
	JBUF_KEY(j, "findings");
	jbuf_arr_begin(j);
	for (size_t i = 0; i < c->nfindings; i++) {
		const struct detect_finding *f = c->findings[i];

		jbuf_obj_begin(j);
		JBUF_KV_STR(j, "kind", detect_kind_name(f->kind));
		JBUF_KV_STR(j, "target_kind", detect_target_kind_name(f->target_kind));
		JBUF_KV_STR(j, "target", f->target);
		jbuf_obj_end(j);
	}
	jbuf_arr_end(j);
}

static void json_case(struct report_ctx *r, const struct detect_case *c)
{
	struct jbuf *j = output_begin_record(r->out, "case");

	if (!j)
		return;
	JBUF_KV_STR(j, "scope", "total");
	JBUF_KV_U64(j, "rank", c->rank);
	json_case_score(j, c);
	JBUF_KEY(j, "client");
	json_client(j, c->client);
	JBUF_KEY(j, "second_client");
	json_client(j, c->second_client);
	KV_DOUBLE(j, "client_one_off_share", c->lead->client_one_off_share);
	JBUF_KV_STR(j, "target_kind", detect_target_kind_name(c->target_kind));
	JBUF_KV_STR(j, "target", c->target);
	JBUF_KV_STR(j, "group", c->group);
	json_case_figures(j, c);
	if (c->window)
		json_time_window(j, c->window);
	else
		JBUF_KV_NULL(j, "time_window");
	if (c->periodic)
		json_periodic(j, c->periodic);
	else
		JBUF_KV_NULL(j, "periodic");
	if (c->replacement)
		json_replacement(j, c->replacement);
	else
		JBUF_KV_NULL(j, "replacement");
	JBUF_KEY(j, "examples");
	jbuf_arr_begin(j);
	for (size_t i = 0; i < c->lead->nexamples; i++)
		fmt_json_time(j, c->lead->examples[i]);
	jbuf_arr_end(j);
	json_case_findings(j, c);
	output_end_record(r->out);
}

static void text_out(struct report_ctx *r)
{
	if (!r->line.failed)
		output_text_line(r->out, r->line.buf, r->line.len);
	jbuf_reset(&r->line);
}

static void text_case_head(struct report_ctx *r, const struct detect_case *c)
{
	const struct detect_finding *f = c->lead;
	const struct detect_side *s = f->kind == DETECT_EXCLUSIVE_CLIENT ? &f->by_client
									  : &f->by_target;
	struct jbuf *l = &r->line;

	text_printf(l, "case %zu  score %.1f  %s -> %s %s", c->rank, c->score, c->client->label,
		    detect_target_kind_name(c->target_kind), c->target);
	if (strcmp(c->group, c->target))
		text_printf(l, " (%s)", c->group);
	text_out(r);
	if (c->second_client)
		text_printf(l, "  with      %s", c->second_client->label);
	if (c->second_client)
		text_out(r);
	text_printf(l, "  what      %llu lookups, %.2f per name, in %u of 1000 slices of the session",
		    (unsigned long long)f->pair_lookups, f->pair_repeat, f->pair_spread);
	if (f->kind == DETECT_MUTUAL || f->kind == DETECT_EXCLUSIVE_TARGET ||
	    f->kind == DETECT_EXCLUSIVE_CLIENT)
		text_printf(l, "; %.1f %% of the %s's %llu (Wilson >= %.3f), %llu clients around",
			    100 * (s->top_two ? s->top_share + s->second_share : s->top_share),
			    f->kind == DETECT_EXCLUSIVE_CLIENT ? "client" : "target",
			    (unsigned long long)s->lookups,
			    s->top_two ? s->wilson_lower_top_two : s->wilson_lower,
			    (unsigned long long)s->active_clients);
	text_out(r);
}

static void text_case_when(struct report_ctx *r, const struct detect_case *c)
{
	struct jbuf *l = &r->line;
	char first[FMT_RFC3339_LEN + 1], last[FMT_RFC3339_LEN + 1];
	const struct detect_time_window *w = c->window;

	fmt_time(first, c->first_ns);
	fmt_time(last, c->last_ns);
	first[FMT_RFC3339_LEN] = last[FMT_RFC3339_LEN] = 0;
	text_printf(l, "  when      %s .. %s", first, last);
	if (w) {
		text_printf(l, "; UTC %02u-%02u (%u h) against %u h for all traffic%s",
			    w->utc.start, (w->utc.start + w->utc.len) % 24, w->utc.len,
			    w->baseline.len, w->concentrated ? ": concentrated" : "");
		for (size_t i = 0; i < w->nzones; i++)
			text_printf(l, "; %s %02u-%02u%s", w->zones[i].zone,
				    w->zones[i].res.window.start,
				    (w->zones[i].res.window.start + w->zones[i].res.window.len) %
					    24,
				    w->zones[i].res.business ? " business hours" : "");
	}
	text_out(r);
}

static void text_case_rest(struct report_ctx *r, const struct detect_case *c)
{
	struct jbuf *l = &r->line;
	const struct detect_finding *f = c->lead;

	if (c->periodic)
		text_printf(l, "  regular   every %.1f s (score %.2f)", c->periodic->median_s,
			    c->periodic->score);
	else
		text_printf(l, "  regular   no");
	text_out(r);
	if (c->replacement) {
		text_printf(l, "  replaced  %s -> %s after %.1f days (%s; weighted Jaccard %.2f)",
			    c->replacement->old_target, c->replacement->new_target,
			    (double)c->replacement->gap_ns / (86400.0 * NS_PER_SEC),
			    c->replacement->nxdomain ? "NXDOMAIN" : "silent",
			    c->replacement->overlap.weighted_jaccard);
		text_out(r);
	}
	if (f->client_one_off_share >= DETECT_ONE_OFF_SHARE) {
		text_printf(l, "  client    %.0f %% of its lookups are its first of a name: a resolver, "
			       "mail filter or crawler",
			    100 * f->client_one_off_share);
		text_out(r);
	}
	text_printf(l, "  evidence ");
	for (size_t i = 0; i < f->nexamples; i++) {
		char t[FMT_RFC3339_LEN + 1];

		fmt_time(t, f->examples[i]);
		t[FMT_RFC3339_LEN] = 0;
		text_printf(l, " %s", t);
	}
	text_out(r);
	text_printf(l, "  findings ");
	for (size_t i = 0; i < c->nfindings; i++)
		text_printf(l, "%s %s %s", i ? "," : "", detect_kind_name(c->findings[i]->kind),
			    detect_target_kind_name(c->findings[i]->target_kind));
	text_out(r);
}

static void report_case(void *ctx, const struct detect_case *c)
{
	struct report_ctx *r = ctx;

	if (output_format_of(r->out) != OUTPUT_TEXT) {
		json_case(r, c);
		return;
	}
	jbuf_reset(&r->line);
	text_case_head(r, c);
	text_case_when(r, c);
	text_case_rest(r, c);
}

/*
 * Text at the end: the cases (the findings are in the JSON), and the
 * first_seen findings, which belong to no case.
 */
static void report_one(void *ctx, const struct detect_finding *f)
{
	struct report_ctx *r = ctx;

	r->written++;
	if (output_format_of(r->out) != OUTPUT_TEXT)
		json_finding(r, f);
	else if (r->interval || f->kind == DETECT_FIRST_SEEN)
		text_finding(r, f);
}

static int report(struct detect *d, struct output *out, bool interval)
{
	struct report_ctx r = {.d = d, .out = out, .interval = interval};
	int ret;

	if (!d || !out)
		return 0;
	if (jbuf_init(&r.line, 1024))
		return -ENOMEM;
	ret = interval ? detect_findings_new(d, report_one, &r)
		       : detect_findings_and_cases(d, report_one, report_case, &r);
	jbuf_free(&r.line);
	return ret < 0 ? ret : r.written;
}

int detect_report(struct detect *d, struct output *out)
{
	return report(d, out, false);
}

int detect_report_new(struct detect *d, struct output *out)
{
	return report(d, out, true);
}
