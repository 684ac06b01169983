/*
 * nsopts.h - the command line of ns-enter: what it asks for (struct
 * options), its usage text, and the parser that checks, before anything
 * is created, that the options go together.  getopt_long(3) with a
 * leading '+', so that parsing stops at COMMAND.  Used by ns-enter.
 */
#ifndef MINIDOCK_NSOPTS_H
#define MINIDOCK_NSOPTS_H

#include <sched.h>
#include <stddef.h>
#include <sys/types.h>

#include "rootfs.h"
#include "security.h"

/* --all: the namespaces docker run gives every container. */
#define ALL_NAMESPACES (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | \
			CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP)

/* --time-offset boottime=SECONDS,monotonic=SECONDS: a line of
 * /proc/self/timens_offsets (time_namespaces(7)). */
struct time_offset {
	const char *clock;      /* "monotonic" or "boottime" */
	long long seconds;
	char line[40];          /* "CLOCK SECONDS 0", as the file takes it */
};

struct options {
	int flags;              /* CLONE_NEW* to create */
	const char *net_file;   /* --net=FILE: join this one instead */
	int single_map;         /* --userns=single: never the subordinate range */
	struct time_offset time_offsets[2];
	size_t n_time_offsets;
	char *root;             /* --root, made absolute */
	const char *overlay;    /* --overlay OPTIONS: an overlayfs mounted on root */
	int read_only;
	struct volume *volumes;
	size_t n_volumes;
	const char *hostname;
	const char *workdir;
	char **env;             /* --env NAME=VALUE, as putenv(3) takes them */
	size_t n_env;
	int set_user, set_group;
	uid_t uid;
	gid_t gid;
	int no_init;
	pid_t target;           /* --target PID */
	struct md_security security;
	char **command;         /* COMMAND [ARG...], in argv */
};

/*
 * Fill O from ARGV (--verbose sets md_verbose at once).  --help and
 * --version print on stdout and leave O->command NULL: nothing to run.
 * -1 on bad input, with *WHY the one-line message (malloc'd: "--root /x:
 * No such file or directory").
 */
int options_parse(int argc, char **argv, struct options *o, char **why);
void options_free(struct options *o);

/*
 * COMMAND's environment: a container's is its own, as Docker's (with
 * --root or --target, the chain's MINIDOCK_* variables stop here: its
 * MINIDOCK_IP, MINIDOCK_NETNS...), then each --env, by putenv(3).  0, or
 * -1 with *FAILED the --env refused.
 */
int options_set_env(const struct options *o, const char **failed);

#endif
