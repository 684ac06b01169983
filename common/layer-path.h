/*
 * layer-path.h - the names in a layer, as strings: cleaned (refused when
 * absolute or climbing with ".."), split into directory and last name,
 * and remembered in a set (the paths a layer made, which its own opaque
 * whiteout must keep).  No system call: common/layer.c resolves them
 * below the root.
 * Used by img-unpack (common/layer.c).
 */
#ifndef MINIDOCK_LAYER_PATH_H
#define MINIDOCK_LAYER_PATH_H

#include <stddef.h>

/* Entry name RAW -> a clean relative path, malloc'd ("" for the root
 * itself; no "." nor empty component), or NULL and *WHY says why not. */
char *path_clean(const char *raw, const char **why);
/* Split "a/b/c" into "a/b" and "c", in place ("c" -> "" and "c"). */
void path_split(char *path, const char **dir, const char **base);

/* A set of strings: a hash table with open addressing (hash_str). */
struct pathset {
	char **slot;
	size_t cap, n;      /* cap: a power of two, or 0 (empty) */
};

/* 1 when P is in SET. */
int pathset_has(const struct pathset *set, const char *p);
/* Add a copy of P (nothing if it is there). */
void pathset_add(struct pathset *set, const char *p);
void pathset_free(struct pathset *set);

#endif
