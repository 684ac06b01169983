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
 * The kernel offers two versions of this interface:
 *   - cgroup v1 (legacy): one hierarchy per controller, each mounted on its
 *     own directory (/sys/fs/cgroup/memory, /sys/fs/cgroup/cpu, ...); one
 *     "cgroup" is one directory of the same name in each of them;
 *   - cgroup v2 (unified): a single hierarchy.  A parent lists in
 *     cgroup.subtree_control the controllers its children get, and a cgroup
 *     that holds processes cannot give controllers to children (the "no
 *     internal processes" rule; the root cgroup is the exception).
 * Some hosts are "hybrid": v1 controllers, plus a cgroup2 mount with no
 * controller (/sys/fs/cgroup/unified).  The two versions differ mostly by
 * file names, so cg-limit keeps them in one table (knobs[] below) and one
 * copy of the logic.
 *
 * What cg-limit does, with the files it writes:
 *   1. mkdir the cgroup below the caller's own (from /proc/self/cgroup), in
 *      a "minidock" group (v2: first write "+memory +cpu..." in the
 *      cgroup.subtree_control of the parents);
 *   2. write the limits: memory.max / memory.limit_in_bytes, memory.swap.max
 *      / memory.memsw.limit_in_bytes, cpu.max / cpu.cfs_quota_us, cpuset.cpus,
 *      pids.max; with --devices, v1's devices.deny and devices.allow, or on
 *      v2 a BPF_PROG_TYPE_CGROUP_DEVICE program attached with bpf(2);
 *   3. fork: the child writes its own PID into cgroup.procs, then execs
 *      COMMAND, so COMMAND is limited from its first instruction (v2 can
 *      also start a child directly inside: clone3(2) CLONE_INTO_CGROUP;
 *      writing cgroup.procs works on both versions);
 *   4. forward signals, wait, then read memory.events / memory.oom_control
 *      and pids.events to tell about OOM kills and refused forks;
 *   5. kill what is left (cgroup.kill on v2), rmdir the cgroup.
 *
 * --stats prints a running cgroup's usage; --delete removes what a chain
 * killed by SIGKILL (which no program can catch) could not.  --exec stops
 * after step 2: this process joins the cgroup and becomes COMMAND, and
 * whoever ran it calls --delete later (steps 4 and 5).
 *
 * Read cgroups(7), and in the kernel sources
 * Documentation/admin-guide/cgroup-v2.rst and
 * Documentation/admin-guide/cgroup-v1/ (memory.rst, cpusets.rst, pids.rst).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "minidock.h"

#define CPU_PERIOD_US 100000            /* the kernel's default CFS period: 100 ms */
#define MIN_MEMORY (6ULL << 20)         /* docker's minimum too */
#define MAX_CPU 8191                    /* sanity bound for --cpuset */
#define MAX_HIERARCHIES 16
#define UNLIMITED UINT64_MAX
#define DEFAULT_GROUP "minidock"

/*
 * The kernel files cg-limit uses, in cgroup v2 and in cgroup v1.  A file
 * with a key is a "key value" list (cpu.stat, memory.events...); without,
 * it holds one value.  Limits are written in this order: v1 wants the
 * memory limit before memory+swap, and the CFS period before the quota.
 */
enum knob {
	MEM_MAX, MEM_SWAP_MAX, CPU_PERIOD, CPU_QUOTA, CPUSET_CPUS, PIDS_MAX,
	MEM_CURRENT, MEM_PEAK, MEM_OOM_KILLS, CPU_USAGE, CPU_THROTTLED,
	PIDS_CURRENT, PIDS_REFUSED, DEVICES_DENY, DEVICES_ALLOW, N_KNOBS
};

struct cg_file {
	const char *controller;
	const char *file;       /* NULL: this version has no such file */
	const char *key;
};

static const struct { struct cg_file v2, v1; } knobs[N_KNOBS] = {
	/*                 cgroup v2                                       cgroup v1 */
	[MEM_MAX]       = {{"memory",  "memory.max", NULL},              {"memory",  "memory.limit_in_bytes", NULL}},
	[MEM_SWAP_MAX]  = {{"memory",  "memory.swap.max", NULL},         {"memory",  "memory.memsw.limit_in_bytes", NULL}},
	[CPU_PERIOD]    = {{"cpu",     NULL /* in cpu.max */, NULL},     {"cpu",     "cpu.cfs_period_us", NULL}},
	[CPU_QUOTA]     = {{"cpu",     "cpu.max", NULL},                 {"cpu",     "cpu.cfs_quota_us", NULL}},
	[CPUSET_CPUS]   = {{"cpuset",  "cpuset.cpus", NULL},             {"cpuset",  "cpuset.cpus", NULL}},
	[PIDS_MAX]      = {{"pids",    "pids.max", NULL},                {"pids",    "pids.max", NULL}},
	[MEM_CURRENT]   = {{"memory",  "memory.current", NULL},          {"memory",  "memory.usage_in_bytes", NULL}},
	[MEM_PEAK]      = {{"memory",  "memory.peak", NULL},             {"memory",  "memory.max_usage_in_bytes", NULL}},
	[MEM_OOM_KILLS] = {{"memory",  "memory.events", "oom_kill"},     {"memory",  "memory.oom_control", "oom_kill"}},
	[CPU_USAGE]     = {{"cpu",     "cpu.stat", "usage_usec"},        {"cpuacct", "cpuacct.usage" /* ns */, NULL}},
	[CPU_THROTTLED] = {{"cpu",     "cpu.stat", "throttled_usec"},    {"cpu",     "cpu.stat", "throttled_time" /* ns */}},
	[PIDS_CURRENT]  = {{"pids",    "pids.current", NULL},            {"pids",    "pids.current", NULL}},
	[PIDS_REFUSED]  = {{"pids",    "pids.events", "max"},            {"pids",    "pids.events", "max"}},
	[DEVICES_DENY]  = {{"devices", NULL /* a BPF program */, NULL},  {"devices", "devices.deny", NULL}},
	[DEVICES_ALLOW] = {{"devices", NULL, NULL},                      {"devices", "devices.allow", NULL}},
};

/*
 * --devices container: docker's default list (runc's AllowedDevices).
 * Everything else is denied; "m" (mknod) stays allowed for every device
 * because creating a node is harmless when opening it is refused.
 */
static const char *const container_devices[] = {
	"c *:* m", "b *:* m",
	"c 1:3 rwm",    /* /dev/null */
	"c 1:5 rwm",    /* /dev/zero */
	"c 1:7 rwm",    /* /dev/full */
	"c 1:8 rwm",    /* /dev/random */
	"c 1:9 rwm",    /* /dev/urandom */
	"c 5:0 rwm",    /* /dev/tty */
	"c 5:1 rwm",    /* /dev/console */
	"c 5:2 rwm",    /* /dev/ptmx */
	"c 136:* rwm",  /* /dev/pts/N */
};

/* One hierarchy the cgroup is made in: one for v2, one per mount for v1. */
struct hierarchy {
	char *mount;        /* /sys/fs/cgroup (v2), /sys/fs/cgroup/memory (v1) */
	char *controllers;  /* v1: the ones cg-limit uses there, "cpu,cpuacct" */
	char *own;          /* the caller's cgroup, from /proc/self/cgroup */
	char *parent;       /* where NAME goes: MOUNT/OWN/minidock by default */
	char *dir;          /* PARENT/NAME */
	char *join_file;    /* DIR/tasks (v1) or DIR/cgroup.procs (v2) */
	int made_parent;    /* PARENT did not exist: remove it too */
};

struct layout {
	int version;                    /* the interface used: 1 or 2 */
	char *unified;                  /* the cgroup2 mount point, if any */
	char *v1_mounts;                /* "memory cpu ..." mounted as v1, for --info */
	char *busy_own;                 /* v2: own cgroup that holds processes */
	int default_parent;             /* PARENT is our "minidock" group */
	struct hierarchy h[MAX_HIERARCHIES];
	size_t n;
};

enum mode { CHAIN, STATS, DELETE, INFO };

struct request {
	enum mode mode;
	const char *name;
	const char *parent;             /* --parent: /from/the/root or from/own/cgroup */
	uint64_t memory, memory_swap;   /* bytes, 0: no limit */
	uint64_t cpu_quota;             /* microseconds per CPU_PERIOD_US, 0: none */
	const char *cpus, *cpuset;
	unsigned long long pids;        /* 0: no limit */
	int devices, json;
	int exec;                       /* --exec: become COMMAND, no waiting */
	char **command;
};

/* ---------------------------------------------------------------- */
/* Checking the user's values before anything is created.            */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: cg-limit [--name NAME] [--memory SIZE] [--memory-swap SIZE]\n"
		"                [--cpus N.N] [--cpuset LIST] [--pids N] [--parent PATH]\n"
		"                [--devices container] [--exec] [--verbose] -- COMMAND [ARG...]\n"
		"       cg-limit --name NAME [--parent PATH] --stats [--json]\n"
		"       cg-limit --name NAME [--parent PATH] --delete\n"
		"       cg-limit --info\n"
		"\n"
		"Run COMMAND in a new cgroup with limits, then remove the cgroup.\n"
		"\n"
		"  -n, --name NAME          the cgroup's name (default: cg-PID)\n"
		"  -m, --memory SIZE        memory limit: bytes, or with k, m, g (64M)\n"
		"      --memory-swap SIZE   memory plus swap limit (as docker; needs --memory)\n"
		"  -c, --cpus N.N           CPU time, in CPUs: 0.5 is half of one CPU\n"
		"      --cpuset LIST        the CPUs COMMAND may run on: 0-1,3\n"
		"  -p, --pids N             at most N processes and threads\n"
		"      --parent PATH        create the cgroup in PATH instead of\n"
		"                           OWN_CGROUP/minidock: /PATH from the root,\n"
		"                           PATH from the caller's own cgroup\n"
		"      --devices container  allow only docker's default devices\n"
		"      --exec               join the cgroup and become COMMAND (execve(2),\n"
		"                           as cgexec): no waiting, nothing removed when it\n"
		"                           ends; needs --name, remove it with --delete\n"
		"      --stats [--json]     print the usage of cgroup NAME\n"
		"      --delete             kill what is left in cgroup NAME and remove it\n"
		"      --info               the host's cgroup layout and where cgroups go\n"
		"  -v, --verbose            print each write to a cgroup file\n"
		"  -h, --help               this help\n"
		"  -V, --version            print the version\n"
		"\n"
		"Example:\n"
		"  cg-limit --name web --memory 64M --cpus 0.5 --pids 64 -- sh -c 'echo hi'\n"
		"\n"
		"Exit status: COMMAND's, 128+N if it died of signal N (137: killed, maybe\n"
		"by the OOM killer), 125 if cg-limit failed.\n");
}

/* "0.5" -> 50000: microseconds of CPU time per CPU_PERIOD_US. */
static int parse_cpus(const char *s, uint64_t *quota)
{
	uint64_t whole = 0, frac = 0;
	int digits = 0, any = 0;

	for (; isdigit((unsigned char)*s); s++, any = 1) {
		whole = whole * 10 + (uint64_t)(*s - '0');
		if (whole > 100000)
			return -1;
	}
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++, any = 1) {
			if (digits < 5) {  /* beyond 10 us, precision is meaningless */
				frac = frac * 10 + (uint64_t)(*s - '0');
				digits++;
			}
		}
	}
	if (!any || *s)
		return -1;
	for (; digits < 5; digits++)
		frac *= 10;
	*quota = whole * CPU_PERIOD_US + frac;
	return 0;
}

struct cpu_range { unsigned lo, hi; };

/* "0-1,3" -> ranges.  -1 on bad syntax or a CPU above MAX_CPU. */
static int parse_cpulist(const char *s, struct cpu_range **ranges, size_t *n)
{
	*ranges = NULL;
	*n = 0;
	for (;;) {
		unsigned long long lo, hi;
		char *end;

		if (!isdigit((unsigned char)*s))
			goto bad;
		lo = hi = strtoull(s, &end, 10);
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				goto bad;
			hi = strtoull(end + 1, &end, 10);
		}
		if (lo > hi || hi > MAX_CPU)
			goto bad;
		*ranges = xrealloc(*ranges, (*n + 1) * sizeof(**ranges));
		(*ranges)[(*n)++] = (struct cpu_range){ (unsigned)lo, (unsigned)hi };
		s = end;
		if (*s == '\0' || (*s == '\n' && s[1] == '\0'))
			return 0;
		if (*s++ != ',')
			goto bad;
	}
bad:
	free(*ranges);
	*ranges = NULL;
	return -1;
}

static int cpu_in(unsigned cpu, const struct cpu_range *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (cpu >= r[i].lo && cpu <= r[i].hi)
			return 1;
	return 0;
}

/* Every CPU of --cpuset must be online (/sys/devices/system/cpu/online). */
static void check_cpuset(const char *list)
{
	struct cpu_range *want, *online;
	size_t nwant, nonline;
	char *text;

	if (parse_cpulist(list, &want, &nwant) < 0)
		die_x("--cpuset %s: not a CPU list (example: 0-1,3)", list);
	text = read_file("/sys/devices/system/cpu/online", NULL);
	if (!text)
		die("read /sys/devices/system/cpu/online");
	if (parse_cpulist(text, &online, &nonline) < 0)
		die_x("/sys/devices/system/cpu/online: unexpected content");
	for (size_t i = 0; i < nwant; i++)
		for (unsigned cpu = want[i].lo; cpu <= want[i].hi; cpu++)
			if (!cpu_in(cpu, online, nonline))
				die_x("--cpuset %s: CPU %u does not exist (online CPUs: %s)",
				      list, cpu, strtok(text, "\n"));
	free(want);
	free(online);
	free(text);
}

static uint64_t parse_size_option(const char *option, const char *arg)
{
	uint64_t v;

	if (parse_size(arg, &v) < 0)
		die_x("%s %s: not a size (bytes, or a number with k, m or g: 64M)",
		      option, arg);
	if (v < MIN_MEMORY)
		die_x("%s %s: the minimum is 6M", option, arg);
	return v;
}

static void check_cpus(const char *arg, uint64_t *quota)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (parse_cpus(arg, quota) < 0)
		die_x("--cpus %s: not a number of CPUs (example: 0.5)", arg);
	if (ncpu < 1)
		ncpu = 1;
	/* The kernel refuses a quota below 1 ms. */
	if (*quota < CPU_PERIOD_US / 100 || *quota > (uint64_t)ncpu * CPU_PERIOD_US)
		die_x("--cpus %s: the range is 0.01 to %ld.00, as there are %ld CPUs",
		      arg, ncpu, ncpu);
}

static void parse_options(int argc, char **argv, struct request *r)
{
	enum { OPT_SWAP = 256, OPT_CPUSET, OPT_PARENT, OPT_DEVICES, OPT_STATS,
	       OPT_JSON, OPT_DELETE, OPT_INFO, OPT_EXEC };
	static const struct option options[] = {
		{ "name",        required_argument, NULL, 'n' },
		{ "memory",      required_argument, NULL, 'm' },
		{ "memory-swap", required_argument, NULL, OPT_SWAP },
		{ "cpus",        required_argument, NULL, 'c' },
		{ "cpuset",      required_argument, NULL, OPT_CPUSET },
		{ "pids",        required_argument, NULL, 'p' },
		{ "parent",      required_argument, NULL, OPT_PARENT },
		{ "devices",     required_argument, NULL, OPT_DEVICES },
		{ "stats",       no_argument,       NULL, OPT_STATS },
		{ "json",        no_argument,       NULL, OPT_JSON },
		{ "delete",      no_argument,       NULL, OPT_DELETE },
		{ "info",        no_argument,       NULL, OPT_INFO },
		{ "exec",        no_argument,       NULL, OPT_EXEC },
		{ "verbose",     no_argument,       NULL, 'v' },
		{ "help",        no_argument,       NULL, 'h' },
		{ "version",     no_argument,       NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *memory = NULL, *swap = NULL;
	int c;

	memset(r, 0, sizeof(*r));
	r->mode = CHAIN;
	opterr = 0;     /* our own message, in the "cg-limit: ..." form */
	while ((c = getopt_long(argc, argv, "+n:m:c:p:vhV", options, NULL)) != -1) {
		switch (c) {
		case 'n': r->name = optarg; break;
		case 'm': memory = optarg; break;
		case OPT_SWAP: swap = optarg; break;
		case 'c': r->cpus = optarg; break;
		case OPT_CPUSET: r->cpuset = optarg; break;
		case 'p':
			if (parse_uint(optarg, 4194304, &r->pids) < 0 || r->pids == 0)
				die_x("--pids %s: not a number of processes from 1 to 4194304",
				      optarg);
			break;
		case OPT_PARENT: r->parent = optarg; break;
		case OPT_DEVICES:
			if (strcmp(optarg, "container") != 0)
				die_x("--devices %s: the only policy is \"container\"", optarg);
			r->devices = 1;
			break;
		case OPT_STATS: r->mode = STATS; break;
		case OPT_JSON: r->json = 1; break;
		case OPT_DELETE: r->mode = DELETE; break;
		case OPT_INFO: r->mode = INFO; break;
		case OPT_EXEC: r->exec = 1; break;
		case 'v': md_verbose = 1; break;
		case 'h': usage(stdout); exit(0);
		case 'V': print_version(); exit(0);
		default:
			die_x("%s: unknown option, or its value is missing "
			      "(try 'cg-limit --help')", argv[optind - 1]);
		}
	}
	r->command = argv + optind;

	if (r->name && !valid_name(r->name))
		die_x("--name %s: use 1 to 64 of A-Z a-z 0-9 _ . - (not first . or -)",
		      r->name);
	if (r->parent && (!r->parent[0] || strstr(r->parent, "..")))
		die_x("--parent %s: give a cgroup path: /from/the/root, or "
		      "from/your/own/cgroup", r->parent);
	if (memory)
		r->memory = parse_size_option("--memory", memory);
	if (swap) {
		r->memory_swap = parse_size_option("--memory-swap", swap);
		if (!memory)
			die_x("--memory-swap needs --memory (it limits memory plus swap)");
		if (r->memory_swap < r->memory)
			die_x("--memory-swap %s: must be at least --memory %s", swap, memory);
	}
	if (r->cpus)
		check_cpus(r->cpus, &r->cpu_quota);
	if (r->cpuset)
		check_cpuset(r->cpuset);
	if (r->json && r->mode != STATS)
		die_x("--json goes with --stats");

	if (r->mode == CHAIN && !r->command[0])
		die_x("no COMMAND given (try 'cg-limit --help')");
	if (r->mode != CHAIN && r->command[0])
		die_x("--stats, --delete and --info take no COMMAND");
	if ((r->mode == STATS || r->mode == DELETE) && !r->name)
		die_x("--stats and --delete need --name");
	if (r->exec && (r->mode != CHAIN || !r->name))
		die_x("--exec needs --name and a COMMAND (then remove the cgroup with --delete)");
}

/* ---------------------------------------------------------------- */
/* Finding the hierarchies: /proc/self/mountinfo, /proc/self/cgroup.  */

/* 1 when WORD is one of the comma-separated words of LIST. */
static int has_word(const char *list, const char *word, char sep)
{
	size_t n = strlen(word);

	for (const char *p = list; p && *p; ) {
		const char *end = strchr(p, sep);
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && strncmp(p, word, n) == 0)
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

static const struct cg_file *file_of(const struct layout *L, enum knob k)
{
	return L->version == 2 ? &knobs[k].v2 : &knobs[k].v1;
}

/* The hierarchy holding CONTROLLER (v2: the only one), or NULL. */
static struct hierarchy *hierarchy_of(const struct layout *L, const char *controller)
{
	for (size_t i = 0; i < L->n; i++)
		if (L->version == 2 || has_word(L->h[i].controllers, controller, ','))
			return (struct hierarchy *)&L->h[i];
	return NULL;
}

/* "A" + "/B" without a double slash when A ends with one. */
static char *path_join(const char *a, const char *b)
{
	size_t n = strlen(a);

	while (n > 1 && a[n - 1] == '/')
		n--;
	while (*b == '/')
		b++;
	if (!*b)
		return xasprintf("%.*s", (int)n, a);
	return xasprintf("%.*s/%s", (int)n, a, b);
}

/* Mounts of type cgroup (v1, one per controller set) and cgroup2. */
static void read_mounts(struct layout *L, char ***v1_mount, char ***v1_opts, size_t *nv1)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		die("open /proc/self/mountinfo");
	*v1_mount = *v1_opts = NULL;
	*nv1 = 0;
	while (getline(&line, &cap, f) > 0) {
		char *mnt = NULL, *type = NULL, *opts = NULL, *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %*s %ms", &mnt) != 1)
			continue;
		if (sscanf(sep, " - %ms %*s %ms", &type, &opts) == 2) {
			if (!strcmp(type, "cgroup2") && !L->unified) {
				L->unified = mnt;
				mnt = NULL;
			} else if (!strcmp(type, "cgroup")) {
				*v1_mount = xrealloc(*v1_mount, (*nv1 + 1) * sizeof(char *));
				*v1_opts = xrealloc(*v1_opts, (*nv1 + 1) * sizeof(char *));
				(*v1_mount)[*nv1] = mnt;
				(*v1_opts)[(*nv1)++] = opts;
				mnt = opts = NULL;
			}
		}
		free(mnt);
		free(type);
		free(opts);
	}
	free(line);
	fclose(f);
}

/* The caller's cgroup in the hierarchy of CONTROLLER ("" for v2), from
 * SELF, the text of /proc/self/cgroup. */
static char *own_cgroup(const char *self, const char *controller)
{
	char *text = xstrdup(self), *line, *save = NULL, *own = NULL;

	/* Lines are "ID:CONTROLLERS:PATH"; v2's is "0::PATH". */
	for (line = strtok_r(text, "\n", &save); line && !own; line = strtok_r(NULL, "\n", &save)) {
		char *ctrls = strchr(line, ':'), *path;

		if (!ctrls || !(path = strchr(++ctrls, ':')))
			continue;
		*path++ = '\0';
		if (*controller ? has_word(ctrls, controller, ',') : !*ctrls)
			own = xstrdup(path);
	}
	free(text);
	if (!own)
		die_x("/proc/self/cgroup: no line for the %s hierarchy",
		      *controller ? controller : "cgroup v2");
	return own;
}

/* Our own cgroup's controllers (v2), "" when unreadable. */
static char *v2_controllers(const char *dir)
{
	char *path = path_join(dir, "cgroup.controllers");
	char *text = read_file(path, NULL);

	free(path);
	if (!text)
		return xstrdup("");
	text[strcspn(text, "\n")] = '\0';
	return text;
}

/*
 * The controllers cg-limit uses come from the table: on v2 memory, cpu,
 * cpuset and pids; on v1 also cpuacct (CPU usage) and devices.  On v1 each
 * is a hierarchy of its own, where a cgroup costs a mkdir, a move and an
 * rmdir: a chain goes into cpuset and devices only when asked to
 * (--cpuset, --devices), as a cgroup there without a rule would only
 * repeat its parent's.  The other verbs look everywhere.
 */
static int v1_unused(const struct request *r, const char *ctrl)
{
	if (r->mode != CHAIN)
		return 0;
	return (!strcmp(ctrl, "cpuset") && !r->cpuset) ||
	       (!strcmp(ctrl, "devices") && !r->devices);
}

static void add_v1_hierarchies(struct layout *L, const struct request *r, const char *self,
			       char **mount, char **opts, size_t nv1)
{
	for (int k = 0; k < N_KNOBS; k++) {
		const char *ctrl = knobs[k].v1.controller;
		struct hierarchy *h;
		size_t m;

		if (hierarchy_of(L, ctrl) || v1_unused(r, ctrl))
			continue;
		for (m = 0; m < nv1 && !has_word(opts[m], ctrl, ','); m++)
			;
		if (m == nv1)
			continue;       /* not mounted: --info says so */
		for (h = L->h; h < L->h + L->n && strcmp(h->mount, mount[m]); h++)
			;
		if (h < L->h + L->n) {  /* co-mounted, as cpu,cpuacct often are */
			char *both = xasprintf("%s,%s", h->controllers, ctrl);
			free(h->controllers);
			h->controllers = both;
			continue;
		}
		if (L->n == MAX_HIERARCHIES)
			die_x("too many cgroup v1 hierarchies");
		h = &L->h[L->n++];
		h->mount = xstrdup(mount[m]);
		h->controllers = xstrdup(ctrl);
		h->own = own_cgroup(self, ctrl);
	}
}

static int holds_processes(const char *dir)
{
	char *path = path_join(dir, "cgroup.procs");
	char *text = read_file(path, NULL);
	int busy = text && *text;

	free(path);
	free(text);
	return busy;
}

/*
 * v2: a cgroup holding processes (ours, at least) cannot give controllers
 * to a child, so go up to the first ancestor without processes.  The root
 * cgroup, the only one without a cgroup.type file, is exempt from the rule.
 * Inside a cgroup namespace "/" may not be the root: then there is no
 * going up, and enable_v2_controllers() explains the kernel's refusal.
 */
static char *v2_usable_parent(struct layout *L, const char *own)
{
	char *cg = xstrdup(own);

	for (;;) {
		char *dir = path_join(L->unified, cg), *slash;
		char *type = path_join(dir, "cgroup.type");
		int busy = access(type, F_OK) == 0 && holds_processes(dir);

		free(type);
		free(dir);
		if (!busy || !strcmp(cg, "/"))
			return cg;
		if (!L->busy_own)
			L->busy_own = xstrdup(cg);
		slash = strrchr(cg, '/');
		if (slash == cg)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

/* The cgroup's directory in each hierarchy: PARENT/NAME. */
static void set_name(struct layout *L, const char *name)
{
	for (size_t i = 0; i < L->n; i++) {
		free(L->h[i].dir);
		L->h[i].dir = path_join(L->h[i].parent, name);
	}
}

static int exists_somewhere(const struct layout *L)
{
	for (size_t i = 0; i < L->n; i++)
		if (access(L->h[i].dir, F_OK) == 0)
			return 1;
	return 0;
}

/* cg-PID; cg-PID-2... when a process of another PID namespace, sharing
 * this cgroup filesystem, has used cg-PID already. */
static char *generate_name(struct layout *L)
{
	for (int i = 1; ; i++) {
		char *name = i == 1 ? xasprintf("cg-%d", (int)getpid())
				    : xasprintf("cg-%d-%d", (int)getpid(), i);
		set_name(L, name);
		if (!exists_somewhere(L))
			return name;
		free(name);
	}
}

static void find_layout(struct layout *L, const struct request *r)
{
	char **v1_mount, **v1_opts;
	size_t nv1, i;
	char *names = xstrdup(""), *self = read_file("/proc/self/cgroup", NULL);

	if (!self)
		die("read /proc/self/cgroup");
	memset(L, 0, sizeof(*L));
	read_mounts(L, &v1_mount, &v1_opts, &nv1);
	for (i = 0; i < nv1; i++) {
		for (int k = 0; k < N_KNOBS; k++) {
			const char *ctrl = knobs[k].v1.controller;
			if (has_word(v1_opts[i], ctrl, ',') && !has_word(names, ctrl, ' ')) {
				char *more = xasprintf("%s%s%s", names, *names ? " " : "", ctrl);
				free(names);
				names = more;
			}
		}
	}
	L->v1_mounts = names;

	/* v2 when the cgroup2 mount has the memory controller, or when no
	 * v1 controller is mounted at all. */
	if (L->unified) {
		char *ctrls = v2_controllers(L->unified);
		if (has_word(ctrls, "memory", ' ') || !*names)
			L->version = 2;
		free(ctrls);
	}
	if (L->version == 2) {
		struct hierarchy *h = &L->h[L->n++];
		h->mount = xstrdup(L->unified);
		h->own = own_cgroup(self, "");
		/* the top's: create_cgroup() enables them all the way down */
		h->controllers = v2_controllers(L->unified);
	} else if (*names) {
		L->version = 1;
		add_v1_hierarchies(L, r, self, v1_mount, v1_opts, nv1);
	}
	free(self);
	for (i = 0; i < nv1; i++) {
		free(v1_mount[i]);
		free(v1_opts[i]);
	}
	free(v1_mount);
	free(v1_opts);
	if (!L->version)
		die_x("no cgroup filesystem is mounted on /sys/fs/cgroup (see cgroups(7))");

	for (i = 0; i < L->n; i++) {
		struct hierarchy *h = &L->h[i];
		if (r->parent && r->parent[0] == '/') {
			h->parent = path_join(h->mount, r->parent);
		} else {        /* below our own cgroup: in "minidock" or PARENT */
			char *own = L->version == 2 ? v2_usable_parent(L, h->own) : xstrdup(h->own);
			char *base = path_join(h->mount, own);
			h->parent = path_join(base, r->parent ? r->parent : DEFAULT_GROUP);
			free(base);
			free(own);
			L->default_parent = !r->parent;
		}
	}
	if (r->name)
		set_name(L, r->name);
}

static void free_layout(struct layout *L)
{
	for (size_t i = 0; i < L->n; i++) {
		free(L->h[i].mount);
		free(L->h[i].controllers);
		free(L->h[i].own);
		free(L->h[i].parent);
		free(L->h[i].dir);
		free(L->h[i].join_file);
	}
	free(L->unified);
	free(L->v1_mounts);
	free(L->busy_own);
}

static int controller_usable(const struct layout *L, const char *controller)
{
	const struct hierarchy *h = hierarchy_of(L, controller);

	if (!h)
		return 0;
	return L->version == 1 || has_word(h->controllers, controller, ' ');
}

/* ---------------------------------------------------------------- */
/* Reading and writing the knobs.                                    */

static char *knob_path(const struct layout *L, enum knob k)
{
	const struct cg_file *f = file_of(L, k);
	const struct hierarchy *h = hierarchy_of(L, f->controller);

	if (!f->file || !h || !h->dir)
		return NULL;
	return path_join(h->dir, f->file);
}

/* The value of knob K: UNLIMITED for "max" (v2) or a v1 "no limit";
 * -1 when this kernel or hierarchy has no such file. */
static int read_knob(const struct layout *L, enum knob k, uint64_t *value)
{
	const struct cg_file *f = file_of(L, k);
	char *path = knob_path(L, k), *text, *p;
	int ret = -1;

	if (!path)
		return -1;
	text = read_file(path, NULL);
	free(path);
	if (!text)
		return -1;
	p = text;
	if (f->key) {   /* find the line "KEY VALUE" */
		size_t n = strlen(f->key);
		while (p && !(strncmp(p, f->key, n) == 0 && p[n] == ' '))
			if ((p = strchr(p, '\n')))
				p++;
		if (p)
			p += n + 1;
	}
	if (p && !strncmp(p, "max", 3)) {
		*value = UNLIMITED;
		ret = 0;
	} else if (p && isdigit((unsigned char)*p)) {
		*value = strtoull(p, NULL, 10);
		/* v1 says "no limit" with a huge number (LONG_MAX rounded to pages) */
		if (*value >= (1ULL << 62))
			*value = UNLIMITED;
		ret = 0;
	} else if (p && !strncmp(p, "-1", 2)) {  /* v1 cpu.cfs_quota_us */
		*value = UNLIMITED;
		ret = 0;
	}
	free(text);
	return ret;
}

static void write_knob(const struct layout *L, enum knob k, const char *value)
{
	char *path = knob_path(L, k);

	if (!path)
		die_x("%s: no such file in this cgroup version (v%d)",
		      file_of(L, k)->file ? file_of(L, k)->file : "?", L->version);
	vlog("write %s = %s", file_of(L, k)->file, value);
	if (write_file(path, value) < 0)
		die("write %s = %s", path, value);
	free(path);
}

static void write_knob_u64(const struct layout *L, enum knob k, uint64_t v)
{
	char *value = xasprintf("%llu", (unsigned long long)v);

	write_knob(L, k, value);
	free(value);
}

/* "64M" for 67108864: what the user typed, more or less. */
static char *human_size(uint64_t bytes)
{
	static const char units[] = "KMG";

	for (int i = 2; i >= 0; i--) {
		uint64_t unit = 1ULL << (10 * (i + 1));
		if (bytes >= unit && bytes % unit == 0)
			return xasprintf("%llu%c", (unsigned long long)(bytes / unit), units[i]);
	}
	return xasprintf("%llu", (unsigned long long)bytes);
}

/* ---------------------------------------------------------------- */
/* Creating and removing the cgroup.                                 */

/* The layout being built, removed by exit() if a later step dies. */
static struct layout *created;
static pid_t creator;

/*
 * v2: a controller reaches a cgroup only when every ancestor lists it in
 * cgroup.subtree_control.  Enable ours from the top down to DIR's parent.
 */
static void enable_v2_controllers(const struct layout *L, const char *dir)
{
	const struct hierarchy *h = &L->h[0];
	size_t root = strlen(h->mount);
	char *path = xstrdup(dir);

	for (char *p = path + root; p; p = strchr(p + 1, '/')) {
		char c = *p, *ctrls, *sub, *file;

		if (c == '\0')
			break;
		*p = '\0';
		ctrls = v2_controllers(path);
		file = path_join(path, "cgroup.subtree_control");
		sub = read_file(file, NULL);
		if (!sub)
			die("read %s", file);
		sub[strcspn(sub, "\n")] = '\0';
		for (int k = 0; k < N_KNOBS; k++) {
			const char *ctrl = knobs[k].v2.controller;
			char *plus;

			if (!has_word(ctrls, ctrl, ' ') || has_word(sub, ctrl, ' '))
				continue;
			plus = xasprintf("+%s", ctrl);
			vlog("write %s = %s", file, plus);
			if (write_file(file, plus) < 0) {
				if (errno == EBUSY)
					die_x("write %s = %s: refused, as that cgroup holds "
					      "processes (cgroup v2); move them to a leaf cgroup "
					      "first, or use --parent (see cg-limit --info)",
					      file, plus);
				die("write %s = %s", file, plus);
			}
			free(plus);
			free(sub);
			sub = read_file(file, NULL);
			if (!sub)
				die("read %s", file);
			sub[strcspn(sub, "\n")] = '\0';
		}
		free(sub);
		free(file);
		free(ctrls);
		*p = c;
	}
	free(path);
}

/* v1 cpusets start empty, and no process may join a cpuset without CPUs
 * or memory nodes: copy the parent's (v2 inherits them by itself). */
static void inherit_v1_cpuset(const char *dir)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };

	for (size_t i = 0; i < 2; i++) {
		char *mine = path_join(dir, files[i]);
		char *parent = xasprintf("%s/../%s", dir, files[i]);
		char *value = read_file(parent, NULL);

		if (!value)
			die("read %s", parent);
		vlog("write %s = %s (from the parent)", files[i], strtok(value, "\n") ?: "");
		if (*value && write_file(mine, value) < 0)
			die("write %s = %s", mine, value);
		free(value);
		free(parent);
		free(mine);
	}
}

static int make_dir(const char *dir)
{
	if (mkdir(dir, 0755) == 0) {
		vlog("mkdir %s", dir);
		return 1;
	}
	return errno == EEXIST ? 0 : -1;
}

static void remove_cgroup(struct layout *L);

static void remove_at_exit(void)
{
	if (created && getpid() == creator)
		remove_cgroup(created);
}

static void create_cgroup(struct layout *L, const char *name)
{
	if (exists_somewhere(L))
		die_x("%s: a cgroup of that name exists (in %s); remove it with: "
		      "cg-limit --name %s --delete", name, L->h[0].parent, name);
	created = L;
	creator = getpid();
	if (atexit(remove_at_exit) != 0)
		die_x("atexit failed");

	for (size_t i = 0; i < L->n; i++) {
		struct hierarchy *h = &L->h[i];
		int is_cpuset = L->version == 1 && has_word(h->controllers, "cpuset", ',');
		int made, tries;

		if (L->version == 2)
			enable_v2_controllers(L, h->parent);
		/* Another cg-limit may remove an empty "minidock" group
		 * between our two mkdirs: try again. */
		for (tries = 0; ; tries++) {
			if ((made = make_dir(h->parent)) < 0)
				die("mkdir %s", h->parent);
			h->made_parent |= made;
			if (made && is_cpuset)
				inherit_v1_cpuset(h->parent);
			if (L->version == 2)
				enable_v2_controllers(L, h->dir);
			if (mkdir(h->dir, 0755) == 0)
				break;
			if (errno != ENOENT || tries == 3)
				die("mkdir %s", h->dir);
		}
		vlog("mkdir %s", h->dir);
		if (is_cpuset)
			inherit_v1_cpuset(h->dir);
		h->join_file = path_join(h->dir, L->version == 1 ? "tasks" : "cgroup.procs");
	}
}

/* ---------------------------------------------------------------- */
/* --devices on cgroup v2: a small BPF program instead of two files. */

/*
 * cgroup v2 has no devices.allow file: at each open(2) or mknod(2) of a
 * device node, the kernel runs the BPF_PROG_TYPE_CGROUP_DEVICE programs
 * attached to the cgroup, and refuses (EPERM) unless they return 1.  The
 * program reads struct bpf_cgroup_dev_ctx: the device type and the access
 * wanted (in access_type), the major and the minor.  cg-limit turns each
 * rule of the v1 syntax into one test, so both versions share one list:
 *
 *     r2 = type, r3 = access, r4 = major, r5 = minor
 *     "c 1:3 rwm":  if r2 != CHAR goto next
 *                   r0 = r3 & ~(READ|WRITE|MKNOD); if r0 != 0 goto next
 *                   if r4 != 1 goto next; if r5 != 3 goto next; return 1
 *     next: ...     after the last rule: return 0
 *
 * See bpf(2), and "Device controller" in cgroup-v2.rst.
 */
struct program {
	struct bpf_insn *insn;
	size_t n;
};

static size_t emit(struct program *p, uint8_t code, uint8_t dst, uint8_t src,
		   int16_t off, int32_t imm)
{
	p->insn = xrealloc(p->insn, (p->n + 1) * sizeof(*p->insn));
	p->insn[p->n] = (struct bpf_insn){
		.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm,
	};
	return p->n++;
}

/* "*" -> -1, "136" -> 136, advancing *S. */
static long parse_device_number(const char **s)
{
	char *end;
	long v;

	if (**s == '*') {
		(*s)++;
		return -1;
	}
	v = strtol(*s, &end, 10);
	*s = end;
	return v;
}

static void emit_device_rule(struct program *p, const char *rule)
{
	const char *s = rule + 2;       /* after "c " */
	long major, minor;
	int access = 0;
	size_t next[4], n = 0;

	major = parse_device_number(&s);
	s++;                            /* ':' */
	minor = parse_device_number(&s);
	for (s++; *s; s++)              /* after ' ': "rwm" */
		access |= *s == 'r' ? BPF_DEVCG_ACC_READ :
			  *s == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
	if (rule[0] != 'a')
		next[n++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0, rule[0] == 'c'
				 ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, 0, 3, 0, 0);
	emit(p, BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, ~access & 7);
	next[n++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, 0, 0, 0, 0);
	if (major >= 0)
		next[n++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, (int32_t)major);
	if (minor >= 0)
		next[n++] = emit(p, BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, (int32_t)minor);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	for (size_t i = 0; i < n; i++)  /* jumps count from the next instruction */
		p->insn[next[i]].off = (int16_t)(p->n - next[i] - 1);
}

static void attach_device_program(const struct layout *L)
{
	struct program p = { NULL, 0 };
	union bpf_attr attr;
	int prog, cg;

	emit(&p, BPF_LDX | BPF_MEM | BPF_W, 2, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
	emit(&p, BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff);
	emit(&p, BPF_LDX | BPF_MEM | BPF_W, 3, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
	emit(&p, BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16);
	emit(&p, BPF_LDX | BPF_MEM | BPF_W, 4, 1, offsetof(struct bpf_cgroup_dev_ctx, major), 0);
	emit(&p, BPF_LDX | BPF_MEM | BPF_W, 5, 1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
	for (size_t i = 0; i < sizeof(container_devices) / sizeof(*container_devices); i++)
		emit_device_rule(&p, container_devices[i]);
	emit(&p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
	emit(&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)p.insn;
	attr.insn_cnt = (uint32_t)p.n;
	attr.license = (uint64_t)(uintptr_t)"GPL";
	vlog("bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE, %zu instructions)", p.n);
	prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	free(p.insn);
	if (prog < 0)
		die("bpf(BPF_PROG_LOAD) of the device filter");

	cg = open(L->h[0].dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		die("open %s", L->h[0].dir);
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cg;
	attr.attach_bpf_fd = (uint32_t)prog;
	attr.attach_type = BPF_CGROUP_DEVICE;
	/* MULTI: run after, not instead of, the programs of the parents */
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	vlog("bpf(BPF_PROG_ATTACH, %s, BPF_CGROUP_DEVICE)", L->h[0].dir);
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr)) < 0)
		die("bpf(BPF_PROG_ATTACH) to %s", L->h[0].dir);
	/* The cgroup now holds the program; it goes with the cgroup. */
	close(prog);
	close(cg);
}

static void write_limits(const struct layout *L, const struct request *r)
{
	if (r->memory)
		write_knob_u64(L, MEM_MAX, r->memory);
	if (r->memory_swap) {
		/* docker's --memory-swap is memory plus swap, as v1 counts it;
		 * v2 limits the swap alone. */
		write_knob_u64(L, MEM_SWAP_MAX, L->version == 2
			       ? r->memory_swap - r->memory : r->memory_swap);
	}
	if (r->cpu_quota) {
		if (L->version == 2) {  /* cpu.max = "QUOTA PERIOD" */
			char *v = xasprintf("%llu %d", (unsigned long long)r->cpu_quota,
					    CPU_PERIOD_US);
			write_knob(L, CPU_QUOTA, v);
			free(v);
		} else {
			write_knob_u64(L, CPU_PERIOD, CPU_PERIOD_US);
			write_knob_u64(L, CPU_QUOTA, r->cpu_quota);
		}
	}
	if (r->cpuset)
		write_knob(L, CPUSET_CPUS, r->cpuset);
	if (r->pids)
		write_knob_u64(L, PIDS_MAX, r->pids);
	if (r->devices) {
		if (L->version == 2) {
			attach_device_program(L);
		} else {
			write_knob(L, DEVICES_DENY, "a");
			for (size_t i = 0; i < sizeof(container_devices) / sizeof(*container_devices); i++)
				write_knob(L, DEVICES_ALLOW, container_devices[i]);
		}
	}
}

/* PIDs in DIR/cgroup.procs, killed with SIGKILL; the number found.
 * A killed process stays listed until it has exited, which a CPU-throttled
 * one does only at its next period: LOG says whether to trace the kills. */
static int kill_procs(const char *dir, int log)
{
	char *path = path_join(dir, "cgroup.procs");
	char *text = read_file(path, NULL), *p;
	int found = 0;

	free(path);
	if (!text)
		return 0;
	for (p = text; *p; ) {
		char *end;
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid > 0) {
			if (log)
				vlog("kill(%ld, SIGKILL)", pid);
			kill((pid_t)pid, SIGKILL);      /* ESRCH: gone already */
			found++;
		}
		p = end + (*end == '\n');
	}
	free(text);
	return found;
}

/* Kill what COMMAND left behind, then rmdir the cgroup and, if empty, its
 * "minidock" group.  Only warns: it also runs from exit(). */
static void remove_cgroup(struct layout *L)
{
	created = NULL;
	for (size_t i = 0; i < L->n; i++) {
		char *killfile = path_join(L->h[i].dir, "cgroup.kill");

		/* v2 (5.14+): one write kills every process, forks included. */
		if (access(killfile, F_OK) == 0) {
			vlog("write %s = 1", killfile);
			if (write_file(killfile, "1") < 0)
				warn_errno("write %s", killfile);
		}
		free(killfile);
	}
	for (int round = 0; round < 500; round++) {
		int found = 0;

		for (size_t i = 0; i < L->n; i++)
			found += kill_procs(L->h[i].dir, round == 0);
		/* Orphans reparented to us (pid 1, or a subreaper) must be
		 * reaped before their cgroup can go. */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!found)
			break;
		sleep_ms(10);
	}
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

/* ---------------------------------------------------------------- */
/* Running COMMAND.                                                  */

/*
 * Move this process into the cgroup, in every hierarchy: write "0" (the
 * writer itself, cgroups(7)) to each join_file.  Only system calls: it
 * runs in the child of vfork(2) (start_command).
 *
 * A speed trick on cgroup v1: the file is "tasks" (the calling thread)
 * rather than cgroup.procs (the whole process).  Moving a whole process
 * takes a kernel-wide lock (cgroup_threadgroup_rwsem) for writing, and
 * its first writer waits for an RCU grace period: 5 to 20 ms on a busy
 * VM, the largest single cost of a container start.  Moving only the
 * current thread skips that lock (kernel 5.18+, cgroup_procs_write_start
 * in kernel/cgroup/cgroup.c), and we have one thread: the whole process
 * moves.  On v2 a "tasks" file does not exist, and cgroup.threads only
 * moves threads within a threaded subtree, so v2 keeps cgroup.procs.
 */
static void join_cgroup(const struct layout *L)
{
	for (size_t i = 0; i < L->n; i++) {
		int fd = open(L->h[i].join_file, O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, "0", 1) != 1) {
			child_error(L->h[i].join_file, errno);
			_exit(EXIT_TOOL_FAILED);
		}
		close(fd);
	}
}

static void log_join(const struct layout *L)
{
	for (size_t i = 0; i < L->n; i++)
		vlog("write %s = 0", L->h[i].join_file);
}

/* The child of vfork(2): it borrows our memory until execve(2), so only
 * system calls here, and never a return. */
static void __attribute__((noreturn)) child_in_cgroup(const struct layout *L, char **command)
{
	unblock_forwarded_signals();
	join_cgroup(L);
	exec_command(command);
}

/*
 * vfork(2), not fork(2): nothing of cg-limit's memory is copied for a
 * child that only writes a few files and then becomes COMMAND; we wait
 * until it has called execve(2).
 */
static pid_t start_command(const struct layout *L, char **command)
{
	pid_t pid;

	if (block_forwarded_signals() < 0)
		die("sigprocmask");
	fflush(NULL);
	log_join(L);
	vlog("vfork(); execvp(\"%s\")", command[0]);
	pid = vfork();
	if (pid < 0)
		die("vfork");
	if (pid == 0)
		child_in_cgroup(L, command);
	return pid;
}

/* After COMMAND: tell the user what the limits did to it. */
static void report_fate(const struct layout *L, const struct request *r, int code)
{
	const char *name = r->name;
	uint64_t n;

	if (r->memory && read_knob(L, MEM_OOM_KILLS, &n) == 0 && n > 0) {
		char *limit = human_size(r->memory);

		if (code == EXIT_SIGNAL_BASE + SIGKILL)
			warn_x("%s: killed by the OOM killer (memory limit %s)", name, limit);
		else
			warn_x("%s: the OOM killer killed %llu process%s (memory limit %s)",
			       name, (unsigned long long)n, n > 1 ? "es" : "", limit);
		free(limit);
	}
	if (r->pids && read_knob(L, PIDS_REFUSED, &n) == 0 && n > 0)
		warn_x("%s: the pids limit (%llu) refused %llu fork%s", name,
		       r->pids, (unsigned long long)n, n > 1 ? "s" : "");
}

/*
 * --exec: like cgcreate(1) then cgexec(1).  This very process moves into
 * the cgroup and becomes COMMAND: no fork, nothing waits, and the cgroup
 * outlives COMMAND.  Whoever ran us removes it with --delete once COMMAND
 * has ended (run -d's supervisor does, as containerd's shim calls
 * `runc delete`).
 */
static void join_and_exec(struct layout *L, const struct request *r)
{
	log_join(L);
	join_cgroup(L);
	created = NULL;         /* no longer ours to remove on the way out */
	vlog("execve(\"%s\") in place of cg-limit: remove the cgroup afterwards "
	     "with cg-limit --name %s --delete", r->command[0], r->name);
	if (unblock_forwarded_signals() < 0)
		die("sigprocmask");
	exec_command(r->command);
}

/* --delete of a cgroup that --exec made: tell what the limits did to its
 * processes, as the chain form does after COMMAND (the limits are read
 * back from the cgroup's files). */
static void report_before_delete(const struct layout *L, const char *name)
{
	struct request r = { .name = name };
	uint64_t v;

	if (read_knob(L, MEM_MAX, &v) == 0 && v != UNLIMITED)
		r.memory = v;
	if (read_knob(L, PIDS_MAX, &v) == 0 && v != UNLIMITED)
		r.pids = v;
	report_fate(L, &r, 0);
}

/* ---------------------------------------------------------------- */
/* The other verbs: --stats, --delete, --info.                       */

static void require_existing(const struct layout *L, const char *name)
{
	if (exists_somewhere(L))
		return;
	die_x("%s: no such cgroup (looked in %s)", name, L->h[0].parent);
}

struct stats {
	uint64_t v[N_KNOBS];
	int have[N_KNOBS];
};

static void read_stats(const struct layout *L, struct stats *s)
{
	static const enum knob shown[] = {
		MEM_CURRENT, MEM_PEAK, MEM_MAX, MEM_OOM_KILLS, CPU_USAGE,
		CPU_THROTTLED, CPU_QUOTA, PIDS_CURRENT, PIDS_MAX, PIDS_REFUSED,
	};

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < sizeof(shown) / sizeof(*shown); i++)
		s->have[shown[i]] = read_knob(L, shown[i], &s->v[shown[i]]) == 0;
	/* v1 counts CPU time in nanoseconds, v2 in microseconds. */
	if (L->version == 1) {
		s->v[CPU_USAGE] /= 1000;
		s->v[CPU_THROTTLED] /= 1000;
	}
	if (L->version == 1 && s->have[CPU_QUOTA] && s->v[CPU_QUOTA] != UNLIMITED) {
		uint64_t period;
		if (read_knob(L, CPU_PERIOD, &period) == 0 && period)
			s->v[CPU_QUOTA] = s->v[CPU_QUOTA] * CPU_PERIOD_US / period;
	}
}

/* A JSON number, or null when unknown or unlimited. */
static void json_value(const struct stats *s, enum knob k, const char *end)
{
	if (s->have[k] && s->v[k] != UNLIMITED)
		printf("%llu%s", (unsigned long long)s->v[k], end);
	else
		printf("null%s", end);
}

static void text_value(const struct stats *s, enum knob k, const char *label)
{
	printf("%-22s", label);
	if (!s->have[k])
		printf("-\n");
	else if (s->v[k] == UNLIMITED)
		printf("max\n");
	else
		printf("%llu\n", (unsigned long long)s->v[k]);
}

static void print_stats(const struct layout *L, const struct request *r)
{
	struct stats s;

	require_existing(L, r->name);
	read_stats(L, &s);
	if (r->json) {
		printf("{\"name\":\"%s\",\"cgroup_version\":%d,", r->name, L->version);
		printf("\"memory\":{\"current\":"); json_value(&s, MEM_CURRENT, ",");
		printf("\"peak\":"); json_value(&s, MEM_PEAK, ",");
		printf("\"limit\":"); json_value(&s, MEM_MAX, ",");
		printf("\"oom_kills\":"); json_value(&s, MEM_OOM_KILLS, "},");
		printf("\"cpu\":{\"usage_usec\":"); json_value(&s, CPU_USAGE, ",");
		printf("\"throttled_usec\":"); json_value(&s, CPU_THROTTLED, ",");
		printf("\"quota_usec\":"); json_value(&s, CPU_QUOTA, ",");
		printf("\"period_usec\":%d},", CPU_PERIOD_US);
		printf("\"pids\":{\"current\":"); json_value(&s, PIDS_CURRENT, ",");
		printf("\"limit\":"); json_value(&s, PIDS_MAX, ",");
		printf("\"refused_forks\":"); json_value(&s, PIDS_REFUSED, "}}\n");
		return;
	}
	printf("%-22s%s (cgroup v%d)\n", "cgroup", L->h[0].dir, L->version);
	text_value(&s, MEM_CURRENT, "memory.current");
	text_value(&s, MEM_PEAK, "memory.peak");
	text_value(&s, MEM_MAX, "memory.limit");
	text_value(&s, MEM_OOM_KILLS, "memory.oom_kills");
	text_value(&s, CPU_USAGE, "cpu.usage_usec");
	text_value(&s, CPU_THROTTLED, "cpu.throttled_usec");
	text_value(&s, CPU_QUOTA, "cpu.quota_usec");
	printf("%-22s%d\n", "cpu.period_usec", CPU_PERIOD_US);
	text_value(&s, PIDS_CURRENT, "pids.current");
	text_value(&s, PIDS_MAX, "pids.limit");
	text_value(&s, PIDS_REFUSED, "pids.refused_forks");
}

static void print_info(const struct layout *L)
{
	char *usable = xstrdup("");

	if (L->version == 2)
		printf("layout:       cgroup v2 (unified) on %s\n", L->unified);
	else if (L->unified)
		printf("layout:       hybrid: cgroup v1 controllers (%s), and a cgroup2 on %s"
		       " without them\n", L->v1_mounts, L->unified);
	else
		printf("layout:       cgroup v1 (legacy): %s\n", L->v1_mounts);
	printf("cg-limit uses: cgroup v%d\n", L->version);
	for (int k = 0; k < N_KNOBS; k++) {
		const char *ctrl = file_of(L, k)->controller;
		if (controller_usable(L, ctrl) && !has_word(usable, ctrl, ' ')) {
			char *more = xasprintf("%s%s%s", usable, *usable ? " " : "", ctrl);
			free(usable);
			usable = more;
		}
	}
	printf("controllers:  %s\n", usable);
	free(usable);
	for (size_t i = 0; i < L->n; i++)
		printf("%-14s%s/NAME%s%s%s\n", i ? "" : "new cgroups:", L->h[i].parent,
		       L->version == 1 ? "  (" : "",
		       L->version == 1 ? L->h[i].controllers : "",
		       L->version == 1 ? ")" : "");
	if (L->busy_own) {
		char *dir = path_join(L->unified, L->busy_own);
		printf("note:         your cgroup %s holds processes, so it cannot give\n"
		       "              controllers to a child (cgroup v2 \"no internal processes\"\n"
		       "              rule): cg-limit uses the first ancestor without processes.\n"
		       "              To nest below your own cgroup, move its processes to a leaf:\n"
		       "                mkdir %s/leaf\n"
		       "                for p in $(cat %s/cgroup.procs); do echo $p > %s/leaf/cgroup.procs; done\n",
		       L->busy_own, dir, dir, dir);
		free(dir);
	}
}

/* OPTION was given: the controller of knob K must be usable. */
static void need_controller(const struct layout *L, int given, enum knob k,
			    const char *option)
{
	const char *ctrl = file_of(L, k)->controller;

	if (given && !controller_usable(L, ctrl))
		die_x("%s: the %s controller is not available (see cg-limit --info)",
		      option, ctrl);
}

/* Before creating anything: can the host apply what was asked? */
static void check_controllers(const struct layout *L, const struct request *r)
{
	need_controller(L, r->memory > 0, MEM_MAX, "--memory");
	need_controller(L, r->cpu_quota > 0, CPU_QUOTA, "--cpus");
	need_controller(L, r->cpuset != NULL, CPUSET_CPUS, "--cpuset");
	need_controller(L, r->pids > 0, PIDS_MAX, "--pids");
	/* v2 needs no controller for devices: BPF programs attach to any cgroup */
	need_controller(L, r->devices && L->version == 1, DEVICES_ALLOW, "--devices");
	if (L->busy_own)
		warn_x("your cgroup %s holds processes and cannot give controllers to a "
		       "child (cgroup v2): using %s instead (see cg-limit --info)",
		       L->busy_own, L->h[0].parent);
}

/* ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct request r;
	struct layout L;
	char *generated = NULL;
	int code;

	md_init("cg-limit");
	parse_options(argc, argv, &r);
	find_layout(&L, &r);
	if (r.mode == CHAIN && !r.name)
		r.name = generated = generate_name(&L);

	switch (r.mode) {
	case INFO:
		print_info(&L);
		free_layout(&L);
		return 0;
	case STATS:
		print_stats(&L, &r);
		free_layout(&L);
		return pass_on(0);
	case DELETE:
		require_existing(&L, r.name);
		report_before_delete(&L, r.name);
		remove_cgroup(&L);
		free_layout(&L);
		return 0;
	case CHAIN:
		break;
	}

	check_controllers(&L, &r);
	/* From here a signal must not kill us between mkdir and rmdir: it
	 * waits, and supervise() passes it on to COMMAND. */
	if (block_forwarded_signals() < 0)
		die("sigprocmask");
	create_cgroup(&L, r.name);
	write_limits(&L, &r);
	if (r.exec)
		join_and_exec(&L, &r);
	code = supervise(start_command(&L, r.command));
	if (code < 0)
		die("waitpid");
	report_fate(&L, &r, code);
	remove_cgroup(&L);
	free_layout(&L);
	free(generated);
	return pass_on(code);
}
