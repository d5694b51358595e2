/*
 * httpka: an HTTP/1.1 keep-alive server for stutterfuzz's answer tests. It
 * answers each request on a connection in turn: "200 OK" with a Date header
 * and a body naming the request ("GET /a body=5\n"); a request line that is
 * not "METHOD /path HTTP/1.x" gets "400 Bad Request" (and only that line is
 * dropped). Bodies are read by Content-Length.
 *
 * The planted bug: when a read ends right after a request's header block,
 * its Content-Length is dropped; the body is then parsed as the next
 * request and an extra 400 comes back (a desync). --fixed removes it.
 * --stamps (a control) adds what varies on every answer: an X-Request-Id
 * of random hex, X-Time-Us, and a JSON body with a millisecond time, a
 * random id and a random number of random digits, so Content-Length
 * varies with them. Conventions as testserver: --port-file, --port, --bind,
 * --log (--log-reads: "read B" per read), --max-seconds; logs "request
 * METHOD PATH", "bad request", "dropped content-length", and "total conns C
 * reads R requests Q bad B dropped D" at exit.
 */
#include <sys/time.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "serve.h"

#define BUF_MAX		65536

struct client {
	struct serve_conn *conn;
	char	buf[BUF_MAX];
	size_t	len;
};

static struct serve_opts opts;
static int stamps;
static unsigned long total_conns, total_reads, total_requests, total_bad,
    total_dropped;

/* Sends a response with status and body. */
static void
respond(struct client *c, const char *status, const char *body)
{
	char		out[4096], date[64], extra[128] = "", json[512];
	struct timeval	tv;
	time_t		now = time(NULL);
	int		n;

	gettimeofday(&tv, NULL);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime(&now));
	if (stamps) {
		unsigned	digits = 1 + (unsigned)(rand() % 6);
		long		num = rand() % 1000000;

		while (digits < 6 && num >= 10) {
			num /= 10;
			digits++;
		}
		snprintf(extra, sizeof extra, "X-Request-Id: %08x%08x\r\n"
		    "X-Time-Us: %lld\r\n", (unsigned)rand(), (unsigned)rand(),
		    (long long)tv.tv_sec * 1000000 + tv.tv_usec);
		snprintf(json, sizeof json, "{\"at\":%lld,\"id\":\"%06x\","
		    "\"n\":%ld,\"req\":\"%.*s\"}\n",
		    (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000,
		    (unsigned)rand() & 0xffffff, num,
		    (int)strcspn(body, "\n"), body);
		body = json;
	}
	n = snprintf(out, sizeof out, "HTTP/1.1 %s\r\nDate: %s\r\n%s"
	    "Content-Length: %zu\r\n\r\n%s", status, date, extra,
	    strlen(body), body);
	serve_send(c->conn->fd, out, n < (int)sizeof out ? (size_t)n :
	    sizeof out - 1);
}

/* Whether [s, s + n) is "METHOD /path HTTP/1.x". */
static int
good_request_line(const char *s, size_t n)
{
	size_t	i = 0, m;

	while (i < n && s[i] >= 'A' && s[i] <= 'Z')
		i++;
	if (i == 0 || i >= n || s[i] != ' ' || i + 1 >= n || s[i + 1] != '/')
		return 0;
	m = i + 1;
	while (m < n && s[m] != ' ')
		m++;
	return n - m == 9 && memcmp(s + m, " HTTP/1.", 8) == 0 &&
	    (s[n - 1] == '0' || s[n - 1] == '1');
}

/* The Content-Length of the header block [s, s + n), or 0. */
static size_t
content_length(const char *s, size_t n)
{
	for (size_t i = 0; i + 16 < n; i++) {
		if ((i == 0 || s[i - 1] == '\n') &&
		    strncasecmp(s + i, "Content-Length:", 15) == 0)
			return (size_t)strtoul(s + i + 15, NULL, 10);
	}
	return 0;
}

/* Drops the first n bytes of c's buffer. */
static void
consume(struct client *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* Answers every complete request in c's buffer; called after each read. */
static void
client_parse(struct client *c)
{
	for (;;) {
		char	*eol, *end, line[256], body[300];
		size_t	 hdr, cl, ll;

		while (c->len > 0 && (c->buf[0] == '\r' || c->buf[0] == '\n'))
			consume(c, 1);
		if ((eol = memmem(c->buf, c->len, "\r\n", 2)) == NULL)
			return;
		ll = (size_t)(eol - c->buf);
		if (!good_request_line(c->buf, ll)) {
			total_bad++;
			serve_log(opts.log, "bad request");
			respond(c, "400 Bad Request", "");
			consume(c, ll + 2);
			continue;
		}
		if ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL)
			return;
		hdr = (size_t)(end - c->buf) + 4;
		cl = content_length(c->buf, hdr);
		if (!opts.fixed && cl > 0 && hdr == c->len) {
			cl = 0;		/* the planted bug */
			total_dropped++;
			serve_log(opts.log, "dropped content-length");
		}
		if (cl > BUF_MAX / 2 || c->len < hdr + cl)
			return;
		snprintf(line, sizeof line, "%.*s", (int)ll, c->buf);
		*strrchr(line, ' ') = '\0';
		snprintf(body, sizeof body, "%s body=%zu\n", line, cl);
		total_requests++;
		serve_log(opts.log, "request %s", line);
		respond(c, "200 OK", body);
		consume(c, hdr + cl);
	}
}

/* Reads what c sent; closes it at EOF, on an error or when it overflows. */
static void
client_read(void *user)
{
	struct client	*c = user;
	ssize_t		 n = read(c->conn->fd, c->buf + c->len,
			    sizeof c->buf - c->len);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || c->len + (size_t)n == sizeof c->buf) {
		serve_close(c->conn);
		return;
	}
	total_reads++;
	serve_log_read(&opts, n);
	c->len += (size_t)n;
	client_parse(c);
}

/* A new connection with an empty buffer. */
static int
client_new(struct serve_conn *conn)
{
	struct client	*c = conn->user;

	c->conn = conn;
	total_conns++;
	return 0;
}

/* httpka's own option: --stamps. */
static int
own_option(int opt, const char *arg)
{
	(void)arg;
	if (opt != 'S')
		return -1;
	stamps = 1;
	return 0;
}

/* Options, the listening socket, and the loop. */
int
main(int argc, char **argv)
{
	static const struct option own[] = {
		{ "stamps", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct serve_ops ops = {
		.user_size = sizeof (struct client),
		.accepted = client_new,
		.readable = client_read,
	};
	int	rc;

	if ((rc = serve_options(&opts, "httpka", SERVE_LOG_READS, argc, argv,
	    own, own_option)) != 0)
		return rc;
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	serve_run(&opts, &ops);
	serve_log(opts.log, "total conns %lu reads %lu requests %lu bad %lu "
	    "dropped %lu", total_conns, total_reads, total_requests,
	    total_bad, total_dropped);
	serve_end(&opts);
	return 0;
}
