/*
 * stutterfuzz: a TCP stress fuzzer that cuts protocol samples at random
 * packet boundaries. main() only wires the modules together and turns their
 * errors into messages and exit codes.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "confirm.h"
#include "corpus.h"
#include "engine.h"
#include "finding.h"
#include "json.h"
#include "net.h"
#include "options.h"
#include "record.h"
#include "replay.h"
#include "rng.h"
#include "stats.h"
#include "target.h"
#include "util.h"

#define EXIT_CLEAN	0
#define EXIT_FINDINGS	1
#define EXIT_USAGE	2
#define EXIT_RUNTIME	3

#define FD_RESERVE	32	/* descriptors kept for everything but connections */

struct run {
	const struct options	*opt;
	const struct net_target	*target;
	uint64_t		 seed;
	int			 tty;		/* stderr is a terminal */
	int			 line_open;	/* a live line waits to be overwritten */
	unsigned		 hinted;	/* kinds whose reproduce line was shown */
	uint64_t		 printed[FINDING__COUNT];	/* finding lines per kind */
	struct recorder		*rec;
	int			 rec_failed;	/* a record could not be written */
	struct jbuf		 options_json;
	FILE			*trace;
	struct jbuf		 trace_line;
	struct engine		*engine;	/* the one running, for signals */
	struct event_base	*base;
	struct engine_config	 cfg;		/* the engine to make when ready */
	struct engine_hooks	 hooks;
	struct net_target	*addr;		/* where the target answered */
	struct target		*proc;		/* supervised server, or NULL */
	char			*target_log;
	char			*startup_why;	/* the target never got ready */
	int			 interrupted;	/* a signal before the engine ran */
	uint64_t		 restarts;
	uint64_t		 restart_us[64];	/* recent restart times (ring) */
	FILE			*stats_out;	/* --stats-file, or stderr */
	struct jbuf		 stats_line;
	uint64_t		 start_us;
};

/* Ends a live line on a terminal before other output. */
static void
run_break_line(struct run *r)
{
	if (r->line_open) {
		fputc('\n', stderr);
		r->line_open = 0;
	}
}

/* Prints how to send connection `index` again, or its record. */
static void
run_print_hint(struct run *r, uint64_t index, const char *record)
{
	const struct options	*o = r->opt;
	struct jbuf		 b = { 0 };

	if (record != NULL) {
		jbuf_printf(&b, "stutterfuzz replay ");
		options_shell_quote(&b, recorder_dir(r->rec));
		jbuf_append(&b, "/", 1);
		jbuf_append(&b, record, strlen(record));
	} else {
		jbuf_printf(&b, "stutterfuzz --blob-dir=");
		options_shell_quote(&b, o->blob_dir);
		jbuf_printf(&b, " --host=");
		options_shell_quote(&b, o->host);
		jbuf_printf(&b, " --port=");
		options_shell_quote(&b, o->port);
		jbuf_printf(&b, " --seed=%" PRIu64 " --only=%" PRIu64, r->seed,
		    index);
		options_replay_args(o, &b);
	}
	fprintf(stderr, "  reproduce: %s\n", b.s);
	jbuf_free(&b);
}

/* Writes the record of a finding; returns its file name or NULL. */
static const char *
run_record(struct run *r, const struct finding *f,
    const struct conn_report *conn, const struct conn_report *suspects,
    size_t nsuspects)
{
	struct record_meta	 m = {
		.kind = finding_kind_name(f->kind),
		.err = f->err,
		.phase = f->phase,
		.at_us = f->at_us,
		.seed = f->seed,
		.target = r->target->text,
		.options_json = r->options_json.s,
	};
	const char		*name = NULL;
	char			*cause = NULL;
	struct jbuf		 tj = { 0 };
	int			 rc;

	if (r->rec == NULL)
		return NULL;
	m.detail = f->detail;
	m.check_json = f->check_json;
	if (r->proc != NULL && f->conn == NULL) {
		const char	*tail = target_tail(r->proc);

		jbuf_append(&tj, "{\"command\":[", 12);
		for (char **a = r->opt->target_argv; *a != NULL; a++) {
			if (a != r->opt->target_argv)
				jbuf_append(&tj, ",", 1);
			jbuf_string(&tj, *a, strlen(*a));
		}
		jbuf_printf(&tj, "],\"output_tail\":");
		jbuf_string(&tj, tail, strlen(tail));
		jbuf_append(&tj, "}", 1);
		m.target_json = tj.s;
	}
	rc = recorder_add(r->rec, &m, conn, suspects, nsuspects, &name,
	    &cause);
	jbuf_free(&tj);
	if (rc == -1) {
		if (!r->rec_failed) {
			run_break_line(r);
			fprintf(stderr, "local error (not a finding): cannot "
			    "write a record: %s\n", cause);
		}
		r->rec_failed = 1;
		free(cause);
		return NULL;
	}
	return name;
}

/* Prints the last lines of the target's output, indented. */
static void
run_print_tail(struct run *r, int lines)
{
	const char	*tail = target_tail(r->proc), *p;
	size_t		 len = strlen(tail);

	p = tail + len;
	if (p > tail && p[-1] == '\n')
		p--;
	while (p > tail && lines > 0) {
		p--;
		if (*p == '\n')
			lines--;
	}
	if (*p == '\n')
		p++;
	if (*p == '\0')
		return;
	fprintf(stderr, "  target output (last lines):\n");
	while (*p != '\0') {
		const char	*nl = strchr(p, '\n');
		int		 n = nl ? (int)(nl - p) : (int)strlen(p);

		fprintf(stderr, "    | %.*s\n", n, p);
		p += n + (nl != NULL);
	}
}

/* Hook: a finding happened. */
static int
run_finding(void *arg, const struct finding *f,
    const struct conn_report *conn, const struct conn_report *suspects,
    size_t nsuspects)
{
	struct run	*r = arg;
	const char	*verdict, *record;
	uint64_t	 limit = r->opt->finding_lines;

	/* With a supervised target, a failed connection is usually the
	 * target dying: look before blaming the connection. */
	if (r->proc != NULL && f->conn != NULL &&
	    target_check(r->proc))
		return 1;
	record = run_record(r, f, conn, suspects, nsuspects);
	if (limit != 0 && r->printed[f->kind] >= limit)
		return 0;
	run_break_line(r);
	verdict = (r->opt->fail_on & FINDING_BIT(f->kind)) ? "fails the run" :
	    "counted";
	if (f->conn == NULL) {
		fprintf(stderr, "finding: %s seed=%" PRIu64 " at=%.3fs: %s (%s)\n",
		    finding_kind_name(f->kind), f->seed, (double)f->at_us / 1e6,
		    f->detail ? f->detail : "?", verdict);
		if (r->proc != NULL)
			run_print_tail(r, 6);
	} else {
		fprintf(stderr, "finding: %s blob=%s conn=%" PRIu64 " seed=%"
		    PRIu64 " at=%.3fs phase=%s fragments=%" PRIu32 "/%" PRIu32
		    " bytes=%zu/%zu%s%s (%s)\n",
		    finding_kind_name(f->kind), f->blob->name, f->index,
		    f->seed, (double)f->at_us / 1e6, f->phase, f->frags_sent,
		    f->plan->nfrags, f->bytes_sent, f->plan->len,
		    f->err ? " error=" : "", f->err ? strerror(f->err) : "",
		    verdict);
	}
	if (f->kind == FINDING_MISMATCH && f->detail != NULL)
		fprintf(stderr, "  answer %s\n", f->detail);
	if (record != NULL) {
		fprintf(stderr, "  record: %s/%s", recorder_dir(r->rec), record);
		if (nsuspects > 0)
			fprintf(stderr, " (with %zu suspect connection%s in "
			    "flight or just finished)", nsuspects,
			    nsuspects == 1 ? "" : "s");
		fputc('\n', stderr);
	}
	if (!(r->hinted & FINDING_BIT(f->kind)) &&
	    (f->conn != NULL || record != NULL)) {
		r->hinted |= FINDING_BIT(f->kind);
		run_print_hint(r, f->index, record);
		if ((f->kind == FINDING_REFUSED ||
		    f->kind == FINDING_CONNECT_TIMEOUT) && record == NULL)
			fprintf(stderr, "  note: a failed connect means the "
			    "server died or stopped accepting; the culprit is "
			    "more likely a connection in flight just before; "
			    "--findings-dir records them all\n");
	}
	if (++r->printed[f->kind] == limit)
		fprintf(stderr, "  (%" PRIu64 " %s findings printed; further "
		    "ones are only counted, see --finding-lines)\n", limit,
		    finding_kind_name(f->kind));
	return 0;
}

/* Hook: a connection finished; one trace line. */
static void
run_conn_done(void *arg, const struct conn_report *rep)
{
	struct run	*r = arg;

	if (r->trace == NULL)
		return;
	r->trace_line.len = 0;
	record_conn_json(&r->trace_line, rep, 0);
	jbuf_append(&r->trace_line, "\n", 1);
	fwrite(r->trace_line.s, 1, r->trace_line.len, r->trace);
}

/* Hook: local resources ran out. */
static void
run_local_fault(void *arg, const char *what, int err, uint64_t count)
{
	struct run	*r = arg;
	const char	*advice;

	switch (err) {
	case EMFILE:
	case ENFILE:
		advice = "lower --num-conns or raise the fd limit (ulimit -n)";
		break;
	case EADDRNOTAVAIL:
	case EADDRINUSE:
	case EAGAIN:
		advice = "ephemeral ports are used up (TIME_WAIT); lower "
		    "--num-conns or widen net.ipv4.ip_local_port_range";
		break;
	case ENOBUFS:
	case ENOMEM:
		advice = "the machine is short of memory or socket buffers; "
		    "lower --num-conns";
		break;
	default:
		advice = "check the network setup for this target";
		break;
	}
	run_break_line(r);
	fprintf(stderr, "local error (not a finding): %s: %s, %" PRIu64
	    " time%s; %s\n", what, strerror(err), count, count == 1 ? "" : "s",
	    advice);
}

/* Hook: something to know that is not a fault. */
static void
run_notice(void *arg, const char *text)
{
	struct run	*r = arg;

	run_break_line(r);
	fprintf(stderr, "note: %s\n", text);
}

/* Says which pacing is in effect, once the engine chose it. */
static void
run_print_pace(struct run *r)
{
	const char	*why = NULL;
	enum pace_mode	 p = engine_pace(r->engine, &why);

	r->options_json.len = 0;	/* records say the pacing in effect */
	options_json(r->opt, p, &r->options_json);
	fprintf(stderr, "Pacing: %s", options_pace_name(p));
	switch (p) {
	case PACE_READ:
		fprintf(stderr, " (sock_diag confirms the server read each "
		    "fragment before the next)");
		break;
	case PACE_CYCLE:
		fprintf(stderr, ", one fragment per connection per %" PRIu32
		    " ms", r->opt->cycle_ms);
		break;
	default:
		fprintf(stderr, " (next fragment once acknowledged and %" PRIu32
		    " us passed)", r->opt->gap_us);
		break;
	}
	fputc('\n', stderr);
	if (why != NULL)
		fprintf(stderr, "note: %s\n", why);
}

/* Hook: live statistics. */
static void
run_stats(void *arg, const struct stats *cur, const struct stats_rates *rates)
{
	struct run	*r = arg;
	char		 line[512];

	if (r->trace != NULL)
		fflush(r->trace);
	if (r->opt->stats_json) {
		r->stats_line.len = 0;
		stats_format_json(&r->stats_line, cur, rates);
		fprintf(r->stats_out, "%s\n", r->stats_line.s);
		fflush(r->stats_out);
		return;
	}
	if (r->opt->quiet && r->stats_out == stderr)
		return;
	stats_format_line(line, sizeof line, cur, rates);
	if (r->stats_out != stderr) {
		fprintf(r->stats_out, "Stats: %s\n", line);
		fflush(r->stats_out);
		return;
	}
	if (r->tty) {
		fprintf(stderr, "\rStats: %s\033[K", line);
		r->line_open = 1;
	} else {
		fprintf(stderr, "Stats: %s\n", line);
	}
	fflush(stderr);
}

/* SIGINT or SIGTERM: stop cleanly. */
static void
run_signal(evutil_socket_t sig, short what, void *arg)
{
	struct run	*r = arg;

	(void)sig;
	(void)what;
	if (r->engine != NULL) {
		engine_stop(r->engine, ENGINE_STOP_SIGNAL);
	} else {
		r->interrupted = 1;
		if (r->base != NULL)
			event_base_loopbreak(r->base);
	}
}

/* Target probe: does it accept connections at one of the host's
 * addresses? Remembers which. */
static int
run_probe(void *arg)
{
	struct run		*r = arg;
	struct net_target	 t = { 0 };
	char			*cause = NULL;

	if (net_resolve(r->opt->host, r->opt->port, 200, &t, &cause) == -1) {
		free(cause);
		return 0;
	}
	if (!t.probed && !net_alive(&t, 200))
		return 0;
	*r->addr = t;
	return 1;
}

/* Hook: the target accepts connections: fuzz (again). */
static void
run_target_ready(void *arg)
{
	struct run	*r = arg;
	char		*cause = NULL;

	if (r->engine != NULL) {
		run_break_line(r);
		fprintf(stderr, "Target restarted (pid %d), fuzzing again\n",
		    target_pid(r->proc));
		engine_resume(r->engine);
		return;
	}
	fprintf(stderr, "Target ready at %s (pid %d, process group %d)\n",
	    r->addr->text, target_pid(r->proc), target_pid(r->proc));
	r->cfg.addr = (const struct sockaddr *)&r->addr->addr;
	r->cfg.addrlen = r->addr->addrlen;
	r->engine = engine_new(r->base, &r->cfg, &r->hooks, r, &cause);
	if (r->engine == NULL || engine_start(r->engine, &cause) == -1) {
		r->startup_why = cause;
		event_base_loopbreak(r->base);
		return;
	}
	run_print_pace(r);
}

/* Hook: the target never got ready, or could not be restarted. */
static void
run_target_failed(void *arg, const char *why)
{
	struct run	*r = arg;

	run_break_line(r);
	if (r->engine == NULL) {
		r->startup_why = xstrdup(why);
		event_base_loopbreak(r->base);
		return;
	}
	fprintf(stderr, "stutterfuzz: restarting the target failed: %s\n",
	    why);
	run_print_tail(r, 10);
	engine_stop(r->engine, ENGINE_STOP_TARGET);
}

/* May the target be restarted once more (--max-restarts a minute)? */
static int
run_may_restart(struct run *r)
{
	size_t		ring = sizeof r->restart_us / sizeof r->restart_us[0];
	uint64_t	now = util_now_us(), n = 0;

	for (size_t i = 0; i < ring && i < r->restarts; i++)
		n += now - r->restart_us[i] < 60ULL * 1000000;
	if (n >= r->opt->max_restarts)
		return 0;
	r->restart_us[r->restarts++ % ring] = now;
	return 1;
}

/* Hook: the running target exited or was killed: a finding. */
static void
run_target_exited(void *arg, int status)
{
	struct run	*r = arg;
	char		 desc[128], *cause = NULL;

	target_describe_status(status, desc, sizeof desc);
	engine_raise(r->engine, FINDING_TARGET_EXIT, desc, !r->opt->restart);
	if (!r->opt->restart ||
	    engine_stop_reason(r->engine) != ENGINE_RUNNING)
		return;
	if (!run_may_restart(r)) {
		run_break_line(r);
		fprintf(stderr, "stutterfuzz: the target died %" PRIu64 " times "
		    "within a minute (--max-restarts); stopping\n",
		    r->opt->max_restarts);
		engine_stop(r->engine, ENGINE_STOP_TARGET);
		return;
	}
	engine_pause(r->engine);
	if (target_start(r->proc, &cause) == -1) {
		run_target_failed(r, cause);
		free(cause);
	}
}

/* Hook: valgrind or a sanitizer reported an error: a finding. */
static void
run_target_report(void *arg, const char *line)
{
	struct run	*r = arg;

	/* "==1234== Invalid read of size 4": the pid prefix would make
	 * every report of a new process look new. */
	if (line[0] == '=' && line[1] == '=') {
		const char	*p = strstr(line + 2, "== ");

		if (p != NULL)
			line = p + 3;
	}
	if (r->engine != NULL)
		engine_raise(r->engine, FINDING_TARGET_REPORT, line,
		    !r->opt->restart);
}

/* Writes the final JSON summary (--summary). */
static void
run_write_summary(struct run *r, struct engine *e, int status)
{
	const struct stats	*s = engine_stats(e);
	struct stats		 zero = { 0 };
	struct stats_rates	 rates;
	struct jbuf		 b = { 0 };
	const char		*why = NULL;
	FILE			*f;

	stats_rates(s, &zero, (double)engine_elapsed_us(e) / 1e6, &rates);
	jbuf_printf(&b, "{\"format\":\"stutterfuzz-summary\",\"format_version\""
	    ":1,\"tool_version\":\"%s\",\"seed\":\"%" PRIu64 "\",\"target\":",
	    STUTTERFUZZ_VERSION, r->seed);
	jbuf_string(&b, r->target->text, strlen(r->target->text));
	jbuf_printf(&b, ",\"pace\":\"%s\",\"stopped\":\"%s\",\"exit_code\":%d,"
	    "\"totals\":", options_pace_name(engine_pace(e, &why)),
	    engine_stop_name(engine_stop_reason(e)), status);
	stats_format_json(&b, s, &rates);
	jbuf_append(&b, ",\"findings\":{", 13);
	for (int k = 0; k < FINDING__COUNT; k++)
		jbuf_printf(&b, "%s\"%s\":%" PRIu64, k ? "," : "",
		    finding_kind_name((enum finding_kind)k), s->findings[k]);
	jbuf_append(&b, "}", 1);
	if (r->rec != NULL) {
		jbuf_append(&b, ",\"findings_dir\":", 16);
		jbuf_string(&b, recorder_dir(r->rec),
		    strlen(recorder_dir(r->rec)));
	}
	jbuf_printf(&b, ",\"target_restarts\":%" PRIu64 "}\n", r->restarts);
	f = fopen(r->opt->summary_path, "we");
	if (f == NULL || fwrite(b.s, 1, b.len, f) != b.len || fclose(f) != 0)
		fprintf(stderr, "stutterfuzz: --summary %s: %s\n",
		    r->opt->summary_path, strerror(errno));
	jbuf_free(&b);
}

/* Prints the final summary and returns the exit status it implies. */
static int
run_summary(struct run *r, struct engine *e)
{
	const struct stats	*s = engine_stats(e);
	struct stats		 zero = { 0 };
	struct stats_rates	 rates;
	double			 secs = (double)engine_elapsed_us(e) / 1e6;
	enum engine_stop	 why = engine_stop_reason(e);
	uint64_t		 failing = 0;
	char			 line[512];
	int			 status;

	run_break_line(r);
	stats_rates(s, &zero, secs, &rates);
	stats_format_line(line, sizeof line, s, &rates);
	fprintf(stderr, "Summary: ran %.1fs, stopped: %s; seed=%" PRIu64 "\n",
	    secs, engine_stop_name(why), r->seed);
	fprintf(stderr, "  %s\n", line);
	fprintf(stderr, "  connections: %" PRIu64 " started, %" PRIu64
	    " established, %" PRIu64 " sent whole, %" PRIu64 " closed early "
	    "as planned, %" PRIu64 " closed by the server first, %" PRIu64
	    " not closed by the server in time, %" PRIu64 " fast open; "
	    "fragments=%" PRIu64 " bytes=%" PRIu64 "\n",
	    s->conns_started, s->conns_established, s->conns_completed,
	    s->early_closes, s->peer_closed, s->drain_timeouts, s->fastopens,
	    s->fragments, s->bytes);
	fprintf(stderr, "  findings:");
	for (int k = 0; k < FINDING__COUNT; k++) {
		fprintf(stderr, " %s=%" PRIu64, finding_kind_name(
		    (enum finding_kind)k), s->findings[k]);
		if (r->opt->fail_on & FINDING_BIT(k))
			failing += s->findings[k];
	}
	fprintf(stderr, "; local errors=%" PRIu64 "\n", s->local_errors);
	if (r->proc != NULL)
		fprintf(stderr, "  target: %" PRIu64 " restart%s\n", r->restarts,
		    r->restarts == 1 ? "" : "s");
	if (r->rec != NULL) {
		uint64_t	written, dups, over;
		char		*cause = NULL;

		recorder_totals(r->rec, &written, &dups, &over);
		if (r->proc != NULL && r->target_log != NULL)
			fprintf(stderr, "  target output: %s\n", r->target_log);
		fprintf(stderr, "  records: %" PRIu64 " written to %s, %" PRIu64
		    " repeats counted, %" PRIu64 " over --max-records\n",
		    written, recorder_dir(r->rec), dups, over);
		if (recorder_finish(r->rec, r->seed, engine_stop_name(why),
		    &cause) == -1) {
			fprintf(stderr, "local error: cannot write the run "
			    "index: %s\n", cause);
			free(cause);
		}
	}

	if (failing > 0)
		status = EXIT_FINDINGS;
	else if (why == ENGINE_STOP_LOCAL)
		status = EXIT_RUNTIME;
	else
		status = EXIT_CLEAN;
	switch (status) {
	case EXIT_FINDINGS:
		fprintf(stderr, "Result: %" PRIu64 " finding%s of a --fail-on "
		    "kind; exit 1\n", failing, failing == 1 ? "" : "s");
		break;
	case EXIT_RUNTIME:
		fprintf(stderr, "Result: stutterfuzz could not keep "
		    "connections open (local resources); exit 3\n");
		break;
	default:
		fprintf(stderr, "Result: clean; exit 0\n");
		break;
	}
	if (r->opt->summary_path != NULL)
		run_write_summary(r, e, status);
	return status;
}

/* Complains about a usage or configuration problem. */
static int
usage_error(const char *cause)
{
	fprintf(stderr, "stutterfuzz: %s (see --help)\n", cause);
	return EXIT_USAGE;
}

/* Frees what run_base made; accepts NULLs. */
static void
run_base_free(struct event_base *base, struct event *ev_int,
    struct event *ev_term)
{
	if (ev_int != NULL)
		event_free(ev_int);
	if (ev_term != NULL)
		event_free(ev_term);
	if (base != NULL)
		event_base_free(base);
}

/* An event loop that runs reads before timers, with signals going to r. */
static struct event_base *
run_base(struct run *r, struct event **ev_int, struct event **ev_term)
{
	struct event_config	*cfg = event_config_new();
	struct event_base	*base;

	if (cfg == NULL)
		return NULL;
	/* Check for new events after a bounded number of callbacks. */
	event_config_set_max_dispatch_interval(cfg, NULL, 1024, 0);
	/* Timers finer than a millisecond (timerfd with epoll): read pacing
	 * re-asks after tens of microseconds, and epoll_wait alone would
	 * round every wait up to a whole millisecond. */
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (base == NULL || event_base_priority_init(base, 2) == -1)
		goto fail;
	*ev_int = evsignal_new(base, SIGINT, run_signal, r);
	*ev_term = evsignal_new(base, SIGTERM, run_signal, r);
	if (*ev_int == NULL || *ev_term == NULL ||
	    event_add(*ev_int, NULL) == -1 || event_add(*ev_term, NULL) == -1)
		goto fail;
	return base;
fail:
	run_base_free(base, *ev_int, *ev_term);
	*ev_int = *ev_term = NULL;
	return NULL;
}

/* Splits a record's "host:port" or "[v6]:port" target. */
static int
split_target(const char *text, char **host, char **port)
{
	const char	*colon;

	if (text[0] == '[') {
		const char	*end = strchr(text, ']');

		if (end == NULL || end[1] != ':')
			return -1;
		*host = xasprintf("%.*s", (int)(end - text - 1), text + 1);
		*port = xstrdup(end + 2);
		return 0;
	}
	colon = strrchr(text, ':');
	if (colon == NULL)
		return -1;
	*host = xasprintf("%.*s", (int)(colon - text), text);
	*port = xstrdup(colon + 1);
	return 0;
}

/* Prints one replayed connection's outcome. */
static void
replay_print_outcome(const struct replay_outcome *out)
{
	if (out->kinds != 0) {
		fprintf(stderr, "  -> ");
		for (int k = 0; k < FINDING__COUNT; k++) {
			if (out->kinds & FINDING_BIT(k))
				fprintf(stderr, "%s ", finding_kind_name(
				    (enum finding_kind)k));
		}
		fprintf(stderr, "in %s%s%s\n", out->phase,
		    out->err ? ": " : "", out->err ? strerror(out->err) : "");
	}
	fprintf(stderr, "  -> the server %s\n", out->alive ?
	    "still accepts connections" : "no longer accepts connections");
}

/* Replays a mismatch record: is the answer to the cut wrong again? */
static int
replay_mismatch(struct run *r, const struct record *rec,
    const struct net_target *target, struct event_base *base)
{
	const struct record_conn	*c = &rec->conns[0];
	struct replay_answer_out	 res;
	struct replay_outcome		 out;
	char				*cause = NULL;

	fprintf(stderr, "Replaying connection %" PRIu64 " (blob %s, %zu "
	    "bytes, %" PRIu32 " fragments%s%s): whole sends for a fresh "
	    "reference, then the cut\n", c->index, c->blob.name, c->blob.len,
	    c->plan.nfrags, c->plan.nturns ? ", turns" : "",
	    c->greet_us ? ", after the greeting" : "");
	if (replay_answer(base, r->opt, target, rec, c,
	    strcmp(rec->pace, "read") == 0 || strcmp(rec->pace, "auto") == 0,
	    &r->engine, &res, &out, &cause) == -1) {
		fprintf(stderr, "stutterfuzz: %s\n", cause);
		free(cause);
		return EXIT_RUNTIME;
	}
	if (out.interrupted) {
		fprintf(stderr, "Interrupted.\n");
		return EXIT_CLEAN;
	}
	if (res.state == CONFIRM_MISMATCH) {
		fprintf(stderr, "  -> answer %s\n  -> cut again: %s\n"
		    "Result: reproduced (mismatch: the whole send answers as "
		    "expected, the cut answers wrong twice); exit 1\n",
		    res.account, res.again);
		return EXIT_FINDINGS;
	}
	if (res.state == CONFIRM_UNSTABLE)
		fprintf(stderr, "  -> the whole sends' answers vary (%u "
		    "samples): nothing to compare\n", res.samples);
	else if (res.account[0] != '\0')
		fprintf(stderr, "  -> answer %s, but not again\n", res.account);
	else
		fprintf(stderr, "  -> the cut got the expected answer\n");
	fprintf(stderr, "Result: not reproduced; exit 0\n");
	return EXIT_CLEAN;
}

/* stutterfuzz replay RECORD: send the record's connections again. */
static int
run_replay(struct options *o)
{
	struct record		*rec;
	struct net_target	 target = { 0 };
	struct run		 r = { .opt = o };
	struct event_base	*base = NULL;
	struct event		*ev_int = NULL, *ev_term = NULL;
	const struct record_conn **cand = NULL;
	struct replay_outcome	 out;
	enum finding_kind	 kind = FINDING__COUNT;
	char			*cause = NULL, *host = NULL, *port = NULL;
	size_t			 ncand = 0;
	int			 status = EXIT_RUNTIME, found = 0;

	rec = record_load(o->replay_path, &cause);
	if (rec == NULL) {
		status = usage_error(cause);
		goto out;
	}
	for (int k = 0; k < FINDING__COUNT; k++) {
		if (strcmp(rec->kind, finding_kind_name((enum finding_kind)k))
		    == 0)
			kind = (enum finding_kind)k;
	}
	if (kind == FINDING__COUNT) {
		cause = xasprintf("%s: unknown finding kind '%s'",
		    o->replay_path, rec->kind);
		status = usage_error(cause);
		goto out;
	}
	if (!o->port_set) {
		if (split_target(rec->target, &host, &port) == -1) {
			cause = xasprintf("%s: target '%s' is not host:port; "
			    "give --host and --port", o->replay_path,
			    rec->target);
			status = usage_error(cause);
			goto out;
		}
		o->host = host;
		o->port = port;
	}
	if (net_resolve(o->host, o->port, o->connect_timeout_ms, &target,
	    &cause) == -1) {
		status = usage_error(cause);
		goto out;
	}
	cand = xcalloc(rec->nconns, sizeof *cand);
	ncand = replay_candidates(rec, cand);
	fprintf(stderr, "Record: %s in %s, seed=%" PRIu64 ", recorded against "
	    "%s by stutterfuzz %s; %zu distinct connection%s to replay (of "
	    "%zu recorded)\n", rec->kind, rec->phase, rec->seed, rec->target,
	    rec->tool_version, ncand, ncand == 1 ? "" : "s", rec->nconns);
	fprintf(stderr, "Target %s%s; pacing as recorded: %s\n", target.text,
	    target.loopback ? " (loopback)" : "", rec->pace);
	signal(SIGPIPE, SIG_IGN);
	r.target = &target;
	base = run_base(&r, &ev_int, &ev_term);
	if (base == NULL) {
		fprintf(stderr, "stutterfuzz: cannot make an event loop\n");
		goto out;
	}
	if (!net_alive(&target, o->connect_timeout_ms)) {
		fprintf(stderr, "stutterfuzz: %s does not accept connections; "
		    "start the server first\n", target.text);
		goto out;
	}

	if (kind == FINDING_MISMATCH && rec->expected != NULL &&
	    rec->has_culprit) {
		status = replay_mismatch(&r, rec, &target, base);
		goto out;
	}
	for (size_t i = 0; i < ncand && !found; i++) {
		size_t	n = o->replay_all ? ncand : 1;
		const struct record_conn *c = cand[i];

		if (o->replay_all)
			fprintf(stderr, "Replaying all %zu connections "
			    "together\n", ncand);
		else
			fprintf(stderr, "Replaying connection %" PRIu64
			    " (blob %s, %zu bytes, %" PRIu32 " fragments, "
			    "recorded outcome %s)\n", c->index, c->blob.name,
			    c->blob.len, c->plan.nfrags,
			    conn_outcome_name(c->outcome));
		if (replay_conns(base, o, &target, cand + i, n,
		    strcmp(rec->pace, "read") == 0 ||
		    strcmp(rec->pace, "auto") == 0, &r.engine, &out,
		    &cause) == -1) {
			fprintf(stderr, "stutterfuzz: %s\n", cause);
			goto out;
		}
		if (out.interrupted) {
			fprintf(stderr, "Interrupted.\n");
			status = EXIT_CLEAN;
			goto out;
		}
		replay_print_outcome(&out);
		if (replay_reproduced(&out, kind)) {
			found = 1;
			if (o->replay_all)
				fprintf(stderr, "Result: reproduced (%s) with "
				    "all connections together; exit 1\n",
				    rec->kind);
			else
				fprintf(stderr, "Result: reproduced (%s) by "
				    "connection %" PRIu64 " (blob %s); exit 1\n",
				    rec->kind, c->index, c->blob.name);
		}
		if (o->replay_all)
			break;
	}
	if (!found)
		fprintf(stderr, "Result: not reproduced; exit 0\n");
	status = found ? EXIT_FINDINGS : EXIT_CLEAN;
out:
	run_base_free(base, ev_int, ev_term);
	free(cand);
	free(host);
	free(port);
	free(cause);
	record_free(rec);
	return status;
}

/* A fuzzing run. */
static int
run_fuzz(struct options *o)
{
	struct corpus		*corpus = NULL;
	struct net_target	 target = { 0 };
	struct event_base	*base = NULL;
	struct event		*ev_int = NULL, *ev_term = NULL;
	struct engine_hooks	 hooks = {
		.finding = run_finding,
		.local_fault = run_local_fault,
		.stats = run_stats,
		.conn_done = run_conn_done,
		.notice = run_notice,
	};
	struct engine_config	 cfg;
	struct target_hooks	 th = {
		.ready = run_target_ready,
		.failed = run_target_failed,
		.exited = run_target_exited,
		.report = run_target_report,
	};
	struct run		 r = { 0 };
	char			*cause = NULL;
	uint64_t		 fd_limit, conns;
	int			 status = EXIT_RUNTIME;

	corpus = corpus_load(o->blob_dir, &cause);
	if (corpus == NULL) {
		status = usage_error(cause);
		goto out;
	}
	if (o->shard_n > 1 &&
	    corpus_shard(corpus, o->shard_k, o->shard_n, &cause) == -1) {
		status = usage_error(cause);
		goto out;
	}
	conns = o->only_set ? 1 : o->num_conns;
	fd_limit = net_raise_fd_limit();
	if (fd_limit < conns + FD_RESERVE) {
		cause = xasprintf("--num-conns %" PRIu64 " needs %" PRIu64
		    " file descriptors, but the limit is %" PRIu64 " (raise "
		    "the hard limit, ulimit -Hn, or lower --num-conns)", conns,
		    conns + FD_RESERVE, fd_limit);
		status = usage_error(cause);
		goto out;
	}
	if (net_resolve(o->host, o->port, o->connect_timeout_ms, &target,
	    &cause) == -1) {
		status = usage_error(cause);
		goto out;
	}
	if (o->findings_dir != NULL) {
		r.rec = recorder_new(o->findings_dir, o->max_records, &cause);
		if (r.rec == NULL) {
			status = usage_error(cause);
			goto out;
		}
	}
	r.stats_out = stderr;
	if (o->stats_path != NULL) {
		r.stats_out = fopen(o->stats_path, "we");
		if (r.stats_out == NULL) {
			cause = xasprintf("--stats-file %s: %s", o->stats_path,
			    strerror(errno));
			r.stats_out = stderr;
			status = usage_error(cause);
			goto out;
		}
	}
	if (o->trace_path != NULL) {
		r.trace = fopen(o->trace_path, "we");
		if (r.trace == NULL) {
			cause = xasprintf("--trace %s: %s", o->trace_path,
			    strerror(errno));
			status = usage_error(cause);
			goto out;
		}
		setvbuf(r.trace, NULL, _IOFBF, 1 << 16);
	}

	r.opt = o;
	r.target = &target;
	r.seed = o->seed_set ? o->seed : rng_fresh_seed();
	r.tty = isatty(STDERR_FILENO);
	options_json(o, o->pace, &r.options_json);

	fprintf(stderr, "Loaded %zu blobs. Bytes: %zu min, %zu mean, %zu max\n",
	    corpus->n, corpus->min, corpus_mean(corpus), corpus->max);
	if (corpus->skipped_hidden > 0 || corpus->skipped_dirs > 0)
		fprintf(stderr, "Passed over %zu dot-file%s and %zu "
		    "subdirector%s of %s.\n", corpus->skipped_hidden,
		    corpus->skipped_hidden == 1 ? "" : "s", corpus->skipped_dirs,
		    corpus->skipped_dirs == 1 ? "y" : "ies", o->blob_dir);
	if (o->shard_n > 1)
		fprintf(stderr, "Shard %u/%u of the corpus.\n", o->shard_k,
		    o->shard_n);
	fprintf(stderr, "Target %s%s; seed=%" PRIu64 " conns=%" PRIu64
	    " split=%s\n", target.text, target.loopback ? " (loopback)" : "",
	    r.seed, conns, plan_split_name(o->plan.split));
	if (!target.loopback)
		fprintf(stderr, "warning: %s is not a loopback address; "
		    "pacing over a real network keeps fewer boundaries\n",
		    target.text);

	signal(SIGPIPE, SIG_IGN);
	base = run_base(&r, &ev_int, &ev_term);
	if (base == NULL) {
		fprintf(stderr, "stutterfuzz: cannot make an event loop\n");
		goto out;
	}
	cfg = (struct engine_config){
		.opt = o,
		.corpus = corpus,
		.addr = (const struct sockaddr *)&target.addr,
		.addrlen = target.addrlen,
		.seed = r.seed,
		.loopback = target.loopback,
		.reports = r.rec != NULL || r.trace != NULL ||
		    o->target_argv != NULL,
	};
	r.base = base;
	r.cfg = cfg;
	r.hooks = hooks;
	r.addr = &target;
	if (o->target_argv != NULL) {
		struct target_config	tc = {
			.argv = o->target_argv,
			.startup_timeout_ms = o->startup_timeout_ms,
			.grace_ms = o->grace_ms,
		};
		struct jbuf		cmd = { 0 };

		if (o->findings_dir != NULL)
			r.target_log = xasprintf("%s/target.log",
			    o->findings_dir);
		tc.log_path = r.target_log;
		r.proc = target_new(base, &tc, &th, &r, &cause);
		if (r.proc == NULL) {
			fprintf(stderr, "stutterfuzz: %s\n", cause);
			goto out;
		}
		target_set_probe(r.proc, run_probe);
		for (char **a = o->target_argv; *a != NULL; a++) {
			jbuf_append(&cmd, " ", 1);
			options_shell_quote(&cmd, *a);
		}
		fprintf(stderr, "Starting target:%s%s%s\n", cmd.s,
		    r.target_log ? "; its output goes to " : "",
		    r.target_log ? r.target_log : "");
		jbuf_free(&cmd);
		if (target_start(r.proc, &cause) == -1) {
			fprintf(stderr, "stutterfuzz: %s\n", cause);
			goto out;
		}
	} else {
		r.engine = engine_new(base, &cfg, &hooks, &r, &cause);
		if (r.engine == NULL ||
		    engine_start(r.engine, &cause) == -1) {
			fprintf(stderr, "stutterfuzz: %s\n", cause);
			goto out;
		}
		run_print_pace(&r);
	}
	if (event_base_dispatch(base) == -1) {
		fprintf(stderr, "stutterfuzz: event loop failed\n");
		goto out;
	}
	if (r.engine == NULL || engine_stop_reason(r.engine) == ENGINE_RUNNING) {
		if (r.interrupted) {
			fprintf(stderr, "Interrupted before the target was "
			    "ready.\n");
			status = EXIT_CLEAN;
		} else {
			fprintf(stderr, "stutterfuzz: %s\n", r.startup_why ?
			    r.startup_why : "the target did not start");
			if (r.proc != NULL)
				run_print_tail(&r, 20);
		}
		goto out;
	}
	status = run_summary(&r, r.engine);
	if (r.trace != NULL && (fflush(r.trace) != 0 || ferror(r.trace))) {
		fprintf(stderr, "stutterfuzz: --trace %s: write failed\n",
		    o->trace_path);
		if (status == EXIT_CLEAN)
			status = EXIT_RUNTIME;
	}

out:
	engine_free(r.engine);
	if (r.proc != NULL && o->keep_target) {
		fprintf(stderr, "Leaving the target running (pid %d).\n",
		    target_pid(r.proc));
		target_release(r.proc);
	}
	target_free(r.proc);
	free(r.target_log);
	free(r.startup_why);
	run_base_free(base, ev_int, ev_term);
	if (r.trace != NULL)
		fclose(r.trace);
	if (r.stats_out != NULL && r.stats_out != stderr)
		fclose(r.stats_out);
	jbuf_free(&r.stats_line);
	jbuf_free(&r.trace_line);
	jbuf_free(&r.options_json);
	recorder_free(r.rec);
	corpus_free(corpus);
	free(cause);
	return status;
}

int
main(int argc, char **argv)
{
	struct options	 opt;
	char		*cause = NULL;
	int		 status;

	options_defaults(&opt);
	if (options_parse(&opt, argc, argv, &cause) == -1) {
		status = usage_error(cause);
		free(cause);
		return status;
	}
	switch (opt.action) {
	case OPTIONS_HELP:
		fputs(options_usage(), stdout);
		return EXIT_CLEAN;
	case OPTIONS_VERSION:
		printf("stutterfuzz %s\n", STUTTERFUZZ_VERSION);
		return EXIT_CLEAN;
	case OPTIONS_REPLAY:
		return run_replay(&opt);
	case OPTIONS_RUN:
	default:
		return run_fuzz(&opt);
	}
}
