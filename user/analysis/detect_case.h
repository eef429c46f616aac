/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Cases: the findings about one relationship grouped, scored and ranked.
 *
 * A relationship is a client and a target's registered domain (a name
 * target counts under its domain; a name with none, a domain and a peer
 * under themselves; a replacement under its old target's): the exclusive
 * findings at name and domain level, the time window, the periodicity and
 * the replacement of one client and one domain are one case.
 *
 * Score, 0 to 100 (docs/detection.md):
 *   100 x exclusivity x (1 + concentration + episode + replacement) / 4
 *       x recurrence x (1 - max(0, one_off_share - DETECT_ONE_OFF_SHARE))
 * exclusivity: the best Wilson lower bound of the case's exclusive
 *   findings; without one, a replacement's weighted Jaccard x containment,
 *   or DETECT_CASE_PERIODIC_WEIGHT x a periodicity score;
 * concentration: 1 if a time window is concentrated (office hours in
 *   round-the-clock traffic), else 0;
 * episode: 1 - the case's span / the session's: a relationship that lasts
 *   the whole capture (an appliance's time server) is background, one that
 *   starts or stops inside it is an event;
 * replacement: 1 if the target ended and another took its clients;
 * recurrence: the lead pair's spread (slices of the session with its
 *   lookups) / DETECT_CASE_FULL_SPREAD, at most 1: a relationship seen at
 *   many separate moments, not one burst (a developer hammering a name for
 *   an hour);
 * one_off_share: the client's lookups that were its first of a name; above
 *   DETECT_ONE_OFF_SHARE (0.5) the client is a spam filter, crawler or
 *   forwarding resolver, and what it repeats weighs less (half at 1).
 */
#ifndef DNSSNOOP_DETECT_CASE_H
#define DNSSNOOP_DETECT_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/detect.h"

/* A periodic contact that is not exclusive (a health check many hosts run) weighs this much. */
#define DETECT_CASE_PERIODIC_WEIGHT 0.25
/* Slices of the session (of DETECT_SPREAD_SLICES) a case needs for full recurrence. */
#define DETECT_CASE_FULL_SPREAD 24

struct detect_case_score {
	double exclusivity, concentration, episode, replacement, recurrence, one_off_share;
};

struct detect_case {
	size_t rank; /* 1 = best score */
	double score;
	struct detect_case_score parts;
	const struct detect_finding *lead; /* the finding whose figures stand for the case */
	const struct detect_client *client, *second_client; /* second: top two together */
	enum detect_target_kind target_kind; /* the lead's */
	const char *target; /* the lead's target */
	const char *group; /* the registered domain (or the target itself) */
	uint64_t first_ns, last_ns; /* over all its findings */
	const struct detect_time_window *window; /* the name's if any, else the domain's */
	enum detect_target_kind window_kind;
	const struct detstat_periodic *periodic;
	const struct detect_replacement *replacement;
	const struct detect_finding *const *findings; /* in the findings' order */
	size_t nfindings;
};

/* What cases need of the session: its span, and a target's group. */
struct detect_case_session {
	uint64_t first_ns, last_ns;
	/* The group of a target: a pointer into text, or text itself. */
	const char *(*group_of)(void *ctx, enum detect_target_kind kind, const char *text);
	void *ctx;
};

/*
 * Groups the findings v[0..n) (as detect_findings gives them) into cases
 * and calls fn for each, best score first. Returns the number of cases or
 * -ENOMEM.
 */
int detect_cases(const struct detect_finding *v, size_t n, const struct detect_case_session *s,
		 detect_case_fn fn, void *ctx);

#endif
