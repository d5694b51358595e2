/*
 * The main run's supervised target: the readiness probe, the hooks that
 * start the engine when it answers and raise its exits and reports, and
 * starting it. Main-level, like main.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "run.h"
#include "stats.h"
#include "summary.h"
#include "target.h"
#include "util.h"
/* Target probe: does it accept connections at one of the host's
 * addresses? Remembers which. */
static int
run_probe(void *arg)
{
	struct run		*r = arg;
	struct net_target	 t = { 0 };
	char			*cause = NULL;

	if (r->addr->is_unix)	/* the path exists and a connect succeeds */
		return net_alive(r->addr, 200);
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
		r->ready_us = engine_elapsed_us(r->engine);
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

/* What the target tells the run. */
static const struct target_hooks run_target_hooks = {
	.ready = run_target_ready,
	.failed = run_target_failed,
	.exited = run_target_exited,
	.report = run_target_report,
};

/* Starts the supervised target; the engine starts once it is ready. */
int
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
