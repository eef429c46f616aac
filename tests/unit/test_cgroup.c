// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests for user/capture/cgroup.c: mountinfo parsing, --cgroup paths, id -> path. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture/cgroup.h"

#define NSEC_PER_SEC 1000000000ULL

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/test_cgroup_mi.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static int find_in(const char *text, char *out, size_t outlen)
{
	char *path = write_temp(text);
	int ret = cgroup2_find_mount(path, out, outlen);

	unlink(path);
	free(path);
	return ret;
}

/* The hybrid layout of the lab machine: v1 controllers plus unified. */
static void test_find_mount_hybrid(void **state)
{
	char out[PATH_MAX];

	assert_int_equal(
		find_in("25 1 0:23 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
			"30 25 0:26 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
			"41 30 0:38 / /sys/fs/cgroup/unified rw,relatime shared:10 - cgroup2 "
			"cgroup2 rw\n"
			"42 30 0:39 / /sys/fs/cgroup/cpu rw shared:11 - cgroup cgroup rw,cpu\n",
			out, sizeof(out)),
		0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
}

/* The usual unified layout; the optional fields vary in number. */
static void test_find_mount_unified(void **state)
{
	char out[PATH_MAX];

	assert_int_equal(find_in("35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev shared:9 master:2 - "
				 "cgroup2 cgroup2 rw,nsdelegate\n",
				 out, sizeof(out)),
			 0);
	assert_string_equal(out, "/sys/fs/cgroup");
}

/* Mount points are octal-escaped: "\040" is a space. */
static void test_find_mount_escaped(void **state)
{
	char out[PATH_MAX];

	assert_int_equal(
		find_in("50 1 0:40 / /mnt/my\\040cgroups rw - cgroup2 none rw\n", out, sizeof(out)),
		0);
	assert_string_equal(out, "/mnt/my cgroups");
}

/* A bind mount of a subtree is used only when nothing better exists. */
static void test_find_mount_prefers_whole_tree(void **state)
{
	char out[PATH_MAX];

	assert_int_equal(find_in("60 1 0:40 /system.slice /srv/sub rw - cgroup2 cgroup2 rw\n"
				 "61 1 0:40 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
				 out, sizeof(out)),
			 0);
	assert_string_equal(out, "/sys/fs/cgroup");
	assert_int_equal(find_in("60 1 0:40 /system.slice /srv/sub rw - cgroup2 cgroup2 rw\n", out,
				 sizeof(out)),
			 0);
	assert_string_equal(out, "/srv/sub");
}

/* A "cgroup2" word elsewhere in the line is not the file system type. */
static void test_find_mount_none(void **state)
{
	char out[PATH_MAX] = "untouched";

	assert_int_equal(find_in("30 25 0:26 / /cgroup2 rw - tmpfs cgroup2 rw\n"
				 "garbage without separator\n"
				 "\n",
				 out, sizeof(out)),
			 -ENOENT);
	assert_string_equal(out, "untouched");
	assert_int_equal(cgroup2_find_mount("/nonexistent/mountinfo", out, sizeof(out)), -ENOENT);
}

static void test_find_mount_too_long(void **state)
{
	char out[8];

	assert_int_equal(find_in("41 30 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
				 out, sizeof(out)),
			 -ENAMETOOLONG);
}

static void expect_resolved(const char *root, const char *arg, const char *want)
{
	char out[PATH_MAX];

	assert_int_equal(cgroup2_resolve_path(root, arg, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_resolve_path(void **state)
{
	const char *root = "/sys/fs/cgroup/unified";

	expect_resolved(root, NULL, root);
	expect_resolved(root, "/", root);
	expect_resolved(root, "", root);
	expect_resolved(root, "/system.slice/nsd.service",
			"/sys/fs/cgroup/unified/system.slice/nsd.service");
	expect_resolved(root, "system.slice", "/sys/fs/cgroup/unified/system.slice");
	expect_resolved(root, "/sys/fs/cgroup/unified/user.slice/",
			"/sys/fs/cgroup/unified/user.slice");
	expect_resolved(root, "/sys/fs/cgroup/unified", root);
	/* A string prefix is not a path prefix. */
	expect_resolved(root, "/sys/fs/cgroup/unifiedX",
			"/sys/fs/cgroup/unified/sys/fs/cgroup/unifiedX");
	expect_resolved("/sys/fs/cgroup/", "/a", "/sys/fs/cgroup/a");
}

static void test_resolve_path_refuses(void **state)
{
	char out[PATH_MAX];
	char small[16];

	assert_int_equal(cgroup2_resolve_path("/cg", "/../etc", out, sizeof(out)), -EINVAL);
	assert_int_equal(cgroup2_resolve_path("/cg", "a/..", out, sizeof(out)), -EINVAL);
	assert_int_equal(cgroup2_resolve_path("/cg", "..", out, sizeof(out)), -EINVAL);
	/* Names that merely contain dots are fine. */
	expect_resolved("/cg", "/a..b/..c", "/cg/a..b/..c");
	assert_int_equal(cgroup2_resolve_path("/cg", "/a/very/long/path", small, sizeof(small)),
			 -ENAMETOOLONG);
}

/* ---- the id -> path map, on a plain directory tree ---- */

struct tree {
	char root[64];
};

static void make_dir(const struct tree *t, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s%s", t->root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static uint64_t ino_of(const struct tree *t, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", t->root, rel);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	strcpy(t->root, "/tmp/test_cgroup_tree.XXXXXX");
	if (!mkdtemp(t->root))
		return -1;
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static void test_names_walk(void **state)
{
	struct tree *t = *state;
	char err[256] = "";
	struct cgroup_names *cn;

	make_dir(t, "/system.slice");
	make_dir(t, "/system.slice/nsd.service");
	make_dir(t, "/user.slice");
	cn = cgroup_names_new(t->root, err, sizeof(err));
	assert_non_null(cn);
	assert_string_equal(cgroup_names_root(cn), t->root);
	assert_int_equal(cgroup_names_count(cn), 4);
	assert_int_equal(cgroup_names_walks(cn), 1);
	assert_string_equal(cgroup_names_lookup(cn, ino_of(t, "")), "/");
	assert_string_equal(cgroup_names_lookup(cn, ino_of(t, "/system.slice")), "/system.slice");
	assert_string_equal(cgroup_names_lookup(cn, ino_of(t, "/system.slice/nsd.service")),
			    "/system.slice/nsd.service");
	assert_string_equal(cgroup_names_lookup(cn, ino_of(t, "/user.slice")), "/user.slice");
	assert_null(cgroup_names_lookup(cn, 0));
	cgroup_names_free(cn);
}

/* A miss re-walks, but at most once per second. */
static void test_names_rewalk_rate_limited(void **state)
{
	struct tree *t = *state;
	char err[256] = "";
	struct cgroup_names *cn;
	char path[PATH_MAX];
	uint64_t t0, id;

	cn = cgroup_names_new(t->root, err, sizeof(err));
	assert_non_null(cn);
	t0 = mono_ns();
	make_dir(t, "/container");
	id = ino_of(t, "/container");

	assert_null(cgroup_names_lookup_at(cn, id, t0 + NSEC_PER_SEC / 2));
	assert_int_equal(cgroup_names_walks(cn), 1);
	assert_string_equal(cgroup_names_lookup_at(cn, id, t0 + 3 * NSEC_PER_SEC / 2),
			    "/container");
	assert_int_equal(cgroup_names_walks(cn), 2);

	/* Still unknown right after that walk: no second walk. */
	assert_null(cgroup_names_lookup_at(cn, id + 1000000, t0 + 2 * NSEC_PER_SEC));
	assert_int_equal(cgroup_names_walks(cn), 2);

	/* A removed cgroup goes away with the next walk. */
	snprintf(path, sizeof(path), "%s/container", t->root);
	assert_int_equal(rmdir(path), 0);
	assert_null(cgroup_names_lookup_at(cn, id + 1000000, t0 + 4 * NSEC_PER_SEC));
	assert_int_equal(cgroup_names_walks(cn), 3);
	assert_int_equal(cgroup_names_count(cn), 1);
	cgroup_names_free(cn);
}

/* More cgroups than the first table holds: it grows and keeps them all. */
static void test_names_many(void **state)
{
	struct tree *t = *state;
	char err[256] = "", rel[32], want[32];
	struct cgroup_names *cn;
	int n = 300;

	for (int i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "/c%d", i);
		make_dir(t, rel);
	}
	cn = cgroup_names_new(t->root, err, sizeof(err));
	assert_non_null(cn);
	assert_int_equal(cgroup_names_count(cn), n + 1);
	for (int i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "/c%d", i);
		snprintf(want, sizeof(want), "/c%d", i);
		assert_string_equal(cgroup_names_lookup(cn, ino_of(t, rel)), want);
	}
	cgroup_names_free(cn);
}

/* Opening for attach wants a real cgroup2 directory. */
static void test_open(void **state)
{
	struct tree *t = *state;
	char err[256] = "";
	char mnt[PATH_MAX];
	struct stat st;
	struct cgroup_names *cn = cgroup_names_new(t->root, err, sizeof(err));
	int fd;

	assert_non_null(cn);
	assert_int_equal(cgroup_names_open(cn, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is not a cgroup v2 directory"));
	assert_int_equal(cgroup_names_open(cn, "/../x", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"..\" is not allowed"));
	assert_int_equal(cgroup_names_open(cn, "/missing", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/missing: No such file or directory"));
	cgroup_names_free(cn);

	if (cgroup2_find_mount("/proc/self/mountinfo", mnt, sizeof(mnt)) != 0)
		skip();
	cn = cgroup_names_new(mnt, err, sizeof(err));
	assert_non_null(cn);
	fd = cgroup_names_open(cn, "/", err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(stat(mnt, &st), 0);
	assert_string_equal(cgroup_names_lookup(cn, st.st_ino), "/");
	cgroup_names_free(cn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_mount_hybrid),
		cmocka_unit_test(test_find_mount_unified),
		cmocka_unit_test(test_find_mount_escaped),
		cmocka_unit_test(test_find_mount_prefers_whole_tree),
		cmocka_unit_test(test_find_mount_none),
		cmocka_unit_test(test_find_mount_too_long),
		cmocka_unit_test(test_resolve_path),
		cmocka_unit_test(test_resolve_path_refuses),
		cmocka_unit_test_setup_teardown(test_names_walk, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_names_rewalk_rate_limited, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(test_names_many, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_open, tree_setup, tree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
