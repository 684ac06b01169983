/*
 * compose-state.h - what compose writes: the record of what `compose up`
 * made, so that `down` removes exactly that; and `compose config`, the
 * project as a resolved compose file.  Used by compose.
 *
 * The record, md_lib_dir()/compose/PROJECT.json (on disk, as Docker keeps
 * its labels: a project outlives a reboot of its containers' runtime
 * state), written anew and renamed into place after each thing is made:
 *   { "project": "shop", "file": "/srv/shop/compose.yaml",
 *     "containers": ["shop-db-1", "shop-web-1"],
 *     "networks": ["shop_default"], "volumes": ["shop_data"] }
 */
#ifndef MINIDOCK_COMPOSE_STATE_H
#define MINIDOCK_COMPOSE_STATE_H

#include <stdio.h>

#include "compose-file.h"
#include "store.h"

struct compose_record {
	char *file;
	struct strv containers;         /* in the order they were started */
	struct strv networks, volumes;
};

/* md_lib_dir()/compose/PROJECT.json, malloc'd. */
char *compose_record_path(const char *project);
/* Read PROJECT's record into R.  0; -1 with errno (ENOENT: none). */
int compose_record_read(const char *project, struct compose_record *r);
/* Write it (mkdir -p, a temporary file renamed over the old).  0 or -1. */
int compose_record_write(const char *project, const struct compose_record *r);
int compose_record_remove(const char *project);
void compose_record_free(struct compose_record *r);
/* Push S on V unless V has it already. */
void strv_push_once(struct strv *v, const char *s);

/* `compose config`: P as a compose file, every name resolved (YAML,
 * written by libyaml's emitter).  0 or -1. */
int compose_print(const struct compose_project *p, FILE *out);

/*
 * Run the sibling tool NAME with ARGS (as run_tool in store.h); with
 * --verbose, first print "compose: NAME ARG..." on stderr, each word
 * quoted for sh(1).  `run` is not told --verbose (MINIDOCK_VERBOSE): the
 * chain of a detached container would trace its steps into the
 * container's log.  Its exit code, or -1 with errno.
 */
int compose_tool(const char *name, char *const args[], char **out, int quiet);

/*
 * One `container logs [-f] NAME` for each of NAMES, each line printed
 * after its container's name, as Compose does.  With STOP_ON_SIGNAL (up
 * without -d), SIGINT or SIGTERM runs `container stop` on each (their
 * logs then end).  0, or -1 with errno (pipe, fork, poll).
 */
int compose_logs(struct strv *names, int follow, int stop_on_signal);

#endif
