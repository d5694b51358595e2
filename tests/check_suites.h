/* The unit test suites, one per module. */
#ifndef CHECK_SUITES_H
#define CHECK_SUITES_H

#include <check.h>

Suite	*options_suite(void);
Suite	*corpus_suite(void);
Suite	*plan_suite(void);
Suite	*stats_suite(void);
Suite	*finding_suite(void);
Suite	*record_suite(void);
Suite	*diag_suite(void);

#endif
