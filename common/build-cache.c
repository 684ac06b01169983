/*
 * build-cache.c - the build cache (see build-cache.h).  Used by img-build.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "build-cache.h"
#include "minidock.h"

void cache_key(const char *parent, const char *what, char out[DIGEST_LEN])
{
	char *text = xasprintf("%s\n%s", parent, what);

	if (sha256_of(text, strlen(text), out) < 0)
		die_x("sha256: out of memory");
	free(text);
}

void cache_key_content(const char *parent, const char *what, const char *content,
		       char out[DIGEST_LEN])
{
	char *text = xasprintf("%s\n%s", what, content);

	cache_key(parent, text, out);
	free(text);
}

char *cache_layer_dir(const char *diff_id)
{
	return xasprintf("%s/layers/sha256/%s", md_lib_dir(), diff_id + 7);
}

char *cache_blob_path(const char *digest)
{
	return xasprintf("%s/blobs/sha256/%s", md_lib_dir(), digest + 7);
}

/* A layer blob as JSON, and back (1 when it is whole and its files are
 * there: the layer directory, the blob). */
static json_t *blob_json(const struct layer_blob *b)
{
	return json_pack("{s:s, s:s, s:I}", "diff_id", b->diff_id, "digest", b->digest,
			 "size", (json_int_t)b->size);
}

static int blob_from_json(json_t *j, struct layer_blob *b, int need_dir)
{
	const char *diff_id = json_string_value(json_object_get(j, "diff_id"));
	const char *digest = json_string_value(json_object_get(j, "digest"));
	json_t *size = json_object_get(j, "size");
	char *dir, *blob;
	int ok;

	if (!diff_id || !digest || !json_is_integer(size) || strlen(diff_id) != DIGEST_LEN - 1 ||
	    strlen(digest) != DIGEST_LEN - 1)
		return 0;
	dir = cache_layer_dir(diff_id);
	blob = cache_blob_path(digest);
	ok = (!need_dir || access(dir, F_OK) == 0) && access(blob, F_OK) == 0;
	free(blob);
	free(dir);
	if (!ok)
		return 0;
	memset(b, 0, sizeof(*b));
	strcpy(b->diff_id, diff_id);
	strcpy(b->digest, digest);
	b->size = json_integer_value(size);
	return 1;
}

/* Write J to PATH (its directory created). */
static int save(const char *path, json_t *j)
{
	char *dir = xstrdup(path), *tmp = xasprintf("%s.tmp-%d", path, (int)getpid());
	int r;

	*strrchr(dir, '/') = '\0';
	r = mkdir_p(dir, 0755) < 0 || json_dump_file(j, tmp, JSON_COMPACT) < 0 ||
	    rename(tmp, path) < 0 ? -1 : 0;
	if (r < 0)
		unlink(tmp);
	free(tmp);
	free(dir);
	return r;
}

/* Why there is no entry for this step: what differs from the steps made
 * on the same parent before. */
static char *why_missed(const char *pdir, const char *instruction, const char *content)
{
	DIR *d = opendir(pdir);
	struct dirent *de;
	char *reason = NULL;

	if (!d)
		return xstrdup("nothing was built on this parent before (the first build, "
			       "or a step above changed)");
	while (!reason && (de = readdir(d))) {
		char *p = xasprintf("%s/%s", pdir, de->d_name);
		json_t *j = de->d_name[0] == '.' ? NULL : json_load_file(p, 0, NULL);
		const char *in = json_string_value(json_object_get(j, "instruction"));
		const char *ct = json_string_value(json_object_get(j, "content"));

		if (in && !strcmp(in, instruction) && ct && strcmp(ct, content))
			reason = xstrdup("the files it copies changed");
		json_decref(j);
		free(p);
	}
	closedir(d);
	return reason ? reason : xstrdup("the instruction is not the one built before");
}

int cache_lookup(const char *parent, const char *key, const char *instruction,
		 const char *content, struct layer_blob *b, char **reason)
{
	char *pdir = xasprintf("%s/build/cache/%s", md_lib_dir(), parent + 7);
	char *path = xasprintf("%s/%s", pdir, key + 7);
	json_t *j = json_load_file(path, 0, NULL);
	int hit = 0;

	*reason = NULL;
	if (j && blob_from_json(j, b, 1))
		hit = 1;
	else if (j)
		*reason = xstrdup("its layer is no longer in the store");
	else
		*reason = why_missed(pdir, instruction, content);
	json_decref(j);
	free(path);
	free(pdir);
	return hit;
}

int cache_record(const char *parent, const char *key, const char *instruction,
		 const char *content, const struct layer_blob *b)
{
	char *path = xasprintf("%s/build/cache/%s/%s", md_lib_dir(), parent + 7, key + 7);
	json_t *j = blob_json(b);
	int r;

	json_object_set_new(j, "instruction", json_string(instruction));
	json_object_set_new(j, "content", json_string(content));
	r = save(path, j);
	json_decref(j);
	free(path);
	return r;
}

int cache_blob_of(const char *diff_id, int64_t epoch, struct layer_blob *b)
{
	char *path = xasprintf("%s/build/blob-of/%s.%lld", md_lib_dir(), diff_id + 7,
			       (long long)epoch);
	json_t *j = json_load_file(path, 0, NULL);
	int ok = j && blob_from_json(j, b, 0);

	json_decref(j);
	free(path);
	return ok;
}

int cache_record_blob_of(const char *diff_id, int64_t epoch, const struct layer_blob *b)
{
	char *path = xasprintf("%s/build/blob-of/%s.%lld", md_lib_dir(), diff_id + 7,
			       (long long)epoch);
	json_t *j = blob_json(b);
	int r = save(path, j);

	json_decref(j);
	free(path);
	return r;
}

int cache_base_blob(const char *dir, int64_t epoch, const char *blobs, struct layer_blob *b,
		    char **why)
{
	char *diff_id = xasprintf("sha256:%s", strrchr(dir, '/') + 1);
	int r = 0;

	*why = NULL;
	if (!cache_blob_of(diff_id, epoch, b)) {
		vlog("layer %s: tarred once, for the image's manifest", dir);
		if ((r = layer_write(dir, blobs, epoch, b, why)) == 0 &&
		    cache_record_blob_of(diff_id, epoch, b) < 0)
			warn_errno("%s/build/blob-of: cannot record it", md_lib_dir());
	}
	free(diff_id);
	return r;
}

void cache_from_key(int64_t epoch, json_t *config, char out[DIGEST_LEN])
{
	char *parent = xasprintf("epoch %lld", (long long)epoch);
	char *id = config ? json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	cache_key(parent, config ? (id ? id : "") : "FROM scratch", out);
	free(id);
	free(parent);
}

int cache_base_layers(const char *image, const struct strv *dirs, int64_t epoch,
		      const char *blobs, struct imgw *img, struct strv *layers,
		      char key[DIGEST_LEN], char **why)
{
	for (size_t i = 0; i < dirs->n; i++) {
		struct layer_blob blob;
		char *what;

		if (cache_base_blob(dirs->v[i], epoch, blobs, &blob, why) < 0)
			return -1;
		what = xasprintf("FROM %s (layer %zu)", image, i + 1);
		imgw_add_layer(img, &blob, what);
		strv_push(layers, dirs->v[i]);
		cache_key(key, blob.diff_id, key);
		free(what);
	}
	return 0;
}

int cache_use(const char *parent, const char *key, const char *instruction,
	      const char *content, int no_cache, struct layer_blob *b)
{
	char *reason = NULL;
	int hit = 0;

	if (no_cache)
		vlog("not cached: --no-cache");
	else if (!(hit = cache_lookup(parent, key, instruction, content, b, &reason)))
		vlog("not cached: %s", reason);
	else
		vlog("cached: the same parent and instruction%s made layer %s",
		     content[0] ? " and the same files" : "", b->diff_id);
	free(reason);
	return hit;
}

char *cache_new_layer_dir(const char *diff_id)
{
	char *dir = cache_layer_dir(diff_id), *slash = strrchr(dir, '/');
	int r;

	*slash = '\0';
	r = mkdir_p(dir, 0755);
	*slash = '/';
	if (r < 0) {
		free(dir);
		return NULL;
	}
	return dir;
}
