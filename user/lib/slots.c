// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Slot pool: hash chains (singly linked, through hnext, which also links
 * the free list), and an age list (doubly linked, so any slot can leave
 * it in constant time). See slots.h.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/slots.h"

void *slots_init(struct slots *s, size_t capacity, size_t entry_size)
{
	memset(s, 0, sizeof(*s));
	if (capacity == 0 || capacity > SLOTS_MAX_CAPACITY)
		return NULL;
	s->capacity = (uint32_t)capacity;
	s->bucket_mask = hash_roundup_pow2(s->capacity) - 1;
	/* calloc: pages of entries never used are never touched. */
	s->entries = calloc(s->capacity, entry_size);
	s->link = malloc(s->capacity * sizeof(*s->link));
	s->bucket = malloc(((size_t)s->bucket_mask + 1) * sizeof(*s->bucket));
	if (!s->entries || !s->link || !s->bucket) {
		slots_destroy(s);
		return NULL;
	}
	for (uint32_t i = 0; i <= s->bucket_mask; i++)
		s->bucket[i] = SLOTS_NIL;
	for (uint32_t i = 0; i < s->capacity; i++)
		s->link[i].hnext = i + 1 < s->capacity ? i + 1 : SLOTS_NIL;
	s->free_head = 0;
	s->oldest = s->newest = SLOTS_NIL;
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
	uint32_t i = s->free_head;
	struct slot_link *l = &s->link[i];
	uint32_t *head = &s->bucket[hash & s->bucket_mask];

	s->free_head = l->hnext;
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
