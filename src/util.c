/* Small helpers: allocation that cannot fail quietly, formatted strings, time. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* Out of memory: nothing sensible is left to do. */
static void __attribute__((noreturn))
util_oom(void)
{
	static const char msg[] = "stutterfuzz: out of memory\n";

	if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) {
		/* Nothing else to try. */
	}
	_exit(3);
}

/* malloc or die. */
void *
xmalloc(size_t n)
{
	void	*p = malloc(n ? n : 1);

	if (p == NULL)
		util_oom();
	return p;
}

/* calloc or die. */
void *
xcalloc(size_t n, size_t size)
{
	void	*p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		util_oom();
	return p;
}

/* reallocarray or die. */
void *
xreallocarray(void *p, size_t n, size_t size)
{
	void	*q = reallocarray(p, n ? n : 1, size ? size : 1);

	if (q == NULL)
		util_oom();
	return q;
}

/* strdup or die. */
char *
xstrdup(const char *s)
{
	char	*p = strdup(s);

	if (p == NULL)
		util_oom();
	return p;
}

/* asprintf or die. */
char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		util_oom();
	va_end(ap);
	return s;
}

/* Monotonic clock in microseconds. */
uint64_t
util_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}
