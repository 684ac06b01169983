/*
 * img-push - an image, sent to a registry: `docker push`.
 *
 * Pushing is pulling backwards (see img-pull.c), blobs first, manifest
 * last, so that a registry never holds a manifest naming a missing blob:
 *
 *   HEAD /v2/NAME/blobs/DIGEST          already there? (a layer shared
 *                                       with another image): skipped
 *   POST /v2/NAME/blobs/uploads/   ──>  202, Location: where to upload
 *   PUT  LOCATION?digest=DIGEST    ──>  the whole blob in one request;
 *                                       the registry checks the digest
 *   PUT  /v2/NAME/manifests/TAG    ──>  the manifest: the tag now names it
 *
 * The image comes from run's store (a name img-pull gave, or one run
 * imported), or from a file or directory img-unpack reads (an OCI layout,
 * a docker-archive...).  A docker save archive has no manifest of the
 * distribution kind: one is written (OCI, its layers as they are).
 *
 * The rest: common/registry.c (HTTP, auth), image-source.c and image.c
 * (reading the image, as img-unpack does).
 * Read: the OCI distribution spec (spec.md, "Push"), curl_easy_setopt(3).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "imagestore.h"
#include "minidock.h"
#include "registry.h"

#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"

struct options {
	const char *src, *dest;
	uint64_t chunk;             /* --chunk-size: larger blobs go in PATCHes */
	struct reg_options reg;
};

/* One blob to send: its bytes in an unnamed temporary file. */
struct blob {
	char digest[DIGEST_LEN];
	uint64_t size;
	int fd;
	char *media_type;
};

static void parse_args(int argc, char **argv, struct options *o);
static char *find_source(const char *src, char **tag);
static void read_blob(struct img_source *src, const char *path, const char *what,
		      struct blob *b);
static char *manifest_of(struct img_source *src, const struct img_image *img,
			 struct blob *config, struct blob *layers, char **media_type, size_t *len);
static void push_blob(struct reg *r, const struct blob *b, const char *what, uint64_t chunk);

int main(int argc, char **argv)
{
	/* static: still reachable when die() exits on the way (no leak). */
	static struct options o;
	static struct reg_ref ref;
	static struct img_source *src;
	static struct img_image img;
	static struct blob config = { .fd = -1 }, *layers;
	static struct reg *r;
	static char *why, *path, *tag, *manifest, *mt, digest[DIGEST_LEN];
	size_t len, i;

	md_init("img-push");
	parse_args(argc, argv, &o);
	if (reg_ref_parse(o.dest, &ref, &why) < 0)
		die_x("%s", why);
	if (ref.digest)
		die_x("%s: push to a tag, not a digest (the registry computes it)", o.dest);

	/* 1. The image, read as img-unpack reads it. */
	path = find_source(o.src, &tag);
	src = img_source_open(path);
	if (!src)
		die_x("%s", img_error());
	if (img_source_kind(src) == IMG_ROOTFS)
		die_x("%s: a root filesystem tarball, not an image (no config)", o.src);
	if (img_load(src, tag, 1, &img) < 0)
		die_x("%s", img_error());
	config.media_type = xstrdup(MT_OCI_CONFIG);
	read_blob(src, img.config.path, "config", &config);
	layers = xcalloc(img.nlayers, sizeof(*layers));
	for (i = 0; i < img.nlayers; i++) {
		char *what = xasprintf("layer %zu/%zu", i + 1, img.nlayers);
		read_blob(src, img.layers[i].path, what, &layers[i]);
		free(what);
	}
	manifest = manifest_of(src, &img, &config, layers, &mt, &len);

	/* 2. Blobs first, the manifest last. */
	r = reg_open(&ref, &o.reg);
	if (!r)
		die_x("%s", reg_error());
	push_blob(r, &config, "config", o.chunk);
	for (i = 0; i < img.nlayers; i++) {
		char *what = xasprintf("layer %zu/%zu", i + 1, img.nlayers);
		push_blob(r, &layers[i], what, o.chunk);
		free(what);
	}
	if (reg_put_manifest(r, ref.tag, manifest, len, mt) < 0)
		die_x("%s", reg_error());
	if (sha256_of(manifest, len, digest) < 0)
		die("sha256");
	printf("%s/%s:%s: pushed %s\n", ref.registry, ref.name, ref.tag, digest);

	reg_close(r);
	for (i = 0; i < img.nlayers; i++) {
		close(layers[i].fd);
		free(layers[i].media_type);
	}
	free(layers);
	close(config.fd);
	free(config.media_type);
	free(manifest);
	free(mt);
	img_image_free(&img);
	img_source_close(src);
	free(tag);
	free(path);
	reg_ref_free(&ref);
	if (fflush(stdout) != 0)
		die("stdout");
	return 0;
}

/* ---- where the image is ---- */

/*
 * SRC: a file or directory; a reference img-pull stored (in the store's
 * OCI layout, TAG the whole reference); or the name of an image run
 * imported (the file it came from).
 */
static char *find_source(const char *src, char **tag)
{
	struct reg_ref ref;
	char *why = NULL, *p;

	if (access(src, F_OK) == 0)
		return xstrdup(src);
	if (reg_ref_parse(src, &ref, &why) == 0) {
		char *full = reg_ref_string(&ref), *name = reg_ref_store_name(&ref);
		char *f = xasprintf("%s/images/%s/ref", md_lib_dir(), name);
		int pulled = access(f, F_OK) == 0;
		free(f);
		free(name);
		reg_ref_free(&ref);
		if (pulled) {
			*tag = full;
			return store_layout();
		}
		free(full);
	}
	free(why);
	if (valid_name(src)) {
		char *f = xasprintf("%s/images/%s/source", md_lib_dir(), src);
		p = read_file(f, NULL);
		free(f);
		if (p)
			return p;
	}
	die_x("%s: no such image (neither a file nor an image of %s/images)", src, md_lib_dir());
}

/* ---- the blobs, each copied once to a temporary file and hashed ---- */

static void read_blob(struct img_source *src, const char *path, const char *what,
		      struct blob *b)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct img_reader *rd = img_reader_open(src, path);
	const void *buf;
	ssize_t n;
	unsigned char head[4] = { 0 };

	if (!rd)
		die_x("%s: %s", what, img_error());
	b->fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (b->fd < 0)
		die("open(%s, O_TMPFILE)", tmp);
	while ((n = img_reader_next(rd, &buf)) > 0) {
		if (b->size == 0)
			memcpy(head, buf, n < 4 ? (size_t)n : 4);
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(b->fd, (const char *)buf + done, (size_t)(n - done));
			if (w < 0 && errno != EINTR)
				die("%s: writing to %s", what, tmp);
			done += w > 0 ? w : 0;
		}
		b->size += (uint64_t)n;
	}
	if (n < 0 || img_reader_digest(rd, b->digest) < 0)
		die_x("%s: %s", what, img_error());
	img_reader_close(rd);
	/* The compression, by content: what the media type must say. */
	if (!b->media_type)
		b->media_type = xstrdup(head[0] == 0x1f && head[1] == 0x8b
					? "application/vnd.oci.image.layer.v1.tar+gzip"
					: head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f
					? "application/vnd.oci.image.layer.v1.tar+zstd"
					: "application/vnd.oci.image.layer.v1.tar");
	vlog("%s: %s, %llu bytes, %s", what, path ? path : "-", (unsigned long long)b->size,
	     b->digest);
}

/*
 * The manifest to push: the image's own when it has one (its digest stays
 * the same), else an OCI manifest written for it.
 */
static char *manifest_of(struct img_source *src, const struct img_image *img,
			 struct blob *config, struct blob *layers, char **media_type, size_t *len)
{
	json_t *m, *list, *j;
	char *out;

	if (img->manifest.path) {
		out = img_source_read(src, img->manifest.path, MANIFEST_MAX, len);
		j = out ? json_loads(out, 0, NULL) : NULL;
		if (!j)
			die_x("manifest %s: not JSON", img->manifest.path);
		*media_type = xstrdup(json_string_value(json_object_get(j, "mediaType")) ?
				      json_string_value(json_object_get(j, "mediaType")) :
				      MT_OCI_MANIFEST);
		json_decref(j);
		return out;
	}
	list = json_array();
	for (size_t i = 0; i < img->nlayers; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:I}", "mediaType",
						      layers[i].media_type, "digest",
						      layers[i].digest, "size",
						      (json_int_t)layers[i].size));
	m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
		      MT_OCI_MANIFEST, "config", "mediaType", config->media_type, "digest",
		      config->digest, "size", (json_int_t)config->size, "layers", list);
	out = m ? json_dumps(m, JSON_COMPACT) : NULL;
	if (!out)
		die_x("writing the manifest: out of memory");
	json_decref(m);
	vlog("no manifest of the registry kind in the image: an OCI one written");
	*media_type = xstrdup(MT_OCI_MANIFEST);
	*len = strlen(out);
	return out;
}

static void push_blob(struct reg *r, const struct blob *b, const char *what, uint64_t chunk)
{
	int has = reg_has_blob(r, b->digest);

	if (has < 0)
		die_x("%s: %s", what, reg_error());
	if (has) {
		vlog("%s %s: the registry has it already, not sent", what, b->digest);
		return;
	}
	if (reg_put_blob(r, b->digest, b->fd, b->size, chunk) < 0)
		die_x("%s: %s", what, reg_error());
	vlog("%s %s: %llu bytes sent%s", what, b->digest, (unsigned long long)b->size,
	     chunk && b->size > chunk ? ", in chunks (PATCH)" : "");
}

/* ---- the command line ---- */

static void usage(FILE *out)
{
	fprintf(out,
"Usage: img-push [OPTIONS] SRC REF\n"
"\n"
"Send the image SRC to a registry as REF = [REGISTRY[:PORT]/]NAME[:TAG].\n"
"SRC is an image of run's store (a reference img-pull fetched, or a name\n"
"run imported), or what img-unpack reads: an OCI layout (directory or\n"
"tar), a docker save or docker-archive file.  Blobs the registry has are\n"
"not sent again; the manifest goes last.\n"
"\n"
"  -u, --user USER:PASSWORD credentials (default: ~/.docker/config.json)\n"
"      --insecure           plain HTTP allowed (always for localhost)\n"
"      --ca-cert FILE       trust the certificates signed by FILE too\n"
"      --chunk-size SIZE    a blob larger than SIZE goes in PATCH requests of\n"
"                           SIZE bytes (default 32M; 0: always in one PUT)\n"
"  -v, --verbose            print each HTTP request\n"
"  -h, --help               this help\n"
"  -V, --version            print the version\n"
"\n"
"Examples:\n"
"  img-push images/build/busybox-oci localhost:5000/busybox:1.36\n"
"  img-push localhost:5000/busybox localhost:5000/copy:latest\n"
"\n"
"Exit status: 0, or 125 when anything failed.\n");
}

static void parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_CHUNK = 256 };
	static const struct option longopts[] = {
		REG_LONGOPTS,
		{ "chunk-size", required_argument, NULL, OPT_CHUNK },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->chunk = 32ULL << 20;
	reg_options_init(&o->reg);
	o->reg.push = 1;
	while ((c = getopt_long(argc, argv, "+u:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CHUNK:
			o->chunk = strcmp(optarg, "0") ? size_option("--chunk-size", optarg) : 0;
			break;
		default:
			if (!reg_option(c, optarg, &o->reg))
				common_option(c, usage);
		}
	}
	if (argc - optind != 2)
		die_x("expected SRC REF, got %d argument%s (see --help)", argc - optind,
		      argc - optind == 1 ? "" : "s");
	o->src = argv[optind];
	o->dest = argv[optind + 1];
}
