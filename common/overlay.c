/*
 * overlay.c - the options string of an overlayfs mount (used by run).
 *
 * overlayfs shows several directories as one: the lower ones, read-only,
 * stacked (the first listed is on top), and one upper directory that
 * receives every write; a file changed is first copied up, a file deleted
 * is hidden by a whiteout.  workdir is overlayfs's scratch space, on the
 * same filesystem as upperdir.  So one copy of an image's layers serves
 * every container, each with an upper layer of its own.  See
 * Documentation/filesystems/overlayfs.rst and mount(2).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "minidock.h"
#include "overlay.h"

/* mount(2) copies at most a page of options. */
#define OPTIONS_MAX 4000

char *overlay_options(char *const layers[], size_t n, const char *upper, const char *work)
{
	size_t i, len = 64 + strlen(upper) + strlen(work);
	char *opts, *p;

	for (i = 0; i < n; i++) {
		if (strpbrk(layers[i], ":,")) {
			errno = EINVAL;
			return NULL;
		}
		len += strlen(layers[i]) + 1;
	}
	if (strpbrk(upper, ":,") || strpbrk(work, ":,")) {
		errno = EINVAL;
		return NULL;
	}
	if (len > OPTIONS_MAX) {
		errno = E2BIG;
		return NULL;
	}
	/* lowerdir lists the layers top first: the opposite of their order. */
	opts = p = xmalloc(len);
	p += sprintf(p, "lowerdir=");
	for (i = n; i-- > 0; )
		p += sprintf(p, "%s%s", layers[i], i ? ":" : "");
	sprintf(p, ",upperdir=%s,workdir=%s", upper, work);
	return opts;
}
