/*
 * Confirming a candidate mismatch: the whole blob again, then the same cut
 * again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confirm.h"
#include "util.h"

static const char *state_names[CONFIRM__COUNT] = {
	[CONFIRM_WHOLE] = "whole",
	[CONFIRM_RECUT] = "recut",
	[CONFIRM_MISMATCH] = "mismatch",
	[CONFIRM_UNCONFIRMED] = "unconfirmed",
	[CONFIRM_DRIFT] = "drift",
	[CONFIRM_UNSTABLE] = "unstable",
};

/* Starts confirming the candidate answer got. */
struct confirm *
confirm_new(const struct answer *got, const char *account)
{
	struct confirm	*c = xcalloc(1, sizeof *c);

	c->state = CONFIRM_WHOLE;
	c->got = answer_new(got->limit);
	answer_add(c->got, got->data, got->len);
	c->got->total = got->total;
	c->got->hash = got->hash;
	c->got->closed = got->closed;
	snprintf(c->account, sizeof c->account, "%s", account);
	return c;
}

/* Frees c; accepts NULL. */
void
confirm_free(struct confirm *c)
{
	if (c == NULL)
		return;
	answer_free(c->got);
	free(c);
}

/* Step 1: a whole send's answer; a candidate that differs only in values
 * takes CONFIRM_VALUE_WHOLES of them. */
static enum confirm_state
confirm_whole(struct confirm *c, struct answer_ref *r, const struct answer *a)
{
	enum confirm_state	next;

	if (c->wholes++ == 0)
		c->need = answer_value_only(r, c->got) ? CONFIRM_VALUE_WHOLES : 1;
	next = c->wholes < c->need ? CONFIRM_WHOLE : CONFIRM_RECUT;
	switch (answer_compare(r, a, NULL, 0)) {
	case ANSWER_SAME:
		return next;
	case ANSWER_DIFFERENT:
		answer_ref_add(r, a);
		if (!answer_ref_stable(r))
			return CONFIRM_UNSTABLE;
		if (answer_compare(r, c->got, c->account,
		    sizeof c->account) == ANSWER_SAME)
			return CONFIRM_DRIFT;
		return next;
	case ANSWER_UNCOMPARED:
	default:
		return CONFIRM_UNSTABLE;
	}
}

/* Takes the answer to what c->state asked for. */
enum confirm_state
confirm_step(struct confirm *c, struct answer_ref *r, const struct answer *a)
{
	switch (c->state) {
	case CONFIRM_WHOLE:
		c->state = confirm_whole(c, r, a);
		break;
	case CONFIRM_RECUT:
		switch (answer_compare(r, a, c->again, sizeof c->again)) {
		case ANSWER_DIFFERENT:
			c->state = CONFIRM_MISMATCH;
			break;
		case ANSWER_SAME:
			c->state = CONFIRM_UNCONFIRMED;
			break;
		default:
			c->state = CONFIRM_UNSTABLE;
			break;
		}
		break;
	default:
		break;
	}
	return c->state;
}

/* Whether state s ends the confirmation. */
int
confirm_done(enum confirm_state s)
{
	return s != CONFIRM_WHOLE && s != CONFIRM_RECUT;
}

/* Name of a state, or NULL. */
const char *
confirm_state_name(enum confirm_state s)
{
	return s < CONFIRM__COUNT ? state_names[s] : NULL;
}
