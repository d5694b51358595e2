/* JSON for finding records and traces: writer, strict parser, base64. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

#define JSON_MAX_DEPTH	64

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

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

/* Appends n bytes as a quoted base64 string. */
void
jbuf_base64(struct jbuf *b, const unsigned char *p, size_t n)
{
	jbuf_reserve(b, (n + 2) / 3 * 4 + 2);
	b->s[b->len++] = '"';
	for (size_t i = 0; i < n; i += 3) {
		uint32_t	v = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		b->s[b->len++] = b64[(v >> 18) & 63];
		b->s[b->len++] = b64[(v >> 12) & 63];
		b->s[b->len++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		b->s[b->len++] = i + 2 < n ? b64[v & 63] : '=';
	}
	b->s[b->len++] = '"';
	b->s[b->len] = '\0';
}

/* Value of one base64 digit, or -1. */
static int
b64_value(char c)
{
	const char	*p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

/* Decodes base64 text into a new buffer. */
unsigned char *
json_base64_decode(const char *s, size_t n, size_t *outlen)
{
	unsigned char	*out;
	size_t		 o = 0;

	if (n % 4 != 0)
		return NULL;
	out = xmalloc(n / 4 * 3 + 1);
	for (size_t i = 0; i < n; i += 4) {
		int	v[4];

		for (int j = 0; j < 4; j++) {
			v[j] = b64_value(s[i + j]);
			if (v[j] < 0 && !(s[i + j] == '=' && i + 4 == n &&
			    j >= 2 && (j == 3 || s[i + 3] == '='))) {
				free(out);
				return NULL;
			}
		}
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (v[2] >= 0)
			out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (v[2] >= 0 && v[3] >= 0)
			out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	*outlen = o;
	return out;
}

struct parser {
	const char	*s;
	size_t		 len;
	size_t		 pos;
	char		*cause;
	int		 depth;
};

static int	parse_value(struct parser *p, struct json *out);

/* Records the first error, with its offset. */
static int
perr(struct parser *p, const char *what)
{
	if (p->cause == NULL) {
		if (p->pos >= p->len)
			p->cause = xasprintf("unexpected end at byte %zu (%s)",
			    p->pos, what);
		else
			p->cause = xasprintf("%s at byte %zu", what, p->pos);
	}
	return -1;
}

static void
skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' ||
	    p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
	    p->s[p->pos] == '\r'))
		p->pos++;
}

/* Reads 4 hex digits. */
static int
parse_hex4(struct parser *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char	c;

		if (p->pos >= p->len)
			return perr(p, "short \\u escape");
		c = p->s[p->pos++];
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return perr(p, "bad \\u escape");
	}
	return 0;
}

/* Parses a string at p->pos (at the opening quote). */
static int
parse_string(struct parser *p, char **out, size_t *outlen)
{
	struct jbuf	b = { 0 };

	p->pos++;
	for (;;) {
		char	c;

		if (p->pos >= p->len) {
			jbuf_free(&b);
			return perr(p, "unterminated string");
		}
		c = p->s[p->pos++];
		if (c == '"')
			break;
		if ((unsigned char)c < 0x20) {
			jbuf_free(&b);
			return perr(p, "control character in string");
		}
		if (c != '\\') {
			jbuf_append(&b, &c, 1);
			continue;
		}
		if (p->pos >= p->len) {
			jbuf_free(&b);
			return perr(p, "unterminated escape");
		}
		c = p->s[p->pos++];
		switch (c) {
		case '"': case '\\': case '/':
			break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u': {
			unsigned	v;
			char		u[4];
			size_t		n;

			if (parse_hex4(p, &v) == -1) {
				jbuf_free(&b);
				return -1;
			}
			/* Only the Basic Multilingual Plane without
			 * surrogates: what the writer emits. */
			if (v >= 0xd800 && v <= 0xdfff) {
				jbuf_free(&b);
				return perr(p, "surrogate escape not supported");
			}
			if (v < 0x80) {
				u[0] = (char)v;
				n = 1;
			} else if (v < 0x800) {
				u[0] = (char)(0xc0 | v >> 6);
				u[1] = (char)(0x80 | (v & 63));
				n = 2;
			} else {
				u[0] = (char)(0xe0 | v >> 12);
				u[1] = (char)(0x80 | ((v >> 6) & 63));
				u[2] = (char)(0x80 | (v & 63));
				n = 3;
			}
			jbuf_append(&b, u, n);
			continue;
		}
		default:
			jbuf_free(&b);
			return perr(p, "bad escape");
		}
		jbuf_append(&b, &c, 1);
	}
	if (b.s == NULL)
		jbuf_append(&b, "", 0);
	*out = b.s;
	*outlen = b.len;
	return 0;
}

/* Parses a number. */
static int
parse_number(struct parser *p, struct json *out)
{
	size_t	start = p->pos;
	char	buf[64], *end;
	int	integer = 1;

	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
		return perr(p, "bad number");
	while (p->pos < p->len && ((p->s[p->pos] >= '0' &&
	    p->s[p->pos] <= '9') || p->s[p->pos] == '.' ||
	    p->s[p->pos] == 'e' || p->s[p->pos] == 'E' ||
	    p->s[p->pos] == '+' || p->s[p->pos] == '-')) {
		if (p->s[p->pos] == '.' || p->s[p->pos] == 'e' ||
		    p->s[p->pos] == 'E')
			integer = 0;
		p->pos++;
	}
	if (p->pos - start >= sizeof buf)
		return perr(p, "number too long");
	memcpy(buf, p->s + start, p->pos - start);
	buf[p->pos - start] = '\0';
	errno = 0;
	out->number = strtod(buf, &end);
	if (*end != '\0' || !isfinite(out->number))
		return perr(p, "bad number");
	out->type = JSON_NUMBER;
	if (integer && buf[0] != '-') {
		errno = 0;
		out->uint = strtoull(buf, &end, 10);
		out->is_uint = errno == 0 && *end == '\0';
	}
	return 0;
}

/* Parses a literal word (true, false, null). */
static int
parse_word(struct parser *p, const char *w)
{
	size_t	n = strlen(w);

	if (p->len - p->pos < n || strncmp(p->s + p->pos, w, n) != 0)
		return perr(p, "unexpected character");
	p->pos += n;
	return 0;
}

/* Parses an array or an object's members. */
static int
parse_container(struct parser *p, struct json *out, int object)
{
	size_t	cap = 0;
	char	close = object ? '}' : ']';

	out->type = object ? JSON_OBJECT : JSON_ARRAY;
	if (++p->depth > JSON_MAX_DEPTH)
		return perr(p, "nested too deeply");
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		p->depth--;
		return 0;
	}
	for (;;) {
		skip_ws(p);
		if (out->n == cap) {
			cap = cap ? cap * 2 : 8;
			out->items = xreallocarray(out->items, cap,
			    sizeof *out->items);
			if (object)
				out->keys = xreallocarray(out->keys, cap,
				    sizeof *out->keys);
		}
		memset(&out->items[out->n], 0, sizeof out->items[0]);
		if (object) {
			size_t	klen;

			out->keys[out->n] = NULL;
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return perr(p, "expected a member name");
			if (parse_string(p, &out->keys[out->n], &klen) == -1)
				return -1;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':') {
				out->n++;
				return perr(p, "expected ':'");
			}
			p->pos++;
		}
		out->n++;
		if (parse_value(p, &out->items[out->n - 1]) == -1)
			return -1;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			p->depth--;
			return 0;
		}
		return perr(p, object ? "expected ',' or '}'" :
		    "expected ',' or ']'");
	}
}

/* Parses any value. */
static int
parse_value(struct parser *p, struct json *out)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return perr(p, "expected a value");
	switch (p->s[p->pos]) {
	case '{':
		return parse_container(p, out, 1);
	case '[':
		return parse_container(p, out, 0);
	case '"':
		out->type = JSON_STRING;
		return parse_string(p, &out->str, &out->len);
	case 't':
		out->type = JSON_BOOL;
		out->boolean = 1;
		return parse_word(p, "true");
	case 'f':
		out->type = JSON_BOOL;
		return parse_word(p, "false");
	case 'n':
		out->type = JSON_NULL;
		return parse_word(p, "null");
	default:
		return parse_number(p, out);
	}
}

/* Frees what a value holds (not the value itself). */
static void
json_clear(struct json *j)
{
	for (size_t i = 0; i < j->n; i++) {
		json_clear(&j->items[i]);
		if (j->keys != NULL)
			free(j->keys[i]);
	}
	free(j->items);
	free(j->keys);
	free(j->str);
}

/* Parses text (len bytes). */
struct json *
json_parse(const char *text, size_t len, char **cause)
{
	struct parser	 p = { .s = text, .len = len };
	struct json	*j = xcalloc(1, sizeof *j);

	if (parse_value(&p, j) == 0) {
		skip_ws(&p);
		if (p.pos == p.len)
			return j;
		perr(&p, "trailing characters");
	}
	*cause = p.cause;
	json_free(j);
	return NULL;
}

/* Frees a parsed tree; accepts NULL. */
void
json_free(struct json *j)
{
	if (j == NULL)
		return;
	json_clear(j);
	free(j);
}

/* Member key of object j, or NULL. */
const struct json *
json_get(const struct json *j, const char *key)
{
	if (j == NULL || j->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < j->n; i++) {
		if (strcmp(j->keys[i], key) == 0)
			return &j->items[i];
	}
	return NULL;
}
