/* Read confirmation through NETLINK_SOCK_DIAG (inet_diag). */
#include <sys/socket.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "util.h"

#define DIAG_BATCH	512	/* queries per send(); their replies fit the buffer */
#define DIAG_RCVBUF	(4 << 20)
#define GEN_BITS	12

struct diag_msg {
	struct nlmsghdr		h;
	struct inet_diag_req_v2	r;
};

struct diag {
	int		 fd;
	diag_reply_fn	 fn;
	void		*arg;
	struct diag_msg	*queue;
	size_t		 n;
	size_t		 cap;
	unsigned char	*buf;		/* replies */
	size_t		 buflen;
};

/* Opens the netlink socket. */
struct diag *
diag_new(size_t max_slots, diag_reply_fn fn, void *arg, char **cause)
{
	struct diag	*d;
	int		 fd, size = DIAG_RCVBUF;

	if (max_slots >= (1U << (32 - GEN_BITS))) {
		*cause = xasprintf("too many connections for sock_diag");
		return NULL;
	}
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG);
	if (fd == -1) {
		*cause = xasprintf("NETLINK_SOCK_DIAG: %s", strerror(errno));
		return NULL;
	}
	/* Room for the replies of a whole batch: the kernel drops what does
	 * not fit, with a single ENOBUFS. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size)
	    == -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	d = xcalloc(1, sizeof *d);
	d->fd = fd;
	d->fn = fn;
	d->arg = arg;
	d->buflen = 1 << 16;
	d->buf = xmalloc(d->buflen);
	return d;
}

/* Closes the netlink socket and frees; accepts NULL. */
void
diag_free(struct diag *d)
{
	if (d == NULL)
		return;
	close(d->fd);
	free(d->queue);
	free(d->buf);
	free(d);
}

/* Queues a lookup of the server end of a connection. */
void
diag_query(struct diag *d, uint32_t slot, uint32_t gen,
    const struct sockaddr *local, const struct sockaddr *server,
    const uint32_t cookie[2])
{
	struct diag_msg	*q;

	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 256;
		d->queue = xreallocarray(d->queue, d->cap, sizeof *d->queue);
	}
	q = &d->queue[d->n++];
	memset(q, 0, sizeof *q);
	q->h.nlmsg_len = sizeof *q;
	q->h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q->h.nlmsg_flags = NLM_F_REQUEST;	/* one socket, not a dump */
	q->h.nlmsg_seq = slot << GEN_BITS | (gen & ((1U << GEN_BITS) - 1));
	q->r.sdiag_family = server->sa_family;
	q->r.sdiag_protocol = IPPROTO_TCP;
	q->r.idiag_ext = 1 << (INET_DIAG_INFO - 1);
	/* The server's socket: its local end is the server address, its
	 * remote end is ours. Ports stay in network order. */
	if (server->sa_family == AF_INET) {
		const struct sockaddr_in	*s = (const void *)server;
		const struct sockaddr_in	*c = (const void *)local;

		q->r.id.idiag_sport = s->sin_port;
		q->r.id.idiag_dport = c->sin_port;
		q->r.id.idiag_src[0] = s->sin_addr.s_addr;
		q->r.id.idiag_dst[0] = c->sin_addr.s_addr;
	} else {
		const struct sockaddr_in6	*s = (const void *)server;
		const struct sockaddr_in6	*c = (const void *)local;

		q->r.id.idiag_sport = s->sin6_port;
		q->r.id.idiag_dport = c->sin6_port;
		memcpy(q->r.id.idiag_src, &s->sin6_addr, 16);
		memcpy(q->r.id.idiag_dst, &c->sin6_addr, 16);
	}
	q->r.id.idiag_cookie[0] = cookie ? cookie[0] : INET_DIAG_NOCOOKIE;
	q->r.id.idiag_cookie[1] = cookie ? cookie[1] : INET_DIAG_NOCOOKIE;
}

/* The read-pacing decision. */
int
diag_all_read(const struct diag_reply *r, uint64_t sent)
{
	return r->found && r->received >= sent && r->rqueue == 0;
}

/* Parses one netlink message into r. */
int
diag_parse(const void *msg, size_t len, struct diag_reply *r)
{
	const struct nlmsghdr		*h = msg;
	const struct inet_diag_msg	*m;
	const unsigned char		*p, *end;

	if (len < sizeof *h || h->nlmsg_len < sizeof *h || h->nlmsg_len > len)
		return -1;
	memset(r, 0, sizeof *r);
	r->slot = h->nlmsg_seq >> GEN_BITS;
	r->gen = h->nlmsg_seq & ((1U << GEN_BITS) - 1);
	if (h->nlmsg_type == NLMSG_ERROR) {
		/* ENOENT: the socket is gone, or the cookie no longer
		 * matches: either way, nothing waits there. */
		r->found = 0;
		return 1;
	}
	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return 0;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof *m))
		return -1;
	m = NLMSG_DATA(h);
	r->found = m->idiag_state != 10;	/* TCP_LISTEN: the wrong socket */
	r->state = m->idiag_state;
	r->rqueue = m->idiag_rqueue;
	r->cookie[0] = m->id.idiag_cookie[0];
	r->cookie[1] = m->id.idiag_cookie[1];
	p = (const unsigned char *)m + NLMSG_ALIGN(sizeof *m);
	end = (const unsigned char *)h + h->nlmsg_len;
	while (p + sizeof(struct nlattr) <= end) {
		const struct nlattr	*a = (const void *)p;

		if (a->nla_len < sizeof *a || p + a->nla_len > end)
			return -1;
		if ((a->nla_type & NLA_TYPE_MASK) == INET_DIAG_INFO &&
		    a->nla_len >= NLA_HDRLEN +
		    offsetof(struct tcp_info, tcpi_bytes_received) + 8) {
			/* Attributes are 4-byte aligned, tcp_info wants 8:
			 * copy the field out by its offset. */
			memcpy(&r->received, p + NLA_HDRLEN +
			    offsetof(struct tcp_info, tcpi_bytes_received),
			    sizeof r->received);
		}
		p += NLA_ALIGN(a->nla_len);
	}
	return 1;
}

/* Sends the queued queries and hands every reply to the callback. */
int
diag_flush(struct diag *d)
{
	size_t	sent = 0;

	while (sent < d->n) {
		size_t	batch = d->n - sent > DIAG_BATCH ? DIAG_BATCH :
			    d->n - sent;
		ssize_t	n;

		do {
			n = send(d->fd, &d->queue[sent], batch *
			    sizeof *d->queue, 0);
		} while (n == -1 && errno == EINTR);
		if (n == -1) {
			d->n = 0;
			return -1;
		}
		sent += batch;
		/* The kernel answers within send(): every reply is queued. */
		for (;;) {
			struct diag_reply	 r;
			unsigned char		*p = d->buf;
			ssize_t			 got;

			got = recv(d->fd, d->buf, d->buflen, MSG_DONTWAIT);
			if (got == -1 && errno == EINTR)
				continue;
			if (got == -1 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK))
				break;
			if (got == -1 && errno == ENOBUFS)
				continue;	/* some replies lost: re-asked */
			if (got <= 0) {
				d->n = 0;
				return -1;
			}
			while ((size_t)got >= sizeof(struct nlmsghdr)) {
				const struct nlmsghdr	*h = (const void *)p;

				if (h->nlmsg_len < sizeof *h ||
				    h->nlmsg_len > (size_t)got)
					break;
				if (diag_parse(p, (size_t)got, &r) == 1)
					d->fn(d->arg, &r);
				got -= NLMSG_ALIGN(h->nlmsg_len);
				p += NLMSG_ALIGN(h->nlmsg_len);
			}
		}
	}
	d->n = 0;
	return 0;
}
