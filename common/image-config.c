/*
 * image-config.c - the JSON documents of an image (index, manifest,
 * config, docker save's manifest.json), read with jansson (json_loadb(3)
 * of the jansson documentation).  Each comes from strangers: every member
 * is type-checked, every digest and every path inside the image checked
 * before anything uses it, duplicate keys refused.  See image-config.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image-config.h"
#include "minidock.h"

/* ---- errors ---- */

/* Per thread: a layer is decompressed by a thread of its own. */
static __thread char errbuf[1024];

const char *img_error(void)
{
	return errbuf;
}

static void vrecord(int with_errno, const char *fmt, va_list ap)
{
	char msg[sizeof(errbuf)];   /* the arguments may be errbuf itself */
	int e = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* (A message too long is cut: snprintf's result is not needed.) */
	if (snprintf(errbuf, sizeof(errbuf), with_errno ? "%s: %s" : "%s", msg,
		     strerror(e)) < 0)
		errbuf[0] = '\0';
	errno = e;
}

int img_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vrecord(0, fmt, ap);
	va_end(ap);
	return -1;
}

int img_fail_errno(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vrecord(1, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- the documents ---- */

int img_valid_digest(const char *s)
{
	size_t i;

	if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + 64)
		return 0;
	for (i = 7; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static json_t *load_json(const char *buf, size_t len, const char *what)
{
	json_error_t e;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);

	if (!j)
		img_fail("%s: invalid JSON: %s (line %d)", what, e.text, e.line);
	return j;
}

/* A string member KEY of object O, or NULL if absent; -1 if not a string. */
static int get_string(json_t *o, const char *key, char **out, const char *what)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return img_fail("%s: \"%s\" is not a string", what, key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

/* A path inside an image, as manifest.json names it: relative, no "..". */
static int valid_member_path(const char *p)
{
	const char *s = p;

	if (!*p || *p == '/')
		return 0;
	while (*s) {
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return 0;
		s += n;
		while (*s == '/')
			s++;
	}
	return 1;
}

void img_desc_free(struct img_desc *d)
{
	free(d->media_type);
	free(d->digest);
	free(d->path);
	free(d->os);
	free(d->arch);
	free(d->variant);
	free(d->ref_name);
	free(d->image_name);
	memset(d, 0, sizeof(*d));
}

void img_descs_free(struct img_desc *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		img_desc_free(&d[i]);
	free(d);
}

static int parse_desc(json_t *o, struct img_desc *d, const char *what)
{
	json_t *size, *p, *ann;

	memset(d, 0, sizeof(*d));
	d->size = -1;
	if (!json_is_object(o))
		return img_fail("%s: a descriptor is not a JSON object", what);
	if (get_string(o, "mediaType", &d->media_type, what) < 0 ||
	    get_string(o, "digest", &d->digest, what) < 0)
		goto bad;
	if (!d->digest) {
		img_fail("%s: a descriptor has no \"digest\"", what);
		goto bad;
	}
	if (!img_valid_digest(d->digest)) {
		img_fail("%s: unsupported digest \"%.80s\" (expected sha256:<64 hex digits>)",
			 what, d->digest);
		goto bad;
	}
	d->path = xasprintf("blobs/sha256/%s", d->digest + 7);
	size = json_object_get(o, "size");
	if (size) {
		if (!json_is_integer(size) || json_integer_value(size) < 0) {
			img_fail("%s: descriptor %s: bad \"size\"", what, d->digest);
			goto bad;
		}
		d->size = json_integer_value(size);
	}
	p = json_object_get(o, "platform");
	if (json_is_object(p) &&
	    (get_string(p, "os", &d->os, what) < 0 ||
	     get_string(p, "architecture", &d->arch, what) < 0 ||
	     get_string(p, "variant", &d->variant, what) < 0))
		goto bad;
	ann = json_object_get(o, "annotations");
	if (json_is_object(ann) &&
	    (get_string(ann, "org.opencontainers.image.ref.name", &d->ref_name, what) < 0 ||
	     get_string(ann, "io.containerd.image.name", &d->image_name, what) < 0))
		goto bad;
	return 0;
bad:
	img_desc_free(d);
	return -1;
}

static int parse_desc_array(json_t *a, struct img_desc **descs, size_t *n, const char *what)
{
	size_t i, count;

	*descs = NULL;
	*n = 0;
	if (!json_is_array(a))
		return img_fail("%s: not a JSON array of descriptors", what);
	count = json_array_size(a);
	*descs = xcalloc(count, sizeof(**descs));
	for (i = 0; i < count; i++) {
		if (parse_desc(json_array_get(a, i), &(*descs)[i], what) < 0) {
			img_descs_free(*descs, i);
			*descs = NULL;
			return -1;
		}
	}
	*n = count;
	return 0;
}

int img_json_is_index(const char *buf, size_t len)
{
	json_t *j = json_loadb(buf, len, 0, NULL);
	int is = json_is_object(j) && json_is_array(json_object_get(j, "manifests"));

	json_decref(j);
	return is;
}

int img_parse_index(const char *buf, size_t len, struct img_desc **descs, size_t *n)
{
	json_t *j = load_json(buf, len, "index");
	int ret;

	*descs = NULL;
	*n = 0;
	if (!j)
		return -1;
	if (!json_is_object(j))
		ret = img_fail("index: not a JSON object");
	else
		ret = parse_desc_array(json_object_get(j, "manifests"), descs, n,
				       "index \"manifests\"");
	json_decref(j);
	return ret;
}

int img_parse_manifest(const char *buf, size_t len, struct img_desc *config,
		       struct img_desc **layers, size_t *n)
{
	json_t *j = load_json(buf, len, "manifest");
	int ret = -1;

	memset(config, 0, sizeof(*config));
	*layers = NULL;
	*n = 0;
	if (!j)
		return -1;
	if (!json_is_object(j)) {
		img_fail("manifest: not a JSON object");
		goto out;
	}
	if (parse_desc(json_object_get(j, "config"), config, "manifest \"config\"") < 0)
		goto out;
	if (parse_desc_array(json_object_get(j, "layers"), layers, n, "manifest \"layers\"") < 0) {
		img_desc_free(config);
		goto out;
	}
	ret = 0;
out:
	json_decref(j);
	return ret;
}

/* A JSON array of strings, copied; path checks when PATHS. */
static int parse_strings(json_t *a, char ***out, size_t *n, int paths, const char *what)
{
	size_t i, count;

	*out = NULL;
	*n = 0;
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return img_fail("%s: not a JSON array", what);
	count = json_array_size(a);
	*out = xcalloc(count + 1, sizeof(char *));
	for (i = 0; i < count; i++) {
		json_t *v = json_array_get(a, i);
		if (!json_is_string(v) ||
		    (paths && !valid_member_path(json_string_value(v)))) {
			for (size_t k = 0; k < i; k++)
				free((*out)[k]);
			free(*out);
			*out = NULL;
			return img_fail("%s: item %zu is not a %s", what, i,
					paths ? "relative path without \"..\"" : "string");
		}
		(*out)[i] = xstrdup(json_string_value(v));
	}
	*n = count;
	return 0;
}

static void strings_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void img_docker_entries_free(struct img_docker_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].config);
		strings_free(e[i].layers, e[i].nlayers);
		strings_free(e[i].tags, e[i].ntags);
	}
	free(e);
}

int img_parse_docker_manifest(const char *buf, size_t len,
			      struct img_docker_entry **entries, size_t *n)
{
	json_t *j = load_json(buf, len, "manifest.json");
	size_t i, count;

	*entries = NULL;
	*n = 0;
	if (!j)
		return -1;
	if (!json_is_array(j)) {
		json_decref(j);
		return img_fail("manifest.json: not a JSON array");
	}
	count = json_array_size(j);
	*entries = xcalloc(count, sizeof(**entries));
	for (i = 0; i < count; i++) {
		json_t *o = json_array_get(j, i);
		struct img_docker_entry *e = &(*entries)[i];
		json_t *cfg = json_object_get(o, "Config");

		if (!json_is_object(o) || !json_is_string(cfg) ||
		    !valid_member_path(json_string_value(cfg))) {
			img_fail("manifest.json: image %zu: no valid \"Config\" path", i);
			goto bad;
		}
		e->config = xstrdup(json_string_value(cfg));
		if (parse_strings(json_object_get(o, "Layers"), &e->layers, &e->nlayers, 1,
				  "manifest.json \"Layers\"") < 0 ||
		    parse_strings(json_object_get(o, "RepoTags"), &e->tags, &e->ntags, 0,
				  "manifest.json \"RepoTags\"") < 0)
			goto bad;
	}
	json_decref(j);
	*n = count;
	return 0;
bad:
	img_docker_entries_free(*entries, i + 1);
	*entries = NULL;
	json_decref(j);
	return -1;
}

void img_config_free(struct img_config *c)
{
	strings_free(c->diff_ids, c->ndiff_ids);
	free(c->os);
	free(c->arch);
	json_decref(c->runtime);
	json_decref(c->history);
	memset(c, 0, sizeof(*c));
}

int img_parse_config(const char *buf, size_t len, struct img_config *cfg)
{
	json_t *j = load_json(buf, len, "config");
	json_t *rootfs, *rt;
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	if (!j)
		return -1;
	if (!json_is_object(j)) {
		img_fail("config: not a JSON object");
		goto bad;
	}
	if (get_string(j, "os", &cfg->os, "config") < 0 ||
	    get_string(j, "architecture", &cfg->arch, "config") < 0)
		goto bad;
	rootfs = json_object_get(j, "rootfs");
	if (!json_is_object(rootfs)) {
		img_fail("config: no \"rootfs\" object");
		goto bad;
	}
	if (parse_strings(json_object_get(rootfs, "diff_ids"), &cfg->diff_ids,
			  &cfg->ndiff_ids, 0, "config \"rootfs.diff_ids\"") < 0)
		goto bad;
	for (i = 0; i < cfg->ndiff_ids; i++) {
		if (!img_valid_digest(cfg->diff_ids[i])) {
			img_fail("config: diff_id %zu: unsupported digest \"%.80s\"", i, cfg->diff_ids[i]);
			goto bad;
		}
	}
	rt = json_object_get(j, "config");
	if (rt && !json_is_null(rt)) {
		if (!json_is_object(rt)) {
			img_fail("config: \"config\" is not a JSON object");
			goto bad;
		}
		cfg->runtime = json_incref(rt);
	}
	/* Optional, and only shown: an entry that is not an object is skipped. */
	if (json_is_array(json_object_get(j, "history")))
		cfg->history = json_incref(json_object_get(j, "history"));
	json_decref(j);
	return 0;
bad:
	img_config_free(cfg);
	json_decref(j);
	return -1;
}

/* ---- the runtime config ---- */

const char *const img_runtime_keys[] = {
	"Env", "Entrypoint", "Cmd", "WorkingDir", "User", "ExposedPorts", "Labels",
};
const size_t img_nruntime_keys = sizeof(img_runtime_keys) / sizeof(img_runtime_keys[0]);

json_t *img_runtime_config(const struct img_config *cfg)
{
	json_t *out = json_object();

	for (size_t i = 0; out && i < img_nruntime_keys; i++) {
		json_t *v = cfg->runtime ? json_object_get(cfg->runtime, img_runtime_keys[i]) : NULL;
		json_object_set_new(out, img_runtime_keys[i], v ? json_incref(v) : json_null());
	}
	return out;
}

int img_write_runtime_config(const struct img_config *cfg, const char *path)
{
	json_t *rt = img_runtime_config(cfg);
	int r = rt ? json_dump_file(rt, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : -1;

	if (r == 0)
		vlog("write %s: the runtime config", path);
	json_decref(rt);
	return r;
}
