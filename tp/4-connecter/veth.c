/*
 * veth.c - a veth pair and an IPv4 address, over rtnetlink (libmnl), in
 * the current network namespace.  TP step 4, "À vous de coder": complete
 * the two TODOs, then check with tp/verifier 4.
 *
 *   make exercices        (build/tp/4-connecter/veth, linked with -lmnl)
 *   sudo unshare --net sh -c 'build/tp/4-connecter/veth tp-a tp-b 10.99.0.1/24 && ip addr'
 *
 * net-bridge sends the same messages: read rtnl_new_veth(),
 * rtnl_new_addr() and rtnl_link_up() in common/rtnl.c, and rtnetlink(7),
 * veth(4), libmnl's examples.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct mnl_socket *nl;

/* A request: the netlink header, then HEADER bytes of the message's own
 * header (struct ifinfomsg, struct ifaddrmsg), zeroed. */
static struct nlmsghdr *request(char *buf, uint16_t type, uint16_t flags, size_t header)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = (unsigned)time(NULL);
	mnl_nlmsg_put_extra_header(nlh, header);
	return nlh;
}

/* Send the request, read the kernel's answer: 0, or -1 with its errno. */
static int talk(struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ||
	    (n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) < 0)
		return -1;
	return mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, mnl_socket_get_portid(nl), NULL, NULL) < 0 ? -1 : 0;
}

/* RTM_NEWLINK NAME type veth peer PEER */
static int make_pair(const char *name, const char *peer)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = request(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	struct nlattr *info;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	/* TODO 1: the peer's name, in IFLA_INFO_DATA > VETH_INFO_PEER, which
	 * holds a whole struct ifinfomsg and then the peer's attributes:
	 * two nests opened with mnl_attr_nest_start() (see IFLA_LINKINFO
	 * around), mnl_nlmsg_put_extra_header(), mnl_attr_put_strz(), and the
	 * nests closed, innermost first.  Without it the kernel names the
	 * peer itself (veth0).  Remove the next line. */
	(void)peer;
	mnl_attr_nest_end(nlh, info);
	return talk(nlh);
}

/* RTM_NEWADDR ADDR/PREFIX dev INDEX */
static int add_address(int index, struct in_addr addr, int prefix)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = request(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifaddrmsg));
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

	ifa->ifa_family = AF_INET;
	ifa->ifa_index = (unsigned)index;
	/* TODO 2: the prefix length in the header, the address (already in
	 * network byte order) as the attributes IFA_LOCAL and IFA_ADDRESS,
	 * with mnl_attr_put_u32().  Remove the next line. */
	(void)addr, (void)prefix;
	return talk(nlh);
}

/* RTM_NEWLINK dev INDEX up: ifi_change says which flags change. */
static int set_up(int index)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = request(buf, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	ifi->ifi_index = index;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return talk(nlh);
}

static int failed(const char *what, const char *name)
{
	fprintf(stderr, "veth: %s %s: %s\n", what, name, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	char address[INET_ADDRSTRLEN], *slash;
	struct in_addr addr;
	int prefix, index;

	if (argc != 4 || !(slash = strchr(argv[3], '/')) || slash - argv[3] >= INET_ADDRSTRLEN) {
		fprintf(stderr, "usage: veth NAME PEER ADDRESS/PREFIX   (e.g. veth tp-a tp-b 10.99.0.1/24)\n");
		return 2;
	}
	snprintf(address, sizeof(address), "%.*s", (int)(slash - argv[3]), argv[3]);
	prefix = atoi(slash + 1);
	if (inet_pton(AF_INET, address, &addr) != 1 || prefix < 1 || prefix > 32) {
		fprintf(stderr, "veth: %s: not an IPv4 address/prefix\n", argv[3]);
		return 2;
	}
	if (!(nl = mnl_socket_open(NETLINK_ROUTE)) || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return failed("netlink", "socket");
	if (make_pair(argv[1], argv[2]) < 0)
		return failed("RTM_NEWLINK type veth", argv[1]);
	if (!(index = (int)if_nametoindex(argv[1])))
		return failed("no link", argv[1]);
	if (add_address(index, addr, prefix) < 0)
		return failed("RTM_NEWADDR", argv[3]);
	for (int i = 1; i <= 2; i++)
		if (!(index = (int)if_nametoindex(argv[i])) || set_up(index) < 0)
			return failed("RTM_NEWLINK up", argv[i]);
	mnl_socket_close(nl);
	return 0;
}
