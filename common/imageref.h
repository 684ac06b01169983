/*
 * imageref.h - image references, as docker reads them:
 *   [REGISTRY[:PORT]/]NAME[:TAG|@sha256:DIGEST]
 * ("debian" is docker.io/library/debian:latest), and the name under which
 * the store keeps a pulled image (md_lib_dir()/images/NAME).  No network
 * here: run links this, and the registry code (registry.h) uses it.
 * Used by img-pull, img-push, image and run (common/runimage.c).
 */
#ifndef MINIDOCK_IMAGEREF_H
#define MINIDOCK_IMAGEREF_H

struct reg_ref {
	char *registry;     /* "docker.io", "localhost:5000" */
	char *name;         /* "library/debian", "team/app" */
	char *tag;          /* "latest" when neither tag nor digest is given */
	char *digest;       /* "sha256:..." or NULL */
};

/* Docker's rules: a first component with '.' or ':', or "localhost", is
 * a registry (else docker.io, and library/ for a one-word name).  0, or
 * -1 with *WHY the message (malloc'd). */
int reg_ref_parse(const char *s, struct reg_ref *ref, char **why);
/* "REGISTRY/NAME:TAG" or "REGISTRY/NAME@DIGEST", malloc'd. */
char *reg_ref_string(const struct reg_ref *ref);
void reg_ref_free(struct reg_ref *ref);

/* S names a registry explicitly ("localhost:5000/app", "ghcr.io/x/y"):
 * what run pulls when it is not a file. */
int reg_ref_has_registry(const char *s);

/* The store's name for REF: the reference with '/', ':' and '@' made '_'
 * ("localhost_5000_app" for localhost:5000/app:latest), shortened with a
 * hash past 64 characters: a valid_name().  Malloc'd. */
char *reg_ref_store_name(const struct reg_ref *ref);

#endif
