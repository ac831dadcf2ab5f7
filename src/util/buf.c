/* buf.c - growable byte buffers and arrays (internal). */
#define _POSIX_C_SOURCE 200809L

#include "oaibatch.h"
#include "util/buf.h"
#include "util/json_plain.h"
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <stdarg.h>

oab_status oab__buf_reserve(oab__buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return OAB_ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return OAB_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return OAB_ENOMEM;
    b->data = p;
    b->cap = cap;
    return OAB_OK;
}

oab_status oab__buf_append(oab__buf *b, const void *data, size_t len)
{
    if (oab__buf_reserve(b, len) != OAB_OK)
        return OAB_ENOMEM;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return OAB_OK;
}

oab_status oab__buf_puts(oab__buf *b, const char *s)
{
    return oab__buf_append(b, s, strlen(s));
}

oab_status oab__buf_putc(oab__buf *b, char c)
{
    return oab__buf_append(b, &c, 1);
}

oab_status oab__buf_printf(oab__buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return OAB_EINVAL;
    }
    if (oab__buf_reserve(b, (size_t)n) != OAB_OK) {
        va_end(ap2);
        return OAB_ENOMEM;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
    return OAB_OK;
}

oab_status oab__buf_json_string(oab__buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    /* room for the text as it is and the quotes; each escape makes sure
     * of its own (written straight, not appended piece by piece) */
    if (oab__buf_reserve(b, len + 2) != OAB_OK)
        return OAB_ENOMEM;
    char *o = b->data + b->len;
    *o++ = '"';
    const unsigned char *u = (const unsigned char *)s, *end = u + len;
    while (u < end) {
        /* a run of bytes that need no escape, copied at once */
        const unsigned char *run = oab__json_plain_end(u, end, 0);
        /* room for the run, one escape (6), what is left (1 byte each at
         * least) and the closing quote */
        size_t need = (size_t)(end - u) + 7;
        if ((size_t)(b->data + b->cap - o) <= need) {
            b->len = (size_t)(o - b->data);
            if (oab__buf_reserve(b, need) != OAB_OK)
                return OAB_ENOMEM;
            o = b->data + b->len;
        }
        memcpy(o, u, (size_t)(run - u));
        o += run - u;
        if (run == end)
            break;
        unsigned char c = *run;
        u = run + 1;
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->data);
    return OAB_OK;
}

char *oab__buf_take(oab__buf *b, size_t *len_out)
{
    if (!b->data) {
        if (oab__buf_reserve(b, 0) != OAB_OK)
            return NULL;
        b->data[0] = '\0'; /* "" for an empty buffer */
    }
    char *p = b->data;
    if (len_out)
        *len_out = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void oab__buf_clear(oab__buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void oab__buf_free(oab__buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void *oab__grow(void *arr, size_t *cap, size_t n, size_t size, size_t first)
{
    if (n < *cap)
        return arr;
    size_t c = *cap ? *cap * 2 : first;
    if (c <= *cap || c > SIZE_MAX / size)
        return NULL; /* overflow, or first == 0 */
    void *p = realloc(arr, c * size);
    if (p)
        *cap = c;
    return p;
}
