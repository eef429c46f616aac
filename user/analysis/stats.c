// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Statistics tables (contract in stats.h).
 *
 * Each of the seven tables is
 *  - a dense array of struct entry, slots 0 .. used - 1 in use, grown by
 *    doubling up to max_entries (memory follows use: a table of twelve
 *    processes costs twelve entries, not max_entries of them), and beside
 *    it the slots' Space-Saving counts;
 *  - index-linked hash chains over it (the 64-bit hash is kept in the
 *    entry, so a probe touches the bucket word and the entry only);
 *  - once the table is full, a min-heap of (count, slot) that finds the
 *    Space-Saving victim.
 * An eviction replaces the victim in its slot, so slots are never freed
 * and the array stays dense. The victim's figures (all but its count,
 * which the newcomer inherits) join the table's untracked row, so the top
 * entries plus the others row always add up to everything observed.
 *
 * Why not slots.h: its pool is allocated and threaded at full capacity up
 * front (about 3 MB of touched memory per 100000-entry table, for seven
 * tables of which most hold a few dozen keys), it keeps the hash apart
 * from the entry (one more cache miss per probe), and its eviction order
 * is an age list, while Space-Saving evicts the smallest count.
 *
 * The heap is lazy: a query only increments the slot's count; the heap
 * node keeps the count it had when last sifted, which is never above the
 * slot's. To find the victim, the root is refreshed and sifted down until
 * its snapshot is current; then its count is the smallest of all, since
 * every snapshot is a lower bound of its slot's count and the root has
 * the smallest snapshot. Counting a query is O(1); each eviction sifts
 * O(log n) per root refreshed, at most one refresh per count increase.
 *
 * Keys are serialised into bytes (layouts at the key builders below), up to
 * KEY_INLINE bytes inside the entry, longer ones in one allocation per
 * entry that the slot keeps for its next key (an eviction allocates only
 * when the newcomer's key is longer). Host and cgroup strings are part of
 * the key bytes; a process entry's comm, cgroup and uid follow its key in
 * the same storage. Names are case-folded (ASCII) before keying.
 *
 * Memory per entry (x86-64), for a flood of 1M random names
 * of 30 bytes, default max_entries 100000, a known process querying one
 * resolver, each name answered NXDOMAIN. STATS_NAME, STATS_PROC_NAME and
 * STATS_CLIENT_NAME fill up; the four other tables hold one entry each.
 *   struct entry                                   264 bytes
 *     hash, chain link, key length and capacity     16
 *     key inline (up to 40 bytes) or its pointer    40
 *     error, first and last seen                    24
 *     20 counters, uint32 (an overflow allocates    80
 *       the high halves, rarely)
 *     qtype slots                                   16
 *     high halves pointer                            8
 *     latency histogram (inline up to 4 buckets)    64
 *     distinct set (two values inline)              16
 *   count                                            8
 *   heap node (count snapshot, slot)                16
 *   hash buckets (2 x 131072 words for 100000)      10.5
 *   key allocation: none, the keys (30, 35 and 36   0
 *     bytes) are inline
 *   => 298.5 bytes per entry, x 300000 entries = 89.6 MB (85.4 MiB), plus
 *   each table's untracked row (a dense histogram and an HLL: 12 KiB);
 *   tools/bench-stats measures 87.5 MiB peak RSS. Names longer than about
 *   34 bytes add a key allocation of their size (+ 8 .. 16): the 150 MiB
 *   target holds for flood names up to about 200 bytes; names of the full
 *   253 bytes would take about 160 MiB.
 * Entries that see more than 4 distinct latency buckets, or more than two
 * distinct names or addresses, grow on the heap (histogram up to 8 KiB, exact
 * set up to 1 KiB, then a 4 KiB HLL); in a random-name flood each name
 * entry has one latency bucket and no address, so none of them grow.
 * Distinct sets: names for STATS_PROCESS, STATS_COMM, STATS_PEER and
 * STATS_PROC_PEER; answer addresses for the three name tables. No table
 * needs both, so one set per entry serves either.
 *
 * STATS_CLIENT_NAME counts every exchange that is not a mirror, whatever
 * the vantage: on a client host its client is the host's own address.
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/hash.h"
#include "analysis/hll.h"
#include "analysis/lathist.h"
#include "analysis/stats.h"

#define NIL		     UINT32_MAX
#define DEFAULT_MAX_ENTRIES  100000
#define MAX_ENTRIES_LIMIT    (1u << 28)
#define FIRST_CAPACITY	     64
#define PREFETCH_MIN_ENTRIES 2048 /* 540 KB of entries: smaller tables stay in cache */
#define KEY_INLINE	     40
#define HOST_CAP	     255 /* host names are cut to this many bytes */
#define CGROUP_CAP	     4096 /* cgroup paths likewise */
#define NAME_CAP	     1024 /* >= DNS_MAX_NAME_TEXT - 1: a whole escaped name */
#define ADDR_KEY_LEN	     17 /* family + up to 16 address bytes */
#define PEER_KEY_LEN	     (ADDR_KEY_LEN + 3) /* + proto + port */
/* After a process entry's key: uid, comm, cgroup length, cgroup bytes. */
#define PROC_ATTR_FIXED (4 + DNSSNOOP_COMM_LEN + 2)
#define HOST_KEY_LEN	(1 + HOST_CAP)
/* Room for the keys of one observation, all tables at once (stats_add). */
#define KEY_BUF                                                                                   \
	((HOST_KEY_LEN + 4) + (HOST_KEY_LEN + 4 + PEER_KEY_LEN) + (HOST_KEY_LEN + 4 + NAME_CAP) + \
	 (HOST_KEY_LEN + DNSSNOOP_COMM_LEN + CGROUP_CAP) + PEER_KEY_LEN +                         \
	 (HOST_KEY_LEN + ADDR_KEY_LEN + NAME_CAP))

/* An entry's counters, as uint32 with lazily allocated high halves. */
enum counter {
	C_UNANSWERED,
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
#define DSET_FIRST_LOG2 3

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

/*
 * The set and histogram updates of one observation, run after every
 * table's entry is updated: back to back, the cache misses of the HLL
 * registers and histogram buckets of different entries overlap.
 */
struct deferred {
	struct dset *names[STATS_NTABLES];
	struct dset *addrs[STATS_NTABLES];
	struct lathist *lat[STATS_NTABLES];
	int nnames, naddrs, nlat;
};

/* What stats_add() derives once per observation, for every table. */
struct obs_view {
	const struct dns_obs *o;
	struct deferred d;
	bool has_name;
	size_t name_len;
	uint64_t name_hash; /* set_hash() of the folded name */
	int naddrs;
	uint64_t addr_hash[OBS_MAX_ADDRS];
	size_t host_len; /* bytes of the host prefix in host_key */
	uint8_t host_key[1 + HOST_CAP];
};

/* One table's key for the observation, between hashing and updating. */
struct lookup {
	struct table *t;
	const uint8_t *key;
	size_t klen;
	size_t reserve; /* bytes after the key (process attributes) */
	uint64_t hash;
	uint32_t head; /* first slot of the key's chain */
};

/* The lookups of one observation: other tables (LOOK_OTHER), then name-keyed ones. */
enum look_group { LOOK_OTHER, LOOK_BY_NAME, LOOK_GROUPS };

struct stats {
	struct table t[STATS_NTABLES];
	struct obs_view v;
	struct lookup look[LOOK_GROUPS][STATS_NTABLES];
	int nlook[LOOK_GROUPS];
	char name[NAME_CAP]; /* the folded qname of the observation */
	uint8_t keys[KEY_BUF]; /* the observation's keys, one after the other */
};

static bool table_counts_names(enum stats_table id)
{
	return id == STATS_PROCESS || id == STATS_COMM || id == STATS_PEER || id == STATS_PROC_PEER;
}

static bool table_keyed_by_name(enum stats_table id)
{
	return id == STATS_NAME || id == STATS_PROC_NAME || id == STATS_CLIENT_NAME;
}

static bool table_counts_addrs(enum stats_table id)
{
	return table_keyed_by_name(id);
}

static size_t addr_len(uint8_t family)
{
	return family == AF_INET ? 4 : 16;
}

/* ---- counters ---- */

static uint64_t cnt_get(const struct entry *e, int i)
{
	return e->lo[i] + (e->hi ? (uint64_t)e->hi[i] << 32 : 0);
}

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

static void cnt_carry(struct entry *e, int i)
{
	if (!cnt_need_hi(e)) {
		e->lo[i] = UINT32_MAX;
		return;
	}
	e->hi[i]++;
}

static inline void cnt_add(struct entry *e, int i, uint32_t v)
{
	uint32_t old = e->lo[i];

	e->lo[i] = old + v;
	if (__builtin_expect(e->lo[i] < old, 0))
		cnt_carry(e, i);
}

static void cnt_add64(struct entry *e, int i, uint64_t v)
{
	if (v)
		cnt_set(e, i, cnt_get(e, i) + v);
}

/* ---- distinct sets ---- */

static enum dset_mode dset_mode(const struct dset *d)
{
	return d->small[0] == 0 || (d->small[0] & 1) ? DSET_SMALL : (enum dset_mode)d->mode;
}

static void dset_free(struct dset *d)
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

static void table_put(uint64_t *table, uint32_t mask, uint64_t v)
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
	DSET_FOR_EACH(d, v, (table_put(t, mask, v), n++));
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
static void dset_add(struct dset *d, uint64_t v)
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

static uint64_t dset_count(const struct dset *d, bool *estimated)
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

static const uint8_t *entry_key(const struct entry *e)
{
	return e->kcap ? e->kptr : e->kin;
}

static uint8_t *entry_key_mut(struct entry *e)
{
	return e->kcap ? e->kptr : e->kin;
}

/* Bytes after the key: a process entry's attributes. */
static size_t entry_attr_len(const struct table *t, const struct entry *e)
{
	uint16_t cglen;

	if (t->id != STATS_PROCESS)
		return 0;
	memcpy(&cglen, entry_key(e) + e->klen + 4 + DNSSNOOP_COMM_LEN, 2);
	return PROC_ATTR_FIXED + cglen;
}

/* Empties the figures, keeping the key storage for the slot's next key. */
static void entry_clear(struct entry *e)
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

static void entry_destroy(struct entry *e)
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
static int entry_key_room(struct entry *e, size_t need)
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

static void entry_set_key(struct entry *e, uint64_t h, const uint8_t *key, size_t klen)
{
	memcpy(entry_key_mut(e), key, klen);
	e->klen = (uint16_t)klen;
	e->hash = h;
}

static int rcode_column(uint16_t rcode)
{
	switch (rcode) {
	case 0:
		return RC_NOERROR;
	case 2:
		return RC_SERVFAIL;
	case 3:
		return RC_NXDOMAIN;
	case 5:
		return RC_REFUSED;
	default:
		return RC_OTHER;
	}
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

/* One query of qtype (the common case of qtype_add(), without 64-bit arithmetic). */
static void qtype_count1(struct entry *e, uint16_t qtype)
{
	int i;

	for (i = 0; i < STATS_QTYPE_SLOTS && e->qtype[i]; i++) {
		if (e->qtype[i] == qtype) {
			cnt_add(e, C_QTYPE + i, 1);
			return;
		}
	}
	if (qtype && i < STATS_QTYPE_SLOTS) {
		e->qtype[i] = qtype;
		cnt_add(e, C_QTYPE + i, 1);
		return;
	}
	cnt_add(e, C_QTYPE_OTHER, 1);
}

static void entry_observe(const struct table *t, struct entry *e, struct obs_view *v)
{
	const struct dns_obs *o = v->o;

	if (o->ts_ns < e->first_ns)
		e->first_ns = o->ts_ns;
	if (o->ts_ns > e->last_ns)
		e->last_ns = o->ts_ns;
	if (o->kind != OBS_UNANSWERED) {
		if (o->proto == IPPROTO_UDP)
			cnt_add(e, C_UDP, 1);
		else if (o->proto == IPPROTO_TCP)
			cnt_add(e, C_TCP, 1);
	}
	switch (o->kind) {
	case OBS_QUERY:
		qtype_count1(e, o->qtype);
		cnt_add(e, C_BYTES_QUERY, o->len);
		break;
	case OBS_RESPONSE:
		cnt_add(e, C_RCODE + rcode_column(o->rcode), 1);
		cnt_add(e, C_BYTES_RESPONSE, o->len);
		if (o->tc)
			cnt_add(e, C_TRUNCATED, 1);
		if (o->has_latency)
			v->d.lat[v->d.nlat++] = &e->lat;
		if (v->naddrs && t->counts_addrs)
			v->d.addrs[v->d.naddrs++] = &e->set;
		break;
	default:
		cnt_add(e, C_UNANSWERED, 1);
	}
	if (v->has_name && t->counts_names)
		v->d.names[v->d.nnames++] = &e->set;
}

static void run_deferred(struct obs_view *v)
{
	struct deferred *d = &v->d;

	for (int i = 0; i < d->nlat; i++)
		lathist_record(d->lat[i], v->o->latency_ns);
	for (int i = 0; i < d->nnames; i++)
		dset_add(d->names[i], v->name_hash);
	for (int i = 0; i < d->naddrs; i++)
		for (int a = 0; a < v->naddrs; a++)
			dset_add(d->addrs[i], v->addr_hash[a]);
	d->nnames = d->naddrs = d->nlat = 0;
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
static void entry_merge_figures(struct entry *d, const struct entry *s)
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

/* dst's figures and error += src's (the counts are the caller's). */
static void entry_add(struct entry *d, const struct entry *s)
{
	d->error += s->error;
	entry_merge_figures(d, s);
}

/* ---- tables: chains, growth, heap ---- */

/*
 * Hashing. hash_bytes() (hash.h) runs a full mix64 per 8 bytes, one after
 * the other: with seven keys per observation (the comm key alone is about
 * 50 bytes) that was 40% of stats_add(). This is the wyhash construction
 * instead: a 64x64->128-bit multiply, folded, per 16 bytes. With random
 * secrets per table, keys cannot be aimed at one chain.
 */
static inline uint64_t mum_fold(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

static inline uint64_t load32(const uint8_t *p)
{
	uint32_t w;

	memcpy(&w, p, 4);
	return w;
}

static uint64_t fast_hash(const void *data, size_t len, const uint64_t secret[2])
{
	const uint8_t *p = data;
	uint64_t seed = mum_fold(secret[0] ^ len, secret[1]), a, b;

	if (len <= 16) {
		if (len >= 4) { /* two overlapping pairs of 4-byte words */
			size_t mid = (len >> 3) << 2;

			a = load32(p) << 32 | load32(p + mid);
			b = load32(p + len - 4) << 32 | load32(p + len - 4 - mid);
		} else if (len > 0) {
			a = (uint64_t)p[0] << 16 | (uint64_t)p[len >> 1] << 8 | p[len - 1];
			b = 0;
		} else {
			a = b = 0;
		}
	} else {
		size_t i = len;

		for (; i > 16; i -= 16, p += 16)
			seed = mum_fold(load64(p) ^ secret[1], load64(p + 8) ^ seed);
		a = load64(p + i - 16);
		b = load64(p + i - 8);
	}
	return mum_fold(mum_fold(a ^ secret[1], b ^ seed) ^ secret[0], seed ^ secret[1]);
}

/*
 * The hash kept in distinct sets: the same in every struct stats, so sets
 * and sketches of different tables and intervals merge. Its secrets are
 * public (like HLL_SEED, see hll.h): crafted values can only skew a count
 * shown as exact-or-estimated, and a set's probing is bounded (128 slots).
 */
static const uint64_t set_secret[2] = {0x8ebc6af09c88c6e3ULL, 0x589965cc75374cc3ULL};

static uint64_t set_hash(const void *data, size_t len)
{
	return fast_hash(data, len, set_secret);
}

static uint64_t key_hash(const struct table *t, const uint8_t *key, size_t klen)
{
	return fast_hash(key, klen, t->secret);
}

static uint32_t bucket_head(const struct table *t, uint64_t h)
{
	return t->bucket ? t->bucket[h & t->bucket_mask] : NIL;
}

/* The slot of key in the chain starting at slot i, or NIL. Inline: run 7 times an observation. */
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

static uint32_t table_find_key(const struct table *t, const uint8_t *key, size_t klen)
{
	uint64_t h = key_hash(t, key, klen);

	return chain_find(t, bucket_head(t, h), h, key, klen);
}

static void chain_link(struct table *t, uint32_t i)
{
	uint32_t *head = &t->bucket[t->e[i].hash & t->bucket_mask];

	t->e[i].next = *head;
	*head = i;
}

static void chain_unlink(struct table *t, uint32_t i)
{
	uint32_t *link = &t->bucket[t->e[i].hash & t->bucket_mask];

	while (*link != i)
		link = &t->e[*link].next;
	*link = t->e[i].next;
}

/* A bucket array of n heads (a power of two), every used slot relinked. */
static int table_rehash(struct table *t, uint32_t n)
{
	uint32_t *b = malloc((size_t)n * sizeof(*b));

	if (!b)
		return -ENOMEM;
	free(t->bucket);
	t->bucket = b;
	t->bucket_mask = n - 1;
	memset(b, 0xff, (size_t)n * sizeof(*b)); /* NIL */
	for (uint32_t i = 0; i < t->used; i++)
		chain_link(t, i);
	return 0;
}

static int table_grow(struct table *t)
{
	uint32_t ncap = t->cap ? t->cap * 2 : FIRST_CAPACITY;
	uint32_t nbuckets;
	uint64_t *count;
	struct entry *e;

	if (t->cap >= t->max)
		return -ENOSPC;
	if (ncap > t->max || ncap < t->cap)
		ncap = t->max;
	count = realloc(t->count, (size_t)ncap * sizeof(*count));
	if (!count)
		return -ENOMEM;
	t->count = count;
	e = realloc(t->e, (size_t)ncap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	t->e = e;
	t->cap = ncap;
	/* Load <= 1/2: a lookup of an absent key (every eviction) walks 0.5 entries. */
	nbuckets = hash_roundup_pow2(ncap) * 2;
	if (!t->bucket || nbuckets != t->bucket_mask + 1)
		if (table_rehash(t, nbuckets) && !t->bucket)
			return -ENOMEM; /* longer chains are fine; no chains are not */
	return 0;
}

/* What evicting v will touch besides its entry: its bucket and exact set. */
static void prefetch_victim(const struct table *t, const struct entry *v)
{
	__builtin_prefetch(&t->bucket[v->hash & t->bucket_mask], 1);
	if (dset_mode(&v->set) == DSET_TABLE)
		__builtin_prefetch(v->set.table);
}

static void prefetch_entry(const struct entry *e)
{
	for (size_t off = 0; off < sizeof(*e); off += 64)
		__builtin_prefetch((const char *)e + off, 1);
}

/*
 * The heap is 4-ary, its node k stored at heap_mem[k + HEAP_SKEW] in a
 * 64-byte aligned array: the four children of a node (4k+1 .. 4k+4) then
 * fill one cache line, and a sift down a 100000-entry heap crosses 9
 * lines, against 17 for a binary heap.
 */
#define HEAP_ARITY 4
#define HEAP_SKEW  3

static struct heap_node *heap_nodes(const struct table *t)
{
	return t->heap + HEAP_SKEW;
}

static void heap_sift_down(struct heap_node *h, uint32_t n, uint32_t i)
{
	struct heap_node x = h[i];

	for (;;) {
		uint32_t c = HEAP_ARITY * i + 1, end = c + HEAP_ARITY, best = c;

		if (c >= n)
			break;
		if (end > n)
			end = n;
		for (uint32_t j = c + 1; j < end; j++)
			if (h[j].count < h[best].count)
				best = j;
		if (h[best].count >= x.count)
			break;
		h[i] = h[best];
		i = best;
	}
	h[i] = x;
}

static int heap_build(struct table *t)
{
	struct heap_node *h;

	if (t->heap_cap < t->used) {
		size_t bytes = ((size_t)t->cap + HEAP_SKEW) * sizeof(*h);

		h = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
		if (!h)
			return -ENOMEM;
		free(t->heap);
		t->heap = h;
		t->heap_cap = t->cap;
	}
	h = heap_nodes(t);
	for (uint32_t i = 0; i < t->used; i++)
		h[i] = (struct heap_node){.count = t->count[i], .idx = i};
	for (uint32_t i = t->used > 1 ? (t->used - 2) / HEAP_ARITY + 1 : 0; i-- > 0;)
		heap_sift_down(h, t->used, i);
	t->heap_valid = true;
	return 0;
}

static uint32_t table_min_scan(const struct table *t)
{
	uint32_t best = 0;

	for (uint32_t i = 1; i < t->used; i++)
		if (t->count[i] < t->count[best])
			best = i;
	return best;
}

/* The slot with the smallest count (NIL when empty). */
static uint32_t table_min(struct table *t)
{
	if (!t->used)
		return NIL;
	if (!t->heap_valid && heap_build(t))
		return table_min_scan(t); /* out of memory: O(n), still right */
	for (;;) {
		struct heap_node *root = heap_nodes(t);
		uint64_t count = t->count[root->idx];

		if (count == root->count)
			return root->idx;
		root->count = count;
		heap_sift_down(root, t->used, 0);
	}
}

/*
 * A table that evicts once tends to evict again soon (a flood, a long
 * tail): find the next victim now and prefetch its entry, and
 * run_lookups() prefetches its bucket with the next observation's, so the
 * next eviction's cache misses overlap the lookups instead of following
 * them. Called after the newcomer's count is final.
 */
static void prepare_next_victim(struct table *t)
{
	uint32_t v = table_min(t);

	t->next_victim = v;
	if (v != NIL)
		prefetch_entry(&t->e[v]); /* its count was read: cached */
}

/* A new slot for the key if the table has room, its count the absent bound. */
static uint32_t table_insert(struct table *t, uint64_t h, const uint8_t *key, size_t klen,
			     size_t reserve)
{
	uint32_t i;
	struct entry *e;

	if (t->used == t->cap && table_grow(t))
		return NIL;
	i = t->used;
	e = &t->e[i];
	if (i == t->init) {
		memset(e, 0, sizeof(*e));
		t->init++;
	}
	if (entry_key_room(e, klen + reserve))
		return NIL;
	entry_clear(e);
	entry_set_key(e, h, key, klen);
	t->count[i] = e->error = t->absent_bound;
	chain_link(t, i);
	t->used++;
	t->heap_valid = false;
	t->next_victim = NIL;
	return i;
}

/*
 * Replaces slot i's key (a victim, the smallest count) with a new one.
 * Its figures go to the untracked row; its count stays as the newcomer's
 * base and error (Space-Saving) unless drop_count (a merge cutting the
 * union to size), where the count goes to the untracked row too.
 */
static uint32_t table_replace(struct table *t, uint32_t i, uint64_t h, const uint8_t *key,
			      size_t klen, size_t reserve, bool drop_count)
{
	struct entry *e = &t->e[i];
	uint64_t count = t->count[i];

	if (entry_key_room(e, klen + reserve))
		return NIL;
	chain_unlink(t, i);
	entry_merge_figures(&t->untracked, e);
	if (drop_count) {
		t->untracked_count += count;
		t->untracked.error += e->error;
	}
	entry_clear(e);
	entry_set_key(e, h, key, klen);
	t->count[i] = e->error = drop_count ? 0 : count;
	chain_link(t, i);
	t->evictions++;
	if (count > t->absent_bound)
		t->absent_bound = count;
	return i;
}

/*
 * The table's entry for the key: found, created while there is room, or
 * (queries only) put in place of the smallest count. NIL: the figures go
 * to the untracked row. *created tells a new key from a found one,
 * *evicted a newcomer that replaced another.
 */
static uint32_t table_entry_for(struct table *t, const struct lookup *l, bool query, bool *created,
				bool *evicted)
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

/* One observation into one table; returns the entry if it was created. */
static struct entry *table_observe(const struct lookup *l, struct obs_view *v)
{
	struct table *t = l->t;
	bool query = v->o->kind == OBS_QUERY, created, evicted;
	uint32_t i = table_entry_for(t, l, query, &created, &evicted);

	if (query)
		t->total_queries++;
	if (i == NIL) {
		if (query)
			t->untracked_count++;
		entry_observe(t, &t->untracked, v);
		return NULL;
	}
	if (query)
		t->count[i]++;
	if (evicted)
		prepare_next_victim(t);
	entry_observe(t, &t->e[i], v);
	return created ? &t->e[i] : NULL;
}

static void table_init(struct table *t, enum stats_table id, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->id = id;
	t->counts_names = table_counts_names(id);
	t->counts_addrs = table_counts_addrs(id);
	t->max = (uint32_t)max;
	t->next_victim = NIL;
	t->secret[0] = hash_random_seed(t) | 1;
	t->secret[1] = hash_mix64(t->secret[0] ^ hash_random_seed(&t->secret)) | 1;
	entry_clear(&t->untracked);
}

static void table_reset(struct table *t)
{
	for (uint32_t i = 0; i < t->used; i++)
		entry_clear(&t->e[i]);
	if (t->bucket)
		memset(t->bucket, 0xff, ((size_t)t->bucket_mask + 1) * sizeof(*t->bucket));
	t->used = 0;
	t->heap_valid = false;
	t->next_victim = NIL;
	t->total_queries = t->evictions = t->absent_bound = t->untracked_count = 0;
	entry_clear(&t->untracked);
}

static void table_destroy(struct table *t)
{
	for (uint32_t i = 0; i < t->init; i++)
		entry_destroy(&t->e[i]);
	entry_destroy(&t->untracked);
	free(t->e);
	free(t->count);
	free(t->bucket);
	free(t->heap);
}

/* ---- public: life cycle ---- */

struct stats *stats_new(const struct stats_config *cfg)
{
	size_t max = cfg && cfg->max_entries ? cfg->max_entries : DEFAULT_MAX_ENTRIES;
	struct stats *s;

	if (max > MAX_ENTRIES_LIMIT)
		max = MAX_ENTRIES_LIMIT;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	for (int i = 0; i < STATS_NTABLES; i++)
		table_init(&s->t[i], (enum stats_table)i, max);
	return s;
}

void stats_free(struct stats *s)
{
	if (!s)
		return;
	for (int i = 0; i < STATS_NTABLES; i++)
		table_destroy(&s->t[i]);
	free(s);
}

void stats_reset(struct stats *s)
{
	if (!s)
		return;
	for (int i = 0; i < STATS_NTABLES; i++)
		table_reset(&s->t[i]);
}

/* ---- public: adding observations ---- */

/*
 * Key layouts (multi-byte integers in host order; the keys never leave
 * the process):
 *   host    = [len u8][len bytes]            (len 0: this host)
 *   address = [family u8][4 or 16 bytes]
 *   peer    = address [proto u8][port u16]
 *   STATS_PROCESS      host [tgid u32]        + attributes (not key):
 *                                             [uid u32][comm 16][cglen u16][cgroup]
 *   STATS_COMM         host [comm 16, NUL-padded][cgroup bytes]
 *   STATS_PEER         peer
 *   STATS_NAME         name
 *   STATS_PROC_PEER    host [tgid u32] peer
 *   STATS_PROC_NAME    host [tgid u32] name
 *   STATS_CLIENT_NAME  host address name
 */
static size_t put_addr(uint8_t *p, uint8_t family, const uint8_t *addr)
{
	size_t n = addr_len(family);

	p[0] = family;
	memcpy(p + 1, addr, n);
	return n + 1;
}

/*
 * A server's peers are its clients, each query from a fresh ephemeral
 * port: keyed by port they would never add up (and would fill the table),
 * so a client is keyed by address and transport, with port 0.
 */
static size_t put_peer(uint8_t *p, const struct dns_obs *o)
{
	bool server = obs_server_vantage(o);
	uint16_t port = server ? 0 : o->server_port;
	size_t n = put_addr(p, o->family, server ? o->client_addr : o->server_addr);

	p[n] = o->proto;
	memcpy(p + n + 1, &port, 2);
	return n + 3;
}

static size_t put_comm(uint8_t *p, const char *comm)
{
	size_t n = strnlen(comm, DNSSNOOP_COMM_LEN);

	memcpy(p, comm, n);
	memset(p + n, 0, DNSSNOOP_COMM_LEN - n);
	return DNSSNOOP_COMM_LEN;
}

static size_t cgroup_len(const char *cgroup)
{
	return cgroup ? strnlen(cgroup, CGROUP_CAP) : 0;
}

static void put_proc_attrs(struct entry *e, const struct dns_obs *o)
{
	uint8_t *p = entry_key_mut(e) + e->klen;
	uint16_t cglen = (uint16_t)cgroup_len(o->cgroup);

	memcpy(p, &o->owner->uid, 4);
	put_comm(p + 4, o->owner->comm);
	memcpy(p + 4 + DNSSNOOP_COMM_LEN, &cglen, 2);
	if (cglen)
		memcpy(p + PROC_ATTR_FIXED, o->cgroup, cglen);
}

/* Queues table id's key for run_lookups(). */
static inline void push_lookup(struct stats *s, enum stats_table id, const uint8_t *key,
			       size_t klen, size_t reserve)
{
	struct table *t = &s->t[id];
	enum look_group g = table_keyed_by_name(id) ? LOOK_BY_NAME : LOOK_OTHER;
	struct lookup *l = &s->look[g][s->nlook[g]++];

	l->t = t;
	l->key = key;
	l->klen = klen;
	l->reserve = reserve;
	l->hash = key_hash(l->t, key, klen);
	if (l->t->bucket)
		__builtin_prefetch(&l->t->bucket[l->hash & l->t->bucket_mask]);
}

/* PROCESS, PROC_PEER, PROC_NAME (sharing the host+tgid prefix), COMM. Returns bytes used. */
static size_t queue_process_tables(struct stats *s, const struct dns_obs *o, uint8_t *k)
{
	const struct obs_view *v = &s->v;
	size_t pre = v->host_len + 4, n, cglen = cgroup_len(o->cgroup);
	uint8_t *start = k;

	memcpy(k, v->host_key, v->host_len);
	memcpy(k + v->host_len, &o->owner->tgid, 4);
	push_lookup(s, STATS_PROCESS, k, pre, PROC_ATTR_FIXED + cglen);
	k += pre;

	memcpy(k, start, pre);
	n = pre + put_peer(k + pre, o);
	push_lookup(s, STATS_PROC_PEER, k, n, 0);
	k += n;

	if (v->has_name) {
		memcpy(k, start, pre);
		memcpy(k + pre, s->name, v->name_len);
		push_lookup(s, STATS_PROC_NAME, k, pre + v->name_len, 0);
		k += pre + v->name_len;
	}

	memcpy(k, v->host_key, v->host_len);
	n = v->host_len + put_comm(k + v->host_len, o->owner->comm);
	if (cglen)
		memcpy(k + n, o->cgroup, cglen);
	push_lookup(s, STATS_COMM, k, n + cglen, 0);
	k += n + cglen;
	return (size_t)(k - start);
}

/* PEER, NAME, CLIENT_NAME: every exchange once (mirrors skipped). */
static void queue_host_tables(struct stats *s, const struct dns_obs *o, uint8_t *k)
{
	const struct obs_view *v = &s->v;
	size_t n = put_peer(k, o);

	push_lookup(s, STATS_PEER, k, n, 0);
	k += n;
	if (!v->has_name)
		return;
	push_lookup(s, STATS_NAME, (const uint8_t *)s->name, v->name_len, 0);
	memcpy(k, v->host_key, v->host_len);
	n = v->host_len + put_addr(k + v->host_len, o->family, o->client_addr);
	memcpy(k + n, s->name, v->name_len);
	push_lookup(s, STATS_CLIENT_NAME, k, n + v->name_len, 0);
}

static void update_table(struct stats *s, const struct lookup *l)
{
	struct entry *created = table_observe(l, &s->v);

	if (created && l->t->id == STATS_PROCESS)
		put_proc_attrs(created, s->v.o);
}

/*
 * The tables are updated in passes so that their cache misses overlap
 * instead of following each other: every table's bucket word is requested
 * (push_lookup(), and the next victim's where one is prepared), then every
 * chain head's entry, then the entries are updated (each table appears
 * once, so updating one cannot move another's slots). The name tables are
 * the large ones, whose entries come from memory rather than cache: their
 * entries are requested first and updated last, after the other tables
 * and those tables' set and histogram updates.
 */
/* Reads the chain heads of a group's keys, requesting their entries. */
static void find_heads(struct lookup *look, int n)
{
	for (int i = 0; i < n; i++) {
		struct lookup *l = &look[i];

		l->head = bucket_head(l->t, l->hash);
		/* Small tables stay in cache; prefetches would only queue up. */
		if (l->head != NIL && l->t->used > PREFETCH_MIN_ENTRIES) {
			prefetch_entry(&l->t->e[l->head]);
			__builtin_prefetch(&l->t->count[l->head], 1);
		}
	}
}

static void run_lookups(struct stats *s)
{
	for (int g = 0; g < LOOK_GROUPS; g++) {
		for (int i = 0; i < s->nlook[g]; i++) {
			const struct table *t = s->look[g][i].t;

			if (t->next_victim != NIL)
				prefetch_victim(t, &t->e[t->next_victim]);
		}
	}
	find_heads(s->look[LOOK_BY_NAME], s->nlook[LOOK_BY_NAME]);
	find_heads(s->look[LOOK_OTHER], s->nlook[LOOK_OTHER]);
	for (int i = 0; i < s->nlook[LOOK_OTHER]; i++)
		update_table(s, &s->look[LOOK_OTHER][i]);
	run_deferred(&s->v);
	for (int i = 0; i < s->nlook[LOOK_BY_NAME]; i++)
		update_table(s, &s->look[LOOK_BY_NAME][i]);
	run_deferred(&s->v);
}

/* ASCII A-Z to a-z in 8 bytes at once: bytes below 0x80 in 'A' .. 'Z' get 0x20. */
static uint64_t fold8(uint64_t w)
{
	uint64_t low7 = w & 0x7f7f7f7f7f7f7f7fULL;
	uint64_t ge_a = low7 + 0x3f3f3f3f3f3f3f3fULL; /* high bit set: >= 'A' */
	uint64_t gt_z = low7 + 0x2525252525252525ULL; /* high bit set: > 'Z' */

	return w | ((ge_a & ~gt_z & ~w & 0x8080808080808080ULL) >> 2);
}

static void fold_name(char *dst, const char *src, size_t len)
{
	size_t i = 0;
	uint64_t w;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, src + i, 8);
		w = fold8(w);
		memcpy(dst + i, &w, 8);
	}
	if (i < len) {
		w = 0;
		memcpy(&w, src + i, len - i);
		w = fold8(w);
		memcpy(dst + i, &w, len - i);
	}
}

/* Case-folds the name, hashes it and the answer addresses, builds the host prefix. */
static void view_prepare(struct stats *s, const struct dns_obs *o)
{
	struct obs_view *v = &s->v;
	size_t hlen = o->host ? strnlen(o->host, HOST_CAP) : 0;

	v->o = o;
	v->has_name = o->qname != NULL;
	v->name_len = 0;
	if (v->has_name) {
		v->name_len = o->qname_len < NAME_CAP ? o->qname_len : NAME_CAP;
		fold_name(s->name, o->qname, v->name_len);
		v->name_hash = set_hash(s->name, v->name_len);
	}
	v->naddrs = 0;
	if (o->kind == OBS_RESPONSE && o->naddrs > 0) {
		v->naddrs = o->naddrs < OBS_MAX_ADDRS ? o->naddrs : OBS_MAX_ADDRS;
		for (int i = 0; i < v->naddrs; i++) {
			const struct obs_addr *a = &o->addrs[i];
			uint8_t buf[ADDR_KEY_LEN];

			v->addr_hash[i] = set_hash(buf, put_addr(buf, a->family, a->addr));
		}
	}
	v->host_key[0] = (uint8_t)hlen;
	if (hlen)
		memcpy(v->host_key + 1, o->host, hlen);
	v->host_len = hlen + 1;
}

void stats_add(struct stats *s, const struct dns_obs *o)
{
	size_t used = 0;

	if (!s || !o ||
	    (o->kind != OBS_QUERY && o->kind != OBS_RESPONSE && o->kind != OBS_UNANSWERED))
		return;
	view_prepare(s, o);
	s->nlook[LOOK_OTHER] = s->nlook[LOOK_BY_NAME] = 0;
	if (o->owner && o->owner->tgid)
		used = queue_process_tables(s, o, s->keys);
	if (!o->mirror)
		queue_host_tables(s, o, s->keys + used);
	run_lookups(s);
}

/* ---- public: merging ---- */

/*
 * A key of src that dst lacks, with count c and error err: inserted if
 * there is room, else it replaces dst's smallest entry if c is larger
 * (that entry is cut), else it is cut itself.
 */
static void table_merge_new(struct table *d, const struct table *s, uint32_t j, uint64_t md)
{
	const struct entry *se = &s->e[j];
	uint64_t c = s->count[j] + md, err = se->error + md;
	size_t attrs = entry_attr_len(s, se);
	const uint8_t *key = entry_key(se);
	uint64_t h = key_hash(d, key, se->klen);
	uint32_t i = table_insert(d, h, key, se->klen, attrs);
	struct entry *e;

	if (i == NIL) {
		i = table_min(d);
		if (i != NIL && d->count[i] < c)
			i = table_replace(d, i, h, key, se->klen, attrs, true);
		else
			i = NIL;
	}
	if (i == NIL) {
		entry_merge_figures(&d->untracked, se);
		d->untracked_count += c;
		d->untracked.error += err;
		d->evictions++;
		if (c > d->absent_bound)
			d->absent_bound = c;
		return;
	}
	e = &d->e[i];
	memcpy(entry_key_mut(e) + e->klen, key + se->klen, attrs); /* process attributes */
	d->count[i] = c;
	e->error = err;
	entry_merge_figures(e, se);
}

/*
 * Mergeable Space-Saving (after Agarwal et al., "Mergeable summaries",
 * 2012): a key's merged count is the sum of its counts in both tables,
 * where a table that lacks it contributes its absent bound (no absent key
 * can have more queries there; 0 while the table never evicted) to the
 * count and the error alike; then the union is cut to the max_entries
 * largest counts. Counts stay upper bounds and count - error stays a lower
 * bound. Every key whose true count exceeds the smallest count kept is
 * present; that smallest count is at most 2N/max_entries over the merged
 * N queries (the absent bounds add at most N to the union's sum), against
 * N/max_entries for a table that saw the whole stream. Two tables that
 * never evicted merge exactly.
 */
static int table_merge(struct table *d, const struct table *s)
{
	uint64_t md = d->absent_bound, ms = s->absent_bound;
	uint8_t *common = NULL;

	if (s->used && !(common = calloc(s->used, 1)))
		return -ENOMEM;
	if (ms) {
		for (uint32_t i = 0; i < d->used; i++) {
			struct entry *e = &d->e[i];

			if (table_find_key(s, entry_key(e), e->klen) == NIL) {
				d->count[i] += ms;
				e->error += ms;
			}
		}
	}
	for (uint32_t j = 0; j < s->used; j++) {
		const struct entry *se = &s->e[j];
		uint32_t i = table_find_key(d, entry_key(se), se->klen);

		if (i != NIL) {
			d->count[i] += s->count[j];
			entry_add(&d->e[i], se);
			common[j] = 1;
		}
	}
	for (uint32_t j = 0; j < s->used; j++)
		if (!common[j])
			table_merge_new(d, s, j, md);
	entry_add(&d->untracked, &s->untracked);
	d->untracked_count += s->untracked_count;
	d->total_queries += s->total_queries;
	d->evictions += s->evictions;
	if (md + ms > d->absent_bound)
		d->absent_bound = md + ms;
	free(common);
	return 0;
}

void stats_merge(struct stats *dst, const struct stats *src)
{
	if (!dst || !src || dst == src)
		return;
	for (int i = 0; i < STATS_NTABLES; i++)
		table_merge(&dst->t[i], &src->t[i]);
}

/* ---- public: reading ---- */

uint64_t stats_total_queries(const struct stats *s, enum stats_table t)
{
	return s && (unsigned)t < STATS_NTABLES ? s->t[t].total_queries : 0;
}

uint64_t stats_evictions(const struct stats *s, enum stats_table t)
{
	return s && (unsigned)t < STATS_NTABLES ? s->t[t].evictions : 0;
}

size_t stats_entries(const struct stats *s, enum stats_table t)
{
	return s && (unsigned)t < STATS_NTABLES ? s->t[t].used : 0;
}

/* Key text for the callback, NUL-terminated. */
struct key_text {
	char host[HOST_CAP + 1];
	char comm[DNSSNOOP_COMM_LEN + 1];
	char cgroup[CGROUP_CAP + 1];
	char name[NAME_CAP + 1];
};

static const char *text_of(char *buf, const uint8_t *p, size_t n)
{
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

static const uint8_t *get_host(const uint8_t *p, struct stats_key *k, struct key_text *kt)
{
	if (p[0])
		k->host = text_of(kt->host, p + 1, p[0]);
	return p + 1 + p[0];
}

static const uint8_t *get_addr(const uint8_t *p, struct stats_key *k)
{
	k->family = p[0];
	memcpy(k->addr, p + 1, addr_len(p[0]));
	return p + 1 + addr_len(p[0]);
}

static const uint8_t *get_peer(const uint8_t *p, struct stats_key *k)
{
	p = get_addr(p, k);
	k->proto = p[0];
	memcpy(&k->port, p + 1, 2);
	return p + 3;
}

static void get_cgroup(const uint8_t *p, size_t n, struct stats_key *k, struct key_text *kt)
{
	if (n)
		k->cgroup = text_of(kt->cgroup, p, n);
}

/* comm, cgroup and uid of a process entry (after its key bytes). */
static void get_proc_attrs(const struct entry *e, struct stats_key *k, struct key_text *kt)
{
	const uint8_t *p = entry_key(e) + e->klen;
	uint16_t cglen;

	memcpy(&k->uid, p, 4);
	k->comm = text_of(kt->comm, p + 4, strnlen((const char *)p + 4, DNSSNOOP_COMM_LEN));
	memcpy(&cglen, p + 4 + DNSSNOOP_COMM_LEN, 2);
	get_cgroup(p + PROC_ATTR_FIXED, cglen, k, kt);
}

/* For pair tables: the process's attributes, if its entry is still there. */
static void lookup_proc_attrs(const struct stats *s, const uint8_t *key, size_t len,
			      struct stats_key *k, struct key_text *kt)
{
	const struct table *pt = &s->t[STATS_PROCESS];
	uint32_t i = table_find_key(pt, key, len);

	if (i != NIL)
		get_proc_attrs(&pt->e[i], k, kt);
}

static void decode_key(const struct stats *s, const struct table *t, const struct entry *e,
		       struct stats_key *k, struct key_text *kt)
{
	const uint8_t *key = entry_key(e), *end = key + e->klen, *p = key;

	memset(k, 0, sizeof(*k));
	if (t->id != STATS_PEER && t->id != STATS_NAME)
		p = get_host(p, k, kt);
	switch (t->id) {
	case STATS_PROCESS:
		memcpy(&k->tgid, p, 4);
		get_proc_attrs(e, k, kt);
		return;
	case STATS_COMM:
		k->comm = text_of(kt->comm, p, strnlen((const char *)p, DNSSNOOP_COMM_LEN));
		p += DNSSNOOP_COMM_LEN;
		get_cgroup(p, (size_t)(end - p), k, kt);
		return;
	case STATS_PEER:
		get_peer(p, k);
		return;
	case STATS_PROC_PEER:
	case STATS_PROC_NAME:
		memcpy(&k->tgid, p, 4);
		p += 4;
		lookup_proc_attrs(s, key, (size_t)(p - key), k, kt);
		if (t->id == STATS_PROC_PEER) {
			get_peer(p, k);
			return;
		}
		break;
	case STATS_CLIENT_NAME:
		p = get_addr(p, k);
		break;
	default: /* STATS_NAME */
		break;
	}
	k->name = text_of(kt->name, p, (size_t)(end - p));
}

static int qtype_slot_cmp(const void *a, const void *b)
{
	const struct stats_qtype_count *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return (int)x->qtype - (int)y->qtype;
}

/* The figures of e (count queries); latency is a shallow copy (valid while e is). */
static void entry_figures(const struct table *t, const struct entry *e, uint64_t count,
			  struct stats_figures *f)
{
	memset(f, 0, sizeof(*f));
	f->queries = count;
	f->error = e->error;
	f->unanswered = cnt_get(e, C_UNANSWERED);
	for (int i = 0; i < RC_NCOLS; i++) {
		f->rcode[i] = cnt_get(e, C_RCODE + i);
		f->responses += f->rcode[i];
	}
	for (int i = 0; i < STATS_QTYPE_SLOTS && e->qtype[i]; i++) {
		f->qtypes[i].qtype = e->qtype[i];
		f->qtypes[i].count = cnt_get(e, C_QTYPE + i);
	}
	qsort(f->qtypes, STATS_QTYPE_SLOTS, sizeof(f->qtypes[0]), qtype_slot_cmp);
	f->qtype_other = cnt_get(e, C_QTYPE_OTHER);
	f->udp = cnt_get(e, C_UDP);
	f->tcp = cnt_get(e, C_TCP);
	f->truncated = cnt_get(e, C_TRUNCATED);
	f->bytes_query = cnt_get(e, C_BYTES_QUERY);
	f->bytes_response = cnt_get(e, C_BYTES_RESPONSE);
	f->first_ns = e->first_ns == UINT64_MAX ? 0 : e->first_ns;
	f->last_ns = e->last_ns;
	if (table_counts_names(t->id))
		f->distinct_names = dset_count(&e->set, &f->names_estimated);
	else
		f->distinct_addrs = dset_count(&e->set, &f->addrs_estimated);
	f->latency = e->lat;
}

/* a ranks before b: more queries, then smaller key bytes. */
static int rank_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct table *t = ctx;
	uint32_t ia = *(const uint32_t *)pa, ib = *(const uint32_t *)pb;
	const struct entry *a = &t->e[ia], *b = &t->e[ib];
	int c;

	if (t->count[ia] != t->count[ib])
		return t->count[ia] > t->count[ib] ? -1 : 1;
	c = memcmp(entry_key(a), entry_key(b), a->klen < b->klen ? a->klen : b->klen);
	if (c)
		return c;
	return (int)a->klen - (int)b->klen;
}

/* Sift down in a heap whose root is the worst-ranked of order[0 .. n). */
static void worst_sift_down(const struct table *t, uint32_t *order, size_t n, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1;
		uint32_t tmp;

		if (c >= n)
			return;
		if (c + 1 < n && rank_cmp(&order[c + 1], &order[c], (void *)t) > 0)
			c++;
		if (rank_cmp(&order[c], &order[i], (void *)t) <= 0)
			return;
		tmp = order[i];
		order[i] = order[c];
		order[c] = tmp;
		i = c;
	}
}

/*
 * order[0 .. used): slots with the best n first, sorted; the rest after
 * them in no order. O(used log n) with a heap of the n best so far.
 */
static void rank_entries(const struct table *t, uint32_t *order, size_t n)
{
	for (uint32_t i = 0; i < t->used; i++)
		order[i] = i;
	if (n < t->used) {
		for (size_t i = n / 2; i-- > 0;)
			worst_sift_down(t, order, n, i);
		for (size_t i = n; n && i < t->used; i++) {
			if (rank_cmp(&order[i], &order[0], (void *)t) < 0) {
				uint32_t tmp = order[0];

				order[0] = order[i];
				order[i] = tmp;
				worst_sift_down(t, order, n, 0);
			}
		}
	}
	qsort_r(order, n, sizeof(*order), rank_cmp, (void *)t);
}

/* The rest (order[from ..]) and the untracked row, summed into *others. */
static void sum_others(const struct table *t, const uint32_t *order, size_t from,
		       struct stats_figures *others)
{
	uint64_t count = t->untracked_count;
	struct entry rest;

	memset(&rest, 0, sizeof(rest));
	entry_clear(&rest);
	entry_add(&rest, &t->untracked);
	for (size_t i = from; i < t->used; i++) {
		count += t->count[order[i]];
		entry_add(&rest, &t->e[order[i]]);
	}
	entry_figures(t, &rest, count, others); /* others->latency takes rest's histogram */
	dset_free(&rest.set);
	free(rest.hi);
}

void stats_top(const struct stats *s, enum stats_table tid, size_t n, stats_entry_fn fn, void *ctx,
	       struct stats_figures *others)
{
	const struct table *t;
	struct key_text *kt;
	uint32_t *order;

	if (others)
		memset(others, 0, sizeof(*others));
	if (!s || (unsigned)tid >= STATS_NTABLES)
		return;
	t = &s->t[tid];
	if (n == 0 || n > t->used)
		n = t->used;
	order = malloc(((size_t)t->used + 1) * sizeof(*order));
	kt = malloc(sizeof(*kt));
	if (order && kt) {
		rank_entries(t, order, n);
		for (size_t i = 0; fn && i < n; i++) {
			const struct entry *e = &t->e[order[i]];
			struct stats_figures f;
			struct stats_key k;

			decode_key(s, t, e, &k, kt);
			entry_figures(t, e, t->count[order[i]], &f);
			fn(ctx, &k, &f);
		}
		if (others)
			sum_others(t, order, n, others);
	}
	free(order);
	free(kt);
}
