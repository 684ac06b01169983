/*
 * store.h - what `run` and `container` share: the state directory of a
 * container (md_run_dir()/NAME/), the processes of its chain, and starting
 * the sibling tools (cg-limit, net-bridge, ns-enter, img-unpack) found next
 * to our own binary.
 *
 * A container's runtime directory (see lifecycle.h for the lock, the
 * state file and what lives on disk) also holds:
 *   config.json   what run was asked (image, command, network, ports...)
 *   supervisor    "PID STARTTIME" of the run process that waits for the chain
 *   pid           "PID STARTTIME" of the chain's first tool (cg-limit)
 *   exit          the chain's exit status, once it has ended
 *   hostname      bind-mounted on /etc/hostname
 *   hosts resolv.conf   written by net-bridge (or by run without a bridge)
 */
#ifndef MINIDOCK_STORE_H
#define MINIDOCK_STORE_H

#include <sys/types.h>

/*
 * Rootless mode: run by an ordinary user, a container gets a user
 * namespace (ns-enter --userns), and its state and images go to the
 * user's own directories, as podman's do:
 *   images  $XDG_DATA_HOME/minidock (default ~/.local/share/minidock)
 *   state   $XDG_RUNTIME_DIR/minidock (default /tmp/minidock-UID)
 * unless MINIDOCK_LIB_DIR / MINIDOCK_RUN_DIR say otherwise.
 * store_rootless() says whether we are an ordinary user (or root of a
 * user namespace, as a rootless img-build is);
 * store_user_dirs() sets those two variables (so every tool of the chain
 * agrees): 0, or -1 with *WHY the message (malloc'd) when there is no
 * home to use.
 */
int store_rootless(void);
int store_user_dirs(char **why);

/* A growing NULL-terminated vector of strings, for building argv. */
struct strv {
	char **v;
	size_t n, cap;
};

void strv_push(struct strv *s, const char *str);
void strv_pushf(struct strv *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strv_free(struct strv *s);

/* The path of TOOL in the directory of /proc/self/exe (malloc'd), or
 * NULL with errno. */
char *tool_path(const char *tool);

/*
 * Run sibling TOOL (tool_path) with the arguments ARGS (NULL-terminated,
 * TOOL's name not included): fork, execv, wait.  Its exit code
 * (exit_code_of), or -1 with errno when it could not be started.  With
 * OUT non-NULL, its stdout is captured into a malloc'd string.  With
 * QUIET, its stderr goes to /dev/null.
 */
int run_tool(const char *tool, char *const args[], char **out, int quiet);

/* A new container name, docker's way ("brave_turing_42"), malloc'd; NULL
 * with errno when getrandom(2) fails. */
char *random_name(void);

/* md_run_dir()/NAME and md_run_dir()/NAME/FILE (malloc'd). */
char *state_dir(const char *name);
char *state_file(const char *name, const char *file);

/* Write "PID STARTTIME\n" to PATH; read it back: the PID when that very
 * process still runs (same start time, so a reused PID does not count),
 * 0 otherwise. */
int write_pid_file(const char *path, pid_t pid);
pid_t read_live_pid(const char *path);

/*
 * The host PID of the container's PID 1: going down the chain from its
 * first tool, the first process that lives in another PID namespace than
 * ours.  0 when there is none (yet, or any more).
 */
pid_t container_init(pid_t chain);

/* The first child of PID (each process of a chain has one), or 0. */
pid_t first_child(pid_t pid);

/* 1 once the container's COMMAND runs (its execve(2) succeeded: it runs
 * another program than ns-enter's init), 0 before (or never). */
int container_command_started(pid_t chain);

/* Poll until the COMMAND of chain CHAIN (our child) runs: 1; or until the
 * chain has ended: 0, its wait(2) status in *WSTATUS.  -1 with errno. */
int wait_command_started(pid_t chain, int *wstatus);

/* Wait up to TIMEOUT_MS for PID to end (pidfd_open + poll, so it works for
 * a process that is not our child).  0 when gone, -1/ETIMEDOUT otherwise. */
int wait_gone(pid_t pid, int timeout_ms);

#endif
