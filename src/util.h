/* Small helpers: allocation that cannot fail quietly, formatted strings, time. */
#ifndef STUTTERFUZZ_UTIL_H
#define STUTTERFUZZ_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define STUTTERFUZZ_VERSION	"0.1.0"

/* The plural ending after a count of n: "1 cut", "2 cuts". */
#define PLURAL(n)	((n) == 1 ? "" : "s")

/* Allocators that end the process with exit status 3 when memory runs out. */
void	*xmalloc(size_t n);
void	*xcalloc(size_t n, size_t size);
void	*xreallocarray(void *p, size_t n, size_t size);
char	*xstrdup(const char *s);
char	*xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Output files (--summary, --stats-file, --trace, ...): checked or opened
 * before a run starts, so that a directory, a missing directory or a denied
 * path fails at once; write errors found later are reported when the file
 * is closed. Causes start with `what` (the option, e.g. "--summary").
 */
/* Can an output file be written at path? Leaves nothing behind that was
 * not there. Returns 0, or -1 with an allocated *cause. */
int	 util_output_check(const char *what, const char *path, char **cause);

/* Opens (truncates) an output file for writing, close-on-exec. Returns the
 * stream, or NULL with an allocated *cause. */
FILE	*util_output_open(const char *what, const char *path, char **cause);

/* Flushes an output file; the errno of its first failure is kept in *err
 * (stdio forgets it). Returns 0 or -1. */
int	 util_output_flush(FILE *f, int *err);

/* Flushes and closes an output file (NULL: nothing to do). Returns 0, or -1
 * with an allocated *cause when a write to it failed at any time; err is
 * what util_output_flush kept (0: none). */
int	 util_output_close(FILE *f, const char *what, const char *path, int err,
	    char **cause);

/* The width of the terminal on fd, in columns (80 when it does not say). */
size_t	 util_term_cols(int fd);

/* Monotonic clock in microseconds. */
uint64_t util_now_us(void);

/* Writes a file whole through tmp and a rename. */
int	 util_write_atomic(const char *tmp, const char *path, const void *data,
	    size_t len, char **cause);

/* Is s a decimal number from 0 to 2^64-1 (digits only, no sign)? */
int	 util_decimal_u64(const char *s);

/* Is s valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF)? */
int	 util_utf8_valid(const char *s);

#endif
