// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The state file (analysis/state.c, docs/state.md) on a real SQLite file:
 * the exact rows one fold of hand-made lookups writes, a second fold
 * adding to them, --retain pruning old days, history loaded back into a
 * detector, and the files refused (not SQLite, another program's, a newer
 * schema) and left as they were.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/detect.h"
#include "analysis/state.h"
#include "lib/units.h"

#define DAY  (86400ULL * NS_PER_SEC)
#define D0   20454ULL /* 2026-01-01, a Thursday */
#define T(day, hour, sec) ((D0 + (day)) * DAY + (hour) * NS_PER_HOUR + (sec) * NS_PER_SEC)

struct tmpdir {
	char dir[64];
	char path[96];
};

static void make_dir(struct tmpdir *t)
{
	strcpy(t->dir, "/tmp/dnssnoop_state_XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/state.db", t->dir);
}

static void remove_dir(struct tmpdir *t)
{
	char p[128];
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};

	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", t->path, sfx[i]);
		unlink(p);
	}
	rmdir(t->dir);
}

/* A query of name from client 10.0.0.<c> to 192.0.2.53, or its response. */
static void feed(struct detect *d, int c, const char *name, uint64_t ts, uint16_t id)
{
	struct dns_obs o = {
		.kind = OBS_QUERY, .ts_ns = ts, .family = AF_INET, .proto = IPPROTO_UDP,
		.qname = name, .qname_len = strlen(name), .id = id, .qtype = 1,
	};

	o.client_addr[0] = 10, o.client_addr[3] = (uint8_t)c;
	o.server_addr[0] = 192, o.server_addr[2] = 2, o.server_addr[3] = 53;
	detect_add(d, &o);
}

static void answer(struct detect *d, int c, const char *name, uint64_t ts, int rcode,
		   const char *addr)
{
	struct dns_obs o = {
		.kind = OBS_RESPONSE, .ts_ns = ts + 1000, .family = AF_INET, .rcode = rcode,
		.qname = name, .qname_len = strlen(name), .has_latency = true, .latency_ns = 1000,
	};

	o.client_addr[0] = 10, o.client_addr[3] = (uint8_t)c;
	if (addr) {
		o.naddrs = 1;
		o.addrs[0].family = AF_INET;
		inet_pton(AF_INET, addr, o.addrs[0].addr);
	}
	detect_add(d, &o);
}

static struct detect *new_detect(void)
{
	struct detect_config cfg;

	detect_config_default(&cfg);
	return detect_new(&cfg);
}

static struct state *open_state(const char *path, uint64_t retain)
{
	struct state_config cfg = {.path = path, .retain_days = retain, .host = "h"};
	char err[512] = "";
	struct state *st = state_open(&cfg, err, sizeof(err));

	if (!st)
		fail_msg("state_open: %s", err);
	return st;
}

/* One fold of what fn feeds, in a fresh detector. */
static void fold_session(const char *path, uint64_t retain, void (*fn)(struct detect *))
{
	struct detect *d = new_detect();
	struct state *st = open_state(path, retain);
	char err[512] = "";

	assert_true(state_load(st, d, 0, STATE_NOW_SESSION, err, sizeof(err)) >= 0);
	state_attach(st, d);
	fn(d);
	if (state_fold(st, err, sizeof(err)))
		fail_msg("state_fold: %s", err);
	assert_int_equal(state_pending(st), 0);
	state_close(st);
	detect_free(d);
}

/* An integer from sql on the file (opened anew, as another reader would). */
static int64_t q(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_type(s, 0) == SQLITE_NULL ? -2 : sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

#define PAIR_WHERE(client, kind, text)                                                        \
	" FROM daily d JOIN clients c ON c.id = d.client_id JOIN targets t ON t.id = d.target_id" \
	" WHERE c.label = '" client "' AND t.kind = " #kind " AND t.text = '" text "'"

/*
 * Day 0: client 1 looks up a.example.com 3 times (09:00:00, 09:00:10, a
 * resend of the second's id within 1 s that is not counted, and 14:00),
 * b.example.com once; client 2 a.example.com once at 09:30.
 * Day 1: client 1 a.example.com once at 23:00. a.example.com answered
 * NOERROR 203.0.113.7, then NXDOMAIN once.
 */
static void session_one(struct detect *d)
{
	feed(d, 1, "a.example.com", T(0, 9, 0), 1);
	answer(d, 1, "a.example.com", T(0, 9, 0), 0, "203.0.113.7");
	feed(d, 1, "A.example.com.", T(0, 9, 10), 2);
	feed(d, 1, "a.example.com", T(0, 9, 10) + 500 * NS_PER_MSEC, 2); /* resend */
	feed(d, 2, "a.example.com", T(0, 9, 1800), 3);
	feed(d, 1, "a.example.com", T(0, 14, 0), 4);
	feed(d, 1, "b.example.com", T(0, 14, 5), 5);
	feed(d, 1, "a.example.com", T(1, 23, 0), 6);
	answer(d, 1, "a.example.com", T(1, 23, 0), 3, NULL);
}

static void test_fold_exact_rows(void **unused)
{
	struct tmpdir t;
	struct stat sb;

	make_dir(&t);
	fold_session(t.path, 0, session_one);
	assert_int_equal(stat(t.path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(q(t.path, "PRAGMA user_version"), STATE_SCHEMA_VERSION);
	assert_int_equal(q(t.path, "PRAGMA application_id"), STATE_APPLICATION_ID);
	assert_int_equal(q(t.path, "SELECT count(*) FROM clients"), 2);
	/* names a.example.com, b.example.com; domain example.com; peer 192.0.2.53 */
	assert_int_equal(q(t.path, "SELECT count(*) FROM targets"), 4);
	assert_int_equal(q(t.path, "SELECT lookups" PAIR_WHERE("10.0.0.1", 0, "a.example.com")
				   " AND d.day = 20454"),
			 3);
	assert_int_equal(q(t.path, "SELECT h9" PAIR_WHERE("10.0.0.1", 0, "a.example.com")
				   " AND d.day = 20454"),
			 2);
	assert_int_equal(q(t.path, "SELECT h14" PAIR_WHERE("10.0.0.1", 0, "a.example.com")
				   " AND d.day = 20454"),
			 1);
	assert_int_equal(q(t.path, "SELECT h23" PAIR_WHERE("10.0.0.1", 0, "a.example.com")
				   " AND d.day = 20455"),
			 1);
	assert_int_equal(q(t.path, "SELECT sum(lookups)" PAIR_WHERE("10.0.0.1", 1, "example.com")), 5);
	assert_int_equal(q(t.path, "SELECT sum(lookups)" PAIR_WHERE("10.0.0.2", 2, "192.0.2.53")), 1);
	assert_int_equal(q(t.path, "SELECT count(*) FROM daily"), 2 + 1 + 2 + 1 + 2 + 1 + 1);
	/* distinct names of client 1 under example.com: a and b */
	assert_int_equal(q(t.path, "SELECT p.names FROM pairs p JOIN clients c ON c.id = p.client_id "
				   "JOIN targets t ON t.id = p.target_id WHERE c.label = '10.0.0.1' "
				   "AND t.kind = 1"),
			 2);
	assert_int_equal(q(t.path, "SELECT length(p.ts) FROM pairs p JOIN clients c ON c.id = "
				   "p.client_id JOIN targets t ON t.id = p.target_id WHERE c.label = "
				   "'10.0.0.1' AND t.text = 'a.example.com'"),
			 4 * 8);
	assert_int_equal(q(t.path, "SELECT first_ns FROM targets WHERE text = 'a.example.com'"),
			 (int64_t)T(0, 9, 0));
	assert_int_equal(q(t.path, "SELECT last_ns FROM targets WHERE text = 'a.example.com'"),
			 (int64_t)T(1, 23, 0));
	assert_int_equal(q(t.path, "SELECT last_ok_ns FROM targets WHERE text = 'a.example.com'"),
			 (int64_t)T(0, 9, 0));
	assert_int_equal(q(t.path, "SELECT nx_after FROM targets WHERE text = 'a.example.com'"), 1);
	assert_int_equal(q(t.path, "SELECT noerror FROM target_daily td JOIN targets t ON t.id = "
				   "td.target_id WHERE t.text = 'a.example.com' AND td.day = 20454"),
			 1);
	assert_int_equal(q(t.path, "SELECT nxdomain FROM target_daily td JOIN targets t ON t.id = "
				   "td.target_id WHERE t.text = 'a.example.com' AND td.day = 20455"),
			 1);
	assert_int_equal(q(t.path, "SELECT count(*) FROM answers a JOIN targets t ON t.id = "
				   "a.target_id WHERE t.text IN ('a.example.com', 'example.com') AND "
				   "a.addr = x'cb007107'"),
			 2);
	assert_int_equal(q(t.path, "SELECT lookups FROM folds"), 6);
	remove_dir(&t);
}

/* Day 1 again: client 1 a.example.com at 23:30 (same day row), then NOERROR. */
static void session_two(struct detect *d)
{
	feed(d, 1, "a.example.com", T(1, 23, 1800), 7);
	answer(d, 1, "a.example.com", T(1, 23, 1800), 0, "203.0.113.8");
	feed(d, 3, "c.example.org", T(2, 1, 0), 8);
}

static void test_second_fold_adds(void **unused)
{
	struct tmpdir t;

	make_dir(&t);
	fold_session(t.path, 0, session_one);
	fold_session(t.path, 0, session_two);
	assert_int_equal(q(t.path, "SELECT count(*) FROM clients"), 3);
	assert_int_equal(q(t.path, "SELECT lookups" PAIR_WHERE("10.0.0.1", 0, "a.example.com")
				   " AND d.day = 20455"),
			 2);
	assert_int_equal(q(t.path, "SELECT h23" PAIR_WHERE("10.0.0.1", 0, "a.example.com")
				   " AND d.day = 20455"),
			 2);
	assert_int_equal(q(t.path, "SELECT sum(lookups)" PAIR_WHERE("10.0.0.1", 1, "example.com")), 6);
	/* a.example.com was not new to client 1: no new distinct name */
	assert_int_equal(q(t.path, "SELECT p.names FROM pairs p JOIN clients c ON c.id = p.client_id "
				   "JOIN targets t ON t.id = p.target_id WHERE c.label = '10.0.0.1' "
				   "AND t.kind = 1"),
			 2);
	assert_int_equal(q(t.path, "SELECT length(p.ts) / 8 FROM pairs p JOIN clients c ON c.id = "
				   "p.client_id JOIN targets t ON t.id = p.target_id WHERE c.label = "
				   "'10.0.0.1' AND t.text = 'a.example.com'"),
			 5);
	assert_int_equal(q(t.path, "SELECT last_ok_ns FROM targets WHERE text = 'a.example.com'"),
			 (int64_t)T(1, 23, 1800));
	assert_int_equal(q(t.path, "SELECT nx_after FROM targets WHERE text = 'a.example.com'"), 0);
	assert_int_equal(q(t.path, "SELECT count(*) FROM answers a JOIN targets t ON t.id = "
				   "a.target_id WHERE t.text = 'a.example.com'"),
			 2);
	assert_int_equal(q(t.path, "SELECT count(*) FROM folds"), 2);
	remove_dir(&t);
}

/* 100 days after day 0: with --retain 90, days 0 to 10 go, and what only they held. */
static void session_late(struct detect *d)
{
	feed(d, 3, "c.example.org", T(100, 12, 0), 9);
}

static void test_retain_prunes(void **unused)
{
	struct tmpdir t;

	make_dir(&t);
	fold_session(t.path, 90, session_one);
	fold_session(t.path, 90, session_two);
	fold_session(t.path, 90, session_late);
	assert_int_equal(q(t.path, "SELECT min(day) FROM daily"), (int64_t)D0 + 100);
	assert_int_equal(q(t.path, "SELECT count(*) FROM clients"), 1);
	assert_int_equal(q(t.path, "SELECT count(*) FROM targets WHERE text LIKE '%example.com'"), 0);
	assert_int_equal(q(t.path, "SELECT count(*) FROM answers"), 0);
	assert_int_equal(q(t.path, "SELECT count(*) FROM target_daily"), 0);
	assert_int_equal(q(t.path, "SELECT pruned_before_day FROM folds ORDER BY id DESC LIMIT 1"),
			 (int64_t)D0 + 11);
	assert_int_equal(q(t.path, "SELECT sum(lookups) FROM daily d JOIN targets t ON t.id = "
				   "d.target_id WHERE t.text = 'c.example.org'"),
			 1);
	remove_dir(&t);
}

static void count_findings(void *ctx, const struct detect_finding *f)
{
	(*(int *)ctx)++;
}

/* What is loaded back is what was counted: a session over the history sees it. */
static void many_lookups(struct detect *d)
{
	/* client 1 looks up x.example.net 20 times over 20 days; clients 2-6 a name each day */
	for (int day = 0; day < 20; day++) {
		feed(d, 1, "x.example.net", T(day, 10, 0), (uint16_t)(100 + day));
		for (int c = 2; c <= 6; c++)
			feed(d, c, "common.example.org", T(day, 10 + c, 0), (uint16_t)(200 + c));
	}
}

static void test_history_loads(void **unused)
{
	struct tmpdir t;
	struct detect *d = new_detect();
	struct state_config cfg;
	struct state *st;
	char err[512];
	int n = 0;

	make_dir(&t);
	fold_session(t.path, 0, many_lookups);
	cfg = (struct state_config){.path = t.path, .read_only = true};
	st = state_open(&cfg, err, sizeof(err));
	assert_non_null(st);
	/* 20 name, domain and peer pairs for client 1 and 5 x 3 for the others */
	assert_int_equal(state_load(st, d, 0, STATE_NOW_SESSION, err, sizeof(err)), 3 + 15);
	assert_true(detect_findings(d, count_findings, &n) >= 0);
	/* x.example.net: 20 lookups, all of client 1, 5 clients around: exclusive */
	assert_true(n >= 1);
	state_close(st);
	detect_free(d);
	/* --since 5 days: 5 or 6 of the 20 days */
	d = new_detect();
	st = state_open(&cfg, err, sizeof(err));
	n = 0;
	assert_int_equal(state_load(st, d, 5 * DAY, STATE_NOW_SESSION, err, sizeof(err)), 18);
	assert_true(detect_findings(d, count_findings, &n) >= 0);
	assert_int_equal(n, 0); /* 6 lookups: below --min-lookups */
	state_close(st);
	detect_free(d);
	remove_dir(&t);
}

static void expect_refused(const char *path, const char *words)
{
	struct state_config cfg = {.path = path};
	char err[512] = "";
	struct state *st = state_open(&cfg, err, sizeof(err));

	assert_null(st);
	if (!strstr(err, path) || !strstr(err, words))
		fail_msg("message '%s' lacks the path or '%s'", err, words);
}

static void test_foreign_file_refused(void **unused)
{
	struct tmpdir t;
	char buf[64] = "";
	int fd;

	make_dir(&t);
	fd = open(t.path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a database, keep me\n", 24), 24);
	close(fd);
	expect_refused(t.path, "not an SQLite database");
	fd = open(t.path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 24);
	close(fd);
	assert_string_equal(buf, "not a database, keep me\n");
	remove_dir(&t);
}

static void test_other_program_refused(void **unused)
{
	struct tmpdir t;
	sqlite3 *db;

	make_dir(&t);
	assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE notes(x); INSERT INTO notes VALUES(1)", NULL,
				      NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	expect_refused(t.path, "another program");
	assert_int_equal(q(t.path, "SELECT x FROM notes"), 1);
	remove_dir(&t);
}

static void test_newer_schema_refused(void **unused)
{
	struct tmpdir t;
	sqlite3 *db;

	make_dir(&t);
	fold_session(t.path, 0, session_one);
	assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	expect_refused(t.path, "newer");
	assert_int_equal(q(t.path, "PRAGMA user_version"), 2);
	assert_int_equal(q(t.path, "SELECT count(*) FROM clients"), 2);
	remove_dir(&t);
}

static void test_symlink_refused(void **unused)
{
	struct tmpdir t;
	char target[128];

	make_dir(&t);
	snprintf(target, sizeof(target), "%s/elsewhere", t.dir);
	assert_int_equal(symlink(target, t.path), 0);
	expect_refused(t.path, "symbolic link");
	assert_int_equal(access(target, F_OK), -1);
	unlink(t.path);
	remove_dir(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold_exact_rows),
		cmocka_unit_test(test_second_fold_adds),
		cmocka_unit_test(test_retain_prunes),
		cmocka_unit_test(test_history_loads),
		cmocka_unit_test(test_foreign_file_refused),
		cmocka_unit_test(test_other_program_refused),
		cmocka_unit_test(test_newer_schema_refused),
		cmocka_unit_test(test_symlink_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
