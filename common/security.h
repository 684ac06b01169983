/*
 * security.h - the protections a default container gets, as docker run
 * gives them: capabilities, no_new_privs, seccomp, masked /proc paths.
 * Used by ns-enter (and so by run).  See capabilities(7), seccomp(2),
 * prctl(2) PR_SET_NO_NEW_PRIVS.
 *
 * Order of use in ns-enter:
 *   security_defaults(&s);  then options: security_parse_cap / _opt
 *   ... namespaces, pivot_root, fresh /proc /sys /dev mounted ...
 *   security_mask_paths(&s);     inside the new root, after /proc and /sys
 *   ... fork COMMAND ...
 *   security_apply(&s);          last step before execve(2)
 */
#ifndef MINIDOCK_SECURITY_H
#define MINIDOCK_SECURITY_H

#include <stdint.h>

struct md_security {
	int privileged;     /* --privileged: all capabilities, no seccomp, no masking */
	int seccomp;        /* 1: the default filter; 0: seccomp=unconfined */
	int no_new_privs;   /* 1: PR_SET_NO_NEW_PRIVS (default) */
	uint64_t cap_add;   /* --cap-add, bit (1 << CAP_X) */
	uint64_t cap_drop;  /* --cap-drop */
};

void security_defaults(struct md_security *s);
/* "NET_ADMIN", "CAP_NET_ADMIN" or "ALL" added to MASK.  -1/EINVAL if unknown. */
int security_parse_cap(const char *name, uint64_t *mask);
/* --security-opt VALUE: "seccomp=unconfined", "no-new-privileges[=true|false]". */
int security_parse_opt(struct md_security *s, const char *opt);
/* Hide /proc/kcore and friends, make /proc/sys & co read-only.  Called in
 * the container's mount namespace with / being the container's root. */
int security_mask_paths(const struct md_security *s);
/* Capabilities, no_new_privs, seccomp, in that order.  The last call
 * before execve(2). */
int security_apply(const struct md_security *s);

#endif
