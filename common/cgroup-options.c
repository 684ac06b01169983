/*
 * cgroup-options.c - cg-limit's command line: getopt_long(3), then every
 * value checked before a cgroup is made, so that a typo is a message and
 * exit 125 rather than a half-made cgroup or a kernel's EINVAL.  The
 * bounds are the kernel's: a CFS quota of at least 1 ms (cpu.max in
 * cgroup-v2.rst), online CPUs only (/sys/devices/system/cpu/online, see
 * cpuset(7)).  Used by cg-limit.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-options.h"
#include "cgroup.h"
#include "minidock.h"

#define MIN_MEMORY (6ULL << 20)         /* docker's minimum too */
#define MAX_CPU 8191                    /* sanity bound for --cpuset */

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

char *cgroup_size_text(uint64_t bytes)
{
	static const char units[] = "KMG";

	for (int i = 2; i >= 0; i--) {
		uint64_t unit = 1ULL << (10 * (i + 1));
		if (bytes >= unit && bytes % unit == 0)
			return xasprintf("%llu%c", (unsigned long long)(bytes / unit), units[i]);
	}
	return xasprintf("%llu", (unsigned long long)bytes);
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

/* Every CPU of --cpuset must be online. */
static int check_cpuset(const char *list, char *error, size_t size)
{
	struct cpu_range *want, *online = NULL;
	size_t nwant, nonline;
	char *text = NULL;
	int ret = 0;

	if (parse_cpulist(list, &want, &nwant) < 0)
		return cgroup_fail_x(error, size, "--cpuset %s: not a CPU list (example: 0-1,3)", list);
	if (!(text = read_file("/sys/devices/system/cpu/online", NULL)))
		ret = cgroup_fail(error, size, "read /sys/devices/system/cpu/online");
	else if (parse_cpulist(text, &online, &nonline) < 0)
		ret = cgroup_fail_x(error, size, "/sys/devices/system/cpu/online: unexpected content");
	for (size_t i = 0; i < nwant && ret == 0; i++)
		for (unsigned cpu = want[i].lo; cpu <= want[i].hi && ret == 0; cpu++)
			if (!cpu_in(cpu, online, nonline))
				ret = cgroup_fail_x(error, size, "--cpuset %s: CPU %u does not exist "
						    "(online CPUs: %s)", list, cpu, strtok(text, "\n"));
	free(want);
	free(online);
	free(text);
	return ret;
}

static int parse_size_option(const char *option, const char *arg, uint64_t *v,
			     char *error, size_t size)
{
	if (parse_size(arg, v) < 0)
		return cgroup_fail_x(error, size, "%s %s: not a size (bytes, or a "
				     "number with k, m or g: 64M)", option, arg);
	if (*v < MIN_MEMORY)
		return cgroup_fail_x(error, size, "%s %s: the minimum is 6M", option, arg);
	return 0;
}

static int check_cpus(const char *arg, uint64_t *quota, char *error, size_t size)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (parse_cpus(arg, quota) < 0)
		return cgroup_fail_x(error, size, "--cpus %s: not a number of CPUs (example: 0.5)", arg);
	if (ncpu < 1)
		ncpu = 1;
	/* The kernel refuses a quota below 1 ms. */
	if (*quota < CPU_PERIOD_US / 100 || *quota > (uint64_t)ncpu * CPU_PERIOD_US)
		return cgroup_fail_x(error, size, "--cpus %s: the range is 0.01 to %ld.00, "
				     "as there are %ld CPUs", arg, ncpu, ncpu);
	return 0;
}

/* After getopt: the values, then whether they go together. */
static int check_request(struct cg_request *r, const char *memory, const char *swap,
			 const char *cpus, char *error, size_t size)
{
	if (r->name && !valid_name(r->name))
		return cgroup_fail_x(error, size, "--name %s: use 1 to 64 of A-Z a-z 0-9 _ . - "
				     "(not first . or -)", r->name);
	if (r->parent && (!r->parent[0] || strstr(r->parent, "..")))
		return cgroup_fail_x(error, size, "--parent %s: give a cgroup path: /from/the/root, "
				     "or from/your/own/cgroup", r->parent);
	if (memory && parse_size_option("--memory", memory, &r->memory, error, size) < 0)
		return -1;
	if (swap) {
		if (parse_size_option("--memory-swap", swap, &r->memory_swap, error, size) < 0)
			return -1;
		if (!memory)
			return cgroup_fail_x(error, size, "--memory-swap needs --memory (it limits "
					     "memory plus swap)");
		if (r->memory_swap < r->memory)
			return cgroup_fail_x(error, size, "--memory-swap %s: must be at least "
					     "--memory %s", swap, memory);
	}
	if (cpus && check_cpus(cpus, &r->cpu_quota, error, size) < 0)
		return -1;
	if (r->cpuset && check_cpuset(r->cpuset, error, size) < 0)
		return -1;
	if (r->json && r->mode != CG_STATS)
		return cgroup_fail_x(error, size, "--json goes with --stats");
	if (r->mode == CG_CHAIN && !r->command[0])
		return cgroup_fail_x(error, size, "no COMMAND given (try 'cg-limit --help')");
	if (r->mode != CG_CHAIN && r->command[0])
		return cgroup_fail_x(error, size, "--stats, --delete and --info take no COMMAND");
	if ((r->mode == CG_STATS || r->mode == CG_DELETE) && !r->name)
		return cgroup_fail_x(error, size, "--stats and --delete need --name");
	if (r->exec && (r->mode != CG_CHAIN || !r->name))
		return cgroup_fail_x(error, size, "--exec needs --name and a COMMAND (then remove "
				     "the cgroup with --delete)");
	return 0;
}

int cgroup_options_parse(int argc, char **argv, struct cg_request *r,
			 char *error, size_t size)
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
	const char *memory = NULL, *swap = NULL, *cpus = NULL;
	int c;

	memset(r, 0, sizeof(*r));
	r->mode = CG_CHAIN;
	opterr = 0;     /* our own message, in the "cg-limit: ..." form */
	while ((c = getopt_long(argc, argv, "+n:m:c:p:vhV", options, NULL)) != -1) {
		switch (c) {
		case 'n': r->name = optarg; break;
		case 'm': memory = optarg; break;
		case OPT_SWAP: swap = optarg; break;
		case 'c': cpus = optarg; break;
		case OPT_CPUSET: r->cpuset = optarg; break;
		case 'p':
			if (parse_uint(optarg, 4194304, &r->pids) < 0 || r->pids == 0)
				return cgroup_fail_x(error, size, "--pids %s: not a number of "
						     "processes from 1 to 4194304", optarg);
			break;
		case OPT_PARENT: r->parent = optarg; break;
		case OPT_DEVICES:
			if (strcmp(optarg, "container") != 0)
				return cgroup_fail_x(error, size, "--devices %s: the only policy is "
						     "\"container\"", optarg);
			r->devices = 1;
			break;
		case OPT_STATS: r->mode = CG_STATS; break;
		case OPT_JSON: r->json = 1; break;
		case OPT_DELETE: r->mode = CG_DELETE; break;
		case OPT_INFO: r->mode = CG_INFO; break;
		case OPT_EXEC: r->exec = 1; break;
		case 'v': md_verbose = 1; break;
		case 'h': usage(stdout); r->mode = CG_DONE; return 0;
		case 'V': print_version(); r->mode = CG_DONE; return 0;
		default:
			return cgroup_fail_x(error, size, "%s: unknown option, or its value is "
					     "missing (try 'cg-limit --help')", argv[optind - 1]);
		}
	}
	r->command = argv + optind;
	return check_request(r, memory, swap, cpus, error, size);
}
