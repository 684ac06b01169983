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
#include "build-config.h"
#include "build-context.h"
#include "chain.h"
#include "containers.h"
#include "dockerfile.h"
#include "image-write.h"
#include "layer-write.h"
#include "minidock.h"
#include "overlay.h"
#include "runimage.h"


/* The build as it goes. */
struct build {
	struct build_options *o;
	struct build_vars vars;     /* $NAME: the image's ENV, the ARGs */
	struct dockerfile df;
	struct build_context ctx;
	struct imgw img;            /* the image so far: config, layers, history */
	struct strv layers;         /* its layer directories, lowest first */
	char key[DIGEST_LEN];       /* the cache key of the last step */
	char *blobs;                /* md_lib_dir()/blobs/sha256 */
	int64_t epoch;              /* every time in the image: SOURCE_DATE_EPOCH or 0 */
	char name[24];              /* build-<hex>: its state, its cgroup */
};

static void parse_args(int argc, char **argv, struct build_options *o);
static void read_dockerfile(struct build *b);
static void from_image(struct build *b, const struct df_instr *in);
static void run_step(struct build *b, const struct df_instr *in);
static void copy_step(struct build *b, const struct df_instr *in);
static void set_config(struct build *b, const struct df_instr *in);
static void write_image(struct build *b);

int main(int argc, char **argv)
{
	struct build_options o;
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

		char *text = df_text(in);

		printf("Step %zu/%zu : %s\n", i + 1, b.df.n, text);
		fflush(stdout);
		free(text);
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
	strv_free(&b.vars.args);
	buildopts_free(&o);
	free(b.blobs);
	return 0;
}

/* ---- what a failed step leaves is removed (die() exits: atexit) ---- */

static char *work_dir;          /* md_lib_dir()/build/NAME: the step's dirs */
static char *merged;            /* its overlayfs mount, while mounted */
static const char *state_name;  /* md_run_dir()/NAME: its /etc files */

/* The step's runtime directory holds only its /etc files: no mount. */
static int rm_state_dir(const char *name)
{
	char *dir = state_dir(name);
	int ret = rm_rf(dir);

	free(dir);
	return ret;
}

static void clean_up(void)
{
	if (merged && umount2(merged, MNT_DETACH) < 0)
		warn_errno("umount %s", merged);
	if (work_dir && rm_rf(work_dir) < 0)
		warn_errno("rm -rf %s", work_dir);
	if (state_name && rm_state_dir(state_name) < 0)
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
	b->vars = (struct build_vars){ .build_args = &b->o->build_args, .escape = b->df.escape,
				       .file = path };
	if (ctx_open(&b->ctx, b->o->context, &why) < 0)
		die_x("%s", why);
	if (atexit(clean_up) != 0)
		die_x("atexit: failed");
	free(text);
}

/* The words of IN, $NAME replaced (build-config.c). */
static void words_of(struct build *b, const struct df_instr *in, int split, struct strv *w)
{
	char *why = NULL;

	if (bvars_words(&b->vars, in, split, w, &why) < 0)
		die_x("%s", why);
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
 * its layers tarred once into a blob (build-cache.c).  scratch: nothing. */
static void from_image(struct build *b, const struct df_instr *in)
{
	struct run_image base = { 0 };
	struct strv w = { 0 };
	char *why = NULL, *id;

	words_of(b, in, 1, &w);
	if (w.n == 3 && strcasecmp(w.v[1], "AS"))
		die_x("%s:%d: FROM: expected IMAGE [AS NAME]", b->o->file, in->line);
	if (!strcmp(w.v[0], "scratch")) {
		imgw_init(&b->img, NULL, b->blobs, b->epoch);
		bvars_from(&b->vars, &b->img);
		cache_key(epoch_key(b), "FROM scratch", b->key);
		printf(" ---> scratch: an empty image\n");
		strv_free(&w);
		return;
	}
	if (runimage_find(w.v[0], 0, &base, &why) < 0)
		die_x("%s:%d: FROM %s: %s", b->o->file, in->line, w.v[0], why);
	imgw_init(&b->img, base.config, b->blobs, b->epoch);
	bvars_from(&b->vars, &b->img);
	id = json_dumps(base.config, JSON_COMPACT | JSON_SORT_KEYS);
	cache_key(epoch_key(b), id ? id : "", b->key);
	free(id);
	for (size_t i = 0; i < base.layers.n; i++) {
		struct layer_blob blob;
		char *what = xasprintf("FROM %s (layer %zu)", w.v[0], i + 1);

		if (cache_base_blob(base.layers.v[i], b->epoch, b->blobs, &blob, &why) < 0)
			die_x("FROM %s: %s", w.v[0], why);
		imgw_add_layer(&b->img, &blob, what);
		strv_push(&b->layers, base.layers.v[i]);
		cache_key(b->key, blob.diff_id, b->key);
		free(what);
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

/* The image gets layer BLOB (its directory in the store), made by the
 * step KEY. */
static void add_layer(struct build *b, const struct layer_blob *blob, const char *created_by,
		      const char *key)
{
	char *dir = cache_layer_dir(blob->diff_id);

	imgw_add_layer(&b->img, blob, created_by);
	strv_push(&b->layers, dir);
	memcpy(b->key, key, DIGEST_LEN);
	free(dir);
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
	add_layer(b, &blob, created_by, key);
	free(dir);
	free(upper);
	clean_up();
}

/* The cache: the layer this very step made before, if any (--verbose
 * says why not). */
static int cached(struct build *b, const char *key, const char *what, const char *content)
{
	struct layer_blob blob;
	char *reason = NULL;
	int hit = 0;

	if (b->o->no_cache)
		vlog("not cached: --no-cache");
	else if (!(hit = cache_lookup(b->key, key, what, content, &blob, &reason)))
		vlog("not cached: %s", reason);
	free(reason);
	if (!hit)
		return 0;
	printf(" ---> Using cache: layer %.19s\n", blob.diff_id);
	vlog("cached: the same parent and instruction%s made layer %s", content[0] ?
	     " and the same files" : "", blob.diff_id);
	add_layer(b, &blob, what, key);
	return 1;
}

/* What ns-enter made in MERGED to mount things on (/dev, /proc, /sys,
 * /etc/hosts...) is not the step's work: removed from the layer, as
 * docker, when the image had none and it is still empty. */
static const char *const mount_points[] = {
	"etc/hosts", "etc/resolv.conf", "etc/hostname", "etc", "dev", "proc", "sys", NULL,
};

static void note_mount_points(int existed[])
{
	int rootfd = open(merged, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;

	if (rootfd < 0)
		die("open %s", merged);
	for (size_t i = 0; mount_points[i]; i++) {
		/* Resolved in the image, never through its symlinks to the host. */
		fd = open_in_root(rootfd, mount_points[i], O_PATH | O_NOFOLLOW, 0);
		existed[i] = fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	close(rootfd);
}

static void remove_mount_points(const int existed[])
{
	char *upper = xasprintf("%s/upper", work_dir);
	int fd = open(upper, O_PATH | O_DIRECTORY | O_CLOEXEC), parent;
	struct stat st;

	for (size_t i = 0; fd >= 0 && mount_points[i]; i++) {
		const char *base = strrchr(mount_points[i], '/');
		char *dir = base ? xasprintf("%.*s", (int)(base - mount_points[i]),
					     mount_points[i]) : xstrdup(".");

		base = base ? base + 1 : mount_points[i];
		parent = existed[i] ? -1 : open_in_root(fd, dir, O_PATH | O_DIRECTORY, 0);
		free(dir);
		if (parent < 0)
			continue;
		if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISREG(st.st_mode) && st.st_size == 0)
				unlinkat(parent, base, 0);
			else if (S_ISDIR(st.st_mode))
				unlinkat(parent, base, AT_REMOVEDIR);   /* fails if not empty */
		}
		close(parent);
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
	char *user = NULL, *why = NULL, *dir;
	pid_t pid;
	int code, devnull;

	bvars_run_env(&b->vars, &env);
	if (spec && !(user = runimage_user(merged, spec, &why)))
		die_x("USER %s: %s", spec, why);
	runimage_home(merged, user, &env);
	ro.workdir = imgw_getstring(&b->img, "WorkingDir");
	dir = state_dir(b->name);
	if (mkdir_p(md_run_dir(), 0755) < 0 || mkdir(dir, 0700) < 0)
		die("mkdir %s", dir);
	free(dir);
	state_name = b->name;
	if (container_etc_files(b->name, merged, ro.network, b->name) < 0)
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
	rm_state_dir(b->name);
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
	int code;

	if (in->json) {
		words_of(b, in, 1, &cmd);
	} else {
		strv_push(&cmd, "/bin/sh");
		strv_push(&cmd, "-c");
		strv_push(&cmd, in->text);
	}
	what = xasprintf("RUN %s%s", in->json ? "" : "/bin/sh -c ", in->text);
	cache_key(b->key, what, key);
	if (!cached(b, key, what, "")) {
		mount_step(b);
		note_mount_points(existed);
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
	const char *workdir = imgw_getstring(&b->img, "WorkingDir"), *chown_spec = NULL;
	struct strv w = { 0 }, sources = { 0 };
	char content[DIGEST_LEN], key[DIGEST_LEN], *what = df_text(in), *dest, *why, *k;
	int add = !strcmp(in->keyword, "ADD");

	for (size_t i = 0; i < in->flags.n; i++)
		if (!strncmp(in->flags.v[i], "--chown=", 8))
			chown_spec = in->flags.v[i] + 8;
	words_of(b, in, 1, &w);
	/* The sources stay in W; DEST is past its end, still in its array, so
	 * that a refusal below (die_x, exit) leaves no unreachable block. */
	dest = w.v[--w.n];
	for (size_t i = 0; add && i < w.n; i++)
		if (strstr(w.v[i], "://"))
			die_x("%s:%d: ADD %s: a URL is not supported by img-build (a build step "
			      "has no network by default): download it, then COPY it",
			      b->o->file, in->line, w.v[i]);
	if (ctx_sources(&b->ctx, &w, &sources, &why) < 0 ||
	    ctx_digest(&b->ctx, &sources, content, &why) < 0)
		die_x("%s:%d: %s: %s", b->o->file, in->line, in->keyword, why);
	k = xasprintf("%s\n%s", what, content);
	cache_key(b->key, k, key);
	free(k);
	if (!cached(b, key, what, content)) {
		mount_step(b);
		/* A relative DEST is relative to WORKDIR. */
		k = dest[0] == '/' ? xstrdup(dest) : xasprintf("%s/%s", workdir ? workdir : "", dest);
		vlog("%s: %zu source%s into %s, each path resolved by openat2(RESOLVE_IN_ROOT)",
		     in->keyword, sources.n, sources.n == 1 ? "" : "s", k);
		if (ctx_copy(&b->ctx, &sources, merged, k, chown_spec, add, &why) < 0)
			die_x("%s:%d: %s: %s", b->o->file, in->line, in->keyword, why);
		free(k);
		commit_layer(b, what, key, content);
	}
	free(dest);
	free(what);
	strv_free(&sources);
	strv_free(&w);
}

/* ENV, ARG, WORKDIR, USER, CMD, ENTRYPOINT, EXPOSE, LABEL, VOLUME,
 * STOPSIGNAL, MAINTAINER: the config only (build-config.c), a history
 * entry, no layer. */
static void set_config(struct build *b, const struct df_instr *in)
{
	char *what = df_text(in), *key = NULL, *why = NULL;

	if (bvars_set_config(&b->vars, in, &key, &why) < 0)
		die_x("%s", why);
	imgw_history(&b->img, what, 1);
	cache_key(b->key, key, b->key);
	free(key);
	free(what);
}

/* 3. The config and manifest; the image where it was asked: run's store
 * (under -t NAME, else its short id), or -o (image-write.c). */
static void write_image(struct build *b)
{
	char *why = NULL, *name = NULL;

	if (imgw_finish(&b->img, &why) < 0 ||
	    imgw_deliver(&b->img, b->o->output, b->o->tag, &b->layers, &name, &why) < 0)
		die_x("%s", why);
	if (b->o->output)
		printf("Written to %s\n", b->o->output);
	printf("Successfully built %.12s (manifest %s)\n", b->img.config_digest + 7,
	       b->img.manifest_digest);
	if (name)
		printf("Successfully tagged %s\n", name);
	free(name);
}

/* 1. The options (build-config.c), checked before anything is made. */
static void parse_args(int argc, char **argv, struct build_options *o)
{
	char *why = NULL;
	int r = buildopts_parse(argc, argv, o, &why);

	if (r == BUILDOPTS_HELP || r == BUILDOPTS_VERSION) {
		if (r == BUILDOPTS_HELP)
			fputs(buildopts_usage, stdout);
		else
			print_version();
		exit(0);
	}
	if (r < 0 && !why) {
		fprintf(stderr, "Try 'img-build --help'.\n");
		exit(EXIT_TOOL_FAILED);
	}
	if (r < 0)
		die_x("%s", why);
}
