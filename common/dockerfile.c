/*
 * dockerfile.c - reading a Dockerfile, its words and .dockerignore (see
 * dockerfile.h).  Used by img-build.
 *
 * Docker reads a Dockerfile in two passes, and so does this file: the
 * lines into instructions first (df_parse: directives, comments,
 * continuations, the exec form), the words of each instruction later, when
 * it runs (df_words), since $NAME means what ARG and ENV said by then.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dockerfile.h"
#include "minidock.h"

/* What each instruction needs; FLAGS: the --options it takes. */
static const struct {
	const char *keyword;
	int min_words;          /* of the shell form; 0: any text, even empty */
	int exec_form;          /* may be a JSON array */
	const char *flags;      /* "--chown --chmod": the flags it accepts */
} known[] = {
	{ "FROM", 1, 0, "" },
	{ "RUN", 1, 1, "" },
	{ "CMD", 1, 1, "" },
	{ "ENTRYPOINT", 1, 1, "" },
	{ "COPY", 2, 1, "--chown" },
	{ "ADD", 2, 1, "--chown" },
	{ "ENV", 1, 0, "" },
	{ "ARG", 1, 0, "" },
	{ "WORKDIR", 1, 0, "" },
	{ "USER", 1, 0, "" },
	{ "EXPOSE", 1, 0, "" },
	{ "LABEL", 1, 0, "" },
	{ "VOLUME", 1, 1, "" },
	{ "STOPSIGNAL", 1, 0, "" },
	{ "MAINTAINER", 1, 0, "" },
};
#define N_KNOWN (sizeof(known) / sizeof(known[0]))

/* Known to Docker, not done here: said so rather than "unknown". */
static const char *const not_done[] = { "HEALTHCHECK", "ONBUILD", "SHELL", NULL };

/* "# escape=`" at the top: the directive's value, or NULL. */
static const char *directive(const char *line, const char *name)
{
	size_t n = strlen(name);

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line++ != '#')
		return NULL;
	while (*line == ' ' || *line == '\t')
		line++;
	if (strncasecmp(line, name, n) != 0)
		return NULL;
	line += n;
	while (*line == ' ' || *line == '\t')
		line++;
	if (*line++ != '=')
		return NULL;
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

static int blank(const char *s)
{
	return s[strspn(s, " \t\r")] == '\0';
}

static int comment(const char *s)
{
	return s[strspn(s, " \t")] == '#';
}

/* Does LINE end with the escape character (blanks after it allowed)?
 * Then cut it there. */
static int continues(char *line, char escape)
{
	size_t n = strlen(line);

	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
		n--;
	if (n == 0 || line[n - 1] != escape)
		return 0;
	line[n - 1] = '\0';
	return 1;
}

/* The JSON form: an array of strings.  1 when TEXT is one. */
static int exec_form(const char *text, struct strv *words)
{
	json_t *a, *v;
	size_t i;

	if (text[0] != '[' || !(a = json_loads(text, JSON_DECODE_ANY, NULL)))
		return 0;
	if (!json_is_array(a)) {
		json_decref(a);
		return 0;
	}
	json_array_foreach(a, i, v)
		if (!json_is_string(v)) {
			json_decref(a);
			return 0;
		}
	json_array_foreach(a, i, v)
		strv_push(words, json_string_value(v));
	json_decref(a);
	return 1;
}

/* ADD of a URL: refused when the Dockerfile is read, before any step. */
static int check_add_url(const struct df_instr *in, const struct strv *words, const char *file,
			 char **why)
{
	for (size_t i = 0; !strcmp(in->keyword, "ADD") && i + 1 < words->n; i++)
		if (strstr(words->v[i], "://"))
			return why_fail(why, "%s:%d: ADD %s: a URL is not supported by img-build "
					"(a build step has no network by default): download it, "
					"then COPY it", file, in->line, words->v[i]);
	return 0;
}

/* Check one instruction, its flags out of its text; 0 or -1 with *WHY. */
static int check_instr(struct df_instr *in, const char *file, size_t count, int *froms,
		       char **why)
{
	size_t k, nwords;
	struct strv w = { 0 };
	char *rest = in->text, *err = NULL;

	for (k = 0; k < N_KNOWN && strcmp(known[k].keyword, in->keyword); k++)
		;
	if (k == N_KNOWN) {
		for (size_t j = 0; not_done[j]; j++)
			if (!strcmp(not_done[j], in->keyword))
				return why_fail(why, "%s:%d: %s: not supported by img-build", file,
						in->line, in->keyword);
		return why_fail(why, "%s:%d: unknown instruction: %s", file, in->line, in->keyword);
	}
	if (count == 0 && strcmp(in->keyword, "FROM") && strcmp(in->keyword, "ARG"))
		return why_fail(why, "%s:%d: %s: a Dockerfile starts with FROM (or ARG)", file,
				in->line, in->keyword);
	if (!strcmp(in->keyword, "FROM") && (*froms)++ > 0)
		return why_fail(why, "%s:%d: FROM: a second FROM (a multi-stage build) is not "
				"supported by img-build", file, in->line);
	/* Flags: "--name=value" words before the arguments. */
	while (rest[0] == '-' && rest[1] == '-') {
		size_t len = strcspn(rest, " \t");
		char *flag = xasprintf("%.*s", (int)len, rest);
		size_t nlen = strcspn(flag, "=");
		char *name = xasprintf("%.*s", (int)nlen, flag);
		const char *f = strstr(known[k].flags, name);
		int ok = f && (f[nlen] == ' ' || f[nlen] == '\0') && flag[nlen] == '=';

		free(name);
		if (!ok) {
			why_fail(why, "%s:%d: %s: flag %s is not supported by img-build", file,
				 in->line, in->keyword, flag);
			free(flag);
			return -1;
		}
		strv_push(&in->flags, flag);
		free(flag);
		rest += len;
		rest += strspn(rest, " \t");
	}
	memmove(in->text, rest, strlen(rest) + 1);
	if (known[k].exec_form && exec_form(in->text, &in->words)) {
		in->json = 1;
		nwords = in->words.n;
		if (!strcmp(in->keyword, "RUN") && nwords == 0)
			return why_fail(why, "%s:%d: RUN: an empty command", file, in->line);
		if ((!strcmp(in->keyword, "COPY") || !strcmp(in->keyword, "ADD")) && nwords < 2)
			return why_fail(why, "%s:%d: %s: needs a source and a destination", file,
					in->line, in->keyword);
		return check_add_url(in, &in->words, file, why);
	}
	if (df_words(in->text, 0, NULL, NULL, 1, &w, &err) < 0) {
		why_fail(why, "%s:%d: %s: %s", file, in->line, in->keyword, err);
		free(err);
		return -1;
	}
	nwords = w.n;
	if (check_add_url(in, &w, file, why) < 0) {
		strv_free(&w);
		return -1;
	}
	strv_free(&w);
	if ((int)nwords < known[k].min_words)
		return why_fail(why, "%s:%d: %s: %s", file, in->line, in->keyword,
				known[k].min_words == 2 ? "needs a source and a destination"
							: "needs an argument");
	if (!strcmp(in->keyword, "FROM") && nwords != 1 && nwords != 3)
		return why_fail(why, "%s:%d: FROM: expected IMAGE [AS NAME]", file, in->line);
	return 0;
}

int df_parse(const char *text, const char *file, struct dockerfile *df, char **why)
{
	char *copy = xstrdup(text), *line, *next;
	int lineno = 0, top = 1, start = 0, froms = 0;
	char *acc = NULL;

	memset(df, 0, sizeof(*df));
	df->escape = '\\';
	*why = NULL;
	for (line = copy; line; line = next) {
		const char *value;
		int more;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (top && (value = directive(line, "escape"))) {
			if ((value[0] != '\\' && value[0] != '`') || !blank(value + 1)) {
				why_fail(why, "%s:%d: escape: %s: must be \\ or `", file, lineno, value);
				goto fail;
			}
			df->escape = value[0];
			continue;
		}
		if (top && directive(line, "syntax"))
			continue;
		top = 0;
		if (comment(line) || (!acc && blank(line)))
			continue;
		more = continues(line, df->escape);
		if (!acc) {
			acc = xstrdup(line);
			start = lineno;
		} else {
			char *j = xasprintf("%s%s", acc, line);
			free(acc);
			acc = j;
		}
		if (more && next)
			continue;
		{
			struct df_instr in = { .line = start };
			char *p = acc + strspn(acc, " \t");
			size_t kl = strcspn(p, " \t\r");

			in.keyword = xasprintf("%.*s", (int)kl, p);
			for (char *c = in.keyword; *c; c++)
				*c = (char)toupper((unsigned char)*c);
			p += kl;
			p += strspn(p, " \t");
			in.text = xstrdup(p);
			kl = strlen(in.text);
			while (kl > 0 && strchr(" \t\r", in.text[kl - 1]))
				in.text[--kl] = '\0';
			free(acc);
			acc = NULL;
			df->v = xrealloc(df->v, (df->n + 1) * sizeof(*df->v));
			df->v[df->n++] = in;
			if (check_instr(&df->v[df->n - 1], file, df->n - 1, &froms, why) < 0)
				goto fail;
		}
	}
	free(copy);
	if (froms == 0) {
		df_free(df);
		return why_fail(why, "%s: no FROM instruction", file);
	}
	return 0;
fail:
	free(acc);
	free(copy);
	df_free(df);
	return -1;
}

char *df_text(const struct df_instr *in)
{
	char *text = xstrdup(in->keyword);

	for (size_t i = 0; i < in->flags.n + 1; i++) {
		char *t = xasprintf("%s %s", text, i < in->flags.n ? in->flags.v[i] : in->text);
		free(text);
		text = t;
	}
	return text;
}

void df_free(struct dockerfile *df)
{
	for (size_t i = 0; i < df->n; i++) {
		free(df->v[i].keyword);
		free(df->v[i].text);
		strv_free(&df->v[i].flags);
		strv_free(&df->v[i].words);
	}
	free(df->v);
	df->v = NULL;
	df->n = 0;
}

/* ---- words ---- */

/* A growing string. */
struct buf {
	char *s;
	size_t n, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

/*
 * $NAME or ${...} at *P (just after the '$'): its value appended to B,
 * *P moved past it.  0, or -1 with *WHY.
 */
static int expand_var(const char **p, char escape, df_lookup lookup, void *arg,
		      struct buf *b, char **why)
{
	const char *s = *p, *value;
	char *name, *word = NULL;
	char op = 0;
	size_t n;

	if (*s == '{') {
		const char *end;
		int depth = 1;

		for (end = ++s; *end && depth; end++) {
			if (*end == '{')
				depth++;
			else if (*end == '}')
				depth--;
		}
		if (depth)
			return why_fail(why, "missing '}' in ${%s", s);
		n = strcspn(s, ":}");
		name = xasprintf("%.*s", (int)n, s);
		if (s[n] == ':') {
			op = s[n + 1];
			if (op != '-' && op != '+') {
				free(name);
				return why_fail(why, "${%.*s: only ${NAME:-word} and ${NAME:+word} "
						"are supported", (int)(end - s - 1), s);
			}
			word = xasprintf("%.*s", (int)(end - 1 - (s + n + 2)), s + n + 2);
		}
		*p = end;
	} else {
		n = 0;
		while (isalnum((unsigned char)s[n]) || s[n] == '_')
			n++;
		if (n == 0) {
			put(b, "$", 1);
			return 0;
		}
		name = xasprintf("%.*s", (int)n, s);
		*p = s + n;
	}
	value = lookup ? lookup(name, arg) : NULL;
	if (op == '-' && (!value || !value[0]))
		value = NULL;
	if (op == '+')
		value = value && value[0] ? word : "";
	if (op == '-' && !value) {
		/* The default is itself made of words (and may hold $VAR). */
		struct strv w = { 0 };
		if (df_words(word, escape, lookup, arg, 0, &w, why) < 0) {
			free(word);
			free(name);
			return -1;
		}
		if (w.n)
			put(b, w.v[0], strlen(w.v[0]));
		strv_free(&w);
	} else if (value) {
		put(b, value, strlen(value));
	}
	free(word);
	free(name);
	return 0;
}

int df_words(const char *text, char escape, df_lookup lookup, void *arg, int split,
	     struct strv *words, char **why)
{
	struct buf b = { 0 };
	const char *p = text;
	char quote = 0;
	int in_word = 0;

	*why = NULL;
	if (!escape)
		escape = '\\';
	if (!split)
		p += strspn(p, " \t");
	for (; *p; p++) {
		if (quote == '\'') {
			if (*p == '\'')
				quote = 0;
			else
				put(&b, p, 1);
			continue;
		}
		if (*p == escape && p[1]) {
			/* In double quotes, only ", $ and the escape are escaped. */
			if (quote && p[1] != '"' && p[1] != '$' && p[1] != escape)
				put(&b, p, 1);
			put(&b, ++p, 1);
			in_word = 1;
			continue;
		}
		if (*p == '$' && lookup) {
			p++;
			if (expand_var(&p, escape, lookup, arg, &b, why) < 0)
				goto fail;
			p--;
			in_word = 1;
			continue;
		}
		if (quote == '"') {
			if (*p == '"')
				quote = 0;
			else
				put(&b, p, 1);
			continue;
		}
		if (*p == '"' || *p == '\'') {
			quote = *p;
			in_word = 1;
			continue;
		}
		if (split && (*p == ' ' || *p == '\t')) {
			if (in_word)
				strv_push(words, b.s ? b.s : "");
			b.n = 0;
			if (b.s)
				b.s[0] = '\0';
			in_word = 0;
			continue;
		}
		put(&b, p, 1);
		in_word = 1;
	}
	if (quote) {
		why_fail(why, "unclosed %c quote", quote);
		goto fail;
	}
	if (in_word || (!split && b.s))
		strv_push(words, b.s ? b.s : "");
	else if (!split)
		strv_push(words, "");
	free(b.s);
	return 0;
fail:
	free(b.s);
	return -1;
}

/* ---- .dockerignore ---- */

/* "./a//b/" -> "a/b", as Go's filepath.Clean (without the "..") does. */
static char *clean_path(const char *p)
{
	char *out = xmalloc(strlen(p) + 1), *o = out;

	while (*p) {
		if (*p == '/') {
			p++;
			continue;
		}
		if (p[0] == '.' && (p[1] == '/' || !p[1])) {
			p++;
			continue;
		}
		if (o != out)
			*o++ = '/';
		while (*p && *p != '/')
			*o++ = *p++;
	}
	*o = '\0';
	return out;
}

int df_ignore_load(const char *context, struct df_ignore *ig)
{
	char *path = xasprintf("%s/.dockerignore", context);
	char *text = read_file(path, NULL), *line, *save = NULL;

	memset(ig, 0, sizeof(*ig));
	free(path);
	if (!text)
		return errno == ENOENT ? 0 : -1;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int neg = 0;
		size_t n;
		char *c;

		line += strspn(line, " \t");
		n = strlen(line);
		while (n && strchr(" \t\r", line[n - 1]))
			line[--n] = '\0';
		if (!n || line[0] == '#')
			continue;
		if (line[0] == '!') {
			neg = 1;
			line++;
		}
		c = clean_path(line);
		ig->negate = xrealloc(ig->negate, (ig->patterns.n + 1) * sizeof(int));
		ig->negate[ig->patterns.n] = neg;
		strv_push(&ig->patterns, c);
		free(c);
	}
	free(text);
	return 0;
}

/* Does the pattern PAT (slash-separated, "**" any directories) match PATH
 * whole? fnmatch(3) for each name. */
static int match_segments(const char *pat, const char *path)
{
	size_t pl = strcspn(pat, "/"), sl = strcspn(path, "/");
	char *ps, *ss;
	int m;

	if (pl == 2 && !strncmp(pat, "**", 2)) {
		const char *rest = pat[2] ? pat + 3 : "";
		if (!*rest)
			return 1;
		for (const char *s = path; ; ) {
			if (match_segments(rest, s))
				return 1;
			s = strchr(s, '/');
			if (!s)
				return 0;
			s++;
		}
	}
	if (!*path)
		return !*pat;
	ps = xasprintf("%.*s", (int)pl, pat);
	ss = xasprintf("%.*s", (int)sl, path);
	m = fnmatch(ps, ss, 0) == 0;
	free(ps);
	free(ss);
	if (!m)
		return 0;
	if (!pat[pl] && !path[sl])
		return 1;
	if (!pat[pl] || !path[sl])
		return 0;
	return match_segments(pat + pl + 1, path + sl + 1);
}

int df_ignored(const struct df_ignore *ig, const char *path)
{
	int ignored = 0;

	for (size_t i = 0; i < ig->patterns.n; i++) {
		char *prefix = xstrdup(path), *slash;
		int m = match_segments(ig->patterns.v[i], prefix);

		/* A pattern that matches a parent directory matches below it. */
		while (!m && (slash = strrchr(prefix, '/'))) {
			*slash = '\0';
			m = match_segments(ig->patterns.v[i], prefix);
		}
		free(prefix);
		if (m)
			ignored = !ig->negate[i];
	}
	return ignored;
}

void df_ignore_free(struct df_ignore *ig)
{
	strv_free(&ig->patterns);
	free(ig->negate);
	ig->negate = NULL;
}

const char *df_flag(const struct df_instr *in, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < in->flags.n; i++)
		if (!strncmp(in->flags.v[i], "--", 2) && !strncmp(in->flags.v[i] + 2, name, len) &&
		    in->flags.v[i][len + 2] == '=')
			return in->flags.v[i] + len + 3;
	return NULL;
}

int df_load(const char *path, struct dockerfile *df, char **why)
{
	char *text = read_file(path, NULL);
	int r;

	if (!text) {
		memset(df, 0, sizeof(*df));
		*why = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	r = df_parse(text, path, df, why);
	free(text);
	return r;
}
