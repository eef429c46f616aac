// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>

#include "lib/u64set.h"

#define U64SET_FIRST_CAP 64

static uint32_t probe(const uint64_t *slot, uint32_t cap, uint64_t v)
{
	uint32_t mask = cap - 1, i = (uint32_t)v & mask;

	while (slot[i] && slot[i] != v)
		i = (i + 1) & mask;
	return i;
}

static int grow(struct u64set *s)
{
	uint32_t cap = s->cap ? 2 * s->cap : U64SET_FIRST_CAP;
	uint64_t *slot;

	if (cap < s->cap)
		return -1;
	slot = calloc(cap, sizeof(*slot));
	if (!slot)
		return -1;
	for (uint32_t i = 0; i < s->cap; i++)
		if (s->slot[i])
			slot[probe(slot, cap, s->slot[i])] = s->slot[i];
	free(s->slot);
	s->slot = slot;
	s->cap = cap;
	return 0;
}

int u64set_add(struct u64set *s, uint64_t v)
{
	uint32_t i;

	v = v ? v : 1;
	if (s->cap && s->slot[probe(s->slot, s->cap, v)] == v)
		return 0;
	if (s->max && s->n >= s->max)
		return -1;
	if (2 * ((uint64_t)s->n + 1) > s->cap && grow(s))
		return -1;
	i = probe(s->slot, s->cap, v);
	s->slot[i] = v;
	s->n++;
	return 1;
}

bool u64set_has(const struct u64set *s, uint64_t v)
{
	v = v ? v : 1;
	return s->cap && s->slot[probe(s->slot, s->cap, v)] == v;
}

void u64set_free(struct u64set *s)
{
	free(s->slot);
	*s = (struct u64set){.max = s->max};
}
