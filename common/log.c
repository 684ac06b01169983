/*
 * log.c - one-line messages in the "TOOL: what failed: why" form, and the
 * --verbose trace that shows each kernel-level step.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidock.h"

const char *md_tool = "minidock";
int md_verbose;

void md_init(const char *tool)
{
	const char *v = getenv("MINIDOCK_VERBOSE");

	md_tool = tool;
	if (v && *v && strcmp(v, "0") != 0)
		md_verbose = 1;
}

static void vmessage(int errnum, const char *fmt, va_list ap)
{
	/* Build the line first so it reaches stderr in one write(2). */
	char line[1024];
	int n = snprintf(line, sizeof(line), "%s: ", md_tool);

	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (errnum)
		fprintf(stderr, "%s: %s\n", line, strerror(errnum));
	else
		fprintf(stderr, "%s\n", line);
}

void die(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vmessage(e, fmt, ap);
	va_end(ap);
	exit(EXIT_TOOL_FAILED);
}

void die_x(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(0, fmt, ap);
	va_end(ap);
	exit(EXIT_TOOL_FAILED);
}

void warn_errno(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vmessage(e, fmt, ap);
	va_end(ap);
	errno = e;
}

void warn_x(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(0, fmt, ap);
	va_end(ap);
}

void vlog(const char *fmt, ...)
{
	int e = errno;  /* a trace line must not disturb the caller's errno */
	va_list ap;

	if (!md_verbose)
		return;
	va_start(ap, fmt);
	vmessage(0, fmt, ap);
	va_end(ap);
	errno = e;
}

void print_version(void)
{
	printf("%s (minidock) %s\n", md_tool, MINIDOCK_VERSION);
}

int why_fail(char **why, const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	if (*why)
		return -1;      /* the first failure is the one to tell */
	va_start(ap, fmt);
	if (vasprintf(why, fmt, ap) < 0)
		*why = NULL;
	va_end(ap);
	errno = e;
	return -1;
}
