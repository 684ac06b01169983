/*
 * lifecycle.c - a container's life: claimed under a lock, its resources
 * recorded before they are made, undone by whoever finds its run dead
 * (see lifecycle.h).  Used by run and container.
 *
 * See flock(2), rename(2) (renameat2 RENAME_NOREPLACE), umount(2), and
 * runc's libcontainer/container_linux.go (saveState: a temporary file,
 * then rename).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lifecycle.h"
#include "minidock.h"

static const char *const phase_names[] = {
	[LIFE_CREATING] = "creating", [LIFE_CREATED] = "created",
	[LIFE_EXITED] = "exited", [LIFE_REMOVING] = "removing",
};
/* In the order they are made. */
static const struct {
	unsigned bit;
	const char *name;
} resource_names[] = {
	{ LIFE_DISK, "disk" }, { LIFE_ROOTFS, "rootfs" },
	{ LIFE_CGROUP, "cgroup" }, { LIFE_NETWORK, "network" },
};
#define N_RESOURCES (sizeof(resource_names) / sizeof(*resource_names))

const char *life_phase_name(enum life_phase phase)
{
	return phase_names[phase];
}

char *disk_dir(const char *name)
{
	return xasprintf("%s/containers/%s", md_lib_dir(), name);
}

char *disk_file(const char *name, const char *file)
{
	return xasprintf("%s/containers/%s/%s", md_lib_dir(), name, file);
}

void life_test_point(void)
{
	static int count;
	const char *stop = getenv("MINIDOCK_TEST_STOP_AT");

	if (stop && atoi(stop) == ++count) {
		vlog("MINIDOCK_TEST_STOP_AT=%s: kill(getpid(), SIGKILL)", stop);
		raise(SIGKILL);
	}
}

/* The state file anew, "state.new" renamed over "state": a reader (or a
 * run killed mid-write) sees the old file or the new one, never half. */
static int write_state(struct life *l)
{
	char *path = xasprintf("%s/state", l->dir), *tmp = xasprintf("%s/state.new", l->dir);
	struct strv lines = { 0 };
	char *text;
	size_t i, len = 0;
	int ret, e;

	strv_push(&lines, phase_names[l->phase]);
	for (i = 0; i < N_RESOURCES; i++)
		if (l->resources & resource_names[i].bit)
			strv_push(&lines, resource_names[i].name);
	for (i = 0; i < l->volumes.n; i++)
		strv_pushf(&lines, "volume %s", l->volumes.v[i]);
	for (i = 0; i < lines.n; i++)
		len += strlen(lines.v[i]) + 1;
	text = xmalloc(len + 1);
	for (i = 0, len = 0; i < lines.n; i++)
		len += (size_t)sprintf(text + len, "%s\n", lines.v[i]);
	ret = write_file(tmp, text);
	if (ret == 0)
		ret = rename(tmp, path);
	e = errno;
	if (md_verbose) {
		for (i = 0; i + 1 < len; i++)
			if (text[i] == '\n')
				text[i] = ' ';
		text[len - 1] = '\0';
		vlog("rename(\"%s/state.new\", \"state\"): %s", l->dir, text);
	}
	free(text);
	strv_free(&lines);
	free(tmp);
	free(path);
	life_test_point();
	errno = e;
	return ret;
}

/* Parse a state file: its phase, resources and (VOLUMES non-NULL) named
 * volumes.  -1/EINVAL when damaged. */
static int parse_state(char *text, enum life_phase *phase, unsigned *resources,
		       struct strv *volumes)
{
	char *line, *save = NULL;
	size_t i;
	int first = 1;

	*resources = 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (first) {
			for (i = 0; i < sizeof(phase_names) / sizeof(*phase_names); i++)
				if (!strcmp(line, phase_names[i]))
					break;
			if (i == sizeof(phase_names) / sizeof(*phase_names)) {
				errno = EINVAL;
				return -1;
			}
			*phase = (enum life_phase)i;
			first = 0;
			continue;
		}
		if (!strncmp(line, "volume ", 7)) {
			if (volumes)
				strv_push(volumes, line + 7);
			continue;
		}
		for (i = 0; i < N_RESOURCES; i++)
			if (!strcmp(line, resource_names[i].name))
				*resources |= resource_names[i].bit;
	}
	if (first) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int read_state(const char *dir, enum life_phase *phase, unsigned *resources,
		      struct strv *volumes)
{
	char *path = xasprintf("%s/state", dir), *text = read_file(path, NULL);
	int ret = text ? parse_state(text, phase, resources, volumes) : -1;

	free(text);
	free(path);
	return ret;
}

int life_claim(const char *name, enum life_phase phase, struct life *l)
{
	char *final = state_dir(name), *lock;
	int e;

	memset(l, 0, sizeof(*l));
	l->lockfd = -1;
	/* .NAME.PID.STARTTIME: whose it is, for prune_claims. */
	l->dir = xasprintf("%s/.%s.%d.%llu", md_run_dir(), name, (int)getpid(),
			   proc_start_time(getpid()));
	if (mkdir_p(md_run_dir(), 0755) < 0)
		goto fail;
	if (mkdir(l->dir, 0700) < 0 && (errno != EEXIST || rm_rf(l->dir) < 0 ||
					 mkdir(l->dir, 0700) < 0))
		goto fail;
	lock = xasprintf("%s/lock", l->dir);
	l->lockfd = open(lock, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	free(lock);
	/* Nobody knows this directory yet: the lock is ours at once. */
	if (l->lockfd < 0 || flock(l->lockfd, LOCK_EX) < 0)
		goto fail_dir;
	l->name = xstrdup(name);
	l->phase = phase;
	if (write_state(l) < 0)
		goto fail_dir;
	vlog("mkdir + flock(LOCK_EX) + state \"%s\", then renameat2(\"%s\", RENAME_NOREPLACE)",
	     phase_names[phase], final);
	/* RENAME_NOREPLACE: fails if NAME exists, even as an empty directory
	 * (rename(2) alone would replace that). */
	if (renameat2(AT_FDCWD, l->dir, AT_FDCWD, final, RENAME_NOREPLACE) < 0 &&
	    (errno != EINVAL || rename(l->dir, final) < 0)) {
		if (errno == ENOTEMPTY)
			errno = EEXIST;
		goto fail_dir;
	}
	free(l->dir);
	l->dir = final;
	return 0;
fail_dir:
	e = errno;
	rm_rf(l->dir);
	errno = e;
fail:
	e = errno;
	free(final);
	life_release(l);
	errno = e;
	return -1;
}

int life_claim_new(const char *wanted, struct life *l)
{
	int tries;

	if (wanted)
		return life_claim(wanted, LIFE_CREATING, l);
	for (tries = 0; tries < 100; tries++) {
		char *name = random_name();
		int r = name ? life_claim(name, LIFE_CREATING, l) : -1;
		free(name);
		if (r == 0 || errno != EEXIST)
			return r;
	}
	return -1;      /* EEXIST: 100 names taken */
}

int life_make_disk(struct life *l)
{
	char *dir = disk_dir(l->name), *top = xasprintf("%s/containers", md_lib_dir());
	int ret = -1;

	if (life_record(l, LIFE_DISK) == 0 && mkdir_p(top, 0755) == 0 &&
	    (mkdir(dir, 0700) == 0 || (errno == EEXIST && rm_rf(dir) == 0 && mkdir(dir, 0700) == 0)))
		ret = 0;
	free(top);
	free(dir);
	return ret;
}

int life_lock(const char *name, struct life *l)
{
	char *path = state_file(name, "lock");
	struct stat a, b;
	int e;

	memset(l, 0, sizeof(*l));
	l->dir = state_dir(name);
	l->name = xstrdup(name);
	/* No state file: not a container (net-bridge's net/ has a lock). */
	if (read_state(l->dir, &l->phase, &l->resources, NULL) < 0 && errno == ENOENT)
		goto fail;
	l->lockfd = open(path, O_RDWR | O_CLOEXEC);
	if (l->lockfd < 0)
		goto fail;
	if (flock(l->lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			errno = EBUSY;
		goto fail;
	}
	/* Ours; but is it still NAME's lock?  Its remover may have unlinked it
	 * (and a new run claimed NAME) between our open and our flock. */
	if (fstat(l->lockfd, &a) < 0 || stat(path, &b) < 0 || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev) {
		errno = ENOENT;
		goto fail;
	}
	/* Unreadable: assume the worst, each undo tolerates what is not there. */
	strv_free(&l->volumes);
	if (read_state(l->dir, &l->phase, &l->resources, &l->volumes) < 0) {
		l->phase = LIFE_CREATING;
		l->resources = LIFE_ALL;
	}
	free(path);
	return 0;
fail:
	e = errno;
	free(path);
	life_release(l);
	errno = e;
	return -1;
}

int life_peek(const char *name, enum life_phase *phase, unsigned *resources, int *held)
{
	char *dir = state_dir(name), *path = state_file(name, "lock");
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -1;

	*held = 0;
	if (fd >= 0) {
		/* A shared lock for an instant: a prune at this very moment
		 * may skip this container, and the next one removes it. */
		if (flock(fd, LOCK_SH | LOCK_NB) < 0)
			*held = errno == EWOULDBLOCK;
		close(fd);
		ret = read_state(dir, phase, resources, NULL);
	}
	free(path);
	free(dir);
	return ret;
}

int life_record(struct life *l, unsigned resources)
{
	l->resources |= resources;
	return write_state(l);
}

int life_set_phase(struct life *l, enum life_phase phase)
{
	l->phase = phase;
	return write_state(l);
}

int life_record_volume(struct life *l, const char *volume)
{
	for (size_t i = 0; i < l->volumes.n; i++)
		if (!strcmp(l->volumes.v[i], volume))
			return 0;
	strv_push(&l->volumes, volume);
	return write_state(l);
}

int life_volumes(const char *name, struct strv *volumes)
{
	char *dir = state_dir(name);
	enum life_phase phase;
	unsigned resources;
	int ret = read_state(dir, &phase, &resources, volumes);

	free(dir);
	return ret;
}

/* TOOL --name NAME --delete: undo the step TOOL did for container NAME.
 * QUIET: the tool says so when nothing is left, which may be fine. */
static void delete_step(const char *tool, const char *name, int quiet)
{
	char *args[] = { (char *)"--name", (char *)name, (char *)"--delete", NULL };
	int code = run_tool(tool, args, NULL, quiet);

	vlog("%s --name %s --delete: exit %d", tool, name, code);
}

/* Unmount ROOTFS when it is mounted (DETACH: at once, MNT_DETACH).
 * 0 or -1 with errno. */
static int umount_root(const char *rootfs, int detach)
{
	if (umount2(rootfs, UMOUNT_NOFOLLOW | (detach ? MNT_DETACH : 0)) == 0) {
		vlog(detach ? "umount2(\"%s\", MNT_DETACH)" : "umount2(\"%s\")", rootfs);
		return 0;
	}
	/* EINVAL: not a mount point (never mounted, or already unmounted). */
	if (errno == EINVAL || errno == ENOENT || (errno == EPERM && store_rootless()))
		return 0;
	if (errno != EBUSY)
		return -1;
	/* Still used (a process of a crashed chain holds it): detach it now,
	 * the kernel frees it when unused. */
	vlog("umount2(\"%s\", MNT_DETACH)", rootfs);
	return umount2(rootfs, MNT_DETACH | UMOUNT_NOFOLLOW);
}

/*
 * rm -rf DIR, never crossing into another filesystem (a root still
 * mounted stops it rather than emptying an image's layers).  Rootless
 * with a range (ns-enter(1), --userns), a user other than root inside may
 * leave files the caller may not remove on the host (they belong to a
 * subordinate ID: EACCES), while root of a user namespace with the same
 * map may: so what is left is removed from there, ns-enter --userns --
 * rm -rf DIR.
 */
static int remove_tree(const char *dir)
{
	char *args[] = { (char *)"--userns", (char *)"--", (char *)"rm", (char *)"-rf",
			 (char *)"--one-file-system", (char *)dir, NULL };
	int e;

	vlog("rm -r %s", dir);
	if (rm_rf(dir) == 0)
		return 0;
	e = errno;
	if (!store_rootless())
		return -1;
	vlog("rootless: ns-enter --userns -- rm -rf %s (files of subordinate IDs)", dir);
	if (run_tool("ns-enter", args, NULL, 0) == 0)
		return 0;
	errno = e;
	return -1;
}

/* Where removed disk directories wait for their background removal. */
static char *trash_dir(void)
{
	return xasprintf("%s/containers/.trash", md_lib_dir());
}

/* In a child of its own session, without our descriptors: let the root
 * mount go (HOLD, once the caller has closed its copy: EOF on GO), then
 * remove TRASH under its lock (prune_trash waits for it).  .trash itself
 * stays (a directory made and removed at each container costs ext4 more
 * than keeping it): prune removes it. */
static void __attribute__((noreturn)) reclaim_child(const char *trash, int hold, int go)
{
	sigset_t none;
	char c;
	int fd;

	/* The last user of the detached mount: the kernel frees it, and
	 * overlayfs flushes its upper filesystem to disk, in our close. */
	if (hold >= 0) {
		while (read(go, &c, 1) < 0 && errno == EINTR)
			;
		close(hold);
	}

	/* Each step is best effort: whatever fails, the removal is still
	 * worth doing, and what it leaves prune finishes. */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0 || setsid() < 0 ||
	    prctl(PR_SET_NAME, "md-reclaim") < 0 ||      /* what ps shows */
	    close_range(3, ~0U, 0) < 0)
		vlog("md-reclaim: %s", strerror(errno));
	/* Out of the terminal and of the caller's pipes (a test harness
	 * reading our output would wait for us). */
	if ((fd = open("/dev/null", O_RDWR)) < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 ||
	    dup2(fd, 2) < 0)
		_exit(1);
	if (fd > 2)
		close(fd);
	fd = open(trash, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_exit(fd >= 0 && flock(fd, LOCK_EX) == 0 && remove_tree(trash) == 0 ? 0 : 1);
}

/*
 * Remove disk directory DIR in the background, as containerd's overlay
 * snapshotter does: DIR is renamed into containers/.trash/ at once (so
 * containers/NAME is free again), then a child process removes it while
 * the caller goes on.  Freeing a disk's blocks may wait for the disk
 * (ext4 mounted with discard sends a discard for each one), and nobody
 * needs to wait for that.  prune_trash() finishes what a crash cut
 * short.  Where the rename or the fork fails: removed here and now.
 */
static int reclaim_disk(const char *dir, int hold)
{
	static unsigned count;
	char *top = trash_dir(), *trash;
	int tries, ret = -1, go[2] = { -1, -1 };
	pid_t pid = -1;

	trash = xasprintf("%s/%s.%d.%u", top, strrchr(dir, '/') + 1, (int)getpid(), count++);
	/* Twice: a prune may remove an empty .trash between mkdir and rename. */
	for (tries = 0; tries < 2 && ret < 0; tries++)
		if ((ret = rename(dir, trash)) < 0 && errno == ENOENT && mkdir(top, 0700) < 0 &&
		    errno != EEXIST)
			break;
	if (ret < 0) {
		if (hold >= 0)
			close(hold);
		ret = remove_tree(dir);
	} else if ((hold < 0 || pipe2(go, O_CLOEXEC) == 0) && (pid = fork()) == 0) {
		close(go[1]);
		reclaim_child(trash, hold, go[0]);
	} else {
		/* Ours closed first, then GO: the child's is the last. */
		if (hold >= 0)
			close(hold);
		if (go[0] >= 0)
			close(go[0]), close(go[1]);
		if (pid > 0)
			vlog("rename(\"%s\", \"%s\"), removed in the background (pid %d)",
			     dir, trash, (int)pid);
		ret = pid > 0 ? 0 : remove_tree(trash);
	}
	free(trash);
	free(top);
	return ret;
}

/* Wait for the background removals (each holds its directory's lock),
 * and finish those a crash or a reboot cut short. */
static int prune_trash(void)
{
	char *top = trash_dir();
	DIR *d = opendir(top);
	struct dirent *de;
	struct stat st;
	int ret = 0;

	if (!d && errno != ENOENT)
		ret = -1;
	while (d && (de = readdir(d)) != NULL) {
		char *trash;
		int fd;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		trash = xasprintf("%s/%s", top, de->d_name);
		fd = open(trash, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		/* Its md-reclaim done meanwhile: the directory is gone (nlink 0). */
		if (fd >= 0 && flock(fd, LOCK_EX) == 0 && fstat(fd, &st) == 0 && st.st_nlink > 0 &&
		    remove_tree(trash) < 0)
			ret = -1;
		if (fd >= 0)
			close(fd);
		free(trash);
	}
	if (d)
		closedir(d);
	if (rmdir(top) < 0 && errno != ENOENT && errno != ENOTEMPTY)
		ret = -1;
	free(top);
	return ret;
}

int life_undo(struct life *l, unsigned what, int quiet)
{
	unsigned todo = l->resources & what;
	char *path;
	int ret = 0, hold = -1;

	if (todo & LIFE_NETWORK)
		delete_step("net-bridge", l->name, quiet);
	if (todo & LIFE_CGROUP)
		delete_step("cg-limit", l->name, quiet);
	l->resources &= ~(todo & (LIFE_NETWORK | LIFE_CGROUP));
	if (todo & LIFE_ROOTFS) {
		path = disk_file(l->name, "rootfs");
		/* Its disk directory goes too: out of the tree at once, and the
		 * unmount itself (overlayfs syncs the whole upper filesystem)
		 * left to md-reclaim, which holds the mount (O_PATH). */
		if (todo & LIFE_DISK)
			hold = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		ret = umount_root(path, hold >= 0);
		free(path);
		if (ret == 0)
			l->resources &= ~LIFE_ROOTFS;
	}
	if (ret == 0 && (todo & LIFE_DISK)) {
		path = disk_dir(l->name);
		ret = reclaim_disk(path, hold);
		hold = -1;
		free(path);
		if (ret == 0)
			l->resources &= ~LIFE_DISK;
	}
	if (hold >= 0)
		close(hold);
	if (todo && write_state(l) < 0 && ret == 0)
		ret = -1;
	return ret;
}

int life_remove(struct life *l, int quiet)
{
	int ret, e;

	if (life_set_phase(l, LIFE_REMOVING) < 0 || life_undo(l, LIFE_ALL, quiet) < 0)
		ret = -1;
	else
		ret = remove_tree(l->dir);
	e = errno;
	life_release(l);        /* the lock too: the last thing held */
	errno = e;
	return ret;
}

void life_release(struct life *l)
{
	if (l->lockfd >= 0)
		close(l->lockfd);
	free(l->name);
	free(l->dir);
	strv_free(&l->volumes);
	memset(l, 0, sizeof(*l));
	l->lockfd = -1;
}

int life_names(struct strv *names)
{
	DIR *d = opendir(md_run_dir());
	struct dirent *de;
	int e;

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((errno = 0, de = readdir(d)) != NULL) {
		char *state;
		if (de->d_name[0] == '.' || !valid_name(de->d_name))
			continue;
		/* A state file: net-bridge's net/ has a lock, no state. */
		state = state_file(de->d_name, "state");
		if (access(state, F_OK) == 0)
			strv_push(names, de->d_name);
		free(state);
	}
	e = errno;
	closedir(d);
	errno = e;
	return e ? -1 : 0;
}

/*
 * Whether hidden directory NAME (.NAME.PID.STARTTIME) is a claim cut
 * short: its lock is free, and it was taken (a state file is written
 * only with the lock held), or its run is gone (killed between its mkdir
 * and its flock).  FD: the lock, or -1.
 */
static int dead_claim(const char *dir, const char *name, int fd)
{
	const char *dot = strrchr(name, '.');
	char *state = xasprintf("%s/state", dir);
	unsigned long long start = 0;
	int pid = 0, dead;

	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		free(state);
		return 0;
	}
	dead = access(state, F_OK) == 0;
	if (!dead && dot && dot > name) {
		const char *p = dot - 1;
		while (p > name && *p != '.')
			p--;
		if (sscanf(p, ".%d.%llu", &pid, &start) == 2)
			dead = pid <= 0 || proc_start_time(pid) != start;
	}
	free(state);
	return dead;
}

/* Hidden directories of claims whose run died before the rename: only a
 * lock and a state, no resource yet. */
static int prune_claims(void)
{
	DIR *d = opendir(md_run_dir());
	struct dirent *de;
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		char *dir, *lock;
		int fd;
		if (de->d_name[0] != '.' || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		dir = xasprintf("%s/%s", md_run_dir(), de->d_name);
		lock = xasprintf("%s/lock", dir);
		fd = open(lock, O_RDONLY | O_CLOEXEC);
		if (dead_claim(dir, de->d_name, fd) && remove_tree(dir) < 0)
			ret = -1;
		if (fd >= 0)
			close(fd);
		free(lock);
		free(dir);
	}
	closedir(d);
	return ret;
}

int life_prune_leftovers(struct strv *removed)
{
	char *top = xasprintf("%s/containers", md_lib_dir());
	int ret = prune_claims(), first = ret < 0 ? errno : 0;
	struct dirent *de;
	DIR *d;

	d = opendir(top);
	if (!d && errno != ENOENT && !first)
		first = errno;
	while (d && (de = readdir(d)) != NULL) {
		struct life l;
		struct stat st;
		char *rundir;
		if (de->d_name[0] == '.' || !valid_name(de->d_name))
			continue;
		rundir = state_dir(de->d_name);
		/* Its runtime state is gone: claim the name, then remove. */
		if (lstat(rundir, &st) < 0 && errno == ENOENT &&
		    life_claim(de->d_name, LIFE_REMOVING, &l) == 0) {
			vlog("%s/%s: no runtime state (a reboot?): removing it", top, de->d_name);
			if (life_record(&l, LIFE_DISK | LIFE_ROOTFS) < 0 || life_remove(&l, 1) < 0) {
				if (!first)
					first = errno;
				life_release(&l);
			} else {
				strv_push(removed, de->d_name);
			}
		}
		free(rundir);
	}
	if (d)
		closedir(d);
	/* Last: what this prune removed went to the background too. */
	if (prune_trash() < 0 && !first)
		first = errno;
	free(top);
	errno = first;
	return first ? -1 : 0;
}
