/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The command line's one table: every flag with its argument, its help
 * and how a shell completes it. The parser (cli.c), --help, the man page's
 * OPTIONS section and the bash completion (both written by tools/cli-doc
 * at build time) are all made from it, so none can miss a flag.
 */
#ifndef DNSSNOOP_CLI_OPTIONS_H
#define DNSSNOOP_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Flags without a short letter: getopt values past any character. */
enum cli_long_only {
	OPT_FORMAT = 256,
	OPT_COMM,
	OPT_CGROUP,
	OPT_PORT,
	OPT_SNAPLEN,
	OPT_TIMEOUT,
	OPT_RINGBUF_MB,
	OPT_MAX_PENDING,
	OPT_SUMMARY,
	OPT_NO_EVENTS,
	OPT_INTERVAL,
	OPT_TOP,
	OPT_MAX_ENTRIES,
	OPT_DETECT,
	OPT_NO_DETECT,
	OPT_MIN_LOOKUPS,
	OPT_EXCLUSIVE_SHARE,
	OPT_MIN_CLIENTS,
	OPT_TZ,
	OPT_BUSINESS_HOURS,
	OPT_SILENCE,
	OPT_REPLACEMENT_WINDOW,
	OPT_POPULATION_WINDOW,
	OPT_MIN_REPEAT,
	OPT_MIN_SPREAD,
	OPT_TIME_RECORDS,
	OPT_FIRST_SEEN,
	OPT_HOOK,
	OPT_TC_ATTACH,
	OPT_SECCOMP,
	OPT_MAX_LINE_BYTES,
	OPT_STATE,
	OPT_NO_STATE,
	OPT_RETAIN,
	OPT_REPORT,
	OPT_SINCE,
	OPT_FROM_CLICKHOUSE,
	OPT_HOSTS,
	OPT_CLICKHOUSE,
	OPT_CLICKHOUSE_SPOOL,
	OPT_CLICKHOUSE_SPOOL_MB,
	OPT_DNSTAP_SOCKET,
	OPT_DNSTAP_OUT,
	OPT_METRICS,
	OPT_NAME,
	OPT_RCODE,
	OPT_QTYPE,
	OPT_DIR,
	OPT_SLOWER_THAN,
	OPT_CLIENT,
	OPT_SERVER,
	OPT_UNIT,
	OPT_CONTAINER,
	OPT_UNANSWERED,
	OPT_FILTER_STATS,
	OPT_TOP_LIVE,
	OPT_PACE,
};

/* What a shell offers for an option's argument. */
enum cli_complete {
	CLI_COMPLETE_NONE, /* free text: nothing to offer */
	CLI_COMPLETE_FILE,
	CLI_COMPLETE_USER,
	CLI_COMPLETE_IFACE,
	CLI_COMPLETE_PID,
	CLI_COMPLETE_WORDS, /* the option's words (choices, or hints for a list) */
};

struct cli_option {
	int id; /* getopt's value: the short letter, or an OPT_ value */
	const char *name; /* long name; NULL: a heading (help is its text) */
	const char *arg; /* the argument's name in the help; NULL: none */
	const char *help; /* one paragraph, wrapped when printed */
	bool live_only; /* refused with -r: only a live capture has it */
	enum cli_complete complete;
	/* NULL-terminated: the values parsed (a choice) or offered (a hint) */
	const char *const *words;
	bool choice; /* words are the only values the parser takes */
};

extern const struct cli_option cli_options[];
extern const size_t cli_noptions;

/* The usage lines that open --help and the man page's SYNOPSIS. */
extern const char *const cli_usage_lines[];
/* What the program does, in a sentence or two (--help and the man page). */
extern const char cli_summary[];

/* The entry of option id, or NULL. */
const struct cli_option *cli_option_find(int id);

/* The index of arg among a choice option's words, or -1. */
int cli_choice_index(const struct cli_option *opt, const char *arg);

/* --help: the usage, the summary and every option, wrapped to 80 columns. */
void cli_help_print(FILE *f);

#endif
