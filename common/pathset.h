/*
 * pathset.h - a set of strings (the paths a layer created), as a hash
 * table with open addressing (hash_str: FNV-1a).
 * Used by img-unpack (common/layer.c: an opaque whiteout keeps them).
 */
#ifndef MINIDOCK_PATHSET_H
#define MINIDOCK_PATHSET_H

#include <stddef.h>

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
