// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Detectors of exclusive communication patterns; see detect.h and
 * docs/detection.md for the rules.
 *
 * Counting (detect_add, per lookup, no allocation): one client entry, up
 * to three target entries (name, registered domain, peer) and as many
 * client x target pair entries. Entries are identified by a seeded 64-bit
 * hash of their key, so a pair refers to its client and target by hash
 * and survives their eviction (a pair whose client or target is gone is
 * not judged). Judging (detect_findings) runs at the end and at each
 * --interval close, and may allocate.
 */
#include <errno.h>
#include <stdarg.h>
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "analysis/detect.h"
#include "lib/hash.h"
#include "lib/json.h"
#include "lib/slots.h"
#include "lib/fmt.h"

#define RETRANSMIT_NS  NS_PER_SEC
#define EVICT_SAMPLE   32 /* entries looked at to pick a victim in a full table */
#define DOMINANT_SHARE 0.5 /* a client with more of all lookups is the traffic */
#define NO_DETAIL      UINT32_MAX
/* Lookups remembered per pair: an A and AAAA pair and their resends fit. */
#define DETECT_RECENT 4
/*
 * Registered domains remembered by name hash, in sets of two (the most
 * recently used first): libpsl's lookup costs more than everything else
 * done per lookup, and a host's names repeat. Direct-mapped, a 5000-name
 * zone's names evicted each other in a quarter of the slots.
 */
#define DOMAIN_MEMO_SETS 8192
#define NO_DOMAIN	 (-1)

/* The common head of every table entry. */
struct ehead {
	uint64_t hash;
	uint64_t lookups;
	uint64_t error; /* lookups possibly missed before it (re)entered the table */
	uint64_t first_ns, last_ns;
};

struct dclient {
	struct ehead h;
	struct detect_client id;
	uint64_t last_hour; /* absolute hour of the last lookup */
	unsigned int hours; /* distinct absolute hours with lookups */
};

/*
 * The text last: every lookup and response touches the fields before it,
 * which then share the head's cache lines (it was a miss per response).
 */
struct dtarget {
	struct ehead h;
	uint8_t kind;
	uint8_t naddrs; /* answer addresses kept */
	/* Responses, for replacement: */
	uint64_t last_ok_ns; /* query time of the last NOERROR-answered lookup */
	uint64_t nx_after; /* NXDOMAIN answers after it */
	struct obs_addr addrs[DETECT_TARGET_ADDRS]; /* the first distinct answer addresses */
	char text[DETECT_TEXT_MAX];
};

struct dpair {
	struct ehead h;
	uint64_t chash, thash;
	uint8_t tkind;
	uint8_t recent_next; /* next slot of recent_* to overwrite */
	uint16_t recent_id[DETECT_RECENT]; /* the last lookups' ids and times, */
	uint64_t recent_ns[DETECT_RECENT]; /* to recognise retransmissions */
	uint64_t early[DETECT_DETAIL_MIN - 1]; /* first lookups, before a detail */
	uint32_t detail; /* index into the detail pool, or NO_DETAIL */
};

/* The time record of a pair. */
struct ddetail {
	uint32_t owner; /* the pair's slot + 1; 0: free (a calloc'd pool is all free) */
	uint32_t nts, head; /* ring of the last DETSTAT_TS_MAX timestamps */
	uint64_t counted; /* lookups in week[] */
	uint64_t week[DETSTAT_WEEK_BINS];
	uint64_t ts[DETSTAT_TS_MAX];
};

struct table {
	struct slots s;
	void *e;
	size_t esize;
	uint32_t cursor; /* where the next eviction sample starts */
};

/* A name's registered domain: a suffix of the name, at this offset. */
struct domain_memo {
	uint64_t name_hash;
	int16_t offset; /* NO_DOMAIN: none */
	bool used;
};

/* The last peer seen, its text and hash: most hosts talk to a few resolvers. */
struct peer_memo {
	uint8_t family;
	uint8_t addr[16];
	uint64_t hash;
	char text[FMT_ADDR_MAX + 1];
};

struct detect {
	struct detect_config cfg;
	uint64_t seed;
	const psl_ctx_t *psl;
	struct domain_memo domains[DOMAIN_MEMO_SETS][2];
	struct peer_memo peer;
	struct table clients, targets, pairs;
	struct ddetail *details;
	uint32_t ndetails, used_details, detail_cursor;
	uint64_t total; /* lookups */
	uint64_t week[DETSTAT_WEEK_BINS]; /* baseline: all lookups */
	uint64_t first_ns, last_ns;
	/*
	 * Identities of the findings written at interval closes (a set of
	 * hashes, open addressing, 0 = empty), so that each is written once
	 * before the end; allocated at the first interval close.
	 */
	uint64_t *written;
	uint32_t nwritten;
};

/* ---- configuration ---------------------------------------------------- */

static const char *const kind_names[DETECT_NKINDS] = {
	[DETECT_MUTUAL] = "mutual",
	[DETECT_EXCLUSIVE_TARGET] = "exclusive_target",
	[DETECT_EXCLUSIVE_CLIENT] = "exclusive_client",
	[DETECT_TIME_WINDOW] = "time_window",
	[DETECT_PERIODIC] = "periodic",
	[DETECT_REPLACEMENT] = "replacement",
};

static const char *const target_kind_names[DETECT_T_NKINDS] = {
	[DETECT_T_NAME] = "name",
	[DETECT_T_DOMAIN] = "domain",
	[DETECT_T_PEER] = "peer",
};

const char *detect_kind_name(enum detect_kind k)
{
	return k < DETECT_NKINDS ? kind_names[k] : "?";
}

const char *detect_target_kind_name(enum detect_target_kind k)
{
	return k < DETECT_T_NKINDS ? target_kind_names[k] : "?";
}

void detect_config_default(struct detect_config *cfg)
{
	*cfg = (struct detect_config){
		.kinds = DETECT_ALL_KINDS,
		.max_entries = 100000,
		.max_details = DETECT_DEFAULT_DETAILS,
		.min_lookups = 16,
		.exclusive_share = 0.8,
		.min_clients = 5,
		.min_hours = 2,
		.periodic_score = DETSTAT_PERIODIC_SCORE,
		.periodic_min_lookups = DETSTAT_PERIODIC_MIN_LOOKUPS,
		.concentrated_ratio = 0.5,
		.business_start = 8,
		.business_end = 19,
		.silence_ns = 86400 * NS_PER_SEC,
		.replacement_window_ns = 7 * 86400 * NS_PER_SEC,
		.replacement_containment = 0.8,
		.replacement_jaccard = 0.5,
	};
}

int detect_parse_kinds(const char *list, unsigned int *kinds, char *bad, size_t bad_len)
{
	const char *p = list;

	*kinds = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		int k;

		if (!n) {
			p++;
			continue;
		}
		for (k = 0; k < DETECT_NKINDS; k++)
			if (strlen(kind_names[k]) == n && !strncmp(p, kind_names[k], n))
				break;
		if (k == DETECT_NKINDS) {
			if (bad && bad_len)
				snprintf(bad, bad_len, "%.*s", (int)n, p);
			return -EINVAL;
		}
		*kinds |= 1u << k;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static bool wants(const struct detect *d, enum detect_kind k)
{
	return d->cfg.kinds & (1u << k);
}

/* ---- bounded tables ---------------------------------------------------- */

static int table_init(struct table *t, size_t capacity, size_t esize)
{
	t->esize = esize;
	t->e = slots_init(&t->s, capacity, esize);
	return t->e ? 0 : -ENOMEM;
}

static struct ehead *entry(const struct table *t, uint32_t i)
{
	return (struct ehead *)((char *)t->e + (size_t)i * t->esize);
}

static uint32_t table_find(const struct table *t, uint64_t hash)
{
	return slots_first(&t->s, hash);
}

static void release_detail(struct detect *d, struct dpair *p);

/*
 * A full table gives up the entry with the fewest lookups among a sample
 * of EVICT_SAMPLE (every slot is used, so any index will do); the newcomer
 * keeps that count as its error bound, as Space-Saving does.
 */
static uint64_t evict_one(struct detect *d, struct table *t)
{
	uint32_t cap = t->s.capacity, best = t->cursor % cap;
	uint64_t min;

	for (uint32_t k = 0; k < EVICT_SAMPLE && k < cap; k++) {
		uint32_t i = (t->cursor + k) % cap;

		if (entry(t, i)->lookups < entry(t, best)->lookups)
			best = i;
	}
	t->cursor = (t->cursor + EVICT_SAMPLE) % cap;
	min = entry(t, best)->lookups;
	if (t == &d->pairs)
		release_detail(d, (struct dpair *)entry(t, best));
	slots_release(&t->s, best);
	return min;
}

/* The entry of this hash, created (zeroed, error set) if new. */
static uint32_t table_get(struct detect *d, struct table *t, uint64_t hash, bool *created)
{
	uint32_t i = table_find(t, hash);
	uint64_t error = 0;
	struct ehead *h;

	*created = false;
	if (i != SLOTS_NIL)
		return i;
	if (slots_full(&t->s))
		error = evict_one(d, t);
	i = slots_take(&t->s, hash);
	h = entry(t, i);
	memset(h, 0, t->esize);
	h->hash = hash;
	h->error = error;
	*created = true;
	return i;
}

static void count(struct ehead *h, uint64_t ts_ns)
{
	if (!h->lookups && !h->first_ns)
		h->first_ns = ts_ns;
	h->lookups++;
	h->last_ns = ts_ns;
}

/* ---- per-pair time records --------------------------------------------- */

static void detail_record(struct ddetail *t, uint64_t ts_ns)
{
	t->week[detstat_utc_hour_of_week(ts_ns)]++;
	t->counted++;
	t->ts[t->head] = ts_ns;
	t->head = (t->head + 1) % DETSTAT_TS_MAX;
	if (t->nts < DETSTAT_TS_MAX)
		t->nts++;
}

static void release_detail(struct detect *d, struct dpair *p)
{
	if (p->detail == NO_DETAIL)
		return;
	d->details[p->detail].owner = 0;
	d->used_details--;
	p->detail = NO_DETAIL;
}

/*
 * A free time record, or, when all are taken, the one of the pair with the
 * fewest lookups among a sample if that is fewer than `lookups`.
 */
static uint32_t take_detail(struct detect *d, uint64_t lookups)
{
	uint32_t best = NO_DETAIL;
	uint64_t best_n = lookups;

	for (uint32_t k = 0; k < EVICT_SAMPLE && k < d->ndetails; k++) {
		uint32_t i = (d->detail_cursor + k) % d->ndetails;
		struct dpair *p;

		if (!d->details[i].owner)
			return i;
		p = (struct dpair *)entry(&d->pairs, d->details[i].owner - 1);
		if (p->h.lookups < best_n) {
			best_n = p->h.lookups;
			best = i;
		}
	}
	d->detail_cursor = (d->detail_cursor + EVICT_SAMPLE) % d->ndetails;
	if (best != NO_DETAIL)
		release_detail(d, (struct dpair *)entry(&d->pairs, d->details[best].owner - 1));
	return best;
}

static void pair_time(struct detect *d, struct dpair *p, uint32_t slot, uint64_t ts_ns)
{
	uint32_t i;

	if (p->detail != NO_DETAIL) {
		detail_record(&d->details[p->detail], ts_ns);
		return;
	}
	if (p->h.lookups < DETECT_DETAIL_MIN) {
		p->early[p->h.lookups - 1] = ts_ns;
		return;
	}
	if (d->used_details == d->ndetails)
		i = take_detail(d, p->h.lookups);
	else
		for (i = d->detail_cursor;; i = (i + 1) % d->ndetails)
			if (!d->details[i].owner)
				break;
	if (i == NO_DETAIL)
		return;
	memset(&d->details[i], 0, sizeof(d->details[i]));
	d->details[i].owner = slot + 1;
	d->used_details++;
	p->detail = i;
	/* The early lookups, if this record starts with the pair. */
	if (p->h.lookups == DETECT_DETAIL_MIN && !p->h.error)
		for (int k = 0; k < DETECT_DETAIL_MIN - 1; k++)
			detail_record(&d->details[i], p->early[k]);
	detail_record(&d->details[i], ts_ns);
}

/* ---- life cycle ---------------------------------------------------------- */

struct detect *detect_new(const struct detect_config *cfg)
{
	struct detect *d = calloc(1, sizeof(*d));
	size_t cap = cfg->max_entries ? cfg->max_entries : 100000;

	if (!d)
		return NULL;
	d->cfg = *cfg;
	d->seed = hash_random_seed(d);
	d->psl = psl_builtin();
	d->ndetails = cfg->max_details ? cfg->max_details : DETECT_DEFAULT_DETAILS;
	d->details = calloc(d->ndetails, sizeof(*d->details));
	if (!d->details || table_init(&d->clients, cap, sizeof(struct dclient)) ||
	    table_init(&d->targets, cap, sizeof(struct dtarget)) ||
	    table_init(&d->pairs, cap, sizeof(struct dpair))) {
		detect_free(d);
		return NULL;
	}
	return d;
}

void detect_free(struct detect *d)
{
	if (!d)
		return;
	slots_destroy(&d->clients.s);
	slots_destroy(&d->targets.s);
	slots_destroy(&d->pairs.s);
	free(d->details);
	free(d->written);
	free(d);
}

/* ---- counting ------------------------------------------------------------ */

/*
 * The client of a query: the local process that sent it, when known; the
 * sender's address otherwise. A query arriving at a local server (server
 * vantage) belongs to its remote sender, not to the server process.
 */
static bool client_is_process(const struct dns_obs *o)
{
	return o->owner && o->owner->tgid && !obs_server_vantage(o);
}

static void client_of(const struct dns_obs *o, struct detect_client *c)
{
	memset(c, 0, sizeof(*c));
	if (o->host)
		snprintf(c->host, sizeof(c->host), "%s", o->host);
	if (client_is_process(o)) {
		c->process = true;
		memcpy(c->comm, o->owner->comm, DNSSNOOP_COMM_LEN);
		c->uid = o->owner->uid;
		c->pid = o->owner->tgid;
		if (o->cgroup)
			snprintf(c->cgroup, sizeof(c->cgroup), "%s", o->cgroup);
		return;
	}
	c->family = o->family;
	memcpy(c->addr, o->client_addr, 16);
}

/* The client's name in one string, made once per client entry. */
static void client_label(struct detect_client *c)
{
	char addr[FMT_ADDR_MAX + 1];
	size_t n;

	if (c->process) {
		snprintf(c->label, sizeof(c->label), "%s%s%s uid=%u%s%s", c->host,
			 c->host[0] ? "/" : "", c->comm, c->uid, c->cgroup[0] ? " " : "",
			 c->cgroup);
		return;
	}
	n = fmt_addr(addr, c->family, c->addr);
	addr[n] = 0;
	snprintf(c->label, sizeof(c->label), "%s%s%s", c->host, c->host[0] ? "/" : "",
		 n ? addr : "?");
}

/*
 * Identity of a query's client, what client_of() would copy: everything
 * but the pid (processes come and go). Hashed from the observation, since
 * only a new client needs its copy.
 */
static uint64_t client_hash(const struct detect *d, const struct dns_obs *o)
{
	const char *host = o->host ? o->host : "";
	uint64_t h = hash_bytes(host, strlen(host), d->seed);

	if (client_is_process(o)) {
		const char *cgroup = o->cgroup ? o->cgroup : "";

		h = hash_bytes(o->owner->comm, strnlen(o->owner->comm, DNSSNOOP_COMM_LEN),
			       h ^ o->owner->uid);
		return hash_bytes(cgroup, strlen(cgroup), h ^ 1);
	}
	return hash_bytes(o->client_addr, 16, h ^ o->family ^ 2);
}

static uint64_t target_hash_len(const struct detect *d, uint8_t kind, const char *text, size_t len)
{
	return hash_bytes(text, len, d->seed ^ (0x100ULL + kind));
}

static uint64_t pair_hash(uint64_t chash, uint64_t thash)
{
	return hash_mix64(chash ^ hash_mix64(thash + 0x9e3779b97f4a7c15ULL));
}

/* Case-folded name without the final dot, and its length; 0 if empty or too long. */
static size_t fold_name(const struct dns_obs *o, char *out)
{
	size_t n = o->qname_len;

	if (!o->qname || !n)
		return 0;
	if (n > 1 && o->qname[n - 1] == '.')
		n--;
	if (n >= DETECT_TEXT_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = o->qname[i];

		out[i] = ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
	}
	out[n] = 0;
	return n;
}

static void count_client(struct detect *d, uint64_t chash, const struct dns_obs *o)
{
	bool created;
	struct dclient *e =
		(struct dclient *)entry(&d->clients, table_get(d, &d->clients, chash, &created));
	uint64_t hour = o->ts_ns / NS_PER_HOUR;

	if (created) {
		client_of(o, &e->id);
		client_label(&e->id);
	}
	e->id.pid = client_is_process(o) ? o->owner->tgid : 0;
	if (created || hour != e->last_hour)
		e->hours++;
	e->last_hour = hour;
	count(&e->h, o->ts_ns);
}

/* A target as one lookup counts it: text and hash, made once per lookup. */
struct target_ref {
	uint8_t kind;
	const char *text; /* NUL-terminated */
	size_t len;
	uint64_t hash;
};

static struct target_ref target_ref(const struct detect *d, uint8_t kind, const char *text,
				    size_t len)
{
	return (struct target_ref){kind, text, len, target_hash_len(d, kind, text, len)};
}

static void count_target(struct detect *d, uint64_t chash, const struct target_ref *ref,
			 uint64_t id, uint64_t ts_ns)
{
	bool new_target, created;
	struct dtarget *t = (struct dtarget *)entry(
		&d->targets, table_get(d, &d->targets, ref->hash, &new_target));
	uint32_t slot = table_get(d, &d->pairs, pair_hash(chash, ref->hash), &created);
	struct dpair *p = (struct dpair *)entry(&d->pairs, slot);

	if (new_target) { /* not t->text[0]: the text is far from the head */
		t->kind = ref->kind;
		snprintf(t->text, sizeof(t->text), "%s", ref->text);
	}
	count(&t->h, ts_ns);
	if (created) {
		p->chash = chash;
		p->thash = ref->hash;
		p->tkind = ref->kind;
		p->detail = NO_DETAIL;
	}
	p->recent_id[p->recent_next] = (uint16_t)id;
	p->recent_ns[p->recent_next] = ts_ns;
	p->recent_next = (p->recent_next + 1) % DETECT_RECENT;
	count(&p->h, ts_ns);
	pair_time(d, p, slot, ts_ns);
}

/* The same query id to the same name from the same client within 1 s of a recent lookup. */
static bool is_retransmission(const struct detect *d, uint64_t chash, const struct target_ref *name,
			      const struct dns_obs *o)
{
	uint32_t i = table_find(&d->pairs, pair_hash(chash, name->hash));
	const struct dpair *p;

	if (i == SLOTS_NIL)
		return false;
	p = (const struct dpair *)entry(&d->pairs, i);
	for (int k = 0; k < DETECT_RECENT && (uint64_t)k < p->h.lookups; k++)
		if (p->recent_id[k] == o->id && o->ts_ns >= p->recent_ns[k] &&
		    o->ts_ns - p->recent_ns[k] < RETRANSMIT_NS)
			return true;
	return false;
}

/* The registered domain of a name (libpsl), a suffix of it; false if none. */
static bool domain_ref(struct detect *d, const struct target_ref *name, struct target_ref *out)
{
	struct domain_memo *set = d->domains[name->hash % DOMAIN_MEMO_SETS], *m = &set[0];
	const char *domain;

	if (set[1].used && set[1].name_hash == name->hash) {
		struct domain_memo hit = set[1];

		set[1] = set[0];
		set[0] = hit;
	} else if (!m->used || m->name_hash != name->hash) {
		set[1] = set[0]; /* the least recently used goes */
		domain = d->psl ? psl_registrable_domain(d->psl, name->text) : NULL;
		m->used = true;
		m->name_hash = name->hash;
		m->offset = NO_DOMAIN;
		/* libpsl returns a pointer into the name; anything else is not kept */
		if (domain && *domain && domain >= name->text && domain < name->text + name->len)
			m->offset = (int16_t)(domain - name->text);
	}
	if (m->offset == NO_DOMAIN)
		return false;
	*out = target_ref(d, DETECT_T_DOMAIN, name->text + m->offset,
			  name->len - (size_t)m->offset);
	return true;
}

/* The server a query went to, as text; false if its family is unknown. */
static bool peer_ref(struct detect *d, const struct dns_obs *o, struct target_ref *out)
{
	struct peer_memo *m = &d->peer;

	if (!m->text[0] || m->family != o->family || memcmp(m->addr, o->server_addr, 16)) {
		size_t n = fmt_addr(m->text, o->family, o->server_addr);

		m->text[n] = 0;
		m->family = o->family;
		memcpy(m->addr, o->server_addr, 16);
		m->hash = target_hash_len(d, DETECT_T_PEER, m->text, n);
	}
	if (!m->text[0])
		return false;
	*out = (struct target_ref){DETECT_T_PEER, m->text, strlen(m->text), m->hash};
	return true;
}

static void keep_addr(struct dtarget *t, const struct obs_addr *a)
{
	size_t len = a->family == AF_INET6 ? 16 : 4;

	if (a->family != AF_INET && a->family != AF_INET6)
		return;
	for (uint8_t i = 0; i < t->naddrs; i++)
		if (t->addrs[i].family == a->family && !memcmp(t->addrs[i].addr, a->addr, len))
			return;
	if (t->naddrs < DETECT_TARGET_ADDRS)
		t->addrs[t->naddrs++] = *a;
}

/*
 * A response to a lookup of a known target: NOERROR moves its last answered
 * lookup (the query's time: response time minus the latency when matched,
 * else the target's last lookup) and clears the NXDOMAIN count; NXDOMAIN
 * counts. Targets are never created here.
 */
static void answer_target(struct detect *d, const struct target_ref *ref, const struct dns_obs *o)
{
	uint32_t i = table_find(&d->targets, ref->hash);
	struct dtarget *t;

	if (i == SLOTS_NIL)
		return;
	t = (struct dtarget *)entry(&d->targets, i);
	if (o->rcode == 3) {
		t->nx_after++;
		return;
	}
	if (o->rcode != 0)
		return;
	t->last_ok_ns = o->has_latency && o->latency_ns <= o->ts_ns ? o->ts_ns - o->latency_ns
								    : t->h.last_ns;
	if (t->last_ok_ns > t->h.last_ns || t->last_ok_ns < t->h.first_ns)
		t->last_ok_ns = t->h.last_ns;
	t->nx_after = 0;
	for (int k = 0; k < o->naddrs && k < OBS_MAX_ADDRS; k++)
		keep_addr(t, &o->addrs[k]);
}

static void detect_response(struct detect *d, const struct dns_obs *o,
			    const struct target_ref *name)
{
	struct target_ref domain;

	answer_target(d, name, o);
	if (domain_ref(d, name, &domain))
		answer_target(d, &domain, o);
}

static void detect_query(struct detect *d, const struct dns_obs *o, const struct target_ref *name)
{
	uint64_t chash = client_hash(d, o);
	struct target_ref t;

	if (is_retransmission(d, chash, name, o))
		return;
	d->total++;
	d->week[detstat_utc_hour_of_week(o->ts_ns)]++;
	if (!d->first_ns)
		d->first_ns = o->ts_ns;
	d->last_ns = o->ts_ns;
	count_client(d, chash, o);
	count_target(d, chash, name, o->id, o->ts_ns);
	if (domain_ref(d, name, &t))
		count_target(d, chash, &t, o->id, o->ts_ns);
	if (peer_ref(d, o, &t))
		count_target(d, chash, &t, o->id, o->ts_ns);
}

void detect_add(struct detect *d, const struct dns_obs *o)
{
	char text[DETECT_TEXT_MAX];
	struct target_ref name;
	size_t len;

	if (!d || o->mirror || (o->kind != OBS_QUERY && o->kind != OBS_RESPONSE))
		return;
	if (o->kind == OBS_RESPONSE && !wants(d, DETECT_REPLACEMENT))
		return;
	len = fold_name(o, text);
	if (!len)
		return;
	name = target_ref(d, DETECT_T_NAME, text, len);
	if (o->kind == OBS_RESPONSE)
		detect_response(d, o, &name);
	else
		detect_query(d, o, &name);
}

/* ---- judging ----------------------------------------------------------- */

struct judge {
	struct detect *d;
	struct dpair **pairs; /* every pair whose client and target are known */
	size_t npairs;
	struct detect_finding *out;
	size_t nout, capout;
	struct dpair **reported; /* pairs of exclusive findings, for time_window */
	size_t nreported;
	struct detect_time_window *windows;
	/* Every client's first and last lookup, each sorted: the population rule. */
	uint64_t *client_first, *client_last;
	size_t nclients;
};

static struct dclient *find_client(const struct detect *d, uint64_t h)
{
	uint32_t i = table_find(&d->clients, h);

	return i == SLOTS_NIL ? NULL : (struct dclient *)entry(&d->clients, i);
}

static struct dtarget *find_target(const struct detect *d, uint64_t h)
{
	uint32_t i = table_find(&d->targets, h);

	return i == SLOTS_NIL ? NULL : (struct dtarget *)entry(&d->targets, i);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int collect_client_spans(struct judge *j)
{
	const struct detect *d = j->d;
	size_t n = d->clients.s.used ? d->clients.s.used : 1;

	j->client_first = calloc(n, sizeof(uint64_t));
	j->client_last = calloc(n, sizeof(uint64_t));
	if (!j->client_first || !j->client_last)
		return -ENOMEM;
	for (uint32_t i = 0; i < d->clients.s.capacity; i++) {
		const struct dclient *c = (const struct dclient *)entry(&d->clients, i);

		if (!c->h.lookups)
			continue;
		j->client_first[j->nclients] = c->h.first_ns;
		j->client_last[j->nclients++] = c->h.last_ns;
	}
	qsort(j->client_first, j->nclients, sizeof(uint64_t), cmp_u64);
	qsort(j->client_last, j->nclients, sizeof(uint64_t), cmp_u64);
	return 0;
}

/* Values in the sorted array v[0..n) below x. */
static size_t count_below(const uint64_t *v, size_t n, uint64_t x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Clients with a lookup between first and last (the population rule): all
 * but those that started after last and those that ended before first,
 * two disjoint sets, counted by binary search in the sorted spans.
 */
static uint64_t active_clients(const struct judge *j, uint64_t first_ns, uint64_t last_ns)
{
	size_t late = j->nclients - count_below(j->client_first, j->nclients, last_ns + 1);
	size_t gone = count_below(j->client_last, j->nclients, first_ns);

	return j->nclients - late - gone;
}

/*
 * Pairs grouped by target (or by client and target kind), most lookups
 * first; ties by the client's label (the target's text), so that the top
 * and second parties do not depend on the hash seed. The keys are copied
 * into a compact array once per pair, not fetched per comparison from the
 * scattered pair, client and target entries: ties are common (a flood of
 * pairs with one lookup each) and each fetch was a cache miss.
 */
struct sort_item {
	uint64_t group; /* the target's hash, or the client's */
	uint64_t lookups;
	uint8_t tkind; /* by client: the target kind; by target: 0 */
	const char *tie; /* by target: the client's label; by client: the target's text */
	struct dpair *p;
};

/* Group, then kind, most lookups first, then the tie text. */
static int cmp_sort_item(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->tkind != y->tkind)
		return x->tkind - y->tkind;
	if (x->lookups != y->lookups)
		return x->lookups > y->lookups ? -1 : 1;
	return strcmp(x->tie, y->tie);
}

/*
 * Sorts j->pairs by target or by client (and target kind), on keys copied
 * into a compact array first (every pair's client and target are known).
 */
static int sort_pairs(struct judge *j, bool by_target)
{
	struct sort_item *v = calloc(j->npairs ? j->npairs : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < j->npairs; i++) {
		struct dpair *p = j->pairs[i];

		v[i] = by_target ? (struct sort_item){p->thash, p->h.lookups, 0,
						      find_client(j->d, p->chash)->id.label, p}
				 : (struct sort_item){p->chash, p->h.lookups, p->tkind,
						      find_target(j->d, p->thash)->text, p};
	}
	qsort(v, j->npairs, sizeof(*v), cmp_sort_item);
	for (size_t i = 0; i < j->npairs; i++)
		j->pairs[i] = v[i].p;
	free(v);
	return 0;
}

/*
 * The concentration of one group of pairs (sorted by lookups, descending)
 * out of n lookups: D, top two, HHI, Wilson bounds.
 */
static void side_figures(struct dpair **g, size_t ng, const struct ehead *whole,
			 struct detect_side *s)
{
	double z = DETSTAT_Z95, hhi = 0;
	uint64_t n = whole->lookups, sum = 0;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < ng; i++)
		sum += g[i]->h.lookups;
	if (sum > n)
		n = sum; /* eviction noise: never a share above 1 */
	s->lookups = n;
	s->error = whole->error;
	s->distinct = ng;
	s->first_ns = whole->first_ns;
	s->last_ns = whole->last_ns;
	if (!n || !ng)
		return;
	for (size_t i = 0; i < ng; i++) {
		double sh = (double)g[i]->h.lookups / (double)n;

		hhi += sh * sh;
	}
	s->hhi = hhi;
	s->effective = detstat_effective_count(hhi);
	s->top_lookups = g[0]->h.lookups;
	s->second_lookups = ng > 1 ? g[1]->h.lookups : 0;
	s->top_share = (double)s->top_lookups / (double)n;
	s->second_share = (double)s->second_lookups / (double)n;
	s->wilson_lower = detstat_wilson_lower(s->top_lookups, n, z);
	s->wilson_lower_top_two = detstat_wilson_lower(s->top_lookups + s->second_lookups, n, z);
}

/* N, Wilson (one or top two) and population: the rules common to both sides. */
static bool side_support(const struct judge *j, struct detect_side *s)
{
	const struct detect *d = j->d;
	double share = d->cfg.exclusive_share;

	if (s->lookups < d->cfg.min_lookups)
		return false;
	if (s->wilson_lower < share) {
		if (s->distinct < 2 || s->wilson_lower_top_two < share)
			return false;
		s->top_two = true;
	}
	s->active_clients = active_clients(j, s->first_ns, s->last_ns);
	return s->active_clients >= d->cfg.min_clients;
}

static struct detect_finding *new_finding(struct judge *j, enum detect_kind kind)
{
	struct detect_finding *f;

	if (j->nout == j->capout) {
		size_t cap = j->capout ? 2 * j->capout : 16;
		struct detect_finding *v = realloc(j->out, cap * sizeof(*v));

		if (!v)
			return NULL;
		j->out = v;
		j->capout = cap;
	}
	f = &j->out[j->nout++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->total_lookups = j->d->total;
	return f;
}

/* Pair figures common to every finding about one pair. */
static void pair_figures(const struct detect *d, struct detect_finding *f, const struct dpair *p,
			 const struct dclient *c, const struct dtarget *t)
{
	const struct ddetail *dt = p->detail != NO_DETAIL ? &d->details[p->detail] : NULL;

	f->target_kind = t->kind;
	f->target = t->text;
	f->client = &c->id;
	f->pair_lookups = p->h.lookups;
	f->pair_first_ns = p->h.first_ns;
	f->pair_last_ns = p->h.last_ns;
	f->npmi = detstat_npmi(p->h.lookups, c->h.lookups, t->h.lookups, d->total);
	if (dt) {
		size_t n = dt->nts < DETECT_EXAMPLES ? dt->nts : DETECT_EXAMPLES;

		for (size_t k = 0; k < n; k++)
			f->examples[k] =
				dt->ts[(dt->head + DETSTAT_TS_MAX - n + k) % DETSTAT_TS_MAX];
		f->nexamples = n;
	} else {
		for (uint64_t k = 0; k < p->h.lookups && k < DETECT_DETAIL_MIN - 1; k++)
			f->examples[f->nexamples++] = p->early[k];
	}
}

/* Judged targets, for mutual: the target's side and its top pair. */
struct verdict {
	struct dpair *top, *second;
	struct detect_side side;
	bool exclusive;
};

static bool dominant(const struct detect *d, const struct dclient *c)
{
	return d->total && (double)c->h.lookups / (double)d->total > DOMINANT_SHARE;
}

static void judge_target(struct judge *j, struct dpair **g, size_t ng, struct verdict *v)
{
	struct detect *d = j->d;
	struct dtarget *t = find_target(d, g[0]->thash);
	struct dclient *top;

	memset(v, 0, sizeof(*v));
	v->top = g[0];
	v->second = ng > 1 ? g[1] : NULL;
	if (!t)
		return;
	side_figures(g, ng, &t->h, &v->side);
	if (t->kind == DETECT_T_PEER && ng < d->cfg.min_clients)
		return; /* a peer of few clients is their resolver, not a secret */
	top = find_client(d, g[0]->chash);
	if (!top || dominant(d, top))
		return;
	v->exclusive = side_support(j, &v->side);
	v->side.exclusive = v->exclusive;
}

static void judge_client(struct judge *j, struct dpair **g, size_t ng, struct verdict *v)
{
	struct detect *d = j->d;
	struct dclient *c = find_client(d, g[0]->chash);

	memset(v, 0, sizeof(*v));
	v->top = g[0];
	v->second = ng > 1 ? g[1] : NULL;
	if (!c || g[0]->tkind == DETECT_T_PEER)
		return; /* every client talks to one resolver or two */
	/* shares are of all the client's lookups, whatever their target */
	side_figures(g, ng, &c->h, &v->side);
	v->side.active_hours = c->hours;
	if (c->hours < d->cfg.min_hours || dominant(d, c))
		return;
	v->exclusive = side_support(j, &v->side);
	v->side.exclusive = v->exclusive;
}

/* Group boundaries: pairs [i, end) share the key. */
static size_t group_end(struct dpair **v, size_t n, size_t i, bool by_target)
{
	size_t e = i + 1;

	while (e < n && (by_target ? v[e]->thash == v[i]->thash
				   : v[e]->chash == v[i]->chash && v[e]->tkind == v[i]->tkind))
		e++;
	return e;
}

static void note_reported(struct judge *j, struct dpair *p)
{
	for (size_t i = 0; i < j->nreported; i++)
		if (j->reported[i] == p)
			return;
	j->reported[j->nreported++] = p;
}

static void add_exclusive(struct judge *j, enum detect_kind kind, const struct verdict *tv,
			  const struct verdict *cv)
{
	struct detect *d = j->d;
	const struct dpair *p = tv ? tv->top : cv->top;
	struct dclient *c = find_client(d, p->chash);
	struct dtarget *t = find_target(d, p->thash);
	struct detect_finding *f;

	if (!c || !t || !wants(d, kind))
		return;
	f = new_finding(j, kind);
	if (!f)
		return;
	pair_figures(d, f, p, c, t);
	note_reported(j, (struct dpair *)p);
	if (tv && tv->side.top_two)
		note_reported(j, tv->second);
	if (cv && cv->side.top_two)
		note_reported(j, cv->second);
	if (tv) {
		f->by_target = tv->side;
		if (tv->second) {
			struct dclient *c2 = find_client(d, tv->second->chash);

			f->second_client = c2 ? &c2->id : NULL;
		}
	}
	if (cv) {
		struct dtarget *t2 = cv->second ? find_target(d, cv->second->thash) : NULL;

		f->by_client = cv->side;
		f->top_target = t->text;
		f->second_target = t2 ? t2->text : NULL;
	}
}

/* The exclusive verdict of the client side for this pair's client and target kind. */
static const struct verdict *client_verdict(const struct verdict *cv, size_t ncv,
					    const struct dpair *p)
{
	for (size_t i = 0; i < ncv; i++)
		if (cv[i].top->chash == p->chash && cv[i].top->tkind == p->tkind)
			return &cv[i];
	return NULL;
}

static int judge_exclusive(struct judge *j)
{
	size_t ntv = 0, ncv = 0, n = j->npairs;
	struct verdict *tv = calloc(n ? n : 1, sizeof(*tv));
	struct verdict *cv = calloc(n ? n : 1, sizeof(*cv));

	if (!tv || !cv || sort_pairs(j, false)) {
		free(tv);
		free(cv);
		return -ENOMEM;
	}
	for (size_t i = 0, e; i < n; i = e) {
		e = group_end(j->pairs, n, i, false);
		judge_client(j, j->pairs + i, e - i, &cv[ncv]);
		if (cv[ncv].exclusive)
			ncv++;
	}
	if (sort_pairs(j, true)) {
		free(tv);
		free(cv);
		return -ENOMEM;
	}
	for (size_t i = 0, e; i < n; i = e) {
		e = group_end(j->pairs, n, i, true);
		judge_target(j, j->pairs + i, e - i, &tv[ntv]);
		if (tv[ntv].exclusive)
			ntv++;
	}
	/* mutual: the target's top client has it as its top target */
	for (size_t i = 0; i < ntv; i++) {
		const struct verdict *c = client_verdict(cv, ncv, tv[i].top);

		if (c && c->top->thash == tv[i].top->thash) {
			add_exclusive(j,
				      wants(j->d, DETECT_MUTUAL) ? DETECT_MUTUAL
								 : DETECT_EXCLUSIVE_TARGET,
				      &tv[i], c);
			if (!wants(j->d, DETECT_MUTUAL))
				add_exclusive(j, DETECT_EXCLUSIVE_CLIENT, NULL, c);
			tv[i].exclusive = false;
			((struct verdict *)c)->exclusive = false;
		}
	}
	for (size_t i = 0; i < ntv; i++)
		if (tv[i].exclusive)
			add_exclusive(j, DETECT_EXCLUSIVE_TARGET, &tv[i], NULL);
	for (size_t i = 0; i < ncv; i++)
		if (cv[i].exclusive)
			add_exclusive(j, DETECT_EXCLUSIVE_CLIENT, NULL, &cv[i]);
	free(tv);
	free(cv);
	return 0;
}

/* ---- time windows and periodicity --------------------------------------- */

/* The pair's timestamps, oldest first; returns how many (all kept, at most DETSTAT_TS_MAX). */
static size_t pair_timestamps(const struct ddetail *dt, uint64_t *out)
{
	for (uint32_t k = 0; k < dt->nts; k++)
		out[k] = dt->ts[(dt->head + DETSTAT_TS_MAX - dt->nts + k) % DETSTAT_TS_MAX];
	return dt->nts;
}

/*
 * The week in a zone's local time: exact from the timestamps when every
 * lookup of the histogram is still kept, else the UTC histogram shifted by
 * the zone's offset at the last lookup (rounded to the hour).
 */
static int local_week(const struct ddetail *dt, const struct dpair *p, const char *zone,
		      struct detect_window_zone *z, uint64_t week[DETSTAT_WEEK_BINS])
{
	uint64_t ts[DETSTAT_TS_MAX];
	size_t n = pair_timestamps(dt, ts);
	long shift;
	int err;

	memset(week, 0, DETSTAT_WEEK_BINS * sizeof(*week));
	z->zone = zone;
	err = detstat_zone_offset(zone, p->h.last_ns, &z->offset_s);
	if (err)
		return err;
	if (dt->counted == n) {
		z->exact = true;
		return detstat_local_week(ts, n, zone, week);
	}
	shift = (z->offset_s >= 0 ? z->offset_s + 1800 : z->offset_s - 1800) / 3600;
	for (long h = 0; h < DETSTAT_WEEK_BINS; h++)
		week[((h + shift) % DETSTAT_WEEK_BINS + DETSTAT_WEEK_BINS) % DETSTAT_WEEK_BINS] +=
			dt->week[h];
	return 0;
}

static void fill_window(struct detect *d, const struct dpair *p, const struct ddetail *dt,
			struct detect_time_window *w)
{
	struct detstat_business rule = DETSTAT_BUSINESS_DEFAULT;

	memset(w, 0, sizeof(*w));
	rule.start_hour = d->cfg.business_start;
	rule.end_hour = d->cfg.business_end;
	memcpy(w->week_utc, dt->week, sizeof(w->week_utc));
	w->counted = dt->counted;
	detstat_week_window(dt->week, DETSTAT_WINDOW_SHARE, &w->utc);
	w->weekday_share_utc = detstat_weekday_share(dt->week);
	detstat_week_window(d->week, DETSTAT_WINDOW_SHARE, &w->baseline);
	w->baseline_weekday_share = detstat_weekday_share(d->week);
	w->concentrated = w->utc.len && w->baseline.len &&
			  (double)w->utc.len <= d->cfg.concentrated_ratio * (double)w->baseline.len;
	for (size_t i = 0; i < d->cfg.nzones && i < DETECT_MAX_ZONES; i++) {
		uint64_t week[DETSTAT_WEEK_BINS];
		struct detect_window_zone *z = &w->zones[w->nzones];

		if (local_week(dt, p, d->cfg.zones[i], z, week) ||
		    detstat_business_hours(week, &rule, &z->res))
			continue;
		w->nzones++;
	}
}

static void judge_windows(struct judge *j)
{
	struct detect *d = j->d;

	if (!wants(d, DETECT_TIME_WINDOW))
		return;
	for (size_t i = 0; i < j->nreported; i++) {
		struct dpair *p = j->reported[i];
		struct dclient *c = find_client(d, p->chash);
		struct dtarget *t = find_target(d, p->thash);
		struct detect_finding *f;

		if (!c || !t || p->detail == NO_DETAIL)
			continue;
		f = new_finding(j, DETECT_TIME_WINDOW);
		if (!f)
			return;
		pair_figures(d, f, p, c, t);
		fill_window(d, p, &d->details[p->detail], &j->windows[i]);
		f->window = &j->windows[i];
	}
}

/*
 * Lookups a periodic pair needs: the periodicity minimum (8) for a pair of
 * an exclusive finding, whose support rules carry the weight (about 9% of
 * random series of 8 score as regular; see detstat.h); twice --min-lookups
 * (32) for any other pair, because a person's lookups of a name a day or
 * two apart often score >= 0.8 at 16 to 27 lookups and did not at 32 in
 * the six-week scenario (docs/detection.md).
 */
static uint64_t periodic_support(const struct judge *j, const struct dpair *p)
{
	uint64_t n = j->d->cfg.periodic_min_lookups, alone = 2 * j->d->cfg.min_lookups;

	for (size_t i = 0; i < j->nreported; i++)
		if (j->reported[i] == p)
			return n;
	return alone > n ? alone : n;
}

static void judge_periodic(struct judge *j)
{
	struct detect *d = j->d;
	uint64_t ts[DETSTAT_TS_MAX];

	if (!wants(d, DETECT_PERIODIC))
		return;
	for (size_t i = 0; i < j->npairs; i++) {
		struct dpair *p = j->pairs[i];
		struct detstat_periodic per;
		struct detect_finding *f;
		size_t n;

		if (p->tkind == DETECT_T_PEER || p->detail == NO_DETAIL ||
		    p->h.lookups < periodic_support(j, p))
			continue;
		n = pair_timestamps(&d->details[p->detail], ts);
		if (detstat_periodicity(ts, n, d->cfg.periodic_min_lookups, &per) ||
		    per.score < d->cfg.periodic_score)
			continue;
		f = new_finding(j, DETECT_PERIODIC);
		if (!f)
			return;
		pair_figures(d, f, p, find_client(d, p->chash), find_target(d, p->thash));
		f->periodic = per;
	}
}

/* ---- replacement ---------------------------------------------------------- */

/* One target's pairs, in j->pairs (sorted by target). */
struct tgroup {
	struct dtarget *t;
	struct dpair **p;
	size_t n;
};

/*
 * Share of the target's lookups whose clients still look things up
 * `silence` after its last lookup: the target went quiet, not its clients.
 */
static double clients_still_active(const struct detect *d, const struct tgroup *g)
{
	uint64_t after = g->t->h.last_ns + d->cfg.silence_ns, active = 0, all = 0;

	for (size_t i = 0; i < g->n; i++) {
		const struct dclient *c = find_client(d, g->p[i]->chash);

		all += g->p[i]->h.lookups;
		if (c && c->h.last_ns >= after)
			active += g->p[i]->h.lookups;
	}
	return all ? (double)active / (double)all : 0;
}

/*
 * Whether a target met the support rules and then ended: answered NXDOMAIN
 * from its last NOERROR answer on, or silent for --silence (to the end of
 * the session) while clients with at least half of its lookups stayed
 * active. *end_ns: its last answered lookup (its last lookup if no answer
 * was seen).
 */
static bool target_ended(const struct judge *j, const struct tgroup *g, uint64_t *end_ns,
			 bool *nxdomain)
{
	const struct detect *d = j->d;
	const struct dtarget *t = g->t;

	if (t->kind == DETECT_T_PEER || t->h.lookups < d->cfg.min_lookups ||
	    active_clients(j, t->h.first_ns, t->h.last_ns) < d->cfg.min_clients)
		return false;
	*nxdomain = t->nx_after && t->last_ok_ns;
	*end_ns = t->last_ok_ns ? t->last_ok_ns : t->h.last_ns;
	if (*nxdomain)
		return true;
	return d->last_ns >= t->h.last_ns + d->cfg.silence_ns && clients_still_active(d, g) >= 0.5;
}

/* A never-seen target of the same kind whose first lookup lies in (end, end + window]. */
static bool successor_candidate(const struct detect *d, const struct tgroup *old,
				const struct tgroup *g, uint64_t end_ns)
{
	const struct dtarget *t = g->t;

	return t != old->t && t->kind == old->t->kind && !t->h.error &&
	       t->h.lookups >= d->cfg.min_lookups && t->h.first_ns > end_ns &&
	       t->h.first_ns - end_ns <= d->cfg.replacement_window_ns;
}

static int group_overlap(const struct tgroup *a, const struct tgroup *b,
			 struct detstat_client_count *ca, struct detstat_client_count *cb,
			 struct detstat_overlap *out)
{
	for (size_t i = 0; i < a->n; i++)
		ca[i] = (struct detstat_client_count){a->p[i]->chash, a->p[i]->h.lookups};
	for (size_t i = 0; i < b->n; i++)
		cb[i] = (struct detstat_client_count){b->p[i]->chash, b->p[i]->h.lookups};
	return detstat_client_overlap(ca, a->n, cb, b->n, out);
}

/* The new target's first pair: earliest lookup, ties by the client's label. */
static struct dpair *first_pair(const struct detect *d, const struct tgroup *g)
{
	struct dpair *best = NULL;

	for (size_t i = 0; i < g->n; i++) {
		struct dpair *p = g->p[i];

		if (!best || p->h.first_ns < best->h.first_ns ||
		    (p->h.first_ns == best->h.first_ns &&
		     strcmp(find_client(d, p->chash)->id.label,
			    find_client(d, best->chash)->id.label) < 0))
			best = p;
	}
	return best;
}

static int address_overlap(const struct dtarget *a, const struct dtarget *b)
{
	if (!a->naddrs || !b->naddrs)
		return -1;
	for (uint8_t i = 0; i < a->naddrs; i++)
		for (uint8_t k = 0; k < b->naddrs; k++)
			if (a->addrs[i].family == b->addrs[k].family &&
			    !memcmp(a->addrs[i].addr, b->addrs[k].addr,
				    a->addrs[i].family == AF_INET6 ? 16 : 4))
				return 1;
	return 0;
}

static void add_replacement(struct judge *j, const struct tgroup *old, const struct tgroup *g,
			    uint64_t end_ns, bool nxdomain, const struct detstat_overlap *ov)
{
	struct detect *d = j->d;
	struct dpair *fp = first_pair(d, g);
	struct dclient *c = find_client(d, fp->chash);
	struct detect_finding *f = new_finding(j, DETECT_REPLACEMENT);
	struct detect_replacement *r;

	if (!f)
		return;
	pair_figures(d, f, fp, c, g->t);
	f->target = old->t->text;
	r = &f->replacement;
	r->old_target = old->t->text;
	r->new_target = g->t->text;
	r->nxdomain = nxdomain;
	r->old_lookups = old->t->h.lookups;
	r->old_distinct = old->n;
	r->old_first_ns = old->t->h.first_ns;
	r->old_last_ns = old->t->h.last_ns;
	r->old_end_ns = end_ns;
	r->old_nxdomain = nxdomain ? old->t->nx_after : 0;
	r->new_lookups = g->t->h.lookups;
	r->new_distinct = g->n;
	r->new_first_ns = g->t->h.first_ns;
	r->new_last_ns = g->t->h.last_ns;
	r->gap_ns = g->t->h.first_ns - end_ns;
	r->overlap = *ov;
	r->first_client = &c->id;
	r->first_client_ns = fp->h.first_ns;
	r->nold_addrs = old->t->naddrs;
	r->nnew_addrs = g->t->naddrs;
	memcpy(r->old_addrs, old->t->addrs, sizeof(r->old_addrs));
	memcpy(r->new_addrs, g->t->addrs, sizeof(r->new_addrs));
	r->address_overlap = address_overlap(old->t, g->t);
}

/*
 * Pairs grouped by target, most lookups first: j->pairs as judge_exclusive()
 * left them (sorted by target; nothing between reorders them).
 */
static size_t target_groups(struct judge *j, struct tgroup *groups)
{
	size_t ng = 0, n = j->npairs;

	for (size_t i = 0, e; i < n; i = e) {
		e = group_end(j->pairs, n, i, true);
		groups[ng++] =
			(struct tgroup){find_target(j->d, j->pairs[i]->thash), j->pairs + i, e - i};
	}
	return ng;
}

static int cmp_by_first_lookup(const void *a, const void *b)
{
	const struct tgroup *x = *(const struct tgroup *const *)a;
	const struct tgroup *y = *(const struct tgroup *const *)b;

	return x->t->h.first_ns < y->t->h.first_ns ? -1 : x->t->h.first_ns > y->t->h.first_ns;
}

/* Groups that may succeed another (enough lookups, none missed), by first lookup. */
static size_t successor_pool(const struct detect *d, struct tgroup *groups, size_t ng,
			     struct tgroup **pool)
{
	size_t n = 0;

	for (size_t i = 0; i < ng; i++)
		if (!groups[i].t->h.error && groups[i].t->h.lookups >= d->cfg.min_lookups)
			pool[n++] = &groups[i];
	qsort(pool, n, sizeof(*pool), cmp_by_first_lookup);
	return n;
}

/* The first of the pool whose first lookup is after end_ns. */
static size_t pool_after(struct tgroup *const *pool, size_t n, uint64_t end_ns)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pool[mid]->t->h.first_ns <= end_ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * For each target that ended, the never-seen target of the same kind
 * within --replacement-window whose clients are the old one's in the same
 * proportions (containment and weighted Jaccard at their thresholds); the
 * best by weighted Jaccard (ties: earlier first lookup, then text). Only
 * targets first seen within the window are looked at: the pool is sorted
 * by first lookup.
 */
static int judge_replacement(struct judge *j)
{
	struct detect *d = j->d;
	size_t n = j->npairs ? j->npairs : 1, ng, npool;
	struct tgroup *groups = calloc(n, sizeof(*groups));
	struct tgroup **pool = calloc(n, sizeof(*pool));
	struct detstat_client_count *ca = calloc(n, sizeof(*ca)), *cb = calloc(n, sizeof(*cb));
	int ret = 0;

	if (!groups || !pool || !ca || !cb) {
		ret = -ENOMEM;
		goto out;
	}
	ng = target_groups(j, groups);
	npool = successor_pool(d, groups, ng, pool);
	for (size_t i = 0; i < ng; i++) {
		struct detstat_overlap ov, best_ov = {0};
		const struct tgroup *best = NULL;
		uint64_t end_ns;
		bool nx;

		if (!target_ended(j, &groups[i], &end_ns, &nx))
			continue;
		for (size_t k = pool_after(pool, npool, end_ns); k < npool; k++) {
			const struct tgroup *g = pool[k];

			if (g->t->h.first_ns - end_ns > d->cfg.replacement_window_ns)
				break;

			if (!successor_candidate(d, &groups[i], g, end_ns) ||
			    group_overlap(&groups[i], g, ca, cb, &ov) ||
			    ov.containment < d->cfg.replacement_containment ||
			    ov.weighted_jaccard < d->cfg.replacement_jaccard)
				continue;
			if (best && (ov.weighted_jaccard < best_ov.weighted_jaccard ||
				     (ov.weighted_jaccard == best_ov.weighted_jaccard &&
				      (g->t->h.first_ns > best->t->h.first_ns ||
				       (g->t->h.first_ns == best->t->h.first_ns &&
					strcmp(g->t->text, best->t->text) > 0)))))
				continue;
			best = g;
			best_ov = ov;
		}
		if (best)
			add_replacement(j, &groups[i], best, end_ns, nx, &best_ov);
	}
out:
	free(groups);
	free(pool);
	free(ca);
	free(cb);
	return ret;
}

/* ---- order and entry point -------------------------------------------- */

static uint64_t finding_lookups(const struct detect_finding *f)
{
	if (f->kind == DETECT_EXCLUSIVE_TARGET || f->kind == DETECT_MUTUAL)
		return f->by_target.lookups;
	if (f->kind == DETECT_EXCLUSIVE_CLIENT)
		return f->by_client.lookups;
	return f->pair_lookups;
}

static int cmp_finding(const void *a, const void *b)
{
	const struct detect_finding *x = a, *y = b;
	uint64_t nx = finding_lookups(x), ny = finding_lookups(y);
	int r;

	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	if (x->target_kind != y->target_kind)
		return (int)x->target_kind - (int)y->target_kind;
	if (nx != ny)
		return nx > ny ? -1 : 1;
	r = strcmp(x->target, y->target);
	return r ? r : strcmp(x->client->label, y->client->label);
}

static int collect_pairs(struct judge *j)
{
	struct detect *d = j->d;
	uint32_t cap = d->pairs.s.capacity;

	j->pairs = calloc(d->pairs.s.used ? d->pairs.s.used : 1, sizeof(*j->pairs));
	j->reported = calloc(2 * (size_t)d->pairs.s.used + 1, sizeof(*j->reported));
	if (!j->pairs || !j->reported)
		return -ENOMEM;
	for (uint32_t i = 0; i < cap; i++) {
		struct dpair *p = (struct dpair *)entry(&d->pairs, i);

		if (p->h.lookups && find_client(d, p->chash) && find_target(d, p->thash))
			j->pairs[j->npairs++] = p;
	}
	return 0;
}

int detect_findings(struct detect *d, detect_finding_fn fn, void *ctx)
{
	struct judge j = {.d = d};
	int ret;

	if (!d)
		return 0;
	ret = collect_pairs(&j);
	if (!ret)
		ret = collect_client_spans(&j);
	if (!ret)
		ret = judge_exclusive(&j);
	if (!ret) {
		j.windows = calloc(j.nreported ? j.nreported : 1, sizeof(*j.windows));
		ret = j.windows ? 0 : -ENOMEM;
	}
	if (!ret) {
		judge_windows(&j);
		judge_periodic(&j);
		if (wants(d, DETECT_REPLACEMENT))
			ret = judge_replacement(&j);
	}
	if (!ret) {
		if (j.nout)
			qsort(j.out, j.nout, sizeof(*j.out), cmp_finding);
		for (size_t i = 0; i < j.nout; i++)
			fn(ctx, &j.out[i]);
		ret = (int)j.nout;
	}
	free(j.pairs);
	free(j.reported);
	free(j.windows);
	free(j.out);
	free(j.client_first);
	free(j.client_last);
	return ret;
}

/* ---- output --------------------------------------------------------------- */

/* A number rounded to 6 decimals, trailing zeros dropped; null if not finite. */
static void json_double(struct jbuf *j, double v)
{
	char buf[48];
	int n;

	if (!(v == v) || v > 1e300 || v < -1e300) {
		jbuf_null(j);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%.6f", v);
	while (n > 1 && buf[n - 1] == '0' && buf[n - 2] != '.')
		n--;
	jbuf_raw(j, buf, (size_t)n);
}

#define KV_DOUBLE(j, lit, v) (JBUF_KEY(j, lit), json_double((j), (v)))

static void json_client(struct jbuf *j, const struct detect_client *c)
{
	if (!c) {
		jbuf_null(j);
		return;
	}
	jbuf_obj_begin(j);
	if (c->host[0])
		JBUF_KV_STR(j, "host", c->host);
	if (c->process) {
		JBUF_KEY(j, "comm");
		jbuf_strn(j, c->comm, strnlen(c->comm, DNSSNOOP_COMM_LEN));
		JBUF_KV_U64(j, "uid", c->uid);
		JBUF_KV_U64(j, "pid", c->pid);
		if (c->cgroup[0])
			JBUF_KV_STR(j, "cgroup", c->cgroup);
		else
			JBUF_KV_NULL(j, "cgroup");
	} else {
		JBUF_KEY(j, "address");
		fmt_json_addr(j, c->family, c->addr);
	}
	JBUF_KV_STR(j, "label", c->label);
	jbuf_obj_end(j);
}

static void json_window(struct jbuf *j, const struct detstat_window *w)
{
	jbuf_obj_begin(j);
	JBUF_KV_U64(j, "start_hour", w->start);
	JBUF_KV_U64(j, "end_hour", (w->start + w->len) % DETSTAT_DAY_BINS);
	JBUF_KV_U64(j, "hours", w->len);
	KV_DOUBLE(j, "share", w->share);
	jbuf_obj_end(j);
}

static void json_side_common(struct jbuf *j, const struct detect_side *s)
{
	JBUF_KV_U64(j, "lookups", s->lookups);
	JBUF_KV_U64(j, "lookups_error", s->error);
	KV_DOUBLE(j, "top_share", s->top_share);
	JBUF_KV_U64(j, "top_lookups", s->top_lookups);
	KV_DOUBLE(j, "second_share", s->second_share);
	JBUF_KV_U64(j, "second_lookups", s->second_lookups);
	KV_DOUBLE(j, "hhi", s->hhi);
	KV_DOUBLE(j, "wilson_lower", s->wilson_lower);
	KV_DOUBLE(j, "wilson_lower_top_two", s->wilson_lower_top_two);
	JBUF_KV_STR(j, "rule", s->top_two ? "top_two" : "top");
	JBUF_KV_U64(j, "active_clients", s->active_clients);
	JBUF_KEY(j, "first_seen");
	fmt_json_time(j, s->first_ns);
	JBUF_KEY(j, "last_seen");
	fmt_json_time(j, s->last_ns);
}

static void json_by_target(struct jbuf *j, const struct detect_finding *f)
{
	const struct detect_side *s = &f->by_target;

	JBUF_KEY(j, "by_target");
	jbuf_obj_begin(j);
	json_side_common(j, s);
	JBUF_KV_U64(j, "distinct_clients", s->distinct);
	KV_DOUBLE(j, "effective_clients", s->effective);
	JBUF_KEY(j, "top_client");
	json_client(j, f->client);
	JBUF_KEY(j, "second_client");
	json_client(j, f->second_client);
	if (s->top_two) {
		JBUF_KEY(j, "clients");
		jbuf_arr_begin(j);
		json_client(j, f->client);
		json_client(j, f->second_client);
		jbuf_arr_end(j);
	}
	jbuf_obj_end(j);
}

static void json_by_client(struct jbuf *j, const struct detect_finding *f)
{
	const struct detect_side *s = &f->by_client;

	JBUF_KEY(j, "by_client");
	jbuf_obj_begin(j);
	json_side_common(j, s);
	JBUF_KV_U64(j, "distinct_targets", s->distinct);
	KV_DOUBLE(j, "effective_targets", s->effective);
	JBUF_KV_U64(j, "active_hours", s->active_hours);
	JBUF_KV_STR(j, "top_target", f->top_target);
	JBUF_KEY(j, "second_target");
	if (f->second_target)
		jbuf_str(j, f->second_target);
	else
		jbuf_null(j);
	if (s->top_two) {
		JBUF_KEY(j, "targets");
		jbuf_arr_begin(j);
		jbuf_str(j, f->top_target);
		jbuf_str(j, f->second_target);
		jbuf_arr_end(j);
	}
	jbuf_obj_end(j);
}

static void json_time_window(struct jbuf *j, const struct detect_time_window *w)
{
	JBUF_KEY(j, "time_window");
	jbuf_obj_begin(j);
	JBUF_KEY(j, "hour_of_week_utc");
	jbuf_arr_begin(j);
	for (int h = 0; h < DETSTAT_WEEK_BINS; h++)
		jbuf_u64(j, w->week_utc[h]);
	jbuf_arr_end(j);
	JBUF_KV_U64(j, "lookups_counted", w->counted);
	JBUF_KEY(j, "utc");
	json_window(j, &w->utc);
	KV_DOUBLE(j, "weekday_share_utc", w->weekday_share_utc);
	JBUF_KEY(j, "baseline_utc");
	json_window(j, &w->baseline);
	KV_DOUBLE(j, "baseline_weekday_share_utc", w->baseline_weekday_share);
	JBUF_KV_BOOL(j, "concentrated", w->concentrated);
	JBUF_KEY(j, "zones");
	jbuf_arr_begin(j);
	for (size_t i = 0; i < w->nzones; i++) {
		const struct detect_window_zone *z = &w->zones[i];

		jbuf_obj_begin(j);
		JBUF_KV_STR(j, "zone", z->zone);
		JBUF_KV_I64(j, "utc_offset_s", z->offset_s);
		JBUF_KV_BOOL(j, "exact", z->exact);
		JBUF_KEY(j, "local");
		json_window(j, &z->res.window);
		KV_DOUBLE(j, "weekday_share", z->res.weekday_share);
		JBUF_KV_BOOL(j, "window_inside_business_hours", z->res.window_inside);
		JBUF_KV_BOOL(j, "business_hours", z->res.business);
		jbuf_obj_end(j);
	}
	jbuf_arr_end(j);
	jbuf_obj_end(j);
}

static void json_periodic(struct jbuf *j, const struct detstat_periodic *p)
{
	JBUF_KEY(j, "periodic");
	jbuf_obj_begin(j);
	KV_DOUBLE(j, "score", p->score);
	KV_DOUBLE(j, "skew_score", p->skew_score);
	KV_DOUBLE(j, "madm_score", p->madm_score);
	KV_DOUBLE(j, "hist_score", p->hist_score);
	KV_DOUBLE(j, "bowley", p->bowley);
	KV_DOUBLE(j, "median_interval_s", p->median_s);
	KV_DOUBLE(j, "madm_s", p->madm_s);
	JBUF_KV_U64(j, "events", p->events);
	jbuf_obj_end(j);
}

static void json_addrs(struct jbuf *j, const struct obs_addr *a, size_t n)
{
	jbuf_arr_begin(j);
	for (size_t i = 0; i < n; i++)
		fmt_json_addr(j, a[i].family, a[i].addr);
	jbuf_arr_end(j);
}

static void json_replacement(struct jbuf *j, const struct detect_replacement *r)
{
	JBUF_KEY(j, "replacement");
	jbuf_obj_begin(j);
	JBUF_KV_STR(j, "old_target", r->old_target);
	JBUF_KV_STR(j, "new_target", r->new_target);
	JBUF_KV_STR(j, "ended", r->nxdomain ? "nxdomain" : "silent");
	JBUF_KV_U64(j, "old_lookups", r->old_lookups);
	JBUF_KV_U64(j, "old_distinct_clients", r->old_distinct);
	JBUF_KEY(j, "old_first_seen");
	fmt_json_time(j, r->old_first_ns);
	JBUF_KEY(j, "old_last_seen");
	fmt_json_time(j, r->old_last_ns);
	JBUF_KEY(j, "old_last_answered");
	fmt_json_time(j, r->old_end_ns);
	JBUF_KV_U64(j, "old_nxdomain_after", r->old_nxdomain);
	JBUF_KV_U64(j, "new_lookups", r->new_lookups);
	JBUF_KV_U64(j, "new_distinct_clients", r->new_distinct);
	JBUF_KEY(j, "new_first_seen");
	fmt_json_time(j, r->new_first_ns);
	JBUF_KEY(j, "new_last_seen");
	fmt_json_time(j, r->new_last_ns);
	JBUF_KV_U64(j, "gap_ns", r->gap_ns);
	KV_DOUBLE(j, "gap_s", (double)r->gap_ns / NS_PER_SEC);
	KV_DOUBLE(j, "weighted_jaccard", r->overlap.weighted_jaccard);
	KV_DOUBLE(j, "containment", r->overlap.containment);
	KV_DOUBLE(j, "set_jaccard", r->overlap.set_jaccard);
	JBUF_KEY(j, "first_client");
	json_client(j, r->first_client);
	JBUF_KEY(j, "first_client_seen");
	fmt_json_time(j, r->first_client_ns);
	JBUF_KEY(j, "old_addresses");
	json_addrs(j, r->old_addrs, r->nold_addrs);
	JBUF_KEY(j, "new_addresses");
	json_addrs(j, r->new_addrs, r->nnew_addrs);
	JBUF_KEY(j, "address_overlap");
	if (r->address_overlap < 0)
		jbuf_null(j);
	else
		jbuf_bool(j, r->address_overlap);
	jbuf_obj_end(j);
}

static void json_thresholds(struct jbuf *j, const struct detect *d, enum detect_kind kind)
{
	char bh[8];

	JBUF_KEY(j, "thresholds");
	jbuf_obj_begin(j);
	switch (kind) {
	case DETECT_PERIODIC:
		JBUF_KV_U64(j, "min_lookups", d->cfg.periodic_min_lookups);
		KV_DOUBLE(j, "min_score", d->cfg.periodic_score);
		break;
	case DETECT_TIME_WINDOW:
		KV_DOUBLE(j, "window_share", DETSTAT_WINDOW_SHARE);
		KV_DOUBLE(j, "concentrated_ratio", d->cfg.concentrated_ratio);
		snprintf(bh, sizeof(bh), "%02u-%02u", d->cfg.business_start % 100,
			 d->cfg.business_end % 100);
		JBUF_KV_STR(j, "business_hours", bh);
		KV_DOUBLE(j, "business_weekday_share", 0.9);
		break;
	case DETECT_REPLACEMENT:
		JBUF_KV_U64(j, "min_lookups", d->cfg.min_lookups);
		JBUF_KV_U64(j, "min_clients", d->cfg.min_clients);
		KV_DOUBLE(j, "silence_s", (double)d->cfg.silence_ns / NS_PER_SEC);
		KV_DOUBLE(j, "replacement_window_s",
			  (double)d->cfg.replacement_window_ns / NS_PER_SEC);
		KV_DOUBLE(j, "containment", d->cfg.replacement_containment);
		KV_DOUBLE(j, "weighted_jaccard", d->cfg.replacement_jaccard);
		KV_DOUBLE(j, "clients_active_share", 0.5);
		break;
	default:
		JBUF_KV_U64(j, "min_lookups", d->cfg.min_lookups);
		KV_DOUBLE(j, "exclusive_share", d->cfg.exclusive_share);
		JBUF_KV_U64(j, "min_clients", d->cfg.min_clients);
		JBUF_KV_U64(j, "min_hours", d->cfg.min_hours);
		KV_DOUBLE(j, "dominant_share", DOMINANT_SHARE);
		break;
	}
	jbuf_obj_end(j);
}

struct report_ctx {
	struct detect *d;
	struct output *out;
	struct jbuf line; /* text format */
	bool interval; /* an interval close: only findings not written before */
	int written;
};

static void json_finding(struct report_ctx *r, const struct detect_finding *f)
{
	struct jbuf *j = output_begin_record(r->out, "finding");

	if (!j)
		return;
	JBUF_KV_STR(j, "scope", r->interval ? "interval" : "total");
	JBUF_KV_STR(j, "kind", detect_kind_name(f->kind));
	JBUF_KV_STR(j, "target_kind", detect_target_kind_name(f->target_kind));
	JBUF_KV_STR(j, "target", f->target);
	JBUF_KEY(j, "client");
	json_client(j, f->client);
	JBUF_KV_U64(j, "lookups", f->pair_lookups);
	JBUF_KEY(j, "first_seen");
	fmt_json_time(j, f->pair_first_ns);
	JBUF_KEY(j, "last_seen");
	fmt_json_time(j, f->pair_last_ns);
	KV_DOUBLE(j, "npmi", f->npmi);
	JBUF_KV_U64(j, "total_lookups", f->total_lookups);
	if (f->kind == DETECT_MUTUAL || f->kind == DETECT_EXCLUSIVE_TARGET)
		json_by_target(j, f);
	if (f->kind == DETECT_MUTUAL || f->kind == DETECT_EXCLUSIVE_CLIENT)
		json_by_client(j, f);
	if (f->window)
		json_time_window(j, f->window);
	if (f->kind == DETECT_PERIODIC)
		json_periodic(j, &f->periodic);
	if (f->kind == DETECT_REPLACEMENT)
		json_replacement(j, &f->replacement);
	json_thresholds(j, r->d, f->kind);
	JBUF_KEY(j, "examples");
	jbuf_arr_begin(j);
	for (size_t i = 0; i < f->nexamples; i++)
		fmt_json_time(j, f->examples[i]);
	jbuf_arr_end(j);
	output_end_record(r->out);
}

static void text_printf(struct jbuf *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_printf(struct jbuf *l, const char *fmt, ...)
{
	char buf[768];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		jbuf_append(l, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void text_side(struct jbuf *l, const char *what, const struct detect_side *s)
{
	text_printf(l, " %s: N=%llu D=%llu s1=%.3f s2=%.3f hhi=%.3f 1/hhi=%.2f wilson=%.3f%s", what,
		    (unsigned long long)s->lookups, (unsigned long long)s->distinct, s->top_share,
		    s->second_share, s->hhi, s->effective,
		    s->top_two ? s->wilson_lower_top_two : s->wilson_lower,
		    s->top_two ? " (top two)" : "");
}

static void text_finding(struct report_ctx *r, const struct detect_finding *f)
{
	struct jbuf *l = &r->line;
	char first[FMT_RFC3339_LEN + 1], last[FMT_RFC3339_LEN + 1];

	jbuf_reset(l);
	fmt_time(first, f->pair_first_ns);
	fmt_time(last, f->pair_last_ns);
	first[FMT_RFC3339_LEN] = last[FMT_RFC3339_LEN] = 0;
	text_printf(l, "finding %s %s %s client %s lookups %llu %s .. %s",
		    detect_kind_name(f->kind), detect_target_kind_name(f->target_kind), f->target,
		    f->client->label, (unsigned long long)f->pair_lookups, first, last);
	if (f->kind == DETECT_MUTUAL || f->kind == DETECT_EXCLUSIVE_TARGET)
		text_side(l, "target", &f->by_target);
	if (f->kind == DETECT_MUTUAL || f->kind == DETECT_EXCLUSIVE_CLIENT)
		text_side(l, "client", &f->by_client);
	if (f->kind == DETECT_MUTUAL)
		text_printf(l, " npmi=%.3f", f->npmi);
	if (f->window) {
		const struct detect_time_window *w = f->window;

		text_printf(l, " utc %02u-%02u (%uh) weekdays %.2f baseline %uh%s", w->utc.start,
			    (w->utc.start + w->utc.len) % 24, w->utc.len, w->weekday_share_utc,
			    w->baseline.len, w->concentrated ? " concentrated" : "");
		for (size_t i = 0; i < w->nzones; i++)
			text_printf(l, " %s %02u-%02u%s", w->zones[i].zone,
				    w->zones[i].res.window.start,
				    (w->zones[i].res.window.start + w->zones[i].res.window.len) %
					    24,
				    w->zones[i].res.business ? " business-hours" : "");
	}
	if (f->kind == DETECT_PERIODIC)
		text_printf(l, " score=%.3f median=%.1fs events=%u", f->periodic.score,
			    f->periodic.median_s, f->periodic.events);
	if (f->kind == DETECT_REPLACEMENT) {
		const struct detect_replacement *r = &f->replacement;

		text_printf(l,
			    " -> %s (%s) gap=%.0fs wjaccard=%.3f containment=%.3f jaccard=%.3f%s",
			    r->new_target, r->nxdomain ? "nxdomain" : "silent",
			    (double)r->gap_ns / NS_PER_SEC, r->overlap.weighted_jaccard,
			    r->overlap.containment, r->overlap.set_jaccard,
			    r->address_overlap > 0 ? " same-address" : "");
	}
	if (r->interval)
		text_printf(l, " [interval]");
	if (!l->failed)
		output_text_line(r->out, l->buf, l->len);
}

/* What makes a finding the same one later: kind, target kind, target, client. */
static uint64_t finding_identity(const struct detect *d, const struct detect_finding *f)
{
	uint8_t kinds[2] = {(uint8_t)f->kind, (uint8_t)f->target_kind};
	uint64_t h = hash_bytes(kinds, sizeof(kinds), d->seed ^ 0x5eedULL);

	h = hash_bytes(f->target, strlen(f->target) + 1, h);
	h = hash_bytes(f->client->label, strlen(f->client->label), h);
	return h ? h : 1; /* 0 marks an empty slot */
}

/*
 * Remembers a written finding's identity: 1 if it is new, 0 if it was
 * written before, -1 if the set is full (DETECT_WRITTEN_MAX identities, at
 * most half the slots, so probes stay short) or cannot be allocated.
 */
static int note_written(struct detect *d, uint64_t id)
{
	const uint32_t mask = DETECT_WRITTEN_SLOTS - 1;
	uint32_t i = (uint32_t)id & mask;

	if (!d->written) {
		d->written = calloc(DETECT_WRITTEN_SLOTS, sizeof(*d->written));
		if (!d->written)
			return -1;
	}
	for (; d->written[i]; i = (i + 1) & mask)
		if (d->written[i] == id)
			return 0;
	if (d->nwritten >= DETECT_WRITTEN_MAX)
		return -1;
	d->written[i] = id;
	d->nwritten++;
	return 1;
}

static void report_one(void *ctx, const struct detect_finding *f)
{
	struct report_ctx *r = ctx;

	if (r->interval && note_written(r->d, finding_identity(r->d, f)) <= 0)
		return;
	r->written++;
	if (output_format_of(r->out) == OUTPUT_TEXT)
		text_finding(r, f);
	else
		json_finding(r, f);
}

static int report(struct detect *d, struct output *out, bool interval)
{
	struct report_ctx r = {.d = d, .out = out, .interval = interval};
	int ret;

	if (!d || !out)
		return 0;
	if (jbuf_init(&r.line, 1024))
		return -ENOMEM;
	ret = detect_findings(d, report_one, &r);
	jbuf_free(&r.line);
	return ret < 0 ? ret : r.written;
}

int detect_report(struct detect *d, struct output *out)
{
	return report(d, out, false);
}

int detect_report_new(struct detect *d, struct output *out)
{
	return report(d, out, true);
}
