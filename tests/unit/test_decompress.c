// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * decompress: each format compressed here by its own library (zlib,
 * libzstd, liblzma, liblz4) and read back whole, in small and large reads,
 * with the first bytes given as the already-read prefix; several streams
 * back to back; a stream cut short and a damaged byte reported as damage
 * naming the format; a pipe read as its data comes, before it is closed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <sys/mman.h>
#include <cmocka.h>
#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "capture/decompress.h"

#define PLAIN_LEN (300 * 1000)

static unsigned char plain[PLAIN_LEN];

/* Compressible but not trivial: lines of counters and pseudo-random words. */
static void make_plain(void)
{
	uint32_t x = 1;
	size_t n = 0;

	while (n < PLAIN_LEN) {
		char line[64];
		int k;

		x = x * 1103515245 + 12345;
		k = snprintf(line, sizeof(line), "{\"n\":%zu,\"w\":\"w%u\"}\n", n,
			     (x >> 16) % 5000);
		for (int i = 0; i < k && n < PLAIN_LEN; i++)
			plain[n++] = (unsigned char)line[i];
	}
}

struct blob {
	unsigned char *b;
	size_t len;
};

static struct blob compress_with(enum decompress_kind kind, const unsigned char *p, size_t n)
{
	struct blob out = {malloc(n + 65536), 0};

	assert_non_null(out.b);
	switch (kind) {
	case DECOMPRESS_GZIP: {
		z_stream z = {0};

		assert_int_equal(
			deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			Z_OK);
		z.next_in = (unsigned char *)p;
		z.avail_in = (uInt)n;
		z.next_out = out.b;
		z.avail_out = (uInt)(n + 65536);
		assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
		out.len = z.total_out;
		deflateEnd(&z);
		break;
	}
	case DECOMPRESS_ZSTD:
		out.len = ZSTD_compress(out.b, n + 65536, p, n, 3);
		assert_false(ZSTD_isError(out.len));
		break;
	case DECOMPRESS_XZ:
		assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, p, n, out.b,
							 &out.len, n + 65536),
				 LZMA_OK);
		break;
	case DECOMPRESS_LZ4: {
		/* With its content checksum, so that a changed byte is damage it can see. */
		LZ4F_preferences_t prefs = {.frameInfo.contentChecksumFlag =
						    LZ4F_contentChecksumEnabled};

		out.len = LZ4F_compressFrame(out.b, n + 65536, p, n, &prefs);
		assert_false(LZ4F_isError(out.len));
		break;
	}
	default:
		fail();
	}
	return out;
}

/* A file holding bytes b[from..len), as an fd at offset 0. */
static int fd_of(const unsigned char *b, size_t len, size_t from)
{
	int fd = memfd_create("compressed", 0);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, b + from, len - from), (ssize_t)(len - from));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static ssize_t read_fd(void *ctx, void *buf, size_t n)
{
	return read(*(int *)ctx, buf, n);
}

/* A decompressor reading *fd (which the test closes). */
static struct decompress *over_fd(int *fd, const unsigned char *prefix, size_t len,
				  enum decompress_kind kind)
{
	struct decompress *d = decompress_new(read_fd, fd, prefix, len, kind);

	assert_non_null(d);
	return d;
}

/* Everything d gives, chunk bytes at a time; *rc the last read's result. */
static size_t read_all(struct decompress *d, unsigned char *out, size_t cap, size_t chunk,
		       ssize_t *rc)
{
	size_t got = 0;

	for (;;) {
		*rc = decompress_read(d, out + got, cap - got < chunk ? cap - got : chunk);
		if (*rc <= 0)
			return got;
		got += (size_t)*rc;
	}
}

static const enum decompress_kind kinds[] = {DECOMPRESS_GZIP, DECOMPRESS_ZSTD, DECOMPRESS_XZ,
					     DECOMPRESS_LZ4};

static void test_detect(void **state)
{
	static const unsigned char pcap[] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0};

	for (size_t i = 0; i < 4; i++) {
		struct blob c = compress_with(kinds[i], plain, 1000);

		assert_int_equal(decompress_detect(c.b, c.len), kinds[i]);
		assert_int_equal(decompress_detect(c.b, 1), DECOMPRESS_NONE); /* too short */
		free(c.b);
	}
	assert_int_equal(decompress_detect(pcap, sizeof(pcap)), DECOMPRESS_NONE);
	assert_int_equal(decompress_detect((const unsigned char *)"{\"type\"", 7), DECOMPRESS_NONE);
	assert_string_equal(decompress_name(DECOMPRESS_XZ), "xz");
}

/* Whole, in reads of 1000 bytes and of 1 MB, the first 7 bytes as prefix. */
static void test_round_trip(void **state)
{
	static unsigned char out[PLAIN_LEN + 10];
	static const size_t chunks[] = {1000, 1 << 20};

	for (size_t i = 0; i < 4; i++) {
		struct blob c = compress_with(kinds[i], plain, PLAIN_LEN);

		for (size_t k = 0; k < 2; k++) {
			int fd = fd_of(c.b, c.len, 7);
			struct decompress *d = over_fd(&fd, c.b, 7, kinds[i]);
			ssize_t rc;

			assert_int_equal(read_all(d, out, sizeof(out), chunks[k], &rc), PLAIN_LEN);
			assert_int_equal(rc, 0);
			assert_memory_equal(out, plain, PLAIN_LEN);
			assert_null(decompress_error(d));
			decompress_free(d);
			close(fd);
		}
		free(c.b);
	}
}

/* Two streams back to back read as their two contents, one after the other. */
static void test_concatenated_streams(void **state)
{
	static unsigned char out[PLAIN_LEN + 10];

	for (size_t i = 0; i < 4; i++) {
		struct blob a = compress_with(kinds[i], plain, 1000);
		struct blob b = compress_with(kinds[i], plain + 1000, PLAIN_LEN - 1000);
		unsigned char *both = malloc(a.len + b.len);
		struct decompress *d;
		ssize_t rc;
		int fd;

		memcpy(both, a.b, a.len);
		memcpy(both + a.len, b.b, b.len);
		fd = fd_of(both, a.len + b.len, 0);
		d = over_fd(&fd, NULL, 0, kinds[i]);
		assert_int_equal(read_all(d, out, sizeof(out), 4096, &rc), PLAIN_LEN);
		assert_int_equal(rc, 0);
		assert_memory_equal(out, plain, PLAIN_LEN);
		decompress_free(d);
		close(fd);
		free(a.b);
		free(b.b);
		free(both);
	}
}

/* Cut short, or a byte changed: -1 EIO, a message naming the format, a prefix kept. */
static void test_damage(void **state)
{
	static unsigned char out[PLAIN_LEN + 10];

	for (size_t i = 0; i < 4; i++) {
		struct blob c = compress_with(kinds[i], plain, PLAIN_LEN);
		struct decompress *d;
		size_t got;
		ssize_t rc;
		int fd;

		fd = fd_of(c.b, c.len - 10, 0);
		d = over_fd(&fd, NULL, 0, kinds[i]);
		got = read_all(d, out, sizeof(out), 4096, &rc);
		assert_int_equal(rc, -1);
		assert_int_equal(errno, EIO);
		assert_true(got <= PLAIN_LEN); /* the trailer may be what is missing */
		assert_memory_equal(out, plain, got);
		assert_non_null(decompress_error(d));
		assert_non_null(strstr(decompress_error(d), decompress_name(kinds[i])));
		/* Once damaged, always: no further bytes. */
		assert_int_equal(decompress_read(d, out, 10), -1);
		decompress_free(d);
		close(fd);

		c.b[c.len / 2] ^= 0x55;
		fd = fd_of(c.b, c.len, 0);
		d = over_fd(&fd, NULL, 0, kinds[i]);
		got = read_all(d, out, sizeof(out), 4096, &rc);
		assert_int_equal(rc, -1);
		assert_non_null(decompress_error(d));
		decompress_free(d);
		close(fd);
		free(c.b);
	}
}

/* A pipe still open: the first stream's bytes come without waiting for the end. */
static void test_pipe_as_data_comes(void **state)
{
	static unsigned char out[2000];

	for (size_t i = 0; i < 4; i++) {
		struct blob c = compress_with(kinds[i], plain, 1000);
		struct decompress *d;
		int p[2], fd;
		size_t got = 0;

		assert_int_equal(pipe(p), 0);
		assert_int_equal(write(p[1], c.b, c.len), (ssize_t)c.len);
		fd = p[0];
		d = over_fd(&fd, NULL, 0, kinds[i]);
		while (got < 1000) {
			ssize_t rc = decompress_read(d, out + got, sizeof(out) - got);

			assert_true(rc > 0);
			got += (size_t)rc;
		}
		assert_memory_equal(out, plain, 1000);
		close(p[1]);
		assert_int_equal(decompress_read(d, out, sizeof(out)), 0);
		decompress_free(d);
		close(fd);
		free(c.b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_concatenated_streams),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_pipe_as_data_comes),
	};

	make_plain();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
