/*
 * limite.c - run a command in a new cgroup that limits its memory.  TP
 * step 3, "À vous de coder" (the answer: tp/corrige/code/limite.c).
 *
 *   make exercices        (build/tp/3-contraindre/limite)
 *   sudo build/tp/3-contraindre/limite CGROUP BYTES COMMAND [ARG...]
 *
 * CGROUP is the new cgroup's directory, in a parent whose children get
 * the memory controller: tp/verifier 3 prepares one with cg-limit.
 * cg-limit does the same on both cgroup versions: read make_cgroup(),
 * write_limits(), join_cgroup() and remove_cgroup() in cmd/cg-limit.c,
 * and cgroups(7).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Write TEXT in DIR/FILE, as `echo TEXT > DIR/FILE`: 0, or -1 with errno. */
int write_file(const char *dir, const char *file, const char *text)
{
	char path[4096];
	ssize_t n;
	int fd, e;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -1;
	n = write(fd, text, strlen(text));
	e = errno;
	if (close(fd) < 0 || n != (ssize_t)strlen(text)) {
		errno = n < 0 ? e : errno;
		return -1;
	}
	return 0;
}

/* Step 1: LIMIT bytes in the cgroup's FILE: memory.max (cgroup v2) or
 * memory.limit_in_bytes (v1).  0, or -1 with errno. */
static int set_limit(const char *cgroup, const char *file, const char *limit)
{
	/* TODO 1: one call to write_file(). */
	return write_file(cgroup, file, limit);
}

/* Step 2: the calling process joins the cgroup: "0" written in its
 * cgroup.procs means "me".  Its children will be born inside.  0, or -1
 * with errno. */
static int join(const char *cgroup)
{
	/* TODO 2: one call to write_file(). */
	return write_file(cgroup, "cgroup.procs", "0");
}

int main(int argc, char **argv)
{
	char parent[4096], controllers[4200];
	const char *cgroup, *limit, *limit_file;
	int status;
	pid_t pid;

	if (argc < 4) {
		fprintf(stderr, "usage: limite CGROUP BYTES COMMAND [ARG...]\n");
		return 125;
	}
	cgroup = argv[1];
	limit = argv[2];
	/* cgroup v2 has a cgroup.controllers file in every cgroup, v1 not. */
	snprintf(parent, sizeof(parent), "%s", cgroup);
	snprintf(controllers, sizeof(controllers), "%s/cgroup.controllers", dirname(parent));
	limit_file = access(controllers, F_OK) == 0 ? "memory.max" : "memory.limit_in_bytes";
	if (mkdir(cgroup, 0755) < 0) {
		fprintf(stderr, "limite: mkdir %s: %s\n", cgroup, strerror(errno));
		return 125;
	}
	if (set_limit(cgroup, limit_file, limit) < 0) {
		fprintf(stderr, "limite: write %s = %s: %s\n", limit_file, limit, strerror(errno));
		rmdir(cgroup);
		return 125;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("limite: fork");
		rmdir(cgroup);
		return 125;
	}
	if (pid == 0) {
		/* The child joins, then becomes COMMAND: limited from its
		 * first instruction, and so are its children. */
		if (join(cgroup) < 0) {
			fprintf(stderr, "limite: join %s: %s\n", cgroup, strerror(errno));
			_exit(125);
		}
		execvp(argv[3], argv + 3);
		fprintf(stderr, "limite: %s: %s\n", argv[3], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("limite: waitpid");
		return 125;
	}
	/* Empty again: the cgroup can go. */
	if (rmdir(cgroup) < 0)
		fprintf(stderr, "limite: rmdir %s: %s\n", cgroup, strerror(errno));
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		fprintf(stderr, "limite: %s killed by SIGKILL (the OOM killer?)\n", argv[3]);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
