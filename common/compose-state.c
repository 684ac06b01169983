/*
 * compose-state.c - the record of what `compose up` made (JSON, with
 * jansson), `compose config` (YAML, with libyaml's emitter), the tools
 * compose runs (printed with --verbose), and the logs of several
 * containers side by side (poll(2) on one pipe each): see
 * compose-state.h.  Used by compose.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml.h>

#include "chain.h"
#include "compose-state.h"
#include "jsonfile.h"
#include "minidock.h"

char *compose_record_path(const char *project)
{
	return xasprintf("%s/compose/%s.json", md_lib_dir(), project);
}

void strv_push_once(struct strv *v, const char *s)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], s))
			return;
	strv_push(v, s);
}

static void read_list(json_t *j, const char *key, struct strv *out)
{
	json_t *a = json_object_get(j, key), *e;
	size_t i;

	json_array_foreach(a, i, e)
		if (json_is_string(e) && valid_name(json_string_value(e)))
			strv_push(out, json_string_value(e));
}

int compose_record_read(const char *project, struct compose_record *r)
{
	char *path = compose_record_path(project);
	json_t *j = json_load_file(path, 0, NULL);
	int e = errno;

	memset(r, 0, sizeof(*r));
	if (!j) {
		errno = access(path, F_OK) < 0 ? ENOENT : (e ? e : EINVAL);
		free(path);
		return -1;
	}
	free(path);
	if (json_is_string(json_object_get(j, "file")))
		r->file = xstrdup(json_string_value(json_object_get(j, "file")));
	read_list(j, "containers", &r->containers);
	read_list(j, "networks", &r->networks);
	read_list(j, "volumes", &r->volumes);
	json_decref(j);
	return 0;
}

static json_t *list(const struct strv *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

int compose_record_write(const char *project, const struct compose_record *r)
{
	char *path = compose_record_path(project);
	char *dir = xasprintf("%s/compose", md_lib_dir());
	json_t *j = json_pack("{s:s, s:s?, s:o, s:o, s:o}", "project", project, "file", r->file,
			      "containers", list(&r->containers), "networks", list(&r->networks),
			      "volumes", list(&r->volumes));
	int ret = -1, e;

	if (mkdir_p(dir, 0755) == 0)
		ret = json_write_atomic(j, path, JSON_INDENT(2));    /* jsonfile.h */
	e = errno;
	json_decref(j);
	free(dir);
	free(path);
	errno = e;
	return ret;
}

int compose_record_remove(const char *project)
{
	char *path = compose_record_path(project);
	int ret = unlink(path) < 0 && errno != ENOENT ? -1 : 0;

	free(path);
	return ret;
}

void compose_record_free(struct compose_record *r)
{
	free(r->file);
	strv_free(&r->containers);
	strv_free(&r->networks);
	strv_free(&r->volumes);
	memset(r, 0, sizeof(*r));
}

/* ---- compose config: the model back into YAML, through libyaml ---- */

/* Whether the plain scalar S would read back as something else than a
 * string: null, a boolean, a number (YAML 1.1, as many readers still
 * are: 0o17, 1_000, 8080:80 in base 60...), or empty. */
static int needs_quotes(const char *s)
{
	static const char *const others[] = { "~", "null", "Null", "NULL", "y", "Y", "yes",
		"Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
		"False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "=", "<<" };
	const char *number = "^[-+]?([0-9][0-9_]*(:[0-5]?[0-9])*(\\.[0-9_]*)?([eE][-+]?[0-9]+)?"
		"|\\.[0-9_]+([eE][-+]?[0-9]+)?|0x[0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+"
		"|\\.(inf|Inf|INF|nan|NaN|NAN))$";
	regex_t re;
	int match;

	if (!*s)
		return 1;
	for (size_t i = 0; i < sizeof(others) / sizeof(*others); i++)
		if (!strcmp(s, others[i]))
			return 1;
	if (regcomp(&re, number, REG_EXTENDED | REG_NOSUB) != 0)
		return 1;       /* out of memory: quoting is never wrong */
	match = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return match;
}

/* S as a scalar that reads back as the same string: a '$' written $$ (the
 * reader takes $$ for $), quoted where plain it would be another type
 * (command: [httpd, -p, "80"], as Docker Compose prints it), or QUOTED. */
static int add_scalar(yaml_document_t *d, const char *s, int quoted)
{
	size_t n = 0;
	char *t, *o;
	int id;

	for (const char *p = s; *p; p++)
		n += *p == '$';
	o = t = xmalloc(strlen(s) + n + 1);
	for (; *s; s++) {
		*o++ = *s;
		if (*s == '$')
			*o++ = '$';
	}
	*o = '\0';
	id = yaml_document_add_scalar(d, NULL, (yaml_char_t *)t, -1, quoted || needs_quotes(t) ?
				      YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
	free(t);
	return id;
}

static int add_str(yaml_document_t *d, const char *s)
{
	return add_scalar(d, s, 0);
}

static void put(yaml_document_t *d, int map, const char *key, int value)
{
	yaml_document_append_mapping_pair(d, map, add_str(d, key), value);
}

static void put_str(yaml_document_t *d, int map, const char *key, const char *value)
{
	if (value)
		put(d, map, key, add_str(d, value));
}

static void put_list(yaml_document_t *d, int map, const char *key, const struct strv *v,
		     int always)
{
	/* Ports always quoted, as Compose's documentation asks: "22:22"
	 * plain is a number in base 60 for YAML 1.1. */
	int seq, quoted = !strcmp(key, "ports");

	if (!v->n && !always)
		return;
	seq = yaml_document_add_sequence(d, NULL, YAML_ANY_SEQUENCE_STYLE);
	for (size_t i = 0; i < v->n; i++)
		yaml_document_append_sequence_item(d, seq, add_scalar(d, v->v[i], quoted));
	put(d, map, key, seq);
}

/* The key in the file of the network or volume named FULL (its first
 * LEN bytes), or NULL. */
static const char *key_of(const struct strv *keys, const struct strv *names, const char *full,
			  size_t len)
{
	for (size_t i = 0; i < names->n; i++)
		if (strlen(names->v[i]) == len && !strncmp(names->v[i], full, len))
			return keys->v[i];
	return NULL;
}

/* Networks and volumes on top: KEY: { name: FULL }, as Compose prints
 * them; a service names them by KEY. */
static void put_named(yaml_document_t *d, int map, const char *key, const struct strv *keys,
		      const struct strv *names)
{
	int m = yaml_document_add_mapping(d, NULL, YAML_ANY_MAPPING_STYLE);

	for (size_t i = 0; i < names->n; i++) {
		int one = yaml_document_add_mapping(d, NULL, YAML_ANY_MAPPING_STYLE);
		put_str(d, one, "name", names->v[i]);
		put(d, m, keys->v[i], one);
	}
	if (names->n)
		put(d, map, key, m);
}

static int add_service(yaml_document_t *d, const struct compose_project *p,
		       const struct compose_service *s)
{
	int m = yaml_document_add_mapping(d, NULL, YAML_ANY_MAPPING_STYLE);
	struct strv networks = { 0 }, volumes = { 0 };
	size_t i;

	/* A named volume by its key (data:/data); a bind mount's source is
	 * absolute, no volume's name. */
	for (i = 0; i < s->volumes.n; i++) {
		const char *v = s->volumes.v[i];
		const char *key = key_of(&p->volume_keys, &p->volumes, v, strcspn(v, ":"));
		if (key)
			strv_pushf(&volumes, "%s%s", key, v + strcspn(v, ":"));
		else
			strv_push(&volumes, v);
	}
	for (i = 0; i < s->networks.n; i++) {
		const char *n = s->networks.v[i];
		const char *key = key_of(&p->network_keys, &p->networks, n, strlen(n));
		strv_push(&networks, key ? key : n);
	}
	put_str(d, m, "container_name", s->container);
	put_str(d, m, "image", s->image);
	if (s->build_context) {
		int b = yaml_document_add_mapping(d, NULL, YAML_ANY_MAPPING_STYLE);
		put_str(d, b, "context", s->build_context);
		put_str(d, b, "dockerfile", s->build_dockerfile ? s->build_dockerfile : "Dockerfile");
		put(d, m, "build", b);
	}
	put_list(d, m, "entrypoint", &s->entrypoint, s->has_entrypoint);
	put_list(d, m, "command", &s->command, s->has_command);
	put_list(d, m, "environment", &s->environment, 0);
	put_list(d, m, "ports", &s->ports, 0);
	put_list(d, m, "volumes", &volumes, 0);
	put_list(d, m, "networks", &networks, 0);
	put_list(d, m, "depends_on", &s->depends_on, 0);
	put_str(d, m, "restart", s->restart);
	put_str(d, m, "mem_limit", s->mem_limit);
	put_str(d, m, "cpus", s->cpus);
	put_str(d, m, "pids_limit", s->pids_limit);
	put_str(d, m, "user", s->user);
	put_str(d, m, "working_dir", s->working_dir);
	put_str(d, m, "hostname", s->hostname);
	strv_free(&networks);
	strv_free(&volumes);
	return m;
}

static int write_out(void *data, unsigned char *buf, size_t size)
{
	return fwrite(buf, 1, size, data) == size;
}

int compose_print(const struct compose_project *p, FILE *out)
{
	yaml_document_t d;
	yaml_emitter_t e;
	int root, services, ok;

	if (!yaml_document_initialize(&d, NULL, NULL, NULL, 1, 1))
		return -1;
	root = yaml_document_add_mapping(&d, NULL, YAML_BLOCK_MAPPING_STYLE);
	put_str(&d, root, "name", p->name);
	services = yaml_document_add_mapping(&d, NULL, YAML_ANY_MAPPING_STYLE);
	/* In start order: what a service depends on comes first. */
	for (size_t i = 0; i < p->n; i++)
		put(&d, services, p->services[i].name, add_service(&d, p, &p->services[i]));
	put(&d, root, "services", services);
	put_named(&d, root, "networks", &p->network_keys, &p->networks);
	put_named(&d, root, "volumes", &p->volume_keys, &p->volumes);
	if (!yaml_emitter_initialize(&e)) {
		yaml_document_delete(&d);
		return -1;
	}
	yaml_emitter_set_output(&e, write_out, out);
	yaml_emitter_set_unicode(&e, 1);
	/* yaml_emitter_dump deletes the document. */
	ok = yaml_emitter_open(&e) && yaml_emitter_dump(&e, &d) && yaml_emitter_close(&e);
	if (!ok)
		yaml_document_delete(&d);
	yaml_emitter_delete(&e);
	return ok ? 0 : -1;
}

/* ---- the tools compose types ---- */

int compose_tool(const char *name, char *const args[], char **out, int quiet)
{
	const char *verbose = getenv("MINIDOCK_VERBOSE");
	char *saved = verbose ? xstrdup(verbose) : NULL;
	int code, e;

	if (md_verbose) {
		/* Quoted as run --dry-run prints its chain: a line to paste. */
		fprintf(stderr, "compose: %s", name);
		for (size_t i = 0; args[i]; i++) {
			putc(' ', stderr);
			chain_print_word(args[i], stderr);
		}
		putc('\n', stderr);
	}
	/* run -d: its chain's steps would be traced into the container's
	 * log (its stdout and stderr), so into `compose logs`: not asked. */
	if (saved && !strcmp(name, "run"))
		unsetenv("MINIDOCK_VERBOSE");
	code = run_tool(name, args, out, quiet);
	e = errno;
	if (saved && setenv("MINIDOCK_VERBOSE", saved, 1) < 0)
		e = errno, code = -1;
	free(saved);
	errno = e;
	return code;
}

/* ---- compose logs: the logs of several containers ---- */

/* Print the whole lines of BUF (all of it with FLUSH), each after NAME. */
static size_t print_lines(const char *name, int width, char *buf, size_t len, int flush)
{
	size_t start = 0, i;

	for (i = 0; i < len; i++)
		if (buf[i] == '\n' || (flush && i == len - 1)) {
			printf("%-*s | %.*s\n", width, name, (int)(i - start + (buf[i] != '\n')),
			       buf + start);
			start = i + 1;
		}
	memmove(buf, buf + start, len - start);
	fflush(stdout);
	return len - start;
}

/* One `container logs [-f] NAME` per container, its output on a pipe;
 * each line printed after its container's name, as Compose does.  With
 * STOP_ON_SIGNAL (up without -d), Ctrl-C stops the containers. */
int compose_logs(struct strv *names, int follow, int stop_on_signal)
{
	size_t n = names->n, i, open = 0;
	struct pollfd *fds = xcalloc(n + 1, sizeof(*fds));
	pid_t *pids = xcalloc(n + 1, sizeof(*pids));
	size_t *len = xcalloc(n + 1, sizeof(*len));
	char **buf = xcalloc(n + 1, sizeof(*buf));
	int width = 0, sfd = -1, ret = -1, e;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	/* Blocked, they come through sfd; ignored (a shell's `compose up &`
	 * inherits that), the kernel would drop them. */
	if (stop_on_signal && (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
			       signal(SIGINT, SIG_DFL) == SIG_ERR ||
			       signal(SIGTERM, SIG_DFL) == SIG_ERR ||
			       (sfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0))
		goto fail;
	fds[n] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	for (i = 0; i < n; i++) {
		char *args[] = { "logs", names->v[i], NULL, NULL };
		int pfd[2];
		if ((int)strlen(names->v[i]) > width)
			width = (int)strlen(names->v[i]);
		if (follow)
			args[1] = "-f", args[2] = names->v[i];
		if (pipe2(pfd, O_CLOEXEC) < 0)
			goto fail;
		if ((pids[i] = fork()) < 0) {
			close(pfd[0]);
			close(pfd[1]);
			goto fail;
		}
		if (pids[i] == 0) {
			char *path = tool_path("container");
			char *argv[] = { path, args[0], args[1], args[2], NULL };
			if (!path || dup2(pfd[1], STDOUT_FILENO) < 0 || dup2(pfd[1], STDERR_FILENO) < 0)
				_exit(EXIT_TOOL_FAILED);
			exec_command(argv);
		}
		close(pfd[1]);
		fds[i] = (struct pollfd){ .fd = pfd[0], .events = POLLIN };
		buf[i] = xmalloc(65536);
		open++;
	}
	while (open > 0) {
		if (poll(fds, n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (fds[n].revents & POLLIN) {
			/* Ctrl-C: stop the containers; their logs then end. */
			fprintf(stderr, "compose: stopping\n");
			for (i = 0; i < n; i++)
				run_tool("container", (char *const[]){ "stop", names->v[i], NULL },
					 NULL, 1);
			fds[n].fd = -1;
		}
		for (i = 0; i < n; i++) {
			ssize_t got;
			if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(fds[i].fd, buf[i] + len[i], 65536 - len[i]);
			if (got > 0)
				len[i] += (size_t)got;
			len[i] = print_lines(names->v[i], width, buf[i], len[i],
					     got <= 0 || len[i] == 65536);
			if (got == 0 || (got < 0 && errno != EINTR)) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open--;
			}
		}
	}
	ret = 0;
fail:
	e = errno;
	for (i = 0; i < n; i++) {
		if (fds[i].fd >= 0 && buf[i])
			close(fds[i].fd);
		if (pids[i] > 0)
			waitpid(pids[i], NULL, 0);
		free(buf[i]);
	}
	if (sfd >= 0)
		close(sfd);
	free(buf);
	free(len);
	free(pids);
	free(fds);
	errno = e;
	return ret;
}
