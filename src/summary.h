/*
 * The summary model: what a run (or a merge of many runs) found, built once
 * and rendered by every writer (JSON summary, JUnit, SARIF, GitHub
 * annotations and step summary, the HTML report).
 *
 * Every string in the model is valid UTF-8: names that are not are stored
 * in a display form with each bad byte written as \xNN, so writers only
 * escape for their own format.
 */
#ifndef STUTTERFUZZ_SUMMARY_H
#define STUTTERFUZZ_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "stats.h"

#define SUMMARY_FORMAT		"stutterfuzz-summary"
#define SUMMARY_MAX_FINDINGS	10000	/* distinct findings kept in a model */
#define SUMMARY_SEVERAL_TARGETS	"several targets"	/* merge: they differ */

/* One distinct finding: a kind, a blob and a cut (or a kind and a detail
 * for a finding of the target itself), with how often it happened. */
struct summary_finding {
	enum finding_kind	 kind;
	char			*blob;		/* NULL: a finding of the target */
	size_t			 blob_size;
	char			 blob_sha256[65];	/* hex, "" if no blob */
	uint32_t		*cut;		/* sizes of the fragments sent */
	uint32_t		 ncut;
	size_t			 sent_bytes;
	int			 early;		/* closed early as planned */
	char			*detail;	/* target findings, or NULL */
	char			*phase;
	double			 at_s;		/* since its run started */
	uint64_t		 seed;
	uint64_t		 count;		/* findings it stands for */
	char			*record;	/* record file, or NULL */
	char			*reproduce;	/* a command line, or NULL */
	char			*run_id;	/* the run it came from, or NULL */
	uint64_t		 key;		/* identity (summary_key) */
};

/* One blob of the corpus and its boundary coverage. */
struct summary_blob {
	char		*name;
	size_t		 size;
	uint64_t	 cuts_possible;
	uint64_t	 cuts_used;
};

struct summary {
	int			 merged;	/* built by merge from directories */
	uint64_t		 seed;
	int			 seed_set;	/* one seed (a run, or runs that agree) */
	char			*target;
	char			*pace;
	char			*stopped;
	char			*started;	/* UTC, "YYYY-MM-DDTHH:MM:SS" */
	int			 exit_code;
	double			 seconds;
	unsigned		 fail_on;	/* kinds that fail the run */
	struct stats		 totals;
	uint64_t		 restarts;
	char			*findings_dir;
	char			*blob_dir;	/* the corpus, as the run was given it */
	char			*run_id;	/* a run's, with a findings dir */
	char			**runs;		/* merge: the run ids united */
	size_t			 nruns;
	struct summary_finding	*findings;	/* in the order first seen */
	size_t			 nfindings;
	size_t			 findings_cap;
	size_t			*table;		/* by key: finding index + 1 */
	size_t			 table_cap;	/* power of two */
	uint64_t		 over_cap;	/* distinct findings not kept */
	struct summary_blob	*blobs;
	size_t			 nblobs;
};

struct summary	*summary_new(void);
void		 summary_free(struct summary *s);

/* Identity of a finding: kind, blob bytes and the cut as sent (fragment
 * sizes, bytes, early close); or kind and detail without a blob. The same
 * identity the recorder uses to count repeats. */
uint64_t	 summary_key(enum finding_kind kind, const unsigned char *data,
		     size_t len, const uint32_t *cut, uint32_t ncut,
		     size_t sent_bytes, int early, const char *detail);

/* The finding of kind with identity key, or NULL. */
struct summary_finding *summary_find(struct summary *s, enum finding_kind kind,
		     uint64_t key);

/* Adds a finding (copied; f->key must be set). A known one only adds its
 * count and fills in a record or reproduce command it lacked. Returns the
 * entry, or NULL when the model is full (counted in over_cap). */
struct summary_finding *summary_add(struct summary *s,
		     const struct summary_finding *f);

/* Adds a blob of the corpus with its coverage. */
void		 summary_add_blob(struct summary *s, const char *name,
		     size_t size, uint64_t possible, uint64_t used);

/* Adds every counter of from to to. */
void		 summary_add_totals(struct stats *to, const struct stats *from);

/* Findings of kinds that fail the run. */
uint64_t	 summary_failing(const struct summary *s);

/* Is a kind one that fails the run? */
int		 summary_fails(const struct summary *s, enum finding_kind k);

/* The cut as text: "3+5+12 (all 20 bytes)", "3+5 (8 of 20 bytes sent)";
 * "" without a blob. Allocated. */
char		*summary_cut_text(const struct summary_finding *f);

/* A display form of s that is valid UTF-8 (bad bytes as \xNN). Allocated. */
char		*summary_text(const char *s);

/* Formats the model as the --summary JSON text (allocated, ends in a
 * newline). */
char		*summary_json(const struct summary *s);

/* "unix" for a Unix socket target, "tcp" for host and port, NULL when
 * unknown or several (a merge of runs against different targets). */
const char	*summary_target_kind(const struct summary *s);

/* Reads the figures of a summary JSON text into s (merge): totals, seconds,
 * fail_on, seed, target, pace, stopped, run id; and, through per_finding,
 * each of its findings' record, count and time. Returns 0, or -1 with
 * *cause saying what is wrong. */
typedef void (*summary_finding_fn)(void *arg, const char *record,
    uint64_t count, double at_s);
int		 summary_read_json(struct summary *s, const char *text,
		     size_t len, summary_finding_fn per_finding, void *arg,
		     char **cause);

#endif
