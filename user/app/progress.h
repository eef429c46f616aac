/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A one-line progress report of a long -r run on a terminal: bytes read of
 * the inputs' total, items read, the rate and the time left, redrawn in
 * place a few times a second and erased at the end.
 */
#ifndef DNSSNOOP_PROGRESS_H
#define DNSSNOOP_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Redraws at most this often: often enough to look alive, cheap anyway. */
#define PROGRESS_EVERY_NS (250ULL * 1000 * 1000)

struct progress {
	int fd; /* the terminal; -1: off */
	const char *noun; /* what an item is: "packets", "records" */
	uint64_t start_ns, next_ns; /* the coarse clock: the start, the next redraw */
	uint64_t items;
	bool shown; /* a line is on the terminal, to be erased */
};

/* Off (fd -1) or on from now (start_ns: the coarse monotonic clock). */
void progress_init(struct progress *p, int fd, const char *noun, uint64_t start_ns);

/* One more item; true when a redraw is due (the caller then measures bytes). */
static inline bool progress_item(struct progress *p, uint64_t now_ns)
{
	p->items++;
	return p->fd >= 0 && now_ns >= p->next_ns;
}

/* Draw the line for done of total bytes read now. */
void progress_show(struct progress *p, uint64_t now_ns, uint64_t done, uint64_t total);

/* Erase the line, if any: before other messages on the terminal, and at the end. */
void progress_clear(struct progress *p);

/*
 * The line's text (no control characters), e.g. "dnssnoop: 42% 118 MB of
 * 282 MB, 1523456 packets, 96.1 MB/s, 2s left". Returns its length.
 */
size_t progress_format(char *buf, size_t len, uint64_t elapsed_ns, uint64_t items, const char *noun,
		       uint64_t done, uint64_t total);

#endif
