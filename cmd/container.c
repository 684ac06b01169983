/*
 * container - the life of the containers `run` started: list them, enter
 * one, read its output, stop it, remove it, and clean what a crash left.
 *
 * A container is nothing but its chain of processes
 * (cg-limit -> net-bridge -> ns-enter -> init -> COMMAND) and the state
 * directory run keeps in /run/minidock/NAME/.  So each verb is small:
 *
 *   ls          read every state directory; a container runs while the
 *               chain's first process does (the pid file holds its PID and
 *               start time, so a reused PID does not fool us)
 *   exec        find the container's PID 1 (the first process of the chain
 *               that lives in another PID namespace, see
 *               /proc/PID/ns/pid), join its cgroups (write our PID to
 *               cgroup.procs, as docker exec) and run
 *               `ns-enter --target PID -- CMD`, which setns(2) into each
 *               of its namespaces
 *   logs        print the log file of a detached container
 *   stop        kill(2) SIGTERM to its PID 1, then SIGKILL after a
 *               timeout; the chain then unwinds, each tool undoing its step
 *   rm          remove a stopped container: its writable layer, its state;
 *               with -f, kill it first
 *   prune       remove every container that is not running, including what
 *               a killed run or a reboot left: the rootfs mount (umount2),
 *               the cgroup (cg-limit --delete), the network
 *               (net-bridge --delete) and the state directory
 *
 * Read: proc(5), pid_namespaces(7), cgroups(7), pidfd_open(2), kill(2),
 * setns(2).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-join.h"
#include "console.h"
#include "minidock.h"
#include "store.h"

static const char usage_text[] =
"Usage: container ls [-q]\n"
"       container exec [-i] [-t] [-e NAME=VALUE]... [-w DIR] [-u UID[:GID]] NAME COMMAND [ARG...]\n"
"       container logs [-f] NAME\n"
"       container stop [-t SECONDS] NAME...\n"
"       container rm [-f] NAME...\n"
"       container prune\n"
"The containers started by run (state in $MINIDOCK_RUN_DIR, /run/minidock).\n"
"\n"
"  ls        every container: name, image, command, state, uptime, address, ports\n"
"            (-q: names only)\n"
"  exec      run COMMAND inside running container NAME (ns-enter --target);\n"
"            -i keep stdin open, -t a terminal, -e/-w/-u as run\n"
"  logs      what detached container NAME wrote (-f: follow while it runs)\n"
"  stop      SIGTERM to the container's PID 1, SIGKILL after SECONDS (10)\n"
"  rm        remove stopped container NAME (-f: stop it first, with SIGKILL)\n"
"  prune     remove every container that is not running, and what a crash\n"
"            or a reboot left of it (mount, cgroup, network, state)\n"
"  --verbose every step, naming the system call;  --help;  --version\n"
"\n"
"Example: run -d --name web busybox httpd -f -p 80\n"
"         container exec web ps;  container stop web;  container rm web\n";

/* What the state directory says of a container. */
struct container {
	char *name;
	json_t *config;
	pid_t chain;            /* the chain's first tool, 0 when not running */
	pid_t supervisor;       /* the run that waits for it, 0 when gone */
	int exited, exit_code;  /* the chain ended and run recorded it */
	int started;            /* a chain was ever started (not --dry-run) */
};

static void usage(void)
{
	fputs(usage_text, stdout);
	exit(0);
}

/* ---- reading a container's state ---- */

static int load_container(const char *name, struct container *c)
{
	char *path = state_file(name, "config.json"), *text;
	json_error_t jerr;

	memset(c, 0, sizeof(*c));
	c->config = json_load_file(path, 0, &jerr);
	free(path);
	if (!c->config)
		return -1;
	c->name = xstrdup(name);
	path = state_file(name, "pid");
	c->started = access(path, F_OK) == 0;
	c->chain = read_live_pid(path);
	free(path);
	path = state_file(name, "supervisor");
	c->supervisor = read_live_pid(path);
	free(path);
	path = state_file(name, "exit");
	text = read_file(path, NULL);
	if (text) {
		c->exited = 1;
		c->exit_code = atoi(text);
		free(text);
	}
	free(path);
	return 0;
}

static void open_container(const char *name, struct container *c)
{
	if (!valid_name(name))
		die_x("%s: not a container name", name);
	if (load_container(name, c) < 0)
		die_x("%s: no such container (see: container ls)", name);
}

static void free_container(struct container *c)
{
	free(c->name);
	json_decref(c->config);
}

static const char *config_str(const struct container *c, const char *key)
{
	const char *s = json_string_value(json_object_get(c->config, key));

	return s ? s : "";
}

static const char *state_of(const struct container *c, char *buf, size_t size)
{
	if (c->chain)
		snprintf(buf, size, "%s", container_command_started(c->chain) ? "running"
										: "starting");
	else if (c->exited)
		snprintf(buf, size, "exited (%d)", c->exit_code);
	else if (!c->started)
		snprintf(buf, size, "created");
	else
		/* Its run was killed, or the machine rebooted: prune. */
		snprintf(buf, size, "dead");
	return buf;
}

/* The names of the state directories that are containers (net-bridge
 * keeps its leases in a directory there too: it has no config.json). */
static struct strv list_names(void)
{
	struct strv names = { 0 };
	DIR *d = opendir(md_run_dir());
	struct dirent *de;

	if (!d) {
		if (errno != ENOENT)
			die("opendir %s", md_run_dir());
		return names;
	}
	while ((de = readdir(d)) != NULL) {
		char *cfg;
		if (de->d_name[0] == '.' || !valid_name(de->d_name))
			continue;
		cfg = state_file(de->d_name, "config.json");
		if (access(cfg, F_OK) == 0)
			strv_push(&names, de->d_name);
		free(cfg);
	}
	closedir(d);
	return names;
}

/* ---- ls ---- */

/* "10.213.0.2" from the hosts file net-bridge wrote, or "-". */
static char *address_of(const struct container *c)
{
	char *path = state_file(c->name, "hosts"), *text = read_file(path, NULL);
	char *line, *save = NULL, *addr = NULL;

	free(path);
	if (text && !strcmp(config_str(c, "network"), "bridge")) {
		for (line = strtok_r(text, "\n", &save); line && !addr;
		     line = strtok_r(NULL, "\n", &save)) {
			size_t n = strcspn(line, " \t");
			if (n && line[0] >= '0' && line[0] <= '9' && strncmp(line, "127.", 4)) {
				line[n] = '\0';
				addr = xstrdup(line);
			}
		}
	}
	free(text);
	return addr ? addr : xstrdup("-");
}

static char *uptime_of(const struct container *c)
{
	char *path = state_file(c->name, "pid");
	struct stat st;
	long s;

	if (!c->chain || stat(path, &st) < 0) {
		free(path);
		return xstrdup("-");
	}
	free(path);
	s = (long)(time(NULL) - st.st_mtime);
	if (s < 120)
		return xasprintf("%lds", s);
	if (s < 7200)
		return xasprintf("%ldm", s / 60);
	return xasprintf("%ldh", s / 3600);
}

static char *joined(json_t *a, const char *sep)
{
	size_t i, len = 1;
	json_t *v;
	char *out;

	json_array_foreach(a, i, v)
		len += strlen(json_string_value(v) ? json_string_value(v) : "") + strlen(sep);
	out = xcalloc(1, len);
	json_array_foreach(a, i, v) {
		if (i)
			strcat(out, sep);
		strcat(out, json_string_value(v) ? json_string_value(v) : "");
	}
	return out;
}

static int cmd_ls(int argc, char **argv)
{
	struct strv names;
	int quiet = 0, c;
	size_t i;

	while ((c = getopt(argc, argv, "+qa")) != -1) {
		if (c == 'q')
			quiet = 1;
		else if (c != 'a')  /* -a: every container is listed anyway */
			die_x("ls: usage: container ls [-q]");
	}
	names = list_names();
	if (!quiet)
		printf("%-20s %-10s %-24s %-12s %-7s %-15s %s\n", "NAME", "IMAGE",
		       "COMMAND", "STATE", "UPTIME", "ADDRESS", "PORTS");
	for (i = 0; i < names.n; i++) {
		struct container ct;
		char state[32], *cmd, *ports, *addr, *up;

		if (load_container(names.v[i], &ct) < 0)
			continue;
		if (quiet) {
			printf("%s\n", ct.name);
			free_container(&ct);
			continue;
		}
		cmd = joined(json_object_get(ct.config, "command"), " ");
		if (strlen(cmd) > 24)
			strcpy(cmd + 21, "...");
		ports = joined(json_object_get(ct.config, "ports"), ",");
		addr = address_of(&ct);
		up = uptime_of(&ct);
		printf("%-20s %-10s %-24s %-12s %-7s %-15s %s\n", ct.name,
		       config_str(&ct, "image"), cmd, state_of(&ct, state, sizeof(state)),
		       up, addr, ports[0] ? ports : "-");
		free(up);
		free(addr);
		free(ports);
		free(cmd);
		free_container(&ct);
	}
	strv_free(&names);
	return 0;
}

/* ---- exec ---- */

/* The host PID of the container's PID 1; while the chain is still being
 * set up (the network, the root...), wait for it a little. */
static pid_t init_of(const struct container *c)
{
	int i;

	for (i = 0; c->chain && i < 5000; i++) {
		if (container_command_started(c->chain))
			return container_init(c->chain);
		if (kill(c->chain, 0) < 0)
			break;
		sleep_ms(1);
	}
	die_x("%s: not running (see: container ls)", c->name);
}

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
	pid_t init;
	struct strv args = { 0 }, env = { 0 };
	const char *workdir = NULL, *user = NULL;
	int tty = 0, interactive = 0, c, code;
	struct container ct;
	json_t *v;
	size_t i;

	while ((c = getopt(argc, argv, "+ite:w:u:")) != -1) {
		switch (c) {
		case 'i': interactive = 1; break;
		case 't': tty = 1; break;
		case 'e': strv_push(&env, optarg); break;
		case 'w': workdir = optarg; break;
		case 'u': user = optarg; break;
		default: die_x("exec: usage: container exec [-i] [-t] [-e NAME=VALUE] [-w DIR] [-u UID] NAME COMMAND...");
		}
	}
	if (argc - optind < 2)
		die_x("exec: expected NAME COMMAND [ARG...]");
	open_container(argv[optind], &ct);

	strv_push(&args, "ns-enter");
	free(args.v[0]);
	args.v[0] = tool_path("ns-enter");
	strv_push(&args, "--target");
	init = init_of(&ct);
	/* Rootless, the init is out of our reach: it is not dumpable, and
	 * its memory belongs to the host's user namespace, so its
	 * /proc/PID/ns files need CAP_SYS_PTRACE there (proc(5)).  COMMAND,
	 * its child, lives in the same namespaces, root and cgroups. */
	if (store_rootless() && first_child(init) > 0)
		strv_pushf(&args, "%d", (int)first_child(init));
	else
		strv_pushf(&args, "%d", (int)init);
	/* The container's environment (as run gave it), then -e. */
	json_array_foreach(json_object_get(ct.config, "env"), i, v) {
		strv_push(&args, "--env");
		strv_push(&args, json_string_value(v));
	}
	if (tty) {
		strv_push(&args, "--env");
		strv_push(&args, "TERM=xterm");
	}
	for (i = 0; i < env.n; i++) {
		if (!strchr(env.v[i], '='))
			die_x("exec: -e %s: expected NAME=VALUE", env.v[i]);
		strv_push(&args, "--env");
		strv_push(&args, env.v[i]);
	}
	if (!workdir && json_is_string(json_object_get(ct.config, "workdir")))
		workdir = config_str(&ct, "workdir");
	if (workdir) {
		strv_push(&args, "--workdir");
		strv_push(&args, workdir);
	}
	if (user) {
		strv_push(&args, "--user");
		strv_push(&args, user);
	}
	if (md_verbose)
		strv_push(&args, "--verbose");
	strv_push(&args, "--");
	for (i = (size_t)optind + 1; i < (size_t)argc; i++)
		strv_push(&args, argv[i]);
	vlog("%s: its PID 1 is %s on the host: ns-enter --target", ct.name, args.v[2]);

	if (tty) {
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
			exec_command(args.v);
		}
		close(slave);
		code = pty_relay(master, pid, interactive ? STDIN_FILENO : -1);
		if (code < 0)
			die("waitpid");
		close(master);
	} else {
		if (!interactive && !freopen("/dev/null", "r", stdin))
			die("open /dev/null");
		/* Nothing to undo afterwards: ns-enter takes our place. */
		fflush(stdout);
		join_cgroups(init, ct.name);
		exec_command(args.v);
	}
	strv_free(&env);
	strv_free(&args);
	free_container(&ct);
	return code;
}

/* ---- logs ---- */

static int running(const char *name)
{
	char *path = state_file(name, "pid");
	pid_t pid = read_live_pid(path);

	free(path);
	return pid > 0;
}

static int cmd_logs(int argc, char **argv)
{
	int follow = 0, last = 0, c, fd;
	struct container ct;
	char *path, buf[8192];
	ssize_t n;

	while ((c = getopt(argc, argv, "+f")) != -1) {
		if (c != 'f')
			die_x("logs: usage: container logs [-f] NAME");
		follow = 1;
	}
	if (optind != argc - 1)
		die_x("logs: expected one NAME");
	open_container(argv[optind], &ct);
	path = state_file(ct.name, "log");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("%s: no log (only detached containers have one): %s", ct.name, path);
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read %s", path);
		if (n > 0) {
			if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
				break;
			continue;
		}
		/* End of file: follow while the container runs, then read
		 * what it wrote last. */
		if (!follow || last)
			break;
		if (!running(ct.name)) {
			last = 1;
			continue;
		}
		sleep_ms(100);
	}
	close(fd);
	free(path);
	free_container(&ct);
	return 0;
}

/* ---- stop, rm, prune ---- */

/* The process whose end means the container is fully stopped: run, which
 * unmounts and records the status, or, if run is gone, the chain. */
static pid_t last_process(const struct container *c)
{
	return c->supervisor ? c->supervisor : c->chain;
}

/* SIGTERM to PID 1 (as docker stop), SIGKILL after TIMEOUT seconds; then
 * wait until the chain has unwound (each tool undoing its step). */
static void stop_container(struct container *c, int timeout, int sig)
{
	pid_t init = container_init(c->chain), last = last_process(c);
	pid_t target = init ? init : c->chain;

	vlog("kill(%d, SIG%s): %s of %s", (int)target, sigabbrev_np(sig),
	     init ? "the container's PID 1" : "the chain", c->name);
	if (kill(target, sig) < 0 && errno != ESRCH)
		die("%s: kill %d", c->name, (int)target);
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
}

static int cmd_stop(int argc, char **argv)
{
	unsigned long long secs = 10;
	int c, i;

	while ((c = getopt(argc, argv, "+t:")) != -1) {
		if (c != 't' || parse_uint(optarg, 3600, &secs) < 0)
			die_x("stop: usage: container stop [-t SECONDS (0 to 3600)] NAME...");
	}
	if (optind >= argc)
		die_x("stop: expected NAME");
	for (i = optind; i < argc; i++) {
		struct container ct;
		open_container(argv[i], &ct);
		if (ct.chain)
			stop_container(&ct, (int)secs, SIGTERM);
		printf("%s\n", ct.name);
		free_container(&ct);
	}
	return 0;
}

/* Everything of a container that is not running: what its chain left if
 * it did not end normally, its root mount, its state directory. */
static void remove_container(struct container *c)
{
	char *dir = state_dir(c->name);

	/* The chain has ended, and its run is recording that (exit status,
	 * unmount): let it finish rather than race it for the directory. */
	if (c->supervisor && wait_gone(c->supervisor, 10000) < 0)
		die_x("%s: its run (PID %d) is still busy", c->name, (int)c->supervisor);

	/* Dead: run (and maybe the tools) were killed mid-way.  A rootless
	 * chain had no cgroup nor network to leave behind. */
	if (c->started && !c->exited &&
	    !json_is_true(json_object_get(c->config, "rootless"))) {
		/* When nothing is left, the tool says so and fails: fine. */
		delete_step("cg-limit", c->name, !md_verbose);
		if (!strcmp(config_str(c, "network"), "bridge"))
			delete_step("net-bridge", c->name, !md_verbose);
	}
	if (remove_state(c->name) < 0)
		die("%s: remove %s", c->name, dir);
	vlog("rm -r %s", dir);
	free(dir);
}

static int cmd_rm(int argc, char **argv)
{
	int force = 0, c, i;

	while ((c = getopt(argc, argv, "+f")) != -1) {
		if (c != 'f')
			die_x("rm: usage: container rm [-f] NAME...");
		force = 1;
	}
	if (optind >= argc)
		die_x("rm: expected NAME");
	for (i = optind; i < argc; i++) {
		struct container ct;
		open_container(argv[i], &ct);
		if (ct.chain && !force)
			die_x("%s: still running (stop it first, or: container rm -f %s)",
			      ct.name, ct.name);
		if (ct.chain)
			stop_container(&ct, 0, SIGKILL);
		free_container(&ct);
		/* Read it again: run may have recorded its end, or removed
		 * it all on its way out (--rm). */
		if (load_container(argv[i], &ct) == 0)
			remove_container(&ct);
		printf("%s\n", argv[i]);
		free_container(&ct);
	}
	return 0;
}

static int cmd_prune(int argc, char **argv)
{
	struct strv names;
	size_t i;

	(void)argv;
	if (argc > 1)
		die_x("prune: takes no argument");
	names = list_names();
	for (i = 0; i < names.n; i++) {
		struct container ct;
		if (load_container(names.v[i], &ct) < 0)
			continue;
		if (!ct.chain) {
			remove_container(&ct);
			printf("%s\n", ct.name);
		}
		free_container(&ct);
	}
	strv_free(&names);
	return 0;
}

/* ---- main: a verb, then its own options ---- */

static const struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
} verbs[] = {
	{ "ls", cmd_ls }, { "ps", cmd_ls }, { "exec", cmd_exec },
	{ "logs", cmd_logs }, { "stop", cmd_stop }, { "rm", cmd_rm },
	{ "prune", cmd_prune }, { NULL, NULL },
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help",    no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct verb *v;
	int c;

	md_init("container");
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'v': md_verbose = 1; break;
		case 'h': usage(); break;
		case 'V': print_version(); return 0;
		default:
			fprintf(stderr, "Try 'container --help'.\n");
			return EXIT_TOOL_FAILED;
		}
	}
	if (optind >= argc)
		die_x("expected a verb: ls, exec, logs, stop, rm or prune (see --help)");
	/* An ordinary user's containers are in its own directories (store.h). */
	if (store_rootless())
		store_user_dirs();
	for (v = verbs; v->name; v++)
		if (!strcmp(v->name, argv[optind]))
			break;
	if (!v->name)
		die_x("%s: unknown verb (ls, exec, logs, stop, rm, prune)", argv[optind]);
	/* The verb's own options: getopt again, on what follows it. */
	argc -= optind;
	argv += optind;
	optind = 1;
	return pass_on(v->run(argc, argv));
}
