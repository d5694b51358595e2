/* Unit test runner: one suite per module. */
#include <check.h>
#include <stdlib.h>

#include "check_suites.h"

int
main(void)
{
	SRunner	*sr = srunner_create(options_suite());
	int	 failed;

	srunner_add_suite(sr, corpus_suite());
	srunner_add_suite(sr, plan_suite());
	srunner_add_suite(sr, stats_suite());
	srunner_add_suite(sr, finding_suite());
	srunner_add_suite(sr, record_suite());
	srunner_add_suite(sr, diag_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
