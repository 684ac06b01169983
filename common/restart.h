/*
 * restart.h - a restart policy, as docker run --restart: what a detached
 * container's supervisor (run -d) does when the container's chain ends.
 *
 *   no              never restart (the default)
 *   on-failure[:N]  restart when COMMAND ended with a non-zero status (at
 *                   most N times)
 *   always          restart whatever the status
 *
 * Never after `container stop` or `container rm -f`: they leave the file
 * "stopped" in the container's runtime directory before their kill(2),
 * as dockerd marks a container it stops on purpose.  The count of
 * restarts is the file "restarts" (container ls shows it).  Between two
 * starts the supervisor waits 100 ms, doubled each time up to 6.4 s
 * (docker's back-off).  Used by run (the supervisor), container (stop,
 * rm -f, ls); restart_next is the supervisor's loop between two chains.
 */
#ifndef MINIDOCK_RESTART_H
#define MINIDOCK_RESTART_H

enum restart_mode { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS };

struct restart_policy {
	enum restart_mode mode;
	unsigned max;                   /* on-failure:N; 0: no limit */
};

/* SPEC ("no", "on-failure", "on-failure:3", "always") into P.  0, or -1
 * (errno EINVAL). */
int restart_parse(const char *spec, struct restart_policy *p);

/* Whether container NAME, whose chain just ended with CODE after COUNT
 * restarts, starts again: its policy SPEC (NULL: none) says so and no
 * stop asked for its end. */
int restart_wanted(const char *name, const char *spec, int code, unsigned count);

/* The pause before restart number COUNT+1 (milliseconds). */
long restart_delay_ms(unsigned count);

/* container stop, rm -f: NAME ends on purpose (the file "stopped").
 * 0 or -1 with errno. */
int restart_mark_stopped(const char *name);

/* The file "restarts": record COUNT; read it (0 without). */
int restart_write_count(const char *name, unsigned count);
unsigned restart_count(const char *name);

/*
 * The restart loop's bookkeeping (run's supervisor), between the end of
 * a container's chain (status CODE) and its next start: whether policy
 * SPEC wants it again after *RESTARTS restarts; if so, undo the chain's
 * steps (its LIFE_CGROUP, LIFE_NETWORK) as after any end, wait the
 * back-off, ask again (a stop may have come meanwhile), then record the
 * steps again before the chain remakes them, and count the restart.
 * 1: start the chain again; 0: not; -1 (errno) a state file unwritten.
 */
struct life;
int restart_next(struct life *l, const char *spec, int code, unsigned *restarts);

#endif
