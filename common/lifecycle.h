/*
 * lifecycle.h - one model of a container's life, from its first mkdir(2)
 * to its last rmdir(2), shared by run (which makes a container) and
 * container (which lists, removes and prunes them).
 *
 * Where a container's parts live, as with Docker and podman:
 *
 *   md_run_dir()/NAME/          runtime state, in RAM (/run is a tmpfs),
 *                               gone at reboot, as a process is:
 *     lock                      flock(2)'d by its run for as long as it lives
 *     state                     its phase, then the resources made for it
 *     config.json pid supervisor exit hostname hosts resolv.conf (store.h)
 *   md_lib_dir()/containers/NAME/   on disk, as large as the disk allows:
 *     upper/ work/              its writable layer (overlayfs)
 *     rootfs/                   its root: the overlayfs mount (or a copy)
 *     log log.1 ...             what a detached container wrote (logfile.h)
 *   md_lib_dir()/containers/.trash/NAME.PID.N/   a removed container's
 *                               disk directory, renamed there at once and
 *                               deleted by a background process (ps shows
 *                               md-reclaim), as containerd's snapshotter
 *                               removes asynchronously; prune waits for it
 *                               (and removes .trash)
 *
 * How the state stays true whatever moment run is killed at (runc writes
 * its state.json the same way):
 *   - a name is claimed by renaming a finished directory (lock held, state
 *     "creating") into place: nobody ever sees it half-made;
 *   - each resource is written into "state" BEFORE it is made, each write
 *     a new file renamed over the old (rename(2) is atomic), so the file
 *     always lists a superset of what exists;
 *   - whether its run lives is the lock: the kernel drops a flock(2) when
 *     the last descriptor of it closes, that is when run dies, however.
 *     A PID alone would lie once reused.
 * So whoever takes the lock of a dead run can undo exactly what exists:
 * in the reverse order, each undo tolerating what was never made.
 *
 * The state file:   creating|created|exited|removing   then one resource
 * a line, in the order made: disk, rootfs, cgroup, network; then one line
 * "volume NAME" for each named volume it mounts (volumes.h), recorded
 * before it is made or used, so that `volume rm` never removes a volume a
 * container of any phase still names.  Nothing undoes a volume: it
 * outlives its containers, as Docker's.
 */
#ifndef MINIDOCK_LIFECYCLE_H
#define MINIDOCK_LIFECYCLE_H

#include "store.h"

enum life_phase {
	LIFE_CREATING,          /* run is making its resources */
	LIFE_CREATED,           /* all made: the chain starts (or --dry-run) */
	LIFE_EXITED,            /* the chain ended, its steps undone */
	LIFE_REMOVING,          /* rm or prune is undoing it */
};

/* The resources, in the order they are made (and undone backwards). */
enum {
	LIFE_DISK = 1,          /* md_lib_dir()/containers/NAME */
	LIFE_ROOTFS = 2,        /* the overlayfs mount on its rootfs/ */
	LIFE_CGROUP = 4,        /* cg-limit's cgroup (cg-limit --delete) */
	LIFE_NETWORK = 8,       /* net-bridge's netns, veth, lease, rules */
	LIFE_ALL = 15,
};

struct life {
	char *name;
	char *dir;              /* its runtime directory (hidden while claimed) */
	int lockfd;             /* held (flock LOCK_EX), or -1 */
	enum life_phase phase;
	unsigned resources;     /* LIFE_* recorded */
	struct strv volumes;    /* the named volumes it uses (volumes.h) */
};

/*
 * Claim NAME for a new container: a hidden directory with its lock taken
 * and its state written as PHASE, renamed to md_run_dir()/NAME with
 * renameat2(RENAME_NOREPLACE).  0; or -1 with errno EEXIST when the name
 * is taken (anything else: why it could not be made).
 */
int life_claim(const char *name, enum life_phase phase, struct life *l);

/* Claim WANTED, or without it (NULL) a new random name (random_name),
 * as LIFE_CREATING.  0; -1 with errno EEXIST when WANTED is taken. */
int life_claim_new(const char *wanted, struct life *l);

/* Record LIFE_DISK, then make the disk directory (removing one a reboot
 * left under this name: its runtime state was gone).  0 or -1/errno. */
int life_make_disk(struct life *l);

/*
 * Take the lock of container NAME without waiting, and read its state:
 * 0; -1 with errno EBUSY when a live run holds it, ENOENT when there is
 * no such container (or it was removed meanwhile).
 */
int life_lock(const char *name, struct life *l);

/* Read NAME's state without the lock.  *HELD: whether a run holds it.
 * 0, or -1 with errno (ENOENT: no state). */
int life_peek(const char *name, enum life_phase *phase, unsigned *resources, int *held);

/* Record RESOURCES (before making them), or PHASE: the state file written
 * anew and renamed into place.  0 or -1 with errno. */
int life_record(struct life *l, unsigned resources);
int life_set_phase(struct life *l, enum life_phase phase);

/* Record that the container uses named volume VOLUME (once).  0 or -1. */
int life_record_volume(struct life *l, const char *volume);

/* The named volumes container NAME's state lists, without its lock,
 * pushed on VOLUMES.  0, or -1 with errno (ENOENT: no state). */
int life_volumes(const char *name, struct strv *volumes);

/*
 * Undo the resources of WHAT that are recorded, the last made first:
 * net-bridge --delete, cg-limit --delete (their messages hidden with
 * QUIET), umount the root, remove the disk directory (renamed into
 * .trash/ and deleted in the background; the root then unmounted with
 * MNT_DETACH, md-reclaim its last user); then record what is left.
 * 0, or -1 with errno when the unmount or a removal failed.
 */
int life_undo(struct life *l, unsigned what, int quiet);

/* Everything: phase "removing", every resource, the runtime directory.
 * The lock is released.  0 or -1 with errno. */
int life_remove(struct life *l, int quiet);

/* Close the lock (run: at exit, the kernel does it) and free. */
void life_release(struct life *l);

/* The names of every container (its runtime directory has a state file). */
int life_names(struct strv *names);

/*
 * What no container owns any more: hidden directories of claims cut
 * short, and the disk directories of containers whose runtime state is
 * gone (a reboot emptied /run).  Each is claimed first, as run claims a
 * name, so a run starting meanwhile is never touched.  Their names are
 * pushed on REMOVED.  Last, it waits for the background removals of
 * .trash/ and finishes those a crash cut short.  0, or -1 with errno
 * for the first failure.
 */
int life_prune_leftovers(struct strv *removed);

/* md_lib_dir()/containers/NAME and a file in it (malloc'd). */
char *disk_dir(const char *name);
char *disk_file(const char *name, const char *file);

/* The phase's name: "creating"... */
const char *life_phase_name(enum life_phase phase);

/*
 * Tests only: with MINIDOCK_TEST_STOP_AT=N in the environment, the Nth
 * call kills this process with SIGKILL, as a user's kill -9 at that
 * step would.  Called after each state write, and by run once its chain
 * started.
 */
void life_test_point(void);

#endif
