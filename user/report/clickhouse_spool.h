/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The --clickhouse sink's spool: batches the server did not take yet,
 * on disk, in the order they were put there, until they are sent. One
 * file per session in the spool directory (spool-<time>-<random>.dat,
 * mode 0600, flock'ed while its session runs); files of earlier sessions
 * that no running session holds are taken over at open and sent first,
 * oldest first. Everything is opened at open, so that a session that has
 * dropped its privileges (no file creation, no unlink) still appends and
 * reads: a fully sent file is truncated, and removed by the next open.
 *
 * A file is a sequence of batches, each a fixed header (magic, state,
 * table, row format, batch id, rows, length) and its body. The
 * state byte is rewritten in place: pending, ambiguous (an insert went
 * out and no answer came: the server is asked before it is sent again),
 * sent. A torn batch at a file's end (a crash while appending) is
 * ignored. Not thread-safe: the sink serialises calls.
 */
#ifndef DNSSNOOP_CLICKHOUSE_SPOOL_H
#define DNSSNOOP_CLICKHOUSE_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A batch body's rows. A file's headers before formats were kept say 0. */
enum ch_format { CH_FORMAT_JSON = 0, CH_FORMAT_ROWBINARY = 1 };

struct ch_spooled {
	uint64_t id; /* the batch id its rows carry */
	uint8_t table; /* the sink's table index */
	uint8_t format; /* enum ch_format: how its body's rows are written */
	bool ambiguous;
	uint32_t rows;
	char *body; /* malloc'd; the caller frees it */
	size_t len;
};

struct ch_spool;

/*
 * Open (make, 0700) dir, take over the files of sessions gone, start
 * this session's. max_bytes bounds every file of the directory together
 * (0: no bound). NULL with err set.
 */
struct ch_spool *ch_spool_open(const char *dir, uint64_t max_bytes, char *err, size_t errlen);
/* Close; this session's file removed when empty (if that is still allowed). */
void ch_spool_close(struct ch_spool *sp);

const char *ch_spool_dir(const struct ch_spool *sp);

/* Append a batch. 0, -ENOSPC over the bound, or -errno of the write. */
int ch_spool_append(struct ch_spool *sp, const struct ch_spooled *b);

/* Batches (and their rows) not sent yet, earlier sessions' included. */
uint64_t ch_spool_pending(const struct ch_spool *sp, uint64_t *rows);

/* The oldest batch not sent, read into b (body malloc'd). 1, 0 when none, -errno. */
int ch_spool_head(struct ch_spool *sp, struct ch_spooled *b);
/* The head batch was sent (or found in the server): the next one becomes the head. */
int ch_spool_head_sent(struct ch_spool *sp);
/* The head batch's insert went out without an answer. */
int ch_spool_head_ambiguous(struct ch_spool *sp);

#endif
