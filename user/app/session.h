/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* One tracing session, from opening the source to the last record. */
#ifndef DNSSNOOP_SESSION_H
#define DNSSNOOP_SESSION_H

#include "app/cli.h"

/*
 * Open the source (live, or the -r inputs) and the stages, run until the
 * session ends, write what is left and the capture_stats record. Returns
 * the exit status: 0, or 1 when the start failed or an input could not be
 * read.
 */
int session_run(struct options *o);

#endif
