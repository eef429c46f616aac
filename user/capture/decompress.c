// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Decompression of inputs (see decompress.h): one read loop, and for each
 * format a step that turns some input into some output with its library
 * (zlib, libzstd, liblzma, liblz4). Every format may hold several streams
 * back to back; the data ending inside one is damage, not a quiet end.
 */
#include <errno.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "capture/decompress.h"

#define IN_SIZE (64 * 1024)

struct decompress {
	decompress_read_fn read;
	void *ctx;
	enum decompress_kind kind;
	unsigned char *in;
	size_t in_pos, in_len;
	uint64_t in_total; /* compressed bytes consumed, for messages */
	bool eof; /* fd has no more */
	bool stream_done; /* a stream ended: the next byte starts another */
	bool failed;
	char err[192];
	union {
		z_stream z;
		ZSTD_DStream *zstd;
		lzma_stream xz;
		LZ4F_dctx *lz4;
	} u;
};

static const unsigned char magic_gzip[] = {0x1f, 0x8b};
static const unsigned char magic_zstd[] = {0x28, 0xb5, 0x2f, 0xfd};
static const unsigned char magic_xz[] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
static const unsigned char magic_lz4[] = {0x04, 0x22, 0x4d, 0x18};

static bool starts_with(const unsigned char *b, size_t len, const unsigned char *m, size_t n)
{
	return len >= n && !memcmp(b, m, n);
}

enum decompress_kind decompress_detect(const unsigned char *b, size_t len)
{
	if (starts_with(b, len, magic_gzip, sizeof(magic_gzip)))
		return DECOMPRESS_GZIP;
	if (starts_with(b, len, magic_zstd, sizeof(magic_zstd)))
		return DECOMPRESS_ZSTD;
	if (starts_with(b, len, magic_xz, sizeof(magic_xz)))
		return DECOMPRESS_XZ;
	if (starts_with(b, len, magic_lz4, sizeof(magic_lz4)))
		return DECOMPRESS_LZ4;
	return DECOMPRESS_NONE;
}

const char *decompress_name(enum decompress_kind kind)
{
	static const char *const names[] = {"none", "gzip", "zstd", "xz", "lz4"};

	return (unsigned int)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

/* Marks d damaged, says why; -1 with errno EIO. */
static int fail(struct decompress *d, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(d->err, sizeof(d->err),
			 "%s data damaged after %llu bytes: ", decompress_name(d->kind),
			 (unsigned long long)d->in_total);

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(d->err))
		vsnprintf(d->err + n, sizeof(d->err) - n, fmt, ap);
	va_end(ap);
	d->failed = true;
	errno = EIO;
	return -1;
}

/* ---- one step per format: *used input bytes consumed, *made output bytes made ---- */

static int step_gzip(struct decompress *d, const unsigned char *in, size_t n, size_t *used,
		     unsigned char *out, size_t cap, size_t *made)
{
	z_stream *z = &d->u.z;
	int rc;

	if (d->stream_done && inflateReset(z) != Z_OK)
		return fail(d, "cannot restart zlib");
	z->next_in = (unsigned char *)in;
	z->avail_in = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
	z->next_out = out;
	z->avail_out = (uInt)(cap > UINT32_MAX ? UINT32_MAX : cap);
	rc = inflate(z, Z_NO_FLUSH);
	*used = (size_t)(z->next_in - in);
	*made = (size_t)(z->next_out - out);
	if (rc == Z_STREAM_END)
		return 1;
	if (rc != Z_OK && rc != Z_BUF_ERROR)
		return fail(d, "%s", z->msg ? z->msg : zError(rc));
	return 0;
}

static int step_zstd(struct decompress *d, const unsigned char *in, size_t n, size_t *used,
		     unsigned char *out, size_t cap, size_t *made)
{
	ZSTD_inBuffer ib = {in, n, 0};
	ZSTD_outBuffer ob = {out, cap, 0};
	size_t rc = ZSTD_decompressStream(d->u.zstd, &ob, &ib);

	*used = ib.pos;
	*made = ob.pos;
	if (ZSTD_isError(rc))
		return fail(d, "%s", ZSTD_getErrorName(rc));
	return rc == 0; /* a frame decoded and flushed */
}

static int step_xz(struct decompress *d, const unsigned char *in, size_t n, size_t *used,
		   unsigned char *out, size_t cap, size_t *made)
{
	lzma_stream *s = &d->u.xz;
	lzma_ret rc;

	s->next_in = in;
	s->avail_in = n;
	s->next_out = out;
	s->avail_out = cap;
	/* With LZMA_CONCATENATED the decoder can tell the last stream only at the end. */
	rc = lzma_code(s, d->eof && n == 0 ? LZMA_FINISH : LZMA_RUN);
	*used = n - s->avail_in;
	*made = cap - s->avail_out;
	if (rc == LZMA_STREAM_END)
		return 1;
	if (rc == LZMA_BUF_ERROR && d->eof && !*made)
		return 0; /* at the end with a stream open: the caller says so */
	if (rc != LZMA_OK && rc != LZMA_BUF_ERROR)
		return fail(d, "liblzma error %d (%s)", (int)rc,
			    rc == LZMA_DATA_ERROR     ? "data is corrupt"
			    : rc == LZMA_FORMAT_ERROR ? "not xz"
			    : rc == LZMA_MEM_ERROR    ? "out of memory"
						      : "unsupported");
	return 0;
}

static int step_lz4(struct decompress *d, const unsigned char *in, size_t n, size_t *used,
		    unsigned char *out, size_t cap, size_t *made)
{
	size_t src = n, dst = cap;
	size_t rc = LZ4F_decompress(d->u.lz4, out, &dst, in, &src, NULL);

	*used = src;
	*made = dst;
	if (LZ4F_isError(rc))
		return fail(d, "%s", LZ4F_getErrorName(rc));
	return rc == 0; /* a frame fully decoded */
}

/* 1: a stream ended in this step; 0: more to come; -1: damage. */
static int step(struct decompress *d, const unsigned char *in, size_t n, size_t *used,
		unsigned char *out, size_t cap, size_t *made)
{
	switch (d->kind) {
	case DECOMPRESS_GZIP:
		return step_gzip(d, in, n, used, out, cap, made);
	case DECOMPRESS_ZSTD:
		return step_zstd(d, in, n, used, out, cap, made);
	case DECOMPRESS_XZ:
		return step_xz(d, in, n, used, out, cap, made);
	case DECOMPRESS_LZ4:
		return step_lz4(d, in, n, used, out, cap, made);
	default:
		return fail(d, "unknown format");
	}
}

/* ---- the read loop ---- */

/* More compressed bytes; -1 on a read error (EINTR left to the caller). */
static int fill(struct decompress *d)
{
	ssize_t got = d->read(d->ctx, d->in, IN_SIZE);

	if (got < 0)
		return errno == EINTR ? -1 : fail(d, "read error: %s", strerror(errno));
	d->in_pos = 0;
	d->in_len = (size_t)got;
	d->eof = got == 0;
	return 0;
}

ssize_t decompress_read(struct decompress *d, void *buf, size_t n)
{
	if (d->failed) {
		errno = EIO;
		return -1;
	}
	while (n) {
		size_t avail, used = 0, made = 0;
		int rc;

		if (d->in_pos == d->in_len && !d->eof && fill(d) < 0)
			return -1;
		avail = d->in_len - d->in_pos;
		if (d->stream_done && !avail && d->eof)
			return 0; /* the last stream ended with the data */
		rc = step(d, d->in + d->in_pos, avail, &used, buf, n, &made);
		if (rc < 0)
			return -1;
		d->in_pos += used;
		d->in_total += used;
		d->stream_done = rc == 1;
		if (made)
			return (ssize_t)made;
		if (d->in_pos == d->in_len && d->eof && !d->stream_done)
			return fail(d, "ends inside a stream");
		if (!used && avail && !d->stream_done)
			return fail(d, "no progress");
	}
	return 0;
}

const char *decompress_error(const struct decompress *d)
{
	return d->failed ? d->err : NULL;
}

static bool start(struct decompress *d)
{
	switch (d->kind) {
	case DECOMPRESS_GZIP:
		return inflateInit2(&d->u.z, 16 + MAX_WBITS) == Z_OK;
	case DECOMPRESS_ZSTD:
		d->u.zstd = ZSTD_createDStream();
		return d->u.zstd && !ZSTD_isError(ZSTD_initDStream(d->u.zstd));
	case DECOMPRESS_XZ:
		d->u.xz = (lzma_stream)LZMA_STREAM_INIT;
		return lzma_stream_decoder(&d->u.xz, UINT64_MAX, LZMA_CONCATENATED) == LZMA_OK;
	case DECOMPRESS_LZ4:
		return !LZ4F_isError(LZ4F_createDecompressionContext(&d->u.lz4, LZ4F_VERSION));
	default:
		return false;
	}
}

static void stop(struct decompress *d)
{
	switch (d->kind) {
	case DECOMPRESS_GZIP:
		inflateEnd(&d->u.z);
		break;
	case DECOMPRESS_ZSTD:
		ZSTD_freeDStream(d->u.zstd);
		break;
	case DECOMPRESS_XZ:
		lzma_end(&d->u.xz);
		break;
	case DECOMPRESS_LZ4:
		LZ4F_freeDecompressionContext(d->u.lz4);
		break;
	default:
		break;
	}
}

struct decompress *decompress_new(decompress_read_fn read, void *ctx, const unsigned char *prefix,
				  size_t len, enum decompress_kind kind)
{
	struct decompress *d = calloc(1, sizeof(*d));

	if (!d || len > IN_SIZE || !(d->in = malloc(IN_SIZE))) {
		free(d);
		return NULL;
	}
	d->read = read;
	d->ctx = ctx;
	d->kind = kind;
	if (len)
		memcpy(d->in, prefix, len);
	d->in_len = len;
	if (!start(d)) {
		d->kind = DECOMPRESS_NONE; /* nothing to stop */
		decompress_free(d);
		return NULL;
	}
	return d;
}

void decompress_free(struct decompress *d)
{
	if (!d)
		return;
	stop(d);
	free(d->in);
	free(d);
}
