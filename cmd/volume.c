/*
 * volume - named volumes, as `docker volume`: data that outlives the
 * containers.  The companion of `container` and `image`.
 *
 * A container's writable layer goes with it (container rm).  What must
 * last, a database's files, goes into a volume: a plain directory of the
 * host, bind-mounted into the container by ns-enter (mount_setattr(2),
 * move_mount(2)) as any `-v /host/path:/path` is.  `run -v NAME:/path`
 * names one (a source without '/'), and run makes it on first use:
 *
 *   /var/lib/minidock/volumes/NAME/_data      what the container sees at /path
 *   /var/lib/minidock/volumes/NAME/created    when it was made
 *
 * A new, empty volume first gets a copy of what the image holds at /path
 * (owners, modes, links), as Docker does: a volume on /etc starts with
 * the image's /etc.  Later runs find it full and copy nothing.
 *
 * Which containers use a volume is in their own state files (lifecycle.h:
 * "volume NAME"), recorded before the volume is made, so that rm refuses
 * a volume any container names, running, exited, or half-made by a run
 * killed on the way (prune it first).  One lock, volumes/.lock (flock(2)),
 * is held by whoever changes the volumes or their users, so rm never
 * races with a run that is about to use the volume.
 *
 * So each verb is small:
 *   create   mkdir a hidden directory, rename(2) it into place
 *   ls       read volumes/
 *   inspect  its path, its birth, the containers that name it
 *   rm       under the lock: no container names it, then rename, rm -r
 *   prune    rm of every volume no container names, and what it freed;
 *            and the hidden directories a crash left
 *
 * Read: mount(2) MS_BIND, flock(2), rename(2); docker's "Volumes" guide.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "jsonfile.h"
#include "minidock.h"
#include "store.h"
#include "verbs.h"
#include "volumes.h"

static const char usage_text[] =
"Usage: volume create [NAME]\n"
"       volume ls [-q] [-f dangling=true|false]\n"
"       volume inspect NAME...\n"
"       volume rm [-f] NAME...\n"
"       volume prune [-f]\n"
"Named volumes: directories that outlive containers, mounted by\n"
"run -v NAME:/path[:ro] (in $MINIDOCK_LIB_DIR/volumes, /var/lib/minidock).\n"
"\n"
"  create    make volume NAME, empty (nothing happens if it exists); without\n"
"            NAME, a new one named with 64 random hex digits, as docker's\n"
"  ls        every volume: driver and name (-q: names only; -f dangling=true:\n"
"            only those no container uses, false: only those used)\n"
"  inspect   as JSON: name, mountpoint, created, the containers using it\n"
"  rm        remove volumes; refused while any container (running or not)\n"
"            uses one, even with -f (-f: no error for a missing volume)\n"
"  prune     remove every volume no container uses, and say what it freed\n"
"            (asks first, unless -f)\n"
"  --verbose every step, naming the system call;  --help;  --version\n"
"\n"
"NAME: 2 to 240 of [a-zA-Z0-9_.-], starting with a letter or digit.\n"
"Example: run --rm -v db:/data busybox sh -c 'echo hello > /data/f'\n"
"         run --rm -v db:/data:ro busybox cat /data/f;  volume rm db\n";

static int cmd_create(int argc, char **argv);
static int cmd_ls(int argc, char **argv);
static int cmd_inspect(int argc, char **argv);
static int cmd_rm(int argc, char **argv);
static int cmd_prune(int argc, char **argv);

static const struct verb verbs[] = {
	{ "create", cmd_create }, { "ls", cmd_ls }, { "list", cmd_ls },
	{ "inspect", cmd_inspect }, { "rm", cmd_rm }, { "remove", cmd_rm },
	{ "prune", cmd_prune }, { NULL, NULL },
};

/* A verb, then its own options (common/verbs.c): an ordinary user's
 * volumes are in its own directory (store.h). */
int main(int argc, char **argv)
{
	md_init("volume");
	return verbs_main(argc, argv, usage_text, verbs);
}

/* Exit when NAME breaks docker's rule for volume names. */
static void check_name(const char *name)
{
	char *why;

	if (!volume_valid_name(name)) {
		why = volume_bad_name(name);
		die_x("%s", why);
	}
}

/* Take the lock of the volumes (volumes.h), or exit. */
static int lock_volumes(void)
{
	int fd = volumes_lock();

	if (fd < 0)
		die("lock %s/volumes/.lock", md_lib_dir());
	return fd;
}

/* ---- create ---- */

static int cmd_create(int argc, char **argv)
{
	char *name = argc == 2 ? xstrdup(argv[1]) : volume_random_name();
	int lock;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		die_x("create: expected at most one NAME (usage: volume create [NAME])");
	if (!name)
		die("create: getrandom: a name for the volume");
	check_name(name);
	lock = lock_volumes();
	if (volume_create(name) < 0)
		die("create: mkdir %s/volumes/%s", md_lib_dir(), name);
	close(lock);
	printf("%s\n", name);
	free(name);
	return 0;
}

/* ---- ls ---- */

/* -f dangling=true|false, as docker: 1, 0, or -1 for no filter. */
static int dangling_filter(const char *arg)
{
	if (!strcmp(arg, "dangling=true") || !strcmp(arg, "dangling=1"))
		return 1;
	if (!strcmp(arg, "dangling=false") || !strcmp(arg, "dangling=0"))
		return 0;
	die_x("ls: -f %s: expected dangling=true or dangling=false", arg);
}

static int cmd_ls(int argc, char **argv)
{
	struct strv names = { 0 };
	int quiet = 0, dangling = -1, c;
	size_t i;

	while ((c = getopt(argc, argv, "+qf:")) != -1) {
		if (c == 'q')
			quiet = 1;
		else if (c == 'f')
			dangling = dangling_filter(optarg);
		else
			die_x("ls: usage: volume ls [-q] [-f dangling=true|false]");
	}
	if (optind != argc)
		die_x("ls: takes no argument (usage: volume ls [-q] [-f dangling=true|false])");
	if (volume_names(&names) < 0)
		die("ls: read %s/volumes", md_lib_dir());
	/* docker's columns: the driver (here always the local one), the name. */
	if (!quiet)
		printf("%-9s %s\n", "DRIVER", "VOLUME NAME");
	for (i = 0; i < names.n; i++) {
		if (dangling >= 0) {
			struct strv users = { 0 };
			if (volume_users(names.v[i], &users) < 0)
				die("ls: read %s", md_run_dir());
			c = users.n == 0;
			strv_free(&users);
			if (c != dangling)
				continue;
		}
		if (quiet)
			printf("%s\n", names.v[i]);
		else
			printf("%-9s %s\n", "local", names.v[i]);
	}
	strv_free(&names);
	return 0;
}

/* ---- inspect ---- */

/* What docker volume inspect says of NAME, and who uses it. */
static json_t *describe(const char *name)
{
	struct strv users = { 0 };
	char *data = volume_data(name), *created_file = volume_dir(name), *created;
	json_t *o = json_object(), *used = json_array();
	size_t i;

	if (!o || !used)
		die_x("inspect: out of memory");
	created = xasprintf("%s/created", created_file);
	free(created_file);
	created_file = created;
	created = read_file(created_file, NULL);
	if (created && strchr(created, '\n'))
		*strchr(created, '\n') = '\0';
	if (volume_users(name, &users) < 0)
		die("inspect: read %s", md_run_dir());
	for (i = 0; i < users.n; i++)
		json_array_append_new(used, json_string(users.v[i]));
	json_object_set_new(o, "Name", json_string(name));
	json_object_set_new(o, "Driver", json_string("local"));
	json_object_set_new(o, "Mountpoint", json_string(data));
	json_object_set_new(o, "CreatedAt", created ? json_string(created) : json_null());
	json_object_set_new(o, "Scope", json_string("local"));
	json_object_set_new(o, "UsedBy", used);
	strv_free(&users);
	free(created);
	free(created_file);
	free(data);
	return o;
}

static int cmd_inspect(int argc, char **argv)
{
	json_t *all = json_array();
	int i;

	if (argc < 2)
		die_x("inspect: expected NAME (usage: volume inspect NAME...)");
	if (!all)
		die_x("inspect: out of memory");
	for (i = 1; i < argc; i++) {
		check_name(argv[i]);
		if (!volume_exists(argv[i]))
			die_x("%s: no such volume (see: volume ls)", argv[i]);
		json_array_append_new(all, describe(argv[i]));
	}
	if (json_print(all, stdout, JSON_INDENT(4)) < 0)   /* jsonfile.h */
		die_x("inspect: out of memory");
	json_decref(all);
	return 0;
}

/* ---- rm, prune ---- */

/* Remove NAME unless a container names it (the lock is held).  0 or -1. */
static int remove_volume(const char *name, int force)
{
	struct strv users = { 0 };
	int ret = -1;

	if (!volume_valid_name(name)) {
		char *why = volume_bad_name(name);
		warn_x("%s", why);
		free(why);
	} else if (!volume_exists(name)) {
		if (force)
			ret = 0;
		else
			warn_x("%s: no such volume (see: volume ls)", name);
	} else if (volume_users(name, &users) < 0) {
		warn_errno("%s: read %s", name, md_run_dir());
	} else if (users.n) {
		/* As docker: even -f does not remove what a container uses. */
		warn_x("%s: volume is in use by container %s (remove it first: container rm %s)",
		       name, users.v[0], users.v[0]);
	} else if (volume_remove(name) < 0) {
		warn_errno("%s: remove %s/volumes/%s", name, md_lib_dir(), name);
	} else {
		ret = 0;
	}
	strv_free(&users);
	return ret;
}

static int cmd_rm(int argc, char **argv)
{
	int force = 0, failed = 0, lock, c, i;

	while ((c = getopt(argc, argv, "+f")) != -1) {
		if (c != 'f')
			die_x("rm: usage: volume rm [-f] NAME...");
		force = 1;
	}
	if (optind >= argc)
		die_x("rm: expected NAME (usage: volume rm [-f] NAME...)");
	lock = lock_volumes();
	for (i = optind; i < argc; i++) {
		if (remove_volume(argv[i], force) < 0)
			failed = 1;
		else
			printf("%s\n", argv[i]);
	}
	close(lock);
	return failed ? EXIT_TOOL_FAILED : 0;
}

/* Without -f, ask as docker does: only "y" or "yes" goes on. */
static int confirm(void)
{
	char line[16];

	fputs("WARNING! This will remove all volumes not used by at least one container.\n"
	      "Are you sure you want to continue? [y/N] ", stdout);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		line[0] = '\0';
	/* A terminal echoed the answer and its newline; a pipe did not. */
	if (!isatty(STDIN_FILENO))
		putchar('\n');
	line[strcspn(line, "\n")] = '\0';
	return !strcasecmp(line, "y") || !strcasecmp(line, "yes");
}

static int cmd_prune(int argc, char **argv)
{
	struct strv names = { 0 };
	uint64_t freed = 0, size;
	int force = 0, failed = 0, lock, header = 0, c;
	char human[32];
	size_t i;

	while ((c = getopt(argc, argv, "+f")) != -1) {
		if (c != 'f')
			die_x("prune: usage: volume prune [-f]");
		force = 1;
	}
	if (optind != argc)
		die_x("prune: takes no argument but -f");
	if (!force && !confirm())
		return 0;
	lock = lock_volumes();
	if (volume_prune_leftovers() < 0) {
		warn_errno("prune: what a crash left in %s/volumes", md_lib_dir());
		failed = 1;
	}
	if (volume_names(&names) < 0)
		die("prune: read %s/volumes", md_lib_dir());
	for (i = 0; i < names.n; i++) {
		struct strv users = { 0 };
		if (volume_users(names.v[i], &users) < 0) {
			warn_errno("%s: read %s", names.v[i], md_run_dir());
			failed = 1;
		} else if (!users.n) {
			size = volume_size(names.v[i]);
			if (volume_remove(names.v[i]) < 0) {
				warn_errno("%s: remove %s/volumes/%s", names.v[i], md_lib_dir(),
					   names.v[i]);
				failed = 1;
			} else {
				if (!header++)
					printf("Deleted Volumes:\n");
				printf("%s\n", names.v[i]);
				freed += size;
			}
		}
		strv_free(&users);
	}
	close(lock);
	printf("%sTotal reclaimed space: %s\n", header ? "\n" : "",
	       volume_human_size(freed, human, sizeof(human)));
	strv_free(&names);
	return failed ? EXIT_TOOL_FAILED : 0;
}
