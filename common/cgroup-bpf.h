/*
 * cgroup-bpf.h - which devices a cgroup's processes may open: docker's
 * default list, and on cgroup v2 the BPF program that enforces it
 * (bpf(2), BPF_PROG_TYPE_CGROUP_DEVICE).  Used by cg-limit --devices.
 */
#ifndef MINIDOCK_CGROUP_BPF_H
#define MINIDOCK_CGROUP_BPF_H

#include <stddef.h>

/*
 * --devices container: docker's default list (runc's AllowedDevices), in
 * the syntax of v1's devices.allow, "TYPE MAJOR:MINOR ACCESS", NULL at the
 * end.  Everything else is denied.
 */
extern const char *const cgroup_container_devices[];

/*
 * cgroup v2: load a BPF program that allows the devices of RULES (the
 * syntax above) and denies the others, and attach it to the cgroup
 * directory DIR.  The program goes when the cgroup goes.  -1 with errno,
 * the message in ERROR (SIZE bytes).
 */
int cgroup_bpf_allow_devices(const char *dir, const char *const *rules,
			     char *error, size_t size);

#endif
