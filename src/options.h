/* Command-line options: parsing, range checks and defaults in one place. */
#ifndef STUTTERFUZZ_OPTIONS_H
#define STUTTERFUZZ_OPTIONS_H

#include <stdint.h>

#include "plan.h"

enum pace_mode {
	PACE_CYCLE,	/* one fragment per connection per --cycle-ms, when acked */
	PACE_ACK,	/* per-connection: as soon as acked and --gap-us passed */
	PACE_READ,	/* per-connection: as soon as the server read it (sock_diag) */
	PACE_AUTO,	/* read on loopback where sock_diag works, else ack */
	PACE__COUNT
};

enum options_action {
	OPTIONS_RUN,
	OPTIONS_HELP,
	OPTIONS_VERSION,
	OPTIONS_REPLAY,		/* stutterfuzz replay RECORD */
};

/* Most --mask and --ignore options a run takes (each). */
#define OPTIONS_MASKS_MAX	16

struct options {
	enum options_action	 action;
	const char		*blob_dir;
	const char		*host;
	const char		*port;
	int			 host_set;	/* --host given */
	const char		*unix_path;	/* --unix: a Unix socket, not host:port */
	uint32_t		 num_conns;
	uint32_t		 cycle_ms;
	enum pace_mode		 pace;
	uint32_t		 gap_us;
	int			 gap_set;	/* --gap-us given (else: ack 1000, read 0) */
	struct plan_params	 plan;
	uint64_t		 seed;
	int			 seed_set;
	uint64_t		 duration_ms;	/* 0: until interrupted */
	uint64_t		 rounds;	/* 0: no limit */
	uint64_t		 only;		/* run only this connection index */
	int			 only_set;
	uint64_t		 max_findings;	/* 0: no limit */
	unsigned		 stop_on;	/* finding kinds that stop the run */
	unsigned		 fail_on;	/* finding kinds that make exit status 1 */
	uint64_t		 stats_interval_ms;
	uint64_t		 connect_timeout_ms;
	uint64_t		 hang_timeout_ms;	/* 0: never */
	uint64_t		 stall_timeout_ms;	/* read pacing, all connections; 0: never */
	uint64_t		 drain_timeout_ms;
	int			 quiet;
	uint64_t		 finding_lines;	/* lines printed per kind; 0: all */
	const char		*findings_dir;	/* records go here; NULL: none */
	uint64_t		 max_records;	/* records written per run; 0: no cap */
	const char		*trace_path;	/* one JSON line per connection */
	const char		*replay_path;	/* the record to replay */
	int			 replay_all;	/* replay every connection together */
	uint64_t		 settle_ms;	/* replay: wait before the liveness check */
	int			 port_set;	/* --port or --host given (replay) */
	char			**target_argv;	/* the command after "--"; NULL: none */
	uint64_t		 startup_timeout_ms;
	uint64_t		 grace_ms;	/* SIGTERM to SIGKILL at the end */
	int			 restart;	/* restart the target after a finding */
	uint64_t		 max_restarts;	/* per minute */
	int			 keep_target;	/* leave it running at the end */
	int			 stats_json;	/* --stats-format=json */
	const char		*stats_path;	/* --stats-file; NULL: stderr */
	const char		*summary_path;	/* --summary: final JSON */
	const char		*junit_path;	/* --junit: JUnit XML */
	const char		*sarif_path;	/* --sarif: SARIF 2.1.0 */
	uint32_t		 source_addrs;	/* IPv4 loopback sources to spread over */
	int			 source_addrs_set;
	uint32_t		 check_every;	/* --check: 1 all, 0 none, N one in N */
	uint64_t		 reference_refresh_ms;	/* whole sends again this
							 * often; 0 never */
	const char		*masks[OPTIONS_MASKS_MAX];	/* --mask */
	unsigned		 nmasks;
	const char		*ignores[OPTIONS_MASKS_MAX];	/* --ignore */
	unsigned		 nignores;
	const char		*turns_arg;	/* --turns as given; NULL: none */
	uint64_t		 turn_timeout_ms;	/* most wait for a reply or greeting */
	uint64_t		 turn_quiet_ms;	/* quiet after bytes that ends a reply */
	unsigned		 shard_k;
	unsigned		 shard_n;	/* 0 or 1: no sharding */
};

/* Fills o with the defaults. */
void		 options_defaults(struct options *o);

/* Parses argv into o (which options_defaults filled). Returns 0, or -1 with
 * an allocated one-line *cause. */
int		 options_parse(struct options *o, int argc, char **argv,
		     char **cause);

/* Checks the option table: names unique, fields of the kind's size, every
 * default within its option's bounds. Returns 0, or -1 with a cause. */
int		 options_table_check(char **cause);

/* Parses an unsigned decimal (or 0x hex) number within [min, max]. */
int		 options_parse_uint(const char *s, uint64_t min, uint64_t max,
		     uint64_t *out, char **cause);

/* Parses a duration ("500ms", "30", "30s", "10m", "2h", "1d"; no unit means
 * seconds) into milliseconds within [min_ms, max_ms]. */
int		 options_parse_duration(const char *s, uint64_t min_ms,
		     uint64_t max_ms, uint64_t *out_ms, char **cause);

/* Name of a pace mode. */
const char	*options_pace_name(enum pace_mode m);

/* The --help text. */
const char	*options_usage(void);

/* The options that shape cuts and pacing as a new JSON object (jansson;
 * json_decref it), with the pacing in effect (which --pace=auto leaves to
 * the engine). */
struct json_t;
struct json_t	*options_json_object(const struct options *o,
		     enum pace_mode pace);

/* The same object as compact JSON text; free() it. */
char		*options_json(const struct options *o, enum pace_mode pace);

struct jbuf;
/* Appends, shell-quoted, every option that changes how a connection is
 * cut or paced and differs from its default (for reproduce lines). */
void		 options_replay_args(const struct options *o, struct jbuf *b);

/* Appends --turns, --turn-timeout and --turn-quiet when not the defaults
 * (how a whole send goes: one write per message, each waiting its reply). */
void		 options_turn_args(const struct options *o, struct jbuf *b);

/* Appends s to b quoted for a POSIX shell (only when it needs quoting). */
void		 options_shell_quote(struct jbuf *b, const char *s);

#endif
