/*
 * img-build - `docker build`: an image from a Dockerfile, one layer a step,
 * made of nothing but what minidock already has.
 *
 * A build step that changes files is a container.  Its root is an
 * overlayfs(5) mount of the layers made so far (read-only, "lowerdir")
 * under an empty directory ("upperdir") that receives every write:
 *
 *   RUN apt-get ...   ns-enter --all --root MERGED -- /bin/sh -c "apt-get ..."
 *                      (the chain of `run`: cg-limit, ns-enter; network none)
 *   COPY src /app     the files written into MERGED from the host
 *
 *   MERGED = overlay(lowerdir = layer 3 : layer 2 : layer 1, upperdir = UPPER)
 *
 * Once the step is done, UPPER holds exactly what it changed: new and
 * modified files, and for each deleted one a "whiteout" (a 0/0 character
 * device; an emptied directory carries trusted.overlay.opaque).  That
 * directory *is* the new layer: tarred (whiteouts as .wh.NAME, the OCI
 * form), gzip'd, named by its sha256, and kept as it is to be a lower
 * layer of the next step and of every container `run` starts from the
 * image.  ENV, CMD, EXPOSE... only change the image's config: no layer.
 *
 * main() does, in order:
 *   1. read the options, the Dockerfile (common/dockerfile.c) and the
 *      context (.dockerignore; common/build-context.c);
 *   2. each instruction, printed "Step 3/7 : RUN ...": FROM finds the base
 *      image as `run` does; RUN and COPY make a layer, unless the build
 *      cache has it (common/build-cache.c); the others set the config;
 *   3. the config and the manifest (common/image-write.c), then the image
 *      in run's store (`run NAME` runs it) or as -o says.
 * Nothing half-made is left: a failed step unmounts, removes its upper
 * directory and stops the build with its exit status.
 *
 * Read: Documentation/filesystems/overlayfs.rst ("whiteouts and opaque
 * directories"), mount(2), the Dockerfile reference, and the OCI image
 * spec's layer.md and config.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build-cache.h"
#include "build-context.h"
#include "chain.h"
#include "containers.h"
#include "dockerfile.h"
#include "image-write.h"
#include "layer-write.h"
#include "minidock.h"
#include "overlay.h"
#include "runimage.h"

struct options {
	const char *context, *file, *tag, *output, *network;
	char *default_file;         /* CONTEXT/Dockerfile, when no -f */
	struct strv build_args;     /* NAME=VALUE */
	int no_cache;
};

/* The build as it goes. */
struct build {
	struct options *o;
	struct dockerfile df;
	struct build_context ctx;
	struct imgw img;            /* the image so far: config, layers, history */
	struct strv layers;         /* its layer directories, lowest first */
	struct strv args;           /* ARG NAME=VALUE in scope */
	char key[DIGEST_LEN];       /* the cache key of the last step */
	char *blobs;                /* md_lib_dir()/blobs/sha256 */
	int64_t epoch;              /* every time in the image: SOURCE_DATE_EPOCH or 0 */
	char name[24];              /* build-<hex>: its state, its cgroup */
};

static void parse_args(int argc, char **argv, struct options *o);
static void read_dockerfile(struct build *b);
static void from_image(struct build *b, const struct df_instr *in);
static void run_step(struct build *b, const struct df_instr *in);
static void copy_step(struct build *b, const struct df_instr *in);
static void set_config(struct build *b, const struct df_instr *in);
static void write_image(struct build *b);

int main(int argc, char **argv)
{
	struct options o;
	struct build b = { .o = &o };
	const char *epoch = getenv("SOURCE_DATE_EPOCH");
	unsigned long long e = 0;
	uint32_t rnd;

	md_init("img-build");
	parse_args(argc, argv, &o);
	if (geteuid() != 0)
		die_x("rootless builds are not supported: a step's layer is an overlayfs upper "
		      "directory, whose whiteouts (0/0 device nodes, trusted.overlay.* "
		      "attributes) only root can make; run img-build as root");
	if (epoch && *epoch && parse_uint(epoch, INT64_MAX, &e) < 0)
		die_x("SOURCE_DATE_EPOCH=%s: not a number of seconds", epoch);
	b.epoch = (int64_t)e;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		die("getrandom");
	snprintf(b.name, sizeof(b.name), "build-%08x", rnd);
	/* Ctrl-C: seen between steps (and passed on to a RUN), so that the
	 * cleanup always runs. */
	if (block_forwarded_signals() < 0)
		die("sigprocmask");

	read_dockerfile(&b);
	b.blobs = xasprintf("%s/blobs/sha256", md_lib_dir());
	if (mkdir_p(b.blobs, 0755) < 0)
		die("mkdir -p %s", b.blobs);
	for (size_t i = 0; i < b.df.n; i++) {
		const struct df_instr *in = &b.df.v[i];
		struct timespec t0, t1;
		sigset_t pending;

		printf("Step %zu/%zu : %s %s\n", i + 1, b.df.n, in->keyword, in->text);
		fflush(stdout);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (!strcmp(in->keyword, "FROM"))
			from_image(&b, in);
		else if (!strcmp(in->keyword, "RUN"))
			run_step(&b, in);
		else if (!strcmp(in->keyword, "COPY") || !strcmp(in->keyword, "ADD"))
			copy_step(&b, in);
		else
			set_config(&b, in);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf(" ---> %.2fs\n", (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
		if (sigpending(&pending) == 0 && (sigismember(&pending, SIGINT) ||
						  sigismember(&pending, SIGTERM)))
			die_x("interrupted at step %zu/%zu", i + 1, b.df.n);
	}
	write_image(&b);

	imgw_free(&b.img);
	df_free(&b.df);
	ctx_close(&b.ctx);
	strv_free(&b.layers);
	strv_free(&b.args);
	strv_free(&o.build_args);
	free(o.default_file);
	free(b.blobs);
	return 0;
}

/* ---- what a failed step leaves is removed (die() exits: atexit) ---- */

static char *work_dir;          /* md_lib_dir()/build/NAME: the step's dirs */
static char *merged;            /* its overlayfs mount, while mounted */
static const char *state_name;  /* md_run_dir()/NAME: its /etc files */

static void clean_up(void)
{
	if (merged && umount2(merged, MNT_DETACH) < 0)
		warn_errno("umount %s", merged);
	if (work_dir && rm_rf(work_dir) < 0)
		warn_errno("rm -rf %s", work_dir);
	if (state_name && remove_state(state_name) < 0)
		warn_errno("rm -rf %s/%s", md_run_dir(), state_name);
	free(merged);
	free(work_dir);
	merged = work_dir = NULL;
	state_name = NULL;
}

/* 1. The Dockerfile, whole and checked before anything is made. */
static void read_dockerfile(struct build *b)
{
	const char *path = b->o->file;
	char *text = read_file(path, NULL), *why = NULL;

	if (!text)
		die("%s", path);
	if (df_parse(text, path, &b->df, &why) < 0)
		die_x("%s", why);
	if (ctx_open(&b->ctx, b->o->context, &why) < 0)
		die_x("%s", why);
	if (atexit(clean_up) != 0)
		die_x("atexit: failed");
	free(text);
}

/* $NAME in an instruction: ENV first, then ARG (as docker). */
static const char *lookup(const char *name, void *arg)
{
	struct build *b = arg;
	size_t n = strlen(name);
	const char *v = b->img.config ? imgw_getenv(&b->img, name) : NULL;

	for (size_t i = 0; !v && i < b->args.n; i++)
		if (!strncmp(b->args.v[i], name, n) && b->args.v[i][n] == '=')
			v = b->args.v[i] + n + 1;
	return v;
}

/* The words of IN, $NAME replaced (the JSON form: as written). */
static void words_of(struct build *b, const struct df_instr *in, int split, struct strv *w)
{
	char *why = NULL;

	if (in->json) {
		for (size_t i = 0; i < in->words.n; i++)
			strv_push(w, in->words.v[i]);
	} else if (df_words(in->text, b->df.escape, lookup, b, split, w, &why) < 0) {
		die_x("%s:%d: %s: %s", b->o->file, in->line, in->keyword, why);
	}
}

/* The times of a layer are part of it: a build with another epoch is
 * another build for the cache. */
static const char *epoch_key(struct build *b)
{
	static char text[32];

	snprintf(text, sizeof(text), "epoch %lld", (long long)b->epoch);
	return text;
}

/* 2. FROM: the base image, found as `run` finds it (runimage.h); each of
 * its layers tarred once into a blob, for -o.  scratch: nothing. */
static void from_image(struct build *b, const struct df_instr *in)
{
	struct run_image base = { 0 };
	struct strv w = { 0 };
	char *why = NULL, *id;

	words_of(b, in, 1, &w);
	if (w.n == 3 && strcasecmp(w.v[1], "AS"))
		die_x("%s:%d: FROM: expected IMAGE [AS NAME]", b->o->file, in->line);
	/* ARGs before FROM are for FROM only (until declared again). */
	strv_free(&b->args);
	if (!strcmp(w.v[0], "scratch")) {
		imgw_init(&b->img, NULL, b->blobs, b->epoch);
		cache_key(epoch_key(b), "FROM scratch", b->key);
		printf(" ---> scratch: an empty image\n");
		strv_free(&w);
		return;
	}
	if (runimage_find(w.v[0], 0, &base, &why) < 0)
		die_x("%s:%d: FROM %s: %s", b->o->file, in->line, w.v[0], why);
	imgw_init(&b->img, base.config, b->blobs, b->epoch);
	id = json_dumps(base.config, JSON_COMPACT | JSON_SORT_KEYS);
	cache_key(epoch_key(b), id ? id : "", b->key);
	free(id);
	for (size_t i = 0; i < base.layers.n; i++) {
		const char *dir = base.layers.v[i], *hex = strrchr(dir, '/') + 1;
		char *diff_id = xasprintf("sha256:%s", hex), *what;
		struct layer_blob blob;

		if (!cache_blob_of(diff_id, b->epoch, &blob)) {
			vlog("layer %s: tarred once, for the image's manifest", dir);
			if (layer_write(dir, b->blobs, b->epoch, &blob, &why) < 0)
				die_x("FROM %s: layer %s: %s", w.v[0], dir, why);
			if (cache_record_blob_of(diff_id, b->epoch, &blob) < 0)
				warn_errno("%s/build/blob-of: cannot record it", md_lib_dir());
		}
		what = xasprintf("FROM %s (layer %zu)", w.v[0], i + 1);
		imgw_add_layer(&b->img, &blob, what);
		strv_push(&b->layers, dir);
		cache_key(b->key, blob.diff_id, b->key);
		free(what);
		free(diff_id);
	}
	printf(" ---> %s: %zu layer%s\n", w.v[0], base.layers.n, base.layers.n == 1 ? "" : "s");
	runimage_free(&base);
	strv_free(&w);
}

/* ---- a step's layer: the upper directory of an overlayfs mount ---- */

/* mount(2) overlay: the layers so far under an empty UPPER, at MERGED.
 * An empty layer adds nothing and is left out; scratch needs one lower. */
static void mount_step(struct build *b)
{
	struct strv lower = { 0 };
	char *empty, *opts, *upper, *work;

	work_dir = xasprintf("%s/build/%s", md_lib_dir(), b->name);
	merged = xasprintf("%s/merged", work_dir);
	empty = xasprintf("%s/empty", work_dir);
	upper = xasprintf("%s/upper", work_dir);
	work = xasprintf("%s/work", work_dir);
	if (mkdir_p(merged, 0755) < 0 || mkdir(empty, 0755) < 0 || mkdir(upper, 0755) < 0 ||
	    mkdir(work, 0700) < 0)
		die("mkdir %s", work_dir);
	for (size_t i = 0; i < b->layers.n; i++)
		if (dir_is_empty(b->layers.v[i]) == 0)
			strv_push(&lower, b->layers.v[i]);
	if (lower.n == 0)
		strv_push(&lower, empty);
	if (!(opts = overlay_options(lower.v, lower.n, upper, work)))
		die("%zu layers in one overlayfs mount", lower.n);
	/* Every change in UPPER itself, never a reference to a lower layer:
	 * no metacopy, no redirect, no index (overlayfs.rst). */
	opts = xrealloc(opts, strlen(opts) + 64);
	strcat(opts, ",redirect_dir=off,metacopy=off,index=off");
	vlog("mount(\"overlay\", \"%s\", \"overlay\", 0, \"%s\")", merged, opts);
	if (mount("overlay", merged, "overlay", 0, opts) < 0) {
		free(merged);
		merged = NULL;
		die("mount overlay on %s/merged", work_dir);
	}
	free(opts);
	free(work);
	free(upper);
	free(empty);
	strv_free(&lower);
}

/*
 * The step is done: unmount; its upper directory becomes the layer
 * (tarred, and renamed into the store as md_lib_dir()/layers/sha256/
 * <diff_id>, where `run` finds layers); recorded in the cache.
 */
static void commit_layer(struct build *b, const char *created_by, const char *key,
			 const char *content)
{
	char *upper = xasprintf("%s/upper", work_dir), *why = NULL, *dir;
	struct layer_blob blob;

	vlog("umount(\"%s\")", merged);
	if (umount2(merged, 0) < 0)
		die("umount %s", merged);
	free(merged);
	merged = NULL;
	if (layer_write(upper, b->blobs, b->epoch, &blob, &why) < 0)
		die_x("the layer of %s: %s", created_by, why);
	dir = cache_layer_dir(blob.diff_id);
	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir, 0755) < 0)
		die("mkdir -p %s", dir);
	dir[strlen(dir)] = '/';
	vlog("rename(\"%s\", \"%s\"): the upper directory is the layer", upper, dir);
	if (rename(upper, dir) < 0 && errno != EEXIST && errno != ENOTEMPTY)
		die("rename %s %s", upper, dir);
	if (cache_record_blob_of(blob.diff_id, b->epoch, &blob) < 0 ||
	    cache_record(b->key, key, created_by, content, &blob) < 0)
		warn_errno("%s/build: the cache not recorded", md_lib_dir());
	printf(" ---> layer %.19s: %llu entries, %lld bytes gzip'd\n", blob.diff_id,
	       (unsigned long long)blob.entries, (long long)blob.size);
	imgw_add_layer(&b->img, &blob, created_by);
	strv_push(&b->layers, dir);
	memcpy(b->key, key, DIGEST_LEN);
	free(dir);
	free(upper);
	clean_up();
}

/* The cache: the layer this very step made before, if any (--verbose
 * says why not). */
static int cached(struct build *b, const char *key, const char *what, const char *content)
{
	struct layer_blob blob;
	char *reason = NULL, *dir;
	int hit = 0;

	if (b->o->no_cache)
		vlog("not cached: --no-cache");
	else if (!(hit = cache_lookup(b->key, key, what, content, &blob, &reason)))
		vlog("not cached: %s", reason);
	free(reason);
	if (!hit)
		return 0;
	dir = cache_layer_dir(blob.diff_id);
	printf(" ---> Using cache: layer %.19s\n", blob.diff_id);
	vlog("cached: the same parent and instruction%s made layer %s", content[0] ?
	     " and the same files" : "", blob.diff_id);
	imgw_add_layer(&b->img, &blob, what);
	strv_push(&b->layers, dir);
	memcpy(b->key, key, DIGEST_LEN);
	free(dir);
	return 1;
}

/* What ns-enter made in MERGED to mount things on (/dev, /proc, /sys,
 * /etc/hosts...) is not the step's work: removed from the layer, as
 * docker, when the image had none and it is still empty. */
static const char *const mount_points[] = {
	"etc/hosts", "etc/resolv.conf", "etc/hostname", "etc", "dev", "proc", "sys", NULL,
};

static void remove_mount_points(const int existed[])
{
	char *upper = xasprintf("%s/upper", work_dir);
	int fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;

	for (size_t i = 0; fd >= 0 && mount_points[i]; i++) {
		if (existed[i] || fstatat(fd, mount_points[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode) && st.st_size == 0)
			unlinkat(fd, mount_points[i], 0);
		else if (S_ISDIR(st.st_mode))
			unlinkat(fd, mount_points[i], AT_REMOVEDIR);   /* fails if not empty */
	}
	if (fd >= 0)
		close(fd);
	free(upper);
}

/* RUN: the command in a container over MERGED, the chain of `run`
 * (chain.h): cg-limit --devices container -- ns-enter --all ... -- CMD. */
static int run_container(struct build *b, const struct strv *cmd)
{
	struct run_options ro = { .network = b->o->network };
	const char *spec = imgw_getstring(&b->img, "User");
	struct strv env = { 0 }, envp = { 0 };
	struct chain chain;
	struct chain_args a;
	char *user = NULL, *why = NULL;
	json_t *v;
	size_t i;
	pid_t pid;
	int code, devnull;

	json_array_foreach(json_object_get(b->img.config, "Env"), i, v)
		strv_push(&env, json_string_value(v));
	for (i = 0; i < b->args.n; i++) {   /* ARGs are RUN's variables too */
		char *name = xstrdup(b->args.v[i]);
		*strchr(name, '=') = '\0';
		if (!imgw_getenv(&b->img, name))
			strv_push(&env, b->args.v[i]);
		free(name);
	}
	if (!imgw_getenv(&b->img, "PATH"))
		strv_push(&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	if (spec && !(user = runimage_user(merged, spec, &why)))
		die_x("USER %s: %s", spec, why);
	runimage_home(merged, user, &env);
	ro.workdir = imgw_getstring(&b->img, "WorkingDir");
	if (mkdir_p(md_run_dir(), 0755) < 0 || mkdir(state_dir(b->name), 0700) < 0)
		die("mkdir %s/%s", md_run_dir(), b->name);
	state_name = b->name;
	if (container_write_etc(b->name, ro.network, b->name) < 0)
		die("write %s/%s: the files of its /etc", md_run_dir(), b->name);
	a = (struct chain_args){ .name = b->name, .hostname = b->name, .rootfs = merged,
				 .user = user, .cmd = cmd, .env = &env };
	if (chain_build(&ro, &a, 0, &chain) < 0)
		die("the tools of the chain");
	chain_environment(&envp);
	printf(" ---> Running in %s\n", b->name);
	fflush(stdout);
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 || (pid = fork()) < 0)
		die("fork");
	if (pid == 0) {
		/* As docker build: the step reads nothing. */
		if (dup2(devnull, STDIN_FILENO) < 0 || unblock_forwarded_signals() < 0)
			_exit(EXIT_TOOL_FAILED);
		exec_command_env(chain.argv.v, envp.v);
	}
	close(devnull);
	if ((code = supervise(pid)) < 0)
		die("waitpid");
	remove_state(b->name);
	state_name = NULL;
	chain_free(&chain);
	strv_free(&envp);
	strv_free(&env);
	free(user);
	return code;
}

static void run_step(struct build *b, const struct df_instr *in)
{
	struct strv cmd = { 0 };
	int existed[sizeof(mount_points) / sizeof(*mount_points)] = { 0 };
	char key[DIGEST_LEN], *what;
	struct stat st;
	int code;

	if (in->json) {
		words_of(b, in, 1, &cmd);
	} else {
		strv_push(&cmd, "/bin/sh");
		strv_push(&cmd, "-c");
		strv_push(&cmd, in->text);
	}
	what = xasprintf("RUN %s", in->json ? in->text : "/bin/sh -c ");
	if (!in->json) {
		char *w = xasprintf("%s%s", what, in->text);
		free(what);
		what = w;
	}
	cache_key(b->key, what, key);
	if (!cached(b, key, what, "")) {
		mount_step(b);
		for (size_t i = 0; mount_points[i]; i++) {
			char *p = xasprintf("%s/%s", merged, mount_points[i]);
			existed[i] = lstat(p, &st) == 0;
			free(p);
		}
		code = run_container(b, &cmd);
		if (code != 0) {
			/* As docker build: the step named, its status passed on. */
			warn_x("%s:%d: RUN %s: the command returned a non-zero code: %d",
			       b->o->file, in->line, in->text, code);
			exit(code);
		}
		remove_mount_points(existed);
		commit_layer(b, what, key, "");
	}
	free(what);
	strv_free(&cmd);
}

/* COPY and ADD: files of the context written into MERGED.  What they
 * hold is part of the cache key: the same instruction over changed files
 * is another step. */
static void copy_step(struct build *b, const struct df_instr *in)
{
	struct copy_opts co = { .extract = !strcmp(in->keyword, "ADD") };
	struct strv w = { 0 }, patterns = { 0 }, sources = { 0 };
	const char *chown_spec = NULL, *workdir = imgw_getstring(&b->img, "WorkingDir");
	char content[DIGEST_LEN], key[DIGEST_LEN], *what, *dest, *why = NULL, *user, *k;
	int rootfd;

	for (size_t i = 0; i < in->flags.n; i++)
		if (!strncmp(in->flags.v[i], "--chown=", 8))
			chown_spec = in->flags.v[i] + 8;
	words_of(b, in, 1, &w);
	for (size_t i = 0; i + 1 < w.n; i++) {
		if (co.extract && strstr(w.v[i], "://"))
			die_x("%s:%d: ADD %s: a URL is not supported by img-build (a build step "
			      "has no network by default): download it, then COPY it",
			      b->o->file, in->line, w.v[i]);
		strv_push(&patterns, w.v[i]);
	}
	if (ctx_sources(&b->ctx, &patterns, &sources, &why) < 0 ||
	    ctx_digest(&b->ctx, &sources, content, &why) < 0)
		die_x("%s:%d: %s: %s", b->o->file, in->line, in->keyword, why);
	/* A relative DEST is relative to WORKDIR. */
	dest = w.v[w.n - 1][0] == '/' ? xstrdup(w.v[w.n - 1])
		: xasprintf("%s/%s", workdir ? workdir : "", w.v[w.n - 1]);
	what = xasprintf("%s %s%s%s", in->keyword, chown_spec ? "--chown=" : "",
			 chown_spec ? chown_spec : "", in->text);
	if (chown_spec) {
		char *w2 = xasprintf("%s %s %s", in->keyword, in->flags.v[0], in->text);
		free(what);
		what = w2;
	}
	k = xasprintf("%s\n%s", what, content);
	cache_key(b->key, k, key);
	free(k);
	if (!cached(b, key, what, content)) {
		mount_step(b);
		/* --chown=USER[:GROUP], by name in the image's /etc/passwd. */
		if (chown_spec) {
			if (!(user = runimage_user(merged, chown_spec, &why)))
				die_x("%s:%d: %s: %s", b->o->file, in->line, in->keyword, why);
			co.uid = (uid_t)strtoul(user, &k, 10);
			co.gid = strchr(chown_spec, ':') ? (gid_t)strtoul(k + 1, NULL, 10)
							  : (gid_t)co.uid;
			free(user);
		}
		if ((rootfd = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			die("open %s", merged);
		vlog("%s: %zu source%s into %s, each path resolved by openat2(RESOLVE_IN_ROOT)",
		     in->keyword, sources.n, sources.n == 1 ? "" : "s", dest);
		if (ctx_copy(&b->ctx, &sources, rootfd, dest, &co, &why) < 0)
			die_x("%s:%d: %s: %s", b->o->file, in->line, in->keyword, why);
		close(rootfd);
		commit_layer(b, what, key, content);
	}
	free(what);
	free(dest);
	strv_free(&sources);
	strv_free(&patterns);
	strv_free(&w);
}

/* ARG NAME[=DEFAULT]: --build-arg NAME=VALUE wins. */
static char *declare_arg(struct build *b, const char *decl)
{
	size_t n = strcspn(decl, "=");
	const char *value = decl[n] ? decl + n + 1 : NULL;
	char *arg;

	for (size_t i = 0; i < b->o->build_args.n; i++)
		if (!strncmp(b->o->build_args.v[i], decl, n) && b->o->build_args.v[i][n] == '=')
			value = b->o->build_args.v[i] + n + 1;
	if (!value)
		return xasprintf("%.*s", (int)n, decl);    /* declared, unset */
	arg = xasprintf("%.*s=%s", (int)n, decl, value);
	strv_push(&b->args, arg);
	return arg;
}

/* ENV, ARG, WORKDIR, USER, CMD, ENTRYPOINT, EXPOSE, LABEL, VOLUME,
 * STOPSIGNAL, MAINTAINER: the config only, a history entry, no layer. */
static void set_config(struct build *b, const struct df_instr *in)
{
	const char *k = in->keyword;
	struct strv w = { 0 };
	char *what = xasprintf("%s %s", k, in->text), *key_text = NULL;

	if (!strcmp(k, "ARG")) {
		words_of(b, in, 1, &w);
		key_text = xasprintf("ARG %s", declare_arg(b, w.v[0]));
	} else if (!strcmp(k, "ENV") && !strchr(in->text, '=')) {
		/* ENV NAME VALUE, the older form: the rest of the line. */
		struct df_instr rest = *in;
		size_t n = strcspn(in->text, " \t");
		char *name = xasprintf("%.*s", (int)n, in->text);
		rest.text = in->text + n;
		words_of(b, &rest, 0, &w);
		imgw_env(&b->img, name, w.v[0]);
		free(name);
	} else if (!strcmp(k, "ENV") || !strcmp(k, "LABEL")) {
		words_of(b, in, 1, &w);
		for (size_t i = 0; i < w.n; i++) {
			char *eq = strchr(w.v[i], '=');
			if (!eq)
				die_x("%s:%d: %s: %s: expected NAME=VALUE", b->o->file, in->line, k,
				      w.v[i]);
			*eq = '\0';
			if (k[0] == 'E')
				imgw_env(&b->img, w.v[i], eq + 1);
			else
				imgw_set(&b->img, "Labels", w.v[i], eq + 1);
		}
	} else if (!strcmp(k, "WORKDIR")) {
		const char *cur = imgw_getstring(&b->img, "WorkingDir");
		words_of(b, in, 0, &w);
		if (w.v[0][0] == '/') {
			imgw_string(&b->img, "WorkingDir", w.v[0]);
		} else {
			char *p = xasprintf("%s/%s", cur && strcmp(cur, "/") ? cur : "", w.v[0]);
			imgw_string(&b->img, "WorkingDir", p);
			free(p);
		}
	} else if (!strcmp(k, "USER") || !strcmp(k, "STOPSIGNAL")) {
		words_of(b, in, 0, &w);
		imgw_string(&b->img, k[0] == 'U' ? "User" : "StopSignal", w.v[0]);
	} else if (!strcmp(k, "MAINTAINER")) {
		imgw_author(&b->img, in->text);
	} else if (!strcmp(k, "CMD") || !strcmp(k, "ENTRYPOINT")) {
		/* The shell form: the shell replaces $NAME, when it runs. */
		if (!in->json) {
			strv_push(&w, "/bin/sh");
			strv_push(&w, "-c");
			strv_push(&w, in->text);
		} else {
			words_of(b, in, 0, &w);
		}
		imgw_array(&b->img, k[0] == 'C' ? "Cmd" : "Entrypoint", &w);
	} else if (!strcmp(k, "EXPOSE") || !strcmp(k, "VOLUME")) {
		words_of(b, in, 1, &w);
		for (size_t i = 0; i < w.n; i++) {
			char *port = strchr(w.v[i], '/') || k[0] == 'V' ? xstrdup(w.v[i])
					: xasprintf("%s/tcp", w.v[i]);
			imgw_set(&b->img, k[0] == 'E' ? "ExposedPorts" : "Volumes", port, NULL);
			free(port);
		}
	}
	imgw_history(&b->img, what, 1);
	cache_key(b->key, key_text ? key_text : what, b->key);
	free(key_text);
	free(what);
	strv_free(&w);
}

/* 3. The config and manifest; the image where it was asked. */
static void write_image(struct build *b)
{
	const struct options *o = b->o;
	char *name = NULL, *tag = NULL, *why = NULL, *full, *colon;

	if (imgw_finish(&b->img, &why) < 0)
		die_x("%s", why);
	if (o->tag) {
		name = xstrdup(o->tag);
		colon = strrchr(name, ':');
		if (colon && !strchr(colon, '/')) {
			*colon = '\0';
			tag = xstrdup(colon + 1);
		}
	}
	if (!tag)
		tag = xstrdup("latest");
	full = name ? xasprintf("%s:%s", name, tag) : NULL;
	if (o->output) {
		const char *dest = strchr(o->output, ':') + 1;
		int r = !strncmp(o->output, "oci:", 4)
			? imgw_write_oci(&b->img, dest, full, tag, &why)
			: imgw_write_archive(&b->img, dest, full, tag,
					     !strncmp(o->output, "docker-archive:", 15), &why);
		if (r < 0)
			die_x("-o %s: %s", o->output, why);
		printf("Written to %s\n", o->output);
	}
	if (!o->output || name) {
		char *id = xasprintf("%.12s", b->img.config_digest + 7);
		if (imgw_store(&b->img, name ? name : id, &b->layers, &why) < 0)
			die_x("the store: %s", why);
		free(id);
	}
	printf("Successfully built %.12s (manifest %s)\n", b->img.config_digest + 7,
	       b->img.manifest_digest);
	if (full)
		printf("Successfully tagged %s\n", full);
	free(full);
	free(tag);
	free(name);
}

/* ---- the command line ---- */

static void usage(FILE *out)
{
	fprintf(out,
"Usage: img-build [-t NAME[:TAG]] [-f DOCKERFILE] [--build-arg NAME=VALUE]...\n"
"                 [--no-cache] [--network none|host|bridge] [-o DEST] CONTEXT\n"
"\n"
"Build an image from a Dockerfile, as docker build: one layer for each RUN,\n"
"COPY and ADD, each RUN a container (ns-enter over an overlayfs of the\n"
"layers so far); the image goes into run's store (run NAME runs it).\n"
"\n"
"  -t, --tag NAME[:TAG]       the image's name (in the store: TAG latest)\n"
"  -f, --file DOCKERFILE      default CONTEXT/Dockerfile\n"
"      --build-arg NAME=VALUE the value of ARG NAME\n"
"      --no-cache             make every layer again\n"
"      --network MODE         RUN's network: none (default), host or bridge\n"
"  -o, --output DEST          oci:DIR, oci-archive:FILE or docker-archive:FILE\n"
"                             (instead of the store, unless -t is given too)\n"
"  -v, --verbose              each system call, and why a step was not cached\n"
"  -h, --help                 this help\n"
"  -V, --version              print the version\n"
"\n"
"Times in the image are SOURCE_DATE_EPOCH (default 0): the same Dockerfile\n"
"and context give the same image digest.\n"
"\n"
"Example:\n"
"  img-build -t hello tp/8-construire/hello && run --rm hello\n"
"\n"
"Exit status: 0; a failing RUN's own status; 125 when img-build failed.\n");
}

static void parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_BUILD_ARG = 256, OPT_NO_CACHE, OPT_NETWORK };
	static const struct option longopts[] = {
		{ "tag", required_argument, NULL, 't' },
		{ "file", required_argument, NULL, 'f' },
		{ "build-arg", required_argument, NULL, OPT_BUILD_ARG },
		{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
		{ "network", required_argument, NULL, OPT_NETWORK },
		{ "output", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->network = "none";
	while ((c = getopt_long(argc, argv, "+t:f:o:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 't': o->tag = optarg; break;
		case 'f': o->file = optarg; break;
		case 'o': o->output = optarg; break;
		case OPT_BUILD_ARG:
			if (strchr(optarg, '='))
				strv_push(&o->build_args, optarg);
			else if (getenv(optarg))    /* NAME alone: its value here, as docker */
				strv_pushf(&o->build_args, "%s=%s", optarg, getenv(optarg));
			break;
		case OPT_NO_CACHE: o->no_cache = 1; break;
		case OPT_NETWORK: o->network = optarg; break;
		case 'v': md_verbose = 1; break;
		case 'h': usage(stdout); exit(0);
		case 'V': print_version(); exit(0);
		default:
			fprintf(stderr, "Try 'img-build --help'.\n");
			exit(EXIT_TOOL_FAILED);
		}
	}
	if (argc - optind != 1)
		die_x("expected CONTEXT, got %d arguments (see --help)", argc - optind);
	o->context = argv[optind];
	if (!o->file)
		o->file = o->default_file = xasprintf("%s/Dockerfile", o->context);
	if (strcmp(o->network, "none") && strcmp(o->network, "host") &&
	    strcmp(o->network, "bridge"))
		die_x("--network %s: none, host or bridge", o->network);
	if (o->output && strncmp(o->output, "oci:", 4) && strncmp(o->output, "oci-archive:", 12) &&
	    strncmp(o->output, "docker-archive:", 15))
		die_x("-o %s: oci:DIR, oci-archive:FILE or docker-archive:FILE", o->output);
	if (o->output && !strchr(o->output, ':')[1])
		die_x("-o %s: the destination is missing", o->output);
	if (o->tag) {
		char *name = xstrdup(o->tag), *colon = strrchr(name, ':');
		if (colon)
			*colon = '\0';
		if (!valid_name(name))
			die_x("-t %s: not a valid image name ([A-Za-z0-9_.-])", o->tag);
		if (colon && strcmp(colon + 1, "latest") && !o->output)
			die_x("-t %s: run's store keeps one tag a name, latest (use -o for "
			      "another tag)", o->tag);
		free(name);
	}
}
