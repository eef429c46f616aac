// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --top-live's screen: see toplive_screen.h. Layout, top to bottom: a
 * status line (time, window, total rate, PAUSED), the tabs (the current
 * one in brackets, so it shows without attributes too), the sort and the
 * filter, the column headers (the sorted one marked '*'), the rows, and a
 * line of keys (or the filter being typed).
 */
#include <ctype.h>
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fmt.h"
#include "lib/units.h"
#include "report/toplive_screen.h"

#define KEYS_EVERY_NS (50 * NS_PER_MSEC) /* the keyboard is looked at this often */
#define DRAW_EVERY_NS NS_PER_SEC
#define MAX_ROWS      256 /* rows drawn at most, whatever the terminal's height */
#define FILTER_MAX    64
#define KEY_ESC	      27
#define NUM_WIDTH     76 /* the numeric columns' width, after the key column */
#define MIN_KEY_WIDTH 16
#define OWNER_WIDTH   20 /* processes: the unit or container, inside the key column */

struct toplive_screen {
	const struct toplive *t;
	SCREEN *scr;
	enum toplive_view view;
	enum toplive_sort sort[TOPLIVE_NVIEWS];
	bool paused;
	bool grouped; /* 'u': processes by unit or container */
	bool editing; /* '/' typed: keys go to the filter until Enter or Esc */
	char filter[FILTER_MAX + 1]; /* applied */
	char edit[FILTER_MAX + 1]; /* being typed */
	uint64_t keys_at_ns, drawn_at_ns;
	struct toplive_row rows[MAX_ROWS];
};

static const char *const view_names[TOPLIVE_NVIEWS] = {
	[TOPLIVE_PROCESSES] = "Processes", [TOPLIVE_NAMES] = "Names",
	[TOPLIVE_SERVERS] = "Servers",	   [TOPLIVE_FAILING] = "Failing",
	[TOPLIVE_SLOWEST] = "Slowest",
};

static const char *const key_titles[TOPLIVE_NVIEWS] = {
	[TOPLIVE_PROCESSES] = "PROCESS", [TOPLIVE_NAMES] = "NAME",
	[TOPLIVE_SERVERS] = "SERVER",	 [TOPLIVE_FAILING] = "FAILING NAME",
	[TOPLIVE_SLOWEST] = "SLOW NAME",
};

static const char *const sort_names[TOPLIVE_NSORTS] = {
	[TOPLIVE_SORT_RATE] = "q/s", [TOPLIVE_SORT_FAILS] = "failures", [TOPLIVE_SORT_P50] = "p50",
	[TOPLIVE_SORT_P99] = "p99",  [TOPLIVE_SORT_KEY] = "key",
};

/* The one screen open, for the exit handler. */
static struct toplive_screen *open_screen;

bool toplive_screen_possible(void)
{
	return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
}

/* exit() from anywhere (a usage error deep down, a library): the terminal back first. */
static void restore_at_exit(void)
{
	toplive_screen_close(open_screen);
}

struct toplive_screen *toplive_screen_open(const struct toplive *t, char *err, size_t errlen)
{
	static bool handler;
	struct toplive_screen *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "dnssnoop: --top-live: out of memory");
		return NULL;
	}
	s->t = t;
	s->scr = newterm(NULL, stdout, stdin);
	if (!s->scr) {
		snprintf(err, errlen, "dnssnoop: --top-live: cannot use the terminal (TERM=%s)",
			 getenv("TERM") ? getenv("TERM") : "");
		free(s);
		return NULL;
	}
	for (int v = 0; v < TOPLIVE_NVIEWS; v++)
		s->sort[v] = toplive_default_sort(v);
	set_escdelay(25); /* Esc alone is a key here, not the start of a sequence to wait for */
	cbreak(); /* not raw: Ctrl-C still raises SIGINT, which ends the session */
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	curs_set(0);
	/*
	 * Back to the shell's modes until the first draw (which resumes the
	 * modes set above): what the start still says on stderr stays visible.
	 */
	endwin();
	open_screen = s;
	if (!handler)
		handler = atexit(restore_at_exit) == 0;
	return s;
}

void toplive_screen_close(struct toplive_screen *s)
{
	if (!s)
		return;
	endwin();
	delscreen(s->scr);
	if (open_screen == s)
		open_screen = NULL;
	free(s);
}

/* A latency as a column shows it: "0.85ms", "12.3ms", "1.25s"; "-" without one. */
static void fmt_latency(char *out, size_t len, bool has, uint64_t ns)
{
	if (!has)
		snprintf(out, len, "-");
	else if (ns < 10 * NS_PER_MSEC)
		snprintf(out, len, "%.2fms", (double)ns / 1e6);
	else if (ns < NS_PER_SEC)
		snprintf(out, len, "%.1fms", (double)ns / 1e6);
	else
		snprintf(out, len, "%.2fs", (double)ns / 1e9);
}

/* Bytes a terminal would act on (a process may name itself with escapes) become '?'. */
static void printable(char *s)
{
	for (; *s; s++)
		if (!isprint((unsigned char)*s))
			*s = '?';
}

static int key_width(void)
{
	return COLS - NUM_WIDTH > MIN_KEY_WIDTH ? COLS - NUM_WIDTH : MIN_KEY_WIDTH;
}

/*
 * The key column at line y; the processes view gives the last OWNER_WIDTH
 * of it to the unit or container, so that the numbers stay where they are.
 */
static void print_key(int y, enum toplive_view v, const char *key, const char *owner)
{
	int w = key_width() - 1;

	if (v != TOPLIVE_PROCESSES) {
		mvprintw(y, 0, "%-*.*s ", w, w, key);
		return;
	}
	w = w - OWNER_WIDTH - 1 > MIN_KEY_WIDTH / 2 ? w - OWNER_WIDTH - 1 : MIN_KEY_WIDTH / 2;
	mvprintw(y, 0, "%-*.*s %-*.*s ", w, w, key, OWNER_WIDTH, OWNER_WIDTH, owner);
}

static void draw_status(struct toplive_screen *s)
{
	char hms[32] = "--:--:--";
	uint64_t now = toplive_now(s->t);

	if (now)
		*fmt_hms(hms, now) = 0;
	hms[8] = 0; /* whole seconds */
	attron(A_REVERSE);
	mvhline(0, 0, ' ', COLS);
	mvprintw(0, 0, " dnssnoop --top-live  %s  window %ds  %.1f queries/s%s", hms,
		 TOPLIVE_WINDOW, toplive_total_qps(s->t), s->paused ? "  [PAUSED]" : "");
	attroff(A_REVERSE);
}

static void draw_tabs(struct toplive_screen *s)
{
	move(1, 0);
	for (int v = 0; v < TOPLIVE_NVIEWS; v++) {
		bool cur = v == (int)s->view;

		if (cur)
			attron(A_BOLD);
		printw(cur ? "[%d %s]" : " %d %s ", v + 1, view_names[v]);
		if (cur)
			attroff(A_BOLD);
		addch(' ');
	}
	printw("  sort: %s", sort_names[s->sort[s->view]]);
	if (s->grouped && s->view == TOPLIVE_PROCESSES)
		printw("  by unit/container");
	if (s->filter[0])
		printw("  filter: %s", s->filter);
}

/* A column title, with '*' when the view is sorted by it. */
static void title(char *out, size_t len, const char *name, bool sorted)
{
	snprintf(out, len, "%s%s", name, sorted ? "*" : "");
}

static void draw_header(struct toplive_screen *s)
{
	enum toplive_sort by = s->sort[s->view];
	char k[32], q[16], p50[16], p99[16], f[16];

	title(k, sizeof(k), key_titles[s->view], by == TOPLIVE_SORT_KEY);
	title(q, sizeof(q), "Q/S", by == TOPLIVE_SORT_RATE);
	title(f, sizeof(f), "FAIL", by == TOPLIVE_SORT_FAILS);
	title(p50, sizeof(p50), "P50", by == TOPLIVE_SORT_P50);
	title(p99, sizeof(p99), "P99", by == TOPLIVE_SORT_P99);
	attron(A_UNDERLINE);
	if (s->grouped && s->view == TOPLIVE_PROCESSES) {
		title(k, sizeof(k), "UNIT/CONTAINER", by == TOPLIVE_SORT_KEY);
		print_key(3, s->view, k, "PROCESSES");
	} else {
		print_key(3, s->view, k, "UNIT/CONTAINER");
	}
	printw("%8s %7s %7s %8s %8s %6s %6s %8s %8s", q, "QUERIES", "NOERROR", "NXDOMAIN",
	       "SERVFAIL", "OTHER", f, p50, p99);
	attroff(A_UNDERLINE);
}

static void draw_row(int y, enum toplive_view v, const struct toplive_row *r)
{
	char key[TOPLIVE_KEY_TEXT], owner[TOPLIVE_OWNER_TEXT], p50[16], p99[16];

	memcpy(key, r->key, sizeof(key));
	memcpy(owner, r->owner, sizeof(owner));
	printable(key);
	printable(owner);
	fmt_latency(p50, sizeof(p50), r->timed, r->p50_ns);
	fmt_latency(p99, sizeof(p99), r->timed, r->p99_ns);
	print_key(y, v, key, owner);
	printw("%8.1f %7llu %7llu %8llu %8llu %6llu %6llu %8s %8s", r->qps,
	       (unsigned long long)r->queries, (unsigned long long)r->rc[TOPLIVE_NOERROR],
	       (unsigned long long)r->rc[TOPLIVE_NXDOMAIN],
	       (unsigned long long)r->rc[TOPLIVE_SERVFAIL],
	       (unsigned long long)r->rc[TOPLIVE_OTHER], (unsigned long long)r->fails, p50, p99);
}

static void draw_footer(struct toplive_screen *s, size_t shown)
{
	move(LINES - 1, 0);
	clrtoeol();
	if (s->editing) {
		printw("filter: %s_   (Enter applies, Esc clears)", s->edit);
		return;
	}
	printw("%zu of %zu entries   Tab/1-5 table  s sort  u by unit  p pause  / filter  "
	       "Esc clear  q quit",
	       shown, toplive_entries(s->t, s->view));
}

static void draw(struct toplive_screen *s)
{
	int room = LINES - 5; /* status, tabs, blank, header ... footer */
	size_t n;

	if (room < 0)
		room = 0;
	if (room > MAX_ROWS)
		room = MAX_ROWS;
	if (s->grouped && s->view == TOPLIVE_PROCESSES)
		n = toplive_unit_rows(s->t, s->sort[s->view], s->filter, s->rows, (size_t)room);
	else
		n = toplive_rows(s->t, s->view, s->sort[s->view], s->filter, s->rows, (size_t)room);
	erase();
	draw_status(s);
	draw_tabs(s);
	draw_header(s);
	for (size_t i = 0; i < n; i++)
		draw_row(4 + (int)i, s->view, &s->rows[i]);
	draw_footer(s, n);
	refresh();
}

/* A key while typing the filter; true: the screen should show it. */
static bool edit_key(struct toplive_screen *s, int c)
{
	size_t len = strlen(s->edit);

	if (c == '\n' || c == '\r' || c == KEY_ENTER) {
		memcpy(s->filter, s->edit, sizeof(s->filter));
		s->editing = false;
	} else if (c == KEY_ESC) {
		s->filter[0] = s->edit[0] = 0;
		s->editing = false;
	} else if (c == KEY_BACKSPACE || c == 127 || c == 8) {
		if (len)
			s->edit[len - 1] = 0;
	} else if (c >= 0 && c < 256 && isprint(c) && len < FILTER_MAX) {
		s->edit[len] = (char)c;
		s->edit[len + 1] = 0;
	} else {
		return false;
	}
	return true;
}

/* A key of the view; false once q was pressed. *redraw: the screen should show it. */
static bool view_key(struct toplive_screen *s, int c, bool *redraw)
{
	*redraw = true;
	if (c == 'q' || c == 'Q')
		return false;
	if (c == '\t')
		s->view = (s->view + 1) % TOPLIVE_NVIEWS;
	else if (c == KEY_BTAB)
		s->view = (s->view + TOPLIVE_NVIEWS - 1) % TOPLIVE_NVIEWS;
	else if (c >= '1' && c < '1' + TOPLIVE_NVIEWS)
		s->view = (enum toplive_view)(c - '1');
	else if (c == 's')
		s->sort[s->view] = (s->sort[s->view] + 1) % TOPLIVE_NSORTS;
	else if (c == 'p')
		s->paused = !s->paused;
	else if (c == 'u')
		s->grouped = !s->grouped;
	else if (c == '/') {
		s->editing = true;
		memcpy(s->edit, s->filter, sizeof(s->edit));
	} else if (c == KEY_ESC)
		s->filter[0] = 0;
	else if (c != KEY_RESIZE)
		*redraw = false;
	return true;
}

/*
 * Every key waiting. While paused only the pause key redraws (so the
 * counts on screen stay those of the moment p was pressed); other keys
 * take effect and show once the view runs again.
 */
static bool read_keys(struct toplive_screen *s, bool *redraw)
{
	int c;

	while ((c = getch()) != ERR) {
		bool was_paused = s->paused, changed;

		if (s->editing)
			changed = edit_key(s, c);
		else if (!view_key(s, c, &changed))
			return false;
		if (changed && (!was_paused || !s->paused))
			*redraw = true;
	}
	return true;
}

bool toplive_screen_service(struct toplive_screen *s, uint64_t mono_ns)
{
	bool redraw = false;

	if (mono_ns - s->keys_at_ns < KEYS_EVERY_NS)
		return true;
	s->keys_at_ns = mono_ns;
	if (!read_keys(s, &redraw))
		return false;
	if (!s->paused && mono_ns - s->drawn_at_ns >= DRAW_EVERY_NS)
		redraw = true;
	if (redraw) {
		s->drawn_at_ns = mono_ns;
		draw(s);
	}
	return true;
}
