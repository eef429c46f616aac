/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Growing a buffer by doubling, for the reassembly buffers (IP fragments, TCP). */
#ifndef DNSSNOOP_GROW_H
#define DNSSNOOP_GROW_H

#include <stdint.h>

/*
 * The capacity a buffer of cap bytes (0: none yet) grows to so that it
 * holds need bytes: doubled from cap, or from min, until it does; never
 * above max (the caller keeps need <= max).
 */
static inline uint32_t grow_capacity(uint32_t cap, uint32_t min, uint32_t need, uint32_t max)
{
	uint32_t n = cap ? cap : min;

	while (n < need)
		n *= 2;
	return n < max ? n : max;
}

#endif
