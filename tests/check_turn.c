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

/* A length rule parsed from text (the test fails if it does not parse). */
static struct turn_spec
lenrule(const char *arg)
{
	struct turn_spec	t;
	char			*cause = NULL;

	ck_assert_msg(turn_parse(arg, &t, &cause) == 0, "%s: %s", arg, cause);
	return t;
}

START_TEST(test_parse_len)
{
	static const struct {
		const char	*arg;
		const char	*why;		/* NULL: parses */
		size_t		 offset;
		unsigned	 width;
		int		 le, all;
		long long	 adjust;
	} cases[] = {
		{ "len:0:2", NULL, 0, 2, 0, 0, 0 },
		{ "len:0:4:le:+4", NULL, 0, 4, 1, 0, 4 },
		{ "len:3:1", NULL, 3, 1, 0, 0, 0 },
		{ "len:2:8:be:all", NULL, 2, 8, 0, 1, 0 },
		{ "len:0:2:all:-2", NULL, 0, 2, 0, 1, -2 },
		{ "len:0:4:-1:all:le", NULL, 0, 4, 1, 1, -1 },
		{ "len:65535:2:+0", NULL, 65535, 2, 0, 0, 0 },
		{ "len:007:02", NULL, 7, 2, 0, 0, 0 },
		{ "len:0:2:+2147483647", NULL, 0, 2, 0, 0, 2147483647LL },
		{ "len:0:2:-2147483647", NULL, 0, 2, 0, 0, -2147483647LL },
		{ "len:", "--turns 'len:': offset '' is not a number from 0 to "
		    "65535", 0, 0, 0, 0, 0 },
		{ "len:0", "--turns 'len:0': a length rule is "
		    "len:OFFSET:WIDTH[:be|:le][:all][:+N|:-N]", 0, 0, 0, 0, 0 },
		{ "len:-1:2", "--turns 'len:-1:2': offset '-1' is not a number "
		    "from 0 to 65535", 0, 0, 0, 0, 0 },
		{ "len:65536:2", "--turns 'len:65536:2': offset '65536' is not "
		    "a number from 0 to 65535", 0, 0, 0, 0, 0 },
		{ "len:99999999999999999999999:2", "--turns "
		    "'len:99999999999999999999999:2': offset "
		    "'99999999999999999999999' is not a number from 0 to 65535",
		    0, 0, 0, 0, 0 },
		{ "len:0x10:2", "--turns 'len:0x10:2': offset '0x10' is not a "
		    "number from 0 to 65535", 0, 0, 0, 0, 0 },
		{ "len:0:3", "--turns 'len:0:3': width '3' is not 1, 2, 4 or 8",
		    0, 0, 0, 0, 0 },
		{ "len:0:0", "--turns 'len:0:0': width '0' is not 1, 2, 4 or 8",
		    0, 0, 0, 0, 0 },
		{ "len:0:16", "--turns 'len:0:16': width '16' is not 1, 2, 4 or "
		    "8", 0, 0, 0, 0, 0 },
		{ "len:0:", "--turns 'len:0:': width '' is not 1, 2, 4 or 8",
		    0, 0, 0, 0, 0 },
		{ "len:0:2:", "--turns 'len:0:2:': '' is not be, le, all or an "
		    "adjustment (+N, -N)", 0, 0, 0, 0, 0 },
		{ "len:0:2:BE", "--turns 'len:0:2:BE': 'BE' is not be, le, all or "
		    "an adjustment (+N, -N)", 0, 0, 0, 0, 0 },
		{ "len:0:2:be:le", "--turns 'len:0:2:be:le': byte order given "
		    "twice", 0, 0, 0, 0, 0 },
		{ "len:0:2:all:all", "--turns 'len:0:2:all:all': 'all' given "
		    "twice", 0, 0, 0, 0, 0 },
		{ "len:0:2:+1:-1", "--turns 'len:0:2:+1:-1': adjustment given "
		    "twice", 0, 0, 0, 0, 0 },
		{ "len:0:2:+", "--turns 'len:0:2:+': adjustment '+' is not +N or "
		    "-N with N from 0 to 2147483647", 0, 0, 0, 0, 0 },
		{ "len:0:2:+2147483648", "--turns 'len:0:2:+2147483648': "
		    "adjustment '+2147483648' is not +N or -N with N from 0 to "
		    "2147483647", 0, 0, 0, 0, 0 },
		{ "len:0:2:-1x", "--turns 'len:0:2:-1x': adjustment '-1x' is not "
		    "+N or -N with N from 0 to 2147483647", 0, 0, 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct turn_spec	t;
		char			*cause = NULL;
		int			 rc = turn_parse(cases[i].arg, &t, &cause);

		if (cases[i].why != NULL) {
			ck_assert_msg(rc == -1, "%s parsed", cases[i].arg);
			ck_assert_str_eq(cause, cases[i].why);
			free(cause);
			continue;
		}
		ck_assert_msg(rc == 0, "%s: %s", cases[i].arg, cause);
		ck_assert_int_eq(t.rule, TURN_LEN);
		ck_assert_uint_eq(t.len_offset, cases[i].offset);
		ck_assert_uint_eq(t.len_width, cases[i].width);
		ck_assert_int_eq(t.len_le, cases[i].le);
		ck_assert_int_eq(t.len_all, cases[i].all);
		ck_assert_int_eq(t.len_adjust, cases[i].adjust);
	}
	/* A delimiter that starts with "len:" is written with an escape; one
	 * that only looks alike stays a delimiter. */
	static const struct {
		const char	*arg, *delim;
	} delims[] = {
		{ "\\x6cen:", "len:" }, { "\\154en:0:2", "len:0:2" },
		{ "len", "len" }, { "LEN:0:2", "LEN:0:2" }, { "le:", "le:" },
	};
	for (size_t i = 0; i < sizeof delims / sizeof delims[0]; i++) {
		struct turn_spec	t;
		char			*cause = NULL;

		ck_assert_int_eq(turn_parse(delims[i].arg, &t, &cause), 0);
		ck_assert_int_eq(t.rule, TURN_DELIM);
		ck_assert_uint_eq(t.delim_len, strlen(delims[i].delim));
		ck_assert_mem_eq(t.delim, delims[i].delim, t.delim_len);
	}
	ck_assert_str_eq(turn_rule_name(TURN_LEN), "len");
}
END_TEST

START_TEST(test_messages_len)
{
	static const struct {
		const char	*rule;
		const char	*data;		/* bytes, as a C string */
		size_t		 len;
		size_t		 from;
		size_t		 end;		/* turn_message_end */
		size_t		 count;		/* turn_count from 0 */
	} cases[] = {
		/* corpus-samples/lenprefix: three frames. */
		{ "len:0:2", "\0\6\1hello\0\6\1world\0\1\2", 19, 0, 8, 3 },
		{ "len:0:2", "\0\6\1hello\0\6\1world\0\1\2", 19, 8, 16, 3 },
		{ "len:0:2", "\0\6\1hello\0\6\1world\0\1\2", 19, 16, 19, 3 },
		{ "len:0:2", "\0\6\1hello\0\6\1world\0\1\2", 19, 19, 19, 3 },
		/* A length of 0: the header alone. */
		{ "len:0:2", "\0\0\0\0\0\1x", 7, 0, 2, 3 },
		{ "len:0:2", "\0\0\0\0\0\1x", 7, 2, 4, 3 },
		/* The length field cut off by the blob's end. */
		{ "len:0:2", "\0", 1, 0, 1, 1 },
		{ "len:0:2", "\0\1x\0", 4, 3, 4, 2 },
		{ "len:4:2", "abcd\0", 5, 0, 5, 1 },
		/* A truncated last frame: the rest is one message. */
		{ "len:0:2", "\0\1x\0\11abc", 8, 3, 8, 2 },
		{ "len:0:2", "\1\1\4BB", 5, 0, 5, 1 },
		/* Exactly the blob. */
		{ "len:0:2", "\0\3abc", 5, 0, 5, 1 },
		/* Little-endian, with an adjustment (a 4-byte trailer). */
		{ "len:0:4:le:+4", "\2\0\0\0abCRC!\2\0\0\0yzCRC!", 20, 0, 10, 2 },
		{ "len:0:4:le:+4", "\2\0\0\0abCRC!\2\0\0\0yzCRC!", 20, 10, 20, 2 },
		/* The field at an offset: a type byte, then the length. */
		{ "len:1:2", "T\0\2abU\0\0V\0\1c", 12, 0, 5, 3 },
		{ "len:1:2", "T\0\2abU\0\0V\0\1c", 12, 5, 8, 3 },
		/* The length counts the whole message, header included. */
		{ "len:0:1:all", "\3ab\2c\1", 6, 0, 3, 3 },
		{ "len:0:1:all", "\3ab\2c\1", 6, 3, 5, 3 },
		{ "len:0:1:all", "\3ab\2c\1", 6, 5, 6, 3 },
		/* A declared size smaller than the header: the rest. */
		{ "len:0:1:all", "\0abc", 4, 0, 4, 1 },
		{ "len:0:2:all", "\0\1abc", 5, 0, 5, 1 },
		{ "len:2:2:all", "ab\0\3cd", 6, 0, 6, 1 },
		{ "len:0:2:-3", "\0\1abc", 5, 0, 5, 1 },
		{ "len:0:2:-3", "\0\4abcd", 6, 0, 3, 2 },
		/* Hostile 8-byte lengths: 2^64-1, and sums past 2^64. */
		{ "len:0:8", "\377\377\377\377\377\377\377\377ab", 10, 0, 10, 1 },
		{ "len:0:8:le", "\377\377\377\377\377\377\377\377ab", 10, 0, 10,
		    1 },
		{ "len:0:8:all:+2147483647", "\377\377\377\377\377\377\377\377ab",
		    10, 0, 10, 1 },
		{ "len:0:8:all:-2147483647", "\377\377\377\377\377\377\377\377ab",
		    10, 0, 10, 1 },
		{ "len:0:8", "\377\377\377\377\377\377\377\376ab", 10, 0, 10, 1 },
		{ "len:0:8", "\200\0\0\0\0\0\0\0ab", 10, 0, 10, 1 },
		{ "len:0:8:all", "\0\0\0\0\0\0\0\12ab\0\0\0\0\0\0\0\10", 18, 0, 10,
		    2 },
		{ "len:0:8:all", "\0\0\0\0\0\0\0\12ab\0\0\0\0\0\0\0\10", 18, 10,
		    18, 2 },
		{ "len:0:4", "\377\377\377\377x", 5, 0, 5, 1 },
		/* 2^31-1 + 4 - (2^31-1): exactly the header. */
		{ "len:0:4:-2147483647", "\177\377\377\377x", 5, 0, 4, 2 },
		/* An offset past the blob. */
		{ "len:65535:8", "\0\0\0", 3, 0, 3, 1 },
		{ "len:65535:8:all:-2147483647", "\0\0\0", 3, 1, 3, 1 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct turn_spec	 t = lenrule(cases[i].rule);
		const unsigned char	*d = (const unsigned char *)cases[i].data;

		ck_assert_msg(turn_message_end(&t, d, cases[i].len,
		    cases[i].from) == cases[i].end, "case %zu (%s): end %zu, "
		    "wanted %zu", i, cases[i].rule, turn_message_end(&t, d,
		    cases[i].len, cases[i].from), cases[i].end);
		ck_assert_msg(turn_count(&t, d, cases[i].len) == cases[i].count,
		    "case %zu (%s): %zu messages, wanted %zu", i, cases[i].rule,
		    turn_count(&t, d, cases[i].len), cases[i].count);
	}
}
END_TEST

/* Whatever the bytes, every message of every rule is at least one byte,
 * ends inside the blob, and they add up to the blob. */
START_TEST(test_len_always_advances)
{
	static const char	*rules[] = { "len:0:1", "len:0:2", "len:0:4:le",
	    "len:0:8", "len:0:8:le:all", "len:3:2:all:-1", "len:1:1:+5",
	    "len:0:2:-2147483647", "len:0:8:all:+2147483647", "len:2:4:le:-6",
	    "\\x00" };
	unsigned char		buf[64];
	uint64_t		x = 88172645463325252ULL;

	for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
		struct turn_spec	t = lenrule(rules[r]);

		for (unsigned n = 0; n < 3000; n++) {
			size_t	len = n % sizeof buf, at = 0, msgs = 0;

			for (size_t k = 0; k < len; k++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				/* Small values most of the time: real frames. */
				buf[k] = (unsigned char)(x % 5 == 0 ? x >> 8 :
				    x % 7);
			}
			while (at < len) {
				size_t	end = turn_message_end(&t, buf, len, at);

				ck_assert_uint_gt(end, at);
				ck_assert_uint_le(end, len);
				at = end;
				msgs++;
			}
			ck_assert_uint_eq(msgs, turn_count(&t, buf, len));
		}
	}
}
END_TEST

/* Plans with a length rule: every frame of a lenprefix blob is a message,
 * cut inside, its end a turn. */
START_TEST(test_plans_with_len_turns)
{
	static const unsigned char	three[] = "\0\6\1hello\0\6\1world\0\1\2";
	struct turn_spec		t = lenrule("len:0:2");
	struct plan_params		pp = { .split = PLAN_SPLIT_BYTEWISE,
					    .turns = t };
	struct plan			p = { 0 };
	unsigned			inside = 0;

	ck_assert_int_eq(plan_make(&p, 3, 1, 1, three, 19, &pp), 0);
	ck_assert_uint_eq(p.nfrags, 19);
	ck_assert_uint_eq(p.nturns, 3);
	ck_assert_uint_eq(p.turn_ends[0], 8);
	ck_assert_uint_eq(p.turn_ends[1], 16);
	ck_assert_uint_eq(p.turn_ends[2], 19);
	pp.split = PLAN_SPLIT_MIX;
	pp.close_chance = 0;
	for (uint64_t i = 0; i < 300; i++) {
		size_t	sum = 0;
		uint32_t m = 0;

		ck_assert_int_eq(plan_make(&p, 9, i, i, three, 19, &pp), 0);
		ck_assert_uint_eq(p.nturns, 3);
		for (uint32_t k = 0; k < p.nfrags; k++) {
			sum += p.sizes[k];
			if (sum == 8 || sum == 16 || sum == 19)
				ck_assert_uint_eq(p.turn_ends[m++], k + 1);
			else
				inside++;
		}
		ck_assert_uint_eq(sum, 19);
		ck_assert_uint_eq(m, 3);
	}
	/* Cuts fall inside frames, their length headers included. */
	ck_assert_uint_gt(inside, 300);
	plan_release(&p);
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
	tcase_add_test(tc, test_parse_len);
	tcase_add_test(tc, test_messages_len);
	tcase_add_test(tc, test_len_always_advances);
	tcase_add_test(tc, test_plans_with_len_turns);
	tcase_add_test(tc, test_no_turns_unchanged);
	tcase_add_loop_test(tc, test_plans_with_turns, 0,
	    (int)(sizeof splits / sizeof splits[0]));
	tcase_add_test(tc, test_turns_copy_and_reuse);
	suite_add_tcase(s, tc);
	return s;
}
