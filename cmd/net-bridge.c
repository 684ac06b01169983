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
 * --network NAME plugs into a user-defined network instead (network(1),
 * networks.h): its own bridge md-NAME and subnet, a separate L2 segment
 * that minidock's chain "forward" keeps apart from the others (the rules
 * a bridge's first container adds, nft_keep_apart); its containers know
 * each other by name, each /etc/hosts rewritten in place as one comes or
 * goes (resolv_share_names).
 *
 * Below main(), the steps in the order they run (declared so above it):
 * connect_container leases an address, make_netns is unshare(2) and a bind
 * mount, ..., enter_and_exec setns(2) and execvp; teardown undoes it all.
 *
 * Links, addresses and routes are rtnetlink(7) messages on a netlink
 * socket, built with libmnl in common/rtnl.c (rtnl_new_veth() sends
 * RTM_NEWLINK ... type veth); a netlink socket talks to the namespace it
 * was opened in.  NAT rules go to libnftables in nft(8)'s own syntax
 * (common/nft.c); the leases, under flock(2), are common/leases.c.
 *
 * Read: veth(4), network_namespaces(7), ip-netns(8), rtnetlink(7),
 * netlink(7), nft(8), bridge(8), unshare(2), setns(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "minidock.h"
#include "leases.h"
#include "net-options.h"
#include "netns.h"
#include "nft.h"
#include "resolv.h"
#include "rtnl.h"

#define IP_FORWARD "/proc/sys/net/ipv4/ip_forward"

static void lock_leases(struct leases *L, int how);
static int run_chain(struct net_options *o);
static int connect_container(struct net_options *o, pid_t owner);
static int make_netns(const char *path, struct rtnl *inside);
static int find_or_make_bridge(struct rtnl *r, const struct net_options *o, int index);
static int plug_veth(struct rtnl *host, int bridge, const struct lease *l, int nsfd, const char *nspath);
static int configure_eth0(struct rtnl *inside, const struct lease *l, uint32_t gateway);
static int enable_forwarding(void);
static int add_nat_rules(const struct lease *l, const struct net_options *o);
static void enter_and_exec(int nsfd, const struct net_options *o) __attribute__((noreturn));
static int disconnect_container(const char *name, pid_t owner);
static int teardown(struct leases *L, const char *name, int after_command);

int main(int argc, char **argv)
{
	struct net_options o;
	struct leases L;
	char why[256];
	int code = 0;

	md_init("net-bridge");
	if (net_options_parse(argc, argv, &o, why, sizeof(why)) < 0)
		die_x("%s", why);
	switch (o.mode) {
	case MODE_HELP: net_options_usage(stdout); break;
	case MODE_VERSION: print_version(); break;
	case MODE_LIST:
		lock_leases(&L, LOCK_SH);
		leases_print(&L, o.json);
		leases_unlock(&L);
		break;
	case MODE_DELETE: code = disconnect_container(o.name, 0) < 0 ? EXIT_TOOL_FAILED : 0; break;
	default: code = run_chain(&o); break;     /* the chain, --exec, --create */
	}
	net_options_free(&o);
	return pass_on(code);
}

static void lock_leases(struct leases *L, int how)
{
	if (leases_lock(L, how) < 0)
		die("lock %s/net/leases", md_run_dir());
	if (L->damaged)
		warn_x("%s/net/leases: ignoring %zu damaged line(s)", md_run_dir(), L->damaged);
}

/* ---- the chain: set up, run COMMAND, wait, undo ---- */

/* Set up, then run COMMAND in a child, wait and undo (the chain); or become
 * COMMAND (--exec, as `ip netns exec`: COMMAND keeps our PID, the lease's
 * owner, and whoever ran us undoes it all with --delete, as containerd's
 * shim calls the CNI plugin's DEL); or keep it (--create). */
static int run_chain(struct net_options *o)
{
	char a[INET_ADDRSTRLEN];
	int nsfd, code;
	pid_t child;

	/* Ctrl-C during setup waits until COMMAND can receive it. */
	if (o->mode != MODE_CREATE && block_forwarded_signals() < 0)
		die("sigprocmask");
	nsfd = connect_container(o, o->mode == MODE_CREATE ? 0 : getpid());
	if (o->mode == MODE_CREATE) {  /* say where it is, and keep it */
		printf("%s/%s\n%s\n", md_netns_dir(), o->name, ip_str(o->addr, a));
		return close(nsfd) < 0 ? EXIT_TOOL_FAILED : 0;
	}
	if (o->mode == MODE_EXEC) {
		vlog("execve(%s) in place of net-bridge: undo later with net-bridge --name %s --delete",
		     o->command[0], o->name);
		enter_and_exec(nsfd, o);
	}
	malloc_trim(0);         /* speed: see bench/README.md, net-bridge */
	fflush(NULL);
	child = fork();
	if (child == 0)
		enter_and_exec(nsfd, o);
	close(nsfd);
	if (child < 0 || (code = supervise(child)) < 0) {
		warn_errno(child < 0 ? "fork" : "waitpid");
		code = EXIT_TOOL_FAILED;
	}
	if (disconnect_container(o->name, getpid()) < 0 && code == 0)
		code = EXIT_TOOL_FAILED;
	return code;
}

/* The whole setup, under the leases lock; a failure undoes what was made
 * and exits 125.  Returns an fd of the namespace; O->addr is its address. */
static int connect_container(struct net_options *o, pid_t owner)
{
	char *path = netns_path(o->name), *dead, why[256];
	struct rtnl host = { 0 }, inside = { 0 };
	struct leases L;
	struct lease l;
	int bridge, nsfd = -1;

	lock_leases(&L, LOCK_EX);
	while ((dead = lease_first_dead(&L))) {    /* its net-bridge was killed */
		vlog("reclaiming %s: its net-bridge is gone", dead);
		teardown(&L, dead, 0);
		free(dead);
	}
	/* network rm takes this lock too: a network still recorded now
	 * stays as long as a container is on it. */
	if (o->network && !network_exists(o->network))
		die_x("--network %s: removed meanwhile (network rm)", o->network);
	if (rtnl_open(&host) < 0)
		die("socket(AF_NETLINK, NETLINK_ROUTE)");
	/* An address fit to the leases and the host (in use: exit 125, nothing
	 * made); its lease written first, so --delete can undo a setup cut short. */
	if ((bridge = net_options_fit(o, &L, &host, why, sizeof(why))) < 0)
		die_x("%s", why);
	l = lease_new(o->name, o->bridge, o->addr, o->prefix, owner, o->pub, o->npub);
	lease_add(&L, &l);
	if (leases_save(&L) < 0)
		die("write %s/net/leases", md_run_dir());
	if ((nsfd = make_netns(path, &inside)) < 0 ||
	    (bridge = find_or_make_bridge(&host, o, bridge)) < 0 ||
	    plug_veth(&host, bridge, &l, nsfd, path) < 0 ||
	    configure_eth0(&inside, &l, o->net + 1) < 0 ||
	    enable_forwarding() < 0 || add_nat_rules(&l, o) < 0)
		goto fail;
	/* For run to bind-mount on /etc/resolv.conf and /etc/hosts; on a
	 * user-defined network, every hosts file of it now names this one. */
	if (resolv_write(l.name, l.addr, o->dns, o->ndns, &o->names) < 0 ||
	    resolv_share_names(&L, o->bridge) < 0) {
		warn_errno("write %s/%s/resolv.conf and hosts", md_run_dir(), l.name);
		goto fail;
	}
	rtnl_close(&inside);
	rtnl_close(&host);
	leases_unlock(&L);
	nft_release();
	free(path);
	return nsfd;
fail:
	teardown(&L, o->name, 0);
	exit(EXIT_TOOL_FAILED);
}

/* ip netns add: a new network namespace, kept without any process by a
 * bind mount of /proc/self/ns/net on a file.  net-bridge steps into it
 * (unshare), opens a netlink socket there (INSIDE goes on talking to that
 * namespace) and steps back (setns).  Returns an fd of the namespace. */
static int make_netns(const char *path, struct rtnl *inside)
{
	int host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), fd = -1, ok = 0, e;

	/* The mount point: an empty file, in a shared mount (common/netns.c). */
	if (host >= 0 && netns_dir_shared() == 0 && mknod(path, S_IFREG | 0444, 0) == 0) {
		vlog("unshare(CLONE_NEWNET)");
		if (unshare(CLONE_NEWNET) == 0) {
			vlog("mount(\"/proc/self/ns/net\", \"%s\", MS_BIND)", path);
			ok = mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) == 0 &&
			     (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0 && rtnl_open(inside) == 0;
			e = errno;
			vlog("setns(host, CLONE_NEWNET)");
			if (setns(host, CLONE_NEWNET) < 0)
				die("setns back to the host's network namespace");
			errno = e;
		}
	}
	if (!ok) {
		warn_errno("network namespace %s", path);
		if (fd >= 0)
			close(fd);
		fd = -1;        /* and teardown removes the file */
	}
	if (host >= 0)
		close(host);
	return fd;
}

/* The bridge, up, with the gateway address; made if INDEX is 0.  Markers say
 * what to put back: the bridge we made, or the address we gave the host's. */
static int find_or_make_bridge(struct rtnl *r, const struct net_options *o, int index)
{
	char *knob = xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", o->bridge);
	int made = index == 0;

	if (made) {
		if (rtnl_new_bridge(r, o->bridge) < 0 ||
		    net_mark(o->bridge, ".ours", "created by net-bridge\n") < 0 ||
		    (index = rtnl_link_index(r, o->bridge)) < 0)
			goto fail;
		/* Let packets DNATed from 127.0.0.1 through the bridge; the guard
		 * rule keeps containers from reaching the host's 127.0.0.1. */
		if (net_write_sysctl(knob, "1\n") < 0)
			warn_errno("write %s", knob);
	}
	if (rtnl_new_addr(r, index, o->bridge, o->net + 1, o->prefix, NLM_F_EXCL) == 0) {
		if (!made && net_mark(o->bridge, ".gateway", o->subnet) < 0)
			goto fail;
	} else if (errno != EEXIST) {
		goto fail;
	}
	if (rtnl_link_up(r, index, o->bridge, 0, NULL) < 0)
		goto fail;
	free(knob);
	return index;
fail:
	warn_errno("bridge %s", o->bridge);
	free(knob);
	return -1;
}

/* ip link add veth-NAME type veth peer name eth0 netns NAME: the pair in
 * one message, its peer born inside the namespace (never clashing with a
 * host interface); the host end goes on the bridge, up. */
static int plug_veth(struct rtnl *host, int bridge, const struct lease *l, int nsfd, const char *nspath)
{
	int veth = -1;

	if (rtnl_new_veth(host, l->veth, "eth0", nsfd, nspath, l->addr) < 0 ||
	    (veth = rtnl_link_index(host, l->veth)) < 0 ||
	    rtnl_link_up(host, veth, l->veth, bridge, l->bridge) < 0) {
		warn_errno("veth %s", l->veth);
		return -1;
	}
	return 0;
}

/* Inside: ip link set lo up; ip addr add ADDR/PREFIX dev eth0; ip link set
 * eth0 up; ip route add default via GATEWAY. */
static int configure_eth0(struct rtnl *inside, const struct lease *l, uint32_t gateway)
{
	int lo = rtnl_link_index(inside, "lo"), eth0 = rtnl_link_index(inside, "eth0");

	if (lo < 0 || eth0 < 0 || rtnl_link_up(inside, lo, "lo", 0, NULL) < 0 ||
	    rtnl_new_addr(inside, eth0, "eth0", l->addr, l->prefix, NLM_F_EXCL) < 0 ||
	    rtnl_link_up(inside, eth0, "eth0", 0, NULL) < 0 ||
	    rtnl_new_default_route(inside, eth0, "eth0", gateway) < 0) {
		warn_errno("configuring eth0 in the namespace");
		return -1;
	}
	return 0;
}

/* The host routes between the bridge and its other interfaces only with
 * ip_forward = 1, a switch Docker or libvirt may need too: turned on only
 * if off, and marked (see net_restore_forwarding, common/leases.c). */
static int enable_forwarding(void)
{
	char *now = read_file(IP_FORWARD, NULL);
	int ret = now ? 0 : -1;

	if (now && now[0] == '0' && (net_mark("ip_forward", ".ours", "turned on by net-bridge\n") < 0 ||
				     net_write_sysctl(IP_FORWARD, "1\n") < 0))
		ret = -1;
	if (ret < 0)
		warn_errno("turning %s on", IP_FORWARD);
	free(now);
	return ret;
}

/* NAT and published ports, in one nftables transaction (nft_run).  The
 * rules, in nft(8)'s syntax, written by nft_container_rules (common/nft.c)
 * as `nft list table ip minidock` shows them, for 10.213.0.2 -p 8080:80:
 *   postrouting ip saddr 10.213.0.0/16 oifname != "minidock0" masquerade
 *   prerouting  fib daddr type local tcp dport 8080 dnat to 10.213.0.2:80
 *   output      (the same dnat, for the host's own packets)
 * A rule's comment says whose it is: "NAME" this container's, "bridge BR"
 * shared by BR's containers, added by its first one. */
static int add_nat_rules(const struct lease *l, const struct net_options *o)
{
	char *list = NULL, *cmds = NULL;
	FILE *f = NULL;
	size_t len;
	int ret = -1, drops;

	if (nft_list_table(&list) < 0 || (drops = nft_docker_forward_drops()) < 0 ||
	    !(f = open_memstream(&cmds, &len)))
		goto out;
	nft_container_rules(f, list, l, o->nat, drops);
	if (fclose(f) == 0)
		ret = *cmds ? nft_run(cmds, NULL) : 0;
out:
	if (ret < 0)
		warn_x("nft: %s", nft_error[0] ? nft_error : strerror(errno));
	free(cmds);
	free(list);
	return ret;
}

/* In the child: join the namespace, then become COMMAND. */
static void enter_and_exec(int nsfd, const struct net_options *o)
{
	char a[INET_ADDRSTRLEN], *path = netns_path(o->name);

	vlog("setns(%s, CLONE_NEWNET); execvp(%s)", path, o->command[0]);
	if (setns(nsfd, CLONE_NEWNET) < 0)
		die("setns %s", path);
	close(nsfd);
	if (setenv("MINIDOCK_NETNS", path, 1) < 0 ||
	    setenv("MINIDOCK_IP", ip_str(o->addr, a), 1) < 0)
		die("setenv");
	free(path);
	if (unblock_forwarded_signals() < 0)
		die("sigprocmask");
	exec_command(o->command);
}

/* ---- undoing it ---- */

/* --delete, and the chain's own undo (OWNER: only if still ours). */
static int disconnect_container(const char *name, pid_t owner)
{
	struct leases L;
	struct lease *l;
	int ret = 0;

	lock_leases(&L, LOCK_EX);
	l = lease_find(&L, name);
	if (!owner && !l && !netns_exists(name)) {
		warn_x("--name %s: no such container network", name);
		ret = -1;
	} else if (!owner || (l && l->pid == owner)) {  /* else --delete came first */
		ret = teardown(&L, name, owner != 0);
	}
	leases_unlock(&L);
	nft_release();
	return ret;
}

/* Undo container NAME's network (its lease in L, or none after a crash),
 * leases locked, and save them without it; best effort, saying what was
 * left.  The last container of a bridge takes its rules and puts it back,
 * the last of all the table and ip_forward. */
static int teardown(struct leases *L, const char *name, int after_command)
{
	struct lease *l = lease_find(L, name);
	char *path = netns_path(name), *veth = l ? xstrdup(l->veth) : lease_veth_name(name);
	char *bridge = l ? xstrdup(l->bridge) : NULL;
	size_t others = leases_others(L, l, NULL), bridge_used = bridge ? leases_others(L, l, bridge) : 0;
	struct rtnl r = { 0 };
	int ret = 0, index;

	/* speed: nftables first, see bench/README.md, net-bridge */
	if (nft_forget(name, bridge_used ? NULL : bridge, !others) < 0) {
		warn_x("nft: %s", nft_error);
		ret = -1;
	}
	if (rtnl_open(&r) < 0)
		die("socket(AF_NETLINK, NETLINK_ROUTE)");
	if (after_command && access(path, F_OK) == 0) {
		/* speed: see bench/README.md, net-bridge; down, it is off the bridge */
		if ((index = rtnl_link_index(&r, veth)) > 0 && rtnl_link_down(&r, index, veth) < 0)
			warn_errno("RTM_NEWLINK %s down", veth);
		vlog("%s goes with the namespace: the kernel deletes the pair when it frees it", veth);
	} else if (rtnl_del_link(&r, veth) < 0 && errno != ENODEV) {    /* and its peer */
		warn_errno("RTM_DELLINK %s", veth);
		ret = -1;
	}
	/* ip netns del: unmount (MNT_DETACH: even where busy) and remove. */
	vlog("umount2(\"%s\", MNT_DETACH); unlink", path);
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		warn_errno("umount %s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		warn_errno("unlink %s", path);
	resolv_remove(name);
	lease_drop(L, name);
	l = NULL;
	if (bridge_used && resolv_share_names(L, bridge) < 0)
		warn_errno("rewriting the hosts files of the containers on %s", bridge);
	if (bridge && !bridge_used && net_put_bridge_back(&r, bridge) < 0) {
		warn_errno("putting %s back as it was", bridge);
		ret = -1;
	}
	if (!others && net_restore_forwarding() < 0)
		warn_errno("write %s", IP_FORWARD);
	if (leases_save(L) < 0)
		die("write %s/net/leases", md_run_dir());
	rtnl_close(&r);
	free(bridge);
	free(veth);
	free(path);
	return ret;
}
