/* Unit tests: loading the blob directory. */
#include <sys/stat.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "corpus.h"

/* Writes a file of n bytes (value 'a' + i % 26) into the test dir. */
static void
put(const char *name, size_t n)
{
	char	path[512];
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", check_dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < n; i++)
		fputc('a' + (int)(i % 26), f);
	fclose(f);
}

/* Loads the test dir and expects failure with a message containing want. */
static void
expect_error(const char *want)
{
	char		*cause = NULL;
	struct corpus	*c = corpus_load(check_dir, &cause);

	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, want) != NULL, "'%s' lacks '%s'", cause,
	    want);
	ck_assert_ptr_null(strchr(cause, '\n'));
	free(cause);
}

START_TEST(test_load_sorted_stats)
{
	char		*cause = NULL;
	struct corpus	*c;
	char		 sub[600];

	put("b", 10);
	put("a", 2);
	put("c", 0);
	put(".hidden", 100);
	snprintf(sub, sizeof sub, "%s/subdir", check_dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	c = corpus_load(check_dir, &cause);
	ck_assert_msg(c != NULL, "%s", cause);
	ck_assert_uint_eq(c->n, 3);
	ck_assert_str_eq(c->blobs[0].name, "a");
	ck_assert_str_eq(c->blobs[1].name, "b");
	ck_assert_str_eq(c->blobs[2].name, "c");
	ck_assert_uint_eq(c->blobs[1].len, 10);
	ck_assert_int_eq(memcmp(c->blobs[1].data, "abcdefghij", 10), 0);
	ck_assert_uint_eq(c->min, 0);
	ck_assert_uint_eq(c->max, 10);
	ck_assert_uint_eq(c->total, 12);
	ck_assert_uint_eq(corpus_mean(c), 4);
	ck_assert_uint_eq(c->skipped_dirs, 1);
	ck_assert_uint_eq(c->skipped_hidden, 1);
	corpus_free(c);
}
END_TEST

START_TEST(test_missing_dir)
{
	char	*cause = NULL;

	ck_assert_ptr_null(corpus_load("/nonexistent/stutterfuzz", &cause));
	ck_assert_ptr_nonnull(strstr(cause, "No such file or directory"));
	ck_assert_ptr_nonnull(strstr(cause, "/nonexistent/stutterfuzz"));
	free(cause);
}
END_TEST

START_TEST(test_empty_dir)
{
	put(".only-hidden", 3);
	expect_error("empty");
}
END_TEST

START_TEST(test_only_subdirs)
{
	char	sub[600];

	snprintf(sub, sizeof sub, "%s/http", check_dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	expect_error("only 1 subdirectory");
}
END_TEST

START_TEST(test_all_empty)
{
	put("x", 0);
	put("y", 0);
	expect_error("all 2 files are empty");
}
END_TEST

START_TEST(test_fifo)
{
	char	path[600];

	put("ok", 3);
	snprintf(path, sizeof path, "%s/pipe", check_dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	expect_error("pipe: not a regular file");
}
END_TEST

START_TEST(test_unreadable)
{
	char	path[600];

	if (geteuid() == 0) {
		/* root reads mode 000 files; a dangling link fails the same
		 * code path (stat of an entry) for everyone. */
		snprintf(path, sizeof path, "%s/dangling", check_dir);
		ck_assert_int_eq(symlink("/nonexistent/target", path), 0);
		expect_error("dangling: cannot stat");
		return;
	}
	put("secret", 5);
	snprintf(path, sizeof path, "%s/secret", check_dir);
	ck_assert_int_eq(chmod(path, 0), 0);
	expect_error("secret: cannot open: Permission denied");
}
END_TEST

START_TEST(test_not_a_dir)
{
	char	*cause = NULL;
	char	 path[600];

	put("file", 3);
	snprintf(path, sizeof path, "%s/file", check_dir);
	ck_assert_ptr_null(corpus_load(path, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "Not a directory"));
	free(cause);
}
END_TEST

START_TEST(test_shard)
{
	char		*cause = NULL;
	struct corpus	*c;

	put("0", 1);
	put("1", 2);
	put("2", 3);
	put("3", 4);
	put("4", 5);
	c = corpus_load(check_dir, &cause);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(corpus_shard(c, 1, 2, &cause), 0);
	ck_assert_uint_eq(c->n, 2);
	ck_assert_str_eq(c->blobs[0].name, "1");
	ck_assert_str_eq(c->blobs[1].name, "3");
	ck_assert_uint_eq(c->min, 2);
	ck_assert_uint_eq(c->max, 4);
	corpus_free(c);

	c = corpus_load(check_dir, &cause);
	ck_assert_int_eq(corpus_shard(c, 5, 6, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "holds no blob"));
	free(cause);
	corpus_free(c);
}
END_TEST

Suite *
corpus_suite(void)
{
	Suite	*s = suite_create("corpus");
	TCase	*tc = tcase_create("load");

	tcase_add_checked_fixture(tc, check_tmpdir_setup, check_tmpdir_teardown);
	tcase_add_test(tc, test_load_sorted_stats);
	tcase_add_test(tc, test_missing_dir);
	tcase_add_test(tc, test_empty_dir);
	tcase_add_test(tc, test_only_subdirs);
	tcase_add_test(tc, test_all_empty);
	tcase_add_test(tc, test_fifo);
	tcase_add_test(tc, test_unreadable);
	tcase_add_test(tc, test_not_a_dir);
	tcase_add_test(tc, test_shard);
	suite_add_tcase(s, tc);
	return s;
}
