/*
 * Confirming a candidate: an answer to a cut blob that differs from the
 * blob's reference is a candidate, not yet a finding. Pure: the caller
 * sends, this says what to send next and what the answers mean.
 *
 *   1. the whole blob again (as the reference was taken): it must still get
 *      the reference answer (CONFIRM_VALUE_WHOLES times when the candidate
 *      differs only in values). If not, the reference learns that answer (the
 *      server's answers drifted: a second passed, a counter grew); then the
 *      candidate is judged again and may turn out quiet (CONFIRM_DRIFT), or
 *      the blob turns unstable (CONFIRM_UNSTABLE).
 *   2. the same cut again (same plan): it must get a wrong answer again.
 *      Yes: CONFIRM_MISMATCH, a finding. No: CONFIRM_UNCONFIRMED, counted.
 */
#ifndef STUTTERFUZZ_CONFIRM_H
#define STUTTERFUZZ_CONFIRM_H

#include "answer.h"

enum confirm_state {
	CONFIRM_WHOLE,		/* send the blob whole; give its answer */
	CONFIRM_RECUT,		/* send the same cut again; give its answer */
	CONFIRM_MISMATCH,	/* done: confirmed, record a mismatch */
	CONFIRM_UNCONFIRMED,	/* done: the cut answered right the second time */
	CONFIRM_DRIFT,		/* done: the reference learned; no difference left */
	CONFIRM_UNSTABLE,	/* done: the blob's whole sends vary in structure */
	CONFIRM__COUNT
};

/* Whole sends a candidate that differs only in values (answer_value_only)
 * takes before its recut: each one that differs is learned, so a value
 * the reference's samples happened to agree on shows that it varies. */
#define CONFIRM_VALUE_WHOLES	5

struct confirm {
	enum confirm_state	 state;
	unsigned		 wholes;	/* whole answers taken */
	unsigned		 need;		/* ... before the recut */
	struct answer		*got;		/* the candidate's answer (a copy) */
	char			 account[ANSWER_ACCOUNT_MAX];	/* of got */
	char			 again[ANSWER_ACCOUNT_MAX];	/* of the recut */
};

/* Starts confirming the candidate answer got (copied), whose difference
 * from the reference the account describes. */
struct confirm	*confirm_new(const struct answer *got, const char *account);

/* Frees c; accepts NULL. */
void		 confirm_free(struct confirm *c);

/* Takes the answer to what c->state asked for, judged against r (which
 * may learn from a whole send); returns the next state. */
enum confirm_state confirm_step(struct confirm *c, struct answer_ref *r,
		     const struct answer *a);

/* Whether state s ends the confirmation. */
int		 confirm_done(enum confirm_state s);

/* Name of a state ("mismatch"), or NULL. */
const char	*confirm_state_name(enum confirm_state s);

#endif
