/*
 * containers.c - a container as its state directory tells it: config.json
 * written by run and read back by container (checked: a hand-edited file
 * is named, never trusted), the columns of `container ls`, and what
 * `container inspect` shows.  See store.h for the files of a state
 * directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "containers.h"
#include "restart.h"
#include "lifecycle.h"
#include "minidock.h"
#include "networks.h"
#include "store.h"
#include "volumes.h"

static void set_strings(json_t *obj, const char *key, char *const *v)
{
	json_t *a = json_array();

	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	json_object_set_new(obj, key, a);
}

int container_save(const struct container_config *cc)
{
	json_t *c = json_object();
	char *path = state_file(cc->name, "config.json");
	char *tmp = state_file(cc->name, "config.json.new");
	int ret;

	json_object_set_new(c, "name", json_string(cc->name));
	json_object_set_new(c, "image", json_string(cc->image));
	set_strings(c, "command", cc->command);
	json_object_set_new(c, "created", json_integer((json_int_t)time(NULL)));
	json_object_set_new(c, "hostname", json_string(cc->hostname));
	json_object_set_new(c, "network", json_string(cc->network));
	set_strings(c, "ports", cc->ports);
	set_strings(c, "env", cc->env);
	set_strings(c, "volumes", cc->volumes);
	set_strings(c, "tmpfs", cc->tmpfs);
	json_object_set_new(c, "workdir", cc->workdir ? json_string(cc->workdir) : json_null());
	json_object_set_new(c, "rm", json_boolean(cc->rm));
	json_object_set_new(c, "rootfs", json_string(cc->rootfs));
	json_object_set_new(c, "rootless", json_boolean(cc->rootless));
	/* Whole or not at all: a new file renamed into place (lifecycle.h). */
	errno = 0;
	ret = json_dump_file(c, tmp, JSON_INDENT(2));
	if (ret < 0 && !errno)
		errno = EIO;
	if (ret == 0)
		ret = rename(tmp, path);
	json_decref(c);
	free(tmp);
	free(path);
	return ret < 0 ? -1 : 0;
}

/* Write TEXT to state file FILE of container NAME.  0 or -1 with errno. */
static int write_state_file(const char *name, const char *file, const char *text)
{
	char *path = state_file(name, file);
	int ret = write_file(path, text);

	free(path);
	return ret;
}

/* The files themselves, in the runtime directory. */
static int write_etc(const char *name, const char *network, const char *hostname)
{
	char *hosts = NULL, *resolv = NULL, *text = xasprintf("%s\n", hostname);
	int ret = write_state_file(name, "hostname", text);

	free(text);
	if (ret < 0 || network_is_bridged(network))
		return ret;
	if (!strcmp(network, "host")) {
		hosts = read_file("/etc/hosts", NULL);
		resolv = read_file("/etc/resolv.conf", NULL);
	} else {
		hosts = xasprintf(HOSTS_LOCALHOST "127.0.1.1\t%s\n", hostname);
	}
	if (write_state_file(name, "hosts", hosts ? hosts : HOSTS_LOCALHOST) < 0 ||
	    write_state_file(name, "resolv.conf", resolv ? resolv : "") < 0)
		ret = -1;
	free(resolv);
	free(hosts);
	return ret;
}

/* --add-host NAME:IP lines ADD_HOSTS (NULL-terminated, or NULL), appended
 * to the hosts file write_etc wrote when NETWORK has no bridge (else
 * net-bridge writes them).  0 or -1 with errno. */
static int append_added_hosts(const char *name, const char *network, char *const *add_hosts);

int container_etc_files(const char *name, const char *rootfs, const char *network,
			const char *hostname, char *const *add_hosts)
{
	static const char *const files[] = { "etc/hosts", "etc/resolv.conf", "etc/hostname" };
	int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;
	size_t i;

	if (rootfd < 0)
		return -1;
	for (i = 0; i < sizeof(files) / sizeof(*files); i++) {
		fd = open_in_root(rootfd, files[i], O_PATH, 0);
		if (fd < 0 && errno == ENOENT)
			fd = open_in_root(rootfd, files[i], O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd >= 0)
			close(fd);
	}
	close(rootfd);
	if (write_etc(name, network, hostname) < 0)
		return -1;
	return append_added_hosts(name, network, add_hosts);
}

static int append_added_hosts(const char *name, const char *network, char *const *add_hosts)
{
	char *path, *text, *more;
	int ret;

	if (!add_hosts || !*add_hosts || network_is_bridged(network))
		return 0;       /* none, or net-bridge --add-host writes them */
	path = state_file(name, "hosts");
	if (!(text = read_file(path, NULL))) {
		free(path);
		return -1;
	}
	for (; *add_hosts; add_hosts++) {
		const char *colon = strchr(*add_hosts, ':');     /* checked: runopts */
		more = xasprintf("%s%s\t%.*s\n", text, colon + 1, (int)(colon - *add_hosts), *add_hosts);
		free(text);
		text = more;
	}
	ret = write_file(path, text);
	free(text);
	free(path);
	return ret;
}

int container_write_exit(const char *name, int code)
{
	char *text = xasprintf("%d\n", code);
	int ret = write_state_file(name, "exit", text);

	free(text);
	return ret;
}

/* The type each key of config.json must have, when it is there. */
enum kind { STRING, STRINGS, STRING_OR_NULL, INTEGER, BOOLEAN };
static const struct {
	const char *key;
	enum kind kind;
} schema[] = {
	{ "name", STRING }, { "image", STRING }, { "command", STRINGS },
	{ "created", INTEGER }, { "hostname", STRING }, { "network", STRING },
	{ "ports", STRINGS }, { "env", STRINGS }, { "workdir", STRING_OR_NULL },
	{ "rm", BOOLEAN }, { "rootfs", STRING }, { "rootless", BOOLEAN },
};

static int has_kind(json_t *v, enum kind kind)
{
	size_t i;
	json_t *s;

	switch (kind) {
	case STRING:         return json_is_string(v);
	case STRING_OR_NULL: return json_is_string(v) || json_is_null(v);
	case INTEGER:        return json_is_integer(v);
	case BOOLEAN:        return json_is_boolean(v);
	case STRINGS:
		if (!json_is_array(v))
			return 0;
		json_array_foreach(v, i, s)
			if (!json_is_string(s))
				return 0;
		return 1;
	}
	return 0;
}

/* NULL when CONFIG (read from PATH) is as run writes it, else why not. */
static char *check_config(json_t *config, const char *path)
{
	static const char *const kinds[] = {
		[STRING] = "a string", [STRINGS] = "an array of strings",
		[STRING_OR_NULL] = "a string or null", [INTEGER] = "an integer",
		[BOOLEAN] = "true or false",
	};
	size_t i;

	if (!json_is_object(config))
		return xasprintf("%s: not a JSON object", path);
	for (i = 0; i < sizeof(schema) / sizeof(*schema); i++) {
		json_t *v = json_object_get(config, schema[i].key);
		if (v && !has_kind(v, schema[i].kind))
			return xasprintf("%s: \"%s\" must be %s", path, schema[i].key,
					 kinds[schema[i].kind]);
	}
	return NULL;
}

int container_load(const char *name, struct container *c)
{
	char *path, *text;
	json_error_t jerr;

	memset(c, 0, sizeof(*c));
	if (life_peek(name, &c->phase, &c->resources, &c->held) < 0)
		return -1;
	/* No config.json yet: run was killed before it wrote it. */
	path = state_file(name, "config.json");
	if (access(path, F_OK) == 0) {
		c->config = json_load_file(path, 0, &jerr);
		if (!c->config)
			c->bad = xasprintf("%s: %s", path, jerr.text);
		else
			c->bad = check_config(c->config, path);
	}
	if (!json_is_object(c->config)) {
		json_decref(c->config);
		c->config = json_object();
	}
	free(path);
	c->name = xstrdup(name);
	path = state_file(name, "pid");
	c->started = access(path, F_OK) == 0;
	c->chain = read_live_pid(path);
	free(path);
	path = state_file(name, "supervisor");
	c->supervisor = read_live_pid(path);
	free(path);
	path = state_file(name, "exit");
	text = read_file(path, NULL);
	if (text) {
		c->exited = 1;
		c->exit_code = atoi(text);
		free(text);
	}
	free(path);
	return 0;
}

void container_free(struct container *c)
{
	free(c->name);
	free(c->bad);
	json_decref(c->config);
	memset(c, 0, sizeof(*c));
}

const char *container_str(const struct container *c, const char *key)
{
	const char *s = json_string_value(json_object_get(c->config, key));

	return s ? s : "";
}

char *container_joined(const struct container *c, const char *key, const char *sep)
{
	json_t *a = json_object_get(c->config, key), *v;
	size_t i, len = 1;
	char *out;

	json_array_foreach(a, i, v)
		len += strlen(json_string_value(v) ? json_string_value(v) : "") + strlen(sep);
	out = xcalloc(1, len);
	json_array_foreach(a, i, v) {
		if (i)
			strcat(out, sep);
		strcat(out, json_string_value(v) ? json_string_value(v) : "");
	}
	return out;
}

const char *container_state(const struct container *c, char *buf, size_t size)
{
	if (c->chain)
		snprintf(buf, size, "%s", container_command_started(c->chain) ? "running"
										: "starting");
	else if (c->phase == LIFE_REMOVING)
		/* Being removed; or half removed, when no one holds its lock
		 * (prune ends that). */
		snprintf(buf, size, "removing");
	else if (c->held && c->phase == LIFE_CREATING)
		snprintf(buf, size, "creating");
	else if (c->exited)
		snprintf(buf, size, "exited (%d)", c->exit_code);
	else if (c->held)
		snprintf(buf, size, "starting");
	else if (!c->started && c->phase == LIFE_CREATED)
		snprintf(buf, size, "created");
	else
		/* Its run was killed, or the machine rebooted: prune. */
		snprintf(buf, size, "dead");
	/* run --restart started its chain again (restart.h). */
	if (restart_count(c->name) > 0 && strlen(buf) + 24 < size)
		snprintf(buf + strlen(buf), size - strlen(buf), " (restarted %u)",
			 restart_count(c->name));
	return buf;
}

/* "10.213.0.2" from the hosts file net-bridge wrote, or "-". */
char *container_address(const struct container *c)
{
	char *path = state_file(c->name, "hosts"), *text = read_file(path, NULL);
	char *line, *save = NULL, *addr = NULL;

	free(path);
	if (text && network_is_bridged(container_str(c, "network"))) {
		for (line = strtok_r(text, "\n", &save); line && !addr;
		     line = strtok_r(NULL, "\n", &save)) {
			size_t n = strcspn(line, " \t");
			if (n && line[0] >= '0' && line[0] <= '9' && strncmp(line, "127.", 4)) {
				line[n] = '\0';
				addr = xstrdup(line);
			}
		}
	}
	free(text);
	return addr ? addr : xstrdup("-");
}

char *container_uptime(const struct container *c)
{
	char *path = state_file(c->name, "pid");
	struct stat st;
	long s;

	if (!c->chain || stat(path, &st) < 0) {
		free(path);
		return xstrdup("-");
	}
	free(path);
	s = (long)(time(NULL) - st.st_mtime);
	if (s < 120)
		return xasprintf("%lds", s);
	if (s < 7200)
		return xasprintf("%ldm", s / 60);
	return xasprintf("%ldh", s / 3600);
}

static const char *const columns[] = { "NAME", "IMAGE", "COMMAND", "STATE", "UPTIME",
					"NETWORK", "ADDRESS", "PORTS" };
#define NCOLUMNS (sizeof(columns) / sizeof(*columns))

void container_list_add(struct strv *table, const struct container *c)
{
	char state[48], *cmd, *ports, *addr, *up;
	const char *image = container_str(c, "image"), *network = container_str(c, "network");

	cmd = container_joined(c, "command", " ");
	if (strlen(cmd) > 24)
		strcpy(cmd + 21, "...");
	ports = container_joined(c, "ports", ",");
	addr = container_address(c);
	up = container_uptime(c);
	/* No config.json yet: its run died before writing it. */
	strv_push(table, c->name);
	strv_push(table, image[0] ? image : "-");
	strv_push(table, cmd[0] ? cmd : "-");
	strv_push(table, container_state(c, state, sizeof(state)));
	strv_push(table, up);
	strv_push(table, network[0] ? network : "-");
	strv_push(table, addr);
	strv_push(table, ports[0] ? ports : "-");
	free(up);
	free(addr);
	free(ports);
	free(cmd);
}

/* Each column as wide as its widest cell, three spaces apart: docker
 * ps's text/tabwriter does the same. */
void container_list_print(struct strv *table, FILE *out)
{
	size_t width[NCOLUMNS], i, k;

	for (k = 0; k < NCOLUMNS; k++)
		width[k] = strlen(columns[k]);
	for (i = 0; i < table->n; i++)
		if (strlen(table->v[i]) > width[i % NCOLUMNS])
			width[i % NCOLUMNS] = strlen(table->v[i]);
	for (i = 0; i < table->n + NCOLUMNS; i++) {
		const char *cell = i < NCOLUMNS ? columns[i] : table->v[i - NCOLUMNS];
		k = i % NCOLUMNS;
		if (k < NCOLUMNS - 1)
			fprintf(out, "%-*s   ", (int)width[k], cell);
		else
			fprintf(out, "%s\n", cell);
	}
	strv_free(table);
}

int container_lock(const char *name, int wait_ms, struct life *l)
{
	char *pidfile = state_file(name, "pid");
	int waited = 0, ret;

	while ((ret = life_lock(name, l)) < 0 && errno == EBUSY && waited < wait_ms) {
		sleep_ms(10);
		waited += 10;
	}
	if (ret == 0 && read_live_pid(pidfile)) {
		life_release(l);
		errno = EBUSY;
		ret = -1;
	}
	free(pidfile);
	return ret;
}

/* One mount of container inspect: a volume, a bind mount or a tmpfs. */
static json_t *mount_object(const char *type, const char *name, const char *source,
			    const char *dest, int rw)
{
	json_t *m = json_object();

	json_object_set_new(m, "Type", json_string(type));
	if (name)
		json_object_set_new(m, "Name", json_string(name));
	json_object_set_new(m, "Source", json_string(source));
	json_object_set_new(m, "Destination", json_string(dest));
	json_object_set_new(m, "RW", json_boolean(rw));
	return m;
}

/* config.json's "volumes" (SRC:DST[:ro]: a volume when SRC is a volume's
 * _data) and "tmpfs" (DST[:OPTIONS], read-only with "ro"). */
static json_t *mounts(const struct container *c)
{
	json_t *all = json_array(), *v;
	size_t i;

	json_array_foreach(json_object_get(c->config, "volumes"), i, v) {
		char *src = xstrdup(json_string_value(v) ? json_string_value(v) : ""), *name;
		char *dest = strchr(src, ':'), *mode = NULL;
		if (dest) {
			*dest++ = '\0';
			if ((mode = strchr(dest, ':')))
				*mode++ = '\0';
			name = volume_of_path(src);
			json_array_append_new(all, mount_object(name ? "volume" : "bind", name, src,
								dest, !mode || strcmp(mode, "ro")));
			free(name);
		}
		free(src);
	}
	json_array_foreach(json_object_get(c->config, "tmpfs"), i, v) {
		char *dest = xstrdup(json_string_value(v) ? json_string_value(v) : "");
		char *opts = strchr(dest, ':'), *o, *save = NULL;
		int rw = 1;
		if (opts)
			*opts++ = '\0';
		for (o = opts ? strtok_r(opts, ",", &save) : NULL; o; o = strtok_r(NULL, ",", &save))
			rw = strcmp(o, "ro") ? (strcmp(o, "rw") ? rw : 1) : 0;
		json_array_append_new(all, mount_object("tmpfs", NULL, "", dest, rw));
		free(dest);
	}
	return all;
}

/* NetworkSettings as docker inspect names it: the network and the address
 * (null without one: --network none or host). */
static json_t *network_settings(const struct container *c)
{
	char *addr = container_address(c);
	json_t *n = json_object();

	json_object_set_new(n, "Network", json_string(container_str(c, "network")));
	json_object_set_new(n, "IPAddress", strcmp(addr, "-") ? json_string(addr) : json_null());
	free(addr);
	return n;
}

json_t *container_inspect(const struct container *c)
{
	json_t *o = json_object(), *state = json_object();
	char buf[64];

	json_object_set_new(state, "Status", json_string(container_state(c, buf, sizeof(buf))));
	json_object_set_new(state, "Running", json_boolean(c->chain != 0));
	json_object_set_new(state, "ExitCode", c->exited ? json_integer(c->exit_code) : json_null());
	json_object_set_new(o, "Name", json_string(c->name));
	json_object_set_new(o, "State", state);
	json_object_set_new(o, "RestartCount", json_integer(restart_count(c->name)));
	json_object_set_new(o, "Config", json_deep_copy(c->config));
	json_object_set_new(o, "Mounts", mounts(c));
	json_object_set_new(o, "NetworkSettings", network_settings(c));
	return o;
}

pid_t container_wait_init(const struct container *c)
{
	int i;

	for (i = 0; c->chain && i < 5000; i++) {
		if (container_command_started(c->chain))
			return container_init(c->chain);
		if (kill(c->chain, 0) < 0)
			break;
		sleep_ms(1);
	}
	return 0;
}

int container_supervisor_runs(void *pidfile)
{
	return read_live_pid(pidfile) != 0;
}

void container_finish(struct life *l, int rm, int detached, int code, int quiet)
{
	if (!detached)
		l->resources &= ~(LIFE_CGROUP | LIFE_NETWORK);
	if (rm) {
		if (life_remove(l, quiet) < 0)
			warn_errno("remove %s/%s", md_run_dir(), l->name);
		return;
	}
	if (life_undo(l, LIFE_CGROUP | LIFE_NETWORK | LIFE_ROOTFS, quiet) < 0)
		warn_errno("umount %s/containers/%s/rootfs", md_lib_dir(), l->name);
	if (container_write_exit(l->name, code) < 0)
		warn_errno("write %s/%s/exit", md_run_dir(), l->name);
	if (life_set_phase(l, LIFE_EXITED) < 0)
		warn_errno("write %s/%s/state", md_run_dir(), l->name);
}
