/*
 * cgroup-join.h - container exec joins the cgroups of a running container,
 * as docker exec does (cgroups(7)).  Used by container.
 */
#ifndef MINIDOCK_CGROUP_JOIN_H
#define MINIDOCK_CGROUP_JOIN_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Move this process into the cgroups that cg-limit --name NAME made for
 * the container whose PID 1 is INIT: in every hierarchy where INIT is in
 * one and we are not.  -1 with errno, the message in ERROR (SIZE bytes).
 */
int cgroup_join_container(pid_t init, const char *name, char *error, size_t size);

#endif
