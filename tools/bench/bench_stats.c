// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Statistics aggregation on one core (built and run by tools/bench-stats).
 *
 *   bench-stats mix MILLIONS [AFFINITY]
 *	stats_add() throughput over a realistic mix: 400 processes (Zipf-
 *	popular, 40 comms, 10 cgroups), 8 resolvers, 100000 names with a Zipf
 *	(s = 1) popularity, 80% queries and 20% responses with latency and
 *	answers; every message from a known process, so each one updates all
 *	eight tables. Each message's process is drawn independently of its
 *	name, so 400 processes x 100000 names keep the process x name table
 *	full and evicting (4 of 10 messages bring a new pair): the worst case
 *	for it. With AFFINITY a (0 .. 1), each name has a home process (drawn
 *	by process popularity) that sends that share of its queries, as
 *	programs tend to resolve their own names.
 *   bench-stats flood NAMES
 *	peak RSS after a random-subdomain flood: NAMES distinct random names
 *	(a 12-hex-digit label under victim-domain.com, 30 bytes), each a query
 *	and an NXDOMAIN response with latency, one process, one resolver. It
 *	fills the three name-keyed tables (name, process x name, client x name).
 *   bench-stats full NAMES
 *	the same, but each exchange also from its own process (pid, comm),
 *	client address and server address: all eight tables fill, the memory
 *	ceiling of the statistics at the default max_entries.
 *
 * The observations are generated before the clock starts (the mix cycles
 * through 2^20 pre-drawn messages); the timed loop only fills the fields
 * of a struct dns_obs per message, as the pipeline does, and adds it.
 * Default max_entries (100000).
 */
#include <math.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "analysis/stats.h"

#define MIX_EVENTS  (1u << 20)
#define MIX_NAMES   100000
#define MIX_PROCS   400
#define MIX_PEERS   8
#define NAME_STRIDE 48

/*
 * One pre-drawn message. The name is copied in, as the decoder leaves it in
 * the buffer it just parsed: read sequentially here, not looked up in a
 * 4.8 MB array of names (which would add a cache miss the pipeline does not
 * have).
 */
struct event {
	char qname[NAME_STRIDE];
	uint32_t name;
	uint16_t proc;
	uint8_t kind;
	uint8_t qtype_idx;
	uint8_t rcode;
	uint8_t naddrs;
	uint32_t latency_us;
	uint8_t qname_len;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static double uniform(void)
{
	return (rng() >> 11) * (1.0 / 9007199254740992.0);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double max_rss_mib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

/* Zipf(s = 1) sampler over n items: the cumulative weights, searched. */
static double *zipf_cdf(uint32_t n)
{
	double *cdf = malloc(n * sizeof(*cdf)), sum = 0;

	for (uint32_t i = 0; i < n; i++)
		cdf[i] = sum += 1.0 / (i + 1);
	for (uint32_t i = 0; i < n; i++)
		cdf[i] /= sum;
	return cdf;
}

static uint32_t zipf_draw(const double *cdf, uint32_t n)
{
	double u = uniform();
	uint32_t lo = 0, hi = n - 1;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int bench_mix(uint64_t messages, double affinity)
{
	static const uint16_t qtypes[4] = {1, 28, 65, 12};
	static const char *const labels[8] = {"www",	"api",	"cdn", "mail",
					      "static", "auth", "img", "login"};
	struct dnssnoop_owner *owners = calloc(MIX_PROCS, sizeof(*owners));
	char *names = malloc((size_t)MIX_NAMES * NAME_STRIDE), cgroups[10][64];
	uint8_t *name_len = malloc(MIX_NAMES);
	struct event *ev = malloc(MIX_EVENTS * sizeof(*ev));
	double *name_cdf = zipf_cdf(MIX_NAMES), *proc_cdf = zipf_cdf(MIX_PROCS);
	struct stats *s = stats_new(NULL);
	struct dns_obs o;
	double t0, dt;

	uint16_t *home = malloc(MIX_NAMES * sizeof(*home));

	for (uint32_t i = 0; i < MIX_NAMES; i++)
		home[i] = (uint16_t)zipf_draw(proc_cdf, MIX_PROCS);
	for (int i = 0; i < 10; i++)
		snprintf(cgroups[i], sizeof(cgroups[i]), "/system.slice/service-%d.service", i);
	for (int i = 0; i < MIX_PROCS; i++) {
		owners[i].tgid = 2000 + i * 7;
		owners[i].pid = owners[i].tgid;
		owners[i].uid = i % 5 ? 1000 : 0;
		snprintf(owners[i].comm, sizeof(owners[i].comm), "worker-%d", i % 40);
	}
	for (uint32_t i = 0; i < MIX_NAMES; i++)
		name_len[i] = (uint8_t)snprintf(names + (size_t)i * NAME_STRIDE, NAME_STRIDE,
						"%s%u.%s-%u.example.com", labels[i % 8], i % 97,
						i & 1 ? "Zone" : "zone", i / 8);
	for (uint32_t i = 0; i < MIX_EVENTS; i++) {
		struct event *e = &ev[i];
		uint32_t r = (uint32_t)rng();

		e->name = zipf_draw(name_cdf, MIX_NAMES);
		memcpy(e->qname, names + (size_t)e->name * NAME_STRIDE, NAME_STRIDE);
		e->qname_len = name_len[e->name];
		if (affinity && uniform() < affinity)
			e->proc = home[e->name];
		else
			e->proc = (uint16_t)zipf_draw(proc_cdf, MIX_PROCS);
		e->kind = r % 5 == 0 ? OBS_RESPONSE : OBS_QUERY;
		e->qtype_idx = (r >> 8) % 10 < 5 ? 0 : (r >> 8) % 10 < 9 ? 1 : 2 + (r >> 12) % 2;
		e->rcode = (r >> 16) % 10 == 0 ? 3 : 0;
		e->naddrs = e->rcode ? 0 : 1 + (r >> 20) % 2;
		e->latency_us = 200 + (uint32_t)(rng() % 50000);
	}
	memset(&o, 0, sizeof(o));
	o.family = AF_INET;
	o.client_addr[0] = 10;
	o.client_addr[3] = 5;
	o.server_addr[0] = 10;
	o.client_port = 40000;
	o.server_port = 53;
	o.len = 60;
	for (int a = 0; a < 2; a++) {
		o.addrs[a].family = AF_INET;
		o.addrs[a].addr[0] = 93;
	}
	t0 = now_s();
	for (uint64_t i = 0; i < messages + MIX_EVENTS; i++) {
		const struct event *e = &ev[i & (MIX_EVENTS - 1)];

		if (i == MIX_EVENTS)
			t0 = now_s(); /* the first pass fills the tables: warm-up */
		o.kind = e->kind;
		o.ts_ns = 1700000000000000000ull + i * 1000;
		o.dir = e->kind == OBS_QUERY ? DNSSNOOP_EGRESS : DNSSNOOP_INGRESS;
		o.proto = i % 50 ? IPPROTO_UDP : IPPROTO_TCP;
		o.owner = &owners[e->proc];
		o.cgroup = cgroups[e->proc % 10];
		o.server_addr[3] = (uint8_t)(1 + e->proc % MIX_PEERS);
		o.client_port = (uint16_t)(32768 + (i & 0x3fff));
		o.qname = e->qname;
		o.qname_len = e->qname_len;
		o.qtype = qtypes[e->qtype_idx];
		o.rcode = e->rcode;
		o.has_latency = e->kind == OBS_RESPONSE;
		o.latency_ns = e->latency_us * 1000ull;
		o.naddrs = e->kind == OBS_RESPONSE ? e->naddrs : 0;
		o.addrs[0].addr[3] = (uint8_t)e->name;
		o.addrs[1].addr[3] = (uint8_t)(e->name + 1);
		stats_add(s, &o);
	}
	dt = now_s() - t0;
	printf("mix: %llu messages in %.3f s: %.2f M messages/s; entries process %zu comm %zu "
	       "peer %zu name %zu client %zu proc_peer %zu proc_name %zu client_name %zu; "
	       "evictions "
	       "proc_name %llu client_name %llu; peak RSS %.1f MiB (with %zu MiB of messages)\n",
	       (unsigned long long)messages, dt, messages / dt / 1e6,
	       stats_entries(s, STATS_PROCESS), stats_entries(s, STATS_COMM),
	       stats_entries(s, STATS_PEER), stats_entries(s, STATS_NAME),
	       stats_entries(s, STATS_CLIENT), stats_entries(s, STATS_PROC_PEER),
	       stats_entries(s, STATS_PROC_NAME), stats_entries(s, STATS_CLIENT_NAME),
	       (unsigned long long)stats_evictions(s, STATS_PROC_NAME),
	       (unsigned long long)stats_evictions(s, STATS_CLIENT_NAME), max_rss_mib(),
	       MIX_EVENTS * sizeof(*ev) >> 20);
	stats_free(s);
	free(owners);
	free(names);
	free(name_len);
	free(home);
	free(ev);
	free(name_cdf);
	free(proc_cdf);
	return 0;
}

/* A distinct process, client and server for exchange i (bench "full"). */
static void vary_every_key(struct dns_obs *o, struct dnssnoop_owner *owner, uint64_t i)
{
	owner->tgid = owner->pid = (uint32_t)(1000 + i);
	snprintf(owner->comm, sizeof(owner->comm), "w%x", (unsigned int)i);
	memcpy(&o->client_addr[1], &i, 3);
	memcpy(&o->server_addr[1], &i, 3);
}

static int bench_flood(uint64_t nnames, bool every_table)
{
	struct dnssnoop_owner owner = {.tgid = 4242, .pid = 4242, .comm = "resolver"};
	double base = max_rss_mib(), t0, dt;
	struct stats *s = stats_new(NULL);
	struct dns_obs o;
	char name[64];

	memset(&o, 0, sizeof(o));
	o.family = AF_INET;
	o.proto = IPPROTO_UDP;
	o.client_addr[0] = 10;
	o.client_addr[3] = 5;
	o.server_addr[0] = 10;
	o.server_addr[3] = 1;
	o.client_port = 40000;
	o.server_port = 53;
	o.owner = &owner;
	o.cgroup = "/system.slice/resolver.service";
	o.qname = name;
	o.qtype = 1;
	t0 = now_s();
	for (uint64_t i = 0; i < nnames; i++) {
		/* A random 12-hex-digit label: "3f9a0c1b72de.victim-domain.com" (30 bytes). */
		o.qname_len = (size_t)snprintf(name, sizeof(name), "%012llx.victim-domain.com",
					       (unsigned long long)(rng() >> 16));
		if (every_table)
			vary_every_key(&o, &owner, i);
		o.kind = OBS_QUERY;
		o.dir = DNSSNOOP_EGRESS;
		o.ts_ns = i * 1000;
		o.len = 48;
		o.has_latency = false;
		stats_add(s, &o);
		o.kind = OBS_RESPONSE;
		o.dir = DNSSNOOP_INGRESS;
		o.rcode = 3;
		o.len = 120;
		o.has_latency = true;
		o.latency_ns = 1000000 + (rng() % 30000000);
		stats_add(s, &o);
	}
	dt = now_s() - t0;
	printf("%s: %llu distinct names (query + NXDOMAIN each) in %.3f s (%.2f M messages/s); "
	       "entries process %zu comm %zu peer %zu name %zu client %zu proc_peer %zu "
	       "proc_name %zu client_name %zu; peak RSS %.1f MiB (%.1f MiB before stats_new)\n",
	       every_table ? "full" : "flood", (unsigned long long)nnames, dt,
	       2 * nnames / dt / 1e6, stats_entries(s, STATS_PROCESS), stats_entries(s, STATS_COMM),
	       stats_entries(s, STATS_PEER), stats_entries(s, STATS_NAME),
	       stats_entries(s, STATS_CLIENT), stats_entries(s, STATS_PROC_PEER),
	       stats_entries(s, STATS_PROC_NAME), stats_entries(s, STATS_CLIENT_NAME),
	       max_rss_mib(), base);
	stats_free(s);
	return 0;
}

int main(int argc, char **argv)
{
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "mix"))
		return bench_mix((uint64_t)(atof(argv[2]) * 1e6), argc == 4 ? atof(argv[3]) : 0);
	if (argc == 3 && (!strcmp(argv[1], "flood") || !strcmp(argv[1], "full")))
		return bench_flood(strtoull(argv[2], NULL, 10), !strcmp(argv[1], "full"));
	fprintf(stderr, "usage: %s mix MILLIONS [AFFINITY] | flood NAMES | full NAMES\n", argv[0]);
	return 2;
}
