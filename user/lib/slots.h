/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A pool of at most capacity slots, numbered from 0, for tables that must
 * not allocate per packet (matcher, TCP flows, detection, mirrors). The
 * pool allocates the caller's array of entries, which the caller indexes
 * by slot number, and threads three structures through the slots, by
 * index, in a parallel array of links:
 *  - hash chains, to find a slot from the hash of its key (the caller
 *    hashes, with hash.h, and compares keys);
 *  - a free list of released slots;
 *  - an age list of used slots, oldest to newest: a slot is newest when
 *    taken and again after slots_touch(), so it is arrival order for a
 *    table that never touches and least recently used order for one that
 *    does.
 *
 * The arrays grow by doubling as slots are taken, up to capacity, so a
 * pool costs what it holds, not what it may hold. Growing moves the
 * entries: pointers into them do not survive slots_full(); use
 * slots_entries() after it. Slots 0 .. fresh - 1 are all the slots ever
 * taken: a walk over every entry stops there. Slots are handed out in the order a pool
 * allocated whole at start would hand them out: released slots first
 * (last released first), then never-used ones in increasing order.
 *
 * Use:
 *	slots_init(&s, capacity, sizeof(*entries));
 *	for (i = slots_first(&s, h); i != SLOTS_NIL; i = slots_next(&s, i))
 *		if (key_equal(&entries[i], key)) ...found;
 *	if (slots_full(&s)) ...free slots_oldest(&s) with slots_release();
 *	i = slots_take(&s, h); entries = slots_entries(&s); ...fill entries[i];
 *	slots_destroy(&s);
 */
#ifndef DNSSNOOP_SLOTS_H
#define DNSSNOOP_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLOTS_NIL	   UINT32_MAX /* no slot: end of a list */
#define SLOTS_MAX_CAPACITY (1u << 28)
#define SLOTS_FIRST_ALLOC  64 /* slots allocated at start (fewer if capacity is smaller) */

struct slot_link {
	uint64_t hash; /* of the key in this slot */
	uint32_t hnext; /* hash chain, or free list when released */
	uint32_t older, newer; /* age list */
};

struct slots {
	void *entries; /* the caller's, allocated elements; 0 .. fresh - 1 in use or released */
	struct slot_link *link; /* allocated elements */
	uint32_t *bucket; /* bucket_mask + 1 chain heads */
	size_t entry_size;
	uint32_t bucket_mask;
	uint32_t capacity; /* the most slots the pool may hold */
	uint32_t allocated; /* slots allocated: SLOTS_FIRST_ALLOC x 2^k, or capacity */
	uint32_t fresh; /* slots fresh .. allocated - 1 were never taken (their entries: garbage) */
	uint32_t used;
	uint32_t free_head; /* released slots */
	uint32_t oldest, newest;
};

/*
 * All slots free, and an array of entries of entry_size bytes, each
 * zeroed when its slot is first taken (and kept as the caller leaves it
 * when released and taken again). Returns that array, or NULL when
 * capacity is 0, above SLOTS_MAX_CAPACITY, or memory is short.
 */
void *slots_init(struct slots *s, size_t capacity, size_t entry_size);
/* Frees the links and the entries; safe on a zeroed or destroyed struct. */
void slots_destroy(struct slots *s);
/* Doubles the arrays (at most to capacity); 0, -ENOSPC at capacity, or -ENOMEM. */
int slots_grow(struct slots *s);

/* Take a free slot (slots_full() must have said there is one) for a key of this hash; it becomes newest. */
uint32_t slots_take(struct slots *s, uint64_t hash);
/* Return a used slot to the free list. */
void slots_release(struct slots *s, uint32_t i);
/* Make a used slot the newest. */
void slots_touch(struct slots *s, uint32_t i);

static inline void *slots_entries(const struct slots *s)
{
	return s->entries;
}

/*
 * No slot can be taken before one is released: all capacity slots are
 * used (or memory is short, and the pool cannot grow). Grows the pool
 * when it needs room and may have it, which moves the entries.
 */
static inline bool slots_full(struct slots *s)
{
	return s->free_head == SLOTS_NIL && s->fresh == s->allocated && slots_grow(s);
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
