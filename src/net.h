/* Target addresses: resolution and choosing the one that answers. */
#ifndef STUTTERFUZZ_NET_H
#define STUTTERFUZZ_NET_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

struct net_target {
	struct sockaddr_storage	addr;
	socklen_t		addrlen;
	char			text[64];	/* "[::1]:6789" or "127.0.0.1:6789" */
	int			loopback;
	int			probed;		/* several addresses: one answered */
};

/* Resolves host and port (a number or a service name). When the name has
 * several addresses, the first that accepts a connection within timeout_ms
 * is chosen (else the first). Returns 0, or -1 with an allocated *cause. */
int	net_resolve(const char *host, const char *port, uint64_t timeout_ms,
	    struct net_target *t, char **cause);

/* Does the target accept a connection within timeout_ms? */
int	net_alive(const struct net_target *t, uint64_t timeout_ms);

/* Formats a socket address as "[v6]:port" or "v4:port". */
void	net_format(const struct sockaddr *sa, char *buf, size_t len);

/* Raises the soft fd limit to the hard one; returns the soft limit now. */
uint64_t net_raise_fd_limit(void);

#endif
