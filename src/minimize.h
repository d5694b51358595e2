/*
 * Minimization: from a record that brings a fault back to the smallest case
 * that still does. Delta debugging (ddmin) over the record's connections
 * (sets, so a fault that needs two connections at once keeps both), then
 * over their cuts (merging adjacent fragments), then over their bytes, each
 * remaining cut kept between the same two bytes. Pure: every attempt goes
 * through a callback, so the algorithm knows nothing of sockets or servers.
 */
#ifndef STUTTERFUZZ_MINIMIZE_H
#define STUTTERFUZZ_MINIMIZE_H

#include <stddef.h>
#include <stdint.h>

struct jbuf;
struct record;
struct record_conn;

/* What one attempt says (the attempt callback returns one of these). */
enum minimize_verdict {
	MINIMIZE_NOT_REPRODUCED = 0,
	MINIMIZE_REPRODUCED = 1,
	MINIMIZE_FAILED = -1,		/* could not run (the callback's *cause) */
	MINIMIZE_INTERRUPTED = -2,	/* a signal: keep what we have */
};

/* Stages, in order: connections, cuts, bytes (minimize_stage_name). */
#define MINIMIZE_STAGES	3

/* How a minimization ended. */
enum minimize_end {
	MINIMIZE_DONE,			/* every stage ran to its end */
	MINIMIZE_NOT_REPRODUCIBLE,	/* the record itself never reproduced */
	MINIMIZE_BUDGET,		/* the budget ran out first */
	MINIMIZE_STOPPED,		/* interrupted */
	MINIMIZE_ERROR,			/* an attempt failed (cause) */
	MINIMIZE__END_COUNT
};

/* Where a minimization stands, for the progress callback. */
struct minimize_progress {
	const char	*stage;		/* "check", "connections", "cuts", "bytes", "confirm" */
	uint64_t	 attempts;	/* attempts run so far */
	size_t		 conns;		/* of the smallest case so far */
	size_t		 bytes;
	size_t		 cuts;
	int		 reproduced;	/* the attempt just run did */
};

struct minimize_config {
	unsigned	 tries;		/* attempts per candidate (>= 1) */
	uint64_t	 budget_us;	/* whole minimization; 0: none */
	/* Runs candidate once; returns an enum minimize_verdict. */
	int		(*attempt)(void *arg, const struct record *candidate,
			    char **cause);
	/* After every attempt; may be NULL. */
	void		(*progress)(void *arg,
			    const struct minimize_progress *p);
	/* Monotonic clock; NULL: the real one. */
	uint64_t	(*now_us)(void *arg);
	void		*arg;
};

struct minimize_result {
	enum minimize_end end;
	struct record	*best;		/* smallest case that reproduced; NULL if none */
	uint64_t	 attempts;
	uint64_t	 candidates;	/* distinct cases tried */
	unsigned	 first_hits;	/* the record as given: reproduced ... */
	unsigned	 first_tries;	/* ... of this many tries */
	unsigned	 final_hits;	/* the smallest case, confirmed at the end */
	unsigned	 final_tries;	/* 0: not confirmed (budget, interrupt) */
	unsigned	 per_candidate;	/* tries each candidate got at most */
	int		 flaky;		/* some reproduction of a reproducing case failed */
	/* The record's size as the progress counts it: what it sends (a
	 * connection that closed early, what it sent before). */
	size_t		 orig_conns, orig_bytes, orig_cuts;
	/* Per stage (connections, cuts, bytes; all rounds): attempts and
	 * time spent (by cfg->now_us). */
	uint64_t	 stage_attempts[MINIMIZE_STAGES];
	uint64_t	 stage_us[MINIMIZE_STAGES];
	char		*cause;		/* MINIMIZE_ERROR */
};

/* Minimizes rec. The record is first tried cfg->tries times; if it
 * reproduced every time the fault is taken as steady and each candidate is
 * tried once, else each candidate up to cfg->tries times (a hit is a hit).
 * The smallest case found is confirmed cfg->tries times at the end. Fills
 * *res (release it with minimize_result_release); returns 0, or -1 when
 * res->end is MINIMIZE_ERROR. */
int	minimize_run(const struct record *rec, const struct minimize_config *cfg,
	    struct minimize_result *res);

/* Frees what a result holds (not the result itself); accepts NULL. */
void	minimize_result_release(struct minimize_result *res);

/* Is this case 1-minimal as far as a steady fault can tell? */
int	minimize_is_minimal(const struct minimize_result *res);

/* Name of stage i ("connections", "cuts", "bytes"). */
const char *minimize_stage_name(unsigned i);

/* Name of an end ("done", "budget", ...). */
const char *minimize_end_name(enum minimize_end e);

/* Totals of a record: connections, bytes, cuts (fragments - 1 each). */
void	minimize_size(const struct record *rec, size_t *conns, size_t *bytes,
	    size_t *cuts);

/* A deep copy of a record. */
struct record *minimize_record_copy(const struct record *rec);

/* Appends one line per cut of rec (each ending in a newline), e.g.
 * cut 1 of 1 at byte 17 of 34: "SET k1 v1\r" | "\nGET k1\r\n"
 * showing the fragments on both sides (up to `context` bytes of each,
 * "..." where more was left out), escaped; with several connections each
 * line starts with "conn N: " (N counts from 1 in the record's order). */
void	minimize_describe_cuts(const struct record *rec, size_t context,
	    struct jbuf *b);

/* Appends n bytes as a double-quoted string with C escapes (\r \n \t \\ \"
 * \xNN for anything else that is not printable ASCII). */
void	minimize_escape(struct jbuf *b, const unsigned char *p, size_t n);

#endif
