/*
 * The answer checks of a fuzzing run: the reference phase (each blob sent
 * whole a few times before fuzzing, which also tells whether the server
 * speaks first), the comparison of each compared connection's answer with
 * its blob's reference, the confirmation of a candidate (the whole blob
 * again, then the same cut again) before it is a mismatch, and the
 * periodic refresh (each blob whole once more, so a reference follows a
 * server whose answers drift).
 *
 * Pure: no sockets, no event loop, never prints. The engine asks
 * expect_next what an idle slot should send (a whole send or a
 * confirmation step; none: a connection of the run), hands every finished
 * connection with an answer to expect_done, and learns from its return
 * value when the references are taken and when a mismatch is confirmed.
 * The counters compared, candidates, unconfirmed, drift, unstable and
 * refreshes are kept in the engine's struct stats.
 */
#ifndef STUTTERFUZZ_EXPECT_H
#define STUTTERFUZZ_EXPECT_H

#include <stddef.h>
#include <stdint.h>

#include "answer.h"
#include "conn.h"

struct corpus;
struct options;
struct plan;
struct stats;
struct expect;

/* Indexes of whole sends start here, far from any fuzzing connection's. */
#define EXPECT_INDEX_BASE	(1ULL << 62)
/* A reference send waits this long at most for a greeting (less if
 * --turn-timeout is shorter) before it sends. */
#define EXPECT_GREET_PROBE_US	200000

/* What a connection of the pool is for (kept in conn->purpose; 0 is a
 * connection of the run). */
enum expect_purpose {
	EXPECT_FUZZ,		/* a cut connection of the run (or a job) */
	EXPECT_REF,		/* reference phase: a whole send */
	EXPECT_REFRESH,		/* a whole send during the run (drift) */
	EXPECT_WHOLE,		/* confirmation: the blob whole again */
	EXPECT_RECUT,		/* confirmation: the same cut again */
	EXPECT__COUNT
};

/* A connection the checks want started (expect_next). */
struct expect_step {
	enum expect_purpose	 purpose;
	size_t			 blob;		/* its blob's position in the corpus */
	uint64_t		 index;		/* its connection index */
	uint64_t		 greet_us;	/* wait this long for a greeting */
};

/* A finished connection, as the checks see it (expect_done). */
struct expect_end {
	enum expect_purpose	 purpose;
	size_t			 blob;
	uint64_t		 index;
	const struct plan	*plan;		/* what it was to send */
	enum conn_outcome	 outcome;	/* how it ended */
	const struct answer	*answer;	/* what the server said */
	int			 heard_first;	/* bytes came before any was sent */
};

/* What a finished connection meant to the engine. */
enum expect_news {
	EXPECT_QUIET,		/* nothing the engine must act on */
	EXPECT_REFS_TAKEN,	/* the reference phase is over: fuzz now */
	EXPECT_MISMATCH,	/* a confirmed mismatch, described in the
				 * expect_mismatch given to expect_done */
};

/* A confirmed mismatch, for its finding and record. */
struct expect_mismatch {
	char	 account[ANSWER_ACCOUNT_MAX];	/* the candidate's difference */
	char	*check_json;	/* the record's "check" object; allocated */
};

/* Makes the checks of a fuzzing run over corpus (options o: --check,
 * --mask, --ignore, --turns, --turn-timeout, --only); counters go to
 * stats. Returns NULL with *cause (a bad --mask). Both must outlive it. */
struct expect	*expect_new(const struct options *o, const struct corpus *corpus,
		     struct stats *stats, char **cause);

/* Frees x; accepts NULL. */
void		 expect_free(struct expect *x);

/* Whether the reference phase runs (connections of the run wait). */
int		 expect_referencing(const struct expect *x);

/* Whether the checks have connections to start. */
int		 expect_pending(const struct expect *x);

/* The next connection the checks want, if one is due: fills s and plan
 * (the blob whole, one fragment per message with --turns; or the cut being
 * confirmed). Returns 1, 0 when none is due, -1 out of memory for the plan
 * (the step is due again). */
int		 expect_next(struct expect *x, struct expect_step *s,
		     struct plan *plan);

/* A step could not start, or was dropped unfinished: it is due again. */
void		 expect_unstart(struct expect *x, enum expect_purpose purpose,
		     size_t blob);

/* Whether connection index of the run has its answer compared. */
int		 expect_compares(const struct expect *x, uint64_t index);

/* How long a connection of the run waits for a greeting (0: none; known
 * once the references are taken). */
uint64_t	 expect_greet_us(const struct expect *x);

/* Whether an answer is complete enough to judge: the connection sent its
 * whole plan (no early close) and ended without a fault. */
int		 expect_usable(const struct plan *p, enum conn_outcome outcome);

/* Takes a finished connection that had an answer kept. On EXPECT_MISMATCH
 * m is filled (release it with expect_mismatch_release). */
enum expect_news expect_done(struct expect *x, const struct expect_end *end,
		     struct expect_mismatch *m);

/* Frees what m holds; m itself is the caller's. */
void		 expect_mismatch_release(struct expect_mismatch *m);

/* Time for a refresh: each blob is sent whole once more (not during the
 * reference phase, nor with --only). Returns 1 if steps became due. */
int		 expect_refresh(struct expect *x);

/* Blobs whose reference is unstable (not compared). */
size_t		 expect_unstable(const struct expect *x);

/* What the reference phase found, in lines for the user, each passed to
 * fn (a summary line, then one per unstable blob, at most 8). */
void		 expect_refs_notes(const struct expect *x,
		     void (*fn)(void *arg, const char *text), void *arg);

/* Name of a purpose ("refresh"), or NULL. */
const char	*expect_purpose_name(enum expect_purpose p);

#endif
