/*
 * GitHub Actions over the summary model: a workflow command
 * ("::error title=...::...") per distinct finding, and a Markdown step
 * summary. Text only; main decides where it goes.
 */
#ifndef STUTTERFUZZ_GHA_H
#define STUTTERFUZZ_GHA_H

#define GHA_MAX_ANNOTATIONS	50	/* GitHub shows at most 50 per job */

struct jbuf;
struct summary;

/* Appends s escaped as a workflow command's message (%, CR, LF). */
void	 gha_escape_data(struct jbuf *b, const char *s);

/* Appends s escaped as a workflow command's property (also ':' and ','). */
void	 gha_escape_property(struct jbuf *b, const char *s);

/* Appends s escaped for a Markdown table cell. */
void	 gha_markdown_cell(struct jbuf *b, const char *s);

/* The annotation lines, one per distinct finding (allocated; "" if none). */
char	*gha_annotations(const struct summary *s);

/* The step summary in Markdown (allocated). */
char	*gha_step_summary(const struct summary *s);

#endif
