/*
 * layer.h - one layer of an image applied to a directory: its tar entries
 * created there, its whiteouts deleting what the layers below made.
 * Read tar(5), openat2(2), and the OCI image spec's layer.md.
 * Used by img-unpack.  (common/layer.c reads top-down from
 * img_apply_layer.)
 */
#ifndef MINIDOCK_LAYER_H
#define MINIDOCK_LAYER_H

#include <stdint.h>

#include "digest.h"
#include "image-source.h"

struct img_apply {
	/* in */
	int rootfd;             /* the directory to unpack into (O_DIRECTORY) */
	int overlay;            /* whiteouts in overlayfs form (--layers) */
	uint64_t max_size;      /* bound on the uncompressed size (bombs) */
	const char *what;       /* "layer 2/3" for messages */
	void (*progress)(uint64_t done, void *arg);
	void *progress_arg;
	/* out */
	char digest[DIGEST_LEN];    /* sha256 of the blob as stored */
	char diff_id[DIGEST_LEN];   /* sha256 of the uncompressed tar */
	char compression[16];   /* "gzip", "zstd", "none"... */
	uint64_t entries;
};

/*
 * Read layer R (compressed or not: detected by content) and apply its
 * entries below A->rootfd, never outside it: every path is resolved with
 * openat2(RESOLVE_IN_ROOT), nothing is opened through a symlink at the
 * last component, "..", absolute names and bad whiteouts are refused.
 * Reads R to its end, and fills A->digest and A->diff_id.  -1 on failure
 * (img_error says why).
 */
int img_apply_layer(struct img_reader *r, struct img_apply *a);

#endif
