// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The fleet's history from ClickHouse; see ch_history.h, the tables in
 * sql/clickhouse/schema.sql and docs/fleet.md.
 *
 * Four queries, all aggregates computed on the server and streamed back as
 * TabSeparated lines, each line handled as it arrives (the answer of the
 * pairs query is one line per client x target, whatever its size):
 *   clients: identity, last pid, distinct active hours (name lookups);
 *   pairs: lookups, names, first/last, hourly counts and the last
 *          DETSTAT_TS_MAX timestamps, heaviest first;
 *   answers: per name / domain target the last NOERROR-answered lookup,
 *            the NXDOMAIN answers after it and its first answer addresses.
 * The clients come first so that each pair gets its client's identity and
 * last pid (a client entry is made by its first pair); their hours are
 * loaded after the pairs, once the clients exist in the detectors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "analysis/ch_history.h"
#include "lib/clickhouse_http.h"
#include "lib/errmsg.h"
#include "lib/hash.h"
#include "lib/json.h"
#include "lib/slots.h"
#include "lib/units.h"

#define DAY_NS		 (86400ULL * NS_PER_SEC)
#define MAX_FIELDS	 16
#define MAX_LINE	 (1u << 24) /* a pair's line: 256 timestamps and its hours */
#define MAX_CLIENTS	 (1u << 24)
#define QUERY_TIMEOUT_MS (3600L * 1000) /* a large fleet's pairs query may take minutes */
/* Filled into every query: the database, and the day and host conditions. */
#define SQL_MAX (16 * 1024)

/* ---- the queries ---------------------------------------------------------- */

/*
 * %1$s: the condition on day and host. A client's identity columns follow
 * from client_key (any() picks one), its active hours are the distinct
 * hours of its name lookups, its pid the one of its last lookup.
 */
static const char clients_sql[] =
	"SELECT host, client_key, anyMerge(process), anyMerge(comm), anyMerge(uid), "
	"anyMerge(cgroup), anyMerge(addr), argMaxMerge(pid), uniqExactMerge(hours) "
	"FROM clients WHERE %1$s GROUP BY host, client_key";

/*
 * Per pair: its hours' counts (an hour twice when its rows are not merged
 * yet: the histogram adds them) and its last timestamps (from the messages
 * themselves: the materialized views keep counts, not times), heaviest
 * pairs first, as the state file loads them. One level of GROUP BY, each
 * row's count finalized where it is, rather than a level per hour and
 * another per pair: the server groups the rows once.
 */
static const char pairs_sql[] =
	"SELECT kind, target, host, client_key, n, nm, f, l, hours, counts, ts "
	"FROM (SELECT kind, target, host, client_key, countMerge(lookups) AS n, "
	"sumMerge(names) AS nm, minMerge(first_ns) AS f, maxMerge(last_ns) AS l, "
	"groupArray(hour) AS hours, groupArray(finalizeAggregation(lookups)) AS counts "
	"FROM pair_hours WHERE %1$s GROUP BY kind, target, host, client_key) "
	"ANY LEFT JOIN (SELECT t.1 AS kind, t.2 AS target, host, client_key, "
	"arraySlice(arraySort(groupArray(ts_ns)), -%2$d) AS ts FROM messages "
	"ARRAY JOIN [(toUInt8(0), name), (toUInt8(1), domain), (toUInt8(2), peer)] AS t "
	"WHERE lookup = 1 AND t.2 != '' AND %1$s GROUP BY kind, target, host, client_key) "
	"USING (kind, target, host, client_key) "
	"ORDER BY n DESC, kind, target, host, client_key";

/*
 * Per target: the last NOERROR-answered lookup (of the latest NOERROR
 * response), the NXDOMAIN responses after that response, and the first
 * answer addresses (by the first answer holding each).
 */
static const char answers_sql[] =
	"SELECT kind, target, ok_ns, nx_after, addrs FROM (SELECT kind, target, ok_ns, "
	"arrayCount((x, a) -> x > a, nx, replicate(ok_at, nx)) AS nx_after FROM (SELECT kind, "
	"target, argMaxMerge(last_ok_ns) AS ok_ns, maxMerge(last_ok_at) AS ok_at, "
	"groupArrayMerge(nx_times) AS nx FROM target_answers WHERE %1$s "
	"GROUP BY kind, target) WHERE ok_ns > 0 OR nx_after > 0) "
	"ANY LEFT JOIN (SELECT kind, target, "
	"arraySlice(arrayMap(x -> x.2, arraySort(groupArray((k, addr)))), 1, %2$d) AS addrs "
	"FROM (SELECT kind, target, addr, minMerge(first_key) AS k FROM answer_addrs "
	"WHERE %1$s GROUP BY kind, target, addr) GROUP BY kind, target) USING (kind, target)";

/* The newest lookup: where --since counts back from. */
static const char newest_sql[] =
	"SELECT toUInt64(maxMerge(last_ns)) FROM pair_hours WHERE kind = 0 AND %1$s";

/* Says that the server is a ClickHouse that answers queries. */
static const char probe_sql[] = "SELECT 'dnssnoop-probe', version()";

/* ---- HTTP --------------------------------------------------------------- */

struct conn;
/* One row's fields (unescaped, NUL-terminated); 0, or -1: the row is bad (err set). */
typedef int (*row_fn)(struct conn *c, char **f, int n, void *ctx);

struct conn {
	struct ch_http *h;
	struct ch_history_stats *st;
	/* the query running: */
	struct jbuf line; /* a line not complete yet */
	row_fn fn;
	void *ctx;
	int nfields; /* the columns expected */
	bool bad; /* a row did not parse: stop */
	char why[256];
};

/* TabSeparated's escapes undone in place (\t \n \\ \' \0 \b \f \r). */
static void unescape(char *s)
{
	static const char from[] = "tn\\'0bfr", to[] = "\t\n\\'\0\b\f\r";
	char *w = s;

	for (; *s; s++) {
		const char *k = s[1] ? strchr(from, s[1]) : NULL;

		if (*s == '\\' && k) {
			*w++ = to[k - from];
			s++;
		} else {
			*w++ = *s;
		}
	}
	*w = 0;
}

static int split_row(struct conn *c, char *line)
{
	char *f[MAX_FIELDS];
	int n = 0;

	for (char *p = line;; p++) {
		char *tab = strchr(p, '\t');

		if (n == MAX_FIELDS)
			break;
		f[n++] = p;
		if (!tab)
			break;
		*tab = 0;
		p = tab;
	}
	if (n != c->nfields) {
		snprintf(c->why, sizeof(c->why), "a row of %d columns, not %d", n, c->nfields);
		return -1;
	}
	for (int k = 0; k < n; k++)
		unescape(f[k]);
	return c->fn(c, f, n, c->ctx);
}

static size_t on_data(char *data, size_t len, void *ctx)
{
	struct conn *c = ctx;

	c->st->bytes += len;
	for (size_t i = 0; i < len && !c->bad;) {
		char *nl = memchr(data + i, '\n', len - i);
		size_t k = nl ? (size_t)(nl - (data + i)) : len - i;

		if (c->line.len + k > MAX_LINE) {
			snprintf(c->why, sizeof(c->why), "a line longer than %u bytes", MAX_LINE);
			c->bad = true;
			break;
		}
		jbuf_append(&c->line, data + i, k);
		i += k + (nl != NULL);
		if (!nl)
			break;
		jbuf_append_char(&c->line, 0);
		c->bad = split_row(c, c->line.buf) < 0;
		if (!c->bad) /* a bad line stays: it may be the server's error */
			jbuf_reset(&c->line);
	}
	return c->bad ? 0 : len; /* 0: curl stops with CURLE_WRITE_ERROR */
}

/* ClickHouse's error text ("Code: 60, e.displayText() = DB::Exception: WHY, ..."). */
static bool is_error_line(const char *line)
{
	return !strncmp(line, "Code: ", 6);
}

/* A query the server or the connection failed: its one line, in err. */
static void query_failed(struct conn *c, enum ch_result r, const char *sql, const char *msg,
			 char *err, size_t errlen)
{
	const char *url = ch_http_shown_url(c->h);

	switch (r) {
	case CH_NOT_SENT:
	case CH_AMBIGUOUS:
		set_err(err, errlen, "dnssnoop: cannot query ClickHouse at %s: %s", url, msg);
		break;
	case CH_AUTH:
		set_err(err, errlen, "dnssnoop: ClickHouse at %s: authentication failed (%s)", url,
			msg);
		break;
	case CH_NO_TABLE:
		set_err(err, errlen,
			"dnssnoop: ClickHouse at %s: %s (create the schema: "
			"tools/clickhouse-schema "
			"URL)",
			url, msg);
		break;
	case CH_SERVER_ERROR:
		set_err(err, errlen, "dnssnoop: ClickHouse at %s: the query %.24s... failed: %s",
			url, sql, msg);
		break;
	default:
		set_err(err, errlen, "dnssnoop: %s does not answer as ClickHouse does (%s)", url,
			msg);
	}
}

/*
 * Run one query; each answer row (nfields columns) goes to fn. 0, or -1
 * with one line in err.
 */
static int run_query(struct conn *c, const char *sql, int nfields, row_fn fn, void *ctx, char *err,
		     size_t errlen)
{
	char *body = NULL, msg[256] = "";
	enum ch_result r;

	if (asprintf(&body, "%s FORMAT TabSeparated", sql) < 0) {
		set_err(err, errlen, "dnssnoop: out of memory");
		return -1;
	}
	c->fn = fn;
	c->ctx = ctx;
	c->nfields = nfields;
	c->bad = false;
	jbuf_reset(&c->line);
	r = ch_http_query(c->h, body, QUERY_TIMEOUT_MS, on_data, c, msg, sizeof(msg));
	free(body);
	/* An error after rows had started comes as the last line. */
	if (r == CH_STOPPED && is_error_line(c->line.buf))
		query_failed(c, CH_SERVER_ERROR, sql, c->line.buf, err, errlen);
	else if (r == CH_STOPPED)
		set_err(err, errlen,
			"dnssnoop: %s does not answer as ClickHouse does with dnssnoop's schema "
			"(%s)",
			ch_http_shown_url(c->h), c->why);
	else if (r != CH_OK)
		query_failed(c, r, sql, msg, err, errlen);
	else if (c->line.len)
		set_err(err, errlen, "dnssnoop: %s: the answer ends inside a row",
			ch_http_shown_url(c->h));
	return r == CH_OK && !c->line.len ? 0 : -1;
}

static int conn_open(struct conn *c, const char *url, char *err, size_t errlen)
{
	char msg[300];
	bool usage;

	if (jbuf_init(&c->line, 4096) < 0) {
		set_err(err, errlen, "dnssnoop: out of memory for the ClickHouse client");
		return -1;
	}
	c->h = ch_http_open(url, &usage, msg, sizeof(msg));
	if (!c->h) {
		set_err(err, errlen, "dnssnoop: --from-clickhouse: %s", msg);
		return -1;
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	ch_http_close(c->h);
	jbuf_free(&c->line);
}

/* ---- the condition on days and hosts ----------------------------------- */

/* s as an SQL string literal's body: ' and \ escaped; LIKE's % and _ too when like. */
static void sql_text(struct jbuf *j, const char *s, size_t n, bool like)
{
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '\'' || ch == '\\')
			jbuf_append_char(j, '\\');
		if (like && (ch == '%' || ch == '_')) {
			jbuf_append_str(j, "\\\\");
		} else if (like && (ch == '*' || ch == '?')) {
			jbuf_append_char(j, ch == '*' ? '%' : '_');
			continue;
		}
		jbuf_append_char(j, ch);
	}
}

/* " AND host ...": --hosts as a LIKE pattern (a glob) or a list of names. */
static void where_hosts(struct jbuf *j, const char *hosts)
{
	if (!strchr(hosts, ',') && strpbrk(hosts, "*?")) {
		jbuf_append_str(j, " AND host LIKE '");
		sql_text(j, hosts, strlen(hosts), true);
		jbuf_append_char(j, '\'');
		return;
	}
	jbuf_append_str(j, " AND host IN (");
	for (const char *p = hosts; *p;) {
		size_t n = strcspn(p, ",");

		jbuf_append_str(j, p == hosts ? "'" : ", '");
		sql_text(j, p, n, false);
		jbuf_append_char(j, '\'');
		p += n + (p[n] == ',');
	}
	jbuf_append_char(j, ')');
}

/* "day >= 'YYYY-MM-DD' AND host ..." for --since and --hosts, a C string. */
static void where(struct jbuf *j, uint64_t from_day, const char *hosts)
{
	uint64_t ts_s = from_day * 86400;
	time_t t = (time_t)ts_s;
	struct tm tm;
	char date[16];

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	jbuf_reset(j);
	jbuf_append_str(j, "day >= '");
	jbuf_append_str(j, date);
	jbuf_append_char(j, '\'');
	if (hosts)
		where_hosts(j, hosts);
	jbuf_append_char(j, 0);
}

/* ---- rows --------------------------------------------------------------- */

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return *s >= '0' && *s <= '9' && !*end && !errno;
}

/* "[1,2,3]" -> out; the count, or -1 when it is not such a list of at most max. */
static long parse_u64_array(const char *s, uint64_t *out, size_t max)
{
	size_t n = 0;
	const char *p = s + 1;

	if (s[0] != '[')
		return -1;
	if (!strcmp(s, "[]"))
		return 0;
	for (;;) {
		char *end;

		if (*p < '0' || *p > '9' || n == max)
			return -1;
		out[n++] = strtoull(p, &end, 10);
		if (*end == ']' && !end[1])
			return (long)n;
		if (*end != ',')
			return -1;
		p = end + 1;
	}
}

struct client_entry {
	uint64_t key;
	struct detect_client id;
	unsigned int hours;
};

struct loader {
	struct detect *d;
	struct slots clients;
	long pairs;
	uint64_t newest_ns;
	uint64_t *hour_buf, *count_buf; /* a pair's hours: one per hour with lookups */
	size_t hour_cap;
};

static int bad_row(struct conn *c, const char *what)
{
	snprintf(c->why, sizeof(c->why), "%s", what);
	return -1;
}

static int on_probe(struct conn *c, char **f, int n, void *ctx)
{
	(void)n;
	(void)ctx;
	return strcmp(f[0], "dnssnoop-probe") ? bad_row(c, "the probe's answer differs") : 0;
}

static int on_newest(struct conn *c, char **f, int n, void *ctx)
{
	struct loader *l = ctx;

	(void)n;
	return parse_u64(f[0], &l->newest_ns) ? 0 : bad_row(c, "the newest lookup is no number");
}

static struct client_entry *find_client(struct loader *l, uint64_t key)
{
	struct client_entry *e = slots_entries(&l->clients);

	for (uint32_t i = slots_first(&l->clients, hash_mix64(key)); i != SLOTS_NIL;
	     i = slots_next(&l->clients, i))
		if (e[i].key == key)
			return &e[i];
	return NULL;
}

/* An address client's text back into family and 16 bytes. */
static bool client_addr(const char *text, struct detect_client *c)
{
	if (!*text)
		return true;
	if (inet_pton(AF_INET, text, c->addr) == 1) {
		c->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, c->addr) == 1) {
		c->family = AF_INET6;
		return true;
	}
	return false;
}

/* host, client_key, process, comm, uid, cgroup, addr, pid, hours */
static int on_client(struct conn *c, char **f, int n, void *ctx)
{
	struct loader *l = ctx;
	struct client_entry *e;
	uint64_t key, process, uid, pid, hours;
	uint32_t i;

	(void)n;
	if (!parse_u64(f[1], &key) || !parse_u64(f[2], &process) || !parse_u64(f[4], &uid) ||
	    !parse_u64(f[7], &pid) || !parse_u64(f[8], &hours))
		return bad_row(c, "a client's figures are not numbers");
	if (find_client(l, key))
		return 0;
	if (slots_full(&l->clients))
		return bad_row(c, "more clients than the loader holds");
	i = slots_take(&l->clients, hash_mix64(key));
	e = (struct client_entry *)slots_entries(&l->clients) + i;
	memset(e, 0, sizeof(*e));
	e->key = key;
	e->hours = (unsigned int)hours;
	e->id.process = process != 0;
	e->id.uid = (uint32_t)uid;
	e->id.pid = (uint32_t)pid;
	snprintf(e->id.host, sizeof(e->id.host), "%s", f[0]);
	snprintf(e->id.comm, sizeof(e->id.comm), "%s", f[3]);
	snprintf(e->id.cgroup, sizeof(e->id.cgroup), "%s", f[5]);
	if (!e->id.process && !client_addr(f[6], &e->id))
		return bad_row(c, "a client address is not an address");
	return 0;
}

static bool grow_hours(struct loader *l, size_t n)
{
	uint64_t *h, *k;

	if (n <= l->hour_cap)
		return true;
	h = realloc(l->hour_buf, n * sizeof(*h));
	if (h)
		l->hour_buf = h;
	k = h ? realloc(l->count_buf, n * sizeof(*k)) : NULL;
	if (k)
		l->count_buf = k;
	if (!h || !k)
		return false;
	l->hour_cap = n;
	return true;
}

/* A pair's hours ("[h,h,...]") and their counts into the hour-of-week histogram. */
static int pair_week(struct conn *c, struct loader *l, const char *hours, const char *counts,
		     uint64_t *week)
{
	size_t n = 1;
	long nh, nc;

	for (const char *p = hours; *p; p++)
		n += *p == ',';
	if (!grow_hours(l, n))
		return bad_row(c, "out of memory for a pair's hours");
	nh = parse_u64_array(hours, l->hour_buf, n);
	nc = parse_u64_array(counts, l->count_buf, n);
	if (nh < 0 || nh != nc)
		return bad_row(c, "a pair's hours are not a list of numbers");
	memset(week, 0, DETSTAT_WEEK_BINS * sizeof(*week));
	for (long k = 0; k < nh; k++)
		week[detstat_utc_hour_of_week(l->hour_buf[k] * NS_PER_HOUR)] += l->count_buf[k];
	return 0;
}

/* kind, target, host, client_key, lookups, names, first, last, hours, counts, ts */
static int on_pair(struct conn *c, char **f, int n, void *ctx)
{
	struct loader *l = ctx;
	uint64_t week[DETSTAT_WEEK_BINS], ts[DETSTAT_TS_MAX], kind, key;
	struct detect_history_pair h = {.week = week, .ts = ts, .text = f[1]};
	const struct client_entry *e;
	long nts;

	(void)n;
	if (!parse_u64(f[0], &kind) || kind >= DETECT_T_NKINDS || !parse_u64(f[3], &key) ||
	    !parse_u64(f[4], &h.lookups) || !parse_u64(f[5], &h.names) ||
	    !parse_u64(f[6], &h.first_ns) || !parse_u64(f[7], &h.last_ns))
		return bad_row(c, "a pair's figures are not numbers");
	e = find_client(l, key);
	if (!e)
		return 0; /* a client without name lookups in the days judged */
	if (pair_week(c, l, f[8], f[9], week) < 0)
		return -1;
	nts = parse_u64_array(f[10], ts, DETSTAT_TS_MAX);
	if (nts < 0)
		return bad_row(c, "a pair's timestamps are not a list of numbers");
	h.kind = (enum detect_target_kind)kind;
	h.client = &e->id;
	h.nts = (size_t)nts;
	if (h.kind == DETECT_T_NAME || h.names > h.lookups)
		h.names = h.kind == DETECT_T_NAME ? 1 : h.lookups;
	if (!detect_load_pair(l->d, &h))
		l->pairs++;
	return 0;
}

/* "['192.0.2.1','2001:db8::1']" -> addresses; count or -1. */
static long parse_addrs(char *s, struct obs_addr *out, size_t max)
{
	size_t n = 0;
	char *p = s + 1;

	if (s[0] != '[')
		return -1;
	while (*p && *p != ']' && n < max) {
		char *q = *p == '\'' ? strchr(p + 1, '\'') : NULL;

		if (!q)
			return -1;
		*q = 0;
		memset(&out[n], 0, sizeof(out[n]));
		if (inet_pton(AF_INET, p + 1, out[n].addr) == 1)
			out[n++].family = AF_INET;
		else if (inet_pton(AF_INET6, p + 1, out[n].addr) == 1)
			out[n++].family = AF_INET6;
		p = q + 1 + (q[1] == ',');
	}
	return (long)n;
}

/* kind, target, last_ok_ns, nx_after, addrs */
static int on_answers(struct conn *c, char **f, int n, void *ctx)
{
	struct loader *l = ctx;
	struct obs_addr addrs[DETECT_TARGET_ADDRS];
	uint64_t kind, last_ok, nx;
	long naddrs;

	(void)n;
	if (!parse_u64(f[0], &kind) || kind >= DETECT_T_NKINDS || !parse_u64(f[2], &last_ok) ||
	    !parse_u64(f[3], &nx))
		return bad_row(c, "a target's answers are not numbers");
	naddrs = parse_addrs(f[4], addrs, DETECT_TARGET_ADDRS);
	if (naddrs < 0)
		return bad_row(c, "a target's answer addresses are not a list");
	if (detect_load_answers(l->d, (enum detect_target_kind)kind, f[1], last_ok, nx, addrs,
				(size_t)naddrs))
		c->st->targets_answered++;
	return 0;
}

/* ---- loading ------------------------------------------------------------ */

static int query(struct conn *c, const char *fmt, const struct jbuf *cond, int arg, int nfields,
		 row_fn fn, void *ctx, char *err, size_t errlen)
{
	char *sql;
	int rc;

	/* The queries' arguments by position: the condition, a bound. */
	if (asprintf(&sql, fmt, cond->buf, arg) < 0) {
		set_err(err, errlen, "dnssnoop: out of memory");
		return -1;
	}
	rc = run_query(c, sql, nfields, fn, ctx, err, errlen);
	free(sql);
	return rc;
}

static void load_client_hours(struct loader *l)
{
	const struct client_entry *e = slots_entries(&l->clients);

	/* Nothing is released: slots 0 .. fresh - 1 are the clients. */
	for (uint32_t i = 0; i < l->clients.fresh; i++)
		detect_load_client_hours(l->d, &e[i].id, e[i].hours);
}

static int load(struct conn *c, const struct ch_history_config *cfg, struct loader *l,
		struct jbuf *cond, char *err, size_t errlen)
{
	uint64_t from_day = 0;

	if (run_query(c, probe_sql, 2, on_probe, l, err, errlen) < 0)
		return -1;
	where(cond, 0, cfg->hosts);
	if (query(c, newest_sql, cond, 0, 1, on_newest, l, err, errlen) < 0)
		return -1;
	if (cfg->since_ns && l->newest_ns > cfg->since_ns)
		from_day = (l->newest_ns - cfg->since_ns) / DAY_NS;
	where(cond, from_day, cfg->hosts);
	if (query(c, clients_sql, cond, 0, 9, on_client, l, err, errlen) < 0 ||
	    query(c, pairs_sql, cond, DETSTAT_TS_MAX, 11, on_pair, l, err, errlen) < 0)
		return -1;
	load_client_hours(l);
	c->st->clients = l->clients.used;
	c->st->pairs = (uint64_t)l->pairs;
	return query(c, answers_sql, cond, DETECT_TARGET_ADDRS, 5, on_answers, l, err, errlen);
}

long ch_history_load(const struct ch_history_config *cfg, struct detect *d,
		     struct ch_history_stats *st, char *err, size_t errlen)
{
	struct ch_history_stats unused;
	struct conn c = {.st = st ? st : &unused};
	struct loader l = {.d = d};
	struct jbuf cond = {0};
	int rc = -1;

	memset(c.st, 0, sizeof(*c.st));
	if (!slots_init(&l.clients, MAX_CLIENTS, sizeof(struct client_entry)) ||
	    jbuf_init(&cond, SQL_MAX) < 0)
		set_err(err, errlen, "dnssnoop: out of memory for the fleet's clients");
	else if (conn_open(&c, cfg->url, err, errlen) == 0)
		rc = load(&c, cfg, &l, &cond, err, errlen);
	conn_close(&c);
	jbuf_free(&cond);
	slots_destroy(&l.clients);
	free(l.hour_buf);
	free(l.count_buf);
	return rc < 0 ? -1 : l.pairs;
}
