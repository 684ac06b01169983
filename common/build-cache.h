/*
 * build-cache.h - the build cache of img-build, as docker build's: a step
 * whose parent is the same, and whose instruction (and, for COPY and ADD,
 * the content it copies) is the same, gives the same layer, so the layer
 * made last time is used again.  Used by img-build.
 *
 * Each step has a key, the sha256 of its parent's key and of what the step
 * is; a layer step made once is recorded under its parent, in
 * md_lib_dir()/build/cache/<parent>/<key>, a JSON file:
 *   {"instruction": "RUN echo hi", "content": "", "diff_id": ..., "digest": ..., "size": ...}
 * Also kept: the blob (tar.gz) written for each stored layer directory,
 * in md_lib_dir()/build/blob-of/<diff_id>.<epoch>, so a base image's layers are
 * tarred once.
 */
#ifndef MINIDOCK_BUILD_CACHE_H
#define MINIDOCK_BUILD_CACHE_H

#include <stdint.h>

#include <jansson.h>

#include "digest.h"
#include "image-write.h"
#include "layer-write.h"
#include "store.h"

/* The key of a step: sha256(PARENT "\n" WHAT). */
void cache_key(const char *parent, const char *what, char out[DIGEST_LEN]);
/* The key of a COPY or ADD: what it copies is part of it,
 * sha256(PARENT "\n" WHAT "\n" CONTENT), CONTENT the digest of its sources. */
void cache_key_content(const char *parent, const char *what, const char *content,
		       char out[DIGEST_LEN]);

/*
 * The layer recorded for KEY under PARENT: 1 with *B filled (its layer
 * directory and blob still there); 0 when there is none, *REASON saying
 * why, as docker build --verbose would (malloc'd).
 */
int cache_lookup(const char *parent, const char *key, const char *instruction,
		 const char *content, struct layer_blob *b, char **reason);

/* Record the layer B made by the step KEY.  0 or -1 with errno. */
int cache_record(const char *parent, const char *key, const char *instruction,
		 const char *content, const struct layer_blob *b);

/* The blob written for the stored layer directory DIFF_ID, its times
 * clamped to EPOCH: 1, or 0 (not written yet); record one. */
int cache_blob_of(const char *diff_id, int64_t epoch, struct layer_blob *b);
int cache_record_blob_of(const char *diff_id, int64_t epoch, const struct layer_blob *b);

/* The blob of the stored layer directory DIR (its name the diff_id
 * img-unpack gave it), written into BLOBS (layer_write) the first time for
 * this EPOCH.  0, or -1 with *WHY. */
int cache_base_blob(const char *dir, int64_t epoch, const char *blobs, struct layer_blob *b,
		    char **why);

/* md_lib_dir()/layers/sha256/<hex> and md_lib_dir()/blobs/sha256/<hex>
 * of a digest, malloc'd. */
char *cache_layer_dir(const char *diff_id);
char *cache_blob_path(const char *digest);

/* The key of FROM: the epoch (the times of a layer are part of it) and
 * the base image's CONFIG (NULL: FROM scratch). */
void cache_from_key(int64_t epoch, json_t *config, char out[DIGEST_LEN]);

/* FROM IMAGE: its layer directories DIRS (lowest first) added to IMG and
 * LAYERS, each with its blob (cache_base_blob), KEY chained over their
 * diff_ids.  0, or -1 with *WHY. */
int cache_base_layers(const char *image, const struct strv *dirs, int64_t epoch,
		      const char *blobs, struct imgw *img, struct strv *layers,
		      char key[DIGEST_LEN], char **why);

/* cache_lookup, unless NO_CACHE; --verbose says why it was or was not
 * cached.  1 with *B filled, or 0. */
int cache_use(const char *parent, const char *key, const char *instruction,
	      const char *content, int no_cache, struct layer_blob *b);

/* cache_layer_dir, its parent made: where a new layer is renamed to.
 * NULL with errno. */
char *cache_new_layer_dir(const char *diff_id);

#endif
