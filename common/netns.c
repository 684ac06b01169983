/*
 * netns.c - the directory of network namespace files: see netns.h.
 *
 * Read: ip-netns(8), mount(2), mount_namespaces(7).  Used by: net-bridge.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include "minidock.h"
#include "netns.h"

char *netns_path(const char *name)
{
	return xasprintf("%s/%s", md_netns_dir(), name);
}

int netns_exists(const char *name)
{
	char *path = netns_path(name);
	int ret = access(path, F_OK) == 0;

	free(path);
	return ret;
}

int netns_dir_shared(void)
{
	const char *dir = md_netns_dir();

	if (mkdir_p(dir, 0755) < 0)
		return -1;
	if (mount("", dir, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	/* EINVAL: not a mount point yet; make it one, bound on itself. */
	if (errno != EINVAL)
		return -1;
	vlog("mount(\"%s\", \"%s\", MS_BIND|MS_REC); mount(MS_SHARED)", dir, dir);
	if (mount(dir, dir, "none", MS_BIND | MS_REC, NULL) < 0)
		return -1;
	return mount("", dir, "none", MS_SHARED | MS_REC, NULL);
}
