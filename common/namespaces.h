/*
 * namespaces.h - the eight kinds of namespaces(7) as a table (the option
 * that creates one, its file in /proc/PID/ns/, its clone flag), the
 * clone3(2) call that starts a child in new ones, and the way into the
 * namespaces of a running process (setns(2), as nsenter -a and docker
 * exec do: ns-enter --target).  Used by ns-enter.
 */
#ifndef MINIDOCK_NAMESPACES_H
#define MINIDOCK_NAMESPACES_H

#include <linux/sched.h>        /* struct clone_args, CLONE_NEW* */
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

struct namespace {
	const char *option;     /* "userns", "pid", ... */
	const char *file;       /* "user": /proc/PID/ns/user */
	int flag;               /* CLONE_NEWUSER */
	const char *flag_name;  /* "CLONE_NEWUSER" */
};

#define N_NAMESPACES 8
/* In the order --target joins them: see namespaces.c. */
extern const struct namespace namespaces[N_NAMESPACES];

/* The entry of FLAG (one CLONE_NEW* bit); NULL when there is none. */
const struct namespace *namespace_of(int flag);
/* "CLONE_NEWPID|CLONE_NEWNS" for FLAGS, for the --verbose trace and
 * messages ("0" for none); a static buffer. */
const char *namespace_flag_names(int flags);

/* clone3(2) is fork(2) with a struct of flags; glibc has no wrapper. */
static inline pid_t clone3(struct clone_args *args, size_t size)
{
	return (pid_t)syscall(SYS_clone3, args, size);
}

/* A new network namespace has only lo, and it is down: up with
 * ioctl(2) SIOCSIFFLAGS.  0 or -1 with errno. */
int loopback_up(void);

/*
 * ns-enter --target PID: the namespace files, root and working directory
 * of a running process are opened first (once in its mount namespace our
 * /proc is gone), then joined.  target_enter returns twice, as fork(2):
 *
 *   0 in the child, which has joined every namespace of PID, its root
 *     and working directory (setns(2), fchdir(2), chroot(2));
 *   1 in the calling process once the child has ended, with its exit
 *     code in *CODE (supervise(), which forwards signals meanwhile).
 *     The caller joined only PID's pid namespace, which decides where its
 *     next child goes, and stepped back out of it after the fork, so it
 *     stays on the host; unless that was refused (STUCK), because it had
 *     to join PID's user namespace first: any later child would then be
 *     born in the container.
 *
 * -1 with errno on failure, FAILED naming the step ("setns
 * /proc/42/ns/pid (CLONE_NEWPID)"); ESRCH when PID is gone.
 */
struct ns_target {
	pid_t pid;
	int ns[N_NAMESPACES];   /* one per namespaces[]; -1: ours already */
	int root, cwd;
	int own_pid_ns;         /* ours, to step back to after the fork */
	int stuck;
	char failed[96];
};

int target_enter(struct ns_target *t, pid_t pid, int *code);

#endif
