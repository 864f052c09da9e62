/* SHA-256 (FIPS 180-4), for the checksums hr writes in its manifests. */
#ifndef HR_SHA256_H
#define HR_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct hr_sha256 {
    uint32_t h[8];
    uint64_t bytes; /* message length so far */
    unsigned char block[64];
    size_t fill; /* bytes waiting in block */
};

void hr__sha256_init(struct hr_sha256 *s);
void hr__sha256_update(struct hr_sha256 *s, const void *data, size_t len);
void hr__sha256_final(struct hr_sha256 *s, unsigned char digest[32]);
/* The digest of data as 64 lowercase hex digits and a NUL. */
void hr__sha256_hex(const void *data, size_t len, char hex[65]);

#endif
