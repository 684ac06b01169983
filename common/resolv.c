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
#include "networks.h"
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

/* Write TEXT in DIR/FILE.  0 or -1 with errno. */
static int write_in(const char *dir, const char *file, const char *text)
{
	char *path = xasprintf("%s/%s", dir, file);
	int ret = write_file(path, text);

	free(path);
	return ret;
}

/* "ADDR\tNAME ALIAS...\n" of container NAME: how the others know it. */
static char *hosts_line(const char *dir, const char *name, uint32_t addr)
{
	char *path = xasprintf("%s/aliases", dir), *aliases = read_file(path, NULL);
	char a[INET_ADDRSTRLEN], *line, *p;
	size_t len = aliases ? strlen(aliases) : 0;

	while (len && aliases[len - 1] == '\n')
		aliases[--len] = '\0';
	for (p = aliases; p && *p; p++)         /* one a line: one line */
		if (*p == '\n')
			*p = ' ';
	line = xasprintf("%s\t%s%s%s\n", ip_str(addr, a), name, len ? " " : "", len ? aliases : "");
	free(aliases);
	free(path);
	return line;
}

/*
 * Container NAME's hosts: localhost, itself, its --add-host lines, then
 * OTHERS (NULL on the default bridge, as Docker's, which has no names).
 *
 * Written in place, O_TRUNC and write(2), never renamed: ns-enter
 * bind-mounted this very file (its inode) on the container's /etc/hosts,
 * and a file renamed over it would not be seen inside.  A reader may see
 * it empty for an instant; Docker's own updates of /etc/hosts share that.
 */
static int write_hosts(const char *dir, const char *name, uint32_t addr, const char *others)
{
	char *add_path = xasprintf("%s/hosts.add", dir), *add = read_file(add_path, NULL);
	char *self = hosts_line(dir, name, addr);
	char *text = xasprintf(HOSTS_LOCALHOST "%s%s%s", self, add ? add : "", others ? others : "");
	int ret = write_in(dir, "hosts", text);

	free(text);
	free(self);
	free(add);
	free(add_path);
	return ret;
}

/* Each of WORDS on a line of its own ("NAME:IP" -> "IP\tNAME" for SEP). */
static char *lines_of(char **words, size_t n, int as_hosts)
{
	char *out = NULL;
	size_t len, i;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *colon = strchr(words[i], ':');
		if (as_hosts && colon)
			fprintf(f, "%s\t%.*s\n", colon + 1, (int)(colon - words[i]), words[i]);
		else
			fprintf(f, "%s\n", words[i]);
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

int resolv_write(const char *name, uint32_t addr, char **dns, size_t ndns,
		 const struct resolv_names *nm)
{
	char *dir = xasprintf("%s/%s", md_run_dir(), name), *path, *text;
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
	ret = -1;
	if ((text = lines_of(nm->aliases, nm->naliases, 0))) {
		ret = write_in(dir, "aliases", text);
		free(text);
	}
	if (ret == 0 && (text = lines_of(nm->add_hosts, nm->nadd_hosts, 1))) {
		ret = write_in(dir, "hosts.add", text);
		free(text);
	}
	if (ret == 0)
		ret = write_hosts(dir, name, addr, NULL);
out:
	e = errno;
	free(dir);
	errno = e;
	return ret;
}

/* The hosts lines of the containers of L on BRIDGE but L0 (malloc'd). */
static char *others_on(const struct leases *L, const char *bridge, const struct lease *l0)
{
	char *out = NULL, *dir, *line;
	size_t len, i;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	for (i = 0; i < L->n; i++) {
		if (&L->v[i] == l0 || strcmp(L->v[i].bridge, bridge))
			continue;
		dir = xasprintf("%s/%s", md_run_dir(), L->v[i].name);
		line = hosts_line(dir, L->v[i].name, L->v[i].addr);
		fputs(line, f);
		free(line);
		free(dir);
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

int resolv_share_names(const struct leases *L, const char *bridge)
{
	struct network n;
	char *dir, *others;
	size_t i;
	int e = 0;

	/* The default bridge shares no names, as Docker's. */
	if (network_by_bridge(bridge, &n) < 0)
		return errno == ENOENT ? 0 : -1;
	network_free(&n);
	vlog("write the hosts files of the containers on %s (O_TRUNC, in place)", bridge);
	for (i = 0; i < L->n; i++) {
		const struct lease *l = &L->v[i];

		if (strcmp(l->bridge, bridge))
			continue;
		dir = xasprintf("%s/%s", md_run_dir(), l->name);
		others = others_on(L, bridge, l);
		/* ENOENT: its directory is gone, it is on its way out. */
		if ((!others || write_hosts(dir, l->name, l->addr, others) < 0) &&
		    (!others || errno != ENOENT) && !e)
			e = errno ? errno : ENOMEM;
		free(others);
		free(dir);
	}
	errno = e;
	return e ? -1 : 0;
}

/* Only our files: run keeps others in the same directory. */
void resolv_remove(const char *name)
{
	static const char *const files[] = { "resolv.conf", "hosts", "aliases", "hosts.add" };
	char *dir = xasprintf("%s/%s", md_run_dir(), name), *path;
	size_t i;

	/* Unchecked: any may never have been written, and nothing
	 * else could be done about a failure. */
	for (i = 0; i < sizeof(files) / sizeof(*files); i++) {
		path = xasprintf("%s/%s", dir, files[i]);
		unlink(path);
		free(path);
	}
	rmdir(dir);     /* fails, as it should, while run keeps files there */
	free(dir);
}
