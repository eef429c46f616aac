// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * User-space pipeline throughput: query/response pairs from the captured
 * fixtures go through pipeline_packet() (decode, match, JSON or text output
 * to /dev/null), as the live source feeds them. Prints messages/s for one
 * core. Built and run by tools/bench-pipeline.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/pipeline.h"

struct msg {
	uint8_t buf[4096];
	size_t len;
};

static int load(const char *path, struct msg *m)
{
	FILE *f = fopen(path, "rb");

	if (!f)
		return -1;
	m->len = fread(m->buf, 1, sizeof(m->buf), f);
	fclose(f);
	return m->len >= 12 ? 0 : -1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	/* Captured queries and their responses (same id and question). */
	static const char *pairs[][2] = {{"query_a_mixed_case", "resp_a_mixed_case"},
					 {"query_aaaa_ecs", "resp_aaaa"},
					 {"query_mx", "resp_mx"},
					 {"query_ns_cookie_nsid", "resp_ns_cookie"}};
	const int npairs = sizeof(pairs) / sizeof(pairs[0]);
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
	enum output_format fmt = argc > 2 && !strcmp(argv[2], "text") ? OUTPUT_TEXT : OUTPUT_JSON;
	struct msg q[4], r[4];
	char path[256];

	for (int i = 0; i < npairs; i++) {
		for (int j = 0; j < 2; j++) {
			snprintf(path, sizeof(path), "tests/fixtures/dns/%s.bin", pairs[i][j]);
			if (load(path, j ? &r[i] : &q[i])) {
				fprintf(stderr, "cannot read %s\n", path);
				return 1;
			}
		}
	}
	struct output_config ocfg = {
		.fd = open("/dev/null", O_WRONLY), .format = fmt, .host = "bench"};
	struct output *out = output_new(&ocfg);
	struct pipeline_config pcfg = {
		.out = out,
		.events = true,
		.timeout_ns = 5000000000ULL,
		.max_pending = 65536,
		.max_tcp_flows = 64,
	};
	struct pipeline *p = pipeline_new(&pcfg);
	struct pkt_meta mq = {.family = AF_INET,
			      .proto = IPPROTO_UDP,
			      .dir = DNSSNOOP_EGRESS,
			      .saddr = {10, 0, 0, 1},
			      .daddr = {10, 0, 0, 2},
			      .dport = 53,
			      .owner = {.tgid = 42, .pid = 42, .comm = "bench"}};
	struct pkt_meta mr = mq;
	struct capture_stats st = {0};
	double t0 = now_s(), dt;

	mr.dir = DNSSNOOP_INGRESS;
	memcpy(mr.saddr, mq.daddr, 16);
	memcpy(mr.daddr, mq.saddr, 16);
	mr.sport = 53;
	for (uint64_t i = 0; i < n / 2; i++) {
		int k = i % npairs;

		/* A new client port per exchange, so every response matches its own query. */
		mq.sport = mr.dport = 1024 + i % 60000;
		mq.ts_ns = 1795788301000000000ULL + i * 1000;
		mr.ts_ns = mq.ts_ns + 500;
		mq.orig_len = q[k].len;
		mr.orig_len = r[k].len;
		pipeline_packet(p, &mq, q[k].buf, q[k].len);
		pipeline_packet(p, &mr, r[k].buf, r[k].len);
	}
	output_flush(out);
	dt = now_s() - t0;
	pipeline_get_stats(p, &st);
	printf("%llu messages (%llu matched responses) in %.3f s: %.2f M messages/s (%s output)\n",
	       (unsigned long long)st.messages, (unsigned long long)st.responses_matched, dt,
	       st.messages / dt / 1e6, fmt == OUTPUT_TEXT ? "text" : "json");
	pipeline_free(p);
	output_free(out);
	return 0;
}
