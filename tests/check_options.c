/* Unit tests: option parsing, numbers and durations. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check_suites.h"
#include "finding.h"
#include "options.h"

#define MAXARGS	32

/* Parses a NULL-terminated list of arguments. */
static int
parse(struct options *o, char **cause, const char *const *args)
{
	static char	*argv[MAXARGS];	/* options keep pointers into it */
	int	 argc = 0;

	argv[argc++] = (char *)"stutterfuzz";
	for (int i = 0; args[i] != NULL && argc < MAXARGS - 1; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	options_defaults(o);
	*cause = NULL;
	return options_parse(o, argc, argv, cause);
}

START_TEST(test_defaults)
{
	struct options	 o;
	char		*cause;
	const char	*args[] = { "--blob-dir=d", "--port=6789", NULL };

	ck_assert_int_eq(parse(&o, &cause, args), 0);
	ck_assert_str_eq(o.blob_dir, "d");
	ck_assert_str_eq(o.port, "6789");
	ck_assert_str_eq(o.host, "localhost");
	ck_assert_uint_eq(o.num_conns, 100);
	ck_assert_uint_eq(o.cycle_ms, 150);
	ck_assert_uint_eq(o.plan.fastopen_chance, 2);
	ck_assert_uint_eq(o.plan.close_chance, 500);
	ck_assert_uint_eq(o.stop_on, FINDING_MASK_CONNECT |
	    FINDING_BIT(FINDING_HANG) | FINDING_MASK_TARGET |
	    FINDING_BIT(FINDING_MISMATCH));
	ck_assert_uint_eq(o.fail_on, FINDING_MASK_CONNECT |
	    FINDING_BIT(FINDING_HANG) | FINDING_MASK_TARGET |
	    FINDING_BIT(FINDING_MISMATCH));
	ck_assert_uint_eq(o.check_every, 1);
	ck_assert_ptr_null(o.turns_arg);
	ck_assert_uint_eq(o.turn_timeout_ms, 2000);
	ck_assert_uint_eq(o.turn_quiet_ms, 20);
	ck_assert_ptr_null(o.target_argv);
	ck_assert_int_eq(o.seed_set, 0);
	ck_assert_uint_eq(o.duration_ms, 0);
	ck_assert_int_eq(o.action, OPTIONS_RUN);
}
END_TEST

START_TEST(test_separate_values)
{
	struct options	 o;
	char		*cause;
	const char	*args[] = { "--blob-dir", "d", "--port", "http",
	    "--host", "::1", "--num-conns", "7", "--cycle-ms", "20",
	    "--fastopen-chance", "0", "--close-chance", "9", NULL };

	ck_assert_int_eq(parse(&o, &cause, args), 0);
	ck_assert_str_eq(o.port, "http");
	ck_assert_str_eq(o.host, "::1");
	ck_assert_uint_eq(o.num_conns, 7);
	ck_assert_uint_eq(o.cycle_ms, 20);
	ck_assert_uint_eq(o.plan.fastopen_chance, 0);
	ck_assert_uint_eq(o.plan.close_chance, 9);
}
END_TEST

START_TEST(test_run_limits)
{
	struct options	 o;
	char		*cause;
	const char	*args[] = { "--blob-dir=d", "--port=1", "--seed=0x10",
	    "--duration=2m", "--rounds=3", "--stats-interval=250ms",
	    "--pace=cycle", "--stop-on=connect,reset", "--fail-on=none",
	    "--only=42", "--shard=1/4", "-q", NULL };

	ck_assert_int_eq(parse(&o, &cause, args), 0);
	ck_assert_int_eq(o.seed_set, 1);
	ck_assert_uint_eq(o.seed, 16);
	ck_assert_uint_eq(o.duration_ms, 120000);
	ck_assert_uint_eq(o.rounds, 3);
	ck_assert_uint_eq(o.stats_interval_ms, 250);
	ck_assert_int_eq(o.pace, PACE_CYCLE);
	ck_assert_uint_eq(o.stop_on, FINDING_MASK_CONNECT |
	    FINDING_BIT(FINDING_RESET));
	ck_assert_uint_eq(o.fail_on, 0);
	ck_assert_int_eq(o.only_set, 1);
	ck_assert_uint_eq(o.only, 42);
	ck_assert_uint_eq(o.shard_k, 1);
	ck_assert_uint_eq(o.shard_n, 4);
	ck_assert_int_eq(o.quiet, 1);
}
END_TEST

START_TEST(test_target_command)
{
	struct options	 o;
	char		*cause;
	const char	*args[] = { "--blob-dir=d", "--port=1", "--restart",
	    "--startup-timeout=3s", "--", "valgrind", "--error-exitcode=99",
	    "./srv", "--port", "1", NULL };
	const char	*none[] = { "--blob-dir=d", "--port=1", "--", NULL };

	ck_assert_int_eq(parse(&o, &cause, args), 0);
	ck_assert_ptr_nonnull(o.target_argv);
	ck_assert_str_eq(o.target_argv[0], "valgrind");
	ck_assert_str_eq(o.target_argv[1], "--error-exitcode=99");
	ck_assert_str_eq(o.target_argv[4], "1");
	ck_assert_ptr_null(o.target_argv[5]);
	ck_assert_int_eq(o.restart, 1);
	ck_assert_uint_eq(o.startup_timeout_ms, 3000);
	ck_assert_int_eq(parse(&o, &cause, none), -1);
	ck_assert_ptr_nonnull(strstr(cause, "-- needs a server command"));
	free(cause);
}
END_TEST

/* Answer options: --check, --mask, --ignore, --turns and the turn waits;
 * bad values are one-line causes naming the option once. */
START_TEST(test_answer_options)
{
	struct options	 o;
	char		*cause;
	const char	*args[] = { "--blob-dir=d", "--port=1", "--check=1/8",
	    "--mask=id=[0-9a-f]+", "--mask=x", "--ignore=HTTP/1\\.1 100",
	    "--turns=\\r\\n", "--turn-timeout=5s", "--turn-quiet=50ms",
	    "--stop-on=mismatch", NULL };
	static const struct {
		const char	*arg, *want;
	} bad[] = {
		{ "--check=2/3", "--check '2/3'" },
		{ "--mask=x(", "--mask 'x('" },
		{ "--ignore=", "--ignore '': empty regex" },
		{ "--turns=\\q", "--turns '\\q'" },
		{ "--turn-timeout=0", "--turn-timeout" },
	};

	ck_assert_int_eq(parse(&o, &cause, args), 0);
	ck_assert_uint_eq(o.check_every, 8);
	ck_assert_uint_eq(o.nmasks, 2);
	ck_assert_str_eq(o.masks[0], "id=[0-9a-f]+");
	ck_assert_uint_eq(o.nignores, 1);
	ck_assert_int_eq(o.plan.turns.rule, TURN_DELIM);
	ck_assert_uint_eq(o.plan.turns.delim_len, 2);
	ck_assert_str_eq(o.turns_arg, "\\r\\n");
	ck_assert_uint_eq(o.turn_timeout_ms, 5000);
	ck_assert_uint_eq(o.turn_quiet_ms, 50);
	ck_assert_uint_eq(o.stop_on, FINDING_BIT(FINDING_MISMATCH));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char	*one[] = { "--blob-dir=d", "--port=1", bad[i].arg,
		    NULL };

		ck_assert_int_eq(parse(&o, &cause, one), -1);
		ck_assert_msg(strncmp(cause, bad[i].want, strlen(bad[i].want))
		    == 0, "%s: %s", bad[i].arg, cause);
		ck_assert_ptr_null(strchr(cause, '\n'));
		free(cause);
	}
}
END_TEST

START_TEST(test_help_version)
{
	struct options	 o;
	char		*cause;
	const char	*help[] = { "--help", NULL };
	const char	*version[] = { "-V", NULL };

	ck_assert_int_eq(parse(&o, &cause, help), 0);
	ck_assert_int_eq(o.action, OPTIONS_HELP);
	ck_assert_int_eq(parse(&o, &cause, version), 0);
	ck_assert_int_eq(o.action, OPTIONS_VERSION);
	ck_assert_ptr_nonnull(strstr(options_usage(), "--fail-on"));
}
END_TEST

/* Bad inputs and the words their error must contain. */
static const struct {
	const char	*args[4];
	const char	*want;
} bad[] = {
	{ { "--port=1", NULL }, "--blob-dir is required" },
	{ { "--blob-dir=d", NULL }, "--port is required" },
	{ { "--blob-dir=d", "--port=0", NULL }, "--port: 0 is out of range" },
	{ { "--blob-dir=d", "--port=65536", NULL }, "out of range (1 to 65535)" },
	{ { "--blob-dir=d", "--port=80x", NULL }, "'80x' is not a number" },
	{ { "--blob-dir=d", "--port=", NULL }, "empty port" },
	{ { "--blob-dir=", "--port=1", NULL }, "empty path" },
	{ { "--blob-dir=d", "--port=1", "--num-conns=0" }, "--num-conns: 0 is out of range" },
	{ { "--blob-dir=d", "--port=1", "--num-conns=-5" }, "'-5' is not a number" },
	{ { "--blob-dir=d", "--port=1", "--num-conns=99999999999999999999" }, "out of range" },
	{ { "--blob-dir=d", "--port=1", "--cycle-ms=0" }, "--cycle-ms: 0 is out of range" },
	{ { "--blob-dir=d", "--port=1", "--duration=10x" }, "unknown unit" },
	{ { "--blob-dir=d", "--port=1", "--duration=0" }, "out of range" },
	{ { "--blob-dir=d", "--port=1", "--duration=s" }, "not a duration" },
	{ { "--blob-dir=d", "--port=1", "--pace=fast" }, "not a pace mode" },
	{ { "--blob-dir=d", "--port=1", "--stop-on=crash" }, "'crash' is not a finding kind" },
	{ { "--blob-dir=d", "--port=1", "--shard=4/4" }, "--shard: 4 is out of range" },
	{ { "--blob-dir=d", "--port=1", "--shard=2" }, "not K/N" },
	{ { "--blob-dir=d", "--port=1", "--seed=abc" }, "not a number" },
	{ { "--blob-dir=d", "--port=1", "--bogus" }, "unknown option '--bogus'" },
	{ { "--blob-dir=d", "--port=1", "-x" }, "unknown option '-x'" },
	{ { "--blob-dir=d", "--port=1", "stray" }, "unexpected argument 'stray'" },
	{ { "--blob-dir=d", "--port" , NULL }, "needs a value" },
	{ { "--blob-dir=d", "--port=1", "--split=zigzag" }, "not a split strategy" },
	/* A value given to a flag names the option as typed (issue 16.11). */
	{ { "--blob-dir=d", "--port=1", "--quiet=1" }, "option '--quiet' takes no value" },
	{ { "--blob-dir=d", "--port=1", "--all=1" }, "option '--all' takes no value" },
	{ { "--blob-dir=d", "--port=1", "--restart=yes" }, "option '--restart' takes no value" },
	{ { "--blob-dir=d", "--port=1", "--keep-tar=x" }, "option '--keep-tar' takes no value" },
	{ { "--blob-dir=d", "--port=1", "--stats-format=xml" }, "--stats-format: 'xml' is not a format (use text or json)" },
	{ { "--blob-dir=d", "--port=1", "--pace=" }, "--pace: '' is not a pace mode" },
	{ { "--blob-dir=d", "--port=1", "--host=" }, "--host: empty host" },
	{ { "--blob-dir=d", "--unix=s", "--port=1" }, "--unix and --port exclude each other" },
	{ { "--blob-dir=d", "--host=h", "--unix=s" }, "--unix and --host exclude each other" },
	{ { "--blob-dir=d", "--unix=", NULL }, "--unix: empty path" },
	{ { "--blob-dir=d", "--port=1", "--summary=" }, "--summary: empty path" },
	{ { "--blob-dir=d", "--port=1", "--max-fragments=4294967296" }, "out of range (0 to 4294967295)" },
	{ { "--blob-dir=d", "--port=1", "--settle=61s" }, "--settle: 61s is out of range" },
	{ { "--blob-dir=d", "--port=1", "--source-addrs=0" }, "--source-addrs: 0 is out of range" },
};

START_TEST(test_bad_inputs)
{
	struct options	 o;
	char		*cause;

	ck_assert_int_eq(parse(&o, &cause, bad[_i].args), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, bad[_i].want) != NULL,
	    "case %d: '%s' does not contain '%s'", _i, cause, bad[_i].want);
	ck_assert_ptr_null(strchr(cause, '\n'));
	free(cause);
}
END_TEST

/* Durations and what they mean in milliseconds (-1: rejected). */
static const struct {
	const char	*in;
	int64_t		 ms;
} durations[] = {
	{ "30", 30000 }, { "30s", 30000 }, { "10m", 600000 },
	{ "2h", 7200000 }, { "1d", 86400000 }, { "500ms", 500 },
	{ "0s", -1 }, { "", -1 }, { "5 s", -1 }, { "-1", -1 }, { "1.5s", -1 },
	{ "3w", -1 }, { "99999999999999999999h", -1 }, { "0x10s", -1 },
};

START_TEST(test_durations)
{
	uint64_t	 ms = 0;
	char		*cause = NULL;
	int		 rc;

	rc = options_parse_duration(durations[_i].in, 1, UINT64_MAX / 2, &ms,
	    &cause);
	if (durations[_i].ms < 0) {
		ck_assert_msg(rc == -1, "'%s' accepted", durations[_i].in);
		ck_assert_ptr_nonnull(cause);
		free(cause);
	} else {
		ck_assert_msg(rc == 0, "'%s' rejected: %s", durations[_i].in,
		    cause);
		ck_assert_uint_eq(ms, (uint64_t)durations[_i].ms);
	}
}
END_TEST

/* Each kind of the option table stores into its field, of its width. */
START_TEST(test_table_kinds)
{
	struct options	 o;
	char		*cause;
	const char	*args[] = { "--blob-dir=d", "--port=1",
	    "--max-fragments=4294967295", "--finding-lines=18446744073709551615",
	    "--gap-us=7", "--hang-timeout=2m", "--pace=read",
	    "--stats-format=json", "--all", "--restart", "--keep-target",
	    "--source-addrs=3", "--summary=s.json", "--stats-file=st",
	    "--split=bytewise", NULL };

	ck_assert_int_eq(parse(&o, &cause, args), 0);
	ck_assert_uint_eq(o.plan.max_fragments, UINT32_MAX);
	ck_assert_uint_eq(o.plan.close_chance, 500);	/* its neighbour kept */
	ck_assert_uint_eq(o.finding_lines, UINT64_MAX);
	ck_assert_uint_eq(o.gap_us, 7);
	ck_assert_int_eq(o.gap_set, 1);
	ck_assert_uint_eq(o.hang_timeout_ms, 120000);
	ck_assert_int_eq(o.pace, PACE_READ);
	ck_assert_int_eq(o.stats_json, 1);
	ck_assert_int_eq(o.replay_all, 1);
	ck_assert_int_eq(o.restart, 1);
	ck_assert_int_eq(o.keep_target, 1);
	ck_assert_uint_eq(o.source_addrs, 3);
	ck_assert_int_eq(o.source_addrs_set, 1);
	ck_assert_int_eq(o.seed_set, 0);
	ck_assert_str_eq(o.summary_path, "s.json");
	ck_assert_str_eq(o.stats_path, "st");
	ck_assert_int_eq(o.plan.split, PLAN_SPLIT_BYTEWISE);
	ck_assert_int_eq(o.quiet, 0);
}
END_TEST

/* Unambiguous prefixes work; the later of two values wins. */
START_TEST(test_table_prefix)
{
	struct options	 o;
	char		*cause;
	const char	*args[] = { "--blob=d", "--port=1", "--num-c=5",
	    "--num-conns=6", "--qui", "--stats-fo=text", NULL };

	ck_assert_int_eq(parse(&o, &cause, args), 0);
	ck_assert_str_eq(o.blob_dir, "d");
	ck_assert_uint_eq(o.num_conns, 6);
	ck_assert_int_eq(o.quiet, 1);
	ck_assert_int_eq(o.stats_json, 0);
}
END_TEST

/* "replay RECORD" as the subcommand sees it (argv[0] is "replay"). */
START_TEST(test_replay_subcommand)
{
	struct options	 o;
	char		*cause = NULL;
	char		*argv[] = { (char *)"replay", (char *)"r.json",
	    (char *)"--all", (char *)"--port=9", NULL };

	options_defaults(&o);
	o.action = OPTIONS_REPLAY;
	ck_assert_int_eq(options_parse(&o, 4, argv, &cause), 0);
	ck_assert_str_eq(o.replay_path, "r.json");
	ck_assert_int_eq(o.replay_all, 1);
	ck_assert_int_eq(o.port_set, 1);
	options_defaults(&o);
	o.action = OPTIONS_REPLAY;
	ck_assert_int_eq(options_parse(&o, 1, argv, &cause), -1);
	ck_assert_str_eq(cause, "replay needs a record file");
	free(cause);
}
END_TEST

/* The options' JSON of records: jansson, the pacing in effect. */
START_TEST(test_options_json)
{
	struct options	 o;
	char		*cause, *s;
	const char	*args[] = { "--blob-dir=d", "--port=1", "--shard=2/3",
	    "--hang-timeout=0", NULL };
	json_t		*j;

	ck_assert_int_eq(parse(&o, &cause, args), 0);
	s = options_json(&o, PACE_READ);
	ck_assert_msg(strncmp(s, "{\"pace\":\"read\",\"gap_us\":1000,", 29)
	    == 0, "%s", s);
	j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "shard")), "2/3");
	ck_assert_int_eq(json_integer_value(json_object_get(j,
	    "hang_timeout_ms")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "num_conns")),
	    100);
	ck_assert_uint_eq(json_object_size(j), 12);
	json_decref(j);
	free(s);
}
END_TEST

/* The table itself: unique names, field sizes, defaults in bounds. */
START_TEST(test_table_check)
{
	char	*cause = NULL;

	ck_assert_msg(options_table_check(&cause) == 0, "%s", cause);
}
END_TEST

START_TEST(test_uint_edges)
{
	uint64_t	 v;
	char		*cause = NULL;

	ck_assert_int_eq(options_parse_uint("18446744073709551615", 0,
	    UINT64_MAX, &v, &cause), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(options_parse_uint("18446744073709551616", 0,
	    UINT64_MAX, &v, &cause), -1);
	free(cause);
	ck_assert_int_eq(options_parse_uint("0xff", 0, 255, &v, &cause), 0);
	ck_assert_uint_eq(v, 255);
	ck_assert_int_eq(options_parse_uint("+1", 0, 255, &v, &cause), -1);
	free(cause);
	ck_assert_int_eq(options_parse_uint(" 1", 0, 255, &v, &cause), -1);
	free(cause);
}
END_TEST

Suite *
options_suite(void)
{
	Suite	*s = suite_create("options");
	TCase	*tc = tcase_create("parse");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_separate_values);
	tcase_add_test(tc, test_run_limits);
	tcase_add_test(tc, test_help_version);
	tcase_add_test(tc, test_target_command);
	tcase_add_test(tc, test_answer_options);
	tcase_add_loop_test(tc, test_bad_inputs, 0,
	    (int)(sizeof bad / sizeof bad[0]));
	tcase_add_loop_test(tc, test_durations, 0,
	    (int)(sizeof durations / sizeof durations[0]));
	tcase_add_test(tc, test_uint_edges);
	tcase_add_test(tc, test_table_kinds);
	tcase_add_test(tc, test_table_check);
	tcase_add_test(tc, test_options_json);
	tcase_add_test(tc, test_table_prefix);
	tcase_add_test(tc, test_replay_subcommand);
	suite_add_tcase(s, tc);
	return s;
}
