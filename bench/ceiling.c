/*
 * ceiling: the loopback ceiling for stutterfuzz's benchmark. A plain
 * client with no fuzzing logic: it keeps N connections open, and on each
 * connects, writes a 300-byte payload in 3 pieces of 100 with TCP_NODELAY,
 * waiting until each piece is acknowledged (SIOCOUTQ == 0) before the
 * next, then closes and starts again. Single-threaded, epoll, busy-polling
 * the acknowledgements. Prints "conns C fragments F" when --seconds end.
 *
 * usage: ceiling --port=P [--host=127.0.0.1] [--conns=N] [--seconds=S]
 */
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PIECES	3
#define PIECE	100

struct cl {
	int	fd;
	int	piece;		/* pieces sent */
	int	connected;
};

static struct sockaddr_in	addr;
static int			ep;
static unsigned long		conns, fragments;
static char			payload[PIECES * PIECE];

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Opens a connection in slot c. */
static void
cl_start(struct cl *c)
{
	int			one = 1;
	struct epoll_event	ev = { .events = EPOLLOUT, .data.ptr = c };

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		perror("socket");
		exit(1);
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->piece = 0;
	c->connected = 0;
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 &&
	    errno != EINPROGRESS) {
		perror("connect");
		exit(1);
	}
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	conns++;
}

/* Sends the next piece, or closes and starts over when all went. */
static void
cl_next(struct cl *c)
{
	if (c->piece == PIECES) {
		close(c->fd);
		cl_start(c);
		return;
	}
	if (send(c->fd, payload + c->piece * PIECE, PIECE, MSG_NOSIGNAL) ==
	    PIECE)
		fragments++;
	c->piece++;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'h' },
		{ "port", required_argument, NULL, 'p' },
		{ "conns", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char		*host = "127.0.0.1";
	int			 port = 0, n = 100, opt;
	double			 seconds = 10, end;
	struct cl		*cls;
	struct epoll_event	*evs;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		default: return 2;
		}
	}
	if (port <= 0 || n <= 0 || inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		fprintf(stderr, "usage: ceiling --port=P [--host=IPv4] "
		    "[--conns=N] [--seconds=S]\n");
		return 2;
	}
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	memset(payload, 'c', sizeof payload);
	ep = epoll_create1(0);
	cls = calloc((size_t)n, sizeof *cls);
	evs = calloc((size_t)n, sizeof *evs);
	for (int i = 0; i < n; i++)
		cl_start(&cls[i]);
	end = now() + seconds;
	while (now() < end) {
		int	k = epoll_wait(ep, evs, n, 0);

		for (int i = 0; i < k; i++) {
			struct cl		*c = evs[i].data.ptr;
			struct epoll_event	 ev = { .events = 0, .data.ptr = c };

			/* Connected: stop watching for writability. */
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			c->connected = 1;
			cl_next(c);
		}
		/* Busy-poll the acknowledgements: the fastest possible. */
		for (int i = 0; i < n; i++) {
			int	outq;

			if (!cls[i].connected)
				continue;
			if (ioctl(cls[i].fd, SIOCOUTQ, &outq) == 0 && outq == 0)
				cl_next(&cls[i]);
		}
	}
	printf("conns %lu fragments %lu\n", conns, fragments);
	return 0;
}
