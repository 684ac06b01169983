/*
 * cgroup-options.h - what cg-limit is asked to do: its command line,
 * parsed and checked (sizes, a CPU share, a CPU list against the online
 * CPUs) before any cgroup exists.  Used by cg-limit.
 */
#ifndef MINIDOCK_CGROUP_OPTIONS_H
#define MINIDOCK_CGROUP_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#define CPU_PERIOD_US 100000            /* the kernel's default CFS period: 100 ms */

/* CG_DONE: --help or --version, printed already */
enum cg_mode { CG_CHAIN, CG_STATS, CG_DELETE, CG_INFO, CG_DONE };

struct cg_request {
	enum cg_mode mode;
	const char *name;               /* NULL: cg-limit makes one up */
	const char *parent;             /* --parent: /from/the/root or from/own/cgroup */
	uint64_t memory, memory_swap;   /* bytes, 0: no limit */
	uint64_t cpu_quota;             /* microseconds per CPU_PERIOD_US, 0: none */
	const char *cpuset;             /* "0-1,3", every CPU online */
	unsigned long long pids;        /* 0: no limit */
	int devices;                    /* --devices container */
	int json;                       /* --stats --json */
	int exec;                       /* --exec: become COMMAND, no waiting */
	char **command;
};

/* Parse cg-limit's ARGV into R (its strings point into ARGV); --help and
 * --version print their text.  -1 on bad input, with the message for the
 * user in ERROR (SIZE bytes). */
int cgroup_options_parse(int argc, char **argv, struct cg_request *r,
			 char *error, size_t size);
/* "64M" for 67108864: a size as the user would type it (malloc'd). */
char *cgroup_size_text(uint64_t bytes);

#endif
