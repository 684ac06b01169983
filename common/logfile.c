/*
 * logfile.c - a bounded, rotated log (see logfile.h).  Used by run and
 * container.
 *
 * See rename(2), and Docker's daemon/logger/loggerutils/logfile.go
 * (rotate: log.N-1 -> log.N ... log -> log.1).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console.h"
#include "logfile.h"
#include "minidock.h"

int logfile_open(struct logfile *lf, const char *path, uint64_t max_size, unsigned max_file)
{
	struct stat st;

	lf->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (lf->fd < 0)
		return -1;
	lf->size = fstat(lf->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	lf->path = xstrdup(path);
	lf->max_size = max_size ? max_size : LOG_MAX_SIZE;
	lf->max_file = max_file ? max_file : LOG_MAX_FILE;
	return 0;
}

struct logfile logfile_fd(int fd)
{
	return (struct logfile){ .fd = fd };
}

/* log.N-2 -> log.N-1, ... log -> log.1 (the oldest is replaced), and a
 * new log; with one file, the log is emptied. */
static int rotate(struct logfile *lf)
{
	unsigned i;
	int fd;

	for (i = lf->max_file - 1; i >= 1; i--) {
		char *from = i > 1 ? xasprintf("%s.%u", lf->path, i - 1) : xstrdup(lf->path);
		char *to = xasprintf("%s.%u", lf->path, i);
		int r = rename(from, to);
		free(to);
		free(from);
		if (r < 0 && errno != ENOENT)
			return -1;
	}
	fd = open(lf->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	close(lf->fd);
	lf->fd = fd;
	lf->size = 0;
	return 0;
}

int logfile_write(struct logfile *lf, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		size_t n = len;
		if (lf->path) {
			if (lf->size >= lf->max_size && rotate(lf) < 0)
				return -1;
			if (n > lf->max_size - lf->size)
				n = (size_t)(lf->max_size - lf->size);
		}
		if (write_all(lf->fd, p, n) < 0)
			return -1;
		lf->size += n;
		p += n;
		len -= n;
	}
	return 0;
}

void logfile_close(struct logfile *lf)
{
	if (lf->path && lf->fd >= 0)
		close(lf->fd);
	free(lf->path);
	lf->path = NULL;
	lf->fd = -1;
}

/* Copy what FD holds from its offset to OUT.  0, or -1 with errno. */
static int copy_rest(int fd, int out)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write_all(out, buf, (size_t)n) < 0)
			return -1;
	}
	return 0;
}

/* 1 when PATH is no longer the file FD reads (it was rotated). */
static int rotated(const char *path, int fd)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && (stat(path, &b) < 0 || a.st_ino != b.st_ino);
}

int logfile_copy(const char *path, int out, int follow, int (*running)(void *), void *arg)
{
	unsigned n = 0, i;
	int fd, last = 0, e;

	/* The rotated files, oldest first: log.N-1 ... log.1. */
	for (;;) {
		char *p = xasprintf("%s.%u", path, n + 1);
		int there = access(p, F_OK) == 0;
		free(p);
		if (!there || n >= LOG_MAX_FILE_LIMIT)
			break;
		n++;
	}
	for (i = n; i >= 1; i--) {
		char *p = xasprintf("%s.%u", path, i);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		free(p);
		if (fd >= 0) {              /* else rotated away meanwhile */
			e = copy_rest(fd, out);
			close(fd);
			if (e < 0)
				return -1;
		}
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	for (;;) {
		if (copy_rest(fd, out) < 0)
			break;
		/* At its end: follow while the container runs (then read what
		 * it wrote last), into the next log when this one rotated. */
		if (!follow || last) {
			close(fd);
			return 0;
		}
		if (rotated(path, fd)) {
			int next = open(path, O_RDONLY | O_CLOEXEC);
			if (next >= 0) {
				copy_rest(fd, out);
				close(fd);
				fd = next;
				continue;
			}
		}
		if (!running(arg))
			last = 1;
		else
			sleep_ms(100);
	}
	e = errno;
	close(fd);
	errno = e;
	return -1;
}
