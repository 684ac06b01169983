/*
 * progress.h - a progress line on standard error, redrawn in place
 * ("\r"), at most once a megabyte:
 *   img-unpack: layer 1/3 [#########.....................]  31.2 / 95.0 MB  32%
 * Used by img-unpack (--progress, the default on a terminal).
 */
#ifndef MINIDOCK_PROGRESS_H
#define MINIDOCK_PROGRESS_H

#include <stdint.h>

struct progress {
	const char *what;   /* "layer 1/3" */
	int64_t total;      /* bytes expected, or -1: no bar, bytes only */
	int on;             /* 0: print nothing */
	uint64_t shown;
	int printed;
};

/* DONE bytes of TOTAL so far. */
void progress_show(struct progress *p, uint64_t done);
/* The end of the line (when on). */
void progress_end(struct progress *p);

#endif
