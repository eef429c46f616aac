/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A fixed-capacity pool of slots, numbered 0 .. capacity - 1, for tables
 * that must not allocate per packet (matcher, TCP flows, statistics). The
 * pool allocates the caller's array of capacity entries, which the caller
 * indexes by slot number, and threads three structures through the slots,
 * by index, in a parallel array of links:
 *  - hash chains, to find a slot from the hash of its key (the caller
 *    hashes, with hash.h, and compares keys);
 *  - a free list of unused slots;
 *  - an age list of used slots, oldest to newest: a slot is newest when
 *    taken and again after slots_touch(), so it is arrival order for a
 *    table that never touches and least recently used order for one that
 *    does.
 *
 * Use:
 *	entries = slots_init(&s, capacity, sizeof(*entries));
 *	for (i = slots_first(&s, h); i != SLOTS_NIL; i = slots_next(&s, i))
 *		if (key_equal(&entries[i], key)) ...found;
 *	if (slots_full(&s)) ...free slots_oldest(&s) with slots_release();
 *	i = slots_take(&s, h); ...fill entries[i];
 *	slots_destroy(&s);
 */
#ifndef DNSSNOOP_SLOTS_H
#define DNSSNOOP_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLOTS_NIL	   UINT32_MAX /* no slot: end of a list */
#define SLOTS_MAX_CAPACITY (1u << 28)

struct slot_link {
	uint64_t hash; /* of the key in this slot */
	uint32_t hnext; /* hash chain, or free list when unused */
	uint32_t older, newer; /* age list */
};

struct slots {
	void *entries; /* the caller's, capacity elements */
	struct slot_link *link; /* capacity elements */
	uint32_t *bucket; /* bucket_mask + 1 chain heads */
	uint32_t bucket_mask;
	uint32_t capacity;
	uint32_t used;
	uint32_t free_head;
	uint32_t oldest, newest;
};

/*
 * All slots free, and a zeroed array of capacity entries of entry_size
 * bytes (its pages are not touched until used). Returns that array, or
 * NULL when capacity is 0, above SLOTS_MAX_CAPACITY, or memory is short.
 */
void *slots_init(struct slots *s, size_t capacity, size_t entry_size);
/* Frees the links and the entries; safe on a zeroed or destroyed struct. */
void slots_destroy(struct slots *s);

/* Take a free slot (there must be one) for a key of this hash; it becomes newest. */
uint32_t slots_take(struct slots *s, uint64_t hash);
/* Return a used slot to the free list. */
void slots_release(struct slots *s, uint32_t i);
/* Make a used slot the newest. */
void slots_touch(struct slots *s, uint32_t i);

static inline bool slots_full(const struct slots *s)
{
	return s->free_head == SLOTS_NIL;
}

/* The oldest used slot, or SLOTS_NIL when none is used. */
static inline uint32_t slots_oldest(const struct slots *s)
{
	return s->oldest;
}

/* Helper of the two below: from slot i on along its chain, the first with this hash. */
static inline uint32_t slots_match(const struct slots *s, uint32_t i, uint64_t hash)
{
	while (i != SLOTS_NIL && s->link[i].hash != hash)
		i = s->link[i].hnext;
	return i;
}

/* The first used slot whose key has this hash, or SLOTS_NIL. */
static inline uint32_t slots_first(const struct slots *s, uint64_t hash)
{
	return slots_match(s, s->bucket[hash & s->bucket_mask], hash);
}

/* The next used slot after i whose key has the same hash as i's, or SLOTS_NIL. */
static inline uint32_t slots_next(const struct slots *s, uint32_t i)
{
	return slots_match(s, s->link[i].hnext, s->link[i].hash);
}

#endif
