/*
 * rootfs.h - the mounts of a container's root filesystem around
 * pivot_root(2): what is taken from the host before pivot_root hides it
 * (device nodes, --volume sources, maybe /sys: detached copies made with
 * open_tree(2)), and what is mounted in the new root after it (/sys, a
 * minimal /dev, the volumes and --tmpfs mounts, a read-only root).  See mount_namespaces(7),
 * open_tree(2), move_mount(2), mount_setattr(2).  Used by ns-enter.
 *
 * Each function returns 0, or -1 with errno; rootfs_failed() then names
 * the step ("mount devpts on /dev/pts"), for "ns-enter: STEP: why".
 */
#ifndef MINIDOCK_ROOTFS_H
#define MINIDOCK_ROOTFS_H

#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

/* --volume SRC:DST[:ro], or --tmpfs DST[:OPTIONS] (SOURCE NULL) */
struct volume {
	char *source;           /* a host path, made absolute; NULL: a tmpfs */
	char *dest;             /* a path inside the container */
	int read_only;
	int is_dir;
	int tree_fd;            /* a detached copy of SOURCE, or -1 */
	unsigned long flags;    /* a tmpfs: its MS_* flags... */
	char *data;             /* ...and its options for the kernel (size=) */
};

/*
 * The OPTIONS of --tmpfs DST[:OPTIONS], as docker run --tmpfs: flags
 * (ro, rw, exec, noexec, suid, nosuid, dev, nodev; nosuid, nodev and
 * noexec by default, as Docker's) into *FLAGS, tmpfs's own options (size,
 * mode, uid, gid, nr_inodes) into *DATA (malloc'd, or NULL).  0, or -1
 * with errno EINVAL for any other option.  OPTIONS may be NULL.  Used by
 * ns-enter and run (which checks before it makes anything).
 */
int tmpfs_options(const char *options, unsigned long *flags, char **data);

/* Sort the N mounts of V parents first (by the number of components of
 * DST, stable), as Docker does: a volume at /run/x over a tmpfs at /run. */
void rootfs_sort_mounts(struct volume *v, size_t n);

/* The host's /dev nodes a container gets (null, zero, full, random,
 * urandom, tty) and its /sys, copied before pivot_root(2) hides them. */
#define ROOTFS_N_DEVICES 6
struct host_trees {
	int dev[ROOTFS_N_DEVICES];
	int sys;                /* -1 unless sysfs cannot be mounted afresh */
};

/* pivot_root(2): glibc has no wrapper. */
static inline int pivot_root(const char *new_root, const char *put_old)
{
	return (int)syscall(SYS_pivot_root, new_root, put_old);
}

/* Make PATH (and its parents) as a directory, or as an empty file when
 * IS_DIR is 0; a file that is there already is left alone. */
int make_mount_point(const char *path, int is_dir);

/* Copy the device nodes, the N volumes (read-only ones made so; a tmpfs
 * has nothing to copy) and,
 * with COPY_SYS, a read-only /sys: a fresh sysfs needs a network
 * namespace owned by our user namespace, without which the host's will do. */
int rootfs_take_host_trees(struct host_trees *h, struct volume *v, size_t n,
			   int copy_sys);

/* In the new root: /sys (fresh and read-only, or the copy); /dev on a
 * tmpfs with the copied nodes, a private devpts, /dev/shm, the usual
 * links and, with NEW_IPC, /dev/mqueue; then the volumes at their DST. */
int rootfs_mount_sys(struct host_trees *h);
int rootfs_mount_dev(struct host_trees *h, int new_ipc);
/* /sys/fs/cgroup as Docker gives a container: its own cgroups, read-only,
 * seen through its cgroup namespace (cgroup_namespaces(7)), so that it
 * can read its limits (cat /sys/fs/cgroup/memory.max).  Pure v2: one
 * cgroup2 mount; v1 or hybrid: a tmpfs with a cgroup mount per hierarchy
 * of /proc/self/cgroup.  Call after /proc and /sys are mounted. */
int rootfs_mount_cgroup(void);
int rootfs_mount_volumes(struct volume *v, size_t n);

/* --read-only: a writable tmpfs on /tmp (unless one of the N mounts of V
 * is there already: a volume or --tmpfs /tmp), then "/" read-only. */
int rootfs_read_only(const struct volume *v, size_t n);

/* chdir(2) to DIR, then check with getcwd(3) that it lies in our root: a
 * directory reached through a descriptor of the host would not
 * (CVE-2024-21626). */
int rootfs_enter_workdir(const char *dir);

/* The step that failed last. */
const char *rootfs_failed(void);

#endif
