// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The --clickhouse sink's spool files; see clickhouse_spool.h. */
#include "report/clickhouse_spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/errmsg.h"

#define SPOOL_MAGIC  0x53484344u /* "DCHS" little-endian */
#define SPOOL_PREFIX "spool-"
#define SPOOL_SUFFIX ".dat"
/* Files of earlier sessions taken over at once; more wait for a later session. */
#define SPOOL_MAX_FILES 64
/* A body longer than this in a header is damage, not a batch. */
#define SPOOL_MAX_BODY (256u << 20)

enum { STATE_PENDING = 'P', STATE_AMBIGUOUS = 'A', STATE_SENT = 'S' };

struct spool_header {
	uint32_t magic;
	uint8_t state;
	uint8_t table;
	uint8_t format; /* 0 in files of versions before it was kept: JSON */
	uint8_t pad;
	uint64_t id;
	uint32_t rows;
	uint32_t len;
};

struct spool_file {
	int fd;
	char path[4096];
	uint64_t head; /* offset of the oldest batch not sent */
	uint64_t end; /* offset after the last whole batch */
	uint64_t batches, rows; /* not sent */
};

struct ch_spool {
	char *dir;
	uint64_t max_bytes;
	uint64_t others_bytes; /* what earlier sessions' files hold on disk */
	struct spool_file files[SPOOL_MAX_FILES + 1]; /* earlier sessions' first, ours last */
	int nfiles;
	int cur; /* the file holding the head */
};

static struct spool_file *own(struct ch_spool *sp)
{
	return &sp->files[sp->nfiles - 1];
}

static int read_header(int fd, uint64_t off, struct spool_header *h)
{
	ssize_t n = pread(fd, h, sizeof(*h), (off_t)off);

	if (n < 0)
		return -errno;
	return n == sizeof(*h) && h->magic == SPOOL_MAGIC && h->len <= SPOOL_MAX_BODY ? 1 : 0;
}

/* Walk a file taken over: its head, its end, what it still holds. */
static void scan(struct spool_file *f)
{
	struct spool_header h;
	struct stat st;
	uint64_t off = 0;

	f->head = UINT64_MAX;
	if (fstat(f->fd, &st) < 0)
		st.st_size = 0;
	while (read_header(f->fd, off, &h) == 1 &&
	       off + sizeof(h) + h.len <= (uint64_t)st.st_size) {
		if (h.state != STATE_SENT) {
			if (f->head == UINT64_MAX)
				f->head = off;
			f->batches++;
			f->rows += h.rows;
		}
		off += sizeof(h) + h.len;
	}
	f->end = off;
	if (f->head == UINT64_MAX)
		f->head = off;
}

static bool spool_name(const char *name)
{
	size_t n = strlen(name), s = strlen(SPOOL_SUFFIX);

	return !strncmp(name, SPOOL_PREFIX, strlen(SPOOL_PREFIX)) && n > s &&
	       !strcmp(name + n - s, SPOOL_SUFFIX);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int only_spool_files(const struct dirent *d)
{
	return spool_name(d->d_name);
}

/* One earlier session's file: taken when no session holds it; removed when all sent. */
static void take_over(struct ch_spool *sp, const char *name)
{
	struct spool_file *f = &sp->files[sp->nfiles];
	struct stat st;

	snprintf(f->path, sizeof(f->path), "%s/%s", sp->dir, name);
	f->fd = open(f->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (f->fd < 0)
		return;
	if (flock(f->fd, LOCK_EX | LOCK_NB) < 0 || fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(f->fd); /* a running session's, or not ours to read */
		return;
	}
	scan(f);
	if (!f->batches) {
		unlink(f->path);
		close(f->fd);
		return;
	}
	sp->others_bytes += (uint64_t)st.st_size;
	sp->nfiles++;
}

static void take_over_all(struct ch_spool *sp)
{
	struct dirent **names = NULL;
	int n = scandir(sp->dir, &names, only_spool_files, by_name);

	for (int i = 0; i < n; i++) {
		if (sp->nfiles < SPOOL_MAX_FILES)
			take_over(sp, names[i]->d_name);
		free(names[i]);
	}
	free(names);
}

/* This session's file: named so that names sort by start time. */
static int create_own(struct ch_spool *sp, char *err, size_t errlen)
{
	struct spool_file *f = &sp->files[sp->nfiles];
	struct timespec now;
	uint32_t rnd = 0;

	clock_gettime(CLOCK_REALTIME, &now);
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)getpid();
	snprintf(f->path, sizeof(f->path), "%s/" SPOOL_PREFIX "%016llx-%08x" SPOOL_SUFFIX, sp->dir,
		 (unsigned long long)now.tv_sec * 1000000000ull + (unsigned long long)now.tv_nsec,
		 rnd);
	f->fd = open(f->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f->fd < 0 || flock(f->fd, LOCK_EX | LOCK_NB) < 0) {
		set_err(err, errlen, "cannot create a spool file in %s: %s", sp->dir,
			strerror(errno));
		return -1;
	}
	sp->nfiles++;
	return 0;
}

/* The directory made (0700) if missing; a link, or another user's, is refused. */
static int check_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		set_err(err, errlen, "cannot make the spool directory %s: %s", dir,
			strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		set_err(err, errlen, "spool %s is not a directory (links are not followed)", dir);
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 0022)) {
		set_err(err, errlen,
			"spool directory %s belongs to another user or others may write it", dir);
		return -1;
	}
	return 0;
}

struct ch_spool *ch_spool_open(const char *dir, uint64_t max_bytes, char *err, size_t errlen)
{
	struct ch_spool *sp = calloc(1, sizeof(*sp));

	if (!sp || !(sp->dir = strdup(dir))) {
		free(sp);
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	sp->max_bytes = max_bytes;
	if (check_dir(dir, err, errlen) < 0)
		goto fail;
	take_over_all(sp);
	if (create_own(sp, err, errlen) < 0)
		goto fail;
	return sp;
fail:
	ch_spool_close(sp);
	return NULL;
}

void ch_spool_close(struct ch_spool *sp)
{
	if (!sp)
		return;
	for (int i = 0; i < sp->nfiles; i++) {
		struct spool_file *f = &sp->files[i];

		/* May fail after a privilege drop: the next session removes it. */
		if (!f->batches)
			unlink(f->path);
		close(f->fd);
	}
	free(sp->dir);
	free(sp);
}

const char *ch_spool_dir(const struct ch_spool *sp)
{
	return sp->dir;
}

int ch_spool_append(struct ch_spool *sp, const struct ch_spooled *b)
{
	struct spool_file *f = own(sp);
	struct spool_header h = {
		.magic = SPOOL_MAGIC,
		.state = b->ambiguous ? STATE_AMBIGUOUS : STATE_PENDING,
		.table = b->table,
		.format = b->format,
		.id = b->id,
		.rows = b->rows,
		.len = (uint32_t)b->len,
	};
	struct iovec iov[2] = {{&h, sizeof(h)}, {b->body, b->len}};
	uint64_t size = sizeof(h) + b->len;
	ssize_t n;

	if (b->len > SPOOL_MAX_BODY ||
	    (sp->max_bytes && sp->others_bytes + f->end + size > sp->max_bytes))
		return -ENOSPC;
	n = pwritev(f->fd, iov, 2, (off_t)f->end);
	if (n != (ssize_t)size) {
		int e = n < 0 ? errno : ENOSPC;

		if (ftruncate(f->fd, (off_t)f->end) < 0) { /* no torn batch left behind */
		}
		return -e;
	}
	f->end += size;
	f->batches++;
	f->rows += b->rows;
	return 0;
}

uint64_t ch_spool_pending(const struct ch_spool *sp, uint64_t *rows)
{
	uint64_t batches = 0, r = 0;

	for (int i = 0; i < sp->nfiles; i++) {
		batches += sp->files[i].batches;
		r += sp->files[i].rows;
	}
	if (rows)
		*rows = r;
	return batches;
}

/* The file holding the head: the first with a batch not sent. */
static struct spool_file *head_file(struct ch_spool *sp)
{
	while (sp->cur < sp->nfiles - 1 && !sp->files[sp->cur].batches)
		sp->cur++;
	return sp->files[sp->cur].batches ? &sp->files[sp->cur] : NULL;
}

int ch_spool_head(struct ch_spool *sp, struct ch_spooled *b)
{
	struct spool_file *f = head_file(sp);
	struct spool_header h;
	int rc;

	if (!f)
		return 0;
	rc = read_header(f->fd, f->head, &h);
	if (rc <= 0)
		return rc < 0 ? rc : -EIO;
	b->body = malloc(h.len ? h.len : 1);
	if (!b->body)
		return -ENOMEM;
	if (pread(f->fd, b->body, h.len, (off_t)(f->head + sizeof(h))) != (ssize_t)h.len) {
		free(b->body);
		b->body = NULL;
		return -EIO;
	}
	b->id = h.id;
	b->table = h.table;
	b->format = h.format;
	b->ambiguous = h.state == STATE_AMBIGUOUS;
	b->rows = h.rows;
	b->len = h.len;
	return 1;
}

static int set_head_state(struct spool_file *f, uint8_t state)
{
	off_t at = (off_t)(f->head + offsetof(struct spool_header, state));

	return pwrite(f->fd, &state, 1, at) == 1 ? 0 : -errno;
}

/* Past the batches already sent to the next one not sent (or the end). */
static void advance(struct spool_file *f)
{
	struct spool_header h;

	while (f->head < f->end && read_header(f->fd, f->head, &h) == 1 && h.state == STATE_SENT)
		f->head += sizeof(h) + h.len;
}

int ch_spool_head_sent(struct ch_spool *sp)
{
	struct spool_file *f = head_file(sp);
	struct spool_header h;
	int rc;

	if (!f || read_header(f->fd, f->head, &h) != 1)
		return -EIO;
	rc = set_head_state(f, STATE_SENT);
	f->batches--;
	f->rows -= h.rows;
	f->head += sizeof(h) + h.len;
	advance(f);
	if (f->batches)
		return rc;
	/* All sent: the space back (an earlier session's file is removed by the next open). */
	if (f != own(sp))
		sp->others_bytes -= f->end;
	f->head = f->end = 0;
	return ftruncate(f->fd, 0) < 0 ? -errno : rc;
}

int ch_spool_head_ambiguous(struct ch_spool *sp)
{
	struct spool_file *f = head_file(sp);

	return f ? set_head_state(f, STATE_AMBIGUOUS) : -EIO;
}
