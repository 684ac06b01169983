/*
 * imagestore.c - the OCI image layout that holds pulled images (see
 * imagestore.h): its blobs and its index.json.
 * Read the image spec's image-layout.md; flock(2), rename(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imagestore.h"
#include "minidock.h"

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
