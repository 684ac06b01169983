/*
 * pull-layers.h - the blobs of an image fetched from a registry into an
 * OCI layout, a few at once (threads, each with its own connection), as
 * `docker pull` does (dockerd's max-concurrent-downloads is 3).  Each
 * blob goes to a temporary file, is checked against its digest and size
 * as it streams (registry.c), and is renamed into place only then.
 *
 * On a terminal one line per layer is redrawn in place:
 *   img-pull: layer 2/3 sha256:1f3a8c0d94e2: [=========>          ]  12.1 / 25.3 MB
 * elsewhere (a log, a pipe) one plain line per layer when it is done.
 * Read pthread_create(3), and console_codes(4) for the cursor moves.
 * Used by img-pull.
 */
#ifndef MINIDOCK_PULL_LAYERS_H
#define MINIDOCK_PULL_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "registry.h"

#define PULL_JOBS 3         /* blobs fetched at once, as dockerd */

struct pull_blobs {
	struct reg *reg;        /* the connection reg_open made (cloned per thread) */
	const char *layout;     /* the OCI layout the blobs go to */
	uint64_t max_size;      /* --max-size */
	int tty;                /* 1: lines redrawn in place; 0: plain lines */
	int quiet;              /* no line at all (--verbose says more) */
	int jobs;               /* at most this many at once (1: one after another) */
};

/*
 * The N blobs D (KIND "layer": named "layer I/N"; else KIND itself) into
 * the layout, each unless it is there already.  All fetched, 0; or -1 and
 * *WHY (malloc'd) names the first blob that failed: no blob half-written
 * is left (the ones fetched in full are kept: they are checked).
 */
int pull_blobs(const struct pull_blobs *pb, const struct img_desc *d, size_t n,
	       const char *kind, char **why);

#endif
