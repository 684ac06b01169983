/*
 * progress.c - a progress line on standard error.  See progress.h.
 */
#include <stdio.h>
#include <string.h>

#include "minidock.h"
#include "progress.h"

void progress_show(struct progress *p, uint64_t done)
{
	if (!p->on || (p->printed && (done == p->shown ||
	    (done - p->shown < (1 << 20) && done != (uint64_t)p->total))))
		return;
	p->printed = 1;
	p->shown = done;
	if (p->total > 0) {
		int width = 30, full = (int)((double)width * done / p->total);
		char bar[32];

		if (full > width)
			full = width;
		memset(bar, '#', (size_t)full);
		memset(bar + full, '.', (size_t)(width - full));
		bar[width] = '\0';
		fprintf(stderr, "\r%s: %s [%s] %5.1f / %.1f MB %3d%%", md_tool, p->what,
			bar, done / 1e6, p->total / 1e6, (int)(100.0 * done / p->total));
	} else
		fprintf(stderr, "\r%s: %s  %5.1f MB", md_tool, p->what, done / 1e6);
}

void progress_end(struct progress *p)
{
	if (p->on)
		fputc('\n', stderr);
}
