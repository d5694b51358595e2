/* stutterfuzz report DIR --output=FILE.html */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "report.h"
#include "summary.h"

static const char report_usage[] =
"usage: stutterfuzz report DIR --output=FILE.html\n"
"Writes one self-contained HTML page about a findings directory (of a run\n"
"or a merge): rates and boundary fidelity over time, the findings on that\n"
"timeline, the corpus with each blob's cut coverage, and every finding with\n"
"its reproduce command. Exit 0 written, 2 bad input, 3 not written.\n";

static const struct option report_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* A usage problem of report. */
static int
report_usage_error(const char *what)
{
	fprintf(stderr, "stutterfuzz report: %s (see stutterfuzz report "
	    "--help)\n", what);
	return EXIT_USAGE;
}

/* stutterfuzz report: one HTML page about a findings directory. */
int
cmd_report(int argc, char **argv)
{
	const char	*out = NULL;
	struct report	*r;
	char		*cause = NULL;
	int		 c, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", report_options, NULL)) !=
	    -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'h':
			fputs(report_usage, stdout);
			return EXIT_CLEAN;
		default:
			return report_usage_error("unknown option");
		}
	}
	if (out == NULL || *out == '\0')
		return report_usage_error("--output=FILE.html is required");
	if (argc - optind != 1)
		return report_usage_error("give exactly one findings directory");
	r = report_load(argv[optind], &cause);
	if (r == NULL) {
		fprintf(stderr, "stutterfuzz report: %s\n", cause);
		free(cause);
		return EXIT_USAGE;
	}
	status = EXIT_CLEAN;
	if (report_write(r, argv[optind], out, &cause) == -1) {
		fprintf(stderr, "stutterfuzz report: %s\n", cause);
		free(cause);
		status = EXIT_RUNTIME;
	} else {
		fprintf(stderr, "Report: %s (%zu run%s, %zu distinct finding%s, "
		    "%zu blob%s)\n", out, r->sum->nruns, r->sum->nruns == 1 ?
		    "" : "s", r->sum->nfindings, r->sum->nfindings == 1 ? "" :
		    "s", r->sum->nblobs, r->sum->nblobs == 1 ? "" : "s");
	}
	report_free(r);
	return status;
}
