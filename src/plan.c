/*
 * Split planning: how one connection cuts its blob into fragments.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "rng.h"

static const char *split_names[PLAN_SPLIT__COUNT] = {
	[PLAN_SPLIT_UNIFORM] = "uniform",
};

/* Makes room for n sizes in p. */
static int
plan_reserve(struct plan *p, uint32_t n)
{
	uint32_t	 cap;
	uint32_t	*sizes;

	if (n <= p->cap)
		return 0;
	cap = p->cap ? p->cap : 8;
	while (cap < n)
		cap = cap > UINT32_MAX / 2 ? n : cap * 2;
	sizes = realloc(p->sizes, (size_t)cap * sizeof *sizes);
	if (sizes == NULL) {
		errno = ENOMEM;
		return -1;
	}
	p->sizes = sizes;
	p->cap = cap;
	return 0;
}

/* Appends one fragment size to p. */
static int
plan_push(struct plan *p, uint32_t size)
{
	if (plan_reserve(p, p->nfrags + 1) == -1)
		return -1;
	p->sizes[p->nfrags++] = size;
	return 0;
}

/* The original rule: each size uniform over 1..len, clipped to what remains. */
static int
plan_split_uniform(struct plan *p, struct rng *r, size_t len, uint32_t max)
{
	size_t	left = len;

	while (left > 0) {
		size_t	size = 1 + (size_t)rng_below(r, len);

		if (size > left || (max != 0 && p->nfrags + 1 == max))
			size = left;
		if (size > UINT32_MAX)
			size = UINT32_MAX;
		if (plan_push(p, (uint32_t)size) == -1)
			return -1;
		left -= size;
	}
	return 0;
}

/* Builds the plan for connection `index` of the run seeded `seed`. */
int
plan_make(struct plan *p, uint64_t seed, uint64_t index, size_t len,
    const struct plan_params *params)
{
	struct rng	r;

	if (params->split >= PLAN_SPLIT__COUNT) {
		errno = EINVAL;
		return -1;
	}
	rng_seed(&r, seed, index);
	free(p->gaps_us);
	p->gaps_us = NULL;
	p->seed = seed;
	p->index = index;
	p->len = len;
	p->split = params->split;
	p->nfrags = 0;
	/* The order of draws is part of the format: fast open, sizes, close. */
	p->fastopen = len > 0 && rng_one_in(&r, params->fastopen_chance);
	switch (params->split) {
	case PLAN_SPLIT_UNIFORM:
	default:
		if (plan_split_uniform(p, &r, len, params->max_fragments) == -1)
			return -1;
		break;
	}
	p->close_after = p->nfrags;
	for (uint32_t i = 0; i < p->nfrags; i++) {
		if (rng_one_in(&r, params->close_chance)) {
			p->close_after = i;
			break;
		}
	}
	return 0;
}

/* Makes dst a copy of src (sizes and gaps included). */
int
plan_copy(struct plan *dst, const struct plan *src)
{
	uint32_t	*sizes = dst->sizes, cap = dst->cap, *gaps = dst->gaps_us;

	*dst = *src;
	dst->sizes = sizes;
	dst->cap = cap;
	dst->gaps_us = NULL;
	dst->nfrags = 0;
	free(gaps);
	if (plan_reserve(dst, src->nfrags) == -1)
		return -1;
	if (src->nfrags > 0)
		memcpy(dst->sizes, src->sizes, src->nfrags * sizeof *src->sizes);
	dst->nfrags = src->nfrags;
	if (src->gaps_us != NULL) {
		dst->gaps_us = calloc(src->nfrags ? src->nfrags : 1,
		    sizeof *dst->gaps_us);
		if (dst->gaps_us == NULL)
			return -1;
		memcpy(dst->gaps_us, src->gaps_us,
		    src->nfrags * sizeof *src->gaps_us);
	}
	return 0;
}

/* Frees the buffers of p (not p itself); accepts NULL. */
void
plan_release(struct plan *p)
{
	if (p == NULL)
		return;
	free(p->sizes);
	free(p->gaps_us);
	p->gaps_us = NULL;
	p->sizes = NULL;
	p->cap = 0;
	p->nfrags = 0;
}

/* Bytes covered by the first n fragments. */
size_t
plan_prefix(const struct plan *p, uint32_t n)
{
	size_t	sum = 0;

	for (uint32_t i = 0; i < n && i < p->nfrags; i++)
		sum += p->sizes[i];
	return sum;
}

/* Name of a split strategy ("uniform"), or NULL. */
const char *
plan_split_name(enum plan_split s)
{
	if (s >= PLAN_SPLIT__COUNT)
		return NULL;
	return split_names[s];
}

/* Parses a split strategy name; returns 0 or -1. */
int
plan_split_parse(const char *name, enum plan_split *out)
{
	for (int i = 0; i < PLAN_SPLIT__COUNT; i++) {
		if (strcmp(name, split_names[i]) == 0) {
			*out = (enum plan_split)i;
			return 0;
		}
	}
	return -1;
}
