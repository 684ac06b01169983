/*
 * network - user-defined networks, as `docker network create`: each one
 * a bridge of its own, so a separate Ethernet segment, with a subnet of
 * its own; its containers find each other by name.
 *
 * A bridge (bridge(8)) is a switch in the kernel: the veths plugged into
 * it see each other's Ethernet frames, and nothing else does.  Two
 * bridges are two switches with no cable between them, two L2 segments:
 * a container on md-app cannot even ARP for one on md-db.  Only the host
 * joins them, as a router (ip_forward), and minidock's nftables table
 * refuses to forward from one of its bridges to another (net-bridge), as
 * Docker isolates its networks:
 *
 *     web          db                     other
 *    eth0         eth0                    eth0
 *      |            |                       |
 *   +--+------------+--+ md-app          +--+--------+ minidock0
 *   | 10.214.0.1/16    |                 | 10.213.0.1/16   (the default
 *   +--------+---------+                 +-----+-----+      "bridge")
 *            |   host: routes, NAT; forward md-app <-> minidock0: drop
 *            +-------------------------------+
 *
 * A network is only a record here, $MINIDOCK_LIB_DIR/networks/NAME.json
 * (networks.h): its bridge's name and its subnet.  `run --network NAME`
 * tells net-bridge, which makes the bridge for the network's first
 * container and removes it with the last, as it does minidock0; it also
 * writes every container's /etc/hosts with the others' names
 * (resolv_share_names), so `ping db` works from web.
 *
 * Below main(), the verbs in the order a network lives: create (choose a
 * subnet no host route and no other network overlaps), ls, inspect, rm
 * (refused while a container is attached).  Each takes the leases' lock
 * of net-bridge first, then the networks' lock (flock(2)): a container
 * never joins a network being removed.
 *
 * Read: bridge(8), ip-link(8), network_namespaces(7), rtnetlink(7),
 * flock(2), and docker's "network create" reference.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "leases.h"
#include "minidock.h"
#include "networks.h"
#include "rtnl.h"
#include "verbs.h"

static const char usage_text[] =
"Usage: network create [--subnet CIDR] NAME\n"
"       network ls [-q]\n"
"       network inspect NAME...\n"
"       network rm NAME...\n"
"\n"
"User-defined networks, as docker network: each is a bridge of its own\n"
"(md-NAME) and a subnet of its own.  run --network NAME attaches a\n"
"container; the containers of a network reach each other by name and by\n"
"their --network-alias names (in /etc/hosts); containers of different\n"
"networks cannot reach each other.\n"
"\n"
"  create NAME      record network NAME; --subnet CIDR, or the first of\n"
"                   10.214.0.0/16 ... 10.254.0.0/16 that no other network\n"
"                   and no host route overlaps\n"
"  ls               one line per network: NAME BRIDGE SUBNET CONTAINERS\n"
"                   (-q: the names only)\n"
"  inspect NAME     the network and its containers, in JSON\n"
"  rm NAME          remove it; refused (exit 125) while a container is\n"
"                   attached\n"
"  --verbose        say each step;  --help;  --version\n"
"\n"
"Example: network create app\n"
"         run -d --name web --network app --network-alias www busybox httpd -f -p 80 -h /www\n"
"         run --rm --network app busybox wget -qO- http://www/\n";

static int cmd_create(int argc, char **argv);
static int cmd_ls(int argc, char **argv);
static int cmd_inspect(int argc, char **argv);
static int cmd_rm(int argc, char **argv);
static void choose_subnet(const char *given, const struct leases *L, char cidr[32]);
static int lock_both(struct leases *L);
static size_t attached(const struct leases *L, const struct network *n, struct strv *names,
		       struct strv *addresses);

static const struct verb verbs[] = {
	{ "create", cmd_create }, { "ls", cmd_ls }, { "list", cmd_ls },
	{ "inspect", cmd_inspect }, { "rm", cmd_rm }, { NULL, NULL },
};

/* A verb, then its own options (common/verbs.c): an ordinary user's
 * networks are in its own directories, as its containers (store.h). */
int main(int argc, char **argv)
{
	md_init("network");
	return verbs_main(argc, argv, usage_text, verbs);
}

/* The verb's options: --subnet (create), -q (ls), --verbose. */
static void verb_options(int argc, char **argv, const char **subnet, int *quiet)
{
	static const struct option longopts[] = {
		{ "subnet",  required_argument, NULL, 's' },
		{ "quiet",   no_argument,       NULL, 'q' },
		{ "verbose", no_argument,       NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, subnet ? "s:v" : quiet ? "qv" : "v", longopts, NULL)) != -1) {
		if (c == 's' && subnet)
			*subnet = optarg;
		else if (c == 'q' && quiet)
			*quiet = 1;
		else if (c == 'v')
			md_verbose = 1;
		else
			die_x("%s: see network --help", argv[0]);
	}
}

/* network create [--subnet CIDR] NAME: the record, written whole
 * (rename(2)) under both locks; the bridge comes with a container. */
static int cmd_create(int argc, char **argv)
{
	const char *given = NULL;
	struct network n = { 0 }, other;
	struct strv names = { 0 };
	struct leases L;
	char cidr[32];
	size_t i;

	verb_options(argc, argv, &given, NULL);
	if (optind + 1 != argc)
		die_x("create: expected one NAME (network create [--subnet CIDR] NAME)");
	n.name = argv[optind];
	if (!valid_name(n.name))
		die_x("create %s: use 1 to 64 of [A-Za-z0-9_.-], not starting with '.' or '-'", n.name);
	if (!network_is_user_defined(n.name))
		die_x("create %s: a predefined network (bridge, host, none)", n.name);
	lock_both(&L);
	if (network_load(n.name, &other) == 0 || errno == EINVAL)
		die_x("create %s: a network of that name exists (network rm %s)", n.name, n.name);
	n.bridge = network_bridge_name(n.name);
	if (network_names(&names) < 0)
		die("read %s/networks", md_lib_dir());
	for (i = 0; i < names.n; i++) {
		if (network_load(names.v[i], &other) < 0)
			continue;
		if (!strcmp(other.bridge, n.bridge))
			die_x("create %s: its bridge %s would be that of network %s", n.name,
			      n.bridge, other.name);
		network_free(&other);
	}
	strv_free(&names);
	choose_subnet(given, &L, cidr);
	n.subnet = cidr;
	n.created = (long long)time(NULL);
	vlog("rename(\"%s/networks/%s.json.new\", \"%s.json\"): bridge %s, subnet %s",
	     md_lib_dir(), n.name, n.name, n.bridge, n.subnet);
	if (network_save(&n) < 0)
		die("write %s/networks/%s.json", md_lib_dir(), n.name);
	printf("%s\n", n.name);
	free(n.bridge);
	leases_unlock(&L);
	return 0;
}

/* Does NET/PREFIX overlap another network, a container's subnet (the
 * default bridge's too) or a host route?  What it overlaps, into WHY. */
static int overlaps(uint32_t net, int prefix, const struct leases *L, struct rtnl *r,
		    char *why, size_t size)
{
	struct strv names = { 0 };
	struct network other;
	char found[64], a[INET_ADDRSTRLEN];
	uint32_t onet;
	int oprefix;
	const char *bad;
	size_t i;

	why[0] = '\0';
	if (network_names(&names) < 0)
		die("read %s/networks", md_lib_dir());
	for (i = 0; i < names.n && !why[0]; i++) {
		if (network_load(names.v[i], &other) < 0)
			continue;
		if (parse_cidr(other.subnet, &onet, &oprefix, &bad) == 0 &&
		    same_subnet(net, prefix, onet, oprefix))
			snprintf(why, size, "network %s (%s)", other.name, other.subnet);
		network_free(&other);
	}
	strv_free(&names);
	for (i = 0; i < L->n && !why[0]; i++)
		if (same_subnet(net, prefix, L->v[i].addr, L->v[i].prefix))
			snprintf(why, size, "container %s (%s/%d)", L->v[i].name,
				 ip_str(L->v[i].addr, a), L->v[i].prefix);
	if (!why[0]) {
		if (rtnl_route_overlap(r, net, prefix, 0, found) < 0)
			die("RTM_GETROUTE");
		if (found[0])
			snprintf(why, size, "the host's route %s", found);
	}
	return why[0] != '\0';
}

/* --subnet CIDR, checked; or the first free one of 10.214.0.0/16 up to
 * 10.254.0.0/16 (minidock0 has 10.213.0.0/16, Docker 172.17 and up). */
static void choose_subnet(const char *given, const struct leases *L, char cidr[32])
{
	struct rtnl r = { 0 };
	char why[160], a[INET_ADDRSTRLEN];
	const char *bad;
	uint32_t net;
	int prefix, second;

	if (rtnl_open(&r) < 0)
		die("socket(AF_NETLINK, NETLINK_ROUTE)");
	if (given) {
		if (parse_cidr(given, &net, &prefix, &bad) < 0)
			die_x("create --subnet %s: %s", given, bad);
		if (prefix > 30)
			die_x("create --subnet %s: no room for a gateway and a container (at most /30)", given);
		if (overlaps(net, prefix, L, &r, why, sizeof(why)))
			die_x("create --subnet %s: overlaps %s", given, why);
		snprintf(cidr, 32, "%s", given);
	}
	for (second = 214; !given && second <= 254; second++) {
		net = (10u << 24) | ((uint32_t)second << 16);
		if (!overlaps(net, 16, L, &r, why, sizeof(why))) {
			snprintf(cidr, 32, "%s/16", ip_str(net, a));
			break;
		}
		vlog("%s/16 overlaps %s: next", ip_str(net, a), why);
	}
	if (!given && second > 254)
		die_x("create: no free subnet left in 10.214.0.0/16 ... 10.254.0.0/16; give one with --subnet");
	rtnl_close(&r);
}

/* The leases' lock (net-bridge's), then the networks': held until exit. */
static int lock_both(struct leases *L)
{
	int fd;

	if (leases_lock(L, LOCK_EX) < 0)
		die("lock %s/net/leases", md_run_dir());
	if ((fd = networks_lock(LOCK_EX)) < 0)
		die("lock %s/networks/lock", md_lib_dir());
	return fd;      /* released when we exit */
}

/* How many live containers are on N's bridge; their names and addresses
 * pushed on NAMES and ADDRESSES when not NULL. */
static size_t attached(const struct leases *L, const struct network *n, struct strv *names,
		       struct strv *addresses)
{
	char a[INET_ADDRSTRLEN];
	size_t i, count = 0;

	for (i = 0; i < L->n; i++) {
		const struct lease *l = &L->v[i];
		if (strcmp(l->bridge, n->bridge) || !lease_owner_alive(l))
			continue;
		count++;
		if (names)
			strv_push(names, l->name);
		if (addresses)
			strv_pushf(addresses, "%s/%d", ip_str(l->addr, a), l->prefix);
	}
	return count;
}

/* network ls: NAME BRIDGE SUBNET CONTAINERS, or the names (-q). */
static int cmd_ls(int argc, char **argv)
{
	struct strv names = { 0 };
	struct network n;
	struct leases L;
	int quiet = 0;
	size_t i;

	verb_options(argc, argv, NULL, &quiet);
	if (optind != argc)
		die_x("ls: unexpected argument '%s'", argv[optind]);
	if (leases_lock(&L, LOCK_SH) < 0)
		die("lock %s/net/leases", md_run_dir());
	if (network_names(&names) < 0)
		die("read %s/networks", md_lib_dir());
	if (!quiet)
		printf("%-20s %-15s %-18s %s\n", "NAME", "BRIDGE", "SUBNET", "CONTAINERS");
	for (i = 0; i < names.n; i++) {
		if (network_load(names.v[i], &n) < 0) {
			warn_errno("%s/networks/%s.json", md_lib_dir(), names.v[i]);
			continue;
		}
		if (quiet)
			printf("%s\n", n.name);
		else
			printf("%-20s %-15s %-18s %zu\n", n.name, n.bridge, n.subnet,
			       attached(&L, &n, NULL, NULL));
		network_free(&n);
	}
	strv_free(&names);
	leases_unlock(&L);
	return 0;
}

/* network inspect NAME...: each as JSON, with its containers. */
static int cmd_inspect(int argc, char **argv)
{
	struct leases L;
	int code = 0;

	verb_options(argc, argv, NULL, NULL);
	if (optind >= argc)
		die_x("inspect: expected a NAME");
	if (leases_lock(&L, LOCK_SH) < 0)
		die("lock %s/net/leases", md_run_dir());
	for (; optind < argc; optind++) {
		struct strv names = { 0 }, addresses = { 0 };
		struct network n;

		if (network_load(argv[optind], &n) < 0) {
			warn_x("inspect %s: %s", argv[optind], errno == ENOENT ? "no such network"
							       : "its record is damaged");
			code = 1;
			continue;
		}
		attached(&L, &n, &names, &addresses);
		network_print_json(&n, names.v, addresses.v, stdout);
		strv_free(&addresses);
		strv_free(&names);
		network_free(&n);
	}
	leases_unlock(&L);
	return code;
}

/* network rm NAME...: each removed, unless a container is attached (125,
 * as docker's "network has active endpoints"); no such network: 1. */
static int cmd_rm(int argc, char **argv)
{
	struct leases L;
	int code = 0;

	verb_options(argc, argv, NULL, NULL);
	if (optind >= argc)
		die_x("rm: expected a NAME");
	lock_both(&L);
	for (; optind < argc; optind++) {
		struct strv names = { 0 };
		struct network n;

		if (network_load(argv[optind], &n) < 0 && errno == ENOENT) {
			warn_x("rm %s: no such network", argv[optind]);
			code = code ? code : 1;
			continue;
		}
		if (n.bridge && attached(&L, &n, &names, NULL)) {
			warn_x("rm %s: containers are attached: %s%s (container rm -f them first)",
			       argv[optind], names.v[0], names.n > 1 ? ", ..." : "");
			code = EXIT_TOOL_FAILED;
		} else if (network_delete(argv[optind]) < 0) {
			warn_errno("rm %s: unlink %s/networks/%s.json", argv[optind], md_lib_dir(),
				   argv[optind]);
			code = EXIT_TOOL_FAILED;
		} else {
			vlog("unlink(\"%s/networks/%s.json\")", md_lib_dir(), argv[optind]);
			printf("%s\n", argv[optind]);
		}
		strv_free(&names);
		network_free(&n);
	}
	leases_unlock(&L);
	return code;
}
