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
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cmd.h"
#include "corpus.h"
#include "coverage.h"
#include "engine.h"
#include "finding.h"
#include "json.h"
#include "net.h"
#include "options.h"
#include "output.h"
#include "record.h"
#include "replay.h"
#include "rng.h"
#include "run.h"
#include "stats.h"
#include "summary.h"
#include "target.h"
#include "util.h"

#define FD_RESERVE	32	/* descriptors kept for everything but connections */


/* Writes the record of a finding; returns its file name or NULL. */
const char *
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
		.options_json = r->options_json,
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
	    r->addr->text, target_pid(r->proc), target_pgid(r->proc));
	r->cfg.addr = (const struct sockaddr *)&r->addr->addr;
	r->cfg.addrlen = r->addr->addrlen;
	r->cfg.describe = target_describe_procs;	/* stalls: what it does */
	r->cfg.describe_arg = r->proc;
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

/* Hook: the running target exited or was killed: a finding. */
static void
run_target_exited(void *arg, int status)
{
	struct run	*r = arg;
	char		 desc[128], *cause = NULL;

	if (r->engine == NULL)
		return;
	target_describe_status(status, desc, sizeof desc);
	engine_raise(r->engine, FINDING_TARGET_EXIT, desc, !r->opt->restart);
	if (!r->opt->restart ||
	    engine_stop_reason(r->engine) != ENGINE_RUNNING)
		return;
	if (!target_may_restart(r->proc)) {
		run_break_line(r);
		fprintf(stderr, "stutterfuzz: the target died again after %"
		    PRIu64 " restarts within a minute (--max-restarts); "
		    "stopping\n", r->opt->max_restarts);
		engine_stop(r->engine, ENGINE_STOP_TARGET);
		return;
	}
	r->restarts = target_restart_count(r->proc);
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

	if (r->engine != NULL)
		engine_raise(r->engine, FINDING_TARGET_REPORT, line,
		    !r->opt->restart);
}

/* Fills the summary model's figures at the end of the run. */
static void
run_model_finish(struct run *r, struct engine *e, int status)
{
	struct summary		*s = r->sum;
	const struct coverage	*cv = engine_coverage(e);
	const char		*why = NULL;

	s->seed = r->seed;
	s->seed_set = 1;
	s->target = summary_text(r->target->text);
	s->pace = xstrdup(options_pace_name(engine_pace(e, &why)));
	s->stopped = xstrdup(engine_stop_name(engine_stop_reason(e)));
	s->exit_code = status;
	s->seconds = (double)engine_elapsed_us(e) / 1e6;
	s->fail_on = r->opt->fail_on;
	s->totals = *engine_stats(e);
	s->restarts = r->restarts;
	s->blob_dir = summary_text(r->opt->blob_dir);
	if (r->rec != NULL)
		s->findings_dir = summary_text(recorder_dir(r->rec));
	for (size_t i = 0; i < r->corpus->n; i++) {
		const struct blob	*b = &r->corpus->blobs[i];

		summary_add_blob(s, b->name, b->len, coverage_tracked(b->len),
		    cv != NULL ? coverage_blob_used(cv, i) : 0);
	}
}

/* Writes the summary, JUnit, SARIF and GitHub outputs, and the summary
 * kept in the findings directory; -1 if one could not be written. */
static int
run_write_outputs(struct run *r, struct engine *e, int status)
{
	struct output_paths	 p = { .path = {
		[OUTPUT_SUMMARY] = r->opt->summary_path,
		[OUTPUT_JUNIT] = r->opt->junit_path,
		[OUTPUT_SARIF] = r->opt->sarif_path,
	} };
	char			*keep = NULL;
	int			 failed;

	run_model_finish(r, e, status);
	if (r->rec != NULL)
		p.path[OUTPUT_KEEP] = keep = xasprintf("%s/summary-%s.json",
		    recorder_dir(r->rec), r->sum->run_id);
	failed = cmd_write_outputs(r->sum, &p);
	free(keep);
	return failed > 0 ? -1 : 0;
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
	else if (why == ENGINE_STOP_LOCAL || r->output_failed)
		status = EXIT_RUNTIME;
	else
		status = EXIT_CLEAN;
	if (run_write_outputs(r, e, status) == -1 && status == EXIT_CLEAN)
		status = EXIT_RUNTIME;
	if (status == EXIT_RUNTIME && why != ENGINE_STOP_LOCAL) {
		fprintf(stderr, "Result: stutterfuzz could not write an output "
		    "file; exit 3\n");
		return status;
	}
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

static const struct engine_hooks run_engine_hooks = {
	.finding = run_finding,
	.local_fault = run_local_fault,
	.stats = run_stats,
	.conn_done = run_conn_done,
	.notice = run_notice,
};

static const struct target_hooks run_target_hooks = {
	.ready = run_target_ready,
	.failed = run_target_failed,
	.exited = run_target_exited,
	.report = run_target_report,
};

/* Checks or opens every output file, before anything runs. */
static int
run_outputs_open(struct run *r, char **cause)
{
	const struct options	*o = r->opt;

	if ((o->summary_path != NULL &&
	    util_output_check("--summary", o->summary_path, cause) == -1) ||
	    (o->junit_path != NULL &&
	    util_output_check("--junit", o->junit_path, cause) == -1) ||
	    (o->sarif_path != NULL &&
	    util_output_check("--sarif", o->sarif_path, cause) == -1))
		return -1;
	if (r->rec != NULL) {
		r->sum->run_id = xasprintf("%016" PRIx64,
		    recorder_run_id(r->rec));
		r->stats_keep_path = xasprintf("%s/stats-%s.jsonl",
		    recorder_dir(r->rec), r->sum->run_id);
		r->stats_keep = util_output_open("--findings-dir",
		    r->stats_keep_path, cause);
		if (r->stats_keep == NULL)
			return -1;
	}
	if (o->stats_path != NULL) {
		r->stats_out = util_output_open("--stats-file", o->stats_path,
		    cause);
		if (r->stats_out == NULL) {
			r->stats_out = stderr;
			return -1;
		}
	}
	if (o->trace_path != NULL) {
		r->trace = util_output_open("--trace", o->trace_path, cause);
		if (r->trace == NULL)
			return -1;
		setvbuf(r->trace, NULL, _IOFBF, 1 << 16);
	}
	return 0;
}

/* Closes one output file; a failed write makes the run's exit status 3. */
static void
run_output_close(struct run *r, FILE *f, const char *what, const char *path,
    int err)
{
	char	*cause = NULL;

	if (util_output_close(f, what, path, err, &cause) == -1) {
		run_break_line(r);
		fprintf(stderr, "stutterfuzz: %s\n", cause);
		free(cause);
		r->output_failed = 1;
	}
}

/* Closes the output files the run wrote as it went. */
static void
run_outputs_close(struct run *r)
{
	run_output_close(r, r->trace, "--trace", r->opt->trace_path,
	    r->trace_err);
	r->trace = NULL;
	if (r->stats_out != stderr)
		run_output_close(r, r->stats_out, "--stats-file",
		    r->opt->stats_path, r->stats_err);
	r->stats_out = stderr;
	run_output_close(r, r->stats_keep, "--findings-dir",
	    r->stats_keep_path, r->stats_keep_err);
	r->stats_keep = NULL;
}

/* The time now, UTC, as "YYYY-MM-DDTHH:MM:SS" (allocated). */
static char *
run_started(void)
{
	time_t		now = time(NULL);
	struct tm	tm;
	char		buf[32];

	gmtime_r(&now, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	return xstrdup(buf);
}

/* Everything a run needs before it starts: the corpus, descriptors, the
 * target's address, the findings directory, the output files. */
static int
run_prepare(struct run *r, char **cause)
{
	const struct options	*o = r->opt;
	uint64_t		 fd_limit, conns = o->only_set ? 1 : o->num_conns;

	r->sum = summary_new();
	r->sum->started = run_started();
	r->corpus = corpus_load(o->blob_dir, cause);
	if (r->corpus == NULL)
		return -1;
	if (o->shard_n > 1 &&
	    corpus_shard(r->corpus, o->shard_k, o->shard_n, cause) == -1)
		return -1;
	fd_limit = net_raise_fd_limit();
	if (fd_limit < conns + FD_RESERVE) {
		*cause = xasprintf("--num-conns %" PRIu64 " needs %" PRIu64
		    " file descriptors, but the limit is %" PRIu64 " (raise "
		    "the hard limit, ulimit -Hn, or lower --num-conns)", conns,
		    conns + FD_RESERVE, fd_limit);
		return -1;
	}
	if (net_resolve(o->host, o->port, o->connect_timeout_ms, &r->where,
	    cause) == -1)
		return -1;
	if (o->findings_dir != NULL) {
		r->rec = recorder_new(o->findings_dir, o->max_records, cause);
		if (r->rec == NULL)
			return -1;
	}
	return run_outputs_open(r, cause);
}

/* Starts the supervised target; the engine starts once it is ready. */
static int
run_start_target(struct run *r, char **cause)
{
	const struct options	*o = r->opt;
	struct target_config	 tc = {
		.argv = o->target_argv,
		.startup_timeout_ms = o->startup_timeout_ms,
		.grace_ms = o->grace_ms,
		.max_restarts = o->max_restarts,
	};
	struct jbuf		 cmd = { 0 };

	if (o->findings_dir != NULL)
		r->target_log = xasprintf("%s/target.log", o->findings_dir);
	tc.log_path = r->target_log;
	r->proc = target_new(r->base, &tc, &run_target_hooks, r, cause);
	if (r->proc == NULL)
		return -1;
	target_set_probe(r->proc, run_probe);
	for (char **a = o->target_argv; *a != NULL; a++) {
		jbuf_append(&cmd, " ", 1);
		options_shell_quote(&cmd, *a);
	}
	fprintf(stderr, "Starting target:%s%s%s\n", cmd.s, r->target_log ?
	    "; its output goes to " : "", r->target_log ? r->target_log : "");
	jbuf_free(&cmd);
	return target_start(r->proc, cause);
}

/* Makes the event loop and starts the engine, or the target first. */
static int
run_start(struct run *r, char **cause)
{
	const struct options	*o = r->opt;

	signal(SIGPIPE, SIG_IGN);
	r->base = run_base(r, &r->ev_int, &r->ev_term);
	if (r->base == NULL) {
		*cause = xstrdup("cannot make an event loop");
		return -1;
	}
	if (r->tty) {
		r->cols = util_term_cols(STDERR_FILENO);
		r->ev_winch = evsignal_new(r->base, SIGWINCH, run_winch, r);
		if (r->ev_winch != NULL)
			event_add(r->ev_winch, NULL);
	}
	r->cfg = (struct engine_config){
		.opt = o,
		.corpus = r->corpus,
		.addr = (const struct sockaddr *)&r->where.addr,
		.addrlen = r->where.addrlen,
		.seed = r->seed,
		.loopback = r->where.loopback,
		.reports = r->rec != NULL || r->trace != NULL ||
		    o->target_argv != NULL,
		.hold_ms = o->target_argv != NULL ? TARGET_FATE_MS : 0,
	};
	r->hooks = run_engine_hooks;
	if (o->target_argv != NULL)
		return run_start_target(r, cause);
	r->engine = engine_new(r->base, &r->cfg, &r->hooks, r, cause);
	if (r->engine == NULL || engine_start(r->engine, cause) == -1)
		return -1;
	run_print_pace(r);
	return 0;
}

/* Runs the loop until the run stops; returns the exit status. */
static int
run_loop(struct run *r)
{
	if (event_base_dispatch(r->base) == -1) {
		fprintf(stderr, "stutterfuzz: event loop failed\n");
		return EXIT_RUNTIME;
	}
	engine_settle(r->engine);
	run_outputs_close(r);
	if (r->engine != NULL && engine_stop_reason(r->engine) !=
	    ENGINE_RUNNING)
		return run_summary(r, r->engine);
	if (r->interrupted) {
		fprintf(stderr, "Interrupted before the target was ready.\n");
		return EXIT_CLEAN;
	}
	fprintf(stderr, "stutterfuzz: %s\n", r->startup_why ? r->startup_why :
	    "the target did not start");
	if (r->proc != NULL)
		run_print_tail(r, 20);
	return EXIT_RUNTIME;
}

/* Frees what a run made, in reverse order. */
static void
run_free(struct run *r)
{
	engine_free(r->engine);
	if (r->proc != NULL && r->opt->keep_target) {
		fprintf(stderr, "Leaving the target running (pid %d).\n",
		    target_pid(r->proc));
		target_release(r->proc);
	}
	target_free(r->proc);
	free(r->target_log);
	free(r->startup_why);
	if (r->ev_winch != NULL)
		event_free(r->ev_winch);
	run_base_free(r->base, r->ev_int, r->ev_term);
	if (r->trace != NULL)
		fclose(r->trace);
	if (r->stats_out != NULL && r->stats_out != stderr)
		fclose(r->stats_out);
	if (r->stats_keep != NULL)
		fclose(r->stats_keep);
	free(r->stats_keep_path);
	summary_free(r->sum);
	jbuf_free(&r->trace_line);
	free(r->options_json);
	recorder_free(r->rec);
	corpus_free(r->corpus);
}

/* A fuzzing run. */
static int
run_fuzz(struct options *o)
{
	struct run	 r = { .opt = o, .stats_out = stderr };
	char		*cause = NULL;
	int		 status;

	r.target = r.addr = &r.where;
	if (run_prepare(&r, &cause) == -1) {
		status = usage_error(cause);
		goto out;
	}
	r.seed = o->seed_set ? o->seed : rng_fresh_seed();
	r.tty = isatty(STDERR_FILENO);
	r.options_json = options_json(o, o->pace);
	run_print_start(&r);
	if (run_start(&r, &cause) == -1) {
		fprintf(stderr, "stutterfuzz: %s\n", cause);
		status = EXIT_RUNTIME;
		goto out;
	}
	status = run_loop(&r);
out:
	run_free(&r);
	free(cause);
	return status;
}

/* The subcommands, by the name given as the first argument. */
static const struct {
	const char	*name;
	int		(*fn)(int, char **);
} subcommands[] = {
	{ "replay", cmd_replay },
	{ "merge", cmd_merge },
	{ "report", cmd_report },
	{ "minimize", cmd_minimize },
};

int
main(int argc, char **argv)
{
	struct options	 opt;
	char		*cause = NULL;
	int		 status;

	for (size_t i = 0; argc > 1 &&
	    i < sizeof subcommands / sizeof subcommands[0]; i++) {
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].fn(argc - 1, argv + 1);
	}
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
		return cmd_replay_options(&opt);
	case OPTIONS_RUN:
	default:
		return run_fuzz(&opt);
	}
}
