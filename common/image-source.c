/*
 * image-source.c - finding the files of an image, wherever it is: a
 * directory (files opened with openat2(2) RESOLVE_IN_ROOT, so a symlink in
 * it cannot reach outside), a tar archive (read with libarchive), or a
 * pipe.  See image-source.h.
 *
 * An archive is read once to list its members, keeping the small ones
 * (the JSON files) in memory; a layer is then found by reading the archive
 * again up to it: with a seekable file libarchive skips the members in
 * between with lseek(2).  Nothing but the JSON files is ever held whole in
 * memory: a layer flows through in pieces, whatever its size.
 * Standard input is image-stdin.c's.
 * Read archive_read(3), archive_read_open(3), openat2(2).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image-config.h"
#include "image-source.h"
#include "image-source-private.h"
#include "minidock.h"


const char *img_kind_name(enum img_kind kind)
{
	switch (kind) {
	case IMG_OCI: return "OCI image layout";
	case IMG_DOCKER: return "docker save archive before Docker 25: manifest.json, <id>/layer.tar";
	case IMG_ROOTFS: return "root filesystem tarball";
	}
	return "?";
}

const char *img_source_format(const struct img_source *src)
{
	if (src->kind == IMG_OCI && src->has_docker_manifest)
		return "docker save archive of Docker 25+: an OCI image layout and manifest.json";
	if (src->kind == IMG_DOCKER && src->dirfd >= 0 &&
	    faccessat(src->dirfd, "version", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return "skopeo dir: manifest.json and the blobs by digest";
	if (src->kind == IMG_DOCKER && src->skopeo_layers)
		return "docker-archive as skopeo and podman write it: manifest.json, <digest>.tar layers";
	return img_kind_name(src->kind);
}

enum img_kind img_source_kind(const struct img_source *src)
{
	return src->kind;
}

const char *img_source_name(const struct img_source *src)
{
	return src->path;
}

int64_t img_source_file_size(const struct img_source *src)
{
	struct stat st;

	if (src->fd < 0 || src->stream || fstat(src->fd, &st) < 0)
		return -1;
	return st.st_size;
}

/* "./a//b/" -> "a/b" (in place); "" for the root itself. */
char *normalize_name(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (r[0] == '/' || (r[0] == '.' && (r[1] == '/' || r[1] == '\0') && (r == s || r[-1] == '/'))) {
			r++;
			continue;
		}
		while (*r && *r != '/')
			*w++ = *r++;
		if (*r == '/')
			*w++ = *r++;
	}
	while (w > s && w[-1] == '/')
		w--;
	*w = '\0';
	return s;
}

static int is_hex64(const char *s, size_t n)
{
	if (n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/*
 * Could NAME belong to an image archive rather than to a root filesystem?
 * The names image writers use at the top of their archives: the OCI
 * layout's, docker save's (<id>/layer.tar, <hex>.json), and those of
 * skopeo, podman and buildah (containers/image), whose docker-archive
 * holds its layers as <hex>.tar at the top.
 */
int image_like(const char *name)
{
	size_t n = strcspn(name, "/");

	if ((n == 13 && !strncmp(name, "manifest.json", n)) ||
	    (n == 10 && !strncmp(name, "index.json", n)) ||
	    (n == 10 && !strncmp(name, "oci-layout", n)) ||
	    (n == 12 && !strncmp(name, "repositories", n)) ||
	    (n == 5 && !strncmp(name, "blobs", n)))
		return 1;
	if (is_hex64(name, n))
		return 1;
	return n >= 68 && is_hex64(name, 64) &&
	       (!strncmp(name + 64, ".json", n - 64) || !strncmp(name + 64, ".tar", n - 64));
}

/* Is NAME a member of the archive's top (no directory)? */
static int at_top(const char *name)
{
	return !strchr(name, '/');
}

/* The member a link named NAME points to: TARGET is relative to NAME's
 * directory (a symlink) or to the top (a hard link, ABSOLUTE).  NULL if it
 * climbs above the top. */
static char *link_target(const char *name, const char *target, int absolute)
{
	const char *slash = strrchr(name, '/');
	char *joined, *out, *tok, *save = NULL;
	size_t w = 0;

	if (absolute || target[0] == '/' || !slash)
		joined = xstrdup(target);
	else
		joined = xasprintf("%.*s/%s", (int)(slash - name), name, target);
	out = xmalloc(strlen(joined) + 1);
	for (tok = strtok_r(joined, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			if (w == 0) {
				free(joined);
				free(out);
				return NULL;
			}
			while (w > 0 && out[w - 1] != '/')
				w--;
			if (w > 0)
				w--;
			continue;
		}
		if (w)
			out[w++] = '/';
		memcpy(out + w, tok, strlen(tok));
		w += strlen(tok);
	}
	out[w] = '\0';
	free(joined);
	return out;
}

static int worth_keeping(const char *name, int64_t size)
{
	size_t len = strlen(name);

	if (size < 0 || size > KEEP_MAX)
		return 0;
	return (len >= 5 && !strcmp(name + len - 5, ".json")) ||
	       !strcmp(name, "oci-layout") || !strncmp(name, "blobs/", 6);
}

/* A libarchive reader of tar archives, compressed or not; NULL when out
 * of memory (archive_read_new(3) says nothing more). */
struct archive *tar_reader(void)
{
	struct archive *a = archive_read_new();

	if (!a) {
		errno = ENOMEM;
		return NULL;
	}
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_format_tar(a);
	return a;
}

/* The archive of SRC, read from its start. */
static struct archive *archive_reader(struct img_source *src)
{
	struct archive *a = tar_reader();

	if (!a) {
		img_fail_errno("%s: archive_read_new", src->path);
		return NULL;
	}
	if (lseek(src->fd, 0, SEEK_SET) < 0) {
		img_fail_errno("%s: not an image (neither a directory nor a tar archive): lseek",
			       src->path);
		archive_read_free(a);
		return NULL;
	}
	if (archive_read_open_fd(a, src->fd, 64 << 10) != ARCHIVE_OK) {
		img_fail("%s: not an image (neither a directory nor a tar archive): %s",
			 src->path, archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* The bound on what reading the member list may decompress. */
static uint64_t scan_max;

void img_source_max_size(uint64_t max)
{
	scan_max = max;
}

/*
 * Read the archive's member list: is it an image, and of which kind?
 * What decides is what the specs say and every writer does, never the
 * order or the look of the first members: an index.json at the top makes
 * an OCI layout, a manifest.json a docker save archive (wherever it comes:
 * docker writes it last, skopeo after its <hex>.tar layers); a tar with
 * neither is a root filesystem.  So the whole list is read (of a plain tar
 * file, libarchive lseek(2)s over the contents; a compressed one is
 * decompressed once more, within img_source_max_size), keeping only the
 * members an image can have.
 */
int scan_archive(struct img_source *src)
{
	struct archive *a = archive_reader(src);
	struct archive_entry *e;
	int r, seen = 0, other = 0, has_manifest = 0, has_index = 0;

	if (!a)
		return -1;
	src->kind = IMG_ROOTFS;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		char *name = normalize_name(xstrdup(archive_entry_pathname(e) ?
						    archive_entry_pathname(e) : ""));
		int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
		struct img_member *m;

		seen = 1;
		if (scan_max && archive_filter_count(a) > 1 &&
		    (uint64_t)archive_filter_bytes(a, 0) > scan_max) {
			img_fail("%s: larger than %llu bytes uncompressed (--max-size): a "
				 "decompression bomb?", src->path, (unsigned long long)scan_max);
			free(name);
			archive_read_free(a);
			return -1;
		}
		if (!*name) {
			free(name);
			continue;
		}
		if (!image_like(name)) {
			/* A root filesystem's file, or something an image
			 * writer added that nobody reads: not kept. */
			other = 1;
			if (!at_top(name)) {
				free(name);
				continue;
			}
		}
		has_manifest |= !strcmp(name, "manifest.json");
		has_index |= !strcmp(name, "index.json");
		src->skopeo_layers |= strlen(name) == 68 && !strcmp(name + 64, ".tar");
		src->members = xrealloc(src->members, (src->nmembers + 1) * sizeof(*m));
		m = &src->members[src->nmembers++];
		m->name = name;
		m->size = size;
		m->data = NULL;
		m->link = NULL;
		if (archive_entry_hardlink(e))
			m->link = link_target(name, archive_entry_hardlink(e), 1);
		else if (archive_entry_filetype(e) == AE_IFLNK && archive_entry_symlink(e))
			m->link = link_target(name, archive_entry_symlink(e), 0);
		if (archive_entry_filetype(e) == AE_IFREG && !m->link && worth_keeping(name, size) &&
		    src->kept + (size_t)size <= KEEP_BUDGET) {
			m->data = xmalloc((size_t)size + 1);
			if (archive_read_data(a, m->data, (size_t)size) != size) {
				img_fail("%s: %s: %s", src->path, name, archive_error_string(a));
				archive_read_free(a);
				return -1;
			}
			m->data[size] = '\0';
			src->kept += (size_t)size;
		}
	}
	if (r == ARCHIVE_FATAL) {
		if (!seen)
			img_fail("%s: not an image (neither a directory nor a tar archive): %s",
				 src->path, archive_error_string(a));
		else
			img_fail("%s: %s", src->path, archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	archive_read_free(a);
	if (!seen)
		return img_fail("%s: not an image: an empty archive", src->path);
	src->has_docker_manifest = has_manifest;
	if (has_index) {
		src->kind = IMG_OCI;
	} else if (has_manifest) {
		src->kind = IMG_DOCKER;
	} else if (!other && src->nmembers > 0) {
		return img_fail("%s: not an image: neither index.json nor manifest.json in it", src->path);
	} else {
		/* A root filesystem: its members are not needed. */
		for (size_t i = 0; i < src->nmembers; i++) {
			free(src->members[i].name);
			free(src->members[i].data);
			free(src->members[i].link);
		}
		free(src->members);
		src->members = NULL;
		src->nmembers = 0;
		src->kept = 0;
	}
	return 0;
}


struct img_source *img_source_open(const char *path)
{
	struct img_source *src = xcalloc(1, sizeof(*src));
	struct stat st;
	int ok;

	src->path = xstrdup(strcmp(path, "-") ? path : "standard input");
	src->dirfd = src->fd = -1;
	if (!strcmp(path, "-")) {
		ok = img_source_open_stdin(src);
	} else if (stat(path, &st) < 0) {
		ok = img_fail_errno("%s", path);
	} else if (S_ISDIR(st.st_mode)) {
		/* An OCI layout (index.json), or an unpacked docker save. */
		ok = 0;
		src->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (src->dirfd < 0)
			ok = img_fail_errno("open %s", path);
		else if (faccessat(src->dirfd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
			src->kind = IMG_OCI;
			src->has_docker_manifest = faccessat(src->dirfd, "manifest.json", F_OK,
							     AT_SYMLINK_NOFOLLOW) == 0;
		}
		else if (faccessat(src->dirfd, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			src->kind = IMG_DOCKER;
		else
			ok = img_fail("%s: not an image: a directory without index.json or manifest.json", path);
	} else {
		src->fd = open(path, O_RDONLY | O_CLOEXEC);
		ok = src->fd < 0 ? img_fail_errno("open %s", path) : scan_archive(src);
	}
	if (ok < 0) {
		img_source_close(src);
		return NULL;
	}
	return src;
}

void img_source_close(struct img_source *src)
{
	if (!src)
		return;
	for (size_t i = 0; i < src->nmembers; i++) {
		free(src->members[i].name);
		free(src->members[i].data);
		free(src->members[i].link);
	}
	free(src->members);
	if (src->dirfd >= 0)
		close(src->dirfd);
	if (src->fd > 0)
		close(src->fd);
	free(src->peek);
	free(src->path);
	free(src);
}

/* Member NAME, following links (a few hops: a loop is not found). */
static struct img_member *find_member(struct img_source *src, const char *name)
{
	for (int hops = 0; hops < 8; hops++) {
		struct img_member *m = NULL;

		for (size_t i = 0; i < src->nmembers && !m; i++)
			if (!strcmp(src->members[i].name, name))
				m = &src->members[i];
		if (!m || !m->link)
			return m;
		name = m->link;
	}
	return NULL;
}

int64_t img_source_size(struct img_source *src, const char *name)
{
	struct stat st;
	struct img_member *m;

	if (src->dirfd >= 0) {
		int fd = open_in_root(src->dirfd, name, O_RDONLY, 0);
		int ok = fd >= 0 && fstat(fd, &st) == 0;
		if (fd >= 0)
			close(fd);
		return ok ? st.st_size : -1;
	}
	m = find_member(src, name);
	return m ? m->size : -1;
}

/* ---- the stream of one blob ---- */

struct img_reader {
	struct img_source *src;
	int fd;                 /* a file of a directory image, or the tarball */
	int own_fd;
	struct archive *ar;     /* the image archive, at the member */
	const char *mem;        /* a member kept in memory, or the peeked bytes */
	size_t mem_len;
	char *buf;
	struct sha256 *sha;     /* of the bytes read: the blob's digest */
	uint64_t bytes;
	int eof;
};

struct img_reader *img_reader_open(struct img_source *src, const char *name)
{
	struct img_reader *r = xcalloc(1, sizeof(*r));

	r->src = src;
	r->fd = -1;
	r->sha = sha256_new();
	if (!r->sha) {
		img_fail_errno("%s: sha256", src->path);
		goto bad;
	}
	if (!name) {
		/* The whole source is one layer: a rootfs tarball. */
		if (src->stream) {
			r->fd = src->fd;
			r->mem = src->peek;
			r->mem_len = src->peek_len;
			src->peek_len = 0;  /* a pipe can be read once */
		} else if (lseek(src->fd, 0, SEEK_SET) < 0) {
			img_fail_errno("%s: lseek", src->path);
			goto bad;
		} else {
			r->fd = src->fd;
		}
	} else if (src->dirfd >= 0) {
		r->fd = open_in_root(src->dirfd, name, O_RDONLY, 0);
		if (r->fd < 0) {
			img_fail_errno("%s: %s", src->path, name);
			if (errno == ENOENT)
				img_fail("%s: %s: not found in the image", src->path, name);
			goto bad;
		}
		r->own_fd = 1;
	} else {
		struct img_member *m = find_member(src, name);
		struct archive_entry *e;
		int st;

		if (!m) {
			img_fail("%s: %s: not found in the image", src->path, name);
			goto bad;
		}
		if (m->data) {
			r->mem = m->data;
			r->mem_len = (size_t)m->size;
			r->eof = 1;     /* after mem */
		} else {
			r->ar = archive_reader(src);
			if (!r->ar)
				goto bad;
			while ((st = archive_read_next_header(r->ar, &e)) == ARCHIVE_OK ||
			       st == ARCHIVE_WARN) {
				char *n = normalize_name(xstrdup(archive_entry_pathname(e) ?
								 archive_entry_pathname(e) : ""));
				int found = !strcmp(n, m->name);
				free(n);
				if (found)
					break;
			}
			if (st != ARCHIVE_OK && st != ARCHIVE_WARN) {
				img_fail("%s: %s: %s", src->path, name,
					 st == ARCHIVE_EOF ? "not found in the image"
							   : archive_error_string(r->ar));
				goto bad;
			}
		}
	}
	if (!r->mem || r->ar || r->fd >= 0)
		r->buf = xmalloc(128 << 10);
	return r;
bad:
	img_reader_close(r);
	return NULL;
}

ssize_t img_reader_next(struct img_reader *r, const void **buf)
{
	ssize_t n;

	if (r->mem_len) {
		*buf = r->mem;
		n = (ssize_t)r->mem_len;
		r->mem_len = 0;
	} else if (r->ar) {
		size_t size;
		la_int64_t off;
		int st = archive_read_data_block(r->ar, buf, &size, &off);
		if (st == ARCHIVE_EOF)
			return 0;
		if (st != ARCHIVE_OK && st != ARCHIVE_WARN)
			return img_fail("%s: %s", r->src->path, archive_error_string(r->ar));
		n = (ssize_t)size;
	} else if (r->fd >= 0 && !r->eof) {
		do
			n = read(r->fd, r->buf, 128 << 10);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return img_fail_errno("%s: read", r->src->path);
		*buf = r->buf;
	} else {
		return 0;
	}
	if (sha256_update(r->sha, *buf, (size_t)n) < 0)
		return img_fail_errno("%s: sha256", r->src->path);
	r->bytes += (uint64_t)n;
	return n;
}

uint64_t img_reader_bytes(const struct img_reader *r)
{
	return r->bytes;
}

int img_reader_digest(struct img_reader *r, char out[DIGEST_LEN])
{
	if (sha256_final(r->sha, out) < 0)
		return img_fail_errno("%s: sha256", r->src->path);
	return 0;
}

void img_reader_close(struct img_reader *r)
{
	if (!r)
		return;
	if (r->ar)
		archive_read_free(r->ar);
	if (r->own_fd && r->fd >= 0)
		close(r->fd);
	sha256_free(r->sha);
	free(r->buf);
	free(r);
}

char *img_source_read(struct img_source *src, const char *name, size_t max, size_t *len)
{
	struct img_reader *r = img_reader_open(src, name);
	size_t used = 0, cap = 4096;
	char *out;
	const void *p;
	ssize_t n;

	if (!r)
		return NULL;
	out = xmalloc(cap);
	while ((n = img_reader_next(r, &p)) > 0) {
		if (used + (size_t)n > max) {
			img_fail("%s: %s: larger than %zu bytes, too large for a JSON file",
				 src->path, name, max);
			goto bad;
		}
		while (used + (size_t)n + 1 > cap)
			cap *= 2;
		out = xrealloc(out, cap);
		memcpy(out + used, p, (size_t)n);
		used += (size_t)n;
	}
	if (n < 0)
		goto bad;
	img_reader_close(r);
	out[used] = '\0';
	*len = used;
	return out;
bad:
	img_reader_close(r);
	free(out);
	return NULL;
}