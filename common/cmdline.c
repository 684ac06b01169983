/*
 * cmdline.c - the end of run's and img-build's option parsing: --help,
 * --version, a bad option (cmdline.h).  Exits, as die() does: for cmd/
 * files only.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmdline.h"
#include "minidock.h"

void cmdline_end(int r, const char *usage, const char *why)
{
	if (r == CMDLINE_HELP || r == CMDLINE_VERSION) {
		if (r == CMDLINE_HELP)
			fputs(usage, stdout);
		else
			print_version();
		exit(0);
	}
	if (r < 0 && !why) {
		fprintf(stderr, "Try '%s --help'.\n", md_tool);
		exit(EXIT_TOOL_FAILED);
	}
	if (r < 0)
		die_x("%s", why);
}
