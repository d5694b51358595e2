/*
 * Statistics: counters kept by the engine, and the arithmetic that turns two
 * snapshots into rates. Formatting goes through a visitor, so a text line and
 * (later) JSON share one list of figures.
 */
#ifndef STUTTERFUZZ_STATS_H
#define STUTTERFUZZ_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "finding.h"

struct stats {
	uint64_t	conns_started;	/* connections begun (socket made) */
	uint64_t	conns_established;
	uint64_t	conns_completed;	/* every planned byte sent, closed cleanly */
	uint64_t	early_closes;	/* closed early as planned */
	uint64_t	peer_closed;	/* the server closed before we were done */
	uint64_t	drain_timeouts;	/* the server did not close in time */
	uint64_t	fastopens;	/* connections that tried TCP Fast Open */
	uint64_t	fragments;	/* fragments fully sent */
	uint64_t	bytes;		/* bytes sent */
	uint64_t	rounds;		/* completed passes over the corpus */
	uint64_t	cycles_to_connect;	/* sum over established connections */
	uint64_t	ready;		/* pacing checks that found nothing unacked */
	uint64_t	not_ready;	/* pacing checks that found unacked data */
	uint64_t	local_errors;	/* EMFILE, EADDRNOTAVAIL, ... */
	uint64_t	cuts_possible;	/* tracked cut positions of the corpus */
	uint64_t	cuts_used;	/* ... of them sent at least once */
	uint64_t	fid_checked;	/* fragments whose boundary was checked */
	uint64_t	fid_ok;		/* ... sent into an empty receive queue */
	uint64_t	compared;	/* answers compared with their reference */
	uint64_t	candidates;	/* ... that differed */
	uint64_t	unconfirmed;	/* candidates the same cut did not repeat */
	uint64_t	drift;		/* candidates the reference learned away */
	uint64_t	unstable;	/* blobs whose whole sends vary: not compared */
	uint64_t	refreshes;	/* whole sends of the reference refresh */
	uint64_t	findings[FINDING__COUNT];
	uint64_t	lost_with_target;	/* resets, refusals that only echo
						 * a supervised target's death */
};

/* Figures derived from two snapshots over an interval. */
struct stats_rates {
	double	seconds;
	double	conns_per_s;
	double	fragments_per_s;
	double	bytes_per_s;
	double	mean_cycles_to_connect;	/* NaN-free: 0 when nothing connected */
	double	ready_to_send;		/* 1 when nothing was checked */
	double	fragments_per_conn;
	double	coverage;		/* cuts_used / cuts_possible */
	double	fidelity;		/* fid_ok / fid_checked; -1: not measured */
};

/* Value types a visitor gets. */
enum stats_type {
	STATS_COUNT,	/* integer */
	STATS_RATE,	/* per second, shown with no decimals */
	STATS_RATIO,	/* shown with two decimals */
};

typedef void (*stats_emit_fn)(void *arg, const char *name,
    enum stats_type type, double value);

/* Computes the rates between prev and cur over `seconds`. */
void		 stats_rates(const struct stats *cur, const struct stats *prev,
		     double seconds, struct stats_rates *out);

/* Total findings in s. */
uint64_t	 stats_findings(const struct stats *s);

/* Emits the figures of a live line (or summary) in a fixed order: rounds,
 * mean_cycles_to_connect, ready_to_send, rates, findings by kind. */
void		 stats_visit(const struct stats *cur, const struct stats_rates *r,
		     stats_emit_fn emit, void *arg);

/* Flags for json_dumps of figures: compact, in the order set, ratios with
 * at most 4 decimals. */
#define STATS_JSON_FLAGS	(JSON_COMPACT | JSON_PRESERVE_ORDER | \
				 JSON_REAL_PRECISION(10))

/* The figures as a new JSON object (jansson; json_decref it). */
struct json_t;
struct json_t	*stats_json(const struct stats *cur,
		     const struct stats_rates *r);

/* The figures as one line of compact JSON (no newline); free() it. */
char		*stats_json_line(const struct stats *cur,
		     const struct stats_rates *r);

/* Appends the figures as one JSON object (no newline) to b. */
struct jbuf;
void		 stats_format_json(struct jbuf *b, const struct stats *cur,
		     const struct stats_rates *r);

/* Formats the figures as "name=value, name=value" into buf. */
size_t		 stats_format_line(char *buf, size_t len,
		     const struct stats *cur, const struct stats_rates *r);

/* Formats as many figures as fit in `width` columns, most useful first
 * (fragments and connections a second, fidelity, findings, ...), separated
 * by spaces, each whole or not at all: a terminal's live line. */
size_t		 stats_format_fit(char *buf, size_t len, size_t width,
		     const struct stats *cur, const struct stats_rates *r);

#endif
