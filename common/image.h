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
 * The modules, and their use in order (cmd/img-unpack.c is the example):
 *   image-source.h  img_source_open(): a directory, an archive, or "-";
 *                   img_reader_open(): one blob of it, as a stream
 *   image.h         img_load(): follow index -> manifest -> config to one
 *                   image (this file; common/image.c)
 *   image-config.h  the JSON documents themselves, and img_error()
 *   layer.h         img_apply_layer(): one layer into a directory
 *                   (with decompress.h, layer-path.h, digest.h)
 * Functions return -1 (or NULL) on failure; img_error() says why.
 * Used by img-unpack.
 */
#ifndef MINIDOCK_IMAGE_H
#define MINIDOCK_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "image-config.h"
#include "image-source.h"
#include "layer.h"

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

/* This machine's architecture as OCI names it ("amd64", "arm64"...). */
const char *img_host_arch(void);

/* The size of layer D: its descriptor's, or the file's; -1 if unknown. */
int64_t img_layer_size(struct img_source *src, const struct img_desc *d);

/* img-unpack --inspect: tags, layers and runtime config of IMG, as text or
 * JSON, on OUT.  IMAGE is the name the user gave.  -1 when out of memory. */
int img_inspect_text(FILE *out, struct img_source *src, const struct img_image *img,
		     const char *image);
int img_inspect_json(FILE *out, struct img_source *src, const struct img_image *img,
		     const char *image);

#endif
