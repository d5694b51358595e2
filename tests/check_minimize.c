/* Unit tests: minimization with fake oracles, cut lines, escaping. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "conn.h"
#include "json.h"
#include "minimize.h"
#include "record.h"
#include "reproducer.h"
#include "util.h"

/* A record of n connections: blob texts and, for each, its cut offsets
 * (terminated by 0). */
static struct record *
mkrec(size_t n, const char *const *texts, const size_t *const *cuts)
{
	struct record	*r = xcalloc(1, sizeof *r);

	r->kind = xstrdup("target-exit");
	r->phase = xstrdup("send");
	r->target = xstrdup("127.0.0.1:1");
	r->tool_version = xstrdup("test");
	r->pace = xstrdup("read");
	r->conns = xcalloc(n, sizeof *r->conns);
	r->nconns = n;
	for (size_t i = 0; i < n; i++) {
		struct record_conn	*c = &r->conns[i];
		size_t			 len = strlen(texts[i]), nc = 0, prev = 0;

		while (cuts != NULL && cuts[i] != NULL && cuts[i][nc] != 0)
			nc++;
		c->index = i;
		c->blob.name = xasprintf("b%zu", i);
		c->blob.data = (unsigned char *)xstrdup(texts[i]);
		c->blob.len = len;
		c->outcome = CONN_OUT_IN_FLIGHT;
		c->plan.nfrags = len ? (uint32_t)nc + 1 : 0;
		c->plan.sizes = xcalloc(nc + 1, sizeof *c->plan.sizes);
		c->plan.gaps_us = xcalloc(nc + 1, sizeof *c->plan.gaps_us);
		for (size_t k = 0; k <= nc && len > 0; k++) {
			size_t	end = k < nc ? cuts[i][k] : len;

			c->plan.sizes[k] = (uint32_t)(end - prev);
			c->plan.gaps_us[k] = (uint32_t)(100 + k);
			prev = end;
		}
		c->plan.cap = c->plan.nfrags;
		c->plan.close_after = c->plan.nfrags;
		c->plan.len = len;
		c->frags_sent = c->plan.nfrags;
		c->bytes_sent = len;
	}
	return r;
}

/* The fake server: what makes a case crash, and how often. */
struct fake {
	int		(*crashes)(const struct record *r);
	unsigned	 every;		/* crash on every N-th triggering attempt */
	unsigned	 triggered;
	uint64_t	 calls;
	uint64_t	 clock_us;	/* advanced 1 s per attempt */
	uint64_t	 interrupt_at;	/* 0: never */
	int		 fail;		/* report an error on the first call */
	char		*misses[512];	/* cases that did not reproduce */
	size_t		 nmisses;
	unsigned	 repeats;	/* of those, tried again */
};

/* A case as text: each connection's bytes and fragment sizes. */
static char *
case_text(const struct record *r)
{
	struct jbuf	b = { 0 };

	for (size_t i = 0; i < r->nconns; i++) {
		jbuf_printf(&b, "%zu:", r->conns[i].index);
		jbuf_append(&b, (const char *)r->conns[i].blob.data,
		    r->conns[i].blob.len);
		for (uint32_t k = 0; k < r->conns[i].plan.nfrags; k++)
			jbuf_printf(&b, ",%u", r->conns[i].plan.sizes[k]);
		jbuf_append(&b, ";", 1);
	}
	return b.s != NULL ? b.s : xstrdup("");
}

/* Counts a steady miss tried again; remembers misses. */
static void
note_miss(struct fake *f, const struct record *r)
{
	char	*t = case_text(r);

	for (size_t i = 0; i < f->nmisses; i++) {
		if (strcmp(f->misses[i], t) == 0) {
			f->repeats++;
			free(t);
			return;
		}
	}
	if (f->nmisses < sizeof f->misses / sizeof f->misses[0])
		f->misses[f->nmisses++] = t;
	else
		free(t);
}

/* Frees the remembered misses. */
static void
fake_release(struct fake *f)
{
	for (size_t i = 0; i < f->nmisses; i++)
		free(f->misses[i]);
	f->nmisses = 0;
}

/* The fake attempt: a verdict from the crash rule. */
static int
fake_attempt(void *arg, const struct record *cand, char **cause)
{
	struct fake	*f = arg;

	f->calls++;
	f->clock_us += 1000000;
	if (f->fail) {
		*cause = xstrdup("the server could not be started");
		return MINIMIZE_FAILED;
	}
	if (f->interrupt_at != 0 && f->calls == f->interrupt_at)
		return MINIMIZE_INTERRUPTED;
	if (!f->crashes(cand)) {
		note_miss(f, cand);
		return MINIMIZE_NOT_REPRODUCED;
	}
	f->triggered++;
	if (f->every > 1 && f->triggered % f->every != 0)
		return MINIMIZE_NOT_REPRODUCED;
	return MINIMIZE_REPRODUCED;
}

/* The fake clock. */
static uint64_t
fake_now(void *arg)
{
	return ((struct fake *)arg)->clock_us;
}

/* Start offset of fragment k of c. */
static size_t
frag_start(const struct record_conn *c, uint32_t k)
{
	size_t	off = 0;

	for (uint32_t i = 0; i < k; i++)
		off += c->plan.sizes[i];
	return off;
}

/* Does some read of c end strictly inside an occurrence of tok? */
static int
conn_splits(const struct record_conn *c, const char *tok)
{
	size_t	tl = strlen(tok);

	for (size_t i = 0; i + tl <= c->blob.len; i++) {
		if (memcmp(c->blob.data + i, tok, tl) != 0)
			continue;
		for (uint32_t k = 1; k < c->plan.nfrags; k++) {
			size_t	cut = frag_start(c, k);

			if (cut > i && cut < i + tl)
				return 1;
		}
	}
	return 0;
}

/* Crash rule: the token CRASH arrives split on some connection. */
static int
crash_split(const struct record *r)
{
	for (size_t i = 0; i < r->nconns; i++) {
		if (conn_splits(&r->conns[i], "CRASH"))
			return 1;
	}
	return 0;
}

/* Crash rule: the first 5 bytes of a connection arrive in 3 reads. */
static int
crash_header(const struct record *r)
{
	for (size_t i = 0; i < r->nconns; i++) {
		const struct record_conn	*c = &r->conns[i];

		if (c->plan.nfrags >= 3 && frag_start(c, 2) < 5)
			return 1;
	}
	return 0;
}

/* Crash rule: a first read of exactly one byte. */
static int
crash_first1(const struct record *r)
{
	for (size_t i = 0; i < r->nconns; i++) {
		if (r->conns[i].plan.nfrags > 1 && r->conns[i].plan.sizes[0] == 1)
			return 1;
	}
	return 0;
}

/* Crash rule: blobs "A..." and "B..." both present (any cuts). */
static int
crash_pair(const struct record *r)
{
	int	a = 0, b = 0;

	for (size_t i = 0; i < r->nconns; i++) {
		a |= r->conns[i].blob.len > 0 && r->conns[i].blob.data[0] == 'A';
		b |= r->conns[i].blob.len > 0 && r->conns[i].blob.data[0] == 'B';
	}
	return a && b;
}

/* Crash rule: a read ends between the \r and \n after "v1". */
static int
crash_crlf(const struct record *r)
{
	for (size_t i = 0; i < r->nconns; i++) {
		const struct record_conn	*c = &r->conns[i];

		for (uint32_t k = 1; k < c->plan.nfrags; k++) {
			size_t	cut = frag_start(c, k);

			if (cut >= 3 && memcmp(c->blob.data + cut - 3, "v1\r\n",
			    4) == 0)
				return 1;
		}
	}
	return 0;
}

/* The progress callback: counts calls, keeps the last report. */
static uint64_t			progress_calls;
static struct minimize_progress	progress_first, progress_last;

static void
fake_progress(void *arg, const struct minimize_progress *p)
{
	(void)arg;
	if (progress_calls++ == 0)
		progress_first = *p;
	progress_last = *p;
}

/* Runs a minimization of r against f with tries and budget. */
static int
run(struct record *r, struct fake *f, unsigned tries, uint64_t budget_s,
    struct minimize_result *res)
{
	struct minimize_config	cfg = {
		.tries = tries,
		.budget_us = budget_s * 1000000,
		.attempt = fake_attempt,
		.progress = fake_progress,
		.now_us = fake_now,
		.arg = f,
	};

	progress_calls = 0;
	return minimize_run(r, &cfg, res);
}

/* The cut offsets of a connection as a comma-separated string. */
static const char *
cuts_of(const struct record_conn *c)
{
	static char	buf[256];
	size_t		len = 0;

	buf[0] = '\0';
	for (uint32_t k = 1; k < c->plan.nfrags; k++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%zu",
		    k > 1 ? "," : "", frag_start(c, k));
	return buf;
}

START_TEST(test_split_token)
{
	static const size_t	 c0[] = { 3, 9, 12, 20, 0 };
	static const size_t	*cuts[] = { c0 };
	static const char	*texts[] = { "GET /CRASH HTTP/1.1\r\nHost: x\r\n\r\n" };
	struct record		*r = mkrec(1, texts, cuts);
	struct fake		 f = { .crashes = crash_split };
	struct minimize_result	 res;
	const struct record_conn *c;

	ck_assert_int_eq(run(r, &f, 3, 0, &res), 0);
	ck_assert_int_eq(res.end, MINIMIZE_DONE);
	ck_assert(minimize_is_minimal(&res));
	ck_assert_uint_eq(res.first_hits, 3);
	ck_assert_uint_eq(res.per_candidate, 1);
	ck_assert_uint_eq(res.final_hits, 3);
	c = &res.best->conns[0];
	/* The token whole, cut where the run cut it (between S and H). */
	ck_assert_uint_eq(c->blob.len, 5);
	ck_assert(memcmp(c->blob.data, "CRASH", 5) == 0);
	ck_assert_str_eq(cuts_of(c), "4");
	ck_assert_uint_eq(c->plan.close_after, 2);
	ck_assert(crash_split(res.best));
	ck_assert_uint_eq(res.orig_cuts, 4);
	ck_assert_uint_eq(res.attempts, f.calls);
	/* One progress report per attempt; the last one is the confirmation
	 * of the smallest case. */
	ck_assert_uint_eq(progress_calls, res.attempts);
	ck_assert_str_eq(progress_last.stage, "confirm");
	ck_assert_uint_eq(progress_last.attempts, res.attempts);
	ck_assert_uint_eq(progress_last.conns, 1);
	ck_assert_uint_eq(progress_last.bytes, 5);
	ck_assert_uint_eq(progress_last.cuts, 1);
	ck_assert(progress_last.reproduced);
	/* A case that did not reproduce is never tried again. */
	ck_assert_uint_eq(f.repeats, 0);
	minimize_result_release(&res);
	fake_release(&f);
	record_free(r);
}
END_TEST

START_TEST(test_header_three_pieces)
{
	static const size_t	 c0[] = { 1, 2, 4, 10, 0 };
	static const size_t	*cuts[] = { c0 };
	static const char	*texts[] = { "*3\r\n$3\r\nSET\r\n" };
	struct record		*r = mkrec(1, texts, cuts);
	struct fake		 f = { .crashes = crash_header };
	struct minimize_result	 res;
	const struct record_conn *c;

	ck_assert_int_eq(run(r, &f, 1, 0, &res), 0);
	ck_assert(minimize_is_minimal(&res));
	c = &res.best->conns[0];
	ck_assert_uint_eq(c->plan.nfrags, 3);
	/* Two cuts in the first five bytes, each between its own bytes;
	 * nothing else is left. */
	ck_assert(frag_start(c, 2) < 5);
	ck_assert(c->blob.len <= 4);
	ck_assert(crash_header(res.best));
	minimize_result_release(&res);
	fake_release(&f);
	record_free(r);
}
END_TEST

START_TEST(test_first_read_one_byte)
{
	static const size_t	 c0[] = { 1, 5, 7, 0 };
	static const size_t	*cuts[] = { c0 };
	static const char	*texts[] = { "GET / HTTP/1.0\r\n\r\n" };
	struct record		*r = mkrec(1, texts, cuts);
	struct fake		 f = { .crashes = crash_first1 };
	struct minimize_result	 res;
	struct jbuf		 b = { 0 };

	ck_assert_int_eq(run(r, &f, 2, 0, &res), 0);
	ck_assert(minimize_is_minimal(&res));
	minimize_describe_cuts(res.best, 16, &b);
	ck_assert_str_eq(b.s, "cut 1 of 1 at byte 1 of 2: \"G\" | \"E\"\n");
	jbuf_free(&b);
	minimize_result_release(&res);
	fake_release(&f);
	record_free(r);
}
END_TEST

START_TEST(test_cut_anchored)
{
	static const size_t	 c0[] = { 4, 10, 14, 0 };
	static const size_t	*cuts[] = { c0 };
	static const char	*texts[] = { "SET k1 v1\r\nGET k1\r\n" };
	struct record		*r = mkrec(1, texts, cuts);
	struct fake		 f = { .crashes = crash_crlf };
	struct minimize_result	 res;
	const struct record_conn *c;

	ck_assert_int_eq(run(r, &f, 1, 0, &res), 0);
	c = &res.best->conns[0];
	/* "v1" is the rule's own; \r and \n stay on their sides of the cut. */
	ck_assert_uint_eq(c->blob.len, 4);
	ck_assert(memcmp(c->blob.data, "v1\r\n", 4) == 0);
	ck_assert_str_eq(cuts_of(c), "3");
	/* The gap of the fragment after the cut came along with it. */
	ck_assert_uint_eq(c->plan.gaps_us[1], 102);
	minimize_result_release(&res);
	fake_release(&f);
	record_free(r);
}
END_TEST

START_TEST(test_pair_of_connections)
{
	static const char	*texts[] = { "x1", "x2", "Aa", "x3", "x4", "x5",
	    "x6", "Bb", "x7" };
	struct record		*r = mkrec(9, texts, NULL);
	struct fake		 f = { .crashes = crash_pair };
	struct minimize_result	 res;

	ck_assert_int_eq(run(r, &f, 1, 0, &res), 0);
	ck_assert(minimize_is_minimal(&res));
	ck_assert_uint_eq(res.best->nconns, 2);
	ck_assert_str_eq(res.best->conns[0].blob.name, "b2");
	ck_assert_str_eq(res.best->conns[1].blob.name, "b7");
	/* Bytes go too: one each is enough for the rule. */
	ck_assert_uint_eq(res.best->conns[0].blob.len, 1);
	ck_assert_uint_eq(res.best->conns[1].blob.len, 1);
	ck_assert_uint_eq(f.repeats, 0);
	minimize_result_release(&res);
	fake_release(&f);
	record_free(r);
}
END_TEST

START_TEST(test_bisection_of_100)
{
	const char		*texts[100];
	const size_t		*cuts[100] = { 0 };
	static const size_t	 c57[] = { 2, 0 };
	struct record		*r;
	struct fake		 f = { .crashes = crash_split };
	struct minimize_result	 res;
	uint64_t		 conn_attempts = 0;

	for (int i = 0; i < 100; i++)
		texts[i] = "harmless";
	texts[57] = "CRASH";
	cuts[57] = c57;
	r = mkrec(100, texts, cuts);
	ck_assert_int_eq(run(r, &f, 1, 0, &res), 0);
	ck_assert_uint_eq(res.best->nconns, 1);
	ck_assert_str_eq(res.best->conns[0].blob.name, "b57");
	/* Halving finds it in far fewer attempts than one per suspect:
	 * about two per halving. */
	conn_attempts = res.stage_attempts[0];
	ck_assert_uint_le(conn_attempts, 16);
	ck_assert_uint_eq(res.stage_attempts[0] + res.stage_attempts[1] +
	    res.stage_attempts[2] + 2, res.attempts);
	minimize_result_release(&res);
	fake_release(&f);
	record_free(r);
}
END_TEST

START_TEST(test_flaky_rate)
{
	static const size_t	 c0[] = { 2, 7, 0 };
	static const size_t	*cuts[] = { c0 };
	static const char	*texts[] = { "xCRASHyz" };
	struct record		*r = mkrec(1, texts, cuts);
	struct fake		 f = { .crashes = crash_split, .every = 3 };
	struct minimize_result	 res;

	ck_assert_int_eq(run(r, &f, 3, 0, &res), 0);
	ck_assert_int_eq(res.end, MINIMIZE_DONE);
	ck_assert_uint_eq(res.first_hits, 1);
	ck_assert_uint_eq(res.first_tries, 3);
	ck_assert_uint_eq(res.per_candidate, 3);
	ck_assert_uint_eq(res.final_hits, 1);
	ck_assert_uint_eq(res.final_tries, 3);
	ck_assert(res.flaky);
	ck_assert(!minimize_is_minimal(&res));
	/* With three tries a candidate, a one-in-three fault still shrinks. */
	ck_assert_uint_eq(res.best->conns[0].blob.len, 5);
	ck_assert_str_eq(cuts_of(&res.best->conns[0]), "1");
	minimize_result_release(&res);
	fake_release(&f);
	record_free(r);
}
END_TEST

START_TEST(test_not_reproducible)
{
	static const char	*texts[] = { "hello", "world" };
	struct record		*r = mkrec(2, texts, NULL);
	struct fake		 f = { .crashes = crash_split };
	struct minimize_result	 res;

	ck_assert_int_eq(run(r, &f, 3, 0, &res), 0);
	ck_assert_int_eq(res.end, MINIMIZE_NOT_REPRODUCIBLE);
	ck_assert_ptr_null(res.best);
	ck_assert_uint_eq(res.attempts, 3);
	ck_assert_uint_eq(res.first_hits, 0);
	minimize_result_release(&res);
	fake_release(&f);
	record_free(r);
}
END_TEST

START_TEST(test_budget_keeps_best)
{
	static const size_t	 c0[] = { 3, 9, 12, 20, 0 };
	static const size_t	*cuts[] = { c0 };
	static const char	*texts[] = { "GET /CRASH HTTP/1.1\r\nHost: x\r\n\r\n" };
	struct record		*r = mkrec(1, texts, cuts);
	struct fake		 f = { .crashes = crash_split };
	struct minimize_result	 res;

	ck_assert_int_eq(run(r, &f, 1, 6, &res), 0);
	ck_assert_int_eq(res.end, MINIMIZE_BUDGET);
	ck_assert_uint_eq(res.attempts, 6);
	ck_assert_ptr_nonnull(res.best);
	ck_assert(crash_split(res.best));
	ck_assert_uint_eq(res.final_tries, 0);
	ck_assert(!minimize_is_minimal(&res));
	minimize_result_release(&res);
	fake_release(&f);
	record_free(r);
}
END_TEST

START_TEST(test_interrupt_keeps_best)
{
	static const size_t	 c0[] = { 3, 9, 12, 20, 0 };
	static const size_t	*cuts[] = { c0 };
	static const char	*texts[] = { "GET /CRASH HTTP/1.1\r\nHost: x\r\n\r\n" };
	struct record		*r = mkrec(1, texts, cuts);
	struct fake		 f = { .crashes = crash_split, .interrupt_at = 9 };
	struct minimize_result	 res;
	size_t			 conns, bytes, ncuts;

	ck_assert_int_eq(run(r, &f, 1, 0, &res), 0);
	ck_assert_int_eq(res.end, MINIMIZE_STOPPED);
	ck_assert_ptr_nonnull(res.best);
	ck_assert(crash_split(res.best));
	minimize_size(res.best, &conns, &bytes, &ncuts);
	ck_assert_uint_lt(ncuts, 4);
	minimize_result_release(&res);
	fake_release(&f);
	record_free(r);
}
END_TEST

START_TEST(test_attempt_error)
{
	static const char	*texts[] = { "hello" };
	struct record		*r = mkrec(1, texts, NULL);
	struct fake		 f = { .crashes = crash_split, .fail = 1 };
	struct minimize_result	 res;

	ck_assert_int_eq(run(r, &f, 3, 0, &res), -1);
	ck_assert_int_eq(res.end, MINIMIZE_ERROR);
	ck_assert_str_eq(res.cause, "the server could not be started");
	ck_assert_uint_eq(res.attempts, 1);
	minimize_result_release(&res);
	fake_release(&f);
	record_free(r);
}
END_TEST

START_TEST(test_early_close_prefix)
{
	static const size_t	 c0[] = { 1, 4, 0 };
	static const size_t	*cuts[] = { c0 };
	static const char	*texts[] = { "ABCDEFGH" };
	struct record		*r = mkrec(1, texts, cuts);
	struct fake		 f = { .crashes = crash_first1 };
	struct minimize_result	 res;

	r->conns[0].plan.close_after = 2;	/* "A", "BCD", then close */
	ck_assert_int_eq(run(r, &f, 1, 0, &res), 0);
	ck_assert_uint_eq(res.best->conns[0].blob.len, 2);
	ck_assert(memcmp(res.best->conns[0].blob.data, "AB", 2) == 0);
	ck_assert_uint_eq(res.best->conns[0].plan.close_after,
	    res.best->conns[0].plan.nfrags);
	minimize_result_release(&res);
	fake_release(&f);
	record_free(r);
}
END_TEST

/* The progress reports count as the result does: the first (the check of
 * the record) as its "from" figures, the last as the minimal case. */
START_TEST(test_progress_agrees_with_result)
{
	static const size_t	 c0[] = { 1, 4, 6, 0 };
	static const size_t	 c1[] = { 2, 0 };
	static const size_t	*cuts[] = { c0, c1 };
	static const char	*texts[] = { "ABCDEFGH", "xyz" };
	struct record		*r = mkrec(2, texts, cuts);
	struct fake		 f = { .crashes = crash_first1 };
	struct minimize_result	 res;
	size_t			 conns, bytes, ncuts;

	r->conns[0].plan.close_after = 2;	/* "A", "BCD", then close */
	ck_assert_int_eq(run(r, &f, 2, 0, &res), 0);
	ck_assert_uint_eq(res.orig_conns, progress_first.conns);
	ck_assert_uint_eq(res.orig_bytes, progress_first.bytes);
	ck_assert_uint_eq(res.orig_cuts, progress_first.cuts);
	ck_assert_uint_eq(res.orig_bytes, 4 + 3);
	ck_assert_uint_eq(res.orig_cuts, 1 + 1);
	minimize_size(res.best, &conns, &bytes, &ncuts);
	ck_assert_str_eq(progress_last.stage, "confirm");
	ck_assert_uint_eq(conns, progress_last.conns);
	ck_assert_uint_eq(bytes, progress_last.bytes);
	ck_assert_uint_eq(ncuts, progress_last.cuts);
	minimize_result_release(&res);
	fake_release(&f);
	record_free(r);
}
END_TEST

START_TEST(test_describe_cuts)
{
	static const size_t	 c0[] = { 10, 0 };
	static const size_t	 c1[] = { 2, 3, 0 };
	static const size_t	*cuts[] = { c0, c1 };
	static const char	*texts[] = { "SET k1 v1\r\nGET k1\r\n", "a\"\\\x01" };
	struct record		*r = mkrec(2, texts, cuts);
	struct jbuf		 b = { 0 };

	minimize_describe_cuts(r, 4, &b);
	ck_assert_str_eq(b.s,
	    "conn 1: cut 1 of 3 at byte 10 of 19: ...\" v1\\r\" | \"\\nGET\"...\n"
	    "conn 2: cut 2 of 3 at byte 2 of 4: \"a\\\"\" | \"\\\\\"\n"
	    "conn 2: cut 3 of 3 at byte 3 of 4: \"\\\\\" | \"\\x01\"\n");
	jbuf_free(&b);
	record_free(r);
}
END_TEST

START_TEST(test_reproducer_literals)
{
	static const size_t	 c0[] = { 1, 0 };
	static const size_t	*cuts[] = { c0 };
	static const char	*texts[] = { "\"\r\n\\\x7f" };
	struct record		*r = mkrec(1, texts, cuts);
	struct jbuf		 b = { 0 };

	free(r->conns[0].blob.name);
	r->conns[0].blob.name = xstrdup("evil\nname");
	reproducer_write(r, "target-exit\n(killed)", &b);
	ck_assert(strncmp(b.s, "#!/usr/bin/env python3\n", 23) == 0);
	ck_assert_ptr_nonnull(strstr(b.s, "minimize: target-exit?(killed)\n"));
	ck_assert_ptr_nonnull(strstr(b.s, "blob evil?name\n"));
	ck_assert_ptr_nonnull(strstr(b.s, "        b\"\\\"\",\n"
	    "        b\"\\r\\n\\\\\\x7f\",\n    ],\n]"));
	ck_assert_ptr_nonnull(strstr(b.s, "TCP_NODELAY, 1)"));
	ck_assert_ptr_nonnull(strstr(b.s, "TIOCOUTQ"));
	jbuf_free(&b);
	record_free(r);
}
END_TEST

Suite *
minimize_suite(void)
{
	Suite	*s = suite_create("minimize");
	TCase	*tc = tcase_create("ddmin");

	tcase_add_test(tc, test_split_token);
	tcase_add_test(tc, test_header_three_pieces);
	tcase_add_test(tc, test_first_read_one_byte);
	tcase_add_test(tc, test_cut_anchored);
	tcase_add_test(tc, test_pair_of_connections);
	tcase_add_test(tc, test_bisection_of_100);
	tcase_add_test(tc, test_flaky_rate);
	tcase_add_test(tc, test_not_reproducible);
	tcase_add_test(tc, test_budget_keeps_best);
	tcase_add_test(tc, test_interrupt_keeps_best);
	tcase_add_test(tc, test_attempt_error);
	tcase_add_test(tc, test_early_close_prefix);
	tcase_add_test(tc, test_progress_agrees_with_result);
	tcase_add_test(tc, test_describe_cuts);
	suite_add_tcase(s, tc);
	tc = tcase_create("reproducer");
	tcase_add_test(tc, test_reproducer_literals);
	suite_add_tcase(s, tc);
	return s;
}
