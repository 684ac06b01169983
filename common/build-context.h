/*
 * build-context.h - the build context of img-build: the directory whose
 * files COPY and ADD take, less what .dockerignore names.  Its sources
 * found (wildcards; "../" refused), hashed for the build cache, and
 * copied into the root of a build step.  Every path is resolved inside
 * the context, or inside the step's root, by the kernel (openat2(2)
 * RESOLVE_IN_ROOT): a symlink never leads out of either.  Used by
 * img-build.
 */
#ifndef MINIDOCK_BUILD_CONTEXT_H
#define MINIDOCK_BUILD_CONTEXT_H

#include <sys/types.h>

#include "digest.h"
#include "dockerfile.h"
#include "store.h"

struct build_context {
	char *path;
	int fd;                 /* the context directory */
	struct df_ignore ignore;
};

/* Open DIR and read its .dockerignore.  0 or -1 with *WHY (malloc'd). */
int ctx_open(struct build_context *c, const char *dir, char **why);
void ctx_close(struct build_context *c);

/*
 * The files PATTERNS name, relative to the context and cleaned ("a/b"), in
 * order; a wildcard (*, ?, [...]) in the last name matches several.  A
 * path out of the context (../), or that matches nothing not ignored, is
 * an error.  0 or -1 with *WHY.
 */
int ctx_sources(struct build_context *c, const struct strv *patterns, struct strv *found,
		char **why);

/* sha256 of what SOURCES hold: names, modes, contents, link targets (the
 * cache key of a COPY).  0 or -1 with *WHY. */
int ctx_digest(struct build_context *c, const struct strv *sources, char out[DIGEST_LEN],
	       char **why);

/*
 * COPY SOURCES DEST into the root ROOTFS, as docker: a directory's
 * contents go into DEST; DEST is a directory when it ends with '/', when
 * there are several sources, or when it exists as one.  Missing
 * directories of DEST are created.  CHOWN (--chown=USER[:GROUP], names
 * looked up in the image's /etc/passwd and /etc/group) owns what is
 * copied, else root; with EXTRACT (ADD), a tar archive is unpacked at
 * DEST.  0 or -1 with *WHY.
 */
int ctx_copy(struct build_context *c, const struct strv *sources, const char *rootfs,
	     const char *dest, const char *chown, int extract, char **why);

#endif
