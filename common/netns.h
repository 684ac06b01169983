/*
 * netns.h - where network namespaces are kept, as ip-netns(8) keeps them:
 * a namespace lives on without any process while /proc/self/ns/net of one
 * of its processes is bind-mounted on a file of $MINIDOCK_NETNS_DIR
 * (/run/netns), so `ip netns exec NAME` and `nsenter --net=FILE` find it.
 *
 * Read: ip-netns(8), network_namespaces(7), mount_namespaces(7).
 * Used by: net-bridge.
 */
#ifndef MINIDOCK_NETNS_H
#define MINIDOCK_NETNS_H

/* $MINIDOCK_NETNS_DIR/NAME (malloc'd). */
char *netns_path(const char *name);
/* Is there a file NAME there (a namespace, or what is left of one)? */
int netns_exists(const char *name);
/* Make the directory a shared mount point of its own, as ip-netns(8)
 * does, so that unmounting a namespace file there also reaches the copies
 * other mount namespaces made of it (else they would keep it alive).
 * -1 with errno. */
int netns_dir_shared(void);

#endif
