/* fuzz_schema.c - the JSON Schema compiler and validator: the input is a
 * schema, a NUL byte, then an instance checked against it. */
#include "oaibatch.h"

#include "fuzz_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t slen = nul ? (size_t)(nul - data) : size;
    char *text = fuzz_cstr(data, slen);
    if (!text)
        return 0;
    for (int strict = 0; strict < 2; strict++) {
        oab_schema *s = NULL;
        if (oab_schema_new(&s, "f", NULL, text, strict, NULL) == OAB_OK &&
            nul)
            oab_schema_validate(s, (const char *)nul + 1, size - slen - 1,
                                NULL);
        oab_schema_free(s);
    }
    free(text);
    return 0;
}
