/*
 * One connection: a drive loop in memcached's manner that connects, sends
 * its blob one fragment per send() as its plan says, and closes.
 *
 * Every wake-up (the socket writable, the connection's timer, a sock_diag
 * reply, a cycle tick) enters conn_drive(), which loops over
 * `switch (c->state)`: a passing state does its work and moves on, a
 * waiting state stops the loop until the wake-up it waits for. Nothing
 * recurses: send, pace and wait are states, not functions calling each
 * other. conn_set_state() is the only writer of c->state and checks every
 * change against the table of allowed ones (conn_set_trace() hooks it).
 *
 * Every outcome goes through a callback of the connection's environment:
 * done (the slot is idle again), finding (the target misbehaved) or
 * local_fault (our side ran out of something). No work is chained with
 * event_active(): an immediate result is delivered through a zero-length
 * timer, so the event loop always gets back to its timers and signals.
 * Reading (and dropping) what the server sends happens beside the loop, in
 * conn_io_read, in every state with a socket.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "answer.h"
#include "conn.h"
#include "corpus.h"
#include "coverage.h"
#include "diag.h"
#include "pace.h"
#include "stats.h"
#include "util.h"

#define READ_BUDGET	8	/* reads per wake-up, so one talker cannot starve the rest */
#define LOOKUP_LOST_US	20000	/* a lookup with no reply by then is asked again */
#define VERIFY_EVERY	8	/* ack and cycle: one fragment in 8 is verified */
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24	/* <linux/in.h>; clashes with netinet/in.h */
#endif

/* What woke the drive loop. */
enum conn_wake {
	WAKE_NONE,	/* passing from one state to the next */
	WAKE_WRITE,	/* the socket is writable */
	WAKE_TIMER,	/* the connection's timer fired */
	WAKE_REPLY,	/* a sock_diag reply, in c->reply */
	WAKE_TICK,	/* the cycle pacer's tick */
};

static const char *state_names[CONN__COUNT] = {
	[CONN_IDLE] = "idle",
	[CONN_CONNECTING] = "connecting",
	[CONN_CONNECT_FAILED] = "connect-failed",
	[CONN_CONNECTED] = "connected",
	[CONN_NEXT] = "next",
	[CONN_GAP] = "gap",
	[CONN_TICK] = "tick",
	[CONN_PACE] = "pace",
	[CONN_LOOKUP] = "lookup",
	[CONN_BACKOFF] = "backoff",
	[CONN_SEND] = "send",
	[CONN_SENDING] = "sending",
	[CONN_VERIFY] = "verify",
	[CONN_DRAIN] = "drain",
	[CONN_DRAINING] = "draining",
	[CONN_GREETING] = "greeting",
	[CONN_TURN_WAIT] = "turn-wait",
};

/* The state as records name it (the coarse states of earlier versions). */
static const char *report_names[CONN__COUNT] = {
	[CONN_IDLE] = "idle",
	[CONN_CONNECTING] = "connecting",
	[CONN_CONNECT_FAILED] = "connecting",
	[CONN_CONNECTED] = "connecting",
	[CONN_NEXT] = "waiting",
	[CONN_GAP] = "waiting",
	[CONN_TICK] = "waiting",
	[CONN_PACE] = "waiting",
	[CONN_LOOKUP] = "waiting",
	[CONN_BACKOFF] = "waiting",
	[CONN_SEND] = "waiting",
	[CONN_SENDING] = "sending",
	[CONN_VERIFY] = "waiting",
	[CONN_DRAIN] = "draining",
	[CONN_DRAINING] = "draining",
	[CONN_GREETING] = "waiting",
	[CONN_TURN_WAIT] = "waiting",
};

#define TO(s)	(1U << (s))

/* Where each state may go; any state may go back to idle (the end). */
static const unsigned allowed[CONN__COUNT] = {
	[CONN_IDLE] = TO(CONN_CONNECTING) | TO(CONN_CONNECT_FAILED),
	[CONN_CONNECTING] = TO(CONN_CONNECTED),
	[CONN_CONNECTED] = TO(CONN_NEXT) | TO(CONN_SEND) | TO(CONN_GAP) |
	    TO(CONN_TICK) | TO(CONN_DRAIN) | TO(CONN_GREETING),
	[CONN_GREETING] = TO(CONN_SEND) | TO(CONN_GAP) | TO(CONN_TICK) |
	    TO(CONN_DRAIN),
	[CONN_NEXT] = TO(CONN_DRAIN) | TO(CONN_GAP) | TO(CONN_TICK) |
	    TO(CONN_PACE) | TO(CONN_TURN_WAIT),
	[CONN_TURN_WAIT] = TO(CONN_NEXT),
	[CONN_GAP] = TO(CONN_PACE),
	[CONN_TICK] = TO(CONN_PACE),
	[CONN_PACE] = TO(CONN_SEND) | TO(CONN_LOOKUP) | TO(CONN_BACKOFF) |
	    TO(CONN_TICK),
	[CONN_LOOKUP] = TO(CONN_PACE),
	[CONN_BACKOFF] = TO(CONN_PACE),
	[CONN_SEND] = TO(CONN_SENDING) | TO(CONN_VERIFY) | TO(CONN_NEXT),
	[CONN_SENDING] = TO(CONN_SEND),
	[CONN_VERIFY] = TO(CONN_NEXT),
	[CONN_DRAIN] = TO(CONN_DRAINING),
};

static const char *outcome_names[CONN_OUT__COUNT] = {
	[CONN_OUT_IN_FLIGHT] = "in-flight",
	[CONN_OUT_COMPLETED] = "completed",
	[CONN_OUT_EARLY_CLOSE] = "early-close",
	[CONN_OUT_DRAIN_TIMEOUT] = "drain-timeout",
	[CONN_OUT_PEER_CLOSED] = "peer-closed",
	[CONN_OUT_LOCAL_ERROR] = "local-error",
	[CONN_OUT_REFUSED] = "refused",
	[CONN_OUT_CONNECT_TIMEOUT] = "connect-timeout",
	[CONN_OUT_RESET] = "reset",
	[CONN_OUT_HANG] = "hang",
	[CONN_OUT_TARGET_EXIT] = "target-exit",
	[CONN_OUT_TARGET_REPORT] = "target-report",
	[CONN_OUT_MISMATCH] = "mismatch",
	[CONN_OUT_UNKNOWN] = "unknown",
};

static const enum conn_outcome finding_outcomes[FINDING__COUNT] = {
	[FINDING_REFUSED] = CONN_OUT_REFUSED,
	[FINDING_CONNECT_TIMEOUT] = CONN_OUT_CONNECT_TIMEOUT,
	[FINDING_RESET] = CONN_OUT_RESET,
	[FINDING_HANG] = CONN_OUT_HANG,
	[FINDING_TARGET_EXIT] = CONN_OUT_TARGET_EXIT,
	[FINDING_TARGET_REPORT] = CONN_OUT_TARGET_REPORT,
	[FINDING_MISMATCH] = CONN_OUT_MISMATCH,
};

static conn_trace_fn	 trace_fn;
static void		*trace_arg;

static void	conn_io_read(evutil_socket_t, short, void *);
static void	conn_io_write(evutil_socket_t, short, void *);
static void	conn_io_timer(evutil_socket_t, short, void *);

/* Name of a state, for traces. */
const char *
conn_state_name(enum conn_state s)
{
	if (s >= CONN__COUNT)
		return "unknown";
	return state_names[s];
}

/* Name of an outcome, as records keep it. */
const char *
conn_outcome_name(enum conn_outcome o)
{
	if (o >= CONN_OUT__COUNT)
		return "unknown";
	return outcome_names[o];
}

/* The outcome of a name (CONN_OUT_UNKNOWN for one not known). */
enum conn_outcome
conn_outcome_parse(const char *name)
{
	for (int o = 0; o < CONN_OUT__COUNT; o++)
		if (strcmp(outcome_names[o], name) == 0)
			return (enum conn_outcome)o;
	return CONN_OUT_UNKNOWN;
}

/* The outcome of a connection ended by a finding of this kind. */
enum conn_outcome
conn_outcome_of(enum finding_kind k)
{
	if (k >= FINDING__COUNT)
		return CONN_OUT_UNKNOWN;
	return finding_outcomes[k];
}

/* May a connection go from state `from` to `to`? */
int
conn_transition_allowed(enum conn_state from, enum conn_state to)
{
	if (from >= CONN__COUNT || to >= CONN__COUNT)
		return 0;
	return to == CONN_IDLE || (allowed[from] & TO(to)) != 0;
}

/* Sets the debug hook called on every state change. */
void
conn_set_trace(conn_trace_fn fn, void *arg)
{
	trace_fn = fn;
	trace_arg = arg;
}

/* Does this connection pace by the global cycle? */
static int
conn_cycled(const struct conn *c)
{
	return c->env->pace == PACE_CYCLE;
}

/* The one place a connection changes state. It also keeps the cycle
 * pacer's list of connections waiting for a tick. */
static void
conn_set_state(struct conn *c, enum conn_state s)
{
	struct conn_env	*env = c->env;

	if (c->state == s)
		return;
	if (trace_fn != NULL)
		trace_fn(c, c->state, s, conn_transition_allowed(c->state, s),
		    trace_arg);
	if (c->state == CONN_TICK)
		TAILQ_REMOVE(&env->waitq, c, wait_entry);
	c->state = s;
	if (s == CONN_TICK) {
		c->wait_tick = env->tick;
		TAILQ_INSERT_TAIL(&env->waitq, c, wait_entry);
	}
}

/* Arms the connection's timer to fire in us microseconds. */
static void
conn_timer(struct conn *c, uint64_t us)
{
	struct timeval	tv = {
		.tv_sec = (time_t)(us / 1000000),
		.tv_usec = (suseconds_t)(us % 1000000),
	};

	event_add(c->ev_timer, &tv);
}

/* Moves to a waiting state whose wake-up is the timer, in us. */
static void
conn_await(struct conn *c, enum conn_state s, uint64_t us)
{
	conn_set_state(c, s);
	conn_timer(c, us);
}

/* Moves to the pacer with what the last look said. */
static void
conn_to_pace(struct conn *c, enum pace_sign sign)
{
	c->sign = sign;
	conn_set_state(c, CONN_PACE);
}

/* Makes an idle connection slot. */
struct conn *
conn_new(struct conn_env *env)
{
	struct conn	*c = xcalloc(1, sizeof *c);

	c->env = env;
	c->fd = -1;
	c->ev_timer = evtimer_new(env->base, conn_io_timer, c);
	c->ev_read = event_new(env->base, -1, 0, NULL, NULL);
	c->ev_write = event_new(env->base, -1, 0, NULL, NULL);
	if (c->ev_timer == NULL || c->ev_read == NULL || c->ev_write == NULL) {
		conn_free(c);
		return NULL;
	}
	return c;
}

/* Closes the socket and returns the slot to idle without reporting. */
void
conn_abort(struct conn *c)
{
	event_del(c->ev_read);
	event_del(c->ev_write);
	event_del(c->ev_timer);
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
		c->t_end_us = util_now_us();
	}
	conn_set_state(c, CONN_IDLE);
}

/* Closes whatever is open and frees the slot; accepts NULL. */
void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->ev_timer != NULL && c->ev_read != NULL && c->ev_write != NULL)
		conn_abort(c);
	if (c->ev_timer != NULL)
		event_free(c->ev_timer);
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	plan_release(&c->plan);
	free(c->gaps_us);
	free(c);
}

/* Describes what c did so far. */
void
conn_report(const struct conn *c, struct conn_report *out)
{
	uint64_t	start = c->env->start_us;

	memset(out, 0, sizeof *out);
	out->index = c->index;
	out->blob = c->blob;
	out->plan = &c->plan;
	out->frags_sent = c->frag;
	out->bytes_sent = c->off;
	out->gaps_us = c->gaps_us;
	out->ngaps = c->ngaps;
	out->local_port = c->local_port;
	out->state = c->state < CONN__COUNT ? report_names[c->state] :
	    "unknown";
	out->outcome = c->outcome;
	out->answer = c->answer;
	out->greet_us = c->greet_us;
	out->start_us = c->t_start_us > start ? c->t_start_us - start : 0;
	if (c->state == CONN_IDLE && c->t_end_us > start)
		out->end_us = c->t_end_us - start;
}

/* The connection is over: close it and tell the pool. */
static void
conn_finish(struct conn *c, enum conn_outcome outcome)
{
	c->outcome = outcome;
	conn_abort(c);
	c->env->done(c, c->env->arg);
}

/* The target misbehaved: report a finding, then end the connection. The
 * finding is reported while the connection still shows its last state;
 * the engine counts it once it is decided. */
static void
conn_fault_detail(struct conn *c, enum finding_kind kind, int err,
    const char *phase, const char *detail)
{
	struct finding	f = {
		.kind = kind,
		.err = err,
		.seed = c->env->seed,
		.index = c->index,
		.blob = c->blob,
		.plan = &c->plan,
		.frags_sent = c->frag,
		.bytes_sent = c->off,
		.at_us = util_now_us() - c->env->start_us,
		.phase = phase,
		.conn = c,
		.detail = detail,
	};

	c->outcome = conn_outcome_of(kind);
	c->env->finding(c, &f, c->env->arg);
	conn_finish(c, c->outcome);
}

/* A finding of the target with no more to say than its kind and phase. */
static void
conn_fault(struct conn *c, enum finding_kind kind, int err, const char *phase)
{
	conn_fault_detail(c, kind, err, phase, NULL);
}

/* Ends c with a hang finding of phase "stall". */
void
conn_stall(struct conn *c, const char *detail)
{
	if (c->state != CONN_IDLE)
		conn_fault_detail(c, FINDING_HANG, 0, "stall", detail);
}

/* Ends c, stuck in a stall another connection reported. */
void
conn_stall_end(struct conn *c)
{
	if (c->state != CONN_IDLE)
		conn_finish(c, CONN_OUT_HANG);
}

/* Is c waiting (in read pacing) for the server to read data it sent? */
int
conn_unread(const struct conn *c)
{
	return c->env->pace == PACE_READ && (c->state == CONN_LOOKUP ||
	    c->state == CONN_BACKOFF) && c->off > c->srv_read;
}

/* Our side ran out of something: report it, then end the connection. */
static void
conn_local(struct conn *c, const char *what, int err)
{
	c->env->stats->local_errors++;
	c->env->local_fault(c, what, err, c->env->arg);
	conn_finish(c, CONN_OUT_LOCAL_ERROR);
}

/* What a local connect error ran out of, or NULL if err is the target's
 * fault: only a refusal, a timeout, a reset while the connection waited in
 * the server's accept queue (its listening socket closed) or (Unix) a
 * missing socket blames the target. A full backlog of a Unix socket is
 * backed off, never a finding. */
static const char *
conn_connect_local(const struct conn *c, int err)
{
	if (c->env->is_unix && err == EAGAIN)
		return "room in the server's listen backlog";
	switch (err) {
	case ECONNREFUSED:
	case ECONNRESET:
	case ETIMEDOUT:
	case ENOENT:
		return NULL;
	case EADDRNOTAVAIL:
	case EADDRINUSE:
	case EAGAIN:
		return "local ports";
	case EMFILE:
	case ENFILE:
		return "file descriptors";
	case ENOBUFS:
	case ENOMEM:
		return "memory";
	case ENETUNREACH:
	case EHOSTUNREACH:
		return "a route to the target";
	case EPERM:
	case EACCES:
		return "permission (a firewall or conntrack table?)";
	default:
		return "connect";
	}
}

/* A connect attempt failed with err. */
static void
conn_connect_failed(struct conn *c, int err)
{
	const char	*what = conn_connect_local(c, err);

	if (what != NULL)
		conn_local(c, what, err);
	else if (err == ECONNRESET && c->off > 0)
		/* Fast open carried bytes: the server read them and reset. */
		conn_fault(c, FINDING_RESET, err, "send");
	else if (err == ETIMEDOUT)
		conn_fault(c, FINDING_CONNECT_TIMEOUT, err, "connect");
	else
		conn_fault(c, FINDING_REFUSED, err, "connect");
}

/* A send or read failed with err. */
static void
conn_io_failed(struct conn *c, int err, const char *phase)
{
	switch (err) {
	case ENOBUFS:
	case ENOMEM:
		conn_local(c, "socket buffers", err);
		return;
	case ENETUNREACH:
	case EHOSTUNREACH:
		conn_local(c, "a route to the target", err);
		return;
	case ETIMEDOUT:
		conn_fault(c, FINDING_HANG, err, phase);
		return;
	default:
		conn_fault(c, FINDING_RESET, err, phase);
		return;
	}
}

/* Records the wait before the fragment about to be sent. */
static void
conn_log_gap(struct conn *c, uint64_t now)
{
	uint64_t	gap = now - c->t_last_send_us;

	if (!c->env->reports || c->frag >= c->plan.nfrags)
		return;
	if (c->frag >= c->gaps_cap) {
		c->gaps_cap = c->plan.nfrags > 8 ? c->plan.nfrags : 8;
		c->gaps_us = xreallocarray(c->gaps_us, c->gaps_cap,
		    sizeof *c->gaps_us);
	}
	/* Indexed by fragment: a fragment retried after EAGAIN, or a fast
	 * open that took nothing, keeps one gap. */
	c->gaps_us[c->frag] = gap > UINT32_MAX ? UINT32_MAX : (uint32_t)gap;
	c->ngaps = c->frag + 1;
}

/* Clears what the slot's previous connection left. */
static void
conn_reset(struct conn *c, uint64_t index, const struct blob *b)
{
	c->index = index;
	c->blob = b;
	c->frag = 0;
	c->frag_off = 0;
	c->off = 0;
	c->err = 0;
	c->polls = 0;
	c->sign = PACE_SIGN_NONE;
	c->ngaps = 0;
	c->local_port = 0;
	c->outcome = CONN_OUT_IN_FLIGHT;
	c->t_end_us = 0;
	c->gen++;
	c->cookie_known = 0;
	c->srv_read = 0;
	c->last_outq = 0;
	c->t_progress_us = 0;
	c->reply = NULL;
	c->early = 0;
	c->heard = 0;
	c->waited = 0;
	if (c->answer != NULL)
		answer_reset(c->answer);
	if (c->greet_us != 0)
		c->plan.fastopen = 0;	/* nothing may go before the greeting */
}

/* Our side ran out of `what` before the connect: report it. */
static int
conn_start_failed(struct conn *c, const char *what, int err)
{
	c->env->stats->local_errors++;
	c->env->local_fault(c, what, err, c->env->arg);
	conn_abort(c);
	return -1;
}

/* Opens the socket: non-blocking, TCP_NODELAY, and (IPv4 loopback) a
 * source address of its own. Returns 0, or -1 with the fault reported. */
static int
conn_socket(struct conn *c, uint64_t index)
{
	struct conn_env	*env = c->env;
	int		 one = 1, fd;

	fd = socket(env->addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return conn_start_failed(c, "file descriptors", errno);
	c->fd = fd;
	/* Without TCP_NODELAY the kernel may hold a small fragment back and
	 * merge it with the next one: the boundary would be lost. */
	if (!env->is_unix &&
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1)
		return conn_start_failed(c, "TCP_NODELAY", errno);
	if (env->src_count > 1) {
		/* Spread over 127.0.0.2 and up: each source address has its
		 * own ephemeral ports, so TIME_WAIT never runs them out.
		 * The port is still chosen at connect() time. */
		struct sockaddr_in	src = { .sin_family = AF_INET };

		src.sin_addr.s_addr = htonl(0x7f000002U +
		    (uint32_t)(index % env->src_count));
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof one);
		if (bind(fd, (struct sockaddr *)&src, sizeof src) == -1)
			return conn_start_failed(c,
			    "a loopback source address", errno);
	}
	event_assign(c->ev_read, env->base, fd, EV_READ | EV_PERSIST,
	    conn_io_read, c);
	/* Reads first: a server's close is seen before the pacer sends into
	 * it (which would only earn a reset). */
	event_priority_set(c->ev_read, 0);
	event_assign(c->ev_write, env->base, fd, EV_WRITE, conn_io_write, c);
	return 0;
}

/* connect(), or a fast-open SYN carrying fragment 0. Returns what connect
 * returns, errno set. */
static ssize_t
conn_connect(struct conn *c)
{
	struct conn_env	*env = c->env;
	ssize_t		 n;

	if (env->is_unix)
		c->plan.fastopen = 0;	/* TCP only; the record says so */
	if (!c->plan.fastopen || c->plan.close_after == 0)
		return connect(c->fd, env->addr, env->addrlen);
	n = sendto(c->fd, c->blob->data, c->plan.sizes[0],
	    MSG_FASTOPEN | MSG_NOSIGNAL, env->addr, env->addrlen);
	if (n == -1 && errno == EOPNOTSUPP)
		return connect(c->fd, env->addr, env->addrlen);
	env->stats->fastopens++;
	if (n > 0) {
		conn_log_gap(c, c->t_start_us);
		/* Only what the kernel took counts as sent. */
		c->frag_off = (size_t)n;
		c->off = (size_t)n;
		env->stats->bytes += (uint64_t)n;
	} else if (n == 0) {
		n = -1;
		errno = EINPROGRESS;
	}
	return n;
}

/* Starts connection `index` on blob b, cut as c->plan says. */
int
conn_start(struct conn *c, uint64_t index, const struct blob *b)
{
	struct conn_env	*env = c->env;
	ssize_t		 n;
	int		 err;

	conn_reset(c, index, b);
	if (conn_socket(c, index) == -1)
		return -1;
	c->t_start_us = util_now_us();
	c->t_last_send_us = c->t_start_us;
	env->stats->conns_started++;
	n = conn_connect(c);
	err = errno;
	if (n == -1 && err != EINPROGRESS && err != EINTR) {
		const char	*what = conn_connect_local(c, err);

		/* Our own trouble: the caller backs off. */
		if (what != NULL)
			return conn_start_failed(c, what, err);
		/* Refused at once: reported from the loop, like any other
		 * connect result. */
		c->err = err;
		conn_await(c, CONN_CONNECT_FAILED, 0);
		return 0;
	}
	conn_set_state(c, CONN_CONNECTING);
	event_add(c->ev_write, NULL);
	conn_timer(c, env->opt->connect_timeout_ms * 1000);
	return 0;
}

/* Moves to the next fragment once the current one was fully taken; the
 * boundary it leaves (if not the blob's end) counts for coverage. */
static void
conn_fragment_done(struct conn *c)
{
	if (c->env->coverage != NULL && c->off < c->blob->len &&
	    coverage_mark(c->env->coverage, c->blob->id, c->off))
		c->env->stats->cuts_used++;
	c->frag++;
	c->frag_off = 0;
	c->polls = 0;
	c->t_last_send_us = util_now_us();
	c->env->stats->fragments++;
}

/* Bytes not yet acknowledged by the server (sent or still queued), or -1. */
static int
conn_outq(struct conn *c, int *err)
{
	int	outq;

	if (ioctl(c->fd, SIOCOUTQ, &outq) == -1) {
		*err = errno;
		return -1;
	}
	return outq;
}

/* Least wait before fragment k. */
static uint64_t
conn_gap(const struct conn *c, uint32_t k)
{
	if (c->plan.gaps_us != NULL && k < c->plan.nfrags)
		return c->plan.gaps_us[k];
	return c->env->gap_us;
}

/* Queues a sock_diag lookup of this connection's server end. */
static void
conn_lookup(struct conn *c)
{
	struct conn_env		*env = c->env;
	static const struct timeval zero = { 0, 0 };

	diag_query(env->diag, c->slot, c->gen,
	    (const struct sockaddr *)&c->local, env->addr,
	    c->cookie_known ? c->cookie : NULL);
	if (!event_pending(env->ev_diag, EV_TIMEOUT, NULL))
		event_add(env->ev_diag, &zero);
}

/* Fast open took only part of fragment 0: make the part it took a fragment
 * of its own, so the plan (and any record of it) says what was sent. */
static int
conn_split_first(struct conn *c)
{
	struct plan	*p = &c->plan;
	uint32_t	 taken = (uint32_t)c->frag_off;
	uint32_t	*sizes;

	sizes = reallocarray(NULL, (size_t)p->nfrags + 1, sizeof *sizes);
	if (sizes == NULL)
		return -1;
	sizes[0] = taken;
	sizes[1] = p->sizes[0] - taken;
	memcpy(sizes + 2, p->sizes + 1, (p->nfrags - 1) * sizeof *sizes);
	free(p->sizes);
	p->sizes = sizes;
	p->cap = p->nfrags + 1;
	if (p->gaps_us != NULL) {
		uint32_t	*gaps = calloc((size_t)p->nfrags + 1,
				    sizeof *gaps);

		if (gaps == NULL)
			return -1;
		/* The rest of fragment 0 follows at once; later fragments
		 * keep their gaps. */
		gaps[0] = p->gaps_us[0];
		memcpy(gaps + 2, p->gaps_us + 1,
		    (p->nfrags - 1) * sizeof *gaps);
		free(p->gaps_us);
		p->gaps_us = gaps;
	}
	p->nfrags++;
	if (p->close_after < p->nfrags - 1)
		p->close_after++;
	else
		p->close_after = p->nfrags;
	return 0;
}

static int	conn_begin(struct conn *);

/* CONN_CONNECTED: check how the connect went and set up for sending. */
static int
conn_on_connected(struct conn *c)
{
	struct conn_env	*env = c->env;
	int		 err = 0;
	socklen_t	 len = sizeof err;
	uint64_t	 cycle_us, dt, cycles;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		conn_connect_failed(c, err);
		return 0;
	}
	event_del(c->ev_timer);
	c->t_established_us = util_now_us();
	env->stats->conns_established++;
	/* In cycles of --cycle-ms, at least one, as the original counted. */
	cycle_us = (uint64_t)env->opt->cycle_ms * 1000;
	dt = c->t_established_us - c->t_start_us;
	cycles = (dt + cycle_us - 1) / cycle_us;
	env->stats->cycles_to_connect += cycles ? cycles : 1;
	if (env->reports || env->diag != NULL) {
		socklen_t	sl = sizeof c->local;

		if (!env->is_unix &&
		    getsockname(c->fd, (struct sockaddr *)&c->local, &sl) == 0)
			c->local_port = ntohs(c->local.ss_family == AF_INET6 ?
			    ((struct sockaddr_in6 *)&c->local)->sin6_port :
			    ((struct sockaddr_in *)&c->local)->sin_port);
	}
	event_add(c->ev_read, NULL);
	if (c->frag_off > 0) {
		/* Fast open carried fragment 0, or part of it. */
		if (c->frag_off < c->plan.sizes[0] &&
		    conn_split_first(c) == -1) {
			conn_local(c, "memory", ENOMEM);
			return 0;
		}
		conn_fragment_done(c);
		conn_set_state(c, CONN_NEXT);
		return 1;
	}
	if (c->greet_us != 0) {
		conn_await(c, CONN_GREETING, c->greet_us);
		return 0;
	}
	return conn_begin(c);
}

/* CONNECTED (or GREETING over): the first fragment's wait. */
static int
conn_begin(struct conn *c)
{
	c->t_last_send_us = util_now_us();
	if (c->frag >= c->plan.close_after)
		conn_set_state(c, CONN_DRAIN);
	else if (conn_cycled(c))
		conn_set_state(c, CONN_TICK);	/* the first goes at a tick */
	else if (conn_gap(c, 0) == 0 || c->plan.gaps_us == NULL)
		conn_set_state(c, CONN_SEND);	/* nothing to wait for */
	else
		conn_await(c, CONN_GAP, conn_gap(c, 0));
	return c->state != CONN_GAP && c->state != CONN_TICK;
}

/* CONN_NEXT: a fragment went out (or fast open carried one): drain when
 * all is sent, else wait for the gap, the tick or the pacer. */
static int
conn_on_next(struct conn *c)
{
	uint64_t	gap;

	if (c->plan.nturns != 0 && c->waited != c->frag && c->frag > 0 &&
	    c->frag <= c->plan.close_after &&
	    plan_turn_after(&c->plan, c->frag - 1)) {
		/* A message is complete: its reply before the next one. */
		c->waited = c->frag;
		c->heard = 0;
		event_del(c->ev_write);
		conn_await(c, CONN_TURN_WAIT,
		    c->env->opt->turn_timeout_ms * 1000);
		return 0;
	}
	if (c->frag >= c->plan.close_after) {
		conn_set_state(c, CONN_DRAIN);
		return 1;
	}
	if (conn_cycled(c)) {
		/* The engine's cycle tick wakes it; no timer. */
		event_del(c->ev_timer);
		conn_set_state(c, CONN_TICK);
		return 0;
	}
	gap = conn_gap(c, c->frag);
	if (gap != 0) {
		conn_await(c, CONN_GAP, gap);
		return 0;
	}
	conn_to_pace(c, PACE_SIGN_NONE);
	return 1;
}

/* A look at a Unix socket, in every pacing mode. SIOCOUTQ counts the
 * memory of what the server has not read yet (a partly read send keeps
 * it), so 0 means it read everything sent: read pacing, and the fidelity
 * of the fragment before (nothing of it is left for the next to join). */
static int
conn_unix_look(struct conn *c, int outq)
{
	struct conn_env	*env = c->env;
	uint64_t	 now = util_now_us();

	if (pace_outq_progress((uint64_t)c->last_outq, (uint64_t)outq,
	    c->off > c->srv_read)) {
		c->t_progress_us = now;
		env->last_progress_us = now;
	}
	c->last_outq = outq;
	if (outq != 0) {
		c->sign = PACE_SIGN_PENDING;
		return 1;
	}
	c->srv_read = c->off;
	if (env->pace == PACE_READ)
		env->read_us = pace_read_mean(env->read_us,
		    now - c->t_last_send_us);
	env->stats->ready++;
	env->stats->fid_checked++;
	env->stats->fid_ok++;
	c->sign = PACE_SIGN_DONE;
	return 1;
}

/* CONN_PACE, asked to look: read pacing sends a lookup and waits for its
 * reply; ack and cycle pacing ask SIOCOUTQ at once (nothing unacked,
 * nothing unsent: a server that stops reading closes its window and data
 * stays unsent). */
static int
conn_pace_ask(struct conn *c)
{
	struct conn_env	*env = c->env;
	int		 err = 0, outq;

	if (env->pace == PACE_READ && env->diag != NULL) {
		/* A reply comes within this loop iteration; the timer only
		 * covers a reply the kernel dropped. */
		conn_lookup(c);
		conn_await(c, CONN_LOOKUP, LOOKUP_LOST_US);
		return 0;
	}
	outq = conn_outq(c, &err);
	if (outq == -1) {
		conn_io_failed(c, err, "send");
		return 0;
	}
	if (env->is_unix)
		return conn_unix_look(c, outq);
	c->sign = outq == 0 ? PACE_SIGN_DONE : PACE_SIGN_PENDING;
	if (outq == 0)
		env->stats->ready++;
	return 1;
}

/* CONN_PACE: the pacer decides from the last look. */
static int
conn_on_pace(struct conn *c)
{
	struct conn_env		*env = c->env;
	struct pace_in		 in = {
		.mode = env->pace == PACE_READ && env->diag == NULL &&
		    !env->is_unix ? PACE_ACK : env->pace,
		/* The time matters only to a pending look (the hang check). */
		.now_us = c->sign == PACE_SIGN_PENDING ? util_now_us() : 0,
		.last_send_us = c->t_last_send_us,
		.hang_us = env->opt->hang_timeout_ms * 1000,
		.polls = c->polls,
		.read_us = env->read_us,
	};
	uint64_t		 wait;

	switch (pace_decide(&in, (enum pace_sign)c->sign, &wait)) {
	case PACE_DO_SEND:
		conn_set_state(c, CONN_SEND);
		return 1;
	case PACE_DO_ASK:
		return conn_pace_ask(c);
	case PACE_DO_RETRY:
		env->stats->not_ready++;
		c->polls++;
		conn_await(c, CONN_BACKOFF, wait);
		return 0;
	case PACE_DO_TICK:
		env->stats->not_ready++;
		event_del(c->ev_timer);
		conn_set_state(c, CONN_TICK);
		return 0;
	default:
		env->stats->not_ready++;
		conn_fault(c, FINDING_HANG, 0, "send");
		return 0;
	}
}

/* A pacing lookup's reply: what it says for the pacer, and whether the
 * server read anything since the last look (stall detection). */
static enum pace_sign
conn_read_reply(struct conn *c, const struct diag_reply *r)
{
	struct conn_env	*env = c->env;
	uint64_t	 now = util_now_us();

	if (!r->found) {
		/* The server's end is gone: what we send next will tell
		 * (a reset, or its close). */
		env->stats->fid_checked++;
		return PACE_SIGN_GONE;
	}
	if (pace_progress(c->srv_read, r->received, r->rqueue, &c->srv_read)) {
		c->t_progress_us = now;
		env->last_progress_us = now;
	}
	/* Read means: everything sent has arrived, and none waits unread. */
	if (!diag_all_read(r, c->off))
		return PACE_SIGN_PENDING;
	/* How long the server takes to read, on average: the pacer spaces
	 * its re-asks by it. */
	env->read_us = pace_read_mean(env->read_us, now - c->t_last_send_us);
	env->stats->ready++;
	env->stats->fid_checked++;
	env->stats->fid_ok++;
	return PACE_SIGN_DONE;
}

/* CONN_LOOKUP: the reply decides; a lost one is asked again. */
static int
conn_on_lookup(struct conn *c, enum conn_wake w)
{
	if (w == WAKE_REPLY) {
		event_del(c->ev_timer);
		conn_to_pace(c, conn_read_reply(c, c->reply));
		return 1;
	}
	if (w == WAKE_TIMER) {
		conn_to_pace(c, PACE_SIGN_NONE);
		return 1;
	}
	return 0;
}

/* A wait whose only wake-up is `wake`: then back to the pacer to look. */
static int
conn_on_wait(struct conn *c, enum conn_wake w, enum conn_wake wake)
{
	if (w != wake)
		return 0;
	conn_to_pace(c, PACE_SIGN_NONE);
	return 1;
}

/* The kernel did not take the whole fragment: wait for room, and call it a
 * hang if none comes within the hang timeout. */
static void
conn_wait_room(struct conn *c)
{
	conn_set_state(c, CONN_SENDING);
	event_add(c->ev_write, NULL);
	if (c->env->opt->hang_timeout_ms != 0)
		conn_timer(c, c->env->opt->hang_timeout_ms * 1000);
	else
		event_del(c->ev_timer);
}

/* Ack and cycle pacing: is this fragment one of the sampled ones whose
 * boundary a lookup verifies? */
static int
conn_sampled(const struct conn *c)
{
	const struct conn_env	*env = c->env;

	return env->diag != NULL && env->pace != PACE_READ && c->frag >= 2 &&
	    env->stats->fragments % VERIFY_EVERY == 0;
}

/* CONN_SEND: (the rest of) the current fragment with exactly one send(). */
static int
conn_on_send(struct conn *c)
{
	struct conn_env	*env = c->env;
	size_t		 size, left;
	ssize_t		 n;

	if (c->frag_off == 0 && env->reports)
		conn_log_gap(c, util_now_us());
	size = c->plan.sizes[c->frag];
	left = size - c->frag_off;
	do {
		n = send(c->fd, c->blob->data + c->off, left,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
		conn_io_failed(c, errno, "send");
		return 0;
	}
	if (n > 0) {
		env->stats->bytes += (uint64_t)n;
		c->off += (size_t)n;
		c->frag_off += (size_t)n;
	}
	if (n == -1 || (size_t)n < left) {
		/* Nothing or part taken: the rest goes when there is room. */
		conn_wait_room(c);
		return 0;
	}
	conn_fragment_done(c);
	if (conn_sampled(c)) {
		c->verify_size = (uint32_t)size;
		conn_lookup(c);
		conn_await(c, CONN_VERIFY, LOOKUP_LOST_US);
		return 0;
	}
	conn_set_state(c, CONN_NEXT);
	return 1;
}

/* CONN_SENDING: room to write the rest, or a hang. */
static int
conn_on_sending(struct conn *c, enum conn_wake w)
{
	if (w == WAKE_WRITE) {
		event_del(c->ev_timer);
		conn_set_state(c, CONN_SEND);
		return 1;
	}
	if (w == WAKE_TIMER)
		conn_fault(c, FINDING_HANG, 0, "send");
	return 0;
}

/* CONN_VERIFY: a fidelity sample. Right after fragment k went out, only k
 * (or nothing) may wait unread if k-1 was read on its own. */
static int
conn_on_verify(struct conn *c, enum conn_wake w)
{
	const struct diag_reply	*r = c->reply;

	if (w != WAKE_REPLY && w != WAKE_TIMER)
		return 0;
	if (w == WAKE_REPLY && r->found) {
		/* After the last fragment our FIN follows at once, and in
		 * CLOSE_WAIT it counts as one unread byte. */
		uint32_t	fin = r->state == TCP_CLOSE_WAIT;

		c->env->stats->fid_checked++;
		c->env->stats->fid_ok += r->rqueue <= c->verify_size + fin;
	}
	event_del(c->ev_timer);
	conn_set_state(c, CONN_NEXT);
	return 1;
}

/* CONN_DRAIN: shut the write side; read until the server closes, or the
 * drain timeout passes. */
static int
conn_on_drain(struct conn *c)
{
	struct conn_env	*env = c->env;

	event_del(c->ev_write);
	event_del(c->ev_timer);
	if (shutdown(c->fd, SHUT_WR) == -1) {
		conn_io_failed(c, errno, "drain");
		return 0;
	}
	if (c->frag < c->plan.nfrags)
		env->stats->early_closes++;
	else
		env->stats->conns_completed++;
	conn_await(c, CONN_DRAINING, env->opt->drain_timeout_ms * 1000);
	return 0;
}

/* CONN_DRAINING: the drain timeout passed before the server closed. */
static int
conn_on_draining(struct conn *c, enum conn_wake w)
{
	int	err = 0;

	if (w != WAKE_TIMER)
		return 0;
	/* Data the server never acknowledged: it stopped reading. */
	if (conn_outq(c, &err) > 0) {
		conn_fault(c, FINDING_HANG, 0, "drain");
		return 0;
	}
	c->env->stats->drain_timeouts++;
	conn_finish(c, CONN_OUT_DRAIN_TIMEOUT);
	return 0;
}

/* CONN_GREETING and CONN_TURN_WAIT: the timer says the words came and the
 * server went quiet, or that none came in time; either way, go on. */
static int
conn_on_listen(struct conn *c, enum conn_wake w)
{
	if (w != WAKE_TIMER)
		return 0;
	if (c->state == CONN_GREETING)
		return conn_begin(c);
	conn_set_state(c, CONN_NEXT);
	return 1;
}

/* CONN_CONNECTING and CONN_CONNECT_FAILED: the connect's result. */
static int
conn_on_connecting(struct conn *c, enum conn_wake w)
{
	if (c->state == CONN_CONNECT_FAILED) {
		if (w == WAKE_TIMER)
			conn_connect_failed(c, c->err);
		return 0;
	}
	if (w == WAKE_WRITE) {
		conn_set_state(c, CONN_CONNECTED);
		return 1;
	}
	if (w == WAKE_TIMER)
		conn_fault(c, FINDING_CONNECT_TIMEOUT, ETIMEDOUT, "connect");
	return 0;
}

/* The drive loop: runs states until one waits (or the connection ends).
 * The wake-up is for the state the loop was entered in only. */
static void
conn_drive(struct conn *c, enum conn_wake w)
{
	int	go;

	for (;;) {
		switch (c->state) {
		case CONN_CONNECTING:
		case CONN_CONNECT_FAILED:
			go = conn_on_connecting(c, w);
			break;
		case CONN_CONNECTED:
			go = conn_on_connected(c);
			break;
		case CONN_NEXT:
			go = conn_on_next(c);
			break;
		case CONN_GAP:
		case CONN_BACKOFF:
			go = conn_on_wait(c, w, WAKE_TIMER);
			break;
		case CONN_TICK:
			go = conn_on_wait(c, w, WAKE_TICK);
			break;
		case CONN_PACE:
			go = conn_on_pace(c);
			break;
		case CONN_LOOKUP:
			go = conn_on_lookup(c, w);
			break;
		case CONN_SEND:
			go = conn_on_send(c);
			break;
		case CONN_SENDING:
			go = conn_on_sending(c, w);
			break;
		case CONN_VERIFY:
			go = conn_on_verify(c, w);
			break;
		case CONN_DRAIN:
			go = conn_on_drain(c);
			break;
		case CONN_DRAINING:
			go = conn_on_draining(c, w);
			break;
		case CONN_GREETING:
		case CONN_TURN_WAIT:
			go = conn_on_listen(c, w);
			break;
		default:
			return;		/* idle: nothing to drive */
		}
		if (!go)
			return;
		w = WAKE_NONE;
	}
}

/* Cycle pacing: the cycle tick for a connection in CONN_TICK. */
void
conn_tick(struct conn *c)
{
	conn_drive(c, WAKE_TICK);
}

/* A sock_diag reply about this connection's server end. */
void
conn_diag(struct conn *c, const struct diag_reply *r)
{
	if (r->found && !c->cookie_known) {
		c->cookie[0] = r->cookie[0];
		c->cookie[1] = r->cookie[1];
		c->cookie_known = 1;
	}
	c->reply = r;
	conn_drive(c, WAKE_REPLY);
	c->reply = NULL;
}

/* The socket is writable: a connect completed, or there is room again. */
static void
conn_io_write(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_drive(arg, WAKE_WRITE);
}

/* The connection's timer fired: what it means is the state's business. */
static void
conn_io_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_drive(arg, WAKE_TIMER);
}

/* Bytes came: into the answer, and a wait for words restarts its quiet. */
static void
conn_heard(struct conn *c, size_t n)
{
	if (c->answer != NULL)
		answer_add(c->answer, c->env->scratch, n);
	if (c->off == 0)
		c->early += n;
	if (c->state == CONN_GREETING || c->state == CONN_TURN_WAIT) {
		c->heard += n;
		conn_timer(c, c->env->opt->turn_quiet_ms * 1000);
	}
}

/* The server closed its side. */
static void
conn_eof(struct conn *c)
{
	struct conn_env	*env = c->env;

	if (c->answer != NULL)
		answer_close(c->answer);
	if (c->state == CONN_DRAINING) {
		conn_finish(c, c->frag < c->plan.nfrags ?
		    CONN_OUT_EARLY_CLOSE : CONN_OUT_COMPLETED);
	} else if (c->state == CONN_TURN_WAIT && c->frag >= c->plan.nfrags) {
		/* It answered the last message and closed (QUIT). */
		env->stats->conns_completed++;
		conn_finish(c, CONN_OUT_COMPLETED);
	} else {
		env->stats->peer_closed++;
		conn_finish(c, CONN_OUT_PEER_CLOSED);
	}
}

/* The server sent something (or closed): read it, into the answer if the
 * connection keeps one. */
static void
conn_io_read(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	struct conn_env	*env = c->env;

	(void)what;
	for (int i = 0; i < READ_BUDGET; i++) {
		ssize_t	n = recv(fd, env->scratch, env->scratch_len,
		    MSG_DONTWAIT);

		if (n > 0) {
			conn_heard(c, (size_t)n);
			if ((size_t)n < env->scratch_len)
				return;		/* drained for now */
			continue;
		}
		if (n == 0) {
			conn_eof(c);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		conn_io_failed(c, errno,
		    c->state == CONN_DRAINING ? "drain" : "read");
		return;
	}
}
