/*
 * detach.h - the detached supervisor of `run -d`: its session and output,
 * and how run -d learns whether its container started.  run -d forks a
 * supervisor (setsid(2)) that starts the chain and waits for it; run -d
 * waits on a pipe from it, then returns.  On that pipe the supervisor
 * writes one byte once COMMAND runs, or, when the chain failed before,
 * its status (an int) and then the container's log, the error run -d
 * shows, as docker run -d does.  See pipe(2), setsid(2).  Used by run.
 */
#ifndef MINIDOCK_DETACH_H
#define MINIDOCK_DETACH_H

/* The supervisor: COMMAND runs.  Closes FD.  0, or -1 with errno. */
int detach_report_started(int fd);

/* The supervisor: the chain ended with CODE before COMMAND ran (or as it
 * ran); then the text of container NAME's log.  Closes FD.  0, or -1. */
int detach_report_ended(int fd, int code, const char *name);

/*
 * run -d: wait for the supervisor's report on FD (closed).  1: COMMAND
 * started, or ran and ended by itself with a status of its own (*CODE
 * below 125; `run -d busybox true`); 0: the chain failed to start, with
 * *CODE, its log copied to standard error; -1: the supervisor died first.
 */
int detach_wait_report(int fd, int *code);

/*
 * The supervisor of container NAME, just forked by run -d: a session of
 * its own (setsid(2): no terminal signal reaches it); its log opened into
 * *OUT (rotated, logfile.h); its standard output and error, which the
 * chain inherits: without TTY a pipe (O_CLOEXEC: the chain gets only its
 * 1 and 2) whose read end becomes *MASTER, the supervisor copying it
 * into the log as docker's shim does; with TTY (the pty of -t, *MASTER)
 * the log itself.  With o->restart, a copy of that output is kept for
 * the chains started again.  0, or -1 with errno.
 */
struct logfile;
struct run_options;
int detach_supervisor(const char *name, const struct run_options *o, struct logfile *out,
		      int *master, int tty);

/* Once the chain's output is copied no more: the supervisor's own
 * messages go to the log OUT directly (nothing without a log path).
 * 0, or -1 with errno. */
int detach_log_messages(const struct logfile *out);

/* --restart: a new chain's standard output and error, the supervisor's
 * first output again (dup2(2)), and the signals blocked as before the
 * first start (they are the supervisor's to forward or relay); its
 * standard input, /dev/null, returned.  -1 with errno. */
int detach_restart_stdio(void);

#endif
