/*
 * The main run's messages: the engine's hooks that print (findings, local
 * faults, notices, trace lines, the live statistics and the terminal's
 * line), and the lines that open a run. Main-level, like main.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "corpus.h"
#include "expect.h"
#include "options.h"
#include "record.h"
#include "run.h"
#include "sha256.h"
#include "stats.h"
#include "summary.h"
#include "target.h"
#include "util.h"

/* Ends a live line on a terminal before other output. */
void
run_break_line(struct run *r)
{
	if (r->line_open) {
		fputc('\n', stderr);
		r->line_open = 0;
	}
}

/* Appends --name=value, shell-quoted as one word. */
static void
run_quote_opt(struct jbuf *b, const char *name, const char *value)
{
	char	*arg = xasprintf("--%s=%s", name, value);

	options_shell_quote(b, arg);
	free(arg);
}

/* Prints how to send connection `index` again, or its record. */
char *
run_reproduce(struct run *r, uint64_t index, const char *record)
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
		if (o->unix_path != NULL) {
			jbuf_append(&b, " ", 1);
			run_quote_opt(&b, "unix", o->unix_path);
		} else {
			jbuf_append(&b, " ", 1);
			run_quote_opt(&b, "host", o->host);
			jbuf_append(&b, " ", 1);
			run_quote_opt(&b, "port", o->port);
		}
		if (index >= EXPECT_INDEX_BASE) {
			/* A whole send (references, confirmations): every
			 * blob whole, once. */
			jbuf_printf(&b, " --rounds=1 --max-fragments=1 "
			    "--fastopen-chance=0 --close-chance=0 --check=none");
			options_turn_args(o, &b);
			return b.s;
		}
		jbuf_printf(&b, " --seed=%" PRIu64 " --only=%" PRIu64, r->seed,
		    index);
		options_replay_args(o, &b);
	}
	return b.s;
}

/* Prints how to send connection `index` again, or its record. */
void
run_print_hint(struct run *r, uint64_t index, const char *record)
{
	char	*cmd = run_reproduce(r, index, record);

	fprintf(stderr, "  reproduce: %s\n", cmd);
	free(cmd);
}

/* Adds a finding to the run's summary model. */
void
run_model_add(struct run *r, const struct finding *f, const char *record)
{
	struct summary_finding	 m = {
		.kind = f->kind,
		.detail = (char *)f->detail,	/* summary_add copies */
		.phase = (char *)f->phase,
		.at_s = (double)f->at_us / 1e6,
		.seed = f->seed,
		.count = 1,
		.run_id = r->sum->run_id,
	};
	struct summary_finding	*e;
	char			*path = NULL, *cmd = NULL;

	if (f->conn != NULL) {
		m.blob = f->blob->name;
		m.blob_size = f->blob->len;
		m.cut = f->plan->sizes;
		m.ncut = f->frags_sent;
		m.sent_bytes = f->bytes_sent;
		m.early = f->plan->close_after < f->plan->nfrags;
	}
	m.key = summary_key(f->kind, f->conn != NULL ? f->blob->data : NULL,
	    m.blob_size, m.cut, m.ncut, m.sent_bytes, m.early, f->detail);
	e = summary_find(r->sum, f->kind, m.key);
	if (e != NULL && e->reproduce != NULL && record == NULL) {
		e->count++;		/* a repeat: nothing to add */
		return;
	}
	if (record != NULL)
		path = xasprintf("%s/%s", recorder_dir(r->rec), record);
	if (f->conn != NULL || record != NULL)
		cmd = run_reproduce(r, f->index, record);
	m.record = path;
	m.reproduce = cmd;
	e = summary_add(r->sum, &m);
	if (e != NULL && e->blob != NULL && e->blob_sha256[0] == '\0')
		sha256_hex(f->blob->data, f->blob->len, e->blob_sha256);
	free(path);
	free(cmd);
}

/* Prints the last lines of the target's output, indented. */
void
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

/* With a supervised target, a failed connection is usually the target
 * dying: is it (lost with it), may it be (hold until its fate is known),
 * or is it a finding? */
static int
run_target_verdict(struct run *r, const struct finding *f,
    const struct conn_report *conn)
{
	if (f->kind != FINDING_RESET && f->kind != FINDING_REFUSED &&
	    f->kind != FINDING_CONNECT_TIMEOUT)
		return ENGINE_KEEP;
	/* Started before the target (re)started: a connection of an earlier
	 * instance, whose death was the finding. */
	if (conn->start_us < r->ready_us || target_check(r->proc))
		return ENGINE_LOST;
	return f->held ? ENGINE_KEEP : ENGINE_HOLD;
}

/* A connection as finding lines name it: its index, or "whole" for a
 * whole send of the answer checks (a reference or a confirmation). */
static void
run_conn_label(uint64_t index, char *buf, size_t len)
{
	if (index >= EXPECT_INDEX_BASE)
		snprintf(buf, len, "whole");
	else
		snprintf(buf, len, "%" PRIu64, index);
}

/* Hook: a finding happened. */
int
run_finding(void *arg, const struct finding *f,
    const struct conn_report *conn, const struct conn_report *suspects,
    size_t nsuspects)
{
	struct run	*r = arg;
	const char	*verdict, *record;
	uint64_t	 limit = r->opt->finding_lines;

	if (r->proc != NULL && f->conn != NULL) {
		int	v = run_target_verdict(r, f, conn);

		if (v != ENGINE_KEEP)
			return v;
	}
	record = run_record(r, f, conn, suspects, nsuspects);
	run_model_add(r, f, record);
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
		char	*name = record_escape(f->blob->name), label[24];

		run_conn_label(f->index, label, sizeof label);
		fprintf(stderr, "finding: %s blob=%s conn=%s seed=%"
		    PRIu64 " at=%.3fs phase=%s fragments=%" PRIu32 "/%" PRIu32
		    " bytes=%zu/%zu%s%s (%s)\n",
		    finding_kind_name(f->kind), name, label,
		    f->seed, (double)f->at_us / 1e6, f->phase, f->frags_sent,
		    f->plan->nfrags, f->bytes_sent, f->plan->len,
		    f->err ? " error=" : "", f->err ? strerror(f->err) : "",
		    verdict);
		free(name);
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
void
run_conn_done(void *arg, const struct conn_report *rep)
{
	struct run	*r = arg;

	if (r->trace == NULL)
		return;
	r->trace_line.len = 0;
	record_conn_json(&r->trace_line, rep, 0);
	jbuf_append(&r->trace_line, "\n", 1);
	if (fwrite(r->trace_line.s, 1, r->trace_line.len, r->trace) !=
	    r->trace_line.len && r->trace_err == 0)
		r->trace_err = errno ? errno : EIO;
}

/* Hook: local resources ran out. */
void
run_local_fault(void *arg, const char *what, int err, uint64_t count)
{
	struct run	*r = arg;

	run_break_line(r);
	fprintf(stderr, "local error (not a finding): %s: %s, %" PRIu64
	    " time%s; %s\n", what, strerror(err), count, count == 1 ? "" : "s",
	    r->where.is_unix ? net_unix_fault_advice(err) :
	    net_fault_advice(err));
}

/* Hook: something to know that is not a fault. */
void
run_notice(void *arg, const char *text)
{
	struct run	*r = arg;

	run_break_line(r);
	fprintf(stderr, "note: %s\n", text);
}

/* Says which pacing is in effect, once the engine chose it. */
void
run_print_pace(struct run *r)
{
	const char	*why = NULL;
	enum pace_mode	 p = engine_pace(r->engine, &why);

	free(r->options_json);	/* records say the pacing in effect */
	r->options_json = options_json(r->opt, p);
	fprintf(stderr, "Pacing: %s", options_pace_name(p));
	switch (p) {
	case PACE_READ:
		fprintf(stderr, " (%s confirms the server read each fragment "
		    "before the next)", r->where.is_unix ? "SIOCOUTQ" :
		    "sock_diag");
		break;
	case PACE_CYCLE:
		fprintf(stderr, ", one fragment per connection per %" PRIu32
		    " ms", r->opt->cycle_ms);
		break;
	default:
		fprintf(stderr, " (next fragment once %s and %" PRIu32
		    " us passed)", r->where.is_unix ? "read" : "acknowledged",
		    r->opt->gap_us);
		break;
	}
	fputc('\n', stderr);
	if (why != NULL)
		fprintf(stderr, "note: %s\n", why);
}

/* The live line on a terminal: what fits its width, redrawn in place. */
static void
run_stats_tty(struct run *r, const struct stats *cur,
    const struct stats_rates *rates)
{
	char	line[512];
	size_t	prefix = sizeof "Stats: " - 1;

	/* The last column stays free: writing it makes some terminals wrap. */
	stats_format_fit(line, sizeof line, r->cols > prefix + 1 ?
	    r->cols - prefix - 1 : 0, cur, rates);
	fprintf(stderr, "\rStats: %s\033[K", line);
	r->line_open = 1;
	fflush(stderr);
}

/* Hook: live statistics. */
void
run_stats(void *arg, const struct stats *cur, const struct stats_rates *rates)
{
	struct run	*r = arg;
	char		 line[512];

	if (r->trace != NULL)
		util_output_flush(r->trace, &r->trace_err);
	if (r->stats_keep != NULL) {
		char	*js = stats_json_line(cur, rates);

		fprintf(r->stats_keep, "%s\n", js);
		free(js);
		util_output_flush(r->stats_keep, &r->stats_keep_err);
	}
	if (r->opt->stats_json) {
		char	*js = stats_json_line(cur, rates);

		fprintf(r->stats_out, "%s\n", js);
		free(js);
		util_output_flush(r->stats_out, &r->stats_err);
		return;
	}
	if (r->opt->quiet && r->stats_out == stderr)
		return;
	if (r->tty && r->stats_out == stderr) {
		run_stats_tty(r, cur, rates);
		return;
	}
	stats_format_line(line, sizeof line, cur, rates);
	fprintf(r->stats_out, "Stats: %s\n", line);
	util_output_flush(r->stats_out, &r->stats_err);
}

/* SIGWINCH: the terminal changed its width. */
void
run_winch(evutil_socket_t sig, short what, void *arg)
{
	struct run	*r = arg;

	(void)sig;
	(void)what;
	r->cols = util_term_cols(STDERR_FILENO);
}

/* The lines that open a run: corpus, target, seed. */
void
run_print_start(struct run *r)
{
	const struct options	*o = r->opt;
	const struct corpus	*c = r->corpus;

	fprintf(stderr, "Loaded %zu blobs. Bytes: %zu min, %zu mean, %zu max\n",
	    c->n, c->min, corpus_mean(c), c->max);
	if (c->skipped_hidden > 0 || c->skipped_dirs > 0)
		fprintf(stderr, "Passed over %zu dot-file%s and %zu "
		    "subdirector%s of %s.\n", c->skipped_hidden,
		    c->skipped_hidden == 1 ? "" : "s", c->skipped_dirs,
		    c->skipped_dirs == 1 ? "y" : "ies", o->blob_dir);
	if (o->shard_n > 1)
		fprintf(stderr, "Shard %u/%u of the corpus.\n", o->shard_k,
		    o->shard_n);
	fprintf(stderr, "Target %s%s; seed=%" PRIu64 " conns=%" PRIu64
	    " split=%s\n", r->where.text, r->where.is_unix ? " (Unix socket)" :
	    r->where.loopback ? " (loopback)" : "", r->seed, o->only_set ? 1 : (uint64_t)o->num_conns,
	    plan_split_name(o->plan.split));
	if (r->where.is_unix)
		fprintf(stderr, "note: fast open and source-address spreading "
		    "are TCP's; over a Unix socket they do not apply\n");
	if (!r->where.loopback)
		fprintf(stderr, "warning: %s is not a loopback address; "
		    "pacing over a real network keeps fewer boundaries\n",
		    r->where.text);
}
