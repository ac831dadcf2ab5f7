/* util/base64.c - base64 (RFC 4648) encoding and decoding. */
#include "util/base64.h"

oab_status oab__base64_encode(const void *data, size_t n, oab__buf *out)
{
    static const char al[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {al[(v >> 18) & 63], al[(v >> 12) & 63],
                     i + 1 < n ? al[(v >> 6) & 63] : '=',
                     i + 2 < n ? al[v & 63] : '='};
        if (oab__buf_append(out, q, 4) != OAB_OK)
            return OAB_ENOMEM;
    }
    if (oab__buf_putc(out, '\0') != OAB_OK)
        return OAB_ENOMEM;
    out->len--;
    return OAB_OK;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

oab_status oab__base64_decode(const char *s, size_t len, oab__buf *out)
{
    unsigned acc = 0;
    int bits = 0;
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '=')
            break;
        int v = b64val(s[i]);
        if (v < 0)
            return OAB_EJSON;
        chars++;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (oab__buf_putc(out, (char)((acc >> bits) & 0xFF)) != OAB_OK)
                return OAB_ENOMEM;
        }
    }
    return chars % 4 == 1 ? OAB_EJSON : OAB_OK;
}
