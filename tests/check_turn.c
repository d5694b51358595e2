/* Unit tests: turn rules, escapes, and plans with turns. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "plan.h"
#include "turn.h"

static const unsigned char smtp[] = "HELO client\r\nMAIL FROM:<a@b.example>"
    "\r\nRCPT TO:<c@d.example>\r\nNOOP\r\nQUIT\r\n";
#define SMTP_LEN	(sizeof smtp - 1)

static const enum plan_split splits[] = { PLAN_SPLIT_UNIFORM,
    PLAN_SPLIT_SMALL, PLAN_SPLIT_BYTEWISE, PLAN_SPLIT_DELIMITER,
    PLAN_SPLIT_SWEEP, PLAN_SPLIT_MIX };

/* A CRLF turn rule. */
static struct turn_spec
crlf(void)
{
	struct turn_spec	t;
	char			*cause = NULL;

	ck_assert_int_eq(turn_parse("\\r\\n", &t, &cause), 0);
	return t;
}

START_TEST(test_unescape)
{
	static const struct {
		const char	*in;
		const char	*want;		/* NULL: an error */
		size_t		 len;
		const char	*why;
	} cases[] = {
		{ "\\r\\n", "\r\n", 2, NULL },
		{ "ab", "ab", 2, NULL },
		{ "\\x00\\x7f", "\0\x7f", 2, NULL },
		{ "\\x4", "\x04", 1, NULL },
		{ "\\101\\0", "A\0", 2, NULL },
		{ "\\t\\\\\\\"\\e", "\t\\\"\033", 4, NULL },
		{ "\\q", NULL, 0, "bad escape '\\q' at byte 1" },
		{ "ab\\", NULL, 0, "bad escape '\\' at byte 3" },
		{ "\\xg", NULL, 0, "bad escape '\\x' at byte 1" },
		{ "\\777", NULL, 0, "bad escape '\\7' at byte 1" },
	};
	unsigned char	out[TURN_DELIM_MAX];
	size_t		len;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char	*cause = NULL;
		int	 rc = turn_unescape(cases[i].in, out, sizeof out, &len,
			    &cause);

		if (cases[i].want == NULL) {
			ck_assert_int_eq(rc, -1);
			ck_assert_str_eq(cause, cases[i].why);
			free(cause);
			continue;
		}
		ck_assert_msg(rc == 0, "case %zu: %s", i, cause);
		ck_assert_uint_eq(len, cases[i].len);
		ck_assert_mem_eq(out, cases[i].want, len);
	}
}
END_TEST

START_TEST(test_parse)
{
	struct turn_spec	t;
	char			*cause = NULL;
	char			 big[3 * TURN_DELIM_MAX];

	t = crlf();
	ck_assert_int_eq(t.rule, TURN_DELIM);
	ck_assert_uint_eq(t.delim_len, 2);
	ck_assert_int_eq(turn_parse("", &t, &cause), -1);
	ck_assert_str_eq(cause, "--turns '': empty delimiter");
	free(cause);
	ck_assert_int_eq(turn_parse("x\\z", &t, &cause), -1);
	ck_assert_str_eq(cause, "--turns 'x\\z': bad escape '\\z' at byte 2");
	free(cause);
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ck_assert_int_eq(turn_parse(big, &t, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "longer than 32 bytes"));
	free(cause);
	ck_assert_str_eq(turn_rule_name(TURN_NONE), "none");
	ck_assert_str_eq(turn_rule_name(TURN_DELIM), "delim");
	ck_assert_ptr_null(turn_rule_name(TURN__COUNT));
}
END_TEST

START_TEST(test_messages)
{
	struct turn_spec	t = crlf(), none = { .rule = TURN_NONE };
	const unsigned char	*d = (const unsigned char *)"A\r\nBB\r\n\r\nC";

	ck_assert_uint_eq(turn_message_end(&t, d, 10, 0), 3);
	ck_assert_uint_eq(turn_message_end(&t, d, 10, 3), 7);
	ck_assert_uint_eq(turn_message_end(&t, d, 10, 7), 9);
	ck_assert_uint_eq(turn_message_end(&t, d, 10, 9), 10);
	ck_assert_uint_eq(turn_message_end(&t, d, 10, 10), 10);
	ck_assert_uint_eq(turn_count(&t, d, 10), 4);
	ck_assert_uint_eq(turn_count(&t, d, 9), 3);
	/* A delimiter cut off by the blob's end is no delimiter. */
	ck_assert_uint_eq(turn_message_end(&t, d, 2, 0), 2);
	ck_assert_uint_eq(turn_count(&t, d, 0), 0);
	ck_assert_uint_eq(turn_count(&none, d, 10), 1);
	ck_assert_uint_eq(turn_count(&t, smtp, SMTP_LEN), 5);
}
END_TEST

/* Plans without turns are what they were before turns existed: a digest
 * of 7,200 plans taken from the code before the change. */
START_TEST(test_no_turns_unchanged)
{
	static unsigned char	text[5000];
	static const char	line[] = "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: "
				    "x\r\n\r\n";
	uint64_t		h = 0xcbf29ce484222325ULL;
	struct plan		p = { 0 };

	for (size_t i = 0; i < sizeof text; i++)
		text[i] = (unsigned char)line[i % (sizeof line - 1)];
	for (int s = 0; s < PLAN_SPLIT__COUNT; s++)
	for (unsigned mx = 0; mx < 3; mx++)
	for (uint64_t i = 0; i < 300; i++) {
		struct plan_params	pp = { .split = (enum plan_split)s,
		    .fastopen_chance = 3, .close_chance = 7,
		    .max_fragments = mx == 0 ? 0 : mx == 1 ? 5 : 40,
		    .turns = { .rule = TURN_NONE } };
		uint32_t		v[3];

		ck_assert_int_eq(plan_make(&p, 99 + (uint64_t)s, i, i / 3, text,
		    1 + (i * 37) % 700, &pp), 0);
		ck_assert_uint_eq(p.nturns, 0);
		v[0] = p.nfrags;
		v[1] = p.close_after;
		v[2] = (uint32_t)p.fastopen;
		for (unsigned k = 0; k < 3; k++)
			h = (h ^ v[k]) * 0x100000001b3ULL;
		for (uint32_t k = 0; k < p.nfrags; k++)
			h = (h ^ p.sizes[k]) * 0x100000001b3ULL;
	}
	ck_assert_uint_eq(h, 0xd8573b47c5d5ff70ULL);
	plan_release(&p);
}
END_TEST

/* Checks the turns of p over smtp: every message end is a fragment
 * boundary noted in turn_ends, and nothing else is noted. Returns the
 * cuts inside messages. */
static unsigned
check_turns(const struct plan *p, const struct turn_spec *t)
{
	size_t		at = 0, sum = 0, msg = turn_message_end(t, smtp,
			    SMTP_LEN, 0);
	uint32_t	m = 0;
	unsigned	inside = 0;

	ck_assert_uint_eq(p->nturns, turn_count(t, smtp, SMTP_LEN));
	ck_assert_uint_eq(p->turn_ends[p->nturns - 1], p->nfrags);
	for (uint32_t k = 0; k < p->nfrags; k++) {
		ck_assert_uint_ge(p->sizes[k], 1);
		sum += p->sizes[k];
		ck_assert_uint_le(sum, msg);
		if (sum == msg) {
			ck_assert_uint_eq(p->turn_ends[m++], k + 1);
			ck_assert_int_eq(plan_turn_after(p, k), 1);
			at = msg;
			msg = turn_message_end(t, smtp, SMTP_LEN, at);
		} else {
			ck_assert_int_eq(plan_turn_after(p, k), 0);
			inside++;
		}
	}
	ck_assert_uint_eq(sum, SMTP_LEN);
	ck_assert_uint_eq(m, p->nturns);
	return inside;
}

START_TEST(test_plans_with_turns)
{
	enum plan_split		split = splits[_i];
	struct turn_spec	t = crlf();
	struct plan_params	pp = { .split = split, .fastopen_chance = 0,
				    .close_chance = 50, .turns = t };
	struct plan		p = { 0 }, q = { 0 };
	unsigned		inside = 0;

	for (uint64_t i = 0; i < 400; i++) {
		ck_assert_int_eq(plan_make(&p, 5, i, i, smtp, SMTP_LEN, &pp),
		    0);
		inside += check_turns(&p, &t);
		ck_assert_uint_le(p.close_after, p.nfrags);
		/* A pure function of (seed, index, visit, blob, turns). */
		ck_assert_int_eq(plan_make(&q, 5, i, i, smtp, SMTP_LEN, &pp),
		    0);
		ck_assert_uint_eq(q.nfrags, p.nfrags);
		ck_assert_mem_eq(q.sizes, p.sizes, p.nfrags * sizeof *p.sizes);
		ck_assert_mem_eq(q.turn_ends, p.turn_ends,
		    p.nturns * sizeof *p.turn_ends);
	}
	/* Cuts fall inside messages, not only at their ends. */
	ck_assert_uint_gt(inside, 400);
	/* A bound holds per message. */
	pp.max_fragments = 2;
	for (uint64_t i = 0; i < 100; i++) {
		ck_assert_int_eq(plan_make(&p, 5, i, i, smtp, SMTP_LEN, &pp),
		    0);
		check_turns(&p, &t);
		ck_assert_uint_le(p.nfrags, 2 * p.nturns);
	}
	plan_release(&p);
	plan_release(&q);
}
END_TEST

START_TEST(test_turns_copy_and_reuse)
{
	struct turn_spec	t = crlf();
	struct plan_params	pp = { .split = PLAN_SPLIT_BYTEWISE,
				    .turns = t };
	struct plan		p = { 0 }, q = { 0 };

	ck_assert_int_eq(plan_make(&p, 1, 1, 1, smtp, SMTP_LEN, &pp), 0);
	ck_assert_uint_eq(p.nfrags, SMTP_LEN);
	ck_assert_uint_eq(p.nturns, 5);
	ck_assert_uint_eq(p.turn_ends[0], 13);	/* "HELO client\r\n" */
	ck_assert_int_eq(plan_copy(&q, &p), 0);
	ck_assert_ptr_ne(q.turn_ends, p.turn_ends);
	ck_assert_uint_eq(q.nturns, 5);
	ck_assert_mem_eq(q.turn_ends, p.turn_ends, 5 * sizeof *p.turn_ends);
	check_turns(&q, &t);
	/* The same buffers without turns: none left over. */
	pp.turns.rule = TURN_NONE;
	ck_assert_int_eq(plan_make(&p, 1, 1, 1, smtp, SMTP_LEN, &pp), 0);
	ck_assert_uint_eq(p.nturns, 0);
	ck_assert_int_eq(plan_turn_after(&p, 12), 0);
	ck_assert_int_eq(plan_copy(&q, &p), 0);
	ck_assert_uint_eq(q.nturns, 0);
	/* An empty blob has no message. */
	pp.turns = t;
	ck_assert_int_eq(plan_make(&p, 1, 1, 1, smtp, 0, &pp), 0);
	ck_assert_uint_eq(p.nturns, 0);
	ck_assert_uint_eq(p.nfrags, 0);
	plan_release(&p);
	plan_release(&q);
	plan_release(NULL);
}
END_TEST

Suite *
turn_suite(void)
{
	Suite	*s = suite_create("turn");
	TCase	*tc = tcase_create("turn");

	tcase_add_test(tc, test_unescape);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_messages);
	tcase_add_test(tc, test_no_turns_unchanged);
	tcase_add_loop_test(tc, test_plans_with_turns, 0,
	    (int)(sizeof splits / sizeof splits[0]));
	tcase_add_test(tc, test_turns_copy_and_reuse);
	suite_add_tcase(s, tc);
	return s;
}
