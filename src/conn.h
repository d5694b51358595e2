/*
 * One connection: an explicit state machine that connects, sends its blob one
 * fragment per send() as its plan says, and closes.
 *
 * conn_set_state() is the only place a state changes. The connection knows
 * nothing of the pool it lives in: it reports through the callbacks of its
 * conn_env (done, finding, local fault).
 */
#ifndef STUTTERFUZZ_CONN_H
#define STUTTERFUZZ_CONN_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <stdint.h>

#include "finding.h"
#include "options.h"
#include "plan.h"

struct blob;
struct conn;
struct conn_report;
struct coverage;
struct diag;
struct diag_reply;
struct stats;

TAILQ_HEAD(conn_list, conn);

enum conn_state {
	CONN_IDLE,		/* no socket; the slot waits for its next blob */
	CONN_CONNECTING,	/* connect() or a fast-open SYN in flight */
	CONN_WAITING,		/* established; the pacer decides when the next fragment goes */
	CONN_SENDING,		/* a fragment was only partly taken; waiting to write the rest */
	CONN_DRAINING,		/* nothing left to send, write side shut; reading until EOF */
	CONN__COUNT
};

/* Where a connection lives: shared settings, counters and callbacks. */
struct conn_env {
	struct event_base	*base;
	const struct options	*opt;
	const struct sockaddr	*addr;
	socklen_t		 addrlen;
	uint64_t		 seed;
	uint64_t		 start_us;	/* when the run began */
	struct stats		*stats;
	unsigned char		*scratch;	/* where responses are read to and dropped */
	size_t			 scratch_len;
	int			 reports;	/* log gaps and ports for records, traces */
	struct coverage		*coverage;	/* cut positions sent; NULL: none */
	enum pace_mode		 pace;		/* in effect: cycle, ack or read */
	uint32_t		 src_count;	/* IPv4 loopback sources; <= 1: none */
	uint64_t		 read_us;	/* running mean, send to read (read pacing) */
	uint32_t		 gap_us;	/* least gap between fragments */
	struct diag		*diag;		/* sock_diag lookups; NULL: none */
	struct event		*ev_diag;	/* flushes queued lookups */
	struct conn_list	 waitq;		/* cycle pacing: waiting, in arrival order */
	uint64_t		 tick;		/* cycle pacing: current cycle number */
	void			(*done)(struct conn *, void *);
	void			(*finding)(struct conn *, const struct finding *,
				    void *);
	void			(*local_fault)(struct conn *, const char *what,
				    int err, void *);
	void			*arg;
};

struct conn {
	struct conn_env		*env;
	enum conn_state		 state;
	int			 fd;
	uint64_t		 index;		/* connection index within the run */
	const struct blob	*blob;
	struct plan		 plan;
	uint32_t		 frag;		/* fragment being sent or next to send */
	size_t			 frag_off;	/* bytes of that fragment already sent */
	size_t			 off;		/* bytes of the blob sent */
	int			 pending_err;	/* connect() failed at once with this */
	unsigned		 polls;		/* pacing checks since the last send */
	uint64_t		 t_start_us;
	uint64_t		 t_established_us;
	uint64_t		 t_last_send_us;	/* last fragment fully taken */
	uint64_t		 t_end_us;
	uint32_t		*gaps_us;	/* reports: wait before each fragment */
	uint32_t		 ngaps;
	uint32_t		 gaps_cap;
	unsigned		 local_port;
	const char		*outcome;	/* how it ended (reports) */
	uint64_t		 wait_tick;	/* cycle pacing: tick it joined waitq */
	uint32_t		 slot;		/* position in the pool (lookups) */
	uint32_t		 gen;		/* connections started in this slot */
	struct sockaddr_storage	 local;		/* our end, for lookups */
	uint32_t		 cookie[2];	/* the server socket's, once known */
	int			 cookie_known;
	int			 diag_waiting;	/* a pacing lookup is out */
	int			 diag_verify;	/* a fidelity lookup is out */
	uint32_t		 verify_size;	/* size of the fragment it checks */
	TAILQ_ENTRY(conn)	 wait_entry;
	struct event		*ev_read;
	struct event		*ev_write;
	struct event		*ev_timer;
};

/* Makes an idle connection slot. */
struct conn	*conn_new(struct conn_env *env);

/* Closes whatever is open and frees the slot; accepts NULL. */
void		 conn_free(struct conn *c);

/* Starts connection `index` on blob b, cut as c->plan says (the caller
 * filled it). Returns 0, or -1 when a local resource ran out (reported
 * through env->local_fault; the slot stays idle). */
int		 conn_start(struct conn *c, uint64_t index, const struct blob *b);

/* Cycle pacing: called once per cycle for a waiting connection. */
void		 conn_pace(struct conn *c);

/* A sock_diag reply about this connection's server end. */
void		 conn_diag(struct conn *c, const struct diag_reply *r);

/* Describes what c did so far (or did, once ended), times relative to the
 * run's start. Valid until the slot starts its next connection. */
void		 conn_report(const struct conn *c, struct conn_report *out);

/* Closes the socket and returns the slot to idle without reporting. */
void		 conn_abort(struct conn *c);

/* Name of a state, for traces. */
const char	*conn_state_name(enum conn_state s);

#endif
