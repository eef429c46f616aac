// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/capture/cgroup_ident.c and the identity cache of
 * cgroup.c: real cgroup paths of systemd, docker, containerd, cri-o,
 * podman (root and rootless, both cgroup managers) and Kubernetes (systemd
 * and cgroupfs drivers) turned into unit, container and pod; the names
 * read from podman's, docker's and the kubelet's state files in a temp
 * directory; identities kept per cgroup across re-walks of the tree.
 */
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
#include <unistd.h>

#include <cmocka.h>

#include "capture/cgroup.h"
#include "capture/cgroup_ident.h"

#define ID_A "3f2a9c1b7e4d5a6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7"
#define ID_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID  "6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d"
#define UID_ "6a7b8c9d_0e1f_4a2b_9c3d_4e5f6a7b8c9d"

struct ident_case {
	const char *path;
	const char *unit; /* NULL: none */
	const char *runtime; /* NULL: not a container */
	const char *id;
	const char *pod_uid; /* NULL: not a pod */
};

static const struct ident_case cases[] = {
	/* systemd */
	{"/", NULL, NULL, NULL, NULL},
	{"/init.scope", "init.scope", NULL, NULL, NULL},
	{"/system.slice/nginx.service", "nginx.service", NULL, NULL, NULL},
	{"/system.slice/system-getty.slice/getty@tty1.service", "getty@tty1.service", NULL, NULL,
	 NULL},
	{"/system.slice/systemd-fsck@dev-disk-by\\x2duuid-0a1b.service",
	 "systemd-fsck@dev-disk-by\\x2duuid-0a1b.service", NULL, NULL, NULL},
	{"/user.slice/user-1000.slice/session-3.scope", "session-3.scope", NULL, NULL, NULL},
	{"/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service", "foo.service", NULL,
	 NULL, NULL},
	{"/user.slice/user-1000.slice/user@1000.service/init.scope", "init.scope", NULL, NULL,
	 NULL},
	{"/user.slice/user-1000.slice", NULL, NULL, NULL, NULL},
	{"/system.slice/docker.service", "docker.service", NULL, NULL, NULL},
	{"/system.slice/containerd.service", "containerd.service", NULL, NULL, NULL},
	/* docker: systemd and cgroupfs drivers */
	{"/system.slice/docker-" ID_A ".scope", "docker-" ID_A ".scope", "docker", ID_A, NULL},
	{"/docker/" ID_A, NULL, "docker", ID_A, NULL},
	{"/docker/3f2a9c1b7e4d", NULL, NULL, NULL, NULL}, /* a short id is no cgroup name */
	{"/system.slice/docker-" ID_A "0.scope", "docker-" ID_A "0.scope", NULL, NULL, NULL},
	{"/docker/3F2A9C1B7E4D5A6F8091A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F7", NULL, NULL,
	 NULL, NULL},
	/* podman: systemd manager (root, rootless), cgroupfs manager, conmon */
	{"/machine.slice/libpod-" ID_A ".scope", "libpod-" ID_A ".scope", "podman", ID_A, NULL},
	{"/machine.slice/libpod-" ID_A ".scope/container", "libpod-" ID_A ".scope", "podman", ID_A,
	 NULL},
	{"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID_A ".scope/container",
	 "libpod-" ID_A ".scope", "podman", ID_A, NULL},
	{"/libpod_parent/libpod-" ID_A, NULL, "podman", ID_A, NULL},
	{"/machine.slice/libpod-conmon-" ID_A ".scope", "libpod-conmon-" ID_A ".scope", NULL, NULL,
	 NULL},
	/* Kubernetes, systemd driver: containerd, cri-o, docker; QoS classes */
	{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	 ".slice/cri-containerd-" ID_B ".scope",
	 "cri-containerd-" ID_B ".scope", "containerd", ID_B, UID},
	{"/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID_B ".scope",
	 "cri-containerd-" ID_B ".scope", "containerd", ID_B, UID},
	{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	 ".slice/crio-" ID_B ".scope",
	 "crio-" ID_B ".scope", "crio", ID_B, UID},
	{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	 ".slice/crio-conmon-" ID_B ".scope",
	 "crio-conmon-" ID_B ".scope", NULL, NULL, UID},
	{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	 ".slice/docker-" ID_B ".scope",
	 "docker-" ID_B ".scope", "docker", ID_B, UID},
	{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice", NULL,
	 NULL, NULL, UID},
	{"/kubepods.slice/kubepods-burstable.slice", NULL, NULL, NULL, NULL},
	/* Kubernetes, cgroupfs driver: the runtime is not in the path */
	{"/kubepods/burstable/pod" UID "/" ID_B, NULL, "cri", ID_B, UID},
	{"/kubepods/pod" UID "/" ID_B, NULL, "cri", ID_B, UID},
	{"/kubepods/besteffort/pod" UID, NULL, NULL, NULL, UID},
	{"/pod" UID "/" ID_B, NULL, NULL, NULL, NULL}, /* not below kubepods */
	/* kind: a node in a docker container, its pods inside: the innermost wins */
	{"/system.slice/docker-" ID_A ".scope/kubepods/burstable/pod" UID "/" ID_B,
	 "docker-" ID_A ".scope", "cri", ID_B, UID},
};

static void check_case(const struct ident_case *c)
{
	struct cgroup_ident id;

	cgroup_ident_parse(c->path, &id);
	print_message("%s\n", c->path);
	assert_string_equal(id.unit, c->unit ? c->unit : "");
	if (c->runtime) {
		assert_non_null(id.runtime);
		assert_string_equal(id.runtime, c->runtime);
		assert_string_equal(id.container_id, c->id);
	} else {
		assert_null(id.runtime);
		assert_false(cgroup_ident_is_container(&id));
	}
	assert_string_equal(id.pod_uid, c->pod_uid ? c->pod_uid : "");
	assert_int_equal(cgroup_ident_is_pod(&id), c->pod_uid != NULL);
	assert_string_equal(id.container_name, "");
	assert_string_equal(id.pod_name, "");
}

static void test_paths(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

/* A unit name longer than systemd allows is not taken (nor cut). */
static void test_unit_too_long(void **state)
{
	char path[400] = "/system.slice/";
	struct cgroup_ident id;

	memset(path + strlen(path), 'x', 300);
	strcat(path, ".service");
	cgroup_ident_parse(path, &id);
	assert_string_equal(id.unit, "");
}

/* ---- names from state files below a temp root ---- */

static void mkdirs(const char *root, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdir(path, 0700);
		*p = '/';
	}
	assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
}

static void write_file(const char *root, const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *fixture_root(void)
{
	static char root[] = "/tmp/test_cgroup_ident.XXXXXX";

	strcpy(root, "/tmp/test_cgroup_ident.XXXXXX");
	assert_non_null(mkdtemp(root));
	mkdirs(root, "var/lib/containers/storage/overlay-containers");
	/* podman 4.3's layout, abridged: other containers before ours */
	write_file(root, "var/lib/containers/storage/overlay-containers/containers.json",
		   "[{\"id\":\"" ID_B "\",\"names\":[\"other\"],\"image\":\"x\"},"
		   "{\"id\":\"" ID_A "\",\"names\":[\"dnsprobe\",\"alias\"],\"image\":\"y\","
		   "\"layer\":\"z\",\"metadata\":\"{\\\"image-name\\\":\\\"localhost/"
		   "busybox\\\"}\"}]");
	mkdirs(root, "var/lib/docker/containers/" ID_A);
	write_file(root, "var/lib/docker/containers/" ID_A "/config.v2.json",
		   "{\"ID\":\"" ID_A "\",\"Name\":\"/web-1\",\"State\":{\"Running\":true}}");
	mkdirs(root, "var/log/pods/kube-system_coredns-5d78c9869d-abcde_" UID "/coredns");
	mkdirs(root, "var/log/pods/default_other_" UID "0");
	return root;
}

static void rm_rf(const char *root)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static void test_names_podman(void **state)
{
	char *root = fixture_root();
	struct cgroup_ident id;

	cgroup_ident_parse("/libpod_parent/libpod-" ID_A, &id);
	cgroup_ident_names(&id, root);
	assert_string_equal(id.container_name, "dnsprobe");
	cgroup_ident_parse("/machine.slice/libpod-" ID_B ".scope/container", &id);
	cgroup_ident_names(&id, root);
	assert_string_equal(id.container_name, "other");
	/* no state for a docker container of that id: no name */
	cgroup_ident_parse("/docker/" ID_B, &id);
	cgroup_ident_names(&id, root);
	assert_string_equal(id.container_name, "");
	rm_rf(root);
}

static void test_names_docker(void **state)
{
	char *root = fixture_root();
	struct cgroup_ident id;

	cgroup_ident_parse("/system.slice/docker-" ID_A ".scope", &id);
	cgroup_ident_names(&id, root);
	assert_string_equal(id.container_name, "web-1");
	rm_rf(root);
}

static void test_names_pod(void **state)
{
	char *root = fixture_root();
	struct cgroup_ident id;

	cgroup_ident_parse("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
			   ".slice/cri-containerd-" ID_B ".scope",
			   &id);
	cgroup_ident_names(&id, root);
	assert_string_equal(id.pod_namespace, "kube-system");
	assert_string_equal(id.pod_name, "coredns-5d78c9869d-abcde");
	assert_string_equal(id.container_name, ""); /* containerd: no name source */
	rm_rf(root);
}

/* Missing, unreadable or damaged state leaves every name unknown. */
static void test_names_missing_or_damaged(void **state)
{
	char *root = fixture_root();
	struct cgroup_ident id;

	write_file(root, "var/lib/containers/storage/overlay-containers/containers.json",
		   "[{\"id\":\"" ID_A "\",\"names\":[\"dnspro");
	cgroup_ident_parse("/libpod_parent/libpod-" ID_A, &id);
	cgroup_ident_names(&id, root);
	assert_string_equal(id.container_name, "");
	write_file(root, "var/lib/docker/containers/" ID_A "/config.v2.json", "{\"Name\":7}");
	cgroup_ident_parse("/docker/" ID_A, &id);
	cgroup_ident_names(&id, root);
	assert_string_equal(id.container_name, "");
	cgroup_ident_parse("/kubepods/pod" UID "/" ID_B, &id);
	cgroup_ident_names(&id, "/nonexistent");
	assert_string_equal(id.pod_name, "");
	assert_string_equal(id.pod_namespace, "");
	rm_rf(root);
}

/* ---- the cache of cgroup.c over a directory tree standing for cgroup2 ---- */

static uint64_t ino_of(const char *root, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static void test_cache_per_cgroup(void **state)
{
	char root[] = "/tmp/test_cgroup_ident_tree.XXXXXX";
	const struct cgroup_ident *a, *b;
	struct cgroup_names *cn;
	char err[256];
	uint64_t demo, pod;

	assert_non_null(mkdtemp(root));
	mkdirs(root, "system.slice/demo.service");
	mkdirs(root, "machine.slice/libpod-" ID_A ".scope/container");
	cn = cgroup_names_new(root, err, sizeof(err));
	assert_non_null(cn);
	/* the container was resolved at the start (still root), the service not yet */
	assert_int_equal(cgroup_names_idents(cn), 2);
	demo = ino_of(root, "system.slice/demo.service");
	a = cgroup_names_ident_at(cn, demo, 0);
	assert_non_null(a);
	assert_string_equal(a->unit, "demo.service");
	assert_int_equal(cgroup_names_idents(cn), 3);
	assert_ptr_equal(cgroup_names_ident_at(cn, demo, 0), a);
	assert_ptr_equal(cgroup_names_ident_by_path(cn, "/system.slice/demo.service"), a);
	b = cgroup_names_ident_by_path(cn, "/machine.slice/libpod-" ID_A ".scope/container");
	assert_non_null(b);
	assert_string_equal(b->runtime, "podman");
	assert_null(cgroup_names_ident_by_path(cn, "/system.slice/gone.service"));
	/* a new cgroup and a re-walk: the resolved identities are kept, not read again */
	mkdirs(root, "kubepods/pod" UID "/" ID_B);
	pod = ino_of(root, "kubepods/pod" UID "/" ID_B);
	assert_non_null(cgroup_names_ident_at(cn, pod, 5000000000ULL));
	assert_int_equal(cgroup_names_walks(cn), 2);
	assert_ptr_equal(cgroup_names_ident_at(cn, demo, 5000000000ULL), a);
	assert_string_equal(cgroup_names_ident_at(cn, pod, 5000000000ULL)->runtime, "cri");
	assert_ptr_equal(cgroup_names_ident_by_path(cn, "/system.slice/demo.service"), a);
	/* unknown ids: NULL, as for the path */
	assert_null(cgroup_names_ident_at(cn, 1, 5000000001ULL));
	cgroup_names_free(cn);
	rm_rf(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_unit_too_long),
		cmocka_unit_test(test_names_podman),
		cmocka_unit_test(test_names_docker),
		cmocka_unit_test(test_names_pod),
		cmocka_unit_test(test_names_missing_or_damaged),
		cmocka_unit_test(test_cache_per_cgroup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
