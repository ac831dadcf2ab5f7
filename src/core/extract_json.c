/* extract_json.c - finds the JSON value in a model's text answer: the whole
 * text, else the inside of a Markdown code fence, else the first balanced
 * {...} or [...] that parses. */
#define _POSIX_C_SOURCE 200809L

#include "oaibatch.h"
#include "core/extract_json.h"
#include "util/json.h"
#include <string.h>

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
           c == '\v';
}

/* Parses s[0..len); NULL when it is not JSON, or (*oom set) when memory
 * ran out. */
static cJSON *parse_oom(const char *s, size_t len, int *oom)
{
    cJSON *j = NULL;
    if (oab__json_parse_st(&j, s, len) == OAB_ENOMEM)
        *oom = 1;
    return j;
}

static cJSON *parse_trimmed(const char *s, size_t len, int *oom)
{
    while (len && is_ws(*s)) {
        s++;
        len--;
    }
    while (len && is_ws(s[len - 1]))
        len--;
    if (!len)
        return NULL;
    return parse_oom(s, len, oom);
}

static const char *find3(const char *s, const char *end)
{
    for (const char *p = s; p + 3 <= end; p++) {
        if (p[0] == '`' && p[1] == '`' && p[2] == '`')
            return p;
    }
    return NULL;
}

/* ```lang\n ... ``` fences, in order; the first whose inside parses. */
static cJSON *from_fences(const char *text, size_t len, int *oom)
{
    const char *end = text + len;
    const char *p = text;
    const char *open;
    while ((open = find3(p, end)) != NULL) {
        const char *body = open + 3;
        while (body < end && *body == '`') /* longer fences */
            body++;
        /* info string: up to the end of the line, if it is a word */
        const char *q = body;
        while (q < end && *q != '\n' && !is_ws(*q) && *q != '{' && *q != '[')
            q++;
        const char *nl = q;
        while (nl < end && (*nl == ' ' || *nl == '\t' || *nl == '\r'))
            nl++;
        if (nl < end && *nl == '\n')
            body = nl + 1;
        else if (q > body && (q == end || *q == '{' || *q == '['))
            body = q; /* "```json{...}" on one line */
        const char *close = find3(body, end);
        if (!close)
            return parse_trimmed(body, (size_t)(end - body),
                                 oom); /* unclosed */
        cJSON *j = parse_trimmed(body, (size_t)(close - body), oom);
        if (j)
            return j;
        p = close + 3;
        while (p < end && *p == '`')
            p++;
    }
    return NULL;
}

/* The end (one past) of the balanced value starting at s (a '{' or '['),
 * skipping strings; NULL if it never closes. */
static const char *balanced_end(const char *s, const char *end)
{
    char stack[256];
    size_t depth = 0;
    int in_str = 0;
    for (const char *p = s; p < end; p++) {
        char c = *p;
        if (in_str) {
            if (c == '\\' && p + 1 < end)
                p++;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (depth == sizeof stack)
                return NULL;
            stack[depth++] = c == '{' ? '}' : ']';
        } else if (c == '}' || c == ']') {
            if (!depth || stack[depth - 1] != c)
                return NULL;
            if (--depth == 0)
                return p + 1;
        }
    }
    return NULL;
}

static cJSON *from_braces(const char *text, size_t len, int *oom)
{
    const char *end = text + len;
    for (const char *p = text; p < end; p++) {
        if (*p != '{' && *p != '[')
            continue;
        const char *e = balanced_end(p, end);
        if (!e)
            continue;
        cJSON *j = parse_oom(p, (size_t)(e - p), oom);
        if (j)
            return j;
    }
    return NULL;
}

static cJSON *extract(const char *text, size_t len, int *oom)
{
    if (!text)
        return NULL;
    cJSON *j = parse_trimmed(text, len, oom);
    if (!j)
        j = from_fences(text, len, oom);
    if (!j)
        j = from_braces(text, len, oom);
    return j;
}

cJSON *oab__extract_json(const char *text, size_t len)
{
    int oom = 0;
    return extract(text, len, &oom);
}

oab_status oab__extract_json_st(cJSON **out, const char *text, size_t len)
{
    int oom = 0;
    *out = extract(text, len, &oom);
    if (oom) {
        /* a value found after a failed parse may not be the first one */
        cJSON_Delete(*out);
        *out = NULL;
        return OAB_ENOMEM;
    }
    return OAB_OK;
}
