/*
 * Merging findings directories (shards of one soak, or runs on several
 * machines) into one: records deduplicated across runs by identity (kind,
 * blob bytes and cut; kind and detail for a target finding), counts added,
 * each run's figures counted once (by run id, so a directory merged with
 * its own copy counts nothing twice), and one summary model for the fleet.
 *
 * Records are untrusted input: they are read through record_load, and any
 * that does not load makes the merge fail, naming it.
 */
#ifndef STUTTERFUZZ_MERGE_H
#define STUTTERFUZZ_MERGE_H

#include <stddef.h>

struct summary;

#define MERGE_SUMMARY	"summary.json"	/* the merged summary in the output */

struct merge_config {
	const char	*output;	/* directory to write (created); NULL:
					 * only read (report) */
	unsigned	 fail_on;	/* kinds that fail the merge ... */
	int		 fail_on_set;	/* ... if given; else the runs' own */
};

/* Merges dirs into cfg->output; nothing is written when an input is bad.
 * Returns the model (exit_code set: 1 when a failing finding is among
 * them, else 0), or NULL with *cause naming the directory or record and
 * what is wrong. */
struct summary	*merge_dirs(const struct merge_config *cfg, char **dirs,
		     size_t ndirs, char **cause);

#endif
