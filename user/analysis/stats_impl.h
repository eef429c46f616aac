/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The statistics tables' layout, shared by their three parts:
 *  - stats.c: the eight DNS tables, their keys, what an observation adds,
 *    the public API (stats.h);
 *  - stats_table.c: the bounded (Space-Saving) table: hashing, chains,
 *    growth, heap, eviction, merging, ranking;
 *  - stats_entry.c: an entry's figures: counters, distinct sets.
 * Not for other modules: they use stats.h.
 *
 * The table's hash, chain link and key bytes live in the statistics entry
 * itself, so that a probe touches the bucket word and the entry only: the
 * table and the entry share the one layout below, and the probe
 * (chain_find()) is inline here, since it runs eight times an observation.
 */
#ifndef DNSSNOOP_STATS_IMPL_H
#define DNSSNOOP_STATS_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "analysis/hll.h"
#include "analysis/lathist.h"
#include "analysis/stats.h"

#define NIL	   UINT32_MAX
#define KEY_INLINE 40

/* An entry's counters, as uint32 with lazily allocated high halves. */
enum counter {
	C_UNANSWERED,
	C_RETRANSMITS,
	C_RCODE, /* RC_NCOLS columns */
	C_QTYPE = C_RCODE + RC_NCOLS, /* STATS_QTYPE_SLOTS slots */
	C_QTYPE_OTHER = C_QTYPE + STATS_QTYPE_SLOTS,
	C_UDP,
	C_TCP,
	C_TRUNCATED,
	C_BYTES_QUERY,
	C_BYTES_RESPONSE,
	C_NCOUNTERS,
};

/*
 * Distinct values (64-bit set_hash()es of names or addresses, made odd):
 * exact up to STATS_EXACT_DISTINCT, first two values inline (a name with
 * two addresses allocates nothing), then an open-addressing table of
 * 8 .. 128 slots (load <= 1/2), then a HyperLogLog fed the same values, so
 * exact sets and sketches merge into the same registers as one sketch fed
 * everything. The values being odd and the pointers even tells the inline
 * form from the others.
 */
enum dset_mode { DSET_SMALL, DSET_TABLE, DSET_HLL };

struct dset {
	union {
		uint64_t small[2]; /* DSET_SMALL: 0 .. 2 values; 0 = none */
		struct {
			union {
				uint64_t *table; /* DSET_TABLE: 0 marks a free slot */
				struct hll *hll;
			};
			uint32_t n; /* DSET_TABLE: values */
			uint8_t mode; /* DSET_TABLE or DSET_HLL */
			uint8_t log2cap; /* DSET_TABLE */
			uint16_t _pad;
		};
	};
};

/*
 * Keys are bytes (their layouts are stats.c's), up to KEY_INLINE bytes
 * inside the entry, longer ones in one allocation per entry that the slot
 * keeps for its next key (an eviction allocates only when the newcomer's
 * key is longer). A process entry's attributes follow its key in the same
 * storage.
 *
 * Memory per entry (x86-64), for a flood of 1M random names
 * of 30 bytes, default max_entries 100000, a known process querying one
 * resolver, each name answered NXDOMAIN. STATS_NAME, STATS_PROC_NAME and
 * STATS_CLIENT_NAME fill up; the five other tables hold one entry each.
 *   struct entry                                   272 bytes
 *     hash, chain link, key length and capacity     16
 *     key inline (up to 40 bytes) or its pointer    40
 *     error, first and last seen                    24
 *     21 counters, uint32 (an overflow allocates    84
 *       the high halves, rarely)
 *     padding (the pointer below is 8-aligned)        4
 *     qtype slots                                   16
 *     high halves pointer                            8
 *     latency histogram (inline up to 4 buckets)    64
 *     distinct set (two values inline)              16
 *   count                                            8
 *   heap node (count snapshot, slot)                16
 *   hash buckets (2 x 131072 words for 100000)      10.5
 *   key allocation: none, the keys (30, 35 and 36   0
 *     bytes) are inline
 *   => 306.5 bytes per entry, x 300000 entries = 92.0 MB (87.7 MiB), plus
 *   each table's untracked row (a dense histogram and an HLL: 12 KiB);
 *   tools/bench-stats measures 87.5 MiB peak RSS. Names longer than about
 *   34 bytes add a key allocation of their size (+ 8 .. 16): the 150 MiB
 *   target holds for flood names up to about 200 bytes; names of the full
 *   253 bytes would take about 160 MiB.
 * Entries that see more than 4 distinct latency buckets, or more than two
 * distinct names or addresses, grow on the heap (histogram up to 8 KiB, exact
 * set up to 1 KiB, then a 4 KiB HLL); in a random-name flood each name
 * entry has one latency bucket and no address, so none of them grow.
 */
struct entry {
	/* The first 56 bytes are all that a lookup touches. */
	uint64_t hash; /* of the key (key_hash()) */
	uint32_t next; /* hash chain */
	uint16_t klen; /* key bytes */
	uint16_t kcap; /* 0: key inline; else bytes allocated at kptr */
	union {
		uint8_t kin[KEY_INLINE];
		uint8_t *kptr;
	};
	uint64_t error; /* count - error <= true count <= count */
	uint64_t first_ns, last_ns; /* first_ns UINT64_MAX: nothing seen */
	uint32_t lo[C_NCOUNTERS];
	uint16_t qtype[STATS_QTYPE_SLOTS]; /* 0: free; filled in order */
	uint32_t *hi; /* C_NCOUNTERS high halves, once one overflowed */
	struct lathist lat;
	struct dset set;
};

struct heap_node {
	uint64_t count; /* the entry's count when last sifted (<= current) */
	uint32_t idx;
	uint32_t _pad;
};

struct table {
	enum stats_table id;
	bool counts_names, counts_addrs; /* what its distinct set holds */
	uint64_t secret[2]; /* of key_hash(), random */
	struct entry *e;
	/*
	 * The Space-Saving counts, by slot, apart from the entries: 8 bytes
	 * each, so checking heap roots during evictions stays in cache.
	 */
	uint64_t *count;
	uint32_t used; /* slots in use: 0 .. used - 1 */
	uint32_t init; /* slots whose key storage is initialised */
	uint32_t cap; /* slots allocated */
	uint32_t max; /* max_entries */
	uint32_t *bucket;
	uint32_t bucket_mask;
	struct heap_node *heap;
	uint32_t heap_cap;
	bool heap_valid; /* every used slot is in the heap, once */
	uint32_t next_victim; /* slot prefetched for the next eviction, or NIL */
	uint64_t total_queries;
	uint64_t evictions;
	/* No key absent from the table can have more queries than this. */
	uint64_t absent_bound;
	/* Figures that have no entry: evicted entries' and unkeyed responses'. */
	struct entry untracked;
	uint64_t untracked_count; /* queries of entries cut by merges, or not stored */
};

/* One table's key for an observation, between hashing and updating. */
struct lookup {
	struct table *t;
	const uint8_t *key;
	size_t klen;
	size_t reserve; /* bytes after the key (process attributes) */
	uint64_t hash;
	uint32_t head; /* first slot of the key's chain */
};

/* ---- stats_entry.c: counters, distinct sets, entries ---- */

void cnt_carry(struct entry *e, int i);

void dset_free(struct dset *d);
void dset_add(struct dset *d, uint64_t v);
uint64_t dset_count(const struct dset *d, bool *estimated);

void entry_clear(struct entry *e);
void entry_destroy(struct entry *e);
int entry_key_room(struct entry *e, size_t need);
void entry_merge_figures(struct entry *d, const struct entry *s);

/* ---- stats_table.c: the bounded table ---- */

uint64_t fast_hash(const void *data, size_t len, const uint64_t secret[2]);
void table_init(struct table *t, size_t max);
void table_reset(struct table *t);
void table_destroy(struct table *t);
uint32_t table_find_key(const struct table *t, const uint8_t *key, size_t klen);
uint32_t table_insert(struct table *t, uint64_t h, const uint8_t *key, size_t klen, size_t reserve);
uint32_t table_min(struct table *t);
uint32_t table_replace(struct table *t, uint32_t i, uint64_t h, const uint8_t *key, size_t klen,
		       size_t reserve, bool drop_count);
void prepare_next_victim(struct table *t);
int table_merge(struct table *d, const struct table *s);
void rank_entries(const struct table *t, uint32_t *order, size_t n);

/* ---- stats.c: what the table needs of the DNS tables' keys ---- */

size_t entry_attr_len(const struct table *t, const struct entry *e);

/* ---- entries, inline ---- */

static inline uint64_t cnt_get(const struct entry *e, int i)
{
	return e->lo[i] + (e->hi ? (uint64_t)e->hi[i] << 32 : 0);
}

static inline void cnt_add(struct entry *e, int i, uint32_t v)
{
	uint32_t old = e->lo[i];

	e->lo[i] = old + v;
	if (__builtin_expect(e->lo[i] < old, 0))
		cnt_carry(e, i);
}

static inline enum dset_mode dset_mode(const struct dset *d)
{
	return d->small[0] == 0 || (d->small[0] & 1) ? DSET_SMALL : (enum dset_mode)d->mode;
}

/*
 * The hash kept in distinct sets: the same in every struct stats, so sets
 * and sketches of different tables and intervals merge. Its secrets are
 * public (like HLL_SEED, see hll.h): crafted values can only skew a count
 * shown as exact-or-estimated, and a set's probing is bounded (128 slots).
 */
static inline uint64_t set_hash(const void *data, size_t len)
{
	static const uint64_t set_secret[2] = {0x8ebc6af09c88c6e3ULL, 0x589965cc75374cc3ULL};

	return fast_hash(data, len, set_secret);
}

static inline const uint8_t *entry_key(const struct entry *e)
{
	return e->kcap ? e->kptr : e->kin;
}

static inline uint8_t *entry_key_mut(struct entry *e)
{
	return e->kcap ? e->kptr : e->kin;
}

static inline void entry_set_key(struct entry *e, uint64_t h, const uint8_t *key, size_t klen)
{
	memcpy(entry_key_mut(e), key, klen);
	e->klen = (uint16_t)klen;
	e->hash = h;
}

/* dst's figures and error += src's (the counts are the caller's). */
static inline void entry_add(struct entry *d, const struct entry *s)
{
	d->error += s->error;
	entry_merge_figures(d, s);
}

/* ---- the table's lookup, inline: it runs eight times an observation ---- */

static inline uint64_t key_hash(const struct table *t, const uint8_t *key, size_t klen)
{
	return fast_hash(key, klen, t->secret);
}

static inline uint32_t bucket_head(const struct table *t, uint64_t h)
{
	return t->bucket ? t->bucket[h & t->bucket_mask] : NIL;
}

/* The slot of key in the chain starting at slot i, or NIL. Always inline: the hot loop. */
static inline __attribute__((always_inline)) uint32_t
chain_find(const struct table *t, uint32_t i, uint64_t h, const uint8_t *key, size_t klen)
{
	for (; i != NIL; i = t->e[i].next) {
		const struct entry *e = &t->e[i];

		if (e->hash == h && e->klen == klen && !memcmp(entry_key(e), key, klen))
			return i;
	}
	return NIL;
}

/*
 * The table's entry for l's key: found, created while there is room, or
 * (queries only) put in place of the smallest count. NIL: the figures go
 * to the untracked row. *created tells a new key from a found one,
 * *evicted a newcomer that replaced another.
 */
static inline uint32_t table_entry_for(struct table *t, const struct lookup *l, bool query,
				       bool *created, bool *evicted)
{
	uint32_t i = chain_find(t, l->head, l->hash, l->key, l->klen);

	*created = *evicted = false;
	if (i != NIL)
		return i;
	i = table_insert(t, l->hash, l->key, l->klen, l->reserve);
	if (i == NIL && query) {
		i = table_min(t);
		if (i != NIL)
			i = table_replace(t, i, l->hash, l->key, l->klen, l->reserve, false);
		*evicted = i != NIL;
	}
	*created = i != NIL;
	return i;
}

static inline void prefetch_entry(const struct entry *e)
{
	for (size_t off = 0; off < sizeof(*e); off += 64)
		__builtin_prefetch((const char *)e + off, 1);
}

/* What evicting v will touch besides its entry: its bucket and exact set. */
static inline void prefetch_victim(const struct table *t, const struct entry *v)
{
	__builtin_prefetch(&t->bucket[v->hash & t->bucket_mask], 1);
	if (dset_mode(&v->set) == DSET_TABLE)
		__builtin_prefetch(v->set.table);
}

#endif
