/*
 * console.c - the pty of `run -t` and `container exec -t`.
 *
 * The user's terminal goes to raw mode: every key, Ctrl-C and Ctrl-D
 * included, is copied to the pty master as a byte; the pty's own line
 * discipline, on the container's side, turns ^C into SIGINT for the
 * container's foreground job and ^D into end of file, as a terminal does.
 * See pty(7), termios(3), signalfd(2), poll(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"
#include "minidock.h"

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int pty_open(int *slave)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), e;
	char *name;

	if (master < 0)
		return -1;
	if (grantpt(master) < 0 || unlockpt(master) < 0 || !(name = ptsname(master)))
		goto fail;
	*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		goto fail;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
		if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
			ws = (struct winsize){ .ws_row = 24, .ws_col = 80 };
	if (ioctl(master, TIOCSWINSZ, &ws) < 0) {
		e = errno;
		close(*slave);
		errno = e;
		goto fail;
	}
	vlog("posix_openpt() = %s, TIOCSWINSZ %ux%u", name, ws.ws_col, ws.ws_row);
	return master;
fail:
	e = errno;
	close(master);
	errno = e;
	return -1;
}

int pty_make_controlling(int slave)
{
	/* A process can only take a controlling terminal as the leader of
	 * a session that has none: setsid() first. */
	if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
		return -1;
	if (dup2(slave, STDIN_FILENO) < 0 || dup2(slave, STDOUT_FILENO) < 0 ||
	    dup2(slave, STDERR_FILENO) < 0)
		return -1;
	if (slave > STDERR_FILENO)
		close(slave);
	return 0;
}

static void copy_window_size(int from, int master)
{
	struct winsize ws;

	if (from >= 0 && ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

void pty_drain(int master, struct logfile *out)
{
	char buf[4096];
	ssize_t n;
	int flags = fcntl(master, F_GETFL);

	if (flags < 0 || fcntl(master, F_SETFL, flags | O_NONBLOCK) < 0)
		return;
	while ((n = read(master, buf, sizeof(buf))) > 0)
		if (logfile_write(out, buf, (size_t)n) < 0)
			break;
}

int pty_relay(int master, pid_t child, int input, struct logfile *out)
{
	static const int sigs[] = { SIGCHLD, SIGWINCH, SIGINT, SIGTERM, SIGHUP,
				    SIGQUIT, SIGUSR1, SIGUSR2 };
	struct termios saved, raw;
	int term = input >= 0 && isatty(input) ? input : -1;
	int is_raw = 0, sfd, wstatus = 0, done = 0, master_open = 1, e;
	sigset_t set;
	size_t i;
	char buf[65536];  /* a pipe gives up to 64 KiB a read */

	sigemptyset(&set);
	for (i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		sigaddset(&set, sigs[i]);
	/* Signals arrive as data on sfd, in the same poll(2) loop. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (sfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0)
		return -1;
	if (term >= 0 && tcgetattr(term, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		if (tcsetattr(term, TCSANOW, &raw) == 0)
			is_raw = 1;
	}
	while (!done) {
		struct pollfd p[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = master_open ? master : -1, .events = POLLIN },
			{ .fd = input, .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD) {
					if (waitpid(child, &wstatus, WNOHANG) == child)
						done = 1;
				} else if (si.ssi_signo == SIGWINCH) {
					copy_window_size(term, master);
				} else {
					kill(child, (int)si.ssi_signo);
				}
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(master, buf, sizeof(buf));
			/* EIO: no process holds the slave any more. */
			if (n > 0)
				logfile_write(out, buf, (size_t)n);
			else if (n == 0 || errno != EINTR)
				master_open = 0;
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(input, buf, sizeof(buf));
			if (n > 0)
				write_all(master, buf, (size_t)n);
			else if (n == 0 || errno != EINTR)
				input = -1;  /* end of input: stop reading it */
		}
	}
	e = errno;
	if (master_open)
		pty_drain(master, out);
	if (is_raw)
		tcsetattr(term, TCSANOW, &saved);
	close(sfd);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	if (!done) {
		errno = e;
		return -1;
	}
	return exit_code_of(wstatus);
}

int sigchld_mask(int how)
{
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	return sigprocmask(how, &chld, NULL);
}
