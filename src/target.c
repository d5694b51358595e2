/* The supervised target: started, watched, stopped. */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "target.h"
#include "util.h"

#define LINE_MAX_LEN	1024
#define POLL_US		50000	/* readiness checks during start-up */

enum target_state {
	TARGET_IDLE,		/* not running */
	TARGET_STARTING,	/* running, not yet accepting */
	TARGET_RUNNING,		/* accepting; exits are findings */
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
	pid_t			 pid;
	uint64_t		 started_us;
	FILE			*log;
	struct target_stream	 out;
	struct target_stream	 err;
	struct event		*ev_chld;
	struct event		*ev_poll;
	char			 tail[TARGET_TAIL + 1];
	size_t			 tail_len;
	int			 (*probe)(void *);
};

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

/* One complete line of output: is it a report? */
static void
target_line(struct target_stream *s)
{
	struct target	*t = s->t;

	s->line[s->len] = '\0';
	if (target_report_kind(s->line) != NULL &&
	    t->state == TARGET_RUNNING && t->hooks.report != NULL)
		t->hooks.report(t->arg, s->line);
	s->len = 0;
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

/* The target is gone: read what it left, close its streams. */
static void
target_gone(struct target *t)
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
	event_del(t->ev_poll);
	t->pid = 0;
}

/* SIGCHLD: did our target exit? */
static void
target_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct target		*t = arg;
	enum target_state	 was = t->state;
	char			 why[128], *msg;
	int			 status;

	(void)sig;
	(void)what;
	if (t->pid <= 0 || waitpid(t->pid, &status, WNOHANG) != t->pid)
		return;
	t->state = TARGET_IDLE;
	target_gone(t);
	target_describe_status(status, why, sizeof why);
	if (was == TARGET_STARTING) {
		msg = xasprintf("the target %s during start-up", why);
		if (t->hooks.failed != NULL)
			t->hooks.failed(t->arg, msg);
		free(msg);
	} else if (was == TARGET_RUNNING && t->hooks.exited != NULL) {
		t->hooks.exited(t->arg, status);
	}
}

/* Start-up: does it accept connections yet? */
static void
target_poll(evutil_socket_t fd, short what, void *arg)
{
	struct target	*t = arg;
	struct timeval	 tv = { 0, POLL_US };
	char		*msg;

	(void)fd;
	(void)what;
	if (t->state != TARGET_STARTING)
		return;
	/* It may have exited already: SIGCHLD tells the same, this is only
	 * quicker to notice. */
	target_sigchld(SIGCHLD, 0, t);
	if (t->state != TARGET_STARTING)
		return;
	if (t->probe(t->arg)) {
		t->state = TARGET_RUNNING;
		if (t->hooks.ready != NULL)
			t->hooks.ready(t->arg);
		return;
	}
	if (util_now_us() - t->started_us >= t->cfg.startup_timeout_ms * 1000) {
		msg = xasprintf("the target did not accept connections within "
		    "%.1fs (--startup-timeout)",
		    (double)t->cfg.startup_timeout_ms / 1000);
		target_stop(t);
		if (t->hooks.failed != NULL)
			t->hooks.failed(t->arg, msg);
		free(msg);
		return;
	}
	event_add(t->ev_poll, &tv);
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
	t->out = (struct target_stream){ .t = t, .fd = -1 };
	t->err = (struct target_stream){ .t = t, .fd = -1 };
	if (cfg->log_path != NULL) {
		t->log = fopen(cfg->log_path, "ae");
		if (t->log == NULL) {
			*cause = xasprintf("target log %s: %s", cfg->log_path,
			    strerror(errno));
			free(t);
			return NULL;
		}
	}
	t->ev_chld = evsignal_new(base, SIGCHLD, target_sigchld, t);
	t->ev_poll = evtimer_new(base, target_poll, t);
	if (t->ev_chld == NULL || t->ev_poll == NULL ||
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

/* Starts the command and waits (through the event loop) for it to accept. */
int
target_start(struct target *t, char **cause)
{
	int		 out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int		 status[2] = { -1, -1 }, child_errno = 0;
	struct timeval	 tv = { 0, 0 };
	pid_t		 pid;
	ssize_t		 n;

	if (pipe2(out, O_CLOEXEC) == -1 || pipe2(err, O_CLOEXEC) == -1 ||
	    pipe2(status, O_CLOEXEC) == -1) {
		*cause = xasprintf("cannot make pipes for the target: %s",
		    strerror(errno));
		goto fail;
	}
	pid = fork();
	if (pid == -1) {
		*cause = xasprintf("cannot fork the target: %s",
		    strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		sigset_t	none;
		int		devnull = open("/dev/null", O_RDONLY);

		/* Its own process group, so one signal reaches all of it;
		 * and it dies with us even if we are killed outright. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (devnull != -1)
			dup2(devnull, STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		execvp(t->cfg.argv[0], t->cfg.argv);
		child_errno = errno;
		if (write(status[1], &child_errno, sizeof child_errno) < 0)
			_exit(127);
		_exit(127);
	}
	setpgid(pid, pid);
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
		*cause = xasprintf("cannot run %s: %s", t->cfg.argv[0],
		    strerror(child_errno));
		goto fail;
	}
	t->pid = pid;
	t->state = TARGET_STARTING;
	t->started_us = util_now_us();
	t->out.fd = out[0];
	t->err.fd = err[0];
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	t->out.ev = event_new(t->base, out[0], EV_READ | EV_PERSIST,
	    target_readable, &t->out);
	t->err.ev = event_new(t->base, err[0], EV_READ | EV_PERSIST,
	    target_readable, &t->err);
	if (t->out.ev == NULL || t->err.ev == NULL ||
	    event_add(t->out.ev, NULL) == -1 ||
	    event_add(t->err.ev, NULL) == -1) {
		*cause = xasprintf("cannot watch the target's output");
		target_stop(t);
		return -1;
	}
	event_add(t->ev_poll, &tv);
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

/* Waits up to ms for pid to exit; returns 1 if it was reaped. */
static int
target_reap(pid_t pid, uint64_t ms)
{
	uint64_t	end = util_now_us() + ms * 1000;

	for (;;) {
		pid_t	r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r == -1 && errno == ECHILD))
			return 1;
		if (util_now_us() >= end)
			return 0;
		usleep(10000);
	}
}

/* Stops it: SIGTERM to the group, the grace period, SIGKILL, reaped. */
void
target_stop(struct target *t)
{
	pid_t	pid = t->pid;

	if (pid <= 0 || t->state == TARGET_RELEASED)
		return;
	t->state = TARGET_IDLE;
	kill(-pid, SIGTERM);
	if (!target_reap(pid, t->cfg.grace_ms)) {
		kill(-pid, SIGKILL);
		target_reap(pid, 5000);
	}
	/* Anything the leader left behind in its group goes too. */
	kill(-pid, SIGKILL);
	target_gone(t);
}

/* Reaps the target now if it has exited. */
int
target_check(struct target *t)
{
	target_sigchld(SIGCHLD, 0, t);
	return t->state != TARGET_RUNNING;
}

/* Leaves it running (--keep-target). */
void
target_release(struct target *t)
{
	if (t->pid > 0)
		t->state = TARGET_RELEASED;
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

/* Frees; stops the target first unless released. Accepts NULL. */
void
target_free(struct target *t)
{
	if (t == NULL)
		return;
	if (t->state != TARGET_RELEASED)
		target_stop(t);
	target_stream_close(&t->out);
	target_stream_close(&t->err);
	if (t->ev_chld != NULL)
		event_free(t->ev_chld);
	if (t->ev_poll != NULL)
		event_free(t->ev_poll);
	if (t->log != NULL)
		fclose(t->log);
	free(t);
}
