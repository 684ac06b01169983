/*
 * image-write.h - an image being built: its config (what the Dockerfile's
 * ENV, CMD, LABEL... set, rootfs.diff_ids, one history entry per
 * instruction), then its manifest, written as an OCI image layout, an
 * oci-archive, a docker-archive (docker load), or into the store of `run`.
 * Read the OCI image spec: config.md, manifest.md, image-layout.md.
 * Used by img-build (and img-pull, to pack a layout: layout_write_archive).
 *
 *   blobs/sha256/<config>     {"config": {"Env": [...], "Cmd": [...]},
 *                              "rootfs": {"diff_ids": [...]}, "history": [...]}
 *   blobs/sha256/<manifest>   {"config": <config>, "layers": [<layer>...]}
 *   index.json                {"manifests": [<manifest>, ref.name "latest"]}
 */
#ifndef MINIDOCK_IMAGE_WRITE_H
#define MINIDOCK_IMAGE_WRITE_H

#include <stdint.h>

#include <jansson.h>

#include "layer-write.h"
#include "store.h"

struct imgw {
	json_t *image;          /* the whole config document */
	json_t *config;         /* its "config" object (Env, Cmd...), borrowed */
	struct layer_blob *layers;
	size_t nlayers;
	const char *blobs;      /* the directory of the blobs, by hex digest */
	char *created;          /* "1970-01-01T00:00:00Z": the clamped time */
	char config_digest[DIGEST_LEN], manifest_digest[DIGEST_LEN];
	int64_t config_size, manifest_size;
};

/* A new image over BASE (the base image's "config" object, copied; NULL
 * for scratch), its blobs in BLOBS, every time set to EPOCH. */
void imgw_init(struct imgw *w, json_t *base, const char *blobs, int64_t epoch);
void imgw_free(struct imgw *w);

/* ---- what the instructions set ---- */

/* Env NAME=VALUE, replacing NAME's earlier value. */
void imgw_env(struct imgw *w, const char *name, const char *value);
/* The value of NAME in Env, or NULL. */
const char *imgw_getenv(const struct imgw *w, const char *name);
/* A string (WorkingDir, User, StopSignal), or an array (Cmd, Entrypoint). */
void imgw_string(struct imgw *w, const char *key, const char *value);
/* The string KEY ("User", "WorkingDir"), or NULL when unset or empty. */
const char *imgw_getstring(const struct imgw *w, const char *key);
void imgw_array(struct imgw *w, const char *key, const struct strv *words);
/* A key of an object-valued setting: ExposedPorts "80/tcp", Volumes
 * "/data" (VALUE NULL: {}), Labels "k" = "v". */
void imgw_set(struct imgw *w, const char *object, const char *key, const char *value);
/* The top-level "author" (MAINTAINER). */
void imgw_author(struct imgw *w, const char *name);

/* A layer (its blob in w->blobs) and its history entry, or a history
 * entry alone (EMPTY_LAYER: ENV, CMD... change only the config). */
void imgw_add_layer(struct imgw *w, const struct layer_blob *b, const char *created_by);
void imgw_history(struct imgw *w, const char *created_by, int empty_layer);

/* ---- writing it ---- */

/* The config and the manifest, as blobs; their digests in W.  0 or -1
 * with *WHY.  Call once, after the last instruction. */
int imgw_finish(struct imgw *w, char **why);

/* An OCI image layout in DIR (absent or empty), REF the ref.name of its
 * one image ("latest"), NAME the image's full name ("hello:latest").  The
 * blobs are hard links to w->blobs where possible.  0 or -1 with *WHY. */
int imgw_write_oci(const struct imgw *w, const char *dir, const char *name,
		   const char *ref, char **why);

/* The same as a tar FILE (oci-archive); with DOCKER, a docker save archive
 * (a manifest.json too, read by docker load), tagged NAME. */
int imgw_write_archive(const struct imgw *w, const char *file, const char *name,
		       const char *ref, int docker, char **why);

/* An OCI image layout directory DIR (as img-pull -o writes it) packed as
 * the oci-archive FILE (through FILE.tmp-PID and rename(2)).  0 or -1 with
 * *WHY.  Used by img-pull -o oci-archive:FILE. */
int layout_write_archive(const char *dir, const char *file, char **why);

/*
 * Record it as image NAME of run's store (md_lib_dir()/images/NAME: see
 * runimage.h): an OCI layout (its source), its config, and LAYERS, the
 * directories of its layers lowest first, written last.  0 or -1 with *WHY.
 */
int imgw_store(const struct imgw *w, const char *name, const struct strv *layers,
	       char **why);

/*
 * Where img-build was asked to put it: OUTPUT ("oci:DIR", "oci-archive:
 * FILE", "docker-archive:FILE", or NULL), and run's store under TAG's name
 * (NAME[:TAG]; without TAG nor OUTPUT, under its short id).  *NAME: the
 * "NAME:TAG" it got, or NULL.  0, or -1 with *WHY.
 */
int imgw_deliver(const struct imgw *w, const char *output, const char *tag,
		 const struct strv *layers, char **name, char **why);

#endif
