/*
 * stutterfuzz merge --output=DIR [--junit=FILE] [--sarif=FILE]
 *     [--summary=FILE] [--fail-on=KINDS] DIR...
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "finding.h"
#include "merge.h"
#include "output.h"
#include "summary.h"
#include "util.h"

#define MERGE_PRINT	10	/* distinct findings listed on stderr */

static const char merge_usage[] =
"usage: stutterfuzz merge --output=DIR [--junit=FILE] [--sarif=FILE]\n"
"                         [--summary=FILE] [--fail-on=KINDS] DIR...\n"
"Unites findings directories (shards, runs) into DIR: records deduplicated\n"
"by kind, blob bytes and cut, counts added, each run counted once, and one\n"
"summary (DIR/summary.json). Exit 1 when a finding of a failing kind is\n"
"among them (--fail-on, else the kinds the runs failed on), 0 when clean,\n"
"2 when an input is not a findings directory or a record does not load.\n";

enum {
	MO_OUTPUT = 1,
	MO_JUNIT,
	MO_SARIF,
	MO_SUMMARY,
	MO_FAIL_ON,
};

static const struct option merge_options[] = {
	{ "output", required_argument, NULL, MO_OUTPUT },
	{ "junit", required_argument, NULL, MO_JUNIT },
	{ "sarif", required_argument, NULL, MO_SARIF },
	{ "summary", required_argument, NULL, MO_SUMMARY },
	{ "fail-on", required_argument, NULL, MO_FAIL_ON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* A usage problem of merge. */
static int
merge_usage_error(const char *what)
{
	fprintf(stderr, "stutterfuzz merge: %s (see stutterfuzz merge "
	    "--help)\n", what);
	return EXIT_USAGE;
}

/* Parses merge's options into cfg and p; returns -1 (and *status) to stop. */
static int
merge_parse(int argc, char **argv, struct merge_config *cfg,
    struct output_paths *p, int *status)
{
	char	*cause = NULL;
	int	 c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", merge_options, NULL)) != -1) {
		switch (c) {
		case MO_OUTPUT:
			cfg->output = optarg;
			break;
		case MO_JUNIT:
			p->path[OUTPUT_JUNIT] = optarg;
			break;
		case MO_SARIF:
			p->path[OUTPUT_SARIF] = optarg;
			break;
		case MO_SUMMARY:
			p->path[OUTPUT_SUMMARY] = optarg;
			break;
		case MO_FAIL_ON:
			if (finding_parse_kinds(optarg, &cfg->fail_on,
			    &cause) == -1) {
				char	*m = xasprintf("--fail-on: %s", cause);

				*status = merge_usage_error(m);
				free(m);
				free(cause);
				return -1;
			}
			cfg->fail_on_set = 1;
			break;
		case 'h':
			fputs(merge_usage, stdout);
			*status = EXIT_CLEAN;
			return -1;
		default:
			*status = merge_usage_error("unknown option");
			return -1;
		}
	}
	if (cfg->output == NULL || *cfg->output == '\0') {
		*status = merge_usage_error("--output=DIR is required");
		return -1;
	}
	if (optind >= argc) {
		*status = merge_usage_error("no findings directory to merge");
		return -1;
	}
	return 0;
}

/* Prints what the merge found. */
static void
merge_print(const struct summary *s, size_t ndirs)
{
	fprintf(stderr, "Merged %zu run%s from %zu director%s into %s: %zu "
	    "distinct finding%s\n", s->nruns, s->nruns == 1 ? "" : "s", ndirs,
	    ndirs == 1 ? "y" : "ies", s->findings_dir, s->nfindings,
	    s->nfindings == 1 ? "" : "s");
	fprintf(stderr, "  findings:");
	for (int k = 0; k < FINDING__COUNT; k++)
		fprintf(stderr, " %s=%" PRIu64, finding_kind_name(
		    (enum finding_kind)k), s->totals.findings[k]);
	fprintf(stderr, "; connections=%" PRIu64 " fragments=%" PRIu64 "\n",
	    s->totals.conns_started, s->totals.fragments);
	for (size_t i = 0; i < s->nfindings && i < MERGE_PRINT; i++) {
		const struct summary_finding	*f = &s->findings[i];

		fprintf(stderr, "  %s x%" PRIu64 " %s%s: %s\n",
		    finding_kind_name(f->kind), f->count, f->blob ? "blob " :
		    "", f->blob ? f->blob : f->detail ? f->detail : "",
		    f->reproduce ? f->reproduce : "");
	}
	if (s->nfindings > MERGE_PRINT)
		fprintf(stderr, "  (%zu more in %s/%s)\n", s->nfindings -
		    MERGE_PRINT, s->findings_dir, MERGE_SUMMARY);
}

/* Prints the merge's verdict. */
static void
merge_result(const struct summary *s, int status)
{
	uint64_t	failing = summary_failing(s);

	if (status == EXIT_RUNTIME)
		fprintf(stderr, "Result: an output could not be written; "
		    "exit 3\n");
	else if (failing > 0)
		fprintf(stderr, "Result: %" PRIu64 " finding%s of a failing "
		    "kind; exit 1\n", failing, failing == 1 ? "" : "s");
	else
		fprintf(stderr, "Result: clean; exit 0\n");
}

/* stutterfuzz merge: unite findings directories. */
int
cmd_merge(int argc, char **argv)
{
	struct merge_config	 cfg = { 0 };
	struct output_paths	 p = { 0 };
	struct summary		*s;
	char			*cause = NULL, *keep;
	int			 status = EXIT_USAGE;

	if (merge_parse(argc, argv, &cfg, &p, &status) == -1)
		return status;
	for (int k = 0; k < OUTPUT__COUNT; k++) {
		if (k == OUTPUT_KEEP || k == OUTPUT_STEP_SUMMARY ||
		    p.path[k] == NULL)
			continue;
		if (util_output_check(output_name((enum output_kind)k),
		    p.path[k], &cause) == -1) {
			fprintf(stderr, "stutterfuzz merge: %s\n", cause);
			free(cause);
			return EXIT_USAGE;
		}
	}
	s = merge_dirs(&cfg, argv + optind, (size_t)(argc - optind), &cause);
	if (s == NULL) {
		fprintf(stderr, "stutterfuzz merge: %s\n", cause);
		free(cause);
		return EXIT_USAGE;
	}
	keep = xasprintf("%s/%s", cfg.output, MERGE_SUMMARY);
	p.path[OUTPUT_KEEP] = keep;
	merge_print(s, (size_t)(argc - optind));
	status = s->exit_code;
	if (cmd_write_outputs(s, &p) > 0)
		status = EXIT_RUNTIME;
	merge_result(s, status);
	free(keep);
	summary_free(s);
	return status;
}
