/*
 * Minimal records: the parts of a record file that struct record does not
 * keep (the supervised run's server command, every other member), read and
 * written through jansson, so the minimal case is the record as it was
 * with only its connections replaced.
 */
#ifndef STUTTERFUZZ_MINRECORD_H
#define STUTTERFUZZ_MINRECORD_H

#include <stddef.h>

/* The server command the record at path holds (target_process.command),
 * NULL-terminated and allocated; NULL if it holds none or cannot be read
 * (record_load has said why already). */
char	**minrecord_command(const char *path);

/* Frees what minrecord_command returned; accepts NULL. */
void	  minrecord_command_free(char **argv);

/* Writes out_path (through a temporary file and a rename): the record at
 * in_path with "connection" set to conns[0] if culprit (else null),
 * "suspects" to the other conns (each a JSON object's text), a
 * "minimized" member set to note (a JSON object's text), and the format
 * version to the one this version writes. Returns 0, or -1 with *cause. */
int	  minrecord_write(const char *in_path, const char *out_path,
	    const char *const *conns, size_t n, int culprit, const char *note,
	    char **cause);

#endif
