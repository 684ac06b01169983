/*
 * ns-enter - run COMMAND isolated: in new namespaces and, with --root, in
 * a root filesystem of its own.  The heart of a container, in one file.
 *
 * NAMESPACES.  A namespace gives a process its own copy of one global
 * resource: process IDs (pid), the mount table (mount), the hostname (uts),
 * System V IPC (ipc), the network stack (net), the view of the cgroup tree
 * (cgroup), user and group IDs (user), the monotonic and boot clocks
 * (time).  unshare(2) moves the caller into new ones; clone3(2) starts a
 * child in them; setns(2) joins an existing one through a file such as
 * /proc/PID/ns/net.  For pid and time, unshare(2) and setns(2) only decide
 * where the caller's next *children* go.
 *
 * PIVOT_ROOT.  chroot(2) only changes where path lookups start: the old
 * root stays mounted, and a process holding a directory outside walks
 * back out.  A container makes its directory the root *mount* of its own
 * mount namespace with pivot_root(2), then unmounts the old root: nothing
 * of the host's filesystem is left to reach.  Every mount is made private
 * first, so that nothing propagates back to the host.
 *
 * PID 1.  The first process of a pid namespace is its init: orphans are
 * re-parented to it, so it must reap them; it gets no signal it has no
 * handler for; when it exits the kernel kills the whole namespace.  A
 * shell is not written for that, so a tiny init (run_init, after tini) is
 * PID 1:
 *
 *     ns-enter       the supervisor: stays on the host (its mounts, root,
 *     |              pid namespace), forwards signals, waits, exits with
 *     |              COMMAND's status
 *     `- init        PID 1, born in the new namespaces by clone3(2):
 *        |           builds the container, reaps, forwards signals
 *        `- COMMAND  PID 2
 *
 * The supervisor enters only a --net=FILE, a user namespace (so that the
 * others belong to it) and, for its children, a time namespace.  Without
 * --pid nor --time, ns-enter unshare(2)s and becomes COMMAND.  main()
 * lists the steps, defined below in the order they run.  In common/:
 * nsopts.c (options), userns.c (the full user map), rootfs.c (/dev, /sys,
 * volumes, --tmpfs), namespaces.c (--target).  Read along: namespaces(7), clone(2),
 * unshare(2), setns(2), pivot_root(2), mount_namespaces(7),
 * pid_namespaces(7), user_namespaces(7), time_namespaces(7).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "minidock.h"
#include "namespaces.h"
#include "nsopts.h"
#include "passwd.h"
#include "rootfs.h"
#include "security.h"
#include "userns.h"

static void join_network_namespace(const char *file);
static void enter_user_namespace(const struct options *o);
static void enter_time_namespace(const struct options *o);
static void start_child(int flags);
static void create_namespaces(int flags);
static void build_container(struct options *o);
static void run_init(struct options *o) __attribute__((noreturn));
static void exec_in_container(struct options *o) __attribute__((noreturn));
static void enter_target(struct options *o);

int main(int argc, char **argv)
{
	struct options o;
	char *why;
	int flags;

	md_init("ns-enter");
	if (options_parse(argc, argv, &o, &why) < 0)   /* common/nsopts.c */
		die_x("%s", why);
	if (!o.command)         /* --help, --version */
		return 0;
	/* A SIGCHLD ignored by our caller would make the kernel reap our
	 * children before we can read their status. */
	if (signal(SIGCHLD, SIG_DFL) == SIG_ERR)
		die("signal(SIGCHLD)");
	if (o.target) {
		enter_target(&o);       /* docker exec: returns in the child */
	} else {
		/* While we still have the host's privileges and paths. */
		if (o.net_file)
			join_network_namespace(o.net_file);
		if (o.flags & CLONE_NEWUSER)
			enter_user_namespace(&o);
		if (o.flags & CLONE_NEWTIME)
			enter_time_namespace(&o);
		flags = o.flags & ~(CLONE_NEWUSER | CLONE_NEWTIME |
				    (o.net_file ? CLONE_NEWNET : 0));
		/* These two apply to children only: they need a new process. */
		if (o.flags & (CLONE_NEWPID | CLONE_NEWTIME))
			start_child(flags);     /* returns in the child only */
		else
			create_namespaces(flags);
		build_container(&o);
	}
	/* In init too, so that --target PID lands there (common/rootfs.c
	 * checks it is inside the root: CVE-2024-21626). */
	if (o.workdir && rootfs_enter_workdir(o.workdir) < 0)
		die("%s", rootfs_failed());
	if ((o.flags & CLONE_NEWPID) && !o.no_init)
		run_init(&o);
	exec_in_container(&o);
}

/* --net=FILE, a namespace kept by a file (ip netns add, net-bridge). */
static void join_network_namespace(const char *file)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("--net=%s", file);
	/* NS_GET_NSTYPE: an ioctl(2) of nsfs; anything else says ENOTTY. */
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
		die_x("--net=%s: not a network namespace", file);
	vlog("setns(\"%s\", CLONE_NEWNET)", file);
	if (setns(fd, CLONE_NEWNET) < 0)
		die("setns %s (CLONE_NEWNET)", file);
	close(fd);
}

/* A line to a /proc file the kernel reads as a whole (uid_map...). */
static void write_proc_file(const char *file, const char *text)
{
	vlog("write %s = \"%s\"", file, text);
	if (write_file(file, text) < 0)
		die("write %s = \"%s\"", file, text);
}

/* A user namespace where the caller is root: the full map for a caller
 * with subordinate IDs (common/userns.c), else the single-ID map "0 UID 1"
 * written here, after denying setgroups(2): else an unprivileged caller
 * could drop a group that denies it a file. */
static void enter_user_namespace(const struct options *o)
{
	uid_t uid = geteuid();      /* read before unshare: then unmapped */
	gid_t gid = getegid();
	struct userns_map m;
	const char *helper;
	char *refused, map[64];
	int rc;

	if (userns_choose_map(&m, o->single_map) < 0)
		die("--userns: reading our capabilities");
	if ((refused = userns_refuse_user(&m, o->set_user, o->uid, o->set_group, o->gid)))
		die_x("%s", refused);
	if (m.full && userns_helper_start(&m) < 0)
		die("fork a helper for newuidmap");
	if (!m.full)
		vlog("single-id map: %s", m.why_single);
	vlog("unshare(CLONE_NEWUSER)");
	if (unshare(CLONE_NEWUSER) < 0)
		die("unshare(CLONE_NEWUSER)");
	if (m.full) {
		rc = userns_helper_finish(&m, &helper);
		if (rc < 0)
			die("the newuidmap helper");
		if (rc > 0)
			die_x("%s %d: failed: it said why above", helper, (int)getpid());
	} else {
		write_proc_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		write_proc_file("/proc/self/uid_map", map);
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		write_proc_file("/proc/self/gid_map", map);
	}
	userns_map_free(&m);
}

/* A time namespace for our children (time_namespaces(7)): CLOCK_MONOTONIC
 * and CLOCK_BOOTTIME (the uptime) are the host's plus offsets, written
 * while no process is in it: now, before the first child. */
static void enter_time_namespace(const struct options *o)
{
	vlog("unshare(CLONE_NEWTIME)");
	if (unshare(CLONE_NEWTIME) < 0)
		die("unshare(CLONE_NEWTIME)");
	for (size_t i = 0; i < o->n_time_offsets; i++)  /* CLOCK SECONDS NS */
		write_proc_file("/proc/self/timens_offsets", o->time_offsets[i].line);
}

/* clone3(2) is fork(2) with flags: the child starts in new namespaces
 * (with CLONE_NEWPID, as PID 1) and returns.  The parent supervises it:
 * forwards signals, waits, exits with its status. */
static void start_child(int flags)
{
	struct clone_args args = { .flags = (unsigned)flags, .exit_signal = SIGCHLD };
	pid_t child;
	int code;

	/* Blocked until supervise() or init is ready: none is lost. */
	if (block_forwarded_signals() < 0)
		die("sigprocmask");
	vlog("clone3(%s)", namespace_flag_names(flags));
	fflush(NULL);
	child = clone3(&args, sizeof(args));
	if (child < 0)
		die("clone3(%s)", namespace_flag_names(flags));
	if (child == 0)
		return;
	code = supervise(child);
	if (code < 0)
		die("waitpid %d", (int)child);
	exit(code);
}

static void create_namespaces(int flags)
{
	if (!flags)
		return;
	vlog("unshare(%s)", namespace_flag_names(flags));
	if (unshare(flags) < 0)
		die("unshare(%s)", namespace_flag_names(flags));
}

/* pivot_root(".", "."): the new root becomes "/", the old one is stacked
 * on it, reachable through "." only, until detach_old_root (the trick of
 * pivot_root(2), used by runc). */
static void pivot_into(const char *root)
{
	vlog("chdir(\"%s\")", root);
	if (chdir(root) < 0)
		die("chdir %s", root);
	vlog("pivot_root(\".\", \".\")");
	if (pivot_root(".", ".") < 0)
		die("pivot_root %s", root);
}

/* A /proc of the new pid namespace: ps sees only the container. */
static void mount_proc(void)
{
	if (make_mount_point("/proc", 1) < 0)
		die("%s", rootfs_failed());
	vlog("mount(\"proc\", \"/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die("mount proc on /proc");
}

/* Late: a user namespace may mount a new /proc or /sys only while a full
 * one is visible (mount_too_revealing in the kernel's fs/namespace.c). */
static void detach_old_root(void)
{
	vlog("umount2(\".\", MNT_DETACH)");
	if (umount2(".", MNT_DETACH) < 0)
		die("umount2 the old root");
	vlog("chdir(\"/\")");
	if (chdir("/") < 0)
		die("chdir /");
}

/* The whole --root sequence.  Order matters: host paths are read before
 * pivot_root(2); /proc and /sys are mounted before the old root goes. */
static void enter_root(struct options *o)
{
	/* No fresh sysfs without a network namespace of our user namespace. */
	int copy_sys = (o->flags & CLONE_NEWUSER) &&
		       (!(o->flags & CLONE_NEWNET) || o->net_file);
	struct host_trees h;

	/* --overlay: the root is an overlayfs of the image's layers, mounted
	 * here, in the container's own mount namespace: rootless, a user
	 * namespace's root may mount overlayfs (Linux 5.11), so the image
	 * need not be copied, and the mount ends with the container. */
	if (o->overlay) {
		vlog("mount(\"overlay\", \"%s\", \"overlay\", 0, \"%s\")", o->root, o->overlay);
		if (mount("overlay", o->root, "overlay", 0, o->overlay) < 0)
			die("mount overlay on %s", o->root);
	}
	/* pivot_root(2) wants the new root to be a mount point. */
	vlog("mount(\"%s\", \"%s\", NULL, MS_BIND|MS_REC, NULL)", o->root, o->root);
	if (mount(o->root, o->root, NULL, MS_BIND | MS_REC, NULL) < 0)
		die("mount %s on %s", o->root, o->root);
	if (rootfs_take_host_trees(&h, o->volumes, o->n_volumes, copy_sys) < 0)
		die("%s", rootfs_failed());
	pivot_into(o->root);
	/* Without a pid namespace of its own, the container would get the
	 * host's /proc, and /proc/1/root would lead straight back out. */
	if (o->flags & CLONE_NEWPID)
		mount_proc();
	if (rootfs_mount_sys(&h) < 0 || rootfs_mount_dev(&h, o->flags & CLONE_NEWIPC) < 0 ||
	    rootfs_mount_volumes(o->volumes, o->n_volumes) < 0)
		die("%s", rootfs_failed());
	/* Its own cgroups, read-only, at /sys/fs/cgroup (as Docker). */
	if ((o->flags & CLONE_NEWCGROUP) && (o->flags & CLONE_NEWPID) && h.sys < 0 &&
	    rootfs_mount_cgroup() < 0)
		die("%s", rootfs_failed());
	detach_old_root();
	if (o->workdir && mkdir_p(o->workdir, 0755) < 0)
		die("--workdir %s", o->workdir);
	if (o->read_only && rootfs_read_only(o->volumes, o->n_volumes) < 0)
		die("%s", rootfs_failed());
	/* The masks cover /proc files: only meaningful with our own /proc. */
	if (o->flags & CLONE_NEWPID) {
		vlog("security_mask_paths()");
		if (security_mask_paths(&o->security) < 0)
			die("masking /proc and /sys paths: %s", security_last_step());
	}
}

/* Everything the container needs, once in its namespaces. */
static void build_container(struct options *o)
{
	/* On a systemd host "/" is shared: without this our mounts would
	 * appear on the host, and unmounting the old root unmount it there. */
	if (o->flags & CLONE_NEWNS) {
		vlog("mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL)");
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			die("mount / MS_PRIVATE");
	}
	if (o->hostname) {
		vlog("sethostname(\"%s\")", o->hostname);
		if (sethostname(o->hostname, strlen(o->hostname)) < 0)
			die("sethostname %s", o->hostname);
	}
	/* A new network namespace has only lo, and it is down. */
	if ((o->flags & CLONE_NEWNET) && !o->net_file && loopback_up() < 0)
		die("ioctl(SIOCSIFFLAGS, lo up)");
	if (o->root)
		enter_root(o);
	else if ((o->flags & CLONE_NEWPID) && (o->flags & CLONE_NEWNS))
		mount_proc();   /* as unshare --mount-proc: for ps */
}

/*
 * PID 1 of the container: start COMMAND, pass it every forwarded signal,
 * reap every child (orphans land here), and exit with COMMAND's status;
 * the kernel then kills whatever is left in the namespace.  Signals are
 * taken with sigwaitinfo(2), as tini does: no handler, no race.
 */
static void run_init(struct options *o)
{
	sigset_t set;
	pid_t command, pid;
	int wstatus, code = EXIT_TOOL_FAILED, sig;

	/* A new session, so that a kill(0, sig) inside does not reach the
	 * caller's process group; but not at a terminal, where it would cut
	 * COMMAND from the terminal and break job control. */
	if (!isatty(0) && !isatty(1) && !isatty(2)) {
		vlog("setsid()");
		if (setsid() < 0)
			die("setsid");
	}
	/* Not dumpable: no process of the container may open /proc/1/exe,
	 * the host's ns-enter binary (CVE-2019-5736). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die("prctl(PR_SET_DUMPABLE)");
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die("sigprocmask");
	command = fork();
	if (command < 0)
		die("fork");
	if (command == 0) {
		if (sigprocmask(SIG_UNBLOCK, &set, NULL) < 0)
			die("sigprocmask");
		exec_in_container(o);
	}
	vlog("init: fork() = %d", (int)command);
	if (sigprocmask(SIG_BLOCK, NULL, &set) < 0)  /* all that is blocked */
		die("sigprocmask");
	while (command != 0) {
		sig = sigwaitinfo(&set, NULL);
		if (sig < 0 && errno != EINTR)
			die("sigwaitinfo");
		if (sig > 0 && sig != SIGCHLD)
			kill(command, sig);  /* ESRCH: it just exited, fine */
		while (sig == SIGCHLD && (pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
			if (pid == command) {
				code = exit_code_of(wstatus);
				command = 0;
			}
		}
	}
	fflush(NULL);
	_exit(code);    /* a forked child: not its parent's atexit work */
}

/* The last steps before execve(2), in the process that becomes COMMAND. */
static void exec_in_container(struct options *o)
{
	gid_t gid = o->set_group ? o->gid : 0;
	const char *bad;

	/* No GID: the user's group in the container's /etc/passwd, else 0
	 * (docker run; common/passwd.c). */
	if (o->set_user && !o->set_group && passwd_primary_gid("/", o->uid, &gid) < 0)
		die("open /");

	if (unblock_forwarded_signals() < 0)
		die("sigprocmask");
	/* A container's environment is its own, as Docker's: the chain's
	 * MINIDOCK_* variables stop here, then --env (common/nsopts.c). */
	if (options_set_env(o, &bad) < 0)
		die("--env %s", bad);
	/* Before setuid(2): an ordinary user cannot shrink the bounding set. */
	vlog("security_apply()");
	if (security_apply(&o->security) < 0)
		die("applying capabilities, no_new_privs and seccomp: %s",
		    security_last_step());
	if (o->set_user) {
		vlog("setgroups(0, NULL); setgid(%u); setuid(%u)",
		     (unsigned)gid, (unsigned)o->uid);
		/* Denied under the single-ID map: our groups stay as they are. */
		if (setgroups(0, NULL) < 0 && errno != EPERM)
			die("setgroups");
		if (setgid(gid) < 0)
			die("--user: setgid %u", (unsigned)gid);
		if (setuid(o->uid) < 0)
			die("--user: setuid %u", (unsigned)o->uid);
	}
	vlog("execvp(\"%s\")", o->command[0]);
	exec_command(o->command);
}

/* --target PID, as nsenter -a and docker exec: into the namespaces, root
 * and working directory of a running container (common/namespaces.c).
 * Returns in the child; the supervisor exits with COMMAND's status. */
static void enter_target(struct options *o)
{
	struct ns_target t;
	int code, rc = target_enter(&t, o->target, &code);

	if (rc < 0 && errno == ESRCH)
		die_x("--target %d: no such process", (int)o->target);
	if (rc < 0)
		die("--target %d: %s", (int)o->target, t.failed);
	fflush(NULL);
	/* Stuck in the container's pid namespace, where exit(3) would start
	 * LeakSanitizer's helper: _exit(2). */
	if (rc > 0 && t.stuck)
		_exit(code);
	if (rc > 0)
		exit(code);
}
