/*
 * build-context.c - the sources of COPY and ADD, their hash, and their
 * copy into a build step's root (see build-context.h).  Used by img-build.
 *
 * The copy is made from the host, into the overlayfs mount of the step:
 * what it writes lands in the step's upper directory, the new layer.
 * ADD of a local tar reuses img-unpack's own layer code (layer.h), which
 * already keeps every entry inside the destination.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>

#include "build-context.h"
#include "console.h"
#include "image.h"
#include "minidock.h"
#include "runimage.h"

/* What ctx_copy was asked: the owner of what is copied, ADD or COPY. */
struct copy_opts {
	uid_t uid;
	gid_t gid;
	int extract;
};

int ctx_open(struct build_context *c, const char *dir, char **why)
{
	memset(c, 0, sizeof(*c));
	*why = NULL;
	c->path = xstrdup(dir);
	if ((c->fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return why_fail(why, "context %s: %s", dir, strerror(errno));
	if (df_ignore_load(dir, &c->ignore) < 0)
		return why_fail(why, "%s/.dockerignore: %s", dir, strerror(errno));
	return 0;
}

void ctx_close(struct build_context *c)
{
	if (c->fd >= 0)
		close(c->fd);
	df_ignore_free(&c->ignore);
	free(c->path);
	c->fd = -1;
	c->path = NULL;
}

/* "./a/../b//c" -> "b/c"; NULL when ".." climbs out of the top. */
static char *clean(const char *p)
{
	char *out = xmalloc(strlen(p) + 2), *o = out;

	*o = '\0';
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.')) {
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = strrchr(out, '/');
			if (o == out) {
				free(out);
				return NULL;
			}
			o = slash ? slash : out;
			*o = '\0';
		} else {
			if (o != out)
				*o++ = '/';
			memcpy(o, p, n);
			o += n;
			*o = '\0';
		}
		p += n;
		if (*p)
			p++;
	}
	return out;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in DIR (of the context) matching PATTERN, sorted. */
static int glob_dir(struct build_context *c, const char *dir, const char *pattern,
		    struct strv *found)
{
	int fd = open_in_root(c->fd, dir, O_RDONLY | O_DIRECTORY, 0);
	struct strv names = { 0 };
	struct dirent *de;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    fnmatch(pattern, de->d_name, FNM_PERIOD) == 0)
			strv_pushf(&names, "%s%s%s", dir, dir[0] ? "/" : "", de->d_name);
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(char *), compare_names);
	for (size_t i = 0; i < names.n; i++)
		if (!df_ignored(&c->ignore, names.v[i]))
			strv_push(found, names.v[i]);
	strv_free(&names);
	return 0;
}

int ctx_sources(struct build_context *c, const struct strv *patterns, struct strv *found,
		char **why)
{
	*why = NULL;
	for (size_t i = 0; i < patterns->n; i++) {
		char *p = clean(patterns->v[i]), *slash;
		size_t before = found->n;
		struct stat st;
		int fd;

		if (!p)
			return why_fail(why, "%s: outside the build context (%s)", patterns->v[i],
				    c->path);
		slash = strrchr(p, '/');
		if (strpbrk(slash ? slash + 1 : p, "*?[")) {
			char *dir = slash ? xasprintf("%.*s", (int)(slash - p), p) : xstrdup("");
			glob_dir(c, dir, slash ? slash + 1 : p, found);
			free(dir);
		} else if (!p[0] || !df_ignored(&c->ignore, p)) {
			fd = open_in_root(c->fd, p, O_PATH, 0);
			if (fd >= 0 && fstat(fd, &st) == 0)
				strv_push(found, p);
			if (fd >= 0)
				close(fd);
		}
		free(p);
		if (found->n == before)
			return why_fail(why, "%s: no such file in the build context %s%s",
				    patterns->v[i], c->path,
				    c->ignore.patterns.n ? " (or .dockerignore excludes it)" : "");
	}
	return 0;
}

/* ---- the hash ---- */

static int hash_tree(struct build_context *c, struct sha256 *h, const char *rel,
		     char **why);

/* Feed one entry REL (of the context) to H, and its contents. */
static int hash_entry(struct build_context *c, struct sha256 *h, const char *rel,
		      int follow, char **why)
{
	int fd = open_in_root(c->fd, rel, O_RDONLY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW), 0);
	char head[64], buf[65536], target[4097];
	struct stat st;
	ssize_t n;
	int r = 0;

	if (fd < 0 && errno == ELOOP)   /* a symlink, not followed */
		fd = open_in_root(c->fd, rel, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = why_fail(why, "%s: %s", rel, strerror(errno));
		goto out;
	}
	n = snprintf(head, sizeof(head), "%o %lld ", (unsigned)st.st_mode, (long long)st.st_size);
	sha256_update(h, head, (size_t)n);
	sha256_update(h, rel, strlen(rel) + 1);
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(fd, "", target, sizeof(target) - 1);
		if (n >= 0)
			sha256_update(h, target, (size_t)n);
	} else if (S_ISREG(st.st_mode)) {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			sha256_update(h, buf, (size_t)n);
		if (n < 0)
			r = why_fail(why, "read %s: %s", rel, strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		r = hash_tree(c, h, rel, why);
	}
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/* Every entry below directory REL, in name order, less the ignored ones. */
static int hash_tree(struct build_context *c, struct sha256 *h, const char *rel, char **why)
{
	struct strv names = { 0 };
	int r = 0;

	if (glob_dir(c, rel, "*", &names) < 0 || glob_dir(c, rel, ".*", &names) < 0) {
		strv_free(&names);
		return why_fail(why, "%s: %s", rel, strerror(errno));
	}
	qsort(names.v, names.n, sizeof(char *), compare_names);
	for (size_t i = 0; r == 0 && i < names.n; i++)
		r = hash_entry(c, h, names.v[i], 0, why);
	strv_free(&names);
	return r;
}

int ctx_digest(struct build_context *c, const struct strv *sources, char out[DIGEST_LEN],
	       char **why)
{
	struct sha256 *h = sha256_new();
	int r = 0;

	*why = NULL;
	if (!h)
		return why_fail(why, "sha256: out of memory");
	for (size_t i = 0; r == 0 && i < sources->n; i++)
		r = hash_entry(c, h, sources->v[i], 1, why);
	if (r == 0 && sha256_final(h, out) < 0)
		r = why_fail(why, "sha256: failed");
	sha256_free(h);
	return r;
}

/* ---- the copy ---- */

/* The directory PATH of the root, created (mode 0755, owned by O) where
 * missing: an O_RDONLY descriptor of it, or -1. */
static int make_dir_in_root(int rootfd, const char *path, const struct copy_opts *o)
{
	char *p = clean(path[0] == '/' ? path + 1 : path), *s;
	int fd = -1;

	if (!p) {   /* ".." above / is / itself, as in any root */
		p = xstrdup("");
	}
	for (s = p; ; s++) {
		char c = *s;
		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (fd >= 0)
			close(fd);
		fd = open_in_root(rootfd, p, O_RDONLY | O_DIRECTORY, 0);
		if (fd < 0 && errno == ENOENT) {
			char *name = strrchr(p, '/');
			int parent = name ? open_in_root(rootfd, (*name = '\0', p),
							 O_RDONLY | O_DIRECTORY, 0) : dup(rootfd);
			const char *base = name ? name + 1 : p;
			if (parent >= 0 && mkdirat(parent, base, 0755) == 0 &&
			    fchownat(parent, base, o->uid, o->gid, AT_SYMLINK_NOFOLLOW) == 0)
				fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					    O_CLOEXEC);
			if (name)
				*name = '/';
			if (parent >= 0)
				close(parent);
		}
		*s = c;
		if (fd < 0 || c == '\0')
			break;
	}
	free(p);
	return fd;
}

/* Regular file SRC (open) to NAME in DIRFD, replacing a file there. */
static int copy_file(int src, const struct stat *st, int dirfd, const char *name,
		     const struct copy_opts *o)
{
	struct timespec times[2] = { st->st_atim, st->st_mtim };
	char buf[65536];
	ssize_t n;
	int out, ret = -1;

	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -1;
	out = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return -1;
	while ((n = read(src, buf, sizeof(buf))) > 0)
		if (write_all(out, buf, (size_t)n) < 0)
			goto out;
	if (n == 0 && fchown(out, o->uid, o->gid) == 0 && fchmod(out, st->st_mode & 07777) == 0 &&
	    futimens(out, times) == 0)
		ret = 0;
out:
	close(out);
	return ret;
}

static int copy_tree(struct build_context *c, const char *rel, int dirfd,
		     const struct copy_opts *o, char **why);

/* Context entry REL to NAME in DIRFD (a directory of the root). */
static int copy_entry(struct build_context *c, const char *rel, int dirfd, const char *name,
		      int follow, const struct copy_opts *o, char **why)
{
	int fd = open_in_root(c->fd, rel, O_RDONLY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW), 0);
	char target[4097];
	struct stat st;
	ssize_t n;
	int r = -1, sub;

	if (fd < 0 && errno == ELOOP && !follow) {
		n = readlinkat(c->fd, rel, target, sizeof(target) - 1);
		if (n < 0 || n == (ssize_t)sizeof(target) - 1)
			return why_fail(why, "readlink %s: %s", rel, strerror(errno));
		target[n] = '\0';
		if ((unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) ||
		    symlinkat(target, dirfd, name) < 0 ||
		    fchownat(dirfd, name, o->uid, o->gid, AT_SYMLINK_NOFOLLOW) < 0)
			return why_fail(why, "symlink %s: %s", name, strerror(errno));
		return 0;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = why_fail(why, "%s: %s", rel, strerror(errno));
		goto out;
	}
	if (S_ISREG(st.st_mode)) {
		if (copy_file(fd, &st, dirfd, name, o) < 0)
			r = why_fail(why, "copy %s: %s", rel, strerror(errno));
		else
			r = 0;
	} else if (S_ISDIR(st.st_mode)) {
		if (mkdirat(dirfd, name, st.st_mode & 07777) < 0 && errno != EEXIST)
			goto dir_fail;
		sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0 || fchown(sub, o->uid, o->gid) < 0 || fchmod(sub, st.st_mode & 07777) < 0) {
			if (sub >= 0)
				close(sub);
			goto dir_fail;
		}
		r = copy_tree(c, rel, sub, o, why);
		close(sub);
	} else {
		vlog("%s: neither a file, a directory nor a link: not copied", rel);
		r = 0;
	}
	goto out;
dir_fail:
	r = why_fail(why, "mkdir %s: %s", name, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/* The contents of context directory REL into DIRFD. */
static int copy_tree(struct build_context *c, const char *rel, int dirfd,
		     const struct copy_opts *o, char **why)
{
	struct strv names = { 0 };
	int r = 0;

	if (glob_dir(c, rel, "*", &names) < 0 || glob_dir(c, rel, ".*", &names) < 0) {
		strv_free(&names);
		return why_fail(why, "%s: %s", rel[0] ? rel : ".", strerror(errno));
	}
	for (size_t i = 0; r == 0 && i < names.n; i++) {
		const char *base = strrchr(names.v[i], '/');
		r = copy_entry(c, names.v[i], dirfd, base ? base + 1 : names.v[i], 0, o, why);
	}
	strv_free(&names);
	return r;
}

/* 1 when the context file FD is a tar archive (compressed or not). */
static int is_tar(int fd)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int tar;

	if (!a)
		return 0;
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	tar = archive_read_open_fd(a, fd, 65536) == ARCHIVE_OK &&
	      archive_read_next_header(a, &e) == ARCHIVE_OK;
	archive_read_free(a);
	return tar;
}

/* ADD of a local tar: its entries below DIRFD (layer.h, as img-unpack). */
static int extract(int fd, const char *rel, int dirfd, char **why)
{
	char *path = xasprintf("/proc/self/fd/%d", fd);
	struct img_source *src = img_source_open(path);
	struct img_reader *r = src ? img_reader_open(src, NULL) : NULL;
	struct img_apply a = { .rootfd = dirfd, .max_size = 64ULL << 30, .what = rel };
	int ret = 0;

	if (!r || img_apply_layer(r, &a) < 0)
		ret = why_fail(why, "ADD %s: %s", rel, img_error());
	if (r)
		img_reader_close(r);
	if (src)
		img_source_close(src);
	free(path);
	return ret;
}

/* --chown=USER[:GROUP] in the image ROOTFS: a user alone is its UID for
 * the group too, as docker says. */
static int owner(const char *rootfs, const char *spec, struct copy_opts *o, char **why)
{
	char *ids, *end;

	o->uid = 0;
	o->gid = 0;
	if (!spec)
		return 0;
	if (!(ids = runimage_user(rootfs, spec, why)))
		return -1;
	o->uid = (uid_t)strtoul(ids, &end, 10);
	o->gid = strchr(spec, ':') && *end == ':' ? (gid_t)strtoul(end + 1, NULL, 10)
						 : (gid_t)o->uid;
	free(ids);
	return 0;
}

static int copy_in(struct build_context *c, const struct strv *sources, int rootfd,
		   const char *dest, const struct copy_opts *o, char **why);

int ctx_copy(struct build_context *c, const struct strv *sources, const char *rootfs,
	     const char *dest, const char *chown, int extract, char **why)
{
	struct copy_opts o = { .extract = extract };
	int rootfd, r;

	*why = NULL;
	if (owner(rootfs, chown, &o, why) < 0)
		return -1;
	if ((rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return why_fail(why, "open %s: %s", rootfs, strerror(errno));
	r = copy_in(c, sources, rootfd, dest, &o, why);
	close(rootfd);
	return r;
}

static int copy_in(struct build_context *c, const struct strv *sources, int rootfd,
		   const char *dest, const struct copy_opts *o, char **why)
{
	size_t len = strlen(dest);
	int into = len == 0 || dest[len - 1] == '/' || sources->n > 1, r = 0;
	int destfd = open_in_root(rootfd, dest, O_RDONLY | O_DIRECTORY, 0);

	if (destfd >= 0)
		into = 1;
	for (size_t i = 0; r == 0 && i < sources->n; i++) {
		const char *rel = sources->v[i];
		int fd = open_in_root(c->fd, rel, O_RDONLY, 0), dirfd;
		struct stat st;
		char *copy, *name;

		if (fd < 0 || fstat(fd, &st) < 0) {
			r = why_fail(why, "%s: %s", rel, strerror(errno));
		} else if (S_ISDIR(st.st_mode) || (o->extract && S_ISREG(st.st_mode) && is_tar(fd))) {
			/* A directory's contents, or a tar's, go into DEST. */
			if (destfd < 0)
				destfd = make_dir_in_root(rootfd, dest, o);
			if (destfd < 0)
				r = why_fail(why, "mkdir %s: %s", dest, strerror(errno));
			else if (S_ISDIR(st.st_mode))
				r = copy_tree(c, rel, destfd, o, why);
			else
				r = extract(fd, rel, destfd, why);
		} else {
			/* A file: DEST/NAME, or DEST itself. */
			copy = xstrdup(dest);
			if (into) {
				dirfd = destfd >= 0 ? dup(destfd) : make_dir_in_root(rootfd, dest, o);
				name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : (char *)rel;
			} else {
				char *slash = strrchr(copy, '/');
				name = slash ? slash + 1 : copy;
				if (slash)
					*slash = '\0';
				dirfd = make_dir_in_root(rootfd, slash ? (copy[0] ? copy : "/") : ".", o);
			}
			if (dirfd < 0)
				r = why_fail(why, "mkdir %s: %s", dest, strerror(errno));
			else
				r = copy_entry(c, rel, dirfd, name, 1, o, why);
			if (dirfd >= 0)
				close(dirfd);
			free(copy);
		}
		if (fd >= 0)
			close(fd);
	}
	if (destfd >= 0)
		close(destfd);
	return r;
}
