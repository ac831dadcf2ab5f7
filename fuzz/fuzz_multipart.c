/* fuzz_multipart.c - the multipart checks: the first line is the
 * Content-Type, the rest the body, fed in two chunkings that must agree. */
#include "upload.h"

#include "fuzz_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t clen = nl ? (size_t)(nl - data) : size;
    char *ct = fuzz_cstr(data, clen);
    if (!ct)
        return 0;
    srv_mp_tail a, b;
    if (srv_mp_begin(&a, ct)) {
        b = a;
        const char *body = nl ? (const char *)nl + 1 : "";
        size_t blen = nl ? size - clen - 1 : 0;
        size_t pa = srv_mp_feed(&a, body, blen), pb = 0;
        for (size_t i = 0; i < blen; i += 7)
            pb += srv_mp_feed(&b, body + i, blen - i < 7 ? blen - i : 7);
        /* chunking changes neither the answer nor where the body ends */
        if (srv_mp_complete(&a) != srv_mp_complete(&b) || pa != pb ||
            pa > blen)
            abort();
    }
    (void)srv_field_is(ct, clen, "batch");
    free(ct);
    return 0;
}
