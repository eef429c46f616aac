// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The counts behind --top-live: see toplive.h. A table is a chained hash
 * over entries that also sit on a recency list (most recent first), so
 * that a full table gives up its least recently seen entry in O(1). Keys
 * are byte strings: a process is 'p', its tgid, comm and cgroup id (or 'c' and the
 * client's address when no process is known: captures read back); a
 * server is its family and address; a name is its case-folded text.
 */
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/mirror.h"
#include "capture/cgroup_ident.h"
#include "lib/fmt.h"
#include "lib/hash.h"
#include "lib/units.h"
#include "report/toplive.h"

#define KEY_MAX 256 /* a name's text (at most 253 bytes) fits, and the other keys */
/*
 * Latency buckets: 16.384 us units (ns >> 14), four sub-buckets per power
 * of two, so a percentile is at most 25% high; the top bucket holds
 * everything from 2^21 units (34 s) up.
 */
#define LAT_SHIFT   14
#define LAT_SUB	    4
#define LAT_BUCKETS 80
/* Exchanges remembered to recognise a local server's copy of them. */
#define MIRROR_CAPACITY 65536
#define MIRROR_TTL_NS	(5 * NS_PER_SEC)

enum table_id { T_PROCESSES, T_NAMES, T_SERVERS, T_N };

/* One second of an entry's counts; sec 0: never used. */
struct sec_counts {
	uint64_t sec;
	uint32_t queries, responses;
	uint32_t rc[TOPLIVE_NRC];
	uint16_t lat[LAT_BUCKETS]; /* saturating */
};

struct entry {
	struct entry *hnext; /* hash chain */
	struct entry *newer, *older; /* recency list */
	uint16_t keylen;
	uint8_t key[KEY_MAX];
	struct sec_counts win[TOPLIVE_WINDOW];
};

struct table {
	struct entry **buckets;
	uint32_t mask;
	size_t n, max;
	struct entry *newest, *oldest;
	uint64_t secret[2];
};

struct toplive {
	struct table tab[T_N];
	struct mirror_set *mirrors;
	cgroup_ident_fn cgroup_ident;
	void *cgroup_ctx;
	uint64_t now_ns, first_ns;
	/* All processes' queries, for the header: one bucket per second. */
	uint64_t total_sec[TOPLIVE_WINDOW];
	uint32_t total_q[TOPLIVE_WINDOW];
};

static int table_init(struct table *tb, size_t max)
{
	uint32_t slots = hash_roundup_pow2((uint32_t)max * 2);

	tb->max = max;
	tb->mask = slots - 1;
	hash_fast_secrets(tb->secret, hash_random_seed(tb));
	tb->buckets = calloc(slots, sizeof(*tb->buckets));
	return tb->buckets ? 0 : -1;
}

static void table_free(struct table *tb)
{
	struct entry *e = tb->newest, *next;

	for (; e; e = next) {
		next = e->older;
		free(e);
	}
	free(tb->buckets);
}

struct toplive *toplive_new(const struct toplive_config *cfg)
{
	struct toplive *t = calloc(1, sizeof(*t));
	size_t max = cfg->max_entries;
	bool ok;

	if (!t)
		return NULL;
	if (!max || max > TOPLIVE_MAX_ENTRIES)
		max = TOPLIVE_MAX_ENTRIES;
	t->cgroup_ident = cfg->cgroup_ident;
	t->cgroup_ctx = cfg->cgroup_ctx;
	t->mirrors = mirror_new(MIRROR_CAPACITY, MIRROR_TTL_NS);
	ok = t->mirrors != NULL;
	for (int i = 0; i < T_N; i++)
		ok = table_init(&t->tab[i], max) == 0 && ok;
	if (ok)
		return t;
	toplive_free(t);
	return NULL;
}

void toplive_free(struct toplive *t)
{
	if (!t)
		return;
	for (int i = 0; i < T_N; i++)
		table_free(&t->tab[i]);
	mirror_free(t->mirrors);
	free(t);
}

static void list_unlink(struct table *tb, struct entry *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		tb->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		tb->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void list_push(struct table *tb, struct entry *e)
{
	e->older = tb->newest;
	e->newer = NULL;
	if (tb->newest)
		tb->newest->newer = e;
	tb->newest = e;
	if (!tb->oldest)
		tb->oldest = e;
}

static struct entry **chain_of(struct table *tb, const uint8_t *key, size_t len)
{
	return &tb->buckets[hash_fast(key, len, tb->secret) & tb->mask];
}

/* The least recent entry, out of its chain and list, for reuse. */
static struct entry *evict_oldest(struct table *tb)
{
	struct entry *e = tb->oldest, **pp = chain_of(tb, e->key, e->keylen);

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	list_unlink(tb, e);
	return e;
}

/* key's entry, made (or a least recent one reused) if new; NULL: out of memory. */
static struct entry *table_get(struct table *tb, const uint8_t *key, size_t len)
{
	struct entry **chain = chain_of(tb, key, len), *e;

	for (e = *chain; e; e = e->hnext)
		if (e->keylen == len && !memcmp(e->key, key, len)) {
			list_unlink(tb, e);
			list_push(tb, e);
			return e;
		}
	if (tb->n == tb->max) {
		e = evict_oldest(tb);
		memset(e, 0, sizeof(*e));
	} else if ((e = calloc(1, sizeof(*e)))) {
		tb->n++;
	} else {
		return NULL;
	}
	memcpy(e->key, key, len);
	e->keylen = (uint16_t)len;
	e->hnext = *chain;
	*chain = e;
	list_push(tb, e);
	return e;
}

static unsigned int lat_bucket(uint64_t ns)
{
	uint64_t u = ns >> LAT_SHIFT;
	unsigned int e, b;

	if (u < LAT_SUB)
		return (unsigned int)u;
	e = 63 - (unsigned int)__builtin_clzll(u);
	b = (e - 1) * LAT_SUB + (unsigned int)((u >> (e - 2)) & (LAT_SUB - 1));
	return b < LAT_BUCKETS ? b : LAT_BUCKETS - 1;
}

/* The largest latency bucket b holds, in ns (the top bucket's lower edge doubled). */
static uint64_t lat_upper_ns(unsigned int b)
{
	unsigned int e = b / LAT_SUB + 1;
	uint64_t units;

	if (b < LAT_SUB)
		return ((uint64_t)b + 1) << LAT_SHIFT;
	units = (uint64_t)(LAT_SUB + b % LAT_SUB + 1) << (e - 2);
	return units << LAT_SHIFT;
}

/* RFC 1035 4.1.1: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN. */
static enum toplive_rcode rcode_class(uint16_t rcode)
{
	switch (rcode) {
	case 0:
		return TOPLIVE_NOERROR;
	case 3:
		return TOPLIVE_NXDOMAIN;
	case 2:
		return TOPLIVE_SERVFAIL;
	}
	return TOPLIVE_OTHER;
}

/* This second's counts of e, emptied first if they held an older second. */
static struct sec_counts *sec_of(struct entry *e, uint64_t sec)
{
	struct sec_counts *c = &e->win[sec % TOPLIVE_WINDOW];

	if (c->sec != sec) {
		memset(c, 0, sizeof(*c));
		c->sec = sec;
	}
	return c;
}

static void count_into(struct table *tb, const uint8_t *key, size_t len, uint64_t sec,
		       const struct dns_obs *o)
{
	struct entry *e = table_get(tb, key, len);
	struct sec_counts *c;
	unsigned int b;

	if (!e)
		return;
	c = sec_of(e, sec);
	if (o->kind == OBS_QUERY) {
		c->queries++;
		return;
	}
	c->responses++;
	c->rc[rcode_class(o->rcode)]++;
	if (!o->has_latency)
		return;
	b = lat_bucket(o->latency_ns);
	if (c->lat[b] != UINT16_MAX)
		c->lat[b]++;
}

/*
 * The process's key, or the client's address when no process is known.
 * The cgroup id is kept for the row's unit or container, resolved only
 * when the screen is drawn.
 */
static size_t process_key(const struct dns_obs *o, uint8_t *k)
{
	if (o->owner && o->owner->tgid) {
		k[0] = 'p';
		memcpy(k + 1, &o->owner->tgid, 4);
		memcpy(k + 5, o->owner->comm, DNSSNOOP_COMM_LEN);
		memcpy(k + 5 + DNSSNOOP_COMM_LEN, &o->owner->cgroup_id, 8);
		return 5 + DNSSNOOP_COMM_LEN + 8;
	}
	k[0] = 'c';
	k[1] = o->family;
	memcpy(k + 2, o->client_addr, 16);
	return 18;
}

static size_t name_key(const struct dns_obs *o, uint8_t *k)
{
	size_t n = o->qname_len < KEY_MAX ? o->qname_len : KEY_MAX;

	for (size_t i = 0; i < n; i++)
		k[i] = (uint8_t)tolower((unsigned char)o->qname[i]);
	return n;
}

static void note_time(struct toplive *t, uint64_t ts_ns)
{
	if (!t->first_ns)
		t->first_ns = ts_ns;
	if (ts_ns > t->now_ns)
		t->now_ns = ts_ns;
}

/*
 * Every observation is counted in the newest second seen (time only moves
 * forward, so a late message never reopens a bucket). A local server's
 * copy of an exchange counts for its process only: names and servers
 * count each exchange once, as the statistics tables do.
 */
static void count_obs(struct toplive *t, const struct dns_obs *o)
{
	uint8_t key[KEY_MAX];
	uint64_t sec;
	size_t len;

	if (o->kind == OBS_UNANSWERED || !o->qname)
		return;
	note_time(t, o->ts_ns);
	sec = t->now_ns / NS_PER_SEC;
	if (o->kind == OBS_QUERY) {
		uint32_t *q = &t->total_q[sec % TOPLIVE_WINDOW];

		if (t->total_sec[sec % TOPLIVE_WINDOW] != sec)
			*q = 0, t->total_sec[sec % TOPLIVE_WINDOW] = sec;
		(*q)++;
	}
	len = process_key(o, key);
	count_into(&t->tab[T_PROCESSES], key, len, sec, o);
	if (mirror_observe(t->mirrors, o))
		return;
	key[0] = o->family;
	memcpy(key + 1, o->server_addr, 16);
	count_into(&t->tab[T_SERVERS], key, 17, sec, o);
	len = name_key(o, key);
	count_into(&t->tab[T_NAMES], key, len, sec, o);
}

/*
 * Only the fields count_obs() reads (a whole dns_obs, with its answer
 * addresses, is not worth clearing per message).
 */
void toplive_message(struct toplive *t, const struct summary_msg *sm)
{
	const struct pkt_meta *meta = sm->meta;
	bool from_client = sm->kind != OBS_RESPONSE;
	struct dns_obs o;

	if (sm->kind == OBS_UNANSWERED || !sm->msg->has_question)
		return;
	o.kind = sm->kind;
	o.ts_ns = meta->ts_ns;
	o.dir = meta->dir;
	o.proto = meta->proto;
	o.family = meta->family;
	memcpy(o.client_addr, from_client ? meta->saddr : meta->daddr, 16);
	memcpy(o.server_addr, from_client ? meta->daddr : meta->saddr, 16);
	o.client_port = from_client ? meta->sport : meta->dport;
	o.server_port = from_client ? meta->dport : meta->sport;
	o.owner = &meta->owner;
	o.qname = sm->msg->qname;
	o.qname_len = sm->msg->qname_len;
	o.id = sm->msg->id;
	o.rcode = sm->msg->rcode;
	o.has_latency = sm->has_latency;
	o.latency_ns = sm->latency_ns;
	count_obs(t, &o);
}

void toplive_observation(struct toplive *t, const struct dns_obs *o)
{
	count_obs(t, o);
}

void toplive_tick(struct toplive *t, uint64_t now_ns)
{
	note_time(t, now_ns);
}

uint64_t toplive_now(const struct toplive *t)
{
	return t->now_ns;
}

/* Seconds the window spans so far: shorter at the start of a session. */
static unsigned int window_secs(const struct toplive *t)
{
	uint64_t span = (t->now_ns - t->first_ns) / NS_PER_SEC + 1;

	return span < TOPLIVE_WINDOW ? (unsigned int)span : TOPLIVE_WINDOW;
}

/* A bucket for second sec is in the window that ends at now_sec. */
static bool in_window(uint64_t sec, uint64_t now_sec)
{
	return sec && sec <= now_sec && sec + TOPLIVE_WINDOW > now_sec;
}

double toplive_total_qps(const struct toplive *t)
{
	uint64_t now_sec = t->now_ns / NS_PER_SEC, q = 0;

	if (!t->now_ns)
		return 0;
	for (int i = 0; i < TOPLIVE_WINDOW; i++)
		if (in_window(t->total_sec[i], now_sec))
			q += t->total_q[i];
	return (double)q / window_secs(t);
}

size_t toplive_entries(const struct toplive *t, enum toplive_view v)
{
	static const enum table_id table_of[TOPLIVE_NVIEWS] = {
		[TOPLIVE_PROCESSES] = T_PROCESSES, [TOPLIVE_NAMES] = T_NAMES,
		[TOPLIVE_SERVERS] = T_SERVERS,	   [TOPLIVE_FAILING] = T_NAMES,
		[TOPLIVE_SLOWEST] = T_NAMES,
	};

	return t->tab[table_of[v]].n;
}

/* The value of rank ceil(p * n) among the window's latencies. */
static uint64_t percentile(const uint32_t *lat, uint64_t n, double p)
{
	uint64_t rank = (uint64_t)(p * (double)n + 0.999999), seen = 0;

	if (rank < 1)
		rank = 1;
	for (unsigned int b = 0; b < LAT_BUCKETS; b++) {
		seen += lat[b];
		if (seen >= rank)
			return lat_upper_ns(b);
	}
	return 0;
}

static void key_text(enum table_id id, const struct entry *e, char *out)
{
	uint32_t pid;

	if (id == T_NAMES) {
		memcpy(out, e->key, e->keylen);
		out[e->keylen] = 0;
		return;
	}
	if (id == T_SERVERS) {
		out[fmt_addr(out, e->key[0], e->key + 1)] = 0;
		return;
	}
	if (e->key[0] == 'c') {
		out[fmt_addr(out, e->key[1], e->key + 2)] = 0;
		return;
	}
	memcpy(&pid, e->key + 1, 4);
	snprintf(out, TOPLIVE_KEY_TEXT, "%.*s(%u)", DNSSNOOP_COMM_LEN, (const char *)e->key + 5,
		 pid);
}

/* What names a process best: its container's name or id, else its unit. */
static const char *owner_label(const struct cgroup_ident *ident)
{
	if (!ident)
		return "-";
	if (ident->container_name[0])
		return ident->container_name;
	if (cgroup_ident_is_container(ident))
		return ident->container_id;
	return ident->unit[0] ? ident->unit : "-";
}

/* A process entry's unit or container (toplive_row.owner); "" for other tables. */
static void owner_text(const struct toplive *t, enum table_id id, const struct entry *e, char *out)
{
	const struct cgroup_ident *ident = NULL;
	uint64_t cgroup_id;

	*out = 0;
	if (id != T_PROCESSES)
		return;
	if (e->key[0] == 'p' && t->cgroup_ident) {
		memcpy(&cgroup_id, e->key + 5 + DNSSNOOP_COMM_LEN, 8);
		ident = t->cgroup_ident(t->cgroup_ctx, cgroup_id);
	}
	snprintf(out, TOPLIVE_OWNER_TEXT, "%.*s", TOPLIVE_OWNER_TEXT - 1, owner_label(ident));
	if (ident && !ident->container_name[0] && cgroup_ident_is_container(ident))
		out[12] = 0; /* a short id, as the runtimes show it */
}

/*
 * A row being made: its counts and latency histogram summed over the
 * window (and, grouped, over the processes of one unit or container,
 * whose percentiles come from the summed histogram).
 */
struct item {
	struct toplive_row r;
	uint32_t lat[LAT_BUCKETS];
	unsigned int members; /* entries summed */
};

/* e's counts over the window added to it. */
static void add_window(const struct toplive *t, const struct entry *e, struct item *it)
{
	uint64_t now_sec = t->now_ns / NS_PER_SEC;
	struct toplive_row *r = &it->r;

	for (int i = 0; i < TOPLIVE_WINDOW; i++) {
		const struct sec_counts *c = &e->win[i];

		if (!in_window(c->sec, now_sec))
			continue;
		r->queries += c->queries;
		r->responses += c->responses;
		for (int k = 0; k < TOPLIVE_NRC; k++)
			r->rc[k] += c->rc[k];
		for (int b = 0; b < LAT_BUCKETS; b++)
			it->lat[b] += c->lat[b];
	}
	it->members++;
}

/* The figures made of the sums: failures, rate, percentiles. */
static void finish_row(const struct toplive *t, struct item *it)
{
	struct toplive_row *r = &it->r;

	for (int b = 0; b < LAT_BUCKETS; b++)
		r->timed += it->lat[b];
	r->fails = r->responses - r->rc[TOPLIVE_NOERROR];
	r->qps = (double)r->queries / window_secs(t);
	if (r->timed) {
		r->p50_ns = percentile(it->lat, r->timed, 0.50);
		r->p99_ns = percentile(it->lat, r->timed, 0.99);
	}
}

/* Whether a row belongs in view v: something in the window, and what the view is about. */
static bool row_wanted(enum toplive_view v, const struct toplive_row *r)
{
	if (v == TOPLIVE_FAILING)
		return r->fails > 0;
	if (v == TOPLIVE_SLOWEST)
		return r->timed > 0;
	return r->queries || r->responses;
}

/* Case-folded substring: names are shown folded, and a filter typed in capitals still finds them.
 */
static bool key_matches(const struct toplive_row *r, const char *filter)
{
	return !filter || !*filter || strcasestr(r->key, filter) || strcasestr(r->owner, filter);
}

static enum toplive_sort sort_by; /* qsort has no context argument */

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0; /* descending */
}

static int cmp_rows(const void *pa, const void *pb)
{
	const struct toplive_row *a = pa, *b = pb;
	int c = 0;

	switch (sort_by) {
	case TOPLIVE_SORT_RATE:
		c = cmp_u64(a->queries, b->queries);
		break;
	case TOPLIVE_SORT_FAILS:
		c = cmp_u64(a->fails, b->fails);
		break;
	case TOPLIVE_SORT_P50:
		c = cmp_u64(a->p50_ns, b->p50_ns);
		break;
	case TOPLIVE_SORT_P99:
		c = cmp_u64(a->p99_ns, b->p99_ns);
		break;
	case TOPLIVE_SORT_KEY:
		return strcmp(a->key, b->key);
	default:
		break;
	}
	if (!c)
		c = cmp_u64(a->responses, b->responses);
	return c ? c : strcmp(a->key, b->key);
}

/* Every entry of table id with something in the window, summed; how many. */
static size_t collect(const struct toplive *t, enum table_id id, struct item *items)
{
	size_t n = 0;

	for (const struct entry *e = t->tab[id].newest; e; e = e->older) {
		struct item *it = &items[n];

		memset(it, 0, sizeof(*it));
		add_window(t, e, it);
		if (!it->r.queries && !it->r.responses)
			continue;
		key_text(id, e, it->r.key);
		owner_text(t, id, e, it->r.owner);
		n++;
	}
	return n;
}

static int cmp_items(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;

	return cmp_rows(&a->r, &b->r);
}

static int cmp_owners(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;

	return strcmp(a->r.owner, b->r.owner);
}

static void merge(struct item *into, const struct item *from)
{
	into->r.queries += from->r.queries;
	into->r.responses += from->r.responses;
	for (int k = 0; k < TOPLIVE_NRC; k++)
		into->r.rc[k] += from->r.rc[k];
	for (int b = 0; b < LAT_BUCKETS; b++)
		into->lat[b] += from->lat[b];
	into->members += from->members;
}

/*
 * Processes merged by their unit or container: a row keyed by it, its
 * owner column the number of processes. Sorted by owner, then merged in place.
 */
static size_t group_by_owner(struct item *items, size_t n)
{
	size_t m = 0;

	qsort(items, n, sizeof(*items), cmp_owners);
	for (size_t i = 0; i < n; i++) {
		if (m && !strcmp(items[m - 1].r.owner, items[i].r.owner)) {
			merge(&items[m - 1], &items[i]);
			continue;
		}
		if (m != i)
			items[m] = items[i];
		memcpy(items[m].r.key, items[m].r.owner, sizeof(items[m].r.owner));
		m++;
	}
	for (size_t i = 0; i < m; i++)
		snprintf(items[i].r.owner, sizeof(items[i].r.owner), "%u process%s",
			 items[i].members, items[i].members == 1 ? "" : "es");
	return m;
}

/*
 * Every wanted entry's row (grouped: every unit's or container's), sorted,
 * the first max copied out. Made once a second in one array of
 * entries * 800 bytes at most.
 */
static size_t make_rows(const struct toplive *t, enum toplive_view v, bool grouped,
			enum toplive_sort sort, const char *filter, struct toplive_row *rows,
			size_t max)
{
	enum table_id id = v == TOPLIVE_PROCESSES ? T_PROCESSES
			   : v == TOPLIVE_SERVERS ? T_SERVERS
						  : T_NAMES;
	struct item *items = malloc((t->tab[id].n + 1) * sizeof(*items));
	size_t n, kept = 0;

	if (!items)
		return 0;
	n = collect(t, id, items);
	if (grouped)
		n = group_by_owner(items, n);
	for (size_t i = 0; i < n; i++) {
		finish_row(t, &items[i]);
		if (row_wanted(v, &items[i].r) && key_matches(&items[i].r, filter))
			items[kept++] = items[i];
	}
	sort_by = sort;
	qsort(items, kept, sizeof(*items), cmp_items);
	n = kept < max ? kept : max;
	for (size_t i = 0; i < n; i++)
		rows[i] = items[i].r;
	free(items);
	return n;
}

size_t toplive_rows(const struct toplive *t, enum toplive_view v, enum toplive_sort sort,
		    const char *filter, struct toplive_row *rows, size_t max)
{
	return make_rows(t, v, false, sort, filter, rows, max);
}

size_t toplive_unit_rows(const struct toplive *t, enum toplive_sort sort, const char *filter,
			 struct toplive_row *rows, size_t max)
{
	return make_rows(t, TOPLIVE_PROCESSES, true, sort, filter, rows, max);
}

enum toplive_sort toplive_default_sort(enum toplive_view v)
{
	if (v == TOPLIVE_FAILING)
		return TOPLIVE_SORT_FAILS;
	if (v == TOPLIVE_SLOWEST)
		return TOPLIVE_SORT_P99;
	return TOPLIVE_SORT_RATE;
}
