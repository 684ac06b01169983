/*
 * detach.c - the start report of `run -d` (detach.h): one pipe from a
 * detached container's supervisor to the `run -d` that forked it.  A
 * single byte says COMMAND runs; an int, the chain's status, says it
 * ended, and the container's log follows.  Used by run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "detach.h"
#include "minidock.h"

int detach_report_started(int fd)
{
	int r = write_all(fd, "", 1);

	close(fd);
	return r;
}

int detach_report_ended(int fd, int code, const char *log)
{
	char *text = read_file(log, NULL);
	int r = write_all(fd, &code, sizeof(code));

	if (r == 0 && text)
		r = write_all(fd, text, strlen(text));
	close(fd);
	free(text);
	return r;
}

int detach_wait_report(int fd, int *code)
{
	char buf[4096];
	ssize_t n = read(fd, code, sizeof(*code));

	if (n != 1 && n != sizeof(*code)) {
		close(fd);
		return -1;
	}
	if (n == 1 || *code < EXIT_TOOL_FAILED) {
		if (n == 1)
			*code = 0;
		close(fd);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		write_all(STDERR_FILENO, buf, (size_t)n);
	close(fd);
	return 0;
}
