/* Boundary coverage: which cut positions of each blob have been sent. */
#include <stdlib.h>

#include "corpus.h"
#include "coverage.h"
#include "util.h"

/* Positions tracked for a blob of len bytes. */
size_t
coverage_tracked(size_t len)
{
	size_t	cuts = len > 1 ? len - 1 : 0;

	return cuts > 2 * COVERAGE_EDGE ? 2 * COVERAGE_EDGE : cuts;
}

/* Bit index of cut position pos, or SIZE_MAX. */
size_t
coverage_slot(size_t len, size_t pos)
{
	if (pos == 0 || pos >= len)
		return SIZE_MAX;
	if (len - 1 <= 2 * COVERAGE_EDGE || pos <= COVERAGE_EDGE)
		return pos - 1;
	if (pos > len - 1 - COVERAGE_EDGE)
		return COVERAGE_EDGE + (pos - (len - COVERAGE_EDGE));
	return SIZE_MAX;
}

/* Makes an empty coverage for every blob of c. */
struct coverage *
coverage_new(const struct corpus *c)
{
	struct coverage	*cv = xcalloc(1, sizeof *cv);

	cv->nblobs = c->n;
	cv->lens = xcalloc(c->n, sizeof *cv->lens);
	cv->bits = xcalloc(c->n, sizeof *cv->bits);
	for (size_t i = 0; i < c->n; i++) {
		size_t	t = coverage_tracked(c->blobs[i].len);

		cv->lens[i] = c->blobs[i].len;
		cv->bits[i] = xcalloc((t + 7) / 8, 1);
		cv->possible += t;
	}
	return cv;
}

/* Frees a coverage; accepts NULL. */
void
coverage_free(struct coverage *cv)
{
	if (cv == NULL)
		return;
	for (size_t i = 0; i < cv->nblobs; i++)
		free(cv->bits[i]);
	free(cv->bits);
	free(cv->lens);
	free(cv);
}

/* Marks cut position pos of blob b; returns 1 if it was new. */
int
coverage_mark(struct coverage *cv, size_t b, size_t pos)
{
	size_t		slot;
	unsigned char	bit;

	if (b >= cv->nblobs)
		return 0;
	slot = coverage_slot(cv->lens[b], pos);
	if (slot == SIZE_MAX)
		return 0;
	bit = (unsigned char)(1u << (slot % 8));
	if (cv->bits[b][slot / 8] & bit)
		return 0;
	cv->bits[b][slot / 8] |= bit;
	cv->used++;
	return 1;
}

/* Tracked positions of blob b seen so far. */
uint64_t
coverage_blob_used(const struct coverage *cv, size_t b)
{
	size_t		t;
	uint64_t	n = 0;

	if (b >= cv->nblobs)
		return 0;
	t = coverage_tracked(cv->lens[b]);
	for (size_t i = 0; i < (t + 7) / 8; i++)
		n += (uint64_t)__builtin_popcount(cv->bits[b][i]);
	return n;
}
