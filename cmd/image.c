/*
 * image - the images minidock holds: list them, look inside one, give one
 * another name, remove them, and remove the layers no image uses.
 * The companion of `container`, as `docker image` is of `docker container`.
 *
 * An image in the store is nothing but files (runimage.h, imagestore.h):
 *
 *   images/NAME/layers        the layer directories, lowest first: what
 *                             run stacks with overlayfs
 *   images/NAME/config.json   Env, Cmd, WorkingDir...
 *   images/NAME/ref, digest   for a pulled image: its reference and the
 *                             sha256 of its manifest
 *   layers/sha256/<diff_id>/  each layer once, shared by the images
 *   oci/                      the pulled images as an OCI layout
 *
 * So each verb is small:
 *   ls       read each images/NAME;  inspect  read one, and its manifest and config
 *   tag      copy an image's few files under a new name (layers shared)
 *   rm       remove images/NAME (not while a container uses it, unless -f)
 *   prune    remove each layer directory and blob no image names
 *
 * Read: the image spec's manifest.md and config.md; unlinkat(2).
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "containers.h"
#include "imageref.h"
#include "imagestore.h"
#include "lifecycle.h"
#include "minidock.h"
#include "verbs.h"
#include "runimage.h"
#include "store.h"

static const char usage_text[] =
"Usage: image ls [-q]\n"
"       image inspect [--json] NAME\n"
"       image tag SRC DST\n"
"       image rm [-f] NAME...\n"
"       image prune\n"
"The images run and img-pull keep (in $MINIDOCK_LIB_DIR, /var/lib/minidock).\n"
"NAME is a store name (as image ls prints it) or a reference (localhost:5000/app).\n"
"\n"
"  ls        every image: name, reference, digest, size, created (-q: names only)\n"
"  inspect   its layers, config (Env, Cmd...) and history (--json: as JSON)\n"
"  tag       the image SRC also as DST (a name, or a reference for img-push)\n"
"  rm        remove images (refused while a container uses one, unless -f)\n"
"  prune     remove the layers and blobs no image uses\n"
"  --verbose every step;  --help;  --version\n"
"\n"
"Example: img-pull localhost:5000/busybox;  image ls;  image rm localhost:5000/busybox\n";

static int cmd_ls(int argc, char **argv);
static int cmd_inspect(int argc, char **argv);
static int cmd_tag(int argc, char **argv);
static int cmd_rm(int argc, char **argv);
static int cmd_prune(int argc, char **argv);

static const struct verb verbs[] = {
	{ "ls", cmd_ls }, { "inspect", cmd_inspect }, { "tag", cmd_tag },
	{ "rm", cmd_rm }, { "prune", cmd_prune }, { NULL, NULL },
};

int main(int argc, char **argv)
{
	md_init("image");
	return verbs_main(argc, argv, usage_text, verbs);
}

/* ---- what the store says of one image ---- */

/* ARG (a store name or a reference) as the store names it; exits when
 * there is no such image. */
static char *find_image(const char *arg)
{
	char *name = valid_name(arg) ? xstrdup(arg) : runimage_name(arg), *layers;

	if (!valid_name(name))
		die_x("%s: not an image name", arg);
	layers = store_image_file(name, "layers");
	if (access(layers, F_OK) < 0)
		die_x("%s: no such image (see: image ls)", arg);
	free(layers);
	return name;
}

/* ---- ls ---- */

static int cmd_ls(int argc, char **argv)
{
	struct strv names = { 0 };
	int quiet = argc > 1 && !strcmp(argv[1], "-q");

	if (argc > 1 + quiet)
		die_x("ls: expected no argument but -q");
	if (store_image_names(&names) < 0)
		die("opendir %s/images", md_lib_dir());
	if (!quiet)
		printf("%-32s %-40s %-19s %9s  %s\n", "NAME", "REFERENCE", "DIGEST", "SIZE",
		       "CREATED");
	for (size_t i = 0; i < names.n; i++) {
		char *ref = store_image_text(names.v[i], "ref"), *dg = store_image_text(names.v[i], "digest");
		json_t *cfg = quiet ? NULL : store_image_config(names.v[i], NULL);
		const char *created = json_string_value(json_object_get(cfg, "created"));

		if (quiet)
			printf("%s\n", names.v[i]);
		else
			printf("%-32s %-40s %-19.19s %8.1fM  %.19s\n", names.v[i], ref ? ref : "-",
			       dg ? dg : "-", (double)store_image_size(names.v[i]) / (1 << 20),
			       created ? created : "-");
		json_decref(cfg);
		free(dg);
		free(ref);
	}
	strv_free(&names);
	return 0;
}

/* ---- inspect ---- */

static int cmd_inspect(int argc, char **argv)
{
	int json = argc > 1 && !strcmp(argv[1], "--json");
	char *name, *layers, *cf, *ref, *dg;
	json_t *all, *cfg, *manifest = NULL, *full, *l;

	if (argc != 2 + json)
		die_x("inspect: expected [--json] NAME");
	name = find_image(argv[1 + json]);
	layers = store_image_text(name, "layers");
	ref = store_image_text(name, "ref");
	dg = store_image_text(name, "digest");
	cf = store_image_file(name, "config.json");
	cfg = json_load_file(cf, 0, NULL);
	full = store_image_config(name, &manifest);
	l = json_array();
	for (char *line = layers, *nl; line && *line; line = nl ? nl + 1 : line + strlen(line)) {
		nl = strchr(line, '\n');
		json_array_append_new(l, json_stringn(line, nl ? (size_t)(nl - line) : strlen(line)));
	}
	all = json_pack("{s:s, s:s?, s:s?, s:o, s:O?, s:O?, s:O?, s:O?}", "name", name,
			"reference", ref, "digest", dg, "layers", l, "config", cfg,
			"created", json_object_get(full, "created"),
			"history", json_object_get(full, "history"), "manifest", manifest);
	if (!all)
		die_x("inspect %s: out of memory", name);
	if (json) {
		if (json_dumpf(all, stdout, JSON_INDENT(2)) < 0)
			die("stdout");
		putchar('\n');
	} else {
		json_t *h;
		size_t i;
		printf("name:       %s\nreference:  %s\ndigest:     %s\ncreated:    %s\nlayers:\n",
		       name, ref ? ref : "-", dg ? dg : "-",
		       json_string_value(json_object_get(full, "created")) ?
		       json_string_value(json_object_get(full, "created")) : "-");
		json_array_foreach(l, i, h)
			printf("  %zu. %s\n", i + 1, json_string_value(h));
		printf("config:     ");
		if (cfg)
			json_dumpf(cfg, stdout, JSON_COMPACT);
		printf("\nhistory:\n");
		json_array_foreach(json_object_get(full, "history"), i, h)
			printf("  %.19s  %s\n",
			       json_string_value(json_object_get(h, "created")) ?
			       json_string_value(json_object_get(h, "created")) : "-",
			       json_string_value(json_object_get(h, "created_by")) ?
			       json_string_value(json_object_get(h, "created_by")) : "-");
	}
	json_decref(all);
	json_decref(cfg);
	json_decref(full);
	json_decref(manifest);
	free(cf);
	free(dg);
	free(ref);
	free(layers);
	free(name);
	return 0;
}

/* ---- tag ---- */

static int cmd_tag(int argc, char **argv)
{
	static const char *const files[] = { "layers", "config.json", "source", "digest", NULL };
	struct reg_ref dref;
	char *src, *dst, *why = NULL, *dir, *full = NULL;
	int is_ref;

	if (argc != 3)
		die_x("tag: expected SRC DST");
	src = find_image(argv[1]);
	is_ref = reg_ref_has_registry(argv[2]);
	if (is_ref && reg_ref_parse(argv[2], &dref, &why) < 0)
		die_x("tag: %s", why);
	dst = is_ref ? reg_ref_store_name(&dref) : xstrdup(argv[2]);
	if (!valid_name(dst))
		die_x("tag: %s: use 1 to 64 of A-Z a-z 0-9 _ . - (or a reference with a registry)",
		      argv[2]);
	dir = store_image_file(dst, NULL);
	if (mkdir_p(dir, 0755) < 0)
		die("mkdir %s", dir);
	/* The few files that make an image; "layers" last: it says the image
	 * is there. */
	for (int i = 3; i >= 0; i--) {
		char *from = store_image_file(src, files[i]), *to = store_image_file(dst, files[i]);
		char *text = read_file(from, NULL);
		if (text && write_file(to, text) < 0)
			die("write %s", to);
		vlog("%s -> %s", from, to);
		free(text);
		free(to);
		free(from);
	}
	if (is_ref) {
		/* In the OCI layout too, so img-push DST finds it. */
		char *ref = store_image_text(src, "ref"), *layout = store_layout(), *f;
		json_t *index = layout_index(layout), *d, *copy = NULL;
		size_t i;
		full = reg_ref_string(&dref);
		json_array_foreach(json_object_get(index, "manifests"), i, d) {
			const char *r = json_string_value(json_object_get(
				json_object_get(d, "annotations"), "org.opencontainers.image.ref.name"));
			if (ref && r && !strcmp(r, ref))
				copy = json_deep_copy(d);
		}
		if (copy && layout_set(layout, full, copy) < 0)
			die("%s/index.json", layout);
		f = store_image_file(dst, "ref");
		if (copy && write_file(f, full) < 0)
			die("write %s", f);
		free(f);
		json_decref(copy);
		json_decref(index);
		free(layout);
		free(ref);
		reg_ref_free(&dref);
	}
	free(full);
	free(dir);
	free(dst);
	free(src);
	return 0;
}

/* ---- rm ---- */

/* The first container whose image is NAME, malloc'd, or NULL. */
static char *used_by(const char *name)
{
	struct strv names = { 0 };
	char *user = NULL;

	if (life_names(&names) < 0 && errno != ENOENT)
		die("%s", md_run_dir());
	for (size_t i = 0; i < names.n && !user; i++) {
		struct container c;
		if (container_load(names.v[i], &c) < 0)
			continue;
		char *img = runimage_name(container_str(&c, "image"));
		if (!strcmp(img, name))
			user = xstrdup(names.v[i]);
		free(img);
		container_free(&c);
	}
	strv_free(&names);
	return user;
}

static int cmd_rm(int argc, char **argv)
{
	int force = argc > 1 && !strcmp(argv[1], "-f");

	if (argc < 2 + force)
		die_x("rm: expected [-f] NAME...");
	for (int i = 1 + force; i < argc; i++) {
		char *name = find_image(argv[i]), *user = used_by(name), *dir, *ref;
		if (user && !force)
			die_x("rm %s: container %s uses it (container rm %s first, or image rm -f)",
			      argv[i], user, user);
		ref = store_image_text(name, "ref");
		if (ref) {
			char *layout = store_layout();
			if (layout_set(layout, ref, NULL) < 0 && errno != ENOENT)
				die("%s/index.json", layout);
			free(layout);
		}
		dir = store_image_file(name, NULL);
		vlog("rm -rf %s (unlinkat(2) below it)", dir);
		if (rm_rf(dir) < 0)
			die("rm %s", dir);
		printf("%s\n", name);
		free(dir);
		free(ref);
		free(user);
		free(name);
	}
	return 0;
}

/* ---- prune ---- */

/* Remove every entry of DIR whose name (a sha256 hex) is not in KEEP. */
static void prune_dir(const char *dir, const char *keep, const char *what)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *p, *needle;
		if (de->d_name[0] == '.' || strlen(de->d_name) != 64)
			continue;
		needle = xasprintf("%s\n", de->d_name);
		if (!strstr(keep, needle)) {
			p = xasprintf("%s/%s", dir, de->d_name);
			if (rm_rf(p) < 0)
				die("rm %s", p);
			printf("deleted %s sha256:%s\n", what, de->d_name);
			free(p);
		}
		free(needle);
	}
	closedir(d);
}

static int cmd_prune(int argc, char **argv)
{
	struct strv names = { 0 };
	char *keep = xstrdup("\n"), *layout = store_layout(), *dir;
	json_t *index = layout_index(layout), *d;
	size_t i;

	(void)argv;
	if (argc != 1)
		die_x("prune: expected no argument");
	/* What the images name: their layer directories... */
	if (store_image_names(&names) < 0)
		die("opendir %s/images", md_lib_dir());
	for (i = 0; i < names.n; i++) {
		char *list = store_image_text(names.v[i], "layers"), *line, *save = NULL, *k;
		for (line = list ? strtok_r(list, "\n", &save) : NULL; line;
		     line = strtok_r(NULL, "\n", &save)) {
			k = xasprintf("%s%s\n", keep, strrchr(line, '/') ? strrchr(line, '/') + 1 : line);
			free(keep);
			keep = k;
		}
		free(list);
	}
	/* ...and in the OCI layout, the manifests with their config and layers. */
	json_array_foreach(json_object_get(index, "manifests"), i, d) {
		const char *md = json_string_value(json_object_get(d, "digest"));
		json_t *m = md ? layout_json_blob(layout, md) : NULL, *l;
		size_t k;
		char *s = xasprintf("%s%s\n%s\n", keep, md ? md + 7 : "",
				    json_string_value(json_object_get(json_object_get(m, "config"),
								      "digest")) ?
				    json_string_value(json_object_get(json_object_get(m, "config"),
								      "digest")) + 7 : "");
		free(keep);
		keep = s;
		json_array_foreach(json_object_get(m, "layers"), k, l) {
			const char *ld = json_string_value(json_object_get(l, "digest"));
			s = xasprintf("%s%s\n", keep, ld && strlen(ld) > 7 ? ld + 7 : "");
			free(keep);
			keep = s;
		}
		json_decref(m);
	}
	dir = xasprintf("%s/layers/sha256", md_lib_dir());
	prune_dir(dir, keep, "layer");
	free(dir);
	dir = xasprintf("%s/blobs/sha256", layout);
	if (index)
		prune_dir(dir, keep, "blob");
	free(dir);
	json_decref(index);
	strv_free(&names);
	free(layout);
	free(keep);
	return 0;
}
