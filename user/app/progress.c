// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The -r progress line on a terminal. See progress.h. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/progress.h"
#include "lib/units.h"

/* "\r", then the text, then "erase to the end of the line" (what a shorter line leaves). */
#define ERASE_LINE "\033[K"

void progress_init(struct progress *p, int fd, const char *noun, uint64_t start_ns)
{
	*p = (struct progress){.fd = fd, .noun = noun, .start_ns = start_ns};
	/* Nothing for the first moment: a short run shows no line at all. */
	p->next_ns = start_ns + PROGRESS_EVERY_NS;
}

/* Bytes with a decimal unit, 3 significant digits or so: "950 B", "12.5 MB". */
static void fmt_bytes(char *buf, size_t len, double b)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	size_t u = 0;

	while (b >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
		b /= 1000;
		u++;
	}
	snprintf(buf, len, u && b < 100 ? "%.1f %s" : "%.0f %s", b, units[u]);
}

/* Seconds as "42s", "3m05s", "2h07m". */
static void fmt_duration(char *buf, size_t len, uint64_t s)
{
	if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60));
}

size_t progress_format(char *buf, size_t len, uint64_t elapsed_ns, uint64_t items, const char *noun,
		       uint64_t done, uint64_t total)
{
	double secs = (double)elapsed_ns / NS_PER_SEC;
	double rate = secs > 0 ? done / secs : 0;
	char d[16], t[16], r[16], left[32] = "?";
	unsigned int pct = total ? (unsigned int)(done * 100 / total) : 100;
	int n;

	fmt_bytes(d, sizeof(d), done);
	fmt_bytes(t, sizeof(t), total);
	fmt_bytes(r, sizeof(r), rate);
	if (rate > 0)
		fmt_duration(left, sizeof(left), (uint64_t)((total - done) / rate + 0.5));
	n = snprintf(buf, len, "dnssnoop: %u%% %s of %s, %llu %s, %s/s, %s left", pct, d, t,
		     (unsigned long long)items, noun, r, left);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

/* One write(2): the line must not be torn by another writer's buffered output. */
static void put(const struct progress *p, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(p->fd, s, n);

		if (w <= 0)
			return; /* a terminal that went away: nothing to report to */
		s += w;
		n -= (size_t)w;
	}
}

void progress_show(struct progress *p, uint64_t now_ns, uint64_t done, uint64_t total)
{
	char line[160];
	size_t n;

	if (p->fd < 0)
		return;
	line[0] = '\r';
	n = 1 + progress_format(line + 1, sizeof(line) - 1 - strlen(ERASE_LINE),
				now_ns - p->start_ns, p->items, p->noun, done, total);
	memcpy(line + n, ERASE_LINE, strlen(ERASE_LINE));
	put(p, line, n + strlen(ERASE_LINE));
	p->shown = true;
	p->next_ns = now_ns + PROGRESS_EVERY_NS;
}

void progress_clear(struct progress *p)
{
	static const char erase[] = "\r" ERASE_LINE;

	if (p->fd < 0 || !p->shown)
		return;
	put(p, erase, strlen(erase));
	p->shown = false;
}
