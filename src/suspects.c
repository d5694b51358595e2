/* Suspects: finished connections remembered for the findings that follow. */
#include <stdlib.h>
#include <string.h>

#include "suspects.h"
#include "util.h"

struct suspects {
	struct suspects_copy	*ring;		/* finished connections */
	size_t			 next;
	size_t			 len;
	struct conn_report	*out;		/* the last collection */
};

/* Fills h from connection c, reusing h's buffers. */
int
suspects_copy(struct suspects_copy *h, const struct conn *c)
{
	conn_report(c, &h->report);
	if (c->ngaps > h->gaps_cap) {
		uint32_t	*gaps = reallocarray(h->gaps, c->ngaps,
				    sizeof *h->gaps);

		if (gaps == NULL)
			return -1;
		h->gaps = gaps;
		h->gaps_cap = c->ngaps;
	}
	if (plan_copy(&h->plan, &c->plan) == -1)
		return -1;
	if (c->ngaps > 0)
		memcpy(h->gaps, c->gaps_us, c->ngaps * sizeof *h->gaps);
	h->report.plan = &h->plan;
	h->report.gaps_us = h->gaps;
	return 0;
}

/* Frees h's buffers. */
void
suspects_copy_release(struct suspects_copy *h)
{
	plan_release(&h->plan);
	free(h->gaps);
	h->gaps = NULL;
	h->gaps_cap = 0;
}

/* An empty memory of finished connections. */
struct suspects *
suspects_new(void)
{
	struct suspects	*s = xcalloc(1, sizeof *s);

	s->ring = xcalloc(SUSPECTS_HISTORY, sizeof *s->ring);
	s->out = xcalloc(SUSPECTS_MAX, sizeof *s->out);
	return s;
}

/* Frees s; accepts NULL. */
void
suspects_free(struct suspects *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < SUSPECTS_HISTORY; i++)
		suspects_copy_release(&s->ring[i]);
	free(s->ring);
	free(s->out);
	free(s);
}

/* Remembers a finished connection. */
const struct conn_report *
suspects_remember(struct suspects *s, const struct conn *c)
{
	struct suspects_copy	*h = &s->ring[s->next];

	s->next = (s->next + 1) % SUSPECTS_HISTORY;
	if (s->len < SUSPECTS_HISTORY)
		s->len++;
	if (suspects_copy(h, c) == -1) {
		/* Out of memory: forget it rather than keep it half. */
		h->report.blob = NULL;
		s->len--;
		return NULL;
	}
	return &h->report;
}

/* Orders suspects: the most recently active first. */
static int
suspect_cmp(const void *a, const void *b)
{
	const struct conn_report	*x = a, *y = b;
	uint64_t			 tx = x->end_us ? x->end_us : UINT64_MAX;
	uint64_t			 ty = y->end_us ? y->end_us : UINT64_MAX;

	if (tx != ty)
		return tx < ty ? 1 : -1;
	return x->start_us < y->start_us ? 1 : x->start_us > y->start_us ?
	    -1 : 0;
}

/* The connections that may have killed the server. */
size_t
suspects_collect(struct suspects *s, struct conn *const *conns, size_t nconns,
    const struct conn *culprit, uint64_t at_us,
    const struct conn_report **out)
{
	size_t	n = 0;

	for (size_t i = 0; i < nconns; i++) {
		const struct conn	*c = conns[i];

		if (c == culprit || c->state == CONN_IDLE || c->off == 0)
			continue;
		if (n == SUSPECTS_MAX)
			break;
		conn_report(c, &s->out[n++]);
	}
	for (size_t k = 0; k < s->len && n < SUSPECTS_MAX; k++) {
		size_t			 i = (s->next + SUSPECTS_HISTORY - 1 -
					    k) % SUSPECTS_HISTORY;
		struct suspects_copy	*h = &s->ring[i];

		if (h->report.blob == NULL || h->report.bytes_sent == 0)
			continue;
		if (h->report.end_us + SUSPECTS_HISTORY_US < at_us)
			break;
		s->out[n++] = h->report;
	}
	qsort(s->out, n, sizeof *s->out, suspect_cmp);
	*out = s->out;
	return n;
}
