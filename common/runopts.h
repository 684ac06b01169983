/*
 * runopts.h - the command line of `run`: its options (the same as
 * docker run's), the --help text, and the checks made on every value
 * before anything of the container exists.  Used by run; chain.c turns
 * the options into the chain's own (--memory -> cg-limit, -p -> net-bridge,
 * -v -> ns-enter...).  See getopt_long(3).
 */
#ifndef MINIDOCK_RUNOPTS_H
#define MINIDOCK_RUNOPTS_H

#include <stdint.h>

#include "store.h"

/* What the command line asked for. */
struct run_options {
	const char *name, *image;
	int rm, detach, interactive, tty, read_only, dry_run, privileged;
	int init;                               /* --init: ns-enter's init as PID 1 */
	int rootless;                           /* an ordinary user: see store.h */
	const char *memory, *cpus, *pids;
	const char *network;                    /* bridge, none, host or a
						   user-defined one (networks.h) */
	struct strv aliases, add_hosts;         /* --network-alias, --add-host */
	struct strv publish, volumes, env;
	struct strv tmpfs;                      /* --tmpfs DST[:OPTIONS] -> ns-enter */
	struct strv security;                   /* passed as is to ns-enter */
	const char *hostname, *user, *workdir, *entrypoint;
	struct strv log_opts;                   /* --log-opt max-size=20m... */
	const char *restart;                    /* --restart: restart.h */
	uint64_t log_max_size;                  /* checked: 0 for the default */
	unsigned log_max_file;
	char **command;                         /* after IMAGE, may be empty */
};

/* run --help. */
extern const char runopts_usage[];

enum { RUNOPTS_HELP = 1, RUNOPTS_VERSION = 2 };

/*
 * Parse ARGV into O (set O->rootless first: it changes the default
 * network).  0, RUNOPTS_HELP or RUNOPTS_VERSION when asked; -1 on bad
 * usage, with *WHY the message (malloc'd), or NULL when getopt_long(3)
 * has already printed it.
 */
int runopts_parse(int argc, char **argv, struct run_options *o, char **why);

/*
 * Check every value (sizes, ports, names, paths), and what an ordinary
 * user may not ask; --volume sources are made absolute.  0, or -1 with
 * *WHY the message (malloc'd).
 */
int runopts_check(struct run_options *o, char **why);

void runopts_free(struct run_options *o);

#endif
