/*
 * registry.h - talking to an image registry: the OCI distribution API
 * (github.com/opencontainers/distribution-spec, spec.md), which Docker
 * Hub, GHCR, Quay and Debian's docker-registry all speak, over HTTPS with
 * libcurl (curl_easy_setopt(3)).
 *
 *   GET  /v2/                                  is it a registry? which auth?
 *   GET  /v2/NAME/manifests/TAG|DIGEST         a manifest or an image index
 *   GET  /v2/NAME/blobs/DIGEST                 a config or a layer
 *   HEAD /v2/NAME/blobs/DIGEST                 is it there already? (push)
 *   POST /v2/NAME/blobs/uploads/  then  PUT LOCATION?digest=DIGEST   (push)
 *        or  PATCH LOCATION (Content-Range), ...,  then  PUT           (chunked)
 *   PUT  /v2/NAME/manifests/TAG                                      (push)
 *
 * Auth: anonymous; HTTP basic (--user, or ~/.docker/config.json "auths");
 * the bearer-token flow: a 401 says `WWW-Authenticate: Bearer realm=URL,
 * service=S,scope=repository:NAME:pull`, a GET of the realm (with the basic
 * credentials, if any) returns {"token": ...}, sent again as
 * `Authorization: Bearer TOKEN`.
 * Every blob is checked against its digest (sha256) as it streams, and
 * against its size: a registry is a stranger.
 * Used by img-pull and img-push.
 */
#ifndef MINIDOCK_REGISTRY_H
#define MINIDOCK_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "imageref.h"

/* The message of the last failure (of this thread). */
const char *reg_error(void);

/* ---- a connection to one registry, for one repository ---- */

struct reg_options {
	const char *user;       /* "USER:PASSWORD" (--user), or NULL: config.json */
	const char *ca_cert;    /* a CA file to trust (a test's own CA), or NULL */
	int insecure;           /* plain HTTP allowed (always for localhost) */
	int push;               /* ask for push rights too (scope ...:pull,push) */
};

/* The options img-pull and img-push share: -u/--user, --insecure,
 * --ca-cert (in a getopt_long table: REG_LONGOPTS). */
enum { REG_OPT_INSECURE = 300, REG_OPT_CA };
#define REG_LONGOPTS \
	{ "user", required_argument, NULL, 'u' }, \
	{ "insecure", no_argument, NULL, REG_OPT_INSECURE }, \
	{ "ca-cert", required_argument, NULL, REG_OPT_CA }
/* Option C (with ARG) into O when it is one of them: 1; else 0.  A bad
 * --user exits 125.  reg_options_init: the defaults ($MINIDOCK_CA_CERT). */
int reg_option(int c, const char *arg, struct reg_options *o);
void reg_options_init(struct reg_options *o);

struct reg;

/* GET /v2/, choosing https (or http, for localhost and --insecure), and
 * the auth the registry asks for.  NULL (reg_error) when unreachable. */
struct reg *reg_open(const struct reg_ref *ref, const struct reg_options *o);
void reg_close(struct reg *r);
/* A second connection to the same repository, with the same auth (a token
 * already given is reused): one a thread.  NULL (reg_error). */
struct reg *reg_clone(const struct reg *r);

/* Media types: what we accept of a manifest. */
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

#define MANIFEST_MAX (4 << 20)      /* the bound on a manifest (4 MB) */

/*
 * GET the manifest WHICH (a tag or a digest): its bytes (malloc'd, NUL
 * added), length, media type (malloc'd) and sha256 digest.  When WHICH is
 * a digest the bytes must match it.  NULL (reg_error) otherwise.
 */
char *reg_get_manifest(struct reg *r, const char *which, size_t *len, char **media_type,
		       char digest[DIGEST_LEN]);

/*
 * GET blob DIGEST of SIZE bytes (-1: unknown, then at most MAX) into the
 * open file FD, from its start, hashed as it streams: a network error is
 * retried (resumed with a Range request), and the bytes must have the
 * digest and the size.  PROGRESS, when not NULL, is called with the bytes
 * so far.  0, or -1 (reg_error).
 */
int reg_get_blob(struct reg *r, const char *digest, int64_t size, uint64_t max, int fd,
		 void (*progress)(uint64_t done, void *arg), void *arg);

/* HEAD blob DIGEST: 1 when the registry has it, 0 when not, -1 (reg_error). */
int reg_has_blob(struct reg *r, const char *digest);
/* POST an upload, then the SIZE bytes of FD (from its start) as blob
 * DIGEST: in the PUT (monolithic upload) or, when CHUNK is not 0 and SIZE
 * is larger, in PATCH requests of CHUNK bytes (Content-Range) and a PUT
 * that closes the upload.  0, or -1 (reg_error). */
int reg_put_blob(struct reg *r, const char *digest, int fd, uint64_t size, uint64_t chunk);
/* PUT the manifest BUF (of MEDIA_TYPE) as tag TAG.  0, or -1 (reg_error). */
int reg_put_manifest(struct reg *r, const char *tag, const char *buf, size_t len,
		     const char *media_type);

#endif
