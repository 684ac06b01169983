/*
 * overlay.c - the options string of an overlayfs mount, and whether a
 * user namespace may mount one (used by run, img-build).
 *
 * overlayfs shows several directories as one: the lower ones, read-only,
 * stacked (the first listed is on top), and one upper directory that
 * receives every write; a file changed is first copied up, a file deleted
 * is hidden by a whiteout.  workdir is overlayfs's scratch space, on the
 * same filesystem as upperdir.  So one copy of an image's layers serves
 * every container, each with an upper layer of its own.  See
 * Documentation/filesystems/overlayfs.rst and mount(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lifecycle.h"
#include "minidock.h"
#include "overlay.h"

/* mount(2) copies at most a page of options. */
#define OPTIONS_MAX 4000

char *overlay_options(char *const layers[], size_t n, const char *upper, const char *work)
{
	size_t i, len = 64 + strlen(upper) + strlen(work);
	char *opts, *p;

	for (i = 0; i < n; i++) {
		if (strpbrk(layers[i], ":,")) {
			errno = EINVAL;
			return NULL;
		}
		len += strlen(layers[i]) + 1;
	}
	if (strpbrk(upper, ":,") || strpbrk(work, ":,")) {
		errno = EINVAL;
		return NULL;
	}
	if (len > OPTIONS_MAX) {
		errno = E2BIG;
		return NULL;
	}
	/* lowerdir lists the layers top first: the opposite of their order. */
	opts = p = xmalloc(len);
	p += sprintf(p, "lowerdir=");
	for (i = n; i-- > 0; )
		p += sprintf(p, "%s%s", layers[i], i ? ":" : "");
	sprintf(p, ",upperdir=%s,workdir=%s", upper, work);
	return opts;
}

/* Write TEXT to /proc/self/FILE: in the child, no stdio. */
static int write_proc(const char *file, const char *text)
{
	char path[64];
	int fd, r;

	snprintf(path, sizeof(path), "/proc/self/%s", file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -1;
	r = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	close(fd);
	return r;
}

int overlay_try_in_userns(const char *opts, const char *target)
{
	char uid_map[48], gid_map[48];
	int status;
	pid_t pid;

	/* The one-ID map "0 UID 1" a process may write for itself. */
	snprintf(uid_map, sizeof(uid_map), "0 %u 1", (unsigned)geteuid());
	snprintf(gid_map, sizeof(gid_map), "0 %u 1", (unsigned)getegid());
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0 ||
		    write_proc("setgroups", "deny") < 0 || write_proc("uid_map", uid_map) < 0 ||
		    write_proc("gid_map", gid_map) < 0 ||
		    mount("overlay", target, "overlay", 0, opts) < 0)
			_exit(errno & 0xff ? errno & 0xff : EPERM);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	errno = WIFEXITED(status) ? WEXITSTATUS(status) : EPERM;
	return -1;
}

int overlay_rootless(char **opts, const char *target, const char *host_files)
{
	if (host_files) {
		vlog("rootless: %s needs the image's files here: a private copy", host_files);
		return 0;
	}
	/* user.overlay.* attributes: trusted.* are the host root's. */
	*opts = xrealloc(*opts, strlen(*opts) + sizeof(",userxattr"));
	strcat(*opts, ",userxattr");
	if (overlay_try_in_userns(*opts, target) < 0) {
		vlog("rootless: overlayfs refused in a user namespace here (%s): a "
		     "private copy of the image", strerror(errno));
		return 0;
	}
	vlog("rootless: overlayfs mounted by ns-enter in the user namespace");
	return 1;
}

int overlay_root_options(char *const layers[], size_t n, const char *image,
			 const char *upper, const char *work, char **opts, char **why)
{
	const char *storage = getenv("MINIDOCK_STORAGE");

	*opts = NULL;
	if ((storage && !strcmp(storage, "copy")) || n == 0) {
		vlog("%s: a private copy of the image", n ? "MINIDOCK_STORAGE=copy"
		     : "no layers stored for this image");
		return 0;
	}
	if (!(*opts = overlay_options(layers, n, upper, work))) {
		*why = xasprintf("image %s: %zu layers in one overlayfs mount (a path with ':' "
				 "or ',', or over a page of options): %s", image, n, strerror(errno));
		return -1;
	}
	if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0) {
		*why = xasprintf("mkdir %s: %s", upper, strerror(errno));
		free(*opts);
		*opts = NULL;
		return -1;
	}
	return 1;
}

int overlay_plan(char *const layers[], size_t n, const char *image, const char *name,
		 int rootless, const char *target, const char *host_files, char **opts,
		 char **why)
{
	char *upper = disk_file(name, "upper"), *work = disk_file(name, "work");
	int r = overlay_root_options(layers, n, image, upper, work, opts, why);

	free(work);
	free(upper);
	if (r <= 0)
		return r < 0 ? -1 : OVERLAY_COPY;
	if (!rootless)
		return OVERLAY_HERE;
	if (overlay_rootless(opts, target, host_files))
		return OVERLAY_USERNS;
	free(*opts);
	*opts = NULL;
	return OVERLAY_COPY;
}
