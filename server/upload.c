/* upload.c - the boundary and the closing delimiter of a multipart body,
 * byte-exact field comparison. */
#include "upload.h"

#include <string.h>
#include <strings.h>

int srv_mp_begin(srv_mp_tail *t, const char *ct)
{
    memset(t, 0, sizeof *t);
    if (!ct)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    static const char mt[] = "multipart/form-data";
    if (strncasecmp(ct, mt, sizeof mt - 1) != 0)
        return 0;
    const char *p = ct + sizeof mt - 1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != ';')
        return 0;
    /* the boundary parameter (case-insensitive name, maybe quoted) */
    const char *b = NULL;
    for (const char *q = p; *q; q++) {
        if ((q[0] == ';' || q[0] == ' ' || q[0] == '\t') &&
            !strncasecmp(q + 1, "boundary=", 9)) {
            b = q + 10;
            break;
        }
    }
    if (!b)
        return 0;
    size_t n = 0;
    char buf[SRV_BOUNDARY_MAX + 1];
    if (*b == '"') {
        b++;
        while (b[n] && b[n] != '"' && n < SRV_BOUNDARY_MAX + 1)
            n++;
        if (b[n] != '"')
            return 0;
    } else {
        while (b[n] && b[n] != ';' && b[n] != ' ' && b[n] != '\t' &&
               n < SRV_BOUNDARY_MAX + 1)
            n++;
    }
    if (n == 0 || n > SRV_BOUNDARY_MAX)
        return 0;
    memcpy(buf, b, n);
    t->delim[0] = '\r';
    t->delim[1] = '\n';
    t->delim[2] = t->delim[3] = '-';
    memcpy(t->delim + 4, buf, n);
    t->delim[n + 4] = t->delim[n + 5] = '-';
    t->dlen = n + 6;
    /* at the start of the body a delimiter needs no CRLF before it */
    t->matched = 2;
    return 1;
}

size_t srv_mp_feed(srv_mp_tail *t, const char *data, size_t len)
{
    if (t->closed || !t->dlen)
        return t->closed ? 0 : len;
    /* the delimiter holds no CR after its first byte (a boundary is
     * 1-70 characters of RFC 2046's bchars), so a mismatch restarts the
     * match at a CR or at nothing */
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (c == t->delim[t->matched]) {
            if (++t->matched == t->dlen) {
                t->closed = 1;
                return i + 1;
            }
        } else {
            t->matched = c == '\r';
        }
    }
    return len;
}

int srv_mp_complete(const srv_mp_tail *t)
{
    return t->closed;
}

int srv_field_is(const char *data, size_t len, const char *s)
{
    size_t n = strlen(s);
    return data && len == n && memcmp(data, s, n) == 0;
}
