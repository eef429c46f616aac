// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Writes what is made from the command line's table (user/app/cli_options.c)
 * at build time:
 *
 *   cli-doc man TEMPLATE   the man page: TEMPLATE with @OPTIONS@ replaced by
 *                          the OPTIONS entries and @VERSION@ by the version
 *   cli-doc bash           the bash completion script
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli_options.h"
#include "app/version.h"

/* Text as roff reads it back: \ and - escaped, no control character first. */
static void roff_text(const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", stdout);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", stdout);
		else if (*s == '-')
			fputs("\\-", stdout);
		else
			putchar(*s);
	}
}

static void man_option(const struct cli_option *o)
{
	if (!o->name) {
		fputs(".SS \"", stdout);
		roff_text(o->help);
		fputs("\"\n", stdout);
		return;
	}
	fputs(".TP\n", stdout);
	if (o->id < 256)
		printf("\\fB\\-%c\\fR, ", o->id);
	fputs("\\fB\\-\\-", stdout);
	roff_text(o->name);
	fputs("\\fR", stdout);
	if (o->arg) {
		fputs(" \\fI", stdout);
		roff_text(o->arg);
		fputs("\\fR", stdout);
	}
	putchar('\n');
	roff_text(o->help);
	putchar('\n');
}

static void man_options(void)
{
	for (size_t i = 0; i < cli_noptions; i++)
		man_option(&cli_options[i]);
}

/* Copy the template, with its @OPTIONS@ line and @VERSION@ words filled. */
static int man_page(const char *template)
{
	FILE *f = fopen(template, "r");
	char line[4096];

	if (!f) {
		perror(template);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *v = strstr(line, "@VERSION@");

		if (!strcmp(line, "@OPTIONS@\n"))
			man_options();
		else if (v)
			printf("%.*s%s%s", (int)(v - line), line, DNSSNOOP_VERSION,
			       v + strlen("@VERSION@"));
		else
			fputs(line, stdout);
	}
	fclose(f);
	return 0;
}

/* "-d|--duration": the words that name option o, as a case pattern. */
static void bash_names(const struct cli_option *o)
{
	if (o->id < 256)
		printf("-%c|", o->id);
	printf("--%s", o->name);
}

/* The case arm that completes the argument of options with this kind. */
static void bash_arm(enum cli_complete kind, const char *action)
{
	int n = 0;

	for (size_t i = 0; i < cli_noptions; i++) {
		const struct cli_option *o = &cli_options[i];

		if (!o->name || !o->arg || o->complete != kind)
			continue;
		fputs(n++ ? "|" : "\t", stdout);
		bash_names(o);
	}
	if (n)
		printf(")\n\t\t%s\n\t\treturn\n\t\t;;\n", action);
}

static void bash_word_arms(void)
{
	for (size_t i = 0; i < cli_noptions; i++) {
		const struct cli_option *o = &cli_options[i];

		if (!o->name || o->complete != CLI_COMPLETE_WORDS)
			continue;
		putchar('\t');
		bash_names(o);
		fputs(")\n\t\tCOMPREPLY=($(compgen -W '", stdout);
		for (int w = 0; o->words[w]; w++)
			printf("%s%s", w ? " " : "", o->words[w]);
		fputs("' -- \"$cur\"))\n\t\treturn\n\t\t;;\n", stdout);
	}
}

static int bash_completion(void)
{
	puts("# bash completion for dnssnoop(8), made from its option table by tools/cli-doc");
	puts("_dnssnoop()\n{\n\tlocal cur prev words cword\n\t_init_completion || return\n");
	puts("\tcase $prev in");
	bash_arm(CLI_COMPLETE_FILE, "_filedir");
	bash_arm(CLI_COMPLETE_USER, "COMPREPLY=($(compgen -u -- \"$cur\"))");
	bash_arm(CLI_COMPLETE_IFACE, "_available_interfaces");
	bash_arm(CLI_COMPLETE_PID, "_pids");
	bash_word_arms();
	/* Any other option with an argument: free text, nothing to offer. */
	bash_arm(CLI_COMPLETE_NONE, ":");
	puts("\tesac\n");
	fputs("\tif [[ $cur == -* ]]; then\n\t\tCOMPREPLY=($(compgen -W '", stdout);
	for (size_t i = 0, n = 0; i < cli_noptions; i++) {
		const struct cli_option *o = &cli_options[i];

		if (!o->name)
			continue;
		if (o->id < 256)
			printf("%s-%c", n++ ? " " : "", o->id);
		printf("%s--%s", n++ ? " " : "", o->name);
	}
	puts("' -- \"$cur\"))\n\t\treturn\n\tfi");
	puts("} &&\n\tcomplete -F _dnssnoop dnssnoop");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "man"))
		return man_page(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "bash"))
		return bash_completion();
	fprintf(stderr, "usage: cli-doc man TEMPLATE | cli-doc bash\n");
	return 2;
}
