/* Unit tests: output files checked before a run, write errors at close. */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "util.h"

/* A path under the fixture's directory. */
static char *
path(const char *name)
{
	return xasprintf("%s/%s", check_dir, name);
}

START_TEST(test_check_refuses)
{
	char	*cause = NULL, *missing = path("no/such/dir/out.json");

	ck_assert_int_eq(util_output_check("--summary", check_dir, &cause), -1);
	ck_assert_msg(strstr(cause, "--summary ") == cause &&
	    strstr(cause, ": Is a directory") != NULL, "%s", cause);
	free(cause);
	ck_assert_int_eq(util_output_check("--trace", missing, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, ": No such file or directory"));
	ck_assert_ptr_null(strchr(cause, '\n'));
	free(cause);
	free(missing);
}
END_TEST

/* A check leaves no new file behind, and an old one as it was. */
START_TEST(test_check_leaves_no_trace)
{
	char		*cause = NULL, *p = path("s.json");
	struct stat	 st;
	FILE		*f;

	ck_assert_int_eq(util_output_check("--summary", p, &cause), 0);
	ck_assert_int_eq(stat(p, &st), -1);
	f = fopen(p, "w");
	fputs("old", f);
	fclose(f);
	ck_assert_int_eq(util_output_check("--summary", p, &cause), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_size, 3);
	free(p);
}
END_TEST

/* /dev/full opens; its failure shows when the file is closed. */
START_TEST(test_close_reports_write_errors)
{
	char	*cause = NULL, *p = path("ok");
	FILE	*f;
	int	 err = 0;

	f = util_output_open("--stats-file", "/dev/full", &cause);
	ck_assert_ptr_nonnull(f);
	fputs("Stats: x\n", f);
	ck_assert_int_eq(util_output_flush(f, &err), -1);
	ck_assert_int_eq(err, ENOSPC);
	fputs("Stats: y\n", f);
	ck_assert_int_eq(util_output_close(f, "--stats-file", "/dev/full",
	    err, &cause), -1);
	ck_assert_str_eq(cause, "--stats-file /dev/full: write failed: No "
	    "space left on device");
	free(cause);
	f = util_output_open("--trace", p, &cause);
	ck_assert_ptr_nonnull(f);
	fputs("{}\n", f);
	ck_assert_int_eq(util_output_close(f, "--trace", p, 0, &cause), 0);
	ck_assert_int_eq(util_output_close(NULL, "--trace", p, 0, &cause), 0);
	f = util_output_open("--trace", "/dev/full", &cause);
	fputs("{}\n", f);	/* never flushed: the close finds it */
	ck_assert_int_eq(util_output_close(f, "--trace", "/dev/full", 0,
	    &cause), -1);
	ck_assert_str_eq(cause, "--trace /dev/full: write failed: No space "
	    "left on device");
	free(cause);
	free(p);
}
END_TEST

/* UTF-8: valid text, and the forms that are not. */
static const struct {
	const char	*s;
	int		 ok;
} utf8_cases[] = {
	{ "", 1 }, { "abc\r\n", 1 }, { "caf\xc3\xa9", 1 },
	{ "\xe2\x82\xac", 1 }, { "\xf0\x9f\x98\x80", 1 },
	{ "\xf4\x8f\xbf\xbf", 1 },		/* U+10FFFF */
	{ "\xfe\xff", 0 }, { "\xc3", 0 }, { "\xc0\xaf", 0 },	/* overlong */
	{ "\xe0\x80\xaf", 0 }, { "\xed\xa0\x80", 0 },	/* surrogate */
	{ "\xf4\x90\x80\x80", 0 }, { "a\x80" "b", 0 }, { "\xe2\x82", 0 },
};

START_TEST(test_utf8_valid)
{
	ck_assert_msg(util_utf8_valid(utf8_cases[_i].s) == utf8_cases[_i].ok,
	    "case %d", _i);
}
END_TEST

Suite *
util_suite(void)
{
	Suite	*s = suite_create("util");
	TCase	*tc = tcase_create("outputs");

	tcase_add_checked_fixture(tc, check_tmpdir_setup, check_tmpdir_teardown);
	tcase_add_test(tc, test_check_refuses);
	tcase_add_loop_test(tc, test_utf8_valid, 0,
	    (int)(sizeof utf8_cases / sizeof utf8_cases[0]));
	tcase_add_test(tc, test_check_leaves_no_trace);
	tcase_add_test(tc, test_close_reports_write_errors);
	suite_add_tcase(s, tc);
	return s;
}
