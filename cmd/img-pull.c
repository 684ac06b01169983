/*
 * img-pull - an image, fetched from a registry: `docker pull`.
 *
 * A registry is a web server holding images the way an OCI layout does,
 * each piece named by its sha256 digest (the OCI distribution spec):
 *
 *   GET /v2/                          401? then log in (a bearer token)
 *   GET /v2/NAME/manifests/TAG   ──>  an image index: one manifest per
 *        │                            platform (linux/amd64, linux/arm64...)
 *        └─> GET manifests/DIGEST ──> the manifest: config + layers
 *   GET /v2/NAME/blobs/DIGEST    ──>  the config, then the layers,
 *                                     three at once, one line each
 *
 * A tag ("latest") may move; a digest never does: what comes back is
 * hashed as it streams and must have the digest asked for, so a lying or
 * broken registry is caught before anything is kept.  Each blob is written
 * to a temporary file and renamed into place only once checked.
 * Then the image is stored the way `run` wants it (img-unpack --layers,
 * common/runimage.c), so `run REF` starts it.
 *
 * docker.io is Docker Hub (registry-1.docker.io, library/NAME), or the
 * mirror MINIDOCK_REGISTRY_MIRROR names.  -o oci-archive:FILE packs the
 * layout into a tar file.
 *
 * The rest: common/registry.c (the API, blobs), registry-http.c (one
 * request, the auth), pull-layers.c (the blobs fetched in parallel),
 * imagestore.c (the OCI layout of pulled images), imageref.c (references).
 * Read: the OCI distribution spec (spec.md), the image spec's
 * image-index.md and manifest.md, curl_easy_setopt(3).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image-write.h"
#include "image.h"
#include "imagestore.h"
#include "minidock.h"
#include "pull-layers.h"
#include "registry.h"
#include "runimage.h"
#include "store.h"

struct options {
	const char *ref;
	const char *out;            /* -o oci:DIR, oci-archive:FILE; NULL: the store */
	const char *os, *arch, *variant;    /* --platform */
	uint64_t max_size;
	int progress;
	struct reg_options reg;
};

/* What was fetched: the manifest chosen, and its pieces. */
struct pulled {
	char *manifest;
	size_t len;
	char *media_type;
	char digest[DIGEST_LEN];    /* of the manifest as kept */
	char remote[DIGEST_LEN];    /* of the manifest as the registry has it */
	struct img_desc config;
	struct img_desc *layers;
	size_t nlayers;
};

static void parse_args(int argc, char **argv, struct options *o);
static void fetch_manifest(struct reg *r, const struct reg_ref *ref,
			   const struct options *o, struct pulled *p);
static void fetch_blobs(struct reg *r, const char *layout, const struct options *o,
			struct pulled *p);
static void record(const char *layout, const char *name, const struct pulled *p);
static void import_to_store(const char *layout, const char *name, const struct reg_ref *ref,
			    const struct pulled *p);

/* -o oci-archive:FILE: the layout packed into FILE, removed at exit. */
static char *packing;

static void remove_packing(void)
{
	if (packing && rm_rf(packing) < 0)
		warn_errno("rm -rf %s", packing);
}

int main(int argc, char **argv)
{
	/* static: still reachable when die() exits on the way (no leak). */
	static struct options o;
	static struct reg_ref ref;
	static struct pulled p;
	static struct reg *r;
	static char *why, *layout, *full;

	md_init("img-pull");
	parse_args(argc, argv, &o);
	if (reg_ref_parse(o.ref, &ref, &why) < 0)
		die_x("%s", why);
	full = reg_ref_string(&ref);
	r = reg_open(&ref, &o.reg);
	if (!r)
		die_x("%s", reg_error());
	fetch_manifest(r, &ref, &o, &p);
	/* Only now, once the registry let us in and has the image.  An
	 * oci-archive is a layout packed: one beside FILE first. */
	if (o.out && !strncmp(o.out, "oci-archive:", 12)) {
		layout = packing = xasprintf("%s.layout-%d", o.out + 12, (int)getpid());
		if (atexit(remove_packing) != 0)
			die("atexit");
	} else {
		layout = o.out ? xstrdup(o.out + 4) : store_layout();
	}
	if (layout_init(layout) < 0)
		die("%s: cannot make it an OCI layout", layout);
	fetch_blobs(r, layout, &o, &p);
	reg_close(r);

	/* -o oci:DIR names it by its tag, as skopeo does; the store by the
	 * whole reference. */
	record(layout, o.out ? (ref.tag ? ref.tag : ref.digest) : full, &p);
	if (!o.out)
		import_to_store(layout, full, &ref, &p);
	if (packing && layout_write_archive(layout, o.out + 12, &why) < 0)
		die_x("-o %s: %s", o.out, why);
	remove_packing();
	packing = NULL;
	printf("%s: pulled %s\n", full, p.remote);

	img_desc_free(&p.config);
	img_descs_free(p.layers, p.nlayers);
	free(p.manifest);
	free(p.media_type);
	free(layout);
	free(full);
	reg_ref_free(&ref);
	if (fflush(stdout) != 0)
		die("stdout");
	return 0;
}

/* ---- the manifest: by tag or digest, through an image index ---- */

static int is_index(const char *media_type, const char *buf, size_t len)
{
	return !strcmp(media_type, MT_OCI_INDEX) || !strcmp(media_type, MT_DOCKER_LIST) ||
	       (!*media_type && img_json_is_index(buf, len));
}

/* The entry of the index for the platform asked (default linux/this
 * machine), or -1. */
static int pick_platform(const struct img_desc *d, size_t n, const struct options *o)
{
	for (size_t i = 0; i < n; i++)
		if (d[i].os && !strcmp(d[i].os, o->os) && d[i].arch && !strcmp(d[i].arch, o->arch) &&
		    (!o->variant || (d[i].variant && !strcmp(d[i].variant, o->variant))))
			return (int)i;
	return -1;
}

/*
 * A Docker schema 2 manifest kept as an OCI one (as skopeo does): the same
 * config and layers, under the OCI media types, so that umoci and skopeo
 * read the layout.  Its digest changes: it is another document.
 */
static void to_oci(struct pulled *p)
{
	json_t *m = json_loadb(p->manifest, p->len, 0, NULL), *l;
	size_t i;
	char *out;

	if (!m)
		die_x("manifest %s: not JSON", p->digest);
	json_object_set_new(m, "mediaType", json_string(MT_OCI_MANIFEST));
	json_object_set_new(json_object_get(m, "config"), "mediaType",
			    json_string("application/vnd.oci.image.config.v1+json"));
	json_array_foreach(json_object_get(m, "layers"), i, l) {
		const char *t = json_string_value(json_object_get(l, "mediaType"));
		if (t && !strcmp(t, "application/vnd.docker.image.rootfs.diff.tar.gzip"))
			json_object_set_new(l, "mediaType",
					    json_string("application/vnd.oci.image.layer.v1.tar+gzip"));
	}
	out = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	if (!out || sha256_of(out, strlen(out), p->digest) < 0)
		die("manifest %s: as OCI", p->remote);
	vlog("Docker schema 2 manifest %s kept as OCI manifest %s", p->remote, p->digest);
	free(p->manifest);
	free(p->media_type);
	p->manifest = out;
	p->len = strlen(out);
	p->media_type = xstrdup(MT_OCI_MANIFEST);
}

static void fetch_manifest(struct reg *r, const struct reg_ref *ref,
			   const struct options *o, struct pulled *p)
{
	const char *which = ref->digest ? ref->digest : ref->tag;
	char *buf = reg_get_manifest(r, which, &p->len, &p->media_type, p->digest);

	if (!buf)
		die_x("%s", reg_error());
	vlog("manifest %s: %s, %zu bytes, %s", which, p->media_type, p->len, p->digest);
	if (is_index(p->media_type, buf, p->len)) {
		struct img_desc *d;
		size_t n;
		int i;

		if (img_parse_index(buf, p->len, &d, &n) < 0)
			die_x("image index %s: %s", which, img_error());
		i = pick_platform(d, n, o);
		if (i < 0) {
			char *list = xstrdup("");
			for (size_t k = 0; k < n; k++) {
				char *l = xasprintf("%s%s%s/%s", list, k ? ", " : "",
						    d[k].os ? d[k].os : "?", d[k].arch ? d[k].arch : "?");
				free(list);
				list = l;
			}
			die_x("%s: no image for %s/%s%s%s (the index has: %s)", which, o->os, o->arch,
			      o->variant ? "/" : "", o->variant ? o->variant : "", list);
		}
		vlog("image index: %s/%s is manifest %s", o->os, o->arch, d[i].digest);
		free(buf);
		free(p->media_type);
		buf = reg_get_manifest(r, d[i].digest, &p->len, &p->media_type, p->digest);
		img_descs_free(d, n);
		if (!buf)
			die_x("%s", reg_error());
		if (is_index(p->media_type, buf, p->len))
			die_x("manifest %s: an image index inside an image index", p->digest);
	}
	if (img_parse_manifest(buf, p->len, &p->config, &p->layers, &p->nlayers) < 0)
		die_x("manifest %s: %s", p->digest, img_error());
	if (!*p->media_type) {
		free(p->media_type);
		p->media_type = xstrdup(MT_OCI_MANIFEST);
	}
	p->manifest = buf;
	strcpy(p->remote, p->digest);
	if (!strcmp(p->media_type, MT_DOCKER_MANIFEST))
		to_oci(p);
}

/* ---- the blobs: config and layers, each checked, then kept ---- */

/* The config, then the layers a few at once (pull-layers.c), one line
 * each; the manifest last: once it is there, so is all it names. */
static void fetch_blobs(struct reg *r, const char *layout, const struct options *o,
			struct pulled *p)
{
	struct pull_blobs pb = { .reg = r, .layout = layout, .max_size = o->max_size,
				 .tty = o->progress, .quiet = 1, .jobs = 1 };
	char *why;

	if (pull_blobs(&pb, &p->config, 1, "config", &why) < 0)
		die_x("%s", why);
	pb.quiet = md_verbose;
	pb.jobs = PULL_JOBS;
	if (pull_blobs(&pb, p->layers, p->nlayers, "layer", &why) < 0)
		die_x("%s", why);
	if (layout_put_blob(layout, p->digest, p->manifest, p->len) < 0)
		die("manifest %s: writing it into %s", p->digest, layout);
}

/* The manifest named REF in LAYOUT's index.json. */
static void record(const char *layout, const char *name, const struct pulled *p)
{
	json_t *desc = json_pack("{s:s, s:s, s:I}", "mediaType", p->media_type, "digest",
				 p->digest, "size", (json_int_t)p->len);

	if (!desc || layout_set(layout, name, desc) < 0)
		die("%s/index.json: adding %s", layout, name);
	vlog("%s/index.json: %s -> %s", layout, name, p->digest);
	json_decref(desc);
}

/* The store: layers unpacked once (img-unpack --layers), the image named
 * for run; its reference and digest beside it, for `image ls`. */
static void import_to_store(const char *layout, const char *full, const struct reg_ref *ref,
			    const struct pulled *p)
{
	char *name = reg_ref_store_name(ref), *why = NULL;
	char *dir = xasprintf("%s/images/%s", md_lib_dir(), name);
	char *f_ref = xasprintf("%s/ref", dir), *f_digest = xasprintf("%s/digest", dir);
	char *old = read_file(f_digest, NULL), *layers = xasprintf("%s/layers", dir);

	if (old && !strcmp(old, p->remote) && access(layers, F_OK) == 0) {
		vlog("image %s: up to date (%s)", name, p->remote);
	} else if (runimage_import(layout, full, name, store_rootless(), &why) < 0) {
		die_x("%s", why);
	} else if (write_file(f_ref, full) < 0 || write_file(f_digest, p->remote) < 0) {
		die("write %s", f_digest);
	}
	free(layers);
	free(old);
	free(f_digest);
	free(f_ref);
	free(dir);
	free(name);
}

/* ---- the command line ---- */

static void usage(FILE *out)
{
	fprintf(out,
"Usage: img-pull [OPTIONS] REF\n"
"\n"
"Fetch the image REF = [REGISTRY[:PORT]/]NAME[:TAG|@sha256:DIGEST] from a\n"
"registry (default docker.io, library/ for one-word names, tag latest),\n"
"checking every piece against its sha256 digest, into run's store (then\n"
"`run REF` starts it) or into an OCI layout.\n"
"\n"
"  -o, --output oci:DIR     write an OCI image layout (skopeo and umoci read it)\n"
"  -o, --output oci-archive:FILE   the same, packed in a tar file\n"
"      --platform OS/ARCH[/VARIANT]   the image of an index to take\n"
"                           (default linux/ and this machine's architecture)\n"
"  -u, --user USER:PASSWORD credentials (default: ~/.docker/config.json)\n"
"      --insecure           plain HTTP allowed (always for localhost)\n"
"      --ca-cert FILE       trust the certificates signed by FILE too\n"
"      --max-size SIZE      refuse a blob larger than SIZE (default 64G)\n"
"  -p, --progress           the layers' lines redrawn in place, as on a terminal\n"
"                           (default there; elsewhere a line per layer pulled)\n"
"  -v, --verbose            print each HTTP request\n"
"  -h, --help               this help\n"
"  -V, --version            print the version\n"
"\n"
"Examples:\n"
"  img-pull localhost:5000/busybox\n"
"  img-pull --platform linux/arm64 -o oci:busybox-arm localhost:5000/busybox:1.36\n"
"\n"
"Exit status: 0, or 125 when anything failed (nothing half-written is kept).\n");
}

static void parse_platform(const char *s, struct options *o)
{
	static char buf[128];
	char *slash;

	if (strlen(s) >= sizeof(buf) || !(slash = strchr(strcpy(buf, s), '/')))
		die_x("--platform %s: expected OS/ARCH[/VARIANT], like linux/arm64", s);
	*slash = '\0';
	o->os = buf;
	o->arch = slash + 1;
	slash = strchr(slash + 1, '/');
	if (slash) {
		*slash = '\0';
		o->variant = slash + 1;
	}
	if (!*o->os || !*o->arch || (o->variant && !*o->variant))
		die_x("--platform %s: expected OS/ARCH[/VARIANT], like linux/arm64", s);
}

static void parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_PLATFORM = 256, OPT_MAX_SIZE };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		REG_LONGOPTS,
		{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
		{ "progress", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->os = "linux";
	o->arch = img_host_arch();
	o->max_size = 64ULL << 30;
	o->progress = isatty(STDERR_FILENO);
	reg_options_init(&o->reg);
	while ((c = getopt_long(argc, argv, "+o:u:pvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o->out = optarg; break;
		case OPT_PLATFORM: parse_platform(optarg, o); break;
		case OPT_MAX_SIZE: o->max_size = size_option("--max-size", optarg); break;
		case 'p': o->progress = 1; break;
		default:
			if (!reg_option(c, optarg, &o->reg))
				common_option(c, usage);
		}
	}
	if (md_verbose)
		o->progress = 0;
	if (argc - optind != 1)
		die_x("expected REF, got %d arguments (see --help)", argc - optind);
	o->ref = argv[optind];
	if (o->out && (strncmp(o->out, "oci:", 4) || !o->out[4]) &&
	    (strncmp(o->out, "oci-archive:", 12) || !o->out[12]))
		die_x("-o %s: expected oci:DIR or oci-archive:FILE", o->out);
}
