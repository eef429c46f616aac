// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Display filters: their values compiled, and a record judged against them. */
#include <arpa/inet.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "capture/cgroup_ident.h"
#include "lib/numparse.h"
#include "lib/units.h"
#include "report/msgfilter.h"

#define MAX_DURATION_UNITS 1000000000u /* --slower-than: at most 1e9 of its unit */

static const char *const flag_names[] = {
	[MSGFILTER_NAME] = "--name",	       [MSGFILTER_RCODE] = "--rcode",
	[MSGFILTER_QTYPE] = "--qtype",	       [MSGFILTER_DIR] = "--dir",
	[MSGFILTER_SLOWER] = "--slower-than",  [MSGFILTER_CLIENT] = "--client",
	[MSGFILTER_SERVER] = "--server",       [MSGFILTER_UNIT] = "--unit",
	[MSGFILTER_CONTAINER] = "--container",
};

static const char *const flag_wants[] = {
	[MSGFILTER_NAME] = "is not a name glob",
	[MSGFILTER_RCODE] = "is not an rcode (NOERROR, NXDOMAIN, SERVFAIL, ..., RCODEn, or none)",
	[MSGFILTER_QTYPE] = "is not a type (A, AAAA, MX, ..., or TYPEn)",
	[MSGFILTER_DIR] = "is neither egress nor ingress",
	[MSGFILTER_SLOWER] = "is not a duration (e.g. 100ms, 2s, 1500us; ns, us, ms or s)",
	[MSGFILTER_CLIENT] = "is not an address or a prefix (IPv4 or IPv6, ADDRESS/BITS)",
	[MSGFILTER_SERVER] = "is not an address or a prefix (IPv4 or IPv6, ADDRESS/BITS)",
	[MSGFILTER_UNIT] = "is not a unit glob",
	[MSGFILTER_CONTAINER] = "is not a container name glob or id prefix",
};

static void set_bit(uint64_t *set, unsigned int v)
{
	set[v / 64] |= 1ull << (v % 64);
}

static bool has_bit(const uint64_t *set, unsigned int v)
{
	return set[v / 64] >> (v % 64) & 1;
}

bool msgfilter_parse_duration(const char *s, uint64_t *ns)
{
	/* ns per unit, as the divisor of a value parsed as seconds */
	static const struct {
		const char *suffix;
		uint64_t div;
	} units[] = {{"ns", NS_PER_SEC},
		     {"us", NS_PER_SEC / 1000},
		     {"ms", NS_PER_SEC / 1000000},
		     {"s", 1}};
	size_t len = strlen(s), n;
	uint64_t v;

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		n = strlen(units[i].suffix);
		if (len <= n || strcmp(s + len - n, units[i].suffix) != 0)
			continue;
		len -= n;
		if (!num_parse_seconds_ns(s, len, MAX_DURATION_UNITS * NS_PER_SEC, &v) ||
		    v % units[i].div)
			return false; /* not a number, or a fraction of a nanosecond */
		*ns = v / units[i].div;
		return true;
	}
	return num_parse_seconds_ns(s, len, MAX_DURATION_UNITS * NS_PER_SEC, ns);
}

bool msgfilter_parse_prefix(const char *s, struct msgfilter_prefix *p)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t bits;

	if (alen >= sizeof(addr))
		return false;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, addr, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, p->addr) == 1)
		p->family = AF_INET6;
	else
		return false;
	bits = p->family == AF_INET ? 32 : 128;
	if (slash && !num_parse_uint(slash + 1, strlen(slash + 1), bits, &bits))
		return false;
	p->bits = (uint8_t)bits;
	return true;
}

bool msgfilter_prefix_has(const struct msgfilter_prefix *p, uint8_t family, const uint8_t *addr)
{
	unsigned int whole = p->bits / 8, rest = p->bits % 8;

	if (family != p->family || memcmp(addr, p->addr, whole) != 0)
		return false;
	return !rest || ((addr[whole] ^ p->addr[whole]) & (0xff00 >> rest) & 0xff) == 0;
}

static bool add_prefix(struct msgfilter_prefixes *ps, const char *arg)
{
	if (!msgfilter_parse_prefix(arg, &ps->p[ps->n]))
		return false;
	ps->n++;
	return true;
}

static bool add_rcode(struct msgfilter *f, const char *arg)
{
	int v;

	if (!strcmp(arg, "none")) {
		f->rcode_none = true;
		return true;
	}
	v = dns_rcode_from_str(arg);
	if (v >= 0)
		set_bit(f->rcodes, (unsigned int)v);
	return v >= 0;
}

static bool add_qtype(struct msgfilter *f, const char *arg)
{
	int v = dns_type_from_str(arg);

	if (v >= 0)
		set_bit(f->qtypes, (unsigned int)v);
	return v >= 0;
}

static bool add_dir(struct msgfilter *f, const char *arg)
{
	if (!strcmp(arg, "egress"))
		f->dirs |= 1u << DNSSNOOP_EGRESS;
	else if (!strcmp(arg, "ingress"))
		f->dirs |= 1u << DNSSNOOP_INGRESS;
	else
		return false;
	return true;
}

/* An empty glob would match nothing but an empty name: refused as a mistake. */
static bool add_glob(struct msgfilter_globs *g, const char *arg)
{
	if (!*arg)
		return false;
	g->v[g->n++] = arg;
	return true;
}

static bool add_value(struct msgfilter *f, enum msgfilter_flag flag, const char *arg)
{
	switch (flag) {
	case MSGFILTER_NAME:
		return add_glob(&f->names, arg);
	case MSGFILTER_RCODE:
		return add_rcode(f, arg);
	case MSGFILTER_QTYPE:
		return add_qtype(f, arg);
	case MSGFILTER_DIR:
		return add_dir(f, arg);
	case MSGFILTER_SLOWER:
		return msgfilter_parse_duration(arg, &f->slower_ns);
	case MSGFILTER_CLIENT:
		return add_prefix(&f->clients, arg);
	case MSGFILTER_SERVER:
		return add_prefix(&f->servers, arg);
	case MSGFILTER_UNIT:
		return add_glob(&f->units, arg);
	case MSGFILTER_CONTAINER:
		return add_glob(&f->containers, arg);
	}
	return false;
}

/* The flags kept as lists (rcodes, types and directions are sets: no bound). */
static bool full(const struct msgfilter *f, enum msgfilter_flag flag)
{
	switch (flag) {
	case MSGFILTER_NAME:
		return f->names.n == MSGFILTER_MAX_VALUES;
	case MSGFILTER_UNIT:
		return f->units.n == MSGFILTER_MAX_VALUES;
	case MSGFILTER_CONTAINER:
		return f->containers.n == MSGFILTER_MAX_VALUES;
	case MSGFILTER_CLIENT:
		return f->clients.n == MSGFILTER_MAX_VALUES;
	case MSGFILTER_SERVER:
		return f->servers.n == MSGFILTER_MAX_VALUES;
	default:
		return false;
	}
}

int msgfilter_add(struct msgfilter *f, enum msgfilter_flag flag, const char *arg, char *err,
		  size_t errlen)
{
	if (full(f, flag)) {
		snprintf(err, errlen, "%s: at most %d values (got another: %s)", flag_names[flag],
			 MSGFILTER_MAX_VALUES, arg);
		return -1;
	}
	if (!add_value(f, flag, arg)) {
		snprintf(err, errlen, "%s: '%s' %s", flag_names[flag], arg, flag_wants[flag]);
		return -1;
	}
	f->conds |= 1u << flag;
	return 0;
}

void msgfilter_add_unanswered(struct msgfilter *f)
{
	f->unanswered = true;
}

void msgfilter_set_ident(struct msgfilter *f, cgroup_ident_fn fn, void *ctx)
{
	f->ident = fn;
	f->ident_ctx = ctx;
}

bool msgfilter_wants_ident(const struct msgfilter *f)
{
	return f->conds & (1u << MSGFILTER_UNIT | 1u << MSGFILTER_CONTAINER);
}

bool msgfilter_active(const struct msgfilter *f)
{
	return f->conds || f->unanswered;
}

static bool has_question(const struct dns_record *rec)
{
	return rec->msg->has_question;
}

static bool is_response(const struct dns_record *rec)
{
	return rec->kind == RECORD_DNS && dns_is_response(rec->msg);
}

static bool globs_match(const struct msgfilter_globs *g, const char *s, int flags)
{
	for (int i = 0; i < g->n; i++)
		if (fnmatch(g->v[i], s, flags) == 0)
			return true;
	return false;
}

static bool name_passes(const struct msgfilter *f, const struct dns_record *rec)
{
	if (!has_question(rec))
		return false;
	return globs_match(&f->names, rec->msg->qname, FNM_CASEFOLD);
}

static bool rcode_passes(const struct msgfilter *f, const struct dns_record *rec)
{
	if (rec->kind == RECORD_UNANSWERED)
		return f->rcode_none;
	return is_response(rec) && has_bit(f->rcodes, rec->msg->rcode & 0xfff);
}

static bool slower_passes(const struct msgfilter *f, const struct dns_record *rec)
{
	if (rec->kind == RECORD_UNANSWERED)
		return true;
	return rec->has_latency && rec->latency_ns > f->slower_ns;
}

static bool prefixes_have(const struct msgfilter_prefixes *ps, uint8_t family, const uint8_t *addr)
{
	for (int i = 0; i < ps->n; i++)
		if (msgfilter_prefix_has(&ps->p[i], family, addr))
			return true;
	return false;
}

/* The client sent the query: the source of a query, the destination of a response. */
static bool ends_pass(const struct msgfilter *f, const struct dns_record *rec)
{
	const struct pkt_meta *m = rec->meta;
	bool resp = is_response(rec);
	const uint8_t *client = resp ? m->daddr : m->saddr;
	const uint8_t *server = resp ? m->saddr : m->daddr;

	if ((f->conds & 1u << MSGFILTER_CLIENT) && !prefixes_have(&f->clients, m->family, client))
		return false;
	return !(f->conds & 1u << MSGFILTER_SERVER) ||
	       prefixes_have(&f->servers, m->family, server);
}

static bool given(const struct msgfilter *f, enum msgfilter_flag flag)
{
	return f->conds & 1u << flag;
}

/* A container by its name (a glob) or by the start of its id (a runtime's short id). */
static bool container_passes(const struct msgfilter_globs *g, const struct cgroup_ident *id)
{
	if (!cgroup_ident_is_container(id))
		return false;
	for (int i = 0; i < g->n; i++)
		if (!strncmp(id->container_id, g->v[i], strlen(g->v[i])))
			return true;
	return id->container_name[0] && globs_match(g, id->container_name, 0);
}

/* --unit and --container: the owner's identity, looked up once for both. */
static bool ident_passes(const struct msgfilter *f, const struct dns_record *rec)
{
	const struct cgroup_ident *id;

	if (!f->ident || !pkt_has_owner(rec->meta))
		return false;
	id = f->ident(f->ident_ctx, rec->meta->owner.cgroup_id);
	if (!id)
		return false;
	if (given(f, MSGFILTER_UNIT) && !(id->unit[0] && globs_match(&f->units, id->unit, 0)))
		return false;
	return !given(f, MSGFILTER_CONTAINER) || container_passes(&f->containers, id);
}

/* The conditions that cost a compare each come first, the globs last. */
bool msgfilter_match(const struct msgfilter *f, const struct dns_record *rec)
{
	if (f->unanswered && rec->kind != RECORD_UNANSWERED)
		return false;
	if (given(f, MSGFILTER_DIR) && !(rec->meta->dir < 8 && f->dirs >> rec->meta->dir & 1))
		return false;
	if (given(f, MSGFILTER_RCODE) && !rcode_passes(f, rec))
		return false;
	if (given(f, MSGFILTER_QTYPE) &&
	    !(has_question(rec) && has_bit(f->qtypes, rec->msg->qtype)))
		return false;
	if (given(f, MSGFILTER_SLOWER) && !slower_passes(f, rec))
		return false;
	if (!ends_pass(f, rec))
		return false;
	if (msgfilter_wants_ident(f) && !ident_passes(f, rec))
		return false;
	return !given(f, MSGFILTER_NAME) || name_passes(f, rec);
}
