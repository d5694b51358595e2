/*
 * Replay: sends a record's connections again, with the same bytes, the same
 * fragments in the same order, the same gaps and the same fast-open and
 * early-close choices, through the same connection state machine, then
 * checks whether the server still accepts connections.
 */
#ifndef STUTTERFUZZ_REPLAY_H
#define STUTTERFUZZ_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "finding.h"

struct engine;
struct net_target;
struct options;
struct record_conn;

struct replay_outcome {
	unsigned	kinds;		/* finding kinds seen on the replayed connections */
	int		err;		/* errno of the first of them */
	const char	*phase;		/* and its phase */
	int		alive;		/* the server accepted a connection afterwards */
	int		interrupted;	/* a signal stopped the replay */
};

/* Replays conns (all at once) against t, waiting for each fragment to be
 * read (read_pacing, on loopback) or acknowledged, as the run did.
 * *current names the engine while it runs, so a signal handler can stop
 * it. Returns 0, or -1 with *cause. */
int	replay_conns(struct event_base *base, const struct options *o,
	    const struct net_target *t, const struct record_conn *const *conns,
	    size_t n, int read_pacing, struct engine **current,
	    struct replay_outcome *out, char **cause);

/* What an answer replay found. */
struct replay_answer_out {
	int		 state;		/* enum confirm_state: CONFIRM_MISMATCH
					 * reproduced; UNCONFIRMED right answer;
					 * UNSTABLE the whole sends vary */
	unsigned	 samples;	/* answers the reference was built from */
	char		 account[256];	/* the cut's first difference */
	char		 again[256];	/* ... when cut again */
};

/* Replays mismatch record rec's connection c against t: a reference from
 * the recorded expected answer and fresh whole sends, the cut, and if its
 * answer is wrong, the confirmation (the whole blob again, then the same
 * cut again). Returns 0 (res and out filled), or -1 with *cause. */
struct record;
int	replay_answer(struct event_base *base, const struct options *o,
	    const struct net_target *t, const struct record *rec,
	    const struct record_conn *c, int read_pacing,
	    struct engine **current, struct replay_answer_out *res,
	    struct replay_outcome *out, char **cause);

/* Chooses which of a record's connections to replay, in order: those that
 * sent something, each distinct cut once, those that ended abnormally
 * (reset, closed by the server, still in flight) before the rest, else in
 * record order. Fills out (rec->nconns entries) and returns how many. */
struct record;
size_t	replay_candidates(const struct record *rec,
	    const struct record_conn **out);

/* Did the outcome bring back a finding of kind `kind`? A dead server counts
 * for every kind. */
int	replay_reproduced(const struct replay_outcome *out,
	    enum finding_kind kind);

#endif
