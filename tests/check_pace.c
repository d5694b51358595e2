/* Unit tests: the pure pacing decisions and stall arithmetic. */
#include <check.h>
#include <stdint.h>

#include "check_suites.h"
#include "pace.h"

/* One decision: the pacer's input, the sign, what it must answer. */
struct decide_case {
	enum pace_mode		mode;
	uint64_t		now_us, last_send_us, hang_us;
	unsigned		polls;
	uint64_t		read_us;
	enum pace_sign		sign;
	enum pace_action	want;
	uint64_t		want_wait_us;
};

static const struct decide_case decide_cases[] = {
	/* No look yet: ask, in every mode. */
	{ PACE_READ, 100, 0, 0, 0, 0, PACE_SIGN_NONE, PACE_DO_ASK, 0 },
	{ PACE_ACK, 100, 0, 0, 0, 0, PACE_SIGN_NONE, PACE_DO_ASK, 0 },
	{ PACE_CYCLE, 100, 0, 0, 0, 0, PACE_SIGN_NONE, PACE_DO_ASK, 0 },
	/* Read (acked): send; the server's end gone: send and see. */
	{ PACE_READ, 100, 0, 1000, 0, 0, PACE_SIGN_DONE, PACE_DO_SEND, 0 },
	{ PACE_ACK, 100, 0, 1000, 0, 0, PACE_SIGN_DONE, PACE_DO_SEND, 0 },
	{ PACE_READ, 100, 0, 1000, 0, 0, PACE_SIGN_GONE, PACE_DO_SEND, 0 },
	/* Done wins even past the hang timeout. */
	{ PACE_READ, 5000, 0, 1000, 0, 0, PACE_SIGN_DONE, PACE_DO_SEND, 0 },
	/* Pending, ack: 200 us doubling per poll, at most 20 ms. */
	{ PACE_ACK, 100, 0, 0, 0, 0, PACE_SIGN_PENDING, PACE_DO_RETRY, 200 },
	{ PACE_ACK, 100, 0, 0, 3, 0, PACE_SIGN_PENDING, PACE_DO_RETRY, 1600 },
	{ PACE_ACK, 100, 0, 0, 40, 0, PACE_SIGN_PENDING, PACE_DO_RETRY, 20000 },
	/* Pending, read, no mean yet: 20 us first. */
	{ PACE_READ, 100, 0, 0, 0, 0, PACE_SIGN_PENDING, PACE_DO_RETRY, 20 },
	{ PACE_READ, 100, 0, 0, 2, 0, PACE_SIGN_PENDING, PACE_DO_RETRY, 80 },
	/* ... backing off to 2 ms for a fast reader. */
	{ PACE_READ, 100, 0, 0, 30, 0, PACE_SIGN_PENDING, PACE_DO_RETRY, 2000 },
	/* A slow reader (mean 40 ms): first 2 ms (1/8 clamped), at most 10 ms. */
	{ PACE_READ, 100, 0, 0, 0, 40000, PACE_SIGN_PENDING, PACE_DO_RETRY, 2000 },
	{ PACE_READ, 100, 0, 0, 9, 40000, PACE_SIGN_PENDING, PACE_DO_RETRY, 10000 },
	/* A very slow reader: at most 20 ms. */
	{ PACE_READ, 100, 0, 0, 9, 900000, PACE_SIGN_PENDING, PACE_DO_RETRY, 20000 },
	/* A mean of 800 us: first 100 us. */
	{ PACE_READ, 100, 0, 0, 0, 800, PACE_SIGN_PENDING, PACE_DO_RETRY, 100 },
	/* Cycle pacing waits for the tick. */
	{ PACE_CYCLE, 100, 0, 0, 0, 0, PACE_SIGN_PENDING, PACE_DO_TICK, 0 },
	/* Pending for the hang timeout: a hang, in every mode; not before. */
	{ PACE_READ, 1999, 1000, 1000, 0, 0, PACE_SIGN_PENDING, PACE_DO_RETRY, 20 },
	{ PACE_READ, 2000, 1000, 1000, 0, 0, PACE_SIGN_PENDING, PACE_DO_HANG, 0 },
	{ PACE_ACK, 2000, 1000, 1000, 0, 0, PACE_SIGN_PENDING, PACE_DO_HANG, 0 },
	{ PACE_CYCLE, 9000, 1000, 1000, 0, 0, PACE_SIGN_PENDING, PACE_DO_HANG, 0 },
	/* No hang timeout: never a hang. */
	{ PACE_ACK, UINT64_MAX, 0, 0, 0, 0, PACE_SIGN_PENDING, PACE_DO_RETRY, 200 },
	/* A clock that went back (last send in the future): no hang. */
	{ PACE_ACK, 10, 1000, 5, 0, 0, PACE_SIGN_PENDING, PACE_DO_RETRY, 200 },
};

START_TEST(test_pace_decide)
{
	const struct decide_case	*t = &decide_cases[_i];
	struct pace_in			 in = {
		.mode = t->mode,
		.now_us = t->now_us,
		.last_send_us = t->last_send_us,
		.hang_us = t->hang_us,
		.polls = t->polls,
		.read_us = t->read_us,
	};
	uint64_t			 wait = 12345;
	enum pace_action		 got = pace_decide(&in, t->sign, &wait);

	ck_assert_msg(got == t->want, "case %d: %s, wanted %s", _i,
	    pace_action_name(got), pace_action_name(t->want));
	ck_assert_uint_eq(wait, t->want_wait_us);
}
END_TEST

START_TEST(test_pace_read_mean)
{
	ck_assert_uint_eq(pace_read_mean(0, 800), 800);
	ck_assert_uint_eq(pace_read_mean(800, 800), 800);
	ck_assert_uint_eq(pace_read_mean(800, 1600), 900);
	ck_assert_uint_eq(pace_read_mean(8000, 0), 7000);
}
END_TEST

START_TEST(test_pace_progress)
{
	uint64_t	r = 0;

	/* 10 received, 4 unread: 6 read, which is progress from 0. */
	ck_assert_int_eq(pace_progress(0, 10, 4, &r), 1);
	ck_assert_uint_eq(r, 6);
	/* The same again: none. More arrived, none read: none. */
	ck_assert_int_eq(pace_progress(6, 10, 4, &r), 0);
	ck_assert_int_eq(pace_progress(6, 20, 14, &r), 0);
	ck_assert_uint_eq(r, 6);
	/* Read 4 more. */
	ck_assert_int_eq(pace_progress(6, 20, 10, &r), 1);
	ck_assert_uint_eq(r, 10);
	/* A reply that says less than before (an older one): none, and
	 * what was known stays. */
	ck_assert_int_eq(pace_progress(10, 8, 0, &r), 0);
	ck_assert_uint_eq(r, 10);
	/* A queue longer than what arrived (never, but not an underflow). */
	ck_assert_int_eq(pace_progress(0, 3, 9, &r), 0);
	ck_assert_uint_eq(r, 0);
}
END_TEST

START_TEST(test_pace_outq_progress)
{
	/* SIOCOUTQ fell: the server read a whole send. */
	ck_assert_int_eq(pace_outq_progress(1536, 768, 1), 1);
	/* 0 with data unread at the last look: it read the rest. */
	ck_assert_int_eq(pace_outq_progress(768, 0, 1), 1);
	ck_assert_int_eq(pace_outq_progress(0, 0, 1), 1);	/* sent, read at once */
	/* Risen by a send, or the same (a partial read keeps it): none. */
	ck_assert_int_eq(pace_outq_progress(0, 768, 1), 0);
	ck_assert_int_eq(pace_outq_progress(768, 768, 1), 0);
	/* 0 again with nothing new sent: nothing read since. */
	ck_assert_int_eq(pace_outq_progress(0, 0, 0), 0);
}
END_TEST

START_TEST(test_pace_stalled)
{
	uint64_t	wait = 0;

	/* Progress 1 s ago, timeout 5 s: look again in 4 s. */
	ck_assert_int_eq(pace_stalled(10000000, 9000000, 5000000, &wait), 0);
	ck_assert_uint_eq(wait, 4000000);
	/* Quiet for exactly the timeout: look for unread data. */
	ck_assert_int_eq(pace_stalled(14000000, 9000000, 5000000, &wait), 1);
	ck_assert_uint_eq(wait, 5000000);
	ck_assert_int_eq(pace_stalled(99000000, 9000000, 5000000, &wait), 1);
	/* Progress newer than now (clock skew between readers): not quiet. */
	ck_assert_int_eq(pace_stalled(1000, 9000, 5000, &wait), 0);
	ck_assert_uint_eq(wait, 5000);
}
END_TEST

START_TEST(test_pace_names)
{
	for (int a = 0; a < PACE_DO__COUNT; a++)
		ck_assert_str_ne(pace_action_name((enum pace_action)a),
		    "unknown");
	for (int s = 0; s < PACE_SIGN__COUNT; s++)
		ck_assert_str_ne(pace_sign_name((enum pace_sign)s), "unknown");
	ck_assert_str_eq(pace_action_name(PACE_DO__COUNT), "unknown");
	ck_assert_str_eq(pace_sign_name(PACE_SIGN__COUNT), "unknown");
}
END_TEST

Suite *
pace_suite(void)
{
	Suite	*s = suite_create("pace");
	TCase	*tc = tcase_create("decisions");

	tcase_add_loop_test(tc, test_pace_decide, 0,
	    (int)(sizeof decide_cases / sizeof decide_cases[0]));
	tcase_add_test(tc, test_pace_read_mean);
	tcase_add_test(tc, test_pace_progress);
	tcase_add_test(tc, test_pace_outq_progress);
	tcase_add_test(tc, test_pace_stalled);
	tcase_add_test(tc, test_pace_names);
	suite_add_tcase(s, tc);
	return s;
}
