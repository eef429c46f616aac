// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dnssnoop: trace every DNS message on this host, with the process behind it.
 *
 * This file only parses the command line and runs the session loop; the
 * work is done by the capture source (capture_live.c) feeding the pipeline
 * (pipeline.c), which feeds the output (output.c).
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
#include <unistd.h>

#include "capture_live.h"
#include "output.h"
#include "pipeline.h"

#define DNSSNOOP_VERSION "0.1.0"
#define NS_PER_SEC 1000000000ULL
#define POLL_MS 100

struct options {
	double duration_s; /* -d, 0 = until interrupted */
	uint64_t count; /* -c */
	const char *output_path; /* -o */
	enum output_format format;
	uint32_t pid; /* -p */
	const char *comm; /* --comm */
	const char *cgroup; /* --cgroup */
	uint16_t ports[DNSSNOOP_MAX_PORTS];
	int nports;
	uint32_t snaplen;
	double timeout_s;
	uint32_t ringbuf_mb;
	uint64_t max_pending;
	bool verbose;
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
		"Trace every DNS message sent or received on this host, with its process.\n"
		"Output: JSON Lines (one record per message; see docs/output.md).\n\n"
		"  -d, --duration SECONDS  trace for this long, then exit (default: until Ctrl-C)\n"
		"  -c, --count N           exit after N DNS messages\n"
		"  -o, --output FILE       write records to FILE instead of stdout\n"
		"      --format json|text  JSON Lines (default) or one readable line per message\n"
		"  -p, --pid PID           only messages of process PID\n"
		"      --comm NAME         only messages of processes named NAME\n"
		"      --cgroup PATH       only sockets in this cgroup v2 subtree (a container,\n"
		"                          a systemd unit), e.g. /system.slice/nsd.service\n"
		"      --port N            DNS port to trace (repeatable, up to %d; default 53)\n"
		"      --snaplen N         bytes of each packet's payload to copy (%d..%d,\n"
		"                          default %d)\n"
		"      --timeout SECONDS   report a query unanswered after this (default 5)\n"
		"      --max-pending N     bound on queries awaiting a response (default 65536)\n"
		"      --ringbuf-mb N      kernel ring buffer size in MiB (default 8)\n"
		"  -v, --verbose           show libbpf's messages\n"
		"  -V, --version           print the version\n"
		"  -h, --help              this help\n",
		DNSSNOOP_MAX_PORTS, DNSSNOOP_MIN_SNAPLEN, DNSSNOOP_MAX_SNAPLEN,
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
		fprintf(stderr, "dnssnoop: %s: '%s' is not a whole number from %llu to %llu\n",
			opt, arg, (unsigned long long)min, (unsigned long long)max);
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
};

static const struct option long_options[] = {
	{ "duration", required_argument, NULL, 'd' },
	{ "count", required_argument, NULL, 'c' },
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "pid", required_argument, NULL, 'p' },
	{ "comm", required_argument, NULL, OPT_COMM },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "snaplen", required_argument, NULL, OPT_SNAPLEN },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "max-pending", required_argument, NULL, OPT_MAX_PENDING },
	{ "ringbuf-mb", required_argument, NULL, OPT_RINGBUF_MB },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

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

static void parse_options(int argc, char **argv, struct options *o)
{
	int c;

	*o = (struct options){
		.format = OUTPUT_JSON,
		.snaplen = DNSSNOOP_DEFAULT_SNAPLEN,
		.timeout_s = 5,
		.max_pending = 65536,
	};
	while ((c = getopt_long(argc, argv, "d:c:o:p:vVh", long_options, NULL)) != -1) {
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
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (o->comm && strlen(o->comm) >= DNSSNOOP_COMM_LEN)
		die_usage("--comm: '%s' is longer than a process name can be (15 bytes)",
			  o->comm);
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
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed reader shows up as EPIPE from write */
}

struct session {
	struct live_capture *live;
	struct pipeline *pipe;
	struct output *out;
};

static void on_packet(void *ctx, const struct pkt_meta *meta, const uint8_t *payload,
		      size_t caplen)
{
	struct session *s = ctx;

	pipeline_packet(s->pipe, meta, payload, caplen);
}

/* Poll until -d, -c, a signal or a dead reader ends the session. */
static int run_session(struct session *s, const struct options *o)
{
	uint64_t start = live_now_ns(s->live);
	uint64_t end = o->duration_s ? start + (uint64_t)(o->duration_s * NS_PER_SEC) : 0;

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
	return 0;
}

static void report_capture_stats(struct session *s, uint64_t start_ns)
{
	struct capture_stats st = { 0 };
	struct dnssnoop_counters kc;

	live_get_counters(s->live, &kc);
	pipeline_get_stats(s->pipe, &st);
	st.start_ns = start_ns;
	st.end_ns = live_now_ns(s->live);
	st.has_kernel = true;
	st.packets_matched = kc.matched;
	st.events_submitted = kc.submitted;
	st.events_lost = kc.lost;
	st.events_delivered = live_delivered(s->live);
	output_capture_stats(s->out, &st);
}

int main(int argc, char **argv)
{
	struct options o;
	struct session s = { 0 };
	char host[256] = "unknown", err[512] = "";
	uint64_t start_ns;
	int rc, out_fd;

	parse_options(argc, argv, &o);
	out_fd = open_output(o.output_path);
	gethostname(host, sizeof(host) - 1);

	struct live_config lcfg = {
		.ports = o.ports,
		.nports = o.nports,
		.snaplen = o.snaplen,
		.cgroup_path = o.cgroup,
		.ringbuf_mb = o.ringbuf_mb,
		.verbose = o.verbose,
	};
	struct output_config ocfg = {
		.fd = out_fd,
		.format = o.format,
		.host = host,
		.cgroup_path = live_cgroup_path,
	};
	struct pipeline_config pcfg = {
		.timeout_ns = (uint64_t)(o.timeout_s * NS_PER_SEC),
		.max_pending = o.max_pending,
		.max_tcp_flows = 4096,
		.filter_pid = o.pid,
		.filter_comm = o.comm,
		.max_messages = o.count,
	};

	install_signal_handlers();
	s.live = live_open(&lcfg, on_packet, &s, err, sizeof(err));
	if (!s.live) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	ocfg.cgroup_ctx = s.live;
	s.out = output_new(&ocfg);
	pcfg.out = s.out;
	s.pipe = s.out ? pipeline_new(&pcfg) : NULL;
	if (!s.pipe) {
		fprintf(stderr, "dnssnoop: out of memory setting up the pipeline\n");
		live_close(s.live);
		return 1;
	}
	start_ns = live_now_ns(s.live);
	fprintf(stderr, "dnssnoop: attached\n");

	rc = run_session(&s, &o);
	/* Stop the kernel side first, so the drain below sees every event it sent. */
	live_detach(s.live);
	while (live_poll(s.live, 0) > 0)
		;
	pipeline_finish(s.pipe, live_now_ns(s.live));
	report_capture_stats(&s, start_ns);

	pipeline_free(s.pipe);
	output_free(s.out);
	live_close(s.live);
	if (out_fd != STDOUT_FILENO)
		close(out_fd);
	return rc;
}
