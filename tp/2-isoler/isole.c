/*
 * isole.c - a container in a few system calls: new namespaces, a
 * hostname, the image as root, then the command.  TP step 2, "À vous de
 * coder": complete the three TODOs, then check with tp/verifier 2.
 *
 *   make exercices        (build/tp/2-isoler/isole)
 *   sudo build/tp/2-isoler/isole images/build/busybox/rootfs /bin/sh
 *
 * ns-enter does the same, with every check and option: read start_child(),
 * build_container(), pivot_into() and detach_old_root() in cmd/ns-enter.c,
 * and clone(2), sethostname(2), pivot_root(2), umount2(2).
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOSTNAME "isole"

static char stack[1024 * 1024];         /* the child's, for clone(2) */
static struct stat host_uts, host_mnt;  /* the namespaces we start in */

static int failed(const char *what)
{
	fprintf(stderr, "isole: %s: %s\n", what, strerror(errno));
	return 125;
}

/* Is this process still in the namespace HOST that main() started in? */
static int same_namespace(const char *file, const struct stat *host)
{
	struct stat st;

	return stat(file, &st) == 0 && st.st_ino == host->st_ino && st.st_dev == host->st_dev;
}

/* The child, born in the new namespaces: ARG is ROOTFS COMMAND [ARG...]. */
static int child(void *arg)
{
	char **argv = arg;

	/* Never touch the host's name or mounts. */
	if (same_namespace("/proc/self/ns/uts", &host_uts) ||
	    same_namespace("/proc/self/ns/mnt", &host_mnt)) {
		fprintf(stderr, "isole: still in the host's uts or mount namespace: "
			"nothing done (TODO 1)\n");
		return 125;
	}
	/* TODO 2: the container's own name, HOSTNAME: sethostname(2), and
	 * on failure return failed("sethostname"). */

	/* Our mounts stay ours; pivot_root(2) wants ROOTFS to be a mount. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return failed("mount / MS_PRIVATE");
	if (mount(argv[0], argv[0], NULL, MS_BIND | MS_REC, NULL) < 0 || chdir(argv[0]) < 0)
		return failed(argv[0]);
	/* TODO 3: ROOTFS (the current directory) becomes "/": pivot_root(2)
	 * has no glibc wrapper, call syscall(SYS_pivot_root, ".", ".").  The
	 * old root is then stacked on the new one: detach it with umount2(2)
	 * on ".", flag MNT_DETACH.  On failure, return failed("..."). */

	/* A /proc of the new pid namespace, for ps. */
	if (chdir("/") < 0 || mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return failed("mount /proc");
	execvp(argv[1], argv + 1);
	fprintf(stderr, "isole: %s: %s\n", argv[1], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

int main(int argc, char **argv)
{
	int flags, status;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: isole ROOTFS COMMAND [ARG...]\n");
		return 125;
	}
	if (stat("/proc/self/ns/uts", &host_uts) < 0 || stat("/proc/self/ns/mnt", &host_mnt) < 0)
		return failed("/proc/self/ns");
	/* TODO 1: the child's new namespaces: uts, pid and mount, the
	 * CLONE_NEW... flags of clone(2), joined by |. */
	flags = 0;
	pid = clone(child, stack + sizeof(stack), flags | SIGCHLD, argv + 1);
	if (pid < 0)
		return failed("clone");
	if (waitpid(pid, &status, 0) < 0)
		return failed("waitpid");
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
