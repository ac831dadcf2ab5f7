/* fuzz_validator.c - the library's input validator on any bytes (the
 * server validates every uploaded batch file with it). */
#include "oaibatch.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    oab_validate_options o = OAB_VALIDATE_OPTIONS_INIT;
    o.min_requests = -1;
    oab_validation *v = NULL;
    oab_validate_buffer(&v, (const char *)data, size, &o);
    oab_validation_free(v);
    return 0;
}
