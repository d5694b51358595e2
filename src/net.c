/* Target addresses: resolution and choosing the one that answers. */
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "util.h"

/* Formats a socket address as "[v6]:port" or "v4:port". */
void
net_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char	host[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6	*s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
		snprintf(buf, len, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in	*s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
		snprintf(buf, len, "%s:%u", host, ntohs(s4->sin_port));
	} else {
		snprintf(buf, len, "(family %d)", sa->sa_family);
	}
}

/* Is sa a loopback address? */
static int
net_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in	*s4 = (const void *)sa;

		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6	*s6 = (const void *)sa;

		return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) &&
		    s6->sin6_addr.s6_addr[12] == 127);
	}
	return 0;
}

/* Does something accept connections at sa within timeout_ms? */
static int
net_probe(const struct sockaddr *sa, socklen_t salen, uint64_t timeout_ms)
{
	struct pollfd	pfd;
	int		fd, err = 0, rc;
	socklen_t	len = sizeof err;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return 0;
	rc = connect(fd, sa, salen);
	if (rc == -1 && errno != EINPROGRESS) {
		close(fd);
		return 0;
	}
	if (rc == -1) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do {
			rc = poll(&pfd, 1, (int)timeout_ms);
		} while (rc == -1 && errno == EINTR);
		if (rc != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
		    err != 0) {
			close(fd);
			return 0;
		}
	}
	close(fd);
	return 1;
}

/* Does the target accept a connection within timeout_ms? */
int
net_alive(const struct net_target *t, uint64_t timeout_ms)
{
	return net_probe((const struct sockaddr *)&t->addr, t->addrlen,
	    timeout_ms);
}

/* Resolves host and port, choosing the address that answers. */
int
net_resolve(const char *host, const char *port, uint64_t timeout_ms,
    struct net_target *t, char **cause)
{
	struct addrinfo	 hints, *res = NULL, *ai, *pick = NULL;
	int		 rc, n = 0;

	memset(&hints, 0, sizeof hints);
	/* No AI_ADDRCONFIG: it hides ::1 on machines with no global IPv6. */
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		if (rc == EAI_SERVICE)
			*cause = xasprintf("--port %s: unknown service", port);
		else if (rc == EAI_SYSTEM)
			*cause = xasprintf("--host %s: %s", host,
			    strerror(errno));
		else
			*cause = xasprintf("--host %s: %s", host,
			    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
			n++;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (pick == NULL)
			pick = ai;
		if (n > 1 && net_probe(ai->ai_addr, ai->ai_addrlen,
		    timeout_ms)) {
			pick = ai;
			t->probed = 1;
			break;
		}
	}
	if (pick == NULL) {
		freeaddrinfo(res);
		*cause = xasprintf("--host %s: no IPv4 or IPv6 address", host);
		return -1;
	}
	memcpy(&t->addr, pick->ai_addr, pick->ai_addrlen);
	t->addrlen = pick->ai_addrlen;
	t->loopback = net_is_loopback(pick->ai_addr);
	net_format(pick->ai_addr, t->text, sizeof t->text);
	freeaddrinfo(res);
	return 0;
}

/* Raises the soft fd limit to the hard one; returns the soft limit now. */
uint64_t
net_raise_fd_limit(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
}
