/*
 * registry.c - the OCI distribution API over libcurl (see registry.h):
 * opening a connection (GET /v2/, the scheme, the login, Docker Hub and
 * its mirror), manifests, blobs checked against their digest and size as
 * they stream, and pushing (HEAD, monolithic POST+PUT, chunked PATCH).
 * One request, and the auth, are registry-http.c's.
 * Read the distribution spec's spec.md.
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "minidock.h"
#include "registry-http.h"

/* ---- the command line ---- */

void reg_options_init(struct reg_options *o)
{
	memset(o, 0, sizeof(*o));
	o->ca_cert = getenv("MINIDOCK_CA_CERT");
}

int reg_option(int c, const char *arg, struct reg_options *o)
{
	switch (c) {
	case 'u':
		if (!strchr(arg, ':'))
			die_x("--user %s: expected USER:PASSWORD", arg);
		o->user = arg;
		return 1;
	case REG_OPT_INSECURE: o->insecure = 1; return 1;
	case REG_OPT_CA: o->ca_cert = arg; return 1;
	}
	return 0;
}

/* ---- opening ---- */

static int is_local(const char *registry)
{
	return !strncmp(registry, "localhost", 9) || !strncmp(registry, "127.", 4) ||
	       !strncmp(registry, "[::1]", 5);
}

struct reg *reg_open(const struct reg_ref *ref, const struct reg_options *o)
{
	struct reg *r = xcalloc(1, sizeof(*r));
	struct response rs = { .fd = -1, .max = 1 << 16 };
	static const char *const schemes[] = { "https", "http" };
	const char *host = ref->registry, *mirror = getenv("MINIDOCK_REGISTRY_MIRROR");
	int plain_ok;
	CURLcode rc = CURLE_OK;
	char *url = NULL;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(r->curl = curl_easy_init())) {
		reg_fail("curl_easy_init failed");
		free(r);
		return NULL;
	}
	r->o = o;
	r->name = xstrdup(ref->name);
	r->registry = xstrdup(ref->registry);
	r->basic = o->user ? xstrdup(o->user) : config_credentials(ref->registry);
	/* docker.io's API lives at registry-1.docker.io, or at the mirror
	 * asked for (as dockerd's "registry-mirrors"; that one only). */
	if (!strcmp(host, "docker.io")) {
		host = mirror && *mirror ? mirror : "registry-1.docker.io";
		if (mirror && *mirror)
			vlog("docker.io: through the mirror %s (MINIDOCK_REGISTRY_MIRROR)", mirror);
	}
	plain_ok = o->insecure || is_local(host);
	for (int i = 0; i < 1 + plain_ok; i++) {
		free(r->base);
		r->base = xasprintf("%s://%s", schemes[i], host);
		free(url);
		url = xasprintf("%s/v2/", r->base);
		response_reset(&rs);
		reg_error_clear();
		rc = http_perform(r, "GET", url, NULL, NULL, &rs, 0);
		/* Plain HTTP only when https found no TLS server at all, never
		 * when a certificate was wrong. */
		if (rc == CURLE_OK || rc == CURLE_PEER_FAILED_VERIFICATION)
			break;
	}
	if (rc != CURLE_OK) {
		char *m = xstrdup(reg_error());
		if (host != ref->registry && strcmp(host, "registry-1.docker.io"))
			reg_fail("registry %s unreachable (through the mirror %s): %s", ref->registry,
			     host, m);
		else
			reg_fail("registry %s unreachable: %s", ref->registry, m);
		free(m);
		goto bad;
	}
	if (rs.status == 401 && http_login(r, rs.challenge) < 0)
		goto bad;
	if (rs.status != 200 && rs.status != 401) {
		reg_fail("%s: not a registry (GET /v2/: HTTP %ld)", r->base, rs.status);
		goto bad;
	}
	free(url);
	response_reset(&rs);
	return r;
bad:
	free(url);
	response_reset(&rs);
	reg_close(r);
	return NULL;
}

struct reg *reg_clone(const struct reg *from)
{
	struct reg *r = xcalloc(1, sizeof(*r));

	if (!(r->curl = curl_easy_init())) {
		free(r);
		reg_fail("curl_easy_init failed");
		return NULL;
	}
	r->o = from->o;
	r->base = xstrdup(from->base);
	r->name = xstrdup(from->name);
	r->registry = xstrdup(from->registry);
	r->basic = from->basic ? xstrdup(from->basic) : NULL;
	r->auth_header = from->auth_header ? xstrdup(from->auth_header) : NULL;
	return r;
}

void reg_close(struct reg *r)
{
	if (!r)
		return;
	if (r->curl)
		curl_easy_cleanup(r->curl);
	free(r->base);
	free(r->name);
	free(r->registry);
	free(r->basic);
	free(r->auth_header);
	free(r);
}

/* ---- manifests ---- */

char *reg_get_manifest(struct reg *r, const char *which, size_t *len, char **media_type,
		       char digest[DIGEST_LEN])
{
	char *url = xasprintf("%s/v2/%s/manifests/%s", r->base, r->name, which);
	struct curl_slist *h = curl_slist_append(NULL, "Accept: " MT_OCI_MANIFEST ", "
						 MT_OCI_INDEX ", " MT_DOCKER_MANIFEST ", "
						 MT_DOCKER_LIST);
	struct response rs = { .fd = -1, .max = MANIFEST_MAX };
	CURLcode rc;
	char *out = NULL;

	reg_error_clear();
	rc = http_request(r, "GET", url, h, NULL, &rs);
	curl_slist_free_all(h);
	if (rs.too_big) {
		reg_fail("manifest %s: larger than %d bytes: refused", which, MANIFEST_MAX);
	} else if (rc != CURLE_OK) {
		/* reg_error() says it */
	} else if (rs.status == 404) {
		char *s = status_text(&rs);
		reg_fail("%s/%s%s%s: no such image or tag (%s)", r->registry, r->name,
		     strncmp(which, "sha256:", 7) ? ":" : "@", which, s);
		free(s);
	} else if (rs.status != 200) {
		char *s = status_text(&rs);
		reg_fail("manifest %s: %s", which, s);
		free(s);
	} else if (sha256_of(rs.mem ? rs.mem : "", rs.len, digest) < 0) {
		reg_fail("sha256: %s", strerror(errno));
	} else if (!strncmp(which, "sha256:", 7) && strcmp(which, digest)) {
		reg_fail("manifest %s: digest mismatch: the content is %s", which, digest);
	} else {
		*len = rs.len;
		*media_type = xstrdup(rs.content_type ? rs.content_type : "");
		(*media_type)[strcspn(*media_type, ";")] = '\0';
		out = rs.mem ? rs.mem : xstrdup("");
		rs.mem = NULL;
	}
	response_reset(&rs);
	free(url);
	return out;
}

/* ---- blobs ---- */

/* Errors worth another try: the network, not the server's answer. */
static int transient(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
	       rc == CURLE_PARTIAL_FILE || rc == CURLE_GOT_NOTHING ||
	       rc == CURLE_OPERATION_TIMEDOUT;
}

int reg_get_blob(struct reg *r, const char *digest, int64_t size, uint64_t max, int fd,
		 void (*progress)(uint64_t done, void *arg), void *arg)
{
	char *url = xasprintf("%s/v2/%s/blobs/%s", r->base, r->name, digest);
	struct response rs = { .fd = fd, .max = 1 << 16, .progress = progress,
			       .progress_arg = arg };
	char got[DIGEST_LEN];
	int ret = -1;
	CURLcode rc = CURLE_OK;

	rs.limit = size >= 0 ? (uint64_t)size : max;
	rs.sha = sha256_new();
	if (!rs.sha) {
		free(url);
		return reg_fail("sha256: %s", strerror(errno));
	}
	for (int attempt = 0; attempt < 4; attempt++) {
		struct curl_slist *h = NULL;
		if (attempt) {
			vlog("blob %s: network error, again from byte %llu (Range)", digest,
			     (unsigned long long)rs.bytes);
			sleep_ms(250L * attempt);
		}
		if (rs.bytes) {
			char *range = xasprintf("Range: bytes=%llu-", (unsigned long long)rs.bytes);
			h = curl_slist_append(NULL, range);
			free(range);
		}
		response_reset(&rs);
		reg_error_clear();
		rs.range_asked = rs.bytes > 0;
		rc = http_request(r, "GET", url, h, NULL, &rs);
		curl_slist_free_all(h);
		if (!transient(rc))
			break;
	}
	if (rs.over) {
		if (size >= 0)
			reg_fail("blob %s: more bytes than the %lld the manifest says: refused", digest,
			     (long long)size);
		else
			reg_fail("blob %s: larger than %llu bytes (--max-size): refused", digest,
			     (unsigned long long)max);
	} else if (transient(rc)) {
		char *m = xstrdup(reg_error());
		reg_fail("blob %s: truncated, %llu bytes received, 4 tries (%s)", digest,
		     (unsigned long long)rs.bytes, m);
		free(m);
	} else if (rc != CURLE_OK) {
		/* reg_error() says it */
	} else if (rs.status == 404) {
		char *s = status_text(&rs);
		reg_fail("blob %s: not in the registry (%s)", digest, s);
		free(s);
	} else if (rs.status != 200 && rs.status != 206) {
		char *s = status_text(&rs);
		reg_fail("blob %s: %s", digest, s);
		free(s);
	} else if (size >= 0 && rs.bytes != (uint64_t)size) {
		reg_fail("blob %s: truncated: %llu bytes of %lld", digest,
		     (unsigned long long)rs.bytes, (long long)size);
	} else if (sha256_final(rs.sha, got) < 0) {
		reg_fail("sha256: %s", strerror(errno));
	} else if (strcmp(got, digest)) {
		reg_fail("blob %s: digest mismatch: the content is %s", digest, got);
	} else {
		ret = 0;
	}
	sha256_free(rs.sha);
	response_reset(&rs);
	free(url);
	return ret;
}

int reg_has_blob(struct reg *r, const char *digest)
{
	char *url = xasprintf("%s/v2/%s/blobs/%s", r->base, r->name, digest);
	struct response rs = { .fd = -1, .max = 1 << 16 };
	CURLcode rc = http_request(r, "HEAD", url, NULL, NULL, &rs);
	int ret = -1;

	if (rc == CURLE_OK && (rs.status == 200 || rs.status == 404))
		ret = rs.status == 200;
	else if (rc == CURLE_OK)
		reg_fail("HEAD blob %s: HTTP %ld", digest, rs.status);
	response_reset(&rs);
	free(url);
	return ret;
}

/* An upload's URL: its Location (absolute, or a path on the same server),
 * with QUERY added when not NULL. */
static char *upload_url(struct reg *r, const char *location, const char *query)
{
	return xasprintf("%s%s%s%s", location[0] == '/' ? r->base : "", location,
			 query ? (strchr(location, '?') ? "&" : "?") : "", query ? query : "");
}

/* PATCH the SIZE bytes of FD to the upload at *LOCATION, CHUNK bytes a
 * request ("Content-Range: FIRST-LAST"); each answer says where the next
 * goes (*LOCATION replaced).  0, or -1 (reg_error). */
static int send_chunks(struct reg *r, char **location, int fd, uint64_t size, uint64_t chunk)
{
	for (uint64_t off = 0; off < size;) {
		uint64_t n = size - off < chunk ? size - off : chunk;
		char *url = upload_url(r, *location, NULL);
		char *range = xasprintf("Content-Range: %llu-%llu", (unsigned long long)off,
					(unsigned long long)(off + n - 1));
		struct curl_slist *h = curl_slist_append(NULL, range);
		struct upload up = { .fd = fd, .start = (off_t)off, .len = (size_t)n };
		struct response rs = { .fd = -1, .max = 1 << 16 };
		int ok;

		h = curl_slist_append(h, "Content-Type: application/octet-stream");
		ok = lseek(fd, (off_t)off, SEEK_SET) >= 0 ? 0 : reg_fail("lseek: %s", strerror(errno));
		if (ok == 0)
			ok = http_expect(r, "PATCH", url, h, &up, &rs, 202, "PATCH blob chunk");
		if (ok == 0 && !rs.location)
			ok = reg_fail("PATCH %s: no Location in the answer", url);
		if (ok == 0) {
			free(*location);
			*location = xstrdup(rs.location);
		}
		curl_slist_free_all(h);
		response_reset(&rs);
		free(range);
		free(url);
		if (ok < 0)
			return -1;
		off += n;
	}
	return 0;
}

int reg_put_blob(struct reg *r, const char *digest, int fd, uint64_t size, uint64_t chunk)
{
	char *url = xasprintf("%s/v2/%s/blobs/uploads/", r->base, r->name), *put = NULL;
	char *location = NULL, *query = xasprintf("digest=%s", digest), *what;
	struct response rs = { .fd = -1, .max = 1 << 16 };
	struct upload up = { .fd = fd, .len = (size_t)size }, none = { .mem = "" };
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/octet-stream");
	int chunked = chunk && size > chunk, ret = -1;

	what = xasprintf("POST %s (expected 202 and a Location)", url);
	if (http_expect(r, "POST", url, NULL, &none, &rs, 202, what) < 0)
		goto out;
	if (!rs.location) {
		reg_fail("POST %s: no Location in the answer", url);
		goto out;
	}
	location = xstrdup(rs.location);
	response_reset(&rs);
	/* Monolithic: the whole blob in the PUT.  Chunked: PATCH each part,
	 * then a PUT without a body closes the upload. */
	if (chunked && send_chunks(r, &location, fd, size, chunk) < 0)
		goto out;
	if (!chunked && lseek(fd, 0, SEEK_SET) < 0) {
		reg_fail("lseek: %s", strerror(errno));
		goto out;
	}
	put = upload_url(r, location, query);
	free(what);
	what = xasprintf("PUT blob %s", digest);
	ret = http_expect(r, "PUT", put, h, chunked ? &none : &up, &rs, 201, what);
out:
	curl_slist_free_all(h);
	response_reset(&rs);
	free(what);
	free(query);
	free(location);
	free(put);
	free(url);
	return ret;
}

int reg_put_manifest(struct reg *r, const char *tag, const char *buf, size_t len,
		     const char *media_type)
{
	char *url = xasprintf("%s/v2/%s/manifests/%s", r->base, r->name, tag);
	char *ct = xasprintf("Content-Type: %s", media_type);
	char *what = xasprintf("PUT manifest %s", tag);
	struct curl_slist *h = curl_slist_append(NULL, ct);
	struct response rs = { .fd = -1, .max = 1 << 16 };
	struct upload up = { .mem = buf, .len = len };
	int ret = http_expect(r, "PUT", url, h, &up, &rs, 201, what);

	curl_slist_free_all(h);
	response_reset(&rs);
	free(what);
	free(ct);
	free(url);
	return ret;
}
