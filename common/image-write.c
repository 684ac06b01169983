/*
 * image-write.c - an image's config and manifest, and the forms it is
 * written in (see image-write.h).  Used by img-build.
 *
 * The JSON is written with jansson, keys in the order they were added and
 * no blank: the same build, the same bytes, the same digests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "console.h"
#include "image-write.h"
#include "minidock.h"

#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_LAYER "application/vnd.oci.image.layer.v1.tar+gzip"

/* The OCI name of this machine's architecture (config.md, GOARCH). */
static const char *oci_arch(void)
{
	static const struct { const char *uname, *oci; } arch[] = {
		{ "x86_64", "amd64" }, { "aarch64", "arm64" }, { "i686", "386" },
		{ "armv7l", "arm" }, { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
		{ "riscv64", "riscv64" },
	};
	static struct utsname u;

	if (uname(&u) < 0)
		return "amd64";
	for (size_t i = 0; i < sizeof(arch) / sizeof(arch[0]); i++)
		if (!strcmp(u.machine, arch[i].uname))
			return arch[i].oci;
	return u.machine;
}

void imgw_init(struct imgw *w, json_t *base, const char *blobs, int64_t epoch)
{
	time_t t = (time_t)epoch;
	struct tm tm;
	char when[32];

	memset(w, 0, sizeof(*w));
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	w->created = xstrdup(when);
	w->blobs = blobs;
	w->config = json_is_object(base) ? json_deep_copy(base) : json_object();
	w->image = json_pack("{s:s, s:s, s:s, s:o, s:{s:s, s:[]}, s:[]}",
			     "created", w->created, "architecture", oci_arch(), "os", "linux",
			     "config", w->config, "rootfs", "type", "layers", "diff_ids",
			     "history");
	if (!w->image)
		die_x("image config: out of memory");
	/* A key img-unpack --config sets to null means unset. */
	{
		const char *key;
		json_t *v;
		void *tmp;
		json_object_foreach_safe(w->config, tmp, key, v)
			if (json_is_null(v))
				json_object_del(w->config, key);
	}
}

void imgw_free(struct imgw *w)
{
	json_decref(w->image);
	free(w->layers);
	free(w->created);
	memset(w, 0, sizeof(*w));
}

void imgw_env(struct imgw *w, const char *name, const char *value)
{
	json_t *env = json_object_get(w->config, "Env"), *v;
	size_t i, n = strlen(name);
	char *entry = xasprintf("%s=%s", name, value);

	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(w->config, "Env", env);
	}
	json_array_foreach(env, i, v) {
		const char *s = json_string_value(v);
		if (s && !strncmp(s, name, n) && s[n] == '=') {
			json_array_set_new(env, i, json_string(entry));
			free(entry);
			return;
		}
	}
	json_array_append_new(env, json_string(entry));
	free(entry);
}

const char *imgw_getenv(const struct imgw *w, const char *name)
{
	json_t *v;
	size_t i, n = strlen(name);

	json_array_foreach(json_object_get(w->config, "Env"), i, v) {
		const char *s = json_string_value(v);
		if (s && !strncmp(s, name, n) && s[n] == '=')
			return s + n + 1;
	}
	return NULL;
}

const char *imgw_getstring(const struct imgw *w, const char *key)
{
	const char *s = json_string_value(json_object_get(w->config, key));

	return s && s[0] ? s : NULL;
}

void imgw_string(struct imgw *w, const char *key, const char *value)
{
	json_object_set_new(w->config, key, json_string(value));
}

void imgw_array(struct imgw *w, const char *key, const struct strv *words)
{
	json_t *a = json_array();

	for (size_t i = 0; i < words->n; i++)
		json_array_append_new(a, json_string(words->v[i]));
	json_object_set_new(w->config, key, a);
}

void imgw_set(struct imgw *w, const char *object, const char *key, const char *value)
{
	json_t *o = json_object_get(w->config, object);

	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(w->config, object, o);
	}
	json_object_set_new(o, key, value ? json_string(value) : json_object());
}

void imgw_author(struct imgw *w, const char *name)
{
	json_object_set_new(w->image, "author", json_string(name));
}

void imgw_history(struct imgw *w, const char *created_by, int empty_layer)
{
	json_t *h = json_pack("{s:s, s:s, s:s}", "created", w->created,
			      "created_by", created_by, "comment", "minidock img-build");

	if (empty_layer)
		json_object_set_new(h, "empty_layer", json_true());
	json_array_append_new(json_object_get(w->image, "history"), h);
}

void imgw_add_layer(struct imgw *w, const struct layer_blob *b, const char *created_by)
{
	w->layers = xrealloc(w->layers, (w->nlayers + 1) * sizeof(*w->layers));
	w->layers[w->nlayers++] = *b;
	json_array_append_new(json_object_get(json_object_get(w->image, "rootfs"), "diff_ids"),
			      json_string(b->diff_id));
	imgw_history(w, created_by, 0);
}

/* JSON J as a blob: BLOBS/<hex>, its digest and size. */
static int write_blob(const char *blobs, json_t *j, char digest[DIGEST_LEN], int64_t *size,
		      char **why)
{
	char *text = json_dumps(j, JSON_COMPACT), *path = NULL;
	int ret = -1;

	if (!text || sha256_of(text, strlen(text), digest) < 0) {
		why_fail(why, "image config: out of memory");
		goto out;
	}
	*size = (int64_t)strlen(text);
	path = xasprintf("%s/%s", blobs, digest + 7);
	if (write_file(path, text) < 0) {
		why_fail(why, "write %s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(path);
	free(text);
	return ret;
}

static json_t *descriptor(const char *media_type, const char *digest, int64_t size)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest,
			 "size", (json_int_t)size);
}

int imgw_finish(struct imgw *w, char **why)
{
	json_t *m, *layers = json_array();

	*why = NULL;
	if (write_blob(w->blobs, w->image, w->config_digest, &w->config_size, why) < 0) {
		json_decref(layers);
		return -1;
	}
	for (size_t i = 0; i < w->nlayers; i++)
		json_array_append_new(layers, descriptor(MT_LAYER, w->layers[i].digest,
							 w->layers[i].size));
	m = json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", MT_MANIFEST,
		      "config", descriptor(MT_CONFIG, w->config_digest, w->config_size),
		      "layers", layers);
	if (write_blob(w->blobs, m, w->manifest_digest, &w->manifest_size, why) < 0) {
		json_decref(m);
		return -1;
	}
	json_decref(m);
	return 0;
}

/* ---- the forms it is written in ---- */

/* index.json: the one manifest, named. */
static char *index_json(const struct imgw *w, const char *name, const char *ref)
{
	json_t *d = descriptor(MT_MANIFEST, w->manifest_digest, w->manifest_size);
	json_t *idx;
	char *text;

	json_object_set_new(d, "annotations",
			    json_pack("{s:s}", "org.opencontainers.image.ref.name", ref));
	if (name)
		json_object_set_new(json_object_get(d, "annotations"), "io.containerd.image.name",
				    json_string(name));
	idx = json_pack("{s:i, s:s, s:[o]}", "schemaVersion", 2, "mediaType",
			"application/vnd.oci.image.index.v1+json", "manifests", d);
	text = json_dumps(idx, JSON_COMPACT);
	json_decref(idx);
	if (!text)
		die_x("index.json: out of memory");
	return text;
}

/* docker save's manifest.json: config and layers by path, and the tag. */
static char *docker_manifest(const struct imgw *w, const char *name)
{
	json_t *layers = json_array(), *m;
	char *text;

	for (size_t i = 0; i < w->nlayers; i++)
		json_array_append_new(layers, json_sprintf("blobs/sha256/%s",
							   w->layers[i].digest + 7));
	m = json_pack("[{s:s+, s:[], s:o}]", "Config", "blobs/sha256/", w->config_digest + 7,
		      "RepoTags", "Layers", layers);
	if (name)
		json_array_append_new(json_object_get(json_array_get(m, 0), "RepoTags"),
				      json_string(name));
	text = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	if (!text)
		die_x("manifest.json: out of memory");
	return text;
}

/* The digests of every blob of the image: layers, config, manifest. */
static void blob_list(const struct imgw *w, struct strv *hex)
{
	for (size_t i = 0; i < w->nlayers; i++)
		strv_push(hex, w->layers[i].digest + 7);
	strv_push(hex, w->config_digest + 7);
	strv_push(hex, w->manifest_digest + 7);
}

/* Copy FROM to TO (when a hard link cannot be made: another filesystem). */
static int copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, ret = -1;
	char buf[65536];
	ssize_t n;

	if (in < 0)
		return -1;
	if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
		goto out;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write_all(out, buf, (size_t)n) < 0)
			goto out;
	ret = n < 0 ? -1 : 0;
out:
	{
		int e = errno;
		close(in);
		if (out >= 0)
			close(out);
		errno = e;
	}
	return ret;
}

int imgw_write_oci(const struct imgw *w, const char *dir, const char *name,
		   const char *ref, char **why)
{
	char *sub = xasprintf("%s/blobs/sha256", dir), *idx = index_json(w, name, ref);
	char *p = NULL;
	struct strv hex = { 0 };
	int ret = -1, empty = dir_is_empty(dir);

	*why = NULL;
	if (empty == 0 || (empty < 0 && errno != ENOENT)) {
		why_fail(why, "%s: %s", dir, empty == 0 ? "not empty (refusing to write over "
			  "something)" : strerror(errno));
		goto out;
	}
	if (mkdir_p(sub, 0755) < 0) {
		why_fail(why, "mkdir %s: %s", sub, strerror(errno));
		goto out;
	}
	blob_list(w, &hex);
	for (size_t i = 0; i < hex.n; i++) {
		char *from = xasprintf("%s/%s", w->blobs, hex.v[i]);
		free(p);
		p = xasprintf("%s/%s", sub, hex.v[i]);
		if (link(from, p) < 0 && errno != EEXIST && copy_file(from, p) < 0) {
			why_fail(why, "write %s: %s", p, strerror(errno));
			free(from);
			goto out;
		}
		free(from);
	}
	free(p);
	p = xasprintf("%s/oci-layout", dir);
	if (write_file(p, "{\"imageLayoutVersion\":\"1.0.0\"}") < 0) {
		why_fail(why, "write %s: %s", p, strerror(errno));
		goto out;
	}
	free(p);
	p = xasprintf("%s/index.json", dir);
	if (write_file(p, idx) < 0) {
		why_fail(why, "write %s: %s", p, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	strv_free(&hex);
	free(p);
	free(idx);
	free(sub);
	return ret;
}

/* One member of the archive, from memory (TEXT) or from the file PATH. */
static int add_member(struct archive *a, struct archive_entry *e, const char *member,
		      const char *text, const char *path, char **why)
{
	char buf[65536];
	struct stat st;
	ssize_t n;
	int fd = -1;

	archive_entry_clear(e);
	archive_entry_set_pathname(e, member);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	if (path) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
			why_fail(why, "%s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		archive_entry_set_size(e, st.st_size);
	} else {
		archive_entry_set_size(e, (la_int64_t)strlen(text));
	}
	if (archive_write_header(a, e) != ARCHIVE_OK)
		goto tar_fail;
	if (!path) {
		if (archive_write_data(a, text, strlen(text)) != (la_ssize_t)strlen(text))
			goto tar_fail;
		return 0;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(a, buf, (size_t)n) != n)
			goto tar_fail;
	close(fd);
	if (n < 0)
		return why_fail(why, "read %s: %s", path, strerror(errno));
	return 0;
tar_fail:
	if (fd >= 0)
		close(fd);
	return why_fail(why, "tar %s: %s", member, archive_error_string(a));
}

/* Blob HEX of directory BLOBS, as the member blobs/sha256/HEX. */
static int add_blob(struct archive *a, struct archive_entry *e, const char *blobs,
		    const char *hex, char **why)
{
	char *member = xasprintf("blobs/sha256/%s", hex), *path = xasprintf("%s/%s", blobs, hex);
	int r = add_member(a, e, member, NULL, path, why);

	free(path);
	free(member);
	return r;
}

/* A tar archive written to TMP (pax), or NULL with *WHY. */
static struct archive *tar_create(const char *tmp, char **why)
{
	struct archive *a = archive_write_new();

	if (!a)
		die_x("archive: out of memory");
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_open_filename(a, tmp) != ARCHIVE_OK) {
		why_fail(why, "%s: %s", tmp, archive_error_string(a));
		archive_write_free(a);
		return NULL;
	}
	return a;
}

/* Close A (written to TMP) and rename it to FILE: 0, or -1 with *WHY. */
static int tar_commit(struct archive *a, const char *tmp, const char *file, char **why)
{
	if (archive_write_close(a) != ARCHIVE_OK)
		return why_fail(why, "%s: %s", tmp, archive_error_string(a));
	if (rename(tmp, file) < 0)
		return why_fail(why, "rename %s %s: %s", tmp, file, strerror(errno));
	return 0;
}

int imgw_write_archive(const struct imgw *w, const char *file, const char *name,
		       const char *ref, int docker, char **why)
{
	struct archive_entry *e = archive_entry_new();
	char *tmp = xasprintf("%s.tmp-%d", file, (int)getpid());
	char *idx = index_json(w, name, ref), *man = docker ? docker_manifest(w, name) : NULL;
	struct strv hex = { 0 };
	struct archive *a;
	int ret = -1;

	*why = NULL;
	if (!e)
		die_x("archive: out of memory");
	if (!(a = tar_create(tmp, why)))
		goto out;
	blob_list(w, &hex);
	if (add_member(a, e, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", NULL, why) < 0 ||
	    add_member(a, e, "index.json", idx, NULL, why) < 0 ||
	    (man && add_member(a, e, "manifest.json", man, NULL, why) < 0))
		goto out;
	for (size_t i = 0; i < hex.n; i++)
		if (add_blob(a, e, w->blobs, hex.v[i], why) < 0)
			goto out;
	ret = tar_commit(a, tmp, file, why);
out:
	if (ret < 0)
		unlink(tmp);
	archive_entry_free(e);
	archive_write_free(a);
	strv_free(&hex);
	free(man);
	free(idx);
	free(tmp);
	return ret;
}

int layout_write_archive(const char *dir, const char *file, char **why)
{
	struct archive_entry *e = archive_entry_new();
	char *tmp = xasprintf("%s.tmp-%d", file, (int)getpid());
	char *blobs = xasprintf("%s/blobs/sha256", dir);
	static const char *const top[] = { "oci-layout", "index.json" };
	struct dirent **names = NULL;
	struct archive *a;
	int n = -1, ret = -1;

	*why = NULL;
	if (!e)
		die_x("archive: out of memory");
	if (!(a = tar_create(tmp, why)))
		goto out;
	for (size_t i = 0; i < 2; i++) {
		char *path = xasprintf("%s/%s", dir, top[i]);
		int r = add_member(a, e, top[i], NULL, path, why);
		free(path);
		if (r < 0)
			goto out;
	}
	/* The blobs in name order: the same layout, the same archive. */
	if ((n = scandir(blobs, &names, NULL, alphasort)) < 0) {
		why_fail(why, "%s: %s", blobs, strerror(errno));
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] == '.' || strchr(names[i]->d_name, '.'))
			continue;       /* ".", "..", a .part being written */
		if (add_blob(a, e, blobs, names[i]->d_name, why) < 0)
			goto out;
	}
	ret = tar_commit(a, tmp, file, why);
out:
	if (ret < 0)
		unlink(tmp);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	archive_entry_free(e);
	archive_write_free(a);
	free(blobs);
	free(tmp);
	return ret;
}

/* Write TEXT to PATH through PATH.tmp and rename(2): a run reading PATH
 * at the same time sees the old file or the new one. */
static int replace_file(const char *path, const char *text)
{
	char *tmp = xasprintf("%s.tmp-%d", path, (int)getpid());
	int r = write_file(tmp, text);

	if (r == 0 && (r = rename(tmp, path)) < 0)
		unlink(tmp);
	free(tmp);
	return r;
}

int imgw_store(const struct imgw *w, const char *name, const struct strv *layers,
	       char **why)
{
	char *dir = xasprintf("%s/images/%s", md_lib_dir(), name);
	char *oci = xasprintf("%s/oci", dir), *p = NULL, *text = NULL;
	char *ref = xasprintf("%s:latest", name);
	size_t len = 0;
	int ret = -1;

	*why = NULL;
	if (mkdir_p(dir, 0755) < 0 || rm_rf(oci) < 0) {
		why_fail(why, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if (imgw_write_oci(w, oci, ref, "latest", why) < 0)
		goto out;
	p = xasprintf("%s/config.json", dir);
	text = json_dumps(w->image, JSON_INDENT(2));
	if (!text || replace_file(p, text) < 0)
		goto write_fail;
	free(p);
	p = xasprintf("%s/source", dir);
	if (replace_file(p, oci) < 0)
		goto write_fail;
	free(text);
	text = xstrdup("");
	for (size_t i = 0; i < layers->n; i++) {
		char *t = xasprintf("%s%s\n", text, layers->v[i]);
		free(text);
		text = t;
		len += strlen(layers->v[i]) + 1;
	}
	free(p);
	p = xasprintf("%s/layers", dir);
	if (replace_file(p, text) < 0)
		goto write_fail;
	ret = 0;
	goto out;
write_fail:
	why_fail(why, "write %s: %s", p, strerror(errno));
out:
	(void)len;
	free(text);
	free(p);
	free(ref);
	free(oci);
	free(dir);
	return ret;
}

int imgw_deliver(const struct imgw *w, const char *output, const char *tag,
		 const struct strv *layers, char **name, char **why)
{
	char *n = tag ? xstrdup(tag) : NULL, *t = NULL, *colon = n ? strrchr(n, ':') : NULL;
	int r = 0;

	*why = *name = NULL;
	if (colon) {
		*colon = '\0';
		t = xstrdup(colon + 1);
	}
	if (!t)
		t = xstrdup("latest");
	if (n)
		*name = xasprintf("%s:%s", n, t);
	if (output) {
		const char *dest = strchr(output, ':') + 1;
		char *msg = NULL;

		r = !strncmp(output, "oci:", 4) ? imgw_write_oci(w, dest, *name, t, &msg)
			: imgw_write_archive(w, dest, *name, t,
					     !strncmp(output, "docker-archive:", 15), &msg);
		if (r < 0) {
			why_fail(why, "-o %s: %s", output, msg);
			free(msg);
		}
	}
	if (r == 0 && (!output || n)) {
		char *id = xasprintf("%.12s", w->config_digest + 7), *msg = NULL;

		if ((r = imgw_store(w, n ? n : id, layers, &msg)) < 0) {
			why_fail(why, "the store: %s", msg);
			free(msg);
		}
		free(id);
	}
	free(t);
	free(n);
	return r;
}
