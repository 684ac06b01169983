/*
 * imagestore.h - where pulled images are kept: one OCI image layout,
 * md_lib_dir()/oci (the same layout `skopeo copy ... oci:DIR` writes, so
 * skopeo and umoci read it too):
 *
 *   oci/oci-layout            {"imageLayoutVersion": "1.0.0"}
 *   oci/index.json            one manifest descriptor per image, named by
 *                             the annotation org.opencontainers.image.ref.name
 *                             ("localhost:5000/app:latest")
 *   oci/blobs/sha256/<hex>    manifests, configs, layers, each stored once
 *
 * and what `run` reads, md_lib_dir()/images/NAME/ (runimage.h), with for a
 * pulled image: ref (the reference), digest (of its manifest).
 * Used by img-pull, img-push and image (which lists and inspects them).
 */
#ifndef MINIDOCK_IMAGESTORE_H
#define MINIDOCK_IMAGESTORE_H

#include <jansson.h>
#include <stdint.h>

#include "store.h"

/* md_lib_dir()/oci, malloc'd. */
char *store_layout(void);

/* Make DIR an OCI layout (blobs/sha256/, oci-layout) if it is not one.
 * 0, or -1 with errno. */
int layout_init(const char *dir);

/* DIR/blobs/sha256/<hex of DIGEST>, malloc'd. */
char *layout_blob(const char *dir, const char *digest);

/* Write BUF (LEN bytes) as the blob DIGEST of DIR (through a temporary
 * file and rename(2)).  0, or -1 with errno. */
int layout_put_blob(const char *dir, const char *digest, const void *buf, size_t len);

/*
 * In DIR/index.json (locked with flock(2), replaced by rename(2)): the
 * manifest descriptor DESC, named REF (any entry of that name replaced),
 * or, with DESC NULL, the entry named REF removed.  0, or -1 with errno
 * (ENOENT: no such entry to remove).
 */
int layout_set(const char *dir, const char *ref, json_t *desc);

/* DIR/index.json, parsed (a new reference), or NULL with errno. */
json_t *layout_index(const char *dir);

/* The blob DIGEST of DIR parsed as JSON (at most 4 MB), or NULL. */
json_t *layout_json_blob(const char *dir, const char *digest);

/* ---- what the store says of one image: md_lib_dir()/images/NAME ---- */

/* md_lib_dir()/images/NAME/FILE (FILE NULL: the directory), malloc'd. */
char *store_image_file(const char *name, const char *file);
/* The small text file FILE of image NAME, its last newline cut, or NULL. */
char *store_image_text(const char *name, const char *file);
/* The whole config of a pulled image (created, history...), and its
 * manifest in *MANIFEST when not NULL; NULL when not pulled. */
json_t *store_image_config(const char *name, json_t **manifest);
/* The bytes of the files of its layer directories. */
uint64_t store_image_size(const char *name);
/* The names of every image (with layers), in directory order, pushed on
 * NAMES.  0, or -1 with errno. */
int store_image_names(struct strv *names);

#endif
