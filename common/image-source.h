/*
 * image-source.h - where the files of an image come from: a directory
 * (an OCI layout, or an unpacked docker save), a tar archive of one
 * (docker save of any Docker version, an OCI layout packed), a plain root
 * filesystem tarball, or standard input; and a blob of it read as a
 * stream, hashed (sha256) as it goes.
 * Read archive_read(3), openat2(2), and the OCI image spec's
 * image-layout.md.  Used by img-unpack (through image.h).
 */
#ifndef MINIDOCK_IMAGE_SOURCE_H
#define MINIDOCK_IMAGE_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "digest.h"

enum img_kind {
	IMG_OCI,        /* index.json + blobs/sha256/ (also docker save >= 25) */
	IMG_DOCKER,     /* manifest.json + <id>/layer.tar (docker save < 25) */
	IMG_ROOTFS,     /* a plain root filesystem tarball: one layer, no config */
};

struct img_source;

/* PATH: a directory, an archive file, or "-" for standard input.  NULL
 * when it is none of them (img_error says why). */
struct img_source *img_source_open(const char *path);
enum img_kind img_source_kind(const struct img_source *src);
const char *img_kind_name(enum img_kind kind);
/* The kind, in words, telling docker save of Docker 25+ from plain OCI. */
const char *img_source_format(const struct img_source *src);
/* "standard input" or the path given, for messages. */
const char *img_source_name(const struct img_source *src);
/* The size of the whole source when it is a file (a rootfs tarball), or -1. */
int64_t img_source_file_size(const struct img_source *src);
void img_source_close(struct img_source *src);
/* A bound on the bytes decompressed while an archive's member list is read
 * (all of them are read: a gzip bomb must stop there too); 0: none. */
void img_source_max_size(uint64_t max);

/* The whole member NAME, when at most MAX bytes (JSON files). */
char *img_source_read(struct img_source *src, const char *name, size_t max, size_t *len);
/* The size of member NAME, or -1. */
int64_t img_source_size(struct img_source *src, const char *name);

/* ---- reading a blob, as a stream ---- */

struct img_reader;

/* Open member NAME (NULL: the whole source, for a rootfs tarball). */
struct img_reader *img_reader_open(struct img_source *src, const char *name);
/* Next chunk of bytes, 0 at the end, -1 on error. Hashed as it goes. */
ssize_t img_reader_next(struct img_reader *r, const void **buf);
/* Bytes read so far, and "sha256:<hex>" of them (call after the end). */
uint64_t img_reader_bytes(const struct img_reader *r);
int img_reader_digest(struct img_reader *r, char out[DIGEST_LEN]);
void img_reader_close(struct img_reader *r);

#endif
