/*
 * The proxy: both directions of many connections in one event loop, and
 * the cutting, paced sending half toward the server.
 *
 * Every change of what a connection waits for goes through sess_update(),
 * which looks at the buffers and the end flags and arms exactly the events
 * that make progress possible; it also passes on half-closes and ends the
 * connection once both directions are done.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "corpus.h"
#include "diag.h"
#include "pace.h"
#include "proxy.h"
#include "record.h"
#include "sha256.h"
#include "util.h"

#define ACCEPT_BUDGET	64	/* accepts per wake-up */
#define IO_BUDGET	8	/* reads or writes per wake-up and side */
#define ACCEPT_RETRY_MS	1000	/* out of descriptors: accept again later */
#define LOOKUP_LOST_US	20000	/* a lookup unanswered by then is asked again */
#define DIAG_BLIND	64	/* replies all "not found": sock_diag is blind */
#define DIAG_GEN_MASK	4095	/* generation bits a diag reply carries */

/* A bounded buffer of one direction: bytes read from one side, not yet
 * written to the other. */
struct pbuf {
	unsigned char	*data;
	size_t		 cap;
	size_t		 head;		/* first unsent byte */
	size_t		 len;		/* unsent bytes */
};

/* Bytes of a stream kept for records, traces and the corpus. */
struct keep {
	unsigned char	*data;
	size_t		 len;
	size_t		 cap;
	size_t		 total;		/* bytes seen in all */
};

/* A finished connection, kept for suspects of a later finding. */
struct recent {
	int		 used;
	struct blob	 blob;
	struct plan	 plan;
	uint32_t	*gaps;
	uint32_t	 ngaps;
	uint32_t	 frags_sent;
	size_t		 bytes_sent;
	unsigned	 local_port;
	enum conn_outcome outcome;
	uint64_t	 start_us, end_us;
};

struct sess {
	struct proxy		*p;
	uint32_t		 slot;
	uint32_t		 gen;
	uint64_t		 index;
	int			 cfd;		/* the client */
	int			 sfd;		/* the server */
	int			 connected;
	struct pbuf		 up;		/* client to server */
	struct pbuf		 down;		/* server to client */
	int			 up_eof, down_eof;	/* EOF read from client, server */
	int			 up_shut, down_shut;	/* passed on */
	int			 server_first;	/* the server's EOF came first */
	struct event		*ev_cr, *ev_cw, *ev_sr, *ev_sw, *ev_timer;
	/* Cutting. */
	struct plan		 chunk;		/* the chunk being sent */
	uint32_t		 piece;		/* next piece of it */
	size_t			 piece_off;	/* bytes of that piece sent */
	int			 pacing;	/* a piece went; waiting to send more */
	int			 diag_out;	/* a lookup is out */
	unsigned		 polls;
	uint64_t		 t_last_us;	/* last piece fully sent */
	struct sockaddr_storage	 local;
	/* A Unix server's full backlog (EAGAIN): connecting again. */
	int			 backlog;	/* met one (reported) */
	int			 retrying;	/* the timer connects again */
	uint64_t		 retry_us;	/* the last wait */
	uint64_t		 connect_end_us;	/* --connect-timeout */
	uint32_t		 cookie[2];
	int			 cookie_known;
	/* Reports. */
	struct keep		 kept;		/* client's bytes */
	struct keep		 answer;	/* server's bytes */
	struct plan		 log;		/* pieces sent, covering kept bytes */
	uint32_t		*gaps;
	uint32_t		 ngaps, gaps_cap;
	uint32_t		 pieces;	/* pieces fully sent */
	uint64_t		 sent;		/* bytes sent to the server */
	unsigned		 local_port;
	uint64_t		 t_start_us;
	const char		*outcome;
	char			 name[2 * SHA256_LEN + 1];
};

/* A finding waiting for the target's fate, with a copy of its culprit. */
struct held {
	struct finding		 f;
	int			 has_culprit;
	struct recent		 c;
	uint64_t		 due_us;	/* decided then at the latest */
};

struct proxy {
	struct event_base	*base;
	struct proxy_config	 cfg;
	struct proxy_hooks	 hooks;
	void			*arg;
	struct event		*ev_accept;
	struct event		*ev_retry;
	int			 paused;
	int			 listening;	/* ev_accept is armed */
	struct sess		**slots;	/* max_conns */
	uint32_t		*gens;
	uint64_t		 next_index;
	enum pace_mode		 pace;		/* in effect: read or ack */
	char			*pace_why;
	struct diag		*diag;
	struct event		*ev_diag;
	uint64_t		 diag_replies, diag_found;
	uint64_t		 read_us;	/* mean time for the server to read */
	struct recent		 recent[PROXY_RECENT];
	unsigned		 recent_next;
	int			 to_unix;	/* the server is a Unix socket */
	int			 listen_unix;	/* so are the clients */
	struct held		*held;		/* grown up to max_conns */
	size_t			 nheld, held_cap;
	struct event		*ev_hold;	/* the hold time is over */
	struct proxy_stats	 st;
};

static int	sess_update(struct sess *s);
static void	sess_cut_send(struct sess *s);
static void	sess_connect(struct sess *s);
static void	proxy_accept_cb(evutil_socket_t, short, void *);
static void	proxy_backoff(struct proxy *);

/* Cuts chunk number `chunk` of connection `index`. */
int
proxy_plan_chunk(struct plan *out, uint64_t seed, uint64_t index,
    uint64_t chunk, const unsigned char *data, size_t len,
    const struct plan_params *params)
{
	struct plan_params	pp = *params;

	pp.fastopen_chance = 0;
	pp.close_chance = 0;
	/* A stream of a thousand chunks is a thousand visits: each chunk
	 * draws its own cuts, and the mix turns over its strategies. */
	if (plan_make(out, seed, index, chunk, data, len, &pp) == -1)
		return -1;
	out->close_after = out->nfrags;
	return 0;
}

/* Appends the sizes of chunk to log, keeping its total within limit. */
int
proxy_log_append(struct plan *log, const struct plan *chunk, size_t limit)
{
	for (uint32_t i = 0; i < chunk->nfrags && log->len < limit; i++) {
		uint32_t	size = chunk->sizes[i];

		if (size > limit - log->len)
			size = (uint32_t)(limit - log->len);
		if (log->nfrags == log->cap) {
			uint32_t	 cap = log->cap ? log->cap * 2 : 16;
			uint32_t	*sizes = reallocarray(log->sizes, cap,
					    sizeof *sizes);

			if (sizes == NULL)
				return -1;
			log->sizes = sizes;
			log->cap = cap;
		}
		log->sizes[log->nfrags++] = size;
		log->len += size;
	}
	log->close_after = log->nfrags;
	return 0;
}

/* Would a connection to `to` come back to the proxy listening on `listen`? */
int
proxy_same_endpoint(const struct sockaddr *listen, const struct sockaddr *to)
{
	if (listen->sa_family == AF_INET && to->sa_family == AF_INET) {
		const struct sockaddr_in *l = (const void *)listen;
		const struct sockaddr_in *t = (const void *)to;

		return l->sin_port == t->sin_port &&
		    (l->sin_addr.s_addr == t->sin_addr.s_addr ||
		    l->sin_addr.s_addr == htonl(INADDR_ANY));
	}
	if (listen->sa_family == AF_INET6 && to->sa_family == AF_INET6) {
		const struct sockaddr_in6 *l = (const void *)listen;
		const struct sockaddr_in6 *t = (const void *)to;

		return l->sin6_port == t->sin6_port &&
		    (memcmp(&l->sin6_addr, &t->sin6_addr,
		    sizeof l->sin6_addr) == 0 ||
		    IN6_IS_ADDR_UNSPECIFIED(&l->sin6_addr));
	}
	if (listen->sa_family == AF_INET6 && to->sa_family == AF_INET) {
		/* A v6 wildcard usually takes v4 connections too. */
		const struct sockaddr_in6 *l = (const void *)listen;
		const struct sockaddr_in *t = (const void *)to;

		return l->sin6_port == t->sin_port &&
		    IN6_IS_ADDR_UNSPECIFIED(&l->sin6_addr);
	}
	if (listen->sa_family == AF_UNIX && to->sa_family == AF_UNIX) {
		const struct sockaddr_un *l = (const void *)listen;
		const struct sockaddr_un *t = (const void *)to;
		char	a[sizeof l->sun_path + 1], b[sizeof t->sun_path + 1];

		snprintf(a, sizeof a, "%.*s", (int)sizeof l->sun_path,
		    l->sun_path);
		snprintf(b, sizeof b, "%.*s", (int)sizeof t->sun_path,
		    t->sun_path);
		return proxy_same_path(a, b, NULL);
	}
	return 0;
}

/* Writes path into out (len bytes) without empty and "." components, from
 * cwd if it is relative and cwd is given. Returns -1 if it does not fit. */
static int
path_normal(const char *path, const char *cwd, char *out, size_t len)
{
	size_t		 n = 0;
	const char	*parts[2] = { NULL, path };

	if (path[0] != '/' && cwd != NULL)
		parts[0] = cwd;
	if (len == 0)
		return -1;
	if (path[0] == '/' || parts[0] != NULL)
		out[n++] = '/';
	for (int i = 0; i < 2; i++) {
		const char	*p = parts[i];

		while (p != NULL && *p != '\0') {
			size_t	k = strcspn(p, "/");

			if (k == 0 || (k == 1 && p[0] == '.')) {
				p += k + (p[k] == '/');
				continue;
			}
			if (n > 0 && out[n - 1] != '/')
				out[n++] = '/';
			if (n + k + 1 >= len)
				return -1;
			memcpy(out + n, p, k);
			n += k;
			p += k + (p[k] == '/');
		}
	}
	out[n] = '\0';
	return 0;
}

/* Do two socket paths name the same file, as far as their text says? */
int
proxy_same_path(const char *a, const char *b, const char *cwd)
{
	char	na[2 * PATH_MAX], nb[2 * PATH_MAX];

	if (path_normal(a, cwd, na, sizeof na) == -1 ||
	    path_normal(b, cwd, nb, sizeof nb) == -1)
		return strcmp(a, b) == 0;
	return strcmp(na, nb) == 0;
}

/* Is something accepting on the Unix socket at su? 1 yes (or its backlog
 * is full), 0 nobody (a stale file, or gone), -1 with errno otherwise. */
static int
unix_in_use(const struct sockaddr_un *su, socklen_t len)
{
	int	fd, rc, err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	rc = connect(fd, (const struct sockaddr *)su, len);
	err = errno;
	close(fd);
	if (rc == 0 || err == EAGAIN || err == EINPROGRESS)
		return 1;
	if (err == ECONNREFUSED || err == ENOENT)
		return 0;
	errno = err;
	return -1;
}

/* Checks what is at the path to listen on; a stale socket is removed. */
static int
unix_clear(const struct sockaddr_un *su, socklen_t len, char **cause)
{
	struct stat	st;

	if (stat(su->sun_path, &st) == 0 && S_ISDIR(st.st_mode)) {
		*cause = xasprintf("a directory, not a socket");
		return -1;
	}
	if (lstat(su->sun_path, &st) == -1)
		return 0;		/* nothing there (or the bind says) */
	if (!S_ISSOCK(st.st_mode)) {
		*cause = xasprintf("exists but is not a socket");
		return -1;
	}
	switch (unix_in_use(su, len)) {
	case 1:
		*cause = xasprintf("in use: a server accepts connections on "
		    "it");
		return -1;
	case 0:
		/* Stale: its server is gone. */
		if (unlink(su->sun_path) == -1 && errno != ENOENT) {
			*cause = xasprintf("a stale socket that cannot be "
			    "removed: %s", strerror(errno));
			return -1;
		}
		return 0;
	default:
		*cause = xasprintf("%s", strerror(errno));
		return -1;
	}
}

/* Listens on a Unix-domain stream socket at path. */
int
proxy_listen_unix(const char *path, struct proxy_unix_listen *ul,
    char **cause)
{
	struct sockaddr_un	su = { .sun_family = AF_UNIX };
	struct stat		st;
	size_t			n = strlen(path);
	socklen_t		len;
	int			fd;

	memset(ul, 0, sizeof *ul);
	if (n == 0) {
		*cause = xasprintf("empty path");
		return -1;
	}
	if (n >= sizeof su.sun_path) {
		*cause = xasprintf("%zu bytes, longer than the %zu a socket "
		    "address holds (use a shorter or relative path)", n,
		    sizeof su.sun_path - 1);
		return -1;
	}
	memcpy(su.sun_path, path, n + 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	if (unix_clear(&su, len, cause) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		*cause = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&su, len) == -1) {
		*cause = errno == EADDRINUSE ? xasprintf("in use (made again "
		    "meanwhile)") : xasprintf("%s", strerror(errno));
		close(fd);
		return -1;
	}
	memcpy(ul->path, path, n + 1);
	if (stat(path, &st) == 0) {
		ul->dev = st.st_dev;
		ul->ino = st.st_ino;
		ul->made = 1;
	}
	if (listen(fd, 4096) == -1) {
		*cause = xasprintf("listen: %s", strerror(errno));
		proxy_unlink_unix(ul, -1);
		close(fd);
		ul->made = 0;
		return -1;
	}
	return fd;
}

/* Does a connection to path arrive at our listening socket lfd? The
 * probe socket is autobound to an abstract name, so that among what
 * accept() returns it is known by its address. Others accepted meanwhile
 * are closed: the proxy is ending. */
static int
unix_is_ours(int lfd, const char *path)
{
	struct sockaddr_un	su = { .sun_family = AF_UNIX }, me, peer;
	socklen_t		ml = sizeof me, pl;
	int			fd, cfd, ours = 0;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return 0;
	snprintf(su.sun_path, sizeof su.sun_path, "%s", path);
	if (bind(fd, (struct sockaddr *)&su, sizeof su.sun_family) == -1 ||
	    getsockname(fd, (struct sockaddr *)&me, &ml) == -1 ||
	    connect(fd, (struct sockaddr *)&su, sizeof su) == -1) {
		close(fd);
		return 0;
	}
	for (int i = 0; i <= 4096 && !ours; i++) {
		pl = sizeof peer;
		cfd = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
		if (cfd == -1 && errno == EINTR)
			continue;
		if (cfd == -1)
			break;
		ours = pl == ml && memcmp(&peer, &me, ml) == 0;
		close(cfd);
	}
	close(fd);
	return ours;
}

/* Removes the socket file we made, if it is still that one. */
void
proxy_unlink_unix(const struct proxy_unix_listen *ul, int listen_fd)
{
	struct stat	st;

	if (ul == NULL || !ul->made)
		return;
	if (lstat(ul->path, &st) == -1 || !S_ISSOCK(st.st_mode) ||
	    st.st_dev != ul->dev || st.st_ino != ul->ino)
		return;
	/* An inode number may be used again at once: ask the socket. */
	if (listen_fd != -1 && !unix_is_ours(listen_fd, ul->path))
		return;
	unlink(ul->path);
}

/* Binds and listens on addr. */
int
proxy_listen(const struct sockaddr *addr, socklen_t len, char **cause)
{
	int	fd, one = 1;

	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		*cause = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, addr, len) == -1 || listen(fd, 4096) == -1) {
		*cause = xasprintf("%s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Arms or disarms an event. */
static void
ev_want(struct event *ev, int want)
{
	int	pending = event_pending(ev, EV_READ | EV_WRITE, NULL);

	if (want && !pending)
		event_add(ev, NULL);
	else if (!want && pending)
		event_del(ev);
}

/* Frees an event; accepts NULL. */
static void
ev_free(struct event *ev)
{
	if (ev != NULL)
		event_free(ev);
}

/* Arms a timer in us microseconds. */
static void
timer_in(struct event *ev, uint64_t us)
{
	struct timeval	tv = {
		.tv_sec = (time_t)(us / 1000000),
		.tv_usec = (suseconds_t)(us % 1000000),
	};

	event_add(ev, &tv);
}

/* Makes room for n more bytes at the end of b (compacting first). */
static size_t
pbuf_room(struct pbuf *b)
{
	if (b->len == 0)
		b->head = 0;
	if (b->head > 0 && b->head + b->len == b->cap) {
		memmove(b->data, b->data + b->head, b->len);
		b->head = 0;
	}
	return b->cap - b->head - b->len;
}

/* Appends to a kept stream, up to its cap. */
static void
keep_add(struct keep *k, size_t limit, const unsigned char *p, size_t n)
{
	size_t	take = k->len < limit ? limit - k->len : 0;

	k->total += n;
	if (take > n)
		take = n;
	if (take == 0)
		return;
	if (k->len + take > k->cap) {
		size_t	cap = k->cap ? k->cap : 4096;

		while (cap < k->len + take)
			cap *= 2;
		if (cap > limit)
			cap = limit;
		k->data = xreallocarray(k->data, cap, 1);
		k->cap = cap;
	}
	memcpy(k->data + k->len, p, take);
	k->len += take;
}

/* The report's outcome for how a proxied connection ended. */
static enum conn_outcome
proxy_outcome(const char *name)
{
	if (name == NULL || strcmp(name, "stopped") == 0)
		return CONN_OUT_IN_FLIGHT;	/* open when the proxy stopped */
	if (strcmp(name, "client-reset") == 0)
		return CONN_OUT_EARLY_CLOSE;	/* the client ended it */
	return conn_outcome_parse(name);
}

/* Describes a connection for a record or a trace. The blob is the part of
 * the stream the log covers. */
static void
sess_report(struct sess *s, struct blob *b, struct conn_report *out)
{
	uint64_t	start = s->p->cfg.start_us;

	memset(out, 0, sizeof *out);
	sha256_hex(s->kept.data, s->log.len, s->name);
	b->name = s->name;
	b->data = s->kept.data;
	b->len = s->log.len;
	out->index = s->index;
	out->blob = b;
	out->plan = &s->log;
	out->frags_sent = s->pieces < s->log.nfrags ? s->pieces : s->log.nfrags;
	out->bytes_sent = s->sent < s->log.len ? s->sent : s->log.len;
	out->gaps_us = s->gaps;
	out->ngaps = s->ngaps < s->log.nfrags ? s->ngaps : s->log.nfrags;
	out->local_port = s->local_port;
	out->state = s->outcome ? "closed" : s->connected ? "open" :
	    "connecting";
	out->outcome = proxy_outcome(s->outcome);
	out->start_us = s->t_start_us > start ? s->t_start_us - start : 0;
	if (s->outcome != NULL)
		out->end_us = util_now_us() - start;
}

/* Describes a kept finished connection. */
static void
recent_report(const struct recent *r, struct conn_report *c)
{
	memset(c, 0, sizeof *c);
	c->index = r->plan.index;
	c->blob = &r->blob;
	c->plan = &r->plan;
	c->frags_sent = r->frags_sent;
	c->bytes_sent = r->bytes_sent;
	c->gaps_us = r->gaps;
	c->ngaps = r->ngaps;
	c->local_port = r->local_port;
	c->state = "closed";
	c->outcome = r->outcome;
	c->start_us = r->start_us;
	c->end_us = r->end_us;
}

/* Frees what a kept connection holds. */
static void
recent_clear(struct recent *r)
{
	free(r->blob.name);
	free(r->blob.data);
	free(r->gaps);
	plan_release(&r->plan);
	memset(r, 0, sizeof *r);
}

/* Copies a connection into r (cleared first). */
static void
recent_fill(struct recent *r, struct sess *s)
{
	struct conn_report	 rep;
	struct blob		 b;

	recent_clear(r);
	sess_report(s, &b, &rep);
	r->used = 1;
	r->blob.name = xstrdup(b.name);
	r->blob.len = b.len;
	r->blob.data = xmalloc(b.len ? b.len : 1);
	if (b.len > 0)
		memcpy(r->blob.data, b.data, b.len);
	if (plan_copy(&r->plan, &s->log) == -1)
		r->plan.nfrags = 0;
	r->plan.index = s->index;
	r->plan.len = s->log.len;
	r->plan.close_after = r->plan.nfrags;
	r->ngaps = rep.ngaps;
	r->gaps = xcalloc(rep.ngaps ? rep.ngaps : 1, sizeof *r->gaps);
	if (rep.ngaps > 0)
		memcpy(r->gaps, s->gaps, rep.ngaps * sizeof *r->gaps);
	r->frags_sent = rep.frags_sent;
	r->bytes_sent = rep.bytes_sent;
	r->local_port = rep.local_port;
	r->outcome = proxy_outcome(s->outcome);
	r->start_us = rep.start_us;
	r->end_us = rep.end_us;
}

/* The reports of every connection in flight and the recent finished ones
 * but connection `except`; *blobs holds their blobs. Returns how many. */
static size_t
proxy_suspects(struct proxy *p, struct conn_report **out, struct blob **blobs,
    uint64_t except)
{
	size_t	n = 0, max = p->st.open + PROXY_RECENT;

	*out = xcalloc(max ? max : 1, sizeof **out);
	*blobs = xcalloc(max ? max : 1, sizeof **blobs);
	for (uint32_t i = 0; i < p->cfg.max_conns && n < max; i++) {
		struct sess	*s = p->slots[i];

		if (s != NULL && s->index != except && s->log.nfrags > 0) {
			sess_report(s, &(*blobs)[n], &(*out)[n]);
			n++;
		}
	}
	for (unsigned i = 0; i < PROXY_RECENT && n < max; i++) {
		const struct recent	*r = &p->recent[(p->recent_next +
					    PROXY_RECENT - 1 - i) % PROXY_RECENT];

		if (!r->used || r->plan.index == except)
			continue;
		recent_report(r, &(*out)[n]);
		n++;
	}
	return n;
}

/* Counts a decided finding of a connection. */
static void
proxy_decided(struct proxy *p, enum finding_kind kind, int verdict)
{
	if (verdict == PROXY_LOST)
		p->st.s.lost_with_target++;
	else
		p->st.s.findings[kind]++;
}

/* Asks the hook about a finding (culprit NULL: none), with the suspects. */
static int
proxy_ask(struct proxy *p, struct finding *f, const struct conn_report *culprit)
{
	struct conn_report	*sus = NULL;
	struct blob		*blobs = NULL;
	size_t			 n;
	int			 v;

	if (p->hooks.finding == NULL)
		return PROXY_KEEP;
	n = proxy_suspects(p, &sus, &blobs, culprit != NULL ? culprit->index :
	    UINT64_MAX);
	if (culprit != NULL) {
		f->index = culprit->index;
		f->blob = culprit->blob;
		f->plan = culprit->plan;
		f->frags_sent = culprit->frags_sent;
		f->bytes_sent = culprit->bytes_sent;
	}
	v = p->hooks.finding(p->arg, f, culprit, sus, n);
	free(sus);
	free(blobs);
	return v;
}

/* Arms the hold timer for the earliest held finding. */
static void
proxy_hold_arm(struct proxy *p)
{
	uint64_t	due = UINT64_MAX, now = util_now_us();

	for (size_t i = 0; i < p->nheld; i++)
		due = p->held[i].due_us < due ? p->held[i].due_us : due;
	event_del(p->ev_hold);
	if (p->nheld > 0)
		timer_in(p->ev_hold, due > now ? due - now : 0);
}

/* Keeps a copy of a finding (and its culprit) until the target's fate is
 * known, for hold_ms at most from now. Returns -1 if it cannot. */
static int
proxy_hold(struct proxy *p, const struct finding *f, struct sess *culprit)
{
	struct held	*hd;

	if (p->cfg.hold_ms == 0 || p->ev_hold == NULL ||
	    p->nheld >= p->cfg.max_conns)
		return -1;
	if (p->nheld == p->held_cap) {
		size_t		 cap = p->held_cap ? p->held_cap * 2 : 16;
		struct held	*h = reallocarray(p->held, cap, sizeof *h);

		if (h == NULL)
			return -1;
		p->held = h;
		p->held_cap = cap;
	}
	hd = &p->held[p->nheld++];
	memset(hd, 0, sizeof *hd);
	hd->f = *f;
	hd->f.held = 1;
	hd->due_us = util_now_us() + p->cfg.hold_ms * 1000;
	hd->has_culprit = culprit != NULL;
	if (culprit != NULL)
		recent_fill(&hd->c, culprit);
	if (p->nheld == 1)
		proxy_hold_arm(p);
	return 0;
}

/* Raises a finding; culprit NULL for the server as a whole (kept) or a
 * connect that failed (which the hook may hold). */
static void
proxy_finding(struct proxy *p, struct sess *culprit, enum finding_kind kind,
    int err, const char *phase, const char *detail)
{
	struct finding		 f = {
		.kind = kind,
		.err = err,
		.seed = p->cfg.seed,
		.at_us = util_now_us() - p->cfg.start_us,
		.phase = phase,
		.detail = detail,
	};
	struct conn_report	 rep;
	struct blob		 b;
	int			 v;

	if (culprit != NULL)
		sess_report(culprit, &b, &rep);
	v = proxy_ask(p, &f, culprit != NULL ? &rep : NULL);
	if (kind == FINDING_TARGET_EXIT || kind == FINDING_TARGET_REPORT)
		v = PROXY_KEEP;
	if (v == PROXY_HOLD && proxy_hold(p, &f, culprit) == 0)
		return;
	if (v == PROXY_HOLD) {
		/* It cannot wait: the hook decides now, as at the end of a
		 * hold, so the finding is printed or counted as lost. */
		f.held = 1;
		v = proxy_ask(p, &f, culprit != NULL ? &rep : NULL);
	}
	proxy_decided(p, kind, v == PROXY_HOLD ? PROXY_KEEP : v);
}

/* Decides one held finding: lost with the target, or asks again. */
static void
proxy_decide_held(struct proxy *p, struct held *hd, int lost)
{
	struct conn_report	 rep;
	int			 v = PROXY_LOST;

	if (!lost) {
		if (hd->has_culprit)
			recent_report(&hd->c, &rep);
		v = proxy_ask(p, &hd->f, hd->has_culprit ? &rep : NULL);
		if (v == PROXY_HOLD)
			v = PROXY_KEEP;
	}
	proxy_decided(p, hd->f.kind, v);
	recent_clear(&hd->c);
}

/* Decides every held finding: lost with the target, or asks again. */
void
proxy_unhold(struct proxy *p, int lost)
{
	size_t	n = p->nheld;

	p->nheld = 0;
	if (p->ev_hold != NULL)
		event_del(p->ev_hold);
	for (size_t i = 0; i < n; i++)
		proxy_decide_held(p, &p->held[i], lost);
}

/* A held finding's time is over: it is asked again, each in its turn
 * (the others keep their full wait). */
static void
proxy_hold_done(evutil_socket_t fd, short what, void *arg)
{
	struct proxy	*p = arg;
	uint64_t	 now = util_now_us();
	size_t		 kept = 0, n = p->nheld;

	(void)fd;
	(void)what;
	/* The hook asked again sees f.held and never holds: nothing is added
	 * to p->held meanwhile. */
	for (size_t i = 0; i < n; i++) {
		struct held	hd = p->held[i];

		if (hd.due_us <= now)
			proxy_decide_held(p, &hd, 0);
		else
			p->held[kept++] = hd;
	}
	p->nheld = kept;
	proxy_hold_arm(p);
}

/* Keeps a finished connection for the suspects of later findings. */
static void
proxy_remember(struct proxy *p, struct sess *s)
{
	if (s->log.nfrags == 0)
		return;
	recent_fill(&p->recent[p->recent_next], s);
	p->recent_next = (p->recent_next + 1) % PROXY_RECENT;
}

/* Sets SO_LINGER 0 so that close() sends a reset. */
static void
set_reset(int fd)
{
	struct linger	l = { .l_onoff = 1, .l_linger = 0 };

	if (fd != -1)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

/* Ends a connection: closes both sides (resetting those in reset_mask:
 * 1 the client, 2 the server), hands the stream and the report to the
 * hooks, frees the slot. */
static void
sess_end(struct sess *s, const char *outcome, int reset_mask)
{
	struct proxy		*p = s->p;
	struct conn_report	 rep;
	struct blob		 b;

	s->outcome = outcome;
	if (reset_mask & 1)
		set_reset(s->cfd);
	if (reset_mask & 2)
		set_reset(s->sfd);
	if (reset_mask)
		p->st.resets++;
	ev_free(s->ev_cr);
	ev_free(s->ev_cw);
	ev_free(s->ev_sr);
	ev_free(s->ev_sw);
	ev_free(s->ev_timer);
	close(s->cfd);
	if (s->sfd != -1)
		close(s->sfd);
	if (strcmp(outcome, "completed") == 0 ||
	    strcmp(outcome, "peer-closed") == 0)
		p->st.s.conns_completed++;
	if (p->hooks.stream != NULL && s->kept.total > 0) {
		struct proxy_stream	st = {
			.index = s->index,
			.data = s->kept.data,
			.len = s->kept.len,
			.total = s->kept.total,
			.answer = s->answer.data,
			.alen = s->answer.len,
			.atotal = s->answer.total,
		};

		p->hooks.stream(p->arg, &st);
	}
	if (p->cfg.keep > 0) {
		if (p->hooks.conn_done != NULL) {
			sess_report(s, &b, &rep);
			p->hooks.conn_done(p->arg, &rep);
		}
		proxy_remember(p, s);
	}
	p->slots[s->slot] = NULL;
	p->st.open--;
	free(s->up.data);
	free(s->down.data);
	free(s->kept.data);
	free(s->answer.data);
	free(s->gaps);
	plan_release(&s->chunk);
	plan_release(&s->log);
	free(s);
	if (!p->paused && !p->listening &&
	    !evtimer_pending(p->ev_retry, NULL))
		proxy_resume(p);
}

/* The server failed us with err while sending or reading: a finding, and
 * the client gets a reset, as it would from the server itself. */
static void
sess_server_failed(struct sess *s, int err, const char *phase)
{
	enum finding_kind	kind = err == ETIMEDOUT ? FINDING_HANG :
				    FINDING_RESET;

	proxy_finding(s->p, s, kind, err, phase, NULL);
	sess_end(s, finding_kind_name(kind), 1 | 2);
}

/* Records the wait before the piece about to be sent. */
static void
sess_log_gap(struct sess *s, uint64_t now)
{
	uint64_t	gap = now - s->t_last_us;

	if (s->p->cfg.keep == 0 || s->pieces >= s->log.nfrags)
		return;
	if (s->pieces >= s->gaps_cap) {
		uint32_t	cap = s->gaps_cap ? s->gaps_cap : 16;

		while (cap <= s->pieces)
			cap *= 2;
		s->gaps = xreallocarray(s->gaps, cap, sizeof *s->gaps);
		memset(s->gaps + s->gaps_cap, 0,
		    (cap - s->gaps_cap) * sizeof *s->gaps);
		s->gaps_cap = cap;
	}
	/* Indexed by piece: a piece sent in parts keeps one gap. */
	s->gaps[s->pieces] = gap > UINT32_MAX ? UINT32_MAX : (uint32_t)gap;
	if (s->ngaps <= s->pieces)
		s->ngaps = s->pieces + 1;
}

/* Plain forwarding toward the server: as much as it takes. Each send()
 * is logged as a piece, so a record says what the server was sent. */
static int
sess_send_plain(struct sess *s)
{
	struct proxy	*p = s->p;

	for (int i = 0; i < IO_BUDGET && s->up.len > 0; i++) {
		ssize_t	n = send(s->sfd, s->up.data + s->up.head, s->up.len,
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n == -1) {
			sess_server_failed(s, errno, "send");
			return -1;
		}
		if (p->cfg.keep > 0) {
			uint32_t	size = (uint32_t)n;
			struct plan	one = { .nfrags = 1, .sizes = &size };

			/* Out of memory: the log stops growing, that is all. */
			if (proxy_log_append(&s->log, &one, s->kept.len) == 0)
				sess_log_gap(s, util_now_us());
		}
		s->up.head += (size_t)n;
		s->up.len -= (size_t)n;
		s->sent += (uint64_t)n;
		s->pieces++;
		s->t_last_us = util_now_us();
		p->st.s.fragments++;
		p->st.s.bytes += (uint64_t)n;
	}
	return 0;
}

/* Toward the client: as much as it takes. */
static int
sess_send_down(struct sess *s)
{
	for (int i = 0; i < IO_BUDGET && s->down.len > 0; i++) {
		ssize_t	n = send(s->cfd, s->down.data + s->down.head,
		    s->down.len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n == -1) {
			/* The client went away: the server gets a reset. */
			sess_end(s, "client-reset", 2);
			return -1;
		}
		s->down.head += (size_t)n;
		s->down.len -= (size_t)n;
		s->p->st.bytes_down += (uint64_t)n;
	}
	return 0;
}

/* Reads from fd into b (as room allows). Returns 1 on EOF, 0 for more
 * later, -1 with *err on an error. */
static int
sess_read(int fd, struct pbuf *b, struct keep *k, size_t keep, int *err)
{
	for (int i = 0; i < IO_BUDGET; i++) {
		size_t	room = pbuf_room(b);
		ssize_t	n;

		if (room == 0)
			return 0;
		n = recv(fd, b->data + b->head + b->len, room, MSG_DONTWAIT);
		if (n > 0) {
			keep_add(k, keep, b->data + b->head + b->len, (size_t)n);
			b->len += (size_t)n;
			if ((size_t)n < room)
				return 0;
			continue;
		}
		if (n == 0)
			return 1;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		*err = errno;
		return -1;
	}
	return 0;
}

/* The client sent something, or closed. */
static void
sess_client_readable(evutil_socket_t fd, short what, void *arg)
{
	struct sess	*s = arg;
	int		 err = 0, rc;

	(void)what;
	rc = sess_read(fd, &s->up, &s->kept, s->p->cfg.keep, &err);
	if (rc == -1) {
		/* A client's reset goes on to the server as a reset. */
		sess_end(s, "client-reset", 2);
		return;
	}
	if (rc == 1)
		s->up_eof = 1;
	/* Forward at once: a write event only when the server is full. */
	if (s->connected && !s->p->cfg.cut && s->up.len > 0 &&
	    sess_send_plain(s) == -1)
		return;
	sess_update(s);
}

/* The server sent something, or closed. */
static void
sess_server_readable(evutil_socket_t fd, short what, void *arg)
{
	struct sess	*s = arg;
	int		 err = 0, rc;

	(void)what;
	rc = sess_read(fd, &s->down, &s->answer,
	    s->p->cfg.keep_answers ? s->p->cfg.keep : 0, &err);
	if (rc == -1) {
		sess_server_failed(s, err, "read");
		return;
	}
	if (rc == 1) {
		s->down_eof = 1;
		if (!s->up_eof) {
			s->server_first = 1;
			s->p->st.server_first++;
		}
	}
	if (s->down.len > 0 && sess_send_down(s) == -1)
		return;
	sess_update(s);
}

/* The client can take more. */
static void
sess_client_writable(evutil_socket_t fd, short what, void *arg)
{
	struct sess	*s = arg;

	(void)fd;
	(void)what;
	if (sess_send_down(s) == 0)
		sess_update(s);
}

/* Is this connect error ours (a local fault) rather than the server's? A
 * Unix socket file that is gone is the server's, and so is a reset while
 * the connection waited in its accept queue (its listening socket closed). */
static int
connect_local(int err)
{
	return err != ECONNREFUSED && err != ETIMEDOUT && err != ENOENT &&
	    err != ECONNRESET;
}

/* Connecting to the server failed with err. */
static void
sess_connect_failed(struct sess *s, int err)
{
	struct proxy	*p = s->p;

	if (connect_local(err)) {
		p->st.s.local_errors++;
		if (p->hooks.local_fault != NULL)
			p->hooks.local_fault(p->arg, "connecting to the server",
			    err);
		sess_end(s, "local-error", 1);
		return;
	}
	proxy_finding(p, NULL, err == ETIMEDOUT ? FINDING_CONNECT_TIMEOUT :
	    FINDING_REFUSED, err, "connect", err == ETIMEDOUT ?
	    "connect to the server timed out" : err == ENOENT ?
	    "the server's socket file is gone" : "the server refused a "
	    "connection");
	sess_end(s, err == ETIMEDOUT ? "connect-timeout" : "refused", 1);
}

/* A Unix server's listen backlog is full (EAGAIN): our trouble, not its
 * fault. Reported and counted once a connection; connects again after a
 * growing wait until --connect-timeout, while the client waits. */
static void
sess_backlog(struct sess *s)
{
	struct proxy	*p = s->p;
	uint64_t	 now = util_now_us(), wait;

	if (!s->backlog) {
		s->backlog = 1;
		p->st.s.local_errors++;
		if (p->hooks.local_fault != NULL)
			p->hooks.local_fault(p->arg, "room in the server's "
			    "listen backlog", EAGAIN);
	}
	if (now >= s->connect_end_us) {
		sess_end(s, "local-error", 1);
		return;
	}
	wait = s->retry_us == 0 ? PROXY_BACKLOG_FIRST_US : s->retry_us * 2;
	if (wait > PROXY_BACKLOG_MAX_US)
		wait = PROXY_BACKLOG_MAX_US;
	s->retry_us = wait;
	if (wait > s->connect_end_us - now)
		wait = s->connect_end_us - now;
	s->retrying = 1;
	timer_in(s->ev_timer, wait);
}

/* The connect to the server finished. */
static void
sess_connected(struct sess *s)
{
	struct proxy	*p = s->p;
	int		 err = 0;
	socklen_t	 len = sizeof err, sl = sizeof s->local;

	if (getsockopt(s->sfd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		sess_connect_failed(s, err);
		return;
	}
	event_del(s->ev_timer);
	s->connected = 1;
	s->t_last_us = util_now_us();
	p->st.s.conns_established++;
	/* A Unix socket has no port: 0. */
	if (getsockname(s->sfd, (struct sockaddr *)&s->local, &sl) == 0 &&
	    s->local.ss_family == AF_INET6)
		s->local_port = ntohs(((struct sockaddr_in6 *)
		    &s->local)->sin6_port);
	else if (s->local.ss_family == AF_INET)
		s->local_port = ntohs(((struct sockaddr_in *)
		    &s->local)->sin_port);
	sess_update(s);
}

/* The server side can take more (or the connect finished). */
static void
sess_server_writable(evutil_socket_t fd, short what, void *arg)
{
	struct sess	*s = arg;

	(void)fd;
	(void)what;
	if (!s->connected) {
		sess_connected(s);
		return;
	}
	if (s->p->cfg.cut) {
		event_del(s->ev_sw);
		sess_cut_send(s);
		return;
	}
	if (sess_send_plain(s) == 0)
		sess_update(s);
}

/* Bytes the server has not acknowledged, or -1. */
static int
sess_outq(struct sess *s)
{
	int	outq;

	if (ioctl(s->sfd, SIOCOUTQ, &outq) == -1)
		return -1;
	return outq;
}

/* Queues a sock_diag lookup of the server's end of this connection. */
static void
sess_lookup(struct sess *s)
{
	struct proxy		*p = s->p;
	static const struct timeval zero = { 0, 0 };

	diag_query(p->diag, s->slot, s->gen, (struct sockaddr *)&s->local,
	    p->cfg.to, s->cookie_known ? s->cookie : NULL);
	s->diag_out = 1;
	if (!event_pending(p->ev_diag, EV_TIMEOUT, NULL))
		event_add(p->ev_diag, &zero);
	timer_in(s->ev_timer, LOOKUP_LOST_US);
}

/* The last piece was read (or acknowledged): the next may go. */
static void
sess_ready(struct sess *s)
{
	s->pacing = 0;
	s->polls = 0;
	s->p->st.s.ready++;
	sess_cut_send(s);
}

/* Has the last piece stayed unread for the hang timeout? Then it is a
 * hang finding, and the connection is over: returns 1. */
static int
sess_hung(struct sess *s)
{
	struct proxy	*p = s->p;

	if (p->cfg.hang_timeout_ms == 0 || util_now_us() - s->t_last_us <
	    p->cfg.hang_timeout_ms * 1000)
		return 0;
	sess_server_failed(s, ETIMEDOUT, "send");
	return 1;
}

/* Not read (or acknowledged) yet: the pacer (pace.c) says when to look
 * again, or that it is a hang. */
static void
sess_pending(struct sess *s)
{
	struct proxy	*p = s->p;
	struct pace_in	 in = {
		.mode = p->pace,
		.now_us = util_now_us(),
		.last_send_us = s->t_last_us,
		.hang_us = p->cfg.hang_timeout_ms * 1000,
		.polls = s->polls,
		.read_us = p->read_us,
	};
	uint64_t	 wait;

	p->st.s.not_ready++;
	if (pace_decide(&in, PACE_SIGN_PENDING, &wait) == PACE_DO_HANG) {
		sess_server_failed(s, ETIMEDOUT, "send");
		return;
	}
	s->polls++;
	timer_in(s->ev_timer, wait);
}

/* A look at a Unix server's socket: SIOCOUTQ counts what it has not read
 * yet (a partly read piece keeps it above 0), so 0 means it read all that
 * was sent: the next piece may go, and the last was read on its own. */
static void
sess_unix_look(struct sess *s)
{
	struct proxy	*p = s->p;
	int		 outq = sess_outq(s);

	if (outq == -1) {
		sess_server_failed(s, errno, "send");
		return;
	}
	if (outq != 0) {
		sess_pending(s);
		return;
	}
	if (p->pace == PACE_READ)
		p->read_us = pace_read_mean(p->read_us,
		    util_now_us() - s->t_last_us);
	p->st.s.fid_checked++;
	p->st.s.fid_ok++;
	sess_ready(s);
}

/* Pacing check after a piece went: read pacing asks sock_diag (a Unix
 * server: SIOCOUTQ), ack pacing waits --gap-us and looks at what is
 * unacknowledged (a Unix server: unread). */
static void
sess_pace(struct sess *s)
{
	struct proxy	*p = s->p;
	int		 outq;

	if (p->pace == PACE_READ && p->diag != NULL) {
		sess_lookup(s);
		return;
	}
	if (p->pace == PACE_READ && p->to_unix) {
		sess_unix_look(s);
		return;
	}
	if (util_now_us() - s->t_last_us < p->cfg.gap_us) {
		timer_in(s->ev_timer, p->cfg.gap_us -
		    (util_now_us() - s->t_last_us));
		return;
	}
	if (p->to_unix) {
		sess_unix_look(s);
		return;
	}
	outq = sess_outq(s);
	if (outq == 0) {
		sess_ready(s);
		return;
	}
	if (outq == -1) {
		sess_server_failed(s, errno, "send");
		return;
	}
	sess_pending(s);
}

/* A timer: connect timeout, or a pacing check is due. */
static void
sess_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sess	*s = arg;

	(void)fd;
	(void)what;
	if (!s->connected && s->retrying) {
		sess_connect(s);
		return;
	}
	if (!s->connected) {
		sess_connect_failed(s, ETIMEDOUT);
		return;
	}
	if (s->pacing && !sess_hung(s)) {
		s->diag_out = 0;	/* a lost lookup is asked again */
		sess_pace(s);
	}
}

/* A sock_diag reply about the server end of this connection. */
static void
sess_diag(struct sess *s, const struct diag_reply *r)
{
	struct proxy	*p = s->p;
	uint64_t	 took;

	if (!s->diag_out || !s->pacing)
		return;
	s->diag_out = 0;
	if (r->found && !s->cookie_known) {
		s->cookie[0] = r->cookie[0];
		s->cookie[1] = r->cookie[1];
		s->cookie_known = 1;
	}
	if (!r->found) {
		/* The server's end is gone; what we send next will tell. */
		event_del(s->ev_timer);
		sess_ready(s);
		return;
	}
	if (!diag_all_read(r, s->sent)) {
		sess_pending(s);
		return;
	}
	took = util_now_us() - s->t_last_us;
	p->read_us = pace_read_mean(p->read_us, took);
	p->st.s.fid_checked++;
	p->st.s.fid_ok++;
	event_del(s->ev_timer);
	sess_ready(s);
}

/* Cuts the buffered bytes into a new chunk. Returns -1 (connection
 * ended) when memory ran out. */
static int
sess_new_chunk(struct sess *s)
{
	struct proxy	*p = s->p;

	if (proxy_plan_chunk(&s->chunk, p->cfg.seed, s->index,
	    p->st.chunks, s->up.data + s->up.head, s->up.len,
	    &p->cfg.plan) == -1 ||
	    (p->cfg.keep > 0 && proxy_log_append(&s->log, &s->chunk,
	    s->kept.len) == -1)) {
		p->st.s.local_errors++;
		if (p->hooks.local_fault != NULL)
			p->hooks.local_fault(p->arg, "memory", ENOMEM);
		sess_end(s, "local-error", 1 | 2);
		return -1;
	}
	/* The chunk number is the connection's own count, so a seed, an
	 * index and the bytes give the same cuts again. */
	s->chunk.index = s->index;
	s->piece = 0;
	s->piece_off = 0;
	p->st.chunks++;
	return 0;
}

/* Cut sending: the next piece of the chunk with one send(), then wait for
 * the pacer; a new chunk when one is done and bytes wait. */
static void
sess_cut_send(struct sess *s)
{
	struct proxy	*p = s->p;
	size_t		 left;
	ssize_t		 n;

	if (!s->connected || s->pacing)
		return;
	if (s->piece >= s->chunk.nfrags) {
		if (s->up.len == 0) {
			sess_update(s);
			return;
		}
		if (sess_new_chunk(s) == -1)
			return;
	}
	if (s->piece_off == 0)
		sess_log_gap(s, util_now_us());
	left = s->chunk.sizes[s->piece] - s->piece_off;
	do {
		n = send(s->sfd, s->up.data + s->up.head, left,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		event_add(s->ev_sw, NULL);
		return;
	}
	if (n == -1) {
		sess_server_failed(s, errno, "send");
		return;
	}
	s->up.head += (size_t)n;
	s->up.len -= (size_t)n;
	s->sent += (uint64_t)n;
	s->piece_off += (size_t)n;
	p->st.s.bytes += (uint64_t)n;
	if ((size_t)n < left) {
		event_add(s->ev_sw, NULL);
		sess_update(s);
		return;
	}
	s->piece++;
	s->piece_off = 0;
	s->pieces++;
	s->t_last_us = util_now_us();
	p->st.s.fragments++;
	s->pacing = 1;
	/* Room in the buffer: read the client again. */
	if (sess_update(s) == 0)
		sess_pace(s);
}

/* Nothing toward the server is pending in the cutter. */
static int
sess_up_idle(const struct sess *s)
{
	return s->up.len == 0 && !s->pacing && s->piece >= s->chunk.nfrags;
}

/* Arms what makes progress possible, passes on half-closes, ends the
 * connection once both directions are done. Returns -1 if it ended. */
static int
sess_update(struct sess *s)
{
	struct proxy	*p = s->p;

	if (s->connected && s->up_eof && !s->up_shut && sess_up_idle(s)) {
		s->up_shut = 1;
		p->st.half_closes++;
		if (shutdown(s->sfd, SHUT_WR) == -1 && errno != ENOTCONN) {
			sess_server_failed(s, errno, "shutdown");
			return -1;
		}
	}
	if (s->down_eof && !s->down_shut && s->down.len == 0) {
		s->down_shut = 1;
		p->st.half_closes++;
		shutdown(s->cfd, SHUT_WR);
	}
	if (s->up_shut && s->down_shut) {
		sess_end(s, s->server_first ? "peer-closed" : "completed", 0);
		return -1;
	}
	ev_want(s->ev_cr, !s->up_eof && s->up.len < s->up.cap);
	ev_want(s->ev_cw, s->down.len > 0);
	if (!s->connected)
		return 0;
	ev_want(s->ev_sr, !s->down_eof && s->down.len < s->down.cap);
	if (p->cfg.cut) {
		/* The cutter's last act: nothing may follow. */
		if (!s->pacing && s->piece >= s->chunk.nfrags && s->up.len > 0)
			sess_cut_send(s);
		return 0;
	}
	ev_want(s->ev_sw, s->up.len > 0);
	return 0;
}

/* Starts proxying one accepted client. */
static void
proxy_start_sess(struct proxy *p, int cfd, uint32_t slot)
{
	struct sess	*s = xcalloc(1, sizeof *s);
	int		 one = 1;

	s->p = p;
	s->slot = slot;
	s->gen = ++p->gens[slot];
	s->index = p->next_index++;
	s->cfd = cfd;
	s->t_start_us = util_now_us();
	s->up.cap = s->down.cap = p->cfg.buf_max;
	s->up.data = xmalloc(s->up.cap);
	s->down.data = xmalloc(s->down.cap);
	p->slots[slot] = s;
	p->st.open++;
	p->st.s.conns_started++;
	if (!p->listen_unix)
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	s->sfd = socket(p->cfg.to->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	s->ev_cr = event_new(p->base, cfd, EV_READ | EV_PERSIST,
	    sess_client_readable, s);
	s->ev_cw = event_new(p->base, cfd, EV_WRITE | EV_PERSIST,
	    sess_client_writable, s);
	s->ev_timer = evtimer_new(p->base, sess_timer, s);
	s->ev_sr = event_new(p->base, s->sfd, EV_READ | EV_PERSIST,
	    sess_server_readable, s);
	s->ev_sw = event_new(p->base, s->sfd, EV_WRITE, sess_server_writable,
	    s);
	if (s->sfd == -1 || s->ev_cr == NULL || s->ev_cw == NULL ||
	    s->ev_timer == NULL || s->ev_sr == NULL || s->ev_sw == NULL) {
		int	err = s->sfd == -1 ? errno : ENOMEM;

		p->st.s.local_errors++;
		if (p->hooks.local_fault != NULL)
			p->hooks.local_fault(p->arg, "a socket toward the "
			    "server", err);
		sess_end(s, "local-error", 1);
		if (err == EMFILE || err == ENFILE)
			proxy_backoff(p);
		return;
	}
	/* Without TCP_NODELAY a small piece may wait and merge with the
	 * next: the boundary would be lost. A Unix socket sends each send()
	 * as it is. */
	if (!p->to_unix)
		setsockopt(s->sfd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof one);
	/* Reads first, so a server's close is seen before we send into it. */
	event_priority_set(s->ev_sr, 0);
	s->connect_end_us = s->t_start_us + p->cfg.connect_timeout_ms * 1000;
	if (sess_update(s) == 0)
		sess_connect(s);
}

/* Connects to the server (again, after a full backlog). */
static void
sess_connect(struct sess *s)
{
	struct proxy	*p = s->p;
	uint64_t	 now = util_now_us();
	int		 n;

	s->retrying = 0;
	n = connect(s->sfd, p->cfg.to, p->cfg.tolen);
	if (n == -1 && errno == EAGAIN && p->to_unix) {
		sess_backlog(s);
		return;
	}
	if (n == -1 && errno != EINPROGRESS) {
		sess_connect_failed(s, errno);
		return;
	}
	event_add(s->ev_sw, NULL);
	timer_in(s->ev_timer, s->connect_end_us > now ?
	    s->connect_end_us - now : 0);
}

/* Out of descriptors: stop accepting for a while; new clients wait in the
 * backlog instead of being turned away. */
static void
proxy_backoff(struct proxy *p)
{
	event_del(p->ev_accept);
	p->listening = 0;
	timer_in(p->ev_retry, ACCEPT_RETRY_MS * 1000);
}

/* A free slot, or -1. */
static int
proxy_free_slot(struct proxy *p)
{
	for (uint32_t i = 0; i < p->cfg.max_conns; i++) {
		if (p->slots[i] == NULL)
			return (int)i;
	}
	return -1;
}

/* Clients wait to be accepted: take them while slots are free. */
static void
proxy_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy	*p = arg;

	(void)what;
	for (int i = 0; i < ACCEPT_BUDGET && !p->paused && p->listening;
	    i++) {
		int	slot = proxy_free_slot(p), cfd;

		if (slot == -1) {
			/* Full: a connection's end accepts again. */
			event_del(p->ev_accept);
			p->listening = 0;
			return;
		}
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			p->st.s.local_errors++;
			if (p->hooks.local_fault != NULL)
				p->hooks.local_fault(p->arg, "accepting "
				    "clients", errno);
			proxy_backoff(p);
			return;
		}
		proxy_start_sess(p, cfd, (uint32_t)slot);
	}
}

/* Accepting again after running out of descriptors. */
static void
proxy_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy	*p = arg;

	(void)fd;
	(void)what;
	if (!p->paused)
		proxy_resume(p);
}

/* Hands a sock_diag reply to its connection, if still the same one. */
static void
proxy_diag_reply(void *arg, const struct diag_reply *r)
{
	struct proxy	*p = arg;
	struct sess	*s;

	p->diag_replies++;
	p->diag_found += (uint64_t)r->found;
	/* Replies carry the low 12 bits of the generation (diag.c). */
	if (r->slot < p->cfg.max_conns && (s = p->slots[r->slot]) != NULL &&
	    (s->gen & DIAG_GEN_MASK) == r->gen)
		sess_diag(s, r);
	if (p->pace == PACE_READ && p->diag_found == 0 &&
	    p->diag_replies >= DIAG_BLIND) {
		p->pace = PACE_ACK;
		free(p->pace_why);
		p->pace_why = xstrdup("sock_diag finds none of the server's "
		    "sockets (another network namespace?); pacing by acks");
	}
}

/* Sends the queued lookups. */
static void
proxy_diag_flush(evutil_socket_t fd, short what, void *arg)
{
	struct proxy	*p = arg;

	(void)fd;
	(void)what;
	if (diag_flush(p->diag) == -1 && p->pace == PACE_READ) {
		p->pace = PACE_ACK;
		free(p->pace_why);
		p->pace_why = xasprintf("sock_diag failed (%s); pacing by acks",
		    strerror(errno));
	}
}

/* Opens sock_diag and decides the pacing in effect. */
static void
proxy_setup_pace(struct proxy *p)
{
	char	*cause = NULL;

	p->pace = p->cfg.pace == PACE_ACK ? PACE_ACK : PACE_READ;
	/* A Unix server's reads are seen by SIOCOUTQ: no sock_diag. */
	if (!p->cfg.cut || p->pace == PACE_ACK || p->to_unix)
		return;
	if (!p->cfg.loopback) {
		p->pace = PACE_ACK;
		p->pace_why = xstrdup("read pacing needs the server on this "
		    "machine; pacing by acks");
		return;
	}
	p->diag = diag_new(p->cfg.max_conns, proxy_diag_reply, p, &cause);
	if (p->diag != NULL)
		p->ev_diag = evtimer_new(p->base, proxy_diag_flush, p);
	if (p->diag == NULL || p->ev_diag == NULL) {
		p->pace = PACE_ACK;
		p->pace_why = xasprintf("read pacing needs sock_diag (%s); "
		    "pacing by acks", cause ? cause : "no timer");
		free(cause);
		diag_free(p->diag);
		p->diag = NULL;
		return;
	}
	event_priority_set(p->ev_diag, 1);
}

/* Makes the proxy (not yet accepting). */
struct proxy *
proxy_new(struct event_base *base, const struct proxy_config *cfg,
    const struct proxy_hooks *hooks, void *arg, char **cause)
{
	struct proxy		*p = xcalloc(1, sizeof *p);
	struct sockaddr_storage	 ls;
	socklen_t		 ll = sizeof ls;

	p->base = base;
	p->cfg = *cfg;
	p->hooks = *hooks;
	p->arg = arg;
	p->paused = 1;
	if (p->cfg.max_conns == 0)
		p->cfg.max_conns = PROXY_MAX_CONNS_DEFAULT;
	if (p->cfg.buf_max == 0)
		p->cfg.buf_max = PROXY_BUF_DEFAULT;
	p->slots = xcalloc(p->cfg.max_conns, sizeof *p->slots);
	p->gens = xcalloc(p->cfg.max_conns, sizeof *p->gens);
	p->to_unix = cfg->to->sa_family == AF_UNIX;
	if (getsockname(cfg->listen_fd, (struct sockaddr *)&ls, &ll) == 0)
		p->listen_unix = ls.ss_family == AF_UNIX;
	p->ev_hold = evtimer_new(base, proxy_hold_done, p);
	p->ev_accept = event_new(base, cfg->listen_fd, EV_READ | EV_PERSIST,
	    proxy_accept_cb, p);
	p->ev_retry = evtimer_new(base, proxy_retry_cb, p);
	if (p->ev_accept == NULL || p->ev_retry == NULL || p->ev_hold == NULL) {
		*cause = xasprintf("cannot make events");
		proxy_free(p);
		return NULL;
	}
	proxy_setup_pace(p);
	return p;
}

/* Starts or resumes accepting connections. */
void
proxy_resume(struct proxy *p)
{
	p->paused = 0;
	if (!p->listening && proxy_free_slot(p) != -1) {
		event_add(p->ev_accept, NULL);
		p->listening = 1;
	}
}

/* Stops accepting; open connections go on. */
void
proxy_pause(struct proxy *p)
{
	p->paused = 1;
	event_del(p->ev_accept);
	event_del(p->ev_retry);
	p->listening = 0;
}

/* The server as a whole failed: a finding with every suspect. */
void
proxy_raise(struct proxy *p, enum finding_kind kind, const char *detail)
{
	proxy_finding(p, NULL, kind, 0, "target", detail);
}

/* Ends every proxied connection. */
void
proxy_close_all(struct proxy *p)
{
	int	paused = p->paused;

	p->paused = 1;		/* no accepting while they end */
	for (uint32_t i = 0; i < p->cfg.max_conns; i++) {
		if (p->slots[i] != NULL)
			sess_end(p->slots[i], "stopped", 0);
	}
	p->paused = paused;
}

/* The pacing in effect, and why it differs from the one asked for. */
enum pace_mode
proxy_pace(const struct proxy *p, const char **why)
{
	*why = p->pace_why;
	return p->pace;
}

/* The proxy's counters. */
const struct proxy_stats *
proxy_stats(const struct proxy *p)
{
	return &p->st;
}

/* Frees; ends open connections first. Accepts NULL. */
void
proxy_free(struct proxy *p)
{
	if (p == NULL)
		return;
	if (p->slots != NULL)
		proxy_close_all(p);
	for (unsigned i = 0; i < PROXY_RECENT; i++)
		recent_clear(&p->recent[i]);
	for (size_t i = 0; i < p->nheld; i++)
		recent_clear(&p->held[i].c);
	free(p->held);
	if (p->ev_hold != NULL)
		event_free(p->ev_hold);
	if (p->ev_accept != NULL)
		event_free(p->ev_accept);
	if (p->ev_retry != NULL)
		event_free(p->ev_retry);
	if (p->ev_diag != NULL)
		event_free(p->ev_diag);
	diag_free(p->diag);
	close(p->cfg.listen_fd);
	free(p->slots);
	free(p->gens);
	free(p->pace_why);
	free(p);
}
