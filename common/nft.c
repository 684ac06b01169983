/*
 * nft.c - nftables through libnftables, loaded with dlopen(3): see nft.h.
 *
 * Read: nft(8), libnftables(3), dlopen(3).  Used by: net-bridge.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "leases.h"
#include "minidock.h"
#include "nft.h"
#include "rtnl.h"

char nft_error[256];

const char nft_table_cmds[] =
	"add table " NFT_TABLE "\n"
	"add chain " NFT_TABLE " prerouting { type nat hook prerouting priority dstnat; }\n"
	"add chain " NFT_TABLE " output { type nat hook output priority -100; }\n"
	"add chain " NFT_TABLE " postrouting { type nat hook postrouting priority srcnat; }\n"
	"add chain " NFT_TABLE " guard { type filter hook prerouting priority raw; }\n"
	"add chain " NFT_TABLE " forward { type filter hook forward priority filter; }\n";

/* Speed: dlopen, not linked; see bench/README.md, net-bridge.  The calls
 * are those of <nftables/libnftables.h>, through pointers dlsym(3) fills
 * (__typeof__ keeps their types). */
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
} lib;

/* dlsym(3) returns a void *; POSIX guarantees it converts to a function
 * pointer, which ISO C leaves undefined: hence the memcpy. */
static int symbol(const char *name, void *fn, size_t size)
{
	void *sym = dlsym(lib.handle, name);

	if (!sym) {
		snprintf(nft_error, sizeof(nft_error), "libnftables: %s", dlerror());
		return -1;
	}
	memcpy(fn, &sym, size);
	return 0;
}

static int load(void)
{
	if (lib.handle)
		return 0;
	lib.handle = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!lib.handle) {
		snprintf(nft_error, sizeof(nft_error), "dlopen libnftables.so.1: %s", dlerror());
		return -1;
	}
#define SYMBOL(field, name) symbol(#name, &lib.field, sizeof(lib.field))
	if (SYMBOL(ctx_new, nft_ctx_new) < 0 || SYMBOL(ctx_free, nft_ctx_free) < 0 ||
	    SYMBOL(buffer_output, nft_ctx_buffer_output) < 0 ||
	    SYMBOL(buffer_error, nft_ctx_buffer_error) < 0 ||
	    SYMBOL(output_set_flags, nft_ctx_output_set_flags) < 0 ||
	    SYMBOL(run_cmd_from_buffer, nft_run_cmd_from_buffer) < 0 ||
	    SYMBOL(get_output_buffer, nft_ctx_get_output_buffer) < 0 ||
	    SYMBOL(get_error_buffer, nft_ctx_get_error_buffer) < 0) {
		dlclose(lib.handle);
		lib.handle = NULL;
		return -1;
	}
#undef SYMBOL
	return 0;
}

/* One context for a whole setup or teardown, freed by nft_release.
 * Speed: freed last; see bench/README.md, net-bridge. */
static struct nft_ctx *nft;

void nft_release(void)
{
	if (nft)
		lib.ctx_free(nft);
	nft = NULL;
	if (lib.handle)
		dlclose(lib.handle);
	lib.handle = NULL;
}

int nft_run(const char *cmds, char **out)
{
	const char *p, *text;
	int ret;

	nft_error[0] = '\0';
	if (!nft) {
		if (load() < 0) {
			errno = ENOENT;
			return -1;
		}
		nft = lib.ctx_new(NFT_CTX_DEFAULT);
		if (!nft) {
			snprintf(nft_error, sizeof(nft_error), "nft_ctx_new failed");
			errno = ENOMEM;
			return -1;
		}
		lib.buffer_output(nft);
		lib.buffer_error(nft);
		lib.output_set_flags(nft, NFT_CTX_OUTPUT_HANDLE);
	}
	for (p = cmds; md_verbose && *p; ) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);
		vlog("nft %.*s", len, p);
		p += len + (nl ? 1 : 0);
	}
	ret = lib.run_cmd_from_buffer(nft, cmds);
	/* Reading a buffer empties it for the next command. */
	text = lib.get_output_buffer(nft);
	if (out)
		*out = xstrdup(ret == 0 && text ? text : "");
	text = lib.get_error_buffer(nft);
	if (ret != 0) {
		snprintf(nft_error, sizeof(nft_error), "%.*s",
			 text ? (int)strcspn(text, "\n") : 0, text ? text : "");
		if (out) {
			free(*out);
			*out = NULL;
		}
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int nft_list_table(char **out)
{
	char *tables = NULL;
	int ret = nft_run("list tables ip", &tables);

	*out = NULL;
	if (ret == 0 && strstr(tables, "table " NFT_TABLE "\n"))
		ret = nft_run("list table " NFT_TABLE, out);
	if (ret == 0 && !*out)
		*out = xstrdup("");
	free(tables);
	return ret;
}

/* Each rule of TABLE (its listing LIST, which is consumed) whose comment
 * is TAG or TAG2 is deleted by the handle nft prints after "# handle", in
 * the chain it is listed under; all in one transaction.  No rule, no
 * commit. */
static int delete_tagged(const char *table, char *list, const char *tag, const char *tag2)
{
	char *line, *save, *cmds = NULL, *want, *want2, *chain = NULL;
	size_t len;
	FILE *f;
	int ret = 0;

	f = open_memstream(&cmds, &len);
	if (!f)
		return -1;
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
			fprintf(f, "delete rule %s %s handle %s\n", table, chain, h);
	}
	if (fclose(f) != 0)
		ret = -1;
	else if (*cmds)
		ret = nft_run(cmds, NULL);
	free(want);
	free(want2);
	free(chain);
	free(cmds);
	return ret;
}

/* `nft -a list chain ip filter FORWARD` into *OUT, "" when there is no
 * such chain: the one iptables-nft makes for Docker. */
static int list_docker_forward(char **out)
{
	char *tables = NULL;
	int ret = nft_run("list tables ip", &tables);

	*out = NULL;
	if (ret == 0 && strstr(tables, "table ip filter\n") &&
	    nft_run("list chain ip filter FORWARD", out) < 0)
		*out = NULL;    /* a table filter without FORWARD: nothing to do */
	free(tables);
	if (ret == 0 && !*out)
		*out = xstrdup("");
	return ret;
}

int nft_docker_forward_drops(void)
{
	char *list;
	int drops;

	if (list_docker_forward(&list) < 0)
		return -1;
	drops = strstr(list, "hook forward") && strstr(list, "policy drop;");
	free(list);
	return drops;
}

int nft_forget(const char *name, const char *bridge, int last)
{
	char *list, *tag;
	int ret;

	/* The bridge goes: its accept rules in Docker's chain go too. */
	if (bridge) {
		tag = xasprintf("minidock bridge %s", bridge);
		ret = list_docker_forward(&list);
		if (ret == 0 && *list)
			ret = delete_tagged("ip filter", list, tag, NULL);
		free(list);
		free(tag);
		if (ret < 0)
			return -1;
	}
	ret = nft_list_table(&list);
	if (ret == 0 && *list && !last) {
		tag = bridge ? xasprintf("bridge %s", bridge) : NULL;
		ret = delete_tagged(NFT_TABLE, list, name, tag);
		free(tag);
	} else if (ret == 0 && *list) {
		ret = nft_run("delete table " NFT_TABLE, NULL);
	}
	free(list);
	return ret;
}

/*
 * Networks are kept apart as Docker's are: what one of minidock's bridges
 * (minidock0, md-*) would forward to another is dropped, unless it goes
 * to a published port (DNAT).  Each bridge is its own L2 segment; only
 * the host's routing could join them, and these rules stop it.
 *
 * A host with dockerd (DOCKER_DROPS, nft_docker_forward_drops): its
 * FORWARD chain (table ip filter, iptables-nft) has policy drop.  Every
 * base chain on the forward hook sees each packet and one drop is final,
 * so that chain must accept our bridge's traffic too, as libnetwork and
 * netavark insert theirs: appended after Docker's own rules (DOCKER-USER
 * keeps the last word), removed with the bridge (nft_forget).  Only in a
 * form iptables-nft can read back (iifname, oifname, counter, comment: no
 * native ct expression), or dockerd's next iptables call would find the
 * chain "incompatible".  What Docker's policy would still drop, a new
 * connection into the bridge from elsewhere that is no published port,
 * our own chain drops.
 */
void nft_keep_apart(FILE *f, const char *bridge, int docker_drops)
{
	const char *rule = "add rule " NFT_TABLE " forward";

	fprintf(f, "%s iifname \"%s\" oifname != \"%s\" oifname \"md-*\" ct status & dnat == 0 drop comment \"bridge %s\"\n",
		rule, bridge, bridge, bridge);
	if (strcmp(bridge, "minidock0"))
		fprintf(f, "%s iifname \"%s\" oifname \"minidock0\" ct status & dnat == 0 drop comment \"bridge %s\"\n",
			rule, bridge, bridge);
	if (!docker_drops)
		return;
	fprintf(f, "%s oifname \"%s\" iifname != \"%s\" ct state new ct status & dnat == 0 drop comment \"bridge %s\"\n",
		rule, bridge, bridge, bridge);
	fprintf(f, "add rule ip filter FORWARD iifname \"%s\" counter accept comment \"minidock bridge %s\"\n",
		bridge, bridge);
	fprintf(f, "add rule ip filter FORWARD oifname \"%s\" counter accept comment \"minidock bridge %s\"\n",
		bridge, bridge);
}

/* Legacy iptables (not nftables) lists its tables there, per network
 * namespace; a nat table means someone translates and routes. */
static int legacy_nat(void)
{
	char *names = read_file("/proc/net/ip_tables_names", NULL);
	int found = 0;

	if (names) {
		char *line, *save;
		for (line = strtok_r(names, "\n", &save); line && !found;
		     line = strtok_r(NULL, "\n", &save))
			found = !strcmp(line, "nat");
		free(names);
	}
	return found;
}

/* "table ip filter {" -> "ip filter"; NULL for other lines. */
static char *table_of(const char *line)
{
	const char *p = line + strspn(line, "\t ");
	size_t len;

	if (strncmp(p, "table ", 6))
		return NULL;
	p += 6;
	for (len = strcspn(p, "{"); len && p[len - 1] == ' '; len--)
		;
	return xasprintf("%.*s", (int)len, p);
}

int nft_other_routers(char **who)
{
	char *tables, *rules = NULL, *line, *save, *table = NULL, *t;
	int others = 0;

	*who = NULL;
	if (legacy_nat()) {
		*who = xstrdup("the iptables-legacy table nat");
		return 1;
	}
	/* Mostly there is no other table at all: one short question. */
	if (nft_run("list tables", &tables) < 0)
		return -1;
	for (line = strtok_r(tables, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		t = table_of(line);
		others |= t && strcmp(t, NFT_TABLE);
		free(t);
	}
	free(tables);
	if (!others || nft_run("list ruleset", &rules) < 0)
		return others ? -1 : 0;
	for (line = strtok_r(rules, "\n", &save); line && !*who;
	     line = strtok_r(NULL, "\n", &save)) {
		if ((t = table_of(line))) {
			free(table);
			table = t;
		} else if (table && strcmp(table, NFT_TABLE) &&
			   (strstr(line, "hook forward") || strstr(line, "type nat "))) {
			*who = xasprintf("the nftables table %s", table);
		}
	}
	free(table);
	free(rules);
	return *who != NULL;
}

void nft_container_rules(FILE *f, const char *list, const struct lease *l, int nat,
			 int drops)
{
	char a[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN], h[INET_ADDRSTRLEN];
	char guard[128], masq[192];
	size_t i;

	ip_str(l->addr, a);
	ip_str(l->addr & mask_of(l->prefix), net);
	/* route_localnet is on: drop what a container sends to 127/8 (CVE-2020-8558). */
	snprintf(guard, sizeof(guard), "iifname \"%s\" ip daddr 127.0.0.0/8 drop comment \"bridge %s\"",
		 l->bridge, l->bridge);
	/* Leaving through anything but its bridge, a container takes the
	 * host's address, so that the answers find their way back. */
	snprintf(masq, sizeof(masq), "ip saddr %s/%d oifname != \"%s\" masquerade comment \"bridge %s\"",
		 net, l->prefix, l->bridge, l->bridge);
	fputs(*list ? "" : nft_table_cmds, f);   /* the table and its chains, first */
	if (!strstr(list, guard)) {     /* the bridge's first container */
		fprintf(f, "add rule " NFT_TABLE " guard %s\n", guard);
		nft_keep_apart(f, l->bridge, drops);    /* networks isolated */
	}
	if (nat && !strstr(list, masq))
		fprintf(f, "add rule " NFT_TABLE " postrouting %s\n", masq);
	if (!nat)    /* ahead of the subnet's masquerade, present or to come */
		fprintf(f, "insert rule " NFT_TABLE " postrouting ip saddr %s oifname != \"%s\" accept comment \"%s\"\n",
			a, l->bridge, l->name);
	/* --publish: prerouting for packets from elsewhere, output for those
	 * of the host itself; their destination becomes the container. */
	for (i = 0; i < l->npub; i++) {
		const struct publish *p = &l->pub[i];
		char *dst = p->hostip ? xasprintf("ip daddr %s", ip_str(p->hostip, h))
				      : xstrdup("fib daddr type local");

		fprintf(f, "add rule " NFT_TABLE " prerouting %s %s dport %u dnat to %s:%u comment \"%s\"\n",
			dst, p->proto, p->hostport, a, p->port, l->name);
		fprintf(f, "add rule " NFT_TABLE " output %s %s dport %u dnat to %s:%u comment \"%s\"\n",
			dst, p->proto, p->hostport, a, p->port, l->name);
		free(dst);
	}
	/* Sent to a published port from 127.0.0.1 or from its own subnet, the
	 * answer would not come back through the host: masquerade those. */
	if (l->npub)
		fprintf(f, "add rule " NFT_TABLE " postrouting ct status dnat ip daddr %s ip saddr { 127.0.0.0/8, %s/%d } masquerade comment \"%s\"\n",
			a, net, l->prefix, l->name);
}
