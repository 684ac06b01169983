/*
 * state.c - where minidock keeps things.  Tests move every location to a
 * temporary directory through the environment.
 */
#include <stdlib.h>
#include <string.h>

#include "minidock.h"

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v && *v ? v : fallback;
}

const char *md_run_dir(void)
{
	return env_or("MINIDOCK_RUN_DIR", "/run/minidock");
}

const char *md_lib_dir(void)
{
	return env_or("MINIDOCK_LIB_DIR", "/var/lib/minidock");
}

const char *md_netns_dir(void)
{
	return env_or("MINIDOCK_NETNS_DIR", "/run/netns");
}

int valid_name(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0 || n > 64 || name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}
