/* json_scan.c - the JSON lexer (see util/json_scan.h): strings with their
 * escapes and, when asked, their UTF-8 checked; numbers; literals; whole
 * values skipped with a nesting limit; and the unescaping of a string.
 *
 * Strings are most of the bytes of a batch file, so their scan jumps over
 * plain bytes 16 at a time (SSE2) or 8 at a time (SWAR) to the next byte
 * that needs a look: '"', '\\', a control byte, and (UTF-8 checked) a byte
 * >= 0x80. */

#include "util/json_scan.h"
#include "util/json_plain.h"
#include "util/json.h"
#include "util/str.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>


void oab__jscan_init(oab__jscan *s, const char *text, size_t len,
                     int check_utf8)
{
    s->p = text;
    s->end = text + len;
    s->err = NULL;
    s->utf8 = check_utf8 != 0;
    s->bad_utf8 = 0;
    s->too_deep = 0;
}

static int fail(oab__jscan *s, const char *at)
{
    s->err = at;
    return -1;
}

/* Length of the valid UTF-8 sequence at p (p[0] >= 0x80), 0 if none. */
static inline size_t utf8_seq(const unsigned char *p,
                              const unsigned char *end)
{
    unsigned char c = p[0];
    size_t avail = (size_t)(end - p);
    if (c >= 0xC2 && c <= 0xDF) {
        if (avail >= 2 && (p[1] & 0xC0) == 0x80)
            return 2;
        return 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && p[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && p[1] >= 0xA0)
            return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xF4 && p[1] >= 0x90)
            return 0; /* past U+10FFFF */
        return 4;
    }
    return 0;
}

size_t oab__utf8_seq(const unsigned char *p, const unsigned char *end)
{
    return utf8_seq(p, end);
}

int oab__utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        /* ASCII 8 bytes at a time: no byte has its high bit */
        uint64_t w;
        while (end - p >= 8 &&
               (memcpy(&w, p, 8), !(w & UINT64_C(0x8080808080808080))))
            p += 8;
        if (p == end)
            break;
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t k = utf8_seq(p, end);
        if (!k)
            return 0;
        p += k;
    }
    return 1;
}

int oab__jscan_hex4(const char *p, const char *end, unsigned *out)
{
    if (end - p < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = oab__hexval((unsigned char)p[i]);
        if (h < 0)
            return -1;
        v = (v << 4) | (unsigned)h;
    }
    *out = v;
    return 0;
}


int oab__jscan_string(oab__jscan *s, const char **body, size_t *len,
                      int *esc)
{
    const unsigned char *p = (const unsigned char *)s->p + 1;
    const unsigned char *end = (const unsigned char *)s->end;
    const unsigned char *start = p;
    const int utf8 = s->utf8;
    int escaped = 0;
    for (;;) {
        p = oab__json_plain_end(p, end, utf8);
        if (p >= end)
            return fail(s, s->end);
        unsigned char c = *p;
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(s, (const char *)p); /* a raw control byte */
        if (c >= 0x80) { /* only when utf8: this and the next sequences */
            do {
                size_t n = utf8_seq(p, end);
                if (!n) {
                    s->bad_utf8 = 1;
                    n = 1;
                }
                p += n;
            } while (p < end && *p >= 0x80);
            continue;
        }
        /* a backslash */
        escaped = 1;
        if (end - p < 2)
            return fail(s, s->end);
        switch (p[1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n':
        case 'r': case 't':
            p += 2;
            continue;
        case 'u':
            break;
        default:
            return fail(s, (const char *)p + 1);
        }
        for (int k = 2; k < 6; k++) {
            if (p + k >= end)
                return fail(s, s->end);
            if (oab__hexval(p[k]) < 0)
                return fail(s, (const char *)p + k);
        }
        if (utf8) {
            unsigned u = 0, lo;
            oab__jscan_hex4((const char *)p + 2, (const char *)end, &u);
            if (u >= 0xD800 && u <= 0xDBFF) {
                if (end - p >= 12 && p[6] == '\\' && p[7] == 'u' &&
                    oab__jscan_hex4((const char *)p + 8, (const char *)end,
                                    &lo) == 0 &&
                    lo >= 0xDC00 && lo <= 0xDFFF)
                    p += 6;          /* the pair's low half */
                else
                    s->bad_utf8 = 1; /* a lone high surrogate */
            } else if (u >= 0xDC00 && u <= 0xDFFF) {
                s->bad_utf8 = 1;     /* a lone low surrogate */
            }
        }
        p += 6;
    }
    if (body)
        *body = (const char *)start;
    if (len)
        *len = (size_t)(p - start);
    if (esc)
        *esc = escaped;
    s->p = (const char *)p + 1;
    return 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* One or more digits from *p on (*p moved past them). */
static int scan_digits(oab__jscan *s, const char **pp)
{
    const char *p = *pp, *end = s->end;
    if (p >= end)
        return fail(s, end);
    if (!is_digit(*p))
        return fail(s, p);
    while (p < end && is_digit(*p))
        p++;
    *pp = p;
    return 0;
}

int oab__jscan_number(oab__jscan *s)
{
    const char *p = s->p, *end = s->end;
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return fail(s, end);
    if (*p == '0') {
        p++;
    } else if (is_digit(*p)) {
        while (p < end && is_digit(*p))
            p++;
    } else {
        return fail(s, p);
    }
    if (p < end && *p == '.') {
        p++;
        if (scan_digits(s, &p) != 0)
            return -1;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (scan_digits(s, &p) != 0)
            return -1;
    }
    s->p = p;
    return 0;
}

int oab__jscan_literal(oab__jscan *s, const char *word, size_t n)
{
    size_t avail = (size_t)(s->end - s->p);
    size_t k = avail < n ? avail : n;
    for (size_t j = 0; j < k; j++)
        if (s->p[j] != word[j])
            return fail(s, s->p + j);
    if (avail < n)
        return fail(s, s->end);
    s->p += n;
    return 0;
}

/* A container, s->p at its bracket. */
static int scan_container(oab__jscan *s, int depth)
{
    const char close = *s->p == '{' ? '}' : ']';
    s->p++;
    oab__jscan_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            if (s->p >= s->end || *s->p != '"')
                return fail(s, s->p);
            if (oab__jscan_string(s, NULL, NULL, NULL) != 0)
                return -1;
            oab__jscan_ws(s);
            if (s->p >= s->end || *s->p != ':')
                return fail(s, s->p);
            s->p++;
            oab__jscan_ws(s);
        }
        if (oab__jscan_value(s, depth + 1) != 0)
            return -1;
        oab__jscan_ws(s);
        if (s->p >= s->end)
            return fail(s, s->end);
        if (*s->p == ',') {
            s->p++;
            oab__jscan_ws(s);
            continue;
        }
        if (*s->p == close) {
            s->p++;
            return 0;
        }
        return fail(s, s->p);
    }
}

int oab__jscan_value(oab__jscan *s, int depth)
{
    if (s->p >= s->end)
        return fail(s, s->end);
    switch (*s->p) {
    case '"':
        return oab__jscan_string(s, NULL, NULL, NULL);
    case '{':
    case '[':
        if (depth >= OAB__JSON_MAX_DEPTH) {
            s->too_deep = 1;
            return fail(s, s->p);
        }
        return scan_container(s, depth);
    case 't':
        return oab__jscan_literal(s, "true", 4);
    case 'f':
        return oab__jscan_literal(s, "false", 5);
    case 'n':
        return oab__jscan_literal(s, "null", 4);
    default:
        return oab__jscan_number(s);
    }
}

/* s is a string body checked by oab__jscan_string; a malformed escape
 * still gives OAB_EJSON rather than a read past the end. The text never
 * grows when unescaped (an escape of 2, 6 or 12 bytes gives at most 1, 3
 * or 4), so the room is reserved once and written straight. */
oab_status oab__json_unescape(const char *s, size_t len, oab__buf *b)
{
    if (oab__buf_reserve(b, len) != OAB_OK)
        return OAB_ENOMEM;
    const char *end = s + len;
    char *o = b->data + b->len;
    oab_status st = OAB_OK;
    size_t i = 0;
    while (i < len) {
        const char *bs = memchr(s + i, '\\', len - i);
        size_t run = bs ? (size_t)(bs - (s + i)) : len - i;
        memcpy(o, s + i, run);
        o += run;
        i += run;
        if (i >= len)
            break;
        if (i + 1 >= len) {
            st = OAB_EJSON;
            break;
        }
        char e = s[i + 1];
        char c;
        switch (e) {
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (oab__jscan_hex4(s + i + 2, end, &cp) != 0) {
                st = OAB_EJSON;
                goto done;
            }
            i += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= len &&
                s[i] == '\\' && s[i + 1] == 'u' &&
                oab__jscan_hex4(s + i + 2, end, &lo) == 0 && lo >= 0xDC00 &&
                lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xFFFD; /* a lone surrogate */
            o += oab__utf8_encode(cp, o);
            continue;
        }
        default: c = e; break; /* '"', '\\', '/' */
        }
        *o++ = c;
        i += 2;
    }
done:
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return st;
}

/* ---- the checker and the compactor of util/json.h ---- */

/* The top-level type of a value that scanned, from its first byte. */
static char jt_of(char c)
{
    switch (c) {
    case '{': return OAB__JT_OBJECT;
    case '[': return OAB__JT_ARRAY;
    case '"': return OAB__JT_STRING;
    case 't': case 'f': return OAB__JT_BOOL;
    case 'n': return OAB__JT_NULL;
    default: return OAB__JT_NUMBER;
    }
}

oab_status oab__json_check(const char *text, size_t len, char *type)
{
    if (!text)
        return OAB_EJSON;
    oab__jscan s;
    oab__jscan_init(&s, text, len, 1);
    oab__jscan_ws(&s);
    const char *first = s.p;
    if (oab__jscan_value(&s, 0) != 0)
        return OAB_EJSON;
    oab__jscan_ws(&s);
    if (s.p != s.end || s.bad_utf8)
        return OAB_EJSON;
    if (type)
        *type = jt_of(*first);
    return OAB_OK;
}

oab_status oab__json_append_compact(oab__buf *out, const char *text,
                                    size_t len, char *type)
{
    oab_status st = oab__json_check(text, len, type);
    if (st != OAB_OK)
        return st;
    if (oab__buf_reserve(out, len) != OAB_OK)
        return OAB_ENOMEM;
    char *o = out->data + out->len;
    const char *p = text, *end = text + len;
    while (p < end) {
        char c = *p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            p++;
            continue;
        }
        if (c != '"') {
            *o++ = c;
            p++;
            continue;
        }
        /* a string (checked above), copied as it is */
        *o++ = *p++;
        while (p < end) {
            c = *p++;
            *o++ = c;
            if (c == '\\') {
                *o++ = *p++;
            } else if (c == '"') {
                break;
            }
        }
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
    return OAB_OK;
}

/* ---- strings holding U+0000 (oab__json_each_nul) ---- */

typedef struct nul_walk {
    oab__jscan s;
    oab__buf path;
    int (*fn)(const char *path, void *ud);
    void *ud;
    int stop;
    int oom;
} nul_walk;

/* 1 when the string body b[0..n) (checked by oab__jscan_string) holds the
 * escape of U+0000. */
static int body_has_nul(const char *b, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (b[i] != '\\')
            continue;
        unsigned v;
        if (b[i + 1] == 'u' && oab__jscan_hex4(b + i + 2, b + n, &v) == 0 &&
            v == 0)
            return 1;
        i += b[i + 1] == 'u' ? 5 : 1;
    }
    return 0;
}

static void nul_found(nul_walk *w)
{
    if (w->fn(w->path.data ? w->path.data : "", w->ud))
        w->stop = 1;
}

static void path_cut(oab__buf *b, size_t len)
{
    b->len = len;
    if (b->data)
        b->data[len] = '\0';
}

static int nul_value(nul_walk *w, int depth)
{
    oab__jscan *s = &w->s;
    oab__jscan_ws(s);
    if (s->p >= s->end)
        return -1;
    char c = *s->p;
    const char *b;
    size_t n;
    int esc;
    if (c == '"') {
        if (oab__jscan_string(s, &b, &n, &esc) != 0)
            return -1;
        if (esc && body_has_nul(b, n))
            nul_found(w);
        return 0;
    }
    if (c != '{' && c != '[')
        return oab__jscan_value(s, depth);
    if (depth >= OAB__JSON_MAX_DEPTH)
        return -1;
    char close = c == '{' ? '}' : ']';
    size_t mark = w->path.len;
    s->p++;
    oab__jscan_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 0;
    }
    for (long i = 0;; i++) {
        oab_status st;
        if (c == '{') {
            oab__jscan_ws(s);
            if (s->p >= s->end || *s->p != '"' ||
                oab__jscan_string(s, &b, &n, &esc) != 0)
                return -1;
            st = mark ? oab__buf_putc(&w->path, '.') : OAB_OK;
            if (st == OAB_OK)
                st = oab__buf_append(&w->path, b, n);
            if (st == OAB_OK && esc && body_has_nul(b, n))
                nul_found(w);
            oab__jscan_ws(s);
            if (s->p >= s->end || *s->p != ':')
                return -1;
            s->p++;
        } else {
            st = oab__buf_printf(&w->path, "[%ld]", i);
        }
        if (st != OAB_OK) {
            w->oom = 1;
            return -1;
        }
        if (w->stop || nul_value(w, depth + 1) != 0)
            return w->stop ? 0 : -1;
        if (w->stop)
            return 0;
        path_cut(&w->path, mark);
        oab__jscan_ws(s);
        if (s->p >= s->end)
            return -1;
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p != close)
            return -1;
        s->p++;
        return 0;
    }
}

oab_status oab__json_each_nul(const char *text, size_t len,
                              int (*fn)(const char *path, void *ud),
                              void *ud)
{
    nul_walk w;
    memset(&w, 0, sizeof w);
    oab__jscan_init(&w.s, text, len, 0);
    w.fn = fn;
    w.ud = ud;
    int rc = nul_value(&w, 0);
    oab__buf_free(&w.path);
    if (w.oom)
        return OAB_ENOMEM;
    return rc == 0 || w.stop ? OAB_OK : OAB_EJSON;
}

int oab__json_may_hold_nul(const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    while (p && (p = memchr(p, '\\', (size_t)(end - p))) && end - p >= 6) {
        if (!memcmp(p + 1, "u0000", 5))
            return 1;
        p += 2; /* past the escape: "\\\\" does not start one */
    }
    return 0;
}

typedef struct first_nul {
    char *path;
    size_t cap;
    int found;
} first_nul;

static int keep_first(const char *path, void *ud)
{
    first_nul *f = ud;
    snprintf(f->path, f->cap, "%s", path);
    f->found = 1;
    return 1;
}

int oab__json_first_nul(const char *text, size_t len, char *path,
                        size_t cap)
{
    if (cap)
        path[0] = '\0';
    if (!oab__json_may_hold_nul(text, len))
        return 0;
    first_nul f = { path, cap, 0 };
    if (oab__json_each_nul(text, len, keep_first, &f) == OAB_ENOMEM)
        return -1;
    return f.found;
}
