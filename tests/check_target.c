/* Unit tests of the target's pure parts: report lines, their text, the
 * restart policy, /proc stat lines, and the process description. */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "check_suites.h"
#include "target.h"

/* A probe that never sees the target ready. */
static int
never_ready(void *arg)
{
	(void)arg;
	return 0;
}

START_TEST(test_report_kind)
{
	static const struct {
		const char	*line;
		const char	*kind;
	} cases[] = {
		{ "==12== Invalid read of size 1", "valgrind" },
		{ "==12== ERROR SUMMARY: 3 errors from 3 contexts", "valgrind" },
		{ "==12== ERROR SUMMARY: 0 errors from 0 contexts", NULL },
		{ "==9==ERROR: AddressSanitizer: heap-buffer-overflow",
		    "AddressSanitizer" },
		{ "==9==ERROR: LeakSanitizer: detected memory leaks",
		    "LeakSanitizer" },
		{ "x.c:3:5: runtime error: signed integer overflow",
		    "UndefinedBehaviorSanitizer" },
		{ "listening on 127.0.0.1:8080", NULL },
		{ "", NULL },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char	*k = target_report_kind(cases[i].line);

		if (cases[i].kind == NULL)
			ck_assert_msg(k == NULL, "%s", cases[i].line);
		else
			ck_assert_str_eq(k, cases[i].kind);
	}
}
END_TEST

START_TEST(test_report_text)
{
	static const struct {
		const char	*line;
		const char	*text;
	} cases[] = {
		{ "==1234== Invalid read of size 4", "Invalid read of size 4" },
		{ "==9==ERROR: AddressSanitizer: x", "ERROR: AddressSanitizer: x" },
		{ "==1==", "" },
		{ "== not a pid", "== not a pid" },
		{ "==12 unterminated", "==12 unterminated" },
		{ "=1= one sign", "=1= one sign" },
		{ "plain", "plain" },
		{ "", "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_str_eq(target_report_text(cases[i].line),
		    cases[i].text);
}
END_TEST

/* Above 64 a minute (the old fixed ring) the limit still holds. */
START_TEST(test_restarts_limit)
{
	struct target_restarts	p;
	uint64_t		t = 1000000;

	target_restarts_init(&p, 100);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(target_restarts_allow(&p, t + (uint64_t)i), 1);
	ck_assert_int_eq(target_restarts_allow(&p, t + 1000), 0);
	ck_assert_int_eq(target_restarts_allow(&p, t + 59999999), 0);
	ck_assert_uint_eq(p.count, 100);
	/* A minute after the first, one more is allowed, then not. */
	ck_assert_int_eq(target_restarts_allow(&p, t + 60000000), 1);
	ck_assert_int_eq(target_restarts_allow(&p, t + 60000000), 0);
	ck_assert_int_eq(target_restarts_allow(&p, t + 60000001), 1);
	ck_assert_uint_eq(p.count, 102);
	target_restarts_free(&p);
}
END_TEST

START_TEST(test_restarts_spread)
{
	struct target_restarts	p;

	/* One every 10 s with at most 6 a minute never hits the limit. */
	target_restarts_init(&p, 6);
	for (uint64_t i = 0; i < 1000; i++)
		ck_assert_int_eq(target_restarts_allow(&p, i * 10000001), 1);
	target_restarts_free(&p);
	target_restarts_init(&p, 1);
	ck_assert_int_eq(target_restarts_allow(&p, 5), 1);
	ck_assert_int_eq(target_restarts_allow(&p, 6), 0);
	target_restarts_free(&p);
	target_restarts_init(&p, 0);
	ck_assert_int_eq(target_restarts_allow(&p, 5), 0);
	target_restarts_free(&p);
}
END_TEST

START_TEST(test_parse_stat)
{
	static const struct {
		const char	*line;
		int		 ok, pid, ppid, pgrp;
		const char	*comm;
		char		 state;
	} cases[] = {
		{ "1234 (server) S 1 1230 1230 0 -1 4194560 104 0", 0, 1234, 1,
		    1230, "server", 'S' },
		{ "7 (a b) c) R 6 7 7 0", 0, 7, 6, 7, "a b) c", 'R' },
		{ "42 (()) D 2 40 40", 0, 42, 2, 40, "()", 'D' },
		{ "9 (0123456789012345678901234567890123456789) Z 1 9 9", 0, 9,
		    1, 9, "0123456789012345678901234567890", 'Z' },
		{ "", -1, 0, 0, 0, NULL, 0 },
		{ "abc (x) S 1 1", -1, 0, 0, 0, NULL, 0 },
		{ "12 x) S 1 1", -1, 0, 0, 0, NULL, 0 },
		{ "12 (x) S", -1, 0, 0, 0, NULL, 0 },
		{ "12 (x) S 1", -1, 0, 0, 0, NULL, 0 },
		{ "12 (x)S 1 1", -1, 0, 0, 0, NULL, 0 },
		{ "-3 (x) S 1 1", -1, 0, 0, 0, NULL, 0 },
		{ "99999999999 (x) S 1 1", -1, 0, 0, 0, NULL, 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct target_proc	p;
		int			rc = target_parse_stat(cases[i].line, &p);

		ck_assert_msg(rc == cases[i].ok, "'%s': %d", cases[i].line, rc);
		if (rc != 0)
			continue;
		ck_assert_int_eq(p.pid, cases[i].pid);
		ck_assert_int_eq(p.ppid, cases[i].ppid);
		ck_assert_int_eq(p.pgrp, cases[i].pgrp);
		ck_assert_str_eq(p.comm, cases[i].comm);
		ck_assert_int_eq(p.state, cases[i].state);
	}
}
END_TEST

START_TEST(test_state_name)
{
	ck_assert_str_eq(target_state_name('R'), "running");
	ck_assert_str_eq(target_state_name('S'), "sleeping");
	ck_assert_str_eq(target_state_name('D'), "disk wait");
	ck_assert_str_eq(target_state_name('?'), "unknown");
}
END_TEST

/* Our own process parses as itself, through the real /proc. */
START_TEST(test_parse_self)
{
	struct target_proc	p;
	char			line[512];
	FILE			*f = fopen("/proc/self/stat", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	fclose(f);
	ck_assert_int_eq(target_parse_stat(line, &p), 0);
	ck_assert_int_eq(p.pid, getpid());
	ck_assert_int_eq(p.pgrp, getpgrp());
	ck_assert_int_eq(p.state, 'R');
}
END_TEST

/* A started target's group is described: the command, not the guardian;
 * after target_free nothing of the group is left. */
START_TEST(test_proc_state)
{
	struct event_base	*base = event_base_new();
	char			 a0[] = "sleep", a1[] = "30";
	char * const		 argv[] = { a0, a1, NULL };
	struct target_config	 cfg = {
		.argv = argv,
		.startup_timeout_ms = 30000,
		.grace_ms = 1000,
		.max_restarts = 1,
	};
	struct target_hooks	 hooks = { 0 };
	struct target		*t;
	char			*cause = NULL, buf[512];
	int			 pgid;

	ck_assert_ptr_nonnull(base);
	t = target_new(base, &cfg, &hooks, NULL, &cause);
	ck_assert_ptr_nonnull(t);
	target_set_probe(t, never_ready);
	ck_assert_int_eq(target_start(t, &cause), 0);
	pgid = target_pgid(t);
	ck_assert_int_gt(pgid, 0);
	ck_assert_int_ne(pgid, target_pid(t));
	ck_assert_int_eq(target_proc_state(t, buf, sizeof buf), 1);
	ck_assert_msg(strstr(buf, " sleep ") != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, "(sleeping)") != NULL ||
	    strstr(buf, "(running)") != NULL, "%s", buf);
	target_describe_procs(t, buf, sizeof buf);
	ck_assert_msg(strstr(buf, " sleep ") != NULL, "%s", buf);
	ck_assert_int_eq(target_proc_state(t, buf, 8), 1);
	ck_assert_uint_lt(strlen(buf), 8);
	target_free(t);
	ck_assert_int_eq(kill(-pgid, 0), -1);
	event_base_free(base);
}
END_TEST

Suite *
target_suite(void)
{
	Suite	*s = suite_create("target");
	TCase	*tc = tcase_create("pure");

	tcase_add_test(tc, test_report_kind);
	tcase_add_test(tc, test_report_text);
	tcase_add_test(tc, test_restarts_limit);
	tcase_add_test(tc, test_restarts_spread);
	tcase_add_test(tc, test_parse_stat);
	tcase_add_test(tc, test_state_name);
	tcase_add_test(tc, test_parse_self);
	suite_add_tcase(s, tc);
	tc = tcase_create("process");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_proc_state);
	suite_add_tcase(s, tc);
	return s;
}
