/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Pure statistics for the detectors of exclusive communication patterns
 * (docs/detection.md): support bounds, concentration, association,
 * daily/weekly time windows, time zones, beacon periodicity and the client
 * overlap of two targets. No state, no allocation except detstat_local_week
 * (a copy of $TZ), libc and libm only. Bad input returns an error or a
 * neutral value (documented per function), never crashes.
 *
 * Conventions: a "week" histogram has DETSTAT_WEEK_BINS = 168 hour-of-week
 * counters, bin 0 = Monday 00:00-01:00, bin 167 = Sunday 23:00-24:00 (ISO
 * week). Timestamps are nanoseconds since the Unix epoch (UTC).
 */
#ifndef DNSSNOOP_DETSTAT_H
#define DNSSNOOP_DETSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DETSTAT_Z95 1.959964 /* two-sided 95% normal quantile */

/*
 * Wilson score interval lower bound of a proportion k/n (Wilson 1927;
 * Agresti & Coull 1998), with p = k/n:
 *   (p + z^2/2n - z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n).
 * For k = n it is n / (n + z^2): 3 of 3 gives 0.44, 16 of 16 gives 0.806.
 * n = 0 or k > n gives 0 (no evidence).
 */
double detstat_wilson_lower(uint64_t k, uint64_t n, double z);

/*
 * Herfindahl-Hirschman index sum_i (c_i / sum c)^2 of n counts: 1/n for n
 * equal counts, 1 for one non-zero count; 0 when all counts are 0.
 */
double detstat_hhi(const uint64_t *counts, size_t n);

/* Effective number of equal parties 1 / HHI (Laakso & Taagepera 1979); 0 for hhi <= 0. */
double detstat_effective_count(double hhi);

/*
 * Normalised pointwise mutual information (Bouma 2009) of x and y from
 * counts of N events: pmi = ln(p(x,y) / (p(x) p(y))), npmi = pmi / -ln p(x,y),
 * in [-1, 1]. 1: x and y only ever occur together; 0: independent; -1:
 * never together. Conventions: n_xy = 0 gives -1; p(x,y) = 1 (every event
 * is x with y) gives 1. Inconsistent counts (n_total = 0, n_xy > n_x or
 * n_y, n_x or n_y > n_total) give 0 (no association claimed).
 */
double detstat_npmi(uint64_t n_xy, uint64_t n_x, uint64_t n_y, uint64_t n_total);

/* ---- Time windows ------------------------------------------------------ */

/*
 * Days are 24 hourly bins: a pair keeps 168 hour-of-week counters
 * (bounded memory) and findings report hours. The window search itself
 * takes up to 1440 bins, should per-minute days ever be kept.
 */

#define DETSTAT_DAY_BINS	24
#define DETSTAT_WEEK_BINS	168
#define DETSTAT_WEEKDAY_BINS	120 /* Monday to Friday: bins 0 .. 119 */
#define DETSTAT_WINDOW_MAX_BINS 1440 /* per-minute days, should they ever be kept */
#define DETSTAT_WINDOW_SHARE	0.9

/* A circular range of bins: start, start + 1, ..., start + len - 1 (mod nbins). */
struct detstat_window {
	unsigned int start; /* first bin (hour of day for 24 bins) */
	unsigned int len; /* bins; the range ends before (start + len) % nbins */
	uint64_t count; /* events inside */
	double share; /* count / total events */
};

/*
 * The shortest circular range of bins holding at least `share` (0 < share
 * <= 1) of the total: the smallest len for which some range of len bins
 * holds ceil(share * total) events (with a 1e-12 relative slack: 0.07 x 100 is
 * 7.000000000000001 in binary, and 7 of 100 must do). Among ranges of that length
 * the one holding most events wins, then the earliest start. Ranges wrap
 * (start 22, len 5 is 22:00-03:00). O(nbins^2), nbins <= 1440.
 * Returns 0; -ENODATA if all counts are 0; -EINVAL for bad arguments.
 */
int detstat_shortest_window(const uint64_t *counts, unsigned int nbins, double share,
			    struct detstat_window *w);

/* The hour of week (0 = Monday 00:00 UTC .. 167) of a timestamp. */
unsigned int detstat_utc_hour_of_week(uint64_t ts_ns);

/* day[h] = sum over the 7 days of week[d * 24 + h]. */
void detstat_week_to_day(const uint64_t week[DETSTAT_WEEK_BINS], uint64_t day[DETSTAT_DAY_BINS]);

/* detstat_shortest_window over the week projected to 24 hours. */
int detstat_week_window(const uint64_t week[DETSTAT_WEEK_BINS], double share,
			struct detstat_window *w);

/* Share of the week's events on Monday to Friday (bins 0 .. 119); 0 if empty. */
double detstat_weekday_share(const uint64_t week[DETSTAT_WEEK_BINS]);

/* ---- Time zones (tzdata through the C library) ------------------------- */

/*
 * Whether zone is a tzdata zone name ("Europe/Moscow"): a relative path
 * without "..", naming a TZif file under $TZDIR or /usr/share/zoneinfo.
 * glibc silently treats an unknown name as UTC, so this check is what
 * turns a typo into an error. Returns 0, -EINVAL (malformed name) or
 * -ENOENT (no such zone).
 */
int detstat_zone_check(const char *zone);

/*
 * Adds each timestamp to week[] at its local hour of week in zone, using
 * the zone's offset at that instant (so DST changes inside the period are
 * handled event by event). week[] is added to, not cleared.
 * Implemented with setenv("TZ") + tzset() + localtime_r, restoring the
 * previous TZ (set or unset) before returning. Not thread-safe: TZ and
 * the C library's zone state are process-wide. Acceptable because
 * dnssnoop's user side is one thread and nothing else formats local time
 * concurrently; a threaded caller must serialise calls.
 * Returns 0, detstat_zone_check()'s errors, or -ENOMEM.
 */
int detstat_local_week(const uint64_t *ts_ns, size_t n, const char *zone,
		       uint64_t week[DETSTAT_WEEK_BINS]);

/*
 * The zone's UTC offset (seconds east, tm_gmtoff) at one instant, for
 * display ("UTC-4") or to shift a histogram when only counts are kept.
 * Same TZ handling and errors as detstat_local_week.
 */
int detstat_zone_offset(const char *zone, uint64_t ts_ns, long *offset_s);

/* Whether every bin of a daily window (24 bins) lies in [start_hour, end_hour), 0 <= start < end
 * <= 24. */
bool detstat_window_inside(const struct detstat_window *w, unsigned int start_hour,
			   unsigned int end_hour);

/* Business hours rule; DETSTAT_BUSINESS_DEFAULT is 08:00-19:00, Monday-Friday. */
struct detstat_business {
	unsigned int start_hour, end_hour; /* [start, end), 0 <= start < end <= 24 */
	double window_share; /* daily window holding this share (0.9) */
	double min_weekday_share; /* Monday-Friday share needed (0.9) */
};

#define DETSTAT_BUSINESS_DEFAULT                                         \
	((struct detstat_business){.start_hour = 8,                      \
				   .end_hour = 19,                       \
				   .window_share = DETSTAT_WINDOW_SHARE, \
				   .min_weekday_share = 0.9})

struct detstat_business_result {
	struct detstat_window window; /* of the week projected to 24 hours */
	double weekday_share;
	bool window_inside; /* the window lies in business hours */
	bool business; /* window_inside and weekday_share >= min_weekday_share */
};

/*
 * Judges a (local-time) week histogram against a business hours rule.
 * Returns 0; -ENODATA for an empty week; -EINVAL for a bad rule.
 */
int detstat_business_hours(const uint64_t week[DETSTAT_WEEK_BINS],
			   const struct detstat_business *rule,
			   struct detstat_business_result *res);

/* ---- Periodicity (beacons) --------------------------------------------- */

#define DETSTAT_TS_MAX		     256 /* timestamps kept per pair */
#define DETSTAT_PERIODIC_MIN_LOOKUPS 8
#define DETSTAT_PERIODIC_SCORE	     0.8 /* reported at or above */
#define DETSTAT_HIST_BINS	     24
#define DETSTAT_BURST_NS	     1000000000ULL /* lookups closer than 1 s: one event */
#define DETSTAT_BOWLEY_MIN_IQR_S     10.0 /* RITA: narrower spreads have skew 0 */

struct detstat_periodic {
	double score; /* (skew_score + madm_score + hist_score) / 3 */
	double skew_score; /* 1 - |bowley| */
	double madm_score; /* max(0, 1 - madm / median) */
	double hist_score; /* detstat_hist_regularity over first .. last */
	double bowley; /* (Q1 + Q3 - 2 Q2) / (Q3 - Q1) of the intervals, or 0 */
	double median_s; /* median interval, seconds */
	double madm_s; /* median absolute deviation about the median, seconds */
	unsigned int events; /* lookups after merging those < 1 s apart */
};

/*
 * Beacon score of up to DETSTAT_TS_MAX timestamps (any order; a sorted
 * copy is used), after RITA's timestamp and histogram scores (activecm/rita
 * analysis/beacons.go):
 *  - lookups less than DETSTAT_BURST_NS after the previous one merge into
 *    one event (RITA drops its zero intervals of 1 s timestamps; an A and
 *    AAAA pair is one event); intervals are between event starts.
 *  - Bowley skewness of the intervals with quartiles as medians of the
 *    lower and upper halves (median excluded for odd counts, as RITA's
 *    stats library); 0 when Q3 - Q1 < 10 s or Q2 = Q1 or Q2 = Q3 (RITA).
 *    skew_score = 1 - |bowley|.
 *  - madm = median of |interval - median|; madm_score = max(0, 1 - madm /
 *    median) (RITA's (median - mad) / median).
 *  - hist_score = detstat_hist_regularity over the pair's own span, first
 *    to last event (RITA uses the dataset's span: a 3-day beacon in a
 *    6-week capture would fill 2 of 24 bins and score 0).
 *  - score = mean of the three (RITA's overall score also weighs data sizes
 *    and duration, which DNS lookups do not have); not rounded.
 * Few lookups say little: random (Poisson) arrivals score >= 0.8 in about
 * 9% of series of 8, 1.5% of 12, 0.3% of 16 and none of 1000 from 32 on
 * (measured with 1000 seeds), so at the minimum of 8 the support rules
 * carry most of the weight. A jittered (+-5%) beacon scores >= 0.98.
 * Returns 0 (scored); -ENODATA when n < min_lookups or fewer than 3
 * intervals remain (out->events is still set); -EINVAL for NULL or
 * n > DETSTAT_TS_MAX.
 */
int detstat_periodicity(const uint64_t *ts_ns, size_t n, size_t min_lookups,
			struct detstat_periodic *out);

/*
 * Regularity of the rate of events over [start_ns, end_ns): the events in
 * it (sorted or not) are counted in DETSTAT_HIST_BINS equal bins; with q =
 * events / bins, a perfectly even series puts floor(q) or ceil(q) events in
 * each bin, so each count's distance e_i to [floor(q), ceil(q)] is its
 * irregularity; cv = sqrt(mean e_i^2) / q is RITA's coefficient of
 * variation of the bin counts without the quantisation that 24 bins force
 * on a few hundred events; score = max(0, 1 - cv). 1 for an evenly spaced
 * series (the last event, at end_ns, is outside and closes the span).
 * 0 when no event falls in the range or end_ns <= start_ns.
 */
double detstat_hist_regularity(const uint64_t *ts_ns, size_t n, uint64_t start_ns, uint64_t end_ns);

/* ---- Client overlap of two targets (replacement) ----------------------- */

struct detstat_client_count {
	uint64_t id; /* a client, as the caller identifies it */
	uint64_t count; /* its lookups of the target */
};

struct detstat_overlap {
	double weighted_jaccard; /* sum_c min(share_old, share_new) / sum_c max(...) */
	double set_jaccard; /* |old n new| / |old u new| over clients, for comparison */
	double containment; /* share of new's lookups from clients of old */
};

/*
 * Client overlap of an old and a new target, from each target's client
 * counts (shares are count / total of that target). Weighted Jaccard
 * (Ioffe 2010) weighs each client by its share, so a long tail of one-off
 * clients of the old target barely moves it, while it sinks set Jaccard.
 * Sorts both arrays by id in place; a repeated id has its counts added;
 * zero counts are not clients. Returns 0; -ENODATA if either target has no
 * lookups (out all 0); -EINVAL for NULL arrays with n > 0.
 */
int detstat_client_overlap(struct detstat_client_count *old_t, size_t n_old,
			   struct detstat_client_count *new_t, size_t n_new,
			   struct detstat_overlap *out);

/* Weighted Jaccard sum min(a_i, b_i) / sum max(a_i, b_i) of aligned share vectors; 0 if all 0. */
double detstat_weighted_jaccard(const double *a, const double *b, size_t n);

#endif
