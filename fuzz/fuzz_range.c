/* fuzz_range.c - the Range header parser: any header, any file size; a
 * range it serves lies inside the file. */
#include "range.h"

#include "fuzz_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t fsize = 0;
    if (size >= 2) {
        fsize = (uint64_t)data[0] | (uint64_t)data[1] << 8;
        data += 2;
        size -= 2;
    }
    char *h = fuzz_cstr(data, size);
    if (!h)
        return 0;
    uint64_t start = 0, len = 0;
    int k = srv_range_parse(h, fsize, &start, &len);
    if (k == SRV_RANGE_ONE && (len == 0 || start + len > fsize))
        abort();
    free(h);
    return 0;
}
