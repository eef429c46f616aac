// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Statistics report (see stats_report.h; record schema in docs/output.md).
 *
 * JSON records are written from stats_top()'s callback as the entries come.
 * Text tables are collected first, every cell formatted into one scratch
 * buffer, because a column's width depends on every row. A report runs
 * once per interval, not per message, so it may allocate.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/dns.h"
#include "lib/json.h"
#include "report/stats_report.h"
#include "lib/fmt.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the tables ---- */

/* Key fields a table has. */
enum key_fields {
	KEY_PID = 1 << 0, /* pid, uid (and comm, cgroup) */
	KEY_COMM = 1 << 1, /* comm, cgroup */
	KEY_PEER = 1 << 2, /* peer, port, proto */
	KEY_NAME = 1 << 3,
	KEY_CLIENT = 1 << 4,
};

/* Text columns. */
enum column {
	C_HOST, /* the key's host (fleet input); hidden when no row has one */
	C_PID,
	C_COMM,
	C_PEER,
	C_PORT,
	C_PROTO,
	C_CLIENT,
	C_NAME,
	C_QUERIES,
	C_RESP,
	C_RCODES,
	C_UNANS,
	C_RETX,
	C_P50,
	C_P99,
	C_NAMES,
	C_ADDRS,
	C_QTYPE,
	C_CGROUP,
	C_END,
};

static const struct column_spec {
	const char *header;
	bool left; /* left-aligned text, else right-aligned */
	bool key; /* a key column: empty on the others row */
	bool cut_left; /* when cut, keep the end (names, paths), not the start */
	bool cut_words; /* when cut, keep whole space-separated words (a list) */
	unsigned int min_width; /* 0: never cut; else may shrink to this to fit */
	unsigned int cut_order; /* columns that may shrink: lower ones shrink first */
} column_specs[C_END] = {
	[C_HOST] = {"HOST", true, true, false, false, 8, 4},
	[C_PID] = {"PID", false, true, false, false, 0, 0},
	[C_COMM] = {"COMM", true, true, false, false, 8, 5},
	[C_PEER] = {"PEER", true, true, false, false, 0, 0},
	[C_PORT] = {"PORT", false, true, false, false, 0, 0},
	[C_PROTO] = {"PROTO", true, true, false, false, 0, 0},
	[C_CLIENT] = {"CLIENT", true, true, false, false, 0, 0},
	[C_NAME] = {"NAME", true, true, true, false, 20, 3},
	[C_QUERIES] = {"QUERIES", false, false, false, false, 0, 0},
	[C_RESP] = {"RESP", false, false, false, false, 0, 0},
	/* The largest rcodes come first: a cut keeps them. */
	[C_RCODES] = {"RCODES", true, false, false, true, 16, 2},
	[C_UNANS] = {"UNANS", false, false, false, false, 0, 0},
	[C_RETX] = {"RETX", false, false, false, false, 0, 0},
	[C_P50] = {"P50", false, false, false, false, 0, 0},
	[C_P99] = {"P99", false, false, false, false, 0, 0},
	[C_NAMES] = {"NAMES", false, false, false, false, 0, 0},
	[C_ADDRS] = {"ADDRS", false, false, false, false, 0, 0},
	[C_QTYPE] = {"TOP-QTYPE", true, false, false, false, 0, 0},
	[C_CGROUP] = {"CGROUP", true, true, true, false, 12, 1},
};

#define MAX_COLUMNS 16

static const struct table_desc {
	enum stats_table table;
	const char *type; /* JSON "type" */
	const char *group_field; /* "by" or "pair"; NULL: the type says it all */
	const char *group;
	const char *title; /* text */
	unsigned int keys;
	enum column columns[MAX_COLUMNS]; /* text, up to C_END */
} tables[] = {
	{STATS_PROCESS,
	 "process_stats",
	 "by",
	 "pid",
	 "processes",
	 KEY_PID | KEY_COMM,
	 {C_HOST, C_PID, C_COMM, C_QUERIES, C_RESP, C_RCODES, C_UNANS, C_RETX, C_P50, C_P99,
	  C_NAMES, C_QTYPE, C_CGROUP, C_END}},
	{STATS_COMM,
	 "process_stats",
	 "by",
	 "comm",
	 "processes by name and cgroup",
	 KEY_COMM,
	 {C_HOST, C_COMM, C_QUERIES, C_RESP, C_RCODES, C_UNANS, C_RETX, C_P50, C_P99, C_NAMES,
	  C_QTYPE, C_CGROUP, C_END}},
	{STATS_PEER,
	 "peer_stats",
	 NULL,
	 NULL,
	 "peers",
	 KEY_PEER,
	 {C_PEER, C_PORT, C_PROTO, C_QUERIES, C_RESP, C_RCODES, C_UNANS, C_RETX, C_P50, C_P99,
	  C_NAMES, C_QTYPE, C_END}},
	{STATS_NAME,
	 "name_stats",
	 NULL,
	 NULL,
	 "names",
	 KEY_NAME,
	 {C_NAME, C_QUERIES, C_RESP, C_RCODES, C_UNANS, C_P50, C_P99, C_ADDRS, C_QTYPE, C_END}},
	{STATS_CLIENT,
	 "client_stats",
	 NULL,
	 NULL,
	 "clients",
	 KEY_CLIENT,
	 {C_HOST, C_CLIENT, C_QUERIES, C_RESP, C_RCODES, C_UNANS, C_RETX, C_P50, C_P99, C_NAMES,
	  C_QTYPE, C_END}},
	{STATS_PROC_PEER,
	 "pair_stats",
	 "pair",
	 "process_peer",
	 "process x peer",
	 KEY_PID | KEY_COMM | KEY_PEER,
	 {C_HOST, C_PID, C_COMM, C_PEER, C_PORT, C_PROTO, C_QUERIES, C_RESP, C_RCODES, C_UNANS,
	  C_P50, C_P99, C_NAMES, C_END}},
	{STATS_PROC_NAME,
	 "pair_stats",
	 "pair",
	 "process_name",
	 "process x name",
	 KEY_PID | KEY_COMM | KEY_NAME,
	 {C_HOST, C_PID, C_COMM, C_NAME, C_QUERIES, C_RESP, C_RCODES, C_UNANS, C_P50, C_P99,
	  C_QTYPE, C_END}},
	{STATS_CLIENT_NAME,
	 "pair_stats",
	 "pair",
	 "client_name",
	 "client x name",
	 KEY_CLIENT | KEY_NAME,
	 {C_HOST, C_CLIENT, C_NAME, C_QUERIES, C_RESP, C_RCODES, C_UNANS, C_P50, C_P99, C_QTYPE,
	  C_END}},
};

/* The rcode value of each stats_rcode column but RC_OTHER (dns_rcode_str names them). */
static const uint16_t rcode_values[RC_OTHER] = {
	[RC_NOERROR] = 0,
	[RC_NXDOMAIN] = 3,
	[RC_SERVFAIL] = 2,
	[RC_REFUSED] = 5,
};

static const double latency_percentiles[] = {50, 90, 99};

struct text_table;

/* One table being reported. */
struct report {
	const struct stats *s;
	struct output *o;
	const struct stats_report_opts *opts;
	const struct table_desc *d;
	uint64_t rank; /* of the entry being written, 1-based */
	size_t entries; /* in the table */
	size_t shown; /* of them, reported one by one */
	struct stats_figures others; /* the rest, summed by stats_top() */
	struct text_table *text;
};

static const char *scope_name(enum stats_report_scope scope)
{
	return scope == STATS_SCOPE_TOTAL ? "total" : "interval";
}

/* The key's process is known (tables keyed by pid; tgid 0 is "unknown"). */
static bool key_has_pid(const struct stats_key *k)
{
	return k->tgid != 0;
}

static size_t comm_len(const char *comm)
{
	return strnlen(comm, DNSSNOOP_COMM_LEN);
}

static uint64_t qtype_total(const struct stats_figures *f)
{
	uint64_t n = f->qtype_other;

	for (size_t i = 0; i < STATS_QTYPE_SLOTS; i++)
		n += f->qtypes[i].count;
	return n;
}

/*
 * Any key with more queries than this is in the table: every key seen
 * while the table never evicted, else total / max_entries (Space-Saving:
 * the counts sum to the total, so the smallest is at most that, and a key
 * can only have been evicted while it was the smallest).
 */
static bool count_bound(const struct report *r, uint64_t *bound)
{
	if (!stats_evictions(r->s, r->d->table)) {
		*bound = 0;
		return true;
	}
	if (!r->opts->max_entries)
		return false;
	*bound = stats_total_queries(r->s, r->d->table) / r->opts->max_entries;
	return true;
}

/* ---- JSON ---- */

static void json_time_or_null(struct jbuf *j, uint64_t ts_ns)
{
	if (ts_ns)
		fmt_json_time(j, ts_ns);
	else
		jbuf_null(j);
}

/* Fields every record of the report has after type, v and host. */
static void json_window(struct jbuf *j, const struct report *r)
{
	JBUF_KEY(j, "window_start");
	fmt_json_time(j, r->opts->window_start_ns);
	JBUF_KEY(j, "window_end");
	fmt_json_time(j, r->opts->window_end_ns);
	JBUF_KV_STR(j, "scope", scope_name(r->opts->scope));
	if (r->d->group_field)
		jbuf_kv_str(j, r->d->group_field, r->d->group);
}

static void json_process_key(struct output *o, struct jbuf *j, unsigned int keys,
			     const struct stats_key *k)
{
	/* A pair whose process entry is gone has no comm, so no uid either (not 0: root). */
	bool known = key_has_pid(k), attrs = known && k->comm;

	if (keys & KEY_PID) {
		JBUF_KEY(j, "pid");
		jbuf_u64_or_null(j, known, k->tgid);
	}
	JBUF_KEY(j, "comm");
	jbuf_strn_or_null(j, k->comm, k->comm ? comm_len(k->comm) : 0);
	if (keys & KEY_PID) {
		JBUF_KEY(j, "uid");
		jbuf_u64_or_null(j, attrs, k->uid);
	}
	JBUF_KEY(j, "cgroup");
	jbuf_strn_or_null(j, k->cgroup, k->cgroup ? strlen(k->cgroup) : 0);
	output_json_identity(o, j, k->cgroup);
}

static void json_key(struct output *o, struct jbuf *j, unsigned int keys, const struct stats_key *k)
{
	if (k->host)
		jbuf_kv_str(j, "key_host", k->host);
	if (keys & (KEY_PID | KEY_COMM))
		json_process_key(o, j, keys, k);
	if (keys & KEY_PEER) {
		const char *proto = fmt_proto_name(k->proto);

		JBUF_KEY(j, "peer");
		fmt_json_addr(j, k->family, k->addr);
		JBUF_KV_U64(j, "port", k->port);
		JBUF_KEY(j, "proto");
		jbuf_strn_or_null(j, proto, proto ? strlen(proto) : 0);
	}
	if (keys & KEY_CLIENT) {
		JBUF_KEY(j, "client");
		fmt_json_addr(j, k->family, k->addr);
	}
	if (keys & KEY_NAME) {
		JBUF_KEY(j, "name");
		jbuf_strn_or_null(j, k->name, k->name ? strlen(k->name) : 0);
	}
}

/* An rcode column's name, as in JSON: "NXDOMAIN", ..., "other". */
static const char *rcode_column_name(int col, char tmp[16])
{
	return col == RC_OTHER ? "other" : dns_rcode_str(rcode_values[col], tmp);
}

static void json_rcodes(struct jbuf *j, const struct stats_figures *f)
{
	char tmp[16];

	JBUF_KEY(j, "rcodes");
	jbuf_obj_begin(j);
	for (int i = 0; i < RC_NCOLS; i++)
		jbuf_kv_u64(j, rcode_column_name(i, tmp), f->rcode[i]);
	jbuf_obj_end(j);
}

static void json_qtypes(struct jbuf *j, const struct stats_figures *f)
{
	char tmp[16];

	JBUF_KEY(j, "qtypes");
	jbuf_obj_begin(j);
	for (size_t i = 0; i < STATS_QTYPE_SLOTS; i++)
		if (f->qtypes[i].count)
			jbuf_kv_u64(j, dns_type_str(f->qtypes[i].qtype, tmp), f->qtypes[i].count);
	JBUF_KV_U64(j, "other", f->qtype_other);
	jbuf_obj_end(j);
}

static void json_latency(struct jbuf *j, const struct lathist *h)
{
	uint64_t p[ARRAY_SIZE(latency_percentiles)];

	JBUF_KEY(j, "latency");
	if (!lathist_count(h)) {
		jbuf_null(j);
		return;
	}
	lathist_percentiles(h, latency_percentiles, p, ARRAY_SIZE(p));
	jbuf_obj_begin(j);
	JBUF_KV_U64(j, "count", lathist_count(h));
	JBUF_KV_U64(j, "min_ns", lathist_min(h));
	JBUF_KV_U64(j, "p50_ns", p[0]);
	JBUF_KV_U64(j, "p90_ns", p[1]);
	JBUF_KV_U64(j, "p99_ns", p[2]);
	JBUF_KV_U64(j, "max_ns", lathist_max(h));
	jbuf_obj_end(j);
}

static void json_figures(struct jbuf *j, unsigned int keys, const struct stats_figures *f)
{
	JBUF_KV_U64(j, "queries", f->queries);
	JBUF_KV_U64(j, "queries_error", f->error);
	JBUF_KV_U64(j, "responses", f->responses);
	JBUF_KV_U64(j, "unanswered", f->unanswered);
	JBUF_KV_U64(j, "retransmits", f->retransmits);
	json_rcodes(j, f);
	json_qtypes(j, f);
	JBUF_KV_U64(j, "udp", f->udp);
	JBUF_KV_U64(j, "tcp", f->tcp);
	JBUF_KV_U64(j, "truncated", f->truncated);
	JBUF_KV_U64(j, "bytes_query", f->bytes_query);
	JBUF_KV_U64(j, "bytes_response", f->bytes_response);
	/* A name's own distinct-names count is 1: names count their answers' addresses. */
	if (keys & KEY_NAME) {
		JBUF_KV_U64(j, "distinct_addrs", f->distinct_addrs);
		JBUF_KV_BOOL(j, "distinct_addrs_estimated", f->addrs_estimated);
	} else {
		JBUF_KV_U64(j, "distinct_names", f->distinct_names);
		JBUF_KV_BOOL(j, "distinct_names_estimated", f->names_estimated);
	}
	JBUF_KEY(j, "first_seen");
	json_time_or_null(j, f->first_ns);
	JBUF_KEY(j, "last_seen");
	json_time_or_null(j, f->last_ns);
	json_latency(j, &f->latency);
}

static void json_entry(void *ctx, const struct stats_key *key, const struct stats_figures *fig)
{
	struct report *r = ctx;
	struct jbuf *j = output_begin_record(r->o, r->d->type);

	r->rank++;
	if (!j)
		return;
	json_window(j, r);
	JBUF_KV_BOOL(j, "others", false);
	JBUF_KV_U64(j, "rank", r->rank);
	json_key(r->o, j, r->d->keys, key);
	json_figures(j, r->d->keys, fig);
	output_end_record(r->o);
}

/* The others record: what was cut, and the table's error statement. */
static void json_others(struct report *r)
{
	struct jbuf *j = output_begin_record(r->o, r->d->type);
	uint64_t bound;

	if (!j)
		return;
	json_window(j, r);
	JBUF_KV_BOOL(j, "others", true);
	JBUF_KV_U64(j, "entries", r->entries - r->shown);
	json_figures(j, r->d->keys, &r->others);
	JBUF_KV_U64(j, "max_entries", r->opts->max_entries);
	JBUF_KV_U64(j, "evictions", stats_evictions(r->s, r->d->table));
	JBUF_KV_U64(j, "total_queries", stats_total_queries(r->s, r->d->table));
	JBUF_KEY(j, "count_bound");
	if (count_bound(r, &bound))
		jbuf_u64(j, bound);
	else
		jbuf_null(j);
	output_end_record(r->o);
}

/* ---- text cells ---- */

/* "812µs", "1.20ms", "12.3ms", "1.50s": three significant digits, cut not rounded. */
static void put_latency(struct jbuf *j, uint64_t ns)
{
	static const struct {
		uint64_t ns;
		const char *name;
	} units[] = {{1000000000, "s"}, {1000000, "ms"}, {1000, "\u00b5s"}};
	size_t u = 0;
	uint64_t whole, hundredths;

	while (u + 1 < ARRAY_SIZE(units) && ns < units[u].ns)
		u++;
	whole = ns / units[u].ns;
	hundredths = ns % units[u].ns / (units[u].ns / 100);
	jbuf_append_u64(j, whole);
	if (whole < 10) {
		jbuf_append_char(j, '.');
		jbuf_append_char(j, (char)('0' + hundredths / 10));
		jbuf_append_char(j, (char)('0' + hundredths % 10));
	} else if (whole < 100) {
		jbuf_append_char(j, '.');
		jbuf_append_char(j, (char)('0' + hundredths / 10));
	}
	jbuf_append_str(j, units[u].name);
}

static void cell_percentile(struct jbuf *j, const struct lathist *h, double p)
{
	if (lathist_count(h))
		put_latency(j, lathist_percentile(h, p));
	else
		jbuf_append_char(j, '-');
}

/* Distinct counts: "~" marks a HyperLogLog estimate. */
static void cell_distinct(struct jbuf *j, uint64_t n, bool estimated)
{
	if (estimated)
		jbuf_append_char(j, '~');
	jbuf_append_u64(j, n);
}

/*
 * Every rcode seen: the failures, the most frequent first (ties in column
 * order), then NOERROR: "NXDOMAIN:3 other:1 NOERROR:120"; "-" without
 * responses. A cut keeps the failures and drops NOERROR first, which
 * RESP minus the rest gives back.
 */
static void append_rcode(struct jbuf *j, const struct stats_figures *f, int col, bool *any)
{
	char tmp[16];

	if (*any)
		jbuf_append_char(j, ' ');
	*any = true;
	jbuf_append_str(j, rcode_column_name(col, tmp));
	jbuf_append_char(j, ':');
	jbuf_append_u64(j, f->rcode[col]);
}

/* The column with the most responses not yet shown; -1: none left. */
static int largest_unshown(const struct stats_figures *f, const bool *shown)
{
	int best = -1;

	for (int i = 0; i < RC_NCOLS; i++)
		if (!shown[i] && f->rcode[i] && (best < 0 || f->rcode[i] > f->rcode[best]))
			best = i;
	return best;
}

static void cell_rcodes(struct jbuf *j, const struct stats_figures *f)
{
	bool shown[RC_NCOLS] = {[RC_NOERROR] = true};
	bool any = false;
	int col;

	while ((col = largest_unshown(f, shown)) >= 0) {
		shown[col] = true;
		append_rcode(j, f, col, &any);
	}
	if (f->rcode[RC_NOERROR])
		append_rcode(j, f, RC_NOERROR, &any);
	if (!any)
		jbuf_append_char(j, '-');
}

/* The most asked qtype and its share: "AAAA 60%". */
static void cell_top_qtype(struct jbuf *j, const struct stats_figures *f)
{
	uint64_t total = qtype_total(f);
	char tmp[16];

	if (!total || !f->qtypes[0].count) {
		jbuf_append_char(j, '-');
		return;
	}
	jbuf_append_str(j, dns_type_str(f->qtypes[0].qtype, tmp));
	jbuf_append_char(j, ' ');
	jbuf_append_u64(j, f->qtypes[0].count * 100 / total);
	jbuf_append_char(j, '%');
}

static void cell_addr(struct jbuf *j, uint8_t family, const uint8_t *addr)
{
	char text[FMT_ADDR_MAX];
	size_t n = fmt_addr(text, family, addr);

	if (n)
		jbuf_append(j, text, n);
	else
		jbuf_append_char(j, '?');
}

static void cell_raw_or_dash(struct jbuf *j, const char *s, size_t n)
{
	if (s)
		fmt_text_safe(j, s, n, true);
	else
		jbuf_append_char(j, '-');
}

static void cell_key(struct jbuf *j, enum column c, const struct stats_key *k)
{
	const char *proto;

	switch (c) {
	case C_HOST:
		if (k->host)
			fmt_text_safe(j, k->host, strlen(k->host), true);
		break;
	case C_PID:
		if (key_has_pid(k))
			jbuf_append_u64(j, k->tgid);
		else
			jbuf_append_char(j, '-');
		break;
	case C_COMM:
		cell_raw_or_dash(j, k->comm, k->comm ? comm_len(k->comm) : 0);
		break;
	case C_CGROUP:
		cell_raw_or_dash(j, k->cgroup, k->cgroup ? strlen(k->cgroup) : 0);
		break;
	case C_PEER:
	case C_CLIENT:
		cell_addr(j, k->family, k->addr);
		break;
	case C_PORT:
		jbuf_append_u64(j, k->port);
		break;
	case C_PROTO:
		proto = fmt_proto_name(k->proto);
		jbuf_append_str(j, proto ? proto : "?");
		break;
	case C_NAME:
		if (k->name)
			fmt_text_safe(j, k->name, strlen(k->name), false);
		else
			jbuf_append_char(j, '-');
		break;
	default:
		break;
	}
}

static void cell_figure(struct jbuf *j, enum column c, const struct stats_figures *f)
{
	switch (c) {
	case C_QUERIES:
		jbuf_append_u64(j, f->queries);
		if (f->error)
			jbuf_append_char(j, '*');
		break;
	case C_RESP:
		jbuf_append_u64(j, f->responses);
		break;
	case C_RCODES:
		cell_rcodes(j, f);
		break;
	case C_UNANS:
		jbuf_append_u64(j, f->unanswered);
		break;
	case C_RETX:
		jbuf_append_u64(j, f->retransmits);
		break;
	case C_P50:
		cell_percentile(j, &f->latency, 50);
		break;
	case C_P99:
		cell_percentile(j, &f->latency, 99);
		break;
	case C_NAMES:
		cell_distinct(j, f->distinct_names, f->names_estimated);
		break;
	case C_ADDRS:
		cell_distinct(j, f->distinct_addrs, f->addrs_estimated);
		break;
	case C_QTYPE:
		cell_top_qtype(j, f);
		break;
	default:
		break;
	}
}

/* ---- text tables ---- */

struct text_row {
	size_t off[MAX_COLUMNS]; /* cell text in text_table.cells */
	size_t len[MAX_COLUMNS];
};

struct text_table {
	const struct table_desc *d;
	size_t ncols;
	struct jbuf cells; /* every cell's text */
	struct text_row *rows; /* rows[0] is the header */
	size_t nrows, cap;
	unsigned int width[MAX_COLUMNS];
	bool hidden[MAX_COLUMNS];
	bool any_error; /* a QUERIES cell carries the '*' of an overestimated count */
	bool failed; /* out of memory: the table is not printed */
};

/* Terminal columns of UTF-8 text: one per character (no wide characters here). */
static unsigned int text_columns(const char *s, size_t n)
{
	unsigned int cols = 0;

	for (size_t i = 0; i < n; i++)
		cols += ((unsigned char)s[i] & 0xc0) != 0x80;
	return cols;
}

static struct text_row *text_add_row(struct text_table *t)
{
	if (t->failed)
		return NULL;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 32;
		struct text_row *rows = realloc(t->rows, cap * sizeof(*rows));

		if (!rows) {
			t->failed = true;
			return NULL;
		}
		t->rows = rows;
		t->cap = cap;
	}
	return &t->rows[t->nrows++];
}

/* One row: key cells from k (NULL: the others row), figure cells from f. */
static void text_row(struct text_table *t, const struct stats_key *k, const struct stats_figures *f)
{
	struct text_row *row = text_add_row(t);
	bool others_label = !k; /* goes in the first text key column */

	if (!row)
		return;
	for (size_t c = 0; c < t->ncols; c++) {
		enum column col = t->d->columns[c];

		row->off[c] = t->cells.len;
		if (!column_specs[col].key)
			cell_figure(&t->cells, col, f);
		else if (k)
			cell_key(&t->cells, col, k);
		else if (others_label && column_specs[col].left && col != C_HOST) {
			jbuf_append_str(&t->cells, "(others)");
			others_label = false;
		}
		row->len[c] = t->cells.len - row->off[c];
	}
	if (f->error)
		t->any_error = true;
}

static void text_header_row(struct text_table *t)
{
	struct text_row *row = text_add_row(t);

	if (!row)
		return;
	for (size_t c = 0; c < t->ncols; c++) {
		const char *h = column_specs[t->d->columns[c]].header;

		row->off[c] = t->cells.len;
		jbuf_append_str(&t->cells, h);
		row->len[c] = strlen(h);
	}
}

static void text_entry(void *ctx, const struct stats_key *key, const struct stats_figures *fig)
{
	struct report *r = ctx;

	r->rank++;
	text_row(r->text, key, fig);
}

/* Each column as wide as its widest cell; HOST hidden when it is empty everywhere. */
static unsigned int text_natural_widths(struct text_table *t)
{
	unsigned int total = 0, shown = 0;

	for (size_t c = 0; c < t->ncols; c++) {
		bool empty = true;

		t->width[c] = 0;
		for (size_t i = 0; i < t->nrows; i++) {
			const struct text_row *row = &t->rows[i];
			unsigned int w = text_columns(t->cells.buf + row->off[c], row->len[c]);

			if (w > t->width[c])
				t->width[c] = w;
			if (i && row->len[c])
				empty = false;
		}
		t->hidden[c] = t->d->columns[c] == C_HOST && empty;
		if (!t->hidden[c]) {
			total += t->width[c];
			shown++;
		}
	}
	return total + (shown ? shown - 1 : 0);
}

/*
 * Narrow the columns that may be cut, in their cut order (cgroup paths
 * before names before process names), each down to its minimum at most,
 * until the table fits the limit, if it can.
 */
static void text_fit(struct text_table *t, unsigned int limit)
{
	unsigned int total = text_natural_widths(t);

	for (unsigned int order = 1; total > limit; order++) {
		bool any = false;

		for (size_t c = 0; c < t->ncols && total > limit; c++) {
			const struct column_spec *spec = &column_specs[t->d->columns[c]];
			unsigned int spare, cut;

			if (spec->cut_order < order)
				continue;
			any = true;
			if (spec->cut_order != order || t->hidden[c] ||
			    t->width[c] <= spec->min_width)
				continue;
			spare = t->width[c] - spec->min_width;
			cut = total - limit < spare ? total - limit : spare;
			t->width[c] -= cut;
			total -= cut;
		}
		if (!any)
			return;
	}
}

static void append_spaces(struct jbuf *j, unsigned int n)
{
	while (n--)
		jbuf_append_char(j, ' ');
}

/*
 * The words of s that fit in keep columns (ASCII), then "…", padded to
 * width (keep + 1): "NXDOMAIN:3 SERVFAIL:1 …" (or "...:1…" when the
 * word ends at keep) rather than a word cut in two. A first word longer
 * than keep is cut in it. s is longer than keep.
 */
static void text_cut_words(struct jbuf *line, const char *s, size_t keep, unsigned int width)
{
	size_t n = keep; /* bytes kept: whole words (and the space after one) */

	while (n > 0 && s[n - 1] != ' ' && s[n] != ' ')
		n--;
	if (n == 0)
		n = keep;
	jbuf_append(line, s, n);
	jbuf_append_str(line, "\u2026");
	append_spaces(line, width - 1 - (unsigned int)n);
}

/*
 * A cell padded or cut to width. Cut cells are escaped ASCII (names,
 * paths, comm), so bytes are columns there; "…" marks where text was cut.
 */
static void text_cell(struct jbuf *line, const struct text_table *t, const struct text_row *row,
		      size_t c, bool last)
{
	const struct column_spec *spec = &column_specs[t->d->columns[c]];
	const char *s = t->cells.buf + row->off[c];
	size_t n = row->len[c];
	unsigned int w = text_columns(s, n);

	if (w > t->width[c]) {
		size_t keep = t->width[c] - 1;

		if (spec->cut_words) {
			text_cut_words(line, s, keep, t->width[c]);
		} else if (spec->cut_left) {
			jbuf_append_str(line, "\u2026");
			jbuf_append(line, s + n - keep, keep);
		} else {
			jbuf_append(line, s, keep);
			jbuf_append_str(line, "\u2026");
		}
		return;
	}
	if (!spec->left)
		append_spaces(line, t->width[c] - w);
	jbuf_append(line, s, n);
	if (spec->left && !last)
		append_spaces(line, t->width[c] - w);
}

static void text_print_rows(struct output *o, const struct text_table *t, struct jbuf *line)
{
	size_t last = 0;

	for (size_t c = 0; c < t->ncols; c++)
		if (!t->hidden[c])
			last = c;
	for (size_t i = 0; i < t->nrows; i++) {
		bool first = true;

		jbuf_reset(line);
		for (size_t c = 0; c < t->ncols; c++) {
			if (t->hidden[c])
				continue;
			if (!first)
				jbuf_append_char(line, ' ');
			first = false;
			text_cell(line, t, &t->rows[i], c, c == last);
		}
		/* A last cell that is empty leaves the padding of the one before. */
		while (line->len && line->buf[line->len - 1] == ' ')
			line->len--;
		if (!line->failed)
			output_text_line(o, line->buf, line->len);
	}
}

/* "2026-11-27 14:05:01 .. 14:06:01 UTC" (the end's date only when it differs). */
static void text_window(struct jbuf *j, const struct stats_report_opts *opts)
{
	char a[FMT_RFC3339_LEN], b[FMT_RFC3339_LEN];

	fmt_time(a, opts->window_start_ns);
	fmt_time(b, opts->window_end_ns);
	jbuf_append(j, a, 10);
	jbuf_append_char(j, ' ');
	jbuf_append(j, a + 11, 8);
	jbuf_append(j, " .. ", 4);
	if (memcmp(a, b, 10)) {
		jbuf_append(j, b, 10);
		jbuf_append_char(j, ' ');
	}
	jbuf_append(j, b + 11, 8);
	jbuf_append_str(j, " UTC, ");
	jbuf_append_str(j, scope_name(opts->scope));
}

static void text_title(struct report *r, struct jbuf *line)
{
	jbuf_reset(line);
	jbuf_append_str(line, "# ");
	jbuf_append_str(line, r->d->title);
	jbuf_append_str(line, " (");
	if (!r->entries) {
		jbuf_append_str(line, "none");
	} else {
		jbuf_append_str(line, r->shown < r->entries ? "top " : "all ");
		jbuf_append_u64(line, r->shown);
		if (r->shown < r->entries) {
			jbuf_append_str(line, " of ");
			jbuf_append_u64(line, r->entries);
		}
		jbuf_append_str(line, " by queries");
	}
	jbuf_append_str(line, "; ");
	text_window(line, r->opts);
	jbuf_append_char(line, ')');
	if (!line->failed)
		output_text_line(r->o, line->buf, line->len);
}

/* After a table that had to evict: what its counts guarantee. */
static void text_error_note(struct report *r, struct jbuf *line)
{
	uint64_t evictions = stats_evictions(r->s, r->d->table), bound;

	if (!evictions)
		return;
	jbuf_reset(line);
	jbuf_append_str(line, "# table full (");
	jbuf_append_u64(line, r->opts->max_entries);
	jbuf_append_str(line, " entries, ");
	jbuf_append_u64(line, evictions);
	jbuf_append_str(line, " evicted)");
	if (count_bound(r, &bound)) {
		jbuf_append_str(line, ": every key with more than ");
		jbuf_append_u64(line, bound);
		jbuf_append_str(line, " queries is listed");
	}
	if (r->text->any_error)
		jbuf_append_str(line, "; * = count may be over by its error");
	if (!line->failed)
		output_text_line(r->o, line->buf, line->len);
}

/* The others row has something to show (stats.h: also evicted entries' figures). */
static bool others_seen(const struct stats_figures *f)
{
	return f->queries || f->responses || f->unanswered;
}

static void text_table_free(struct text_table *t)
{
	jbuf_free(&t->cells);
	free(t->rows);
}

static void text_report(struct report *r)
{
	struct text_table t = {.d = r->d};
	struct jbuf line;
	unsigned int width = r->opts->width ? r->opts->width : STATS_REPORT_DEFAULT_WIDTH;

	while (t.ncols < MAX_COLUMNS && r->d->columns[t.ncols] != C_END)
		t.ncols++;
	if (jbuf_init(&t.cells, 4096) || jbuf_init(&line, 256)) {
		jbuf_free(&t.cells);
		return;
	}
	r->text = &t;
	text_title(r, &line);
	if (r->entries) {
		text_header_row(&t);
		stats_top(r->s, r->d->table, r->opts->top_n, text_entry, r, &r->others);
		if (r->shown < r->entries || others_seen(&r->others))
			text_row(&t, NULL, &r->others);
		if (!t.failed && !t.cells.failed) {
			text_fit(&t, width);
			text_print_rows(r->o, &t, &line);
			text_error_note(r, &line);
		}
	}
	output_text_line(r->o, "", 0);
	r->text = NULL;
	text_table_free(&t);
	jbuf_free(&line);
}

/* ---- tables ---- */

/*
 * Text only: a table keyed by process is left out when the source cannot
 * know processes (pcap input) and it is empty; JSON keeps its others
 * record, so a reader still sees every table reported.
 */
static bool text_leaves_out(const struct report *r)
{
	return r->opts->no_processes && (r->d->keys & (KEY_PID | KEY_COMM)) && !r->entries &&
	       !stats_total_queries(r->s, r->d->table) && output_format_of(r->o) == OUTPUT_TEXT;
}

static void report_table(struct report *r)
{
	size_t top = r->opts->top_n;

	r->entries = stats_entries(r->s, r->d->table);
	if (text_leaves_out(r))
		return;
	r->shown = top && top < r->entries ? top : r->entries;
	r->rank = 0;
	memset(&r->others, 0, sizeof(r->others));
	if (output_format_of(r->o) == OUTPUT_TEXT) {
		text_report(r);
	} else {
		stats_top(r->s, r->d->table, top, json_entry, r, &r->others);
		json_others(r);
	}
	lathist_free(&r->others.latency);
}

void stats_report(const struct stats *s, struct output *o, const struct stats_report_opts *opts)
{
	struct report r = {.s = s, .o = o, .opts = opts};

	if (!s || !o || !opts)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
		r.d = &tables[i];
		report_table(&r);
	}
}
