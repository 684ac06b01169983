/*
 * resolv.h - the resolv.conf and hosts of a container with a network of
 * its own, written in its state directory for run to bind-mount over
 * /etc/resolv.conf and /etc/hosts (as Docker does).  The host's
 * nameservers are used, but not 127.x ones (the host's own resolver,
 * unreachable from another network namespace).
 *
 * On a user-defined network, containers find each other by name
 * (networks.h): see resolv_share_names.
 *
 * Read: resolv.conf(5), hosts(5).  Used by: net-bridge.
 */
#ifndef MINIDOCK_RESOLV_H
#define MINIDOCK_RESOLV_H

#include <stddef.h>
#include <stdint.h>

#include "leases.h"

/* What a container adds to hosts files: its --alias names (for the other
 * containers of its network) and its --add-host lines (for itself). */
struct resolv_names {
	char **aliases;
	size_t naliases;
	char **add_hosts;               /* "NAME:IP" */
	size_t nadd_hosts;
};

/* In container NAME's state directory DIR, $MINIDOCK_RUN_DIR/NAME (made
 * if need be): DIR/resolv.conf (the nameservers DNS, or the host's),
 * DIR/aliases and DIR/hosts.add (NM, kept for resolv_share_names), and
 * DIR/hosts (localhost, NAME and its aliases at ADDR, host byte order,
 * and the --add-host lines).  -1 with errno. */
int resolv_write(const char *name, uint32_t addr, char **dns, size_t ndns,
		 const struct resolv_names *nm);
/*
 * Name resolution on a user-defined network: rewrite the hosts file of
 * every container of L on BRIDGE so that it lists all the others, by
 * name and alias; nothing when BRIDGE is no network's (networks.h).
 * Called under the leases' lock when one starts and when one goes.  -1
 * with errno for the first file that failed.
 */
int resolv_share_names(const struct leases *L, const char *bridge);
/* Remove those files, and DIR if nothing else is left there. */
void resolv_remove(const char *name);

#endif
