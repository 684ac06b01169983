/*
 * compose-file.c - a compose.yaml into a project (compose-file.h), with
 * libyaml's document API: yaml_parser_load(3) gives the whole file as a
 * tree of nodes (scalars, sequences, mappings), each with the line it
 * starts on, so every error names the file, the line and the key.
 *
 * Only the subset minidock runs is accepted: every other key is an error,
 * never ignored (a key Compose knows and we drop silently would start a
 * different application than the file says).  Then the services are
 * sorted by depends_on (Kahn's algorithm; what is left over is a cycle).
 * Used by compose.  Read: https://github.com/compose-spec/compose-spec
 * (spec.md), and yaml.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "compose-file.h"
#include "dockerfile.h"
#include "minidock.h"

/* What is being read, for the messages. */
struct reader {
	yaml_document_t doc;
	const char *file;
	struct compose_project *p;
	char **why;
};

static int __attribute__((format(printf, 3, 4)))
bad(struct reader *r, yaml_node_t *node, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	why_fail(r->why, "%s:%lu: %s", r->file, node ? (unsigned long)node->start_mark.line + 1 : 0UL,
		 msg ? msg : "out of memory");
	free(msg);
	errno = EINVAL;
	return -1;
}

static yaml_node_t *node(struct reader *r, int id)
{
	return yaml_document_get_node(&r->doc, id);
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* YAML's null: an empty value, "~" or "null" (not quoted). */
static int is_null(yaml_node_t *n)
{
	const char *s = scalar(n);

	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "~") || !strcmp(s, "null"));
}

/* Compose replaces ${VAR} and $VAR in values; minidock does not, and
 * says so rather than start something else than the file means.  $$ is a
 * '$', as in Compose: made one here, in the node (once per value). */
static int uninterpolated(struct reader *r, yaml_node_t *n, const char *key)
{
	char *s = (char *)n->data.scalar.value, *o = s;

	for (; s && *s; s++)
		if (*s == '$' && *++s != '$')
			return bad(r, n, "%s: %s: variables ($NAME) are not replaced by "
				   "minidock's compose (write $$ for a $)", key, o);
	for (s = o; s && *s; s++) {
		*o++ = *s;
		s += *s == '$';
	}
	if (o)
		*o = '\0';
	return 0;
}

/* A scalar value into *OUT (malloc'd), or an error naming KEY. */
static int get_string(struct reader *r, yaml_node_t *n, const char *key, char **out)
{
	if (!scalar(n) || is_null(n))
		return bad(r, n, "%s: expected a string", key);
	if (uninterpolated(r, n, key) < 0)
		return -1;
	free(*out);
	*out = xstrdup(scalar(n));
	return 0;
}

/* A list of strings, or (ALLOW_STRING) one string split into words as a
 * shell would (Docker's lexer): command, entrypoint. */
static int get_words(struct reader *r, yaml_node_t *n, const char *key, int allow_string,
		     struct strv *out)
{
	yaml_node_item_t *it;
	char *why = NULL;

	if (allow_string && scalar(n) && !is_null(n)) {
		if (uninterpolated(r, n, key) < 0)
			return -1;
		if (df_words(scalar(n), '\\', NULL, NULL, 1, out, &why) < 0) {
			bad(r, n, "%s: %s", key, why ? why : "bad quoting");
			free(why);
			return -1;
		}
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return bad(r, n, "%s: expected %s", key,
			   allow_string ? "a string or a list of strings" : "a list of strings");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		if (!scalar(node(r, *it)))
			return bad(r, node(r, *it), "%s: expected a string", key);
		if (uninterpolated(r, node(r, *it), key) < 0)
			return -1;
		strv_push(out, scalar(node(r, *it)));
	}
	return 0;
}

/* KEY of mapping N is one of ALLOWED ("a b c"), else an error naming it. */
static int check_key(struct reader *r, yaml_node_t *k, const char *where, const char *allowed)
{
	const char *s = scalar(k);
	size_t len = s ? strlen(s) : 0;
	const char *p;

	for (p = allowed; s && (p = strstr(p, s)); p += len)
		if ((p == allowed || p[-1] == ' ') && (p[len] == ' ' || !p[len]))
			return 0;
	return bad(r, k, "%s%s%s: unsupported key (minidock's compose knows: %s)", where,
		   *where ? "." : "", s ? s : "?", allowed);
}

#define FOR_PAIRS(r, n, pair) \
	for (pair = (n)->data.mapping.pairs.start; pair < (n)->data.mapping.pairs.top; pair++)

static int expect_mapping(struct reader *r, yaml_node_t *n, const char *key)
{
	if (n->type != YAML_MAPPING_NODE)
		return bad(r, n, "%s: expected a mapping (KEY: VALUE lines)", key);
	return 0;
}

/* environment: a mapping (NAME: VALUE) or a list (NAME=VALUE).  NAME
 * alone takes compose's own value, as Compose does (left out if unset). */
static int read_environment(struct reader *r, yaml_node_t *n, struct compose_service *s)
{
	yaml_node_pair_t *pair;
	yaml_node_item_t *it;
	const char *v;

	if (n->type == YAML_MAPPING_NODE) {
		FOR_PAIRS(r, n, pair) {
			yaml_node_t *k = node(r, pair->key), *val = node(r, pair->value);
			if (!scalar(k) || !scalar(val))
				return bad(r, k, "environment: expected NAME: VALUE");
			if (uninterpolated(r, val, scalar(k)) < 0)
				return -1;
			if (is_null(val))
				v = getenv(scalar(k));
			else
				v = scalar(val);
			if (v)
				strv_pushf(&s->environment, "%s=%s", scalar(k), v);
		}
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return bad(r, n, "environment: expected a mapping or a list of NAME=VALUE");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = node(r, *it);
		if (!scalar(e) || !*scalar(e) || scalar(e)[0] == '=')
			return bad(r, e, "environment: expected NAME=VALUE");
		if (uninterpolated(r, e, "environment") < 0)
			return -1;
		if (strchr(scalar(e), '='))
			strv_push(&s->environment, scalar(e));
		else if ((v = getenv(scalar(e))))
			strv_pushf(&s->environment, "%s=%s", scalar(e), v);
	}
	return 0;
}

/* build: CONTEXT, or { context, dockerfile }; relative to the file. */
static int read_build(struct reader *r, yaml_node_t *n, struct compose_service *s)
{
	yaml_node_pair_t *pair;
	char *ctx = NULL;

	if (scalar(n)) {
		if (get_string(r, n, "build", &ctx) < 0)
			return -1;
	} else {
		if (expect_mapping(r, n, "build") < 0)
			return -1;
		FOR_PAIRS(r, n, pair) {
			yaml_node_t *k = node(r, pair->key), *v = node(r, pair->value);
			if (check_key(r, k, "build", "context dockerfile") < 0 ||
			    get_string(r, v, scalar(k), !strcmp(scalar(k), "context") ? &ctx
								: &s->build_dockerfile) < 0) {
				free(ctx);
				return -1;
			}
		}
		if (!ctx)
			ctx = xstrdup(".");
	}
	if (ctx[0] == '/')
		s->build_context = xstrdup(ctx);
	else if (!strcmp(ctx, "."))
		s->build_context = xstrdup(r->p->dir);
	else
		s->build_context = xasprintf("%s/%s", r->p->dir,
					     strncmp(ctx, "./", 2) ? ctx : ctx + 2);
	free(ctx);
	return 0;
}

/* The full name of the network or volume declared on top as KEY, or NULL. */
static const char *declared(const struct strv *keys, const struct strv *names, const char *key)
{
	for (size_t i = 0; i < keys->n; i++)
		if (!strcmp(keys->v[i], key))
			return names->v[i];
	return NULL;
}

/* volumes: SRC:DST[:ro|rw].  SRC with a '/' or starting with '.' or '~'
 * is a bind mount (made absolute); else a named volume, which the
 * top-level volumes must declare (as Compose checks). */
static int read_volumes(struct reader *r, yaml_node_t *n, struct compose_service *s)
{
	yaml_node_item_t *it;
	struct strv words = { 0 };

	if (get_words(r, n, "volumes", 0, &words) < 0)
		return -1;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = node(r, *it);
		char *spec = xstrdup(scalar(e)), *dst = strchr(spec, ':');
		const char *full;
		if (!dst || dst == spec || dst[1] != '/') {
			free(spec);
			strv_free(&words);
			return bad(r, e, "volumes: %s: expected SOURCE:/PATH[:ro] (the short "
				   "syntax)", scalar(e));
		}
		*dst++ = '\0';
		if (strchr(spec, '/') || spec[0] == '.' || spec[0] == '~') {
			const char *home = getenv("HOME");
			if (spec[0] == '/')
				strv_pushf(&s->volumes, "%s:%s", spec, dst);
			else if (spec[0] == '~')
				strv_pushf(&s->volumes, "%s%s:%s", home ? home : "", spec + 1, dst);
			else
				strv_pushf(&s->volumes, "%s/%s:%s", r->p->dir,
					   strncmp(spec, "./", 2) ? spec : spec + 2, dst);
		} else {
			if (!(full = declared(&r->p->volume_keys, &r->p->volumes, spec))) {
				bad(r, e, "volumes: %s: named volume %s is not declared in the "
				    "top-level volumes", scalar(e), spec);
				free(spec);
				strv_free(&words);
				return -1;
			}
			strv_pushf(&s->volumes, "%s:%s", full, dst);
		}
		free(spec);
	}
	strv_free(&words);
	return 0;
}

/* networks: a list of names, or a mapping NAME: (null or {aliases}) (the
 * service name is always an alias: compose.c).  Each declared on top. */
static int read_networks(struct reader *r, yaml_node_t *n, struct compose_service *s)
{
	yaml_node_item_t *it;
	yaml_node_pair_t *pair;
	const char *full;
	yaml_node_t *k;

	if (n->type != YAML_SEQUENCE_NODE && n->type != YAML_MAPPING_NODE)
		return bad(r, n, "networks: expected a list of network names");
	for (it = n->data.sequence.items.start;
	     n->type == YAML_SEQUENCE_NODE && it < n->data.sequence.items.top; it++)
		if (!scalar(node(r, *it)))
			return bad(r, node(r, *it), "networks: expected a network name");
	for (size_t i = 0;; i++) {
		if (n->type == YAML_SEQUENCE_NODE) {
			if (n->data.sequence.items.start + i >= n->data.sequence.items.top)
				break;
			k = node(r, n->data.sequence.items.start[i]);
		} else {
			if (n->data.mapping.pairs.start + i >= n->data.mapping.pairs.top)
				break;
			pair = n->data.mapping.pairs.start + i;
			k = node(r, pair->key);
			if (!is_null(node(r, pair->value)))
				return bad(r, node(r, pair->value), "networks.%s: only a name "
					   "(the service is reached by its own name)", scalar(k));
		}
		full = declared(&r->p->network_keys, &r->p->networks, scalar(k));
		if (!full && strcmp(scalar(k), "default"))
			return bad(r, k, "networks: %s is not declared in the top-level networks",
				   scalar(k));
		if (s->networks.n)
			return bad(r, k, "networks: %s: minidock's run joins one network",
				   scalar(k));
		if (full)
			strv_push(&s->networks, full);
		else
			strv_pushf(&s->networks, "%s_default", r->p->name);
	}
	return 0;
}

/* depends_on: a list of services, or a mapping SERVICE: {condition:
 * service_started} (the only condition without healthchecks). */
static int read_depends_on(struct reader *r, yaml_node_t *n, struct compose_service *s)
{
	yaml_node_pair_t *pair, *cp;

	if (n->type == YAML_SEQUENCE_NODE)
		return get_words(r, n, "depends_on", 0, &s->depends_on);
	if (expect_mapping(r, n, "depends_on") < 0)
		return -1;
	FOR_PAIRS(r, n, pair) {
		yaml_node_t *k = node(r, pair->key), *v = node(r, pair->value);
		if (!scalar(k) || (!is_null(v) && expect_mapping(r, v, scalar(k)) < 0))
			return bad(r, k, "depends_on: expected SERVICE: {condition: service_started}");
		for (cp = v->type == YAML_MAPPING_NODE ? v->data.mapping.pairs.start : NULL;
		     cp && cp < v->data.mapping.pairs.top; cp++) {
			yaml_node_t *ck = node(r, cp->key), *cv = node(r, cp->value);
			if (check_key(r, ck, "depends_on", "condition") < 0)
				return -1;
			if (!scalar(cv) || strcmp(scalar(cv), "service_started"))
				return bad(r, cv, "depends_on.%s.condition: %s: only service_started "
					   "(minidock has no healthchecks)", scalar(k),
					   scalar(cv) ? scalar(cv) : "?");
		}
		strv_push(&s->depends_on, scalar(k));
	}
	return 0;
}

static const char service_keys[] = "image build command entrypoint environment ports "
	"volumes networks depends_on restart mem_limit cpus pids_limit user working_dir "
	"hostname container_name";

static int read_service(struct reader *r, yaml_node_t *k, yaml_node_t *n,
			struct compose_service *s)
{
	const char *def;
	yaml_node_pair_t *pair;
	int ret = 0;

	s->name = xstrdup(scalar(k));
	s->line = (unsigned)k->start_mark.line + 1;
	s->container = xasprintf("%s-%s-1", r->p->name, s->name);
	if (!valid_name(s->name) || strchr(s->name, '.'))
		return bad(r, k, "services: %s: a service name is [a-zA-Z0-9_-]", s->name);
	if (expect_mapping(r, n, s->name) < 0)
		return -1;
	FOR_PAIRS(r, n, pair) {
		yaml_node_t *key = node(r, pair->key), *v = node(r, pair->value);
		const char *name = scalar(key);
		char *where = xasprintf("services.%s", s->name);
		ret = check_key(r, key, where, service_keys);
		free(where);
		if (ret < 0)
			return -1;
		if (!strcmp(name, "container_name")) {
			if ((ret = get_string(r, v, name, &s->container)) == 0 &&
			    !valid_name(s->container))
				return bad(r, v, "container_name: %s: a container name is "
					   "[a-zA-Z0-9_.-], at most 64", s->container);
		} else if (!strcmp(name, "image"))
			ret = get_string(r, v, name, &s->image);
		else if (!strcmp(name, "build"))
			ret = read_build(r, v, s);
		else if (!strcmp(name, "command"))
			ret = get_words(r, v, name, 1, &s->command), s->has_command = 1;
		else if (!strcmp(name, "entrypoint"))
			ret = get_words(r, v, name, 1, &s->entrypoint), s->has_entrypoint = 1;
		else if (!strcmp(name, "environment"))
			ret = read_environment(r, v, s);
		else if (!strcmp(name, "ports"))
			ret = get_words(r, v, name, 0, &s->ports);
		else if (!strcmp(name, "volumes"))
			ret = read_volumes(r, v, s);
		else if (!strcmp(name, "networks"))
			ret = read_networks(r, v, s);
		else if (!strcmp(name, "depends_on"))
			ret = read_depends_on(r, v, s);
		else if (!strcmp(name, "restart"))
			ret = get_string(r, v, name, &s->restart);
		else if (!strcmp(name, "mem_limit"))
			ret = get_string(r, v, name, &s->mem_limit);
		else if (!strcmp(name, "cpus"))
			ret = get_string(r, v, name, &s->cpus);
		else if (!strcmp(name, "pids_limit"))
			ret = get_string(r, v, name, &s->pids_limit);
		else if (!strcmp(name, "user"))
			ret = get_string(r, v, name, &s->user);
		else if (!strcmp(name, "working_dir"))
			ret = get_string(r, v, name, &s->working_dir);
		else if (!strcmp(name, "hostname"))
			ret = get_string(r, v, name, &s->hostname);
		if (ret < 0)
			return -1;
		if (!strcmp(name, "restart") && strcmp(s->restart, "no") &&
		    strcmp(s->restart, "always") && strcmp(s->restart, "on-failure") &&
		    strncmp(s->restart, "on-failure:", 11))
			return bad(r, v, "restart: %s: expected no, on-failure[:N] or always",
				   s->restart);
		for (size_t i = 0; !strcmp(name, "ports") && i < s->ports.n; i++)
			if (!strchr(s->ports.v[i], ':'))
				return bad(r, v, "ports: %s: expected HOSTPORT:PORT (minidock "
					   "publishes no random port)", s->ports.v[i]);
	}
	if (!valid_name(s->container))
		return bad(r, k, "services: %s: the container name %s is too long (or give "
			   "a container_name)", s->name, s->container);
	if (!s->image && !s->build_context)
		return bad(r, k, "services.%s: neither image nor build", s->name);
	if (!s->image)
		s->image = xasprintf("%s-%s", r->p->name, s->name);
	def = declared(&r->p->network_keys, &r->p->networks, "default");
	if (!s->networks.n && def)
		strv_push(&s->networks, def);
	else if (!s->networks.n)
		strv_pushf(&s->networks, "%s_default", r->p->name);
	return 0;
}

/* Top-level networks and volumes: KEY: (null, or a mapping: driver, the
 * default one; name, the full name, else PROJECT_KEY, as in Compose). */
static int read_declared(struct reader *r, yaml_node_t *n, const char *what,
			 struct strv *keys, struct strv *names)
{
	yaml_node_pair_t *pair, *kp;
	char *full;

	if (expect_mapping(r, n, what) < 0)
		return -1;
	FOR_PAIRS(r, n, pair) {
		yaml_node_t *k = node(r, pair->key), *v = node(r, pair->value);
		if (!scalar(k) || !valid_name(scalar(k)))
			return bad(r, k, "%s: expected a name of [a-zA-Z0-9_.-]", what);
		if (!is_null(v) && expect_mapping(r, v, scalar(k)) < 0)
			return -1;
		full = xasprintf("%s_%s", r->p->name, scalar(k));
		for (kp = is_null(v) ? NULL : v->data.mapping.pairs.start;
		     kp && kp < v->data.mapping.pairs.top; kp++) {
			char where[300];
			yaml_node_t *key = node(r, kp->key), *val = node(r, kp->value);
			int ret = 0;
			snprintf(where, sizeof(where), "%s.%s", what, scalar(k));
			if (check_key(r, key, where, "driver name") < 0)
				ret = -1;
			else if (!strcmp(scalar(key), "name")) {
				if ((ret = get_string(r, val, "name", &full)) == 0 && !valid_name(full))
					ret = bad(r, val, "%s.name: %s: use [a-zA-Z0-9_.-], at most "
						  "64", where, full);
			} else if (!scalar(val) || (strcmp(scalar(val), "bridge") &&
						    strcmp(scalar(val), "local")))
				ret = bad(r, val, "%s.driver: only %s", where,
					  !strcmp(what, "networks") ? "bridge" : "local");
			if (ret < 0) {
				free(full);
				return -1;
			}
		}
		strv_push(keys, scalar(k));
		strv_push(names, full);
		free(full);
	}
	return 0;
}

/* The name: -p, $COMPOSE_PROJECT_NAME, the file's name:, its directory. */
static int project_name(struct reader *r, const char *wanted, yaml_node_t *name_node)
{
	const char *env = getenv("COMPOSE_PROJECT_NAME");
	char *name;

	if (wanted || (env && *env))
		name = xstrdup(wanted ? wanted : env);
	else if (name_node && get_string(r, name_node, "name", &r->p->name) == 0)
		name = xstrdup(r->p->name);
	else if (name_node)
		return -1;
	else
		name = compose_normalise(r->p->dir);
	free(r->p->name);
	r->p->name = name;
	if (compose_valid_project(name))
		return 0;
	if (name_node && !wanted && !(env && *env))
		return bad(r, name_node, "name: %s: use [a-z0-9_-], starting with a letter or "
			   "a digit, at most 40", name);
	errno = EINVAL;
	return why_fail(r->why, "project name %s: use [a-z0-9_-], starting with a letter or "
			"a digit, at most 40", name);
	return 0;
}

static int read_project(struct reader *r, yaml_node_t *root, const char *wanted)
{
	yaml_node_t *services = NULL, *networks = NULL, *volumes = NULL, *name = NULL;
	yaml_node_pair_t *pair;
	struct compose_project *p = r->p;
	size_t i;

	if (!root)
		return bad(r, NULL, "an empty file (expected services:)");
	if (expect_mapping(r, root, "the file") < 0)
		return -1;
	FOR_PAIRS(r, root, pair) {
		yaml_node_t *k = node(r, pair->key), *v = node(r, pair->value);
		if (check_key(r, k, "", "services networks volumes name version") < 0)
			return -1;
		if (!strcmp(scalar(k), "services"))
			services = v;
		else if (!strcmp(scalar(k), "networks"))
			networks = v;
		else if (!strcmp(scalar(k), "volumes"))
			volumes = v;
		else if (!strcmp(scalar(k), "name"))
			name = v;
		else
			warn_x("%s:%lu: version is obsolete (ignored, as Compose does)", r->file,
			       (unsigned long)k->start_mark.line + 1);
	}
	if (project_name(r, wanted, name) < 0)
		return -1;
	if (!services || expect_mapping(r, services, "services") < 0 ||
	    !services->data.mapping.pairs.top || 
	    services->data.mapping.pairs.start == services->data.mapping.pairs.top)
		return bad(r, services ? services : root, "services: expected at least one service");
	if ((networks && read_declared(r, networks, "networks", &p->network_keys,
				       &p->networks) < 0) ||
	    (volumes && read_declared(r, volumes, "volumes", &p->volume_keys, &p->volumes) < 0))
		return -1;
	p->n = (size_t)(services->data.mapping.pairs.top - services->data.mapping.pairs.start);
	p->services = xcalloc(p->n, sizeof(*p->services));
	i = 0;
	FOR_PAIRS(r, services, pair) {
		if (!scalar(node(r, pair->key)))
			return bad(r, node(r, pair->key), "services: expected a service name");
		if (read_service(r, node(r, pair->key), node(r, pair->value),
				 &p->services[i++]) < 0)
			return -1;
	}
	/* Two services, one container_name: the second run would fail. */
	for (i = 0; i < p->n; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(p->services[i].container, p->services[j].container)) {
				errno = EINVAL;
				return why_fail(r->why, "%s:%u: services.%s: container name %s: "
						"already services.%s's", r->file,
						p->services[i].line, p->services[i].name,
						p->services[i].container, p->services[j].name);
			}
	/* The default network, when a service is on it. */
	for (i = 0; i < p->n; i++) {
		char *def = xasprintf("%s_default", p->name);
		int have = 0;
		for (size_t j = 0; j < p->networks.n; j++)
			have |= !strcmp(p->networks.v[j], def);
		for (size_t j = 0; !have && j < p->services[i].networks.n; j++)
			if (!strcmp(p->services[i].networks.v[j], def)) {
				strv_push(&p->networks, def);
				strv_push(&p->network_keys, "default");
				have = 1;
			}
		free(def);
	}
	if (compose_sort(p, r->why) < 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int compose_load(const char *file, const char *project, struct compose_project *p,
		 char **why)
{
	struct reader r = { .p = p, .why = why };
	yaml_parser_t parser;
	FILE *f;
	char *dir;
	int ret;

	memset(p, 0, sizeof(*p));
	*why = NULL;
	if (!(p->file = compose_find_file(file))) {
		why_fail(why, "no compose.yaml, compose.yml, docker-compose.yaml or "
			 "docker-compose.yml here (or give one with -f FILE)");
		errno = ENOENT;
		return -1;
	}
	r.file = p->file;
	if (!(f = fopen(p->file, "r")))
		return why_fail(why, "open %s: %s", p->file, strerror(errno));
	dir = realpath(p->file, NULL);
	if (dir)
		*strrchr(dir, '/') = '\0';
	p->dir = dir && *dir ? dir : (free(dir), xstrdup("/"));
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return why_fail(why, "libyaml: out of memory");
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &r.doc)) {
		why_fail(why, "%s:%lu: YAML: %s%s%s (line %lu)", p->file,
			 (unsigned long)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "cannot be read",
			 parser.context ? ", " : "", parser.context ? parser.context : "",
			 (unsigned long)parser.context_mark.line + 1);
		yaml_parser_delete(&parser);
		fclose(f);
		errno = EINVAL;
		return -1;
	}
	ret = read_project(&r, yaml_document_get_root_node(&r.doc), project);
	yaml_document_delete(&r.doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return ret;
}
