/*
 * security.c - placeholder until the security work lands: no protection
 * beyond the namespaces yet.  See security.h for the contract.
 */
#include <errno.h>
#include <string.h>

#include "security.h"

void security_defaults(struct md_security *s)
{
	memset(s, 0, sizeof(*s));
	s->seccomp = 1;
	s->no_new_privs = 1;
}

int security_parse_cap(const char *name, uint64_t *mask)
{
	(void)name;
	(void)mask;
	errno = ENOSYS;
	return -1;
}

int security_parse_opt(struct md_security *s, const char *opt)
{
	(void)s;
	(void)opt;
	errno = ENOSYS;
	return -1;
}

int security_mask_paths(const struct md_security *s)
{
	(void)s;
	return 0;
}

int security_apply(const struct md_security *s)
{
	(void)s;
	return 0;
}
