/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --top-live's full-screen view (ncurses): the tables of report/toplive.h
 * drawn once a second, and the keys that switch, sort, filter, pause and
 * quit (docs/output.md, "The live view"). The session calls
 * toplive_screen_service() from its loop (live: every poll; offline:
 * every item); it reads the keyboard without blocking and draws when due,
 * so the capture never waits for the terminal.
 *
 * The terminal is restored (endwin) by toplive_screen_close(), which the
 * session calls on every way out, and at exit() by a handler registered
 * at open, for paths that never reach the session's end.
 */
#ifndef DNSSNOOP_TOPLIVE_SCREEN_H
#define DNSSNOOP_TOPLIVE_SCREEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/toplive.h"

struct toplive_screen;

/* Standard input and output are a terminal the view can use. */
bool toplive_screen_possible(void);

/*
 * A view of t on the terminal (its database read now), which it takes
 * over at the first toplive_screen_service(). NULL: err says why.
 */
struct toplive_screen *toplive_screen_open(const struct toplive *t, char *err, size_t errlen);

/*
 * Keys read and, when due (a second since the last draw, or a key that
 * changed the view), the screen drawn; mono_ns is a monotonic clock
 * (coarse is enough). Cheap when called more often than every 50 ms.
 * Returns false once q was pressed.
 */
bool toplive_screen_service(struct toplive_screen *s, uint64_t mono_ns);

/* The terminal restored and s freed; NULL is fine. */
void toplive_screen_close(struct toplive_screen *s);

#endif
