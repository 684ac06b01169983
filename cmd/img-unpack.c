/*
 * img-unpack - a container image, unpacked to a root filesystem.
 *
 * An image is not magic: it is a few JSON files and some tarballs, as the
 * OCI image specification says (github.com/opencontainers/image-spec):
 *
 *   index.json ──> manifest ──> config    Env, Cmd, WorkingDir... and
 *                     │                   rootfs.diff_ids
 *                     └──> layers         tar (often gzip or zstd), lowest first
 *
 * Every file (a "blob") is named by the sha256 of its content, its digest:
 * blobs/sha256/<hex>.  A manifest names its config and layers by digest, so
 * checking each digest checks the whole image.  `docker save` writes the
 * same pieces (before Docker 25 with a manifest.json and <id>/layer.tar).
 * Unpacking an image is applying its layers in order into an empty
 * directory: what `ns-enter --root` (pivot_root) makes a container's "/".
 * A layer is a tar of what changed: new or changed files, and "whiteouts"
 * for what was deleted.  One layer (common/layer.c, img_apply_layer):
 *
 *   blob ──> gunzip/unzstd ──> tar entries ──> each entry, below DEST:
 *    │       (a thread)          │             file          openat(O_CREAT|O_EXCL)
 *   sha256 = the digest         sha256 =       dir, link     mkdirat, symlinkat
 *   the manifest names          the diff_id    .wh.NAME      unlinkat NAME
 *                               of the config  .wh..wh..opq  empty the directory
 *
 * A layer comes from strangers, so every path in it is resolved inside
 * the destination by the kernel itself: openat2(2) with RESOLVE_IN_ROOT
 * makes "..", "/" and every symlink on the way stay below it.
 * With --layers, each layer gets a directory of its own, in the form
 * overlayfs(5) stacks (whiteouts as 0/0 character devices and the
 * trusted.overlay.opaque xattr): what `run` mounts, as Docker's overlay2.
 *
 * The rest: common/image-source.c (docker save, OCI layouts, tarballs,
 * standard input), image.c (index -> manifest -> config), image-config.c
 * (the JSON), decompress.c (the thread).
 * Read: openat2(2), path_resolution(7), overlayfs (kernel
 * Documentation/filesystems/overlayfs.rst), tar(5), and the image spec's
 * image-layout.md, manifest.md, config.md and layer.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "minidock.h"
#include "progress.h"

#define DEFAULT_MAX_SIZE (64ULL << 30)

struct options {
	const char *image;
	const char *dest;           /* IMAGE DEST */
	const char *store;          /* --layers STOREDIR */
	const char *tag;
	const char *config;         /* --config FILE */
	int inspect, json, verify, progress;
	uint64_t max_size;
};

static void parse_args(int argc, char **argv, struct options *o);
static void check_dest(const struct options *o);
static void remove_partial(void);
static struct img_source *open_image(const struct options *o, struct img_image *img);
static void unpack_to_dest(struct img_source *src, const struct img_image *img,
			   const struct options *o);
static void unpack_to_store(struct img_source *src, const struct img_image *img,
			    const struct options *o);

int main(int argc, char **argv)
{
	struct options o;
	struct img_image img;
	struct img_source *src;

	md_init("img-unpack");
	parse_args(argc, argv, &o);
	check_dest(&o);
	if (atexit(remove_partial) != 0)
		die_x("atexit: failed");

	src = open_image(&o, &img);
	if (o.inspect) {
		if ((o.json ? img_inspect_json(stdout, src, &img, o.image)
			    : img_inspect_text(stdout, src, &img, o.image)) < 0)
			die("--inspect");
	} else {
		if (o.store)
			unpack_to_store(src, &img, &o);
		else
			unpack_to_dest(src, &img, &o);
		if (o.config && img_write_runtime_config(&img.cfg, o.config) < 0)
			die_x("--config %s: cannot write it", o.config);
	}
	img_image_free(&img);
	img_source_close(src);
	if (fflush(stdout) != 0)
		die("stdout");
	return 0;
}

/* ---- what to undo if anything fails (die() exits: atexit runs this) ---- */

static char *partial;           /* a directory to remove on failure */
static int partial_existed;     /* DEST was there (empty): put it back, empty */
static struct stat dest_before;

static void check_dest(const struct options *o)
{
	int empty;

	if (!o->dest)
		return;
	empty = dir_is_empty(o->dest);
	if (empty < 0 && errno != ENOENT)
		die("%s", o->dest);
	if (empty == 0)
		die_x("%s: not empty (refusing to unpack over something)", o->dest);
	partial_existed = empty == 1;
	if (partial_existed && lstat(o->dest, &dest_before) < 0)
		die("%s", o->dest);
}

static void remove_partial(void)
{
	if (!partial)
		return;
	vlog("rm -rf %s (unlinkat(2) below it): nothing half-written is left", partial);
	if (rm_rf(partial) < 0)
		warn_errno("removing %s", partial);
	else if (partial_existed &&
		 (mkdir(partial, dest_before.st_mode & 07777) < 0 ||
		  chmod(partial, dest_before.st_mode & 07777) < 0 ||
		  chown(partial, dest_before.st_uid, dest_before.st_gid) < 0))
		warn_errno("putting back the empty %s", partial);
	free(partial);
	partial = NULL;
}

/*
 * Ctrl-C while unpacking must still remove the half-made DEST: once there
 * is something to remove, the signals are blocked, and checked between
 * chunks (die() then cleans up).
 */
static sigset_t stop_signals;

static void block_stop_signals(void)
{
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &stop_signals, NULL) < 0)
		die("sigprocmask(SIG_BLOCK)");
}

static void check_stop_signals(void)
{
	sigset_t pending;

	if (sigpending(&pending) == 0 &&
	    (sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM) ||
	     sigismember(&pending, SIGHUP)))
		die_x("interrupted");
}

/* ---- the image: index -> manifest -> config (common/image.c) ---- */

static struct img_source *open_image(const struct options *o, struct img_image *img)
{
	struct img_source *src;

	img_source_max_size(o->max_size);
	src = img_source_open(o->image);

	if (!src)
		die_x("%s", img_error());
	vlog("%s: %s", o->image, img_source_format(src));
	if (img_load(src, o->tag, o->verify, img) < 0) {
		img_source_close(src);
		die_x("%s", img_error());
	}
	if (img->manifest.digest)
		vlog("manifest %s%s", img->manifest.digest, o->verify ? " (sha256 verified)" : "");
	if (img->config.path)
		vlog("config %s%s", img->config.path, o->verify && img->config.digest ?
		     " (sha256 verified)" : "");
	return src;
}

/* ---- the layers ---- */

static void apply_layer(struct img_source *src, const struct img_image *img, size_t i,
			int rootfd, int overlay, const struct options *o, char diff_id[DIGEST_LEN]);

/* IMAGE DEST: every layer into the one directory DEST. */
static void unpack_to_dest(struct img_source *src, const struct img_image *img,
			   const struct options *o)
{
	char diff_id[DIGEST_LEN];
	int rootfd;

	if (mkdir(o->dest, 0755) < 0 && !(errno == EEXIST && partial_existed))
		die("mkdir %s", o->dest);
	vlog("mkdir(\"%s\")", o->dest);
	rootfd = open(o->dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0)
		die("open %s", o->dest);
	partial = xstrdup(o->dest);
	block_stop_signals();
	for (size_t i = 0; i < img->nlayers; i++)
		apply_layer(src, img, i, rootfd, 0, o, diff_id);
	close(rootfd);
	free(partial);
	partial = NULL;     /* done: keep it */
}

static char *store_layer(struct img_source *src, const struct img_image *img, size_t i,
			 const char *store, const struct options *o);

/* --layers STOREDIR: each layer in a directory of its own, printed. */
static void unpack_to_store(struct img_source *src, const struct img_image *img,
			    const struct options *o)
{
	char *sub = xasprintf("%s/sha256", o->store), *store, **dirs;
	size_t i;

	if (mkdir_p(sub, 0755) < 0)
		die("mkdir -p %s", sub);
	block_stop_signals();
	free(sub);
	store = realpath(o->store, NULL);
	if (!store)
		die("realpath %s", o->store);
	dirs = xcalloc(img->nlayers, sizeof(char *));
	for (i = 0; i < img->nlayers; i++)
		dirs[i] = store_layer(src, img, i, store, o);
	/* Only now, when every layer is there: the lowest first. */
	for (i = 0; i < img->nlayers; i++) {
		printf("%s\n", dirs[i]);
		free(dirs[i]);
	}
	free(dirs);
	free(store);
}

/*
 * One layer of --layers: unpacked once into a temporary directory beside
 * its final place, then rename(2)d there: the rename is atomic, so
 * another img-unpack (or a crash) never sees half a layer.
 */
static char *store_layer(struct img_source *src, const struct img_image *img, size_t i,
			 const char *store, const struct options *o)
{
	const char *want = i < img->cfg.ndiff_ids ? img->cfg.diff_ids[i] : NULL;
	char diff_id[DIGEST_LEN], *tmp, *final;
	struct stat st;
	int rootfd;

	if (want) {
		final = xasprintf("%s/sha256/%s", store, want + 7);
		if (stat(final, &st) == 0 && S_ISDIR(st.st_mode)) {
			vlog("layer %zu/%zu: %s already in the store, skipped",
			     i + 1, img->nlayers, want);
			return final;
		}
		free(final);
	}
	tmp = xasprintf("%s/sha256/.tmp-XXXXXX", store);
	if (!mkdtemp(tmp))
		die("mkdtemp %s/sha256/.tmp-XXXXXX", store);
	vlog("mkdtemp(\"%s/sha256/%s\")", store, strrchr(tmp, '/') + 1);
	partial = tmp;
	partial_existed = 0;
	rootfd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0 || fchmod(rootfd, 0755) < 0)
		die("open %s", tmp);
	apply_layer(src, img, i, rootfd, 1, o, diff_id);
	close(rootfd);
	final = xasprintf("%s/sha256/%s", store, diff_id + 7);
	if (rename(tmp, final) < 0) {
		if (errno != EEXIST && errno != ENOTEMPTY)
			die("rename %s %s", tmp, final);
		vlog("layer %zu/%zu: %s stored meanwhile by another run", i + 1,
		     img->nlayers, diff_id);
		remove_partial();   /* the same content is there already */
	} else {
		vlog("rename(\"%s\", \"%s\")", tmp, final);
		free(tmp);
	}
	partial = NULL;
	return final;
}

static void show_progress(uint64_t done, void *arg);
static void check_digests(const struct img_image *img, size_t i, const struct img_apply *a,
			  uint64_t bytes, const struct options *o);

/* Layer I into ROOTFD (common/layer.c), then its digests checked. */
static void apply_layer(struct img_source *src, const struct img_image *img, size_t i,
			int rootfd, int overlay, const struct options *o, char diff_id[DIGEST_LEN])
{
	const struct img_desc *d = &img->layers[i];
	char *what = xasprintf("layer %zu/%zu", i + 1, img->nlayers);
	struct progress p = { .what = what, .total = img_layer_size(src, d), .on = o->progress };
	struct img_apply a = {
		.rootfd = rootfd, .overlay = overlay, .max_size = o->max_size,
		.what = what, .progress = show_progress, .progress_arg = &p,
	};
	struct img_reader *r = img_reader_open(src, d->path);

	if (!r)
		die_x("%s: %s", what, img_error());
	vlog("%s: %s, each path resolved by openat2(RESOLVE_IN_ROOT)",
	     what, d->path ? d->path : o->image);
	if (img_apply_layer(r, &a) < 0)
		die_x("%s", img_error());
	progress_end(&p);
	check_digests(img, i, &a, img_reader_bytes(r), o);
	strcpy(diff_id, a.diff_id);
	img_reader_close(r);
	free(what);
}

/* What the layer was (digest, size; diff_id once uncompressed) against
 * what the manifest and the config say it must be. */
static void check_digests(const struct img_image *img, size_t i, const struct img_apply *a,
			  uint64_t bytes, const struct options *o)
{
	const struct img_desc *d = &img->layers[i];
	const char *want = i < img->cfg.ndiff_ids ? img->cfg.diff_ids[i] : NULL;

	if (o->verify && d->digest && strcmp(a->digest, d->digest) != 0)
		die_x("%s %s: digest mismatch: expected %s, content is %s",
		      a->what, d->path, d->digest, a->digest);
	if (o->verify && d->size >= 0 && bytes != (uint64_t)d->size)
		die_x("%s %s: size mismatch: expected %lld bytes, read %llu", a->what, d->path,
		      (long long)d->size, (unsigned long long)bytes);
	if (o->verify && want && strcmp(a->diff_id, want) != 0)
		die_x("%s %s: diff_id mismatch: the config says %s, the uncompressed "
		      "layer is %s", a->what, d->path ? d->path : "", want, a->diff_id);
	vlog("%s: %llu entries, %s compression, %llu bytes%s", a->what,
	     (unsigned long long)a->entries, a->compression, (unsigned long long)bytes,
	     o->verify && (d->digest || want) ? ", sha256 verified" : "");
}

/* Called as the layer is read: Ctrl-C is seen here, and --progress. */
static void show_progress(uint64_t done, void *arg)
{
	check_stop_signals();
	progress_show(arg, done);
}

/* ---- the command line ---- */

static void usage(FILE *out)
{
	fprintf(out,
"Usage: img-unpack [OPTIONS] IMAGE DEST\n"
"       img-unpack --layers STOREDIR [OPTIONS] IMAGE\n"
"       img-unpack --inspect [--json] [--tag NAME[:TAG]] IMAGE\n"
"\n"
"Unpack a container image into DEST (created; it must not hold anything),\n"
"applying its layers in order.  IMAGE is a docker save archive (any Docker\n"
"version), an OCI image layout (directory or tar), a root filesystem\n"
"tarball (.tar, .tar.gz, .tar.zst), or - for standard input.\n"
"\n"
"  -t, --tag NAME[:TAG]   the image to use when IMAGE holds several\n"
"  -c, --config FILE      write the image's runtime config (Env, Entrypoint,\n"
"                         Cmd, WorkingDir, User, ExposedPorts, Labels) as JSON\n"
"  -l, --layers STOREDIR  store each layer once, in overlayfs form, as\n"
"                         STOREDIR/sha256/<diff_id hex>/, and print the layer\n"
"                         directories, lowest first, one per line\n"
"  -i, --inspect          print the tags, layers, config and history; unpack\n"
"                         nothing\n"
"  -j, --json             with --inspect: as JSON\n"
"      --no-verify        do not check the sha256 digests\n"
"      --max-size SIZE    refuse a layer larger than SIZE uncompressed\n"
"                         (default 64G: the bound against gzip bombs)\n"
"  -p, --progress         a progress line per layer (default on a terminal)\n"
"  -v, --verbose          print each step\n"
"  -h, --help             this help\n"
"  -V, --version          print the version\n"
"\n"
"Examples:\n"
"  docker save busybox | img-unpack - rootfs\n"
"  img-unpack --config config.json images/build/busybox-oci rootfs\n"
"  img-unpack --layers /var/lib/minidock/layers images/build/layers.tar\n"
"\n"
"Exit status: 0, or 125 when anything failed (DEST is then removed).\n");
}

static void parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_NO_VERIFY = 256, OPT_MAX_SIZE };
	static const struct option longopts[] = {
		{ "tag", required_argument, NULL, 't' },
		{ "config", required_argument, NULL, 'c' },
		{ "layers", required_argument, NULL, 'l' },
		{ "inspect", no_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "no-verify", no_argument, NULL, OPT_NO_VERIFY },
		{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
		{ "progress", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c, want;

	memset(o, 0, sizeof(*o));
	o->verify = 1;
	o->max_size = DEFAULT_MAX_SIZE;
	o->progress = isatty(STDERR_FILENO);
	while ((c = getopt_long(argc, argv, "+t:c:l:ijpvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 't': o->tag = optarg; break;
		case 'c': o->config = optarg; break;
		case 'l': o->store = optarg; break;
		case 'i': o->inspect = 1; break;
		case 'j': o->json = 1; break;
		case OPT_NO_VERIFY: o->verify = 0; break;
		case OPT_MAX_SIZE: o->max_size = size_option("--max-size", optarg); break;
		case 'p': o->progress = 1; break;
		default: common_option(c, usage);
		}
	}
	if (md_verbose)
		o->progress = 0;    /* the step lines say it already */
	want = (o->inspect || o->store) ? 1 : 2;
	if (argc - optind != want)
		die_x("expected %s, got %d argument%s (see --help)",
		      want == 1 ? "IMAGE" : "IMAGE DEST", argc - optind,
		      argc - optind == 1 ? "" : "s");
	if (o->inspect && o->store)
		die_x("--inspect and --layers do not go together");
	if (o->json && !o->inspect)
		die_x("--json goes with --inspect");
	o->image = argv[optind];
	o->dest = want == 2 ? argv[optind + 1] : NULL;
}
