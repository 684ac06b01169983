/*
 * passwd.c - find a user or a group in an image's /etc/passwd and
 * /etc/group (passwd(5), group(5)).
 *
 * A container's users are the image's, not the host's: "--user www-data"
 * means the www-data of the image's /etc/passwd.  The host reads that file
 * before the container exists, so it resolves the path inside the image
 * (read_file_in_root: openat2 RESOLVE_IN_ROOT, a regular file, bounded):
 * an image whose /etc/passwd is a FIFO, a link to /dev/zero or whose /etc
 * points to the host's /etc cannot hang the tool, fill its memory or hand
 * it the host's users.  getpwnam(3) is not used: it reads the host's files
 * through NSS modules, which a static binary cannot load.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "minidock.h"
#include "passwd.h"

#define ETC_FILE_MAX (1024 * 1024)

/* Split LINE at ':' into at most N fields; returns how many it found. */
static int split_fields(char *line, char **field, int n)
{
	int i = 0, got;

	while (i < n && line)
		field[i++] = strsep(&line, ":");
	for (got = i; i < n; i++)
		field[i] = NULL;
	return got;
}

static int id_field(const char *s, unsigned long *id)
{
	unsigned long long v;

	if (parse_uint(s, UINT32_MAX - 1, &v) < 0)
		return -1;
	*id = (unsigned long)v;
	return 0;
}

int passwd_lookup(int rootfd, const char *name, uid_t uid, struct md_user *u)
{
	char *text = read_file_in_root(rootfd, "/etc/passwd", ETC_FILE_MAX, NULL);
	char *line, *save = NULL, *f[7];
	unsigned long id, gid;
	int found = 0;

	if (!text)
		return -1;
	/* name:password:UID:GID:comment:home:shell */
	for (line = strtok_r(text, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		if (split_fields(line, f, 7) < 4 || id_field(f[2], &id) < 0 ||
		    id_field(f[3], &gid) < 0)
			continue;
		if (name ? strcmp(f[0], name) != 0 : id != (unsigned long)uid)
			continue;
		u->name = xstrdup(f[0]);
		u->uid = (uid_t)id;
		u->gid = (gid_t)gid;
		u->home = xstrdup(f[5] && f[5][0] ? f[5] : "/");  /* docker: "/" */
		found = 1;
	}
	free(text);
	return found;
}

int group_lookup(int rootfd, const char *name, gid_t *gid)
{
	char *text = read_file_in_root(rootfd, "/etc/group", ETC_FILE_MAX, NULL);
	char *line, *save = NULL, *f[3];
	unsigned long id;
	int found = 0;

	if (!text)
		return -1;
	/* name:password:GID:members */
	for (line = strtok_r(text, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		if (split_fields(line, f, 3) < 3 || strcmp(f[0], name) != 0 ||
		    id_field(f[2], &id) < 0)
			continue;
		*gid = (gid_t)id;
		found = 1;
	}
	free(text);
	return found;
}

void user_free(struct md_user *u)
{
	free(u->name);
	free(u->home);
	u->name = u->home = NULL;
}

int passwd_primary_gid(const char *root, uid_t uid, gid_t *gid)
{
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct md_user u = { .gid = 0 };

	if (rootfd < 0)
		return -1;
	if (passwd_lookup(rootfd, NULL, uid, &u) == 1)
		user_free(&u);
	close(rootfd);
	*gid = u.gid;
	return 0;
}
