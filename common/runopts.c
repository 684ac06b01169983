/*
 * runopts.c - the command line of `run`, as docker run's: the option
 * table for getopt_long(3), the --help text, and the checks of every value
 * before anything of the container exists (a bad value must leave nothing
 * behind).  Used by run.  Messages go back to run in *why: only run
 * prints and exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "minidock.h"
#include "logfile.h"
#include "restart.h"
#include "rootfs.h"      /* tmpfs_options */
#include "networks.h"
#include "runopts.h"
#include "volumes.h"

const char runopts_usage[] =
"Usage: run [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
"Run COMMAND in a new container made from IMAGE: the chain\n"
"  cg-limit ... -- net-bridge ... -- ns-enter ... -- COMMAND\n"
"\n"
"  IMAGE                   a name already imported (busybox, the teaching\n"
"                          image), or a path (a file with a '/') to a docker\n"
"                          save archive, an OCI layout or a rootfs tarball:\n"
"                          imported under its file name; else pulled, as\n"
"                          docker run (debian:12, library/debian, REG/NAME)\n"
"      --name NAME         the container's name (default: a generated one)\n"
"      --rm                remove the container when it exits\n"
"  -d, --detach            run in the background, print the name\n"
"  -i, --interactive       keep standard input open\n"
"  -t, --tty               a terminal (pty) for the container\n"
"  -m, --memory SIZE       memory limit (64M, 1g...)        -> cg-limit\n"
"      --cpus N.N          CPU limit (0.5 = half a CPU)     -> cg-limit\n"
"      --pids-limit N      at most N processes              -> cg-limit\n"
"      --network MODE      bridge (default; rootless: none), none, host, or\n"
"                          a network made by network create -> net-bridge\n"
"      --network-alias NAME  another name the network's containers reach\n"
"                          this one by (repeatable)          -> net-bridge\n"
"      --add-host NAME:IP  a line of /etc/hosts (repeatable)\n"
"  -p, --publish [IP:]HOSTPORT:PORT[/tcp|/udp]              -> net-bridge\n"
"  -v, --volume SRC:DST[:ro]  bind-mount a host path        -> ns-enter\n"
"                          or, SRC without '/', a named volume: made on\n"
"                          first use, filled from the image (volume(1))\n"
"      --tmpfs DST[:OPTS]  a tmpfs at DST, the container's own (OPTS:\n"
"                          size=64m,mode=1777,ro...)        -> ns-enter\n"
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
"      --log-opt max-size=SIZE, --log-opt max-file=N\n"
"                          the log of -d: rotated at SIZE (20m), N files\n"
"                          kept (5), as docker's local log driver\n"
"      --restart no|on-failure[:N]|always\n"
"                          with -d: start the chain again when it ends (on\n"
"                          a non-zero status, N times at most), never after\n"
"                          container stop or rm -f (restart.h)\n"
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
"See also: container(1) to list, exec, stop and remove containers;\n"
"          volume(1) for named volumes.\n";

/* *WHY = the message; returns -1 (errno EINVAL), for "return bad(...)". */
static int __attribute__((format(printf, 2, 3)))
bad(char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(why, fmt, ap) < 0)
		*why = NULL;
	va_end(ap);
	errno = EINVAL;
	return -1;
}

int runopts_parse(int argc, char **argv, struct run_options *o, char **why)
{
	enum { OPT_NAME = 256, OPT_RM, OPT_CPUS, OPT_PIDS, OPT_NETWORK,
	       OPT_READ_ONLY, OPT_ENTRYPOINT, OPT_DRY_RUN, OPT_VERBOSE,
	       OPT_HELP, OPT_VERSION, OPT_PRIVILEGED, OPT_CAP_ADD, OPT_CAP_DROP,
	       OPT_SECURITY_OPT, OPT_INIT, OPT_LOG_OPT, OPT_TMPFS,
	       OPT_ALIAS, OPT_ADD_HOST,
	       OPT_RESTART };
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
		{ "network-alias", required_argument, NULL, OPT_ALIAS },
		{ "add-host",    required_argument, NULL, OPT_ADD_HOST },
		{ "publish",     required_argument, NULL, 'p' },
		{ "volume",      required_argument, NULL, 'v' },
		{ "tmpfs",       required_argument, NULL, OPT_TMPFS },
		{ "env",         required_argument, NULL, 'e' },
		{ "hostname",    required_argument, NULL, 'h' },
		{ "read-only",   no_argument,       NULL, OPT_READ_ONLY },
		{ "user",        required_argument, NULL, 'u' },
		{ "workdir",     required_argument, NULL, 'w' },
		{ "entrypoint",  required_argument, NULL, OPT_ENTRYPOINT },
		{ "dry-run",     no_argument,       NULL, OPT_DRY_RUN },
		{ "log-opt",     required_argument, NULL, OPT_LOG_OPT },
		{ "init",        no_argument,       NULL, OPT_INIT },
		{ "restart",     required_argument, NULL, OPT_RESTART },
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

	*why = NULL;
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
		case OPT_ALIAS:      strv_push(&o->aliases, optarg); break;
		case OPT_ADD_HOST:   strv_push(&o->add_hosts, optarg); break;
		case 'p':            strv_push(&o->publish, optarg); break;
		case 'v':            strv_push(&o->volumes, optarg); break;
		case OPT_TMPFS:      strv_push(&o->tmpfs, optarg); break;
		case 'e':            strv_push(&o->env, optarg); break;
		case 'h':            o->hostname = optarg; break;
		case OPT_READ_ONLY:  o->read_only = 1; break;
		case 'u':            o->user = optarg; break;
		case 'w':            o->workdir = optarg; break;
		case OPT_ENTRYPOINT: o->entrypoint = optarg; break;
		case OPT_DRY_RUN:    o->dry_run = 1; break;
		case OPT_INIT:       o->init = 1; break;
		case OPT_LOG_OPT:    strv_push(&o->log_opts, optarg); break;
		case OPT_RESTART:    o->restart = optarg; break;
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
		case OPT_HELP:       return RUNOPTS_HELP;
		case OPT_VERSION:    return RUNOPTS_VERSION;
		default:
			errno = EINVAL;
			return -1;      /* getopt_long said what */
		}
	}
	/* Rootless, there is no bridge to join: none, as with podman's
	 * --network none (it needs no root). */
	if (!o->network)
		o->network = o->rootless ? "none" : "bridge";
	if (optind >= argc)
		return bad(why, "no IMAGE given (try: run --rm busybox echo hello)");
	o->image = argv[optind];
	o->command = argv + optind + 1;
	return 0;
}

static int valid_port(const char *s)
{
	unsigned long long v;

	return parse_uint(s, 65535, &v) == 0 && v > 0;
}

/* [HOSTIP:]HOSTPORT:PORT[/tcp|/udp], as docker -p (net-bridge --publish). */
static int check_publish(const char *spec, char **why)
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
		return bad(why, "--publish %s: expected [HOSTIP:]HOSTPORT:PORT[/tcp|/udp]", spec);
	return 0;
}

/* SRC:DST[:ro|:rw] into *OUT, SRC made absolute, so the printed chain
 * works from any directory; a SRC without '/' is a named volume, kept by
 * name for run to prepare (volumes.h), as docker run -v NAME:DST. */
static int check_volume(const char *spec, char **out, char **why)
{
	char *s = xstrdup(spec), *dst = strchr(s, ':'), *mode = NULL, *src = NULL;
	int ret = -1;

	if (!dst || dst == s) {
		bad(why, "--volume %s: expected SRC:DST[:ro]", spec);
		goto out;
	}
	*dst++ = '\0';
	mode = strchr(dst, ':');
	if (mode) {
		*mode++ = '\0';
		if (strcmp(mode, "ro") && strcmp(mode, "rw")) {
			bad(why, "--volume %s: mode must be ro or rw", spec);
			goto out;
		}
	}
	if (dst[0] != '/' || !dst[strspn(dst, "/")]) {
		bad(why, "--volume %s: the destination must be an absolute path other than /",
		    spec);
		goto out;
	}
	if (!strchr(s, '/')) {
		if (!volume_valid_name(s)) {
			char *text = volume_bad_name(s);
			bad(why, "--volume %s: %s", spec, text);
			free(text);
			goto out;
		}
		src = xstrdup(s);
	} else {
		src = realpath(s, NULL);
	}
	if (!src) {
		int e = errno;
		bad(why, "--volume %s: %s: %s", spec, s, strerror(e));
		errno = e;
		goto out;
	}
	*out = mode && !strcmp(mode, "ro") ? xasprintf("%s:%s:ro", src, dst)
					   : xasprintf("%s:%s", src, dst);
	ret = 0;
out:
	free(src);
	free(s);
	return ret;
}

/* --tmpfs DST[:OPTIONS], as ns-enter will take it (rootfs.h). */
static int check_tmpfs(const char *spec, char **why)
{
	const char *colon = strchr(spec, ':');
	unsigned long flags;
	char *data = NULL;
	int r;

	if (spec[0] != '/' || spec[1] == '\0' || spec[1] == ':')
		return bad(why, "--tmpfs %s: the destination must be an absolute path other "
			   "than /", spec);
	r = tmpfs_options(colon ? colon + 1 : NULL, &flags, &data);
	free(data);
	if (r < 0)
		return bad(why, "--tmpfs %s: unknown option (ro, rw, exec, noexec, suid, nosuid, "
			   "dev, nodev, size=, mode=, uid=, gid=, nr_inodes=)", spec);
	return 0;
}

/*
 * What an ordinary user cannot have: cgroups and the bridge belong to the
 * host, and only root may change them (cg-limit writes the host's cgroup
 * tree; net-bridge creates links and nftables rules).
 */
static int check_rootless(const struct run_options *o, char **why)
{
	static const char limits[] = "resource limits need root (cg-limit writes "
		"the host's cgroups); rootless containers run without limits";
	static const char bridge[] = "needs root (net-bridge creates a bridge, a veth "
		"pair and NAT rules on the host); rootless containers get "
		"--network none (the default) or --network host";

	if (o->memory)
		return bad(why, "--memory %s: %s", o->memory, limits);
	if (o->cpus)
		return bad(why, "--cpus %s: %s", o->cpus, limits);
	if (o->pids)
		return bad(why, "--pids-limit %s: %s", o->pids, limits);
	if (network_is_bridged(o->network))
		return bad(why, "--network %s %s", o->network, bridge);
	if (o->publish.n)
		return bad(why, "--publish %s %s", o->publish.v[0], bridge);
	return 0;
}

/* --log-opt max-size=SIZE or max-file=N, as docker's local driver. */
static int check_log_opt(struct run_options *o, const char *opt, char **why)
{
	unsigned long long n;

	if (!strncmp(opt, "max-size=", 9)) {
		if (parse_size(opt + 9, &o->log_max_size) < 0 || o->log_max_size < 1024)
			return bad(why, "--log-opt %s: expected a size of at least 1k, such "
				   "as 10m", opt);
		return 0;
	}
	if (!strncmp(opt, "max-file=", 9)) {
		if (parse_uint(opt + 9, LOG_MAX_FILE_LIMIT, &n) < 0 || n == 0)
			return bad(why, "--log-opt %s: expected a number of files, 1 to %d", opt,
				   LOG_MAX_FILE_LIMIT);
		o->log_max_file = (unsigned)n;
		return 0;
	}
	return bad(why, "--log-opt %s: expected max-size=SIZE or max-file=N", opt);
}

/* --network: bridge, none, host or a network's name (networks.h);
 * --network-alias only there, as docker; --add-host NAME:IP anywhere. */
static int check_network(const struct run_options *o, char **why)
{
	struct network n;
	struct in_addr a;
	size_t i;

	if (network_is_user_defined(o->network)) {
		if (network_load(o->network, &n) < 0)
			return bad(why, errno == ENOENT ? "--network %s: expected bridge, none, host "
				   "or a network of network ls (network create %s makes one)"
				   : "--network %s: its record is damaged (network rm %s)",
				   o->network, o->network);
		network_free(&n);
	} else if (o->aliases.n) {
		return bad(why, "--network-alias %s: needs a user-defined network (network "
			   "create NAME, then --network NAME)", o->aliases.v[0]);
	}
	for (i = 0; i < o->aliases.n; i++)
		if (!valid_name(o->aliases.v[i]))
			return bad(why, "--network-alias %s: use 1 to 64 of [A-Za-z0-9_.-]",
				   o->aliases.v[i]);
	for (i = 0; i < o->add_hosts.n; i++) {
		const char *h = o->add_hosts.v[i], *colon = strchr(h, ':');
		char *host = colon ? xasprintf("%.*s", (int)(colon - h), h) : NULL;
		int ok = host && valid_name(host) && inet_pton(AF_INET, colon + 1, &a) == 1;

		free(host);
		if (!ok)
			return bad(why, "--add-host %s: expected NAME:IP (an IPv4 address)", h);
	}
	return 0;
}

static int valid_cpus(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	return !errno && !*end && end != s && isfinite(v) && v > 0;
}

int runopts_check(struct run_options *o, char **why)
{
	struct restart_policy policy;
	unsigned long long n;
	uint64_t bytes;
	size_t i;

	*why = NULL;
	if (o->name && !valid_name(o->name))
		return bad(why, "--name %s: use 1 to 64 of [A-Za-z0-9_.-], not starting "
			   "with '.' or '-'", o->name);
	if (o->hostname && (!valid_name(o->hostname) || strchr(o->hostname, '_')))
		return bad(why, "--hostname %s: use 1 to 64 of [A-Za-z0-9.-]", o->hostname);
	if (o->memory && (parse_size(o->memory, &bytes) < 0 || bytes == 0))
		return bad(why, "--memory %s: expected a size such as 64M, 512k, 1g", o->memory);
	if (o->cpus && !valid_cpus(o->cpus))
		return bad(why, "--cpus %s: expected a positive number such as 0.5", o->cpus);
	if (o->pids && (parse_uint(o->pids, INT32_MAX, &n) < 0 || n == 0))
		return bad(why, "--pids-limit %s: expected a positive number", o->pids);
	if (check_network(o, why) < 0)
		return -1;
	if (o->publish.n && !network_is_bridged(o->network))
		return bad(why, "--publish needs --network bridge (with %s there is nothing "
			   "to publish)", o->network);
	for (i = 0; i < o->publish.n; i++)
		if (check_publish(o->publish.v[i], why) < 0)
			return -1;
	for (i = 0; i < o->volumes.n; i++) {
		char *abs;
		if (check_volume(o->volumes.v[i], &abs, why) < 0)
			return -1;
		free(o->volumes.v[i]);
		o->volumes.v[i] = abs;
	}
	for (i = 0; i < o->tmpfs.n; i++)
		if (check_tmpfs(o->tmpfs.v[i], why) < 0)
			return -1;
	for (i = 0; i < o->env.n; i++)
		if (o->env.v[i][0] == '=' || o->env.v[i][0] == '\0')
			return bad(why, "--env %s: expected NAME=VALUE or NAME", o->env.v[i]);
	if (o->workdir && o->workdir[0] != '/')
		return bad(why, "--workdir %s: must be an absolute path", o->workdir);
	if (o->user && !o->user[0])
		return bad(why, "--user: empty");
	for (i = 0; i < o->log_opts.n; i++)
		if (check_log_opt(o, o->log_opts.v[i], why) < 0)
			return -1;
	if (o->restart && restart_parse(o->restart, &policy) < 0)
		return bad(why, "--restart %s: expected no, on-failure[:N] or always", o->restart);
	if (o->restart && policy.mode != RESTART_NO && (!o->detach || o->rm || o->tty))
		return bad(why, "--restart %s: needs -d (the supervisor restarts), and neither "
			   "--rm nor -t", o->restart);
	if (o->detach && o->dry_run)
		return bad(why, "--detach and --dry-run: choose one");
	if (o->tty && !o->detach && !isatty(STDIN_FILENO) && o->interactive)
		return bad(why, "-it: standard input is not a terminal (drop -t)");
	return o->rootless ? check_rootless(o, why) : 0;
}

void runopts_free(struct run_options *o)
{
	strv_free(&o->publish);
	strv_free(&o->volumes);
	strv_free(&o->tmpfs);
	strv_free(&o->env);
	strv_free(&o->security);
	strv_free(&o->log_opts);
	strv_free(&o->aliases);
	strv_free(&o->add_hosts);
}
