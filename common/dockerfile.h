/*
 * dockerfile.h - a Dockerfile read into instructions, and the words of an
 * instruction as Docker's own lexer makes them (quotes, the escape
 * character, $VAR and ${VAR:-default}), and .dockerignore.  Used by
 * img-build.  See the Dockerfile reference (docs.docker.com/reference/
 * dockerfile/): "Parser directives", "Environment replacement",
 * ".dockerignore file".
 *
 * A Dockerfile is lines; a line whose last character is the escape
 * character (\ or, with "# escape=`", `) goes on on the next; a line that
 * starts with # is a comment; the rest are INSTRUCTION ARGUMENTS.
 */
#ifndef MINIDOCK_DOCKERFILE_H
#define MINIDOCK_DOCKERFILE_H

#include <stddef.h>

#include "store.h"

struct df_instr {
	int line;               /* where it starts, from 1 */
	char *keyword;          /* upper case: "RUN", "COPY"... */
	char *text;             /* the arguments, continuations joined, flags out */
	struct strv flags;      /* --chown=0:0 and the like, before the arguments */
	int json;               /* exec form: ["a", "b"] */
	struct strv words;      /* the JSON form's strings (json only) */
};

struct dockerfile {
	struct df_instr *v;
	size_t n;
	char escape;            /* '\\', or '`' after "# escape=`" */
};

/*
 * Read TEXT (the Dockerfile FILE, for messages) into DF.  Every
 * instruction must be known and have the arguments it needs.  0, or -1
 * with *WHY "FILE:LINE: INSTRUCTION: what is wrong" (malloc'd).
 */
int df_parse(const char *text, const char *file, struct dockerfile *df, char **why);
void df_free(struct dockerfile *df);
/* The Dockerfile PATH, read and parsed (df_parse) into DF.  0, or -1 with
 * *WHY (malloc'd: "PATH: No such file or directory", or df_parse's). */
int df_load(const char *path, struct dockerfile *df, char **why);

/* "COPY --chown=1:1 a b": the instruction as one line (malloc'd), as the
 * progress and the image's history show it. */
char *df_text(const struct df_instr *in);

/* The value of flag --NAME=VALUE of IN (COPY --chown=...), or NULL. */
const char *df_flag(const struct df_instr *in, const char *name);

/* Where a $NAME is looked up: its value, or NULL when unset. */
typedef const char *(*df_lookup)(const char *name, void *arg);

/*
 * The words of TEXT as Docker's lexer makes them: split on blanks (or,
 * with !SPLIT, one word keeping them), quotes removed, ESCAPE escaping the
 * next character, $NAME, ${NAME}, ${NAME:-word} and ${NAME:+word}
 * replaced through LOOKUP (none with LOOKUP NULL).  Appended to WORDS.
 * 0, or -1 with *WHY (an unclosed quote or brace).
 */
int df_words(const char *text, char escape, df_lookup lookup, void *arg, int split,
	     struct strv *words, char **why);

/* ---- .dockerignore ---- */

struct df_ignore {
	struct strv patterns;   /* cleaned, without the leading '!' */
	int *negate;            /* pattern i starts with '!': an exception */
};

/* Read CONTEXT/.dockerignore (none: nothing ignored).  0 or -1 with errno. */
int df_ignore_load(const char *context, struct df_ignore *ig);
/* 1 when PATH (relative to the context, "dir/file") is ignored: the last
 * pattern matching it, or one of its parent directories, is not an
 * exception.  "**" matches any number of directories. */
int df_ignored(const struct df_ignore *ig, const char *path);
void df_ignore_free(struct df_ignore *ig);

#endif
