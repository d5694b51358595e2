/*
 * Merging findings directories (shards of one soak, or runs on several
 * machines) into one: records deduplicated across runs by identity (kind,
 * blob bytes and cut; kind and detail for a target finding), counts added,
 * each run's figures counted once (by run id, so a directory merged with
 * its own copy counts nothing twice), and one summary model for the fleet.
 *
 * Everything read is untrusted input: records through record_load, run
 * summaries and indexes and statistics lines checked whole, every file
 * bounded in size and never a FIFO or a device; anything that does not
 * check makes the merge fail, naming it, before anything is written.
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

/* Reads a whole regular file of at most max bytes (NUL-terminated, its
 * length in *len). Never blocks on a FIFO or a device, never reads more
 * than max + 1 bytes of a file still growing. Returns NULL with *cause
 * naming path and why. */
char		*merge_read_file(const char *path, size_t max, size_t *len,
		     char **cause);

/* Merges dirs into cfg->output; nothing is written when an input is bad.
 * Returns the model (exit_code set: 1 when a failing finding is among
 * them, else 0), or NULL with *cause naming the directory or record and
 * what is wrong. */
struct summary	*merge_dirs(const struct merge_config *cfg, char **dirs,
		     size_t ndirs, char **cause);

#endif
