// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cgroup v2: find (or mount) the hierarchy, open a --cgroup target, and map
 * cgroup ids to paths. See cgroup.h.
 */
#include "capture/cgroup.h"
#include "capture/cgroup_ident.h"
#include "lib/hash.h"
#include "lib/units.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define CGROUP2_SUPER_MAGIC 0x63677270
#define REWALK_INTERVAL_NS  NS_PER_SEC
#define MAX_WALK_DEPTH	    64
#define MIN_TABLE_SLOTS	    256

struct cgroup_slot {
	uint64_t id; /* 0: empty */
	char *path;
	struct cgroup_ident *ident; /* NULL: not resolved yet */
};

struct cgroup_names {
	char root[PATH_MAX];
	bool private_mount; /* we mounted root and must unmount it */
	struct cgroup_slot *slots;
	size_t nslots; /* power of two */
	size_t count;
	size_t *by_path; /* nslots entries: slot index + 1 by path hash; NULL: not built */
	uint64_t last_walk_ns;
	unsigned int walks;
};

/* ---- /proc/self/mountinfo ---- */

/* Undo mountinfo's octal escapes (\040 for a space, ...) in place. */
static void unescape_octal(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/*
 * One mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] -
 * FSTYPE SOURCE SUPEROPTS". Returns true for a cgroup2 mount and fills
 * *mnt and *fsroot (pointers into line, unescaped).
 */
static bool parse_cgroup2_line(char *line, char **fsroot, char **mnt)
{
	char *fields[5];
	char *save = NULL;
	char *sep = strstr(line, " - ");
	char *fstype;

	if (!sep)
		return false;
	*sep = '\0';
	fstype = strtok_r(sep + 3, " \n", &save);
	if (!fstype || strcmp(fstype, "cgroup2") != 0)
		return false;
	save = NULL;
	for (int i = 0; i < 5; i++) {
		fields[i] = strtok_r(i ? NULL : line, " ", &save);
		if (!fields[i])
			return false;
	}
	unescape_octal(fields[3]);
	unescape_octal(fields[4]);
	*fsroot = fields[3];
	*mnt = fields[4];
	return true;
}

int cgroup2_find_mount(const char *mountinfo, char *out, size_t outlen)
{
	FILE *f = fopen(mountinfo, "re");
	char *line = NULL;
	size_t cap = 0;
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char *fsroot, *mnt;

		if (!parse_cgroup2_line(line, &fsroot, &mnt))
			continue;
		if (strlen(mnt) >= outlen) {
			ret = -ENAMETOOLONG;
			continue;
		}
		/* Prefer a mount of the whole hierarchy over a bind of a subtree. */
		if (ret != 0 || strcmp(fsroot, "/") == 0)
			strcpy(out, mnt);
		ret = 0;
		if (strcmp(fsroot, "/") == 0)
			break;
	}
	free(line);
	fclose(f);
	return ret;
}

/* ---- --cgroup argument ---- */

static bool has_dotdot(const char *p)
{
	for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2) {
		bool starts = s == p || s[-1] == '/';
		bool ends = s[2] == '\0' || s[2] == '/';

		if (starts && ends)
			return true;
	}
	return false;
}

/* Is path root itself or below it (component-wise, not string prefix)? */
static bool is_below(const char *root, const char *path)
{
	size_t n = strlen(root);

	while (n > 1 && root[n - 1] == '/')
		n--;
	if (strncmp(root, path, n) != 0)
		return false;
	return path[n] == '\0' || path[n] == '/' || (n == 1 && root[0] == '/');
}

int cgroup2_resolve_path(const char *root, const char *arg, char *out, size_t outlen)
{
	size_t rlen = strlen(root);
	int n;

	if (!arg || !*arg)
		arg = "/";
	if (has_dotdot(arg))
		return -EINVAL;
	while (rlen > 1 && root[rlen - 1] == '/')
		rlen--;
	if (arg[0] == '/' && is_below(root, arg))
		n = snprintf(out, outlen, "%s", arg);
	else
		n = snprintf(out, outlen, "%.*s/%s", (int)rlen, root,
			     arg[0] == '/' ? arg + 1 : arg);
	if (n < 0 || (size_t)n >= outlen)
		return -ENAMETOOLONG;
	/* Drop trailing slashes, keeping a lone "/". */
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	return 0;
}

/* ---- id -> path table (open addressing, linear probing) ---- */

static size_t slot_of(uint64_t id, size_t nslots)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (size_t)id & (nslots - 1);
}

static void slots_free(struct cgroup_slot *slots, size_t nslots)
{
	for (size_t i = 0; i < nslots; i++) {
		free(slots[i].path);
		free(slots[i].ident);
	}
	free(slots);
}

static void drop_path_index(struct cgroup_names *cn)
{
	free(cn->by_path);
	cn->by_path = NULL;
}

static struct cgroup_slot *table_find(const struct cgroup_names *cn, uint64_t id)
{
	size_t i = slot_of(id, cn->nslots);

	while (cn->slots[i].id) {
		if (cn->slots[i].id == id)
			return &cn->slots[i];
		i = (i + 1) & (cn->nslots - 1);
	}
	return NULL;
}

static int table_grow(struct cgroup_names *cn)
{
	size_t nslots = cn->nslots ? cn->nslots * 2 : MIN_TABLE_SLOTS;
	struct cgroup_slot *old = cn->slots;
	size_t oldn = cn->nslots;
	struct cgroup_slot *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	drop_path_index(cn);
	cn->slots = slots;
	cn->nslots = nslots;
	for (size_t i = 0; i < oldn; i++) {
		if (!old[i].id)
			continue;
		size_t j = slot_of(old[i].id, nslots);

		while (slots[j].id)
			j = (j + 1) & (nslots - 1);
		slots[j] = old[i];
	}
	free(old);
	return 0;
}

static int table_put(struct cgroup_names *cn, uint64_t id, const char *path)
{
	struct cgroup_slot *s;
	size_t i;
	char *copy;

	if (!id)
		return 0;
	if ((cn->count + 1) * 2 > cn->nslots && table_grow(cn) < 0)
		return -ENOMEM;
	s = table_find(cn, id);
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	if (s) {
		free(s->path);
		s->path = copy;
		return 0;
	}
	i = slot_of(id, cn->nslots);
	while (cn->slots[i].id)
		i = (i + 1) & (cn->nslots - 1);
	cn->slots[i].id = id;
	cn->slots[i].path = copy;
	cn->count++;
	return 0;
}

/* ---- walking the tree ---- */

static bool is_dir_entry(int dirfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type == DT_DIR)
		return true;
	if (de->d_type != DT_UNKNOWN)
		return false;
	return fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* Record dirfd (the cgroup at path) and everything below it. Takes dirfd. */
static void walk_dir(struct cgroup_names *cn, int dirfd, char *path, size_t len, int depth)
{
	struct stat st;
	struct dirent *de;
	DIR *d;

	if (fstat(dirfd, &st) < 0 || table_put(cn, st.st_ino, len ? path : "/") < 0 ||
	    depth >= MAX_WALK_DEPTH) {
		close(dirfd);
		return;
	}
	d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		size_t nlen = strlen(de->d_name);
		int fd;

		if (de->d_name[0] == '.' && (nlen == 1 || (nlen == 2 && de->d_name[1] == '.')))
			continue;
		if (!is_dir_entry(dirfd, de) || len + 1 + nlen >= PATH_MAX)
			continue;
		fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue; /* removed meanwhile */
		path[len] = '/';
		memcpy(path + len + 1, de->d_name, nlen + 1);
		walk_dir(cn, fd, path, len + 1 + nlen, depth + 1);
		path[len] = '\0';
	}
	closedir(d);
}

/*
 * Identities resolved before carry over to the new table when the id still
 * names the same path: names are read from disk once per cgroup, not once
 * per walk.
 */
static void keep_idents(struct cgroup_names *cn, struct cgroup_slot *old, size_t oldn)
{
	for (size_t i = 0; i < oldn; i++) {
		struct cgroup_slot *s = old[i].ident ? table_find(cn, old[i].id) : NULL;

		if (s && !s->ident && strcmp(s->path, old[i].path) == 0) {
			s->ident = old[i].ident;
			old[i].ident = NULL;
		}
	}
}

static void walk_tree(struct cgroup_names *cn, uint64_t now_ns)
{
	char path[PATH_MAX] = "";
	int fd = open(cn->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct cgroup_slot *old = cn->slots;
	size_t oldn = cn->nslots;

	cn->last_walk_ns = now_ns;
	cn->walks++;
	if (fd < 0)
		return;
	/* Start afresh so removed cgroups go and the table stays bounded. */
	cn->slots = NULL;
	cn->nslots = 0;
	cn->count = 0;
	if (table_grow(cn) < 0) {
		cn->slots = old;
		cn->nslots = oldn;
		close(fd);
		return;
	}
	walk_dir(cn, fd, path, 0, 0);
	keep_idents(cn, old, oldn);
	slots_free(old, oldn);
}

/* ---- identities ---- */

static struct cgroup_slot *slot_at(struct cgroup_names *cn, uint64_t id, uint64_t now_ns);

/* Unit, container and pod of a path, with their names; NULL: out of memory. */
static struct cgroup_ident *ident_new(const char *path)
{
	static uint64_t serial;
	struct cgroup_ident *id = malloc(sizeof(*id));

	if (!id)
		return NULL;
	cgroup_ident_parse(path, id);
	cgroup_ident_names(id, "");
	id->serial = ++serial;
	return id;
}

static const struct cgroup_ident *slot_ident(struct cgroup_slot *s)
{
	if (!s->ident)
		s->ident = ident_new(s->path);
	return s->ident;
}

/*
 * The runtimes' state is readable by root only: resolve the containers
 * and pods already there while the tracer still runs as root (before the
 * privilege drop). Other cgroups are resolved when first asked for.
 */
static void resolve_containers(struct cgroup_names *cn)
{
	for (size_t i = 0; i < cn->nslots; i++) {
		struct cgroup_ident id;

		if (!cn->slots[i].id)
			continue;
		cgroup_ident_parse(cn->slots[i].path, &id);
		if (cgroup_ident_is_container(&id) || cgroup_ident_is_pod(&id))
			slot_ident(&cn->slots[i]);
	}
}

static size_t path_slot_of(const char *path, size_t nslots)
{
	return (size_t)hash_bytes(path, strlen(path), 0) & (nslots - 1);
}

/* The path -> slot index, built on first use after each walk. */
static int build_path_index(struct cgroup_names *cn)
{
	cn->by_path = calloc(cn->nslots, sizeof(*cn->by_path));
	if (!cn->by_path)
		return -ENOMEM;
	for (size_t i = 0; i < cn->nslots; i++) {
		size_t j;

		if (!cn->slots[i].id)
			continue;
		j = path_slot_of(cn->slots[i].path, cn->nslots);
		while (cn->by_path[j])
			j = (j + 1) & (cn->nslots - 1);
		cn->by_path[j] = i + 1;
	}
	return 0;
}

const struct cgroup_ident *cgroup_names_ident_by_path(struct cgroup_names *cn, const char *path)
{
	size_t j;

	if (!cn->by_path && build_path_index(cn) < 0)
		return NULL;
	for (j = path_slot_of(path, cn->nslots); cn->by_path[j]; j = (j + 1) & (cn->nslots - 1)) {
		struct cgroup_slot *s = &cn->slots[cn->by_path[j] - 1];

		if (strcmp(s->path, path) == 0)
			return slot_ident(s);
	}
	return NULL;
}

const struct cgroup_ident *cgroup_names_ident_at(struct cgroup_names *cn, uint64_t id,
						 uint64_t now_ns)
{
	struct cgroup_slot *s = slot_at(cn, id, now_ns);

	return s ? slot_ident(s) : NULL;
}

const struct cgroup_ident *cgroup_names_ident(struct cgroup_names *cn, uint64_t id)
{
	return cgroup_names_ident_at(cn, id, monotonic_ns());
}

size_t cgroup_names_idents(const struct cgroup_names *cn)
{
	size_t n = 0;

	for (size_t i = 0; i < cn->nslots; i++)
		n += cn->slots[i].ident != NULL;
	return n;
}

/* ---- mounting ---- */

static int mount_private(struct cgroup_names *cn, char *err, size_t errlen)
{
	char dir[] = "/run/dnssnoop-cgroup2.XXXXXX";

	if (!mkdtemp(dir)) {
		snprintf(err, errlen, "dnssnoop: no cgroup2 mounted and cannot create %s: %s", dir,
			 strerror(errno));
		return -1;
	}
	if (mount("cgroup2", dir, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		snprintf(err, errlen, "dnssnoop: no cgroup2 mounted and mounting one failed: %s",
			 strerror(errno));
		rmdir(dir);
		return -1;
	}
	strcpy(cn->root, dir);
	cn->private_mount = true;
	return 0;
}

static int find_or_mount(struct cgroup_names *cn, char *err, size_t errlen)
{
	int ret = cgroup2_find_mount("/proc/self/mountinfo", cn->root, sizeof(cn->root));

	if (ret == 0)
		return 0;
	if (ret != -ENOENT) {
		snprintf(err, errlen, "dnssnoop: cannot read /proc/self/mountinfo: %s",
			 strerror(-ret));
		return -1;
	}
	return mount_private(cn, err, errlen);
}

struct cgroup_names *cgroup_names_new(const char *root, char *err, size_t errlen)
{
	struct cgroup_names *cn = calloc(1, sizeof(*cn));

	if (!cn) {
		snprintf(err, errlen, "dnssnoop: out of memory");
		return NULL;
	}
	if (root) {
		if (strlen(root) >= sizeof(cn->root)) {
			snprintf(err, errlen, "dnssnoop: cgroup root path too long");
			free(cn);
			return NULL;
		}
		strcpy(cn->root, root);
	} else if (find_or_mount(cn, err, errlen) < 0) {
		free(cn);
		return NULL;
	}
	if (table_grow(cn) < 0) {
		snprintf(err, errlen, "dnssnoop: out of memory");
		cgroup_names_free(cn);
		return NULL;
	}
	walk_tree(cn, monotonic_ns());
	resolve_containers(cn);
	return cn;
}

void cgroup_names_free(struct cgroup_names *cn)
{
	if (!cn)
		return;
	slots_free(cn->slots, cn->nslots);
	drop_path_index(cn);
	if (cn->private_mount && umount2(cn->root, MNT_DETACH) == 0)
		rmdir(cn->root);
	free(cn);
}

const char *cgroup_names_root(const struct cgroup_names *cn)
{
	return cn->root;
}

int cgroup_names_open(const struct cgroup_names *cn, const char *arg, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct statfs sfs;
	int ret = cgroup2_resolve_path(cn->root, arg, path, sizeof(path));
	int fd;

	if (ret < 0) {
		snprintf(err, errlen, "dnssnoop: bad --cgroup %s: %s", arg ? arg : "/",
			 ret == -EINVAL ? "\"..\" is not allowed" : strerror(-ret));
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "dnssnoop: cannot open cgroup %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(err, errlen, "dnssnoop: %s is not a cgroup v2 directory", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* The slot of id, after a (rate-limited) re-walk when it is not known. */
static struct cgroup_slot *slot_at(struct cgroup_names *cn, uint64_t id, uint64_t now_ns)
{
	struct cgroup_slot *s;

	if (!id)
		return NULL;
	s = table_find(cn, id);
	if (s || now_ns - cn->last_walk_ns < REWALK_INTERVAL_NS)
		return s;
	walk_tree(cn, now_ns);
	return table_find(cn, id);
}

const char *cgroup_names_lookup_at(struct cgroup_names *cn, uint64_t id, uint64_t now_ns)
{
	struct cgroup_slot *s = slot_at(cn, id, now_ns);

	return s ? s->path : NULL;
}

const char *cgroup_names_lookup(struct cgroup_names *cn, uint64_t id)
{
	return cgroup_names_lookup_at(cn, id, monotonic_ns());
}

size_t cgroup_names_count(const struct cgroup_names *cn)
{
	return cn->count;
}

unsigned int cgroup_names_walks(const struct cgroup_names *cn)
{
	return cn->walks;
}
