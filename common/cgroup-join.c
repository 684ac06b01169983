/*
 * cgroup-join.c - container exec: the new process goes into the
 * container's cgroups, as with docker exec, so that its limits (memory,
 * pids, devices...) hold it too.  cgroups(7), proc(5) for /proc/PID/cgroup.
 * Used by container.
 *
 * /proc/PID/cgroup has one line per hierarchy, "ID:CONTROLLERS:PATH"
 * ("4:memory:/minidock/web", v2's "0::/minidock/web").  Where the
 * container's PID 1 is in the cgroup cg-limit made for it (named NAME) and
 * we are not, we write our PID to that cgroup's cgroup.procs.  Our
 * /proc/PID/cgroup paths are read from our own cgroup namespace, the
 * host's: they name real directories below the mount (cgroup_mount_of).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-join.h"
#include "cgroup.h"
#include "minidock.h"

/* TEXT, a /proc/PID/cgroup, has the line PREFIX PATH, where PREFIX is
 * "ID:CONTROLLERS:". */
static int has_line(const char *text, const char *prefix, const char *path)
{
	size_t n = strlen(prefix), len = strlen(path);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, n) && !strncmp(p + n, path, len) &&
		    (p[n + len] == '\n' || !p[n + len]))
			return 1;
	return 0;
}

/* Whether cgroup PATH is the one cg-limit --name NAME made: .../NAME. */
static int named_after(const char *path, const char *name)
{
	const char *last = strrchr(path, '/');

	return last && !strcmp(last + 1, name);
}

int cgroup_join_container(pid_t init, const char *name, char *error, size_t size)
{
	char *path = xasprintf("/proc/%d/cgroup", (int)init);
	char *theirs = read_file(path, NULL), *ours = read_file("/proc/self/cgroup", NULL);
	char *line, *save = NULL;
	int ret = 0;

	if (!theirs || !ours)
		ret = cgroup_fail(error, size, "read %s", theirs ? "/proc/self/cgroup" : path);
	for (line = ret ? NULL : strtok_r(theirs, "\n", &save); line && ret == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		char *prefix, *mount, *procs, pid[32];
		int same;

		if (!c2 || !named_after(c2 + 1, name))
			continue;
		prefix = xasprintf("%.*s", (int)(c2 - line) + 1, line);
		same = has_line(ours, prefix, c2 + 1);
		free(prefix);
		*c2 = '\0';
		if (same || !(mount = cgroup_mount_of(c1 + 1)))
			continue;       /* in it already, or not mounted here */
		procs = xasprintf("%s%s/cgroup.procs", mount, c2 + 1);
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		vlog("write %s = %s", procs, pid);
		if (write_file(procs, pid) < 0)
			ret = cgroup_fail(error, size, "joining the container's cgroup: write %s", procs);
		free(procs);
		free(mount);
	}
	free(ours);
	free(theirs);
	free(path);
	return ret;
}
