/* util/sha256.h - SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), no I/O.
 * Internal: util layer, no API knowledge. Used by the command (file
 * fingerprints) and the server (webhook signatures). */
#ifndef OAB_UTIL_SHA256_H
#define OAB_UTIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct oab__sha256 {
    uint32_t h[8];
    uint64_t len;
    unsigned char buf[64];
    size_t n;
} oab__sha256;

void oab__sha256_init(oab__sha256 *s);
void oab__sha256_update(oab__sha256 *s, const void *data, size_t len);
/* The 32-byte digest; s must be initialised again before reuse. */
void oab__sha256_final(oab__sha256 *s, unsigned char out[32]);
/* The digest as 64 lowercase hex digits and a NUL. */
void oab__sha256_final_hex(oab__sha256 *s, char hex[65]);
/* HMAC-SHA256 of msg keyed with key (any length) into out. */
void oab__hmac_sha256(const void *key, size_t klen, const void *msg,
                      size_t mlen, unsigned char out[32]);

#endif
