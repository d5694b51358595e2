/*
 * smtpish: a server that speaks first, for stutterfuzz's greeting and turn
 * tests. --greet-ms after accepting it sends "220 ready\r\n"; then each
 * command line gets one reply, --reply-ms after the line arrived:
 *
 *   HELO x / EHLO x      -> "250 smtpish\r\n"
 *   MAIL FROM:<a>        -> "250 sender ok\r\n"
 *   RCPT TO:<a>          -> "250 recipient ok\r\n"
 *   NOOP, RSET           -> "250 ok\r\n"
 *   QUIT                 -> "221 bye\r\n", then it closes
 *   anything else        -> "500 unknown command\r\n"
 *
 * Like Exim's synchronization check it forbids pipelining: input that
 * arrives before the greeting, before the previous reply, or after a
 * complete line in the same read gets "554 5.5.1 ..." and the connection is
 * closed.
 *
 * The planted bug: a read that ends exactly after "MAIL FROM:" (the command
 * cut inside its line, right before the address) aborts the server. A
 * client that pipelines never gets there; only one that waits for each
 * reply and cuts inside a line does. --fixed removes it. Conventions as
 * testserver: --port-file, --port, --bind, --log (--log-reads: "read B" per
 * read), --max-seconds; logs "greeted", "554 early", "554 pipelining",
 * "crash", and "total conns C reads R commands K rejected J" at exit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "serve.h"

#define LINE_MAX_BYTES	1024

enum state { S_GREETING, S_READY, S_REPLYING };

struct client {
	struct serve_conn *conn;
	enum state	 state;		/* greeting or reply is due unless ready */
	char		 line[LINE_MAX_BYTES];
	size_t		 len;
};

static struct serve_opts opts;
static unsigned long greet_ms = 20, reply_ms = 10;
static unsigned long total_conns, total_reads, total_commands, total_rejected;

/* Sends s on c (answers are small: one write). */
static void
reply(struct client *c, const char *s)
{
	serve_send(c->conn->fd, s, strlen(s));
}

/* Rejects c's input with a 554 and closes it. */
static void
reject(struct client *c, const char *why, const char *logged)
{
	total_rejected++;
	reply(c, why);
	serve_log(opts.log, "%s", logged);
	serve_close(c->conn);
}

/* The reply to the command line in c->line. Returns 0, or -1 after QUIT
 * (c is closed). */
static int
command(struct client *c)
{
	const char	*l = c->line;

	total_commands++;
	if (strncasecmp(l, "HELO ", 5) == 0 || strncasecmp(l, "EHLO ", 5) == 0)
		reply(c, "250 smtpish\r\n");
	else if (strncasecmp(l, "MAIL FROM:", 10) == 0)
		reply(c, "250 sender ok\r\n");
	else if (strncasecmp(l, "RCPT TO:", 8) == 0)
		reply(c, "250 recipient ok\r\n");
	else if (strcasecmp(l, "NOOP") == 0 || strcasecmp(l, "RSET") == 0)
		reply(c, "250 ok\r\n");
	else if (strcasecmp(l, "QUIT") == 0) {
		reply(c, "221 bye\r\n");
		serve_close(c->conn);
		return -1;
	} else
		reply(c, "500 unknown command\r\n");
	c->len = 0;
	c->state = S_READY;
	return 0;
}

/* Takes in the n bytes of one read. */
static void
client_bytes(struct client *c, const char *buf, size_t n)
{
	const char	*nl;
	size_t		 take;

	if (c->state == S_GREETING) {
		reject(c, "554 5.5.1 input before greeting\r\n", "554 early");
		return;
	}
	if (c->state == S_REPLYING) {
		reject(c, "554 5.5.1 input before reply\r\n", "554 pipelining");
		return;
	}
	nl = memchr(buf, '\n', n);
	if (nl != NULL && (size_t)(nl - buf) + 1 < n) {
		reject(c, "554 5.5.1 pipelining\r\n", "554 pipelining");
		return;
	}
	take = nl != NULL ? (size_t)(nl - buf) + 1 : n;
	if (c->len + take >= sizeof c->line)
		take = sizeof c->line - 1 - c->len;
	memcpy(c->line + c->len, buf, take);
	c->len += take;
	c->line[c->len] = '\0';
	if (!opts.fixed && nl == NULL && strcasecmp(c->line, "MAIL FROM:") == 0) {
		serve_log(opts.log, "crash");
		abort();	/* the planted bug */
	}
	if (nl == NULL)
		return;
	c->len -= c->len >= 2 && c->line[c->len - 2] == '\r' ? 2 : 1;
	c->line[c->len] = '\0';
	c->state = S_REPLYING;
	serve_due(c->conn, reply_ms);
}

/* Reads what c sent; closes it at EOF or on an error. */
static void
client_read(void *user)
{
	struct client	*c = user;
	char		 buf[4096];
	ssize_t		 n = serve_read(&opts, c->conn, buf, sizeof buf);

	if (n == -2)
		return;
	if (n <= 0) {
		serve_close(c->conn);
		return;
	}
	total_reads++;
	client_bytes(c, buf, (size_t)n);
}

/* The greeting or the reply is due. */
static void
client_due(void *user)
{
	struct client	*c = user;

	if (c->state == S_GREETING) {
		reply(c, "220 ready\r\n");
		serve_log(opts.log, "greeted");
		c->state = S_READY;
	} else if (c->state == S_REPLYING)
		command(c);
}

/* A new connection; the greeting is due in --greet-ms. */
static int
client_new(struct serve_conn *conn)
{
	struct client	*c = conn->user;

	c->conn = conn;
	c->state = S_GREETING;
	serve_due(conn, greet_ms);
	total_conns++;
	return 0;
}

/* smtpish's own options: --greet-ms, --reply-ms. */
static int
own_option(int opt, const char *arg)
{
	switch (opt) {
	case 'g': greet_ms = strtoul(arg, NULL, 10); return 0;
	case 'R': reply_ms = strtoul(arg, NULL, 10); return 0;
	default: return -1;
	}
}

/* Options, the listening socket, and the loop. */
int
main(int argc, char **argv)
{
	static const struct option own[] = {
		{ "greet-ms", required_argument, NULL, 'g' },
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

	if ((rc = serve_options(&opts, "smtpish", SERVE_LOG_READS, argc, argv,
	    own, own_option)) != 0)
		return rc;
	serve_run(&opts, &ops);
	serve_log(opts.log, "total conns %lu reads %lu commands %lu "
	    "rejected %lu", total_conns, total_reads, total_commands,
	    total_rejected);
	serve_end(&opts);
	return 0;
}
