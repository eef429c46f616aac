/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A set of 64-bit hashes: open addressing with linear probing, kept at
 * most half full (so probes stay short), grown by doubling. The values
 * must already be well mixed (hash_bytes, hash_mix64); 0 marks an empty
 * slot, so a 0 value is stored as 1.
 */
#ifndef DNSSNOOP_U64SET_H
#define DNSSNOOP_U64SET_H

#include <stdbool.h>
#include <stdint.h>

struct u64set {
	uint64_t *slot;
	uint32_t cap; /* slots, a power of two; 0 until the first add */
	uint32_t n; /* values held */
	uint32_t max; /* values held at most; 0: as many as memory allows */
};

/* 1 if v was added, 0 if it was there, -1 if the set is full or out of memory. */
int u64set_add(struct u64set *s, uint64_t v);
bool u64set_has(const struct u64set *s, uint64_t v);
void u64set_free(struct u64set *s);

#endif
