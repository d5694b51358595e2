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
#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "options.h"
#include "plan.h"

struct answer;
struct blob;
struct conn;
struct coverage;
struct diag;
struct diag_reply;
struct stats;

TAILQ_HEAD(conn_list, conn);

/*
 * The states of the drive loop (conn_drive in conn.c). A waiting state stops
 * the loop until its wake-up (I/O, its timer, a lookup reply, a cycle tick);
 * a passing state does its work and moves on within the same loop.
 */
enum conn_state {
	CONN_IDLE,		/* no socket; the slot waits for its next blob */
	CONN_CONNECTING,	/* wait: connect() or a fast-open SYN in flight */
	CONN_CONNECT_FAILED,	/* wait: connect() failed at once (c->err), reported
				 * from the loop on a zero timer */
	CONN_CONNECTED,		/* pass: the connect completed; check how */
	CONN_NEXT,		/* pass: a fragment went out; gap, pace or drain */
	CONN_GAP,		/* wait: the least gap before the next fragment */
	CONN_TICK,		/* wait: cycle pacing, for the next cycle tick */
	CONN_PACE,		/* pass: the pacer decides (pace_decide) */
	CONN_LOOKUP,		/* wait: a pacing lookup (sock_diag) is out */
	CONN_BACKOFF,		/* wait: not read (acked) yet; look again later */
	CONN_SEND,		/* pass: one send() of (the rest of) a fragment */
	CONN_SENDING,		/* wait: the kernel took part; room to write the rest */
	CONN_VERIFY,		/* wait: a fidelity lookup of the fragment just sent */
	CONN_DRAIN,		/* pass: nothing left to send; shut the write side */
	CONN_DRAINING,		/* wait: reading until EOF or the drain timeout */
	CONN_GREETING,		/* wait: the server speaks first; its greeting
				 * came and went quiet, or the timeout */
	CONN_TURN_WAIT,		/* wait: a message is complete; its reply came
				 * and went quiet, or --turn-timeout */
	CONN__COUNT
};

/* How a connection ended (or that it did not yet). Records keep the names
 * (conn_outcome_name), and replay compares the values. */
enum conn_outcome {
	CONN_OUT_IN_FLIGHT,		/* still open when reported */
	CONN_OUT_COMPLETED,		/* all sent; the server closed */
	CONN_OUT_EARLY_CLOSE,		/* closed early as planned; the server closed */
	CONN_OUT_DRAIN_TIMEOUT,		/* all sent; the server kept it open */
	CONN_OUT_PEER_CLOSED,		/* the server closed before all was sent */
	CONN_OUT_LOCAL_ERROR,		/* our side ran out of something */
	CONN_OUT_REFUSED,		/* the findings, by kind */
	CONN_OUT_CONNECT_TIMEOUT,
	CONN_OUT_RESET,
	CONN_OUT_HANG,
	CONN_OUT_TARGET_EXIT,
	CONN_OUT_TARGET_REPORT,
	CONN_OUT_MISMATCH,		/* completed, with a wrong answer */
	CONN_OUT_UNKNOWN,		/* a record's name this version does not know */
	CONN_OUT__COUNT
};

/* What one connection did, as seen from the tool. */
struct conn_report {
	uint64_t		 index;
	const struct blob	*blob;
	const struct plan	*plan;
	uint32_t		 frags_sent;	/* fully sent */
	size_t			 bytes_sent;
	const uint32_t		*gaps_us;	/* wait before each fragment sent */
	uint32_t		 ngaps;
	unsigned		 local_port;
	const char		*state;		/* when reported: connecting, waiting,
						 * sending, draining or idle */
	enum conn_outcome	 outcome;
	uint64_t		 start_us;	/* since the run started */
	uint64_t		 end_us;	/* 0: still open */
	const struct answer	*answer;	/* what the server said; NULL:
						 * not kept */
	uint64_t		 greet_us;	/* waited for a greeting this long
						 * at most; 0: did not */
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
	int			 is_unix;	/* a Unix socket: SIOCOUTQ == 0 means
						 * the server read all; no TCP options */
	uint64_t		 read_us;	/* running mean, send to read (read pacing) */
	uint32_t		 gap_us;	/* least gap between fragments */
	struct diag		*diag;		/* sock_diag lookups; NULL: none */
	struct event		*ev_diag;	/* flushes queued lookups */
	struct conn_list	 waitq;		/* cycle pacing: in CONN_TICK, in arrival order */
	uint64_t		 last_progress_us;	/* read pacing: a lookup last
						 * showed the server read more */
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
	int			 err;		/* CONN_CONNECT_FAILED: connect()'s error */
	unsigned		 polls;		/* pacing looks since the last send */
	int			 sign;		/* enum pace_sign: the last look's answer */
	uint64_t		 t_start_us;
	uint64_t		 t_established_us;
	uint64_t		 t_last_send_us;	/* last fragment fully taken */
	uint64_t		 t_end_us;
	uint32_t		*gaps_us;	/* reports: wait before each fragment */
	uint32_t		 ngaps;
	uint32_t		 gaps_cap;
	unsigned		 local_port;
	enum conn_outcome	 outcome;	/* how it ended (reports) */
	uint64_t		 wait_tick;	/* cycle pacing: tick it joined waitq */
	uint32_t		 slot;		/* position in the pool (lookups) */
	uint32_t		 gen;		/* connections started in this slot */
	struct sockaddr_storage	 local;		/* our end, for lookups */
	uint32_t		 cookie[2];	/* the server socket's, once known */
	int			 cookie_known;
	uint32_t		 verify_size;	/* CONN_VERIFY: size of the fragment */
	uint64_t		 srv_read;	/* bytes the server read, last looked */
	int			 last_outq;	/* Unix: SIOCOUTQ at the last look */
	uint64_t		 t_progress_us;	/* when a lookup last showed it read more */
	const struct diag_reply	*reply;		/* the reply being handled, or NULL */
	struct answer		*answer;	/* set before conn_start: where the
						 * server's words go; NULL: dropped */
	uint64_t		 greet_us;	/* set before conn_start: wait this
						 * long for a greeting; 0: none */
	int			 purpose;	/* set before conn_start: the pool's
						 * business (fuzz, reference, ...) */
	uint64_t		 early;		/* bytes received before any sent */
	uint64_t		 heard;		/* bytes received in this wait */
	uint32_t		 waited;	/* fragments sent when the last
						 * turn wait began */
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

/* Cycle pacing: the cycle tick for a connection in CONN_TICK. */
void		 conn_tick(struct conn *c);

/* A sock_diag reply about this connection's server end. */
void		 conn_diag(struct conn *c, const struct diag_reply *r);

/* Describes what c did so far (or did, once ended), times relative to the
 * run's start. Valid until the slot starts its next connection. */
void		 conn_report(const struct conn *c, struct conn_report *out);

/* Closes the socket and returns the slot to idle without reporting. */
void		 conn_abort(struct conn *c);

/* Ends c with a hang finding of phase "stall": the server read nothing on
 * any connection for the stall timeout. detail says what it was doing. */
void		 conn_stall(struct conn *c, const char *detail);

/* Ends c, stuck in a stall that another connection reported, with the
 * outcome hang and no finding of its own. */
void		 conn_stall_end(struct conn *c);

/* Is c waiting (in read pacing) for the server to read data it sent? */
int		 conn_unread(const struct conn *c);

/* Name of a state, for traces. */
const char	*conn_state_name(enum conn_state s);

/* May a connection go from state `from` to `to`? (The table conn_set_state
 * checks every change against.) */
int		 conn_transition_allowed(enum conn_state from, enum conn_state to);

/* A debug hook called on every state change, with whether the table
 * allows it; NULL (the default) for none. Tests set it to catch a
 * transition the table does not allow. */
typedef void	(*conn_trace_fn)(const struct conn *c, enum conn_state from,
		     enum conn_state to, int allowed, void *arg);
void		 conn_set_trace(conn_trace_fn fn, void *arg);

/* Name of an outcome, as records keep it. */
const char	*conn_outcome_name(enum conn_outcome o);

/* The outcome of a name (CONN_OUT_UNKNOWN for one not known). */
enum conn_outcome conn_outcome_parse(const char *name);

/* The outcome of a connection ended by a finding of this kind. */
enum conn_outcome conn_outcome_of(enum finding_kind k);

#endif
