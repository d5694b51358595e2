/*
 * stutterfuzz replay RECORD: sends a record's connections again and says
 * whether the finding came back. Wiring, like main.c: it prints, and turns
 * causes into messages and exit codes (0 not reproduced, 1 reproduced,
 * 2 a bad record or usage, 3 the tool could not work, 128+N interrupted by
 * signal N). Every text taken from the record is escaped before it is
 * printed: a record may come from anywhere.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cmd.h"
#include "confirm.h"
#include "engine.h"
#include "finding.h"
#include "net.h"
#include "options.h"
#include "record.h"
#include "replay.h"
#include "util.h"

/* "s" after a count other than 1. */

static const char replay_usage[] =
"usage: stutterfuzz replay RECORD [--host=HOST] [--port=PORT] [--unix=PATH]\n"
"           [--all] [--settle=TIME] [--connect-timeout=TIME]\n"
"           [--hang-timeout=TIME] [--stall-timeout=TIME] [--drain-timeout=TIME]\n"
"           [--trace=FILE]\n"
"Sends a record's connections again, with the same bytes, cuts and gaps, to\n"
"a server that is already running, and says whether the fault came back.\n"
"  --host=HOST, --port=PORT  where to send (default: the record's target,\n"
"                          whose host must then be a loopback address)\n"
"  --unix=PATH             a Unix-domain stream socket instead\n"
"  --all                   every connection that sent something together,\n"
"                          identical ones included (default: one at a time,\n"
"                          each distinct cut once, naming the culprit); a\n"
"                          minimized record always replays all of its\n"
"                          connections together\n"
"  --settle=TIME           after a connection, wait this long for the server\n"
"                          to die before checking it still accepts (500ms)\n"
"  --connect-timeout, --hang-timeout, --stall-timeout, --drain-timeout\n"
"                          as in a run (see stutterfuzz --help)\n"
"Exit status: 1 reproduced, 0 not, 2 usage or a bad record, 3 the server\n"
"did not accept connections or the tool could not work, 128+N signal N.\n";

struct replay_cmd {
	struct options		*opt;
	struct record		*rec;
	enum finding_kind	 kind;
	struct net_target	 target;
	struct event_base	*base;
	struct event		*ev_int;
	struct event		*ev_term;
	int			 all;		/* all candidates at once */
	struct engine		*engine;	/* the one running, for signals */
	int			 signal;	/* the signal that stopped us */
};

/* Complains about a usage problem (hint) or a bad record: one line, with
 * what came from the record escaped. */
static int
replay_usage_error(const char *cause, int hint)
{
	char	*safe = record_escape(cause);

	fprintf(stderr, "stutterfuzz: %s%s\n", safe, hint ? " (see --help)" :
	    "");
	free(safe);
	return EXIT_USAGE;
}

/* SIGINT or SIGTERM: stop the engine, or the settle wait, at once. */
static void
replay_signal(evutil_socket_t sig, short what, void *arg)
{
	struct replay_cmd	*rc = arg;

	(void)what;
	rc->signal = (int)sig;
	if (rc->engine != NULL)
		engine_stop(rc->engine, ENGINE_STOP_SIGNAL);
	else
		event_base_loopbreak(rc->base);
}

/* An event loop with fine timers and the signals going to rc. */
static int
replay_base(struct replay_cmd *rc)
{
	struct event_config	*cfg = event_config_new();

	if (cfg == NULL)
		return -1;
	event_config_set_max_dispatch_interval(cfg, NULL, 1024, 0);
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	rc->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (rc->base == NULL || event_base_priority_init(rc->base, 2) == -1)
		return -1;
	rc->ev_int = evsignal_new(rc->base, SIGINT, replay_signal, rc);
	rc->ev_term = evsignal_new(rc->base, SIGTERM, replay_signal, rc);
	if (rc->ev_int == NULL || rc->ev_term == NULL ||
	    event_add(rc->ev_int, NULL) == -1 ||
	    event_add(rc->ev_term, NULL) == -1)
		return -1;
	return 0;
}

/* Did the user name the host (--host), rather than leave the default? */
static int
replay_host_given(const struct options *o)
{
	struct options	d;

	options_defaults(&d);
	return o->host != d.host;	/* the default is one static string */
}

/* Finds the finding kind and where to replay; 0, or -1 with *cause. */
static int
replay_setup(struct replay_cmd *rc, char **cause)
{
	struct options	*o = rc->opt;
	const char	*path = o->replay_path;

	rc->kind = FINDING__COUNT;
	for (int k = 0; k < FINDING__COUNT; k++) {
		if (strcmp(rc->rec->kind, finding_kind_name(
		    (enum finding_kind)k)) == 0)
			rc->kind = (enum finding_kind)k;
	}
	if (rc->kind == FINDING__COUNT) {
		*cause = xasprintf("%s: unknown finding kind '%s'", path,
		    rc->rec->kind);
		return -1;
	}
	if (!o->port_set && rc->rec->target_unix) {
		if (replay_host_given(o)) {
			*cause = xasprintf("%s: the record's target is the "
			    "Unix socket %s; give --unix, or --port with "
			    "--host", path, rc->rec->target);
			return -1;
		}
		o->unix_path = rc->rec->target;
	} else if (!o->port_set) {
		/* Never aim at another machine just because a record says
		 * so: a record that names one needs the user's --host. */
		if (!replay_host_given(o)) {
			if (!record_target_is_loopback(rc->rec)) {
				*cause = xasprintf("%s: the record's target "
				    "%s is not a loopback address; give "
				    "--host to replay against it", path,
				    rc->rec->target);
				return -1;
			}
			o->host = rc->rec->target_host;
		}
		o->port = rc->rec->target_port;
	}
	if (o->unix_path != NULL)
		return net_unix_target(o->unix_path, &rc->target, cause);
	return net_resolve(o->host, o->port, o->connect_timeout_ms,
	    &rc->target, cause);
}

/* Prints what the record holds and where it goes. */
static void
replay_print_record(const struct replay_cmd *rc, size_t ncand)
{
	const struct record	*rec = rc->rec;
	char			*phase = record_escape(rec->phase);
	char			*target = record_escape(rec->target);
	char			*tool = record_escape(rec->tool_version);
	char			*pace = record_escape(rec->pace);
	char			*where = record_escape(rc->target.text);

	fprintf(stderr, "Record: %s in %s, seed=%" PRIu64 ", recorded against "
	    "%s%s by stutterfuzz %s; %zu %sconnection%s to replay%s (of "
	    "%zu recorded)\n", finding_kind_name(rc->kind), phase, rec->seed,
	    rec->target_unix ? "unix:" : "", target, tool, ncand,
	    rc->all ? "" : "distinct ", PLURAL(ncand), rec->minimized ?
	    " together, as minimized" : rc->all ? " together" : "",
	    rec->nconns);
	fprintf(stderr, "Target %s%s; pacing as recorded: %s\n",
	    where, rc->target.is_unix ? " (Unix socket)" :
	    rc->target.loopback ? " (loopback)" : "", pace);
	free(where);
	free(phase);
	free(target);
	free(tool);
	free(pace);
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

/* Says which connection goes now. */
static void
replay_print_conn(const struct record_conn *c, int all, size_t ncand)
{
	char	*name;

	if (all) {
		fprintf(stderr, "Replaying %s%zu connection%s together\n",
		    ncand == 1 ? "" : "all ", ncand, PLURAL(ncand));
		return;
	}
	name = record_escape(c->blob.name);
	fprintf(stderr, "Replaying connection %" PRIu64 " (blob %s, %zu byte%s, "
	    "%" PRIu32 " fragment%s, recorded outcome %s)\n", c->index, name,
	    c->blob.len, PLURAL(c->blob.len), c->plan.nfrags,
	    PLURAL(c->plan.nfrags), conn_outcome_name(c->outcome));
	free(name);
}

/* Says the finding came back, and through which connection. */
static void
replay_print_result(const struct replay_cmd *rc, const struct record_conn *c,
    size_t ncand)
{
	char	*name;

	if (rc->all) {
		fprintf(stderr, "Result: reproduced (%s) with %s connection%s "
		    "together; exit 1\n", finding_kind_name(rc->kind),
		    ncand == 1 ? "the" : "all", PLURAL(ncand));
		return;
	}
	name = record_escape(c->blob.name);
	fprintf(stderr, "Result: reproduced (%s) by connection %" PRIu64
	    " (blob %s); exit 1\n", finding_kind_name(rc->kind), c->index,
	    name);
	free(name);
}

/* Chooses the connections to replay into cand: one at a time, each
 * distinct cut once (replay_candidates); with --all every one that sent
 * something, identical ones included, since together they are not the
 * same test; a minimized record all of its connections, exactly as
 * minimize's attempts sent them. Returns how many. */
static size_t
replay_pick(struct replay_cmd *rc, const struct record_conn **cand)
{
	const struct record	*rec = rc->rec;
	size_t			 n = 0;

	rc->all = rc->opt->replay_all || rec->minimized;
	if (!rc->all)
		return replay_candidates(rec, cand);
	for (size_t i = 0; i < rec->nconns; i++) {
		if (rec->minimized || rec->nconns == 1 ||
		    rec->conns[i].bytes_sent > 0)
			cand[n++] = &rec->conns[i];
	}
	return n;
}

/* Did the recorded run pace by reads (so the replay does too)? */
static int
replay_read_paced(const struct replay_cmd *rc)
{
	return strcmp(rc->rec->pace, "read") == 0 ||
	    strcmp(rc->rec->pace, "auto") == 0;
}

/* A signal stopped the replay: says so; returns the exit status. */
static int
replay_interrupted(const struct replay_cmd *rc)
{
	fprintf(stderr, "Interrupted by %s; exit %d\n", rc->signal == SIGINT ?
	    "SIGINT" : "SIGTERM", 128 + rc->signal);
	return 128 + rc->signal;
}

/* Replays the candidates, one by one or all together; returns the exit
 * status. */
static int
replay_each(struct replay_cmd *rc, const struct record_conn **cand,
    size_t ncand)
{
	const struct options	*o = rc->opt;
	struct replay_outcome	 out;
	int			 read_pacing = replay_read_paced(rc);
	char			*cause = NULL;

	for (size_t i = 0; i < ncand; i++) {
		replay_print_conn(cand[i], rc->all, ncand);
		if (replay_conns(rc->base, o, &rc->target, cand + i,
		    rc->all ? ncand : 1, read_pacing, &rc->engine, &out,
		    &cause) == -1) {
			fprintf(stderr, "stutterfuzz: %s\n", cause);
			free(cause);
			return EXIT_RUNTIME;
		}
		if (out.interrupted)
			return replay_interrupted(rc);
		replay_print_outcome(&out);
		if (replay_reproduced(&out, rc->kind)) {
			replay_print_result(rc, cand[i], ncand);
			return EXIT_FINDINGS;
		}
		if (rc->all)
			break;
	}
	fprintf(stderr, "Result: not reproduced; exit 0\n");
	return EXIT_CLEAN;
}

/* Replays a mismatch record: is the answer to the cut wrong again? */
static int
replay_mismatch(struct replay_cmd *rc)
{
	const struct record_conn	*c = &rc->rec->conns[0];
	struct replay_answer_out	 res;
	struct replay_outcome		 out;
	char				*cause = NULL, *name;

	name = record_escape(c->blob.name);
	fprintf(stderr, "Replaying connection %" PRIu64 " (blob %s, %zu "
	    "byte%s, %" PRIu32 " fragment%s%s%s): whole sends for a fresh "
	    "reference, then the cut\n", c->index, name, c->blob.len,
	    PLURAL(c->blob.len), c->plan.nfrags, PLURAL(c->plan.nfrags),
	    c->plan.nturns ? ", turns" : "",
	    c->greet_us ? ", after the greeting" : "");
	free(name);
	if (replay_answer(rc->base, rc->opt, &rc->target, rc->rec, c,
	    replay_read_paced(rc), &rc->engine, &res, &out, &cause) == -1) {
		fprintf(stderr, "stutterfuzz: %s\n", cause);
		free(cause);
		return EXIT_RUNTIME;
	}
	if (out.interrupted)
		return replay_interrupted(rc);
	if (res.state == CONFIRM_MISMATCH) {
		fprintf(stderr, "  -> answer %s\n  -> cut again: %s\n"
		    "Result: reproduced (mismatch: the whole send answers as "
		    "expected, the cut answers wrong twice); exit 1\n",
		    res.account, res.again);
		return EXIT_FINDINGS;
	}
	if (res.state == CONFIRM_UNSTABLE)
		fprintf(stderr, "  -> the whole sends' answers vary (%u "
		    "sample%s): nothing to compare\n", res.samples,
		    PLURAL(res.samples));
	else if (res.account[0] != '\0')
		fprintf(stderr, "  -> answer %s, but not again\n", res.account);
	else
		fprintf(stderr, "  -> the cut got the expected answer\n");
	fprintf(stderr, "Result: not reproduced; exit 0\n");
	return EXIT_CLEAN;
}

/* Replays the record o->replay_path names. */
int
cmd_replay_options(struct options *o)
{
	struct replay_cmd	 rc = { .opt = o };
	const struct record_conn **cand = NULL;
	char			*cause = NULL;
	size_t			 ncand;
	int			 status = EXIT_RUNTIME;

	rc.rec = record_load(o->replay_path, &cause);
	if (rc.rec == NULL || replay_setup(&rc, &cause) == -1) {
		status = replay_usage_error(cause, 0);
		goto out;
	}
	cand = xcalloc(rc.rec->nconns, sizeof *cand);
	ncand = replay_pick(&rc, cand);
	replay_print_record(&rc, ncand);
	signal(SIGPIPE, SIG_IGN);
	if (replay_base(&rc) == -1) {
		fprintf(stderr, "stutterfuzz: cannot make an event loop\n");
		goto out;
	}
	if (!net_alive(&rc.target, o->connect_timeout_ms)) {
		char	*where = record_escape(rc.target.text);

		fprintf(stderr, "stutterfuzz: %s does not accept connections; "
		    "start the server first\n", where);
		free(where);
		goto out;
	}
	if (rc.kind == FINDING_MISMATCH && rc.rec->expected != NULL &&
	    rc.rec->has_culprit)
		status = replay_mismatch(&rc);
	else
		status = replay_each(&rc, cand, ncand);
out:
	if (rc.ev_int != NULL)
		event_free(rc.ev_int);
	if (rc.ev_term != NULL)
		event_free(rc.ev_term);
	if (rc.base != NULL)
		event_base_free(rc.base);
	free(cand);
	free(cause);
	record_free(rc.rec);
	return status;
}

/* stutterfuzz replay RECORD [OPTION]...: options after the record, as for
 * a run. */
int
cmd_replay(int argc, char **argv)
{
	struct options	 opt;
	char		*cause = NULL;
	int		 status;

	options_defaults(&opt);
	opt.action = OPTIONS_REPLAY;
	if (options_parse(&opt, argc, argv, &cause) == -1) {
		status = replay_usage_error(cause, 1);
		free(cause);
		return status;
	}
	if (opt.action == OPTIONS_HELP) {
		fputs(replay_usage, stdout);
		return EXIT_CLEAN;
	}
	return cmd_replay_options(&opt);
}
