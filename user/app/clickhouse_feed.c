// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The session's records as the --clickhouse sink's rows; see clickhouse_feed.h. */
#include "app/clickhouse_feed.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/state.h"
#include "lib/fmt.h"
#include "lib/json.h"
#include "report/ch_row.h"

#define SPOOL_SUBDIR "clickhouse-spool"

/*
 * The default spool: beside the state file (DNSSNOOP_STATE_DIR, or
 * /var/lib/dnssnoop as root), so that the next session finds it; without
 * root and without the variable, a directory of the user's own in /tmp
 * (the spool refuses one that is not the user's).
 */
static const char *default_spool(char *buf, size_t len)
{
	const char *dir = secure_getenv(STATE_DIR_ENV);
	const char *tmp = secure_getenv("TMPDIR");

	if ((!dir || !*dir) && geteuid() == 0)
		dir = STATE_DEFAULT_DIR;
	if (dir && *dir) {
		mkdir(dir, 0700); /* the spool says why when this did not work */
		snprintf(buf, len, "%s/" SPOOL_SUBDIR, dir);
	} else {
		snprintf(buf, len, "%s/dnssnoop-" SPOOL_SUBDIR "-%u", tmp && *tmp ? tmp : "/tmp",
			 (unsigned)geteuid());
	}
	return buf;
}

/* The value of the record's "ts" (its first string of that name), or empty. */
static void record_ts(const char *line, size_t len, const char **ts, size_t *n)
{
	const char *p = memmem(line, len, "\"ts\":\"", 6), *end;

	*ts = "";
	*n = 0;
	if (!p)
		return;
	p += 6;
	end = memchr(p, '"', len - (size_t)(p - line));
	if (end) {
		*ts = p;
		*n = (size_t)(end - p);
	}
}

static void add_stats_row(struct clickhouse_feed *f, const char *type, const char *line, size_t len)
{
	struct jbuf *j = f->stats_row;
	const char *ts;
	uint64_t ns;
	size_t n;

	while (len && line[len - 1] == '\n')
		len--;
	record_ts(line, len, &ts, &n);
	jbuf_reset(j);
	jbuf_obj_begin(j);
	JBUF_KV_STR(j, "host", f->host);
	JBUF_KEY(j, "ts");
	jbuf_strn(j, ts, n);
	/* The schema's ts_ns and day (its partition), when ts is a time. */
	if (fmt_parse_time(ts, n, &ns)) {
		JBUF_KV_U64(j, "ts_ns", ns);
		JBUF_KEY(j, "day");
		jbuf_strn(j, ts, 10);
	}
	JBUF_KV_STR(j, "type", type);
	JBUF_KEY(j, "json");
	jbuf_strn(j, line, len);
	jbuf_obj_end(j);
	if (!j->failed)
		clickhouse_sink_add(f->sink, CH_TABLE_STATS, j->buf, j->len);
}

static void on_record(void *ctx, const char *type, const char *line, size_t len)
{
	struct clickhouse_feed *f = ctx;

	if (!strcmp(type, "capture_stats"))
		add_stats_row(f, type, line, len);
}

int clickhouse_feed_open(struct clickhouse_feed *f, const struct options *o,
			 const struct output_config *ocfg)
{
	struct clickhouse_sink_config cfg = {
		.url = o->clickhouse,
		.spool_dir = o->clickhouse_spool,
		.spool_max_bytes =
			(o->clickhouse_spool_mb ? o->clickhouse_spool_mb : CH_SPOOL_DEFAULT_MB)
			<< 20,
		.binary_columns = {[CH_TABLE_MESSAGES] = ch_row_column_list},
	};
	struct output_config rcfg = *ocfg;
	char dir[PATH_MAX], err[768];
	int status = 1;

	*f = (struct clickhouse_feed){0};
	if (!o->clickhouse)
		return 0;
	if (!cfg.spool_dir)
		cfg.spool_dir = default_spool(dir, sizeof(dir));
	f->sink = clickhouse_sink_open(&cfg, &status, err, sizeof(err));
	if (!f->sink) {
		fprintf(stderr, "%s\n", err);
		return status;
	}
	rcfg.fd = -1;
	rcfg.format = OUTPUT_JSON;
	rcfg.line = on_record;
	rcfg.line_ctx = f;
	snprintf(f->host, sizeof(f->host), "%s", ocfg->host ? ocfg->host : "");
	f->rows = output_new(&rcfg);
	f->stats_row = malloc(sizeof(*f->stats_row));
	if (!f->rows || !f->stats_row || jbuf_init(f->stats_row, 4096)) {
		fprintf(stderr, "dnssnoop: out of memory for --clickhouse\n");
		return 1;
	}
	return 0;
}

void clickhouse_feed_observed(void *ctx, const struct dns_obs *o, const struct detect_verdict *v)
{
	struct clickhouse_feed *f = ctx;

	ch_row_build(&f->message_row, o, v);
	if (!f->message_row.failed)
		clickhouse_sink_add(f->sink, CH_TABLE_MESSAGES, (const char *)f->message_row.buf,
				    f->message_row.len);
}

void clickhouse_feed_flush(struct clickhouse_feed *f)
{
	if (f->sink)
		clickhouse_sink_flush(f->sink, CH_FLUSH_TIMEOUT_NS);
}

void clickhouse_feed_close(struct clickhouse_feed *f)
{
	output_free(f->rows);
	clickhouse_sink_close(f->sink, CH_CLOSE_TIMEOUT_NS);
	if (f->stats_row)
		jbuf_free(f->stats_row);
	free(f->stats_row);
	ch_rowbuf_free(&f->message_row);
	*f = (struct clickhouse_feed){0};
}
