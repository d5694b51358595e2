/* The unit test suites, one per module. */
#ifndef CHECK_SUITES_H
#define CHECK_SUITES_H

#include <check.h>

/* A temporary directory for suites that write files (check_tmpdir.c). */
extern char	check_dir[64];
void	check_tmpdir_setup(void);
void	check_tmpdir_teardown(void);

Suite	*options_suite(void);
Suite	*corpus_suite(void);
Suite	*plan_suite(void);
Suite	*stats_suite(void);
Suite	*finding_suite(void);
Suite	*record_suite(void);
Suite	*diag_suite(void);

#endif
