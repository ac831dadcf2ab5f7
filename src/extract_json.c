/* extract_json.c - finds the JSON value in a model's text answer: the whole
 * text, else the inside of a Markdown code fence, else the first balanced
 * {...} or [...] that parses. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <string.h>

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
           c == '\v';
}

static cJSON *parse_trimmed(const char *s, size_t len)
{
    while (len && is_ws(*s)) {
        s++;
        len--;
    }
    while (len && is_ws(s[len - 1]))
        len--;
    if (!len)
        return NULL;
    return oab__json_parse(s, len);
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
static cJSON *from_fences(const char *text, size_t len)
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
            return parse_trimmed(body, (size_t)(end - body)); /* unclosed */
        cJSON *j = parse_trimmed(body, (size_t)(close - body));
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

static cJSON *from_braces(const char *text, size_t len)
{
    const char *end = text + len;
    for (const char *p = text; p < end; p++) {
        if (*p != '{' && *p != '[')
            continue;
        const char *e = balanced_end(p, end);
        if (!e)
            continue;
        cJSON *j = oab__json_parse(p, (size_t)(e - p));
        if (j)
            return j;
    }
    return NULL;
}

cJSON *oab__extract_json(const char *text, size_t len)
{
    if (!text)
        return NULL;
    cJSON *j = parse_trimmed(text, len);
    if (!j)
        j = from_fences(text, len);
    if (!j)
        j = from_braces(text, len);
    return j;
}
