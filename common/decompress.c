/*
 * decompress.c - a layer blob decompressed by a thread of its own, while
 * the caller's thread reads the tar entries and writes the files (speed:
 * see bench/README.md, "img-unpack").  See decompress.h.
 *
 *   blob (img_reader) -> libarchive filters ("raw" format) -> sha256
 *        thread: decompress()                                 (diff_id)
 *                     |  NSLOTS buffers, in order
 *                     v
 *   caller: archive_read_next_header(tar) <- decompress_read()
 *
 * The thread fills the slots one after the other and waits when all are
 * full; the tar reader empties them in the same order and waits when all
 * are empty.  One mutex guards the counters, one condition variable says
 * "something changed" both ways.
 * Read pthread_create(3), pthread_cond_wait(3), archive_read_open(3).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decompress.h"
#include "image-config.h"
#include "minidock.h"

#define NSLOTS 16
#define SLOT_SIZE (256 << 10)

struct decompress {
	struct img_reader *in;
	struct archive *dec;    /* the blob, decompressed ("raw" format) */
	struct sha256 *diff;    /* sha256 of the decompressed bytes: the diff_id */
	uint64_t plain;         /* decompressed bytes so far */
	uint64_t max_size;
	const char *what;
	char name[16];          /* "gzip", "zstd", "none"... */
	void (*progress)(uint64_t done, void *arg);
	void *progress_arg;
	atomic_uint_least64_t blob_bytes;   /* for the progress line */
	/* between the thread and the tar reader */
	pthread_t thread;
	int started, synced;    /* thread running; lock and changed made */
	pthread_mutex_t lock;
	pthread_cond_t changed;
	char *slot[NSLOTS];
	size_t slot_len[NSLOTS];
	size_t first, filled;   /* filled slots: first, first + 1, ... */
	size_t fill, fill_len;  /* the thread's slot being filled */
	int filling;
	int held;               /* the tar reader still uses slot first */
	int done, stop;         /* thread: all sent; reader: stop sending */
	char error[1024];       /* the thread's failure, or "" */
};

static void *decompress(void *arg);

/* libarchive's input: the next bytes of the blob. */
static la_ssize_t read_blob_cb(struct archive *ar, void *arg, const void **buf)
{
	struct decompress *d = arg;
	ssize_t n = img_reader_next(d->in, buf);

	if (n < 0)
		archive_set_error(ar, EIO, "%s", img_error());
	atomic_store(&d->blob_bytes, img_reader_bytes(d->in));
	return n;
}

struct decompress *decompress_start(struct img_reader *in, uint64_t max_size, const char *what,
				    void (*progress)(uint64_t done, void *arg), void *arg)
{
	struct decompress *d = xcalloc(1, sizeof(*d));
	struct archive_entry *e;
	int err;

	d->in = in;
	d->max_size = max_size;
	d->what = what;
	d->progress = progress;
	d->progress_arg = arg;
	d->diff = sha256_new();
	if (!d->diff) {
		img_fail_errno("%s: sha256", what);
		goto bad;
	}
	d->dec = archive_read_new();
	if (!d->dec) {
		errno = ENOMEM;
		img_fail_errno("%s: archive_read_new", what);
		goto bad;
	}
	/* The compression is found by content (magic numbers), not by name. */
	archive_read_support_filter_gzip(d->dec);
	archive_read_support_filter_zstd(d->dec);
	archive_read_support_filter_xz(d->dec);
	archive_read_support_filter_bzip2(d->dec);
	archive_read_support_format_raw(d->dec);
	if (archive_read_open(d->dec, d, NULL, read_blob_cb, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(d->dec, &e) != ARCHIVE_OK) {
		img_fail("%s: %s", what, archive_error_string(d->dec) ?
			 archive_error_string(d->dec) : "empty");
		goto bad;
	}
	snprintf(d->name, sizeof(d->name), "%s",
		 archive_filter_count(d->dec) > 1 ? archive_filter_name(d->dec, 0) : "none");
	for (int i = 0; i < NSLOTS; i++)
		d->slot[i] = xmalloc(SLOT_SIZE);
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->changed, NULL);
	d->synced = 1;
	err = pthread_create(&d->thread, NULL, decompress, d);
	if (err) {
		errno = err;
		img_fail_errno("%s: pthread_create", what);
		goto bad;
	}
	d->started = 1;
	return d;
bad:
	decompress_free(d);
	return NULL;
}

const char *decompress_name(const struct decompress *d)
{
	return d->name;
}

/* ---- in the thread ---- */

/* Record why the thread stops. */
static void *thread_failed(struct decompress *d, const char *why)
{
	pthread_mutex_lock(&d->lock);
	snprintf(d->error, sizeof(d->error), "%s", why ? why : "decompression failed");
	pthread_cond_broadcast(&d->changed);
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/*
 * Copy N bytes at P into the slot being filled; a full slot (or the last
 * one, when FLUSH) is handed to the tar reader.  Waits for a free slot.
 */
static int send_bytes(struct decompress *d, const char *p, size_t n, int flush)
{
	while (n > 0 || (flush && d->fill_len > 0)) {
		size_t len;

		if (!d->filling) {
			int stop;

			pthread_mutex_lock(&d->lock);
			while (d->filled == NSLOTS && !d->stop)
				pthread_cond_wait(&d->changed, &d->lock);
			/* first + filled does not move while the reader
			 * empties slots: it is the next free one. */
			d->fill = (d->first + d->filled) % NSLOTS;
			stop = d->stop;
			pthread_mutex_unlock(&d->lock);
			if (stop)
				return -1;
			d->filling = 1;
			d->fill_len = 0;
		}
		len = n < SLOT_SIZE - d->fill_len ? n : SLOT_SIZE - d->fill_len;
		if (len) {
			memcpy(d->slot[d->fill] + d->fill_len, p, len);
			d->fill_len += len;
			p += len;
			n -= len;
		}
		if (d->fill_len == SLOT_SIZE || (flush && n == 0)) {
			/* Slot fill is the reader's from the moment "filled"
			 * counts it, not before. */
			pthread_mutex_lock(&d->lock);
			d->slot_len[d->fill] = d->fill_len;
			d->filled++;
			pthread_cond_broadcast(&d->changed);
			pthread_mutex_unlock(&d->lock);
			d->filling = 0;
			d->fill_len = 0;
		}
	}
	return 0;
}

/* The thread: blob -> libarchive filters -> slots, hashing the
 * decompressed bytes (the diff_id) on the way. */
static void *decompress(void *arg)
{
	struct decompress *d = arg;
	const void *p;
	size_t size;
	la_int64_t off;
	ssize_t n;
	int r;

	while ((r = archive_read_data_block(d->dec, &p, &size, &off)) != ARCHIVE_EOF) {
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return thread_failed(d, archive_error_string(d->dec));
		if (sha256_update(d->diff, p, size) < 0)
			return thread_failed(d, "sha256 failed");
		d->plain += size;
		if (d->max_size && d->plain > d->max_size) {
			char msg[128];
			snprintf(msg, sizeof(msg), "uncompressed layer larger than %llu bytes "
				 "(--max-size): a decompression bomb?",
				 (unsigned long long)d->max_size);
			return thread_failed(d, msg);
		}
		if (send_bytes(d, p, size, 0) < 0)
			return NULL;
	}
	if (send_bytes(d, NULL, 0, 1) < 0)
		return NULL;
	/* The blob may go on after the compressed stream (padding): read it
	 * all, so that its digest covers every byte. */
	while ((n = img_reader_next(d->in, &p)) > 0)
		;
	if (n < 0)
		return thread_failed(d, img_error());
	pthread_mutex_lock(&d->lock);
	d->done = 1;
	pthread_cond_broadcast(&d->changed);
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* ---- in the caller's thread ---- */

/* The next filled slot: its length, 0 at the end, -1 when the thread
 * failed.  The previous slot is given back only now: libarchive uses a
 * buffer until its next call. */
static la_ssize_t next_slot(struct decompress *d, const void **buf)
{
	la_ssize_t n = 0;

	pthread_mutex_lock(&d->lock);
	if (d->held) {
		d->first = (d->first + 1) % NSLOTS;
		d->filled--;
		d->held = 0;
		pthread_cond_broadcast(&d->changed);
	}
	while (d->filled == 0 && !d->done && !d->error[0])
		pthread_cond_wait(&d->changed, &d->lock);
	if (d->filled > 0) {
		d->held = 1;
		*buf = d->slot[d->first];
		n = (la_ssize_t)d->slot_len[d->first];
	} else if (d->error[0]) {
		n = -1;
	}
	pthread_mutex_unlock(&d->lock);
	if (d->progress)
		d->progress(atomic_load(&d->blob_bytes), d->progress_arg);
	return n;
}

la_ssize_t decompress_read(struct archive *tar, void *arg, const void **buf)
{
	struct decompress *d = arg;
	la_ssize_t n = next_slot(d, buf);

	if (n < 0)
		archive_set_error(tar, EIO, "%s", decompress_error(d));
	return n;
}

const char *decompress_error(struct decompress *d)
{
	const char *why;

	/* Once set, the thread never writes it again. */
	pthread_mutex_lock(&d->lock);
	why = d->error[0] ? d->error : NULL;
	pthread_mutex_unlock(&d->lock);
	return why;
}

/* Wait for the thread to end: at once when STOP, else after it is done. */
static void join_thread(struct decompress *d, int stop)
{
	if (!d->started)
		return;
	if (stop) {
		pthread_mutex_lock(&d->lock);
		d->stop = 1;
		pthread_cond_broadcast(&d->changed);
		pthread_mutex_unlock(&d->lock);
	}
	pthread_join(d->thread, NULL);
	d->started = 0;
}

int decompress_finish(struct decompress *d, char diff_id[DIGEST_LEN])
{
	const void *p;
	la_ssize_t n;

	while ((n = next_slot(d, &p)) > 0)
		;
	if (n < 0)
		return img_fail("%s: %s", d->what, decompress_error(d));
	join_thread(d, 0);
	if (sha256_final(d->diff, diff_id) < 0)
		return img_fail_errno("%s: sha256", d->what);
	return 0;
}

void decompress_free(struct decompress *d)
{
	if (!d)
		return;
	join_thread(d, 1);
	if (d->synced) {
		pthread_mutex_destroy(&d->lock);
		pthread_cond_destroy(&d->changed);
	}
	for (int i = 0; i < NSLOTS; i++)
		free(d->slot[i]);
	if (d->dec)
		archive_read_free(d->dec);
	sha256_free(d->diff);
	free(d);
}
