/* Unit tests: statistics arithmetic and formatting, finding kinds. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check_suites.h"
#include "finding.h"
#include "stats.h"

START_TEST(test_rates)
{
	struct stats		prev = { 0 }, cur = { 0 };
	struct stats_rates	r;

	prev.conns_started = 100;
	prev.fragments = 50;
	prev.ready = 10;
	cur.conns_started = 300;
	cur.conns_established = 200;
	cur.cycles_to_connect = 260;
	cur.fragments = 650;
	cur.bytes = 4000;
	cur.ready = 40;
	cur.not_ready = 10;
	cur.conns_completed = 200;
	stats_rates(&cur, &prev, 2.0, &r);
	ck_assert_double_eq_tol(r.conns_per_s, 100.0, 1e-9);
	ck_assert_double_eq_tol(r.fragments_per_s, 300.0, 1e-9);
	ck_assert_double_eq_tol(r.bytes_per_s, 2000.0, 1e-9);
	ck_assert_double_eq_tol(r.mean_cycles_to_connect, 1.3, 1e-9);
	ck_assert_double_eq_tol(r.ready_to_send, 0.75, 1e-9);
	ck_assert_double_eq_tol(r.fragments_per_conn, 3.0, 1e-9);
}
END_TEST

START_TEST(test_rates_empty_interval)
{
	struct stats		s = { 0 };
	struct stats_rates	r;

	stats_rates(&s, &s, 0.0, &r);
	ck_assert_double_eq(r.conns_per_s, 0.0);
	ck_assert_double_eq(r.mean_cycles_to_connect, 0.0);
	ck_assert_double_eq(r.ready_to_send, 1.0);
	ck_assert_double_eq(r.fragments_per_conn, 0.0);
}
END_TEST

START_TEST(test_format_line)
{
	struct stats		s = { 0 };
	struct stats_rates	r;
	char			buf[512], small[20];

	s.rounds = 7400;
	s.findings[FINDING_RESET] = 3;
	s.ready = 1;
	stats_rates(&s, &(struct stats){ 0 }, 1.0, &r);
	stats_format_line(buf, sizeof buf, &s, &r);
	ck_assert_msg(strncmp(buf, "rounds=7400, mean_cycles_to_connect=0.00,"
	    " ready_to_send=1.00", 58) == 0, "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "reset=3"));
	ck_assert_ptr_nonnull(strstr(buf, "refused=0"));
	/* Truncation stays a terminated string. */
	stats_format_line(small, sizeof small, &s, &r);
	ck_assert_uint_lt(strlen(small), sizeof small);
	ck_assert_uint_eq(stats_findings(&s), 3);
}
END_TEST

/* JSON stats lines: jansson, integers for counts, null for no fidelity. */
START_TEST(test_json_line)
{
	struct stats		cur = { .rounds = 3, .fragments = 12345678901ULL,
	    .fid_checked = 0 };
	struct stats_rates	r = { .seconds = 1.23456, .fidelity = -1,
	    .ready_to_send = 0.123456, .bytes_per_s = 99.6 };
	json_error_t		err;
	json_t			*o;
	char			*s;

	cur.findings[FINDING_RESET] = 2;
	s = stats_json_line(&cur, &r);
	ck_assert_ptr_null(strchr(s, '\n'));
	ck_assert_msg(strncmp(s, "{\"seconds\":1.235,\"rounds\":3,", 27) == 0,
	    "%s", s);
	o = json_loads(s, JSON_REJECT_DUPLICATES, &err);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_is_null(json_object_get(o, "fidelity")));
	ck_assert_int_eq(json_integer_value(json_object_get(o, "fragments")),
	    12345678901LL);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "bytes/s")),
	    100);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "reset")), 2);
	ck_assert(json_real_value(json_object_get(o, "ready_to_send")) ==
	    0.1235);
	json_decref(o);
	free(s);
}
END_TEST

/* The terminal's live line: what fits, whole figures, most useful first. */
START_TEST(test_format_fit)
{
	struct stats		cur = { .rounds = 7, .conns_started = 123456,
	    .fid_checked = 10, .fid_ok = 9 };
	struct stats_rates	r = { .fragments_per_s = 98765,
	    .conns_per_s = 4321, .fidelity = 0.9, .bytes_per_s = 1e9 };
	char			buf[512];
	size_t			widths[] = { 0, 9, 10, 25, 40, 80, 132, 400 };
	size_t			n, prev = 0;

	cur.findings[FINDING_HANG] = 3;
	for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
		n = stats_format_fit(buf, sizeof buf, widths[i], &cur, &r);
		ck_assert_uint_eq(n, strlen(buf));
		ck_assert_msg(n <= widths[i], "%zu > %zu: %s", n, widths[i], buf);
		ck_assert_uint_ge(n, prev);
		prev = n;
		if (n > 0)
			ck_assert_msg(strncmp(buf, "frags/s=98765", 13) == 0,
			    "%s", buf);
		ck_assert(n == 0 || buf[n - 1] != ' ');
	}
	n = stats_format_fit(buf, sizeof buf, 80, &cur, &r);
	ck_assert_str_eq(buf, "frags/s=98765 conns/s=4321 fidelity=0.90 "
	    "findings=3 conns=123456 coverage=0.00");
	n = stats_format_fit(buf, sizeof buf, 9, &cur, &r);
	ck_assert_str_eq(buf, "");	/* "frags/s=98765" does not fit */
	n = stats_format_fit(buf, sizeof buf, 400, &cur, &r);
	ck_assert_ptr_nonnull(strstr(buf, "mean_cycles_to_connect=0.00"));
	ck_assert_ptr_nonnull(strstr(buf, "bytes/s=1000000000"));
	ck_assert_int_eq(stats_format_fit(buf, 20, 400, &cur, &r) < 20, 1);
}
END_TEST

/* Kind names and back. */
START_TEST(test_kind_from_name)
{
	for (int k = 0; k < FINDING__COUNT; k++)
		ck_assert_int_eq(finding_kind_from_name(finding_kind_name(
		    (enum finding_kind)k)), k);
	ck_assert_int_eq(finding_kind_from_name("crash"), FINDING__COUNT);
	ck_assert_int_eq(finding_kind_from_name(""), FINDING__COUNT);
	ck_assert_int_eq(finding_kind_from_name("unknown"), FINDING__COUNT);
	ck_assert_int_eq(finding_kind_from_name("Reset"), FINDING__COUNT);
}
END_TEST

START_TEST(test_finding_kinds)
{
	unsigned	 m;
	char		*cause = NULL;

	ck_assert_int_eq(finding_parse_kinds("connect", &m, &cause), 0);
	ck_assert_uint_eq(m, FINDING_MASK_CONNECT);
	ck_assert_int_eq(finding_parse_kinds("reset,hang", &m, &cause), 0);
	ck_assert_uint_eq(m, FINDING_BIT(FINDING_RESET) |
	    FINDING_BIT(FINDING_HANG));
	ck_assert_int_eq(finding_parse_kinds("all", &m, &cause), 0);
	ck_assert_uint_eq(m, FINDING_MASK_ALL);
	ck_assert_int_eq(finding_parse_kinds("none", &m, &cause), 0);
	ck_assert_uint_eq(m, 0);
	ck_assert_int_eq(finding_parse_kinds("reset,", &m, &cause), -1);
	free(cause);
	ck_assert_int_eq(finding_parse_kinds("resets", &m, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "'resets'"));
	free(cause);
	ck_assert_str_eq(finding_kind_name(FINDING_HANG), "hang");
	ck_assert_str_eq(finding_kind_name(FINDING__COUNT), "unknown");
}
END_TEST

Suite *
stats_suite(void)
{
	Suite	*s = suite_create("stats");
	TCase	*tc = tcase_create("arithmetic");

	tcase_add_test(tc, test_rates);
	tcase_add_test(tc, test_rates_empty_interval);
	tcase_add_test(tc, test_format_line);
	tcase_add_test(tc, test_json_line);
	tcase_add_test(tc, test_format_fit);
	tcase_add_test(tc, test_kind_from_name);
	suite_add_tcase(s, tc);
	return s;
}

Suite *
finding_suite(void)
{
	Suite	*s = suite_create("finding");
	TCase	*tc = tcase_create("kinds");

	tcase_add_test(tc, test_finding_kinds);
	suite_add_tcase(s, tc);
	return s;
}
