/* Statistics: counters, rates and formatting through a visitor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"	/* jbuf, for stats_format_json's callers */
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
	emit(arg, "refreshes", STATS_COUNT, (double)cur->refreshes);
	for (int k = 0; k < FINDING__COUNT; k++)
		emit(arg, finding_kind_name((enum finding_kind)k), STATS_COUNT,
		    (double)cur->findings[k]);
	emit(arg, "local_errors", STATS_COUNT, (double)cur->local_errors);
	emit(arg, "lost_with_target", STATS_COUNT,
	    (double)cur->lost_with_target);
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

/* Appends the figures as one JSON object to b. */
void
stats_format_json(struct jbuf *b, const struct stats *cur,
    const struct stats_rates *r)
{
	char	*s = stats_json_line(cur, r);

	jbuf_append(b, s, strlen(s));
	free(s);
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

/* The live line's figures, most useful first (names of stats_visit, and
 * "findings" for their total). */
static const char *const fit_order[] = {
	"frags/s", "conns/s", "fidelity", "findings", "conns", "coverage",
	"local_errors", "rounds", "bytes/s", "frags/conn", "ready_to_send",
	"mean_cycles_to_connect",
};

#define FIT_MAX	32

struct fit {
	struct {
		const char	*name;
		char		 text[64];
	}	item[FIT_MAX];
	size_t	n;
};

/* Keeps one figure's "name=value" for the fitted line. */
static void
fit_emit(void *arg, const char *name, enum stats_type type, double value)
{
	struct fit	*f = arg;
	char		 line[64];
	struct line	 l = { line, sizeof line, 0 };

	if (f->n >= FIT_MAX)
		return;
	line_emit(&l, name, type, value);
	f->item[f->n].name = name;
	snprintf(f->item[f->n].text, sizeof f->item[f->n].text, "%s", line);
	f->n++;
}

/* Formats as many figures as fit in width columns, most useful first. */
size_t
stats_format_fit(char *buf, size_t len, size_t width, const struct stats *cur,
    const struct stats_rates *r)
{
	struct fit	f = { .n = 0 };
	size_t		off = 0;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	stats_visit(cur, r, fit_emit, &f);
	if (f.n < FIT_MAX) {
		f.item[f.n].name = "findings";
		snprintf(f.item[f.n].text, sizeof f.item[f.n].text,
		    "findings=%llu", (unsigned long long)stats_findings(cur));
		f.n++;
	}
	for (size_t i = 0; i < sizeof fit_order / sizeof fit_order[0]; i++) {
		for (size_t j = 0; j < f.n; j++) {
			size_t	need;

			if (strcmp(f.item[j].name, fit_order[i]) != 0)
				continue;
			need = strlen(f.item[j].text) + (off ? 1 : 0);
			if (off + need > width || off + need >= len)
				return off;	/* the rest would be less useful */
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
			    off ? " " : "", f.item[j].text);
			break;
		}
	}
	return off;
}
