/*
 * leases.c - the container networks that exist, one line each in
 * $MINIDOCK_RUN_DIR/net/leases: see leases.h.
 *
 * Read: flock(2), rename(2).  Used by: net-bridge.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include "minidock.h"
#include "leases.h"
#include "nft.h"

/* Without --subnet: the first of these no host route overlaps. */
static const char *const fallback_subnets[] = {
	DEFAULT_SUBNET, "172.29.0.0/16", "192.168.213.0/24",
};

/* ---- --publish ---- */

int parse_publish(const char *s, struct publish *p)
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
	if (ret < 0)
		errno = EINVAL;
	return ret;
}

void publish_str(const struct publish *p, char *buf, size_t size)
{
	char ip[INET_ADDRSTRLEN];

	snprintf(buf, size, "%s:%u:%u/%s", ip_str(p->hostip, ip),
		 p->hostport, p->port, p->proto);
}

int publish_clash(const struct publish *a, const struct publish *b)
{
	return a->hostport == b->hostport && !strcmp(a->proto, b->proto) &&
	       (a->hostip == b->hostip || a->hostip == 0 || b->hostip == 0);
}

/* bind(2) it once to see (SO_REUSEADDR: a connection in TIME_WAIT is not
 * a listener). */
int publish_busy(const struct publish *p)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)p->hostport),
		.sin_addr.s_addr = htonl(p->hostip),
	};
	int one = 1, fd, busy;

	fd = socket(AF_INET, (strcmp(p->proto, "udp") ? SOCK_STREAM : SOCK_DGRAM) |
		    SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		busy = -1;
	else
		busy = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == EADDRINUSE;
	if (busy < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return busy;
}

/* ---- the file ---- */

char *lease_veth_name(const char *name)
{
	if (strlen("veth-") + strlen(name) < IFNAMSIZ)
		return xasprintf("veth-%s", name);
	/* The low 32 bits of the hash: names as short as before. */
	return xasprintf("veth-%08x", (uint32_t)hash_str(name));
}

char *net_state_path(const char *name, const char *suffix)
{
	return xasprintf("%s/net/%s%s", md_run_dir(), name, suffix);
}

int net_mark(const char *name, const char *suffix, const char *text)
{
	char *path = net_state_path(name, suffix);
	int ret = write_file(path, text);

	free(path);
	return ret;
}

int net_write_sysctl(const char *path, const char *value)
{
	vlog("write %s = %.*s", path, (int)strcspn(value, "\n"), value);
	return write_file(path, value);
}

/* What was marked (malloc'd), the marker removed; NULL when none. */
static char *unmark(const char *name, const char *suffix)
{
	char *path = net_state_path(name, suffix), *text = read_file(path, NULL);

	if (text && unlink(path) < 0) {
		free(text);
		text = NULL;
	}
	free(path);
	return text;
}

int net_put_bridge_back(struct rtnl *r, const char *bridge)
{
	char *ours = unmark(bridge, ".ours"), *cidr = unmark(bridge, ".gateway");
	int prefix, index, ret = 0;
	const char *why;
	uint32_t net;

	if (ours)
		ret = rtnl_del_link(r, bridge) < 0 && errno != ENODEV ? -1 : 0;
	else if (cidr && parse_cidr(cidr, &net, &prefix, &why) == 0 &&
		 (index = rtnl_link_index(r, bridge)) > 0)
		ret = rtnl_del_addr(r, index, bridge, net + 1, prefix) < 0 &&
		      errno != EADDRNOTAVAIL ? -1 : 0;
	free(cidr);
	free(ours);
	return ret;
}

int net_restore_forwarding(void)
{
	const char *knob = "/proc/sys/net/ipv4/ip_forward";
	char *ours = unmark("ip_forward", ".ours"), *now = NULL, *who = NULL;
	int ret = 0;

	if (ours && (now = read_file(knob, NULL)) && now[0] == '1') {
		if (nft_other_routers(&who) != 0) {
			vlog("%s stays 1: %s may need it", knob, who ? who : nft_error);
		} else {
			ret = net_write_sysctl(knob, "0\n");
		}
	}
	free(who);
	free(now);
	free(ours);
	return ret;
}

void lease_free(struct lease *l)
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

/*
 * The lock is a file of its own, never replaced: a lock on the leases
 * file itself would stay on the old file once a new one is renamed over
 * it, and a process waiting for it would then read the old leases.
 */
int leases_lock(struct leases *L, int how)
{
	char *dir = net_state_path("", ""), *lock = net_state_path("lock", "");
	char *path = net_state_path("leases", ""), *text, *line, *save;
	int e;

	memset(L, 0, sizeof(*L));
	L->lockfd = -1;
	if (mkdir_p(dir, 0755) < 0)
		goto fail;
	L->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (L->lockfd < 0)
		goto fail;
	while (flock(L->lockfd, how) < 0)
		if (errno != EINTR)
			goto fail;
	text = read_file(path, NULL);
	if (!text && errno != ENOENT)
		goto fail;
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct lease l;
		if (line[0] == '#')
			continue;
		if (parse_lease(line, &l) < 0) {
			L->damaged++;
			continue;
		}
		lease_add(L, &l);
	}
	free(text);
	free(path);
	free(lock);
	free(dir);
	return 0;
fail:
	e = errno;
	leases_unlock(L);
	free(path);
	free(lock);
	free(dir);
	errno = e;
	return -1;
}

/* /run is a tmpfs: what a power cut would lose goes anyway, so no fsync;
 * rename(2) guards against a crash of net-bridge itself. */
int leases_save(struct leases *L)
{
	char *path = net_state_path("leases", ""), *tmp = net_state_path("leases", ".new");
	FILE *f = fopen(tmp, "we");
	int ret = -1, e;
	size_t i, j;

	if (f) {
		fputs("# NAME ADDRESS/PREFIX BRIDGE VETH PID STARTTIME [PUBLISH...]\n", f);
		for (i = 0; i < L->n; i++) {
			const struct lease *l = &L->v[i];
			char ip[INET_ADDRSTRLEN], p[64];

			fprintf(f, "%s %s/%d %s %s %d %llu", l->name, ip_str(l->addr, ip),
				l->prefix, l->bridge, l->veth, (int)l->pid, l->start);
			for (j = 0; j < l->npub; j++) {
				publish_str(&l->pub[j], p, sizeof(p));
				fprintf(f, " %s", p);
			}
			fputc('\n', f);
		}
		ret = ferror(f) ? -1 : 0;
		if (fclose(f) != 0)
			ret = -1;
		if (ret == 0)
			ret = rename(tmp, path);
		if (ret < 0) {
			e = errno;
			unlink(tmp);
			errno = e;
		}
	}
	free(tmp);
	free(path);
	return ret;
}

void leases_unlock(struct leases *L)
{
	size_t i;

	for (i = 0; i < L->n; i++)
		lease_free(&L->v[i]);
	free(L->v);
	if (L->lockfd >= 0)
		close(L->lockfd);       /* closing the file releases the flock */
	memset(L, 0, sizeof(*L));
	L->lockfd = -1;
}

struct lease lease_new(const char *name, const char *bridge, uint32_t addr, int prefix,
		       pid_t owner, const struct publish *pub, size_t npub)
{
	struct lease l = {
		.name = xstrdup(name), .bridge = xstrdup(bridge),
		.veth = lease_veth_name(name), .addr = addr, .prefix = prefix,
		.pid = owner, .start = owner ? proc_start_time(owner) : 0,
		.pub = xmalloc((npub + 1) * sizeof(*pub)), .npub = npub,
	};

	if (npub)
		memcpy(l.pub, pub, npub * sizeof(*pub));
	return l;
}

struct lease *lease_find(const struct leases *L, const char *name)
{
	size_t i;

	for (i = 0; i < L->n; i++)
		if (!strcmp(L->v[i].name, name))
			return &L->v[i];
	return NULL;
}

void lease_add(struct leases *L, const struct lease *l)
{
	L->v = xrealloc(L->v, (L->n + 1) * sizeof(*L->v));
	L->v[L->n++] = *l;
}

void lease_drop(struct leases *L, const char *name)
{
	struct lease *l = lease_find(L, name);

	if (!l)
		return;
	lease_free(l);
	*l = L->v[--L->n];
}

/* With its start time, a PID names one process even after PID reuse. */
int lease_owner_alive(const struct lease *l)
{
	return l->pid == 0 || proc_start_time(l->pid) == l->start;
}

char *lease_first_dead(const struct leases *L)
{
	size_t i;

	for (i = 0; i < L->n; i++)
		if (!lease_owner_alive(&L->v[i]))
			return xstrdup(L->v[i].name);
	return NULL;
}

size_t leases_others(const struct leases *L, const struct lease *l0, const char *bridge)
{
	size_t i, n = 0;

	for (i = 0; i < L->n; i++)
		n += &L->v[i] != l0 && (!bridge || !strcmp(L->v[i].bridge, bridge));
	return n;
}

/* ---- choosing a subnet and an address ---- */

static int refuse(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return 1;
}

int lease_conflict(const struct leases *L, const struct lease *want, uint32_t net,
		   char *why, size_t size)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	size_t i, j, k;

	for (i = 0; i < L->n; i++) {
		const struct lease *l = &L->v[i];
		uint32_t lnet = l->addr & mask_of(l->prefix);

		if (want->addr && l->addr == want->addr)
			return refuse(why, size, "--ip %s: already taken by %s",
				      ip_str(want->addr, a), l->name);
		if (same_subnet(l->addr, l->prefix, net, want->prefix) && l->prefix != want->prefix)
			return refuse(why, size, "--subnet %s/%d overlaps %s/%d of %s",
				      ip_str(net, a), want->prefix, ip_str(lnet, b),
				      l->prefix, l->name);
		if (!strcmp(l->bridge, want->bridge) && l->prefix == want->prefix &&
		    !same_subnet(l->addr, l->prefix, net, want->prefix))
			return refuse(why, size, "--bridge %s already carries %s/%d, not %s/%d",
				      want->bridge, ip_str(lnet, a), l->prefix,
				      ip_str(net, b), want->prefix);
		for (j = 0; j < want->npub; j++)
			for (k = 0; k < l->npub; k++)
				if (publish_clash(&want->pub[j], &l->pub[k]))
					return refuse(why, size,
						      "--publish: host port %u/%s is already published by %s",
						      want->pub[j].hostport, want->pub[j].proto, l->name);
	}
	return 0;
}

int lease_free_address(const struct leases *L, uint32_t net, int prefix, uint32_t *addr)
{
	uint32_t last = net | ~mask_of(prefix), a;
	size_t i;

	for (a = net + 2; a < last; a++) {
		for (i = 0; i < L->n; i++)
			if (L->v[i].addr == a)
				break;
		if (i == L->n) {
			*addr = a;
			return 0;
		}
	}
	errno = ENOSPC;
	return -1;
}

int lease_choose_subnet(const struct leases *L, const char *bridge, struct rtnl *r,
			int index, char cidr[32])
{
	char a[INET_ADDRSTRLEN], found[64];
	const char *why;
	uint32_t net;
	int prefix;
	size_t i;

	for (i = 0; i < L->n; i++) {
		const struct lease *l = &L->v[i];

		if (!strcmp(l->bridge, bridge)) {
			snprintf(cidr, 32, "%s/%d", ip_str(l->addr & mask_of(l->prefix), a),
				 l->prefix);
			return 0;
		}
	}
	for (i = 0; i < sizeof(fallback_subnets) / sizeof(fallback_subnets[0]); i++) {
		if (parse_cidr(fallback_subnets[i], &net, &prefix, &why) < 0 ||
		    rtnl_route_overlap(r, net, prefix, index, found) < 0)
			return -1;
		if (!found[0]) {
			snprintf(cidr, 32, "%s", fallback_subnets[i]);
			return 0;
		}
		vlog("%s overlaps the host's route %s: next", fallback_subnets[i], found);
	}
	snprintf(cidr, 32, "%s", DEFAULT_SUBNET);    /* and the check says why not */
	return 0;
}

/* ---- --list ---- */

static const char *owner_of(const struct lease *l, char buf[16])
{
	if (l->pid == 0)
		return "kept";
	if (!lease_owner_alive(l))
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
	char a[INET_ADDRSTRLEN], owner[16], p[64];
	size_t j;

	printf("%s  {\"name\": \"%s\", \"address\": \"%s\", \"prefix\": %d, "
	       "\"bridge\": \"%s\", \"veth\": \"%s\", \"netns\": \"%s/%s\", "
	       "\"owner\": \"%s\", \"publish\": [",
	       first ? "" : ",\n", l->name, ip_str(l->addr, a), l->prefix,
	       l->bridge, l->veth, md_netns_dir(), l->name, owner_of(l, owner));
	for (j = 0; j < l->npub; j++) {
		publish_str(&l->pub[j], p, sizeof(p));
		printf("%s\"%s\"", j ? ", " : "", p);
	}
	printf("]}");
}

void leases_print(const struct leases *L, int json)
{
	size_t i;

	if (json)
		printf("[\n");
	else
		printf("%-16s %-18s %-12s %-8s %s\n", "NAME", "ADDRESS", "BRIDGE", "OWNER", "PUBLISH");
	for (i = 0; i < L->n; i++) {
		if (json)
			print_json(&L->v[i], i == 0);
		else
			print_text(&L->v[i]);
	}
	if (json)
		printf("%s]\n", L->n ? "\n" : "");
}
