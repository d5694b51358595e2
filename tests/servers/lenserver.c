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
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve.h"

#define FRAME_MAX	(3 + 65535)

enum state {
	S_READY,	/* reading a frame */
	S_REPLYING,	/* a frame is in; its reply is due (serve_due) */
	S_SHUT,		/* an error was answered; discarding until EOF */
};

struct client {
	struct serve_conn *conn;
	enum state	 state;
	unsigned char	 frame[FRAME_MAX];	/* header, type, payload */
	size_t		 have;			/* bytes of frame in hand */
	size_t		 need;			/* frame's size once known; 0 */
};

static struct serve_opts opts;
static unsigned long reply_ms = 10;
static unsigned long total_conns, total_reads, total_frames, total_rejected;

/* Sends one frame of type and payload on c (one write; replies are at most
 * a frame, which a loopback socket buffer holds). */
static void
send_frame(struct client *c, unsigned type, const unsigned char *p,
    size_t n)
{
	static unsigned char	out[FRAME_MAX];

	out[0] = (unsigned char)((n + 1) >> 8);
	out[1] = (unsigned char)(n + 1);
	out[2] = (unsigned char)type;
	memcpy(out + 3, p, n);
	serve_send(c->conn->fd, out, n + 3);
}

/* Answers an error frame and shuts c's sending side; what else comes is
 * read and discarded until the client closes (no reset for unread data). */
static void
reject(struct client *c, const char *why)
{
	total_rejected++;
	send_frame(c, 0xff, (const unsigned char *)why, strlen(why));
	shutdown(c->conn->fd, SHUT_WR);
	serve_log(opts.log, "%s", why);
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
			if (c->have == 1 && i == n && !opts.fixed) {
				/* The planted bug: a read ending inside the
				 * header; its one byte taken for the length. */
				serve_log(opts.log, "misparsed length");
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
		serve_due(c->conn, reply_ms);
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

/* The reply is due (unless an error was answered meanwhile). */
static void
client_due(void *user)
{
	struct client	*c = user;

	if (c->state == S_REPLYING)
		answer(c);
}

/* Reads what c sent; closes it at EOF (a reply still due goes first) or on
 * an error. */
static void
client_read(void *user)
{
	struct client	*c = user;
	unsigned char	 buf[4096];
	ssize_t		 n = serve_read(&opts, c->conn, buf, sizeof buf);

	if (n == -2)
		return;
	if (n <= 0) {
		if (n == 0 && c->state == S_REPLYING)
			answer(c);
		serve_close(c->conn);
		return;
	}
	total_reads++;
	client_bytes(c, buf, (size_t)n);
}

/* A new connection, reading a frame. */
static int
client_new(struct serve_conn *conn)
{
	struct client	*c = conn->user;

	c->conn = conn;
	c->state = S_READY;
	total_conns++;
	return 0;
}

/* lenserver's own option: --reply-ms. */
static int
own_option(int opt, const char *arg)
{
	if (opt != 'R')
		return -1;
	reply_ms = strtoul(arg, NULL, 10);
	return 0;
}

/* Options, the listening socket, and the loop. */
int
main(int argc, char **argv)
{
	static const struct option own[] = {
		{ "reply-ms", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct serve_ops ops = {
		.user_size = sizeof (struct client),
		.accepted = client_new,
		.readable = client_read,
		.due = client_due,
	};
	int	rc;

	if ((rc = serve_options(&opts, "lenserver", SERVE_LOG_READS, argc,
	    argv, own, own_option)) != 0)
		return rc;
	serve_run(&opts, &ops);
	serve_log(opts.log, "total conns %lu reads %lu frames %lu "
	    "rejected %lu", total_conns, total_reads, total_frames,
	    total_rejected);
	serve_end(&opts);
	return 0;
}
