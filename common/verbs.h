/*
 * verbs.h - a tool made of verbs, as `docker container` and `docker
 * image` are: `TOOL [--verbose] VERB [OPTIONS] [ARGS]`.  The tool's own
 * options (--verbose, --help, --version), then the verb looked up in a
 * table and run with what follows it (getopt(3) again, from the verb).
 * Used by container, image, network and volume.
 */
#ifndef MINIDOCK_VERBS_H
#define MINIDOCK_VERBS_H

struct verb {
	const char *name;
	int (*run)(int argc, char **argv);      /* argv[0] is the verb */
};

/*
 * The tool's main: USAGE for --help, VERBS ended by { NULL, NULL } (a
 * verb whose function an earlier one has is an alias, not listed in
 * messages).  The exit status: the verb's (pass_on), 125 for a bad
 * command line.  An ordinary user's containers and images are in its
 * own directories (store_user_dirs).
 */
int verbs_main(int argc, char **argv, const char *usage, const struct verb *verbs);

#endif
