/*
 * net-bridge - connect a command to the network the way Docker's default
 * "bridge" network does: a network namespace of its own, a veth pair, an
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
 * The steps, in the order they run, and in this order below main():
 *   lease_address        choose an address; write it in the leases file
 *                        (common/leases.c) before anything is made
 *   make_netns           unshare(CLONE_NEWNET), then a bind mount of
 *                        /proc/self/ns/net on /run/netns/NAME keeps it
 *   find_or_make_bridge  RTM_NEWLINK type bridge, RTM_NEWADDR the gateway
 *   plug_veth            RTM_NEWLINK type veth: one end on the bridge, the
 *                        other born inside the namespace as eth0
 *   configure_eth0       RTM_NEWADDR, RTM_NEWROUTE default, inside
 *   enable_forwarding    /proc/sys/net/ipv4/ip_forward = 1: the host routes
 *   add_nat_rules        nftables: masquerade, and dnat for --publish
 *   enter_and_exec       setns(2) into the namespace, execvp(3) COMMAND
 *   teardown             undo it all once COMMAND has ended
 *
 * Links, addresses and routes are rtnetlink(7) messages on a netlink
 * socket, built with libmnl in common/rtnl.c: rtnl_new_veth() sends
 * RTM_NEWLINK ... type veth.  A netlink socket talks to the namespace it
 * was opened in.  NAT rules go to libnftables in the syntax nft(8) reads
 * (common/nft.c).
 *
 * Read: veth(4), network_namespaces(7), ip-netns(8), rtnetlink(7),
 * netlink(7), nft(8), bridge(8), unshare(2), setns(2).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "minidock.h"
#include "leases.h"
#include "net-options.h"
#include "netns.h"
#include "nft.h"
#include "resolv.h"
#include "rtnl.h"

#define IP_FORWARD "/proc/sys/net/ipv4/ip_forward"

static int run_chain(struct net_options *o);
static void setup_and_exec(struct net_options *o) __attribute__((noreturn));
static int create_only(struct net_options *o);
static void list_networks(const struct net_options *o);
static int disconnect_container(const char *name, pid_t owner);

int main(int argc, char **argv)
{
	struct net_options o;
	char why[256];
	int code = 0;

	md_init("net-bridge");
	if (net_options_parse(argc, argv, &o, why, sizeof(why)) < 0)
		die_x("%s", why);
	switch (o.mode) {
	case MODE_HELP: net_options_usage(stdout); break;
	case MODE_VERSION: print_version(); break;
	case MODE_LIST: list_networks(&o); break;
	case MODE_CREATE: code = create_only(&o); break;
	case MODE_DELETE:
		code = disconnect_container(o.name, 0) < 0 ? EXIT_TOOL_FAILED : 0;
		break;
	case MODE_EXEC: setup_and_exec(&o);
	case MODE_CHAIN: code = run_chain(&o); break;
	}
	net_options_free(&o);
	return pass_on(code);
}

/* ---- the leases file, under its lock ---- */

static void lock_leases(struct leases *L, int how)
{
	if (leases_lock(L, how) < 0)
		die("lock %s/net/leases", md_run_dir());
	if (L->damaged)
		warn_x("%s/net/leases: ignoring %zu damaged line(s)", md_run_dir(), L->damaged);
}

static void save_leases(struct leases *L)
{
	if (leases_save(L) < 0)
		die("write %s/net/leases", md_run_dir());
}

static void list_networks(const struct net_options *o)
{
	struct leases L;

	lock_leases(&L, LOCK_SH);
	leases_print(&L, o->json);
	leases_unlock(&L);
}

/* ---- the chain: set up, run COMMAND, wait, undo ---- */

static int connect_container(struct net_options *o, pid_t owner, struct lease *out);
static void enter_and_exec(int nsfd, const struct lease *l, char **command)
	__attribute__((noreturn));

static int run_chain(struct net_options *o)
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
	malloc_trim(0);         /* speed: see bench/README.md, net-bridge */
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

/* --exec: set up, then become COMMAND in this same process, as `ip netns
 * exec` does.  Whoever ran us undoes it with --delete once COMMAND has
 * ended (run -d's supervisor does, as containerd's shim calls the CNI
 * plugin's DEL).  The lease's owner is this PID, which COMMAND keeps. */
static void setup_and_exec(struct net_options *o)
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

/* --create: set up, keep it (owner 0), print where it is. */
static int create_only(struct net_options *o)
{
	struct lease l;
	char a[INET_ADDRSTRLEN], *path = netns_path(o->name);

	close(connect_container(o, 0, &l));
	printf("%s\n%s\n", path, ip_str(l.addr, a));
	free(path);
	free(l.name);
	return 0;
}

/* ---- setting one up ---- */

static int teardown(struct leases *L, const char *name, int after_command);
static int lease_address(struct leases *L, struct net_options *o, struct rtnl *host,
			 pid_t owner, struct lease *l);
static int make_netns(const char *path, struct rtnl *inside);
static int find_or_make_bridge(struct rtnl *r, const struct net_options *o, int index);
static int plug_veth(struct rtnl *host, int bridge, const struct lease *l,
		     int nsfd, const char *nspath);
static int configure_eth0(struct rtnl *inside, const struct lease *l, uint32_t gateway);
static int enable_forwarding(void);
static int add_nat_rules(const struct lease *l, const struct net_options *o);

/* Leases whose net-bridge was killed: take their networks down. */
static void reclaim_dead(struct leases *L)
{
	size_t i = 0, before = L->n;

	while (i < L->n) {
		if (lease_owner_alive(&L->v[i])) {
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

/*
 * The whole setup, under the leases lock.  On failure, what was made is
 * undone and net-bridge exits 125.  Returns an fd of the namespace; OUT
 * gets the name and the address.
 */
static int connect_container(struct net_options *o, pid_t owner, struct lease *out)
{
	struct rtnl host = { 0 }, inside = { 0 };
	char *path = netns_path(o->name), *dir;
	struct leases L;
	struct lease l;
	int bridge, nsfd = -1;

	lock_leases(&L, LOCK_EX);
	reclaim_dead(&L);
	if (rtnl_open(&host) < 0)
		die("socket(AF_NETLINK, NETLINK_ROUTE)");
	bridge = lease_address(&L, o, &host, owner, &l);
	dir = xasprintf("%s/%s", md_run_dir(), l.name);
	if ((nsfd = make_netns(path, &inside)) < 0 ||
	    (bridge = find_or_make_bridge(&host, o, bridge)) < 0 ||
	    plug_veth(&host, bridge, &l, nsfd, path) < 0 ||
	    configure_eth0(&inside, &l, o->net + 1) < 0 ||
	    enable_forwarding() < 0 ||
	    add_nat_rules(&l, o) < 0)
		goto fail;
	if (resolv_write(dir, l.name, l.addr, o->dns, o->ndns) < 0) {
		warn_errno("write %s/resolv.conf and hosts", dir);
		goto fail;
	}
	out->name = xstrdup(l.name);
	out->addr = l.addr;
	rtnl_close(&inside);
	rtnl_close(&host);
	leases_unlock(&L);
	nft_release();
	free(dir);
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

/*
 * Fit the request to the leases and the host (the subnet, the address;
 * a name, an address or a port in use is refused: exit 125, nothing
 * made), then write the lease first, so that --delete can undo a setup
 * cut short.  Returns the bridge's index, 0 if there is none yet.
 */
static int lease_address(struct leases *L, struct net_options *o, struct rtnl *host,
			 pid_t owner, struct lease *l)
{
	char why[256];
	int bridge = net_options_fit(o, L, host, why, sizeof(why));

	if (bridge < 0)
		die_x("%s", why);
	*l = (struct lease){ .name = xstrdup(o->name), .bridge = xstrdup(o->bridge),
			     .veth = lease_veth_name(o->name), .addr = o->addr,
			     .prefix = o->prefix, .pid = owner,
			     .start = owner ? proc_start_time(owner) : 0,
			     .pub = xmalloc((o->npub + 1) * sizeof(*o->pub)), .npub = o->npub };
	memcpy(l->pub, o->pub, o->npub * sizeof(*o->pub));
	lease_add(L, l);
	save_leases(L);
	return bridge;
}

/*
 * ip netns add: a new network namespace, kept without any process by a
 * bind mount of /proc/self/ns/net on PATH.  net-bridge steps into it
 * (unshare), opens a netlink socket there (INSIDE goes on talking to that
 * namespace) and steps back (setns).  Returns an fd of the namespace.
 */
static int make_netns(const char *path, struct rtnl *inside)
{
	int host = -1, fd = -1, e;

	if (netns_dir_shared() < 0) {
		warn_errno("mount --make-shared %s", md_netns_dir());
		return -1;
	}
	host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	/* The mount point: an empty file. */
	if (host < 0 || (fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444)) < 0)
		goto fail;
	close(fd);
	fd = -1;
	vlog("unshare(CLONE_NEWNET)");
	if (unshare(CLONE_NEWNET) < 0)
		goto fail;
	vlog("mount(\"/proc/self/ns/net\", \"%s\", MS_BIND)", path);
	if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || rtnl_open(inside) < 0)
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
	warn_errno("network namespace %s", path);
	if (fd >= 0)
		close(fd);
	if (host >= 0)
		close(host);
	return -1;      /* the file goes in teardown */
}

static int write_sysctl(const char *path, const char *value)
{
	vlog("write %s = %.*s", path, (int)strcspn(value, "\n"), value);
	return write_file(path, value);
}

/*
 * The bridge, up, with the gateway address; created if INDEX is 0.  What
 * net-bridge changed is remembered beside the leases, for teardown:
 * BR.ours, it made the bridge; BR.gateway, it gave the gateway address to
 * a bridge of the host's.
 */
static int find_or_make_bridge(struct rtnl *r, const struct net_options *o, int index)
{
	char *ours = net_state_path(o->bridge, ".ours"), *gw = net_state_path(o->bridge, ".gateway");
	char *knob = xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", o->bridge);
	int ret = -1;

	if (index == 0) {
		if (rtnl_new_bridge(r, o->bridge) < 0) {
			warn_errno("RTM_NEWLINK %s type bridge", o->bridge);
			goto out;
		}
		if (write_file(ours, "created by net-bridge\n") < 0)
			warn_errno("write %s", ours);
		index = rtnl_link_index(r, o->bridge);
		/* Let packets DNATed from 127.0.0.1 out (and their answers in)
		 * through the bridge; the "guard" rule keeps containers from
		 * using this to reach the host's 127.0.0.1 services. */
		if (write_sysctl(knob, "1\n") < 0)
			warn_errno("write %s", knob);
	}
	if (index < 0) {
		warn_errno("RTM_GETLINK %s", o->bridge);
		goto out;
	}
	if (rtnl_new_addr(r, index, o->bridge, o->net + 1, o->prefix, NLM_F_EXCL) == 0) {
		if (access(ours, F_OK) < 0 && write_file(gw, o->subnet) < 0)
			warn_errno("write %s", gw);
	} else if (errno != EEXIST) {
		warn_errno("RTM_NEWADDR on %s", o->bridge);
		goto out;
	}
	if (rtnl_link_up(r, index, o->bridge, 0, NULL) < 0) {
		warn_errno("RTM_NEWLINK %s up", o->bridge);
		goto out;
	}
	ret = index;
out:
	free(knob);
	free(gw);
	free(ours);
	return ret;
}

/*
 * ip link add veth-NAME type veth peer name eth0 netns NAME: the pair, in
 * one message, its peer born inside the namespace as eth0 (as if made on
 * the host and moved with `ip link set eth0 netns NAME`, but never
 * clashing with a host interface).  The host end goes on the bridge, up.
 */
static int plug_veth(struct rtnl *host, int bridge, const struct lease *l,
		     int nsfd, const char *nspath)
{
	int veth;

	if (rtnl_new_veth(host, l->veth, "eth0", nsfd, nspath) < 0) {
		warn_errno("RTM_NEWLINK %s type veth", l->veth);
		return -1;
	}
	veth = rtnl_link_index(host, l->veth);
	if (veth < 0 || rtnl_link_up(host, veth, l->veth, bridge, l->bridge) < 0) {
		warn_errno("RTM_NEWLINK %s master %s up", l->veth, l->bridge);
		return -1;
	}
	return 0;
}

/* Inside: ip link set lo up; ip addr add ADDR/PREFIX dev eth0; ip link set
 * eth0 up; ip route add default via GATEWAY. */
static int configure_eth0(struct rtnl *inside, const struct lease *l, uint32_t gateway)
{
	int lo = rtnl_link_index(inside, "lo"), eth0 = rtnl_link_index(inside, "eth0");

	if (lo < 0 || eth0 < 0 ||
	    rtnl_link_up(inside, lo, "lo", 0, NULL) < 0 ||
	    rtnl_new_addr(inside, eth0, "eth0", l->addr, l->prefix, NLM_F_EXCL) < 0 ||
	    rtnl_link_up(inside, eth0, "eth0", 0, NULL) < 0 ||
	    rtnl_new_default_route(inside, eth0, "eth0", gateway) < 0) {
		warn_errno("configuring eth0 in the namespace");
		return -1;
	}
	return 0;
}

/*
 * The host routes packets between the bridge and its other interfaces
 * only with ip_forward = 1: one switch for the whole network namespace,
 * which Docker or libvirt may need too.  net-bridge turns it on only when
 * it is off, and says so in net/ip_forward.ours (see restore_forwarding).
 */
static int enable_forwarding(void)
{
	char *now = read_file(IP_FORWARD, NULL), *ours = net_state_path("ip_forward", ".ours");
	int ret = 0;

	if (!now || (now[0] == '0' && (write_file(ours, "net-bridge turned it on\n") < 0 ||
				       write_sysctl(IP_FORWARD, "1\n") < 0))) {
		warn_errno("turning %s on", IP_FORWARD);
		ret = -1;
	}
	free(ours);
	free(now);
	return ret;
}

static char *append(char *s, char *t)
{
	char *r = xasprintf("%s%s", s, t);

	free(s);
	free(t);
	return r;
}

/* minidock's table, its NAT chains, and a filter chain for the guard. */
static const char nft_table_cmds[] =
	"add table " NFT_TABLE "\n"
	"add chain " NFT_TABLE " prerouting { type nat hook prerouting priority dstnat; }\n"
	"add chain " NFT_TABLE " output { type nat hook output priority -100; }\n"
	"add chain " NFT_TABLE " postrouting { type nat hook postrouting priority srcnat; }\n"
	"add chain " NFT_TABLE " guard { type filter hook prerouting priority raw; }\n";

/*
 * NAT and published ports.  Each rule's comment says whose it is: "NAME"
 * for this container's, "bridge BR" for those its bridge's containers
 * share, added with the first of them (so most containers add only their
 * ports).  All in one transaction.
 */
static int add_nat_rules(const struct lease *l, const struct net_options *o)
{
	char a[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN], h[INET_ADDRSTRLEN], *list, *cmds, *rule;
	int ret = -1;
	size_t i;

	if (nft_list_table(&list) < 0)
		goto out;
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
	if (!o->nat)    /* ahead of the subnet's masquerade, present or to come */
		cmds = append(cmds, xasprintf("insert rule " NFT_TABLE " postrouting ip saddr %s oifname != \"%s\" accept comment \"%s\"\n",
					      a, l->bridge, l->name));
	/* --publish: prerouting for packets from elsewhere, output for those
	 * the host itself sends; the destination becomes the container. */
	for (i = 0; i < l->npub; i++) {
		const struct publish *p = &l->pub[i];
		char *match = p->hostip ? xasprintf("ip daddr %s", ip_str(p->hostip, h))
					: xstrdup("fib daddr type local");
		cmds = append(cmds, xasprintf(
			"add rule " NFT_TABLE " prerouting %s %s dport %u dnat to %s:%u comment \"%s\"\n"
			"add rule " NFT_TABLE " output %s %s dport %u dnat to %s:%u comment \"%s\"\n",
			match, p->proto, p->hostport, a, p->port, l->name,
			match, p->proto, p->hostport, a, p->port, l->name));
		free(match);
	}
	/* Forwarded from 127.0.0.1 or from its own subnet, the answer would
	 * not come back through the host: masquerade those. */
	if (l->npub)
		cmds = append(cmds, xasprintf("add rule " NFT_TABLE " postrouting ct status dnat ip daddr %s ip saddr { 127.0.0.0/8, %s/%d } masquerade comment \"%s\"\n",
					      a, net, l->prefix, l->name));
	ret = *cmds ? nft_run(cmds, NULL) : 0;
	free(cmds);
	free(list);
out:
	if (ret < 0)
		warn_x("nft: %s", nft_error);
	return ret;
}

/* ---- COMMAND, in the child ---- */

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

/* ---- undoing it ---- */

/* --delete, and the chain's own teardown (OWNER: only if still ours). */
static int disconnect_container(const char *name, pid_t owner)
{
	char *path = netns_path(name);
	struct leases L;
	struct lease *l;
	int ret = 0;

	lock_leases(&L, LOCK_EX);
	l = lease_find(&L, name);
	if (owner && (!l || l->pid != owner)) {
		/* Someone ran --delete on us meanwhile: nothing left to do. */
	} else if (!l && access(path, F_OK) < 0) {
		warn_x("--name %s: no such container network", name);
		ret = -1;
	} else {
		ret = teardown(&L, name, owner != 0);
		save_leases(&L);
	}
	leases_unlock(&L);
	nft_release();
	free(path);
	return ret;
}

/* After the chain, the veth goes with its namespace: the host end is set
 * down (off the bridge's forwarding at once), and the kernel deletes the
 * pair when it frees the namespace, after net-bridge has returned.
 * Speed: see bench/README.md, net-bridge. */
static void leave_veth_to_namespace(struct rtnl *r, const char *veth)
{
	int index = rtnl_link_index(r, veth);

	if (index < 0)
		return;
	if (rtnl_link_down(r, index, veth) < 0)
		warn_errno("RTM_NEWLINK %s down", veth);
	vlog("%s goes with the namespace: the kernel deletes the pair when it frees it", veth);
}

/* ip netns del: the namespace file unmounted (MNT_DETACH: even where
 * busy) and removed; the kernel frees the namespace once unused. */
static void delete_netns(const char *path)
{
	vlog("umount2(\"%s\", MNT_DETACH); unlink", path);
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		warn_errno("umount %s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		warn_errno("unlink %s", path);
}

/* A bridge's last container: the bridge goes if net-bridge made it
 * (BR.ours), else the gateway address it gave it (BR.gateway). */
static int put_bridge_back(struct rtnl *r, const char *bridge)
{
	char *ours = net_state_path(bridge, ".ours"), *gw = net_state_path(bridge, ".gateway");
	char *cidr = read_file(gw, NULL);
	int prefix, index, ret = 0;
	const char *why;
	uint32_t net;

	if (access(ours, F_OK) == 0) {
		if (rtnl_del_link(r, bridge) < 0 && errno != ENODEV) {
			warn_errno("RTM_DELLINK %s", bridge);
			ret = -1;
		}
		unlink(ours);
	} else if (cidr) {
		if (parse_cidr(cidr, &net, &prefix, &why) == 0 &&
		    (index = rtnl_link_index(r, bridge)) > 0 &&
		    rtnl_del_addr(r, index, bridge, net + 1, prefix) < 0 && errno != EADDRNOTAVAIL) {
			warn_errno("RTM_DELADDR on %s", bridge);
			ret = -1;
		}
		unlink(gw);
	}
	free(cidr);
	free(gw);
	free(ours);
	return ret;
}

/* The last container: ip_forward back to 0, only if net-bridge turned it
 * on, it is still on, and no other program's rules show it routes too. */
static void restore_forwarding(void)
{
	char *ours = net_state_path("ip_forward", ".ours"), *now, *who = NULL;

	now = access(ours, F_OK) == 0 ? read_file(IP_FORWARD, NULL) : NULL;
	if (now && now[0] == '1') {
		if (nft_other_routers(&who) != 0)
			vlog("%s stays 1: %s may need it", IP_FORWARD, who ? who : nft_error);
		else if (write_sysctl(IP_FORWARD, "0\n") < 0)
			warn_errno("write %s", IP_FORWARD);
	}
	if (unlink(ours) < 0 && errno != ENOENT)
		warn_errno("unlink %s", ours);
	free(who);
	free(now);
	free(ours);
}

/*
 * Undo container NAME's network (its lease in L, or none after a crash),
 * with the leases locked.  Best effort: go on after an error, and say what
 * was left.  AFTER_COMMAND: the chain's own teardown, the veth may go with
 * the namespace; else (--delete, a failed or reclaimed setup) RTM_DELLINK,
 * which returns once the pair is gone.
 */
static int teardown(struct leases *L, const char *name, int after_command)
{
	struct lease *l = lease_find(L, name);
	char *path = netns_path(name), *veth = l ? xstrdup(l->veth) : lease_veth_name(name);
	char *bridge = l ? xstrdup(l->bridge) : NULL, *tag = NULL;
	char *dir = xasprintf("%s/%s", md_run_dir(), name);
	struct rtnl r = { 0 };
	int ret = 0, others = 0, bridge_used = 0;
	size_t i;

	for (i = 0; i < L->n; i++) {
		others += &L->v[i] != l;
		bridge_used |= &L->v[i] != l && bridge && !strcmp(L->v[i].bridge, bridge);
	}
	/* nftables first (speed: see bench/README.md, net-bridge).  The last
	 * container takes the table, a bridge's last its shared rules. */
	if (bridge && !bridge_used)
		tag = xasprintf("bridge %s", bridge);
	if ((others ? nft_delete_tagged(name, tag) : nft_delete_table()) < 0) {
		warn_x("nft: %s", nft_error);
		ret = -1;
	}
	if (rtnl_open(&r) < 0)
		die("socket(AF_NETLINK, NETLINK_ROUTE)");
	if (after_command && access(path, F_OK) == 0) {
		leave_veth_to_namespace(&r, veth);
	} else if (rtnl_del_link(&r, veth) < 0 && errno != ENODEV) {  /* and its peer */
		warn_errno("RTM_DELLINK %s", veth);
		ret = -1;
	}
	delete_netns(path);
	resolv_remove(dir);
	lease_drop(L, name);
	if (bridge && !bridge_used && put_bridge_back(&r, bridge) < 0)
		ret = -1;
	if (!others)
		restore_forwarding();
	rtnl_close(&r);
	free(dir);
	free(tag);
	free(bridge);
	free(veth);
	free(path);
	return ret;
}
