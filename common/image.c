/*
 * image.c - one image of a source, resolved: the tag chosen, then
 * index.json -> (image index ->) manifest -> config, each JSON blob
 * checked against its sha256 digest; and what --inspect prints of it.
 * A docker save archive before Docker 25 has paths instead of
 * descriptors: its manifest.json is followed the same way.
 * Read the OCI image spec's image-layout.md, image-index.md, manifest.md
 * and config.md.  See image.h.  Used by img-unpack.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "digest.h"
#include "image.h"
#include "minidock.h"

#define JSON_MAX (4 << 20)

/* Read blob D (a JSON document), checking its digest when VERIFY. */
static int check_digest(const char *buf, size_t len, const char *want, const char *what)
{
	char got[DIGEST_LEN];

	if (sha256_of(buf, len, got) < 0)
		return img_fail_errno("%s: sha256", what);
	if (strcmp(got, want) != 0)
		return img_fail("%s: digest mismatch: expected %s, content is %s", what, want, got);
	return 0;
}

static char *read_blob(struct img_source *src, const struct img_desc *d, int verify,
		       const char *what, size_t *len)
{
	char *buf = img_source_read(src, d->path, JSON_MAX, len);

	if (!buf)
		return NULL;
	if (verify && d->digest) {
		char *label = xasprintf("%s %s", what, d->path);
		int ok = check_digest(buf, *len, d->digest, label);
		free(label);
		if (ok < 0) {
			free(buf);
			return NULL;
		}
	}
	if (verify && d->size >= 0 && (uint64_t)d->size != *len) {
		img_fail("%s %s: size mismatch: expected %lld bytes, found %zu",
			 what, d->path, (long long)d->size, *len);
		free(buf);
		return NULL;
	}
	return buf;
}

/* "busybox" -> "busybox:latest"; "docker.io/library/x:1" -> "x:1". */
static char *normalize_tag(const char *t)
{
	const char *slash, *colon;

	if (!strncmp(t, "docker.io/", 10))
		t += 10;
	if (!strncmp(t, "library/", 8))
		t += 8;
	slash = strrchr(t, '/');
	colon = strrchr(t, ':');
	if (colon && (!slash || colon > slash))
		return xstrdup(t);
	return xasprintf("%s:latest", t);
}

static int tag_matches(const char *want, const char *have)
{
	char *a, *b;
	int eq;

	if (!have)
		return 0;
	if (!strcmp(want, have))
		return 1;
	a = normalize_tag(want);
	b = normalize_tag(have);
	eq = !strcmp(a, b);
	free(a);
	free(b);
	return eq;
}

static void add_tag(struct img_image *img, const char *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < img->ntags; i++)
		if (!strcmp(img->tags[i], t))
			return;
	img->tags = xrealloc(img->tags, (img->ntags + 1) * sizeof(char *));
	img->tags[img->ntags++] = xstrdup(t);
}

static char *tags_list(const struct img_image *img)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < img->ntags; i++) {
		char *n = xasprintf("%s%s%s", s, i ? ", " : "", img->tags[i]);
		free(s);
		s = n;
	}
	return s;
}

static int no_such_tag(struct img_source *src, struct img_image *img, const char *tag)
{
	char *list = tags_list(img);

	img_fail("%s: no image tagged \"%s\" (tags: %s)", img_source_name(src), tag,
		 img->ntags ? list : "none");
	free(list);
	return -1;
}

static int several_images(struct img_source *src, struct img_image *img)
{
	char *list = tags_list(img);

	img_fail("%s: holds several images, choose one with --tag (tags: %s)", img_source_name(src),
		 img->ntags ? list : "none");
	free(list);
	return -1;
}

/* The Go name of this machine's architecture, as in the OCI "platform". */
const char *img_host_arch(void)
{
	static const struct { const char *uname, *oci; } map[] = {
		{ "x86_64", "amd64" }, { "aarch64", "arm64" }, { "armv7l", "arm" },
		{ "i686", "386" }, { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
		{ "riscv64", "riscv64" },
	};
	static struct utsname u;

	if (uname(&u) == 0)
		for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (!strcmp(u.machine, map[i].uname))
				return map[i].oci;
	return "amd64";
}

/* In an image index, the manifest for linux/<host arch>, else linux/amd64. */
static int pick_platform(struct img_desc *d, size_t n)
{
	const char *want[2] = { img_host_arch(), "amd64" };

	for (int w = 0; w < 2; w++)
		for (size_t i = 0; i < n; i++)
			if (d[i].os && !strcmp(d[i].os, "linux") && d[i].arch &&
			    !strcmp(d[i].arch, want[w]))
				return (int)i;
	for (size_t i = 0; i < n; i++)
		if (!d[i].os && !d[i].arch)
			return (int)i;
	return -1;
}

static int desc_copy(struct img_desc *to, const struct img_desc *from)
{
	memset(to, 0, sizeof(*to));
#define DUP(f) to->f = from->f ? xstrdup(from->f) : NULL
	DUP(media_type); DUP(digest); DUP(path); DUP(os); DUP(arch);
	DUP(variant); DUP(ref_name); DUP(image_name);
#undef DUP
	to->size = from->size;
	return 0;
}

/* From a descriptor of a manifest or of an image index, to a manifest. */
static int resolve_manifest(struct img_source *src, const struct img_desc *start,
			    int verify, struct img_image *img)
{
	struct img_desc cur;
	size_t len;
	int depth;

	desc_copy(&cur, start);
	for (depth = 0; depth < 4; depth++) {
		char *buf = read_blob(src, &cur, verify, "manifest", &len);
		struct img_desc *descs;
		size_t n;
		int i;

		if (!buf)
			goto bad;
		if (!img_json_is_index(buf, len)) {
			int r = img_parse_manifest(buf, len, &img->config, &img->layers, &img->nlayers);
			free(buf);
			if (r < 0) {
				char *m = xstrdup(img_error());
				img_fail("%s: %s: %s", img_source_name(src), cur.path, m);
				free(m);
				goto bad;
			}
			img->manifest = cur;
			return 0;
		}
		/* An image index (a list of per-platform manifests). */
		i = img_parse_index(buf, len, &descs, &n);
		free(buf);
		if (i < 0)
			goto bad;
		i = pick_platform(descs, n);
		if (i < 0) {
			img_descs_free(descs, n);
			img_fail("%s: image index %s: no manifest for linux/%s or linux/amd64",
				 img_source_name(src), cur.path, img_host_arch());
			goto bad;
		}
		vlog("image index %s: manifest %s for %s/%s", cur.path, descs[i].digest,
		     descs[i].os ? descs[i].os : "?", descs[i].arch ? descs[i].arch : "?");
		img_desc_free(&cur);
		desc_copy(&cur, &descs[i]);
		img_descs_free(descs, n);
	}
	img_fail("%s: image indexes nested too deeply", img_source_name(src));
bad:
	img_desc_free(&cur);
	return -1;
}

static int load_oci(struct img_source *src, const char *tag, int verify, struct img_image *img)
{
	size_t len, n, i;
	struct img_desc *descs;
	char *buf = img_source_read(src, "index.json", JSON_MAX, &len);
	int chosen = -1, tagged = 0, r;

	if (!buf)
		return -1;
	r = img_parse_index(buf, len, &descs, &n);
	free(buf);
	if (r < 0) {
		char *m = xstrdup(img_error());
		img_fail("%s: index.json: %s", img_source_name(src), m);
		free(m);
		return -1;
	}
	for (i = 0; i < n; i++) {
		add_tag(img, descs[i].image_name);
		if (!descs[i].image_name)
			add_tag(img, descs[i].ref_name);
		tagged |= descs[i].ref_name || descs[i].image_name;
	}
	if (tag) {
		for (i = 0; i < n && chosen < 0; i++)
			if (tag_matches(tag, descs[i].ref_name) || tag_matches(tag, descs[i].image_name))
				chosen = (int)i;
		if (chosen < 0) {
			img_descs_free(descs, n);
			return no_such_tag(src, img, tag);
		}
		img->tag = xstrdup(tag);
	} else if (n == 1) {
		chosen = 0;
	} else if (!tagged && n > 1) {
		chosen = pick_platform(descs, n);
	} else {
		img_descs_free(descs, n);
		return n ? several_images(src, img) : img_fail("%s: index.json lists no image", img_source_name(src));
	}
	if (chosen < 0) {
		img_descs_free(descs, n);
		return img_fail("%s: index.json: no manifest for linux/%s", img_source_name(src), img_host_arch());
	}
	if (!img->tag && img->ntags == 1)
		img->tag = xstrdup(img->tags[0]);
	r = resolve_manifest(src, &descs[chosen], verify, img);
	img_descs_free(descs, n);
	return r;
}

/* docker save < 25: paths instead of descriptors; the digests we can check
 * are in the names ("<hex>.json", "blobs/sha256/<hex>") and the diff_ids. */
static void docker_path_desc(struct img_desc *d, const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n = strlen(base);
	char *digest = xasprintf("sha256:%.64s", base);

	memset(d, 0, sizeof(*d));
	d->size = -1;
	d->path = xstrdup(path);
	if ((n == 64 || (n == 69 && !strcmp(base + 64, ".json"))) && img_valid_digest(digest))
		d->digest = digest;
	else
		free(digest);
}

/*
 * skopeo's "dir:" format: manifest.json is the image's own manifest (OCI
 * or Docker schema 2, an object, where docker save writes an array), and
 * each blob is a file named by its hex digest beside it.
 */
static int load_skopeo_dir(struct img_source *src, const char *tag, const char *buf,
			   size_t len, struct img_image *img)
{
	if (tag)
		return img_fail("%s: a skopeo dir: image has no tags (--tag %s)",
				img_source_name(src), tag);
	if (img_parse_manifest(buf, len, &img->config, &img->layers, &img->nlayers) < 0) {
		char *m = xstrdup(img_error());
		img_fail("%s: manifest.json: %s", img_source_name(src), m);
		free(m);
		return -1;
	}
	vlog("%s: manifest.json is a manifest, blobs beside it (skopeo's dir: format)",
	     img_source_name(src));
	free(img->config.path);
	img->config.path = xstrdup(img->config.digest + 7);
	for (size_t i = 0; i < img->nlayers; i++) {
		free(img->layers[i].path);
		img->layers[i].path = xstrdup(img->layers[i].digest + 7);
	}
	return 0;
}

static int load_docker(struct img_source *src, const char *tag, int verify, struct img_image *img)
{
	size_t len, n, i, k;
	struct img_docker_entry *ents;
	char *buf = img_source_read(src, "manifest.json", JSON_MAX, &len);
	int chosen = -1, r;

	(void)verify;
	if (!buf)
		return -1;
	if (len > 0 && buf[strspn(buf, " \t\r\n")] == '{') {
		r = load_skopeo_dir(src, tag, buf, len, img);
		free(buf);
		return r;
	}
	r = img_parse_docker_manifest(buf, len, &ents, &n);
	free(buf);
	if (r < 0) {
		char *m = xstrdup(img_error());
		img_fail("%s: %s", img_source_name(src), m);
		free(m);
		return -1;
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < ents[i].ntags; k++)
			add_tag(img, ents[i].tags[k]);
	if (tag) {
		for (i = 0; i < n && chosen < 0; i++)
			for (k = 0; k < ents[i].ntags; k++)
				if (tag_matches(tag, ents[i].tags[k]))
					chosen = (int)i;
		if (chosen < 0) {
			img_docker_entries_free(ents, n);
			return no_such_tag(src, img, tag);
		}
		img->tag = xstrdup(tag);
	} else if (n == 1) {
		chosen = 0;
		if (ents[0].ntags)
			img->tag = xstrdup(ents[0].tags[0]);
	} else {
		img_docker_entries_free(ents, n);
		return n ? several_images(src, img) : img_fail("%s: manifest.json lists no image", img_source_name(src));
	}
	docker_path_desc(&img->config, ents[chosen].config);
	img->nlayers = ents[chosen].nlayers;
	img->layers = xcalloc(img->nlayers, sizeof(*img->layers));
	for (i = 0; i < img->nlayers; i++)
		docker_path_desc(&img->layers[i], ents[chosen].layers[i]);
	img_docker_entries_free(ents, n);
	return 0;
}

int img_load(struct img_source *src, const char *tag, int verify, struct img_image *img)
{
	size_t len;
	int r;

	memset(img, 0, sizeof(*img));
	if (img_source_kind(src) == IMG_ROOTFS) {
		if (tag)
			return img_fail("%s: a root filesystem tarball has no tags (--tag %s)",
					img_source_name(src), tag);
		img->nlayers = 1;
		img->layers = xcalloc(1, sizeof(*img->layers));
		img->layers[0].size = img_source_file_size(src);
		return 0;
	}
	r = img_source_kind(src) == IMG_OCI ? load_oci(src, tag, verify, img)
				 : load_docker(src, tag, verify, img);
	if (r < 0)
		return -1;
	img->config_json = read_blob(src, &img->config, verify, "config", &len);
	if (!img->config_json)
		return -1;
	if (img_parse_config(img->config_json, len, &img->cfg) < 0) {
		char *m = xstrdup(img_error());
		img_fail("%s: %s: %s", img_source_name(src), img->config.path, m);
		free(m);
		return -1;
	}
	if (img->cfg.ndiff_ids != img->nlayers)
		return img_fail("%s: the manifest lists %zu layers, the config %zu diff_ids",
				img_source_name(src), img->nlayers, img->cfg.ndiff_ids);
	return 0;
}

void img_image_free(struct img_image *img)
{
	for (size_t i = 0; i < img->ntags; i++)
		free(img->tags[i]);
	free(img->tags);
	free(img->tag);
	img_desc_free(&img->manifest);
	img_desc_free(&img->config);
	img_descs_free(img->layers, img->nlayers);
	img_config_free(&img->cfg);
	free(img->config_json);
	memset(img, 0, sizeof(*img));
}

int64_t img_layer_size(struct img_source *src, const struct img_desc *d)
{
	if (d->size >= 0)
		return d->size;
	return d->path ? img_source_size(src, d->path) : -1;
}

/* ---- --inspect ---- */

/* The config's history, one entry an instruction of the build that made
 * the image: what made it ("created_by") and whether it made a layer
 * ("empty_layer": ENV, CMD... only change the config).  [] when none. */
static json_t *history_json(const struct img_config *cfg)
{
	json_t *all = json_array(), *h;
	size_t i;

	json_array_foreach(cfg->history, i, h) {
		json_t *by = json_object_get(h, "created_by");

		if (json_is_object(h))
			json_array_append_new(all, json_pack("{s:s?, s:b}", "created_by",
				json_string_value(by), "empty_layer",
				json_is_true(json_object_get(h, "empty_layer"))));
	}
	return all;
}

static void print_history(FILE *out, const struct img_config *cfg)
{
	json_t *all = history_json(cfg), *h;
	size_t i;

	fprintf(out, "history:     %zu\n", json_array_size(all));
	json_array_foreach(all, i, h) {
		const char *by = json_string_value(json_object_get(h, "created_by"));

		fprintf(out, "  %zu. %s%s\n", i + 1, by ? by : "-",
			json_is_true(json_object_get(h, "empty_layer")) ? "  (empty_layer)" : "");
	}
	json_decref(all);
}

int img_inspect_json(FILE *out, struct img_source *src, const struct img_image *img,
		     const char *image)
{
	json_t *j = json_object(), *tags = json_array(), *layers = json_array();
	int r;

	for (size_t i = 0; i < img->ntags; i++)
		json_array_append_new(tags, json_string(img->tags[i]));
	for (size_t i = 0; i < img->nlayers; i++) {
		const struct img_desc *d = &img->layers[i];
		int64_t size = img_layer_size(src, d);
		json_array_append_new(layers, json_pack("{s:s?, s:s?, s:o, s:s?, s:s?}",
			"digest", d->digest, "mediaType", d->media_type,
			"size", size >= 0 ? json_integer(size) : json_null(),
			"diff_id", i < img->cfg.ndiff_ids ? img->cfg.diff_ids[i] : NULL,
			"path", d->path));
	}
	json_object_set_new(j, "image", json_string(image));
	json_object_set_new(j, "format", json_string(img_source_format(src)));
	json_object_set_new(j, "tags", tags);
	json_object_set_new(j, "tag", img->tag ? json_string(img->tag) : json_null());
	json_object_set_new(j, "manifest", img->manifest.digest ?
			    json_string(img->manifest.digest) : json_null());
	json_object_set_new(j, "config", img->config.digest ?
			    json_string(img->config.digest) : json_null());
	json_object_set_new(j, "os", img->cfg.os ? json_string(img->cfg.os) : json_null());
	json_object_set_new(j, "architecture", img->cfg.arch ?
			    json_string(img->cfg.arch) : json_null());
	json_object_set_new(j, "layers", layers);
	json_object_set_new(j, "runtime", img_runtime_config(&img->cfg));
	json_object_set_new(j, "history", history_json(&img->cfg));
	r = json_dumpf(j, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(j);
	if (r < 0)
		errno = ENOMEM;
	return r;
}

int img_inspect_text(FILE *out, struct img_source *src, const struct img_image *img,
		     const char *image)
{
	json_t *rt = img_runtime_config(&img->cfg);

	if (!rt) {
		errno = ENOMEM;
		return -1;
	}
	fprintf(out, "image:       %s (%s)\n", image, img_source_format(src));
	fprintf(out, "tags:       ");
	for (size_t i = 0; i < img->ntags; i++)
		fprintf(out, " %s", img->tags[i]);
	fprintf(out, "%s\n", img->ntags ? "" : " (none)");
	if (img->manifest.digest)
		fprintf(out, "manifest:    %s\n", img->manifest.digest);
	if (img->config.path)
		fprintf(out, "config:      %s\n", img->config.digest ? img->config.digest
							      : img->config.path);
	if (img->cfg.os)
		fprintf(out, "platform:    %s/%s\n", img->cfg.os, img->cfg.arch ? img->cfg.arch : "?");
	fprintf(out, "layers:      %zu\n", img->nlayers);
	for (size_t i = 0; i < img->nlayers; i++) {
		const struct img_desc *d = &img->layers[i];
		int64_t size = img_layer_size(src, d);
		fprintf(out, "  %zu. %s", i + 1, d->digest ? d->digest : d->path ? d->path : image);
		if (size >= 0)
			fprintf(out, "  %lld bytes", (long long)size);
		if (d->media_type)
			fprintf(out, "  %s", d->media_type);
		fputc('\n', out);
		if (i < img->cfg.ndiff_ids)
			fprintf(out, "     diff_id %s\n", img->cfg.diff_ids[i]);
	}
	for (size_t i = 0; i < img_nruntime_keys; i++) {
		json_t *v = json_object_get(rt, img_runtime_keys[i]);
		char *s = json_is_null(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		fprintf(out, "%-13s%s\n", img_runtime_keys[i], s ? s : "-");
		free(s);
	}
	json_decref(rt);
	print_history(out, &img->cfg);
	return 0;
}
