// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A statistics entry's figures (layout in stats_impl.h): 32-bit counters
 * that grow high halves on overflow, distinct sets that go from exact to a
 * HyperLogLog, and the clearing, keying and merging of whole entries.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/hll.h"
#include "analysis/lathist.h"
#include "analysis/stats_impl.h"

#define DSET_FIRST_LOG2 3

/* ---- counters ---- */

static bool cnt_need_hi(struct entry *e)
{
	if (!e->hi)
		e->hi = calloc(C_NCOUNTERS, sizeof(*e->hi));
	return e->hi != NULL;
}

static void cnt_set(struct entry *e, int i, uint64_t v)
{
	if (v >> 32 && !cnt_need_hi(e)) {
		e->lo[i] = UINT32_MAX; /* out of memory: saturate */
		return;
	}
	e->lo[i] = (uint32_t)v;
	if (e->hi)
		e->hi[i] = (uint32_t)(v >> 32);
}

void cnt_carry(struct entry *e, int i)
{
	if (!cnt_need_hi(e)) {
		e->lo[i] = UINT32_MAX;
		return;
	}
	e->hi[i]++;
}

static void cnt_add64(struct entry *e, int i, uint64_t v)
{
	if (v)
		cnt_set(e, i, cnt_get(e, i) + v);
}

/* ---- distinct sets ---- */

void dset_free(struct dset *d)
{
	if (dset_mode(d) == DSET_TABLE) {
		free(d->table);
	} else if (dset_mode(d) == DSET_HLL) {
		hll_free(d->hll);
		free(d->hll);
	}
	memset(d, 0, sizeof(*d));
}

/* Runs body with v set to each exact value (DSET_SMALL, DSET_TABLE). */
#define DSET_FOR_EACH(d, v, body)                                                \
	do {                                                                     \
		if (dset_mode(d) == DSET_SMALL) {                                \
			for (int _i = 0; _i < 2 && (d)->small[_i]; _i++) {       \
				uint64_t v = (d)->small[_i];                     \
				body;                                            \
			}                                                        \
		} else if ((d)->mode == DSET_TABLE) {                            \
			for (uint32_t _i = 0; _i < (1u << (d)->log2cap); _i++) { \
				uint64_t v = (d)->table[_i];                     \
				if (v) {                                         \
					body;                                    \
				}                                                \
			}                                                        \
		}                                                                \
	} while (0)

static int dset_to_hll(struct dset *d)
{
	struct hll *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	DSET_FOR_EACH(d, v, hll_add_hash(h, v));
	if (dset_mode(d) == DSET_TABLE)
		free(d->table);
	d->hll = h;
	d->mode = DSET_HLL;
	return 0;
}

static void dset_put_slot(uint64_t *table, uint32_t mask, uint64_t v)
{
	uint32_t i = (uint32_t)v & mask;

	while (table[i])
		i = (i + 1) & mask;
	table[i] = v;
}

/* Rehash into 1 << log2cap slots. */
static int dset_resize(struct dset *d, uint8_t log2cap)
{
	uint32_t mask = (1u << log2cap) - 1, n = 0;
	uint64_t *t = calloc(mask + 1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	DSET_FOR_EACH(d, v, (dset_put_slot(t, mask, v), n++));
	if (dset_mode(d) == DSET_TABLE)
		free(d->table);
	d->table = t;
	d->n = n;
	d->mode = DSET_TABLE;
	d->log2cap = log2cap;
	return 0;
}

static void dset_table_add(struct dset *d, uint64_t v)
{
	uint32_t mask = (1u << d->log2cap) - 1;
	uint32_t i = (uint32_t)v & mask;

	for (; d->table[i]; i = (i + 1) & mask)
		if (d->table[i] == v)
			return;
	if (d->n >= STATS_EXACT_DISTINCT) {
		if (dset_to_hll(d) == 0)
			hll_add_hash(d->hll, v);
		return;
	}
	d->table[i] = v;
	d->n++;
	if (d->n * 2 > mask + 1)
		dset_resize(d, d->log2cap + 1); /* on failure: fuller, still correct */
}

/* Adds one value (out of memory: it is not counted). */
void dset_add(struct dset *d, uint64_t v)
{
	v |= 1; /* odd: never 0 (a free slot), never a pointer */
	switch (dset_mode(d)) {
	case DSET_SMALL:
		for (int i = 0; i < 2; i++) {
			if (d->small[i] == v)
				return;
			if (!d->small[i]) {
				d->small[i] = v;
				return;
			}
		}
		if (dset_resize(d, DSET_FIRST_LOG2))
			return;
		dset_table_add(d, v);
		return;
	case DSET_TABLE:
		dset_table_add(d, v);
		return;
	default:
		hll_add_hash(d->hll, v);
	}
}

static void dset_union(struct dset *d, const struct dset *s)
{
	if (dset_mode(s) != DSET_HLL) {
		DSET_FOR_EACH(s, v, dset_add(d, v));
		return;
	}
	if (dset_mode(d) != DSET_HLL && dset_to_hll(d))
		return;
	hll_merge(d->hll, s->hll);
}

uint64_t dset_count(const struct dset *d, bool *estimated)
{
	*estimated = false;
	switch (dset_mode(d)) {
	case DSET_SMALL:
		return (d->small[0] != 0) + (d->small[1] != 0);
	case DSET_TABLE:
		return d->n;
	default:
		*estimated = true;
		return (uint64_t)llround(hll_estimate(d->hll));
	}
}

/* ---- entries ---- */

/* Empties the figures, keeping the key storage for the slot's next key. */
void entry_clear(struct entry *e)
{
	uint8_t *kptr = e->kcap ? e->kptr : NULL;
	uint16_t kcap = e->kcap;

	lathist_free(&e->lat);
	dset_free(&e->set);
	free(e->hi);
	memset(e, 0, sizeof(*e));
	if (kcap) {
		e->kptr = kptr;
		e->kcap = kcap;
	}
	e->first_ns = UINT64_MAX;
}

void entry_destroy(struct entry *e)
{
	entry_clear(e);
	if (e->kcap)
		free(e->kptr);
	e->kcap = 0;
}

/*
 * Makes room for need bytes of key (and attributes). On failure e is
 * unchanged; on success its old key bytes may be gone.
 */
int entry_key_room(struct entry *e, size_t need)
{
	uint8_t *p;
	size_t cap;

	if (e->kcap ? e->kcap >= need : need <= KEY_INLINE)
		return 0;
	cap = (need + 7) & ~(size_t)7;
	p = malloc(cap);
	if (!p)
		return -ENOMEM;
	if (e->kcap)
		free(e->kptr);
	e->kptr = p;
	e->kcap = (uint16_t)cap;
	return 0;
}

static int qtype_smallest_slot(const struct entry *e)
{
	int best = 0;

	for (int i = 1; i < STATS_QTYPE_SLOTS; i++)
		if (cnt_get(e, C_QTYPE + i) < cnt_get(e, C_QTYPE + best))
			best = i;
	return best;
}

/*
 * n queries of qtype: its slot, a free slot, or "other". When merging
 * (n > 1) into full slots, a qtype with more than the smallest slot takes
 * that slot and the slot's count moves to "other", so merged rows keep
 * their biggest types. qtype 0 is not a type (it marks free slots).
 */
static void qtype_add(struct entry *e, uint16_t qtype, uint64_t n)
{
	int i;

	if (!n)
		return;
	for (i = 0; i < STATS_QTYPE_SLOTS && e->qtype[i]; i++) {
		if (e->qtype[i] == qtype) {
			cnt_add64(e, C_QTYPE + i, n);
			return;
		}
	}
	if (qtype && i < STATS_QTYPE_SLOTS) {
		e->qtype[i] = qtype;
		cnt_add64(e, C_QTYPE + i, n);
		return;
	}
	if (qtype) {
		i = qtype_smallest_slot(e);
		if (cnt_get(e, C_QTYPE + i) < n) {
			cnt_add64(e, C_QTYPE_OTHER, cnt_get(e, C_QTYPE + i));
			e->qtype[i] = qtype;
			cnt_set(e, C_QTYPE + i, n);
			return;
		}
	}
	cnt_add64(e, C_QTYPE_OTHER, n);
}

/* Whether some counter's lo[] sum would wrap (qtype slots too: then the slow path). */
static bool lo_sum_carries(const struct entry *d, const struct entry *s)
{
	uint32_t carry = 0;

	for (int i = 0; i < C_NCOUNTERS; i++)
		carry |= (uint32_t)(d->lo[i] + s->lo[i]) < d->lo[i];
	return carry != 0;
}

/* dst's figures += src's (all but the query count and error). */
void entry_merge_figures(struct entry *d, const struct entry *s)
{
	if (s->first_ns < d->first_ns)
		d->first_ns = s->first_ns;
	if (s->last_ns > d->last_ns)
		d->last_ns = s->last_ns;
	if (!d->hi && !s->hi && !lo_sum_carries(d, s)) {
		/* The usual case: every sum fits 32 bits. Loops the compiler vectorises. */
		for (int i = 0; i < C_QTYPE; i++)
			d->lo[i] += s->lo[i];
		for (int i = C_QTYPE_OTHER; i < C_NCOUNTERS; i++)
			d->lo[i] += s->lo[i];
	} else {
		for (int i = 0; i < C_NCOUNTERS; i++)
			if (i < C_QTYPE || i >= C_QTYPE_OTHER)
				cnt_add64(d, i, cnt_get(s, i));
	}
	for (int i = 0; i < STATS_QTYPE_SLOTS && s->qtype[i]; i++)
		qtype_add(d, s->qtype[i], cnt_get(s, C_QTYPE + i));
	lathist_merge(&d->lat, &s->lat);
	dset_union(&d->set, &s->set);
}
