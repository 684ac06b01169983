/*
 * registry.c - the OCI distribution API over libcurl (see registry.h):
 * references, the HTTP requests, the auth (basic, bearer token), blobs
 * checked against their digest and size as they stream.
 *
 * One curl "easy" handle per registry, reset before each request
 * (curl_easy_reset(3) keeps the open connections: one TLS handshake for a
 * whole pull).  A response body goes either to memory (JSON: bounded) or,
 * for a blob with a 2xx status, to a file, hashed on the way.
 * Read curl_easy_setopt(3), CURLOPT_WRITEFUNCTION(3), CURLOPT_HEADERFUNCTION(3),
 * and the distribution spec's spec.md; the token flow is Docker's
 * (distribution/docs/spec/auth/token.md).
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
#include "registry.h"

/* One a thread: layers are fetched by several (pull-layers.c). */
static __thread char error_buf[1024];

const char *reg_error(void)
{
	return error_buf;
}

static int __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(error_buf, sizeof(error_buf), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- one request and its response ---- */

struct reg {
	CURL *curl;
	char *base;             /* "https://localhost:5000" */
	char *name;             /* the repository */
	char *registry;         /* as the reference names it, for messages */
	char *basic;            /* "USER:PASSWORD", or NULL */
	char *auth_header;      /* "Authorization: Bearer ...", or NULL */
	const struct reg_options *o;
};

struct response {
	CURL *curl;
	long status;
	char *challenge;        /* WWW-Authenticate */
	char *content_type;
	char *location;
	/* the body: to memory (up to max), or a 2xx body to fd */
	char *mem;
	size_t len, max;
	int too_big;
	int fd;                 /* -1: memory */
	struct sha256 *sha;
	uint64_t bytes, limit;  /* bytes written to fd, and the most allowed */
	int range_asked;        /* this request resumes at bytes (Range) */
	int over;
	void (*progress)(uint64_t done, void *arg);
	void *progress_arg;
};

static void response_reset(struct response *rs)
{
	free(rs->challenge);
	free(rs->content_type);
	free(rs->location);
	free(rs->mem);
	rs->challenge = rs->content_type = rs->location = rs->mem = NULL;
	rs->len = 0;
	rs->too_big = 0;
	rs->status = 0;
}

/* "Name: value\r\n" -> a copy of value when the name is NAME. */
static char *header_value(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);

	if (n <= k || strncasecmp(line, name, k) || line[k] != ':')
		return NULL;
	line += k + 1;
	n -= k + 1;
	while (n && (*line == ' ' || *line == '\t'))
		line++, n--;
	while (n && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' '))
		n--;
	return xasprintf("%.*s", (int)n, line);
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct response *rs = arg;
	char *v;

	n *= size;
	if (n >= 5 && !strncmp(buf, "HTTP/", 5)) {
		/* A new response (a redirect, or "100 Continue"): forget the last. */
		free(rs->challenge);
		free(rs->content_type);
		rs->challenge = rs->content_type = NULL;
	} else if ((v = header_value(buf, n, "WWW-Authenticate"))) {
		free(rs->challenge);
		rs->challenge = v;
	} else if ((v = header_value(buf, n, "Content-Type"))) {
		free(rs->content_type);
		rs->content_type = v;
	} else if ((v = header_value(buf, n, "Location"))) {
		free(rs->location);
		rs->location = v;
	}
	return n;
}

static size_t on_data(char *buf, size_t size, size_t n, void *arg)
{
	struct response *rs = arg;
	long status = 0;

	n *= size;
	/* The status of the response this body belongs to. */
	curl_easy_getinfo(rs->curl, CURLINFO_RESPONSE_CODE, &status);
	if (rs->fd >= 0 && rs->range_asked && status == 200) {
		/* The server ignored our Range: the whole blob again, from 0. */
		rs->range_asked = 0;
		sha256_free(rs->sha);
		rs->sha = sha256_new();
		rs->bytes = 0;
		if (!rs->sha || ftruncate(rs->fd, 0) < 0 || lseek(rs->fd, 0, SEEK_SET) < 0)
			return 0;
	}
	if (rs->fd >= 0 && status >= 200 && status < 300) {
		if (rs->bytes + n > rs->limit) {
			rs->over = 1;
			return 0;       /* CURLE_WRITE_ERROR: the transfer stops */
		}
		for (size_t done = 0; done < n;) {
			ssize_t w = write(rs->fd, buf + done, n - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				fail("write: %s", strerror(errno));
				return 0;
			}
			done += (size_t)w;
		}
		if (sha256_update(rs->sha, buf, n) < 0)
			return 0;
		rs->bytes += n;
		if (rs->progress)
			rs->progress(rs->bytes, rs->progress_arg);
		return n;
	}
	if (rs->len + n > rs->max) {
		rs->too_big = 1;
		return 0;
	}
	rs->mem = xrealloc(rs->mem, rs->len + n + 1);
	memcpy(rs->mem + rs->len, buf, n);
	rs->len += n;
	rs->mem[rs->len] = '\0';
	return n;
}

/* What a reader of an upload body needs. */
struct upload {
	int fd;
	const char *mem;
	size_t len, off;
};

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	ssize_t r;

	n *= size;
	if (u->mem) {
		if (n > u->len - u->off)
			n = u->len - u->off;
		memcpy(buf, u->mem + u->off, n);
		u->off += n;
		return n;
	}
	do
		r = read(u->fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r < 0 ? CURL_READFUNC_ABORT : (size_t)r;
}

/* The registry's own words for an error ({"errors":[{"code","message"}]}),
 * or "HTTP STATUS". */
static char *status_text(const struct response *rs)
{
	json_t *j = rs->mem ? json_loads(rs->mem, 0, NULL) : NULL;
	json_t *e = json_array_get(json_object_get(j, "errors"), 0);
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	char *s;

	if (code && msg)
		s = xasprintf("HTTP %ld, %s (%s)", rs->status, msg, code);
	else
		s = xasprintf("HTTP %ld", rs->status);
	json_decref(j);
	return s;
}

/*
 * One HTTP request: METHOD URL with the headers HDRS (and ours), the body
 * UP (or none).  CURLE_OK and rs->status, or a curl error code (the
 * message in reg_error()).
 */
static CURLcode perform(struct reg *r, const char *method, const char *url,
			struct curl_slist *hdrs, struct upload *up, struct response *rs,
			int with_auth)
{
	struct curl_slist *all = NULL;
	CURLcode rc;
	char errbuf[CURL_ERROR_SIZE] = "";

	for (struct curl_slist *h = hdrs; h; h = h->next)
		all = curl_slist_append(all, h->data);
	if (with_auth && r->auth_header)
		all = curl_slist_append(all, r->auth_header);
	all = curl_slist_append(all, "Expect:");    /* no "100 Continue" wait */
	curl_easy_reset(r->curl);
	rs->curl = r->curl;
	curl_easy_setopt(r->curl, CURLOPT_URL, url);
	curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->curl, CURLOPT_USERAGENT, "minidock/" MINIDOCK_VERSION);
	curl_easy_setopt(r->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* Blobs are often redirected to a storage server; a loop ends here. */
	curl_easy_setopt(r->curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(r->curl, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT, 15L);
	/* A server that stops sending: given up after 30 s below 1 byte/s. */
	curl_easy_setopt(r->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(r->curl, CURLOPT_LOW_SPEED_TIME, 30L);
	if (r->o->ca_cert)
		curl_easy_setopt(r->curl, CURLOPT_CAINFO, r->o->ca_cert);
	if (with_auth && r->basic && !r->auth_header) {
		curl_easy_setopt(r->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(r->curl, CURLOPT_USERPWD, r->basic);
	}
	curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, all);
	curl_easy_setopt(r->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(r->curl, CURLOPT_HEADERDATA, rs);
	curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, rs);
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(r->curl, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "PUT") || !strcmp(method, "POST")) {
		if (!strcmp(method, "PUT"))
			curl_easy_setopt(r->curl, CURLOPT_UPLOAD, 1L);
		else
			curl_easy_setopt(r->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(r->curl, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(r->curl, CURLOPT_READDATA, up);
		if (!strcmp(method, "PUT"))
			curl_easy_setopt(r->curl, CURLOPT_INFILESIZE_LARGE,
					 (curl_off_t)(up ? up->len : 0));
		else
			curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE_LARGE,
					 (curl_off_t)(up ? up->len : 0));
	}
	rc = curl_easy_perform(r->curl);
	curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &rs->status);
	vlog("%s %s -> %s%ld", method, url, rc == CURLE_OK ? "HTTP " : "failed, ",
	     rc == CURLE_OK ? rs->status : (long)rc);
	if (rc != CURLE_OK && !error_buf[0])
		fail("%s %s: %s", method, url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR)
		fail("%s %s: %s", method, url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	curl_slist_free_all(all);
	return rc;
}

/* ---- auth ---- */

/* The value of KEY="..." in a WWW-Authenticate challenge, malloc'd. */
static char *challenge_param(const char *ch, const char *key)
{
	size_t k = strlen(key);

	for (const char *p = ch; (p = strstr(p, key)); p += k) {
		if ((p == ch || p[-1] == ' ' || p[-1] == ',') && p[k] == '=' && p[k + 1] == '"') {
			const char *v = p + k + 2, *end = strchr(v, '"');
			if (end)
				return xasprintf("%.*s", (int)(end - v), v);
		}
	}
	return NULL;
}

/*
 * The bearer-token flow: GET REALM?service=SERVICE&scope=SCOPE (with the
 * basic credentials, when we have some), whose JSON holds the token.
 */
static int get_token(struct reg *r, const char *challenge)
{
	char *realm = challenge_param(challenge, "realm");
	char *service = challenge_param(challenge, "service");
	char *scope = challenge_param(challenge, "scope");
	char *e_service = NULL, *e_scope = NULL, *url;
	struct response rs = { .fd = -1, .max = 1 << 16 };
	const char *token;
	json_t *j = NULL;
	int ret = -1;

	if (!realm || strncmp(realm, "http", 4)) {
		fail("%s: asks for a bearer token without a realm to get it from", r->base);
		goto out;
	}
	if (!scope)
		scope = xasprintf("repository:%s:%s", r->name, r->o->push ? "pull,push" : "pull");
	e_service = curl_easy_escape(r->curl, service ? service : "", 0);
	e_scope = curl_easy_escape(r->curl, scope, 0);
	url = xasprintf("%s%sservice=%s&scope=%s", realm, strchr(realm, '?') ? "&" : "?",
			e_service, e_scope);
	vlog("bearer token: realm %s, service %s, scope %s", realm, service ? service : "-",
	     scope);
	if (perform(r, "GET", url, NULL, NULL, &rs, 1) != CURLE_OK) {
		free(url);
		goto out;
	}
	free(url);
	if (rs.status != 200) {
		char *s = status_text(&rs);
		fail("unauthorized: the token server %s said %s", realm, s);
		free(s);
		goto out;
	}
	j = json_loads(rs.mem ? rs.mem : "", 0, NULL);
	token = json_string_value(json_object_get(j, "token"));
	if (!token)
		token = json_string_value(json_object_get(j, "access_token"));
	if (!token || !*token || strpbrk(token, "\r\n")) {
		fail("the token server %s sent no token", realm);
		goto out;
	}
	free(r->auth_header);
	r->auth_header = xasprintf("Authorization: Bearer %s", token);
	ret = 0;
out:
	json_decref(j);
	curl_free(e_service);
	curl_free(e_scope);
	response_reset(&rs);
	free(realm);
	free(service);
	free(scope);
	return ret;
}

/* A 401 said CHALLENGE: get what it asks for.  0, or -1 (reg_error). */
static int authenticate(struct reg *r, const char *challenge)
{
	if (!challenge)
		return fail("%s: unauthorized, and no WWW-Authenticate header says how to log in",
			    r->base);
	if (!strncasecmp(challenge, "Bearer ", 7))
		return get_token(r, challenge);
	if (!strncasecmp(challenge, "Basic", 5)) {
		if (!r->basic)
			return fail("%s: unauthorized: give credentials with --user USER:PASSWORD "
				    "or in ~/.docker/config.json", r->base);
		vlog("HTTP basic auth as %.*s", (int)strcspn(r->basic, ":"), r->basic);
		return 0;
	}
	return fail("%s: unauthorized, with an auth scheme we do not know: %.40s", r->base,
		    challenge);
}

/*
 * A request made with our auth; on a 401, authenticated as the registry
 * asks (once), then made again.  The upload is rewound first.
 */
static CURLcode request(struct reg *r, const char *method, const char *url,
			struct curl_slist *hdrs, struct upload *up, struct response *rs)
{
	CURLcode rc = perform(r, method, url, hdrs, up, rs, 1);

	if (rc != CURLE_OK || rs->status != 401)
		return rc;
	if ((r->auth_header || (r->basic && rs->challenge &&
				!strncasecmp(rs->challenge, "Basic", 5))) &&
	    !(rs->challenge && strstr(rs->challenge, "insufficient_scope"))) {
		fail("%s: unauthorized (%s %s): wrong credentials?", r->base, method, url);
		return CURLE_LOGIN_DENIED;
	}
	if (authenticate(r, rs->challenge) < 0)
		return CURLE_LOGIN_DENIED;
	if (up && up->mem)
		up->off = 0;
	else if (up && lseek(up->fd, 0, SEEK_SET) < 0)
		return CURLE_READ_ERROR;
	response_reset(rs);
	rc = perform(r, method, url, hdrs, up, rs, 1);
	if (rc == CURLE_OK && rs->status == 401) {
		fail("%s: unauthorized: %s %s refused with the token given%s", r->base, method,
		     url, r->basic ? "" : " (an anonymous one: give credentials with --user)");
		return CURLE_LOGIN_DENIED;
	}
	return rc;
}

/* "USER:PASSWORD" for REGISTRY from the "auths" of ~/.docker/config.json
 * ($DOCKER_CONFIG/config.json), or NULL. */
static char *config_credentials(const char *registry)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	char *path = dir ? xasprintf("%s/config.json", dir)
			 : xasprintf("%s/.docker/config.json", home ? home : "/root");
	json_t *j = json_load_file(path, 0, NULL), *auths = json_object_get(j, "auths");
	const char *b64 = NULL;
	char *out = NULL;

	if (!strcmp(registry, "docker.io"))
		b64 = json_string_value(json_object_get(json_object_get(auths,
				"https://index.docker.io/v1/"), "auth"));
	if (!b64)
		b64 = json_string_value(json_object_get(json_object_get(auths, registry), "auth"));
	if (b64 && strlen(b64) < 4096) {
		unsigned char *raw = xmalloc(strlen(b64) + 4);
		int n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)strlen(b64));
		while (n > 0 && raw[n - 1] == '\0')
			n--;        /* EVP_DecodeBlock counts the padding in */
		if (n > 0 && memchr(raw, ':', (size_t)n)) {
			out = xasprintf("%.*s", n, (char *)raw);
			vlog("credentials for %s from %s", registry, path);
		}
		free(raw);
	}
	json_decref(j);
	free(path);
	return out;
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
		fail("curl_easy_init failed");
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
		error_buf[0] = '\0';
		rc = perform(r, "GET", url, NULL, NULL, &rs, 0);
		/* Plain HTTP only when https found no TLS server at all, never
		 * when a certificate was wrong. */
		if (rc == CURLE_OK || rc == CURLE_PEER_FAILED_VERIFICATION)
			break;
	}
	if (rc != CURLE_OK) {
		char *m = xstrdup(error_buf);
		if (host != ref->registry && strcmp(host, "registry-1.docker.io"))
			fail("registry %s unreachable (through the mirror %s): %s", ref->registry,
			     host, m);
		else
			fail("registry %s unreachable: %s", ref->registry, m);
		free(m);
		goto bad;
	}
	if (rs.status == 401 && authenticate(r, rs.challenge) < 0)
		goto bad;
	if (rs.status != 200 && rs.status != 401) {
		fail("%s: not a registry (GET /v2/: HTTP %ld)", r->base, rs.status);
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
		fail("curl_easy_init failed");
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

	error_buf[0] = '\0';
	rc = request(r, "GET", url, h, NULL, &rs);
	curl_slist_free_all(h);
	if (rs.too_big) {
		fail("manifest %s: larger than %d bytes: refused", which, MANIFEST_MAX);
	} else if (rc != CURLE_OK) {
		/* reg_error() says it */
	} else if (rs.status == 404) {
		char *s = status_text(&rs);
		fail("%s/%s%s%s: no such image or tag (%s)", r->registry, r->name,
		     strncmp(which, "sha256:", 7) ? ":" : "@", which, s);
		free(s);
	} else if (rs.status != 200) {
		char *s = status_text(&rs);
		fail("manifest %s: %s", which, s);
		free(s);
	} else if (sha256_of(rs.mem ? rs.mem : "", rs.len, digest) < 0) {
		fail("sha256: %s", strerror(errno));
	} else if (!strncmp(which, "sha256:", 7) && strcmp(which, digest)) {
		fail("manifest %s: digest mismatch: the content is %s", which, digest);
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
		return fail("sha256: %s", strerror(errno));
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
		error_buf[0] = '\0';
		rs.range_asked = rs.bytes > 0;
		rc = request(r, "GET", url, h, NULL, &rs);
		curl_slist_free_all(h);
		if (!transient(rc))
			break;
	}
	if (rs.over) {
		if (size >= 0)
			fail("blob %s: more bytes than the %lld the manifest says: refused", digest,
			     (long long)size);
		else
			fail("blob %s: larger than %llu bytes (--max-size): refused", digest,
			     (unsigned long long)max);
	} else if (transient(rc)) {
		char *m = xstrdup(error_buf);
		fail("blob %s: truncated, %llu bytes received, 4 tries (%s)", digest,
		     (unsigned long long)rs.bytes, m);
		free(m);
	} else if (rc != CURLE_OK) {
		/* reg_error() says it */
	} else if (rs.status == 404) {
		char *s = status_text(&rs);
		fail("blob %s: not in the registry (%s)", digest, s);
		free(s);
	} else if (rs.status != 200 && rs.status != 206) {
		char *s = status_text(&rs);
		fail("blob %s: %s", digest, s);
		free(s);
	} else if (size >= 0 && rs.bytes != (uint64_t)size) {
		fail("blob %s: truncated: %llu bytes of %lld", digest,
		     (unsigned long long)rs.bytes, (long long)size);
	} else if (sha256_final(rs.sha, got) < 0) {
		fail("sha256: %s", strerror(errno));
	} else if (strcmp(got, digest)) {
		fail("blob %s: digest mismatch: the content is %s", digest, got);
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
	CURLcode rc = request(r, "HEAD", url, NULL, NULL, &rs);
	int ret = -1;

	if (rc == CURLE_OK && (rs.status == 200 || rs.status == 404))
		ret = rs.status == 200;
	else if (rc == CURLE_OK)
		fail("HEAD blob %s: HTTP %ld", digest, rs.status);
	response_reset(&rs);
	free(url);
	return ret;
}

int reg_put_blob(struct reg *r, const char *digest, int fd, uint64_t size)
{
	char *url = xasprintf("%s/v2/%s/blobs/uploads/", r->base, r->name), *put = NULL;
	struct response rs = { .fd = -1, .max = 1 << 16 };
	struct upload up = { .fd = fd, .len = (size_t)size };
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/octet-stream");
	int ret = -1;

	if (request(r, "POST", url, NULL, &(struct upload){ .mem = "", .len = 0 }, &rs) != CURLE_OK)
		goto out;
	if (rs.status != 202 || !rs.location) {
		char *s = status_text(&rs);
		fail("POST %s: %s (expected 202 and a Location)", url, s);
		free(s);
		goto out;
	}
	/* Location: absolute, or a path on the same server. */
	put = xasprintf("%s%s%sdigest=%s", rs.location[0] == '/' ? r->base : "", rs.location,
			strchr(rs.location, '?') ? "&" : "?", digest);
	response_reset(&rs);
	if (lseek(fd, 0, SEEK_SET) < 0) {
		fail("lseek: %s", strerror(errno));
		goto out;
	}
	if (request(r, "PUT", put, h, &up, &rs) != CURLE_OK)
		goto out;
	if (rs.status != 201) {
		char *s = status_text(&rs);
		fail("PUT blob %s: %s", digest, s);
		free(s);
		goto out;
	}
	ret = 0;
out:
	curl_slist_free_all(h);
	response_reset(&rs);
	free(put);
	free(url);
	return ret;
}

int reg_put_manifest(struct reg *r, const char *tag, const char *buf, size_t len,
		     const char *media_type)
{
	char *url = xasprintf("%s/v2/%s/manifests/%s", r->base, r->name, tag);
	char *ct = xasprintf("Content-Type: %s", media_type);
	struct curl_slist *h = curl_slist_append(NULL, ct);
	struct response rs = { .fd = -1, .max = 1 << 16 };
	struct upload up = { .mem = buf, .len = len };
	int ret = -1;

	if (request(r, "PUT", url, h, &up, &rs) != CURLE_OK)
		goto out;
	if (rs.status != 201) {
		char *s = status_text(&rs);
		fail("PUT manifest %s: %s", tag, s);
		free(s);
		goto out;
	}
	ret = 0;
out:
	curl_slist_free_all(h);
	response_reset(&rs);
	free(ct);
	free(url);
	return ret;
}
