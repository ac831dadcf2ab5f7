/* json.c - cJSON helpers: bounded parsing, printing, typed member lookups, dotted paths (internal). */
#define _POSIX_C_SOURCE 200809L

#include "oaibatch.h"
#include "util/json.h"
#include "util/json_scan.h"
#include "util/limits.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

cJSON *oab__json_parse(const char *text, size_t len)
{
    if (!text)
        return NULL;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!j)
        return NULL;
    /* trailing garbage other than whitespace is an error */
    const char *stop = text + len;
    while (end && end < stop && (*end == ' ' || *end == '\t' || *end == '\r' ||
                                 *end == '\n' || *end == '\0'))
        end++;
    if (end && end < stop) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

oab_status oab__json_parse_st(cJSON **out, const char *text, size_t len)
{
    *out = oab__json_parse(text, len);
    if (*out)
        return OAB_OK;
    /* cJSON says NULL both for bad text and for a failed allocation */
    return text && oab__json_check(text, len, NULL) == OAB_OK ? OAB_ENOMEM
                                                              : OAB_EJSON;
}

char *oab__json_print(const cJSON *item)
{
    return item ? cJSON_PrintUnformatted(item) : NULL;
}

const char *oab__json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

long long oab__json_ll(const cJSON *obj, const char *key, long long dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v))
        return dflt;
    double d = v->valuedouble;
    if (d != d || d > 9.2e18 || d < -9.2e18)
        return dflt;
    return (long long)d;
}

double oab__json_num(const cJSON *obj, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

int oab__path_next(const char **p, char *key, size_t keysz)
{
    const char *s = *p;
    if (!*s)
        return 0;
    const char *dot = strchr(s, '.');
    size_t n = dot ? (size_t)(dot - s) : strlen(s);
    if (n >= keysz)
        return -1;
    memcpy(key, s, n);
    key[n] = '\0';
    *p = dot ? dot + 1 : s + n;
    return 1;
}

const cJSON *oab__json_path(const cJSON *obj, const char *dotted)
{
    char key[128];
    const char *p = dotted;
    const cJSON *cur = obj;
    int r;
    while (cur && (r = oab__path_next(&p, key, sizeof key)) != 0) {
        if (r < 0)
            return NULL;
        cur = cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, key)
                                  : NULL;
    }
    return cur;
}

/* ---- canonical form ---- */

static int cmp_key(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string ? x->string : "", y->string ? y->string : "");
}

static oab_status canonical(oab__buf *out, const cJSON *item, int depth)
{
    if (depth > OAB__JSON_MAX_DEPTH)
        return OAB_EJSON;
    oab_status st = OAB_OK;
    if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
        int obj = cJSON_IsObject(item);
        size_t n = 0;
        for (const cJSON *c = item->child; c; c = c->next)
            n++;
        const cJSON **v = malloc((n ? n : 1) * sizeof *v);
        if (!v)
            return OAB_ENOMEM;
        n = 0;
        for (const cJSON *c = item->child; c; c = c->next)
            v[n++] = c;
        if (obj)
            qsort(v, n, sizeof *v, cmp_key);
        st = oab__buf_putc(out, obj ? '{' : '[');
        for (size_t i = 0; st == OAB_OK && i < n; i++) {
            if (i)
                st = oab__buf_putc(out, ',');
            if (st == OAB_OK && obj) {
                const char *k = v[i]->string ? v[i]->string : "";
                st = oab__buf_json_string(out, k, strlen(k));
                if (st == OAB_OK)
                    st = oab__buf_putc(out, ':');
            }
            if (st == OAB_OK)
                st = canonical(out, v[i], depth + 1);
        }
        free(v);
        return st == OAB_OK ? oab__buf_putc(out, obj ? '}' : ']') : st;
    }
    char *leaf = cJSON_PrintUnformatted(item);
    if (!leaf)
        return OAB_ENOMEM;
    st = oab__buf_puts(out, leaf);
    cJSON_free(leaf);
    return st;
}

oab_status oab__json_append_canonical(oab__buf *out, const cJSON *item)
{
    return canonical(out, item, 0);
}

oab_status oab__utf8_repair(oab__buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        const unsigned char *run = p;
        size_t k = 1;
        while (run < end && (*run < 0x80 || (k = oab__utf8_seq(run, end)) != 0))
            run += *run < 0x80 ? 1 : k;
        if (oab__buf_append(b, (const char *)p, (size_t)(run - p)) != OAB_OK)
            return OAB_ENOMEM;
        if (run == end)
            break;
        /* a byte that begins no valid sequence: U+FFFD for it */
        if (oab__buf_append(b, "\xEF\xBF\xBD", 3) != OAB_OK)
            return OAB_ENOMEM;
        p = run + 1;
    }
    return OAB_OK;
}

size_t oab__json_parse_cost(const char *text, size_t len, size_t *nvalues)
{
    size_t values = 1;
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            if (c == '\\')
                i++; /* the escaped byte is the string's */
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == ',' || c == '[' || c == '{') {
            values++;
        }
    }
    /* a node, and what malloc keeps beside each block (two for a member:
     * its name is a block of its own) */
    size_t node = sizeof(cJSON) + 2 * 16;
    if (nvalues)
        *nvalues = values;
    return values > (SIZE_MAX - len) / node ? SIZE_MAX : values * node + len;
}
