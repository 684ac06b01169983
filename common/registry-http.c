/*
 * registry-http.c - one HTTP request to a registry, and its auth (see
 * registry-http.h): libcurl's callbacks (headers, a body to memory or, for
 * a blob, to a file hashed as it comes; an upload from memory or a file),
 * the registry's error text, and the logins a 401 asks for: HTTP basic,
 * or the bearer-token flow (distribution/docs/spec/auth/token.md).
 *
 * One curl "easy" handle per connection, reset before each request
 * (curl_easy_reset(3) keeps the open connections: one TLS handshake for a
 * whole pull).
 * Read curl_easy_setopt(3), CURLOPT_WRITEFUNCTION(3), CURLOPT_HEADERFUNCTION(3),
 * CURLOPT_READFUNCTION(3).
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

static __thread char error_buf[1024];

const char *reg_error(void)
{
	return error_buf;
}

void reg_error_clear(void)
{
	error_buf[0] = '\0';
}

int reg_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(error_buf, sizeof(error_buf), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- one request and its response ---- */



void response_reset(struct response *rs)
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
				reg_fail("write: %s", strerror(errno));
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


static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	ssize_t r;

	n *= size;
	if (n > u->len - u->off)
		n = u->len - u->off;        /* a chunk ends before the file */
	if (u->mem) {
		memcpy(buf, u->mem + u->off, n);
		u->off += n;
		return n;
	}
	if (n == 0)
		return 0;
	do
		r = read(u->fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return CURL_READFUNC_ABORT;
	u->off += (size_t)r;
	return (size_t)r;
}

/* The registry's own words for an error ({"errors":[{"code","message"}]}),
 * or "HTTP STATUS". */
char *status_text(const struct response *rs)
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
CURLcode http_perform(struct reg *r, const char *method, const char *url,
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
	} else if (!strcmp(method, "POST")) {
		curl_easy_setopt(r->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(up ? up->len : 0));
	} else if (!strcmp(method, "PUT") || !strcmp(method, "PATCH")) {
		/* An upload; PATCH is the same with another method name. */
		curl_easy_setopt(r->curl, CURLOPT_UPLOAD, 1L);
		if (!strcmp(method, "PATCH"))
			curl_easy_setopt(r->curl, CURLOPT_CUSTOMREQUEST, "PATCH");
		curl_easy_setopt(r->curl, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)(up ? up->len : 0));
	}
	if (up) {
		curl_easy_setopt(r->curl, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(r->curl, CURLOPT_READDATA, up);
	}
	rc = curl_easy_perform(r->curl);
	curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &rs->status);
	vlog("%s %s -> %s%ld", method, url, rc == CURLE_OK ? "HTTP " : "failed, ",
	     rc == CURLE_OK ? rs->status : (long)rc);
	if (rc != CURLE_OK && !error_buf[0])
		reg_fail("%s %s: %s", method, url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR)
		reg_fail("%s %s: %s", method, url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
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
		reg_fail("%s: asks for a bearer token without a realm to get it from", r->base);
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
	if (http_perform(r, "GET", url, NULL, NULL, &rs, 1) != CURLE_OK) {
		free(url);
		goto out;
	}
	free(url);
	if (rs.status != 200) {
		char *s = status_text(&rs);
		reg_fail("unauthorized: the token server %s said %s", realm, s);
		free(s);
		goto out;
	}
	j = json_loads(rs.mem ? rs.mem : "", 0, NULL);
	token = json_string_value(json_object_get(j, "token"));
	if (!token)
		token = json_string_value(json_object_get(j, "access_token"));
	if (!token || !*token || strpbrk(token, "\r\n")) {
		reg_fail("the token server %s sent no token", realm);
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
int http_login(struct reg *r, const char *challenge)
{
	if (!challenge)
		return reg_fail("%s: unauthorized, and no WWW-Authenticate header says how to log in",
			    r->base);
	if (!strncasecmp(challenge, "Bearer ", 7))
		return get_token(r, challenge);
	if (!strncasecmp(challenge, "Basic", 5)) {
		if (!r->basic)
			return reg_fail("%s: unauthorized: give credentials with --user USER:PASSWORD "
				    "or in ~/.docker/config.json", r->base);
		vlog("HTTP basic auth as %.*s", (int)strcspn(r->basic, ":"), r->basic);
		return 0;
	}
	return reg_fail("%s: unauthorized, with an auth scheme we do not know: %.40s", r->base,
		    challenge);
}

/*
 * A request made with our auth; on a 401, authenticated as the registry
 * asks (once), then made again.  The upload is rewound first.
 */
CURLcode http_request(struct reg *r, const char *method, const char *url,
			struct curl_slist *hdrs, struct upload *up, struct response *rs)
{
	CURLcode rc = http_perform(r, method, url, hdrs, up, rs, 1);

	if (rc != CURLE_OK || rs->status != 401)
		return rc;
	if ((r->auth_header || (r->basic && rs->challenge &&
				!strncasecmp(rs->challenge, "Basic", 5))) &&
	    !(rs->challenge && strstr(rs->challenge, "insufficient_scope"))) {
		reg_fail("%s: unauthorized (%s %s): wrong credentials?", r->base, method, url);
		return CURLE_LOGIN_DENIED;
	}
	if (http_login(r, rs->challenge) < 0)
		return CURLE_LOGIN_DENIED;
	if (up && !up->mem && lseek(up->fd, up->start, SEEK_SET) < 0)
		return CURLE_READ_ERROR;
	if (up)
		up->off = 0;
	response_reset(rs);
	rc = http_perform(r, method, url, hdrs, up, rs, 1);
	if (rc == CURLE_OK && rs->status == 401) {
		reg_fail("%s: unauthorized: %s %s refused with the token given%s", r->base, method,
		     url, r->basic ? "" : " (an anonymous one: give credentials with --user)");
		return CURLE_LOGIN_DENIED;
	}
	return rc;
}

/* "USER:PASSWORD" for REGISTRY from the "auths" of ~/.docker/config.json
 * ($DOCKER_CONFIG/config.json), or NULL. */
char *config_credentials(const char *registry)
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

int http_expect(struct reg *r, const char *method, const char *url,
		   struct curl_slist *hdrs, struct upload *up, struct response *rs,
		   long want, const char *what)
{
	char *s;

	if (http_request(r, method, url, hdrs, up, rs) != CURLE_OK)
		return -1;
	if (rs->status == want)
		return 0;
	s = status_text(rs);
	reg_fail("%s: %s", what, s);
	free(s);
	return -1;
}
