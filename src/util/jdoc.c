/* jdoc.c - small, fast, validating JSON document reader (result lines,
 * server bodies; see util/jdoc.h). */

#include "oaibatch.h"
#include "util/buf.h"
#include "util/jdoc.h"
#include "util/json.h"
#include "util/json_scan.h"
#include "util/str.h"
#include "util/limits.h"
#include <stdlib.h>
#include <string.h>

typedef struct pctx {
    oab__jdoc *d;
    oab__jscan s;
    int oom;
} pctx;

/* Records where the scan failed. */
static int fail(pctx *p)
{
    p->d->err_pos = (size_t)(p->s.err - p->d->text);
    p->d->err_eof = p->s.err >= p->s.end;
    return -1;
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

static uint32_t off_of(const pctx *p, const char *at)
{
    return (uint32_t)(at - p->d->text);
}

static int parse_value(pctx *p, long idx, int depth);

static int parse_container(pctx *p, long idx, int depth, int is_obj)
{
    oab__jscan *s = &p->s;
    char close = is_obj ? '}' : ']';
    s->p++; /* the opening bracket */
    oab__jscan_ws(s);
    if (s->p >= s->end) {
        s->err = s->end;
        return fail(p);
    }
    long last = -1;
    uint32_t count = 0;
    if (*s->p == close) {
        s->p++;
        return 0;
    }
    for (;;) {
        oab__jscan_ws(s);
        const char *key = NULL;
        size_t klen = 0;
        int kesc = 0;
        if (is_obj) {
            if (s->p >= s->end || *s->p != '"') {
                s->err = s->p;
                return fail(p);
            }
            if (oab__jscan_string(s, &key, &klen, &kesc) != 0)
                return fail(p);
            oab__jscan_ws(s);
            if (s->p >= s->end || *s->p != ':') {
                s->err = s->p;
                return fail(p);
            }
            s->p++;
        }
        long child = new_node(p);
        if (child < 0)
            return -1;
        oab__jv *cv = &p->d->nodes[child];
        cv->key_off = key ? off_of(p, key) : 0;
        cv->key_len = (uint32_t)klen;
        cv->key_esc = (uint8_t)kesc;
        if (last < 0)
            p->d->nodes[idx].child = (uint32_t)child + 1;
        else
            p->d->nodes[last].next = (uint32_t)child + 1;
        last = child;
        count++;
        if (parse_value(p, child, depth + 1) != 0)
            return -1;
        oab__jscan_ws(s);
        if (s->p >= s->end) {
            s->err = s->end;
            return fail(p);
        }
        char c = *s->p;
        if (c == ',') {
            s->p++;
            continue;
        }
        if (c == close) {
            s->p++;
            p->d->nodes[idx].count = count;
            return 0;
        }
        s->err = s->p;
        return fail(p);
    }
}

static int parse_value(pctx *p, long idx, int depth)
{
    oab__jscan *s = &p->s;
    oab__jscan_ws(s);
    if (s->p >= s->end) {
        s->err = s->end;
        return fail(p);
    }
    const char *start = s->p;
    char c = *start;
    int type, rc;
    switch (c) {
    case '{':
    case '[':
        if (depth >= OAB__JSON_MAX_DEPTH) {
            s->err = start;
            return fail(p);
        }
        type = c == '{' ? OAB__J_OBJECT : OAB__J_ARRAY;
        p->d->nodes[idx].type = (uint8_t)type;
        rc = parse_container(p, idx, depth, c == '{');
        if (rc != 0)
            return rc;
        break;
    case '"': {
        const char *body;
        size_t len;
        int esc;
        if (oab__jscan_string(s, &body, &len, &esc) != 0)
            return fail(p);
        oab__jv *v = &p->d->nodes[idx];
        v->type = OAB__J_STRING;
        v->esc = (uint8_t)esc;
        v->off = off_of(p, body);
        v->len = (uint32_t)len;
        return 0;
    }
    case 't':
        type = OAB__J_TRUE;
        rc = oab__jscan_literal(s, "true", 4);
        break;
    case 'f':
        type = OAB__J_FALSE;
        rc = oab__jscan_literal(s, "false", 5);
        break;
    case 'n':
        type = OAB__J_NULL;
        rc = oab__jscan_literal(s, "null", 4);
        break;
    default:
        type = OAB__J_NUMBER;
        rc = oab__jscan_number(s);
        break;
    }
    if (rc != 0)
        return fail(p);
    oab__jv *v = &p->d->nodes[idx];
    v->type = (uint8_t)type;
    v->off = off_of(p, start);
    v->len = (uint32_t)(s->p - start);
    return 0;
}

oab_status oab__jdoc_parse(oab__jdoc *d, const char *text, size_t len)
{
    d->text = text;
    d->len = len;
    d->n = 0;
    d->err_pos = 0;
    d->err_eof = 0;
    if (len > OAB__JDOC_MAX_BYTES)
        return OAB_ELIMIT;
    pctx p;
    p.d = d;
    p.oom = 0;
    oab__jscan_init(&p.s, text, len, 0);
    long root = new_node(&p);
    if (root < 0)
        return OAB_ENOMEM;
    if (parse_value(&p, root, 0) != 0) {
        d->n = 0;
        return p.oom ? OAB_ENOMEM : OAB_EJSON;
    }
    oab__jscan_ws(&p.s);
    if (p.s.p < p.s.end) {
        d->n = 0;
        p.s.err = p.s.p;
        fail(&p);
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
        return c->key_len == kl &&
               (!kl || d->text[c->key_off] == key[0]) &&
               memcmp(d->text + c->key_off, key, kl) == 0;
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
        while (i < v->len && s[i] >= '0' && s[i] <= '9')
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
