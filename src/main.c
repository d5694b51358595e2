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

#include "corpus.h"
#include "engine.h"
#include "finding.h"
#include "net.h"
#include "options.h"
#include "rng.h"
#include "stats.h"
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

/* Prints the command that runs only connection `index` again. */
static void
run_print_hint(struct run *r, uint64_t index)
{
	const struct options	*o = r->opt;

	fprintf(stderr, "  reproduce: stutterfuzz --blob-dir=%s --host=%s "
	    "--port=%s --seed=%" PRIu64 " --only=%" PRIu64, o->blob_dir,
	    o->host, o->port, r->seed, index);
	if (o->plan.fastopen_chance != 2)
		fprintf(stderr, " --fastopen-chance=%" PRIu32,
		    o->plan.fastopen_chance);
	if (o->plan.close_chance != 500)
		fprintf(stderr, " --close-chance=%" PRIu32,
		    o->plan.close_chance);
	if (o->plan.max_fragments != 0)
		fprintf(stderr, " --max-fragments=%" PRIu32,
		    o->plan.max_fragments);
	if (o->plan.split != PLAN_SPLIT_UNIFORM)
		fprintf(stderr, " --split=%s", plan_split_name(o->plan.split));
	if (o->shard_n > 1)
		fprintf(stderr, " --shard=%u/%u", o->shard_k, o->shard_n);
	fputc('\n', stderr);
}

/* Hook: a finding happened. */
static void
run_finding(void *arg, const struct finding *f)
{
	struct run	*r = arg;
	const char	*verdict;
	uint64_t	 limit = r->opt->finding_lines;

	if (limit != 0 && r->printed[f->kind] >= limit)
		return;
	run_break_line(r);
	verdict = (r->opt->fail_on & FINDING_BIT(f->kind)) ? "fails the run" :
	    "counted";
	fprintf(stderr, "finding: %s blob=%s conn=%" PRIu64 " seed=%" PRIu64
	    " at=%.3fs phase=%s fragments=%" PRIu32 "/%" PRIu32
	    " bytes=%zu/%zu%s%s (%s)\n",
	    finding_kind_name(f->kind), f->blob->name, f->index, f->seed,
	    (double)f->at_us / 1e6, f->phase, f->frags_sent, f->plan->nfrags,
	    f->bytes_sent, f->plan->len, f->err ? " error=" : "",
	    f->err ? strerror(f->err) : "", verdict);
	if (!(r->hinted & FINDING_BIT(f->kind))) {
		r->hinted |= FINDING_BIT(f->kind);
		run_print_hint(r, f->index);
		if (f->kind == FINDING_REFUSED ||
		    f->kind == FINDING_CONNECT_TIMEOUT)
			fprintf(stderr, "  note: a failed connect means the "
			    "server died or stopped accepting; the culprit is "
			    "more likely a connection in flight just before "
			    "(see the findings above)\n");
	}
	if (++r->printed[f->kind] == limit)
		fprintf(stderr, "  (%" PRIu64 " %s findings printed; further "
		    "ones are only counted, see --finding-lines)\n", limit,
		    finding_kind_name(f->kind));
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
	default:
		advice = "the machine is short of memory or socket buffers; "
		    "lower --num-conns";
		break;
	}
	run_break_line(r);
	fprintf(stderr, "local error (not a finding): %s: %s, %" PRIu64
	    " time%s; %s\n", what, strerror(err), count, count == 1 ? "" : "s",
	    advice);
}

/* Hook: live statistics. */
static void
run_stats(void *arg, const struct stats *cur, const struct stats_rates *rates)
{
	struct run	*r = arg;
	char		 line[512];

	if (r->opt->quiet)
		return;
	stats_format_line(line, sizeof line, cur, rates);
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
	(void)sig;
	(void)what;
	engine_stop(arg, ENGINE_STOP_SIGNAL);
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
	    " fast open; fragments=%" PRIu64 " bytes=%" PRIu64 "\n",
	    s->conns_started, s->conns_established, s->conns_completed,
	    s->early_closes, s->peer_closed, s->fastopens, s->fragments,
	    s->bytes);
	fprintf(stderr, "  findings:");
	for (int k = 0; k < FINDING__COUNT; k++) {
		fprintf(stderr, " %s=%" PRIu64, finding_kind_name(
		    (enum finding_kind)k), s->findings[k]);
		if (r->opt->fail_on & FINDING_BIT(k))
			failing += s->findings[k];
	}
	fprintf(stderr, "; local errors=%" PRIu64 "\n", s->local_errors);

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
	return status;
}

/* Complains about a usage or configuration problem. */
static int
usage_error(const char *cause)
{
	fprintf(stderr, "stutterfuzz: %s (see --help)\n", cause);
	return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	struct options		 opt;
	struct corpus		*corpus = NULL;
	struct net_target	 target = { 0 };
	struct event_base	*base = NULL;
	struct event		*ev_int = NULL, *ev_term = NULL;
	struct engine		*engine = NULL;
	struct engine_hooks	 hooks = {
		.finding = run_finding,
		.local_fault = run_local_fault,
		.stats = run_stats,
	};
	struct run		 r = { 0 };
	char			*cause = NULL;
	uint64_t		 fd_limit, conns;
	int			 status = EXIT_RUNTIME;

	options_defaults(&opt);
	if (options_parse(&opt, argc, argv, &cause) == -1) {
		status = usage_error(cause);
		goto out;
	}
	if (opt.action == OPTIONS_HELP) {
		fputs(options_usage(), stdout);
		status = EXIT_CLEAN;
		goto out;
	}
	if (opt.action == OPTIONS_VERSION) {
		printf("stutterfuzz %s\n", STUTTERFUZZ_VERSION);
		status = EXIT_CLEAN;
		goto out;
	}

	corpus = corpus_load(opt.blob_dir, &cause);
	if (corpus == NULL) {
		status = usage_error(cause);
		goto out;
	}
	if (opt.shard_n > 1 &&
	    corpus_shard(corpus, opt.shard_k, opt.shard_n, &cause) == -1) {
		status = usage_error(cause);
		goto out;
	}

	conns = opt.only_set ? 1 : opt.num_conns;
	fd_limit = net_raise_fd_limit();
	if (fd_limit < conns + FD_RESERVE) {
		cause = xasprintf("--num-conns %" PRIu64 " needs %" PRIu64
		    " file descriptors, but the limit is %" PRIu64 " (raise "
		    "the hard limit, ulimit -Hn, or lower --num-conns)", conns,
		    conns + FD_RESERVE, fd_limit);
		status = usage_error(cause);
		goto out;
	}
	if (net_resolve(opt.host, opt.port, opt.connect_timeout_ms, &target,
	    &cause) == -1) {
		status = usage_error(cause);
		goto out;
	}

	r.opt = &opt;
	r.target = &target;
	r.seed = opt.seed_set ? opt.seed : rng_fresh_seed();
	r.tty = isatty(STDERR_FILENO);

	fprintf(stderr, "Loaded %zu blobs. Bytes: %zu min, %zu mean, %zu max\n",
	    corpus->n, corpus->min, corpus_mean(corpus), corpus->max);
	if (opt.shard_n > 1)
		fprintf(stderr, "Shard %u/%u of the corpus.\n", opt.shard_k,
		    opt.shard_n);
	fprintf(stderr, "Target %s%s; seed=%" PRIu64 " conns=%" PRIu64
	    " pace=%s", target.text, target.loopback ? " (loopback)" : "",
	    r.seed, conns, options_pace_name(opt.pace));
	if (opt.pace == PACE_ACK)
		fprintf(stderr, " gap=%" PRIu32 "us", opt.gap_us);
	else
		fprintf(stderr, " cycle=%" PRIu32 "ms", opt.cycle_ms);
	fprintf(stderr, " split=%s\n", plan_split_name(opt.plan.split));
	if (!target.loopback)
		fprintf(stderr, "warning: %s is not a loopback address; "
		    "pacing over a real network keeps fewer boundaries\n",
		    target.text);

	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if (base == NULL) {
		fprintf(stderr, "stutterfuzz: cannot make an event loop\n");
		goto out;
	}
	engine = engine_new(base, &opt, corpus,
	    (const struct sockaddr *)&target.addr, target.addrlen, r.seed,
	    &hooks, &r, &cause);
	if (engine == NULL) {
		fprintf(stderr, "stutterfuzz: %s\n", cause);
		goto out;
	}
	ev_int = evsignal_new(base, SIGINT, run_signal, engine);
	ev_term = evsignal_new(base, SIGTERM, run_signal, engine);
	if (ev_int == NULL || ev_term == NULL || event_add(ev_int, NULL) == -1
	    || event_add(ev_term, NULL) == -1) {
		fprintf(stderr, "stutterfuzz: cannot catch signals\n");
		goto out;
	}
	if (engine_start(engine, &cause) == -1) {
		fprintf(stderr, "stutterfuzz: %s\n", cause);
		goto out;
	}
	if (event_base_dispatch(base) == -1) {
		fprintf(stderr, "stutterfuzz: event loop failed\n");
		goto out;
	}
	status = run_summary(&r, engine);

out:
	engine_free(engine);
	if (ev_int != NULL)
		event_free(ev_int);
	if (ev_term != NULL)
		event_free(ev_term);
	if (base != NULL)
		event_base_free(base);
	corpus_free(corpus);
	free(cause);
	return status;
}
