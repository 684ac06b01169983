/*
 * console.h - a terminal for a container (run -t, container exec -t): a
 * new pty whose slave becomes the container's controlling terminal, and
 * the copy between the user's terminal and the pty master.  The container
 * never gets the user's own terminal, so it cannot push keystrokes into
 * it (TIOCSTI) nor change its settings.  See pty(7), termios(3),
 * setsid(2), ioctl_tty(2) TIOCSCTTY / TIOCSWINSZ.
 */
#ifndef MINIDOCK_CONSOLE_H
#define MINIDOCK_CONSOLE_H

#include <stddef.h>
#include <sys/types.h>

#include "logfile.h"

/* Write all of BUF to FD (retrying on EINTR and short writes); 0 or -1. */
int write_all(int fd, const void *buf, size_t len);

/* A new pty, as big as the user's terminal (else 80x24): returns the
 * master, *SLAVE the slave (both O_CLOEXEC).  -1 with errno. */
int pty_open(int *slave);

/* In the child: a new session whose controlling terminal is SLAVE, which
 * becomes stdin, stdout and stderr.  0 or -1 with errno. */
int pty_make_controlling(int slave);

/*
 * Copy INPUT (the user's terminal, put in raw mode; -1 for none) to the
 * master, and the master to OUT (stdout: logfile_fd(1); or the log of
 * run -d, rotated), until CHILD ends; SIGWINCH resizes the pty, other
 * forwarded signals go to CHILD.  MASTER may be a pipe's reading end too
 * (run -d without -t).  Returns CHILD's exit code (exit_code_of), or -1
 * with errno.
 */
int pty_relay(int master, pid_t child, int input, struct logfile *out);

/* SIGCHLD blocked (HOW: SIG_BLOCK) before the child pty_relay waits for
 * starts, so that its end waits for the relay's signalfd(2); unblocked
 * (SIG_UNBLOCK) in that child.  Only sigprocmask(2): safe in the child
 * of vfork(2).  0, or -1 with errno. */
int sigchld_mask(int how);

/* Copy what is left to read on the master to OUT. */
void pty_drain(int master, struct logfile *out);

#endif
