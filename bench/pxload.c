/*
 * pxload: load for the proxy benchmark (bench/proxy.sh), on loopback.
 *
 *   pxload serve --port-file=F      an epoll echo server on 127.0.0.1
 *   pxload run --port=P --conns=N --seconds=S --mode=MODE [--size=B]
 *       pingpong  each connection sends B bytes (64), waits for all of
 *                 them back, again: round trips and their mean time
 *       bulk      each connection streams B-byte writes (65536) and reads
 *                 the echo, at most 1 MiB ahead: bytes echoed per second
 *       oneshot   each connection sends B bytes (200), half-closes, reads
 *                 to EOF, and a new connection follows: connections/s
 *
 * Prints "conns N seconds S ops O mean_us U bytes B". Every run ends after
 * --seconds; the server after --max-seconds (120).
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WINDOW	(1 << 20)

struct lc {
	int		fd;
	uint64_t	sent, got;	/* this round (pingpong, oneshot) or all */
	uint64_t	t0;
	int		shut;
};

static uint64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
die(const char *what)
{
	fprintf(stderr, "pxload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static const char *
arg(int argc, char **argv, const char *name, const char *def)
{
	size_t	n = strlen(name);

	for (int i = 2; i < argc; i++) {
		if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
			return argv[i] + n + 1;
	}
	return def;
}

/* The echo server. */
static int
serve(const char *port_file, unsigned max_seconds)
{
	struct sockaddr_in	sa = { .sin_family = AF_INET };
	socklen_t		sl = sizeof sa;
	struct epoll_event	ev, evs[256];
	static unsigned char	buf[1 << 16];
	int			lfd, ep, one = 1;
	uint64_t		end = now_us() + (uint64_t)max_seconds * 1000000;
	FILE			*f;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(lfd, 4096) < 0)
		die("listen");
	getsockname(lfd, (struct sockaddr *)&sa, &sl);
	f = fopen(port_file, "w");
	if (f == NULL)
		die(port_file);
	fprintf(f, "%u\n", ntohs(sa.sin_port));
	fclose(f);
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	while (now_us() < end) {
		int	n = epoll_wait(ep, evs, 256, 1000);

		for (int i = 0; i < n; i++) {
			int	fd = evs[i].data.fd;
			ssize_t	r;

			if (fd == lfd) {
				int	c;

				while ((c = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK)) >= 0) {
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY,
					    &one, sizeof one);
					ev.events = EPOLLIN;
					ev.data.fd = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			r = recv(fd, buf, sizeof buf, 0);
			if (r > 0) {
				/* Echo with blocking writes: the client reads
				 * what it sends (within its window). */
				int	fl = fcntl(fd, F_GETFL);

				fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
				if (send(fd, buf, (size_t)r, MSG_NOSIGNAL) < 0)
					r = 0;
				fcntl(fd, F_SETFL, fl);
			}
			if (r == 0 || (r < 0 && errno != EAGAIN)) {
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
			}
		}
	}
	return 0;
}

/* Opens connection i of the client. */
static void
lc_open(struct lc *c, int ep, const struct sockaddr_in *sa, int idx)
{
	struct epoll_event	ev = { .events = EPOLLIN | EPOLLOUT };
	int			one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		die("socket");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(c->fd, (const struct sockaddr *)sa, sizeof *sa) < 0 &&
	    errno != EINPROGRESS)
		die("connect");
	c->sent = c->got = 0;
	c->shut = 0;
	c->t0 = now_us();
	ev.data.u32 = (uint32_t)idx;
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

/* Asks for writability only while there is something to send. */
static void
lc_want(struct lc *c, int ep, uint32_t idx, int bulk, size_t size)
{
	struct epoll_event	ev = { .events = EPOLLIN, .data.u32 = idx };

	if ((bulk && c->sent - c->got < WINDOW) || (!bulk && c->sent < size))
		ev.events |= EPOLLOUT;
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* The load client. */
static int
run(unsigned port, int conns, unsigned seconds, const char *mode, size_t size)
{
	struct sockaddr_in	 sa = { .sin_family = AF_INET,
				    .sin_port = htons((uint16_t)port) };
	struct epoll_event	 evs[256];
	struct lc		*cs = calloc((size_t)conns, sizeof *cs);
	static unsigned char	 buf[1 << 16], out[1 << 16];
	int			 bulk = strcmp(mode, "bulk") == 0;
	int			 oneshot = strcmp(mode, "oneshot") == 0;
	uint64_t		 start = now_us(), end, ops = 0, sum_us = 0;
	uint64_t		 bytes = 0;
	int			 ep = epoll_create1(0);

	if (size > sizeof out)
		size = sizeof out;
	memset(out, 'x', sizeof out);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < conns; i++)
		lc_open(&cs[i], ep, &sa, i);
	end = start + (uint64_t)seconds * 1000000;
	while (now_us() < end) {
		int	n = epoll_wait(ep, evs, 256, 100);

		for (int i = 0; i < n; i++) {
			struct lc	*c = &cs[evs[i].data.u32];
			ssize_t		 r;

			if (evs[i].events & EPOLLOUT) {
				size_t	want = 0;

				if (bulk && c->sent - c->got < WINDOW)
					want = size;
				else if (!bulk && c->sent < size)
					want = size - c->sent;
				if (want > 0) {
					r = send(c->fd, out, want, MSG_NOSIGNAL);
					if (r > 0)
						c->sent += (uint64_t)r;
				}
				if (oneshot && c->sent == size && !c->shut) {
					shutdown(c->fd, SHUT_WR);
					c->shut = 1;
				}
				lc_want(c, ep, evs[i].data.u32, bulk, size);
			}
			if (!(evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				continue;
			r = recv(c->fd, buf, sizeof buf, 0);
			if (r > 0) {
				c->got += (uint64_t)r;
				bytes += (uint64_t)r;
				if (!bulk && !oneshot && c->got >= size) {
					ops++;
					sum_us += now_us() - c->t0;
					c->t0 = now_us();
					c->sent = c->got = 0;
				}
				lc_want(c, ep, evs[i].data.u32, bulk, size);
				continue;
			}
			if (r < 0 && errno == EAGAIN)
				continue;
			/* EOF or an error: a oneshot round is over. */
			if (oneshot && r == 0) {
				ops++;
				sum_us += now_us() - c->t0;
			}
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			lc_open(c, ep, &sa, (int)evs[i].data.u32);
		}
	}
	printf("conns %d seconds %.3f ops %llu mean_us %.1f bytes %llu\n",
	    conns, (double)(now_us() - start) / 1e6, (unsigned long long)ops,
	    ops ? (double)sum_us / (double)ops : 0.0,
	    (unsigned long long)bytes);
	for (int i = 0; i < conns; i++)
		close(cs[i].fd);
	free(cs);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "serve") == 0)
		return serve(arg(argc, argv, "--port-file", "pxload.port"),
		    (unsigned)atoi(arg(argc, argv, "--max-seconds", "120")));
	if (argc > 1 && strcmp(argv[1], "run") == 0) {
		const char	*mode = arg(argc, argv, "--mode", "pingpong");

		return run((unsigned)atoi(arg(argc, argv, "--port", "0")),
		    atoi(arg(argc, argv, "--conns", "1")),
		    (unsigned)atoi(arg(argc, argv, "--seconds", "5")), mode,
		    (size_t)atol(arg(argc, argv, "--size",
		    strcmp(mode, "bulk") == 0 ? "65536" :
		    strcmp(mode, "oneshot") == 0 ? "200" : "64")));
	}
	fprintf(stderr, "usage: pxload serve --port-file=F | run --port=P "
	    "--conns=N --seconds=S --mode=pingpong|bulk|oneshot\n");
	return 2;
}
