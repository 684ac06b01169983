/*
 * minidock.h - the few helpers every minidock tool shares.
 *
 * Conventions (see common/README.md, "Conventions every tool shares"):
 *   - helpers return -1 and leave errno set; only a tool prints and exits;
 *   - die()/warn_errno() print one line "TOOL: what failed: why";
 *   - exit status: COMMAND's own, 128+N when killed by signal N,
 *     125 when the tool failed, 126 cannot execute, 127 not found;
 *   - vlog() prints one line per kernel-level step when --verbose or
 *     MINIDOCK_VERBOSE=1 is set.
 */
#ifndef MINIDOCK_H
#define MINIDOCK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define MINIDOCK_VERSION "0.1.0"

/* Exit codes shared with docker run, env(1) and chroot(1). */
enum {
	EXIT_TOOL_FAILED = 125,
	EXIT_CANNOT_EXEC = 126,
	EXIT_NOT_FOUND = 127,
	EXIT_SIGNAL_BASE = 128,
};

/* ---- messages (common/log.c) ---- */

extern const char *md_tool;     /* "ns-enter", "cg-limit", ... */
extern int md_verbose;          /* set by --verbose or MINIDOCK_VERBOSE=1 */

/* Call first in main(): sets md_tool and reads MINIDOCK_VERBOSE. */
void md_init(const char *tool);

/* "TOOL: <message>: strerror(errno)" then exit(125). */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* "TOOL: <message>" then exit(125). */
void die_x(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Same as die()/die_x() without exiting. */
void warn_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn_x(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "TOOL (minidock) VERSION" on stdout, for --version. */
void print_version(void);
/* For helpers that explain their failure to the tool: *WHY = the message
 * (malloc'd; the first one is kept), errno unchanged, and -1. */
int why_fail(char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "TOOL: <message>" when verbose, else nothing. */
void vlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- memory: these exit(125) when memory runs out (common/xalloc.c) ---- */

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- processes (common/proc.c) ---- */

/* Turn a wait(2) status into the exit code of the chain convention. */
int exit_code_of(int wstatus);

/*
 * execvp(argv[0], argv); on failure prints "TOOL: ARGV0: why" and
 * _exit(127) when not found, _exit(126) otherwise.  Never returns.
 * exec_command_env() gives the new program ENVP instead of ours.  Both
 * are safe in a child of vfork(2): no malloc, no stdio (child_error).
 */
void exec_command(char *const argv[]) __attribute__((noreturn));
void exec_command_env(char *const argv[], char *const envp[]) __attribute__((noreturn));

/*
 * "TOOL: WHAT: strerror(ERRNUM)" on stderr in one writev(2).  For a child
 * of vfork(2), which shares its parent's memory until it calls execve(2)
 * and so may not use malloc(3) or stdio.
 */
void child_error(const char *what, int errnum);

/*
 * Block the signals a supervisor forwards (SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH) so none is lost between fork and
 * supervise().  The child must call unblock_forwarded_signals() first.
 */
int block_forwarded_signals(void);
int unblock_forwarded_signals(void);

/*
 * Forward the signals above to CHILD, reap it and return its exit code
 * (exit_code_of).  Returns -1 with errno on a wait failure.
 */
int supervise(pid_t child);

/* When PID started (field 22 of /proc/PID/stat, clock ticks since boot):
 * with the PID it names one process even after PID reuse.  0 when PID is
 * gone or ended (zombie). */
unsigned long long proc_start_time(pid_t pid);

/* unsetenv(3) every variable whose name starts with PREFIX. */
void unsetenv_prefix(const char *prefix);

/* Sleep MS milliseconds (nanosleep(2); a signal may cut it short). */
void sleep_ms(long ms);

/* Exit the way CODE says: exit(CODE). (Kept as a function so a tool's
 * main reads "return pass_on(code)".) */
int pass_on(int code);

/* ---- parsing (common/parse.c) ---- */

/* "64M", "512k", "1g", "100" -> bytes.  -1/EINVAL on junk or overflow. */
int parse_size(const char *s, uint64_t *out);
/* A decimal unsigned number, whole string. -1/EINVAL otherwise. */
int parse_uint(const char *s, unsigned long long max, unsigned long long *out);
/* A size option's value (--max-size 2G, --chunk-size 32M), not 0; or exit
 * 125 with "OPT ARG: not a size (like 512M or 2G)". */
uint64_t size_option(const char *opt, const char *arg);
/* The last cases of a tool's getopt loop, the same in every image tool:
 * -v (--verbose), -h (--help: USAGE to stdout, exit 0), -V (--version,
 * exit 0), else an unknown option: "Try 'TOOL --help'.", exit 125. */
void common_option(int c, void (*usage)(FILE *out));
/* 64-bit FNV-1a hash of a string (hash tables, short names for long ones). */
uint64_t hash_str(const char *s);

/* ---- files (common/fs.c) ---- */

/* mkdir -p with MODE for each created component. */
int mkdir_p(const char *path, mode_t mode);
/* rm -rf PATH, never crossing into another filesystem, never following
 * symlinks.  Missing PATH is not an error. */
int rm_rf(const char *path);
/* The same for NAME in directory DIRFD (img-unpack's whiteouts). */
int rm_rf_at(int dirfd, const char *name);
/* Write the whole string to PATH (O_WRONLY|O_CREAT|O_TRUNC, 0644). */
int write_file(const char *path, const char *text);
/* Read a whole (small) file into a NUL-terminated malloc'd string. */
char *read_file(const char *path, size_t *len);
/* 1 if PATH is a directory with no entry, 0 if not, -1 on error. */
int dir_is_empty(const char *path);
/* openat2(2): open PATH from DIRFD with the RESOLVE_* flags RESOLVE
 * (O_CLOEXEC always; retried on EAGAIN). */
int openat2_resolve(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve);
/* openat(ROOTFD, PATH) resolved as if ROOTFD were "/" (openat2(2),
 * RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS); O_CLOEXEC always. */
int open_in_root(int rootfd, const char *path, int flags, mode_t mode);
/* The whole of PATH inside ROOTFD, NUL-terminated, when it is a regular
 * file of at most MAX bytes (else NULL: EINVAL not regular, EFBIG). */
char *read_file_in_root(int rootfd, const char *path, size_t max, size_t *len);
/* The first executable DIR/NAME of PATH_ENV (NULL: the default PATH),
 * malloc'd, or NULL. */
char *find_in_path(const char *path_env, const char *name);

/* The first lines of a container's /etc/hosts, as Docker writes them:
 * localhost in IPv4 and IPv6, and the IPv6 names glibc expects. */
#define HOSTS_LOCALHOST \
	"127.0.0.1\tlocalhost\n" \
	"::1\tlocalhost ip6-localhost ip6-loopback\n" \
	"fe00::0\tip6-localnet\n" \
	"ff00::0\tip6-mcastprefix\n" \
	"ff02::1\tip6-allnodes\n" \
	"ff02::2\tip6-allrouters\n"

/* ---- state locations (common/state.c) ---- */

/* $MINIDOCK_RUN_DIR or /run/minidock: per-container runtime state. */
const char *md_run_dir(void);
/* $MINIDOCK_LIB_DIR or /var/lib/minidock: images and layers. */
const char *md_lib_dir(void);
/* $MINIDOCK_NETNS_DIR or /run/netns: network namespace files. */
const char *md_netns_dir(void);
/* 1 when NAME is a usable container/cgroup/netns name: [A-Za-z0-9_.-],
 * 1..64 chars, not starting with '.' or '-'. */
int valid_name(const char *name);

#endif
