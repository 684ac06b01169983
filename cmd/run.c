/*
 * run - `docker run`, as nothing more than the chain of the four other tools.
 *
 * A container is a process that the kernel isolates, constrains and
 * connects.  Each of those is the job of one small tool, and each tool has
 * the shape `TOOL [OPTIONS] -- COMMAND`, so they nest:
 *
 *   cg-limit   --name N --memory 64M -- \        cgroups: memory, CPU, pids
 *   net-bridge --name N --publish 8080:80 -- \   network namespace, veth, bridge, NAT
 *   ns-enter   --all --net=/run/netns/N --root ROOT -- \
 *                                                namespaces, pivot_root, init
 *   /bin/httpd -f
 *
 * run teaches nothing new: it only does what a student would do by hand
 * before typing that chain, and undoes it afterwards.
 *
 *   1. the image: img-unpack --layers stores each layer of the image once,
 *      in a content-addressed directory below /var/lib/minidock/layers, and
 *      --config gives its Env, Entrypoint, Cmd, WorkingDir and User;
 *   2. the root: an overlayfs mount (mount(2) with type "overlay") whose
 *      lower layers are the image's, read-only and shared by every
 *      container, and whose upper layer is the container's own, so what one
 *      container writes no other container and no image sees;
 *   3. the chain, above, started with fork(2) and execve(2) (`--dry-run`
 *      prints it instead: paste it into a shell and it runs the container);
 *   4. afterwards: umount(2) the root, and with --rm remove the state.
 *
 * The state of a container lives in /run/minidock/NAME/ (see store.h); the
 * companion tool `container` lists, enters, stops and removes containers.
 *
 * Rootless: for an ordinary user the chain is `ns-enter --userns ...`
 * alone (user_namespaces(7): the caller becomes root of a namespace of its
 * own, other users exist where /etc/subuid gives it a range), over a
 * private copy of the image; what needs the host's root (a
 * cgroup, a bridge) is refused with the reason (check_rootless).
 *
 * Read: overlayfs (Documentation/filesystems/overlayfs.rst), mount(2),
 * setsid(2), prctl(2) PR_SET_PDEATHSIG, and console.h for -t (pty(7)).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <linux/openat2.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "minidock.h"
#include "console.h"
#include "store.h"

/* What the command line asked for. */
struct options {
	const char *name, *image;
	int rm, detach, interactive, tty, read_only, dry_run, privileged;
	int init;                               /* --init: ns-enter's init as PID 1 */
	int rootless;                           /* an ordinary user: see store.h */
	const char *memory, *cpus, *pids;
	const char *network;                    /* bridge, none or host */
	struct strv publish, volumes, env;
	struct strv security;                   /* passed as is to ns-enter */
	const char *hostname, *user, *workdir, *entrypoint;
	char **command;                         /* after IMAGE, may be empty */
};

/* An image of the store: its layers (lowest first) and its config. */
struct image {
	char *name;
	struct strv layers;
	json_t *config;         /* the image's "config" object, or NULL */
	json_t *root;           /* what holds it, freed with it */
};

/* What is being built, so that a failure can undo it (see undo_on_exit). */
static const char *claimed_name;
static int keep_state;

static const char usage_text[] =
"Usage: run [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
"Run COMMAND in a new container made from IMAGE: the chain\n"
"  cg-limit ... -- net-bridge ... -- ns-enter ... -- COMMAND\n"
"\n"
"  IMAGE                   a name already imported (busybox, the teaching\n"
"                          image), or a path (with a '/') to a docker save\n"
"                          archive, an OCI layout or a rootfs tarball:\n"
"                          imported under its file name\n"
"      --name NAME         the container's name (default: a generated one)\n"
"      --rm                remove the container when it exits\n"
"  -d, --detach            run in the background, print the name\n"
"  -i, --interactive       keep standard input open\n"
"  -t, --tty               a terminal (pty) for the container\n"
"  -m, --memory SIZE       memory limit (64M, 1g...)        -> cg-limit\n"
"      --cpus N.N          CPU limit (0.5 = half a CPU)     -> cg-limit\n"
"      --pids-limit N      at most N processes              -> cg-limit\n"
"      --network MODE      bridge (default; rootless: none), none or host\n"
"  -p, --publish [IP:]HOSTPORT:PORT[/tcp|/udp]              -> net-bridge\n"
"  -v, --volume SRC:DST[:ro]  bind-mount a host path        -> ns-enter\n"
"  -e, --env NAME[=VALUE]  set a variable                   -> ns-enter\n"
"  -h, --hostname NAME     the container's hostname (default: its name)\n"
"      --read-only         a read-only root filesystem      -> ns-enter\n"
"  -u, --user UID[:GID]    run as this user (or a name of the image's\n"
"                          /etc/passwd)                     -> ns-enter\n"
"  -w, --workdir DIR       working directory                -> ns-enter\n"
"      --entrypoint CMD    replace the image's Entrypoint\n"
"      --init              a small init as PID 1 (ns-enter's), which passes\n"
"                          signals on and reaps zombies; without it COMMAND\n"
"                          is PID 1, as with docker run  -> ns-enter\n"
"      --privileged, --cap-add CAP, --cap-drop CAP, --security-opt OPT\n"
"                          relax a protection (see README) -> ns-enter\n"
"      --dry-run           prepare the container, print the chain instead\n"
"                          of running it (remove it with: container rm NAME)\n"
"      --verbose           every step of every tool, naming the system call\n"
"      --help, --version\n"
"\n"
"As an ordinary user (rootless): a user namespace maps you to root inside\n"
"(ns-enter --userns), each container gets a private copy of the image (no\n"
"overlayfs), and the network is none by default.  Images go to\n"
"$XDG_DATA_HOME/minidock (~/.local/share/minidock), state to\n"
"$XDG_RUNTIME_DIR/minidock (or /tmp/minidock-UID).  These need root:\n"
"--memory, --cpus, --pids-limit (cgroups), --network bridge and --publish\n"
"(bridge, veth, NAT); --user other than root needs a range of yours in\n"
"/etc/subuid and /etc/subgid (then newuidmap maps users 1..N inside).\n"
"\n"
"Example: run --rm -it --memory 64M busybox sh\n"
"         run -d --init --name web -p 8080:80 busybox httpd -f -p 80\n"
"See also: container(1) to list, exec, stop and remove containers.\n";

static void usage(void)
{
	fputs(usage_text, stdout);
	exit(0);
}

/* ---- parse ---- */

static void parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_NAME = 256, OPT_RM, OPT_CPUS, OPT_PIDS, OPT_NETWORK,
	       OPT_READ_ONLY, OPT_ENTRYPOINT, OPT_DRY_RUN, OPT_VERBOSE,
	       OPT_HELP, OPT_VERSION, OPT_PRIVILEGED, OPT_CAP_ADD, OPT_CAP_DROP,
	       OPT_SECURITY_OPT, OPT_INIT };
	static const struct option longopts[] = {
		{ "name",        required_argument, NULL, OPT_NAME },
		{ "rm",          no_argument,       NULL, OPT_RM },
		{ "detach",      no_argument,       NULL, 'd' },
		{ "interactive", no_argument,       NULL, 'i' },
		{ "tty",         no_argument,       NULL, 't' },
		{ "memory",      required_argument, NULL, 'm' },
		{ "cpus",        required_argument, NULL, OPT_CPUS },
		{ "pids-limit",  required_argument, NULL, OPT_PIDS },
		{ "network",     required_argument, NULL, OPT_NETWORK },
		{ "net",         required_argument, NULL, OPT_NETWORK },
		{ "publish",     required_argument, NULL, 'p' },
		{ "volume",      required_argument, NULL, 'v' },
		{ "env",         required_argument, NULL, 'e' },
		{ "hostname",    required_argument, NULL, 'h' },
		{ "read-only",   no_argument,       NULL, OPT_READ_ONLY },
		{ "user",        required_argument, NULL, 'u' },
		{ "workdir",     required_argument, NULL, 'w' },
		{ "entrypoint",  required_argument, NULL, OPT_ENTRYPOINT },
		{ "dry-run",     no_argument,       NULL, OPT_DRY_RUN },
		{ "init",        no_argument,       NULL, OPT_INIT },
		{ "privileged",  no_argument,       NULL, OPT_PRIVILEGED },
		{ "cap-add",     required_argument, NULL, OPT_CAP_ADD },
		{ "cap-drop",    required_argument, NULL, OPT_CAP_DROP },
		{ "security-opt", required_argument, NULL, OPT_SECURITY_OPT },
		{ "verbose",     no_argument,       NULL, OPT_VERBOSE },
		{ "help",        no_argument,       NULL, OPT_HELP },
		{ "version",     no_argument,       NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* Leading '+': options stop at IMAGE, the rest is the command. */
	while ((c = getopt_long(argc, argv, "+ditm:p:v:e:h:u:w:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_NAME:       o->name = optarg; break;
		case OPT_RM:         o->rm = 1; break;
		case 'd':            o->detach = 1; break;
		case 'i':            o->interactive = 1; break;
		case 't':            o->tty = 1; break;
		case 'm':            o->memory = optarg; break;
		case OPT_CPUS:       o->cpus = optarg; break;
		case OPT_PIDS:       o->pids = optarg; break;
		case OPT_NETWORK:    o->network = optarg; break;
		case 'p':            strv_push(&o->publish, optarg); break;
		case 'v':            strv_push(&o->volumes, optarg); break;
		case 'e':            strv_push(&o->env, optarg); break;
		case 'h':            o->hostname = optarg; break;
		case OPT_READ_ONLY:  o->read_only = 1; break;
		case 'u':            o->user = optarg; break;
		case 'w':            o->workdir = optarg; break;
		case OPT_ENTRYPOINT: o->entrypoint = optarg; break;
		case OPT_DRY_RUN:    o->dry_run = 1; break;
		case OPT_INIT:       o->init = 1; break;
		case OPT_PRIVILEGED:
			o->privileged = 1;
			strv_push(&o->security, "--privileged");
			break;
		case OPT_CAP_ADD:
			strv_push(&o->security, "--cap-add");
			strv_push(&o->security, optarg);
			break;
		case OPT_CAP_DROP:
			strv_push(&o->security, "--cap-drop");
			strv_push(&o->security, optarg);
			break;
		case OPT_SECURITY_OPT:
			strv_push(&o->security, "--security-opt");
			strv_push(&o->security, optarg);
			break;
		case OPT_VERBOSE:    md_verbose = 1; break;
		case OPT_HELP:       usage(); break;
		case OPT_VERSION:    print_version(); exit(0);
		default:
			fprintf(stderr, "Try 'run --help'.\n");
			exit(EXIT_TOOL_FAILED);
		}
	}
	/* Rootless, there is no bridge to join: none, as with podman's
	 * --network none (it needs no root). */
	if (!o->network)
		o->network = o->rootless ? "none" : "bridge";
	if (optind >= argc)
		die_x("no IMAGE given (try: run --rm busybox echo hello)");
	o->image = argv[optind];
	o->command = argv + optind + 1;
}

/* ---- check: every value, before anything is created ---- */

static int valid_port(const char *s)
{
	unsigned long long v;

	return parse_uint(s, 65535, &v) == 0 && v > 0;
}

/* [HOSTIP:]HOSTPORT:PORT[/tcp|/udp], as docker -p (net-bridge --publish). */
static void check_publish(const char *spec)
{
	char *s = xstrdup(spec), *proto = strchr(s, '/'), *port, *hostport;
	int ok = 1;

	if (proto) {
		*proto++ = '\0';
		ok = !strcmp(proto, "tcp") || !strcmp(proto, "udp");
	}
	port = strrchr(s, ':');
	if (!port) {
		ok = 0;
	} else {
		*port++ = '\0';
		hostport = strrchr(s, ':');
		if (hostport) {
			struct in_addr a;
			*hostport++ = '\0';
			ok = ok && inet_pton(AF_INET, s, &a) == 1;
		} else {
			hostport = s;
		}
		ok = ok && valid_port(port) && valid_port(hostport);
	}
	free(s);
	if (!ok)
		die_x("--publish %s: expected [HOSTIP:]HOSTPORT:PORT[/tcp|/udp]", spec);
}

/* SRC:DST[:ro|:rw]; SRC made absolute, so the printed chain works from
 * any directory. */
static char *check_volume(const char *spec)
{
	char *s = xstrdup(spec), *dst = strchr(s, ':'), *mode, *src, *out;

	if (!dst || dst == s)
		die_x("--volume %s: expected SRC:DST[:ro]", spec);
	*dst++ = '\0';
	mode = strchr(dst, ':');
	if (mode) {
		*mode++ = '\0';
		if (strcmp(mode, "ro") && strcmp(mode, "rw"))
			die_x("--volume %s: mode must be ro or rw", spec);
	}
	if (dst[0] != '/')
		die_x("--volume %s: the destination must be an absolute path", spec);
	src = realpath(s, NULL);
	if (!src)
		die("--volume %s: %s", spec, s);
	out = mode && !strcmp(mode, "ro") ? xasprintf("%s:%s:ro", src, dst)
					  : xasprintf("%s:%s", src, dst);
	free(src);
	free(s);
	return out;
}

/*
 * What an ordinary user cannot have: cgroups and the bridge belong to the
 * host, and only root may change them (cg-limit writes the host's cgroup
 * tree; net-bridge creates links and nftables rules).
 */
static void check_rootless(const struct options *o)
{
	static const char limits[] = "resource limits need root (cg-limit writes "
		"the host's cgroups); rootless containers run without limits";
	static const char bridge[] = "needs root (net-bridge creates a bridge, a veth "
		"pair and NAT rules on the host); rootless containers get "
		"--network none (the default) or --network host";

	if (o->memory)
		die_x("--memory %s: %s", o->memory, limits);
	if (o->cpus)
		die_x("--cpus %s: %s", o->cpus, limits);
	if (o->pids)
		die_x("--pids-limit %s: %s", o->pids, limits);
	if (!strcmp(o->network, "bridge"))
		die_x("--network bridge %s", bridge);
	if (o->publish.n)
		die_x("--publish %s %s", o->publish.v[0], bridge);
}

static void check_options(struct options *o)
{
	unsigned long long n;
	uint64_t bytes;
	size_t i;

	if (o->name && !valid_name(o->name))
		die_x("--name %s: use 1 to 64 of [A-Za-z0-9_.-], not starting with '.' or '-'",
		      o->name);
	if (o->hostname && (!valid_name(o->hostname) || strchr(o->hostname, '_')))
		die_x("--hostname %s: use 1 to 64 of [A-Za-z0-9.-]", o->hostname);
	if (o->memory && (parse_size(o->memory, &bytes) < 0 || bytes == 0))
		die_x("--memory %s: expected a size such as 64M, 512k, 1g", o->memory);
	if (o->cpus) {
		char *end;
		double v;
		errno = 0;
		v = strtod(o->cpus, &end);
		if (errno || *end || end == o->cpus || !isfinite(v) || v <= 0)
			die_x("--cpus %s: expected a positive number such as 0.5", o->cpus);
	}
	if (o->pids && (parse_uint(o->pids, INT32_MAX, &n) < 0 || n == 0))
		die_x("--pids-limit %s: expected a positive number", o->pids);
	if (strcmp(o->network, "bridge") && strcmp(o->network, "none") &&
	    strcmp(o->network, "host"))
		die_x("--network %s: expected bridge, none or host", o->network);
	if (o->publish.n && strcmp(o->network, "bridge"))
		die_x("--publish needs --network bridge (with %s there is nothing to publish)",
		      o->network);
	for (i = 0; i < o->publish.n; i++)
		check_publish(o->publish.v[i]);
	for (i = 0; i < o->volumes.n; i++) {
		char *abs = check_volume(o->volumes.v[i]);
		free(o->volumes.v[i]);
		o->volumes.v[i] = abs;
	}
	for (i = 0; i < o->env.n; i++)
		if (o->env.v[i][0] == '=' || o->env.v[i][0] == '\0')
			die_x("--env %s: expected NAME=VALUE or NAME", o->env.v[i]);
	if (o->workdir && o->workdir[0] != '/')
		die_x("--workdir %s: must be an absolute path", o->workdir);
	if (o->user && !o->user[0])
		die_x("--user: empty");
	if (o->detach && o->dry_run)
		die_x("--detach and --dry-run: choose one");
	if (o->tty && !o->detach && !isatty(STDIN_FILENO) && o->interactive)
		die_x("-it: standard input is not a terminal (drop -t)");
	if (o->rootless)
		check_rootless(o);
}

/* ---- image: the store of layers ---- */

static char *images_dir(void)
{
	return xasprintf("%s/images", md_lib_dir());
}

/* "images/build/busybox.tar" -> "busybox": what an imported path is
 * called in the store. */
static char *name_of_path(const char *path)
{
	static const char *const suffixes[] = {
		".tar.gz", ".tar.zst", ".tgz", ".tar", ".oci", "-oci", NULL,
	};
	const char *base;
	char *copy = xstrdup(path), *name;
	size_t len, i;

	len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	base = strrchr(copy, '/');
	name = xstrdup(base ? base + 1 : copy);
	free(copy);
	len = strlen(name);
	for (i = 0; suffixes[i]; i++) {
		size_t sl = strlen(suffixes[i]);
		if (len > sl && !strcmp(name + len - sl, suffixes[i])) {
			name[len - sl] = '\0';
			break;
		}
	}
	return name;
}

/* Write TEXT to PATH through a temporary file and rename(2), so that a
 * run reading PATH at the same time sees the old file or the new one. */
static int replace_file(const char *path, const char *tmp, const char *text)
{
	if (text && write_file(tmp, text) < 0)
		return -1;
	return rename(tmp, path);
}

/*
 * Rootless, layers cannot be stored in overlayfs form (a whiteout is a
 * device node, an opaque directory a trusted.* attribute: both need root),
 * and an overlayfs would have to be mounted inside the container's user
 * namespace, by ns-enter.  So the image is only recorded: its config, from
 * img-unpack --inspect, written to CONFIG; each container then gets a copy
 * of its own (copy_image).  Returns img-unpack's exit code.
 */
static int inspect_config(const char *path, const char *config)
{
	char *argv[] = { tool_path("img-unpack"), (char *)"--inspect", (char *)"--json",
			 (char *)path, NULL };
	char *out = NULL;
	json_t *all = NULL;
	int code;

	vlog("rootless: no layers stored; img-unpack --inspect %s for its config", path);
	code = run_tool(argv, &out, 0);
	if (code == 0) {
		all = json_loads(out, 0, NULL);
		if (!json_is_object(json_object_get(all, "runtime")) ||
		    json_dump_file(json_object_get(all, "runtime"), config, JSON_INDENT(2)) < 0)
			code = EXIT_TOOL_FAILED;
	}
	json_decref(all);
	free(out);
	free(argv[0]);
	return code;
}

/*
 * img-unpack --layers: store what is missing of IMAGE's layers (each one
 * once, by digest), and record the image under NAME: the list of its layer
 * directories, lowest first (written last: it says the image is there),
 * its config, and the file it came from.  Rootless, the list is empty
 * (see inspect_config).
 */
static void import_image(const char *path, const char *name, int rootless)
{
	char *imgdir = xasprintf("%s/images/%s", md_lib_dir(), name);
	char *layers_store = xasprintf("%s/layers", md_lib_dir());
	char *config = xasprintf("%s/config.json", imgdir);
	char *layers_file = xasprintf("%s/layers", imgdir);
	char *source = xasprintf("%s/source", imgdir);
	char *tmp_config = xasprintf("%s.%d", config, (int)getpid());
	char *tmp_layers = xasprintf("%s.%d", layers_file, (int)getpid());
	char *tmp_source = xasprintf("%s.%d", source, (int)getpid());
	char *abs = realpath(path, NULL), *out = NULL;
	struct strv argv = { 0 };
	int code;

	if (!abs)
		die("image %s", path);
	if (mkdir_p(imgdir, 0755) < 0 || (!rootless && mkdir_p(layers_store, 0755) < 0))
		die("mkdir %s", imgdir);
	strv_push(&argv, "img-unpack");
	free(argv.v[0]);
	argv.v[0] = tool_path("img-unpack");
	strv_push(&argv, "--layers");
	strv_push(&argv, layers_store);
	strv_push(&argv, "--config");
	strv_push(&argv, tmp_config);
	if (md_verbose)
		strv_push(&argv, "--verbose");
	strv_push(&argv, abs);
	if (rootless) {
		code = inspect_config(abs, tmp_config);
		out = xstrdup("");
	} else {
		vlog("importing %s as image %s: img-unpack --layers %s", abs, name, layers_store);
		code = run_tool(argv.v, &out, 0);
	}
	if (code != 0 || (!out[0] && !rootless)) {
		unlink(tmp_config);
		rmdir(imgdir);  /* only when it is new, so empty */
		if (code != 0)
			die_x("image %s: img-unpack failed (exit %d)", path, code);
		die_x("image %s: img-unpack --layers printed no layer", path);
	}
	if (replace_file(config, tmp_config, NULL) < 0 ||
	    replace_file(source, tmp_source, abs) < 0 ||
	    replace_file(layers_file, tmp_layers, out) < 0)
		die("write %s", layers_file);
	free(out);
	strv_free(&argv);
	free(abs);
	free(tmp_source);
	free(tmp_layers);
	free(tmp_config);
	free(source);
	free(layers_file);
	free(config);
	free(layers_store);
	free(imgdir);
}

/* Where `make images` leaves the teaching images, next to our bin/. */
static char *teaching_image(const char *name)
{
	static const char *const forms[] = { "%s/%s.tar", "%s/%s-oci", NULL };
	const char *env = getenv("MINIDOCK_IMAGES");
	char *dir = env && *env ? xstrdup(env) : NULL;
	size_t i;

	if (!dir) {
		char *self = tool_path("..");
		dir = xasprintf("%s/images/build", self);
		free(self);
	}
	for (i = 0; forms[i]; i++) {
		char *p = xasprintf(forms[i], dir, name);
		if (access(p, R_OK) == 0) {
			free(dir);
			return p;
		}
		free(p);
	}
	free(dir);
	return NULL;
}

static void load_image(struct image *img, const char *name)
{
	char *imgdir = xasprintf("%s/images/%s", md_lib_dir(), name);
	char *lf = xasprintf("%s/layers", imgdir);
	char *cf = xasprintf("%s/config.json", imgdir);
	char *text = read_file(lf, NULL), *line, *save = NULL;
	json_error_t jerr;

	if (!text)
		die("image %s: %s", name, lf);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct stat st;
		if (stat(line, &st) < 0 || !S_ISDIR(st.st_mode))
			die("image %s: layer %s", name, line);
		strv_push(&img->layers, line);
	}
	free(text);
	img->name = xstrdup(name);
	img->root = json_load_file(cf, 0, &jerr);
	if (img->root) {
		/* Accept the whole image config or only its "config" part. */
		img->config = json_object_get(img->root, "config");
		if (!json_is_object(img->config))
			img->config = json_is_object(img->root) ? img->root : NULL;
	} else if (access(cf, F_OK) == 0) {
		die_x("image %s: %s: %s", name, cf, jerr.text);
	}
	free(cf);
	free(lf);
	free(imgdir);
}

/* A name in the store, a path to import, or the teaching image. */
static void resolve_image(const char *ref, struct image *img, int rootless)
{
	char *name, *recorded;

	if (strchr(ref, '/')) {
		name = name_of_path(ref);
		if (!valid_name(name))
			die_x("image %s: cannot name it after its file (%s)", ref, name);
		import_image(ref, name, rootless);
	} else {
		char *dir = images_dir();
		size_t len = strlen(ref);
		name = xstrdup(ref);
		/* busybox:latest is busybox: the store keeps one tag a name. */
		if (len > 7 && !strcmp(ref + len - 7, ":latest"))
			name[len - 7] = '\0';
		if (!valid_name(name))
			die_x("image %s: not a valid image name", ref);
		recorded = xasprintf("%s/%s/layers", dir, name);
		if (access(recorded, F_OK) < 0) {
			char *teach = teaching_image(name);
			if (!teach)
				die_x("image %s: unknown; import it by giving its path "
				      "(run ./%s.tar ..., a docker save archive, an OCI "
				      "layout or a rootfs tarball), or build the teaching "
				      "image with: make images", ref, name);
			import_image(teach, name, rootless);
			free(teach);
		} else {
			vlog("image %s: already in %s, nothing to unpack", name, dir);
		}
		free(recorded);
		free(dir);
	}
	load_image(img, name);
	free(name);
}

static void free_image(struct image *img)
{
	free(img->name);
	strv_free(&img->layers);
	json_decref(img->root);
}

/* ---- the container: name, config, root ---- */

static char *generate_name(void)
{
	static const char *const adjectives[] = {
		"agile", "bold", "brave", "calm", "clever", "eager", "fancy",
		"gentle", "happy", "jolly", "keen", "lucid", "merry", "nimble",
		"quiet", "rapid", "shiny", "sturdy", "swift", "tidy", "witty",
	};
	static const char *const nouns[] = {
		"ampere", "babbage", "curie", "darwin", "euler", "fermat",
		"galois", "hopper", "kepler", "lamarr", "lovelace", "noether",
		"pascal", "poincare", "shannon", "turing", "volta", "wozniak",
	};
	unsigned int r[3];

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		die("getrandom");
	return xasprintf("%s_%s_%02u",
			 adjectives[r[0] % (sizeof(adjectives) / sizeof(*adjectives))],
			 nouns[r[1] % (sizeof(nouns) / sizeof(*nouns))], r[2] % 100);
}

/* Remove what a failed start created (atexit: die() exits through it). */
static void undo_on_exit(void)
{
	if (claimed_name && !keep_state)
		remove_state(claimed_name);
}

/* mkdir(2) of the state directory is the lock: one container per name. */
static char *claim_name(const char *wanted)
{
	char *name = wanted ? xstrdup(wanted) : generate_name();
	int tries = 0;

	if (mkdir_p(md_run_dir(), 0755) < 0)
		die("mkdir %s", md_run_dir());
	for (;;) {
		char *dir = state_dir(name);
		int r = mkdir(dir, 0700);
		free(dir);
		if (r == 0)
			break;
		if (errno != EEXIST)
			die("mkdir %s/%s", md_run_dir(), name);
		if (wanted)
			die_x("name %s: already in use by a container (remove it with: container rm %s)",
			      name, name);
		if (++tries > 100)
			die_x("no free container name found");
		free(name);
		name = generate_name();
	}
	claimed_name = name;
	atexit(undo_on_exit);
	return name;
}

static void json_set_strv(json_t *obj, const char *key, char *const *v)
{
	json_t *a = json_array();

	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	json_object_set_new(obj, key, a);
}

static void write_config(const char *name, const struct options *o,
			 char *const *command, const char *hostname,
			 char *const *env, const char *rootfs_kind)
{
	json_t *c = json_object();
	char *path = state_file(name, "config.json");

	json_object_set_new(c, "name", json_string(name));
	json_object_set_new(c, "image", json_string(o->image));
	json_set_strv(c, "command", command);
	json_object_set_new(c, "created", json_integer((json_int_t)time(NULL)));
	json_object_set_new(c, "hostname", json_string(hostname));
	json_object_set_new(c, "network", json_string(o->network));
	json_set_strv(c, "ports", o->publish.v);
	json_set_strv(c, "env", env);
	json_object_set_new(c, "workdir", o->workdir ? json_string(o->workdir) : json_null());
	json_object_set_new(c, "rm", json_boolean(o->rm));
	json_object_set_new(c, "rootfs", json_string(rootfs_kind));
	json_object_set_new(c, "rootless", json_boolean(o->rootless));
	if (json_dump_file(c, path, JSON_INDENT(2)) < 0)
		die_x("write %s", path);
	json_decref(c);
	free(path);
}

/*
 * The root: an overlayfs of the image's layers.  lowerdir lists them top
 * first (the opposite of img-unpack's order); upperdir receives every
 * write, workdir is overlayfs's scratch space on the same filesystem.
 */
static int mount_overlay(const char *name, const struct image *img, const char *rootfs)
{
	char *upper = state_file(name, "upper"), *work = state_file(name, "work");
	size_t i, len = 64 + strlen(upper) + strlen(work);
	char *opts, *p;
	int ret;

	for (i = 0; i < img->layers.n; i++)
		len += strlen(img->layers.v[i]) + 1;
	/* The options are one string of at most a page, and ':' and ','
	 * separate its fields. */
	if (len > 4000)
		die_x("image %s: too many layers for one overlayfs mount (%zu)",
		      img->name, img->layers.n);
	for (i = 0; i < img->layers.n; i++)
		if (strpbrk(img->layers.v[i], ":,"))
			die_x("layer %s: overlayfs cannot take a path with ':' or ','",
			      img->layers.v[i]);
	if (strpbrk(upper, ":,"))
		die_x("%s: overlayfs cannot take a path with ':' or ','", upper);
	opts = p = xmalloc(len);
	p += sprintf(p, "lowerdir=");
	for (i = img->layers.n; i-- > 0; )
		p += sprintf(p, "%s%s", img->layers.v[i], i ? ":" : "");
	sprintf(p, ",upperdir=%s,workdir=%s", upper, work);
	if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0)
		die("mkdir %s", upper);
	vlog("mount(\"overlay\", \"%s\", \"overlay\", 0, \"%s\")", rootfs, opts);
	ret = mount("overlay", rootfs, "overlay", 0, opts);
	free(opts);
	free(work);
	free(upper);
	return ret;
}

/* Without overlayfs: a private copy of the image, unpacked again. */
static void copy_image(const struct image *img, const char *rootfs)
{
	char *source_file = xasprintf("%s/images/%s/source", md_lib_dir(), img->name);
	char *source = read_file(source_file, NULL);
	struct strv argv = { 0 };
	int code;

	if (!source)
		die("image %s: %s", img->name, source_file);
	/* img-unpack wants to create DEST itself. */
	if (rmdir(rootfs) < 0)
		die("rmdir %s", rootfs);
	strv_push(&argv, "img-unpack");
	free(argv.v[0]);
	argv.v[0] = tool_path("img-unpack");
	if (md_verbose)
		strv_push(&argv, "--verbose");
	strv_push(&argv, source);
	strv_push(&argv, rootfs);
	code = run_tool(argv.v, NULL, 0);
	if (code != 0)
		die_x("image %s: img-unpack %s %s failed (exit %d)", img->name, source, rootfs, code);
	strv_free(&argv);
	free(source);
	free(source_file);
}

static const char *prepare_rootfs(const char *name, const struct image *img, int rootless)
{
	char *rootfs = state_file(name, "rootfs");
	const char *storage = getenv("MINIDOCK_STORAGE");
	const char *kind = "overlay";

	if (mkdir(rootfs, 0755) < 0)
		die("mkdir %s", rootfs);
	if (rootless) {
		vlog("rootless: a private copy of the image (no overlayfs, see inspect_config)");
		copy_image(img, rootfs);
		kind = "copy";
	} else if (storage && !strcmp(storage, "copy")) {
		vlog("MINIDOCK_STORAGE=copy: a private copy of the image");
		copy_image(img, rootfs);
		kind = "copy";
	} else if (mount_overlay(name, img, rootfs) < 0) {
		if (errno == EPERM)
			die("mount overlay on %s (run needs root: sudo)", rootfs);
		if (errno != ENODEV && errno != EINVAL)
			die("mount overlay on %s", rootfs);
		warn_errno("mount overlay on %s: overlayfs unavailable, copying the image instead",
			   rootfs);
		copy_image(img, rootfs);
		kind = "copy";
	}
	free(rootfs);
	return kind;
}

/*
 * Create an empty file at PATH inside ROOT (to mount something on it) when
 * the image has none, resolving PATH as the container would:
 * RESOLVE_IN_ROOT keeps a hostile image's symlinks (/etc -> /host/etc)
 * inside ROOT.  An O_PATH look first: opening an image's file for writing
 * would copy it up into the container's layer for nothing.  See openat2(2).
 */
static void ensure_file_in_root(const char *root, const char *path)
{
	struct open_how look = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT,
	};
	struct open_how create = {
		.flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		.mode = 0644,
		.resolve = RESOLVE_IN_ROOT,
	};
	int dirfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;

	if (dirfd < 0)
		die("open %s", root);
	fd = (int)syscall(SYS_openat2, dirfd, path, &look, sizeof(look));
	if (fd < 0 && errno == ENOENT)
		fd = (int)syscall(SYS_openat2, dirfd, path, &create, sizeof(create));
	/* An image without /etc, or a read-only one: ns-enter will say. */
	if (fd >= 0)
		close(fd);
	close(dirfd);
}

/* /etc/hostname always; /etc/hosts and /etc/resolv.conf too unless
 * net-bridge writes them (with --network bridge): files of the state
 * directory that ns-enter bind-mounts over the image's. */
static void provide_etc_files(const char *name, const char *rootfs, const char *network,
			      const char *hostname)
{
	char *path = state_file(name, "hostname"), *text = xasprintf("%s\n", hostname);

	ensure_file_in_root(rootfs, "etc/hosts");
	ensure_file_in_root(rootfs, "etc/resolv.conf");
	ensure_file_in_root(rootfs, "etc/hostname");

	if (write_file(path, text) < 0)
		die("write %s", path);
	free(path);
	free(text);
	if (!strcmp(network, "bridge"))
		return;
	path = state_file(name, "hosts");
	if (!strcmp(network, "host")) {
		char *hosts = read_file("/etc/hosts", NULL);
		text = hosts ? hosts : xstrdup("127.0.0.1\tlocalhost\n");
	} else {
		text = xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t%s\n", hostname);
	}
	if (write_file(path, text) < 0)
		die("write %s", path);
	free(text);
	free(path);
	path = state_file(name, "resolv.conf");
	text = !strcmp(network, "host") ? read_file("/etc/resolv.conf", NULL) : NULL;
	if (write_file(path, text ? text : "") < 0)
		die("write %s", path);
	free(text);
	free(path);
}

/* ---- what the container runs: the image's config, then the options ---- */

static void push_json_strings(struct strv *s, json_t *a)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (json_is_string(v))
			strv_push(s, json_string_value(v));
}

static const char *config_string(const struct image *img, const char *key)
{
	json_t *v = img->config ? json_object_get(img->config, key) : NULL;

	return json_is_string(v) && json_string_value(v)[0] ? json_string_value(v) : NULL;
}

/* As Docker: COMMAND replaces Cmd; --entrypoint replaces Entrypoint (and
 * then the image's Cmd is dropped too). */
static void container_command(const struct options *o, const struct image *img,
			      struct strv *cmd)
{
	char **a;

	if (o->entrypoint) {
		if (o->entrypoint[0])
			strv_push(cmd, o->entrypoint);
	} else if (img->config) {
		push_json_strings(cmd, json_object_get(img->config, "Entrypoint"));
	}
	if (o->command[0])
		for (a = o->command; *a; a++)
			strv_push(cmd, *a);
	else if (!o->entrypoint && img->config)
		push_json_strings(cmd, json_object_get(img->config, "Cmd"));
	if (cmd->n == 0)
		die_x("image %s has no Cmd nor Entrypoint: give a COMMAND", img->name);
}

static int has_var(const struct strv *env, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < env->n; i++)
		if (!strncmp(env->v[i], name, n) && env->v[i][n] == '=')
			return 1;
	return 0;
}

/* The image's Env, what docker adds, then -e (later wins). */
static void container_env(const struct options *o, const struct image *img,
			  const char *hostname, struct strv *env)
{
	size_t i;

	if (img->config)
		push_json_strings(env, json_object_get(img->config, "Env"));
	if (!has_var(env, "PATH"))
		strv_push(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	strv_pushf(env, "HOSTNAME=%s", hostname);
	if (o->tty)
		strv_push(env, "TERM=xterm");
	for (i = 0; i < o->env.n; i++) {
		const char *e = o->env.v[i];
		if (strchr(e, '=')) {
			strv_push(env, e);
		} else if (getenv(e)) {
			/* -e NAME: the host's value, as docker does. */
			strv_pushf(env, "%s=%s", e, getenv(e));
		}
	}
}

/* Field FIELD (0 = the name) of the line of ROOTFS/etc/FILE whose name is
 * NAME: "www-data:x:33:33:..." -> "33".  NULL when there is none. */
static char *lookup_id(const char *rootfs, const char *file, const char *name, int field)
{
	char *path = xasprintf("%s/etc/%s", rootfs, file);
	char *text = read_file(path, NULL), *line, *save = NULL, *found = NULL;

	free(path);
	if (!text)
		return NULL;
	for (line = strtok_r(text, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		char *rest = line, *f = strsep(&rest, ":");
		int i;
		if (strcmp(f, name))
			continue;
		for (i = 0; i < field && rest; i++)
			f = strsep(&rest, ":");
		if (i == field && f && f[0])
			found = xstrdup(f);
	}
	free(text);
	return found;
}

static int is_number(const char *s)
{
	unsigned long long v;

	return parse_uint(s, UINT32_MAX - 1, &v) == 0;
}

/* --user or the image's User, as UID[:GID] for ns-enter: a name is looked
 * up in the image's /etc/passwd (its primary group too) and /etc/group. */
static char *resolve_user(const char *rootfs, const char *spec)
{
	char *s = xstrdup(spec), *group = strchr(s, ':'), *uid, *gid = NULL, *out;

	if (group)
		*group++ = '\0';
	if (is_number(s)) {
		uid = xstrdup(s);
	} else {
		uid = lookup_id(rootfs, "passwd", s, 2);
		if (!uid)
			die_x("--user %s: no user %s in the image's /etc/passwd", spec, s);
		if (!group)
			gid = lookup_id(rootfs, "passwd", s, 3);
	}
	if (group) {
		if (is_number(group))
			gid = xstrdup(group);
		else if (!(gid = lookup_id(rootfs, "group", group, 2)))
			die_x("--user %s: no group %s in the image's /etc/group", spec, group);
	}
	out = gid ? xasprintf("%s:%s", uid, gid) : xstrdup(uid);
	free(gid);
	free(uid);
	free(s);
	return out;
}

/* ---- the chain ---- */

/* The tool's path, or just its name when $PATH finds the same file, so
 * the printed chain reads as the TP writes it. */
static char *chain_tool(const char *tool, int for_print)
{
	char *path = tool_path(tool), *path_env, *dir, *save = NULL, *real;

	if (!for_print || !getenv("PATH"))
		return path;
	real = realpath(path, NULL);
	path_env = xstrdup(getenv("PATH"));
	for (dir = strtok_r(path_env, ":", &save); dir && real; dir = strtok_r(NULL, ":", &save)) {
		char *cand = xasprintf("%s/%s", dir, tool), *r = realpath(cand, NULL);
		int same = r && !strcmp(r, real), found = access(cand, X_OK) == 0;
		free(r);
		free(cand);
		if (same) {
			free(path);
			path = xstrdup(tool);
		}
		/* The first one found is the one a shell would run. */
		if (same || found)
			break;
	}
	free(path_env);
	free(real);
	return path;
}

struct chain_args {
	const char *name, *hostname, *rootfs, *user;
	const char *console;    /* the pty's slave, for /dev/console */
	const struct strv *cmd, *env;
};

/* cg-limit NAME [limits] --devices container: the cgroup step. */
static void push_cg_limit(const struct options *o, const struct chain_args *a,
			  int for_print, struct strv *chain)
{
	char *tool = chain_tool("cg-limit", for_print);

	strv_push(chain, tool);
	free(tool);
	strv_push(chain, "--name");
	strv_push(chain, a->name);
	if (o->memory) {
		strv_push(chain, "--memory");
		strv_push(chain, o->memory);
	}
	if (o->cpus) {
		strv_push(chain, "--cpus");
		strv_push(chain, o->cpus);
	}
	if (o->pids) {
		strv_push(chain, "--pids");
		strv_push(chain, o->pids);
	}
	/* As docker: only the harmless devices may be opened (the devices
	 * cgroup); --privileged gives them all. */
	if (!o->privileged) {
		strv_push(chain, "--devices");
		strv_push(chain, "container");
	}
	/* -d: become the next tool rather than wait (see undo_exec_steps). */
	if (o->detach)
		strv_push(chain, "--exec");
	if (md_verbose)
		strv_push(chain, "--verbose");
	strv_push(chain, "--");
}

/* cg-limit ... -- [net-bridge ... --] ns-enter ... -- COMMAND, or rootless
 * ns-enter --userns ... -- COMMAND alone.  The "--" entries split it into
 * one tool a line for --dry-run. */
static void build_chain(const struct options *o, const struct chain_args *a,
			int for_print, struct strv *chain, size_t ends[3], size_t *nends)
{
	char *netns = xasprintf("%s/%s", md_netns_dir(), a->name);
	char *tool;
	size_t i;

	/* Rootless: no cgroup of our own to make (check_rootless). */
	if (!o->rootless) {
		push_cg_limit(o, a, for_print, chain);
		ends[(*nends)++] = chain->n - 1;
	}

	if (!strcmp(o->network, "bridge")) {
		tool = chain_tool("net-bridge", for_print);
		strv_push(chain, tool);
		free(tool);
		strv_push(chain, "--name");
		strv_push(chain, a->name);
		for (i = 0; i < o->publish.n; i++) {
			strv_push(chain, "--publish");
			strv_push(chain, o->publish.v[i]);
		}
		if (o->detach)
			strv_push(chain, "--exec");
		if (md_verbose)
			strv_push(chain, "--verbose");
		strv_push(chain, "--");
		ends[(*nends)++] = chain->n - 1;
	}

	tool = chain_tool("ns-enter", for_print);
	strv_push(chain, tool);
	free(tool);
	/* Rootless: a user namespace where the caller is root, and users
	 * 1..N are the caller's subordinate range where /etc/subuid gives
	 * one (ns-enter(1), user_namespaces(7)). */
	if (o->rootless)
		strv_push(chain, "--userns");
	if (!strcmp(o->network, "host")) {
		/* Every namespace of --all but the network one. */
		strv_push(chain, "--pid");
		strv_push(chain, "--mount");
		strv_push(chain, "--uts");
		strv_push(chain, "--ipc");
		strv_push(chain, "--cgroup");
	} else {
		strv_push(chain, "--all");
		if (!strcmp(o->network, "bridge"))
			strv_pushf(chain, "--net=%s", netns);
	}
	strv_push(chain, "--hostname");
	strv_push(chain, a->hostname);
	strv_push(chain, "--root");
	strv_push(chain, a->rootfs);
	if (o->read_only)
		strv_push(chain, "--read-only");
	strv_push(chain, "--volume");
	strv_pushf(chain, "%s/%s/hosts:/etc/hosts:ro", md_run_dir(), a->name);
	strv_push(chain, "--volume");
	strv_pushf(chain, "%s/%s/resolv.conf:/etc/resolv.conf:ro", md_run_dir(), a->name);
	strv_push(chain, "--volume");
	strv_pushf(chain, "%s/%s/hostname:/etc/hostname:ro", md_run_dir(), a->name);
	if (a->console) {
		/* As runc: the container's terminal is also its /dev/console,
		 * so tty(1) inside names it. */
		strv_push(chain, "--volume");
		strv_pushf(chain, "%s:/dev/console", a->console);
	}
	for (i = 0; i < o->volumes.n; i++) {
		strv_push(chain, "--volume");
		strv_push(chain, o->volumes.v[i]);
	}
	for (i = 0; i < a->env->n; i++) {
		strv_push(chain, "--env");
		strv_push(chain, a->env->v[i]);
	}
	if (o->workdir) {
		strv_push(chain, "--workdir");
		strv_push(chain, o->workdir);
	}
	if (a->user) {
		strv_push(chain, "--user");
		strv_push(chain, a->user);
	}
	for (i = 0; i < o->security.n; i++)
		strv_push(chain, o->security.v[i]);
	/* As docker run: COMMAND itself is PID 1, unless --init (docker's
	 * tini, ns-enter's own init here). */
	if (!o->init)
		strv_push(chain, "--no-init");
	if (md_verbose)
		strv_push(chain, "--verbose");
	strv_push(chain, "--");
	ends[(*nends)++] = chain->n - 1;
	for (i = 0; i < a->cmd->n; i++)
		strv_push(chain, a->cmd->v[i]);
	free(netns);
}

/* Quote WORD for sh(1) when it needs it: 'it'\''s'. */
static void print_quoted(const char *word)
{
	const char *p;

	if (word[0] && strspn(word, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				    "0123456789_@%+=:,./-") == strlen(word)) {
		fputs(word, stdout);
		return;
	}
	putchar('\'');
	for (p = word; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*p);
	}
	putchar('\'');
}

/* One tool a line, continued with " \", the command on the last one. */
static void print_chain(const struct strv *chain, const size_t *ends, size_t nends)
{
	size_t i, e = 0;

	for (i = 0; i < chain->n; i++) {
		if (e < nends && i == ends[e]) {
			fputs(" -- \\\n  ", stdout);
			e++;
			continue;
		}
		if (i > 0 && !(e > 0 && i == ends[e - 1] + 1))
			putchar(' ');
		print_quoted(chain->v[i]);
	}
	putchar('\n');
}

/* ---- run: start the chain and wait for it ---- */

/*
 * A container starts with the image's environment, not the user's: keep
 * only what the tools of the chain read (MINIDOCK_*, and the sanitizers'
 * settings); ns-enter adds the container's variables (--env).  Built in
 * the parent: the child of vfork(2) may not allocate.
 */
static void chain_environment(struct strv *envp)
{
	static const char *const kept[] = { "MINIDOCK_", "ASAN_OPTIONS=",
					    "UBSAN_OPTIONS=", "LSAN_OPTIONS=", NULL };
	size_t i, k;

	for (i = 0; environ[i]; i++)
		for (k = 0; kept[k]; k++)
			if (!strncmp(environ[i], kept[k], strlen(kept[k])))
				strv_push(envp, environ[i]);
}

/*
 * In the child, just before execve(2) of the chain's first tool.  A child
 * of vfork(2): it runs in run's memory until execve, so only system calls
 * here (no malloc, no stdio), and it never returns.
 */
static void __attribute__((noreturn))
start_chain(char *const chain[], char *const envp[], pid_t parent, int stdin_fd, int tty_slave)
{
	sigset_t chld;

	/* If run dies (kill -9), the chain gets SIGTERM and undoes itself
	 * tool by tool instead of running on unsupervised. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(EXIT_TOOL_FAILED);
	if (tty_slave >= 0) {
		if (pty_make_controlling(tty_slave) < 0) {
			child_error("setsid/TIOCSCTTY", errno);
			_exit(EXIT_TOOL_FAILED);
		}
	} else if (stdin_fd >= 0 && dup2(stdin_fd, STDIN_FILENO) < 0) {
		_exit(EXIT_TOOL_FAILED);
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &chld, NULL);
	unblock_forwarded_signals();
	exec_command_env(chain, envp);
}

/*
 * vfork(2), not fork(2): the child borrows run's memory and page tables
 * until it calls execve(2), and run waits meanwhile.  Nothing is copied,
 * not even on write: 0.3 ms less per container here.  (A function of its
 * own, so that nothing of the caller's frame changes while they share it.)
 */
static pid_t spawn_chain(char *const chain[], char *const envp[], pid_t parent,
			 int stdin_fd, int tty_slave)
{
	pid_t pid = vfork();

	if (pid == 0)
		start_chain(chain, envp, parent, stdin_fd, tty_slave);
	return pid;
}

/* Poll until the container's COMMAND runs (the chain is set up and its
 * execve(2) worked) or the chain has ended.  1 when it runs; 0 with
 * *WSTATUS when the chain ended. */
static int wait_started(pid_t chain, int *wstatus)
{
	for (;;) {
		pid_t r = waitpid(chain, wstatus, WNOHANG);
		if (r == chain)
			return 0;
		if (r < 0 && errno != EINTR)
			die("waitpid");
		if (container_command_started(chain))
			return 1;
		sleep_ms(1);
	}
}

/*
 * -d: one process waits per detached container, this supervisor (as
 * containerd's shim does for runc).  cg-limit and net-bridge were told
 * --exec: each did its step, then became the next tool of the chain
 * instead of waiting beside it, so their undo falls to us, with their own
 * --delete.  QUIET when the chain failed before COMMAND ran: a step it
 * never reached has nothing to delete, and would say so.
 */
static void undo_exec_steps(const char *name, const struct options *o, int quiet)
{
	if (!o->rootless)
		delete_step("cg-limit", name, quiet);
	if (!strcmp(o->network, "bridge"))
		delete_step("net-bridge", name, quiet);
}

/* After the chain: undo what -d's chain left to us; unmount the root;
 * keep the exit status, or with --rm remove everything.  STARTED: COMMAND
 * ran. */
static void finish(const char *name, const struct options *o, int code, int started)
{
	int rm = o->rm;

	if (o->detach)
		undo_exec_steps(name, o, !started && !md_verbose);
	if (rm) {
		if (remove_state(name) < 0)
			warn_errno("remove %s/%s", md_run_dir(), name);
	} else {
		char *path = state_file(name, "exit"), *text = xasprintf("%d\n", code);
		if (umount_rootfs(name) < 0)
			warn_errno("umount %s/%s/rootfs", md_run_dir(), name);
		if (write_file(path, text) < 0)
			warn_errno("write %s", path);
		free(text);
		free(path);
	}
}

/*
 * Fork the chain and wait for it.  MASTER and SLAVE are the pty of -t (or
 * -1).  REPORT (detached mode) is where to say that the container started
 * (a byte) or failed (a status, then its log).
 */
static int supervise_chain(const char *name, const struct options *o,
			   char *const chain[], int master, int slave, int report)
{
	int stdin_fd = -1, code, wstatus;
	char *pidfile = state_file(name, "pid"), *supfile = state_file(name, "supervisor");
	char *no_variable[] = { NULL };
	struct strv envp = { 0 };
	pid_t self = getpid(), pid;
	if (!o->interactive || o->detach) {
		/* Without -i the container reads nothing, as with docker. */
		stdin_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (stdin_fd < 0)
			die("open /dev/null");
	}
	if (write_pid_file(supfile, self) < 0)
		die("write %s", supfile);
	if (block_forwarded_signals() < 0)
		die("sigprocmask");
	if (o->tty) {
		sigset_t chld;
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		sigprocmask(SIG_BLOCK, &chld, NULL);
	}
	chain_environment(&envp);
	vlog("vfork() + execve(\"%s\") of the chain", chain[0]);
	pid = spawn_chain(chain, envp.v ? envp.v : no_variable, self, stdin_fd, slave);
	strv_free(&envp);
	if (pid < 0)
		die("vfork");
	if (slave >= 0)
		close(slave);
	if (stdin_fd >= 0)
		close(stdin_fd);
	if (write_pid_file(pidfile, pid) < 0)
		warn_errno("write %s", pidfile);
	keep_state = 1;  /* from here on, the container exists */

	if (report >= 0) {
		char ok = 0;
		if (!wait_started(pid, &wstatus)) {
			code = exit_code_of(wstatus);
			char *log = state_file(name, "log"), *text;
			if (master >= 0)
				pty_drain(master, STDOUT_FILENO);
			text = read_file(log, NULL);
			/* Recorded before it is reported: once run -d has
			 * returned, the user may remove the container. */
			finish(name, o, code, 0);
			/* The status, then the log: the error to show. */
			write_all(report, &code, sizeof(code));
			if (text)
				write_all(report, text, strlen(text));
			close(report);
			free(text);
			free(log);
			free(pidfile);
			free(supfile);
			return code;
		}
		write_all(report, &ok, 1);
		close(report);
	}
	if (o->tty)
		code = pty_relay(master, pid, o->interactive && !o->detach ? STDIN_FILENO : -1);
	else
		code = supervise(pid);
	if (code < 0)
		die("waitpid");
	if (master >= 0)
		close(master);
	finish(name, o, code, 1);
	free(pidfile);
	free(supfile);
	return code;
}

/*
 * -d: a supervisor in its own session (setsid, so no terminal signal
 * reaches it), with the container's output going to the log file.  The
 * caller waits until the container has started, prints its name, and
 * leaves.
 */
static int run_detached(const char *name, const struct options *o, char *const chain[],
			int master, int slave)
{
	int sync[2], code;
	char *log = state_file(name, "log");
	ssize_t n;
	pid_t pid;

	if (pipe2(sync, O_CLOEXEC) < 0)
		die("pipe");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		close(sync[0]);
		if (fd < 0)
			die("open %s", log);
		if (setsid() < 0)
			die("setsid");
		vlog("setsid(): the supervisor of %s, output in %s", name, log);
		if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
			die("dup2 %s", log);
		close(fd);
		exit(supervise_chain(name, o, chain, master, slave, sync[1]));
	}
	close(sync[1]);
	if (master >= 0) {
		close(master);
		close(slave);
	}
	keep_state = 1;  /* the supervisor owns it now */
	n = read(sync[0], &code, sizeof(code));
	if (n != 1 && n != sizeof(code))
		die_x("%s: the supervisor died before the container started", name);
	/* Started, or ran and already ended by itself (`run -d busybox true`):
	 * as docker, print the name; only a failed start is an error. */
	if (n == 1 || code < EXIT_TOOL_FAILED) {
		printf("%s\n", name);
		close(sync[0]);
		free(log);
		return 0;
	}
	/* It failed to start: show why (its log), as docker run -d does. */
	{
		char buf[4096];
		while ((n = read(sync[0], buf, sizeof(buf))) > 0)
			write_all(STDERR_FILENO, buf, (size_t)n);
	}
	close(sync[0]);
	free(log);
	return code;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct image img = { 0 };
	struct strv cmd = { 0 }, env = { 0 }, chain = { 0 };
	struct chain_args a;
	const char *kind;
	char *name, *rootfs, *user = NULL;
	const char *hostname, *image_user;
	size_t ends[3], nends = 0;
	int code, master = -1, slave = -1;
	char *console = NULL;

	md_init("run");
	o.rootless = store_rootless();
	parse_options(argc, argv, &o);
	check_options(&o);
	if (o.rootless)
		store_user_dirs();

	resolve_image(o.image, &img, o.rootless);
	container_command(&o, &img, &cmd);
	name = claim_name(o.name);
	hostname = o.hostname ? o.hostname : name;
	container_env(&o, &img, hostname, &env);
	if (!o.workdir)
		o.workdir = config_string(&img, "WorkingDir");

	kind = prepare_rootfs(name, &img, o.rootless);
	rootfs = state_file(name, "rootfs");
	image_user = o.user ? o.user : config_string(&img, "User");
	if (image_user)
		user = resolve_user(rootfs, image_user);
	/* Rootless, --user other than root needs the full map (a range in
	 * /etc/subuid): ns-enter knows which map it makes, and refuses a user
	 * outside it with the reason, before it creates anything. */
	provide_etc_files(name, rootfs, o.network, hostname);
	write_config(name, &o, cmd.v, hostname, env.v, kind);

	if (o.tty && !o.dry_run) {
		if ((master = pty_open(&slave)) < 0)
			die("posix_openpt: a pty for the container");
		console = xstrdup(ptsname(master));
	}
	a = (struct chain_args){ .name = name, .hostname = hostname, .rootfs = rootfs,
				 .user = user, .console = console, .cmd = &cmd, .env = &env };
	build_chain(&o, &a, o.dry_run, &chain, ends, &nends);

	if (o.dry_run) {
		keep_state = 1;
		print_chain(&chain, ends, nends);
		fprintf(stderr, "run: %s is ready; afterwards remove it with: container rm %s\n",
			name, name);
		code = 0;
	} else if (o.detach) {
		code = run_detached(name, &o, chain.v, master, slave);
	} else {
		code = supervise_chain(name, &o, chain.v, master, slave, -1);
	}

	strv_free(&chain);
	strv_free(&env);
	strv_free(&cmd);
	strv_free(&o.publish);
	strv_free(&o.volumes);
	strv_free(&o.env);
	strv_free(&o.security);
	free_image(&img);
	free(console);
	free(user);
	free(rootfs);
	return pass_on(code);
}
