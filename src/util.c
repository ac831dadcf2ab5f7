/* util.c - buffers, strings, errors, JSON and time helpers (internal). */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"
#include "request_internal.h" /* oab__json_check */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- buffer ---- */

oab_status oab__buf_reserve(oab__buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return OAB_ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return OAB_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return OAB_ENOMEM;
    b->data = p;
    b->cap = cap;
    return OAB_OK;
}

oab_status oab__buf_append(oab__buf *b, const void *data, size_t len)
{
    if (oab__buf_reserve(b, len) != OAB_OK)
        return OAB_ENOMEM;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return OAB_OK;
}

oab_status oab__buf_puts(oab__buf *b, const char *s)
{
    return oab__buf_append(b, s, strlen(s));
}

oab_status oab__buf_putc(oab__buf *b, char c)
{
    return oab__buf_append(b, &c, 1);
}

oab_status oab__buf_printf(oab__buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return OAB_EINVAL;
    }
    if (oab__buf_reserve(b, (size_t)n) != OAB_OK) {
        va_end(ap2);
        return OAB_ENOMEM;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
    return OAB_OK;
}

oab_status oab__buf_json_string(oab__buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (oab__buf_reserve(b, len + 2) != OAB_OK)
        return OAB_ENOMEM;
    oab__buf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        oab_status st = OAB_OK;
        switch (c) {
        case '"': st = oab__buf_append(b, "\\\"", 2); break;
        case '\\': st = oab__buf_append(b, "\\\\", 2); break;
        case '\n': st = oab__buf_append(b, "\\n", 2); break;
        case '\r': st = oab__buf_append(b, "\\r", 2); break;
        case '\t': st = oab__buf_append(b, "\\t", 2); break;
        case '\b': st = oab__buf_append(b, "\\b", 2); break;
        case '\f': st = oab__buf_append(b, "\\f", 2); break;
        default:
            if (c < 0x20) {
                char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                st = oab__buf_append(b, u, 6);
            } else {
                st = oab__buf_putc(b, (char)c);
            }
        }
        if (st != OAB_OK)
            return st;
    }
    return oab__buf_putc(b, '"');
}

char *oab__buf_take(oab__buf *b, size_t *len_out)
{
    if (!b->data) {
        if (oab__buf_reserve(b, 0) != OAB_OK)
            return NULL;
        b->data[0] = '\0'; /* "" for an empty buffer */
    }
    char *p = b->data;
    if (len_out)
        *len_out = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void oab__buf_clear(oab__buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void oab__buf_free(oab__buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void *oab__grow(void *arr, size_t *cap, size_t n, size_t size, size_t first)
{
    if (n < *cap)
        return arr;
    size_t c = *cap ? *cap * 2 : first;
    if (c <= *cap || c > SIZE_MAX / size)
        return NULL; /* overflow, or first == 0 */
    void *p = realloc(arr, c * size);
    if (p)
        *cap = c;
    return p;
}

/* ---- strings ---- */

char *oab__strdup(const char *s)
{
    return s ? oab__strndup(s, strlen(s)) : NULL;
}

char *oab__strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *oab__vsprintf(const char *fmt, va_list ap)
{
    oab__buf b = OAB__BUF_INIT;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0 || oab__buf_reserve(&b, (size_t)n) != OAB_OK) {
        va_end(ap2);
        return NULL;
    }
    vsnprintf(b.data, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return b.data;
}

char *oab__sprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = oab__vsprintf(fmt, ap);
    va_end(ap);
    return s;
}

int oab__hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t oab__utf8_encode(unsigned long cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

oab_status oab__set_str(char **slot, const char *s)
{
    char *p = NULL;
    if (s && !(p = oab__strdup(s)))
        return OAB_ENOMEM;
    free(*slot);
    *slot = p;
    return OAB_OK;
}

/* ---- errors ---- */

oab_status oab__err(oab_error *err, oab_status code, long line,
                    const char *fmt, ...)
{
    if (err) {
        err->status = code;
        err->line = line;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

void oab__err_clear(oab_error *err)
{
    if (err) {
        err->status = OAB_OK;
        err->line = 0;
        err->message[0] = '\0';
    }
}

/* ---- JSON ---- */

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

/* ---- time ---- */

double oab__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long long oab__unix_now(void)
{
    return (long long)time(NULL);
}

void oab__sleep(double seconds)
{
    if (seconds <= 0)
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- files ---- */

oab_status oab__write_file_atomic(const char *path, const void *data,
                                  size_t len)
{
    char *tmp = oab__sprintf("%s.tmp", path);
    if (!tmp)
        return OAB_ENOMEM;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        free(tmp);
        return OAB_EIO;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            unlink(tmp);
            free(tmp);
            return OAB_EIO;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        free(tmp);
        return OAB_EIO;
    }
    free(tmp);
    return OAB_OK;
}

oab_status oab__read_file(const char *path, char **out, size_t *len_out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return OAB_EIO;
    oab__buf b = OAB__BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (oab__buf_append(&b, chunk, n) != OAB_OK) {
            fclose(f);
            oab__buf_free(&b);
            return OAB_ENOMEM;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        oab__buf_free(&b);
        return OAB_EIO;
    }
    *out = oab__buf_take(&b, len_out);
    return *out ? OAB_OK : OAB_ENOMEM;
}

const char *oab__model_name(const char *model)
{
    if (!model)
        return NULL;
    const char *colon = strchr(model, ':');
    if (colon && strncmp(model, "openai:", 7) == 0)
        return colon + 1;
    return model;
}
