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
 * not judged). Judging (detect_findings, in detect_judge.c) runs at the
 * end and at each --interval close, and may allocate.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "analysis/detect_impl.h"
#include "lib/hash.h"

/* ---- configuration ---------------------------------------------------- */

static const char *const kind_names[DETECT_NKINDS] = {
	[DETECT_MUTUAL] = "mutual",
	[DETECT_EXCLUSIVE_TARGET] = "exclusive_target",
	[DETECT_EXCLUSIVE_CLIENT] = "exclusive_client",
	[DETECT_TIME_WINDOW] = "time_window",
	[DETECT_PERIODIC] = "periodic",
	[DETECT_REPLACEMENT] = "replacement",
	[DETECT_FIRST_SEEN] = "first_seen",
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
		.population_window_ns = 86400 * NS_PER_SEC,
		.min_repeat = 3,
		.min_spread = 3,
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

/* ---- bounded tables ---------------------------------------------------- */

static int table_init(struct table *t, size_t capacity, size_t esize)
{
	return slots_init(&t->s, capacity, esize) ? 0 : -ENOMEM;
}

static void release_detail(struct detect *d, struct dpair *p);

/*
 * A full table gives up the entry with the fewest lookups among a sample
 * of EVICT_SAMPLE (every allocated slot is used, so any index below
 * `allocated` will do: max_entries of them, unless memory ran short); the
 * newcomer keeps that count as its error bound, as Space-Saving does.
 */
static uint64_t evict_one(struct detect *d, struct table *t)
{
	uint32_t cap = t->s.allocated, best = t->cursor % cap;
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
	memset(h, 0, t->s.entry_size);
	h->hash = hash;
	h->error = error;
	*created = true;
	return i;
}

/* Never moves last_ns back: history loaded from the state file may end after a lookup. */
static void count(struct ehead *h, uint64_t ts_ns)
{
	if (!h->lookups && !h->first_ns)
		h->first_ns = ts_ns;
	h->lookups++;
	if (ts_ns > h->last_ns)
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

/*
 * A time record for pair p (entry slot): a free one, or the one of the
 * pair with the fewest lookups among a sample. NO_DETAIL when none is
 * given up.
 */
static uint32_t claim_detail(struct detect *d, struct dpair *p, uint32_t slot)
{
	uint32_t i;

	if (d->used_details == d->ndetails)
		i = take_detail(d, p->h.lookups);
	else
		for (i = d->detail_cursor;; i = (i + 1) % d->ndetails)
			if (!d->details[i].owner)
				break;
	if (i == NO_DETAIL)
		return NO_DETAIL;
	memset(&d->details[i], 0, sizeof(d->details[i]));
	d->details[i].owner = slot + 1;
	d->used_details++;
	p->detail = i;
	return i;
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
	i = claim_detail(d, p, slot);
	if (i == NO_DETAIL)
		return;
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
	d->written.max = DETECT_WRITTEN_MAX;
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
	u64set_free(&d->written);
	u64set_free(&d->known);
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

static struct dclient *count_client(struct detect *d, uint64_t chash, const struct dns_obs *o)
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
	return e;
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

/*
 * One lookup of a target by a client; first_of_name: the client had not
 * looked up this name before (as far as the pairs table remembers). Returns
 * the pair.
 */
static struct dpair *count_target(struct detect *d, uint64_t chash, const struct target_ref *ref,
				  uint64_t id, uint64_t ts_ns, bool first_of_name)
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
	p->names += first_of_name;
	pair_time(d, p, slot, ts_ns);
	return p;
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

/* The answer tap's time, into the observation's verdict (when one is asked for). */
static void verdict_answer(struct detect *d, uint8_t kind, uint64_t query_ns)
{
	if (!d->verdict)
		return;
	if (kind == DETECT_T_NAME)
		d->verdict->name_answer_ns = query_ns;
	else if (kind == DETECT_T_DOMAIN)
		d->verdict->domain_answer_ns = query_ns;
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
		verdict_answer(d, ref->kind, o->ts_ns);
		if (d->tap.answer)
			d->tap.answer(d->tap.ctx, ref->kind, ref->text, ref->hash, 3, o->ts_ns,
				      NULL, 0);
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
	verdict_answer(d, ref->kind, t->last_ok_ns);
	if (d->tap.answer)
		d->tap.answer(d->tap.ctx, ref->kind, ref->text, ref->hash, 0, t->last_ok_ns,
			      o->addrs, o->naddrs < OBS_MAX_ADDRS ? o->naddrs : OBS_MAX_ADDRS);
}

static void detect_response(struct detect *d, const struct dns_obs *o,
			    const struct target_ref *name)
{
	struct target_ref domain;

	answer_target(d, name, o);
	if (domain_ref(d, name, &domain))
		answer_target(d, &domain, o);
}

static void tap_lookup(struct detect *d, const struct dclient *c, uint64_t chash,
		       const struct target_ref *t, uint64_t ts_ns, bool first)
{
	if (d->tap.lookup)
		d->tap.lookup(d->tap.ctx, &c->id, chash, t->kind, t->text, t->hash, ts_ns, first);
}

static void detect_query(struct detect *d, const struct dns_obs *o, const struct target_ref *name)
{
	uint64_t chash = client_hash(d, o);
	struct target_ref t;
	struct dclient *c;
	struct dpair *np;
	bool first;

	if (is_retransmission(d, chash, name, o))
		return;
	d->total++;
	d->week[detstat_utc_hour_of_week(o->ts_ns)]++;
	if (!d->first_ns || o->ts_ns < d->first_ns)
		d->first_ns = o->ts_ns;
	if (o->ts_ns > d->last_ns)
		d->last_ns = o->ts_ns;
	c = count_client(d, chash, o);
	np = count_target(d, chash, name, o->id, o->ts_ns, false);
	np->names = 1;
	/* A name pair of one lookup: this is the client's first lookup of the name. */
	first = np->h.lookups == 1;
	c->first_contacts += first;
	if (d->verdict) {
		d->verdict->lookup = true;
		d->verdict->first_of_name = first;
	}
	tap_lookup(d, c, chash, name, o->ts_ns, first);
	if (domain_ref(d, name, &t)) {
		count_target(d, chash, &t, o->id, o->ts_ns, first);
		tap_lookup(d, c, chash, &t, o->ts_ns, first);
	}
	if (peer_ref(d, o, &t)) {
		count_target(d, chash, &t, o->id, o->ts_ns, first);
		tap_lookup(d, c, chash, &t, o->ts_ns, first);
	}
}

/* Whether the tables count o at all: queries, and responses for the replacement detector. */
static bool counts_obs(const struct detect *d, const struct dns_obs *o)
{
	if (o->mirror || (o->kind != OBS_QUERY && o->kind != OBS_RESPONSE))
		return false;
	return o->kind == OBS_QUERY || wants(d, DETECT_REPLACEMENT);
}

static void add_named(struct detect *d, const struct dns_obs *o, const struct target_ref *name)
{
	if (o->kind == OBS_RESPONSE)
		detect_response(d, o, name);
	else
		detect_query(d, o, name);
}

void detect_add(struct detect *d, const struct dns_obs *o)
{
	char text[DETECT_TEXT_MAX];
	struct target_ref name;
	size_t len;

	if (!d || !counts_obs(d, o))
		return;
	len = fold_name(o, text);
	if (!len)
		return;
	name = target_ref(d, DETECT_T_NAME, text, len);
	add_named(d, o, &name);
}

/* Client, name, domain and peer of any observation, as the tables would key them. */
static struct target_ref describe(struct detect *d, const struct dns_obs *o,
				  struct detect_verdict *v)
{
	struct target_ref name, t;
	size_t len = fold_name(o, v->name_buf);

	memset(v, 0, offsetof(struct detect_verdict, name_buf));
	client_of(o, &v->client);
	client_label(&v->client);
	v->name = v->name_buf;
	v->domain = "";
	v->peer = "";
	if (!len)
		v->name_buf[0] = 0;
	name = target_ref(d, DETECT_T_NAME, v->name_buf, len);
	if (len && domain_ref(d, &name, &t))
		v->domain = t.text;
	if (peer_ref(d, o, &t))
		v->peer = t.text;
	return name;
}

void detect_add_verdict(struct detect *d, const struct dns_obs *o, struct detect_verdict *v)
{
	struct target_ref name;

	if (!v || !d) {
		detect_add(d, o);
		return;
	}
	name = describe(d, o, v);
	if (!name.len || !counts_obs(d, o))
		return;
	d->verdict = v;
	add_named(d, o, &name);
	d->verdict = NULL;
}

/* ---- history and taps ---------------------------------------------------- */

void detect_set_tap(struct detect *d, const struct detect_tap *tap)
{
	d->tap = tap ? *tap : (struct detect_tap){0};
}

/* client_hash() of the client an identity was copied from (same fields, same order). */
static uint64_t client_id_hash(const struct detect *d, const struct detect_client *c)
{
	uint64_t h = hash_bytes(c->host, strlen(c->host), d->seed);

	if (c->process) {
		h = hash_bytes(c->comm, strnlen(c->comm, DNSSNOOP_COMM_LEN), h ^ c->uid);
		return hash_bytes(c->cgroup, strlen(c->cgroup), h ^ 1);
	}
	return hash_bytes(c->addr, 16, h ^ c->family ^ 2);
}

/* An entry's head grown by n lookups over [first_ns, last_ns]. */
static void count_many(struct ehead *h, uint64_t n, uint64_t first_ns, uint64_t last_ns)
{
	if (!h->lookups || first_ns < h->first_ns)
		h->first_ns = first_ns;
	if (last_ns > h->last_ns)
		h->last_ns = last_ns;
	h->lookups += n;
}

/* A loaded pair's time record: its histogram and its last timestamps. */
static void load_times(struct detect *d, struct dpair *p, uint32_t slot,
		       const struct detect_history_pair *h)
{
	size_t nts = h->nts < DETSTAT_TS_MAX ? h->nts : DETSTAT_TS_MAX;
	const uint64_t *ts = h->ts + (h->nts - nts);
	struct ddetail *dt;

	if (p->detail == NO_DETAIL && p->h.lookups < DETECT_DETAIL_MIN) {
		/* Still below a record: its first lookups, as pair_time keeps them. */
		for (size_t k = 0; k < nts && k < p->h.lookups; k++)
			p->early[k] = ts[k];
		return;
	}
	if (p->detail == NO_DETAIL && claim_detail(d, p, slot) == NO_DETAIL)
		return;
	dt = &d->details[p->detail];
	for (int b = 0; b < DETSTAT_WEEK_BINS; b++) {
		dt->week[b] += h->week ? h->week[b] : 0;
		dt->counted += h->week ? h->week[b] : 0;
	}
	for (size_t k = 0; k < nts; k++) {
		dt->ts[dt->head] = ts[k];
		dt->head = (dt->head + 1) % DETSTAT_TS_MAX;
		if (dt->nts < DETSTAT_TS_MAX)
			dt->nts++;
	}
}

int detect_load_pair(struct detect *d, const struct detect_history_pair *h)
{
	size_t len = h->text ? strlen(h->text) : 0;
	struct target_ref ref;
	uint64_t chash;
	struct dclient *c;
	struct dtarget *t;
	struct dpair *p;
	uint32_t slot;
	bool created;

	if (!h->lookups || !len || len >= DETECT_TEXT_MAX || h->kind >= DETECT_T_NKINDS)
		return -EINVAL;
	chash = client_id_hash(d, h->client);
	ref = target_ref(d, h->kind, h->text, len);
	c = (struct dclient *)entry(&d->clients, table_get(d, &d->clients, chash, &created));
	if (created) {
		c->id = *h->client;
		client_label(&c->id);
	}
	t = (struct dtarget *)entry(&d->targets, table_get(d, &d->targets, ref.hash, &created));
	if (created) {
		t->kind = ref.kind;
		snprintf(t->text, sizeof(t->text), "%s", h->text);
	}
	count_many(&t->h, h->lookups, h->first_ns, h->last_ns);
	slot = table_get(d, &d->pairs, pair_hash(chash, ref.hash), &created);
	p = (struct dpair *)entry(&d->pairs, slot);
	if (created) {
		p->chash = chash;
		p->thash = ref.hash;
		p->tkind = ref.kind;
		p->detail = NO_DETAIL;
	}
	count_many(&p->h, h->lookups, h->first_ns, h->last_ns);
	p->names += h->kind == DETECT_T_NAME ? (p->names ? 0 : 1) : h->names;
	load_times(d, p, slot, h);
	if (h->kind != DETECT_T_NAME)
		return 0;
	/* Every lookup has one name target: the client's and the session's counts. */
	count_many(&c->h, h->lookups, h->first_ns, h->last_ns);
	c->first_contacts += 1;
	if (h->last_ns / NS_PER_HOUR > c->last_hour)
		c->last_hour = h->last_ns / NS_PER_HOUR;
	d->total += h->lookups;
	for (int b = 0; h->week && b < DETSTAT_WEEK_BINS; b++)
		d->week[b] += h->week[b];
	if (!d->first_ns || h->first_ns < d->first_ns)
		d->first_ns = h->first_ns;
	if (h->last_ns > d->last_ns)
		d->last_ns = h->last_ns;
	return 0;
}

void detect_load_client_hours(struct detect *d, const struct detect_client *c, unsigned int hours)
{
	uint32_t i = table_find(&d->clients, client_id_hash(d, c));

	if (i != SLOTS_NIL)
		((struct dclient *)entry(&d->clients, i))->hours += hours;
}

bool detect_load_answers(struct detect *d, enum detect_target_kind kind, const char *text,
			 uint64_t last_ok_ns, uint64_t nx_after, const struct obs_addr *addrs,
			 size_t naddrs)
{
	size_t len = strlen(text);
	uint32_t i = table_find(&d->targets, target_hash_len(d, kind, text, len));
	struct dtarget *t;

	if (i == SLOTS_NIL)
		return false;
	t = (struct dtarget *)entry(&d->targets, i);
	if (last_ok_ns >= t->last_ok_ns) {
		t->last_ok_ns = last_ok_ns;
		t->nx_after = nx_after;
	}
	for (size_t k = 0; k < naddrs; k++)
		keep_addr(t, &addrs[k]);
	return true;
}

int detect_load_known_target(struct detect *d, enum detect_target_kind kind, const char *text,
			     uint64_t first_ns)
{
	if (u64set_add(&d->known, target_hash_len(d, kind, text, strlen(text))) < 0)
		return -ENOMEM;
	if (!d->known_first_ns || first_ns < d->known_first_ns)
		d->known_first_ns = first_ns;
	return 0;
}
