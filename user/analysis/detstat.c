// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Statistics of the detectors; see detstat.h for the formulas and their
 * references. Everything here is a function of its arguments, except the
 * time zone functions, which borrow the process-wide TZ for the length of
 * a call.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analysis/detstat.h"
#include "lib/units.h"

#define S_PER_HOUR    3600ULL
#define S_PER_DAY     86400ULL
#define EPOCH_WEEKDAY 3 /* 1970-01-01 was a Thursday: Monday = 0 */

double detstat_wilson_lower(uint64_t k, uint64_t n, double z)
{
	double nn, p, z2, centre, spread, lower;

	if (n == 0 || k > n)
		return 0;
	nn = (double)n;
	p = (double)k / nn;
	z2 = z * z;
	centre = p + z2 / (2 * nn);
	spread = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
	lower = (centre - spread) / (1 + z2 / nn);
	/* k = 0 cancels to 0 up to rounding; keep the bound a probability. */
	return fmin(fmax(lower, 0), 1);
}

double detstat_hhi(const uint64_t *counts, size_t n)
{
	double total = 0, sum = 0;

	if (!counts)
		return 0;
	for (size_t i = 0; i < n; i++)
		total += (double)counts[i];
	if (total <= 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		double share = (double)counts[i] / total;

		sum += share * share;
	}
	return sum;
}

double detstat_effective_count(double hhi)
{
	return hhi > 0 ? 1 / hhi : 0;
}

double detstat_npmi(uint64_t n_xy, uint64_t n_x, uint64_t n_y, uint64_t n_total)
{
	double ln_pxy, pmi, npmi;

	if (n_total == 0 || n_x > n_total || n_y > n_total || n_xy > n_x || n_xy > n_y)
		return 0;
	if (n_xy == 0)
		return -1;
	if (n_xy == n_total)
		return 1; /* then n_x = n_y = n_total too: pmi = 0 / -ln 1 = 0 */
	/* In logs of counts: exact for the equal counts of a perfect association. */
	ln_pxy = log((double)n_xy) - log((double)n_total);
	pmi = log((double)n_xy) + log((double)n_total) - log((double)n_x) - log((double)n_y);
	npmi = pmi / -ln_pxy;
	return fmin(fmax(npmi, -1), 1);
}

/* ---- Time windows ------------------------------------------------------ */

/* Events a window needs: ceil(share * total), forgiving binary rounding. */
static uint64_t events_needed(double share, uint64_t total)
{
	double x = share * (double)total;
	uint64_t need = (uint64_t)ceil(x - x * 1e-12);

	return need ? need : 1;
}

/* The best window of len bins: most events, then earliest start. */
static uint64_t best_window_of_len(const uint64_t *counts, unsigned int nbins, unsigned int len,
				   unsigned int *start)
{
	uint64_t sum = 0, best;

	for (unsigned int i = 0; i < len; i++)
		sum += counts[i];
	best = sum;
	*start = 0;
	for (unsigned int s = 1; s < nbins; s++) {
		sum += counts[(s + len - 1) % nbins];
		sum -= counts[s - 1];
		if (sum > best) {
			best = sum;
			*start = s;
		}
	}
	return best;
}

int detstat_shortest_window(const uint64_t *counts, unsigned int nbins, double share,
			    struct detstat_window *w)
{
	uint64_t total = 0, need;

	if (!counts || !w || nbins == 0 || nbins > DETSTAT_WINDOW_MAX_BINS || !(share > 0) ||
	    share > 1)
		return -EINVAL;
	for (unsigned int i = 0; i < nbins; i++)
		total += counts[i];
	if (total == 0)
		return -ENODATA;
	need = events_needed(share, total);
	for (unsigned int len = 1; len <= nbins; len++) {
		unsigned int start;
		uint64_t held = best_window_of_len(counts, nbins, len, &start);

		if (held >= need) {
			w->start = start;
			w->len = len;
			w->count = held;
			w->share = (double)held / (double)total;
			return 0;
		}
	}
	return -EINVAL; /* not reached: all bins hold total >= need */
}

unsigned int detstat_utc_hour_of_week(uint64_t ts_ns)
{
	uint64_t s = ts_ns / NS_PER_SEC;
	uint64_t weekday = (s / S_PER_DAY + EPOCH_WEEKDAY) % 7;

	return (unsigned int)(weekday * 24 + s % S_PER_DAY / S_PER_HOUR);
}

void detstat_week_to_day(const uint64_t week[DETSTAT_WEEK_BINS], uint64_t day[DETSTAT_DAY_BINS])
{
	for (unsigned int h = 0; h < DETSTAT_DAY_BINS; h++) {
		day[h] = 0;
		for (unsigned int d = 0; d < 7; d++)
			day[h] += week[d * DETSTAT_DAY_BINS + h];
	}
}

int detstat_week_window(const uint64_t week[DETSTAT_WEEK_BINS], double share,
			struct detstat_window *w)
{
	uint64_t day[DETSTAT_DAY_BINS];

	if (!week)
		return -EINVAL;
	detstat_week_to_day(week, day);
	return detstat_shortest_window(day, DETSTAT_DAY_BINS, share, w);
}

double detstat_weekday_share(const uint64_t week[DETSTAT_WEEK_BINS])
{
	uint64_t total = 0, weekdays = 0;

	if (!week)
		return 0;
	for (unsigned int i = 0; i < DETSTAT_WEEK_BINS; i++) {
		total += week[i];
		if (i < DETSTAT_WEEKDAY_BINS)
			weekdays += week[i];
	}
	return total ? (double)weekdays / (double)total : 0;
}

/* ---- Time zones -------------------------------------------------------- */

#define ZONE_NAME_MAX 255

int detstat_zone_check(const char *zone)
{
	const char *dir = getenv("TZDIR");
	char path[4096], magic[4];
	struct stat st;
	ssize_t got;
	int fd;

	if (!zone || !*zone || zone[0] == '/' || strlen(zone) > ZONE_NAME_MAX || strstr(zone, ".."))
		return -EINVAL;
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, zone) >= sizeof(path))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -ENOENT;
	/* A directory ("America") or any other file is not a zone. */
	got = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, magic, sizeof(magic)) : -1;
	close(fd);
	return got == (ssize_t)sizeof(magic) && memcmp(magic, "TZif", 4) == 0 ? 0 : -ENOENT;
}

struct saved_tz {
	char *value; /* the previous TZ (copied), or NULL when it was unset */
};

/* Switches the C library to zone; on success tz_restore() must follow. */
static int tz_switch(const char *zone, struct saved_tz *saved)
{
	const char *old = getenv("TZ");
	int err = detstat_zone_check(zone);

	if (err)
		return err;
	saved->value = NULL;
	if (old) {
		saved->value = strdup(old);
		if (!saved->value)
			return -ENOMEM;
	}
	if (setenv("TZ", zone, 1) != 0) {
		free(saved->value);
		return -ENOMEM;
	}
	/* localtime_r need not re-read TZ (glibc does not): make it. */
	tzset();
	return 0;
}

static void tz_restore(struct saved_tz *saved)
{
	if (saved->value)
		setenv("TZ", saved->value, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved->value);
	saved->value = NULL;
}

static int local_tm(uint64_t ts_ns, struct tm *tm)
{
	time_t t = (time_t)(ts_ns / NS_PER_SEC);

	return localtime_r(&t, tm) ? 0 : -EINVAL;
}

int detstat_local_week(const uint64_t *ts_ns, size_t n, const char *zone,
		       uint64_t week[DETSTAT_WEEK_BINS])
{
	struct saved_tz saved;
	int err;

	if ((!ts_ns && n) || !week)
		return -EINVAL;
	err = tz_switch(zone, &saved);
	if (err)
		return err;
	for (size_t i = 0; i < n && !err; i++) {
		struct tm tm;

		err = local_tm(ts_ns[i], &tm);
		if (!err)
			week[((tm.tm_wday + 6) % 7) * DETSTAT_DAY_BINS + tm.tm_hour]++;
	}
	tz_restore(&saved);
	return err;
}

int detstat_zone_offset(const char *zone, uint64_t ts_ns, long *offset_s)
{
	struct saved_tz saved;
	struct tm tm;
	int err;

	if (!offset_s)
		return -EINVAL;
	err = tz_switch(zone, &saved);
	if (err)
		return err;
	err = local_tm(ts_ns, &tm);
	if (!err)
		*offset_s = tm.tm_gmtoff;
	tz_restore(&saved);
	return err;
}

bool detstat_window_inside(const struct detstat_window *w, unsigned int start_hour,
			   unsigned int end_hour)
{
	if (!w || w->len == 0 || w->len > DETSTAT_DAY_BINS || w->start >= DETSTAT_DAY_BINS ||
	    start_hour >= end_hour || end_hour > DETSTAT_DAY_BINS)
		return false;
	for (unsigned int i = 0; i < w->len; i++) {
		unsigned int h = (w->start + i) % DETSTAT_DAY_BINS;

		if (h < start_hour || h >= end_hour)
			return false;
	}
	return true;
}

int detstat_business_hours(const uint64_t week[DETSTAT_WEEK_BINS],
			   const struct detstat_business *rule, struct detstat_business_result *res)
{
	int err;

	if (!week || !rule || !res || rule->start_hour >= rule->end_hour ||
	    rule->end_hour > DETSTAT_DAY_BINS)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	err = detstat_week_window(week, rule->window_share, &res->window);
	if (err)
		return err;
	res->weekday_share = detstat_weekday_share(week);
	res->window_inside = detstat_window_inside(&res->window, rule->start_hour, rule->end_hour);
	res->business = res->window_inside && res->weekday_share >= rule->min_weekday_share;
	return 0;
}

/* ---- Periodicity ------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of n >= 1 sorted values (mean of the middle two for even n). */
static double median_sorted(const double *v, size_t n)
{
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Bowley skewness of n >= 3 sorted values, with RITA's conditions for 0. */
static double bowley_sorted(const double *v, size_t n)
{
	double q1 = median_sorted(v, n / 2);
	double q2 = median_sorted(v, n);
	double q3 = median_sorted(v + (n + 1) / 2, n / 2);

	if (q3 - q1 < DETSTAT_BOWLEY_MIN_IQR_S || q2 == q1 || q2 == q3)
		return 0;
	return (q1 + q3 - 2 * q2) / (q3 - q1);
}

/* Median absolute deviation about the median m of n values. */
static double madm(const double *v, size_t n, double m)
{
	double dev[DETSTAT_TS_MAX];

	for (size_t i = 0; i < n; i++)
		dev[i] = fabs(v[i] - m);
	qsort(dev, n, sizeof(dev[0]), cmp_double);
	return median_sorted(dev, n);
}

/* Keeps the first lookup of each burst (< DETSTAT_BURST_NS apart); returns the events. */
static size_t merge_bursts(uint64_t *ts, size_t n)
{
	size_t events = 0;
	uint64_t prev = 0;

	for (size_t i = 0; i < n; i++) {
		/* Against the previous lookup, not the event start: a burst is one event. */
		if (i == 0 || ts[i] - prev >= DETSTAT_BURST_NS)
			ts[events++] = ts[i];
		prev = ts[i];
	}
	return events;
}

double detstat_hist_regularity(const uint64_t *ts_ns, size_t n, uint64_t start_ns, uint64_t end_ns)
{
	uint64_t bins[DETSTAT_HIST_BINS] = {0}, span = end_ns - start_ns, events = 0;
	double q, lo, hi, sq = 0, cv;

	if (!ts_ns || end_ns <= start_ns)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (ts_ns[i] < start_ns || ts_ns[i] >= end_ns)
			continue;
		/* 128 bits: offset x 24 overflows 64 for spans past 24 years. */
		bins[(unsigned __int128)(ts_ns[i] - start_ns) * DETSTAT_HIST_BINS / span]++;
		events++;
	}
	if (events == 0)
		return 0;
	q = (double)events / DETSTAT_HIST_BINS;
	lo = floor(q);
	hi = ceil(q);
	for (unsigned int i = 0; i < DETSTAT_HIST_BINS; i++) {
		double c = (double)bins[i];
		double e = c < lo ? lo - c : c > hi ? c - hi : 0;

		sq += e * e;
	}
	cv = sqrt(sq / DETSTAT_HIST_BINS) / q;
	return cv < 1 ? 1 - cv : 0;
}

int detstat_periodicity(const uint64_t *ts_ns, size_t n, size_t min_lookups,
			struct detstat_periodic *out)
{
	uint64_t ts[DETSTAT_TS_MAX];
	double iv[DETSTAT_TS_MAX];
	size_t events, m;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if ((!ts_ns && n) || n > DETSTAT_TS_MAX)
		return -EINVAL;
	if (n)
		memcpy(ts, ts_ns, n * sizeof(ts[0]));
	qsort(ts, n, sizeof(ts[0]), cmp_u64);
	events = merge_bursts(ts, n);
	out->events = (unsigned int)events;
	if (n < min_lookups || events < 4)
		return -ENODATA;
	m = events - 1;
	for (size_t i = 0; i < m; i++)
		iv[i] = (double)(ts[i + 1] - ts[i]) / NS_PER_SEC;
	qsort(iv, m, sizeof(iv[0]), cmp_double);

	out->bowley = bowley_sorted(iv, m);
	out->skew_score = 1 - fabs(out->bowley);
	out->median_s = median_sorted(iv, m);
	out->madm_s = madm(iv, m, out->median_s);
	/* Intervals are >= 1 s after merging, so the median is too (RITA: median >= 1). */
	out->madm_score = fmax(0, 1 - out->madm_s / out->median_s);
	out->hist_score = detstat_hist_regularity(ts, events, ts[0], ts[events - 1]);
	out->score = (out->skew_score + out->madm_score + out->hist_score) / 3;
	return 0;
}

/* ---- Client overlap ---------------------------------------------------- */

static int cmp_client(const void *a, const void *b)
{
	uint64_t x = ((const struct detstat_client_count *)a)->id;
	uint64_t y = ((const struct detstat_client_count *)b)->id;

	return (x > y) - (x < y);
}

static uint64_t total_count(const struct detstat_client_count *v, size_t n)
{
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += v[i].count;
	return total;
}

/* The next client of a sorted vector at *i: its id and summed count; false at the end. */
static bool next_client(const struct detstat_client_count *v, size_t n, size_t *i, uint64_t *id,
			uint64_t *count)
{
	while (*i < n) {
		*id = v[*i].id;
		*count = 0;
		while (*i < n && v[*i].id == *id)
			*count += v[(*i)++].count;
		if (*count)
			return true;
	}
	return false;
}

struct overlap_sums {
	double sum_min, sum_max;
	uint64_t both, either; /* clients in both / in either */
	uint64_t new_from_old; /* lookups of new by clients of old */
};

/* Accounts for one client with count a of old (total ta) and b of new (total tb). */
static void add_client(struct overlap_sums *s, uint64_t a, uint64_t ta, uint64_t b, uint64_t tb)
{
	double sa = (double)a / (double)ta, sb = (double)b / (double)tb;

	s->sum_min += fmin(sa, sb);
	s->sum_max += fmax(sa, sb);
	s->either++;
	if (a && b) {
		s->both++;
		s->new_from_old += b;
	}
}

int detstat_client_overlap(struct detstat_client_count *old_t, size_t n_old,
			   struct detstat_client_count *new_t, size_t n_new,
			   struct detstat_overlap *out)
{
	struct overlap_sums s = {0};
	uint64_t ta, tb, ida = 0, idb = 0, ca = 0, cb = 0;
	size_t i = 0, j = 0;
	bool more_a, more_b;

	if (!out || (!old_t && n_old) || (!new_t && n_new))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	ta = total_count(old_t, n_old);
	tb = total_count(new_t, n_new);
	if (ta == 0 || tb == 0)
		return -ENODATA;
	qsort(old_t, n_old, sizeof(*old_t), cmp_client);
	qsort(new_t, n_new, sizeof(*new_t), cmp_client);

	more_a = next_client(old_t, n_old, &i, &ida, &ca);
	more_b = next_client(new_t, n_new, &j, &idb, &cb);
	while (more_a || more_b) {
		if (more_a && (!more_b || ida < idb)) {
			add_client(&s, ca, ta, 0, tb);
			more_a = next_client(old_t, n_old, &i, &ida, &ca);
		} else if (more_b && (!more_a || idb < ida)) {
			add_client(&s, 0, ta, cb, tb);
			more_b = next_client(new_t, n_new, &j, &idb, &cb);
		} else {
			add_client(&s, ca, ta, cb, tb);
			more_a = next_client(old_t, n_old, &i, &ida, &ca);
			more_b = next_client(new_t, n_new, &j, &idb, &cb);
		}
	}
	out->weighted_jaccard = s.sum_max > 0 ? s.sum_min / s.sum_max : 0;
	out->set_jaccard = s.either ? (double)s.both / (double)s.either : 0;
	out->containment = (double)s.new_from_old / (double)tb;
	return 0;
}

double detstat_weighted_jaccard(const double *a, const double *b, size_t n)
{
	double sum_min = 0, sum_max = 0;

	if (!a || !b)
		return 0;
	for (size_t i = 0; i < n; i++) {
		/* Shares are not negative; a negative or NaN one counts as 0. */
		double x = a[i] > 0 ? a[i] : 0, y = b[i] > 0 ? b[i] : 0;

		sum_min += fmin(x, y);
		sum_max += fmax(x, y);
	}
	return sum_max > 0 ? sum_min / sum_max : 0;
}
