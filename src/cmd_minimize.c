/*
 * stutterfuzz minimize RECORD: from a finding to its cause. Each attempt
 * replays a candidate record against a fresh server (started through the
 * target module, from -- COMMAND or the command a supervised run's record
 * holds); the minimize module decides what to try next.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "cmd.h"
#include "corpus.h"
#include "engine.h"
#include "finding.h"
#include "json.h"
#include "minimize.h"
#include "minrecord.h"
#include "net.h"
#include "options.h"
#include "record.h"
#include "replay.h"
#include "reproducer.h"
#include "target.h"
#include "util.h"

#define CUT_CONTEXT	24	/* bytes shown on each side of a cut */
#define REPORT_WAIT_MS	500	/* after a replay, for a report to complete */

/* What the command line asked for. */
struct margs {
	const char	*record;
	const char	*host;
	const char	*port;
	const char	*unix_path;	/* --unix: a Unix socket instead */
	const char	*output;
	const char	*reproducer;
	uint64_t	 budget_ms;
	uint64_t	 tries;
	uint64_t	 settle_ms;
	uint64_t	 attempt_ms;
	uint64_t	 startup_ms;
	int		 quiet;
	char		**command;	/* after "--"; NULL: none */
};

/* A minimization run: the wiring between attempts and the world. */
struct mrun {
	struct margs		*a;
	struct options		 o;		/* replay's timeouts and settle */
	struct record		*rec;
	enum finding_kind	 kind;
	struct event_base	*base;
	struct net_target	 addr;
	struct target		*proc;		/* NULL: no way to restart */
	char			**argv;		/* the server command, or NULL */
	const char		*cwd;		/* ... from the record: run there */
	struct engine		*engine;	/* the replay running, or NULL */
	struct event		*ev_timeout;
	struct event		*ev_wait;	/* minimize_wait_news */
	int			 waiting;
	int			 read_pacing;
	int			 interrupted;
	int			 ready;		/* this attempt's server */
	char			*fail_why;
	int			 exited;
	int			 reported;
	uint64_t		 starts;	/* servers started */
	int			 tty;
	int			 line_open;
	size_t			 last_bytes, last_cuts, last_conns;
};

static const struct option minimize_longopts[] = {
	{ "host", required_argument, NULL, 'H' },
	{ "port", required_argument, NULL, 'p' },
	{ "unix", required_argument, NULL, 'U' },
	{ "output", required_argument, NULL, 'o' },
	{ "reproducer", required_argument, NULL, 'r' },
	{ "budget", required_argument, NULL, 'b' },
	{ "tries", required_argument, NULL, 't' },
	{ "settle", required_argument, NULL, 's' },
	{ "attempt-timeout", required_argument, NULL, 'a' },
	{ "startup-timeout", required_argument, NULL, 'S' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char minimize_usage[] =
"usage: stutterfuzz minimize RECORD [--host=HOST --port=PORT | --unix=PATH]\n"
"           [--output=FILE] [--reproducer=FILE] [--budget=TIME] [--tries=N]\n"
"           [--settle=TIME] [--attempt-timeout=TIME] [--startup-timeout=TIME]\n"
"           [-q] [-- SERVER-COMMAND...]\n"
"Shrinks a finding record to the connections, cuts and bytes it needs.\n"
"Each attempt replays a candidate against a fresh server started from\n"
"SERVER-COMMAND (or the command the record holds, from a supervised run).\n"
"  --output=FILE           write the minimal case as a finding record\n"
"  --reproducer=FILE       write it as a standalone python3 script\n"
"  --budget=TIME           bound the whole minimization (5m)\n"
"  --tries=N               tries of the record and of each candidate of a\n"
"                          flaky fault (3)\n"
"  --settle=TIME           wait for a dying server after each attempt (500ms)\n"
"  --attempt-timeout=TIME  bound each attempt (60s)\n"
"  --startup-timeout=TIME  wait for a server to accept connections (10s)\n"
"  -q, --quiet             no progress lines\n"
"Exit status: 1 minimized and it reproduces, 0 the record does not\n"
"reproduce, 2 usage or unreadable record, 3 a server could not be\n"
"(re)started.\n";

/* Complains about usage; returns the exit status. */
static int
minimize_usage_error(char *cause)
{
	fprintf(stderr, "stutterfuzz minimize: %s (see --help)\n", cause);
	free(cause);
	return EXIT_USAGE;
}

/* Parses one option into a; returns 0, or -1 with *cause. */
static int
minimize_option(struct margs *a, int ch, const char *arg, char **cause)
{
	switch (ch) {
	case 'H': a->host = arg; return 0;
	case 'p': a->port = arg; return 0;
	case 'U': a->unix_path = arg; return 0;
	case 'o': a->output = arg; return 0;
	case 'r': a->reproducer = arg; return 0;
	case 'q': a->quiet = 1; return 0;
	case 'b':
		return options_parse_duration(arg, 1000, 7ULL * 24 * 3600000,
		    &a->budget_ms, cause);
	case 't':
		return options_parse_uint(arg, 1, 100, &a->tries, cause);
	case 's':
		return options_parse_duration(arg, 0, 60000, &a->settle_ms,
		    cause);
	case 'a':
		return options_parse_duration(arg, 100, 3600000,
		    &a->attempt_ms, cause);
	case 'S':
		return options_parse_duration(arg, 100, 3600000,
		    &a->startup_ms, cause);
	default:
		*cause = xstrdup("unknown option");
		return -1;
	}
}

/* Parses the command line. Returns 0, 1 for --help, or -1 with *cause. */
static int
minimize_parse(struct margs *a, int argc, char **argv, char **cause)
{
	int	 nopts = argc, ch, longindex = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			nopts = i;
			a->command = argv[i + 1] != NULL ? argv + i + 1 : NULL;
			break;
		}
	}
	optind = 1;
	opterr = 0;
	for (;;) {
		/* RECORD may come before, between or after the options. */
		while (optind < nopts && argv[optind][0] != '-') {
			if (a->record != NULL) {
				*cause = xasprintf("one record at a time "
				    "(also %s)", argv[optind]);
				return -1;
			}
			a->record = argv[optind++];
		}
		if (optind >= nopts || (ch = getopt_long(nopts, argv, "+q",
		    minimize_longopts, &longindex)) == -1)
			break;
		if (ch == 'h')
			return 1;
		if (ch == '?') {
			*cause = xasprintf("unknown option or missing value: "
			    "%s", argv[optind - 1]);
			return -1;
		}
		if (minimize_option(a, ch, optarg, cause) == -1) {
			char	*why = *cause;

			*cause = xasprintf("--%s: %s", minimize_longopts[
			    longindex].name, why);
			free(why);
			return -1;
		}
	}
	if (optind < nopts) {
		*cause = xasprintf("unexpected argument %s", argv[optind]);
		return -1;
	}
	if (a->record == NULL) {
		*cause = xstrdup("minimize needs a record file");
		return -1;
	}
	return 0;
}

/* Can path be written? Checked before the minimization, not after it
 * (a directory, a missing directory). Returns 0, or -1 with *cause. */
static int
minimize_writable(const char *opt, const char *path, char **cause)
{
	char	*what = xasprintf("--%s", opt);
	int	 rc = util_output_check(what, path, cause);

	free(what);
	return rc;
}

/* Where the record's own command starts: the directory the run started
 * it in, if the record says and it exists here; else (with a line saying
 * so) the current one. */
static void
minimize_cwd(struct mrun *m)
{
	struct stat	 st;
	char		*safe;

	if (m->argv == NULL || m->rec->target_cwd == NULL)
		return;
	if (stat(m->rec->target_cwd, &st) == 0 && S_ISDIR(st.st_mode)) {
		m->cwd = m->rec->target_cwd;
		return;
	}
	safe = record_escape(m->rec->target_cwd);
	fprintf(stderr, "stutterfuzz minimize: the record's server ran in %s, "
	    "which is not a directory here (%s); starting its command in the "
	    "current directory (give -- SERVER-COMMAND to choose)\n", safe,
	    strerror(errno == 0 ? ENOTDIR : errno));
	free(safe);
}

/* The record's pacing; returns -1 (minimize_load's "go on"). */
static int
minimize_pacing(struct mrun *m)
{
	m->read_pacing = strcmp(m->rec->pace, "read") == 0 ||
	    strcmp(m->rec->pace, "auto") == 0;
	return -1;
}

/* Reads the record, its kind, its command and where to send. Returns an
 * exit status, or -1 to go on. */
static int
minimize_load(struct mrun *m, char **cause)
{
	struct margs	*a = m->a;

	if ((a->output != NULL &&
	    minimize_writable("output", a->output, cause) == -1) ||
	    (a->reproducer != NULL &&
	    minimize_writable("reproducer", a->reproducer, cause) == -1))
		return EXIT_USAGE;
	m->rec = record_load(a->record, cause);
	if (m->rec == NULL)
		return EXIT_USAGE;
	m->kind = finding_kind_from_name(m->rec->kind);
	if (m->kind == FINDING__COUNT) {
		*cause = xasprintf("%s: unknown finding kind '%s'", a->record,
		    m->rec->kind);
		return EXIT_USAGE;
	}
	m->argv = a->command != NULL ? NULL : minrecord_command(a->record);
	minimize_cwd(m);
	if (a->unix_path != NULL && (a->host != NULL || a->port != NULL)) {
		*cause = xasprintf("--unix and --%s exclude each other",
		    a->port != NULL ? "port" : "host");
		return EXIT_USAGE;
	}
	if (a->unix_path != NULL || (m->rec->target_unix &&
	    a->host == NULL && a->port == NULL))
		return net_unix_target(a->unix_path != NULL ? a->unix_path :
		    m->rec->target, &m->addr, cause) == -1 ? EXIT_USAGE :
		    minimize_pacing(m);
	if ((a->host == NULL && m->rec->target_host == NULL) ||
	    (a->port == NULL && m->rec->target_port == NULL)) {
		*cause = xasprintf("%s: target '%s' is not host:port; give "
		    "--host and --port", a->record, m->rec->target);
		return EXIT_USAGE;
	}
	if (net_resolve(a->host ? a->host : m->rec->target_host,
	    a->port ? a->port : m->rec->target_port, 200, &m->addr,
	    cause) == -1)
		return EXIT_USAGE;
	return minimize_pacing(m);
}

/* Hook: this attempt's server accepts connections. */
static void
minimize_ready(void *arg)
{
	struct mrun	*m = arg;

	m->ready = 1;
	event_base_loopbreak(m->base);
}

/* Hook: the server did not start. */
static void
minimize_failed(void *arg, const char *why)
{
	struct mrun	*m = arg;

	free(m->fail_why);
	m->fail_why = xstrdup(why);
	event_base_loopbreak(m->base);
}

/* Hook: the server exited during an attempt: no need to wait longer. */
static void
minimize_exited(void *arg, int status)
{
	struct mrun	*m = arg;

	(void)status;
	m->exited = 1;
	if (m->engine != NULL)
		engine_stop(m->engine, ENGINE_STOP_TARGET);
	if (m->waiting)
		event_base_loopbreak(m->base);
}

/* Hook: valgrind or a sanitizer reported an error. */
static void
minimize_report(void *arg, const char *line)
{
	struct mrun	*m = arg;

	(void)line;
	m->reported = 1;
	if (m->waiting)
		event_base_loopbreak(m->base);
}

/* The wait for news is over. */
static void
minimize_wait_over(evutil_socket_t fd, short what, void *arg)
{
	struct mrun	*m = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(m->base);
}

/* Runs the loop for up to ms, or until the server's exit or a report
 * arrives (the target module delivers them from the loop). */
static void
minimize_wait_news(struct mrun *m, uint64_t ms)
{
	struct timeval	tv = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000 };

	if (m->exited || m->reported || m->interrupted)
		return;
	m->waiting = 1;
	event_add(m->ev_wait, &tv);
	event_base_dispatch(m->base);
	event_del(m->ev_wait);
	m->waiting = 0;
}

/* Probe: does the server accept connections yet? */
static int
minimize_probe(void *arg)
{
	struct mrun	*m = arg;

	return net_alive(&m->addr, 200);
}

/* SIGINT or SIGTERM: stop the attempt; the smallest case so far stays. */
static void
minimize_signal(evutil_socket_t sig, short what, void *arg)
{
	struct mrun	*m = arg;

	(void)what;
	m->interrupted = (int)sig;
	if (m->engine != NULL)
		engine_stop(m->engine, ENGINE_STOP_SIGNAL);
	else
		event_base_loopbreak(m->base);
}

/* --attempt-timeout: the replay took too long; judge what it did. */
static void
minimize_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct mrun	*m = arg;

	(void)fd;
	(void)what;
	if (m->engine != NULL)
		engine_stop(m->engine, ENGINE_STOP_DURATION);
}

/* Starts a fresh server for an attempt. Returns a verdict (<0) or 0. */
static int
minimize_start(struct mrun *m, char **cause)
{
	m->ready = 0;
	free(m->fail_why);
	m->fail_why = NULL;
	if (target_start(m->proc, cause) == -1)
		return MINIMIZE_FAILED;
	m->starts++;
	while (!m->ready && m->fail_why == NULL && !m->interrupted) {
		if (event_base_dispatch(m->base) == -1) {
			*cause = xstrdup("event loop failed");
			return MINIMIZE_FAILED;
		}
	}
	if (m->interrupted)
		return MINIMIZE_INTERRUPTED;
	if (m->fail_why != NULL) {
		const char	*tail = target_tail(m->proc), *end, *line;

		/* Its last line of output, if any, says why. */
		end = tail + strlen(tail);
		while (end > tail && (end[-1] == '\n' || end[-1] == '\r'))
			end--;
		line = end;
		while (line > tail && line[-1] != '\n')
			line--;
		*cause = xasprintf("the server could not be started: %s%s%.*s",
		    m->fail_why, end > line ? "; its last output: " : "",
		    (int)(end - line), line);
		return MINIMIZE_FAILED;
	}
	return 0;
}

/* Did the attempt bring the record's fault back? */
static int
minimize_judge(struct mrun *m, const struct replay_outcome *out)
{
	int	dead = 0;

	if (m->proc != NULL) {
		if (m->kind == FINDING_TARGET_REPORT)
			minimize_wait_news(m, REPORT_WAIT_MS);
		dead = target_check(m->proc);
		minimize_wait_news(m, 0);	/* news already posted */
	}
	switch (m->kind) {
	case FINDING_TARGET_EXIT:
		return m->exited || dead || !out->alive;
	case FINDING_TARGET_REPORT:
		return m->reported;
	default:
		return replay_reproduced(out, m->kind) || m->exited || dead;
	}
}

/* The attempt: one candidate against a fresh server. */
static int
minimize_attempt(void *arg, const struct record *cand, char **cause)
{
	struct mrun		 *m = arg;
	const struct record_conn **conns;
	struct replay_outcome	  out;
	struct timeval		  tv = { (time_t)(m->a->attempt_ms / 1000),
				      (long)(m->a->attempt_ms % 1000) * 1000 };
	int			  v, rc;

	if (m->proc != NULL && (v = minimize_start(m, cause)) != 0)
		return v;
	/* Only news of this attempt's server counts: anything the loop
	 * delivered while it started was about the one before. */
	m->exited = m->reported = 0;
	conns = xcalloc(cand->nconns + 1, sizeof *conns);
	for (size_t i = 0; i < cand->nconns; i++)
		conns[i] = &cand->conns[i];
	event_add(m->ev_timeout, &tv);
	rc = replay_conns(m->base, &m->o, &m->addr, conns, cand->nconns,
	    m->read_pacing, &m->engine, &out, cause);
	event_del(m->ev_timeout);
	free(conns);
	if (rc == -1)
		return MINIMIZE_FAILED;
	if (out.interrupted || m->interrupted)
		return MINIMIZE_INTERRUPTED;
	v = minimize_judge(m, &out) ? MINIMIZE_REPRODUCED :
	    MINIMIZE_NOT_REPRODUCED;
	if (m->proc != NULL) {
		target_stop(m->proc);
	} else if (!net_alive(&m->addr, m->o.connect_timeout_ms)) {
		*cause = xasprintf("the server at %s went away and there is "
		    "no command to restart it: give -- SERVER-COMMAND (or a "
		    "record of a supervised run)", m->addr.text);
		return MINIMIZE_FAILED;
	}
	return v;
}

/* Ends a live progress line before other output. */
static void
minimize_break_line(struct mrun *m)
{
	if (m->line_open) {
		fputc('\n', stderr);
		m->line_open = 0;
	}
}

/* Progress: a live line on a terminal, a line whenever the case shrinks. */
static void
minimize_progress(void *arg, const struct minimize_progress *p)
{
	struct mrun	*m = arg;
	int		 smaller = p->conns != m->last_conns ||
			    p->bytes != m->last_bytes || p->cuts != m->last_cuts;

	if (m->a->quiet)
		return;
	if (smaller || (!m->tty && (strcmp(p->stage, "check") == 0 ||
	    strcmp(p->stage, "confirm") == 0))) {
		minimize_break_line(m);
		fprintf(stderr, "attempt %" PRIu64 " (%s): %s; smallest so far "
		    "%zu connection%s, %zu byte%s, %zu cut%s\n", p->attempts,
		    p->stage, p->reproduced ? "reproduced" : "not reproduced",
		    p->conns, PLURAL(p->conns), p->bytes, PLURAL(p->bytes),
		    p->cuts, PLURAL(p->cuts));
	} else if (m->tty) {
		fprintf(stderr, "\rattempt %" PRIu64 " (%s): %zu connection%s, "
		    "%zu byte%s, %zu cut%s left\033[K", p->attempts, p->stage,
		    p->conns, PLURAL(p->conns), p->bytes, PLURAL(p->bytes),
		    p->cuts, PLURAL(p->cuts));
		m->line_open = 1;
	}
	m->last_conns = p->conns;
	m->last_bytes = p->bytes;
	m->last_cuts = p->cuts;
}

/* One connection of the minimal case as a record's JSON object (text). */
static char *
minimize_conn_json(const struct record_conn *c)
{
	struct conn_report	 rep = {
		.index = c->index,
		.blob = &c->blob,
		.plan = &c->plan,
		.frags_sent = c->plan.nfrags,
		.bytes_sent = c->blob.len,
		.gaps_us = c->plan.gaps_us,
		.ngaps = c->plan.nfrags,
		.state = "minimized",
		.outcome = c->outcome,
	};
	struct jbuf		 b = { 0 };

	record_conn_json(&b, &rep, 1);
	return b.s;
}

/* Writes text to path through a temporary file and a rename. */
static int
minimize_write_file(const char *path, const char *text, size_t len,
    mode_t mode, char **cause)
{
	char	*tmp = xasprintf("%s.tmp-%d", path, (int)getpid());
	FILE	*f = fopen(tmp, "we");
	int	 ok;

	if (f == NULL) {
		*cause = xasprintf("%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	ok = fwrite(text, 1, len, f) == len;
	ok = (fclose(f) == 0) && ok;
	if (!ok || chmod(tmp, mode) == -1 || rename(tmp, path) == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* Writes the minimal case as a finding record that replay takes: the
 * record as read, with its connections replaced and a "minimized" note. */
static int
minimize_write_record(struct mrun *m, const struct minimize_result *res,
    char **cause)
{
	const struct record	*best = res->best;
	char			**conns = xcalloc(best->nconns + 1,
				    sizeof *conns);
	struct jbuf		  note = { 0 };
	int			  rc;

	for (size_t i = 0; i < best->nconns; i++)
		conns[i] = minimize_conn_json(&best->conns[i]);
	jbuf_printf(&note, "{\"end\":\"%s\",\"attempts\":%" PRIu64
	    ",\"server_starts\":%" PRIu64 ",\"record_tries\":%u,"
	    "\"record_reproduced\":%u,\"tries\":%u,\"reproduced\":%u,"
	    "\"flaky\":%s,\"minimal\":%s}", minimize_end_name(res->end),
	    res->attempts, m->starts, res->first_tries, res->first_hits,
	    res->final_tries, res->final_hits, res->flaky ? "true" : "false",
	    minimize_is_minimal(res) ? "true" : "false");
	rc = minrecord_write(m->a->record, m->a->output,
	    (const char *const *)conns, best->nconns,
	    best->nconns == 1 && m->rec->has_culprit, note.s, cause);
	for (size_t i = 0; i < best->nconns; i++)
		free(conns[i]);
	free(conns);
	jbuf_free(&note);
	return rc;
}

/* Writes the python3 reproducer. */
static int
minimize_write_reproducer(struct mrun *m, const struct minimize_result *res,
    char **cause)
{
	struct jbuf	 b = { 0 };
	char		*about;
	int		 rc;

	about = xasprintf("%s (%s), minimized from %zu connection%s, %zu "
	    "byte%s, %zu cut%s", m->rec->kind, m->rec->detail ?
	    m->rec->detail : m->rec->phase, res->orig_conns,
	    PLURAL(res->orig_conns), res->orig_bytes, PLURAL(res->orig_bytes),
	    res->orig_cuts, PLURAL(res->orig_cuts));
	reproducer_write(res->best, about, &b);
	rc = minimize_write_file(m->a->reproducer, b.s, b.len, 0755, cause);
	free(about);
	jbuf_free(&b);
	return rc;
}

/* Prints the minimal case and what the minimization found out. */
static void
minimize_print(struct mrun *m, const struct minimize_result *res,
    uint64_t took_us)
{
	size_t		conns, bytes, cuts;
	struct jbuf	b = { 0 };

	minimize_size(res->best, &conns, &bytes, &cuts);
	for (size_t i = 0; i < res->best->nconns; i++) {
		const struct record_conn	*c = &res->best->conns[i];

		printf("connection %zu of %zu: blob %s, %zu byte%s, %" PRIu32
		    " fragment%s: ", i + 1, res->best->nconns, c->blob.name,
		    c->blob.len, PLURAL(c->blob.len), c->plan.nfrags,
		    PLURAL(c->plan.nfrags));
		b.len = 0;
		minimize_escape(&b, c->blob.data, c->blob.len < 4 *
		    CUT_CONTEXT ? c->blob.len : 4 * CUT_CONTEXT);
		printf("%s%s\n", b.s, c->blob.len > 4 * CUT_CONTEXT ?
		    "..." : "");
	}
	b.len = 0;
	minimize_describe_cuts(res->best, CUT_CONTEXT, &b);
	if (cuts == 0)
		printf("no cut is needed: the fault comes back with every "
		    "connection sent whole\n");
	else
		fputs(b.s, stdout);
	fflush(stdout);
	jbuf_free(&b);
	minimize_break_line(m);
	fprintf(stderr, "Minimized in %.1fs: %" PRIu64 " attempt%s, %" PRIu64
	    " server start%s; %zu connection%s, %zu byte%s, %zu cut%s -> %zu "
	    "connection%s, %zu byte%s, %zu cut%s\n", (double)took_us / 1e6,
	    res->attempts, PLURAL(res->attempts), m->starts, PLURAL(m->starts),
	    res->orig_conns, PLURAL(res->orig_conns), res->orig_bytes,
	    PLURAL(res->orig_bytes), res->orig_cuts, PLURAL(res->orig_cuts),
	    conns, PLURAL(conns), bytes, PLURAL(bytes), cuts, PLURAL(cuts));
	fprintf(stderr, "Stages:");
	for (unsigned i = 0; i < MINIMIZE_STAGES; i++)
		fprintf(stderr, "%s %s %" PRIu64 " attempt%s in %.1fs", i ? "," :
		    "", minimize_stage_name(i), res->stage_attempts[i],
		    PLURAL(res->stage_attempts[i]),
		    (double)res->stage_us[i] / 1e6);
	fputc('\n', stderr);
	fprintf(stderr, "Reproduced: the record %u of %u tr%s", res->first_hits,
	    res->first_tries, res->first_tries == 1 ? "y" : "ies");
	if (res->final_tries > 0)
		fprintf(stderr, ", the minimal case %u of %u tr%s",
		    res->final_hits, res->final_tries, res->final_tries == 1 ?
		    "y" : "ies");
	fprintf(stderr, " (each candidate tried up to %u time%s)\n",
	    res->per_candidate, PLURAL(res->per_candidate));
}

/* Says how it ended; returns the exit status. */
static int
minimize_verdict(struct mrun *m, const struct minimize_result *res)
{
	const char	*replay = m->a->output != NULL && res->best->nconns > 1 ?
			    " --all" : "";

	if (m->a->output != NULL)
		fprintf(stderr, "Minimal record: %s (stutterfuzz replay%s %s)\n",
		    m->a->output, replay, m->a->output);
	if (m->a->reproducer != NULL)
		fprintf(stderr, "Reproducer: %s (run: %s HOST PORT)\n",
		    m->a->reproducer, m->a->reproducer);
	switch (res->end) {
	case MINIMIZE_DONE:
		if (res->flaky)
			fprintf(stderr, "Result: the smallest case found, but "
			    "the fault is flaky (the record %u of %u tr%s, "
			    "this case %u of %u): not proven minimal; exit 1\n",
			    res->first_hits, res->first_tries,
			    res->first_tries == 1 ? "y" : "ies", res->final_hits,
			    res->final_tries);
		else
			fprintf(stderr, "Result: minimal: every remaining "
			    "connection, cut and byte is needed; exit 1\n");
		return EXIT_FINDINGS;
	case MINIMIZE_BUDGET:
		fprintf(stderr, "Result: the budget (--budget) ran out: the "
		    "smallest case so far, not minimal; exit 1\n");
		return EXIT_FINDINGS;
	case MINIMIZE_STOPPED:
		fprintf(stderr, "Result: interrupted: the smallest case so far, "
		    "not minimal; exit 1\n");
		return EXIT_FINDINGS;
	default:
		fprintf(stderr, "stutterfuzz minimize: %s\n", res->cause);
		fprintf(stderr, "Result: stopped: the smallest case so far, not "
		    "minimal; exit 3\n");
		return EXIT_RUNTIME;
	}
}

/* The event loop, signals, the attempt timer and the server. Returns -1
 * with *cause, or 0. */
static int
minimize_setup(struct mrun *m, struct event **sigs, char **cause)
{
	struct target_hooks	th = {
		.ready = minimize_ready,
		.failed = minimize_failed,
		.exited = minimize_exited,
		.report = minimize_report,
	};
	struct target_config	tc = {
		.argv = m->a->command != NULL ? m->a->command : m->argv,
		.addr = (const struct sockaddr *)&m->addr.addr,
		.addrlen = m->addr.addrlen,
		.startup_timeout_ms = m->a->startup_ms,
		.grace_ms = m->o.grace_ms,
		.cwd = m->a->command != NULL ? NULL : m->cwd,
	};

	struct event_config	*ec = event_config_new();

	signal(SIGPIPE, SIG_IGN);
	/* As the main run's loop: timers finer than a millisecond for read
	 * pacing, new events checked after a bounded number of callbacks. */
	if (ec != NULL) {
		event_config_set_max_dispatch_interval(ec, NULL, 1024, 0);
		event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
		m->base = event_base_new_with_config(ec);
		event_config_free(ec);
	}
	if (m->base == NULL || event_base_priority_init(m->base, 2) == -1) {
		*cause = xstrdup("cannot make an event loop");
		return -1;
	}
	sigs[0] = evsignal_new(m->base, SIGINT, minimize_signal, m);
	sigs[1] = evsignal_new(m->base, SIGTERM, minimize_signal, m);
	m->ev_timeout = evtimer_new(m->base, minimize_timeout, m);
	m->ev_wait = evtimer_new(m->base, minimize_wait_over, m);
	if (sigs[0] == NULL || sigs[1] == NULL || m->ev_timeout == NULL ||
	    m->ev_wait == NULL ||
	    event_add(sigs[0], NULL) == -1 || event_add(sigs[1], NULL) == -1) {
		*cause = xstrdup("cannot watch signals");
		return -1;
	}
	if (tc.argv == NULL)
		return 0;
	m->proc = target_new(m->base, &tc, &th, m, cause);
	if (m->proc == NULL)
		return -1;
	target_set_probe(m->proc, minimize_probe);
	return 0;
}

/* Says what the minimization will do. */
static void
minimize_announce(struct mrun *m)
{
	struct jbuf	b = { 0 };
	char		**argv = m->a->command != NULL ? m->a->command : m->argv;
	char		*cwd;

	fprintf(stderr, "Record: %s in %s, %zu connection%s, recorded against "
	    "%s; minimizing against %s\n", m->rec->kind, m->rec->phase,
	    m->rec->nconns, PLURAL(m->rec->nconns), m->rec->target,
	    m->addr.text);
	if (argv == NULL) {
		fprintf(stderr, "No server command: attempts go to the server "
		    "running there, which must survive them\n");
		return;
	}
	for (char **p = argv; *p != NULL; p++) {
		jbuf_append(&b, " ", 1);
		options_shell_quote(&b, *p);
	}
	cwd = m->cwd != NULL ? record_escape(m->cwd) : NULL;
	if (m->a->command != NULL)
		fprintf(stderr, "A fresh server for every attempt:%s\n", b.s);
	else
		fprintf(stderr, "A fresh server for every attempt:%s (from the "
		    "record%s%s)\n", b.s, cwd != NULL ? ", in " : "",
		    cwd != NULL ? cwd : "");
	free(cwd);
	jbuf_free(&b);
}

/* Runs the minimization and writes what it found; returns the status. */
static int
minimize_go(struct mrun *m)
{
	struct minimize_config	cfg = {
		.tries = (unsigned)m->a->tries,
		.budget_us = m->a->budget_ms * 1000,
		.attempt = minimize_attempt,
		.progress = minimize_progress,
		.arg = m,
	};
	struct minimize_result	res;
	uint64_t		t0 = util_now_us();
	char			*cause = NULL;
	int			status;

	minimize_run(m->rec, &cfg, &res);
	minimize_break_line(m);
	if (res.best == NULL) {
		if (res.end == MINIMIZE_NOT_REPRODUCIBLE) {
			fprintf(stderr, "Result: the record did not reproduce "
			    "in %u tr%s; nothing to minimize; exit 0\n",
			    res.first_tries, res.first_tries == 1 ? "y" : "ies");
			status = EXIT_CLEAN;
		} else if (res.end == MINIMIZE_ERROR) {
			fprintf(stderr, "stutterfuzz minimize: %s\n", res.cause);
			status = EXIT_RUNTIME;
		} else if (res.end == MINIMIZE_BUDGET) {
			fprintf(stderr, "Result: the budget ran out before the "
			    "record reproduced; exit 0\n");
			status = EXIT_CLEAN;
		} else {
			/* Interrupted: neither "reproduced" nor "not". */
			status = 128 + (m->interrupted ? m->interrupted : SIGINT);
			fprintf(stderr, "Result: interrupted before the record "
			    "reproduced; exit %d\n", status);
		}
		minimize_result_release(&res);
		return status;
	}
	minimize_print(m, &res, util_now_us() - t0);
	if ((m->a->output != NULL &&
	    minimize_write_record(m, &res, &cause) == -1) ||
	    (m->a->reproducer != NULL &&
	    minimize_write_reproducer(m, &res, &cause) == -1)) {
		fprintf(stderr, "stutterfuzz minimize: %s\n", cause);
		free(cause);
		minimize_result_release(&res);
		return EXIT_RUNTIME;
	}
	status = minimize_verdict(m, &res);
	minimize_result_release(&res);
	return status;
}

/* stutterfuzz minimize RECORD [options] [-- SERVER-COMMAND...] */
int
cmd_minimize(int argc, char **argv)
{
	struct margs	 a = {
		.budget_ms = 5 * 60 * 1000,
		.tries = 3,
		.settle_ms = 500,
		.attempt_ms = 60 * 1000,
		.startup_ms = 10 * 1000,
	};
	struct mrun	 m = { .a = &a };
	struct event	*sigs[2] = { NULL, NULL };
	char		*cause = NULL;
	int		 status, rc;

	if ((rc = minimize_parse(&a, argc, argv, &cause)) != 0) {
		if (rc == 1) {
			fputs(minimize_usage, stdout);
			return EXIT_CLEAN;
		}
		return minimize_usage_error(cause);
	}
	options_defaults(&m.o);
	m.o.settle_ms = a.settle_ms;
	m.tty = isatty(STDERR_FILENO);
	if ((status = minimize_load(&m, &cause)) != -1) {
		/* Bad input, not bad usage: no --help hint. */
		fprintf(stderr, "stutterfuzz minimize: %s\n", cause);
		goto out;
	}
	status = EXIT_RUNTIME;
	if (minimize_setup(&m, sigs, &cause) == -1) {
		fprintf(stderr, "stutterfuzz minimize: %s\n", cause);
		goto out;
	}
	minimize_announce(&m);
	if (m.proc == NULL && !net_alive(&m.addr, m.o.connect_timeout_ms)) {
		fprintf(stderr, "stutterfuzz minimize: %s does not accept "
		    "connections, and there is no command to start a server: "
		    "give -- SERVER-COMMAND\n", m.addr.text);
		goto out;
	}
	status = minimize_go(&m);
out:
	target_free(m.proc);
	for (int i = 0; i < 2; i++) {
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	}
	if (m.ev_timeout != NULL)
		event_free(m.ev_timeout);
	if (m.ev_wait != NULL)
		event_free(m.ev_wait);
	if (m.base != NULL)
		event_base_free(m.base);
	minrecord_command_free(m.argv);
	record_free(m.rec);
	free(m.fail_why);
	free(cause);
	return status;
}
