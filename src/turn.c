/*
 * Turns: splitting a blob into messages by a rule.
 */
#include <stdlib.h>
#include <string.h>

#include "turn.h"
#include "util.h"

static const char *rule_names[TURN__COUNT] = {
	[TURN_NONE] = "none",
	[TURN_DELIM] = "delim",
};

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

/* Parses --turns=DELIM into *spec. */
int
turn_parse(const char *arg, struct turn_spec *spec, char **cause)
{
	char	*why = NULL;

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
