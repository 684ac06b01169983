/*
 * resolv.h - the resolv.conf and hosts of a container with a network of
 * its own, written in its state directory for run to bind-mount over
 * /etc/resolv.conf and /etc/hosts (as Docker does).  The host's
 * nameservers are used, but not 127.x ones (the host's own resolver,
 * unreachable from another network namespace).
 *
 * Read: resolv.conf(5), hosts(5).  Used by: net-bridge.
 */
#ifndef MINIDOCK_RESOLV_H
#define MINIDOCK_RESOLV_H

#include <stddef.h>
#include <stdint.h>

/* In container NAME's state directory DIR, $MINIDOCK_RUN_DIR/NAME (made
 * if need be): DIR/resolv.conf (the nameservers DNS, or the host's) and
 * DIR/hosts (localhost, and NAME at ADDR, host byte order).  -1 with
 * errno. */
int resolv_write(const char *name, uint32_t addr, char **dns, size_t ndns);
/* Remove those two files, and DIR if nothing else is left there. */
void resolv_remove(const char *name);

#endif
