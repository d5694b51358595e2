/*
 * The end of the main run and its files: records of findings, the output
 * files checked before the run and closed after it, the summary on stderr
 * and the outputs written from the run's model. Main-level, like main.c.
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
/* Writes the record of a finding; returns its file name or NULL. */
const char *
run_record(struct run *r, const struct finding *f,
    const struct conn_report *conn, const struct conn_report *suspects,
    size_t nsuspects)
{
	struct record_meta	 m;
	const char		*name = NULL;
	char			*cause = NULL;
	int			 rc;

	if (r->rec == NULL)
		return NULL;
	record_meta_init(&m, f, r->target, r->options_json);
	if (r->proc != NULL && f->conn == NULL) {
		m.target_argv = r->opt->target_argv;
		m.target_tail = target_tail(r->proc);
	}
	rc = recorder_add(r->rec, &m, conn, suspects, nsuspects, &name,
	    &cause);
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

/* Prints the summary's figures; returns how many findings fail the run. */
static uint64_t
run_summary_figures(struct run *r, struct engine *e)
{
	const struct stats	*s = engine_stats(e);
	struct stats		 zero = { 0 };
	struct stats_rates	 rates;
	double			 secs = (double)engine_elapsed_us(e) / 1e6;
	uint64_t		 failing = 0;
	char			 line[512];

	stats_rates(s, &zero, secs, &rates);
	stats_format_line(line, sizeof line, s, &rates);
	fprintf(stderr, "Summary: ran %.1fs, stopped: %s; seed=%" PRIu64 "\n",
	    secs, engine_stop_name(engine_stop_reason(e)), r->seed);
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
	return failing;
}

/* Prints where the records went and writes the run index. */
static void
run_summary_records(struct run *r, struct engine *e)
{
	uint64_t	 written, dups, over;
	char		*cause = NULL;

	if (r->rec == NULL)
		return;
	recorder_totals(r->rec, &written, &dups, &over);
	if (r->proc != NULL && r->target_log != NULL)
		fprintf(stderr, "  target output: %s\n", r->target_log);
	fprintf(stderr, "  records: %" PRIu64 " written to %s, %" PRIu64
	    " repeats counted, %" PRIu64 " over --max-records\n",
	    written, recorder_dir(r->rec), dups, over);
	if (recorder_finish(r->rec, r->seed,
	    engine_stop_name(engine_stop_reason(e)), &cause) == -1) {
		fprintf(stderr, "local error: cannot write the run "
		    "index: %s\n", cause);
		free(cause);
	}
}

/* Prints the final summary and returns the exit status it implies. */
int
run_summary(struct run *r, struct engine *e)
{
	enum engine_stop	 why = engine_stop_reason(e);
	uint64_t		 failing;
	int			 status;

	run_break_line(r);
	failing = run_summary_figures(r, e);
	run_summary_records(r, e);
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
	if (status == EXIT_FINDINGS)
		fprintf(stderr, "Result: %" PRIu64 " finding%s of a --fail-on "
		    "kind; exit 1\n", failing, failing == 1 ? "" : "s");
	else if (status == EXIT_RUNTIME)
		fprintf(stderr, "Result: stutterfuzz could not keep "
		    "connections open (local resources); exit 3\n");
	else
		fprintf(stderr, "Result: clean; exit 0\n");
	return status;
}

/* Checks or opens every output file, before anything runs. */
int
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
void
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
