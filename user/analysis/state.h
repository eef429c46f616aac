/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The state file (--state, docs/state.md): an SQLite database that each
 * session folds what its detectors counted into, so that one-shot sessions
 * add up to weeks, and from which a session (or --report) loads that
 * history into its detectors before it starts.
 *
 * The stage sits beside the detectors in the pipeline:
 *   state_load(history -> detect) ... detect_add() per observation ->
 *   detect's tap -> this stage's session counts -> state_fold() (one
 *   transaction) at the end, and early when the counts reach their bound.
 * What is folded is only what this session counted (never the history it
 * loaded), so that sessions folding into one file at the same time each
 * add their own lookups.
 */
#ifndef DNSSNOOP_STATE_H
#define DNSSNOOP_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/detect.h"

/* PRAGMA application_id of our files: "DNSs". */
#define STATE_APPLICATION_ID 0x444e5373
/* PRAGMA user_version: the schema this build writes and reads (docs/state.md). */
#define STATE_SCHEMA_VERSION 1
#define STATE_DEFAULT_RETAIN 90 /* days */
#define STATE_BUSY_TIMEOUT_MS 60000 /* another session's fold, waited for */
#define STATE_DAY_NS	     (86400ULL * 1000000000ULL)
/*
 * A live root session's file without --state (docs/state.md, "Which
 * sessions use one"); the environment variable names another directory
 * (the test suite's, so that tests never share history).
 */
#define STATE_DEFAULT_DIR  "/var/lib/dnssnoop"
#define STATE_DEFAULT_NAME "state.db"
#define STATE_DIR_ENV	   "DNSSNOOP_STATE_DIR"
/* Session counts (client x target x day) held before they are folded early. */
#define STATE_DEFAULT_MAX_CELLS 400000
/* ... and lookup timestamps held per cell on average (8 bytes each), before the same. */
#define STATE_TIMES_PER_CELL 8

struct state_config {
	const char *path;
	bool read_only; /* --report: load only; the file must exist */
	uint64_t retain_days; /* days kept before the newest stored day (0: the default) */
	size_t max_cells; /* 0: STATE_DEFAULT_MAX_CELLS */
	const char *host; /* this host's name, recorded with each fold; may be NULL */
};

struct state;

/*
 * Open (creating it 0600, as output files are made: lib/outfile.h) or
 * refuse the state file. A file that is not an SQLite database, one of
 * another program, or of a newer schema is refused and left as it is.
 * NULL with one line naming the file in err.
 */
struct state *state_open(const struct state_config *cfg, char *err, size_t errlen);
void state_close(struct state *st);

/* What "now" is to first_seen: the session that loads the history, or the newest fold. */
enum state_now { STATE_NOW_SESSION, STATE_NOW_NEWEST_FOLD };

/*
 * Load the stored history into d (detect_load_*), heaviest pairs first so
 * that --max-entries keeps them; since_ns: only the days from the newest
 * stored lookup minus since_ns on (0: every stored day). The targets known
 * before now (every stored one, or those before the newest fold) go to
 * detect_load_known_target(). Returns the number of pairs loaded or -1
 * with a message in err.
 */
long state_load(struct state *st, struct detect *d, uint64_t since_ns, enum state_now now,
		char *err, size_t errlen);

/* From now on count what d counts (its tap), for state_fold. */
void state_attach(struct state *st, struct detect *d);

/*
 * Add the session's counts since the last fold to the file, in one
 * transaction, then prune days older than retain_days before the newest
 * stored day; the counts are then cleared. A failed fold leaves the file
 * as it was. 0, or -1 with one line naming the file in err (also for the
 * first failure of an early fold, which is kept until this call).
 */
int state_fold(struct state *st, char *err, size_t errlen);

/* Session counts not folded yet (client x target x day cells), for tests. */
size_t state_pending(const struct state *st);

#endif
