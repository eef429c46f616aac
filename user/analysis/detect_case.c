// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Cases: the findings about one relationship (a client and a target, at
 * name and registered-domain level) grouped into one record, scored and
 * ranked, so that an analyst reads the strongest first (docs/detection.md).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/detect_case.h"

/* A finding and the key of its case: the client and the target's registered domain. */
struct keyed {
	const struct detect_finding *f;
	const char *group;
	size_t order; /* the finding's place in the findings' order */
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int r = strcmp(x->f->client->label, y->f->client->label);

	if (!r)
		r = strcmp(x->group, y->group);
	if (!r)
		r = x->order < y->order ? -1 : x->order > y->order;
	return r;
}

static bool exclusive_kind(enum detect_kind k)
{
	return k == DETECT_MUTUAL || k == DETECT_EXCLUSIVE_TARGET || k == DETECT_EXCLUSIVE_CLIENT;
}

/* The Wilson lower bound a finding's exclusivity rests on (0 for other kinds). */
static double exclusivity_of(const struct detect_finding *f)
{
	const struct detect_side *t = &f->by_target, *c = &f->by_client;
	double wt = t->top_two ? t->wilson_lower_top_two : t->wilson_lower;
	double wc = c->top_two ? c->wilson_lower_top_two : c->wilson_lower;

	switch (f->kind) {
	case DETECT_MUTUAL:
		return wt > wc ? wt : wc;
	case DETECT_EXCLUSIVE_TARGET:
		return wt;
	case DETECT_EXCLUSIVE_CLIENT:
		return wc;
	default:
		return 0;
	}
}

/*
 * The finding that speaks for the case: the strongest exclusive one (a
 * name before its domain at equal strength), else a replacement, else the
 * first.
 */
static const struct detect_finding *lead_of(const struct detect_finding *const *v, size_t n)
{
	const struct detect_finding *best = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct detect_finding *f = v[i];

		if (!exclusive_kind(f->kind))
			continue;
		if (!best || exclusivity_of(f) > exclusivity_of(best) ||
		    (exclusivity_of(f) == exclusivity_of(best) &&
		     f->target_kind < best->target_kind))
			best = f;
	}
	for (size_t i = 0; !best && i < n; i++)
		if (v[i]->kind == DETECT_REPLACEMENT)
			best = v[i];
	return best ? best : v[0];
}

static void case_parts(struct detect_case *c, const struct detect_case_session *s)
{
	struct detect_case_score *p = &c->parts;
	double span = s->last_ns > s->first_ns ? (double)(s->last_ns - s->first_ns) : 0, excess;

	for (size_t i = 0; i < c->nfindings; i++) {
		const struct detect_finding *f = c->findings[i];
		double x = exclusivity_of(f);

		if (f->kind == DETECT_REPLACEMENT) {
			p->replacement = 1;
			x = f->replacement.overlap.weighted_jaccard *
			    f->replacement.overlap.containment;
		} else if (f->kind == DETECT_PERIODIC && !exclusive_kind(c->lead->kind)) {
			x = DETECT_CASE_PERIODIC_WEIGHT * f->periodic.score;
		}
		if (x > p->exclusivity)
			p->exclusivity = x;
		if (f->window && f->window->concentrated)
			p->concentration = 1;
	}
	p->episode = span > 0 ? 1 - (double)(c->last_ns - c->first_ns) / span : 0;
	if (p->episode < 0)
		p->episode = 0;
	p->one_off_share = c->lead->client_one_off_share;
	excess = p->one_off_share > DETECT_ONE_OFF_SHARE ? p->one_off_share - DETECT_ONE_OFF_SHARE
							 : 0;
	p->recurrence = (double)c->lead->pair_spread / DETECT_CASE_FULL_SPREAD;
	if (p->recurrence > 1)
		p->recurrence = 1;
	c->score = 100 * p->exclusivity * (1 + p->concentration + p->episode + p->replacement) /
		   4 * p->recurrence * (1 - excess);
}

/* Fills case c from the findings v[0..n) of one relationship. */
static void case_of(struct detect_case *c, const struct detect_finding **v, size_t n,
		    const struct detect_case_session *s)
{
	const struct detect_finding *lead = lead_of(v, n);

	memset(c, 0, sizeof(*c));
	c->findings = v;
	c->nfindings = n;
	c->lead = lead;
	c->client = lead->client;
	if (lead->by_target.top_two)
		c->second_client = lead->second_client;
	c->target_kind = lead->target_kind;
	c->target = lead->target;
	c->first_ns = UINT64_MAX;
	for (size_t i = 0; i < n; i++) {
		const struct detect_finding *f = v[i];

		if (f->pair_first_ns < c->first_ns)
			c->first_ns = f->pair_first_ns;
		if (f->pair_last_ns > c->last_ns)
			c->last_ns = f->pair_last_ns;
		if (f->window && (!c->window || f->target_kind < c->window_kind)) {
			c->window = f->window;
			c->window_kind = f->target_kind;
		}
		if (f->kind == DETECT_PERIODIC && !c->periodic)
			c->periodic = &f->periodic;
		if (f->kind == DETECT_REPLACEMENT && !c->replacement)
			c->replacement = &f->replacement;
	}
	case_parts(c, s);
}

/* Best score first; then more lookups, then by target and client, for a fixed order. */
static int cmp_case(const void *a, const void *b)
{
	const struct detect_case *x = a, *y = b;
	int r;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->lead->pair_lookups != y->lead->pair_lookups)
		return x->lead->pair_lookups > y->lead->pair_lookups ? -1 : 1;
	r = strcmp(x->target, y->target);
	return r ? r : strcmp(x->client->label, y->client->label);
}

int detect_cases(const struct detect_finding *v, size_t n, const struct detect_case_session *s,
		 detect_case_fn fn, void *ctx)
{
	struct keyed *k = calloc(n ? n : 1, sizeof(*k));
	const struct detect_finding **by_case = calloc(n ? n : 1, sizeof(*by_case));
	struct detect_case *cases = calloc(n ? n : 1, sizeof(*cases));
	size_t ncases = 0;

	if (!k || !by_case || !cases) {
		free(k);
		free(by_case);
		free(cases);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const char *t = v[i].kind == DETECT_REPLACEMENT ? v[i].replacement.old_target
								: v[i].target;

		k[i] = (struct keyed){&v[i], s->group_of(s->ctx, v[i].target_kind, t), i};
	}
	qsort(k, n, sizeof(*k), cmp_keyed);
	for (size_t i = 0; i < n; i++)
		by_case[i] = k[i].f;
	for (size_t i = 0, e; i < n; i = e) {
		for (e = i + 1; e < n && !strcmp(k[e].f->client->label, k[i].f->client->label) &&
				!strcmp(k[e].group, k[i].group);
		     e++)
			;
		case_of(&cases[ncases], by_case + i, e - i, s);
		cases[ncases++].group = k[i].group;
	}
	qsort(cases, ncases, sizeof(*cases), cmp_case);
	for (size_t i = 0; i < ncases; i++) {
		cases[i].rank = i + 1;
		fn(ctx, &cases[i]);
	}
	free(k);
	free(by_case);
	free(cases);
	return (int)ncases;
}
