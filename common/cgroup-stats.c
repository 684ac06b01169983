/*
 * cgroup-stats.c - cg-limit --stats and --info: a cgroup's usage read
 * from its files, in either version, and the layout of this host.  The
 * files are the kernel's counters: cgroup-v2.rst ("memory.current",
 * "cpu.stat", "pids.current"...), and for v1 Documentation/admin-guide/
 * cgroup-v1/memory.rst, cpuacct.rst and pids.rst.  Used by cg-limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup-options.h"
#include "cgroup-stats.h"
#include "minidock.h"

enum stat {
	MEM_CURRENT, MEM_PEAK, MEM_MAX, MEM_OOM_KILLS, CPU_USAGE, CPU_THROTTLED,
	CPU_QUOTA, PIDS_CURRENT, PIDS_MAX, PIDS_REFUSED, N_STATS
};

/*
 * Each counter in v2 and in v1: FILE, or the line "KEY VALUE" of FILE
 * (cpu.stat, memory.events...).  On v1 the controller says which
 * hierarchy holds the file; v2 has one.
 */
static const struct {
	const char *label, *v2_file, *v2_key, *v1_controller, *v1_file, *v1_key;
} stats[N_STATS] = {
	/*               --stats label          cgroup v2                         cgroup v1 */
	[MEM_CURRENT]   = {"memory.current",     "memory.current", NULL,           "memory", "memory.usage_in_bytes", NULL},
	[MEM_PEAK]      = {"memory.peak",        "memory.peak", NULL,              "memory", "memory.max_usage_in_bytes", NULL},
	[MEM_MAX]       = {"memory.limit",       "memory.max", NULL,               "memory", "memory.limit_in_bytes", NULL},
	[MEM_OOM_KILLS] = {"memory.oom_kills",   "memory.events", "oom_kill",      "memory", "memory.oom_control", "oom_kill"},
	[CPU_USAGE]     = {"cpu.usage_usec",     "cpu.stat", "usage_usec",         "cpuacct", "cpuacct.usage", NULL},
	[CPU_THROTTLED] = {"cpu.throttled_usec", "cpu.stat", "throttled_usec",     "cpu", "cpu.stat", "throttled_time"},
	[CPU_QUOTA]     = {"cpu.quota_usec",     "cpu.max", NULL,                  "cpu", "cpu.cfs_quota_us", NULL},
	[PIDS_CURRENT]  = {"pids.current",       "pids.current", NULL,             "pids", "pids.current", NULL},
	[PIDS_MAX]      = {"pids.limit",         "pids.max", NULL,                 "pids", "pids.max", NULL},
	[PIDS_REFUSED]  = {"pids.refused_forks", "pids.events", "max",             "pids", "pids.events", "max"},
};

struct values {
	uint64_t v[N_STATS];
	int have[N_STATS];
};

static void read_stats(const struct cg_layout *L, struct values *s)
{
	memset(s, 0, sizeof(*s));
	for (int k = 0; k < N_STATS; k++) {
		int v2 = L->version == 2;

		s->have[k] = cgroup_read_value(L, stats[k].v1_controller,
					       v2 ? stats[k].v2_file : stats[k].v1_file,
					       v2 ? stats[k].v2_key : stats[k].v1_key, &s->v[k]) == 0;
	}
	/* v1 counts CPU time in nanoseconds (cpuacct.usage, throttled_time),
	 * v2 in microseconds. */
	if (L->version == 1) {
		s->v[CPU_USAGE] /= 1000;
		s->v[CPU_THROTTLED] /= 1000;
	}
	/* v2's cpu.max starts with the quota; v1's is per cpu.cfs_period_us. */
	if (L->version == 1 && s->have[CPU_QUOTA] && s->v[CPU_QUOTA] != CG_UNLIMITED) {
		uint64_t period;
		if (cgroup_read_value(L, "cpu", "cpu.cfs_period_us", NULL, &period) == 0 && period)
			s->v[CPU_QUOTA] = s->v[CPU_QUOTA] * CPU_PERIOD_US / period;
	}
}

/* A JSON number, or null when unknown or unlimited. */
static void json_value(const struct values *s, enum stat k, const char *end)
{
	if (s->have[k] && s->v[k] != CG_UNLIMITED)
		printf("%llu%s", (unsigned long long)s->v[k], end);
	else
		printf("null%s", end);
}

static void text_value(const struct values *s, enum stat k)
{
	printf("%-22s", stats[k].label);
	if (!s->have[k])
		printf("-\n");
	else if (s->v[k] == CG_UNLIMITED)
		printf("max\n");
	else
		printf("%llu\n", (unsigned long long)s->v[k]);
}

void cgroup_print_stats(const struct cg_layout *L, const char *name, int json)
{
	struct values s;

	read_stats(L, &s);
	if (json) {
		printf("{\"name\":\"%s\",\"cgroup_version\":%d,", name, L->version);
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
	for (int k = MEM_CURRENT; k <= CPU_QUOTA; k++)
		text_value(&s, k);
	printf("%-22s%d\n", "cpu.period_usec", CPU_PERIOD_US);
	for (int k = PIDS_CURRENT; k <= PIDS_REFUSED; k++)
		text_value(&s, k);
}

void cgroup_print_info(const struct cg_layout *L)
{
	const char *sep = "";

	if (L->version == 2)
		printf("layout:       cgroup v2 (unified) on %s\n", L->unified);
	else if (L->unified)
		printf("layout:       hybrid: cgroup v1 controllers (%s), and a cgroup2 on %s"
		       " without them\n", L->v1_mounts, L->unified);
	else
		printf("layout:       cgroup v1 (legacy): %s\n", L->v1_mounts);
	printf("cg-limit uses: cgroup v%d\n", L->version);
	printf("controllers:  ");
	for (const char *const *c = cgroup_controllers; *c; c++) {
		if (cgroup_controller_usable(L, *c)) {
			printf("%s%s", sep, *c);
			sep = " ";
		}
	}
	printf("\n");
	for (size_t i = 0; i < L->n; i++)
		printf("%-14s%s/NAME%s%s%s\n", i ? "" : "new cgroups:", L->h[i].parent,
		       L->version == 1 ? "  (" : "",
		       L->version == 1 ? L->h[i].controllers : "",
		       L->version == 1 ? ")" : "");
	if (L->busy_own) {
		char *dir = xasprintf("%s%s", L->unified, L->busy_own);

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
