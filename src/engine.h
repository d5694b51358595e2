/*
 * The engine: one event_base, a pool of --num-conns connection slots kept
 * busy, pacing, stop conditions and the statistics tick. It raises findings
 * and local faults as events through its hooks and never prints.
 */
#ifndef STUTTERFUZZ_ENGINE_H
#define STUTTERFUZZ_ENGINE_H

#include <sys/socket.h>

#include <event2/event.h>
#include <stdint.h>

#include "finding.h"
#include "stats.h"

struct corpus;
struct engine;
struct options;

enum engine_stop {
	ENGINE_RUNNING,
	ENGINE_STOP_SIGNAL,	/* SIGINT or SIGTERM */
	ENGINE_STOP_DURATION,	/* --duration passed */
	ENGINE_STOP_ROUNDS,	/* --rounds or --only done */
	ENGINE_STOP_FINDING,	/* a --stop-on finding */
	ENGINE_STOP_MAX_FINDINGS,
	ENGINE_STOP_LOCAL,	/* local resources ran out for too long */
	ENGINE_STOP__COUNT
};

struct engine_hooks {
	/* Every finding, as it happens. */
	void	(*finding)(void *arg, const struct finding *f);
	/* Local trouble (what ran out, errno); at most about once a second,
	 * with the number of occurrences since the last call. */
	void	(*local_fault)(void *arg, const char *what, int err,
		    uint64_t count);
	/* Every --stats-interval. */
	void	(*stats)(void *arg, const struct stats *cur,
		    const struct stats_rates *rates);
};

/* Makes an engine that fuzzes addr with corpus under options o. */
struct engine	*engine_new(struct event_base *base, const struct options *o,
		     const struct corpus *corpus, const struct sockaddr *addr,
		     socklen_t addrlen, uint64_t seed,
		     const struct engine_hooks *hooks, void *arg, char **cause);

/* Starts connections and timers; the caller then runs the event loop. */
int		 engine_start(struct engine *e, char **cause);

/* Stops the run (first reason wins) and breaks out of the event loop. */
void		 engine_stop(struct engine *e, enum engine_stop why);

/* Why the run stopped (ENGINE_RUNNING while it runs). */
enum engine_stop engine_stop_reason(const struct engine *e);

/* What stopped the run, in words. */
const char	*engine_stop_name(enum engine_stop why);

/* Counters so far. */
const struct stats *engine_stats(const struct engine *e);

/* Microseconds since engine_start. */
uint64_t	 engine_elapsed_us(const struct engine *e);

/* Closes every connection and frees the engine; accepts NULL. */
void		 engine_free(struct engine *e);

#endif
