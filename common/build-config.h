/*
 * build-config.h - img-build's command line, and what a build keeps from
 * step to step besides its layers: the variables ($NAME: the image's ENV,
 * then the ARGs in scope), and the instructions that only change the
 * image's config (ENV, ARG, WORKDIR, USER, CMD, ENTRYPOINT, EXPOSE, LABEL,
 * VOLUME, STOPSIGNAL, MAINTAINER).  Used by img-build.  See the Dockerfile
 * reference, and getopt_long(3).
 */
#ifndef MINIDOCK_BUILD_CONFIG_H
#define MINIDOCK_BUILD_CONFIG_H

#include "dockerfile.h"
#include "image-write.h"
#include "store.h"

/* ---- the command line ---- */

struct build_options {
	const char *context, *file, *tag, *output, *network;
	char *default_file;         /* CONTEXT/Dockerfile, when no -f */
	struct strv build_args;     /* --build-arg NAME=VALUE */
	int no_cache;
};

/* img-build --help. */
extern const char buildopts_usage[];

enum { BUILDOPTS_HELP = 1, BUILDOPTS_VERSION = 2 };

/* Parse and check ARGV into O.  0, BUILDOPTS_HELP, BUILDOPTS_VERSION, or
 * -1 with *WHY the message (NULL when getopt_long(3) printed it). */
int buildopts_parse(int argc, char **argv, struct build_options *o, char **why);
void buildopts_free(struct build_options *o);

/* ---- the variables, and the config ---- */

struct build_vars {
	struct imgw *img;           /* the image so far: its Env */
	struct strv args;           /* ARG NAME=VALUE in scope */
	const struct strv *build_args;  /* --build-arg */
	char escape;                /* the Dockerfile's */
	const char *file;           /* for messages */
	int cmd_set;                /* this Dockerfile has set CMD */
};

/* The words of IN, $NAME replaced as docker does (the JSON form: as
 * written), appended to W.  0, or -1 with *WHY "FILE:LINE: ...". */
int bvars_words(struct build_vars *v, const struct df_instr *in, int split, struct strv *w,
		char **why);

/* FROM: the ARGs before it were for it alone. */
void bvars_from(struct build_vars *v, struct imgw *img);

/*
 * Apply IN, an instruction that only sets the config, to the image.
 * *KEY: what the build cache must know of it (the ARG's value, or the
 * instruction), malloc'd.  0, or -1 with *WHY.
 */
int bvars_set_config(struct build_vars *v, const struct df_instr *in, char **key, char **why);

/* The environment of a RUN: the image's Env, the ARGs it does not
 * override, and docker's PATH when there is none. */
void bvars_run_env(const struct build_vars *v, struct strv *env);

/* RUN's command pushed to CMD: the JSON form as written, else /bin/sh -c
 * TEXT (no $NAME replaced: the shell does it).  Returns the step as the
 * history and the cache name it, "RUN /bin/sh -c TEXT" (malloc'd). */
char *bvars_run_command(const struct df_instr *in, struct strv *cmd);

#endif
