/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What --version prints: this build and the libraries it runs with. */
#ifndef DNSSNOOP_VERSION_H
#define DNSSNOOP_VERSION_H

#include <stdio.h>

#define DNSSNOOP_VERSION "0.1.0"

/*
 * "dnssnoop VERSION (git REV)", then one "LIBRARY VERSION" line per
 * library: what a bug report needs to say which build misbehaved.
 */
void version_print(FILE *f);

#endif
