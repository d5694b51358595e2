/* Unit tests: the answer checks' scheduling (references, confirmation,
 * refresh) and what finished connections mean. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "corpus.h"
#include "expect.h"
#include "options.h"
#include "plan.h"
#include "stats.h"

#define NBLOBS	2

/* A run's checks over two blobs, with their options and counters. */
struct fixture {
	struct blob	 blobs[NBLOBS];
	struct corpus	 corpus;
	struct options	 o;
	struct stats	 stats;
	struct expect	*x;
	struct plan	 plan;		/* the last step's plan */
	struct plan	 cut;		/* a cut of blob 0 in two */
};

static struct fixture	fx;

/* Sets fx up with default options changed by fn (may be NULL). */
static void
fx_init(void (*fn)(struct options *))
{
	char	*cause = NULL;

	memset(&fx, 0, sizeof fx);
	fx.blobs[0] = (struct blob){ (char *)"a", (unsigned char *)"GET /a\n", 7, 0 };
	fx.blobs[1] = (struct blob){ (char *)"b", (unsigned char *)"GET /b\n", 7, 1 };
	fx.corpus = (struct corpus){ .blobs = fx.blobs, .n = NBLOBS };
	options_defaults(&fx.o);
	if (fn != NULL)
		fn(&fx.o);
	fx.x = expect_new(&fx.o, &fx.corpus, &fx.stats, &cause);
	ck_assert_ptr_nonnull(fx.x);
	ck_assert_int_eq(plan_whole(&fx.cut, fx.blobs[0].data, 7,
	    &fx.o.plan.turns), 0);
	free(fx.cut.sizes);
	fx.cut.sizes = calloc(2, sizeof *fx.cut.sizes);
	fx.cut.cap = 2;
	fx.cut.sizes[0] = 3;
	fx.cut.sizes[1] = 4;
	fx.cut.nfrags = fx.cut.close_after = 2;
}

/* Frees fx. */
static void
fx_free(void)
{
	expect_free(fx.x);
	plan_release(&fx.plan);
	plan_release(&fx.cut);
}

/* Ends connection (purpose, blob, index) with the answer s; plan p (NULL:
 * the last step's plan); outcome o. Returns the news. */
static enum expect_news
fx_end(enum expect_purpose purpose, size_t blob, uint64_t index,
    const struct plan *p, enum conn_outcome o, const char *s, int heard,
    struct expect_mismatch *m)
{
	struct answer		*a = answer_new(0);
	struct expect_mismatch	 scratch = { .check_json = NULL };
	struct expect_end	 end = {
		.purpose = purpose,
		.blob = blob,
		.index = index,
		.plan = p != NULL ? p : &fx.plan,
		.outcome = o,
		.answer = a,
		.heard_first = heard,
	};
	enum expect_news	 news;

	answer_add(a, s, strlen(s));
	answer_close(a);
	news = expect_done(fx.x, &end, m != NULL ? m : &scratch);
	expect_mismatch_release(&scratch);
	answer_free(a);
	return news;
}

/* Takes the next step, which must be due. */
static struct expect_step
fx_next(void)
{
	struct expect_step	s;

	ck_assert_int_eq(expect_pending(fx.x), 1);
	ck_assert_int_eq(expect_next(fx.x, &s, &fx.plan), 1);
	return s;
}

/* Runs the reference phase, every whole send answered "ok <blob>"; heard
 * of them heard bytes before sending. */
static void
fx_refs(unsigned heard)
{
	struct expect_step	steps[ANSWER_SAMPLES_DEFAULT * NBLOBS];
	size_t			n = 0;

	while (expect_pending(fx.x))
		steps[n++] = fx_next();
	ck_assert_uint_eq(n, ANSWER_SAMPLES_DEFAULT * NBLOBS);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(fx_end(EXPECT_REF, steps[i].blob,
		    steps[i].index, NULL, CONN_OUT_COMPLETED, steps[i].blob ?
		    "ok b\n" : "ok a\n", i < heard, NULL), i + 1 == n ?
		    EXPECT_REFS_TAKEN : EXPECT_QUIET);
	}
}

START_TEST(test_reference_phase)
{
	struct expect_step	s;

	fx_init(NULL);
	ck_assert_int_eq(expect_referencing(fx.x), 1);
	for (unsigned k = 0; k < ANSWER_SAMPLES_DEFAULT * NBLOBS; k++) {
		s = fx_next();
		ck_assert_int_eq(s.purpose, EXPECT_REF);
		ck_assert_uint_eq(s.blob, k % NBLOBS);
		ck_assert_uint_eq(s.index, EXPECT_INDEX_BASE + k);
		ck_assert_uint_eq(s.greet_us, EXPECT_GREET_PROBE_US);
		/* Whole: one fragment, no early close. */
		ck_assert_uint_eq(fx.plan.nfrags, 1);
		ck_assert_uint_eq(fx.plan.sizes[0], 7);
		ck_assert_uint_eq(fx.plan.close_after, 1);
	}
	/* All started: nothing more until they end. */
	ck_assert_int_eq(expect_pending(fx.x), 0);
	ck_assert_int_eq(expect_next(fx.x, &s, &fx.plan), 0);
	/* One cut short is due again, for the same blob. */
	expect_unstart(fx.x, EXPECT_REF, 1);
	s = fx_next();
	ck_assert_int_eq(s.purpose, EXPECT_REF);
	ck_assert_uint_eq(s.blob, 1);
	for (unsigned k = 0; k < ANSWER_SAMPLES_DEFAULT * NBLOBS; k++)
		ck_assert_int_eq(fx_end(EXPECT_REF, k % NBLOBS, 0, NULL,
		    CONN_OUT_COMPLETED, "ok\n", 0, NULL),
		    k + 1 == ANSWER_SAMPLES_DEFAULT * NBLOBS ?
		    EXPECT_REFS_TAKEN : EXPECT_QUIET);
	ck_assert_int_eq(expect_referencing(fx.x), 0);
	ck_assert_uint_eq(expect_unstable(fx.x), 0);
	ck_assert_uint_eq(expect_greet_us(fx.x), 0);
	ck_assert_int_eq(expect_pending(fx.x), 0);
	fx_free();
}
END_TEST

/* Collects a note of expect_refs_notes. */
static void
note_keep(void *arg, const char *text)
{
	char	**out = arg;

	free(*out);
	*out = strdup(text);
}

/* Whole sends that all failed leave a blob without a reference: unstable,
 * and the note says why. */
START_TEST(test_refs_failed)
{
	struct expect_step	steps[ANSWER_SAMPLES_DEFAULT * NBLOBS];
	size_t			n = 0;
	char			*note = NULL;

	fx_init(NULL);
	while (expect_pending(fx.x))
		steps[n++] = fx_next();
	for (size_t i = 0; i < n; i++)
		fx_end(EXPECT_REF, steps[i].blob, steps[i].index, NULL,
		    steps[i].blob ? CONN_OUT_RESET : CONN_OUT_COMPLETED,
		    "ok\n", 0, NULL);
	ck_assert_int_eq(expect_referencing(fx.x), 0);
	ck_assert_uint_eq(expect_unstable(fx.x), 1);
	expect_refs_notes(fx.x, note_keep, &note);
	ck_assert_ptr_nonnull(note);
	ck_assert_msg(strstr(note, "1 stable, 1 unstable (1 without any "
	    "answer: their whole sends failed)") != NULL, "%s", note);
	free(note);
	fx_free();
}
END_TEST

/* --turn-timeout of 50ms: shorter than the probe. */
static void
short_turns(struct options *o)
{
	o->turn_timeout_ms = 50;
}

START_TEST(test_greeting_votes)
{
	struct expect_step	s;

	/* Half the whole sends heard a greeting: not a majority. */
	fx_init(NULL);
	fx_refs(ANSWER_SAMPLES_DEFAULT * NBLOBS / 2);
	ck_assert_uint_eq(expect_greet_us(fx.x), 0);
	fx_free();
	/* One more: the server speaks first; the probe is the shorter
	 * --turn-timeout, the run waits --turn-timeout. */
	fx_init(short_turns);
	s = fx_next();
	ck_assert_uint_eq(s.greet_us, 50000);
	expect_unstart(fx.x, s.purpose, s.blob);
	fx_refs(ANSWER_SAMPLES_DEFAULT * NBLOBS / 2 + 1);
	ck_assert_uint_eq(expect_greet_us(fx.x), 50000);
	fx_free();
}
END_TEST

/* --only=5 (blob 1 of 2). */
static void
only_five(struct options *o)
{
	o->only_set = 1;
	o->only = 5;
}

START_TEST(test_only)
{
	struct expect_step	s;
	unsigned		n = 0;

	fx_init(only_five);
	while (expect_pending(fx.x)) {
		s = fx_next();
		ck_assert_uint_eq(s.blob, 1);
		n++;
	}
	ck_assert_uint_eq(n, ANSWER_SAMPLES_DEFAULT);
	for (unsigned k = 0; k < n; k++)
		fx_end(EXPECT_REF, 1, 0, NULL, CONN_OUT_COMPLETED, "ok\n", 0,
		    NULL);
	ck_assert_int_eq(expect_referencing(fx.x), 0);
	/* No refresh with --only. */
	ck_assert_int_eq(expect_refresh(fx.x), 0);
	ck_assert_int_eq(expect_pending(fx.x), 0);
	fx_free();
}
END_TEST

START_TEST(test_confirm_mismatch)
{
	struct expect_mismatch	m = { .check_json = NULL };
	struct expect_step	s;
	json_t			*j;
	json_error_t		err;

	fx_init(NULL);
	fx_refs(0);
	/* A right answer is compared, nothing more. */
	ck_assert_int_eq(fx_end(EXPECT_FUZZ, 0, 8, &fx.cut, CONN_OUT_COMPLETED,
	    "ok a\n", 0, NULL), EXPECT_QUIET);
	ck_assert_uint_eq(fx.stats.compared, 1);
	ck_assert_int_eq(expect_pending(fx.x), 0);
	/* A wrong one is a candidate: the whole blob again first. */
	fx_end(EXPECT_FUZZ, 0, 10, &fx.cut, CONN_OUT_COMPLETED, "bad\n", 0, NULL);
	ck_assert_uint_eq(fx.stats.candidates, 1);
	/* Another on the same blob meanwhile is only counted. */
	fx_end(EXPECT_FUZZ, 0, 12, &fx.cut, CONN_OUT_COMPLETED, "bad\n", 0, NULL);
	ck_assert_uint_eq(fx.stats.candidates, 2);
	s = fx_next();
	ck_assert_int_eq(s.purpose, EXPECT_WHOLE);
	ck_assert_uint_eq(s.blob, 0);
	/* A whole send has an index of its own (conn=whole in its lines). */
	ck_assert_uint_ge(s.index, EXPECT_INDEX_BASE);
	ck_assert_uint_eq(fx.plan.nfrags, 1);
	ck_assert_int_eq(expect_pending(fx.x), 0);
	/* Dropped unfinished: due again. */
	expect_unstart(fx.x, s.purpose, s.blob);
	s = fx_next();
	ck_assert_int_eq(s.purpose, EXPECT_WHOLE);
	ck_assert_int_eq(fx_end(s.purpose, s.blob, s.index, NULL,
	    CONN_OUT_COMPLETED, "ok a\n", 0, NULL), EXPECT_QUIET);
	/* Then the same cut again. */
	s = fx_next();
	ck_assert_int_eq(s.purpose, EXPECT_RECUT);
	ck_assert_uint_eq(s.index, 10);
	ck_assert_uint_eq(fx.plan.nfrags, 2);
	ck_assert_uint_eq(fx.plan.sizes[0], 3);
	ck_assert_uint_eq(fx.plan.sizes[1], 4);
	ck_assert_int_eq(fx_end(s.purpose, s.blob, s.index, NULL,
	    CONN_OUT_COMPLETED, "bad\n", 0, &m), EXPECT_MISMATCH);
	ck_assert_ptr_nonnull(strstr(m.account, "expected"));
	j = json_loads(m.check_json, 0, &err);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "expected")),
	    "ok a\\n");
	ck_assert_str_eq(json_string_value(json_object_get(j, "got")),
	    "bad\\n");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "samples")),
	    ANSWER_SAMPLES_DEFAULT);
	json_decref(j);
	expect_mismatch_release(&m);
	ck_assert_ptr_null(m.check_json);
	ck_assert_int_eq(expect_pending(fx.x), 0);
	fx_free();
}
END_TEST

START_TEST(test_confirm_quiet)
{
	struct expect_step	s;

	fx_init(NULL);
	fx_refs(0);
	/* The cut answers right the second time: unconfirmed. */
	fx_end(EXPECT_FUZZ, 1, 3, &fx.cut, CONN_OUT_COMPLETED, "bad\n", 0, NULL);
	s = fx_next();
	fx_end(s.purpose, s.blob, s.index, NULL, CONN_OUT_COMPLETED, "ok b\n", 0,
	    NULL);
	s = fx_next();
	ck_assert_int_eq(fx_end(s.purpose, s.blob, s.index, NULL,
	    CONN_OUT_COMPLETED, "ok b\n", 0, NULL), EXPECT_QUIET);
	ck_assert_uint_eq(fx.stats.unconfirmed, 1);
	/* A step that ends in a fault judges nothing: dropped. */
	fx_end(EXPECT_FUZZ, 1, 5, &fx.cut, CONN_OUT_COMPLETED, "bad\n", 0, NULL);
	s = fx_next();
	ck_assert_int_eq(fx_end(s.purpose, s.blob, s.index, NULL,
	    CONN_OUT_RESET, "", 0, NULL), EXPECT_QUIET);
	ck_assert_uint_eq(fx.stats.unconfirmed, 2);
	ck_assert_int_eq(expect_pending(fx.x), 0);
	/* An early close, or a fault, is not compared at all. */
	fx.cut.close_after = 1;
	fx_end(EXPECT_FUZZ, 1, 7, &fx.cut, CONN_OUT_EARLY_CLOSE, "", 0, NULL);
	fx.cut.close_after = 2;
	fx_end(EXPECT_FUZZ, 1, 9, &fx.cut, CONN_OUT_RESET, "", 0, NULL);
	ck_assert_uint_eq(fx.stats.compared, 2);
	ck_assert_int_eq(expect_pending(fx.x), 0);
	fx_free();
}
END_TEST

START_TEST(test_refresh)
{
	struct expect_step	s;

	fx_init(NULL);
	/* Not during the reference phase. */
	ck_assert_int_eq(expect_refresh(fx.x), 0);
	fx_refs(0);
	ck_assert_int_eq(expect_refresh(fx.x), 1);
	/* Each blob once, the last first, on indexes of whole sends. */
	s = fx_next();
	ck_assert_int_eq(s.purpose, EXPECT_REFRESH);
	ck_assert_uint_eq(s.blob, 1);
	ck_assert_uint_ge(s.index, EXPECT_INDEX_BASE);
	expect_unstart(fx.x, s.purpose, s.blob);
	s = fx_next();
	ck_assert_uint_eq(s.blob, 1);
	/* The server's answer drifted: the reference learns it... */
	fx_end(s.purpose, s.blob, s.index, NULL, CONN_OUT_COMPLETED, "ok c\n", 0,
	    NULL);
	s = fx_next();
	ck_assert_int_eq(s.purpose, EXPECT_REFRESH);
	ck_assert_uint_eq(s.blob, 0);
	ck_assert_int_eq(expect_pending(fx.x), 0);
	/* ... so a cut answered the new way is no candidate. */
	fx_end(EXPECT_FUZZ, 1, 3, &fx.cut, CONN_OUT_COMPLETED, "ok c\n", 0, NULL);
	ck_assert_uint_eq(fx.stats.compared, 1);
	ck_assert_uint_eq(fx.stats.candidates, 0);
	fx_free();
}
END_TEST

/* --check=1/3 and a bad mask. */
static void
one_in_three(struct options *o)
{
	o->check_every = 3;
}

START_TEST(test_sampling_and_masks)
{
	struct options	 o;
	char		*cause = NULL;

	fx_init(one_in_three);
	ck_assert_int_eq(expect_compares(fx.x, 3), 1);
	ck_assert_int_eq(expect_compares(fx.x, 4), 0);
	fx_free();
	options_defaults(&o);
	o.masks[0] = "x(";
	o.nmasks = 1;
	ck_assert_ptr_null(expect_new(&o, &fx.corpus, &fx.stats, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "--mask"));
	free(cause);
	expect_free(NULL);
	ck_assert_str_eq(expect_purpose_name(EXPECT_RECUT), "recut");
	ck_assert_ptr_null(expect_purpose_name(EXPECT__COUNT));
}
END_TEST

Suite *
expect_suite(void)
{
	Suite	*s = suite_create("expect");
	TCase	*tc = tcase_create("expect");

	tcase_add_test(tc, test_reference_phase);
	tcase_add_test(tc, test_refs_failed);
	tcase_add_test(tc, test_greeting_votes);
	tcase_add_test(tc, test_only);
	tcase_add_test(tc, test_confirm_mismatch);
	tcase_add_test(tc, test_confirm_quiet);
	tcase_add_test(tc, test_refresh);
	tcase_add_test(tc, test_sampling_and_masks);
	suite_add_tcase(s, tc);
	return s;
}
