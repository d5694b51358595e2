/*
 * stutterfuzz proxy: forwards connections from --listen to --to (either a
 * TCP address or a Unix-domain stream socket), keeps the
 * clients' streams as a corpus (--record), cuts them on the way (--cut),
 * and records findings as the main run does. Main-level wiring: it parses
 * its options, prints, and chooses the exit status; the proxy, capture,
 * recorder and target modules do the work.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netdb.h>
#include <netinet/in.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "capture.h"
#include "cmd.h"
#include "conn.h"
#include "corpus.h"
#include "finding.h"
#include "json.h"
#include "net.h"
#include "options.h"
#include "proxy.h"
#include "record.h"
#include "rng.h"
#include "target.h"
#include "util.h"

#define DAY_MS		(24ULL * 3600 * 1000)

struct popts {
	const char	*listen;
	const char	*to;
	const char	*unix_path;	/* --unix, or --to=unix:PATH */
	int		 unix_via_to;	/* given as --to=unix:PATH */
	const char	*summary_path;
	const char	*record_dir;
	int		 answers;
	uint64_t	 record_max;
	int		 cut;
	struct plan_params plan;
	enum pace_mode	 pace;
	uint32_t	 gap_us;
	uint64_t	 seed;
	int		 seed_set;
	uint64_t	 duration_ms;
	uint64_t	 max_conns;
	uint64_t	 buffer;
	uint64_t	 connect_timeout_ms;
	uint64_t	 hang_timeout_ms;
	uint64_t	 stats_interval_ms;
	unsigned	 fail_on;
	const char	*findings_dir;
	uint64_t	 max_records;
	const char	*trace_path;
	int		 quiet;
	char		**target_argv;
	uint64_t	 startup_timeout_ms;
	uint64_t	 grace_ms;
	int		 restart;
	int		 help;
};

static const struct popts popts_defaults = {
	.record_max = PROXY_KEEP_DEFAULT,
	.plan = { .split = PLAN_SPLIT_MIX, .max_fragments = 256 },
	.pace = PACE_AUTO,
	.gap_us = 1000,
	.max_conns = PROXY_MAX_CONNS_DEFAULT,
	.buffer = PROXY_BUF_DEFAULT,
	.connect_timeout_ms = 5000,
	.hang_timeout_ms = 30000,
	.stats_interval_ms = 1000,
	.fail_on = FINDING_MASK_CONNECT | FINDING_BIT(FINDING_HANG) |
	    FINDING_MASK_TARGET,
	.max_records = 100,
	.startup_timeout_ms = 10000,
	.grace_ms = 5000,
};

static const char usage_text[] =
"usage: stutterfuzz proxy --listen=[HOST:]PORT|unix:PATH\n"
"                         --to=HOST:PORT|unix:PATH | --unix=PATH\n"
"                         [--record=DIR] [--cut] [options] [-- SERVER-COMMAND...]\n"
"\n"
"Forwards every connection to --listen to the server at --to, both ways,\n"
"keeps what the clients sent as a corpus and, with --cut, sends it to the\n"
"server cut in pieces, each read by the server on its own.\n"
"\n"
"  --listen=[HOST:]PORT    where clients connect (HOST default 127.0.0.1;\n"
"                          [::1]:PORT for IPv6)\n"
"  --listen=unix:PATH      a Unix-domain stream socket (a stale one is\n"
"                          replaced, one in use refused; removed at exit)\n"
"  --to=HOST:PORT          the server\n"
"  --unix=PATH, --to=unix:PATH\n"
"                          the server on a Unix-domain stream socket\n"
"  --record=DIR            keep each client stream as a blob in DIR, named by\n"
"                          its SHA-256 (the same stream twice is kept once)\n"
"  --record-max=BYTES      keep at most BYTES of a stream (1048576)\n"
"  --answers               keep the server's answers in DIR/answers/NAME.answer\n"
"  --cut                   cut the clients' bytes toward the server\n"
"  --split=STRATEGY        how (mix, uniform, small, bytewise, delimiter, sweep)\n"
"  --max-fragments=N       at most N pieces per chunk (256; 0 no bound)\n"
"  --pace=MODE             auto (default), read (sock_diag; a Unix server:\n"
"                          SIOCOUTQ) or ack\n"
"  --gap-us=US             ack pacing: least time between pieces (1000)\n"
"  --seed=S                seed of the cuts (default: random, printed)\n"
"  --findings-dir=DIR      write a record of every finding into DIR\n"
"  --max-records=N         write at most N records (100; 0 no cap)\n"
"  --trace=FILE            one JSON line per proxied connection\n"
"  --summary=FILE          the summary's figures as a JSON object\n"
"  --fail-on=KINDS         finding kinds that make the exit status 1\n"
"                          (connect,hang,target)\n"
"  --duration=TIME         stop after TIME (default: until interrupted)\n"
"  --max-conns=N           proxied connections at once (1024)\n"
"  --buffer=BYTES          buffered bytes per direction (262144)\n"
"  --connect-timeout=TIME  connecting to the server (5s)\n"
"  --hang-timeout=TIME     --cut: a piece unread this long is a hang (30s; 0 off)\n"
"  --stats-interval=TIME   live statistics period (1s)\n"
"  -q, --quiet             no live statistics\n"
"  --startup-timeout=TIME, --grace=TIME, --restart: the supervised server\n"
"  -h, --help              this text\n"
"\n"
"Exit status: 0 clean; 1 findings of a --fail-on kind; 2 usage or bad\n"
"input; 3 runtime error. See stutterfuzz(1).\n";

enum {
	O_LISTEN = 256, O_TO, O_RECORD, O_RECORD_MAX, O_ANSWERS, O_CUT,
	O_SPLIT, O_MAX_FRAGMENTS, O_PACE, O_GAP_US, O_SEED, O_FINDINGS_DIR,
	O_MAX_RECORDS, O_TRACE, O_FAIL_ON, O_DURATION, O_MAX_CONNS, O_BUFFER,
	O_CONNECT_TIMEOUT, O_HANG_TIMEOUT, O_STATS_INTERVAL, O_STARTUP_TIMEOUT,
	O_GRACE, O_RESTART, O_UNIX, O_SUMMARY,
};

static const struct option long_options[] = {
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "to", required_argument, NULL, O_TO },
	{ "unix", required_argument, NULL, O_UNIX },
	{ "summary", required_argument, NULL, O_SUMMARY },
	{ "record", required_argument, NULL, O_RECORD },
	{ "record-max", required_argument, NULL, O_RECORD_MAX },
	{ "answers", no_argument, NULL, O_ANSWERS },
	{ "cut", no_argument, NULL, O_CUT },
	{ "split", required_argument, NULL, O_SPLIT },
	{ "max-fragments", required_argument, NULL, O_MAX_FRAGMENTS },
	{ "pace", required_argument, NULL, O_PACE },
	{ "gap-us", required_argument, NULL, O_GAP_US },
	{ "seed", required_argument, NULL, O_SEED },
	{ "findings-dir", required_argument, NULL, O_FINDINGS_DIR },
	{ "max-records", required_argument, NULL, O_MAX_RECORDS },
	{ "trace", required_argument, NULL, O_TRACE },
	{ "fail-on", required_argument, NULL, O_FAIL_ON },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "max-conns", required_argument, NULL, O_MAX_CONNS },
	{ "buffer", required_argument, NULL, O_BUFFER },
	{ "connect-timeout", required_argument, NULL, O_CONNECT_TIMEOUT },
	{ "hang-timeout", required_argument, NULL, O_HANG_TIMEOUT },
	{ "stats-interval", required_argument, NULL, O_STATS_INTERVAL },
	{ "startup-timeout", required_argument, NULL, O_STARTUP_TIMEOUT },
	{ "grace", required_argument, NULL, O_GRACE },
	{ "restart", no_argument, NULL, O_RESTART },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct prun {
	struct popts		*o;
	struct event_base	*base;
	struct proxy		*proxy;
	struct target		*proc;
	struct net_target	 to;
	int			 lfd;		/* the listening socket */
	struct proxy_unix_listen ul;		/* --listen=unix: our socket file */
	char			 listen_text[NET_TEXT_MAX];
	struct capture		*cap;
	struct recorder		*rec;
	int			 rec_failed;
	int			 cap_failed;
	char			*options_json;
	FILE			*trace;
	int			 trace_err;	/* first write error of the trace */
	uint64_t		 seed;
	uint64_t		 start_us;
	const char		*stop;		/* why it stopped */
	char			*startup_why;
	uint64_t		 recorded, duplicates, truncated;
	uint64_t		 restarts;
	uint64_t		 ready_us;	/* the target last became ready,
						 * since start_us */
	uint64_t		 local_faults;
	int			 ready;		/* the proxy accepts */
	int			 tty;
	int			 line_open;
	struct event		*ev[4];		/* signals, duration, stats */
};

/* Parses a pacing name (cycle is the main run's only). */
static int
parse_pace(const char *s, enum pace_mode *out, char **cause)
{
	if (strcmp(s, "auto") == 0)
		*out = PACE_AUTO;
	else if (strcmp(s, "read") == 0)
		*out = PACE_READ;
	else if (strcmp(s, "ack") == 0)
		*out = PACE_ACK;
	else {
		*cause = xasprintf("--pace %s: not auto, read or ack", s);
		return -1;
	}
	return 0;
}

/* Parses a number option into a uint64 within [min, max]. */
static int
parse_num(const char *name, const char *arg, uint64_t min, uint64_t max,
    uint64_t *out, char **cause)
{
	char	*why = NULL;

	if (options_parse_uint(arg, min, max, out, &why) == 0)
		return 0;
	*cause = xasprintf("--%s: %s", name, why);
	free(why);
	return -1;
}

/* Parses a duration option. */
static int
parse_dur(const char *name, const char *arg, uint64_t min, uint64_t max,
    uint64_t *out, char **cause)
{
	char	*why = NULL;

	if (options_parse_duration(arg, min, max, out, &why) == 0)
		return 0;
	*cause = xasprintf("--%s: %s", name, why);
	free(why);
	return -1;
}

/* Applies one option of the proxy's table. */
static int
popts_one(struct popts *o, int c, const char *arg, char **cause)
{
	uint64_t	v;

	switch (c) {
	case O_LISTEN: o->listen = arg; return 0;
	case O_TO: o->to = arg; return 0;
	case O_UNIX: o->unix_path = arg; return 0;
	case O_SUMMARY: o->summary_path = arg; return 0;
	case O_RECORD: o->record_dir = arg; return 0;
	case O_ANSWERS: o->answers = 1; return 0;
	case O_CUT: o->cut = 1; return 0;
	case O_FINDINGS_DIR: o->findings_dir = arg; return 0;
	case O_TRACE: o->trace_path = arg; return 0;
	case O_RESTART: o->restart = 1; return 0;
	case 'q': o->quiet = 1; return 0;
	case 'h': o->help = 1; return 0;
	case O_RECORD_MAX:
		return parse_num("record-max", arg, 1, CORPUS_MAX_BLOB,
		    &o->record_max, cause);
	case O_SPLIT:
		if (plan_split_parse(arg, &o->plan.split) == 0)
			return 0;
		*cause = xasprintf("--split %s: unknown strategy", arg);
		return -1;
	case O_MAX_FRAGMENTS:
		if (parse_num("max-fragments", arg, 0, 1U << 20, &v, cause))
			return -1;
		o->plan.max_fragments = (uint32_t)v;
		return 0;
	case O_PACE: return parse_pace(arg, &o->pace, cause);
	case O_GAP_US:
		if (parse_num("gap-us", arg, 0, 10000000, &v, cause))
			return -1;
		o->gap_us = (uint32_t)v;
		return 0;
	case O_SEED:
		o->seed_set = 1;
		return parse_num("seed", arg, 0, UINT64_MAX, &o->seed, cause);
	case O_MAX_RECORDS:
		return parse_num("max-records", arg, 0, UINT32_MAX,
		    &o->max_records, cause);
	case O_FAIL_ON:
		return finding_parse_kinds(arg, &o->fail_on, cause);
	case O_DURATION:
		return parse_dur("duration", arg, 1, 366 * DAY_MS,
		    &o->duration_ms, cause);
	case O_MAX_CONNS:
		return parse_num("max-conns", arg, 1, 1U << 19, &o->max_conns,
		    cause);
	case O_BUFFER:
		return parse_num("buffer", arg, 1, 1U << 30, &o->buffer, cause);
	default:
		break;
	}
	return -2;
}

/* Applies one timing option of the proxy's table. */
static int
popts_time(struct popts *o, int c, const char *arg, char **cause)
{
	switch (c) {
	case O_CONNECT_TIMEOUT:
		return parse_dur("connect-timeout", arg, 10, 3600000,
		    &o->connect_timeout_ms, cause);
	case O_HANG_TIMEOUT:
		return parse_dur("hang-timeout", arg, 0, DAY_MS,
		    &o->hang_timeout_ms, cause);
	case O_STATS_INTERVAL:
		return parse_dur("stats-interval", arg, 100, DAY_MS,
		    &o->stats_interval_ms, cause);
	case O_STARTUP_TIMEOUT:
		return parse_dur("startup-timeout", arg, 100, 3600000,
		    &o->startup_timeout_ms, cause);
	case O_GRACE:
		return parse_dur("grace", arg, 0, 3600000, &o->grace_ms,
		    cause);
	default:
		*cause = xasprintf("unknown option");
		return -1;
	}
}

/* Parses the proxy's command line (argv[0] is "proxy"). */
static int
popts_parse(struct popts *o, int argc, char **argv, char **cause)
{
	int	c, rc;

	*o = popts_defaults;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+qh", long_options, NULL)) != -1) {
		if (c == '?' || c == ':') {
			*cause = xasprintf("proxy: unknown option or missing "
			    "argument: %s", argv[optind - 1]);
			return -1;
		}
		rc = popts_one(o, c, optarg, cause);
		if (rc == -2)
			rc = popts_time(o, c, optarg, cause);
		if (rc == -1)
			return -1;
	}
	if (optind < argc)
		o->target_argv = argv + optind;
	if (o->help)
		return 0;
	if (o->unix_path != NULL && o->to != NULL) {
		*cause = xasprintf("--unix and --to exclude each other");
		return -1;
	}
	if (o->to != NULL && strncmp(o->to, "unix:", 5) == 0) {
		o->unix_path = o->to + 5;
		o->unix_via_to = 1;
	}
	if (o->listen == NULL || (o->to == NULL && o->unix_path == NULL)) {
		*cause = xasprintf("proxy needs --listen and --to (or --unix)");
		return -1;
	}
	if (o->answers && o->record_dir == NULL) {
		*cause = xasprintf("--answers needs --record");
		return -1;
	}
	return 0;
}

/* Splits "[v6]:port", "host:port" or (if host_optional) "port". */
static int
split_hostport(const char *s, int host_optional, char **host, char **port)
{
	if (host_optional && *s != '\0' && strchr(s, ':') == NULL) {
		*host = xstrdup("127.0.0.1");
		*port = xstrdup(s);
		return 0;
	}
	return net_split_hostport(s, host, port);
}

/* Resolves the listening address (numeric or a name; the first address). */
static int
resolve_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
    char **cause)
{
	struct addrinfo	 hints = { .ai_socktype = SOCK_STREAM,
			    .ai_flags = AI_PASSIVE }, *res = NULL, *ai;
	char		*host = NULL, *port = NULL, *why = NULL;
	int		 rc;

	if (split_hostport(spec, 1, &host, &port) == -1) {
		*cause = xasprintf("--listen %s: not [HOST:]PORT", spec);
		return -1;
	}
	if (net_port_check(port, 0, &why) == -1) {
		*cause = xasprintf("--listen %s: %s", spec, why);
		free(why);
		free(host);
		free(port);
		return -1;
	}
	/* localhost is the loopback, whatever /etc/hosts says (net.c). */
	rc = getaddrinfo(net_is_localhost(host) ? "127.0.0.1" : host, port,
	    &hints, &res);
	for (ai = res; rc == 0 && ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
			break;
	}
	if (rc != 0 || ai == NULL) {
		*cause = xasprintf("--listen %s: %s", spec, rc != 0 ?
		    gai_strerror(rc) : "no IPv4 or IPv6 address");
		rc = -1;
	} else {
		memcpy(ss, ai->ai_addr, ai->ai_addrlen);
		*len = ai->ai_addrlen;
	}
	if (res != NULL)
		freeaddrinfo(res);
	free(host);
	free(port);
	return rc == 0 ? 0 : -1;
}

/* Resolves --to (or --unix) into r->to. */
static int
resolve_to(struct prun *r, char **cause)
{
	char	*host = NULL, *port = NULL, *why = NULL;
	int	 rc;

	if (r->o->unix_path != NULL) {
		if (net_unix_target(r->o->unix_path, &r->to, &why) == 0)
			return 0;
		/* Its causes name --unix: say --to if that was it. */
		if (r->o->unix_via_to && strncmp(why, "--unix", 6) == 0) {
			*cause = xasprintf("--to unix:%s", why + 6 +
			    (why[6] == ' '));
			free(why);
		} else {
			*cause = why;
		}
		return -1;
	}
	if (split_hostport(r->o->to, 0, &host, &port) == -1) {
		*cause = xasprintf("--to %s: not HOST:PORT", r->o->to);
		return -1;
	}
	rc = net_resolve(host, port, 200, &r->to, &why);
	if (rc == -1) {
		*cause = xasprintf("--to %s: cannot resolve (%s)", r->o->to,
		    why);
		free(why);
	}
	free(host);
	free(port);
	return rc;
}

/* Ends a live line on a terminal before other output. */
static void
prun_break_line(struct prun *r)
{
	if (r->line_open) {
		fputc('\n', stderr);
		r->line_open = 0;
	}
}

/* The options a record carries: the pacing in effect and the cut. */
static char *
prun_options_json(struct prun *r, enum pace_mode pace)
{
	json_t	*o = json_pack("{s:s,s:I,s:s,s:I,s:b,s:s}", "pace",
		    r->o->cut ? options_pace_name(pace) : "ack",
		    "gap_us", (json_int_t)r->o->gap_us, "split",
		    plan_split_name(r->o->plan.split),
		    "max_fragments", (json_int_t)r->o->plan.max_fragments,
		    "cut", r->o->cut,
		    "mode", "proxy");
	char	*s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s != NULL ? s : xstrdup("{}");
}

/* Writes the record of a finding; returns its file name or NULL. */
static const char *
prun_record(struct prun *r, const struct finding *f,
    const struct conn_report *culprit, const struct conn_report *sus,
    size_t n)
{
	struct record_meta	 m;
	const char		*name = NULL;
	char			*cause = NULL;

	if (r->rec == NULL || (culprit == NULL && n == 0))
		return NULL;
	record_meta_init(&m, f, &r->to, r->options_json);
	if (r->proc != NULL && culprit == NULL) {
		/* The command, where it ran (here), its output's tail. */
		m.target_argv = r->o->target_argv;
		m.target_tail = target_tail(r->proc);
	}
	if (recorder_add(r->rec, &m, culprit, sus, n, &name, &cause) == -1) {
		if (!r->rec_failed) {
			prun_break_line(r);
			fprintf(stderr, "local error (not a finding): cannot "
			    "write a record: %s\n", cause);
		}
		r->rec_failed = 1;
		name = NULL;
	}
	free(cause);
	return name;
}

/* With a supervised target, a failed connection is usually the target
 * dying: is it (lost with it: its exit is the finding), may it be (hold
 * until its fate is known), or is it a finding? */
static int
prun_target_verdict(struct prun *r, const struct finding *f,
    const struct conn_report *culprit)
{
	if (r->proc == NULL || (f->kind != FINDING_RESET &&
	    f->kind != FINDING_REFUSED && f->kind != FINDING_CONNECT_TIMEOUT))
		return PROXY_KEEP;
	/* Started before the target last became ready: a connection of an
	 * earlier instance, whose death was the finding. */
	if ((culprit != NULL && culprit->start_us < r->ready_us) ||
	    target_check(r->proc))
		return PROXY_LOST;
	return f->held ? PROXY_KEEP : PROXY_HOLD;
}

/* Hook: a finding. */
static int
prun_finding(void *arg, const struct finding *f,
    const struct conn_report *culprit, const struct conn_report *sus,
    size_t n)
{
	struct prun	*r = arg;
	const char	*record, *verdict;
	int		 v = prun_target_verdict(r, f, culprit);

	if (v != PROXY_KEEP)
		return v;
	record = prun_record(r, f, culprit, sus, n);
	prun_break_line(r);
	verdict = (r->o->fail_on & FINDING_BIT(f->kind)) ? "fails the run" :
	    "counted";
	if (culprit != NULL)
		fprintf(stderr, "finding: %s conn=%" PRIu64 " blob=%s seed=%"
		    PRIu64 " at=%.3fs phase=%s fragments=%" PRIu32 "/%" PRIu32
		    " bytes=%zu/%zu%s%s (%s)\n", finding_kind_name(f->kind),
		    culprit->index, culprit->blob->name, f->seed,
		    (double)f->at_us / 1e6, f->phase, culprit->frags_sent,
		    culprit->plan->nfrags, culprit->bytes_sent,
		    culprit->blob->len, f->err ? " error=" : "",
		    f->err ? strerror(f->err) : "", verdict);
	else
		fprintf(stderr, "finding: %s seed=%" PRIu64 " at=%.3fs: %s "
		    "(%zu suspect connection%s) (%s)\n",
		    finding_kind_name(f->kind), f->seed, (double)f->at_us / 1e6,
		    f->detail ? f->detail : "?", n, n == 1 ? "" : "s", verdict);
	if (record != NULL)
		fprintf(stderr, "  record: %s/%s\n  reproduce: stutterfuzz "
		    "replay %s/%s\n", recorder_dir(r->rec), record,
		    recorder_dir(r->rec), record);
	return PROXY_KEEP;
}

/* Hook: a proxied connection ended: one trace line. */
static void
prun_conn_done(void *arg, const struct conn_report *c)
{
	struct prun	*r = arg;
	json_t		*o, *frags, *gaps;

	if (r->trace == NULL)
		return;
	frags = json_array();
	gaps = json_array();
	for (uint32_t i = 0; i < c->plan->nfrags; i++)
		json_array_append_new(frags, json_integer(c->plan->sizes[i]));
	for (uint32_t i = 0; i < c->ngaps; i++)
		json_array_append_new(gaps, json_integer(c->gaps_us[i]));
	o = json_pack("{s:I,s:s,s:I,s:o,s:I,s:I,s:o,s:i,s:s,s:f,s:f}",
	    "index", (json_int_t)c->index, "blob", c->blob->name, "blob_size",
	    (json_int_t)c->blob->len, "fragments", frags, "sent_fragments",
	    (json_int_t)c->frags_sent, "sent_bytes", (json_int_t)c->bytes_sent,
	    "gaps_us", gaps, "local_port", (int)c->local_port, "outcome",
	    conn_outcome_name(c->outcome), "start_s", (double)c->start_us / 1e6, "end_s",
	    (double)c->end_us / 1e6);
	if (o != NULL) {
		json_dumpf(o, r->trace, JSON_COMPACT);
		fputc('\n', r->trace);
	}
	json_decref(o);
}

/* Hook: a client stream ended: keep it in the corpus. */
static void
prun_stream(void *arg, const struct proxy_stream *st)
{
	struct prun	*r = arg;
	char		 name[CAPTURE_NAME_LEN + 1], *cause = NULL;
	int		 rc;

	if (r->cap == NULL || st->len == 0)
		return;
	rc = capture_add(r->cap, st->data, st->len, st->answer, st->alen,
	    name, &cause);
	if (rc == -1) {
		if (!r->cap_failed) {
			prun_break_line(r);
			fprintf(stderr, "local error: cannot keep a stream: "
			    "%s\n", cause);
		}
		r->cap_failed = 1;
		free(cause);
		return;
	}
	if (rc == 1)
		r->recorded++;
	else
		r->duplicates++;
	if (st->total > st->len)
		r->truncated++;
}

/* Hook: our side ran out of something. */
static void
prun_local_fault(void *arg, const char *what, int err)
{
	struct prun	*r = arg;
	uint64_t	 n = ++r->local_faults;

	/* The 1st, 10th, 100th, ...: a flood of them says nothing more. */
	for (uint64_t p = 1; p <= n; p *= 10) {
		if (p != n)
			continue;
		prun_break_line(r);
		fprintf(stderr, "local error (not a finding): %s: %s, %" PRIu64
		    " time%s so far%s\n", what, strerror(err), n,
		    n == 1 ? "" : "s", err == EMFILE || err == ENFILE ?
		    "; lower the load or raise the fd limit (ulimit -n); "
		    "accepting again in a second" : err == EAGAIN &&
		    r->to.is_unix ? "; the server's listen backlog is full: "
		    "connecting again until --connect-timeout" : "");
		return;
	}
}

/* Formats the live figures. */
static void
prun_format(struct prun *r, char *buf, size_t len)
{
	const struct proxy_stats *ps = proxy_stats(r->proxy);
	const struct stats	*s = &ps->s;

	snprintf(buf, len, "conns=%" PRIu64 " open=%" PRIu64 " up=%" PRIu64
	    " down=%" PRIu64 " fragments=%" PRIu64 " fidelity=%.2f "
	    "findings=%" PRIu64 " recorded=%" PRIu64, s->conns_started,
	    ps->open, s->bytes, ps->bytes_down, s->fragments,
	    s->fid_checked ? (double)s->fid_ok / (double)s->fid_checked : 1.0,
	    stats_findings(s), r->recorded);
}

/* Timer: live statistics. */
static void
prun_stats_cb(evutil_socket_t fd, short what, void *arg)
{
	struct prun	*r = arg;
	char		 line[256];

	(void)fd;
	(void)what;
	if (r->trace != NULL)
		util_output_flush(r->trace, &r->trace_err);
	if (r->o->quiet || r->proxy == NULL)
		return;
	prun_format(r, line, sizeof line);
	if (r->tty) {
		fprintf(stderr, "\rStats: %s\033[K", line);
		r->line_open = 1;
	} else {
		fprintf(stderr, "Stats: %s\n", line);
	}
}

/* SIGINT, SIGTERM or --duration: stop with a summary. */
static void
prun_stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct prun	*r = arg;

	(void)what;
	r->stop = sig == -1 ? "duration" : "signal";
	event_base_loopbreak(r->base);
}

/* Target probe: does it accept connections at --to? */
static int
prun_probe(void *arg)
{
	struct prun	*r = arg;

	return net_alive(&r->to, 200);
}

/* Hook: the target accepts connections: proxy (again). */
static void
prun_target_ready(void *arg)
{
	struct prun	*r = arg;

	prun_break_line(r);
	fprintf(stderr, "Target ready at %s (pid %d)\n", r->to.text,
	    target_pid(r->proc));
	r->ready = 1;
	r->ready_us = util_now_us() - r->start_us;
	proxy_resume(r->proxy);
}

/* Hook: the target never got ready, or could not be restarted. */
static void
prun_target_failed(void *arg, const char *why)
{
	struct prun	*r = arg;

	free(r->startup_why);
	r->startup_why = xstrdup(why);
	r->stop = "target";
	event_base_loopbreak(r->base);
}

/* Hook: the running target exited: a finding; restart or stop. */
static void
prun_target_exited(void *arg, int status)
{
	struct prun	*r = arg;
	char		 desc[128], *cause = NULL;

	target_describe_status(status, desc, sizeof desc);
	/* What failed while it was dying only echoes its death. */
	proxy_unhold(r->proxy, 1);
	proxy_raise(r->proxy, FINDING_TARGET_EXIT, desc);
	proxy_pause(r->proxy);
	if (!r->o->restart || !target_may_restart(r->proc)) {
		r->stop = "target exited";
		event_base_loopbreak(r->base);
		return;
	}
	r->restarts++;
	if (target_start(r->proc, &cause) == -1) {
		prun_target_failed(r, cause);
		free(cause);
	}
}

/* Hook: valgrind or a sanitizer reported an error: a finding. */
static void
prun_target_report(void *arg, const char *line)
{
	struct prun	*r = arg;

	if (line[0] == '=' && line[1] == '=') {
		const char	*p = strstr(line + 2, "== ");

		if (p != NULL)
			line = p + 3;
	}
	proxy_raise(r->proxy, FINDING_TARGET_REPORT, line);
}

/* Prints the summary; returns the exit status. */
static int
prun_summary(struct prun *r)
{
	const struct proxy_stats *ps = proxy_stats(r->proxy);
	const struct stats	*s = &ps->s;
	uint64_t		 failing = 0;
	const char		*why = NULL;
	enum pace_mode		 pace = proxy_pace(r->proxy, &why);

	prun_break_line(r);
	fprintf(stderr, "Summary: %.1fs, stopped: %s\n",
	    (double)(util_now_us() - r->start_us) / 1e6, r->stop);
	fprintf(stderr, "  connections: accepted=%" PRIu64 " established=%"
	    PRIu64 " completed=%" PRIu64 " half_closes=%" PRIu64 " resets=%"
	    PRIu64 " server_first=%" PRIu64 "\n", s->conns_started,
	    s->conns_established, s->conns_completed, ps->half_closes,
	    ps->resets, ps->server_first);
	fprintf(stderr, "  bytes: up=%" PRIu64 " down=%" PRIu64 " fragments=%"
	    PRIu64, s->bytes, ps->bytes_down, s->fragments);
	if (r->o->cut) {
		fprintf(stderr, " chunks=%" PRIu64 " pace=%s fid_checked=%"
		    PRIu64 " fid_ok=%" PRIu64, ps->chunks,
		    options_pace_name(pace), s->fid_checked, s->fid_ok);
		if (s->fid_checked > 0)
			fprintf(stderr, " fidelity=%.3f", (double)s->fid_ok /
			    (double)s->fid_checked);
		else
			fputs(" fidelity=n/a", stderr);	/* nothing checked */
	}
	fputc('\n', stderr);
	fprintf(stderr, "  findings:");
	for (int k = 0; k < FINDING__COUNT; k++) {
		fprintf(stderr, " %s=%" PRIu64, finding_kind_name(
		    (enum finding_kind)k), s->findings[k]);
		if (r->o->fail_on & FINDING_BIT(k))
			failing += s->findings[k];
	}
	fprintf(stderr, "; lost_with_target=%" PRIu64 "; local errors=%"
	    PRIu64 "\n", s->lost_with_target, s->local_errors);
	if (r->cap != NULL)
		fprintf(stderr, "  corpus: recorded=%" PRIu64 " duplicates=%"
		    PRIu64 " truncated=%" PRIu64 " in %s\n", r->recorded,
		    r->duplicates, r->truncated, capture_dir(r->cap));
	if (r->rec != NULL) {
		uint64_t	written, dups, over;
		char		*cause = NULL;

		recorder_totals(r->rec, &written, &dups, &over);
		fprintf(stderr, "  records: %" PRIu64 " written to %s, %" PRIu64
		    " repeats counted, %" PRIu64 " over --max-records\n",
		    written, recorder_dir(r->rec), dups, over);
		if (recorder_finish(r->rec, r->seed, r->stop, &cause) == -1) {
			fprintf(stderr, "local error: cannot write the run "
			    "index: %s\n", cause);
			free(cause);
		}
	}
	if (failing > 0) {
		fprintf(stderr, "Result: %" PRIu64 " finding%s of a --fail-on "
		    "kind; exit 1\n", failing, failing == 1 ? "" : "s");
		return EXIT_FINDINGS;
	}
	if (r->cap_failed || r->rec_failed) {
		fprintf(stderr, "Result: streams or records could not be "
		    "written; exit 3\n");
		return EXIT_RUNTIME;
	}
	fprintf(stderr, "Result: clean; exit 0\n");
	return EXIT_CLEAN;
}

/* Listens on --listen=[HOST:]PORT. */
static int
prun_listen_tcp(struct prun *r, char **cause)
{
	struct sockaddr_storage	 ls;
	socklen_t		 ll = 0;
	char			 text[NET_TEXT_MAX], *why = NULL;
	int			 fd;

	if (resolve_listen(r->o->listen, &ls, &ll, cause) == -1)
		return -1;
	if (proxy_same_endpoint((struct sockaddr *)&ls,
	    (struct sockaddr *)&r->to.addr)) {
		*cause = xasprintf("--to %s is the proxy's own --listen %s",
		    r->to.text, r->o->listen);
		return -1;
	}
	fd = proxy_listen((struct sockaddr *)&ls, ll, &why);
	if (fd == -1) {
		net_format((struct sockaddr *)&ls, text, sizeof text);
		*cause = xasprintf("--listen %s: %s", text, why);
		free(why);
	}
	return fd;
}

/* Do the two paths name one file now (a link, another spelling)? */
static int
same_file(const char *a, const char *b)
{
	struct stat	sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Listens on --listen=unix:PATH, never on the server's own socket. */
static int
prun_listen_unix(struct prun *r, const char *path, char **cause)
{
	const char	*to = net_record_target(&r->to);
	char		 cwd[PATH_MAX], *why = NULL;
	int		 fd;

	if (r->to.is_unix && proxy_same_path(path, to, getcwd(cwd,
	    sizeof cwd))) {
		*cause = xasprintf("--listen unix:%s is the server's own "
		    "socket %s", path, to);
		return -1;
	}
	fd = proxy_listen_unix(path, &r->ul, &why);
	if (fd == -1) {
		*cause = xasprintf("--listen unix:%s: %s", path, why);
		free(why);
		return -1;
	}
	if (r->to.is_unix && same_file(path, to)) {
		proxy_unlink_unix(&r->ul, fd);
		close(fd);
		r->ul.made = 0;
		*cause = xasprintf("--listen unix:%s is the server's own "
		    "socket %s", path, to);
		return -1;
	}
	return fd;
}

/* The --summary object's counts of findings by kind. */
static json_t *
prun_findings_json(const struct stats *s)
{
	json_t	*o = json_object();

	for (int k = 0; o != NULL && k < FINDING__COUNT; k++)
		json_object_set_new(o, finding_kind_name((enum finding_kind)k),
		    json_integer((json_int_t)s->findings[k]));
	return o;
}

/* Writes --summary: the summary's figures as one JSON object. */
static int
prun_summary_file(struct prun *r, int status, char **cause)
{
	const struct proxy_stats *ps = proxy_stats(r->proxy);
	const struct stats	*s = &ps->s;
	const char		*why = NULL;
	enum pace_mode		 pace = proxy_pace(r->proxy, &why);
	uint64_t		 written = 0, dups = 0, over = 0;
	json_t			*o;
	FILE			*f;
	char			 seed[24];

	if (r->rec != NULL)
		recorder_totals(r->rec, &written, &dups, &over);
	/* A seed is a string, as in the main run's summary: JSON integers
	 * stop at 2^63. */
	snprintf(seed, sizeof seed, "%" PRIu64, r->seed);
	o = json_pack("{s:s,s:i,s:s,s:s,s:f,s:s,s:s,s:s,s:s,s:s,s:b,s:s?,"
	    "s:{s:I,s:I,s:I,s:I,s:I,s:I},s:{s:I,s:I},s:I,s:I,s:I,s:I,s:o,"
	    "s:o,s:I,s:I,s:I,s:i}",
	    "format", "stutterfuzz-proxy-summary", "format_version", 1,
	    "tool_version", STUTTERFUZZ_VERSION, "mode", "proxy",
	    "duration_s", (double)(util_now_us() - r->start_us) / 1e6,
	    "stopped", r->stop, "seed", seed,
	    "listen", r->listen_text, "target", r->to.text,
	    "target_kind", r->to.is_unix ? "unix" : "tcp",
	    "cut", r->o->cut, "pace", r->o->cut ? options_pace_name(pace) :
	    NULL, "connections",
	    "accepted", (json_int_t)s->conns_started,
	    "established", (json_int_t)s->conns_established,
	    "completed", (json_int_t)s->conns_completed,
	    "half_closes", (json_int_t)ps->half_closes,
	    "resets", (json_int_t)ps->resets,
	    "server_first", (json_int_t)ps->server_first,
	    "bytes", "up", (json_int_t)s->bytes,
	    "down", (json_int_t)ps->bytes_down,
	    "fragments", (json_int_t)s->fragments,
	    "chunks", (json_int_t)ps->chunks,
	    "fid_checked", (json_int_t)s->fid_checked,
	    "fid_ok", (json_int_t)s->fid_ok,
	    "fidelity", s->fid_checked ? json_real((double)s->fid_ok /
	    (double)s->fid_checked) : json_null(),
	    "findings", prun_findings_json(s),
	    "lost_with_target", (json_int_t)s->lost_with_target,
	    "local_errors", (json_int_t)s->local_errors,
	    "restarts", (json_int_t)r->restarts,
	    "exit_code", status);
	if (o != NULL && r->cap != NULL)
		json_object_set_new(o, "corpus", json_pack("{s:I,s:I,s:I}",
		    "recorded", (json_int_t)r->recorded,
		    "duplicates", (json_int_t)r->duplicates,
		    "truncated", (json_int_t)r->truncated));
	if (o != NULL && r->rec != NULL)
		json_object_set_new(o, "records", json_pack("{s:I,s:I,s:I}",
		    "written", (json_int_t)written, "duplicates",
		    (json_int_t)dups, "over_cap", (json_int_t)over));
	if (o == NULL) {
		*cause = xasprintf("--summary %s: out of memory",
		    r->o->summary_path);
		return -1;
	}
	f = util_output_open("--summary", r->o->summary_path, cause);
	if (f != NULL) {
		json_dumpf(o, f, JSON_INDENT(2));
		fputc('\n', f);
	}
	json_decref(o);
	if (f == NULL)
		return -1;
	return util_output_close(f, "--summary", r->o->summary_path, 0,
	    cause);
}

/* Checks and opens everything the options name: the addresses, the
 * listening socket, the directories, the trace. Returns the listening
 * socket, or -1 with *cause (a usage error). */
static int
prun_prepare(struct prun *r, char **cause)
{
	int	fd;

	if (resolve_to(r, cause) == -1 || (r->o->summary_path != NULL &&
	    util_output_check("--summary", r->o->summary_path, cause) == -1))
		return -1;
	fd = strncmp(r->o->listen, "unix:", 5) == 0 ?
	    prun_listen_unix(r, r->o->listen + 5, cause) :
	    prun_listen_tcp(r, cause);
	if (fd == -1)
		return -1;
	r->lfd = fd;		/* prun_free closes it on failure */
	if ((r->o->record_dir != NULL && (r->cap = capture_new(
	    r->o->record_dir, r->o->answers, cause)) == NULL) ||
	    (r->o->findings_dir != NULL && (r->rec = recorder_new(
	    r->o->findings_dir, r->o->max_records, cause)) == NULL))
		return -1;
	if (r->o->trace_path != NULL && (r->trace = util_output_open(
	    "--trace", r->o->trace_path, cause)) == NULL)
		return -1;
	return fd;
}

/* How the pacing in effect sees a piece through. */
static const char *
prun_pace_how(const struct prun *r, enum pace_mode pace)
{
	if (pace == PACE_READ)
		return r->to.is_unix ? "SIOCOUTQ: the server read all sent" :
		    "sock_diag: the server read all sent";
	return r->to.is_unix ? "--gap-us, then SIOCOUTQ: the server read all "
	    "sent" : "--gap-us, then acknowledged";
}

/* Says where it listens, where it forwards, and how it cuts. */
static void
prun_announce(struct prun *r, int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof ss;
	char			 text[NET_TEXT_MAX] = "?";
	const char		*why = NULL;
	enum pace_mode		 pace = proxy_pace(r->proxy, &why);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		net_format((struct sockaddr *)&ss, text, sizeof text);
	memcpy(r->listen_text, text, sizeof text);
	fprintf(stderr, "Proxy listening on %s, forwarding to %s%s; seed=%"
	    PRIu64 "\n", text, r->to.text, r->to.is_unix ? " (Unix socket)" :
	    r->to.loopback ? " (loopback)" : "", r->seed);
	if (r->o->cut)
		fprintf(stderr, "Cutting: split=%s, pacing: %s (%s)\n",
		    plan_split_name(r->o->plan.split), options_pace_name(pace),
		    prun_pace_how(r, pace));
	if (why != NULL)
		fprintf(stderr, "note: %s\n", why);
	if (r->cap != NULL)
		fprintf(stderr, "Recording client streams into %s%s\n",
		    capture_dir(r->cap), r->o->answers ?
		    " (answers in " CAPTURE_ANSWERS "/)" : "");
	fflush(stderr);
}

/* Starts the supervised target; the proxy accepts once it is ready. */
static int
prun_target(struct prun *r, char **cause)
{
	struct target_config	tc = {
		.argv = r->o->target_argv,
		.addr = (struct sockaddr *)&r->to.addr,
		.addrlen = r->to.addrlen,
		.startup_timeout_ms = r->o->startup_timeout_ms,
		.grace_ms = r->o->grace_ms,
		.max_restarts = 10,
	};
	struct target_hooks	th = {
		.ready = prun_target_ready,
		.failed = prun_target_failed,
		.exited = prun_target_exited,
		.report = prun_target_report,
	};
	struct jbuf		cmd = { 0 };

	r->proc = target_new(r->base, &tc, &th, r, cause);
	if (r->proc == NULL)
		return -1;
	target_set_probe(r->proc, prun_probe);
	for (char **a = r->o->target_argv; *a != NULL; a++) {
		jbuf_append(&cmd, " ", 1);
		options_shell_quote(&cmd, *a);
	}
	fprintf(stderr, "Starting target:%s\n", cmd.s);
	jbuf_free(&cmd);
	return target_start(r->proc, cause);
}

/* Makes the proxy on a new event loop. */
static int
prun_make(struct prun *r, int fd, char **cause)
{
	struct proxy_config	 pc = {
		.listen_fd = fd,
		.to = (struct sockaddr *)&r->to.addr,
		.tolen = r->to.addrlen,
		.loopback = r->to.loopback,
		.cut = r->o->cut,
		.plan = r->o->plan,
		.pace = r->o->pace,
		.gap_us = r->o->gap_us,
		.seed = r->seed,
		.buf_max = (size_t)r->o->buffer,
		.keep = r->cap || r->rec || r->trace ?
		    (size_t)r->o->record_max : 0,
		.keep_answers = r->o->answers,
		.max_conns = (uint32_t)r->o->max_conns,
		.connect_timeout_ms = r->o->connect_timeout_ms,
		.hang_timeout_ms = r->o->hang_timeout_ms,
		.hold_ms = r->o->target_argv != NULL ? TARGET_FATE_MS : 0,
		.start_us = r->start_us,
	};
	struct proxy_hooks	 hooks = {
		.finding = prun_finding,
		.conn_done = prun_conn_done,
		.stream = prun_stream,
		.local_fault = prun_local_fault,
	};
	const char		*why;

	r->proxy = proxy_new(r->base, &pc, &hooks, r, cause);
	if (r->proxy == NULL) {
		r->lfd = -1;	/* proxy_new closed it */
		return -1;
	}
	r->options_json = prun_options_json(r, proxy_pace(r->proxy, &why));
	return 0;
}

/* An event loop that runs reads before timers. */
static struct event_base *
prun_base(void)
{
	struct event_config	*cfg = event_config_new();
	struct event_base	*base;

	if (cfg == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (base != NULL && event_base_priority_init(base, 2) == -1) {
		event_base_free(base);
		base = NULL;
	}
	return base;
}

/* Arms the signals, --duration and the statistics. Done before the
 * listening line is printed, so that a client of that line (a script)
 * cannot signal us while the default action is still in place. The
 * events stay until prun_free: a second signal (timeout(1) sends one to
 * the child and one to its group) must not find the default back either. */
static int
prun_events(struct prun *r)
{
	struct timeval	 dur = {
		.tv_sec = (time_t)(r->o->duration_ms / 1000),
		.tv_usec = (suseconds_t)(r->o->duration_ms % 1000) * 1000,
	}, iv = {
		.tv_sec = (time_t)(r->o->stats_interval_ms / 1000),
		.tv_usec = (suseconds_t)(r->o->stats_interval_ms % 1000) * 1000,
	};

	r->ev[0] = evsignal_new(r->base, SIGINT, prun_stop_cb, r);
	r->ev[1] = evsignal_new(r->base, SIGTERM, prun_stop_cb, r);
	r->ev[2] = evtimer_new(r->base, prun_stop_cb, r);
	r->ev[3] = event_new(r->base, -1, EV_PERSIST, prun_stats_cb, r);
	for (int i = 0; i < 4; i++) {
		if (r->ev[i] == NULL)
			return -1;
	}
	event_add(r->ev[0], NULL);
	event_add(r->ev[1], NULL);
	if (r->o->duration_ms != 0)
		event_add(r->ev[2], &dur);
	event_add(r->ev[3], &iv);
	return 0;
}

/* Frees what a run made. */
static void
prun_free(struct prun *r)
{
	/* Our socket file goes while its socket still answers for it. */
	proxy_unlink_unix(&r->ul, r->lfd);
	if (r->proxy != NULL)
		proxy_free(r->proxy);
	else if (r->lfd != -1)
		close(r->lfd);
	target_free(r->proc);
	for (int i = 0; i < 4; i++) {
		if (r->ev[i] != NULL)
			event_free(r->ev[i]);
	}
	if (r->base != NULL)
		event_base_free(r->base);
	if (r->trace != NULL)
		fclose(r->trace);
	capture_free(r->cap);
	recorder_free(r->rec);
	free(r->options_json);
	free(r->startup_why);
}

/* Prints the summary and writes --summary and the trace; returns the
 * exit status (a failed write turns a clean run into exit 3). */
static int
prun_finish(struct prun *r)
{
	int	 status = prun_summary(r);
	char	*cause = NULL;

	if (r->o->summary_path != NULL &&
	    prun_summary_file(r, status, &cause) == -1) {
		fprintf(stderr, "stutterfuzz: %s\n", cause);
		free(cause);
		cause = NULL;
		if (status == EXIT_CLEAN)
			status = EXIT_RUNTIME;
	}
	if (util_output_close(r->trace, "--trace", r->o->trace_path,
	    r->trace_err, &cause) == -1) {
		fprintf(stderr, "stutterfuzz: %s\n", cause);
		free(cause);
		if (status == EXIT_CLEAN)
			status = EXIT_RUNTIME;
	}
	r->trace = NULL;
	return status;
}

/* stutterfuzz proxy. */
int
cmd_proxy(int argc, char **argv)
{
	struct popts	 o;
	struct prun	 r = { .o = &o, .stop = "?", .lfd = -1 };
	char		*cause = NULL;
	int		 fd, status = EXIT_RUNTIME;

	if (popts_parse(&o, argc, argv, &cause) == -1) {
		fprintf(stderr, "stutterfuzz: %s (see stutterfuzz proxy "
		    "--help)\n", cause);
		free(cause);
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(usage_text, stdout);
		return EXIT_CLEAN;
	}
	fd = prun_prepare(&r, &cause);
	if (fd == -1) {
		fprintf(stderr, "stutterfuzz: %s\n", cause);
		free(cause);
		prun_free(&r);
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	net_raise_fd_limit();
	r.seed = o.seed_set ? o.seed : rng_fresh_seed();
	r.start_us = util_now_us();
	r.tty = isatty(STDERR_FILENO);
	r.base = prun_base();
	if (r.base == NULL || prun_make(&r, fd, &cause) == -1 ||
	    prun_events(&r) == -1) {
		fprintf(stderr, "stutterfuzz: %s\n", cause ? cause :
		    "cannot make an event loop");
		goto out;
	}
	prun_announce(&r, fd);
	if (o.target_argv != NULL) {
		if (prun_target(&r, &cause) == -1) {
			fprintf(stderr, "stutterfuzz: %s\n", cause);
			goto out;
		}
	} else {
		proxy_resume(r.proxy);
	}
	if (event_base_dispatch(r.base) == -1) {
		fprintf(stderr, "stutterfuzz: event loop failed\n");
		goto out;
	}
	proxy_pause(r.proxy);
	proxy_unhold(r.proxy, 0);
	proxy_close_all(r.proxy);
	if (r.startup_why != NULL && !r.ready) {
		fprintf(stderr, "stutterfuzz: %s\n", r.startup_why);
		goto out;
	}
	status = prun_finish(&r);
out:
	free(cause);
	prun_free(&r);
	/* The summary is out and the target gone: a late second signal
	 * (timeout(1) signals the child, then its group) must not turn the
	 * exit status into a death by signal while exit handlers run. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	return status;
}
