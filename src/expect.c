/*
 * The answer checks of a fuzzing run: references, comparison,
 * confirmation, refresh. Pure: it schedules, the engine sends.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "confirm.h"
#include "corpus.h"
#include "expect.h"
#include "json.h"
#include "options.h"
#include "plan.h"
#include "stats.h"
#include "util.h"

/* A blob's reference and its candidate being confirmed. */
struct expect_blob {
	struct answer_ref	*ref;
	struct confirm		*confirm;	/* the candidate, or NULL */
	struct plan		 plan;		/* ... its plan */
	uint64_t		 index;		/* ... its connection index */
	int			 busy;		/* a confirmation step in flight */
};

struct expect {
	const struct options	*opt;
	const struct corpus	*corpus;
	struct stats		*stats;
	struct answer_masks	*masks;		/* --mask, --ignore */
	struct expect_blob	*blobs;		/* one per blob of the corpus */
	size_t			 nblobs;
	int			 referencing;	/* the reference phase runs */
	unsigned		 samples;	/* whole sends per blob */
	uint64_t		 ref_total;	/* ... in all */
	uint64_t		 ref_started;
	uint64_t		 ref_done;
	uint64_t		 greet_votes;	/* ... that heard bytes before sending */
	uint64_t		 greet_probe_us;	/* their wait for a greeting */
	uint64_t		 greet_us;	/* the run's wait for a greeting */
	uint64_t		 next_index;	/* of the next whole send */
	size_t			 confirm_wait;	/* confirmation steps to start */
	size_t			 refresh_left;	/* blobs to send whole again */
};

static const char *const purpose_names[EXPECT__COUNT] = {
	[EXPECT_FUZZ] = "fuzz",
	[EXPECT_REF] = "reference",
	[EXPECT_REFRESH] = "refresh",
	[EXPECT_WHOLE] = "whole",
	[EXPECT_RECUT] = "recut",
};

/* Name of a purpose, or NULL. */
const char *
expect_purpose_name(enum expect_purpose p)
{
	return p < EXPECT__COUNT ? purpose_names[p] : NULL;
}

/* Makes the checks: masks, a reference per blob, the reference phase. */
struct expect *
expect_new(const struct options *o, const struct corpus *corpus,
    struct stats *stats, char **cause)
{
	struct expect	*x = xcalloc(1, sizeof *x);

	x->opt = o;
	x->corpus = corpus;
	x->stats = stats;
	x->masks = answer_masks_new();
	for (unsigned i = 0; i < o->nmasks; i++)
		if (answer_masks_add(x->masks, o->masks[i], cause) == -1)
			goto fail;
	for (unsigned i = 0; i < o->nignores; i++)
		if (answer_masks_ignore(x->masks, o->ignores[i], cause) == -1)
			goto fail;
	x->nblobs = corpus->n;
	x->blobs = xcalloc(x->nblobs, sizeof *x->blobs);
	for (size_t i = 0; i < x->nblobs; i++)
		x->blobs[i].ref = answer_ref_new(x->masks);
	x->samples = ANSWER_SAMPLES_DEFAULT;
	x->ref_total = (uint64_t)x->samples * (o->only_set ? 1 : x->nblobs);
	x->referencing = 1;
	x->greet_probe_us = o->turn_timeout_ms * 1000 < EXPECT_GREET_PROBE_US ?
	    o->turn_timeout_ms * 1000 : EXPECT_GREET_PROBE_US;
	x->next_index = EXPECT_INDEX_BASE;
	return x;

fail:
	expect_free(x);
	return NULL;
}

/* Frees the checks; accepts NULL. */
void
expect_free(struct expect *x)
{
	if (x == NULL)
		return;
	for (size_t i = 0; i < x->nblobs && x->blobs != NULL; i++) {
		answer_ref_free(x->blobs[i].ref);
		confirm_free(x->blobs[i].confirm);
		plan_release(&x->blobs[i].plan);
	}
	free(x->blobs);
	answer_masks_free(x->masks);
	free(x);
}

/* Whether the reference phase runs. */
int
expect_referencing(const struct expect *x)
{
	return x->referencing;
}

/* Whether the checks have connections to start. */
int
expect_pending(const struct expect *x)
{
	return x->confirm_wait > 0 || (x->referencing &&
	    x->ref_started < x->ref_total) || (!x->referencing &&
	    x->refresh_left > 0);
}

/* Whether connection index of the run is compared. */
int
expect_compares(const struct expect *x, uint64_t index)
{
	return answer_check_this(x->opt->check_every, index);
}

/* The run's wait for a greeting. */
uint64_t
expect_greet_us(const struct expect *x)
{
	return x->greet_us;
}

/* Whether an answer is complete enough to judge. */
int
expect_usable(const struct plan *p, enum conn_outcome outcome)
{
	return p->close_after == p->nfrags &&
	    (outcome == CONN_OUT_COMPLETED ||
	    outcome == CONN_OUT_DRAIN_TIMEOUT ||
	    outcome == CONN_OUT_PEER_CLOSED);
}

/* The blob of the reference phase's next whole send, if one is due. */
static int
expect_next_ref(struct expect *x, size_t *blob)
{
	uint64_t	k;

	if (!x->referencing || x->ref_started >= x->ref_total)
		return 0;
	k = x->ref_started++;
	*blob = x->opt->only_set ? (size_t)(x->opt->only % x->nblobs) :
	    (size_t)(k % x->nblobs);
	return 1;
}

/* A confirmation step waiting to start: 1 and its blob, or 0. */
static int
expect_next_confirm(struct expect *x, size_t *blob)
{
	if (x->confirm_wait == 0)
		return 0;
	for (size_t i = 0; i < x->nblobs; i++) {
		struct expect_blob	*xb = &x->blobs[i];

		if (xb->confirm != NULL && !xb->busy) {
			xb->busy = 1;
			x->confirm_wait--;
			*blob = i;
			return 1;
		}
	}
	x->confirm_wait = 0;
	return 0;
}

/* Chooses the next step (confirmations first, then references, then
 * refreshes). Returns 1 with s filled, or 0. */
static int
expect_choose(struct expect *x, struct expect_step *s)
{
	if (expect_next_confirm(x, &s->blob)) {
		struct expect_blob	*xb = &x->blobs[s->blob];

		s->purpose = xb->confirm->state == CONFIRM_WHOLE ?
		    EXPECT_WHOLE : EXPECT_RECUT;
		/* The recut is the candidate's connection again; a whole send
		 * is a whole send, with an index of its own. */
		s->index = s->purpose == EXPECT_RECUT ? xb->index :
		    x->next_index++;
		s->greet_us = x->greet_us;
	} else if (expect_next_ref(x, &s->blob)) {
		s->purpose = EXPECT_REF;
		s->index = x->next_index++;
		s->greet_us = x->greet_probe_us;
	} else if (x->refresh_left > 0 && !x->referencing) {
		s->blob = --x->refresh_left;
		s->purpose = EXPECT_REFRESH;
		s->index = x->next_index++;
		s->greet_us = x->greet_us;
	} else {
		return 0;
	}
	return 1;
}

/* The next connection the checks want, and its plan. */
int
expect_next(struct expect *x, struct expect_step *s, struct plan *plan)
{
	const struct blob	*b;
	int			 rc;

	if (!expect_choose(x, s))
		return 0;
	b = &x->corpus->blobs[s->blob];
	if (s->purpose == EXPECT_RECUT)
		rc = plan_copy(plan, &x->blobs[s->blob].plan);
	else
		rc = plan_whole(plan, b->data, b->len, &x->opt->plan.turns);
	if (rc == -1) {
		expect_unstart(x, s->purpose, s->blob);
		return -1;
	}
	return 1;
}

/* A step could not start, or was dropped: it is due again. */
void
expect_unstart(struct expect *x, enum expect_purpose purpose, size_t blob)
{
	struct expect_blob	*xb = &x->blobs[blob];

	if (purpose == EXPECT_REF)
		x->ref_started--;
	else if (purpose == EXPECT_REFRESH)
		x->refresh_left++;
	else if (purpose != EXPECT_FUZZ && xb->confirm != NULL) {
		xb->busy = 0;
		x->confirm_wait++;
	}
}

/* Time for a refresh: each blob whole once more. */
int
expect_refresh(struct expect *x)
{
	if (x->referencing || x->opt->only_set || x->opt->check_every == 0)
		return 0;
	x->refresh_left = x->nblobs;
	return 1;
}

/* The references compared (all blobs, or the --only blob). */
static size_t
expect_nref(const struct expect *x)
{
	return x->opt->only_set ? 1 : x->nblobs;
}

/* The position of the i-th reference compared. */
static size_t
expect_ref_blob(const struct expect *x, size_t i)
{
	return x->opt->only_set ? (size_t)(x->opt->only % x->nblobs) : i;
}

/* Blobs whose reference is unstable (answers that differ in structure,
 * or none at all: every whole send failed). */
size_t
expect_unstable(const struct expect *x)
{
	size_t	n = 0;

	for (size_t i = 0; i < expect_nref(x); i++)
		n += !answer_ref_stable(x->blobs[expect_ref_blob(x, i)].ref);
	return n;
}

/* Blobs without a reference: every whole send of theirs failed. */
static size_t
expect_unanswered(const struct expect *x)
{
	size_t	n = 0;

	for (size_t i = 0; i < expect_nref(x); i++)
		n += answer_ref_samples(x->blobs[expect_ref_blob(x, i)].ref) == 0;
	return n;
}

/* What the reference phase found, in lines for the user. */
void
expect_refs_notes(const struct expect *x,
    void (*fn)(void *arg, const char *text), void *arg)
{
	const struct options	*o = x->opt;
	size_t			 nref = expect_nref(x);
	size_t			 unstable = expect_unstable(x);
	size_t			 none = expect_unanswered(x);
	char			*text, failed[96] = "";

	if (none > 0)
		snprintf(failed, sizeof failed, " (%zu without any answer: "
		    "their whole sends failed)", none);
	text = xasprintf("references: %zu blob%s sent whole %u time%s: %zu "
	    "stable, %zu unstable%s; the server %s; comparing %s", nref,
	    nref == 1 ? "" : "s", x->samples, x->samples == 1 ? "" : "s",
	    nref - unstable, unstable, failed, x->greet_us ? "speaks first (each "
	    "connection waits for its greeting)" : "waits for the client",
	    o->check_every == 0 ? "no answers (--check=none)" :
	    o->check_every == 1 ? "every connection's answer" :
	    "one connection's answer in N (--check=1/N)");
	fn(arg, text);
	free(text);
	for (size_t i = 0; i < nref && i < 8 && o->check_every != 0; i++) {
		size_t		 k = expect_ref_blob(x, i);
		const char	*why = answer_ref_why(x->blobs[k].ref);

		if (why == NULL)
			continue;
		text = xasprintf("blob %s is not compared: %s",
		    x->corpus->blobs[k].name, why);
		fn(arg, text);
		free(text);
	}
}

/* Appends n bytes of s as a quoted JSON string. */
static void
jbuf_string(struct jbuf *j, const char *s, size_t n)
{
	json_t	*v = json_stringn_nocheck(s, n);
	char	*t = v != NULL ? json_dumps(v, JSON_ENCODE_ANY) : NULL;

	if (t != NULL)
		jbuf_append(j, t, strlen(t));
	else
		jbuf_append(j, "\"\"", 2);
	free(t);
	json_decref(v);
}

/* Appends strings as a JSON array. */
static void
json_strings(struct jbuf *j, const char *const *s, unsigned n)
{
	jbuf_append(j, "[", 1);
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			jbuf_append(j, ",", 1);
		jbuf_string(j, s[i], strlen(s[i]));
	}
	jbuf_append(j, "]", 1);
}

/* Appends an answer's kept bytes as an escaped JSON string. */
static void
json_answer(struct jbuf *j, const struct answer *a)
{
	char	*t = answer_text(a);

	jbuf_string(j, t, strlen(t));
	free(t);
}

/* The record's "check" object of a blob's confirmed mismatch. */
static char *
expect_check_json(const struct expect *x, const struct expect_blob *xb)
{
	const struct answer	*exp = answer_ref_first(xb->ref);
	const struct confirm	*cf = xb->confirm;
	const struct options	*o = x->opt;
	struct jbuf		 j = { 0 };

	jbuf_append(&j, "{\"expected\":", 12);
	json_answer(&j, exp);
	jbuf_printf(&j, ",\"expected_total\":%" PRIu64 ",\"expected_closed\":"
	    "%s,\"got\":", exp->total, exp->closed ? "true" : "false");
	json_answer(&j, cf->got);
	jbuf_printf(&j, ",\"got_total\":%" PRIu64 ",\"got_closed\":%s,"
	    "\"difference\":", cf->got->total, cf->got->closed ? "true" :
	    "false");
	jbuf_string(&j, cf->account, strlen(cf->account));
	jbuf_append(&j, ",\"again\":", 9);
	jbuf_string(&j, cf->again, strlen(cf->again));
	jbuf_printf(&j, ",\"samples\":%u,\"greeting\":%s,\"turns\":",
	    answer_ref_samples(xb->ref), x->greet_us ? "true" : "false");
	if (o->turns_arg != NULL)
		jbuf_string(&j, o->turns_arg, strlen(o->turns_arg));
	else
		jbuf_append(&j, "null", 4);
	jbuf_append(&j, ",\"masks\":", 9);
	json_strings(&j, o->masks, o->nmasks);
	jbuf_append(&j, ",\"ignores\":", 11);
	json_strings(&j, o->ignores, o->nignores);
	jbuf_append(&j, "}", 1);
	return j.s;
}

/* Frees what m holds. */
void
expect_mismatch_release(struct expect_mismatch *m)
{
	free(m->check_json);
	m->check_json = NULL;
}

/* A reference send ended: learned; the phase may be over. */
static enum expect_news
expect_ref_done(struct expect *x, const struct expect_end *end,
    struct expect_blob *xb)
{
	x->ref_done++;
	x->greet_votes += end->heard_first != 0;
	if (expect_usable(end->plan, end->outcome))
		answer_ref_add(xb->ref, end->answer);
	if (x->ref_done != x->ref_total)
		return EXPECT_QUIET;
	x->referencing = 0;
	if (x->greet_votes * 2 > x->ref_done)
		x->greet_us = x->opt->turn_timeout_ms * 1000;
	return EXPECT_REFS_TAKEN;
}

/* A confirmation step ended: the next step, or the verdict. */
static enum expect_news
expect_confirm_done(struct expect *x, const struct expect_end *end,
    struct expect_blob *xb, struct expect_mismatch *m)
{
	enum expect_news	news = EXPECT_QUIET;
	enum confirm_state	st;

	xb->busy = 0;
	if (xb->confirm == NULL)
		return EXPECT_QUIET;
	/* A step that ended in a fault (the finding says so) judges
	 * nothing: the candidate is dropped. */
	st = expect_usable(end->plan, end->outcome) ? confirm_step(xb->confirm,
	    xb->ref, end->answer) : CONFIRM_UNCONFIRMED;
	if (!confirm_done(st)) {
		x->confirm_wait++;
		return EXPECT_QUIET;
	}
	if (st == CONFIRM_MISMATCH) {
		snprintf(m->account, sizeof m->account, "%s",
		    xb->confirm->account);
		m->check_json = expect_check_json(x, xb);
		news = EXPECT_MISMATCH;
	} else if (st == CONFIRM_UNCONFIRMED)
		x->stats->unconfirmed++;
	else if (st == CONFIRM_DRIFT)
		x->stats->drift++;
	else if (st == CONFIRM_UNSTABLE)
		x->stats->unstable++;
	confirm_free(xb->confirm);
	xb->confirm = NULL;
	return news;
}

/* A connection of the run: compared; a difference is a candidate (one
 * confirmation per blob at a time). */
static void
expect_compare(struct expect *x, const struct expect_end *end,
    struct expect_blob *xb)
{
	char	account[ANSWER_ACCOUNT_MAX];

	if (!expect_usable(end->plan, end->outcome))
		return;
	switch (answer_compare(xb->ref, end->answer, account,
	    sizeof account)) {
	case ANSWER_SAME:
		x->stats->compared++;
		return;
	case ANSWER_DIFFERENT:
		x->stats->compared++;
		x->stats->candidates++;
		break;
	default:
		return;
	}
	if (xb->confirm != NULL || plan_copy(&xb->plan, end->plan) == -1)
		return;
	xb->confirm = confirm_new(end->answer, account);
	xb->index = end->index;
	x->confirm_wait++;
}

/* Takes a finished connection that had an answer kept. */
enum expect_news
expect_done(struct expect *x, const struct expect_end *end,
    struct expect_mismatch *m)
{
	struct expect_blob	*xb = &x->blobs[end->blob];

	switch (end->purpose) {
	case EXPECT_REF:
		return expect_ref_done(x, end, xb);
	case EXPECT_REFRESH:
		x->stats->refreshes++;
		if (expect_usable(end->plan, end->outcome) &&
		    answer_compare(xb->ref, end->answer, NULL, 0) ==
		    ANSWER_DIFFERENT)
			answer_ref_add(xb->ref, end->answer);
		return EXPECT_QUIET;
	case EXPECT_WHOLE:
	case EXPECT_RECUT:
		return expect_confirm_done(x, end, xb, m);
	default:
		expect_compare(x, end, xb);
		return EXPECT_QUIET;
	}
}
