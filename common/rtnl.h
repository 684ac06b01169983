/*
 * rtnl.h - links, addresses and routes asked of the kernel as rtnetlink
 * messages (RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE...) on a netlink socket,
 * built with libmnl.  Each function sends ONE request, named after the
 * message and the ip(8) command that sends the same, waits for the
 * kernel's answer, and prints it with vlog() ("RTM_NEWLINK veth-web type
 * veth peer eth0 ...").  A socket talks to the network namespace it was
 * opened in.  Every function returns -1 with errno set to the kernel's
 * error (EEXIST, ENODEV...).
 *
 * Also the IPv4 arithmetic they need (addresses in host byte order).
 *
 * Read: rtnetlink(7), netlink(7), veth(4), ip-link(8), ip-address(8),
 * ip-route(8).  Used by: net-bridge.
 */
#ifndef MINIDOCK_RTNL_H
#define MINIDOCK_RTNL_H

#include <netinet/in.h>
#include <stdint.h>

#include <linux/netlink.h>      /* NLM_F_EXCL, for rtnl_new_addr */

/* ---- IPv4 addresses, host byte order ---- */

/* 16 -> 255.255.0.0 */
uint32_t mask_of(int prefix);
/* "10.213.0.2" into BUF, returned. */
const char *ip_str(uint32_t addr, char buf[INET_ADDRSTRLEN]);
/* "10.213.0.2" -> number; -1 when not an IPv4 address. */
int parse_ip(const char *s, uint32_t *out);
/* "10.213.0.0/16" -> network and prefix (/8 to /30, no host bits);
 * -1 and *WHY says what is wrong. */
int parse_cidr(const char *s, uint32_t *net, int *prefix, const char **why);
/* Do A/PA and B/PB overlap? */
int same_subnet(uint32_t a, int pa, uint32_t b, int pb);

/* ---- the socket ---- */

struct rtnl {
	struct mnl_socket *nl;
	unsigned int seq, portid;
};

/* socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), bound: in the network
 * namespace of the calling thread, for as long as it is open. */
int rtnl_open(struct rtnl *r);
void rtnl_close(struct rtnl *r);

/* ---- links ---- */

struct link_info {
	int index;
	int master;             /* IFLA_MASTER: the bridge it is plugged into, or 0 */
	char kind[16];          /* IFLA_INFO_KIND: "bridge", "veth"... or "" */
};

/* RTM_GETLINK NAME (ip link show NAME): ENODEV when there is none. */
int rtnl_link_info(struct rtnl *r, const char *name, struct link_info *info);
/* Its index, or -1. */
int rtnl_link_index(struct rtnl *r, const char *name);
/* RTM_NEWLINK NAME type bridge (ip link add NAME type bridge) */
int rtnl_new_bridge(struct rtnl *r, const char *name);
/* RTM_NEWLINK HOST type veth peer PEER netns NSFD (ip link add HOST type
 * veth peer name PEER netns NS): the pair, PEER born inside the namespace
 * NSFD (NSPATH is its name, for the log), with the MAC address
 * 02:42:A.B.C.D of its IPv4 address ADDR (host order), as Docker's: an
 * address reused by a new container keeps its MAC, so the neighbours'
 * ARP caches stay true. */
int rtnl_new_veth(struct rtnl *r, const char *host, const char *peer,
		  int nsfd, const char *nspath, uint32_t addr);
/* RTM_NEWLINK up (ip link set NAME [master BRIDGE] up): MASTER 0 for none. */
int rtnl_link_up(struct rtnl *r, int index, const char *name,
		 int master, const char *master_name);
/* RTM_NEWLINK down (ip link set NAME down) */
int rtnl_link_down(struct rtnl *r, int index, const char *name);
/* RTM_DELLINK NAME (ip link del NAME): a veth takes its peer along. */
int rtnl_del_link(struct rtnl *r, const char *name);

/* ---- addresses and routes ---- */

/* RTM_NEWADDR (ip addr add ADDR/PREFIX dev NAME); FLAGS NLM_F_EXCL:
 * EEXIST when it is there already. */
int rtnl_new_addr(struct rtnl *r, int index, const char *name,
		  uint32_t addr, int prefix, uint16_t flags);
/* RTM_DELADDR (ip addr del ADDR/PREFIX dev NAME) */
int rtnl_del_addr(struct rtnl *r, int index, const char *name,
		  uint32_t addr, int prefix);
/* RTM_NEWROUTE default via GATEWAY dev NAME (ip route add default via ...) */
int rtnl_new_default_route(struct rtnl *r, int index, const char *name,
			   uint32_t gateway);
/* RTM_GETROUTE dump of the main table (ip route show): FOUND gets the
 * first route that overlaps NET/PREFIX ("10.0.0.0/8 dev lan0"), or "".
 * The default route and routes through link SKIP_INDEX do not count. */
int rtnl_route_overlap(struct rtnl *r, uint32_t net, int prefix, int skip_index,
		       char found[64]);

#endif
