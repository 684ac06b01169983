/*
 * cgroup-stats.h - what a cgroup used, read back from its files, and what
 * this host offers: cg-limit --stats [--json] and --info.  Used by cg-limit.
 */
#ifndef MINIDOCK_CGROUP_STATS_H
#define MINIDOCK_CGROUP_STATS_H

#include "cgroup.h"

/* The usage of cgroup NAME (L named it): memory, CPU time, processes,
 * as text, or as one JSON object (null: no limit, or unknown). */
void cgroup_print_stats(const struct cg_layout *L, const char *name, int json);
/* The layout (v2, v1, hybrid), the usable controllers, where cgroups go. */
void cgroup_print_info(const struct cg_layout *L);

#endif
