/* Base64 (RFC 4648, with padding) for the raw bytes of finding records. */
#ifndef STUTTERFUZZ_BASE64_H
#define STUTTERFUZZ_BASE64_H

#include <stddef.h>

/* Encodes n bytes into a new NUL-terminated string. */
char		*base64_encode(const unsigned char *p, size_t n);

/* Length of the text that encodes n bytes. */
size_t		 base64_encoded_len(size_t n);

/* Decodes n characters of base64 into a new buffer (*outlen bytes);
 * returns NULL if it is not canonical padded base64. */
unsigned char	*base64_decode(const char *s, size_t n, size_t *outlen);

#endif
