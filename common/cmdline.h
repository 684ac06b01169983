/*
 * cmdline.h - the end of a tool's option parsing, where run and
 * img-build do the same: --help prints the usage, --version the version,
 * and both exit 0; a bad option says why (or "Try 'TOOL --help'.") and
 * exits 125, as die() does.  For cmd/ files only, as die().  Used by run
 * and img-build.
 */
#ifndef MINIDOCK_CMDLINE_H
#define MINIDOCK_CMDLINE_H

/* What an option parser returns besides 0 and -1 (RUNOPTS_HELP and
 * BUILDOPTS_HELP are these). */
enum { CMDLINE_HELP = 1, CMDLINE_VERSION = 2 };

/*
 * R, what the parser returned: CMDLINE_HELP (print USAGE) or
 * CMDLINE_VERSION: exit 0; -1: print WHY, the parser's message (or, when
 * NULL, where to read the usage), exit 125; 0: return.
 */
void cmdline_end(int r, const char *usage, const char *why);

#endif
