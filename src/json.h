/*
 * A growing text buffer, for lines and documents built piece by piece
 * (reproduce commands, JUnit, Markdown, reproducer scripts). JSON is
 * written and read through jansson.
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

#endif
