/*
 * JSON written by hand into a growing buffer (stats lines, the summary, the
 * options object). Records and traces are written and read through jansson
 * (record.c); new code should use jansson too.
 */
#ifndef STUTTERFUZZ_JSON_H
#define STUTTERFUZZ_JSON_H

#include <stddef.h>
#include <stdint.h>

/* A growing text buffer. */
struct jbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

void	jbuf_free(struct jbuf *b);
void	jbuf_append(struct jbuf *b, const char *s, size_t n);
void	jbuf_printf(struct jbuf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Appends s (n bytes) as a quoted JSON string. */
void	jbuf_string(struct jbuf *b, const char *s, size_t n);

#endif
