// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Frame Streams splitting over a growable buffer. See framestream.h.
 */
#include <arpa/inet.h>
#include <fstrm.h>
#include <stdlib.h>
#include <string.h>

#include "capture/framestream.h"
#include "lib/errmsg.h"

#define FS_READ_CHUNK (64 * 1024)

static uint32_t get_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

bool fs_buf_init(struct fs_buf *b, size_t max_frame)
{
	memset(b, 0, sizeof(*b));
	b->max_frame = max_frame;
	b->cap = FS_READ_CHUNK;
	b->buf = malloc(b->cap);
	return b->buf != NULL;
}

void fs_buf_free(struct fs_buf *b)
{
	free(b->buf);
	b->buf = NULL;
}

size_t fs_buf_space(struct fs_buf *b, size_t min, uint8_t **room)
{
	if (b->pos) { /* what was consumed goes; what is left moves to the front */
		memmove(b->buf, b->buf + b->pos, b->len - b->pos);
		b->len -= b->pos;
		b->pos = 0;
	}
	if (b->cap - b->len < min) {
		size_t cap = b->cap;
		uint8_t *p;

		while (cap - b->len < min)
			cap *= 2;
		p = realloc(b->buf, cap);
		if (!p)
			return 0;
		b->buf = p;
		b->cap = cap;
	}
	*room = b->buf + b->len;
	return b->cap - b->len;
}

void fs_buf_added(struct fs_buf *b, size_t n)
{
	b->len += n;
}

size_t fs_buf_pending(const struct fs_buf *b)
{
	return b->len - b->pos;
}

/* The control frame's type and whether it names dnstap (or no type at all). */
static enum fs_result decode_control(const uint8_t *p, size_t len, struct fs_frame *f, char *err,
				     size_t errlen)
{
	struct fstrm_control *c = fstrm_control_init();
	fstrm_control_type type;
	size_t ntypes = 0;
	enum fs_result rc = FS_BAD;

	if (!c) {
		set_err(err, errlen, "out of memory");
		return FS_BAD;
	}
	if (fstrm_control_decode(c, p, len, 0) != fstrm_res_success ||
	    fstrm_control_get_type(c, &type) != fstrm_res_success) {
		set_err(err, errlen, "a damaged Frame Streams control frame");
		goto out;
	}
	fstrm_control_get_num_field_content_type(c, &ntypes);
	f->control = (enum fs_control)type;
	f->no_type = ntypes == 0;
	f->dnstap = fstrm_control_match_field_content_type(c, (const uint8_t *)DNSTAP_CONTENT_TYPE,
							   strlen(DNSTAP_CONTENT_TYPE)) ==
		    fstrm_res_success;
	rc = FS_CONTROL;
out:
	fstrm_control_destroy(&c);
	return rc;
}

enum fs_result fs_buf_next(struct fs_buf *b, struct fs_frame *f, char *err, size_t errlen)
{
	const uint8_t *p = b->buf + b->pos;
	size_t have = b->len - b->pos;
	uint32_t len, clen;

	if (have < 4)
		return FS_MORE;
	len = get_be32(p);
	if (len) {
		if (len > b->max_frame) {
			set_err(err, errlen, "a frame of %u bytes at byte %llu (at most %zu)", len,
				(unsigned long long)b->bytes, b->max_frame);
			return FS_BAD;
		}
		if (have < 4 + (size_t)len)
			return FS_MORE;
		f->data = p + 4;
		f->len = len;
		b->pos += 4 + (size_t)len;
		b->bytes += 4 + (size_t)len;
		return FS_DATA;
	}
	if (have < 8)
		return FS_MORE;
	clen = get_be32(p + 4);
	if (clen < 4 || clen > FSTRM_CONTROL_FRAME_LENGTH_MAX) {
		set_err(err, errlen, "a control frame of %u bytes at byte %llu", clen,
			(unsigned long long)b->bytes);
		return FS_BAD;
	}
	if (have < 8 + (size_t)clen)
		return FS_MORE;
	b->pos += 8 + (size_t)clen;
	b->bytes += 8 + (size_t)clen;
	return decode_control(p + 8, clen, f, err, errlen);
}

size_t fs_control_encode(enum fs_control type, bool with_type, uint8_t *out)
{
	struct fstrm_control *c = fstrm_control_init();
	size_t len = FS_CONTROL_MAX;
	fstrm_res res;

	if (!c)
		return 0;
	res = fstrm_control_set_type(c, (fstrm_control_type)type);
	if (res == fstrm_res_success && with_type)
		res = fstrm_control_add_field_content_type(c, (const uint8_t *)DNSTAP_CONTENT_TYPE,
							   strlen(DNSTAP_CONTENT_TYPE));
	if (res == fstrm_res_success)
		res = fstrm_control_encode(c, out, &len, FSTRM_CONTROL_FLAG_WITH_HEADER);
	fstrm_control_destroy(&c);
	return res == fstrm_res_success ? len : 0;
}

bool fs_looks_like_start(const uint8_t *b, size_t len)
{
	return len >= FS_START_PEEK && get_be32(b) == 0 && get_be32(b + 4) >= 4 &&
	       get_be32(b + 4) <= FSTRM_CONTROL_FRAME_LENGTH_MAX && get_be32(b + 8) == FS_START;
}
