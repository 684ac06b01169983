/*
 * security.h - the protections a default container gets, as docker run
 * gives them: capabilities, no_new_privs, seccomp, masked /proc paths.
 * Used by ns-enter (and so by run).  See capabilities(7), seccomp(2),
 * prctl(2) PR_SET_NO_NEW_PRIVS, proc(5).
 *
 * Order of use in ns-enter:
 *   security_defaults(&s);  then options: security_parse_cap / _opt
 *   ... namespaces, pivot_root, fresh /proc /sys /dev mounted ...
 *   security_mask_paths(&s);     inside the new root, after /proc and /sys
 *   ... fork COMMAND ...
 *   security_apply(&s);          last step before execve(2)
 *
 * On failure both return -1 with errno set; security_last_step() then
 * names the step that failed ("mount /dev/null on /proc/kcore"), so the
 * tool can print "ns-enter: mount /dev/null on /proc/kcore: why".
 */
#ifndef MINIDOCK_SECURITY_H
#define MINIDOCK_SECURITY_H

#include <linux/capability.h>
#include <seccomp.h>
#include <stdint.h>

struct md_security {
	int privileged;     /* --privileged: all capabilities, no seccomp, no masking */
	int seccomp;        /* 1: the default filter; 0: seccomp=unconfined */
	int no_new_privs;   /* 1: PR_SET_NO_NEW_PRIVS (default) */
	uint64_t cap_add;   /* --cap-add, bit (1 << CAP_X) */
	uint64_t cap_drop;  /* --cap-drop (applies even with --privileged) */
	int mask_paths;     /* 1: mask /proc/kcore & co (default); 0: systempaths=unconfined */
};

void security_defaults(struct md_security *s);
/* "NET_ADMIN", "CAP_NET_ADMIN", "net_admin" or "ALL" added to MASK.
 * -1/EINVAL if unknown. */
int security_parse_cap(const char *name, uint64_t *mask);
/* --security-opt VALUE: "seccomp=unconfined", "no-new-privileges[=true|false]"
 * (also with ':' as Docker accepts), "systempaths=unconfined".
 * -1/EINVAL otherwise (seccomp=PROFILE.json is not supported). */
int security_parse_opt(struct md_security *s, const char *opt);
/* Hide /proc/kcore and friends, make /proc/sys & co and the whole /sys
 * tree read-only, and the root mount nodev (device nodes of the image
 * do not open; /dev is a mount of its own).  Called in the container's mount namespace with / being
 * the container's root, /proc a fresh procfs and /sys a fresh sysfs (a
 * path that is missing is skipped; one that is reached through a symlink
 * or lies on another filesystem is refused). */
int security_mask_paths(const struct md_security *s);
/* Every fd from 3 up close-on-exec, capability bounding set, ambient
 * set, no_new_privs, seccomp, then
 * capset(2) of effective/permitted/inheritable, in that order (the filter
 * is loaded while CAP_SYS_ADMIN is still held, so it also loads when
 * no_new_privs is off).  The last call before execve(2).
 * Best called while still root, before setuid(2) to a --user: the
 * bounding set needs CAP_SETPCAP to shrink (CAP_SETUID and CAP_SETGID
 * stay, unless dropped, so the switch still works after it).  Called
 * after setuid(2), it leaves the bounding set as is when no_new_privs is
 * on (no execve can raise a capability then), and fails with EPERM when
 * it is off. */
int security_apply(const struct md_security *s);

/* The step security_mask_paths/_apply was doing when it failed. */
const char *security_last_step(void);
/* "CHOWN" for CAP_CHOWN; NULL when unknown. */
const char *security_cap_name(int cap);
/* What docker run keeps (moby's oci/caps/defaults.go): 14 capabilities,
 * bit (1 << CAP_X).  Also the set the default seccomp filter is compiled
 * for once, by make (common/seccomp.c). */
#define SECURITY_DEFAULT_CAPS ( \
	1ULL << CAP_CHOWN | 1ULL << CAP_DAC_OVERRIDE | 1ULL << CAP_FSETID | \
	1ULL << CAP_FOWNER | 1ULL << CAP_MKNOD | 1ULL << CAP_NET_RAW | \
	1ULL << CAP_SETGID | 1ULL << CAP_SETUID | 1ULL << CAP_SETFCAP | \
	1ULL << CAP_SETPCAP | 1ULL << CAP_NET_BIND_SERVICE | \
	1ULL << CAP_SYS_CHROOT | 1ULL << CAP_KILL | 1ULL << CAP_AUDIT_WRITE)

/* The capabilities a container keeps: Docker's default list, or all
 * with privileged, plus cap_add, minus cap_drop. */
uint64_t security_kept_caps(const struct md_security *s);

/* common/seccomp-load.c: load the default filter for a container
 * keeping CAPS (a syscall a kept capability allows is not denied): the
 * program make compiled when CAPS is SECURITY_DEFAULT_CAPS, else one
 * libseccomp compiles now.  Returns the number of rules loaded, or -1
 * with errno; *HOW says which ("compiled by make (...)"). */
int seccomp_load_default(uint64_t caps, const char **how);

/* common/seccomp.c: the default filter's rules for CAPS, compiled now by
 * libseccomp.  seccomp_default_filter returns a libseccomp context (to
 * load or export, then seccomp_release) and the number of rules in
 * *RULES; NULL with errno on failure. */
scmp_filter_ctx seccomp_default_filter(uint64_t caps, int *rules);
int seccomp_load_compiled(uint64_t caps);

#endif
