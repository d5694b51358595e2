/*
 * Turns: splitting a blob into messages by a rule.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "turn.h"
#include "util.h"

static const char *rule_names[TURN__COUNT] = {
	[TURN_NONE] = "none",
	[TURN_DELIM] = "delim",
	[TURN_LEN] = "len",
};

/* The prefix that makes --turns a length rule. */
#define LEN_PREFIX	"len:"

/* Value of hex digit c, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the escape after the backslash at s[*i]; advances *i past it.
 * Returns the byte, or -1. */
static int
unescape_one(const char *s, size_t *i)
{
	static const char	from[] = "abefnrtv\\'\"?";
	static const char	to[] = "\a\b\033\f\n\r\t\v\\'\"?";
	const char		*p;
	char			 c = s[*i];
	int			 v = 0, k;

	if (c != '\0' && (p = strchr(from, c)) != NULL) {
		(*i)++;
		return (unsigned char)to[p - from];
	}
	if (c == 'x') {
		for (k = 0; k < 2 && hexval(s[*i + 1 + k]) >= 0; k++)
			v = v * 16 + hexval(s[*i + 1 + k]);
		if (k == 0)
			return -1;
		*i += 1 + k;
		return v;
	}
	if (c >= '0' && c <= '7') {
		for (k = 0; k < 3 && s[*i + k] >= '0' && s[*i + k] <= '7'; k++)
			v = v * 8 + (s[*i + k] - '0');
		if (v > 255)
			return -1;
		*i += k;
		return v;
	}
	return -1;
}

/* Decodes the C escapes of s into out. */
int
turn_unescape(const char *s, unsigned char *out, size_t size, size_t *len,
    char **cause)
{
	size_t	i = 0, n = 0;

	while (s[i] != '\0') {
		size_t	at = i;
		int	b;

		if (s[i] == '\\') {
			i++;
			if ((b = unescape_one(s, &i)) == -1) {
				*cause = xasprintf("bad escape '\\%.1s' at "
				    "byte %zu", s[at + 1] ? s + at + 1 : "",
				    at + 1);
				return -1;
			}
		} else
			b = (unsigned char)s[i++];
		if (n == size) {
			*cause = xasprintf("longer than %zu bytes", size);
			return -1;
		}
		out[n++] = (unsigned char)b;
	}
	*len = n;
	return 0;
}

/* Reads the decimal number of s[0..n) (digits only) into *v, at most max.
 * Returns 0, or -1. */
static int
len_number(const char *s, size_t n, unsigned long long max,
    unsigned long long *v)
{
	unsigned long long	x = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (x > (max - (unsigned long long)(s[i] - '0')) / 10)
			return -1;
		x = x * 10 + (unsigned long long)(s[i] - '0');
	}
	*v = x;
	return 0;
}

/* Takes one optional field (be, le, all, +N, -N) of a length rule.
 * Returns 0, or -1 with *why. */
static int
len_option(const char *f, size_t n, struct turn_spec *spec, unsigned *seen,
    char **why)
{
	unsigned long long	v;
	unsigned		bit;

	if ((n == 2 && (memcmp(f, "be", 2) == 0 || memcmp(f, "le", 2) == 0)))
		bit = 1;
	else if (n == 3 && memcmp(f, "all", 3) == 0)
		bit = 2;
	else if (n > 0 && (f[0] == '+' || f[0] == '-'))
		bit = 4;
	else {
		*why = xasprintf("'%.*s' is not be, le, all or an adjustment "
		    "(+N, -N)", (int)n, f);
		return -1;
	}
	if (*seen & bit) {
		*why = xasprintf("%s given twice", bit == 1 ? "byte order" :
		    bit == 2 ? "'all'" : "adjustment");
		return -1;
	}
	*seen |= bit;
	if (bit == 1)
		spec->len_le = f[0] == 'l';
	else if (bit == 2)
		spec->len_all = 1;
	else if (len_number(f + 1, n - 1, TURN_LEN_ADJUST_MAX, &v) == -1) {
		*why = xasprintf("adjustment '%.*s' is not +N or -N with N "
		    "from 0 to %lld", (int)n, f, TURN_LEN_ADJUST_MAX);
		return -1;
	} else
		spec->len_adjust = f[0] == '-' ? -(long long)v : (long long)v;
	return 0;
}

/* Parses the fields of a length rule (after "len:") into *spec. Returns 0,
 * or -1 with *why. */
static int
len_parse(const char *s, struct turn_spec *spec, char **why)
{
	unsigned long long	v;
	unsigned		seen = 0;
	size_t			k = 0;

	*spec = (struct turn_spec){ .rule = TURN_LEN };
	for (;;) {
		size_t	n = strcspn(s, ":");

		if (k == 0 && len_number(s, n, TURN_LEN_OFFSET_MAX, &v) == -1) {
			*why = xasprintf("offset '%.*s' is not a number from 0 "
			    "to %d", (int)n, s, TURN_LEN_OFFSET_MAX);
			return -1;
		}
		if (k == 0)
			spec->len_offset = (size_t)v;
		else if (k == 1) {
			if (len_number(s, n, 8, &v) == -1 || (v != 1 && v != 2 &&
			    v != 4 && v != 8)) {
				*why = xasprintf("width '%.*s' is not 1, 2, 4 or "
				    "8", (int)n, s);
				return -1;
			}
			spec->len_width = (unsigned)v;
		} else if (len_option(s, n, spec, &seen, why) == -1)
			return -1;
		k++;
		if (s[n] == '\0')
			break;
		s += n + 1;
	}
	if (k < 2) {
		*why = xstrdup("a length rule is len:OFFSET:WIDTH[:be|:le]"
		    "[:all][:+N|:-N]");
		return -1;
	}
	return 0;
}

/* Parses --turns=DELIM or --turns=len:... into *spec. */
int
turn_parse(const char *arg, struct turn_spec *spec, char **cause)
{
	char	*why = NULL;

	if (strncmp(arg, LEN_PREFIX, strlen(LEN_PREFIX)) == 0) {
		if (len_parse(arg + strlen(LEN_PREFIX), spec, &why) == 0)
			return 0;
		*cause = xasprintf("--turns '%s': %s", arg, why);
		free(why);
		return -1;
	}
	*spec = (struct turn_spec){ .rule = TURN_DELIM };
	if (turn_unescape(arg, spec->delim, sizeof spec->delim,
	    &spec->delim_len, &why) == -1) {
		*cause = xasprintf("--turns '%s': %s", arg, why);
		free(why);
		return -1;
	}
	if (spec->delim_len == 0) {
		*cause = xstrdup("--turns '': empty delimiter");
		return -1;
	}
	return 0;
}

/* The size of a message whose length field holds v, in *size. Returns 0,
 * or -1 when no size_t holds it. */
static int
len_size(const struct turn_spec *spec, uint64_t v, uint64_t *size)
{
	uint64_t	base = spec->len_all ? 0 :
			    (uint64_t)spec->len_offset + spec->len_width;
	uint64_t	adj = spec->len_adjust < 0 ?
			    (uint64_t)-spec->len_adjust : (uint64_t)spec->len_adjust;

	if (v > UINT64_MAX - base)
		return -1;
	v += base;
	if (spec->len_adjust >= 0) {
		if (v > UINT64_MAX - adj)
			return -1;
		v += adj;
	} else {
		if (v < adj)
			return -1;
		v -= adj;
	}
	if (v > SIZE_MAX)
		return -1;
	*size = v;
	return 0;
}

/* The end of the message at from by a length rule; len when the rest is
 * one message (header cut off, size below the header or past the end). */
static size_t
len_message_end(const struct turn_spec *spec, const unsigned char *data,
    size_t len, size_t from)
{
	size_t			 rest = len - from;
	size_t			 hdr = spec->len_offset + spec->len_width;
	const unsigned char	*f = data + from + spec->len_offset;
	uint64_t		 v = 0, size;

	if (spec->len_width == 0 || spec->len_width > 8 || rest < hdr)
		return len;
	for (unsigned i = 0; i < spec->len_width; i++) {
		if (spec->len_le)
			v |= (uint64_t)f[i] << (8 * i);
		else
			v = v << 8 | f[i];
	}
	if (len_size(spec, v, &size) == -1 || size < hdr || size > rest)
		return len;
	return from + (size_t)size;
}

/* The end of the message that starts at from. */
size_t
turn_message_end(const struct turn_spec *spec, const unsigned char *data,
    size_t len, size_t from)
{
	const unsigned char	*p;

	if (from >= len)
		return len;
	switch (spec->rule) {
	case TURN_DELIM:
		if (spec->delim_len == 0 || spec->delim_len > len - from)
			return len;
		p = memmem(data + from, len - from, spec->delim,
		    spec->delim_len);
		return p == NULL ? len : (size_t)(p - data) + spec->delim_len;
	case TURN_LEN:
		return len_message_end(spec, data, len, from);
	case TURN_NONE:
	default:
		return len;
	}
}

/* How many messages the blob holds. */
size_t
turn_count(const struct turn_spec *spec, const unsigned char *data,
    size_t len)
{
	size_t	n = 0;

	for (size_t at = 0; at < len; n++)
		at = turn_message_end(spec, data, len, at);
	return n;
}

/* Name of a rule, or NULL. */
const char *
turn_rule_name(enum turn_rule r)
{
	return r < TURN__COUNT ? rule_names[r] : NULL;
}
