/* The outputs of a run or a merge, written and reported (main-level). */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "output.h"
#include "summary.h"

/* Writes every output asked for; prints what failed and the annotations. */
int
cmd_write_outputs(const struct summary *s, struct output_paths *p)
{
	char	*cause = NULL, *notes;
	int	 failed = 0;

	output_from_env(p);
	for (int k = 0; k < OUTPUT__COUNT; k++) {
		if (p->path[k] == NULL)
			continue;
		if (output_write(s, (enum output_kind)k, p->path[k],
		    &cause) == -1) {
			fprintf(stderr, "stutterfuzz: %s\n", cause);
			free(cause);
			cause = NULL;
			failed++;
		}
	}
	notes = output_annotations(s);
	if (notes != NULL) {
		fputs(notes, stdout);
		fflush(stdout);
		free(notes);
	}
	return failed;
}
