/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Capabilities of the calling thread, without libcap: capset(2) and the
 * prctl(2) bounding and ambient sets. Masks are 64-bit, bit N for
 * linux/capability.h's CAP_N (CAPS_BIT(CAP_NET_ADMIN)).
 */
#ifndef DNSSNOOP_CAPS_H
#define DNSSNOOP_CAPS_H

#include <stdint.h>

#define CAPS_BIT(cap) (UINT64_C(1) << (cap))

/* The permitted set, or 0 if it cannot be read. */
uint64_t caps_permitted(void);

/*
 * Permitted becomes permitted & what is permitted now, effective
 * effective & that; inheritable and ambient become empty. Returns 0 or
 * -errno.
 */
int caps_limit(uint64_t permitted, uint64_t effective);

/*
 * Remove every capability but keep from the bounding set. Needs
 * CAP_SETPCAP: returns -EPERM without it (the set is left as it was).
 */
int caps_drop_bounding(uint64_t keep);

/* Make cap effective if it is permitted; returns 0 or -errno. */
int caps_raise(int cap);

#endif
