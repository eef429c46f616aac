// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for the --clickhouse sink's spool (user/report/clickhouse_spool.c):
 * order, the sent and ambiguous states across sessions, a torn last batch,
 * files of a running session left alone, the bound, and the directory checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/clickhouse_spool.h"

struct dir {
	char path[64];
};

static int make_dir(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	snprintf(d->path, sizeof(d->path), "/tmp/dnssnoop-spool-test-XXXXXX");
	assert_non_null(mkdtemp(d->path));
	*state = d;
	return 0;
}

static int remove_dir(void **state)
{
	struct dir *d = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", d->path);
	assert_int_equal(system(cmd), 0);
	free(d);
	return 0;
}

static struct ch_spool *open_spool(const char *dir, uint64_t max)
{
	char err[256] = "";
	struct ch_spool *sp = ch_spool_open(dir, max, err, sizeof(err));

	if (!sp)
		fail_msg("ch_spool_open: %s", err);
	return sp;
}

static void append(struct ch_spool *sp, uint64_t id, const char *body, bool ambiguous)
{
	struct ch_spooled b = {
		.id = id,
		.table = (uint8_t)(id & 1),
		.format = (uint8_t)(id >> 1 & 1), /* both formats among ids 1, 2, 3 */
		.ambiguous = ambiguous,
		.rows = (uint32_t)id,
		.body = (char *)body,
		.len = strlen(body),
	};

	assert_int_equal(ch_spool_append(sp, &b), 0);
}

/* The head is id with body; it is then marked sent (or not). */
static void expect_head(struct ch_spool *sp, uint64_t id, const char *body, bool ambiguous)
{
	struct ch_spooled b = {0};

	assert_int_equal(ch_spool_head(sp, &b), 1);
	assert_int_equal(b.id, id);
	assert_int_equal(b.table, id & 1);
	assert_int_equal(b.format, id >> 1 & 1);
	assert_int_equal(b.rows, id);
	assert_int_equal(b.ambiguous, ambiguous);
	assert_int_equal(b.len, strlen(body));
	assert_memory_equal(b.body, body, b.len);
	free(b.body);
}

static int files_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_order_and_sent(void **state)
{
	struct dir *d = *state;
	struct ch_spool *sp = open_spool(d->path, 0);
	struct ch_spooled none = {0};
	uint64_t rows;

	assert_int_equal(ch_spool_head(sp, &none), 0);
	append(sp, 1, "{\"a\":1}\n", false);
	append(sp, 2, "{\"a\":2}\n{\"a\":3}\n", false);
	assert_int_equal(ch_spool_pending(sp, &rows), 2);
	assert_int_equal(rows, 3);
	expect_head(sp, 1, "{\"a\":1}\n", false);
	expect_head(sp, 1, "{\"a\":1}\n", false); /* the head stays until sent */
	assert_int_equal(ch_spool_head_sent(sp), 0);
	expect_head(sp, 2, "{\"a\":2}\n{\"a\":3}\n", false);
	assert_int_equal(ch_spool_head_sent(sp), 0);
	assert_int_equal(ch_spool_pending(sp, &rows), 0);
	assert_int_equal(ch_spool_head(sp, &none), 0);
	/* All sent: the file is empty again, and appends start over. */
	append(sp, 3, "{\"b\":1}\n", false);
	expect_head(sp, 3, "{\"b\":1}\n", false);
	ch_spool_close(sp);
	assert_int_equal(files_in(d->path), 1); /* still one batch: the file stays */
}

/* A later session takes over what an earlier one left, states included, before its own. */
static void test_next_session_takes_over(void **state)
{
	struct dir *d = *state;
	struct ch_spool *sp = open_spool(d->path, 0);

	append(sp, 1, "one\n", false);
	append(sp, 2, "two\n", false);
	append(sp, 3, "three\n", false);
	expect_head(sp, 1, "one\n", false);
	assert_int_equal(ch_spool_head_sent(sp), 0);
	assert_int_equal(ch_spool_head_ambiguous(sp), 0); /* batch 2 went out, no answer */
	ch_spool_close(sp);

	sp = open_spool(d->path, 0);
	append(sp, 5, "five\n", false);
	assert_int_equal(ch_spool_pending(sp, NULL), 3);
	expect_head(sp, 2, "two\n", true);
	assert_int_equal(ch_spool_head_sent(sp), 0);
	expect_head(sp, 3, "three\n", false);
	assert_int_equal(ch_spool_head_sent(sp), 0);
	expect_head(sp, 5, "five\n", false);
	assert_int_equal(ch_spool_head_sent(sp), 0);
	ch_spool_close(sp);

	/* Everything sent: the next open removes the files. */
	sp = open_spool(d->path, 0);
	assert_int_equal(ch_spool_pending(sp, NULL), 0);
	ch_spool_close(sp);
	assert_int_equal(files_in(d->path), 0);
}

/* A running session's file is not taken (it would be sent twice). */
static void test_running_session_left_alone(void **state)
{
	struct dir *d = *state;
	struct ch_spool *a = open_spool(d->path, 0), *b;

	append(a, 1, "mine\n", false);
	b = open_spool(d->path, 0);
	assert_int_equal(ch_spool_pending(b, NULL), 0);
	ch_spool_close(b);
	ch_spool_close(a);
}

/* A crash while appending leaves a torn batch at the end: the whole ones are kept. */
static void test_torn_batch_ignored(void **state)
{
	struct dir *d = *state;
	struct ch_spool *sp = open_spool(d->path, 0);
	struct dirent *e;
	char path[400] = "";
	DIR *dir;
	int fd;

	append(sp, 1, "whole\n", false);
	append(sp, 3, "torn batch\n", false);
	ch_spool_close(sp);
	dir = opendir(d->path);
	while ((e = readdir(dir)))
		if (e->d_name[0] != '.')
			snprintf(path, sizeof(path), "%s/%s", d->path, e->d_name);
	closedir(dir);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, lseek(fd, 0, SEEK_END) - 4), 0);
	close(fd);

	sp = open_spool(d->path, 0);
	assert_int_equal(ch_spool_pending(sp, NULL), 1);
	expect_head(sp, 1, "whole\n", false);
	assert_int_equal(ch_spool_head_sent(sp), 0);
	ch_spool_close(sp);
}

/* The bound covers every file of the directory; past it, -ENOSPC and nothing written. */
static void test_bound(void **state)
{
	struct dir *d = *state;
	char body[1000];
	struct ch_spool *sp = open_spool(d->path, 3000);
	struct ch_spooled b = {.id = 7, .rows = 1, .body = body, .len = sizeof(body)};

	memset(body, 'x', sizeof(body));
	assert_int_equal(ch_spool_append(sp, &b), 0);
	assert_int_equal(ch_spool_append(sp, &b), 0);
	assert_int_equal(ch_spool_append(sp, &b), -ENOSPC); /* 3 x (1000 + header) > 3000 */
	assert_int_equal(ch_spool_pending(sp, NULL), 2);
	ch_spool_close(sp);
	sp = open_spool(d->path, 3000); /* the earlier session's 2 count against it */
	assert_int_equal(ch_spool_append(sp, &b), -ENOSPC);
	for (int i = 0; i < 2; i++)
		assert_int_equal(ch_spool_head_sent(sp), 0);
	assert_int_equal(ch_spool_append(sp, &b), 0); /* sent: room again */
	ch_spool_close(sp);
}

/* A directory others may write, or a symbolic link, is refused. */
static void test_unsafe_directory(void **state)
{
	struct dir *d = *state;
	char sub[128], link[128], err[256] = "";

	snprintf(sub, sizeof(sub), "%s/open", d->path);
	snprintf(link, sizeof(link), "%s/link", d->path);
	assert_int_equal(mkdir(sub, 0777), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	assert_null(ch_spool_open(sub, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "others may write"));
	assert_int_equal(symlink(sub, link), 0);
	assert_null(ch_spool_open(link, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "not a directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_and_sent, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_next_session_takes_over, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_running_session_left_alone, make_dir,
						remove_dir),
		cmocka_unit_test_setup_teardown(test_torn_batch_ignored, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_bound, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_unsafe_directory, make_dir, remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
