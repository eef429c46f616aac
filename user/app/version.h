/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What --version prints: this build and the libraries it runs with. */
#ifndef DNSSNOOP_VERSION_H
#define DNSSNOOP_VERSION_H

#include <stdio.h>

/*
 * "dnssnoop VERSION (git REV)", then one "LIBRARY VERSION" line per
 * library: what a bug report needs to say which build misbehaved.
 */
void version_print(FILE *f);

/*
 * "dnssnoop VERSION": how the tracer names itself to other programs (the
 * version field of the dnstap it writes).
 */
const char *version_name(void);

#endif
