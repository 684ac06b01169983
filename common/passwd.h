/*
 * passwd.h - users and groups as a container sees them: the lines of an
 * image's /etc/passwd and /etc/group (passwd(5), group(5)), read from the
 * host without NSS and without leaving the image (openat2 RESOLVE_IN_ROOT).
 */
#ifndef MINIDOCK_PASSWD_H
#define MINIDOCK_PASSWD_H

#include <sys/types.h>

struct md_user {
	char *name;
	uid_t uid;
	gid_t gid;      /* the primary group */
	char *home;
};

/*
 * The line of ROOTFD's /etc/passwd whose name is NAME, or, when NAME is
 * NULL, whose UID is UID.  ROOTFD is an image's root directory, or an
 * open "/" for the host's (or a container's own) users.  1: found, U
 * filled (user_free); 0: no such user; -1: the file cannot be read, or is
 * not a regular file of at most 1 MiB (errno).
 */
int passwd_lookup(int rootfd, const char *name, uid_t uid, struct md_user *u);
/* The GID of group NAME in ROOTFD's /etc/group: 1, 0 or -1 as above. */
int group_lookup(int rootfd, const char *name, gid_t *gid);
void user_free(struct md_user *u);

/*
 * The primary group of UID in the /etc/passwd under ROOT (a directory:
 * "/" in a container), into *GID; 0 when no line says (docker run's
 * default).  0, or -1 with errno when ROOT cannot be opened.
 */
int passwd_primary_gid(const char *root, uid_t uid, gid_t *gid);

#endif
