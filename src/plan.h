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

enum plan_split {
	PLAN_SPLIT_UNIFORM,	/* sizes uniform over 1..len, clipped to what remains */
	PLAN_SPLIT__COUNT
};

struct plan_params {
	enum plan_split	split;
	uint32_t	fastopen_chance;	/* 1 in N connections use TCP Fast Open; 0 never */
	uint32_t	close_chance;		/* 1 in N fragments is replaced by an early close; 0 never */
	uint32_t	max_fragments;		/* upper bound on fragments per plan; 0 no bound */
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
};

/* Builds the plan for connection `index` of the run seeded `seed`, reusing
 * p's buffer. Returns 0, or -1 with errno ENOMEM or EINVAL. */
int		 plan_make(struct plan *p, uint64_t seed, uint64_t index,
		     size_t len, const struct plan_params *params);

/* Makes dst a copy of src (sizes and gaps included). Returns 0 or -1. */
int		 plan_copy(struct plan *dst, const struct plan *src);

/* Frees the buffers of p (not p itself); accepts NULL. */
void		 plan_release(struct plan *p);

/* Bytes covered by the first n fragments. */
size_t		 plan_prefix(const struct plan *p, uint32_t n);

/* Name of a split strategy ("uniform"), or NULL. */
const char	*plan_split_name(enum plan_split s);

/* Parses a split strategy name; returns 0 or -1. */
int		 plan_split_parse(const char *name, enum plan_split *out);

#endif
