/*
 * Finding records and traces.
 *
 * A record is one JSON file holding everything needed to reproduce a
 * finding without the original corpus or run: kind, error, times, seed,
 * options, and each connection involved with its blob's bytes, the fragment
 * sizes, the gaps as they happened, fast open and early close. A trace is
 * one JSON line per finished connection, without the bytes.
 */
#ifndef STUTTERFUZZ_RECORD_H
#define STUTTERFUZZ_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conn.h"
#include "corpus.h"
#include "plan.h"

#define RECORD_FORMAT		"stutterfuzz-finding"
#define RECORD_FORMAT_VERSION	2	/* written; 1 and 2 are read */

/* Bounds on what a record may hold; past them it is corrupt. */
#define RECORD_MAX_FILE		(256UL * 1024 * 1024)	/* bytes */
#define RECORD_MAX_SUSPECTS	128		/* as many as the engine keeps */
#define RECORD_MAX_GAP_US	600000000U	/* ten minutes */
#define RECORD_MAX_VALUES	(4UL * 1024 * 1024)	/* JSON values */
#define RECORD_MAX_OBJECTS	(4 * (RECORD_MAX_SUSPECTS + 1) + 16)

/* The finding a record is about. */
struct record_meta {
	const char	*kind;
	int		 err;
	const char	*phase;
	uint64_t	 at_us;
	uint64_t	 seed;
	const char	*target;	/* host:port, or a Unix socket's path */
	const char	*target_kind;	/* "unix", or NULL for TCP */
	const char	*options_json;	/* an object, already formatted */
	const char	*detail;	/* target findings: status or report line */
	char *const	*target_argv;	/* target findings: the supervised command, */
	const char	*target_tail;	/* and the tail of its output; or NULL */
	const char	*target_cwd;	/* and where it was started; NULL: the
					 * working directory now (no one
					 * changes it) */
	const char	*check_json;	/* mismatch: the "check" object, or NULL */
};

struct finding;
struct net_target;

/* The meta of a finding's record against target t: kind, errno, phase,
 * time, seed, detail, mismatch check, the target and its kind, and the
 * options object; the supervised command is the caller's to add. */
void		 record_meta_init(struct record_meta *m, const struct finding *f,
		     const struct net_target *t, const char *options_json);

/* Where records go, with deduplication and a cap. */
struct recorder;

struct recorder	*recorder_new(const char *dir, uint64_t cap, char **cause);
void		 recorder_free(struct recorder *r);

/* Writes the record of a finding unless an identical one (same kind, blob,
 * cut; for a target finding, same kind and detail) was written already, in
 * which case it is only counted, or the cap is reached. culprit is NULL for
 * a finding of the target itself. Returns 1 written (*path set, owned by
 * the recorder), 0 counted as a duplicate, 2 over the cap, -1 on an I/O
 * error (*cause). */
int		 recorder_add(struct recorder *r, const struct record_meta *m,
		     const struct conn_report *culprit,
		     const struct conn_report *suspects, size_t nsuspects,
		     const char **path, char **cause);

/* Writes <dir>/run-<id>.json: every record of this run and its count. */
int		 recorder_finish(struct recorder *r, uint64_t seed,
		     const char *stop_reason, char **cause);

/* Totals: records written, duplicates counted, findings over the cap. */
void		 recorder_totals(const struct recorder *r, uint64_t *written,
		     uint64_t *duplicates, uint64_t *over_cap);
const char	*recorder_dir(const struct recorder *r);
/* The run id in the names of the files this recorder writes (hex). */
uint64_t	 recorder_run_id(const struct recorder *r);

/* One connection as JSON text (an object, one line, no newline; with the
 * blob's bytes if with_bytes), the same as a record holds. A new string,
 * or NULL when memory ran out. */
char		*record_conn_text(const struct conn_report *c, int with_bytes);

/* The same appended to a jbuf: for callers not yet moved to the above. */
struct jbuf;
void		 record_conn_json(struct jbuf *b, const struct conn_report *c,
		     int with_bytes);

/* Writes one connection as a trace line (a JSON object without the blob's
 * bytes, and a newline) to f. Returns 0, or -1 with *cause. */
int		 record_trace_write(FILE *f, const struct conn_report *c,
		     char **cause);

/* A connection read back from a record. */
struct record_conn {
	uint64_t	 index;
	struct blob	 blob;		/* owns its bytes; name: the exact bytes */
	struct plan	 plan;		/* sizes, fast open, close_after; gaps */
	uint32_t	 frags_sent;
	size_t		 bytes_sent;
	enum conn_outcome outcome;
	uint64_t	 greet_us;	/* waited for a greeting; 0: did not */
};

struct record {
	unsigned		 format_version;	/* 1 or 2 */
	char			*kind;
	char			*phase;
	int			 err;
	uint64_t		 seed;
	char			*target;	/* "host:port", "[v6]:port", or a
						 * Unix socket's path */
	int			 target_unix;	/* target_kind "unix": a path */
	char			*target_host;	/* its parts (TCP); the port is 1-65535 */
	char			*target_port;
	char			*tool_version;
	struct record_conn	*conns;	/* the finding's own first, if it has one */
	size_t			 nconns;
	int			 has_culprit;	/* conns[0] is the finding's own */
	char			*detail;	/* target findings */
	char			*pace;		/* the run's pacing in effect */
	char			*expected;	/* mismatch: the reference answer
						 * (answer_text), or NULL */
	int			 expected_closed;	/* ... the server closed */
	char			**masks;	/* mismatch: --mask and --ignore */
	size_t			 nmasks;
	char			**ignores;
	size_t			 nignores;
	char			*target_cwd;	/* target_process.cwd: where the
						 * supervised command ran, or NULL */
	int			 minimized;	/* written by minimize: its
						 * connections go together */
	struct turn_spec	 turns;		/* the run's turn rule (options
						 * or check "turns"); TURN_NONE */
	char			*turns_text;	/* ... as --turns took it; NULL */
};

/* Reads and checks a record. Returns NULL with *cause naming the file and
 * what is wrong (truncated, not a record, checksum mismatch, a number out
 * of its range, more than the bounds above, ...). Never blocks on a FIFO. */
struct record	*record_load(const char *path, char **cause);
void		 record_free(struct record *r);

/* Is the record's target host a literal loopback address (127.0.0.0/8,
 * ::1, ::ffff:127.0.0.0/104)? Names are never resolved. */
int		 record_target_is_loopback(const struct record *r);

/* Record text made safe for a terminal: a new string in which every byte
 * that is not printable ASCII or part of printable UTF-8 is written \xNN,
 * and a backslash is written \\. */
char		*record_escape(const char *s);

#endif
