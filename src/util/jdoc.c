/* jdoc.c - small, fast, validating JSON document reader (result lines,
 * server bodies; see util/jdoc.h). */

#include "oaibatch.h"
#include "util/buf.h"
#include "util/jdoc.h"
#include "util/json.h"
#include "util/str.h"
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#define OAB__HAVE_SSE2 1
#endif

#define MAX_DEPTH 512

typedef struct pctx {
    oab__jdoc *d;
    const char *s;
    size_t pos, len;
    int oom;
} pctx;

static int fail(pctx *p, size_t at)
{
    p->d->err_pos = at;
    p->d->err_eof = at >= p->len;
    return -1;
}

static void skip_ws(pctx *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
            break;
        p->pos++;
    }
}

static long new_node(pctx *p)
{
    oab__jdoc *d = p->d;
    oab__jv *nv = oab__grow(d->nodes, &d->cap, d->n, sizeof *nv, 64);
    if (!nv) {
        p->oom = 1;
        return -1;
    }
    d->nodes = nv;
    memset(&d->nodes[d->n], 0, sizeof d->nodes[0]);
    return (long)d->n++;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Scans a string body starting after the opening quote. On success pos is
 * after the closing quote; *esc says whether escapes were seen. */
static int scan_string(pctx *p, int *esc)
{
    const unsigned char *s = (const unsigned char *)p->s;
    size_t i = p->pos, n = p->len;
    *esc = 0;
    for (;;) {
#ifdef OAB__HAVE_SSE2
        /* 16 bytes at a time: jump to the first '"', '\\' or control byte */
        {
            const __m128i dq = _mm_set1_epi8('"');
            const __m128i bs = _mm_set1_epi8('\\');
            const __m128i ctl = _mm_set1_epi8(0x1f);
            while (i + 16 <= n) {
                __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
                __m128i hit = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(v, dq), _mm_cmpeq_epi8(v, bs)),
                    _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl));
                unsigned m = (unsigned)_mm_movemask_epi8(hit);
                if (m) {
                    i += (size_t)__builtin_ctz(m);
                    break;
                }
                i += 16;
            }
        }
#endif
        /* 8 bytes at a time: stop at '"', '\\' or a control byte */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            uint64_t q = w ^ (ONES * '"');
            uint64_t b = w ^ (ONES * '\\');
            uint64_t t = ((q - ONES) & ~q) | ((b - ONES) & ~b) |
                         (w - ONES * 0x20);
            if ((t & ~w & HIGHS) != 0)
                break;
            i += 8;
        }
        if (i >= n)
            return fail(p, n);
        unsigned char c = s[i];
        if (c == '"') {
            p->pos = i + 1;
            return 0;
        }
        if (c < 0x20)
            return fail(p, i);
        if (c == '\\') {
            *esc = 1;
            if (i + 1 >= n)
                return fail(p, n);
            unsigned char e = s[i + 1];
            switch (e) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n':
            case 'r': case 't':
                i += 2;
                break;
            case 'u':
                for (int k = 0; k < 4; k++) {
                    if (i + 2 + (size_t)k >= n)
                        return fail(p, n);
                    unsigned char h = s[i + 2 + k];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
                          (h >= 'A' && h <= 'F')))
                        return fail(p, i + 2 + (size_t)k);
                }
                i += 6;
                break;
            default:
                return fail(p, i + 1);
            }
            continue;
        }
        i++;
    }
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* One or more digits from *i on (*i moved past them), else -1. */
static int scan_digits(pctx *p, size_t *i)
{
    size_t k = *i, n = p->len;
    if (k >= n)
        return fail(p, n);
    if (!is_digit(p->s[k]))
        return fail(p, k);
    while (k < n && is_digit(p->s[k]))
        k++;
    *i = k;
    return 0;
}

static int scan_number(pctx *p)
{
    size_t i = p->pos, n = p->len;
    const char *s = p->s;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return fail(p, n);
    if (s[i] == '0') {
        i++;
    } else if (is_digit(s[i])) {
        while (i < n && is_digit(s[i]))
            i++;
    } else {
        return fail(p, i);
    }
    if (i < n && s[i] == '.') {
        i++;
        if (scan_digits(p, &i) != 0)
            return -1;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (scan_digits(p, &i) != 0)
            return -1;
    }
    p->pos = i;
    return 0;
}

static int literal(pctx *p, const char *word, size_t wl)
{
    size_t avail = p->len - p->pos;
    size_t k = avail < wl ? avail : wl;
    if (memcmp(p->s + p->pos, word, k) != 0) {
        size_t j = 0;
        while (j < k && p->s[p->pos + j] == word[j])
            j++;
        return fail(p, p->pos + j);
    }
    if (avail < wl)
        return fail(p, p->len);
    p->pos += wl;
    return 0;
}

static int parse_value(pctx *p, long idx, int depth);

static int parse_container(pctx *p, long idx, int depth, int is_obj)
{
    char close = is_obj ? '}' : ']';
    p->pos++; /* the opening bracket */
    skip_ws(p);
    if (p->pos >= p->len)
        return fail(p, p->len);
    long last = -1;
    uint32_t count = 0;
    if (p->s[p->pos] == close) {
        p->pos++;
        return 0;
    }
    for (;;) {
        skip_ws(p);
        uint32_t koff = 0, klen = 0;
        int kesc = 0;
        if (is_obj) {
            if (p->pos >= p->len)
                return fail(p, p->len);
            if (p->s[p->pos] != '"')
                return fail(p, p->pos);
            p->pos++;
            koff = (uint32_t)p->pos;
            if (scan_string(p, &kesc) != 0)
                return -1;
            klen = (uint32_t)(p->pos - 1 - koff);
            skip_ws(p);
            if (p->pos >= p->len)
                return fail(p, p->len);
            if (p->s[p->pos] != ':')
                return fail(p, p->pos);
            p->pos++;
            skip_ws(p);
        }
        long child = new_node(p);
        if (child < 0)
            return -1;
        oab__jv *cv = &p->d->nodes[child];
        cv->key_off = koff;
        cv->key_len = klen;
        cv->key_esc = (uint8_t)kesc;
        if (last < 0)
            p->d->nodes[idx].child = (uint32_t)child + 1;
        else
            p->d->nodes[last].next = (uint32_t)child + 1;
        last = child;
        count++;
        if (parse_value(p, child, depth + 1) != 0)
            return -1;
        skip_ws(p);
        if (p->pos >= p->len)
            return fail(p, p->len);
        char c = p->s[p->pos];
        if (c == ',') {
            p->pos++;
            continue;
        }
        if (c == close) {
            p->pos++;
            p->d->nodes[idx].count = count;
            return 0;
        }
        return fail(p, p->pos);
    }
}

static int parse_value(pctx *p, long idx, int depth)
{
    if (depth > MAX_DEPTH)
        return fail(p, p->pos);
    skip_ws(p);
    if (p->pos >= p->len)
        return fail(p, p->len);
    size_t start = p->pos;
    char c = p->s[start];
    int type, rc, esc = 0;
    switch (c) {
    case '{':
    case '[':
        type = c == '{' ? OAB__J_OBJECT : OAB__J_ARRAY;
        p->d->nodes[idx].type = (uint8_t)type;
        rc = parse_container(p, idx, depth, c == '{');
        break;
    case '"':
        type = OAB__J_STRING;
        p->pos++;
        rc = scan_string(p, &esc);
        if (rc == 0) {
            oab__jv *v = &p->d->nodes[idx];
            v->type = (uint8_t)type;
            v->esc = (uint8_t)esc;
            v->off = (uint32_t)(start + 1);
            v->len = (uint32_t)(p->pos - start - 2);
        }
        return rc;
    case 't':
        type = OAB__J_TRUE;
        rc = literal(p, "true", 4);
        break;
    case 'f':
        type = OAB__J_FALSE;
        rc = literal(p, "false", 5);
        break;
    case 'n':
        type = OAB__J_NULL;
        rc = literal(p, "null", 4);
        break;
    default:
        type = OAB__J_NUMBER;
        rc = scan_number(p);
        break;
    }
    if (rc != 0)
        return rc;
    oab__jv *v = &p->d->nodes[idx];
    v->type = (uint8_t)type;
    v->off = (uint32_t)start;
    v->len = (uint32_t)(p->pos - start);
    return 0;
}

oab_status oab__jdoc_parse(oab__jdoc *d, const char *text, size_t len)
{
    d->text = text;
    d->len = len;
    d->n = 0;
    d->err_pos = 0;
    d->err_eof = 0;
    if (len >= UINT32_MAX)
        return OAB_ELIMIT;
    pctx p = {d, text, 0, len, 0};
    long root = new_node(&p);
    if (root < 0)
        return OAB_ENOMEM;
    if (parse_value(&p, root, 0) != 0) {
        d->n = 0;
        return p.oom ? OAB_ENOMEM : OAB_EJSON;
    }
    skip_ws(&p);
    if (p.pos < len) {
        d->n = 0;
        fail(&p, p.pos);
        return OAB_EJSON;
    }
    return OAB_OK;
}

void oab__jdoc_free(oab__jdoc *d)
{
    free(d->nodes);
    d->nodes = NULL;
    d->n = d->cap = 0;
}

const oab__jv *oab__jroot(const oab__jdoc *d)
{
    return d->n ? &d->nodes[0] : NULL;
}

int oab__jis(const oab__jv *v, int type)
{
    return v && v->type == type;
}

const oab__jv *oab__jfirst(const oab__jdoc *d, const oab__jv *v)
{
    if (!v || (v->type != OAB__J_ARRAY && v->type != OAB__J_OBJECT) ||
        !v->child)
        return NULL;
    return &d->nodes[v->child - 1];
}

const oab__jv *oab__jnext(const oab__jdoc *d, const oab__jv *v)
{
    return v && v->next ? &d->nodes[v->next - 1] : NULL;
}

const oab__jv *oab__jat(const oab__jdoc *d, const oab__jv *arr, size_t i)
{
    if (!oab__jis(arr, OAB__J_ARRAY))
        return NULL;
    const oab__jv *c = oab__jfirst(d, arr);
    while (c && i--)
        c = oab__jnext(d, c);
    return c;
}

static int key_eq(const oab__jdoc *d, const oab__jv *c, const char *key,
                  size_t kl)
{
    if (!c->key_esc)
        return c->key_len == kl && memcmp(d->text + c->key_off, key, kl) == 0;
    oab__buf b = OAB__BUF_INIT;
    int eq = oab__json_unescape(d->text + c->key_off, c->key_len, &b) ==
                 OAB_OK &&
             b.len == kl && memcmp(b.data, key, kl) == 0;
    oab__buf_free(&b);
    return eq;
}

const oab__jv *oab__jget(const oab__jdoc *d, const oab__jv *obj,
                         const char *key)
{
    if (!oab__jis(obj, OAB__J_OBJECT))
        return NULL;
    size_t kl = strlen(key);
    const oab__jv *found = NULL;
    /* the last duplicate wins, as in most parsers */
    for (const oab__jv *c = oab__jfirst(d, obj); c; c = oab__jnext(d, c))
        if (key_eq(d, c, key, kl))
            found = c;
    return found;
}

const oab__jv *oab__jpath(const oab__jdoc *d, const oab__jv *v,
                          const char *dotted)
{
    char key[128];
    const char *p = dotted;
    int r;
    while (v && (r = oab__path_next(&p, key, sizeof key)) != 0) {
        if (r < 0)
            return NULL;
        v = oab__jget(d, v, key);
    }
    return v;
}

/* The value of four hex digits, or -1 when one is not a hex digit
 * (possible in text not checked by scan_string, e.g. a malformed line). */
static long read_hex4(const char *s)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = oab__hexval((unsigned char)s[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

static oab_status put_utf8(oab__buf *b, unsigned cp)
{
    char u[4];
    return oab__buf_append(b, u, oab__utf8_encode(cp, u));
}

/* s is a string body already checked by scan_string. */
oab_status oab__json_unescape(const char *s, size_t len, oab__buf *b)
{
    if (oab__buf_reserve(b, len) != OAB_OK)
        return OAB_ENOMEM;
    size_t i = 0;
    while (i < len) {
        const char *bs = memchr(s + i, '\\', len - i);
        size_t run = bs ? (size_t)(bs - (s + i)) : len - i;
        if (run && oab__buf_append(b, s + i, run) != OAB_OK)
            return OAB_ENOMEM;
        i += run;
        if (i >= len)
            break;
        if (i + 1 >= len)
            return OAB_EJSON;
        char e = s[i + 1];
        char c;
        oab_status st;
        switch (e) {
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
            if (i + 6 > len)
                return OAB_EJSON;
            long hex = read_hex4(s + i + 2);
            if (hex < 0)
                return OAB_EJSON;
            unsigned cp = (unsigned)hex;
            i += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= len &&
                s[i] == '\\' && s[i + 1] == 'u') {
                long lo = read_hex4(s + i + 2);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) +
                         (unsigned)(lo - 0xDC00);
                    i += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xFFFD; /* a lone surrogate */
            st = put_utf8(b, cp);
            if (st != OAB_OK)
                return st;
            continue;
        }
        default: c = e; break; /* '"', '\\', '/' */
        }
        if (oab__buf_putc(b, c) != OAB_OK)
            return OAB_ENOMEM;
        i += 2;
    }
    return OAB_OK;
}

oab_status oab__jstr_append(const oab__jdoc *d, const oab__jv *v,
                            oab__buf *b)
{
    if (!oab__jis(v, OAB__J_STRING))
        return OAB_EINVAL;
    if (!v->esc)
        return oab__buf_append(b, d->text + v->off, v->len);
    return oab__json_unescape(d->text + v->off, v->len, b);
}

char *oab__jstr_dup(const oab__jdoc *d, const oab__jv *v, int *oom)
{
    if (!oab__jis(v, OAB__J_STRING))
        return NULL;
    char *r;
    if (!v->esc) {
        r = oab__strndup(d->text + v->off, v->len);
    } else {
        oab__buf b = OAB__BUF_INIT;
        if (oab__json_unescape(d->text + v->off, v->len, &b) != OAB_OK) {
            oab__buf_free(&b);
            r = NULL;
        } else {
            r = oab__buf_take(&b, NULL);
        }
    }
    if (!r && oom)
        *oom = 1;
    return r;
}

int oab__jstr_eq(const oab__jdoc *d, const oab__jv *v, const char *s)
{
    if (!oab__jis(v, OAB__J_STRING))
        return 0;
    size_t n = strlen(s);
    if (!v->esc)
        return v->len == n && memcmp(d->text + v->off, s, n) == 0;
    oab__buf b = OAB__BUF_INIT;
    int eq = oab__json_unescape(d->text + v->off, v->len, &b) == OAB_OK &&
             b.len == n && memcmp(b.data, s, n) == 0;
    oab__buf_free(&b);
    return eq;
}

char *oab__jraw_dup(const oab__jdoc *d, const oab__jv *v)
{
    if (!v)
        return NULL;
    if (v->type == OAB__J_STRING) /* include the quotes */
        return oab__strndup(d->text + v->off - 1, (size_t)v->len + 2);
    return oab__strndup(d->text + v->off, v->len);
}

double oab__jnum(const oab__jdoc *d, const oab__jv *v, double dflt)
{
    if (!oab__jis(v, OAB__J_NUMBER))
        return dflt;
    char tmp[64];
    const char *s = d->text + v->off;
    /* fast path: a plain integer */
    if (v->len < 16) {
        size_t i = 0;
        int neg = 0;
        if (s[0] == '-') {
            neg = 1;
            i = 1;
        }
        long long x = 0;
        while (i < v->len && is_digit(s[i]))
            x = x * 10 + (s[i++] - '0');
        if (i == v->len)
            return neg ? -(double)x : (double)x;
    }
    if (v->len < sizeof tmp) {
        memcpy(tmp, s, v->len);
        tmp[v->len] = '\0';
        return strtod(tmp, NULL);
    }
    char *big = oab__strndup(s, v->len);
    if (!big)
        return dflt;
    double r = strtod(big, NULL);
    free(big);
    return r;
}

long long oab__jll(const oab__jdoc *d, const oab__jv *v, long long dflt)
{
    double x = oab__jnum(d, v, (double)dflt);
    if (x != x || x > 9.2e18 || x < -9.2e18)
        return dflt;
    return (long long)x;
}
