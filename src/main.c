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
	if (o->unix_path != NULL ? net_unix_target(o->unix_path, &r->where,
	    cause) == -1 : net_resolve(o->host, o->port, o->connect_timeout_ms,
	    &r->where, cause) == -1)
		return -1;
	if (o->findings_dir != NULL) {
		r->rec = recorder_new(o->findings_dir, o->max_records, cause);
		if (r->rec == NULL)
			return -1;
	}
	return run_outputs_open(r, cause);
}

/* Without a supervised target, something must accept connections before
 * the run starts: a refusal there is a server that is not up (or a wrong
 * port), not a finding. One connection, closed without a byte. */
static int
run_check_up(struct run *r, char **cause)
{
	int	err;

	if (r->where.probed)	/* net_resolve connected to it already */
		return 0;
	err = net_nothing_listens(&r->where, r->opt->connect_timeout_ms);
	if (err == 0)
		return 0;
	*cause = xasprintf("nothing accepts connections at %s (%s): start the "
	    "server first, or give its command after --", r->where.text,
	    strerror(err));
	return -1;
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
	if (run_check_up(r, cause) == -1)
		return -1;
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
	{ "proxy", cmd_proxy },
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
