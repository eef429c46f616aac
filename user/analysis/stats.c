// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Statistics tables (contract in stats.h): the eight DNS tables, their
 * keys, and what each observation adds to them. Each is a bounded
 * Space-Saving table (stats_table.c) of entries whose figures are counters
 * and distinct sets (stats_entry.c); the layout they share, and the
 * lookup on the hot path, are in stats_impl.h.
 *
 * Keys are serialised into bytes (layouts at the key builders below). Host
 * and cgroup strings are part of the key bytes; a process entry's comm,
 * cgroup and uid follow its key in the same storage. Names are case-folded
 * (ASCII) before keying.
 *
 * Distinct sets: names for STATS_PROCESS, STATS_COMM, STATS_PEER,
 * STATS_CLIENT and STATS_PROC_PEER; answer addresses for the three name
 * tables. No table
 * needs both, so one set per entry serves either.
 *
 * STATS_CLIENT and STATS_CLIENT_NAME count every exchange that is not a
 * mirror, whatever the vantage: on a client host its client is the host's
 * own address.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "analysis/lathist.h"
#include "analysis/stats.h"
#include "analysis/stats_impl.h"

#define DEFAULT_MAX_ENTRIES  100000
#define MAX_ENTRIES_LIMIT    (1u << 28)
#define PREFETCH_MIN_ENTRIES 2048 /* 540 KB of entries: smaller tables stay in cache */
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
/* STATS_CLIENT's key is the prefix of STATS_CLIENT_NAME's: it takes no room of its own. */

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
	return id == STATS_PROCESS || id == STATS_COMM || id == STATS_PEER || id == STATS_CLIENT ||
	       id == STATS_PROC_PEER;
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

/* ---- observations into entries ---- */

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
		if (o->retransmit)
			cnt_add(e, C_RETRANSMITS, 1);
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

/* ---- public: life cycle ---- */

/* Table id of a struct stats, empty: its key layout (id) and what its distinct sets count. */
static void stats_table_init(struct table *t, enum stats_table id, size_t max)
{
	table_init(t, max);
	t->id = id;
	t->counts_names = table_counts_names(id);
	t->counts_addrs = table_counts_addrs(id);
}

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
		stats_table_init(&s->t[i], (enum stats_table)i, max);
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
 *   STATS_CLIENT       host address
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

/* Bytes after the key: a process entry's attributes. */
size_t entry_attr_len(const struct table *t, const struct entry *e)
{
	uint16_t cglen;

	if (t->id != STATS_PROCESS)
		return 0;
	memcpy(&cglen, entry_key(e) + e->klen + 4 + DNSSNOOP_COMM_LEN, 2);
	return PROC_ATTR_FIXED + cglen;
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

/*
 * PEER, NAME, CLIENT, CLIENT_NAME: every exchange once (mirrors skipped).
 * The client key (host, address) is the start of the client x name key.
 */
static void queue_host_tables(struct stats *s, const struct dns_obs *o, uint8_t *k)
{
	const struct obs_view *v = &s->v;
	size_t n = put_peer(k, o);

	push_lookup(s, STATS_PEER, k, n, 0);
	k += n;
	memcpy(k, v->host_key, v->host_len);
	n = v->host_len + put_addr(k + v->host_len, o->family, o->client_addr);
	push_lookup(s, STATS_CLIENT, k, n, 0);
	if (!v->has_name)
		return;
	push_lookup(s, STATS_NAME, (const uint8_t *)s->name, v->name_len, 0);
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
	case STATS_CLIENT:
		get_addr(p, k);
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
	f->retransmits = cnt_get(e, C_RETRANSMITS);
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
