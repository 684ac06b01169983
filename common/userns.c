/*
 * userns.c - the two maps of a new user namespace (see userns.h).
 *
 * A new user namespace starts with no ID mapped; a line "INSIDE OUTSIDE
 * COUNT" of /proc/PID/uid_map (and gid_map) gives it some
 * (user_namespaces(7)).  Any user may map one ID, its own: "0 UID 1", the
 * single-ID map, where root inside is the caller and no other user exists.
 * Mapping more takes CAP_SETUID over the IDs outside, which an ordinary
 * user lacks; so the administrator grants it a range of subordinate IDs
 * in /etc/subuid and /etc/subgid (subuid(5): "alice:100000:65536"), and
 * the setuid-root helpers newuidmap(1) and newgidmap(1) write a map that
 * uses only those, as podman and rootlesskit do:
 *
 *     0 UID 1           root inside is the caller
 *     1 START COUNT     users 1..COUNT inside are START.. outside
 *
 * Used by ns-enter --userns.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include "minidock.h"
#include "passwd.h"
#include "userns.h"

/* The caller's name in the host's /etc/passwd, or NULL: not listed (the
 * range files are then matched by UID only). */
static char *user_name(uid_t uid)
{
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct md_user u;
	char *name = NULL;

	if (root < 0)
		return NULL;
	if (passwd_lookup(root, NULL, uid, &u) == 1) {
		name = u.name;
		u.name = NULL;
		user_free(&u);
	}
	close(root);
	return name;
}

/*
 * The first "OWNER:START:COUNT" line of FILE whose OWNER is NAME or the
 * number ID, as newuidmap reads it.  1: found; 0: none; -1: FILE cannot
 * be read (errno).
 */
static int find_range(const char *file, const char *name, unsigned long id,
		      struct id_range *r)
{
	FILE *f = fopen(file, "re");
	char *line = NULL, *start, *count;
	unsigned long long owner, v;
	size_t cap = 0;
	int found = 0;

	if (!f)
		return -1;
	while (!found && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (!(start = strchr(line, ':')) || !(count = strchr(start + 1, ':')))
			continue;
		*start++ = '\0';
		*count++ = '\0';
		if (!(name && !strcmp(line, name)) &&
		    !(parse_uint(line, UINT32_MAX, &owner) == 0 && owner == id))
			continue;
		if (parse_uint(start, UINT32_MAX - 1, &v) < 0)
			continue;
		r->start = (unsigned long)v;
		/* The range must end below (uid_t)-1, which means "no ID". */
		if (parse_uint(count, UINT32_MAX - 1 - r->start, &v) < 0 || v == 0)
			continue;
		r->count = (unsigned long)v;
		found = 1;
	}
	free(line);
	fclose(f);
	return found;
}

/* CAP_SETUID lets a process write any map itself. */
static int has_setuid_cap(void)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t caps = cap_get_proc();
	int rc;

	if (!caps)
		return -1;
	rc = cap_get_flag(caps, CAP_SETUID, CAP_EFFECTIVE, &v);
	cap_free(caps);
	return rc < 0 ? -1 : v == CAP_SET;
}

/* The single-ID map, and why (a copy of WHY). */
static int single(struct userns_map *m, const char *why)
{
	free(m->newuidmap);
	free(m->newgidmap);
	m->newuidmap = m->newgidmap = NULL;
	m->full = 0;
	m->why_single = xstrdup(why);
	return 0;
}

int userns_choose_map(struct userns_map *m, int single_asked)
{
	uid_t uid = geteuid();
	char *name, *why = NULL;
	int u, g, setuid_cap;

	memset(m, 0, sizeof(*m));
	m->go = -1;
	if (single_asked)
		return single(m, "--userns=single");
	setuid_cap = has_setuid_cap();
	if (setuid_cap < 0)
		return -1;
	if (setuid_cap)
		return single(m, "the caller has CAP_SETUID (root) and maps itself");
	m->newuidmap = find_in_path(getenv("PATH"), "newuidmap");
	m->newgidmap = find_in_path(getenv("PATH"), "newgidmap");
	if (!m->newuidmap || !m->newgidmap)
		return single(m, "no newuidmap or newgidmap in PATH (Debian package uidmap)");
	name = user_name(uid);
	u = find_range("/etc/subuid", name, uid, &m->uids);
	g = u == 1 ? find_range("/etc/subgid", name, uid, &m->gids) : 0;
	if (u != 1 || g != 1) {
		const char *file = u != 1 ? "/etc/subuid" : "/etc/subgid";
		if (u < 0 || g < 0)
			why = xasprintf("%s: %s", file, strerror(errno));
		else if (name)
			why = xasprintf("no range for %s in %s", name, file);
		else
			why = xasprintf("no range for UID %u in %s", (unsigned)uid, file);
		single(m, why);
		free(why);
	} else {
		m->full = 1;
	}
	free(name);
	return 0;
}

char *userns_refuse_user(const struct userns_map *m, int set_uid, uid_t uid,
			 int set_gid, gid_t gid)
{
	unsigned long last;

	if (!set_uid)
		return NULL;
	if (!m->full) {
		if (uid == 0 && (!set_gid || gid == 0))
			return NULL;
		return xasprintf("--user %u: the user namespace maps one ID, yours, "
				 "to root (single-id map: %s), so no other user exists "
				 "inside; an administrator gives USER a range with: usermod "
				 "--add-subuids 100000-165535 --add-subgids 100000-165535 USER",
				 (unsigned)(uid ? uid : gid), m->why_single);
	}
	/* (A GID taken from the image's /etc/passwd is only known inside:
	 * setgid(2) checks that one.) */
	last = m->uids.count < m->gids.count ? m->uids.count : m->gids.count;
	if (uid <= last && (!set_gid || gid <= last))
		return NULL;
	return xasprintf("--user %u: outside the user namespace's map (IDs 0 to %lu "
			 "inside, from /etc/subuid and /etc/subgid)",
			 (unsigned)(uid > last ? uid : gid), last);
}

/* "HELPER PID 0 ID 1 1 START COUNT", run and waited for: its exit code,
 * or -1 with errno when it cannot be started. */
static int run_map_helper(const char *helper, pid_t pid, unsigned id,
			  const struct id_range *r)
{
	char pid_s[16], id_s[16], start_s[24], count_s[24];
	char *argv[] = { (char *)helper, pid_s, "0", id_s, "1",
			 "1", start_s, count_s, NULL };
	pid_t child;
	int wstatus;

	snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
	snprintf(id_s, sizeof(id_s), "%u", id);
	snprintf(start_s, sizeof(start_s), "%lu", r->start);
	snprintf(count_s, sizeof(count_s), "%lu", r->count);
	vlog("%s %s 0 %s 1 1 %s %s", strrchr(helper, '/') + 1, pid_s, id_s,
	     start_s, count_s);
	fflush(NULL);
	child = fork();
	if (child < 0)
		return -1;
	if (child == 0)
		exec_command(argv);     /* says why if it cannot */
	if (waitpid(child, &wstatus, 0) < 0)
		return -1;
	return exit_code_of(wstatus);
}

int userns_helper_start(struct userns_map *m)
{
	pid_t parent = getpid();
	int fds[2], rc, which;
	char c;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	vlog("fork() a helper for newuidmap and newgidmap");
	m->helper = fork();
	if (m->helper < 0) {
		int e = errno;
		close(fds[0]);
		close(fds[1]);
		errno = e;
		return -1;
	}
	if (m->helper > 0) {
		close(fds[0]);
		m->go = fds[1];
		return 0;
	}
	/* The helper.  EOF without a byte: the parent failed to unshare, and
	 * there is nothing to map.  Its exit status says which one failed
	 * (each has printed why). */
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1)
		_exit(EXIT_TOOL_FAILED);
	which = 1;
	rc = run_map_helper(m->newuidmap, parent, (unsigned)geteuid(), &m->uids);
	if (rc == 0) {
		which = 2;
		rc = run_map_helper(m->newgidmap, parent, (unsigned)getegid(), &m->gids);
	}
	if (rc < 0)
		child_error("fork", errno);
	fflush(NULL);
	_exit(rc == 0 ? 0 : which);
}

int userns_helper_finish(struct userns_map *m, const char **which)
{
	ssize_t n = write(m->go, "", 1);
	int wstatus, e = errno;

	close(m->go);
	m->go = -1;
	if (waitpid(m->helper, &wstatus, 0) < 0)
		return -1;
	m->helper = 0;
	if (n != 1) {           /* it is gone: it never ran the helpers */
		errno = n < 0 ? e : EPIPE;
		return -1;
	}
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
		return 0;
	*which = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 2
		? m->newgidmap : m->newuidmap;
	return 1;
}

void userns_map_free(struct userns_map *m)
{
	free(m->why_single);
	free(m->newuidmap);
	free(m->newgidmap);
	m->why_single = m->newuidmap = m->newgidmap = NULL;
	if (m->go >= 0)
		close(m->go);
	m->go = -1;
}
