/*
 * run - `docker run`, as nothing more than the chain of the four other tools.
 *
 * A container is a process that the kernel isolates, constrains and
 * connects.  Each of those is the job of one small tool, and each tool has
 * the shape `TOOL [OPTIONS] -- COMMAND`, so they nest:
 *
 *   run                                       waits, then undoes
 *    `- cg-limit --name N --memory 64M --     cgroups: memory, CPU, pids
 *        `- net-bridge --name N -p 8080:80 -- network namespace, veth, NAT
 *            `- ns-enter --all --root ROOT -- namespaces, pivot_root
 *                `- COMMAND                   PID 1 of the container
 *
 * run teaches nothing new: it does what a student would do by hand before
 * typing that chain, and undoes it afterwards.  main() does, in order:
 *
 *   1. parse the options, docker run's (runopts.c);
 *   2. find the image, its layers stored once by img-unpack (runimage.c);
 *   3. claim the name: /run/minidock/NAME, locked (flock(2)) as long as
 *      run lives; make its directory on disk, /var/lib/minidock/containers/NAME;
 *   4. mount the root: an overlayfs of the image's layers, read-only and
 *      shared, under a writable layer of the container's own (overlay.h);
 *      make its named volumes, a new one filled from the image (volumes.h);
 *   5. look the user up in the image's /etc/passwd; write its /etc files;
 *   6. build the chain (chain.c); start it: vfork(2), execve(2) (or print
 *      it: --dry-run; pasted into a shell, it runs the container);
 *   7. wait, passing signals on; unmount the root (--rm: remove it all).
 *
 * Where a container lives, as with Docker: in /run (RAM, emptied at boot)
 * only what lives as long as its processes: lock, state, pids; on disk
 * what may grow: its writable layer, its log.  And how its state stays
 * true if run is killed at any moment (kill -9, a crash): as runc writes
 * its state.json, each change is a new file renamed over the old
 * (rename(2) is atomic), and each resource (disk directory, mount,
 * cgroup, network) is written there BEFORE it is made; whether run lives
 * is its lock, which the kernel drops when run dies.  So `container
 * prune` knows a dead run, and undoes exactly what it made (lifecycle.h).
 *
 * -d forks a supervisor in a session of its own (setsid(2)) that does 6
 * and 7 (and again for --restart), copying the output into a log rotated
 * as docker's (detach.c, logfile.h); run prints the name once COMMAND
 * runs, and returns.  Its chain's tools are told --exec: each does its
 * step and becomes the next, so the supervisor, the one process that
 * waits, undoes their steps with their --delete.  Rootless, the chain is
 * `ns-enter --userns ...` alone, which mounts the overlayfs in its user
 * namespace (Linux 5.11; else a copy of the image; user_namespaces(7)).
 *
 * Read: Documentation/filesystems/overlayfs.rst, mount(2), vfork(2),
 * setsid(2), prctl(2) PR_SET_PDEATHSIG, flock(2), rename(2), and pty(7)
 * for -t.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chain.h"
#include "cmdline.h"
#include "console.h"
#include "containers.h"
#include "detach.h"
#include "lifecycle.h"
#include "minidock.h"
#include "networks.h"
#include "overlay.h"
#include "restart.h"
#include "runimage.h"
#include "runopts.h"
#include "store.h"
#include "volumes.h"

static void parse_command_line(int argc, char **argv, struct run_options *o);
static void find_image(const struct run_options *o, struct run_image *img, struct strv *cmd);
static char *claim_name(const char *wanted);
static const char *mount_root(const char *name, const struct run_image *img,
			      const char *rootfs, int rootless, const char *host_files,
			      char **userns_overlay);
static int supervise_chain(const char *name, const struct run_options *o,
			   char *const chain[], int master, int slave, int report);
static int run_detached(const char *name, const struct run_options *o, char *const chain[],
			int master, int slave);

/* The container's lock and state (lifecycle.h); what a failed start must
 * remove (see undo_on_exit). */
static struct life life = { .lockfd = -1 };
/* Where the container's output goes: the terminal, or with -d its log. */
static struct logfile output = { .fd = STDOUT_FILENO };
static int keep_state;

int main(int argc, char **argv)
{
	struct run_options o = { 0 };
	struct run_image img = { 0 };
	struct strv cmd = { 0 }, env = { 0 };
	struct chain chain;
	struct chain_args a;
	struct container_config cc;
	char *name, *rootfs, *console = NULL, *overlay = NULL, *why = NULL, *user = NULL;
	const char *hostname, *kind, *spec;
	int code, master = -1, slave = -1;

	md_init("run");
	parse_command_line(argc, argv, &o);
	find_image(&o, &img, &cmd);
	name = claim_name(o.name);
	hostname = o.hostname ? o.hostname : name;
	runimage_env(&img, &o, hostname, &env);
	if (!o.workdir)
		o.workdir = runimage_string(&img, "WorkingDir");

	rootfs = disk_file(name, "rootfs");
	/* Who reads the image's files on the host: a user's /etc/passwd, the
	 * first fill of a volume (rootless, they force a copy: see mount_root). */
	spec = o.user ? o.user : runimage_string(&img, "User");
	kind = mount_root(name, &img, rootfs, o.rootless,
			  spec && *spec ? "--user (or the image's User), read in its /etc/passwd,"
			  : volumes_need_fill(&o.volumes) ? "a new volume, filled from the image," : NULL,
			  &overlay);
	/* 4. Each -v NAME:/path: recorded in our state (`volume rm` sees it),
	 * made on first use, filled from the image while empty (volumes.c);
	 * then ns-enter bind-mounts its directory like any host path. */
	if (volumes_prepare(&life, &o.volumes, rootfs, &why) < 0)
		die_x("%s", why ? why : strerror(errno));
	/* 5. The user, in the image's /etc/passwd (runimage.c); /etc/hostname,
	 * hosts, resolv.conf, for ns-enter to bind-mount (containers.c). */
	if (spec && !(user = runimage_user(rootfs, spec, &why)))
		die_x("%s", why);
	runimage_home(rootfs, user, &env);
	if (container_etc_files(name, rootfs, o.network, hostname, o.add_hosts.v) < 0)
		die("write %s/%s: the files of its /etc", md_run_dir(), name);
	cc = (struct container_config){ .name = name, .image = o.image, .hostname = hostname,
		.network = o.network, .workdir = o.workdir, .rootfs = kind, .command = cmd.v,
		.ports = o.publish.v, .env = env.v, .rm = o.rm, .rootless = o.rootless,
		.volumes = o.volumes.v, .tmpfs = o.tmpfs.v };
	if (container_save(&cc) < 0)
		die("write %s/%s/config.json", md_run_dir(), name);

	if (o.tty && !o.dry_run) {
		if ((master = pty_open(&slave)) < 0)
			die("posix_openpt: a pty for the container");
		console = xstrdup(ptsname(master));
	}
	a = (struct chain_args){ .name = name, .hostname = hostname, .rootfs = rootfs,
				 .overlay = overlay, .user = user, .console = console,
				 .cmd = &cmd, .env = &env };
	if (chain_build(&o, &a, o.dry_run, &chain) < 0)
		die("the tools of the chain: readlink /proc/self/exe");
	/* What the chain's tools will make, recorded before they make it. */
	if (!o.dry_run)
		life.resources |= (o.rootless ? 0 : LIFE_CGROUP) |
				  (network_is_bridged(o.network) ? LIFE_NETWORK : 0);
	if (life_set_phase(&life, LIFE_CREATED) < 0)
		die("write %s/%s/state", md_run_dir(), name);

	if (o.dry_run) {
		keep_state = 1;
		chain_print(&chain, stdout);
		fprintf(stderr, "run: %s is ready; afterwards remove it with: container rm %s\n",
			name, name);
		code = 0;
	} else if (o.detach) {
		code = run_detached(name, &o, chain.argv.v, master, slave);
	} else {
		code = supervise_chain(name, &o, chain.argv.v, master, slave, -1);
	}

	chain_free(&chain);
	strv_free(&env);
	strv_free(&cmd);
	runopts_free(&o);
	runimage_free(&img);
	free(console);
	free(overlay);
	free(user);
	free(rootfs);
	free(name);
	return pass_on(code);
}

/* 1. The options, each checked before anything exists (runopts.c). */
static void parse_command_line(int argc, char **argv, struct run_options *o)
{
	char *why = NULL;
	int r;

	o->rootless = store_rootless();
	r = runopts_parse(argc, argv, o, &why);
	cmdline_end(r, runopts_usage, why);     /* --help, --version, bad: exit */
	/* An ordinary user's images and containers are in its own directories. */
	if (runopts_check(o, &why) < 0 || (o->rootless && store_user_dirs(&why) < 0))
		die_x("%s", why ? why : strerror(errno));
}

/* 2. The image, imported the first time, and the command it runs. */
static void find_image(const struct run_options *o, struct run_image *img, struct strv *cmd)
{
	char *why = NULL;

	if (runimage_find(o->image, o->rootless, img, &why) < 0 ||
	    runimage_command(img, o, cmd, &why) < 0)
		die_x("%s", why ? why : strerror(errno));
}

/* Remove what a failed start created (atexit: die() exits through it). */
static void undo_on_exit(void)
{
	char *name = life.name && !keep_state ? xstrdup(life.name) : NULL;

	if (name && life_remove(&life, 1) < 0)
		warn_errno("remove %s/%s", md_run_dir(), name);
	free(name);
}

/* 3. The runtime directory, claimed under its lock (lifecycle.h): one
 * container a name, held as long as this run (or its -d supervisor) lives. */
static char *claim_name(const char *wanted)
{
	if (life_claim_new(wanted, &life) < 0) {
		if (wanted && errno == EEXIST)
			die_x("name %s: already in use by a container (remove it with: "
			      "container rm %s)", wanted, wanted);
		die("claim a name in %s", md_run_dir());
	}
	atexit(undo_on_exit);
	/* 3. Its directory on disk, for its writable layer and its log. */
	if (life_make_disk(&life) < 0)
		die("mkdir %s/containers/%s", md_lib_dir(), life.name);
	return xstrdup(life.name);
}

/* 4. The container's root: mount(2) of an overlayfs of the image's layers
 * under the container's own upper layer (rootless: mounted by ns-enter in
 * its user namespace, *USERNS_OVERLAY the options); or a private copy of
 * the image (MINIDOCK_STORAGE=copy, no overlayfs here, or rootless when
 * run must read the image's files first: HOST_FILES says why): "overlay" or "copy". */
static const char *mount_root(const char *name, const struct run_image *img,
			      const char *rootfs, int rootless, const char *host_files,
			      char **userns_overlay)
{
	char *opts = NULL, *why = NULL;
	int how;

	if (mkdir(rootfs, 0755) < 0)
		die("mkdir %s", rootfs);
	/* Its options, upper and work directories; which of the three (overlay.c). */
	how = overlay_plan(img->layers.v, img->layers.n, img->name, name, rootless, rootfs,
			   host_files, &opts, &why);
	if (how < 0)
		die_x("%s", why);
	if (how == OVERLAY_USERNS) {
		*userns_overlay = opts;
		opts = NULL;
	} else if (how == OVERLAY_HERE) {
		if (life_record(&life, LIFE_ROOTFS) < 0)
			die("write %s/%s/state", md_run_dir(), name);
		vlog("mount(\"overlay\", \"%s\", \"overlay\", 0, \"%s\")", rootfs, opts);
		if (mount("overlay", rootfs, "overlay", 0, opts) < 0) {
			if (errno == EPERM)
				die("mount overlay on %s (run needs root: sudo)", rootfs);
			if (errno != ENODEV && errno != EINVAL)
				die("mount overlay on %s", rootfs);
			warn_errno("mount overlay on %s: overlayfs unavailable, copying the "
				   "image instead", rootfs);
			how = OVERLAY_COPY;
		}
	}
	free(opts);
	if (how == OVERLAY_COPY && runimage_copy(img, rootfs, &why) < 0)
		die_x("%s", why ? why : strerror(errno));
	return how == OVERLAY_COPY ? "copy" : "overlay";
}

/* 6. In the child of vfork(2), which runs in run's memory until execve(2):
 * only system calls here (no malloc, no stdio), and it never returns. */
static void __attribute__((noreturn)) start_chain(char *const chain[], char *const envp[],
						   pid_t parent, int stdin_fd, int tty_slave)
{
	/* If run dies (kill -9), the chain gets SIGTERM and undoes itself
	 * tool by tool instead of running on unsupervised. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(EXIT_TOOL_FAILED);
	if (tty_slave >= 0) {
		if (pty_make_controlling(tty_slave) < 0) {
			child_error("setsid/TIOCSCTTY", errno);
			_exit(EXIT_TOOL_FAILED);
		}
	} else if (stdin_fd >= 0 && dup2(stdin_fd, STDIN_FILENO) < 0) {
		_exit(EXIT_TOOL_FAILED);
	}
	sigchld_mask(SIG_UNBLOCK);
	unblock_forwarded_signals();
	exec_command_env(chain, envp);
}

/* 6. Start the chain: vfork(2), then execve(2) of its first tool; its PID
 * in the file "pid" of container NAME. */
static pid_t spawn_chain(const char *name, char *const chain[], int stdin_fd, int tty_slave)
{
	char *no_variable[] = { NULL }, *pidfile;
	struct strv envp = { 0 };
	pid_t parent = getpid(), pid;

	/* Built here: the child of vfork(2) may not allocate. */
	chain_environment(&envp);
	vlog("vfork() + execve(\"%s\") of the chain", chain[0]);
	pid = vfork();  /* speed: see bench/README.md, run */
	if (pid == 0)
		start_chain(chain, envp.v ? envp.v : no_variable, parent, stdin_fd, tty_slave);
	strv_free(&envp);
	if (pid < 0)
		die("vfork");
	if (write_pid_file((pidfile = state_file(name, "pid")), pid) < 0)
		warn_errno("write %s", pidfile);
	free(pidfile);
	return pid;
}

/* 7. After the chain: unmount the root, keep the exit status (--rm: remove
 * all); with -d, undo what its tools, told --exec, left (containers.c).
 * STARTED: COMMAND ran (else a step never reached has nothing to delete). */
static void finish(const struct run_options *o, int code, int started)
{
	container_finish(&life, o->rm, o->detach, code, !started && !md_verbose);
}

/* 6 and 7: start the chain and wait for it, and again while --restart
 * wants it.  MASTER, SLAVE: the pty of -t, or with -d the pipe of its
 * output (or -1).  REPORT (-d): where to say that COMMAND runs (a byte),
 * or that the chain failed (its status, then its log). */
static int supervise_chain(const char *name, const struct run_options *o,
			   char *const chain[], int master, int slave, int report)
{
	char *supfile = state_file(name, "supervisor");
	int stdin_fd = -1, code, wstatus, started = 1, again;
	unsigned restarts = 0;
	pid_t pid;

	/* Without -i the container reads nothing, as with docker. */
	if ((!o->interactive || o->detach) &&
	    (stdin_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		die("open /dev/null");
	if (write_pid_file(supfile, getpid()) < 0)
		die("write %s", supfile);
	free(supfile);
	if (block_forwarded_signals() < 0 || (master >= 0 && sigchld_mask(SIG_BLOCK) < 0))
		die("sigprocmask");
	pid = spawn_chain(name, chain, stdin_fd, slave);
	if (slave >= 0)
		close(slave);
	if (stdin_fd >= 0)
		close(stdin_fd);
	keep_state = 1;  /* from here on, the container exists */
	life_test_point();

	if (report >= 0 && (started = wait_command_started(pid, &wstatus)) < 0)
		die("waitpid");
	if (!started) {         /* -d: the chain ended before COMMAND ran, or as it ran */
		code = exit_code_of(wstatus);
		if (master >= 0)
			pty_drain(master, &output);
	} else {
		if (report >= 0)
			detach_report_started(report);
		/* The container's output, to the terminal or the log (-d). */
		if (master >= 0)
			code = pty_relay(master, pid, o->interactive && !o->detach ? STDIN_FILENO : -1,
					 &output);
		else
			code = supervise(pid);
	}
	if (detach_log_messages(&output) < 0)  /* -d: our own messages, to the log */
		die("dup2 %s", output.path);
	if (code < 0)
		die("waitpid");
	/* -d, a failed start: record it (the user may remove the container once
	 * run -d returns), then report its status and its log, the error to
	 * show.  But if COMMAND ran and ended already, --restart may restart it. */
	if (!started && (code >= EXIT_TOOL_FAILED || !o->restart)) {
		finish(o, code, 0);
		detach_report_ended(report, code, name);
		goto out;
	}
	if (!started)
		detach_report_ended(report, code, name);
	/* --restart (restart.h): while the policy wants the chain again after
	 * CODE (restart_next undoes its steps as finish() does, waits, records
	 * them again), start it again, output to the same pipe (detach.c). */
	while ((again = restart_next(&life, o->restart, code, &restarts)) > 0) {
		if ((stdin_fd = detach_restart_stdio()) < 0)
			die("dup2, sigprocmask: the output and signals of %s", name);
		pid = spawn_chain(name, chain, stdin_fd, -1);
		close(stdin_fd);
		if (detach_log_messages(&output) < 0)
			die("dup2 %s", output.path);
		if ((code = pty_relay(master, pid, -1, &output)) < 0)
			die("waitpid");
	}
	if (again < 0)
		die("write %s/%s/state", md_run_dir(), name);
	finish(o, code, 1);
out:
	if (master >= 0)
		close(master);
	return code;
}

/* -d: a supervisor in a session of its own, the one process that waits
 * per detached container (speed: see bench/README.md, run); it copies the
 * chain's output into the log, rotated (detach.c).  Once the container
 * has started, print its name and leave. */
static int run_detached(const char *name, const struct run_options *o, char *const chain[],
			int master, int slave)
{
	int sync[2], code, started;
	pid_t pid;

	if (pipe2(sync, O_CLOEXEC) < 0)
		die("pipe");
	fflush(stdout);
	if ((pid = fork()) < 0)
		die("fork");
	if (pid == 0) {
		close(sync[0]);
		if (detach_supervisor(name, o, &output, &master, slave >= 0) < 0)
			die("the supervisor of %s: setsid, its log", name);
		exit(supervise_chain(name, o, chain, master, slave, sync[1]));
	}
	close(sync[1]);
	if (master >= 0) {
		close(master);
		close(slave);
	}
	keep_state = 1;  /* the supervisor owns it now */
	/* Started, or ran and already ended by itself: as docker, print the
	 * name; only a failed start is an error (its log, on stderr, says why). */
	if ((started = detach_wait_report(sync[0], &code)) < 0)
		die_x("%s: the supervisor died before the container started", name);
	if (started)
		printf("%s\n", name);
	return started ? 0 : code;
}
