// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Offline inputs: content detection and the k-way merge by time. See
 * merge.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture_jsonl.h"
#include "capture/capture_pcap.h"
#include "lib/errmsg.h"
#include "capture/merge.h"

/*
 * How far to look for the start of a JSON line: the first line may be the
 * tail of a record cut by log rotation, so a later line that starts with
 * '{' counts too (records are rarely above a few KiB).
 */
#define PEEK_MAX (64 * 1024)

struct input {
	enum merge_input_kind kind;
	struct pcap_source *pcap;
	struct jsonl_source *jsonl;
	struct merge_item head; /* valid while the input is in the heap or just returned */
	char name[256];
};

struct merge {
	struct merge_config cfg;
	struct input *in;
	int n, cap;
	int *heap; /* inputs with a head, by (head.ts_ns, index) */
	int nheap;
	int *pull; /* inputs whose next item must be read before choosing; a stack */
	int npull;
	bool stdin_taken;
};

struct merge *merge_new(const struct merge_config *cfg)
{
	struct merge *m = calloc(1, sizeof(*m));

	if (m)
		m->cfg = *cfg;
	return m;
}

void merge_free(struct merge *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->n; i++) {
		pcap_source_close(m->in[i].pcap);
		jsonl_source_close(m->in[i].jsonl);
	}
	free(m->in);
	free(m->heap);
	free(m->pull);
	free(m);
}

/* ---- content detection ---- */

/* The bytes read to tell the kind, given back before the rest of a pipe. */
struct replay {
	int fd;
	unsigned char *buf;
	size_t len, pos;
	volatile sig_atomic_t *stop;
};

static bool stopped(volatile sig_atomic_t *stop)
{
	return stop && *stop;
}

/*
 * read(2) that gives up when stop is set: a pipe may stay idle for ever,
 * and a signal that lands just before read() would not interrupt it, so
 * the fd is polled with a timeout first. Returns 0 (the end) once
 * stopped; a stream that sees it ends quietly.
 */
static ssize_t read_unless_stopped(int fd, void *buf, size_t n, volatile sig_atomic_t *stop)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	ssize_t got;

	for (;;) {
		if (stopped(stop))
			return 0;
		if (stop && poll(&pfd, 1, MERGE_POLL_MS) <= 0)
			continue; /* timeout or EINTR: look at the flag again */
		got = read(fd, buf, n);
		if (got >= 0 || (errno != EINTR && errno != EAGAIN))
			return got;
	}
}

static ssize_t replay_read(void *cookie, char *out, size_t n)
{
	struct replay *r = cookie;

	if (r->pos < r->len) {
		size_t k = r->len - r->pos < n ? r->len - r->pos : n;

		memcpy(out, r->buf + r->pos, k);
		r->pos += k;
		return (ssize_t)k;
	}
	return read_unless_stopped(r->fd, out, n, r->stop);
}

static int replay_close(void *cookie)
{
	struct replay *r = cookie;
	int rc = close(r->fd);

	free(r->buf);
	free(r);
	return rc;
}

static bool pcap_magic(const unsigned char *b, size_t len)
{
	static const unsigned char magics[][4] = {
		{0xa1, 0xb2, 0xc3, 0xd4}, {0xd4, 0xc3, 0xb2, 0xa1}, /* pcap, µs */
		{0xa1, 0xb2, 0x3c, 0x4d}, {0x4d, 0x3c, 0xb2, 0xa1}, /* pcap, ns */
		{0xa1, 0xb2, 0xcd, 0x34}, {0x34, 0xcd, 0xb2, 0xa1}, /* Kuznetzov's pcap */
		{0x0a, 0x0d, 0x0d, 0x0a}, /* pcapng Section Header Block */
	};

	if (len < 4)
		return false;
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (!memcmp(b, magics[i], 4))
			return true;
	return false;
}

static bool white(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* JSON Lines: some line among those peeked starts (after white space) with '{'. */
static bool looks_like_jsonl(const unsigned char *b, size_t len)
{
	bool line_start = true;

	for (size_t i = 0; i < len; i++) {
		if (line_start && b[i] == '{')
			return true;
		if (b[i] == '\n')
			line_start = true;
		else if (!white(b[i]))
			line_start = false;
	}
	return false;
}

/* Read from fd until the kind is clear, PEEK_MAX or the end. -1: unknown format. */
static int detect(int fd, unsigned char *buf, size_t *len, volatile sig_atomic_t *stop)
{
	*len = 0;
	while (*len < PEEK_MAX) {
		ssize_t got = read_unless_stopped(fd, buf + *len,
						  *len < 4 ? 4 - *len : PEEK_MAX - *len, stop);

		if (got <= 0)
			break; /* the end (or a read error, which the reader will meet too) */
		*len += (size_t)got;
		if (*len < 4)
			continue;
		if (pcap_magic(buf, *len))
			return MERGE_PCAP;
		if (looks_like_jsonl(buf, *len))
			return MERGE_JSONL;
	}
	if (*len == 0 || looks_like_jsonl(buf, *len))
		return MERGE_JSONL; /* empty: JSON Lines without a line */
	return pcap_magic(buf, *len) ? MERGE_PCAP : -1;
}

/*
 * A stream over fd that starts at the bytes detect() read: the file
 * rewound when it can be, else a stream that gives those bytes back first.
 * Takes buf (and fd) over.
 */
static FILE *stream_from_start(int fd, off_t start, unsigned char *buf, size_t len,
			       volatile sig_atomic_t *stop)
{
	cookie_io_functions_t io = {.read = replay_read, .close = replay_close};
	struct replay *r;
	FILE *f;

	if (start >= 0 && lseek(fd, start, SEEK_SET) == start) {
		free(buf);
		return fdopen(fd, "rb");
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		free(buf);
		return NULL;
	}
	*r = (struct replay){.fd = fd, .buf = buf, .len = len, .stop = stop};
	f = fopencookie(r, "rb", io);
	if (!f)
		free(r); /* the caller closes fd */
	return f;
}

/* Opens path, tells its kind into *kind and returns a stream from its first byte. */
static FILE *open_detect(const char *path, const char *name, int *kind, volatile sig_atomic_t *stop,
			 char *err, size_t errlen)
{
	bool is_stdin = !strcmp(path, "-");
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	unsigned char *buf = malloc(PEEK_MAX);
	off_t start;
	size_t len;
	FILE *f;

	if (fd < 0 || !buf) {
		set_err(err, errlen, "dnssnoop: cannot read %s: %s", name,
			fd < 0 ? strerror(errno) : "out of memory");
		free(buf);
		return NULL;
	}
	start = lseek(fd, 0, SEEK_CUR);
	*kind = detect(fd, buf, &len, stop);
	if (*kind < 0) {
		set_err(err, errlen,
			"dnssnoop: cannot read %s: unknown file format (not pcap, pcapng or "
			"dnssnoop's JSON Lines)",
			name);
		free(buf);
		close(fd);
		return NULL;
	}
	f = stream_from_start(fd, start, buf, len, stop);
	if (!f) {
		set_err(err, errlen, "dnssnoop: cannot read %s: %s", name, strerror(errno));
		close(fd);
	}
	return f;
}

/* ---- inputs ---- */

static bool grow(struct merge *m)
{
	int cap = m->cap ? 2 * m->cap : 8;
	struct input *in = realloc(m->in, cap * sizeof(*in));
	int *heap, *pull;

	if (!in)
		return false;
	m->in = in;
	heap = realloc(m->heap, cap * sizeof(*heap));
	if (heap)
		m->heap = heap;
	pull = heap ? realloc(m->pull, cap * sizeof(*pull)) : NULL;
	if (pull)
		m->pull = pull;
	if (!heap || !pull)
		return false;
	m->cap = cap;
	return true;
}

/* Every input's first item is read before the first choice; the first input first. */
static void schedule_first_pull(struct merge *m, int i)
{
	memmove(m->pull + 1, m->pull, m->npull * sizeof(*m->pull));
	m->pull[0] = i;
	m->npull++;
}

int merge_add(struct merge *m, const char *path, char *err, size_t errlen)
{
	bool is_stdin = !strcmp(path, "-");
	const char *name = is_stdin ? "standard input" : path;
	struct input *in;
	int kind;
	FILE *f;

	if (is_stdin && m->stdin_taken) {
		set_err(err, errlen, "dnssnoop: -r -: standard input can be read only once");
		return -1;
	}
	if (m->n == m->cap && !grow(m)) {
		set_err(err, errlen, "dnssnoop: out of memory opening %s", name);
		return -1;
	}
	f = open_detect(path, name, &kind, m->cfg.stop, err, errlen);
	if (!f)
		return -1;
	m->stdin_taken |= is_stdin;
	in = &m->in[m->n];
	memset(in, 0, sizeof(*in));
	in->kind = kind;
	snprintf(in->name, sizeof(in->name), "%s", name);
	if (kind == MERGE_JSONL && m->cfg.filter) {
		set_err(err, errlen,
			"dnssnoop: %s is JSON Lines: a filter expression applies to pcap input "
			"only",
			name);
		fclose(f);
		return -1;
	}
	if (kind == MERGE_PCAP)
		in->pcap = pcap_source_fopen(f, name, m->cfg.filter, m->cfg.ports, m->cfg.nports,
					     err, errlen);
	else
		in->jsonl = jsonl_source_fopen(f, name, err, errlen);
	if (!in->pcap && !in->jsonl)
		return -1;
	if (in->pcap)
		pcap_source_set_stop(in->pcap, m->cfg.stop);
	if (in->jsonl) {
		jsonl_source_set_stop(in->jsonl, m->cfg.stop);
		if (m->cfg.max_line_bytes)
			jsonl_source_set_max_line(in->jsonl, m->cfg.max_line_bytes);
	}
	in->head.kind = kind;
	in->head.input = m->n;
	schedule_first_pull(m, m->n++);
	return kind;
}

bool merge_has(const struct merge *m, enum merge_input_kind kind)
{
	for (int i = 0; i < m->n; i++)
		if (m->in[i].kind == kind)
			return true;
	return false;
}

int merge_inputs(const struct merge *m)
{
	return m->n;
}

/* Read input i's next item into its head: 1, 0 at its end, -1 a message. */
static int read_head(struct input *in, char *err, size_t errlen)
{
	struct merge_item *h = &in->head;
	const struct jsonl_record *rec;
	int rc;

	if (in->kind == MERGE_PCAP) {
		rc = pcap_source_next(in->pcap, &h->meta, &h->payload, &h->caplen, err, errlen);
		if (rc == 1)
			h->ts_ns = h->meta->ts_ns;
		return rc;
	}
	rc = jsonl_source_next(in->jsonl, &rec, err, errlen);
	if (rc == 1) {
		h->obs = &rec->obs;
		h->ts_ns = rec->order_ns;
	}
	return rc;
}

/* ---- the heap ---- */

static bool before(const struct merge *m, int a, int b)
{
	uint64_t ta = m->in[a].head.ts_ns, tb = m->in[b].head.ts_ns;

	return ta < tb || (ta == tb && a < b);
}

static void heap_push(struct merge *m, int i)
{
	int k = m->nheap++;

	while (k > 0 && before(m, i, m->heap[(k - 1) / 2])) {
		m->heap[k] = m->heap[(k - 1) / 2];
		k = (k - 1) / 2;
	}
	m->heap[k] = i;
}

static int heap_pop(struct merge *m)
{
	int top = m->heap[0], last = m->heap[--m->nheap], k = 0;

	for (;;) {
		int c = 2 * k + 1;

		if (c >= m->nheap)
			break;
		if (c + 1 < m->nheap && before(m, m->heap[c + 1], m->heap[c]))
			c++;
		if (!before(m, m->heap[c], last))
			break;
		m->heap[k] = m->heap[c];
		k = c;
	}
	if (m->nheap)
		m->heap[k] = last;
	return top;
}

int merge_next(struct merge *m, struct merge_item *item, char *err, size_t errlen)
{
	int i;

	if (stopped(m->cfg.stop))
		return 0;
	while (m->npull) {
		int rc = read_head(&m->in[m->pull[m->npull - 1]], err, errlen);

		if (rc < 0)
			return -1; /* the input stays to be pulled: it may go on */
		i = m->pull[--m->npull];
		if (rc == 1)
			heap_push(m, i);
	}
	if (!m->nheap)
		return 0;
	i = heap_pop(m);
	*item = m->in[i].head;
	m->pull[m->npull++] = i; /* its next item, once this one is used */
	return 1;
}

void merge_describe(const struct merge *m, int i, char *buf, size_t len)
{
	const struct input *in = &m->in[i];
	struct pcap_source_stats ps;
	struct jsonl_source_stats js;

	if (in->kind == MERGE_PCAP) {
		pcap_source_get_stats(in->pcap, &ps);
		snprintf(buf, len,
			 "dnssnoop: %s: capture, %llu packets, %llu to or from a DNS port, %llu "
			 "malformed",
			 in->name, (unsigned long long)ps.packets,
			 (unsigned long long)ps.dns_packets, (unsigned long long)ps.malformed);
		return;
	}
	jsonl_source_get_stats(in->jsonl, &js);
	snprintf(buf, len,
		 "dnssnoop: %s: JSON Lines, %llu lines, %llu dns/unanswered records used, %llu "
		 "without a question, %llu of other types skipped, %llu bad",
		 in->name, (unsigned long long)js.lines, (unsigned long long)js.observations,
		 (unsigned long long)js.no_question, (unsigned long long)js.other_types,
		 (unsigned long long)js.errors);
}
