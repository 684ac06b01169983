/*
 * image.h - container images, as the OCI image spec defines them
 * (https://github.com/opencontainers/image-spec): formats and layers.
 *
 * An image is a few JSON files and some tarballs, each file named by the
 * sha256 of its content (its "digest"):
 *   index.json      the entry point of an OCI layout: descriptors of
 *                   manifests (or of image indexes, one per platform list);
 *   manifest        the config descriptor and the layer descriptors, in order;
 *   config          the runtime settings (Env, Cmd...) and rootfs.diff_ids,
 *                   the digests of the *uncompressed* layers;
 *   layers          tar streams (maybe gzip or zstd), applied one over the
 *                   other; ".wh.NAME" deletes NAME from the layers below and
 *                   ".wh..wh..opq" hides everything below in its directory.
 * `docker save` writes the same pieces with a manifest.json of its own.
 *
 * Use, in order (img-unpack.c is the example):
 *   img_source_open()    a directory, an archive, or "-" (standard input)
 *   img_load()           follow index/manifest to one image, read its config
 *   img_reader_open() + img_apply_layer(), once per layer
 * Functions return -1 (or NULL) on failure; img_error() says why.
 */
#ifndef MINIDOCK_IMAGE_H
#define MINIDOCK_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The message of the last failure, "what: why", for die_x("%s", ...). */
const char *img_error(void);

/* ---- the JSON documents (pure parsing, no I/O: see tests/fuzz/) ---- */

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

void img_desc_free(struct img_desc *d);
void img_descs_free(struct img_desc *d, size_t n);
void img_docker_entries_free(struct img_docker_entry *e, size_t n);
void img_config_free(struct img_config *c);

/* ---- where the files of an image come from ---- */

enum img_kind {
	IMG_OCI,        /* index.json + blobs/sha256/ (also docker save >= 25) */
	IMG_DOCKER,     /* manifest.json + <id>/layer.tar (docker save < 25) */
	IMG_ROOTFS,     /* a plain root filesystem tarball: one layer, no config */
};

struct img_source;

/* PATH: a directory, an archive file, or "-" for standard input. */
struct img_source *img_source_open(const char *path);
enum img_kind img_source_kind(const struct img_source *src);
const char *img_kind_name(enum img_kind kind);
/* The kind, in words, telling docker save of Docker 25+ from plain OCI. */
const char *img_source_format(const struct img_source *src);
void img_source_close(struct img_source *src);

/* The whole member NAME, when at most MAX bytes (JSON files). */
char *img_source_read(struct img_source *src, const char *name, size_t max, size_t *len);
/* The size of member NAME, or -1. */
int64_t img_source_size(struct img_source *src, const char *name);

/* ---- one image, resolved ---- */

struct img_image {
	char **tags;            /* every tag the IMAGE holds (for messages) */
	size_t ntags;
	char *tag;              /* the one chosen, or NULL */
	struct img_desc manifest;   /* OCI: the manifest chosen */
	struct img_desc config;
	struct img_desc *layers;    /* lowest first */
	size_t nlayers;
	struct img_config cfg;      /* empty for a rootfs tarball */
	char *config_json;          /* the config blob as read, or NULL */
};

/*
 * Pick the image TAG (NULL: the only one), follow index -> (image index ->)
 * manifest -> config, checking each JSON blob's sha256 when VERIFY.
 */
int img_load(struct img_source *src, const char *tag, int verify, struct img_image *img);
void img_image_free(struct img_image *img);

/* ---- reading a blob, as a stream ---- */

struct img_reader;

/* Open member NAME (NULL: the whole source, for a rootfs tarball). */
struct img_reader *img_reader_open(struct img_source *src, const char *name);
/* Next chunk of bytes, 0 at the end, -1 on error. Hashed as it goes. */
ssize_t img_reader_next(struct img_reader *r, const void **buf);
/* Bytes read so far, and "sha256:<hex>" of them (call after the end). */
uint64_t img_reader_bytes(const struct img_reader *r);
void img_reader_digest(struct img_reader *r, char out[72]);
void img_reader_close(struct img_reader *r);

/* ---- applying one layer ---- */

struct img_apply {
	/* in */
	int rootfd;             /* the directory to unpack into (O_DIRECTORY) */
	int overlay;            /* whiteouts in overlayfs form (--layers) */
	uint64_t max_size;      /* bound on the uncompressed size (bombs) */
	const char *what;       /* "layer 2/3" for messages */
	void (*progress)(uint64_t done, void *arg);
	void *progress_arg;
	/* out */
	char digest[72];        /* sha256 of the blob as stored */
	char diff_id[72];       /* sha256 of the uncompressed tar */
	char compression[16];   /* "gzip", "zstd", "none"... */
	uint64_t entries;
};

/*
 * Read layer R (compressed or not: detected by content) and apply its
 * entries below A->rootfd, never outside it: every path is resolved with
 * openat2(RESOLVE_IN_ROOT), nothing is opened through a symlink at the
 * last component, "..", absolute names and bad whiteouts are refused.
 * Reads R to its end, so img_reader_digest() is then the blob's digest.
 */
int img_apply_layer(struct img_reader *r, struct img_apply *a);

#endif
