// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dnssnoop: trace every DNS message on this host, with the process behind it.
 *
 * This file only parses the command line and runs the session loop; the
 * work is done by a capture source (capture_live.c live, capture_pcap.c
 * for files) feeding the pipeline (pipeline.c), which feeds the
 * statistics (summary.c) and the output (output.c). JSON Lines that
 * dnssnoop wrote elsewhere (capture_jsonl.c) go to the statistics
 * directly; merge.c puts all -r inputs in time order.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture_live.h"
#include "capture/merge.h"
#include "report/output.h"
#include "report/pcap_writer.h"
#include "app/pipeline.h"
#include "app/report_sink.h"
#include "report/stats_report.h"
#include "analysis/summary.h"
#include "lib/units.h"

#define DNSSNOOP_VERSION "0.1.0"
#define POLL_MS		 100
#define MAX_READ_FILES	 256
/* Observation time advancing this far runs the timers, as packet time does in the pipeline. */
#define OBS_TICK_NS (100ULL * 1000000ULL)
/* Items merged between checks that the reader of the output is still there. */
#define FLUSH_CHECK_ITEMS 65536

struct options {
	double duration_s; /* -d, 0 = until interrupted */
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
	double timeout_s;
	uint32_t ringbuf_mb;
	uint64_t max_pending;
	bool verbose;
	bool summary; /* --summary (implied by --no-events and --interval) */
	bool events; /* false with --no-events */
	double interval_s; /* --interval */
	uint64_t top_n; /* --top */
	uint64_t max_entries; /* --max-entries */
	const char *read_paths[MAX_READ_FILES]; /* -r */
	int nread;
	const char *write_path; /* -w */
	const char *filter; /* tcpdump filter expression for -r */
	struct detect_config detect; /* --detect and its thresholds */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: dnssnoop [OPTIONS]\n"
		"       dnssnoop -r FILE [-r FILE]... [OPTIONS] [FILTER EXPRESSION]\n"
		"Trace every DNS message sent or received on this host, with its "
		"process,\n"
		"or read them from pcap/pcapng files.\n"
		"Output: JSON Lines (one record per message; see docs/output.md).\n\n"
		"  -d, --duration SECONDS  trace for this long, then exit (default: "
		"until Ctrl-C)\n"
		"  -c, --count N           exit after N DNS messages\n"
		"  -o, --output FILE       write records to FILE instead of stdout\n"
		"  -r, --read FILE         read packets from a pcap/pcapng file, or "
		"dnssnoop's\n"
		"                          JSON Lines from many hosts (- = stdin), "
		"merged by time\n"
		"                          instead of the kernel; repeatable; no root "
		"needed;\n"
		"                          an optional tcpdump filter expression may "
		"follow\n"
		"  -w, --write FILE        live: also save every captured packet as "
		"pcap\n"
		"      --summary           print per-process, per-peer, per-name and "
		"pair\n"
		"                          statistics at the end (and every --interval)\n"
		"      --no-events         no record per message (implies --summary)\n"
		"      --interval SECONDS  print the statistics every SECONDS (implies "
		"--summary)\n"
		"      --top N             entries per statistics table (default 20, 0 = "
		"all)\n"
		"      --max-entries N     bound on each statistics table (default "
		"100000)\n"
		"      --format json|text  JSON Lines (default) or one readable line per "
		"message\n"
		"      --detect KINDS      findings with the statistics (implies --summary):\n"
		"                          comma list of mutual, exclusive_target,\n"
		"                          exclusive_client, time_window, periodic,\n"
		"                          replacement (default all)\n"
		"      --no-detect         no findings\n"
		"      --min-lookups N     findings: lookups of a target or client "
		"(default 16)\n"
		"      --exclusive-share F findings: Wilson lower bound of the top share "
		"(0.8)\n"
		"      --min-clients N     findings: clients active at the same time "
		"(default 5)\n"
		"      --tz ZONE[,ZONE..]  time_window: local windows in these tzdata "
		"zones\n"
		"      --business-hours HH-HH  time_window: local business hours "
		"(default 08-19)\n"
		"      --silence SECONDS   replacement: a target silent this long has "
		"ended (86400)\n"
		"      --replacement-window SECONDS  replacement: successor within "
		"(604800)\n"
		"      --hook cgroup|tc|xdp  where to capture (default cgroup: local "
		"sockets,\n"
		"                          with processes); tc: both directions of "
		"the -i\n"
		"                          interfaces; xdp: what they receive; no "
		"process\n"
		"                          fields with tc or xdp (docs/capture.md)\n"
		"      --tc-attach auto|tcx|clsact  tc: TCX link, or a clsact filter "
		"(removed\n"
		"                          on exit); auto: TCX, clsact where the kernel "
		"has no\n"
		"                          TCX (default auto)\n"
		"  -i, --interface IFACE   tc/xdp: interface to watch (repeatable, up "
		"to %d)\n"
		"  -p, --pid PID           only messages of process PID\n"
		"      --comm NAME         only messages of processes named NAME\n"
		"      --cgroup PATH       only sockets in this cgroup v2 subtree (a "
		"container,\n"
		"                          a systemd unit), e.g. "
		"/system.slice/nsd.service\n"
		"      --port N            DNS port to trace (repeatable, up to %d; "
		"default 53)\n"
		"      --snaplen N         bytes of each packet's payload to copy "
		"(%d..%d,\n"
		"                          default %d)\n"
		"      --timeout SECONDS   report a query unanswered after this (default "
		"5)\n"
		"      --max-pending N     bound on queries awaiting a response (default "
		"65536)\n"
		"      --ringbuf-mb N      kernel ring buffer size in MiB (default 8, about\n"
		"                          40 000 events); losses are counted in\n"
		"                          capture_stats\n"
		"  -v, --verbose           show libbpf's messages\n"
		"  -V, --version           print the version\n"
		"  -h, --help              this help\n",
		LIVE_MAX_IFACES, DNSSNOOP_MAX_PORTS, DNSSNOOP_MIN_SNAPLEN, DNSSNOOP_MAX_SNAPLEN,
		DNSSNOOP_DEFAULT_SNAPLEN);
}

static void die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "dnssnoop: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'dnssnoop --help'.\n");
	exit(2);
}

/* Parse an unsigned integer in [min, max] or exit naming the option. */
static uint64_t parse_uint(const char *opt, const char *arg, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max) {
		fprintf(stderr, "dnssnoop: %s: '%s' is not a whole number from %llu to %llu\n", opt,
			arg, (unsigned long long)min, (unsigned long long)max);
		exit(2);
	}
	return v;
}

static double parse_seconds(const char *opt, const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v <= 0 || v > 1e9) {
		fprintf(stderr, "dnssnoop: %s: '%s' is not a positive number of seconds\n", opt,
			arg);
		exit(2);
	}
	return v;
}

enum long_only {
	OPT_FORMAT = 256,
	OPT_COMM,
	OPT_CGROUP,
	OPT_PORT,
	OPT_SNAPLEN,
	OPT_TIMEOUT,
	OPT_RINGBUF_MB,
	OPT_MAX_PENDING,
	OPT_SUMMARY,
	OPT_NO_EVENTS,
	OPT_INTERVAL,
	OPT_TOP,
	OPT_MAX_ENTRIES,
	OPT_DETECT,
	OPT_NO_DETECT,
	OPT_MIN_LOOKUPS,
	OPT_EXCLUSIVE_SHARE,
	OPT_MIN_CLIENTS,
	OPT_TZ,
	OPT_BUSINESS_HOURS,
	OPT_SILENCE,
	OPT_REPLACEMENT_WINDOW,
	OPT_HOOK,
	OPT_TC_ATTACH,
};

static const struct option long_options[] = {
	{"duration", required_argument, NULL, 'd'},
	{"count", required_argument, NULL, 'c'},
	{"output", required_argument, NULL, 'o'},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"pid", required_argument, NULL, 'p'},
	{"comm", required_argument, NULL, OPT_COMM},
	{"cgroup", required_argument, NULL, OPT_CGROUP},
	{"hook", required_argument, NULL, OPT_HOOK},
	{"tc-attach", required_argument, NULL, OPT_TC_ATTACH},
	{"interface", required_argument, NULL, 'i'},
	{"port", required_argument, NULL, OPT_PORT},
	{"snaplen", required_argument, NULL, OPT_SNAPLEN},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"max-pending", required_argument, NULL, OPT_MAX_PENDING},
	{"ringbuf-mb", required_argument, NULL, OPT_RINGBUF_MB},
	{"read", required_argument, NULL, 'r'},
	{"write", required_argument, NULL, 'w'},
	{"summary", no_argument, NULL, OPT_SUMMARY},
	{"no-events", no_argument, NULL, OPT_NO_EVENTS},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"top", required_argument, NULL, OPT_TOP},
	{"max-entries", required_argument, NULL, OPT_MAX_ENTRIES},
	{"detect", required_argument, NULL, OPT_DETECT},
	{"no-detect", no_argument, NULL, OPT_NO_DETECT},
	{"min-lookups", required_argument, NULL, OPT_MIN_LOOKUPS},
	{"exclusive-share", required_argument, NULL, OPT_EXCLUSIVE_SHARE},
	{"min-clients", required_argument, NULL, OPT_MIN_CLIENTS},
	{"tz", required_argument, NULL, OPT_TZ},
	{"business-hours", required_argument, NULL, OPT_BUSINESS_HOURS},
	{"silence", required_argument, NULL, OPT_SILENCE},
	{"replacement-window", required_argument, NULL, OPT_REPLACEMENT_WINDOW},
	{"verbose", no_argument, NULL, 'v'},
	{"version", no_argument, NULL, 'V'},
	{"help", no_argument, NULL, 'h'},
	{0},
};

/* The filter expression may come as several words, like tcpdump's. */
static const char *join_args(int n, char **args)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < n; i++)
		len += strlen(args[i]) + 1;
	s = calloc(1, len);
	if (!s) {
		fprintf(stderr, "dnssnoop: out of memory\n");
		exit(1);
	}
	for (int i = 0; i < n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, args[i]);
	}
	return s;
}

static void add_port(struct options *o, const char *arg)
{
	uint16_t port = parse_uint("--port", arg, 1, 65535);

	for (int i = 0; i < o->nports; i++)
		if (o->ports[i] == port)
			return;
	if (o->nports == DNSSNOOP_MAX_PORTS)
		die_usage("--port: at most 8 ports (got another: %s)", arg);
	o->ports[o->nports++] = port;
}

static double parse_share(const char *opt, const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v <= 0 || v > 1) {
		fprintf(stderr, "dnssnoop: %s: '%s' is not a number in (0, 1]\n", opt, arg);
		exit(2);
	}
	return v;
}

/* --tz Europe/Moscow,America/New_York: each checked against tzdata. */
static void parse_zones(struct detect_config *d, char *arg)
{
	char *save = NULL;

	d->nzones = 0;
	for (char *z = strtok_r(arg, ",", &save); z; z = strtok_r(NULL, ",", &save)) {
		if (d->nzones == DETECT_MAX_ZONES)
			die_usage("--tz: at most 8 zones (got another: %s)", z);
		if (detstat_zone_check(z))
			die_usage("--tz: '%s' is not a tzdata zone", z);
		d->zones[d->nzones++] = z;
	}
}

/* --business-hours 08-19: whole hours, start < end <= 24. */
static void parse_business_hours(struct detect_config *d, const char *arg)
{
	unsigned int a, b;
	int n = -1;

	if (sscanf(arg, "%u-%u%n", &a, &b, &n) != 2 || n < 0 || arg[n] || a >= b || b > 24)
		die_usage("--business-hours: '%s' is not HH-HH (00 <= start < end <= 24)", arg);
	d->business_start = a;
	d->business_end = b;
}

/* The detection options; returns false for an option that is not one of them. */
static bool parse_detect_option(struct options *o, int c, char *arg)
{
	char bad[64] = "";

	switch (c) {
	case OPT_DETECT:
		if (detect_parse_kinds(arg, &o->detect.kinds, bad, sizeof(bad)) || !o->detect.kinds)
			die_usage("--detect: unknown kind '%s' (mutual, exclusive_target, "
				  "exclusive_client, time_window, periodic, replacement)",
				  bad[0] ? bad : arg);
		o->summary = true;
		return true;
	case OPT_NO_DETECT:
		o->detect.kinds = 0;
		return true;
	case OPT_MIN_LOOKUPS:
		o->detect.min_lookups = parse_uint("--min-lookups", arg, 1, UINT32_MAX);
		return true;
	case OPT_EXCLUSIVE_SHARE:
		o->detect.exclusive_share = parse_share("--exclusive-share", arg);
		return true;
	case OPT_MIN_CLIENTS:
		o->detect.min_clients = parse_uint("--min-clients", arg, 1, UINT32_MAX);
		return true;
	case OPT_TZ:
		parse_zones(&o->detect, arg);
		return true;
	case OPT_BUSINESS_HOURS:
		parse_business_hours(&o->detect, arg);
		return true;
	case OPT_SILENCE:
		o->detect.silence_ns = (uint64_t)(parse_seconds("--silence", arg) * 1e9);
		return true;
	case OPT_REPLACEMENT_WINDOW:
		o->detect.replacement_window_ns =
			(uint64_t)(parse_seconds("--replacement-window", arg) * 1e9);
		return true;
	}
	return false;
}

/*
 * The index of arg among names[0..n), or exit saying what the option
 * takes ("--hook: 'x' is not cgroup, tc or xdp").
 */
static int parse_choice(const char *opt, const char *arg, const char *const *names, int n)
{
	char fmt[160];
	int len;

	for (int i = 0; i < n; i++)
		if (!strcmp(arg, names[i]))
			return i;
	len = snprintf(fmt, sizeof(fmt), "%s: '%%s' is not ", opt);
	for (int i = 0; i < n && len > 0 && (size_t)len < sizeof(fmt); i++)
		len += snprintf(fmt + len, sizeof(fmt) - (size_t)len, "%s%s",
				i == 0	     ? ""
				: i == n - 1 ? " or "
					     : ", ",
				names[i]);
	die_usage(fmt, arg);
	return 0;
}

#define NCHOICES(names) ((int)(sizeof(names) / sizeof((names)[0])))

static const char *const hook_names[] = {
	[LIVE_HOOK_CGROUP] = "cgroup",
	[LIVE_HOOK_TC] = "tc",
	[LIVE_HOOK_XDP] = "xdp",
};

static const char *const tc_attach_names[] = {
	[LIVE_TC_AUTO] = "auto",
	[LIVE_TC_TCX] = "tcx",
	[LIVE_TC_CLSACT] = "clsact",
};

/* tc and xdp see interfaces, not sockets: no process to filter on. */
static void check_hook_options(const struct options *o)
{
	if (o->tc_attach != LIVE_TC_AUTO && o->hook != LIVE_HOOK_TC)
		die_usage("%s: only --hook tc attaches that way", "--tc-attach");
	if (o->hook == LIVE_HOOK_CGROUP) {
		if (o->nifaces)
			die_usage("-i %s: interfaces are for --hook tc or --hook xdp",
				  o->ifaces[0]);
		return;
	}
	if (o->nread)
		die_usage("%s: files are read, not captured", "--hook tc/xdp");
	if (!o->nifaces)
		die_usage("--hook %s needs at least one -i IFACE",
			  o->hook == LIVE_HOOK_TC ? "tc" : "xdp");
	if (o->pid || o->comm || o->cgroup)
		die_usage("%s: a tc or xdp hook cannot know which process a packet belongs to",
			  "-p/--comm/--cgroup");
}

static void parse_options(int argc, char **argv, struct options *o)
{
	int c;

	*o = (struct options){
		.format = OUTPUT_JSON,
		.snaplen = DNSSNOOP_DEFAULT_SNAPLEN,
		.timeout_s = 5,
		.max_pending = 65536,
		.events = true,
		.top_n = STATS_REPORT_DEFAULT_TOP,
		.max_entries = 100000,
	};
	detect_config_default(&o->detect);
	while ((c = getopt_long(argc, argv, "d:c:o:p:r:w:i:vVh", long_options, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->duration_s = parse_seconds("-d", optarg);
			break;
		case 'c':
			o->count = parse_uint("-c", optarg, 1, UINT64_MAX);
			break;
		case 'o':
			o->output_path = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "json"))
				o->format = OUTPUT_JSON;
			else if (!strcmp(optarg, "text"))
				o->format = OUTPUT_TEXT;
			else
				die_usage("--format: '%s' is neither json nor text", optarg);
			break;
		case 'p':
			o->pid = parse_uint("-p", optarg, 1, INT_MAX);
			break;
		case OPT_COMM:
			o->comm = optarg;
			break;
		case OPT_CGROUP:
			o->cgroup = optarg;
			break;
		case OPT_HOOK:
			o->hook = (enum live_hook)parse_choice("--hook", optarg, hook_names,
							       NCHOICES(hook_names));
			break;
		case OPT_TC_ATTACH:
			o->tc_attach = (enum live_tc_attach)parse_choice(
				"--tc-attach", optarg, tc_attach_names, NCHOICES(tc_attach_names));
			break;
		case 'i':
			if (o->nifaces == LIVE_MAX_IFACES)
				die_usage("-i: at most 8 interfaces (got another: %s)", optarg);
			o->ifaces[o->nifaces++] = optarg;
			break;
		case OPT_PORT:
			add_port(o, optarg);
			break;
		case OPT_SNAPLEN:
			o->snaplen = parse_uint("--snaplen", optarg, DNSSNOOP_MIN_SNAPLEN,
						DNSSNOOP_MAX_SNAPLEN);
			break;
		case OPT_TIMEOUT:
			o->timeout_s = parse_seconds("--timeout", optarg);
			break;
		case OPT_MAX_PENDING:
			o->max_pending = parse_uint("--max-pending", optarg, 1, 1 << 24);
			break;
		case OPT_RINGBUF_MB:
			o->ringbuf_mb = parse_uint("--ringbuf-mb", optarg, 1, 1024);
			break;
		case 'r':
			if (o->nread == MAX_READ_FILES)
				die_usage("-r: at most 256 files (got another: %s)", optarg);
			o->read_paths[o->nread++] = optarg;
			break;
		case 'w':
			o->write_path = optarg;
			break;
		case OPT_SUMMARY:
			o->summary = true;
			break;
		case OPT_NO_EVENTS:
			o->events = false;
			o->summary = true;
			break;
		case OPT_INTERVAL:
			o->interval_s = parse_seconds("--interval", optarg);
			o->summary = true;
			break;
		case OPT_TOP:
			o->top_n = parse_uint("--top", optarg, 0, UINT32_MAX);
			break;
		case OPT_MAX_ENTRIES:
			o->max_entries = parse_uint("--max-entries", optarg, 16, 1 << 24);
			break;
		case OPT_DETECT:
		case OPT_NO_DETECT:
		case OPT_MIN_LOOKUPS:
		case OPT_EXCLUSIVE_SHARE:
		case OPT_MIN_CLIENTS:
		case OPT_TZ:
		case OPT_BUSINESS_HOURS:
		case OPT_SILENCE:
		case OPT_REPLACEMENT_WINDOW:
			parse_detect_option(o, c, optarg);
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'V':
			printf("dnssnoop %s\n", DNSSNOOP_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "Try 'dnssnoop --help'.\n");
			exit(2);
		}
	}
	if (optind < argc && !o->nread)
		die_usage("unexpected argument '%s' (a filter expression goes with -r)",
			  argv[optind]);
	if (optind < argc)
		o->filter = join_args(argc - optind, argv + optind);
	if (o->nread && o->write_path)
		die_usage("-w saves a live capture; it cannot be used with -r (%s)", o->write_path);
	if (o->nread && (o->pid || o->comm || o->cgroup))
		die_usage("%s: files do not say which process sent a packet", "-p/--comm/--cgroup");
	if (o->comm && strlen(o->comm) >= DNSSNOOP_COMM_LEN)
		die_usage("--comm: '%s' is longer than a process name can be (15 bytes)", o->comm);
	check_hook_options(o);
	if (!o->nports)
		o->ports[o->nports++] = 53;
}

static int open_output(const char *path)
{
	int fd;

	if (!path || !strcmp(path, "-"))
		return STDOUT_FILENO;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "dnssnoop: cannot open output file %s: %s\n", path,
			strerror(errno));
		exit(1);
	}
	return fd;
}

static void install_signal_handlers(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed reader shows up as EPIPE from write */
}

struct session {
	const struct options *opt;
	struct live_capture *live; /* live mode */
	struct merge *inputs; /* offline mode: the -r inputs, merged by time */
	struct pcap_writer *writer; /* -w */
	struct pipeline *pipe;
	struct summary *summary;
	struct output *out;
	int out_fd;
	uint64_t first_ts_ns, last_ts_ns; /* packet and record time, offline */
	uint64_t packets; /* handed to the pipeline */
	uint64_t observations; /* JSON Lines records handed to the statistics */
	uint64_t next_obs_tick_ns; /* record time at which to run the timers */
	struct capture_stats at_interval; /* the counters at the last --interval close */
	struct report_sink reports; /* the summary's tables and findings, written */
	bool write_failed;
};

static void note_time(struct session *s, uint64_t ts_ns)
{
	if (!s->first_ts_ns)
		s->first_ts_ns = ts_ns;
	if (ts_ns > s->last_ts_ns)
		s->last_ts_ns = ts_ns;
}

static void on_packet(void *ctx, const struct pkt_meta *meta, const uint8_t *payload, size_t caplen)
{
	struct session *s = ctx;
	int err;

	note_time(s, meta->ts_ns);
	s->packets++;
	if (s->writer && !s->write_failed &&
	    (err = pcap_writer_write(s->writer, meta, payload, caplen))) {
		fprintf(stderr, "dnssnoop: writing %s failed: %s; no more packets are saved\n",
			s->opt->write_path, strerror(-err));
		s->write_failed = true;
	}
	pipeline_packet(s->pipe, meta, payload, caplen);
	if (pipeline_done(s->pipe))
		stop_requested = 1; /* -c reached: the sources stop reading */
}

/* Live: poll until -d, -c, a signal or a dead reader ends the session. */
static int run_live(struct session *s)
{
	const struct options *o = s->opt;
	uint64_t start = live_now_ns(s->live);
	uint64_t end = o->duration_s ? start + (uint64_t)(o->duration_s * NS_PER_SEC) : 0;

	pipeline_tick(s->pipe, start);
	while (!stop_requested && !pipeline_done(s->pipe)) {
		int n = live_poll(s->live, POLL_MS);
		uint64_t now = live_now_ns(s->live);

		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "dnssnoop: reading the ring buffer failed: %s\n",
				strerror(-n));
			return 1;
		}
		pipeline_tick(s->pipe, now);
		if (output_flush(s->out) < 0)
			return 0; /* the reader went away (EPIPE): end quietly */
		if (end && now >= end)
			break;
	}
	/* Stop the kernel side first, so the drain below sees every event it sent. */
	live_detach(s->live);
	while (live_poll(s->live, 0) > 0)
		;
	return 0;
}

/*
 * A record of another dnssnoop (JSON Lines input): straight to the
 * statistics. Its time drives the timers like packet time does, so
 * intervals close and pending queries of pcap inputs expire in order;
 * except an unanswered record's: its writer reported it from its timers,
 * before they went on to close an interval at that time.
 */
static void on_observation(struct session *s, const struct dns_obs *obs, uint64_t ts_ns)
{
	note_time(s, ts_ns);
	s->observations++;
	if (ts_ns >= s->next_obs_tick_ns && obs->kind != OBS_UNANSWERED) {
		pipeline_tick(s->pipe, ts_ns);
		s->next_obs_tick_ns = ts_ns + OBS_TICK_NS;
	}
	if (s->summary)
		summary_observation(s->summary, obs);
}

/*
 * Offline: open every -r input (a damaged or unknown one is reported and
 * left out). Returns 0, 1 when an input could not be opened, -1 when
 * nothing can be done (out of memory).
 */
static int open_offline(struct session *s)
{
	const struct options *o = s->opt;
	struct merge_config mcfg = {.filter = o->filter, .ports = o->ports, .nports = o->nports};
	char err[512];
	int rc = 0;

	s->inputs = merge_new(&mcfg);
	if (!s->inputs)
		return -1;
	for (int i = 0; i < o->nread; i++) {
		if (merge_add(s->inputs, o->read_paths[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			rc = 1;
		}
	}
	return rc;
}

/* Offline: every input's packets and records, merged by time; problems are
 * reported, the rest read. */
static int run_offline(struct session *s)
{
	struct merge_item item;
	char err[512];
	uint64_t items = 0;
	int rc = 0, n;

	while (!stop_requested && !pipeline_done(s->pipe)) {
		n = merge_next(s->inputs, &item, err, sizeof(err));
		if (n == 0)
			break;
		if (n < 0) {
			fprintf(stderr, "%s\n", err);
			rc = 1;
			continue;
		}
		if (item.kind == MERGE_PCAP)
			on_packet(s, item.meta, item.payload, item.caplen);
		else
			on_observation(s, item.obs, item.ts_ns);
		if (++items % FLUSH_CHECK_ITEMS == 0 && output_flush(s->out) < 0)
			break; /* the reader went away (EPIPE) */
	}
	for (int i = 0; s->opt->verbose && i < merge_inputs(s->inputs); i++) {
		merge_describe(s->inputs, i, err, sizeof(err));
		fprintf(stderr, "%s\n", err);
	}
	return rc;
}

/* The session's counters so far: the pipeline's, and the kernel's when live. */
static void collect_capture_stats(struct session *s, struct capture_stats *st)
{
	struct dnssnoop_counters kc;

	*st = (struct capture_stats){0};
	pipeline_get_stats(s->pipe, st);
	st->events_delivered = s->packets;
	if (s->live) {
		live_get_counters(s->live, &kc);
		st->has_kernel = true;
		st->packets_matched = kc.matched;
		st->events_submitted = kc.submitted;
		st->events_lost = kc.lost;
		st->ndegraded = live_degraded(s->live, &st->degraded);
	}
}

static void report_capture_stats(struct session *s, uint64_t start_ns, uint64_t end_ns)
{
	struct capture_stats st;

	collect_capture_stats(s, &st);
	st.start_ns = start_ns;
	st.end_ns = end_ns;
	output_capture_stats(s->out, &st);
}

/* An --interval closed: its share of the counters, lost events included, before its statistics. */
static void report_interval_capture_stats(void *ctx, uint64_t start_ns, uint64_t end_ns)
{
	struct session *s = ctx;
	struct capture_stats now, d;

	collect_capture_stats(s, &now);
	capture_stats_delta(&d, &now, &s->at_interval);
	s->at_interval = now;
	d.start_ns = start_ns;
	d.end_ns = end_ns;
	d.interval = true;
	output_capture_stats(s->out, &d);
}

static int open_live(struct session *s)
{
	const struct options *o = s->opt;
	struct live_config lcfg = {
		.ports = o->ports,
		.nports = o->nports,
		.snaplen = o->snaplen,
		.cgroup_path = o->cgroup,
		.ringbuf_mb = o->ringbuf_mb,
		.verbose = o->verbose,
		.hook = o->hook,
		.ifaces = o->ifaces,
		.nifaces = o->nifaces,
		.tc_attach = o->tc_attach,
		.disable = getenv("DNSSNOOP_DISABLE"),
	};
	char err[512] = "";

	s->live = live_open(&lcfg, on_packet, s, err, sizeof(err));
	if (!s->live) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (o->write_path) {
		s->writer = pcap_writer_open(o->write_path, err, sizeof(err));
		if (!s->writer) {
			fprintf(stderr, "%s\n", err);
			return -1;
		}
	}
	return 0;
}

/* Output, statistics and pipeline, wired the same for every source. */
static int open_stages(struct session *s, const char *host)
{
	const struct options *o = s->opt;
	struct output_config ocfg = {
		.fd = s->out_fd,
		.format = o->format,
		.host = host,
		.cgroup_path = s->live ? live_cgroup_path : NULL,
		.cgroup_ctx = s->live,
	};
	struct summary_config scfg = {
		.max_entries = o->max_entries,
		.interval_ns = (uint64_t)(o->interval_s * NS_PER_SEC),
		.mirror_ttl_ns = (uint64_t)(o->timeout_s * NS_PER_SEC),
		.cgroup_path = ocfg.cgroup_path,
		.cgroup_ctx = ocfg.cgroup_ctx,
		.detect = &o->detect,
		.sink = report_sink(&s->reports),
	};
	struct pipeline_config pcfg = {
		.events = o->events,
		.timeout_ns = (uint64_t)(o->timeout_s * NS_PER_SEC),
		.max_pending = o->max_pending,
		.max_tcp_flows = 4096,
		.filter_pid = o->pid,
		.filter_comm = o->comm,
		.max_messages = o->count,
		.one_direction = o->hook == LIVE_HOOK_XDP,
	};

	s->out = output_new(&ocfg);
	if (!s->out)
		return -1;
	pcfg.out = s->out;
	s->reports = (struct report_sink){
		.out = s->out,
		.top_n = o->top_n,
		.max_entries = o->max_entries,
		.interval = report_interval_capture_stats,
		.interval_ctx = s,
	};
	if (o->summary) {
		s->summary = summary_new(&scfg);
		if (!s->summary)
			return -1;
	}
	pcfg.summary = s->summary;
	s->pipe = pipeline_new(&pcfg);
	return s->pipe ? 0 : -1;
}

static void close_session(struct session *s)
{
	pipeline_free(s->pipe);
	summary_free(s->summary);
	merge_free(s->inputs);
	output_free(s->out);
	if (s->writer && pcap_writer_close(s->writer) < 0)
		fprintf(stderr, "dnssnoop: closing %s failed\n", s->opt->write_path);
	live_close(s->live);
	if (s->out_fd != STDOUT_FILENO)
		close(s->out_fd);
}

int main(int argc, char **argv)
{
	struct options o;
	struct session s = {.opt = &o};
	char host[256] = "unknown";
	uint64_t start_ns, end_ns;
	int rc, open_rc = 0;

	parse_options(argc, argv, &o);
	o.detect.max_entries = o.max_entries;
	s.out_fd = open_output(o.output_path);
	gethostname(host, sizeof(host) - 1);
	install_signal_handlers();

	if (!o.nread && open_live(&s) < 0) {
		close_session(&s);
		return 1;
	}
	if (o.nread && (open_rc = open_offline(&s)) < 0) {
		fprintf(stderr, "dnssnoop: out of memory opening the inputs\n");
		close_session(&s);
		return 1;
	}
	/* Records read back are there for their statistics. */
	if (s.inputs && merge_has(s.inputs, MERGE_JSONL))
		o.summary = true;
	if (open_stages(&s, host) < 0) {
		fprintf(stderr, "dnssnoop: out of memory setting up the pipeline\n");
		close_session(&s);
		return 1;
	}
	if (s.live) {
		start_ns = live_now_ns(s.live);
		fprintf(stderr, "dnssnoop: attached\n");
		rc = run_live(&s);
		end_ns = live_now_ns(s.live);
	} else {
		rc = run_offline(&s) | open_rc;
		start_ns = s.first_ts_ns;
		end_ns = s.last_ts_ns;
		if (!s.packets && !s.observations) { /* nothing to tell the time by */
			struct timespec now;

			clock_gettime(CLOCK_REALTIME, &now);
			start_ns = end_ns = (uint64_t)now.tv_sec * NS_PER_SEC + now.tv_nsec;
		}
	}
	pipeline_finish(s.pipe, end_ns);
	report_capture_stats(&s, start_ns, end_ns);
	close_session(&s);
	return rc;
}
