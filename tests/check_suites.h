/* The unit test suites: each tests/check_MODULE.c defines Suite *MODULE_suite(void)
 * with the function name at the start of a line; the build collects them into
 * check_suites.inc, so a new suite needs no edit here. */
#ifndef CHECK_SUITES_H
#define CHECK_SUITES_H

#include <check.h>

/* A temporary directory for suites that write files (check_tmpdir.c). */
extern char	check_dir[64];
void	check_tmpdir_setup(void);
void	check_tmpdir_teardown(void);

#define SUITE(name) Suite *name(void);
#include "check_suites.inc"
#undef SUITE

#endif
