/*
 * The proxy: accepts connections on a listening socket and, for each, opens
 * one to the server and forwards both ways until both sides are done. A
 * side's EOF is passed on as a half-close (shutdown(SHUT_WR)), a reset as a
 * reset (SO_LINGER 0, then close). Each direction buffers at most a bounded
 * number of bytes: while a side's peer has a full buffer the side is not
 * read, so a slow reader slows its writer.
 *
 * With cutting, the client's bytes go to the server in pieces: each chunk
 * the client has sent is cut by the split plan (a pure function of the seed,
 * the proxied connection's index and the chunk's number and bytes), one
 * send() per piece with TCP_NODELAY, and the next piece waits until the
 * server has read the last (sock_diag on the proxy-to-server connection),
 * or, without sock_diag, until it is acknowledged. Toward a Unix-domain
 * stream socket, SIOCOUTQ on the proxy's end counts what the server has not
 * read yet: 0 means it read every piece sent, in both pacings.
 *
 * Either side may be TCP or a Unix-domain stream socket. A finding the hook
 * wants held (a supervised target may just have died) waits, copied, until
 * proxy_unhold decides it, or the hold time passes and the hook is asked
 * again.
 *
 * The module never prints: findings, finished connections, local faults
 * and streams to keep go to the hooks.
 */
#ifndef STUTTERFUZZ_PROXY_H
#define STUTTERFUZZ_PROXY_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "options.h"
#include "plan.h"
#include "stats.h"

#define PROXY_BUF_DEFAULT	(256U * 1024)	/* bytes buffered per direction */
#define PROXY_KEEP_DEFAULT	(1024U * 1024)	/* bytes kept per stream */
#define PROXY_MAX_CONNS_DEFAULT	1024		/* proxied connections at once */
#define PROXY_RECENT		8	/* finished connections kept as suspects */
#define PROXY_BACKLOG_FIRST_US	1000	/* Unix EAGAIN: first retry of a connect */
#define PROXY_BACKLOG_MAX_US	100000	/* ... backing off to this */

struct conn_report;
struct proxy;

struct proxy_config {
	int			 listen_fd;	/* bound and listening (proxy_listen) */
	const struct sockaddr	*to;
	socklen_t		 tolen;
	int			 loopback;	/* the server is on this machine */
	int			 cut;		/* cut the client's bytes */
	struct plan_params	 plan;		/* fast open and early close unused */
	enum pace_mode		 pace;		/* auto, read or ack */
	uint32_t		 gap_us;	/* ack pacing: least gap */
	uint64_t		 seed;
	size_t			 buf_max;	/* bytes buffered per direction */
	size_t			 keep;		/* bytes kept of each stream; 0 none */
	int			 keep_answers;	/* keep the server's answers too */
	uint32_t		 max_conns;
	uint64_t		 connect_timeout_ms;
	uint64_t		 hang_timeout_ms;	/* cut: piece unread this long; 0 off */
	uint64_t		 hold_ms;	/* a held finding waits this long at
						 * most; 0: never hold */
	uint64_t		 start_us;	/* times in reports are relative to it */
};

/* A stream ended: what the client sent (the first `keep` bytes of it) and
 * what the server answered. */
struct proxy_stream {
	uint64_t		 index;
	const unsigned char	*data;
	size_t			 len;
	size_t			 total;		/* bytes the client sent in all */
	const unsigned char	*answer;
	size_t			 alen;
	size_t			 atotal;
};

/* What the finding hook says of a finding of a connection. */
enum proxy_verdict {
	PROXY_KEEP = 0,		/* a finding: counted */
	PROXY_HOLD,		/* wait (at most hold_ms) for the target's fate,
				 * then ask again with f->held set */
	PROXY_LOST,		/* it only echoes the target's death: counted as
				 * lost_with_target, not a finding */
};

struct proxy_hooks {
	/* A finding; culprit NULL for one of the server as a whole. Returns
	 * an enum proxy_verdict (target findings are always kept). */
	int	(*finding)(void *arg, const struct finding *f,
		    const struct conn_report *culprit,
		    const struct conn_report *suspects, size_t nsuspects);
	/* A proxied connection ended (trace). */
	void	(*conn_done)(void *arg, const struct conn_report *rep);
	/* A client stream ended (record). */
	void	(*stream)(void *arg, const struct proxy_stream *st);
	/* Our side ran out of something. */
	void	(*local_fault)(void *arg, const char *what, int err);
};

struct proxy_stats {
	struct stats	s;		/* conns_started: accepted; fragments,
					 * bytes (toward the server), fidelity,
					 * findings, lost_with_target */
	uint64_t	open;		/* proxied connections now */
	uint64_t	bytes_down;	/* toward the clients */
	uint64_t	half_closes;	/* EOFs passed on as shutdown(SHUT_WR) */
	uint64_t	resets;		/* resets passed on */
	uint64_t	server_first;	/* the server closed before the client */
	uint64_t	chunks;		/* cut: chunks planned */
};

/* Binds and listens on addr. Returns the socket, or -1 with *cause naming
 * the address and the reason (in use, not permitted). */
int		 proxy_listen(const struct sockaddr *addr, socklen_t len,
		     char **cause);

/* A Unix socket file the proxy made to listen on. */
struct proxy_unix_listen {
	char		 path[sizeof ((struct sockaddr_un *)0)->sun_path];
	dev_t		 dev;
	ino_t		 ino;
	int		 made;		/* it is ours to remove */
};

/* Listens on a Unix-domain stream socket at path: a stale socket file
 * (nobody accepts on it) is replaced; one that accepts is in use. Returns
 * the socket, or -1 with *cause (too long, a directory, not a socket, in
 * use, not permitted). */
int		 proxy_listen_unix(const char *path,
		     struct proxy_unix_listen *ul, char **cause);

/* Removes the socket file proxy_listen_unix made, if it is still that one:
 * the same inode and (listen_fd, its socket, still open; -1 if not) a
 * connection to the path reaches listen_fd. Call it before the socket is
 * closed. Accepts one that made none. */
void		 proxy_unlink_unix(const struct proxy_unix_listen *ul,
		     int listen_fd);

/* Would a connection to `to` come back to the proxy listening on `listen`
 * (same port, and the same address or listen on the wildcard; for Unix
 * sockets the same path, as proxy_same_path says)? */
int		 proxy_same_endpoint(const struct sockaddr *listen,
		     const struct sockaddr *to);

/* Do two socket paths name the same file, as far as their text says
 * (empty and "." components dropped; a relative path taken from cwd, if
 * cwd is not NULL)? */
int		 proxy_same_path(const char *a, const char *b, const char *cwd);

/* Makes the proxy (not yet accepting). Takes the listening socket. */
struct proxy	*proxy_new(struct event_base *base,
		     const struct proxy_config *cfg,
		     const struct proxy_hooks *hooks, void *arg, char **cause);

/* Starts or resumes accepting connections. */
void		 proxy_resume(struct proxy *p);

/* Stops accepting (a supervised target restarts); open connections go on. */
void		 proxy_pause(struct proxy *p);

/* The server as a whole failed (a supervised target exited or reported):
 * raises a finding naming the connections in flight and just finished. */
void		 proxy_raise(struct proxy *p, enum finding_kind kind,
		     const char *detail);

/* Decides the held findings now: lost with the target (lost != 0), or
 * the hook is asked again. */
void		 proxy_unhold(struct proxy *p, int lost);

/* Ends every proxied connection (their streams still reach the hooks). */
void		 proxy_close_all(struct proxy *p);

/* The pacing in effect, and why it differs from the one asked for. */
enum pace_mode	 proxy_pace(const struct proxy *p, const char **why);

const struct proxy_stats *proxy_stats(const struct proxy *p);

/* Frees; ends open connections first. Accepts NULL. */
void		 proxy_free(struct proxy *p);

/* Pure parts, for tests. */

/* Cuts chunk number `chunk` of connection `index` (len bytes, len >= 1):
 * the plan of the split strategy, never with fast open or early close. */
int		 proxy_plan_chunk(struct plan *out, uint64_t seed,
		     uint64_t index, uint64_t chunk, const unsigned char *data,
		     size_t len, const struct plan_params *params);

/* Appends the sizes of chunk to log (the whole stream's pieces), keeping
 * log's total at most `limit` bytes (the last piece clipped). */
int		 proxy_log_append(struct plan *log, const struct plan *chunk,
		     size_t limit);

#endif
