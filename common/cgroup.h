/*
 * cgroup.h - where the cgroups are on this host: the cgroup v1 and v2
 * hierarchies found in /proc/self/mountinfo, the caller's own cgroup in
 * each (/proc/self/cgroup), and the files of one cgroup.  See cgroups(7)
 * and common/cgroup.c.  Used by cg-limit, and by container exec through
 * common/cgroup-join.c.
 */
#ifndef MINIDOCK_CGROUP_H
#define MINIDOCK_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CG_MAX_HIERARCHIES 16
#define CG_UNLIMITED UINT64_MAX         /* "max" (v2), a v1 "no limit" */

/* One hierarchy the cgroup is made in: one for v2, one per mount for v1. */
struct cg_hierarchy {
	char *mount;        /* /sys/fs/cgroup (v2), /sys/fs/cgroup/memory (v1) */
	char *controllers;  /* v1: the ones cg-limit uses there, "cpu,cpuacct";
			       v2: the top cgroup's cgroup.controllers */
	char *own;          /* the caller's cgroup, from /proc/self/cgroup */
	char *parent;       /* where NAME goes: MOUNT/OWN/minidock by default */
	char *dir;          /* PARENT/NAME */
	char *join_file;    /* DIR/tasks (v1) or DIR/cgroup.procs (v2) */
	int made_parent;    /* PARENT did not exist: remove it too */
};

struct cg_layout {
	int version;                    /* the interface used: 1 or 2 */
	char *unified;                  /* the cgroup2 mount point, if any */
	char *v1_mounts;                /* "memory cpu ..." mounted as v1, for --info */
	char *busy_own;                 /* v2: own cgroup that holds processes */
	int default_parent;             /* PARENT is our "minidock" group */
	struct cg_hierarchy h[CG_MAX_HIERARCHIES];
	size_t n;
	char error[4200];               /* after a -1, the message for the tool:
					   "mkdir /sys/fs/cgroup/...: No such file..." */
};

/* The cgroup modules' errors, as die() and die_x() would print them:
 * "MESSAGE: strerror(errno)" into BUF, errno kept; or MESSAGE alone, errno
 * EINVAL.  Both return -1. */
int cgroup_fail(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int cgroup_fail_x(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The controllers cg-limit uses, in the order it makes the hierarchies
 * (v1) and enables them (v2): memory cpu cpuset pids cpuacct devices. */
extern const char *const cgroup_controllers[];

/*
 * Find the hierarchies (v2 if the cgroup2 mount has the memory controller
 * or no v1 controller is mounted, else v1) and, in each, PARENT: by
 * default OWN/minidock; with PARENT_OPT "/P" from the root, "P" from OWN.
 * On v1 the controllers of V1_SKIP ("cpuset devices") get no hierarchy.
 * -1 with errno and L->error (cgroup_free_layout all the same).
 */
int cgroup_find_layout(struct cg_layout *L, const char *parent_opt, const char *v1_skip);
void cgroup_free_layout(struct cg_layout *L);

/* The cgroup's directory in each hierarchy: PARENT/NAME. */
void cgroup_set_name(struct cg_layout *L, const char *name);
/* 1 when PARENT/NAME exists in a hierarchy. */
int cgroup_exists(const struct cg_layout *L);
/* cg-PID, or cg-PID-2... when another PID namespace used it; set as the name. */
char *cgroup_unused_name(struct cg_layout *L);
/* 1 when CONTROLLER ("memory") can limit a cgroup made here. */
int cgroup_controller_usable(const struct cg_layout *L, const char *controller);

/* The path of FILE of the cgroup, in the hierarchy of CONTROLLER
 * (malloc'd), or NULL when no hierarchy has it. */
char *cgroup_file(const struct cg_layout *L, const char *controller, const char *file);
/*
 * The number in FILE, or on its line "KEY VALUE" when KEY is not NULL
 * (memory.events: "oom_kill 1"): CG_UNLIMITED for "max", -1 and v1's
 * huge "no limit".  -1 when there is no such file or number.
 */
int cgroup_read_value(const struct cg_layout *L, const char *controller,
		      const char *file, const char *key, uint64_t *value);

/*
 * Before mkdir H->dir: mkdir H->parent if missing (then H->made_parent;
 * a new v1 cpuset gets its parent's CPUs and memory nodes), and on v2
 * enable our controllers in cgroup.subtree_control from the top down to
 * the parent (EBUSY: a cgroup on the way holds processes).  -1: L->error.
 */
int cgroup_prepare_parent(struct cg_layout *L, struct cg_hierarchy *h);
/* After mkdir H->dir: a v1 cpuset starts empty, and no process may join
 * it: copy cpuset.cpus and cpuset.mems from its parent. */
int cgroup_prepare_dir(struct cg_layout *L, struct cg_hierarchy *h);

/* Kill every process of the cgroup (cgroup.kill on v2, else SIGKILL to
 * each PID of cgroup.procs) and wait until none is listed (5 s at most).
 * -1 when cgroup.kill refused (L->error); the SIGKILLs went all the same. */
int cgroup_kill_all(struct cg_layout *L);
/* Write our PID back into our own cgroup in the first N hierarchies
 * (undo a join that failed half-way).  -1: L->error. */
int cgroup_move_back(struct cg_layout *L, size_t n);

/*
 * The mount point of the hierarchy that /proc/PID/cgroup calls
 * "ID:CONTROLLERS": the cgroup2 mount for "0:" (CONTROLLERS empty), else
 * the v1 mount whose options name every controller of CONTROLLERS
 * ("memory", "cpu,cpuacct", "name=systemd"); malloc'd.  NULL when it is
 * not mounted here, or mounted from another root than "/".
 */
char *cgroup_mount_of(const char *controllers);

#endif
