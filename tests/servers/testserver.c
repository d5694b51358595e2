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
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "serve.h"

enum mode { M_RECORD, M_EXIT_AFTER, M_RESET, M_NO_ACCEPT, M_NO_READ, M_SLOW,
    M_CRASH_SPLIT, M_CRASH_HEADER, M_CRASH_FIRST1, M_OVERREAD, M_SPIN_SPLIT,
    M_PAUSE, M_CRASH_PAIR };

/* --mode's names. */
static const char *const mode_names[] = {
	[M_RECORD] = "record",
	[M_EXIT_AFTER] = "exit-after",
	[M_RESET] = "reset",
	[M_NO_ACCEPT] = "no-accept",
	[M_NO_READ] = "no-read",
	[M_SLOW] = "slow",
	[M_CRASH_SPLIT] = "crash-split",
	[M_CRASH_HEADER] = "crash-header",
	[M_CRASH_FIRST1] = "crash-first1",
	[M_OVERREAD] = "overread",
	[M_SPIN_SPLIT] = "spin-split",
	[M_PAUSE] = "pause",
	[M_CRASH_PAIR] = "crash-pair",
};

struct client {
	struct serve_conn *conn;
	unsigned long	 id;
	size_t		 bytes, reads;
	char		*sizes;		/* "s1,s2,..." */
	size_t		 sizes_len, sizes_cap;
	unsigned char	*data;
	size_t		 data_cap;
	int		 seen;		/* crash-pair: 1 token, 2 token2 (bits) */
};

static struct serve_opts opts;
static enum mode mode = M_RECORD;
static int log_data = 1;
static unsigned long count = 1, delay_us, pause_ms = 1500, every_ms = 3000;
static unsigned long total_conns, total_reads, total_bytes, total_splits;
static unsigned long total_pauses, next_pause;
static unsigned long accepted;		/* connections so far */
static const char *token = "TOKEN", *token2 = "TOKEN2";
static int abort_crash;
static int armed = 1;		/* --every: this start may crash */
static unsigned long every = 1;
static const char *count_file;
static unsigned long pair_ids[2][2];	/* crash-pair: first conns per token */
static volatile unsigned char sink;

/* Appends n bytes of s to the growing string *buf. */
static void
append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t	ncap = *cap ? *cap * 2 : 256;

		while (ncap < *len + n + 1)
			ncap *= 2;
		*buf = realloc(*buf, ncap);
		if (*buf == NULL)
			serve_die("realloc");
		*cap = ncap;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* Logs c's "conn" line. */
static void
client_log(struct client *c)
{
	if (opts.log == NULL)
		return;
	fprintf(opts.log, "conn %lu bytes %zu reads %zu sizes %s", c->id, c->bytes,
	    c->reads, c->sizes ? c->sizes : "-");
	if (log_data) {
		fputs(" data ", opts.log);
		for (size_t i = 0; i < c->bytes; i++)
			fprintf(opts.log, "%02x", c->data[i]);
		if (c->bytes == 0)
			fputc('-', opts.log);
	}
	fputc('\n', opts.log);
	fflush(opts.log);
}

/* Closes c, after its "conn" line with log. */
static void
client_close(struct client *c, int log)
{
	if (log)
		client_log(c);
	free(c->sizes);
	free(c->data);
	serve_close(c->conn);
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
		serve_die(count_file);
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

/* Reads what c sent and does what the mode says. */
static void
client_read(void *user)
{
	struct client	*c = user;
	unsigned char	 buf[65536];
	ssize_t		 n;
	char		 num[32];
	int		 len;

	if (mode == M_SLOW && delay_us > 0) {
		struct timespec	ts = { (time_t)(delay_us / 1000000),
		    (long)(delay_us % 1000000) * 1000 };

		nanosleep(&ts, NULL);
	}
	n = serve_read(&opts, c->conn, buf, sizeof buf);
	if (n == -2)
		return;
	if (n <= 0) {
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
				serve_die("realloc");
		}
		memcpy(c->data + len2, buf, (size_t)n);
	}
	c->bytes += (size_t)n;
	if (armed && ((mode == M_CRASH_HEADER && c->reads == 3 &&
	    c->bytes - (size_t)n < 5) ||
	    (mode == M_CRASH_FIRST1 && c->reads == 1 && n == 1) ||
	    (mode == M_CRASH_PAIR && pair_done(c)))) {
		if (opts.log != NULL) {
			fprintf(opts.log, "crash after %lu connections\n",
			    total_conns);
			fflush(opts.log);
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
		if (!opts.fixed && armed) {
			struct timespec	ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			if (opts.log != NULL) {
				fprintf(opts.log, "crash_at %lld.%09ld\n",
				    (long long)ts.tv_sec, ts.tv_nsec);
				fflush(opts.log);
			}
			if (abort_crash)
				abort();
			_exit(42);
		}
	}
	if (mode == M_SPIN_SPLIT && split_token(c, (size_t)n)) {
		struct timespec	ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		if (opts.log != NULL) {
			fprintf(opts.log, "spin_at %lld.%09ld\n",
			    (long long)ts.tv_sec, ts.tv_nsec);
			fflush(opts.log);
		}
		while (!serve_stop)
			sink++;		/* the planted bug: a loop never left */
	}
	if (mode == M_RESET) {
		struct linger	l = { 1, 0 };

		setsockopt(c->conn->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
		client_close(c, 0);
	}
}

/* pause: every --every-ms, reads nothing for --pause-ms (before a wait). */
static void
pause_tick(void)
{
	if (next_pause == 0)
		next_pause = serve_now_ms() + every_ms;
	if (serve_now_ms() >= next_pause) {
		struct timespec	ts = { (time_t)(pause_ms / 1000),
		    (long)(pause_ms % 1000) * 1000000 };

		nanosleep(&ts, NULL);	/* reads nothing meanwhile */
		total_pauses++;
		next_pause = serve_now_ms() + every_ms;
	}
}

/* A new connection: exit-after exits, no-read leaves it unread, no-accept
 * stops accepting after --count. */
static int
client_new(struct serve_conn *conn)
{
	struct client	*c = conn->user;

	accepted++;
	total_conns++;
	if (mode == M_EXIT_AFTER && accepted >= count) {
		if (opts.log)
			fflush(opts.log);
		_exit(42);
	}
	if (mode == M_NO_ACCEPT && accepted >= count)
		serve_stop_accepting(conn->srv);
	if (mode == M_NO_READ)
		return -1;
	c->conn = conn;
	c->id = accepted;
	return 0;
}

/* testserver's own options. */
static int
own_option(int opt, const char *arg)
{
	size_t	m;

	switch (opt) {
	case 'm':
		for (m = 0; m < sizeof mode_names / sizeof *mode_names; m++) {
			if (strcmp(arg, mode_names[m]) == 0)
				break;
		}
		if (m == sizeof mode_names / sizeof *mode_names) {
			fprintf(stderr, "testserver: bad mode\n");
			return -1;
		}
		mode = (enum mode)m;
		break;
	case 'c': count = strtoul(arg, NULL, 10); break;
	case 'd': delay_us = strtoul(arg, NULL, 10); break;
	case 'n': log_data = 0; break;
	case 't': token = arg; break;
	case 'A': abort_crash = 1; break;
	case 'u': pause_ms = strtoul(arg, NULL, 10); break;
	case 'e': every_ms = strtoul(arg, NULL, 10); break;
	case 'T': token2 = arg; break;
	case 'E': every = strtoul(arg, NULL, 10); break;
	case 'C': count_file = arg; break;
	default: return -1;
	}
	return 0;
}

/* Options, the listening socket, and the loop. */
int
main(int argc, char **argv)
{
	static const struct option own[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "count", required_argument, NULL, 'c' },
		{ "delay-us", required_argument, NULL, 'd' },
		{ "no-data", no_argument, NULL, 'n' },
		{ "token", required_argument, NULL, 't' },
		{ "abort", no_argument, NULL, 'A' },
		{ "pause-ms", required_argument, NULL, 'u' },
		{ "every-ms", required_argument, NULL, 'e' },
		{ "token2", required_argument, NULL, 'T' },
		{ "every", required_argument, NULL, 'E' },
		{ "count-file", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	struct serve_ops	ops = {
		.user_size = sizeof (struct client),
		.accepted = client_new,
		.readable = client_read,
	};
	int			rc;

	if ((rc = serve_options(&opts, "testserver", SERVE_UNIX, argc, argv,
	    own, own_option)) != 0)
		return rc;
	count_start();
	if (mode == M_NO_READ)
		opts.rcvbuf = 2048;
	if (mode == M_NO_ACCEPT)
		opts.backlog = 1;
	if (mode == M_PAUSE)
		ops.tick = pause_tick;
	serve_run(&opts, &ops);
	if (opts.log != NULL)
		fprintf(opts.log, "total conns %lu reads %lu bytes %lu pauses %lu"
		    " split %lu\n", total_conns, total_reads, total_bytes,
		    total_pauses, total_splits);
	serve_end(&opts);
	return 0;
}
