/*
 * detach.h - how `run -d` learns whether its container started.  run -d
 * forks a supervisor (setsid(2)) that starts the chain and waits for it;
 * run -d waits on a pipe from it, then returns.  On that pipe the
 * supervisor writes one byte once COMMAND runs, or, when the chain
 * failed before, its status (an int) and then the container's log, the
 * error run -d shows, as docker run -d does.  See pipe(2).  Used by run.
 */
#ifndef MINIDOCK_DETACH_H
#define MINIDOCK_DETACH_H

/* The supervisor: COMMAND runs.  Closes FD.  0, or -1 with errno. */
int detach_report_started(int fd);

/* The supervisor: the chain ended with CODE before COMMAND ran (or as it
 * ran); then the text of the log file LOG.  Closes FD.  0, or -1. */
int detach_report_ended(int fd, int code, const char *log);

/*
 * run -d: wait for the supervisor's report on FD (closed).  1: COMMAND
 * started, or ran and ended by itself with a status of its own (*CODE
 * below 125; `run -d busybox true`); 0: the chain failed to start, with
 * *CODE, its log copied to standard error; -1: the supervisor died first.
 */
int detach_wait_report(int fd, int *code);

#endif
