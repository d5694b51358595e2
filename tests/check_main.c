/* Unit test runner: every suite that a tests/check_*.c defines. */
#include <check.h>
#include <stdlib.h>

#include "check_suites.h"

/* The suites, as the build found them (check_suites.inc, one SUITE a line). */
static Suite *(*const suites[])(void) = {
#define SUITE(name) name,
#include "check_suites.inc"
#undef SUITE
};

int
main(void)
{
	SRunner	*sr = srunner_create(NULL);
	size_t	 i;
	int	 failed;

	for (i = 0; i < sizeof suites / sizeof suites[0]; i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
