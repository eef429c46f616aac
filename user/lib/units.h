/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Time units: every time inside dnssnoop is a uint64_t count of nanoseconds. */
#ifndef DNSSNOOP_UNITS_H
#define DNSSNOOP_UNITS_H

#define NS_PER_USEC  1000ULL
#define NS_PER_MSEC  1000000ULL
#define NS_PER_SEC   1000000000ULL
#define NS_PER_HOUR  (3600ULL * NS_PER_SEC)
#define SECS_PER_DAY 86400ULL

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC now: for deadlines and durations, which wall-clock steps must not move. */
static inline uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

#endif
