/*
 * digest.c - sha256 with OpenSSL's EVP interface (EVP_DigestInit_ex(3)).
 * A blob of an image is named by the sha256 of its bytes: recomputing it
 * as the bytes stream by is how img-unpack knows nothing was changed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "digest.h"

struct sha256 {
	EVP_MD_CTX *ctx;
};

struct sha256 *sha256_new(void)
{
	struct sha256 *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		sha256_free(h);
		errno = ENOMEM;     /* what can fail here is an allocation */
		return NULL;
	}
	return h;
}

int sha256_update(struct sha256 *h, const void *buf, size_t n)
{
	if (EVP_DigestUpdate(h->ctx, buf, n) != 1) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int sha256_final(struct sha256 *h, char out[DIGEST_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != 32) {
		errno = EIO;
		return -1;
	}
	strcpy(out, "sha256:");
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	return 0;
}

void sha256_free(struct sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

int sha256_of(const void *buf, size_t n, char out[DIGEST_LEN])
{
	struct sha256 *h = sha256_new();
	int r;

	if (!h)
		return -1;
	r = sha256_update(h, buf, n) < 0 ? -1 : sha256_final(h, out);
	sha256_free(h);
	return r;
}
