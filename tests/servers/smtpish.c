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
#include <sys/epoll.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define SERVE_NAME "smtpish"
#include "serve.h"

#define LINE_MAX_BYTES	1024

enum state { S_GREETING, S_READY, S_REPLYING };

struct client {
	int		 fd;
	enum state	 state;
	uint64_t	 due_ms;	/* greeting or reply goes out then */
	char		 line[LINE_MAX_BYTES];
	size_t		 len;
	struct client	*next, *prev;
};

static volatile sig_atomic_t stop;
static FILE *logfp;
static int fixed, log_reads;
static unsigned long greet_ms = 20, reply_ms = 10;
static unsigned long total_conns, total_reads, total_commands, total_rejected;
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

/* Sends s on c (answers are small: one write). */
static void
reply(struct client *c, const char *s)
{
	ssize_t	n = write(c->fd, s, strlen(s));

	(void)n;
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

/* Rejects c's input with a 554 and closes it. */
static void
reject(struct client *c, const char *why, const char *logged)
{
	total_rejected++;
	reply(c, why);
	log_line(logged);
	client_close(c);
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
		client_close(c);
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
	if (!fixed && nl == NULL && strcasecmp(c->line, "MAIL FROM:") == 0) {
		log_line("crash");
		abort();	/* the planted bug */
	}
	if (nl == NULL)
		return;
	c->len -= c->len >= 2 && c->line[c->len - 2] == '\r' ? 2 : 1;
	c->line[c->len] = '\0';
	c->state = S_REPLYING;
	c->due_ms = now_ms() + reply_ms;
}

/* Reads what c sent; closes it at EOF or on an error. */
static void
client_read(struct client *c)
{
	char	buf[4096];
	ssize_t	n = read(c->fd, buf, sizeof buf);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
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

/* Sends the greetings and replies that are due; returns the ms until the
 * next one (at most 200). */
static int
run_due(void)
{
	uint64_t	 now = now_ms(), next = now + 200;
	struct client	*c = clients, *nc;

	for (; c != NULL; c = nc) {
		nc = c->next;
		if (c->state == S_READY)
			continue;
		if (c->due_ms > now) {
			if (c->due_ms < next)
				next = c->due_ms;
			continue;
		}
		if (c->state == S_GREETING) {
			reply(c, "220 ready\r\n");
			log_line("greeted");
			c->state = S_READY;
		} else
			command(c);
	}
	return (int)(next - now);
}

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
		{ "greet-ms", required_argument, NULL, 'g' },
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
		case 'g': greet_ms = strtoul(optarg, NULL, 10); break;
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
			struct client	*c = evs[i].data.ptr;
			int		 cfd;

			if (c != NULL) {
				client_read(c);
				continue;
			}
			while ((cfd = accept4(lfd, NULL, NULL,
			    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
				if ((c = calloc(1, sizeof *c)) == NULL)
					die("calloc");
				c->fd = cfd;
				c->state = S_GREETING;
				c->due_ms = now_ms() + greet_ms;
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
	}
	if (logfp != NULL) {
		fprintf(logfp, "total conns %lu reads %lu commands %lu "
		    "rejected %lu\n", total_conns, total_reads, total_commands,
		    total_rejected);
		fclose(logfp);
	}
	return 0;
}
