/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A process's identity by name, read from its cgroup v2 path: the systemd
 * unit, the container (runtime and id) and the Kubernetes pod (uid).
 * cgroup_ident_parse() only looks at the path; cgroup_ident_names() adds
 * the names a runtime keeps on disk without a daemon:
 *
 *   podman  <root>/var/lib/containers/storage/overlay-containers/containers.json
 *           (the entry whose "id" is the container's: its first "names")
 *   docker  <root>/var/lib/docker/containers/<id>/config.v2.json ("Name",
 *           without its leading '/')
 *   pod     <root>/var/log/pods/<namespace>_<name>_<uid> (the kubelet's log
 *           directory: namespace and name cannot hold '_')
 *
 * root is "" on a live host (a directory of fixtures in tests). Anything
 * missing or unreadable leaves the name NULL.
 */
#ifndef DNSSNOOP_CGROUP_IDENT_H
#define DNSSNOOP_CGROUP_IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CGROUP_IDENT_UNIT_MAX 256 /* systemd's UNIT_NAME_MAX, NUL included */
#define CGROUP_IDENT_ID_MAX   65 /* 64 hex digits */
#define CGROUP_IDENT_NAME_MAX 256 /* container and pod names (DNS subdomain: 253) */
#define CGROUP_IDENT_UID_MAX  37 /* a pod's UUID, dashed */
#define CGROUP_IDENT_NS_MAX   64 /* a namespace (DNS label: 63) */

struct cgroup_ident {
	char unit[CGROUP_IDENT_UNIT_MAX]; /* "" when none */
	const char *runtime; /* static string; NULL: not a container */
	char container_id[CGROUP_IDENT_ID_MAX];
	char container_name[CGROUP_IDENT_NAME_MAX]; /* "" when unknown */
	char pod_uid[CGROUP_IDENT_UID_MAX]; /* "" when not a pod */
	char pod_name[CGROUP_IDENT_NAME_MAX]; /* "" when unknown */
	char pod_namespace[CGROUP_IDENT_NS_MAX];
	/*
	 * Set by the cache of cgroup.h: one number per identity resolved,
	 * never reused, so a writer may keep what it made of one by this key;
	 * 0 (cgroup_ident_parse) is none.
	 */
	uint64_t serial;
};

/* Fill id from a cgroup path below the cgroup2 mount ("/system.slice/x.service"). */
void cgroup_ident_parse(const char *path, struct cgroup_ident *id);

/* Add the container's and the pod's names found below root (see above). */
void cgroup_ident_names(struct cgroup_ident *id, const char *root);

static inline bool cgroup_ident_is_container(const struct cgroup_ident *id)
{
	return id->runtime != NULL;
}

static inline bool cgroup_ident_is_pod(const struct cgroup_ident *id)
{
	return id->pod_uid[0] != '\0';
}

#endif
