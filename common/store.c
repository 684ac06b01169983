/*
 * store.c - the state of a container, shared by run and container: its
 * directory, its processes, and the sibling tools it is made of.
 *
 * See proc(5) (/proc/PID/stat, /proc/PID/task/TID/children, /proc/PID/ns),
 * pidfd_open(2), umount(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "minidock.h"
#include "store.h"

void strv_push(struct strv *s, const char *str)
{
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = xstrdup(str);
	s->v[s->n] = NULL;
}

void strv_pushf(struct strv *s, const char *fmt, ...)
{
	va_list ap;
	char *str;

	va_start(ap, fmt);
	if (vasprintf(&str, fmt, ap) < 0) {
		va_end(ap);
		die("vasprintf");
	}
	va_end(ap);
	strv_push(s, str);
	free(str);
}

void strv_free(struct strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

char *tool_path(const char *tool)
{
	char *exe = NULL, *slash;
	size_t cap = 256;
	ssize_t n;

	/* The path of our own binary: bin-san/run uses bin-san/ns-enter. */
	for (;;) {
		exe = xrealloc(exe, cap);
		n = readlink("/proc/self/exe", exe, cap);
		if (n < 0)
			die("readlink /proc/self/exe");
		if ((size_t)n < cap)
			break;
		cap *= 2;
	}
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	{
		char *path = xasprintf("%s/%s", exe, tool);
		free(exe);
		return path;
	}
}

/* Read all of FD into a malloc'd string. */
static char *slurp_fd(int fd)
{
	size_t cap = 1024, len = 0;
	char *buf = xmalloc(cap);

	for (;;) {
		ssize_t n;
		if (len + 1 >= cap)
			buf = xrealloc(buf, cap *= 2);
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

int run_tool(char *const argv[], char **out, int quiet)
{
	int pipefd[2] = { -1, -1 }, wstatus;
	pid_t pid;

	if (out && pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (out && dup2(pipefd[1], STDOUT_FILENO) < 0)
			_exit(EXIT_TOOL_FAILED);
		if (quiet) {
			int null = open("/dev/null", O_WRONLY);
			if (null >= 0)
				dup2(null, STDERR_FILENO);
		}
		execv(argv[0], argv);
		fprintf(stderr, "%s: %s: %s\n", md_tool, argv[0], strerror(errno));
		_exit(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
	}
	if (out) {
		close(pipefd[1]);
		*out = slurp_fd(pipefd[0]);
		close(pipefd[0]);
	}
	while (waitpid(pid, &wstatus, 0) < 0)
		if (errno != EINTR)
			return -1;
	return exit_code_of(wstatus);
}

char *state_dir(const char *name)
{
	return xasprintf("%s/%s", md_run_dir(), name);
}

char *state_file(const char *name, const char *file)
{
	return xasprintf("%s/%s/%s", md_run_dir(), name, file);
}

/* Field 22 of /proc/PID/stat: when the process started, in clock ticks
 * since boot.  With the PID it names one process, even after PID reuse.
 * 0 for a zombie (field 3 is 'Z'): it has ended, only its parent has not
 * read its status yet. */
static unsigned long long start_time(pid_t pid)
{
	char *path = xasprintf("/proc/%d/stat", (int)pid);
	char *stat = read_file(path, NULL), *p;
	unsigned long long t = 0;
	int field;

	free(path);
	if (!stat)
		return 0;
	/* The command name (field 2) may hold spaces: count after its ')'. */
	p = strrchr(stat, ')');
	if (p && p[1] == ' ' && p[2] == 'Z')
		p = NULL;
	for (field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p)
		t = strtoull(p + 1, NULL, 10);
	free(stat);
	return t;
}

int write_pid_file(const char *path, pid_t pid)
{
	char *text = xasprintf("%d %llu\n", (int)pid, start_time(pid));
	int ret = write_file(path, text);

	free(text);
	return ret;
}

pid_t read_live_pid(const char *path)
{
	char *text = read_file(path, NULL);
	unsigned long long started = 0;
	int pid = 0;

	if (!text)
		return 0;
	if (sscanf(text, "%d %llu", &pid, &started) != 2 || pid <= 0)
		pid = 0;
	free(text);
	if (pid > 0 && (started == 0 || start_time(pid) != started))
		pid = 0;
	return pid;
}

/* "pid:[4026531836]": which PID namespace PID lives in. */
static char *pid_ns_of(pid_t pid)
{
	char *path = pid ? xasprintf("/proc/%d/ns/pid", (int)pid)
			 : xstrdup("/proc/self/ns/pid");
	char buf[64];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	free(path);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

/* The parent of PID (field 4 of /proc/PID/stat), or 0. */
static pid_t parent_of(pid_t pid)
{
	char *path = xasprintf("/proc/%d/stat", (int)pid);
	char *stat = read_file(path, NULL), *p;
	int ppid = 0;

	free(path);
	if (!stat)
		return 0;
	p = strrchr(stat, ')');
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		ppid = 0;
	free(stat);
	return ppid;
}

/* The first child of PID (the chain's tools each have one), or 0. */
static pid_t first_child(pid_t pid)
{
	char *path = xasprintf("/proc/%d/task/%d/children", (int)pid, (int)pid);
	char *text = read_file(path, NULL);
	pid_t child = 0;

	free(path);
	if (text) {
		child = (pid_t)strtol(text, NULL, 10);
		free(text);
	}
	return child;
}

pid_t container_init(pid_t chain)
{
	char *ours = pid_ns_of(0);
	pid_t pid = chain, found = 0;
	int depth;

	/* cg-limit -> net-bridge -> ns-enter -> the container's init: a few
	 * steps down at most; the bound only guards against a strange tree. */
	for (depth = 0; ours && pid > 0 && depth < 16; depth++) {
		char *ns = pid_ns_of(pid);
		int other = ns && strcmp(ns, ours) != 0;

		free(ns);
		if (other) {
			found = pid;
			break;
		}
		pid = first_child(pid);
	}
	free(ours);
	return found;
}

/* The target of /proc/PID/exe: which program PID runs. */
static char *exe_of(pid_t pid)
{
	char *path = xasprintf("/proc/%d/exe", (int)pid), *buf = xmalloc(PATH_MAX);
	ssize_t n = readlink(path, buf, PATH_MAX - 1);

	free(path);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* Whether A and B run different programs (both must be alive). */
static int runs_other_program(pid_t a, pid_t b)
{
	char *ea = exe_of(a), *eb = exe_of(b);
	int other = ea && eb && strcmp(ea, eb) != 0;

	free(ea);
	free(eb);
	return other;
}

int container_command_started(pid_t chain)
{
	pid_t init = container_init(chain), child;

	if (!init)
		return 0;
	/* Without an init, PID 1 is COMMAND itself once it has exec'd. */
	if (runs_other_program(init, parent_of(init)))
		return 1;
	/* With ns-enter's init, COMMAND is its child, once exec'd. */
	child = first_child(init);
	return child > 0 && runs_other_program(init, child);
}

int wait_gone(pid_t pid, int timeout_ms)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0), n;
	struct pollfd pfd;

	if (fd < 0)
		return errno == ESRCH ? 0 : -1;
	/* A pidfd becomes readable when its process has ended. */
	pfd.fd = fd;
	pfd.events = POLLIN;
	do
		n = poll(&pfd, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return n < 0 ? -1 : 0;
}

int umount_rootfs(const char *name)
{
	char *rootfs = state_file(name, "rootfs");
	int ret = 0;

	if (umount2(rootfs, UMOUNT_NOFOLLOW) < 0) {
		/* EINVAL: not a mount point (a copy, or already unmounted). */
		if (errno == EINVAL || errno == ENOENT) {
			ret = 0;
		} else if (errno == EBUSY) {
			/* Still used (a process of a crashed chain holds it):
			 * detach it now, the kernel frees it when unused. */
			vlog("umount2(\"%s\", MNT_DETACH)", rootfs);
			ret = umount2(rootfs, MNT_DETACH | UMOUNT_NOFOLLOW);
		} else {
			ret = -1;
		}
	} else {
		vlog("umount2(\"%s\")", rootfs);
	}
	free(rootfs);
	return ret;
}

int remove_state(const char *name)
{
	char *dir = state_dir(name);
	int ret = umount_rootfs(name);

	/* rm_rf never crosses into another filesystem: if the rootfs is
	 * still mounted, it fails there instead of emptying the layers. */
	if (ret == 0)
		ret = rm_rf(dir);
	free(dir);
	return ret;
}
