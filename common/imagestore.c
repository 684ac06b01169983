/*
 * imagestore.c - the OCI image layout that holds pulled images (see
 * imagestore.h): its blobs and its index.json; and what the store says
 * of one image (images/NAME: ref, digest, layers), for `image`.
 * Read the image spec's image-layout.md; flock(2), rename(2).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imagestore.h"
#include "minidock.h"
#include "store.h"

char *store_layout(void)
{
	return xasprintf("%s/oci", md_lib_dir());
}

int layout_init(const char *dir)
{
	char *blobs = xasprintf("%s/blobs/sha256", dir);
	char *marker = xasprintf("%s/oci-layout", dir);
	int ret = mkdir_p(blobs, 0755);

	if (ret == 0 && access(marker, F_OK) < 0)
		ret = write_file(marker, "{\"imageLayoutVersion\":\"1.0.0\"}");
	free(marker);
	free(blobs);
	return ret;
}

char *layout_blob(const char *dir, const char *digest)
{
	return xasprintf("%s/blobs/sha256/%s", dir, digest + 7);
}

int layout_put_blob(const char *dir, const char *digest, const void *buf, size_t len)
{
	char *path = layout_blob(dir, digest);
	char *tmp = xasprintf("%s.tmp-%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), ret = -1;
	size_t done = 0;

	if (fd < 0)
		goto out;
	while (done < len) {
		ssize_t w = write(fd, (const char *)buf + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		done += (size_t)w;
	}
	if (close(fd) < 0 || done < len || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		goto out;
	}
	ret = 0;
out:
	free(tmp);
	free(path);
	return ret;
}

json_t *layout_index(const char *dir)
{
	char *path = xasprintf("%s/index.json", dir);
	json_t *j = json_load_file(path, 0, NULL);

	if (!j && access(path, F_OK) < 0 && errno == ENOENT)
		j = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType",
			      "application/vnd.oci.image.index.v1+json", "manifests");
	else if (!j || !json_is_array(json_object_get(j, "manifests"))) {
		json_decref(j);
		j = NULL;
		errno = EINVAL;
	}
	free(path);
	return j;
}

json_t *layout_json_blob(const char *dir, const char *digest)
{
	char *path = layout_blob(dir, digest);
	struct stat st;
	json_t *j = NULL;

	if (stat(path, &st) == 0 && st.st_size <= (4 << 20))
		j = json_load_file(path, 0, NULL);
	free(path);
	return j;
}

static const char *ref_of(json_t *desc)
{
	return json_string_value(json_object_get(json_object_get(desc, "annotations"),
						 "org.opencontainers.image.ref.name"));
}

int layout_set(const char *dir, const char *ref, json_t *desc)
{
	char *lock = xasprintf("%s/index.json.lock", dir);
	char *path = xasprintf("%s/index.json", dir);
	char *tmp = xasprintf("%s/index.json.tmp-%d", dir, (int)getpid());
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644), ret = -1, found = 0;
	json_t *index = NULL, *list;
	size_t i;

	/* Two pulls at once: one after the other, each sees the other's. */
	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		goto out;
	index = layout_index(dir);
	if (!index)
		goto out;
	list = json_object_get(index, "manifests");
	for (i = 0; i < json_array_size(list);) {
		const char *r = ref_of(json_array_get(list, i));
		if (r && !strcmp(r, ref)) {
			json_array_remove(list, i);
			found = 1;
		} else {
			i++;
		}
	}
	if (!desc && !found) {
		errno = ENOENT;
		goto out;
	}
	if (desc) {
		json_t *ann = json_object_get(desc, "annotations");
		if (!json_is_object(ann)) {
			ann = json_object();
			json_object_set_new(desc, "annotations", ann);
		}
		json_object_set_new(ann, "org.opencontainers.image.ref.name", json_string(ref));
		json_array_append(list, desc);
	}
	if (json_dump_file(index, tmp, JSON_COMPACT) < 0) {
		if (!errno)
			errno = EIO;
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0)
		goto out;
	ret = 0;
out:
	if (fd >= 0) {
		int e = errno;
		close(fd);     /* and the lock with it */
		errno = e;
	}
	json_decref(index);
	free(tmp);
	free(path);
	free(lock);
	return ret;
}

/* ---- what the store says of one image (images/NAME/) ---- */

/* md_lib_dir()/images/NAME/FILE, malloc'd. */
char *store_image_file(const char *name, const char *file)
{
	return xasprintf("%s/images/%s%s%s", md_lib_dir(), name, file ? "/" : "", file ? file : "");
}

/* The small text file FILE of image NAME, its last newline cut, or NULL. */
char *store_image_text(const char *name, const char *file)
{
	char *path = store_image_file(name, file), *s = read_file(path, NULL);

	free(path);
	if (s && *s && s[strlen(s) - 1] == '\n')
		s[strlen(s) - 1] = '\0';
	return s;
}

/* The whole config of a pulled image (created, history...), or NULL. */
json_t *store_image_config(const char *name, json_t **manifest)
{
	char *digest = store_image_text(name, "digest"), *ref = store_image_text(name, "ref");
	char *layout = store_layout();
	json_t *index = ref ? layout_index(layout) : NULL, *d, *m = NULL, *c = NULL;
	size_t i;

	json_array_foreach(json_object_get(index, "manifests"), i, d) {
		const char *r = json_string_value(json_object_get(json_object_get(d, "annotations"),
								  "org.opencontainers.image.ref.name"));
		if (r && !strcmp(r, ref))
			m = layout_json_blob(layout, json_string_value(json_object_get(d, "digest")));
	}
	if (m)
		c = layout_json_blob(layout, json_string_value(json_object_get(
				json_object_get(m, "config"), "digest")));
	if (manifest)
		*manifest = m;
	else
		json_decref(m);
	json_decref(index);
	free(layout);
	free(ref);
	free(digest);
	return c;
}

static uint64_t du_total;

static int du_add(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path, (void)flag, (void)ftw;
	if (S_ISREG(st->st_mode))
		du_total += (uint64_t)st->st_size;
	return 0;
}

/* The bytes of the files of its layer directories. */
uint64_t store_image_size(const char *name)
{
	char *list = store_image_text(name, "layers"), *line, *save = NULL;

	du_total = 0;
	for (line = list ? strtok_r(list, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		if (nftw(line, du_add, 16, FTW_PHYS) < 0)
			vlog("nftw %s: %s", line, strerror(errno));
	free(list);
	return du_total;
}

/* The names of every image, in directory order. */
int store_image_names(struct strv *names)
{
	char *dir = store_image_file("", NULL);
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d && errno != ENOENT) {
		free(dir);
		return -1;
	}
	while (d && (errno = 0, de = readdir(d))) {
		char *layers;
		if (!valid_name(de->d_name))
			continue;
		layers = store_image_file(de->d_name, "layers");
		if (access(layers, F_OK) == 0)
			strv_push(names, de->d_name);
		free(layers);
	}
	if (d)
		closedir(d);
	free(dir);
	return 0;
}
