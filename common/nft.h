/*
 * nft.h - nftables rules through libnftables: commands written in the very
 * syntax nft(8) reads ("add rule ip minidock postrouting ... masquerade"),
 * printed by vlog() as "nft add rule ...", and given to the kernel in one
 * transaction per call.  minidock's rules all live in one table of its
 * own, NFT_TABLE, so `nft list table ip minidock` shows a student exactly
 * what was added.  Every function returns -1 with errno (EINVAL: nft
 * refused the command, and NFT_ERROR holds its first line; ENOENT: no
 * libnftables).
 *
 * Read: nft(8), libnftables(3).  Used by: net-bridge.
 */
#ifndef MINIDOCK_NFT_H
#define MINIDOCK_NFT_H

#include <stdio.h>

#define NFT_TABLE "ip minidock"

/* minidock's table, its NAT chains (prerouting, output, postrouting), a
 * filter chain for the guard of route_localnet, and one on the forward
 * hook that keeps networks apart: the commands that come before the
 * first rule. */
extern const char nft_table_cmds[];

/* The first line of nft's last error message ("" when none). */
extern char nft_error[256];

/* Run nft commands (one per line) in one transaction; OUT, if not NULL,
 * receives (malloc'd) what "list" commands print, rule handles included. */
int nft_run(const char *cmds, char **out);
/* `nft -a list table ip minidock` into *OUT: "" when there is no table. */
int nft_list_table(char **out);
/* Forget container NAME's rules: the whole table when it was the LAST
 * container; else the rules whose comment is "NAME", and "bridge BRIDGE"
 * too unless BRIDGE is NULL (the bridge keeps other containers).  With
 * BRIDGE, also the rules commented "minidock bridge BRIDGE" in Docker's
 * chain (nft_docker_forward_drops). */
int nft_forget(const char *name, const char *bridge, int last);
/* Another program's table that forwards or NATs packets (a chain on the
 * forward hook, or of type nat: Docker, libvirt, podman, firewalld...), or
 * a legacy iptables nat table: 1 and *WHO (malloc'd) names it; 0: none. */
int nft_other_routers(char **who);
/* Does the chain FORWARD of table ip filter drop what it does not accept
 * (policy drop), as dockerd leaves it through iptables-nft?  Then that
 * chain must accept our bridges' traffic too: a packet goes through every
 * base chain of a hook, and one drop is final.  1 yes, 0 no, -1/errno. */
int nft_docker_forward_drops(void);
/* Write to F the rules that keep BRIDGE apart from minidock's other
 * bridges (minidock0, md-*), published ports aside, in the chain forward;
 * with DOCKER_DROPS (nft_docker_forward_drops), the accept rules Docker's
 * FORWARD chain needs for BRIDGE too.  For a bridge's first container. */
void nft_keep_apart(FILE *f, const char *bridge, int docker_drops);
/*
 * Write to F the rules of container L (leases.h), given LIST, the table
 * as nft_list_table gives it: the table and its chains when absent; the
 * bridge's guard and nft_keep_apart for its first container (DROPS:
 * nft_docker_forward_drops); the subnet's masquerade with NAT (else an
 * accept of L's own address ahead of it); for each published port, DNAT
 * in prerouting and output, and the masquerade that brings the answers
 * of a hairpin connection (from 127/8 or its own subnet) back.
 */
struct lease;
void nft_container_rules(FILE *f, const char *list, const struct lease *l, int nat,
			 int drops);
/* Free the context and unload libnftables (call when done with nftables). */
void nft_release(void);

#endif
