/*
 * restart.c - restart policies (restart.h): which end of a container's
 * chain starts it again, and the two files that say so in its runtime
 * directory, "stopped" and "restarts".  Used by run and container.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lifecycle.h"
#include "minidock.h"
#include "restart.h"
#include "store.h"

int restart_parse(const char *spec, struct restart_policy *p)
{
	unsigned long long n = 0;

	*p = (struct restart_policy){ RESTART_NO, 0 };
	if (!strcmp(spec, "no"))
		return 0;
	if (!strcmp(spec, "always")) {
		p->mode = RESTART_ALWAYS;
		return 0;
	}
	if (!strncmp(spec, "on-failure", 10) &&
	    (!spec[10] || (spec[10] == ':' && parse_uint(spec + 11, 1000000, &n) == 0 && n))) {
		p->mode = RESTART_ON_FAILURE;
		p->max = (unsigned)n;
		return 0;
	}
	errno = EINVAL;
	return -1;
}

int restart_wanted(const char *name, const char *spec, int code, unsigned count)
{
	struct restart_policy p;
	char *stopped;
	int asked;

	if (!spec || restart_parse(spec, &p) < 0 || p.mode == RESTART_NO ||
	    (p.mode == RESTART_ON_FAILURE && code == 0) || (p.max && count >= p.max))
		return 0;
	stopped = state_file(name, "stopped");
	asked = access(stopped, F_OK) == 0;
	free(stopped);
	return !asked;
}

long restart_delay_ms(unsigned count)
{
	return 100L << (count < 6 ? count : 6);
}

int restart_mark_stopped(const char *name)
{
	char *path = state_file(name, "stopped");
	int ret = write_file(path, "");

	free(path);
	return ret;
}

int restart_write_count(const char *name, unsigned count)
{
	char *path = state_file(name, "restarts"), *tmp = state_file(name, ".restarts");
	char text[32];
	int ret;

	snprintf(text, sizeof(text), "%u\n", count);
	ret = write_file(tmp, text) == 0 && rename(tmp, path) == 0 ? 0 : -1;
	free(tmp);
	free(path);
	return ret;
}

unsigned restart_count(const char *name)
{
	char *path = state_file(name, "restarts"), *text = read_file(path, NULL);
	unsigned long long n = 0;

	if (text) {
		text[strcspn(text, "\n")] = '\0';
		if (parse_uint(text, 1000000000, &n) < 0)
			n = 0;
	}
	free(text);
	free(path);
	return (unsigned)n;
}

int restart_next(struct life *l, const char *spec, int code, unsigned *restarts)
{
	unsigned steps = l->resources & (LIFE_CGROUP | LIFE_NETWORK);

	if (!restart_wanted(l->name, spec, code, *restarts))
		return 0;
	if (life_undo(l, steps, !md_verbose) < 0)
		warn_errno("%s: undo its chain before a restart", l->name);
	sleep_ms(restart_delay_ms(*restarts));
	/* A container stop or rm -f may have come meanwhile. */
	if (!restart_wanted(l->name, spec, code, *restarts))
		return 0;
	vlog("--restart %s: %s ended with %d, started again (restart %u)", spec,
	     l->name, code, *restarts + 1);
	if (life_record(l, steps) < 0 || restart_write_count(l->name, ++*restarts) < 0)
		return -1;
	return 1;
}
