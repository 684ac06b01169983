/*
 * net-bridge - connect a command to the network the way Docker's default
 * "bridge" network does: its own network namespace, a veth pair, an
 * address on a bridge, NAT to the outside and published ports.
 *
 *   +-- network namespace NAME (/run/netns/NAME) --+
 *   |  COMMAND                                      |
 *   |    lo 127.0.0.1      eth0 10.213.0.2/16       |
 *   |                        | default via 10.213.0.1
 *   +------------------------|----------------------+
 *                            |  veth pair: what enters one end
 *                            |  leaves the other (veth(4))
 *   host                 veth-NAME
 *                            |
 *                  +---------+---------+  bridge minidock0 10.213.0.1/16
 *                  |  a virtual switch |  (the gateway; other containers'
 *                  +---------+---------+   veths are plugged in too)
 *                            |  routing, ip_forward = 1
 *             nftables table "ip minidock" (nft(8)):
 *               prerouting, output: dnat HOSTPORT -> 10.213.0.2:PORT
 *               postrouting: masquerade 10.213.0.0/16 -> the host's address
 *                            |
 *                          eth0 of the host -> other hosts
 *
 * Everything is asked of the kernel directly:
 *   - a network namespace is made with unshare(CLONE_NEWNET) and kept alive
 *     without any process by bind-mounting /proc/self/ns/net on a file, the
 *     way ip-netns(8) does it;
 *   - links, addresses and routes are rtnetlink(7) messages (RTM_NEWLINK,
 *     RTM_NEWADDR, RTM_NEWROUTE...) sent on a netlink(7) socket with
 *     libmnl; a netlink socket talks to the namespace it was created in;
 *   - NAT and port forwarding are nftables rules, given to libnftables in
 *     the very syntax nft(8) reads.
 *
 * When COMMAND has ended, the veth is only set down and left to its
 * namespace: the kernel deletes the pair when it frees the namespace, and
 * net-bridge does not wait 25 ms for that (leave_veth_to_namespace).
 *
 * Addresses are leased from a small text file, $MINIDOCK_RUN_DIR/net/leases,
 * under flock(2), so concurrent net-bridge never hand out one address twice.
 *
 * Read: veth(4), ip-netns(8), rtnetlink(7), netlink(7), namespaces(7),
 * network_namespaces(7), nft(8), bridge(8), setns(2), unshare(2).
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <nftables/libnftables.h>

#include "minidock.h"

#define DEFAULT_BRIDGE "minidock0"
/* Rarely used in labs and homes (Docker takes 172.17+, boxes 192.168.x);
 * without --subnet, the first of these that no host route overlaps. */
#define DEFAULT_SUBNET "10.213.0.0/16"
static const char *const fallback_subnets[] = {
	DEFAULT_SUBNET, "172.29.0.0/16", "192.168.213.0/24",
};
#define NFT_TABLE "ip minidock"

/* ---- what the command line asks for ---- */

enum mode { MODE_CHAIN, MODE_EXEC, MODE_CREATE, MODE_DELETE, MODE_LIST };

struct publish {
	uint32_t hostip;        /* host order; 0 = every address of the host */
	unsigned hostport, port;
	char proto[4];          /* "tcp" or "udp" */
};

struct options {
	enum mode mode;
	const char *name, *bridge, *subnet, *ip;
	struct publish *pub;
	size_t npub;
	char **dns;
	size_t ndns;
	int nat, json, subnet_given;
	char **command;
	/* derived by check_options */
	uint32_t net, want_ip;  /* host byte order */
	int prefix;
};

/* One container's network, as one line of the leases file:
 *   NAME ADDRESS/PREFIX BRIDGE VETH PID STARTTIME [HOSTIP:HOSTPORT:PORT/PROTO]...
 * PID 0 means "kept by --create until --delete". */
struct lease {
	char *name, *bridge, *veth;
	uint32_t addr;
	int prefix;
	pid_t pid;
	unsigned long long start;
	struct publish *pub;
	size_t npub;
};

struct leases {
	int fd;                 /* the locked file, -1 when not held */
	struct lease *v;
	size_t n;
};

/* ---- small address helpers (host byte order) ---- */

static uint32_t mask_of(int prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

static const char *ip_str(uint32_t a, char buf[INET_ADDRSTRLEN])
{
	struct in_addr in = { .s_addr = htonl(a) };

	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

static int parse_ip(const char *s, uint32_t *out)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		return -1;
	*out = ntohl(in.s_addr);
	return 0;
}

/* "10.213.0.0/16" -> network and prefix; refuses host bits set. */
static int parse_cidr(const char *s, uint32_t *net, int *prefix, const char **why)
{
	const char *slash = strchr(s, '/');
	unsigned long long p;
	char *addr;
	int ok;

	*why = "expected ADDRESS/PREFIX, e.g. " DEFAULT_SUBNET;
	if (!slash)
		return -1;
	addr = xstrdup(s);
	addr[slash - s] = '\0';
	ok = parse_ip(addr, net) == 0;
	free(addr);
	if (!ok || parse_uint(slash + 1, 32, &p) < 0)
		return -1;
	/* A gateway, one container and a broadcast address need /30 at least. */
	if (p < 8 || p > 30) {
		*why = "the prefix must be between /8 and /30";
		return -1;
	}
	*prefix = (int)p;
	if (*net & ~mask_of(*prefix)) {
		*why = "host bits are set (use the network address)";
		return -1;
	}
	return 0;
}

static int same_subnet(uint32_t a, int pa, uint32_t b, int pb)
{
	int p = pa < pb ? pa : pb;

	return ((a ^ b) & mask_of(p)) == 0;
}

/* ---- options ---- */

static void usage(FILE *out)
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

/* [HOSTIP:]HOSTPORT:PORT[/tcp|/udp] */
static int parse_publish(const char *s, struct publish *p)
{
	char *copy = xstrdup(s), *proto, *fields[3];
	unsigned long long port;
	int n = 0, ret = -1;
	char *tok, *save;

	memset(p, 0, sizeof(*p));
	strcpy(p->proto, "tcp");
	proto = strchr(copy, '/');
	if (proto) {
		*proto++ = '\0';
		if (strcmp(proto, "tcp") && strcmp(proto, "udp"))
			goto out;
		strcpy(p->proto, proto);
	}
	for (tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		if (n == 3)
			goto out;
		fields[n++] = tok;
	}
	if (n < 2)
		goto out;
	if (n == 3 && parse_ip(fields[0], &p->hostip) < 0)
		goto out;
	if (parse_uint(fields[n - 2], 65535, &port) < 0 || port == 0)
		goto out;
	p->hostport = (unsigned)port;
	if (parse_uint(fields[n - 1], 65535, &port) < 0 || port == 0)
		goto out;
	p->port = (unsigned)port;
	ret = 0;
out:
	free(copy);
	return ret;
}

static void publish_str(const struct publish *p, char *buf, size_t size)
{
	char ip[INET_ADDRSTRLEN];

	snprintf(buf, size, "%s:%u:%u/%s", ip_str(p->hostip, ip),
		 p->hostport, p->port, p->proto);
}

static int publish_clash(const struct publish *a, const struct publish *b)
{
	return a->hostport == b->hostport && !strcmp(a->proto, b->proto) &&
	       (a->hostip == b->hostip || a->hostip == 0 || b->hostip == 0);
}

static void parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_IP = 256, OPT_NO_NAT, OPT_DNS, OPT_CREATE, OPT_DELETE,
	       OPT_LIST, OPT_JSON, OPT_EXEC };
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "bridge", required_argument, NULL, 'b' },
		{ "subnet", required_argument, NULL, 's' },
		{ "ip", required_argument, NULL, OPT_IP },
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
		case 'p':
			o->pub = xrealloc(o->pub, (o->npub + 1) * sizeof(*o->pub));
			if (parse_publish(optarg, &o->pub[o->npub]) < 0)
				die_x("--publish %s: expected [HOSTIP:]HOSTPORT:PORT[/tcp|/udp], ports 1-65535",
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
		case 'h': usage(stdout); exit(0);
		case 'V': print_version(); exit(0);
		default:
			fprintf(stderr, "%s: see --help\n", md_tool);
			exit(EXIT_TOOL_FAILED);
		}
	}
	o->command = argv + optind;
}

/* Everything that can be checked before touching the kernel. */
static void check_options(struct options *o)
{
	const char *why;
	size_t i, j;

	int with_command = o->mode == MODE_CHAIN || o->mode == MODE_EXEC;

	if (with_command && !o->command[0])
		die_x("no COMMAND given (or use --create); see --help");
	if (!with_command && o->command[0])
		die_x("unexpected argument '%s'", o->command[0]);
	if ((o->mode == MODE_CREATE || o->mode == MODE_DELETE || o->mode == MODE_EXEC) && !o->name)
		die_x("--create, --exec and --delete need --name NAME");
	if (o->name && !valid_name(o->name))
		die_x("--name %s: use 1 to 64 letters, digits, '_', '.' or '-', not starting with '.' or '-'",
		      o->name);
	/* The kernel keeps interface names in char[IFNAMSIZ], NUL included. */
	if (strlen(o->bridge) >= IFNAMSIZ || !valid_name(o->bridge))
		die_x("--bridge %s: an interface name is 1 to %d letters, digits, '_', '.' or '-'",
		      o->bridge, IFNAMSIZ - 1);
	if (parse_cidr(o->subnet, &o->net, &o->prefix, &why) < 0)
		die_x("--subnet %s: %s", o->subnet, why);
	if (o->ip) {
		uint32_t last = o->net | ~mask_of(o->prefix);

		if (parse_ip(o->ip, &o->want_ip) < 0)
			die_x("--ip %s: not an IPv4 address", o->ip);
		if (!same_subnet(o->want_ip, o->prefix, o->net, o->prefix))
			die_x("--ip %s: not in the subnet %s", o->ip, o->subnet);
		if (o->want_ip == o->net || o->want_ip == o->net + 1 || o->want_ip == last)
			die_x("--ip %s: the network, gateway and broadcast addresses of %s are reserved",
			      o->ip, o->subnet);
	}
	for (i = 0; i < o->ndns; i++) {
		uint32_t a;
		if (parse_ip(o->dns[i], &a) < 0)
			die_x("--dns %s: not an IPv4 address", o->dns[i]);
	}
	for (i = 0; i < o->npub; i++)
		for (j = 0; j < i; j++)
			if (publish_clash(&o->pub[i], &o->pub[j]))
				die_x("--publish: host port %u/%s given twice",
				      o->pub[i].hostport, o->pub[i].proto);
}

/* ---- naming ---- */

static char *netns_path(const char *name)
{
	return xasprintf("%s/%s", md_netns_dir(), name);
}

/* The host end of the veth pair: "veth-NAME", or a hash of NAME when that
 * would not fit in IFNAMSIZ. */
static char *veth_name(const char *name)
{
	uint32_t h = 2166136261u;   /* FNV-1a */
	const char *s;

	if (strlen("veth-") + strlen(name) < IFNAMSIZ)
		return xasprintf("veth-%s", name);
	for (s = name; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return xasprintf("veth-%08x", h);
}

/* ---- the leases file ---- */

static char *net_dir(void)
{
	return xasprintf("%s/net", md_run_dir());
}

static void free_lease(struct lease *l)
{
	free(l->name);
	free(l->bridge);
	free(l->veth);
	free(l->pub);
	memset(l, 0, sizeof(*l));
}

static int parse_lease(char *line, struct lease *l)
{
	char *f[6], *save, *tok, *slash;
	unsigned long long v;
	int i;

	memset(l, 0, sizeof(*l));
	for (i = 0; i < 6; i++) {
		f[i] = strtok_r(i ? NULL : line, " \t", &save);
		if (!f[i])
			return -1;
	}
	/* Names become paths and interface names: never trust the file. */
	if (!valid_name(f[0]) || !valid_name(f[2]) || !valid_name(f[3]))
		return -1;
	slash = strchr(f[1], '/');
	if (!slash)
		return -1;
	*slash = '\0';
	if (parse_ip(f[1], &l->addr) < 0 || parse_uint(slash + 1, 32, &v) < 0)
		return -1;
	l->prefix = (int)v;
	if (parse_uint(f[4], 1 << 30, &v) < 0)
		return -1;
	l->pid = (pid_t)v;
	if (parse_uint(f[5], ~0ULL, &l->start) < 0)
		return -1;
	while ((tok = strtok_r(NULL, " \t", &save))) {
		l->pub = xrealloc(l->pub, (l->npub + 1) * sizeof(*l->pub));
		if (parse_publish(tok, &l->pub[l->npub]) < 0) {
			free(l->pub);
			return -1;
		}
		l->npub++;
	}
	l->name = xstrdup(f[0]);
	l->bridge = xstrdup(f[2]);
	l->veth = xstrdup(f[3]);
	return 0;
}

/* Open and lock the leases file, and read it.  LOCK_EX to change it. */
static void lock_leases(struct leases *L, int how)
{
	char *dir = net_dir(), *path = xasprintf("%s/leases", dir);
	char *text, *line, *save;
	struct stat st;
	size_t len = 0;
	ssize_t n;

	memset(L, 0, sizeof(*L));
	if (mkdir_p(dir, 0755) < 0)
		die("mkdir %s", dir);
	L->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (L->fd < 0)
		die("open %s", path);
	while (flock(L->fd, how) < 0)
		if (errno != EINTR)
			die("flock %s", path);
	if (fstat(L->fd, &st) < 0)
		die("fstat %s", path);
	text = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size &&
	       (n = pread(L->fd, text + len, (size_t)st.st_size - len, (off_t)len)) != 0) {
		if (n < 0)
			die("read %s", path);
		len += (size_t)n;
	}
	text[len] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct lease l;
		if (line[0] == '#')
			continue;
		if (parse_lease(line, &l) < 0) {
			warn_x("%s: ignoring a damaged line", path);
			continue;
		}
		L->v = xrealloc(L->v, (L->n + 1) * sizeof(*L->v));
		L->v[L->n++] = l;
	}
	free(text);
	free(path);
	free(dir);
}

static void save_leases(struct leases *L)
{
	char *text = xstrdup("# NAME ADDRESS/PREFIX BRIDGE VETH PID STARTTIME [PUBLISH...]\n");
	size_t i, j, len;

	for (i = 0; i < L->n; i++) {
		const struct lease *l = &L->v[i];
		char ip[INET_ADDRSTRLEN], *t;

		t = xasprintf("%s%s %s/%d %s %s %d %llu", text, l->name,
			      ip_str(l->addr, ip), l->prefix, l->bridge, l->veth,
			      (int)l->pid, l->start);
		free(text);
		text = t;
		for (j = 0; j < l->npub; j++) {
			char p[64];
			publish_str(&l->pub[j], p, sizeof(p));
			t = xasprintf("%s %s", text, p);
			free(text);
			text = t;
		}
		t = xasprintf("%s\n", text);
		free(text);
		text = t;
	}
	len = strlen(text);
	if (ftruncate(L->fd, 0) < 0 || pwrite(L->fd, text, len, 0) != (ssize_t)len)
		die("write %s/net/leases", md_run_dir());
	free(text);
}

static void unlock_leases(struct leases *L)
{
	size_t i;

	for (i = 0; i < L->n; i++)
		free_lease(&L->v[i]);
	free(L->v);
	if (L->fd >= 0)
		close(L->fd);       /* closing the file releases the flock */
	memset(L, 0, sizeof(*L));
	L->fd = -1;
}

static struct lease *find_lease(struct leases *L, const char *name)
{
	size_t i;

	for (i = 0; i < L->n; i++)
		if (!strcmp(L->v[i].name, name))
			return &L->v[i];
	return NULL;
}

static void drop_lease(struct leases *L, const char *name)
{
	struct lease *l = find_lease(L, name);

	if (!l)
		return;
	free_lease(l);
	*l = L->v[--L->n];
}

/* Field 22 of /proc/PID/stat: when the process started, in clock ticks
 * since boot.  With the PID it names one process even if PIDs are reused.
 * 0 when PID is gone, or a zombie (killed, not yet reaped). */
static unsigned long long start_time_of(pid_t pid)
{
	char *path = xasprintf("/proc/%d/stat", (int)pid), *text, *p;
	unsigned long long start = 0;
	int field;

	text = read_file(path, NULL);
	free(path);
	if (!text)
		return 0;
	p = strrchr(text, ')');     /* the command name may hold spaces */
	if (p && (p[2] == 'Z' || p[2] == 'X')) {
		free(text);
		return 0;
	}
	for (field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	free(text);
	return start;
}

static int owner_alive(const struct lease *l)
{
	return l->pid == 0 || start_time_of(l->pid) == l->start;
}

/* ---- rtnetlink over libmnl ---- */

struct rtnl {
	struct mnl_socket *nl;
	unsigned int seq, portid;
};

static int rtnl_open(struct rtnl *r)
{
	r->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!r->nl)
		return -1;
	if (mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		mnl_socket_close(r->nl);
		r->nl = NULL;
		errno = e;
		return -1;
	}
	r->portid = mnl_socket_get_portid(r->nl);
	r->seq = (unsigned int)time(NULL);
	return 0;
}

static void rtnl_close(struct rtnl *r)
{
	if (r->nl)
		mnl_socket_close(r->nl);
	r->nl = NULL;
}

static struct nlmsghdr *rtnl_request(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	return nlh;
}

/* Send one request and read the kernel's answers until its acknowledgement:
 * 0, or -1 with errno set to the error the kernel returned. */
static int rtnl_talk(struct rtnl *r, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	static char buf[32768];
	int ret;

	nlh->nlmsg_seq = ++r->seq;
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	do {
		ssize_t n = mnl_socket_recvfrom(r->nl, buf, sizeof(buf));
		if (n < 0)
			return -1;
		ret = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, r->portid, cb, data);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -1 : 0;
}

struct link_info {
	int index;
	int master;             /* IFLA_MASTER: the bridge it is plugged into, or 0 */
	char kind[16];          /* IFLA_INFO_KIND: "bridge", "veth"... or "" */
};

static int link_info_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct link_info *info = data;
	const struct nlattr *a, *b;

	info->index = ifi->ifi_index;
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		if (mnl_attr_get_type(a) == IFLA_MASTER)
			info->master = (int)mnl_attr_get_u32(a);
		if (mnl_attr_get_type(a) != IFLA_LINKINFO)
			continue;
		mnl_attr_for_each_nested(b, a)
			if (mnl_attr_get_type(b) == IFLA_INFO_KIND)
				snprintf(info->kind, sizeof(info->kind), "%s",
					 mnl_attr_get_str(b));
	}
	return MNL_CB_OK;
}

/* RTM_GETLINK by name: the interface's index and kind; -1 with errno
 * ENODEV when there is no such link. */
static int rtnl_link_info(struct rtnl *r, const char *name, struct link_info *info)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = rtnl_request(buf, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	memset(info, 0, sizeof(*info));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	vlog("RTM_GETLINK %s", name);
	return rtnl_talk(r, nlh, link_info_cb, info);
}

static int rtnl_link_index(struct rtnl *r, const char *name)
{
	struct link_info info;

	return rtnl_link_info(r, name, &info) < 0 ? -1 : info.index;
}

/* ip link add NAME type bridge */
static int rtnl_new_bridge(struct rtnl *r, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = rtnl_request(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *info;

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, info);
	vlog("RTM_NEWLINK %s type bridge", name);
	return rtnl_talk(r, nlh, NULL, NULL);
}

/* ip link add HOST type veth peer name PEER netns NSFD: the peer is born
 * directly inside the container's namespace, so its name cannot clash
 * with a host interface. */
static int rtnl_new_veth(struct rtnl *r, const char *host, const char *peer,
			 int nsfd, const char *nspath)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = rtnl_request(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *info, *data, *peerinfo;

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, host);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* VETH_INFO_PEER holds a whole ifinfomsg and its attributes. */
	peerinfo = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
	mnl_attr_nest_end(nlh, peerinfo);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	vlog("RTM_NEWLINK %s type veth peer %s netns %s", host, peer, nspath);
	return rtnl_talk(r, nlh, NULL, NULL);
}

/* ip link set NAME [master BRIDGE] up */
static int rtnl_link_up(struct rtnl *r, int index, const char *name,
			int master, const char *master_name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = rtnl_request(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (master) {
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
		vlog("RTM_NEWLINK %s master %s up", name, master_name);
	} else {
		vlog("RTM_NEWLINK %s up", name);
	}
	return rtnl_talk(r, nlh, NULL, NULL);
}

/* ip link set NAME down */
static int rtnl_link_down(struct rtnl *r, int index, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = rtnl_request(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	ifi->ifi_flags = 0;
	ifi->ifi_change = IFF_UP;
	vlog("RTM_NEWLINK %s down", name);
	return rtnl_talk(r, nlh, NULL, NULL);
}

/* ip link del NAME */
static int rtnl_del_link(struct rtnl *r, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = rtnl_request(buf, RTM_DELLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	vlog("RTM_DELLINK %s", name);
	return rtnl_talk(r, nlh, NULL, NULL);
}

/* ip addr add ADDR/PREFIX dev NAME (FLAGS: NLM_F_EXCL or NLM_F_REPLACE) */
static int rtnl_add_addr(struct rtnl *r, int index, const char *name,
			 uint32_t addr, int prefix, uint16_t flags)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], a[INET_ADDRSTRLEN];
	struct nlmsghdr *nlh = rtnl_request(buf, RTM_NEWADDR, NLM_F_CREATE | flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)index;
	mnl_attr_put_u32(nlh, IFA_LOCAL, htonl(addr));
	mnl_attr_put_u32(nlh, IFA_ADDRESS, htonl(addr));
	mnl_attr_put_u32(nlh, IFA_BROADCAST, htonl(addr | ~mask_of(prefix)));
	vlog("RTM_NEWADDR %s/%d dev %s", ip_str(addr, a), prefix, name);
	return rtnl_talk(r, nlh, NULL, NULL);
}

/* ip addr del ADDR/PREFIX dev NAME */
static int rtnl_del_addr(struct rtnl *r, int index, const char *name,
			 uint32_t addr, int prefix)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], a[INET_ADDRSTRLEN];
	struct nlmsghdr *nlh = rtnl_request(buf, RTM_DELADDR, 0);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_index = (unsigned)index;
	mnl_attr_put_u32(nlh, IFA_LOCAL, htonl(addr));
	vlog("RTM_DELADDR %s/%d dev %s", ip_str(addr, a), prefix, name);
	return rtnl_talk(r, nlh, NULL, NULL);
}

/* ip route add default via GATEWAY dev NAME */
static int rtnl_add_default_route(struct rtnl *r, int index, const char *name,
				  uint32_t gateway)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], a[INET_ADDRSTRLEN];
	struct nlmsghdr *nlh = rtnl_request(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 0;           /* 0.0.0.0/0: the default route */
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(gateway));
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)index);
	vlog("RTM_NEWROUTE default via %s dev %s", ip_str(gateway, a), name);
	return rtnl_talk(r, nlh, NULL, NULL);
}

/* ---- does the subnet overlap a route the host already has? ---- */

struct route_check {
	uint32_t net;
	int prefix, skip_oif;
	char found[64];
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_check *rc = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	uint32_t dst = 0, table = rtm->rtm_table;
	int oif = 0;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(a)) {
		case RTA_DST: dst = ntohl(mnl_attr_get_u32(a)); break;
		case RTA_OIF: oif = (int)mnl_attr_get_u32(a); break;
		case RTA_TABLE: table = mnl_attr_get_u32(a); break;
		}
	}
	/* The default route overlaps everything; it is not a conflict. */
	if (table != RT_TABLE_MAIN || rtm->rtm_dst_len == 0 || rc->found[0] ||
	    (rc->skip_oif && oif == rc->skip_oif))
		return MNL_CB_OK;
	if (same_subnet(dst, rtm->rtm_dst_len, rc->net, rc->prefix)) {
		char a[INET_ADDRSTRLEN], dev[IF_NAMESIZE] = "?";
		if (oif)
			if_indextoname((unsigned)oif, dev);
		snprintf(rc->found, sizeof(rc->found), "%s/%d dev %s",
			 ip_str(dst, a), rtm->rtm_dst_len, dev);
	}
	return MNL_CB_OK;
}

/* ip route show table main: "" when no route overlaps NET/PREFIX, else the
 * route (written to FOUND).  Routes through BRIDGE are ours. */
static int check_routes(struct rtnl *r, uint32_t net, int prefix, int bridge,
			char found[64])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = rtnl_request(buf, RTM_GETROUTE, NLM_F_DUMP);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct route_check rc = { .net = net, .prefix = prefix, .skip_oif = bridge };

	rtm->rtm_family = AF_INET;
	nlh->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
	vlog("RTM_GETROUTE dump (is the subnet free?)");
	if (rtnl_talk(r, nlh, route_cb, &rc) < 0)
		return -1;
	strcpy(found, rc.found);
	return 0;
}

/* ---- nftables through libnftables ---- */

/*
 * libnftables is loaded with dlopen(3) while net-bridge talks to nftables
 * and unloaded after (dlclose), rather than linked: the supervisor then
 * waits for the whole life of the container without libnftables and the
 * libraries it pulls in (libnftnl, libxtables, libjansson, libgmp) mapped.
 * Their relocated data alone are ~100 kB of private pages per running
 * container.  The calls are the usual ones of <nftables/libnftables.h>,
 * through pointers that dlsym(3) fills (__typeof__ keeps their types).
 */
static struct {
	void *handle;
	__typeof__(nft_ctx_new) *ctx_new;
	__typeof__(nft_ctx_free) *ctx_free;
	__typeof__(nft_ctx_buffer_output) *buffer_output;
	__typeof__(nft_ctx_buffer_error) *buffer_error;
	__typeof__(nft_ctx_output_set_flags) *output_set_flags;
	__typeof__(nft_run_cmd_from_buffer) *run_cmd_from_buffer;
	__typeof__(nft_ctx_get_output_buffer) *get_output_buffer;
	__typeof__(nft_ctx_get_error_buffer) *get_error_buffer;
} libnft;

/* dlsym(3) returns a void *; POSIX guarantees it converts to a function
 * pointer, which ISO C leaves undefined: hence the memcpy. */
static int nft_symbol(const char *name, void *fn, size_t size)
{
	void *sym = dlsym(libnft.handle, name);

	if (!sym) {
		warn_x("libnftables: %s", dlerror());
		return -1;
	}
	memcpy(fn, &sym, size);
	return 0;
}

static int nft_load(void)
{
	if (libnft.handle)
		return 0;
	libnft.handle = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!libnft.handle) {
		warn_x("dlopen libnftables.so.1: %s", dlerror());
		return -1;
	}
#define SYMBOL(field, name) nft_symbol(#name, &libnft.field, sizeof(libnft.field))
	if (SYMBOL(ctx_new, nft_ctx_new) < 0 || SYMBOL(ctx_free, nft_ctx_free) < 0 ||
	    SYMBOL(buffer_output, nft_ctx_buffer_output) < 0 ||
	    SYMBOL(buffer_error, nft_ctx_buffer_error) < 0 ||
	    SYMBOL(output_set_flags, nft_ctx_output_set_flags) < 0 ||
	    SYMBOL(run_cmd_from_buffer, nft_run_cmd_from_buffer) < 0 ||
	    SYMBOL(get_output_buffer, nft_ctx_get_output_buffer) < 0 ||
	    SYMBOL(get_error_buffer, nft_ctx_get_error_buffer) < 0) {
		dlclose(libnft.handle);
		libnft.handle = NULL;
		return -1;
	}
#undef SYMBOL
	return 0;
}

/*
 * One libnftables context for the whole setup (or teardown), freed last:
 * each commit leaves the kernel a grace period to wait before it frees the
 * old rules, and closing the context's socket waits for it.  Freed at the
 * end, that wait has passed meanwhile.  The library goes with it.
 */
static struct nft_ctx *nft;

static void nft_release(void)
{
	if (nft)
		libnft.ctx_free(nft);
	nft = NULL;
	if (libnft.handle)
		dlclose(libnft.handle);
	libnft.handle = NULL;
}

/* Run nft(8) commands (one per line); OUT, if given, receives what a
 * "list" prints, with rule handles. */
static int nft_run(const char *cmds, char **out)
{
	const char *p, *text;
	int ret;

	if (!nft) {
		if (nft_load() < 0) {
			errno = ENOENT;
			return -1;
		}
		nft = libnft.ctx_new(NFT_CTX_DEFAULT);
		if (!nft) {
			errno = ENOMEM;
			return -1;
		}
		libnft.buffer_output(nft);
		libnft.buffer_error(nft);
		libnft.output_set_flags(nft, NFT_CTX_OUTPUT_HANDLE);
	}
	for (p = cmds; md_verbose && *p; ) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);
		vlog("nft %.*s", len, p);
		p += len + (nl ? 1 : 0);
	}
	ret = libnft.run_cmd_from_buffer(nft, cmds);
	/* Reading a buffer empties it for the next command. */
	text = libnft.get_output_buffer(nft);
	if (out)
		*out = xstrdup(ret == 0 && text ? text : "");
	text = libnft.get_error_buffer(nft);
	if (ret != 0) {
		warn_x("nft: %.*s", text ? (int)strcspn(text, "\n") : 0, text ? text : "");
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* "nft -a list table ip minidock" into *OUT ("" when there is no table). */
static int nft_list(char **out)
{
	char *tables = NULL;
	int ret = nft_run("list tables ip", &tables);

	*out = NULL;
	if (ret == 0 && strstr(tables, "table ip minidock\n"))
		ret = nft_run("list table " NFT_TABLE, out);
	if (ret == 0 && !*out)
		*out = xstrdup("");
	free(tables);
	return ret;
}

static char *append(char *s, char *t)
{
	char *r = xasprintf("%s%s", s, t);

	free(s);
	free(t);
	return r;
}

/*
 * Every rule carries a comment: "NAME" for one container's, "bridge BR"
 * for those a whole bridge shares.  Delete the rules tagged TAG (and TAG2,
 * unless NULL) in one transaction, by the handle nft prints after
 * "# handle".  No rule, no commit.
 */
static int nft_delete_tagged(const char *tag, const char *tag2)
{
	char *list, *line, *save, *cmds = xstrdup(""), *want, *want2, *chain = NULL;
	int ret = nft_list(&list);

	if (ret < 0)
		goto out;
	want = xasprintf("comment \"%s\" # handle ", tag);
	want2 = tag2 ? xasprintf("comment \"%s\" # handle ", tag2) : NULL;
	for (line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = line + strspn(line, "\t "), *h = NULL;

		if (!strncmp(p, "chain ", 6)) {
			free(chain);
			chain = xstrdup(p + 6);
			chain[strcspn(chain, " {")] = '\0';
			continue;
		}
		if (!chain)
			continue;
		if ((h = strstr(p, want)))
			h += strlen(want);
		else if (want2 && (h = strstr(p, want2)))
			h += strlen(want2);
		if (h)
			cmds = append(cmds, xasprintf("delete rule " NFT_TABLE " %s handle %s\n",
						      chain, h));
	}
	free(want);
	free(want2);
	if (*cmds)
		ret = nft_run(cmds, NULL);
out:
	free(chain);
	free(list);
	free(cmds);
	return ret;
}

static int nft_delete_table(void)
{
	char *list;
	int ret = nft_list(&list);

	if (ret == 0 && *list)
		ret = nft_run("delete table " NFT_TABLE, NULL);
	free(list);
	return ret;
}

/* The table and its NAT base chains, and a filter chain for the guard. */
static const char nft_table_cmds[] =
	"add table " NFT_TABLE "\n"
	"add chain " NFT_TABLE " prerouting { type nat hook prerouting priority dstnat; }\n"
	"add chain " NFT_TABLE " output { type nat hook output priority -100; }\n"
	"add chain " NFT_TABLE " postrouting { type nat hook postrouting priority srcnat; }\n"
	"add chain " NFT_TABLE " guard { type filter hook prerouting priority raw; }\n";

/*
 * The rules of one new container.  The bridge's own rules (masquerade of
 * its subnet, the guard) are added with its first container only, so most
 * containers need no nftables change at all, only a look at the table.
 */
static int nft_add_rules(const struct lease *l, const struct options *o)
{
	char a[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN], *list, *cmds, *rule;
	int ret;
	size_t i;

	if (nft_list(&list) < 0)
		return -1;
	cmds = xstrdup(*list ? "" : nft_table_cmds);
	ip_str(l->addr, a);
	ip_str(l->addr & mask_of(l->prefix), net);
	/* route_localnet is on for the bridge: refuse what a container
	 * itself sends to 127.0.0.0/8 (CVE-2020-8558). */
	rule = xasprintf("iifname \"%s\" ip daddr 127.0.0.0/8 drop comment \"bridge %s\"",
			 l->bridge, l->bridge);
	if (!strstr(list, rule))
		cmds = append(cmds, xasprintf("add rule " NFT_TABLE " guard %s\n", rule));
	free(rule);
	/* Leaving through anything but its bridge, a container takes the
	 * host's address, so that the answers find their way back. */
	rule = xasprintf("ip saddr %s/%d oifname != \"%s\" masquerade comment \"bridge %s\"",
			 net, l->prefix, l->bridge, l->bridge);
	if (o->nat && !strstr(list, rule))
		cmds = append(cmds, xasprintf("add rule " NFT_TABLE " postrouting %s\n", rule));
	free(rule);
	if (!o->nat)
		/* Ahead of the subnet's masquerade, present or to come. */
		cmds = append(cmds, xasprintf(
			"insert rule " NFT_TABLE " postrouting ip saddr %s oifname != \"%s\" accept comment \"%s\"\n",
			a, l->bridge, l->name));
	for (i = 0; i < l->npub; i++) {
		const struct publish *p = &l->pub[i];
		char h[INET_ADDRSTRLEN], *match;

		match = p->hostip ? xasprintf("ip daddr %s", ip_str(p->hostip, h))
				  : xstrdup("fib daddr type local");
		/* prerouting: packets from other hosts (and containers);
		 * output: packets the host itself sends. */
		cmds = append(cmds, xasprintf(
			"add rule " NFT_TABLE " prerouting %s %s dport %u dnat to %s:%u comment \"%s\"\n"
			"add rule " NFT_TABLE " output %s %s dport %u dnat to %s:%u comment \"%s\"\n",
			match, p->proto, p->hostport, a, p->port, l->name,
			match, p->proto, p->hostport, a, p->port, l->name));
		free(match);
	}
	if (l->npub)
		/* Forwarded from 127.0.0.1 or from its own subnet, the answer
		 * would not come back through the host: masquerade those. */
		cmds = append(cmds, xasprintf(
			"add rule " NFT_TABLE " postrouting ct status dnat ip daddr %s ip saddr { 127.0.0.0/8, %s/%d } masquerade comment \"%s\"\n",
			a, net, l->prefix, l->name));
	ret = *cmds ? nft_run(cmds, NULL) : 0;
	free(cmds);
	free(list);
	return ret;
}

/* ---- /proc/sys knobs ---- */

static int write_sysctl(const char *path, const char *value)
{
	vlog("write %s = %.*s", path, (int)strcspn(value, "\n"), value);
	return write_file(path, value);
}

/* IPv4 forwarding on, remembering the host's setting for the last teardown. */
static int enable_forwarding(void)
{
	const char *knob = "/proc/sys/net/ipv4/ip_forward";
	char *dir = net_dir(), *saved = xasprintf("%s/ip_forward.saved", dir);
	char *old = NULL;
	int ret = 0;

	if (access(saved, F_OK) < 0) {
		old = read_file(knob, NULL);
		if (!old || write_file(saved, old) < 0)
			ret = -1;
	}
	if (ret == 0)
		ret = write_sysctl(knob, "1\n");
	free(old);
	free(saved);
	free(dir);
	return ret;
}

static void restore_forwarding(void)
{
	char *dir = net_dir(), *saved = xasprintf("%s/ip_forward.saved", dir);
	char *old = read_file(saved, NULL);

	if (old) {
		if (write_sysctl("/proc/sys/net/ipv4/ip_forward", old) < 0)
			warn_errno("write /proc/sys/net/ipv4/ip_forward");
		unlink(saved);
	}
	free(old);
	free(saved);
	free(dir);
}

/* ---- the network namespace ---- */

/* Make the netns directory a shared mount point of its own, as ip-netns(8)
 * does, so an unmount there reaches the copies other mount namespaces made. */
static int share_netns_dir(const char *dir)
{
	if (mkdir_p(dir, 0755) < 0)
		return -1;
	if (mount("", dir, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	vlog("mount(\"%s\", \"%s\", MS_BIND|MS_REC); mount(MS_SHARED)", dir, dir);
	if (mount(dir, dir, "none", MS_BIND | MS_REC, NULL) < 0)
		return -1;
	return mount("", dir, "none", MS_SHARED | MS_REC, NULL);
}

/* ip netns add: a new network namespace, pinned by a bind mount of
 * /proc/self/ns/net on PATH.  We step into it (unshare), open a netlink
 * socket there (INSIDE keeps talking to that namespace), and step back.
 * Returns an fd of the new namespace. */
static int create_netns(const char *path, struct rtnl *inside)
{
	int host = -1, fd = -1, e;

	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return -1;
	close(fd);
	fd = -1;
	host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (host < 0)
		goto fail;
	vlog("unshare(CLONE_NEWNET)");
	if (unshare(CLONE_NEWNET) < 0)
		goto fail;
	vlog("mount(\"/proc/self/ns/net\", \"%s\", MS_BIND)", path);
	if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0)
		goto back;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || rtnl_open(inside) < 0)
		goto back;
	vlog("setns(host, CLONE_NEWNET)");
	if (setns(host, CLONE_NEWNET) < 0)
		die("setns back to the host's network namespace");
	close(host);
	return fd;
back:
	e = errno;
	if (setns(host, CLONE_NEWNET) < 0)
		die("setns back to the host's network namespace");
	errno = e;
fail:
	e = errno;
	if (host >= 0)
		close(host);
	if (fd >= 0)
		close(fd);
	rtnl_close(inside);
	umount2(path, MNT_DETACH);
	unlink(path);
	errno = e;
	return -1;
}

static void delete_netns(const char *path)
{
	vlog("umount2(\"%s\", MNT_DETACH); unlink", path);
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		warn_errno("umount %s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		warn_errno("unlink %s", path);
}

/* ---- resolv.conf and hosts for run to bind-mount ---- */

/* The nameserver, search and options lines of FILE, without 127.x
 * nameservers (the host's own resolver: unreachable from inside). */
static char *usable_resolv_lines(const char *file)
{
	char *text = read_file(file, NULL), *line, *save;
	char *out = xstrdup("");

	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char addr[64];
		uint32_t a;

		if (sscanf(line, " nameserver %63s", addr) == 1 &&
		    parse_ip(addr, &a) == 0 && (a >> 24) != 127)
			out = append(out, xasprintf("nameserver %s\n", addr));
		else if (!strncmp(line, "search ", 7) || !strncmp(line, "options ", 8))
			out = append(out, xasprintf("%s\n", line));
	}
	free(text);
	return out;
}

static char *host_nameservers(void)
{
	char *out = usable_resolv_lines("/etc/resolv.conf");

	/* With systemd-resolved, /etc/resolv.conf names 127.0.0.53; the
	 * servers it forwards to are listed here. */
	if (!strstr(out, "nameserver")) {
		free(out);
		out = usable_resolv_lines("/run/systemd/resolve/resolv.conf");
	}
	if (!strstr(out, "nameserver"))
		/* What Docker falls back to as well. */
		out = append(out, xstrdup("nameserver 8.8.8.8\nnameserver 8.8.4.4\n"));
	return out;
}

static int write_dns_files(const struct lease *l, const struct options *o)
{
	char *dir = xasprintf("%s/%s", md_run_dir(), l->name), *path, *text, a[INET_ADDRSTRLEN];
	int ret = -1;
	size_t i;

	if (mkdir_p(dir, 0755) < 0) {
		warn_errno("mkdir %s", dir);
		goto out;
	}
	if (o->ndns) {
		text = xstrdup("");
		for (i = 0; i < o->ndns; i++)
			text = append(text, xasprintf("nameserver %s\n", o->dns[i]));
	} else {
		text = host_nameservers();
	}
	path = xasprintf("%s/resolv.conf", dir);
	ret = write_file(path, text);
	if (ret < 0)
		warn_errno("write %s", path);
	free(path);
	free(text);
	if (ret < 0)
		goto out;
	path = xasprintf("%s/hosts", dir);
	text = xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n",
			 ip_str(l->addr, a), l->name);
	ret = write_file(path, text);
	if (ret < 0)
		warn_errno("write %s", path);
	free(path);
	free(text);
out:
	free(dir);
	return ret;
}

/* Remove only our two files: run keeps others in the same directory. */
static void remove_dns_files(const char *name)
{
	char *dir = xasprintf("%s/%s", md_run_dir(), name);
	char *r = xasprintf("%s/resolv.conf", dir), *h = xasprintf("%s/hosts", dir);

	unlink(r);
	unlink(h);
	rmdir(dir);     /* fails, as it should, while run keeps files there */
	free(r);
	free(h);
	free(dir);
}

/* ---- taking down one container's network ---- */

/* BR.ours: net-bridge created the bridge BR, and removes it with its last
 * container.  BR.gateway: net-bridge gave the gateway address to a bridge
 * of the host's, and takes it back then. */
static char *bridge_marker(const char *bridge)
{
	char *dir = net_dir(), *m = xasprintf("%s/%s.ours", dir, bridge);

	free(dir);
	return m;
}

static char *gateway_marker(const char *bridge)
{
	char *dir = net_dir(), *m = xasprintf("%s/%s.gateway", dir, bridge);

	free(dir);
	return m;
}

static int bridge_is_ours(const char *bridge)
{
	char *marker = bridge_marker(bridge);
	int ours = access(marker, F_OK) == 0;

	free(marker);
	return ours;
}

/* ip addr del GATEWAY/PREFIX dev BRIDGE, if BR.gateway says we added it. */
static int give_back_gateway(struct rtnl *r, const char *bridge)
{
	char *marker = gateway_marker(bridge), *cidr = read_file(marker, NULL);
	uint32_t net;
	int prefix, index, ret = 0;
	const char *why;

	if (cidr && parse_cidr(cidr, &net, &prefix, &why) == 0 &&
	    (index = rtnl_link_index(r, bridge)) > 0)
		ret = rtnl_del_addr(r, index, bridge, net + 1, prefix);
	if (cidr)
		unlink(marker);
	free(cidr);
	free(marker);
	return ret;
}

/* Undo everything of container NAME (lease L, or NULL after a crash left
 * no lease), with the leases file locked.  Best effort: go on after an
 * error, and say what was left. */
/*
 * After the chain, the veth can go with the namespace.  RTM_DELLINK
 * answers only once the kernel has unregistered both ends of the pair,
 * which waits until every CPU has run the RCU callbacks queued so far
 * (rcu_barrier() in netdev_run_todo): 25 ms on a small VM, most of the
 * time a bridged container takes to stop.  But the kernel frees a network
 * namespace by itself once nothing uses it (no process, no bind mount, no
 * open file): its worker (cleanup_net) then unregisters the namespace's
 * devices, and a veth takes its peer along.  So, COMMAND having ended:
 * the host end is only set down (the bridge stops forwarding to it at
 * once, even if something still held the namespace), the namespace file
 * is removed, and the kernel deletes the pair a moment later, while
 * net-bridge has already returned.  `ip link` lists the veth until then;
 * a new container of the same name waits for it (check_veth_free).
 */
static void leave_veth_to_namespace(struct rtnl *r, const char *veth)
{
	int index = rtnl_link_index(r, veth);

	if (index < 0)
		return;
	if (rtnl_link_down(r, index, veth) < 0)
		warn_errno("RTM_NEWLINK %s down", veth);
	vlog("%s goes with the namespace: the kernel deletes the pair when it frees it", veth);
}

/*
 * Undo a container's network.  AFTER_COMMAND: the chain's own teardown,
 * COMMAND has ended: the veth may go with the namespace, without our
 * waiting for it (leave_veth_to_namespace).  Otherwise (--delete, a
 * failed or reclaimed setup) RTM_DELLINK, waited for.
 */
static int teardown(struct leases *L, const char *name, int after_command)
{
	struct lease *l = find_lease(L, name);
	char *path = netns_path(name), *veth = l ? xstrdup(l->veth) : veth_name(name);
	char *bridge = l ? xstrdup(l->bridge) : NULL, *tag = NULL;
	struct rtnl r = { 0 };
	int ret = 0, others = 0, bridge_used = 0;
	size_t i;

	for (i = 0; i < L->n; i++) {
		if (&L->v[i] == l)
			continue;
		others++;
		if (bridge && !strcmp(L->v[i].bridge, bridge))
			bridge_used = 1;
	}
	/* nftables first: the kernel's grace period after this commit then
	 * passes while the links go.  The last container takes the table. */
	if (bridge && !bridge_used)
		tag = xasprintf("bridge %s", bridge);
	if ((others ? nft_delete_tagged(name, tag) : nft_delete_table()) < 0)
		ret = -1;
	free(tag);
	if (rtnl_open(&r) < 0)
		die("socket(AF_NETLINK, NETLINK_ROUTE)");
	/* Deleting one end of a veth pair deletes both. */
	if (after_command && access(path, F_OK) == 0) {
		leave_veth_to_namespace(&r, veth);
	} else if (rtnl_del_link(&r, veth) < 0 && errno != ENODEV) {
		warn_errno("RTM_DELLINK %s", veth);
		ret = -1;
	}
	delete_netns(path);
	remove_dns_files(name);
	drop_lease(L, name);
	if (bridge && !bridge_used) {
		char *marker = bridge_marker(bridge);

		/* The bridge goes with its last container, if we made it. */
		if (access(marker, F_OK) == 0) {
			if (rtnl_del_link(&r, bridge) < 0 && errno != ENODEV) {
				warn_errno("RTM_DELLINK %s", bridge);
				ret = -1;
			}
			unlink(marker);
		} else if (give_back_gateway(&r, bridge) < 0 && errno != EADDRNOTAVAIL) {
			warn_errno("RTM_DELADDR on %s", bridge);
			ret = -1;
		}
		free(marker);
	}
	if (!others)
		restore_forwarding();
	rtnl_close(&r);
	free(bridge);
	free(veth);
	free(path);
	return ret;
}

/* Leases whose net-bridge was killed: take their networks down. */
static void reclaim_dead(struct leases *L)
{
	size_t i = 0, before = L->n;

	while (i < L->n) {
		if (owner_alive(&L->v[i])) {
			i++;
			continue;
		}
		char *name = xstrdup(L->v[i].name);
		vlog("reclaiming %s: net-bridge %d is gone", name, (int)L->v[i].pid);
		teardown(L, name, 0);
		free(name);
		i = 0;
	}
	if (L->n != before)
		save_leases(L);
}

/* ---- setting one up ---- */

/*
 * VETH must not exist.  A veth of that name may still be on its way out,
 * left by the container of the same name that just ended (see
 * leave_veth_to_namespace): wait for it, two seconds at most.  Any
 * other interface of that name is not ours: refused at once.
 */
static void check_veth_free(struct rtnl *r, const char *name, const char *veth)
{
	struct link_info info;
	int waited_ms = 0;

	while (rtnl_link_info(r, veth, &info) == 0) {
		if (strcmp(info.kind, "veth") != 0 || waited_ms >= 2000)
			die_x("--name %s: an interface %s already exists", name, veth);
		sleep_ms(10);
		waited_ms += 10;
	}
}

static void use_subnet(struct options *o, const char *cidr)
{
	const char *why;

	if (parse_cidr(cidr, &o->net, &o->prefix, &why) < 0)
		die_x("%s: %s", cidr, why);
	o->subnet = cidr;
}

/* Without --subnet (nor --ip): the subnet the bridge's containers already
 * use, else the first fallback that no host route overlaps. */
static void choose_subnet(struct leases *L, struct options *o, struct rtnl *r, int bridge)
{
	static char cidr[32];
	char a[INET_ADDRSTRLEN], found[64];
	size_t i;

	if (o->subnet_given || o->ip)
		return;
	for (i = 0; i < L->n; i++) {
		const struct lease *l = &L->v[i];

		if (!strcmp(l->bridge, o->bridge)) {
			snprintf(cidr, sizeof(cidr), "%s/%d",
				 ip_str(l->addr & mask_of(l->prefix), a), l->prefix);
			use_subnet(o, cidr);
			return;
		}
	}
	for (i = 0; i < sizeof(fallback_subnets) / sizeof(fallback_subnets[0]); i++) {
		use_subnet(o, fallback_subnets[i]);
		if (check_routes(r, o->net, o->prefix, bridge, found) < 0)
			die("RTM_GETROUTE");
		if (!found[0])
			return;
		vlog("%s overlaps the host's route %s: next", o->subnet, found);
	}
	use_subnet(o, DEFAULT_SUBNET);   /* and check_routes says why not */
}

static void check_free(struct leases *L, struct options *o)
{
	char *path = netns_path(o->name), a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	size_t i, j;

	if (find_lease(L, o->name) || access(path, F_OK) == 0)
		die_x("--name %s: already in use (%s exists; net-bridge --name %s --delete removes it)",
		      o->name, path, o->name);
	free(path);
	for (i = 0; i < L->n; i++) {
		const struct lease *l = &L->v[i];

		if (l->addr == o->want_ip)
			die_x("--ip %s: already taken by %s", o->ip, l->name);
		if (same_subnet(l->addr, l->prefix, o->net, o->prefix) && l->prefix != o->prefix)
			die_x("--subnet %s overlaps %s/%d of %s", o->subnet,
			      ip_str(l->addr & mask_of(l->prefix), a), l->prefix, l->name);
		if (!strcmp(l->bridge, o->bridge) && l->prefix == o->prefix &&
		    !same_subnet(l->addr, l->prefix, o->net, o->prefix))
			die_x("--bridge %s already carries %s/%d, not %s", o->bridge,
			      ip_str(l->addr & mask_of(l->prefix), b), l->prefix, o->subnet);
		for (j = 0; j < o->npub; j++) {
			size_t k;
			for (k = 0; k < l->npub; k++)
				if (publish_clash(&o->pub[j], &l->pub[k]))
					die_x("--publish: host port %u/%s is already published by %s",
					      o->pub[j].hostport, o->pub[j].proto, l->name);
		}
	}
}

/* A port a program of the host listens on would silently be taken from
 * it by our DNAT: bind(2) it once to see (SO_REUSEADDR: a connection in
 * TIME_WAIT is not a listener). */
static void check_host_ports(const struct options *o)
{
	size_t i;

	for (i = 0; i < o->npub; i++) {
		const struct publish *p = &o->pub[i];
		struct sockaddr_in sa = {
			.sin_family = AF_INET,
			.sin_port = htons((uint16_t)p->hostport),
			.sin_addr.s_addr = htonl(p->hostip),
		};
		int one = 1, fd, busy;

		fd = socket(AF_INET, (strcmp(p->proto, "udp") ? SOCK_STREAM : SOCK_DGRAM) |
			    SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("socket");
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		busy = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == EADDRINUSE;
		close(fd);
		if (busy)
			die_x("--publish: host port %u/%s is in use by a program of the host",
			      p->hostport, p->proto);
	}
}

/* The next address after the gateway that no lease holds. */
static uint32_t choose_address(struct leases *L, const struct options *o)
{
	uint32_t last = o->net | ~mask_of(o->prefix), a;
	char s[INET_ADDRSTRLEN];
	size_t i;

	if (o->ip)
		return o->want_ip;
	for (a = o->net + 2; a < last; a++) {
		for (i = 0; i < L->n; i++)
			if (L->v[i].addr == a)
				break;
		if (i == L->n)
			return a;
	}
	die_x("--subnet %s: no free address left", ip_str(o->net, s));
}

/* The bridge, up, with the gateway address; created if INDEX is 0. */
static int ensure_bridge(struct rtnl *r, const struct options *o, int index)
{
	char *marker, *knob;

	if (index == 0) {
		if (rtnl_new_bridge(r, o->bridge) < 0) {
			warn_errno("RTM_NEWLINK %s type bridge", o->bridge);
			return -1;
		}
		marker = bridge_marker(o->bridge);
		if (write_file(marker, "created by net-bridge\n") < 0)
			warn_errno("write %s", marker);
		free(marker);
		index = rtnl_link_index(r, o->bridge);
		/* Let packets DNATed from 127.0.0.1 out (and their answers in)
		 * through the bridge; the "guard" chain keeps containers from
		 * using this to reach the host's 127.0.0.1 services. */
		knob = xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", o->bridge);
		if (write_sysctl(knob, "1\n") < 0)
			warn_errno("write %s", knob);
		free(knob);
	}
	if (index < 0) {
		warn_errno("RTM_GETLINK %s", o->bridge);
		return -1;
	}
	if (rtnl_add_addr(r, index, o->bridge, o->net + 1, o->prefix, NLM_F_EXCL) == 0) {
		/* On a bridge of the host's, remember to take it back. */
		marker = gateway_marker(o->bridge);
		if (!bridge_is_ours(o->bridge) && write_file(marker, o->subnet) < 0)
			warn_errno("write %s", marker);
		free(marker);
	} else if (errno != EEXIST) {
		warn_errno("RTM_NEWADDR on %s", o->bridge);
		return -1;
	}
	if (rtnl_link_up(r, index, o->bridge, 0, NULL) < 0) {
		warn_errno("RTM_NEWLINK %s up", o->bridge);
		return -1;
	}
	return index;
}

/* veth pair, host end on the bridge, eth0 configured inside. */
static int plug_veth(struct rtnl *host, struct rtnl *inside, int bridge_index,
		     const struct lease *l, int nsfd, const char *nspath, uint32_t gateway)
{
	int veth, lo, eth0;

	if (rtnl_new_veth(host, l->veth, "eth0", nsfd, nspath) < 0) {
		warn_errno("RTM_NEWLINK %s type veth", l->veth);
		return -1;
	}
	veth = rtnl_link_index(host, l->veth);
	if (veth < 0 || rtnl_link_up(host, veth, l->veth, bridge_index, l->bridge) < 0) {
		warn_errno("RTM_NEWLINK %s master %s up", l->veth, l->bridge);
		return -1;
	}
	lo = rtnl_link_index(inside, "lo");
	eth0 = rtnl_link_index(inside, "eth0");
	if (lo < 0 || eth0 < 0) {
		warn_errno("RTM_GETLINK lo/eth0 in %s", nspath);
		return -1;
	}
	if (rtnl_link_up(inside, lo, "lo", 0, NULL) < 0 ||
	    rtnl_add_addr(inside, eth0, "eth0", l->addr, l->prefix, NLM_F_EXCL) < 0 ||
	    rtnl_link_up(inside, eth0, "eth0", 0, NULL) < 0 ||
	    rtnl_add_default_route(inside, eth0, "eth0", gateway) < 0) {
		warn_errno("configuring eth0 in %s", nspath);
		return -1;
	}
	return 0;
}

/*
 * The whole setup, under the leases lock: checks that need the kernel or
 * the leases, then lease, forwarding, bridge, namespace, veth, NAT, files.
 * On failure everything done is undone and we exit 125.  Returns an fd of
 * the namespace; *OUT receives a copy of the lease.
 */
static int connect_container(struct options *o, pid_t owner, struct lease *out)
{
	struct leases L;
	struct rtnl host = { 0 }, inside = { 0 };
	struct lease l;
	char found[64], *path = netns_path(o->name), *veth = veth_name(o->name);
	struct link_info br;
	int bridge, nsfd = -1;

	lock_leases(&L, LOCK_EX);
	reclaim_dead(&L);
	if (rtnl_open(&host) < 0)
		die("socket(AF_NETLINK, NETLINK_ROUTE)");
	if (rtnl_link_info(&host, o->bridge, &br) == 0 && strcmp(br.kind, "bridge"))
		die_x("--bridge %s: this interface is not a bridge (it is a %s)", o->bridge,
		      br.kind[0] ? br.kind : "device");
	bridge = br.index;
	choose_subnet(&L, o, &host, bridge);
	check_free(&L, o);
	check_host_ports(o);
	check_veth_free(&host, o->name, veth);
	if (check_routes(&host, o->net, o->prefix, bridge, found) < 0)
		die("RTM_GETROUTE");
	if (found[0])
		die_x("--subnet %s overlaps the host's route %s; choose another with --subnet",
		      o->subnet, found);

	memset(&l, 0, sizeof(l));
	l.name = xstrdup(o->name);
	l.bridge = xstrdup(o->bridge);
	l.veth = veth;
	l.addr = choose_address(&L, o);
	l.prefix = o->prefix;
	l.pid = owner;
	l.start = owner ? start_time_of(owner) : 0;
	l.npub = o->npub;
	l.pub = xmalloc((o->npub + 1) * sizeof(*l.pub));
	if (o->npub)
		memcpy(l.pub, o->pub, o->npub * sizeof(*l.pub));
	/* Written first, so --delete can undo a setup that was interrupted. */
	L.v = xrealloc(L.v, (L.n + 1) * sizeof(*L.v));
	L.v[L.n++] = l;
	save_leases(&L);

	if (enable_forwarding() < 0) {
		warn_errno("write /proc/sys/net/ipv4/ip_forward");
		goto fail;
	}
	/* NAT first: the kernel's grace period after this commit then runs
	 * while we build links (see nft_release). */
	if (nft_add_rules(&l, o) < 0)
		goto fail;
	bridge = ensure_bridge(&host, o, bridge);
	if (bridge < 0)
		goto fail;
	if (share_netns_dir(md_netns_dir()) < 0) {
		warn_errno("mount --make-shared %s", md_netns_dir());
		goto fail;
	}
	nsfd = create_netns(path, &inside);
	if (nsfd < 0) {
		warn_errno("network namespace %s", path);
		goto fail;
	}
	if (plug_veth(&host, &inside, bridge, &l, nsfd, path, o->net + 1) < 0 ||
	    write_dns_files(&l, o) < 0)
		goto fail;

	out->name = xstrdup(l.name);
	out->addr = l.addr;
	out->prefix = l.prefix;
	rtnl_close(&inside);
	rtnl_close(&host);
	unlock_leases(&L);
	nft_release();
	free(path);
	return nsfd;
fail:
	if (nsfd >= 0)
		close(nsfd);
	rtnl_close(&inside);
	rtnl_close(&host);
	teardown(&L, o->name, 0);
	save_leases(&L);
	exit(EXIT_TOOL_FAILED);
}

/* --delete, and the chain's own teardown (OWNER: only if still ours). */
static int disconnect_container(const char *name, pid_t owner)
{
	struct leases L;
	struct lease *l;
	char *path = netns_path(name);
	int ret = 0, exists;

	lock_leases(&L, LOCK_EX);
	l = find_lease(&L, name);
	exists = l || access(path, F_OK) == 0;
	if (owner && (!l || l->pid != owner)) {
		/* Someone ran --delete on us meanwhile: nothing left to do. */
	} else if (!exists) {
		warn_x("--name %s: no such container network", name);
		ret = -1;
	} else {
		/* After the chain (OWNER), COMMAND has ended: the veth may go
		 * with the namespace.  --delete waits until it is gone. */
		ret = teardown(&L, name, owner != 0);
		save_leases(&L);
	}
	unlock_leases(&L);
	nft_release();
	free(path);
	return ret;
}

/* ---- --list ---- */

static const char *owner_of(const struct lease *l, char buf[16])
{
	if (l->pid == 0)
		return "kept";
	if (!owner_alive(l))
		return "dead";
	snprintf(buf, 16, "%d", (int)l->pid);
	return buf;
}

static void print_text(const struct lease *l)
{
	char a[INET_ADDRSTRLEN], addr[32], owner[16], p[64];
	size_t j;

	snprintf(addr, sizeof(addr), "%s/%d", ip_str(l->addr, a), l->prefix);
	printf("%-16s %-18s %-12s %-8s", l->name, addr, l->bridge, owner_of(l, owner));
	for (j = 0; j < l->npub; j++) {
		publish_str(&l->pub[j], p, sizeof(p));
		printf("%s%s", j ? "," : " ", p);
	}
	printf("\n");
}

/* Names, bridges and ports are checked when parsed: nothing to escape. */
static void print_json(const struct lease *l, int first)
{
	char a[INET_ADDRSTRLEN], owner[16], p[64], *ns = netns_path(l->name);
	size_t j;

	printf("%s  {\"name\": \"%s\", \"address\": \"%s\", \"prefix\": %d, "
	       "\"bridge\": \"%s\", \"veth\": \"%s\", \"netns\": \"%s\", "
	       "\"owner\": \"%s\", \"publish\": [",
	       first ? "" : ",\n", l->name, ip_str(l->addr, a), l->prefix,
	       l->bridge, l->veth, ns, owner_of(l, owner));
	for (j = 0; j < l->npub; j++) {
		publish_str(&l->pub[j], p, sizeof(p));
		printf("%s\"%s\"", j ? ", " : "", p);
	}
	printf("]}");
	free(ns);
}

static int list_networks(const struct options *o)
{
	struct leases L;
	size_t i;

	lock_leases(&L, LOCK_SH);
	if (o->json)
		printf("[\n");
	else
		printf("%-16s %-18s %-12s %-8s %s\n", "NAME", "ADDRESS", "BRIDGE", "OWNER", "PUBLISH");
	for (i = 0; i < L.n; i++) {
		if (o->json)
			print_json(&L.v[i], i == 0);
		else
			print_text(&L.v[i]);
	}
	if (o->json)
		printf("%s]\n", L.n ? "\n" : "");
	unlock_leases(&L);
	return 0;
}

/* ---- the chain ---- */

/* In the child: join the namespace, then become COMMAND. */
static void enter_and_exec(int nsfd, const struct lease *l, char **command)
{
	char a[INET_ADDRSTRLEN], *path = netns_path(l->name);

	vlog("setns(%s, CLONE_NEWNET); execvp(%s)", path, command[0]);
	if (setns(nsfd, CLONE_NEWNET) < 0)
		die("setns %s", path);
	close(nsfd);
	if (setenv("MINIDOCK_NETNS", path, 1) < 0 ||
	    setenv("MINIDOCK_IP", ip_str(l->addr, a), 1) < 0)
		die("setenv");
	free(path);
	if (unblock_forwarded_signals() < 0)
		die("sigprocmask");
	exec_command(command);
}

static int run_chain(struct options *o)
{
	struct lease l;
	int nsfd, code;
	pid_t child;

	if (!o->name)
		o->name = xasprintf("nb-%d", (int)getpid());
	/* Ctrl-C during setup waits until COMMAND can receive it. */
	if (block_forwarded_signals() < 0)
		die("sigprocmask");
	nsfd = connect_container(o, getpid(), &l);
	/* The setup is done and libnftables' context is freed, but malloc(3)
	 * keeps the freed heap (half a megabyte of nft caches) for reuse.
	 * This process now only waits, for as long as the container runs:
	 * malloc_trim(3) hands those pages back to the kernel. */
	malloc_trim(0);
	fflush(NULL);
	child = fork();
	if (child < 0) {
		warn_errno("fork");
		code = EXIT_TOOL_FAILED;
	} else if (child == 0) {
		enter_and_exec(nsfd, &l, o->command);
	} else {
		close(nsfd);
		code = supervise(child);
		if (code < 0) {
			warn_errno("waitpid");
			code = EXIT_TOOL_FAILED;
		}
	}
	if (disconnect_container(o->name, getpid()) < 0 && code == 0)
		code = EXIT_TOOL_FAILED;
	free(l.name);
	return code;
}

/*
 * --exec: set up, then become COMMAND in this same process, as
 * `ip netns exec` does.  Nothing waits to undo the setup: whoever ran us
 * removes it with --delete once COMMAND has ended (run -d's supervisor
 * does, as containerd's shim calls the CNI plugin's DEL).  The lease's
 * owner is this PID, which COMMAND keeps: while it runs, the network is
 * not reclaimed as dead.
 */
static void setup_and_exec(struct options *o)
{
	struct lease l;
	int nsfd;

	if (block_forwarded_signals() < 0)
		die("sigprocmask");
	nsfd = connect_container(o, getpid(), &l);
	vlog("execve(%s) in place of net-bridge: undo later with net-bridge --name %s --delete",
	     o->command[0], o->name);
	enter_and_exec(nsfd, &l, o->command);
}

static int create_only(struct options *o)
{
	struct lease l;
	char a[INET_ADDRSTRLEN], *path = netns_path(o->name);
	int nsfd = connect_container(o, 0, &l);

	close(nsfd);
	printf("%s\n%s\n", path, ip_str(l.addr, a));
	free(path);
	free(l.name);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	int code;

	md_init("net-bridge");
	parse_options(argc, argv, &o);
	check_options(&o);
	switch (o.mode) {
	case MODE_LIST:
		code = list_networks(&o);
		break;
	case MODE_DELETE:
		code = disconnect_container(o.name, 0) < 0 ? EXIT_TOOL_FAILED : 0;
		break;
	case MODE_CREATE:
		code = create_only(&o);
		break;
	case MODE_EXEC:
		setup_and_exec(&o);
		/* not reached: enter_and_exec() execs or exits */
		code = EXIT_TOOL_FAILED;
		break;
	default:
		code = run_chain(&o);
		break;
	}
	free(o.pub);
	free(o.dns);
	return pass_on(code);
}
