/*
 * The supervised target: the server command given after "--", started by
 * stutterfuzz in a process group of its own. Its output is read by the event
 * loop (never blocking it or the target), copied to a log, kept as a tail,
 * and searched for valgrind and sanitizer reports; its exit is seen through
 * SIGCHLD. Hooks are never called from inside a caller's call: news (an
 * exit, a finished report) is posted to the loop and delivered from there.
 *
 * A guardian process leads the group: it does nothing but wait on a pipe
 * from stutterfuzz, and when that pipe reads EOF (stutterfuzz is gone,
 * however it died, SIGKILL included) it kills the whole group.
 *
 * Stopping is a state machine on event timers: SIGTERM to the group, the
 * grace period, SIGKILL, the leader reaped, the group's leftovers killed
 * and waited for (bounded). Only target_free, at process exit when the loop
 * is gone, stops synchronously (bounded by the grace period and a few
 * seconds more).
 */
#ifndef STUTTERFUZZ_TARGET_H
#define STUTTERFUZZ_TARGET_H

#include <sys/socket.h>
#include <sys/types.h>

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#define TARGET_TAIL	8192	/* bytes of output kept */
#define TARGET_FATE_MS	300	/* a failed connection waits this long to
				 * learn whether the target died */
#define TARGET_QUIET_MS	250	/* a valgrind report is complete after this
				 * much silence; any report at its SUMMARY:
				 * line, an exit, or the grace period */

struct target;

struct target_hooks {
	/* The target accepts connections (after a start or a restart). */
	void	(*ready)(void *arg);
	/* Start-up failed: it exited, or did not listen in time. */
	void	(*failed)(void *arg, const char *why);
	/* It exited or was killed while running; status as from waitpid. */
	void	(*exited)(void *arg, int status);
	/* A valgrind or sanitizer report appeared in its output and is
	 * complete; line is its first line, without a ==pid== prefix. */
	void	(*report)(void *arg, const char *line);
};

struct target_config {
	char * const		*argv;
	const struct sockaddr	*addr;		/* where it should listen */
	socklen_t		 addrlen;
	uint64_t		 startup_timeout_ms;
	uint64_t		 grace_ms;	/* SIGTERM to SIGKILL; bounds a
						 * report's completion too */
	uint64_t		 max_restarts;	/* a minute (target_may_restart) */
	const char		*log_path;	/* copy of its output; NULL: none */
	const char		*cwd;		/* run it there; NULL: here */
};

/* The restart policy: at most max restarts within any minute. */
struct target_restarts {
	uint64_t	 max;
	uint64_t	*ring;		/* times of the last max restarts */
	uint64_t	 count;		/* restarts allowed so far */
};

/* Prepares a target (does not start it). Returns NULL with *cause. */
struct target	*target_new(struct event_base *base,
		     const struct target_config *cfg,
		     const struct target_hooks *hooks, void *arg, char **cause);

/* Starts the command (once the previous one's process group is gone) and
 * waits, through the event loop, for it to accept connections. Returns -1
 * with *cause if it could not even be started. */
int		 target_start(struct target *t, char **cause);

/* Stops it, through the loop: SIGTERM to its process group, up to the
 * grace period, then SIGKILL, reaped. Returns at once. */
void		 target_stop(struct target *t);

/* Reaps the target if it has exited (its news is posted to the loop).
 * Returns 1 if it is not running (any more), never calls a hook. */
int		 target_check(struct target *t);

/* Leaves it running (--keep-target): forget it without signalling. */
void		 target_release(struct target *t);

/* The last output (up to TARGET_TAIL bytes), NUL-terminated. */
const char	*target_tail(struct target *t);

/* Process id of the running target, or 0. */
int		 target_pid(const struct target *t);

/* Its process group (led by the guardian), or 0. */
int		 target_pgid(const struct target *t);

/* May it be restarted once more? Counts the restart if so. */
int		 target_may_restart(struct target *t);

/* Restarts allowed so far. */
uint64_t	 target_restart_count(const struct target *t);

/* Describes each process of its group (pid, command, state, wait channel)
 * into buf: "1234 server S (sleeping) in inet_csk_accept; ...". Returns
 * the number of processes described. */
int		 target_proc_state(const struct target *t, char *buf,
		     size_t len);

/* target_proc_state with the shape of a describe callback (arg is the
 * struct target): "nothing" if no process of the group is found. */
void		 target_describe_procs(void *arg, char *buf, size_t len);

/* "exited with status 42", "killed by SIGSEGV (core dumped)". */
void		 target_describe_status(int status, char *buf, size_t len);

/* Does this output line report a memory error or undefined behaviour?
 * Returns the kind of report ("valgrind", "AddressSanitizer", ...) or NULL. */
const char	*target_report_kind(const char *line);

/* The line without valgrind's "==1234== " prefix, which would make every
 * report of a new process look new. */
const char	*target_report_text(const char *line);

/* The readiness probe: returns 1 when the target accepts connections;
 * called with the hooks' arg. Must be set before target_start. */
void		 target_set_probe(struct target *t, int (*probe)(void *));

/* Frees; stops the target first (synchronously, bounded) unless
 * released. Accepts NULL. */
void		 target_free(struct target *t);

/* The restart policy, pure: init with the limit a minute, ask with the
 * current time, free. */
void		 target_restarts_init(struct target_restarts *p, uint64_t max);
int		 target_restarts_allow(struct target_restarts *p,
		     uint64_t now_us);
void		 target_restarts_free(struct target_restarts *p);

/* One process, from a /proc/PID/stat line. */
struct target_proc {
	int	 pid;
	char	 comm[32];
	char	 state;		/* R, S, D, Z, T, t, X, I ... */
	int	 ppid;
	int	 pgrp;
};

/* Parses a /proc/PID/stat line (the command may hold spaces and
 * parentheses). Returns 0, or -1 if it is not one. */
int		 target_parse_stat(const char *line, struct target_proc *p);

/* "running", "sleeping", "disk wait", ... for a state letter. */
const char	*target_state_name(char state);

#endif
