/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Compressed inputs, told by their magic bytes (never by their names):
 * gzip (zlib), zstd, xz (liblzma) and LZ4 frames, each possibly several
 * streams one after the other, as `cat a.gz b.gz` makes. Reads as read(2)
 * does, so that a pipe is read as its data comes.
 */
#ifndef DNSSNOOP_DECOMPRESS_H
#define DNSSNOOP_DECOMPRESS_H

#include <stddef.h>
#include <sys/types.h>

enum decompress_kind {
	DECOMPRESS_NONE = 0,
	DECOMPRESS_GZIP,
	DECOMPRESS_ZSTD,
	DECOMPRESS_XZ,
	DECOMPRESS_LZ4,
};

/* Bytes decompress_detect() needs to decide. */
#define DECOMPRESS_MAGIC_MAX 6

/* The compression whose magic b (len bytes) starts with, or DECOMPRESS_NONE. */
enum decompress_kind decompress_detect(const unsigned char *b, size_t len);

/* "gzip", "zstd", "xz", "lz4". */
const char *decompress_name(enum decompress_kind kind);

struct decompress;

/* Where compressed bytes come from: read(2)'s contract (0 at the end, -1 and errno). */
typedef ssize_t (*decompress_read_fn)(void *ctx, void *buf, size_t n);

/*
 * A decompressor of what read(ctx, ...) gives, starting with the len
 * bytes of prefix already read from there. NULL when out of memory.
 */
struct decompress *decompress_new(decompress_read_fn read, void *ctx, const unsigned char *prefix,
				  size_t len, enum decompress_kind kind);

/*
 * Up to n decompressed bytes into buf, as read(2) does: what is there
 * (blocking only until some is), 0 at the end of the last stream, -1 with
 * errno set when reading fails (EINTR is left to the caller to retry) or
 * the data is damaged (EIO; see decompress_error).
 */
ssize_t decompress_read(struct decompress *d, void *buf, size_t n);

/*
 * Why reading failed ("gzip data damaged after 1234 bytes: invalid block
 * type"), or NULL when it has not. Valid until decompress_free().
 */
const char *decompress_error(const struct decompress *d);

void decompress_free(struct decompress *d);

#endif
