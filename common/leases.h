/*
 * leases.h - which container networks exist: one line per container in
 * the text file $MINIDOCK_RUN_DIR/net/leases, read and changed only under
 * flock(2) of net/lock, so that concurrent net-bridge never hand out one
 * address twice.  A line:
 *
 *   NAME ADDRESS/PREFIX BRIDGE VETH PID STARTTIME [HOSTIP:HOSTPORT:PORT/PROTO]...
 *
 * PID and STARTTIME name the net-bridge that owns it (0: kept by --create
 * until --delete); a lease whose owner is gone is "dead", and reclaimed.
 * The file is replaced whole, by rename(2) of a new one: a crash leaves
 * the old file or the new one, never half of one.  Marker files beside
 * it say what net-bridge changed on the host, to put back (net_mark).
 *
 * Also the published ports of the command line (--publish), which leases
 * keep, and --list.  Functions return -1 with errno, or a message in WHY.
 *
 * Read: flock(2), rename(2), rtnetlink(7).  Used by: net-bridge.
 */
#ifndef MINIDOCK_LEASES_H
#define MINIDOCK_LEASES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/file.h>           /* LOCK_EX, LOCK_SH, for leases_lock */
#include <sys/types.h>

#include "rtnl.h"

/* --publish [HOSTIP:]HOSTPORT:PORT[/tcp|/udp] */
struct publish {
	uint32_t hostip;        /* host order; 0 = every address of the host */
	unsigned hostport, port;
	char proto[4];          /* "tcp" or "udp" */
};

int parse_publish(const char *s, struct publish *p);
/* "0.0.0.0:8080:80/tcp" */
void publish_str(const struct publish *p, char *buf, size_t size);
/* Do A and B want the same port of the host? */
int publish_clash(const struct publish *a, const struct publish *b);
/* Is a program of the host listening on P's port (our DNAT would silently
 * take it)?  1 yes, 0 no, -1 with errno. */
int publish_busy(const struct publish *p);

struct lease {
	char *name, *bridge, *veth;
	uint32_t addr;          /* host order */
	int prefix;
	pid_t pid;
	unsigned long long start;
	struct publish *pub;
	size_t npub;
};

struct leases {
	int lockfd;             /* net/lock, flock'ed; -1 when not held */
	struct lease *v;
	size_t n;
	size_t damaged;         /* lines that could not be read (dropped) */
};

/* ---- the file ---- */

/* $MINIDOCK_RUN_DIR/net/NAMESUFFIX (malloc'd): the leases, the lock, and
 * markers such as net/minidock0.ours (NAME "minidock0", SUFFIX ".ours"). */
char *net_state_path(const char *name, const char *suffix);
/* Lock (HOW: LOCK_EX to change them, LOCK_SH to read) and read the leases. */
int leases_lock(struct leases *L, int how);
/* Write them to net/leases.new, renamed over net/leases. */
int leases_save(struct leases *L);
/* Free them and release the lock. */
void leases_unlock(struct leases *L);
/* --list: one line each, or a JSON array. */
void leases_print(const struct leases *L, int json);

/* ---- one lease ---- */

/* A lease of NAME's network (strings and PUB copied), owned by OWNER (0:
 * kept by --create), whose start time is read now. */
struct lease lease_new(const char *name, const char *bridge, uint32_t addr, int prefix,
		       pid_t owner, const struct publish *pub, size_t npub);
/* Append L to the list, which takes its strings. */
void lease_add(struct leases *L, const struct lease *l);
struct lease *lease_find(const struct leases *L, const char *name);
void lease_drop(struct leases *L, const char *name);
void lease_free(struct lease *l);
/* The host end of NAME's veth pair: "veth-NAME", or a hash of NAME when
 * that would not fit in IFNAMSIZ (15 characters and a NUL); malloc'd. */
char *lease_veth_name(const char *name);
/* Is its owner still running (or is it kept by --create)? */
int lease_owner_alive(const struct lease *l);
/* The name of the first lease whose owner is gone (malloc'd), or NULL. */
char *lease_first_dead(const struct leases *L);
/* How many leases but L0 (which may be NULL) there are: on BRIDGE, or on
 * any bridge when BRIDGE is NULL.  Teardown asks: the last one goes? */
size_t leases_others(const struct leases *L, const struct lease *l0, const char *bridge);

/* ---- choosing a subnet and an address ---- */

/* Rarely used in labs and homes (Docker takes 172.17+, boxes 192.168.x). */
#define DEFAULT_SUBNET "10.213.0.0/16"

/* A subnet for BRIDGE (INDEX, or 0 when it does not exist yet), into
 * CIDR: that of its containers, else the first of a few private ones no
 * route of the host overlaps (R asks), else the default. */
int lease_choose_subnet(const struct leases *L, const char *bridge, struct rtnl *r,
			int index, char cidr[32]);
/* Would WANT (its name aside) clash with a lease: WANT->addr (unless 0)
 * taken, its subnet NET/WANT->prefix overlapping another, its bridge
 * carrying another subnet, a host port published twice?  1 and WHY. */
int lease_conflict(const struct leases *L, const struct lease *want, uint32_t net,
		   char *why, size_t size);
/* The first address after the gateway of NET/PREFIX no lease holds. */
int lease_free_address(const struct leases *L, uint32_t net, int prefix, uint32_t *addr);

/* ---- what net-bridge changed on the host ---- */

/*
 * Markers: what net-bridge changed on a host it shares with other
 * programs, and must put back only if it made the change.  net_mark
 * writes TEXT in net/NAMESUFFIX:
 *   BRIDGE.ours          net-bridge made the bridge
 *   BRIDGE.gateway       it gave a bridge of the host's the gateway
 *                        address (the text: its subnet)
 *   ip_forward.ours      it turned /proc/sys/net/ipv4/ip_forward on
 */
int net_mark(const char *name, const char *suffix, const char *text);
/* Write VALUE ("1\n") in the sysctl file PATH, saying so with vlog.  -1
 * with errno. */
int net_write_sysctl(const char *path, const char *value);
/* A bridge's last container gone: RTM_DELLINK BRIDGE if we made it, else
 * RTM_DELADDR the gateway address we gave it.  -1 with errno. */
int net_put_bridge_back(struct rtnl *r, const char *bridge);
/* The last container gone: ip_forward back to 0 if net-bridge turned it
 * on, it is still on, and no other program's nftables or iptables rules
 * show that it routes too (Docker, libvirt: nft_other_routers).  -1 with
 * errno when the write fails. */
int net_restore_forwarding(void);

#endif
