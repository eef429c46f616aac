/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ClickHouse sink alone (report/clickhouse_sink.h), fed at a set rate:
 * what the capture thread does per message with --clickhouse (ch_row_build
 * of an observation and its verdict, clickhouse_sink_add), without the
 * decoder, matcher and detectors in front of it. tools/bench-clickhouse
 * runs it and counts the rows in the server.
 *
 *   bench-sink URL SPOOL ROWS RATE
 *
 * RATE rows a second (0: as fast as it goes), paced every millisecond.
 * The observations cycle through 65536 made-up ones: queries and answered
 * responses of processes and of remote addresses, names of 2 to 5 labels,
 * rows of 160 to 300 bytes like those of tools/gen-pcap's mix. Prints one
 * line of JSON: rows, their mean size, seconds (the first add to the flush's end), the rate
 * reached, the most the paced feed ever fell behind, the process's CPU
 * seconds, and the sink's counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "analysis/detect.h"
#include "lib/obs.h"
#include "lib/units.h"
#include "report/ch_row.h"
#include "report/clickhouse_sink.h"

#define VARIANTS 65536

struct variant {
	struct dns_obs obs;
	struct dnssnoop_owner owner;
	struct detect_verdict verdict;
	char qname[96];
};

static void make_name(char *out, size_t size, unsigned int k)
{
	static const char *const tlds[] = {"com", "net", "org", "de", "co.uk", "io"};

	switch (k % 4) {
	case 0:
		snprintf(out, size, "www.site%u.%s", k % 9973, tlds[k % 6]);
		break;
	case 1:
		snprintf(out, size, "api%u.svc%u.example.%s", k % 31, k % 4099, tlds[k % 6]);
		break;
	case 2:
		snprintf(out, size, "host%u.internal.corp.example.com", k % 20011);
		break;
	default:
		snprintf(out, size, "cdn%u.edge%u.cdnprovider%u.net", k % 97, k % 1009, k % 7);
	}
}

static void make_variant(struct variant *x, unsigned int k, uint64_t now_ns)
{
	struct dns_obs *o = &x->obs;
	struct detect_verdict *v = &x->verdict;
	bool process = k % 3 != 0, response = k % 2;
	uint32_t client = htonl(0x0a000000u | (k * 2654435761u >> 12 & 0xffff));
	uint32_t server = htonl(0x0a630001u + k % 4);

	make_name(x->qname, sizeof(x->qname), k / 2);
	*o = (struct dns_obs){
		.kind = response ? OBS_RESPONSE : OBS_QUERY,
		.ts_ns = now_ns + (uint64_t)k * 1000,
		.host = "bench-host-1",
		.dir = response ? DNSSNOOP_INGRESS : DNSSNOOP_EGRESS,
		.proto = IPPROTO_UDP,
		.family = AF_INET,
		.client_port = (uint16_t)(32768 + k % 28000),
		.server_port = 53,
		.qname = x->qname,
		.qname_len = strlen(x->qname),
		.qtype = k % 5 ? 1 : 28,
		.qclass = 1,
		.flags = response ? 0x8180 : 0x0100,
		.id = (uint16_t)(k * 40503u),
		.len = (uint32_t)(40 + strlen(x->qname) + (response ? 32 : 0)),
		.has_latency = response,
		.latency_ns = response ? 200000 + k % 5000000 : 0,
		.naddrs = response ? 1 + k % 3 : 0,
	};
	memcpy(o->client_addr, &client, 4);
	memcpy(o->server_addr, &server, 4);
	for (int a = 0; a < o->naddrs; a++) {
		uint32_t addr = htonl(0x5db8d800u + k % 251 + (uint32_t)a);

		o->addrs[a].family = AF_INET;
		memcpy(o->addrs[a].addr, &addr, 4);
	}
	if (process) {
		x->owner = (struct dnssnoop_owner){.tgid = 1000 + k % 50, .uid = k % 7 ? 0 : 1000};
		snprintf(x->owner.comm, sizeof(x->owner.comm), "%s",
			 k % 5 ? "postfix/smtp" : "curl");
		o->owner = &x->owner;
		o->cgroup = "/system.slice/postfix.service";
	}
	*v = (struct detect_verdict){.lookup = !response, .first_of_name = k % 17 == 0};
	v->client.process = process;
	snprintf(v->client.host, sizeof(v->client.host), "%s", o->host);
	if (process) {
		memcpy(v->client.comm, x->owner.comm, sizeof(x->owner.comm));
		v->client.uid = x->owner.uid;
		v->client.pid = x->owner.tgid;
		snprintf(v->client.cgroup, sizeof(v->client.cgroup), "%s", o->cgroup);
		snprintf(v->client.label, sizeof(v->client.label), "%s/%s uid=%u %s", o->host,
			 v->client.comm, v->client.uid, v->client.cgroup);
	} else {
		v->client.family = AF_INET;
		memcpy(v->client.addr, o->client_addr, 16);
		snprintf(v->client.label, sizeof(v->client.label), "%s/10.0.%u.%u", o->host,
			 o->client_addr[2], o->client_addr[3]);
	}
	snprintf(v->name_buf, sizeof(v->name_buf), "%s", x->qname);
	v->name = v->name_buf;
	v->domain = strchr(x->qname, '.') + 1;
	v->peer = "10.99.0.1";
	if (response)
		v->name_answer_ns = o->ts_ns - o->latency_ns;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static uint64_t now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Adds rows rows, rate a second (0: unpaced); the most it fell behind, in ns. */
static uint64_t feed(struct clickhouse_sink *s, struct variant *vs, uint64_t rows, uint64_t rate,
		     uint64_t *bytes)
{
	struct ch_rowbuf row = {0};
	uint64_t start = now_mono(), behind = 0;

	*bytes = 0;
	for (uint64_t i = 0; i < rows; i++) {
		struct variant *x = &vs[i % VARIANTS];

		if (rate && i % (rate / 1000 ? rate / 1000 : 1) == 0) {
			uint64_t due = start + i * NS_PER_SEC / rate, now = now_mono();

			if (now < due) {
				struct timespec ts = {.tv_sec = (time_t)(due / NS_PER_SEC),
						      .tv_nsec = (long)(due % NS_PER_SEC)};

				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			} else if (now - due > behind) {
				behind = now - due;
			}
		}
		x->obs.ts_ns += 65536000; /* every row its own time */
		ch_row_build(&row, &x->obs, &x->verdict);
		clickhouse_sink_add(s, CH_TABLE_MESSAGES, (const char *)row.buf, row.len);
		*bytes += row.len;
	}
	ch_rowbuf_free(&row);
	return behind;
}

int main(int argc, char **argv)
{
	struct clickhouse_sink_config cfg = {
		.spool_max_bytes = 4ULL << 30,
		.binary_columns = {[CH_TABLE_MESSAGES] = ch_row_column_list},
	};
	struct clickhouse_counts c;
	struct clickhouse_sink *s;
	struct variant *vs;
	struct timespec wall;
	uint64_t rows, rate, behind, t0, bytes;
	double cpu0, seconds;
	char err[768];
	int status;

	if (argc != 5) {
		fprintf(stderr, "usage: bench-sink URL SPOOL ROWS RATE\n");
		return 2;
	}
	cfg.url = argv[1];
	cfg.spool_dir = argv[2];
	rows = strtoull(argv[3], NULL, 10);
	rate = strtoull(argv[4], NULL, 10);
	vs = calloc(VARIANTS, sizeof(*vs));
	if (!vs)
		return 1;
	clock_gettime(CLOCK_REALTIME, &wall);
	for (unsigned int k = 0; k < VARIANTS; k++)
		make_variant(&vs[k], k, (uint64_t)wall.tv_sec * NS_PER_SEC);
	s = clickhouse_sink_open(&cfg, &status, err, sizeof(err));
	if (!s || clickhouse_sink_start(s, err, sizeof(err))) {
		fprintf(stderr, "bench-sink: %s\n", err);
		return 1;
	}
	cpu0 = cpu_seconds();
	t0 = now_mono();
	behind = feed(s, vs, rows, rate, &bytes);
	clickhouse_sink_flush(s, 60 * NS_PER_SEC);
	seconds = (double)(now_mono() - t0) / 1e9;
	clickhouse_sink_counts(s, &c);
	printf("{\"rows\":%llu,\"row_bytes\":%.0f,\"seconds\":%.3f,\"rate\":%.0f,"
	       "\"behind_ms\":%.1f,\"cpu_s\":%.2f,\"batches_sent\":%llu,\"rows_sent\":%llu,"
	       "\"retried\":%llu,"
	       "\"spilled\":%llu,\"dropped\":%llu}\n",
	       (unsigned long long)rows, rows ? (double)bytes / (double)rows : 0.0, seconds,
	       (double)rows / seconds, (double)behind / 1e6, cpu_seconds() - cpu0,
	       (unsigned long long)c.batches_sent, (unsigned long long)c.rows_sent,
	       (unsigned long long)c.retried, (unsigned long long)c.spilled,
	       (unsigned long long)c.dropped);
	fflush(stdout);
	clickhouse_sink_close(s, 60 * NS_PER_SEC);
	free(vs);
	return 0;
}
