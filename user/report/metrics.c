// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Prometheus metrics: see metrics.h. A family is a small open-addressing
 * index over an array of label sets kept in first-come order (so a scrape
 * lists them in a stable order); keys are fixed-size binary structs,
 * zero-padded, so a lookup is one hash and one memcmp.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/detect_case.h"
#include "lib/fmt.h"
#include "lib/hash.h"
#include "lib/units.h"
#include "proto/dns.h"
#include "report/metrics.h"

#define KEY_MAX 32

struct series {
	uint8_t key[KEY_MAX];
	uint64_t n;
};

struct family {
	struct series *v; /* first-come order */
	uint32_t *index; /* 0: empty slot; else position in v plus one */
	uint32_t mask;
	size_t n, max;
	size_t keylen; /* bytes of a key hashed and compared (the rest stays 0) */
	uint64_t secret[2]; /* hash_fast's, random: peers and names cannot aim at one chain */
	uint64_t other; /* the label sets that came after max */
};

/* The keys: initialized whole (no padding but the explicit one), so equal keys compare equal. */
struct qtype_key {
	uint16_t qtype;
	uint16_t rcode; /* responses only */
};

struct proc_key {
	char comm[DNSSNOOP_COMM_LEN];
	uint32_t uid;
	uint16_t rcode; /* responses only */
	uint16_t pad;
	uint64_t cgroup_id;
};

struct peer_key {
	uint8_t family;
	uint8_t addr[16];
};

_Static_assert(sizeof(struct proc_key) <= KEY_MAX, "a key fits a series");

enum family_id { F_QUERIES, F_RESPONSES, F_PROC_QUERIES, F_PROC_RESPONSES, F_PEER_QUERIES, F_N };

static const size_t key_len[F_N] = {
	[F_QUERIES] = sizeof(struct qtype_key),	    [F_RESPONSES] = sizeof(struct qtype_key),
	[F_PROC_QUERIES] = sizeof(struct proc_key), [F_PROC_RESPONSES] = sizeof(struct proc_key),
	[F_PEER_QUERIES] = sizeof(struct peer_key),
};

/*
 * Fixed buckets, the same on every host, so that sum by (le) over many
 * hosts is a histogram again (a lathist's buckets depend on its values).
 */
static const struct {
	uint64_t ns;
	const char *le;
} latency_buckets[] = {
	{500 * NS_PER_USEC, "0.0005"}, {1 * NS_PER_MSEC, "0.001"}, {2500 * NS_PER_USEC, "0.0025"},
	{5 * NS_PER_MSEC, "0.005"},    {10 * NS_PER_MSEC, "0.01"}, {25 * NS_PER_MSEC, "0.025"},
	{50 * NS_PER_MSEC, "0.05"},    {100 * NS_PER_MSEC, "0.1"}, {250 * NS_PER_MSEC, "0.25"},
	{500 * NS_PER_MSEC, "0.5"},    {1 * NS_PER_SEC, "1"},	   {2500 * NS_PER_MSEC, "2.5"},
	{5 * NS_PER_SEC, "5"},
};

#define NBUCKETS (sizeof(latency_buckets) / sizeof(latency_buckets[0]))

struct metrics {
	struct metrics_config cfg;
	struct family fam[F_N];
	/* Per bucket, the last one above 5 s; cumulated when rendered. */
	uint64_t latency[NBUCKETS + 1];
	uint64_t latency_sum_ns, latency_count;
	bool judged; /* metrics_findings ran */
	uint64_t findings[DETECT_NKINDS], cases[DETECT_NKINDS];
};

static int family_init(struct family *f, size_t max, size_t keylen)
{
	uint32_t slots = hash_roundup_pow2((uint32_t)max * 2);

	f->max = max;
	f->keylen = keylen;
	hash_fast_secrets(f->secret, hash_random_seed(f));
	f->mask = slots - 1;
	f->v = calloc(max, sizeof(*f->v));
	f->index = calloc(slots, sizeof(*f->index));
	return f->v && f->index ? 0 : -ENOMEM;
}

/*
 * The counter of key: its own series, a new one while there is room, or
 * "other". The index is at most half full, so the probe ends.
 */
static uint64_t *family_counter(struct family *f, const void *key)
{
	uint32_t i = (uint32_t)hash_fast(key, f->keylen, f->secret) & f->mask;

	for (; f->index[i]; i = (i + 1) & f->mask) {
		struct series *s = &f->v[f->index[i] - 1];

		if (!memcmp(s->key, key, f->keylen))
			return &s->n;
	}
	if (f->n == f->max)
		return &f->other;
	memcpy(f->v[f->n].key, key, f->keylen);
	f->index[i] = (uint32_t)++f->n;
	return &f->v[f->n - 1].n;
}

struct metrics *metrics_new(const struct metrics_config *cfg)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->cfg = *cfg;
	if (!m->cfg.max_series || m->cfg.max_series > METRICS_MAX_SERIES)
		m->cfg.max_series = METRICS_MAX_SERIES;
	for (int i = 0; i < F_N; i++)
		if (family_init(&m->fam[i], m->cfg.max_series, key_len[i]) < 0) {
			metrics_free(m);
			return NULL;
		}
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (int i = 0; i < F_N; i++) {
		free(m->fam[i].v);
		free(m->fam[i].index);
	}
	free(m);
}

static void count(struct metrics *m, enum family_id f, const void *key)
{
	(*family_counter(&m->fam[f], key))++;
}

static void count_latency(struct metrics *m, uint64_t ns)
{
	size_t b = 0;

	while (b < NBUCKETS && ns > latency_buckets[b].ns)
		b++; /* le: a latency equal to a bound is in that bucket */
	m->latency[b]++;
	m->latency_sum_ns += ns;
	m->latency_count++;
}

/*
 * The peer is the other end of the exchange: a query's destination, but
 * the sender of a query that came in (the local socket is the server).
 */
static void count_peer(struct metrics *m, const struct pkt_meta *meta)
{
	struct peer_key pk = {.family = meta->family};

	memcpy(pk.addr, meta->dir == DNSSNOOP_INGRESS ? meta->saddr : meta->daddr, sizeof(pk.addr));
	count(m, F_PEER_QUERIES, &pk);
}

void metrics_message(struct metrics *m, const struct summary_msg *sm)
{
	const struct pkt_meta *meta = sm->meta;
	bool response = sm->kind == OBS_RESPONSE;
	struct qtype_key qk = {.qtype = sm->msg->qtype, .rcode = response ? sm->msg->rcode : 0};
	struct proc_key pk = {.uid = meta->owner.uid, .rcode = qk.rcode};

	if (sm->kind == OBS_UNANSWERED)
		return;
	count(m, response ? F_RESPONSES : F_QUERIES, &qk);
	if (response && sm->has_latency)
		count_latency(m, sm->latency_ns);
	if (!response)
		count_peer(m, meta);
	if (!pkt_has_owner(meta))
		return; /* no process: offline, or a tc/xdp hook */
	memcpy(pk.comm, meta->owner.comm, sizeof(pk.comm));
	pk.cgroup_id = meta->owner.cgroup_id;
	count(m, response ? F_PROC_RESPONSES : F_PROC_QUERIES, &pk);
}

static void count_finding(void *ctx, const struct detect_finding *f)
{
	struct metrics *m = ctx;

	if (f->kind < DETECT_NKINDS)
		m->findings[f->kind]++;
}

static void count_case(void *ctx, const struct detect_case *c)
{
	struct metrics *m = ctx;

	if (c->lead && c->lead->kind < DETECT_NKINDS)
		m->cases[c->lead->kind]++;
}

void metrics_findings(struct metrics *m, struct detect *d)
{
	if (!d)
		return;
	memset(m->findings, 0, sizeof(m->findings));
	memset(m->cases, 0, sizeof(m->cases));
	if (detect_findings_and_cases(d, count_finding, count_case, m) >= 0)
		m->judged = true;
}

/* Rendering. */

void metrics_label_value(struct jbuf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\' || c == '"') {
			jbuf_append_char(out, '\\');
			jbuf_append_char(out, (char)c);
		} else if (c == '\n') {
			jbuf_append_str(out, "\\n");
		} else {
			jbuf_append_char(out, c < 0x20 || c > 0x7e ? '?' : (char)c);
		}
	}
}

static void put_label(struct jbuf *out, const char *name, const char *value, size_t n, bool first)
{
	if (!first)
		jbuf_append_char(out, ',');
	jbuf_append_str(out, name);
	jbuf_append_str(out, "=\"");
	metrics_label_value(out, value, n);
	jbuf_append_char(out, '"');
}

static void put_label_str(struct jbuf *out, const char *name, const char *value, bool first)
{
	put_label(out, name, value, strlen(value), first);
}

static void put_header(struct jbuf *out, const char *name, const char *type, const char *help)
{
	jbuf_append_str(out, "# HELP ");
	jbuf_append_str(out, name);
	jbuf_append_char(out, ' ');
	jbuf_append_str(out, help);
	jbuf_append_str(out, "\n# TYPE ");
	jbuf_append_str(out, name);
	jbuf_append_char(out, ' ');
	jbuf_append_str(out, type);
	jbuf_append_char(out, '\n');
}

/* The value after a sample's name and labels ("} " if it had labels). */
static void put_u64(struct jbuf *out, bool labels, uint64_t v)
{
	jbuf_append_str(out, labels ? "} " : " ");
	jbuf_append_u64(out, v);
	jbuf_append_char(out, '\n');
}

static void put_double(struct jbuf *out, bool labels, double v)
{
	char num[32];

	snprintf(num, sizeof(num), "%.9g", v);
	jbuf_append_str(out, labels ? "} " : " ");
	jbuf_append_str(out, num);
	jbuf_append_char(out, '\n');
}

/* ns as exact decimal seconds: a double's 17 digits would round a long session's sum. */
static void put_seconds(struct jbuf *out, uint64_t ns)
{
	char num[32];

	snprintf(num, sizeof(num), " %llu.%09llu\n", (unsigned long long)(ns / NS_PER_SEC),
		 (unsigned long long)(ns % NS_PER_SEC));
	jbuf_append_str(out, num);
}

/* One family's labels for key; the "other" series gives key NULL. */
typedef void (*labels_fn)(const struct metrics *m, struct jbuf *out, const uint8_t *key);

/* first: qtype is the first label (dnssnoop_queries_total) or follows rcode. */
static void put_qtype(struct jbuf *out, const uint8_t *key, bool first)
{
	struct qtype_key k = {0};
	char buf[16];

	if (key)
		memcpy(&k, key, sizeof(k));
	put_label_str(out, "qtype", key ? dns_type_str(k.qtype, buf) : "other", first);
}

static void qtype_labels(const struct metrics *m, struct jbuf *out, const uint8_t *key)
{
	put_qtype(out, key, true);
}

static void rcode_qtype_labels(const struct metrics *m, struct jbuf *out, const uint8_t *key)
{
	struct qtype_key k = {0};
	char buf[16];

	if (key)
		memcpy(&k, key, sizeof(k));
	put_label_str(out, "rcode", key ? dns_rcode_str(k.rcode, buf) : "other", true);
	put_qtype(out, key, false);
}

/* A process: comm, uid and cgroup path; with_rcode: and the response's rcode. */
static void process_labels(const struct metrics *m, struct jbuf *out, const uint8_t *key,
			   bool with_rcode)
{
	struct proc_key k;
	const char *cg = NULL;
	char buf[16];

	if (!key) {
		put_label_str(out, "comm", "other", true);
		put_label_str(out, "uid", "other", false);
		put_label_str(out, "cgroup", "other", false);
		if (with_rcode)
			put_label_str(out, "rcode", "other", false);
		return;
	}
	memcpy(&k, key, sizeof(k));
	if (m->cfg.cgroup_path)
		cg = m->cfg.cgroup_path(m->cfg.cgroup_ctx, k.cgroup_id);
	put_label(out, "comm", k.comm, sizeof(k.comm), true);
	snprintf(buf, sizeof(buf), "%u", k.uid);
	put_label_str(out, "uid", buf, false);
	put_label_str(out, "cgroup", cg ? cg : "", false);
	if (with_rcode)
		put_label_str(out, "rcode", dns_rcode_str(k.rcode, buf), false);
}

static void proc_query_labels(const struct metrics *m, struct jbuf *out, const uint8_t *key)
{
	process_labels(m, out, key, false);
}

static void proc_response_labels(const struct metrics *m, struct jbuf *out, const uint8_t *key)
{
	process_labels(m, out, key, true);
}

static void peer_labels(const struct metrics *m, struct jbuf *out, const uint8_t *key)
{
	struct peer_key k;
	char addr[FMT_ADDR_MAX];
	size_t n;

	if (!key) {
		put_label_str(out, "peer", "other", true);
		return;
	}
	memcpy(&k, key, sizeof(k));
	n = fmt_addr(addr, k.family, k.addr);
	put_label(out, "peer", addr, n, true);
}

static const struct {
	const char *name, *help;
	labels_fn labels;
} families[F_N] = {
	[F_QUERIES] = {"dnssnoop_queries_total", "DNS queries seen, by question type.",
		       qtype_labels},
	[F_RESPONSES] = {"dnssnoop_responses_total",
			 "DNS responses seen, by rcode and question type.", rcode_qtype_labels},
	[F_PROC_QUERIES] = {"dnssnoop_process_queries_total",
			    "DNS queries sent or received by a local process.", proc_query_labels},
	[F_PROC_RESPONSES] = {"dnssnoop_process_responses_total",
			      "DNS responses sent or received by a local process, by rcode.",
			      proc_response_labels},
	[F_PEER_QUERIES] = {"dnssnoop_peer_queries_total",
			    "DNS queries by the other end's address (the server, or the client "
			    "of a local server).",
			    peer_labels},
};

static void render_family(const struct metrics *m, enum family_id id, struct jbuf *out)
{
	const struct family *f = &m->fam[id];
	const char *name = families[id].name;

	put_header(out, name, "counter", families[id].help);
	for (size_t i = 0; i <= f->n; i++) {
		if (i == f->n && !f->other)
			break; /* no "other" series until something went there */
		jbuf_append_str(out, name);
		jbuf_append_char(out, '{');
		families[id].labels(m, out, i < f->n ? f->v[i].key : NULL);
		put_u64(out, true, i < f->n ? f->v[i].n : f->other);
	}
}

static void render_latency(const struct metrics *m, struct jbuf *out)
{
	static const char name[] = "dnssnoop_response_latency_seconds";
	uint64_t cum = 0;

	put_header(out, name, "histogram",
		   "Time from a query to its matched response, as the capture saw them.");
	for (size_t b = 0; b <= NBUCKETS; b++) {
		cum += m->latency[b];
		jbuf_append_str(out, name);
		jbuf_append_str(out, "_bucket{");
		put_label_str(out, "le", b < NBUCKETS ? latency_buckets[b].le : "+Inf", true);
		put_u64(out, true, cum);
	}
	jbuf_append_str(out, name);
	jbuf_append_str(out, "_sum");
	put_seconds(out, m->latency_sum_ns);
	jbuf_append_str(out, name);
	jbuf_append_str(out, "_count");
	put_u64(out, false, m->latency_count);
}

/* The capture_stats counters worth a series; kernel: only when the source has them. */
static const struct {
	const char *name, *help;
	size_t offset;
	bool kernel;
} stats_counters[] = {
	{"dnssnoop_messages_total", "DNS messages decoded (also partly).",
	 offsetof(struct capture_stats, messages), false},
	{"dnssnoop_decode_errors_total", "DNS messages not decodable past the header.",
	 offsetof(struct capture_stats, decode_errors), false},
	{"dnssnoop_unanswered_total", "Queries reported unanswered (--timeout, eviction, end).",
	 offsetof(struct capture_stats, unanswered), false},
	{"dnssnoop_retransmits_total", "Queries sent again while the first was pending.",
	 offsetof(struct capture_stats, retransmits), false},
	{"dnssnoop_responses_unmatched_total", "Responses with no pending query.",
	 offsetof(struct capture_stats, responses_unmatched), false},
	{"dnssnoop_events_lost_total", "Kernel: events dropped because the ring buffer was full.",
	 offsetof(struct capture_stats, events_lost), true},
	{"dnssnoop_events_submitted_total", "Kernel: events written to the ring buffer.",
	 offsetof(struct capture_stats, events_submitted), true},
	{"dnssnoop_packets_matched_total", "Kernel: packets that passed the port filter.",
	 offsetof(struct capture_stats, packets_matched), true},
};

static void render_stats(const struct capture_stats *st, struct jbuf *out)
{
	for (size_t i = 0; i < sizeof(stats_counters) / sizeof(stats_counters[0]); i++) {
		uint64_t v;

		if (stats_counters[i].kernel && !st->has_kernel)
			continue;
		memcpy(&v, (const char *)st + stats_counters[i].offset, sizeof(v));
		put_header(out, stats_counters[i].name, "counter", stats_counters[i].help);
		jbuf_append_str(out, stats_counters[i].name);
		put_u64(out, false, v);
	}
}

static void render_gauge(struct jbuf *out, const char *name, const char *help, double v)
{
	put_header(out, name, "gauge", help);
	jbuf_append_str(out, name);
	put_double(out, false, v);
}

/* The label of each statistics table (the names of stats.h's enum). */
static const char *const table_names[STATS_NTABLES] = {
	[STATS_PROCESS] = "process",
	[STATS_COMM] = "comm",
	[STATS_PEER] = "peer",
	[STATS_NAME] = "name",
	[STATS_CLIENT] = "client",
	[STATS_PROC_PEER] = "process_peer",
	[STATS_PROC_NAME] = "process_name",
	[STATS_CLIENT_NAME] = "client_name",
};

static void render_tables(const struct metrics *m, const struct metrics_gauges *g, struct jbuf *out)
{
	static const char name[] = "dnssnoop_table_entries";

	render_gauge(out, "dnssnoop_table_max_entries",
		     "Bound on each statistics table (--max-entries).", (double)m->cfg.max_entries);
	put_header(out, name, "gauge", "Entries in each statistics table of the session.");
	for (int t = 0; t < STATS_NTABLES; t++) {
		jbuf_append_str(out, name);
		jbuf_append_char(out, '{');
		put_label_str(out, "table", table_names[t], true);
		put_u64(out, true, g->table_entries[t]);
	}
}

/* Findings or cases by detector kind. */
static void render_kinds(struct jbuf *out, const char *name, const char *help, const uint64_t *v)
{
	put_header(out, name, "gauge", help);
	for (int k = 0; k < DETECT_NKINDS; k++) {
		jbuf_append_str(out, name);
		jbuf_append_char(out, '{');
		put_label_str(out, "kind", detect_kind_name(k), true);
		put_u64(out, true, v[k]);
	}
}

static void render_gauges(const struct metrics *m, const struct metrics_gauges *g, struct jbuf *out)
{
	render_gauge(out, "dnssnoop_pending_queries", "Queries waiting for their response.",
		     (double)g->pending);
	render_gauge(out, "dnssnoop_pending_queries_max",
		     "Bound on waiting queries (--max-pending).", (double)m->cfg.max_pending);
	if (g->has_ring)
		render_gauge(out, "dnssnoop_ring_fill_ratio",
			     "Share of the kernel ring buffer holding events not read yet.",
			     g->ring_fill);
	if (g->has_tables)
		render_tables(m, g, out);
	if (!m->judged)
		return;
	render_kinds(out, "dnssnoop_findings", "Findings by kind at the latest report.",
		     m->findings);
	render_kinds(out, "dnssnoop_cases",
		     "Cases by the kind of their lead finding at the latest report.", m->cases);
}

int metrics_render(const struct metrics *m, const struct metrics_gauges *g, struct jbuf *out)
{
	for (int i = 0; i < F_N; i++)
		render_family(m, i, out);
	render_latency(m, out);
	render_stats(g->st, out);
	render_gauges(m, g, out);
	return out->failed ? -ENOMEM : 0;
}
