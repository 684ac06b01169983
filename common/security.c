/*
 * security.c - what a default container may not do, decided as docker run
 * decides it.  Namespaces hide the host; these close what they leave open:
 *
 *   - capabilities(7): root in the container keeps only Docker's 14
 *     capabilities (no CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_PTRACE...),
 *     in every set, so no execve(2) can bring the others back;
 *   - prctl(2) PR_SET_NO_NEW_PRIVS: a setuid binary of the image gains
 *     nothing;
 *   - seccomp(2): a filter refuses the system calls a container never
 *     needs (common/seccomp.c);
 *   - proc(5): /proc/kcore, /proc/keys... hidden, /proc/sys and /sys
 *     read-only, because procfs and sysfs show the host's kernel.
 *
 * See security.h for when ns-enter calls each function.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "minidock.h"
#include "security.h"

#define CAP_BIT(c) (UINT64_C(1) << (c))

/* capabilities(7), in the kernel's order: the index is the number. */
static const char *const cap_names[] = {
	[CAP_CHOWN] = "CHOWN",
	[CAP_DAC_OVERRIDE] = "DAC_OVERRIDE",
	[CAP_DAC_READ_SEARCH] = "DAC_READ_SEARCH",
	[CAP_FOWNER] = "FOWNER",
	[CAP_FSETID] = "FSETID",
	[CAP_KILL] = "KILL",
	[CAP_SETGID] = "SETGID",
	[CAP_SETUID] = "SETUID",
	[CAP_SETPCAP] = "SETPCAP",
	[CAP_LINUX_IMMUTABLE] = "LINUX_IMMUTABLE",
	[CAP_NET_BIND_SERVICE] = "NET_BIND_SERVICE",
	[CAP_NET_BROADCAST] = "NET_BROADCAST",
	[CAP_NET_ADMIN] = "NET_ADMIN",
	[CAP_NET_RAW] = "NET_RAW",
	[CAP_IPC_LOCK] = "IPC_LOCK",
	[CAP_IPC_OWNER] = "IPC_OWNER",
	[CAP_SYS_MODULE] = "SYS_MODULE",
	[CAP_SYS_RAWIO] = "SYS_RAWIO",
	[CAP_SYS_CHROOT] = "SYS_CHROOT",
	[CAP_SYS_PTRACE] = "SYS_PTRACE",
	[CAP_SYS_PACCT] = "SYS_PACCT",
	[CAP_SYS_ADMIN] = "SYS_ADMIN",
	[CAP_SYS_BOOT] = "SYS_BOOT",
	[CAP_SYS_NICE] = "SYS_NICE",
	[CAP_SYS_RESOURCE] = "SYS_RESOURCE",
	[CAP_SYS_TIME] = "SYS_TIME",
	[CAP_SYS_TTY_CONFIG] = "SYS_TTY_CONFIG",
	[CAP_MKNOD] = "MKNOD",
	[CAP_LEASE] = "LEASE",
	[CAP_AUDIT_WRITE] = "AUDIT_WRITE",
	[CAP_AUDIT_CONTROL] = "AUDIT_CONTROL",
	[CAP_SETFCAP] = "SETFCAP",
	[CAP_MAC_OVERRIDE] = "MAC_OVERRIDE",
	[CAP_MAC_ADMIN] = "MAC_ADMIN",
	[CAP_SYSLOG] = "SYSLOG",
	[CAP_WAKE_ALARM] = "WAKE_ALARM",
	[CAP_BLOCK_SUSPEND] = "BLOCK_SUSPEND",
	[CAP_AUDIT_READ] = "AUDIT_READ",
	[CAP_PERFMON] = "PERFMON",
	[CAP_BPF] = "BPF",
	[CAP_CHECKPOINT_RESTORE] = "CHECKPOINT_RESTORE",
};
#define N_CAP_NAMES ((int)(sizeof(cap_names) / sizeof(cap_names[0])))

/* What docker run keeps: see security.h. */
static const uint64_t docker_default_caps = SECURITY_DEFAULT_CAPS;

/*
 * Docker's masked paths (moby's oci/defaults.go): they show the host's
 * kernel memory, keyrings, timers and hardware.  A file gets /dev/null
 * bound over it, a directory an empty read-only tmpfs.
 */
static const char *const masked_paths[] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	"/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap",
};

/* Readable, but writing them would change the host's kernel. */
static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static char last_step[256];

static void step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void step(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_step, sizeof(last_step), fmt, ap);
	va_end(ap);
}

const char *security_last_step(void)
{
	return last_step[0] ? last_step : "security";
}

const char *security_cap_name(int cap)
{
	if (cap < 0 || cap >= N_CAP_NAMES)
		return NULL;
	return cap_names[cap];
}

void security_defaults(struct md_security *s)
{
	memset(s, 0, sizeof(*s));
	s->seccomp = 1;
	s->no_new_privs = 1;
	s->mask_paths = 1;
}

int security_parse_cap(const char *name, uint64_t *mask)
{
	if (strncasecmp(name, "CAP_", 4) == 0)
		name += 4;
	if (strcasecmp(name, "ALL") == 0) {
		*mask = ~UINT64_C(0);
		return 0;
	}
	for (int cap = 0; cap < N_CAP_NAMES; cap++) {
		if (strcasecmp(name, cap_names[cap]) == 0) {
			*mask |= CAP_BIT(cap);
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

/* "true", "false" or nothing (true).  -1 otherwise. */
static int parse_bool_suffix(const char *rest)
{
	if (*rest == '\0')
		return 1;
	if (*rest != '=' && *rest != ':')
		return -1;
	rest++;
	if (strcmp(rest, "true") == 0)
		return 1;
	if (strcmp(rest, "false") == 0)
		return 0;
	return -1;
}

int security_parse_opt(struct md_security *s, const char *opt)
{
	static const char nnp[] = "no-new-privileges";
	int value;

	if (strcmp(opt, "seccomp=unconfined") == 0 || strcmp(opt, "seccomp:unconfined") == 0) {
		s->seccomp = 0;
		return 0;
	}
	if (strcmp(opt, "systempaths=unconfined") == 0) {
		s->mask_paths = 0;
		return 0;
	}
	if (strncmp(opt, nnp, sizeof(nnp) - 1) == 0) {
		value = parse_bool_suffix(opt + sizeof(nnp) - 1);
		if (value >= 0) {
			s->no_new_privs = value;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

uint64_t security_kept_caps(const struct md_security *s)
{
	uint64_t keep = s->privileged ? ~UINT64_C(0) : docker_default_caps;

	return (keep | s->cap_add) & ~s->cap_drop;
}

/* ---- masked and read-only paths ---- */

/*
 * Open PATH without following any symlink, not even in its directories
 * (openat2(2) RESOLVE_NO_SYMLINKS): an image may have made /proc or
 * /dev/null a symlink to somewhere else (CVE-2023-28642, CVE-2025-31133),
 * and we must mount over the real thing, never where a symlink points.
 */
static int open_nofollow(const char *path)
{
	return openat2_resolve(AT_FDCWD, path, O_PATH, 0, RESOLVE_NO_SYMLINKS);
}

/* close(2) after a failure: the caller wants the failure's errno. */
static void close_keep_errno(int fd)
{
	int e = errno;

	close(fd);
	errno = e;
}

/* 1 if FD lies on a filesystem of type MAGIC, 0 if not, -1 on error. */
static int fd_on_fs(int fd, long magic)
{
	struct statfs st;

	if (fstatfs(fd, &st) < 0)
		return -1;
	return st.f_type == magic;
}

/* The fresh procfs at /proc or sysfs at /sys ns-enter mounted; 0 if the
 * container has none there (nothing of the host to hide then). */
static int fresh_fs_at(const char *path, long magic)
{
	int fd, on;

	step("open %s", path);
	fd = open_nofollow(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	on = fd_on_fs(fd, magic);
	close(fd);
	return on;
}

/* mount(2) accepts /proc/self/fd/N as a path: the file FD holds, so no
 * path is resolved a second time. */
static void fd_path(char *buf, size_t size, int fd)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
}

/* Open /dev/null, and check that it is the real one (char device 1:3). */
static int open_dev_null(void)
{
	struct stat st;
	int fd;

	step("open /dev/null");
	fd = open_nofollow("/dev/null");
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		close_keep_errno(fd);
		return -1;
	}
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
		close(fd);
		errno = ENODEV;
		return -1;
	}
	return fd;
}

/* Open a path of the lists above; -1/ENOENT when the kernel has none,
 * -1/EXDEV when it is not on procfs or sysfs as it should be. */
static int open_kernel_path(const char *path)
{
	long magic = strncmp(path, "/sys", 4) == 0 ? SYSFS_MAGIC : PROC_SUPER_MAGIC;
	int fd, on;

	step("open %s", path);
	fd = open_nofollow(path);
	if (fd < 0)
		return -1;
	on = fd_on_fs(fd, magic);
	if (on != 1) {
		close_keep_errno(fd);
		if (on == 0)
			errno = EXDEV;
		return -1;
	}
	return fd;
}

static int mask_path(const char *path, int null_fd)
{
	char target[32], source[32];
	struct stat st;
	int fd, rc;

	fd = open_kernel_path(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0) {
		close_keep_errno(fd);
		return -1;
	}
	fd_path(target, sizeof(target), fd);
	if (S_ISDIR(st.st_mode)) {
		step("mount(\"tmpfs\", \"%s\", MS_RDONLY)", path);
		rc = mount("tmpfs", target, "tmpfs",
			   MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0555");
	} else {
		step("mount(\"/dev/null\", \"%s\", MS_BIND)", path);
		fd_path(source, sizeof(source), null_fd);
		rc = mount(source, target, NULL, MS_BIND, NULL);
	}
	close_keep_errno(fd);
	if (rc < 0)
		return -1;
	vlog("%s", last_step);
	return 0;
}

/* mount -o remount,bind,ro, keeping every other flag of the mount: with
 * mount_setattr(2) only the read-only attribute changes. */
static int set_readonly(int fd, const char *path, unsigned int flags)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

	step("mount_setattr(\"%s\", MOUNT_ATTR_RDONLY%s)", path,
	     flags & AT_RECURSIVE ? ", AT_RECURSIVE" : "");
	if (mount_setattr(fd, "", AT_EMPTY_PATH | flags, &attr, sizeof(attr)) < 0)
		return -1;
	vlog("%s", last_step);
	return 0;
}

static int readonly_path(const char *path)
{
	char target[32];
	int fd, rc;

	fd = open_kernel_path(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	/* A bind mount of the path on itself: a mount of its own that can be
	 * made read-only without touching the rest of /proc. */
	fd_path(target, sizeof(target), fd);
	step("mount(\"%s\", \"%s\", MS_BIND)", path, path);
	rc = mount(target, target, NULL, MS_BIND | MS_REC, NULL);
	close_keep_errno(fd);
	if (rc < 0)
		return -1;
	vlog("%s", last_step);
	/* FD still holds the path under the new mount: open it again. */
	fd = open_kernel_path(path);
	if (fd < 0)
		return -1;
	rc = set_readonly(fd, path, AT_RECURSIVE);
	close_keep_errno(fd);
	return rc;
}

/* Docker mounts /sys read-only: kernfs checks no capability on most of
 * its files, so root of the container could otherwise write them.  The
 * whole tree, so a cgroupfs below /sys/fs/cgroup too (CVE-2022-0492). */
static int readonly_sys(void)
{
	int fd = open_kernel_path("/sys");
	int rc;

	if (fd < 0)
		return -1;
	rc = set_readonly(fd, "/sys", AT_RECURSIVE);
	close_keep_errno(fd);
	return rc;
}

/*
 * A device node shipped in the image (a copy of the host's /dev/vda, say)
 * must not open: the root mount gets MOUNT_ATTR_NODEV.  Only the root
 * mount itself: /dev, with its few harmless devices, is a mount of its
 * own, and so is every volume.  Docker relies on the devices cgroup for
 * this; a mount flag holds whatever the cgroup setup.
 */
static int root_nodev(void)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_NODEV };
	int fd, rc;

	step("open /");
	fd = open_nofollow("/");
	if (fd < 0)
		return -1;
	step("mount_setattr(\"/\", MOUNT_ATTR_NODEV)");
	rc = mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr));
	close_keep_errno(fd);
	if (rc < 0)
		return -1;
	vlog("%s", last_step);
	return 0;
}

int security_mask_paths(const struct md_security *s)
{
	int have_proc, have_sys, null_fd;
	size_t i;

	last_step[0] = '\0';
	if (s->privileged)
		return 0;
	if (root_nodev() < 0)
		return -1;
	if (!s->mask_paths)
		return 0;
	have_proc = fresh_fs_at("/proc", PROC_SUPER_MAGIC);
	have_sys = fresh_fs_at("/sys", SYSFS_MAGIC);
	if (have_proc < 0 || have_sys < 0)
		return -1;
	null_fd = open_dev_null();
	if (null_fd < 0)
		return -1;
	for (i = 0; i < sizeof(masked_paths) / sizeof(masked_paths[0]); i++) {
		const char *p = masked_paths[i];

		if (!(p[1] == 'p' ? have_proc : have_sys))
			continue;
		if (mask_path(p, null_fd) < 0) {
			close_keep_errno(null_fd);
			return -1;
		}
	}
	close(null_fd);
	for (i = 0; have_proc && i < sizeof(readonly_paths) / sizeof(readonly_paths[0]); i++)
		if (readonly_path(readonly_paths[i]) < 0)
			return -1;
	if (have_sys && readonly_sys() < 0)
		return -1;
	return 0;
}

/* ---- capabilities, no_new_privs, seccomp ---- */

/* "CHOWN,DAC_OVERRIDE,..." of MASK, for the --verbose trace. */
static void cap_list(char *buf, size_t size, uint64_t mask)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int cap = 0; cap < 64 && len < size; cap++) {
		const char *name = security_cap_name(cap);
		int n;

		if (!(mask & CAP_BIT(cap)))
			continue;
		if (name)
			n = snprintf(buf + len, size - len, "%s%s", len ? "," : "", name);
		else
			n = snprintf(buf + len, size - len, "%s%d", len ? "," : "", cap);
		if (n < 0)
			return;
		len += (size_t)n;
	}
	if (len == 0)
		snprintf(buf, size, "none");
}

static int has_effective(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return 0;
	return (data[cap / 32].effective >> (cap % 32)) & 1;
}

/*
 * The bounding set caps what any later execve(2) can give, even a setuid
 * or file-capability binary.  prctl(PR_CAPBSET_DROP) needs CAP_SETPCAP,
 * so it comes before capset(2).  The loop ends where the running kernel's
 * capabilities end (PR_CAPBSET_READ fails with EINVAL).
 */
static int drop_bounding_set(uint64_t keep, uint64_t *known, int may_skip)
{
	int dropped = 0, can_drop;
	int cap;

	/* After setuid(2) to a non-root user, CAP_SETPCAP is gone.  With
	 * no_new_privs no execve can raise a capability any more, so the
	 * bounding set no longer matters; without it, this is an error of
	 * the caller (see security.h). */
	can_drop = prctl(PR_CAPBSET_READ, CAP_SETPCAP, 0, 0, 0) == 1 && has_effective(CAP_SETPCAP);
	if (!can_drop && !may_skip) {
		step("prctl(PR_CAPBSET_DROP): no CAP_SETPCAP (security_apply after setuid?)");
		errno = EPERM;
		return -1;
	}
	*known = 0;
	for (cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;
			step("prctl(PR_CAPBSET_READ, %d)", cap);
			return -1;
		}
		*known |= CAP_BIT(cap);
		if ((keep & CAP_BIT(cap)) || !can_drop)
			continue;
		step("prctl(PR_CAPBSET_DROP, CAP_%s)", security_cap_name(cap) ? security_cap_name(cap) : "?");
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -1;
		dropped++;
	}
	if (can_drop)
		vlog("prctl(PR_CAPBSET_DROP) x%d: bounding set reduced", dropped);
	else
		vlog("bounding set left as is: no CAP_SETPCAP, and no_new_privs is set");
	return 0;
}

static int clear_ambient(void)
{
	step("prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -1;
	vlog("%s", last_step);
	return 0;
}

static int set_no_new_privs(void)
{
	step("prctl(PR_SET_NO_NEW_PRIVS, 1)");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	vlog("%s", last_step);
	return 0;
}

/*
 * Effective and permitted reduced to KEEP; inheritable emptied, so no
 * program with file capabilities can inherit one (CVE-2022-27650).
 * glibc has no capset(2) wrapper: the raw system call, version 3 (two
 * 32-bit words per set).
 */
static int set_capabilities(uint64_t keep)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	uint64_t permitted;
	char names[1024];

	step("capget()");
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -1;
	permitted = ((uint64_t)data[1].permitted << 32 | data[0].permitted) & keep;
	for (int i = 0; i < 2; i++) {
		data[i].effective = data[i].permitted = (uint32_t)(permitted >> (32 * i));
		data[i].inheritable = 0;
	}
	cap_list(names, sizeof(names), permitted);
	step("capset(effective=permitted=%s, inheritable=none)", names);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -1;
	vlog("%s", last_step);
	return 0;
}

static int load_seccomp(uint64_t keep)
{
	const char *how;
	int rules;

	step("seccomp(SECCOMP_SET_MODE_FILTER)");
	rules = seccomp_load_default(keep, &how);
	if (rules < 0)
		return -1;
	vlog("seccomp(SECCOMP_SET_MODE_FILTER): loaded %d rules "
	     "(EPERM for mount, unshare, init_module, keyctl, bpf...), %s", rules, how);
	return 0;
}

/*
 * No file descriptor of the runtime reaches COMMAND: a directory of the
 * host left open, then used as working directory (/proc/self/fd/N),
 * is outside pivot_root's reach (CVE-2024-21626).  Marked close-on-exec
 * rather than closed, so the caller's own descriptors stay usable until
 * execve(2).
 */
static int cloexec_from_3(void)
{
	step("close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)");
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return -1;
	vlog("%s", last_step);
	return 0;
}

int security_apply(const struct md_security *s)
{
	uint64_t keep = security_kept_caps(s);
	uint64_t known;

	last_step[0] = '\0';
	if (cloexec_from_3() < 0)
		return -1;
	if (drop_bounding_set(keep, &known, s->no_new_privs && !s->privileged) < 0)
		return -1;
	if (clear_ambient() < 0)
		return -1;
	if (s->no_new_privs && !s->privileged && set_no_new_privs() < 0)
		return -1;
	/* Before capset: without no_new_privs, loading a filter needs
	 * CAP_SYS_ADMIN, which the container is about to lose. */
	if (s->seccomp && !s->privileged && load_seccomp(keep & known) < 0)
		return -1;
	return set_capabilities(keep & known);
}
