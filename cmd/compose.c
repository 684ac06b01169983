/*
 * compose - `docker compose`: an application of several containers,
 * described in one compose.yaml, started and removed as one project.
 *
 * compose adds no new mechanism: it reads a file and types, for the
 * student, the commands of the earlier steps, one tool per line:
 *
 *   network create shop_default                     the project's network
 *   volume create shop_data                         its named volumes
 *   run -d --name shop-db-1 --network shop_default --network-alias db \
 *       -v shop_data:/data busybox ...              each service, in order
 *   run -d --name shop-web-1 ... --network-alias web -p 8080:80 busybox ...
 *
 * A project is:
 *   - a name: -p, else $COMPOSE_PROJECT_NAME, else the file's `name:`,
 *     else its directory's name (lower case, [a-z0-9_-] kept), as Compose;
 *   - its services, each one container named PROJECT-SERVICE-1, on the
 *     network PROJECT_default (or those the service names), where the
 *     others reach it by its service name (--network-alias);
 *   - its networks PROJECT_NET and named volumes PROJECT_VOL;
 *   - and the record of what `up` made, md_lib_dir()/compose/PROJECT.json
 *     (compose-state.h), written after each thing is made.
 *
 * up starts the services so that each comes after those of its
 * depends_on (a topological sort: compose-file.c; a cycle is an error).
 * down undoes up from its record, backwards: the containers, the last
 * started first (container rm -f), then the networks; with -v the named
 * volumes.  So down removes exactly what up made, even after the file
 * changed, and nothing else.
 *
 * The whole file is read and checked before anything is made: a key this
 * subset does not know is an error naming the file, the line and the key
 * (exit 125), never silently ignored.
 *
 * Read: the Compose specification (compose-spec.io), and run(1),
 * container(1), network(1), volume(1).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose-file.h"
#include "compose-state.h"
#include "containers.h"
#include "minidock.h"

static const char usage_text[] =
"Usage: compose [-f FILE] [-p PROJECT] VERB\n"
"An application of several containers, from a compose.yaml:\n"
"  up [-d]                 build, create the networks and volumes, start every\n"
"                          service in depends_on order (without -d: follow\n"
"                          their logs; Ctrl-C stops them)\n"
"  down [-v]               remove what up made: containers, networks (-v: and\n"
"                          the project's named volumes)\n"
"  ps                      the project's containers (as container ls)\n"
"  logs [-f] [SERVICE]     their output, each line after its container's name\n"
"  exec SERVICE CMD...     run CMD in the service's container\n"
"  config                  the file resolved: names, paths, start order\n"
"\n"
"  -f, --file FILE         default: compose.yaml, compose.yml,\n"
"                          docker-compose.yaml or docker-compose.yml\n"
"  -p, --project-name NAME default: $COMPOSE_PROJECT_NAME, the file's name:,\n"
"                          or the directory's name\n"
"      --verbose           every command compose types, and theirs\n"
"      --help, --version\n"
"\n"
"Keys: services (container_name, image, build, command, entrypoint,\n"
"environment, ports, volumes, networks, depends_on, restart, mem_limit, cpus,\n"
"pids_limit, user, working_dir, hostname), networks, volumes, name.  Any other\n"
"is an error.\n"
"\n"
"Example: compose up -d && compose ps && compose exec web ps && compose down -v\n";

static int verb_up(struct compose_project *p, int argc, char **argv);
static int verb_down(struct compose_project *p, int argc, char **argv);
static int verb_ps(struct compose_project *p, int argc, char **argv);
static int verb_logs(struct compose_project *p, int argc, char **argv);
static int verb_exec(struct compose_project *p, int argc, char **argv);
static int verb_config(struct compose_project *p, int argc, char **argv);

static const struct { const char *name; int (*run)(struct compose_project *, int, char **); }
verbs[] = { { "up", verb_up }, { "down", verb_down }, { "ps", verb_ps },
	    { "logs", verb_logs }, { "exec", verb_exec }, { "config", verb_config } };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "project-name", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *project = NULL;
	struct compose_project p;
	char *why = NULL;
	int c, code;
	size_t i;

	md_init("compose");
	while ((c = getopt_long(argc, argv, "+f:p:", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': file = optarg; break;
		case 'p': project = optarg; break;
		case 'V': md_verbose = 1; setenv("MINIDOCK_VERBOSE", "1", 1); break;
		case 'h': fputs(usage_text, stdout); return 0;
		case 'v': print_version(); return 0;
		default:  fprintf(stderr, "Try 'compose --help'.\n"); return EXIT_TOOL_FAILED;
		}
	}
	if (optind >= argc)
		die_x("expected a verb: up, down, ps, logs, exec or config (see --help)");
	for (i = 0; i < sizeof(verbs) / sizeof(*verbs); i++)
		if (!strcmp(argv[optind], verbs[i].name))
			break;
	if (i == sizeof(verbs) / sizeof(*verbs))
		die_x("%s: unknown verb (up, down, ps, logs, exec, config)", argv[optind]);

	/* 1. The whole file, checked, before anything is made. */
	if (compose_load(file, project, &p, &why) < 0) {
		/* down -p PROJECT needs no file: the record says what to undo. */
		if (errno != ENOENT || file || !project || strcmp(verbs[i].name, "down") ||
		    !compose_valid_project(project))
			die_x("%s", why ? why : strerror(errno));
		free(why);
		compose_free(&p);
		p.name = xstrdup(project);
	}
	/* 2. The verb: its own options after it, as docker compose. */
	argc -= optind;
	argv += optind;
	optind = 0;
	code = verbs[i].run(&p, argc, argv);
	compose_free(&p);
	return pass_on(code);
}

/* One sibling tool, its arguments ARGS..., NULL.  Its exit code. */
static int tool(const char *name, char **out, int quiet, char *const args[])
{
	char *said = NULL;
	int code;

	/* What it prints is not ours to print (compose says what it made),
	 * but with --verbose (which prints the command line first). */
	code = compose_tool(name, args, out ? out : md_verbose ? NULL : &said, quiet);
	if (code < 0)
		die("%s: start it (is it beside compose?)", name);
	free(said);
	return code;
}

/* Whether NAME is in the output of `TOOL ls -q` (network, volume). */
static int exists(const char *toolname, const char *name)
{
	char *out = NULL, *line, *save = NULL;
	int found = 0;

	if (tool(toolname, &out, 1, (char *const[]){ "ls", "-q", NULL }) == 0 && out)
		for (line = strtok_r(out, "\n", &save); line && !found;
		     line = strtok_r(NULL, "\n", &save))
			found = !strcmp(line, name);
	free(out);
	return found;
}

static void save(const struct compose_project *p, const struct compose_record *r)
{
	if (compose_record_write(p->name, r) < 0)
		die("write %s/compose/%s.json", md_lib_dir(), p->name);
}

/* ---- up ---- */

static void build_images(const struct compose_project *p);
static void make_networks_and_volumes(const struct compose_project *p,
				      struct compose_record *r);
static int start_service(const struct compose_service *s);

static int verb_up(struct compose_project *p, int argc, char **argv)
{
	struct compose_record r = { 0 };
	int detach = 0, c, code = 0;
	size_t i;

	while ((c = getopt(argc, argv, "+d")) != -1) {
		if (c != 'd')
			die_x("up: usage: compose up [-d]");
		detach = 1;
	}
	if (optind != argc)
		die_x("up: takes no argument (every service is started)");
	compose_record_read(p->name, &r);       /* a second up adds to the first */
	if (!r.file)
		r.file = xstrdup(p->file);
	/* 3. The images to build (img-build), then what the services share. */
	build_images(p);
	make_networks_and_volumes(p, &r);
	/* 4. The services, in depends_on order (compose-file.c sorted them),
	 * each recorded as soon as it exists. */
	for (i = 0; i < p->n && !code; i++) {
		strv_push_once(&r.containers, p->services[i].container);
		save(p, &r);
		code = start_service(&p->services[i]);
	}
	if (code)
		fprintf(stderr, "compose: up stopped at %s; `compose down` removes what was "
			"made\n", p->services[i - 1].name);
	else if (!detach && compose_logs(&r.containers, 1, 1) < 0)
		die("container logs: pipe, fork, poll");
	compose_record_free(&r);
	return code;
}

/* build: img-build -t IMAGE -f CONTEXT/DOCKERFILE CONTEXT, for each. */
static void build_images(const struct compose_project *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct compose_service *s = &p->services[i];
		char *df;
		int code;
		if (!s->build_context)
			continue;
		df = xasprintf("%s/%s", s->build_context,
			       s->build_dockerfile ? s->build_dockerfile : "Dockerfile");
		code = tool("img-build", NULL, 0, (char *const[]){ "-t", s->image, "-f", df,
								    s->build_context, NULL });
		free(df);
		if (code)
			die_x("%s: img-build failed (%d): nothing was started", s->name, code);
	}
}

/* network create, volume create: those the project lacks, recorded
 * before they are made (down tolerates what was never made). */
static void make_networks_and_volumes(const struct compose_project *p,
				      struct compose_record *r)
{
	size_t i;

	for (i = 0; i < p->networks.n; i++) {
		strv_push_once(&r->networks, p->networks.v[i]);
		save(p, r);
		if (!exists("network", p->networks.v[i]) &&
		    tool("network", NULL, 0, (char *const[]){ "create", p->networks.v[i], NULL }))
			die_x("network create %s failed", p->networks.v[i]);
	}
	for (i = 0; i < p->volumes.n; i++) {
		strv_push_once(&r->volumes, p->volumes.v[i]);
		save(p, r);
		if (!exists("volume", p->volumes.v[i]) &&
		    tool("volume", NULL, 0, (char *const[]){ "create", p->volumes.v[i], NULL }))
			die_x("volume create %s failed", p->volumes.v[i]);
	}
}

/* One service: `run -d` with the options its keys say.  A container of
 * that name that runs is kept (up twice starts nothing twice); one that
 * ended is replaced. */
static int start_service(const struct compose_service *s)
{
	struct strv a = { 0 };
	struct container ct;
	int code;

	if (container_load(s->container, &ct) == 0) {
		int running = ct.chain != 0;
		container_free(&ct);
		if (running) {
			printf("%s: running\n", s->container);
			return 0;
		}
		tool("container", NULL, 1, (char *const[]){ "rm", "-f", s->container, NULL });
	}
	/* run -d --name=CONTAINER, its options from the service's keys, IMAGE,
	 * COMMAND (compose-project.c; compose config shows them). */
	compose_run_args(s, &a);
	code = tool("run", NULL, 0, a.v);
	if (code == 0)
		printf("%s: started\n", s->container);
	strv_free(&a);
	return code;
}

/* ---- down ---- */

/* From the record, backwards: containers (the last started first), then
 * networks; -v: the named volumes.  The record goes last. */
static int verb_down(struct compose_project *p, int argc, char **argv)
{
	struct compose_record r;
	int volumes = 0, c, failed = 0;
	size_t i;

	while ((c = getopt(argc, argv, "+v")) != -1) {
		if (c != 'v')
			die_x("down: usage: compose down [-v]");
		volumes = 1;
	}
	if (compose_record_read(p->name, &r) < 0) {
		if (errno != ENOENT)
			die("read %s/compose/%s.json", md_lib_dir(), p->name);
		fprintf(stderr, "compose: project %s: nothing to remove\n", p->name);
		return 0;
	}
	for (i = r.containers.n; i-- > 0;) {
		struct container ct;
		if (container_load(r.containers.v[i], &ct) < 0)
			continue;       /* never made, or removed by hand */
		container_free(&ct);
		if (tool("container", NULL, 0, (char *const[]){ "rm", "-f", r.containers.v[i],
								NULL }) == 0)
			printf("%s: removed\n", r.containers.v[i]);
		else
			failed = 1;
	}
	for (i = r.networks.n; i-- > 0;)
		if (exists("network", r.networks.v[i]) &&
		    tool("network", NULL, 0, (char *const[]){ "rm", r.networks.v[i], NULL }))
			failed = 1;
	for (i = r.volumes.n; volumes && i-- > 0;)
		if (exists("volume", r.volumes.v[i]) &&
		    tool("volume", NULL, 0, (char *const[]){ "rm", r.volumes.v[i], NULL }))
			failed = 1;
	/* Kept when something failed: a second down tries again. */
	if (!failed && compose_record_remove(p->name) < 0)
		die("remove %s", compose_record_path(p->name));
	compose_record_free(&r);
	return failed ? EXIT_TOOL_FAILED : 0;
}

/* ---- ps, logs, exec, config ---- */

/* The project's containers: recorded by up, else the file's. */
static void project_containers(const struct compose_project *p, struct strv *names)
{
	struct compose_record r;

	if (compose_record_read(p->name, &r) == 0) {
		for (size_t i = 0; i < r.containers.n; i++)
			strv_push(names, r.containers.v[i]);
		compose_record_free(&r);
	}
	for (size_t i = 0; i < p->n; i++)
		strv_push_once(names, p->services[i].container);
}

static int verb_ps(struct compose_project *p, int argc, char **argv)
{
	struct strv names = { 0 }, table = { 0 };

	(void)argv;
	if (argc > 1)
		die_x("ps: takes no argument");
	project_containers(p, &names);
	for (size_t i = 0; i < names.n; i++) {
		struct container ct;
		if (container_load(names.v[i], &ct) == 0) {
			container_list_add(&table, &ct);
			container_free(&ct);
		}
	}
	container_list_print(&table, stdout);
	strv_free(&names);
	return 0;
}

static const struct compose_service *service_arg(struct compose_project *p, const char *n)
{
	const struct compose_service *s = compose_service(p, n);

	if (!s)
		die_x("%s: no such service in %s", n, p->file);
	return s;
}

static int verb_logs(struct compose_project *p, int argc, char **argv)
{
	struct strv names = { 0 };
	int follow = 0, c;

	while ((c = getopt(argc, argv, "+f")) != -1) {
		if (c != 'f')
			die_x("logs: usage: compose logs [-f] [SERVICE]");
		follow = 1;
	}
	if (optind < argc - 1)
		die_x("logs: one SERVICE at most");
	if (optind < argc)
		strv_push(&names, service_arg(p, argv[optind])->container);
	else
		project_containers(p, &names);
	/* One `container logs` a container, side by side (compose-state.c). */
	if (compose_logs(&names, follow, 0) < 0)
		die("container logs: pipe, fork, poll");
	strv_free(&names);
	return 0;
}

/* container exec PROJECT-SERVICE-1 CMD...: becomes it (execv). */
static int verb_exec(struct compose_project *p, int argc, char **argv)
{
	const struct compose_service *s;
	struct strv a = { 0 };
	char *path = tool_path("container");

	if (argc < 3)
		die_x("exec: expected SERVICE COMMAND [ARG...]");
	if (!path)
		die("container: readlink /proc/self/exe");
	strv_push(&a, path);
	strv_push(&a, "exec");
	if (isatty(STDIN_FILENO))
		strv_push(&a, "-i");
	/* As docker exec: the service's user and directory, not root's. */
	if ((s = service_arg(p, argv[1]))->user)
		strv_pushf(&a, "-u%s", s->user);
	if (s->working_dir)
		strv_pushf(&a, "-w%s", s->working_dir);
	strv_push(&a, s->container);
	for (int i = 2; i < argc; i++)
		strv_push(&a, argv[i]);
	vlog("execv(\"%s\"): container exec %s", path, argv[1]);
	fflush(stdout);
	exec_command(a.v);
}

static int verb_config(struct compose_project *p, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		die_x("config: takes no argument");
	if (compose_print(p, stdout) < 0 || fflush(stdout) == EOF)
		die("config: write the resolved file");
	return 0;
}
