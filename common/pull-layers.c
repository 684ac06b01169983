/*
 * pull-layers.c - the blobs of an image fetched a few at once, one line
 * each.  See pull-layers.h.
 *
 * A job a blob; PULL_JOBS threads take the next job in turn (under a
 * mutex), each on its own curl connection (reg_clone: a curl handle must
 * not be shared between threads, libcurl-thread(3)).  The lines on the
 * terminal are drawn under the same mutex: a cursor moved up to the
 * layer's line (ESC [ N A), the line cleared (ESC [ K) and written, the
 * cursor moved back down (ESC [ N B).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imagestore.h"
#include "minidock.h"
#include "pull-layers.h"

enum { WAITING, PULLING, DONE, PRESENT, FAILED };

struct pull;

struct job {
	struct pull *pull;
	const struct img_desc *d;
	char *what;             /* "layer 2/3" */
	int state;
	uint64_t done, shown;   /* bytes received, and when last drawn */
	char *why;              /* FAILED: the message */
};

struct pull {
	const struct pull_blobs *pb;
	struct job *jobs;
	size_t n, next;
	int failed;             /* one job failed: start no other */
	pthread_mutex_t lock;
};

/* ---- the lines ---- */

/* The 12 first hex digits of a digest, as docker pull shows a layer. */
static const char *short_id(const char *digest)
{
	const char *colon = strchr(digest, ':');
	static __thread char id[13];

	snprintf(id, sizeof(id), "%s", colon ? colon + 1 : digest);
	return id;
}

/* Job J's line: on a terminal, redrawn in place; elsewhere printed once,
 * when it is done.  Called with the lock held. */
static void draw(struct job *j)
{
	struct pull *p = j->pull;
	size_t up = p->n - (size_t)(j - p->jobs);
	char bar[24] = "";

	if (p->pb->quiet || (!p->pb->tty && j->state != DONE && j->state != PRESENT))
		return;
	if (j->state == PULLING && j->d->size > 0) {
		int width = 20, full = (int)((double)width * j->done / (double)j->d->size);
		full = full > width ? width : full;
		memset(bar, '=', (size_t)full);
		if (full < width)
			bar[full] = '>';
		memset(bar + full + (full < width), ' ', (size_t)(width - full - (full < width)));
		bar[width] = '\0';
	}
	if (p->pb->tty)
		fprintf(stderr, "\033[%zuA\r\033[K", up);
	fprintf(stderr, "%s: %s %s: ", md_tool, j->what, short_id(j->d->digest));
	switch (j->state) {
	case WAITING: fputs("waiting", stderr); break;
	case PULLING:
		if (*bar)
			fprintf(stderr, "[%s] %6.1f / %.1f MB", bar, j->done / 1e6, j->d->size / 1e6);
		else
			fprintf(stderr, "%.1f MB", j->done / 1e6);
		break;
	case DONE:
		fprintf(stderr, "pull complete, %.1f MB, sha256 verified", j->done / 1e6);
		break;
	case PRESENT: fputs("already exists", stderr); break;
	case FAILED: fputs("failed", stderr); break;
	}
	if (p->pb->tty)
		fprintf(stderr, "\033[%zuB\r", up);
	else
		fputc('\n', stderr);
}

static void set_state(struct job *j, int state)
{
	pthread_mutex_lock(&j->pull->lock);
	j->state = state;
	draw(j);
	pthread_mutex_unlock(&j->pull->lock);
}

/* Called by reg_get_blob as the bytes come: redrawn every 256 KB. */
static void on_progress(uint64_t done, void *arg)
{
	struct job *j = arg;

	if (!j->pull->pb->tty || done - j->shown < (256u << 10))
		return;
	pthread_mutex_lock(&j->pull->lock);
	j->done = j->shown = done;
	draw(j);
	pthread_mutex_unlock(&j->pull->lock);
}

/* ---- one blob ---- */

static int job_fail(struct job *j, char *why)
{
	j->why = why;
	set_state(j, FAILED);
	return -1;
}

/* Blob J into the layout on connection R, unless it is there already. */
static int fetch_one(struct job *j, struct reg *r)
{
	const struct pull_blobs *pb = j->pull->pb;
	const struct img_desc *d = j->d;
	char *path = layout_blob(pb->layout, d->digest);
	char *tmp = xasprintf("%s.part-%d-%zu", path, (int)getpid(),
			      (size_t)(j - j->pull->jobs));
	struct stat st;
	int fd, ret = -1;

	if (stat(path, &st) == 0 && (d->size < 0 || st.st_size == d->size)) {
		vlog("%s %s: already in %s, not fetched", j->what, d->digest, pb->layout);
		set_state(j, PRESENT);
		ret = 0;
		goto out;
	}
	if (d->size >= 0 && (uint64_t)d->size > pb->max_size) {
		job_fail(j, xasprintf("%s %s: %lld bytes, larger than --max-size %llu: refused",
				      j->what, d->digest, (long long)d->size,
				      (unsigned long long)pb->max_size));
		goto out;
	}
	set_state(j, PULLING);
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		job_fail(j, xasprintf("%s: open %s: %s", j->what, tmp, strerror(errno)));
		goto out;
	}
	if (reg_get_blob(r, d->digest, d->size, pb->max_size, fd, on_progress, j) < 0) {
		/* Nothing half-written is kept: the blob was only a .part. */
		close(fd);
		unlink(tmp);
		job_fail(j, xasprintf("%s: %s", j->what, reg_error()));
		goto out;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		job_fail(j, xasprintf("%s: keeping %s: %s", j->what, path, strerror(e)));
		goto out;
	}
	vlog("%s %s: sha256 verified, rename(\"%s\")", j->what, d->digest, path);
	j->done = d->size >= 0 ? (uint64_t)d->size : j->done;
	set_state(j, DONE);
	ret = 0;
out:
	free(tmp);
	free(path);
	return ret;
}

/* ---- the workers ---- */

/* Take the next job until none is left (or one failed). */
static void work(struct pull *p, struct reg *r)
{
	for (;;) {
		struct job *j;

		pthread_mutex_lock(&p->lock);
		j = p->failed || p->next == p->n ? NULL : &p->jobs[p->next++];
		pthread_mutex_unlock(&p->lock);
		if (!j)
			return;
		if (fetch_one(j, r) < 0) {
			pthread_mutex_lock(&p->lock);
			p->failed = 1;
			pthread_mutex_unlock(&p->lock);
		}
	}
}

/* A thread: its own connection (a handle is never shared). */
static void *worker(void *arg)
{
	struct pull *p = arg;
	struct reg *r = reg_clone(p->pb->reg);

	if (!r) {
		pthread_mutex_lock(&p->lock);
		if (!p->failed && p->next < p->n) {
			struct job *j = &p->jobs[p->next++];
			j->why = xasprintf("%s: %s", j->what, reg_error());
			j->state = FAILED;
		}
		p->failed = 1;
		pthread_mutex_unlock(&p->lock);
		return NULL;
	}
	work(p, r);
	reg_close(r);
	return NULL;
}

int pull_blobs(const struct pull_blobs *pb, const struct img_desc *d, size_t n,
	       const char *kind, char **why)
{
	struct pull p = { .pb = pb, .n = n };
	size_t threads = pb->jobs < 1 ? 1 : (size_t)pb->jobs, started = 0, i;
	pthread_t tid[PULL_JOBS];
	int ret = 0;

	*why = NULL;
	if (threads > n)
		threads = n;
	if (threads > PULL_JOBS)
		threads = PULL_JOBS;
	pthread_mutex_init(&p.lock, NULL);
	p.jobs = xcalloc(n ? n : 1, sizeof(*p.jobs));
	for (i = 0; i < n; i++) {
		p.jobs[i] = (struct job){ .pull = &p, .d = &d[i], .state = WAITING };
		p.jobs[i].what = strcmp(kind, "layer") ? xstrdup(kind)
			: xasprintf("layer %zu/%zu", i + 1, n);
		if (pb->tty && !pb->quiet) {
			fprintf(stderr, "%s: %s %s: waiting\n", md_tool, p.jobs[i].what,
				short_id(d[i].digest));
		}
	}
	/* One blob, or one at a time: no thread, the connection given. */
	if (threads <= 1) {
		work(&p, pb->reg);
	} else {
		for (i = 0; i < threads; i++) {
			int e = pthread_create(&tid[i], NULL, worker, &p);
			if (e) {
				vlog("pthread_create: %s: %zu at once", strerror(e), started);
				break;
			}
			started++;
		}
		if (!started)
			work(&p, pb->reg);
		for (i = 0; i < started; i++)
			pthread_join(tid[i], NULL);
	}
	for (i = 0; i < n; i++) {
		if (p.jobs[i].why && !*why) {
			*why = p.jobs[i].why;
			ret = -1;
		} else {
			free(p.jobs[i].why);
		}
		free(p.jobs[i].what);
	}
	free(p.jobs);
	pthread_mutex_destroy(&p.lock);
	return ret;
}
