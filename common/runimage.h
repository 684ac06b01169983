/*
 * runimage.h - the images `run` knows, by name, in md_lib_dir()/images/:
 * finding one (importing it the first time with img-unpack --layers,
 * which stores each layer once, by digest), and what its config says the
 * container runs (Entrypoint, Cmd, Env, WorkingDir, User), applied as
 * docker run applies it.  Used by run.
 *
 *   images/NAME/layers       the layer directories, lowest first, one a
 *                            line (written last: it says the image is there)
 *   images/NAME/config.json  the image's config (Env, Cmd...)
 *   images/NAME/source       the file it was imported from
 *   images/NAME/source-stat  its device, inode, size and mtime then: a
 *                            run of the same unchanged file imports nothing
 */
#ifndef MINIDOCK_RUNIMAGE_H
#define MINIDOCK_RUNIMAGE_H

#include <jansson.h>

#include "runopts.h"
#include "store.h"

struct run_image {
	char *name;
	struct strv layers;     /* directories, lowest first (empty: see runimage_import) */
	json_t *config;         /* the image's "config" object, or NULL */
	json_t *root;           /* what holds it, freed with it */
};

/*
 * REF is a name already imported ("busybox", "busybox:latest"), a path
 * (with a '/') to import under its file name, or the name of a teaching
 * image (make images).  Rootless, nothing is stored: each container gets
 * a copy (runimage_copy).  0, or -1 with *WHY the message (malloc'd).
 */
int runimage_find(const char *ref, int rootless, struct run_image *img, char **why);

/* The name under md_lib_dir()/images/ of what runimage_find(REF) finds
 * (a file's name, a pulled reference's store name), malloc'd. */
char *runimage_name(const char *ref);

/*
 * Import the image PATH (its image TAG, or NULL: the only one) under NAME:
 * img-unpack --layers into the store, then images/NAME/{config.json,
 * source,layers}.  What run does with a path, and img-pull after a pull.
 * 0, or -1 with *WHY the message (malloc'd).
 */
int runimage_import(const char *path, const char *tag, const char *name, int rootless,
		    char **why);

/* Unpack IMG again into ROOTFS (an empty directory): a container's
 * private copy where overlayfs cannot be used.  0 or -1 with *WHY. */
int runimage_copy(const struct run_image *img, const char *rootfs, char **why);

/* The string KEY of the image's config ("WorkingDir", "User"), or NULL. */
const char *runimage_string(const struct run_image *img, const char *key);

/* What the container runs, as docker: COMMAND replaces Cmd, --entrypoint
 * replaces Entrypoint (and drops Cmd).  0, or -1 with *WHY when nothing
 * is left to run. */
int runimage_command(const struct run_image *img, const struct run_options *o,
		     struct strv *cmd, char **why);

/* Its environment: the image's Env, PATH and HOSTNAME as docker adds
 * them, TERM with -t, then -e (later wins). */
void runimage_env(const struct run_image *img, const struct run_options *o,
		  const char *hostname, struct strv *env);

/*
 * SPEC (--user, or the image's User) as UID[:GID] for ns-enter, malloc'd: a
 * user or group name is looked up in the /etc/passwd and /etc/group of
 * ROOTFS, resolved inside it (passwd.h), so that an image's FIFO, link to
 * /dev/zero or `etc -> /etc` cannot hang run, fill its memory or hand it
 * the host's users.  NULL with *WHY the message.
 */
char *runimage_user(const char *rootfs, const char *spec, char **why);

/* HOME, as docker sets it when the image and -e do not: the home of USER
 * ("UID[:GID]", NULL for root) in the image's /etc/passwd, else "/". */
void runimage_home(const char *rootfs, const char *user, struct strv *env);
void runimage_free(struct run_image *img);

#endif
