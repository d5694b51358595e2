/* JUnit XML over the summary model. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "junit.h"
#include "summary.h"
#include "util.h"

/* Appends s escaped for XML. */
void
junit_escape(struct jbuf *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;

	jbuf_append(b, "", 0);
	for (; *p != '\0'; p++) {
		switch (*p) {
		case '&':
			jbuf_append(b, "&amp;", 5);
			continue;
		case '<':
			jbuf_append(b, "&lt;", 4);
			continue;
		case '>':
			jbuf_append(b, "&gt;", 4);
			continue;
		case '"':
			jbuf_append(b, "&quot;", 6);
			continue;
		case '\'':
			jbuf_append(b, "&apos;", 6);
			continue;
		case '\t':
		case '\n':
		case '\r':
			jbuf_printf(b, "&#%d;", *p);
			continue;
		}
		if (*p < 0x20 || *p == 0x7f)
			jbuf_printf(b, "\\x%02x", *p);
		else if (p[0] == 0xef && p[1] == 0xbf &&
		    (p[2] == 0xbe || p[2] == 0xbf)) {	/* U+FFFE, U+FFFF */
			jbuf_printf(b, "\\u%s", p[2] == 0xbe ? "fffe" : "ffff");
			p += 2;
		} else
			jbuf_append(b, (const char *)p, 1);
	}
}

/* Appends one <property>. */
static void
property(struct jbuf *b, const char *name, const char *value)
{
	jbuf_printf(b, "   <property name=\"");
	junit_escape(b, name);
	jbuf_printf(b, "\" value=\"");
	junit_escape(b, value);
	jbuf_printf(b, "\"/>\n");
}

/* stats_visit callback: a figure as a property. */
static void
figure(void *arg, const char *name, enum stats_type type, double value)
{
	char	v[64];

	if (type == STATS_RATIO && value < 0)
		snprintf(v, sizeof v, "n/a");
	else if (type == STATS_RATIO)
		snprintf(v, sizeof v, "%.4f", value);
	else
		snprintf(v, sizeof v, "%.0f", value);
	property(arg, name, v);
}

/* The <properties> of a suite. */
static void
properties(struct jbuf *b, const struct summary *s)
{
	struct stats		zero = { 0 };
	struct stats_rates	rates;
	char			v[64];

	jbuf_printf(b, "  <properties>\n");
	if (s->seed_set) {
		snprintf(v, sizeof v, "%" PRIu64, s->seed);
		property(b, "seed", v);
	}
	property(b, "target", s->target ? s->target : "");
	property(b, "pace", s->pace ? s->pace : "");
	property(b, "stopped", s->stopped ? s->stopped : "");
	snprintf(v, sizeof v, "%d", s->exit_code);
	property(b, "exit_code", v);
	snprintf(v, sizeof v, "%.3f", s->seconds);
	property(b, "seconds", v);
	if (s->merged) {
		snprintf(v, sizeof v, "%zu", s->nruns);
		property(b, "runs", v);
	}
	stats_rates(&s->totals, &zero, s->seconds, &rates);
	stats_visit(&s->totals, &rates, figure, b);
	snprintf(v, sizeof v, "%" PRIu64, s->totals.fragments);
	property(b, "fragments", v);
	snprintf(v, sizeof v, "%" PRIu64, s->totals.bytes);
	property(b, "bytes", v);
	jbuf_printf(b, "  </properties>\n");
}

/* Appends the lines that describe one distinct finding. */
static void
finding_text(struct jbuf *b, const struct summary_finding *f)
{
	char	*cut = summary_cut_text(f);
	struct jbuf t = { 0 };

	jbuf_printf(&t, "%s x%" PRIu64 ": ", finding_kind_name(f->kind),
	    f->count);
	if (f->blob != NULL)
		jbuf_printf(&t, "blob %s, cut %s", f->blob, cut);
	else
		jbuf_printf(&t, "%s", f->detail ? f->detail : "(no detail)");
	jbuf_printf(&t, "\n  record: %s\n  reproduce: %s\n", f->record ?
	    f->record : "(none written)", f->reproduce ? f->reproduce :
	    "(no record)");
	junit_escape(b, t.s);
	jbuf_free(&t);
	free(cut);
}

/* One <testcase> per kind, failing when a failing kind was found. */
static void
testcase(struct jbuf *b, const struct summary *s, enum finding_kind k)
{
	const char	*name = finding_kind_name(k);
	uint64_t	 n = s->totals.findings[k], distinct = 0;

	jbuf_printf(b, "  <testcase name=\"%s\" classname=\"stutterfuzz\" "
	    "time=\"%.3f\"", name, s->seconds);
	if (n == 0 || !summary_fails(s, k)) {
		jbuf_printf(b, "/>\n");
		return;
	}
	for (size_t i = 0; i < s->nfindings; i++)
		distinct += s->findings[i].kind == k;
	jbuf_printf(b, ">\n   <failure type=\"%s\" message=\"%" PRIu64
	    " %s finding%s, %" PRIu64 " distinct\">", name, n, name,
	    n == 1 ? "" : "s", distinct);
	for (size_t i = 0; i < s->nfindings; i++)
		if (s->findings[i].kind == k)
			finding_text(b, &s->findings[i]);
	jbuf_printf(b, "</failure>\n  </testcase>\n");
}

/* The <system-out>: findings that are counted but do not fail. */
static void
system_out(struct jbuf *b, const struct summary *s)
{
	jbuf_printf(b, "  <system-out>");
	for (size_t i = 0; i < s->nfindings; i++)
		if (!summary_fails(s, s->findings[i].kind))
			finding_text(b, &s->findings[i]);
	if (s->over_cap > 0)
		jbuf_printf(b, "%" PRIu64 " more distinct findings are only "
		    "counted&#10;", s->over_cap);
	jbuf_printf(b, "</system-out>\n  <system-err></system-err>\n");
}

/* The JUnit XML document. */
char *
junit_xml(const struct summary *s)
{
	struct jbuf	 b = { 0 };
	char		 host[256] = "localhost";
	int		 failures = 0;

	if (gethostname(host, sizeof host) == -1 || host[0] == '\0')
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	for (int k = 0; k < FINDING__COUNT; k++)
		failures += s->totals.findings[k] > 0 &&
		    summary_fails(s, (enum finding_kind)k);
	jbuf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuites>\n <testsuite name=\"stutterfuzz%s", s->merged ?
	    " merge" : "");
	if (s->target != NULL) {
		jbuf_printf(&b, " ");
		junit_escape(&b, s->target);
	}
	jbuf_printf(&b, "\" package=\"stutterfuzz\" id=\"0\" timestamp=\"%s\" "
	    "hostname=\"", s->started ? s->started : "1970-01-01T00:00:00");
	junit_escape(&b, host);
	jbuf_printf(&b, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" "
	    "skipped=\"0\" time=\"%.3f\">\n", FINDING__COUNT, failures,
	    isfinite(s->seconds) ? s->seconds : 0.0);
	properties(&b, s);
	for (int k = 0; k < FINDING__COUNT; k++)
		testcase(&b, s, (enum finding_kind)k);
	system_out(&b, s);
	jbuf_printf(&b, " </testsuite>\n</testsuites>\n");
	return b.s;
}
