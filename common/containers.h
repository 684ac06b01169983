/*
 * containers.h - a container as its state directory tells it
 * (md_run_dir()/NAME/, see store.h): config.json, which run writes and
 * container reads, and whether its chain runs (pid files, exit status).
 * Used by run (container_save) and container (every other function).
 */
#ifndef MINIDOCK_CONTAINERS_H
#define MINIDOCK_CONTAINERS_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "lifecycle.h"
#include "store.h"

/* What run records in config.json. */
struct container_config {
	const char *name, *image, *hostname, *network, *workdir;
	const char *rootfs;             /* "overlay" or "copy" */
	char *const *command, *const *ports, *const *env;
	char *const *volumes;           /* SRC:DST[:ro], as ns-enter takes them */
	char *const *tmpfs;             /* DST[:OPTIONS] */
	int rm, rootless;
};

/* Write md_run_dir()/NAME/config.json.  0 or -1 with errno. */
int container_save(const struct container_config *cc);

/*
 * The files ns-enter bind-mounts on the container's /etc, written in its
 * runtime directory: hostname always; hosts and resolv.conf too, unless
 * net-bridge writes them (NETWORK "bridge" or a user-defined one): the host's with "host", a
 * localhost of its own with "none".  And an empty file in the image at
 * ROOTFS to mount each on where it has none: resolved inside it
 * (open_in_root), O_PATH first (opening a file for writing would copy it
 * up for nothing).  0 or -1 with errno.
 */
int container_etc_files(const char *name, const char *rootfs, const char *network,
			const char *hostname, char *const *add_hosts);

/* Record that its chain ended with CODE (the file "exit").  0 or -1. */
int container_write_exit(const char *name, int code);

/* What the state directory says of a container. */
struct container {
	char *name;
	json_t *config;         /* config.json (an object: empty when it is not
				   one); read it with the functions below */
	char *bad;              /* why config.json is unusable (hand-edited?),
				   naming it; NULL when it is fine */
	pid_t chain;            /* the chain's first tool, 0 when not running */
	pid_t supervisor;       /* the run that waits for it, 0 when gone */
	int exited, exit_code;  /* the chain ended and run recorded it */
	int started;            /* a chain was ever started (not --dry-run) */
	enum life_phase phase;  /* its state file (lifecycle.h) */
	unsigned resources;
	int held;               /* a live run holds its lock */
};

/* Read container NAME, without its lock (lifecycle.h).  0, or -1 with
 * errno ENOENT when there is no such container.  A config.json that is not JSON, or holds a
 * wrong type, still loads: C->bad says what is wrong with it. */
int container_load(const char *name, struct container *c);
void container_free(struct container *c);

/* The string KEY of its config ("image", "network"...), or "". */
const char *container_str(const struct container *c, const char *key);
/* The strings of array KEY ("command", "ports") joined with SEP, malloc'd. */
char *container_joined(const struct container *c, const char *key, const char *sep);

/* For container ls: "running", "exited (0)", "created", "creating",
 * "removing", "dead" (its run died: prune)...; its
 * address on the bridge ("-" without); how long it has run ("-"). */
const char *container_state(const struct container *c, char *buf, size_t size);
char *container_address(const struct container *c);
char *container_uptime(const struct container *c);

/*
 * Take container NAME's lock (lifecycle.h): its run is gone, so nobody
 * else makes or undoes anything of it.  Waits up to WAIT_MS for a run
 * to record its end and let go.  Its chain must have ended too (without
 * its run, it may run on unsupervised).  0; -1 with errno EBUSY (it
 * runs, or its run lives), ENOENT (removed meanwhile).
 */
int container_lock(const char *name, int wait_ms, struct life *l);

/*
 * The host PID of C's PID 1 (container_init, store.h); while its chain is
 * still being set up (the network, the root...), waits for it a little
 * (up to 5 s).  0 when the chain is not running.
 */
pid_t container_wait_init(const struct container *c);

/*
 * run, after the chain of container L ended with CODE (step 7): with RM,
 * remove it all (life_remove); else undo what is left of its steps, its
 * root's mount, and with DETACHED its cgroup and network too (the tools
 * of a detached chain, told --exec, leave them to run; otherwise each
 * undid its own), then record CODE (the file "exit") and the phase
 * "exited".  QUIET: no word of a step never made.  Best effort: each
 * failure is said (warn), none stops the others.
 */
void container_finish(struct life *l, int rm, int detached, int code, int quiet);

/* Whether the run of PIDFILE (its file "supervisor") lives, and copies
 * the container's output into its log: container logs -f asks, through
 * logfile_copy. */
int container_supervisor_runs(void *pidfile);

/*
 * container inspect: what docker inspect says of a container, as far as
 * minidock has it: Name, State (Status, Running, ExitCode), Config (its
 * config.json), NetworkSettings (Network, IPAddress) and Mounts, each {Type volume|bind|tmpfs, Name (a
 * volume's), Source, Destination, RW}.  A new JSON object.
 */
json_t *container_inspect(const struct container *c);

/* container ls: the cells of C's line (NAME IMAGE COMMAND STATE UPTIME
 * NETWORK ADDRESS PORTS) added to TABLE; then the header and every line
 * printed, each column as wide as its widest cell, and TABLE freed. */
void container_list_add(struct strv *table, const struct container *c);
void container_list_print(struct strv *table, FILE *out);

#endif
