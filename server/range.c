/* range.c - RFC 9110 byte ranges for file downloads. One range is served
 * exactly: "a-b" (b cut to the end), "a-" (to the end), "-n" (the last n
 * bytes). A first byte at or past the end, or a suffix of 0 bytes, is not
 * satisfiable (416). Several ranges get the whole file with 200 (no
 * multipart/byteranges), and so does a header that is not valid. */
#include "range.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

static const char *ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Digits to a number; NULL when none or it overflows. */
static const char *number(const char *p, uint64_t *out, int *any)
{
    uint64_t v = 0;
    *any = 0;
    while (*p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return NULL;
        v = v * 10 + d;
        p++;
        *any = 1;
    }
    *out = v;
    return p;
}

int srv_range_parse(const char *h, uint64_t size, uint64_t *start,
                    uint64_t *len)
{
    *start = 0;
    *len = size;
    if (!h)
        return SRV_RANGE_NONE;
    h = ows(h);
    if (strncasecmp(h, "bytes", 5) != 0)
        return SRV_RANGE_NONE;
    const char *p = ows(h + 5);
    if (*p != '=')
        return SRV_RANGE_NONE;
    p = ows(p + 1);
    int n = 0, sat = 0;
    uint64_t s0 = 0, l0 = 0;
    for (;;) {
        if (*p == ',') { /* empty list elements are allowed */
            p = ows(p + 1);
            continue;
        }
        if (!*p)
            break;
        uint64_t a = 0, b = 0;
        int has_a = 0, has_b = 0;
        p = number(p, &a, &has_a);
        if (!p)
            return SRV_RANGE_NONE;
        p = ows(p);
        if (*p != '-')
            return SRV_RANGE_NONE;
        p = number(ows(p + 1), &b, &has_b);
        if (!p || (!has_a && !has_b))
            return SRV_RANGE_NONE;
        if (has_a && has_b && b < a)
            return SRV_RANGE_NONE; /* invalid: the header is ignored */
        n++;
        if (has_a) {
            if (a < size) {
                sat++;
                s0 = a;
                l0 = (has_b && b < size - 1 ? b : size - 1) - a + 1;
            }
        } else if (b > 0 && size > 0) { /* suffix */
            sat++;
            l0 = b < size ? b : size;
            s0 = size - l0;
        }
        p = ows(p);
        if (*p && *p != ',')
            return SRV_RANGE_NONE;
    }
    if (n == 0)
        return SRV_RANGE_NONE;
    if (sat == 0)
        return SRV_RANGE_UNSAT;
    if (n > 1)
        return SRV_RANGE_MANY;
    *start = s0;
    *len = l0;
    return SRV_RANGE_ONE;
}
