/*
 * verbs.c - a tool made of verbs (container, image, network, volume).  See verbs.h.
 * Read getopt_long(3): "+" stops at the first non-option (the verb), and
 * optind = 1 starts it again on the verb's own arguments.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidock.h"
#include "store.h"
#include "verbs.h"

/* "ls, exec, logs" of VERBS, aliases left out, LAST before the last one
 * (" or ", or ", "), malloc'd. */
static char *verb_list(const struct verb *verbs, const char *last)
{
	char *list = xstrdup("");
	size_t n = 0, shown = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (const struct verb *v = verbs; v->name; v++) {
			int alias = 0;
			for (const struct verb *w = verbs; w < v; w++)
				alias |= w->run == v->run;
			if (alias) {
				continue;
			} else if (pass == 0) {
				n++;
			} else {
				char *l = xasprintf("%s%s%s", list, !shown ? ""
						    : shown + 1 == n ? last : ", ", v->name);
				free(list);
				list = l;
				shown++;
			}
		}
	}
	return list;
}

int verbs_main(int argc, char **argv, const char *usage, const struct verb *verbs)
{
	static const struct option longopts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help",    no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct verb *v;
	static char *why, *list;    /* static: still reachable after die() */
	int c;

	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'v': md_verbose = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': print_version(); return 0;
		default:
			fprintf(stderr, "Try '%s --help'.\n", md_tool);
			return EXIT_TOOL_FAILED;
		}
	}
	if (optind >= argc) {
		list = verb_list(verbs, " or ");
		die_x("expected a verb: %s (see --help)", list);
	}
	/* An ordinary user's containers and images are in its own
	 * directories (store.h). */
	if (store_rootless() && store_user_dirs(&why) < 0)
		die_x("%s", why);
	for (v = verbs; v->name; v++)
		if (!strcmp(v->name, argv[optind]))
			break;
	if (!v->name) {
		list = verb_list(verbs, ", ");
		die_x("%s: unknown verb (%s)", argv[optind], list);
	}
	/* The verb's own options: getopt again, on what follows it. */
	argc -= optind;
	argv += optind;
	optind = 1;
	return pass_on(v->run(argc, argv));
}
