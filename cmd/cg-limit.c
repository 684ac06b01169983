/*
 * cg-limit - run a command inside a control group (cgroup) that limits its
 * memory, CPU time, CPUs and number of processes.
 *
 * A cgroup is a directory in a special filesystem (/sys/fs/cgroup).  The
 * processes whose PIDs are written in its cgroup.procs file are accounted
 * and limited together by the kernel's controllers (memory, cpu, cpuset,
 * pids...): writing a number in one of its files sets a limit, reading
 * another gives the usage.  A child starts in its parent's cgroup, so a
 * command and everything it forks stay inside, and limits nest: a cgroup
 * can never use more than its parent allows.
 *
 *   /sys/fs/cgroup/                     cgroup v2: one tree
 *   |-- cgroup.subtree_control          "+memory +cpu +pids": what children get
 *   `-- user.slice/.../                 the caller's own cgroup (/proc/self/cgroup)
 *       `-- minidock/                   cg-limit's group
 *           `-- web/                    mkdir: the cgroup of cg-limit --name web
 *               |-- memory.max          write "67108864" (--memory 64M)
 *               |-- cpu.max             write "50000 100000" (--cpus 0.5)
 *               |-- pids.max            write "64" (--pids 64)
 *               |-- cgroup.procs        write a PID: that process is inside
 *               `-- memory.events       read "oom_kill 1" after COMMAND
 *
 * The kernel offers two versions of this interface:
 *   - cgroup v2 (unified), above: a single tree.  A parent lists in
 *     cgroup.subtree_control the controllers its children get, and a
 *     cgroup that holds processes cannot give controllers to children (the
 *     "no internal processes" rule; the root cgroup is the exception);
 *   - cgroup v1 (legacy): one tree per controller, each mounted on its own
 *     directory (/sys/fs/cgroup/memory, /sys/fs/cgroup/cpu, ...); one
 *     "cgroup" is one directory of the same name in each of them, and the
 *     files have other names (memory.limit_in_bytes, cpu.cfs_quota_us).
 * Some hosts are "hybrid": v1 controllers, plus a cgroup2 mount with no
 * controller (/sys/fs/cgroup/unified); cg-limit then uses v1.
 *
 * The steps, in the order main() runs them:
 *   1. find_cgroup: where the cgroup goes, below our own cgroup;
 *   2. make_cgroup: mkdir it, in each hierarchy;
 *   3. write_limits: memory.max, cpu.max, pids.max... (v1: their v1 names);
 *   4. start_command: a child writes itself into cgroup.procs (v1: tasks),
 *      then execs COMMAND, limited from its first instruction;
 *   5. supervise(): forward signals to COMMAND, wait for it;
 *   6. report_fate: OOM kills and refused forks, from memory/pids.events;
 *   7. remove_cgroup: kill what is left, rmdir.
 * --exec stops after step 3: this process joins the cgroup and becomes
 * COMMAND (join_and_exec), and whoever ran it calls --delete later (steps
 * 6 and 7).  --stats prints a cgroup's usage; --info the host's layout.
 *
 * Read cgroups(7), and in the kernel sources Documentation/admin-guide/
 * cgroup-v2.rst and cgroup-v1/ (memory.rst, cpusets.rst, pids.rst).  The
 * layout is found in common/cgroup.c, the options checked in
 * cgroup-options.c, --stats and --info in cgroup-stats.c, the v2 devices
 * filter is cgroup-bpf.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-bpf.h"
#include "cgroup-options.h"
#include "cgroup-stats.h"
#include "cgroup.h"
#include "minidock.h"

static void find_cgroup(struct cg_layout *L, const struct cg_request *r);
static void check_controllers(const struct cg_layout *L, const struct cg_request *r);
static void make_cgroup(struct cg_layout *L, const char *name);
static void write_limits(const struct cg_layout *L, const struct cg_request *r);
static pid_t start_command(const struct cg_layout *L, char **command);
static void join_and_exec(struct cg_layout *L, const struct cg_request *r)
	__attribute__((noreturn));
static void report_fate(const struct cg_layout *L, const char *name, uint64_t memory,
			unsigned long long pids, int code);
static void remove_cgroup(struct cg_layout *L);
static void delete_cgroup(struct cg_layout *L, const char *name);

int main(int argc, char **argv)
{
	struct cg_request r;
	struct cg_layout L;
	char error[512], *generated = NULL;
	int code = 0;

	md_init("cg-limit");
	if (cgroup_options_parse(argc, argv, &r, error, sizeof(error)) < 0)
		die_x("%s", error);
	if (r.mode == CG_DONE)          /* --help, --version */
		return 0;
	find_cgroup(&L, &r);
	if (r.mode == CG_CHAIN && !r.name)
		r.name = generated = cgroup_unused_name(&L);     /* cg-PID */

	switch (r.mode) {
	case CG_INFO:
		cgroup_print_info(&L);
		break;
	case CG_STATS:
		if (!cgroup_exists(&L))
			die_x("%s: no such cgroup (looked in %s)", r.name, L.h[0].parent);
		cgroup_print_stats(&L, r.name, r.json);
		break;
	case CG_DELETE:
		delete_cgroup(&L, r.name);
		break;
	default:        /* CG_CHAIN: the steps, in order */
		check_controllers(&L, &r);
		/* From here a signal must not kill us between mkdir and rmdir: it
		 * waits, and supervise() passes it on to COMMAND. */
		if (block_forwarded_signals() < 0)
			die("sigprocmask");
		make_cgroup(&L, r.name);
		write_limits(&L, &r);
		if (r.exec)
			join_and_exec(&L, &r);
		code = supervise(start_command(&L, r.command));
		if (code < 0)
			die("waitpid");
		report_fate(&L, r.name, r.memory, r.pids, code);
		remove_cgroup(&L);
	}
	cgroup_free_layout(&L);
	free(generated);
	return pass_on(code);
}

/*
 * Step 1: where the cgroup goes.  common/cgroup.c reads the cgroup mounts
 * in /proc/self/mountinfo and our own cgroup in each from
 * /proc/self/cgroup: the new one is OWN/minidock/NAME (or in --parent).
 */
static void find_cgroup(struct cg_layout *L, const struct cg_request *r)
{
	char skip[32] = "";

	/* speed: v1 cpuset, devices only when asked; see bench/README.md, cg-limit */
	if (r->mode == CG_CHAIN)
		snprintf(skip, sizeof(skip), "%s %s", r->cpuset ? "" : "cpuset",
			 r->devices ? "" : "devices");
	if (cgroup_find_layout(L, r->parent, skip) < 0)
		die_x("%s", L->error);
	if (r->name)
		cgroup_set_name(L, r->name);
}

/* OPTION was given: the controller that applies it must be usable here. */
static void need_controller(const struct cg_layout *L, int given, const char *controller,
			    const char *option)
{
	if (given && !cgroup_controller_usable(L, controller))
		die_x("%s: the %s controller is not available (see cg-limit --info)",
		      option, controller);
}

/* Before creating anything: can the host apply what was asked? */
static void check_controllers(const struct cg_layout *L, const struct cg_request *r)
{
	need_controller(L, r->memory > 0, "memory", "--memory");
	need_controller(L, r->cpu_quota > 0, "cpu", "--cpus");
	need_controller(L, r->cpuset != NULL, "cpuset", "--cpuset");
	need_controller(L, r->pids > 0, "pids", "--pids");
	/* v2 needs no controller for devices: BPF programs attach to any cgroup */
	need_controller(L, r->devices && L->version == 1, "devices", "--devices");
	if (L->busy_own)
		warn_x("your cgroup %s holds processes and cannot give controllers to a "
		       "child (cgroup v2): using %s instead (see cg-limit --info)",
		       L->busy_own, L->h[0].parent);
}

/* The cgroup being made, removed by exit() if a later step dies. */
static struct cg_layout *created;
static pid_t creator;

static void remove_at_exit(void)
{
	if (created && getpid() == creator)
		remove_cgroup(created);
}

/*
 * Step 2: mkdir PARENT/NAME in each hierarchy.  Its parent first gets
 * ready (cgroup_prepare_parent: mkdir "minidock"; on v2 write "+memory
 * +cpu..." into the cgroup.subtree_control of each ancestor).
 */
static void make_cgroup(struct cg_layout *L, const char *name)
{
	if (cgroup_exists(L))
		die_x("%s: a cgroup of that name exists (in %s); remove it with: "
		      "cg-limit --name %s --delete", name, L->h[0].parent, name);
	created = L;
	creator = getpid();
	if (atexit(remove_at_exit) != 0)
		die_x("atexit failed");

	for (size_t i = 0; i < L->n; i++) {
		struct cg_hierarchy *h = &L->h[i];

		/* Another cg-limit may remove an empty "minidock" group
		 * between our two mkdirs: try again. */
		for (int tries = 0; ; tries++) {
			if (cgroup_prepare_parent(L, h) < 0)
				die_x("%s", L->error);
			if (mkdir(h->dir, 0755) == 0)
				break;
			if (errno != ENOENT || tries == 3)
				die("mkdir %s", h->dir);
		}
		vlog("mkdir %s", h->dir);
		/* a v1 cpuset starts without CPUs: copy its parent's */
		if (cgroup_prepare_dir(L, h) < 0)
			die_x("%s", L->error);
		/* speed: "tasks" on v1, see bench/README.md, cg-limit */
		h->join_file = xasprintf("%s/%s", h->dir, L->version == 1 ? "tasks" : "cgroup.procs");
	}
}

/* Write FORMAT... into FILE of the cgroup, in CONTROLLER's hierarchy. */
static void __attribute__((format(printf, 4, 5)))
write_limit(const struct cg_layout *L, const char *controller, const char *file,
	    const char *format, ...)
{
	char *path = cgroup_file(L, controller, file), *value;
	va_list ap;
	int n;

	va_start(ap, format);
	n = vasprintf(&value, format, ap);
	va_end(ap);
	if (n < 0)
		die("vasprintf");
	if (!path)
		die_x("%s: no %s hierarchy (see cg-limit --info)", file, controller);
	vlog("write %s = %s", file, value);
	if (write_file(path, value) < 0)
		die("write %s = %s", path, value);
	free(value);
	free(path);
}

/*
 * Step 3: the limits, each in its file, as cgroup-v2.rst (v1:
 * cgroup-v1/memory.rst, scheduler/sched-bwc.rst) names it.  v1 wants the
 * memory limit before memory+swap, and the CFS period before the quota.
 */
static void write_limits(const struct cg_layout *L, const struct cg_request *r)
{
	int v2 = L->version == 2;

	if (r->memory)
		write_limit(L, "memory", v2 ? "memory.max" : "memory.limit_in_bytes",
			    "%llu", (unsigned long long)r->memory);
	/* docker's --memory-swap is memory plus swap, as v1 counts it;
	 * v2 limits the swap alone. */
	if (r->memory_swap && v2)
		write_limit(L, "memory", "memory.swap.max", "%llu",
			    (unsigned long long)(r->memory_swap - r->memory));
	else if (r->memory_swap)
		write_limit(L, "memory", "memory.memsw.limit_in_bytes", "%llu",
			    (unsigned long long)r->memory_swap);
	/* CPU time: QUOTA microseconds every PERIOD */
	if (r->cpu_quota && v2) {
		write_limit(L, "cpu", "cpu.max", "%llu %d",
			    (unsigned long long)r->cpu_quota, CPU_PERIOD_US);
	} else if (r->cpu_quota) {
		write_limit(L, "cpu", "cpu.cfs_period_us", "%d", CPU_PERIOD_US);
		write_limit(L, "cpu", "cpu.cfs_quota_us", "%llu", (unsigned long long)r->cpu_quota);
	}
	if (r->cpuset)
		write_limit(L, "cpuset", "cpuset.cpus", "%s", r->cpuset);
	if (r->pids)
		write_limit(L, "pids", "pids.max", "%llu", r->pids);
	/* --devices container: v1 has a list to write; v2 runs a BPF program
	 * at each open(2) of a device (common/cgroup-bpf.c) */
	if (r->devices && v2) {
		char error[4200];

		if (cgroup_bpf_allow_devices(L->h[0].dir, cgroup_container_devices,
					     error, sizeof(error)) < 0)
			die_x("%s", error);
	} else if (r->devices) {
		write_limit(L, "devices", "devices.deny", "a");
		for (const char *const *d = cgroup_container_devices; *d; d++)
			write_limit(L, "devices", "devices.allow", "%s", *d);
	}
}

/*
 * Move this process into the cgroup, in every hierarchy: write "0" (the
 * writer itself, cgroups(7)) to each join file, DIR/cgroup.procs (v1:
 * DIR/tasks).  System calls only: it also runs in the child of vfork(2).
 * -1 with errno, *FAILED the hierarchy that refused.
 */
static int join_cgroup(const struct cg_layout *L, size_t *failed)
{
	for (size_t i = 0; i < L->n; i++) {
		int fd = open(L->h[i].join_file, O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, "0", 1) != 1) {
			int e = errno;

			if (fd >= 0)
				close(fd);
			errno = e;
			*failed = i;
			return -1;
		}
		close(fd);
	}
	return 0;
}

/*
 * Step 4: the child joins the cgroup, then becomes COMMAND, limited from
 * its first instruction.  (v2 could also start it inside at once, clone3(2)
 * with CLONE_INTO_CGROUP; writing cgroup.procs works on both versions.)
 */
static pid_t start_command(const struct cg_layout *L, char **command)
{
	pid_t pid;

	fflush(NULL);
	for (size_t i = 0; i < L->n; i++)
		vlog("write %s = 0", L->h[i].join_file);
	vlog("vfork(); execvp(\"%s\")", command[0]);
	pid = vfork();          /* speed: see bench/README.md, cg-limit */
	if (pid < 0)
		die("vfork");
	if (pid == 0) {         /* our memory, borrowed until execve(2) */
		size_t failed;

		unblock_forwarded_signals();
		if (join_cgroup(L, &failed) < 0) {
			child_error(L->h[failed].join_file, errno);
			_exit(EXIT_TOOL_FAILED);  /* we remove the cgroup */
		}
		exec_command(command);
	}
	return pid;
}

/*
 * --exec, instead of step 4: like cgcreate(1) then cgexec(1), this very
 * process joins the cgroup and becomes COMMAND: no child, nothing waits,
 * and the cgroup outlives COMMAND.  Whoever ran us removes it with
 * --delete (run -d's supervisor does, as containerd's shim calls `runc
 * delete`).  A refused join removes the cgroup and exits 125.
 */
static void join_and_exec(struct cg_layout *L, const struct cg_request *r)
{
	size_t failed;

	for (size_t i = 0; i < L->n; i++)
		vlog("write %s = 0", L->h[i].join_file);
	if (join_cgroup(L, &failed) < 0) {
		int e = errno;

		/* Leave the hierarchies joined already: removing the cgroup
		 * kills what is inside. */
		if (cgroup_move_back(L, failed) < 0) {
			created = NULL;
			die_x("%s (cgroup %s is left: cg-limit --name %s --delete)",
			      L->error, r->name, r->name);
		}
		errno = e;
		die("%s", L->h[failed].join_file);      /* exit() removes it */
	}
	created = NULL;         /* no longer ours to remove on the way out */
	vlog("execve(\"%s\") in place of cg-limit: remove the cgroup afterwards "
	     "with cg-limit --name %s --delete", r->command[0], r->name);
	if (unblock_forwarded_signals() < 0)
		die("sigprocmask");
	exec_command(r->command);
}

/*
 * Step 6: after COMMAND, tell what the limits did to it.  The kernel
 * counts the OOM kills in the cgroup (memory.events; v1:
 * memory.oom_control), and the forks pids.max refused (pids.events).
 */
static void report_fate(const struct cg_layout *L, const char *name, uint64_t memory,
			unsigned long long pids, int code)
{
	int v2 = L->version == 2;
	uint64_t n;

	if (memory && cgroup_read_value(L, "memory", v2 ? "memory.events" : "memory.oom_control",
					"oom_kill", &n) == 0 && n > 0) {
		char *limit = cgroup_size_text(memory);

		if (code == EXIT_SIGNAL_BASE + SIGKILL)
			warn_x("%s: killed by the OOM killer (memory limit %s)", name, limit);
		else
			warn_x("%s: the OOM killer killed %llu process%s (memory limit %s)",
			       name, (unsigned long long)n, n > 1 ? "es" : "", limit);
		free(limit);
	}
	if (pids && cgroup_read_value(L, "pids", "pids.events", "max", &n) == 0 && n > 0)
		warn_x("%s: the pids limit (%llu) refused %llu fork%s", name,
		       pids, (unsigned long long)n, n > 1 ? "s" : "");
}

/*
 * Step 7: kill what COMMAND left behind (cgroup.kill on v2, else kill(2)
 * each PID of cgroup.procs), then rmdir the cgroup and, if empty, its
 * "minidock" group.  Only warns: it also runs from exit().
 */
static void remove_cgroup(struct cg_layout *L)
{
	created = NULL;
	if (cgroup_kill_all(L) < 0)
		warn_x("%s", L->error);
	for (size_t i = 0; i < L->n; i++) {
		const char *dir = L->h[i].dir;
		int tries = 0, ret;

		/* The last processes may still be exiting: EBUSY for a moment. */
		while ((ret = rmdir(dir)) < 0 && errno == EBUSY && tries++ < 200)
			sleep_ms(10);
		if (ret == 0)
			vlog("rmdir %s", dir);
		else if (errno != ENOENT)
			warn_errno("rmdir %s", dir);
		/* "minidock" is shared: whoever leaves it empty removes it. */
		if ((L->default_parent || L->h[i].made_parent) && rmdir(L->h[i].parent) == 0)
			vlog("rmdir %s", L->h[i].parent);
	}
}

/* --delete, of what --exec made (or a chain killed by SIGKILL left): steps
 * 6 and 7, the limits read back from the cgroup's files. */
static void delete_cgroup(struct cg_layout *L, const char *name)
{
	int v2 = L->version == 2;
	uint64_t memory, pids;

	if (!cgroup_exists(L))
		die_x("%s: no such cgroup (looked in %s)", name, L->h[0].parent);
	if (cgroup_read_value(L, "memory", v2 ? "memory.max" : "memory.limit_in_bytes",
			      NULL, &memory) < 0 || memory == CG_UNLIMITED)
		memory = 0;
	if (cgroup_read_value(L, "pids", "pids.max", NULL, &pids) < 0 || pids == CG_UNLIMITED)
		pids = 0;
	report_fate(L, name, memory, pids, 0);
	remove_cgroup(L);
}
