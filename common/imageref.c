/*
 * imageref.c - image references and the store's names for them (see
 * imageref.h).  The rules are docker's (distribution/reference).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imageref.h"
#include "minidock.h"

static int bad_ref(char **why, const char *s, const char *what)
{
	*why = xasprintf("%s: %s ([REGISTRY[:PORT]/]NAME[:TAG|@sha256:DIGEST])", s, what);
	return -1;
}

int reg_ref_parse(const char *s, struct reg_ref *ref, char **why)
{
	const char *slash = strchr(s, '/'), *rest = s, *at, *colon;
	char *name;

	memset(ref, 0, sizeof(*ref));
	if (!*s || strlen(s) > 1024 || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789"
					   "ABCDEFGHIJKLMNOPQRSTUVWXYZ._-/:@") != strlen(s))
		return bad_ref(why, s, "not an image reference");
	if (slash && (memchr(s, '.', (size_t)(slash - s)) || memchr(s, ':', (size_t)(slash - s)) ||
		      !strncmp(s, "localhost/", 10))) {
		ref->registry = xasprintf("%.*s", (int)(slash - s), s);
		rest = slash + 1;
	} else {
		ref->registry = xstrdup("docker.io");
	}
	at = strchr(rest, '@');
	if (at) {
		ref->digest = xstrdup(at + 1);
		if (strncmp(ref->digest, "sha256:", 7) || strlen(ref->digest) != 71 ||
		    strspn(ref->digest + 7, "0123456789abcdef") != 64) {
			reg_ref_free(ref);
			return bad_ref(why, s, "the digest must be sha256: and 64 hex digits");
		}
		name = xasprintf("%.*s", (int)(at - rest), rest);
	} else {
		name = xstrdup(rest);
	}
	colon = strrchr(name, ':');
	if (colon && !strchr(colon, '/')) {
		ref->tag = xstrdup(colon + 1);
		name[colon - name] = '\0';
	} else if (!ref->digest) {
		ref->tag = xstrdup("latest");
	}
	if (!*name || name[0] == '/' || name[strlen(name) - 1] == '/' || strstr(name, "//") ||
	    strchr(name, ':') || (ref->tag && (!*ref->tag || strchr(ref->tag, '@')))) {
		free(name);
		reg_ref_free(ref);
		return bad_ref(why, s, "not an image reference");
	}
	if (!strcmp(ref->registry, "docker.io") && !strchr(name, '/')) {
		ref->name = xasprintf("library/%s", name);
		free(name);
	} else {
		ref->name = name;
	}
	return 0;
}

char *reg_ref_string(const struct reg_ref *ref)
{
	if (ref->digest)
		return xasprintf("%s/%s@%s", ref->registry, ref->name, ref->digest);
	return xasprintf("%s/%s:%s", ref->registry, ref->name, ref->tag);
}

void reg_ref_free(struct reg_ref *ref)
{
	free(ref->registry);
	free(ref->name);
	free(ref->tag);
	free(ref->digest);
	memset(ref, 0, sizeof(*ref));
}

int reg_ref_has_registry(const char *s)
{
	const char *slash = strchr(s, '/');

	return slash && (memchr(s, '.', (size_t)(slash - s)) || memchr(s, ':', (size_t)(slash - s)) ||
			 !strncmp(s, "localhost/", 10));
}

char *reg_ref_store_name(const struct reg_ref *ref)
{
	char *s, *name;

	if (ref->digest)
		s = xasprintf("%s/%s@%s", ref->registry, ref->name, ref->digest + 7);
	else if (!strcmp(ref->tag, "latest"))
		s = xasprintf("%s/%s", ref->registry, ref->name);
	else
		s = xasprintf("%s/%s:%s", ref->registry, ref->name, ref->tag);
	for (char *p = s; *p; p++)
		if (*p == '/' || *p == ':' || *p == '@')
			*p = '_';
	if (strlen(s) <= 64)
		return s;
	name = xasprintf("%.47s-%016llx", s, (unsigned long long)hash_str(s));
	free(s);
	return name;
}
