/*
 * build-step.c - what surrounds a build step's container in img-build
 * (build-step.h): its overlayfs options, its runtime directory and /etc
 * files, and the mount points ns-enter made in its root.  img-build makes
 * the mount(2), starts the chain and turns the upper directory into a
 * layer itself.  See Documentation/filesystems/overlayfs.rst, mount(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build-step.h"
#include "containers.h"
#include "image-write.h"
#include "minidock.h"
#include "overlay.h"
#include "runimage.h"
#include "store.h"

int step_build_name(char name[24], int64_t *epoch, char **why)
{
	const char *text = getenv("SOURCE_DATE_EPOCH");
	unsigned long long e = 0;
	uint32_t rnd;

	if (text && *text && parse_uint(text, INT64_MAX, &e) < 0)
		return why_fail(why, "SOURCE_DATE_EPOCH=%s: not a number of seconds", text);
	*epoch = (int64_t)e;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return why_fail(why, "getrandom: %s", strerror(errno));
	snprintf(name, 24, "build-%08x", rnd);
	return 0;
}

char *step_overlay_options(const char *dir, const struct strv *layers)
{
	static const char no_references[] = ",metacopy=off,index=off";
	/* redirect_dir: none made; rootless, none followed either (the
	 * kernel wants nofollow with userxattr). */
	static const char root_xattrs[] = ",redirect_dir=off";
	static const char user_xattrs[] = ",redirect_dir=nofollow,userxattr";
	char *merged = xasprintf("%s/merged", dir), *empty = xasprintf("%s/empty", dir);
	char *upper = xasprintf("%s/upper", dir), *work = xasprintf("%s/work", dir);
	struct strv lower = { 0 };
	char *opts = NULL;
	int e;

	if (mkdir_p(merged, 0755) < 0 || mkdir(empty, 0755) < 0 || mkdir(upper, 0755) < 0 ||
	    mkdir(work, 0700) < 0)
		goto out;

	/* An empty layer adds nothing and is left out. */
	for (size_t i = 0; i < layers->n; i++)
		if (dir_is_empty(layers->v[i]) == 0)
			strv_push(&lower, layers->v[i]);
	if (lower.n == 0)
		strv_push(&lower, empty);
	if ((opts = overlay_options(lower.v, lower.n, upper, work))) {
		opts = xrealloc(opts, strlen(opts) + sizeof(no_references) + sizeof(user_xattrs));
		strcat(opts, no_references);
		/* In a user namespace, trusted.* attributes are the host root's. */
		strcat(opts, store_rootless() ? user_xattrs : root_xattrs);
	}
out:
	e = errno;
	strv_free(&lower);
	free(work);
	free(upper);
	free(empty);
	free(merged);
	errno = e;
	return opts;
}

int step_prepare(const char *name, const char *merged, const char *network, const char *spec,
		 char **user, struct strv *env, char **why)
{
	char *dir = state_dir(name);
	int r = 0;

	*user = NULL;
	if (spec && !(*user = runimage_user(merged, spec, why))) {
		char *msg = *why;

		*why = NULL;
		r = why_fail(why, "USER %s: %s", spec, msg);
		free(msg);
	}
	if (r == 0)
		runimage_home(merged, *user, env);
	if (r == 0 && (mkdir_p(md_run_dir(), 0755) < 0 || mkdir(dir, 0700) < 0))
		r = why_fail(why, "mkdir %s: %s", dir, strerror(errno));
	if (r == 0 && container_etc_files(name, merged, network, name, NULL) < 0)
		r = why_fail(why, "write %s: the files of its /etc: %s", dir, strerror(errno));
	free(dir);
	return r;
}

int step_remove_state(const char *name)
{
	char *dir = state_dir(name);
	int ret = rm_rf(dir);

	free(dir);
	return ret;
}

static const char *const mount_points[STEP_MOUNT_POINTS] = {
	"etc/hosts", "etc/resolv.conf", "etc/hostname", "etc", "dev", "proc", "sys",
};

int step_note_mount_points(const char *merged, int existed[STEP_MOUNT_POINTS])
{
	int rootfd = open(merged, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;

	if (rootfd < 0)
		return -1;
	for (size_t i = 0; i < STEP_MOUNT_POINTS; i++) {
		fd = open_in_root(rootfd, mount_points[i], O_PATH | O_NOFOLLOW, 0);
		existed[i] = fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	close(rootfd);
	return 0;
}

void step_clear_mount_points(const char *upper, const int existed[STEP_MOUNT_POINTS])
{
	int fd = open(upper, O_PATH | O_DIRECTORY | O_CLOEXEC), parent;
	struct stat st;

	for (size_t i = 0; fd >= 0 && i < STEP_MOUNT_POINTS; i++) {
		const char *base = strrchr(mount_points[i], '/');
		char *dir = base ? xasprintf("%.*s", (int)(base - mount_points[i]),
					     mount_points[i]) : xstrdup(".");

		base = base ? base + 1 : mount_points[i];
		parent = existed[i] ? -1 : open_in_root(fd, dir, O_PATH | O_DIRECTORY, 0);
		free(dir);
		if (parent < 0)
			continue;
		/* Failures are ignored on purpose: what stays is only a little
		 * more in the layer (a directory that is not empty stays). */
		if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISREG(st.st_mode) && st.st_size == 0)
				(void)unlinkat(parent, base, 0);
			else if (S_ISDIR(st.st_mode))
				(void)unlinkat(parent, base, AT_REMOVEDIR);
		}
		close(parent);
	}
	if (fd >= 0)
		close(fd);
}

int step_userns_command(char **argv, const char *network, struct strv *args, char **why)
{
	static const char *const opts[] = { "--userns", "--mount", "--privileged", "--" };
	char *ns_enter, *self;

	if (strcmp(network, "none"))
		return why_fail(why, "--network %s: a rootless build step has no network but "
				"its own loopback (--network none)", network);
	if (store_user_dirs(why) < 0)
		return -1;
	ns_enter = tool_path("ns-enter");
	self = tool_path("img-build");
	if (!ns_enter || !self) {
		free(ns_enter);
		free(self);
		return why_fail(why, "readlink /proc/self/exe: %s", strerror(errno));
	}
	strv_push(args, ns_enter);
	if (md_verbose)
		strv_push(args, "--verbose");
	for (size_t i = 0; i < sizeof(opts) / sizeof(*opts); i++)
		strv_push(args, opts[i]);
	strv_push(args, self);
	for (size_t i = 1; argv[i]; i++)
		strv_push(args, argv[i]);
	free(ns_enter);
	free(self);
	return 0;
}

int step_chain(const char *name, const char *merged, const char *network,
	       const struct build_vars *vars, const struct strv *cmd, struct chain *chain,
	       struct strv *envp, char **why)
{
	struct run_options ro = { .network = network, .rootless = store_rootless(),
				  .workdir = imgw_getstring(vars->img, "WorkingDir") };
	struct strv env = { 0 };
	struct chain_args a;
	char *user = NULL;
	int ret = -1;

	/* The user, HOME, the runtime directory and its /etc files, as run's. */
	bvars_run_env(vars, &env);
	if (step_prepare(name, merged, network, imgw_getstring(vars->img, "User"), &user, &env,
			 why) < 0)
		goto out;
	a = (struct chain_args){ .name = name, .hostname = name, .rootfs = merged,
				 .user = user, .cmd = cmd, .env = &env };
	if (chain_build(&ro, &a, 0, chain) < 0) {
		*why = xasprintf("the tools of the chain: %s", strerror(errno));
		goto out;
	}
	chain_environment(envp);
	ret = 0;
out:
	strv_free(&env);
	free(user);
	return ret;
}

void step_announce(size_t i, size_t n, const struct df_instr *in, struct timespec *t0)
{
	char *text = df_text(in);

	printf("Step %zu/%zu : %s\n", i + 1, n, text);
	fflush(stdout);
	free(text);
	clock_gettime(CLOCK_MONOTONIC, t0);
}

void step_report_time(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf(" ---> %.2fs\n", (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9);
}

int step_interrupted(void)
{
	sigset_t pending;

	return sigpending(&pending) == 0 && (sigismember(&pending, SIGINT) ||
					     sigismember(&pending, SIGTERM));
}

void step_report_image(const struct imgw *img, const char *output, const char *name)
{
	if (output)
		printf("Written to %s\n", output);
	printf("Successfully built %.12s (manifest %s)\n", img->config_digest + 7,
	       img->manifest_digest);
	if (name)
		printf("Successfully tagged %s\n", name);
}
