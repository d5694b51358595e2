/* Small helpers: allocation that cannot fail quietly, formatted strings, time. */
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
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

/* Can an output file be written at path? */
int
util_output_check(const char *what, const char *path, char **cause)
{
	int	fd, flags = O_WRONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;

	fd = open(path, flags | O_CREAT | O_EXCL, 0666);
	if (fd != -1) {		/* made it: remove it again */
		close(fd);
		unlink(path);
		return 0;
	}
	if (errno == EEXIST)
		fd = open(path, flags);
	if (fd == -1) {
		*cause = xasprintf("%s %s: %s", what, path,
		    errno == ENXIO ? "a FIFO with no reader" : strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* Opens (truncates) an output file for writing. */
FILE *
util_output_open(const char *what, const char *path, char **cause)
{
	FILE	*f;

	if (util_output_check(what, path, cause) == -1)
		return NULL;
	f = fopen(path, "we");
	if (f == NULL)
		*cause = xasprintf("%s %s: %s", what, path, strerror(errno));
	return f;
}

/* Flushes an output file, keeping the errno of its first failure. */
int
util_output_flush(FILE *f, int *err)
{
	int	rc;

	errno = 0;
	rc = fflush(f);
	if (rc == 0 && !ferror(f))
		return 0;
	if (*err == 0)	/* an earlier failure: its errno is gone */
		*err = rc != 0 && errno != 0 ? errno : EIO;
	return -1;
}

/* Flushes and closes an output file. */
int
util_output_close(FILE *f, const char *what, const char *path, int err,
    char **cause)
{
	if (f == NULL)
		return 0;
	errno = 0;
	util_output_flush(f, &err);
	if (fclose(f) != 0 && err == 0)
		err = errno ? errno : EIO;
	if (err == 0)
		return 0;
	*cause = xasprintf("%s %s: write failed: %s", what, path,
	    strerror(err));
	return -1;
}

/* The width of the terminal on fd, in columns. */
size_t
util_term_cols(int fd)
{
	struct winsize	ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) == -1 || ws.ws_col == 0)
		return 80;
	return ws.ws_col;
}

/* Writes len bytes to tmp (created, never an existing file), then renames
 * it to path, so a reader never sees half a file, even when stutterfuzz is
 * killed. No fsync: the rename is atomic for readers and survives a kill;
 * only a machine crash could lose the last files, and an fsync per file
 * would stall the event loop. Returns 0, or -1 with *cause. */
int
util_write_atomic(const char *tmp, const char *path, const void *data,
    size_t len, char **cause)
{
	const char	*p = data;
	size_t		 off = 0;
	int		 fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1) {
		*cause = xasprintf("%s: %s", tmp, strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t	n = write(fd, p + off, len - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*cause = xasprintf("%s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)n;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Is s valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF)? */
int
util_utf8_valid(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;

	while (*p != '\0') {
		unsigned	c = *p, n, cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return 0;
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		p += n + 1;
	}
	return 1;
}

/* Is s a decimal number from 0 to 2^64-1 (digits only, no sign)? */
int
util_decimal_u64(const char *s)
{
	size_t	n = strlen(s);

	if (n == 0 || n > 20 || strspn(s, "0123456789") != n)
		return 0;
	/* 20 digits: at most 18446744073709551615, compared as text. */
	return n < 20 || strcmp(s, "18446744073709551615") <= 0;
}
