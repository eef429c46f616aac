// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Loader for bpf_floor.bpf.o (tools/bench-bpf-cost): attaches the empty
 * programs of one hook with BPF links, prints "attached", and waits for
 * SIGINT or SIGTERM. The links go away with the process however it ends.
 *
 *   bpf_floor OBJ cgroup CGROUP_DIR | tc IFACE | xdp IFACE
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* TCX attach types (kernel 6.6+); libbpf 1.1's headers predate them. */
#define ATTACH_TCX_INGRESS 46
#define ATTACH_TCX_EGRESS  47

static int attach_cgroup(struct bpf_object *obj, const char *dir)
{
	const char *names[] = {"floor_cg_in", "floor_cg_eg"};
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	if (fd < 0) {
		perror(dir);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(obj, names[i]);

		if (!bpf_program__attach_cgroup(p, fd)) {
			fprintf(stderr, "bpf_floor: attach %s: %s\n", names[i], strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int attach_tc(struct bpf_object *obj, int ifindex)
{
	const char *names[] = {"floor_tc_in", "floor_tc_eg"};
	const int types[] = {ATTACH_TCX_INGRESS, ATTACH_TCX_EGRESS};

	for (int i = 0; i < 2; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(obj, names[i]);

		if (bpf_link_create(bpf_program__fd(p), ifindex, types[i], NULL) < 0) {
			fprintf(stderr, "bpf_floor: attach %s: %s\n", names[i], strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int attach_xdp(struct bpf_object *obj, int ifindex)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, "floor_xdp");

	if (!bpf_program__attach_xdp(p, ifindex)) {
		fprintf(stderr, "bpf_floor: attach floor_xdp: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Load only the hook's programs (the others would need their own attach types). */
static void select_programs(struct bpf_object *obj, const char *hook)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, obj)
	{
		const char *name = bpf_program__name(p);
		bool want = (!strcmp(hook, "cgroup") && !strncmp(name, "floor_cg", 8)) ||
			    (!strcmp(hook, "tc") && !strncmp(name, "floor_tc", 8)) ||
			    (!strcmp(hook, "xdp") && !strcmp(name, "floor_xdp"));

		bpf_program__set_autoload(p, want);
	}
	p = bpf_object__find_program_by_name(obj, "floor_tc_in");
	bpf_program__set_expected_attach_type(p, ATTACH_TCX_INGRESS);
	p = bpf_object__find_program_by_name(obj, "floor_tc_eg");
	bpf_program__set_expected_attach_type(p, ATTACH_TCX_EGRESS);
}

static void on_signal(int sig)
{
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	unsigned int ifindex = 0;
	sigset_t set;
	int sig, ret;

	if (argc != 4) {
		fprintf(stderr, "usage: bpf_floor OBJ cgroup DIR | tc IFACE | xdp IFACE\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "bpf_floor: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	select_programs(obj, argv[2]);
	if (bpf_object__load(obj)) {
		fprintf(stderr, "bpf_floor: load: %s\n", strerror(errno));
		return 1;
	}
	if (strcmp(argv[2], "cgroup")) {
		ifindex = if_nametoindex(argv[3]);
		if (!ifindex) {
			perror(argv[3]);
			return 1;
		}
	}
	if (!strcmp(argv[2], "cgroup"))
		ret = attach_cgroup(obj, argv[3]);
	else if (!strcmp(argv[2], "tc"))
		ret = attach_tc(obj, (int)ifindex);
	else if (!strcmp(argv[2], "xdp"))
		ret = attach_xdp(obj, (int)ifindex);
	else
		ret = -1;
	if (ret < 0)
		return 1;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached\n");
	fflush(stdout);
	sigwait(&set, &sig);
	bpf_object__close(obj);
	return 0;
}
