/* Statistics: counters, rates and formatting through a visitor. */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "stats.h"

/* Computes the rates between prev and cur over `seconds`. */
void
stats_rates(const struct stats *cur, const struct stats *prev, double seconds,
    struct stats_rates *out)
{
	uint64_t	est, checks, ended;

	memset(out, 0, sizeof *out);
	out->seconds = seconds;
	est = cur->conns_established - prev->conns_established;
	checks = (cur->ready - prev->ready) + (cur->not_ready - prev->not_ready);
	ended = (cur->conns_completed - prev->conns_completed) +
	    (cur->early_closes - prev->early_closes) +
	    (cur->peer_closed - prev->peer_closed);
	if (seconds > 0) {
		out->conns_per_s = (double)(cur->conns_started -
		    prev->conns_started) / seconds;
		out->fragments_per_s = (double)(cur->fragments -
		    prev->fragments) / seconds;
		out->bytes_per_s = (double)(cur->bytes - prev->bytes) / seconds;
	}
	if (est > 0)
		out->mean_cycles_to_connect = (double)(cur->cycles_to_connect -
		    prev->cycles_to_connect) / (double)est;
	else if (cur->conns_established > 0)	/* nothing new: the run's mean */
		out->mean_cycles_to_connect = (double)cur->cycles_to_connect /
		    (double)cur->conns_established;
	out->ready_to_send = checks ? (double)(cur->ready - prev->ready) /
	    (double)checks : 1.0;
	out->fidelity = -1;
	if (cur->fid_checked > prev->fid_checked)
		out->fidelity = (double)(cur->fid_ok - prev->fid_ok) /
		    (double)(cur->fid_checked - prev->fid_checked);
	else if (cur->fid_checked > 0)	/* nothing new: the run's figure */
		out->fidelity = (double)cur->fid_ok / (double)cur->fid_checked;
	if (cur->cuts_possible > 0)
		out->coverage = (double)cur->cuts_used /
		    (double)cur->cuts_possible;
	if (ended > 0)
		out->fragments_per_conn = (double)(cur->fragments -
		    prev->fragments) / (double)ended;
}

/* Total findings in s. */
uint64_t
stats_findings(const struct stats *s)
{
	uint64_t	n = 0;

	for (int k = 0; k < FINDING__COUNT; k++)
		n += s->findings[k];
	return n;
}

/* Emits the figures in a fixed order. */
void
stats_visit(const struct stats *cur, const struct stats_rates *r,
    stats_emit_fn emit, void *arg)
{
	emit(arg, "rounds", STATS_COUNT, (double)cur->rounds);
	emit(arg, "mean_cycles_to_connect", STATS_RATIO,
	    r->mean_cycles_to_connect);
	emit(arg, "ready_to_send", STATS_RATIO, r->ready_to_send);
	emit(arg, "conns", STATS_COUNT, (double)cur->conns_started);
	emit(arg, "conns/s", STATS_RATE, r->conns_per_s);
	emit(arg, "frags/s", STATS_RATE, r->fragments_per_s);
	emit(arg, "bytes/s", STATS_RATE, r->bytes_per_s);
	emit(arg, "frags/conn", STATS_RATIO, r->fragments_per_conn);
	emit(arg, "fidelity", STATS_RATIO, r->fidelity);
	emit(arg, "coverage", STATS_RATIO, r->coverage);
	emit(arg, "compared", STATS_COUNT, (double)cur->compared);
	emit(arg, "candidates", STATS_COUNT, (double)cur->candidates);
	emit(arg, "unconfirmed", STATS_COUNT, (double)cur->unconfirmed);
	emit(arg, "drift", STATS_COUNT, (double)cur->drift);
	emit(arg, "unstable", STATS_COUNT, (double)cur->unstable);
	for (int k = 0; k < FINDING__COUNT; k++)
		emit(arg, finding_kind_name((enum finding_kind)k), STATS_COUNT,
		    (double)cur->findings[k]);
	emit(arg, "local_errors", STATS_COUNT, (double)cur->local_errors);
}

struct line {
	char	*buf;
	size_t	 len;
	size_t	 off;
};

/* Appends one "name=value" to a line. */
static void
line_emit(void *arg, const char *name, enum stats_type type, double value)
{
	struct line	*l = arg;
	int		 n;
	const char	*sep = l->off ? ", " : "";

	if (l->off >= l->len)
		return;
	switch (type) {
	case STATS_COUNT:
	case STATS_RATE:
		n = snprintf(l->buf + l->off, l->len - l->off, "%s%s=%.0f",
		    sep, name, value);
		break;
	case STATS_RATIO:
	default:
		if (value < 0)	/* not measured */
			n = snprintf(l->buf + l->off, l->len - l->off,
			    "%s%s=n/a", sep, name);
		else
			n = snprintf(l->buf + l->off, l->len - l->off,
			    "%s%s=%.2f", sep, name, value);
		break;
	}
	if (n < 0)
		return;
	l->off += (size_t)n;
	if (l->off >= l->len)
		l->off = l->len - 1;
}

/* Appends one "name":value member to a JSON object. */
static void
json_emit(void *arg, const char *name, enum stats_type type, double value)
{
	struct jbuf	*b = arg;

	jbuf_printf(b, "%s", b->len > 0 && b->s[b->len - 1] != '{' ? "," : "");
	jbuf_string(b, name, strlen(name));
	if (type == STATS_RATIO && value < 0)
		jbuf_append(b, ":null", 5);
	else if (type == STATS_RATIO)
		jbuf_printf(b, ":%.4f", value);
	else
		jbuf_printf(b, ":%.0f", value);
}

/* Appends the figures as one JSON object to b. */
void
stats_format_json(struct jbuf *b, const struct stats *cur,
    const struct stats_rates *r)
{
	jbuf_append(b, "{", 1);
	jbuf_printf(b, "\"seconds\":%.3f", r->seconds);
	stats_visit(cur, r, json_emit, b);
	jbuf_printf(b, ",\"fragments\":%llu,\"bytes\":%llu,\"conns_completed\":"
	    "%llu}", (unsigned long long)cur->fragments,
	    (unsigned long long)cur->bytes,
	    (unsigned long long)cur->conns_completed);
}

/* Formats the figures as "name=value, name=value" into buf. */
size_t
stats_format_line(char *buf, size_t len, const struct stats *cur,
    const struct stats_rates *r)
{
	struct line	l = { buf, len, 0 };

	if (len == 0)
		return 0;
	buf[0] = '\0';
	stats_visit(cur, r, line_emit, &l);
	return l.off;
}
