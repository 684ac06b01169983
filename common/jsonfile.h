/*
 * jsonfile.h - a JSON document written whole or not at all: dumped by
 * jansson into PATH.tmp, then renamed over PATH (rename(2) is atomic), so
 * a reader, or a crash, never sees half a file.  Used by network
 * (networks.c) and compose (compose-state.c).  And the output of an
 * inspect verb (container, volume): one JSON document, indented.
 */
#ifndef MINIDOCK_JSONFILE_H
#define MINIDOCK_JSONFILE_H

#include <stdio.h>

#include <jansson.h>

/* J (NULL: ENOMEM, as json_pack's failure) into PATH, FLAGS as for
 * json_dumps (JSON_INDENT(2)...).  0, or -1 with errno; no PATH.tmp left. */
int json_write_atomic(json_t *j, const char *path, size_t flags);

/* J on OUT as FLAGS say (JSON_INDENT(4) for inspect), and a newline.
 * 0, or -1 (out of memory). */
int json_print(const json_t *j, FILE *out, size_t flags);

#endif
