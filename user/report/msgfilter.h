/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Display filters (--name, --rcode, --qtype, --dir, --unanswered,
 * --slower-than, --client, --server): which dns and unanswered records a
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
 */
#ifndef DNSSNOOP_MSGFILTER_H
#define DNSSNOOP_MSGFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/output.h"

#define MSGFILTER_MAX_VALUES 32 /* per flag */

enum msgfilter_flag {
	MSGFILTER_NAME,
	MSGFILTER_RCODE,
	MSGFILTER_QTYPE,
	MSGFILTER_DIR,
	MSGFILTER_SLOWER,
	MSGFILTER_CLIENT,
	MSGFILTER_SERVER,
};

struct msgfilter_prefix {
	uint8_t family; /* AF_INET / AF_INET6 */
	uint8_t bits; /* prefix length */
	uint8_t addr[16];
};

struct msgfilter_prefixes {
	int n;
	struct msgfilter_prefix p[MSGFILTER_MAX_VALUES];
};

struct msgfilter {
	uint32_t conds; /* 1 << enum msgfilter_flag for each flag given */
	bool unanswered; /* --unanswered */
	int nnames;
	const char *names[MSGFILTER_MAX_VALUES]; /* globs; the caller keeps them */
	bool rcode_none; /* --rcode none: unanswered records */
	uint64_t rcodes[4096 / 64]; /* 12-bit extended rcodes */
	uint64_t qtypes[65536 / 64];
	uint8_t dirs; /* 1 << enum dnssnoop_dir */
	uint64_t slower_ns;
	struct msgfilter_prefixes clients, servers;
};

/*
 * Add one flag's value to f (zeroed to start with). -1 with one line in
 * err ("--rcode: 'NXDOMAN' is not an rcode ...") when it is not one.
 */
int msgfilter_add(struct msgfilter *f, enum msgfilter_flag flag, const char *arg, char *err,
		  size_t errlen);
/* --unanswered. */
void msgfilter_add_unanswered(struct msgfilter *f);
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
