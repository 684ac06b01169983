/*
 * chain.c - building a container's chain of tools and printing it (see
 * chain.h).  Used by run (build, print), container (exec) and compose
 * (a word quoted for sh, for --verbose).
 *
 * `container exec` is a chain too, of one tool: ns-enter --target; its
 * options are read here too.
 *
 * Each option of run becomes an option of one tool: --memory, --cpus and
 * --pids-limit go to cg-limit(1); --publish, --network NAME,
 * --network-alias and --add-host to net-bridge(1); --volume, --tmpfs,
 * --env, --user, --workdir, --read-only and the security options to
 * ns-enter(1).  The order matters: cg-limit first, so every process of the
 * container is counted from the start; net-bridge next, which needs the
 * host's network to wire the container's; ns-enter last, which leaves the
 * host behind (pivot_root) and starts COMMAND.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain.h"
#include "minidock.h"
#include "networks.h"

/* The tool's path, or just its name when $PATH finds the same file, so
 * the printed chain reads as the TP writes it.  NULL with errno. */
static char *chain_tool(const char *tool, int for_print)
{
	char *path = tool_path(tool), *found, *real, *real_found;

	if (!path || !for_print || !getenv("PATH"))
		return path;
	found = find_in_path(getenv("PATH"), tool);
	real = realpath(path, NULL);
	real_found = found ? realpath(found, NULL) : NULL;
	if (real && real_found && !strcmp(real, real_found)) {
		free(path);
		path = xstrdup(tool);
	}
	free(real_found);
	free(real);
	free(found);
	return path;
}

/* The first word of a tool of the chain: its path (chain_tool). */
static int push_tool(struct strv *chain, const char *tool, int for_print)
{
	char *path = chain_tool(tool, for_print);

	if (!path)
		return -1;
	strv_push(chain, path);
	free(path);
	return 0;
}

/* The end of a tool's options: --verbose when asked, then "--". */
static void end_tool(struct chain *c)
{
	if (md_verbose)
		strv_push(&c->argv, "--verbose");
	strv_push(&c->argv, "--");
	c->ends[c->nends++] = c->argv.n - 1;
}

/* cg-limit --name NAME [limits] --devices container: the cgroup step. */
static int push_cg_limit(const struct run_options *o, const struct chain_args *a,
			 int for_print, struct chain *c)
{
	struct strv *chain = &c->argv;

	if (push_tool(chain, "cg-limit", for_print) < 0)
		return -1;
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
	/* -d: become the next tool rather than wait (run undoes the step). */
	if (o->detach)
		strv_push(chain, "--exec");
	end_tool(c);
	return 0;
}

/* net-bridge --name NAME [--publish ...]: the network step. */
static int push_net_bridge(const struct run_options *o, const struct chain_args *a,
			   int for_print, struct chain *c)
{
	struct strv *chain = &c->argv;
	size_t i;

	if (push_tool(chain, "net-bridge", for_print) < 0)
		return -1;
	strv_push(chain, "--name");
	strv_push(chain, a->name);
	if (network_is_user_defined(o->network)) {
		strv_push(chain, "--network");
		strv_push(chain, o->network);
	}
	for (i = 0; i < o->aliases.n; i++) {
		strv_push(chain, "--alias");
		strv_push(chain, o->aliases.v[i]);
	}
	for (i = 0; i < o->add_hosts.n; i++) {
		strv_push(chain, "--add-host");
		strv_push(chain, o->add_hosts.v[i]);
	}
	for (i = 0; i < o->publish.n; i++) {
		strv_push(chain, "--publish");
		strv_push(chain, o->publish.v[i]);
	}
	if (o->detach)
		strv_push(chain, "--exec");
	end_tool(c);
	return 0;
}

/* ns-enter ... --root ROOTFS: the namespaces, the root, the user. */
static int push_ns_enter(const struct run_options *o, const struct chain_args *a,
			 int for_print, struct chain *c)
{
	static const char *const etc_files[] = { "hosts", "resolv.conf", "hostname" };
	struct strv *chain = &c->argv;
	size_t i;

	if (push_tool(chain, "ns-enter", for_print) < 0)
		return -1;
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
		if (network_is_bridged(o->network))
			strv_pushf(chain, "--net=%s/%s", md_netns_dir(), a->name);
	}
	strv_push(chain, "--hostname");
	strv_push(chain, a->hostname);
	strv_push(chain, "--root");
	strv_push(chain, a->rootfs);
	if (a->overlay) {
		strv_push(chain, "--overlay");
		strv_push(chain, a->overlay);
	}
	if (o->read_only)
		strv_push(chain, "--read-only");
	/* Writable by the container's root, as Docker's, unless --read-only. */
	for (i = 0; i < sizeof(etc_files) / sizeof(*etc_files); i++) {
		strv_push(chain, "--volume");
		strv_pushf(chain, "%s/%s/%s:/etc/%s%s", md_run_dir(), a->name, etc_files[i],
			   etc_files[i], o->read_only ? ":ro" : "");
	}
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
	for (i = 0; i < o->tmpfs.n; i++) {
		strv_push(chain, "--tmpfs");
		strv_push(chain, o->tmpfs.v[i]);
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
	end_tool(c);
	return 0;
}

int chain_build(const struct run_options *o, const struct chain_args *a, int for_print,
		struct chain *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	/* Rootless: no cgroup of our own to make (runopts_check). */
	if (!o->rootless && push_cg_limit(o, a, for_print, c) < 0)
		goto fail;
	if (network_is_bridged(o->network) && push_net_bridge(o, a, for_print, c) < 0)
		goto fail;
	if (push_ns_enter(o, a, for_print, c) < 0)
		goto fail;
	for (i = 0; i < a->cmd->n; i++)
		strv_push(&c->argv, a->cmd->v[i]);
	return 0;
fail:
	chain_free(c);
	return -1;
}

void chain_free(struct chain *c)
{
	strv_free(&c->argv);
	c->nends = 0;
}

int chain_build_exec(const struct container *c, const struct exec_args *e, struct strv *argv)
{
	const char *workdir = e->workdir;
	char *const *word;
	json_t *v;
	size_t i;

	if (push_tool(argv, "ns-enter", 0) < 0)
		return -1;
	strv_push(argv, "--target");
	strv_pushf(argv, "%d", (int)e->target);
	json_array_foreach(json_object_get(c->config, "env"), i, v) {
		strv_push(argv, "--env");
		strv_push(argv, json_string_value(v));  /* checked: container_load */
	}
	if (e->tty) {
		strv_push(argv, "--env");
		strv_push(argv, "TERM=xterm");
	}
	for (i = 0; i < e->env->n; i++) {
		strv_push(argv, "--env");
		strv_push(argv, e->env->v[i]);
	}
	if (!workdir && container_str(c, "workdir")[0])
		workdir = container_str(c, "workdir");
	if (workdir) {
		strv_push(argv, "--workdir");
		strv_push(argv, workdir);
	}
	if (e->user) {
		strv_push(argv, "--user");
		strv_push(argv, e->user);
	}
	if (md_verbose)
		strv_push(argv, "--verbose");
	strv_push(argv, "--");
	for (word = e->command; *word; word++)
		strv_push(argv, *word);
	return 0;
}

void chain_print_word(const char *word, FILE *out)
{
	const char *p;

	if (word[0] && strspn(word, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				    "0123456789_@%+=:,./-") == strlen(word)) {
		fputs(word, out);
		return;
	}
	putc('\'', out);
	for (p = word; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", out);
		else
			putc(*p, out);
	}
	putc('\'', out);
}

void chain_print(const struct chain *c, FILE *out)
{
	size_t i, e = 0;

	for (i = 0; i < c->argv.n; i++) {
		if (e < c->nends && i == c->ends[e]) {
			fputs(" -- \\\n  ", out);
			e++;
			continue;
		}
		if (i > 0 && !(e > 0 && i == c->ends[e - 1] + 1))
			putc(' ', out);
		chain_print_word(c->argv.v[i], out);
	}
	putc('\n', out);
}

void chain_environment(struct strv *envp)
{
	static const char *const kept[] = { "MINIDOCK_", "ASAN_OPTIONS=",
					    "UBSAN_OPTIONS=", "LSAN_OPTIONS=", NULL };
	size_t i, k;

	for (i = 0; environ[i]; i++)
		for (k = 0; kept[k]; k++)
			if (!strncmp(environ[i], kept[k], strlen(kept[k])))
				strv_push(envp, environ[i]);
}

int chain_exec_options(int argc, char **argv, struct exec_args *e, struct strv *env,
		       int *interactive, char **why)
{
	size_t i;
	int c;

	e->env = env;
	while ((c = getopt(argc, argv, "+ite:w:u:")) != -1) {
		switch (c) {
		case 'i': *interactive = 1; break;
		case 't': e->tty = 1; break;
		case 'e': strv_push(env, optarg); break;
		case 'w': e->workdir = optarg; break;
		case 'u': e->user = optarg; break;
		default:
			*why = xstrdup("usage: container exec [-i] [-t] [-e NAME=VALUE] [-w DIR] [-u UID] NAME COMMAND...");
			return -1;
		}
	}
	if (argc - optind < 2) {
		*why = xstrdup("expected NAME COMMAND [ARG...]");
		return -1;
	}
	for (i = 0; i < env->n; i++) {
		if (!strchr(env->v[i], '=')) {
			*why = xasprintf("-e %s: expected NAME=VALUE", env->v[i]);
			return -1;
		}
	}
	e->command = argv + optind + 1;
	return optind;
}
