/*
 * image-stdin.c - an image read from standard input (img-unpack IMAGE -):
 * a root filesystem tarball is applied as it flows, but an image archive
 * cannot be (docker save writes manifest.json last), so the first bytes
 * are looked at and an image is copied to an unnamed temporary file first
 * (O_TMPFILE: gone when closed).  Part of image-source (see
 * image-source.h).
 * Read open(2) on O_TMPFILE, archive_read_open_memory(3).
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

static ssize_t read_full(int fd, char *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = read(fd, buf + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/*
 * Standard input: a rootfs tarball can be applied as it flows, but an
 * image archive cannot (docker save writes manifest.json last), so look at
 * the first entry names and, for an image, copy the stream to a temporary
 * file first.
 */
static int peek_is_image(const char *buf, size_t len)
{
	struct archive *a = tar_reader();
	struct archive_entry *e;
	int image = 0;

	if (!a)
		return img_fail_errno("standard input: archive_read_new");
	if (archive_read_open_memory(a, buf, len) == ARCHIVE_OK) {
		while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
			char *name = normalize_name(xstrdup(archive_entry_pathname(e) ?
							    archive_entry_pathname(e) : ""));
			int done = *name != '\0';
			image = done && image_like(name);
			free(name);
			if (done)
				break;
		}
	}
	archive_read_free(a);
	return image;
}

/* Standard input, from the N bytes of BUF already read, copied to an
 * unnamed temporary file (O_TMPFILE: gone when closed); its descriptor. */
static int spool_stdin(char *buf, ssize_t n)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	uint64_t total = 0;

	if (fd < 0)
		return img_fail_errno("open(%s, O_TMPFILE)", tmp);
	vlog("open(\"%s\", O_TMPFILE): standard input holds an image archive, "
	     "spooled to a temporary file (its manifest may come last)", tmp);
	while (n > 0) {
		if (write(fd, buf, (size_t)n) != n) {
			int e = errno;
			close(fd);
			errno = e ? e : ENOSPC;
			return img_fail_errno("spooling standard input to %s", tmp);
		}
		total += (uint64_t)n;
		n = read_full(0, buf, PEEK_SIZE);
	}
	if (n < 0) {
		close(fd);
		return img_fail_errno("standard input: read");
	}
	vlog("spooled %llu bytes", (unsigned long long)total);
	return fd;
}

int img_source_open_stdin(struct img_source *src)
{
	char *buf = xmalloc(PEEK_SIZE);
	ssize_t n = read_full(0, buf, PEEK_SIZE);
	struct stat st;
	int image;

	if (n < 0) {
		free(buf);
		return img_fail_errno("standard input: read");
	}
	if (n == 0) {
		free(buf);
		return img_fail("standard input: not an image: nothing to read");
	}
	if (fstat(0, &st) == 0 && S_ISREG(st.st_mode)) {
		/* "< file": seekable already, no copy needed. */
		free(buf);
		src->fd = fcntl(0, F_DUPFD_CLOEXEC, 0);
		if (src->fd < 0)
			return img_fail_errno("standard input: fcntl(F_DUPFD_CLOEXEC)");
		return scan_archive(src);
	}
	image = peek_is_image(buf, (size_t)n);
	if (image < 0) {
		free(buf);
		return -1;
	}
	if (!image) {
		vlog("standard input: not an image archive, unpacked as it is read (no temporary file)");
		src->kind = IMG_ROOTFS;
		src->stream = 1;
		src->fd = 0;
		src->peek = buf;
		src->peek_len = (size_t)n;
		return 0;
	}
	src->fd = spool_stdin(buf, n);
	free(buf);
	return src->fd < 0 ? -1 : scan_archive(src);
}
