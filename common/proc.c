/*
 * proc.c - the supervisor half every chain tool shares: start COMMAND,
 * pass signals on to it, wait for it, and hand its fate to our caller.
 *
 * See signal(7), sigprocmask(2), waitpid(2), execve(2).
 */
#include <errno.h>
#include <signal.h>
#include <sys/uio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "minidock.h"

/* The signals a user (or docker stop) sends that COMMAND must receive. */
static const int forwarded_signals[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
};
#define N_FORWARDED (sizeof(forwarded_signals) / sizeof(forwarded_signals[0]))

static volatile pid_t supervised_child;

int exit_code_of(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return EXIT_SIGNAL_BASE + WTERMSIG(wstatus);
	return EXIT_TOOL_FAILED;
}

void child_error(const char *what, int errnum)
{
	/* strerrordesc_np: the message itself, no locale lookup (which
	 * might allocate). */
	const char *why = strerrordesc_np(errnum);
	struct iovec v[] = {
		{ (void *)md_tool, strlen(md_tool) }, { (void *)": ", 2 },
		{ (void *)what, strlen(what) }, { (void *)": ", 2 },
		{ (void *)(why ? why : "unknown error"), strlen(why ? why : "unknown error") },
		{ (void *)"\n", 1 },
	};

	/* Nothing to do if stderr is gone: the exit status still tells. */
	if (writev(STDERR_FILENO, v, sizeof(v) / sizeof(v[0])) < 0)
		return;
}

void exec_command_env(char *const argv[], char *const envp[])
{
	int e;

	execvpe(argv[0], argv, envp);
	e = errno;
	child_error(argv[0], e);
	_exit(e == ENOENT || e == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
}

void exec_command(char *const argv[])
{
	exec_command_env(argv, environ);
}

static int change_forwarded_mask(int how)
{
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < N_FORWARDED; i++)
		sigaddset(&set, forwarded_signals[i]);
	return sigprocmask(how, &set, NULL);
}

int block_forwarded_signals(void)
{
	return change_forwarded_mask(SIG_BLOCK);
}

int unblock_forwarded_signals(void)
{
	size_t i;

	/* The child starts with default dispositions, like any new process. */
	for (i = 0; i < N_FORWARDED; i++)
		signal(forwarded_signals[i], SIG_DFL);
	return change_forwarded_mask(SIG_UNBLOCK);
}

static void forward_signal(int sig)
{
	if (supervised_child > 0)
		kill(supervised_child, sig);
}

int supervise(pid_t child)
{
	struct sigaction sa;
	siginfo_t info;
	int wstatus;
	size_t i;

	supervised_child = child;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < N_FORWARDED; i++)
		if (sigaction(forwarded_signals[i], &sa, NULL) < 0)
			return -1;
	if (change_forwarded_mask(SIG_UNBLOCK) < 0)
		return -1;

	/* Wait without reaping (WNOWAIT): while the child is a zombie its PID
	 * cannot be given to another process, so a signal forwarded now
	 * reaches no one else.  Stop forwarding, and only then reap it. */
	while (waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT) < 0) {
		if (errno != EINTR)
			return -1;
	}
	/* Back to defaults: the caller's cleanup must not be interrupted by a
	 * handler pointing at a child that is gone; block them meanwhile. */
	change_forwarded_mask(SIG_BLOCK);
	supervised_child = 0;
	for (i = 0; i < N_FORWARDED; i++)
		signal(forwarded_signals[i], SIG_DFL);
	while (waitpid(child, &wstatus, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return exit_code_of(wstatus);
}

int pass_on(int code)
{
	fflush(stdout);
	exit(code);
}

void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Field 22 of /proc/PID/stat: when the process started, in clock ticks
 * since boot (proc(5)).  With the PID it names one process, even after
 * the PID is reused.  0 when PID is gone, or has ended and waits to be
 * reaped (state Z, zombie, or X, dead). */
unsigned long long proc_start_time(pid_t pid)
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
	if (p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
		p = NULL;
	for (field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p)
		t = strtoull(p + 1, NULL, 10);
	free(stat);
	return t;
}

void unsetenv_prefix(const char *prefix)
{
	size_t n = strlen(prefix);
	char **e = environ;

	while (*e) {
		if (strncmp(*e, prefix, n) == 0) {
			char *name = xasprintf("%.*s", (int)strcspn(*e, "="), *e);
			unsetenv(name);         /* shifts environ: look again */
			free(name);
			e = environ;
		} else {
			e++;
		}
	}
}
