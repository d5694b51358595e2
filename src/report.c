/* The HTML report of a findings directory. */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "merge.h"
#include "report.h"
#include "summary.h"
#include "util.h"

#define REPORT_MAX_STATS	(256UL * 1024 * 1024)	/* bytes per stats file */
#define REPORT_MAX_BLOBS	5000	/* corpus rows shown */

/* Plot geometry (SVG user units). */
#define PW	1000
#define PH	260
#define PL	110
#define PR	20
#define PT	24
#define PB	40

static const char *const colors[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
	"#8c564b", "#e377c2",
};
#define NCOLORS	(sizeof colors / sizeof colors[0])

/* Writes s to f escaped for HTML. */
void
report_escape(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			if ((*p < 0x20 && *p != '\n' && *p != '\t') ||
			    *p == 0x7f)
				fprintf(f, "\\x%02x", *p);
			else
				fputc(*p, f);
			break;
		}
	}
}

/* Frees a series' arrays. */
void
report_series_clear(struct report_series *rs)
{
	free(rs->run_id);
	free(rs->t);
	free(rs->conns);
	free(rs->frags);
	free(rs->fidelity);
	free(rs->coverage);
	memset(rs, 0, sizeof *rs);
}

/* A number member of o, def when missing or null, -2 if it is not one. */
static double
member(const json_t *o, const char *key, double def)
{
	const json_t	*v = json_object_get(o, key);

	if (v == NULL || json_is_null(v))
		return def;
	return json_is_number(v) ? json_number_value(v) : -2;
}

/* Appends one parsed line to a series; -1 with *why if it is not a
 * statistics line. */
static int
series_add(struct report_series *rs, const json_t *o, double *t,
    const char **why)
{
	static const char *const bad[] = {
		"\"conns/s\" is not a number >= 0",
		"\"frags/s\" is not a number >= 0",
		"\"fidelity\" is not null or a number >= -1",
		"\"coverage\" is not a number >= 0",
	};
	double	secs = member(o, "seconds", -2), v[4];
	size_t	n = rs->n;

	v[0] = member(o, "conns/s", 0);
	v[1] = member(o, "frags/s", 0);
	v[2] = member(o, "fidelity", -1);
	v[3] = member(o, "coverage", 0);
	if (!json_is_object(o)) {
		*why = "not a JSON object";
		return -1;
	}
	if (secs < 0 || !isfinite(secs)) {
		*why = "\"seconds\" is missing or not a duration";
		return -1;
	}
	for (int i = 0; i < 4; i++) {
		if (v[i] < (i == 2 ? -1 : 0) || !isfinite(v[i])) {
			*why = bad[i];
			return -1;
		}
	}
	*t += secs;
	rs->t = xreallocarray(rs->t, n + 1, sizeof *rs->t);
	rs->conns = xreallocarray(rs->conns, n + 1, sizeof *rs->conns);
	rs->frags = xreallocarray(rs->frags, n + 1, sizeof *rs->frags);
	rs->fidelity = xreallocarray(rs->fidelity, n + 1,
	    sizeof *rs->fidelity);
	rs->coverage = xreallocarray(rs->coverage, n + 1,
	    sizeof *rs->coverage);
	rs->t[n] = *t;
	rs->conns[n] = v[0];
	rs->frags[n] = v[1];
	rs->fidelity[n] = v[2];
	rs->coverage[n] = v[3];
	rs->n++;
	return 0;
}

/* Reads one run's statistics lines into a series. */
int
report_parse_stats(struct report_series *rs, const char *text, size_t len,
    char **cause)
{
	const char	*p = text, *end = text + len;
	double		 t = 0;
	size_t		 line = 0;

	while (p < end) {
		const char	*nl = memchr(p, '\n', (size_t)(end - p));
		size_t		 n = nl != NULL ? (size_t)(nl - p) :
				    (size_t)(end - p);
		const char	*why = NULL;
		json_error_t	 err;
		json_t		*o;
		int		 bad;

		line++;
		if (n == 0) {
			p += 1;
			continue;
		}
		o = json_loadb(p, n, JSON_REJECT_DUPLICATES, &err);
		bad = o == NULL || series_add(rs, o, &t, &why) == -1;
		json_decref(o);
		if (bad && nl != NULL) {	/* a cut last line is a kill */
			*cause = xasprintf("line %zu is not a statistics "
			    "line: %s%s", line, o == NULL ? "not JSON: " : "",
			    o == NULL ? err.text : why);
			return -1;
		}
		p += n + (nl != NULL);
	}
	return 0;
}

/* Reads dir/name, a stats file, as a new series of r. */
static int
report_load_stats(struct report *r, const char *dir, const char *name,
    char **cause)
{
	char			*path = xasprintf("%s/%s", dir, name), *buf, *why;
	struct report_series	*rs;
	size_t			 n;
	int			 rc = -1;

	if ((buf = merge_read_file(path, REPORT_MAX_STATS, &n,
	    cause)) == NULL) {
		free(path);
		return -1;
	}
	r->series = xreallocarray(r->series, r->nseries + 1,
	    sizeof *r->series);
	rs = &r->series[r->nseries++];
	memset(rs, 0, sizeof *rs);
	rs->run_id = xasprintf("%.*s", (int)(strlen(name) - 12), name + 6);
	if (report_parse_stats(rs, buf, n, &why) == -1) {
		*cause = xasprintf("%s: %s", path, why);
		free(why);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	free(path);
	return rc;
}

/* Only stats-*.jsonl files. */
static int
stats_filter(const struct dirent *d)
{
	size_t	n = strlen(d->d_name);

	return n > 12 && strncmp(d->d_name, "stats-", 6) == 0 &&
	    strcmp(d->d_name + n - 6, ".jsonl") == 0;
}

/* Reads a findings directory. */
struct report *
report_load(const char *dir, char **cause)
{
	struct merge_config	 cfg = { .output = NULL };
	struct report		*r = xcalloc(1, sizeof *r);
	struct dirent		**ents = NULL;
	char			*d = xstrdup(dir);
	int			 n, rc = 0;

	r->sum = merge_dirs(&cfg, &d, 1, cause);
	free(d);
	if (r->sum == NULL) {
		free(r);
		return NULL;
	}
	n = scandir(dir, &ents, stats_filter, alphasort);
	for (int i = 0; i < n; i++) {
		if (rc == 0)
			rc = report_load_stats(r, dir, ents[i]->d_name, cause);
		free(ents[i]);
	}
	free(ents);
	if (rc == -1) {
		report_free(r);
		return NULL;
	}
	return r;
}

/* Frees a report; accepts NULL. */
void
report_free(struct report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nseries; i++)
		report_series_clear(&r->series[i]);
	free(r->series);
	summary_free(r->sum);
	free(r);
}

/* A round upper bound for an axis: 1, 2, 5 times a power of ten. */
static double
nice_max(double v)
{
	double	p = 1;

	if (!(v > 0) || !isfinite(v) || v > 1e15)
		return 1;
	while (p * 10 < v)
		p *= 10;
	while (p > v && p > 1e-6)
		p /= 10;
	if (v <= p)
		return p;
	if (v <= 2 * p)
		return 2 * p;
	if (v <= 5 * p)
		return 5 * p;
	return 10 * p;
}

/* Digits of n: a mark's size grows with the repeats it stands for. */
static int
digits(uint64_t n)
{
	int	d = 1;

	while (n >= 10) {
		n /= 10;
		d++;
	}
	return d;
}

/* Opens a plot: frame, grid, axis labels. */
static void
plot_open(FILE *f, const char *id, const char *ylabel, double xmax,
    double ymax, int percent)
{
	fprintf(f, "<svg class=\"plot\" id=\"%s\" viewBox=\"0 0 %d %d\" "
	    "width=\"%d\" height=\"%d\" role=\"img\">\n", id, PW, PH, PW, PH);
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
	    "class=\"frame\"/>\n", PL, PT, PW - PL - PR, PH - PT - PB);
	for (int i = 0; i <= 4; i++) {
		double	y = PT + (PH - PT - PB) * (4 - i) / 4.0;
		double	x = PL + (PW - PL - PR) * i / 4.0;

		fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" "
		    "class=\"grid\"/>", PL, PW - PR, y, y);
		if (percent)
			fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"yl\">"
			    "%.0f%%</text>", PL - 6, y + 4, ymax * i * 25);
		else
			fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"yl\">"
			    "%.*f</text>", PL - 6, y + 4, ymax >= 10 ? 0 : 2,
			    ymax * i / 4);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"xl\">%.4gs"
		    "</text>\n", x, PH - PB + 16, xmax * i / 4);
	}
	fprintf(f, "<text x=\"14\" y=\"%d\" class=\"axis\" transform=\"rotate"
	    "(-90 14 %d)\">", PH / 2, PH / 2);
	report_escape(f, ylabel);
	fprintf(f, "</text>\n");
}

/* One line of a plot; points with y < 0 (not measured) break it. */
static void
plot_line(FILE *f, const struct report_series *rs, const double *y,
    double xmax, double ymax, const char *color, const char *dash)
{
	size_t	stride = rs->n / REPORT_MAX_POINTS + 1;
	int	open = 0;

	for (size_t i = 0; i < rs->n; i += stride) {
		double	px = PL + (PW - PL - PR) * rs->t[i] / xmax;
		double	py = PT + (PH - PT - PB) * (1 - y[i] / ymax);

		if (y[i] < 0) {
			if (open)
				fprintf(f, "\"/>\n");
			open = 0;
			continue;
		}
		if (!open)
			fprintf(f, "<polyline class=\"series\" stroke=\"%s\"%s%s%s "
			    "points=\"", color, dash ? " stroke-dasharray=\"" :
			    "", dash ? dash : "", dash ? "\"" : "");
		fprintf(f, "%.1f,%.1f ", px, py);
		open = 1;
	}
	if (open)
		fprintf(f, "\"/>\n");
}

/* A legend entry at row i. */
static void
plot_legend(FILE *f, int i, const char *color, const char *label)
{
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"legend\" fill=\"%s\">",
	    PW - PR - 6, PT + 14 + 14 * i, color);
	report_escape(f, label);
	fprintf(f, "</text>\n");
}

/* The longest run's time, for the x axes. */
static double
report_xmax(const struct report *r)
{
	double	t = 0;

	for (size_t i = 0; i < r->nseries; i++)
		if (r->series[i].n > 0 && r->series[i].t[r->series[i].n - 1] > t)
			t = r->series[i].t[r->series[i].n - 1];
	for (size_t i = 0; i < r->sum->nfindings; i++)
		if (r->sum->findings[i].at_s > t)
			t = r->sum->findings[i].at_s;
	if (r->sum->seconds > t)
		t = r->sum->seconds;
	return nice_max(t);
}

/* Rates over time: fragments/s solid, connections/s dashed, per run. */
static void
plot_rates(FILE *f, const struct report *r, double xmax)
{
	double	ymax = 0;
	char	label[96];

	for (size_t i = 0; i < r->nseries; i++)
		for (size_t j = 0; j < r->series[i].n; j++) {
			if (r->series[i].frags[j] > ymax)
				ymax = r->series[i].frags[j];
			if (r->series[i].conns[j] > ymax)
				ymax = r->series[i].conns[j];
		}
	ymax = nice_max(ymax);
	plot_open(f, "rates", "per second", xmax, ymax, 0);
	for (size_t i = 0; i < r->nseries; i++) {
		const char	*c = colors[i % NCOLORS];

		plot_line(f, &r->series[i], r->series[i].frags, xmax, ymax, c,
		    NULL);
		plot_line(f, &r->series[i], r->series[i].conns, xmax, ymax, c,
		    "6 4");
		snprintf(label, sizeof label, "run %.8s: fragments/s (solid), "
		    "connections/s (dashed)", r->series[i].run_id);
		plot_legend(f, (int)i, c, label);
	}
	fprintf(f, "</svg>\n");
}

/* Fidelity (solid) and coverage (dashed) over time, per run. */
static void
plot_fidelity(FILE *f, const struct report *r, double xmax)
{
	char	label[96];

	plot_open(f, "fidelity", "fraction", xmax, 1, 1);
	for (size_t i = 0; i < r->nseries; i++) {
		const char	*c = colors[i % NCOLORS];

		plot_line(f, &r->series[i], r->series[i].fidelity, xmax, 1, c,
		    NULL);
		plot_line(f, &r->series[i], r->series[i].coverage, xmax, 1, c,
		    "6 4");
		snprintf(label, sizeof label, "run %.8s: fidelity (solid), cut "
		    "coverage (dashed)", r->series[i].run_id);
		plot_legend(f, (int)i, c, label);
	}
	fprintf(f, "</svg>\n");
}

/* The findings on the timeline: one row per kind, a mark per distinct
 * finding at its time, bigger for more repeats. */
static void
plot_timeline(FILE *f, const struct summary *s, double xmax)
{
	int	rows = FINDING__COUNT, h = PT + PB + 26 * rows;

	fprintf(f, "<svg class=\"plot\" id=\"timeline\" viewBox=\"0 0 %d %d\" "
	    "width=\"%d\" height=\"%d\" role=\"img\">\n", PW, h, PW, h);
	for (int k = 0; k < rows; k++) {
		int	y = PT + 26 * k + 13;

		fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" "
		    "class=\"grid\"/><text x=\"%d\" y=\"%d\" class=\"yl\">%s"
		    "</text>\n", PL, PW - PR, y, y, PL - 6, y + 4,
		    finding_kind_name((enum finding_kind)k));
	}
	for (int i = 0; i <= 4; i++)
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"xl\">%.4gs</text>",
		    PL + (PW - PL - PR) * i / 4.0, h - PB + 16, xmax * i / 4);
	for (size_t i = 0; i < s->nfindings; i++) {
		const struct summary_finding	*fd = &s->findings[i];
		double	x = PL + (PW - PL - PR) * fd->at_s / xmax;
		double	rad = 2 + 2 * digits(fd->count);

		fprintf(f, "<circle class=\"mark %s\" cx=\"%.1f\" cy=\"%d\" "
		    "r=\"%.1f\"><title>#%zu %s x%" PRIu64 " at %.3fs: ",
		    summary_fails(s, fd->kind) ? "fail" : "count", x,
		    PT + 26 * (int)fd->kind + 13, rad, i + 1,
		    finding_kind_name(fd->kind), fd->count, fd->at_s);
		report_escape(f, fd->blob ? fd->blob : fd->detail ?
		    fd->detail : "");
		fprintf(f, "</title></circle>\n");
	}
	fprintf(f, "</svg>\n");
}

/* A table cell with escaped text. */
static void
cell(FILE *f, const char *tag, const char *text)
{
	fprintf(f, "<%s>", tag);
	report_escape(f, text != NULL ? text : "");
	fprintf(f, "</%s>", tag);
}

/* Every distinct finding with its reproduce command. */
static void
table_findings(FILE *f, const struct summary *s)
{
	if (s->nfindings == 0) {
		fprintf(f, "<p>No findings.</p>\n");
		return;
	}
	fprintf(f, "<table id=\"findings\"><thead><tr><th>#</th><th>Kind</th>"
	    "<th>Count</th><th>Blob or detail</th><th>Cut</th><th>Phase</th>"
	    "<th>At</th><th>Record</th><th>Reproduce</th></tr></thead>"
	    "<tbody>\n");
	for (size_t i = 0; i < s->nfindings; i++) {
		const struct summary_finding	*fd = &s->findings[i];
		char				*cut = summary_cut_text(fd);

		fprintf(f, "<tr class=\"finding %s\"><td>%zu</td><td>%s</td>"
		    "<td>%" PRIu64 "</td>", summary_fails(s, fd->kind) ?
		    "fail" : "count", i + 1, finding_kind_name(fd->kind),
		    fd->count);
		cell(f, "td", fd->blob ? fd->blob : fd->detail);
		cell(f, "td", cut);
		cell(f, "td", fd->phase);
		fprintf(f, "<td>%.3fs</td>", fd->at_s);
		cell(f, "td", fd->record);
		fprintf(f, "<td><code class=\"reproduce\">");
		report_escape(f, fd->reproduce ? fd->reproduce : "");
		fprintf(f, "</code></td></tr>\n");
		free(cut);
	}
	fprintf(f, "</tbody></table>\n");
}

/* The corpus with each blob's cut coverage as a bar. */
static void
table_corpus(FILE *f, const struct summary *s)
{
	fprintf(f, "<table id=\"corpus\"><thead><tr><th>Blob</th><th>Bytes"
	    "</th><th>Cuts sent</th><th>Coverage</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < s->nblobs && i < REPORT_MAX_BLOBS; i++) {
		const struct summary_blob	*b = &s->blobs[i];
		double				 c = b->cuts_possible ?
		    (double)b->cuts_used / (double)b->cuts_possible : 0;

		fprintf(f, "<tr class=\"blob\">");
		cell(f, "td", b->name);
		fprintf(f, "<td>%zu</td><td>%" PRIu64 " of %" PRIu64 "</td>"
		    "<td><svg class=\"bar\" width=\"160\" height=\"12\">"
		    "<rect width=\"160\" height=\"12\" class=\"barbg\"/>"
		    "<rect width=\"%.1f\" height=\"12\" class=\"barfg\"/>"
		    "</svg> %.0f%%</td></tr>\n", b->size, b->cuts_used,
		    b->cuts_possible, 160 * c, 100 * c);
	}
	fprintf(f, "</tbody></table>\n");
	if (s->nblobs > REPORT_MAX_BLOBS)
		fprintf(f, "<p>%zu more blob%s not shown.</p>\n",
		    s->nblobs - REPORT_MAX_BLOBS,
		    s->nblobs - REPORT_MAX_BLOBS == 1 ? "" : "s");
}

static const char report_style[] =
"body{font:14px/1.4 sans-serif;margin:24px;color:#222;max-width:1100px}"
"h1{font-size:22px}h2{font-size:17px;margin-top:28px}"
"table{border-collapse:collapse;margin:8px 0}"
"td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;"
"vertical-align:top}th{background:#f0f0f0}"
"code{font:12px monospace;word-break:break-all}"
".verdict{font-weight:bold;padding:6px 10px;display:inline-block}"
".verdict.fail{background:#fdd;color:#900}"
".verdict.pass{background:#dfd;color:#060}"
"tr.fail td:nth-child(2){color:#b00;font-weight:bold}"
".frame{fill:none;stroke:#888}.grid{stroke:#e4e4e4}"
".series{fill:none;stroke-width:1.6}"
".yl{text-anchor:end;font-size:11px;fill:#555}"
".xl{text-anchor:middle;font-size:11px;fill:#555}"
".axis{text-anchor:middle;font-size:12px;fill:#333}"
".legend{text-anchor:end;font-size:12px}"
".mark.fail{fill:#d62728;fill-opacity:.7}"
".mark.count{fill:#ff7f0e;fill-opacity:.7}"
".barbg{fill:#eee}.barfg{fill:#2ca02c}";

/* The head and the figures of the page. */
static void
report_head(FILE *f, const struct report *r, const char *dir)
{
	const struct summary	*s = r->sum;
	uint64_t		 failing = summary_failing(s);

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset="
	    "\"utf-8\"><title>stutterfuzz report: ");
	report_escape(f, dir);
	fprintf(f, "</title><style>%s</style></head><body>\n<h1>stutterfuzz "
	    "report: ", report_style);
	report_escape(f, dir);
	fprintf(f, "</h1>\n<p class=\"verdict %s\">%s</p>\n<table id="
	    "\"figures\">", failing ? "fail" : "pass", failing ?
	    "Findings of a failing kind" : "Clean");
	fprintf(f, "<tr>");
	cell(f, "th", "Target");
	cell(f, "td", s->target ? s->target : "(unknown)");
	fprintf(f, "</tr><tr><th>Runs</th><td>%zu (longest %.1f s)</td></tr>"
	    "<tr><th>Connections</th><td>%" PRIu64 "</td></tr><tr><th>"
	    "Fragments</th><td>%" PRIu64 "</td></tr><tr><th>Findings</th><td>",
	    s->nruns, s->seconds, s->totals.conns_started, s->totals.fragments);
	for (int k = 0; k < FINDING__COUNT; k++)
		fprintf(f, "%s=%" PRIu64 " ", finding_kind_name(
		    (enum finding_kind)k), s->totals.findings[k]);
	fprintf(f, "(%zu distinct)</td></tr>", s->nfindings);
	if (s->totals.fid_checked > 0)
		fprintf(f, "<tr><th>Boundary fidelity</th><td>%.2f</td></tr>",
		    (double)s->totals.fid_ok / (double)s->totals.fid_checked);
	fprintf(f, "</table>\n");
}

/* Writes the page for r. */
int
report_write(const struct report *r, const char *dir, const char *path,
    char **cause)
{
	FILE	*f = fopen(path, "we");
	double	 xmax = report_xmax(r);
	size_t	 points = 0;
	int	 bad;

	if (f == NULL) {
		*cause = xasprintf("--output %s: %s", path, strerror(errno));
		return -1;
	}
	report_head(f, r, dir);
	fprintf(f, "<h2>Rates over time</h2>\n");
	plot_rates(f, r, xmax);
	fprintf(f, "<h2>Boundary fidelity and cut coverage over time</h2>\n");
	plot_fidelity(f, r, xmax);
	for (size_t i = 0; i < r->nseries; i++)
		points += r->series[i].n;
	if (points == 0)
		fprintf(f, "<p>No statistics lines in this directory (a run "
		    "writes one per --stats-interval).</p>\n");
	fprintf(f, "<h2>Findings on the timeline</h2>\n");
	plot_timeline(f, r->sum, xmax);
	fprintf(f, "<h2>Findings</h2>\n");
	table_findings(f, r->sum);
	fprintf(f, "<h2>Corpus and cut coverage</h2>\n");
	table_corpus(f, r->sum);
	fprintf(f, "</body></html>\n");
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		*cause = xasprintf("--output %s: write failed", path);
		return -1;
	}
	return 0;
}
