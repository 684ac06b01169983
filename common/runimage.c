/*
 * runimage.c - the images `run` knows (see runimage.h): find one by name
 * or path, import it with img-unpack, read its config, and apply that
 * config as docker run does.  Used by run.
 *
 * img-unpack does the unpacking (see img-unpack(1)); here are only the
 * names and files that say which layers make an image.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imageref.h"
#include "minidock.h"
#include "passwd.h"
#include "runimage.h"

/* "images/build/busybox.tar" -> "busybox": what an imported path is
 * called in the store. */
static char *name_of_path(const char *path)
{
	static const char *const suffixes[] = {
		".tar.gz", ".tar.zst", ".tgz", ".tar", ".oci", "-oci", NULL,
	};
	const char *base;
	char *copy = xstrdup(path), *name;
	size_t len, i;

	len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	base = strrchr(copy, '/');
	name = xstrdup(base ? base + 1 : copy);
	free(copy);
	len = strlen(name);
	for (i = 0; suffixes[i]; i++) {
		size_t sl = strlen(suffixes[i]);
		if (len > sl && !strcmp(name + len - sl, suffixes[i])) {
			name[len - sl] = '\0';
			break;
		}
	}
	return name;
}

/* Write TEXT to PATH through a temporary file and rename(2), so that a
 * run reading PATH at the same time sees the old file or the new one. */
static int replace_file(const char *path, const char *tmp, const char *text)
{
	if (text && write_file(tmp, text) < 0)
		return -1;
	return rename(tmp, path);
}

/*
 * Rootless, where the layers cannot be stored in overlayfs form (a kernel
 * before 5.8 refuses an ordinary user the 0/0 device node of a whiteout),
 * the image is only recorded: its config, from img-unpack --inspect,
 * written to CONFIG; each container then gets a copy of its own
 * (runimage_copy).  Returns img-unpack's exit code.
 */
static int inspect_config(const char *path, const char *config)
{
	char *args[] = { (char *)"--inspect", (char *)"--json", (char *)path, NULL };
	char *out = NULL;
	json_t *all = NULL;
	int code;

	vlog("rootless: no layers stored; img-unpack --inspect %s for its config", path);
	code = run_tool("img-unpack", args, &out, 0);
	if (code == 0) {
		all = json_loads(out, 0, NULL);
		if (!json_is_object(json_object_get(all, "runtime")) ||
		    json_dump_file(json_object_get(all, "runtime"), config, JSON_INDENT(2)) < 0)
			code = EXIT_TOOL_FAILED;
	}
	json_decref(all);
	free(out);
	return code;
}

/*
 * What says a file was changed since it was imported: its device, inode,
 * size and modification time (as make and rsync judge it), written to
 * images/NAME/source-stat.  A directory (an OCI layout) is judged by its
 * index.json or manifest.json, which every change of image rewrites.
 * NULL when PATH cannot be stat(2)ed.
 */
static char *source_stamp(const char *abs)
{
	static const char *const entry[] = { "index.json", "manifest.json", NULL };
	struct stat st;
	char *p;

	if (stat(abs, &st) < 0)
		return NULL;
	for (size_t i = 0; S_ISDIR(st.st_mode) && entry[i]; i++) {
		p = xasprintf("%s/%s", abs, entry[i]);
		if (stat(p, &st) == 0) {
			free(p);
			break;
		}
		free(p);
	}
	return xasprintf("%s\n%llu %llu %lld %lld.%09ld\n", abs, (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino, (long long)st.st_size,
			 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

/* Image NAME was imported from PATH, and PATH has not changed since. */
static int imported_unchanged(const char *path, const char *name)
{
	char *abs = realpath(path, NULL);
	char *stamp = abs ? source_stamp(abs) : NULL;
	char *file = xasprintf("%s/images/%s/source-stat", md_lib_dir(), name);
	char *layers = xasprintf("%s/images/%s/layers", md_lib_dir(), name);
	char *old = read_file(file, NULL);
	int same = stamp && old && !strcmp(stamp, old) && access(layers, F_OK) == 0;

	free(old);
	free(layers);
	free(file);
	free(stamp);
	free(abs);
	return same;
}

/*
 * runimage_import (runimage.h).
 * img-unpack --layers: store what is missing of IMAGE's layers (each one
 * once, by digest), and record the image under NAME: the list of its layer
 * directories, lowest first (written last: it says the image is there),
 * its config, and the file it came from.  Rootless, the same, in the
 * user's store (an opaque directory as user.overlay.opaque); the list is
 * empty only where the layers cannot be stored (see inspect_config).
 */
int runimage_import(const char *path, const char *tag, const char *name, int rootless,
		    char **why)
{
	char *imgdir = xasprintf("%s/images/%s", md_lib_dir(), name);
	char *layers_store = xasprintf("%s/layers", md_lib_dir());
	char *config = xasprintf("%s/config.json", imgdir);
	char *layers_file = xasprintf("%s/layers", imgdir);
	char *source = xasprintf("%s/source", imgdir);
	char *tmp_config = xasprintf("%s.%d", config, (int)getpid());
	char *tmp_layers = xasprintf("%s.%d", layers_file, (int)getpid());
	char *tmp_source = xasprintf("%s.%d", source, (int)getpid());
	char *stamp_file = xasprintf("%s/source-stat", imgdir);
	char *tmp_stamp = xasprintf("%s.%d", stamp_file, (int)getpid());
	char *abs = realpath(path, NULL), *out = NULL, *stamp = NULL;
	struct strv args = { 0 };
	int code, ret = -1;

	if (!abs) {
		why_fail(why, "image %s: %s", path, strerror(errno));
		goto out;
	}
	stamp = source_stamp(abs);
	if (mkdir_p(imgdir, 0755) < 0 || mkdir_p(layers_store, 0755) < 0) {
		why_fail(why, "mkdir %s: %s", imgdir, strerror(errno));
		goto out;
	}
	strv_push(&args, "--layers");
	strv_push(&args, layers_store);
	strv_push(&args, "--config");
	strv_push(&args, tmp_config);
	if (tag) {
		strv_push(&args, "--tag");
		strv_push(&args, tag);
	}
	if (md_verbose)
		strv_push(&args, "--verbose");
	strv_push(&args, abs);
	vlog("importing %s as image %s: img-unpack --layers %s", abs, name, layers_store);
	code = run_tool("img-unpack", args.v, &out, rootless);
	if (rootless && (code != 0 || !out[0])) {
		vlog("rootless: img-unpack --layers %s failed (exit %d): each container "
		     "will get a copy of the image", layers_store, code);
		free(out);
		out = xstrdup("");
		code = inspect_config(abs, tmp_config);
	}
	if (code != 0 || (!out[0] && !rootless)) {
		unlink(tmp_config);
		rmdir(imgdir);  /* only when it is new, so empty */
		if (code != 0)
			why_fail(why, "image %s: img-unpack failed (exit %d)", path, code);
		else
			why_fail(why, "image %s: img-unpack --layers printed no layer", path);
		goto out;
	}
	if (replace_file(config, tmp_config, NULL) < 0 ||
	    replace_file(source, tmp_source, abs) < 0 ||
	    replace_file(layers_file, tmp_layers, out) < 0) {
		why_fail(why, "write %s: %s", layers_file, strerror(errno));
		goto out;
	}
	/* The stamp of the file as it was before img-unpack read it (stamp). */
	if (stamp && replace_file(stamp_file, tmp_stamp, stamp) < 0) {
		why_fail(why, "write %s: %s", stamp_file, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(out);
	strv_free(&args);
	free(stamp);
	free(tmp_stamp);
	free(stamp_file);
	free(abs);
	free(tmp_source);
	free(tmp_layers);
	free(tmp_config);
	free(source);
	free(layers_file);
	free(config);
	free(layers_store);
	free(imgdir);
	return ret;
}

/* Where `make images` leaves the teaching images, next to our bin/. */
static char *teaching_image(const char *name)
{
	static const char *const forms[] = { "%s/%s.tar", "%s/%s-oci", NULL };
	const char *env = getenv("MINIDOCK_IMAGES");
	char *dir = env && *env ? xstrdup(env) : NULL;
	size_t i;

	if (!dir) {
		char *self = tool_path("..");
		if (!self)
			return NULL;
		dir = xasprintf("%s/images/build", self);
		free(self);
	}
	for (i = 0; forms[i]; i++) {
		char *p = xasprintf(forms[i], dir, name);
		if (access(p, R_OK) == 0) {
			free(dir);
			return p;
		}
		free(p);
	}
	free(dir);
	return NULL;
}

/* Read what the store says of image NAME: its layers and its config. */
static int load_image(struct run_image *img, const char *name, char **why)
{
	char *imgdir = xasprintf("%s/images/%s", md_lib_dir(), name);
	char *lf = xasprintf("%s/layers", imgdir);
	char *cf = xasprintf("%s/config.json", imgdir);
	char *text = read_file(lf, NULL), *line, *save = NULL;
	json_error_t jerr;
	int ret = -1;

	img->name = xstrdup(name);
	if (!text) {
		why_fail(why, "image %s: %s: %s", name, lf, strerror(errno));
		goto out;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct stat st;
		errno = 0;
		if (stat(line, &st) < 0 || !S_ISDIR(st.st_mode)) {
			why_fail(why, "image %s: layer %s: %s", name, line,
				 strerror(errno ? errno : ENOTDIR));
			goto out;
		}
		strv_push(&img->layers, line);
	}
	img->root = json_load_file(cf, 0, &jerr);
	if (img->root) {
		/* Accept the whole image config or only its "config" part. */
		img->config = json_object_get(img->root, "config");
		if (!json_is_object(img->config))
			img->config = json_is_object(img->root) ? img->root : NULL;
	} else if (access(cf, F_OK) == 0) {
		why_fail(why, "image %s: %s: %s", name, cf, jerr.text);
		goto out;
	}
	ret = 0;
out:
	free(text);
	free(cf);
	free(lf);
	free(imgdir);
	return ret;
}

/*
 * REF names a registry ("localhost:5000/app") and is no file: the image
 * pulled before, or pulled now by img-pull, as `docker run` does.
 */
static int find_pulled(const char *ref, int rootless, struct run_image *img, char **why)
{
	struct reg_ref r;
	char *name, *layers, *out = NULL;
	char *args[] = { (char *)"--verbose", (char *)ref, NULL };
	int code, ret = -1;

	(void)rootless;
	if (reg_ref_parse(ref, &r, why) < 0)
		return -1;
	name = reg_ref_store_name(&r);
	layers = xasprintf("%s/images/%s/layers", md_lib_dir(), name);
	if (access(layers, F_OK) < 0) {
		warn_x("unable to find image '%s' in %s/images: pulling it (img-pull)", ref,
		       md_lib_dir());
		code = run_tool("img-pull", md_verbose ? args : args + 1, &out, 0);
		if (code != 0) {
			why_fail(why, "image %s: img-pull failed (exit %d)", ref, code);
			goto out;
		}
	}
	ret = load_image(img, name, why);
out:
	free(out);
	free(layers);
	free(name);
	reg_ref_free(&r);
	return ret;
}

/* NAME is an image of the store or a teaching image (else Docker Hub's). */
static int known_here(const char *name)
{
	char *layers, *teach;
	int known;

	if (!valid_name(name))
		return 0;
	layers = xasprintf("%s/images/%s/layers", md_lib_dir(), name);
	teach = access(layers, F_OK) == 0 ? NULL : teaching_image(name);
	known = access(layers, F_OK) == 0 || teach;
	free(teach);
	free(layers);
	return known;
}

/*
 * Whether REF, a name with a '/', is a registry's image rather than a file:
 * no such file here, and it does not look like a path (/x, ./x, ../x,
 * x.tar): localhost:5000/x and quay.io/x name their registry,
 * library/debian and bitnami/nginx:1 are Docker Hub's, as with docker run.
 */
static int registry_ref(const char *ref)
{
	static const char *const archive[] = { ".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.xz" };
	size_t i, len = strlen(ref), n;

	if (!strchr(ref, '/') || access(ref, F_OK) == 0 || errno != ENOENT)
		return 0;
	if (ref[0] == '/' || !strncmp(ref, "./", 2) || !strncmp(ref, "../", 3) || ref[0] == '~')
		return 0;
	for (i = 0; i < sizeof(archive) / sizeof(*archive); i++)
		if (len > (n = strlen(archive[i])) && !strcmp(ref + len - n, archive[i]))
			return 0;
	return 1;
}

char *runimage_name(const char *ref)
{
	struct reg_ref r;
	char *why = NULL, *name;
	size_t len;

	if (registry_ref(ref) && reg_ref_parse(ref, &r, &why) == 0) {
		name = reg_ref_store_name(&r);
		reg_ref_free(&r);
		return name;
	}
	free(why);
	why = NULL;
	if (strchr(ref, '/'))
		return name_of_path(ref);
	name = xstrdup(ref);
	len = strlen(name);
	if (len > 7 && !strcmp(name + len - 7, ":latest"))
		name[len - 7] = '\0';
	if (!known_here(name) && reg_ref_parse(ref, &r, &why) == 0) {
		/* debian:12: pulled from Docker Hub (runimage_find) */
		free(name);
		name = reg_ref_store_name(&r);
		reg_ref_free(&r);
	}
	free(why);
	return name;
}

int runimage_find(const char *ref, int rootless, struct run_image *img, char **why)
{
	char *name, *teach = NULL, *recorded = NULL;
	int ret = -1;

	*why = NULL;
	if (registry_ref(ref))
		return find_pulled(ref, rootless, img, why);
	if (strchr(ref, '/')) {
		name = name_of_path(ref);
		if (!valid_name(name)) {
			why_fail(why, "image %s: cannot name it after its file (%s)", ref, name);
			goto out;
		}
		if (imported_unchanged(ref, name))
			vlog("image %s: %s unchanged since imported (inode, size, mtime), "
			     "not read again", name, ref);
		else if (runimage_import(ref, NULL, name, rootless, why) < 0)
			goto out;
	} else {
		size_t len = strlen(ref);
		name = xstrdup(ref);
		/* busybox:latest is busybox: the store keeps one tag a name. */
		if (len > 7 && !strcmp(ref + len - 7, ":latest"))
			name[len - 7] = '\0';
		if (valid_name(name))
			recorded = xasprintf("%s/images/%s/layers", md_lib_dir(), name);
		if (recorded && access(recorded, F_OK) == 0) {
			vlog("image %s: already in %s/images, nothing to unpack", name, md_lib_dir());
		} else if (recorded && (teach = teaching_image(name))) {
			if (runimage_import(teach, NULL, name, rootless, why) < 0)
				goto out;
		} else {
			/* Neither here nor a teaching image: Docker Hub's, as
			 * `docker run debian:12` (docker.io/library/debian:12). */
			ret = find_pulled(ref, rootless, img, why);
			if (ret < 0 && *why && strstr(*why, "img-pull failed")) {
				free(*why);
				*why = NULL;
				why_fail(why, "image %s: unknown; import it by giving its path "
					 "(run ./%s.tar ..., a docker save archive, an OCI layout or a "
					 "rootfs tarball), or build the teaching image with: make "
					 "images (img-pull %s failed too)", ref, name, ref);
			}
			goto out;
		}
	}
	ret = load_image(img, name, why);
out:
	free(teach);
	free(recorded);
	free(name);
	return ret;
}

int runimage_copy(const struct run_image *img, const char *rootfs, char **why)
{
	char *source_file = xasprintf("%s/images/%s/source", md_lib_dir(), img->name);
	char *source = read_file(source_file, NULL);
	char *args[] = { (char *)"--verbose", source, (char *)rootfs, NULL };
	int code, ret = -1;

	*why = NULL;
	if (!source) {
		why_fail(why, "image %s: %s: %s", img->name, source_file, strerror(errno));
		goto out;
	}
	/* img-unpack wants to create DEST itself. */
	if (rmdir(rootfs) < 0) {
		why_fail(why, "rmdir %s: %s", rootfs, strerror(errno));
		goto out;
	}
	code = run_tool("img-unpack", md_verbose ? args : args + 1, NULL, 0);
	if (code != 0) {
		why_fail(why, "image %s: img-unpack %s %s failed (exit %d)", img->name, source,
			 rootfs, code);
		goto out;
	}
	ret = 0;
out:
	free(source);
	free(source_file);
	return ret;
}

const char *runimage_string(const struct run_image *img, const char *key)
{
	json_t *v = img->config ? json_object_get(img->config, key) : NULL;

	return json_is_string(v) && json_string_value(v)[0] ? json_string_value(v) : NULL;
}

/* The strings of JSON array A (anything else in it is skipped). */
static void push_json_strings(struct strv *s, json_t *a)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (json_is_string(v))
			strv_push(s, json_string_value(v));
}

int runimage_command(const struct run_image *img, const struct run_options *o,
		     struct strv *cmd, char **why)
{
	char **a;

	*why = NULL;
	if (o->entrypoint) {
		if (o->entrypoint[0])
			strv_push(cmd, o->entrypoint);
	} else if (img->config) {
		push_json_strings(cmd, json_object_get(img->config, "Entrypoint"));
	}
	if (o->command[0])
		for (a = o->command; *a; a++)
			strv_push(cmd, *a);
	else if (!o->entrypoint && img->config)
		push_json_strings(cmd, json_object_get(img->config, "Cmd"));
	if (cmd->n == 0)
		return why_fail(why, "image %s has no Cmd nor Entrypoint: give a COMMAND",
				img->name);
	return 0;
}

static int has_var(const struct strv *env, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < env->n; i++)
		if (!strncmp(env->v[i], name, n) && env->v[i][n] == '=')
			return 1;
	return 0;
}

void runimage_env(const struct run_image *img, const struct run_options *o,
		  const char *hostname, struct strv *env)
{
	size_t i;

	if (img->config)
		push_json_strings(env, json_object_get(img->config, "Env"));
	if (!has_var(env, "PATH"))
		strv_push(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	strv_pushf(env, "HOSTNAME=%s", hostname);
	if (o->tty)
		strv_push(env, "TERM=xterm");
	for (i = 0; i < o->env.n; i++) {
		const char *e = o->env.v[i];
		if (strchr(e, '=')) {
			strv_push(env, e);
		} else if (getenv(e)) {
			/* -e NAME: the host's value, as docker does. */
			strv_pushf(env, "%s=%s", e, getenv(e));
		}
	}
}

void runimage_home(const char *rootfs, const char *user, struct strv *env)
{
	unsigned long long uid = 0;
	struct md_user u = { 0 };
	int rootfd, found = 0;

	if (has_var(env, "HOME"))
		return;
	/* USER is "UID" or "UID:GID" by now (runimage_user). */
	if (user)
		uid = strtoull(user, NULL, 10);
	rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd >= 0) {
		found = passwd_lookup(rootfd, NULL, (uid_t)uid, &u) > 0;
		close(rootfd);
	}
	strv_pushf(env, "HOME=%s", found ? u.home : "/");
	if (found)
		user_free(&u);
}

void runimage_free(struct run_image *img)
{
	free(img->name);
	strv_free(&img->layers);
	json_decref(img->root);
	img->name = NULL;
	img->root = img->config = NULL;
}

/* Why the image's /etc/passwd or /etc/group could not be read. */
static const char *unreadable(int e)
{
	return e == EINVAL ? "not a regular file" : e == EFBIG ? "larger than 1 MiB" : strerror(e);
}

char *runimage_user(const char *rootfs, const char *spec, char **why)
{
	char *s = xstrdup(spec), *group = strchr(s, ':'), *out = NULL;
	unsigned long long uid, gid = 0;
	int rootfd, found, has_gid = 0;
	struct md_user u;
	gid_t g;

	*why = NULL;
	if (group)
		*group++ = '\0';
	if ((rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		why_fail(why, "open %s: %s", rootfs, strerror(errno));
		goto out;
	}
	if (parse_uint(s, UINT32_MAX - 1, &uid) < 0) {
		if ((found = passwd_lookup(rootfd, s, 0, &u)) <= 0) {
			if (found < 0)
				why_fail(why, "--user %s: no user %s: the image's /etc/passwd: %s",
					 spec, s, unreadable(errno));
			else
				why_fail(why, "--user %s: no user %s in the image's /etc/passwd",
					 spec, s);
			goto out;
		}
		uid = u.uid;
		gid = u.gid;
		has_gid = 1;
		user_free(&u);
	}
	if (group && parse_uint(group, UINT32_MAX - 1, &gid) < 0) {
		if ((found = group_lookup(rootfd, group, &g)) <= 0) {
			if (found < 0)
				why_fail(why, "--user %s: no group %s: the image's /etc/group: %s",
					 spec, group, unreadable(errno));
			else
				why_fail(why, "--user %s: no group %s in the image's /etc/group",
					 spec, group);
			goto out;
		}
		gid = g;
	}
	out = group || has_gid ? xasprintf("%llu:%llu", uid, gid) : xasprintf("%llu", uid);
out:
	if (rootfd >= 0)
		close(rootfd);
	free(s);
	return out;
}
