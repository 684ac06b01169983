/*
 * detach.c - the detached supervisor of `run -d` (detach.h), all but its
 * story (which stays in cmd/run.c: the fork, the chain's vfork/execve,
 * the waitpid, the restart decision).  Here: the supervisor's session
 * (setsid(2)) and output plumbing, the chain's output into a pipe it
 * copies into the log (logfile.h); the start report, one pipe from the
 * supervisor to the `run -d` that forked it (a single byte says COMMAND
 * runs; an int, the chain's status, says it ended, and the container's
 * log follows); the standard streams of a chain started again by
 * --restart.  Read setsid(2), pipe(2), dup(2).  Used by run.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "detach.h"
#include "lifecycle.h"
#include "logfile.h"
#include "minidock.h"
#include "runopts.h"

int detach_report_started(int fd)
{
	int r = write_all(fd, "", 1);

	close(fd);
	return r;
}

int detach_report_ended(int fd, int code, const char *name)
{
	char *log = disk_file(name, "log"), *text = read_file(log, NULL);
	int r = write_all(fd, &code, sizeof(code));

	if (r == 0 && text)
		r = write_all(fd, text, strlen(text));
	close(fd);
	free(text);
	free(log);
	return r;
}

int detach_wait_report(int fd, int *code)
{
	char buf[4096];
	ssize_t n = read(fd, code, sizeof(*code));

	if (n != 1 && n != sizeof(*code)) {
		close(fd);
		return -1;
	}
	if (n == 1 || *code < EXIT_TOOL_FAILED) {
		if (n == 1)
			*code = 0;
		close(fd);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		write_all(STDERR_FILENO, buf, (size_t)n);
	close(fd);
	return 0;
}

/* --restart: the supervisor's output as the chain inherits it, kept for
 * the chains started again (detach_restart_stdio). */
static int chain_out = -1;

int detach_supervisor(const char *name, const struct run_options *o, struct logfile *out,
		      int *master, int tty)
{
	char *log = disk_file(name, "log");
	int pipefd[2] = { -1, -1 }, fd, r = -1;

	if (logfile_open(out, log, o->log_max_size, o->log_max_file) < 0 || setsid() < 0)
		goto out;
	vlog("setsid(): the supervisor of %s, output in %s", name, log);
	if (!tty) {
		if (pipe2(pipefd, O_CLOEXEC) < 0)
			goto out;
		*master = pipefd[0];
	}
	fd = tty ? out->fd : pipefd[1];
	if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
		goto out;
	/* --restart: where a new chain will write, once detach_log_messages
	 * has taken our own stdout for the log. */
	if (o->restart && (chain_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)) < 0)
		goto out;
	r = 0;
out:
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	free(log);
	return r;
}

int detach_log_messages(const struct logfile *out)
{
	if (out->path && (dup2(out->fd, STDOUT_FILENO) < 0 || dup2(out->fd, STDERR_FILENO) < 0))
		return -1;
	return 0;
}

int detach_restart_stdio(void)
{
	if (dup2(chain_out, STDOUT_FILENO) < 0 || dup2(chain_out, STDERR_FILENO) < 0 ||
	    block_forwarded_signals() < 0 || sigchld_mask(SIG_BLOCK) < 0)
		return -1;
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}
