/*
 * registry-http.h - what registry.c and registry-http.c share, and no
 * tool sees: a connection (struct reg), one request and its response,
 * an upload body, the auth a 401 asks for.  See registry.h for the API.
 */
#ifndef MINIDOCK_REGISTRY_HTTP_H
#define MINIDOCK_REGISTRY_HTTP_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "digest.h"
#include "registry.h"

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

/* What a reader of an upload body needs. */
struct upload {
	int fd;
	off_t start;            /* where the body starts in fd (a chunk) */
	const char *mem;        /* or the body in memory */
	size_t len, off;        /* its length, and what was sent */
};

/* Set the message reg_error() gives (of this thread); -1. */
int reg_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void reg_error_clear(void);

/* Free what a response holds, ready for another request. */
void response_reset(struct response *rs);
/* The registry's own words for an error, or "HTTP STATUS", malloc'd. */
char *status_text(const struct response *rs);

/*
 * One HTTP request: METHOD (GET, HEAD, POST, PUT, PATCH) URL with the
 * headers HDRS (and ours, the auth with WITH_AUTH), the body UP (or
 * none).  CURLE_OK and rs->status, or a curl error code (reg_error()).
 */
CURLcode http_perform(struct reg *r, const char *method, const char *url,
		 struct curl_slist *hdrs, struct upload *up, struct response *rs, int with_auth);
/* The same with our auth; on a 401, logged in as the registry asks (once),
 * then made again.  A 401 after that is an error (CURLE_LOGIN_DENIED). */
CURLcode http_request(struct reg *r, const char *method, const char *url,
		 struct curl_slist *hdrs, struct upload *up, struct response *rs);
/* http_request(), then the status must be WANT: 0, or -1 with reg_error()
 * "WHAT: <the registry's words>". */
int http_expect(struct reg *r, const char *method, const char *url,
		   struct curl_slist *hdrs, struct upload *up, struct response *rs,
		   long want, const char *what);

/* A 401 said CHALLENGE: log in as it asks (basic, or a bearer token).
 * 0, or -1 (reg_error). */
int http_login(struct reg *r, const char *challenge);

/* "USER:PASSWORD" for REGISTRY from ~/.docker/config.json, or NULL. */
char *config_credentials(const char *registry);

#endif
