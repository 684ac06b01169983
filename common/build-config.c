/*
 * build-config.c - img-build's options, its variables, and the
 * instructions that only change the config (see build-config.h).
 * Used by img-build.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build-config.h"
#include "minidock.h"

/* ---- the command line ---- */

const char buildopts_usage[] =
"Usage: img-build [-t NAME[:TAG]] [-f DOCKERFILE] [--build-arg NAME=VALUE]...\n"
"                 [--no-cache] [--network none|host|bridge] [-o DEST] CONTEXT\n"
"\n"
"Build an image from a Dockerfile, as docker build: one layer for each RUN,\n"
"COPY and ADD, each RUN a container (ns-enter over an overlayfs of the\n"
"layers so far); the image goes into run's store (run NAME runs it).\n"
"\n"
"  -t, --tag NAME[:TAG]       the image's name (in the store: TAG latest)\n"
"  -f, --file DOCKERFILE      default CONTEXT/Dockerfile\n"
"      --build-arg NAME=VALUE the value of ARG NAME\n"
"      --no-cache             make every layer again\n"
"      --network MODE         RUN's network: none (default), host or bridge\n"
"  -o, --output DEST          oci:DIR, oci-archive:FILE or docker-archive:FILE\n"
"                             (instead of the store, unless -t is given too)\n"
"  -v, --verbose              each system call, and why a step was not cached\n"
"  -h, --help                 this help\n"
"  -V, --version              print the version\n"
"\n"
"Times in the image are SOURCE_DATE_EPOCH (default 0): the same Dockerfile\n"
"and context give the same image digest.\n"
"\n"
"Example:\n"
"  img-build -t hello tp/8-construire/hello && run --rm hello\n"
"\n"
"Exit status: 0; a failing RUN's own status; 125 when img-build failed.\n";

/* What the options say, checked before anything is made. */
static int check(struct build_options *o, char **why)
{
	if (strcmp(o->network, "none") && strcmp(o->network, "host") &&
	    strcmp(o->network, "bridge"))
		return why_fail(why, "--network %s: none, host or bridge", o->network);
	if (o->output && strncmp(o->output, "oci:", 4) && strncmp(o->output, "oci-archive:", 12) &&
	    strncmp(o->output, "docker-archive:", 15))
		return why_fail(why, "-o %s: oci:DIR, oci-archive:FILE or docker-archive:FILE",
				o->output);
	if (o->output && !strchr(o->output, ':')[1])
		return why_fail(why, "-o %s: the destination is missing", o->output);
	if (o->tag) {
		char *name = xstrdup(o->tag), *colon = strrchr(name, ':');
		int r = 0;

		if (colon)
			*colon = '\0';
		if (!valid_name(name))
			r = why_fail(why, "-t %s: not a valid image name ([A-Za-z0-9_.-])", o->tag);
		else if (colon && strcmp(colon + 1, "latest") && !o->output)
			r = why_fail(why, "-t %s: run's store keeps one tag a name, latest (use -o "
				     "for another tag)", o->tag);
		free(name);
		return r;
	}
	return 0;
}

int buildopts_parse(int argc, char **argv, struct build_options *o, char **why)
{
	enum { OPT_BUILD_ARG = 256, OPT_NO_CACHE, OPT_NETWORK };
	static const struct option longopts[] = {
		{ "tag", required_argument, NULL, 't' },
		{ "file", required_argument, NULL, 'f' },
		{ "build-arg", required_argument, NULL, OPT_BUILD_ARG },
		{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
		{ "network", required_argument, NULL, OPT_NETWORK },
		{ "output", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	*why = NULL;
	o->network = "none";
	while ((c = getopt_long(argc, argv, "+t:f:o:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 't': o->tag = optarg; break;
		case 'f': o->file = optarg; break;
		case 'o': o->output = optarg; break;
		case OPT_BUILD_ARG:
			if (strchr(optarg, '='))
				strv_push(&o->build_args, optarg);
			else if (getenv(optarg))    /* NAME alone: its value here, as docker */
				strv_pushf(&o->build_args, "%s=%s", optarg, getenv(optarg));
			break;
		case OPT_NO_CACHE: o->no_cache = 1; break;
		case OPT_NETWORK: o->network = optarg; break;
		case 'v': md_verbose = 1; break;
		case 'h': return BUILDOPTS_HELP;
		case 'V': return BUILDOPTS_VERSION;
		default: return -1;
		}
	}
	if (argc - optind != 1)
		return why_fail(why, "expected CONTEXT, got %d arguments (see --help)", argc - optind);
	o->context = argv[optind];
	if (!o->file)
		o->file = o->default_file = xasprintf("%s/Dockerfile", o->context);
	return check(o, why);
}

void buildopts_free(struct build_options *o)
{
	strv_free(&o->build_args);
	free(o->default_file);
	o->default_file = NULL;
}

/* ---- the variables ---- */

/* $NAME in an instruction: ENV first, then ARG (as docker). */
static const char *lookup(const char *name, void *arg)
{
	struct build_vars *v = arg;
	size_t n = strlen(name);
	const char *value = v->img && v->img->config ? imgw_getenv(v->img, name) : NULL;

	for (size_t i = 0; !value && i < v->args.n; i++)
		if (!strncmp(v->args.v[i], name, n) && v->args.v[i][n] == '=')
			value = v->args.v[i] + n + 1;
	return value;
}

int bvars_words(struct build_vars *v, const struct df_instr *in, int split, struct strv *w,
		char **why)
{
	char *err = NULL;

	*why = NULL;
	if (in->json) {
		for (size_t i = 0; i < in->words.n; i++)
			strv_push(w, in->words.v[i]);
	} else if (df_words(in->text, v->escape, lookup, v, split, w, &err) < 0) {
		why_fail(why, "%s:%d: %s: %s", v->file, in->line, in->keyword, err);
		free(err);
		return -1;
	}
	return 0;
}

void bvars_from(struct build_vars *v, struct imgw *img)
{
	strv_free(&v->args);
	v->img = img;
}

void bvars_run_env(const struct build_vars *v, struct strv *env)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(v->img->config, "Env"), i, e)
		strv_push(env, json_string_value(e));
	for (i = 0; i < v->args.n; i++) {   /* ARGs are RUN's variables too */
		char *name = xstrdup(v->args.v[i]);
		*strchr(name, '=') = '\0';
		if (!imgw_getenv(v->img, name))
			strv_push(env, v->args.v[i]);
		free(name);
	}
	if (!imgw_getenv(v->img, "PATH"))
		strv_push(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
}

/* ARG NAME[=DEFAULT]: --build-arg NAME=VALUE wins.  "NAME=VALUE", or
 * "NAME" when it has no value. */
static char *declare_arg(struct build_vars *v, const char *decl)
{
	size_t n = strcspn(decl, "=");
	const char *value = decl[n] ? decl + n + 1 : NULL;
	char *arg;

	for (size_t i = 0; i < v->build_args->n; i++)
		if (!strncmp(v->build_args->v[i], decl, n) && v->build_args->v[i][n] == '=')
			value = v->build_args->v[i] + n + 1;
	if (!value)
		return xasprintf("%.*s", (int)n, decl);
	arg = xasprintf("%.*s=%s", (int)n, decl, value);
	strv_push(&v->args, arg);
	return arg;
}

/* ENV NAME=VALUE... and LABEL NAME=VALUE... */
static int set_pairs(struct build_vars *v, const struct df_instr *in, struct strv *w,
		     char **why)
{
	for (size_t i = 0; i < w->n; i++) {
		char *eq = strchr(w->v[i], '=');
		if (!eq)
			return why_fail(why, "%s:%d: %s: %s: expected NAME=VALUE", v->file, in->line,
					in->keyword, w->v[i]);
		*eq = '\0';
		if (!strcmp(in->keyword, "ENV"))
			imgw_env(v->img, w->v[i], eq + 1);
		else
			imgw_set(v->img, "Labels", w->v[i], eq + 1);
	}
	return 0;
}

int bvars_set_config(struct build_vars *v, const struct df_instr *in, char **key, char **why)
{
	const char *k = in->keyword;
	struct strv w = { 0 };
	int r = 0;

	*key = NULL;
	if (!strcmp(k, "CMD") || !strcmp(k, "ENTRYPOINT")) {
		/* The shell form: the shell replaces $NAME, when it runs. */
		if (!in->json) {
			strv_push(&w, "/bin/sh");
			strv_push(&w, "-c");
			strv_push(&w, in->text);
		} else {
			r = bvars_words(v, in, 0, &w, why);
		}
		imgw_array(v->img, k[0] == 'C' ? "Cmd" : "Entrypoint", &w);
		/* As docker: ENTRYPOINT drops the base image's CMD. */
		if (k[0] == 'C')
			v->cmd_set = 1;
		else if (!v->cmd_set)
			json_object_del(v->img->config, "Cmd");
	} else if (!strcmp(k, "MAINTAINER")) {
		imgw_author(v->img, in->text);
	} else if (!strcmp(k, "ENV") && !strchr(in->text, '=')) {
		/* ENV NAME VALUE, the older form: the rest of the line. */
		struct df_instr rest = *in;
		size_t n = strcspn(in->text, " \t");
		char *name = xasprintf("%.*s", (int)n, in->text);
		rest.text = in->text + n;
		if ((r = bvars_words(v, &rest, 0, &w, why)) == 0)
			imgw_env(v->img, name, w.v[0]);
		free(name);
	} else if ((r = bvars_words(v, in, strcmp(k, "WORKDIR") && strcmp(k, "USER") &&
				    strcmp(k, "STOPSIGNAL"), &w, why)) < 0) {
		;
	} else if (!strcmp(k, "ARG")) {
		char *arg = declare_arg(v, w.v[0]);
		*key = xasprintf("ARG %s", arg);
		free(arg);
	} else if (!strcmp(k, "ENV") || !strcmp(k, "LABEL")) {
		r = set_pairs(v, in, &w, why);
	} else if (!strcmp(k, "WORKDIR")) {
		const char *cur = imgw_getstring(v->img, "WorkingDir");
		char *p = w.v[0][0] == '/' ? xstrdup(w.v[0])
			: xasprintf("%s/%s", cur && strcmp(cur, "/") ? cur : "", w.v[0]);
		imgw_string(v->img, "WorkingDir", p);
		free(p);
	} else if (!strcmp(k, "USER") || !strcmp(k, "STOPSIGNAL")) {
		imgw_string(v->img, k[0] == 'U' ? "User" : "StopSignal", w.v[0]);
	} else if (!strcmp(k, "EXPOSE") || !strcmp(k, "VOLUME")) {
		for (size_t i = 0; i < w.n; i++) {
			char *name = strchr(w.v[i], '/') || k[0] == 'V' ? xstrdup(w.v[i])
					: xasprintf("%s/tcp", w.v[i]);
			imgw_set(v->img, k[0] == 'E' ? "ExposedPorts" : "Volumes", name, NULL);
			free(name);
		}
	}
	if (r == 0 && !*key)
		*key = xasprintf("%s %s", k, in->text);
	strv_free(&w);
	return r;
}

char *bvars_run_command(const struct df_instr *in, struct strv *cmd)
{
	if (in->json) {
		for (size_t i = 0; i < in->words.n; i++)
			strv_push(cmd, in->words.v[i]);
	} else {
		strv_push(cmd, "/bin/sh");
		strv_push(cmd, "-c");
		strv_push(cmd, in->text);
	}
	return xasprintf("RUN %s%s", in->json ? "" : "/bin/sh -c ", in->text);
}
