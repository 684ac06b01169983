/*
 * rootfs.c - the mounts of a container's root filesystem around
 * pivot_root(2), for ns-enter --root (see rootfs.h).
 *
 * The host's device nodes and the --volume sources are paths of the
 * host: once pivot_root(2) has run they cannot be named any more.  So
 * they are copied before, as detached mounts held by a file descriptor
 * (open_tree(2) OPEN_TREE_CLONE), and attached in the new root after
 * (move_mount(2)).  See mount_namespaces(7).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "minidock.h"
#include "rootfs.h"

/* These nodes are bind-mounted from the host's /dev, since mknod(2) is
 * refused in a user namespace (and a bind works for root too). */
static const char *const host_devices[ROOTFS_N_DEVICES] = {
	"null", "zero", "full", "random", "urandom", "tty",
};

/* ...and these links, which programs expect next to them. */
static const struct { const char *target, *link; } dev_links[] = {
	{ "/proc/self/fd",   "/dev/fd" },
	{ "/proc/self/fd/0", "/dev/stdin" },
	{ "/proc/self/fd/1", "/dev/stdout" },
	{ "/proc/self/fd/2", "/dev/stderr" },
	{ "pts/ptmx",        "/dev/ptmx" },
};
#define N_DEV_LINKS (sizeof(dev_links) / sizeof(dev_links[0]))

static char failed_step[160];

const char *rootfs_failed(void)
{
	return failed_step;
}

/* Name the failed step, keep errno, return -1. */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(failed_step, sizeof(failed_step), fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

/* mount(2), with its --verbose line ("mount(\"tmpfs\", \"/dev\", ...)"). */
static int mount_traced(const char *source, const char *target, const char *type,
			unsigned long flags, const char *data, const char *flags_text)
{
	vlog("mount(\"%s\", \"%s\", \"%s\", %s, %s%s%s)", source, target, type,
	     flags_text, data ? "\"" : "", data ? data : "NULL", data ? "\"" : "");
	if (mount(source, target, type, flags, data) < 0)
		return fail("mount %s on %s", type, target);
	return 0;
}

int make_mount_point(const char *path, int is_dir)
{
	struct stat st;
	char *parent;
	int fd;

	if (is_dir)
		return mkdir_p(path, 0755) < 0 ? fail("mkdir %s", path) : 0;
	/* speed: an existing file is not opened (no overlayfs copy-up);
	 * see bench/README.md, ns-enter */
	if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
		return 0;
	parent = xstrdup(path);
	*strrchr(parent, '/') = '\0';
	if (parent[0] && mkdir_p(parent, 0755) < 0) {
		fail("mkdir %s", parent);
		free(parent);
		return -1;
	}
	free(parent);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail("create %s", path);
	close(fd);
	return 0;
}

/* open_tree(2) with OPEN_TREE_CLONE: a detached copy of the mount at
 * PATH, to attach later, once PATH can no longer be reached. */
static int clone_tree(const char *path, unsigned int flags, int read_only)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
	int fd;

	vlog("open_tree(\"%s\", OPEN_TREE_CLONE%s)", path,
	     flags & AT_RECURSIVE ? "|AT_RECURSIVE" : "");
	fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | flags);
	if (fd < 0)
		return fail("open_tree %s", path);
	if (read_only) {
		vlog("mount_setattr(\"%s\", MOUNT_ATTR_RDONLY)", path);
		if (mount_setattr(fd, "", AT_EMPTY_PATH | (flags & AT_RECURSIVE),
				  &attr, sizeof(attr)) < 0) {
			int e = errno;

			fail("mount_setattr %s read-only", path);
			close(fd);
			errno = e;
			return -1;
		}
	}
	return fd;
}

/* move_mount(2) the copy FD onto TARGET; FD is closed either way. */
static int attach_tree(int *fd, const char *target)
{
	int rc;

	vlog("move_mount(fd, \"%s\")", target);
	rc = move_mount(*fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
	if (rc < 0)
		fail("move_mount on %s", target);
	close(*fd);
	*fd = -1;
	return rc;
}

/* Close every copy taken so far (after a failure), keeping errno. */
static int drop_trees(struct host_trees *h, struct volume *v, size_t n)
{
	int e = errno;
	size_t i;

	for (i = 0; i < ROOTFS_N_DEVICES; i++)
		if (h->dev[i] >= 0)
			close(h->dev[i]);
	for (i = 0; i < n; i++)
		if (v[i].tree_fd >= 0)
			close(v[i].tree_fd);
	if (h->sys >= 0)
		close(h->sys);
	errno = e;
	return -1;
}

int rootfs_take_host_trees(struct host_trees *h, struct volume *v, size_t n,
			   int copy_sys)
{
	char path[32];
	size_t i;

	for (i = 0; i < ROOTFS_N_DEVICES; i++)
		h->dev[i] = -1;
	for (i = 0; i < n; i++)
		v[i].tree_fd = -1;
	h->sys = -1;
	for (i = 0; i < ROOTFS_N_DEVICES; i++) {
		snprintf(path, sizeof(path), "/dev/%s", host_devices[i]);
		if ((h->dev[i] = clone_tree(path, 0, 0)) < 0)
			return drop_trees(h, v, n);
	}
	for (i = 0; i < n; i++)
		if (v[i].source &&
		    (v[i].tree_fd = clone_tree(v[i].source, AT_RECURSIVE, v[i].read_only)) < 0)
			return drop_trees(h, v, n);
	if (copy_sys && (h->sys = clone_tree("/sys", AT_RECURSIVE, 1)) < 0)
		return drop_trees(h, v, n);
	return 0;
}

int rootfs_mount_sys(struct host_trees *h)
{
	if (make_mount_point("/sys", 1) < 0)
		return -1;
	if (h->sys >= 0)
		return attach_tree(&h->sys, "/sys");
	return mount_traced("sysfs", "/sys", "sysfs",
			    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
			    "MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC");
}

#define CG_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
#define CG_FLAGS_TEXT "MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC"

/* One cgroup v1 hierarchy ("memory", "cpu,cpuacct", "name=systemd") at
 * /sys/fs/cgroup/NAME, and a link for each controller of a co-mounted
 * pair (cpu -> cpu,cpuacct), as Docker and systemd lay them out. */
static int mount_v1_hierarchy(const char *controllers)
{
	const char *name = strncmp(controllers, "name=", 5) ? controllers : controllers + 5;
	char *dir = xasprintf("/sys/fs/cgroup/%s", name);
	char *opts = xstrdup(controllers), *c, *save = NULL;
	int ret = -1;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fail("mkdir %s", dir);
		goto out;
	}
	if (mount_traced("cgroup", dir, "cgroup", CG_FLAGS, controllers, CG_FLAGS_TEXT) < 0)
		goto out;
	ret = 0;
	if (!strchr(controllers, ','))
		goto out;
	for (c = strtok_r(opts, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		char *link = xasprintf("/sys/fs/cgroup/%s", c);
		if (symlink(name, link) < 0 && errno != EEXIST)
			ret = fail("symlink %s", link);
		free(link);
	}
out:
	free(opts);
	free(dir);
	return ret;
}

int rootfs_mount_cgroup(void)
{
	char *text = read_file("/proc/self/cgroup", NULL), *line, *save = NULL;
	int ret = 0, v1 = 0;

	if (!text)
		return fail("read /proc/self/cgroup");
	/* Each line is "ID:CONTROLLERS:PATH"; "0::PATH" is the v2 tree. */
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "0::", 3) != 0)
			v1 = 1;
	if (!v1) {
		/* Pure v2: the container's own cgroup is the root it sees. */
		ret = mount_traced("cgroup2", "/sys/fs/cgroup", "cgroup2", CG_FLAGS, NULL,
				   CG_FLAGS_TEXT);
		free(text);
		return ret;
	}
	/* v1 (or hybrid): a tmpfs to hold one directory per hierarchy. */
	if (mount_traced("tmpfs", "/sys/fs/cgroup", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			 "mode=755", "MS_NOSUID|MS_NODEV|MS_NOEXEC") < 0) {
		free(text);
		return -1;
	}
	free(text);
	text = read_file("/proc/self/cgroup", NULL);
	save = NULL;
	for (line = strtok_r(text, "\n", &save); line && ret == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char *controllers = strchr(line, ':'), *end;

		if (!controllers || !(end = strchr(++controllers, ':')) || end == controllers)
			continue;       /* "0::/" of a hybrid host: nothing to show */
		*end = '\0';
		ret = mount_v1_hierarchy(controllers);
	}
	free(text);
	if (ret == 0)
		ret = mount_traced("tmpfs", "/sys/fs/cgroup", "tmpfs",
				   MS_REMOUNT | MS_BIND | CG_FLAGS, NULL,
				   "MS_REMOUNT|MS_BIND|MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC");
	return ret;
}

/* A /dev of our own on tmpfs with only harmless devices: never the
 * host's disks.  A private devpts instance gives the container its own
 * pseudo-terminals. */
int rootfs_mount_dev(struct host_trees *h, int new_ipc)
{
	char path[32];
	size_t i;

	if (make_mount_point("/dev", 1) < 0 ||
	    mount_traced("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME,
			 "mode=755,size=65536k", "MS_NOSUID|MS_STRICTATIME") < 0)
		return -1;
	for (i = 0; i < ROOTFS_N_DEVICES; i++) {
		snprintf(path, sizeof(path), "/dev/%s", host_devices[i]);
		if (make_mount_point(path, 0) < 0 || attach_tree(&h->dev[i], path) < 0)
			return -1;
	}
	if (make_mount_point("/dev/pts", 1) < 0 ||
	    mount_traced("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
			 "newinstance,ptmxmode=0666,mode=0620", "MS_NOSUID|MS_NOEXEC") < 0)
		return -1;
	if (make_mount_point("/dev/shm", 1) < 0 ||
	    mount_traced("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			 "mode=1777,size=65536k", "MS_NOSUID|MS_NODEV|MS_NOEXEC") < 0)
		return -1;
	if (new_ipc && (make_mount_point("/dev/mqueue", 1) < 0 ||
			mount_traced("mqueue", "/dev/mqueue", "mqueue",
				     MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
				     "MS_NOSUID|MS_NODEV|MS_NOEXEC") < 0))
		return -1;
	for (i = 0; i < N_DEV_LINKS; i++) {
		vlog("symlink(\"%s\", \"%s\")", dev_links[i].target, dev_links[i].link);
		if (symlink(dev_links[i].target, dev_links[i].link) < 0)
			return fail("symlink %s", dev_links[i].link);
	}
	return 0;
}

/* The MS_* flags of a --tmpfs, for its --verbose line. */
static const struct {
	unsigned long flag;
	const char *on, *off, *text;
} tmpfs_flags[] = {
	{ MS_RDONLY, "ro", "rw", "MS_RDONLY" },
	{ MS_NOSUID, "nosuid", "suid", "MS_NOSUID" },
	{ MS_NODEV, "nodev", "dev", "MS_NODEV" },
	{ MS_NOEXEC, "noexec", "exec", "MS_NOEXEC" },
};
#define N_TMPFS_FLAGS (sizeof(tmpfs_flags) / sizeof(tmpfs_flags[0]))

int tmpfs_options(const char *options, unsigned long *flags, char **data)
{
	static const char *const own[] = { "size=", "mode=", "uid=", "gid=", "nr_inodes=" };
	char *copy = xstrdup(options ? options : ""), *opt, *save = NULL;
	size_t i;
	int ok = 1;

	*flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	*data = NULL;
	for (opt = strtok_r(copy, ",", &save); ok && opt; opt = strtok_r(NULL, ",", &save)) {
		ok = 0;
		for (i = 0; i < N_TMPFS_FLAGS && !ok; i++) {
			if (!strcmp(opt, tmpfs_flags[i].on))
				*flags |= tmpfs_flags[i].flag;
			else if (!strcmp(opt, tmpfs_flags[i].off))
				*flags &= ~tmpfs_flags[i].flag;
			else
				continue;
			ok = 1;
		}
		for (i = 0; i < sizeof(own) / sizeof(*own) && !ok; i++) {
			if (strncmp(opt, own[i], strlen(own[i])) || !opt[strlen(own[i])])
				continue;
			char *more = *data ? xasprintf("%s,%s", *data, opt) : xstrdup(opt);
			free(*data);
			*data = more;
			ok = 1;
		}
	}
	free(copy);
	if (!ok) {
		free(*data);
		*data = NULL;
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Components of PATH ("/run/x": 2). */
static size_t depth(const char *path)
{
	size_t n = 0;

	for (; *path; path++)
		if (*path == '/' && path[1] && path[1] != '/')
			n++;
	return n;
}

void rootfs_sort_mounts(struct volume *v, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++) {       /* insertion sort: stable, and n is small */
		struct volume x = v[i];
		for (j = i; j > 0 && depth(v[j - 1].dest) > depth(x.dest); j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* A tmpfs at V's DST, with its flags and options. */
static int mount_tmpfs(const struct volume *v)
{
	char text[80] = "";
	size_t i;

	for (i = 0; i < N_TMPFS_FLAGS; i++)
		if (v->flags & tmpfs_flags[i].flag)
			snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s",
				 text[0] ? "|" : "", tmpfs_flags[i].text);
	return make_mount_point(v->dest, 1) < 0 ? -1 :
	       mount_traced("tmpfs", v->dest, "tmpfs", v->flags, v->data, text[0] ? text : "0");
}

int rootfs_mount_volumes(struct volume *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!v[i].source) {
			if (mount_tmpfs(&v[i]) < 0)
				return -1;
		} else if (make_mount_point(v[i].dest, v[i].is_dir) < 0 ||
			   attach_tree(&v[i].tree_fd, v[i].dest) < 0) {
			return -1;
		}
	}
	return 0;
}

/*
 * mount_setattr(2) sets one flag and leaves the others alone; the older
 * MS_REMOUNT|MS_BIND|MS_RDONLY resets every flag it is not given, which a
 * user namespace is not allowed to do on flags the host locked.
 */
int rootfs_read_only(const struct volume *v, size_t n)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
	size_t i;

	for (i = 0; i < n && strcmp(v[i].dest, "/tmp") && strcmp(v[i].dest, "/tmp/"); i++)
		;
	if (i == n && (make_mount_point("/tmp", 1) < 0 ||
		       mount_traced("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777",
				    "MS_NOSUID|MS_NODEV") < 0))
		return -1;
	vlog("mount_setattr(\"/\", MOUNT_ATTR_RDONLY)");
	if (mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof(attr)) < 0)
		return fail("mount_setattr / read-only");
	return 0;
}

int rootfs_enter_workdir(const char *dir)
{
	char cwd[PATH_MAX];

	vlog("chdir(\"%s\")", dir);
	if (chdir(dir) < 0)
		return fail("--workdir %s", dir);
	/* Outside the root, getcwd(3) fails (ENOENT: "unreachable"). */
	if (!getcwd(cwd, sizeof(cwd)))
		return fail("--workdir %s: outside the container", dir);
	return 0;
}
