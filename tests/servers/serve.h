/*
 * What the test servers share (serve.c): the common options, the listening
 * socket (TCP on --bind, or a Unix path), and one epoll loop that calls the
 * server's callbacks with a per-connection user pointer. A server keeps only
 * its protocol:
 *
 *	static struct serve_opts opts;
 *	...
 *	if ((rc = serve_options(&opts, "name", SERVE_LOG_READS, argc, argv,
 *	    own_options, own_option)) != 0)
 *		return rc;
 *	serve_run(&opts, &ops);
 *	(log the totals to opts.log)
 *	serve_end(&opts);
 */
#ifndef SERVE_H
#define SERVE_H

#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* The common options a server may take besides the ones all take. */
#define SERVE_UNIX	0x1	/* --unix=PATH */
#define SERVE_LOG_READS	0x2	/* --log-reads */

/* The common options (--port-file, --port, --bind, --log, --max-seconds,
 * --fixed; --unix and --log-reads where taken) and how to listen. */
struct serve_opts {
	const char	*port_file;	/* the bound port goes there ("unix") */
	const char	*bind;		/* address to listen on */
	const char	*unix_path;	/* listen on this Unix path instead */
	unsigned	 port;		/* 0: a free one */
	unsigned	 max_seconds;	/* exit after this long (alarm) */
	FILE		*log;		/* --log, or NULL */
	int		 log_reads;	/* log "read B" per read */
	int		 fixed;		/* the planted bug is removed */
	int		 backlog;	/* of listen(2) */
	int		 rcvbuf;	/* SO_RCVBUF of the listener; 0: default */
};

struct serve;

/* One accepted connection; serve_close() ends it. */
struct serve_conn {
	int			 fd;
	void			*user;		/* ops->user_size bytes, zeroed */
	int			 due;		/* ops->due is set for due_ms */
	uint64_t		 due_ms;
	struct serve		*srv;
	struct serve_conn	*next, *prev;
};

/* What a server does on the loop's events. */
struct serve_ops {
	size_t	   user_size;	/* of each connection's user memory */
	/* A new connection (its user memory zeroed): returns 0 to read it,
	 * -1 to leave it open and unread. */
	int	 (*accepted)(struct serve_conn *);
	/* The connection is readable. */
	void	 (*readable)(void *user);
	/* The time set with serve_due() came (optional). */
	void	 (*due)(void *user);
	/* Before each wait (optional). */
	void	 (*tick)(void);
};

/* Set by SIGTERM, SIGINT and SIGALRM (--max-seconds): the loop ends. */
extern volatile sig_atomic_t serve_stop;

void	 serve_die(const char *);
int	 serve_options(struct serve_opts *, const char *, int, int, char **,
	    const struct option *, int (*)(int, const char *));
void	 serve_run(const struct serve_opts *, const struct serve_ops *);
void	 serve_end(const struct serve_opts *);
void	 serve_close(struct serve_conn *);
void	 serve_due(struct serve_conn *, unsigned long);
void	 serve_stop_accepting(struct serve *);
uint64_t serve_now_ms(void);
ssize_t	 serve_read(const struct serve_opts *, struct serve_conn *, void *,
	    size_t);
void	 serve_send(int, const void *, size_t);
void	 serve_log(FILE *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 serve_log_read(const struct serve_opts *, ssize_t);

#endif
