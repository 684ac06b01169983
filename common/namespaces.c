/*
 * namespaces.c - the namespace kinds of namespaces(7), and the way into
 * those of a running process for ns-enter --target (setns(2); nsenter(1)
 * -a does the same, and docker exec).  Used by ns-enter.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "minidock.h"
#include "namespaces.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/*
 * --target joins them in this order: the user namespace first, because
 * joining it is what grants the capabilities the others ask for (the
 * order of nsenter(1)); the mount namespace last but one, so that the
 * /proc/PID/ns files stay reachable until then.
 */
const struct namespace namespaces[N_NAMESPACES] = {
	{ "userns", "user",   CLONE_NEWUSER,   "CLONE_NEWUSER" },
	{ "cgroup", "cgroup", CLONE_NEWCGROUP, "CLONE_NEWCGROUP" },
	{ "ipc",    "ipc",    CLONE_NEWIPC,    "CLONE_NEWIPC" },
	{ "uts",    "uts",    CLONE_NEWUTS,    "CLONE_NEWUTS" },
	{ "net",    "net",    CLONE_NEWNET,    "CLONE_NEWNET" },
	{ "pid",    "pid",    CLONE_NEWPID,    "CLONE_NEWPID" },
	{ "mount",  "mnt",    CLONE_NEWNS,     "CLONE_NEWNS" },
	{ "time",   "time",   CLONE_NEWTIME,   "CLONE_NEWTIME" },
};

const struct namespace *namespace_of(int flag)
{
	size_t i;

	for (i = 0; i < N_NAMESPACES; i++)
		if (namespaces[i].flag == flag)
			return &namespaces[i];
	return NULL;
}

const char *namespace_flag_names(int flags)
{
	static char buf[160];   /* the eight names and their '|': 126 */
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < N_NAMESPACES; i++) {
		if (!(flags & namespaces[i].flag))
			continue;
		if (buf[0])
			strcat(buf, "|");
		strcat(buf, namespaces[i].flag_name);
	}
	return buf[0] ? buf : "0";
}

int loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc, e;

	if (fd < 0)
		return -1;
	rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (rc == 0) {
		ifr.ifr_flags |= IFF_UP;
		vlog("ioctl(SIOCSIFFLAGS, \"lo\", IFF_UP)");
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* ---- --target ---- */

/* Name the failed step in T->failed, keep errno, return -1. */
static int failed(struct ns_target *t, const char *fmt, const char *arg)
{
	int e = errno;

	snprintf(t->failed, sizeof(t->failed), fmt, arg);
	errno = e;
	return -1;
}

/* /proc/PID/WHAT; a missing file of a process that is gone: ESRCH. */
static int open_of_target(struct ns_target *t, const char *what, int flags)
{
	char path[64];
	int fd, e;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)t->pid, what);
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT && kill(t->pid, 0) < 0 && errno == ESRCH)
			e = ESRCH;
		errno = e;
		failed(t, "%s", path);
	}
	return fd;
}

/* Already a member?  setns(2) into one's own user namespace is refused. */
static int same_namespace(int fd, const char *file)
{
	struct stat a, b;
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/ns/%s", file);
	if (fstat(fd, &a) < 0 || stat(path, &b) < 0)
		return 0;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Close every descriptor T holds; returns -1, errno kept (for failures). */
static int close_all(struct ns_target *t)
{
	int e = errno;
	size_t i;

	for (i = 0; i < N_NAMESPACES; i++) {
		if (t->ns[i] >= 0)
			close(t->ns[i]);
		t->ns[i] = -1;
	}
	if (t->root >= 0)
		close(t->root);
	if (t->cwd >= 0)
		close(t->cwd);
	if (t->own_pid_ns >= 0)
		close(t->own_pid_ns);
	t->root = t->cwd = t->own_pid_ns = -1;
	errno = e;
	return -1;
}

static int target_open(struct ns_target *t, pid_t pid)
{
	char what[32];
	size_t i;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->root = t->cwd = t->own_pid_ns = -1;
	for (i = 0; i < N_NAMESPACES; i++)
		t->ns[i] = -1;
	for (i = 0; i < N_NAMESPACES; i++) {
		snprintf(what, sizeof(what), "ns/%s", namespaces[i].file);
		if ((t->ns[i] = open_of_target(t, what, O_RDONLY)) < 0)
			return close_all(t);
		if (same_namespace(t->ns[i], namespaces[i].file)) {
			close(t->ns[i]);
			t->ns[i] = -1;
		}
	}
	if ((t->root = open_of_target(t, "root", O_RDONLY | O_DIRECTORY)) < 0 ||
	    (t->cwd = open_of_target(t, "cwd", O_RDONLY | O_DIRECTORY)) < 0)
		return close_all(t);
	return 0;
}

/* setns(2) into the target's namespace I, then forget its file. */
static int join(struct ns_target *t, size_t i)
{
	const struct namespace *ns = &namespaces[i];
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)t->pid, ns->file);
	vlog("setns(\"%s\", %s)", path, ns->flag_name);
	if (setns(t->ns[i], ns->flag) < 0) {
		int e = errno;
		snprintf(t->failed, sizeof(t->failed), "setns %s (%s)", path, ns->flag_name);
		errno = e;
		return -1;
	}
	close(t->ns[i]);
	t->ns[i] = -1;
	return 0;
}

static int join_pid_namespace(struct ns_target *t)
{
	size_t p = (size_t)(namespace_of(CLONE_NEWPID) - namespaces);
	size_t u = (size_t)(namespace_of(CLONE_NEWUSER) - namespaces);

	if (t->ns[p] < 0)
		return 0;
	t->own_pid_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (t->own_pid_ns < 0)
		return failed(t, "open %s", "/proc/self/ns/pid");
	if (join(t, p) == 0)
		return 0;
	/* An unprivileged caller has rights over the pid namespace only from
	 * inside the user namespace that owns it: join that first, as
	 * nsenter(1) does. */
	if (errno != EPERM || t->ns[u] < 0)
		return -1;
	vlog("setns: EPERM, the user namespace first");
	if (join(t, u) < 0)
		return -1;
	return join(t, p);
}

/* In the child: the other namespaces, the root, the working directory. */
static int join_the_rest(struct ns_target *t)
{
	size_t i;

	if (t->own_pid_ns >= 0)
		close(t->own_pid_ns);
	t->own_pid_ns = -1;
	for (i = 0; i < N_NAMESPACES; i++)
		if (t->ns[i] >= 0 && join(t, i) < 0)
			return close_all(t);
	vlog("fchdir(/proc/%d/root); chroot(\".\")", (int)t->pid);
	if (fchdir(t->root) < 0 || chroot(".") < 0) {
		failed(t, "%s", "entering its root");
		return close_all(t);
	}
	vlog("fchdir(/proc/%d/cwd)", (int)t->pid);
	if (fchdir(t->cwd) < 0) {
		failed(t, "%s", "entering its working directory");
		return close_all(t);
	}
	/* Until execve(2) this process runs the host's binary inside the
	 * container: not dumpable, so that no process there may open its
	 * /proc/PID/exe (CVE-2019-5736; ns-enter's init does the same). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		failed(t, "%s", "prctl(PR_SET_DUMPABLE)");
		return close_all(t);
	}
	close_all(t);
	return 0;
}

int target_enter(struct ns_target *t, pid_t pid, int *code)
{
	struct clone_args args = { .exit_signal = SIGCHLD };
	pid_t child;

	if (target_open(t, pid) < 0)
		return -1;
	if (join_pid_namespace(t) < 0)
		return close_all(t);
	if (block_forwarded_signals() < 0) {
		failed(t, "%s", "sigprocmask");
		return close_all(t);
	}
	/* fork(2), written as clone3(2) without flags as ns-enter does */
	vlog("clone3(0)");
	fflush(NULL);
	child = clone3(&args, sizeof(args));
	if (child < 0) {
		failed(t, "%s", "clone3(0)");
		return close_all(t);
	}
	if (child == 0)
		return join_the_rest(t);
	/* Back home, so that the supervisor stays on the host.  Refused when
	 * we had to join the target's user namespace first (STUCK). */
	if (t->own_pid_ns >= 0 && setns(t->own_pid_ns, CLONE_NEWPID) < 0) {
		vlog("setns back to our pid namespace: %s", strerror(errno));
		t->stuck = 1;
	}
	close_all(t);
	*code = supervise(child);
	if (*code < 0) {
		snprintf(t->failed, sizeof(t->failed), "waitpid %d", child);
		return -1;
	}
	return 1;
}
