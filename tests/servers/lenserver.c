/*
 * lenserver: a server of the length-prefixed binary protocol of
 * corpus-samples/lenprefix, for stutterfuzz's length turn rule tests
 * (--turns=len:0:2). A frame is
 *
 *   uint16 length (big-endian, counts type + payload) | uint8 type | payload
 *
 * and each frame gets one reply frame, --reply-ms after it arrived (or at
 * once when the client closes its side first): the same payload with the
 * type's high bit set (type | 0x80). An error gets a frame
 * of type 0xff whose payload says why, and the server shuts its side (it
 * reads and discards the rest until the client closes):
 *
 *   length 0             -> "empty frame"
 *
 * Like smtpish it forbids pipelining: a frame that arrives before the reply
 * to the previous one was sent, or after a complete frame in the same read,
 * gets "pipelining" and the shut side.
 *
 * The planted bug: a read that ends inside the 2-byte length header (one
 * byte of it in hand) takes that byte for the whole length, as a protocol
 * with a 1-byte length would; the frame's high byte is usually 0, so the
 * answer is an "empty frame" error instead of the echo. It never crashes.
 * --fixed waits for the second byte. Conventions as smtpish: --port-file,
 * --port, --bind, --log (--log-reads: "read B" per read), --max-seconds;
 * logs "misparsed length", "empty frame", "pipelining", and "total conns C
 * reads R frames F rejected J" at exit.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SERVE_NAME "lenserver"
#include "serve.h"

#define FRAME_MAX	(3 + 65535)

enum state {
	S_READY,	/* reading a frame */
	S_REPLYING,	/* a frame is in; its reply goes out at due_ms */
	S_SHUT,		/* an error was answered; discarding until EOF */
};

struct client {
	int		 fd;
	enum state	 state;
	uint64_t	 due_ms;
	unsigned char	 frame[FRAME_MAX];	/* header, type, payload */
	size_t		 have;			/* bytes of frame in hand */
	size_t		 need;			/* frame's size once known; 0 */
	struct client	*next, *prev;
};

static volatile sig_atomic_t stop;
static FILE *logfp;
static int fixed, log_reads;
static unsigned long reply_ms = 10;
static unsigned long total_conns, total_reads, total_frames, total_rejected;
static struct client *clients;

/* SIGTERM, SIGINT, SIGALRM: stop. */
static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Monotonic milliseconds. */
static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Writes a log line. */
static void
log_line(const char *s)
{
	if (logfp == NULL)
		return;
	fprintf(logfp, "%s\n", s);
	fflush(logfp);
}

/* Sends one frame of type and payload on c (one write; replies are at most
 * a frame, which a loopback socket buffer holds). */
static void
send_frame(struct client *c, unsigned type, const unsigned char *p,
    size_t n)
{
	static unsigned char	out[FRAME_MAX];
	ssize_t			w;

	out[0] = (unsigned char)((n + 1) >> 8);
	out[1] = (unsigned char)(n + 1);
	out[2] = (unsigned char)type;
	memcpy(out + 3, p, n);
	w = write(c->fd, out, n + 3);
	(void)w;
}

/* Closes c and forgets it. */
static void
client_close(struct client *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	close(c->fd);
	free(c);
}

/* Answers an error frame and shuts c's sending side; what else comes is
 * read and discarded until the client closes (no reset for unread data). */
static void
reject(struct client *c, const char *why)
{
	total_rejected++;
	send_frame(c, 0xff, (const unsigned char *)why, strlen(why));
	shutdown(c->fd, SHUT_WR);
	log_line(why);
	c->state = S_SHUT;
}

/* The length header is complete (or, with the bug, taken as complete):
 * the frame's size from its length, or an error. Returns 0, or -1 after a
 * reject. */
static int
header_done(struct client *c, size_t length)
{
	if (length == 0) {
		reject(c, "empty frame");
		return -1;
	}
	c->need = 2 + length;
	return 0;
}

/* Takes in the n bytes of one read. */
static void
client_bytes(struct client *c, const unsigned char *buf, size_t n)
{
	size_t	i = 0;

	if (c->state == S_SHUT)
		return;
	if (c->state == S_REPLYING) {
		reject(c, "pipelining");
		return;
	}
	while (i < n) {
		if (c->need == 0) {
			c->frame[c->have++] = buf[i++];
			if (c->have == 1 && i == n && !fixed) {
				/* The planted bug: a read ending inside the
				 * header; its one byte taken for the length. */
				log_line("misparsed length");
				c->have = 2;
				c->frame[1] = c->frame[0];
				if (header_done(c, c->frame[0]) == -1)
					return;
			} else if (c->have == 2 && header_done(c,
			    (size_t)c->frame[0] << 8 | c->frame[1]) == -1)
				return;
			continue;
		}
		size_t	take = c->need - c->have < n - i ? c->need - c->have :
			    n - i;

		memcpy(c->frame + c->have, buf + i, take);
		c->have += take;
		i += take;
		if (c->have < c->need)
			continue;
		if (i < n) {
			reject(c, "pipelining");
			return;
		}
		c->state = S_REPLYING;
		c->due_ms = now_ms() + reply_ms;
	}
}

/* Sends the reply to the frame in hand; ready for the next. */
static void
answer(struct client *c)
{
	total_frames++;
	send_frame(c, c->frame[2] | 0x80, c->frame + 3, c->need - 3);
	c->have = c->need = 0;
	c->state = S_READY;
}

/* Reads what c sent; closes it at EOF (a reply still due goes first) or on
 * an error. */
static void
client_read(struct client *c)
{
	unsigned char	buf[4096];
	ssize_t		n = read(c->fd, buf, sizeof buf);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (n == 0 && c->state == S_REPLYING)
			answer(c);
		client_close(c);
		return;
	}
	total_reads++;
	if (log_reads && logfp != NULL) {
		fprintf(logfp, "read %zd\n", n);
		fflush(logfp);
	}
	client_bytes(c, buf, (size_t)n);
}

/* Sends the replies that are due; returns the ms until the next one (at
 * most 200). */
static int
run_due(void)
{
	uint64_t	 now = now_ms(), next = now + 200;

	for (struct client *c = clients; c != NULL; c = c->next) {
		if (c->state != S_REPLYING)
			continue;
		if (c->due_ms > now) {
			if (c->due_ms < next)
				next = c->due_ms;
			continue;
		}
		answer(c);
	}
	return (int)(next - now);
}

/* Accepts every pending connection onto the epoll set. */
static void
accept_all(int lfd, int ep)
{
	struct epoll_event	 ev;
	struct client		*c;
	int			 cfd;

	while ((cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) >= 0) {
		if ((c = calloc(1, sizeof *c)) == NULL)
			die("calloc");
		c->fd = cfd;
		c->state = S_READY;
		c->next = clients;
		if (clients != NULL)
			clients->prev = c;
		clients = c;
		total_conns++;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
	}
}

/* Options, the listening socket, and the loop. */
int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port-file", required_argument, NULL, 'p' },
		{ "port", required_argument, NULL, 'P' },
		{ "log", required_argument, NULL, 'l' },
		{ "log-reads", no_argument, NULL, 'r' },
		{ "bind", required_argument, NULL, 'b' },
		{ "max-seconds", required_argument, NULL, 's' },
		{ "fixed", no_argument, NULL, 'F' },
		{ "reply-ms", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	const char		*port_file = NULL, *bind_addr = "127.0.0.1";
	unsigned		 max_seconds = 120, port = 0;
	int			 opt, lfd, ep;
	struct epoll_event	 ev, evs[256];
	struct sigaction	 sa;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p': port_file = optarg; break;
		case 'P': port = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'l':
			if ((logfp = fopen(optarg, "w")) == NULL)
				die(optarg);
			break;
		case 'r': log_reads = 1; break;
		case 'b': bind_addr = optarg; break;
		case 's': max_seconds = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'F': fixed = 1; break;
		case 'R': reply_ms = strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	alarm(max_seconds);
	lfd = listen_on(bind_addr, port, port_file);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	while (!stop) {
		int	n = epoll_wait(ep, evs, 256, run_due());

		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr != NULL)
				client_read(evs[i].data.ptr);
			else
				accept_all(lfd, ep);
		}
	}
	if (logfp != NULL) {
		fprintf(logfp, "total conns %lu reads %lu frames %lu "
		    "rejected %lu\n", total_conns, total_reads, total_frames,
		    total_rejected);
		fclose(logfp);
	}
	return 0;
}
