/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The command line: what the flags mean is in docs/cli.md. */
#ifndef DNSSNOOP_CLI_H
#define DNSSNOOP_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "analysis/detect.h"
#include "analysis/state.h"
#include "app/metrics_http.h"
#include "app/privdrop.h"
#include "capture/capture_live.h"
#include "report/msgfilter.h"
#include "report/output.h"

#define MAX_READ_FILES 256

struct options {
	uint64_t duration_ns; /* -d, 0 = until interrupted */
	uint64_t count; /* -c */
	const char *output_path; /* -o */
	enum output_format format;
	uint32_t pid; /* -p */
	const char *comm; /* --comm */
	const char *cgroup; /* --cgroup */
	enum live_hook hook; /* --hook */
	enum live_tc_attach tc_attach; /* --tc-attach */
	const char *ifaces[LIVE_MAX_IFACES]; /* -i */
	int nifaces;
	uint16_t ports[DNSSNOOP_MAX_PORTS];
	int nports;
	uint32_t snaplen;
	uint64_t timeout_ns;
	uint32_t ringbuf_mb;
	uint64_t max_pending;
	bool verbose;
	bool summary; /* --summary (implied by --no-events and --interval) */
	bool events; /* false with --no-events */
	uint64_t interval_ns; /* --interval */
	uint64_t top_n; /* --top */
	uint64_t max_entries; /* --max-entries */
	const char *read_paths[MAX_READ_FILES]; /* -r */
	int nread;
	uint64_t max_line_bytes; /* --max-line-bytes: JSON Lines input */
	const char *write_path; /* -w */
	const char *dnstap_socket; /* --dnstap-socket: collect dnstap here */
	const char *dnstap_out; /* --dnstap-out: a file, or unix:PATH */
	char *filter; /* tcpdump filter expression for -r (owned) */
	struct detect_config detect; /* --detect and its thresholds */
	const char *user; /* -Z, NULL: the default (docs/security.md) */
	enum privdrop_seccomp seccomp; /* --seccomp */
	const char *state_path; /* --state (docs/state.md); NULL: no state file */
	bool state_default; /* no --state, --no-state or -r: the default file if root */
	uint64_t retain_days; /* --retain */
	bool report; /* --report: judge the stored history, capture nothing */
	uint64_t since_ns; /* --since: the stored days judged (0: all) */
	const char *from_clickhouse; /* --from-clickhouse URL: judge the fleet's history there */
	const char *hosts; /* --hosts: the fleet's hosts judged (NULL: all) */
	struct metrics_listen metrics; /* --metrics; text NULL: none */
	struct msgfilter msgfilter; /* --name, --rcode, ...: which records are written */
	bool filter_stats; /* --filter-stats: the statistics count only what passes too */
	bool top_live; /* --top-live: the full-screen view instead of records on the terminal */
	bool pace; /* --pace: -r replayed at the speed its packets' times say */
	bool quiet; /* -q: no progress line for -r on a terminal */
	const char *clickhouse; /* --clickhouse URL; NULL: none */
	const char *clickhouse_spool; /* --clickhouse-spool; NULL: the default */
	uint64_t clickhouse_spool_mb; /* --clickhouse-spool-mb; 0: the default */
};

/*
 * Fill o from argv. A usage error prints why on stderr and exits 2;
 * --help and --version print and exit 0.
 */
void cli_parse(int argc, char **argv, struct options *o);

/* Free what cli_parse() allocated in o. */
void cli_free(struct options *o);

#endif
