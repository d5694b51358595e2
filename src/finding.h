/*
 * Findings: faults of the target, as events.
 *
 * A finding is raised by a connection (or, later, by target supervision),
 * handed to whoever listens, and never printed here.
 */
#ifndef STUTTERFUZZ_FINDING_H
#define STUTTERFUZZ_FINDING_H

#include <stddef.h>
#include <stdint.h>

enum finding_kind {
	FINDING_REFUSED,		/* connect() refused: nothing listens any more */
	FINDING_CONNECT_TIMEOUT,	/* connect() did not complete in time */
	FINDING_RESET,			/* ECONNRESET or EPIPE while sending or reading */
	FINDING_HANG,			/* sent data stayed unacked for the hang timeout */
	FINDING_TARGET_EXIT,		/* the supervised target exited or was killed */
	FINDING_TARGET_REPORT,		/* valgrind or a sanitizer reported an error */
	FINDING_MISMATCH,		/* a cut got a wrong answer, confirmed */
	FINDING__COUNT
};

/* Bit of a kind in a kind mask. */
#define FINDING_BIT(k)		(1U << (k))
#define FINDING_MASK_ALL	((1U << FINDING__COUNT) - 1)
#define FINDING_MASK_CONNECT	(FINDING_BIT(FINDING_REFUSED) | \
				 FINDING_BIT(FINDING_CONNECT_TIMEOUT))
#define FINDING_MASK_TARGET	(FINDING_BIT(FINDING_TARGET_EXIT) | \
				 FINDING_BIT(FINDING_TARGET_REPORT))

struct blob;
struct conn;
struct plan;

struct finding {
	enum finding_kind	 kind;
	int			 err;		/* errno behind it, or 0 */
	uint64_t		 seed;
	uint64_t		 index;		/* connection index */
	const struct blob	*blob;
	const struct plan	*plan;
	uint32_t		 frags_sent;	/* fragments fully sent */
	size_t			 bytes_sent;
	uint64_t		 at_us;		/* time since the run started */
	const char		*phase;		/* "connect", "send", "read", "drain" */
	const struct conn	*conn;		/* the connection, for reports; NULL
						 * for a finding of the target */
	const char		*detail;	/* target findings: status or report;
						 * mismatch: the first difference */
	const char		*check_json;	/* mismatch: the record's "check"
						 * object, formatted; else NULL */
	int			 held;		/* it waited for the target's fate */
};

/* Short name of a kind ("refused", "connect-timeout", ...). */
const char	*finding_kind_name(enum finding_kind k);

/* The kind named `name` ("reset"), or FINDING__COUNT if there is none. */
enum finding_kind finding_kind_from_name(const char *name);

/* Parses a comma-separated list of kinds into a mask. Besides the kind names
 * it takes "connect" (refused and connect-timeout), "target" (target-exit
 * and target-report), "all" and "none".
 * Returns 0, or -1 with an allocated *cause. */
int		 finding_parse_kinds(const char *list, unsigned *mask,
		     char **cause);


#endif
