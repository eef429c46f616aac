// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The command line's table (cli_options.h) and --help, printed from it. */
#include <string.h>

#include "app/cli_options.h"
#include "app/privdrop.h"
#include "analysis/state.h"
#include "bpf/dnssnoop.h"
#include "capture/capture_live.h"
#include "report/output.h"

#define STR_(x) #x
#define STR(x)	STR_(x)

/* Choices, indexed by the value the parser stores. */
static const char *const format_words[] = {[OUTPUT_JSON] = "json", [OUTPUT_TEXT] = "text", NULL};
static const char *const hook_words[] = {
	[LIVE_HOOK_CGROUP] = "cgroup", [LIVE_HOOK_TC] = "tc", [LIVE_HOOK_XDP] = "xdp", NULL};
static const char *const tc_attach_words[] = {
	[LIVE_TC_AUTO] = "auto", [LIVE_TC_TCX] = "tcx", [LIVE_TC_CLSACT] = "clsact", NULL};
static const char *const seccomp_words[] = {[PRIVDROP_SECCOMP_ON] = "on",
					    [PRIVDROP_SECCOMP_OFF] = "off",
					    [PRIVDROP_SECCOMP_LOG] = "log",
					    NULL};
/* Hints: the values most asked for (the parsers take more). */
static const char *const dir_words[] = {"egress", "ingress", NULL};
static const char *const detect_words[] = {
	"mutual",   "exclusive_target", "exclusive_client", "time_window",
	"periodic", "replacement",	"first_seen",	    NULL};
static const char *const rcode_words[] = {"NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED",
					  "FORMERR", "NOTIMP",	 "none",     NULL};
static const char *const qtype_words[] = {"A",	 "AAAA",   "CNAME", "MX",    "NS",   "PTR",
					  "SOA", "SRV",	   "TXT",   "HTTPS", "SVCB", "CAA",
					  "DS",	 "DNSKEY", "ANY",   NULL};

/* An option: its id, long name, argument (or NULL) and help, then any other field. */
#define OPT(i, n, a, h, ...)                                                 \
	{                                                                    \
		.id = (i), .name = (n), .arg = (a), .help = (h), __VA_ARGS__ \
	}
#define HEADING(text)          \
	{                      \
		.help = (text) \
	}
#define CHOICE(w) .complete = CLI_COMPLETE_WORDS, .words = (w), .choice = true
#define HINTS(w)  .complete = CLI_COMPLETE_WORDS, .words = (w)
#define FILEARG	  .complete = CLI_COMPLETE_FILE

const char *const cli_usage_lines[] = {
	"dnssnoop [OPTIONS]",
	"dnssnoop -r FILE [-r FILE]... [OPTIONS] [FILTER EXPRESSION]",
	NULL,
};

const char cli_summary[] =
	"Trace every DNS message sent or received on this host, with its process, or read them "
	"from pcap/pcapng files. Output: JSON Lines (one record per message; see "
	"docs/output.md).";

const struct cli_option cli_options[] = {
	OPT('d', "duration", "SECONDS", "trace for this long, then exit (default: until Ctrl-C)",
	    .live_only = true),
	OPT('c', "count", "N", "exit after N DNS messages"),
	OPT('o', "output", "FILE", "write records to FILE instead of stdout", FILEARG),
	OPT('r', "read", "FILE",
	    "read packets from a pcap/pcapng file, or dnssnoop's JSON Lines from many hosts (- = "
	    "stdin), merged by time instead of the kernel; repeatable; no root needed; an optional "
	    "tcpdump filter expression may follow",
	    FILEARG),
	OPT(OPT_MAX_LINE_BYTES, "max-line-bytes", "N",
	    "-r JSON Lines: longer lines are skipped (default 1048576)"),
	OPT('w', "write", "FILE",
	    "also save every packet captured or read as pcap (with display filters: the messages "
	    "that pass)",
	    FILEARG),
	OPT(OPT_DNSTAP_SOCKET, "dnstap-socket", "PATH",
	    "collect dnstap from DNS servers on this unix socket (mode 0600) instead of the "
	    "kernel; "
	    "-d ends it",
	    FILEARG),
	OPT(OPT_DNSTAP_OUT, "dnstap-out", "FILE|unix:PATH",
	    "also write every message as dnstap, to a file or a collector's socket", FILEARG),
	OPT(OPT_CLICKHOUSE, "clickhouse", "URL",
	    "also insert every record into ClickHouse "
	    "(http://[USER[:PASS]@]HOST[:PORT]/?database=DB)"),
	OPT(OPT_CLICKHOUSE_SPOOL, "clickhouse-spool", "DIR",
	    "batches the server did not take yet (default: STATE_DIR/clickhouse-spool)", FILEARG),
	OPT(OPT_CLICKHOUSE_SPOOL_MB, "clickhouse-spool-mb", "N",
	    "bound on the spool (default 1024)"),
	OPT(OPT_SUMMARY, "summary", NULL,
	    "print per-process, per-peer, per-name and pair statistics at the end (and every "
	    "--interval)"),
	OPT(OPT_NO_EVENTS, "no-events", NULL, "no record per message (implies --summary)"),
	OPT(OPT_INTERVAL, "interval", "SECONDS",
	    "print the statistics every SECONDS (implies --summary)"),
	OPT(OPT_TOP, "top", "N", "entries per statistics table (default 20, 0 = all)"),
	OPT(OPT_MAX_ENTRIES, "max-entries", "N",
	    "bound on each statistics and detection table (default 100000, at most 16777216)"),
	OPT(OPT_FORMAT, "format", "json|text",
	    "JSON Lines (default) or one readable line per message", CHOICE(format_words)),
	OPT(OPT_DETECT, "detect", "KINDS",
	    "findings with the statistics (implies --summary): comma list of mutual, "
	    "exclusive_target, exclusive_client, time_window, periodic, replacement, first_seen "
	    "(default all)",
	    HINTS(detect_words)),
	OPT(OPT_NO_DETECT, "no-detect", NULL, "no findings"),
	OPT(OPT_MIN_LOOKUPS, "min-lookups", "N",
	    "findings: lookups of a target or client (default 16)"),
	OPT(OPT_EXCLUSIVE_SHARE, "exclusive-share", "F",
	    "findings: Wilson lower bound of the top share (0.8)"),
	OPT(OPT_MIN_CLIENTS, "min-clients", "N",
	    "findings: clients active at the same time (default 5)"),
	OPT(OPT_POPULATION_WINDOW, "population-window", "SECONDS",
	    "findings: the time around a target in which --min-clients are counted, at least "
	    "(86400)"),
	OPT(OPT_MIN_REPEAT, "min-repeat", "F", "findings: a pair's lookups per distinct name (3)"),
	OPT(OPT_MIN_SPREAD, "min-spread", "N",
	    "findings: a pair's lookups in N of the session's 1000 time slices (3)"),
	OPT(OPT_TIME_RECORDS, "time-records", "N",
	    "findings: pairs whose hours and last 256 lookups are kept (3.4 KiB each, as used; "
	    "default 4096)"),
	OPT(OPT_FIRST_SEEN, "first-seen", NULL,
	    "first_seen: every target the state file did not hold, not only those in another "
	    "finding"),
	OPT(OPT_TZ, "tz", "ZONE[,ZONE..]", "time_window: local windows in these tzdata zones"),
	OPT(OPT_BUSINESS_HOURS, "business-hours", "HH-HH",
	    "time_window: local business hours (default 08-19)"),
	OPT(OPT_SILENCE, "silence", "SECONDS",
	    "replacement: a target silent this long has ended (86400)"),
	OPT(OPT_REPLACEMENT_WINDOW, "replacement-window", "SECONDS",
	    "replacement: successor within (604800)"),
	HEADING("Display filters (records, -w and --dnstap-out; flags AND, repeats OR):"),
	OPT(OPT_NAME, "name", "GLOB", "question name matches (fnmatch, any case)"),
	OPT(OPT_RCODE, "rcode", "NAME", "responses with this rcode (none: unanswered)",
	    HINTS(rcode_words)),
	OPT(OPT_QTYPE, "qtype", "TYPE", "question type (A, AAAA, ..., TYPEn)", HINTS(qtype_words)),
	OPT(OPT_DIR, "dir", "egress|ingress", "messages seen in this direction", HINTS(dir_words)),
	OPT(OPT_UNANSWERED, "unanswered", NULL, "only unanswered records"),
	OPT(OPT_SLOWER_THAN, "slower-than", "DURATION",
	    "responses slower than this (100ms, 2s, 1500us), and unanswered queries"),
	OPT(OPT_CLIENT, "client", "PREFIX", "the query's sender in ADDRESS[/BITS]"),
	OPT(OPT_SERVER, "server", "PREFIX", "the query's receiver in ADDRESS[/BITS]"),
	OPT(OPT_UNIT, "unit", "GLOB",
	    "the process's systemd unit matches (e.g. nginx.service, '*.scope'; live only)"),
	OPT(OPT_CONTAINER, "container", "PATTERN",
	    "the process's container: its name matches the glob, or its id starts with PATTERN "
	    "(live only)"),
	OPT(OPT_FILTER_STATS, "filter-stats", NULL, "the statistics count only what passes too"),
	HEADING("Capture:"),
	OPT(OPT_HOOK, "hook", "cgroup|tc|xdp",
	    "where to capture (default cgroup: local sockets, with processes); tc: both directions "
	    "of the -i interfaces; xdp: what they receive; no process fields with tc or xdp "
	    "(docs/capture.md)",
	    .live_only = true, CHOICE(hook_words)),
	OPT(OPT_TC_ATTACH, "tc-attach", "auto|tcx|clsact",
	    "tc: TCX link, or a clsact filter (removed on exit); auto: TCX, clsact where the "
	    "kernel "
	    "has no TCX (default auto)",
	    .live_only = true, CHOICE(tc_attach_words)),
	OPT('i', "interface", "IFACE",
	    "tc/xdp: interface to watch (repeatable, up to " STR(LIVE_MAX_IFACES) ")",
	    .live_only = true, .complete = CLI_COMPLETE_IFACE),
	OPT('p', "pid", "PID", "only messages of process PID", .live_only = true,
	    .complete = CLI_COMPLETE_PID),
	OPT(OPT_COMM, "comm", "NAME", "only messages of processes named NAME", .live_only = true),
	OPT(OPT_CGROUP, "cgroup", "PATH",
	    "only sockets in this cgroup v2 subtree (a container, a systemd unit), e.g. "
	    "/system.slice/nsd.service",
	    .live_only = true),
	OPT(OPT_PORT, "port", "N",
	    "DNS port to trace (repeatable, up to " STR(DNSSNOOP_MAX_PORTS) "; default 53)"),
	OPT(OPT_SNAPLEN, "snaplen", "N",
	    "bytes of each packet's payload to copy (" STR(DNSSNOOP_MIN_SNAPLEN) ".." STR(
		    DNSSNOOP_MAX_SNAPLEN) ", default " STR(DNSSNOOP_DEFAULT_SNAPLEN) ")",
	    .live_only = true),
	OPT(OPT_TIMEOUT, "timeout", "SECONDS", "report a query unanswered after this (default 5)"),
	OPT(OPT_MAX_PENDING, "max-pending", "N",
	    "bound on queries awaiting a response (default 65536)"),
	OPT(OPT_RINGBUF_MB, "ringbuf-mb", "N",
	    "kernel ring buffer size in MiB (default 8, about 40000 events); losses are counted "
	    "in "
	    "capture_stats",
	    .live_only = true),
	OPT('Z', "user", "USER",
	    "live: once attached, run as USER (default: dnssnoop if that user exists, else nobody; "
	    "root: stay uid 0), with no capabilities (docs/security.md)",
	    .live_only = true, .complete = CLI_COMPLETE_USER),
	OPT(OPT_SECCOMP, "seccomp", "on|off|log",
	    "live: confine the system calls after the drop (default on; off and log are for "
	    "debugging)",
	    .live_only = true, CHOICE(seccomp_words)),
	HEADING("History and services:"),
	OPT(OPT_STATE, "state", "FILE",
	    "fold this session's counts into the state file FILE and judge with its history "
	    "(docs/state.md)",
	    FILEARG),
	OPT(OPT_NO_STATE, "no-state", NULL,
	    "no state file (default for -r; live as root with the statistics: " STATE_DEFAULT_DIR
	    "/" STATE_DEFAULT_NAME ")"),
	OPT(OPT_RETAIN, "retain", "DAYS", "state: days kept before the newest (default 90)"),
	OPT(OPT_REPORT, "report", NULL,
	    "with --state: judge the stored history and write its findings and cases; captures "
	    "nothing"),
	OPT(OPT_FROM_CLICKHOUSE, "from-clickhouse", "URL",
	    "judge the fleet's history in ClickHouse (its HTTP interface) and write its findings "
	    "and cases; captures nothing (docs/fleet.md)"),
	OPT(OPT_HOSTS, "hosts", "PATTERN",
	    "--from-clickhouse: only these hosts (a glob with * and ?, or a comma list of names)"),
	OPT(OPT_SINCE, "since", "DURATION",
	    "--report, --from-clickhouse: only the last DURATION of the history (seconds, or a "
	    "number with s, m, h, d or w)"),
	OPT(OPT_METRICS, "metrics", "ADDR:PORT",
	    "serve Prometheus metrics at http://ADDR:PORT/metrics while the session runs "
	    "(127.0.0.1:9153, [::1]:9153; :PORT is 127.0.0.1:PORT)"),
	OPT(OPT_TOP_LIVE, "top-live", NULL,
	    "a full-screen view of the busiest processes, names, servers, failing and slowest "
	    "names, redrawn every second (needs a terminal; records go to -o only)"),
	OPT(OPT_PACE, "pace", NULL, "-r: replay at the speed of the packets' times"),
	OPT('q', "quiet", NULL, "-r: no progress line on a terminal's standard error"),
	OPT('v', "verbose", NULL, "show libbpf's messages"),
	OPT('V', "version", NULL,
	    "print the version, the git revision and the libraries' versions"),
	OPT('h', "help", NULL, "this help"),
};

const size_t cli_noptions = sizeof(cli_options) / sizeof(cli_options[0]);

const struct cli_option *cli_option_find(int id)
{
	for (size_t i = 0; i < cli_noptions; i++)
		if (cli_options[i].name && cli_options[i].id == id)
			return &cli_options[i];
	return NULL;
}

int cli_choice_index(const struct cli_option *opt, const char *arg)
{
	for (int i = 0; opt->words && opt->words[i]; i++)
		if (!strcmp(arg, opt->words[i]))
			return i;
	return -1;
}

#define HELP_WIDTH  80
#define HELP_INDENT 26 /* where the help of every flag starts */

/*
 * The words of text from column col on, wrapped before HELP_WIDTH;
 * continuation lines start at column indent.
 */
static void print_wrapped(FILE *f, const char *text, size_t col, size_t indent)
{
	bool first = true;

	for (const char *p = text + strspn(text, " "); *p; p += strspn(p, " ")) {
		size_t len = strcspn(p, " ");

		if (!first && col + 1 + len >= HELP_WIDTH) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, len, f);
		col += len;
		p += len;
		first = false;
	}
	fputc('\n', f);
}

/* "  -d, --duration SECONDS" or "      --summary": the flag column of --help. */
static int print_flag(FILE *f, const struct cli_option *o)
{
	int n;

	if (o->id < 256)
		n = fprintf(f, "  -%c, --%s", o->id, o->name);
	else
		n = fprintf(f, "      --%s", o->name);
	if (o->arg)
		n += fprintf(f, " %s", o->arg);
	return n;
}

void cli_help_print(FILE *f)
{
	fputs("Usage:", f);
	for (int i = 0; cli_usage_lines[i]; i++)
		fprintf(f, "%s%s\n", i ? "       " : " ", cli_usage_lines[i]);
	print_wrapped(f, cli_summary, 0, 0);
	fputc('\n', f);
	for (size_t i = 0; i < cli_noptions; i++) {
		const struct cli_option *o = &cli_options[i];
		int n;

		if (!o->name) {
			fprintf(f, "\n%s\n", o->help);
			continue;
		}
		n = print_flag(f, o);
		if (n <= HELP_INDENT - 2) {
			fprintf(f, "%*s", HELP_INDENT - n, "");
			n = HELP_INDENT;
		} else {
			fputs("  ", f);
			n += 2;
		}
		print_wrapped(f, o->help, (size_t)n, HELP_INDENT);
	}
}
