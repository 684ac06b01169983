/*
 * resolv.c - a container's resolv.conf and hosts: see resolv.h.
 *
 * Read: resolv.conf(5), hosts(5).  Used by: net-bridge.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "minidock.h"
#include "resolv.h"
#include "rtnl.h"

/* The nameserver, search and options lines of FILE, without 127.x
 * nameservers (the host's own resolver: unreachable from inside); NULL
 * when out of memory. */
static char *usable_resolv_lines(const char *file)
{
	char *text = read_file(file, NULL), *line, *save, *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	for (line = text && f ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char addr[64];
		uint32_t a;

		if (sscanf(line, " nameserver %63s", addr) == 1 &&
		    parse_ip(addr, &a) == 0 && (a >> 24) != 127)
			fprintf(f, "nameserver %s\n", addr);
		else if (!strncmp(line, "search ", 7) || !strncmp(line, "options ", 8))
			fprintf(f, "%s\n", line);
	}
	free(text);
	if (f && fclose(f) != 0) {
		free(out);
		out = NULL;
	}
	return out;
}

/* The lines for a container's resolv.conf (malloc'd), or NULL. */
static char *host_nameservers(void)
{
	char *out = usable_resolv_lines("/etc/resolv.conf"), *t;

	/* With systemd-resolved, /etc/resolv.conf names 127.0.0.53; the
	 * servers it forwards to are listed here. */
	if (out && !strstr(out, "nameserver")) {
		free(out);
		out = usable_resolv_lines("/run/systemd/resolve/resolv.conf");
	}
	/* None left: what Docker falls back to as well. */
	if (out && !strstr(out, "nameserver")) {
		t = xasprintf("%snameserver 8.8.8.8\nnameserver 8.8.4.4\n", out);
		free(out);
		out = t;
	}
	return out;
}

int resolv_write(const char *name, uint32_t addr, char **dns, size_t ndns)
{
	char *dir = xasprintf("%s/%s", md_run_dir(), name), *path, *text, a[INET_ADDRSTRLEN];
	FILE *f;
	int ret = -1, e;
	size_t i;

	if (mkdir_p(dir, 0755) < 0)
		goto out;
	path = xasprintf("%s/resolv.conf", dir);
	text = ndns ? NULL : host_nameservers();
	f = ndns || text ? fopen(path, "we") : NULL;
	if (f) {
		for (i = 0; i < ndns; i++)
			fprintf(f, "nameserver %s\n", dns[i]);
		fputs(text ? text : "", f);
		ret = ferror(f) ? -1 : 0;
		if (fclose(f) != 0)
			ret = -1;
	}
	free(path);
	free(text);
	if (ret < 0)
		goto out;
	path = xasprintf("%s/hosts", dir);
	text = xasprintf(HOSTS_LOCALHOST "%s\t%s\n", ip_str(addr, a), name);
	ret = write_file(path, text);
	free(path);
	free(text);
out:
	e = errno;
	free(dir);
	errno = e;
	return ret;
}

/* Only our two files: run keeps others in the same directory. */
void resolv_remove(const char *name)
{
	char *dir = xasprintf("%s/%s", md_run_dir(), name);
	char *r = xasprintf("%s/resolv.conf", dir), *h = xasprintf("%s/hosts", dir);

	/* Unchecked: either may never have been written, and nothing
	 * else could be done about a failure. */
	unlink(r);
	unlink(h);
	rmdir(dir);     /* fails, as it should, while run keeps files there */
	free(r);
	free(h);
	free(dir);
}
