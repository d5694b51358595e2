/* Small helpers: allocation that cannot fail quietly, formatted strings, time. */
#ifndef STUTTERFUZZ_UTIL_H
#define STUTTERFUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define STUTTERFUZZ_VERSION	"0.1.0"

/* Allocators that end the process with exit status 3 when memory runs out. */
void	*xmalloc(size_t n);
void	*xcalloc(size_t n, size_t size);
void	*xreallocarray(void *p, size_t n, size_t size);
char	*xstrdup(const char *s);
char	*xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic clock in microseconds. */
uint64_t util_now_us(void);

#endif
