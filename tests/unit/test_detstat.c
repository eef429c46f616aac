// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for the detectors' statistics (user/analysis/detstat.c). Expected values
 * are worked out by hand in the comments, or (random series, marked "py")
 * with an independent Python implementation of the formulas in detstat.h
 * fed the same splitmix64 sequence; calendar facts come from Python's
 * zoneinfo (tzdata).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "analysis/detstat.h"

#define NS  1000000000ULL
#define EPS 1e-9

static void assert_near(double got, double want, double tol)
{
	if (fabs(got - want) > tol)
		fail_msg("got %.12f, want %.12f (+- %g)", got, want, tol);
}

/* splitmix64, so the Python check can replay the same series. */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double unit(uint64_t *x)
{
	return (double)(splitmix64(x) >> 11) * (1.0 / 9007199254740992.0);
}

/* n timestamps from t0, intervals period x (1 + jitter x U(-1, 1)) seconds. */
static void jittered(uint64_t *ts, size_t n, uint64_t seed, uint64_t t0, double period,
		     double jitter)
{
	ts[0] = t0;
	for (size_t i = 1; i < n; i++)
		ts[i] = ts[i - 1] + (uint64_t)(period * (1 + jitter * (2 * unit(&seed) - 1)) * 1e9);
}

/* n timestamps from t0 with exponential intervals of the given mean (a Poisson process). */
static void poisson(uint64_t *ts, size_t n, uint64_t seed, uint64_t t0, double mean)
{
	ts[0] = t0;
	for (size_t i = 1; i < n; i++)
		ts[i] = ts[i - 1] + (uint64_t)(-mean * log(1 - unit(&seed)) * 1e9);
}

/* ---- Wilson ------------------------------------------------------------ */

static void test_wilson(void **state)
{
	/*
	 * k = n: p = 1, the root is z/2n, so the bound is
	 * (1 + z^2/2n - z^2/2n) / (1 + z^2/n) = n / (n + z^2), z^2 = 3.841459.
	 * 3 of 3: 3 / 6.841459 = 0.438503; 16 of 16: 16 / 19.841459 = 0.806392.
	 */
	assert_near(detstat_wilson_lower(3, 3, DETSTAT_Z95), 0.438503, 1e-6);
	assert_near(detstat_wilson_lower(16, 16, DETSTAT_Z95), 0.806392, 1e-6);
	/*
	 * 80 of 100: p = 0.8; z^2/2n = 0.0192073;
	 * z sqrt(0.16/100 + 3.841459/40000) = 1.959964 x sqrt(0.0016960365)
	 * = 1.959964 x 0.0411830 = 0.0807172;
	 * (0.8 + 0.0192073 - 0.0807172) / (1 + 0.0384146) = 0.7384901 / 1.0384146
	 * = 0.711171 (py: 0.7111708336).
	 */
	assert_near(detstat_wilson_lower(80, 100, DETSTAT_Z95), 0.7111708336, 1e-9);
	/* 15 of 16 (one stray lookup) is below the 0.8 default: py 0.7167126220. */
	assert_near(detstat_wilson_lower(15, 16, DETSTAT_Z95), 0.7167126220, 1e-9);
	/* 0 of 10: p = 0, centre z^2/20 and spread z sqrt(z^2/400) = z^2/20 cancel. */
	assert_near(detstat_wilson_lower(0, 10, DETSTAT_Z95), 0, 1e-12);
	assert_true(detstat_wilson_lower(0, 10, DETSTAT_Z95) >= 0);
	/* No observations, or an impossible k: no evidence. */
	assert_true(detstat_wilson_lower(0, 0, DETSTAT_Z95) == 0);
	assert_true(detstat_wilson_lower(5, 4, DETSTAT_Z95) == 0);
	/* z = 0 is the raw share. */
	assert_near(detstat_wilson_lower(80, 100, 0), 0.8, 1e-12);
}

/*
 * k > n is no evidence (0) whatever z: with z = 3 the formula itself would
 * give 11 of 10 a bound of 0.65 (its root stays real), so only the check
 * of the counts keeps it at 0.
 */
static void test_wilson_impossible_counts(void **state)
{
	static const double zs[] = {DETSTAT_Z95, 3, 5};

	for (size_t i = 0; i < sizeof(zs) / sizeof(zs[0]); i++) {
		assert_true(detstat_wilson_lower(11, 10, zs[i]) == 0);
		assert_true(detstat_wilson_lower(20, 10, zs[i]) == 0);
		assert_true(detstat_wilson_lower(1, 0, zs[i]) == 0);
		assert_true(detstat_wilson_lower(10, 10, zs[i]) > 0);
	}
}

/* ---- HHI --------------------------------------------------------------- */

static void test_hhi(void **state)
{
	const uint64_t four[] = {1, 1, 1, 1}, skewed[] = {8, 1, 1}, one[] = {0, 7, 0};
	const uint64_t none[] = {0, 0};

	/* 4 x 0.25^2 = 0.25; 4 effective clients. */
	assert_near(detstat_hhi(four, 4), 0.25, EPS);
	assert_near(detstat_effective_count(detstat_hhi(four, 4)), 4, EPS);
	/* 0.8^2 + 0.1^2 + 0.1^2 = 0.64 + 0.01 + 0.01 = 0.66; 1 / 0.66 = 1.515152. */
	assert_near(detstat_hhi(skewed, 3), 0.66, EPS);
	assert_near(detstat_effective_count(0.66), 1.515152, 1e-6);
	/* One client with every lookup. */
	assert_near(detstat_hhi(one, 3), 1, EPS);
	/* Nothing counted: 0, and no division by zero. */
	assert_true(detstat_hhi(none, 2) == 0);
	assert_true(detstat_hhi(NULL, 3) == 0);
	assert_true(detstat_effective_count(0) == 0);
}

/* ---- NPMI -------------------------------------------------------------- */

static void test_npmi(void **state)
{
	/* Independent: p(x,y) = 10/100 = 0.5 x 0.2 = p(x) p(y): pmi = ln 1 = 0. */
	assert_near(detstat_npmi(10, 50, 20, 100), 0, 1e-12);
	/* Each only with the other: pmi = ln(0.25 / 0.0625) = ln 4 = -ln p(x,y). */
	assert_near(detstat_npmi(25, 25, 25, 100), 1, 1e-12);
	/* Never together. */
	assert_true(detstat_npmi(0, 50, 50, 100) == -1);
	/* Every event is x with y: p(x,y) = 1, defined as 1. */
	assert_true(detstat_npmi(100, 100, 100, 100) == 1);
	/*
	 * Partial: pmi = ln(0.04 / (0.1 x 0.05)) = ln 8 = 2.079442,
	 * -ln 0.04 = 3.218876, npmi = 0.646015.
	 */
	assert_near(detstat_npmi(40, 100, 50, 1000), 0.646015, 1e-6);
	/* Avoidance: pmi = ln(0.1 / 0.25) = -0.916291, -ln 0.1 = 2.302585: -0.397940. */
	assert_near(detstat_npmi(10, 50, 50, 100), -0.397940, 1e-6);
	/* Inconsistent counts claim nothing. */
	assert_true(detstat_npmi(5, 4, 10, 100) == 0);
	assert_true(detstat_npmi(5, 10, 10, 0) == 0);
	assert_true(detstat_npmi(5, 200, 10, 100) == 0);
}

/* ---- Windows ----------------------------------------------------------- */

static void test_window_business_day(void **state)
{
	uint64_t day[24] = {0};
	struct detstat_window w;

	/* 10 lookups in each hour 09..16: total 80, need 72; 7 hours hold 70. */
	for (int h = 9; h < 17; h++)
		day[h] = 10;
	assert_int_equal(detstat_shortest_window(day, 24, 0.9, &w), 0);
	assert_int_equal(w.start, 9);
	assert_int_equal(w.len, 8); /* 09:00-17:00 */
	assert_int_equal(w.count, 80);
	assert_near(w.share, 1, EPS);
}

static void test_window_wraps_midnight(void **state)
{
	uint64_t day[24] = {0};
	struct detstat_window w;

	/* 22, 23, 0, 1, 2: 10 each; 50 total, need 45, so all five hours: 22:00-03:00. */
	day[22] = day[23] = day[0] = day[1] = day[2] = 10;
	assert_int_equal(detstat_shortest_window(day, 24, 0.9, &w), 0);
	assert_int_equal(w.start, 22);
	assert_int_equal(w.len, 5);
	assert_int_equal((w.start + w.len) % 24, 3);
	assert_int_equal(w.count, 50);
}

static void test_window_uniform_day(void **state)
{
	uint64_t day[24];
	struct detstat_window w;

	/* 24 x 1: need ceil(0.9 x 24) = ceil(21.6) = 22; 21 hours hold 21 < 21.6. */
	for (int h = 0; h < 24; h++)
		day[h] = 1;
	assert_int_equal(detstat_shortest_window(day, 24, 0.9, &w), 0);
	assert_int_equal(w.len, 22);
	assert_int_equal(w.start, 0); /* every start ties: the earliest */
	assert_int_equal(w.count, 22);
	assert_near(w.share, 22.0 / 24, EPS); /* 0.916667 */
	/* 24 x 10: need 216; 21 hours hold 210, 22 hold 220. */
	for (int h = 0; h < 24; h++)
		day[h] = 10;
	assert_int_equal(detstat_shortest_window(day, 24, 0.9, &w), 0);
	assert_int_equal(w.len, 22);
	assert_int_equal(w.count, 220);
}

static void test_window_ties(void **state)
{
	uint64_t day[24] = {0};
	struct detstat_window w;

	/* 02-04 and 14-16 both hold 20 of 40 (need 20): the earliest start wins. */
	day[2] = day[3] = day[14] = day[15] = 10;
	assert_int_equal(detstat_shortest_window(day, 24, 0.5, &w), 0);
	assert_int_equal(w.start, 2);
	assert_int_equal(w.len, 2);
	/* 23-01 and 11-13 hold 10 each: start 11 comes before 23. */
	memset(day, 0, sizeof(day));
	day[23] = day[0] = day[11] = day[12] = 5;
	assert_int_equal(detstat_shortest_window(day, 24, 0.5, &w), 0);
	assert_int_equal(w.start, 11);
	assert_int_equal(w.len, 2);
	/*
	 * Same length, different counts: 02-04 holds 20, 14-16 holds 21 of 41;
	 * need ceil(0.45 x 41) = ceil(18.45) = 19, both qualify, the fuller wins.
	 */
	memset(day, 0, sizeof(day));
	day[2] = day[3] = day[14] = 10;
	day[15] = 11;
	assert_int_equal(detstat_shortest_window(day, 24, 0.45, &w), 0);
	assert_int_equal(w.start, 14);
	assert_int_equal(w.count, 21);
}

static void test_window_edges(void **state)
{
	uint64_t day[24] = {0}, minutes[1440] = {0};
	struct detstat_window w;

	/* 9 of 10 in one hour is exactly 0.9: one hour. */
	day[5] = 9;
	day[20] = 1;
	assert_int_equal(detstat_shortest_window(day, 24, 0.9, &w), 0);
	assert_int_equal(w.start, 5);
	assert_int_equal(w.len, 1);
	assert_near(w.share, 0.9, EPS);
	/*
	 * 0.07 x 100 is 7.000000000000001 in binary, yet 7 of 100 is enough:
	 * hour 3 holds 7, the other 23 hours 4 each and hour 10 one more.
	 */
	for (int h = 0; h < 24; h++)
		day[h] = 4;
	day[3] = 7;
	day[10] = 5;
	assert_int_equal(detstat_shortest_window(day, 24, 0.07, &w), 0);
	assert_int_equal(w.start, 3);
	assert_int_equal(w.len, 1);
	assert_near(w.share, 0.07, EPS);
	/* Share 1: 03 and 09..16 -> 03:00-17:00 (14 h) beats 09:00-04:00 (19 h). */
	memset(day, 0, sizeof(day));
	for (int h = 9; h < 17; h++)
		day[h] = 10;
	day[3] = 1;
	assert_int_equal(detstat_shortest_window(day, 24, 1.0, &w), 0);
	assert_int_equal(w.start, 3);
	assert_int_equal(w.len, 14);
	/* Per-minute bins: minutes 23:50 .. 00:09 (20 minutes) across midnight. */
	for (int m = 0; m < 10; m++)
		minutes[m] = minutes[1430 + m] = 1;
	assert_int_equal(detstat_shortest_window(minutes, 1440, 0.9, &w), 0);
	assert_int_equal(w.len, 18); /* need ceil(18) = 18 of 20 */
	assert_int_equal(w.start, 1430);
	/* Errors. */
	memset(day, 0, sizeof(day));
	assert_int_equal(detstat_shortest_window(day, 24, 0.9, &w), -ENODATA);
	day[1] = 1;
	assert_int_equal(detstat_shortest_window(day, 24, 0, &w), -EINVAL);
	assert_int_equal(detstat_shortest_window(day, 24, 1.5, &w), -EINVAL);
	assert_int_equal(detstat_shortest_window(day, 24, NAN, &w), -EINVAL);
	assert_int_equal(detstat_shortest_window(day, 0, 0.9, &w), -EINVAL);
	assert_int_equal(detstat_shortest_window(minutes, 1441, 0.9, &w), -EINVAL);
	assert_int_equal(detstat_shortest_window(NULL, 24, 0.9, &w), -EINVAL);
	assert_int_equal(detstat_shortest_window(day, 24, 0.9, NULL), -EINVAL);
}

/* Timestamps (UTC) from Python: datetime(...).replace(tzinfo=utc).timestamp(). */
#define SAT_0307_1400 1772892000ULL /* Sat 2026-03-07 14:00 */
#define SUN_0308_0630 1772951400ULL /* Sun 2026-03-08 06:30 (01:30 EST) */
#define SUN_0308_0730 1772955000ULL /* Sun 2026-03-08 07:30 (03:30 EDT) */
#define SUN_0308_2100 1773003600ULL /* Sun 2026-03-08 21:00 */
#define MON_0309_0200 1773021600ULL /* Mon 2026-03-09 02:00 */
#define MON_0309_1400 1773064800ULL /* Mon 2026-03-09 14:00 */
#define MON_0309_2230 1773095400ULL /* Mon 2026-03-09 22:30 */
#define MON_0105_1200 1767614400ULL /* Mon 2026-01-05 12:00 */
#define MON_0706_1200 1783339200ULL /* Mon 2026-07-06 12:00 */
#define MON_0202_0000 1769990400ULL /* Mon 2026-02-02 00:00 */

static void test_utc_hour_of_week(void **state)
{
	/* The epoch was a Thursday: day 3, hour 0. */
	assert_int_equal(detstat_utc_hour_of_week(0), 72);
	/* Saturday (day 5) 14:00: 5 x 24 + 14 = 134. */
	assert_int_equal(detstat_utc_hour_of_week(SAT_0307_1400 * NS), 134);
	/* Sunday 21:00: 6 x 24 + 21 = 165; Monday 02:00: 2; 22:30 -> hour 22. */
	assert_int_equal(detstat_utc_hour_of_week(SUN_0308_2100 * NS), 165);
	assert_int_equal(detstat_utc_hour_of_week(MON_0309_0200 * NS), 2);
	assert_int_equal(detstat_utc_hour_of_week(MON_0309_2230 * NS + 999999999), 22);
	assert_int_equal(detstat_utc_hour_of_week(MON_0202_0000 * NS), 0);
	assert_int_equal(detstat_utc_hour_of_week(MON_0202_0000 * NS - 1), 167);
}

static void test_week_projection_and_weekdays(void **state)
{
	uint64_t week[168] = {0}, day[24];
	struct detstat_window w;

	week[0 * 24 + 10] = 3; /* Monday 10:00 */
	week[4 * 24 + 16] = 2; /* Friday 16:00 */
	week[5 * 24 + 11] = 1; /* Saturday 11:00 */
	detstat_week_to_day(week, day);
	assert_int_equal(day[10], 3);
	assert_int_equal(day[16], 2);
	assert_int_equal(day[11], 1);
	assert_int_equal(day[0] + day[12] + day[23], 0);
	/* 5 of 6 on Monday-Friday. */
	assert_near(detstat_weekday_share(week), 5.0 / 6, EPS);
	/* 0.9 x 6 = 5.4: all 6 needed, hours 10 .. 16 = 7 hours. */
	assert_int_equal(detstat_week_window(week, 0.9, &w), 0);
	assert_int_equal(w.start, 10);
	assert_int_equal(w.len, 7);
	/* Friday 23:00 is a weekday, Sunday 23:00 is not, Monday 00:00 is. */
	memset(week, 0, sizeof(week));
	week[119] = week[167] = week[0] = 1;
	assert_near(detstat_weekday_share(week), 2.0 / 3, EPS);
	memset(week, 0, sizeof(week));
	assert_true(detstat_weekday_share(week) == 0);
	assert_int_equal(detstat_week_window(week, 0.9, &w), -ENODATA);
}

/* ---- Time zones -------------------------------------------------------- */

static void test_local_week_new_york_dst(void **state)
{
	/* Around the 2026-03-08 change: 02:00 EST (07:00 UTC) becomes 03:00 EDT. */
	const uint64_t ts[] = {
		SAT_0307_1400 * NS, /* Sat 09:00 EST (-5): 5 x 24 + 9 = 129 */
		SUN_0308_0630 * NS, /* Sun 01:30 EST: 6 x 24 + 1 = 145 */
		SUN_0308_0730 * NS, /* Sun 03:30 EDT (-4): 147; with -5 it would be 146 */
		MON_0309_0200 * NS, /* Sun 22:00 EDT, the previous local week day: 166 */
		MON_0309_1400 * NS, /* Mon 10:00 EDT: 10 */
	};
	uint64_t week[168] = {0};

	assert_int_equal(detstat_local_week(ts, 5, "America/New_York", week), 0);
	assert_int_equal(week[129], 1);
	assert_int_equal(week[145], 1);
	assert_int_equal(week[147], 1);
	assert_int_equal(week[166], 1);
	assert_int_equal(week[10], 1);
	assert_int_equal(week[146] + week[134] + week[14] + week[2], 0);
	/* Added to, not cleared. */
	assert_int_equal(detstat_local_week(ts, 1, "America/New_York", week), 0);
	assert_int_equal(week[129], 2);
}

static void test_local_week_moscow(void **state)
{
	const uint64_t ts[] = {
		SUN_0308_2100 * NS, /* Mon 00:00 MSK (+3): bin 0 */
		MON_0309_2230 * NS, /* Tue 01:30 MSK: 24 + 1 = 25 */
		SAT_0307_1400 * NS, /* Sat 17:00 MSK: 5 x 24 + 17 = 137 */
	};
	uint64_t week[168] = {0};
	uint64_t sum = 0;

	assert_int_equal(detstat_local_week(ts, 3, "Europe/Moscow", week), 0);
	assert_int_equal(week[0], 1);
	assert_int_equal(week[25], 1);
	assert_int_equal(week[137], 1);
	for (int i = 0; i < 168; i++)
		sum += week[i];
	assert_int_equal(sum, 3);
}

static void test_zone_offset(void **state)
{
	long off = 0;

	assert_int_equal(detstat_zone_offset("America/New_York", MON_0105_1200 * NS, &off), 0);
	assert_int_equal(off, -5 * 3600); /* EST in January */
	assert_int_equal(detstat_zone_offset("America/New_York", MON_0706_1200 * NS, &off), 0);
	assert_int_equal(off, -4 * 3600); /* EDT in July */
	assert_int_equal(detstat_zone_offset("Europe/Moscow", MON_0706_1200 * NS, &off), 0);
	assert_int_equal(off, 3 * 3600); /* no DST since 2014 */
	assert_int_equal(detstat_zone_offset("Europe/Moscow", MON_0105_1200 * NS, &off), 0);
	assert_int_equal(off, 3 * 3600);
	assert_int_equal(detstat_zone_offset("UTC", MON_0105_1200 * NS, &off), 0);
	assert_int_equal(off, 0);
}

static void test_unknown_zone(void **state)
{
	const uint64_t ts[] = {MON_0309_1400 * NS};
	uint64_t week[168] = {0};
	struct tm tm;
	time_t t = (time_t)MON_0309_1400;
	long off = 7;

	/* Why the check exists: glibc takes an unknown name as UTC, silently. */
	setenv("TZ", "Mars/Olympus_Mons", 1);
	tzset();
	assert_non_null(localtime_r(&t, &tm));
	assert_int_equal(tm.tm_hour, 14);
	unsetenv("TZ");
	tzset();

	assert_int_equal(detstat_zone_check("Europe/Moscow"), 0);
	assert_int_equal(detstat_local_week(ts, 1, "Mars/Olympus_Mons", week), -ENOENT);
	assert_int_equal(detstat_local_week(ts, 1, "America", week), -ENOENT); /* a directory */
	assert_int_equal(detstat_local_week(ts, 1, "Europe/Moskva", week), -ENOENT);
	assert_int_equal(detstat_local_week(ts, 1, "../../../etc/passwd", week), -EINVAL);
	assert_int_equal(detstat_local_week(ts, 1, "/usr/share/zoneinfo/UTC", week), -EINVAL);
	assert_int_equal(detstat_local_week(ts, 1, "", week), -EINVAL);
	assert_int_equal(detstat_local_week(ts, 1, NULL, week), -EINVAL);
	assert_int_equal(detstat_zone_offset("Nowhere/Atlantis", 0, &off), -ENOENT);
	assert_int_equal(off, 7);
	for (int i = 0; i < 168; i++)
		assert_int_equal(week[i], 0);
	assert_null(getenv("TZ"));
}

static void test_tz_restored(void **state)
{
	const uint64_t ts[] = {MON_0309_1400 * NS};
	uint64_t week[168] = {0};
	time_t t = (time_t)MON_0309_1400;
	struct tm tm;

	/* A TZ that was set comes back, and is in effect (Tokyo, UTC+9: 23:00). */
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	assert_int_equal(detstat_local_week(ts, 1, "America/New_York", week), 0);
	assert_string_equal(getenv("TZ"), "Asia/Tokyo");
	assert_non_null(localtime_r(&t, &tm));
	assert_int_equal(tm.tm_hour, 23);
	/* Also after an error. */
	assert_int_equal(detstat_local_week(ts, 1, "Mars/Olympus_Mons", week), -ENOENT);
	assert_string_equal(getenv("TZ"), "Asia/Tokyo");
	/* An unset TZ stays unset. */
	unsetenv("TZ");
	tzset();
	assert_int_equal(detstat_local_week(ts, 1, "Europe/Moscow", week), 0);
	assert_null(getenv("TZ"));
	assert_int_equal(week[10], 1); /* New York: Mon 10:00 */
	assert_int_equal(week[17], 1); /* Moscow: Mon 17:00 */
}

/* ---- Business hours ---------------------------------------------------- */

static void test_window_inside(void **state)
{
	struct detstat_window w = {.start = 9, .len = 8}; /* 09:00-17:00 */

	assert_true(detstat_window_inside(&w, 8, 19));
	w = (struct detstat_window){.start = 8, .len = 11}; /* 08:00-19:00 exactly */
	assert_true(detstat_window_inside(&w, 8, 19));
	w.len = 12; /* 08:00-20:00 */
	assert_false(detstat_window_inside(&w, 8, 19));
	w = (struct detstat_window){.start = 7, .len = 5}; /* 07:00-12:00 */
	assert_false(detstat_window_inside(&w, 8, 19));
	w = (struct detstat_window){.start = 22, .len = 5}; /* 22:00-03:00 */
	assert_false(detstat_window_inside(&w, 8, 19));
	assert_true(detstat_window_inside(&w, 0, 24));
	/* Bad ranges are never "inside". */
	assert_false(detstat_window_inside(&w, 19, 8));
	assert_false(detstat_window_inside(&w, 8, 25));
	w.len = 0;
	assert_false(detstat_window_inside(&w, 0, 24));
}

static void test_business_hours(void **state)
{
	const struct detstat_business rule = DETSTAT_BUSINESS_DEFAULT;
	struct detstat_business rule_bad = rule;
	struct detstat_business_result res;
	uint64_t week[168] = {0};

	/* Monday-Friday, 10 lookups an hour 09..16: window 09-17, weekdays 100%. */
	for (int d = 0; d < 5; d++)
		for (int h = 9; h < 17; h++)
			week[d * 24 + h] = 10;
	assert_int_equal(detstat_business_hours(week, &rule, &res), 0);
	assert_int_equal(res.window.start, 9);
	assert_int_equal(res.window.len, 8);
	assert_near(res.weekday_share, 1, EPS);
	assert_true(res.window_inside);
	assert_true(res.business);
	/* Same hours plus Saturday 10..13 x 100: 400 of 800 on a weekend day. */
	for (int h = 10; h < 14; h++)
		week[5 * 24 + h] = 100;
	assert_int_equal(detstat_business_hours(week, &rule, &res), 0);
	assert_near(res.weekday_share, 0.5, EPS);
	assert_true(res.window_inside);
	assert_false(res.business);
	/* Night owls: Monday-Friday 22:00-03:00. */
	memset(week, 0, sizeof(week));
	for (int d = 0; d < 5; d++)
		week[d * 24 + 22] = week[d * 24 + 23] = week[d * 24 + 1] = 4;
	assert_int_equal(detstat_business_hours(week, &rule, &res), 0);
	assert_int_equal(res.window.start, 22);
	assert_int_equal(res.window.len, 4);
	assert_false(res.window_inside);
	assert_false(res.business);
	/* Errors. */
	rule_bad.start_hour = 19;
	rule_bad.end_hour = 8;
	assert_int_equal(detstat_business_hours(week, &rule_bad, &res), -EINVAL);
	memset(week, 0, sizeof(week));
	assert_int_equal(detstat_business_hours(week, &rule, &res), -ENODATA);
}

/*
 * End to end: lookups on weekdays 14:00-21:00 UTC in March 2026 after the
 * US change (EDT, -4) are 10:00-17:00 in New York, business hours there;
 * in Moscow (+3) they are 17:00-00:00, not.
 */
static void test_business_hours_in_zones(void **state)
{
	const struct detstat_business rule = DETSTAT_BUSINESS_DEFAULT;
	struct detstat_business_result res;
	uint64_t ts[5 * 7], ny[168] = {0}, msk[168] = {0};
	size_t n = 0;

	for (int d = 0; d < 5; d++)
		for (int h = 14; h < 21; h++)
			ts[n++] = (MON_0309_1400 + (uint64_t)d * 86400 + (uint64_t)(h - 14) * 3600 +
				   1800) *
				  NS;
	assert_int_equal(detstat_local_week(ts, n, "America/New_York", ny), 0);
	assert_int_equal(detstat_business_hours(ny, &rule, &res), 0);
	assert_int_equal(res.window.start, 10);
	assert_int_equal(res.window.len, 7);
	assert_true(res.business);
	assert_int_equal(detstat_local_week(ts, n, "Europe/Moscow", msk), 0);
	assert_int_equal(detstat_business_hours(msk, &rule, &res), 0);
	assert_int_equal(res.window.start, 17);
	assert_int_equal(res.window.len, 7);
	assert_false(res.window_inside);
	assert_false(res.business);
}

/* ---- Periodicity ------------------------------------------------------- */

static void test_periodic_perfect(void **state)
{
	uint64_t ts[256];
	struct detstat_periodic p;

	/*
	 * 256 lookups 60 s apart: intervals all 60, so Q1 = Q2 = Q3 (skew 0,
	 * score 1) and madm 0 (score 1); 255 events in [first, last) in 24 bins
	 * (q = 10.625) hold 10 or 11 each: no excess, hist score 1.
	 */
	for (int i = 0; i < 256; i++)
		ts[i] = MON_0309_1400 * NS + (uint64_t)i * 60 * NS;
	assert_int_equal(detstat_periodicity(ts, 256, DETSTAT_PERIODIC_MIN_LOOKUPS, &p), 0);
	assert_near(p.score, 1, EPS);
	assert_near(p.skew_score, 1, EPS);
	assert_near(p.madm_score, 1, EPS);
	assert_near(p.hist_score, 1, EPS);
	assert_near(p.median_s, 60, EPS);
	assert_int_equal(p.events, 256);
	/* Also with the minimum of 8 (q = 7/24: counts 0 or 1 are all even). */
	assert_int_equal(detstat_periodicity(ts, 8, DETSTAT_PERIODIC_MIN_LOOKUPS, &p), 0);
	assert_near(p.score, 1, EPS);
}

static void test_periodic_hand_computed(void **state)
{
	/*
	 * Intervals 60 50 90 60 55 80 60 65 s: t = 0 60 110 200 260 315 395 455 520.
	 * Sorted: 50 55 60 60 | 60 65 80 90. Q1 = (55+60)/2 = 57.5,
	 * Q2 = 60, Q3 = (65+80)/2 = 72.5; IQR 15 >= 10, Q2 != Q1, Q3:
	 * bowley = (57.5 + 72.5 - 120) / 15 = 2/3, skew score 1/3.
	 * |d - 60| = 10 5 0 0 0 5 20 30 -> 0 0 0 5 5 10 20 30, madm = 5,
	 * madm score 1 - 5/60 = 0.916667.
	 * 8 events in [0, 520) in bins of 21.67 s: t x 24 / 520 = 0 2 5 9 12 14
	 * 18 21, all different, q = 1/3, counts 0..1: hist score 1.
	 * score = (0.333333 + 0.916667 + 1) / 3 = 0.75 (py: 0.75).
	 */
	const uint64_t d[] = {60, 50, 90, 60, 55, 80, 60, 65};
	uint64_t ts[9];
	struct detstat_periodic p;

	ts[0] = MON_0309_1400 * NS;
	for (int i = 0; i < 8; i++)
		ts[i + 1] = ts[i] + d[i] * NS;
	assert_int_equal(detstat_periodicity(ts, 9, DETSTAT_PERIODIC_MIN_LOOKUPS, &p), 0);
	assert_near(p.bowley, 2.0 / 3, EPS);
	assert_near(p.skew_score, 1.0 / 3, EPS);
	assert_near(p.median_s, 60, EPS);
	assert_near(p.madm_s, 5, EPS);
	assert_near(p.madm_score, 1 - 5.0 / 60, EPS);
	assert_near(p.hist_score, 1, EPS);
	assert_near(p.score, 0.75, EPS);
	assert_false(p.score >= DETSTAT_PERIODIC_SCORE);
}

static void test_periodic_narrow_iqr_is_symmetric(void **state)
{
	/*
	 * Intervals 58 59 60 61 67 s (odd count: Q1 = median(58, 59) = 58.5,
	 * Q3 = median(61, 67) = 64): skewed, but IQR 5.5 < 10 s, so RITA's rule
	 * sets the skew to 0. madm: |d - 60| = 2 1 0 1 7 -> 1, score 59/60.
	 */
	const uint64_t d[] = {60, 58, 67, 59, 61};
	uint64_t ts[6];
	struct detstat_periodic p;

	ts[0] = MON_0309_1400 * NS;
	for (int i = 0; i < 5; i++)
		ts[i + 1] = ts[i] + d[i] * NS;
	assert_int_equal(detstat_periodicity(ts, 6, 6, &p), 0);
	assert_true(p.bowley == 0);
	assert_near(p.skew_score, 1, EPS);
	assert_near(p.madm_s, 1, EPS);
	assert_near(p.madm_score, 59.0 / 60, EPS);
}

static void test_periodic_jitter(void **state)
{
	uint64_t ts[256];
	struct detstat_periodic p;

	/*
	 * 60 s +- 5% uniform (seed 1). py: IQR < 10 s so skew 0 (score 1),
	 * median 59.843397 s, madm 1.511390 s (score 0.974744), hist 1,
	 * score 0.991581.
	 */
	jittered(ts, 256, 1, MON_0309_1400 * NS, 60, 0.05);
	assert_int_equal(detstat_periodicity(ts, 256, DETSTAT_PERIODIC_MIN_LOOKUPS, &p), 0);
	assert_near(p.median_s, 59.843396806, 1e-6);
	assert_near(p.madm_s, 1.511389867, 1e-6);
	assert_near(p.hist_score, 1, EPS);
	assert_near(p.score, 0.9915814167, 1e-6);
	assert_true(p.score >= DETSTAT_PERIODIC_SCORE);
	/* Over many seeds and lengths it stays a beacon (py: min 0.9866 over 200 seeds). */
	for (uint64_t seed = 1; seed <= 50; seed++) {
		for (size_t n = 8; n <= 256; n *= 2) {
			jittered(ts, n, seed, MON_0309_1400 * NS, 60, 0.05);
			assert_int_equal(detstat_periodicity(ts, n, 8, &p), 0);
			assert_true(p.score >= 0.95);
		}
	}
}

static void test_periodic_poisson(void **state)
{
	uint64_t ts[256];
	struct detstat_periodic p;

	/*
	 * Exponential intervals, mean 60 s (seed 7), 256 lookups, 3 pairs < 1 s
	 * apart merge. py: events 253, bowley 0.297709 (skew score 0.702291),
	 * median 42.387805 s, madm 25.085440 s (score 0.408192), hist 0.723700,
	 * score 0.611394. (For an exponential law: Bowley = ln(4/3)/ln 3 = 0.26,
	 * madm / median = 0.69.)
	 */
	poisson(ts, 256, 7, MON_0309_1400 * NS, 60);
	assert_int_equal(detstat_periodicity(ts, 256, DETSTAT_PERIODIC_MIN_LOOKUPS, &p), 0);
	assert_int_equal(p.events, 253);
	assert_near(p.bowley, 0.2977093353, 1e-6);
	assert_near(p.median_s, 42.3878048455, 1e-6);
	assert_near(p.madm_s, 25.0854395245, 1e-6);
	assert_near(p.hist_score, 0.7237000764, 1e-6);
	assert_near(p.score, 0.6113942666, 1e-6);
	assert_true(p.score < DETSTAT_PERIODIC_SCORE);
	/* 64 lookups, py: score 0.472631. */
	poisson(ts, 64, 7, MON_0309_1400 * NS, 60);
	assert_int_equal(detstat_periodicity(ts, 64, DETSTAT_PERIODIC_MIN_LOOKUPS, &p), 0);
	assert_near(p.score, 0.4726310904, 1e-6);
	/*
	 * From 32 lookups on, no seed of 100 reaches 0.8 (py: max 0.70 over
	 * 200 seeds). Fewer lookups leave chance more room (py, 1000 seeds:
	 * 9% of random series of 8 score >= 0.8, 1.5% of 12, 0.3% of 16).
	 */
	for (uint64_t seed = 1; seed <= 100; seed++) {
		for (size_t n = 32; n <= 256; n *= 2) {
			poisson(ts, n, seed, MON_0309_1400 * NS, 60);
			assert_int_equal(detstat_periodicity(ts, n, 8, &p), 0);
			assert_true(p.score < DETSTAT_PERIODIC_SCORE);
		}
	}
}

static void test_periodic_own_span(void **state)
{
	const uint64_t cap_start = MON_0202_0000 * NS, cap_end = cap_start + 42 * 86400 * NS;
	uint64_t ts[216];
	struct detstat_periodic p;

	/*
	 * A six-week capture; a 20-minute beacon (+- 5%, seed 3) runs for 216
	 * lookups (2.98 days) from day 20. Over its own span it is regular
	 * (py: hist 0.967776, score 0.971009); over the capture, 24 bins of
	 * 1.75 days, it fills 3 (72, 127, 17; q = 9), cv > 1: 0.
	 */
	jittered(ts, 216, 3, cap_start + 20 * 86400 * NS, 1200, 0.05);
	assert_int_equal(detstat_periodicity(ts, 216, DETSTAT_PERIODIC_MIN_LOOKUPS, &p), 0);
	assert_near(p.hist_score, 0.9677757989, 1e-6);
	assert_near(p.score, 0.9710085688, 1e-6);
	assert_true(p.score >= DETSTAT_PERIODIC_SCORE);
	assert_true(detstat_hist_regularity(ts, 216, cap_start, cap_end) == 0);
}

static void test_periodic_not_scored(void **state)
{
	uint64_t ts[257], rev[256];
	struct detstat_periodic p, q;

	for (int i = 0; i < 257; i++)
		ts[i] = MON_0309_1400 * NS + (uint64_t)i * 60 * NS;
	/* 7 lookups: below the minimum of 8. */
	assert_int_equal(detstat_periodicity(ts, 7, DETSTAT_PERIODIC_MIN_LOOKUPS, &p), -ENODATA);
	assert_int_equal(p.events, 7);
	/* 10 lookups in one burst (0.1 s apart) are one event. */
	for (int i = 0; i < 10; i++)
		rev[i] = MON_0309_1400 * NS + (uint64_t)i * (NS / 10);
	assert_int_equal(detstat_periodicity(rev, 10, DETSTAT_PERIODIC_MIN_LOOKUPS, &p), -ENODATA);
	assert_int_equal(p.events, 1);
	/* All at the same instant. */
	for (int i = 0; i < 10; i++)
		rev[i] = MON_0309_1400 * NS;
	assert_int_equal(detstat_periodicity(rev, 10, DETSTAT_PERIODIC_MIN_LOOKUPS, &p), -ENODATA);
	/* Bad arguments. */
	assert_int_equal(detstat_periodicity(ts, 257, DETSTAT_PERIODIC_MIN_LOOKUPS, &p), -EINVAL);
	assert_int_equal(detstat_periodicity(NULL, 8, DETSTAT_PERIODIC_MIN_LOOKUPS, &p), -EINVAL);
	assert_int_equal(detstat_periodicity(ts, 8, DETSTAT_PERIODIC_MIN_LOOKUPS, NULL), -EINVAL);
	assert_int_equal(detstat_periodicity(NULL, 0, DETSTAT_PERIODIC_MIN_LOOKUPS, &p), -ENODATA);
	/* Order does not matter: reversed input scores the same. */
	for (int i = 0; i < 256; i++)
		rev[i] = ts[255 - i];
	assert_int_equal(detstat_periodicity(ts, 256, 8, &p), 0);
	assert_int_equal(detstat_periodicity(rev, 256, 8, &q), 0);
	assert_true(p.score == q.score && p.median_s == q.median_s);
}

static void test_periodic_bursts(void **state)
{
	uint64_t ts[64];
	struct detstat_periodic p;

	/*
	 * A and AAAA 10 ms apart every 60 s: 32 events of 2 lookups. Merged,
	 * it is a perfect beacon; unmerged, intervals would alternate 0.01 s
	 * and 59.99 s (median 30 s, madm 30 s: madm score 0).
	 */
	for (int i = 0; i < 32; i++) {
		ts[2 * i] = MON_0309_1400 * NS + (uint64_t)i * 60 * NS;
		ts[2 * i + 1] = ts[2 * i] + NS / 100;
	}
	assert_int_equal(detstat_periodicity(ts, 64, DETSTAT_PERIODIC_MIN_LOOKUPS, &p), 0);
	assert_int_equal(p.events, 32);
	assert_near(p.median_s, 60, EPS);
	assert_near(p.score, 1, EPS);
}

/*
 * The burst bound exactly: lookups DETSTAT_BURST_NS apart are separate
 * events, 1 ns closer they merge into one.
 */
static void test_burst_bound_exact(void **state)
{
	uint64_t ts[10];
	struct detstat_periodic p;

	for (int i = 0; i < 10; i++)
		ts[i] = MON_0309_1400 * NS + (uint64_t)i * DETSTAT_BURST_NS;
	assert_int_equal(detstat_periodicity(ts, 10, DETSTAT_PERIODIC_MIN_LOOKUPS, &p), 0);
	assert_int_equal(p.events, 10);
	assert_near(p.median_s, (double)DETSTAT_BURST_NS / NS, EPS);
	for (int i = 0; i < 10; i++)
		ts[i] = MON_0309_1400 * NS + (uint64_t)i * (DETSTAT_BURST_NS - 1);
	assert_int_equal(detstat_periodicity(ts, 10, DETSTAT_PERIODIC_MIN_LOOKUPS, &p), -ENODATA);
	assert_int_equal(p.events, 1);
}

static void test_hist_regularity(void **state)
{
	uint64_t ts[64];
	size_t n = 0;

	/*
	 * [0, 24) ns, one bin per ns. 2 events in each bin but bin 0 (4) and
	 * bin 1 (0): 48 events, q = 2, excess 2 and 2, mean e^2 = 8/24,
	 * cv = sqrt(1/3) / 2 = 0.288675, score 0.711325 (py 0.7113248654).
	 */
	for (int i = 0; i < 4; i++)
		ts[n++] = 0;
	for (uint64_t b = 2; b < 24; b++) {
		ts[n++] = b;
		ts[n++] = b;
	}
	assert_near(detstat_hist_regularity(ts, n, 0, 24), 1 - sqrt(1.0 / 3) / 2, EPS);
	/* Events outside [start, end) do not count: adding 24 and 99 changes nothing. */
	ts[n++] = 24;
	ts[n++] = 99;
	assert_near(detstat_hist_regularity(ts, n, 0, 24), 0.7113248654, 1e-9);
	/* q = 30 / 24 = 1.25: 6 bins of 2 and 18 of 1 are all within [1, 2]. */
	n = 0;
	for (uint64_t b = 0; b < 24; b++) {
		ts[n++] = b;
		if (b % 4 == 0)
			ts[n++] = b;
	}
	assert_int_equal(n, 30);
	assert_near(detstat_hist_regularity(ts, n, 0, 24), 1, EPS);
	/* All 30 in one bin: e = 28 there, 1 in the 23 others; cv = sqrt(807/24)/1.25 > 1. */
	for (size_t i = 0; i < 30; i++)
		ts[i] = 5;
	assert_true(detstat_hist_regularity(ts, 30, 0, 24) == 0);
	/* Degenerate ranges and no events. */
	assert_true(detstat_hist_regularity(ts, 30, 24, 24) == 0);
	assert_true(detstat_hist_regularity(ts, 30, 6, 24) == 0);
	assert_true(detstat_hist_regularity(NULL, 30, 0, 24) == 0);
}

/* ---- Client overlap ---------------------------------------------------- */

static void test_overlap_long_tail(void **state)
{
	/*
	 * Old target: A 160, B 40 and 40 one-off clients (spam filters): 240.
	 * Shares A 2/3, B 1/6, tail 1/6 together. New: A 40, B 10, C 5 (55):
	 * A 8/11, B 2/11, C 1/11.
	 * sum min = 2/3 + 1/6 = 5/6; sum max = 8/11 + 2/11 + 1/11 + 1/6 = 7/6;
	 * weighted Jaccard = 5/7 = 0.714286 (>= 0.5). Set Jaccard: {A, B} of
	 * 43 clients = 0.046512. Containment: (40 + 10) / 55 = 10/11.
	 */
	struct detstat_client_count old_t[42], new_t[3] = {{3, 5}, {1, 40}, {2, 10}};
	struct detstat_overlap o;

	old_t[0] = (struct detstat_client_count){1, 160};
	old_t[1] = (struct detstat_client_count){2, 40};
	for (int i = 0; i < 40; i++)
		old_t[2 + i] = (struct detstat_client_count){(uint64_t)(1000 - i), 1};
	assert_int_equal(detstat_client_overlap(old_t, 42, new_t, 3, &o), 0);
	assert_near(o.weighted_jaccard, 5.0 / 7, EPS);
	assert_near(o.set_jaccard, 2.0 / 43, EPS);
	assert_near(o.containment, 10.0 / 11, EPS);
	assert_true(o.weighted_jaccard >= 0.5 && o.set_jaccard < 0.5);
}

static void test_overlap_cases(void **state)
{
	struct detstat_client_count a[4] = {{7, 3}, {9, 1}}, b[4] = {{9, 1}, {7, 3}};
	struct detstat_overlap o;

	/* Same clients in the same proportions (any order): 1, 1, 1. */
	assert_int_equal(detstat_client_overlap(a, 2, b, 2, &o), 0);
	assert_near(o.weighted_jaccard, 1, EPS);
	assert_near(o.set_jaccard, 1, EPS);
	assert_near(o.containment, 1, EPS);
	/*
	 * Same clients, other proportions: old 3/4, 1/4; new 1/4, 3/4.
	 * min 1/4 + 1/4 = 1/2, max 3/4 + 3/4 = 3/2: 1/3; set Jaccard 1.
	 */
	b[0] = (struct detstat_client_count){7, 1};
	b[1] = (struct detstat_client_count){9, 3};
	assert_int_equal(detstat_client_overlap(a, 2, b, 2, &o), 0);
	assert_near(o.weighted_jaccard, 1.0 / 3, EPS);
	assert_near(o.set_jaccard, 1, EPS);
	assert_near(o.containment, 1, EPS);
	/* Disjoint: all 0. */
	b[0] = (struct detstat_client_count){1, 5};
	b[1] = (struct detstat_client_count){2, 5};
	assert_int_equal(detstat_client_overlap(a, 2, b, 2, &o), 0);
	assert_true(o.weighted_jaccard == 0 && o.set_jaccard == 0 && o.containment == 0);
	/*
	 * Repeated ids add up and zero counts are not clients: old {7: 2+1, 9: 1},
	 * new {7: 1, 8: 0, 5: 1}: shares old 3/4, 1/4; new 7: 1/2, 5: 1/2.
	 * min 1/2; max 3/4 + 1/4 + 1/2 = 3/2: 1/3; set {7} of {5, 7, 9}: 1/3;
	 * containment 1/2.
	 */
	a[0] = (struct detstat_client_count){7, 2};
	a[1] = (struct detstat_client_count){9, 1};
	a[2] = (struct detstat_client_count){7, 1};
	b[0] = (struct detstat_client_count){7, 1};
	b[1] = (struct detstat_client_count){8, 0};
	b[2] = (struct detstat_client_count){5, 1};
	assert_int_equal(detstat_client_overlap(a, 3, b, 3, &o), 0);
	assert_near(o.weighted_jaccard, 1.0 / 3, EPS);
	assert_near(o.set_jaccard, 1.0 / 3, EPS);
	assert_near(o.containment, 0.5, EPS);
	/* No lookups on a side, and bad arguments. */
	assert_int_equal(detstat_client_overlap(a, 3, b, 0, &o), -ENODATA);
	assert_true(o.weighted_jaccard == 0 && o.containment == 0);
	for (int i = 0; i < 3; i++)
		b[i].count = 0;
	assert_int_equal(detstat_client_overlap(a, 3, b, 3, &o), -ENODATA);
	assert_int_equal(detstat_client_overlap(NULL, 3, b, 3, &o), -EINVAL);
	assert_int_equal(detstat_client_overlap(a, 3, b, 3, NULL), -EINVAL);
}

static void test_weighted_jaccard_aligned(void **state)
{
	const double a[] = {0.5, 0.3, 0.2, 0}, b[] = {0.4, 0.4, 0, 0.2}, z[] = {0, 0, 0, 0};
	const double neg[] = {-1, NAN, 0.5, 0.5};

	/* min 0.4 + 0.3 = 0.7; max 0.5 + 0.4 + 0.2 + 0.2 = 1.3: 7/13 = 0.538462. */
	assert_near(detstat_weighted_jaccard(a, b, 4), 7.0 / 13, EPS);
	assert_near(detstat_weighted_jaccard(a, a, 4), 1, EPS);
	assert_true(detstat_weighted_jaccard(z, z, 4) == 0);
	/* Negative and NaN shares count as 0: min 0.2, max 0.5 + 0.3 + 0.5 + 0.5 = 1.8. */
	assert_near(detstat_weighted_jaccard(a, neg, 4), 0.2 / 1.8, EPS);
	assert_true(detstat_weighted_jaccard(NULL, b, 4) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wilson),
		cmocka_unit_test(test_wilson_impossible_counts),
		cmocka_unit_test(test_hhi),
		cmocka_unit_test(test_npmi),
		cmocka_unit_test(test_window_business_day),
		cmocka_unit_test(test_window_wraps_midnight),
		cmocka_unit_test(test_window_uniform_day),
		cmocka_unit_test(test_window_ties),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_utc_hour_of_week),
		cmocka_unit_test(test_week_projection_and_weekdays),
		cmocka_unit_test(test_local_week_new_york_dst),
		cmocka_unit_test(test_local_week_moscow),
		cmocka_unit_test(test_zone_offset),
		cmocka_unit_test(test_unknown_zone),
		cmocka_unit_test(test_tz_restored),
		cmocka_unit_test(test_window_inside),
		cmocka_unit_test(test_business_hours),
		cmocka_unit_test(test_business_hours_in_zones),
		cmocka_unit_test(test_periodic_perfect),
		cmocka_unit_test(test_periodic_hand_computed),
		cmocka_unit_test(test_periodic_narrow_iqr_is_symmetric),
		cmocka_unit_test(test_periodic_jitter),
		cmocka_unit_test(test_periodic_poisson),
		cmocka_unit_test(test_periodic_own_span),
		cmocka_unit_test(test_periodic_not_scored),
		cmocka_unit_test(test_periodic_bursts),
		cmocka_unit_test(test_burst_bound_exact),
		cmocka_unit_test(test_hist_regularity),
		cmocka_unit_test(test_overlap_long_tail),
		cmocka_unit_test(test_overlap_cases),
		cmocka_unit_test(test_weighted_jaccard_aligned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
