/*
 * net-options.h - what net-bridge is asked: the options and --help, the
 * checks of the command line, then those against the leases and the host
 * (net_options_fit), which also choose the subnet and the address.  Bad
 * input makes these return -1 with the message in WHY, for net-bridge to
 * print before it exits 125.
 *
 * Read: getopt_long(3).  Used by: net-bridge.
 */
#ifndef MINIDOCK_NET_OPTIONS_H
#define MINIDOCK_NET_OPTIONS_H

#include <stdint.h>
#include <stdio.h>

#include "leases.h"
#include "networks.h"
#include "resolv.h"

#define DEFAULT_BRIDGE "minidock0"

enum net_mode {
	MODE_CHAIN,             /* set up, run COMMAND, wait, undo */
	MODE_EXEC,              /* set up, become COMMAND */
	MODE_CREATE, MODE_DELETE, MODE_LIST, MODE_HELP, MODE_VERSION,
};

struct net_options {
	enum net_mode mode;
	const char *name, *bridge, *subnet, *ip;     /* name: "nb-PID" by default */
	struct publish *pub;
	size_t npub;
	char **dns;
	size_t ndns;
	int nat, json, subnet_given;
	const char *network;    /* --network NAME: its record gives bridge, subnet */
	struct network netrec;
	struct resolv_names names;      /* --alias, --add-host */
	char **command;
	/* derived (host byte order): the subnet, and the address (--ip, or
	 * the one net_options_fit chose; 0 until then) */
	uint32_t net, addr;
	int prefix;
};

void net_options_usage(FILE *out);
/* Parse and check ARGV into O: 0, or -1 with the message in WHY. */
int net_options_parse(int argc, char **argv, struct net_options *o,
		      char *why, size_t size);
/* Take the subnet CIDR (which must outlive O): 0, or -1 and WHY. */
int net_options_use_subnet(struct net_options *o, const char *cidr,
			   char *why, size_t size);
/*
 * Fit O to the leases L and the host (R: a netlink socket there): choose
 * the subnet (without --subnet) and the address, and refuse a name, an
 * address or a host port in use, a subnet a host route overlaps...  A veth
 * of the name still on its way out is waited for.  Returns the bridge's
 * index (0: no such link yet), or -1 and WHY.
 */
int net_options_fit(struct net_options *o, const struct leases *L, struct rtnl *r,
		    char *why, size_t size);
void net_options_free(struct net_options *o);

#endif
