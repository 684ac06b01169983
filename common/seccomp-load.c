/*
 * seccomp-load.c - hand the default seccomp filter to the kernel.
 *
 * For Docker's default capabilities the BPF program was compiled once,
 * by make (common/gen/seccomp-bpf.c wrote it into build/seccomp-default.h
 * from the rules of common/seccomp.c): it is loaded as is with
 * seccomp(2) SECCOMP_SET_MODE_FILTER, no libseccomp involved.  Any other
 * capability set changes the rules, so libseccomp compiles them now.
 * See seccomp(2), and the comment at the top of common/seccomp.c.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "minidock.h"
#include "security.h"
#include "seccomp-default.h"   /* generated in $(BUILD) by make */

_Static_assert(SECCOMP_DEFAULT_CAPS == SECURITY_DEFAULT_CAPS,
	       "build/seccomp-default.h was made for other capabilities");

/* MINIDOCK_SECCOMP_COMPILE=1 compiles even the default filter now, so a
 * test can check that both ways give the kernel the same program. */
static int compile_forced(void)
{
	const char *v = getenv("MINIDOCK_SECCOMP_COMPILE");

	return v && strcmp(v, "1") == 0;
}

/* Flags 0: no TSYNC, no LOG, as libseccomp's seccomp_load with its
 * defaults; glibc has no seccomp(2) wrapper. */
static int load_precompiled(void)
{
	struct sock_fprog prog = {
		.len = sizeof(seccomp_default_bpf) / sizeof(seccomp_default_bpf[0]),
		.filter = (struct sock_filter *)seccomp_default_bpf,
	};

	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

int seccomp_load_default(uint64_t caps, const char **how)
{
	/* speed: compiled once by make, not at each start; see bench/README.md, ns-enter */
	if (caps == SECCOMP_DEFAULT_CAPS && !compile_forced()) {
		*how = "compiled by make (build/seccomp-default.h)";
		if (load_precompiled() < 0)
			return -1;
		return SECCOMP_DEFAULT_RULES;
	}
	*how = caps == SECCOMP_DEFAULT_CAPS
		? "compiled now by libseccomp (MINIDOCK_SECCOMP_COMPILE=1)"
		: "compiled now by libseccomp (capabilities differ from the default)";
	return seccomp_load_compiled(caps);
}
