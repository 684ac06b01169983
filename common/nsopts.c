/*
 * nsopts.c - ns-enter's command line (see nsopts.h): the option table,
 * the usage text, the parsing of each value and the checks that the
 * options go together.  Nothing is created here: a bad input must leave
 * nothing behind.  Used by ns-enter.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "minidock.h"
#include "nsopts.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const char usage[] =
"Usage: ns-enter [--pid] [--mount] [--uts] [--ipc] [--net[=FILE]] [--cgroup]\n"
"                [--userns[=single]] [--time] [--time-offset CLOCK=SECONDS,...]\n"
"                [--all] [--root DIR [--overlay OPTIONS]] [--read-only]\n"
"                [--volume SRC:DST[:ro]]... [--tmpfs DST[:OPTIONS]]...\n"
"                [--hostname NAME] [--workdir DIR] [--env NAME=VALUE]...\n"
"                [--user UID[:GID]] [--no-init] [--verbose]\n"
"                [--privileged] [--cap-add CAP] [--cap-drop CAP]\n"
"                [--security-opt OPT] -- COMMAND [ARG...]\n"
"       ns-enter --target PID [--workdir DIR] [--env NAME=VALUE]...\n"
"                [--user UID[:GID]] -- COMMAND [ARG...]\n"
"\n"
"Run COMMAND in new namespaces and, with --root, in its own root filesystem.\n"
"\n"
"Namespaces (each option creates one):\n"
"  --pid            process IDs: COMMAND runs under a small init, PID 1\n"
"  --mount          mount table (all mounts made private first)\n"
"  --uts            hostname      --ipc       System V IPC, message queues\n"
"  --net            network stack, with only lo (brought up)\n"
"  --net=FILE       join the network namespace FILE (/run/netns/NAME)\n"
"  --cgroup         cgroup view (COMMAND's cgroup appears as /)\n"
"  --userns         user IDs: the caller is root inside (works unprivileged);\n"
"                   with a range in /etc/subuid and /etc/subgid, IDs 1..N\n"
"                   map to it (newuidmap, newgidmap), else only root exists\n"
"  --userns=single  the one-ID map \"0 UID 1\" even where a range exists\n"
"  --time           monotonic and boot clocks (the host's, unless offset)\n"
"  --time-offset boottime=SECONDS,monotonic=SECONDS\n"
"                   either or both, implies --time: COMMAND's clocks run\n"
"                   SECONDS ahead of the host's (behind if negative)\n"
"  --all            pid, mount, uts, ipc, net and cgroup, like docker run\n"
"\n"
"Container:\n"
"  --root DIR       pivot_root into DIR (implies --mount), with a fresh /proc\n"
"                   (with --pid), a read-only /sys and a minimal /dev\n"
"  --overlay lowerdir=L2:L1,upperdir=U,workdir=W\n"
"                   first mount an overlayfs with these options on DIR, in\n"
"                   the new namespaces (with --userns: inside the user\n"
"                   namespace, Linux 5.11 or later; add userxattr)\n"
"  --read-only      make the root read-only (/tmp stays a writable tmpfs)\n"
"  --volume SRC:DST[:ro]  bind-mount host path SRC at DST (read-only: ro)\n"
"  --tmpfs DST[:OPTIONS]  a tmpfs at DST (RAM, the container's own), as\n"
"                   docker run's: nosuid,nodev,noexec unless OPTIONS say\n"
"                   otherwise (ro, exec, size=64m, mode=1777, uid=, gid=)\n"
"  --hostname NAME  set the hostname (implies --uts)\n"
"  --workdir DIR    working directory of COMMAND (created under --root)\n"
"  --env NAME=VALUE set a variable for COMMAND (repeatable)\n"
"  --user UID[:GID] run COMMAND as UID (GID: from the container's\n"
"                   /etc/passwd, else 0, as docker run does)\n"
"  --no-init        no init: COMMAND itself is PID 1\n"
"  --target PID     join every namespace, the root and the working\n"
"                   directory of process PID (a running container)\n"
"\n"
"Security (see common/security.h):\n"
"  --privileged     all capabilities, no seccomp, nothing masked\n"
"  --cap-add CAP, --cap-drop CAP, --security-opt OPT  as docker run\n"
"\n"
"  --verbose        print each system call (also MINIDOCK_VERBOSE=1)\n"
"  -h, --help       this help        --version   the version\n"
"\n"
"Exit status: COMMAND's own; 128+N if it died of signal N; 125 if ns-enter\n"
"failed; 126 if COMMAND cannot be executed; 127 if it is not found.\n"
"\n"
"Example:\n"
"  ns-enter --all --hostname box --root images/build/busybox/rootfs -- /bin/sh\n";

enum {
	OPT_PID = 256, OPT_MOUNT, OPT_UTS, OPT_IPC, OPT_NET, OPT_CGROUP,
	OPT_USERNS, OPT_TIME, OPT_TIME_OFFSET, OPT_ALL, OPT_ROOT, OPT_READ_ONLY,
	OPT_VOLUME, OPT_HOSTNAME, OPT_WORKDIR, OPT_ENV, OPT_USER, OPT_NO_INIT,
	OPT_VERBOSE, OPT_TARGET, OPT_PRIVILEGED, OPT_CAP_ADD, OPT_CAP_DROP,
	OPT_SECURITY_OPT, OPT_VERSION, OPT_TMPFS, OPT_OVERLAY,
};

static const struct option long_options[] = {
	{ "pid",          no_argument,       NULL, OPT_PID },
	{ "mount",        no_argument,       NULL, OPT_MOUNT },
	{ "uts",          no_argument,       NULL, OPT_UTS },
	{ "ipc",          no_argument,       NULL, OPT_IPC },
	{ "net",          optional_argument, NULL, OPT_NET },
	{ "cgroup",       no_argument,       NULL, OPT_CGROUP },
	{ "userns",       optional_argument, NULL, OPT_USERNS },
	{ "time",         no_argument,       NULL, OPT_TIME },
	{ "time-offset",  required_argument, NULL, OPT_TIME_OFFSET },
	{ "all",          no_argument,       NULL, OPT_ALL },
	{ "root",         required_argument, NULL, OPT_ROOT },
	{ "overlay",      required_argument, NULL, OPT_OVERLAY },
	{ "read-only",    no_argument,       NULL, OPT_READ_ONLY },
	{ "volume",       required_argument, NULL, OPT_VOLUME },
	{ "tmpfs",        required_argument, NULL, OPT_TMPFS },
	{ "hostname",     required_argument, NULL, OPT_HOSTNAME },
	{ "workdir",      required_argument, NULL, OPT_WORKDIR },
	{ "env",          required_argument, NULL, OPT_ENV },
	{ "user",         required_argument, NULL, OPT_USER },
	{ "no-init",      no_argument,       NULL, OPT_NO_INIT },
	{ "verbose",      no_argument,       NULL, OPT_VERBOSE },
	{ "target",       required_argument, NULL, OPT_TARGET },
	{ "privileged",   no_argument,       NULL, OPT_PRIVILEGED },
	{ "cap-add",      required_argument, NULL, OPT_CAP_ADD },
	{ "cap-drop",     required_argument, NULL, OPT_CAP_DROP },
	{ "security-opt", required_argument, NULL, OPT_SECURITY_OPT },
	{ "help",         no_argument,       NULL, 'h' },
	{ "version",      no_argument,       NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* *WHY = the message; returns -1. */
static int refuse(char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(char **why, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	*why = xstrdup(text);
	return -1;
}

static int parse_user(const char *arg, struct options *o, char **why)
{
	unsigned long long v;
	char *copy = xstrdup(arg), *colon = strchr(copy, ':');
	int rc = 0;

	if (colon)
		*colon = '\0';
	if (parse_uint(copy, (uid_t)-2, &v) < 0) {
		rc = refuse(why, "--user %s: UID must be a number (UID[:GID])", arg);
		goto out;
	}
	o->uid = (uid_t)v;
	if (colon) {
		if (parse_uint(colon + 1, (gid_t)-2, &v) < 0) {
			rc = refuse(why, "--user %s: GID must be a number (UID[:GID])", arg);
			goto out;
		}
		o->gid = (gid_t)v;
		o->set_group = 1;
	}
	o->set_user = 1;
out:
	free(copy);
	return rc;
}

static int parse_volume(const char *arg, struct options *o, char **why)
{
	char *spec = xstrdup(arg), *dest, *mode, *source;
	struct volume *v;
	struct stat st;
	int rc = -1;

	dest = strchr(spec, ':');
	if (!dest || dest == spec || !dest[1]) {
		refuse(why, "--volume %s: expected SRC:DST[:ro]", arg);
		goto out;
	}
	*dest++ = '\0';
	mode = strchr(dest, ':');
	if (mode)
		*mode++ = '\0';
	if (mode && strcmp(mode, "ro") && strcmp(mode, "rw"))
		refuse(why, "--volume %s: unknown mode '%s' (ro or rw)", arg, mode);
	else if (dest[0] != '/' || !dest[1])
		refuse(why, "--volume %s: DST must be an absolute path other than /", arg);
	else if (stat(spec, &st) < 0 || !(source = realpath(spec, NULL)))
		refuse(why, "--volume %s: %s: %s", arg, spec, strerror(errno));
	else
		rc = 0;
	if (rc < 0)
		goto out;
	o->volumes = xrealloc(o->volumes, (o->n_volumes + 1) * sizeof(*v));
	v = &o->volumes[o->n_volumes++];
	v->source = source;
	v->dest = xstrdup(dest);
	v->read_only = mode && !strcmp(mode, "ro");
	v->is_dir = S_ISDIR(st.st_mode);
	v->tree_fd = -1;
	v->flags = 0;
	v->data = NULL;
out:
	free(spec);
	return rc;
}

/* --tmpfs DST[:OPTIONS]: a struct volume without a source. */
static int parse_tmpfs(const char *arg, struct options *o, char **why)
{
	char *dest = xstrdup(arg), *opts = strchr(dest, ':'), *data;
	unsigned long flags;
	struct volume *v;

	if (opts)
		*opts++ = '\0';
	if (dest[0] != '/' || !dest[1]) {
		free(dest);
		return refuse(why, "--tmpfs %s: DST must be an absolute path other than /", arg);
	}
	if (tmpfs_options(opts, &flags, &data) < 0) {
		free(dest);
		return refuse(why, "--tmpfs %s: unknown option (ro, rw, exec, noexec, suid, "
			      "nosuid, dev, nodev, size=, mode=, uid=, gid=, nr_inodes=)", arg);
	}
	o->volumes = xrealloc(o->volumes, (o->n_volumes + 1) * sizeof(*v));
	v = &o->volumes[o->n_volumes++];
	*v = (struct volume){ .dest = dest, .is_dir = 1, .tree_fd = -1, .flags = flags,
			      .data = data };
	return 0;
}

/* "boottime=86400,monotonic=-60": whole seconds, each clock once (also
 * over several --time-offset).  The kernel checks the range: a clock may
 * not go below 0. */
static int parse_time_offset(const char *arg, struct options *o, char **why)
{
	char *copy = xstrdup(arg), *item, *save = NULL, *value, *end;
	const char *digits;
	size_t i, before = o->n_time_offsets;
	long long seconds;
	int rc = 0;

	o->flags |= CLONE_NEWTIME;
	for (item = strtok_r(copy, ",", &save); item && rc == 0;
	     item = strtok_r(NULL, ",", &save)) {
		value = strchr(item, '=');
		if (value)
			*value++ = '\0';
		if (!value || (strcmp(item, "monotonic") && strcmp(item, "boottime"))) {
			rc = refuse(why, "--time-offset %s: expected boottime=SECONDS, "
				    "monotonic=SECONDS or both, comma-separated", arg);
			break;
		}
		digits = value[0] == '-' ? value + 1 : value;
		errno = 0;
		seconds = strtoll(value, &end, 10);
		if (!*digits || strspn(digits, "0123456789") != strlen(digits) ||
		    *end || errno) {
			rc = refuse(why, "--time-offset %s: '%s' is not a whole number "
				    "of seconds", arg, value);
			break;
		}
		for (i = 0; i < o->n_time_offsets; i++)
			if (!strcmp(o->time_offsets[i].clock, item))
				rc = refuse(why, "--time-offset %s: %s given twice", arg, item);
		if (rc == 0) {
			o->time_offsets[o->n_time_offsets].clock =
				item[0] == 'm' ? "monotonic" : "boottime";
			o->time_offsets[o->n_time_offsets].seconds = seconds;
			snprintf(o->time_offsets[o->n_time_offsets].line,
				 sizeof(o->time_offsets[0].line), "%s %lld 0",
				 o->time_offsets[o->n_time_offsets].clock, seconds);
			o->n_time_offsets++;
		}
	}
	if (rc == 0 && o->n_time_offsets == before)
		rc = refuse(why, "--time-offset %s: expected boottime=SECONDS, "
			    "monotonic=SECONDS or both, comma-separated", arg);
	free(copy);
	return rc;
}

static int parse_security(int opt, const char *arg, struct md_security *s, char **why)
{
	int r;

	if (opt == OPT_CAP_ADD)
		r = security_parse_cap(arg, &s->cap_add);
	else if (opt == OPT_CAP_DROP)
		r = security_parse_cap(arg, &s->cap_drop);
	else
		r = security_parse_opt(s, arg);
	if (r < 0)
		return refuse(why, "%s %s: %s", opt == OPT_CAP_ADD ? "--cap-add" :
			      opt == OPT_CAP_DROP ? "--cap-drop" : "--security-opt",
			      arg, strerror(errno));
	return 0;
}

/* One option C with its argument ARG. */
static int parse_one(int c, const char *arg, struct options *o, char **why)
{
	unsigned long long v;

	switch (c) {
	case OPT_PID:    o->flags |= CLONE_NEWPID; return 0;
	case OPT_MOUNT:  o->flags |= CLONE_NEWNS; return 0;
	case OPT_UTS:    o->flags |= CLONE_NEWUTS; return 0;
	case OPT_IPC:    o->flags |= CLONE_NEWIPC; return 0;
	case OPT_CGROUP: o->flags |= CLONE_NEWCGROUP; return 0;
	case OPT_TIME:   o->flags |= CLONE_NEWTIME; return 0;
	case OPT_ALL:    o->flags |= ALL_NAMESPACES; return 0;
	case OPT_USERNS:
		o->flags |= CLONE_NEWUSER;
		if (arg && strcmp(arg, "single"))
			return refuse(why, "--userns=%s: expected --userns or --userns=single", arg);
		o->single_map = arg != NULL;
		return 0;
	case OPT_TIME_OFFSET: return parse_time_offset(arg, o, why);
	case OPT_NET:
		o->flags |= CLONE_NEWNET;
		if (arg && !*arg)
			return refuse(why, "--net=: FILE is empty");
		o->net_file = arg;
		return 0;
	case OPT_ROOT:
		free(o->root);
		o->root = realpath(arg, NULL);
		if (!o->root)
			return refuse(why, "--root %s: %s", arg, strerror(errno));
		return 0;
	case OPT_OVERLAY:
		if (!strstr(arg, "lowerdir="))
			return refuse(why, "--overlay %s: expected lowerdir=...[,upperdir=...,"
				      "workdir=...]", arg);
		o->overlay = arg;
		return 0;
	case OPT_READ_ONLY: o->read_only = 1; return 0;
	case OPT_VOLUME: return parse_volume(arg, o, why);
	case OPT_TMPFS: return parse_tmpfs(arg, o, why);
	case OPT_HOSTNAME:
		if (!*arg || strlen(arg) > HOST_NAME_MAX)
			return refuse(why, "--hostname '%s': 1 to %d characters",
				      arg, HOST_NAME_MAX);
		o->hostname = arg;
		o->flags |= CLONE_NEWUTS;
		return 0;
	case OPT_WORKDIR:
		if (arg[0] != '/')
			return refuse(why, "--workdir %s: must be an absolute path", arg);
		o->workdir = arg;
		return 0;
	case OPT_ENV:
		if (!strchr(arg, '=') || arg[0] == '=')
			return refuse(why, "--env %s: expected NAME=VALUE", arg);
		o->env = xrealloc(o->env, (o->n_env + 1) * sizeof(char *));
		o->env[o->n_env++] = (char *)arg;
		return 0;
	case OPT_USER: return parse_user(arg, o, why);
	case OPT_NO_INIT: o->no_init = 1; return 0;
	case OPT_VERBOSE: md_verbose = 1; return 0;
	case OPT_TARGET:
		if (parse_uint(arg, INT_MAX, &v) < 0 || v == 0)
			return refuse(why, "--target %s: not a process ID", arg);
		o->target = (pid_t)v;
		return 0;
	case OPT_PRIVILEGED: o->security.privileged = 1; return 0;
	default:        /* OPT_CAP_ADD, OPT_CAP_DROP, OPT_SECURITY_OPT */
		return parse_security(c, arg, &o->security, why);
	}
}

/* What cannot work together is refused before anything is created. */
static int check_options(struct options *o, char **why)
{
	struct stat st;

	if (o->target) {
		if (o->flags || o->root || o->overlay || o->read_only || o->n_volumes ||
		    o->hostname || o->no_init)
			return refuse(why, "--target joins a running container: only "
				      "--workdir, --env, --user and security options go with it");
		return 0;
	}
	if (o->root) {
		if (stat(o->root, &st) < 0)
			return refuse(why, "--root %s: %s", o->root, strerror(errno));
		if (!S_ISDIR(st.st_mode))
			return refuse(why, "--root %s: not a directory", o->root);
		o->flags |= CLONE_NEWNS;
	}
	if ((o->read_only || o->n_volumes || o->overlay) && !o->root)
		return refuse(why, "--read-only, --volume, --tmpfs and --overlay need --root");
	rootfs_sort_mounts(o->volumes, o->n_volumes);
	if (o->no_init && !(o->flags & CLONE_NEWPID))
		return refuse(why, "--no-init only makes sense with --pid");
	return 0;
}

static int parse(int argc, char **argv, struct options *o, char **why)
{
	int c;

	memset(o, 0, sizeof(*o));
	*why = NULL;
	security_defaults(&o->security);
	opterr = 0;     /* our own one-line messages */
	while ((c = getopt_long(argc, argv, "+:h", long_options, NULL)) != -1) {
		if (c == 'h')
			return fputs(usage, stdout) < 0 ? -1 : 0;
		if (c == OPT_VERSION) {
			print_version();
			return 0;
		}
		if (c == ':')
			return refuse(why, "%s: needs an argument (see --help)", argv[optind - 1]);
		if (c == '?')
			return refuse(why, "%s: unknown option (see --help)", argv[optind - 1]);
		if (parse_one(c, optarg, o, why) < 0)
			return -1;
	}
	if (optind >= argc)
		return refuse(why, "no COMMAND given: ns-enter [OPTIONS] -- COMMAND [ARG...]");
	if (strcmp(argv[optind - 1], "--") != 0)
		return refuse(why, "missing -- before COMMAND '%s'", argv[optind]);
	o->command = argv + optind;
	return check_options(o, why);
}

int options_parse(int argc, char **argv, struct options *o, char **why)
{
	int rc = parse(argc, argv, o, why);

	if (rc < 0 || !o->command)      /* nothing to run: nothing kept */
		options_free(o);
	return rc;
}

void options_free(struct options *o)
{
	size_t i;

	for (i = 0; i < o->n_volumes; i++) {
		free(o->volumes[i].source);
		free(o->volumes[i].dest);
		free(o->volumes[i].data);
	}
	free(o->volumes);
	free(o->env);
	free(o->root);
	o->volumes = NULL;
	o->env = NULL;
	o->root = NULL;
	o->n_volumes = o->n_env = 0;
}

int options_set_env(const struct options *o, const char **failed)
{
	size_t i;

	if (o->root || o->target)
		unsetenv_prefix("MINIDOCK_");
	for (i = 0; i < o->n_env; i++) {
		if (putenv(o->env[i]) < 0) {
			*failed = o->env[i];
			return -1;
		}
	}
	return 0;
}
