/* JSON text written by hand: a growing buffer and quoted strings. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

/* Frees the buffer's text. */
void
jbuf_free(struct jbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

/* Makes room for n more bytes and a NUL. */
static void
jbuf_reserve(struct jbuf *b, size_t n)
{
	size_t	cap;

	if (b->len + n + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	b->s = xreallocarray(b->s, cap, 1);
	b->cap = cap;
}

/* Appends n bytes. */
void
jbuf_append(struct jbuf *b, const char *s, size_t n)
{
	jbuf_reserve(b, n);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* Appends formatted text. */
void
jbuf_printf(struct jbuf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	jbuf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. Only
 * sequences of the Basic Multilingual Plane count, as the parser reads. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	if (s[0] >= 0xc2 && s[0] <= 0xdf && n >= 2 && (s[1] & 0xc0) == 0x80)
		return 2;
	if (s[0] >= 0xe0 && s[0] <= 0xef && n >= 3 &&
	    (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 &&
	    !(s[0] == 0xe0 && s[1] < 0xa0) && !(s[0] == 0xed && s[1] >= 0xa0))
		return 3;
	return 0;
}

/* Appends s (n bytes) as a quoted JSON string. Valid UTF-8 passes through;
 * control characters and bytes that are not UTF-8 are escaped (the latter
 * as the Latin-1 character of the same value). */
void
jbuf_string(struct jbuf *b, const char *s, size_t n)
{
	const unsigned char	*u = (const unsigned char *)s;

	jbuf_append(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char	c = u[i];
		size_t		l;

		if (c == '"' || c == '\\') {
			char	esc[2] = { '\\', (char)c };

			jbuf_append(b, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			jbuf_printf(b, "\\u%04x", c);
		} else if (c < 0x80) {
			jbuf_append(b, (const char *)&c, 1);
		} else if ((l = utf8_len(u + i, n - i)) > 0) {
			jbuf_append(b, s + i, l);
			i += l - 1;
		} else {
			jbuf_printf(b, "\\u%04x", c);
		}
	}
	jbuf_append(b, "\"", 1);
}
