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

/*
 * hash_bytes() runs a full mix64 per 8 bytes, one after the other. For
 * keys hashed per message (statistics, the matcher) this is the wyhash
 * construction instead: a 64x64->128-bit multiply, folded, per 16 bytes.
 * With random secrets per table, keys cannot be aimed at one chain.
 */
static inline uint64_t hash_mum_fold(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t hash_load64(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

static inline uint64_t hash_load32(const uint8_t *p)
{
	uint32_t w;

	memcpy(&w, p, 4);
	return w;
}

static inline uint64_t hash_fast(const void *data, size_t len, const uint64_t secret[2])
{
	const uint8_t *p = data;
	uint64_t seed = hash_mum_fold(secret[0] ^ len, secret[1]), a, b;

	if (len <= 16) {
		if (len >= 4) { /* two overlapping pairs of 4-byte words */
			size_t mid = (len >> 3) << 2;

			a = hash_load32(p) << 32 | hash_load32(p + mid);
			b = hash_load32(p + len - 4) << 32 | hash_load32(p + len - 4 - mid);
		} else if (len > 0) {
			a = (uint64_t)p[0] << 16 | (uint64_t)p[len >> 1] << 8 | p[len - 1];
			b = 0;
		} else {
			a = b = 0;
		}
	} else {
		size_t i = len;

		for (; i > 16; i -= 16, p += 16)
			seed = hash_mum_fold(hash_load64(p) ^ secret[1], hash_load64(p + 8) ^ seed);
		a = hash_load64(p + i - 16);
		b = hash_load64(p + i - 8);
	}
	return hash_mum_fold(hash_mum_fold(a ^ secret[1], b ^ seed) ^ secret[0], seed ^ secret[1]);
}

/* Two secrets for hash_fast() from a random seed (odd: never a zero factor). */
static inline void hash_fast_secrets(uint64_t secret[2], uint64_t seed)
{
	secret[0] = hash_mix64(seed) | 1;
	secret[1] = hash_mix64(secret[0] ^ 0x9e3779b97f4a7c15ULL) | 1;
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
