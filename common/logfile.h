/*
 * logfile.h - a detached container's log, bounded as Docker's "local"
 * log driver bounds it: the files log, log.1, ... log.N-1 in its disk
 * directory (lifecycle.h), newest first; when log reaches its maximum
 * size, each file is renamed one up (rename(2)), the oldest dropped, and a
 * new log begins.  At most MAX_FILE files of MAX_SIZE bytes each.
 *
 * Used by run (its -d supervisor reads the chain's output from a pipe or
 * a pty and writes it here: console.h) and container logs (reading every
 * file, oldest first, and following the rotation with -f).
 */
#ifndef MINIDOCK_LOGFILE_H
#define MINIDOCK_LOGFILE_H

#include <stddef.h>
#include <stdint.h>

/* Docker's local driver: 5 files of 20 MB. */
#define LOG_MAX_SIZE (20ULL << 20)
#define LOG_MAX_FILE 5
#define LOG_MAX_FILE_LIMIT 100

struct logfile {
	char *path;             /* NULL: no rotation, plain fd (stdout) */
	int fd;
	uint64_t size, max_size;
	unsigned max_file;
};

/* Open PATH for appending (created 0640), rotated at MAX_SIZE bytes,
 * MAX_FILE files kept.  0 or -1 with errno. */
int logfile_open(struct logfile *lf, const char *path, uint64_t max_size, unsigned max_file);

/* A logfile that only writes to FD (no rotation): standard output. */
struct logfile logfile_fd(int fd);

/* Write all of BUF, rotating as often as needed.  0 or -1 with errno. */
int logfile_write(struct logfile *lf, const void *buf, size_t len);

void logfile_close(struct logfile *lf);

/*
 * Copy the log at PATH to file descriptor OUT: log.N-1 ... log.1, then
 * log.  FOLLOW: then wait for more, following log across its rotation,
 * while RUNNING(ARG) says the writer lives.  0, or -1 with errno (ENOENT:
 * there is no log).
 */
int logfile_copy(const char *path, int out, int follow, int (*running)(void *), void *arg);

#endif
