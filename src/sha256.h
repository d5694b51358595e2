/* SHA-256 (FIPS 180-4), for naming blobs in finding records. */
#ifndef STUTTERFUZZ_SHA256_H
#define STUTTERFUZZ_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN	32

/* Hashes len bytes of data into out. */
void	sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);

/* Hashes data and writes the 64 lowercase hex digits and a NUL into hex. */
void	sha256_hex(const void *data, size_t len, char hex[2 * SHA256_LEN + 1]);

#endif
