/*
 * parse.c - numbers and sizes from the command line, checked whole; the
 * options every image tool ends its getopt loop with; a string hash.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "minidock.h"

int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s)) {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max) {
		errno = errno ? errno : (*end ? EINVAL : ERANGE);
		return -1;
	}
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v, mult = 1;
	char *end;

	if (!s || !isdigit((unsigned char)*s)) {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mult = 1ULL << 10; end++; break;
	case 'm': case 'M': mult = 1ULL << 20; end++; break;
	case 'g': case 'G': mult = 1ULL << 30; end++; break;
	default: errno = EINVAL; return -1;
	}
	/* Accept "64M" and "64MB"/"64mb" alike, as docker does. */
	if (mult > 1 && (*end == 'b' || *end == 'B'))
		end++;
	if (*end) {
		errno = EINVAL;
		return -1;
	}
	if (v > UINT64_MAX / mult) {
		errno = ERANGE;
		return -1;
	}
	*out = v * mult;
	return 0;
}

/* FNV-1a (Fowler, Noll, Vo): multiply and xor, one byte at a time. */
uint64_t hash_str(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

uint64_t size_option(const char *opt, const char *arg)
{
	uint64_t v;

	if (parse_size(arg, &v) < 0 || v == 0)
		die_x("%s %s: not a size (like 512M or 2G)", opt, arg);
	return v;
}

void common_option(int c, void (*usage)(FILE *out))
{
	switch (c) {
	case 'v': md_verbose = 1; return;
	case 'h': usage(stdout); exit(0);
	case 'V': print_version(); exit(0);
	default:
		fprintf(stderr, "Try '%s --help'.\n", md_tool);
		exit(EXIT_TOOL_FAILED);
	}
}
