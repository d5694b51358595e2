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

#include "conn.h"
#include "corpus.h"
#include "plan.h"

#define RECORD_FORMAT		"stutterfuzz-finding"
#define RECORD_FORMAT_VERSION	1

/* The finding a record is about. */
struct record_meta {
	const char	*kind;
	int		 err;
	const char	*phase;
	uint64_t	 at_us;
	uint64_t	 seed;
	const char	*target;
	const char	*options_json;	/* an object, already formatted */
	const char	*detail;	/* target findings: status or report line */
	const char	*target_json;	/* target findings: an object, or NULL */
	const char	*check_json;	/* mismatch: the "check" object, or NULL */
};

/* Where records go, with deduplication and a cap. */
struct recorder;

struct recorder	*recorder_new(const char *dir, uint64_t cap, char **cause);
void		 recorder_free(struct recorder *r);

/* Writes the record of a finding unless an identical one (same kind, blob,
 * cut; for a target finding, same kind and detail) was written already, in
 * which case it is only counted, or the cap is reached. culprit is NULL for
 * a finding of the target itself. Returns 1 written (*path set, owned by the recorder), 0 counted
 * as a duplicate, 2 over the cap, -1 on an I/O error (*cause). */
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

/* Formats one connection as a JSON object (with the blob's bytes if
 * with_bytes) into a jbuf. */
struct jbuf;
void		 record_conn_json(struct jbuf *b, const struct conn_report *c,
		     int with_bytes);

/* A connection read back from a record. */
struct record_conn {
	uint64_t	 index;
	struct blob	 blob;		/* owns its bytes */
	struct plan	 plan;		/* sizes, fast open, close_after; gaps */
	uint32_t	 frags_sent;
	size_t		 bytes_sent;
	enum conn_outcome outcome;
	uint64_t	 greet_us;	/* waited for a greeting; 0: did not */
};

struct record {
	char			*kind;
	char			*phase;
	int			 err;
	uint64_t		 seed;
	char			*target;
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
};

/* Reads and checks a record. Returns NULL with *cause naming the file and
 * what is wrong (truncated, not a record, checksum mismatch, ...). */
struct record	*record_load(const char *path, char **cause);
void		 record_free(struct record *r);

#endif
