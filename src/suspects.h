/*
 * Suspects: the connections that finished lately, remembered with owned
 * copies of their reports, so that a failed connect or a dead target can
 * name those in flight or just finished before it. No sockets of its own;
 * never prints.
 */
#ifndef STUTTERFUZZ_SUSPECTS_H
#define STUTTERFUZZ_SUSPECTS_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "plan.h"

/* Finished connections remembered, and for how long they are suspects. */
#define SUSPECTS_HISTORY	256
#define SUSPECTS_HISTORY_US	(2ULL * 1000000)
/* Most suspects of one finding. */
#define SUSPECTS_MAX		128

/* A connection's report with its own copies of the plan and gaps. */
struct suspects_copy {
	struct conn_report	 report;	/* plan and gaps_us point below */
	struct plan		 plan;
	uint32_t		*gaps;
	uint32_t		 gaps_cap;
};

struct suspects;

/* Fills h from connection c, reusing h's buffers. Returns 0, or -1 out of
 * memory (h keeps its buffers, to be released). */
int		 suspects_copy(struct suspects_copy *h, const struct conn *c);

/* Frees h's buffers (not h). */
void		 suspects_copy_release(struct suspects_copy *h);

/* An empty memory of finished connections. */
struct suspects	*suspects_new(void);

/* Frees s; accepts NULL. */
void		 suspects_free(struct suspects *s);

/* Remembers finished connection c (the oldest is forgotten). Returns its
 * report, valid until SUSPECTS_HISTORY more, or NULL out of memory. */
const struct conn_report *suspects_remember(struct suspects *s,
		     const struct conn *c);

/* The connections that may have killed the server at at_us (before
 * culprit failed to connect; culprit NULL: the target died): those of
 * conns in flight that sent something, then those finished within
 * SUSPECTS_HISTORY_US that sent something; the most recently active
 * first, at most SUSPECTS_MAX. Sets *out (valid until the next call) and
 * returns how many. */
size_t		 suspects_collect(struct suspects *s, struct conn *const *conns,
		     size_t nconns, const struct conn *culprit, uint64_t at_us,
		     const struct conn_report **out);

#endif
