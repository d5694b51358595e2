/* Unit tests: answers, references from whole sends, comparison, masks. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "check_suites.h"
#include "confirm.h"

/* An answer holding the string s (limit 0: the default). */
static struct answer *
ans(const char *s, size_t limit)
{
	struct answer	*a = answer_new(limit);

	answer_add(a, s, strlen(s));
	return a;
}

/* A reference learned from the NULL-terminated list of answers. */
static struct answer_ref *
ref_of(const struct answer_masks *m, const char *const *samples)
{
	struct answer_ref	*r = answer_ref_new(m);

	for (; *samples != NULL; samples++) {
		struct answer	*a = ans(*samples, 0);

		answer_ref_add(r, a);
		answer_free(a);
	}
	return r;
}

/* Compares s with r; returns the verdict, the account in account. */
static enum answer_verdict
cmp(const struct answer_ref *r, const char *s, char *account)
{
	struct answer		*a = ans(s, 0);
	enum answer_verdict	 v;

	v = answer_compare(r, a, account, ANSWER_ACCOUNT_MAX);
	answer_free(a);
	return v;
}

START_TEST(test_buffer_bounded)
{
	struct answer	*a = answer_new(10), *b = answer_new(0);

	ck_assert_uint_eq(b->limit, ANSWER_KEEP_DEFAULT);
	answer_add(a, "hello ", 6);
	answer_add(a, "world, again", 12);
	ck_assert_uint_eq(a->len, 10);
	ck_assert_uint_eq(a->total, 18);
	ck_assert_mem_eq(a->data, "hello worl", 10);
	ck_assert_int_eq(answer_truncated(a), 1);
	answer_add(b, "hello world, again", 18);
	/* The hash covers every byte, kept or not. */
	ck_assert_uint_eq(a->hash, b->hash);
	ck_assert_int_eq(answer_truncated(b), 0);
	answer_close(a);
	ck_assert_int_eq(a->closed, 1);
	answer_reset(a);
	ck_assert_uint_eq(a->len, 0);
	ck_assert_uint_eq(a->total, 0);
	ck_assert_int_eq(a->closed, 0);
	answer_add(a, "hello world, again", 18);
	ck_assert_uint_eq(a->hash, b->hash);
	answer_free(a);
	answer_free(b);
	answer_free(NULL);
	answer_ref_free(NULL);
	answer_masks_free(NULL);
}
END_TEST

START_TEST(test_escape)
{
	static const struct {
		const char	*in;
		size_t		 n, max;
		const char	*want;
	} cases[] = {
		{ "$5\r\nvalue", 9, 24, "\"$5\\r\\nvalue\"" },
		{ "a\"b\\c\t", 6, 24, "\"a\\\"b\\\\c\\t\"" },
		{ "\x00\xff" "z", 3, 24, "\"\\x00\\xffz\"" },
		{ "abcdef", 6, 3, "\"abc\"..." },
		{ "", 0, 24, "\"\"" },
	};
	char	out[64];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		answer_escape((const unsigned char *)cases[i].in, cases[i].n,
		    cases[i].max, out, sizeof out);
		ck_assert_str_eq(out, cases[i].want);
	}
	/* Never past the buffer. */
	answer_escape((const unsigned char *)"\x01\x02\x03\x04\x05\x06", 6, 6,
	    out, 12);
	ck_assert_uint_lt(strlen(out), 12);
}
END_TEST

START_TEST(test_same_and_first_difference)
{
	static const char *const s[] = { "+OK\r\n$5\r\nvalue\r\n",
	    "+OK\r\n$5\r\nvalue\r\n", "+OK\r\n$5\r\nvalue\r\n", NULL };
	struct answer_ref	*r = ref_of(NULL, s);
	char			 acc[ANSWER_ACCOUNT_MAX];

	ck_assert_int_eq(answer_ref_stable(r), 1);
	ck_assert_uint_eq(answer_ref_samples(r), 3);
	ck_assert_uint_eq(answer_ref_wildcards(r), 0);
	ck_assert_int_eq(cmp(r, "+OK\r\n$5\r\nvalue\r\n", acc), ANSWER_SAME);
	ck_assert_str_eq(acc, "");
	ck_assert_int_eq(cmp(r, "+OK\r\n$-1\r\n", acc), ANSWER_DIFFERENT);
	ck_assert_str_eq(acc,
	    "at byte 6: expected \"5\\r\\nvalue\\r\\n\" got \"-1\\r\\n\"");
	ck_assert_int_eq(cmp(r, "+OK\r\n$5\r\nvalue\r\n+OK\r\n", acc),
	    ANSWER_DIFFERENT);
	ck_assert_str_eq(acc, "at byte 16: expected the end of the answer "
	    "got \"+OK\\r\\n\"");
	ck_assert_int_eq(cmp(r, "+OK\r\n", acc), ANSWER_DIFFERENT);
	ck_assert_str_eq(acc, "at byte 5: expected \"$5\\r\\nvalue\\r\\n\" "
	    "got the end of the answer");
	ck_assert_int_eq(cmp(r, "+OK\r\n$5\r\nvaluf\r\n", acc),
	    ANSWER_DIFFERENT);
	ck_assert_int_eq(cmp(r, "", acc), ANSWER_DIFFERENT);
	answer_ref_free(r);
}
END_TEST

/* Answers carrying a date, a microsecond time, random ids and a length that
 * depends on them: quiet, whatever values and digit counts come later. */
START_TEST(test_timestamps_and_ids)
{
	static const char *const s[] = {
	    "HTTP/1.1 200 OK\r\nDate: Tue, 01 Dec 2026 09:12:12 GMT\r\n"
	    "X-Request-Id: 3fa9c2e1b7d04a55\r\nContent-Length: 38\r\n\r\n"
	    "{\"at\":1764580332123,\"n\":7,\"id\":\"9f1c\"}",
	    "HTTP/1.1 200 OK\r\nDate: Tue, 01 Dec 2026 09:12:12 GMT\r\n"
	    "X-Request-Id: 0c1d2e3f40516273\r\nContent-Length: 41\r\n\r\n"
	    "{\"at\":1764580332124,\"n\":4411,\"id\":\"a0b1\"}",
	    "HTTP/1.1 200 OK\r\nDate: Tue, 01 Dec 2026 09:12:13 GMT\r\n"
	    "X-Request-Id: 8e8e8e8e8e8e8e8e\r\nContent-Length: 39\r\n\r\n"
	    "{\"at\":1764580332190,\"n\":12,\"id\":\"1234\"}",
	    NULL };
	struct answer_ref	*r = ref_of(NULL, s);
	char			 acc[ANSWER_ACCOUNT_MAX];

	ck_assert_msg(answer_ref_stable(r), "%s", answer_ref_why(r));
	ck_assert_uint_gt(answer_ref_wildcards(r), 5);
	ck_assert_int_eq(cmp(r,
	    "HTTP/1.1 200 OK\r\nDate: Tue, 01 Dec 2026 09:12:59 GMT\r\n"
	    "X-Request-Id: ffffffffffffffff\r\nContent-Length: 123\r\n\r\n"
	    "{\"at\":1764590000000,\"n\":9999999,\"id\":\"beef\"}", acc),
	    ANSWER_SAME);
	/* Another response, or another status, is still different. */
	ck_assert_int_eq(cmp(r,
	    "HTTP/1.1 400 Bad Request\r\nDate: Tue, 01 Dec 2026 09:12:59 GMT"
	    "\r\nX-Request-Id: ffffffffffffffff\r\nContent-Length: 123\r\n\r\n"
	    "{\"at\":1764590000000,\"n\":9999999,\"id\":\"beef\"}", acc),
	    ANSWER_DIFFERENT);
	ck_assert_str_eq(acc, "at byte 9: expected \"200 OK\\r\\nDate: "
	    "Tue, 01 Dec\"... got \"400 Bad Request\\r\\nDate: T\"...");
	/* The id varied within hex: a word beyond hex is different. */
	ck_assert_int_eq(cmp(r,
	    "HTTP/1.1 200 OK\r\nDate: Tue, 01 Dec 2026 09:12:59 GMT\r\n"
	    "X-Request-Id: nothexnothexnoth\r\nContent-Length: 123\r\n\r\n"
	    "{\"at\":1764590000000,\"n\":9999999,\"id\":\"beef\"}", acc),
	    ANSWER_DIFFERENT);
	answer_ref_free(r);
}
END_TEST

/* Numbers joined into a time or a date vary as one. */
START_TEST(test_widen_numbers)
{
	static const char *const s[] = { "at 09:12:12.123 v1.2.3 n 7\r\n",
	    "at 09:12:12.456 v1.2.3 n 8\r\n", NULL };
	struct answer_ref	*r = ref_of(NULL, s);
	char			 acc[ANSWER_ACCOUNT_MAX];

	ck_assert_uint_eq(answer_ref_wildcards(r), 5);
	ck_assert_msg(cmp(r, "at 10:59:07.9 v1.2.3 n 12\r\n", acc) ==
	    ANSWER_SAME, "%s", acc);
	/* The version did not vary, nor is it joined to what did. */
	ck_assert_int_eq(cmp(r, "at 10:59:07.9 v1.2.4 n 12\r\n", acc),
	    ANSWER_DIFFERENT);
	/* The structure of the time still counts. */
	ck_assert_int_eq(cmp(r, "at 10:59 v1.2.3 n 12\r\n", acc),
	    ANSWER_DIFFERENT);
	answer_ref_free(r);
}
END_TEST

/* A counter shared by all connections: values and digit counts change. */
START_TEST(test_shared_counter)
{
	static const char *const s[] = { ":9\r\n:10\r\n$2\r\n10\r\n",
	    ":98\r\n:99\r\n$2\r\n99\r\n", ":99\r\n:100\r\n$3\r\n100\r\n",
	    NULL };
	struct answer_ref	*r = ref_of(NULL, s);
	char			 acc[ANSWER_ACCOUNT_MAX];

	ck_assert_int_eq(answer_ref_stable(r), 1);
	ck_assert_int_eq(cmp(r, ":998\r\n:1000\r\n$4\r\n1001\r\n", acc),
	    ANSWER_SAME);
	ck_assert_int_eq(cmp(r, ":998\r\n:1000\r\n$-1\r\n", acc),
	    ANSWER_DIFFERENT);
	ck_assert_str_eq(acc, "at byte 14: expected \"<digits>\\r\\n<digits>"
	    "\\r\\n\" got \"-1\\r\\n\"");
	ck_assert_int_eq(cmp(r, "-ERR unknown\r\n", acc), ANSWER_DIFFERENT);
	/* ':' never varied: a literal. */
	ck_assert_int_eq(cmp(r, ":1\r\n;2\r\n$9\r\n3\r\n", acc),
	    ANSWER_DIFFERENT);
	answer_ref_free(r);
}
END_TEST

/* The structure of the answers differs between whole sends: unstable. */
START_TEST(test_unstable)
{
	static const char *const s[] = { "OK 1 item\r\n", "OK 2 items\r\n",
	    "OK -3 items\r\n", NULL };
	static const char *const t[] = { "a\r\n", "a\r\nb\r\n", NULL };
	static const char *const u[] = { "x=1;y=2\r\n", "x=1,y=2\r\n", NULL };
	struct answer_ref	*r = ref_of(NULL, s);
	char			 acc[ANSWER_ACCOUNT_MAX];

	/* Words of letters may vary ("item", "items"); a '-' may not. */
	ck_assert_int_eq(answer_ref_stable(r), 0);
	ck_assert_int_eq(cmp(r, "anything", acc), ANSWER_UNCOMPARED);
	ck_assert_ptr_nonnull(strstr(answer_ref_why(r),
	    "whole sends differ in structure at byte 3: \"1 item"));
	answer_ref_free(r);
	r = ref_of(NULL, t);
	ck_assert_int_eq(answer_ref_stable(r), 0);
	ck_assert_ptr_nonnull(strstr(answer_ref_why(r), "the end then \"b"));
	answer_ref_free(r);
	/* As long as each other: compared byte by byte instead. */
	r = ref_of(NULL, u);
	ck_assert_int_eq(answer_ref_stable(r), 1);
	ck_assert_int_eq(answer_ref_bytewise(r), 1);
	ck_assert_uint_eq(answer_ref_wildcards(r), 1);
	ck_assert_int_eq(cmp(r, "x=1:y=2\r\n", acc), ANSWER_SAME);
	ck_assert_int_eq(cmp(r, "x=2;y=2\r\n", acc), ANSWER_DIFFERENT);
	ck_assert_str_eq(acc, "at byte 2: expected \"1;y=2\\r\\n\" got "
	    "\"2;y=2\\r\\n\"");
	answer_ref_free(r);
	r = answer_ref_new(NULL);
	ck_assert_int_eq(answer_ref_stable(r), 0);
	ck_assert_int_eq(cmp(r, "x", acc), ANSWER_UNCOMPARED);
	answer_ref_free(r);
}
END_TEST

/* A binary greeting with a connection id and a random salt: the token
 * structure varies, the length does not; compared byte by byte. */
START_TEST(test_binary_greeting)
{
	struct answer_ref	*r = answer_ref_new(NULL);
	struct answer		*a;
	unsigned char		 g[32];
	char			 acc[ANSWER_ACCOUNT_MAX];
	uint32_t		 x = 12345;

	for (int k = 0; k < 5; k++) {
		memcpy(g, "\x0a" "8.0.36\0", 8);
		for (int i = 8; i < 32; i++) {
			x = x * 1103515245 + 12345;
			g[i] = i < 12 ? (unsigned char)(k + 7 * (i == 8)) :
			    (unsigned char)(x >> 16);
		}
		a = answer_new(0);
		answer_add(a, g, sizeof g);
		if (k < 3)
			answer_ref_add(r, a);
		else
			ck_assert_msg(answer_compare(r, a, acc, sizeof acc) ==
			    ANSWER_SAME, "%s", acc);
		answer_free(a);
	}
	ck_assert_int_eq(answer_ref_bytewise(r), 1);
	g[3] = '9';	/* another version */
	a = answer_new(0);
	answer_add(a, g, sizeof g);
	ck_assert_int_eq(answer_compare(r, a, acc, sizeof acc),
	    ANSWER_DIFFERENT);
	ck_assert_ptr_nonnull(strstr(acc, "at byte 3: expected \"0.36\\x00"));
	answer_reset(a);
	answer_add(a, g, 20);	/* shorter */
	ck_assert_int_eq(answer_compare(r, a, acc, sizeof acc),
	    ANSWER_DIFFERENT);
	answer_free(a);
	/* A whole send of another length: unstable. */
	a = answer_new(0);
	answer_add(a, g, 31);
	answer_ref_add(r, a);
	ck_assert_int_eq(answer_ref_stable(r), 0);
	ck_assert_ptr_nonnull(strstr(answer_ref_why(r), "32 then 31 bytes"));
	answer_free(a);
	answer_ref_free(r);
}
END_TEST

/* HTTP keep-alive: one more response (the body parsed as a request). */
START_TEST(test_extra_response)
{
	static const char *const s[] = {
	    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", NULL };
	struct answer_ref	*r = ref_of(NULL, s);
	char			 acc[ANSWER_ACCOUNT_MAX];

	ck_assert_int_eq(cmp(r, s[0], acc), ANSWER_SAME);
	ck_assert_int_eq(cmp(r, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
	    "okHTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", acc),
	    ANSWER_DIFFERENT);
	ck_assert_str_eq(acc, "at byte 49: expected \"200 OK\\r\\nContent-"
	    "Length: \"... got \"400 Bad Request\\r\\nContent\"...");
	answer_ref_free(r);
}
END_TEST

START_TEST(test_masks)
{
	static const char *const s[] = { "token=ab+/cd== ok\r\n",
	    "token=x/y+z ok\r\n", NULL };
	struct answer_masks	*m = answer_masks_new();
	struct answer_ref	*r;
	char			 acc[ANSWER_ACCOUNT_MAX], *cause = NULL;

	/* Without a mask, base64 varies in structure. */
	r = ref_of(NULL, s);
	ck_assert_int_eq(answer_ref_stable(r), 0);
	answer_ref_free(r);
	ck_assert_int_eq(answer_masks_add(m, "token=[^ ]*", &cause), 0);
	r = ref_of(m, s);
	ck_assert_msg(answer_ref_stable(r), "%s", answer_ref_why(r));
	ck_assert_int_eq(cmp(r, "token=++++ ok\r\n", acc), ANSWER_SAME);
	ck_assert_int_eq(cmp(r, "token=++++ no\r\n", acc), ANSWER_DIFFERENT);
	ck_assert_str_eq(acc, "at byte 11: expected \"ok\\r\\n\" got "
	    "\"no\\r\\n\"");
	ck_assert_int_eq(cmp(r, "tokens ok\r\n", acc), ANSWER_DIFFERENT);
	answer_ref_free(r);
	/* '.' stops at a line end; ^ anchors at each line. */
	ck_assert_int_eq(answer_masks_add(m, "^Date: .*", &cause), 0);
	{
		static const char *const d[] = { "a\r\nDate: now\r\nb\r\n",
		    NULL };

		r = ref_of(m, d);
		ck_assert_int_eq(cmp(r, "a\r\nDate: Tue, 1 Dec\r\nb\r\n",
		    acc), ANSWER_SAME);
		ck_assert_int_eq(cmp(r, "a\r\nDate: x\r\nc\r\n", acc),
		    ANSWER_DIFFERENT);
		ck_assert_int_eq(cmp(r, "a\r\nXDate: x\r\nb\r\n", acc),
		    ANSWER_DIFFERENT);
		answer_ref_free(r);
	}
	ck_assert_int_eq(answer_masks_add(m, "x(", &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, "--mask 'x(': "));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(answer_masks_add(m, "", &cause), -1);
	free(cause);
	answer_masks_free(m);
}
END_TEST

/* Parts a cut may legitimately add or remove: left out on both sides. */
START_TEST(test_ignore)
{
	static const char *const s[] = { "HTTP/1.1 200 OK\r\nX: 1\r\n\r\n",
	    NULL };
	struct answer_masks	*m = answer_masks_new();
	struct answer_ref	*r;
	char			 acc[ANSWER_ACCOUNT_MAX], *cause = NULL;
	const char		*with = "HTTP/1.1 100 Continue\r\n\r\n"
				    "HTTP/1.1 200 OK\r\nX: 1\r\n\r\n";

	r = ref_of(m, s);
	ck_assert_int_eq(cmp(r, with, acc), ANSWER_DIFFERENT);
	answer_ref_free(r);
	ck_assert_int_eq(answer_masks_ignore(m,
	    "HTTP/1\\.1 100 [^\r\n]*\r\n\r\n", &cause), 0);
	r = ref_of(m, s);
	ck_assert_msg(cmp(r, with, acc) == ANSWER_SAME, "%s", acc);
	ck_assert_int_eq(cmp(r, s[0], acc), ANSWER_SAME);
	/* Twice, and in the middle: still left out. */
	ck_assert_int_eq(cmp(r, "HTTP/1.1 200 OK\r\nX: 1\r\n\r\n"
	    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n",
	    acc), ANSWER_SAME);
	/* What is not ignored still counts. */
	ck_assert_int_eq(cmp(r, "HTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 400 Bad\r\nX: 1\r\n\r\n", acc), ANSWER_DIFFERENT);
	ck_assert_str_eq(acc, "at byte 34: expected \"200 OK\\r\\nX: 1\\r\\n"
	    "\\r\\n\" got \"400 Bad\\r\\nX: 1\\r\\n\\r\\n\"");
	answer_ref_free(r);
	ck_assert_int_eq(answer_masks_ignore(m, "(", &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "--ignore '(': "));
	free(cause);
	answer_masks_free(m);
}
END_TEST

/* Answers past the limit: the kept part by tokens, the rest by hash. */
/* Fills b with "ab ab ab ...". */
static void
fill(char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = "ab "[i % 3];
}

START_TEST(test_truncated)
{
	struct answer_ref	*r = answer_ref_new(NULL);
	struct answer		*a;
	char			 big[200], acc[ANSWER_ACCOUNT_MAX];

	for (int k = 0; k < 3; k++) {
		fill(big, sizeof big);
		memcpy(big, k == 1 ? "n=10 " : "n=9 ", k == 1 ? 5 : 4);
		a = answer_new(64);
		answer_add(a, big, sizeof big);
		answer_ref_add(r, a);
		answer_free(a);
	}
	ck_assert_int_eq(answer_ref_stable(r), 1);
	/* Same tail: same. */
	a = answer_new(64);
	fill(big, sizeof big);
	memcpy(big, "n=123 ", 6);
	answer_add(a, big, sizeof big);
	ck_assert_int_eq(answer_compare(r, a, acc, sizeof acc), ANSWER_SAME);
	answer_free(a);
	/* Samples' tails differed (lengths shift), so a tail is not judged;
	 * the kept head is. */
	a = answer_new(64);
	fill(big, sizeof big);
	memcpy(big, "n=5 ab xy ", 10);
	answer_add(a, big, sizeof big);
	ck_assert_int_eq(answer_compare(r, a, acc, sizeof acc),
	    ANSWER_DIFFERENT);
	answer_free(a);
	answer_ref_free(r);

	/* Identical long samples: the tail is compared by hash. */
	r = answer_ref_new(NULL);
	for (int k = 0; k < 2; k++) {
		memset(big, 'q', sizeof big);
		big[3] = ' ';
		a = answer_new(64);
		answer_add(a, big, sizeof big);
		answer_ref_add(r, a);
		answer_free(a);
	}
	a = answer_new(64);
	big[150] = '!';
	answer_add(a, big, sizeof big);
	ck_assert_int_eq(answer_compare(r, a, acc, sizeof acc),
	    ANSWER_DIFFERENT);
	ck_assert_str_eq(acc, "past byte 64 (compared by hash): expected 200 "
	    "bytes got 200 bytes that differ");
	answer_free(a);
	/* A short answer to a long reference ends early. */
	a = ans("qqq qqq", 64);
	ck_assert_int_eq(answer_compare(r, a, acc, sizeof acc),
	    ANSWER_DIFFERENT);
	answer_free(a);
	answer_ref_free(r);

	/* A long answer to a short reference. */
	{
		static const char *const s[] = { "short\r\n", NULL };

		r = ref_of(NULL, s);
		a = answer_new(4);
		answer_add(a, "short\r\n", 7);
		ck_assert_int_eq(answer_compare(r, a, acc, sizeof acc),
		    ANSWER_DIFFERENT);
		answer_free(a);
		answer_ref_free(r);
	}
}
END_TEST

START_TEST(test_closed)
{
	struct answer_ref	*r = answer_ref_new(NULL);
	struct answer		*a = ans("554 no\r\n", 0), *b;
	char			 acc[ANSWER_ACCOUNT_MAX];

	answer_close(a);
	answer_ref_add(r, a);
	b = ans("554 no\r\n", 0);
	ck_assert_int_eq(answer_compare(r, b, acc, sizeof acc),
	    ANSWER_DIFFERENT);
	ck_assert_str_eq(acc, "at byte 8: expected the server to close got "
	    "the connection open");
	ck_assert_int_eq(answer_compare(r, a, acc, sizeof acc), ANSWER_SAME);
	/* Whole sends that disagree on closing: closing is not compared. */
	answer_ref_add(r, b);
	ck_assert_int_eq(answer_compare(r, b, acc, sizeof acc), ANSWER_SAME);
	ck_assert_int_eq(answer_compare(r, a, acc, sizeof acc), ANSWER_SAME);
	answer_free(a);
	answer_free(b);
	answer_ref_free(r);
}
END_TEST

/* Whole sends all in one second: the seconds look fixed until a whole
 * resend shows them move; learning it quiets the candidate. */
START_TEST(test_drift_relearned)
{
	static const char *const s[] = { "t=09:12:12 n=1\r\n",
	    "t=09:12:12 n=2\r\n", NULL };
	struct answer_ref	*r = ref_of(NULL, s);
	struct answer		*whole = ans("t=09:12:14 n=3\r\n", 0);
	char			 acc[ANSWER_ACCOUNT_MAX];

	ck_assert_int_eq(cmp(r, "t=09:12:13 n=4\r\n", acc),
	    ANSWER_DIFFERENT);
	ck_assert_int_eq(answer_compare(r, whole, acc, sizeof acc),
	    ANSWER_DIFFERENT);
	answer_ref_add(r, whole);
	ck_assert_int_eq(answer_ref_stable(r), 1);
	ck_assert_int_eq(cmp(r, "t=09:12:13 n=4\r\n", acc), ANSWER_SAME);
	/* The seconds varied: the whole time is a wildcard now. */
	ck_assert_int_eq(cmp(r, "t=09:13:13 n=4\r\n", acc), ANSWER_SAME);
	ck_assert_int_eq(cmp(r, "t=09:13 n=4\r\n", acc), ANSWER_DIFFERENT);
	ck_assert_int_eq(answer_ref_first(r)->data[0], 't');
	answer_free(whole);
	answer_ref_free(r);
}
END_TEST

START_TEST(test_classes)
{
	static const struct {
		const char		*a, *b, *c;	/* 2 samples, probe */
		enum answer_verdict	 want;
	} cases[] = {
		{ "id=1234", "id=12ab", "id=ffff", ANSWER_SAME },
		{ "id=1234", "id=12ab", "id=zz12", ANSWER_DIFFERENT },
		{ "id=1234", "id=5678", "id=9", ANSWER_SAME },
		{ "id=1234", "id=5678", "id=9a", ANSWER_DIFFERENT },
		{ "d=Wed", "d=Thu", "d=Saturday", ANSWER_SAME },
		{ "d=Wed", "d=Thu", "d=12", ANSWER_DIFFERENT },
		{ "v=a1", "v=zz", "v=q7q", ANSWER_SAME },
		{ "x  1", "x 1", "x\t\t1", ANSWER_SAME },
		{ "x  1", "x 1", "x1", ANSWER_DIFFERENT },
		{ "a\xc3\xa9", "a\xc3\xa9", "a\xc3\xa8", ANSWER_DIFFERENT },
	};
	char	acc[ANSWER_ACCOUNT_MAX];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *const	 s[] = { cases[i].a, cases[i].b, NULL };
		struct answer_ref	*r = ref_of(NULL, s);

		ck_assert_msg(answer_ref_stable(r), "case %zu: %s", i,
		    answer_ref_why(r));
		ck_assert_msg(cmp(r, cases[i].c, acc) == cases[i].want,
		    "case %zu: %s", i, acc);
		answer_ref_free(r);
	}
	ck_assert_str_eq(answer_class_name(ANSWER_HEX), "hex");
	ck_assert_ptr_null(answer_class_name(ANSWER_CLASS__COUNT));
	ck_assert_str_eq(answer_verdict_name(ANSWER_UNCOMPARED), "uncompared");
}
END_TEST

/* No answer at all is a reference too. */
START_TEST(test_empty_answer)
{
	static const char *const s[] = { "", "", NULL };
	struct answer_ref	*r = ref_of(NULL, s);
	char			 acc[ANSWER_ACCOUNT_MAX];

	ck_assert_int_eq(answer_ref_stable(r), 1);
	ck_assert_int_eq(cmp(r, "", acc), ANSWER_SAME);
	ck_assert_int_eq(cmp(r, "-ERR\r\n", acc), ANSWER_DIFFERENT);
	ck_assert_str_eq(acc, "at byte 0: expected the end of the answer got "
	    "\"-ERR\\r\\n\"");
	answer_ref_free(r);
}
END_TEST

/* Runs a confirmation of candidate got against a reference of samples,
 * giving it the answers in turn; returns the final state. */
static enum confirm_state
confirm_run(const char *const *samples, const char *got,
    const char *const *answers, char *again)
{
	struct answer_ref	*r = ref_of(NULL, samples);
	struct answer		*g = ans(got, 0);
	struct confirm		*c;
	char			 acc[ANSWER_ACCOUNT_MAX];
	enum confirm_state	 st;

	ck_assert_int_eq(answer_compare(r, g, acc, sizeof acc),
	    ANSWER_DIFFERENT);
	c = confirm_new(g, acc);
	ck_assert_str_eq(c->account, acc);
	st = c->state;
	ck_assert_int_eq(st, CONFIRM_WHOLE);
	for (; *answers != NULL && !confirm_done(st); answers++) {
		struct answer	*a = ans(*answers, 0);

		st = confirm_step(c, r, a);
		answer_free(a);
	}
	if (again != NULL)
		snprintf(again, ANSWER_ACCOUNT_MAX, "%s", c->again);
	/* A done state stays. */
	ck_assert_int_eq(confirm_done(st), 1);
	ck_assert_int_eq(confirm_step(c, r, g), st);
	confirm_free(c);
	answer_free(g);
	answer_ref_free(r);
	return st;
}

START_TEST(test_confirm)
{
	static const char *const kv[] = { "+OK\r\n$5\r\nalice\r\n",
	    "+OK\r\n$5\r\nalice\r\n", NULL };
	static const char *const t[] = { "t=09:12:12 n=1\r\n",
	    "t=09:12:12 n=2\r\n", NULL };
	char	again[ANSWER_ACCOUNT_MAX];

	/* A planted bug: the whole send is right, the cut wrong twice. */
	ck_assert_int_eq(confirm_run(kv, "+OK\r\n$-1\r\n", (const char *[]){
	    "+OK\r\n$5\r\nalice\r\n", "+OK\r\n$-1\r\n", NULL }, again),
	    CONFIRM_MISMATCH);
	ck_assert_str_eq(again, "at byte 6: expected \"5\\r\\nalice\\r\\n\" "
	    "got \"-1\\r\\n\"");
	/* Wrong once only (another connection's doing): unconfirmed. */
	ck_assert_int_eq(confirm_run(kv, "+OK\r\n$-1\r\n", (const char *[]){
	    "+OK\r\n$5\r\nalice\r\n", "+OK\r\n$5\r\nalice\r\n", NULL },
	    NULL), CONFIRM_UNCONFIRMED);
	/* The seconds moved: the whole send differs there too; learnt. */
	ck_assert_int_eq(confirm_run(t, "t=09:12:13 n=7\r\n", (const char *[]){
	    "t=09:12:14 n=8\r\n", NULL }, NULL), CONFIRM_DRIFT);
	/* The seconds moved, and the cut answer differs elsewhere too. */
	ck_assert_int_eq(confirm_run(t, "t=09:12:13 n=7\r\nextra\r\n",
	    (const char *[]){ "t=09:12:14 n=8\r\n", "t=09:12:15 n=9\r\n"
	    "extra\r\n", NULL }, NULL), CONFIRM_MISMATCH);
	/* The whole send now answers in another structure. */
	ck_assert_int_eq(confirm_run(kv, "+OK\r\n$-1\r\n", (const char *[]){
	    "-ERR busy\r\n", NULL }, NULL), CONFIRM_UNSTABLE);
	ck_assert_int_eq(confirm_done(CONFIRM_WHOLE), 0);
	ck_assert_int_eq(confirm_done(CONFIRM_RECUT), 0);
	ck_assert_int_eq(confirm_done(CONFIRM_DRIFT), 1);
	ck_assert_str_eq(confirm_state_name(CONFIRM_MISMATCH), "mismatch");
	ck_assert_ptr_null(confirm_state_name(CONFIRM__COUNT));
	confirm_free(NULL);
}
END_TEST

/* httpka --stamps, as in a false mismatch its control once raised: a
 * length that depends on a number of random length (1 to 6 digits) took
 * the same value in the three whole sends, so the reference holds it
 * literal; the cut answered another length, the one whole send of the
 * confirmation happened to answer the literal one again (1 in 6), and the
 * recut another: a mismatch, of nothing. A difference in values only (the
 * same structure) now takes CONFIRM_VALUE_WHOLES whole sends, each one
 * that differs learned, before the recut. */
START_TEST(test_confirm_random_length)
{
	static const char *const refs[] = {
	    "Content-Length: 67\r\n\r\n{\"at\":1796126994181,\"n\":57064}\n",
	    "Content-Length: 67\r\n\r\n{\"at\":1796126994182,\"n\":12345}\n",
	    "Content-Length: 67\r\n\r\n{\"at\":1796126994183,\"n\":99999}\n",
	    NULL };
	static const char *const got =
	    "Content-Length: 68\r\n\r\n{\"at\":1796126994187,\"n\":767551}\n";
	/* Whole: the literal length again, then another; the recut. */
	static const char *const steps[] = {
	    "Content-Length: 67\r\n\r\n{\"at\":1796126994188,\"n\":11111}\n",
	    "Content-Length: 65\r\n\r\n{\"at\":1796126994189,\"n\":123}\n",
	    "Content-Length: 68\r\n\r\n{\"at\":1796126994190,\"n\":222222}\n",
	    NULL };
	static const char *const kv[] = { "+OK\r\n$5\r\nalice\r\n",
	    "+OK\r\n$5\r\nalice\r\n", NULL };
	struct answer_ref	*r = ref_of(NULL, refs);
	struct answer		*a = ans(got, 0), *b = ans(steps[0], 0);

	ck_assert_int_eq(answer_value_only(r, a), 1);
	ck_assert_int_eq(answer_value_only(r, b), 1);
	answer_free(a);
	answer_free(b);
	a = ans("Content-Length: 68\r\n\r\n{\"at\":1,\"n\":\"x\"}\n", 0);
	ck_assert_int_eq(answer_value_only(r, a), 0);
	answer_free(a);
	answer_ref_free(r);
	ck_assert_int_eq(confirm_run(refs, got, steps, NULL), CONFIRM_DRIFT);
	/* A structural difference still takes one whole send. */
	ck_assert_int_eq(confirm_run(kv, "+OK\r\n$-1\r\n", (const char *[]){
	    "+OK\r\n$5\r\nalice\r\n", "+OK\r\n$-1\r\n", NULL }, NULL),
	    CONFIRM_MISMATCH);
	/* A wrong value that the whole sends never give is confirmed. */
	ck_assert_int_eq(confirm_run(kv, "+OK\r\n$5\r\nalicf\r\n",
	    (const char *[]){ "+OK\r\n$5\r\nalice\r\n",
	    "+OK\r\n$5\r\nalice\r\n", "+OK\r\n$5\r\nalice\r\n",
	    "+OK\r\n$5\r\nalice\r\n", "+OK\r\n$5\r\nalice\r\n",
	    "+OK\r\n$5\r\nalicf\r\n", NULL }, NULL), CONFIRM_MISMATCH);
}
END_TEST

/* Answers captured from httpka --fixed --stamps (tests/servers/httpka.c)
 * to the blob tests/corpus-http-ka/get-two: three whole sends, then two
 * more a second later. */
static const char *const captured[] = {
	"HTTP/1.1 200 OK\r\nDate: Tue, 01 Dec 2026 09:30:23 GMT\r\nX-Reques"
	    "t-Id: 4c01ba8f17845415\r\nX-Time-Us: 1796117423727470\r\nContent-L"
	    "ength: 64\r\n\r\n{\"at\":1796117423727,\"id\":\"c0adc9\",\"n\":73,"
	    "\"req\":\"GET /a body=0\"}\nHTTP/1.1 200 OK\r\nDate: Tue, 01 Dec 2"
	    "026 09:30:23 GMT\r\nX-Request-Id: 01bf06d3167d5141\r\nX-Time-Us: 1"
	    "796117423727499\r\nContent-Length: 68\r\n\r\n{\"at\":1796117423727"
	    ",\"id\":\"b126b7\",\"n\":852831,\"req\":\"GET /b body=0\"}\n",
	"HTTP/1.1 200 OK\r\nDate: Tue, 01 Dec 2026 09:30:24 GMT\r\nX-Reques"
	    "t-Id: 2065147e1f8ce96c\r\nX-Time-Us: 1796117424036911\r\nContent-L"
	    "ength: 67\r\n\r\n{\"at\":1796117424036,\"id\":\"daa7f1\",\"n\":974"
	    "36,\"req\":\"GET /a body=0\"}\nHTTP/1.1 200 OK\r\nDate: Tue, 01 De"
	    "c 2026 09:30:24 GMT\r\nX-Request-Id: 2459cf1f1c7047e0\r\nX-Time-Us"
	    ": 1796117424036972\r\nContent-Length: 67\r\n\r\n{\"at\":1796117424"
	    "036,\"id\":\"0d170d\",\"n\":47226,\"req\":\"GET /b body=0\"}\n",
	"HTTP/1.1 200 OK\r\nDate: Tue, 01 Dec 2026 09:30:24 GMT\r\nX-Reques"
	    "t-Id: 379eb92542a5be5d\r\nX-Time-Us: 1796117424322860\r\nContent-L"
	    "ength: 64\r\n\r\n{\"at\":1796117424322,\"id\":\"dfd8b4\",\"n\":58,"
	    "\"req\":\"GET /a body=0\"}\nHTTP/1.1 200 OK\r\nDate: Tue, 01 Dec 2"
	    "026 09:30:24 GMT\r\nX-Request-Id: 20824499448b4aff\r\nX-Time-Us: 1"
	    "796117424322893\r\nContent-Length: 63\r\n\r\n{\"at\":1796117424322"
	    ",\"id\":\"d06655\",\"n\":2,\"req\":\"GET /b body=0\"}\n",
	"HTTP/1.1 200 OK\r\nDate: Tue, 01 Dec 2026 09:30:25 GMT\r\nX-Reques"
	    "t-Id: 79db637516cabf78\r\nX-Time-Us: 1796117425673724\r\nContent-L"
	    "ength: 65\r\n\r\n{\"at\":1796117425673,\"id\":\"a122f5\",\"n\":520"
	    ",\"req\":\"GET /a body=0\"}\nHTTP/1.1 200 OK\r\nDate: Tue, 01 Dec "
	    "2026 09:30:25 GMT\r\nX-Request-Id: 0108be82620dcbd4\r\nX-Time-Us: "
	    "1796117425673740\r\nContent-Length: 68\r\n\r\n{\"at\":179611742567"
	    "3,\"id\":\"69319e\",\"n\":878730,\"req\":\"GET /b body=0\"}\n",
	"HTTP/1.1 200 OK\r\nDate: Tue, 01 Dec 2026 09:30:25 GMT\r\nX-Reques"
	    "t-Id: 1d4bdbf85405cafc\r\nX-Time-Us: 1796117425775890\r\nContent-L"
	    "ength: 67\r\n\r\n{\"at\":1796117425775,\"id\":\"1ae9e6\",\"n\":192"
	    "68,\"req\":\"GET /a body=0\"}\nHTTP/1.1 200 OK\r\nDate: Tue, 01 De"
	    "c 2026 09:30:25 GMT\r\nX-Request-Id: 7d50bacd34961721\r\nX-Time-Us"
	    ": 1796117425775905\r\nContent-Length: 68\r\n\r\n{\"at\":1796117425"
	    "775,\"id\":\"b06323\",\"n\":109444,\"req\":\"GET /b body=0\"}\n",
	NULL
};

START_TEST(test_captured_stamps)
{
	const char		*s[4];
	struct answer_ref	*r;
	char			 acc[ANSWER_ACCOUNT_MAX];

	memcpy(s, captured, 3 * sizeof *s);
	s[3] = NULL;
	r = ref_of(NULL, s);
	ck_assert_msg(answer_ref_stable(r), "%s", answer_ref_why(r));
	ck_assert_msg(cmp(r, captured[3], acc) == ANSWER_SAME, "%s", acc);
	ck_assert_msg(cmp(r, captured[4], acc) == ANSWER_SAME, "%s", acc);
	/* One response fewer is still a difference. */
	ck_assert_int_eq(cmp(r, strstr(captured[4] + 1, "HTTP/1.1"), acc),
	    ANSWER_DIFFERENT);
	answer_ref_free(r);
}
END_TEST

START_TEST(test_text_round_trip)
{
	struct answer	*a = answer_new(0), *b = answer_new(0);
	unsigned char	 all[256 + 4];
	char		*text, *cause = NULL;

	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	memcpy(all + 256, "\x0a" "ab", 3);	/* \x0a then hex letters */
	answer_add(a, all, 259);
	text = answer_text(a);
	/* Printable ASCII only: a JSON string without surprises. */
	for (const char *p = text; *p != '\0'; p++)
		ck_assert_msg(*p >= 0x20 && *p < 0x7f, "byte %d", *p);
	ck_assert_int_eq(answer_parse_text(b, text, &cause), 0);
	ck_assert_uint_eq(b->len, 259);
	ck_assert_mem_eq(b->data, all, 259);
	ck_assert_uint_eq(b->hash, a->hash);
	free(text);
	answer_reset(a);
	text = answer_text(a);
	ck_assert_str_eq(text, "");
	free(text);
	ck_assert_int_eq(answer_parse_text(b, "ok\\q", &cause), -1);
	ck_assert_str_eq(cause, "answer: bad escape '\\q' at byte 3");
	free(cause);
	answer_free(a);
	answer_free(b);
}
END_TEST

START_TEST(test_check_option)
{
	static const struct {
		const char	*arg;
		int		 rc;
		uint32_t	 every;
	} cases[] = {
		{ "all", 0, 1 }, { "none", 0, 0 }, { "1/1", 0, 1 },
		{ "1/10", 0, 10 }, { "1/1000000", 0, 1000000 },
		{ "1/0", -1, 0 }, { "1/1000001", -1, 0 }, { "1/", -1, 0 },
		{ "1/-3", -1, 0 }, { "1/3x", -1, 0 }, { "2/3", -1, 0 },
		{ "", -1, 0 }, { "some", -1, 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint32_t	 every = 99;
		char		*cause = NULL;

		ck_assert_int_eq(answer_check_parse(cases[i].arg, &every,
		    &cause), cases[i].rc);
		if (cases[i].rc == 0) {
			ck_assert_uint_eq(every, cases[i].every);
			continue;
		}
		ck_assert_ptr_nonnull(strstr(cause, "--check '"));
		free(cause);
	}
	ck_assert_int_eq(answer_check_this(0, 0), 0);
	ck_assert_int_eq(answer_check_this(1, 7), 1);
	ck_assert_int_eq(answer_check_this(10, 20), 1);
	ck_assert_int_eq(answer_check_this(10, 21), 0);
}
END_TEST

Suite *
answer_suite(void)
{
	Suite	*s = suite_create("answer");
	TCase	*tc = tcase_create("answer");

	tcase_add_test(tc, test_buffer_bounded);
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_same_and_first_difference);
	tcase_add_test(tc, test_timestamps_and_ids);
	tcase_add_test(tc, test_shared_counter);
	tcase_add_test(tc, test_widen_numbers);
	tcase_add_test(tc, test_unstable);
	tcase_add_test(tc, test_extra_response);
	tcase_add_test(tc, test_binary_greeting);
	tcase_add_test(tc, test_masks);
	tcase_add_test(tc, test_ignore);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_closed);
	tcase_add_test(tc, test_drift_relearned);
	tcase_add_test(tc, test_classes);
	tcase_add_test(tc, test_empty_answer);
	tcase_add_test(tc, test_confirm);
	tcase_add_test(tc, test_confirm_random_length);
	tcase_add_test(tc, test_check_option);
	tcase_add_test(tc, test_text_round_trip);
	tcase_add_test(tc, test_captured_stamps);
	suite_add_tcase(s, tc);
	return s;
}
