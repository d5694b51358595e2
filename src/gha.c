/* GitHub Actions annotations and step summary over the summary model. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gha.h"
#include "json.h"
#include "sarif.h"
#include "summary.h"
#include "util.h"

/* Appends s with %, CR and LF (and, for properties, : and ,) encoded. */
static void
gha_escape(struct jbuf *b, const char *s, int property)
{
	jbuf_append(b, "", 0);
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '%':
			jbuf_append(b, "%25", 3);
			break;
		case '\r':
			jbuf_append(b, "%0D", 3);
			break;
		case '\n':
			jbuf_append(b, "%0A", 3);
			break;
		case ':':
			jbuf_append(b, property ? "%3A" : ":", property ? 3 : 1);
			break;
		case ',':
			jbuf_append(b, property ? "%2C" : ",", property ? 3 : 1);
			break;
		default:
			jbuf_append(b, s, 1);
			break;
		}
	}
}

/* Appends s escaped as a workflow command's message. */
void
gha_escape_data(struct jbuf *b, const char *s)
{
	gha_escape(b, s, 0);
}

/* Appends s escaped as a workflow command's property. */
void
gha_escape_property(struct jbuf *b, const char *s)
{
	gha_escape(b, s, 1);
}

/* Appends s escaped for a Markdown table cell. */
void
gha_markdown_cell(struct jbuf *b, const char *s)
{
	jbuf_append(b, "", 0);
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			jbuf_append(b, "&amp;", 5);
			break;
		case '<':
			jbuf_append(b, "&lt;", 4);
			break;
		case '>':
			jbuf_append(b, "&gt;", 4);
			break;
		case '\r':
		case '\n':
			jbuf_append(b, " ", 1);
			break;
		case '|':
		case '\\':
		case '`':
		case '*':
		case '_':
		case '[':
		case ']':
		case '#':
			jbuf_append(b, "\\", 1);
			jbuf_append(b, s, 1);
			break;
		default:
			jbuf_append(b, s, 1);
			break;
		}
	}
}

/* One annotation line for a finding. */
static void
annotation(struct jbuf *b, const struct summary *s,
    const struct summary_finding *f)
{
	char	*cut = summary_cut_text(f), *title, *msg;

	title = xasprintf("stutterfuzz %s%s%s", finding_kind_name(f->kind),
	    f->blob ? ": blob " : "", f->blob ? f->blob : "");
	if (f->blob != NULL)
		msg = xasprintf("%s x%" PRIu64 ": blob %s, cut %s\nrecord: %s\n"
		    "reproduce: %s", finding_kind_name(f->kind), f->count,
		    f->blob, cut, f->record ? f->record : "(none written)",
		    f->reproduce ? f->reproduce : "(no record)");
	else
		msg = xasprintf("%s x%" PRIu64 ": %s\nrecord: %s\nreproduce: %s",
		    finding_kind_name(f->kind), f->count, f->detail ?
		    f->detail : "?", f->record ? f->record : "(none written)",
		    f->reproduce ? f->reproduce : "(no record)");
	jbuf_printf(b, "::%s ", summary_fails(s, f->kind) ? "error" :
	    "warning");
	if (f->blob != NULL && s->blob_dir != NULL && s->blob_dir[0] != '/') {
		char	*file = xasprintf("%s/%s", s->blob_dir, f->blob);

		jbuf_printf(b, "file=");
		gha_escape_property(b, file);
		jbuf_printf(b, ",");
		free(file);
	}
	jbuf_printf(b, "title=");
	gha_escape_property(b, title);
	jbuf_printf(b, "::");
	gha_escape_data(b, msg);
	jbuf_printf(b, "\n");
	free(title);
	free(msg);
	free(cut);
}

/* The annotation lines. */
char *
gha_annotations(const struct summary *s)
{
	struct jbuf	b = { 0 };

	jbuf_append(&b, "", 0);
	for (size_t i = 0; i < s->nfindings && i < GHA_MAX_ANNOTATIONS; i++)
		annotation(&b, s, &s->findings[i]);
	if (s->nfindings > GHA_MAX_ANNOTATIONS || s->over_cap > 0)
		jbuf_printf(&b, "::notice title=stutterfuzz::%" PRIu64 " more "
		    "distinct findings are in the summary and the records\n",
		    (uint64_t)(s->nfindings > GHA_MAX_ANNOTATIONS ?
		    s->nfindings - GHA_MAX_ANNOTATIONS : 0) + s->over_cap);
	return b.s;
}

/* The distinct findings as a Markdown table. */
static void
findings_table(struct jbuf *b, const struct summary *s)
{
	jbuf_printf(b, "\n| Kind | Blob or detail | Cut | Count | Record | "
	    "Reproduce |\n|---|---|---|---:|---|---|\n");
	for (size_t i = 0; i < s->nfindings; i++) {
		const struct summary_finding	*f = &s->findings[i];
		char				*cut = summary_cut_text(f);

		jbuf_printf(b, "| %s | ", finding_kind_name(f->kind));
		gha_markdown_cell(b, f->blob ? f->blob : f->detail ?
		    f->detail : "");
		jbuf_printf(b, " | ");
		gha_markdown_cell(b, cut);
		jbuf_printf(b, " | %" PRIu64 " | ", f->count);
		gha_markdown_cell(b, f->record ? f->record : "");
		jbuf_printf(b, " | ");
		gha_markdown_cell(b, f->reproduce ? f->reproduce : "");
		jbuf_printf(b, " |\n");
		free(cut);
	}
}

/* The step summary in Markdown. */
char *
gha_step_summary(const struct summary *s)
{
	struct jbuf	 b = { 0 };
	uint64_t	 failing = summary_failing(s);

	jbuf_printf(&b, "## stutterfuzz%s: %s\n\n", s->merged ? " merge" : "",
	    failing > 0 ? "findings that fail the run" : "clean");
	if (s->target != NULL) {
		jbuf_printf(&b, "Target ");
		gha_markdown_cell(&b, s->target);
		jbuf_printf(&b, ", ");
	}
	if (s->merged)
		jbuf_printf(&b, "%zu runs, ", s->nruns);
	jbuf_printf(&b, "%.1f s, %" PRIu64 " connections, %" PRIu64
	    " fragments, exit %d", s->seconds, s->totals.conns_started,
	    s->totals.fragments, s->exit_code);
	if (s->seed_set)
		jbuf_printf(&b, ", seed %" PRIu64, s->seed);
	jbuf_printf(&b, ".\n\n| Kind | Findings | Distinct | Verdict |\n"
	    "|---|---:|---:|---|\n");
	for (int k = 0; k < FINDING__COUNT; k++) {
		uint64_t	distinct = 0;

		for (size_t i = 0; i < s->nfindings; i++)
			distinct += s->findings[i].kind == (enum finding_kind)k;
		jbuf_printf(&b, "| %s | %" PRIu64 " | %" PRIu64 " | %s |\n",
		    finding_kind_name((enum finding_kind)k), s->totals.findings[k],
		    distinct, s->totals.findings[k] == 0 ? "pass" :
		    summary_fails(s, (enum finding_kind)k) ? "**fail**" :
		    "counted");
	}
	if (s->nfindings > 0)
		findings_table(&b, s);
	return b.s;
}
