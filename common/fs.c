/*
 * fs.c - small file helpers: mkdir -p, rm -rf, whole-file read and write.
 * rm_rf works with openat(2)/unlinkat(2) relative to directory file
 * descriptors and never follows a symlink, so a hostile tree cannot make it
 * delete something outside.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "minidock.h"

int mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path), *s;
	int ret = 0;

	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			ret = -1;
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	if (ret == 0) {
		struct stat st;
		if (stat(path, &st) < 0)
			ret = -1;
		else if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			ret = -1;
		}
	}
	{
		int e = errno;
		free(p);
		errno = e;
	}
	return ret;
}

static void keep_first_error(int *first_error)
{
	if (!*first_error)
		*first_error = errno;
}

/* Empty the directory DIRFD (which it closes), one filesystem only.
 * Goes on after a failure, and reports the first one's errno. */
static int empty_dir_at(int dirfd, dev_t dev)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;
	int first_error = 0;

	if (!d) {
		close(dirfd);
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			keep_first_error(&first_error);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub;
			if (st.st_dev != dev) {
				/* A mount point: never delete into another fs. */
				errno = EBUSY;
				keep_first_error(&first_error);
				continue;
			}
			sub = openat(dirfd, de->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0 || empty_dir_at(sub, dev) < 0)
				keep_first_error(&first_error);
			if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0)
				keep_first_error(&first_error);
		} else if (unlinkat(dirfd, de->d_name, 0) < 0) {
			keep_first_error(&first_error);
		}
	}
	if (errno)
		keep_first_error(&first_error);
	closedir(d);
	errno = first_error;
	return first_error ? -1 : 0;
}

int rm_rf(const char *path)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (empty_dir_at(fd, st.st_dev) < 0) {
		int e = errno;
		rmdir(path);
		errno = e;
		return -1;
	}
	return rmdir(path);
}

int write_file(const char *path, const char *text)
{
	size_t len = strlen(text), done = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		done += (size_t)n;
	}
	return close(fd);
}

char *read_file(const char *path, size_t *lenp)
{
	size_t cap = 4096, len = 0;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	buf = xmalloc(cap);
	for (;;) {
		ssize_t n;
		if (len + 1 >= cap)
			buf = xrealloc(buf, cap *= 2);
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int empty = 1;

	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = 0;
			break;
		}
	}
	closedir(d);
	return empty;
}
