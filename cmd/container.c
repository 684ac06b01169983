/*
 * container - the life of the containers `run` started: list them, enter
 * one, read its output, stop it, remove it, and clean what a crash left.
 *
 * A container is nothing but its chain of processes and two directories
 * (lifecycle.h): its runtime state in /run/minidock/NAME/ (a lock its run
 * holds while it lives, a state file, pids, config), and on disk, in
 * /var/lib/minidock/containers/NAME/, its writable layer and its log.
 *
 *   run                     its PID in the file "supervisor"; its lock
 *    `- cg-limit            "pid": the chain's first process
 *        `- net-bridge
 *            `- ns-enter
 *                `- COMMAND PID 1 of the container's PID namespace
 *
 * So each verb is small:
 *   ls     read every runtime directory; a container runs while the
 *          chain's first process does (the pid file holds its start time
 *          too, so a reused PID does not fool us); one whose lock is free
 *          while its state says "creating" lost its run: dead
 *   exec   find the container's PID 1 (down the chain, the first process
 *          with one more PID on the "NSpid:" line of /proc/PID/status: it
 *          lives in a PID namespace below ours), join its cgroups (write
 *          our PID to cgroup.procs, as docker exec), and become
 *          `ns-enter --target PID -- CMD`, which setns(2) into each of its
 *          namespaces
 *   inspect print its config.json, state and mounts as JSON
 *   logs   print the log of a detached container, its rotated files first
 *   stop   kill(2) SIGTERM to its PID 1, SIGKILL after a timeout; the chain
 *          then unwinds, each tool undoing its step
 *   rm     take its lock (flock(2): its run is gone), then undo what its
 *          state file lists, the last made first: network, cgroup, root
 *          mount, disk directory (renamed aside at once, its blocks freed
 *          by a background md-reclaim process); then the runtime directory
 *   prune  rm of every container whose lock is free and chain ended, at
 *          whatever step its run died; then the disk directories a reboot
 *          left without runtime state, and waits for the md-reclaims.
 *          A container whose run lives is never touched: its lock says so.
 *
 * Read: proc(5), pid_namespaces(7), cgroups(7), pidfd_open(2), kill(2),
 * setns(2), flock(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-join.h"
#include "chain.h"
#include "console.h"
#include "containers.h"
#include "jsonfile.h"
#include "lifecycle.h"
#include "minidock.h"
#include "restart.h"
#include "verbs.h"
#include "store.h"

static const char usage_text[] =
"Usage: container ls [-q]\n"
"       container exec [-i] [-t] [-e NAME=VALUE]... [-w DIR] [-u UID[:GID]] NAME COMMAND [ARG...]\n"
"       container inspect NAME...\n"
"       container logs [-f] NAME\n"
"       container stop [-t SECONDS] NAME...\n"
"       container rm [-f] NAME...\n"
"       container prune\n"
"The containers started by run (state in $MINIDOCK_RUN_DIR, /run/minidock).\n"
"\n"
"  ls        every container: name, image, command, state, uptime, network,\n"
"            address, ports (-q: names only)\n"
"  exec      run COMMAND inside running container NAME (ns-enter --target);\n"
"            -i keep stdin open, -t a terminal, -e/-w/-u as run\n"
"  inspect   as JSON: its state, config.json, network and address, and mounts\n"
"            (volumes, binds, tmpfs)\n"
"  logs      what detached container NAME wrote (-f: follow while it runs)\n"
"  stop      SIGTERM to the container's PID 1, SIGKILL after SECONDS (10)\n"
"  rm        remove stopped container NAME (-f: stop it first, with SIGKILL)\n"
"  prune     remove every container that is not running, and what a crash\n"
"            or a reboot left of it (mount, cgroup, network, state)\n"
"  --verbose every step, naming the system call;  --help;  --version\n"
"\n"
"Example: run -d --name web busybox httpd -f -p 80\n"
"         container exec web ps;  container stop web;  container rm web\n";

static int cmd_ls(int argc, char **argv);
static int cmd_exec(int argc, char **argv);
static int cmd_inspect(int argc, char **argv);
static int cmd_logs(int argc, char **argv);
static int cmd_stop(int argc, char **argv);
static int cmd_rm(int argc, char **argv);
static int cmd_prune(int argc, char **argv);

static const struct verb verbs[] = {
	{ "ls", cmd_ls }, { "ps", cmd_ls }, { "exec", cmd_exec },
	{ "inspect", cmd_inspect }, { "logs", cmd_logs }, { "stop", cmd_stop },
	{ "rm", cmd_rm }, { "prune", cmd_prune }, { NULL, NULL },
};

/* A verb, then its own options. */
int main(int argc, char **argv)
{
	md_init("container");
	return verbs_main(argc, argv, usage_text, verbs);
}

/* Container NAME, or say there is none: 0 or -1. */
static int find_container(const char *name, struct container *c)
{
	if (!valid_name(name)) {
		warn_x("%s: not a container name", name);
		return -1;
	}
	if (container_load(name, c) < 0) {
		warn_x("%s: no such container (see: container ls)", name);
		return -1;
	}
	return 0;
}

/* Container NAME, or exit saying there is none. */
static void open_container(const char *name, struct container *c)
{
	if (find_container(name, c) < 0)
		exit(EXIT_TOOL_FAILED);
}

/* ---- ls ---- */

static int cmd_ls(int argc, char **argv)
{
	struct strv names = { 0 }, table = { 0 };
	int quiet = 0, c;
	size_t i;

	while ((c = getopt(argc, argv, "+qa")) != -1) {
		if (c == 'q')
			quiet = 1;
		else if (c != 'a')  /* -a: every container is listed anyway */
			die_x("ls: usage: container ls [-q]");
	}
	/* Every runtime directory, half made or half removed too. */
	if (life_names(&names) < 0)
		die("opendir %s", md_run_dir());
	for (i = 0; i < names.n; i++) {
		struct container ct;
		if (container_load(names.v[i], &ct) < 0)
			continue;       /* removed meanwhile */
		if (quiet)
			printf("%s\n", ct.name);
		else if (ct.bad)
			warn_x("%s: %s", ct.name, ct.bad);
		if (!quiet)
			container_list_add(&table, &ct);
		container_free(&ct);
	}
	if (!quiet)
		container_list_print(&table, stdout);
	strv_free(&names);
	return 0;
}

/* ---- exec ---- */

/* As docker exec: the new process goes into the container's cgroups, so
 * that its limits hold it too (common/cgroup-join.c). */
static void join_cgroups(pid_t init, const char *name)
{
	char error[4200];

	if (cgroup_join_container(init, name, error, sizeof(error)) < 0)
		die_x("%s", error);
}

static int cmd_exec(int argc, char **argv)
{
	struct strv args = { 0 }, env = { 0 }, cenv = { 0 };
	struct exec_args e = { 0 };
	int interactive = 0, n, code = 0;
	struct container ct;
	char *why = NULL;
	pid_t init;

	/* -i -t -e -w -u, as docker exec's (common/chain.c). */
	if ((n = chain_exec_options(argc, argv, &e, &env, &interactive, &why)) < 0)
		die_x("exec: %s", why);
	open_container(argv[n], &ct);
	if (ct.bad)
		die_x("%s: %s", ct.name, ct.bad);
	/* While the chain is still being set up, wait for it a little. */
	if (!(init = container_wait_init(&ct)))
		die_x("%s: not running (see: container ls)", ct.name);
	/* Rootless, the init is out of our reach: it is not dumpable, and
	 * its memory belongs to the host's user namespace, so its
	 * /proc/PID/ns files need CAP_SYS_PTRACE there (proc(5)).  COMMAND,
	 * its child, lives in the same namespaces, root and cgroups. */
	e.target = store_rootless() && first_child(init) > 0 ? first_child(init) : init;
	if (chain_build_exec(&ct, &e, &args) < 0)
		die("ns-enter: readlink /proc/self/exe");
	/* As docker exec: the container's environment, never ours. */
	chain_environment(&cenv);
	vlog("%s: its PID 1 is %d on the host: ns-enter --target", ct.name, (int)e.target);

	if (e.tty) {
		struct logfile out = logfile_fd(STDOUT_FILENO);
		int slave, master = pty_open(&slave);
		pid_t pid;
		if (master < 0)
			die("posix_openpt");
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			if (pty_make_controlling(slave) < 0)
				die("setsid/TIOCSCTTY");
			join_cgroups(init, ct.name);
			exec_command_env(args.v, cenv.v);
		}
		close(slave);
		code = pty_relay(master, pid, interactive ? STDIN_FILENO : -1, &out);
		if (code < 0)
			die("waitpid");
		close(master);
	} else {
		if (!interactive && !freopen("/dev/null", "r", stdin))
			die("open /dev/null");
		/* Nothing to undo afterwards: ns-enter takes our place. */
		fflush(stdout);
		join_cgroups(init, ct.name);
		exec_command_env(args.v, cenv.v);
	}
	strv_free(&env);
	strv_free(&cenv);
	strv_free(&args);
	container_free(&ct);
	return code;
}

/* ---- inspect ---- */

static int cmd_inspect(int argc, char **argv)
{
	json_t *all = json_array();
	int i;

	if (argc < 2)
		die_x("inspect: expected NAME (usage: container inspect NAME...)");
	for (i = 1; i < argc; i++) {
		struct container ct;
		open_container(argv[i], &ct);
		json_array_append_new(all, container_inspect(&ct));
		container_free(&ct);
	}
	if (json_print(all, stdout, JSON_INDENT(4)) < 0)   /* jsonfile.h */
		die_x("inspect: out of memory");
	json_decref(all);
	return 0;
}

/* ---- logs ---- */

static int cmd_logs(int argc, char **argv)
{
	int follow = 0, c;
	struct container ct;
	char *path, *pidfile;

	while ((c = getopt(argc, argv, "+f")) != -1) {
		if (c != 'f')
			die_x("logs: usage: container logs [-f] NAME");
		follow = 1;
	}
	if (optind != argc - 1)
		die_x("logs: expected one NAME");
	open_container(argv[optind], &ct);
	path = disk_file(ct.name, "log");
	pidfile = state_file(ct.name, "supervisor");
	/* log.N-1 ... log.1, log: the rotated files, oldest first; -f: while
	 * its run copies the output into it. */
	if (logfile_copy(path, STDOUT_FILENO, follow, container_supervisor_runs, pidfile) < 0) {
		if (errno == ENOENT)
			die("%s: no log (only detached containers have one): %s", ct.name, path);
		if (errno != EPIPE)
			die("read %s", path);
	}
	free(pidfile);
	free(path);
	container_free(&ct);
	return 0;
}

/* ---- stop ---- */

/* SIGTERM to PID 1 (as docker stop), SIGKILL after TIMEOUT seconds; then
 * wait until the chain has unwound (each tool undoing its step) and the
 * process that records its end is gone: run, or if run is gone, the chain. */
static int stop_container(struct container *c, int timeout, int sig)
{
	pid_t init = container_init(c->chain);
	pid_t last = c->supervisor ? c->supervisor : c->chain;
	pid_t target = init ? init : c->chain;

	vlog("kill(%d, SIG%s): %s of %s", (int)target, sigabbrev_np(sig),
	     init ? "the container's PID 1" : "the chain", c->name);
	if (kill(target, sig) < 0 && errno != ESRCH) {
		warn_errno("%s: kill %d", c->name, (int)target);
		return -1;
	}
	if (sig != SIGKILL && wait_gone(target, timeout * 1000) < 0) {
		vlog("kill(%d, SIGKILL): still there after %d s", (int)target, timeout);
		kill(target, SIGKILL);
	}
	if (wait_gone(last, 10000) < 0) {
		/* The chain did not unwind: end it without its cleanup; rm
		 * and prune then do that cleanup themselves. */
		warn_x("%s: still running 10 s after its PID 1 died: SIGKILL to the chain",
		       c->name);
		kill(c->chain, SIGKILL);
		wait_gone(last, 5000);
	}
	c->chain = 0;
	c->supervisor = 0;
	return 0;
}

/* As docker stop and rm: every NAME is tried, each failure said, and the
 * exit status is 1 when one failed. */
static int cmd_stop(int argc, char **argv)
{
	unsigned long long secs = 10;
	int c, i, failed = 0;

	while ((c = getopt(argc, argv, "+t:")) != -1) {
		if (c != 't' || parse_uint(optarg, 3600, &secs) < 0)
			die_x("stop: usage: container stop [-t SECONDS (0 to 3600)] NAME...");
	}
	if (optind >= argc)
		die_x("stop: expected NAME");
	for (i = optind; i < argc; i++) {
		struct container ct;
		if (find_container(argv[i], &ct) < 0) {
			failed = 1;
			continue;
		}
		/* Ended on purpose: no --restart (restart.h). */
		if (ct.supervisor && restart_mark_stopped(ct.name) < 0)
			warn_errno("%s: write %s/%s/stopped", ct.name, md_run_dir(), ct.name);
		if (ct.chain && stop_container(&ct, (int)secs, SIGTERM) < 0)
			failed = 1;
		else
			printf("%s\n", ct.name);
		container_free(&ct);
	}
	return failed;
}

/* ---- rm, prune ---- */

/* rm NAME: everything of it, whatever step its run (or a rm) died at.
 * -f: SIGKILL to what runs; then its run records its end and lets go of
 * its lock, which we take (containers.h). */
static int remove_container(const char *name, int force)
{
	struct container ct;
	struct life l;
	int running;

	if (find_container(name, &ct) < 0)
		return -1;
	if (force && ct.supervisor && restart_mark_stopped(ct.name) < 0)
		warn_errno("%s: write %s/%s/stopped", name, md_run_dir(), name);
	running = ct.chain && (!force || stop_container(&ct, 0, SIGKILL) < 0);
	container_free(&ct);
	if (running || container_lock(name, 10000, &l) < 0) {
		if (!running && errno == ENOENT)
			return 0;       /* run --rm removed it on its way out */
		if (running || errno == EBUSY)
			warn_x("%s: still running (stop it first, or: container rm -f %s)",
			       name, name);
		else
			warn_errno("%s: open its lock %s/%s/lock", name, md_run_dir(), name);
		return -1;
	}
	if (life_remove(&l, !md_verbose) < 0) {
		warn_errno("%s: remove it (see: container ls)", name);
		return -1;
	}
	return 0;
}

static int cmd_rm(int argc, char **argv)
{
	int force = 0, c, i, failed = 0;

	while ((c = getopt(argc, argv, "+f")) != -1) {
		if (c != 'f')
			die_x("rm: usage: container rm [-f] NAME...");
		force = 1;
	}
	if (optind >= argc)
		die_x("rm: expected NAME");
	for (i = optind; i < argc; i++) {
		if (remove_container(argv[i], force) < 0)
			failed = 1;
		else
			printf("%s\n", argv[i]);
	}
	return failed;
}

/* Every container whose lock is free and whose chain has ended, then
 * what no container owns (lifecycle.h): never one whose run lives. */
static int cmd_prune(int argc, char **argv)
{
	struct strv names = { 0 }, leftovers = { 0 };
	int failed = 0;
	size_t i;

	(void)argv;
	if (argc > 1)
		die_x("prune: takes no argument");
	if (life_names(&names) < 0)
		die("opendir %s", md_run_dir());
	for (i = 0; i < names.n; i++) {
		struct life l;
		if (container_lock(names.v[i], 0, &l) < 0)
			continue;       /* running, or removed meanwhile */
		if (life_remove(&l, !md_verbose) < 0) {
			warn_errno("%s: remove it", names.v[i]);
			failed = 1;
			continue;
		}
		printf("%s\n", names.v[i]);
	}
	if (life_prune_leftovers(&leftovers) < 0) {
		warn_errno("what a crash or a reboot left in %s/containers", md_lib_dir());
		failed = 1;
	}
	for (i = 0; i < leftovers.n; i++)
		printf("%s\n", leftovers.v[i]);
	strv_free(&leftovers);
	strv_free(&names);
	return failed;
}
