/*
 * store.c - the state of a container, shared by run and container: its
 * directory, its processes, and the sibling tools it is made of.
 *
 * See proc(5) (/proc/PID/stat, /proc/PID/task/TID/children, /proc/PID/ns),
 * pidfd_open(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "minidock.h"
#include "store.h"

int store_rootless(void)
{
	char map[64] = "";
	unsigned long a, b, n;
	FILE *f;

	if (geteuid() != 0)
		return 1;
	/* Root of a user namespace (rootless img-build runs in one) is not
	 * the host's root: its map is not the whole identity "0 0 4294967295". */
	if (!(f = fopen("/proc/self/uid_map", "re")))
		return 0;
	if (!fgets(map, sizeof(map), f))
		map[0] = '\0';
	fclose(f);
	return !(sscanf(map, "%lu %lu %lu", &a, &b, &n) == 3 && a == 0 && b == 0 &&
		 n == 4294967295UL);
}

/* /tmp is everybody's: a directory there is ours only if we own it and
 * nobody else may write in it (or another user could plant links). */
static int check_own_dir(const char *dir, char **why)
{
	struct stat st;

	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || lstat(dir, &st) < 0) {
		*why = xasprintf("mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		*why = xasprintf("%s: not a directory of yours that only you may write "
				 "(set MINIDOCK_RUN_DIR)", dir);
		errno = EPERM;
		return -1;
	}
	return 0;
}

int store_user_dirs(char **why)
{
	const char *data = getenv("XDG_DATA_HOME"), *runtime = getenv("XDG_RUNTIME_DIR");
	const char *home = getenv("HOME");
	char *dir;

	*why = NULL;
	if (!getenv("MINIDOCK_LIB_DIR") || !getenv("MINIDOCK_LIB_DIR")[0]) {
		if (data && data[0] == '/') {
			dir = xasprintf("%s/minidock", data);
		} else if (home && home[0] == '/') {
			dir = xasprintf("%s/.local/share/minidock", home);
		} else {
			*why = xstrdup("rootless: no $HOME nor $XDG_DATA_HOME for the images "
				       "(set MINIDOCK_LIB_DIR)");
			errno = ENOENT;
			return -1;
		}
		setenv("MINIDOCK_LIB_DIR", dir, 1);
		free(dir);
	}
	if (!getenv("MINIDOCK_RUN_DIR") || !getenv("MINIDOCK_RUN_DIR")[0]) {
		if (runtime && runtime[0] == '/') {
			dir = xasprintf("%s/minidock", runtime);
		} else {
			dir = xasprintf("/tmp/minidock-%u", (unsigned)geteuid());
			if (check_own_dir(dir, why) < 0) {
				free(dir);
				return -1;
			}
		}
		setenv("MINIDOCK_RUN_DIR", dir, 1);
		free(dir);
	}
	vlog("rootless: images in %s, state in %s", md_lib_dir(), md_run_dir());
	return 0;
}

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
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	str = xmalloc(n > 0 ? (size_t)n + 1 : 1);
	str[0] = '\0';
	va_start(ap, fmt);
	if (n > 0)
		vsnprintf(str, (size_t)n + 1, fmt, ap);
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
	char *exe = NULL, *slash, *path;
	size_t cap = 256;
	ssize_t n;

	/* The path of our own binary: bin-san/run uses bin-san/ns-enter. */
	for (;;) {
		exe = xrealloc(exe, cap);
		n = readlink("/proc/self/exe", exe, cap);
		if (n < 0) {
			int e = errno;
			free(exe);
			errno = e;
			return NULL;
		}
		if ((size_t)n < cap)
			break;
		cap *= 2;
	}
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	path = xasprintf("%s/%s", exe, tool);
	free(exe);
	return path;
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

int run_tool(const char *tool, char *const args[], char **out, int quiet)
{
	int pipefd[2] = { -1, -1 }, wstatus, e;
	struct strv argv = { 0 };
	pid_t pid;
	size_t i;

	strv_push(&argv, tool);
	free(argv.v[0]);
	if (!(argv.v[0] = tool_path(tool))) {
		e = errno;
		strv_free(&argv);
		errno = e;
		return -1;
	}
	for (i = 0; args[i]; i++)
		strv_push(&argv, args[i]);
	if (out && pipe2(pipefd, O_CLOEXEC) < 0)
		goto fail;
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		if (out && dup2(pipefd[1], STDOUT_FILENO) < 0)
			_exit(EXIT_TOOL_FAILED);
		if (quiet) {
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
			if (null >= 0)
				dup2(null, STDERR_FILENO);
		}
		execv(argv.v[0], argv.v);
		fprintf(stderr, "%s: %s: %s\n", md_tool, argv.v[0], strerror(errno));
		_exit(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
	}
	strv_free(&argv);
	if (out) {
		close(pipefd[1]);
		*out = slurp_fd(pipefd[0]);
		close(pipefd[0]);
	}
	while (waitpid(pid, &wstatus, 0) < 0)
		if (errno != EINTR)
			return -1;
	return exit_code_of(wstatus);
fail:
	e = errno;
	if (pipefd[0] >= 0) {
		close(pipefd[0]);
		close(pipefd[1]);
	}
	strv_free(&argv);
	errno = e;
	return -1;
}

char *random_name(void)
{
	static const char *const adjectives[] = {
		"agile", "bold", "brave", "calm", "clever", "eager", "fancy",
		"gentle", "happy", "jolly", "keen", "lucid", "merry", "nimble",
		"quiet", "rapid", "shiny", "sturdy", "swift", "tidy", "witty",
	};
	static const char *const nouns[] = {
		"ampere", "babbage", "curie", "darwin", "euler", "fermat",
		"galois", "hopper", "kepler", "lamarr", "lovelace", "noether",
		"pascal", "poincare", "shannon", "turing", "volta", "wozniak",
	};
	unsigned int r[3];

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return NULL;
	return xasprintf("%s_%s_%02u",
			 adjectives[r[0] % (sizeof(adjectives) / sizeof(*adjectives))],
			 nouns[r[1] % (sizeof(nouns) / sizeof(*nouns))], r[2] % 100);
}

char *state_dir(const char *name)
{
	return xasprintf("%s/%s", md_run_dir(), name);
}

char *state_file(const char *name, const char *file)
{
	return xasprintf("%s/%s/%s", md_run_dir(), name, file);
}

int write_pid_file(const char *path, pid_t pid)
{
	char *text = xasprintf("%d %llu\n", (int)pid, proc_start_time(pid));
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
	if (pid > 0 && (started == 0 || proc_start_time(pid) != started))
		pid = 0;
	return pid;
}

/*
 * How deep PID's pid namespace is below the one of our /proc: the number
 * of IDs on the "NSpid:" line of /proc/PID/status ("NSpid: 4242 1" for a
 * container's PID 1 seen from the host: 2).  Unlike /proc/PID/ns/pid, any
 * user may read it, even for a process that is not dumpable, as ns-enter's
 * init is (a rootless container's init included).  0 when PID is gone.
 */
static int pid_ns_depth(pid_t pid)
{
	char *path = xasprintf("/proc/%d/status", (int)pid);
	char *text = read_file(path, NULL), *line, *tok, *save = NULL;
	int depth = 0;

	free(path);
	line = text ? strstr(text, "\nNSpid:") : NULL;
	if (line) {
		line[strcspn(line + 1, "\n") + 1] = '\0';
		for (tok = strtok_r(line + 7, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
			depth++;
	}
	free(text);
	return depth;
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

pid_t first_child(pid_t pid)
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
	int ours = pid_ns_depth(getpid()), step;
	pid_t pid = chain;

	/* cg-limit -> net-bridge -> ns-enter -> the container's init: a few
	 * steps down at most; the bound only guards against a strange tree. */
	for (step = 0; ours && pid > 0 && step < 16; step++) {
		if (pid_ns_depth(pid) > ours)
			return pid;
		pid = first_child(pid);
	}
	return 0;
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

/* /proc/PID/comm: the program's name, at most 15 characters. */
static char *comm_of(pid_t pid)
{
	char *path = xasprintf("/proc/%d/comm", (int)pid), *text = read_file(path, NULL);

	free(path);
	return text;
}

/*
 * Whether A and B run different programs (both must be alive).  By
 * /proc/PID/exe; where that is refused (the init of a rootless container
 * is not dumpable, and belongs to the host's user namespace: proc(5)
 * wants ptrace rights for exe), by the name in /proc/PID/comm.
 */
static int runs_other_program(pid_t a, pid_t b)
{
	char *ea = exe_of(a), *eb = exe_of(b);
	int other;

	if (!ea || !eb) {
		free(ea);
		free(eb);
		ea = comm_of(a);
		eb = comm_of(b);
	}
	other = ea && eb && strcmp(ea, eb) != 0;
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

int wait_command_started(pid_t chain, int *wstatus)
{
	for (;;) {
		pid_t r = waitpid(chain, wstatus, WNOHANG);
		if (r == chain)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (container_command_started(chain))
			return 1;
		sleep_ms(1);
	}
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
