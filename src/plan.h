/*
 * Split planning: how one connection cuts its blob into fragments.
 *
 * A plan is plain data and a pure function of (seed, connection index, blob
 * length, parameters): any connection of a run can be rebuilt later from
 * those numbers alone.
 */
#ifndef STUTTERFUZZ_PLAN_H
#define STUTTERFUZZ_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "turn.h"

enum plan_split {
	PLAN_SPLIT_UNIFORM,	/* sizes uniform over 1..len, clipped to what remains */
	PLAN_SPLIT_SMALL,	/* sizes log-uniform over 1..len: tiny pieces common */
	PLAN_SPLIT_BYTEWISE,	/* one byte per fragment (a window of them if capped) */
	PLAN_SPLIT_DELIMITER,	/* cuts at, before and after the blob's structure */
	PLAN_SPLIT_SWEEP,	/* every single cut in turn, then pairs in a window */
	PLAN_SPLIT_MIX,		/* one of the above per connection, by weight */
	PLAN_SPLIT__COUNT
};

/* Pairs of cuts the sweep tries are at most this far apart. */
#define PLAN_SWEEP_WINDOW	8
/* Mix: slots of each strategy in a cycle of 16 visits of a blob. */
#define PLAN_MIX_SLOTS		16

struct plan_params {
	enum plan_split	split;
	uint32_t	fastopen_chance;	/* 1 in N connections use TCP Fast Open; 0 never */
	uint32_t	close_chance;		/* 1 in N fragments is replaced by an early close; 0 never */
	uint32_t	max_fragments;		/* upper bound on fragments per plan
						 * (per message with turns); 0 no bound */
	struct turn_spec turns;			/* TURN_NONE: the blob is one message */
};

struct plan {
	uint64_t	seed;
	uint64_t	index;
	size_t		len;		/* blob length the plan covers */
	enum plan_split	split;
	int		fastopen;	/* first fragment goes out with the SYN */
	uint32_t	nfrags;		/* fragments that cover the whole blob */
	uint32_t	close_after;	/* fragments sent before closing; == nfrags: no early close */
	uint32_t	*sizes;		/* nfrags sizes, each >= 1, summing to len */
	uint32_t	cap;		/* allocated entries of sizes */
	uint32_t	*gaps_us;	/* replay: least wait before each fragment
					 * (nfrags entries); NULL: --gap-us */
	uint32_t	*turn_ends;	/* with turns: fragments sent when each
					 * message is complete, ascending, the
					 * last == nfrags; the connection waits
					 * for the reply there */
	uint32_t	 nturns;	/* messages; 0 without turns */
	uint32_t	 turn_cap;	/* allocated entries of turn_ends */
};

/* Builds the plan for connection `index` of the run seeded `seed`, which
 * sends `data` (len bytes) for the `visit`-th time (index / blobs in the
 * corpus), reusing p's buffer. With turns, each message is cut on its own
 * by the same strategy (the same random stream, message after message) and
 * its end is a fragment boundary noted in turn_ends; without, the plan is
 * what it always was. Returns 0, or -1 with errno ENOMEM or EINVAL. */
int		 plan_make(struct plan *p, uint64_t seed, uint64_t index,
		     uint64_t visit, const unsigned char *data, size_t len,
		     const struct plan_params *params);

/* Mix: the strategy of the visit-th visit of a blob in the run seeded seed. */
enum plan_split	 plan_mix_pick(uint64_t seed, uint64_t visit);

/* The weight of each strategy in the mix, out of PLAN_MIX_SLOTS. */
unsigned	 plan_mix_weight(enum plan_split s);

/* Sweep: the cuts (1 or 2, positions 1..len-1) of pattern m for a blob of
 * len bytes; patterns are every single cut in order, then every pair of
 * cuts at most PLAN_SWEEP_WINDOW apart, then again from the start. Returns
 * the number of cuts (0 when len < 2). */
unsigned	 plan_sweep_cuts(size_t len, uint64_t m, size_t cuts[2]);

/* Whether the cut before byte i (1 <= i < len) sits at the blob's structure:
 * next to CR, LF, space, ':', NUL, at a UTF-8 lead byte, or in its first
 * bytes (where length and type headers live). */
int		 plan_is_structure(const unsigned char *data, size_t len,
		     size_t i);

/* Whether a message ends after fragment k (0-based): the connection then
 * waits for the server's reply before fragment k + 1. */
int		 plan_turn_after(const struct plan *p, uint32_t k);

/* Makes p the plan of a whole send of data (len bytes), as an ordinary
 * client sends it: one fragment, or with turns one per message, each a turn;
 * no fast open, no early close. Returns 0, or -1 with errno. */
int		 plan_whole(struct plan *p, const unsigned char *data,
		     size_t len, const struct turn_spec *turns);

/* Makes dst a copy of src (sizes, gaps and turns included). Returns 0 or -1. */
int		 plan_copy(struct plan *dst, const struct plan *src);

/* Frees the buffers of p (not p itself); accepts NULL. */
void		 plan_release(struct plan *p);

/* Name of a split strategy ("uniform"), or NULL. */
const char	*plan_split_name(enum plan_split s);

/* Parses a split strategy name; returns 0 or -1. */
int		 plan_split_parse(const char *name, enum plan_split *out);

#endif
