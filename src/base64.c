/* Base64 (RFC 4648, with padding). */
#include <stdint.h>
#include <stdlib.h>

#include "base64.h"
#include "util.h"

static const char digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Length of the text that encodes n bytes. */
size_t
base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/* Encodes n bytes into a new NUL-terminated string. */
char *
base64_encode(const unsigned char *p, size_t n)
{
	char	*out = xmalloc(base64_encoded_len(n) + 1), *o = out;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t	v = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*o++ = digits[(v >> 18) & 63];
		*o++ = digits[(v >> 12) & 63];
		*o++ = i + 1 < n ? digits[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? digits[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* Value of one base64 digit, or -1. */
static int
digit_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes one group of four characters into out; returns the bytes it
 * holds (1 to 3), or -1. last: the final group, where padding may be. */
static int
decode_group(const unsigned char *s, int last, unsigned char *out)
{
	int	v[4], pad = 0;

	for (int j = 0; j < 4; j++) {
		v[j] = digit_value(s[j]);
		if (v[j] >= 0 && pad == 0)
			continue;
		if (s[j] != '=' || !last || j < 2)
			return -1;
		pad++;
		v[j] = 0;
	}
	/* Padding bits must be zero: one text per byte string. */
	if ((pad == 2 && (v[1] & 15) != 0) || (pad == 1 && (v[2] & 3) != 0))
		return -1;
	out[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
	out[1] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
	out[2] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	return 3 - pad;
}

/* Decodes n characters of base64 into a new buffer. */
unsigned char *
base64_decode(const char *s, size_t n, size_t *outlen)
{
	const unsigned char	*u = (const unsigned char *)s;
	unsigned char		*out;
	size_t			 o = 0;

	if (n % 4 != 0)
		return NULL;
	out = xmalloc(n / 4 * 3 + 1);
	for (size_t i = 0; i < n; i += 4) {
		int	got = decode_group(u + i, i + 4 == n, out + o);

		if (got < 0) {
			free(out);
			return NULL;
		}
		o += (size_t)got;
	}
	*outlen = o;
	return out;
}
