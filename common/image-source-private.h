/*
 * image-source-private.h - what image-source.c and image-stdin.c share,
 * and no tool sees: an opened image source and its members.
 */
#ifndef MINIDOCK_IMAGE_SOURCE_PRIVATE_H
#define MINIDOCK_IMAGE_SOURCE_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "image-source.h"

/* A member of an image archive. */
struct img_member {
	char *name;
	int64_t size;
	char *data;     /* kept in memory, or NULL */
	char *link;     /* a link to another member (docker save links a
			 * layer.tar that two images share): its name */
};

#define KEEP_MAX (1 << 20)        /* a member this small may be kept... */
#define KEEP_BUDGET (16 << 20)    /* ...while all kept ones stay below this */
#define PEEK_SIZE (256 << 10)     /* bytes of standard input looked at first */

struct img_source {
	char *path;             /* for messages */
	enum img_kind kind;
	int dirfd;              /* a directory image, or -1 */
	int fd;                 /* an archive or a tarball (maybe the spool), or -1 */
	int stream;             /* fd is a pipe holding a rootfs tarball */
	char *peek;             /* bytes already read from that pipe */
	size_t peek_len;
	struct img_member *members;
	size_t nmembers;
	size_t kept;
	int has_docker_manifest;    /* manifest.json, beside index.json or not */
	int skopeo_layers;          /* <hex>.tar at the top (containers/image) */
};

struct archive;

/* A libarchive reader of tar archives, compressed or not; NULL when out
 * of memory. */
struct archive *tar_reader(void);
/* "./a//b/" -> "a/b" (in place); "" for the root itself. */
char *normalize_name(char *s);
/* Could NAME (normalized) belong to an image archive, not a rootfs? */
int image_like(const char *name);
/* Read the member list of src->fd: which kind of image.  0, or -1 (img_error). */
int scan_archive(struct img_source *src);
/* Standard input (image-stdin.c): spooled when it holds an image, else
 * read as a rootfs tarball as it flows.  0, or -1 (img_error). */
int img_source_open_stdin(struct img_source *src);

#endif
