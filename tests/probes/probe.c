/*
 * probe.c - escape attempts, run from inside a container by
 * tests/security.bats.  Built with `cc -static` so it runs in any image.
 *
 *   probe ATTEMPT [ARG...]
 *
 * Prints "ATTEMPT: ok" and exits 0 when the kernel let it through,
 * "ATTEMPT: <strerror>" and exits 1 when it refused.  Each attempt is one
 * system call (or the few a real exploit needs), so a student can read
 * what exactly was refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int result(const char *what, int rc)
{
	if (rc < 0) {
		printf("%s: %s\n", what, strerror(errno));
		return 1;
	}
	printf("%s: ok\n", what);
	return 0;
}

/* init_module(2) with a buffer that is no module: a refusal by
 * permission is EPERM, anything else means the kernel looked at it. */
static int try_init_module(char **argv)
{
	static const char junk[] = "not an ELF module";

	(void)argv;
	return result("init_module", (int)syscall(SYS_init_module, junk, sizeof(junk), ""));
}

static int try_mount(char **argv)
{
	(void)argv;
	return result("mount", mount("none", "/mnt", "tmpfs", 0, NULL));
}

static int try_pivot_root(char **argv)
{
	(void)argv;
	if (chdir("/") < 0)
		return result("chdir", -1);
	return result("pivot_root", (int)syscall(SYS_pivot_root, ".", "."));
}

/* The classic chroot(2) escape: chroot into a subdirectory while keeping
 * the working directory outside it, walk up with "..", chroot(".").  Then
 * look for PATH, which exists only on the host. */
static int try_chroot_escape(char **argv)
{
	if (!argv[0])
		return 2;
	if (mkdir("/tmp/.escape", 0700) < 0 && errno != EEXIST)
		return result("mkdir", -1);
	if (chroot("/tmp/.escape") < 0)
		return result("chroot", -1);
	for (int i = 0; i < 64; i++)
		if (chdir("..") < 0)
			return result("chdir", -1);
	if (chroot(".") < 0)
		return result("chroot", -1);
	return result("host path after chroot escape", access(argv[0], F_OK));
}

/* Attach to PID and let it go again. */
static int try_ptrace(char **argv)
{
	pid_t pid;

	if (!argv[0])
		return 2;
	pid = (pid_t)atoi(argv[0]);
	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0)
		return result("ptrace", -1);
	waitpid(pid, NULL, __WALL);
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	return result("ptrace", 0);
}

/* In a new user namespace, the process holds every capability again. */
static int try_unshare_user(char **argv)
{
	(void)argv;
	return result("unshare(CLONE_NEWUSER)", unshare(CLONE_NEWUSER));
}

/* drop UID COMMAND...: become UID (and gid UID), then run COMMAND. */
static int drop(char **argv)
{
	uid_t id;

	if (!argv[0] || !argv[1])
		return 2;
	id = (uid_t)atoi(argv[0]);
	if (setgroups(0, NULL) < 0 || setresgid(id, id, id) < 0 || setresuid(id, id, id) < 0)
		return result("drop", -1);
	execv(argv[1], argv + 1);
	return result("execv", -1);
}

/* Installed setuid root in the test image: does it run as root? */
static int euid(char **argv)
{
	(void)argv;
	printf("euid=%d\n", (int)geteuid());
	return 0;
}

/* Push a character into the terminal's input queue (CVE-2017-5226). */
static int try_tiocsti(char **argv)
{
	char c = '\n';

	(void)argv;
	return result("ioctl(TIOCSTI)", ioctl(0, TIOCSTI, &c));
}

/* The same request with bit 32 set: the kernel reads only 32 bits of it,
 * so a filter comparing all 64 would let it through. */
static int try_tiocsti_high(char **argv)
{
	char c = '\n';

	(void)argv;
	return result("ioctl(TIOCSTI | 1 << 32)",
		      (int)syscall(SYS_ioctl, 0, (unsigned long)TIOCSTI | 1UL << 32, &c));
}

/* Set the clock to what it reads: harmless if it ever got through. */
static int try_settime(char **argv)
{
	struct timespec now;

	(void)argv;
	if (clock_gettime(CLOCK_REALTIME, &now) < 0)
		return result("clock_gettime", -1);
	return result("clock_settime", clock_settime(CLOCK_REALTIME, &now));
}

/* mknod-disk PATH MAJOR MINOR: a block device node, opened and read. */
static int try_mknod_disk(char **argv)
{
	char sector[512];
	int fd;

	if (!argv[0] || !argv[1] || !argv[2])
		return 2;
	if (mknod(argv[0], S_IFBLK | 0600, makedev(atoi(argv[1]), atoi(argv[2]))) < 0)
		return result("mknod", -1);
	fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return result("open", -1);
	if (read(fd, sector, sizeof(sector)) < 0)
		return result("read", -1);
	close(fd);
	return result("read the disk", 0);
}

/* The "shocker" exploit's two calls: a file handle, then opening a file
 * by handle, which skips every path (and so the container's root). */
static int try_open_by_handle(char **argv)
{
	struct file_handle *fh = malloc(sizeof(*fh) + MAX_HANDLE_SZ);
	int mount_id, fd;

	(void)argv;
	if (!fh)
		return 2;
	fh->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, "/etc/hostname", fh, &mount_id, 0) < 0) {
		free(fh);
		return result("name_to_handle_at", -1);
	}
	fd = open_by_handle_at(AT_FDCWD, fh, O_RDONLY);
	free(fh);
	if (fd >= 0)
		close(fd);
	return result("open_by_handle_at", fd);
}

static int try_keyctl(char **argv)
{
	(void)argv;
	/* KEYCTL_GET_KEYRING_ID (0) of KEY_SPEC_SESSION_KEYRING (-3) */
	return result("keyctl", (int)syscall(SYS_keyctl, 0, -3, 0));
}

/* Turn address space randomisation off (setarch -R does this). */
static int try_personality(char **argv)
{
	(void)argv;
	return result("personality(ADDR_NO_RANDOMIZE)", personality(ADDR_NO_RANDOMIZE));
}

/* For every process visible in /proc: is its executable a file of the
 * host, which root of the container could open (CVE-2019-5736)? */
static int exe_scan(char **argv)
{
	char link[64], target[4096];
	struct stat by_fd, by_path;
	int exposed = 0;

	(void)argv;
	for (int pid = 1; pid < 1 << 16; pid++) {
		ssize_t n;
		int fd;

		snprintf(link, sizeof(link), "/proc/%d/exe", pid);
		fd = open(link, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = readlink(link, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
		if (fstat(fd, &by_fd) == 0 &&
		    (stat(target, &by_path) < 0 || by_path.st_ino != by_fd.st_ino ||
		     by_path.st_dev != by_fd.st_dev)) {
			printf("pid %d: %s is a host file\n", pid, target);
			exposed = 1;
		}
		close(fd);
	}
	printf("exe-scan: %s\n", exposed ? "host executable reachable" : "ok");
	return exposed;
}

static const struct {
	const char *name;
	int (*run)(char **argv);
} attempts[] = {
	{ "init_module", try_init_module },
	{ "mount", try_mount },
	{ "pivot_root", try_pivot_root },
	{ "chroot-escape", try_chroot_escape },
	{ "ptrace", try_ptrace },
	{ "unshare-user", try_unshare_user },
	{ "drop", drop },
	{ "euid", euid },
	{ "tiocsti", try_tiocsti },
	{ "tiocsti-high", try_tiocsti_high },
	{ "settime", try_settime },
	{ "mknod-disk", try_mknod_disk },
	{ "open-by-handle", try_open_by_handle },
	{ "keyctl", try_keyctl },
	{ "personality", try_personality },
	{ "exe-scan", exe_scan },
};

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	for (size_t i = 0; argc > 1 && i < sizeof(attempts) / sizeof(attempts[0]); i++)
		if (strcmp(argv[1], attempts[i].name) == 0)
			return attempts[i].run(argv + 2);
	fprintf(stderr, "usage: probe ATTEMPT [ARG...]\n");
	return 2;
}
