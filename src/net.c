/* Target addresses: resolution and choosing the one that answers. */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "net.h"
#include "util.h"

/* Formats a socket address as "[v6]:port", "v4:port" or "unix:PATH". */
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
	} else if (sa->sa_family == AF_UNIX) {
		const struct sockaddr_un	*su = (const void *)sa;

		snprintf(buf, len, "unix:%.*s", (int)sizeof su->sun_path,
		    su->sun_path);
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

/* Does something accept connections at sa within timeout_ms? If not, *err
 * says why (ETIMEDOUT when it did not answer in time). */
static int
net_probe(const struct sockaddr *sa, socklen_t salen, uint64_t timeout_ms,
    int *err)
{
	struct pollfd	pfd;
	int		fd, rc;
	socklen_t	len = sizeof *err;

	*err = 0;
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		*err = errno;
		return 0;
	}
	rc = connect(fd, sa, salen);
	if (rc == -1 && errno != EINPROGRESS) {
		*err = errno;
		close(fd);
		return 0;
	}
	if (rc == -1) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do {
			rc = poll(&pfd, 1, (int)timeout_ms);
		} while (rc == -1 && errno == EINTR);
		if (rc != 1)
			*err = rc == 0 ? ETIMEDOUT : errno;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &len) == -1)
			*err = errno;
		if (*err != 0) {
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
	int	err;

	return net_probe((const struct sockaddr *)&t->addr, t->addrlen,
	    timeout_ms, &err);
}

/* Does nothing listen at the target: a refusal, or no socket at a Unix
 * path? Returns the errno that says so, or 0 (it accepted, or the answer
 * was something else: a timeout, a full backlog, a local fault). */
int
net_nothing_listens(const struct net_target *t, uint64_t timeout_ms)
{
	int	err;

	if (net_probe((const struct sockaddr *)&t->addr, t->addrlen,
	    timeout_ms, &err))
		return 0;
	return err == ECONNREFUSED || err == ENOENT ? err : 0;
}

/* A Unix-domain stream socket at path: fits, and is a socket if it is. */
int
net_unix_target(const char *path, struct net_target *t, char **cause)
{
	struct sockaddr_un	*su = (struct sockaddr_un *)&t->addr;
	struct stat		 st;
	size_t			 n = strlen(path);

	if (n == 0) {
		*cause = xasprintf("--unix: empty path");
		return -1;
	}
	if (n >= sizeof su->sun_path) {
		*cause = xasprintf("--unix %s: %zu bytes, longer than the %zu "
		    "a socket address holds (use a shorter or relative path)",
		    path, n, sizeof su->sun_path - 1);
		return -1;
	}
	if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		*cause = xasprintf("--unix %s: %s", path, S_ISDIR(st.st_mode) ?
		    "a directory, not a socket" : "exists but is not a socket");
		return -1;
	}
	memset(t, 0, sizeof *t);
	su->sun_family = AF_UNIX;
	memcpy(su->sun_path, path, n + 1);
	t->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	t->loopback = 1;
	t->is_unix = 1;
	net_format((const struct sockaddr *)&t->addr, t->text, sizeof t->text);
	return 0;
}

/* The target as records keep it: host:port, or a Unix socket's path. */
const char *
net_record_target(const struct net_target *t)
{
	return t->is_unix ? t->text + 5 : t->text;	/* after "unix:" */
}

/* A record's target kind: "tcp" (or none) or "unix". */
int
net_target_kind(const char *kind, int *is_unix)
{
	if (kind == NULL || strcmp(kind, "tcp") == 0)
		*is_unix = 0;
	else if (strcmp(kind, "unix") == 0)
		*is_unix = 1;
	else
		return -1;
	return 0;
}

/* Is host "localhost" or a name under ".localhost" (RFC 6761 6.3)? */
int
net_is_localhost(const char *host)
{
	size_t	n = strlen(host);

	if (n > 0 && host[n - 1] == '.')	/* "localhost." is the same */
		n--;
	if (n == 9 && strncasecmp(host, "localhost", 9) == 0)
		return 1;
	return n > 10 && strncasecmp(host + n - 10, ".localhost", 10) == 0;
}

/* Is host a name under ".invalid", which never resolves (RFC 6761 6.4)? */
static int
net_is_invalid(const char *host)
{
	size_t	n = strlen(host);

	if (n > 0 && host[n - 1] == '.')
		n--;
	return (n == 7 && strncasecmp(host, "invalid", 7) == 0) ||
	    (n > 8 && strncasecmp(host + n - 8, ".invalid", 8) == 0);
}

/* Appends the IPv4 and IPv6 addresses of host and port to c. */
static int
net_lookup(const char *host, const char *port, int flags,
    struct net_addrs *c, char **cause)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	int		 rc;

	memset(&hints, 0, sizeof hints);
	/* No AI_ADDRCONFIG: it hides ::1 on machines with no global IPv6. */
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = flags;
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
	for (ai = res; ai != NULL && c->n < NET_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		memcpy(&c->addr[c->n], ai->ai_addr, ai->ai_addrlen);
		c->len[c->n++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	return 0;
}

/* Checks a port given as digits: min to 65535 (getaddrinfo would wrap
 * 99999 to 34463). A service name is left to the resolver. */
int
net_port_check(const char *port, unsigned min, char **cause)
{
	unsigned long	v = 0;
	const char	*p;

	if (*port == '\0') {
		*cause = xasprintf("empty port");
		return -1;
	}
	for (p = port; *p >= '0' && *p <= '9'; p++) {
		if (v <= 65535)
			v = v * 10 + (unsigned long)(*p - '0');
	}
	if (*p != '\0')
		return 0;
	if (v < min || v > 65535) {
		*cause = xasprintf("port %s is out of range (%u to 65535)",
		    port, min);
		return -1;
	}
	return 0;
}

/* The addresses of host and port: localhost is the loopback addresses
 * without asking the resolver (or /etc/hosts). Returns 0 or -1 with a cause. */
int
net_addresses(const char *host, const char *port, struct net_addrs *c,
    char **cause)
{
	c->n = 0;
	if (net_port_check(port, 1, cause) == -1)
		return -1;
	if (net_is_invalid(host)) {
		*cause = xasprintf("--host %s: a name under .invalid never "
		    "resolves", host);
		return -1;
	}
	if (net_is_localhost(host)) {
		if (net_lookup("::1", port, AI_NUMERICHOST, c, cause) == -1 ||
		    net_lookup("127.0.0.1", port, AI_NUMERICHOST, c,
		    cause) == -1)
			return -1;
	} else if (net_lookup(host, port, 0, c, cause) == -1) {
		return -1;
	}
	if (c->n == 0) {
		*cause = xasprintf("--host %s: no IPv4 or IPv6 address", host);
		return -1;
	}
	return 0;
}

/* Resolves host and port, choosing the address that answers. */
int
net_resolve(const char *host, const char *port, uint64_t timeout_ms,
    struct net_target *t, char **cause)
{
	struct net_addrs	 c;
	size_t			 pick = 0;
	int			 err;

	if (net_addresses(host, port, &c, cause) == -1)
		return -1;
	for (size_t i = 0; c.n > 1 && i < c.n; i++) {
		if (net_probe((const struct sockaddr *)&c.addr[i], c.len[i],
		    timeout_ms, &err)) {
			pick = i;
			t->probed = 1;
			break;
		}
	}
	memcpy(&t->addr, &c.addr[pick], c.len[pick]);
	t->addrlen = c.len[pick];
	t->loopback = net_is_loopback((const struct sockaddr *)&t->addr);
	net_format((const struct sockaddr *)&t->addr, t->text, sizeof t->text);
	return 0;
}

/* Splits "host:port" or "[v6]:port" into allocated parts. */
int
net_split_hostport(const char *text, char **host, char **port)
{
	const char	*colon, *end;

	if (text[0] == '[') {
		end = strchr(text, ']');
		if (end == NULL || end == text + 1 || end[1] != ':' ||
		    end[2] == '\0')
			return -1;
		*host = xasprintf("%.*s", (int)(end - text - 1), text + 1);
		*port = xstrdup(end + 2);
		return 0;
	}
	colon = strchr(text, ':');
	if (colon == NULL || colon == text || colon[1] == '\0' ||
	    strchr(colon + 1, ':') != NULL)	/* bare IPv6 needs brackets */
		return -1;
	*host = xasprintf("%.*s", (int)(colon - text), text);
	*port = xstrdup(colon + 1);
	return 0;
}

/* Advice for a local fault (errno), for the message that reports it. */
const char *
net_fault_advice(int err)
{
	switch (err) {
	case EMFILE:
	case ENFILE:
		return "lower --num-conns or raise the fd limit (ulimit -n)";
	case EADDRNOTAVAIL:
	case EADDRINUSE:
	case EAGAIN:
		return "ephemeral ports are used up (TIME_WAIT); lower "
		    "--num-conns or widen net.ipv4.ip_local_port_range";
	case ENOBUFS:
	case ENOMEM:
		return "the machine is short of memory or socket buffers; "
		    "lower --num-conns";
	default:
		return "check the network setup for this target";
	}
}

/* Advice for a local fault against a Unix socket target. */
const char *
net_unix_fault_advice(int err)
{
	if (err == EAGAIN)
		return "the server's listen backlog is full (it accepts more "
		    "slowly than we connect): backing off; lower --num-conns "
		    "or raise its backlog";
	return net_fault_advice(err);
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
