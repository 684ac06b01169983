/*
 * build-step.h - what surrounds a build step's container in img-build:
 * the overlayfs options of a step, the runtime directory and /etc files of
 * its RUN, and the mount points ns-enter made in its root, which are not
 * the step's work; the chain of a RUN; the lines that frame each step
 * ("Step 3/7 : RUN ...", " ---> 0.42s").  Used by img-build.
 */
#ifndef MINIDOCK_BUILD_STEP_H
#define MINIDOCK_BUILD_STEP_H

#include <stdint.h>
#include <time.h>

#include "build-config.h"
#include "chain.h"
#include "dockerfile.h"
#include "store.h"

/* A new build's name, "build-<8 hex>" (its runtime directory, its cgroup),
 * and its epoch: SOURCE_DATE_EPOCH, else 0.  0, or -1 with *WHY. */
int step_build_name(char name[24], int64_t *epoch, char **why);

/*
 * A step's directories, made in DIR: merged (the mount point), upper,
 * work and empty; and the options of its overlayfs: the non-empty LAYERS
 * (lowest first; DIR/empty when none is left, since overlayfs wants one
 * lower), with redirect_dir, metacopy and index off so that every change
 * is in upper itself, never a reference to a lower layer (overlayfs.rst);
 * rootless (in a user namespace), userxattr.  malloc'd; NULL with errno.
 */
char *step_overlay_options(const char *dir, const struct strv *layers);

/*
 * Before a RUN in the container NAME over MERGED: its runtime directory
 * (md_run_dir()/NAME) and the /etc files ns-enter bind-mounts (hosts,
 * hostname, resolv.conf for NETWORK); the user SPEC (the image's USER, may
 * be NULL) looked up in MERGED into *USER ("UID[:GID]", malloc'd), and
 * HOME added to ENV.  0, or -1 with *WHY.
 */
int step_prepare(const char *name, const char *merged, const char *network, const char *spec,
		 char **user, struct strv *env, char **why);

/*
 * As an ordinary user, the command that runs img-build ARGV again as root
 * of a user namespace of its own, with a mount namespace, and every
 * capability there (to mount): ns-enter [--verbose] --userns --mount
 * --privileged -- img-build ARGV[1]...; the user's store set (store.h).
 * A rootless step has no NETWORK but none.  0, or -1 with *WHY.
 */
int step_userns_command(char **argv, const char *network, struct strv *args, char **why);

/*
 * The chain of a RUN of CMD in container NAME over MERGED, as run's
 * (chain.h): cg-limit --devices container -- ns-enter --all ... -- CMD,
 * with network NETWORK, the image's Env, User and WorkingDir (VARS);
 * step_prepare first (its runtime directory: step_remove_state).  CHAIN
 * (chain_free) and ENVP, the environment of its first tool
 * (chain_environment).  0, or -1 with *WHY.
 */
int step_chain(const char *name, const char *merged, const char *network,
	       const struct build_vars *vars, const struct strv *cmd, struct chain *chain,
	       struct strv *envp, char **why);

/* Before step I (from 0) of N: "Step I+1/N : INSTRUCTION" on stdout, and
 * *T0 the time it starts. */
void step_announce(size_t i, size_t n, const struct df_instr *in, struct timespec *t0);
/* After it: " ---> 0.42s", the time since T0. */
void step_report_time(const struct timespec *t0);
/* Whether Ctrl-C (SIGINT) or SIGTERM came meanwhile (img-build blocks
 * them: they wait, pending, until a step ends). */
int step_interrupted(void);

/* The build's last lines: "Written to OUTPUT" (with -o), "Successfully
 * built ID (manifest DIGEST)" of IMG, "Successfully tagged NAME" (or
 * NULL), as docker build ends. */
void step_report_image(const struct imgw *img, const char *output, const char *name);

/* Remove md_run_dir()/NAME (no mount in it).  0 or -1 with errno. */
int step_remove_state(const char *name);

/*
 * What ns-enter makes in a root to mount things on (/dev, /proc, /sys,
 * /etc/hosts...) is not the step's work: step_note_mount_points says,
 * before the RUN, which of them the image already had (looked up in MERGED,
 * never through its symlinks to the host); step_clear_mount_points then
 * removes from UPPER those it did not have, when still empty, as docker
 * build does.  -1 with errno when MERGED cannot be opened.
 */
#define STEP_MOUNT_POINTS 7
int step_note_mount_points(const char *merged, int existed[STEP_MOUNT_POINTS]);
void step_clear_mount_points(const char *upper, const int existed[STEP_MOUNT_POINTS]);

#endif
