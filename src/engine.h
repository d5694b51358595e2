/*
 * The engine: one event_base, a pool of connection slots kept busy, pacing,
 * stop conditions and the statistics tick. It raises findings and local
 * faults as events through its hooks and never prints.
 *
 * It runs either a fuzzing run (connection i sends blob i mod n, cut by the
 * plan drawn from the seed and i) or a list of jobs, each a blob with a
 * ready-made plan (replay).
 */
#ifndef STUTTERFUZZ_ENGINE_H
#define STUTTERFUZZ_ENGINE_H

#include <sys/socket.h>

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "stats.h"

struct blob;
struct conn_report;
struct corpus;
struct coverage;
struct engine;
struct options;
struct plan;

enum engine_stop {
	ENGINE_RUNNING,
	ENGINE_STOP_SIGNAL,	/* SIGINT or SIGTERM */
	ENGINE_STOP_DURATION,	/* --duration passed */
	ENGINE_STOP_ROUNDS,	/* --rounds, --only or the job list done */
	ENGINE_STOP_FINDING,	/* a --stop-on finding */
	ENGINE_STOP_MAX_FINDINGS,
	ENGINE_STOP_LOCAL,	/* local resources ran out for too long */
	ENGINE_STOP_TARGET,	/* the target could not be (re)started */
	ENGINE_STOP__COUNT
};

/* One connection to run as given (replay). */
struct engine_job {
	uint64_t		 index;
	const struct blob	*blob;
	const struct plan	*plan;
	uint64_t		 greet_us;	/* wait this long for a greeting; 0 none */
};

struct engine_config {
	const struct options	*opt;
	const struct corpus	*corpus;	/* fuzzing run */
	const struct engine_job	*jobs;		/* or a job list */
	size_t			 njobs;
	const struct sockaddr	*addr;
	socklen_t		 addrlen;
	uint64_t		 seed;
	int			 reports;	/* gaps, ports, suspects, conn_done */
	int			 force_ack;	/* ack pacing whatever --pace says */
	int			 loopback;	/* the target is on this machine */
	int			 answers;	/* job list: keep every connection's
						 * answer (conn_done's report has it) */
	/* What the server is doing (e.g. from /proc), for a stall finding's
	 * record: one line into buf. NULL: nothing to say. */
	void			(*describe)(void *arg, char *buf, size_t len);
	void			*describe_arg;
	uint64_t		 hold_ms;	/* ENGINE_HOLD waits this long at
						 * most; 0: never hold */
};

/* What the finding hook makes of a finding (0 and 1 keep their old
 * meaning). */
enum engine_verdict {
	ENGINE_KEEP = 0,	/* a finding: counted; --stop-on applies */
	ENGINE_TAKEN = 1,	/* counted; the caller decides what follows */
	ENGINE_HOLD = 2,	/* wait (new connections paused, at most
				 * hold_ms) for the target's fate, then ask
				 * again with f->held set */
	ENGINE_LOST = 3,	/* it only echoes the target's death: counted
				 * as lost_with_target, not a finding */
};

struct engine_hooks {
	/* Every finding, as it happens, with the connection's report (NULL
	 * for a finding of the target) and, for failed connects and target
	 * findings, the suspects: connections in flight or finished just
	 * before (only with reports on). Returns an enum engine_verdict.
	 * A finding is counted only once it is decided. */
	int	(*finding)(void *arg, const struct finding *f,
		    const struct conn_report *conn,
		    const struct conn_report *suspects, size_t nsuspects);
	/* Local trouble (what ran out, errno); at most about once a second,
	 * with the number of occurrences since the last call. */
	void	(*local_fault)(void *arg, const char *what, int err,
		    uint64_t count);
	/* Every --stats-interval. */
	void	(*stats)(void *arg, const struct stats *cur,
		    const struct stats_rates *rates);
	/* Every finished connection (only with reports on). */
	void	(*conn_done)(void *arg, const struct conn_report *r);
	/* Something the user should know, not a fault (a pacing fallback). */
	void	(*notice)(void *arg, const char *text);
};

/* Makes an engine. Returns NULL with an allocated *cause. */
struct engine	*engine_new(struct event_base *base,
		     const struct engine_config *cfg,
		     const struct engine_hooks *hooks, void *arg, char **cause);

/* Starts connections and timers; the caller then runs the event loop. */
int		 engine_start(struct engine *e, char **cause);

/* Stops the run (first reason wins) and breaks out of the event loop. */
void		 engine_stop(struct engine *e, enum engine_stop why);

/* Why the run stopped (ENGINE_RUNNING while it runs). */
enum engine_stop engine_stop_reason(const struct engine *e);

/* What stopped the run, in words. */
const char	*engine_stop_name(enum engine_stop why);

/* The pacing in effect (cycle, ack or read) and, if it is not what was
 * asked for, why (else NULL). */
enum pace_mode	 engine_pace(const struct engine *e, const char **why);

/* Counters so far. */
const struct stats *engine_stats(const struct engine *e);

/* Boundary coverage per blob, or NULL (replay). */
const struct coverage *engine_coverage(const struct engine *e);

/* Microseconds since engine_start. */
uint64_t	 engine_elapsed_us(const struct engine *e);

/* Stops starting connections and drops those in flight (silently, from
 * the loop, never from inside a connection's callback): the target is
 * gone. */
void		 engine_pause(struct engine *e);

/* Starts connections again after engine_pause. */
void		 engine_resume(struct engine *e);

/* Raises a finding of the target itself (no connection of its own): the
 * hook gets every connection in flight or just finished as suspects. With
 * apply_stop, --stop-on and --max-findings apply as for any finding. A
 * target-exit makes every held connection finding lost with the target. */
void		 engine_raise(struct engine *e, enum finding_kind kind,
		     const char *detail, int apply_stop);

/* Decides the findings still held (after the loop ended), asking the
 * hook as when their wait ends. */
void		 engine_settle(struct engine *e);

/* Closes every connection and frees the engine; accepts NULL. */
void		 engine_free(struct engine *e);

#endif
