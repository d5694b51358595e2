/* Unit tests: the seeded generator and split planning. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "plan.h"
#include "rng.h"

static const struct plan_params defaults = {
	.split = PLAN_SPLIT_UNIFORM,
	.fastopen_chance = 2,
	.close_chance = 500,
};

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
	ck_assert_uint_eq(plan_prefix(p, p->nfrags), len);
}

START_TEST(test_plan_invariants)
{
	static const size_t	lens[] = { 1, 2, 3, 17, 100, 4096, 65537 };
	struct plan		p = { 0 };

	for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
		for (uint64_t i = 0; i < 500; i++) {
			ck_assert_int_eq(plan_make(&p, 99, i, lens[l],
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
		ck_assert_int_eq(plan_make(&a, 5, i, 1000, &defaults), 0);
		ck_assert_int_eq(plan_make(&b, 5, i, 1000, &defaults), 0);
		ck_assert_int_eq(plan_make(&c, 6, i, 1000, &defaults), 0);
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
		ck_assert_int_eq(plan_make(&p, 11, i, LEN, &defaults), 0);
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
	ck_assert_int_eq(plan_make(&p, 1, 0, 0, &defaults), 0);
	ck_assert_uint_eq(p.nfrags, 0);
	ck_assert_uint_eq(p.close_after, 0);
	ck_assert_int_eq(p.fastopen, 0);

	always.close_chance = 1;
	ck_assert_int_eq(plan_make(&p, 1, 0, 50, &always), 0);
	ck_assert_uint_eq(p.close_after, 0);

	for (uint64_t i = 0; i < 5000; i++) {
		ck_assert_int_eq(plan_make(&p, 2, i, 10000, &defaults), 0);
		early += p.close_after < p.nfrags;
	}
	/* 1 in 500 per fragment, about 2.7 fragments: about 27 in 5000. */
	ck_assert_uint_gt(early, 5);
	ck_assert_uint_lt(early, 80);

	bounded.max_fragments = 2;
	for (uint64_t i = 0; i < 200; i++) {
		ck_assert_int_eq(plan_make(&p, 3, i, 1000, &bounded), 0);
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
	suite_add_tcase(s, rng);
	suite_add_tcase(s, plan);
	return s;
}
