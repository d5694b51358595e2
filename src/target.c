/* The supervised target: started, guarded, watched, stopped. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "target.h"
#include "util.h"

#define LINE_MAX_LEN	1024
#define POLL_US		20000	/* readiness checks during start-up */
#define TICK_US		5000	/* checks while stopping or cleaning */
#define CLEAN_MS	2000	/* waiting for the group's leftovers */
#define KILL_WAIT_MS	5000	/* waiting for the leader after SIGKILL */
#define PROC_SCAN_MAX	100000	/* /proc entries looked at */
#define MINUTE_US	(60ULL * 1000000)

enum target_state {
	TARGET_IDLE,		/* not running */
	TARGET_STARTING,	/* running, not yet accepting */
	TARGET_RUNNING,		/* accepting; exits are findings */
	TARGET_STOPPING,	/* SIGTERM sent; SIGKILL once the grace passes */
	TARGET_CLEANING,	/* leader reaped; the rest of the group killed */
	TARGET_RELEASED,	/* left running on purpose */
};

struct target_stream {
	struct target	*t;
	int		 fd;
	struct event	*ev;
	char		 line[LINE_MAX_LEN + 1];
	size_t		 len;
};

struct target {
	struct event_base	*base;
	struct target_config	 cfg;
	struct target_hooks	 hooks;
	void			*arg;
	enum target_state	 state;
	pid_t			 pid;		/* the command */
	pid_t			 guard;		/* the guardian, leads the group */
	pid_t			 pgid;
	int			 guard_fd;	/* its pipe; EOF kills the group */
	uint64_t		 started_us;
	uint64_t		 deadline_us;	/* of the current stop step */
	int			 killed;	/* SIGKILL sent while stopping */
	int			 start_pending;	/* start once the group is gone */
	FILE			*log;
	struct target_stream	 out;
	struct target_stream	 err;
	struct event		*ev_chld;
	struct event		*ev_poll;	/* start-up probe */
	struct event		*ev_tick;	/* stopping, cleaning */
	struct event		*ev_news;	/* hooks, from the loop */
	struct event		*ev_quiet;	/* a report's completion */
	int			 news_exit;	/* an exit to tell */
	enum target_state	 news_was;	/* ... in this state */
	int			 news_status;
	char			*news_failed;	/* a start-up failure to tell */
	char			*report;	/* first line of a report being
						 * collected, or NULL */
	int			 report_done;
	int			 report_quiet;	/* ends with silence (valgrind),
						 * not only with SUMMARY: */
	uint64_t		 report_us;	/* when it began */
	uint64_t		 output_us;	/* last output */
	struct target_restarts	 restarts;
	char			 tail[TARGET_TAIL + 1];
	size_t			 tail_len;
	int			 (*probe)(void *);
};

static const struct timeval zero_tv = { 0, 0 };

static void	target_dead(struct target *, int);

/* Does this output line report a memory error or undefined behaviour? */
const char *
target_report_kind(const char *line)
{
	const char	*p;

	if (strstr(line, "Invalid read of size") != NULL ||
	    strstr(line, "Invalid write of size") != NULL ||
	    strstr(line, "Invalid free()") != NULL ||
	    strstr(line, "Conditional jump or move depends on uninitialised")
	    != NULL ||
	    strstr(line, "Use of uninitialised value") != NULL)
		return "valgrind";
	if ((p = strstr(line, "ERROR SUMMARY: ")) != NULL &&
	    p[15] >= '1' && p[15] <= '9')
		return "valgrind";
	if (strstr(line, "ERROR: AddressSanitizer") != NULL)
		return "AddressSanitizer";
	if (strstr(line, "ERROR: LeakSanitizer") != NULL)
		return "LeakSanitizer";
	if (strstr(line, "runtime error:") != NULL)
		return "UndefinedBehaviorSanitizer";
	return NULL;
}

/* The line without a "==1234== " (or "==1234==") prefix. */
const char *
target_report_text(const char *line)
{
	const char	*p = line + 2;

	if (line[0] != '=' || line[1] != '=' || !isdigit((unsigned char)*p))
		return line;
	while (isdigit((unsigned char)*p))
		p++;
	if (p[0] != '=' || p[1] != '=')
		return line;
	p += 2;
	while (*p == ' ')
		p++;
	return p;
}

/* "exited with status 42", "killed by SIGSEGV (core dumped)". */
void
target_describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by SIG%s%s",
		    sigabbrev_np(WTERMSIG(status)) ?
		    sigabbrev_np(WTERMSIG(status)) : "?",
		    WCOREDUMP(status) ? " (core dumped)" : "");
	else
		snprintf(buf, len, "status 0x%x", status);
}

/* Prepares the restart policy: at most max restarts a minute. */
void
target_restarts_init(struct target_restarts *p, uint64_t max)
{
	p->max = max;
	p->count = 0;
	p->ring = max > 0 ? xcalloc(max, sizeof *p->ring) : NULL;
}

/* May it restart at now_us? The ring holds the last max restart times;
 * the slot to overwrite is the oldest of them. */
int
target_restarts_allow(struct target_restarts *p, uint64_t now_us)
{
	uint64_t	*slot;

	if (p->max == 0)
		return 0;
	slot = &p->ring[p->count % p->max];
	if (p->count >= p->max && now_us - *slot < MINUTE_US)
		return 0;
	*slot = now_us;
	p->count++;
	return 1;
}

/* Frees the policy's ring. */
void
target_restarts_free(struct target_restarts *p)
{
	free(p->ring);
	p->ring = NULL;
}

/* "running", "sleeping", ... for a state letter of /proc/PID/stat. */
const char *
target_state_name(char state)
{
	switch (state) {
	case 'R':
		return "running";
	case 'S':
		return "sleeping";
	case 'D':
		return "disk wait";
	case 'Z':
		return "zombie";
	case 'T':
		return "stopped";
	case 't':
		return "tracing stop";
	case 'X':
	case 'x':
		return "dead";
	case 'I':
		return "idle";
	case 'K':
		return "wakekill";
	case 'W':
		return "waking";
	case 'P':
		return "parked";
	default:
		return "unknown";
	}
}

/* Parses "PID (COMM) S PPID PGRP ...". COMM may hold anything, so it
 * ends at the last ')'. */
int
target_parse_stat(const char *line, struct target_proc *p)
{
	const char	*open = strchr(line, '('), *close = strrchr(line, ')');
	char		*end;
	long		 v;
	size_t		 n;

	if (open == NULL || close == NULL || close < open)
		return -1;
	errno = 0;
	v = strtol(line, &end, 10);
	if (errno != 0 || end == line || v <= 0 || v > INT32_MAX ||
	    strspn(end, " ") != (size_t)(open - end) || end == open)
		return -1;
	p->pid = (int)v;
	n = (size_t)(close - open - 1);
	if (n >= sizeof p->comm)
		n = sizeof p->comm - 1;
	memcpy(p->comm, open + 1, n);
	p->comm[n] = '\0';
	if (close[1] != ' ' || !isalpha((unsigned char)close[2]) ||
	    close[3] != ' ')
		return -1;
	p->state = close[2];
	if (sscanf(close + 4, "%d %d", &p->ppid, &p->pgrp) != 2)
		return -1;
	return 0;
}

/* Keeps the last TARGET_TAIL bytes of output (n is at most a read). */
static void
target_keep(struct target *t, const char *p, size_t n)
{
	if (n > TARGET_TAIL) {
		p += n - TARGET_TAIL;
		n = TARGET_TAIL;
	}
	if (t->tail_len + n > TARGET_TAIL) {
		size_t	drop = t->tail_len + n - TARGET_TAIL;

		memmove(t->tail, t->tail + drop, t->tail_len - drop);
		t->tail_len -= drop;
	}
	memcpy(t->tail + t->tail_len, p, n);
	t->tail_len += n;
	t->tail[t->tail_len] = '\0';
}

/* Hooks are called from here, from the loop: a finished report first,
 * then an exit or a failed start. */
static void
target_news(evutil_socket_t fd, short what, void *arg)
{
	struct target	*t = arg;
	char		*line, *why;

	(void)fd;
	(void)what;
	if (t->report != NULL && (t->report_done || t->news_exit)) {
		line = t->report;
		t->report = NULL;
		event_del(t->ev_quiet);
		if (t->hooks.report != NULL)
			t->hooks.report(t->arg, line);
		free(line);
	}
	if (t->news_failed != NULL) {
		why = t->news_failed;
		t->news_failed = NULL;
		if (t->hooks.failed != NULL)
			t->hooks.failed(t->arg, why);
		free(why);
	}
	if (t->news_exit) {
		t->news_exit = 0;
		if (t->news_was == TARGET_STARTING) {
			char	desc[128];

			target_describe_status(t->news_status, desc,
			    sizeof desc);
			why = xasprintf("the target %s during start-up", desc);
			if (t->hooks.failed != NULL)
				t->hooks.failed(t->arg, why);
			free(why);
		} else if (t->news_was == TARGET_RUNNING &&
		    t->hooks.exited != NULL) {
			t->hooks.exited(t->arg, t->news_status);
		}
	}
}

/* Tells the loop there is news. */
static void
target_post(struct target *t)
{
	event_add(t->ev_news, &zero_tv);
}

/* A report is being collected: is it complete (valgrind's quiet for a
 * while, or past the grace period)? Sanitizers pause to symbolize, so
 * their reports end only with SUMMARY:, an exit or the grace period. */
static void
target_quiet(evutil_socket_t fd, short what, void *arg)
{
	struct target	*t = arg;
	uint64_t	 now = util_now_us(), quiet = TARGET_QUIET_MS * 1000;
	struct timeval	 tv;

	(void)fd;
	(void)what;
	if (t->report == NULL)
		return;
	if ((t->report_quiet && now - t->output_us >= quiet) ||
	    now - t->report_us >= t->cfg.grace_ms * 1000) {
		t->report_done = 1;
		target_post(t);
		return;
	}
	quiet -= now - t->output_us < quiet ? now - t->output_us : 0;
	tv = (struct timeval){ (time_t)(quiet / 1000000),
	    (suseconds_t)(quiet % 1000000) };
	event_add(t->ev_quiet, &tv);
}

/* One complete line of output: does a report begin or end? */
static void
target_line(struct target_stream *s)
{
	struct target	*t = s->t;
	struct timeval	 tv = { 0, TARGET_QUIET_MS * 1000 };
	const char	*kind;

	s->line[s->len] = '\0';
	s->len = 0;
	if (t->report == NULL && t->state == TARGET_RUNNING &&
	    (kind = target_report_kind(s->line)) != NULL) {
		t->report = xstrdup(target_report_text(s->line));
		t->report_done = 0;
		t->report_quiet = strcmp(kind, "valgrind") == 0;
		t->report_us = util_now_us();
		event_add(t->ev_quiet, &tv);
	}
	/* ASan, UBSan and valgrind end a report with a summary line. */
	if (t->report != NULL && strstr(s->line, "SUMMARY: ") != NULL) {
		t->report_done = 1;
		target_post(t);
	}
}

/* Reads what the target wrote on one stream, without blocking. Returns 0
 * at EOF (or error), 1 if the stream is still open. */
static int
target_drain(struct target_stream *s)
{
	struct target	*t = s->t;
	char		 buf[4096];

	for (int i = 0; i < 64; i++) {
		ssize_t	n = read(s->fd, buf, sizeof buf);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 1;
		if (n <= 0)
			return 0;
		t->output_us = util_now_us();
		if (t->log != NULL) {
			fwrite(buf, 1, (size_t)n, t->log);
			fflush(t->log);
		}
		target_keep(t, buf, (size_t)n);
		for (ssize_t k = 0; k < n; k++) {
			if (buf[k] == '\n' || s->len == LINE_MAX_LEN)
				target_line(s);
			if (buf[k] != '\n')
				s->line[s->len++] = buf[k];
		}
	}
	return 1;
}

/* Closes one output stream. */
static void
target_stream_close(struct target_stream *s)
{
	if (s->ev != NULL) {
		event_free(s->ev);
		s->ev = NULL;
	}
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
	s->len = 0;
}

/* The target wrote something. */
static void
target_readable(evutil_socket_t fd, short what, void *arg)
{
	struct target_stream	*s = arg;

	(void)fd;
	(void)what;
	if (!target_drain(s))
		target_stream_close(s);
}

/* Reads what the target left on both streams and closes them. */
static void
target_streams_end(struct target *t)
{
	if (t->out.fd != -1)
		target_drain(&t->out);
	if (t->err.fd != -1)
		target_drain(&t->err);
	if (t->out.len > 0)
		target_line(&t->out);
	if (t->err.len > 0)
		target_line(&t->err);
	target_stream_close(&t->out);
	target_stream_close(&t->err);
}

/* Reaps the guardian and the leader if they exited; the leader's end is
 * handled by target_dead. */
static void
target_reap(struct target *t)
{
	int	status;

	if (t->guard > 0 && waitpid(t->guard, &status, WNOHANG) == t->guard)
		t->guard = 0;
	if (t->pid > 0 && waitpid(t->pid, &status, WNOHANG) == t->pid)
		target_dead(t, status);
}

/* SIGCHLD: did the target (or its guardian) exit? */
static void
target_sigchld(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	target_reap(arg);
}

/* Arms the stop/clean tick. */
static void
target_tick_arm(struct target *t)
{
	struct timeval	tv = { 0, TICK_US };

	event_add(t->ev_tick, &tv);
}

/* The leader was reaped: tell (unless we stopped it), and kill what is
 * left of its group, the guardian included. */
static void
target_dead(struct target *t, int status)
{
	enum target_state	was = t->state;

	t->pid = 0;
	target_streams_end(t);
	event_del(t->ev_poll);
	if (was == TARGET_STARTING || was == TARGET_RUNNING) {
		t->news_exit = 1;
		t->news_was = was;
		t->news_status = status;
		target_post(t);
	} else if (t->report != NULL) {
		t->report_done = 1;
		target_post(t);
	}
	if (t->pgid > 0)
		kill(-t->pgid, SIGKILL);
	if (t->guard_fd != -1) {
		close(t->guard_fd);
		t->guard_fd = -1;
	}
	t->state = TARGET_CLEANING;
	t->deadline_us = util_now_us() + CLEAN_MS * 1000;
	target_tick_arm(t);
}

static int	target_spawn(struct target *, char **);

/* The group is gone (or would not go in time): idle, or start again. */
static void
target_clean(struct target *t)
{
	char	*cause = NULL;

	t->state = TARGET_IDLE;
	t->pgid = 0;
	if (!t->start_pending)
		return;
	t->start_pending = 0;
	if (target_spawn(t, &cause) == -1) {
		t->news_failed = cause;
		target_post(t);
	}
}

/* Stopping and cleaning, one step per tick. */
static void
target_tick(evutil_socket_t fd, short what, void *arg)
{
	struct target	*t = arg;
	uint64_t	 now = util_now_us();

	(void)fd;
	(void)what;
	target_reap(t);
	if (t->state == TARGET_STOPPING) {
		if (!t->killed && now >= t->deadline_us) {
			kill(-t->pgid, SIGKILL);
			t->killed = 1;
			t->deadline_us = now + KILL_WAIT_MS * 1000;
		} else if (t->killed && now >= t->deadline_us) {
			/* Unkillable (D state): forget it, do not hang. */
			t->pid = 0;
			target_streams_end(t);
			t->state = TARGET_CLEANING;
		}
		target_tick_arm(t);
		return;
	}
	if (t->state != TARGET_CLEANING)
		return;
	if ((t->guard == 0 && kill(-t->pgid, 0) == -1 && errno == ESRCH) ||
	    now >= t->deadline_us) {
		target_clean(t);
		return;
	}
	target_tick_arm(t);
}

/* Start-up: does it accept connections yet? */
static void
target_poll(evutil_socket_t fd, short what, void *arg)
{
	struct target	*t = arg;
	struct timeval	 tv = { 0, POLL_US };

	(void)fd;
	(void)what;
	if (t->state != TARGET_STARTING)
		return;
	/* It may have exited already: SIGCHLD tells the same, this is only
	 * quicker to notice. */
	target_reap(t);
	if (t->state != TARGET_STARTING)
		return;
	if (t->probe(t->arg)) {
		t->state = TARGET_RUNNING;
		if (t->hooks.ready != NULL)
			t->hooks.ready(t->arg);
		return;
	}
	if (util_now_us() - t->started_us >= t->cfg.startup_timeout_ms * 1000) {
		t->news_failed = xasprintf("the target did not accept "
		    "connections within %.1fs (--startup-timeout)",
		    (double)t->cfg.startup_timeout_ms / 1000);
		target_stop(t);
		target_post(t);
		return;
	}
	event_add(t->ev_poll, &tv);
}

/* Opens the log for appending: never through a symlink, never anything
 * but a regular file (a shared findings directory may hold a trap). */
static FILE *
target_open_log(const char *path, char **cause)
{
	struct stat	 st;
	FILE		*f = NULL;
	int		 fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0644);
	if (fd == -1) {
		*cause = xasprintf("target log %s: %s", path, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		*cause = xasprintf("target log %s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if ((f = fdopen(fd, "a")) == NULL) {
		*cause = xasprintf("target log %s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

/* Prepares a target (does not start it). */
struct target *
target_new(struct event_base *base, const struct target_config *cfg,
    const struct target_hooks *hooks, void *arg, char **cause)
{
	struct target	*t = xcalloc(1, sizeof *t);

	t->base = base;
	t->cfg = *cfg;
	t->hooks = *hooks;
	t->arg = arg;
	t->guard_fd = -1;
	t->out = (struct target_stream){ .t = t, .fd = -1 };
	t->err = (struct target_stream){ .t = t, .fd = -1 };
	target_restarts_init(&t->restarts, cfg->max_restarts);
	if (cfg->log_path != NULL &&
	    (t->log = target_open_log(cfg->log_path, cause)) == NULL) {
		target_free(t);
		return NULL;
	}
	t->ev_chld = evsignal_new(base, SIGCHLD, target_sigchld, t);
	t->ev_poll = evtimer_new(base, target_poll, t);
	t->ev_tick = evtimer_new(base, target_tick, t);
	t->ev_news = evtimer_new(base, target_news, t);
	t->ev_quiet = evtimer_new(base, target_quiet, t);
	if (t->ev_chld == NULL || t->ev_poll == NULL || t->ev_tick == NULL ||
	    t->ev_news == NULL || t->ev_quiet == NULL ||
	    event_add(t->ev_chld, NULL) == -1) {
		*cause = xasprintf("cannot watch the target");
		target_free(t);
		return NULL;
	}
	return t;
}

/* Sets the readiness probe. */
void
target_set_probe(struct target *t, int (*probe)(void *))
{
	t->probe = probe;
}

/* In a new child: default signal handlers (ours write to the loop's
 * socketpair), the group's stop signals ignored by the guardian, then
 * nothing blocked. */
static void
target_child_signals(int guardian)
{
	sigset_t	none;

	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	if (guardian) {
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGQUIT, SIG_IGN);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The guardian: leads the group, holds nothing but its pipe, and kills
 * the group when the pipe reads EOF; a byte on it means "let it live". */
static void
target_guardian(int fd)
{
	char	c;
	ssize_t	n;

	setpgid(0, 0);
	target_child_signals(1);
	if (fd != 3 && dup2(fd, 3) == -1)
		_exit(1);
	close_range(4, ~0U, 0);
	close_range(0, 2, 0);
	do {
		n = read(3, &c, 1);
	} while (n == -1 && errno == EINTR);
	if (n == 1)
		_exit(0);
	kill(0, SIGKILL);
	_exit(1);
}

/* Forks the guardian; returns the write end of its pipe, or -1. */
static int
target_fork_guardian(struct target *t, char **cause)
{
	int	p[2];
	pid_t	pid;

	if (pipe2(p, O_CLOEXEC) == -1) {
		*cause = xasprintf("cannot make a pipe for the target's "
		    "guardian: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == -1) {
		*cause = xasprintf("cannot fork the target's guardian: %s",
		    strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0)
		target_guardian(p[0]);
	setpgid(pid, pid);
	close(p[0]);
	t->guard = t->pgid = pid;
	return p[1];
}

/* Exec'd in the child: joins the guardian's group, output to pipes. */
static void
target_exec(struct target *t, int out, int err, int status)
{
	int	devnull = open("/dev/null", O_RDONLY), child_errno;

	/* No PR_SET_PDEATHSIG: the guardian covers our death, and
	 * --keep-target must outlive us. */
	setpgid(0, t->pgid);
	target_child_signals(0);
	if (devnull != -1)
		dup2(devnull, STDIN_FILENO);
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	if (t->cfg.cwd == NULL || chdir(t->cfg.cwd) == 0)
		execvp(t->cfg.argv[0], t->cfg.argv);
	child_errno = errno;
	if (write(status, &child_errno, sizeof child_errno) < 0)
		_exit(127);
	_exit(127);
}

/* Ends a guardian whose target never ran. */
static void
target_unguard(struct target *t)
{
	if (t->guard_fd != -1)
		close(t->guard_fd);
	t->guard_fd = -1;
	if (t->guard > 0) {
		kill(t->guard, SIGKILL);
		waitpid(t->guard, NULL, 0);
	}
	t->guard = t->pgid = 0;
}

/* Watches the target's output streams. */
static int
target_watch(struct target *t, int out, int err)
{
	t->out.fd = out;
	t->err.fd = err;
	fcntl(out, F_SETFL, O_NONBLOCK);
	fcntl(err, F_SETFL, O_NONBLOCK);
	t->out.ev = event_new(t->base, out, EV_READ | EV_PERSIST,
	    target_readable, &t->out);
	t->err.ev = event_new(t->base, err, EV_READ | EV_PERSIST,
	    target_readable, &t->err);
	if (t->out.ev == NULL || t->err.ev == NULL ||
	    event_add(t->out.ev, NULL) == -1 ||
	    event_add(t->err.ev, NULL) == -1)
		return -1;
	return 0;
}

/* Forks the guardian, then the command into its group. */
static int
target_spawn(struct target *t, char **cause)
{
	int		 out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int		 status[2] = { -1, -1 }, child_errno = 0;
	sigset_t	 all, old;
	pid_t		 pid;
	ssize_t		 n;

	if (pipe2(out, O_CLOEXEC) == -1 || pipe2(err, O_CLOEXEC) == -1 ||
	    pipe2(status, O_CLOEXEC) == -1) {
		*cause = xasprintf("cannot make pipes for the target: %s",
		    strerror(errno));
		goto fail;
	}
	/* No handler of ours may run in a child before it resets them. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	t->guard_fd = target_fork_guardian(t, cause);
	if (t->guard_fd == -1) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		goto fail;
	}
	pid = fork();
	if (pid == 0)
		target_exec(t, out[1], err[1], status[1]);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1) {
		*cause = xasprintf("cannot fork the target: %s",
		    strerror(errno));
		target_unguard(t);
		goto fail;
	}
	setpgid(pid, t->pgid);
	close(out[1]);
	close(err[1]);
	close(status[1]);
	out[1] = err[1] = status[1] = -1;
	do {
		n = read(status[0], &child_errno, sizeof child_errno);
	} while (n == -1 && errno == EINTR);
	close(status[0]);
	status[0] = -1;
	if (n == (ssize_t)sizeof child_errno) {
		waitpid(pid, NULL, 0);
		target_unguard(t);
		*cause = xasprintf("cannot run %s: %s", t->cfg.argv[0],
		    strerror(child_errno));
		goto fail;
	}
	t->pid = pid;
	t->state = TARGET_STARTING;
	t->killed = 0;
	t->started_us = util_now_us();
	if (target_watch(t, out[0], err[0]) == -1) {
		*cause = xasprintf("cannot watch the target's output");
		target_stop(t);
		return -1;
	}
	event_add(t->ev_poll, &zero_tv);
	return 0;

fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] != -1)
			close(out[i]);
		if (err[i] != -1)
			close(err[i]);
		if (status[i] != -1)
			close(status[i]);
	}
	return -1;
}

/* Starts the command, or asks for a start once the old group is gone. */
int
target_start(struct target *t, char **cause)
{
	if (t->state == TARGET_CLEANING || t->state == TARGET_STOPPING) {
		t->start_pending = 1;
		return 0;
	}
	if (t->state != TARGET_IDLE) {
		*cause = xasprintf("the target is already running");
		return -1;
	}
	return target_spawn(t, cause);
}

/* Stops it through the loop: SIGTERM now, SIGKILL after the grace. */
void
target_stop(struct target *t)
{
	if (t->pid <= 0 || (t->state != TARGET_STARTING &&
	    t->state != TARGET_RUNNING))
		return;
	t->state = TARGET_STOPPING;
	t->killed = 0;
	t->deadline_us = util_now_us() + t->cfg.grace_ms * 1000;
	event_del(t->ev_poll);
	kill(-t->pgid, SIGTERM);
	target_tick_arm(t);
}

/* Reaps the target now if it has exited. */
int
target_check(struct target *t)
{
	target_reap(t);
	return t->state != TARGET_RUNNING;
}

/* Waits up to ms for the leader (reading its output meanwhile); returns 1
 * once it is reaped. For the stop at exit only, when the loop is gone. */
static int
target_wait_sync(struct target *t, uint64_t ms)
{
	uint64_t	end = util_now_us() + ms * 1000;

	while (t->pid > 0) {
		struct pollfd	pfd[2] = {
			{ .fd = t->out.fd, .events = POLLIN },
			{ .fd = t->err.fd, .events = POLLIN },
		};

		target_reap(t);
		if (t->pid <= 0 || util_now_us() >= end)
			break;
		if (poll(pfd, 2, 10) > 0) {
			if (t->out.fd != -1 && !target_drain(&t->out))
				target_stream_close(&t->out);
			if (t->err.fd != -1 && !target_drain(&t->err))
				target_stream_close(&t->err);
		}
	}
	return t->pid <= 0;
}

/* The stop at exit: bounded by the grace period and KILL_WAIT_MS. */
static void
target_stop_sync(struct target *t)
{
	uint64_t	end;

	if (t->pid > 0) {
		if (t->state != TARGET_STOPPING || !t->killed)
			kill(-t->pgid, SIGTERM);
		if (!target_wait_sync(t, t->cfg.grace_ms)) {
			kill(-t->pgid, SIGKILL);
			target_wait_sync(t, KILL_WAIT_MS);
		}
	}
	if (t->pgid > 0)
		kill(-t->pgid, SIGKILL);
	if (t->guard_fd != -1) {
		close(t->guard_fd);
		t->guard_fd = -1;
	}
	end = util_now_us() + CLEAN_MS * 1000;
	while (t->guard > 0 && util_now_us() < end) {
		struct timespec	ts = { 0, 5000000 };

		target_reap(t);
		if (t->guard > 0)
			nanosleep(&ts, NULL);
	}
	target_streams_end(t);
	t->state = TARGET_IDLE;
}

/* Leaves it running (--keep-target): the guardian stands down. */
void
target_release(struct target *t)
{
	if (t->pid <= 0)
		return;
	t->state = TARGET_RELEASED;
	if (t->guard_fd != -1) {
		if (write(t->guard_fd, "r", 1) != 1)
			kill(t->guard, SIGKILL);
		close(t->guard_fd);
		t->guard_fd = -1;
	}
	if (t->guard > 0)
		waitpid(t->guard, NULL, 0);
	t->guard = 0;
}

/* The last output. */
const char *
target_tail(struct target *t)
{
	return t->tail;
}

/* Process id of the running target, or 0. */
int
target_pid(const struct target *t)
{
	return t->pid;
}

/* Its process group, or 0. */
int
target_pgid(const struct target *t)
{
	return t->pgid;
}

/* May it be restarted once more? */
int
target_may_restart(struct target *t)
{
	return target_restarts_allow(&t->restarts, util_now_us());
}

/* Restarts allowed so far. */
uint64_t
target_restart_count(const struct target *t)
{
	return t->restarts.count;
}

/* Appends one process's description to buf at *off. */
static void
target_proc_one(const struct target_proc *p, char *buf, size_t len,
    size_t *off)
{
	char	path[64], wchan[64] = "", comm[sizeof p->comm];
	int	fd, n;

	snprintf(path, sizeof path, "/proc/%d/wchan", p->pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		ssize_t	r = read(fd, wchan, sizeof wchan - 1);

		wchan[r > 0 ? r : 0] = '\0';
		close(fd);
	}
	if (strcmp(wchan, "0") == 0)
		wchan[0] = '\0';
	for (size_t i = 0; i < sizeof comm; i++) {
		comm[i] = isprint((unsigned char)p->comm[i]) ? p->comm[i] : '?';
		if (p->comm[i] == '\0') {
			comm[i] = '\0';
			break;
		}
	}
	/* The kernel ends wchan with nothing; keep it one word. */
	wchan[strcspn(wchan, " \n")] = '\0';
	n = snprintf(buf + *off, len - *off, "%s%d %s %c (%s)%s%s",
	    *off ? "; " : "", p->pid, comm, p->state,
	    target_state_name(p->state), wchan[0] ? " in " : "", wchan);
	if (n > 0)
		*off += (size_t)n < len - *off ? (size_t)n : len - *off - 1;
}

/* Describes each process of its group, the guardian left out. */
int
target_proc_state(const struct target *t, char *buf, size_t len)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 off = 0;
	int		 found = 0, seen = 0;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (t->pgid <= 0 || (d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && seen++ < PROC_SCAN_MAX &&
	    off + 1 < len) {
		char			 path[300], line[512];
		struct target_proc	 p;
		FILE			*f;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		if (fgets(line, sizeof line, f) != NULL &&
		    target_parse_stat(line, &p) == 0 && p.pgrp == t->pgid &&
		    p.pid != t->guard) {
			target_proc_one(&p, buf, len, &off);
			found++;
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

/* target_proc_state as a describe callback. */
void
target_describe_procs(void *arg, char *buf, size_t len)
{
	if (target_proc_state(arg, buf, len) == 0 && len > 0)
		snprintf(buf, len, "no process of the target's group found");
}

/* Frees; stops the target first unless released. Accepts NULL. */
void
target_free(struct target *t)
{
	if (t == NULL)
		return;
	if (t->state != TARGET_RELEASED)
		target_stop_sync(t);
	target_stream_close(&t->out);
	target_stream_close(&t->err);
	if (t->ev_chld != NULL)
		event_free(t->ev_chld);
	if (t->ev_poll != NULL)
		event_free(t->ev_poll);
	if (t->ev_tick != NULL)
		event_free(t->ev_tick);
	if (t->ev_news != NULL)
		event_free(t->ev_news);
	if (t->ev_quiet != NULL)
		event_free(t->ev_quiet);
	if (t->log != NULL)
		fclose(t->log);
	target_restarts_free(&t->restarts);
	free(t->news_failed);
	free(t->report);
	free(t);
}
