// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Judging: the detectors' rules (docs/detection.md) applied to what
 * detect.c counted, at each --interval close and at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "analysis/detect_case.h"
#include "analysis/detect_impl.h"
#include "lib/hash.h"

/* ---- judging ----------------------------------------------------------- */

struct judge {
	struct detect *d;
	struct dpair **pairs; /* every pair whose client and target are known */
	size_t npairs;
	struct detect_finding *out;
	size_t nout, capout;
	struct dpair **reported; /* pairs of exclusive findings, for time_window */
	size_t nreported;
	struct detect_time_window *windows;
	/* Every client's first and last lookup, each sorted: the population rule. */
	uint64_t *client_first, *client_last;
	size_t nclients;
};

static struct dclient *find_client(const struct detect *d, uint64_t h)
{
	uint32_t i = table_find(&d->clients, h);

	return i == SLOTS_NIL ? NULL : (struct dclient *)entry(&d->clients, i);
}

static struct dtarget *find_target(const struct detect *d, uint64_t h)
{
	uint32_t i = table_find(&d->targets, h);

	return i == SLOTS_NIL ? NULL : (struct dtarget *)entry(&d->targets, i);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int collect_client_spans(struct judge *j)
{
	const struct detect *d = j->d;
	size_t n = d->clients.s.used ? d->clients.s.used : 1;

	j->client_first = calloc(n, sizeof(uint64_t));
	j->client_last = calloc(n, sizeof(uint64_t));
	if (!j->client_first || !j->client_last)
		return -ENOMEM;
	for (uint32_t i = 0; i < d->clients.s.fresh; i++) {
		const struct dclient *c = (const struct dclient *)entry(&d->clients, i);

		if (!c->h.lookups)
			continue;
		j->client_first[j->nclients] = c->h.first_ns;
		j->client_last[j->nclients++] = c->h.last_ns;
	}
	qsort(j->client_first, j->nclients, sizeof(uint64_t), cmp_u64);
	qsort(j->client_last, j->nclients, sizeof(uint64_t), cmp_u64);
	return 0;
}

/* Values in the sorted array v[0..n) below x. */
static size_t count_below(const uint64_t *v, size_t n, uint64_t x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Clients with a lookup between first and last (the population rule): all
 * but those that started after last and those that ended before first,
 * two disjoint sets, counted by binary search in the sorted spans.
 */
static uint64_t clients_between(const struct judge *j, uint64_t first_ns, uint64_t last_ns)
{
	size_t late = j->nclients - count_below(j->client_first, j->nclients, last_ns + 1);
	size_t gone = count_below(j->client_last, j->nclients, first_ns);

	return j->nclients - late - gone;
}

/* The pair's timestamps, oldest first; returns how many (all kept, at most DETSTAT_TS_MAX). */
static size_t pair_timestamps(const struct ddetail *dt, uint64_t *out)
{
	for (uint32_t k = 0; k < dt->nts; k++)
		out[k] = dt->ts[(dt->head + DETSTAT_TS_MAX - dt->nts + k) % DETSTAT_TS_MAX];
	return dt->nts;
}

/*
 * The population of a target (or client) active from first to last: the
 * span widened, around its middle, to at least --population-window, so
 * that a burst of a few milliseconds is judged among the clients of its
 * hour or day (all of a short session's), not among those of its burst.
 */
static uint64_t active_clients(const struct judge *j, uint64_t first_ns, uint64_t last_ns)
{
	uint64_t span = last_ns - first_ns, w = j->d->cfg.population_window_ns;

	if (span < w) {
		uint64_t pad = (w - span) / 2;

		first_ns = first_ns > pad ? first_ns - pad : 0;
		last_ns = last_ns < UINT64_MAX - pad ? last_ns + pad : UINT64_MAX;
	}
	return clients_between(j, first_ns, last_ns);
}

/* The session's span cut into DETECT_SPREAD_SLICES slices (at least 1 ms each). */
static uint64_t spread_slice_ns(const struct detect *d)
{
	uint64_t slice = (d->last_ns - d->first_ns) / DETECT_SPREAD_SLICES;

	return slice > NS_PER_MSEC ? slice : NS_PER_MSEC;
}

/*
 * Distinct slices holding the pair's lookups (of those kept: its last
 * DETSTAT_TS_MAX with a time record, else its first ones and its last),
 * counted up to `enough`.
 */
static unsigned int pair_spread(const struct detect *d, const struct dpair *p, unsigned int enough)
{
	uint64_t ts[DETSTAT_TS_MAX], slice = spread_slice_ns(d), prev = UINT64_MAX;
	size_t n = 0;
	unsigned int spread = 0;

	if (p->detail != NO_DETAIL) {
		n = pair_timestamps(&d->details[p->detail], ts);
	} else {
		for (uint64_t k = 0; k < p->h.lookups && k < DETECT_DETAIL_MIN - 1; k++)
			ts[n++] = p->early[k];
		ts[n++] = p->h.last_ns;
	}
	for (size_t k = 0; k < n && spread < enough; k++) {
		uint64_t s = (ts[k] - d->first_ns) / slice;

		spread += s != prev;
		prev = s;
	}
	return spread;
}

/* Lookups per distinct name: 1 for a client that never returns to a name. */
static double pair_repeat(const struct dpair *p)
{
	return (double)p->h.lookups / (double)(p->names ? p->names : 1);
}

/*
 * Repeated contact: the client came back to the same names (--min-repeat
 * lookups per name), at --min-spread distinct times of the session. Many
 * names under one domain once each (a mail filter checking senders, a
 * crawler) is not a relationship with that domain.
 */
static bool repeated_contact(const struct detect *d, const struct dpair *p)
{
	return pair_repeat(p) >= d->cfg.min_repeat &&
	       pair_spread(d, p, d->cfg.min_spread) >= d->cfg.min_spread;
}

/* The pairs a verdict rests on (the top one, and the second with top_two) came back. */
static bool side_repeated(const struct detect *d, const struct detect_side *s,
			  const struct dpair *top, const struct dpair *second)
{
	return repeated_contact(d, top) && (!s->top_two || repeated_contact(d, second));
}

/*
 * Pairs grouped by target (or by client and target kind), most lookups
 * first; ties by the client's label (the target's text), so that the top
 * and second parties do not depend on the hash seed. The keys are copied
 * into a compact array once per pair, not fetched per comparison from the
 * scattered pair, client and target entries: ties are common (a flood of
 * pairs with one lookup each) and each fetch was a cache miss.
 */
struct sort_item {
	uint64_t group; /* the target's hash, or the client's */
	uint64_t lookups;
	uint8_t tkind; /* by client: the target kind; by target: 0 */
	const char *tie; /* by target: the client's label; by client: the target's text */
	struct dpair *p;
};

/* Group, then kind, most lookups first, then the tie text. */
static int cmp_sort_item(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->tkind != y->tkind)
		return x->tkind - y->tkind;
	if (x->lookups != y->lookups)
		return x->lookups > y->lookups ? -1 : 1;
	return strcmp(x->tie, y->tie);
}

/*
 * Sorts j->pairs by target or by client (and target kind), on keys copied
 * into a compact array first (every pair's client and target are known).
 */
static int sort_pairs(struct judge *j, bool by_target)
{
	struct sort_item *v = calloc(j->npairs ? j->npairs : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < j->npairs; i++) {
		struct dpair *p = j->pairs[i];

		v[i] = by_target ? (struct sort_item){p->thash, p->h.lookups, 0,
						      find_client(j->d, p->chash)->id.label, p}
				 : (struct sort_item){p->chash, p->h.lookups, p->tkind,
						      find_target(j->d, p->thash)->text, p};
	}
	qsort(v, j->npairs, sizeof(*v), cmp_sort_item);
	for (size_t i = 0; i < j->npairs; i++)
		j->pairs[i] = v[i].p;
	free(v);
	return 0;
}

/*
 * The concentration of one group of pairs (sorted by lookups, descending)
 * out of n lookups: D, top two, HHI, Wilson bounds.
 */
static void side_figures(struct dpair **g, size_t ng, const struct ehead *whole,
			 struct detect_side *s)
{
	double z = DETSTAT_Z95, hhi = 0;
	uint64_t n = whole->lookups, sum = 0;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < ng; i++)
		sum += g[i]->h.lookups;
	if (sum > n)
		n = sum; /* eviction noise: never a share above 1 */
	s->lookups = n;
	s->error = whole->error;
	s->distinct = ng;
	s->first_ns = whole->first_ns;
	s->last_ns = whole->last_ns;
	if (!n || !ng)
		return;
	for (size_t i = 0; i < ng; i++) {
		double sh = (double)g[i]->h.lookups / (double)n;

		hhi += sh * sh;
	}
	s->hhi = hhi;
	s->effective = detstat_effective_count(hhi);
	s->top_lookups = g[0]->h.lookups;
	s->second_lookups = ng > 1 ? g[1]->h.lookups : 0;
	s->top_share = (double)s->top_lookups / (double)n;
	s->second_share = (double)s->second_lookups / (double)n;
	s->wilson_lower = detstat_wilson_lower(s->top_lookups, n, z);
	s->wilson_lower_top_two = detstat_wilson_lower(s->top_lookups + s->second_lookups, n, z);
}

/* N, Wilson (one or top two) and population: the rules common to both sides. */
static bool side_support(const struct judge *j, struct detect_side *s)
{
	const struct detect *d = j->d;
	double share = d->cfg.exclusive_share;

	if (s->lookups < d->cfg.min_lookups)
		return false;
	if (s->wilson_lower < share) {
		if (s->distinct < 2 || s->wilson_lower_top_two < share)
			return false;
		s->top_two = true;
	}
	s->active_clients = active_clients(j, s->first_ns, s->last_ns);
	return s->active_clients >= d->cfg.min_clients;
}

static struct detect_finding *new_finding(struct judge *j, enum detect_kind kind)
{
	struct detect_finding *f;

	if (j->nout == j->capout) {
		size_t cap = j->capout ? 2 * j->capout : 16;
		struct detect_finding *v = realloc(j->out, cap * sizeof(*v));

		if (!v)
			return NULL;
		j->out = v;
		j->capout = cap;
	}
	f = &j->out[j->nout++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->total_lookups = j->d->total;
	return f;
}

/* Pair figures common to every finding about one pair. */
static void pair_figures(const struct detect *d, struct detect_finding *f, const struct dpair *p,
			 const struct dclient *c, const struct dtarget *t)
{
	const struct ddetail *dt = p->detail != NO_DETAIL ? &d->details[p->detail] : NULL;

	f->target_kind = t->kind;
	f->target = t->text;
	f->client = &c->id;
	f->pair_lookups = p->h.lookups;
	f->pair_first_ns = p->h.first_ns;
	f->pair_last_ns = p->h.last_ns;
	f->npmi = detstat_npmi(p->h.lookups, c->h.lookups, t->h.lookups, d->total);
	f->pair_repeat = pair_repeat(p);
	f->pair_spread = pair_spread(d, p, DETECT_SPREAD_SLICES);
	f->client_one_off_share = (double)c->first_contacts / (double)c->h.lookups;
	if (dt) {
		size_t n = dt->nts < DETECT_EXAMPLES ? dt->nts : DETECT_EXAMPLES;

		for (size_t k = 0; k < n; k++)
			f->examples[k] =
				dt->ts[(dt->head + DETSTAT_TS_MAX - n + k) % DETSTAT_TS_MAX];
		f->nexamples = n;
	} else {
		for (uint64_t k = 0; k < p->h.lookups && k < DETECT_DETAIL_MIN - 1; k++)
			f->examples[f->nexamples++] = p->early[k];
	}
}

/* Judged targets, for mutual: the target's side and its top pair. */
struct verdict {
	struct dpair *top, *second;
	struct detect_side side;
	bool exclusive;
};

static bool dominant(const struct detect *d, const struct dclient *c)
{
	return d->total && (double)c->h.lookups / (double)d->total > DETECT_DOMINANT_SHARE;
}

static void judge_target(struct judge *j, struct dpair **g, size_t ng, struct verdict *v)
{
	struct detect *d = j->d;
	struct dtarget *t = find_target(d, g[0]->thash);
	struct dclient *top;

	memset(v, 0, sizeof(*v));
	v->top = g[0];
	v->second = ng > 1 ? g[1] : NULL;
	if (!t)
		return;
	side_figures(g, ng, &t->h, &v->side);
	if (t->kind == DETECT_T_PEER && ng < d->cfg.min_clients)
		return; /* a peer of few clients is their resolver, not a secret */
	top = find_client(d, g[0]->chash);
	if (!top || dominant(d, top))
		return;
	v->exclusive = side_support(j, &v->side) && side_repeated(d, &v->side, g[0], v->second);
	v->side.exclusive = v->exclusive;
}

/*
 * The client holds at least half of the target's lookups: a client devoted
 * to a name that many others use too (a health check, an update server) is
 * a consumer of a shared service, not one side of a relationship.
 */
static bool own_target(const struct detect *d, const struct dpair *p)
{
	const struct dtarget *t = find_target(d, p->thash);

	return t && (double)p->h.lookups >= DETECT_OWN_TARGET_SHARE * (double)t->h.lookups;
}

static void judge_client(struct judge *j, struct dpair **g, size_t ng, struct verdict *v)
{
	struct detect *d = j->d;
	struct dclient *c = find_client(d, g[0]->chash);

	memset(v, 0, sizeof(*v));
	v->top = g[0];
	v->second = ng > 1 ? g[1] : NULL;
	if (!c || g[0]->tkind == DETECT_T_PEER)
		return; /* every client talks to one resolver or two */
	/* shares are of all the client's lookups, whatever their target */
	side_figures(g, ng, &c->h, &v->side);
	v->side.active_hours = c->hours;
	if (c->hours < d->cfg.min_hours || dominant(d, c))
		return;
	v->exclusive = side_support(j, &v->side) && side_repeated(d, &v->side, g[0], v->second) &&
		       own_target(d, g[0]) && (!v->side.top_two || own_target(d, v->second));
	v->side.exclusive = v->exclusive;
}

/* Group boundaries: pairs [i, end) share the key. */
static size_t group_end(struct dpair **v, size_t n, size_t i, bool by_target)
{
	size_t e = i + 1;

	while (e < n && (by_target ? v[e]->thash == v[i]->thash
				   : v[e]->chash == v[i]->chash && v[e]->tkind == v[i]->tkind))
		e++;
	return e;
}

static void note_reported(struct judge *j, struct dpair *p)
{
	for (size_t i = 0; i < j->nreported; i++)
		if (j->reported[i] == p)
			return;
	j->reported[j->nreported++] = p;
}

static void add_exclusive(struct judge *j, enum detect_kind kind, const struct verdict *tv,
			  const struct verdict *cv)
{
	struct detect *d = j->d;
	const struct dpair *p = tv ? tv->top : cv->top;
	struct dclient *c = find_client(d, p->chash);
	struct dtarget *t = find_target(d, p->thash);
	struct detect_finding *f;

	if (!c || !t || !wants(d, kind))
		return;
	f = new_finding(j, kind);
	if (!f)
		return;
	pair_figures(d, f, p, c, t);
	note_reported(j, (struct dpair *)p);
	if (tv && tv->side.top_two)
		note_reported(j, tv->second);
	if (cv && cv->side.top_two)
		note_reported(j, cv->second);
	if (tv) {
		f->by_target = tv->side;
		if (tv->second) {
			struct dclient *c2 = find_client(d, tv->second->chash);

			f->second_client = c2 ? &c2->id : NULL;
		}
	}
	if (cv) {
		struct dtarget *t2 = cv->second ? find_target(d, cv->second->thash) : NULL;

		f->by_client = cv->side;
		f->top_target = t->text;
		f->second_target = t2 ? t2->text : NULL;
	}
}

/* The exclusive verdict of the client side for this pair's client and target kind. */
static const struct verdict *client_verdict(const struct verdict *cv, size_t ncv,
					    const struct dpair *p)
{
	for (size_t i = 0; i < ncv; i++)
		if (cv[i].top->chash == p->chash && cv[i].top->tkind == p->tkind)
			return &cv[i];
	return NULL;
}

static int judge_exclusive(struct judge *j)
{
	size_t ntv = 0, ncv = 0, n = j->npairs;
	struct verdict *tv = calloc(n ? n : 1, sizeof(*tv));
	struct verdict *cv = calloc(n ? n : 1, sizeof(*cv));

	if (!tv || !cv || sort_pairs(j, false)) {
		free(tv);
		free(cv);
		return -ENOMEM;
	}
	for (size_t i = 0, e; i < n; i = e) {
		e = group_end(j->pairs, n, i, false);
		judge_client(j, j->pairs + i, e - i, &cv[ncv]);
		if (cv[ncv].exclusive)
			ncv++;
	}
	if (sort_pairs(j, true)) {
		free(tv);
		free(cv);
		return -ENOMEM;
	}
	for (size_t i = 0, e; i < n; i = e) {
		e = group_end(j->pairs, n, i, true);
		judge_target(j, j->pairs + i, e - i, &tv[ntv]);
		if (tv[ntv].exclusive)
			ntv++;
	}
	/* mutual: the target's top client has it as its top target */
	for (size_t i = 0; i < ntv; i++) {
		const struct verdict *c = client_verdict(cv, ncv, tv[i].top);

		if (c && c->top->thash == tv[i].top->thash) {
			add_exclusive(j,
				      wants(j->d, DETECT_MUTUAL) ? DETECT_MUTUAL
								 : DETECT_EXCLUSIVE_TARGET,
				      &tv[i], c);
			if (!wants(j->d, DETECT_MUTUAL))
				add_exclusive(j, DETECT_EXCLUSIVE_CLIENT, NULL, c);
			tv[i].exclusive = false;
			((struct verdict *)c)->exclusive = false;
		}
	}
	for (size_t i = 0; i < ntv; i++)
		if (tv[i].exclusive)
			add_exclusive(j, DETECT_EXCLUSIVE_TARGET, &tv[i], NULL);
	for (size_t i = 0; i < ncv; i++)
		if (cv[i].exclusive)
			add_exclusive(j, DETECT_EXCLUSIVE_CLIENT, NULL, &cv[i]);
	free(tv);
	free(cv);
	return 0;
}

/* ---- time windows and periodicity --------------------------------------- */

/*
 * The week in a zone's local time: exact from the timestamps when every
 * lookup of the histogram is still kept, else the UTC histogram shifted by
 * the zone's offset at the last lookup (rounded to the hour).
 */
static int local_week(const struct ddetail *dt, const struct dpair *p, const char *zone,
		      struct detect_window_zone *z, uint64_t week[DETSTAT_WEEK_BINS])
{
	uint64_t ts[DETSTAT_TS_MAX];
	size_t n = pair_timestamps(dt, ts);
	long shift;
	int err;

	memset(week, 0, DETSTAT_WEEK_BINS * sizeof(*week));
	z->zone = zone;
	err = detstat_zone_offset(zone, p->h.last_ns, &z->offset_s);
	if (err)
		return err;
	if (dt->counted == n) {
		z->exact = true;
		return detstat_local_week(ts, n, zone, week);
	}
	shift = (z->offset_s >= 0 ? z->offset_s + 1800 : z->offset_s - 1800) / 3600;
	for (long h = 0; h < DETSTAT_WEEK_BINS; h++)
		week[((h + shift) % DETSTAT_WEEK_BINS + DETSTAT_WEEK_BINS) % DETSTAT_WEEK_BINS] +=
			dt->week[h];
	return 0;
}

static void fill_window(struct detect *d, const struct dpair *p, const struct ddetail *dt,
			struct detect_time_window *w)
{
	struct detstat_business rule = DETSTAT_BUSINESS_DEFAULT;

	memset(w, 0, sizeof(*w));
	rule.start_hour = d->cfg.business_start;
	rule.end_hour = d->cfg.business_end;
	memcpy(w->week_utc, dt->week, sizeof(w->week_utc));
	w->counted = dt->counted;
	detstat_week_window(dt->week, DETSTAT_WINDOW_SHARE, &w->utc);
	w->weekday_share_utc = detstat_weekday_share(dt->week);
	detstat_week_window(d->week, DETSTAT_WINDOW_SHARE, &w->baseline);
	w->baseline_weekday_share = detstat_weekday_share(d->week);
	w->concentrated = w->utc.len && w->baseline.len &&
			  (double)w->utc.len <= d->cfg.concentrated_ratio * (double)w->baseline.len;
	for (size_t i = 0; i < d->cfg.nzones && i < DETECT_MAX_ZONES; i++) {
		uint64_t week[DETSTAT_WEEK_BINS];
		struct detect_window_zone *z = &w->zones[w->nzones];

		if (local_week(dt, p, d->cfg.zones[i], z, week) ||
		    detstat_business_hours(week, &rule, &z->res))
			continue;
		w->nzones++;
	}
}

static void judge_windows(struct judge *j)
{
	struct detect *d = j->d;

	if (!wants(d, DETECT_TIME_WINDOW))
		return;
	for (size_t i = 0; i < j->nreported; i++) {
		struct dpair *p = j->reported[i];
		struct dclient *c = find_client(d, p->chash);
		struct dtarget *t = find_target(d, p->thash);
		struct detect_finding *f;

		if (!c || !t || p->detail == NO_DETAIL)
			continue;
		f = new_finding(j, DETECT_TIME_WINDOW);
		if (!f)
			return;
		pair_figures(d, f, p, c, t);
		fill_window(d, p, &d->details[p->detail], &j->windows[i]);
		f->window = &j->windows[i];
	}
}

/*
 * Lookups a periodic pair needs: the periodicity minimum (8) for a pair of
 * an exclusive finding, whose support rules carry the weight (about 9% of
 * random series of 8 score as regular; see detstat.h); twice --min-lookups
 * (32) for any other pair, because a person's lookups of a name a day or
 * two apart often score >= 0.8 at 16 to 27 lookups and did not at 32 in
 * the six-week scenario (docs/detection.md).
 */
static uint64_t periodic_support(const struct judge *j, const struct dpair *p)
{
	uint64_t n = j->d->cfg.periodic_min_lookups, alone = 2 * j->d->cfg.min_lookups;

	for (size_t i = 0; i < j->nreported; i++)
		if (j->reported[i] == p)
			return n;
	return alone > n ? alone : n;
}

static void judge_periodic(struct judge *j)
{
	struct detect *d = j->d;
	uint64_t ts[DETSTAT_TS_MAX];

	if (!wants(d, DETECT_PERIODIC))
		return;
	for (size_t i = 0; i < j->npairs; i++) {
		struct dpair *p = j->pairs[i];
		struct detstat_periodic per;
		struct detect_finding *f;
		size_t n;

		if (p->tkind == DETECT_T_PEER || p->detail == NO_DETAIL ||
		    p->h.lookups < periodic_support(j, p) || pair_repeat(p) < d->cfg.min_repeat)
			continue;
		n = pair_timestamps(&d->details[p->detail], ts);
		if (detstat_periodicity(ts, n, d->cfg.periodic_min_lookups, &per) ||
		    per.score < d->cfg.periodic_score)
			continue;
		f = new_finding(j, DETECT_PERIODIC);
		if (!f)
			return;
		pair_figures(d, f, p, find_client(d, p->chash), find_target(d, p->thash));
		f->periodic = per;
	}
}

/* ---- replacement ---------------------------------------------------------- */

/* One target's pairs, in j->pairs (sorted by target). */
struct tgroup {
	struct dtarget *t;
	struct dpair **p;
	size_t n;
};

/*
 * Share of the target's lookups whose clients still look things up
 * `silence` after its last lookup: the target went quiet, not its clients.
 */
static double clients_still_active(const struct detect *d, const struct tgroup *g)
{
	uint64_t after = g->t->h.last_ns + d->cfg.silence_ns, active = 0, all = 0;

	for (size_t i = 0; i < g->n; i++) {
		const struct dclient *c = find_client(d, g->p[i]->chash);

		all += g->p[i]->h.lookups;
		if (c && c->h.last_ns >= after)
			active += g->p[i]->h.lookups;
	}
	return all ? (double)active / (double)all : 0;
}

/*
 * Whether a target met the support rules and then ended: answered NXDOMAIN
 * from its last NOERROR answer on, or silent for --silence (to the end of
 * the session) while clients with at least half of its lookups stayed
 * active. *end_ns: its last answered lookup (its last lookup if no answer
 * was seen).
 */
/*
 * A target's lookups per distinct name over all its clients: a domain of
 * one-off names (a spam campaign's senders, a crawl) is no contact, and
 * one such domain following another is rotation, not a replacement.
 */
static bool group_repeated(const struct detect *d, const struct tgroup *g)
{
	uint64_t lookups = 0, names = 0;

	for (size_t i = 0; i < g->n; i++) {
		lookups += g->p[i]->h.lookups;
		names += g->p[i]->names ? g->p[i]->names : 1;
	}
	return (double)lookups >= d->cfg.min_repeat * (double)names;
}

static bool target_ended(const struct judge *j, const struct tgroup *g, uint64_t *end_ns,
			 bool *nxdomain)
{
	const struct detect *d = j->d;
	const struct dtarget *t = g->t;

	if (t->kind == DETECT_T_PEER || t->h.lookups < d->cfg.min_lookups ||
	    active_clients(j, t->h.first_ns, t->h.last_ns) < d->cfg.min_clients ||
	    !group_repeated(d, g))
		return false;
	*nxdomain = t->nx_after && t->last_ok_ns;
	*end_ns = t->last_ok_ns ? t->last_ok_ns : t->h.last_ns;
	if (*nxdomain)
		return true;
	return d->last_ns >= t->h.last_ns + d->cfg.silence_ns && clients_still_active(d, g) >= 0.5;
}

/* A never-seen target of the same kind whose first lookup lies in (end, end + window]. */
static bool successor_candidate(const struct detect *d, const struct tgroup *old,
				const struct tgroup *g, uint64_t end_ns)
{
	const struct dtarget *t = g->t;

	return t != old->t && t->kind == old->t->kind && !t->h.error &&
	       t->h.lookups >= d->cfg.min_lookups && t->h.first_ns > end_ns &&
	       t->h.first_ns - end_ns <= d->cfg.replacement_window_ns && group_repeated(d, g);
}

static int group_overlap(const struct tgroup *a, const struct tgroup *b,
			 struct detstat_client_count *ca, struct detstat_client_count *cb,
			 struct detstat_overlap *out)
{
	for (size_t i = 0; i < a->n; i++)
		ca[i] = (struct detstat_client_count){a->p[i]->chash, a->p[i]->h.lookups};
	for (size_t i = 0; i < b->n; i++)
		cb[i] = (struct detstat_client_count){b->p[i]->chash, b->p[i]->h.lookups};
	return detstat_client_overlap(ca, a->n, cb, b->n, out);
}

/* The new target's first pair: earliest lookup, ties by the client's label. */
static struct dpair *first_pair(const struct detect *d, const struct tgroup *g)
{
	struct dpair *best = NULL;

	for (size_t i = 0; i < g->n; i++) {
		struct dpair *p = g->p[i];

		if (!best || p->h.first_ns < best->h.first_ns ||
		    (p->h.first_ns == best->h.first_ns &&
		     strcmp(find_client(d, p->chash)->id.label,
			    find_client(d, best->chash)->id.label) < 0))
			best = p;
	}
	return best;
}

static int address_overlap(const struct dtarget *a, const struct dtarget *b)
{
	if (!a->naddrs || !b->naddrs)
		return -1;
	for (uint8_t i = 0; i < a->naddrs; i++)
		for (uint8_t k = 0; k < b->naddrs; k++)
			if (a->addrs[i].family == b->addrs[k].family &&
			    !memcmp(a->addrs[i].addr, b->addrs[k].addr,
				    a->addrs[i].family == AF_INET6 ? 16 : 4))
				return 1;
	return 0;
}

static void add_replacement(struct judge *j, const struct tgroup *old, const struct tgroup *g,
			    uint64_t end_ns, bool nxdomain, const struct detstat_overlap *ov)
{
	struct detect *d = j->d;
	struct dpair *fp = first_pair(d, g);
	struct dclient *c = find_client(d, fp->chash);
	struct detect_finding *f = new_finding(j, DETECT_REPLACEMENT);
	struct detect_replacement *r;

	if (!f)
		return;
	pair_figures(d, f, fp, c, g->t);
	f->target = old->t->text;
	r = &f->replacement;
	r->old_target = old->t->text;
	r->new_target = g->t->text;
	r->nxdomain = nxdomain;
	r->old_lookups = old->t->h.lookups;
	r->old_distinct = old->n;
	r->old_first_ns = old->t->h.first_ns;
	r->old_last_ns = old->t->h.last_ns;
	r->old_end_ns = end_ns;
	r->old_nxdomain = nxdomain ? old->t->nx_after : 0;
	r->new_lookups = g->t->h.lookups;
	r->new_distinct = g->n;
	r->new_first_ns = g->t->h.first_ns;
	r->new_last_ns = g->t->h.last_ns;
	r->gap_ns = g->t->h.first_ns - end_ns;
	r->overlap = *ov;
	r->first_client = &c->id;
	r->first_client_ns = fp->h.first_ns;
	r->nold_addrs = old->t->naddrs;
	r->nnew_addrs = g->t->naddrs;
	memcpy(r->old_addrs, old->t->addrs, sizeof(r->old_addrs));
	memcpy(r->new_addrs, g->t->addrs, sizeof(r->new_addrs));
	r->address_overlap = address_overlap(old->t, g->t);
}

/*
 * Pairs grouped by target, most lookups first: j->pairs as judge_exclusive()
 * left them (sorted by target; nothing between reorders them).
 */
static size_t target_groups(struct judge *j, struct tgroup *groups)
{
	size_t ng = 0, n = j->npairs;

	for (size_t i = 0, e; i < n; i = e) {
		e = group_end(j->pairs, n, i, true);
		groups[ng++] =
			(struct tgroup){find_target(j->d, j->pairs[i]->thash), j->pairs + i, e - i};
	}
	return ng;
}

static int cmp_by_first_lookup(const void *a, const void *b)
{
	const struct tgroup *x = *(const struct tgroup *const *)a;
	const struct tgroup *y = *(const struct tgroup *const *)b;

	return x->t->h.first_ns < y->t->h.first_ns ? -1 : x->t->h.first_ns > y->t->h.first_ns;
}

/* Groups that may succeed another (enough lookups, none missed), by first lookup. */
static size_t successor_pool(const struct detect *d, struct tgroup *groups, size_t ng,
			     struct tgroup **pool)
{
	size_t n = 0;

	for (size_t i = 0; i < ng; i++)
		if (!groups[i].t->h.error && groups[i].t->h.lookups >= d->cfg.min_lookups)
			pool[n++] = &groups[i];
	qsort(pool, n, sizeof(*pool), cmp_by_first_lookup);
	return n;
}

/* The first of the pool whose first lookup is after end_ns. */
static size_t pool_after(struct tgroup *const *pool, size_t n, uint64_t end_ns)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pool[mid]->t->h.first_ns <= end_ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * For each target that ended, the never-seen target of the same kind
 * within --replacement-window whose clients are the old one's in the same
 * proportions (containment and weighted Jaccard at their thresholds); the
 * best by weighted Jaccard (ties: earlier first lookup, then text). Only
 * targets first seen within the window are looked at: the pool is sorted
 * by first lookup.
 */
static int judge_replacement(struct judge *j)
{
	struct detect *d = j->d;
	size_t n = j->npairs ? j->npairs : 1, ng, npool;
	struct tgroup *groups = calloc(n, sizeof(*groups));
	struct tgroup **pool = calloc(n, sizeof(*pool));
	struct detstat_client_count *ca = calloc(n, sizeof(*ca)), *cb = calloc(n, sizeof(*cb));
	int ret = 0;

	if (!groups || !pool || !ca || !cb) {
		ret = -ENOMEM;
		goto out;
	}
	ng = target_groups(j, groups);
	npool = successor_pool(d, groups, ng, pool);
	for (size_t i = 0; i < ng; i++) {
		struct detstat_overlap ov, best_ov = {0};
		const struct tgroup *best = NULL;
		uint64_t end_ns;
		bool nx;

		if (!target_ended(j, &groups[i], &end_ns, &nx))
			continue;
		for (size_t k = pool_after(pool, npool, end_ns); k < npool; k++) {
			const struct tgroup *g = pool[k];

			if (g->t->h.first_ns - end_ns > d->cfg.replacement_window_ns)
				break;

			if (!successor_candidate(d, &groups[i], g, end_ns) ||
			    group_overlap(&groups[i], g, ca, cb, &ov) ||
			    ov.containment < d->cfg.replacement_containment ||
			    ov.weighted_jaccard < d->cfg.replacement_jaccard)
				continue;
			if (best && (ov.weighted_jaccard < best_ov.weighted_jaccard ||
				     (ov.weighted_jaccard == best_ov.weighted_jaccard &&
				      (g->t->h.first_ns > best->t->h.first_ns ||
				       (g->t->h.first_ns == best->t->h.first_ns &&
					strcmp(g->t->text, best->t->text) > 0)))))
				continue;
			best = g;
			best_ov = ov;
		}
		if (best)
			add_replacement(j, &groups[i], best, end_ns, nx, &best_ov);
	}
out:
	free(groups);
	free(pool);
	free(ca);
	free(cb);
	return ret;
}

/* ---- first_seen --------------------------------------------------------- */

/* Whether one of the first n findings is about t (a replacement: as its new target too). */
static bool in_pattern(const struct judge *j, size_t n, const struct dtarget *t)
{
	for (size_t i = 0; i < n; i++) {
		const struct detect_finding *f = &j->out[i];

		if (f->target_kind == t->kind &&
		    (!strcmp(f->target, t->text) ||
		     (f->kind == DETECT_REPLACEMENT && !strcmp(f->replacement.new_target, t->text))))
			return true;
	}
	return false;
}

static void add_first_seen(struct judge *j, const struct tgroup *g)
{
	struct detect *d = j->d;
	struct dpair *fp = first_pair(d, g);
	struct detect_finding *f = new_finding(j, DETECT_FIRST_SEEN);

	if (!f)
		return;
	pair_figures(d, f, fp, find_client(d, fp->chash), g->t);
	f->first_seen = (struct detect_first_seen){
		.lookups = g->t->h.lookups,
		.clients = g->n,
		.first_ns = g->t->h.first_ns,
		.last_ns = g->t->h.last_ns,
		.known_targets = d->known.n,
		.history_first_ns = d->known_first_ns,
	};
}

/*
 * Targets looked up now that the history did not hold. Only with a
 * history (a state file holding targets): without one, every target is
 * new and saying so tells nothing. Unless --first-seen asks for the whole
 * list, only targets that another finding is about: a flood of new names
 * is ordinary (CDNs, one-off names), a new name in a pattern is evidence.
 * The findings judged before this are the only ones looked at.
 */
static int judge_first_seen(struct judge *j)
{
	size_t ng, nbefore = j->nout;
	struct tgroup *groups;

	if (!j->d->known.n)
		return 0;
	groups = calloc(j->npairs ? j->npairs : 1, sizeof(*groups));
	if (!groups)
		return -ENOMEM;
	ng = target_groups(j, groups);
	for (size_t i = 0; i < ng; i++) {
		const struct dtarget *t = groups[i].t;

		if (!u64set_has(&j->d->known, t->h.hash) &&
		    (j->d->cfg.first_seen_all || in_pattern(j, nbefore, t)))
			add_first_seen(j, &groups[i]);
	}
	free(groups);
	return 0;
}

/* ---- order and entry point -------------------------------------------- */

static uint64_t finding_lookups(const struct detect_finding *f)
{
	if (f->kind == DETECT_EXCLUSIVE_TARGET || f->kind == DETECT_MUTUAL)
		return f->by_target.lookups;
	if (f->kind == DETECT_EXCLUSIVE_CLIENT)
		return f->by_client.lookups;
	if (f->kind == DETECT_FIRST_SEEN)
		return f->first_seen.lookups;
	return f->pair_lookups;
}

static int cmp_finding(const void *a, const void *b)
{
	const struct detect_finding *x = a, *y = b;
	uint64_t nx = finding_lookups(x), ny = finding_lookups(y);
	int r;

	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	if (x->target_kind != y->target_kind)
		return (int)x->target_kind - (int)y->target_kind;
	if (nx != ny)
		return nx > ny ? -1 : 1;
	r = strcmp(x->target, y->target);
	return r ? r : strcmp(x->client->label, y->client->label);
}

static int collect_pairs(struct judge *j)
{
	struct detect *d = j->d;
	uint32_t cap = d->pairs.s.fresh;

	j->pairs = calloc(d->pairs.s.used ? d->pairs.s.used : 1, sizeof(*j->pairs));
	j->reported = calloc(2 * (size_t)d->pairs.s.used + 1, sizeof(*j->reported));
	if (!j->pairs || !j->reported)
		return -ENOMEM;
	for (uint32_t i = 0; i < cap; i++) {
		struct dpair *p = (struct dpair *)entry(&d->pairs, i);

		if (p->h.lookups && find_client(d, p->chash) && find_target(d, p->thash))
			j->pairs[j->npairs++] = p;
	}
	return 0;
}

/* A name's registered domain (a suffix of it), or the target's own text. */
static const char *case_group(void *ctx, enum detect_target_kind kind, const char *text)
{
	const struct detect *d = ctx;
	const char *domain = kind == DETECT_T_NAME && d->psl
				     ? psl_registrable_domain(d->psl, text)
				     : NULL;

	return domain && *domain ? domain : text;
}

int detect_findings(struct detect *d, detect_finding_fn fn, void *ctx)
{
	return detect_findings_and_cases(d, fn, NULL, ctx);
}

int detect_findings_and_cases(struct detect *d, detect_finding_fn fn, detect_case_fn case_fn,
			      void *ctx)
{
	struct judge j = {.d = d};
	int ret;

	if (!d)
		return 0;
	ret = collect_pairs(&j);
	if (!ret)
		ret = collect_client_spans(&j);
	if (!ret)
		ret = judge_exclusive(&j);
	if (!ret) {
		j.windows = calloc(j.nreported ? j.nreported : 1, sizeof(*j.windows));
		ret = j.windows ? 0 : -ENOMEM;
	}
	if (!ret) {
		judge_windows(&j);
		judge_periodic(&j);
		if (wants(d, DETECT_REPLACEMENT))
			ret = judge_replacement(&j);
		if (!ret && wants(d, DETECT_FIRST_SEEN))
			ret = judge_first_seen(&j);
	}
	if (!ret) {
		if (j.nout)
			qsort(j.out, j.nout, sizeof(*j.out), cmp_finding);
		for (size_t i = 0; i < j.nout; i++)
			fn(ctx, &j.out[i]);
		ret = (int)j.nout;
	}
	if (ret >= 0 && case_fn) {
		struct detect_case_session s = {d->first_ns, d->last_ns, case_group, d};
		size_t n = j.nout;
		int nc;

		/* first_seen (sorted last) is evidence to read beside a case, not part of one. */
		while (n && j.out[n - 1].kind == DETECT_FIRST_SEEN)
			n--;
		nc = detect_cases(j.out, n, &s, case_fn, ctx);

		ret = nc < 0 ? nc : ret;
	}
	free(j.pairs);
	free(j.reported);
	free(j.windows);
	free(j.out);
	free(j.client_first);
	free(j.client_last);
	return ret;
}

/* What makes a finding the same one later: kind, target kind, target, client. */
static uint64_t finding_identity(const struct detect *d, const struct detect_finding *f)
{
	uint8_t kinds[2] = {(uint8_t)f->kind, (uint8_t)f->target_kind};
	uint64_t h = hash_bytes(kinds, sizeof(kinds), d->seed ^ 0x5eedULL);

	h = hash_bytes(f->target, strlen(f->target) + 1, h);
	return hash_bytes(f->client->label, strlen(f->client->label), h);
}

/*
 * Remembers a written finding's identity: 1 if it is new, 0 if it was
 * written before, -1 if the set is full (DETECT_WRITTEN_MAX identities) or
 * cannot grow.
 */
static int note_written(struct detect *d, uint64_t id)
{
	return u64set_add(&d->written, id);
}

/* The findings not handed to fn by an earlier detect_findings_new(). */
struct new_only {
	struct detect *d;
	detect_finding_fn fn;
	void *ctx;
	int given;
};

static void give_if_new(void *ctx, const struct detect_finding *f)
{
	struct new_only *n = ctx;

	if (note_written(n->d, finding_identity(n->d, f)) <= 0)
		return;
	n->given++;
	n->fn(n->ctx, f);
}

int detect_findings_new(struct detect *d, detect_finding_fn fn, void *ctx)
{
	struct new_only n = {.d = d, .fn = fn, .ctx = ctx};
	int ret = detect_findings(d, give_if_new, &n);

	return ret < 0 ? ret : n.given;
}

const struct detect_config *detect_config_of(const struct detect *d)
{
	return &d->cfg;
}
