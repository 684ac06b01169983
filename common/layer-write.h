/*
 * layer-write.h - a directory in overlayfs form (the upper directory of a
 * build step, or a layer img-unpack --layers stored) written as an OCI
 * layer: a tar (libarchive, pax), gzip (zlib), and its two digests.
 * Read tar(5), the OCI image spec's layer.md ("Whiteouts") and the
 * kernel's Documentation/filesystems/overlayfs.rst.  Used by img-build.
 *
 *   overlayfs upper directory           OCI layer
 *   c--------- 0,0  etc/motd       ->   etc/.wh.motd        (deleted)
 *   trusted.overlay.opaque="y" on  ->   tmp/.wh..wh..opq    (emptied)
 *   the directory tmp/
 */
#ifndef MINIDOCK_LAYER_WRITE_H
#define MINIDOCK_LAYER_WRITE_H

#include <stdint.h>

#include "digest.h"

struct layer_blob {
	char diff_id[DIGEST_LEN];   /* sha256 of the tar: the config's rootfs.diff_ids */
	char digest[DIGEST_LEN];    /* sha256 of the tar.gz: its name, the manifest's */
	int64_t size;               /* bytes of the tar.gz */
	uint64_t entries;
};

/*
 * Write the tree DIR as a gzip'd tar into BLOBS/<hex of its digest>
 * (through a temporary file and rename(2)).  Entries in name order, owners
 * by number, every mtime clamped to EPOCH (SOURCE_DATE_EPOCH, or 0), no
 * atime, ctime nor extended attribute: the same tree gives the same
 * bytes, so the same digest.  0, or -1 with *WHY (malloc'd).
 */
int layer_write(const char *dir, const char *blobs, int64_t epoch, struct layer_blob *out,
		char **why);

#endif
