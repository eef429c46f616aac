/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Classic tc attachment (--tc-attach clsact, or auto on a kernel without
 * TCX): a clsact qdisc and cls_bpf filters at dnssnoop's own handle and
 * priority. Unlike a bpf_link, such a filter outlives the process that
 * attached it, so the first attach forks a guard process that learns of
 * every filter before it exists and removes them if the tracer dies
 * without detaching.
 */
#ifndef DNSSNOOP_TC_CLSACT_H
#define DNSSNOOP_TC_CLSACT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct bpf_program;

/* Interfaces one tc_clsact can attach to (two filters each). */
#define TC_CLSACT_MAX_IFACES 8

/* What we attached the classic way, and the guard that watches it. */
struct tc_clsact;

/* NULL (err set) if out of memory. Nothing is attached or forked yet. */
struct tc_clsact *tc_clsact_new(char *err, size_t errlen);

/*
 * Remove filters in dnssnoop's slot on ifindex that no live process holds
 * (an earlier dnssnoop killed together with its guard left them), saying
 * so on stderr. A running dnssnoop's filters are left alone.
 */
void tc_clsact_clear_stale(int ifindex, const char *iface);

/* What tc_clsact_attach returns; err says what failed either way. */
enum tc_clsact_result {
	TC_CLSACT_OK = 0,
	TC_CLSACT_FAILED = -1,
	/* the kernel refused to create the qdisc: the caller may name privileges */
	TC_CLSACT_NOT_PERMITTED = -2,
};

/*
 * Attach ingress and egress to ifindex with clsact filters, creating the
 * qdisc if there is none and starting the guard first. Returns an enum
 * tc_clsact_result.
 */
enum tc_clsact_result tc_clsact_attach(struct tc_clsact *tc, int ifindex, const char *iface,
				       struct bpf_program *ingress, struct bpf_program *egress,
				       char *err, size_t errlen);

/*
 * Has the guard process died (killed)? Reaps it; true once. Without it a
 * tracer that dies leaves its filters behind: the caller should stop.
 */
bool tc_clsact_guard_gone(struct tc_clsact *tc);

/* The guard's pid, 0 if there is none (not started, or gone). */
pid_t tc_clsact_guard_pid(const struct tc_clsact *tc);

/*
 * Remove the filters we attached (only while they still run our programs)
 * and the qdiscs we created (only while they hold no filter), then tell
 * the guard there is nothing left to do and reap it. Safe to repeat; NULL
 * is a no-op.
 */
void tc_clsact_detach(struct tc_clsact *tc);

/* Detach and free; NULL is a no-op. */
void tc_clsact_free(struct tc_clsact *tc);

#endif
