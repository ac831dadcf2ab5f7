/* str.c - string helpers: copies, formatting, hex, UTF-8 encoding (internal). */
#define _POSIX_C_SOURCE 200809L

#include "oaibatch.h"
#include "util/buf.h"
#include "util/str.h"
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <stdarg.h>

char *oab__strdup(const char *s)
{
    return s ? oab__strndup(s, strlen(s)) : NULL;
}

char *oab__strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *oab__vsprintf(const char *fmt, va_list ap)
{
    oab__buf b = OAB__BUF_INIT;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0 || oab__buf_reserve(&b, (size_t)n) != OAB_OK) {
        va_end(ap2);
        return NULL;
    }
    vsnprintf(b.data, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return b.data;
}

char *oab__sprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = oab__vsprintf(fmt, ap);
    va_end(ap);
    return s;
}

int oab__hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t oab__utf8_encode(unsigned long cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

oab_status oab__set_str(char **slot, const char *s)
{
    char *p = NULL;
    if (s && !(p = oab__strdup(s)))
        return OAB_ENOMEM;
    free(*slot);
    *slot = p;
    return OAB_OK;
}

char *oab__ll_digits(char buf[OAB__LL_DIGITS], long long v)
{
    char *p = buf + OAB__LL_DIGITS;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
                                 : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return p;
}
