/*
 * volumes.c - named volumes (see volumes.h): where they live, who uses
 * them, and the first copy of the image's content into a new one, as
 * Docker's local driver does.  Used by volume, run and container.
 *
 * See flock(2), rename(2), openat2(2) (the image's path is resolved
 * inside its root), fstatat(2), mknodat(2), symlinkat(2), fchownat(2),
 * utimensat(2); and Docker's daemon/volumes_unix.go (copyExistingContents).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "console.h"     /* write_all */
#include "minidock.h"
#include "volumes.h"

int volume_valid_name(const char *name)
{
	size_t n = strlen(name), i;

	if (n < 2 || n > 240)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return 0;
	}
	return 1;
}

char *volume_bad_name(const char *name)
{
	return xasprintf("\"%s\" is not a volume name: use 2 to 240 of [a-zA-Z0-9_.-], "
			 "starting with a letter or digit (for a host directory, give a "
			 "path with a '/': ./%s)", name, name);
}

char *volume_dir(const char *name)
{
	return xasprintf("%s/volumes/%s", md_lib_dir(), name);
}

char *volume_data(const char *name)
{
	return xasprintf("%s/volumes/%s/_data", md_lib_dir(), name);
}

int volume_exists(const char *name)
{
	char *data = volume_data(name);
	struct stat st;
	int ok = stat(data, &st) == 0 && S_ISDIR(st.st_mode);

	free(data);
	return ok;
}

char *volume_of_path(const char *path)
{
	char *top = xasprintf("%s/volumes/", md_lib_dir()), *name = NULL;
	size_t n = strlen(top);
	const char *slash;

	if (!strncmp(path, top, n) && (slash = strchr(path + n, '/')) &&
	    !strcmp(slash, "/_data")) {
		name = xasprintf("%.*s", (int)(slash - (path + n)), path + n);
		if (!volume_valid_name(name)) {
			free(name);
			name = NULL;
		}
	}
	free(top);
	return name;
}

int volumes_lock(void)
{
	char *top = xasprintf("%s/volumes", md_lib_dir()), *path = xasprintf("%s/.lock", top);
	int fd = -1, e;

	if (mkdir_p(top, 0701) == 0)
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	vlog("flock(\"%s\", LOCK_EX)", path);
	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		e = errno;
		close(fd);
		errno = e;
		fd = -1;
	}
	free(path);
	free(top);
	return fd;
}

int volume_create(const char *name)
{
	char *dir = volume_dir(name), *tmp = xasprintf("%s/volumes/.%s.new", md_lib_dir(), name);
	char *data = xasprintf("%s/_data", tmp), *created = xasprintf("%s/created", tmp);
	char stamp[64];
	time_t now = time(NULL);
	struct tm tm;
	int ret = -1;

	if (volume_exists(name)) {
		ret = 0;
		goto out;
	}
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ\n", gmtime_r(&now, &tm));
	/* A hidden directory left by a crash, or a damaged volume: anew. */
	if (rm_rf(tmp) < 0 || rm_rf(dir) < 0)
		goto out;
	vlog("mkdir(\"%s\"), then rename(\"%s\", \"%s\")", data, tmp, dir);
	if (mkdir(tmp, 0755) < 0 || mkdir(data, 0755) < 0 || write_file(created, stamp) < 0 ||
	    rename(tmp, dir) < 0)
		goto out;
	ret = 1;
out:
	free(created);
	free(data);
	free(tmp);
	free(dir);
	return ret;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int volume_names(struct strv *names)
{
	char *top = xasprintf("%s/volumes", md_lib_dir());
	DIR *d = opendir(top);
	struct dirent *de;
	int e;

	free(top);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((errno = 0, de = readdir(d)) != NULL)
		if (volume_valid_name(de->d_name) && volume_exists(de->d_name))
			strv_push(names, de->d_name);
	e = errno;
	closedir(d);
	if (names->n)
		qsort(names->v, names->n, sizeof(*names->v), compare_names);
	errno = e;
	return e ? -1 : 0;
}

int volume_users(const char *name, struct strv *users)
{
	struct strv containers = { 0 };
	size_t i, j;

	if (life_names(&containers) < 0)
		return -1;
	for (i = 0; i < containers.n; i++) {
		struct strv used = { 0 };
		if (life_volumes(containers.v[i], &used) == 0)
			for (j = 0; j < used.n; j++)
				if (!strcmp(used.v[j], name)) {
					strv_push(users, containers.v[i]);
					break;
				}
		strv_free(&used);
	}
	strv_free(&containers);
	return 0;
}

int volume_prune_leftovers(void)
{
	char *top = xasprintf("%s/volumes", md_lib_dir());
	DIR *d = opendir(top);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		free(top);
		return errno == ENOENT ? 0 : -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (de->d_name[0] != '.' || !((n > 4 && !strcmp(de->d_name + n - 4, ".new")) ||
					      (n > 9 && !strcmp(de->d_name + n - 9, ".removing"))))
			continue;
		char *path = xasprintf("%s/%s", top, de->d_name);
		vlog("rm -r %s: left by a crash", path);
		if (rm_rf(path) < 0)
			ret = -1;
		free(path);
	}
	closedir(d);
	free(top);
	return ret;
}

char *volume_random_name(void)
{
	unsigned char bytes[32];
	char *name = xmalloc(2 * sizeof(bytes) + 1);
	size_t i;

	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes)) {
		free(name);
		return NULL;
	}
	for (i = 0; i < sizeof(bytes); i++)
		sprintf(name + 2 * i, "%02x", bytes[i]);
	return name;
}

/* nftw(3) has no argument for its callback: the sum it adds to. */
static uint64_t size_sum;

static int add_size(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)path;
	(void)f;
	if (type == FTW_F || type == FTW_SL)
		size_sum += (uint64_t)st->st_size;
	return 0;
}

uint64_t volume_size(const char *name)
{
	char *data = volume_data(name);

	size_sum = 0;
	nftw(data, add_size, 32, FTW_PHYS | FTW_MOUNT);
	free(data);
	return size_sum;
}

int volume_remove(const char *name)
{
	char *dir = volume_dir(name), *gone = xasprintf("%s/volumes/.%s.removing",
							 md_lib_dir(), name);
	int ret;

	vlog("rename(\"%s\", \"%s\"), then rm -r", dir, gone);
	ret = rm_rf(gone) == 0 && rename(dir, gone) == 0 && rm_rf(gone) == 0 ? 0 : -1;
	free(gone);
	free(dir);
	return ret;
}

const char *volume_human_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)bytes;
	size_t i = 0;

	while (v >= 1000 && i + 1 < sizeof(units) / sizeof(*units)) {
		v /= 1000;
		i++;
	}
	snprintf(buf, size, "%.4g%s", v, units[i]);
	return buf;
}

/* ---- the first copy of the image's content into a new volume ---- */

/*
 * Owner, mode and times of NAME in DIRFD as ST says (the mode after the
 * owner: chown(2) clears the set-user-ID bit).  Rootless, a file of
 * another owner than ours cannot be given away: it stays ours.
 */
static int copy_attributes(int dirfd, const char *name, const struct stat *st)
{
	struct timespec times[2] = { st->st_atim, st->st_mtim };
	int self = !name[0];    /* DIRFD itself */

	if ((self ? fchown(dirfd, st->st_uid, st->st_gid)
		  : fchownat(dirfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW)) < 0 &&
	    !(store_rootless() && (errno == EPERM || errno == EINVAL)))
		return -1;
	/* A link's mode is always 0777. */
	if (!S_ISLNK(st->st_mode) &&
	    (self ? fchmod(dirfd, st->st_mode & 07777)
		  : fchmodat(dirfd, name, st->st_mode & 07777, 0)) < 0)
		return -1;
	return self ? futimens(dirfd, times) : utimensat(dirfd, name, times, AT_SYMLINK_NOFOLLOW);
}

static int copy_file(int from, int to, const char *name, const struct stat *st)
{
	int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out = -1, ret = -1;
	char buf[65536];
	ssize_t n = -1;

	if (in >= 0)
		out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out >= 0)
		while ((n = read(in, buf, sizeof(buf))) > 0 && write_all(out, buf, (size_t)n) == 0)
			;
	if (n == 0 && close(out) == 0)
		ret = copy_attributes(to, name, st);
	else if (out >= 0)
		close(out);
	if (in >= 0)
		close(in);
	return ret;
}

static int copy_link(int from, int to, const char *name, const struct stat *st)
{
	size_t size = (size_t)st->st_size + 1;
	char *target = xmalloc(size);
	ssize_t n = readlinkat(from, name, target, size);
	int ret = -1;

	if (n >= 0 && (size_t)n < size) {
		target[n] = '\0';
		if (symlinkat(target, to, name) == 0)
			ret = copy_attributes(to, name, st);
	} else if (n >= 0) {
		errno = EAGAIN;         /* changed while we read it */
	}
	free(target);
	return ret;
}

/* A copy under way: where it goes, and the files of several links seen so
 * far, so that each is copied once and linked again (linkat(2)), as
 * Docker's copy keeps hard links. */
struct copy {
	int to_root;            /* the volume's _data */
	size_t top_len;         /* strlen of the image's path: REL's prefix */
	struct seen {
		dev_t dev;
		ino_t ino;
		char *path;     /* where its copy is, relative to TO_ROOT */
	} *seen;
	size_t n_seen;
	char **why;
};

/* Regular file NAME: a link to a copy made already, or a new copy. */
static int copy_regular(struct copy *c, int from, int to, const char *name, const char *rel,
			const struct stat *st)
{
	size_t i;

	for (i = 0; st->st_nlink > 1 && i < c->n_seen; i++)
		if (c->seen[i].dev == st->st_dev && c->seen[i].ino == st->st_ino)
			return linkat(c->to_root, c->seen[i].path, to, name, 0);
	if (copy_file(from, to, name, st) < 0)
		return -1;
	if (st->st_nlink > 1) {
		c->seen = xrealloc(c->seen, (c->n_seen + 1) * sizeof(*c->seen));
		c->seen[c->n_seen++] = (struct seen){ st->st_dev, st->st_ino,
						      xstrdup(rel + c->top_len + 1) };
	}
	return 0;
}

/* Directory NAME of FROM, made in TO, then its content; its times once
 * its content is written. */
static int copy_tree(struct copy *c, int from, int to, const char *rel);

static int copy_dir(struct copy *c, int from, int to, const char *name, const char *rel,
		    const struct stat *st)
{
	int sub_from, sub_to = -1, r = -1;

	if (mkdirat(to, name, 0700) < 0)
		return -1;
	sub_from = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub_from >= 0)
		sub_to = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub_to >= 0 && copy_tree(c, sub_from, sub_to, rel) == 0 &&
	    copy_attributes(sub_to, "", st) == 0)
		r = 0;
	if (sub_from >= 0)
		close(sub_from);
	if (sub_to >= 0)
		close(sub_to);
	return r;
}

/* Everything in directory FROM into directory TO, never following a
 * link (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW): a link is copied as a link.
 * Extended attributes are not kept (img-unpack keeps none either).
 * REL: where we are in the image, for the messages. */
static int copy_tree(struct copy *c, int from, int to, const char *rel)
{
	int fd = dup(from), ret = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return why_fail(c->why, "read %s: %s", rel, strerror(errno));
	}
	while (ret == 0 && (errno = 0, de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		char *path;
		struct stat st;

		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		path = xasprintf("%s/%s", rel, name);
		if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			ret = -1;
		else if (S_ISDIR(st.st_mode))
			ret = copy_dir(c, from, to, name, path, &st);
		else if (S_ISREG(st.st_mode))
			ret = copy_regular(c, from, to, name, path, &st);
		else if (S_ISLNK(st.st_mode))
			ret = copy_link(from, to, name, &st);
		else if ((ret = mknodat(to, name, st.st_mode, st.st_rdev)) == 0)
			ret = copy_attributes(to, name, &st);   /* a fifo, a device... */
		if (ret < 0)
			why_fail(c->why, "copy %s: %s", path, strerror(errno));
		free(path);
	}
	if (ret == 0 && errno)
		ret = why_fail(c->why, "read %s: %s", rel, strerror(errno));
	closedir(d);
	return ret;
}

/*
 * As Docker: when volume NAME's _data is empty, the image's directory PATH
 * (resolved inside the root ROOTFD: a link never leads out of the image)
 * is copied into it, and _data takes that directory's owner and mode.
 * Nothing to copy where the image has no directory there.
 */
static int populate(const char *name, int rootfd, const char *path, char **why)
{
	char *data = volume_data(name);
	int empty = dir_is_empty(data), from = -1, to = -1, ret = -1, r;
	struct copy c;
	struct stat st;

	if (empty < 0) {
		why_fail(why, "volume %s: %s: %s", name, data, strerror(errno));
		goto out;
	}
	if (!empty) {
		ret = 0;
		goto out;
	}
	from = open_in_root(rootfd, path, O_RDONLY | O_DIRECTORY, 0);
	if (from < 0) {
		ret = errno == ENOENT || errno == ENOTDIR ? 0 : why_fail(why, "the image's %s: %s",
									  path, strerror(errno));
		goto out;
	}
	vlog("volume %s is empty: a copy of the image's %s (owners, modes, links)", name, path);
	to = open(data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (to < 0 || fstat(from, &st) < 0) {
		why_fail(why, "volume %s: %s: %s", name, data, strerror(errno));
		goto out;
	}
	c = (struct copy){ .to_root = to, .top_len = strlen(path), .why = why };
	r = copy_tree(&c, from, to, path);
	for (size_t i = 0; i < c.n_seen; i++)
		free(c.seen[i].path);
	free(c.seen);
	if (r < 0)
		goto out;
	if (copy_attributes(to, "", &st) < 0) {
		why_fail(why, "volume %s: chown %s: %s", name, data, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (from >= 0)
		close(from);
	if (to >= 0)
		close(to);
	free(data);
	return ret;
}

/* One -v NAME:/path[:ro] (NAME is valid: runopts_check), made ready. */
static int prepare_one(struct life *l, char **spec, int rootfd, char **why)
{
	char *name = xstrdup(*spec), *dest = strchr(name, ':'), *mode, *data;
	int ret = -1;

	*dest++ = '\0';
	mode = strchr(dest, ':');
	if (mode)
		*mode++ = '\0';
	/* Recorded before it is made or used: see volumes.h. */
	if (life_record_volume(l, name) < 0) {
		why_fail(why, "write %s/state: %s", l->dir, strerror(errno));
	} else if (volume_create(name) < 0) {
		why_fail(why, "volume %s: mkdir %s/volumes/%s: %s", name, md_lib_dir(), name,
			 strerror(errno));
	} else if (populate(name, rootfd, dest, why) == 0) {
		data = volume_data(name);
		free(*spec);
		*spec = mode ? xasprintf("%s:%s:%s", data, dest, mode) : xasprintf("%s:%s", data, dest);
		free(data);
		ret = 0;
	}
	free(name);
	return ret;
}

int volumes_prepare(struct life *l, struct strv *specs, const char *rootfs, char **why)
{
	int lock = -1, rootfd = -1, ret = 0;
	size_t i;

	*why = NULL;
	for (i = 0; ret == 0 && i < specs->n; i++) {
		const char *colon = strchr(specs->v[i], ':');
		if (!colon || memchr(specs->v[i], '/', (size_t)(colon - specs->v[i])))
			continue;       /* a host path: a bind mount */
		if (lock < 0 && (lock = volumes_lock()) < 0) {
			ret = why_fail(why, "lock %s/volumes/.lock: %s", md_lib_dir(),
				       strerror(errno));
			break;
		}
		if (rootfd < 0 && (rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
			ret = why_fail(why, "open %s: %s", rootfs, strerror(errno));
			break;
		}
		ret = prepare_one(l, &specs->v[i], rootfd, why);
	}
	if (rootfd >= 0)
		close(rootfd);
	if (lock >= 0)
		close(lock);
	return ret;
}

int volumes_need_fill(const struct strv *specs)
{
	size_t i;

	for (i = 0; i < specs->n; i++) {
		const char *spec = specs->v[i], *colon = strchr(spec, ':');
		char *name, *data;
		int empty;
		if (!colon || memchr(spec, '/', (size_t)(colon - spec)))
			continue;      /* a bind mount of a host path */
		name = xasprintf("%.*s", (int)(colon - spec), spec);
		data = volume_data(name);
		empty = !volume_exists(name) || dir_is_empty(data) != 0;
		free(data);
		free(name);
		if (empty)
			return 1;
	}
	return 0;
}
