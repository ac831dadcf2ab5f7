/* fuzz_util.h - helpers shared by the fuzz targets. */
#ifndef OAB_FUZZ_UTIL_H
#define OAB_FUZZ_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A NUL-terminated copy of data[0..n) (free it); NULL when out of memory. */
static inline char *fuzz_cstr(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, data, n);
        s[n] = '\0';
    }
    return s;
}

#endif
