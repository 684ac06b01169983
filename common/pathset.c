/*
 * pathset.c - a set of strings: a hash table with linear probing, kept at
 * most half full so a lookup stops at an empty slot soon.  See pathset.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "minidock.h"
#include "pathset.h"

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
