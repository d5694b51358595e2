/* Target addresses: resolution and choosing the one that answers. */
#ifndef STUTTERFUZZ_NET_H
#define STUTTERFUZZ_NET_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

/* "unix:" and a sun_path's bytes, or an address and port. */
#define NET_TEXT_MAX	128

struct net_target {
	struct sockaddr_storage	addr;
	socklen_t		addrlen;
	char			text[NET_TEXT_MAX];	/* "[::1]:6789",
						 * "127.0.0.1:6789", "unix:PATH" */
	int			loopback;	/* on this machine (Unix: always) */
	int			probed;		/* several addresses: one answered */
	int			is_unix;	/* a Unix-domain stream socket */
};

#define NET_MAX_ADDRS	16

/* The addresses a name resolved to, in the resolver's order. */
struct net_addrs {
	struct sockaddr_storage	addr[NET_MAX_ADDRS];
	socklen_t		len[NET_MAX_ADDRS];
	size_t			n;
};

/* Is host "localhost" or a name under ".localhost" (RFC 6761)? */
int	net_is_localhost(const char *host);

/* The IPv4 and IPv6 addresses of host and port (a number or a service
 * name). localhost and names under .localhost are ::1 and 127.0.0.1 without
 * asking the resolver; names under .invalid fail at once (RFC 6761).
 * Returns 0, or -1 with an allocated *cause. */
int	net_addresses(const char *host, const char *port, struct net_addrs *c,
	    char **cause);

/* Splits a record's "host:port" or "[v6]:port" target into allocated
 * strings. Returns 0, or -1 when text is not of that form (empty parts, a
 * bare IPv6 address). */
int	net_split_hostport(const char *text, char **host, char **port);
int	net_port_check(const char *port, unsigned min, char **cause);

/* Advice for a local fault (an errno), for the message that reports it. */
const char *net_fault_advice(int err);

/* The same for a Unix socket target (EAGAIN: its listen backlog is full). */
const char *net_unix_fault_advice(int err);

/* Resolves host and port (a number or a service name). When the name has
 * several addresses, the first that accepts a connection within timeout_ms
 * is chosen (else the first). Returns 0, or -1 with an allocated *cause. */
int	net_resolve(const char *host, const char *port, uint64_t timeout_ms,
	    struct net_target *t, char **cause);

/* A Unix-domain stream socket at path: checks that the path fits a
 * sockaddr_un and, if it exists, is a socket (not a directory or another
 * file; a missing one is the server's business). Returns 0, or -1 with an
 * allocated *cause. */
int	net_unix_target(const char *path, struct net_target *t, char **cause);

/* The target as records keep it: "host:port", or the path of a Unix
 * socket (whose record also says "target_kind": "unix"). */
const char *net_record_target(const struct net_target *t);

/* A record's target kind ("tcp" if absent, or "unix"); -1 for another. */
int	net_target_kind(const char *kind, int *is_unix);

/* Does the target accept a connection within timeout_ms? */
int	net_alive(const struct net_target *t, uint64_t timeout_ms);

/* Does nothing listen there (a refusal, or no socket at a Unix path)?
 * The errno that says so, or 0: it accepted, or did not answer in time,
 * or the answer was a local fault (those are the run's to report). */
int	net_nothing_listens(const struct net_target *t, uint64_t timeout_ms);

/* Formats a socket address as "[v6]:port", "v4:port" or "unix:PATH". */
void	net_format(const struct sockaddr *sa, char *buf, size_t len);

/* Raises the soft fd limit to the hard one; returns the soft limit now. */
uint64_t net_raise_fd_limit(void);

#endif
