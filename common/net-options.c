/*
 * net-options.c - net-bridge's command line: see net-options.h.
 *
 * Read: getopt_long(3).  Used by: net-bridge.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "minidock.h"
#include "net-options.h"
#include "netns.h"

void net_options_usage(FILE *out)
{
	fprintf(out,
"Usage: net-bridge [OPTIONS] -- COMMAND [ARG...]\n"
"       net-bridge --name NAME --exec [OPTIONS] -- COMMAND [ARG...]\n"
"       net-bridge --name NAME --create [OPTIONS]\n"
"       net-bridge --name NAME --delete\n"
"       net-bridge --list [--json]\n"
"\n"
"Give COMMAND a network namespace of its own, plugged into a bridge with a\n"
"veth pair, an address, NAT to the outside and published ports; run COMMAND\n"
"inside it, wait, remove it all and exit with COMMAND's status.\n"
"\n"
"  -n, --name NAME          namespace /run/netns/NAME (default: nb-PID)\n"
"  -b, --bridge BR          bridge to plug into (default: " DEFAULT_BRIDGE ")\n"
"      --network NAME       join user-defined network NAME (network create):\n"
"                           its bridge and subnet; its containers find each\n"
"                           other by name in /etc/hosts\n"
"      --alias NAME         another name the network's containers know this\n"
"                           one by (repeatable; with --network)\n"
"      --add-host NAME:IP   a line of this container's /etc/hosts (repeatable)\n"
"  -s, --subnet CIDR        the bridge's subnet (default: that of the bridge's\n"
"                           containers, else " DEFAULT_SUBNET " or, if a host\n"
"                           route overlaps it, 172.29.0.0/16, 192.168.213.0/24);\n"
"                           the gateway is its first address\n"
"      --ip ADDR            this address instead of the next free one\n"
"  -p, --publish [HOSTIP:]HOSTPORT:PORT[/tcp|/udp]\n"
"                           forward HOSTPORT of the host to PORT (repeatable)\n"
"      --no-nat             no masquerading to the outside\n"
"      --dns ADDR           nameserver for resolv.conf (repeatable)\n"
"      --exec               set up, then become COMMAND (execve(2), as\n"
"                           ip netns exec): no waiting, nothing undone when\n"
"                           it ends; remove it afterwards with --delete\n"
"      --create             set up and keep it; print the namespace path and\n"
"                           the address, one per line\n"
"      --delete             remove what --create (or a killed net-bridge) left\n"
"      --list               the container networks that exist (--json)\n"
"  -v, --verbose            print each netlink message and nft command\n"
"  -h, --help               this help\n"
"  -V, --version            the version\n"
"\n"
"COMMAND runs inside the namespace, with MINIDOCK_NETNS and MINIDOCK_IP\n"
"set. Example:\n"
"  net-bridge --name web --publish 8080:80 -- \\\n"
"      ns-enter --net=/run/netns/web --root rootfs -- httpd -f -p 80\n");
}

static int refuse(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

int net_options_use_subnet(struct net_options *o, const char *cidr,
			   char *why, size_t size)
{
	const char *what;

	if (parse_cidr(cidr, &o->net, &o->prefix, &what) < 0)
		return refuse(why, size, "--subnet %s: %s", cidr, what);
	o->subnet = cidr;
	return 0;
}

/* --network NAME: the bridge and subnet its record names (networks.h). */
static int use_network(struct net_options *o, char *why, size_t size)
{
	if (network_load(o->network, &o->netrec) < 0)
		return refuse(why, size, errno == ENOENT ? "--network %s: no such network (network create %s)"
						   : "--network %s: its record %s/networks/%s.json is damaged",
			      o->network, errno == ENOENT ? o->network : md_lib_dir(), o->network);
	o->bridge = o->netrec.bridge;
	o->subnet = o->netrec.subnet;
	o->subnet_given = 1;
	return 0;
}

/* Everything that can be checked before touching the kernel. */
static int check(struct net_options *o, char *why, size_t size)
{
	int with_command = o->mode == MODE_CHAIN || o->mode == MODE_EXEC;
	size_t i, j;
	uint32_t a;

	if (with_command && !o->command[0])
		return refuse(why, size, "no COMMAND given (or use --create); see --help");
	if (!with_command && o->command[0])
		return refuse(why, size, "unexpected argument '%s'", o->command[0]);
	if ((o->mode == MODE_CREATE || o->mode == MODE_DELETE || o->mode == MODE_EXEC) && !o->name)
		return refuse(why, size, "--create, --exec and --delete need --name NAME");
	if (!o->name && with_command) {         /* the chain's own: nb-PID */
		static char name[32];

		snprintf(name, sizeof(name), "nb-%d", (int)getpid());
		o->name = name;
	}
	if (o->name && !valid_name(o->name))
		return refuse(why, size, "--name %s: use 1 to 64 letters, digits, '_', '.' or '-', not starting with '.' or '-'",
			      o->name);
	/* The kernel keeps interface names in char[IFNAMSIZ], NUL included. */
	if (strlen(o->bridge) >= IFNAMSIZ || !valid_name(o->bridge))
		return refuse(why, size, "--bridge %s: an interface name is 1 to %d letters, digits, '_', '.' or '-'",
			      o->bridge, IFNAMSIZ - 1);
	if (o->network && (o->subnet_given || strcmp(o->bridge, DEFAULT_BRIDGE)))
		return refuse(why, size, "--network %s: its record gives the bridge and the subnet (no --bridge, --subnet)",
			      o->network);
	if (o->names.naliases && !o->network)
		return refuse(why, size, "--alias %s: names are shared on a user-defined network only (--network NAME)",
			      o->names.aliases[0]);
	for (i = 0; i < o->names.naliases; i++)
		if (!valid_name(o->names.aliases[i]))
			return refuse(why, size, "--alias %s: use 1 to 64 of [A-Za-z0-9_.-]", o->names.aliases[i]);
	for (i = 0; i < o->names.nadd_hosts; i++) {
		const char *h = o->names.add_hosts[i], *colon = strchr(h, ':');
		char *host = colon ? xasprintf("%.*s", (int)(colon - h), h) : NULL;
		int ok = host && valid_name(host) && parse_ip(colon + 1, &a) == 0;

		free(host);
		if (!ok)
			return refuse(why, size, "--add-host %s: expected NAME:IP (an IPv4 address)", h);
	}
	if (o->network && use_network(o, why, size) < 0)
		return -1;
	if (net_options_use_subnet(o, o->subnet, why, size) < 0)
		return -1;
	if (o->ip) {
		uint32_t last = o->net | ~mask_of(o->prefix);

		if (parse_ip(o->ip, &o->addr) < 0)
			return refuse(why, size, "--ip %s: not an IPv4 address", o->ip);
		if (!same_subnet(o->addr, o->prefix, o->net, o->prefix))
			return refuse(why, size, "--ip %s: not in the subnet %s", o->ip, o->subnet);
		if (o->addr == o->net || o->addr == o->net + 1 || o->addr == last)
			return refuse(why, size, "--ip %s: the network, gateway and broadcast addresses of %s are reserved",
				      o->ip, o->subnet);
	}
	for (i = 0; i < o->ndns; i++)
		if (parse_ip(o->dns[i], &a) < 0)
			return refuse(why, size, "--dns %s: not an IPv4 address", o->dns[i]);
	for (i = 0; i < o->npub; i++)
		for (j = 0; j < i; j++)
			if (publish_clash(&o->pub[i], &o->pub[j]))
				return refuse(why, size, "--publish: host port %u/%s given twice",
					      o->pub[i].hostport, o->pub[i].proto);
	return 0;
}

int net_options_parse(int argc, char **argv, struct net_options *o,
		      char *why, size_t size)
{
	enum { OPT_IP = 256, OPT_NO_NAT, OPT_DNS, OPT_CREATE, OPT_DELETE,
	       OPT_LIST, OPT_JSON, OPT_EXEC, OPT_NETWORK, OPT_ALIAS, OPT_ADD_HOST };
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "bridge", required_argument, NULL, 'b' },
		{ "subnet", required_argument, NULL, 's' },
		{ "ip", required_argument, NULL, OPT_IP },
		{ "network", required_argument, NULL, OPT_NETWORK },
		{ "alias", required_argument, NULL, OPT_ALIAS },
		{ "add-host", required_argument, NULL, OPT_ADD_HOST },
		{ "publish", required_argument, NULL, 'p' },
		{ "no-nat", no_argument, NULL, OPT_NO_NAT },
		{ "dns", required_argument, NULL, OPT_DNS },
		{ "create", no_argument, NULL, OPT_CREATE },
		{ "exec", no_argument, NULL, OPT_EXEC },
		{ "delete", no_argument, NULL, OPT_DELETE },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->mode = MODE_CHAIN;
	o->bridge = DEFAULT_BRIDGE;
	o->subnet = DEFAULT_SUBNET;
	o->nat = 1;
	while ((c = getopt_long(argc, argv, "+n:b:s:p:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': o->name = optarg; break;
		case 'b': o->bridge = optarg; break;
		case 's': o->subnet = optarg; o->subnet_given = 1; break;
		case OPT_IP: o->ip = optarg; break;
		case OPT_NETWORK: o->network = optarg; break;
		case OPT_ALIAS:
			o->names.aliases = xrealloc(o->names.aliases, (o->names.naliases + 1) * sizeof(char *));
			o->names.aliases[o->names.naliases++] = optarg;
			break;
		case OPT_ADD_HOST:
			o->names.add_hosts = xrealloc(o->names.add_hosts, (o->names.nadd_hosts + 1) * sizeof(char *));
			o->names.add_hosts[o->names.nadd_hosts++] = optarg;
			break;
		case 'p':
			o->pub = xrealloc(o->pub, (o->npub + 1) * sizeof(*o->pub));
			if (parse_publish(optarg, &o->pub[o->npub]) < 0)
				return refuse(why, size, "--publish %s: expected [HOSTIP:]HOSTPORT:PORT[/tcp|/udp], ports 1-65535",
					      optarg);
			o->npub++;
			break;
		case OPT_NO_NAT: o->nat = 0; break;
		case OPT_DNS:
			o->dns = xrealloc(o->dns, (o->ndns + 1) * sizeof(*o->dns));
			o->dns[o->ndns++] = optarg;
			break;
		case OPT_CREATE: o->mode = MODE_CREATE; break;
		case OPT_EXEC: o->mode = MODE_EXEC; break;
		case OPT_DELETE: o->mode = MODE_DELETE; break;
		case OPT_LIST: o->mode = MODE_LIST; break;
		case OPT_JSON: o->json = 1; break;
		case 'v': md_verbose = 1; break;
		case 'h': o->mode = MODE_HELP; return 0;
		case 'V': o->mode = MODE_VERSION; return 0;
		default: return refuse(why, size, "see --help");   /* getopt said why */
		}
	}
	o->command = argv + optind;
	return check(o, why, size);
}

/* A veth of that name may still be on its way out, left by the container
 * of the same name that just ended (its pair goes with its namespace):
 * wait for it, two seconds at most.  Any other link of that name is not
 * ours. */
static int wait_veth_gone(struct rtnl *r, const char *name, char *why, size_t size)
{
	char *veth = lease_veth_name(name);
	struct link_info info;
	int waited_ms, ret = 0;

	for (waited_ms = 0; rtnl_link_info(r, veth, &info) == 0; waited_ms += 10) {
		if (strcmp(info.kind, "veth") != 0 || waited_ms >= 2000) {
			ret = refuse(why, size, "--name %s: an interface %s already exists", name, veth);
			break;
		}
		sleep_ms(10);
	}
	free(veth);
	return ret;
}

int net_options_fit(struct net_options *o, const struct leases *L, struct rtnl *r,
		    char *why, size_t size)
{
	static char cidr[32];
	char found[64], *path;
	struct lease want = { .bridge = (char *)o->bridge, .addr = o->addr,
			      .pub = o->pub, .npub = o->npub };
	struct link_info br;
	int in_use;
	size_t i;

	if (rtnl_link_info(r, o->bridge, &br) == 0 && strcmp(br.kind, "bridge"))
		return refuse(why, size, "--bridge %s: this interface is not a bridge (it is a %s)",
			      o->bridge, br.kind[0] ? br.kind : "device");
	if (!o->subnet_given && !o->ip) {
		if (lease_choose_subnet(L, o->bridge, r, br.index, cidr) < 0)
			return refuse(why, size, "RTM_GETROUTE: %s", strerror(errno));
		if (net_options_use_subnet(o, cidr, why, size) < 0)
			return -1;
	}
	path = netns_path(o->name);
	in_use = lease_find(L, o->name) || access(path, F_OK) == 0;
	if (in_use)
		refuse(why, size, "--name %s: already in use (%s exists; net-bridge --name %s --delete removes it)",
		       o->name, path, o->name);
	free(path);
	if (in_use)
		return -1;
	want.prefix = o->prefix;
	if (lease_conflict(L, &want, o->net, why, size))
		return -1;
	for (i = 0; i < o->npub; i++) {
		int busy = publish_busy(&o->pub[i]);
		if (busy)
			return busy < 0 ? refuse(why, size, "socket: %s", strerror(errno))
					: refuse(why, size, "--publish: host port %u/%s is in use by a program of the host",
						 o->pub[i].hostport, o->pub[i].proto);
	}
	if (wait_veth_gone(r, o->name, why, size) < 0)
		return -1;
	if (rtnl_route_overlap(r, o->net, o->prefix, br.index, found) < 0)
		return refuse(why, size, "RTM_GETROUTE: %s", strerror(errno));
	if (found[0])
		return refuse(why, size, "--subnet %s overlaps the host's route %s; choose another with --subnet",
			      o->subnet, found);
	if (!o->ip && lease_free_address(L, o->net, o->prefix, &o->addr) < 0)
		return refuse(why, size, "--subnet %s: no free address left", o->subnet);
	return br.index;
}

void net_options_free(struct net_options *o)
{
	free(o->pub);
	free(o->dns);
	free(o->names.aliases);
	free(o->names.add_hosts);
	network_free(&o->netrec);
	o->pub = NULL;
	o->dns = NULL;
	memset(&o->names, 0, sizeof(o->names));
}
