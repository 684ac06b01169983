/*
 * compose-file.h - a compose.yaml read with libyaml into a project: its
 * services, each with what `run` needs, its networks and named volumes,
 * checked whole before anything is started.  Used by compose.
 *
 * Names, as Docker Compose makes them:
 *   project      -p, else $COMPOSE_PROJECT_NAME, else the file's `name:`,
 *                else the file's directory, lower-cased, keeping only
 *                [a-z0-9_-] (Compose's normalisation)
 *   container    PROJECT-SERVICE-1, or the service's container_name
 *   network      PROJECT_NETWORK, or its name: (on top); PROJECT_default
 *                when a service names none
 *   volume       PROJECT_VOLUME, or its name:
 * A bind mount's relative source is taken from the file's directory.
 */
#ifndef MINIDOCK_COMPOSE_FILE_H
#define MINIDOCK_COMPOSE_FILE_H

#include <stdio.h>

#include "store.h"

struct compose_service {
	char *name;
	unsigned line;                  /* where it is defined in the file */
	char *container;                /* PROJECT-SERVICE-1, or container_name */
	char *image;                    /* with build: the tag to build (default
					   PROJECT-SERVICE) */
	char *build_context, *build_dockerfile;   /* NULL without build */
	int has_command, has_entrypoint;
	struct strv command, entrypoint;          /* words (a string is split) */
	struct strv environment;        /* NAME=VALUE (or NAME: from compose's own) */
	struct strv ports;              /* [IP:]HOSTPORT:PORT[/PROTO] */
	struct strv volumes;            /* SRC:DST[:ro], SRC absolute or a full
					   volume name */
	struct strv networks;           /* full network names */
	struct strv depends_on;         /* service names */
	char *restart, *mem_limit, *cpus, *pids_limit, *user, *working_dir, *hostname;
};

struct compose_project {
	char *file, *dir, *name;
	struct compose_service *services;       /* in start order */
	size_t n;
	struct strv networks, volumes;          /* full names the project owns */
	struct strv network_keys, volume_keys;  /* their keys in the file ("default",
						   "data"), one for each */
};

/*
 * Read FILE (NULL: compose.yaml, compose.yml, docker-compose.yaml or
 * docker-compose.yml here) into P, named PROJECT (NULL: see above), the
 * services sorted so that each comes after what it depends on.  0, or -1
 * with *WHY (malloc'd): "FILE:LINE: KEY: what is wrong" for a bad file
 * (an unsupported key, a wrong type, an unknown service, a cycle).
 */
int compose_load(const char *file, const char *project, struct compose_project *p,
		 char **why);
void compose_free(struct compose_project *p);

/* ---- compose-project.c: names and order ---- */

/* FILE, or the first of compose.yaml, compose.yml, docker-compose.yaml,
 * docker-compose.yml here (malloc'd); NULL (ENOENT) when none is. */
char *compose_find_file(const char *file);
/* Compose's project name from directory DIR: its last component, lower
 * case, only [a-z0-9_-], starting with a letter or a digit (malloc'd). */
char *compose_normalise(const char *dir);
/* 1 when S is a project name: [a-z0-9_-], a letter or digit first, at
 * most 40 (so PROJECT-SERVICE-1 stays a container name). */
int compose_valid_project(const char *s);
/* Sort P's services so that each comes after its depends_on (in file
 * order otherwise).  0, or -1 with *WHY "FILE:LINE: ..." naming an
 * unknown service or the cycle ("a -> b -> a"). */
int compose_sort(struct compose_project *p, char **why);

/* The service named NAME, or NULL. */
const struct compose_service *compose_service(const struct compose_project *p,
					      const char *name);

/* The arguments of `run` for service S, pushed to A: -d --name=CONTAINER,
 * an option for each key it has (--network, --network-alias SERVICE,
 * --restart, --memory, --cpus, --pids-limit, --user, --workdir,
 * --hostname, --env, --publish, --volume, --entrypoint), IMAGE, the rest
 * of the entrypoint, COMMAND. */
void compose_run_args(const struct compose_service *s, struct strv *a);

#endif
