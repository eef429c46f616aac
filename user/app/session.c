// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One session: a capture source (capture/capture_live.c live; -r inputs,
 * pcap and JSON Lines, merged in time order by capture/merge.c) feeding the
 * pipeline (app/pipeline.c), which feeds the statistics
 * (analysis/summary.c) and the output (report/); until -d, -c, a signal,
 * the end of the inputs, a reader that went away, or an output that could
 * not be written.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/clickhouse_feed.h"
#include "app/metrics_http.h"
#include "app/pipeline.h"
#include "app/privdrop.h"
#include "app/progress.h"
#include "app/report_sink.h"
#include "app/session.h"
#include "app/version.h"
#include "analysis/ch_history.h"
#include "analysis/state.h"
#include "analysis/summary.h"
#include "report/detect_report.h"
#include "capture/capture_live.h"
#include "capture/merge.h"
#include "lib/json.h"
#include "lib/outfile.h"
#include "lib/units.h"
#include "report/metrics.h"
#include "report/output.h"
#include "report/dnstap_writer.h"
#include "report/msgfilter.h"
#include "report/pcap_writer.h"
#include "report/toplive.h"
#include "report/toplive_screen.h"

#define POLL_MS 100
/* How late a dnstap writer's messages may come (see run_offline). */
#define DNSTAP_WRITER_LAG_NS (2 * NS_PER_SEC)
/* Items merged between checks that the reader of the output is still there. */
#define FLUSH_CHECK_ITEMS 65536
/*
 * --metrics: a new snapshot this often, or this soon after the last when
 * a scrape came (so that one scraping every few seconds gets fresh
 * counts). Checked at every poll (live) or item (offline).
 */
#define METRICS_EVERY_NS   NS_PER_SEC
#define METRICS_SOONEST_NS (100 * NS_PER_MSEC)

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
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
	struct options *opt; /* state_path set when the default file is used */
	struct live_capture *live; /* live mode */
	struct merge *inputs; /* offline mode: the -r inputs, merged by time */
	struct pcap_writer *writer; /* -w */
	bool filtered; /* display filters: -w writes what passes, from the pipeline */
	struct dnstap_writer *dnstap; /* --dnstap-out */
	int dnstap_fd; /* --dnstap-out's file, until the writer takes it over */
	struct pipeline *pipe;
	struct summary *summary;
	struct output *out;
	int out_fd; /* the records' file, or standard output; -1: not open yet */
	int write_fd; /* -w's, until the writer takes it over */
	bool write_to_pipe; /* -w goes to a pipe or socket */
	int write_err; /* -w's first error (-errno): the session stops */
	struct report_sink reports; /* the summary's tables and findings, written */
	struct state *state; /* --state: history in, this session's counts out */
	bool state_failed; /* a fold at an --interval close failed (said once) */
	char state_default_path[PATH_MAX]; /* the default file's path, when used */
	struct metrics_http *http; /* --metrics: the responder */
	struct metrics *metrics; /* --metrics: the counters */
	struct jbuf metrics_text; /* the last rendering, reused */
	uint64_t metrics_at_ns; /* CLOCK_MONOTONIC of the last rendering */
	struct toplive *top; /* --top-live: the counts */
	struct toplive_screen *screen; /* --top-live: the terminal, once the session runs */
	uint64_t pace_wall_ns, pace_item_ns; /* --pace: when the first item came, and its time */
	struct progress progress; /* -r on a terminal: the progress line */
	struct clickhouse_feed clickhouse; /* --clickhouse */
};

/* The coarse clock (a few ms, from the vDSO without reading the TSC): cheap per item. */
static uint64_t coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* --top-live: keys read and the screen drawn when due; q ends the session as a signal does. */
static void serve_view(struct session *s)
{
	if (s->screen && !toplive_screen_service(s->screen, coarse_ns()))
		stop_requested = 1;
}

/*
 * --metrics: render and hand over a snapshot when one is due (force: now).
 * Rendering is the only cost on the capture's thread, once a second.
 */
static void publish_metrics(struct session *s, bool force)
{
	uint64_t now, since;

	if (!s->http)
		return;
	now = coarse_ns();
	since = now - s->metrics_at_ns;
	if (!force && (since < METRICS_SOONEST_NS ||
		       (since < METRICS_EVERY_NS && !metrics_http_wanted(s->http))))
		return;
	s->metrics_at_ns = now;
	jbuf_reset(&s->metrics_text);
	if (pipeline_render_metrics(s->pipe, &s->metrics_text) == 0)
		metrics_http_publish(s->http, s->metrics_text.buf, s->metrics_text.len);
}

/* --metrics: listen before anything is attached, so that a port in use fails the start early. */
static int open_metrics(struct session *s)
{
	char err[512];

	if (!s->opt->metrics.text)
		return 0;
	s->http = metrics_http_open(&s->opt->metrics, err, sizeof(err));
	if (s->http)
		return 0;
	fprintf(stderr, "%s\n", err);
	return -1;
}

/* --metrics: serve from now on (live: after the privilege drop, which the thread inherits). */
static int start_metrics(struct session *s)
{
	char err[512];

	if (!s->http)
		return 0;
	publish_metrics(s, true);
	if (metrics_http_start(s->http, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "%s\n", err);
	return -1;
}

static void on_packet(void *ctx, const struct pkt_meta *meta, const uint8_t *payload, size_t caplen)
{
	struct session *s = ctx;
	int err;

	if (s->writer && !s->filtered && !s->write_err &&
	    (err = pcap_writer_write(s->writer, meta, payload, caplen)))
		s->write_err = err; /* reported at the end, with the exit status */
	pipeline_packet(s->pipe, meta, payload, caplen);
	if (pipeline_done(s->pipe))
		stop_requested = 1; /* -c reached: the sources stop reading */
}

/* A logged message (dnstap): not written by -w, which writes packets. */
static void on_message(struct session *s, const struct pkt_meta *meta, const uint8_t *msg,
		       size_t len)
{
	pipeline_message(s->pipe, meta, msg, len);
	if (pipeline_done(s->pipe))
		stop_requested = 1;
}

/* Live: poll until -d, -c, a signal or a dead reader ends the session. */
static int run_live(struct session *s)
{
	const struct options *o = s->opt;
	uint64_t start = live_now_ns(s->live);
	uint64_t end = o->duration_ns ? start + o->duration_ns : 0;

	pipeline_tick(s->pipe, start);
	while (!stop_requested && !pipeline_done(s->pipe)) {
		int n = live_poll(s->live, POLL_MS);
		uint64_t now = live_now_ns(s->live);

		if (n == -ECHILD)
			return 1; /* the clsact guard died: live_poll said so */
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "dnssnoop: reading the ring buffer failed: %s\n",
				strerror(-n));
			return 1;
		}
		pipeline_tick(s->pipe, now);
		publish_metrics(s, false);
		if (s->top) {
			toplive_tick(s->top, now); /* rates fall while nothing comes */
			serve_view(s);
		}
		if (output_flush(s->out) < 0 || s->write_err)
			return 0; /* stopped; reported (or not: EPIPE from a pipe) at the end */
		if (end && now >= end)
			break;
	}
	/* Stop the kernel side first, so the drain below sees every event it sent. */
	live_detach(s->live);
	while (live_poll(s->live, 0) > 0)
		;
	return 0;
}

static uint64_t realtime_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (uint64_t)now.tv_sec * NS_PER_SEC + (uint64_t)now.tv_nsec;
}

/* CLOCK_MONOTONIC after duration_ns from now; 0 for 0 (no end). */
static uint64_t deadline(uint64_t duration_ns)
{
	return duration_ns ? monotonic_ns() + duration_ns : 0;
}

/*
 * Offline: open every -r input, reporting each that cannot be opened
 * (missing, unreadable, of an unknown format). Returns 0, 1 when an input
 * could not be opened (the start failed), -1 when nothing can be done (out
 * of memory).
 */
static int open_offline(struct session *s)
{
	const struct options *o = s->opt;
	struct merge_config mcfg = {
		.filter = o->filter,
		.ports = o->ports,
		.nports = o->nports,
		.max_line_bytes = o->max_line_bytes,
		.stop = &stop_requested,
	};
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
	if (o->dnstap_socket && merge_add_dnstap_socket(s->inputs, o->dnstap_socket,
							deadline(o->duration_ns), err,
							sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		rc = 1;
	}
	return rc;
}

/*
 * --pace: an item waits until as much wall time has passed since the first
 * item as its time is past the first's, the view served meanwhile.
 */
static void pace(struct session *s, uint64_t ts_ns)
{
	const struct timespec nap = {.tv_nsec = 20 * NS_PER_MSEC};

	if (!s->pace_wall_ns) {
		s->pace_wall_ns = coarse_ns();
		s->pace_item_ns = ts_ns;
		return;
	}
	while (!stop_requested && ts_ns > s->pace_item_ns &&
	       ts_ns - s->pace_item_ns > coarse_ns() - s->pace_wall_ns) {
		serve_view(s);
		nanosleep(&nap, NULL);
	}
}

static bool is_stdout(const char *path)
{
	return !path || !strcmp(path, "-");
}

/*
 * -r with standard error on a terminal: a progress line there, unless -q,
 * or the records go to that terminal too (they would tear the line), or an
 * input has no size to measure against (a pipe, a collector socket), or
 * --top-live owns the screen.
 */
static void start_progress(struct session *s)
{
	const struct options *o = s->opt;
	uint64_t done, total;
	bool on = !o->quiet && !o->top_live && isatty(STDERR_FILENO) &&
		  (!is_stdout(o->output_path) || !isatty(STDOUT_FILENO)) &&
		  merge_progress(s->inputs, &done, &total);
	bool packets = !merge_has(s->inputs, MERGE_JSONL) && !merge_has(s->inputs, MERGE_DNSTAP);

	progress_init(&s->progress, on ? STDERR_FILENO : -1, packets ? "packets" : "records",
		      coarse_ns());
}

/* One more item read; the line redrawn when due (the offsets read only then). */
static void count_progress(struct session *s)
{
	uint64_t now = coarse_ns(), done, total;

	if (progress_item(&s->progress, now) && merge_progress(s->inputs, &done, &total))
		progress_show(&s->progress, now, done, total);
}

/* Offline: every input's packets and records, merged by time; problems are
 * reported, the rest read. */
static int run_offline(struct session *s)
{
	struct merge_item item;
	char err[512];
	uint64_t items = 0;
	int rc = 0, n;

	start_progress(s);
	while (!stop_requested && !pipeline_done(s->pipe) && !output_error(s->out) &&
	       !s->write_err) {
		n = merge_next(s->inputs, &item, err, sizeof(err));
		if (n == 0)
			break;
		if (n == MERGE_IDLE) {
			/*
			 * A quiet collector socket: wall-clock time expires queries
			 * and closes intervals, less what writers may still hold
			 * (libfstrm's writers flush every second).
			 */
			pipeline_tick(s->pipe, realtime_ns() - DNSTAP_WRITER_LAG_NS);
			publish_metrics(s, false);
			serve_view(s);
			output_flush(s->out); /* what came is written while it is quiet */
			continue;
		}
		if (n < 0) {
			progress_clear(&s->progress); /* redrawn when due */
			fprintf(stderr, "%s\n", err);
			rc = 1;
			continue;
		}
		if (s->opt->pace)
			pace(s, item.ts_ns);
		if (item.kind == MERGE_PCAP)
			on_packet(s, item.meta, item.payload, item.caplen);
		else if (item.kind == MERGE_DNSTAP)
			on_message(s, item.meta, item.payload, item.caplen);
		else
			pipeline_observation(s->pipe, item.obs, item.ts_ns);
		if (++items % FLUSH_CHECK_ITEMS == 0)
			output_flush(s->out); /* an error stops the loop */
		publish_metrics(s, false);
		serve_view(s);
		count_progress(s);
	}
	progress_clear(&s->progress);
	for (int i = 0; s->opt->verbose && i < merge_inputs(s->inputs); i++) {
		merge_describe(s->inputs, i, err, sizeof(err));
		fprintf(stderr, "%s\n", err);
	}
	return rc;
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
	return 0;
}

/* A named output file is emptied; standard output is written where it stands. */
static int empty_file(int fd, const char *path, char *err, size_t errlen)
{
	int rc;

	if (fd < 0 || is_stdout(path) || !(rc = outfile_truncate(fd, 0)))
		return 0;
	snprintf(err, errlen, "dnssnoop: cannot empty output file %s: %s", path, strerror(-rc));
	return -1;
}

/* --dnstap-out names a file (not a collector's socket). */
static bool dnstap_out_file(const struct options *o)
{
	return o->dnstap_out && strncmp(o->dnstap_out, DNSTAP_UNIX_PREFIX,
					strlen(DNSTAP_UNIX_PREFIX)) != 0;
}

/*
 * The records' file; --top-live owns the terminal, so records meant for
 * standard output go nowhere (-o FILE still gets them).
 */
static int open_records(const struct options *o, bool early, char *err, size_t errlen)
{
	int fd;

	if (!o->top_live || !is_stdout(o->output_path))
		return outfile_open(early ? "-" : o->output_path, err, errlen);
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		snprintf(err, errlen, "dnssnoop: --top-live: cannot open /dev/null: %s",
			 strerror(errno));
	return fd;
}

/*
 * The outputs of -o and -w (lib/outfile.h) that are standard output
 * (early) or files (!early). Standard output is checked before anything
 * else is opened (a closed one's number would go to the next file opened);
 * files once the source is ready, so that a start that fails leaves them
 * as they were, and emptied only once both are open.
 */
static int open_outputs(struct session *s, bool early)
{
	const struct options *o = s->opt;
	char err[512];

	if (o->write_path && is_stdout(o->write_path) == early &&
	    (s->write_fd = outfile_open(o->write_path, err, sizeof(err))) < 0)
		goto fail;
	if (!early && dnstap_out_file(o) &&
	    ((s->dnstap_fd = outfile_open(o->dnstap_out, err, sizeof(err))) < 0 ||
	     empty_file(s->dnstap_fd, o->dnstap_out, err, sizeof(err))))
		goto fail;
	if (is_stdout(o->output_path) == early &&
	    (s->out_fd = open_records(o, early, err, sizeof(err))) < 0)
		goto fail;
	if (early)
		return 0;
	if (empty_file(s->write_fd, o->write_path, err, sizeof(err)) ||
	    empty_file(s->out_fd, o->output_path, err, sizeof(err)))
		goto fail;
	if (s->write_fd < 0)
		return 0;
	s->write_to_pipe = outfile_is_pipe(s->write_fd);
	s->writer = pcap_writer_fdopen(s->write_fd, outfile_name(o->write_path), err, sizeof(err));
	s->write_fd = -1; /* the writer's now, or closed */
	if (s->writer)
		return 0;
fail:
	fprintf(stderr, "%s\n", err);
	return -1;
}

/* The session's counts since the last fold into the state file; -1 (said) if that failed. */
static int fold_counts(struct session *s, const char *when)
{
	char err[640];
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (state_fold(s->state, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (s->opt->verbose)
		fprintf(stderr, "dnssnoop: state file %s: folded the session%s in %.1f ms\n",
			s->opt->state_path, when,
			(double)(t1.tv_sec - t0.tv_sec) * 1e3 +
				(double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	return 0;
}

/*
 * An --interval closes: its capture_stats record, then what was counted
 * so far folded, so that a long session's history is in the file (and
 * seen by --report) before it ends. A failure is said once; the session
 * goes on and its exit status says the state was not saved.
 */
static void interval_closes(void *ctx, uint64_t start_ns, uint64_t end_ns)
{
	struct session *s = ctx;

	pipeline_interval(s->pipe, start_ns, end_ns);
	if (s->state && !s->state_failed && fold_counts(s, " so far"))
		s->state_failed = true;
}

/* The session's counts into the state file; SESSION_EXIT_STATE if that (or an earlier) failed. */
static int fold_state(struct session *s, int rc)
{
	if (!s->state)
		return rc;
	if (!s->state_failed && !fold_counts(s, ""))
		return rc;
	return rc > SESSION_EXIT_STATE ? rc : SESSION_EXIT_STATE; /* the highest applies */
}

/* --dnstap-out's writer (its file already open); -1 when it cannot be made (said). */
static int open_dnstap_out(struct session *s, const char *host)
{
	struct dnstap_writer_config cfg = {
		.target = s->opt->dnstap_out,
		.fd = s->dnstap_fd,
		.identity = host,
		.version = version_name(),
		.cgroup_path = s->live ? live_cgroup_path : NULL,
		.cgroup_ctx = s->live,
	};
	char err[512];

	if (!s->opt->dnstap_out)
		return 0;
	s->dnstap = dnstap_writer_new(&cfg, err, sizeof(err));
	s->dnstap_fd = -1; /* the writer's now, or closed */
	if (s->dnstap)
		return 0;
	fprintf(stderr, "%s\n", err);
	return -1;
}

/*
 * --dnstap-out unix:PATH: its I/O thread, started after the drop (a thread
 * keeps the capabilities it was created with; see privdrop.h).
 */
static int start_dnstap_out(struct session *s)
{
	char err[512];

	if (!s->dnstap || dnstap_writer_start(s->dnstap, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "%s\n", err);
	return -1;
}

/* --metrics: label sets per family bounded by --max-entries (report/metrics.h). */
static int open_metrics_counters(struct session *s, const struct output_config *ocfg)
{
	const struct options *o = s->opt;
	struct metrics_config mcfg = {
		.max_series = o->max_entries,
		.cgroup_path = ocfg->cgroup_path,
		.cgroup_ctx = ocfg->cgroup_ctx,
		.max_pending = o->max_pending,
		.max_entries = o->max_entries,
	};

	s->metrics = metrics_new(&mcfg);
	s->reports.metrics = s->metrics;
	return s->metrics && jbuf_init(&s->metrics_text, 65536) == 0 ? 0 : -1;
}

/* The records' output: their file, their format, what the source knows. */
static struct output_config records_config(const struct session *s, const char *host)
{
	return (struct output_config){
		.fd = s->out_fd,
		.format = s->opt->format,
		.host = host,
		.cgroup_path = s->live ? live_cgroup_path : NULL,
		.cgroup_ident = s->live ? live_cgroup_ident : NULL,
		.cgroup_ident_by_path = s->live ? live_cgroup_ident_by_path : NULL,
		.cgroup_ctx = s->live,
	};
}

/*
 * --clickhouse: opened before the privilege drop (its spool files, the
 * server's address); 0 or the exit status.
 */
static int open_clickhouse(struct session *s, const char *host)
{
	struct output_config ocfg = records_config(s, host);

	return clickhouse_feed_open(&s->clickhouse, s->opt, &ocfg);
}

/* --clickhouse: its thread, after the drop (it inherits the confinement). */
static int start_clickhouse(struct session *s)
{
	char err[512];

	if (!s->clickhouse.sink || clickhouse_sink_start(s->clickhouse.sink, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "%s\n", err);
	return -1;
}

/* Output, statistics and pipeline, wired the same for every source. */
static int open_stages(struct session *s, const char *host)
{
	const struct options *o = s->opt;
	struct output_config ocfg = records_config(s, host);
	struct summary_config scfg = {
		.max_entries = o->max_entries,
		.interval_ns = o->interval_ns,
		.mirror_ttl_ns = o->timeout_ns,
		.cgroup_path = ocfg.cgroup_path,
		.cgroup_ctx = ocfg.cgroup_ctx,
		.detect = &o->detect,
		.sink = report_sink(&s->reports),
		.observed = s->clickhouse.sink ? clickhouse_feed_observed : NULL,
		.observed_ctx = &s->clickhouse,
	};
	struct pipeline_config pcfg = {
		/* Under the view, records are written only to -o FILE. */
		.events = o->events && !(o->top_live && is_stdout(o->output_path)),
		.timeout_ns = o->timeout_ns,
		.max_pending = o->max_pending,
		.max_tcp_flows = 4096,
		.filter_pid = o->pid,
		.filter_comm = o->comm,
		.max_messages = o->count,
		.one_direction = o->hook == LIVE_HOOK_XDP,
		.source_stats = s->live ? live_stats : NULL,
		.source_ctx = s->live,
	};

	s->out = output_new(&ocfg);
	if (!s->out)
		return -1;
	pcfg.out = s->out;
	pcfg.dnstap = s->dnstap;
	s->reports = (struct report_sink){
		.out = s->out,
		.top_n = o->top_n,
		.max_entries = o->max_entries,
		/* Packets read back carry no process; JSON Lines records may. */
		.no_processes = s->inputs && !merge_has(s->inputs, MERGE_JSONL),
		.interval = interval_closes,
	};
	if (o->summary) {
		s->summary = summary_new(&scfg);
		if (!s->summary)
			return -1;
	}
	if (s->http && open_metrics_counters(s, &ocfg) < 0)
		return -1;
	if (o->top_live) {
		s->top = toplive_new(&(struct toplive_config){
			.max_entries = o->max_entries,
			.cgroup_ident = ocfg.cgroup_ident,
			.cgroup_ctx = ocfg.cgroup_ctx,
		});
		if (!s->top)
			return -1;
	}
	pcfg.summary = s->summary;
	pcfg.metrics = s->metrics;
	if (msgfilter_active(&o->msgfilter)) {
		/* the output's resolver: one cache, the same identity in the record */
		msgfilter_set_ident(&s->opt->msgfilter, ocfg.cgroup_ident, ocfg.cgroup_ctx);
		s->filtered = true;
		pcfg.msgfilter = &o->msgfilter;
		pcfg.filter_stats = o->filter_stats;
		pcfg.pcap = s->writer;
		pcfg.pcap_err = &s->write_err;
	}
	pcfg.toplive = s->top;
	pcfg.rows = s->clickhouse.rows;
	pcfg.clickhouse = s->clickhouse.sink;
	s->pipe = pipeline_new(&pcfg);
	s->reports.interval_ctx = s; /* capture_stats and a fold at each interval close */
	return s->pipe ? 0 : -1;
}

static void degrade_live(void *lc, const char *name, const char *why, const char *cost)
{
	live_degrade(lc, name, why, cost);
}

/* Live, once attached and with every output open: nothing privileged is left to do. */
static int drop_privileges(struct session *s)
{
	struct privdrop_config pcfg = {
		.user = s->opt->user,
		.seccomp = s->opt->seccomp,
		.keep_net_admin = live_uses_clsact(s->live),
		.unix_client = s->opt->dnstap_out && !dnstap_out_file(s->opt),
		.serve_sockets = s->http != NULL,
		.tcp_client = s->clickhouse.sink != NULL,
		.terminal = s->opt->top_live,
		.verbose = s->opt->verbose,
		.degrade = degrade_live,
		.degrade_ctx = s->live,
	};
	char err[512] = "";

	if (privdrop_apply(&pcfg, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "%s\n", err);
	return -1;
}

/*
 * --state: the file opened (or refused), its history loaded into the
 * detectors before the first observation, and their counts followed from
 * then on (--state turns the statistics on).
 */
/*
 * The default state file of a live session (no --state, no --no-state):
 * only as root (geteuid 0; a session with capabilities only has none) and
 * with the detectors on (--summary, --stats, --detect, --no-events: a
 * session without them has nothing to fold, and the default never turns
 * them on). The directory is made 0700; a directory that exists is used
 * as it is (the file is then checked as -o checks files). NULL: none.
 * secure_getenv: a file-capability or setuid start ignores the variable.
 */
static const char *default_state_path(const struct session *s, char *buf, size_t len)
{
	const struct options *o = s->opt;
	const char *dir = secure_getenv(STATE_DIR_ENV);
	struct stat sb;

	if (!o->state_default || !s->live || geteuid() != 0 || !s->summary ||
	    !summary_detect(s->summary))
		return NULL;
	if (!dir || !*dir)
		dir = STATE_DEFAULT_DIR;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr,
			"dnssnoop: warning: cannot make the state directory %s: %s; no state "
			"file this session (--state FILE names one, --no-state says none)\n",
			dir, strerror(errno));
		return NULL;
	}
	if (lstat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr,
			"dnssnoop: warning: %s is not a directory (symbolic links are not "
			"followed); no state file this session\n",
			dir);
		return NULL;
	}
	snprintf(buf, len, "%s/%s", dir, STATE_DEFAULT_NAME);
	return buf;
}

static int open_state(struct session *s, const char *host)
{
	struct options *o = s->opt;
	struct state_config cfg = {
		.path = o->state_path,
		.retain_days = o->retain_days,
		.host = host,
	};
	struct detect *d = s->summary ? summary_detect(s->summary) : NULL;
	bool default_file = false;
	char err[640] = "";
	struct timespec t0, t1;
	long n;

	if (!o->state_path) {
		/* The default: a file that cannot be used costs a warning, not the session. */
		o->state_path = default_state_path(s, s->state_default_path,
						   sizeof(s->state_default_path));
		if (!o->state_path)
			return 0;
		cfg.path = o->state_path;
		default_file = true;
		if (o->verbose)
			fprintf(stderr, "dnssnoop: state file %s (the default; --no-state: none)\n",
				o->state_path);
	}
	if (!d) {
		fprintf(stderr, "dnssnoop: --state %s: needs the detectors (not with --no-detect)\n",
			o->state_path);
		return -1;
	}
	s->state = state_open(&cfg, err, sizeof(err));
	if (!s->state)
		goto fail;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = state_load(s->state, d, 0, STATE_NOW_SESSION, err, sizeof(err));
	if (n < 0)
		goto fail;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (o->verbose)
		fprintf(stderr, "dnssnoop: state file %s: %ld pairs of history loaded in %.1f ms\n",
			o->state_path, n,
			(double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	state_attach(s->state, d);
	return 0;
fail:
	if (default_file) {
		fprintf(stderr, "%s; warning: no state file this session (--no-state: none)\n",
			err);
		state_close(s->state);
		s->state = NULL;
		o->state_path = NULL;
		return 0;
	}
	fprintf(stderr, "%s\n", err);
	return -1;
}

/* --from-clickhouse: the fleet's history, aggregated by the server, into d. */
static int load_fleet(const struct options *o, struct detect *d, char *err, size_t errlen)
{
	struct ch_history_config cfg = {
		.url = o->from_clickhouse, .since_ns = o->since_ns, .hosts = o->hosts};
	struct ch_history_stats st;
	long n = ch_history_load(&cfg, d, &st, err, errlen);

	if (n >= 0 && o->verbose)
		fprintf(stderr,
			"dnssnoop: ClickHouse: %ld pairs of %" PRIu64 " clients, %" PRIu64
			" answered targets loaded (%" PRIu64 " bytes read)\n",
			n, st.clients, st.targets_answered, st.bytes);
	return n < 0 ? -1 : 0;
}

/*
 * --report, --from-clickhouse: the stored history (a state file, or the
 * fleet's in ClickHouse) judged as one session would judge it, its
 * findings and cases written; nothing is captured and nothing written to
 * the state file (opened read-only, so no root is needed to read one's own).
 */
static int run_report(struct options *o)
{
	struct state_config cfg = {.path = o->state_path, .read_only = true};
	struct output_config ocfg = {.format = o->format, .host = "", .fd = -1};
	char err[640] = "", host[256] = "unknown";
	struct state *st = NULL;
	struct detect *d = NULL;
	struct output *out = NULL;
	int rc = 1, werr;

	gethostname(host, sizeof(host) - 1);
	ocfg.host = host;
	rc = SESSION_EXIT_STATE;
	st = o->from_clickhouse ? NULL : state_open(&cfg, err, sizeof(err));
	if (!st && !o->from_clickhouse)
		goto fail;
	rc = 1;
	d = detect_new(&o->detect);
	if (!d) {
		snprintf(err, sizeof(err), "dnssnoop: out of memory for the detectors");
		goto fail;
	}
	if (o->from_clickhouse && load_fleet(o, d, err, sizeof(err)) < 0)
		goto fail;
	if (st && state_load(st, d, o->since_ns, STATE_NOW_NEWEST_FOLD, err, sizeof(err)) < 0) {
		rc = SESSION_EXIT_STATE;
		goto fail;
	}
	ocfg.fd = outfile_open(o->output_path ? o->output_path : "-", err, sizeof(err));
	if (ocfg.fd < 0 || (o->output_path && strcmp(o->output_path, "-") &&
			    outfile_truncate(ocfg.fd, 0) < 0)) {
		if (ocfg.fd >= 0)
			snprintf(err, sizeof(err), "dnssnoop: cannot empty output file %s",
				 o->output_path);
		rc = SESSION_EXIT_OUTPUT;
		goto fail;
	}
	out = output_new(&ocfg);
	if (!out) {
		snprintf(err, sizeof(err), "dnssnoop: out of memory for the output");
		goto fail;
	}
	rc = detect_report(d, out) < 0 ? 1 : 0;
	werr = output_flush(out);
	if (werr && !(werr == -EPIPE && outfile_is_pipe(ocfg.fd))) {
		fprintf(stderr, "dnssnoop: writing %s failed: %s\n",
			outfile_name(o->output_path ? o->output_path : "-"), strerror(-werr));
		rc = SESSION_EXIT_OUTPUT;
	}
	goto out;
fail:
	fprintf(stderr, "%s\n", err);
out:
	output_free(out);
	if (ocfg.fd >= 0)
		close(ocfg.fd);
	detect_free(d);
	state_close(st);
	return rc;
}

/* --top-live: the terminal taken over, once nothing is left to say on it before the session. */
static int start_view(struct session *s)
{
	char err[256];

	if (!s->top)
		return 0;
	s->screen = toplive_screen_open(s->top, err, sizeof(err));
	if (s->screen)
		return 0;
	fprintf(stderr, "%s\n", err);
	return -1;
}

static void close_session(struct session *s)
{
	toplive_screen_close(s->screen); /* the terminal back before anything else is said */
	s->screen = NULL;
	metrics_http_close(s->http); /* the thread first: it reads nothing else, but ends here */
	clickhouse_feed_close(&s->clickhouse);
	state_close(s->state);
	pipeline_free(s->pipe);
	metrics_free(s->metrics);
	jbuf_free(&s->metrics_text);
	summary_free(s->summary);
	toplive_free(s->top);
	merge_free(s->inputs);
	output_free(s->out);
	pcap_writer_close(s->writer);
	dnstap_writer_close(s->dnstap);
	if (s->dnstap_fd >= 0)
		close(s->dnstap_fd);
	live_close(s->live);
	if (s->out_fd >= 0)
		close(s->out_fd);
	if (s->write_fd >= 0)
		close(s->write_fd);
}

/* err (-errno) from writing path named, unless it says a pipe's reader went away. */
static int write_status(const char *path, int err, bool pipe)
{
	if (!err || (err == -EPIPE && pipe))
		return 0;
	fprintf(stderr, "dnssnoop: writing %s failed: %s\n", outfile_name(path ? path : "-"),
		strerror(-err));
	return SESSION_EXIT_OUTPUT;
}

/* The outputs flushed and closed; the exit status, rc unless a write failed. */
static int close_outputs(struct session *s, int rc)
{
	int err = output_flush(s->out), status;

	status = write_status(s->opt->output_path, err, outfile_is_pipe(s->out_fd));
	output_free(s->out);
	s->out = NULL;
	if (s->writer) {
		err = pcap_writer_close(s->writer);
		s->writer = NULL;
		status |= write_status(s->opt->write_path, err, s->write_to_pipe);
	}
	if (s->dnstap) {
		err = dnstap_writer_close(s->dnstap);
		s->dnstap = NULL;
		status |= write_status(s->opt->dnstap_out, err, false);
	}
	return status ? status : rc;
}

/* Offline: the inputs' time span, or now when no input said what time it was. */
static void offline_window(const struct session *s, uint64_t *start_ns, uint64_t *end_ns)
{
	if (pipeline_time_seen(s->pipe, start_ns, end_ns))
		return;
	*start_ns = *end_ns = realtime_ns();
}

/* Inputs other than the kernel: -r files, a dnstap collector socket. */
static bool offline(const struct options *o)
{
	return o->nread || o->dnstap_socket;
}

int session_run(struct options *o)
{
	struct session s = {.opt = o, .out_fd = -1, .write_fd = -1, .dnstap_fd = -1};
	char host[256] = "unknown";
	uint64_t start_ns, end_ns;
	int rc, open_rc = 0;

	o->detect.max_entries = o->max_entries;
	if (o->report || o->from_clickhouse)
		return run_report(o);
	/* A named state file needs the detectors, which run with the statistics. */
	if (o->state_path && o->detect.kinds)
		o->summary = true;
	gethostname(host, sizeof(host) - 1);
	install_signal_handlers();
	if (open_outputs(&s, true) < 0) {
		close_session(&s);
		return SESSION_EXIT_OUTPUT;
	}
	if (open_metrics(&s) < 0) {
		close_session(&s);
		return 1;
	}
	if (!offline(o) && open_live(&s) < 0) {
		close_session(&s);
		return 1;
	}
	if (offline(o) && (open_rc = open_offline(&s)) != 0) {
		if (open_rc < 0)
			fprintf(stderr, "dnssnoop: out of memory opening the inputs\n");
		close_session(&s);
		return 1;
	}
	if (open_outputs(&s, false) < 0 || open_dnstap_out(&s, host) < 0) {
		close_session(&s);
		return SESSION_EXIT_OUTPUT;
	}
	if ((open_rc = open_clickhouse(&s, host)) != 0) {
		close_session(&s);
		return open_rc;
	}
	/*
	 * Records read back are there for their statistics; --clickhouse's
	 * rows come from the statistics stage, with the detectors' verdict.
	 */
	if ((s.inputs && merge_has(s.inputs, MERGE_JSONL)) || s.clickhouse.sink)
		o->summary = true;
	if (open_stages(&s, host) < 0) {
		fprintf(stderr, "dnssnoop: out of memory setting up the pipeline\n");
		close_session(&s);
		return 1;
	}
	if (open_state(&s, host) < 0) {
		close_session(&s);
		return SESSION_EXIT_STATE;
	}
	/*
	 * The view first: the terminal's database is read before the system
	 * calls are confined; its first draw takes the screen over.
	 */
	if (start_view(&s) < 0 || (s.live && drop_privileges(&s) < 0) || start_metrics(&s) < 0 ||
	    start_dnstap_out(&s) < 0 || start_clickhouse(&s) < 0) {
		close_session(&s);
		return 1;
	}
	if (s.live) {
		start_ns = live_now_ns(s.live);
		fprintf(stderr, "dnssnoop: attached\n");
		rc = run_live(&s);
		end_ns = live_now_ns(s.live);
	} else {
		rc = run_offline(&s);
		offline_window(&s, &start_ns, &end_ns);
	}
	toplive_screen_close(s.screen); /* before what the end of the session may say */
	s.screen = NULL;
	pipeline_finish(s.pipe, end_ns);
	/* The session's rows sent first, so that capture_stats has the sink's counts. */
	clickhouse_feed_flush(&s.clickhouse);
	pipeline_write_stats(s.pipe, start_ns, end_ns);
	rc = close_outputs(&s, rc);
	/* After the output is complete: a state file that cannot be written costs nothing else. */
	rc = fold_state(&s, rc);
	close_session(&s);
	return rc;
}
