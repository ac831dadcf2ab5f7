/* common.c - helpers shared by the examples. See common.h. */
#define _POSIX_C_SOURCE 200809L

#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *ex_model(void)
{
    const char *m = getenv("OAB_MODEL");
    return (m && *m) ? m : "gpt-4o-mini";
}

oab_client *ex_client(void)
{
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    oab_client *c = NULL;
    oab_status st;

    o.model = ex_model(); /* base URL and key: OPENAI_BASE_URL, OPENAI_API_KEY */
    st = oab_client_new(&c, &o);
    if (st != OAB_OK) {
        fprintf(stderr, "error: cannot create the client: %s\n",
                oab_strerror(st));
        if (st == OAB_ENOKEY)
            fprintf(stderr, "hint: export OPENAI_API_KEY=sk-..., or point "
                            "OPENAI_BASE_URL at a local `oaibatch serve`\n");
        return NULL;
    }
    return c;
}

int ex_fail(oab_client *c, const char *what, oab_status st)
{
    if (c)
        fprintf(stderr, "error: %s: %s\n", what, oab_client_errmsg(c));
    else
        fprintf(stderr, "error: %s: %s\n", what, oab_strerror(st));
    return 1;
}

static double env_seconds(const char *name, double dflt)
{
    const char *v = getenv(name);
    char *end = NULL;
    double d;

    if (!v || !*v)
        return dflt;
    d = strtod(v, &end);
    if (end == v || *end != '\0' || d < 0) {
        fprintf(stderr, "warning: ignoring %s=%s (not a number of seconds)\n",
                name, v);
        return dflt;
    }
    return d;
}

/* Prints a line on stderr when the status or the counts change. */
static int print_progress(const oab_job *job, void *userdata)
{
    static char last[128];
    char now[128];

    (void)userdata;
    if (job->has_request_counts)
        snprintf(now, sizeof now, "%s: %s, %lld/%lld done, %lld failed",
                 job->id, job->status_text ? job->status_text : "?",
                 job->count_completed + job->count_failed, job->count_total,
                 job->count_failed);
    else
        snprintf(now, sizeof now, "%s: %s", job->id,
                 job->status_text ? job->status_text : "?");
    if (strcmp(now, last) != 0) {
        fprintf(stderr, "  [wait] %s\n", now);
        snprintf(last, sizeof last, "%s", now);
    }
    return 0; /* non-zero would stop waiting */
}

oab_wait_options ex_wait_options(void)
{
    oab_wait_options w = OAB_WAIT_OPTIONS_INIT;
    double first = env_seconds("OAB_POLL_INTERVAL", 5.0);

    w.first_interval_s = first;
    if (first < 5.0) /* a fast local server: keep polling quickly */
        w.max_interval_s = first > 0 ? first * 4 : 1.0;
    /* The window is 24 hours; a batch may sit in finalizing a while more. */
    w.timeout_s = env_seconds("OAB_WAIT_TIMEOUT", 25.0 * 3600);
    w.progress = print_progress;
    return w;
}

oab_status ex_wait(oab_client *c, const char *batch_id, oab_job **out)
{
    oab_wait_options w = ex_wait_options();
    oab_status st = oab_batch_wait(c, out, batch_id, &w);

    if (st == OAB_ETIMEOUT)
        fprintf(stderr, "error: batch %s did not finish within %.0f s; it is "
                        "still running and can be read later\n",
                batch_id, w.timeout_s);
    else if (st != OAB_OK)
        ex_fail(c, "waiting for the batch", st);
    return st;
}

const char *ex_time(long long unix_s, char *buf, size_t size)
{
    time_t t = (time_t)unix_s;
    struct tm tm;

    if (unix_s <= 0 || !gmtime_r(&t, &tm) ||
        strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, size, "-");
    return buf;
}

/* ---------------------------------------------------------------- */
/* JSON reading                                                      */
/* ---------------------------------------------------------------- */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* p at '"'; returns the char after the closing quote, NULL if unterminated */
static const char *skip_string(const char *p)
{
    for (p++; *p; p++) {
        if (*p == '\\') {
            if (!p[1])
                return NULL;
            p++;
        } else if (*p == '"') {
            return p + 1;
        }
    }
    return NULL;
}

/* Skips one value; NULL when malformed. depth bounds the nesting. */
static const char *skip_value(const char *p, int depth)
{
    p = skip_ws(p);
    if (depth > 64)
        return NULL;
    if (*p == '"')
        return skip_string(p);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = skip_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (close == '}') {
                if (*p != '"' || !(p = skip_string(p)))
                    return NULL;
                p = skip_ws(p);
                if (*p != ':')
                    return NULL;
                p++;
            }
            if (!(p = skip_value(p, depth + 1)))
                return NULL;
            p = skip_ws(p);
            if (*p == ',') {
                p = skip_ws(p + 1);
                continue;
            }
            return *p == close ? p + 1 : NULL;
        }
    }
    /* number, true, false, null */
    if (!*p || !strchr("-0123456789tfn", *p))
        return NULL;
    while (*p && !strchr(",}] \t\r\n", *p))
        p++;
    return p;
}

/* Compares the JSON string literal at p (with escapes) to key. */
static int string_equals(const char *p, const char *end, const char *key)
{
    size_t n = strlen(key);
    /* keys in the examples have no escapes: compare raw text */
    return (size_t)(end - p - 2) == n && memcmp(p + 1, key, n) == 0;
}

int ex_json_member(const char *json, const char *key, const char **val,
                   size_t *len)
{
    const char *p = json ? skip_ws(json) : NULL;

    if (!p || *p != '{')
        return 0;
    p = skip_ws(p + 1);
    while (*p == '"') {
        const char *k = p, *kend = skip_string(p), *v, *vend;
        if (!kend)
            return 0;
        p = skip_ws(kend);
        if (*p != ':')
            return 0;
        v = skip_ws(p + 1);
        vend = skip_value(v, 0);
        if (!vend)
            return 0;
        if (string_equals(k, kend, key)) {
            *val = v;
            *len = (size_t)(vend - v);
            return 1;
        }
        p = skip_ws(vend);
        if (*p != ',')
            return 0;
        p = skip_ws(p + 1);
    }
    return 0;
}

static int put_utf8(char *buf, size_t size, size_t *n, unsigned long cp)
{
    unsigned char tmp[4];
    size_t k = 0, i;

    if (cp < 0x80) {
        tmp[k++] = (unsigned char)cp;
    } else if (cp < 0x800) {
        tmp[k++] = (unsigned char)(0xC0 | (cp >> 6));
        tmp[k++] = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        tmp[k++] = (unsigned char)(0xE0 | (cp >> 12));
        tmp[k++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[k++] = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        tmp[k++] = (unsigned char)(0xF0 | (cp >> 18));
        tmp[k++] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        tmp[k++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[k++] = (unsigned char)(0x80 | (cp & 0x3F));
    }
    if (*n + k >= size)
        return 0;
    for (i = 0; i < k; i++)
        buf[(*n)++] = (char)tmp[i];
    return 1;
}

static int hex4(const char *p, unsigned long *out)
{
    unsigned long v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        char ch = p[i];
        v <<= 4;
        if (ch >= '0' && ch <= '9')
            v |= (unsigned long)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            v |= (unsigned long)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            v |= (unsigned long)(ch - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

int ex_json_string(const char *json, const char *key, char *buf, size_t size)
{
    const char *v, *p;
    size_t len, n = 0;

    if (size == 0 || !ex_json_member(json, key, &v, &len) || *v != '"')
        return 0;
    for (p = v + 1; p < v + len - 1; p++) {
        unsigned long cp;
        char ch = *p;
        if (ch != '\\') {
            if (n + 1 >= size)
                return 0;
            buf[n++] = ch;
            continue;
        }
        ch = *++p;
        switch (ch) {
        case 'n': cp = '\n'; break;
        case 't': cp = '\t'; break;
        case 'r': cp = '\r'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'u':
            if (!hex4(p + 1, &cp))
                return 0;
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && p[1] == '\\' && p[2] == 'u') {
                unsigned long lo;
                if (hex4(p + 3, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
            }
            break;
        default: cp = (unsigned char)ch; break; /* \" \\ \/ */
        }
        if (!put_utf8(buf, size, &n, cp))
            return 0;
    }
    buf[n] = '\0';
    return 1;
}

int ex_json_number(const char *json, const char *key, double *out)
{
    const char *v;
    size_t len;
    char tmp[64];
    char *end;

    if (!ex_json_member(json, key, &v, &len) || len == 0 ||
        len >= sizeof tmp || !strchr("-0123456789", *v))
        return 0;
    memcpy(tmp, v, len);
    tmp[len] = '\0';
    *out = strtod(tmp, &end);
    return *end == '\0';
}

/* ---------------------------------------------------------------- */
/* Growable strings                                                  */
/* ---------------------------------------------------------------- */

static int str_append(ex_str *s, const char *text, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        char *d;
        while (cap < s->len + n + 1)
            cap *= 2;
        d = realloc(s->data, cap);
        if (!d)
            return 0;
        s->data = d;
        s->cap = cap;
    }
    memcpy(s->data + s->len, text, n);
    s->len += n;
    s->data[s->len] = '\0';
    return 1;
}

int ex_str_puts(ex_str *s, const char *text)
{
    return str_append(s, text, strlen(text));
}

int ex_str_quote(ex_str *s, const char *text)
{
    const unsigned char *p = (const unsigned char *)(text ? text : "");

    if (!str_append(s, "\"", 1))
        return 0;
    for (; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"': if (!str_append(s, "\\\"", 2)) return 0; break;
        case '\\': if (!str_append(s, "\\\\", 2)) return 0; break;
        case '\n': if (!str_append(s, "\\n", 2)) return 0; break;
        case '\r': if (!str_append(s, "\\r", 2)) return 0; break;
        case '\t': if (!str_append(s, "\\t", 2)) return 0; break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                if (!str_append(s, esc, 6))
                    return 0;
            } else if (!str_append(s, (const char *)p, 1)) {
                return 0;
            }
        }
    }
    return str_append(s, "\"", 1);
}
