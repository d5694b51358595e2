/*
 * Read confirmation through NETLINK_SOCK_DIAG (inet_diag): asks the kernel,
 * for a connection on this machine, how many bytes the server side has
 * received and how many still wait unread in its receive queue (what ss
 * shows as Recv-Q), looked up by the connection's 4-tuple.
 *
 * Queries are queued and sent together once per loop iteration, one
 * send() for many; replies come back in order and are matched by sequence
 * number (slot and generation of the asking connection, so a reply for a
 * connection that has since ended is dropped). The socket cookie of the
 * first reply is sent with later queries: without it, a lookup for a
 * connection the server already closed quietly answers with the listening
 * socket.
 */
#ifndef STUTTERFUZZ_DIAG_H
#define STUTTERFUZZ_DIAG_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

struct diag;

/* What the kernel said about the server's end of one connection. */
struct diag_reply {
	uint32_t	slot;		/* as given to diag_query */
	uint32_t	gen;
	int		found;		/* 0: no such socket any more */
	uint32_t	rqueue;		/* bytes received, not yet read */
	uint64_t	received;	/* bytes received in all (FIN counts 1) */
	uint32_t	cookie[2];
	int		state;		/* TCP state of the server's socket */
};

typedef void (*diag_reply_fn)(void *arg, const struct diag_reply *r);

/* Opens the netlink socket. Returns NULL with *cause where sock_diag is
 * not available. max_slots bounds the slot numbers (< 2^20). */
struct diag	*diag_new(size_t max_slots, diag_reply_fn fn, void *arg,
		     char **cause);
void		 diag_free(struct diag *d);

/* Queues a lookup of the server end of the connection from local to
 * server; cookie NULL or {~0, ~0} when not yet known. */
void		 diag_query(struct diag *d, uint32_t slot, uint32_t gen,
		     const struct sockaddr *local, const struct sockaddr *server,
		     const uint32_t cookie[2]);

/* Sends the queued queries and hands every reply to the callback.
 * Returns -1 with errno on a socket error. */
int		 diag_flush(struct diag *d);

/* The read-pacing decision: has the server read everything of the `sent`
 * bytes sent so far? (All arrived, and nothing waits unread.) */
int		 diag_all_read(const struct diag_reply *r, uint64_t sent);

/* Parses one netlink message into r (for tests with canned messages).
 * Returns 1 for a reply, 0 for a message to skip, -1 if malformed. */
int		 diag_parse(const void *msg, size_t len, struct diag_reply *r);

#endif
