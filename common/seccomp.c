/*
 * seccomp.c - the default seccomp filter of a container, in the spirit of
 * Docker's default profile (moby's profiles/seccomp/default.json).
 *
 * seccomp(2) lets a process hand the kernel a small BPF program that is
 * run on every system call it (and every child) makes from then on; the
 * program may let the call through, or make it fail with an errno
 * without running it.  libseccomp (seccomp_init(3), seccomp_rule_add(3))
 * writes that BPF program from a list of rules.
 *
 * Docker lists what is allowed; for the classroom we list what is denied,
 * which reads as a list of what a container must never do.  Calls from
 * another architecture (32-bit int 0x80, x32) could reach the same kernel
 * code under other numbers: libseccomp's filter kills the process on any
 * architecture it was not told about, so the list cannot be bypassed so.
 *
 * The BPF program is plain data: an array of struct sock_filter
 * instructions (load the syscall number, compare, jump, return ALLOW or
 * ERRNO(EPERM)), the first of which check the architecture.  After make,
 * build/seccomp-default.h shows it, one instruction a line: for Docker's
 * default capabilities it is compiled there once and loaded as is
 * (seccomp-load.c); with --cap-add or --cap-drop the rules differ and
 * libseccomp compiles them at start (seccomp_load_compiled).  ns-enter
 * --verbose says which (why make does it: bench/README.md, ns-enter).
 */
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "minidock.h"
#include "security.h"

#define NONE (-1)   /* no capability makes the call harmless */

/* Denied unless the container keeps capability UNLESS (as Docker does). */
struct denied {
	const char *syscall;
	int unless;
	const char *why;
};

static const struct denied denied[] = {
	/* code into the kernel, or the kernel replaced */
	{ "init_module", NONE, "load a kernel module" },
	{ "finit_module", NONE, "load a kernel module" },
	{ "delete_module", NONE, "unload a kernel module" },
	{ "create_module", NONE, "obsolete module call" },
	{ "query_module", NONE, "obsolete module call" },
	{ "get_kernel_syms", NONE, "obsolete module call" },
	{ "kexec_load", NONE, "boot another kernel" },
	{ "kexec_file_load", NONE, "boot another kernel" },
	{ "bpf", CAP_SYS_ADMIN, "load BPF programs into the kernel" },
	{ "perf_event_open", CAP_SYS_ADMIN, "observe other processes and the kernel" },
	/* the filesystem tree: mounts would undo pivot_root and the masks */
	{ "mount", CAP_SYS_ADMIN, "mount a filesystem" },
	{ "umount", CAP_SYS_ADMIN, "unmount (and uncover) a filesystem" },
	{ "umount2", CAP_SYS_ADMIN, "unmount (and uncover) a filesystem" },
	{ "pivot_root", CAP_SYS_ADMIN, "change the root filesystem" },
	{ "open_tree", CAP_SYS_ADMIN, "new mount API" },
	{ "move_mount", CAP_SYS_ADMIN, "new mount API" },
	{ "fsopen", CAP_SYS_ADMIN, "new mount API" },
	{ "fsconfig", CAP_SYS_ADMIN, "new mount API" },
	{ "fsmount", CAP_SYS_ADMIN, "new mount API" },
	{ "fspick", CAP_SYS_ADMIN, "new mount API" },
	{ "mount_setattr", CAP_SYS_ADMIN, "new mount API" },
	{ "swapon", CAP_SYS_ADMIN, "use a file as the host's swap" },
	{ "swapoff", CAP_SYS_ADMIN, "remove the host's swap" },
	{ "quotactl", CAP_SYS_ADMIN, "change disk quotas" },
	{ "quotactl_fd", CAP_SYS_ADMIN, "change disk quotas" },
	{ "fanotify_init", CAP_SYS_ADMIN, "watch the whole filesystem" },
	{ "lookup_dcookie", CAP_SYS_ADMIN, "kernel profiling" },
	{ "nfsservctl", NONE, "obsolete NFS server control" },
	{ "sysfs", NONE, "obsolete" },
	{ "_sysctl", NONE, "obsolete" },
	{ "uselib", NONE, "obsolete" },
	{ "ustat", NONE, "obsolete" },
	/* file handles: reach any file of the host's disk by number ("shocker") */
	{ "open_by_handle_at", NONE, "open a host file by its handle" },
	{ "name_to_handle_at", CAP_SYS_ADMIN, "get a file's handle" },
	/* namespaces: leave the container's, or make new ones to regain
	 * capabilities in a user namespace (clone and unshare: see below) */
	{ "setns", CAP_SYS_ADMIN, "join another namespace" },
	/* the host as a whole */
	{ "reboot", CAP_SYS_BOOT, "reboot the host" },
	{ "acct", CAP_SYS_PACCT, "turn on process accounting" },
	{ "settimeofday", CAP_SYS_TIME, "set the host's clock" },
	{ "clock_settime", CAP_SYS_TIME, "set the host's clock" },
	{ "clock_adjtime", CAP_SYS_TIME, "adjust the host's clock" },
	{ "adjtimex", CAP_SYS_TIME, "adjust the host's clock" },
	{ "syslog", CAP_SYSLOG, "read or clear the kernel log" },
	{ "iopl", CAP_SYS_RAWIO, "direct hardware port access" },
	{ "ioperm", CAP_SYS_RAWIO, "direct hardware port access" },
	{ "vm86", NONE, "32-bit only" },
	{ "vm86old", NONE, "32-bit only" },
	/* keyrings are not namespaced: the host's keys would be reachable */
	{ "keyctl", NONE, "use the kernel keyring" },
	{ "add_key", NONE, "use the kernel keyring" },
	{ "request_key", NONE, "use the kernel keyring" },
	/* other processes' memory (ptrace(2) itself stays allowed, as in
	 * Docker since kernel 4.8: without CAP_SYS_PTRACE it reaches only
	 * the container's own processes, and debuggers need it) */
	{ "process_vm_readv", CAP_SYS_PTRACE, "read another process's memory" },
	{ "process_vm_writev", CAP_SYS_PTRACE, "write another process's memory" },
	{ "kcmp", CAP_SYS_PTRACE, "compare kernel objects of processes" },
	/* a large kernel attack surface Docker also turned off (moby 25) */
	{ "userfaultfd", NONE, "page faults in user space (exploit helper)" },
	{ "io_uring_setup", NONE, "io_uring" },
	{ "io_uring_enter", NONE, "io_uring" },
	{ "io_uring_register", NONE, "io_uring" },
};

/* The flags of clone(2) and unshare(2) that make a new namespace. */
static const unsigned long ns_flags[] = {
	CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
	CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP,
};

/*
 * Device nodes: with CAP_MKNOD, root of the container could make the
 * host's /dev/vda or /dev/input/event0 and open them.  Docker lets mknod
 * through and denies the open in the devices cgroup; we refuse the node
 * itself (fifos and sockets stay allowed), which holds whatever the
 * cgroup setup.
 */
static const unsigned long device_types[] = { S_IFBLK, S_IFCHR };

/*
 * personality(2) flags that weaken the kernel's own protections: no
 * address randomisation, executable data, a mapping at address 0.
 * 0xffffffff only asks the current value, so bit 31 must be clear for the
 * rule to match (no real personality value has it).
 */
static const unsigned long bad_personality[] = {
	0x0040000,  /* ADDR_NO_RANDOMIZE */
	0x0100000,  /* MMAP_PAGE_ZERO */
	0x0200000,  /* ADDR_COMPAT_LAYOUT */
	0x0400000,  /* READ_IMPLIES_EXEC */
};

/* SCMP_A0() and friends, with every field set (clang warns otherwise). */
static struct scmp_arg_cmp arg_cmp(unsigned int arg, enum scmp_compare op,
				   uint64_t a, uint64_t b)
{
	struct scmp_arg_cmp cmp = { .arg = arg, .op = op, .datum_a = a, .datum_b = b };

	return cmp;
}

static int kept(uint64_t caps, int cap)
{
	return cap != NONE && (caps & (UINT64_C(1) << cap));
}

/* seccomp_rule_add(3) returns -errno. */
static int add(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned count,
	       const struct scmp_arg_cmp *cmp, int *rules)
{
	int rc = seccomp_rule_add_array(ctx, action, nr, count, cmp);

	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	(*rules)++;
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, uint64_t caps, int *rules)
{
	const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
	size_t i;

	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		int nr = seccomp_syscall_resolve_name(denied[i].syscall);

		/* Unknown on this architecture (vm86 on x86_64): nothing to deny. */
		if (nr == __NR_SCMP_ERROR || nr < 0)
			continue;
		if (kept(caps, denied[i].unless))
			continue;
		if (add(ctx, eperm, nr, 0, NULL, rules) < 0)
			return -1;
	}
	if (!kept(caps, CAP_SYS_ADMIN)) {
		/* One rule per flag: libseccomp compares an argument only once
		 * per rule, and "(flags & MASK) != 0" is "some bit is set". */
		for (i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++) {
			struct scmp_arg_cmp has_flag = arg_cmp(0, SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]);

			if (add(ctx, eperm, SCMP_SYS(unshare), 1, &has_flag, rules) < 0 ||
			    add(ctx, eperm, SCMP_SYS(clone), 1, &has_flag, rules) < 0)
				return -1;
		}
		/* clone3(2) passes its flags in a struct a filter cannot read:
		 * ENOSYS makes glibc fall back to clone(2), filtered above. */
		if (add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL, rules) < 0)
			return -1;
	}
	for (i = 0; i < sizeof(bad_personality) / sizeof(bad_personality[0]); i++) {
		struct scmp_arg_cmp has_flag = arg_cmp(0, SCMP_CMP_MASKED_EQ,
			bad_personality[i] | 0x80000000UL, bad_personality[i]);

		if (add(ctx, eperm, SCMP_SYS(personality), 1, &has_flag, rules) < 0)
			return -1;
	}
	for (i = 0; i < sizeof(device_types) / sizeof(device_types[0]); i++) {
		struct scmp_arg_cmp mknod_type = arg_cmp(1, SCMP_CMP_MASKED_EQ, S_IFMT, device_types[i]);
		struct scmp_arg_cmp mknodat_type = arg_cmp(2, SCMP_CMP_MASKED_EQ, S_IFMT, device_types[i]);

		if (add(ctx, eperm, SCMP_SYS(mknod), 1, &mknod_type, rules) < 0 ||
		    add(ctx, eperm, SCMP_SYS(mknodat), 1, &mknodat_type, rules) < 0)
			return -1;
	}
	/* TIOCSTI pushes characters into a terminal's input: a container
	 * sharing the host's terminal could type commands into the host's
	 * shell after it exits (CVE-2017-5226).  The kernel reads the
	 * request as 32 bits: compare only those, or TIOCSTI with a high
	 * bit set would slip through. */
	struct scmp_arg_cmp tiocsti = arg_cmp(1, SCMP_CMP_MASKED_EQ, 0xffffffffUL, TIOCSTI);
	return add(ctx, eperm, SCMP_SYS(ioctl), 1, &tiocsti, rules);
}

scmp_filter_ctx seccomp_default_filter(uint64_t caps, int *rules)
{
	scmp_filter_ctx ctx;
	int rc, saved;

	*rules = 0;
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		errno = ENOMEM;
		return NULL;
	}
	/* no_new_privs is the caller's decision (--security-opt), not
	 * libseccomp's, which would otherwise set it on seccomp_load. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc < 0)
		errno = -rc;
	if (rc < 0 || add_rules(ctx, caps, rules) < 0) {
		saved = errno;
		seccomp_release(ctx);
		errno = saved;
		return NULL;
	}
	return ctx;
}

int seccomp_load_compiled(uint64_t caps)
{
	scmp_filter_ctx ctx;
	int rules, rc;

	ctx = seccomp_default_filter(caps, &rules);
	if (!ctx)
		return -1;
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return rules;
}
