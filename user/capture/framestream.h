/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Frame Streams (the transport of dnstap): a byte stream of frames, each
 * a 32-bit big-endian length and that many bytes. A length of 0 escapes
 * a control frame (its own length, then its type and fields: START,
 * STOP, and on sockets READY, ACCEPT, FINISH) from the data frames.
 *
 * The same splitter serves files and sockets: bytes go in as they come
 * (fs_buf_space, fs_buf_added) and whole frames come out (fs_buf_next).
 * Control frames are decoded and encoded by libfstrm.
 */
#ifndef DNSSNOOP_FRAMESTREAM_H
#define DNSSNOOP_FRAMESTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The content type of dnstap's data frames. */
#define DNSTAP_CONTENT_TYPE "protobuf:dnstap.Dnstap"

/* Control frame types (the protocol's numbers, as libfstrm has them). */
enum fs_control {
	FS_ACCEPT = 1,
	FS_START = 2,
	FS_STOP = 3,
	FS_READY = 4,
	FS_FINISH = 5,
};

enum fs_result {
	FS_MORE = 0, /* no whole frame buffered: add bytes */
	FS_DATA, /* a data frame */
	FS_CONTROL, /* a control frame, decoded */
	FS_BAD, /* not Frame Streams (or over the size bound): stop reading */
};

struct fs_frame {
	const uint8_t *data; /* FS_DATA: the frame (valid until the next call) */
	size_t len;
	enum fs_control control; /* FS_CONTROL */
	bool dnstap; /* FS_CONTROL: dnstap's content type is among its fields */
	bool no_type; /* FS_CONTROL: no content type at all (any is meant) */
};

struct fs_buf {
	uint8_t *buf;
	size_t len, pos, cap;
	size_t max_frame; /* larger data frames are FS_BAD */
	uint64_t bytes; /* consumed so far, for messages */
};

/* Returns false when out of memory. */
bool fs_buf_init(struct fs_buf *b, size_t max_frame);
void fs_buf_free(struct fs_buf *b);
/* Room for at least min more bytes at *room: how much; 0 when out of memory. */
size_t fs_buf_space(struct fs_buf *b, size_t min, uint8_t **room);
void fs_buf_added(struct fs_buf *b, size_t n);
/* The next frame, if a whole one is buffered; err says why for FS_BAD. */
enum fs_result fs_buf_next(struct fs_buf *b, struct fs_frame *f, char *err, size_t errlen);
/* Bytes buffered that are not a whole frame (at the end: a cut frame). */
size_t fs_buf_pending(const struct fs_buf *b);

/*
 * A control frame with its escape, of type and (when with_type) dnstap's
 * content type, into out (FS_CONTROL_MAX bytes). Returns its length.
 */
#define FS_CONTROL_MAX 512
size_t fs_control_encode(enum fs_control type, bool with_type, uint8_t *out);

/* Looks like the start of a Frame Streams file: the escape and a START frame. */
bool fs_looks_like_start(const uint8_t *b, size_t len);
/* Bytes fs_looks_like_start() needs. */
#define FS_START_PEEK 12

#endif
