/*
 * image.c - reading container images (OCI image spec, docker save) and
 * applying their layers to a directory.  See image.h for the words.
 *
 * Three separate steps, in this order in the file:
 *   1. parsing the JSON documents (index, manifest, config): pure functions;
 *   2. finding files in an image (a directory, a tar archive, a pipe) and
 *      following index -> manifest -> config to one image;
 *   3. applying a layer: a tar stream read through libarchive (a thread
 *      decompresses and hashes, the main thread writes), every entry
 *      created with *at() calls relative to the destination, every path
 *      resolved by openat2(2) with RESOLVE_IN_ROOT, so that no name and
 *      no symlink in a hostile layer can reach outside.
 * Nothing is ever held whole in memory but the small JSON files: a layer
 * flows through in 256 KB pieces, whatever its size.
 * Read openat2(2), symlink(7), archive_read(3), pthread_cond_wait(3), and
 * the OCI image spec's image-layout.md, manifest.md, config.md, layer.md.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image.h"
#include "minidock.h"

/* ------------------------------------------------------------------ */
/* errors                                                              */

/* Per thread: a layer is decompressed by a thread of its own. */
static __thread char errbuf[1024];

const char *img_error(void)
{
	return errbuf;
}

/* Record "message" (and errno's text when WITH_ERRNO) and return -1. */
static int __attribute__((format(printf, 2, 3))) fail_as(int with_errno, const char *fmt, ...)
{
	char msg[sizeof(errbuf)];   /* the arguments may be errbuf itself */
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* (A message too long is cut: snprintf's result is not needed.) */
	if (snprintf(errbuf, sizeof(errbuf), with_errno ? "%s: %s" : "%s", msg,
		     strerror(e)) < 0)
		errbuf[0] = '\0';
	errno = e;
	return -1;
}
#define fail(...) fail_as(0, __VA_ARGS__)
#define fail_errno(...) fail_as(1, __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* 1. the JSON documents                                               */

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
		fail("%s: invalid JSON: %s (line %d)", what, e.text, e.line);
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
		return fail("%s: \"%s\" is not a string", what, key);
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
		return fail("%s: a descriptor is not a JSON object", what);
	if (get_string(o, "mediaType", &d->media_type, what) < 0 ||
	    get_string(o, "digest", &d->digest, what) < 0)
		goto bad;
	if (!d->digest) {
		fail("%s: a descriptor has no \"digest\"", what);
		goto bad;
	}
	if (!img_valid_digest(d->digest)) {
		fail("%s: unsupported digest \"%.80s\" (expected sha256:<64 hex digits>)",
		     what, d->digest);
		goto bad;
	}
	d->path = xasprintf("blobs/sha256/%s", d->digest + 7);
	size = json_object_get(o, "size");
	if (size) {
		if (!json_is_integer(size) || json_integer_value(size) < 0) {
			fail("%s: descriptor %s: bad \"size\"", what, d->digest);
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
		return fail("%s: not a JSON array of descriptors", what);
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
		ret = fail("index: not a JSON object");
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
		fail("manifest: not a JSON object");
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
		return fail("%s: not a JSON array", what);
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
			return fail("%s: item %zu is not a %s", what, i,
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
		return fail("manifest.json: not a JSON array");
	}
	count = json_array_size(j);
	*entries = xcalloc(count, sizeof(**entries));
	for (i = 0; i < count; i++) {
		json_t *o = json_array_get(j, i);
		struct img_docker_entry *e = &(*entries)[i];
		json_t *cfg = json_object_get(o, "Config");

		if (!json_is_object(o) || !json_is_string(cfg) ||
		    !valid_member_path(json_string_value(cfg))) {
			fail("manifest.json: image %zu: no valid \"Config\" path", i);
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
		fail("config: not a JSON object");
		goto bad;
	}
	if (get_string(j, "os", &cfg->os, "config") < 0 ||
	    get_string(j, "architecture", &cfg->arch, "config") < 0)
		goto bad;
	rootfs = json_object_get(j, "rootfs");
	if (!json_is_object(rootfs)) {
		fail("config: no \"rootfs\" object");
		goto bad;
	}
	if (parse_strings(json_object_get(rootfs, "diff_ids"), &cfg->diff_ids,
			  &cfg->ndiff_ids, 0, "config \"rootfs.diff_ids\"") < 0)
		goto bad;
	for (i = 0; i < cfg->ndiff_ids; i++) {
		if (!img_valid_digest(cfg->diff_ids[i])) {
			fail("config: diff_id %zu: unsupported digest \"%.80s\"", i, cfg->diff_ids[i]);
			goto bad;
		}
	}
	rt = json_object_get(j, "config");
	if (rt && !json_is_null(rt)) {
		if (!json_is_object(rt)) {
			fail("config: \"config\" is not a JSON object");
			goto bad;
		}
		cfg->runtime = json_incref(rt);
	}
	json_decref(j);
	return 0;
bad:
	img_config_free(cfg);
	json_decref(j);
	return -1;
}

/* ------------------------------------------------------------------ */
/* sha256, with OpenSSL's EVP interface                                */

static EVP_MD_CTX *sha256_new(void)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		die_x("EVP_DigestInit_ex(sha256): failed");
	return c;
}

static void sha256_hex(EVP_MD_CTX *c, char out[72])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	EVP_DigestFinal_ex(c, md, &n);
	strcpy(out, "sha256:");
	for (i = 0; i < n && i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

static int check_digest(const char *buf, size_t len, const char *want, const char *what)
{
	EVP_MD_CTX *c = sha256_new();
	char got[72];

	EVP_DigestUpdate(c, buf, len);
	sha256_hex(c, got);
	EVP_MD_CTX_free(c);
	if (strcmp(got, want) != 0)
		return fail("%s: digest mismatch: expected %s, content is %s", what, want, got);
	return 0;
}

/* ------------------------------------------------------------------ */
/* 2. where the files of an image come from                            */

/*
 * A member of an image archive.  The archive is read once to list its
 * members (keeping the small ones, the JSON files, in memory); a layer is
 * then found by reading the archive again up to it: with a seekable file
 * libarchive skips the members in between with lseek(2).
 */
struct img_member {
	char *name;
	int64_t size;
	char *data;     /* kept in memory, or NULL */
	char *link;     /* a link to another member (docker save links a
			 * layer.tar that two images share): its name */
};

#define KEEP_MAX (1 << 20)        /* a member this small may be kept... */
#define KEEP_BUDGET (16 << 20)    /* ...while all kept ones stay below this */
#define PEEK_SIZE (256 << 10)     /* bytes of standard input looked at first */

struct img_source {
	char *path;             /* for messages */
	enum img_kind kind;
	int dirfd;              /* a directory image, or -1 */
	int fd;                 /* an archive or a tarball (maybe the spool), or -1 */
	int stream;             /* fd is a pipe holding a rootfs tarball */
	char *peek;             /* bytes already read from that pipe */
	size_t peek_len;
	struct img_member *members;
	size_t nmembers;
	size_t kept;
	int has_docker_manifest;    /* manifest.json, beside index.json or not */
};

const char *img_kind_name(enum img_kind kind)
{
	switch (kind) {
	case IMG_OCI: return "OCI image layout";
	case IMG_DOCKER: return "docker save archive before Docker 25: manifest.json, <id>/layer.tar";
	case IMG_ROOTFS: return "root filesystem tarball";
	}
	return "?";
}

const char *img_source_format(const struct img_source *src)
{
	if (src->kind == IMG_OCI && src->has_docker_manifest)
		return "docker save archive of Docker 25+: an OCI image layout and manifest.json";
	return img_kind_name(src->kind);
}

enum img_kind img_source_kind(const struct img_source *src)
{
	return src->kind;
}

/* "./a//b/" -> "a/b" (in place); "" for the root itself. */
static char *normalize_name(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (r[0] == '/' || (r[0] == '.' && (r[1] == '/' || r[1] == '\0') && (r == s || r[-1] == '/'))) {
			r++;
			continue;
		}
		while (*r && *r != '/')
			*w++ = *r++;
		if (*r == '/')
			*w++ = *r++;
	}
	while (w > s && w[-1] == '/')
		w--;
	*w = '\0';
	return s;
}

static int is_hex64(const char *s, size_t n)
{
	if (n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Could NAME belong to an image archive rather than to a root filesystem? */
static int image_like(const char *name)
{
	size_t n = strcspn(name, "/");

	if ((n == 13 && !strncmp(name, "manifest.json", n)) ||
	    (n == 10 && !strncmp(name, "index.json", n)) ||
	    (n == 10 && !strncmp(name, "oci-layout", n)) ||
	    (n == 12 && !strncmp(name, "repositories", n)) ||
	    (n == 5 && !strncmp(name, "blobs", n)))
		return 1;
	if (is_hex64(name, n))
		return 1;
	return n == 69 && is_hex64(name, 64) && !strncmp(name + 64, ".json", 5);
}

/* The member a link named NAME points to: TARGET is relative to NAME's
 * directory (a symlink) or to the top (a hard link, ABSOLUTE).  NULL if it
 * climbs above the top. */
static char *link_target(const char *name, const char *target, int absolute)
{
	const char *slash = strrchr(name, '/');
	char *joined, *out, *tok, *save = NULL;
	size_t w = 0;

	if (absolute || target[0] == '/' || !slash)
		joined = xstrdup(target);
	else
		joined = xasprintf("%.*s/%s", (int)(slash - name), name, target);
	out = xmalloc(strlen(joined) + 1);
	for (tok = strtok_r(joined, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			if (w == 0) {
				free(joined);
				free(out);
				return NULL;
			}
			while (w > 0 && out[w - 1] != '/')
				w--;
			if (w > 0)
				w--;
			continue;
		}
		if (w)
			out[w++] = '/';
		memcpy(out + w, tok, strlen(tok));
		w += strlen(tok);
	}
	out[w] = '\0';
	free(joined);
	return out;
}

static int worth_keeping(const char *name, int64_t size)
{
	size_t len = strlen(name);

	if (size < 0 || size > KEEP_MAX)
		return 0;
	return (len >= 5 && !strcmp(name + len - 5, ".json")) ||
	       !strcmp(name, "oci-layout") || !strncmp(name, "blobs/", 6);
}

static struct archive *archive_reader(int fd)
{
	struct archive *a = archive_read_new();

	if (!a)
		die_x("archive_read_new: out of memory");
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_format_tar(a);
	if (lseek(fd, 0, SEEK_SET) < 0) {
		archive_read_free(a);
		fail_errno("lseek");
		return NULL;
	}
	if (archive_read_open_fd(a, fd, 64 << 10) != ARCHIVE_OK) {
		fail("%s", archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* Read the archive's member list: is it an image, and of which kind? */
static int scan_archive(struct img_source *src)
{
	struct archive *a = archive_reader(src->fd);
	struct archive_entry *e;
	int r, seen = 0, has_manifest = 0, has_index = 0;

	if (!a)
		return fail("%s: not an image (neither a directory nor a tar archive): %s",
			    src->path, img_error());
	src->kind = IMG_ROOTFS;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		char *name = normalize_name(xstrdup(archive_entry_pathname(e) ?
						    archive_entry_pathname(e) : ""));
		int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
		struct img_member *m;

		seen = 1;
		if (!*name) {
			free(name);
			continue;
		}
		if (!image_like(name)) {
			free(name);
			has_manifest = has_index = 0;
			break;
		}
		has_manifest |= !strcmp(name, "manifest.json");
		has_index |= !strcmp(name, "index.json");
		src->members = xrealloc(src->members, (src->nmembers + 1) * sizeof(*m));
		m = &src->members[src->nmembers++];
		m->name = name;
		m->size = size;
		m->data = NULL;
		m->link = NULL;
		if (archive_entry_hardlink(e))
			m->link = link_target(name, archive_entry_hardlink(e), 1);
		else if (archive_entry_filetype(e) == AE_IFLNK && archive_entry_symlink(e))
			m->link = link_target(name, archive_entry_symlink(e), 0);
		if (archive_entry_filetype(e) == AE_IFREG && !m->link && worth_keeping(name, size) &&
		    src->kept + (size_t)size <= KEEP_BUDGET) {
			m->data = xmalloc((size_t)size + 1);
			if (archive_read_data(a, m->data, (size_t)size) != size) {
				fail("%s: %s: %s", src->path, name, archive_error_string(a));
				archive_read_free(a);
				return -1;
			}
			m->data[size] = '\0';
			src->kept += (size_t)size;
		}
	}
	if (r == ARCHIVE_FATAL) {
		if (!seen)
			fail("%s: not an image (neither a directory nor a tar archive): %s",
			     src->path, archive_error_string(a));
		else
			fail("%s: %s", src->path, archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	archive_read_free(a);
	if (!seen)
		return fail("%s: not an image: an empty archive", src->path);
	src->has_docker_manifest = has_manifest;
	if (has_index)
		src->kind = IMG_OCI;
	else if (has_manifest)
		src->kind = IMG_DOCKER;
	else if (src->nmembers > 0 && r == ARCHIVE_EOF)
		return fail("%s: not an image: neither index.json nor manifest.json in it", src->path);
	return 0;
}

static ssize_t read_full(int fd, char *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = read(fd, buf + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/*
 * Standard input: a rootfs tarball can be applied as it flows, but an
 * image archive cannot (docker save writes manifest.json last), so look at
 * the first entry names and, for an image, copy the stream to a temporary
 * file first.
 */
static int peek_is_image(const char *buf, size_t len)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int image = 0;

	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, buf, len) == ARCHIVE_OK) {
		while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
			char *name = normalize_name(xstrdup(archive_entry_pathname(e) ?
							    archive_entry_pathname(e) : ""));
			int done = *name != '\0';
			image = done && image_like(name);
			free(name);
			if (done)
				break;
		}
	}
	archive_read_free(a);
	return image;
}

static int open_stdin(struct img_source *src)
{
	char *buf = xmalloc(PEEK_SIZE);
	ssize_t n = read_full(0, buf, PEEK_SIZE);
	struct stat st;

	if (n < 0) {
		free(buf);
		return fail_errno("standard input: read");
	}
	if (n == 0) {
		free(buf);
		return fail("standard input: not an image: nothing to read");
	}
	if (fstat(0, &st) == 0 && S_ISREG(st.st_mode)) {
		/* "< file": seekable already, no copy needed. */
		free(buf);
		src->fd = dup(0);
		if (src->fd < 0)
			return fail_errno("dup(0)");
		return scan_archive(src);
	}
	if (!peek_is_image(buf, (size_t)n)) {
		vlog("standard input: not an image archive, unpacked as it is read (no temporary file)");
		src->kind = IMG_ROOTFS;
		src->stream = 1;
		src->fd = 0;
		src->peek = buf;
		src->peek_len = (size_t)n;
		return 0;
	}
	{
		const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		int fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		uint64_t total = 0;

		if (fd < 0) {
			free(buf);
			return fail_errno("open(%s, O_TMPFILE)", tmp);
		}
		vlog("open(\"%s\", O_TMPFILE): standard input holds an image archive, "
		     "spooled to a temporary file (its manifest may come last)", tmp);
		while (n > 0) {
			if (write(fd, buf, (size_t)n) != n) {
				int e = errno;
				close(fd);
				free(buf);
				errno = e ? e : ENOSPC;
				return fail_errno("spooling standard input to %s", tmp);
			}
			total += (uint64_t)n;
			n = read_full(0, buf, PEEK_SIZE);
		}
		free(buf);
		if (n < 0) {
			close(fd);
			return fail_errno("standard input: read");
		}
		vlog("spooled %llu bytes", (unsigned long long)total);
		src->fd = fd;
		return scan_archive(src);
	}
}

struct img_source *img_source_open(const char *path)
{
	struct img_source *src = xcalloc(1, sizeof(*src));
	struct stat st;
	int ok;

	src->path = xstrdup(strcmp(path, "-") ? path : "standard input");
	src->dirfd = src->fd = -1;
	if (!strcmp(path, "-")) {
		ok = open_stdin(src);
	} else if (stat(path, &st) < 0) {
		ok = fail_errno("%s", path);
	} else if (S_ISDIR(st.st_mode)) {
		/* An OCI layout (index.json), or an unpacked docker save. */
		ok = 0;
		src->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (src->dirfd < 0)
			ok = fail_errno("open %s", path);
		else if (faccessat(src->dirfd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
			src->kind = IMG_OCI;
			src->has_docker_manifest = faccessat(src->dirfd, "manifest.json", F_OK,
							     AT_SYMLINK_NOFOLLOW) == 0;
		}
		else if (faccessat(src->dirfd, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			src->kind = IMG_DOCKER;
		else
			ok = fail("%s: not an image: a directory without index.json or manifest.json", path);
	} else {
		src->fd = open(path, O_RDONLY | O_CLOEXEC);
		ok = src->fd < 0 ? fail_errno("open %s", path) : scan_archive(src);
	}
	if (ok < 0) {
		img_source_close(src);
		return NULL;
	}
	return src;
}

void img_source_close(struct img_source *src)
{
	if (!src)
		return;
	for (size_t i = 0; i < src->nmembers; i++) {
		free(src->members[i].name);
		free(src->members[i].data);
		free(src->members[i].link);
	}
	free(src->members);
	if (src->dirfd >= 0)
		close(src->dirfd);
	if (src->fd > 0)
		close(src->fd);
	free(src->peek);
	free(src->path);
	free(src);
}

/* Member NAME, following links (a few hops: a loop is not found). */
static struct img_member *find_member(struct img_source *src, const char *name)
{
	for (int hops = 0; hops < 8; hops++) {
		struct img_member *m = NULL;

		for (size_t i = 0; i < src->nmembers && !m; i++)
			if (!strcmp(src->members[i].name, name))
				m = &src->members[i];
		if (!m || !m->link)
			return m;
		name = m->link;
	}
	return NULL;
}

int64_t img_source_size(struct img_source *src, const char *name)
{
	struct stat st;
	struct img_member *m;

	if (src->dirfd >= 0) {
		int fd = open_in_root(src->dirfd, name, O_RDONLY, 0);
		int ok = fd >= 0 && fstat(fd, &st) == 0;
		if (fd >= 0)
			close(fd);
		return ok ? st.st_size : -1;
	}
	m = find_member(src, name);
	return m ? m->size : -1;
}

/* ---- the stream of one blob ---- */

struct img_reader {
	struct img_source *src;
	int fd;                 /* a file of a directory image, or the tarball */
	int own_fd;
	struct archive *ar;     /* the image archive, at the member */
	const char *mem;        /* a member kept in memory, or the peeked bytes */
	size_t mem_len;
	char *buf;
	EVP_MD_CTX *sha;
	uint64_t bytes;
	int eof;
};

struct img_reader *img_reader_open(struct img_source *src, const char *name)
{
	struct img_reader *r = xcalloc(1, sizeof(*r));

	r->src = src;
	r->fd = -1;
	r->sha = sha256_new();
	if (!name) {
		/* The whole source is one layer: a rootfs tarball. */
		if (src->stream) {
			r->fd = src->fd;
			r->mem = src->peek;
			r->mem_len = src->peek_len;
			src->peek_len = 0;  /* a pipe can be read once */
		} else if (lseek(src->fd, 0, SEEK_SET) < 0) {
			fail_errno("%s: lseek", src->path);
			goto bad;
		} else {
			r->fd = src->fd;
		}
	} else if (src->dirfd >= 0) {
		r->fd = open_in_root(src->dirfd, name, O_RDONLY, 0);
		if (r->fd < 0) {
			fail_errno("%s: %s", src->path, name);
			if (errno == ENOENT)
				fail("%s: %s: not found in the image", src->path, name);
			goto bad;
		}
		r->own_fd = 1;
	} else {
		struct img_member *m = find_member(src, name);
		struct archive_entry *e;
		int st;

		if (!m) {
			fail("%s: %s: not found in the image", src->path, name);
			goto bad;
		}
		if (m->data) {
			r->mem = m->data;
			r->mem_len = (size_t)m->size;
			r->eof = 1;     /* after mem */
		} else {
			r->ar = archive_reader(src->fd);
			if (!r->ar)
				goto bad;
			while ((st = archive_read_next_header(r->ar, &e)) == ARCHIVE_OK ||
			       st == ARCHIVE_WARN) {
				char *n = normalize_name(xstrdup(archive_entry_pathname(e) ?
								 archive_entry_pathname(e) : ""));
				int found = !strcmp(n, m->name);
				free(n);
				if (found)
					break;
			}
			if (st != ARCHIVE_OK && st != ARCHIVE_WARN) {
				fail("%s: %s: %s", src->path, name,
				     st == ARCHIVE_EOF ? "not found in the image"
						       : archive_error_string(r->ar));
				goto bad;
			}
		}
	}
	if (!r->mem || r->ar || r->fd >= 0)
		r->buf = xmalloc(128 << 10);
	return r;
bad:
	img_reader_close(r);
	return NULL;
}

ssize_t img_reader_next(struct img_reader *r, const void **buf)
{
	ssize_t n;

	if (r->mem_len) {
		*buf = r->mem;
		n = (ssize_t)r->mem_len;
		r->mem_len = 0;
	} else if (r->ar) {
		size_t size;
		la_int64_t off;
		int st = archive_read_data_block(r->ar, buf, &size, &off);
		if (st == ARCHIVE_EOF)
			return 0;
		if (st != ARCHIVE_OK && st != ARCHIVE_WARN)
			return fail("%s: %s", r->src->path, archive_error_string(r->ar));
		n = (ssize_t)size;
	} else if (r->fd >= 0 && !r->eof) {
		do
			n = read(r->fd, r->buf, 128 << 10);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return fail_errno("%s: read", r->src->path);
		*buf = r->buf;
	} else {
		return 0;
	}
	EVP_DigestUpdate(r->sha, *buf, (size_t)n);
	r->bytes += (uint64_t)n;
	return n;
}

uint64_t img_reader_bytes(const struct img_reader *r)
{
	return r->bytes;
}

void img_reader_digest(struct img_reader *r, char out[72])
{
	sha256_hex(r->sha, out);
}

void img_reader_close(struct img_reader *r)
{
	if (!r)
		return;
	if (r->ar)
		archive_read_free(r->ar);
	if (r->own_fd && r->fd >= 0)
		close(r->fd);
	EVP_MD_CTX_free(r->sha);
	free(r->buf);
	free(r);
}

char *img_source_read(struct img_source *src, const char *name, size_t max, size_t *len)
{
	struct img_reader *r = img_reader_open(src, name);
	size_t used = 0, cap = 4096;
	char *out;
	const void *p;
	ssize_t n;

	if (!r)
		return NULL;
	out = xmalloc(cap);
	while ((n = img_reader_next(r, &p)) > 0) {
		if (used + (size_t)n > max) {
			fail("%s: %s: larger than %zu bytes, too large for a JSON file",
			     src->path, name, max);
			goto bad;
		}
		while (used + (size_t)n + 1 > cap)
			cap *= 2;
		out = xrealloc(out, cap);
		memcpy(out + used, p, (size_t)n);
		used += (size_t)n;
	}
	if (n < 0)
		goto bad;
	img_reader_close(r);
	out[used] = '\0';
	*len = used;
	return out;
bad:
	img_reader_close(r);
	free(out);
	return NULL;
}

/* ---- following index -> manifest -> config ---- */

#define JSON_MAX (4 << 20)

/* Read blob D (a JSON document), checking its digest when VERIFY. */
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
		fail("%s %s: size mismatch: expected %lld bytes, found %zu",
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

	fail("%s: no image tagged \"%s\" (tags: %s)", src->path, tag,
	     img->ntags ? list : "none");
	free(list);
	return -1;
}

static int several_images(struct img_source *src, struct img_image *img)
{
	char *list = tags_list(img);

	fail("%s: holds several images, choose one with --tag (tags: %s)", src->path,
	     img->ntags ? list : "none");
	free(list);
	return -1;
}

/* The Go name of this machine's architecture, as in the OCI "platform". */
static const char *host_arch(void)
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
	const char *want[2] = { host_arch(), "amd64" };

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
				char *m = xstrdup(errbuf);
				fail("%s: %s: %s", src->path, cur.path, m);
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
			fail("%s: image index %s: no manifest for linux/%s or linux/amd64",
			     src->path, cur.path, host_arch());
			goto bad;
		}
		vlog("image index %s: manifest %s for %s/%s", cur.path, descs[i].digest,
		     descs[i].os ? descs[i].os : "?", descs[i].arch ? descs[i].arch : "?");
		img_desc_free(&cur);
		desc_copy(&cur, &descs[i]);
		img_descs_free(descs, n);
	}
	fail("%s: image indexes nested too deeply", src->path);
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
		char *m = xstrdup(errbuf);
		fail("%s: index.json: %s", src->path, m);
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
		return n ? several_images(src, img) : fail("%s: index.json lists no image", src->path);
	}
	if (chosen < 0) {
		img_descs_free(descs, n);
		return fail("%s: index.json: no manifest for linux/%s", src->path, host_arch());
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

	memset(d, 0, sizeof(*d));
	d->size = -1;
	d->path = xstrdup(path);
	if ((n == 64 || (n == 69 && !strcmp(base + 64, ".json"))) && is_hex64(base, 64))
		d->digest = xasprintf("sha256:%.64s", base);
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
	r = img_parse_docker_manifest(buf, len, &ents, &n);
	free(buf);
	if (r < 0) {
		char *m = xstrdup(errbuf);
		fail("%s: %s", src->path, m);
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
		return n ? several_images(src, img) : fail("%s: manifest.json lists no image", src->path);
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
	if (src->kind == IMG_ROOTFS) {
		if (tag)
			return fail("%s: a root filesystem tarball has no tags (--tag %s)",
				    src->path, tag);
		img->nlayers = 1;
		img->layers = xcalloc(1, sizeof(*img->layers));
		img->layers[0].size = -1;
		if (src->fd >= 0 && !src->stream) {
			struct stat st;
			if (fstat(src->fd, &st) == 0)
				img->layers[0].size = st.st_size;
		}
		return 0;
	}
	r = src->kind == IMG_OCI ? load_oci(src, tag, verify, img)
				 : load_docker(src, tag, verify, img);
	if (r < 0)
		return -1;
	img->config_json = read_blob(src, &img->config, verify, "config", &len);
	if (!img->config_json)
		return -1;
	if (img_parse_config(img->config_json, len, &img->cfg) < 0) {
		char *m = xstrdup(errbuf);
		fail("%s: %s: %s", src->path, img->config.path, m);
		free(m);
		return -1;
	}
	if (img->cfg.ndiff_ids != img->nlayers)
		return fail("%s: the manifest lists %zu layers, the config %zu diff_ids",
			    src->path, img->nlayers, img->cfg.ndiff_ids);
	return 0;
}

void img_image_free(struct img_image *img)
{
	strings_free(img->tags, img->ntags);
	free(img->tag);
	img_desc_free(&img->manifest);
	img_desc_free(&img->config);
	img_descs_free(img->layers, img->nlayers);
	img_config_free(&img->cfg);
	free(img->config_json);
	memset(img, 0, sizeof(*img));
}

/* ------------------------------------------------------------------ */
/* 3. applying a layer                                                 */

/*
 * The paths the current layer created.  An opaque whiteout hides what the
 * layers *below* put in its directory, not what this layer adds (which may
 * come before it in the tar): Docker keeps the same set ("unpackedPaths").
 */
struct pathset {
	char **slot;
	size_t cap, n;
};

static int pathset_has(const struct pathset *set, const char *p)
{
	if (!set->cap)
		return 0;
	for (size_t i = (size_t)hash_str(p) & (set->cap - 1); set->slot[i]; i = (i + 1) & (set->cap - 1))
		if (!strcmp(set->slot[i], p))
			return 1;
	return 0;
}

static void pathset_add(struct pathset *set, const char *p)
{
	size_t i;

	if (pathset_has(set, p))
		return;
	if (2 * (set->n + 1) > set->cap) {
		struct pathset bigger = { xcalloc(set->cap ? 2 * set->cap : 1024, sizeof(char *)),
					  set->cap ? 2 * set->cap : 1024, 0 };
		for (i = 0; i < set->cap; i++)
			if (set->slot[i]) {
				size_t k = (size_t)hash_str(set->slot[i]) & (bigger.cap - 1);
				while (bigger.slot[k])
					k = (k + 1) & (bigger.cap - 1);
				bigger.slot[k] = set->slot[i];
				bigger.n++;
			}
		free(set->slot);
		*set = bigger;
	}
	for (i = (size_t)hash_str(p) & (set->cap - 1); set->slot[i]; i = (i + 1) & (set->cap - 1))
		;
	set->slot[i] = xstrdup(p);
	set->n++;
}

static void pathset_free(struct pathset *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slot[i]);
	free(set->slot);
	memset(set, 0, sizeof(*set));
}

/* A directory whose times are set once the layer is done (creating its
 * entries would change them again). */
struct dirtime {
	char *path;
	struct timespec ts[2];
};

/*
 * Decompressing (and hashing) a layer takes as long as writing its files,
 * so, as `tar -xzf` runs gzip in a process of its own, a thread decompresses
 * while the main thread writes: it fills these slots, the tar reader
 * empties them in order.
 */
#define NSLOTS 16
#define SLOT_SIZE (256 << 10)

struct layer {
	struct img_apply *a;
	struct img_reader *in;
	struct archive *dec;    /* the blob, decompressed ("raw" format) */
	struct archive *tar;    /* the tar stream read from dec */
	EVP_MD_CTX *diff;       /* sha256 of the uncompressed tar: the diff_id */
	uint64_t plain;         /* uncompressed bytes so far */
	/* between the decompressing thread and the tar reader */
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	char *slot[NSLOTS];
	size_t slot_len[NSLOTS];
	size_t first, filled;   /* filled slots: first, first + 1, ... */
	size_t fill, fill_len;  /* the thread's slot being filled */
	int filling;
	int held;               /* the tar reader still uses slot first */
	int done, stop;         /* thread: all sent; reader: stop sending */
	char error[1024];       /* the thread's failure, or "" */
	atomic_uint_least64_t blob_bytes;   /* for the progress line */
	int root;               /* euid 0: owners and device nodes */
	char *cache_path;       /* the last parent directory resolved... */
	int cache_fd;           /* ...and its descriptor */
	struct pathset made;
	struct dirtime *dirs;
	size_t ndirs;
};

/* ---- reading: blob -> decompressor -> tar ---- */

static la_ssize_t read_blob_cb(struct archive *ar, void *arg, const void **buf)
{
	struct layer *l = arg;
	ssize_t n = img_reader_next(l->in, buf);

	if (n < 0)
		archive_set_error(ar, EIO, "%s", img_error());
	atomic_store(&l->blob_bytes, img_reader_bytes(l->in));
	return n;
}

/* In the decompressing thread: record why it stops. */
static void *thread_failed(struct layer *l, const char *why)
{
	pthread_mutex_lock(&l->lock);
	snprintf(l->error, sizeof(l->error), "%s", why ? why : "decompression failed");
	pthread_cond_broadcast(&l->changed);
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/*
 * Copy N bytes at P into the slot being filled; a full slot (or the last
 * one, when FLUSH) is handed to the tar reader.  Waits for a free slot.
 */
static int send_bytes(struct layer *l, const char *p, size_t n, int flush)
{
	while (n > 0 || (flush && l->fill_len > 0)) {
		size_t len;

		if (!l->filling) {
			int stop;

			pthread_mutex_lock(&l->lock);
			while (l->filled == NSLOTS && !l->stop)
				pthread_cond_wait(&l->changed, &l->lock);
			/* first + filled does not move while the reader
			 * empties slots: it is the next free one. */
			l->fill = (l->first + l->filled) % NSLOTS;
			stop = l->stop;
			pthread_mutex_unlock(&l->lock);
			if (stop)
				return -1;
			l->filling = 1;
			l->fill_len = 0;
		}
		len = n < SLOT_SIZE - l->fill_len ? n : SLOT_SIZE - l->fill_len;
		if (len) {
			memcpy(l->slot[l->fill] + l->fill_len, p, len);
			l->fill_len += len;
			p += len;
			n -= len;
		}
		if (l->fill_len == SLOT_SIZE || (flush && n == 0)) {
			/* Slot fill is the reader's from the moment "filled"
			 * counts it, not before. */
			pthread_mutex_lock(&l->lock);
			l->slot_len[l->fill] = l->fill_len;
			l->filled++;
			pthread_cond_broadcast(&l->changed);
			pthread_mutex_unlock(&l->lock);
			l->filling = 0;
			l->fill_len = 0;
		}
	}
	return 0;
}

/* The decompressing thread: blob -> libarchive filters -> slots, hashing
 * the uncompressed bytes (the diff_id) on the way. */
static void *decompress(void *arg)
{
	struct layer *l = arg;
	const void *p;
	size_t size;
	la_int64_t off;
	ssize_t n;
	int r;

	while ((r = archive_read_data_block(l->dec, &p, &size, &off)) != ARCHIVE_EOF) {
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return thread_failed(l, archive_error_string(l->dec));
		EVP_DigestUpdate(l->diff, p, size);
		l->plain += size;
		if (l->a->max_size && l->plain > l->a->max_size) {
			/* A few KB of gzip can expand to terabytes: stop at a bound. */
			char msg[128];
			snprintf(msg, sizeof(msg), "uncompressed layer larger than %llu bytes "
				 "(--max-size): a decompression bomb?",
				 (unsigned long long)l->a->max_size);
			return thread_failed(l, msg);
		}
		if (send_bytes(l, p, size, 0) < 0)
			return NULL;
	}
	if (send_bytes(l, NULL, 0, 1) < 0)
		return NULL;
	/* The blob may go on after the compressed stream (padding): read it
	 * all, so that its digest covers every byte. */
	while ((n = img_reader_next(l->in, &p)) > 0)
		;
	if (n < 0)
		return thread_failed(l, img_error());
	pthread_mutex_lock(&l->lock);
	l->done = 1;
	pthread_cond_broadcast(&l->changed);
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* The tar reader's input: the next filled slot.  libarchive uses the
 * buffer until its next call, so the slot is given back only then. */
static la_ssize_t read_plain_cb(struct archive *ar, void *arg, const void **buf)
{
	struct layer *l = arg;
	la_ssize_t n = 0;

	pthread_mutex_lock(&l->lock);
	if (l->held) {
		l->first = (l->first + 1) % NSLOTS;
		l->filled--;
		l->held = 0;
		pthread_cond_broadcast(&l->changed);
	}
	while (l->filled == 0 && !l->done && !l->error[0])
		pthread_cond_wait(&l->changed, &l->lock);
	if (l->filled > 0) {
		l->held = 1;
		*buf = l->slot[l->first];
		n = (la_ssize_t)l->slot_len[l->first];
	} else if (l->error[0]) {
		archive_set_error(ar, EIO, "%s", l->error);
		n = -1;
	}
	pthread_mutex_unlock(&l->lock);
	if (l->a->progress)
		l->a->progress(atomic_load(&l->blob_bytes), l->a->progress_arg);
	return n;
}

static int start_decompressing(struct layer *l)
{
	int e;

	for (int i = 0; i < NSLOTS; i++)
		l->slot[i] = xmalloc(SLOT_SIZE);
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->changed, NULL);
	e = pthread_create(&l->thread, NULL, decompress, l);
	if (e) {
		errno = e;
		return fail_errno("%s: pthread_create", l->a->what);
	}
	l->started = 1;
	return 0;
}

static void stop_decompressing(struct layer *l)
{
	if (l->started) {
		pthread_mutex_lock(&l->lock);
		l->stop = 1;
		pthread_cond_broadcast(&l->changed);
		pthread_mutex_unlock(&l->lock);
		pthread_join(l->thread, NULL);
		pthread_mutex_destroy(&l->lock);
		pthread_cond_destroy(&l->changed);
		l->started = 0;
	}
	for (int i = 0; i < NSLOTS; i++) {
		free(l->slot[i]);
		l->slot[i] = NULL;
	}
}

/* ---- paths: names in a layer, resolved below the root only ---- */

/* Entry name -> a clean relative path ("" for the root), or why not. */
static char *clean_path(const char *raw, const char **why)
{
	char *p;
	const char *s;

	if (raw[0] == '/') {
		*why = "an absolute path";
		return NULL;
	}
	p = normalize_name(xstrdup(raw));
	for (s = p; *s; ) {
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			free(p);
			*why = "\"..\" in the path";
			return NULL;
		}
		s += n;
		if (*s == '/')
			s++;
	}
	return p;
}

/*
 * A new descriptor of directory DIR (relative to the root), made when
 * CREATE (with its missing parents, 0755, as tar does).  Each step is
 * resolved from the root with RESOLVE_IN_ROOT: a symlink on the way, even
 * "../../.." or "/etc", stays below the root.
 */
static int get_dir(struct layer *l, const char *dir, int create)
{
	int fd = open_in_root(l->a->rootfd, dir, O_RDONLY | O_DIRECTORY, 0);
	char *prefix;
	int pfd;
	size_t end;

	if (fd >= 0 || errno != ENOENT || !create)
		return fd;
	prefix = xstrdup(dir);
	pfd = fcntl(l->a->rootfd, F_DUPFD_CLOEXEC, 0);
	for (end = 0; pfd >= 0; ) {
		size_t start = end;
		char c;

		end += strcspn(dir + end, "/");
		c = prefix[end];
		prefix[end] = '\0';
		fd = open_in_root(l->a->rootfd, prefix, O_RDONLY | O_DIRECTORY, 0);
		if (fd < 0 && errno == ENOENT) {
			if (mkdirat(pfd, prefix + start, 0755) < 0 && errno != EEXIST)
				fd = -1;
			else
				fd = open_in_root(l->a->rootfd, prefix, O_RDONLY | O_DIRECTORY, 0);
		}
		prefix[end] = c;
		close(pfd);
		pfd = fd;
		if (!c)
			break;
		end++;
	}
	free(prefix);
	return pfd;
}

/* The parent directory DIR of consecutive entries, kept open. */
static int parent_fd(struct layer *l, const char *dir)
{
	if (l->cache_path && !strcmp(l->cache_path, dir))
		return l->cache_fd;
	if (l->cache_path) {
		close(l->cache_fd);
		free(l->cache_path);
		l->cache_path = NULL;
	}
	l->cache_fd = get_dir(l, dir, 1);
	if (l->cache_fd < 0)
		return -1;
	l->cache_path = xstrdup(dir);
	return l->cache_fd;
}

/* Something was removed: the directory kept open may be gone. */
static void forget_parent(struct layer *l)
{
	if (l->cache_path) {
		close(l->cache_fd);
		free(l->cache_path);
		l->cache_path = NULL;
	}
}

static int remove_at(int dirfd, const char *name);

/* Remove what directory FD holds (FD is closed), except the names this
 * layer made when MADE is given (DIR is then the directory's path). */
static int empty_dir(int fd, const struct pathset *made, const char *dir)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		close(fd);
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (made) {
			char *p = *dir ? xasprintf("%s/%s", dir, de->d_name) : xstrdup(de->d_name);
			int keep = pathset_has(made, p);
			free(p);
			if (keep)
				continue;
		}
		if (remove_at(dirfd(d), de->d_name) < 0)
			ret = -1;
	}
	if (errno)
		ret = -1;
	{
		int e = errno;
		closedir(d);
		errno = e;
	}
	return ret;
}

/* rm -rf NAME in DIRFD, never following a symlink. */
static int remove_at(int dirfd, const char *name)
{
	struct stat st;
	int fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || empty_dir(fd, NULL, NULL) < 0)
		return -1;
	return unlinkat(dirfd, name, AT_REMOVEDIR);
}

/* ---- metadata ---- */

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[1].tv_sec = archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
	} else {
		ts[0] = ts[1];
	}
}

static void set_xattrs(struct layer *l, int fd, struct archive_entry *e, const char *raw)
{
	const char *name;
	const void *value;
	size_t size;

	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (!strncmp(name, "trusted.overlay.", 16)) {
			/* Only our own whiteout conversion may say "opaque". */
			vlog("%s: %s: xattr %s ignored", l->a->what, raw, name);
			continue;
		}
		if (fsetxattr(fd, name, value, size, 0) < 0)
			vlog("%s: %s: fsetxattr(%s): %s (not kept)", l->a->what, raw, name,
			     strerror(errno));
	}
}

/* Owner, then mode (chown clears set-user-ID bits), then xattrs. */
static int set_owner_mode(struct layer *l, int fd, struct archive_entry *e, const char *raw)
{
	if (l->root && fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
		return fail_errno("%s: %s: fchown", l->a->what, raw);
	if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
		return fail_errno("%s: %s: fchmod", l->a->what, raw);
	set_xattrs(l, fd, e, raw);
	return 0;
}

/* ---- one entry ---- */

static int pwrite_full(int fd, const char *buf, size_t n, off_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, buf, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

static int make_regular(struct layer *l, int pfd, const char *name,
			struct archive_entry *e, const char *raw)
{
	/* O_EXCL|O_NOFOLLOW: always a new inode, never through a symlink and
	 * never into a file hard-linked from elsewhere. */
	int fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	const void *buf;
	size_t size;
	la_int64_t off;
	int64_t end = 0;
	int r;
	struct timespec ts[2];

	if (fd < 0)
		return fail_errno("%s: %s: openat", l->a->what, raw);
	while ((r = archive_read_data_block(l->tar, &buf, &size, &off)) == ARCHIVE_OK ||
	       r == ARCHIVE_WARN) {
		if (pwrite_full(fd, buf, size, off) < 0) {
			fail_errno("%s: %s: write", l->a->what, raw);
			goto bad;
		}
		end = off + (int64_t)size;
	}
	if (r != ARCHIVE_EOF) {
		fail("%s: %s: %s", l->a->what, raw, archive_error_string(l->tar));
		goto bad;
	}
	/* A sparse file may end with a hole. */
	if (archive_entry_size(e) > end && ftruncate(fd, archive_entry_size(e)) < 0) {
		fail_errno("%s: %s: ftruncate", l->a->what, raw);
		goto bad;
	}
	entry_times(e, ts);
	if (set_owner_mode(l, fd, e, raw) < 0)
		goto bad;
	if (futimens(fd, ts) < 0) {
		fail_errno("%s: %s: futimens", l->a->what, raw);
		goto bad;
	}
	if (close(fd) < 0)
		return fail_errno("%s: %s: close", l->a->what, raw);
	return 0;
bad:
	close(fd);
	return -1;
}

static int make_dir(struct layer *l, int pfd, const char *name, const char *path,
		    struct archive_entry *e, const char *raw)
{
	int fd;
	struct dirtime *dt;

	if (!*path)
		fd = fcntl(l->a->rootfd, F_DUPFD_CLOEXEC, 0);
	else if (mkdirat(pfd, name, 0700) < 0 && errno != EEXIST)
		return fail_errno("%s: %s: mkdirat", l->a->what, raw);
	else
		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail_errno("%s: %s: open", l->a->what, raw);
	if (set_owner_mode(l, fd, e, raw) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	l->dirs = xrealloc(l->dirs, (l->ndirs + 1) * sizeof(*l->dirs));
	dt = &l->dirs[l->ndirs++];
	dt->path = xstrdup(path);
	entry_times(e, dt->ts);
	return 0;
}

/* Symlinks, device nodes, fifos: no descriptor to hold, so the *at() calls
 * with AT_SYMLINK_NOFOLLOW on a name we have just created ourselves. */
static int make_special(struct layer *l, int pfd, const char *name,
			struct archive_entry *e, const char *raw)
{
	unsigned int type = archive_entry_filetype(e);
	mode_t perm = archive_entry_perm(e) & 07777;
	struct timespec ts[2];

	if (type == AE_IFLNK) {
		const char *target = archive_entry_symlink(e);
		if (!target)
			return fail("%s: %s: a symlink without a target", l->a->what, raw);
		if (symlinkat(target, pfd, name) < 0)
			return fail_errno("%s: %s: symlinkat", l->a->what, raw);
	} else if (type == AE_IFCHR || type == AE_IFBLK) {
		if (!l->root) {
			vlog("%s: %s: a device node needs root, skipped", l->a->what, raw);
			return 0;
		}
		if (mknodat(pfd, name, type | perm, archive_entry_rdev(e)) < 0)
			return fail_errno("%s: %s: mknodat", l->a->what, raw);
	} else if (type == AE_IFIFO) {
		if (mknodat(pfd, name, S_IFIFO | perm, 0) < 0)
			return fail_errno("%s: %s: mknodat", l->a->what, raw);
	} else {
		vlog("%s: %s: a socket, skipped", l->a->what, raw);
		return 0;
	}
	if (l->root && fchownat(pfd, name, (uid_t)archive_entry_uid(e),
				(gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
		return fail_errno("%s: %s: fchownat", l->a->what, raw);
	/* mknodat applied the umask; a symlink has no mode of its own. */
	if (type != AE_IFLNK && fchmodat(pfd, name, perm, 0) < 0)
		return fail_errno("%s: %s: fchmodat", l->a->what, raw);
	entry_times(e, ts);
	if (utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return fail_errno("%s: %s: utimensat", l->a->what, raw);
	return 0;
}

/* Split "a/b/c" into "a/b" and "c" (in place). */
static void split_path(char *path, const char **dir, const char **base)
{
	char *slash = strrchr(path, '/');

	if (slash) {
		*slash = '\0';
		*dir = path;
		*base = slash + 1;
	} else {
		*dir = "";
		*base = path;
	}
}

static int make_hardlink(struct layer *l, int pfd, const char *name,
			 struct archive_entry *e, const char *raw)
{
	const char *why, *tdir, *tbase;
	char *target = clean_path(archive_entry_hardlink(e), &why);
	struct stat st;
	int tfd, ret = -1;

	if (!target)
		return fail("%s: %s: hard link to \"%s\" refused: %s", l->a->what, raw,
			    archive_entry_hardlink(e), why);
	split_path(target, &tdir, &tbase);
	if (!*tbase) {
		free(target);
		return fail("%s: %s: hard link to the root directory refused", l->a->what, raw);
	}
	tfd = get_dir(l, tdir, 0);
	if (tfd < 0 || fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
		fail_errno("%s: %s: hard link target \"%s\"", l->a->what, raw,
			   archive_entry_hardlink(e));
	else if (S_ISDIR(st.st_mode))
		fail("%s: %s: hard link to a directory refused", l->a->what, raw);
	else if (linkat(tfd, tbase, pfd, name, 0) < 0)   /* no AT_SYMLINK_FOLLOW */
		fail_errno("%s: %s: linkat", l->a->what, raw);
	else
		ret = 0;
	if (tfd >= 0)
		close(tfd);
	free(target);
	return ret;
}

/* A regular file, directory, link or node NAME in directory DIR. */
static int apply_node(struct layer *l, struct archive_entry *e, const char *raw,
		      const char *path, const char *dir, const char *name)
{
	unsigned int type = archive_entry_filetype(e);
	int hardlink = archive_entry_hardlink(e) != NULL;
	struct stat st;
	int pfd;

	if (!*path) {
		/* "./": the root itself.  Replacing it by a symlink is the trick
		 * of CVE-2021-29136 (umoci): every later name would resolve
		 * through it, out of the root. */
		if (type != AE_IFDIR || hardlink)
			return fail("%s: \"%s\" refused: it would replace the root directory",
				    l->a->what, raw);
		return make_dir(l, -1, "", "", e, raw);
	}
	pfd = parent_fd(l, dir);
	if (pfd < 0)
		return fail_errno("%s: %s: directory \"%s\"", l->a->what, raw, dir);
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* Something is there already (a lower layer, or earlier in
		 * this one): a directory over a directory merges, anything
		 * else replaces it, as in Docker. */
		if (type == AE_IFDIR && !hardlink && S_ISDIR(st.st_mode))
			return make_dir(l, pfd, name, path, e, raw);
		if (remove_at(pfd, name) < 0)
			return fail_errno("%s: %s: removing what was there", l->a->what, raw);
	} else if (errno != ENOENT) {
		return fail_errno("%s: %s: fstatat", l->a->what, raw);
	}
	if (hardlink)
		return make_hardlink(l, pfd, name, e, raw);
	switch (type) {
	case AE_IFREG:
		return make_regular(l, pfd, name, e, raw);
	case AE_IFDIR:
		return make_dir(l, pfd, name, path, e, raw);
	default:
		return make_special(l, pfd, name, e, raw);
	}
}

/* Deleting in directory FD changed its times: put back ST's, those the
 * layers below gave it, so that the result does not depend on the day. */
static int restore_times(int fd, const struct stat *st)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };

	return futimens(fd, ts);
}

/*
 * ".wh.NAME": NAME is deleted from the layers below.  ".wh..wh..opq": the
 * directory hides everything the layers below put in it.  In overlayfs
 * form (--layers) they become what overlayfs reads: a 0/0 character
 * device NAME, and the xattr trusted.overlay.opaque=y on the directory.
 */
static int apply_whiteout(struct layer *l, struct archive_entry *e, const char *raw,
			  const char *dir, const char *base)
{
	const char *name = base + 4;
	struct stat st;
	int fd, r;

	if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e))
		return fail("%s: whiteout \"%s\" refused: not a regular file", l->a->what, raw);
	if (!strcmp(base, ".wh..wh..opq")) {
		fd = get_dir(l, dir, 1);
		if (fd < 0)
			return fail_errno("%s: %s: directory \"%s\"", l->a->what, raw, dir);
		if (l->a->overlay) {
			vlog("%s: %s: fsetxattr(\"/%s\", \"trusted.overlay.opaque\", \"y\")",
			     l->a->what, raw, dir);
			r = fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0);
			if (r < 0)
				fail_errno("%s: %s: fsetxattr(trusted.overlay.opaque)", l->a->what, raw);
			close(fd);
			return r;
		}
		vlog("%s: %s: opaque, emptying \"/%s\" of the layers below", l->a->what, raw, dir);
		forget_parent(l);
		r = fstat(fd, &st);
		if (r == 0)
			r = empty_dir(fcntl(fd, F_DUPFD_CLOEXEC, 0), &l->made, dir);
		if (r == 0)
			r = restore_times(fd, &st);
		if (r < 0)
			fail_errno("%s: %s: emptying \"%s\"", l->a->what, raw, dir);
		close(fd);
		return r;
	}
	if (!strncmp(base, ".wh..wh.", 8)) {
		vlog("%s: %s: AUFS metadata, ignored", l->a->what, raw);
		return 0;
	}
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return fail("%s: whiteout \"%s\" refused: it names no file (or a directory above)",
			    l->a->what, raw);
	if (l->a->overlay) {
		fd = parent_fd(l, dir);
		if (fd < 0)
			return fail_errno("%s: %s: directory \"%s\"", l->a->what, raw, dir);
		if (remove_at(fd, name) < 0)
			return fail_errno("%s: %s: removing \"%s\"", l->a->what, raw, name);
		vlog("%s: %s: mknodat(\"%s\", S_IFCHR, 0:0), an overlayfs whiteout",
		     l->a->what, raw, name);
		if (mknodat(fd, name, S_IFCHR | 0, makedev(0, 0)) < 0)
			return fail_errno("%s: %s: mknodat(%s, S_IFCHR, 0:0)", l->a->what, raw, name);
		return 0;
	}
	fd = get_dir(l, dir, 0);
	if (fd < 0)     /* no such directory below: nothing to delete */
		return errno == ENOENT || errno == ENOTDIR ? 0 :
		       fail_errno("%s: %s: directory \"%s\"", l->a->what, raw, dir);
	vlog("%s: %s: whiteout, unlinkat(\"%s\") (a directory with all it holds)",
	     l->a->what, raw, name);
	forget_parent(l);
	r = fstat(fd, &st);
	if (r == 0)
		r = remove_at(fd, name);
	if (r == 0)
		r = restore_times(fd, &st);
	if (r < 0)
		fail_errno("%s: %s: removing \"%s\"", l->a->what, raw, name);
	close(fd);
	return r;
}

static int apply_entry(struct layer *l, struct archive_entry *e)
{
	const char *raw = archive_entry_pathname(e), *why, *dir, *base;
	char *path, *full;
	int r;

	if (!raw)
		return fail("%s: an entry without a readable name", l->a->what);
	path = clean_path(raw, &why);
	if (!path)
		return fail("%s: entry \"%s\" refused: %s", l->a->what, raw, why);
	full = xstrdup(path);
	split_path(path, &dir, &base);
	if (!strncmp(base, ".wh.", 4))
		r = apply_whiteout(l, e, raw, dir, base);
	else
		r = apply_node(l, e, raw, full, dir, base);
	if (r == 0 && !l->a->overlay)
		pathset_add(&l->made, full);
	free(full);
	free(path);
	return r;
}

static int set_dir_times(struct layer *l)
{
	for (size_t i = 0; i < l->ndirs; i++) {
		const char *dir, *base;
		char *path = l->dirs[i].path;
		int pfd, fd;

		if (!*path) {
			if (futimens(l->a->rootfd, l->dirs[i].ts) < 0)
				return fail_errno("%s: futimens(/)", l->a->what);
			continue;
		}
		split_path(path, &dir, &base);
		pfd = get_dir(l, dir, 0);
		fd = pfd < 0 ? -1 : openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && futimens(fd, l->dirs[i].ts) < 0) {
			fail_errno("%s: %s/%s: futimens", l->a->what, dir, base);
			close(fd);
			close(pfd);
			return -1;
		}
		/* Gone (deleted later in the layer): nothing to date. */
		if (fd >= 0)
			close(fd);
		if (pfd >= 0)
			close(pfd);
	}
	return 0;
}

static void layer_free(struct layer *l)
{
	stop_decompressing(l);
	forget_parent(l);
	if (l->tar)
		archive_read_free(l->tar);
	if (l->dec)
		archive_read_free(l->dec);
	EVP_MD_CTX_free(l->diff);
	pathset_free(&l->made);
	for (size_t i = 0; i < l->ndirs; i++)
		free(l->dirs[i].path);
	free(l->dirs);
}

int img_apply_layer(struct img_reader *r, struct img_apply *a)
{
	struct layer l = { .a = a, .in = r, .root = geteuid() == 0 };
	struct archive_entry *e;
	const void *p;
	ssize_t n;
	int st;

	a->entries = 0;
	l.diff = sha256_new();
	/* The compression is found by content (magic numbers), not by name. */
	l.dec = archive_read_new();
	l.tar = archive_read_new();
	if (!l.dec || !l.tar)
		die_x("archive_read_new: out of memory");
	archive_read_support_filter_gzip(l.dec);
	archive_read_support_filter_zstd(l.dec);
	archive_read_support_filter_xz(l.dec);
	archive_read_support_filter_bzip2(l.dec);
	archive_read_support_format_raw(l.dec);
	if (archive_read_open(l.dec, &l, NULL, read_blob_cb, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(l.dec, &e) != ARCHIVE_OK) {
		fail("%s: %s", a->what, archive_error_string(l.dec) ?
		     archive_error_string(l.dec) : "empty");
		goto bad;
	}
	snprintf(a->compression, sizeof(a->compression), "%s",
		 archive_filter_count(l.dec) > 1 ? archive_filter_name(l.dec, 0) : "none");
	if (start_decompressing(&l) < 0)
		goto bad;
	archive_read_support_format_tar(l.tar);
	if (archive_read_open(l.tar, &l, NULL, read_plain_cb, NULL) != ARCHIVE_OK) {
		pthread_mutex_lock(&l.lock);
		if (l.error[0])     /* the thread failed: that is the reason */
			fail("%s: %s", a->what, l.error);
		else
			fail("%s: not a tar archive: %s", a->what, archive_error_string(l.tar));
		pthread_mutex_unlock(&l.lock);
		goto bad;
	}
	while ((st = archive_read_next_header(l.tar, &e)) != ARCHIVE_EOF) {
		if (st == ARCHIVE_WARN)
			vlog("%s: %s", a->what, archive_error_string(l.tar));
		else if (st != ARCHIVE_OK) {
			fail("%s: %s", a->what, archive_error_string(l.tar));
			goto bad;
		}
		if (apply_entry(&l, e) < 0)
			goto bad;
		a->entries++;
	}
	if (set_dir_times(&l) < 0)
		goto bad;
	/* Read the stream to its end (tar padding, gzip trailer) so that the
	 * digests cover every byte. */
	while ((n = read_plain_cb(l.tar, &l, &p)) > 0)
		;
	if (n < 0) {
		fail("%s: %s", a->what, archive_error_string(l.tar));
		goto bad;
	}
	stop_decompressing(&l);     /* it is done: this only joins it */
	sha256_hex(l.diff, a->diff_id);
	img_reader_digest(r, a->digest);
	layer_free(&l);
	return 0;
bad:
	layer_free(&l);
	return -1;
}
