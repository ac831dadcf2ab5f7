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
    t->delim[0] = t->delim[1] = '-';
    memcpy(t->delim + 2, buf, n);
    t->delim[n + 2] = t->delim[n + 3] = '-';
    t->dlen = n + 4;
    return 1;
}

void srv_mp_feed(srv_mp_tail *t, const char *data, size_t len)
{
    const size_t cap = sizeof t->tail;
    if (len >= cap) {
        memcpy(t->tail, data + len - cap, cap);
        t->tlen = cap;
        return;
    }
    if (t->tlen + len > cap) {
        size_t drop = t->tlen + len - cap;
        memmove(t->tail, t->tail + drop, t->tlen - drop);
        t->tlen -= drop;
    }
    memcpy(t->tail + t->tlen, data, len);
    t->tlen += len;
}

int srv_mp_complete(const srv_mp_tail *t)
{
    size_t n = t->tlen;
    while (n && (t->tail[n - 1] == '\r' || t->tail[n - 1] == '\n' ||
                 t->tail[n - 1] == ' ' || t->tail[n - 1] == '\t'))
        n--;
    if (!t->dlen || n < t->dlen)
        return 0;
    if (memcmp(t->tail + n - t->dlen, t->delim, t->dlen) != 0)
        return 0;
    /* the delimiter starts a line (or the body) */
    size_t at = n - t->dlen;
    return at == 0 || t->tail[at - 1] == '\n';
}

int srv_field_is(const char *data, size_t len, const char *s)
{
    size_t n = strlen(s);
    return data && len == n && memcmp(data, s, n) == 0;
}
