/*
 * cgroup.c - where the cgroups are: the hierarchies of this host, the
 * caller's own cgroup in each, and the files of one cgroup.  cgroups(7);
 * proc(5) for /proc/self/mountinfo and /proc/self/cgroup.  Used by
 * cg-limit (the whole layout) and by cgroup-join.c for container exec:
 * the one reader of the cgroup mounts for both.
 *
 * A host mounts cgroup v2 (one "cgroup2" filesystem, every controller),
 * cgroup v1 (one "cgroup" filesystem per controller set, its options
 * naming them: "rw,cpu,cpuacct") or both, "hybrid": v1 controllers beside
 * a cgroup2 mount without them.  Our cgroup in each hierarchy is a line
 * of /proc/self/cgroup: "ID:CONTROLLERS:PATH", v2's is "0::PATH".
 *
 * Every function returns -1 with errno, and the layout's `error` holds the
 * whole message ("mkdir /sys/fs/cgroup/...: No such file or directory")
 * for the tool to print.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "minidock.h"

const char *const cgroup_controllers[] = {
	"memory", "cpu", "cpuset", "pids", "cpuacct", "devices", NULL,
};

/* MESSAGE into BUF, followed by ": strerror(errno)" when WITH_ERRNO. */
static void vfail(char *buf, size_t size, int with_errno, const char *fmt, va_list ap)
{
	int e = errno;

	vsnprintf(buf, size, fmt, ap);
	if (with_errno) {
		size_t n = strlen(buf);
		snprintf(buf + n, size - n, ": %s", strerror(e));
	}
	errno = e;
}

int cgroup_fail(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(buf, size, 1, fmt, ap);
	va_end(ap);
	return -1;
}

int cgroup_fail_x(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(buf, size, 0, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

/* 1 when WORD is one of the words of LIST, separated by SEP. */
static int has_word(const char *list, const char *word, char sep)
{
	size_t n = strlen(word);

	for (const char *p = list; p && *p; ) {
		const char *end = strchr(p, sep);
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && strncmp(p, word, n) == 0)
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* "A" + "/B" without a double slash when A ends with one. */
static char *path_join(const char *a, const char *b)
{
	size_t n = strlen(a);

	while (n > 1 && a[n - 1] == '/')
		n--;
	while (*b == '/')
		b++;
	if (!*b)
		return xasprintf("%.*s", (int)n, a);
	return xasprintf("%.*s/%s", (int)n, a, b);
}

/* ---- the mounts: /proc/self/mountinfo ---- */

struct cg_mount {
	char *root;     /* the mounted directory of the hierarchy, "/" mostly */
	char *point;    /* where: /sys/fs/cgroup/memory */
	int v2;         /* cgroup2, or cgroup (v1) */
	char *opts;     /* v1: "rw,memory", the controllers among them */
};

static void free_mounts(struct cg_mount *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].root);
		free(m[i].point);
		free(m[i].opts);
	}
	free(m);
}

/* The cgroup and cgroup2 mounts, in mountinfo's order.  A line is
 * "ID PARENT DEV ROOT POINT OPTIONS ... - FSTYPE SOURCE SUPER_OPTIONS". */
static int read_mounts(struct cg_mount **mounts, size_t *n)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;

	*mounts = NULL;
	*n = 0;
	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		char *root = NULL, *point = NULL, *type = NULL, *opts = NULL;
		char *sep = strstr(line, " - ");

		if (sep && sscanf(line, "%*s %*s %*s %ms %ms", &root, &point) == 2 &&
		    sscanf(sep, " - %ms %*s %ms", &type, &opts) == 2 &&
		    (!strcmp(type, "cgroup") || !strcmp(type, "cgroup2"))) {
			*mounts = xrealloc(*mounts, (*n + 1) * sizeof(**mounts));
			(*mounts)[(*n)++] = (struct cg_mount){
				root, point, !strcmp(type, "cgroup2"), opts,
			};
			root = point = opts = NULL;
		}
		free(root);
		free(point);
		free(type);
		free(opts);
	}
	free(line);
	fclose(f);
	return 0;
}

/* ---- the layout cg-limit uses ---- */

/* The caller's cgroup in the hierarchy of CONTROLLER ("" for v2), from
 * SELF, the text of /proc/self/cgroup; NULL if it has no such line. */
static char *own_cgroup(const char *self, const char *controller)
{
	char *text = xstrdup(self), *line, *save = NULL, *own = NULL;

	for (line = strtok_r(text, "\n", &save); line && !own; line = strtok_r(NULL, "\n", &save)) {
		char *ctrls = strchr(line, ':'), *path;

		if (!ctrls || !(path = strchr(++ctrls, ':')))
			continue;
		*path++ = '\0';
		if (*controller ? has_word(ctrls, controller, ',') : !*ctrls)
			own = xstrdup(path);
	}
	free(text);
	return own;
}

/* The controllers of the v2 cgroup DIR, "" when unreadable. */
static char *v2_controllers(const char *dir)
{
	char *path = path_join(dir, "cgroup.controllers");
	char *text = read_file(path, NULL);

	free(path);
	if (!text)
		return xstrdup("");
	text[strcspn(text, "\n")] = '\0';
	return text;
}

/* The hierarchy holding CONTROLLER (v2: the only one), or NULL. */
static struct cg_hierarchy *hierarchy_of(const struct cg_layout *L, const char *controller)
{
	for (size_t i = 0; i < L->n; i++)
		if (L->version == 2 || has_word(L->h[i].controllers, controller, ','))
			return (struct cg_hierarchy *)&L->h[i];
	return NULL;
}

/* v1: one hierarchy per mount holding a controller we use, in the order
 * of cgroup_controllers; co-mounted ones ("cpu,cpuacct") share it. */
static int add_v1_hierarchies(struct cg_layout *L, const char *self, const char *skip,
			      const struct cg_mount *m, size_t nm)
{
	for (const char *const *c = cgroup_controllers; *c; c++) {
		struct cg_hierarchy *h;
		size_t i;

		if (hierarchy_of(L, *c) || has_word(skip, *c, ' '))
			continue;
		for (i = 0; i < nm && (m[i].v2 || !has_word(m[i].opts, *c, ',')); i++)
			;
		if (i == nm)
			continue;       /* not mounted: --info says so */
		for (h = L->h; h < L->h + L->n && strcmp(h->mount, m[i].point); h++)
			;
		if (h < L->h + L->n) {
			char *both = xasprintf("%s,%s", h->controllers, *c);
			free(h->controllers);
			h->controllers = both;
			continue;
		}
		if (L->n == CG_MAX_HIERARCHIES)
			return cgroup_fail_x(L->error, sizeof(L->error),
					     "too many cgroup v1 hierarchies");
		h = &L->h[L->n++];
		h->mount = xstrdup(m[i].point);
		h->controllers = xstrdup(*c);
		if (!(h->own = own_cgroup(self, *c)))
			return cgroup_fail_x(L->error, sizeof(L->error), "/proc/self/cgroup: "
					     "no line for the %s hierarchy", *c);
	}
	return 0;
}

static int holds_processes(const char *dir)
{
	char *path = path_join(dir, "cgroup.procs");
	char *text = read_file(path, NULL);
	int busy = text && *text;

	free(path);
	free(text);
	return busy;
}

/*
 * v2: a cgroup holding processes (ours, at least) cannot give controllers
 * to a child, so go up to the first ancestor without processes.  The root
 * cgroup, the only one without a cgroup.type file, is exempt from the rule.
 * Inside a cgroup namespace "/" may not be the root: then there is no
 * going up, and enabling the controllers fails with EBUSY.
 */
static char *v2_usable_parent(struct cg_layout *L, const char *own)
{
	char *cg = xstrdup(own);

	for (;;) {
		char *dir = path_join(L->unified, cg), *slash;
		char *type = path_join(dir, "cgroup.type");
		int busy = access(type, F_OK) == 0 && holds_processes(dir);

		free(type);
		free(dir);
		if (!busy || !strcmp(cg, "/"))
			return cg;
		if (!L->busy_own)
			L->busy_own = xstrdup(cg);
		slash = strrchr(cg, '/');
		if (slash == cg)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

/* The controllers we use that are mounted as v1, "memory cpu ...". */
static char *v1_names(const struct cg_mount *m, size_t nm)
{
	char *names = xstrdup("");

	for (size_t i = 0; i < nm; i++) {
		for (const char *const *c = cgroup_controllers; *c && !m[i].v2; c++) {
			if (has_word(m[i].opts, *c, ',') && !has_word(names, *c, ' ')) {
				char *more = xasprintf("%s%s%s", names, *names ? " " : "", *c);
				free(names);
				names = more;
			}
		}
	}
	return names;
}

/* Which version, and its hierarchies. */
static int find_hierarchies(struct cg_layout *L, const char *self, const char *v1_skip)
{
	struct cg_mount *m;
	size_t nm;
	int ret = 0;

	if (read_mounts(&m, &nm) < 0)
		return cgroup_fail(L->error, sizeof(L->error), "open /proc/self/mountinfo");
	for (size_t i = 0; i < nm && !L->unified; i++)
		if (m[i].v2)
			L->unified = xstrdup(m[i].point);
	L->v1_mounts = v1_names(m, nm);
	/* v2 when the cgroup2 mount has the memory controller, or when no
	 * v1 controller is mounted at all. */
	if (L->unified) {
		char *ctrls = v2_controllers(L->unified);
		if (has_word(ctrls, "memory", ' ') || !*L->v1_mounts)
			L->version = 2;
		free(ctrls);
	}
	if (L->version == 2) {
		struct cg_hierarchy *h = &L->h[L->n++];
		h->mount = xstrdup(L->unified);
		/* the top's: cgroup_prepare_parent() enables them all the way down */
		h->controllers = v2_controllers(L->unified);
		if (!(h->own = own_cgroup(self, "")))
			ret = cgroup_fail_x(L->error, sizeof(L->error), "/proc/self/cgroup: "
					    "no line for the cgroup v2 hierarchy");
	} else if (*L->v1_mounts) {
		L->version = 1;
		ret = add_v1_hierarchies(L, self, v1_skip, m, nm);
	} else {
		ret = cgroup_fail_x(L->error, sizeof(L->error), "no cgroup filesystem is "
				    "mounted on /sys/fs/cgroup (see cgroups(7))");
	}
	free_mounts(m, nm);
	return ret;
}

int cgroup_find_layout(struct cg_layout *L, const char *parent_opt, const char *v1_skip)
{
	char *self;

	memset(L, 0, sizeof(*L));
	if (!(self = read_file("/proc/self/cgroup", NULL)))
		return cgroup_fail(L->error, sizeof(L->error), "read /proc/self/cgroup");
	if (find_hierarchies(L, self, v1_skip) < 0) {
		free(self);
		return -1;
	}
	free(self);
	for (size_t i = 0; i < L->n; i++) {
		struct cg_hierarchy *h = &L->h[i];

		if (parent_opt && parent_opt[0] == '/') {
			h->parent = path_join(h->mount, parent_opt);
		} else {        /* below our own cgroup: in "minidock" or PARENT */
			char *own = L->version == 2 ? v2_usable_parent(L, h->own) : xstrdup(h->own);
			char *base = path_join(h->mount, own);

			h->parent = path_join(base, parent_opt ? parent_opt : "minidock");
			free(base);
			free(own);
			L->default_parent = !parent_opt;
		}
	}
	return 0;
}

void cgroup_free_layout(struct cg_layout *L)
{
	for (size_t i = 0; i < L->n; i++) {
		free(L->h[i].mount);
		free(L->h[i].controllers);
		free(L->h[i].own);
		free(L->h[i].parent);
		free(L->h[i].dir);
		free(L->h[i].join_file);
	}
	free(L->unified);
	free(L->v1_mounts);
	free(L->busy_own);
}

void cgroup_set_name(struct cg_layout *L, const char *name)
{
	for (size_t i = 0; i < L->n; i++) {
		free(L->h[i].dir);
		L->h[i].dir = path_join(L->h[i].parent, name);
	}
}

int cgroup_exists(const struct cg_layout *L)
{
	for (size_t i = 0; i < L->n; i++)
		if (access(L->h[i].dir, F_OK) == 0)
			return 1;
	return 0;
}

/* A process of another PID namespace, sharing this cgroup filesystem,
 * may have used cg-PID already. */
char *cgroup_unused_name(struct cg_layout *L)
{
	for (int i = 1; ; i++) {
		char *name = i == 1 ? xasprintf("cg-%d", (int)getpid())
				    : xasprintf("cg-%d-%d", (int)getpid(), i);
		cgroup_set_name(L, name);
		if (!cgroup_exists(L))
			return name;
		free(name);
	}
}

int cgroup_controller_usable(const struct cg_layout *L, const char *controller)
{
	const struct cg_hierarchy *h = hierarchy_of(L, controller);

	/* v2: the top's cgroup.controllers, as they are enabled all the way
	 * down; it never lists cpuacct nor devices, which are v1 only */
	if (!h)
		return 0;
	return L->version == 1 || has_word(h->controllers, controller, ' ');
}

/* ---- the files of one cgroup ---- */

char *cgroup_file(const struct cg_layout *L, const char *controller, const char *file)
{
	const struct cg_hierarchy *h = hierarchy_of(L, controller);

	if (!h || !h->dir)
		return NULL;
	return path_join(h->dir, file);
}

int cgroup_read_value(const struct cg_layout *L, const char *controller,
		      const char *file, const char *key, uint64_t *value)
{
	char *path = cgroup_file(L, controller, file), *text, *p;
	int ret = -1;

	if (!path)
		return -1;
	text = read_file(path, NULL);
	free(path);
	if (!text)
		return -1;
	p = text;
	if (key) {      /* find the line "KEY VALUE" */
		size_t n = strlen(key);
		while (p && !(strncmp(p, key, n) == 0 && p[n] == ' '))
			if ((p = strchr(p, '\n')))
				p++;
		if (p)
			p += n + 1;
	}
	if (p && (!strncmp(p, "max", 3) || !strncmp(p, "-1", 2))) {
		*value = CG_UNLIMITED;  /* "-1": v1's cpu.cfs_quota_us */
		ret = 0;
	} else if (p && *p >= '0' && *p <= '9') {
		*value = strtoull(p, NULL, 10);
		/* v1 says "no limit" with a huge number (LONG_MAX rounded to pages) */
		if (*value >= (1ULL << 62))
			*value = CG_UNLIMITED;
		ret = 0;
	}
	free(text);
	return ret;
}

/* ---- making the cgroup's parents ready ---- */

/* First line of FILE, without its newline; NULL with errno. */
static char *read_line(const char *file)
{
	char *text = read_file(file, NULL);

	if (text)
		text[strcspn(text, "\n")] = '\0';
	return text;
}

/* v2: write "+CONTROLLER" into DIR/cgroup.subtree_control for each
 * controller we use that DIR has and does not give its children yet. */
static int enable_in(struct cg_layout *L, const char *dir)
{
	char *file = path_join(dir, "cgroup.subtree_control");
	char *ctrls = v2_controllers(dir), *sub = read_line(file);
	int ret = sub ? 0 : cgroup_fail(L->error, sizeof(L->error), "read %s", file);

	for (const char *const *c = cgroup_controllers; *c && ret == 0; c++) {
		char plus[32];

		if (!has_word(ctrls, *c, ' ') || has_word(sub, *c, ' '))
			continue;
		snprintf(plus, sizeof(plus), "+%s", *c);
		vlog("write %s = %s", file, plus);
		if (write_file(file, plus) == 0)
			continue;
		if (errno != EBUSY)
			ret = cgroup_fail(L->error, sizeof(L->error), "write %s = %s", file, plus);
		else    /* the "no internal processes" rule */
			ret = cgroup_fail_x(L->error, sizeof(L->error), "write %s = %s: "
					    "refused, as that cgroup holds processes (cgroup v2); "
					    "move them to a leaf cgroup first, or use --parent "
					    "(see cg-limit --info)", file, plus);
	}
	free(sub);
	free(ctrls);
	free(file);
	return ret;
}

/* v2: a controller reaches a cgroup only when every ancestor lists it in
 * cgroup.subtree_control.  Enable ours from the top down to DIR's parent. */
static int enable_v2_controllers(struct cg_layout *L, const char *dir)
{
	char *path = xstrdup(dir);
	int ret = 0;

	for (char *p = path + strlen(L->h[0].mount); p && *p && ret == 0; p = strchr(p + 1, '/')) {
		char c = *p;

		*p = '\0';
		ret = enable_in(L, path);
		*p = c;
	}
	free(path);
	return ret;
}

/* v1 cpusets start empty, and no process may join a cpuset without CPUs
 * or memory nodes: copy the parent's (v2 inherits them by itself). */
static int inherit_v1_cpuset(struct cg_layout *L, const char *dir)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	int ret = 0;

	for (size_t i = 0; i < 2 && ret == 0; i++) {
		char *mine = path_join(dir, files[i]);
		char *parent = xasprintf("%s/../%s", dir, files[i]);
		char *value = read_file(parent, NULL);

		if (!value) {
			ret = cgroup_fail(L->error, sizeof(L->error), "read %s", parent);
		} else {
			vlog("write %s = %s (from the parent)", files[i], strtok(value, "\n") ?: "");
			if (*value && write_file(mine, value) < 0)
				ret = cgroup_fail(L->error, sizeof(L->error),
						  "write %s = %s", mine, value);
		}
		free(value);
		free(parent);
		free(mine);
	}
	return ret;
}

static int is_v1_cpuset(const struct cg_layout *L, const struct cg_hierarchy *h)
{
	return L->version == 1 && has_word(h->controllers, "cpuset", ',');
}

int cgroup_prepare_parent(struct cg_layout *L, struct cg_hierarchy *h)
{
	/* v2: the controllers reach PARENT before it is made, its child after */
	if (L->version == 2 && enable_v2_controllers(L, h->parent) < 0)
		return -1;
	if (mkdir(h->parent, 0755) == 0) {
		vlog("mkdir %s", h->parent);
		h->made_parent = 1;
		if (is_v1_cpuset(L, h) && inherit_v1_cpuset(L, h->parent) < 0)
			return -1;
	} else if (errno != EEXIST) {
		return cgroup_fail(L->error, sizeof(L->error), "mkdir %s", h->parent);
	}
	if (L->version == 2)
		return enable_v2_controllers(L, h->dir);
	return 0;
}

int cgroup_prepare_dir(struct cg_layout *L, struct cg_hierarchy *h)
{
	if (is_v1_cpuset(L, h))
		return inherit_v1_cpuset(L, h->dir);
	return 0;
}

/* ---- emptying, leaving ---- */

/* PIDs in DIR/cgroup.procs, killed with SIGKILL; the number found.
 * A killed process stays listed until it has exited, which a CPU-throttled
 * one does only at its next period: LOG says whether to trace the kills. */
static int kill_procs(const char *dir, int log)
{
	char *path = path_join(dir, "cgroup.procs");
	char *text = read_file(path, NULL), *p;
	int found = 0;

	free(path);
	if (!text)
		return 0;
	for (p = text; *p; ) {
		char *end;
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid > 0) {
			if (log)
				vlog("kill(%ld, SIGKILL)", pid);
			kill((pid_t)pid, SIGKILL);      /* ESRCH: gone already */
			found++;
		}
		p = end + (*end == '\n');
	}
	free(text);
	return found;
}

int cgroup_kill_all(struct cg_layout *L)
{
	int ret = 0;

	for (size_t i = 0; i < L->n; i++) {
		char *killfile = path_join(L->h[i].dir, "cgroup.kill");

		/* v2 (5.14+): one write kills every process, forks included. */
		if (access(killfile, F_OK) == 0) {
			vlog("write %s = 1", killfile);
			if (write_file(killfile, "1") < 0)
				ret = cgroup_fail(L->error, sizeof(L->error), "write %s", killfile);
		}
		free(killfile);
	}
	for (int round = 0; round < 500; round++) {
		int found = 0;

		for (size_t i = 0; i < L->n; i++)
			found += kill_procs(L->h[i].dir, round == 0);
		/* Orphans reparented to us (pid 1, or a subreaper) must be
		 * reaped before their cgroup can go. */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!found)
			break;
		sleep_ms(10);
	}
	return ret;
}

int cgroup_move_back(struct cg_layout *L, size_t n)
{
	int ret = 0;

	for (size_t i = 0; i < n && ret == 0; i++) {
		char *dir = path_join(L->h[i].mount, L->h[i].own);
		char *file = path_join(dir, L->version == 1 ? "tasks" : "cgroup.procs");

		vlog("write %s = 0", file);
		if (write_file(file, "0") < 0)
			ret = cgroup_fail(L->error, sizeof(L->error), "write %s = 0", file);
		free(file);
		free(dir);
	}
	return ret;
}

/* ---- a hierarchy as /proc/PID/cgroup names it (cgroup-join.c) ---- */

char *cgroup_mount_of(const char *controllers)
{
	struct cg_mount *m;
	char *found = NULL;
	size_t nm;

	if (read_mounts(&m, &nm) < 0)
		return NULL;
	for (size_t i = 0; i < nm && !found; i++) {
		char *want, *c, *save = NULL;
		int all = 1;

		if (strcmp(m[i].root, "/") || m[i].v2 != !controllers[0])
			continue;
		want = xstrdup(controllers);
		for (c = strtok_r(want, ",", &save); c && all; c = strtok_r(NULL, ",", &save))
			all = has_word(m[i].opts, c, ',');
		free(want);
		if (all)
			found = xstrdup(m[i].point);
	}
	free_mounts(m, nm);
	return found;
}
