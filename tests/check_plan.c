/* Unit tests: the seeded generator and split planning. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "coverage.h"
#include "plan.h"
#include "rng.h"

static const struct plan_params defaults = {
	.split = PLAN_SPLIT_UNIFORM,
	.fastopen_chance = 2,
	.close_chance = 500,
};

/* A blob of len bytes: an HTTP-like text, repeated. */
static unsigned char text[70000];

/* Fills text once. */
static void
text_init(void)
{
	static const char	line[] = "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n";

	for (size_t i = 0; i < sizeof text; i++)
		text[i] = (unsigned char)line[i % (sizeof line - 1)];
}

/* plan_make for connection i of a blob of len bytes of text. */
static int
make(struct plan *p, uint64_t seed, uint64_t i, size_t len,
    const struct plan_params *pp)
{
	return plan_make(p, seed, i, i, text, len, pp);
}

START_TEST(test_rng_repeatable)
{
	struct rng	a, b, c;
	int		differ = 0;

	rng_seed(&a, 42, 7);
	rng_seed(&b, 42, 7);
	rng_seed(&c, 42, 8);
	for (int i = 0; i < 1000; i++) {
		uint64_t	x = rng_next(&a);

		ck_assert_uint_eq(x, rng_next(&b));
		differ += x != rng_next(&c);
	}
	ck_assert_int_gt(differ, 990);
}
END_TEST

START_TEST(test_rng_known_values)
{
	uint64_t	s = 0;

	/* splitmix64's published first outputs for state 0. */
	ck_assert_uint_eq(rng_splitmix64(&s), 0xe220a8397b1dcdafULL);
	ck_assert_uint_eq(rng_splitmix64(&s), 0x6e789e6aa1b965f4ULL);
}
END_TEST

START_TEST(test_rng_below_uniform)
{
	struct rng	r;
	unsigned	counts[10] = { 0 };

	rng_seed(&r, 1, 1);
	for (int i = 0; i < 100000; i++) {
		uint64_t	v = rng_below(&r, 10);

		ck_assert_uint_lt(v, 10);
		counts[v]++;
	}
	for (int i = 0; i < 10; i++) {
		ck_assert_uint_gt(counts[i], 9500);
		ck_assert_uint_lt(counts[i], 10500);
	}
	ck_assert_uint_eq(rng_below(&r, 1), 0);
}
END_TEST

START_TEST(test_rng_one_in)
{
	struct rng	r;
	unsigned	hits = 0;

	rng_seed(&r, 3, 0);
	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(rng_one_in(&r, 0), 0);
		ck_assert_int_eq(rng_one_in(&r, 1), 1);
	}
	for (int i = 0; i < 40000; i++)
		hits += (unsigned)rng_one_in(&r, 4);
	ck_assert_uint_gt(hits, 9500);
	ck_assert_uint_lt(hits, 10500);
}
END_TEST

/* Checks the invariants every plan must hold. */
static void
check_plan(const struct plan *p, size_t len)
{
	size_t	sum = 0;

	for (uint32_t i = 0; i < p->nfrags; i++) {
		ck_assert_uint_ge(p->sizes[i], 1);
		ck_assert_uint_le(p->sizes[i], len);
		sum += p->sizes[i];
	}
	ck_assert_uint_eq(sum, len);
	ck_assert_uint_le(p->close_after, p->nfrags);
}

START_TEST(test_plan_invariants)
{
	static const size_t	lens[] = { 1, 2, 3, 17, 100, 4096, 65537 };
	struct plan		p = { 0 };

	for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
		for (uint64_t i = 0; i < 500; i++) {
			ck_assert_int_eq(make(&p, 99, i, lens[l],
			    &defaults), 0);
			check_plan(&p, lens[l]);
		}
	}
	plan_release(&p);
}
END_TEST

START_TEST(test_plan_repeatable)
{
	struct plan	a = { 0 }, b = { 0 }, c = { 0 };
	int		differ = 0;

	for (uint64_t i = 0; i < 200; i++) {
		ck_assert_int_eq(make(&a, 5, i, 1000, &defaults), 0);
		ck_assert_int_eq(make(&b, 5, i, 1000, &defaults), 0);
		ck_assert_int_eq(make(&c, 6, i, 1000, &defaults), 0);
		ck_assert_uint_eq(a.nfrags, b.nfrags);
		ck_assert_int_eq(a.fastopen, b.fastopen);
		ck_assert_uint_eq(a.close_after, b.close_after);
		ck_assert_int_eq(memcmp(a.sizes, b.sizes,
		    a.nfrags * sizeof *a.sizes), 0);
		differ += a.nfrags != c.nfrags || memcmp(a.sizes, c.sizes,
		    a.nfrags * sizeof *a.sizes) != 0;
	}
	/* Another seed gives other plans (nearly always). */
	ck_assert_int_gt(differ, 190);
	plan_release(&a);
	plan_release(&b);
	plan_release(&c);
}
END_TEST

START_TEST(test_plan_covers_range)
{
	enum { LEN = 8 };
	struct plan	p = { 0 };
	unsigned	seen[LEN + 1] = { 0 };
	unsigned	frags = 0, conns = 2000, fastopen = 0;

	for (uint64_t i = 0; i < conns; i++) {
		ck_assert_int_eq(make(&p, 11, i, LEN, &defaults), 0);
		/* First fragment: uniform over 1..LEN. */
		seen[p.sizes[0]]++;
		frags += p.nfrags;
		fastopen += (unsigned)p.fastopen;
	}
	for (int s = 1; s <= LEN; s++)
		ck_assert_msg(seen[s] > conns / LEN / 2, "size %d seen %u", s,
		    seen[s]);
	/* Uniform over 1..len, clipped: fewer than e fragments a stream. */
	ck_assert_uint_gt(frags, conns * 2);
	ck_assert_uint_lt(frags, conns * 272 / 100);
	/* --fastopen-chance 2: about half. */
	ck_assert_uint_gt(fastopen, conns * 45 / 100);
	ck_assert_uint_lt(fastopen, conns * 55 / 100);
	plan_release(&p);
}
END_TEST

START_TEST(test_plan_close_and_edges)
{
	struct plan		p = { 0 };
	struct plan_params	always = defaults, bounded = defaults;
	unsigned		early = 0;

	/* Zero-byte blob: nothing to send, no fast open. */
	ck_assert_int_eq(make(&p, 1, 0, 0, &defaults), 0);
	ck_assert_uint_eq(p.nfrags, 0);
	ck_assert_uint_eq(p.close_after, 0);
	ck_assert_int_eq(p.fastopen, 0);

	always.close_chance = 1;
	ck_assert_int_eq(make(&p, 1, 0, 50, &always), 0);
	ck_assert_uint_eq(p.close_after, 0);

	for (uint64_t i = 0; i < 5000; i++) {
		ck_assert_int_eq(make(&p, 2, i, 10000, &defaults), 0);
		early += p.close_after < p.nfrags;
	}
	/* 1 in 500 per fragment, about 2.7 fragments: about 27 in 5000. */
	ck_assert_uint_gt(early, 5);
	ck_assert_uint_lt(early, 80);

	bounded.max_fragments = 2;
	for (uint64_t i = 0; i < 200; i++) {
		ck_assert_int_eq(make(&p, 3, i, 1000, &bounded), 0);
		ck_assert_uint_le(p.nfrags, 2);
		check_plan(&p, 1000);
	}
	plan_release(&p);
	plan_release(NULL);
}
END_TEST

START_TEST(test_split_names)
{
	enum plan_split	s;

	ck_assert_str_eq(plan_split_name(PLAN_SPLIT_UNIFORM), "uniform");
	ck_assert_int_eq(plan_split_parse("uniform", &s), 0);
	ck_assert_int_eq(s, PLAN_SPLIT_UNIFORM);
	ck_assert_int_eq(plan_split_parse("nope", &s), -1);
	ck_assert_ptr_null(plan_split_name(PLAN_SPLIT__COUNT));
}
END_TEST

static const enum plan_split all_splits[] = {
	PLAN_SPLIT_UNIFORM, PLAN_SPLIT_SMALL, PLAN_SPLIT_BYTEWISE,
	PLAN_SPLIT_DELIMITER, PLAN_SPLIT_SWEEP, PLAN_SPLIT_MIX,
};

START_TEST(test_strategy_invariants)
{
	static const size_t	lens[] = { 1, 2, 3, 5, 17, 100, 4096, 65537 };
	struct plan_params	pp = defaults;
	struct plan		p = { 0 }, q = { 0 };

	text_init();
	pp.split = all_splits[_i];
	for (uint32_t max = 0; max <= 256; max += 256) {
		pp.max_fragments = max;
		for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
			/* Unbounded plans of long blobs are long: fewer. */
			uint64_t n = max == 0 && lens[l] > 5000 ? 3 : 60;

			for (uint64_t i = 0; i < n; i++) {
				ck_assert_int_eq(make(&p, 9, i, lens[l], &pp), 0);
				check_plan(&p, lens[l]);
				if (max != 0)
					ck_assert_uint_le(p.nfrags, max);
				ck_assert_int_ne(p.split, PLAN_SPLIT_MIX);
				/* Same seed and index: the same plan. */
				ck_assert_int_eq(make(&q, 9, i, lens[l], &pp), 0);
				ck_assert_uint_eq(p.nfrags, q.nfrags);
				ck_assert_int_eq(memcmp(p.sizes, q.sizes,
				    p.nfrags * sizeof *p.sizes), 0);
			}
		}
	}
	plan_release(&p);
	plan_release(&q);
}
END_TEST

/* Share (percent) of fragments of 1 to 4 bytes over 500 plans. */
static unsigned
tiny_share(enum plan_split split, size_t len)
{
	struct plan_params	pp = defaults;
	struct plan		p = { 0 };
	unsigned		tiny = 0, all = 0;

	pp.split = split;
	for (uint64_t i = 0; i < 500; i++) {
		ck_assert_int_eq(make(&p, 4, i, len, &pp), 0);
		for (uint32_t k = 0; k < p.nfrags; k++) {
			tiny += p.sizes[k] <= 4;
			all++;
		}
	}
	plan_release(&p);
	return tiny * 100 / all;
}

START_TEST(test_small_is_small)
{
	text_init();
	/* Log-uniform over 10 bit lengths: 1-3 bytes 1/5, 4 bytes 1/40. */
	ck_assert_uint_ge(tiny_share(PLAN_SPLIT_SMALL, 1000), 18);
	ck_assert_uint_le(tiny_share(PLAN_SPLIT_UNIFORM, 1000), 5);
}
END_TEST

START_TEST(test_bytewise)
{
	struct plan_params	pp = defaults;
	struct plan		p = { 0 };
	uint32_t		ones = 0;

	text_init();
	pp.split = PLAN_SPLIT_BYTEWISE;
	ck_assert_int_eq(make(&p, 1, 0, 50, &pp), 0);
	ck_assert_uint_eq(p.nfrags, 50);
	pp.max_fragments = 256;
	ck_assert_int_eq(make(&p, 1, 3, 1000, &pp), 0);
	ck_assert_uint_le(p.nfrags, 256);
	for (uint32_t k = 0; k < p.nfrags; k++)
		ones += p.sizes[k] == 1;
	ck_assert_uint_ge(ones, 254);
	plan_release(&p);
}
END_TEST

START_TEST(test_delimiter_cuts_at_structure)
{
	struct plan_params	pp = defaults;
	struct plan		p = { 0 };
	unsigned		at = 0, all = 0;
	unsigned char		blob[200];

	/* A blob with few structure bytes: random cuts would seldom hit. */
	memset(blob, 'a', sizeof blob);
	memcpy(blob + 60, "\r\n", 2);
	memcpy(blob + 120, "key: v", 6);
	pp.split = PLAN_SPLIT_DELIMITER;
	for (uint64_t i = 0; i < 500; i++) {
		size_t	pos = 0;

		ck_assert_int_eq(plan_make(&p, 8, i, i, blob, sizeof blob, &pp),
		    0);
		check_plan(&p, sizeof blob);
		for (uint32_t k = 0; k + 1 < p.nfrags; k++) {
			pos += p.sizes[k];
			at += (unsigned)plan_is_structure(blob, sizeof blob,
			    pos);
			all++;
		}
	}
	/* About 4 structural cuts to 1 random one. */
	ck_assert_msg(at * 100 / all >= 65, "%u of %u cuts at structure", at,
	    all);
	ck_assert_int_eq(plan_is_structure(blob, sizeof blob, 3), 1);
	ck_assert_int_eq(plan_is_structure(blob, sizeof blob, 61), 1);
	ck_assert_int_eq(plan_is_structure(blob, sizeof blob, 30), 0);
	ck_assert_int_eq(plan_is_structure((const unsigned char *)
	    "aaaaaaaaaa\xc3\xa9", 12, 11), 1);
	plan_release(&p);
}
END_TEST

START_TEST(test_sweep_order)
{
	struct plan_params	pp = defaults;
	struct plan		p = { 0 };
	static const uint32_t	want[][3] = {
		{ 1, 4, 0 }, { 2, 3, 0 }, { 3, 2, 0 }, { 4, 1, 0 },
		{ 1, 1, 3 }, { 1, 2, 2 }, { 1, 3, 1 }, { 2, 1, 2 },
		{ 2, 2, 1 }, { 3, 1, 1 }, { 1, 4, 0 },
	};
	size_t			cuts[2], seen = 0;

	text_init();
	pp.split = PLAN_SPLIT_SWEEP;
	pp.close_chance = 0;
	for (uint64_t v = 0; v < sizeof want / sizeof want[0]; v++) {
		ck_assert_int_eq(plan_make(&p, 1, v, v, text, 5, &pp), 0);
		for (uint32_t k = 0; k < 3; k++)
			ck_assert_uint_eq(k < p.nfrags ? p.sizes[k] : 0,
			    want[v][k]);
	}
	/* A longer blob: every single cut, then pairs at most 8 apart. */
	for (uint64_t m = 0; m < 19; m++) {
		ck_assert_uint_eq(plan_sweep_cuts(20, m, cuts), 1);
		ck_assert_uint_eq(cuts[0], m + 1);
	}
	for (uint64_t m = 19;; m++) {
		if (plan_sweep_cuts(20, m, cuts) == 1) {
			ck_assert_uint_eq(cuts[0], 1);	/* wrapped */
			break;
		}
		ck_assert_uint_lt(cuts[0], cuts[1]);
		ck_assert_uint_le(cuts[1] - cuts[0], PLAN_SWEEP_WINDOW);
		ck_assert_uint_le(cuts[1], 19);
		seen++;
	}
	/* Pairs (i, j), 1 <= i < j <= 19, j - i <= 8: 11 * 8 + 28. */
	ck_assert_uint_eq(seen, 116);
	ck_assert_uint_eq(plan_sweep_cuts(1, 0, cuts), 0);
	plan_release(&p);
}
END_TEST

START_TEST(test_mix)
{
	struct plan_params	pp = defaults;
	struct plan		p = { 0 };
	unsigned		count[PLAN_SPLIT__COUNT] = { 0 };
	uint64_t		sweeps = 0;

	text_init();
	pp.split = PLAN_SPLIT_MIX;
	for (uint64_t v = 0; v < 16 * 20; v++) {
		ck_assert_int_eq(plan_make(&p, 77, v * 3, v, text, 40, &pp), 0);
		count[p.split]++;
		ck_assert_int_eq(p.split, plan_mix_pick(77, v));
		if (p.split == PLAN_SPLIT_SWEEP) {
			size_t		cuts[2];
			unsigned	n = plan_sweep_cuts(40, sweeps++, cuts);

			/* The sweep walks on across the other strategies. */
			ck_assert_uint_eq(p.nfrags, n + 1);
			ck_assert_uint_eq(p.sizes[0], cuts[0]);
		}
	}
	for (int s = 0; s < PLAN_SPLIT_MIX; s++)
		ck_assert_uint_eq(count[s], plan_mix_weight((enum plan_split)s) *
		    20);
	ck_assert_uint_eq(count[PLAN_SPLIT_MIX], 0);
	plan_release(&p);
}
END_TEST

START_TEST(test_coverage)
{
	ck_assert_uint_eq(coverage_tracked(0), 0);
	ck_assert_uint_eq(coverage_tracked(1), 0);
	ck_assert_uint_eq(coverage_tracked(10), 9);
	ck_assert_uint_eq(coverage_tracked(1000000), 2 * COVERAGE_EDGE);
	ck_assert_uint_eq(coverage_slot(10, 0), SIZE_MAX);
	ck_assert_uint_eq(coverage_slot(10, 1), 0);
	ck_assert_uint_eq(coverage_slot(10, 9), 8);
	ck_assert_uint_eq(coverage_slot(10, 10), SIZE_MAX);
	ck_assert_uint_eq(coverage_slot(1000000, COVERAGE_EDGE), COVERAGE_EDGE - 1);
	ck_assert_uint_eq(coverage_slot(1000000, COVERAGE_EDGE + 1), SIZE_MAX);
	ck_assert_uint_eq(coverage_slot(1000000, 1000000 - COVERAGE_EDGE),
	    COVERAGE_EDGE);
	ck_assert_uint_eq(coverage_slot(1000000, 999999), 2 * COVERAGE_EDGE - 1);
}
END_TEST

/* A whole send: one fragment, or one per message (each a turn); never fast
 * open or an early close. */
START_TEST(test_whole)
{
	static const unsigned char	 blob[] = "HELO a\r\nMAIL FROM:<b>\r\nQUIT\r\n";
	struct turn_spec		 turns;
	struct plan			 p = { 0 };
	char				*cause = NULL;

	ck_assert_int_eq(plan_whole(&p, blob, sizeof blob - 1, NULL), 0);
	ck_assert_uint_eq(p.nfrags, 1);
	ck_assert_uint_eq(p.sizes[0], sizeof blob - 1);
	ck_assert_uint_eq(p.close_after, 1);
	ck_assert_int_eq(p.fastopen, 0);
	ck_assert_uint_eq(p.nturns, 0);
	ck_assert_int_eq(turn_parse("\\r\\n", &turns, &cause), 0);
	ck_assert_int_eq(plan_whole(&p, blob, sizeof blob - 1, &turns), 0);
	ck_assert_uint_eq(p.nfrags, 3);
	ck_assert_uint_eq(p.sizes[0], 8);
	ck_assert_uint_eq(p.sizes[1], 15);
	ck_assert_uint_eq(p.sizes[2], 6);
	ck_assert_uint_eq(p.nturns, 3);
	for (uint32_t k = 0; k < 3; k++)
		ck_assert_int_eq(plan_turn_after(&p, k), 1);
	ck_assert_uint_eq(p.close_after, 3);
	plan_release(&p);
}
END_TEST

Suite *
plan_suite(void)
{
	Suite	*s = suite_create("plan");
	TCase	*rng = tcase_create("rng");
	TCase	*plan = tcase_create("plan");

	tcase_add_test(rng, test_rng_repeatable);
	tcase_add_test(rng, test_rng_known_values);
	tcase_add_test(rng, test_rng_below_uniform);
	tcase_add_test(rng, test_rng_one_in);
	tcase_add_test(plan, test_plan_invariants);
	tcase_add_test(plan, test_plan_repeatable);
	tcase_add_test(plan, test_plan_covers_range);
	tcase_add_test(plan, test_plan_close_and_edges);
	tcase_add_test(plan, test_split_names);
	tcase_add_loop_test(plan, test_strategy_invariants, 0,
	    (int)(sizeof all_splits / sizeof all_splits[0]));
	tcase_add_test(plan, test_small_is_small);
	tcase_add_test(plan, test_bytewise);
	tcase_add_test(plan, test_delimiter_cuts_at_structure);
	tcase_add_test(plan, test_sweep_order);
	tcase_add_test(plan, test_mix);
	tcase_add_test(plan, test_coverage);
	tcase_add_test(plan, test_whole);
	suite_add_tcase(s, rng);
	suite_add_tcase(s, plan);
	return s;
}
