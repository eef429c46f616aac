/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Hashing shared by every table in dnssnoop (matcher, TCP flows,
 * statistics). Seeds are random per table so crafted traffic cannot aim
 * every key at one bucket.
 */
#ifndef DNSSNOOP_HASH_H
#define DNSSNOOP_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* The MurmurHash3 finaliser: a fast, well-mixing 64-bit permutation. */
static inline uint64_t hash_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* Hash of len bytes, 8 at a time (the tail is zero-padded). */
static inline uint64_t hash_bytes(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL);
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h = hash_mix64(h ^ w) + i;
	}
	if (i < len) {
		uint64_t w = 0;

		memcpy(&w, p + i, len - i);
		h = hash_mix64(h ^ w) + i;
	}
	return hash_mix64(h);
}

/* A per-table random seed; salt varies it when the kernel has no entropy yet. */
static inline uint64_t hash_random_seed(const void *salt)
{
	uint64_t seed = 0;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed))
		return seed;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)salt;
}

/* Smallest power of two >= n (and >= 16), for bucket arrays. */
static inline uint32_t hash_roundup_pow2(uint32_t n)
{
	uint32_t p = 16;

	while (p < n)
		p <<= 1;
	return p;
}

#endif
