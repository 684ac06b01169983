/*
 * resolv.c - a container's resolv.conf and hosts: see resolv.h.
 *
 * Read: resolv.conf(5), hosts(5).  Used by: net-bridge.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "minidock.h"
#include "resolv.h"
#include "rtnl.h"

static char *append(char *s, char *t)
{
	char *r = xasprintf("%s%s", s, t);

	free(s);
	free(t);
	return r;
}

/* The nameserver, search and options lines of FILE, without 127.x
 * nameservers (the host's own resolver: unreachable from inside). */
static char *usable_resolv_lines(const char *file)
{
	char *text = read_file(file, NULL), *line, *save;
	char *out = xstrdup("");

	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char addr[64];
		uint32_t a;

		if (sscanf(line, " nameserver %63s", addr) == 1 &&
		    parse_ip(addr, &a) == 0 && (a >> 24) != 127)
			out = append(out, xasprintf("nameserver %s\n", addr));
		else if (!strncmp(line, "search ", 7) || !strncmp(line, "options ", 8))
			out = append(out, xasprintf("%s\n", line));
	}
	free(text);
	return out;
}

static char *host_nameservers(void)
{
	char *out = usable_resolv_lines("/etc/resolv.conf");

	/* With systemd-resolved, /etc/resolv.conf names 127.0.0.53; the
	 * servers it forwards to are listed here. */
	if (!strstr(out, "nameserver")) {
		free(out);
		out = usable_resolv_lines("/run/systemd/resolve/resolv.conf");
	}
	if (!strstr(out, "nameserver"))
		/* What Docker falls back to as well. */
		out = append(out, xstrdup("nameserver 8.8.8.8\nnameserver 8.8.4.4\n"));
	return out;
}

int resolv_write(const char *dir, const char *name, uint32_t addr,
		 char **dns, size_t ndns)
{
	char *path, *text, a[INET_ADDRSTRLEN];
	int ret;
	size_t i;

	if (mkdir_p(dir, 0755) < 0)
		return -1;
	if (ndns) {
		text = xstrdup("");
		for (i = 0; i < ndns; i++)
			text = append(text, xasprintf("nameserver %s\n", dns[i]));
	} else {
		text = host_nameservers();
	}
	path = xasprintf("%s/resolv.conf", dir);
	ret = write_file(path, text);
	free(path);
	free(text);
	if (ret < 0)
		return -1;
	path = xasprintf("%s/hosts", dir);
	text = xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n",
			 ip_str(addr, a), name);
	ret = write_file(path, text);
	free(path);
	free(text);
	return ret;
}

/* Only our two files: run keeps others in the same directory. */
void resolv_remove(const char *dir)
{
	char *r = xasprintf("%s/resolv.conf", dir), *h = xasprintf("%s/hosts", dir);

	/* Unchecked: either may never have been written, and nothing
	 * else could be done about a failure. */
	unlink(r);
	unlink(h);
	rmdir(dir);     /* fails, as it should, while run keeps files there */
	free(r);
	free(h);
}
