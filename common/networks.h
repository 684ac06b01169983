/*
 * networks.h - user-defined networks, as `docker network create` makes
 * them: each is a bridge of its own (a separate L2 segment) and a subnet
 * of its own, recorded in $MINIDOCK_LIB_DIR/networks/NAME.json:
 *
 *   { "name": "app", "bridge": "md-app", "subnet": "10.214.0.0/16",
 *     "created": 1764850000 }
 *
 * The record is the network: `network create` writes it (a new file
 * renamed into place), net-bridge makes the bridge when the network's
 * first container starts and removes it with the last one, as it does
 * for minidock0; `network rm` deletes the record.  Changes are made
 * under flock(2) of networks/lock, taken after the leases' lock when
 * both are needed (net/lock first, always: no deadlock).
 *
 * No netlink and no nftables here (run links this statically).
 *
 * Read: flock(2), rename(2).  Used by: network, net-bridge, run, container.
 */
#ifndef MINIDOCK_NETWORKS_H
#define MINIDOCK_NETWORKS_H

#include <stdint.h>
#include <stdio.h>

#include "store.h"

struct network {
	char *name, *bridge, *subnet;
	long long created;
};

/* Is NETWORK (run's --network) one with a bridge: "bridge" (minidock0)
 * or a user-defined one, not "none" or "host"? */
int network_is_bridged(const char *network);
/* Is NETWORK a user-defined one (not bridge, none or host)? */
int network_is_user_defined(const char *network);

/* The bridge of network NAME: "md-NAME", or "md-" and a hash of NAME
 * when that would not fit in an interface name (15 characters); malloc'd. */
char *network_bridge_name(const char *name);

/* flock(2) networks/lock (LOCK_EX, LOCK_SH), made if need be: the fd
 * (close it to unlock), or -1 with errno. */
int networks_lock(int how);

/* Read NAME.json into N: 0; -1 with errno ENOENT (no such network),
 * EINVAL (damaged: a hand-edited file is never trusted). */
int network_load(const char *name, struct network *n);
/* Is network NAME recorded (and readable)? */
int network_exists(const char *name);
/* The network whose bridge is BRIDGE: 0, or -1 with errno ENOENT. */
int network_by_bridge(const char *bridge, struct network *n);
/* Write N to NAME.json (NAME.json.new renamed over it).  0 or -1/errno. */
int network_save(const struct network *n);
/* Delete NAME.json.  0 or -1 with errno. */
int network_delete(const char *name);
/* The names of every network, sorted.  0 or -1 with errno. */
int network_names(struct strv *names);
void network_free(struct network *n);

/* `network inspect`: N as a JSON object, CONTAINERS (may be NULL) the
 * names of its containers, each with ADDRESSES[i] ("10.214.0.2/16"). */
void network_print_json(const struct network *n, char *const *containers,
			char *const *addresses, FILE *out);

#endif
