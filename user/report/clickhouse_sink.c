// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The --clickhouse sink: batches, its thread, spill and replay; see clickhouse_sink.h. */
#include "report/clickhouse_sink.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lib/errmsg.h"
#include "lib/units.h"
#include "lib/clickhouse_http.h"
#include "report/clickhouse_spool.h"

/* The thread looks at the open batches' age this often. */
#define TICK_NS (100 * NS_PER_MSEC)
/* After a failure the server is tried again after this, doubling up to the most. */
#define BACKOFF_FIRST_NS (250 * NS_PER_MSEC)
#define BACKOFF_MOST_NS	 (5 * NS_PER_SEC)
/*
 * Closed batches' buffers kept for the next batches: a 32 MB buffer fresh
 * from the allocator is a fresh mapping, and faulting its pages in (and
 * growing it by copies) cost more than the rows put into it.
 */
#define SPARE_BODIES 2
/* Room for {"batch":<20 digits>, or 8 bytes of RowBinary */
#define BATCH_PREFIX_MAX 40

struct ch_batch {
	struct ch_batch *next;
	uint64_t id;
	uint64_t opened_ns;
	enum ch_table table;
	enum ch_format format;
	bool ambiguous; /* an insert of it went out without an answer */
	uint32_t rows;
	char prefix[BATCH_PREFIX_MAX]; /* what every row starts with */
	size_t prefix_len;
	char *body;
	size_t len, cap;
};

struct clickhouse_sink {
	struct ch_http *http; /* the thread's once it runs */
	const char *tables[CH_NTABLES];
	const char *binary_columns[CH_NTABLES];
	pthread_mutex_t lock; /* everything below */
	pthread_cond_t wake; /* the thread: work, or stop */
	pthread_cond_t idle; /* flush: a batch done, or a failure */
	struct ch_spool *spool;
	struct ch_batch *open[CH_NTABLES]; /* filling (the capture thread) */
	struct ch_batch *qhead, *qtail; /* handed over, oldest first */
	int queued;
	bool busy; /* the thread sends a batch taken from the queue */
	uint64_t id_base, seq;
	struct spare_body {
		char *buf;
		size_t cap;
	} spare[SPARE_BODIES]; /* buffers of batches done, for new ones */
	int nspare;
	bool started, stop;
	uint64_t failures; /* sends that failed, for flush to stop waiting */
	struct clickhouse_counts counts;
	/* the thread's own */
	uint64_t retry_at_ns, backoff_ns;
	/* Per table: the failures said on stderr since the last success (bits 1 << result). */
	unsigned said[CH_NTABLES];
	pthread_t thread;
};

/* ---- batches ---- */

static struct ch_batch *batch_new(struct clickhouse_sink *s, enum ch_table t)
{
	struct ch_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	if (s->nspare) {
		s->nspare--;
		b->body = s->spare[s->nspare].buf;
		b->cap = s->spare[s->nspare].cap;
	} else {
		b->cap = 64 * 1024;
		b->body = malloc(b->cap);
	}
	if (!b->body) {
		free(b);
		return NULL;
	}
	b->table = t;
	b->id = s->id_base + s->seq++;
	b->opened_ns = monotonic_ns();
	b->format = s->binary_columns[t] ? CH_FORMAT_ROWBINARY : CH_FORMAT_JSON;
	if (b->format == CH_FORMAT_ROWBINARY) {
		uint64_t le = htole64(b->id); /* the UInt64 batch column */

		memcpy(b->prefix, &le, sizeof(le));
		b->prefix_len = sizeof(le);
	} else {
		b->prefix_len = (size_t)snprintf(b->prefix, sizeof(b->prefix),
						 "{\"batch\":%" PRIu64 ",", b->id);
	}
	return b;
}

/* Done with b: its buffer kept for a later batch while there is room. */
static void batch_free(struct clickhouse_sink *s, struct ch_batch *b)
{
	if (b && s->nspare < SPARE_BODIES) {
		s->spare[s->nspare].buf = b->body;
		s->spare[s->nspare++].cap = b->cap;
	} else if (b) {
		free(b->body);
	}
	free(b);
}

static bool grow(struct ch_batch *b, size_t need)
{
	size_t cap = b->cap;
	char *n;

	while (cap < need)
		cap *= 2;
	if (cap == b->cap)
		return true;
	n = realloc(b->body, cap);
	if (!n)
		return false;
	b->body = n;
	b->cap = cap;
	return true;
}

static bool batch_put(struct ch_batch *b, const char *row, size_t len)
{
	if (!grow(b, b->len + b->prefix_len + len))
		return false;
	memcpy(b->body + b->len, b->prefix, b->prefix_len);
	memcpy(b->body + b->len + b->prefix_len, row, len);
	b->len += b->prefix_len + len;
	b->rows++;
	return true;
}

/* The row without its '{', after the batch's prefix, and a newline. */
static bool batch_append_json(struct ch_batch *b, const char *row, size_t len)
{
	while (len && (row[len - 1] == '\n' || row[len - 1] == '\r'))
		len--;
	if (len < 2 || row[0] != '{')
		return true; /* not a row: nothing to send */
	if (!grow(b, b->len + b->prefix_len + len))
		return false;
	memcpy(b->body + b->len, b->prefix, b->prefix_len);
	b->len += b->prefix_len;
	if (len == 2) { /* {}: the prefix's comma becomes its end */
		b->body[b->len - 1] = '}';
	} else {
		memcpy(b->body + b->len, row + 1, len - 1);
		b->len += len - 1;
	}
	b->body[b->len++] = '\n';
	b->rows++;
	return true;
}

/* ---- the spool (under the lock) ---- */

static void spill(struct clickhouse_sink *s, struct ch_batch *b)
{
	struct ch_spooled sb = {
		.id = b->id,
		.table = (uint8_t)b->table,
		.format = (uint8_t)b->format,
		.ambiguous = b->ambiguous,
		.rows = b->rows,
		.body = b->body,
		.len = b->len,
	};
	int rc = s->spool ? ch_spool_append(s->spool, &sb) : -ENOSPC;

	if (rc == 0) {
		s->counts.spilled++;
	} else {
		if (!s->counts.dropped)
			fprintf(stderr,
				"dnssnoop: clickhouse: the spool %s cannot take a batch (%s): "
				"batches are lost\n",
				s->spool ? ch_spool_dir(s->spool) : "(none)", strerror(-rc));
		s->counts.dropped++;
	}
	batch_free(s, b);
}

/* A closed batch to the thread, or to the spool when the queue is full. */
static void hand_over(struct clickhouse_sink *s, enum ch_table t)
{
	struct ch_batch *b = s->open[t];

	s->open[t] = NULL;
	if (!b || !b->rows) {
		batch_free(s, b);
		return;
	}
	if (s->queued >= CH_QUEUE_BATCHES) {
		spill(s, b);
		return;
	}
	if (s->qtail)
		s->qtail->next = b;
	else
		s->qhead = b;
	s->qtail = b;
	s->queued++;
	pthread_cond_signal(&s->wake);
}

static bool batch_append(struct ch_batch *b, const char *row, size_t len)
{
	if (b->format == CH_FORMAT_ROWBINARY)
		return len ? batch_put(b, row, len) : true;
	return batch_append_json(b, row, len);
}

static struct ch_batch *dequeue(struct clickhouse_sink *s)
{
	struct ch_batch *b = s->qhead;

	if (!b)
		return NULL;
	s->qhead = b->next;
	if (!s->qhead)
		s->qtail = NULL;
	s->queued--;
	b->next = NULL;
	return b;
}

static void spill_queue(struct clickhouse_sink *s)
{
	struct ch_batch *b;

	while ((b = dequeue(s)))
		spill(s, b);
}

static void close_aged(struct clickhouse_sink *s, uint64_t now)
{
	for (int t = 0; t < CH_NTABLES; t++)
		if (s->open[t] && now - s->open[t]->opened_ns >= CH_BATCH_AGE_NS)
			hand_over(s, t);
}

static bool spool_pending(const struct clickhouse_sink *s)
{
	return s->spool && ch_spool_pending(s->spool, NULL);
}

static bool all_sent(const struct clickhouse_sink *s)
{
	for (int t = 0; t < CH_NTABLES; t++)
		if (s->open[t] && s->open[t]->rows)
			return false;
	return !s->qhead && !s->busy && !spool_pending(s);
}

/* ---- sending (the thread, without the lock) ---- */

/*
 * r noted as said for table t. A missing table is that table's; anything
 * else is the server's, and a success says the server works for every
 * table (only another table's own absence stays said).
 */
static void note_said(struct clickhouse_sink *s, enum ch_table t, enum ch_result r)
{
	for (int i = 0; i < CH_NTABLES; i++) {
		if (r == CH_OK)
			s->said[i] &= i == (int)t ? 0 : 1u << CH_NO_TABLE;
		else if (i == (int)t || r != CH_NO_TABLE)
			s->said[i] |= 1u << r;
	}
}

/*
 * Said once: each kind of failure until the next success (a server that
 * answers junk fails in two ways in turn), and working again after one.
 */
static void say(struct clickhouse_sink *s, enum ch_table t, enum ch_result r, const char *msg)
{
	if (r == CH_OK ? !s->said[t] : s->said[t] & 1u << r)
		return;
	if (r == CH_OK)
		fprintf(stderr, "dnssnoop: clickhouse %s: inserting again\n",
			ch_http_shown_url(s->http));
	else
		fprintf(stderr, "dnssnoop: clickhouse %s: %s: %s; batches wait in the spool %s\n",
			ch_http_shown_url(s->http), ch_result_text(r), msg,
			s->spool ? ch_spool_dir(s->spool) : "(none)");
	note_said(s, t, r);
}

/*
 * One batch into its table. An insert that went out without an answer is
 * not repeated before the server says how many of its rows it has: all
 * (or, with a shard that failed, some) means it took it.
 */
static enum ch_result send_batch(struct clickhouse_sink *s, enum ch_table t, enum ch_format format,
				 uint64_t id, uint32_t rows, bool ambiguous, const char *body,
				 size_t len)
{
	const char *table = s->tables[t];
	const char *columns = format == CH_FORMAT_ROWBINARY ? s->binary_columns[t] : NULL;
	char msg[300] = "";
	uint64_t have = 0;
	enum ch_result r = CH_OK;

	if (ambiguous) {
		r = ch_http_count_batch(s->http, table, id, &have, msg, sizeof(msg));
		if (r == CH_OK && have && have != rows)
			fprintf(stderr,
				"dnssnoop: clickhouse: batch %" PRIu64 " is in %s with %" PRIu64
				" of its %u rows; not sent again\n",
				id, table, have, rows);
	}
	if (r == CH_OK && !have)
		r = ch_http_insert(s->http, table, columns, body, len, msg, sizeof(msg));
	say(s, t, r, msg);
	return r;
}

/* Under the lock again after a send: the counts, the backoff. */
static void sent(struct clickhouse_sink *s, enum ch_result r, uint32_t rows, bool replayed)
{
	uint64_t now = monotonic_ns();

	if (r == CH_OK) {
		s->counts.batches_sent++;
		s->counts.rows_sent += rows;
		s->counts.replayed += replayed;
		s->backoff_ns = 0;
		s->retry_at_ns = 0;
	} else {
		s->counts.retried++;
		s->failures++;
		s->backoff_ns = s->backoff_ns ? s->backoff_ns * 2 : BACKOFF_FIRST_NS;
		if (s->backoff_ns > BACKOFF_MOST_NS)
			s->backoff_ns = BACKOFF_MOST_NS;
		s->retry_at_ns = now + s->backoff_ns;
	}
	pthread_cond_broadcast(&s->idle);
}

static void send_spooled(struct clickhouse_sink *s)
{
	struct ch_spooled b = {0};
	enum ch_result r;
	int rc = ch_spool_head(s->spool, &b);

	if (rc <= 0 || b.table >= CH_NTABLES ||
	    (b.format == CH_FORMAT_ROWBINARY && !s->binary_columns[b.table]) ||
	    b.format > CH_FORMAT_ROWBINARY) {
		fprintf(stderr,
			"dnssnoop: clickhouse: the spool %s cannot be read (%s): "
			"its batches stay there\n",
			ch_spool_dir(s->spool), rc < 0 ? strerror(-rc) : "damaged");
		ch_spool_close(s->spool); /* nothing more goes there: batches are dropped */
		s->spool = NULL;
		free(b.body);
		return;
	}
	pthread_mutex_unlock(&s->lock);
	r = send_batch(s, b.table, b.format, b.id, b.rows, b.ambiguous, b.body, b.len);
	pthread_mutex_lock(&s->lock);
	if (r == CH_OK)
		ch_spool_head_sent(s->spool);
	else if (r == CH_AMBIGUOUS && !b.ambiguous)
		ch_spool_head_ambiguous(s->spool);
	sent(s, r, b.rows, true);
	free(b.body);
}

static void send_queued(struct clickhouse_sink *s)
{
	struct ch_batch *b = dequeue(s);
	enum ch_result r;

	s->busy = true;
	pthread_mutex_unlock(&s->lock);
	r = send_batch(s, b->table, b->format, b->id, b->rows, b->ambiguous, b->body, b->len);
	pthread_mutex_lock(&s->lock);
	s->busy = false;
	b->ambiguous |= r == CH_AMBIGUOUS;
	sent(s, r, b->rows, false);
	if (r == CH_OK)
		batch_free(s, b);
	else
		spill(s, b); /* the oldest: the spool keeps the order */
}

static void wait_until(struct clickhouse_sink *s, uint64_t at_ns)
{
	struct timespec now, ts;
	uint64_t mono = monotonic_ns(), wait = at_ns > mono ? at_ns - mono : 0, abs;

	if (wait > TICK_NS)
		wait = TICK_NS;
	clock_gettime(CLOCK_REALTIME, &now);
	abs = (uint64_t)now.tv_sec * NS_PER_SEC + (uint64_t)now.tv_nsec + wait;
	ts.tv_sec = (time_t)(abs / NS_PER_SEC);
	ts.tv_nsec = (long)(abs % NS_PER_SEC);
	pthread_cond_timedwait(&s->wake, &s->lock, &ts);
}

/*
 * The thread: the spool first (oldest first), then the queue; while the
 * server is given a rest after a failure, what comes goes to the spool
 * behind what is there. At stop, what is left goes to the spool.
 */
static void *run(void *arg)
{
	struct clickhouse_sink *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		uint64_t now = monotonic_ns();

		close_aged(s, now);
		if (s->stop)
			break;
		if (now < s->retry_at_ns) {
			if (spool_pending(s))
				spill_queue(s);
			pthread_cond_broadcast(&s->idle);
			wait_until(s, s->retry_at_ns);
		} else if (spool_pending(s)) {
			send_spooled(s);
		} else if (s->qhead) {
			send_queued(s);
		} else {
			pthread_cond_broadcast(&s->idle);
			wait_until(s, now + TICK_NS);
		}
	}
	for (int t = 0; t < CH_NTABLES; t++)
		hand_over(s, t);
	spill_queue(s);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ---- the sink ---- */

/* Each table on its own, so that a missing one is named and the others are known good. */
static void probe(struct clickhouse_sink *s)
{
	char msg[300] = "";
	enum ch_result r = CH_OK;

	for (int t = 0; t < CH_NTABLES && (r == CH_OK || r == CH_NO_TABLE); t++) {
		r = ch_http_probe(s->http, &s->tables[t], 1, msg, sizeof(msg));
		if (r != CH_OK)
			fprintf(stderr,
				"dnssnoop: warning: clickhouse %s: %s: %s; rows go to the spool %s "
				"until it works\n",
				ch_http_shown_url(s->http), ch_result_text(r), msg,
				ch_spool_dir(s->spool));
		note_said(s, t, r);
	}
}

struct clickhouse_sink *clickhouse_sink_open(const struct clickhouse_sink_config *cfg, int *status,
					     char *err, size_t errlen)
{
	struct clickhouse_sink *s = calloc(1, sizeof(*s));
	char why[512] = "out of memory";
	bool usage = false;

	*status = 1;
	if (!s || !(s->http = ch_http_open(cfg->url, &usage, why, sizeof(why)))) {
		*status = usage ? 2 : 1;
		set_err(err, errlen, "dnssnoop: --clickhouse: %s", why);
		free(s);
		return NULL;
	}
	s->spool = ch_spool_open(cfg->spool_dir, cfg->spool_max_bytes, why, sizeof(why));
	if (!s->spool) {
		set_err(err, errlen, "dnssnoop: --clickhouse-spool: %s", why);
		ch_http_close(s->http);
		free(s);
		return NULL;
	}
	s->tables[CH_TABLE_MESSAGES] = ch_http_table(s->http);
	s->tables[CH_TABLE_STATS] = ch_http_stats_table(s->http);
	for (int t = 0; t < CH_NTABLES; t++)
		s->binary_columns[t] = cfg->binary_columns[t];
	if (getrandom(&s->id_base, sizeof(s->id_base), 0) != sizeof(s->id_base))
		s->id_base = (uint64_t)getpid() << 32 ^ monotonic_ns();
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	pthread_cond_init(&s->idle, NULL);
	probe(s);
	return s;
}

int clickhouse_sink_start(struct clickhouse_sink *s, char *err, size_t errlen)
{
	int rc = pthread_create(&s->thread, NULL, run, s);

	if (rc) {
		set_err(err, errlen, "dnssnoop: --clickhouse: cannot start its thread: %s",
			strerror(rc));
		return -1;
	}
	s->started = true;
	return 0;
}

void clickhouse_sink_add(struct clickhouse_sink *s, enum ch_table t, const char *row, size_t len)
{
	struct ch_batch *b;

	pthread_mutex_lock(&s->lock);
	b = s->open[t];
	if (!b)
		b = s->open[t] = batch_new(s, t);
	if (!b || !batch_append(b, row, len))
		s->counts.dropped++; /* out of memory: the row, counted as a batch */
	else if (b->rows >= CH_BATCH_ROWS || b->len >= CH_BATCH_BYTES)
		hand_over(s, t);
	pthread_mutex_unlock(&s->lock);
}

static void deadline_ts(uint64_t at_mono, struct timespec *ts)
{
	struct timespec now;
	uint64_t mono = monotonic_ns(), abs;

	clock_gettime(CLOCK_REALTIME, &now);
	abs = (uint64_t)now.tv_sec * NS_PER_SEC + (uint64_t)now.tv_nsec +
	      (at_mono > mono ? at_mono - mono : 0);
	ts->tv_sec = (time_t)(abs / NS_PER_SEC);
	ts->tv_nsec = (long)(abs % NS_PER_SEC);
}

/*
 * Waits until all is sent, the time is up, or a send fails: a server
 * that does not take a batch now is not waited for (the spool keeps it).
 */
void clickhouse_sink_flush(struct clickhouse_sink *s, uint64_t timeout_ns)
{
	uint64_t end = monotonic_ns() + timeout_ns, failures;
	struct timespec ts;

	pthread_mutex_lock(&s->lock);
	for (int t = 0; t < CH_NTABLES; t++)
		hand_over(s, t);
	failures = s->failures;
	deadline_ts(end, &ts);
	while (s->started && !all_sent(s) && s->failures == failures && monotonic_ns() < end)
		pthread_cond_timedwait(&s->idle, &s->lock, &ts);
	pthread_mutex_unlock(&s->lock);
}

void clickhouse_sink_close(struct clickhouse_sink *s, uint64_t timeout_ns)
{
	uint64_t batches, rows = 0;

	if (!s)
		return;
	clickhouse_sink_flush(s, timeout_ns);
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	if (s->started)
		pthread_join(s->thread, NULL);
	else
		run(s); /* never started: what was added goes to the spool */
	if (s->spool && (batches = ch_spool_pending(s->spool, &rows)))
		fprintf(stderr,
			"dnssnoop: clickhouse: %" PRIu64 " batches (%" PRIu64
			" rows) wait in the spool %s; the next session with this spool sends "
			"them\n",
			batches, rows, ch_spool_dir(s->spool));
	ch_spool_close(s->spool);
	ch_http_close(s->http);
	while (s->nspare)
		free(s->spare[--s->nspare].buf);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->idle);
	free(s);
}

void clickhouse_sink_counts(struct clickhouse_sink *s, struct clickhouse_counts *c)
{
	pthread_mutex_lock(&s->lock);
	*c = s->counts;
	pthread_mutex_unlock(&s->lock);
}
