/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Display filters (--name, --rcode, --qtype, --dir, --unanswered,
 * --slower-than, --client, --server, --unit, --container): which dns and unanswered records a
 * session writes, to the records, -w and --dnstap-out (and, with
 * --filter-stats, to the statistics). Each flag given is one condition,
 * all of which must hold; repeats of a flag are alternatives, any of
 * which will do. The values are compiled once (a bitset per rcode and
 * qtype, prefixes as bytes and a length) so that judging a message costs
 * no allocation and no text formatting.
 *
 * What a record must be to pass each condition (docs/output.md, "Display
 * filters"):
 *   name     a question name matching one of the globs (fnmatch(3),
 *            case-insensitive; '*' crosses dots)
 *   rcode    a response with one of the rcodes, or an unanswered record
 *            when "none" is among them; queries never pass
 *   qtype    a question of one of the types
 *   dir      seen in that direction (offline captures without a
 *            direction never pass)
 *   unanswered  an unanswered record
 *   slower   a response matched to its query with a latency above the
 *            bound, or an unanswered record
 *   client / server  the query's sender / its receiver in one of the
 *            prefixes (of a response: its receiver / its sender)
 *   unit     sent or received by a process whose systemd unit matches one
 *            of the globs (fnmatch(3), case-sensitive)
 *   container  ... whose container's name matches one of the globs, or
 *            whose container id starts with one of them
 * The last two need the owner's identity: the resolver given with
 * msgfilter_set_ident() (the live source's cache), asked once per message
 * only when one of them is given. Without one, or for a message without
 * an owner (or one outside any unit or container), they never pass.
 */
#ifndef DNSSNOOP_MSGFILTER_H
#define DNSSNOOP_MSGFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/output.h"

struct cgroup_ident;

#define MSGFILTER_MAX_VALUES 32 /* per flag */

enum msgfilter_flag {
	MSGFILTER_NAME,
	MSGFILTER_RCODE,
	MSGFILTER_QTYPE,
	MSGFILTER_DIR,
	MSGFILTER_SLOWER,
	MSGFILTER_CLIENT,
	MSGFILTER_SERVER,
	MSGFILTER_UNIT,
	MSGFILTER_CONTAINER,
};

struct msgfilter_prefix {
	uint8_t family; /* AF_INET / AF_INET6 */
	uint8_t bits; /* prefix length */
	uint8_t addr[16];
};

/* Globs (or id prefixes) as given; the caller keeps the strings. */
struct msgfilter_globs {
	int n;
	const char *v[MSGFILTER_MAX_VALUES];
};

struct msgfilter_prefixes {
	int n;
	struct msgfilter_prefix p[MSGFILTER_MAX_VALUES];
};

struct msgfilter {
	uint32_t conds; /* 1 << enum msgfilter_flag for each flag given */
	bool unanswered; /* --unanswered */
	struct msgfilter_globs names, units, containers;
	bool rcode_none; /* --rcode none: unanswered records */
	uint64_t rcodes[4096 / 64]; /* 12-bit extended rcodes */
	uint64_t qtypes[65536 / 64];
	uint8_t dirs; /* 1 << enum dnssnoop_dir */
	uint64_t slower_ns;
	struct msgfilter_prefixes clients, servers;
	cgroup_ident_fn ident; /* --unit, --container: an owner's identity; may be NULL */
	void *ident_ctx;
};

/*
 * Add one flag's value to f (zeroed to start with). -1 with one line in
 * err ("--rcode: 'NXDOMAN' is not an rcode ...") when it is not one.
 */
int msgfilter_add(struct msgfilter *f, enum msgfilter_flag flag, const char *arg, char *err,
		  size_t errlen);
/* --unanswered. */
void msgfilter_add_unanswered(struct msgfilter *f);
/* Where --unit and --container learn a cgroup's identity (fn may be NULL). */
void msgfilter_set_ident(struct msgfilter *f, cgroup_ident_fn fn, void *ctx);
/* Is --unit or --container given (they need a process to judge)? */
bool msgfilter_wants_ident(const struct msgfilter *f);
/* Was any condition given? */
bool msgfilter_active(const struct msgfilter *f);
/* Does rec pass every condition given? */
bool msgfilter_match(const struct msgfilter *f, const struct dns_record *rec);

/*
 * --slower-than's syntax: DIGITS[.DIGITS] then ns, us, ms or s (bare:
 * seconds), at most 1e9 of the unit, a whole number of ns. True with *ns.
 */
bool msgfilter_parse_duration(const char *s, uint64_t *ns);
/* An address, or ADDRESS/BITS (IPv4 or IPv6). True with *p. */
bool msgfilter_parse_prefix(const char *s, struct msgfilter_prefix *p);
/* Is addr (of family) inside p? Another family never is. */
bool msgfilter_prefix_has(const struct msgfilter_prefix *p, uint8_t family, const uint8_t *addr);

#endif
