/*
 * networks.c - the records of user-defined networks, one JSON file each
 * in $MINIDOCK_LIB_DIR/networks/: see networks.h.
 *
 * Read: flock(2), rename(2), jansson's json_load_file.
 * Used by: network, net-bridge, run, container.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <jansson.h>

#include "jsonfile.h"
#include "minidock.h"
#include "networks.h"

int network_is_bridged(const char *network)
{
	return strcmp(network, "none") && strcmp(network, "host");
}

int network_is_user_defined(const char *network)
{
	return network_is_bridged(network) && strcmp(network, "bridge");
}

char *network_bridge_name(const char *name)
{
	if (strlen("md-") + strlen(name) < IFNAMSIZ)
		return xasprintf("md-%s", name);
	return xasprintf("md-%08x", (uint32_t)hash_str(name));
}

static char *networks_path(const char *file, const char *suffix)
{
	return xasprintf("%s/networks/%s%s", md_lib_dir(), file, suffix);
}

int networks_lock(int how)
{
	char *dir = networks_path("", ""), *path = networks_path("lock", "");
	int fd = -1, e;

	if (mkdir_p(dir, 0755) == 0)
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	while (fd >= 0 && flock(fd, how) < 0) {
		if (errno != EINTR) {
			e = errno;
			close(fd);
			fd = -1;
			errno = e;
		}
	}
	e = errno;
	free(path);
	free(dir);
	errno = e;
	return fd;
}

void network_free(struct network *n)
{
	free(n->name);
	free(n->bridge);
	free(n->subnet);
	memset(n, 0, sizeof(*n));
}

int network_load(const char *name, struct network *n)
{
	char *path;
	json_t *j, *created;
	const char *bridge, *subnet, *jname;

	memset(n, 0, sizeof(*n));
	if (!valid_name(name)) {
		errno = ENOENT;
		return -1;
	}
	path = networks_path(name, ".json");
	j = json_load_file(path, 0, NULL);
	if (!j) {
		errno = access(path, F_OK) == 0 ? EINVAL : ENOENT;
		free(path);
		return -1;
	}
	free(path);
	jname = json_string_value(json_object_get(j, "name"));
	bridge = json_string_value(json_object_get(j, "bridge"));
	subnet = json_string_value(json_object_get(j, "subnet"));
	created = json_object_get(j, "created");
	/* Names become interface names and rules: check what was read
	 * (net-bridge parses the subnet itself; rtnl.c is not linked here). */
	if (!jname || strcmp(jname, name) || !bridge || !valid_name(bridge) ||
	    strlen(bridge) >= IFNAMSIZ || !subnet || !subnet[0] || strlen(subnet) > 18 ||
	    strspn(subnet, "0123456789./") != strlen(subnet)) {
		json_decref(j);
		errno = EINVAL;
		return -1;
	}
	n->name = xstrdup(name);
	n->bridge = xstrdup(bridge);
	n->subnet = xstrdup(subnet);
	n->created = json_is_integer(created) ? (long long)json_integer_value(created) : 0;
	json_decref(j);
	return 0;
}

int network_exists(const char *name)
{
	struct network n;
	int there = network_load(name, &n) == 0;

	network_free(&n);
	return there;
}

int network_save(const struct network *n)
{
	char *path = networks_path(n->name, ".json");
	json_t *j = json_object();
	int ret, e;

	json_object_set_new(j, "name", json_string(n->name));
	json_object_set_new(j, "bridge", json_string(n->bridge));
	json_object_set_new(j, "subnet", json_string(n->subnet));
	json_object_set_new(j, "created", json_integer((json_int_t)n->created));
	ret = json_write_atomic(j, path, JSON_INDENT(2));     /* jsonfile.h */
	e = errno;
	json_decref(j);
	free(path);
	errno = e;
	return ret;
}

int network_delete(const char *name)
{
	char *path = networks_path(name, ".json");
	int ret = unlink(path);

	free(path);
	return ret;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int network_names(struct strv *names)
{
	char *dir = networks_path("", "");
	DIR *d = opendir(dir);
	struct dirent *de;
	int e;

	free(dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((errno = 0, de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char *name;

		if (len <= 5 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		name = xasprintf("%.*s", (int)(len - 5), de->d_name);
		if (valid_name(name))
			strv_push(names, name);
		free(name);
	}
	e = errno;
	closedir(d);
	if (names->n)
		qsort(names->v, names->n, sizeof(*names->v), by_name);
	errno = e;
	return e ? -1 : 0;
}

int network_by_bridge(const char *bridge, struct network *n)
{
	struct strv names = { 0 };
	size_t i;
	int ret = -1;

	memset(n, 0, sizeof(*n));
	if (network_names(&names) < 0)
		return -1;
	for (i = 0; i < names.n && ret < 0; i++) {
		if (network_load(names.v[i], n) == 0 && !strcmp(n->bridge, bridge))
			ret = 0;
		else
			network_free(n);
	}
	strv_free(&names);
	if (ret < 0)
		errno = ENOENT;
	return ret;
}

void network_print_json(const struct network *n, char *const *containers,
			char *const *addresses, FILE *out)
{
	json_t *j = json_object(), *c = json_array();
	char *text;
	size_t i;

	json_object_set_new(j, "name", json_string(n->name));
	json_object_set_new(j, "driver", json_string("bridge"));
	json_object_set_new(j, "bridge", json_string(n->bridge));
	json_object_set_new(j, "subnet", json_string(n->subnet));
	json_object_set_new(j, "created", json_integer((json_int_t)n->created));
	for (i = 0; containers && containers[i]; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "name", json_string(containers[i]));
		json_object_set_new(e, "address", json_string(addresses[i]));
		json_array_append_new(c, e);
	}
	json_object_set_new(j, "containers", c);
	text = json_dumps(j, JSON_INDENT(2));
	if (text)
		fprintf(out, "%s\n", text);
	free(text);
	json_decref(j);
}
