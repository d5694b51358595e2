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
	[PLAN_SPLIT_SMALL] = "small",
	[PLAN_SPLIT_BYTEWISE] = "bytewise",
	[PLAN_SPLIT_DELIMITER] = "delimiter",
	[PLAN_SPLIT_SWEEP] = "sweep",
	[PLAN_SPLIT_MIX] = "mix",
};

/* The mix, out of PLAN_MIX_SLOTS visits of a blob. */
static const unsigned mix_weights[PLAN_SPLIT__COUNT] = {
	[PLAN_SPLIT_UNIFORM] = 3,
	[PLAN_SPLIT_SMALL] = 4,
	[PLAN_SPLIT_BYTEWISE] = 1,
	[PLAN_SPLIT_DELIMITER] = 4,
	[PLAN_SPLIT_SWEEP] = 4,
};

#define DELIM_SCAN_MAX	65536	/* bytes of a blob searched for structure */
#define DELIM_CUTS	4	/* structural cuts wanted per plan, on average */
#define HEADER_BYTES	8	/* leading bytes where headers live */

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

/* Draws a fragment size for a blob of len bytes (bits: bits of len). */
typedef size_t (*size_fn)(struct rng *r, size_t len, unsigned bits);

/* The original rule: a size uniform over 1..len. */
static size_t
size_uniform(struct rng *r, size_t len, unsigned bits)
{
	(void)bits;
	return 1 + (size_t)rng_below(r, len);
}

/* Log-uniform: a bit length uniform over those of 1..len, then a size
 * uniform within it; 1- to 4-byte pieces are common at any length. */
static size_t
size_small(struct rng *r, size_t len, unsigned bits)
{
	unsigned	b = (unsigned)rng_below(r, bits);

	(void)len;
	return ((size_t)1 << b) + (size_t)rng_below(r, (uint64_t)1 << b);
}

/* Number of bits needed for n (n >= 1). */
static unsigned
bits_of(size_t n)
{
	unsigned	b = 0;

	while (n > 0) {
		b++;
		n >>= 1;
	}
	return b;
}

/* Cuts the blob into sizes drawn one after the other, each clipped to what
 * remains; under a bound the last fragment takes the rest. */
static int
plan_split_drawn(struct plan *p, struct rng *r, size_t len, uint32_t max,
    size_fn draw)
{
	size_t		left = len;
	unsigned	bits = bits_of(len);

	while (left > 0) {
		size_t	size = draw(r, len, bits);

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

/* Turns the cut positions stored in p->sizes[0..n) (sorted, distinct,
 * within 1..len-1) into fragment sizes. */
static int
plan_cuts_to_sizes(struct plan *p, uint32_t n, size_t len)
{
	if (plan_reserve(p, n + 1) == -1)
		return -1;
	if (n == 0) {
		p->sizes[0] = (uint32_t)len;
	} else {
		p->sizes[n] = (uint32_t)(len - p->sizes[n - 1]);
		for (uint32_t k = n - 1; k > 0; k--)
			p->sizes[k] -= p->sizes[k - 1];
	}
	p->nfrags = n + 1;
	return 0;
}

/* One byte a fragment; with a bound, a window of single bytes at a random
 * offset, the rest of the blob before and after it. */
static int
plan_split_bytewise(struct plan *p, struct rng *r, size_t len, uint32_t max)
{
	size_t		from = 1, to = len - 1;	/* cuts from..to */
	uint32_t	n = 0;

	if (max != 0 && len > max) {
		size_t	w = max >= 3 ? max - 2 : 0;	/* single bytes */
		size_t	off = (size_t)rng_below(r, len - w + 1);

		if (w == 0) {
			from = to = 1 + (size_t)rng_below(r, len - 1);
			if (max < 2)
				from = to + 1;		/* no cut at all */
		} else {
			from = off > 0 ? off : 1;
			to = off + w < len ? off + w : len - 1;
		}
	}
	if (from <= to && plan_reserve(p, (uint32_t)(to - from + 2)) == -1)
		return -1;
	for (size_t i = from; i <= to && len > 1; i++)
		p->sizes[n++] = (uint32_t)i;
	return plan_cuts_to_sizes(p, n, len);
}

/* Is b a byte protocols put structure around? */
static int
is_delim(unsigned char b)
{
	return b == '\r' || b == '\n' || b == ' ' || b == ':' || b == '\0' ||
	    b == '\t';
}

/* Whether the cut before byte i sits at the blob's structure. */
int
plan_is_structure(const unsigned char *data, size_t len, size_t i)
{
	if (i == 0 || i >= len)
		return 0;
	if (i < HEADER_BYTES)
		return 1;
	if (is_delim(data[i]) || is_delim(data[i - 1]))
		return 1;
	/* Before a UTF-8 lead byte, or right after it (tearing the
	 * character apart). */
	return data[i] >= 0xc0 || data[i - 1] >= 0xc0;
}

/* Sorts a few values and drops repeats; returns how many remain. */
static uint32_t
sort_unique(uint32_t *v, uint32_t n)
{
	uint32_t	out = 0;

	for (uint32_t i = 1; i < n; i++) {
		uint32_t	x = v[i], j = i;

		while (j > 0 && v[j - 1] > x) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (out == 0 || v[out - 1] != v[i])
			v[out++] = v[i];
	}
	return out;
}

/* Cuts at the blob's structure: 1 to 2 * DELIM_CUTS - 1 of the structural
 * positions (about DELIM_CUTS), chosen at random, plus one random cut
 * anywhere. Only the first DELIM_SCAN_MAX bytes are searched. */
static int
plan_split_delimiter(struct plan *p, struct rng *r, const unsigned char *data,
    size_t len, uint32_t max)
{
	size_t		scan = len < DELIM_SCAN_MAX ? len : DELIM_SCAN_MAX;
	size_t		marks = 0, rank = 0;
	uint32_t	ranks[2 * DELIM_CUTS], want, n = 0, k = 0;
	uint32_t	limit = max ? max - 1 : UINT32_MAX;

	if (len < 2 || limit == 0)
		return plan_cuts_to_sizes(p, 0, len);
	for (size_t i = 1; i < scan; i++)
		marks += (size_t)plan_is_structure(data, len, i);
	want = 1 + (uint32_t)rng_below(r, 2 * DELIM_CUTS - 1);
	if (want > marks)
		want = (uint32_t)marks;
	for (uint32_t j = 0; j < want; j++)
		ranks[j] = (uint32_t)rng_below(r, marks);
	want = sort_unique(ranks, want);
	if (plan_reserve(p, want + 2) == -1)
		return -1;
	for (size_t i = 1; i < scan && k < want; i++) {
		if (!plan_is_structure(data, len, i))
			continue;
		if (rank++ == ranks[k]) {
			p->sizes[n++] = (uint32_t)i;
			k++;
		}
	}
	p->sizes[n++] = (uint32_t)(1 + rng_below(r, len - 1));
	n = sort_unique(p->sizes, n);
	if (n > limit)
		n = limit;
	return plan_cuts_to_sizes(p, n, len);
}

/* Sweep: the cuts of pattern m for a blob of len bytes. */
unsigned
plan_sweep_cuts(size_t len, uint64_t m, size_t cuts[2])
{
	uint64_t	singles, pairs = 0, full;
	size_t		w = PLAN_SWEEP_WINDOW;

	if (len < 2)
		return 0;
	singles = len - 1;
	/* Pairs (i, j), 1 <= i < j <= min(i + w, len - 1). */
	full = len - 1 > w ? len - 1 - w : 0;	/* i with all w partners */
	pairs = full * w;
	for (size_t i = full + 1; i < len - 1; i++)
		pairs += len - 1 - i;
	m %= singles + pairs;
	if (m < singles) {
		cuts[0] = (size_t)m + 1;
		return 1;
	}
	m -= singles;
	if (m < full * w) {
		cuts[0] = (size_t)(m / w) + 1;
		cuts[1] = cuts[0] + 1 + (size_t)(m % w);
		return 2;
	}
	m -= full * w;
	for (size_t i = full + 1; i < len - 1; i++) {
		if (m < len - 1 - i) {
			cuts[0] = i;
			cuts[1] = i + 1 + (size_t)m;
			return 2;
		}
		m -= len - 1 - i;
	}
	cuts[0] = 1;	/* not reached */
	return 1;
}

/* The 16 slots of the mix, shuffled by the seed. */
static void
mix_table(uint64_t seed, enum plan_split table[PLAN_MIX_SLOTS])
{
	struct rng	r;
	unsigned	n = 0;

	for (int s = 0; s < PLAN_SPLIT__COUNT; s++) {
		for (unsigned k = 0; k < mix_weights[s]; k++)
			table[n++] = (enum plan_split)s;
	}
	rng_seed(&r, seed, UINT64_MAX);
	for (unsigned i = PLAN_MIX_SLOTS - 1; i > 0; i--) {
		unsigned	j = (unsigned)rng_below(&r, i + 1);
		enum plan_split	t = table[i];

		table[i] = table[j];
		table[j] = t;
	}
}

/* Mix: the strategy of the visit-th visit of a blob. */
enum plan_split
plan_mix_pick(uint64_t seed, uint64_t visit)
{
	enum plan_split	table[PLAN_MIX_SLOTS];

	mix_table(seed, table);
	return table[visit % PLAN_MIX_SLOTS];
}

/* The weight of each strategy in the mix, out of PLAN_MIX_SLOTS. */
unsigned
plan_mix_weight(enum plan_split s)
{
	return s < PLAN_SPLIT__COUNT ? mix_weights[s] : 0;
}

/* Mix: how many sweep visits came before the visit-th one, so the sweep
 * walks on from where it was whatever else the mix chose in between. */
static uint64_t
mix_sweep_step(uint64_t seed, uint64_t visit)
{
	enum plan_split	table[PLAN_MIX_SLOTS];
	uint64_t	m = visit / PLAN_MIX_SLOTS *
			    mix_weights[PLAN_SPLIT_SWEEP];

	mix_table(seed, table);
	for (uint64_t k = 0; k < visit % PLAN_MIX_SLOTS; k++)
		m += table[k] == PLAN_SPLIT_SWEEP;
	return m;
}

/* Cuts data (len >= 1 bytes) by one strategy into the fragments of p,
 * which holds none before. */
static int
plan_split_one(struct plan *p, struct rng *r, enum plan_split split,
    uint64_t step, const unsigned char *data, size_t len, uint32_t max)
{
	size_t		cuts[2];
	unsigned	ncuts;
	int		rc;

	switch (split) {
	case PLAN_SPLIT_SMALL:
		rc = plan_split_drawn(p, r, len, max, size_small);
		break;
	case PLAN_SPLIT_BYTEWISE:
		rc = plan_split_bytewise(p, r, len, max);
		break;
	case PLAN_SPLIT_DELIMITER:
		rc = plan_split_delimiter(p, r, data, len, max);
		break;
	case PLAN_SPLIT_SWEEP:
		ncuts = plan_sweep_cuts(len, step, cuts);
		if (max != 0 && ncuts + 1 > max)
			ncuts = max > 1 ? max - 1 : 0;
		if ((rc = plan_reserve(p, 3)) == 0) {
			for (unsigned k = 0; k < ncuts; k++)
				p->sizes[k] = (uint32_t)cuts[k];
			rc = plan_cuts_to_sizes(p, ncuts, len);
		}
		break;
	case PLAN_SPLIT_UNIFORM:
	default:
		rc = plan_split_drawn(p, r, len, max, size_uniform);
		break;
	}
	return rc;
}

/* Appends one message end (fragments so far) to p. */
static int
plan_push_turn(struct plan *p)
{
	if (p->nturns == p->turn_cap) {
		uint32_t	 cap = p->turn_cap ? p->turn_cap * 2 : 8;
		uint32_t	*ends = realloc(p->turn_ends,
				    (size_t)cap * sizeof *ends);

		if (ends == NULL) {
			errno = ENOMEM;
			return -1;
		}
		p->turn_ends = ends;
		p->turn_cap = cap;
	}
	p->turn_ends[p->nturns++] = p->nfrags;
	return 0;
}

/* With turns: each message cut on its own by the strategy, one after the
 * other from the same random stream; its end noted. */
static int
plan_split_turns(struct plan *p, struct rng *r, enum plan_split split,
    uint64_t step, const unsigned char *data, size_t len,
    const struct plan_params *params)
{
	struct plan	sub = { 0 };
	size_t		from = 0;
	int		rc = 0;

	while (rc == 0 && from < len) {
		size_t	end = turn_message_end(&params->turns, data, len, from);

		sub.nfrags = 0;
		rc = plan_split_one(&sub, r, split, step, data + from,
		    end - from, params->max_fragments);
		for (uint32_t k = 0; rc == 0 && k < sub.nfrags; k++)
			rc = plan_push(p, sub.sizes[k]);
		if (rc == 0)
			rc = plan_push_turn(p);
		from = end;
	}
	plan_release(&sub);
	return rc;
}

/* Builds the plan for connection `index`. */
int
plan_make(struct plan *p, uint64_t seed, uint64_t index, uint64_t visit,
    const unsigned char *data, size_t len, const struct plan_params *params)
{
	struct rng	r;
	enum plan_split	split = params->split;
	uint32_t	max = params->max_fragments;
	uint64_t	step = visit;
	int		rc = 0;

	if (split >= PLAN_SPLIT__COUNT || (len > 0 && data == NULL)) {
		errno = EINVAL;
		return -1;
	}
	if (split == PLAN_SPLIT_MIX) {
		split = plan_mix_pick(seed, visit);
		if (split == PLAN_SPLIT_SWEEP)
			step = mix_sweep_step(seed, visit);
	}
	rng_seed(&r, seed, index);
	free(p->gaps_us);
	p->gaps_us = NULL;
	p->seed = seed;
	p->index = index;
	p->len = len;
	p->split = split;
	p->nfrags = 0;
	p->nturns = 0;
	/* The order of draws is part of the format: fast open, sizes, close. */
	p->fastopen = len > 0 && rng_one_in(&r, params->fastopen_chance);
	if (len == 0) {
		p->close_after = 0;
		return 0;
	}
	if (params->turns.rule != TURN_NONE)
		rc = plan_split_turns(p, &r, split, step, data, len, params);
	else
		rc = plan_split_one(p, &r, split, step, data, len, max);
	if (rc == -1)
		return -1;
	p->close_after = p->nfrags;
	for (uint32_t i = 0; i < p->nfrags; i++) {
		if (rng_one_in(&r, params->close_chance)) {
			p->close_after = i;
			break;
		}
	}
	return 0;
}

/* Whether a message ends after fragment k (0-based). */
int
plan_turn_after(const struct plan *p, uint32_t k)
{
	uint32_t	lo = 0, hi = p->nturns;

	while (lo < hi) {
		uint32_t	mid = lo + (hi - lo) / 2;

		if (p->turn_ends[mid] == k + 1)
			return 1;
		if (p->turn_ends[mid] < k + 1)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Makes dst's turns a copy of src's. */
static int
plan_copy_turns(struct plan *dst, const struct plan *src)
{
	dst->nturns = 0;
	if (src->nturns > dst->turn_cap) {
		uint32_t	*ends = realloc(dst->turn_ends,
				    (size_t)src->nturns * sizeof *ends);

		if (ends == NULL)
			return -1;
		dst->turn_ends = ends;
		dst->turn_cap = src->nturns;
	}
	if (src->nturns > 0)
		memcpy(dst->turn_ends, src->turn_ends,
		    src->nturns * sizeof *src->turn_ends);
	dst->nturns = src->nturns;
	return 0;
}

/* A whole send: one fragment, or one per message with turns; no fast open,
 * no early close. */
int
plan_whole(struct plan *p, const unsigned char *data, size_t len,
    const struct turn_spec *turns)
{
	size_t	from = 0;

	free(p->gaps_us);
	p->gaps_us = NULL;
	p->seed = 0;
	p->index = 0;
	p->len = len;
	p->split = PLAN_SPLIT_UNIFORM;
	p->fastopen = 0;
	p->nfrags = 0;
	p->nturns = 0;
	while (from < len) {
		size_t	end = len;

		if (turns != NULL && turns->rule != TURN_NONE)
			end = turn_message_end(turns, data, len, from);
		if (end <= from || end - from > UINT32_MAX) {
			errno = EINVAL;
			return -1;
		}
		if (plan_reserve(p, p->nfrags + 1) == -1)
			return -1;
		p->sizes[p->nfrags++] = (uint32_t)(end - from);
		if (turns != NULL && turns->rule != TURN_NONE &&
		    plan_push_turn(p) == -1)
			return -1;
		from = end;
	}
	p->close_after = p->nfrags;
	return 0;
}

/* Makes dst a copy of src (sizes, gaps and turns included). */
int
plan_copy(struct plan *dst, const struct plan *src)
{
	uint32_t	*sizes = dst->sizes, cap = dst->cap, *gaps = dst->gaps_us;
	uint32_t	*ends = dst->turn_ends, tcap = dst->turn_cap;

	*dst = *src;
	dst->sizes = sizes;
	dst->cap = cap;
	dst->gaps_us = NULL;
	dst->turn_ends = ends;
	dst->turn_cap = tcap;
	dst->nfrags = 0;
	free(gaps);
	if (plan_copy_turns(dst, src) == -1)
		return -1;
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
	free(p->turn_ends);
	p->turn_ends = NULL;
	p->nturns = 0;
	p->turn_cap = 0;
	p->gaps_us = NULL;
	p->sizes = NULL;
	p->cap = 0;
	p->nfrags = 0;
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
