// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Capabilities of the calling thread: see caps.h. */
#include "lib/caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Version 3 sets are two 32-bit words each (capabilities 0-31, 32-63). */
struct cap_sets {
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
};

static int cap_get(struct cap_sets *s)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};

	return syscall(SYS_capget, &h, s->d) < 0 ? -errno : 0;
}

static int cap_set(const struct cap_sets *s)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};

	return syscall(SYS_capset, &h, s->d) < 0 ? -errno : 0;
}

static uint64_t join(uint32_t lo, uint32_t hi)
{
	return (uint64_t)hi << 32 | lo;
}

uint64_t caps_permitted(void)
{
	struct cap_sets s;

	if (cap_get(&s) < 0)
		return 0;
	return join(s.d[0].permitted, s.d[1].permitted);
}

int caps_limit(uint64_t permitted, uint64_t effective)
{
	struct cap_sets s;
	uint64_t prm, eff;
	int ret = cap_get(&s);

	if (ret < 0)
		return ret;
	prm = permitted & join(s.d[0].permitted, s.d[1].permitted);
	eff = effective & prm;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		s.d[i].permitted = (uint32_t)(prm >> (32 * i));
		s.d[i].effective = (uint32_t)(eff >> (32 * i));
		s.d[i].inheritable = 0;
	}
	/* Ambient capabilities must be permitted and inheritable: clear them first. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	return cap_set(&s);
}

int caps_drop_bounding(uint64_t keep)
{
	for (int cap = 0; cap < 64; cap++) {
		if (keep & CAPS_BIT(cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL)
			break; /* past the last capability this kernel knows */
		return -errno;
	}
	return 0;
}

int caps_raise(int cap)
{
	struct cap_sets s;
	int word = cap / 32;
	uint32_t bit = UINT32_C(1) << (cap % 32);
	int ret = cap_get(&s);

	if (ret < 0)
		return ret;
	if (!(s.d[word].permitted & bit))
		return -EPERM;
	s.d[word].effective |= bit;
	return cap_set(&s);
}
