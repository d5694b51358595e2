/* Unit tests: a temporary directory for suites that write files. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"

char	check_dir[64];

/* Makes a fresh directory in check_dir (a checked fixture's setup). */
void
check_tmpdir_setup(void)
{
	strcpy(check_dir, "/tmp/check_stutterfuzz.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(check_dir));
}

/* Removes it with everything in it (the fixture's teardown). */
void
check_tmpdir_teardown(void)
{
	char	cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", check_dir);
	ck_assert_int_eq(system(cmd), 0);
}
