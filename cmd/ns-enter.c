/*
 * ns-enter - run COMMAND isolated: in new namespaces and, with --root, in
 * a root filesystem of its own.  The heart of a container, in one file.
 *
 * NAMESPACES.  A namespace gives a process its own copy of one global
 * resource: process IDs (pid), the mount table (mount), the hostname (uts),
 * System V IPC and POSIX message queues (ipc), the network stack (net), the
 * view of the cgroup tree (cgroup), user and group IDs (user), the
 * monotonic and boot clocks (time).  See namespaces(7).  unshare(2) moves
 * the caller into new namespaces; setns(2) moves it into an existing one
 * through a file such as /proc/PID/ns/net or /run/netns/NAME; clone(2)
 * starts a child directly in new ones.  The pid and time namespaces are
 * different: unshare(2) and setns(2) only decide where the caller's next
 * *children* go, so a fork(2) must follow.
 *
 * PIVOT_ROOT.  chroot(2) only changes where path lookups start: the old
 * root stays mounted, and a process holding a directory outside, or
 * CAP_SYS_CHROOT, walks back out.  A container instead makes its directory
 * the root *mount* of its own mount namespace with pivot_root(2), then
 * unmounts the old root, so that nothing of the host's filesystem is left
 * to reach.  Every mount is made private first (mount_namespaces(7)): what
 * we mount or unmount must not propagate back to the host.
 *
 * PID 1.  The first process of a pid namespace is its init, and the kernel
 * treats it specially (pid_namespaces(7)): every orphan of the namespace is
 * re-parented to it, so it must reap them or they stay zombies; it receives
 * no signal it has not installed a handler for (SIGTERM and SIGINT are
 * dropped; only SIGKILL and SIGSTOP from an ancestor namespace get through);
 * and when it exits the kernel kills every process of the namespace.  A
 * shell or a web server is not written for that job, so a tiny init
 * (run_init, after krallin/tini) is PID 1 and runs COMMAND as PID 2.
 *
 * THE PROCESSES.
 *
 *     ns-enter       the supervisor: stays on the host, forwards signals,
 *     |              waits, exits with COMMAND's status
 *     `- init        PID 1 inside: builds the container, reaps, forwards
 *        `- COMMAND  PID 2 inside
 *
 * The child is born in its namespaces (clone3(2) with CLONE_NEW* flags),
 * while the supervisor stays in the host's: its mounts, its root (which
 * pivot_root(2) would change for every process of the mount namespace),
 * its pid namespace.  It enters only a --net=FILE (while it still has the
 * host's privileges) and a user namespace (so that the child's namespaces
 * belong to it; for an ordinary user with a range of subordinate IDs, a
 * short-lived helper writes its maps with newuidmap and newgidmap: see
 * THE TWO MAPS).  Without --pid nor --time there is nothing to
 * supervise: ns-enter unshare(2)s and becomes COMMAND with execve(2).
 *
 * Read along: namespaces(7), unshare(2), setns(2), pivot_root(2),
 * mount_namespaces(7), pid_namespaces(7), user_namespaces(7).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <grp.h>
#include <linux/nsfs.h>
#include <linux/sched.h>
#include <sys/capability.h>

#include "minidock.h"
#include "security.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* --all: the namespaces docker run gives every container. */
#define ALL_NAMESPACES (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | \
			CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP)
/* These apply to children only: they need a new process, made by clone3(2). */
#define CHILDREN_ONLY (CLONE_NEWPID | CLONE_NEWTIME)

/*
 * The namespace kinds: the option that creates one, its file in
 * /proc/PID/ns/, its clone flag.  --target joins them in this order: the
 * user namespace first, because joining it is what grants the
 * capabilities the others ask for (the order of nsenter(1)); the mount
 * namespace last but one, so the /proc/PID/ns files stay reachable.
 */
static const struct namespace {
	const char *option;
	const char *file;
	int flag;
	const char *flag_name;
} namespaces[] = {
	{ "userns", "user",   CLONE_NEWUSER,   "CLONE_NEWUSER" },
	{ "cgroup", "cgroup", CLONE_NEWCGROUP, "CLONE_NEWCGROUP" },
	{ "ipc",    "ipc",    CLONE_NEWIPC,    "CLONE_NEWIPC" },
	{ "uts",    "uts",    CLONE_NEWUTS,    "CLONE_NEWUTS" },
	{ "net",    "net",    CLONE_NEWNET,    "CLONE_NEWNET" },
	{ "pid",    "pid",    CLONE_NEWPID,    "CLONE_NEWPID" },
	{ "mount",  "mnt",    CLONE_NEWNS,     "CLONE_NEWNS" },
	{ "time",   "time",   CLONE_NEWTIME,   "CLONE_NEWTIME" },
};
#define N_NAMESPACES (sizeof(namespaces) / sizeof(namespaces[0]))

static const struct namespace *namespace_of(int flag)
{
	size_t i;

	for (i = 0; i < N_NAMESPACES; i++)
		if (namespaces[i].flag == flag)
			break;
	return &namespaces[i];
}

/* The minimal /dev: these nodes are bind-mounted from the host's /dev,
 * since mknod(2) is refused in a user namespace (and bind works as root). */
static const char *const host_devices[] = {
	"null", "zero", "full", "random", "urandom", "tty",
};
#define N_DEVICES (sizeof(host_devices) / sizeof(host_devices[0]))

/* ...and these links, which programs expect next to them. */
static const struct { const char *target, *link; } dev_links[] = {
	{ "/proc/self/fd",   "/dev/fd" },
	{ "/proc/self/fd/0", "/dev/stdin" },
	{ "/proc/self/fd/1", "/dev/stdout" },
	{ "/proc/self/fd/2", "/dev/stderr" },
	{ "pts/ptmx",        "/dev/ptmx" },
};
#define N_DEV_LINKS (sizeof(dev_links) / sizeof(dev_links[0]))

struct volume {
	char *source;           /* a host path, made absolute */
	char *dest;             /* a path inside the container */
	int read_only;
	int tree_fd;            /* a detached copy of SOURCE (open_tree(2)) */
	int is_dir;
};

struct options {
	int flags;              /* CLONE_NEW* to create */
	const char *net_file;   /* --net=FILE: join this one instead */
	char *root;             /* --root, made absolute */
	int read_only;
	struct volume *volumes;
	size_t n_volumes;
	const char *hostname;
	const char *workdir;
	char **env;
	size_t n_env;
	int set_user, set_group;
	uid_t uid;
	gid_t gid;
	int no_init;
	int single_map;         /* --userns=single: never the subordinate range */
	pid_t target;
	struct md_security security;
	char **command;
};

/* The host's /dev nodes and /sys, copied before pivot_root(2) hides them. */
struct host_trees {
	int dev[N_DEVICES];
	int sys;                /* -1 unless sysfs cannot be mounted afresh */
};

enum {
	OPT_PID = 256, OPT_MOUNT, OPT_UTS, OPT_IPC, OPT_NET, OPT_CGROUP,
	OPT_USERNS, OPT_TIME, OPT_ALL, OPT_ROOT, OPT_READ_ONLY, OPT_VOLUME,
	OPT_HOSTNAME, OPT_WORKDIR, OPT_ENV, OPT_USER, OPT_NO_INIT,
	OPT_VERBOSE, OPT_TARGET, OPT_PRIVILEGED, OPT_CAP_ADD, OPT_CAP_DROP,
	OPT_SECURITY_OPT, OPT_VERSION,
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
	{ "all",          no_argument,       NULL, OPT_ALL },
	{ "root",         required_argument, NULL, OPT_ROOT },
	{ "read-only",    no_argument,       NULL, OPT_READ_ONLY },
	{ "volume",       required_argument, NULL, OPT_VOLUME },
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

static void usage(FILE *out)
{
	fprintf(out,
"Usage: ns-enter [--pid] [--mount] [--uts] [--ipc] [--net[=FILE]] [--cgroup]\n"
"                [--userns[=single]] [--time] [--all]\n"
"                [--root DIR] [--read-only] [--volume SRC:DST[:ro]]...\n"
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
"  --time           monotonic and boot clocks\n"
"  --all            pid, mount, uts, ipc, net and cgroup, like docker run\n"
"\n"
"Container:\n"
"  --root DIR       pivot_root into DIR (implies --mount), with a fresh /proc\n"
"                   (with --pid), a read-only /sys and a minimal /dev\n"
"  --read-only      make the root read-only (/tmp stays a writable tmpfs)\n"
"  --volume SRC:DST[:ro]  bind-mount host path SRC at DST (read-only: ro)\n"
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
"  ns-enter --all --hostname box --root images/build/busybox/rootfs -- /bin/sh\n");
}

/* ---- small helpers ---- */

/* "CLONE_NEWPID|CLONE_NEWNS" for the verbose trace. */
static const char *flag_names(int flags)
{
	static char buf[256];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < N_NAMESPACES; i++) {
		if (!(flags & namespaces[i].flag))
			continue;
		if (buf[0])
			strcat(buf, "|");
		strcat(buf, namespaces[i].flag_name);
	}
	return buf;
}

static void xmount(const char *source, const char *target, const char *type,
		   unsigned long flags, const char *data, const char *flags_text)
{
	vlog("mount(%s%s%s, \"%s\", %s%s%s, %s, %s%s%s)",
	     source ? "\"" : "", source ? source : "NULL", source ? "\"" : "",
	     target, type ? "\"" : "", type ? type : "NULL", type ? "\"" : "",
	     flags_text, data ? "\"" : "", data ? data : "NULL", data ? "\"" : "");
	if (mount(source, target, type, flags, data) < 0)
		die("mount %s on %s", type ? type : source, target);
}

/* Make PATH inside the container, as a directory or an empty file. */
static void make_mount_point(const char *path, int is_dir)
{
	struct stat st;
	char *parent;
	int fd;

	if (is_dir) {
		if (mkdir_p(path, 0755) < 0)
			die("mkdir %s", path);
		return;
	}
	/* A file that is there already is left alone: opening it for
	 * writing would make overlayfs copy it up into the container's own
	 * layer (run's /etc/hosts, /etc/resolv.conf, /etc/hostname: three
	 * copies made at every start, and kept, only to be covered). */
	if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
		return;
	parent = xstrdup(path);
	*strrchr(parent, '/') = '\0';
	if (parent[0] && mkdir_p(parent, 0755) < 0)
		die("mkdir %s", parent);
	free(parent);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		die("create %s", path);
	close(fd);
}

/* ---- parse and check ---- */

static void parse_user(const char *arg, struct options *o)
{
	unsigned long long v;
	char *copy = xstrdup(arg), *colon = strchr(copy, ':');

	if (colon)
		*colon = '\0';
	if (parse_uint(copy, (uid_t)-2, &v) < 0)
		die_x("--user %s: UID must be a number (UID[:GID])", arg);
	o->uid = (uid_t)v;
	if (colon) {
		if (parse_uint(colon + 1, (gid_t)-2, &v) < 0)
			die_x("--user %s: GID must be a number (UID[:GID])", arg);
		o->gid = (gid_t)v;
		o->set_group = 1;
	}
	o->set_user = 1;
	free(copy);
}

static void parse_volume(const char *arg, struct options *o)
{
	char *spec = xstrdup(arg), *dest, *mode;
	struct volume *v;
	struct stat st;

	dest = strchr(spec, ':');
	if (!dest || dest == spec || !dest[1])
		die_x("--volume %s: expected SRC:DST[:ro]", arg);
	*dest++ = '\0';
	mode = strchr(dest, ':');
	if (mode)
		*mode++ = '\0';
	if (mode && strcmp(mode, "ro") && strcmp(mode, "rw"))
		die_x("--volume %s: unknown mode '%s' (ro or rw)", arg, mode);
	if (dest[0] != '/' || !dest[1])
		die_x("--volume %s: DST must be an absolute path other than /", arg);
	if (stat(spec, &st) < 0)
		die("--volume %s: %s", arg, spec);

	o->volumes = xrealloc(o->volumes, (o->n_volumes + 1) * sizeof(*v));
	v = &o->volumes[o->n_volumes++];
	v->source = realpath(spec, NULL);
	if (!v->source)
		die("--volume %s: %s", arg, spec);
	v->dest = xstrdup(dest);
	v->read_only = mode && !strcmp(mode, "ro");
	v->is_dir = S_ISDIR(st.st_mode);
	v->tree_fd = -1;
	free(spec);
}

static void parse_security(int opt, const char *arg, struct md_security *s)
{
	int r;

	if (opt == OPT_CAP_ADD)
		r = security_parse_cap(arg, &s->cap_add);
	else if (opt == OPT_CAP_DROP)
		r = security_parse_cap(arg, &s->cap_drop);
	else
		r = security_parse_opt(s, arg);
	if (r < 0)
		die("%s %s", opt == OPT_CAP_ADD ? "--cap-add" :
		    opt == OPT_CAP_DROP ? "--cap-drop" : "--security-opt", arg);
}

static void parse_options(int argc, char **argv, struct options *o)
{
	unsigned long long v;
	int c;

	memset(o, 0, sizeof(*o));
	security_defaults(&o->security);
	opterr = 0;     /* our own one-line messages */
	while ((c = getopt_long(argc, argv, "+:h", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_PID:    o->flags |= CLONE_NEWPID; break;
		case OPT_MOUNT:  o->flags |= CLONE_NEWNS; break;
		case OPT_UTS:    o->flags |= CLONE_NEWUTS; break;
		case OPT_IPC:    o->flags |= CLONE_NEWIPC; break;
		case OPT_CGROUP: o->flags |= CLONE_NEWCGROUP; break;
		case OPT_USERNS:
			o->flags |= CLONE_NEWUSER;
			if (optarg && strcmp(optarg, "single"))
				die_x("--userns=%s: expected --userns or --userns=single",
				      optarg);
			o->single_map = optarg != NULL;
			break;
		case OPT_TIME:   o->flags |= CLONE_NEWTIME; break;
		case OPT_ALL:    o->flags |= ALL_NAMESPACES; break;
		case OPT_NET:
			o->flags |= CLONE_NEWNET;
			if (optarg && !*optarg)
				die_x("--net=: FILE is empty");
			o->net_file = optarg;
			break;
		case OPT_ROOT:
			free(o->root);
			o->root = realpath(optarg, NULL);
			if (!o->root)
				die("--root %s", optarg);
			break;
		case OPT_READ_ONLY: o->read_only = 1; break;
		case OPT_VOLUME: parse_volume(optarg, o); break;
		case OPT_HOSTNAME:
			if (!*optarg || strlen(optarg) > HOST_NAME_MAX)
				die_x("--hostname '%s': 1 to %d characters",
				      optarg, HOST_NAME_MAX);
			o->hostname = optarg;
			o->flags |= CLONE_NEWUTS;
			break;
		case OPT_WORKDIR:
			if (optarg[0] != '/')
				die_x("--workdir %s: must be an absolute path", optarg);
			o->workdir = optarg;
			break;
		case OPT_ENV:
			if (!strchr(optarg, '=') || optarg[0] == '=')
				die_x("--env %s: expected NAME=VALUE", optarg);
			o->env = xrealloc(o->env, (o->n_env + 1) * sizeof(char *));
			o->env[o->n_env++] = optarg;
			break;
		case OPT_USER: parse_user(optarg, o); break;
		case OPT_NO_INIT: o->no_init = 1; break;
		case OPT_VERBOSE: md_verbose = 1; break;
		case OPT_TARGET:
			if (parse_uint(optarg, INT_MAX, &v) < 0 || v == 0)
				die_x("--target %s: not a process ID", optarg);
			o->target = (pid_t)v;
			break;
		case OPT_PRIVILEGED: o->security.privileged = 1; break;
		case OPT_CAP_ADD:
		case OPT_CAP_DROP:
		case OPT_SECURITY_OPT:
			parse_security(c, optarg, &o->security);
			break;
		case 'h': usage(stdout); exit(0);
		case OPT_VERSION: print_version(); exit(0);
		case ':':
			die_x("%s: needs an argument (see --help)", argv[optind - 1]);
		default:
			die_x("%s: unknown option (see --help)", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		die_x("no COMMAND given: ns-enter [OPTIONS] -- COMMAND [ARG...]");
	if (strcmp(argv[optind - 1], "--") != 0)
		die_x("missing -- before COMMAND '%s'", argv[optind]);
	o->command = argv + optind;
}

/* Refuse what cannot work before anything is created: a bad input must
 * leave nothing behind. */
static void check_options(struct options *o)
{
	struct stat st;

	if (o->target) {
		if (o->flags || o->root || o->read_only || o->n_volumes ||
		    o->hostname || o->no_init)
			die_x("--target joins a running container: only --workdir, "
			      "--env, --user and security options go with it");
		return;
	}
	if (o->root) {
		if (stat(o->root, &st) < 0)
			die("--root %s", o->root);
		if (!S_ISDIR(st.st_mode))
			die_x("--root %s: not a directory", o->root);
		o->flags |= CLONE_NEWNS;
	}
	if ((o->read_only || o->n_volumes) && !o->root)
		die_x("--read-only and --volume need --root");
	if (o->no_init && !(o->flags & CLONE_NEWPID))
		die_x("--no-init only makes sense with --pid");
}

/* ---- the supervisor's steps, on the host ---- */

/* Open --net=FILE now: after pivot_root(2) the host's /run/netns is gone. */
static int open_net_namespace(const char *file)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("--net=%s", file);
	/* NS_GET_NSTYPE: an ioctl(2) of nsfs; anything else says ENOTTY. */
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
		die_x("--net=%s: not a network namespace", file);
	return fd;
}

static void join_namespace(int fd, const struct namespace *ns, const char *file)
{
	vlog("setns(\"%s\", %s)", file, ns->flag_name);
	if (setns(fd, ns->flag) < 0)
		die("setns %s (%s)", file, ns->flag_name);
}

static void write_id_map(const char *file, const char *text)
{
	vlog("write %s = \"%s\"", file, text);
	if (write_file(file, text) < 0)
		die("write %s", file);
}

/*
 * THE TWO MAPS.  A new user namespace starts with no ID mapped; a line
 * "INSIDE OUTSIDE COUNT" of /proc/PID/uid_map (and gid_map) gives it some
 * (user_namespaces(7)).  Any user may map one ID, its own: "0 UID 1", the
 * single-ID map, where root inside is the caller and no other user exists.
 * Mapping more takes CAP_SETUID over the IDs outside, which an ordinary
 * user lacks; so the administrator grants it a range of subordinate IDs
 * in /etc/subuid and /etc/subgid (subuid(5): "alice:100000:65536"), and
 * the setuid-root helpers newuidmap(1) and newgidmap(1) write a map that
 * uses only those, as podman and rootlesskit do:
 *
 *     0 UID 1           root inside is the caller
 *     1 START COUNT     users 1..COUNT inside are START.. outside
 */
struct id_range {
	unsigned long start, count;
};

/* The caller's name, from the host's /etc/passwd itself: this binary is
 * static, and getpwuid(3) would need NSS modules.  NULL: not listed (the
 * range files are then matched by UID only). */
static char *user_name(uid_t uid)
{
	FILE *f = fopen("/etc/passwd", "re");
	struct passwd *pw;
	char *name = NULL;

	if (!f)
		return NULL;
	while ((pw = fgetpwent(f)) != NULL) {
		if (pw->pw_uid == uid) {
			name = xstrdup(pw->pw_name);
			break;
		}
	}
	fclose(f);
	return name;
}

/*
 * The first "OWNER:START:COUNT" line of FILE whose OWNER is NAME or the
 * number ID, as newuidmap reads it.  1: found; 0: none; -1: FILE cannot
 * be read (errno).
 */
static int find_range(const char *file, const char *name, unsigned long id,
		      struct id_range *r)
{
	FILE *f = fopen(file, "re");
	char *line = NULL, *start, *count;
	unsigned long long owner, v;
	size_t cap = 0;
	int found = 0;

	if (!f)
		return -1;
	while (!found && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (!(start = strchr(line, ':')) || !(count = strchr(start + 1, ':')))
			continue;
		*start++ = '\0';
		*count++ = '\0';
		if (!(name && !strcmp(line, name)) &&
		    !(parse_uint(line, UINT32_MAX, &owner) == 0 && owner == id))
			continue;
		if (parse_uint(start, UINT32_MAX - 1, &v) < 0)
			continue;
		r->start = (unsigned long)v;
		/* The range must end below (uid_t)-1, which means "no ID". */
		if (parse_uint(count, UINT32_MAX - 1 - r->start, &v) < 0 || v == 0)
			continue;
		r->count = (unsigned long)v;
		found = 1;
	}
	free(line);
	fclose(f);
	return found;
}

/* PATH's NAME, malloc'd, or NULL. */
static char *find_program(const char *name)
{
	const char *env = getenv("PATH");
	char *path = xstrdup(env ? env : "/usr/local/bin:/usr/bin:/bin");
	char *dir, *save = NULL, *found = NULL;

	for (dir = strtok_r(path, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char *candidate = xasprintf("%s/%s", *dir ? dir : ".", name);
		if (access(candidate, X_OK) == 0)
			found = candidate;
		else
			free(candidate);
	}
	free(path);
	return found;
}

/* The helpers and ranges of the full map, once every piece is found. */
struct full_map {
	char *newuidmap, *newgidmap;
	struct id_range uids, gids;
};

static void free_full_map(struct full_map *m)
{
	free(m->newuidmap);
	free(m->newgidmap);
	m->newuidmap = m->newgidmap = NULL;
}

/*
 * Can the caller have the full map?  NULL if so (M filled in), else why
 * not, for --verbose and for a refused --user (a static string or *WHY
 * made here, freed by the caller).
 */
static const char *full_map_refused(const struct options *o, struct full_map *m,
				    char **why)
{
	cap_flag_value_t setuid_cap = CAP_CLEAR;
	uid_t uid = geteuid();
	char *name;
	int u, g;
	cap_t caps;

	memset(m, 0, sizeof(*m));
	*why = NULL;
	if (o->single_map)
		return "--userns=single";
	/* CAP_SETUID lets a process write any map itself: root keeps the
	 * map of itself it always had ("0 0 1"). */
	caps = cap_get_proc();
	if (!caps)
		die("cap_get_proc");
	if (cap_get_flag(caps, CAP_SETUID, CAP_EFFECTIVE, &setuid_cap) < 0)
		die("cap_get_flag(CAP_SETUID)");
	cap_free(caps);
	if (setuid_cap == CAP_SET)
		return "the caller has CAP_SETUID (root) and maps itself";
	m->newuidmap = find_program("newuidmap");
	m->newgidmap = find_program("newgidmap");
	if (!m->newuidmap || !m->newgidmap) {
		free_full_map(m);
		return "no newuidmap or newgidmap in PATH (Debian package uidmap)";
	}
	name = user_name(uid);
	u = find_range("/etc/subuid", name, uid, &m->uids);
	g = u == 1 ? find_range("/etc/subgid", name, uid, &m->gids) : 0;
	if (u != 1 || g != 1) {
		const char *file = u != 1 ? "/etc/subuid" : "/etc/subgid";
		if (u < 0 || g < 0)
			*why = xasprintf("%s: %s", file, strerror(errno));
		else if (name)
			*why = xasprintf("no range for %s in %s", name, file);
		else
			*why = xasprintf("no range for UID %u in %s", (unsigned)uid, file);
		free_full_map(m);
	}
	free(name);
	return *why;
}

/*
 * Refuse, before anything is created, a --user the map will not have:
 * setuid(2) to an unmapped ID fails with a bare EINVAL much later.  (A GID
 * taken from the image's /etc/passwd is only known inside: setgid(2)
 * checks that one.)
 */
static void check_user_in_map(const struct options *o, const struct full_map *m,
			      const char *single_why)
{
	unsigned long last;

	if (!o->set_user)
		return;
	if (single_why && (o->uid != 0 || (o->set_group && o->gid != 0)))
		die_x("--user %u: the user namespace maps one ID, yours, to root "
		      "(single-id map: %s), so no other user exists inside; an "
		      "administrator gives USER a range with: usermod "
		      "--add-subuids 100000-165535 --add-subgids 100000-165535 USER",
		      (unsigned)(o->uid ? o->uid : o->gid), single_why);
	if (single_why)
		return;
	last = m->uids.count < m->gids.count ? m->uids.count : m->gids.count;
	if (o->uid > last || (o->set_group && o->gid > last))
		die_x("--user %u: outside the user namespace's map (IDs 0 to %lu "
		      "inside, from /etc/subuid and /etc/subgid)",
		      (unsigned)(o->uid > last ? o->uid : o->gid), last);
}

/* "newuidmap PID 0 UID 1 1 START COUNT": run HELPER and wait for it. */
static void run_map_helper(const char *helper, pid_t pid, unsigned id,
			   const struct id_range *r)
{
	char pid_s[16], id_s[16], start_s[24], count_s[24];
	char *argv[] = { (char *)helper, pid_s, "0", id_s, "1",
			 "1", start_s, count_s, NULL };
	pid_t child;
	int wstatus;

	snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
	snprintf(id_s, sizeof(id_s), "%u", id);
	snprintf(start_s, sizeof(start_s), "%lu", r->start);
	snprintf(count_s, sizeof(count_s), "%lu", r->count);
	vlog("%s %s 0 %s 1 1 %s %s", strrchr(helper, '/') + 1, pid_s, id_s,
	     start_s, count_s);
	fflush(NULL);
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		execv(helper, argv);
		warn_errno("execv %s", helper);
		_exit(EXIT_CANNOT_EXEC);
	}
	if (waitpid(child, &wstatus, 0) < 0)
		die("waitpid %s", helper);
	if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
		die_x("%s %s: failed (exit %d): it said why above",
		      helper, pid_s, exit_code_of(wstatus));
}

/*
 * The setuid-helper protocol (util-linux unshare(1), podman): the maps of
 * a process are written from outside its user namespace, and a setuid
 * program started from inside would not be root (its owner, root, is not
 * mapped there).  So a helper is forked first, in the caller's user
 * namespace; it waits on a pipe until its parent has called unshare(2),
 * runs newuidmap and newgidmap for the parent's PID, and exits.  Returns
 * the helper's PID and the pipe's writing end in *GO.
 */
static pid_t fork_map_helper(const struct full_map *m, int *go)
{
	pid_t parent = getpid(), helper;
	int fds[2];
	char c;

	if (pipe2(fds, O_CLOEXEC) < 0)
		die("pipe2");
	fflush(NULL);
	vlog("fork() a helper for newuidmap and newgidmap");
	helper = fork();
	if (helper < 0)
		die("fork");
	if (helper > 0) {
		close(fds[0]);
		*go = fds[1];
		return helper;
	}
	close(fds[1]);
	/* EOF without a byte: the parent failed to unshare; nothing to map. */
	if (read(fds[0], &c, 1) != 1)
		_exit(EXIT_TOOL_FAILED);
	run_map_helper(m->newuidmap, parent, (unsigned)geteuid(), &m->uids);
	run_map_helper(m->newgidmap, parent, (unsigned)getegid(), &m->gids);
	fflush(NULL);
	_exit(0);
}

/*
 * A new user namespace where the caller is root, with the full map where
 * the caller has a range, else the single-ID map.  For the single map,
 * setgroups(2) must be denied first, or an unprivileged caller could drop
 * a group that was denying it access to a file; with a range, newgidmap
 * leaves setgroups allowed, as the administrator granted those groups.
 */
static void enter_user_namespace(const struct options *o)
{
	struct full_map m;
	char *why_made, map[64];
	const char *why = full_map_refused(o, &m, &why_made);
	uid_t uid = geteuid();      /* read before unshare: then unmapped */
	gid_t gid = getegid();
	pid_t helper;
	int go, wstatus;

	check_user_in_map(o, &m, why);
	if (!why) {
		helper = fork_map_helper(&m, &go);
		vlog("unshare(CLONE_NEWUSER)");
		if (unshare(CLONE_NEWUSER) < 0)
			die("unshare(CLONE_NEWUSER)");
		if (write(go, "", 1) != 1)
			die("write to the map helper");
		close(go);
		if (waitpid(helper, &wstatus, 0) < 0)
			die("waitpid the map helper");
		if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
			exit(EXIT_TOOL_FAILED);     /* it said why */
		free_full_map(&m);
		return;
	}
	vlog("single-id map: %s", why);
	free(why_made);
	vlog("unshare(CLONE_NEWUSER)");
	if (unshare(CLONE_NEWUSER) < 0)
		die("unshare(CLONE_NEWUSER)");
	write_id_map("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	write_id_map("/proc/self/uid_map", map);
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	write_id_map("/proc/self/gid_map", map);
}

static void create_namespaces(int flags)
{
	if (!flags)
		return;
	vlog("unshare(%s)", flag_names(flags));
	if (unshare(flags) < 0)
		die("unshare(%s)", flag_names(flags));
}

/*
 * clone3(2) is fork(2) with flags: the child starts in new namespaces (with
 * CLONE_NEWPID, as PID 1).  Returns 0 in the child, its PID in the parent.
 */
static pid_t spawn(int flags)
{
	struct clone_args args = { .flags = (unsigned)flags, .exit_signal = SIGCHLD };
	pid_t child;

	/* Blocked until supervise() or init is ready: none is lost. */
	if (block_forwarded_signals() < 0)
		die("sigprocmask");
	vlog("clone3(%s)", flags ? flag_names(flags) : "0");
	fflush(NULL);
	child = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (child < 0)
		die("clone3(%s)", flags ? flag_names(flags) : "0");
	return child;
}

/* The supervisor's job: forward signals, wait, exit with CHILD's status. */
static void __attribute__((noreturn)) supervise_and_exit(pid_t child)
{
	int code = supervise(child);

	if (code < 0)
		die("waitpid %d", (int)child);
	pass_on(code);
	_exit(code);    /* not reached: pass_on exits */
}

/* ---- the container's steps, in the child ---- */

static void make_mounts_private(void)
{
	/* On a systemd host "/" is shared: without this, our mounts would
	 * appear on the host, and unmounting the old root would unmount it
	 * there too. */
	xmount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL, "MS_REC|MS_PRIVATE");
}

static void set_hostname(const char *name)
{
	vlog("sethostname(\"%s\")", name);
	if (sethostname(name, strlen(name)) < 0)
		die("sethostname %s", name);
}

/* A new network namespace has only lo, and it is down. */
static void bring_up_loopback(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket(AF_INET)");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		die("ioctl(SIOCGIFFLAGS, lo)");
	ifr.ifr_flags |= IFF_UP;
	vlog("ioctl(SIOCSIFFLAGS, \"lo\", IFF_UP)");
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		die("ioctl(SIOCSIFFLAGS, lo up)");
	close(fd);
}

/* pivot_root(2) wants the new root to be a mount point: bind it on itself. */
static void bind_root_on_itself(const char *root)
{
	xmount(root, root, NULL, MS_BIND | MS_REC, NULL, "MS_BIND|MS_REC");
}

/* open_tree(2) with OPEN_TREE_CLONE: a detached copy of the mount at PATH
 * that we can attach later, once PATH is no longer reachable. */
static int clone_tree(const char *path, unsigned int flags, int read_only)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
	int fd;

	vlog("open_tree(\"%s\", OPEN_TREE_CLONE%s)", path,
	     flags & AT_RECURSIVE ? "|AT_RECURSIVE" : "");
	fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | flags);
	if (fd < 0)
		die("open_tree %s", path);
	if (read_only) {
		vlog("mount_setattr(\"%s\", MOUNT_ATTR_RDONLY)", path);
		if (mount_setattr(fd, "", AT_EMPTY_PATH | (flags & AT_RECURSIVE),
				  &attr, sizeof(attr)) < 0)
			die("mount_setattr %s read-only", path);
	}
	return fd;
}

static void attach_tree(int fd, const char *target)
{
	vlog("move_mount(fd, \"%s\")", target);
	if (move_mount(fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		die("move_mount on %s", target);
	close(fd);
}

/* Everything that comes from the host, taken before the host goes away. */
static void clone_host_trees(struct options *o, struct host_trees *h)
{
	size_t i;

	for (i = 0; i < N_DEVICES; i++) {
		char *path = xasprintf("/dev/%s", host_devices[i]);
		h->dev[i] = clone_tree(path, 0, 0);
		free(path);
	}
	for (i = 0; i < o->n_volumes; i++)
		o->volumes[i].tree_fd = clone_tree(o->volumes[i].source,
						   AT_RECURSIVE,
						   o->volumes[i].read_only);
	/* A fresh sysfs needs a network namespace of our own user namespace;
	 * without one, a read-only copy of the host's /sys will do. */
	h->sys = -1;
	if ((o->flags & CLONE_NEWUSER) &&
	    (!(o->flags & CLONE_NEWNET) || o->net_file))
		h->sys = clone_tree("/sys", AT_RECURSIVE, 1);
}

/*
 * pivot_root(".", "."): the new root becomes "/", and the old root is
 * stacked on top of it, still reachable only through "." until
 * detach_old_root().  Paths starting with "/" already resolve in the new
 * root (the trick documented in pivot_root(2), and used by runc).
 */
static void pivot_into(const char *root)
{
	vlog("chdir(\"%s\")", root);
	if (chdir(root) < 0)
		die("chdir %s", root);
	vlog("pivot_root(\".\", \".\")");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die("pivot_root %s", root);
}

/* Unmounting the old root late lets the kernel see a full /proc and /sys
 * in our mount namespace, which it asks for before letting a user
 * namespace mount new ones (mount_too_revealing in fs/namespace.c). */
static void detach_old_root(void)
{
	vlog("umount2(\".\", MNT_DETACH)");
	if (umount2(".", MNT_DETACH) < 0)
		die("umount2 the old root");
	vlog("chdir(\"/\")");
	if (chdir("/") < 0)
		die("chdir /");
}

/* A /proc of the new pid namespace: ps sees only the container. */
static void mount_proc(void)
{
	make_mount_point("/proc", 1);
	xmount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
	       "MS_NOSUID|MS_NODEV|MS_NOEXEC");
}

static void mount_sys(struct host_trees *h)
{
	make_mount_point("/sys", 1);
	if (h->sys >= 0) {
		attach_tree(h->sys, "/sys");
		h->sys = -1;
		return;
	}
	xmount("sysfs", "/sys", "sysfs",
	       MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
	       "MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC");
}

/* A /dev of our own on tmpfs with only harmless devices: never the
 * host's disks.  A private devpts instance gives the container its own
 * pseudo-terminals. */
static void mount_dev(struct host_trees *h, int new_ipc)
{
	size_t i;

	make_mount_point("/dev", 1);
	xmount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME,
	       "mode=755,size=65536k", "MS_NOSUID|MS_STRICTATIME");
	for (i = 0; i < N_DEVICES; i++) {
		char *path = xasprintf("/dev/%s", host_devices[i]);
		make_mount_point(path, 0);
		attach_tree(h->dev[i], path);
		h->dev[i] = -1;
		free(path);
	}
	make_mount_point("/dev/pts", 1);
	xmount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	       "newinstance,ptmxmode=0666,mode=0620", "MS_NOSUID|MS_NOEXEC");
	make_mount_point("/dev/shm", 1);
	xmount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	       "mode=1777,size=65536k", "MS_NOSUID|MS_NODEV|MS_NOEXEC");
	if (new_ipc) {
		make_mount_point("/dev/mqueue", 1);
		xmount("mqueue", "/dev/mqueue", "mqueue",
		       MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
		       "MS_NOSUID|MS_NODEV|MS_NOEXEC");
	}
	for (i = 0; i < N_DEV_LINKS; i++) {
		vlog("symlink(\"%s\", \"%s\")", dev_links[i].target, dev_links[i].link);
		if (symlink(dev_links[i].target, dev_links[i].link) < 0)
			die("symlink %s", dev_links[i].link);
	}
}

static void mount_volumes(struct options *o)
{
	size_t i;

	for (i = 0; i < o->n_volumes; i++) {
		struct volume *v = &o->volumes[i];
		make_mount_point(v->dest, v->is_dir);
		attach_tree(v->tree_fd, v->dest);
		v->tree_fd = -1;
	}
}

/*
 * mount_setattr(2) sets one flag and leaves the others alone; the older
 * MS_REMOUNT|MS_BIND|MS_RDONLY resets every flag it is not given, which a
 * user namespace is not allowed to do on flags the host locked.
 */
static void make_root_read_only(void)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

	make_mount_point("/tmp", 1);
	xmount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777",
	       "MS_NOSUID|MS_NODEV");
	vlog("mount_setattr(\"/\", MOUNT_ATTR_RDONLY)");
	if (mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof(attr)) < 0)
		die("mount_setattr / read-only");
}

/* The whole --root sequence.  Order matters: host paths are read before
 * pivot_root(2); /proc and /sys are mounted before the old root goes. */
static void enter_root(struct options *o)
{
	struct host_trees h;

	bind_root_on_itself(o->root);
	clone_host_trees(o, &h);
	pivot_into(o->root);
	/* Without a pid namespace of its own, the container would get the
	 * host's /proc, and /proc/1/root would lead straight back out. */
	if (o->flags & CLONE_NEWPID)
		mount_proc();
	mount_sys(&h);
	mount_dev(&h, o->flags & CLONE_NEWIPC);
	mount_volumes(o);
	detach_old_root();
	if (o->workdir && mkdir_p(o->workdir, 0755) < 0)
		die("--workdir %s", o->workdir);
	if (o->read_only)
		make_root_read_only();
	/* The masks cover /proc files: only meaningful with our own /proc. */
	if (o->flags & CLONE_NEWPID) {
		vlog("security_mask_paths()");
		if (security_mask_paths(&o->security) < 0)
			die("masking /proc and /sys paths");
	}
}

/* Everything the container needs, once in its namespaces. */
static void build_container(struct options *o)
{
	if (o->flags & CLONE_NEWNS)
		make_mounts_private();
	if (o->hostname)
		set_hostname(o->hostname);
	if ((o->flags & CLONE_NEWNET) && !o->net_file)
		bring_up_loopback();
	if (o->root)
		enter_root(o);
	else if ((o->flags & CLONE_NEWPID) && (o->flags & CLONE_NEWNS))
		/* Like unshare --mount-proc: ps must see the new namespace. */
		mount_proc();
}

/* ---- COMMAND ---- */

/* Without a GID, docker run takes the user's group in the image's
 * /etc/passwd, else 0.  fgetpwent(3) reads the file itself: no NSS. */
static gid_t group_of(uid_t uid)
{
	FILE *f = fopen("/etc/passwd", "re");
	struct passwd *pw;
	gid_t gid = 0;

	if (!f)
		return 0;
	while ((pw = fgetpwent(f)) != NULL) {
		if (pw->pw_uid == uid) {
			gid = pw->pw_gid;
			break;
		}
	}
	fclose(f);
	return gid;
}

static void switch_user(struct options *o)
{
	gid_t gid = o->set_group ? o->gid : group_of(o->uid);

	vlog("setgroups(0, NULL); setgid(%u); setuid(%u)",
	     (unsigned)gid, (unsigned)o->uid);
	/* In a user namespace we made, setgroups(2) is denied (see
	 * enter_user_namespace), and the caller's groups cannot change. */
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		die("setgroups");
	if (setgid(gid) < 0)
		die("--user: setgid %u", (unsigned)gid);
	if (setuid(o->uid) < 0)
		die("--user: setuid %u", (unsigned)o->uid);
}

/*
 * chdir(2) into the working directory only now, inside the new root, and
 * check the result: a working directory reached through a file descriptor
 * leaked from the host would sit outside the root (CVE-2024-21626).
 */
static void enter_workdir(const char *dir)
{
	char cwd[PATH_MAX];

	vlog("chdir(\"%s\")", dir);
	if (chdir(dir) < 0)
		die("--workdir %s", dir);
	if (!getcwd(cwd, sizeof(cwd)))
		die("--workdir %s: outside the container", dir);
}

/* The last steps before execve(2), in the process that becomes COMMAND. */
static void exec_in_container(struct options *o)
{
	size_t i;

	if (unblock_forwarded_signals() < 0)
		die("sigprocmask");
	for (i = 0; i < o->n_env; i++)
		if (putenv(o->env[i]) < 0)
			die("--env %s", o->env[i]);
	/* Capabilities first, while we are still root: once setuid(2) has
	 * made us an ordinary user, the bounding set can no longer shrink. */
	vlog("security_apply()");
	if (security_apply(&o->security) < 0)
		die("applying capabilities, no_new_privs and seccomp: %s",
		    security_last_step());
	if (o->set_user)
		switch_user(o);
	vlog("execvp(\"%s\")", o->command[0]);
	exec_command(o->command);
}

/* ---- init, PID 1 ---- */

static int has_terminal(void)
{
	return isatty(0) || isatty(1) || isatty(2);
}

/*
 * PID 1 of the container: start COMMAND, pass it every forwarded signal,
 * reap every child (orphans land here), and exit with COMMAND's status
 * when it ends; the kernel then kills whatever is left in the namespace.
 * Signals are taken synchronously with sigwaitinfo(2), as tini does:
 * no handler, no race.
 */
static void __attribute__((noreturn)) run_init(struct options *o)
{
	sigset_t set;
	pid_t command, pid;
	int wstatus, code = EXIT_TOOL_FAILED, sig;

	/* A new session cuts the container from the caller's process group
	 * (a kill(0, sig) inside must not reach the host).  With a terminal,
	 * it would also cut COMMAND from the terminal and break job control,
	 * so there the caller's session is kept. */
	if (!has_terminal()) {
		vlog("setsid()");
		if (setsid() < 0)
			die("setsid");
	}
	/* Not dumpable: no process of the container may open /proc/1/exe,
	 * the host's ns-enter binary (CVE-2019-5736). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die("prctl(PR_SET_DUMPABLE)");

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die("sigprocmask");
	command = fork();
	if (command < 0)
		die("fork");
	if (command == 0) {
		if (sigprocmask(SIG_UNBLOCK, &set, NULL) < 0)
			die("sigprocmask");
		exec_in_container(o);
	}
	vlog("init: fork() = %d", (int)command);

	if (sigprocmask(SIG_BLOCK, NULL, &set) < 0)  /* all that is blocked */
		die("sigprocmask");
	for (;;) {
		sig = sigwaitinfo(&set, NULL);
		if (sig < 0) {
			if (errno == EINTR)
				continue;
			die("sigwaitinfo");
		}
		if (sig != SIGCHLD) {
			kill(command, sig);  /* ESRCH: it just exited, fine */
			continue;
		}
		while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
			if (pid == command) {
				code = exit_code_of(wstatus);
				command = 0;
			}
		}
		if (command == 0)
			break;
	}
	/* _exit: a forked child must not run its parent's atexit work. */
	fflush(NULL);
	_exit(code);
}

/* ---- --target: into a running container ---- */

static int open_or_die_target(pid_t pid, const char *what, int flags)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && kill(pid, 0) < 0 && errno == ESRCH)
			die_x("--target %d: no such process", (int)pid);
		die("--target %d: %s", (int)pid, path);
	}
	return fd;
}

/* Already a member?  setns(2) into one's own user namespace is refused. */
static int same_namespace(int fd, const char *file)
{
	struct stat a, b;
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/ns/%s", file);
	if (fstat(fd, &a) < 0 || stat(path, &b) < 0)
		return 0;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * setns(2) into a pid namespace only decides where the caller's children
 * go: the supervisor joins the target's for the fork, then steps back into
 * its own, so that it stays on the host.  FDS are the target's namespace
 * files (-1: already ours); the ones joined here are closed and set to -1.
 * Returns in the child only.
 */
static void spawn_in_target_pid_namespace(pid_t target, int fds[])
{
	const struct namespace *pid_ns = namespace_of(CLONE_NEWPID);
	const struct namespace *user_ns = namespace_of(CLONE_NEWUSER);
	size_t p = (size_t)(pid_ns - namespaces), u = (size_t)(user_ns - namespaces);
	int own = -1;
	char path[64];
	pid_t child;

	if (fds[p] >= 0) {
		own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		if (own < 0)
			die("open /proc/self/ns/pid");
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)target);
		vlog("setns(\"%s\", CLONE_NEWPID)", path);
		if (setns(fds[p], CLONE_NEWPID) < 0) {
			/* An unprivileged caller has rights over the pid
			 * namespace only from inside the user namespace that
			 * owns it: join that first, as nsenter(1) does. */
			if (errno != EPERM || fds[u] < 0)
				die("setns %s (CLONE_NEWPID)", path);
			vlog("setns: EPERM, the user namespace first");
			snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)target);
			join_namespace(fds[u], user_ns, path);
			close(fds[u]);
			fds[u] = -1;
			snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)target);
			join_namespace(fds[p], pid_ns, path);
		}
		close(fds[p]);
		fds[p] = -1;
	}
	child = spawn(0);
	if (child == 0) {
		if (own >= 0)
			close(own);
		return;
	}
	/* Back home.  From inside the container's user namespace this is
	 * refused: any later child would be born in the container.  There
	 * is none but LeakSanitizer's helper, which exit(3) starts: leave
	 * with _exit(2) instead. */
	if (own >= 0 && setns(own, CLONE_NEWPID) < 0) {
		int code;
		vlog("setns back to our pid namespace: %s", strerror(errno));
		code = supervise(child);
		if (code < 0)
			die("waitpid %d", (int)child);
		fflush(NULL);
		_exit(code);
	}
	supervise_and_exit(child);
}

/*
 * Like nsenter -a: open every namespace file and the root and working
 * directory of PID first (once in its mount namespace, our /proc is
 * gone), then join them.  The supervisor joins only the pid namespace,
 * for its child's sake, and steps back out of it after the fork: it stays
 * on the host, as in the main path.  The child joins the rest.
 */
static void enter_target(struct options *o)
{
	int fds[N_NAMESPACES], root, cwd;
	char path[64];
	size_t i;

	for (i = 0; i < N_NAMESPACES; i++) {
		snprintf(path, sizeof(path), "ns/%s", namespaces[i].file);
		fds[i] = open_or_die_target(o->target, path, O_RDONLY);
		if (same_namespace(fds[i], namespaces[i].file)) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
	root = open_or_die_target(o->target, "root", O_RDONLY | O_DIRECTORY);
	cwd = open_or_die_target(o->target, "cwd", O_RDONLY | O_DIRECTORY);

	spawn_in_target_pid_namespace(o->target, fds);
	for (i = 0; i < N_NAMESPACES; i++) {
		if (fds[i] < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s",
			 (int)o->target, namespaces[i].file);
		join_namespace(fds[i], &namespaces[i], path);
		close(fds[i]);
	}
	vlog("fchdir(/proc/%d/root); chroot(\".\")", (int)o->target);
	if (fchdir(root) < 0 || chroot(".") < 0)
		die("--target %d: entering its root", (int)o->target);
	vlog("fchdir(/proc/%d/cwd)", (int)o->target);
	if (fchdir(cwd) < 0)
		die("--target %d: entering its working directory", (int)o->target);
	close(root);
	close(cwd);
	if (o->workdir)
		enter_workdir(o->workdir);
	/* Between here and execve this process runs the host's binary
	 * inside the container: keep it out of reach (see run_init). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die("prctl(PR_SET_DUMPABLE)");
	exec_in_container(o);
}

/* ---- main: parse, check, act, run ---- */

int main(int argc, char **argv)
{
	struct options o;
	int net_fd = -1;

	md_init("ns-enter");
	parse_options(argc, argv, &o);
	check_options(&o);
	/* A SIGCHLD ignored by our caller would make the kernel reap our
	 * children before we can read their status. */
	signal(SIGCHLD, SIG_DFL);
	/* Descriptors inherited from the caller must not reach COMMAND: a
	 * host directory among them is a way out of any root. */
	if (o.root || o.target) {
		vlog("close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)");
		if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
			die("close_range");
	}
	if (o.target)
		enter_target(&o);

	/* Join the given network namespace while we still have the host's
	 * privileges and paths: before the user namespace, before pivot. */
	if (o.net_file) {
		net_fd = open_net_namespace(o.net_file);
		join_namespace(net_fd, namespace_of(CLONE_NEWNET), o.net_file);
		close(net_fd);
		o.flags &= ~CLONE_NEWNET;
	}
	if (o.flags & CLONE_NEWUSER)
		enter_user_namespace(&o);
	if (o.flags & CHILDREN_ONLY) {
		pid_t child = spawn(o.flags & ~CLONE_NEWUSER);
		if (child > 0)
			supervise_and_exit(child);
	} else {
		create_namespaces(o.flags & ~CLONE_NEWUSER);
	}
	build_container(&o);
	/* Init too, so that --target PID lands in the working directory. */
	if (o.workdir)
		enter_workdir(o.workdir);
	if ((o.flags & CLONE_NEWPID) && !o.no_init)
		run_init(&o);
	exec_in_container(&o);
}
