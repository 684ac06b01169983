/*
 * layer-write.c - a directory in overlayfs form to an OCI layer blob (see
 * layer-write.h).  Used by img-build.
 *
 * One pass: the tree is walked in name order; libarchive writes the tar;
 * its bytes go through our write callback, which hashes them (the
 * diff_id), gzips them with zlib, hashes the gzip'd bytes (the digest)
 * and writes them.  zlib, not libarchive's gzip filter, so that the gzip
 * header carries no time: the same tar, the same blob.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "console.h"
#include "layer-write.h"
#include "minidock.h"
#include "store.h"

#define CHUNK (128 * 1024)

/* Where the tar goes: hashed, gzip'd, hashed again, written. */
struct sink {
	int fd;
	z_stream z;
	struct sha256 *tar_h, *gz_h;
	int64_t size;
	int err;                /* errno of the first failure */
	unsigned char out[CHUNK];
};

/* A file seen with several links: later ones are tar hard links to it. */
struct seen {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct walk {
	struct archive *a;
	struct archive_entry *e;
	int64_t epoch;
	struct seen *seen;
	size_t nseen;
	uint64_t entries;
	char *why;
	unsigned char buf[CHUNK];
};

/* Gzip what zlib holds and write it (FLUSH: Z_NO_FLUSH or Z_FINISH). */
static int deflate_out(struct sink *s, int flush)
{
	int r;

	do {
		size_t have;

		s->z.next_out = s->out;
		s->z.avail_out = sizeof(s->out);
		r = deflate(&s->z, flush);
		if (r == Z_STREAM_ERROR) {
			s->err = EIO;
			return -1;
		}
		have = sizeof(s->out) - s->z.avail_out;
		if (have && (sha256_update(s->gz_h, s->out, have) < 0 ||
			     write_all(s->fd, s->out, have) < 0)) {
			s->err = errno ? errno : EIO;
			return -1;
		}
		s->size += (int64_t)have;
	} while (s->z.avail_out == 0 || (flush == Z_FINISH && r != Z_STREAM_END));
	return 0;
}

/* libarchive's write callback: the tar's bytes. */
static la_ssize_t sink_write(struct archive *a, void *arg, const void *buf, size_t n)
{
	struct sink *s = arg;

	(void)a;
	if (sha256_update(s->tar_h, buf, n) < 0) {
		s->err = EIO;
		return -1;
	}
	s->z.next_in = (unsigned char *)buf;
	s->z.avail_in = (uInt)n;
	if (deflate_out(s, Z_NO_FLUSH) < 0)
		return -1;
	return (la_ssize_t)n;
}

/* The entry for PATH, as stat ST says, without times beyond the mtime. */
static void fill_entry(struct walk *w, const char *path, const struct stat *st, mode_t type)
{
	archive_entry_clear(w->e);
	archive_entry_set_pathname(w->e, path);
	archive_entry_set_filetype(w->e, type);
	archive_entry_set_perm(w->e, st->st_mode & 07777);
	archive_entry_set_uid(w->e, st->st_uid);
	archive_entry_set_gid(w->e, st->st_gid);
	archive_entry_set_mtime(w->e, st->st_mtime < w->epoch ? st->st_mtime : w->epoch, 0);
	archive_entry_set_size(w->e, 0);
}

static int write_header(struct walk *w, const char *path)
{
	w->entries++;
	if (archive_write_header(w->a, w->e) != ARCHIVE_OK)
		return why_fail(&w->why, "tar entry %s: %s", path, archive_error_string(w->a));
	return 0;
}

/* An empty regular file named NAME: the OCI form of a whiteout. */
static int write_marker(struct walk *w, const char *name, const struct stat *st)
{
	struct stat s = *st;

	s.st_mode = (st->st_mode & 07777) | S_IFREG;
	fill_entry(w, name, &s, AE_IFREG);
	return write_header(w, name);
}

/* The bytes of regular file NAME in DIRFD. */
static int write_data(struct walk *w, int dirfd, const char *name, const char *path)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return why_fail(&w->why, "open %s: %s", path, strerror(errno));
	while ((n = read(fd, w->buf, sizeof(w->buf))) > 0)
		if (archive_write_data(w->a, w->buf, (size_t)n) != n) {
			close(fd);
			return why_fail(&w->why, "tar %s: %s", path, archive_error_string(w->a));
		}
	if (n < 0) {
		why_fail(&w->why, "read %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* A file with other links already written: a tar hard link to it. */
static const char *seen_before(struct walk *w, const struct stat *st, const char *path)
{
	for (size_t i = 0; i < w->nseen; i++)
		if (w->seen[i].dev == st->st_dev && w->seen[i].ino == st->st_ino)
			return w->seen[i].path;
	w->seen = xrealloc(w->seen, (w->nseen + 1) * sizeof(*w->seen));
	w->seen[w->nseen++] = (struct seen){ st->st_dev, st->st_ino, xstrdup(path) };
	return NULL;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_dir(struct walk *w, int dirfd, const char *prefix);

/* One entry NAME of DIRFD, PATH in the layer. */
static int write_one(struct walk *w, int dirfd, const char *name, const char *path)
{
	struct stat st;
	char target[4097];
	const char *link;
	ssize_t n;
	int r = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return why_fail(&w->why, "stat %s: %s", path, strerror(errno));
	switch (st.st_mode & S_IFMT) {
	case S_IFCHR:
		if (st.st_rdev == makedev(0, 0)) {
			/* overlayfs deleted it: a whiteout, .wh.NAME */
			char *wh = xasprintf("%.*s.wh.%s", (int)(strlen(path) - strlen(name)),
					     path, name);
			r = write_marker(w, wh, &st);
			free(wh);
			return r;
		}
		/* a real device node */
		__attribute__((fallthrough));
	case S_IFBLK:
	case S_IFIFO:
		fill_entry(w, path, &st, st.st_mode & S_IFMT);
		archive_entry_set_rdev(w->e, st.st_rdev);
		return write_header(w, path);
	case S_IFLNK:
		n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		if (n < 0 || n == (ssize_t)sizeof(target) - 1)
			return why_fail(&w->why, "readlink %s: %s", path,
				    n < 0 ? strerror(errno) : "too long");
		target[n] = '\0';
		fill_entry(w, path, &st, AE_IFLNK);
		archive_entry_set_symlink(w->e, target);
		return write_header(w, path);
	case S_IFREG:
		fill_entry(w, path, &st, AE_IFREG);
		if (st.st_nlink > 1 && (link = seen_before(w, &st, path))) {
			archive_entry_set_hardlink(w->e, link);
			return write_header(w, path);
		}
		archive_entry_set_size(w->e, st.st_size);
		if (write_header(w, path) < 0)
			return -1;
		return write_data(w, dirfd, name, path);
	case S_IFDIR: {
		char opaque[2] = "";
		char *sub = xasprintf("%s/", path);
		int fd;

		fill_entry(w, sub, &st, AE_IFDIR);
		r = write_header(w, sub);
		fd = r < 0 ? -1 : openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					 O_CLOEXEC);
		if (r == 0 && fd < 0)
			r = why_fail(&w->why, "open %s: %s", path, strerror(errno));
		/* overlayfs hid everything below from the lower layers (user.*:
		 * an overlayfs mounted in a user namespace, "userxattr"). */
		if (r == 0 && (fgetxattr(fd, "trusted.overlay.opaque", opaque, 1) == 1 ||
			       fgetxattr(fd, "user.overlay.opaque", opaque, 1) == 1) &&
		    opaque[0] == 'y') {
			char *opq = xasprintf("%s.wh..wh..opq", sub);
			r = write_marker(w, opq, &st);
			free(opq);
		}
		if (r == 0)
			r = walk_dir(w, fd, sub);
		else if (fd >= 0)
			close(fd);
		free(sub);
		return r;
	}
	default:
		vlog("%s: a socket, not kept in the layer (as docker)", path);
		return 0;
	}
}

/* Every entry of DIRFD (closed here), in name order; PREFIX "dir/". */
static int walk_dir(struct walk *w, int dirfd, const char *prefix)
{
	DIR *d = fdopendir(dirfd);
	struct strv names = { 0 };
	struct dirent *de;
	int r = 0;

	if (!d) {
		close(dirfd);
		return why_fail(&w->why, "opendir %s: %s", prefix[0] ? prefix : ".", strerror(errno));
	}
	while ((errno = 0, de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strv_push(&names, de->d_name);
	if (errno)
		r = why_fail(&w->why, "readdir %s: %s", prefix, strerror(errno));
	if (names.n)
		qsort(names.v, names.n, sizeof(char *), compare_names);
	for (size_t i = 0; r == 0 && i < names.n; i++) {
		char *path = xasprintf("%s%s", prefix, names.v[i]);
		r = write_one(w, dirfd, names.v[i], path);
		free(path);
	}
	strv_free(&names);
	closedir(d);
	return r;
}

int layer_write(const char *dir, const char *blobs, int64_t epoch, struct layer_blob *out,
		char **why)
{
	char *tmp = xasprintf("%s/.tmp-layer-XXXXXX", blobs), *final = NULL;
	struct sink *s = xcalloc(1, sizeof(*s));
	struct walk *w = xcalloc(1, sizeof(*w));
	int dirfd = -1, ret = -1, zinit = 0;

	*why = NULL;
	w->epoch = epoch;
	s->fd = mkostemp(tmp, O_CLOEXEC);
	if (s->fd < 0) {
		why_fail(why, "mkstemp %s: %s", tmp, strerror(errno));
		goto out;
	}
	/* windowBits 16+15: a gzip stream, its header with no name nor time. */
	if (deflateInit2(&s->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + 15, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		why_fail(why, "deflateInit2: out of memory");
		goto out;
	}
	zinit = 1;
	s->tar_h = sha256_new();
	s->gz_h = sha256_new();
	w->a = archive_write_new();
	w->e = archive_entry_new();
	if (!s->tar_h || !s->gz_h || !w->a || !w->e) {
		why_fail(why, "layer %s: out of memory", dir);
		goto out;
	}
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		why_fail(why, "open %s: %s", dir, strerror(errno));
		goto out;
	}
	/* pax as Docker writes it: ustar headers, a pax header only for
	 * what ustar cannot hold (long names, big numbers). */
	if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
	    archive_write_open2(w->a, s, NULL, sink_write, NULL, NULL) != ARCHIVE_OK) {
		why_fail(why, "tar: %s", archive_error_string(w->a));
		goto out;
	}
	ret = walk_dir(w, dirfd, "");
	dirfd = -1;
	if (ret < 0) {
		*why = w->why;
		w->why = NULL;
		if (s->err && !*why)
			why_fail(why, "write %s: %s", tmp, strerror(s->err));
		goto out;
	}
	ret = -1;
	if (archive_write_close(w->a) != ARCHIVE_OK || s->err) {
		why_fail(why, "write %s: %s", tmp, s->err ? strerror(s->err)
						       : archive_error_string(w->a));
		goto out;
	}
	s->z.next_in = NULL;
	s->z.avail_in = 0;
	if (deflate_out(s, Z_FINISH) < 0 || sha256_final(s->tar_h, out->diff_id) < 0 ||
	    sha256_final(s->gz_h, out->digest) < 0 || fsync(s->fd) < 0) {
		why_fail(why, "write %s: %s", tmp, strerror(s->err ? s->err : errno));
		goto out;
	}
	out->size = s->size;
	out->entries = w->entries;
	final = xasprintf("%s/%s", blobs, out->digest + 7);
	if (rename(tmp, final) < 0) {
		why_fail(why, "rename %s %s: %s", tmp, final, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (s->fd >= 0)
		close(s->fd);
	if (ret < 0 && s->fd >= 0)
		unlink(tmp);
	if (dirfd >= 0)
		close(dirfd);
	if (zinit)
		deflateEnd(&s->z);
	sha256_free(s->tar_h);
	sha256_free(s->gz_h);
	if (w->a)
		archive_write_free(w->a);
	if (w->e)
		archive_entry_free(w->e);
	for (size_t i = 0; i < w->nseen; i++)
		free(w->seen[i].path);
	free(w->seen);
	free(w->why);
	free(w);
	free(s);
	free(final);
	free(tmp);
	return ret;
}
