/* Command-line options: parsing, range checks and defaults in one place. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "finding.h"
#include "json.h"
#include "options.h"
#include "util.h"

#define MAX_CONNS	1000000
#define MAX_CHANCE	1000000000
#define DAY_MS		(24ULL * 3600 * 1000)

static const char *pace_names[PACE__COUNT] = {
	[PACE_CYCLE] = "cycle",
	[PACE_ACK] = "ack",
	[PACE_READ] = "read",
	[PACE_AUTO] = "auto",
};

static const struct options option_defaults = {
	.action = OPTIONS_RUN,
	.host = "localhost",
	.num_conns = 100,
	.cycle_ms = 150,
	.pace = PACE_AUTO,
	.gap_us = 1000,
	.plan = {
		.split = PLAN_SPLIT_MIX,
		.fastopen_chance = 2,
		.close_chance = 500,
		.max_fragments = 256,
	},
	/* A server that stops accepting or reading is dead or wedged; resets
	 * also come from correct servers rejecting input, so only count them. */
	.stop_on = FINDING_MASK_CONNECT | FINDING_BIT(FINDING_HANG) |
	    FINDING_MASK_TARGET | FINDING_BIT(FINDING_MISMATCH),
	.fail_on = FINDING_MASK_CONNECT | FINDING_BIT(FINDING_HANG) |
	    FINDING_MASK_TARGET | FINDING_BIT(FINDING_MISMATCH),
	.stats_interval_ms = 1000,
	.connect_timeout_ms = 5000,
	.hang_timeout_ms = 30000,
	.stall_timeout_ms = 5000,
	.drain_timeout_ms = 2000,
	.finding_lines = 100,
	.max_records = 100,
	.settle_ms = 500,
	.startup_timeout_ms = 10000,
	.grace_ms = 5000,
	.max_restarts = 10,
	.source_addrs = 64,
	.check_every = 1,
	.turn_timeout_ms = 2000,
	.turn_quiet_ms = 20,
};

enum {
	OPT_BLOB_DIR = 256,
	OPT_HOST,
	OPT_PORT,
	OPT_NUM_CONNS,
	OPT_CYCLE_MS,
	OPT_FASTOPEN_CHANCE,
	OPT_CLOSE_CHANCE,
	OPT_PACE,
	OPT_GAP_US,
	OPT_SPLIT,
	OPT_MAX_FRAGMENTS,
	OPT_SEED,
	OPT_DURATION,
	OPT_ROUNDS,
	OPT_ONLY,
	OPT_MAX_FINDINGS,
	OPT_STOP_ON,
	OPT_FAIL_ON,
	OPT_STATS_INTERVAL,
	OPT_CONNECT_TIMEOUT,
	OPT_HANG_TIMEOUT,
	OPT_STALL_TIMEOUT,
	OPT_DRAIN_TIMEOUT,
	OPT_SHARD,
	OPT_FINDING_LINES,
	OPT_FINDINGS_DIR,
	OPT_MAX_RECORDS,
	OPT_TRACE,
	OPT_REPLAY,
	OPT_ALL,
	OPT_SETTLE,
	OPT_STARTUP_TIMEOUT,
	OPT_GRACE,
	OPT_RESTART,
	OPT_MAX_RESTARTS,
	OPT_KEEP_TARGET,
	OPT_STATS_FORMAT,
	OPT_STATS_FILE,
	OPT_SUMMARY,
	OPT_SOURCE_ADDRS,
	OPT_CHECK,
	OPT_MASK,
	OPT_IGNORE,
	OPT_TURNS,
	OPT_TURN_TIMEOUT,
	OPT_TURN_QUIET,
};

static const struct option long_options[] = {
	{ "blob-dir", required_argument, NULL, OPT_BLOB_DIR },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "num-conns", required_argument, NULL, OPT_NUM_CONNS },
	{ "cycle-ms", required_argument, NULL, OPT_CYCLE_MS },
	{ "fastopen-chance", required_argument, NULL, OPT_FASTOPEN_CHANCE },
	{ "close-chance", required_argument, NULL, OPT_CLOSE_CHANCE },
	{ "pace", required_argument, NULL, OPT_PACE },
	{ "gap-us", required_argument, NULL, OPT_GAP_US },
	{ "split", required_argument, NULL, OPT_SPLIT },
	{ "max-fragments", required_argument, NULL, OPT_MAX_FRAGMENTS },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "rounds", required_argument, NULL, OPT_ROUNDS },
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "max-findings", required_argument, NULL, OPT_MAX_FINDINGS },
	{ "stop-on", required_argument, NULL, OPT_STOP_ON },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "hang-timeout", required_argument, NULL, OPT_HANG_TIMEOUT },
	{ "stall-timeout", required_argument, NULL, OPT_STALL_TIMEOUT },
	{ "drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "finding-lines", required_argument, NULL, OPT_FINDING_LINES },
	{ "findings-dir", required_argument, NULL, OPT_FINDINGS_DIR },
	{ "max-records", required_argument, NULL, OPT_MAX_RECORDS },
	{ "trace", required_argument, NULL, OPT_TRACE },
	{ "replay", required_argument, NULL, OPT_REPLAY },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "settle", required_argument, NULL, OPT_SETTLE },
	{ "startup-timeout", required_argument, NULL, OPT_STARTUP_TIMEOUT },
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "restart", no_argument, NULL, OPT_RESTART },
	{ "max-restarts", required_argument, NULL, OPT_MAX_RESTARTS },
	{ "keep-target", no_argument, NULL, OPT_KEEP_TARGET },
	{ "stats-format", required_argument, NULL, OPT_STATS_FORMAT },
	{ "stats-file", required_argument, NULL, OPT_STATS_FILE },
	{ "summary", required_argument, NULL, OPT_SUMMARY },
	{ "source-addrs", required_argument, NULL, OPT_SOURCE_ADDRS },
	{ "check", required_argument, NULL, OPT_CHECK },
	{ "mask", required_argument, NULL, OPT_MASK },
	{ "ignore", required_argument, NULL, OPT_IGNORE },
	{ "turns", required_argument, NULL, OPT_TURNS },
	{ "turn-timeout", required_argument, NULL, OPT_TURN_TIMEOUT },
	{ "turn-quiet", required_argument, NULL, OPT_TURN_QUIET },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const char usage_text[] =
"usage: stutterfuzz --blob-dir=DIR --port=PORT [--host=HOST] [OPTION]...\n"
"                   [-- SERVER-COMMAND...]\n"
"       stutterfuzz replay RECORD [--host=HOST] [--port=PORT] [--all]\n"
"Opens many TCP connections to a server, sends one blob of DIR on each, cut\n"
"at random packet boundaries, and reports the faults it provokes.\n"
"\n"
"Target and corpus:\n"
"  --blob-dir=DIR          directory of blobs (regular files; dot-files skipped)\n"
"  --host=HOST             host name or address (default localhost)\n"
"  --port=PORT             port number or service name (required)\n"
"  --shard=K/N             use only every N-th blob, starting at blob K\n"
"  --source-addrs=N        IPv4 loopback: spread connections over N source\n"
"                          addresses 127.0.0.2 and up (64; 1 no spreading)\n"
"Load and cutting:\n"
"  --num-conns=N           connections kept in flight (default 100)\n"
"  --pace=MODE             read: next fragment once the server has read the\n"
"                          last (sock_diag, loopback); ack: once the last is\n"
"                          acked and --gap-us passed; cycle: one fragment\n"
"                          per connection per --cycle-ms; auto (default):\n"
"                          read where sock_diag sees the server, else ack\n"
"  --gap-us=US             least time between fragments (ack 1000, read 0)\n"
"  --cycle-ms=MS           cycle length in cycle mode (default 150)\n"
"  --split=STRATEGY        how blobs are cut: mix (default), uniform, small,\n"
"                          bytewise, delimiter, sweep; see stutterfuzz(1)\n"
"  --max-fragments=N       at most N fragments per blob (256; 0 no bound)\n"
"  --fastopen-chance=N     1 in N connections use TCP Fast Open (2; 0 never)\n"
"  --close-chance=N        1 in N fragments is an early close (500; 0 never)\n"
"Reproducing and stopping:\n"
"  --seed=S                seed of the run (default: random, printed at start)\n"
"  --only=INDEX            run only connection INDEX of the seed, then stop\n"
"  --duration=TIME         stop after TIME (30s, 10m, 2h; a bare number is s)\n"
"  --rounds=N              stop after N passes over the corpus\n"
"  --max-findings=N        stop after N findings of any kind\n"
"  --stop-on=KINDS         kinds that stop the run (connect,hang,target,\n"
"                          mismatch)\n"
"  --fail-on=KINDS         finding kinds that make the exit status 1\n"
"                          (connect,hang,target,mismatch); KINDS is a comma\n"
"                          list of refused, connect-timeout, reset, hang,\n"
"                          target-exit, target-report, mismatch, or\n"
"                          connect, target, all, none\n"
"  --findings-dir=DIR      write a record of every finding into DIR\n"
"  --max-records=N         write at most N records a run (100; 0 no cap)\n"
"  --trace=FILE            one JSON line per finished connection\n"
"  --connect-timeout=TIME  a connect slower than this is a finding (5s)\n"
"  --hang-timeout=TIME     data unacked this long is a hang finding (30s; 0 off)\n"
"  --stall-timeout=TIME    read pacing: no read on any connection this long is\n"
"                          a hang finding (5s; 0 off)\n"
"  --drain-timeout=TIME    wait this long for the server to close (2s)\n"
"Answers (see stutterfuzz(1), COMPARING ANSWERS):\n"
"  --check=WHICH           connections whose answer is compared with the\n"
"                          blob's reference: all (default), none, or 1/N\n"
"  --mask=REGEX            answer parts matching REGEX compare as a wildcard\n"
"                          (POSIX extended; repeatable)\n"
"  --ignore=REGEX          answer parts matching REGEX are left out of the\n"
"                          comparison (repeatable)\n"
"  --turns=DELIM           a message ends after each DELIM (C escapes, e.g.\n"
"                          '\\r\\n'); each waits for the server's reply\n"
"  --turn-timeout=TIME     longest wait for a reply or a greeting (2s)\n"
"  --turn-quiet=TIME       a reply is over after this much quiet (20ms)\n"
"Supervised target (a server command after --):\n"
"  --startup-timeout=TIME  wait this long for it to accept connections (10s)\n"
"  --restart               start it again after a target finding\n"
"  --max-restarts=N        at most N restarts a minute (10)\n"
"  --grace=TIME            SIGTERM, then SIGKILL after TIME at the end (5s)\n"
"  --keep-target           leave it running when stutterfuzz ends\n"
"Replay (stutterfuzz replay RECORD, or --replay=RECORD):\n"
"                          send a record's connections again with the same\n"
"                          bytes, cuts and gaps; host and port default to the\n"
"                          record's target; exit 1 if the fault came back\n"
"  --all                   replay all of a record's connections together\n"
"                          (default: one at a time, naming the culprit)\n"
"  --settle=TIME           wait before checking the server is alive (500ms)\n"
"Output:\n"
"  --stats-interval=TIME   live statistics period (default 1s)\n"
"  --stats-format=FMT      text (default) or json (one object per line)\n"
"  --stats-file=FILE       write the statistics to FILE, not stderr\n"
"  --summary=FILE          write a final JSON summary to FILE\n"
"  --finding-lines=N       print at most N findings of each kind (100;\n"
"                          0 all); the rest are counted in the statistics\n"
"  -q, --quiet             no live statistics, only findings and the summary\n"
"  -h, --help              this text\n"
"  -V, --version           version\n"
"\n"
"Exit status: 0 ran clean until a limit or a signal; 1 findings of a\n"
"--fail-on kind; 2 usage or configuration error; 3 runtime error of\n"
"stutterfuzz itself (out of file descriptors, ports, memory).\n"
"See stutterfuzz(1).\n";

/* Fills o with the defaults. */
void
options_defaults(struct options *o)
{
	*o = option_defaults;
}

/* The --help text. */
const char *
options_usage(void)
{
	return usage_text;
}

/* Name of a pace mode. */
const char *
options_pace_name(enum pace_mode m)
{
	if (m >= PACE__COUNT)
		return "unknown";
	return pace_names[m];
}

/* Parses the leading digits of s as an unsigned number; *end is set after
 * them. */
static int
parse_digits(const char *s, uint64_t *out, const char **end)
{
	unsigned long long	v;
	char			*e;
	int			 base = 10;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (!isxdigit((unsigned char)s[2]))
			return -1;
		base = 16;
	}
	errno = 0;
	v = strtoull(s, &e, base);
	*out = v;
	*end = e;
	return errno == ERANGE ? -2 : 0;
}

/* Parses an unsigned decimal (or 0x hex) number within [min, max]. */
int
options_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    char **cause)
{
	uint64_t	 v;
	const char	*end;
	int		 rc;

	rc = parse_digits(s, &v, &end);
	if (rc == -1 || *end != '\0') {
		*cause = xasprintf("'%s' is not a number", s);
		return -1;
	}
	if (rc == -2 || v < min || v > max) {
		*cause = xasprintf("%s is out of range (%" PRIu64 " to %" PRIu64
		    ")", s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Parses a duration into milliseconds within [min_ms, max_ms]. */
int
options_parse_duration(const char *s, uint64_t min_ms, uint64_t max_ms,
    uint64_t *out_ms, char **cause)
{
	static const struct {
		const char	*suffix;
		uint64_t	 ms;
	} units[] = {
		{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", DAY_MS },
	};
	uint64_t	 v;
	const char	*end;
	int		 rc;

	rc = parse_digits(s, &v, &end);
	if (rc == -1 || (end - s > 1 && s[1] == 'x')) {
		*cause = xasprintf("'%s' is not a duration (try 30s, 10m, 2h)",
		    s);
		return -1;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		if (rc == -2 || v > UINT64_MAX / units[i].ms ||
		    v * units[i].ms < min_ms || v * units[i].ms > max_ms) {
			*cause = xasprintf("%s is out of range (%" PRIu64
			    "ms to %" PRIu64 "s)", s, min_ms, max_ms / 1000);
			return -1;
		}
		*out_ms = v * units[i].ms;
		return 0;
	}
	*cause = xasprintf("'%s' has an unknown unit (use ms, s, m, h or d)",
	    s);
	return -1;
}

/* Parses "K/N" for --shard. */
static int
parse_shard(const char *s, unsigned *k, unsigned *n, char **cause)
{
	const char	*slash = strchr(s, '/');
	char		*left;
	uint64_t	 kv, nv;
	int		 rc;

	if (slash == NULL) {
		*cause = xasprintf("'%s' is not K/N", s);
		return -1;
	}
	if (options_parse_uint(slash + 1, 1, 65536, &nv, cause) == -1)
		return -1;
	left = xasprintf("%.*s", (int)(slash - s), s);
	rc = options_parse_uint(left, 0, nv - 1, &kv, cause);
	free(left);
	if (rc == -1)
		return -1;
	*k = (unsigned)kv;
	*n = (unsigned)nv;
	return 0;
}

/* Applies one option with its argument to o. */
/* --mask or --ignore: checks the regex compiles and keeps it. */
static int
options_add_mask(struct options *o, int mask, const char *arg, char **cause)
{
	struct answer_masks	*m = answer_masks_new();
	unsigned		*n = mask ? &o->nmasks : &o->nignores;
	int			 rc;

	rc = mask ? answer_masks_add(m, arg, cause) :
	    answer_masks_ignore(m, arg, cause);
	answer_masks_free(m);
	if (rc == -1)
		return -1;
	if (*n == OPTIONS_MASKS_MAX) {
		*cause = xasprintf("at most %d of them", OPTIONS_MASKS_MAX);
		return -1;
	}
	(mask ? o->masks : o->ignores)[(*n)++] = arg;
	return 0;
}

static int
options_apply(struct options *o, int opt, const char *arg, char **cause)
{
	uint64_t	v;
	unsigned	mask;

	switch (opt) {
	case OPT_BLOB_DIR:
		if (*arg == '\0') {
			*cause = xasprintf("empty path");
			return -1;
		}
		o->blob_dir = arg;
		return 0;
	case OPT_HOST:
		if (*arg == '\0') {
			*cause = xasprintf("empty host");
			return -1;
		}
		o->host = arg;
		return 0;
	case OPT_PORT:
		if (*arg == '\0') {
			*cause = xasprintf("empty port");
			return -1;
		}
		if (isdigit((unsigned char)*arg)) {
			if (options_parse_uint(arg, 1, 65535, &v, cause) == -1)
				return -1;
		}
		o->port = arg;
		return 0;
	case OPT_NUM_CONNS:
		if (options_parse_uint(arg, 1, MAX_CONNS, &v, cause) == -1)
			return -1;
		o->num_conns = (uint32_t)v;
		return 0;
	case OPT_CYCLE_MS:
		if (options_parse_uint(arg, 1, 3600000, &v, cause) == -1)
			return -1;
		o->cycle_ms = (uint32_t)v;
		return 0;
	case OPT_FASTOPEN_CHANCE:
		if (options_parse_uint(arg, 0, MAX_CHANCE, &v, cause) == -1)
			return -1;
		o->plan.fastopen_chance = (uint32_t)v;
		return 0;
	case OPT_CLOSE_CHANCE:
		if (options_parse_uint(arg, 0, MAX_CHANCE, &v, cause) == -1)
			return -1;
		o->plan.close_chance = (uint32_t)v;
		return 0;
	case OPT_PACE:
		for (int m = 0; m < PACE__COUNT; m++) {
			if (strcmp(arg, pace_names[m]) == 0) {
				o->pace = (enum pace_mode)m;
				return 0;
			}
		}
		*cause = xasprintf("'%s' is not a pace mode (use auto, read, "
		    "ack or cycle)", arg);
		return -1;
	case OPT_GAP_US:
		if (options_parse_uint(arg, 0, 10000000, &v, cause) == -1)
			return -1;
		o->gap_us = (uint32_t)v;
		o->gap_set = 1;
		return 0;
	case OPT_SPLIT:
		if (plan_split_parse(arg, &o->plan.split) == -1) {
			*cause = xasprintf("'%s' is not a split strategy (use "
			    "mix, uniform, small, bytewise, delimiter or sweep)",
			    arg);
			return -1;
		}
		return 0;
	case OPT_MAX_FRAGMENTS:
		if (options_parse_uint(arg, 0, UINT32_MAX, &v, cause) == -1)
			return -1;
		o->plan.max_fragments = (uint32_t)v;
		return 0;
	case OPT_SEED:
		if (options_parse_uint(arg, 0, UINT64_MAX, &o->seed, cause) == -1)
			return -1;
		o->seed_set = 1;
		return 0;
	case OPT_DURATION:
		return options_parse_duration(arg, 1, 365 * DAY_MS,
		    &o->duration_ms, cause);
	case OPT_ROUNDS:
		return options_parse_uint(arg, 1, UINT32_MAX, &o->rounds, cause);
	case OPT_ONLY:
		if (options_parse_uint(arg, 0, UINT64_MAX / 2, &o->only,
		    cause) == -1)
			return -1;
		o->only_set = 1;
		return 0;
	case OPT_MAX_FINDINGS:
		return options_parse_uint(arg, 1, UINT32_MAX, &o->max_findings,
		    cause);
	case OPT_STOP_ON:
		if (finding_parse_kinds(arg, &mask, cause) == -1)
			return -1;
		o->stop_on = mask;
		return 0;
	case OPT_FAIL_ON:
		if (finding_parse_kinds(arg, &mask, cause) == -1)
			return -1;
		o->fail_on = mask;
		return 0;
	case OPT_STATS_INTERVAL:
		return options_parse_duration(arg, 100, DAY_MS,
		    &o->stats_interval_ms, cause);
	case OPT_CONNECT_TIMEOUT:
		return options_parse_duration(arg, 10, 3600000,
		    &o->connect_timeout_ms, cause);
	case OPT_HANG_TIMEOUT:
		return options_parse_duration(arg, 0, DAY_MS,
		    &o->hang_timeout_ms, cause);
	case OPT_STALL_TIMEOUT:
		return options_parse_duration(arg, 0, DAY_MS,
		    &o->stall_timeout_ms, cause);
	case OPT_DRAIN_TIMEOUT:
		return options_parse_duration(arg, 0, 3600000,
		    &o->drain_timeout_ms, cause);
	case OPT_SHARD:
		return parse_shard(arg, &o->shard_k, &o->shard_n, cause);
	case OPT_FINDING_LINES:
		return options_parse_uint(arg, 0, UINT64_MAX, &o->finding_lines,
		    cause);
	case OPT_FINDINGS_DIR:
		if (*arg == '\0') {
			*cause = xasprintf("empty path");
			return -1;
		}
		o->findings_dir = arg;
		return 0;
	case OPT_MAX_RECORDS:
		return options_parse_uint(arg, 0, UINT32_MAX, &o->max_records,
		    cause);
	case OPT_TRACE:
		if (*arg == '\0') {
			*cause = xasprintf("empty path");
			return -1;
		}
		o->trace_path = arg;
		return 0;
	case OPT_REPLAY:
		o->replay_path = arg;
		o->action = OPTIONS_REPLAY;
		return 0;
	case OPT_ALL:
		o->replay_all = 1;
		return 0;
	case OPT_SETTLE:
		return options_parse_duration(arg, 0, 60000, &o->settle_ms,
		    cause);
	case OPT_STARTUP_TIMEOUT:
		return options_parse_duration(arg, 100, 3600000,
		    &o->startup_timeout_ms, cause);
	case OPT_GRACE:
		return options_parse_duration(arg, 0, 600000, &o->grace_ms,
		    cause);
	case OPT_RESTART:
		o->restart = 1;
		return 0;
	case OPT_MAX_RESTARTS:
		return options_parse_uint(arg, 1, 100000, &o->max_restarts,
		    cause);
	case OPT_KEEP_TARGET:
		o->keep_target = 1;
		return 0;
	case OPT_STATS_FORMAT:
		if (strcmp(arg, "json") != 0 && strcmp(arg, "text") != 0) {
			*cause = xasprintf("'%s' is not a format (use text or "
			    "json)", arg);
			return -1;
		}
		o->stats_json = strcmp(arg, "json") == 0;
		return 0;
	case OPT_STATS_FILE:
		o->stats_path = arg;
		return 0;
	case OPT_SUMMARY:
		o->summary_path = arg;
		return 0;
	case OPT_CHECK:
		return answer_check_parse(arg, &o->check_every, cause);
	case OPT_MASK:
	case OPT_IGNORE:
		return options_add_mask(o, opt == OPT_MASK, arg, cause);
	case OPT_TURNS:
		if (turn_parse(arg, &o->plan.turns, cause) == -1)
			return -1;
		o->turns_arg = arg;
		return 0;
	case OPT_TURN_TIMEOUT:
		return options_parse_duration(arg, 1, DAY_MS,
		    &o->turn_timeout_ms, cause);
	case OPT_TURN_QUIET:
		return options_parse_duration(arg, 1, 60000,
		    &o->turn_quiet_ms, cause);
	case OPT_SOURCE_ADDRS:
		if (options_parse_uint(arg, 1, 65000, &v, cause) == -1)
			return -1;
		o->source_addrs = (uint32_t)v;
		o->source_addrs_set = 1;
		return 0;
	}
	*cause = xasprintf("internal error: option %d not handled", opt);
	return -1;
}

/* Name of the long option with value opt, for messages. */
static const char *
option_name(int opt)
{
	for (const struct option *lo = long_options; lo->name; lo++) {
		if (lo->val == opt)
			return lo->name;
	}
	return "?";
}

/* Parses argv into o. */
int
options_parse(struct options *o, int argc, char **argv, char **cause)
{
	int	opt;

	optind = 0;	/* glibc: full reinitialisation, so tests can call twice */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":qhV", long_options,
	    NULL)) != -1) {
		char	*why = NULL;

		switch (opt) {
		case 'q':
			o->quiet = 1;
			continue;
		case 'h':
			o->action = OPTIONS_HELP;
			return 0;
		case 'V':
			o->action = OPTIONS_VERSION;
			return 0;
		case ':':
			*cause = xasprintf("option %s needs a value",
			    argv[optind - 1]);
			return -1;
		case '?':
			if (optopt != 0)
				*cause = xasprintf("unknown option '-%c'",
				    optopt);
			else
				*cause = xasprintf("unknown option '%s'",
				    argv[optind - 1]);
			return -1;
		}
		if (options_apply(o, opt, optarg, &why) == -1) {
			/* Causes of the answer and turn parsers name the
			 * option themselves. */
			if (strncmp(why, "--", 2) == 0)
				*cause = why;
			else {
				*cause = xasprintf("--%s: %s", option_name(opt),
				    why);
				free(why);
			}
			return -1;
		}
	}
	if (optind > 1 && optind <= argc &&
	    strcmp(argv[optind - 1], "--") == 0) {
		if (optind == argc) {
			*cause = xasprintf("-- needs a server command after it");
			return -1;
		}
		o->target_argv = &argv[optind];
		optind = argc;
	}
	if (optind < argc && strcmp(argv[optind], "replay") == 0 &&
	    o->action != OPTIONS_REPLAY) {
		if (optind + 1 >= argc) {
			*cause = xasprintf("replay needs a record file");
			return -1;
		}
		o->replay_path = argv[optind + 1];
		o->action = OPTIONS_REPLAY;
		optind += 2;
	}
	if (optind < argc) {
		*cause = xasprintf("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	o->port_set = o->port != NULL;
	if (o->action == OPTIONS_REPLAY)
		return 0;	/* the record holds the blobs and the target */
	if (o->blob_dir == NULL) {
		*cause = xasprintf("--blob-dir is required");
		return -1;
	}
	if (o->port == NULL) {
		*cause = xasprintf("--port is required");
		return -1;
	}
	return 0;
}

/* Appends the options that shape cuts and pacing as a JSON object. */
void
options_json(const struct options *o, enum pace_mode pace, struct jbuf *b)
{
	jbuf_printf(b, "{\"pace\":\"%s\",\"gap_us\":%" PRIu32 ",\"cycle_ms\":%"
	    PRIu32 ",\"split\":\"%s\",\"max_fragments\":%" PRIu32
	    ",\"fastopen_chance\":%" PRIu32 ",\"close_chance\":%" PRIu32
	    ",\"num_conns\":%" PRIu32 ",\"connect_timeout_ms\":%" PRIu64
	    ",\"hang_timeout_ms\":%" PRIu64 ",\"drain_timeout_ms\":%" PRIu64
	    ",\"shard\":\"%u/%u\"}", pace_names[pace], o->gap_us,
	    o->cycle_ms, plan_split_name(o->plan.split), o->plan.max_fragments,
	    o->plan.fastopen_chance, o->plan.close_chance, o->num_conns,
	    o->connect_timeout_ms, o->hang_timeout_ms, o->drain_timeout_ms,
	    o->shard_k, o->shard_n ? o->shard_n : 1);
}

/* Appends s to b quoted for a POSIX shell (only when it needs quoting). */
void
options_shell_quote(struct jbuf *b, const char *s)
{
	if (*s != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@%+,") == strlen(s)) {
		jbuf_append(b, s, strlen(s));
		return;
	}
	jbuf_append(b, "'", 1);
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			jbuf_append(b, "'\\''", 4);
		else
			jbuf_append(b, s, 1);
	}
	jbuf_append(b, "'", 1);
}

/* Appends " --name=value" for one differing option, quoted. */
static void
replay_arg(struct jbuf *b, const char *name, const char *value)
{
	char	*arg = xasprintf("--%s=%s", name, value);

	jbuf_append(b, " ", 1);
	options_shell_quote(b, arg);
	free(arg);
}

/* Appends every option that changes cuts or pacing and is not default. */
void
options_replay_args(const struct options *o, struct jbuf *b)
{
	const struct options	*d = &option_defaults;
	char			 v[64];

#define DIFF_U(field, name) do {					\
	if (o->field != d->field) {					\
		snprintf(v, sizeof v, "%" PRIu64, (uint64_t)o->field);	\
		replay_arg(b, name, v);					\
	}								\
} while (0)
	if (o->pace != d->pace)
		replay_arg(b, "pace", pace_names[o->pace]);
	DIFF_U(gap_us, "gap-us");
	DIFF_U(cycle_ms, "cycle-ms");
	if (o->plan.split != d->plan.split)
		replay_arg(b, "split", plan_split_name(o->plan.split));
	DIFF_U(plan.max_fragments, "max-fragments");
	DIFF_U(plan.fastopen_chance, "fastopen-chance");
	DIFF_U(plan.close_chance, "close-chance");
	if (o->connect_timeout_ms != d->connect_timeout_ms) {
		snprintf(v, sizeof v, "%" PRIu64 "ms", o->connect_timeout_ms);
		replay_arg(b, "connect-timeout", v);
	}
	if (o->hang_timeout_ms != d->hang_timeout_ms) {
		snprintf(v, sizeof v, "%" PRIu64 "ms", o->hang_timeout_ms);
		replay_arg(b, "hang-timeout", v);
	}
	if (o->stall_timeout_ms != d->stall_timeout_ms) {
		snprintf(v, sizeof v, "%" PRIu64 "ms", o->stall_timeout_ms);
		replay_arg(b, "stall-timeout", v);
	}
	if (o->drain_timeout_ms != d->drain_timeout_ms) {
		snprintf(v, sizeof v, "%" PRIu64 "ms", o->drain_timeout_ms);
		replay_arg(b, "drain-timeout", v);
	}
	if (o->shard_n > 1) {
		snprintf(v, sizeof v, "%u/%u", o->shard_k, o->shard_n);
		replay_arg(b, "shard", v);
	}
#undef DIFF_U
}
