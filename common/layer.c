/*
 * layer.c - one layer of an image, applied to a directory.  Read it from
 * img_apply_layer() down.
 *
 * A layer is a tar stream (tar(5)), often gzip or zstd, of what changed
 * in the filesystem: each entry is a file, directory, link or device node
 * to create, and a "whiteout" entry deletes from the layers below:
 *
 *   etc/.wh.motd          delete etc/motd (a directory with all it holds)
 *   opt/.wh..wh..opq      "opaque": hide everything the layers below put
 *                         in opt/ (what this same layer puts there stays)
 *
 * Applying the layers lowest first into one empty directory gives the
 * container's root filesystem.  With --layers (A->overlay), each layer
 * gets a directory of its own instead, and its whiteouts take the form
 * overlayfs(5) reads when it stacks them: a 0/0 character device NAME, and
 * the xattr trusted.overlay.opaque=y on the directory.
 *
 * A layer comes from strangers.  Every name in it is resolved below the
 * root by the kernel, openat2(2) with RESOLVE_IN_ROOT: "..", "/" and every
 * symlink on the way (even one the layer has just made) stay below it.
 * The last component is never followed (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW).
 *
 *   blob --decompress.c (a thread)--> tar entries --> openat(O_CREAT|O_EXCL),
 *        gunzip, sha256 (diff_id)     archive_read_   mkdirat, symlinkat,
 *                                     next_header     mknodat, linkat, unlinkat
 *
 * Read archive_read(3), archive_entry(3), openat2(2), path_resolution(7),
 * symlink(7), xattr(7), the OCI image spec's layer.md, and the kernel's
 * Documentation/filesystems/overlayfs.rst ("whiteouts and opaque
 * directories").
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "decompress.h"
#include "image-config.h"
#include "layer.h"
#include "layer-path.h"
#include "minidock.h"
#include "store.h"

/* A directory whose times are set once the layer is done (creating its
 * entries would change them again). */
struct dirtime {
	char *path;
	struct timespec ts[2];
};

struct layer {
	struct img_apply *a;
	struct decompress *plain;   /* the blob, decompressed */
	struct archive *tar;        /* the tar entries read from it */
	int root;               /* euid 0: owners and device nodes */
	char *cache_path;       /* the last parent directory resolved... */
	int cache_fd;           /* ...and its descriptor */
	struct pathset made;    /* what this layer made (opaque whiteouts) */
	struct dirtime *dirs;
	size_t ndirs;
	struct pathset dated;   /* the directories in dirs */
};

static int apply_entry(struct layer *l, struct archive_entry *e);
static int apply_whiteout(struct layer *l, struct archive_entry *e, const char *raw,
			  const char *dir, const char *base);
static int apply_node(struct layer *l, struct archive_entry *e, const char *raw,
		      const char *path, const char *dir, const char *name);
static int set_dir_times(struct layer *l);
static void layer_free(struct layer *l);
static int get_dir(struct layer *l, const char *dir, int create);
static int parent_fd(struct layer *l, const char *dir);
static void forget_parent(struct layer *l);

int img_apply_layer(struct img_reader *r, struct img_apply *a)
{
	struct layer l = { .a = a, .root = !store_rootless() };
	struct archive_entry *e;
	int st;

	a->entries = 0;
	/* 1. The blob, decompressed (speed: see bench/README.md, img-unpack). */
	l.plain = decompress_start(r, a->max_size, a->what, a->progress, a->progress_arg);
	if (!l.plain)
		return -1;
	snprintf(a->compression, sizeof(a->compression), "%s", decompress_name(l.plain));

	/* 2. The tar stream read from it, by libarchive. */
	l.tar = archive_read_new();
	if (!l.tar) {
		errno = ENOMEM;
		img_fail_errno("%s: archive_read_new", a->what);
		goto bad;
	}
	archive_read_support_format_tar(l.tar);
	if (archive_read_open(l.tar, l.plain, NULL, decompress_read, NULL) != ARCHIVE_OK) {
		if (decompress_error(l.plain))     /* the thread failed: that is the reason */
			img_fail("%s: %s", a->what, decompress_error(l.plain));
		else
			img_fail("%s: not a tar archive: %s", a->what, archive_error_string(l.tar));
		goto bad;
	}

	/* 3. Each entry, in the order of the stream. */
	while ((st = archive_read_next_header(l.tar, &e)) != ARCHIVE_EOF) {
		if (st == ARCHIVE_WARN)
			vlog("%s: %s", a->what, archive_error_string(l.tar));
		else if (st != ARCHIVE_OK) {
			img_fail("%s: %s", a->what, archive_error_string(l.tar));
			goto bad;
		}
		if (apply_entry(&l, e) < 0)
			goto bad;
		a->entries++;
	}
	if (set_dir_times(&l) < 0)
		goto bad;

	/* 4. The digests, once every byte has gone through (tar padding, the
	 * gzip trailer): the diff_id and the blob's own. */
	if (decompress_finish(l.plain, a->diff_id) < 0 || img_reader_digest(r, a->digest) < 0)
		goto bad;
	layer_free(&l);
	return 0;
bad:
	layer_free(&l);
	return -1;
}

/* One entry: a whiteout, or something to create. */
static int apply_entry(struct layer *l, struct archive_entry *e)
{
	const char *raw = archive_entry_pathname(e), *why, *dir, *base;
	char *path, *full;
	int r;

	if (!raw)
		return img_fail("%s: an entry without a readable name", l->a->what);
	path = path_clean(raw, &why);
	if (!path)
		return img_fail("%s: entry \"%s\" refused: %s", l->a->what, raw, why);
	full = xstrdup(path);
	path_split(path, &dir, &base);
	if (!strncmp(base, ".wh.", 4))
		r = apply_whiteout(l, e, raw, dir, base);
	else
		r = apply_node(l, e, raw, full, dir, base);
	if (r == 0 && !l->a->overlay)
		pathset_add(&l->made, full);
	free(full);
	free(path);
	return r;
}

/* ---- whiteouts ---- */

/* Deleting in directory FD changed its times: put back ST's, those the
 * layers below gave it, so that the result does not depend on the day. */
static int restore_times(int fd, const struct stat *st)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };

	return futimens(fd, ts);
}

/* ".wh..wh..opq": remove what directory FD (path DIR) holds, but the
 * names this layer made (they may come before the whiteout in the tar). */
static int hide_below(struct layer *l, int fd, const char *dir)
{
	int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0), ret = 0, e;
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		char *p;
		int keep;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		p = *dir ? xasprintf("%s/%s", dir, de->d_name) : xstrdup(de->d_name);
		keep = pathset_has(&l->made, p);
		free(p);
		if (!keep && rm_rf_at(dirfd(d), de->d_name) < 0)
			ret = -1;
	}
	if (errno)
		ret = -1;
	e = errno;
	closedir(d);
	errno = e;
	return ret;
}

/* ".wh..wh..opq" in directory DIR. */
static int whiteout_opaque(struct layer *l, const char *raw, const char *dir)
{
	int fd = get_dir(l, dir, 1), r;
	struct stat st;

	if (fd < 0)
		return img_fail_errno("%s: %s: directory \"%s\"", l->a->what, raw, dir);
	if (l->a->overlay) {
		/* Rootless, trusted.* is root's: overlayfs mounted in a user
		 * namespace with "userxattr" reads user.overlay.* instead. */
		const char *xattr = l->root ? "trusted.overlay.opaque" : "user.overlay.opaque";

		vlog("%s: %s: fsetxattr(\"/%s\", \"%s\", \"y\")", l->a->what, raw, dir, xattr);
		r = fsetxattr(fd, xattr, "y", 1, 0);
		if (r < 0)
			img_fail_errno("%s: %s: fsetxattr(%s)", l->a->what, raw, xattr);
		close(fd);
		return r;
	}
	vlog("%s: %s: opaque, emptying \"/%s\" of the layers below", l->a->what, raw, dir);
	forget_parent(l);
	r = fstat(fd, &st);
	if (r == 0)
		r = hide_below(l, fd, dir);
	if (r == 0)
		r = restore_times(fd, &st);
	if (r < 0)
		img_fail_errno("%s: %s: emptying \"%s\"", l->a->what, raw, dir);
	close(fd);
	return r;
}

/* ".wh.NAME" in directory DIR. */
static int whiteout_file(struct layer *l, const char *raw, const char *dir, const char *name)
{
	struct stat st;
	int fd, r;

	if (l->a->overlay) {
		fd = parent_fd(l, dir);
		if (fd < 0)
			return img_fail_errno("%s: %s: directory \"%s\"", l->a->what, raw, dir);
		if (rm_rf_at(fd, name) < 0)
			return img_fail_errno("%s: %s: removing \"%s\"", l->a->what, raw, name);
		vlog("%s: %s: mknodat(\"%s\", S_IFCHR, 0:0), an overlayfs whiteout",
		     l->a->what, raw, name);
		if (mknodat(fd, name, S_IFCHR | 0, makedev(0, 0)) < 0)
			return img_fail_errno("%s: %s: mknodat(%s, S_IFCHR, 0:0)", l->a->what, raw, name);
		return 0;
	}
	fd = get_dir(l, dir, 0);
	if (fd < 0)     /* no such directory below: nothing to delete */
		return errno == ENOENT || errno == ENOTDIR ? 0 :
		       img_fail_errno("%s: %s: directory \"%s\"", l->a->what, raw, dir);
	vlog("%s: %s: whiteout, unlinkat(\"%s\") (a directory with all it holds)",
	     l->a->what, raw, name);
	forget_parent(l);
	r = fstat(fd, &st);
	if (r == 0)
		r = rm_rf_at(fd, name);
	if (r == 0)
		r = restore_times(fd, &st);
	if (r < 0)
		img_fail_errno("%s: %s: removing \"%s\"", l->a->what, raw, name);
	close(fd);
	return r;
}

/* BASE starts with ".wh.": which whiteout, and is it a sound one? */
static int apply_whiteout(struct layer *l, struct archive_entry *e, const char *raw,
			  const char *dir, const char *base)
{
	const char *name = base + 4;

	if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e))
		return img_fail("%s: whiteout \"%s\" refused: not a regular file", l->a->what, raw);
	if (!strcmp(base, ".wh..wh..opq"))
		return whiteout_opaque(l, raw, dir);
	if (!strncmp(base, ".wh..wh.", 8)) {
		vlog("%s: %s: AUFS metadata, ignored", l->a->what, raw);
		return 0;
	}
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return img_fail("%s: whiteout \"%s\" refused: it names no file (or a directory above)",
				l->a->what, raw);
	return whiteout_file(l, raw, dir, name);
}

/* ---- creating ---- */

static int make_regular(struct layer *l, int pfd, const char *name, struct archive_entry *e,
			const char *raw);
static int make_dir(struct layer *l, int pfd, const char *name, const char *path,
		    struct archive_entry *e, const char *raw);
static int make_special(struct layer *l, int pfd, const char *name, struct archive_entry *e,
			const char *raw);
static int make_hardlink(struct layer *l, int pfd, const char *name, struct archive_entry *e,
			 const char *raw);

/*
 * Creating NAME changes its directory's times.  A directory this layer
 * does not list keeps those it had (a lower layer's), put back at the end
 * as umoci does: a layer that adds a file to /etc without listing /etc
 * gives the same tree whenever it is unpacked.
 */
static int keep_times(struct layer *l, int pfd, const char *dir)
{
	struct stat st;
	struct dirtime *dt;

	if (fstat(pfd, &st) < 0)
		return -1;
	l->dirs = xrealloc(l->dirs, (l->ndirs + 1) * sizeof(*l->dirs));
	dt = &l->dirs[l->ndirs++];
	dt->path = xstrdup(dir);
	dt->ts[0] = st.st_atim;
	dt->ts[1] = st.st_mtim;
	pathset_add(&l->dated, dir);
	return 0;
}

/* A regular file, directory, link or node NAME in directory DIR. */
static int apply_node(struct layer *l, struct archive_entry *e, const char *raw,
		      const char *path, const char *dir, const char *name)
{
	unsigned int type = archive_entry_filetype(e);
	int hardlink = archive_entry_hardlink(e) != NULL;
	struct stat st;
	int pfd;

	if (!*path) {
		/* "./": the root itself.  Replacing it by a symlink is the trick
		 * of CVE-2021-29136 (umoci): every later name would resolve
		 * through it, out of the root. */
		if (type != AE_IFDIR || hardlink)
			return img_fail("%s: \"%s\" refused: it would replace the root directory",
					l->a->what, raw);
		return make_dir(l, -1, "", "", e, raw);
	}
	pfd = parent_fd(l, dir);
	if (pfd < 0)
		return img_fail_errno("%s: %s: directory \"%s\"", l->a->what, raw, dir);
	if (!pathset_has(&l->dated, dir) && keep_times(l, pfd, dir) < 0)
		return img_fail_errno("%s: %s: fstat \"%s\"", l->a->what, raw, dir);
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* Something is there already (a lower layer, or earlier in
		 * this one): a directory over a directory merges, anything
		 * else replaces it, as in Docker. */
		if (type == AE_IFDIR && !hardlink && S_ISDIR(st.st_mode))
			return make_dir(l, pfd, name, path, e, raw);
		if (rm_rf_at(pfd, name) < 0)
			return img_fail_errno("%s: %s: removing what was there", l->a->what, raw);
	} else if (errno != ENOENT) {
		return img_fail_errno("%s: %s: fstatat", l->a->what, raw);
	}
	if (hardlink)
		return make_hardlink(l, pfd, name, e, raw);
	switch (type) {
	case AE_IFREG:
		return make_regular(l, pfd, name, e, raw);
	case AE_IFDIR:
		return make_dir(l, pfd, name, path, e, raw);
	default:
		return make_special(l, pfd, name, e, raw);
	}
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[1].tv_sec = archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
	} else {
		ts[0] = ts[1];
	}
}

static void set_xattrs(struct layer *l, int fd, struct archive_entry *e, const char *raw)
{
	const char *name;
	const void *value;
	size_t size;

	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (!strncmp(name, "trusted.overlay.", 16) || !strncmp(name, "user.overlay.", 13)) {
			/* Only our own whiteout conversion may say "opaque". */
			vlog("%s: %s: xattr %s ignored", l->a->what, raw, name);
			continue;
		}
		if (fsetxattr(fd, name, value, size, 0) < 0)
			vlog("%s: %s: fsetxattr(%s): %s (not kept)", l->a->what, raw, name,
			     strerror(errno));
	}
}

/* Owner, then mode (chown clears set-user-ID bits), then xattrs. */
static int set_owner_mode(struct layer *l, int fd, struct archive_entry *e, const char *raw)
{
	if (l->root && fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
		return img_fail_errno("%s: %s: fchown", l->a->what, raw);
	if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
		return img_fail_errno("%s: %s: fchmod", l->a->what, raw);
	set_xattrs(l, fd, e, raw);
	return 0;
}

static int pwrite_full(int fd, const char *buf, size_t n, off_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, buf, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

static int make_regular(struct layer *l, int pfd, const char *name,
			struct archive_entry *e, const char *raw)
{
	/* O_EXCL|O_NOFOLLOW: always a new inode, never through a symlink and
	 * never into a file hard-linked from elsewhere. */
	int fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	const void *buf;
	size_t size;
	la_int64_t off;
	int64_t end = 0;
	int r;
	struct timespec ts[2];

	if (fd < 0)
		return img_fail_errno("%s: %s: openat", l->a->what, raw);
	while ((r = archive_read_data_block(l->tar, &buf, &size, &off)) == ARCHIVE_OK ||
	       r == ARCHIVE_WARN) {
		if (pwrite_full(fd, buf, size, off) < 0) {
			img_fail_errno("%s: %s: write", l->a->what, raw);
			goto bad;
		}
		end = off + (int64_t)size;
	}
	if (r != ARCHIVE_EOF) {
		img_fail("%s: %s: %s", l->a->what, raw, archive_error_string(l->tar));
		goto bad;
	}
	/* A sparse file may end with a hole. */
	if (archive_entry_size(e) > end && ftruncate(fd, archive_entry_size(e)) < 0) {
		img_fail_errno("%s: %s: ftruncate", l->a->what, raw);
		goto bad;
	}
	entry_times(e, ts);
	if (set_owner_mode(l, fd, e, raw) < 0)
		goto bad;
	if (futimens(fd, ts) < 0) {
		img_fail_errno("%s: %s: futimens", l->a->what, raw);
		goto bad;
	}
	if (close(fd) < 0)
		return img_fail_errno("%s: %s: close", l->a->what, raw);
	return 0;
bad:
	close(fd);
	return -1;
}

static int make_dir(struct layer *l, int pfd, const char *name, const char *path,
		    struct archive_entry *e, const char *raw)
{
	int fd;
	struct dirtime *dt;

	if (!*path)
		fd = fcntl(l->a->rootfd, F_DUPFD_CLOEXEC, 0);
	else if (mkdirat(pfd, name, 0700) < 0 && errno != EEXIST)
		return img_fail_errno("%s: %s: mkdirat", l->a->what, raw);
	else
		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return img_fail_errno("%s: %s: open", l->a->what, raw);
	if (set_owner_mode(l, fd, e, raw) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	l->dirs = xrealloc(l->dirs, (l->ndirs + 1) * sizeof(*l->dirs));
	dt = &l->dirs[l->ndirs++];
	dt->path = xstrdup(path);
	entry_times(e, dt->ts);
	pathset_add(&l->dated, path);
	return 0;
}

/* Symlinks, device nodes, fifos: no descriptor to hold, so the *at() calls
 * with AT_SYMLINK_NOFOLLOW on a name we have just created ourselves. */
static int make_special(struct layer *l, int pfd, const char *name,
			struct archive_entry *e, const char *raw)
{
	unsigned int type = archive_entry_filetype(e);
	mode_t perm = archive_entry_perm(e) & 07777;
	struct timespec ts[2];

	if (type == AE_IFLNK) {
		const char *target = archive_entry_symlink(e);
		if (!target)
			return img_fail("%s: %s: a symlink without a target", l->a->what, raw);
		if (symlinkat(target, pfd, name) < 0)
			return img_fail_errno("%s: %s: symlinkat", l->a->what, raw);
	} else if (type == AE_IFCHR || type == AE_IFBLK) {
		if (!l->root) {
			vlog("%s: %s: a device node needs root, skipped", l->a->what, raw);
			return 0;
		}
		if (mknodat(pfd, name, type | perm, archive_entry_rdev(e)) < 0)
			return img_fail_errno("%s: %s: mknodat", l->a->what, raw);
	} else if (type == AE_IFIFO) {
		if (mknodat(pfd, name, S_IFIFO | perm, 0) < 0)
			return img_fail_errno("%s: %s: mknodat", l->a->what, raw);
	} else {
		vlog("%s: %s: a socket, skipped", l->a->what, raw);
		return 0;
	}
	if (l->root && fchownat(pfd, name, (uid_t)archive_entry_uid(e),
				(gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
		return img_fail_errno("%s: %s: fchownat", l->a->what, raw);
	/* mknodat applied the umask; a symlink has no mode of its own. */
	if (type != AE_IFLNK && fchmodat(pfd, name, perm, 0) < 0)
		return img_fail_errno("%s: %s: fchmodat", l->a->what, raw);
	entry_times(e, ts);
	if (utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return img_fail_errno("%s: %s: utimensat", l->a->what, raw);
	return 0;
}

static int make_hardlink(struct layer *l, int pfd, const char *name,
			 struct archive_entry *e, const char *raw)
{
	const char *why, *tdir, *tbase;
	char *target = path_clean(archive_entry_hardlink(e), &why);
	struct stat st;
	int tfd, ret = -1;

	if (!target)
		return img_fail("%s: %s: hard link to \"%s\" refused: %s", l->a->what, raw,
				archive_entry_hardlink(e), why);
	path_split(target, &tdir, &tbase);
	if (!*tbase) {
		free(target);
		return img_fail("%s: %s: hard link to the root directory refused", l->a->what, raw);
	}
	tfd = get_dir(l, tdir, 0);
	if (tfd < 0 || fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
		img_fail_errno("%s: %s: hard link target \"%s\"", l->a->what, raw,
			       archive_entry_hardlink(e));
	else if (S_ISDIR(st.st_mode))
		img_fail("%s: %s: hard link to a directory refused", l->a->what, raw);
	else if (linkat(tfd, tbase, pfd, name, 0) < 0)   /* no AT_SYMLINK_FOLLOW */
		img_fail_errno("%s: %s: linkat", l->a->what, raw);
	else
		ret = 0;
	if (tfd >= 0)
		close(tfd);
	free(target);
	return ret;
}

/* The directories' own times, now that nothing more is created in them. */
static int set_dir_times(struct layer *l)
{
	for (size_t i = 0; i < l->ndirs; i++) {
		const char *dir, *base;
		char *path = l->dirs[i].path;
		int pfd, fd;

		if (!*path) {
			if (futimens(l->a->rootfd, l->dirs[i].ts) < 0)
				return img_fail_errno("%s: futimens(/)", l->a->what);
			continue;
		}
		path_split(path, &dir, &base);
		pfd = get_dir(l, dir, 0);
		fd = pfd < 0 ? -1 : openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && futimens(fd, l->dirs[i].ts) < 0) {
			img_fail_errno("%s: %s/%s: futimens", l->a->what, dir, base);
			close(fd);
			close(pfd);
			return -1;
		}
		/* Gone (deleted later in the layer): nothing to date. */
		if (fd >= 0)
			close(fd);
		if (pfd >= 0)
			close(pfd);
	}
	return 0;
}

static void layer_free(struct layer *l)
{
	if (l->tar)
		archive_read_free(l->tar);
	decompress_free(l->plain);  /* after the tar reader: it reads from it */
	forget_parent(l);
	pathset_free(&l->made);
	pathset_free(&l->dated);
	for (size_t i = 0; i < l->ndirs; i++)
		free(l->dirs[i].path);
	free(l->dirs);
}

/* ---- paths: names in a layer, resolved below the root only ---- */

/*
 * A new descriptor of directory DIR (relative to the root), made when
 * CREATE (with its missing parents, 0755, as tar does).  Each step is
 * resolved from the root with RESOLVE_IN_ROOT (open_in_root): a symlink
 * on the way, even "../../.." or "/etc", stays below the root.
 */
static int get_dir(struct layer *l, const char *dir, int create)
{
	int fd = open_in_root(l->a->rootfd, dir, O_RDONLY | O_DIRECTORY, 0);
	char *prefix;
	int pfd;
	size_t end;

	if (fd >= 0 || errno != ENOENT || !create)
		return fd;
	prefix = xstrdup(dir);
	pfd = fcntl(l->a->rootfd, F_DUPFD_CLOEXEC, 0);
	for (end = 0; pfd >= 0; ) {
		size_t start = end;
		char c;

		end += strcspn(dir + end, "/");
		c = prefix[end];
		prefix[end] = '\0';
		fd = open_in_root(l->a->rootfd, prefix, O_RDONLY | O_DIRECTORY, 0);
		if (fd < 0 && errno == ENOENT) {
			if (mkdirat(pfd, prefix + start, 0755) < 0 && errno != EEXIST)
				fd = -1;
			else
				fd = open_in_root(l->a->rootfd, prefix, O_RDONLY | O_DIRECTORY, 0);
		}
		prefix[end] = c;
		close(pfd);
		pfd = fd;
		if (!c)
			break;
		end++;
	}
	free(prefix);
	return pfd;
}

/* The parent directory DIR of consecutive entries, kept open. */
static int parent_fd(struct layer *l, const char *dir)
{
	if (l->cache_path && !strcmp(l->cache_path, dir))
		return l->cache_fd;
	forget_parent(l);
	l->cache_fd = get_dir(l, dir, 1);
	if (l->cache_fd < 0)
		return -1;
	l->cache_path = xstrdup(dir);
	return l->cache_fd;
}

/* Something was removed: the directory kept open may be gone. */
static void forget_parent(struct layer *l)
{
	if (l->cache_path) {
		close(l->cache_fd);
		free(l->cache_path);
		l->cache_path = NULL;
	}
}
