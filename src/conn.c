/*
 * One connection: an explicit state machine that connects, sends its blob one
 * fragment per send() as its plan says, and closes.
 *
 * Every outcome goes through a callback of the connection's environment:
 * done (the slot is idle again), finding (the target misbehaved) or
 * local_fault (our side ran out of something). No work is chained with
 * event_active(): an immediate result is delivered through a zero-length
 * timer, so the event loop always gets back to its timers and signals.
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

#include "conn.h"
#include "corpus.h"
#include "coverage.h"
#include "diag.h"
#include "record.h"
#include "stats.h"
#include "util.h"

#define POLL_MIN_US	200	/* first recheck of an unacked fragment */
#define POLL_MAX_US	20000	/* rechecks back off to this */
#define READ_BUDGET	8	/* reads per wake-up, so one talker cannot starve the rest */
#define READ_POLL_MIN_US 20	/* read pacing: first re-ask after an unread reply */
#define READ_POLL_MAX_US 2000	/* ... backing off to this */
#define READ_BACKOFF_MAX_US 20000	/* ... or to this for a slow reader */
#define LOOKUP_LOST_US	20000	/* a lookup with no reply by then is asked again */
#define VERIFY_EVERY	8	/* ack and cycle: one fragment in 8 is verified */
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24	/* <linux/in.h>; clashes with netinet/in.h */
#endif

static const char *state_names[CONN__COUNT] = {
	[CONN_IDLE] = "idle",
	[CONN_CONNECTING] = "connecting",
	[CONN_WAITING] = "waiting",
	[CONN_SENDING] = "sending",
	[CONN_DRAINING] = "draining",
};

static void	conn_io_read(evutil_socket_t, short, void *);
static void	conn_io_write(evutil_socket_t, short, void *);
static void	conn_io_timer(evutil_socket_t, short, void *);
static void	conn_send(struct conn *c);
static void	conn_lookup(struct conn *c);

/* Name of a state, for traces. */
const char *
conn_state_name(enum conn_state s)
{
	if (s >= CONN__COUNT)
		return "unknown";
	return state_names[s];
}

/* Does this connection pace by the global cycle? */
static int
conn_cycled(const struct conn *c)
{
	return c->env->pace == PACE_CYCLE;
}

/* The one place a connection changes state. It also keeps the cycle
 * pacer's list of waiting connections. */
static void
conn_set_state(struct conn *c, enum conn_state s)
{
	struct conn_env	*env = c->env;

	if (c->state == s)
		return;
	if (c->state == CONN_WAITING && conn_cycled(c))
		TAILQ_REMOVE(&env->waitq, c, wait_entry);
	c->state = s;
	if (s == CONN_WAITING && conn_cycled(c)) {
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
	out->state = conn_state_name(c->state);
	out->outcome = c->outcome ? c->outcome : "in-flight";
	out->start_us = c->t_start_us > start ? c->t_start_us - start : 0;
	if (c->state == CONN_IDLE && c->t_end_us > start)
		out->end_us = c->t_end_us - start;
}

/* The connection is over: close it and tell the pool. */
static void
conn_finish(struct conn *c, const char *outcome)
{
	c->outcome = outcome;
	conn_abort(c);
	c->env->done(c, c->env->arg);
}

/* The target misbehaved: report a finding, then end the connection. The
 * finding is reported while the connection still shows its last state;
 * the engine counts it once it is decided. */
static void
conn_fault(struct conn *c, enum finding_kind kind, int err, const char *phase)
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
	};

	c->outcome = finding_kind_name(kind);
	c->env->finding(c, &f, c->env->arg);
	conn_finish(c, c->outcome);
}

/* Our side ran out of something: report it, then end the connection. */
static void
conn_local(struct conn *c, const char *what, int err)
{
	c->env->stats->local_errors++;
	c->env->local_fault(c, what, err, c->env->arg);
	conn_finish(c, "local-error");
}

/* What a local connect error ran out of, or NULL if err is the target's
 * fault: only a refusal or a timeout blames the target. */
static const char *
conn_connect_local(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case ETIMEDOUT:
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
	const char	*what = conn_connect_local(err);

	if (what != NULL)
		conn_local(c, what, err);
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

/* Starts connection `index` on blob b, cut as c->plan says. */
int
conn_start(struct conn *c, uint64_t index, const struct blob *b)
{
	struct conn_env	*env = c->env;
	int		 one = 1, fd, err;
	ssize_t		 n = -1;

	c->index = index;
	c->blob = b;
	c->frag = 0;
	c->frag_off = 0;
	c->off = 0;
	c->pending_err = 0;
	c->polls = 0;
	c->ngaps = 0;
	c->local_port = 0;
	c->outcome = NULL;
	c->t_end_us = 0;
	c->gen++;
	c->cookie_known = 0;
	c->diag_waiting = 0;
	c->diag_verify = 0;
	fd = socket(env->addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		env->stats->local_errors++;
		env->local_fault(c, "file descriptors", errno, env->arg);
		return -1;
	}
	/* Without TCP_NODELAY the kernel may hold a small fragment back and
	 * merge it with the next one: the boundary would be lost. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1) {
		env->stats->local_errors++;
		env->local_fault(c, "TCP_NODELAY", errno, env->arg);
		close(fd);
		return -1;
	}
	c->fd = fd;
	if (env->src_count > 1) {
		/* Spread over 127.0.0.2 and up: each source address has its
		 * own ephemeral ports, so TIME_WAIT never runs them out.
		 * The port is still chosen at connect() time. */
		struct sockaddr_in	src = { .sin_family = AF_INET };

		src.sin_addr.s_addr = htonl(0x7f000002U +
		    (uint32_t)(index % env->src_count));
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof one);
		if (bind(fd, (struct sockaddr *)&src, sizeof src) == -1) {
			env->stats->local_errors++;
			env->local_fault(c, "a loopback source address", errno,
			    env->arg);
			conn_abort(c);
			return -1;
		}
	}
	event_assign(c->ev_read, env->base, fd, EV_READ | EV_PERSIST,
	    conn_io_read, c);
	/* Reads first: a server's close is seen before the pacer sends into
	 * it (which would only earn a reset). */
	event_priority_set(c->ev_read, 0);
	event_assign(c->ev_write, env->base, fd, EV_WRITE, conn_io_write, c);
	c->t_start_us = util_now_us();
	c->t_last_send_us = c->t_start_us;
	env->stats->conns_started++;

	if (c->plan.fastopen && c->plan.close_after > 0) {
		n = sendto(fd, b->data, c->plan.sizes[0],
		    MSG_FASTOPEN | MSG_NOSIGNAL, env->addr, env->addrlen);
		if (n == -1 && errno == EOPNOTSUPP)
			n = connect(fd, env->addr, env->addrlen);
		else
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
	} else {
		n = connect(fd, env->addr, env->addrlen);
	}
	err = errno;
	conn_set_state(c, CONN_CONNECTING);
	if (n == -1 && err != EINPROGRESS && err != EINTR) {
		const char	*what = conn_connect_local(err);

		if (what != NULL) {
			/* Our own trouble: the caller backs off. */
			env->stats->local_errors++;
			env->local_fault(c, what, err, env->arg);
			conn_abort(c);
			return -1;
		}
		/* Refused at once: reported from the loop, like any other
		 * connect result. */
		c->pending_err = err;
		conn_timer(c, 0);
		return 0;
	}
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

/* Nothing more to send: shut the write side and read until the server
 * closes, or the drain timeout passes. */
static void
conn_drain(struct conn *c)
{
	struct conn_env	*env = c->env;

	event_del(c->ev_write);
	event_del(c->ev_timer);
	if (shutdown(c->fd, SHUT_WR) == -1) {
		conn_io_failed(c, errno, "drain");
		return;
	}
	if (c->frag < c->plan.nfrags)
		env->stats->early_closes++;
	else
		env->stats->conns_completed++;
	conn_set_state(c, CONN_DRAINING);
	conn_timer(c, env->opt->drain_timeout_ms * 1000);
}

/* Least wait before fragment k. */
static uint64_t
conn_gap(const struct conn *c, uint32_t k)
{
	if (c->plan.gaps_us != NULL && k < c->plan.nfrags)
		return c->plan.gaps_us[k];
	return c->env->gap_us;
}

/* The previous fragment went out (or the connection was established):
 * wait for the pacer, or finish. */
static void
conn_wait(struct conn *c)
{
	uint64_t	gap;

	if (c->frag >= c->plan.close_after) {
		conn_drain(c);
		return;
	}
	conn_set_state(c, CONN_WAITING);
	if (conn_cycled(c)) {
		/* The engine's cycle tick calls conn_pace(); no timer. */
		event_del(c->ev_timer);
		return;
	}
	gap = conn_gap(c, c->frag);
	if (gap == 0)
		conn_pace(c);
	else
		conn_timer(c, gap);
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

/* Sends (the rest of) the current fragment with exactly one send(). */
static void
conn_send(struct conn *c)
{
	struct conn_env	*env = c->env;
	size_t		 size, left;
	ssize_t		 n;

	if (c->frag >= c->plan.close_after) {
		conn_drain(c);
		return;
	}
	if (c->frag_off == 0 && env->reports)
		conn_log_gap(c, util_now_us());
	size = c->plan.sizes[c->frag];
	left = size - c->frag_off;
	do {
		n = send(c->fd, c->blob->data + c->off, left,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			conn_wait_room(c);
			return;
		}
		conn_io_failed(c, errno, "send");
		return;
	}
	env->stats->bytes += (uint64_t)n;
	c->off += (size_t)n;
	c->frag_off += (size_t)n;
	if ((size_t)n < left) {
		/* The kernel took part: the rest goes when there is room. */
		conn_wait_room(c);
		return;
	}
	conn_fragment_done(c);
	if (env->diag != NULL && env->pace != PACE_READ && c->frag >= 2 &&
	    env->stats->fragments % VERIFY_EVERY == 0 && !c->diag_verify) {
		c->diag_verify = 1;
		c->verify_size = (uint32_t)size;
		conn_lookup(c);
	}
	conn_wait(c);
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

/* v within [lo, hi]. */
static uint64_t
clamp_us(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Still no sign the server read everything: count it, maybe call it a
 * hang, else check again after a backoff. */
static void
conn_not_ready(struct conn *c, uint64_t first_us, uint64_t max_us)
{
	struct conn_env	*env = c->env;
	uint64_t	 now = util_now_us(), wait = first_us;

	env->stats->not_ready++;
	if (env->opt->hang_timeout_ms != 0 &&
	    now - c->t_last_send_us >= env->opt->hang_timeout_ms * 1000) {
		conn_fault(c, FINDING_HANG, 0, "send");
		return;
	}
	if (conn_cycled(c))
		return;
	for (unsigned i = 0; i < c->polls && wait < max_us; i++)
		wait *= 2;
	if (wait > max_us)
		wait = max_us;
	c->polls++;
	conn_timer(c, wait);
}

/* A sock_diag reply about this connection's server end. */
void
conn_diag(struct conn *c, const struct diag_reply *r)
{
	struct conn_env	*env = c->env;

	if (r->found && !c->cookie_known) {
		c->cookie[0] = r->cookie[0];
		c->cookie[1] = r->cookie[1];
		c->cookie_known = 1;
	}
	if (c->diag_verify) {
		/* Fidelity sample: right after fragment k went out, only k
		 * (or nothing) may wait unread if k-1 was read on its own. */
		c->diag_verify = 0;
		if (r->found) {
			/* After the last fragment our FIN follows at once, and
			 * in CLOSE_WAIT it counts as one unread byte. */
			uint32_t	fin = r->state == TCP_CLOSE_WAIT;

			env->stats->fid_checked++;
			env->stats->fid_ok += r->rqueue <= c->verify_size + fin;
		}
		return;
	}
	if (!c->diag_waiting || c->state != CONN_WAITING)
		return;
	c->diag_waiting = 0;
	if (!r->found) {
		/* The server's end is gone: what we send next will tell
		 * (a reset, or its close). */
		env->stats->fid_checked++;
		conn_send(c);
		return;
	}
	/* Read means: everything sent has arrived, and none waits unread. */
	if (diag_all_read(r, c->off)) {
		/* How long the server takes to read, on average: re-asks
		 * are spaced by it, so a slow reader is not asked in vain
		 * dozens of times per fragment. */
		uint64_t	took = util_now_us() - c->t_last_send_us;

		env->read_us = env->read_us == 0 ? took :
		    (env->read_us * 7 + took) / 8;
		env->stats->ready++;
		env->stats->fid_checked++;
		env->stats->fid_ok++;
		conn_send(c);
		return;
	}
	conn_not_ready(c, clamp_us(env->read_us / 8, READ_POLL_MIN_US,
	    READ_POLL_MAX_US), clamp_us(env->read_us / 4, READ_POLL_MAX_US,
	    READ_BACKOFF_MAX_US));
}

/* Pacing check for a waiting connection. In read pacing: ask sock_diag
 * whether the server has read everything. Otherwise: send the next
 * fragment if all sent so far is acknowledged (nothing unacked, nothing
 * unsent: a server that stops reading closes its window and data stays
 * unsent), else count it and maybe call it a hang. */
void
conn_pace(struct conn *c)
{
	struct conn_env	*env = c->env;
	int		 err = 0, outq;

	if (c->state != CONN_WAITING)
		return;
	if (env->pace == PACE_READ && env->diag != NULL) {
		/* A reply comes within this loop iteration; the timer only
		 * covers a reply the kernel dropped. */
		c->diag_waiting = 1;
		conn_lookup(c);
		conn_timer(c, LOOKUP_LOST_US);
		return;
	}
	outq = conn_outq(c, &err);
	if (outq == -1) {
		conn_io_failed(c, err, "send");
		return;
	}
	if (outq == 0) {
		env->stats->ready++;
		conn_send(c);
		return;
	}
	conn_not_ready(c, POLL_MIN_US, POLL_MAX_US);
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

/* Connect finished (or failed): check how, then start sending. */
static void
conn_connected(struct conn *c)
{
	struct conn_env	*env = c->env;
	int		 err = c->pending_err;
	socklen_t	 len = sizeof err;
	uint64_t	 cycle_us, dt, cycles;

	if (err == 0 &&
	    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		conn_connect_failed(c, err);
		return;
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

		if (getsockname(c->fd, (struct sockaddr *)&c->local, &sl) == 0)
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
			return;
		}
		conn_fragment_done(c);
		conn_wait(c);
		return;
	}
	c->t_last_send_us = c->t_established_us;
	if (c->frag >= c->plan.close_after) {
		conn_drain(c);
		return;
	}
	conn_set_state(c, CONN_WAITING);
	if (conn_cycled(c))
		return;		/* the first fragment goes at the next tick */
	if (conn_gap(c, 0) == 0 || c->plan.gaps_us == NULL)
		conn_send(c);	/* nothing to wait for before the first */
	else
		conn_timer(c, conn_gap(c, 0));
}

/* The socket is writable: a connect completed, or there is room again. */
static void
conn_io_write(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)what;
	switch (c->state) {
	case CONN_CONNECTING:
		conn_connected(c);
		break;
	case CONN_SENDING:
		event_del(c->ev_timer);
		conn_send(c);
		break;
	default:
		break;
	}
}

/* The timer fired: what it means depends on the state. */
static void
conn_io_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	int		 err = 0;

	(void)fd;
	(void)what;
	switch (c->state) {
	case CONN_CONNECTING:
		if (c->pending_err != 0)
			conn_connected(c);
		else
			conn_fault(c, FINDING_CONNECT_TIMEOUT, ETIMEDOUT,
			    "connect");
		break;
	case CONN_WAITING:
		conn_pace(c);
		break;
	case CONN_SENDING:
		conn_fault(c, FINDING_HANG, 0, "send");
		break;
	case CONN_DRAINING:
		/* Data the server never acknowledged: it stopped reading. */
		if (conn_outq(c, &err) > 0) {
			conn_fault(c, FINDING_HANG, 0, "drain");
			break;
		}
		c->env->stats->drain_timeouts++;
		conn_finish(c, "drain-timeout");
		break;
	default:
		break;
	}
}

/* The server sent something (or closed): read it and drop it. */
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
			if ((size_t)n < env->scratch_len)
				return;		/* drained for now */
			continue;
		}
		if (n == 0) {
			if (c->state == CONN_DRAINING) {
				conn_finish(c, c->frag < c->plan.nfrags ?
				    "early-close" : "completed");
			} else {
				env->stats->peer_closed++;
				conn_finish(c, "peer-closed");
			}
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
