/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* One tracing session, from opening the source to the last record. */
#ifndef DNSSNOOP_SESSION_H
#define DNSSNOOP_SESSION_H

#include "app/cli.h"

/* Exit status: an output (-o, -w, standard output) could not be opened or written. */
#define SESSION_EXIT_OUTPUT 3
/* Exit status: the state file (--state) was refused or could not be folded into. */
#define SESSION_EXIT_STATE 4

/*
 * Open the source (live, or the -r inputs), then the output files, and the
 * stages; run until the session ends, write what is left and the
 * capture_stats record. Returns the exit status (docs/output.md): 0; 1
 * when the start failed or an input could not be read;
 * SESSION_EXIT_OUTPUT when an output could not be opened or written;
 * SESSION_EXIT_STATE when the state file was refused or a fold failed
 * (the session's output is complete before the fold).
 */
int session_run(struct options *o);

#endif
