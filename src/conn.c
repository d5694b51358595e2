/*
 * One connection: an explicit state machine that connects, sends its blob one
 * fragment per send() as its plan says, and closes.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "corpus.h"
#include "stats.h"
#include "util.h"

#define POLL_MIN_US	200	/* first recheck of an unacked fragment */
#define POLL_MAX_US	20000	/* rechecks back off to this */
#define READ_BUDGET	8	/* reads per wake-up, so one talker cannot starve the rest */

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

/* Name of a state, for traces. */
const char *
conn_state_name(enum conn_state s)
{
	if (s >= CONN__COUNT)
		return "unknown";
	return state_names[s];
}

/* The one place a connection changes state. */
static void
conn_set_state(struct conn *c, enum conn_state s)
{
	c->state = s;
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
	}
	conn_set_state(c, CONN_IDLE);
}

/* Closes whatever is open and frees the slot; accepts NULL. */
void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	conn_abort(c);
	if (c->ev_timer != NULL)
		event_free(c->ev_timer);
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	plan_release(&c->plan);
	free(c);
}

/* The connection is over: close it and tell the pool. */
static void
conn_finish(struct conn *c)
{
	conn_abort(c);
	c->env->done(c, c->env->arg);
}

/* The target misbehaved: report a finding, then end the connection. */
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
	};

	c->env->stats->findings[kind]++;
	conn_abort(c);
	c->env->finding(c, &f, c->env->arg);
	c->env->done(c, c->env->arg);
}

/* Our side ran out of something: report it, then end the connection. */
static void
conn_local(struct conn *c, const char *what, int err)
{
	c->env->stats->local_errors++;
	conn_abort(c);
	c->env->local_fault(c, what, err, c->env->arg);
	c->env->done(c, c->env->arg);
}

/* Is err our own trouble rather than the target's? */
static int
conn_err_is_local(int err)
{
	switch (err) {
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
	case EADDRNOTAVAIL:
	case EADDRINUSE:
	case EAGAIN:
		return 1;
	}
	return 0;
}

/* A connect attempt failed with err. */
static void
conn_connect_failed(struct conn *c, int err)
{
	if (conn_err_is_local(err)) {
		conn_local(c, err == EADDRNOTAVAIL || err == EADDRINUSE ||
		    err == EAGAIN ? "local ports" : "connect", err);
		return;
	}
	if (err == ETIMEDOUT)
		conn_fault(c, FINDING_CONNECT_TIMEOUT, err, "connect");
	else
		conn_fault(c, FINDING_REFUSED, err, "connect");
}

/* A send or read failed with err. */
static void
conn_io_failed(struct conn *c, int err, const char *phase)
{
	if (err == ENOBUFS || err == ENOMEM) {
		conn_local(c, "socket buffers", err);
		return;
	}
	if (err == ETIMEDOUT)
		conn_fault(c, FINDING_HANG, err, phase);
	else
		conn_fault(c, FINDING_RESET, err, phase);
}

/* Starts connection `index` on blob b. */
int
conn_start(struct conn *c, uint64_t index, const struct blob *b)
{
	struct conn_env	*env = c->env;
	int		 one = 1, fd;
	ssize_t		 n = -1;

	c->index = index;
	c->blob = b;
	c->frag = 0;
	c->frag_off = 0;
	c->off = 0;
	c->pending_err = 0;
	c->polls = 0;
	if (plan_make(&c->plan, env->seed, index, b->len, &env->opt->plan)
	    == -1) {
		env->stats->local_errors++;
		env->local_fault(c, "memory for a plan", errno, env->arg);
		return -1;
	}
	fd = socket(env->addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		env->stats->local_errors++;
		env->local_fault(c, "sockets", errno, env->arg);
		return -1;
	}
	c->fd = fd;
	/* Without TCP_NODELAY the kernel may hold a small fragment back and
	 * merge it with the next one: the boundary would be lost. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1) {
		env->stats->local_errors++;
		env->local_fault(c, "TCP_NODELAY", errno, env->arg);
		conn_abort(c);
		return -1;
	}
	event_assign(c->ev_read, env->base, fd, EV_READ | EV_PERSIST,
	    conn_io_read, c);
	event_assign(c->ev_write, env->base, fd, EV_WRITE, conn_io_write, c);
	c->t_start_us = util_now_us();
	env->stats->conns_started++;
	conn_set_state(c, CONN_CONNECTING);

	if (c->plan.fastopen && c->plan.close_after > 0) {
		env->stats->fastopens++;
		n = sendto(fd, b->data, c->plan.sizes[0],
		    MSG_FASTOPEN | MSG_NOSIGNAL, env->addr, env->addrlen);
		if (n >= 0) {
			/* Only what the kernel took counts as sent; the rest
			 * of the fragment follows once connected. */
			c->frag_off = (size_t)n;
			c->off = (size_t)n;
			if (n > 0) {
				env->stats->bytes += (uint64_t)n;
				env->stats->sends++;
			}
		} else if (errno == EOPNOTSUPP) {
			n = connect(fd, env->addr, env->addrlen);
		}
	} else {
		n = connect(fd, env->addr, env->addrlen);
	}
	if (n == -1 && errno != EINPROGRESS && errno != EINTR)
		c->pending_err = errno;
	/* Every outcome, even an immediate one, goes through conn_io_write,
	 * so connect results are handled in one place. */
	if (c->pending_err != 0)
		event_active(c->ev_write, EV_WRITE, 0);
	else
		event_add(c->ev_write, NULL);
	conn_timer(c, env->opt->connect_timeout_ms * 1000);
	return 0;
}

/* Moves to the next fragment once the current one was fully taken. */
static void
conn_fragment_done(struct conn *c)
{
	struct conn_env	*env = c->env;

	c->frag++;
	c->frag_off = 0;
	c->polls = 0;
	c->t_last_send_us = util_now_us();
	env->stats->fragments++;
}

/* Nothing more to send: shut the write side and read until the server
 * closes, or the drain timeout passes. */
static void
conn_drain(struct conn *c)
{
	struct conn_env	*env = c->env;

	if (c->frag < c->plan.nfrags)
		env->stats->early_closes++;
	else
		env->stats->conns_completed++;
	event_del(c->ev_write);
	event_del(c->ev_timer);
	if (shutdown(c->fd, SHUT_WR) == -1) {
		conn_io_failed(c, errno, "drain");
		return;
	}
	conn_set_state(c, CONN_DRAINING);
	conn_timer(c, env->opt->drain_timeout_ms * 1000);
}

/* The fragment just went out: wait for the pacer, or finish. */
static void
conn_wait(struct conn *c)
{
	struct conn_env	*env = c->env;

	if (c->frag >= c->plan.close_after) {
		conn_drain(c);
		return;
	}
	conn_set_state(c, CONN_WAITING);
	if (env->opt->pace == PACE_ACK)
		conn_timer(c, env->opt->gap_us);
	/* PACE_CYCLE: the engine's cycle tick calls conn_pace(). */
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
	env->stats->sends++;
	env->stats->bytes += (uint64_t)n;
	c->off += (size_t)n;
	c->frag_off += (size_t)n;
	if ((size_t)n < left) {
		/* The kernel took part: the rest goes when there is room. */
		conn_wait_room(c);
		return;
	}
	conn_fragment_done(c);
	conn_wait(c);
}

/* Is everything we sent acknowledged? (TCP_INFO, as the original did.) */
static int
conn_acked(struct conn *c, int *err)
{
	struct tcp_info	ti;
	socklen_t	len = sizeof ti;

	if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1) {
		*err = errno;
		return -1;
	}
	return ti.tcpi_unacked == 0;
}

/* Pacing check for a waiting connection: send the next fragment if the last
 * one was acknowledged, else count it and maybe call it a hang. */
void
conn_pace(struct conn *c)
{
	struct conn_env	*env = c->env;
	int		 err = 0, acked;
	uint64_t	 now;

	if (c->state != CONN_WAITING)
		return;
	acked = conn_acked(c, &err);
	if (acked == -1) {
		conn_io_failed(c, err, "send");
		return;
	}
	if (acked) {
		env->stats->ready++;
		conn_send(c);
		return;
	}
	env->stats->not_ready++;
	now = util_now_us();
	if (env->opt->hang_timeout_ms != 0 &&
	    now - c->t_last_send_us >= env->opt->hang_timeout_ms * 1000) {
		conn_fault(c, FINDING_HANG, 0, "send");
		return;
	}
	if (env->opt->pace == PACE_ACK) {
		uint64_t	wait = POLL_MIN_US;

		for (unsigned i = 0; i < c->polls && wait < POLL_MAX_US; i++)
			wait *= 2;
		if (wait > POLL_MAX_US)
			wait = POLL_MAX_US;
		c->polls++;
		conn_timer(c, wait);
	}
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
	event_add(c->ev_read, NULL);
	c->t_last_send_us = c->t_established_us;

	if (c->frag_off > 0) {
		/* Fast open carried part or all of fragment 0. */
		if (c->frag_off < c->plan.sizes[0]) {
			conn_send(c);
			return;
		}
		conn_fragment_done(c);
	}
	if (c->frag >= c->plan.close_after) {
		conn_drain(c);
		return;
	}
	conn_set_state(c, CONN_WAITING);
	if (env->opt->pace == PACE_ACK) {
		if (c->frag == 0)
			conn_send(c);
		else
			conn_timer(c, env->opt->gap_us);
	}
	/* PACE_CYCLE: the first fragment goes at the next tick. */
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

	(void)fd;
	(void)what;
	switch (c->state) {
	case CONN_CONNECTING:
		conn_fault(c, FINDING_CONNECT_TIMEOUT, ETIMEDOUT, "connect");
		break;
	case CONN_WAITING:
		conn_pace(c);
		break;
	case CONN_SENDING:
		conn_fault(c, FINDING_HANG, 0, "send");
		break;
	case CONN_DRAINING:
		c->env->stats->drain_timeouts++;
		conn_finish(c);
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

		if (n > 0)
			continue;
		if (n == 0) {
			if (c->state != CONN_DRAINING)
				env->stats->peer_closed++;
			conn_finish(c);
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
