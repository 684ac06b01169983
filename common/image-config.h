/*
 * image-config.h - the JSON documents of a container image, parsed with
 * jansson: index.json (and image indexes), manifests, the image config,
 * and docker save's own manifest.json.  Pure parsing, no I/O, so that a
 * fuzzer can feed them anything (tests/fuzz/).  Also the error message
 * every image module leaves for its caller (img_error).
 * Read the OCI image spec: image-index.md, manifest.md, config.md,
 * descriptor.md.  Used by img-unpack (through image.h).
 */
#ifndef MINIDOCK_IMAGE_CONFIG_H
#define MINIDOCK_IMAGE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* ---- errors of the image modules ---- */

/* The message of the last failure in this thread, "what: why", for
 * die_x("%s", img_error()). */
const char *img_error(void);
/* Record a message (and, for img_fail_errno, ": " strerror(errno)) for
 * img_error(); return -1 with errno unchanged. */
int img_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int img_fail_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the documents ---- */

/* A descriptor: what a manifest or an index says about one blob. */
struct img_desc {
	char *media_type;   /* or NULL */
	char *digest;       /* "sha256:<64 hex>", or NULL (docker legacy layer) */
	int64_t size;       /* -1 when unknown */
	char *path;         /* where the blob is inside the image */
	char *os, *arch, *variant;  /* "platform" of an index entry, or NULL */
	char *ref_name;     /* annotation org.opencontainers.image.ref.name */
	char *image_name;   /* annotation io.containerd.image.name */
};

/* One image of a docker-save manifest.json. */
struct img_docker_entry {
	char *config;       /* "<hex>.json" or "blobs/sha256/<hex>" */
	char **layers;      /* "<id>/layer.tar" or "blobs/sha256/<hex>" */
	size_t nlayers;
	char **tags;        /* RepoTags */
	size_t ntags;
};

/* What img-unpack needs from an image config. */
struct img_config {
	char **diff_ids;    /* "sha256:<hex>" of each uncompressed layer */
	size_t ndiff_ids;
	char *os, *arch;
	json_t *runtime;    /* the "config" object (Env, Cmd, ...), or NULL */
	json_t *history;    /* "history": an array, one entry an instruction, or NULL */
};

int img_parse_docker_manifest(const char *buf, size_t len,
			      struct img_docker_entry **entries, size_t *n);
/* An index (index.json or an image index blob): its "manifests". */
int img_parse_index(const char *buf, size_t len, struct img_desc **descs, size_t *n);
/* An image manifest: its "config" and "layers". */
int img_parse_manifest(const char *buf, size_t len, struct img_desc *config,
		       struct img_desc **layers, size_t *n);
int img_parse_config(const char *buf, size_t len, struct img_config *cfg);
/* 1 when BUF is a JSON object with a "manifests" array (an index). */
int img_json_is_index(const char *buf, size_t len);
/* 1 when S is "sha256:" and 64 lowercase hex digits. */
int img_valid_digest(const char *s);

/* The keys of the runtime config a container starts from, in order. */
extern const char *const img_runtime_keys[];
extern const size_t img_nruntime_keys;
/* A new object with every key above (null when the image leaves it unset). */
json_t *img_runtime_config(const struct img_config *cfg);
/* That object, written to PATH as JSON (img-unpack --config).  -1 on failure. */
int img_write_runtime_config(const struct img_config *cfg, const char *path);

void img_desc_free(struct img_desc *d);
void img_descs_free(struct img_desc *d, size_t n);
void img_docker_entries_free(struct img_docker_entry *e, size_t n);
void img_config_free(struct img_config *c);

#endif
