/* json.c - cJSON helpers: bounded parsing, printing, typed member lookups, dotted paths (internal). */
#define _POSIX_C_SOURCE 200809L

#include "oaibatch.h"
#include "util/json.h"
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
