// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Slot pool: hash chains (singly linked, through hnext, which also links
 * the free list of released slots), an age list (doubly linked, so any
 * slot can leave it in constant time), and growth by doubling. See slots.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/slots.h"

/* Chain heads for n allocated slots: load <= 1, as for a pool allocated whole. */
static uint32_t buckets_for(uint32_t n)
{
	return hash_roundup_pow2(n);
}

void *slots_init(struct slots *s, size_t capacity, size_t entry_size)
{
	uint32_t n;

	memset(s, 0, sizeof(*s));
	if (capacity == 0 || capacity > SLOTS_MAX_CAPACITY)
		return NULL;
	s->capacity = (uint32_t)capacity;
	s->entry_size = entry_size;
	n = s->capacity < SLOTS_FIRST_ALLOC ? s->capacity : SLOTS_FIRST_ALLOC;
	s->bucket_mask = buckets_for(n) - 1;
	s->entries = malloc(n * entry_size);
	s->link = malloc(n * sizeof(*s->link));
	s->bucket = malloc(((size_t)s->bucket_mask + 1) * sizeof(*s->bucket));
	if (!s->entries || !s->link || !s->bucket) {
		slots_destroy(s);
		return NULL;
	}
	memset(s->bucket, 0xff, ((size_t)s->bucket_mask + 1) * sizeof(*s->bucket)); /* SLOTS_NIL */
	s->allocated = n;
	s->free_head = s->oldest = s->newest = SLOTS_NIL;
	return s->entries;
}

void slots_destroy(struct slots *s)
{
	free(s->entries);
	free(s->link);
	free(s->bucket);
	s->entries = NULL;
	s->link = NULL;
	s->bucket = NULL;
	s->allocated = s->fresh = s->used = 0;
}

/*
 * Doubles the chain heads: each chain splits into the chain of the same
 * number and the one n above it, each keeping its slots' order, so slots
 * of one hash are found in the same order as before.
 */
static void split_buckets(struct slots *s, uint32_t *bucket, uint32_t n)
{
	for (uint32_t b = 0; b < n; b++) {
		uint32_t *lo = &bucket[b], *hi = &bucket[b + n], i = bucket[b];

		while (i != SLOTS_NIL) {
			uint32_t next = s->link[i].hnext;

			if (s->link[i].hash & n) {
				*hi = i;
				hi = &s->link[i].hnext;
			} else {
				*lo = i;
				lo = &s->link[i].hnext;
			}
			i = next;
		}
		*lo = *hi = SLOTS_NIL;
	}
}

/* Chain heads for `allocated` slots; on failure the chains stay longer. */
static void grow_buckets(struct slots *s)
{
	uint32_t n = s->bucket_mask + 1, want = buckets_for(s->allocated);
	uint32_t *bucket;

	if (want <= n)
		return;
	bucket = realloc(s->bucket, (size_t)want * sizeof(*bucket));
	if (!bucket)
		return;
	for (; n < want; n *= 2)
		split_buckets(s, bucket, n);
	s->bucket = bucket;
	s->bucket_mask = want - 1;
}

int slots_grow(struct slots *s)
{
	uint32_t n = s->allocated * 2;
	struct slot_link *link;
	void *entries;

	if (s->allocated >= s->capacity)
		return -ENOSPC;
	if (n > s->capacity || n < s->allocated)
		n = s->capacity;
	link = realloc(s->link, (size_t)n * sizeof(*link));
	if (!link)
		return -ENOMEM;
	s->link = link;
	/* Not cleared here: slots_take() clears an entry when first taken. */
	entries = realloc(s->entries, (size_t)n * s->entry_size);
	if (!entries)
		return -ENOMEM;
	s->entries = entries;
	s->allocated = n;
	grow_buckets(s);
	return 0;
}

static void age_unlink(struct slots *s, uint32_t i)
{
	struct slot_link *l = &s->link[i];

	if (l->older != SLOTS_NIL)
		s->link[l->older].newer = l->newer;
	else
		s->oldest = l->newer;
	if (l->newer != SLOTS_NIL)
		s->link[l->newer].older = l->older;
	else
		s->newest = l->older;
}

static void age_push_newest(struct slots *s, uint32_t i)
{
	struct slot_link *l = &s->link[i];

	l->newer = SLOTS_NIL;
	l->older = s->newest;
	if (s->newest != SLOTS_NIL)
		s->link[s->newest].newer = i;
	else
		s->oldest = i;
	s->newest = i;
}

uint32_t slots_take(struct slots *s, uint64_t hash)
{
	uint32_t *head = &s->bucket[hash & s->bucket_mask];
	struct slot_link *l;
	uint32_t i;

	if (s->free_head != SLOTS_NIL) {
		i = s->free_head;
		s->free_head = s->link[i].hnext;
	} else {
		/* Never used: zeroed now, so that memory follows use. */
		i = s->fresh++;
		memset((char *)s->entries + (size_t)i * s->entry_size, 0, s->entry_size);
	}
	l = &s->link[i];
	l->hash = hash;
	l->hnext = *head;
	*head = i;
	age_push_newest(s, i);
	s->used++;
	return i;
}

void slots_release(struct slots *s, uint32_t i)
{
	uint32_t *link = &s->bucket[s->link[i].hash & s->bucket_mask];

	while (*link != i)
		link = &s->link[*link].hnext;
	*link = s->link[i].hnext;
	age_unlink(s, i);
	s->link[i].hnext = s->free_head;
	s->free_head = i;
	s->used--;
}

void slots_touch(struct slots *s, uint32_t i)
{
	if (s->newest == i)
		return;
	age_unlink(s, i);
	age_push_newest(s, i);
}
