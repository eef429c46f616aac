// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The command line: flags into struct options, with the usage text. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cli.h"
#include "app/cli_options.h"
#include "app/version.h"
#include "analysis/state.h"
#include "capture/capture_jsonl.h"
#include "lib/numparse.h"
#include "lib/units.h"
#include "report/stats_report.h"

#define MAX_SECONDS	   1000000000u /* longest duration a flag takes */
#define MAX_LINE_BYTES_MAX (1u << 29) /* --max-line-bytes: a parsed line is held about 3 times */

static void die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "dnssnoop: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'dnssnoop --help'.\n");
	exit(2);
}

/* An unsigned integer in [min, max] (digits only, numparse.h) or exit naming the option. */
static uint64_t parse_uint(const char *opt, const char *arg, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (!num_parse_uint(arg, strlen(arg), max, &v) || v < min) {
		fprintf(stderr, "dnssnoop: %s: '%s' is not a whole number from %llu to %llu\n", opt,
			arg, (unsigned long long)min, (unsigned long long)max);
		exit(2);
	}
	return v;
}

/* A positive DIGITS[.DIGITS] up to 1e9, for ratios. */
static double parse_positive(const char *opt, const char *arg)
{
	double v;

	if (!num_parse_decimal(arg, strlen(arg), &v) || v <= 0 || v > 1e9) {
		fprintf(stderr,
			"dnssnoop: %s: '%s' is not a positive number (digits, optionally a '.' "
			"and more digits)\n",
			opt, arg);
		exit(2);
	}
	return v;
}

/* Positive seconds, DIGITS[.DIGITS] up to 1e9 s with at most 9 decimals: in ns. */
static uint64_t parse_seconds(const char *opt, const char *arg)
{
	uint64_t ns;

	if (!num_parse_seconds_ns(arg, strlen(arg), MAX_SECONDS * NS_PER_SEC, &ns) || ns == 0) {
		fprintf(stderr,
			"dnssnoop: %s: '%s' is not a positive number of seconds (digits, "
			"optionally a '.' and up to 9 more digits; at most %u)\n",
			opt, arg, MAX_SECONDS);
		exit(2);
	}
	return ns;
}

/*
 * getopt's tables, made from cli_options[] once: the long options and the
 * short letters ("d:c:...").
 */
struct getopt_tables {
	struct option longopts[128];
	char shortopts[64];
};

static void getopt_tables_fill(struct getopt_tables *t)
{
	size_t n = 0, len = 0;

	for (size_t i = 0; i < cli_noptions; i++) {
		const struct cli_option *c = &cli_options[i];

		if (!c->name)
			continue;
		t->longopts[n++] = (struct option){
			c->name, c->arg ? required_argument : no_argument, NULL, c->id};
		if (c->id < 256) {
			t->shortopts[len++] = (char)c->id;
			if (c->arg)
				t->shortopts[len++] = ':';
		}
	}
	t->longopts[n] = (struct option){0};
	t->shortopts[len] = 0;
}

static bool is_live_only(int c)
{
	const struct cli_option *o = cli_option_find(c);

	return o && o->live_only;
}

/* The option c as written in messages: "-d/--duration", "--snaplen". */
static void option_text(int c, char *buf, size_t len)
{
	const struct cli_option *o = cli_option_find(c);

	if (o && c < 256)
		snprintf(buf, len, "-%c/--%s", c, o->name);
	else if (o)
		snprintf(buf, len, "--%s", o->name);
	else
		snprintf(buf, len, "-%c", c);
}

/* -r: no live-only option (live_only, 0: none), standard input once. */
static void check_read_options(const struct options *o, int live_only)
{
	char opt[48];
	int stdin_reads = 0;

	if (live_only) {
		option_text(live_only, opt, sizeof(opt));
		die_usage("%s: only for a live capture; it cannot be used with -r", opt);
	}
	for (int i = 0; i < o->nread; i++)
		stdin_reads += !strcmp(o->read_paths[i], "-");
	if (stdin_reads > 1)
		die_usage("%s: standard input can be read only once", "-r -");
}

/* The filter expression may come as several words, like tcpdump's. */
static char *join_args(int n, char **args)
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
	double v;

	if (!num_parse_decimal(arg, strlen(arg), &v) || v <= 0 || v > 1) {
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
	const char *dash = strchr(arg, '-');
	uint64_t a = 0, b = 0;

	if (!dash || !num_parse_uint(arg, (size_t)(dash - arg), 24, &a) ||
	    !num_parse_uint(dash + 1, strlen(dash + 1), 24, &b) || a >= b)
		die_usage("--business-hours: '%s' is not HH-HH (00 <= start < end <= 24)", arg);
	d->business_start = (unsigned int)a;
	d->business_end = (unsigned int)b;
}

/*
 * The time records' pool is allocated whole (and touched as used): 2^20 of
 * them are 3.4 GiB of address space.
 */
#define TIME_RECORDS_LIMIT (1u << 20)

/* The detection options; returns false for an option that is not one of them. */
static bool parse_detect_option(struct options *o, int c, char *arg)
{
	char bad[64] = "";

	switch (c) {
	case OPT_DETECT:
		if (detect_parse_kinds(arg, &o->detect.kinds, bad, sizeof(bad)) || !o->detect.kinds)
			die_usage(
				"--detect: unknown kind '%s' (mutual, exclusive_target, "
				"exclusive_client, time_window, periodic, replacement, first_seen)",
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
		o->detect.silence_ns = parse_seconds("--silence", arg);
		return true;
	case OPT_REPLACEMENT_WINDOW:
		o->detect.replacement_window_ns = parse_seconds("--replacement-window", arg);
		return true;
	case OPT_POPULATION_WINDOW:
		o->detect.population_window_ns = parse_seconds("--population-window", arg);
		return true;
	case OPT_MIN_REPEAT:
		o->detect.min_repeat = parse_positive("--min-repeat", arg);
		return true;
	case OPT_MIN_SPREAD:
		o->detect.min_spread =
			(unsigned int)parse_uint("--min-spread", arg, 1, DETECT_SPREAD_SLICES);
		return true;
	case OPT_TIME_RECORDS:
		o->detect.max_details = parse_uint("--time-records", arg, 1, TIME_RECORDS_LIMIT);
		return true;
	case OPT_FIRST_SEEN:
		o->detect.first_seen_all = true;
		return true;
	}
	return false;
}

/*
 * The index of arg among the choices of option c (cli_options.c), or exit
 * saying what the option takes ("--hook: 'x' is not cgroup, tc or xdp").
 */
static int parse_choice(int c, const char *arg)
{
	const struct cli_option *o = cli_option_find(c);
	int i = cli_choice_index(o, arg), n = 0, len;
	char fmt[160];

	if (i >= 0)
		return i;
	while (o->words[n])
		n++;
	len = snprintf(fmt, sizeof(fmt), "--%s: '%%s' is not ", o->name);
	for (i = 0; i < n && len > 0 && (size_t)len < sizeof(fmt); i++)
		len += snprintf(fmt + len, sizeof(fmt) - (size_t)len, "%s%s",
				i == 0	     ? ""
				: i == n - 1 ? " or "
					     : ", ",
				o->words[i]);
	die_usage(fmt, arg);
	return 0;
}

/*
 * Tables grow with their keys, so --max-entries costs nothing until keys
 * arrive; this bound keeps the worst case (every table full, about 3.4 KB
 * per unit: docs/output.md, "Memory") to tens of GB rather than whatever a
 * typo asks for.
 */
#define MAX_ENTRIES_LIMIT (1u << 24)

/* A duration: seconds, or a whole number with s, m, h, d or w. */
static uint64_t parse_duration(const char *opt, const char *arg)
{
	static const struct {
		char unit;
		uint64_t s;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
	size_t len = strlen(arg);
	uint64_t v;

	for (size_t i = 0; len > 1 && i < sizeof(units) / sizeof(units[0]); i++)
		if (arg[len - 1] == units[i].unit) {
			if (!num_parse_uint(arg, len - 1, MAX_SECONDS / units[i].s, &v) || !v)
				break;
			return v * units[i].s * NS_PER_SEC;
		}
	return parse_seconds(opt, arg);
}

/*
 * The state file: --report needs --state and nothing to capture; -r uses
 * one only when named; --no-state turns off a live session's default.
 */
static void check_state_options(struct options *o, bool no_state)
{
	if (o->hosts && (!o->from_clickhouse || !*o->hosts))
		die_usage("%s: needs --from-clickhouse URL (and a pattern)", "--hosts");
	if (o->from_clickhouse) {
		if (o->report || o->state_path || o->nread)
			die_usage("%s: judges the fleet's history; it goes with no --report, "
				  "--state or -r",
				  "--from-clickhouse");
		return;
	}
	if (o->report) {
		if (!o->state_path)
			die_usage("%s: needs --state FILE (the history to judge)", "--report");
		if (o->nread)
			die_usage("%s: judges the stored history; it reads no -r input",
				  "--report");
		if (no_state)
			die_usage("%s: cannot go with --no-state", "--report");
		return;
	}
	if (o->since_ns)
		die_usage("%s: only with --report", "--since");
	if (o->detect.first_seen_all && !o->state_path && (no_state || o->nread))
		die_usage("%s: needs a state file (--state FILE), the history a target is new to",
			  "--first-seen");
	if (no_state) {
		if (o->state_path)
			die_usage("%s: cannot go with --state", "--no-state");
		return;
	}
	/*
	 * A live session without --state uses the default file, if it runs
	 * as root with the detectors (decided in session.c, which knows);
	 * -r never does: a capture read twice would be counted twice.
	 */
	o->state_default = !o->state_path && !o->nread && !o->dnstap_socket;
}

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
	if (!o->nifaces)
		die_usage("--hook %s needs at least one -i IFACE",
			  o->hook == LIVE_HOOK_TC ? "tc" : "xdp");
	if (o->pid || o->comm || o->cgroup)
		die_usage("%s: a tc or xdp hook cannot know which process a packet belongs to",
			  "-p/--comm/--cgroup");
	if (msgfilter_wants_ident(&o->msgfilter))
		die_usage("%s: a tc or xdp hook cannot know which process a packet belongs to",
			  "--unit/--container");
}

/* The display filters' flags (report/msgfilter.h); false for another option. */
static bool parse_filter_option(struct options *o, int c, const char *arg)
{
	static const struct {
		int opt;
		enum msgfilter_flag flag;
	} flags[] = {
		{OPT_NAME, MSGFILTER_NAME},	      {OPT_RCODE, MSGFILTER_RCODE},
		{OPT_QTYPE, MSGFILTER_QTYPE},	      {OPT_DIR, MSGFILTER_DIR},
		{OPT_SLOWER_THAN, MSGFILTER_SLOWER},  {OPT_CLIENT, MSGFILTER_CLIENT},
		{OPT_SERVER, MSGFILTER_SERVER},	      {OPT_UNIT, MSGFILTER_UNIT},
		{OPT_CONTAINER, MSGFILTER_CONTAINER},
	};
	char err[256];

	if (c == OPT_UNANSWERED) {
		msgfilter_add_unanswered(&o->msgfilter);
		return true;
	}
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (flags[i].opt != c)
			continue;
		if (msgfilter_add(&o->msgfilter, flags[i].flag, arg, err, sizeof(err)) < 0)
			die_usage("%s", err);
		return true;
	}
	return false;
}

/* --metrics ADDR:PORT; --report measures nothing (checked once all flags are read). */
static void parse_metrics(struct options *o, const char *arg)
{
	char err[256];

	if (metrics_http_parse(arg, &o->metrics, err, sizeof(err)) < 0)
		die_usage("%s", err);
}

/*
 * --top-live draws on the terminal and reads its keys: both ends must be
 * one. --pace times a replay, so it needs -r.
 */
static void check_view_options(const struct options *o)
{
	if (o->pace && !o->nread)
		die_usage("%s: replays -r inputs; there is none", "--pace");
	if (!o->top_live)
		return;
	if (o->report)
		die_usage("%s: --report writes the stored history's findings; nothing to view",
			  "--top-live");
	if (o->write_path && !strcmp(o->write_path, "-"))
		die_usage("%s: the view owns standard output; -w needs a file", "--top-live");
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		die_usage("%s: needs a terminal on standard input and output (for a report "
			  "without one: --summary, --interval)",
			  "--top-live");
}

void cli_parse(int argc, char **argv, struct options *o)
{
	int c, live_only = 0, live_only_but_d = 0;
	struct getopt_tables t;
	bool no_state = false;

	*o = (struct options){
		.format = OUTPUT_JSON,
		.snaplen = DNSSNOOP_DEFAULT_SNAPLEN,
		.timeout_ns = 5 * NS_PER_SEC,
		.max_line_bytes = JSONL_MAX_LINE,
		.max_pending = 65536,
		.events = true,
		.top_n = STATS_REPORT_DEFAULT_TOP,
		.max_entries = 100000,
		.retain_days = STATE_DEFAULT_RETAIN,
	};
	detect_config_default(&o->detect);
	getopt_tables_fill(&t);
	while ((c = getopt_long(argc, argv, t.shortopts, t.longopts, NULL)) != -1) {
		if (!live_only && is_live_only(c))
			live_only = c;
		if (!live_only_but_d && is_live_only(c) && c != 'd')
			live_only_but_d = c;
		switch (c) {
		case 'd':
			o->duration_ns = parse_seconds("-d", optarg);
			break;
		case 'c':
			o->count = parse_uint("-c", optarg, 1, UINT64_MAX);
			break;
		case 'o':
			o->output_path = optarg;
			break;
		case OPT_FORMAT:
			o->format = (enum output_format)parse_choice(c, optarg);
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
			o->hook = (enum live_hook)parse_choice(c, optarg);
			break;
		case OPT_TC_ATTACH:
			o->tc_attach = (enum live_tc_attach)parse_choice(c, optarg);
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
			o->timeout_ns = parse_seconds("--timeout", optarg);
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
		case OPT_MAX_LINE_BYTES:
			o->max_line_bytes =
				parse_uint("--max-line-bytes", optarg, 1, MAX_LINE_BYTES_MAX);
			break;
		case 'w':
			o->write_path = optarg;
			break;
		case OPT_DNSTAP_SOCKET:
			if (o->dnstap_socket)
				die_usage("--dnstap-socket: one socket only (got another: %s)",
					  optarg);
			o->dnstap_socket = optarg;
			break;
		case OPT_DNSTAP_OUT:
			if (!*optarg || !strcmp(optarg, "-") || !strcmp(optarg, "unix:"))
				die_usage("--dnstap-out: '%s': give a file, or unix:PATH of a "
					  "collector's socket",
					  optarg);
			o->dnstap_out = optarg;
			break;
		case OPT_SUMMARY:
			o->summary = true;
			break;
		case OPT_NO_EVENTS:
			o->events = false;
			o->summary = true;
			break;
		case OPT_INTERVAL:
			o->interval_ns = parse_seconds("--interval", optarg);
			o->summary = true;
			break;
		case OPT_TOP:
			o->top_n = parse_uint("--top", optarg, 0, UINT32_MAX);
			break;
		case OPT_MAX_ENTRIES:
			o->max_entries = parse_uint("--max-entries", optarg, 16, MAX_ENTRIES_LIMIT);
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
		case OPT_POPULATION_WINDOW:
		case OPT_MIN_REPEAT:
		case OPT_MIN_SPREAD:
		case OPT_TIME_RECORDS:
		case OPT_FIRST_SEEN:
			parse_detect_option(o, c, optarg);
			break;
		case 'Z':
			if (!privdrop_user_valid(optarg))
				die_usage("-Z: no user '%s'", optarg);
			o->user = optarg;
			break;
		case OPT_SECCOMP:
			o->seccomp = (enum privdrop_seccomp)parse_choice(c, optarg);
			break;
		case OPT_STATE:
			o->state_path = optarg;
			break;
		case OPT_NO_STATE:
			no_state = true;
			break;
		case OPT_RETAIN:
			o->retain_days = parse_uint("--retain", optarg, 1, 36500);
			break;
		case OPT_REPORT:
			o->report = true;
			break;
		case OPT_SINCE:
			o->since_ns = parse_duration("--since", optarg);
			break;
		case OPT_FROM_CLICKHOUSE:
			o->from_clickhouse = optarg;
			break;
		case OPT_HOSTS:
			o->hosts = optarg;
			break;
		case OPT_METRICS:
			parse_metrics(o, optarg);
			break;
		case OPT_FILTER_STATS:
			o->filter_stats = true;
			break;
		case OPT_NAME:
		case OPT_RCODE:
		case OPT_QTYPE:
		case OPT_DIR:
		case OPT_SLOWER_THAN:
		case OPT_CLIENT:
		case OPT_SERVER:
		case OPT_UNIT:
		case OPT_CONTAINER:
		case OPT_UNANSWERED:
			parse_filter_option(o, c, optarg);
			break;
		case OPT_TOP_LIVE:
			o->top_live = true;
			break;
		case OPT_PACE:
			o->pace = true;
			break;
		case OPT_CLICKHOUSE:
			o->clickhouse = optarg;
			break;
		case OPT_CLICKHOUSE_SPOOL:
			o->clickhouse_spool = optarg;
			break;
		case OPT_CLICKHOUSE_SPOOL_MB:
			o->clickhouse_spool_mb =
				parse_uint("--clickhouse-spool-mb", optarg, 1, UINT32_MAX);
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'V':
			version_print(stdout);
			exit(0);
		case 'h':
			cli_help_print(stdout);
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
	/* A collector runs for -d like a live session; the rest stays live only. */
	if (o->nread || o->dnstap_socket)
		check_read_options(o, o->dnstap_socket ? live_only_but_d : live_only);
	if (o->comm && strlen(o->comm) >= DNSSNOOP_COMM_LEN)
		die_usage("--comm: '%s' is longer than a process name can be (15 bytes)", o->comm);
	check_hook_options(o);
	check_state_options(o, no_state);
	if (o->filter_stats && !msgfilter_active(&o->msgfilter))
		die_usage("%s: needs a display filter (--name, --rcode, --qtype, --dir, "
			  "--unanswered, --slower-than, --client or --server)",
			  "--filter-stats");
	if (o->report && o->metrics.text)
		die_usage("%s: --report judges the stored history; there is nothing to measure",
			  "--metrics");
	check_view_options(o);
	if ((o->clickhouse_spool || o->clickhouse_spool_mb) && !o->clickhouse)
		die_usage("%s: the spool of --clickhouse; there is none", "--clickhouse-spool");
	if (!o->nports)
		o->ports[o->nports++] = 53;
}

void cli_free(struct options *o)
{
	free(o->filter);
	o->filter = NULL;
}
