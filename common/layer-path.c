/*
 * layer-path.c - the names in a layer, as strings.  See layer-path.h.
 * A name is cleaned here once, then only ever resolved below the root
 * (openat2 RESOLVE_IN_ROOT, in layer.c): refusing ".." and absolute names
 * first gives a clear error naming the entry.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "layer-path.h"
#include "minidock.h"

char *path_clean(const char *raw, const char **why)
{
	char *p = xmalloc(strlen(raw) + 1);
	size_t w = 0;

	if (raw[0] == '/') {
		free(p);
		*why = "an absolute path";
		return NULL;
	}
	for (const char *s = raw; *s; ) {
		size_t n = strcspn(s, "/");

		if (n == 2 && s[0] == '.' && s[1] == '.') {
			free(p);
			*why = "\"..\" in the path";
			return NULL;
		}
		if (n > 0 && !(n == 1 && s[0] == '.')) {
			if (w)
				p[w++] = '/';
			memcpy(p + w, s, n);
			w += n;
		}
		s += n;
		while (*s == '/')
			s++;
	}
	p[w] = '\0';
	return p;
}

void path_split(char *path, const char **dir, const char **base)
{
	char *slash = strrchr(path, '/');

	if (slash) {
		*slash = '\0';
		*dir = path;
		*base = slash + 1;
	} else {
		*dir = "";
		*base = path;
	}
}

/* ---- the set: linear probing, kept at most half full so a lookup
 * stops at an empty slot soon ---- */

int pathset_has(const struct pathset *set, const char *p)
{
	if (!set->cap)
		return 0;
	for (size_t i = (size_t)hash_str(p) & (set->cap - 1); set->slot[i];
	     i = (i + 1) & (set->cap - 1))
		if (!strcmp(set->slot[i], p))
			return 1;
	return 0;
}

/* Put S (owned) in the first free slot of its chain. */
static void put(struct pathset *set, char *s)
{
	size_t i = (size_t)hash_str(s) & (set->cap - 1);

	while (set->slot[i])
		i = (i + 1) & (set->cap - 1);
	set->slot[i] = s;
	set->n++;
}

void pathset_add(struct pathset *set, const char *p)
{
	if (pathset_has(set, p))
		return;
	if (2 * (set->n + 1) > set->cap) {
		struct pathset bigger = { xcalloc(set->cap ? 2 * set->cap : 1024, sizeof(char *)),
					  set->cap ? 2 * set->cap : 1024, 0 };
		for (size_t i = 0; i < set->cap; i++)
			if (set->slot[i])
				put(&bigger, set->slot[i]);
		free(set->slot);
		*set = bigger;
	}
	put(set, xstrdup(p));
}

void pathset_free(struct pathset *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slot[i]);
	free(set->slot);
	memset(set, 0, sizeof(*set));
}
