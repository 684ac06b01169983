/*
 * userns.h - which IDs a new user namespace maps (user_namespaces(7)):
 * the full map of an ordinary user with a range of subordinate IDs in
 * /etc/subuid and /etc/subgid (subuid(5)), written by the setuid helpers
 * newuidmap(1) and newgidmap(1); or else the single-ID map "0 UID 1" that
 * any user may write for itself.  Used by ns-enter --userns.
 *
 *     userns_choose_map(&m, single_asked)     before anything is made
 *     userns_refuse_user(&m, ...)             a --user the map lacks?
 *     if (m.full) userns_helper_start(&m)     fork the helper
 *     unshare(CLONE_NEWUSER)
 *     if (m.full) userns_helper_finish(&m)    it maps us; else the tool
 *                                             writes the single map
 *     userns_map_free(&m)
 */
#ifndef MINIDOCK_USERNS_H
#define MINIDOCK_USERNS_H

#include <sys/types.h>

/* "START COUNT" of a line "OWNER:START:COUNT" of /etc/subuid. */
struct id_range {
	unsigned long start, count;
};

struct userns_map {
	int full;               /* 1: the full map, by newuidmap/newgidmap */
	char *why_single;       /* else why not ("no range for alice in /etc/subuid") */
	char *newuidmap, *newgidmap;    /* their paths, from PATH */
	struct id_range uids, gids;
	pid_t helper;           /* the process that runs them, or 0 */
	int go;                 /* the pipe that tells it to */
};

/* Which map the caller can have: the full one unless SINGLE_ASKED
 * (--userns=single), the caller has CAP_SETUID (root maps itself), the
 * helpers are not in PATH, or the range files do not give it a range.
 * -1 with errno if the caller's capabilities cannot be read. */
int userns_choose_map(struct userns_map *m, int single_asked);

/* NULL if the map has user UID and group GID (SET_*: they were asked for),
 * else the message that refuses the --user, malloc'd: setuid(2) to an
 * unmapped ID fails much later with a bare EINVAL. */
char *userns_refuse_user(const struct userns_map *m, int set_uid, uid_t uid,
			 int set_gid, gid_t gid);

/*
 * The setuid-helper protocol (util-linux unshare(1), podman): the maps of
 * a process are written from outside its user namespace, and a setuid
 * program started from inside would not be root (its owner, root, is not
 * mapped there).  So userns_helper_start forks a helper while we are
 * still outside; it waits on a pipe until userns_helper_finish, called
 * after unshare(2), tells it to run "newuidmap PID 0 UID 1 1 START COUNT"
 * and the same newgidmap for our PID, and waits for it.
 * userns_helper_finish returns 0 when both succeeded; 1 when one failed
 * (it printed why; *WHICH is its path); -1 with errno otherwise.
 */
int userns_helper_start(struct userns_map *m);
int userns_helper_finish(struct userns_map *m, const char **which);

void userns_map_free(struct userns_map *m);

#endif
