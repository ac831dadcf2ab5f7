/* sha256.h - SHA-256 for the journal's file fingerprints. */
#ifndef OAB_CLI_SHA256_H
#define OAB_CLI_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct cli_sha256 {
    uint32_t h[8];
    uint64_t len;
    unsigned char buf[64];
    size_t n;
} cli_sha256;

void cli_sha256_init(cli_sha256 *s);
void cli_sha256_update(cli_sha256 *s, const void *data, size_t len);
/* Writes 64 lowercase hex digits and a NUL to hex. */
void cli_sha256_final_hex(cli_sha256 *s, char hex[65]);

#endif
