/*
 * The engine: one event_base, a pool of connection slots kept busy, pacing,
 * stop conditions and the statistics tick.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "corpus.h"
#include "engine.h"
#include "options.h"
#include "util.h"

#define SCRATCH_LEN		65536
#define REFILL_BUDGET		256	/* connections started per wake-up */
#define BACKOFF_MS		100	/* pause after a local fault */
#define LOCAL_GIVE_UP_US	(30ULL * 1000000)	/* no start for this long: stop */
#define LOCAL_REPORT_US		1000000

struct engine {
	struct event_base	*base;
	const struct options	*opt;
	const struct corpus	*corpus;
	struct engine_hooks	 hooks;
	void			*arg;
	struct conn_env		 env;
	struct stats		 stats;
	struct stats		 prev;		/* at the last stats tick */
	uint64_t		 prev_us;
	enum engine_stop	 stopped;

	struct conn		**conns;	/* all slots */
	size_t			 nconns;
	struct conn		**idle;		/* stack of idle slots */
	size_t			 nidle;

	uint64_t		 next_index;	/* index of the next connection */
	uint64_t		 end_index;	/* no connection at or past this; 0: none */
	uint64_t		 last_start_ok_us;
	int			 backing_off;

	uint64_t		 local_count;	/* since the last report */
	uint64_t		 local_reported_us;
	const char		*local_what;
	int			 local_err;

	struct event		*ev_refill;
	struct event		*ev_backoff;
	struct event		*ev_cycle;
	struct event		*ev_stats;
	struct event		*ev_duration;
};

static const char *stop_names[ENGINE_STOP__COUNT] = {
	[ENGINE_RUNNING] = "running",
	[ENGINE_STOP_SIGNAL] = "signal",
	[ENGINE_STOP_DURATION] = "duration reached",
	[ENGINE_STOP_ROUNDS] = "rounds done",
	[ENGINE_STOP_FINDING] = "stop-on finding",
	[ENGINE_STOP_MAX_FINDINGS] = "max-findings reached",
	[ENGINE_STOP_LOCAL] = "local resources exhausted",
};

/* What stopped the run, in words. */
const char *
engine_stop_name(enum engine_stop why)
{
	if (why >= ENGINE_STOP__COUNT)
		return "unknown";
	return stop_names[why];
}

/* Timeval of ms milliseconds. */
static struct timeval
ms_tv(uint64_t ms)
{
	struct timeval	tv = {
		.tv_sec = (time_t)(ms / 1000),
		.tv_usec = (suseconds_t)(ms % 1000) * 1000,
	};

	return tv;
}

/* Are connections still to be started? */
static int
engine_more(const struct engine *e)
{
	return e->stopped == ENGINE_RUNNING &&
	    (e->end_index == 0 || e->next_index < e->end_index);
}

/* Passes the pending local-fault report to the hook. */
static void
engine_local_flush(struct engine *e, uint64_t now)
{
	if (e->local_count == 0)
		return;
	if (e->hooks.local_fault != NULL)
		e->hooks.local_fault(e->arg, e->local_what, e->local_err,
		    e->local_count);
	e->local_count = 0;
	e->local_reported_us = now;
}

/* Starts connections in idle slots, a bounded number per wake-up. */
static void
engine_refill(evutil_socket_t fd, short what, void *arg)
{
	struct engine	*e = arg;
	int		 budget = REFILL_BUDGET;

	(void)fd;
	(void)what;
	while (e->nidle > 0 && engine_more(e) && !e->backing_off) {
		struct conn		*c;
		const struct blob	*b;
		uint64_t		 index;

		if (budget-- == 0) {
			event_active(e->ev_refill, EV_TIMEOUT, 0);
			return;
		}
		c = e->idle[--e->nidle];
		index = e->next_index;
		b = &e->corpus->blobs[index % e->corpus->n];
		if (conn_start(c, index, b) == -1) {
			struct timeval	tv = ms_tv(BACKOFF_MS);

			e->idle[e->nidle++] = c;
			e->backing_off = 1;
			event_add(e->ev_backoff, &tv);
			return;
		}
		e->next_index++;
		e->stats.rounds = e->next_index / e->corpus->n;
		e->last_start_ok_us = util_now_us();
	}
}

/* The pause after a local fault is over: try again, or give up. */
static void
engine_backoff_done(evutil_socket_t fd, short what, void *arg)
{
	struct engine	*e = arg;
	uint64_t	 now = util_now_us();

	(void)fd;
	(void)what;
	e->backing_off = 0;
	if (now - e->last_start_ok_us > LOCAL_GIVE_UP_US) {
		engine_local_flush(e, now);
		engine_stop(e, ENGINE_STOP_LOCAL);
		return;
	}
	engine_refill(-1, 0, e);
}

/* A connection ended: its slot is idle again. */
static void
engine_conn_done(struct conn *c, void *arg)
{
	struct engine	*e = arg;

	e->idle[e->nidle++] = c;
	if (engine_more(e)) {
		if (!e->backing_off)
			event_active(e->ev_refill, EV_TIMEOUT, 0);
	} else if (e->stopped == ENGINE_RUNNING && e->nidle == e->nconns) {
		engine_stop(e, ENGINE_STOP_ROUNDS);
	}
}

/* A connection found a fault of the target. */
static void
engine_conn_finding(struct conn *c, const struct finding *f, void *arg)
{
	struct engine	*e = arg;

	(void)c;
	if (e->stopped != ENGINE_RUNNING)
		return;
	if (e->hooks.finding != NULL)
		e->hooks.finding(e->arg, f);
	if (e->opt->stop_on & FINDING_BIT(f->kind))
		engine_stop(e, ENGINE_STOP_FINDING);
	else if (e->opt->max_findings != 0 &&
	    stats_findings(&e->stats) >= e->opt->max_findings)
		engine_stop(e, ENGINE_STOP_MAX_FINDINGS);
}

/* A connection ran into a local limit. */
static void
engine_conn_local(struct conn *c, const char *what, int err, void *arg)
{
	struct engine	*e = arg;
	uint64_t	 now = util_now_us();

	(void)c;
	e->local_count++;
	e->local_what = what;
	e->local_err = err;
	if (now - e->local_reported_us >= LOCAL_REPORT_US)
		engine_local_flush(e, now);
}

/* Cycle pacing: every --cycle-ms, each waiting connection may send. */
static void
engine_cycle(evutil_socket_t fd, short what, void *arg)
{
	struct engine	*e = arg;

	(void)fd;
	(void)what;
	for (size_t i = 0; i < e->nconns && e->stopped == ENGINE_RUNNING; i++)
		conn_pace(e->conns[i]);
}

/* Statistics tick. */
static void
engine_stats_tick(evutil_socket_t fd, short what, void *arg)
{
	struct engine		*e = arg;
	struct stats_rates	 r;
	uint64_t		 now = util_now_us();

	(void)fd;
	(void)what;
	engine_local_flush(e, now);
	stats_rates(&e->stats, &e->prev, (double)(now - e->prev_us) / 1e6, &r);
	if (e->hooks.stats != NULL)
		e->hooks.stats(e->arg, &e->stats, &r);
	e->prev = e->stats;
	e->prev_us = now;
}

/* --duration passed. */
static void
engine_duration(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	engine_stop(arg, ENGINE_STOP_DURATION);
}

/* Makes an engine that fuzzes addr with corpus under options o. */
struct engine *
engine_new(struct event_base *base, const struct options *o,
    const struct corpus *corpus, const struct sockaddr *addr,
    socklen_t addrlen, uint64_t seed, const struct engine_hooks *hooks,
    void *arg, char **cause)
{
	struct engine	*e = xcalloc(1, sizeof *e);

	e->base = base;
	e->opt = o;
	e->corpus = corpus;
	e->hooks = *hooks;
	e->arg = arg;
	e->env = (struct conn_env){
		.base = base,
		.opt = o,
		.addr = addr,
		.addrlen = addrlen,
		.seed = seed,
		.stats = &e->stats,
		.scratch = xmalloc(SCRATCH_LEN),
		.scratch_len = SCRATCH_LEN,
		.done = engine_conn_done,
		.finding = engine_conn_finding,
		.local_fault = engine_conn_local,
		.arg = e,
	};
	if (o->only_set) {
		e->next_index = o->only;
		e->end_index = o->only + 1;
		e->nconns = 1;
	} else {
		e->nconns = o->num_conns;
		if (o->rounds != 0)
			e->end_index = o->rounds * corpus->n;
	}
	e->conns = xcalloc(e->nconns, sizeof *e->conns);
	e->idle = xcalloc(e->nconns, sizeof *e->idle);
	for (size_t i = 0; i < e->nconns; i++) {
		e->conns[i] = conn_new(&e->env);
		if (e->conns[i] == NULL) {
			*cause = xasprintf("cannot make connection events");
			goto fail;
		}
		e->idle[e->nconns - 1 - i] = e->conns[i];
	}
	e->nidle = e->nconns;
	e->ev_refill = event_new(base, -1, 0, engine_refill, e);
	e->ev_backoff = evtimer_new(base, engine_backoff_done, e);
	e->ev_cycle = event_new(base, -1, EV_PERSIST, engine_cycle, e);
	e->ev_stats = event_new(base, -1, EV_PERSIST, engine_stats_tick, e);
	e->ev_duration = evtimer_new(base, engine_duration, e);
	if (e->ev_refill == NULL || e->ev_backoff == NULL ||
	    e->ev_cycle == NULL || e->ev_stats == NULL ||
	    e->ev_duration == NULL) {
		*cause = xasprintf("cannot make engine events");
		goto fail;
	}
	return e;

fail:
	engine_free(e);
	return NULL;
}

/* Starts connections and timers. */
int
engine_start(struct engine *e, char **cause)
{
	struct timeval	tv;

	e->env.start_us = util_now_us();
	e->prev_us = e->env.start_us;
	e->last_start_ok_us = e->env.start_us;
	e->local_reported_us = 0;
	tv = ms_tv(e->opt->stats_interval_ms);
	if (event_add(e->ev_stats, &tv) == -1)
		goto fail;
	if (e->opt->pace == PACE_CYCLE) {
		tv = ms_tv(e->opt->cycle_ms);
		if (event_add(e->ev_cycle, &tv) == -1)
			goto fail;
	}
	if (e->opt->duration_ms != 0) {
		tv = ms_tv(e->opt->duration_ms);
		if (event_add(e->ev_duration, &tv) == -1)
			goto fail;
	}
	event_active(e->ev_refill, EV_TIMEOUT, 0);
	return 0;

fail:
	*cause = xasprintf("cannot add timers to the event loop");
	return -1;
}

/* Stops the run (first reason wins) and breaks out of the event loop. */
void
engine_stop(struct engine *e, enum engine_stop why)
{
	if (e->stopped == ENGINE_RUNNING)
		e->stopped = why;
	event_base_loopbreak(e->base);
}

/* Why the run stopped. */
enum engine_stop
engine_stop_reason(const struct engine *e)
{
	return e->stopped;
}

/* Counters so far. */
const struct stats *
engine_stats(const struct engine *e)
{
	return &e->stats;
}

/* Microseconds since engine_start. */
uint64_t
engine_elapsed_us(const struct engine *e)
{
	return util_now_us() - e->env.start_us;
}

/* Closes every connection and frees the engine; accepts NULL. */
void
engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->nconns; i++)
		conn_free(e->conns[i]);
	if (e->ev_refill != NULL)
		event_free(e->ev_refill);
	if (e->ev_backoff != NULL)
		event_free(e->ev_backoff);
	if (e->ev_cycle != NULL)
		event_free(e->ev_cycle);
	if (e->ev_stats != NULL)
		event_free(e->ev_stats);
	if (e->ev_duration != NULL)
		event_free(e->ev_duration);
	free(e->conns);
	free(e->idle);
	free(e->env.scratch);
	free(e);
}
