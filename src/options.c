/* Command-line options: parsing, range checks and defaults in one place. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "answer.h"
#include "finding.h"
#include "json.h"
#include "options.h"
#include "util.h"

#define MAX_CONNS	1000000
#define MAX_CHANCE	1000000000
#define DAY_MS		(24ULL * 3600 * 1000)

static const char *const pace_names[PACE__COUNT + 1] = {	/* NULL-ended */
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
	.reference_refresh_ms = 60000,
	.turn_timeout_ms = 2000,
	.turn_quiet_ms = 20,
};

/* How an option's value is read. */
enum opt_kind {
	OPT_UINT,	/* number within [min, max] into a uint32 or uint64 field */
	OPT_DURATION,	/* duration in ms within [min, max] into a uint64 field */
	OPT_STRING,	/* non-empty string into a const char * field */
	OPT_FLAG,	/* no value: the int field becomes 1 */
	OPT_ENUM,	/* one of names[] into an int-sized (enum) field */
	OPT_SPECIAL,	/* fn reads it */
};

typedef int (*opt_fn)(struct options *, const char *, char **);

/* One option: its name, how its value is read, where it goes. */
struct opt_entry {
	const char		*name;
	enum opt_kind		 kind;
	size_t			 off;	/* field in struct options */
	size_t			 size;	/* of the field (OPT_UINT) */
	uint64_t		 min, max;
	ssize_t			 set_off;	/* int set to 1 when given; -1 none */
	const char *const	*names;	/* OPT_ENUM: NULL-terminated */
	const char		*what;	/* "a pace mode", "path": for messages */
	opt_fn			 fn;	/* OPT_SPECIAL */
};

#define F(field)	offsetof(struct options, field)
#define FS(field)	F(field), sizeof(((struct options *)0)->field)
#define UINT(n, field, lo, hi) \
	{ n, OPT_UINT, FS(field), lo, hi, -1, NULL, NULL, NULL }
#define UINT_SET(n, field, lo, hi, set) \
	{ n, OPT_UINT, FS(field), lo, hi, F(set), NULL, NULL, NULL }
#define DUR(n, field, lo, hi) \
	{ n, OPT_DURATION, FS(field), lo, hi, -1, NULL, NULL, NULL }
#define STR_SET(n, field, what, set) \
	{ n, OPT_STRING, FS(field), 0, 0, F(set), NULL, what, NULL }
#define STR(n, field, what) \
	{ n, OPT_STRING, FS(field), 0, 0, -1, NULL, what, NULL }
#define FLAG(n, field)	{ n, OPT_FLAG, FS(field), 0, 0, -1, NULL, NULL, NULL }
#define ENUM(n, field, list, what) \
	{ n, OPT_ENUM, FS(field), 0, 0, -1, list, what, NULL }
#define SPECIAL(n, fn)	{ n, OPT_SPECIAL, 0, 0, 0, 0, -1, NULL, NULL, fn }

static const char *const format_list[] = { "text", "json", NULL };

static int	opt_port(struct options *, const char *, char **);
static int	opt_split(struct options *, const char *, char **);
static int	opt_shard(struct options *, const char *, char **);
static int	opt_stop_on(struct options *, const char *, char **);
static int	opt_fail_on(struct options *, const char *, char **);
static int	opt_replay(struct options *, const char *, char **);
static int	opt_check(struct options *, const char *, char **);
static int	opt_mask(struct options *, const char *, char **);
static int	opt_ignore(struct options *, const char *, char **);
static int	opt_turns(struct options *, const char *, char **);
static int	opt_help(struct options *, const char *, char **);
static int	opt_version(struct options *, const char *, char **);

/* Every option; its getopt_long value is its index here plus OPT_BASE. A
 * new option is one line here (and its field, default and --help line). */
static const struct opt_entry opt_table[] = {
	STR("blob-dir", blob_dir, "path"),
	STR_SET("host", host, "host", host_set),
	SPECIAL("port", opt_port),
	STR("unix", unix_path, "path"),
	UINT("num-conns", num_conns, 1, MAX_CONNS),
	UINT("cycle-ms", cycle_ms, 1, 3600000),
	UINT("fastopen-chance", plan.fastopen_chance, 0, MAX_CHANCE),
	UINT("close-chance", plan.close_chance, 0, MAX_CHANCE),
	ENUM("pace", pace, pace_names, "a pace mode"),
	UINT_SET("gap-us", gap_us, 0, 10000000, gap_set),
	SPECIAL("split", opt_split),
	UINT("max-fragments", plan.max_fragments, 0, UINT32_MAX),
	UINT_SET("seed", seed, 0, UINT64_MAX, seed_set),
	DUR("duration", duration_ms, 1, 365 * DAY_MS),
	UINT("rounds", rounds, 1, UINT32_MAX),
	UINT_SET("only", only, 0, UINT64_MAX / 2, only_set),
	UINT("max-findings", max_findings, 1, UINT32_MAX),
	SPECIAL("stop-on", opt_stop_on),
	SPECIAL("fail-on", opt_fail_on),
	DUR("stats-interval", stats_interval_ms, 100, DAY_MS),
	DUR("connect-timeout", connect_timeout_ms, 10, 3600000),
	DUR("hang-timeout", hang_timeout_ms, 0, DAY_MS),
	DUR("stall-timeout", stall_timeout_ms, 0, DAY_MS),
	DUR("drain-timeout", drain_timeout_ms, 0, 3600000),
	SPECIAL("shard", opt_shard),
	UINT("finding-lines", finding_lines, 0, UINT64_MAX),
	STR("findings-dir", findings_dir, "path"),
	UINT("max-records", max_records, 0, UINT32_MAX),
	STR("trace", trace_path, "path"),
	SPECIAL("replay", opt_replay),
	FLAG("all", replay_all),
	DUR("settle", settle_ms, 0, 60000),
	DUR("startup-timeout", startup_timeout_ms, 100, 3600000),
	DUR("grace", grace_ms, 0, 600000),
	FLAG("restart", restart),
	UINT("max-restarts", max_restarts, 1, 100000),
	FLAG("keep-target", keep_target),
	ENUM("stats-format", stats_json, format_list, "a format"),
	STR("stats-file", stats_path, "path"),
	STR("summary", summary_path, "path"),
	STR("junit", junit_path, "path"),
	STR("sarif", sarif_path, "path"),
	UINT_SET("source-addrs", source_addrs, 1, 65000, source_addrs_set),
	SPECIAL("check", opt_check),
	DUR("reference-refresh", reference_refresh_ms, 0, DAY_MS),
	SPECIAL("mask", opt_mask),
	SPECIAL("ignore", opt_ignore),
	SPECIAL("turns", opt_turns),
	DUR("turn-timeout", turn_timeout_ms, 1, DAY_MS),
	DUR("turn-quiet", turn_quiet_ms, 1, 60000),
	FLAG("quiet", quiet),
	{ "help", OPT_FLAG, 0, 0, 0, 0, -1, NULL, NULL, opt_help },
	{ "version", OPT_FLAG, 0, 0, 0, 0, -1, NULL, NULL, opt_version },
};

#define OPT_BASE	256
#define OPT_COUNT	(sizeof opt_table / sizeof opt_table[0])

static const char usage_text[] =
"usage: stutterfuzz --blob-dir=DIR --port=PORT [--host=HOST] [OPTION]...\n"
"                   [-- SERVER-COMMAND...]\n"
"       stutterfuzz --blob-dir=DIR --unix=PATH [OPTION]... [-- SERVER...]\n"
"       stutterfuzz replay RECORD [--host=HOST] [--port=PORT] [--unix=PATH]\n"
"                   [--all]\n"
"       stutterfuzz merge --output=DIR [--junit=FILE] [--sarif=FILE] DIR...\n"
"       stutterfuzz report DIR --output=FILE.html\n"
"       stutterfuzz minimize RECORD [OPTION]... [-- SERVER-COMMAND...]\n"
"       stutterfuzz proxy --listen=[HOST:]PORT --to=HOST:PORT [OPTION]...\n"
"       stutterfuzz proxy --listen=unix:PATH --unix=PATH [OPTION]...\n"
"Opens many TCP connections to a server, sends one blob of DIR on each, cut\n"
"at random packet boundaries, and reports the faults it provokes.\n"
"\n"
"Target and corpus:\n"
"  --blob-dir=DIR          directory of blobs (regular files; dot-files skipped)\n"
"  --host=HOST             host name or address (default localhost)\n"
"  --port=PORT             port number or service name (required)\n"
"  --unix=PATH             a Unix-domain stream socket instead of --host and\n"
"                          --port (fast open and --source-addrs do not apply)\n"
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
"  --reference-refresh=TIME\n"
"                          send each blob whole again this often, so the\n"
"                          references follow the server (60s; 0 never)\n"
"  --mask=REGEX            answer parts matching REGEX compare as a wildcard\n"
"                          (POSIX extended; repeatable)\n"
"  --ignore=REGEX          answer parts matching REGEX are left out of the\n"
"                          comparison (repeatable)\n"
"  --turns=DELIM           a message ends after each DELIM (C escapes, e.g.\n"
"                          '\\r\\n'); each waits for the server's reply\n"
"  --turns=len:OFF:W[:be|:le][:all][:+N|:-N]\n"
"                          binary: a W-byte (1, 2, 4, 8) length at byte OFF\n"
"                          of each message counts what follows it (all: the\n"
"                          whole message), plus N; e.g. len:0:2\n"
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
"  --junit=FILE            write a JUnit XML report (a test case per kind)\n"
"  --sarif=FILE            write SARIF 2.1.0 (a result per distinct finding)\n"
"  --finding-lines=N       print at most N findings of each kind (100;\n"
"                          0 all); the rest are counted in the statistics\n"
"  -q, --quiet             no live statistics, only findings and the summary\n"
"  -h, --help              this text\n"
"  -V, --version           version\n"
"\n"
"Exit status: 0 ran clean until a limit or a signal; 1 findings of a\n"
"--fail-on kind; 2 usage or configuration error; 3 runtime error of\n"
"stutterfuzz itself or its environment (out of file descriptors, ports,\n"
"memory; a supervised target that cannot start).\n"
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

/* --shard=K/N. */
static int
opt_shard(struct options *o, const char *s, char **cause)
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
	o->shard_k = (unsigned)kv;
	o->shard_n = (unsigned)nv;
	return 0;
}

/* --port: a number in range, or a service name. */
static int
opt_port(struct options *o, const char *arg, char **cause)
{
	uint64_t	v;

	if (*arg == '\0') {
		*cause = xasprintf("empty port");
		return -1;
	}
	if (isdigit((unsigned char)*arg) &&
	    options_parse_uint(arg, 1, 65535, &v, cause) == -1)
		return -1;
	o->port = arg;
	return 0;
}

/* --split=STRATEGY. */
static int
opt_split(struct options *o, const char *arg, char **cause)
{
	if (plan_split_parse(arg, &o->plan.split) == -1) {
		*cause = xasprintf("'%s' is not a split strategy (use mix, "
		    "uniform, small, bytewise, delimiter or sweep)", arg);
		return -1;
	}
	return 0;
}

/* --stop-on=KINDS. */
static int
opt_stop_on(struct options *o, const char *arg, char **cause)
{
	return finding_parse_kinds(arg, &o->stop_on, cause);
}

/* --fail-on=KINDS. */
static int
opt_fail_on(struct options *o, const char *arg, char **cause)
{
	return finding_parse_kinds(arg, &o->fail_on, cause);
}

/* --check=all|none|1/N. */
static int
opt_check(struct options *o, const char *arg, char **cause)
{
	return answer_check_parse(arg, &o->check_every, cause);
}

/* --mask or --ignore: checks the regex compiles and keeps it. */
static int
options_add_mask(struct options *o, int mask, const char *arg, char **cause)
{
	struct answer_masks	*m;
	unsigned		*n = mask ? &o->nmasks : &o->nignores;
	int			 rc;

	/* Records keep it as JSON text: bytes that are not UTF-8 would not
	 * survive. */
	if (!util_utf8_valid(arg)) {
		*cause = xasprintf("--%s: not UTF-8 text (records keep it as "
		    "text)", mask ? "mask" : "ignore");
		return -1;
	}
	m = answer_masks_new();

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

/* --mask=REGEX. */
static int
opt_mask(struct options *o, const char *arg, char **cause)
{
	return options_add_mask(o, 1, arg, cause);
}

/* --ignore=REGEX. */
static int
opt_ignore(struct options *o, const char *arg, char **cause)
{
	return options_add_mask(o, 0, arg, cause);
}

/* --turns=DELIM or --turns=len:... (turn_parse names the option). */
static int
opt_turns(struct options *o, const char *arg, char **cause)
{
	/* Records keep the rule as JSON text, as given: write bytes that
	 * are not UTF-8 with escapes (\xHH), which survive. */
	if (!util_utf8_valid(arg)) {
		*cause = xasprintf("--turns: not UTF-8 text (write such bytes "
		    "as \\xHH)");
		return -1;
	}
	if (turn_parse(arg, &o->plan.turns, cause) == -1)
		return -1;
	o->turns_arg = arg;
	return 0;
}

/* --replay=RECORD (the older spelling of the replay subcommand). */
static int
opt_replay(struct options *o, const char *arg, char **cause)
{
	(void)cause;
	o->replay_path = arg;
	o->action = OPTIONS_REPLAY;
	return 0;
}

/* --help. */
static int
opt_help(struct options *o, const char *arg, char **cause)
{
	(void)arg;
	(void)cause;
	o->action = OPTIONS_HELP;
	return 0;
}

/* --version. */
static int
opt_version(struct options *o, const char *arg, char **cause)
{
	(void)arg;
	(void)cause;
	o->action = OPTIONS_VERSION;
	return 0;
}

/* Stores v into the unsigned field of e's size. */
static void
opt_store_uint(struct options *o, const struct opt_entry *e, uint64_t v)
{
	char	*p = (char *)o + e->off;

	if (e->size == sizeof(uint32_t)) {
		uint32_t	v32 = (uint32_t)v;

		memcpy(p, &v32, sizeof v32);
	} else {
		memcpy(p, &v, sizeof v);
	}
}

/* Reads one of e->names into its int-sized field. */
static int
opt_enum(struct options *o, const struct opt_entry *e, const char *arg,
    char **cause)
{
	char	*list;
	int	 i;

	for (i = 0; e->names[i] != NULL; i++) {
		if (strcmp(arg, e->names[i]) == 0) {
			memcpy((char *)o + e->off, &i, sizeof i);
			return 0;
		}
	}
	list = xstrdup(e->names[0]);
	for (i = 1; e->names[i] != NULL; i++) {
		char	*l = xasprintf("%s%s%s", list, e->names[i + 1] ?
		    ", " : " or ", e->names[i]);

		free(list);
		list = l;
	}
	*cause = xasprintf("'%s' is not %s (use %s)", arg, e->what, list);
	free(list);
	return -1;
}

/* Applies option e with its argument (NULL for a flag) to o. */
static int
options_apply(struct options *o, const struct opt_entry *e, const char *arg,
    char **cause)
{
	uint64_t	v;
	int		one = 1;

	switch (e->kind) {
	case OPT_UINT:
	case OPT_DURATION:
		if ((e->kind == OPT_UINT ? options_parse_uint(arg, e->min,
		    e->max, &v, cause) : options_parse_duration(arg, e->min,
		    e->max, &v, cause)) == -1)
			return -1;
		opt_store_uint(o, e, v);
		break;
	case OPT_STRING:
		if (*arg == '\0') {
			*cause = xasprintf("empty %s", e->what);
			return -1;
		}
		memcpy((char *)o + e->off, &arg, sizeof arg);
		break;
	case OPT_FLAG:
		if (e->fn != NULL)
			return e->fn(o, arg, cause);
		memcpy((char *)o + e->off, &one, sizeof one);
		break;
	case OPT_ENUM:
		return opt_enum(o, e, arg, cause);
	case OPT_SPECIAL:
		return e->fn(o, arg, cause);
	}
	if (e->set_off >= 0)
		memcpy((char *)o + e->set_off, &one, sizeof one);
	return 0;
}

/* Reads the unsigned field of e's size. */
static uint64_t
opt_load_uint(const struct options *o, const struct opt_entry *e)
{
	const char	*p = (const char *)o + e->off;
	uint32_t	 v32;
	uint64_t	 v;

	if (e->size == sizeof(uint32_t)) {
		memcpy(&v32, p, sizeof v32);
		return v32;
	}
	memcpy(&v, p, sizeof v);
	return v;
}

/* Checks the option table: names unique, fields of the kind's size, every
 * default within its option's bounds. Returns 0, or -1 with a cause. */
int
options_table_check(char **cause)
{
	const struct options	*d = &option_defaults;

	for (size_t i = 0; i < OPT_COUNT; i++) {
		const struct opt_entry	*e = &opt_table[i];
		uint64_t		 v;

		for (size_t j = 0; j < i; j++) {
			if (strcmp(opt_table[j].name, e->name) == 0)
				goto bad;
		}
		switch (e->kind) {
		case OPT_UINT:
		case OPT_DURATION:
			if ((e->size != 4 && e->size != 8) || e->min > e->max ||
			    (e->kind == OPT_DURATION && e->size != 8))
				goto bad;
			v = opt_load_uint(d, e);
			/* 0 is "off" or "none" for some; else within bounds. */
			if (v > e->max || (v < e->min && v != 0))
				goto bad;
			break;
		case OPT_STRING:
			if (e->size != sizeof(char *) || e->what == NULL)
				goto bad;
			break;
		case OPT_ENUM:
			if (e->size != sizeof(int) || e->names == NULL)
				goto bad;
			break;
		case OPT_FLAG:
			if (e->fn == NULL && e->size != sizeof(int))
				goto bad;
			break;
		case OPT_SPECIAL:
			if (e->fn == NULL)
				goto bad;
			break;
		}
		continue;
bad:
		*cause = xasprintf("option table: --%s is malformed", e->name);
		return -1;
	}
	return 0;
}

/* The getopt_long table, made from opt_table once. */
static const struct option *
options_long(void)
{
	static struct option	lo[OPT_COUNT + 1];

	if (lo[0].name != NULL)
		return lo;
	for (size_t i = 0; i < OPT_COUNT; i++) {
		lo[i].name = opt_table[i].name;
		lo[i].has_arg = opt_table[i].kind == OPT_FLAG ? no_argument :
		    required_argument;
		lo[i].val = OPT_BASE + (int)i;
	}
	return lo;
}

/* The entry of a short option or a getopt_long value, or NULL. */
static const struct opt_entry *
options_entry(int val)
{
	const char	*name = val == 'q' ? "quiet" : val == 'h' ? "help" :
	    val == 'V' ? "version" : NULL;

	if (val >= OPT_BASE && (size_t)(val - OPT_BASE) < OPT_COUNT)
		return &opt_table[val - OPT_BASE];
	for (size_t i = 0; name != NULL && i < OPT_COUNT; i++) {
		if (strcmp(opt_table[i].name, name) == 0)
			return &opt_table[i];
	}
	return NULL;
}

/* The one-line cause for getopt_long's '?' (unknown, or a value given to a
 * flag), naming the option as it was typed. */
static char *
options_unknown(char **argv, int optind_now, int opt_opt)
{
	const char	*typed = argv[optind_now - 1];
	size_t		 n = strcspn(typed, "=");

	if (opt_opt >= OPT_BASE && strncmp(typed, "--", 2) == 0)
		return xasprintf("option '%.*s' takes no value (given '%s')",
		    (int)n, typed, typed);
	if (opt_opt != 0)
		return xasprintf("unknown option '-%c'", opt_opt);
	return xasprintf("unknown option '%.*s'", (int)n, typed);
}

/* Takes the server command after "--", and the record of "replay RECORD". */
static int
options_rest(struct options *o, int argc, char **argv, char **cause)
{
	if (optind > 1 && optind <= argc &&
	    strcmp(argv[optind - 1], "--") == 0) {
		if (optind == argc) {
			*cause = xasprintf("-- needs a server command after it");
			return -1;
		}
		o->target_argv = &argv[optind];
		optind = argc;
	}
	if (optind < argc && o->action == OPTIONS_REPLAY &&
	    o->replay_path == NULL)
		o->replay_path = argv[optind++];	/* cmd_replay's RECORD */
	else if (optind < argc && strcmp(argv[optind], "replay") == 0 &&
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
	return 0;
}

/* Parses argv into o. */
int
options_parse(struct options *o, int argc, char **argv, char **cause)
{
	const struct opt_entry	*e;
	int			 opt;

	optind = 0;	/* glibc: full reinitialisation, so tests can call twice */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":qhV", options_long(),
	    NULL)) != -1) {
		char	*why = NULL;

		if (opt == ':') {
			*cause = xasprintf("option %s needs a value",
			    argv[optind - 1]);
			return -1;
		}
		if (opt == '?' || (e = options_entry(opt)) == NULL) {
			*cause = options_unknown(argv, optind, optopt);
			return -1;
		}
		if (options_apply(o, e, optarg, &why) == -1) {
			/* Causes of the answer and turn parsers name the
			 * option themselves. */
			if (strncmp(why, "--", 2) == 0) {
				*cause = why;
				return -1;
			}
			*cause = xasprintf("--%s: %s", e->name, why);
			free(why);
			return -1;
		}
		if (o->action == OPTIONS_HELP || o->action == OPTIONS_VERSION)
			return 0;
	}
	if (options_rest(o, argc, argv, cause) == -1)
		return -1;
	if (o->unix_path != NULL && (o->port != NULL || o->host_set)) {
		*cause = xasprintf("--unix and --%s exclude each other",
		    o->port != NULL ? "port" : "host");
		return -1;
	}
	o->port_set = o->port != NULL || o->unix_path != NULL;
	if (o->action == OPTIONS_REPLAY && o->replay_path == NULL) {
		*cause = xasprintf("replay needs a record file");
		return -1;
	}
	if (o->action == OPTIONS_REPLAY)
		return 0;	/* the record holds the blobs and the target */
	if (o->blob_dir == NULL) {
		*cause = xasprintf("--blob-dir is required");
		return -1;
	}
	if (o->port == NULL && o->unix_path == NULL) {
		*cause = xasprintf("--port is required (or --unix=PATH)");
		return -1;
	}
	return 0;
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

/* Appends a duration option given in milliseconds, if not its default. */
static void
replay_ms(struct jbuf *b, const char *name, uint64_t ms, uint64_t dflt)
{
	char	v[32];

	if (ms == dflt)
		return;
	snprintf(v, sizeof v, "%" PRIu64 "ms", ms);
	replay_arg(b, name, v);
}

/* Appends --turns and its timeouts, when not the defaults. */
void
options_turn_args(const struct options *o, struct jbuf *b)
{
	const struct options	*d = &option_defaults;

	if (o->turns_arg != NULL)
		replay_arg(b, "turns", o->turns_arg);
	replay_ms(b, "turn-timeout", o->turn_timeout_ms, d->turn_timeout_ms);
	replay_ms(b, "turn-quiet", o->turn_quiet_ms, d->turn_quiet_ms);
}

/* Appends --check, --mask and --ignore, when not the defaults. */
static void
options_check_args(const struct options *o, struct jbuf *b)
{
	char	v[32];

	if (o->check_every != option_defaults.check_every) {
		if (o->check_every == 0)
			snprintf(v, sizeof v, "none");
		else if (o->check_every == 1)
			snprintf(v, sizeof v, "all");
		else
			snprintf(v, sizeof v, "1/%" PRIu32, o->check_every);
		replay_arg(b, "check", v);
	}
	for (unsigned i = 0; i < o->nmasks; i++)
		replay_arg(b, "mask", o->masks[i]);
	for (unsigned i = 0; i < o->nignores; i++)
		replay_arg(b, "ignore", o->ignores[i]);
}

/* Appends every option that changes cuts, pacing, turns or the answer
 * checks and is not default. */
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
	options_turn_args(o, b);
	options_check_args(o, b);
}
