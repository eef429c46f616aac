/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The cgroup v2 hierarchy the live capture attaches to, and the map from
 * cgroup id to path used in output.
 *
 * On cgroup2 a cgroup's id (bpf_get_current_cgroup_id(), kernfs node id)
 * is the inode number of its directory, so one walk of the tree with
 * stat() builds the map. New cgroups (containers, transient units) appear
 * later: a miss re-walks the tree, at most once per second.
 */
#ifndef DNSSNOOP_CGROUP_H
#define DNSSNOOP_CGROUP_H

#include <stddef.h>
#include <stdint.h>

struct cgroup_names;

/*
 * Find the cgroup2 mount in mountinfo (normally "/proc/self/mountinfo"),
 * writing its mount point into out. Returns 0, -ENOENT when none is
 * mounted, or another -errno.
 */
int cgroup2_find_mount(const char *mountinfo, char *out, size_t outlen);

/*
 * Turn a --cgroup argument into a directory path: a path already below
 * root (root itself included) is kept, anything else is taken relative to
 * root ("/system.slice/x.service" -> root + "/system.slice/x.service").
 * ".." components are refused. Returns 0 or -errno (-ENAMETOOLONG,
 * -EINVAL).
 */
int cgroup2_resolve_path(const char *root, const char *arg, char *out, size_t outlen);

/*
 * Use the cgroup2 hierarchy mounted at root, or, when root is NULL, find
 * it in /proc/self/mountinfo and mount a private one (under /run) if
 * there is none. Walks the tree once. On failure returns NULL and writes
 * one line into err.
 */
struct cgroup_names *cgroup_names_new(const char *root, char *err, size_t errlen);
/* Unmounts a private mount. NULL is fine. */
void cgroup_names_free(struct cgroup_names *cn);

/* The cgroup2 mount point in use. */
const char *cgroup_names_root(const struct cgroup_names *cn);

/*
 * Open the cgroup named by a --cgroup argument (NULL: the root) for
 * attaching programs. Returns an O_RDONLY directory fd, or -1 with one
 * line in err.
 */
int cgroup_names_open(const struct cgroup_names *cn, const char *arg, char *err, size_t errlen);

/*
 * Path of a cgroup below the mount ("/" for the root), or NULL when the id
 * is unknown even after a (rate-limited) re-walk. The string stays valid
 * until the next lookup or cgroup_names_free.
 */
const char *cgroup_names_lookup(struct cgroup_names *cn, uint64_t id);
/* The same with an explicit CLOCK_MONOTONIC time for the rate limit. */
const char *cgroup_names_lookup_at(struct cgroup_names *cn, uint64_t id, uint64_t now_ns);

struct cgroup_ident; /* cgroup_ident.h */

/*
 * Unit, container and pod of a cgroup (cgroup_ident.h), or NULL when the
 * id is unknown (as cgroup_names_lookup) or memory ran out. Resolved on
 * the first call for a cgroup (state files read then, never again while
 * the cgroup lives); those of containers and pods present at
 * cgroup_names_new() are resolved there, while the process is still root.
 * Valid until the next lookup or cgroup_names_free.
 */
const struct cgroup_ident *cgroup_names_ident(struct cgroup_names *cn, uint64_t id);
const struct cgroup_ident *cgroup_names_ident_at(struct cgroup_names *cn, uint64_t id,
						 uint64_t now_ns);
/* The same for a path as cgroup_names_lookup returns it; NULL: no such cgroup now. */
const struct cgroup_ident *cgroup_names_ident_by_path(struct cgroup_names *cn, const char *path);
/* Identities resolved so far (each read the state files once). */
size_t cgroup_names_idents(const struct cgroup_names *cn);

/* Number of cgroups known, and of tree walks done so far. */
size_t cgroup_names_count(const struct cgroup_names *cn);
unsigned int cgroup_names_walks(const struct cgroup_names *cn);

#endif
