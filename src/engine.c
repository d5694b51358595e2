/*
 * The engine: one event_base, a pool of connection slots kept busy, pacing,
 * stop conditions and the statistics tick.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "conn.h"
#include "corpus.h"
#include "coverage.h"
#include "diag.h"
#include "engine.h"
#include "expect.h"
#include "options.h"
#include "pace.h"
#include "suspects.h"
#include "util.h"

#define SCRATCH_LEN		65536
#define REFILL_BUDGET		256	/* connections started per wake-up */
#define BACKOFF_MS		100	/* pause after a local fault */
#define LOCAL_GIVE_UP_US	(30ULL * 1000000)	/* failing this long: stop */
#define LOCAL_REPORT_US		1000000
#define DIAG_BLIND_REPLIES	64	/* all "not found": sock_diag is blind */

/* A connection's finding waiting for the target's fate. */
struct held {
	struct finding		 f;
	struct suspects_copy	 h;		/* its report, owned copy */
};

struct engine {
	struct event_base	*base;
	struct engine_config	 cfg;
	const struct options	*opt;
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

	uint64_t		 first_index;
	uint64_t		 next_index;	/* index (or job) of the next connection */
	uint64_t		 end_index;	/* none at or past this; 0: no end */
	size_t			 nblobs;
	int			 backing_off;
	int			 paused;	/* the target is down */
	uint64_t		 first_fail_us;	/* local faults since; 0: none */

	uint64_t		 local_count;	/* since the last report */
	uint64_t		 local_reported_us;
	const char		*local_what;
	int			 local_err;

	struct suspects		*suspects;	/* finished connections (reports) */
	struct held		*held;		/* findings waiting (ENGINE_HOLD) */
	size_t			 nheld;
	int			 holding;	/* new connections wait meanwhile */
	struct event		*ev_hold;	/* the wait is over */

	struct event		*ev_refill;
	struct event		*ev_backoff;
	struct event		*ev_cycle;
	struct event		*ev_stats;
	struct event		*ev_duration;
	struct event		*ev_drop;	/* drops connections after a pause */
	struct event		*ev_stall;	/* read pacing: the stall check */
	struct diag		*diag;
	struct event		*ev_diag;
	uint64_t		 diag_replies;
	uint64_t		 diag_found;
	char			*pace_why;	/* why the pace differs from --pace */

	struct expect		*expect;	/* answer checks; NULL: none */
	struct answer		**answers;	/* per slot, made on first use */
	struct event		*ev_refresh;
};

static const char *stop_names[ENGINE_STOP__COUNT] = {
	[ENGINE_RUNNING] = "running",
	[ENGINE_STOP_SIGNAL] = "signal",
	[ENGINE_STOP_DURATION] = "duration reached",
	[ENGINE_STOP_ROUNDS] = "all connections done",
	[ENGINE_STOP_FINDING] = "stop-on finding",
	[ENGINE_STOP_MAX_FINDINGS] = "max-findings reached",
	[ENGINE_STOP_LOCAL] = "local resources exhausted",
	[ENGINE_STOP_TARGET] = "target could not be restarted",
};

static const struct timeval zero_tv = { 0, 0 };

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
	return e->stopped == ENGINE_RUNNING && !e->paused && !e->holding &&
	    (e->expect == NULL || !expect_referencing(e->expect)) &&
	    (e->end_index == 0 || e->next_index < e->end_index);
}

/* Asks for a refill on the next loop iteration (a zero timer, never
 * event_active, so timers and signals keep running). */
static void
engine_schedule_refill(struct engine *e)
{
	if (!e->backing_off)
		event_add(e->ev_refill, &zero_tv);
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

/* Local trouble: pause new connections for a while. */
static void
engine_back_off(struct engine *e)
{
	struct timeval	tv = ms_tv(BACKOFF_MS);

	if (e->first_fail_us == 0)
		e->first_fail_us = util_now_us();
	if (e->backing_off)
		return;
	e->backing_off = 1;
	event_del(e->ev_refill);
	event_add(e->ev_backoff, &tv);
}

static void	engine_conn_local(struct conn *, const char *, int, void *);
static int	engine_check_pending(const struct engine *);
static int	engine_next_check(struct engine *, struct conn *, uint64_t *,
		    const struct blob **);
static void	engine_check_done(struct engine *, struct conn *);
static void	engine_check_unstart(struct engine *, struct conn *);
static struct answer *engine_slot_answer(struct engine *, struct conn *);

/* Fills c's plan for the next connection (a step of the answer machinery
 * first, else the run's next); returns its index and blob. Returns 0 when
 * nothing is due, 1 when c is ready, -1 out of memory. */
static int
engine_next(struct engine *e, struct conn *c, uint64_t *index,
    const struct blob **b)
{
	int	rc;

	c->purpose = EXPECT_FUZZ;
	c->answer = NULL;
	if (e->expect != NULL &&
	    (rc = engine_next_check(e, c, index, b)) != 0) {
		c->answer = engine_slot_answer(e, c);
		return rc == -1 ? -1 : 1;
	}
	if (!engine_more(e))
		return 0;
	if (e->cfg.jobs != NULL) {
		const struct engine_job	*job = &e->cfg.jobs[e->next_index];

		*index = job->index;
		*b = job->blob;
		c->greet_us = job->greet_us;
		if (e->cfg.answers)
			c->answer = engine_slot_answer(e, c);
		return plan_copy(&c->plan, job->plan) == -1 ? -1 : 1;
	}
	c->greet_us = e->expect != NULL ? expect_greet_us(e->expect) : 0;
	if (e->expect != NULL && expect_compares(e->expect, e->next_index))
		c->answer = engine_slot_answer(e, c);
	*index = e->next_index;
	*b = &e->cfg.corpus->blobs[e->next_index % e->nblobs];
	return plan_make(&c->plan, e->cfg.seed, *index, *index / e->nblobs,
	    (*b)->data, (*b)->len, &e->opt->plan) == -1 ? -1 : 1;
}

/* Starts connections in idle slots, a bounded number per wake-up. */
static void
engine_refill(evutil_socket_t fd, short what, void *arg)
{
	struct engine	*e = arg;
	int		 budget = REFILL_BUDGET;

	(void)fd;
	(void)what;
	while (e->nidle > 0 && (engine_more(e) || engine_check_pending(e)) &&
	    !e->backing_off) {
		struct conn		*c;
		const struct blob	*b = NULL;
		uint64_t		 index = 0;
		int			 rc;

		if (budget-- == 0) {
			engine_schedule_refill(e);
			return;
		}
		c = e->idle[--e->nidle];
		if ((rc = engine_next(e, c, &index, &b)) != 1) {
			e->idle[e->nidle++] = c;
			if (rc == 0)
				return;
			e->stats.local_errors++;
			engine_conn_local(c, "memory for a plan", ENOMEM, e);
			return;
		}
		if (conn_start(c, index, b) == -1) {
			/* conn_start reported the fault; it backed us off.
			 * A step of the answer machinery is dropped. */
			if (c->purpose != EXPECT_FUZZ)
				engine_check_unstart(e, c);
			e->idle[e->nidle++] = c;
			engine_back_off(e);
			return;
		}
		e->first_fail_us = 0;
		if (c->purpose != EXPECT_FUZZ)
			continue;
		e->next_index++;
		e->stats.rounds = (e->next_index - e->first_index) / e->nblobs;
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
	if (e->first_fail_us != 0 && now - e->first_fail_us > LOCAL_GIVE_UP_US) {
		engine_local_flush(e, now);
		engine_stop(e, ENGINE_STOP_LOCAL);
		return;
	}
	engine_refill(-1, 0, e);
}

/* Remembers a finished connection for suspects, and passes it on. */
static void
engine_remember(struct engine *e, struct conn *c)
{
	const struct conn_report	*r;

	if (e->suspects == NULL || (r = suspects_remember(e->suspects,
	    c)) == NULL)
		return;
	/* Whole sends and confirmations are suspects, but not traced. */
	if (e->hooks.conn_done != NULL && c->purpose == EXPECT_FUZZ)
		e->hooks.conn_done(e->arg, r);
}

/* A connection ended: its slot is idle again. */
static void
engine_conn_done(struct conn *c, void *arg)
{
	struct engine	*e = arg;

	if (e->cfg.reports)
		engine_remember(e, c);
	if (c->answer != NULL)
		engine_check_done(e, c);
	e->idle[e->nidle++] = c;
	if (engine_more(e) || engine_check_pending(e))
		engine_schedule_refill(e);
	else if (e->stopped == ENGINE_RUNNING && !e->paused &&
	    !e->holding && e->nidle == e->nconns)
		engine_stop(e, ENGINE_STOP_ROUNDS);
}

/* --stop-on and --max-findings after a finding of this kind. */
static void
engine_apply_stop(struct engine *e, enum finding_kind kind)
{
	if (e->opt->stop_on & FINDING_BIT(kind))
		engine_stop(e, ENGINE_STOP_FINDING);
	else if (e->opt->max_findings != 0 &&
	    stats_findings(&e->stats) >= e->opt->max_findings)
		engine_stop(e, ENGINE_STOP_MAX_FINDINGS);
}

/* Counts a decided finding of a connection; --stop-on applies to kept
 * ones. */
static void
engine_decided(struct engine *e, enum finding_kind kind, int verdict)
{
	if (verdict == ENGINE_LOST) {
		e->stats.lost_with_target++;
		return;
	}
	e->stats.findings[kind]++;
	if (verdict != ENGINE_TAKEN)
		engine_apply_stop(e, kind);
}

/* Asks the hook about a connection's finding, with its suspects. */
static int
engine_ask(struct engine *e, const struct finding *f,
    const struct conn_report *r)
{
	const struct conn_report	*sus = NULL;
	size_t				 n = 0;

	if (e->hooks.finding == NULL)
		return ENGINE_KEEP;
	if (e->cfg.reports && (f->kind == FINDING_REFUSED ||
	    f->kind == FINDING_CONNECT_TIMEOUT ||
	    (f->phase != NULL && strcmp(f->phase, "stall") == 0)))
		n = suspects_collect(e->suspects, e->conns, e->nconns, f->conn,
		    f->at_us, &sus);
	return e->hooks.finding(e->arg, f, r, sus, n);
}

/* Keeps a copy of a finding and its connection until the target's fate is
 * known; new connections wait meanwhile. Returns -1 if it cannot. */
static int
engine_hold(struct engine *e, const struct finding *f, struct conn *c)
{
	struct held	*hd;
	struct timeval	 tv = ms_tv(e->cfg.hold_ms);

	if (e->cfg.hold_ms == 0)
		return -1;
	if (e->held == NULL)
		e->held = xcalloc(e->nconns, sizeof *e->held);
	if (e->nheld == e->nconns)
		return -1;
	hd = &e->held[e->nheld];
	if (suspects_copy(&hd->h, c) == -1)
		return -1;
	hd->f = *f;
	hd->f.plan = &hd->h.plan;
	hd->f.held = 1;
	e->nheld++;
	if (!e->holding) {
		e->holding = 1;
		event_del(e->ev_refill);
		event_add(e->ev_hold, &tv);
	}
	return 0;
}

/* Decides every held finding: lost with the target, or asks the hook
 * again (the wait is over). New connections may start again. */
static void
engine_unhold(struct engine *e, int lost)
{
	size_t	n = e->nheld;

	e->nheld = 0;
	for (size_t i = 0; i < n; i++) {
		struct held	*hd = &e->held[i];
		int		 v = ENGINE_LOST;

		if (!lost) {
			v = engine_ask(e, &hd->f, &hd->h.report);
			if (v == ENGINE_HOLD)
				v = ENGINE_KEEP;
		}
		engine_decided(e, hd->f.kind, v);
		plan_release(&hd->h.plan);
	}
	event_del(e->ev_hold);
	if (e->holding) {
		e->holding = 0;
		if (engine_more(e))
			engine_schedule_refill(e);
		else if (e->stopped == ENGINE_RUNNING && !e->paused &&
		    e->nidle == e->nconns)
			engine_stop(e, ENGINE_STOP_ROUNDS);
	}
}

/* The wait for the target's fate is over. */
static void
engine_hold_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	engine_unhold(arg, 0);
}

/* Decides the findings still held once the loop ended. */
void
engine_settle(struct engine *e)
{
	if (e != NULL && e->nheld > 0)
		engine_unhold(e, 0);
}

/* A connection found a fault of the target: counted once decided. */
static void
engine_conn_finding(struct conn *c, const struct finding *f, void *arg)
{
	struct engine		*e = arg;
	struct conn_report	 r;
	int			 v;

	if (e->stopped != ENGINE_RUNNING)
		return;
	if (e->paused) {
		/* The target is down: this only echoes it. */
		engine_decided(e, f->kind, ENGINE_LOST);
		return;
	}
	conn_report(c, &r);
	v = engine_ask(e, f, &r);
	if (v == ENGINE_HOLD && engine_hold(e, f, c) == 0)
		return;
	engine_decided(e, f->kind, v == ENGINE_HOLD ? ENGINE_KEEP : v);
}

/* Raises a finding of the target itself. */
void
engine_raise(struct engine *e, enum finding_kind kind, const char *detail,
    int apply_stop)
{
	struct finding	f = {
		.kind = kind,
		.seed = e->cfg.seed,
		.at_us = util_now_us() - e->env.start_us,
		.phase = "target",
		.detail = detail,
	};
	const struct conn_report	*sus = NULL;
	size_t				 n = 0;

	if (e->stopped != ENGINE_RUNNING)
		return;
	if (kind == FINDING_TARGET_EXIT && e->nheld > 0)
		engine_unhold(e, 1);
	e->stats.findings[kind]++;
	if (e->cfg.reports)
		n = suspects_collect(e->suspects, e->conns, e->nconns, NULL,
		    f.at_us, &sus);
	if (e->hooks.finding != NULL &&
	    e->hooks.finding(e->arg, &f, NULL, sus, n) == ENGINE_TAKEN)
		return;
	if (apply_stop)
		engine_apply_stop(e, kind);
}

/*
 * Answers: the engine's side of the answer checks (expect.c decides what
 * to send and what the answers mean): per-slot answer buffers, the step
 * of an idle slot, finished connections, the mismatch finding.
 */

/* The slot's answer buffer, made on first use. */
static struct answer *
engine_slot_answer(struct engine *e, struct conn *c)
{
	if (e->answers[c->slot] == NULL)
		e->answers[c->slot] = answer_new(0);
	return e->answers[c->slot];
}

/* Fills c's plan for a connection of the answer checks (confirmation,
 * reference, refresh), if one is due. Returns 1 and sets *index and *b,
 * 0 when none is due, -1 out of memory. */
static int
engine_next_check(struct engine *e, struct conn *c, uint64_t *index,
    const struct blob **b)
{
	struct expect_step	s;
	int			rc;

	if ((rc = expect_next(e->expect, &s, &c->plan)) != 1)
		return rc;
	c->purpose = s.purpose;
	c->greet_us = s.greet_us;
	*index = s.index;
	*b = &e->cfg.corpus->blobs[s.blob];
	return 1;
}

/* Whether the answer checks have connections to start. */
static int
engine_check_pending(const struct engine *e)
{
	return e->expect != NULL && e->stopped == ENGINE_RUNNING &&
	    !e->paused && expect_pending(e->expect);
}

/* The hooks' notice, for expect_refs_notes. */
static void
engine_notice(void *arg, const char *text)
{
	struct engine	*e = arg;

	if (e->hooks.notice != NULL)
		e->hooks.notice(e->arg, text);
}

/* The references are taken: say what they found, then fuzz. */
static void
engine_refs_done(struct engine *e)
{
	struct stats	 keep = e->stats;

	/* The whole sends are not the run's traffic: start counting now. */
	memset(&e->stats, 0, sizeof e->stats);
	memcpy(e->stats.findings, keep.findings, sizeof keep.findings);
	e->stats.local_errors = keep.local_errors;
	e->stats.cuts_possible = keep.cuts_possible;
	e->stats.unstable = e->opt->check_every != 0 ?
	    expect_unstable(e->expect) : 0;
	e->prev = e->stats;
	expect_refs_notes(e->expect, engine_notice, e);
}

/* A confirmed mismatch: the finding, from the recut connection c. */
static void
engine_mismatch(struct engine *e, struct conn *c, struct expect_mismatch *m)
{
	struct finding	f = {
		.kind = FINDING_MISMATCH,
		.seed = e->cfg.seed,
		.index = c->index,
		.blob = c->blob,
		.plan = &c->plan,
		.frags_sent = c->frag,
		.bytes_sent = c->off,
		.at_us = util_now_us() - e->env.start_us,
		.phase = "answer",
		.conn = c,
		.detail = m->account,
		.check_json = m->check_json,
	};

	c->outcome = CONN_OUT_MISMATCH;
	engine_conn_finding(c, &f, e);	/* counts it, once decided */
}

/* A step of the answer checks could not start: it is due again. */
static void
engine_check_unstart(struct engine *e, struct conn *c)
{
	expect_unstart(e->expect, (enum expect_purpose)c->purpose,
	    (size_t)(c->blob - e->cfg.corpus->blobs));
}

/* A connection with an answer, or of the answer checks, ended. */
static void
engine_check_done(struct engine *e, struct conn *c)
{
	struct expect_mismatch	m = { .check_json = NULL };
	struct expect_end	end = {
		.purpose = (enum expect_purpose)c->purpose,
		.index = c->index,
		.plan = &c->plan,
		.outcome = c->outcome,
		.answer = c->answer,
		.heard_first = c->early > 0,
	};

	if (e->expect == NULL || c->answer == NULL)
		return;	/* a job list's answers are only kept */
	end.blob = (size_t)(c->blob - e->cfg.corpus->blobs);
	switch (expect_done(e->expect, &end, &m)) {
	case EXPECT_REFS_TAKEN:
		engine_refs_done(e);
		break;
	case EXPECT_MISMATCH:
		engine_mismatch(e, c, &m);
		expect_mismatch_release(&m);
		break;
	default:
		break;
	}
}

/* Every --reference-refresh: one more whole send of each blob, so that a
 * reference follows a server whose answers drift in a long run. */
static void
engine_refresh(evutil_socket_t fd, short what, void *arg)
{
	struct engine	*e = arg;

	(void)fd;
	(void)what;
	if (expect_refresh(e->expect))
		engine_schedule_refill(e);
}

/* Sets up the answer checks of a fuzzing run. Returns 0, or -1 with
 * *cause. */
static int
engine_checks_new(struct engine *e, char **cause)
{
	e->answers = xcalloc(e->nconns, sizeof *e->answers);
	/* --check=none: the tool as it was, with no whole sends at all (and
	 * so no greeting detection). */
	if (e->cfg.jobs != NULL || e->opt->check_every == 0)
		return 0;
	e->expect = expect_new(e->opt, e->cfg.corpus, &e->stats, cause);
	return e->expect == NULL ? -1 : 0;
}

/* Frees the answer checks and buffers. */
static void
engine_checks_free(struct engine *e)
{
	for (size_t i = 0; i < e->nconns && e->answers != NULL; i++)
		answer_free(e->answers[i]);
	free(e->answers);
	expect_free(e->expect);
}

/* Drops the connections in flight after a pause (from the loop). */
static void
engine_drop(evutil_socket_t fd, short what, void *arg)
{
	struct engine	*e = arg;

	(void)fd;
	(void)what;
	if (!e->paused)
		return;
	for (size_t i = 0; i < e->nconns; i++) {
		struct conn	*c = e->conns[i];

		if (c->state == CONN_IDLE)
			continue;
		conn_abort(c);
		/* A whole send or confirmation cut short is due again. */
		if (e->expect != NULL && c->purpose != EXPECT_FUZZ)
			engine_check_unstart(e, c);
		e->idle[e->nidle++] = c;
	}
}

/* Arms the stall check to run in us microseconds. */
static void
engine_stall_arm(struct engine *e, uint64_t us)
{
	struct timeval	tv = {
		.tv_sec = (time_t)(us / 1000000),
		.tv_usec = (suseconds_t)(us % 1000000),
	};

	event_add(e->ev_stall, &tv);
}

/* The server is stalled: end the connection most likely to have stuck it
 * (among those with data unread, the one it read last) with a hang finding
 * of phase "stall", saying what the server is doing; then end the others
 * stuck with it (no findings of their own: it is one fault), so that a
 * run that goes on, or a replay, does not wait for each one's timeout. */
static void
engine_stall(struct engine *e, struct conn *culprit, size_t unread,
    uint64_t quiet_us)
{
	char	what[256] = "", detail[512];

	if (e->cfg.describe != NULL)
		e->cfg.describe(e->cfg.describe_arg, what, sizeof what);
	snprintf(detail, sizeof detail, "stall: the server read nothing on "
	    "any connection for %.1fs while %zu had data waiting unread%s%s",
	    (double)quiet_us / 1e6, unread, what[0] != '\0' ? "; server: " :
	    "", what);
	conn_stall(culprit, detail);
	for (size_t i = 0; i < e->nconns; i++)
		if (conn_unread(e->conns[i]))
			conn_stall_end(e->conns[i]);
}

/* Read pacing: no read progress on any connection for --stall-timeout
 * while data waits unread is a stall (a spin, a deadlock). One timer and
 * one timestamp (kept by the lookups): the connections are walked only
 * once the quiet lasted that long. */
static void
engine_stall_check(evutil_socket_t fd, short what, void *arg)
{
	struct engine	*e = arg;
	uint64_t	 now = util_now_us(), wait;
	uint64_t	 stall_us = e->opt->stall_timeout_ms * 1000;
	uint64_t	 quiet_us = now - e->env.last_progress_us;
	struct conn	*culprit = NULL;
	size_t		 unread = 0;

	(void)fd;
	(void)what;
	if (e->env.pace != PACE_READ || (e->env.diag == NULL &&
	    !e->env.is_unix) || e->stopped != ENGINE_RUNNING)
		return;		/* no lookups, no evidence: hang-timeout only */
	if (e->paused || !pace_stalled(now, e->env.last_progress_us, stall_us,
	    &wait)) {
		if (e->paused)
			e->env.last_progress_us = now;
		engine_stall_arm(e, e->paused ? stall_us : wait);
		return;
	}
	for (size_t i = 0; i < e->nconns; i++) {
		struct conn	*c = e->conns[i];

		if (!conn_unread(c))
			continue;
		unread++;
		if (culprit == NULL || c->t_progress_us > culprit->t_progress_us)
			culprit = c;
	}
	/* Quiet with nothing unread is no stall: count again from now. */
	e->env.last_progress_us = now;
	engine_stall_arm(e, stall_us);
	if (culprit != NULL)
		engine_stall(e, culprit, unread, quiet_us);
}

/* Stops starting connections and drops those in flight. */
void
engine_pause(struct engine *e)
{
	e->paused = 1;
	event_del(e->ev_refill);
	event_add(e->ev_drop, &zero_tv);
}

/* Starts connections again after engine_pause. */
void
engine_resume(struct engine *e)
{
	e->paused = 0;
	e->env.last_progress_us = util_now_us();
	engine_drop(-1, 0, e);	/* anything the pause left running */
	engine_schedule_refill(e);
}

/* Something ran out on our side. */
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
	engine_back_off(e);
}

/* Cycle pacing: every --cycle-ms, each connection that was waiting when
 * the tick came may send. Only waiting connections are visited. */
static void
engine_cycle(evutil_socket_t fd, short what, void *arg)
{
	struct engine	*e = arg;
	struct conn	*c, *next;

	(void)fd;
	(void)what;
	e->env.tick++;
	for (c = TAILQ_FIRST(&e->env.waitq); c != NULL &&
	    c->wait_tick < e->env.tick && e->stopped == ENGINE_RUNNING;
	    c = next) {
		next = TAILQ_NEXT(c, wait_entry);
		conn_tick(c);
	}
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

/* Pacing falls back to acks: tell why, once. */
static void
engine_pace_fallback(struct engine *e, char *why)
{
	e->env.pace = PACE_ACK;
	e->env.gap_us = e->opt->gap_us;
	if (e->pace_why == NULL) {
		e->pace_why = why;
		if (e->hooks.notice != NULL)
			e->hooks.notice(e->arg, why);
	} else {
		free(why);
	}
}

/* A sock_diag reply: hand it to its connection, if still the same one. */
static void
engine_diag_reply(void *arg, const struct diag_reply *r)
{
	struct engine	*e = arg;
	struct conn	*c;

	e->diag_replies++;
	e->diag_found += (uint64_t)r->found;
	if (r->slot < e->nconns) {
		c = e->conns[r->slot];
		if ((c->gen & 4095) == r->gen)
			conn_diag(c, r);
	}
	if (e->env.pace == PACE_READ && e->diag_found == 0 &&
	    e->diag_replies >= DIAG_BLIND_REPLIES)
		engine_pace_fallback(e, xasprintf("sock_diag finds none of "
		    "the server's sockets (another network namespace?); "
		    "pacing by acks instead"));
}

/* Sends the lookups queued in this loop iteration, all at once. */
static void
engine_diag_flush(evutil_socket_t fd, short what, void *arg)
{
	struct engine	*e = arg;

	(void)fd;
	(void)what;
	if (diag_flush(e->diag) == -1) {
		if (e->env.pace == PACE_READ)
			engine_pace_fallback(e, xasprintf("sock_diag failed "
			    "(%s); pacing by acks instead", strerror(errno)));
		e->env.diag = NULL;	/* no more lookups, paced or sampled */
	}
}

/* The pacing in effect and why it differs from --pace. */
enum pace_mode
engine_pace(const struct engine *e, const char **why)
{
	*why = e->pace_why;
	return e->env.pace;
}

/* Opens sock_diag and decides the pacing in effect. */
static void
engine_choose_pace(struct engine *e)
{
	const struct options	*o = e->opt;
	char			*cause = NULL;

	e->env.pace = o->pace == PACE_AUTO ? PACE_READ : o->pace;
	if (e->cfg.force_ack)
		e->env.pace = PACE_ACK;
	if (e->env.is_unix) {
		/* SIOCOUTQ says what the server read: no sock_diag. */
		e->env.gap_us = e->env.pace == PACE_READ && !o->gap_set ? 0 :
		    o->gap_us;
		return;
	}
	if (!e->cfg.force_ack && e->cfg.loopback) {
		e->diag = diag_new(e->nconns, engine_diag_reply, e, &cause);
		if (e->diag != NULL)
			e->ev_diag = evtimer_new(e->base, engine_diag_flush, e);
		if (e->diag != NULL && e->ev_diag != NULL) {
			/* After the I/O of an iteration, so one send()
			 * carries every lookup it queued. */
			event_priority_set(e->ev_diag, 1);
			e->env.diag = e->diag;
			e->env.ev_diag = e->ev_diag;
		}
	}
	if (e->env.pace == PACE_READ && e->env.diag == NULL) {
		if (o->pace == PACE_AUTO || cause != NULL || !e->cfg.loopback)
			e->pace_why = xasprintf("read pacing needs sock_diag "
			    "on a loopback target (%s); pacing by acks",
			    cause ? cause : "the target is not on loopback");
		e->env.pace = PACE_ACK;
	}
	free(cause);
	e->env.gap_us = e->env.pace == PACE_READ && !o->gap_set ? 0 :
	    o->gap_us;
	if (e->cfg.loopback && e->cfg.addr->sa_family == AF_INET &&
	    !e->cfg.force_ack)
		e->env.src_count = o->source_addrs;
}

/* Makes the engine's own events. Returns 0, or -1 if one is missing. */
static int
engine_events(struct engine *e)
{
	struct event_base	*base = e->base;

	e->ev_refill = evtimer_new(base, engine_refill, e);
	e->ev_backoff = evtimer_new(base, engine_backoff_done, e);
	e->ev_cycle = event_new(base, -1, EV_PERSIST, engine_cycle, e);
	e->ev_stats = event_new(base, -1, EV_PERSIST, engine_stats_tick, e);
	e->ev_duration = evtimer_new(base, engine_duration, e);
	e->ev_drop = evtimer_new(base, engine_drop, e);
	e->ev_stall = evtimer_new(base, engine_stall_check, e);
	e->ev_hold = evtimer_new(base, engine_hold_done, e);
	e->ev_refresh = event_new(base, -1, EV_PERSIST, engine_refresh, e);
	return e->ev_refresh == NULL || e->ev_refill == NULL ||
	    e->ev_backoff == NULL ||
	    e->ev_cycle == NULL || e->ev_stats == NULL ||
	    e->ev_duration == NULL || e->ev_drop == NULL ||
	    e->ev_stall == NULL || e->ev_hold == NULL ? -1 : 0;
}

/* Frees the engine's own events (those made). */
static void
engine_events_free(struct engine *e)
{
	struct event	*evs[] = { e->ev_refill, e->ev_backoff, e->ev_cycle,
			    e->ev_stats, e->ev_duration, e->ev_drop, e->ev_stall,
			    e->ev_hold, e->ev_refresh, e->ev_diag };

	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
}

/* Sizes the pool: a job list, one --only connection, or --num-conns. */
static void
engine_size(struct engine *e)
{
	const struct engine_config	*cfg = &e->cfg;
	const struct options		*o = e->opt;

	if (cfg->jobs != NULL) {
		e->nblobs = 1;
		e->end_index = cfg->njobs;
		e->nconns = cfg->njobs < o->num_conns ? cfg->njobs :
		    o->num_conns;
		return;
	}
	e->nblobs = cfg->corpus->n;
	e->env.coverage = coverage_new(cfg->corpus);
	if (o->only_set) {
		e->first_index = e->next_index = o->only;
		e->end_index = o->only + 1;
		e->nconns = 1;
	} else {
		e->nconns = o->num_conns;
		if (o->rounds != 0)
			e->end_index = o->rounds * cfg->corpus->n;
	}
}

/* Makes an engine. */
struct engine *
engine_new(struct event_base *base, const struct engine_config *cfg,
    const struct engine_hooks *hooks, void *arg, char **cause)
{
	struct engine		*e = xcalloc(1, sizeof *e);
	const struct options	*o = cfg->opt;

	e->base = base;
	e->cfg = *cfg;
	e->opt = o;
	e->hooks = *hooks;
	e->arg = arg;
	e->env = (struct conn_env){
		.base = base,
		.opt = o,
		.addr = cfg->addr,
		.addrlen = cfg->addrlen,
		.seed = cfg->seed,
		.stats = &e->stats,
		.scratch = xmalloc(SCRATCH_LEN),
		.scratch_len = SCRATCH_LEN,
		.reports = cfg->reports,
		.is_unix = cfg->addr->sa_family == AF_UNIX,
		.done = engine_conn_done,
		.finding = engine_conn_finding,
		.local_fault = engine_conn_local,
		.arg = e,
	};
	TAILQ_INIT(&e->env.waitq);
	engine_size(e);
	if (e->env.coverage != NULL)
		e->stats.cuts_possible = e->env.coverage->possible;
	if (e->nconns == 0) {
		*cause = xasprintf("nothing to run");
		goto fail;
	}
	e->conns = xcalloc(e->nconns, sizeof *e->conns);
	e->idle = xcalloc(e->nconns, sizeof *e->idle);
	for (size_t i = 0; i < e->nconns; i++) {
		e->conns[i] = conn_new(&e->env);
		if (e->conns[i] == NULL) {
			*cause = xasprintf("cannot make connection events");
			goto fail;
		}
		e->conns[i]->slot = (uint32_t)i;
		e->idle[e->nconns - 1 - i] = e->conns[i];
	}
	engine_choose_pace(e);
	e->nidle = e->nconns;
	if (cfg->reports)
		e->suspects = suspects_new();
	if ((cfg->jobs == NULL || cfg->answers) &&
	    engine_checks_new(e, cause) == -1)
		goto fail;
	if (engine_events(e) == -1) {
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
	e->local_reported_us = 0;
	tv = ms_tv(e->opt->stats_interval_ms);
	if (event_add(e->ev_stats, &tv) == -1)
		goto fail;
	if (e->env.pace == PACE_CYCLE) {
		tv = ms_tv(e->opt->cycle_ms);
		if (event_add(e->ev_cycle, &tv) == -1)
			goto fail;
	}
	if (e->opt->duration_ms != 0) {
		tv = ms_tv(e->opt->duration_ms);
		if (event_add(e->ev_duration, &tv) == -1)
			goto fail;
	}
	if (e->expect != NULL && e->opt->reference_refresh_ms != 0) {
		tv = ms_tv(e->opt->reference_refresh_ms);
		if (event_add(e->ev_refresh, &tv) == -1)
			goto fail;
	}
	e->env.last_progress_us = e->env.start_us;
	if (e->env.pace == PACE_READ && e->opt->stall_timeout_ms != 0)
		engine_stall_arm(e, e->opt->stall_timeout_ms * 1000);
	if (event_add(e->ev_refill, &zero_tv) == -1)
		goto fail;
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

/* Boundary coverage per blob, or NULL. */
const struct coverage *
engine_coverage(const struct engine *e)
{
	return e->env.coverage;
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
	for (size_t i = 0; i < e->nconns && e->conns != NULL; i++)
		conn_free(e->conns[i]);
	engine_events_free(e);
	engine_checks_free(e);
	for (size_t i = 0; i < e->nconns && e->held != NULL; i++)
		suspects_copy_release(&e->held[i].h);
	free(e->held);
	diag_free(e->diag);
	free(e->pace_why);
	coverage_free(e->env.coverage);
	suspects_free(e->suspects);
	free(e->conns);
	free(e->idle);
	free(e->env.scratch);
	free(e);
}
