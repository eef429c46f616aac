/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the libFuzzer targets share: an invariant check that aborts (a crash to libFuzzer). */
#ifndef DNSSNOOP_FUZZ_CHECK_H
#define DNSSNOOP_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

/* [p, p + n) lies inside [base, base + size). */
#define INSIDE(p, n, base, size)                                                       \
	((const uint8_t *)(p) >= (const uint8_t *)(base) &&                            \
	 (size_t)((const uint8_t *)(p) - (const uint8_t *)(base)) <= (size_t)(size) && \
	 (size_t)(n) <= (size_t)(size) - (size_t)((const uint8_t *)(p) - (const uint8_t *)(base)))

/* Read every byte of [p, p + n) so that ASan sees a read out of bounds. */
static inline unsigned int fuzz_touch(const void *p, size_t n)
{
	const volatile unsigned char *b = p;
	unsigned int sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += b[i];
	return sum;
}

#endif
