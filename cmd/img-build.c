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
 * directory and stops the build with its exit status.  As an ordinary
 * user, all of this happens as root of a user namespace of its own
 * (enter_user_namespace, at the end).
 *
 * Read: Documentation/filesystems/overlayfs.rst ("whiteouts and opaque
 * directories"), mount(2), the Dockerfile reference, and the OCI image
 * spec's layer.md and config.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build-cache.h"
#include "build-config.h"
#include "build-context.h"
#include "build-step.h"
#include "chain.h"
#include "cmdline.h"
#include "dockerfile.h"
#include "image-write.h"
#include "layer-write.h"
#include "minidock.h"
#include "runimage.h"
#include "store.h"

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
static void enter_user_namespace(char **argv, const struct build_options *o);
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
	char *why = NULL;

	md_init("img-build");
	parse_args(argc, argv, &o);
	if (geteuid() != 0)
		enter_user_namespace(argv, &o);
	if (step_build_name(b.name, &b.epoch, &why) < 0)
		die_x("%s", why);
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
		struct timespec t0;

		step_announce(i, b.df.n, in, &t0);      /* "Step 3/7 : RUN ..." */
		if (!strcmp(in->keyword, "FROM"))
			from_image(&b, in);
		else if (!strcmp(in->keyword, "RUN"))
			run_step(&b, in);
		else if (!strcmp(in->keyword, "COPY") || !strcmp(in->keyword, "ADD"))
			copy_step(&b, in);
		else
			set_config(&b, in);
		step_report_time(&t0);                  /* " ---> 0.42s" */
		if (step_interrupted())
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

/* 1. The options (build-config.c), checked before anything is made. */
static void parse_args(int argc, char **argv, struct build_options *o)
{
	char *why = NULL;
	int r = buildopts_parse(argc, argv, o, &why);

	cmdline_end(r, buildopts_usage, why);   /* --help, --version, bad: exit */
}

/*
 * As an ordinary user: img-build again, as root of a user namespace of
 * its own with a mount namespace (ns-enter --userns --mount, as buildah
 * unshare), where it may mount each step's overlayfs (Linux 5.11; its
 * attributes user.overlay.*) and own files of the image's users (the
 * range of /etc/subuid).  Its images go to the user's store (store.h).
 */
static void enter_user_namespace(char **argv, const struct build_options *o)
{
	struct strv args = { 0 };
	char *why = NULL;

	if (step_userns_command(argv, o->network, &args, &why) < 0)
		die_x("%s", why);
	vlog("rootless: execv(\"%s\", \"--userns --mount --privileged -- %s ...\")",
	     args.v[0], args.v[md_verbose ? 6 : 5]);
	execv(args.v[0], args.v);
	die("execv %s", args.v[0]);
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
	if (state_name && step_remove_state(state_name) < 0)
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
	char *why = NULL;

	if (df_load(path, &b->df, &why) < 0)
		die_x("%s", why);
	b->vars = (struct build_vars){ .build_args = &b->o->build_args, .escape = b->df.escape,
				       .file = path };
	if (ctx_open(&b->ctx, b->o->context, &why) < 0)
		die_x("%s", why);
	if (atexit(clean_up) != 0)
		die_x("atexit: failed");
}

/* The words of IN, $NAME replaced (build-config.c). */
static void words_of(struct build *b, const struct df_instr *in, int split, struct strv *w)
{
	char *why = NULL;

	if (bvars_words(&b->vars, in, split, w, &why) < 0)
		die_x("%s", why);
}

/* 2. FROM: the base image, found as `run` finds it (runimage.h); each of
 * its layers tarred once into a blob (build-cache.c).  scratch: nothing. */
static void from_image(struct build *b, const struct df_instr *in)
{
	struct run_image base = { 0 };
	struct strv w = { 0 };
	char *why = NULL;
	int scratch;

	words_of(b, in, 1, &w);
	if (w.n == 3 && strcasecmp(w.v[1], "AS"))
		die_x("%s:%d: FROM: expected IMAGE [AS NAME]", b->o->file, in->line);
	scratch = !strcmp(w.v[0], "scratch");
	if (!scratch && runimage_find(w.v[0], store_rootless(), &base, &why) < 0)
		die_x("%s:%d: FROM %s: %s", b->o->file, in->line, w.v[0], why);
	/* scratch: no config, no layer, an empty image. */
	imgw_init(&b->img, base.config, b->blobs, b->epoch);
	bvars_from(&b->vars, &b->img);
	cache_from_key(b->epoch, base.config, b->key);
	if (scratch)
		printf(" ---> scratch: an empty image\n");
	else if (cache_base_layers(w.v[0], &base.layers, b->epoch, b->blobs, &b->img, &b->layers,
				   b->key, &why) < 0)
		die_x("FROM %s: %s", w.v[0], why);
	else
		printf(" ---> %s: %zu layer%s\n", w.v[0], base.layers.n,
		       base.layers.n == 1 ? "" : "s");
	runimage_free(&base);
	strv_free(&w);
}

/* ---- a step's layer: the upper directory of an overlayfs mount ---- */

/* mount(2) overlay: the layers so far under an empty upper directory, at
 * MERGED (its directories and options: build-step.c). */
static void mount_step(struct build *b)
{
	char *opts;

	work_dir = xasprintf("%s/build/%s", md_lib_dir(), b->name);
	if (!(opts = step_overlay_options(work_dir, &b->layers)))
		die("%s: the step's directories and overlayfs options (%zu layers)", work_dir,
		    b->layers.n);
	merged = xasprintf("%s/merged", work_dir);
	vlog("mount(\"overlay\", \"%s\", \"overlay\", 0, \"%s\")", merged, opts);
	if (mount("overlay", merged, "overlay", 0, opts) < 0) {
		free(merged);
		merged = NULL;
		die("mount overlay on %s/merged%s", work_dir, store_rootless() ?
		    " (rootless: overlayfs in a user namespace, Linux 5.11 or later)" : "");
	}
	free(opts);
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
	if (!(dir = cache_new_layer_dir(blob.diff_id)))
		die("mkdir -p %s/layers/sha256", md_lib_dir());
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

/* The cache: the layer this very step made before, if any. */
static int cached(struct build *b, const char *key, const char *what, const char *content)
{
	struct layer_blob blob;

	if (!cache_use(b->key, key, what, content, b->o->no_cache, &blob))
		return 0;
	printf(" ---> Using cache: layer %.19s\n", blob.diff_id);
	add_layer(b, &blob, what, key);
	return 1;
}

/* RUN: the command in a container over MERGED, the chain of `run`
 * (chain_build, in step_chain: build-step.c): cg-limit --devices
 * container -- ns-enter --all ... -- CMD, started by fork(2), execve(2). */
static int run_container(struct build *b, const struct strv *cmd)
{
	struct strv envp = { 0 };
	struct chain chain;
	char *why = NULL;
	pid_t pid;
	int code, devnull;

	state_name = b->name;   /* its runtime directory, removed by clean_up */
	if (step_chain(b->name, merged, b->o->network, &b->vars, cmd, &chain, &envp, &why) < 0)
		die_x("%s", why);
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
	if (step_remove_state(b->name) < 0)
		warn_errno("rm -rf %s/%s", md_run_dir(), b->name);
	state_name = NULL;
	chain_free(&chain);
	strv_free(&envp);
	return code;
}

static void run_step(struct build *b, const struct df_instr *in)
{
	struct strv cmd = { 0 };
	int existed[STEP_MOUNT_POINTS] = { 0 };
	char key[DIGEST_LEN], *what, *upper;
	int code;

	/* The JSON form as written, else /bin/sh -c TEXT (build-config.c). */
	what = bvars_run_command(in, &cmd);
	cache_key(b->key, what, key);
	if (!cached(b, key, what, "")) {
		mount_step(b);
		/* What ns-enter mounts things on (/dev, /proc, /etc/hosts...) is
		 * not the step's work: removed after, when the image had none. */
		if (step_note_mount_points(merged, existed) < 0)
			die("open %s", merged);
		code = run_container(b, &cmd);
		if (code != 0) {
			/* As docker build: the step named, its status passed on. */
			warn_x("%s:%d: RUN %s: the command returned a non-zero code: %d",
			       b->o->file, in->line, in->text, code);
			exit(code);
		}
		upper = xasprintf("%s/upper", work_dir);
		step_clear_mount_points(upper, existed);
		free(upper);
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
	const char *workdir = imgw_getstring(&b->img, "WorkingDir");
	const char *chown_spec = df_flag(in, "chown");
	struct strv w = { 0 }, sources = { 0 };
	char content[DIGEST_LEN], key[DIGEST_LEN], *what = df_text(in), *dest, *why, *k;
	int add = !strcmp(in->keyword, "ADD");

	words_of(b, in, 1, &w);
	dest = w.v[--w.n];      /* past W's end, still in its array: no leak at die_x */
	if (ctx_sources(&b->ctx, &w, &sources, &why) < 0 ||
	    ctx_digest(&b->ctx, &sources, content, &why) < 0)
		die_x("%s:%d: %s: %s", b->o->file, in->line, in->keyword, why);
	cache_key_content(b->key, what, content, key);
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
	step_report_image(&b->img, b->o->output, name);
	free(name);
}
