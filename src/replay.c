/* Replay: sends a record's connections again, exactly as recorded. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "net.h"
#include "options.h"
#include "record.h"
#include "replay.h"
#include "util.h"

struct replay_run {
	struct replay_outcome	*out;
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

/* Replays conns (all at once) against t. */
int
replay_conns(struct event_base *base, const struct options *o,
    const struct net_target *t, const struct record_conn *const *conns,
    size_t n, int read_pacing, struct engine **current,
    struct replay_outcome *out, char **cause)
{
	struct options		 ro = *o;
	struct engine_job	*jobs = xcalloc(n, sizeof *jobs);
	struct replay_run	 rr = { .out = out };
	struct engine_hooks	 hooks = { .finding = replay_finding };
	struct engine_config	 cfg;
	struct engine		*e;
	struct timespec		 ts;
	enum engine_stop	 why;

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < n; i++) {
		jobs[i].index = conns[i]->index;
		jobs[i].blob = &conns[i]->blob;
		jobs[i].plan = &conns[i]->plan;
	}
	/* Every connection at once, none stopping the others, no limits but
	 * the job list; the timeouts of the options still bound each one. */
	ro.num_conns = (uint32_t)n;
	ro.stop_on = 0;
	ro.max_findings = 0;
	ro.duration_ms = 0;
	ro.rounds = 0;
	ro.only_set = 0;
	ro.stats_interval_ms = 24ULL * 3600 * 1000;
	ro.pace = read_pacing ? PACE_READ : PACE_ACK;
	ro.source_addrs = 1;
	cfg = (struct engine_config){
		.opt = &ro,
		.jobs = jobs,
		.njobs = n,
		.addr = (const struct sockaddr *)&t->addr,
		.addrlen = t->addrlen,
		.reports = 1,
		.force_ack = !read_pacing,
		.loopback = t->loopback,
	};
	e = engine_new(base, &cfg, &hooks, &rr, cause);
	if (e == NULL) {
		free(jobs);
		return -1;
	}
	*current = e;
	if (engine_start(e, cause) == -1 ||
	    event_base_dispatch(base) == -1) {
		if (*cause == NULL)
			*cause = xasprintf("event loop failed");
		*current = NULL;
		engine_free(e);
		free(jobs);
		return -1;
	}
	why = engine_stop_reason(e);
	*current = NULL;
	engine_free(e);
	free(jobs);
	if (why == ENGINE_STOP_SIGNAL) {
		out->interrupted = 1;
		return 0;
	}
	/* Give a dying server time to die: ask every 50 ms during the settle
	 * time whether it still accepts, and stop at the first no. */
	out->alive = 1;
	for (uint64_t waited = 0;; waited += 50) {
		if (!net_alive(t, o->connect_timeout_ms)) {
			out->alive = 0;
			break;
		}
		if (waited >= o->settle_ms)
			break;
		ts.tv_sec = 0;
		ts.tv_nsec = 50 * 1000000L;
		nanosleep(&ts, NULL);
	}
	return 0;
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

/* Chooses which of a record's connections to replay, in order. */
size_t
replay_candidates(const struct record *rec, const struct record_conn **out)
{
	size_t	n = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < rec->nconns; i++) {
			const struct record_conn	*c = &rec->conns[i];
			int				 dup = 0;

			if (c->bytes_sent == 0 && rec->nconns > 1)
				continue;
			if (abnormal(c) != (pass == 0))
				continue;
			for (size_t j = 0; j < n && !dup; j++)
				dup = same_cut(out[j], c);
			if (!dup)
				out[n++] = c;
		}
	}
	return n;
}

/* Did the outcome bring back a finding of kind `kind`? */
int
replay_reproduced(const struct replay_outcome *out, enum finding_kind kind)
{
	return !out->alive || (out->kinds & FINDING_BIT(kind)) != 0;
}
