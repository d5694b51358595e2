/*
 * JSON for finding records and traces: a growing buffer to write into, and a
 * small strict parser (objects, arrays, strings, numbers, true, false, null)
 * to read records back. Base64 for raw bytes lives here too.
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
/* Appends n bytes as a quoted base64 string. */
void	jbuf_base64(struct jbuf *b, const unsigned char *p, size_t n);

/* Decodes base64 text (n chars) into a new buffer; returns NULL if it is
 * not valid base64. */
unsigned char *json_base64_decode(const char *s, size_t n, size_t *outlen);

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json {
	enum json_type	 type;
	int		 boolean;
	double		 number;
	int		 is_uint;	/* number is an integer that fits uint64 */
	uint64_t	 uint;
	char		*str;		/* strings: NUL-terminated; len below */
	size_t		 len;
	struct json	*items;		/* arrays and object values */
	char		**keys;		/* objects */
	size_t		 n;
};

/* Parses text (len bytes). Returns NULL with an allocated *cause naming the
 * byte offset and the problem. */
struct json	*json_parse(const char *text, size_t len, char **cause);

/* Frees a parsed tree; accepts NULL. */
void		 json_free(struct json *j);

/* Member key of object j, or NULL. */
const struct json *json_get(const struct json *j, const char *key);

#endif
