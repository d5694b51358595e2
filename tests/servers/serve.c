/*
 * The test servers' shared part (serve.h): options, the listening socket,
 * the epoll loop and per-connection due times.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "serve.h"

#define SERVE_OPTIONS_MAX	32
#define SERVE_EVENTS		256
#define SERVE_WAIT_MS		200	/* the longest wait of the loop */

/* The loop's state. */
struct serve {
	const struct serve_ops	*ops;
	int			 lfd, ep;
	int			 accepting;
	struct serve_conn	*conns;		/* newest first */
};

volatile sig_atomic_t serve_stop;
static const char *serve_name = "serve";

/* The common options; val is what serve_options() switches on. */
static const struct option serve_common[] = {
	{ "port-file", required_argument, NULL, 'p' },
	{ "port", required_argument, NULL, 'P' },
	{ "log", required_argument, NULL, 'l' },
	{ "log-reads", no_argument, NULL, 'r' },
	{ "bind", required_argument, NULL, 'b' },
	{ "unix", required_argument, NULL, 'U' },
	{ "max-seconds", required_argument, NULL, 's' },
	{ "fixed", no_argument, NULL, 'F' },
};

/* Ends the process on a setup failure. */
void
serve_die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", serve_name, what, strerror(errno));
	exit(1);
}

/* SIGTERM, SIGINT, SIGALRM: stop. */
static void
serve_on_signal(int sig)
{
	(void)sig;
	serve_stop = 1;
}

/* The common options and the server's own (own, ending in a zero entry;
 * own_option is called with each one's val and argument). Returns 0, or
 * the exit status of a bad command line. */
int
serve_options(struct serve_opts *o, const char *name, int takes, int argc,
    char **argv, const struct option *own, int (*own_option)(int,
    const char *))
{
	struct option	 all[SERVE_OPTIONS_MAX];
	size_t		 n = 0;
	int		 opt;

	serve_name = name;
	*o = (struct serve_opts){
		.bind = "127.0.0.1",
		.max_seconds = 120,
		.backlog = 4096,
	};
	for (size_t i = 0; i < sizeof serve_common / sizeof *serve_common;
	    i++) {
		if ((serve_common[i].val == 'U' && !(takes & SERVE_UNIX)) ||
		    (serve_common[i].val == 'r' && !(takes & SERVE_LOG_READS)))
			continue;
		all[n++] = serve_common[i];
	}
	for (; own != NULL && own->name != NULL && n + 1 < SERVE_OPTIONS_MAX;
	    own++)
		all[n++] = *own;
	all[n] = (struct option){ NULL, 0, NULL, 0 };
	while ((opt = getopt_long(argc, argv, "", all, NULL)) != -1) {
		switch (opt) {
		case 'p': o->port_file = optarg; break;
		case 'P': o->port = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'l':
			if ((o->log = fopen(optarg, "w")) == NULL)
				serve_die(optarg);
			break;
		case 'r': o->log_reads = 1; break;
		case 'b': o->bind = optarg; break;
		case 'U': o->unix_path = optarg; break;
		case 's': o->max_seconds = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'F': o->fixed = 1; break;
		case '?': return 2;
		default:
			if (own_option == NULL || own_option(opt, optarg) != 0)
				return 2;
		}
	}
	return 0;
}

/* The address to listen on, from --unix or --bind and --port. */
static socklen_t
serve_address(const struct serve_opts *o, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (o->unix_path != NULL) {
		struct sockaddr_un	*su = (void *)ss;

		su->sun_family = AF_UNIX;
		if (strlen(o->unix_path) >= sizeof su->sun_path)
			serve_die("--unix too long");
		strcpy(su->sun_path, o->unix_path);
		return sizeof *su;
	}
	if (strchr(o->bind, ':') != NULL) {
		struct sockaddr_in6	*s6 = (void *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)o->port);
		if (inet_pton(AF_INET6, o->bind, &s6->sin6_addr) != 1)
			serve_die("bad --bind");
		return sizeof *s6;
	}
	struct sockaddr_in	*s4 = (void *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)o->port);
	if (inet_pton(AF_INET, o->bind, &s4->sin_addr) != 1)
		serve_die("bad --bind");
	return sizeof *s4;
}

/* Writes the bound port ("unix" for a Unix socket) to --port-file, through
 * a temporary file so that a reader sees all of it or nothing. */
static void
serve_port_file(const struct serve_opts *o, int lfd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof ss;
	char			 tmp[4096];
	FILE			*f;

	if (o->port_file == NULL)
		return;
	memset(&ss, 0, sizeof ss);
	getsockname(lfd, (struct sockaddr *)&ss, &sslen);
	snprintf(tmp, sizeof tmp, "%s.tmp", o->port_file);
	if ((f = fopen(tmp, "w")) == NULL)
		serve_die(tmp);
	if (o->unix_path != NULL)
		fprintf(f, "unix\n");
	else
		fprintf(f, "%u\n", ss.ss_family == AF_INET6 ?
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
		    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	fclose(f);
	if (rename(tmp, o->port_file) < 0)
		serve_die("rename");
}

/* The listening socket; its port is in --port-file once it listens. */
static int
serve_listen(const struct serve_opts *o)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen = serve_address(o, &ss);
	int			fd, one = 1;

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		serve_die("socket");
	if (o->unix_path != NULL)
		unlink(o->unix_path);
	else
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (o->rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf,
		    sizeof o->rcvbuf);
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0)
		serve_die("bind");
	if (listen(fd, o->backlog) < 0)
		serve_die("listen");
	serve_port_file(o, fd);
	return fd;
}

/* Monotonic milliseconds. */
uint64_t
serve_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Calls ops->due for c in ms milliseconds (once). */
void
serve_due(struct serve_conn *c, unsigned long ms)
{
	c->due = 1;
	c->due_ms = serve_now_ms() + ms;
}

/* Closes c, frees its user memory and forgets it. */
void
serve_close(struct serve_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	close(c->fd);
	free(c->user);
	free(c);
}

/* Accepts no more connections (the listening socket stays open). */
void
serve_stop_accepting(struct serve *s)
{
	s->accepting = 0;
	epoll_ctl(s->ep, EPOLL_CTL_DEL, s->lfd, NULL);
}

/* Accepts every pending connection; those with a user pointer are read. */
static void
serve_accept(struct serve *s)
{
	struct epoll_event	 ev = { .events = EPOLLIN };
	struct serve_conn	*c;
	int			 cfd;

	while (s->accepting && (cfd = accept4(s->lfd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if ((c = calloc(1, sizeof *c)) == NULL ||
		    (c->user = calloc(1, s->ops->user_size)) == NULL)
			serve_die("calloc");
		c->fd = cfd;
		c->srv = s;
		c->next = s->conns;
		if (s->conns != NULL)
			s->conns->prev = c;
		s->conns = c;
		if (s->ops->accepted(c) != 0)
			continue;
		ev.data.ptr = c;
		epoll_ctl(s->ep, EPOLL_CTL_ADD, cfd, &ev);
	}
}

/* Calls ops->due for the connections whose time came; returns the ms until
 * the next one (at most SERVE_WAIT_MS). */
static int
serve_run_due(struct serve *s)
{
	uint64_t		 now = serve_now_ms(), next = now + SERVE_WAIT_MS;
	struct serve_conn	*c, *nc;

	for (c = s->conns; c != NULL; c = nc) {
		nc = c->next;		/* ops->due may close c */
		if (!c->due)
			continue;
		if (c->due_ms > now) {
			if (c->due_ms < next)
				next = c->due_ms;
			continue;
		}
		c->due = 0;
		s->ops->due(c->user);
	}
	return (int)(next - now);
}

/* Signals, --max-seconds, the listening socket, and the loop until a
 * signal or the alarm stops it. */
void
serve_run(const struct serve_opts *o, const struct serve_ops *ops)
{
	struct serve		 s = { .ops = ops, .accepting = 1 };
	struct epoll_event	 ev = { .events = EPOLLIN }, evs[SERVE_EVENTS];
	struct sigaction	 sa = { .sa_handler = serve_on_signal };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	alarm(o->max_seconds);
	s.lfd = serve_listen(o);
	if ((s.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		serve_die("epoll_create1");
	ev.data.ptr = NULL;
	epoll_ctl(s.ep, EPOLL_CTL_ADD, s.lfd, &ev);
	while (!serve_stop) {
		int	n;

		if (ops->tick != NULL)
			ops->tick();
		n = epoll_wait(s.ep, evs, SERVE_EVENTS, ops->due != NULL ?
		    serve_run_due(&s) : SERVE_WAIT_MS);
		for (int i = 0; i < n; i++) {
			struct serve_conn	*c = evs[i].data.ptr;

			if (c != NULL)
				ops->readable(c->user);
			else
				serve_accept(&s);
		}
	}
}

/* Closes the log and removes the Unix socket (at exit). */
void
serve_end(const struct serve_opts *o)
{
	if (o->log != NULL)
		fclose(o->log);
	if (o->unix_path != NULL)
		unlink(o->unix_path);
}

/* Reads up to n bytes of c into buf: returns how many (with --log-reads,
 * logged as "read B"), 0 at EOF, -1 on an error, -2 when there is nothing to
 * read now. */
ssize_t
serve_read(const struct serve_opts *o, struct serve_conn *c, void *buf,
    size_t n)
{
	ssize_t	r = read(c->fd, buf, n);

	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? -2 : -1;
	if (r > 0)
		serve_log_read(o, r);
	return r;
}

/* Sends n bytes of p on fd in one write (answers are small; what a full
 * socket buffer refuses is lost, as a test server may). */
void
serve_send(int fd, const void *p, size_t n)
{
	ssize_t	w = write(fd, p, n);

	(void)w;
}

/* Writes a line (fmt without its newline) to log, if any, and flushes it. */
void
serve_log(FILE *log, const char *fmt, ...)
{
	va_list	ap;

	if (log == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(log, fmt, ap);
	va_end(ap);
	fputc('\n', log);
	fflush(log);
}

/* --log-reads: logs "read B" for a read of n bytes. */
void
serve_log_read(const struct serve_opts *o, ssize_t n)
{
	if (o->log_reads)
		serve_log(o->log, "read %zd", n);
}
