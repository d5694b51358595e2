/* Replay: sends a record's connections again, exactly as recorded. */
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "confirm.h"
#include "engine.h"
#include "net.h"
#include "options.h"
#include "record.h"
#include "replay.h"
#include "util.h"

#define REPLAY_SETTLE_STEP_MS	50

#define REPLAY_GOT_MAX	4	/* answers one step collects */

struct replay_run {
	struct replay_outcome	*out;
	struct answer		*got[REPLAY_GOT_MAX];	/* answers kept */
	size_t			 ngot;
};

/* What every replay run needs. */
struct replay_env {
	struct event_base	*base;
	const struct options	*o;
	const struct net_target	*t;
	int			 read_pacing;
	struct engine		**current;
};

/* Hook: a replayed connection ran into a fault again. */
static int
replay_finding(void *arg, const struct finding *f,
    const struct conn_report *conn, const struct conn_report *suspects,
    size_t nsuspects)
{
	struct replay_run	*rr = arg;

	(void)conn;
	(void)suspects;
	(void)nsuspects;
	if (rr->out->kinds == 0) {
		rr->out->err = f->err;
		rr->out->phase = f->phase;
	}
	rr->out->kinds |= FINDING_BIT(f->kind);
	return 0;
}

/* The options of a replay: every connection at once, none stopping the
 * others, no limits but the job list; the timeouts of the options still
 * bound each one. */
static void
replay_options(const struct options *o, size_t n, int read_pacing,
    struct options *ro)
{
	*ro = *o;
	ro->num_conns = (uint32_t)n;
	ro->stop_on = 0;
	ro->max_findings = 0;
	ro->duration_ms = 0;
	ro->rounds = 0;
	ro->only_set = 0;
	ro->stats_interval_ms = 24ULL * 3600 * 1000;
	ro->pace = read_pacing ? PACE_READ : PACE_ACK;
	ro->source_addrs = 1;
}

struct replay_settle {
	struct event_base	*base;
	const struct net_target	*target;
	uint64_t		 connect_timeout_ms;
	uint64_t		 settle_ms;
	uint64_t		 waited_ms;
	int			 alive;
};

/* Settle timer: does the server still accept? Stop at the first no, or
 * when the settle time is over. */
static void
replay_settle_tick(evutil_socket_t fd, short what, void *arg)
{
	struct replay_settle	*s = arg;

	(void)fd;
	(void)what;
	s->waited_ms += REPLAY_SETTLE_STEP_MS;
	if (!net_alive(s->target, s->connect_timeout_ms))
		s->alive = 0;
	if (!s->alive || s->waited_ms >= s->settle_ms)
		event_base_loopexit(s->base, NULL);
}

/* Gives a dying server time to die: asks every 50 ms during the settle
 * time whether it still accepts, on an event timer, so that a signal
 * (which breaks the loop) ends the wait at once. */
static int
replay_settle(struct event_base *base, const struct options *o,
    const struct net_target *t, struct replay_outcome *out, char **cause)
{
	struct replay_settle	 s = {
		.base = base,
		.target = t,
		.connect_timeout_ms = o->connect_timeout_ms,
		.settle_ms = o->settle_ms,
		.alive = 1,
	};
	struct timeval		 tv = { 0, REPLAY_SETTLE_STEP_MS * 1000 };
	struct event		*ev;

	out->alive = net_alive(t, o->connect_timeout_ms);
	if (!out->alive || o->settle_ms == 0)
		return 0;
	ev = event_new(base, -1, EV_PERSIST, replay_settle_tick, &s);
	if (ev == NULL || event_add(ev, &tv) == -1 ||
	    event_base_dispatch(base) == -1) {
		if (ev != NULL)
			event_free(ev);
		*cause = xasprintf("event loop failed");
		return -1;
	}
	event_free(ev);
	out->interrupted = event_base_got_break(base);
	out->alive = s.alive;
	return 0;
}

/* Runs jobs (all at once) against t; got (may be NULL) sees each finished
 * connection, with its answer; with alive, then gives a dying server the
 * settle time to die. */
static int
replay_jobs(struct replay_env *env, const struct engine_job *jobs, size_t n,
    void (*got)(void *, const struct conn_report *), struct replay_run *rr,
    int alive, struct replay_outcome *out, char **cause)
{
	struct options		 ro;
	struct engine_hooks	 hooks = {
		.finding = replay_finding,
		.conn_done = got,
	};
	struct engine_config	 cfg;
	struct engine		*e;
	enum engine_stop	 why;

	memset(out, 0, sizeof *out);
	rr->out = out;
	replay_options(env->o, n, env->read_pacing, &ro);
	cfg = (struct engine_config){
		.opt = &ro,
		.jobs = jobs,
		.njobs = n,
		.addr = (const struct sockaddr *)&env->t->addr,
		.addrlen = env->t->addrlen,
		.reports = 1,
		.force_ack = !env->read_pacing,
		.loopback = env->t->loopback,
		.answers = got != NULL,
	};
	e = engine_new(env->base, &cfg, &hooks, rr, cause);
	if (e == NULL)
		return -1;
	*env->current = e;
	if (engine_start(e, cause) == -1 ||
	    event_base_dispatch(env->base) == -1) {
		if (*cause == NULL)
			*cause = xasprintf("event loop failed");
		*env->current = NULL;
		engine_free(e);
		return -1;
	}
	why = engine_stop_reason(e);
	*env->current = NULL;
	engine_free(e);
	if (why == ENGINE_STOP_SIGNAL) {
		out->interrupted = 1;
		return 0;
	}
	return alive ? replay_settle(env->base, env->o, env->t, out, cause) : 0;
}

/* Replays conns (all at once) against t. */
int
replay_conns(struct event_base *base, const struct options *o,
    const struct net_target *t, const struct record_conn *const *conns,
    size_t n, int read_pacing, struct engine **current,
    struct replay_outcome *out, char **cause)
{
	struct replay_env	 env = { base, o, t, read_pacing, current };
	struct replay_run	 rr = { .out = out };
	struct engine_job	*jobs = xcalloc(n, sizeof *jobs);
	int			 rc;

	for (size_t i = 0; i < n; i++) {
		jobs[i].index = conns[i]->index;
		jobs[i].blob = &conns[i]->blob;
		jobs[i].plan = &conns[i]->plan;
		jobs[i].greet_us = conns[i]->greet_us;
	}
	rc = replay_jobs(&env, jobs, n, NULL, &rr, 1, out, cause);
	free(jobs);
	return rc;
}

/* Copies answer src into dst. */
static void
replay_copy_answer(struct answer *dst, const struct answer *src)
{
	answer_reset(dst);
	answer_add(dst, src->data, src->len);
	dst->total = src->total;
	dst->hash = src->hash;
	dst->closed = src->closed;
}

/* Hook of an answer replay: keeps the answer of a connection that ended
 * without a fault. */
static void
replay_got(void *arg, const struct conn_report *r)
{
	struct replay_run	*rr = arg;

	if (r->answer == NULL || rr->ngot >= REPLAY_GOT_MAX ||
	    (r->outcome != CONN_OUT_COMPLETED &&
	    r->outcome != CONN_OUT_DRAIN_TIMEOUT &&
	    r->outcome != CONN_OUT_PEER_CLOSED))
		return;
	replay_copy_answer(rr->got[rr->ngot++], r->answer);
}

/* The whole send of a recorded connection: its messages, one fragment
 * each (one fragment without turns). */
static int
replay_whole_plan(const struct record_conn *c, struct plan *p)
{
	const struct plan	*cut = &c->plan;
	struct turn_spec	 none = { .rule = TURN_NONE };
	uint32_t		 k = 0;

	if (plan_whole(p, c->blob.data, c->blob.len, &none) == -1)
		return -1;
	if (cut->nturns == 0)
		return 0;
	p->nfrags = 0;
	p->nturns = 0;
	free(p->turn_ends);
	p->turn_ends = xcalloc(cut->nturns, sizeof *p->turn_ends);
	p->turn_cap = cut->nturns;
	free(p->sizes);
	p->sizes = xcalloc(cut->nturns, sizeof *p->sizes);
	p->cap = cut->nturns;
	for (uint32_t i = 0; i < cut->nturns; i++) {
		uint32_t	size = 0;

		for (; k < cut->turn_ends[i]; k++)
			size += cut->sizes[k];
		p->sizes[p->nfrags++] = size;
		p->turn_ends[p->nturns++] = p->nfrags;
	}
	p->close_after = p->nfrags;
	return 0;
}

/* One step of an answer replay: runs n copies of a job and collects
 * their answers in rr. */
static int
replay_step(struct replay_env *env, struct replay_run *rr,
    const struct engine_job *job, size_t n, struct replay_outcome *out,
    char **cause)
{
	struct engine_job	jobs[REPLAY_GOT_MAX];
	unsigned		kinds = out->kinds;
	int			rc;

	for (size_t i = 0; i < n; i++)
		jobs[i] = *job;
	rr->ngot = 0;
	rc = replay_jobs(env, jobs, n, replay_got, rr, 0, out, cause);
	out->kinds |= kinds;
	return rc;
}

/* What an answer replay holds. */
struct replay_ans {
	struct replay_env	 env;
	struct replay_run	 rr;
	struct answer_masks	*masks;
	struct answer_ref	*ref;
	struct plan		 whole;
	struct engine_job	 jw;		/* the whole send */
	struct engine_job	 jc;		/* the cut */
};

/* The reference of an answer replay: the record's masks and expected
 * answer, then fresh whole sends (what varies now, a date, is learned).
 * Returns 0, or -1 with *cause. */
static int
replay_ans_ref(struct replay_ans *ra, const struct record *rec,
    const struct record_conn *c, struct replay_outcome *out, char **cause)
{
	struct answer	*exp = answer_new(0);
	int		 rc = -1;

	for (size_t i = 0; i < rec->nmasks; i++)
		if (answer_masks_add(ra->masks, rec->masks[i], cause) == -1)
			goto done;
	for (size_t i = 0; i < rec->nignores; i++)
		if (answer_masks_ignore(ra->masks, rec->ignores[i], cause) == -1)
			goto done;
	if (answer_parse_text(exp, rec->expected, cause) == -1 ||
	    replay_whole_plan(c, &ra->whole) == -1) {
		if (*cause == NULL)
			*cause = xasprintf("cannot make the whole send");
		goto done;
	}
	exp->closed = rec->expected_closed;
	answer_ref_add(ra->ref, exp);
	if (replay_step(&ra->env, &ra->rr, &ra->jw, 2, out, cause) == -1)
		goto done;
	for (size_t i = 0; i < ra->rr.ngot; i++)
		answer_ref_add(ra->ref, ra->rr.got[i]);
	rc = 0;
done:
	answer_free(exp);
	return rc;
}

/* The cut of an answer replay, and if its answer is wrong, the
 * confirmation as in a run (whole again, then the cut again). Returns 0
 * (res->state says), or -1 with *cause. */
static int
replay_ans_judge(struct replay_ans *ra, struct replay_answer_out *res,
    struct replay_outcome *out, char **cause)
{
	struct replay_run	*rr = &ra->rr;
	struct confirm		*cf;

	if (replay_step(&ra->env, rr, &ra->jc, 1, out, cause) == -1)
		return -1;
	if (rr->ngot == 0 || answer_compare(ra->ref, rr->got[0], res->account,
	    sizeof res->account) != ANSWER_DIFFERENT) {
		res->state = CONFIRM_UNCONFIRMED;
		return 0;
	}
	cf = confirm_new(rr->got[0], res->account);
	while (!confirm_done(cf->state) && !out->interrupted) {
		if (replay_step(&ra->env, rr, cf->state == CONFIRM_WHOLE ?
		    &ra->jw : &ra->jc, 1, out, cause) == -1) {
			confirm_free(cf);
			return -1;
		}
		if (rr->ngot == 0) {
			cf->state = CONFIRM_UNCONFIRMED;
			break;
		}
		confirm_step(cf, ra->ref, rr->got[0]);
	}
	res->state = cf->state;
	snprintf(res->again, sizeof res->again, "%s", cf->again);
	confirm_free(cf);
	return 0;
}

/* Replays a mismatch record's connection c: a reference from the recorded
 * expected answer and fresh whole sends, then the cut, confirmed as in a
 * run. */
int
replay_answer(struct event_base *base, const struct options *o,
    const struct net_target *t, const struct record *rec,
    const struct record_conn *c, int read_pacing, struct engine **current,
    struct replay_answer_out *res, struct replay_outcome *out, char **cause)
{
	struct replay_ans	ra = {
		.env = { base, o, t, read_pacing, current },
		.rr = { .out = out },
		.jw = { c->index, &c->blob, &ra.whole, c->greet_us },
		.jc = { c->index, &c->blob, &c->plan, c->greet_us },
	};
	int			rc = -1;

	memset(res, 0, sizeof *res);
	memset(out, 0, sizeof *out);
	ra.masks = answer_masks_new();
	ra.ref = answer_ref_new(ra.masks);
	for (size_t i = 0; i < REPLAY_GOT_MAX; i++)
		ra.rr.got[i] = answer_new(0);
	if (replay_ans_ref(&ra, rec, c, out, cause) == 0) {
		res->samples = answer_ref_samples(ra.ref);
		if (!answer_ref_stable(ra.ref)) {
			res->state = CONFIRM_UNSTABLE;
			rc = 0;
		} else if (out->interrupted) {
			rc = 0;
		} else {
			rc = replay_ans_judge(&ra, res, out, cause);
		}
	}
	plan_release(&ra.whole);
	answer_ref_free(ra.ref);
	answer_masks_free(ra.masks);
	for (size_t i = 0; i < REPLAY_GOT_MAX; i++)
		answer_free(ra.rr.got[i]);
	return rc;
}

/* Do two recorded connections send the same bytes cut the same way? */
static int
same_cut(const struct record_conn *a, const struct record_conn *b)
{
	return a->blob.len == b->blob.len && a->plan.nfrags == b->plan.nfrags &&
	    a->plan.fastopen == b->plan.fastopen &&
	    a->plan.close_after == b->plan.close_after &&
	    memcmp(a->blob.data, b->blob.data, a->blob.len) == 0 &&
	    memcmp(a->plan.sizes, b->plan.sizes,
	    a->plan.nfrags * sizeof *a->plan.sizes) == 0;
}

/* Did a connection end the way a crash would end it? */
static int
abnormal(const struct record_conn *c)
{
	return c->outcome != CONN_OUT_COMPLETED &&
	    c->outcome != CONN_OUT_EARLY_CLOSE &&
	    c->outcome != CONN_OUT_DRAIN_TIMEOUT;
}

/* FNV-1a of a connection's cut: its bytes, sizes, fast open, close. */
static uint64_t
cut_hash(const struct record_conn *c)
{
	const unsigned char	*parts[3] = { c->blob.data,
				    (const unsigned char *)c->plan.sizes,
				    (const unsigned char *)&c->plan.close_after };
	size_t			 lens[3] = { c->blob.len,
				    c->plan.nfrags * sizeof *c->plan.sizes,
				    sizeof c->plan.close_after };
	uint64_t		 h = 0xcbf29ce484222325ULL;

	h ^= (uint64_t)c->plan.fastopen;
	for (int p = 0; p < 3; p++) {
		for (size_t i = 0; i < lens[p]; i++) {
			h ^= parts[p][i];
			h *= 0x100000001b3ULL;
		}
	}
	return h;
}

/* Adds c to the open-addressing table of chosen cuts unless the same cut
 * is there; returns 1 if it was added. */
static int
cut_add(const struct record_conn **table, uint64_t *hashes, size_t mask,
    const struct record_conn *c, uint64_t h)
{
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		if (table[i] == NULL) {
			table[i] = c;
			hashes[i] = h;
			return 1;
		}
		if (hashes[i] == h && same_cut(table[i], c))
			return 0;
	}
}

/* Chooses which of a record's connections to replay, in order; each cut
 * is looked up in a hash table, so many suspects cost linear time. */
size_t
replay_candidates(const struct record *rec, const struct record_conn **out)
{
	const struct record_conn	**table;
	uint64_t			 *hashes, *h;
	size_t				  n = 0, cap = 16;

	while (cap < 2 * rec->nconns)
		cap *= 2;
	table = xcalloc(cap, sizeof *table);
	hashes = xcalloc(cap, sizeof *hashes);
	h = xcalloc(rec->nconns + 1, sizeof *h);
	for (size_t i = 0; i < rec->nconns; i++)
		h[i] = cut_hash(&rec->conns[i]);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < rec->nconns; i++) {
			const struct record_conn	*c = &rec->conns[i];

			if (c->bytes_sent == 0 && rec->nconns > 1)
				continue;
			if (abnormal(c) != (pass == 0))
				continue;
			if (cut_add(table, hashes, cap - 1, c, h[i]))
				out[n++] = c;
		}
	}
	free(h);
	free(hashes);
	free(table);
	return n;
}

/* Did the outcome bring back a finding of kind `kind`? */
int
replay_reproduced(const struct replay_outcome *out, enum finding_kind kind)
{
	return !out->alive || (out->kinds & FINDING_BIT(kind)) != 0;
}
