/*
 * kvserver: a key-value server for stutterfuzz's answer tests. Text lines,
 * one command each, "\r\n" or "\n" ended:
 *
 *   SET key value   -> "+OK\r\n"
 *   GET key         -> "$N\r\nvalue\r\n", or "$-1\r\n" when unset
 *   INCR key        -> ":N\r\n" (counters are shared by all connections)
 *   DEL key         -> ":1\r\n" or ":0\r\n"
 *   PING            -> "+PONG\r\n"
 *   anything else   -> "-ERR unknown command\r\n"
 *
 * SET, GET and DEL keys belong to the connection that set them (its own
 * keyspace, dropped when it closes), so what one connection stores never
 * answers another's GET; a GET of a key the connection never set reads the
 * shared counters (INCR), the control whose answers other connections
 * change.
 *
 * The planted bug: when a read ends inside the key of a SET, the rest of
 * the key in the next read is lost, so the value is stored under the head
 * of the key and a later GET of the whole key answers "$-1". --fixed
 * removes it. Same conventions as testserver: --port-file, --port, --bind,
 * --log (with --log-reads one "read B" line per read), --max-seconds; logs
 * "cut key HEAD" when the bug bites (bytes of a key were lost; HEAD is what
 * is kept) and "total conns C reads R cut K" at exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "serve.h"

#define LINE_MAX_BYTES	2048
#define STORE_MAX	4096
#define KEY_MAX		256

struct client {
	struct serve_conn *conn;
	unsigned long id;	/* its keyspace */
	char	line[LINE_MAX_BYTES];
	size_t	len;
	int	skip_key;	/* the bug: drop key bytes until a blank */
	size_t	dropped;	/* key bytes dropped so far */
};

struct entry {
	char	key[KEY_MAX];
	char	*value;
};

static struct serve_opts opts;
static struct entry store[STORE_MAX];
static size_t nstore;
static unsigned long total_conns, total_reads, total_cut;

/* The entry of key, or NULL; with create, a new one. */
static struct entry *
lookup(const char *key, int create)
{
	for (size_t i = 0; i < nstore; i++) {
		if (strcmp(store[i].key, key) == 0)
			return &store[i];
	}
	if (!create || nstore == STORE_MAX || strlen(key) >= KEY_MAX)
		return NULL;
	snprintf(store[nstore].key, KEY_MAX, "%s", key);
	store[nstore].value = NULL;
	return &store[nstore++];
}

/* The store's name of c's key (its own keyspace). */
static const char *
own_key(const struct client *c, const char *key, char *buf, size_t size)
{
	snprintf(buf, size, "%lu\x1f%s", c->id, key);
	return buf;
}

/* Drops c's keyspace (it closed). */
static void
drop_keys(const struct client *c)
{
	char	prefix[32];
	size_t	plen = (size_t)snprintf(prefix, sizeof prefix, "%lu\x1f", c->id);

	for (size_t i = 0; i < nstore;) {
		if (strncmp(store[i].key, prefix, plen) == 0) {
			free(store[i].value);
			store[i] = store[--nstore];
		} else {
			i++;
		}
	}
}

/* Sends s on c (the test's answers are small: one write). */
static void
reply(struct client *c, const char *s)
{
	serve_send(c->conn->fd, s, strlen(s));
}

/* Runs one command line (NUL-terminated, no line end). */
static void
command(struct client *c, char *line)
{
	char		*cmd = strtok(line, " "), *key = strtok(NULL, " ");
	char		*value = strtok(NULL, "");
	char		 out[LINE_MAX_BYTES + 64], own[KEY_MAX + 32];
	struct entry	*e;

	if (cmd != NULL && strcasecmp(cmd, "PING") == 0) {
		reply(c, "+PONG\r\n");
	} else if (cmd != NULL && key != NULL && strcasecmp(cmd, "SET") == 0 &&
	    value != NULL && (e = lookup(own_key(c, key, own, sizeof own),
	    1)) != NULL) {
		free(e->value);
		e->value = strdup(value);
		reply(c, "+OK\r\n");
	} else if (cmd != NULL && key != NULL && strcasecmp(cmd, "GET") == 0) {
		e = lookup(own_key(c, key, own, sizeof own), 0);
		if (e == NULL)
			e = lookup(key, 0);	/* a shared counter */
		if (e == NULL || e->value == NULL)
			reply(c, "$-1\r\n");
		else {
			snprintf(out, sizeof out, "$%zu\r\n%s\r\n",
			    strlen(e->value), e->value);
			reply(c, out);
		}
	} else if (cmd != NULL && key != NULL && strcasecmp(cmd, "INCR") == 0 &&
	    (e = lookup(key, 1)) != NULL) {
		long long	v = e->value ? strtoll(e->value, NULL, 10) : 0;

		snprintf(out, sizeof out, "%lld", v + 1);
		free(e->value);
		e->value = strdup(out);
		snprintf(out, sizeof out, ":%lld\r\n", v + 1);
		reply(c, out);
	} else if (cmd != NULL && key != NULL && strcasecmp(cmd, "DEL") == 0) {
		e = lookup(own_key(c, key, own, sizeof own), 0);
		reply(c, e != NULL && e->value != NULL ? ":1\r\n" : ":0\r\n");
		if (e != NULL) {
			free(e->value);
			e->value = NULL;
		}
	} else
		reply(c, "-ERR unknown command\r\n");
}

/* Whether the partial line ends inside the key of a SET. */
static int
in_set_key(const struct client *c)
{
	return c->len > 4 && strncasecmp(c->line, "SET ", 4) == 0 &&
	    memchr(c->line + 4, ' ', c->len - 4) == NULL;
}

/* The bug bit: the key's tail was dropped; logs the head that is kept. */
static void
key_lost(const struct client *c)
{
	total_cut++;
	serve_log(opts.log, "cut key %.*s", (int)(c->len - 4), c->line + 4);
}

/* Takes in the n bytes of one read. */
static void
client_bytes(struct client *c, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char	b = buf[i];

		if (c->skip_key) {
			if (b != ' ' && b != '\r' && b != '\n') {
				c->dropped++;	/* the lost tail of the key */
				continue;
			}
			c->skip_key = 0;
			if (c->dropped > 0)
				key_lost(c);
		}
		if (b == '\n') {
			if (c->len > 0 && c->line[c->len - 1] == '\r')
				c->len--;
			c->line[c->len] = '\0';
			command(c, c->line);
			c->len = 0;
		} else if (c->len + 1 < sizeof c->line)
			c->line[c->len++] = b;
	}
	if (!opts.fixed && in_set_key(c)) {
		c->skip_key = 1;
		c->dropped = 0;
	}
}

/* Reads what c sent; closes it at EOF or on an error. */
static void
client_read(void *user)
{
	struct client	*c = user;
	char		 buf[65536];
	ssize_t		 n = serve_read(&opts, c->conn, buf, sizeof buf);

	if (n == -2)
		return;
	if (n <= 0) {
		drop_keys(c);
		serve_close(c->conn);
		return;
	}
	total_reads++;
	client_bytes(c, buf, (size_t)n);
}

/* A new connection with a keyspace of its own. */
static int
client_new(struct serve_conn *conn)
{
	struct client	*c = conn->user;

	c->conn = conn;
	c->id = ++total_conns;
	return 0;
}

/* Options, the listening socket, and the loop. */
int
main(int argc, char **argv)
{
	static const struct serve_ops ops = {
		.user_size = sizeof (struct client),
		.accepted = client_new,
		.readable = client_read,
	};
	int	rc;

	if ((rc = serve_options(&opts, "kvserver", SERVE_LOG_READS, argc, argv,
	    NULL, NULL)) != 0)
		return rc;
	serve_run(&opts, &ops);
	serve_log(opts.log, "total conns %lu reads %lu cut %lu", total_conns,
	    total_reads, total_cut);
	serve_end(&opts);
	return 0;
}
