/*
 * decompress.h - the bytes of a layer blob, decompressed (gzip, zstd, xz,
 * bzip2 or none, found by content) and hashed (the layer's diff_id) by a
 * thread of its own, handed to libarchive's tar reader through
 * decompress_read().  Speed: see bench/README.md, "img-unpack".
 * Read archive_read_open(3), pthread_cond_wait(3).
 * Used by img-unpack (common/layer.c).
 */
#ifndef MINIDOCK_DECOMPRESS_H
#define MINIDOCK_DECOMPRESS_H

#include <stdint.h>

#include <archive.h>

#include "digest.h"
#include "image-source.h"

struct decompress;

/*
 * Start decompressing blob IN.  Fail once more than MAX_SIZE bytes come
 * out (0: no bound): a few KB of gzip can expand to terabytes.  WHAT
 * names the layer in messages; PROGRESS (or NULL) is called with the blob
 * bytes read so far, in the caller's thread.  NULL on failure (img_error).
 */
struct decompress *decompress_start(struct img_reader *in, uint64_t max_size, const char *what,
				    void (*progress)(uint64_t done, void *arg), void *arg);
/* "gzip", "zstd"... or "none". */
const char *decompress_name(const struct decompress *d);
/* The read callback of archive_read_open(3), with D as its client data. */
la_ssize_t decompress_read(struct archive *tar, void *d, const void **buf);
/* Why the thread stopped, or NULL while it has not failed. */
const char *decompress_error(struct decompress *d);
/* Read what is left to the end (so that both digests cover every byte),
 * then the sha256 of the decompressed bytes.  -1 on failure (img_error). */
int decompress_finish(struct decompress *d, char diff_id[DIGEST_LEN]);
/* Stop the thread (if still running) and free D. */
void decompress_free(struct decompress *d);

#endif
