/*
 * digest.h - sha256 digests, "sha256:<64 hex digits>", the names an OCI
 * image gives its blobs and layers (image-spec descriptor.md, "Digests").
 * Computed by OpenSSL's libcrypto (EVP_DigestInit_ex(3)).
 * Used by img-unpack (common/image-source.c, image.c, decompress.c).
 */
#ifndef MINIDOCK_DIGEST_H
#define MINIDOCK_DIGEST_H

#include <stddef.h>

/* "sha256:" and 64 hex digits, and the final NUL. */
#define DIGEST_LEN 72

struct sha256;

/* A new sha256 computation; NULL with errno (ENOMEM) on failure. */
struct sha256 *sha256_new(void);
/* Hash N more bytes.  -1 on failure (the result would be wrong). */
int sha256_update(struct sha256 *h, const void *buf, size_t n);
/* The digest of every byte given, as "sha256:<hex>"; -1 on failure. */
int sha256_final(struct sha256 *h, char out[DIGEST_LEN]);
void sha256_free(struct sha256 *h);

/* The digest of BUF, in one call: 0, or -1 with errno. */
int sha256_of(const void *buf, size_t n, char out[DIGEST_LEN]);

#endif
