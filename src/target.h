/*
 * The supervised target: the server command given after "--", started by
 * stutterfuzz in its own process group. Its output is read by the event loop
 * (never blocking it or the target), copied to a log, kept as a tail, and
 * searched for valgrind and sanitizer reports; its exit is seen through
 * SIGCHLD. Stopping it is a state machine of its own: SIGTERM to the group,
 * a grace period, SIGKILL, reaped.
 */
#ifndef STUTTERFUZZ_TARGET_H
#define STUTTERFUZZ_TARGET_H

#include <sys/socket.h>

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#define TARGET_TAIL	8192	/* bytes of output kept */

struct target;

struct target_hooks {
	/* The target accepts connections (after a start or a restart). */
	void	(*ready)(void *arg);
	/* Start-up failed: it exited, or did not listen in time. */
	void	(*failed)(void *arg, const char *why);
	/* It exited or was killed while running; status as from waitpid. */
	void	(*exited)(void *arg, int status);
	/* A valgrind or sanitizer report appeared in its output. */
	void	(*report)(void *arg, const char *line);
};

struct target_config {
	char * const		*argv;
	const struct sockaddr	*addr;		/* where it should listen */
	socklen_t		 addrlen;
	uint64_t		 startup_timeout_ms;
	uint64_t		 grace_ms;	/* SIGTERM to SIGKILL */
	const char		*log_path;	/* copy of its output; NULL: none */
};

/* Prepares a target (does not start it). Returns NULL with *cause. */
struct target	*target_new(struct event_base *base,
		     const struct target_config *cfg,
		     const struct target_hooks *hooks, void *arg, char **cause);

/* Starts the command and waits (through the event loop) for it to accept
 * connections. Returns -1 with *cause if it could not even be started. */
int		 target_start(struct target *t, char **cause);

/* Stops it: SIGTERM to its process group, up to the grace period, then
 * SIGKILL, and reaps it. Blocks for at most the grace period. */
void		 target_stop(struct target *t);

/* Reaps the target now if it has exited (as SIGCHLD would, hooks
 * included). Returns 1 if it is not running (any more). */
int		 target_check(struct target *t);

/* Leaves it running (--keep-target): forget it without signalling. */
void		 target_release(struct target *t);

/* The last output (up to TARGET_TAIL bytes), NUL-terminated. */
const char	*target_tail(struct target *t);

/* Process id (and group) of the running target, or 0. */
int		 target_pid(const struct target *t);

/* "exited with status 42", "killed by SIGSEGV (core dumped)". */
void		 target_describe_status(int status, char *buf, size_t len);

/* Does this output line report a memory error or undefined behaviour?
 * Returns the kind of report ("valgrind", "AddressSanitizer", ...) or NULL. */
const char	*target_report_kind(const char *line);

/* The readiness probe: returns 1 when the target accepts connections;
 * called with the hooks' arg. Must be set before target_start. */
void		 target_set_probe(struct target *t, int (*probe)(void *));

/* Frees; stops the target first unless released. Accepts NULL. */
void		 target_free(struct target *t);

#endif
