/*
 * exampled: the example server that `make demo` fuzzes.
 *
 * A small line server: it reads requests, splits them into lines at "\n",
 * and answers every line with "OK <length>\r\n". It counts connections,
 * reads and lines, and prints them when it gets SIGTERM or SIGINT.
 *
 * --bug=crlf plants the kind of bug stutterfuzz exists to find: the server
 * aborts when a "\r\n" arrives cut in two, "\r" at the end of one read and
 * "\n" at the start of the next. A request sent in one piece never shows it.
 *
 * usage: exampled [--port-file=FILE] [--bind=ADDR] [--port=N] [--bug=crlf]
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_LEN	8192

struct client {
	int	fd;
	int	last_was_cr;	/* the previous read ended in '\r' */
	size_t	line_len;
};

static volatile sig_atomic_t stop;
static unsigned long conns, reads, lines, bytes;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
fatal(const char *what)
{
	fprintf(stderr, "exampled: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Reads what the client sent; answers each complete line. */
static int
client_read(struct client *c, int bug)
{
	char	buf[4096], reply[64];
	ssize_t	n = read(c->fd, buf, sizeof buf);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	reads++;
	bytes += (unsigned long)n;
	if (bug && c->last_was_cr && buf[0] == '\n') {
		fprintf(stderr, "exampled: a \\r\\n arrived cut in two; "
		    "the planted bug aborts now\n");
		abort();
	}
	c->last_was_cr = buf[n - 1] == '\r';
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			if (++c->line_len > LINE_MAX_LEN)
				return -1;	/* line too long: hang up */
			continue;
		}
		lines++;
		int len = snprintf(reply, sizeof reply, "OK %zu\r\n",
		    c->line_len);
		if (write(c->fd, reply, (size_t)len) < 0 && errno != EAGAIN)
			return -1;
		c->line_len = 0;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port-file", required_argument, NULL, 'f' },
		{ "bind", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ "bug", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	const char		*port_file = NULL, *bind_addr = "127.0.0.1";
	unsigned		 port = 0;
	int			 bug = 0, opt, lfd, ep, one = 1;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	struct epoll_event	 ev, evs[128];
	struct sigaction	 sa;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f': port_file = optarg; break;
		case 'b': bind_addr = optarg; break;
		case 'p': port = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'B':
			if (strcmp(optarg, "crlf") != 0) {
				fprintf(stderr, "exampled: --bug=crlf only\n");
				return 2;
			}
			bug = 1;
			break;
		default:
			fprintf(stderr, "usage: exampled [--port-file=FILE] "
			    "[--bind=ADDR] [--port=N] [--bug=crlf]\n");
			return 2;
		}
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, bind_addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "exampled: --bind takes an IPv4 address\n");
		return 2;
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		fatal("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) < 0)
		fatal("bind");
	if (listen(lfd, 1024) < 0)
		fatal("listen");
	getsockname(lfd, (struct sockaddr *)&sin, &len);
	if (port_file != NULL) {
		FILE	*f = fopen(port_file, "w");

		if (f == NULL)
			fatal(port_file);
		fprintf(f, "%u\n", ntohs(sin.sin_port));
		fclose(f);
	}
	fprintf(stderr, "exampled: listening on %s:%u%s\n", bind_addr,
	    ntohs(sin.sin_port), bug ? " (with the planted crlf bug)" : "");

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		fatal("epoll_create1");
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	while (!stop) {
		int	n = epoll_wait(ep, evs, 128, 500);

		for (int i = 0; i < n; i++) {
			struct client	*c = evs[i].data.ptr;

			if (c == NULL) {
				int	fd;

				while ((fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					c = calloc(1, sizeof *c);
					if (c == NULL)
						fatal("calloc");
					c->fd = fd;
					conns++;
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			if (client_read(c, bug) < 0) {
				close(c->fd);
				free(c);
			}
		}
	}
	fprintf(stderr, "exampled: %lu connections, %lu reads, %lu lines, "
	    "%lu bytes\n", conns, reads, lines, bytes);
	return 0;
}
