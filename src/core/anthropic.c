/* anthropic.c - the Anthropic translation's common part: provider names,
 * the custom_id map, the JSON-building helpers of core/anthropic_int.h,
 * and Message Batch objects -> oab_job. The translation itself is in
 *   anthropic_request.c  OpenAI input line -> Message Batch request
 *   anthropic_result.c   Message Batch result line -> OpenAI output line
 *   anthropic_serve.c    Messages params -> chat body, chat.completion ->
 *                        Message (for a server offering Anthropic's API)
 * The field mapping is in docs/providers.md; keep the two in step. */

#include "oaibatch.h"
#include "core/anthropic.h"
#include "core/anthropic_int.h"
#include "util/json_scan.h"
#include "util/buf.h"
#include "core/job.h"
#include "util/err.h"
#include "util/json.h"
#include "util/str.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <stdint.h>

const char *oab_provider_str(oab_provider p)
{
    return p == OAB_PROVIDER_ANTHROPIC ? "anthropic" : "openai";
}

oab_status oab_provider_from_str(oab_provider *out, const char *s)
{
    if (!out || !s)
        return OAB_EINVAL;
    if (strcmp(s, "openai") == 0)
        *out = OAB_PROVIDER_OPENAI;
    else if (strcmp(s, "anthropic") == 0)
        *out = OAB_PROVIDER_ANTHROPIC;
    else
        return OAB_EINVAL;
    return OAB_OK;
}


/* A refusal: the line (when there is one) and the field, e.g. "line 3:
 * body.n: ...". */
oab_status oab__ax_refuse(oab__atx *t, const char *field, const char *fmt, ...)
{
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (t->lineno <= 0) /* not a line of a file: a server's request */
        return oab__err(t->err, OAB_EVALIDATION, 0, "%s: %s", field, why);
    return oab__err(t->err, OAB_EVALIDATION, t->lineno, "line %ld: %s: %s",
                    t->lineno, field, why);
}

oab_status oab__ax_nomem(oab__atx *t)
{
    t->oom = 1;
    return oab__err(t->err, OAB_ENOMEM, t->lineno, "out of memory");
}

/* Adds a copy of item (or a new string) to obj; sets t->oom on failure. */
cJSON *oab__ax_add(oab__atx *t, cJSON *obj, const char *key, cJSON *item)
{
    if (!item || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        t->oom = 1;
        return NULL;
    }
    return item;
}

cJSON *oab__ax_push(oab__atx *t, cJSON *arr, cJSON *item)
{
    if (!item || !cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        t->oom = 1;
        return NULL;
    }
    return item;
}

cJSON *oab__ax_dup(const cJSON *v)
{
    return cJSON_Duplicate(v, 1);
}

cJSON *oab__ax_text_block(const char *text)
{
    cJSON *b = cJSON_CreateObject();
    if (b && (!cJSON_AddStringToObject(b, "type", "text") ||
              !cJSON_AddStringToObject(b, "text", text))) {
        cJSON_Delete(b);
        return NULL;
    }
    return b;
}

/* An integer >= 1 (max tokens); 0 when v is absent or null; -1 invalid. */
long oab__ax_positive_int(const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e9 ||
        v->valuedouble != (double)(long)v->valuedouble)
        return -1;
    return (long)v->valuedouble;
}

/* Appends the texts of an array of {"type":"text","text"} items (OpenAI
 * parts or Anthropic blocks) to b, `sep` between them (and before the
 * first when b holds text already); another item is refused as
 * "<where>[k]: <why>". */
oab_status oab__ax_join_texts(oab__atx *t, oab__buf *b, const cJSON *items, const char *sep,
                             const char *where, const char *why)
{
    int k = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, items)
    {
        const char *text = oab__json_str(p, "text");
        const char *type = oab__json_str(p, "type");
        if (!type || strcmp(type, "text") != 0 || !text) {
            char field[160];
            snprintf(field, sizeof field, "%s[%d]", where, k);
            return oab__ax_refuse(t, field, "%s", why);
        }
        if ((b->len && oab__buf_puts(b, sep)) || oab__buf_puts(b, text))
            return oab__ax_nomem(t);
        k++;
    }
    return OAB_OK;
}

/* A usage count (0 when absent or negative). */
long long oab__ax_usage_n(const cJSON *u, const char *key)
{
    long long n = oab__json_ll(u, key, 0);
    return n > 0 ? n : 0;
}

/* The start of the calls that parse a JSON text into *out (has_out: out
 * is not NULL; the caller cleared *out): the text parsed into *root.
 * Errors name `what` ("custom_id map", "line 3") and carry `line`. */
oab_status oab__ax_parse_text(cJSON **root, int has_out, const char *json, size_t len,
                             long line, const char *what, oab_error *err)
{
    *root = NULL;
    if (!has_out)
        return oab__err(err, OAB_EINVAL, line, "out is NULL");
    if (!json)
        return oab__err(err, OAB_EINVAL, line, "%s: the text is NULL", what);
    oab_status st = oab__json_parse_st(root, json, len);
    if (st != OAB_OK)
        return oab__err(err, st, line, "%s: %s", what,
                        st == OAB_EJSON ? "not JSON" : "out of memory");
    return OAB_OK;
}

oab_status oab__ax_refuse_nul(oab__atx *t, const char *json, size_t len,
                              const char *prefix)
{
    char path[200];
    int found = oab__json_first_nul(json, len, path, sizeof path);
    if (found < 0)
        return oab__ax_nomem(t);
    if (!found)
        return OAB_OK;
    char field[260];
    snprintf(field, sizeof field, "%s%s%s", prefix, *prefix && *path ? "." : "",
             path);
    return oab__ax_refuse(t, field,
                          "holds \\u0000 (U+0000), which the translation cannot carry"
                          " (a parsed string ends there); nothing is sent for it");
}

/* ------------------------------------------------------------------ */
/* The custom_id map                                                    */
/* ------------------------------------------------------------------ */

oab_status oab_anthropic_map_new(oab_anthropic_map **out)
{
    if (!out)
        return OAB_EINVAL;
    *out = calloc(1, sizeof **out);
    return *out ? OAB_OK : OAB_ENOMEM;
}

void oab_anthropic_map_free(oab_anthropic_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].sent);
        free(m->v[i].custom_id);
        free(m->v[i].native);
    }
    free(m->v);
    free(m);
}

size_t oab_anthropic_map_count(const oab_anthropic_map *m)
{
    return m ? m->n : 0;
}

oab_status oab__anthropic_map_add(oab_anthropic_map *m, const char *sent,
                          const char *custom_id, const char *native)
{
    oab__amap_entry *v = oab__grow(m->v, &m->cap, m->n, sizeof *v, 64);
    if (!v)
        return OAB_ENOMEM;
    m->v = v;
    oab__amap_entry *e = &v[m->n];
    e->sent = oab__strdup(sent);
    e->custom_id = oab__strdup(custom_id);
    e->native = native ? oab__strdup(native) : NULL;
    if (!e->sent || !e->custom_id || (native && !e->native)) {
        free(e->sent);
        free(e->custom_id);
        free(e->native);
        return OAB_ENOMEM;
    }
    m->n++;
    return OAB_OK;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const oab__amap_entry *)a)->sent, ((const oab__amap_entry *)b)->sent);
}

oab_status oab__anthropic_map_finish(oab_anthropic_map *m, oab_error *err)
{
    if (!m)
        return OAB_OK;
    if (m->n_sorted != m->n) {
        qsort(m->v, m->n, sizeof *m->v, entry_cmp);
        m->n_sorted = m->n;
    }
    for (size_t i = 1; i < m->n; i++)
        if (strcmp(m->v[i - 1].sent, m->v[i].sent) == 0)
            return oab__err(err, OAB_EJSON, 0,
                            "custom_id map: id \"%s\" is there twice",
                            m->v[i].sent);
    return OAB_OK;
}

const oab__amap_entry *oab__anthropic_map_find(oab_anthropic_map *m, const char *sent)
{
    if (!m || !sent || !m->n)
        return NULL;
    if (m->n_sorted != m->n) {
        qsort(m->v, m->n, sizeof *m->v, entry_cmp);
        m->n_sorted = m->n;
    }
    oab__amap_entry key = {(char *)sent, NULL, NULL};
    return bsearch(&key, m->v, m->n, sizeof *m->v, entry_cmp);
}

const char *oab_anthropic_map_custom_id(oab_anthropic_map *m, const char *sent_id)
{
    const oab__amap_entry *e = oab__anthropic_map_find(m, sent_id);
    return e && strcmp(e->sent, e->custom_id) != 0 ? e->custom_id : NULL;
}

oab_status oab_anthropic_map_to_json(const oab_anthropic_map *m, char **out)
{
    if (!m || !out)
        return OAB_EINVAL;
    *out = NULL;
    oab__buf b = OAB__BUF_INIT;
    oab_status st = oab__buf_putc(&b, '{');
    for (size_t i = 0; st == OAB_OK && i < m->n; i++) {
        const oab__amap_entry *e = &m->v[i];
        if (i)
            st = oab__buf_putc(&b, ',');
        if (!st) st = oab__buf_json_string(&b, e->sent, strlen(e->sent));
        if (!st) st = oab__buf_puts(&b, ":{\"custom_id\":");
        if (!st) st = oab__buf_json_string(&b, e->custom_id, strlen(e->custom_id));
        if (!st) st = oab__buf_puts(&b, ",\"native\":");
        if (!st)
            st = e->native ? oab__buf_json_string(&b, e->native, strlen(e->native))
                           : oab__buf_puts(&b, "null");
        if (!st) st = oab__buf_putc(&b, '}');
    }
    if (!st) st = oab__buf_putc(&b, '}');
    if (st) {
        oab__buf_free(&b);
        return OAB_ENOMEM;
    }
    *out = oab__buf_take(&b, NULL);
    return OAB_OK;
}

oab_status oab_anthropic_map_from_json(oab_anthropic_map **out, const char *json,
                                       size_t len, oab_error *err)
{
    if (out)
        *out = NULL;
    cJSON *root = NULL;
    oab_status st = oab__ax_parse_text(&root, out != NULL, json, len, 0, "custom_id map", err);
    if (st != OAB_OK)
        return st;
    oab_anthropic_map *m = NULL;
    if (!cJSON_IsObject(root))
        st = oab__err(err, OAB_EJSON, 0, "custom_id map: not a JSON object");
    else if (oab_anthropic_map_new(&m) != OAB_OK)
        st = oab__err(err, OAB_ENOMEM, 0, "out of memory");
    const cJSON *it;
    if (st == OAB_OK)
        cJSON_ArrayForEach(it, root)
        {
            const char *cid = oab__json_str(it, "custom_id");
            const cJSON *nat = cJSON_GetObjectItemCaseSensitive(it, "native");
            if (!cid || (nat && !cJSON_IsString(nat) && !cJSON_IsNull(nat))) {
                st = oab__err(err, OAB_EJSON, 0,
                              "custom_id map: entry \"%s\": needs a string "
                              "custom_id and a string or null native", it->string);
                break;
            }
            if (oab__anthropic_map_add(m, it->string, cid,
                        cJSON_IsString(nat) ? nat->valuestring : NULL) != OAB_OK) {
                st = oab__err(err, OAB_ENOMEM, 0, "out of memory");
                break;
            }
        }
    cJSON_Delete(root);
    if (st == OAB_OK)
        st = oab__anthropic_map_finish(m, err);
    if (st != OAB_OK) {
        oab_anthropic_map_free(m);
        return st;
    }
    *out = m;
    return OAB_OK;
}

int oab__anthropic_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
            return 0;
    }
    return n >= 1 && n <= 64;
}

/* FNV-1a, 64 bits: the stable part of a generated custom_id. */
uint64_t oab__anthropic_fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* ------------------------------------------------------------------ */
/* Batch objects                                                        */
/* ------------------------------------------------------------------ */

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

/* An RFC 3339 time ("2024-09-24T18:37:24.100435Z", "...+02:00") in Unix
 * seconds; 0 for null, absent or unreadable. */
static long long rfc3339(const cJSON *v)
{
    if (!cJSON_IsString(v))
        return 0;
    const char *s = v->valuestring;
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) < 6 ||
        mo < 1 || mo > 12 || d < 1 || d > 31)
        return 0;
    const char *p = s + n;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    long long off = 0;
    if (*p == '+' || *p == '-') {
        int oh = 0, om = 0;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) == 2)
            off = (*p == '+' ? 1 : -1) * (oh * 3600LL + om * 60LL);
    }
    return days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600LL +
           mi * 60LL + sec - off;
}

static cJSON *num_or_null(long long v)
{
    return v ? cJSON_CreateNumber((double)v) : cJSON_CreateNull();
}

oab_status oab__anthropic_job_from_cjson(oab_job **out, const cJSON *obj, oab_error *err)
{
    *out = NULL;
    const char *id = oab__json_str(obj, "id");
    const char *ps = oab__json_str(obj, "processing_status");
    if (!cJSON_IsObject(obj) || !id || !ps)
        return oab__err(err, OAB_EPROTO, 0, "message batch object: no %s",
                        !cJSON_IsObject(obj) ? "object" : !id ? "id" : "processing_status");
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(obj, "request_counts");
    long long processing = oab__ax_usage_n(rc, "processing"), ok = oab__ax_usage_n(rc, "succeeded"),
              errored = oab__ax_usage_n(rc, "errored"), canceled = oab__ax_usage_n(rc, "canceled"),
              expired = oab__ax_usage_n(rc, "expired");
    long long created = rfc3339(cJSON_GetObjectItemCaseSensitive(obj, "created_at"));
    long long ended = rfc3339(cJSON_GetObjectItemCaseSensitive(obj, "ended_at"));
    long long cancel_at = rfc3339(cJSON_GetObjectItemCaseSensitive(obj, "cancel_initiated_at"));
    const char *status = "unknown";
    if (strcmp(ps, "in_progress") == 0)
        status = "in_progress";
    else if (strcmp(ps, "canceling") == 0)
        status = "cancelling";
    else if (strcmp(ps, "ended") == 0)
        status = cancel_at ? "cancelled" : expired ? "expired" : "completed";
    oab__atx t = {0, err, 0};
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return oab__ax_nomem(&t);
    oab__ax_add(&t, o, "id", cJSON_CreateString(id));
    oab__ax_add(&t, o, "object", cJSON_CreateString("batch"));
    oab__ax_add(&t, o, "endpoint", cJSON_CreateString("/v1/chat/completions"));
    oab__ax_add(&t, o, "errors", cJSON_CreateNull());
    oab__ax_add(&t, o, "input_file_id", cJSON_CreateNull());
    oab__ax_add(&t, o, "completion_window", cJSON_CreateString("24h"));
    oab__ax_add(&t, o, "status", cJSON_CreateString(status));
    oab__ax_add(&t, o, "output_file_id", cJSON_CreateNull());
    oab__ax_add(&t, o, "error_file_id", cJSON_CreateNull());
    oab__ax_add(&t, o, "created_at", cJSON_CreateNumber((double)created));
    oab__ax_add(&t, o, "in_progress_at", num_or_null(created));
    oab__ax_add(&t, o, "expires_at",
        num_or_null(rfc3339(cJSON_GetObjectItemCaseSensitive(obj, "expires_at"))));
    oab__ax_add(&t, o, "finalizing_at", cJSON_CreateNull());
    oab__ax_add(&t, o, "completed_at", num_or_null(strcmp(status, "completed") == 0 ? ended : 0));
    oab__ax_add(&t, o, "failed_at", cJSON_CreateNull());
    oab__ax_add(&t, o, "expired_at", num_or_null(strcmp(status, "expired") == 0 ? ended : 0));
    oab__ax_add(&t, o, "cancelling_at", num_or_null(cancel_at));
    oab__ax_add(&t, o, "cancelled_at", num_or_null(strcmp(status, "cancelled") == 0 ? ended : 0));
    cJSON *counts = oab__ax_add(&t, o, "request_counts", cJSON_CreateObject());
    if (counts) {
        oab__ax_add(&t, counts, "total",
            cJSON_CreateNumber((double)(processing + ok + errored + canceled + expired)));
        oab__ax_add(&t, counts, "completed", cJSON_CreateNumber((double)ok));
        oab__ax_add(&t, counts, "failed",
                    cJSON_CreateNumber((double)(errored + canceled + expired)));
    }
    oab__ax_add(&t, o, "metadata", cJSON_CreateNull());
    oab__ax_add(&t, o, "anthropic", oab__ax_dup(obj));
    oab_status st = t.oom ? oab__ax_nomem(&t) : oab__job_from_cjson(out, o, NULL, 0, err);
    cJSON_Delete(o);
    return st;
}

oab_status oab_anthropic_job_parse(oab_job **out, const char *json, size_t len,
                                   oab_error *err)
{
    if (out)
        *out = NULL;
    cJSON *root = NULL;
    oab_status st = oab__ax_parse_text(&root, out != NULL, json, len, 0,
                                       "message batch object", err);
    if (st != OAB_OK)
        return st;
    st = oab__anthropic_job_from_cjson(out, root, err);
    cJSON_Delete(root);
    return st;
}
