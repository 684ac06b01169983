/*
 * jsonfile.c - JSON documents written atomically (jsonfile.h): a
 * temporary file, then rename(2).  Used by network and compose; and
 * json_print, by container and volume inspect.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "jsonfile.h"
#include "minidock.h"

int json_write_atomic(json_t *j, const char *path, size_t flags)
{
	char *tmp = xasprintf("%s.tmp", path);
	int ret, e;

	errno = 0;
	ret = j ? json_dump_file(j, tmp, flags) : -1;
	if (ret < 0 && !errno)
		errno = j ? EIO : ENOMEM;
	if (ret == 0)
		ret = rename(tmp, path);
	e = errno;
	if (ret < 0)
		unlink(tmp);
	free(tmp);
	errno = e;
	return ret < 0 ? -1 : 0;
}

int json_print(const json_t *j, FILE *out, size_t flags)
{
	char *text = json_dumps(j, flags);

	if (!text)
		return -1;
	fprintf(out, "%s\n", text);
	free(text);
	return 0;
}
