/*
 * chain.h - the chain of a container, the same for `run` and `container`:
 *
 *   cg-limit --name N ... -- net-bridge --name N ... -- ns-enter ... -- COMMAND
 *
 * built from run's options as an argv (printed by run --dry-run, one tool
 * a line).  What its tools leave when they cannot undo their own steps
 * (run -d's --exec, or a run killed mid-way) is undone by lifecycle.h.
 */
#ifndef MINIDOCK_CHAIN_H
#define MINIDOCK_CHAIN_H

#include <stdio.h>

#include "containers.h"
#include "runopts.h"
#include "store.h"

/* What the chain needs beyond run's options. */
struct chain_args {
	const char *name, *hostname, *rootfs;
	const char *overlay;    /* options of an overlayfs ns-enter mounts on rootfs, or NULL */
	const char *user;       /* UID[:GID] for ns-enter, or NULL */
	const char *console;    /* the pty's slave, for /dev/console, or NULL */
	const struct strv *cmd, *env;
};

struct chain {
	struct strv argv;       /* the whole chain, ready for execve(2) */
	size_t ends[3], nends;  /* where each tool's "--" is */
};

/*
 * The chain for O and A: cg-limit (unless rootless), net-bridge (with
 * --network bridge), ns-enter, COMMAND.  The tools are ours (tool_path);
 * FOR_PRINT names a tool alone when $PATH finds that same file, so the
 * printed chain reads as the TP writes it.  0, or -1 with errno.
 */
int chain_build(const struct run_options *o, const struct chain_args *a, int for_print,
		struct chain *c);
void chain_free(struct chain *c);

/* One tool a line, continued with " \", quoted for sh(1). */
void chain_print(const struct chain *c, FILE *out);
/* WORD quoted for sh(1) when it needs it: 'it'\''s' (run --dry-run,
 * compose --verbose). */
void chain_print_word(const char *word, FILE *out);

/* The environment the chain starts with: only what its tools read
 * (MINIDOCK_*, the sanitizers' settings), not the user's. */
void chain_environment(struct strv *envp);

/* What `container exec` asked. */
struct exec_args {
	pid_t target;           /* a process in the container's namespaces */
	const struct strv *env; /* -e NAME=VALUE */
	const char *workdir, *user;
	int tty;
	char *const *command;
};

/*
 * The chain of `container exec`, ns-enter alone: ns-enter --target PID,
 * the environment run gave container C, then -e, -w (else C's working
 * directory), -u, and COMMAND.  0, or -1 with errno (tool_path).
 */
int chain_build_exec(const struct container *c, const struct exec_args *e, struct strv *argv);

/*
 * container exec's command line, after its verb: -i (*INTERACTIVE), -t,
 * -e NAME=VALUE (into ENV, E->env), -w, -u, then NAME COMMAND [ARG...]
 * (E->command).  The index of NAME in ARGV; or -1 with *WHY the message
 * (malloc'd).
 */
int chain_exec_options(int argc, char **argv, struct exec_args *e, struct strv *env,
		       int *interactive, char **why);

#endif
