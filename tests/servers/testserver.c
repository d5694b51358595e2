/*
 * testserver: a small single-threaded epoll TCP server for stutterfuzz's
 * integration tests and benchmarks. It binds --port (default: a free one) on
 * loopback, writes the port number to --port-file, and behaves as --mode
 * says:
 *
 *   record      read everything; at EOF log one line per connection:
 *               "conn N bytes B reads R sizes s1,s2,... data HEX"
 *   exit-after  like record, but exit(42) when connection --count arrives
 *   reset       read the first piece of each connection, then reset it
 *   no-accept   accept --count connections, then never accept again
 *   no-read     never read (tiny receive buffer), never close
 *   slow        like record, sleeping --delay-us before every read
 *   crash-header like record, but exit(42) when the first 5 bytes of a
 *               connection arrive in 3 or more reads (two cuts in a header)
 *   crash-first1 like record, but exit(42) when a connection's first read
 *               is exactly 1 byte
 *   overread    like record, but when --token arrives split across two
 *               reads, read one byte past a heap buffer (only valgrind or
 *               ASan see it; the server goes on)
 *   crash-split like record, but exit(42) (or abort() with --abort) when
 *               --token arrives split across
 *               two reads (whole in one read is harmless); with --fixed it
 *               only counts such splits ("split N" in the log at exit)
 *   spin-split  like record, but when --token arrives split across two
 *               reads, spin on the CPU (reading nothing more) until
 *               SIGTERM; logs "spin_at SEC.NSEC"
 *   pause       like record, but every --every-ms (default 3000) stop
 *               reading everything for --pause-ms (default 1500)
 *   crash-pair  like record, but exit(42) once --token has arrived on one
 *               connection and --token2 on another (each alone, or both on
 *               one connection, is harmless)
 *
 * --every=N --count-file=FILE (crash modes): a flaky server. Each start
 * adds one to the number in FILE; only a start whose number is a multiple
 * of N crashes when its crash condition holds, the others go on.
 *
 * With --unix=PATH it listens on a Unix-domain stream socket at PATH
 * instead (removed at exit), and writes "unix" to --port-file.
 *
 * It exits on SIGTERM or SIGINT, or after --max-seconds (default 120), and
 * then writes "total conns C reads R bytes B" to the log.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum mode { M_RECORD, M_EXIT_AFTER, M_RESET, M_NO_ACCEPT, M_NO_READ, M_SLOW,
    M_CRASH_SPLIT, M_CRASH_HEADER, M_CRASH_FIRST1, M_OVERREAD, M_SPIN_SPLIT,
    M_PAUSE, M_CRASH_PAIR };

struct client {
	int		 fd;
	unsigned long	 id;
	size_t		 bytes, reads;
	char		*sizes;		/* "s1,s2,..." */
	size_t		 sizes_len, sizes_cap;
	unsigned char	*data;
	size_t		 data_cap;
	int		 seen;		/* crash-pair: 1 token, 2 token2 (bits) */
};

static volatile sig_atomic_t stop;
static enum mode mode = M_RECORD;
static FILE *logfp;
static int log_data = 1;
static unsigned long count = 1, delay_us, pause_ms = 1500, every_ms = 3000;
static unsigned long total_conns, total_reads, total_bytes, total_splits;
static unsigned long total_pauses, next_pause;
static const char *token = "TOKEN", *token2 = "TOKEN2";
static int fixed, abort_crash;
static int armed = 1;		/* --every: this start may crash */
static unsigned long every = 1;
static const char *count_file;
static unsigned long pair_ids[2][2];	/* crash-pair: first conns per token */
static volatile unsigned char sink;

/* Milliseconds on the monotonic clock. */
static unsigned long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long)ts.tv_sec * 1000 + (unsigned long)ts.tv_nsec / 1000000;
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
die(const char *what)
{
	fprintf(stderr, "testserver: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t	ncap = *cap ? *cap * 2 : 256;

		while (ncap < *len + n + 1)
			ncap *= 2;
		*buf = realloc(*buf, ncap);
		if (*buf == NULL)
			die("realloc");
		*cap = ncap;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void
client_log(struct client *c)
{
	if (logfp == NULL)
		return;
	fprintf(logfp, "conn %lu bytes %zu reads %zu sizes %s", c->id, c->bytes,
	    c->reads, c->sizes ? c->sizes : "-");
	if (log_data) {
		fputs(" data ", logfp);
		for (size_t i = 0; i < c->bytes; i++)
			fprintf(logfp, "%02x", c->data[i]);
		if (c->bytes == 0)
			fputc('-', logfp);
	}
	fputc('\n', logfp);
	fflush(logfp);
}

static void
client_close(struct client *c, int log)
{
	if (log)
		client_log(c);
	close(c->fd);
	free(c->sizes);
	free(c->data);
	free(c);
}

/* Did the read that just ended at c->bytes (n bytes long) complete an
 * occurrence of the token that began in an earlier read? */
static int
split_token(const struct client *c, size_t n)
{
	size_t	tl = strlen(token), start = c->bytes - n;

	for (size_t i = start > tl ? start - tl + 1 : 0; i < start; i++) {
		if (i + tl <= c->bytes && memcmp(c->data + i, token, tl) == 0)
			return 1;
	}
	return 0;
}

/* --every=N --count-file=FILE: count this start; crash only on every N-th. */
static void
count_start(void)
{
	unsigned long	 n = 0;
	FILE		*f;

	if (every <= 1 || count_file == NULL)
		return;
	f = fopen(count_file, "r");
	if (f != NULL) {
		if (fscanf(f, "%lu", &n) != 1)
			n = 0;
		fclose(f);
	}
	n++;
	f = fopen(count_file, "w");
	if (f == NULL)
		die(count_file);
	fprintf(f, "%lu\n", n);
	fclose(f);
	armed = n % every == 0;
}

/* crash-pair: did the tokens now arrive on two different connections? */
static int
pair_done(struct client *c)
{
	const char	*toks[2] = { token, token2 };

	for (int t = 0; t < 2; t++) {
		if ((c->seen & (1 << t)) || memmem(c->data, c->bytes, toks[t],
		    strlen(toks[t])) == NULL)
			continue;
		c->seen |= 1 << t;
		for (int k = 0; k < 2; k++) {
			if (pair_ids[t][k] == 0) {
				pair_ids[t][k] = c->id;
				break;
			}
		}
	}
	for (int i = 0; i < 2; i++) {
		for (int k = 0; k < 2; k++) {
			if (pair_ids[0][i] != 0 && pair_ids[1][k] != 0 &&
			    pair_ids[0][i] != pair_ids[1][k])
				return 1;
		}
	}
	return 0;
}

static void
client_read(int ep, struct client *c)
{
	unsigned char	buf[65536];
	ssize_t		n;
	char		num[32];
	int		len;

	(void)ep;
	if (mode == M_SLOW && delay_us > 0) {
		struct timespec	ts = { (time_t)(delay_us / 1000000),
		    (long)(delay_us % 1000000) * 1000 };

		nanosleep(&ts, NULL);
	}
	n = read(c->fd, buf, sizeof buf);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		client_close(c, 1);
		return;
	}
	if (n == 0) {
		client_close(c, 1);
		return;
	}
	total_reads++;
	total_bytes += (unsigned long)n;
	c->reads++;
	len = snprintf(num, sizeof num, "%s%zd", c->sizes_len ? "," : "", n);
	append(&c->sizes, &c->sizes_len, &c->sizes_cap, num, (size_t)len);
	if (log_data) {
		size_t	len2 = c->bytes;

		if (c->bytes + (size_t)n > c->data_cap) {
			c->data_cap = (c->bytes + (size_t)n) * 2;
			c->data = realloc(c->data, c->data_cap);
			if (c->data == NULL)
				die("realloc");
		}
		memcpy(c->data + len2, buf, (size_t)n);
	}
	c->bytes += (size_t)n;
	if (armed && ((mode == M_CRASH_HEADER && c->reads == 3 &&
	    c->bytes - (size_t)n < 5) ||
	    (mode == M_CRASH_FIRST1 && c->reads == 1 && n == 1) ||
	    (mode == M_CRASH_PAIR && pair_done(c)))) {
		if (logfp != NULL) {
			fprintf(logfp, "crash after %lu connections\n",
			    total_conns);
			fflush(logfp);
		}
		_exit(42);
	}
	if (mode == M_OVERREAD && split_token(c, (size_t)n)) {
		unsigned char	*small = malloc(8);
		volatile size_t	 past = 8;	/* hidden from the compiler */

		if (small != NULL) {
			memset(small, 0, 8);
			sink = small[past];	/* the planted bug */
			free(small);
		}
	}
	if (mode == M_CRASH_SPLIT && split_token(c, (size_t)n)) {
		total_splits++;
		if (!fixed && armed) {
			struct timespec	ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			if (logfp != NULL) {
				fprintf(logfp, "crash_at %lld.%09ld\n",
				    (long long)ts.tv_sec, ts.tv_nsec);
				fflush(logfp);
			}
			if (abort_crash)
				abort();
			_exit(42);
		}
	}
	if (mode == M_SPIN_SPLIT && split_token(c, (size_t)n)) {
		struct timespec	ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		if (logfp != NULL) {
			fprintf(logfp, "spin_at %lld.%09ld\n",
			    (long long)ts.tv_sec, ts.tv_nsec);
			fflush(logfp);
		}
		while (!stop)
			sink++;		/* the planted bug: a loop never left */
	}
	if (mode == M_RESET) {
		struct linger	l = { 1, 0 };

		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
		client_close(c, 0);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "port", required_argument, NULL, 'P' },
		{ "log", required_argument, NULL, 'l' },
		{ "bind", required_argument, NULL, 'b' },
		{ "unix", required_argument, NULL, 'U' },
		{ "count", required_argument, NULL, 'c' },
		{ "delay-us", required_argument, NULL, 'd' },
		{ "max-seconds", required_argument, NULL, 's' },
		{ "no-data", no_argument, NULL, 'n' },
		{ "token", required_argument, NULL, 't' },
		{ "fixed", no_argument, NULL, 'F' },
		{ "abort", no_argument, NULL, 'A' },
		{ "pause-ms", required_argument, NULL, 'u' },
		{ "every-ms", required_argument, NULL, 'e' },
		{ "token2", required_argument, NULL, 'T' },
		{ "every", required_argument, NULL, 'E' },
		{ "count-file", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	const char		*port_file = NULL, *bind_addr = "127.0.0.1";
	const char		*unix_path = NULL;
	unsigned		 max_seconds = 120, port = 0;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 opt, lfd, ep, one = 1, accepting = 1;
	unsigned long		 accepted = 0;
	struct epoll_event	 ev, evs[256];
	struct sigaction	 sa;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			if (strcmp(optarg, "record") == 0) mode = M_RECORD;
			else if (strcmp(optarg, "exit-after") == 0) mode = M_EXIT_AFTER;
			else if (strcmp(optarg, "reset") == 0) mode = M_RESET;
			else if (strcmp(optarg, "no-accept") == 0) mode = M_NO_ACCEPT;
			else if (strcmp(optarg, "no-read") == 0) mode = M_NO_READ;
			else if (strcmp(optarg, "slow") == 0) mode = M_SLOW;
			else if (strcmp(optarg, "crash-split") == 0) mode = M_CRASH_SPLIT;
			else if (strcmp(optarg, "crash-header") == 0) mode = M_CRASH_HEADER;
			else if (strcmp(optarg, "crash-first1") == 0) mode = M_CRASH_FIRST1;
			else if (strcmp(optarg, "overread") == 0) mode = M_OVERREAD;
			else if (strcmp(optarg, "spin-split") == 0) mode = M_SPIN_SPLIT;
			else if (strcmp(optarg, "pause") == 0) mode = M_PAUSE;
			else if (strcmp(optarg, "crash-pair") == 0) mode = M_CRASH_PAIR;
			else { fprintf(stderr, "testserver: bad mode\n"); return 2; }
			break;
		case 'p': port_file = optarg; break;
		case 'P': port = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'l':
			logfp = fopen(optarg, "w");
			if (logfp == NULL)
				die(optarg);
			break;
		case 'b': bind_addr = optarg; break;
		case 'U': unix_path = optarg; break;
		case 'c': count = strtoul(optarg, NULL, 10); break;
		case 'd': delay_us = strtoul(optarg, NULL, 10); break;
		case 's': max_seconds = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': log_data = 0; break;
		case 't': token = optarg; break;
		case 'F': fixed = 1; break;
		case 'A': abort_crash = 1; break;
		case 'u': pause_ms = strtoul(optarg, NULL, 10); break;
		case 'e': every_ms = strtoul(optarg, NULL, 10); break;
		case 'T': token2 = optarg; break;
		case 'E': every = strtoul(optarg, NULL, 10); break;
		case 'C': count_file = optarg; break;
		default: return 2;
		}
	}

	count_start();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	alarm(max_seconds);

	memset(&ss, 0, sizeof ss);
	if (unix_path != NULL) {
		struct sockaddr_un	*su = (void *)&ss;

		su->sun_family = AF_UNIX;
		if (strlen(unix_path) >= sizeof su->sun_path)
			die("--unix too long");
		strcpy(su->sun_path, unix_path);
		unlink(unix_path);
		sslen = sizeof *su;
	} else if (strchr(bind_addr, ':') != NULL) {
		struct sockaddr_in6	*s6 = (void *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, bind_addr, &s6->sin6_addr) != 1)
			die("bad --bind");
		sslen = sizeof *s6;
	} else {
		struct sockaddr_in	*s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, bind_addr, &s4->sin_addr) != 1)
			die("bad --bind");
		sslen = sizeof *s4;
	}
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket");
	if (unix_path == NULL)
		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (mode == M_NO_READ) {
		int	small = 2048;

		setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	}
	if (bind(lfd, (struct sockaddr *)&ss, sslen) < 0)
		die("bind");
	if (listen(lfd, mode == M_NO_ACCEPT ? 1 : 4096) < 0)
		die("listen");
	sslen = sizeof ss;
	getsockname(lfd, (struct sockaddr *)&ss, &sslen);
	if (port_file != NULL) {
		char	 tmp[4096];
		FILE	*f;
		unsigned bound = ss.ss_family == AF_UNIX ? 0 :
		    ss.ss_family == AF_INET6 ?
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
		    ntohs(((struct sockaddr_in *)&ss)->sin_port);

		snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
		f = fopen(tmp, "w");
		if (f == NULL)
			die(tmp);
		if (unix_path != NULL)
			fprintf(f, "unix\n");
		else
			fprintf(f, "%u\n", bound);
		fclose(f);
		if (rename(tmp, port_file) < 0)
			die("rename");
	}

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);

	next_pause = now_ms() + every_ms;
	while (!stop) {
		int	n;

		if (mode == M_PAUSE && now_ms() >= next_pause) {
			struct timespec	ts = { (time_t)(pause_ms / 1000),
			    (long)(pause_ms % 1000) * 1000000 };

			nanosleep(&ts, NULL);	/* reads nothing meanwhile */
			total_pauses++;
			next_pause = now_ms() + every_ms;
		}
		n = epoll_wait(ep, evs, 256, 200);

		for (int i = 0; i < n; i++) {
			struct client	*c = evs[i].data.ptr;

			if (c != NULL) {
				client_read(ep, c);
				continue;
			}
			while (accepting) {
				int	cfd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC);

				if (cfd < 0)
					break;
				accepted++;
				total_conns++;
				if (mode == M_EXIT_AFTER && accepted >= count) {
					if (logfp)
						fflush(logfp);
					_exit(42);
				}
				c = calloc(1, sizeof *c);
				if (c == NULL)
					die("calloc");
				c->fd = cfd;
				c->id = accepted;
				if (mode != M_NO_READ) {
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
				}
				if (mode == M_NO_ACCEPT && accepted >= count) {
					accepting = 0;
					epoll_ctl(ep, EPOLL_CTL_DEL, lfd, NULL);
				}
			}
		}
	}
	if (logfp != NULL) {
		fprintf(logfp, "total conns %lu reads %lu bytes %lu pauses %lu"
		    " split %lu\n", total_conns, total_reads, total_bytes,
		    total_pauses, total_splits);
		fclose(logfp);
	}
	if (unix_path != NULL)
		unlink(unix_path);
	return 0;
}
