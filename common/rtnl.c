/*
 * rtnl.c - rtnetlink requests built with libmnl: see rtnl.h.
 *
 * A request is a struct nlmsghdr, then a fixed header of its family
 * (struct ifinfomsg for links, ifaddrmsg for addresses, rtmsg for routes),
 * then attributes (IFLA_IFNAME, IFA_LOCAL, RTA_GATEWAY...), some nested.
 * NLM_F_ACK asks the kernel to answer every request, with 0 or an errno.
 *
 * Read: rtnetlink(7), netlink(7), libmnl's examples (rtnl-link-*.c).
 * Used by: net-bridge.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "minidock.h"
#include "rtnl.h"

/* ---- IPv4 addresses ---- */

uint32_t mask_of(int prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

const char *ip_str(uint32_t a, char buf[INET_ADDRSTRLEN])
{
	struct in_addr in = { .s_addr = htonl(a) };

	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

int parse_ip(const char *s, uint32_t *out)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		return -1;
	*out = ntohl(in.s_addr);
	return 0;
}

int parse_cidr(const char *s, uint32_t *net, int *prefix, const char **why)
{
	const char *slash = strchr(s, '/');
	unsigned long long p;
	char addr[INET_ADDRSTRLEN];

	*why = "expected ADDRESS/PREFIX, e.g. 10.213.0.0/16";
	if (!slash || slash - s >= INET_ADDRSTRLEN)
		return -1;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (parse_ip(addr, net) < 0 || parse_uint(slash + 1, 32, &p) < 0)
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

int same_subnet(uint32_t a, int pa, uint32_t b, int pb)
{
	int p = pa < pb ? pa : pb;

	return ((a ^ b) & mask_of(p)) == 0;
}

/* ---- the socket ---- */

int rtnl_open(struct rtnl *r)
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

void rtnl_close(struct rtnl *r)
{
	if (r->nl)
		mnl_socket_close(r->nl);
	r->nl = NULL;
}

static struct nlmsghdr *request(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	return nlh;
}

/* A link request: the header, then struct ifinfomsg. */
static struct nlmsghdr *link_request(char *buf, uint16_t type, uint16_t flags,
				     int index)
{
	struct nlmsghdr *nlh = request(buf, type, flags);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	return nlh;
}

/* Send one request and read the kernel's answers until its acknowledgement:
 * 0, or -1 with errno set to the error the kernel returned. */
static int talk(struct rtnl *r, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
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

/* ---- links ---- */

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

int rtnl_link_info(struct rtnl *r, const char *name, struct link_info *info)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_request(buf, RTM_GETLINK, 0, 0);

	memset(info, 0, sizeof(*info));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	vlog("RTM_GETLINK %s", name);
	return talk(r, nlh, link_info_cb, info);
}

int rtnl_link_index(struct rtnl *r, const char *name)
{
	struct link_info info;

	return rtnl_link_info(r, name, &info) < 0 ? -1 : info.index;
}

int rtnl_new_bridge(struct rtnl *r, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_request(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlattr *info;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, info);
	vlog("RTM_NEWLINK %s type bridge", name);
	return talk(r, nlh, NULL, NULL);
}

int rtnl_new_veth(struct rtnl *r, const char *host, const char *peer,
		  int nsfd, const char *nspath, uint32_t addr)
{
	uint8_t mac[6] = { 0x02, 0x42, addr >> 24, addr >> 16 & 0xff, addr >> 8 & 0xff, addr & 0xff };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_request(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlattr *info, *data, *peerinfo;
	struct ifinfomsg *ifi;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, host);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* VETH_INFO_PEER holds a whole ifinfomsg and its attributes: the
	 * peer's name, and the namespace it is born in. */
	peerinfo = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
	mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(mac), mac);
	mnl_attr_nest_end(nlh, peerinfo);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	vlog("RTM_NEWLINK %s type veth peer %s netns %s address 02:42:%02x:%02x:%02x:%02x", host,
	     peer, nspath, mac[2], mac[3], mac[4], mac[5]);
	return talk(r, nlh, NULL, NULL);
}

/* ifi_change says which flags to change, ifi_flags to what. */
static int set_up(struct rtnl *r, int index, int up, int master)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_request(buf, RTM_NEWLINK, 0, index);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	ifi->ifi_flags = up ? IFF_UP : 0;
	ifi->ifi_change = IFF_UP;
	if (master)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	return talk(r, nlh, NULL, NULL);
}

int rtnl_link_up(struct rtnl *r, int index, const char *name,
		 int master, const char *master_name)
{
	if (master)
		vlog("RTM_NEWLINK %s master %s up", name, master_name);
	else
		vlog("RTM_NEWLINK %s up", name);
	return set_up(r, index, 1, master);
}

int rtnl_link_down(struct rtnl *r, int index, const char *name)
{
	vlog("RTM_NEWLINK %s down", name);
	return set_up(r, index, 0, 0);
}

int rtnl_del_link(struct rtnl *r, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_request(buf, RTM_DELLINK, 0, 0);

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	vlog("RTM_DELLINK %s", name);
	return talk(r, nlh, NULL, NULL);
}

/* ---- addresses and routes ---- */

static struct nlmsghdr *addr_request(char *buf, uint16_t type, uint16_t flags,
				     int index, uint32_t addr, int prefix)
{
	struct nlmsghdr *nlh = request(buf, type, flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)index;
	mnl_attr_put_u32(nlh, IFA_LOCAL, htonl(addr));
	return nlh;
}

int rtnl_new_addr(struct rtnl *r, int index, const char *name,
		  uint32_t addr, int prefix, uint16_t flags)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], a[INET_ADDRSTRLEN];
	struct nlmsghdr *nlh = addr_request(buf, RTM_NEWADDR, NLM_F_CREATE | flags,
					    index, addr, prefix);

	mnl_attr_put_u32(nlh, IFA_ADDRESS, htonl(addr));
	mnl_attr_put_u32(nlh, IFA_BROADCAST, htonl(addr | ~mask_of(prefix)));
	vlog("RTM_NEWADDR %s/%d dev %s", ip_str(addr, a), prefix, name);
	return talk(r, nlh, NULL, NULL);
}

int rtnl_del_addr(struct rtnl *r, int index, const char *name,
		  uint32_t addr, int prefix)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], a[INET_ADDRSTRLEN];
	struct nlmsghdr *nlh = addr_request(buf, RTM_DELADDR, 0, index, addr, prefix);

	vlog("RTM_DELADDR %s/%d dev %s", ip_str(addr, a), prefix, name);
	return talk(r, nlh, NULL, NULL);
}

int rtnl_new_default_route(struct rtnl *r, int index, const char *name,
			   uint32_t gateway)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], a[INET_ADDRSTRLEN];
	struct nlmsghdr *nlh = request(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
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
	return talk(r, nlh, NULL, NULL);
}

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
		if (oif && !if_indextoname((unsigned)oif, dev))
			strcpy(dev, "?");
		snprintf(rc->found, sizeof(rc->found), "%s/%d dev %s",
			 ip_str(dst, a), rtm->rtm_dst_len, dev);
	}
	return MNL_CB_OK;
}

int rtnl_route_overlap(struct rtnl *r, uint32_t net, int prefix, int skip_index,
		       char found[64])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = request(buf, RTM_GETROUTE, NLM_F_DUMP);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct route_check rc = { .net = net, .prefix = prefix, .skip_oif = skip_index };

	rtm->rtm_family = AF_INET;
	nlh->nlmsg_flags &= (uint16_t)~NLM_F_ACK;   /* a dump ends with NLMSG_DONE */
	vlog("RTM_GETROUTE dump (is the subnet free?)");
	if (talk(r, nlh, route_cb, &rc) < 0)
		return -1;
	strcpy(found, rc.found);
	return 0;
}
