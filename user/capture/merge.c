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
#include <sys/stat.h>
#include <unistd.h>

#include "capture/capture_dnstap.h"
#include "capture/capture_jsonl.h"
#include "capture/capture_pcap.h"
#include "capture/decompress.h"
#include "capture/dnstap_socket.h"
#include "capture/framestream.h"
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
	struct dnstap_source *dnstap;
	struct dnstap_socket *sock; /* MERGE_DNSTAP from a collector socket */
	struct merge_item head; /* valid while the input is in the heap or just returned */
	const struct decompress *dc; /* a compressed input's decompressor, else NULL */
	bool dc_reported; /* its damage was reported */
	/*
	 * A regular file's descriptor, a dup() of the one read: it shares the
	 * file offset, which says how far reading got (through a decompressor:
	 * in the compressed bytes) even after the reader closed its own. -1:
	 * not a regular file (standard input, a pipe, a socket).
	 */
	int pos_fd;
	uint64_t size; /* the regular file's size when opened */
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
		dnstap_source_close(m->in[i].dnstap);
		dnstap_socket_close(m->in[i].sock);
		if (m->in[i].pos_fd >= 0)
			close(m->in[i].pos_fd);
	}
	free(m->in);
	free(m->heap);
	free(m->pull);
	free(m);
}

/* ---- content detection ---- */

/*
 * An input's bytes: its file descriptor, through a decompressor when the
 * content is compressed, after the bytes detect() read are given back.
 */
struct byte_source {
	int fd;
	volatile sig_atomic_t *stop;
	struct decompress *dc;
	unsigned char *buf; /* what detect() read, given back first */
	size_t len, pos;
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

static ssize_t fd_read(void *ctx, void *buf, size_t n)
{
	struct byte_source *s = ctx;

	return read_unless_stopped(s->fd, buf, n, s->stop);
}

/* Bytes from where the source is now: decompressed, or as they are. */
static ssize_t source_read(struct byte_source *s, void *buf, size_t n)
{
	ssize_t got;

	if (!s->dc)
		return fd_read(s, buf, n);
	do
		got = decompress_read(s->dc, buf, n);
	while (got < 0 && errno == EINTR && !stopped(s->stop));
	return got;
}

static void source_free(struct byte_source *s)
{
	decompress_free(s->dc);
	close(s->fd);
	free(s->buf);
	free(s);
}

static ssize_t replay_read(void *cookie, char *out, size_t n)
{
	struct byte_source *s = cookie;

	if (s->pos < s->len) {
		size_t k = s->len - s->pos < n ? s->len - s->pos : n;

		memcpy(out, s->buf + s->pos, k);
		s->pos += k;
		return (ssize_t)k;
	}
	return source_read(s, out, n);
}

static int replay_close(void *cookie)
{
	source_free(cookie);
	return 0;
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

/* Frame Streams files begin with a control frame: a zero length. */
static bool starts_with_escape(const unsigned char *b)
{
	return !b[0] && !b[1] && !b[2] && !b[3];
}

/* Not a merge_input_kind: detect() saw a compressed stream. */
#define KIND_COMPRESSED 100

/*
 * Read from s until the kind is clear, PEEK_MAX or the end. -1: unknown
 * format; KIND_COMPRESSED with *ckind the compression.
 */
static int detect(struct byte_source *s, unsigned char *buf, size_t *len,
		  enum decompress_kind *ckind)
{
	*len = 0;
	while (*len < PEEK_MAX) {
		size_t want = *len < 4 ? 4 - *len : PEEK_MAX - *len;
		ssize_t got;

		if (*len >= 4 && *len < FS_START_PEEK && starts_with_escape(buf))
			want = FS_START_PEEK - *len; /* a Frame Streams escape: its START frame next */
		got = source_read(s, buf + *len, want);

		if (got <= 0)
			break; /* the end (or a read error, which the reader will meet too) */
		*len += (size_t)got;
		if (*len < 4 || (starts_with_escape(buf) && *len < FS_START_PEEK))
			continue;
		if ((*ckind = decompress_detect(buf, *len)) != DECOMPRESS_NONE)
			return KIND_COMPRESSED;
		if (pcap_magic(buf, *len))
			return MERGE_PCAP;
		if (fs_looks_like_start(buf, *len))
			return MERGE_DNSTAP;
		if (looks_like_jsonl(buf, *len))
			return MERGE_JSONL;
	}
	if (*len == 0 || looks_like_jsonl(buf, *len))
		return MERGE_JSONL; /* empty: JSON Lines without a line */
	if (fs_looks_like_start(buf, *len))
		return MERGE_DNSTAP;
	return pcap_magic(buf, *len) ? MERGE_PCAP : -1;
}

/*
 * A stream of s from the bytes detect() read: the file rewound when it
 * can be (and is not compressed), else a stream that gives those bytes
 * back first. Takes s over.
 */
static FILE *stream_from_start(struct byte_source *s, off_t start)
{
	cookie_io_functions_t io = {.read = replay_read, .close = replay_close};
	FILE *f;

	if (!s->dc && start >= 0 && lseek(s->fd, start, SEEK_SET) == start) {
		f = fdopen(s->fd, "rb");
		if (f) {
			s->fd = -1;
			source_free(s);
		}
	} else {
		f = fopencookie(s, "rb", io);
	}
	if (!f)
		source_free(s);
	return f;
}

/* The kind of what s gives, looking through one compression. */
static int detect_through_compression(struct byte_source *s, char *err, size_t errlen,
				      const char *name)
{
	enum decompress_kind ckind;
	int kind = detect(s, s->buf, &s->len, &ckind);

	if (kind != KIND_COMPRESSED)
		return kind;
	s->dc = decompress_new(fd_read, s, s->buf, s->len, ckind);
	if (!s->dc) {
		set_err(err, errlen, "dnssnoop: cannot read %s: out of memory", name);
		return -2;
	}
	kind = detect(s, s->buf, &s->len, &ckind);
	if (kind == KIND_COMPRESSED)
		return -1; /* compressed twice: not read */
	if (kind < 0 && decompress_error(s->dc)) {
		set_err(err, errlen, "dnssnoop: cannot read %s: %s", name, decompress_error(s->dc));
		return -2;
	}
	return kind;
}

/* A regular file's offset, for merge_progress(): see struct input. */
static int position_fd(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	*size = (uint64_t)st.st_size;
	return fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

/*
 * Opens path, tells its kind into *kind and returns a stream from its
 * first byte, decompressed when it is compressed (*dc then says whether
 * the compressed data was damaged, until the stream is closed). in->pos_fd
 * and in->size are set for a regular file.
 */
static FILE *open_detect(const char *path, const char *name, int *kind,
			 const struct decompress **dc, struct input *in,
			 volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	bool is_stdin = !strcmp(path, "-");
	struct byte_source *s = calloc(1, sizeof(*s));
	off_t start;

	if (s)
		s->buf = malloc(PEEK_MAX);
	if (!s || !s->buf) {
		set_err(err, errlen, "dnssnoop: cannot read %s: out of memory", name);
		free(s);
		return NULL;
	}
	s->stop = stop;
	s->fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		set_err(err, errlen, "dnssnoop: cannot read %s: %s", name, strerror(errno));
		free(s->buf);
		free(s);
		return NULL;
	}
	start = lseek(s->fd, 0, SEEK_CUR);
	in->pos_fd = position_fd(s->fd, &in->size);
	*kind = detect_through_compression(s, err, errlen, name);
	if (*kind == -1)
		set_err(err, errlen,
			"dnssnoop: cannot read %s: unknown file format (not pcap, pcapng, dnstap "
			"or dnssnoop's JSON Lines, plain or compressed with gzip, zstd, xz or lz4)",
			name);
	if (*kind < 0) {
		source_free(s);
		return NULL;
	}
	*dc = s->dc;
	return stream_from_start(s, start);
}

/* ---- inputs ---- */

/* An input left out keeps no descriptor. */
static void drop_position(struct input *in)
{
	if (in->pos_fd >= 0)
		close(in->pos_fd);
	in->pos_fd = -1;
}

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
	const struct decompress *dc = NULL;
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
	in = &m->in[m->n];
	memset(in, 0, sizeof(*in));
	in->pos_fd = -1;
	f = open_detect(path, name, &kind, &dc, in, m->cfg.stop, err, errlen);
	if (!f) {
		drop_position(in);
		return -1;
	}
	m->stdin_taken |= is_stdin;
	in->kind = kind;
	in->dc = dc;
	snprintf(in->name, sizeof(in->name), "%s", name);
	if (kind != MERGE_PCAP && m->cfg.filter) {
		set_err(err, errlen,
			"dnssnoop: %s is %s: a filter expression applies to pcap input only", name,
			kind == MERGE_JSONL ? "JSON Lines" : "dnstap");
		fclose(f);
		drop_position(in);
		return -1;
	}
	if (kind == MERGE_PCAP)
		in->pcap = pcap_source_fopen(f, name, m->cfg.filter, m->cfg.ports, m->cfg.nports,
					     err, errlen);
	else if (kind == MERGE_DNSTAP)
		in->dnstap = dnstap_source_fopen(f, name, err, errlen);
	else
		in->jsonl = jsonl_source_fopen(f, name, err, errlen);
	if (!in->pcap && !in->jsonl && !in->dnstap) {
		drop_position(in);
		return -1;
	}
	if (in->dnstap)
		dnstap_source_set_stop(in->dnstap, m->cfg.stop);
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

int merge_add_dnstap_socket(struct merge *m, const char *path, uint64_t deadline_ns, char *err,
			    size_t errlen)
{
	struct input *in;

	if (m->n == m->cap && !grow(m)) {
		set_err(err, errlen, "dnssnoop: out of memory opening %s", path);
		return -1;
	}
	in = &m->in[m->n];
	memset(in, 0, sizeof(*in));
	in->pos_fd = -1;
	in->sock = dnstap_socket_listen(path, err, errlen);
	if (!in->sock)
		return -1;
	dnstap_socket_set_end(in->sock, m->cfg.stop, deadline_ns);
	in->kind = MERGE_DNSTAP;
	snprintf(in->name, sizeof(in->name), "%s", path);
	in->head.kind = MERGE_DNSTAP;
	in->head.input = m->n;
	schedule_first_pull(m, m->n++);
	return MERGE_DNSTAP;
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

bool merge_progress(const struct merge *m, uint64_t *done, uint64_t *total)
{
	*done = *total = 0;
	for (int i = 0; i < m->n; i++) {
		off_t pos;

		if (m->in[i].pos_fd < 0)
			return false;
		pos = lseek(m->in[i].pos_fd, 0, SEEK_CUR);
		*total += m->in[i].size;
		/* A file that grew while read counts as read up to its first size. */
		if (pos > 0)
			*done += (uint64_t)pos < m->in[i].size ? (uint64_t)pos : m->in[i].size;
	}
	return m->n > 0;
}

/* Read input i's next item into its head: 1, 0 at its end, -1 a message. */
static int read_source(struct input *in, char *err, size_t errlen)
{
	struct merge_item *h = &in->head;
	const struct jsonl_record *rec;
	const struct dnstap_packet *dp;
	int rc;

	if (in->kind == MERGE_DNSTAP) {
		rc = in->sock ? dnstap_socket_next(in->sock, &dp, err, errlen)
			      : dnstap_source_next(in->dnstap, &dp, err, errlen);
		if (rc == 1) {
			h->meta = &dp->meta;
			h->payload = dp->msg;
			h->caplen = dp->len;
			h->ts_ns = dp->meta.ts_ns;
		}
		return rc;
	}
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

/*
 * The input's next item. Damaged compressed data ends a file as a
 * truncated one would: the reader's message (or its quiet end) gives way
 * to the decompressor's, which says what happened.
 */
static int read_head(struct input *in, char *err, size_t errlen)
{
	int rc = read_source(in, err, errlen);

	if (rc == 1 || !in->dc || !decompress_error(in->dc) || in->dc_reported)
		return rc;
	in->dc_reported = true;
	set_err(err, errlen, "dnssnoop: %s: %s; what came before was read", in->name,
		decompress_error(in->dc));
	return -1;
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

		if (rc < 0 || rc == DNSTAP_SOCKET_IDLE)
			return rc < 0 ? -1 : MERGE_IDLE; /* the input stays to be pulled */
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
	struct dnstap_socket_stats ss = {0};
	char conns[96] = "";

	if (in->kind == MERGE_DNSTAP) {
		if (in->sock) {
			dnstap_socket_get_stats(in->sock, &ss);
			snprintf(conns, sizeof(conns), " socket, %llu connections (%llu dropped),",
				 (unsigned long long)ss.connections, (unsigned long long)ss.refused);
		} else {
			dnstap_source_get_stats(in->dnstap, &ss.msgs);
		}
		snprintf(buf, len,
			 "dnssnoop: %s: dnstap%s %llu frames, %llu messages used, %llu without "
			 "their DNS message, %llu bad",
			 in->name, conns[0] ? conns : ",", (unsigned long long)ss.msgs.frames,
			 (unsigned long long)ss.msgs.messages, (unsigned long long)ss.msgs.no_message,
			 (unsigned long long)ss.msgs.bad);
		return;
	}
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
