// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit, container and pod from a cgroup path, and their names from the
 * runtimes' state files. See cgroup_ident.h and docs/capture.md.
 */
#include "capture/cgroup_ident.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#define CONTAINER_ID_LEN 64
#define POD_UID_LEN	 36

/* A path component: not NUL-terminated. */
struct comp {
	const char *s;
	size_t n;
};

/* Cgroups of container runtimes, one pattern per naming scheme, innermost match wins. */
struct runtime_pattern {
	const char *prefix;
	const char *suffix;
	const char *parent; /* NULL: any; else the exact parent component */
	const char *runtime;
};

static const struct runtime_pattern runtime_patterns[] = {
	{"docker-", ".scope", NULL, "docker"}, /* systemd driver */
	{"", "", "docker", "docker"}, /* cgroupfs driver: /docker/<id> */
	{"cri-containerd-", ".scope", NULL, "containerd"},
	{"crio-", ".scope", NULL, "crio"},
	{"libpod-", ".scope", NULL, "podman"}, /* systemd manager, root and rootless */
	{"libpod-", "", NULL, "podman"}, /* cgroupfs manager: /libpod_parent/libpod-<id> */
};

/* Unit types a process can be in (slices hold units, not processes). */
static const char *const unit_suffixes[] = {".service", ".scope", ".socket", ".mount", ".swap"};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static bool comp_is(struct comp c, const char *s)
{
	return c.n == strlen(s) && memcmp(c.s, s, c.n) == 0;
}

static bool has_prefix(struct comp c, const char *p)
{
	size_t n = strlen(p);

	return c.n >= n && memcmp(c.s, p, n) == 0;
}

static bool has_suffix(struct comp c, const char *sfx)
{
	size_t n = strlen(sfx);

	return c.n >= n && memcmp(c.s + c.n - n, sfx, n) == 0;
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* The part of c between prefix and suffix, or an empty component. */
static struct comp middle(struct comp c, const char *prefix, const char *suffix)
{
	struct comp m = {c.s, 0};

	if (!has_prefix(c, prefix) || !has_suffix(c, suffix) ||
	    c.n < strlen(prefix) + strlen(suffix))
		return m;
	m.s = c.s + strlen(prefix);
	m.n = c.n - strlen(prefix) - strlen(suffix);
	return m;
}

static void copy_comp(char *out, size_t cap, struct comp c)
{
	size_t n = c.n < cap ? c.n : cap - 1;

	memcpy(out, c.s, n);
	out[n] = '\0';
}

static void match_unit(struct cgroup_ident *id, struct comp c)
{
	if (c.n >= sizeof(id->unit))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(unit_suffixes); i++) {
		if (c.n > strlen(unit_suffixes[i]) && has_suffix(c, unit_suffixes[i])) {
			copy_comp(id->unit, sizeof(id->unit), c);
			return;
		}
	}
}

static bool set_container(struct cgroup_ident *id, struct comp hex, const char *runtime)
{
	if (hex.n != CONTAINER_ID_LEN || !all_hex(hex.s, hex.n))
		return false;
	id->runtime = runtime;
	copy_comp(id->container_id, sizeof(id->container_id), hex);
	return true;
}

static void match_container(struct cgroup_ident *id, struct comp c, struct comp parent, bool in_pod)
{
	for (size_t i = 0; i < ARRAY_SIZE(runtime_patterns); i++) {
		const struct runtime_pattern *rp = &runtime_patterns[i];

		if (rp->parent && !comp_is(parent, rp->parent))
			continue;
		if (set_container(id, middle(c, rp->prefix, rp->suffix), rp->runtime))
			return;
	}
	/*
	 * The kubelet's cgroupfs driver names a container's cgroup by its id
	 * alone, below the pod's: which CRI runtime made it is not said.
	 */
	if (in_pod && has_prefix(parent, "pod"))
		set_container(id, c, "cri");
}

/* A pod UID as the path spells it: dashed (cgroupfs) or with '_' (systemd). */
static bool set_pod_uid(struct cgroup_ident *id, struct comp uid)
{
	char buf[CGROUP_IDENT_UID_MAX];

	if (uid.n != POD_UID_LEN)
		return false;
	for (size_t i = 0; i < uid.n; i++) {
		char ch = uid.s[i] == '_' ? '-' : uid.s[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? ch != '-' : !all_hex(&ch, 1))
			return false;
		buf[i] = ch;
	}
	buf[uid.n] = '\0';
	memcpy(id->pod_uid, buf, sizeof(buf));
	return true;
}

/*
 * systemd driver: kubepods-pod<uid>.slice, kubepods-<qos>-pod<uid>.slice;
 * cgroupfs driver: pod<uid> anywhere below /kubepods.
 */
static void match_pod(struct cgroup_ident *id, struct comp c, bool in_kubepods)
{
	const char *pod = NULL;

	if (has_prefix(c, "kubepods-") && has_suffix(c, ".slice")) {
		for (size_t i = 0; i + 3 < c.n; i++)
			if (memcmp(c.s + i, "pod", 3) == 0)
				pod = c.s + i;
		if (pod)
			set_pod_uid(id, middle((struct comp){pod, c.n - (size_t)(pod - c.s)}, "pod",
					       ".slice"));
	} else if (in_kubepods) {
		set_pod_uid(id, middle(c, "pod", ""));
	}
}

void cgroup_ident_parse(const char *path, struct cgroup_ident *id)
{
	struct comp parent = {"", 0};
	bool in_kubepods = false;
	const char *s = path;

	memset(id, 0, sizeof(*id));
	while (s && *s) {
		const char *slash = strchr(s, '/');
		struct comp c = {s, slash ? (size_t)(slash - s) : strlen(s)};

		s = slash ? slash + 1 : NULL;
		if (!c.n)
			continue;
		match_unit(id, c);
		match_pod(id, c, in_kubepods);
		match_container(id, c, parent, cgroup_ident_is_pod(id));
		in_kubepods = in_kubepods || comp_is(c, "kubepods") || has_prefix(c, "kubepods.");
		parent = c;
	}
}

/* ---- names from the runtimes' state ---- */

static json_object *read_json(const char *root, const char *rel)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s%s", root, rel) >= (int)sizeof(path))
		return NULL;
	return json_object_from_file(path);
}

static void copy_str(char *out, size_t cap, const char *s)
{
	if (s && strlen(s) < cap)
		strcpy(out, s);
}

/* containers.json: [{"id": "<64 hex>", "names": ["name", ...], ...}, ...] */
static void podman_name(struct cgroup_ident *id, const char *root)
{
	json_object *all =
		read_json(root, "/var/lib/containers/storage/overlay-containers/containers.json");
	size_t n = json_object_is_type(all, json_type_array) ? json_object_array_length(all) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(all, i), *cid, *names;

		if (!json_object_object_get_ex(c, "id", &cid) ||
		    strcmp(json_object_get_string(cid), id->container_id) != 0)
			continue;
		if (json_object_object_get_ex(c, "names", &names) &&
		    json_object_is_type(names, json_type_array) &&
		    json_object_array_length(names) > 0)
			copy_str(id->container_name, sizeof(id->container_name),
				 json_object_get_string(json_object_array_get_idx(names, 0)));
		break;
	}
	json_object_put(all);
}

/* config.v2.json: {"Name": "/name", ...} */
static void docker_name(struct cgroup_ident *id, const char *root)
{
	char rel[128];
	json_object *cfg, *name;
	const char *s;

	snprintf(rel, sizeof(rel), "/var/lib/docker/containers/%s/config.v2.json",
		 id->container_id);
	cfg = read_json(root, rel);
	if (cfg && json_object_object_get_ex(cfg, "Name", &name) &&
	    json_object_is_type(name, json_type_string)) {
		s = json_object_get_string(name);
		copy_str(id->container_name, sizeof(id->container_name), s + (s[0] == '/'));
	}
	json_object_put(cfg);
}

/* A log directory "<namespace>_<name>_<uid>" of the pod: its namespace and name. */
static bool pod_dir_names(struct cgroup_ident *id, const char *dname)
{
	size_t n = strlen(dname), ulen = strlen(id->pod_uid);
	struct comp rest = {dname, n - ulen - 1}; /* "<namespace>_<name>" */
	const char *us;

	if (n <= ulen + 1 || strcmp(dname + rest.n + 1, id->pod_uid) != 0 || dname[rest.n] != '_')
		return false;
	us = memchr(rest.s, '_', rest.n);
	if (!us || (size_t)(us - dname) >= sizeof(id->pod_namespace) ||
	    rest.n - (size_t)(us - dname) > sizeof(id->pod_name))
		return false;
	copy_comp(id->pod_namespace, sizeof(id->pod_namespace),
		  (struct comp){dname, (size_t)(us - dname)});
	copy_comp(id->pod_name, sizeof(id->pod_name),
		  (struct comp){us + 1, rest.n - (size_t)(us + 1 - dname)});
	return true;
}

static void pod_names(struct cgroup_ident *id, const char *root)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (snprintf(dir, sizeof(dir), "%s/var/log/pods", root) >= (int)sizeof(dir))
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL && !pod_dir_names(id, de->d_name))
		;
	closedir(d);
}

void cgroup_ident_names(struct cgroup_ident *id, const char *root)
{
	if (id->runtime && strcmp(id->runtime, "podman") == 0)
		podman_name(id, root);
	else if (id->runtime && strcmp(id->runtime, "docker") == 0)
		docker_name(id, root);
	if (cgroup_ident_is_pod(id))
		pod_names(id, root);
}
