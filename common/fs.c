/*
 * fs.c - small file helpers: mkdir -p, rm -rf, whole-file read and write,
 * files of an image opened from the host (openat2 RESOLVE_IN_ROOT), a PATH
 * search.
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
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/syscall.h>
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
			/* An empty directory we may not read (overlayfs makes
			 * its work/work mode 0) is still removed. */
			if (sub < 0) {
				int e = errno;
				if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) == 0)
					continue;
				errno = e;
				keep_first_error(&first_error);
				continue;
			}
			if (empty_dir_at(sub, dev) < 0)
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

int rm_rf_at(int dirfd, const char *name)
{
	struct stat st;
	int fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (empty_dir_at(fd, st.st_dev) < 0) {
		int e = errno;
		unlinkat(dirfd, name, AT_REMOVEDIR);
		errno = e;
		return -1;
	}
	return unlinkat(dirfd, name, AT_REMOVEDIR);
}

int rm_rf(const char *path)
{
	return rm_rf_at(AT_FDCWD, path);
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

/* openat2(2): open(2) with a say in how the path is resolved. */
int openat2_resolve(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = resolve,
	};
	int fd, tries = 0;

	if (!*path)
		path = ".";
	/* EAGAIN: a rename elsewhere raced the lookup; the kernel asks to retry. */
	do
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN && ++tries < 16);
	return fd;
}

/*
 * RESOLVE_IN_ROOT: PATH is resolved as if ROOTFD were "/", so "..",
 * absolute symlinks and "/etc -> /host/etc" in a hostile image all stay
 * inside it; RESOLVE_NO_MAGICLINKS refuses /proc/self/fd/N tricks.  This
 * is how a tool reads or creates a file of an image from the host.
 */
int open_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
	return openat2_resolve(rootfd, path, flags, mode,
			       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/*
 * The whole of ROOT/PATH (resolved inside ROOTFD, as above), when it is a
 * regular file of at most MAX bytes: a FIFO (O_NONBLOCK: opening it does
 * not wait), a device such as /dev/zero or a huge file is refused with
 * EINVAL or EFBIG instead of hanging or filling memory.
 */
char *read_file_in_root(int rootfd, const char *path, size_t max, size_t *len)
{
	int fd = open_in_root(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	ssize_t n;
	int e;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size &&
	       (n = read(fd, text + got, (size_t)st.st_size - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		got += (size_t)n;
	}
	text[got] = '\0';
	close(fd);
	if (len)
		*len = got;
	return text;
fail:
	e = errno;
	free(text);
	close(fd);
	errno = e;
	return NULL;
}

/* The first DIR/NAME of the colon-separated list PATH_ENV that access(2)
 * says is executable, malloc'd; NULL when none is (as execvp(3) searches). */
char *find_in_path(const char *path_env, const char *name)
{
	char *path = xstrdup(path_env ? path_env : "/usr/local/bin:/usr/bin:/bin");
	char *dir, *save = NULL, *found = NULL;

	for (dir = strtok_r(path, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char *candidate = xasprintf("%s/%s", *dir ? dir : ".", name);
		if (access(candidate, X_OK) == 0)
			found = candidate;
		else
			free(candidate);
	}
	free(path);
	return found;
}
