/* The files rendered from a summary model. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gha.h"
#include "junit.h"
#include "output.h"
#include "sarif.h"
#include "summary.h"
#include "util.h"

/* Each output: its name in messages, its writer, how the file opens. */
static const struct {
	const char	*name;
	char		*(*render)(const struct summary *);
	int		 append;
} outputs[OUTPUT__COUNT] = {
	[OUTPUT_SUMMARY] = { "--summary", summary_json, 0 },
	[OUTPUT_JUNIT] = { "--junit", junit_xml, 0 },
	[OUTPUT_SARIF] = { "--sarif", sarif_json, 0 },
	[OUTPUT_KEEP] = { "--findings-dir summary", summary_json, 0 },
	[OUTPUT_STEP_SUMMARY] = { "GITHUB_STEP_SUMMARY", gha_step_summary, 1 },
};

/* What an output is called in messages. */
const char *
output_name(enum output_kind k)
{
	return outputs[k].name;
}

/* Fills p's GitHub paths from the environment. */
void
output_from_env(struct output_paths *p)
{
	const char	*step = getenv("GITHUB_STEP_SUMMARY");

	if (step != NULL && *step != '\0')
		p->path[OUTPUT_STEP_SUMMARY] = step;
}

/* Writes one output (util's output files: the same messages as every
 * output file of a run). */
int
output_write(const struct summary *s, enum output_kind k, const char *path,
    char **cause)
{
	const char	*what = outputs[k].name;
	char		*text;
	FILE		*f;
	int		 err;

	if (outputs[k].append) {
		f = fopen(path, "ae");
		if (f == NULL) {
			*cause = xasprintf("%s %s: %s", what, path,
			    strerror(errno));
			return -1;
		}
	} else if ((f = util_output_open(what, path, cause)) == NULL)
		return -1;
	text = outputs[k].render(s);
	/* A text past the stdio buffer fails here: keep its errno. */
	err = fputs(text, f) == EOF ? errno : 0;
	free(text);
	return util_output_close(f, what, path, err, cause);
}

/* The GitHub annotations when running in GitHub Actions. */
char *
output_annotations(const struct summary *s)
{
	const char	*gha = getenv("GITHUB_ACTIONS");

	if (gha == NULL || strcmp(gha, "true") != 0)
		return NULL;
	return gha_annotations(s);
}
