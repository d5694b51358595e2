/*
 * Boundary coverage: which cut positions of each blob have been sent so far.
 * A cut at position p (1 <= p < len) is a fragment boundary before byte p.
 * Memory is bounded: for a long blob only the first and last
 * COVERAGE_EDGE positions are tracked, exactly.
 */
#ifndef STUTTERFUZZ_COVERAGE_H
#define STUTTERFUZZ_COVERAGE_H

#include <stddef.h>
#include <stdint.h>

#define COVERAGE_EDGE	4096

struct corpus;

struct coverage {
	size_t		 nblobs;
	size_t		*lens;
	unsigned char	**bits;		/* one bitmap per blob */
	uint64_t	 possible;	/* tracked positions, all blobs */
	uint64_t	 used;		/* tracked positions seen */
};

/* Makes an empty coverage for every blob of c. */
struct coverage	*coverage_new(const struct corpus *c);
void		 coverage_free(struct coverage *cv);

/* Positions tracked for a blob of len bytes. */
size_t		 coverage_tracked(size_t len);

/* Bit index of cut position pos of a blob of len bytes, or SIZE_MAX when
 * the position is not tracked (or not a cut). */
size_t		 coverage_slot(size_t len, size_t pos);

/* Tracked positions of blob b seen so far. */
uint64_t	 coverage_blob_used(const struct coverage *cv, size_t b);

/* Marks cut position pos of blob b; returns 1 if it was new. */
int		 coverage_mark(struct coverage *cv, size_t b, size_t pos);

#endif
