/*
 * The files rendered from a summary model: the JSON summary, JUnit XML,
 * SARIF, the GitHub step summary; and the GitHub annotations (text that
 * the caller prints). Files only; the caller reports failures.
 */
#ifndef STUTTERFUZZ_OUTPUT_H
#define STUTTERFUZZ_OUTPUT_H

struct summary;

enum output_kind {
	OUTPUT_SUMMARY,		/* --summary: JSON */
	OUTPUT_JUNIT,		/* --junit */
	OUTPUT_SARIF,		/* --sarif */
	OUTPUT_KEEP,		/* the JSON summary kept in the findings dir */
	OUTPUT_STEP_SUMMARY,	/* $GITHUB_STEP_SUMMARY, appended to */
	OUTPUT__COUNT
};

/* Where each output goes; NULL: not written. */
struct output_paths {
	const char	*path[OUTPUT__COUNT];
};

/* What an output is called in messages ("--junit", ...). */
const char	*output_name(enum output_kind k);

/* Fills p's GitHub paths from the environment ($GITHUB_STEP_SUMMARY). */
void		 output_from_env(struct output_paths *p);

/* Writes one output. Returns 0, or -1 with *cause naming the file. */
int		 output_write(const struct summary *s, enum output_kind k,
		     const char *path, char **cause);

/* The GitHub annotations when GITHUB_ACTIONS is "true", else NULL
 * (allocated). */
char		*output_annotations(const struct summary *s);

#endif
