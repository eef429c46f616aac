// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dnssnoop: trace every DNS message on this host, with the process behind
 * it. The command line (app/cli.c), then one session (app/session.c).
 */
#include "app/cli.h"
#include "app/session.h"

int main(int argc, char **argv)
{
	struct options o;
	int rc;

	cli_parse(argc, argv, &o);
	rc = session_run(&o);
	cli_free(&o);
	return rc;
}
