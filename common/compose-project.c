/*
 * compose-project.c - what a compose project is beyond its file: its
 * names as Compose makes them (the file looked for, the project's name
 * from a directory), the services' start order (Kahn's algorithm on
 * depends_on; what is left over holds a cycle, which is named as a
 * path), looking a service up, the `run` command line of a service,
 * and freeing the model.  See
 * compose-file.h.  Used by compose.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose-file.h"
#include "minidock.h"

static size_t index_of(const struct compose_project *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n && strcmp(p->services[i].name, name); i++)
		;
	return i;
}

/* A cycle among the services not PLACED: follow, from the first, a
 * dependency not placed either until a service comes back.  "a -> b ->
 * a", and in *FIRST the service it starts from. */
static char *find_cycle(const struct compose_project *p, const char *placed, size_t *first)
{
	size_t *seen = xcalloc(p->n + 1, sizeof(*seen)), n = 0, i, j, k;
	char *text = NULL, *t;

	for (i = 0; placed[i]; i++)
		;
	for (;;) {
		for (k = 0; k < n && seen[k] != i; k++)
			;
		if (k < n)
			break;          /* i again: the cycle is seen[k..n-1] */
		seen[n++] = i;
		for (j = 0; j < p->services[i].depends_on.n; j++)
			if (!placed[index_of(p, p->services[i].depends_on.v[j])])
				break;
		i = index_of(p, p->services[i].depends_on.v[j]);
	}
	*first = seen[k];
	for (j = k; j <= n; j++) {
		t = text;
		text = xasprintf("%s%s%s", t ? t : "", t ? " -> " : "",
				 p->services[j < n ? seen[j] : seen[k]].name);
		free(t);
	}
	free(seen);
	return text;
}

int compose_sort(struct compose_project *p, char **why)
{
	struct compose_service *sorted = xcalloc(p->n ? p->n : 1, sizeof(*sorted));
	char *placed = xcalloc(p->n ? p->n : 1, 1), *cycle;
	size_t done = 0, i, j, k;
	int progress = 1;

	for (i = 0; i < p->n; i++)
		for (j = 0; j < p->services[i].depends_on.n; j++)
			if (!compose_service(p, p->services[i].depends_on.v[j])) {
				why_fail(why, "%s:%u: services.%s.depends_on: %s: no such service",
					 p->file, p->services[i].line, p->services[i].name,
					 p->services[i].depends_on.v[j]);
				goto fail;
			}
	while (done < p->n && progress) {
		progress = 0;
		for (i = 0; i < p->n; i++) {
			int ready = !placed[i];
			for (j = 0; ready && j < p->services[i].depends_on.n; j++)
				for (k = 0; k < p->n; k++)
					if (!strcmp(p->services[k].name, p->services[i].depends_on.v[j]))
						ready = placed[k];
			if (ready) {
				sorted[done++] = p->services[i];
				placed[i] = progress = 1;
			}
		}
	}
	if (done < p->n) {
		cycle = find_cycle(p, placed, &i);
		why_fail(why, "%s:%u: services.%s.depends_on: a cycle: %s", p->file,
			 p->services[i].line, p->services[i].name, cycle);
		free(cycle);
		goto fail;
	}
	free(p->services);
	p->services = sorted;
	free(placed);
	return 0;
fail:
	free(sorted);
	free(placed);
	return -1;
}

char *compose_normalise(const char *dir)
{
	const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	char *out = xmalloc(strlen(base) + 1), *o = out;

	for (; *base; base++) {
		char c = (char)tolower((unsigned char)*base);
		if (isdigit((unsigned char)c) || (c >= 'a' && c <= 'z') ||
		    ((c == '_' || c == '-') && o > out))
			*o++ = c;
	}
	*o = '\0';
	return out;
}

int compose_valid_project(const char *s)
{
	if (strlen(s) > 40 || !s[0] || !(isdigit((unsigned char)s[0]) || islower((unsigned char)s[0])))
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s) && !islower((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

char *compose_find_file(const char *file)
{
	static const char *const names[] = { "compose.yaml", "compose.yml",
		"docker-compose.yaml", "docker-compose.yml" };
	size_t i;

	if (file)
		return xstrdup(file);
	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (access(names[i], F_OK) == 0)
			return xstrdup(names[i]);
	errno = ENOENT;
	return NULL;
}

const struct compose_service *compose_service(const struct compose_project *p,
					      const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->services[i].name && !strcmp(p->services[i].name, name))
			return &p->services[i];
	return NULL;
}

void compose_free(struct compose_project *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct compose_service *s = &p->services[i];
		struct strv *v[] = { &s->command, &s->entrypoint, &s->environment, &s->ports,
				     &s->volumes, &s->networks, &s->depends_on };
		char *str[] = { s->name, s->container, s->image, s->build_context,
				s->build_dockerfile, s->restart, s->mem_limit, s->cpus,
				s->pids_limit, s->user, s->working_dir, s->hostname };
		for (size_t j = 0; j < sizeof(v) / sizeof(*v); j++)
			strv_free(v[j]);
		for (size_t j = 0; j < sizeof(str) / sizeof(*str); j++)
			free(str[j]);
	}
	free(p->services);
	strv_free(&p->networks);
	strv_free(&p->volumes);
	strv_free(&p->network_keys);
	strv_free(&p->volume_keys);
	free(p->file);
	free(p->dir);
	free(p->name);
	memset(p, 0, sizeof(*p));
}

void compose_run_args(const struct compose_service *s, struct strv *a)
{
	const struct { const char *option, *value; } keys[] = {
		{ "--network", s->networks.v[0] }, { "--network-alias", s->name },
		{ "--restart", s->restart }, { "--memory", s->mem_limit }, { "--cpus", s->cpus },
		{ "--pids-limit", s->pids_limit }, { "--user", s->user },
		{ "--workdir", s->working_dir }, { "--hostname", s->hostname },
	};
	size_t i;

	strv_push(a, "-d");
	strv_pushf(a, "--name=%s", s->container);
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if (keys[i].value)
			strv_pushf(a, "%s=%s", keys[i].option, keys[i].value);
	for (i = 0; i < s->environment.n; i++)
		strv_pushf(a, "--env=%s", s->environment.v[i]);
	for (i = 0; i < s->ports.n; i++)
		strv_pushf(a, "--publish=%s", s->ports.v[i]);
	for (i = 0; i < s->volumes.n; i++)
		strv_pushf(a, "--volume=%s", s->volumes.v[i]);
	/* entrypoint [A, B...]: run --entrypoint A IMAGE B... COMMAND (an
	 * entrypoint drops the image's Cmd, as in Compose). */
	if (s->has_entrypoint)
		strv_pushf(a, "--entrypoint=%s", s->entrypoint.n ? s->entrypoint.v[0] : "");
	strv_push(a, s->image);
	for (i = 1; i < s->entrypoint.n; i++)
		strv_push(a, s->entrypoint.v[i]);
	for (i = 0; i < s->command.n; i++)
		strv_push(a, s->command.v[i]);
}
