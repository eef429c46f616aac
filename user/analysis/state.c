// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The state file: SQLite, schema in docs/state.md. See state.h.
 *
 * The session's counts are kept in three small tables of its own, keyed by
 * the detector's hashes (clients, targets, and client x target x UTC day
 * cells with 24 hourly counts each), plus per target and day the NOERROR /
 * NXDOMAIN answers and the answer addresses. state_fold() adds them to the
 * file with upserts in one IMMEDIATE transaction (a second session waits
 * for the first one's, up to STATE_BUSY_TIMEOUT_MS), so the file holds the
 * previous fold or this one, never part of one. A pair's last timestamps
 * (periodic and --min-spread need them) are the union of the stored ones
 * and the session's, the last DETSTAT_TS_MAX kept. The session's are kept
 * here, per cell, rather than taken from the detector's time records: those
 * are bounded by the detector (a pair may get one late, or lose it), and
 * the file is to hold every pair's last lookups.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analysis/state.h"
#include "lib/hash.h"
#include "lib/outfile.h"
#include "lib/slots.h"
#include "lib/units.h"

#define HOURS 24

struct sclient {
	uint64_t chash;
	struct detect_client id;
	uint64_t first_ns, last_ns;
	int64_t db_id; /* during a fold */
};

struct starget {
	uint64_t thash;
	uint8_t kind;
	bool looked_up; /* has cells: the row may be created */
	uint64_t first_ns, last_ns;
	uint64_t last_ok_ns; /* this session's last NOERROR-answered lookup, 0: none */
	uint64_t nx_after; /* NXDOMAIN answers after it (all of them if none) */
	int64_t db_id;
	char text[DETECT_TEXT_MAX];
};

struct scell {
	uint32_t ci, ti, day;
	uint64_t lookups, names, first_ns, last_ns;
	uint32_t hours[HOURS];
	uint64_t *ts; /* the cell's last lookups, a ring once DETSTAT_TS_MAX are held */
	uint16_t nts, ts_cap, ts_head;
};

struct stday {
	uint32_t ti, day;
	uint64_t noerror, nxdomain;
};

struct saddr {
	uint32_t ti;
	struct obs_addr a;
	uint64_t first_ns, last_ns;
};

struct state {
	struct state_config cfg;
	char *path;
	sqlite3 *db;
	struct detect *d; /* attached: its tap feeds the tables below */
	struct slots clients, targets, cells, tdays, addrs;
	size_t max_cells;
	size_t times; /* timestamps held by the cells, bounded as the cells are */
	char early_err[512]; /* the first failed early fold */
};

/* ---- messages ---------------------------------------------------------- */

static int fail(struct state *st, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "dnssnoop: state file %s: %s: %s", st->cfg.path, what,
		 st->db ? sqlite3_errmsg(st->db) : "out of memory");
	return -1;
}

static int exec(struct state *st, const char *sql)
{
	return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static sqlite3_stmt *prepare(struct state *st, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

/* The first column of the first row of sql as an integer; -1 on error (errors show as -1). */
static int64_t query_int(struct state *st, const char *sql, int64_t none)
{
	sqlite3_stmt *s = prepare(st, sql);
	int64_t v = none;
	int rc;

	if (!s)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		v = -1;
	sqlite3_finalize(s);
	return v;
}

/* ---- schema ------------------------------------------------------------ */

/* Version 1; docs/state.md describes every column. */
static const char SCHEMA_V1[] =
	"CREATE TABLE clients(id INTEGER PRIMARY KEY, host TEXT NOT NULL, "
	"process INTEGER NOT NULL, comm TEXT NOT NULL, uid INTEGER NOT NULL, "
	"cgroup TEXT NOT NULL, family INTEGER NOT NULL, addr BLOB NOT NULL, "
	"label TEXT NOT NULL, pid INTEGER NOT NULL, first_ns INTEGER NOT NULL, "
	"last_ns INTEGER NOT NULL, UNIQUE(host, process, comm, uid, cgroup, family, addr));"
	"CREATE TABLE targets(id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, "
	"text TEXT NOT NULL, first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL, "
	"last_ok_ns INTEGER NOT NULL, nx_after INTEGER NOT NULL, UNIQUE(kind, text));"
	"CREATE TABLE pairs(client_id INTEGER NOT NULL, target_id INTEGER NOT NULL, "
	"first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL, names INTEGER NOT NULL, "
	"ts BLOB NOT NULL, PRIMARY KEY(client_id, target_id)) WITHOUT ROWID;"
	"CREATE INDEX pairs_target ON pairs(target_id);"
	"CREATE TABLE daily(client_id INTEGER NOT NULL, target_id INTEGER NOT NULL, "
	"day INTEGER NOT NULL, lookups INTEGER NOT NULL, "
	"h0 INTEGER NOT NULL, h1 INTEGER NOT NULL, h2 INTEGER NOT NULL, h3 INTEGER NOT NULL, "
	"h4 INTEGER NOT NULL, h5 INTEGER NOT NULL, h6 INTEGER NOT NULL, h7 INTEGER NOT NULL, "
	"h8 INTEGER NOT NULL, h9 INTEGER NOT NULL, h10 INTEGER NOT NULL, h11 INTEGER NOT NULL, "
	"h12 INTEGER NOT NULL, h13 INTEGER NOT NULL, h14 INTEGER NOT NULL, "
	"h15 INTEGER NOT NULL, h16 INTEGER NOT NULL, h17 INTEGER NOT NULL, "
	"h18 INTEGER NOT NULL, h19 INTEGER NOT NULL, h20 INTEGER NOT NULL, "
	"h21 INTEGER NOT NULL, h22 INTEGER NOT NULL, h23 INTEGER NOT NULL, "
	"PRIMARY KEY(client_id, target_id, day)) WITHOUT ROWID;"
	"CREATE INDEX daily_day ON daily(day);"
	"CREATE TABLE target_daily(target_id INTEGER NOT NULL, day INTEGER NOT NULL, "
	"noerror INTEGER NOT NULL, nxdomain INTEGER NOT NULL, "
	"PRIMARY KEY(target_id, day)) WITHOUT ROWID;"
	"CREATE INDEX target_daily_day ON target_daily(day);"
	"CREATE TABLE answers(target_id INTEGER NOT NULL, family INTEGER NOT NULL, "
	"addr BLOB NOT NULL, first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL, "
	"PRIMARY KEY(target_id, family, addr)) WITHOUT ROWID;"
	"CREATE TABLE folds(id INTEGER PRIMARY KEY, at_ns INTEGER NOT NULL, host TEXT NOT NULL, "
	"first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL, lookups INTEGER NOT NULL, "
	"pruned_before_day INTEGER);";

/*
 * Inside an IMMEDIATE transaction (so two sessions creating one new file
 * do not both create it): a file we just created empty gets the schema;
 * anything else must be ours, of a schema we know.
 */
static int check_schema(struct state *st, bool was_empty, char *err, size_t errlen)
{
	int64_t app = query_int(st, "PRAGMA application_id", 0);
	int64_t ver = query_int(st, "PRAGMA user_version", 0);
	int64_t tables = query_int(st, "SELECT count(*) FROM sqlite_master", 0);
	char sql[128];

	if (app < 0 || ver < 0 || tables < 0) {
		if (sqlite3_errcode(st->db) == SQLITE_NOTADB) {
			snprintf(err, errlen,
				 "dnssnoop: refusing state file %s: it is not an SQLite database "
				 "(left as it is)",
				 st->cfg.path);
			return -1;
		}
		return fail(st, err, errlen, "cannot read its header");
	}
	if (app == 0 && ver == 0 && tables == 0 && was_empty && !st->cfg.read_only) {
		snprintf(sql, sizeof(sql), "PRAGMA application_id=%d; PRAGMA user_version=%d;",
			 STATE_APPLICATION_ID, STATE_SCHEMA_VERSION);
		if (exec(st, SCHEMA_V1) || exec(st, sql))
			return fail(st, err, errlen, "cannot create its tables");
		return 0;
	}
	if (app != STATE_APPLICATION_ID) {
		snprintf(err, errlen,
			 "dnssnoop: refusing state file %s: it is an SQLite database of another "
			 "program (application_id 0x%08" PRIx64 ", not dnssnoop's 0x%08x; left as "
			 "it is)",
			 st->cfg.path, (uint64_t)(uint32_t)app, STATE_APPLICATION_ID);
		return -1;
	}
	if (ver > STATE_SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "dnssnoop: refusing state file %s: its schema version %" PRId64
			 " is newer than this dnssnoop's (%d); use a newer dnssnoop",
			 st->cfg.path, ver, STATE_SCHEMA_VERSION);
		return -1;
	}
	if (ver < 1) {
		snprintf(err, errlen, "dnssnoop: refusing state file %s: it has no schema version",
			 st->cfg.path);
		return -1;
	}
	/* Version 1 is the first: there is nothing older to migrate (docs/state.md). */
	return 0;
}

/* ---- opening ----------------------------------------------------------- */

/*
 * The file opened as output files are (lib/outfile.h: no symbolic link,
 * ours, one link, created 0600, never in a directory anyone may write to
 * unless sticky), and a regular file. *empty: it has no bytes yet.
 */
static int safe_create(struct state *st, bool *empty, char *err, size_t errlen)
{
	struct stat sb;
	int fd = outfile_open(st->cfg.path, err, errlen);

	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "dnssnoop: refusing state file %s: it is not a regular file",
			 st->cfg.path);
		close(fd);
		return -1;
	}
	*empty = sb.st_size == 0;
	close(fd);
	return 0;
}

static int safe_existing(struct state *st, char *err, size_t errlen)
{
	struct stat sb;

	if (lstat(st->cfg.path, &sb) < 0) {
		snprintf(err, errlen, "dnssnoop: cannot open state file %s: %s", st->cfg.path,
			 strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen,
			 "dnssnoop: refusing state file %s: it is not a regular file (symbolic "
			 "links are not followed)",
			 st->cfg.path);
		return -1;
	}
	return 0;
}

#define ENTRY(s, type, i) (&((type *)slots_entries(&(s)))[i])

static void clear_counts(struct state *st)
{
	for (uint32_t i = 0; i < st->cells.fresh && slots_entries(&st->cells); i++)
		free(ENTRY(st->cells, struct scell, i)->ts);
	st->times = 0;
	slots_destroy(&st->clients);
	slots_destroy(&st->targets);
	slots_destroy(&st->cells);
	slots_destroy(&st->tdays);
	slots_destroy(&st->addrs);
}

/* The session's counts emptied (after a fold); -1 out of memory. */
static int reset_counts(struct state *st)
{
	clear_counts(st);
	if (!slots_init(&st->clients, st->max_cells, sizeof(struct sclient)) ||
	    !slots_init(&st->targets, st->max_cells, sizeof(struct starget)) ||
	    !slots_init(&st->cells, st->max_cells, sizeof(struct scell)) ||
	    !slots_init(&st->tdays, st->max_cells, sizeof(struct stday)) ||
	    !slots_init(&st->addrs, st->max_cells, sizeof(struct saddr)))
		return -1;
	return 0;
}

struct state *state_open(const struct state_config *cfg, char *err, size_t errlen)
{
	struct state *st = calloc(1, sizeof(*st));
	bool empty = false;
	int flags;

	if (!st) {
		snprintf(err, errlen, "dnssnoop: state file %s: out of memory", cfg->path);
		return NULL;
	}
	st->cfg = *cfg;
	if (!st->cfg.retain_days)
		st->cfg.retain_days = STATE_DEFAULT_RETAIN;
	st->max_cells = cfg->max_cells ? cfg->max_cells : STATE_DEFAULT_MAX_CELLS;
	if (cfg->read_only ? safe_existing(st, err, errlen) : safe_create(st, &empty, err, errlen))
		goto out;
	flags = (cfg->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
		SQLITE_OPEN_NOFOLLOW;
	if (sqlite3_open_v2(cfg->path, &st->db, flags, NULL) != SQLITE_OK) {
		fail(st, err, errlen, "cannot open");
		goto out;
	}
	sqlite3_busy_timeout(st->db, STATE_BUSY_TIMEOUT_MS);
	if (!cfg->read_only) {
		if (exec(st, "BEGIN IMMEDIATE")) {
			if (sqlite3_errcode(st->db) == SQLITE_NOTADB)
				check_schema(st, false, err, errlen);
			else
				fail(st, err, errlen, "cannot lock");
			goto out;
		}
		if (check_schema(st, empty, err, errlen) || exec(st, "COMMIT")) {
			if (!err[0] || !strstr(err, st->cfg.path))
				fail(st, err, errlen, "cannot set up");
			exec(st, "ROLLBACK");
			goto out;
		}
		/*
		 * The WAL file is kept, not deleted at close: a live session has
		 * dropped its privileges by then (docs/security.md).
		 */
		int persist = 1;

		sqlite3_file_control(st->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
		/* WAL: readers (--report) never wait for a fold; a fold is one commit. */
		/*
		 * temp_store=MEMORY: a live session folds after the privilege
		 * drop, when the seccomp filter allows no file creation (openat
		 * without O_CREAT only), so a sort or temporary index spilled to
		 * a temporary file would fail the fold. The -wal and -shm files
		 * are opened by the first read in WAL mode (below), before the
		 * drop, and kept open until state_close.
		 */
		if (query_int(st, "PRAGMA journal_mode=WAL", 0) < 0 ||
		    exec(st, "PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit=4194304; "
			     "PRAGMA temp_store=MEMORY")) {
			fail(st, err, errlen, "cannot set WAL mode");
			goto out;
		}
	} else if (check_schema(st, false, err, errlen)) {
		goto out;
	}
	if (reset_counts(st)) {
		snprintf(err, errlen, "dnssnoop: state file %s: out of memory", cfg->path);
		goto out;
	}
	return st;
out:
	state_close(st);
	return NULL;
}

void state_close(struct state *st)
{
	if (!st)
		return;
	if (st->d)
		detect_set_tap(st->d, NULL);
	clear_counts(st);
	sqlite3_close(st->db);
	free(st);
}

size_t state_pending(const struct state *st)
{
	return st->cells.used;
}

/* ---- the session's counts (the detector's tap) ------------------------- */

/* The entry of hash h in s, taken (zeroed) if new; SLOTS_NIL when s is full. */
static uint32_t get(struct slots *s, uint64_t h, bool *created)
{
	uint32_t i = slots_first(s, h);

	*created = false;
	if (i != SLOTS_NIL)
		return i;
	if (slots_full(s))
		return SLOTS_NIL;
	i = slots_take(s, h);
	memset((char *)slots_entries(s) + (size_t)i * s->entry_size, 0, s->entry_size);
	*created = true;
	return i;
}

static uint32_t get_target(struct state *st, enum detect_target_kind kind, const char *text,
			   uint64_t thash)
{
	bool created;
	uint32_t i = get(&st->targets, thash, &created);

	if (i != SLOTS_NIL && created) {
		struct starget *t = ENTRY(st->targets, struct starget, i);

		t->thash = thash;
		t->kind = (uint8_t)kind;
		snprintf(t->text, sizeof(t->text), "%s", text);
	}
	return i;
}

static bool any_full(struct state *st)
{
	return st->cells.used >= st->max_cells || st->clients.used >= st->max_cells ||
	       st->targets.used >= st->max_cells || st->tdays.used >= st->max_cells ||
	       st->addrs.used >= st->max_cells || st->times >= STATE_TIMES_PER_CELL * st->max_cells;
}

/* The counts reached their bound: fold them now (the first error is kept for the end). */
static void fold_early(struct state *st)
{
	char err[512];

	if (state_fold(st, err, sizeof(err)) && !st->early_err[0])
		snprintf(st->early_err, sizeof(st->early_err), "%s", err);
	if (any_full(st)) /* the fold failed: start again rather than lose the bound */
		reset_counts(st);
}

/* Keep ts among the cell's last DETSTAT_TS_MAX lookups (none if out of memory). */
static void cell_time(struct state *st, struct scell *c, uint64_t ts_ns)
{
	if (c->nts == c->ts_cap && c->ts_cap < DETSTAT_TS_MAX) {
		uint16_t cap = c->ts_cap ? 2 * c->ts_cap : 4;
		uint64_t *ts = realloc(c->ts, cap * sizeof(*ts));

		if (!ts)
			return;
		c->ts = ts;
		c->ts_cap = cap;
	}
	if (c->nts < c->ts_cap) {
		c->ts[c->nts++] = ts_ns;
		st->times++;
		return;
	}
	c->ts[c->ts_head] = ts_ns;
	c->ts_head = (uint16_t)((c->ts_head + 1) % DETSTAT_TS_MAX);
}

static void on_lookup(void *ctx, const struct detect_client *c, uint64_t chash,
		      enum detect_target_kind kind, const char *text, uint64_t thash,
		      uint64_t ts_ns, bool first_of_name)
{
	struct state *st = ctx;
	uint32_t day = (uint32_t)(ts_ns / STATE_DAY_NS), ci, ti, k;
	bool created;
	struct sclient *cl;
	struct scell *cell;

	if (any_full(st))
		fold_early(st);
	ci = get(&st->clients, chash, &created);
	if (ci == SLOTS_NIL)
		return;
	cl = ENTRY(st->clients, struct sclient, ci);
	if (created) {
		cl->chash = chash;
		cl->id = *c;
		cl->first_ns = ts_ns;
	}
	cl->id.pid = c->pid;
	if (ts_ns < cl->first_ns)
		cl->first_ns = ts_ns;
	if (ts_ns > cl->last_ns)
		cl->last_ns = ts_ns;
	ti = get_target(st, kind, text, thash);
	if (ti == SLOTS_NIL)
		return;
	ENTRY(st->targets, struct starget, ti)->looked_up = true;
	k = get(&st->cells, hash_mix64(chash ^ hash_mix64(thash ^ hash_mix64(day))), &created);
	if (k == SLOTS_NIL)
		return;
	cell = ENTRY(st->cells, struct scell, k);
	if (created) {
		cell->ci = ci;
		cell->ti = ti;
		cell->day = day;
		cell->first_ns = ts_ns;
	}
	if (ts_ns < cell->first_ns)
		cell->first_ns = ts_ns;
	if (ts_ns > cell->last_ns)
		cell->last_ns = ts_ns;
	cell->lookups++;
	cell->names += first_of_name;
	cell->hours[(ts_ns / NS_PER_HOUR) % HOURS]++;
	cell_time(st, cell, ts_ns);
}

static void on_answer(void *ctx, enum detect_target_kind kind, const char *text, uint64_t thash,
		      int rcode, uint64_t query_ns, const struct obs_addr *addrs, size_t naddrs)
{
	struct state *st = ctx;
	uint32_t day = (uint32_t)(query_ns / STATE_DAY_NS), ti, k;
	struct starget *t;
	struct stday *td;
	bool created;

	if (any_full(st))
		fold_early(st);
	ti = get_target(st, kind, text, thash);
	if (ti == SLOTS_NIL)
		return;
	t = ENTRY(st->targets, struct starget, ti);
	if (rcode == 0 && query_ns >= t->last_ok_ns) {
		t->last_ok_ns = query_ns;
		t->nx_after = 0;
	} else if (rcode == 3) {
		t->nx_after++;
	}
	k = get(&st->tdays, hash_mix64(thash ^ hash_mix64(day)), &created);
	if (k == SLOTS_NIL)
		return;
	td = ENTRY(st->tdays, struct stday, k);
	td->ti = ti;
	td->day = day;
	td->noerror += rcode == 0;
	td->nxdomain += rcode == 3;
	for (size_t n = 0; n < naddrs; n++) {
		size_t len = addrs[n].family == AF_INET6 ? 16 : 4;
		struct saddr *a;

		if (addrs[n].family != AF_INET && addrs[n].family != AF_INET6)
			continue;
		k = get(&st->addrs, hash_bytes(addrs[n].addr, len, thash ^ addrs[n].family),
			&created);
		if (k == SLOTS_NIL)
			return;
		a = ENTRY(st->addrs, struct saddr, k);
		if (created) {
			a->ti = ti;
			a->a = addrs[n];
			a->first_ns = query_ns;
		}
		if (query_ns > a->last_ns)
			a->last_ns = query_ns;
	}
}

void state_attach(struct state *st, struct detect *d)
{
	struct detect_tap tap = {st, on_lookup, on_answer};

	st->d = d;
	detect_set_tap(d, &tap);
}

/* ---- folding ------------------------------------------------------------ */

static const char UPSERT_CLIENT[] =
	"INSERT INTO clients(host, process, comm, uid, cgroup, family, addr, label, pid, "
	"first_ns, last_ns) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
	"ON CONFLICT(host, process, comm, uid, cgroup, family, addr) DO UPDATE SET "
	"label = excluded.label, pid = excluded.pid, first_ns = min(first_ns, excluded.first_ns), "
	"last_ns = max(last_ns, excluded.last_ns) RETURNING id";

/* Every SET expression sees the row before the update (SQLite's rule). */
static const char UPSERT_TARGET[] =
	"INSERT INTO targets(kind, text, first_ns, last_ns, last_ok_ns, nx_after) "
	"VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(kind, text) DO UPDATE SET "
	"first_ns = min(first_ns, excluded.first_ns), last_ns = max(last_ns, excluded.last_ns), "
	"nx_after = CASE WHEN excluded.last_ok_ns > last_ok_ns THEN excluded.nx_after "
	"WHEN excluded.last_ok_ns = 0 THEN nx_after + excluded.nx_after ELSE nx_after END, "
	"last_ok_ns = max(last_ok_ns, excluded.last_ok_ns) RETURNING id";

/* A target answered in this session but looked up only in earlier ones. */
static const char UPDATE_TARGET[] =
	"UPDATE targets SET "
	"nx_after = CASE WHEN ?3 > last_ok_ns THEN ?4 WHEN ?3 = 0 THEN nx_after + ?4 "
	"ELSE nx_after END, last_ok_ns = max(last_ok_ns, ?3) "
	"WHERE kind = ?1 AND text = ?2 RETURNING id";

static const char SELECT_TS[] = "SELECT ts FROM pairs WHERE client_id = ?1 AND target_id = ?2";

static const char UPSERT_PAIR[] =
	"INSERT INTO pairs(client_id, target_id, first_ns, last_ns, names, ts) "
	"VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(client_id, target_id) DO UPDATE SET "
	"first_ns = min(first_ns, excluded.first_ns), last_ns = max(last_ns, excluded.last_ns), "
	"names = names + excluded.names, ts = excluded.ts";

static const char UPSERT_TDAY[] =
	"INSERT INTO target_daily(target_id, day, noerror, nxdomain) VALUES(?1, ?2, ?3, ?4) "
	"ON CONFLICT(target_id, day) DO UPDATE SET noerror = noerror + excluded.noerror, "
	"nxdomain = nxdomain + excluded.nxdomain";

static const char UPSERT_ADDR[] =
	"INSERT INTO answers(target_id, family, addr, first_ns, last_ns) "
	"VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(target_id, family, addr) DO UPDATE SET "
	"first_ns = min(first_ns, excluded.first_ns), last_ns = max(last_ns, excluded.last_ns)";

/* INSERT INTO daily ... h0 = h0 + excluded.h0, ...: made once. */
static void daily_sql(char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len,
				    "INSERT INTO daily(client_id, target_id, day, lookups");

	for (int h = 0; h < HOURS; h++)
		n += (size_t)snprintf(buf + n, len - n, ", h%d", h);
	n += (size_t)snprintf(buf + n, len - n, ") VALUES(?1, ?2, ?3, ?4");
	for (int h = 0; h < HOURS; h++)
		n += (size_t)snprintf(buf + n, len - n, ", ?%d", h + 5);
	n += (size_t)snprintf(buf + n, len - n,
			      ") ON CONFLICT(client_id, target_id, day) DO UPDATE SET "
			      "lookups = lookups + excluded.lookups");
	for (int h = 0; h < HOURS; h++)
		n += (size_t)snprintf(buf + n, len - n, ", h%d = h%d + excluded.h%d", h, h, h);
}

/* Run a bound statement to its end; RETURNING id into *id (may be NULL). */
static int step(sqlite3_stmt *s, int64_t *id)
{
	int rc = sqlite3_step(s);

	if (id)
		*id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The stored timestamps (blob of little-endian u64) and those of the
 * session's cells of one pair, sorted, the last DETSTAT_TS_MAX in out.
 * -1 out of memory.
 */
static long merge_times(const void *blob, size_t bytes, struct scell **g, size_t ng,
			uint64_t *out)
{
	size_t n = 0, nblob = bytes / 8, total = nblob;
	uint64_t *all;

	for (size_t k = 0; k < ng; k++)
		total += g[k]->nts;
	all = malloc((total + 1) * sizeof(*all));
	if (!all)
		return -1;
	for (size_t k = 0; k < nblob; k++) {
		uint64_t v = 0;

		for (int b = 7; b >= 0; b--)
			v = v << 8 | ((const uint8_t *)blob)[k * 8 + (size_t)b];
		all[n++] = v;
	}
	for (size_t k = 0; k < ng; k++)
		for (size_t i = 0; i < g[k]->nts; i++)
			all[n++] = g[k]->ts[i];
	qsort(all, n, sizeof(*all), cmp_u64);
	total = n > DETSTAT_TS_MAX ? n - DETSTAT_TS_MAX : 0;
	memcpy(out, all + total, (n - total) * sizeof(*out));
	free(all);
	return (long)(n - total);
}

static void times_blob(const uint64_t *ts, size_t n, uint8_t *blob)
{
	for (size_t k = 0; k < n; k++)
		for (int b = 0; b < 8; b++)
			blob[k * 8 + (size_t)b] = (uint8_t)(ts[k] >> (8 * b));
}

struct fold_stmts {
	sqlite3_stmt *client, *target, *target_upd, *daily, *sel_ts, *pair, *tday, *addr;
};

static void finalize_all(struct fold_stmts *f)
{
	sqlite3_finalize(f->client);
	sqlite3_finalize(f->target);
	sqlite3_finalize(f->target_upd);
	sqlite3_finalize(f->daily);
	sqlite3_finalize(f->sel_ts);
	sqlite3_finalize(f->pair);
	sqlite3_finalize(f->tday);
	sqlite3_finalize(f->addr);
}

static int fold_clients(struct state *st, struct fold_stmts *f)
{
	static const uint8_t zero[16];

	for (uint32_t i = 0; i < st->clients.fresh; i++) {
		struct sclient *c = ENTRY(st->clients, struct sclient, i);
		sqlite3_stmt *s = f->client;

		sqlite3_bind_text(s, 1, c->id.host, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 2, c->id.process);
		sqlite3_bind_text(s, 3, c->id.process ? c->id.comm : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, c->id.process ? c->id.uid : 0);
		sqlite3_bind_text(s, 5, c->id.process ? c->id.cgroup : "", -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 6, c->id.process ? 0 : c->id.family);
		sqlite3_bind_blob(s, 7, c->id.process ? zero : c->id.addr, 16, SQLITE_STATIC);
		sqlite3_bind_text(s, 8, c->id.label, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 9, c->id.pid);
		sqlite3_bind_int64(s, 10, (int64_t)c->first_ns);
		sqlite3_bind_int64(s, 11, (int64_t)c->last_ns);
		if (step(s, &c->db_id))
			return -1;
	}
	return 0;
}

static int fold_targets(struct state *st, struct fold_stmts *f)
{
	for (uint32_t i = 0; i < st->targets.fresh; i++) {
		struct starget *t = ENTRY(st->targets, struct starget, i);
		sqlite3_stmt *s = t->looked_up ? f->target : f->target_upd;

		sqlite3_bind_int(s, 1, t->kind);
		sqlite3_bind_text(s, 2, t->text, -1, SQLITE_STATIC);
		if (t->looked_up) {
			sqlite3_bind_int64(s, 3, (int64_t)t->first_ns);
			sqlite3_bind_int64(s, 4, (int64_t)t->last_ns);
			sqlite3_bind_int64(s, 5, (int64_t)t->last_ok_ns);
			sqlite3_bind_int64(s, 6, (int64_t)t->nx_after);
		} else {
			sqlite3_bind_int64(s, 3, (int64_t)t->last_ok_ns);
			sqlite3_bind_int64(s, 4, (int64_t)t->nx_after);
		}
		if (step(s, &t->db_id))
			return -1;
	}
	return 0;
}

static int cmp_cell(const void *a, const void *b)
{
	const struct scell *x = *(const struct scell *const *)a, *y = *(const struct scell *const *)b;

	if (x->ci != y->ci)
		return x->ci < y->ci ? -1 : 1;
	if (x->ti != y->ti)
		return x->ti < y->ti ? -1 : 1;
	return x->day < y->day ? -1 : x->day > y->day;
}

/* One pair: its span and names widened, its stored timestamps merged with the session's. */
static int fold_pair(struct state *st, struct fold_stmts *f, struct scell **g, size_t ng)
{
	const struct sclient *c = ENTRY(st->clients, struct sclient, g[0]->ci);
	const struct starget *t = ENTRY(st->targets, struct starget, g[0]->ti);
	uint64_t ts[DETSTAT_TS_MAX], first = UINT64_MAX, last = 0, names = 0;
	uint8_t blob[DETSTAT_TS_MAX * 8];
	const void *old = NULL;
	int bytes = 0, rc;
	long nts;

	for (size_t k = 0; k < ng; k++) {
		first = g[k]->first_ns < first ? g[k]->first_ns : first;
		last = g[k]->last_ns > last ? g[k]->last_ns : last;
		names += g[k]->names;
	}
	sqlite3_bind_int64(f->sel_ts, 1, c->db_id);
	sqlite3_bind_int64(f->sel_ts, 2, t->db_id);
	rc = sqlite3_step(f->sel_ts);
	if (rc == SQLITE_ROW) {
		old = sqlite3_column_blob(f->sel_ts, 0);
		bytes = sqlite3_column_bytes(f->sel_ts, 0);
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(f->sel_ts);
		return -1;
	}
	nts = merge_times(old, old ? (size_t)bytes : 0, g, ng, ts);
	sqlite3_reset(f->sel_ts);
	if (nts < 0)
		return -1;
	times_blob(ts, (size_t)nts, blob);
	sqlite3_bind_int64(f->pair, 1, c->db_id);
	sqlite3_bind_int64(f->pair, 2, t->db_id);
	sqlite3_bind_int64(f->pair, 3, (int64_t)first);
	sqlite3_bind_int64(f->pair, 4, (int64_t)last);
	sqlite3_bind_int64(f->pair, 5, (int64_t)names);
	sqlite3_bind_blob(f->pair, 6, blob, (int)nts * 8, SQLITE_STATIC);
	return step(f->pair, NULL);
}

static int fold_cells(struct state *st, struct fold_stmts *f, uint64_t *lookups,
		      uint64_t *first_ns, uint64_t *last_ns)
{
	size_t n = 0, start = 0;
	struct scell **v = malloc((st->cells.used + 1) * sizeof(*v));
	int rc = 0;

	if (!v)
		return -1;
	for (uint32_t i = 0; i < st->cells.fresh; i++) {
		struct scell *c = ENTRY(st->cells, struct scell, i);

		if (c->lookups)
			v[n++] = c;
	}
	qsort(v, n, sizeof(*v), cmp_cell);
	for (size_t k = 0; k < n && !rc; k++) {
		const struct sclient *cl = ENTRY(st->clients, struct sclient, v[k]->ci);
		const struct starget *t = ENTRY(st->targets, struct starget, v[k]->ti);

		sqlite3_bind_int64(f->daily, 1, cl->db_id);
		sqlite3_bind_int64(f->daily, 2, t->db_id);
		sqlite3_bind_int64(f->daily, 3, v[k]->day);
		sqlite3_bind_int64(f->daily, 4, (int64_t)v[k]->lookups);
		for (int h = 0; h < HOURS; h++)
			sqlite3_bind_int64(f->daily, h + 5, v[k]->hours[h]);
		rc = step(f->daily, NULL);
		if (t->kind == DETECT_T_NAME) {
			*lookups += v[k]->lookups;
			*first_ns = v[k]->first_ns < *first_ns ? v[k]->first_ns : *first_ns;
			*last_ns = v[k]->last_ns > *last_ns ? v[k]->last_ns : *last_ns;
		}
		if (k + 1 == n || v[k + 1]->ci != v[k]->ci || v[k + 1]->ti != v[k]->ti) {
			if (!rc)
				rc = fold_pair(st, f, v + start, k + 1 - start);
			start = k + 1;
		}
	}
	free(v);
	return rc;
}

static int fold_answers(struct state *st, struct fold_stmts *f)
{
	for (uint32_t i = 0; i < st->tdays.fresh; i++) {
		struct stday *td = ENTRY(st->tdays, struct stday, i);
		const struct starget *t = ENTRY(st->targets, struct starget, td->ti);

		if ((!td->noerror && !td->nxdomain) || !t->db_id)
			continue;
		sqlite3_bind_int64(f->tday, 1, t->db_id);
		sqlite3_bind_int64(f->tday, 2, td->day);
		sqlite3_bind_int64(f->tday, 3, (int64_t)td->noerror);
		sqlite3_bind_int64(f->tday, 4, (int64_t)td->nxdomain);
		if (step(f->tday, NULL))
			return -1;
	}
	for (uint32_t i = 0; i < st->addrs.fresh; i++) {
		struct saddr *a = ENTRY(st->addrs, struct saddr, i);
		const struct starget *t = ENTRY(st->targets, struct starget, a->ti);

		if (!a->a.family || !t->db_id)
			continue;
		sqlite3_bind_int64(f->addr, 1, t->db_id);
		sqlite3_bind_int(f->addr, 2, a->a.family);
		sqlite3_bind_blob(f->addr, 3, a->a.addr, a->a.family == AF_INET6 ? 16 : 4,
				  SQLITE_STATIC);
		sqlite3_bind_int64(f->addr, 4, (int64_t)a->first_ns);
		sqlite3_bind_int64(f->addr, 5, (int64_t)a->last_ns);
		if (step(f->addr, NULL))
			return -1;
	}
	return 0;
}

/* Each target's first and last lookup of this session, from its cells. */
static void target_spans(struct state *st)
{
	for (uint32_t i = 0; i < st->targets.fresh; i++) {
		struct starget *t = ENTRY(st->targets, struct starget, i);

		t->first_ns = UINT64_MAX;
		t->last_ns = 0;
		t->db_id = 0;
	}
	for (uint32_t i = 0; i < st->cells.fresh; i++) {
		struct scell *c = ENTRY(st->cells, struct scell, i);
		struct starget *t = ENTRY(st->targets, struct starget, c->ti);

		if (!c->lookups)
			continue;
		t->first_ns = c->first_ns < t->first_ns ? c->first_ns : t->first_ns;
		t->last_ns = c->last_ns > t->last_ns ? c->last_ns : t->last_ns;
	}
}

/*
 * Days before the newest stored day minus retain_days go, and with them
 * pairs, targets and clients left without a day. Returns the first day
 * kept (-1: no lookup day removed) or -2 on error.
 */
static int64_t prune(struct state *st)
{
	int64_t newest = query_int(st, "SELECT max(day) FROM daily", -2), cutoff;
	char sql[256];

	if (newest == -1)
		return -2;
	cutoff = newest - (int64_t)st->cfg.retain_days + 1;
	if (newest < 0 || cutoff <= 0)
		return -1;
	snprintf(sql, sizeof(sql), "DELETE FROM target_daily WHERE day < %" PRId64 ";"
		 "DELETE FROM daily WHERE day < %" PRId64 ";", cutoff, cutoff);
	if (exec(st, sql))
		return -2;
	/*
	 * Only removed days leave pairs, targets and clients without a day:
	 * without them the scans below (of the whole file) are skipped, so
	 * that folding at every --interval close stays cheap.
	 */
	if (!sqlite3_changes(st->db))
		return -1;
	if (exec(st, "DELETE FROM pairs WHERE NOT EXISTS (SELECT 1 FROM daily d WHERE "
		     "d.client_id = pairs.client_id AND d.target_id = pairs.target_id);"
		     "DELETE FROM targets WHERE NOT EXISTS (SELECT 1 FROM pairs p WHERE "
		     "p.target_id = targets.id);"
		     "DELETE FROM answers WHERE NOT EXISTS (SELECT 1 FROM targets t WHERE "
		     "t.id = answers.target_id);"
		     "DELETE FROM target_daily WHERE NOT EXISTS (SELECT 1 FROM targets t WHERE "
		     "t.id = target_daily.target_id);"
		     "DELETE FROM clients WHERE NOT EXISTS (SELECT 1 FROM pairs p WHERE "
		     "p.client_id = clients.id);"))
		return -2;
	return cutoff;
}

int state_fold(struct state *st, char *err, size_t errlen)
{
	struct fold_stmts f = {0};
	char dsql[2048];
	uint64_t lookups = 0, first_ns = UINT64_MAX, last_ns = 0;
	int64_t pruned;
	sqlite3_stmt *log = NULL;
	struct timespec now;

	if (st->cfg.read_only)
		return 0;
	if (st->early_err[0]) {
		snprintf(err, errlen, "%s", st->early_err);
		st->early_err[0] = 0;
		return -1;
	}
	daily_sql(dsql, sizeof(dsql));
	if (exec(st, "BEGIN IMMEDIATE"))
		return fail(st, err, errlen, "cannot start the fold");
	if (!(f.client = prepare(st, UPSERT_CLIENT)) || !(f.target = prepare(st, UPSERT_TARGET)) ||
	    !(f.target_upd = prepare(st, UPDATE_TARGET)) || !(f.daily = prepare(st, dsql)) ||
	    !(f.sel_ts = prepare(st, SELECT_TS)) || !(f.pair = prepare(st, UPSERT_PAIR)) ||
	    !(f.tday = prepare(st, UPSERT_TDAY)) || !(f.addr = prepare(st, UPSERT_ADDR)))
		goto fail;
	target_spans(st);
	if (fold_clients(st, &f) || fold_targets(st, &f) ||
	    fold_cells(st, &f, &lookups, &first_ns, &last_ns) || fold_answers(st, &f))
		goto fail;
	if ((pruned = prune(st)) == -2)
		goto fail;
	clock_gettime(CLOCK_REALTIME, &now);
	log = prepare(st, "INSERT INTO folds(at_ns, host, first_ns, last_ns, lookups, "
			  "pruned_before_day) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
	if (!log)
		goto fail;
	sqlite3_bind_int64(log, 1, (int64_t)now.tv_sec * (int64_t)NS_PER_SEC + now.tv_nsec);
	sqlite3_bind_text(log, 2, st->cfg.host ? st->cfg.host : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(log, 3, lookups ? (int64_t)first_ns : 0);
	sqlite3_bind_int64(log, 4, (int64_t)last_ns);
	sqlite3_bind_int64(log, 5, (int64_t)lookups);
	if (pruned >= 0)
		sqlite3_bind_int64(log, 6, pruned);
	if (step(log, NULL))
		goto fail;
	sqlite3_finalize(log);
	finalize_all(&f);
	if (exec(st, "COMMIT")) {
		fail(st, err, errlen, "cannot commit the fold");
		exec(st, "ROLLBACK");
		return -1;
	}
	if (reset_counts(st)) {
		snprintf(err, errlen, "dnssnoop: state file %s: out of memory", st->cfg.path);
		return -1;
	}
	return 0;
fail:
	fail(st, err, errlen, "cannot fold the session into it (left as before)");
	sqlite3_finalize(log);
	finalize_all(&f);
	exec(st, "ROLLBACK");
	return -1;
}

/* ---- loading ------------------------------------------------------------ */

static void row_client(sqlite3_stmt *s, int col, struct detect_client *c)
{
	const void *addr;

	memset(c, 0, sizeof(*c));
	snprintf(c->host, sizeof(c->host), "%s", (const char *)sqlite3_column_text(s, col));
	c->process = sqlite3_column_int(s, col + 1);
	snprintf(c->comm, sizeof(c->comm), "%s", (const char *)sqlite3_column_text(s, col + 2));
	c->uid = (uint32_t)sqlite3_column_int64(s, col + 3);
	snprintf(c->cgroup, sizeof(c->cgroup), "%s",
		 (const char *)sqlite3_column_text(s, col + 4));
	c->family = (uint8_t)sqlite3_column_int(s, col + 5);
	addr = sqlite3_column_blob(s, col + 6);
	if (addr && sqlite3_column_bytes(s, col + 6) == 16)
		memcpy(c->addr, addr, 16);
	c->pid = (uint32_t)sqlite3_column_int64(s, col + 7);
}

#define CLIENT_COLS "c.host, c.process, c.comm, c.uid, c.cgroup, c.family, c.addr, c.pid"

/* Hours of the day columns h0..h23 of a row from column col on. */
static void row_hours(sqlite3_stmt *s, int col, uint64_t *hours)
{
	for (int h = 0; h < HOURS; h++)
		hours[h] = (uint64_t)sqlite3_column_int64(s, col + h);
}

static void hours_cols(char *buf, size_t len, const char *prefix)
{
	size_t n = 0;

	buf[0] = 0;
	for (int h = 0; h < HOURS; h++)
		n += (size_t)snprintf(buf + n, len - n, "%s%sh%d", h ? ", " : "", prefix, h);
}

/* One pair's days (from from_day on) into its history record. */
static int load_pair_days(sqlite3_stmt *days, int64_t cid, int64_t tid, int64_t from_day,
			  uint64_t *week, uint64_t *lookups, uint64_t *first_hour_ns)
{
	uint64_t hours[HOURS];
	int rc;

	memset(week, 0, DETSTAT_WEEK_BINS * sizeof(*week));
	*lookups = 0;
	*first_hour_ns = UINT64_MAX;
	sqlite3_bind_int64(days, 1, cid);
	sqlite3_bind_int64(days, 2, tid);
	sqlite3_bind_int64(days, 3, from_day);
	while ((rc = sqlite3_step(days)) == SQLITE_ROW) {
		uint64_t day = (uint64_t)sqlite3_column_int64(days, 0);

		row_hours(days, 1, hours);
		for (int h = 0; h < HOURS; h++) {
			uint64_t at = day * STATE_DAY_NS + (uint64_t)h * NS_PER_HOUR;

			if (!hours[h])
				continue;
			week[detstat_utc_hour_of_week(at)] += hours[h];
			*lookups += hours[h];
			if (at < *first_hour_ns)
				*first_hour_ns = at;
		}
	}
	sqlite3_reset(days);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int load_pairs(struct state *st, struct detect *d, int64_t from_day, long *loaded)
{
	char hcols[256], sql[1024];
	sqlite3_stmt *list = NULL, *days = NULL;
	uint64_t week[DETSTAT_WEEK_BINS], ts[DETSTAT_TS_MAX];
	uint64_t from_ns = (uint64_t)from_day * STATE_DAY_NS;
	int rc = -1, step_rc;

	hours_cols(hcols, sizeof(hcols), "");
	snprintf(sql, sizeof(sql),
		 "SELECT day, %s FROM daily WHERE client_id = ?1 AND target_id = ?2 AND day >= ?3",
		 hcols);
	days = prepare(st, sql);
	/*
	 * Heaviest pairs first: past --max-entries (and past the detectors'
	 * time records) the lightest are the ones left out. The pairs' sums
	 * come from one pass over daily in its key order (GROUP BY on the
	 * primary key: no sort), not a correlated sum per pair, which SQLite
	 * evaluated twice (the WHERE and the result column); ties in
	 * (target, client) order, as the scan of pairs_target gave them.
	 */
	list = prepare(st, "WITH n AS (SELECT client_id, target_id, sum(lookups) AS n "
			   "FROM daily WHERE day >= ?1 GROUP BY client_id, target_id) "
			   "SELECT p.client_id, p.target_id, t.kind, t.text, p.first_ns, "
			   "p.last_ns, p.names, p.ts, " CLIENT_COLS ", n.n "
			   "FROM n JOIN pairs p ON p.client_id = n.client_id AND "
			   "p.target_id = n.target_id JOIN targets t ON t.id = p.target_id "
			   "JOIN clients c ON c.id = p.client_id WHERE n.n > 0 "
			   "ORDER BY n.n DESC, p.target_id, p.client_id");
	if (!days || !list)
		goto out;
	sqlite3_bind_int64(list, 1, from_day);
	while ((step_rc = sqlite3_step(list)) == SQLITE_ROW) {
		struct detect_client c;
		struct detect_history_pair h = {.client = &c, .week = week, .ts = ts};
		const uint8_t *blob = sqlite3_column_blob(list, 7);
		size_t nblob = (size_t)sqlite3_column_bytes(list, 7) / 8;
		uint64_t first_hour;

		row_client(list, 8, &c);
		h.kind = (enum detect_target_kind)sqlite3_column_int(list, 2);
		h.text = (const char *)sqlite3_column_text(list, 3);
		h.first_ns = (uint64_t)sqlite3_column_int64(list, 4);
		h.last_ns = (uint64_t)sqlite3_column_int64(list, 5);
		h.names = (uint64_t)sqlite3_column_int64(list, 6);
		if (load_pair_days(days, sqlite3_column_int64(list, 0),
				   sqlite3_column_int64(list, 1), from_day, week, &h.lookups,
				   &first_hour))
			goto out;
		if (!h.lookups)
			continue;
		/* Days cut off by --since or --retain: the pair starts in the first day kept. */
		if (h.first_ns < from_ns || h.first_ns < first_hour)
			h.first_ns = first_hour > h.first_ns ? first_hour : h.first_ns;
		if (h.last_ns < h.first_ns)
			h.last_ns = h.first_ns;
		for (size_t k = nblob > DETSTAT_TS_MAX ? nblob - DETSTAT_TS_MAX : 0;
		     blob && k < nblob; k++) {
			uint64_t v = 0;

			for (int b = 7; b >= 0; b--)
				v = v << 8 | blob[k * 8 + (size_t)b];
			if (v >= h.first_ns)
				ts[h.nts++] = v;
		}
		if (h.names > h.lookups)
			h.names = h.lookups;
		if (!detect_load_pair(d, &h))
			(*loaded)++;
	}
	rc = step_rc == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(days);
	sqlite3_finalize(list);
	return rc;
}

/* Each client's distinct clock hours with lookups (over its name targets). */
static int load_hours(struct state *st, struct detect *d, int64_t from_day)
{
	char hcols[512], sql[1536];
	sqlite3_stmt *s;
	int64_t cur_client = -1, cur_day = -1;
	uint32_t mask = 0;
	unsigned int hours = 0;
	struct detect_client c = {0};
	int rc;

	hours_cols(hcols, sizeof(hcols), "d.");
	snprintf(sql, sizeof(sql),
		 "SELECT d.client_id, d.day, %s, " CLIENT_COLS " FROM daily d "
		 "JOIN targets t ON t.id = d.target_id JOIN clients c ON c.id = d.client_id "
		 "WHERE t.kind = %d AND d.day >= ?1 ORDER BY d.client_id, d.day",
		 hcols, DETECT_T_NAME);
	s = prepare(st, sql);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, from_day);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t cid = sqlite3_column_int64(s, 0), day = sqlite3_column_int64(s, 1);
		uint64_t h24[HOURS];

		if (cid != cur_client || day != cur_day) {
			hours += (unsigned int)__builtin_popcount(mask);
			mask = 0;
			cur_day = day;
		}
		if (cid != cur_client) {
			if (cur_client >= 0)
				detect_load_client_hours(d, &c, hours);
			hours = 0;
			cur_client = cid;
			row_client(s, 2 + HOURS, &c);
		}
		row_hours(s, 2, h24);
		for (int h = 0; h < HOURS; h++)
			if (h24[h])
				mask |= 1u << h;
	}
	hours += (unsigned int)__builtin_popcount(mask);
	if (cur_client >= 0)
		detect_load_client_hours(d, &c, hours);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Targets' answers: the last NOERROR, NXDOMAIN since, the first addresses. */
static int load_answers(struct state *st, struct detect *d)
{
	sqlite3_stmt *s = prepare(st, "SELECT id, kind, text, last_ok_ns, nx_after FROM targets "
				      "WHERE kind != 2 AND (last_ok_ns > 0 OR nx_after > 0)");
	sqlite3_stmt *a = prepare(st, "SELECT family, addr FROM answers WHERE target_id = ?1 "
				      "ORDER BY first_ns, family, addr LIMIT 4");
	int rc = -1;

	if (!s || !a)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct obs_addr addrs[DETECT_TARGET_ADDRS];
		size_t n = 0;

		sqlite3_bind_int64(a, 1, sqlite3_column_int64(s, 0));
		while (sqlite3_step(a) == SQLITE_ROW && n < DETECT_TARGET_ADDRS) {
			int bytes = sqlite3_column_bytes(a, 1);

			memset(&addrs[n], 0, sizeof(addrs[n]));
			addrs[n].family = (uint8_t)sqlite3_column_int(a, 0);
			if (bytes > 16)
				continue;
			memcpy(addrs[n].addr, sqlite3_column_blob(a, 1), (size_t)bytes);
			n++;
		}
		sqlite3_reset(a);
		detect_load_answers(d, (enum detect_target_kind)sqlite3_column_int(s, 1),
				    (const char *)sqlite3_column_text(s, 2),
				    (uint64_t)sqlite3_column_int64(s, 3),
				    (uint64_t)sqlite3_column_int64(s, 4), addrs, n);
	}
	rc = rc == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(s);
	sqlite3_finalize(a);
	return rc;
}

/*
 * The stored targets known before now, for first_seen: every one for a
 * session (it is now); for a report, those first looked up before the
 * newest fold that added lookups (that fold is now).
 */
static int load_known(struct state *st, struct detect *d, enum state_now now)
{
	sqlite3_stmt *s = prepare(st, "SELECT kind, text, first_ns FROM targets WHERE first_ns < ?1");
	int64_t before = INT64_MAX;
	int rc;

	if (!s)
		return -1;
	if (now == STATE_NOW_NEWEST_FOLD)
		before = query_int(st, "SELECT coalesce((SELECT first_ns FROM folds WHERE lookups > 0 "
				       "ORDER BY id DESC LIMIT 1), 0)", 0);
	if (before < 0) {
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_bind_int64(s, 1, before);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (detect_load_known_target(d, (enum detect_target_kind)sqlite3_column_int(s, 0),
					     (const char *)sqlite3_column_text(s, 1),
					     (uint64_t)sqlite3_column_int64(s, 2)))
			break;
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

long state_load(struct state *st, struct detect *d, uint64_t since_ns, enum state_now now,
		char *err, size_t errlen)
{
	int64_t newest = query_int(st, "SELECT max(last_ns) FROM pairs", 0);
	int64_t oldest_day = query_int(st, "SELECT min(day) FROM daily", 0), from_day = oldest_day;
	long loaded = 0;

	if (newest < 0 || oldest_day < 0)
		return fail(st, err, errlen, "cannot read");
	if (since_ns && (uint64_t)newest > since_ns &&
	    (int64_t)(((uint64_t)newest - since_ns) / STATE_DAY_NS) > from_day)
		from_day = (int64_t)(((uint64_t)newest - since_ns) / STATE_DAY_NS);
	/* One read transaction: a fold committing meanwhile is not seen half. */
	if (exec(st, "BEGIN"))
		return fail(st, err, errlen, "cannot read");
	if (load_pairs(st, d, from_day, &loaded) || load_hours(st, d, from_day) ||
	    load_answers(st, d) || load_known(st, d, now)) {
		fail(st, err, errlen, "cannot load its history");
		exec(st, "ROLLBACK");
		return -1;
	}
	exec(st, "COMMIT");
	return loaded;
}
