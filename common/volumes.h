/*
 * volumes.h - named volumes, as `docker volume`: a directory of the host
 * that outlives the containers which mount it.
 *
 *   md_lib_dir()/volumes/.lock          flock(2)'d by whoever changes the
 *                                       set of volumes or of their users
 *   md_lib_dir()/volumes/NAME/_data     what the containers see
 *   md_lib_dir()/volumes/NAME/created   when it was made (RFC 3339)
 *
 * A volume is nothing but that directory, bind-mounted by ns-enter
 * (--volume .../NAME/_data:/path) like any host path.  Which containers
 * use it is in their own state files (lifecycle.h, "volume NAME"), written
 * before the volume is used, so `volume rm` sees every user, in any phase
 * of its life.  Used by volume, run and container.
 */
#ifndef MINIDOCK_VOLUMES_H
#define MINIDOCK_VOLUMES_H

#include <stdint.h>

#include "lifecycle.h"
#include "store.h"

/* Docker's rule for a volume name: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (and at
 * most 240 characters: a file name, with room for ".NAME.removing"). */
int volume_valid_name(const char *name);

/* The message for a name that breaks that rule (malloc'd). */
char *volume_bad_name(const char *name);

/* md_lib_dir()/volumes/NAME and its _data (malloc'd). */
char *volume_dir(const char *name);
char *volume_data(const char *name);

/* Whether volume NAME exists (its _data is a directory). */
int volume_exists(const char *name);

/* The name of the volume whose _data is PATH, or NULL (malloc'd): how a
 * container's config tells a volume from a bind mount. */
char *volume_of_path(const char *path);

/*
 * Take md_lib_dir()/volumes/.lock (flock LOCK_EX, made with its
 * directory when missing), waiting for whoever holds it.  The descriptor,
 * to close(2) when done; -1 with errno.
 */
int volumes_lock(void);

/* Make volume NAME, empty (under the lock): 1 made, 0 it was there, -1
 * with errno.  Made as a hidden directory renamed into place, so a crash
 * never leaves half a volume under its name. */
int volume_create(const char *name);

/* Every volume's name, sorted.  0 or -1 with errno. */
int volume_names(struct strv *names);

/* The containers whose state names volume NAME (lifecycle.h), any phase.
 * 0 or -1 with errno. */
int volume_users(const char *name, struct strv *users);

/* Remove what a crash left in volumes/ (under the lock): the hidden
 * directories of a create or a remove cut short.  0 or -1 with errno. */
int volume_prune_leftovers(void);

/* A new name for an unnamed volume, as docker's: 64 hex digits
 * (getrandom(2)), malloc'd; NULL with errno. */
char *volume_random_name(void);

/* What volume NAME holds: the bytes of its files (as docker counts). */
uint64_t volume_size(const char *name);

/* Remove volume NAME (under the lock, with no user): renamed to a hidden
 * name first, then removed.  0 or -1 with errno. */
int volume_remove(const char *name);

/* "1.5kB", as docker prints sizes (powers of 1000), into BUF. */
const char *volume_human_size(uint64_t bytes, char *buf, size_t size);

/*
 * run -v NAME:/path[:ro]: each SPECS entry whose source has no '/' is a
 * named volume.  Under the lock, each is recorded in the container's state
 * L, made if missing, and, when its _data is empty, filled with a copy of
 * what the image at ROOTFS holds at /path (owners, modes, times, links,
 * as Docker does); then its entry becomes _data:/path[:ro] for ns-enter.
 * 0, or -1 with *WHY (malloc'd).
 */
int volumes_prepare(struct life *l, struct strv *specs, const char *rootfs, char **why);
/* Whether one of SPECS (run -v) names a volume that is missing or empty,
 * which volumes_prepare will fill from the image's files on the host. */
int volumes_need_fill(const struct strv *specs);

#endif
