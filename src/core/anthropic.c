/* anthropic.c - I/O-free translation between OpenAI batch lines and
 * Anthropic's Message Batches API, both ways:
 *   requests  OpenAI input line (chat completions body) -> Message Batch
 *             request {custom_id, params}, refusing what cannot be carried;
 *   results   Message Batch result line -> OpenAI output/error line, so the
 *             result decoder, structured-output checks and merging work
 *             unchanged;
 *   batches   Message Batch object -> oab_job.
 * The field mapping is in docs/providers.md; keep the two in step.
 * Sections: the custom_id map, requests, results, batch objects. */

#include "oaibatch.h"
#include "core/anthropic.h"
#include "core/job.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/json.h"
#include "util/str.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The start of the calls that parse a JSON text into *out (has_out: out
 * is not NULL; the caller cleared *out): the text parsed into *root.
 * Errors name `what` ("custom_id map", "line 3") and carry `line`. */
static oab_status parse_text(cJSON **root, int has_out, const char *json, size_t len,
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

/* ------------------------------------------------------------------ */
/* The custom_id map                                                    */
/* ------------------------------------------------------------------ */

typedef struct map_entry {
    char *sent;       /* the id Anthropic saw */
    char *custom_id;  /* the caller's */
    char *native;     /* forced tool of a native-mode request, or NULL */
} map_entry;

struct oab_anthropic_map {
    map_entry *v;
    size_t n, cap;
    size_t n_sorted;  /* v[0..n_sorted) is sorted by sent id */
};

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

static oab_status map_add(oab_anthropic_map *m, const char *sent,
                          const char *custom_id, const char *native)
{
    map_entry *v = oab__grow(m->v, &m->cap, m->n, sizeof *v, 64);
    if (!v)
        return OAB_ENOMEM;
    m->v = v;
    map_entry *e = &v[m->n];
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
    return strcmp(((const map_entry *)a)->sent, ((const map_entry *)b)->sent);
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

static const map_entry *map_find(oab_anthropic_map *m, const char *sent)
{
    if (!m || !sent || !m->n)
        return NULL;
    if (m->n_sorted != m->n) {
        qsort(m->v, m->n, sizeof *m->v, entry_cmp);
        m->n_sorted = m->n;
    }
    map_entry key = {(char *)sent, NULL, NULL};
    return bsearch(&key, m->v, m->n, sizeof *m->v, entry_cmp);
}

const char *oab_anthropic_map_custom_id(oab_anthropic_map *m, const char *sent_id)
{
    const map_entry *e = map_find(m, sent_id);
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
        const map_entry *e = &m->v[i];
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
    oab_status st = parse_text(&root, out != NULL, json, len, 0, "custom_id map", err);
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
            if (map_add(m, it->string, cid,
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
static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* ------------------------------------------------------------------ */
/* Requests: OpenAI input line -> Message Batch request                 */
/* ------------------------------------------------------------------ */

/* One translation: where errors go. */
typedef struct tx {
    long lineno;
    oab_error *err;
    int oom;
} tx;

/* A refusal: the line (when there is one) and the field, e.g. "line 3:
 * body.n: ...". */
static oab_status refuse(tx *t, const char *field, const char *fmt, ...)
    OAB__PRINTF(3, 4);

static oab_status refuse(tx *t, const char *field, const char *fmt, ...)
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

static oab_status nomem(tx *t)
{
    t->oom = 1;
    return oab__err(t->err, OAB_ENOMEM, t->lineno, "out of memory");
}

/* Adds a copy of item (or a new string) to obj; sets t->oom on failure. */
static cJSON *add(tx *t, cJSON *obj, const char *key, cJSON *item)
{
    if (!item || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        t->oom = 1;
        return NULL;
    }
    return item;
}

static cJSON *push(tx *t, cJSON *arr, cJSON *item)
{
    if (!item || !cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        t->oom = 1;
        return NULL;
    }
    return item;
}

static cJSON *dup(const cJSON *v)
{
    return cJSON_Duplicate(v, 1);
}

/* How a field of the chat body is handled. */
enum { F_TAKE, F_DROP, F_NEUTRAL, F_REFUSE };

static const struct body_field {
    const char *name;
    int how;
    const char *why; /* for F_NEUTRAL and F_REFUSE */
} body_fields[] = {
    {"model", F_TAKE, NULL},
    {"messages", F_TAKE, NULL},
    {"max_tokens", F_TAKE, NULL},
    {"max_completion_tokens", F_TAKE, NULL},
    {"temperature", F_TAKE, NULL},
    {"top_p", F_TAKE, NULL},
    {"stop", F_TAKE, NULL},
    {"tools", F_TAKE, NULL},
    {"tool_choice", F_TAKE, NULL},
    {"parallel_tool_calls", F_TAKE, NULL},
    {"response_format", F_TAKE, NULL},
    {"user", F_TAKE, NULL},
    /* no effect on the answer: not sent */
    {"metadata", F_DROP, NULL},
    {"store", F_DROP, NULL},
    {"service_tier", F_DROP, NULL},
    {"safety_identifier", F_DROP, NULL},
    {"prompt_cache_key", F_DROP, NULL},
    {"prompt_cache_retention", F_DROP, NULL},
    {"prompt_cache_options", F_DROP, NULL},
    {"seed", F_DROP, NULL},
    {"stream_options", F_DROP, NULL},
    /* accepted only with the value that changes nothing */
    {"n", F_NEUTRAL, "Anthropic returns one answer per request (only 1 is accepted)"},
    {"logprobs", F_NEUTRAL, "Anthropic returns no log probabilities (only false is accepted)"},
    {"frequency_penalty", F_NEUTRAL, "Anthropic has no frequency penalty (only 0 is accepted)"},
    {"presence_penalty", F_NEUTRAL, "Anthropic has no presence penalty (only 0 is accepted)"},
    {"logit_bias", F_NEUTRAL, "Anthropic has no logit bias (only {} is accepted)"},
    {"stream", F_NEUTRAL, "batch requests are not streamed (only false is accepted)"},
    {"modalities", F_NEUTRAL, "Anthropic answers in text only (only [\"text\"] is accepted)"},
    /* no equivalent */
    {"top_logprobs", F_REFUSE, "Anthropic returns no log probabilities"},
    {"audio", F_REFUSE, "Anthropic has no audio output"},
    {"prediction", F_REFUSE, "Anthropic has no predicted outputs"},
    {"web_search_options", F_REFUSE, "OpenAI's web search has no translation"},
    {"reasoning_effort", F_REFUSE, "no translation to Anthropic's thinking budget"},
    {"verbosity", F_REFUSE, "Anthropic has no verbosity setting"},
    {"functions", F_REFUSE, "the deprecated functions field is not translated: use tools"},
    {"function_call", F_REFUSE, "the deprecated function_call field is not translated: use tool_choice"},
};

/* 1 when v is the value of `name` that changes nothing. */
static int neutral(const char *name, const cJSON *v)
{
    if (cJSON_IsNull(v))
        return 1;
    if (strcmp(name, "n") == 0)
        return cJSON_IsNumber(v) && v->valuedouble == 1;
    if (strcmp(name, "logprobs") == 0 || strcmp(name, "stream") == 0)
        return cJSON_IsFalse(v);
    if (strcmp(name, "logit_bias") == 0)
        return cJSON_IsObject(v) && !v->child;
    if (strcmp(name, "modalities") == 0) {
        const cJSON *m;
        if (!cJSON_IsArray(v))
            return 0;
        cJSON_ArrayForEach(m, v) if (!cJSON_IsString(m) ||
                                     strcmp(m->valuestring, "text") != 0) return 0;
        return 1;
    }
    return cJSON_IsNumber(v) && v->valuedouble == 0; /* penalties */
}

static oab_status check_fields(tx *t, const cJSON *body)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, body)
    {
        const struct body_field *d = NULL;
        for (size_t i = 0; i < sizeof body_fields / sizeof *body_fields; i++)
            if (strcmp(body_fields[i].name, f->string) == 0)
                d = &body_fields[i];
        char field[96];
        snprintf(field, sizeof field, "body.%.80s", f->string);
        if (!d)
            return refuse(t, field, "not a chat completions field this "
                                    "translation knows; Anthropic has no "
                                    "equivalent");
        if (d->how == F_REFUSE || (d->how == F_NEUTRAL && !neutral(d->name, f)))
            return refuse(t, field, "%s", d->why);
    }
    return OAB_OK;
}

/* Appends the texts of an array of {"type":"text","text"} items (OpenAI
 * parts or Anthropic blocks) to b, `sep` between them (and before the
 * first when b holds text already); another item is refused as
 * "<where>[k]: <why>". */
static oab_status join_texts(tx *t, oab__buf *b, const cJSON *items, const char *sep,
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
            return refuse(t, field, "%s", why);
        }
        if ((b->len && oab__buf_puts(b, sep)) || oab__buf_puts(b, text))
            return nomem(t);
        k++;
    }
    return OAB_OK;
}

/* Text of a system/developer message: a string or an array of text parts. */
static oab_status system_text(tx *t, oab__buf *sys, const cJSON *content,
                              const char *where)
{
    char field[128];
    snprintf(field, sizeof field, "%s.content", where);
    if (cJSON_IsString(content)) {
        if (sys->len && oab__buf_puts(sys, "\n\n"))
            return nomem(t);
        return oab__buf_puts(sys, content->valuestring) ? nomem(t) : OAB_OK;
    }
    if (!cJSON_IsArray(content))
        return refuse(t, field, "must be a string or an array of text parts");
    return join_texts(t, sys, content, "\n\n", field,
                      "a system message carries text parts only");
}

/* An image_url part -> an image block: data: URLs as base64, http(s) as url. */
static oab_status image_block(tx *t, cJSON *blocks, const cJSON *part,
                              const char *field)
{
    const cJSON *iu = cJSON_GetObjectItemCaseSensitive(part, "image_url");
    const char *url = cJSON_IsString(iu) ? iu->valuestring : oab__json_str(iu, "url");
    if (!url)
        return refuse(t, field, "image_url needs a url");
    cJSON *img = cJSON_CreateObject();
    cJSON *src = img && add(t, img, "type", cJSON_CreateString("image"))
                     ? add(t, img, "source", cJSON_CreateObject())
                     : NULL;
    if (!src) {
        cJSON_Delete(img);
        return nomem(t);
    }
    if (strncmp(url, "data:", 5) == 0) {
        const char *semi = strstr(url, ";base64,");
        if (!semi) {
            cJSON_Delete(img);
            return refuse(t, field, "a data: URL must be base64 (data:TYPE;base64,...)");
        }
        char *media = oab__strndup(url + 5, (size_t)(semi - url - 5));
        if (!media || !add(t, src, "type", cJSON_CreateString("base64")) ||
            !add(t, src, "media_type", cJSON_CreateString(media)) ||
            !add(t, src, "data", cJSON_CreateString(semi + 8))) {
            free(media);
            cJSON_Delete(img);
            return nomem(t);
        }
        free(media);
    } else if (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0) {
        if (!add(t, src, "type", cJSON_CreateString("url")) ||
            !add(t, src, "url", cJSON_CreateString(url))) {
            cJSON_Delete(img);
            return nomem(t);
        }
    } else {
        cJSON_Delete(img);
        return refuse(t, field, "an image URL must be data: (base64) or http(s)");
    }
    return push(t, blocks, img) ? OAB_OK : nomem(t);
}

static cJSON *text_block(const char *text)
{
    cJSON *b = cJSON_CreateObject();
    if (b && (!cJSON_AddStringToObject(b, "type", "text") ||
              !cJSON_AddStringToObject(b, "text", text))) {
        cJSON_Delete(b);
        return NULL;
    }
    return b;
}

/* Content of a user, assistant or tool message -> a string (kept) or an
 * array of blocks. `role` decides the parts allowed. *out NULL for no
 * content (null or absent). */
static oab_status content_blocks(tx *t, cJSON **out, const cJSON *content,
                                 const char *role, const char *where)
{
    *out = NULL;
    char field[160];
    if (!content || cJSON_IsNull(content))
        return OAB_OK;
    if (cJSON_IsString(content)) {
        *out = cJSON_CreateString(content->valuestring);
        return *out ? OAB_OK : nomem(t);
    }
    if (!cJSON_IsArray(content)) {
        snprintf(field, sizeof field, "%s.content", where);
        return refuse(t, field, "must be a string or an array of parts");
    }
    cJSON *blocks = cJSON_CreateArray();
    if (!blocks)
        return nomem(t);
    int k = 0;
    const cJSON *p;
    oab_status st = OAB_OK;
    cJSON_ArrayForEach(p, content)
    {
        snprintf(field, sizeof field, "%s.content[%d]", where, k++);
        const char *type = oab__json_str(p, "type");
        const char *text = oab__json_str(p, "text");
        if (type && (strcmp(type, "text") == 0 ||
                     (strcmp(type, "refusal") == 0 && strcmp(role, "assistant") == 0))) {
            if (strcmp(type, "refusal") == 0)
                text = oab__json_str(p, "refusal");
            if (!text) {
                st = refuse(t, field, "a %s part needs its text", type);
                break;
            }
            if (!push(t, blocks, text_block(text))) {
                st = nomem(t);
                break;
            }
        } else if (type && strcmp(type, "image_url") == 0 && strcmp(role, "user") == 0) {
            if ((st = image_block(t, blocks, p, field)) != OAB_OK)
                break;
        } else {
            st = refuse(t, field, "a %s part of type \"%s\" has no Anthropic "
                                  "equivalent here", role, type ? type : "?");
            break;
        }
    }
    if (st != OAB_OK) {
        cJSON_Delete(blocks);
        return st;
    }
    *out = blocks;
    return OAB_OK;
}

/* Makes content an array of blocks (a string becomes one text block). */
static cJSON *as_blocks(cJSON *content)
{
    if (cJSON_IsArray(content))
        return content;
    cJSON *arr = cJSON_CreateArray();
    if (arr && content && cJSON_IsString(content) && content->valuestring[0]) {
        cJSON *b = text_block(content->valuestring);
        if (!b || !cJSON_AddItemToArray(arr, b)) {
            cJSON_Delete(b);
            cJSON_Delete(arr);
            arr = NULL;
        }
    }
    cJSON_Delete(content);
    return arr;
}

/* An assistant's tool_calls -> tool_use blocks appended to blocks. */
static oab_status tool_use_blocks(tx *t, cJSON *blocks, const cJSON *calls,
                                  const char *where)
{
    char field[160];
    if (!cJSON_IsArray(calls)) {
        snprintf(field, sizeof field, "%s.tool_calls", where);
        return refuse(t, field, "must be an array");
    }
    int k = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, calls)
    {
        snprintf(field, sizeof field, "%s.tool_calls[%d]", where, k++);
        const char *type = oab__json_str(c, "type");
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(c, "function");
        const char *id = oab__json_str(c, "id");
        const char *name = oab__json_str(fn, "name");
        const char *args = oab__json_str(fn, "arguments");
        if ((type && strcmp(type, "function") != 0) || !id || !name)
            return refuse(t, field, "needs type \"function\", an id and "
                                    "function.name");
        cJSON *input = NULL;
        if (!args || !*args)
            input = cJSON_CreateObject();
        else if (oab__json_parse_st(&input, args, strlen(args)) == OAB_ENOMEM)
            return nomem(t);
        if (!cJSON_IsObject(input)) {
            cJSON_Delete(input);
            return oab__err(t->err, OAB_EJSON, t->lineno,
                            "line %ld: %s.function.arguments: not a JSON object",
                            t->lineno, field);
        }
        cJSON *b = cJSON_CreateObject();
        if (!b || !add(t, b, "type", cJSON_CreateString("tool_use")) ||
            !add(t, b, "id", cJSON_CreateString(id)) ||
            !add(t, b, "name", cJSON_CreateString(name))) {
            cJSON_Delete(input);
            cJSON_Delete(b);
            return nomem(t);
        }
        if (!add(t, b, "input", input)) { /* add() frees input */
            cJSON_Delete(b);
            return nomem(t);
        }
        if (!push(t, blocks, b))
            return nomem(t);
    }
    return OAB_OK;
}

static cJSON *new_turn(tx *t, cJSON *messages, const char *role, cJSON *content)
{
    cJSON *m = cJSON_CreateObject();
    if (!m || !add(t, m, "role", cJSON_CreateString(role))) {
        cJSON_Delete(m);
        cJSON_Delete(content);
        return NULL;
    }
    if (!add(t, m, "content", content)) {
        cJSON_Delete(m);
        return NULL;
    }
    return push(t, messages, m);
}

/* messages -> system (string) + messages (turns). */
static oab_status tx_messages(tx *t, const cJSON *msgs, cJSON *params)
{
    if (!cJSON_IsArray(msgs) || !msgs->child)
        return refuse(t, "body.messages", "must be a non-empty array");
    oab__buf sys = OAB__BUF_INIT;
    cJSON *turns = cJSON_CreateArray();
    cJSON *tool_turn = NULL; /* the user turn collecting tool results */
    oab_status st = turns ? OAB_OK : nomem(t);
    int i = 0;
    const cJSON *m;
    char where[64], field[128];
    cJSON_ArrayForEach(m, msgs)
    {
        if (st != OAB_OK)
            break;
        snprintf(where, sizeof where, "body.messages[%d]", i++);
        const char *role = oab__json_str(m, "role");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!role) {
            snprintf(field, sizeof field, "%s.role", where);
            st = refuse(t, field, "missing");
        } else if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
            st = system_text(t, &sys, content, where);
            tool_turn = NULL;
        } else if (strcmp(role, "user") == 0) {
            cJSON *c = NULL;
            st = content_blocks(t, &c, content, role, where);
            if (st == OAB_OK && !c) {
                snprintf(field, sizeof field, "%s.content", where);
                st = refuse(t, field, "a user message needs content");
            } else if (st == OAB_OK && !new_turn(t, turns, "user", c)) {
                st = nomem(t);
            }
            tool_turn = NULL;
        } else if (strcmp(role, "assistant") == 0) {
            cJSON *c = NULL;
            const cJSON *calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
            int has_calls = calls && !cJSON_IsNull(calls);
            st = content_blocks(t, &c, content, role, where);
            if (st == OAB_OK && has_calls) {
                c = as_blocks(c);
                st = c ? tool_use_blocks(t, c, calls, where) : nomem(t);
            }
            if (st == OAB_OK && (!c || (cJSON_IsArray(c) && !c->child) ||
                                 (cJSON_IsString(c) && !c->valuestring[0]))) {
                snprintf(field, sizeof field, "%s.content", where);
                st = refuse(t, field, "an assistant message needs content or "
                                      "tool_calls");
            }
            if (st == OAB_OK) {
                if (!new_turn(t, turns, "assistant", c))
                    st = nomem(t);
                c = NULL;
            }
            cJSON_Delete(c);
            tool_turn = NULL;
        } else if (strcmp(role, "tool") == 0) {
            const char *id = oab__json_str(m, "tool_call_id");
            cJSON *c = NULL;
            if (!id) {
                snprintf(field, sizeof field, "%s.tool_call_id", where);
                st = refuse(t, field, "missing");
            } else {
                st = content_blocks(t, &c, content, "tool", where);
            }
            cJSON *r = NULL;
            if (st == OAB_OK) {
                r = cJSON_CreateObject();
                if (!r || !add(t, r, "type", cJSON_CreateString("tool_result")) ||
                    !add(t, r, "tool_use_id", cJSON_CreateString(id))) {
                    st = nomem(t);
                } else if (c) {
                    cJSON *given = c;
                    c = NULL; /* add() owns it now, also when it fails */
                    if (!add(t, r, "content", given))
                        st = nomem(t);
                }
            }
            if (st == OAB_OK && !tool_turn) {
                cJSON *arr = cJSON_CreateArray();
                cJSON *turn = arr ? new_turn(t, turns, "user", arr) : NULL;
                tool_turn = turn ? cJSON_GetObjectItemCaseSensitive(turn, "content") : NULL;
                if (!tool_turn)
                    st = nomem(t);
            }
            if (st == OAB_OK) {
                if (!push(t, tool_turn, r)) /* push frees r when it fails */
                    st = nomem(t);
            } else {
                cJSON_Delete(c);
                cJSON_Delete(r);
            }
        } else {
            snprintf(field, sizeof field, "%s.role", where);
            st = refuse(t, field, "role \"%s\" has no Anthropic equivalent", role);
        }
    }
    if (st == OAB_OK && !turns->child)
        st = refuse(t, "body.messages", "no user or assistant message "
                                        "(Anthropic needs at least one)");
    if (st == OAB_OK && sys.len && !add(t, params, "system", cJSON_CreateString(sys.data)))
        st = nomem(t);
    if (st == OAB_OK && !add(t, params, "messages", turns))
        st = nomem(t);
    else if (st != OAB_OK)
        cJSON_Delete(turns);
    oab__buf_free(&sys);
    return st;
}

/* tools -> [{name, description, input_schema}] (appended to out). */
static oab_status tx_tools(tx *t, const cJSON *tools, cJSON *out)
{
    if (!cJSON_IsArray(tools))
        return refuse(t, "body.tools", "must be an array");
    int k = 0;
    const cJSON *tl;
    char field[64];
    cJSON_ArrayForEach(tl, tools)
    {
        snprintf(field, sizeof field, "body.tools[%d]", k++);
        const char *type = oab__json_str(tl, "type");
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tl, "function");
        const char *name = oab__json_str(fn, "name");
        if (!type || strcmp(type, "function") != 0 || !name)
            return refuse(t, field, "only function tools with a name are "
                                    "translated");
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(fn, "parameters");
        const char *desc = oab__json_str(fn, "description");
        cJSON *a = cJSON_CreateObject();
        if (!a || !push(t, out, a) || !add(t, a, "name", cJSON_CreateString(name)) ||
            (desc && !add(t, a, "description", cJSON_CreateString(desc))))
            return nomem(t);
        cJSON *schema = cJSON_IsObject(params)
                            ? dup(params)
                            : cJSON_Parse("{\"type\":\"object\",\"properties\":{}}");
        if (!add(t, a, "input_schema", schema))
            return nomem(t);
    }
    return OAB_OK;
}

/* tool_choice -> {type: auto|none|any|tool[, name]}; NULL when absent. */
static oab_status tx_tool_choice(tx *t, const cJSON *tc, cJSON **out)
{
    *out = NULL;
    if (!tc || cJSON_IsNull(tc))
        return OAB_OK;
    const char *type = NULL, *name = NULL;
    if (cJSON_IsString(tc)) {
        const char *s = tc->valuestring;
        type = strcmp(s, "auto") == 0 ? "auto"
               : strcmp(s, "none") == 0 ? "none"
               : strcmp(s, "required") == 0 ? "any" : NULL;
    } else if (cJSON_IsObject(tc)) {
        const char *ot = oab__json_str(tc, "type");
        name = oab__json_str(cJSON_GetObjectItemCaseSensitive(tc, "function"), "name");
        if (ot && strcmp(ot, "function") == 0 && name)
            type = "tool";
    }
    if (!type)
        return refuse(t, "body.tool_choice", "only \"auto\", \"none\", "
                                             "\"required\" or a named function "
                                             "are translated");
    cJSON *c = cJSON_CreateObject();
    if (!c || !add(t, c, "type", cJSON_CreateString(type)) ||
        (name && !add(t, c, "name", cJSON_CreateString(name)))) {
        cJSON_Delete(c);
        return nomem(t);
    }
    *out = c;
    return OAB_OK;
}

/* response_format: native json_schema -> a forced tool (name returned in
 * *native, borrowed from the body); text -> nothing; json_object refused. */
static oab_status tx_response_format(tx *t, const cJSON *rf, cJSON *tools,
                                     cJSON **choice, const char **native)
{
    *native = NULL;
    if (!rf || cJSON_IsNull(rf))
        return OAB_OK;
    const char *type = oab__json_str(rf, "type");
    if (type && strcmp(type, "text") == 0)
        return OAB_OK;
    if (!type || strcmp(type, "json_schema") != 0)
        return refuse(t, "body.response_format", "type \"%s\" is not translated "
                      "(json_schema is; Anthropic has no plain JSON mode)",
                      type ? type : "?");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(rf, "json_schema");
    const char *name = oab__json_str(js, "name");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(js, "schema");
    const char *stype = oab__json_str(schema, "type");
    if (!name)
        return refuse(t, "body.response_format.json_schema.name", "missing");
    if (!cJSON_IsObject(schema) || (stype && strcmp(stype, "object") != 0) ||
        (!stype && cJSON_GetObjectItemCaseSensitive(schema, "type")))
        return refuse(t, "body.response_format.json_schema.schema",
                      "the root must be an object schema (it becomes a "
                      "tool's input_schema)");
    const cJSON *tl;
    cJSON_ArrayForEach(tl, tools)
    {
        const char *tn = oab__json_str(tl, "name");
        if (tn && strcmp(tn, name) == 0)
            return refuse(t, "body.response_format.json_schema.name",
                          "\"%s\" is also the name of a tool of the request", name);
    }
    const char *desc = oab__json_str(js, "description");
    cJSON *a = cJSON_CreateObject();
    if (!a || !push(t, tools, a) || !add(t, a, "name", cJSON_CreateString(name)) ||
        !add(t, a, "description",
             cJSON_CreateString(desc ? desc : "Give the final answer as this "
                                              "tool's input.")) ||
        !add(t, a, "input_schema", dup(schema)))
        return nomem(t);
    cJSON_Delete(*choice);
    *choice = cJSON_CreateObject();
    if (!*choice || !add(t, *choice, "type", cJSON_CreateString("tool")) ||
        !add(t, *choice, "name", cJSON_CreateString(name)))
        return nomem(t);
    *native = name;
    return OAB_OK;
}

/* An integer >= 1 (max tokens); 0 when v is absent or null; -1 invalid. */
static long positive_int(const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e9 ||
        v->valuedouble != (double)(long)v->valuedouble)
        return -1;
    return (long)v->valuedouble;
}

static oab_status tx_sampling(tx *t, const cJSON *body, cJSON *params)
{
    const cJSON *temp = cJSON_GetObjectItemCaseSensitive(body, "temperature");
    const cJSON *top_p = cJSON_GetObjectItemCaseSensitive(body, "top_p");
    const cJSON *stop = cJSON_GetObjectItemCaseSensitive(body, "stop");
    if (temp && !cJSON_IsNull(temp)) {
        if (!cJSON_IsNumber(temp) || temp->valuedouble < 0 || temp->valuedouble > 1)
            return refuse(t, "body.temperature", "Anthropic takes 0 to 1");
        if (!add(t, params, "temperature", dup(temp)))
            return nomem(t);
    }
    if (top_p && !cJSON_IsNull(top_p)) {
        if (!cJSON_IsNumber(top_p) || top_p->valuedouble < 0 || top_p->valuedouble > 1)
            return refuse(t, "body.top_p", "must be a number from 0 to 1");
        if (!add(t, params, "top_p", dup(top_p)))
            return nomem(t);
    }
    if (stop && !cJSON_IsNull(stop)) {
        cJSON *seq = cJSON_CreateArray();
        if (!seq)
            return nomem(t);
        if (cJSON_IsString(stop)) {
            if (!push(t, seq, cJSON_CreateString(stop->valuestring))) {
                cJSON_Delete(seq);
                return nomem(t);
            }
        } else if (cJSON_IsArray(stop)) {
            const cJSON *s;
            cJSON_ArrayForEach(s, stop)
            {
                if (!cJSON_IsString(s)) {
                    cJSON_Delete(seq);
                    return refuse(t, "body.stop", "must be a string or an array "
                                                  "of strings");
                }
                if (!push(t, seq, cJSON_CreateString(s->valuestring))) {
                    cJSON_Delete(seq);
                    return nomem(t);
                }
            }
        } else {
            cJSON_Delete(seq);
            return refuse(t, "body.stop", "must be a string or an array of strings");
        }
        if (!seq->child)
            cJSON_Delete(seq);
        else if (!add(t, params, "stop_sequences", seq))
            return nomem(t);
    }
    return OAB_OK;
}

/* tools, tool_choice, parallel_tool_calls and response_format. */
static oab_status tx_tooling(tx *t, const cJSON *body, cJSON *params,
                             const char **native)
{
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(body, "tools");
    cJSON *out = cJSON_CreateArray();
    cJSON *choice = NULL;
    if (!out)
        return nomem(t);
    oab_status st = OAB_OK;
    if (tools && !cJSON_IsNull(tools))
        st = tx_tools(t, tools, out);
    if (st == OAB_OK)
        st = tx_tool_choice(t, cJSON_GetObjectItemCaseSensitive(body, "tool_choice"),
                            &choice);
    if (st == OAB_OK)
        st = tx_response_format(t, cJSON_GetObjectItemCaseSensitive(body, "response_format"),
                                out, &choice, native);
    const cJSON *ptc = cJSON_GetObjectItemCaseSensitive(body, "parallel_tool_calls");
    if (st == OAB_OK && !cJSON_IsNull(ptc) && ptc && !cJSON_IsBool(ptc))
        st = refuse(t, "body.parallel_tool_calls", "must be true or false");
    const char *ctype = choice ? oab__json_str(choice, "type") : "auto";
    if (st == OAB_OK && (cJSON_IsFalse(ptc) || *native) && strcmp(ctype, "none") != 0 &&
        out->child) {
        if (!choice && (!(choice = cJSON_CreateObject()) ||
                        !add(t, choice, "type", cJSON_CreateString("auto"))))
            st = nomem(t);
        if (st == OAB_OK &&
            !add(t, choice, "disable_parallel_tool_use", cJSON_CreateTrue()))
            st = nomem(t);
    }
    if (st == OAB_OK && out->child) {
        if (!add(t, params, "tools", out))
            st = nomem(t);
        out = NULL;
    }
    if (st == OAB_OK && choice) {
        if (!add(t, params, "tool_choice", choice))
            st = nomem(t);
        choice = NULL;
    }
    cJSON_Delete(out);
    cJSON_Delete(choice);
    return st;
}

/* model, max_tokens, messages/system, tooling, sampling, metadata. */
static oab_status tx_body(tx *t, const cJSON *body, const oab_anthropic_options *o,
                          cJSON *params, const char **native)
{
    oab_status st = check_fields(t, body);
    if (st != OAB_OK)
        return st;
    const char *model = oab__json_str(body, "model");
    if (!model || !*model)
        return refuse(t, "body.model", "missing");
    if (strncmp(model, "anthropic:", 10) == 0)
        model += 10;
    if (!add(t, params, "model", cJSON_CreateString(model)))
        return nomem(t);
    long mct = positive_int(cJSON_GetObjectItemCaseSensitive(body, "max_completion_tokens"));
    long mt = positive_int(cJSON_GetObjectItemCaseSensitive(body, "max_tokens"));
    if (mct < 0)
        return refuse(t, "body.max_completion_tokens", "must be an integer >= 1");
    if (mt < 0)
        return refuse(t, "body.max_tokens", "must be an integer >= 1");
    long max = mct ? mct : mt ? mt : o->default_max_tokens;
    if (max <= 0)
        return refuse(t, "body.max_tokens", "Anthropic requires max_tokens: set "
                      "max_tokens or max_completion_tokens in the line, or a "
                      "default (anthropic_max_tokens of the client)");
    if (!add(t, params, "max_tokens", cJSON_CreateNumber((double)max)))
        return nomem(t);
    if ((st = tx_messages(t, cJSON_GetObjectItemCaseSensitive(body, "messages"),
                          params)) != OAB_OK ||
        (st = tx_tooling(t, body, params, native)) != OAB_OK ||
        (st = tx_sampling(t, body, params)) != OAB_OK)
        return st;
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(body, "user");
    if (cJSON_IsString(user) && user->valuestring[0]) {
        cJSON *md = add(t, params, "metadata", cJSON_CreateObject());
        if (!md || !add(t, md, "user_id", cJSON_CreateString(user->valuestring)))
            return nomem(t);
    }
    return t->oom ? nomem(t) : OAB_OK;
}

oab_status oab_anthropic_request_from_openai(char **out, const char *line, size_t len,
                                             long lineno,
                                             const oab_anthropic_options *opts,
                                             oab_anthropic_map *map, oab_error *err)
{
    if (out)
        *out = NULL;
    oab_anthropic_options dflt = OAB_ANTHROPIC_OPTIONS_INIT;
    if (!opts)
        opts = &dflt;
    if (opts->version != OAB_ANTHROPIC_OPTIONS_VERSION)
        return oab__err(err, OAB_EINVAL, lineno, "unknown options version %u",
                        opts->version);
    tx t = {lineno, err, 0};
    char what[40];
    snprintf(what, sizeof what, "line %ld", lineno);
    cJSON *root = NULL;
    oab_status st = parse_text(&root, out != NULL, line, len, lineno, what, err);
    if (st != OAB_OK)
        return st;
    const char *cid = oab__json_str(root, "custom_id");
    const char *url = oab__json_str(root, "url");
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(root, "body");
    if (!cJSON_IsObject(root))
        st = refuse(&t, "line", "not a JSON object");
    else if (!cid || !*cid)
        st = refuse(&t, "custom_id", "missing");
    else if (!url || strcmp(url, "/v1/chat/completions") != 0)
        st = refuse(&t, "url", "\"%s\": only /v1/chat/completions lines are "
                    "translated to Anthropic", url ? url : "");
    else if (!cJSON_IsObject(body))
        st = refuse(&t, "body", "missing or not an object");
    cJSON *params = st == OAB_OK ? cJSON_CreateObject() : NULL;
    const char *native = NULL;
    if (st == OAB_OK && !params)
        st = nomem(&t);
    if (st == OAB_OK)
        st = tx_body(&t, body, opts, params, &native);
    char sent[48];
    const char *sent_id = cid;
    if (st == OAB_OK && !oab__anthropic_id_ok(cid)) {
        snprintf(sent, sizeof sent, "oab-%016llx-%ld", (unsigned long long)fnv1a(cid),
                 lineno);
        sent_id = sent;
    }
    if (st == OAB_OK && map && (sent_id != cid || native) &&
        map_add(map, sent_id, cid, native) != OAB_OK)
        st = nomem(&t);
    oab__buf b = OAB__BUF_INIT;
    if (st == OAB_OK) {
        char *p = oab__json_print(params);
        if (!p || oab__buf_puts(&b, "{\"custom_id\":") ||
            oab__buf_json_string(&b, sent_id, strlen(sent_id)) ||
            oab__buf_puts(&b, ",\"params\":") || oab__buf_puts(&b, p) ||
            oab__buf_putc(&b, '}'))
            st = nomem(&t);
        free(p);
    }
    cJSON_Delete(params);
    cJSON_Delete(root);
    if (st != OAB_OK) {
        oab__buf_free(&b);
        return st;
    }
    *out = oab__buf_take(&b, NULL);
    return OAB_OK;
}

/* ------------------------------------------------------------------ */
/* Results: Message Batch result line -> OpenAI output/error line       */
/* ------------------------------------------------------------------ */

static const char *finish_reason(const char *stop_reason, int native_answer)
{
    if (!stop_reason)
        return NULL;
    if (native_answer && strcmp(stop_reason, "tool_use") == 0)
        return "stop";
    static const char *const map[][2] = {
        {"end_turn", "stop"},       {"stop_sequence", "stop"},
        {"pause_turn", "stop"},     {"max_tokens", "length"},
        {"model_context_window_exceeded", "length"},
        {"tool_use", "tool_calls"}, {"refusal", "content_filter"},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strcmp(map[i][0], stop_reason) == 0)
            return map[i][1];
    return stop_reason;
}

/* The HTTP status an Anthropic error type stands for. */
static int error_status(const char *type)
{
    static const struct {
        const char *type;
        int status;
    } map[] = {
        {"invalid_request_error", 400}, {"authentication_error", 401},
        {"billing_error", 402},         {"permission_error", 403},
        {"not_found_error", 404},       {"request_too_large", 413},
        {"rate_limit_error", 429},      {"api_error", 500},
        {"timeout_error", 504},         {"overloaded_error", 529},
    };
    for (size_t i = 0; type && i < sizeof map / sizeof *map; i++)
        if (strcmp(map[i].type, type) == 0)
            return map[i].status;
    return 500;
}

/* A usage count (0 when absent or negative). */
static long long usage_n(const cJSON *u, const char *key)
{
    long long n = oab__json_ll(u, key, 0);
    return n > 0 ? n : 0;
}

/* The chat.completion body of a succeeded message. */
static cJSON *completion_body(tx *t, const cJSON *msg, const char *native)
{
    cJSON *body = cJSON_CreateObject();
    cJSON *choices = body ? add(t, body, "choices", cJSON_CreateArray()) : NULL;
    if (!body || !choices) {
        cJSON_Delete(body);
        return NULL;
    }
    /* key order of OpenAI's object: id, object, created, model, choices, usage */
    cJSON_DetachItemViaPointer(body, choices);
    const char *id = oab__json_str(msg, "id");
    const char *model = oab__json_str(msg, "model");
    add(t, body, "id", id ? cJSON_CreateString(id) : cJSON_CreateNull());
    add(t, body, "object", cJSON_CreateString("chat.completion"));
    add(t, body, "created", cJSON_CreateNumber(0));
    add(t, body, "model", model ? cJSON_CreateString(model) : cJSON_CreateNull());
    add(t, body, "choices", choices);

    oab__buf text = OAB__BUF_INIT;
    char *native_json = NULL;
    cJSON *calls = cJSON_CreateArray();
    int has_text = 0;
    const cJSON *blk;
    cJSON_ArrayForEach(blk, cJSON_GetObjectItemCaseSensitive(msg, "content"))
    {
        const char *type = oab__json_str(blk, "type");
        if (!type)
            continue;
        if (strcmp(type, "text") == 0 && oab__json_str(blk, "text")) {
            if (oab__buf_puts(&text, oab__json_str(blk, "text")))
                t->oom = 1;
            has_text = 1;
        } else if (strcmp(type, "tool_use") == 0) {
            const char *name = oab__json_str(blk, "name");
            const cJSON *input = cJSON_GetObjectItemCaseSensitive(blk, "input");
            char *args = input ? oab__json_print(input) : oab__strdup("{}");
            if (!args) {
                t->oom = 1;
            } else if (native && !native_json && name && strcmp(name, native) == 0) {
                native_json = args;
                args = NULL;
            } else if (calls) {
                const char *cid = oab__json_str(blk, "id");
                cJSON *c = push(t, calls, cJSON_CreateObject());
                cJSON *fn = c ? (add(t, c, "id", cid ? cJSON_CreateString(cid)
                                                     : cJSON_CreateNull()),
                                 add(t, c, "type", cJSON_CreateString("function")),
                                 add(t, c, "function", cJSON_CreateObject()))
                              : NULL;
                if (fn) {
                    add(t, fn, "name", cJSON_CreateString(name ? name : ""));
                    add(t, fn, "arguments", cJSON_CreateString(args));
                }
            }
            free(args);
        } /* thinking, redacted_thinking and server tool blocks: not carried */
    }
    cJSON *choice = push(t, choices, cJSON_CreateObject());
    cJSON *m = choice ? (add(t, choice, "index", cJSON_CreateNumber(0)),
                         add(t, choice, "message", cJSON_CreateObject()))
                      : NULL;
    if (m) {
        add(t, m, "role", cJSON_CreateString("assistant"));
        add(t, m, "content", native_json ? cJSON_CreateString(native_json)
                             : has_text  ? cJSON_CreateString(text.data ? text.data : "")
                                         : cJSON_CreateNull());
        add(t, m, "refusal", cJSON_CreateNull());
        if (calls && calls->child) {
            add(t, m, "tool_calls", calls);
            calls = NULL;
        }
        const char *fr = finish_reason(oab__json_str(msg, "stop_reason"),
                                       native_json != NULL);
        add(t, choice, "finish_reason", fr ? cJSON_CreateString(fr) : cJSON_CreateNull());
        add(t, choice, "logprobs", cJSON_CreateNull());
    }
    cJSON_Delete(calls);
    free(native_json);
    oab__buf_free(&text);

    const cJSON *u = cJSON_GetObjectItemCaseSensitive(msg, "usage");
    if (cJSON_IsObject(u)) {
        long long cache_read = usage_n(u, "cache_read_input_tokens");
        long long prompt = usage_n(u, "input_tokens") + cache_read +
                           usage_n(u, "cache_creation_input_tokens");
        long long completion = usage_n(u, "output_tokens");
        cJSON *ou = add(t, body, "usage", cJSON_CreateObject());
        if (ou) {
            add(t, ou, "prompt_tokens", cJSON_CreateNumber((double)prompt));
            add(t, ou, "completion_tokens", cJSON_CreateNumber((double)completion));
            add(t, ou, "total_tokens", cJSON_CreateNumber((double)(prompt + completion)));
            cJSON *d = add(t, ou, "prompt_tokens_details", cJSON_CreateObject());
            if (d)
                add(t, d, "cached_tokens", cJSON_CreateNumber((double)cache_read));
            const cJSON *od = cJSON_GetObjectItemCaseSensitive(u, "output_tokens_details");
            cJSON *cd = cJSON_IsObject(od)
                            ? add(t, ou, "completion_tokens_details", cJSON_CreateObject())
                            : NULL;
            if (cd)
                add(t, cd, "reasoning_tokens",
                    cJSON_CreateNumber((double)usage_n(od, "thinking_tokens")));
        }
    }
    if (t->oom) {
        cJSON_Delete(body);
        return NULL;
    }
    return body;
}

/* {"error":{"message","type","param":null,"code":null}} of an errored result. */
static cJSON *error_body(tx *t, const cJSON *error, int *status)
{
    const cJSON *inner = cJSON_GetObjectItemCaseSensitive(error, "error");
    if (!cJSON_IsObject(inner))
        inner = error;
    const char *type = oab__json_str(inner, "type");
    const char *message = oab__json_str(inner, "message");
    *status = error_status(type);
    cJSON *body = cJSON_CreateObject();
    cJSON *e = body ? add(t, body, "error", cJSON_CreateObject()) : NULL;
    if (e) {
        add(t, e, "message", cJSON_CreateString(message ? message : "the request failed"));
        add(t, e, "type", type ? cJSON_CreateString(type) : cJSON_CreateNull());
        add(t, e, "param", cJSON_CreateNull());
        add(t, e, "code", cJSON_CreateNull());
    }
    if (t->oom || !e) {
        cJSON_Delete(body);
        t->oom = 1;
        return NULL;
    }
    return body;
}

oab_status oab_anthropic_result_to_openai(char **out, int *is_error, const char *line,
                                          size_t len, long lineno,
                                          oab_anthropic_map *map, oab_error *err)
{
    if (is_error)
        *is_error = 0;
    if (out)
        *out = NULL;
    tx t = {lineno, err, 0};
    char what[48];
    snprintf(what, sizeof what, "results line %ld", lineno);
    cJSON *root = NULL;
    oab_status st = parse_text(&root, out != NULL, line, len, lineno, what, err);
    if (st != OAB_OK)
        return st;
    const char *sent = oab__json_str(root, "custom_id");
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(root, "result");
    const char *type = oab__json_str(result, "type");
    if (!sent || !type) {
        cJSON_Delete(root);
        return oab__err(err, OAB_EPROTO, lineno, "results line %ld: no %s", lineno,
                        sent ? "result.type" : "custom_id");
    }
    const map_entry *e = map_find(map, sent);
    const char *cid = e ? e->custom_id : sent;
    cJSON *o = cJSON_CreateObject();
    char *line_id = oab__sprintf("batch_req_%s", sent);
    if (!o || !line_id || !add(&t, o, "id", cJSON_CreateString(line_id)) ||
        !add(&t, o, "custom_id", cJSON_CreateString(cid)))
        st = nomem(&t);
    free(line_id);
    int errored = 1;
    if (st != OAB_OK) {
        /* reported below */
    } else if (strcmp(type, "succeeded") == 0) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(result, "message");
        cJSON *body = completion_body(&t, msg, e ? e->native : NULL);
        const char *mid = oab__json_str(msg, "id");
        cJSON *resp = body ? add(&t, o, "response", cJSON_CreateObject()) : NULL;
        if (!resp) {
            cJSON_Delete(body);
            st = nomem(&t);
        } else {
            add(&t, resp, "status_code", cJSON_CreateNumber(200));
            add(&t, resp, "request_id", mid ? cJSON_CreateString(mid) : cJSON_CreateNull());
            add(&t, resp, "body", body);
            add(&t, o, "error", cJSON_CreateNull());
        }
        errored = 0;
    } else if (strcmp(type, "errored") == 0) {
        int status = 500;
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(result, "error");
        cJSON *body = error_body(&t, error, &status);
        const char *rid = oab__json_str(error, "request_id");
        cJSON *resp = body ? add(&t, o, "response", cJSON_CreateObject()) : NULL;
        if (!resp) {
            cJSON_Delete(body);
            st = nomem(&t);
        } else {
            add(&t, resp, "status_code", cJSON_CreateNumber(status));
            add(&t, resp, "request_id", rid ? cJSON_CreateString(rid) : cJSON_CreateNull());
            add(&t, resp, "body", body);
            add(&t, o, "error", cJSON_CreateNull());
        }
    } else if (strcmp(type, "canceled") == 0 || strcmp(type, "expired") == 0) {
        int canceled = type[0] == 'c';
        cJSON *er = (add(&t, o, "response", cJSON_CreateNull()),
                     add(&t, o, "error", cJSON_CreateObject()));
        if (er) {
            add(&t, er, "code", cJSON_CreateString(canceled ? "batch_cancelled"
                                                            : "batch_expired"));
            add(&t, er, "message",
                cJSON_CreateString(canceled
                                       ? "Anthropic canceled this request before it "
                                         "was processed (result type canceled)"
                                       : "the batch reached its 24 hour limit before "
                                         "this request was processed (result type "
                                         "expired)"));
        }
    } else {
        st = oab__err(err, OAB_EPROTO, lineno,
                      "results line %ld: unknown result type \"%s\"", lineno, type);
    }
    if (st == OAB_OK && t.oom)
        st = nomem(&t);
    char *text = st == OAB_OK ? oab__json_print(o) : NULL;
    if (st == OAB_OK && !text)
        st = nomem(&t);
    cJSON_Delete(o);
    cJSON_Delete(root);
    if (st != OAB_OK)
        return st;
    if (is_error)
        *is_error = errored;
    *out = text;
    return OAB_OK;
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
    long long processing = usage_n(rc, "processing"), ok = usage_n(rc, "succeeded"),
              errored = usage_n(rc, "errored"), canceled = usage_n(rc, "canceled"),
              expired = usage_n(rc, "expired");
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
    tx t = {0, err, 0};
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return nomem(&t);
    add(&t, o, "id", cJSON_CreateString(id));
    add(&t, o, "object", cJSON_CreateString("batch"));
    add(&t, o, "endpoint", cJSON_CreateString("/v1/chat/completions"));
    add(&t, o, "errors", cJSON_CreateNull());
    add(&t, o, "input_file_id", cJSON_CreateNull());
    add(&t, o, "completion_window", cJSON_CreateString("24h"));
    add(&t, o, "status", cJSON_CreateString(status));
    add(&t, o, "output_file_id", cJSON_CreateNull());
    add(&t, o, "error_file_id", cJSON_CreateNull());
    add(&t, o, "created_at", cJSON_CreateNumber((double)created));
    add(&t, o, "in_progress_at", num_or_null(created));
    add(&t, o, "expires_at",
        num_or_null(rfc3339(cJSON_GetObjectItemCaseSensitive(obj, "expires_at"))));
    add(&t, o, "finalizing_at", cJSON_CreateNull());
    add(&t, o, "completed_at", num_or_null(strcmp(status, "completed") == 0 ? ended : 0));
    add(&t, o, "failed_at", cJSON_CreateNull());
    add(&t, o, "expired_at", num_or_null(strcmp(status, "expired") == 0 ? ended : 0));
    add(&t, o, "cancelling_at", num_or_null(cancel_at));
    add(&t, o, "cancelled_at", num_or_null(strcmp(status, "cancelled") == 0 ? ended : 0));
    cJSON *counts = add(&t, o, "request_counts", cJSON_CreateObject());
    if (counts) {
        add(&t, counts, "total",
            cJSON_CreateNumber((double)(processing + ok + errored + canceled + expired)));
        add(&t, counts, "completed", cJSON_CreateNumber((double)ok));
        add(&t, counts, "failed", cJSON_CreateNumber((double)(errored + canceled + expired)));
    }
    add(&t, o, "metadata", cJSON_CreateNull());
    add(&t, o, "anthropic", dup(obj));
    oab_status st = t.oom ? nomem(&t) : oab__job_from_cjson(out, o, NULL, 0, err);
    cJSON_Delete(o);
    return st;
}

oab_status oab_anthropic_job_parse(oab_job **out, const char *json, size_t len,
                                   oab_error *err)
{
    if (out)
        *out = NULL;
    cJSON *root = NULL;
    oab_status st = parse_text(&root, out != NULL, json, len, 0, "message batch object", err);
    if (st != OAB_OK)
        return st;
    st = oab__anthropic_job_from_cjson(out, root, err);
    cJSON_Delete(root);
    return st;
}
/* ------------------------------------------------------------------ */
/* Serving Anthropic's API from OpenAI-compatible upstreams: Messages   */
/* params -> chat completions body, chat.completion -> Message          */
/* ------------------------------------------------------------------ */

/* Text of a system value: a string or an array of text blocks. */
static oab_status system_of(tx *t, oab__buf *b, const cJSON *sys)
{
    if (cJSON_IsString(sys))
        return oab__buf_puts(b, sys->valuestring) ? nomem(t) : OAB_OK;
    if (!cJSON_IsArray(sys))
        return refuse(t, "params.system", "must be a string or an array of text blocks");
    return join_texts(t, b, sys, "\n\n", "params.system", "only text blocks are translated");
}

/* The text of a tool_result's content (a string or text blocks). */
static oab_status tool_result_text(tx *t, oab__buf *b, const cJSON *content,
                                   const char *field)
{
    if (!content || cJSON_IsNull(content) || cJSON_IsString(content))
        return oab__buf_puts(b, cJSON_IsString(content) ? content->valuestring : "")
                   ? nomem(t)
                   : OAB_OK;
    return join_texts(t, b, content, "\n", field,
                      "a tool_result carries text blocks only here");
}

/* An image block -> an image_url part. */
static cJSON *image_part(tx *t, const cJSON *blk, const char *field, oab_status *st)
{
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(blk, "source");
    const char *stype = oab__json_str(src, "type");
    char *url = NULL;
    if (stype && strcmp(stype, "base64") == 0 && oab__json_str(src, "media_type") &&
        oab__json_str(src, "data"))
        url = oab__sprintf("data:%s;base64,%s", oab__json_str(src, "media_type"),
                           oab__json_str(src, "data"));
    else if (stype && strcmp(stype, "url") == 0 && oab__json_str(src, "url"))
        url = oab__strdup(oab__json_str(src, "url"));
    else {
        *st = refuse(t, field, "an image source must be base64 or url");
        return NULL;
    }
    cJSON *p = url ? cJSON_CreateObject() : NULL;
    cJSON *iu = p && add(t, p, "type", cJSON_CreateString("image_url"))
                    ? add(t, p, "image_url", cJSON_CreateObject())
                    : NULL;
    if (!iu || !add(t, iu, "url", cJSON_CreateString(url))) {
        cJSON_Delete(p);
        p = NULL;
        *st = nomem(t);
    }
    free(url);
    return p;
}

/* One user turn: tool_result blocks become tool messages (first, as the
 * OpenAI API wants them right after the assistant's calls), the other
 * blocks one user message. */
static oab_status user_turn(tx *t, cJSON *out, const cJSON *content, const char *where)
{
    char field[128];
    if (cJSON_IsString(content)) {
        cJSON *m = push(t, out, cJSON_CreateObject());
        if (!m || !add(t, m, "role", cJSON_CreateString("user")) ||
            !add(t, m, "content", cJSON_CreateString(content->valuestring)))
            return nomem(t);
        return OAB_OK;
    }
    if (!cJSON_IsArray(content)) {
        snprintf(field, sizeof field, "%s.content", where);
        return refuse(t, field, "must be a string or an array of blocks");
    }
    cJSON *parts = cJSON_CreateArray();
    if (!parts)
        return nomem(t);
    oab_status st = OAB_OK;
    int k = 0;
    const cJSON *blk;
    cJSON_ArrayForEach(blk, content)
    {
        snprintf(field, sizeof field, "%s.content[%d]", where, k++);
        const char *type = oab__json_str(blk, "type");
        if (type && strcmp(type, "tool_result") == 0) {
            const char *id = oab__json_str(blk, "tool_use_id");
            oab__buf text = OAB__BUF_INIT;
            if (!id) {
                st = refuse(t, field, "a tool_result needs tool_use_id");
            } else if ((st = tool_result_text(
                            t, &text, cJSON_GetObjectItemCaseSensitive(blk, "content"),
                            field)) == OAB_OK) {
                cJSON *m = push(t, out, cJSON_CreateObject());
                if (!m || !add(t, m, "role", cJSON_CreateString("tool")) ||
                    !add(t, m, "tool_call_id", cJSON_CreateString(id)) ||
                    !add(t, m, "content", cJSON_CreateString(text.data ? text.data : "")))
                    st = nomem(t);
            }
            oab__buf_free(&text);
        } else if (type && strcmp(type, "text") == 0 && oab__json_str(blk, "text")) {
            cJSON *p = push(t, parts, cJSON_CreateObject());
            if (!p || !add(t, p, "type", cJSON_CreateString("text")) ||
                !add(t, p, "text", cJSON_CreateString(oab__json_str(blk, "text"))))
                st = nomem(t);
        } else if (type && strcmp(type, "image") == 0) {
            cJSON *p = image_part(t, blk, field, &st);
            if (p && !push(t, parts, p))
                st = nomem(t);
        } else {
            st = refuse(t, field, "a user block of type \"%s\" is not translated",
                        type ? type : "?");
        }
        if (st != OAB_OK)
            break;
    }
    if (st == OAB_OK && parts->child) {
        cJSON *m = push(t, out, cJSON_CreateObject());
        if (!m || !add(t, m, "role", cJSON_CreateString("user")) ||
            !add(t, m, "content", parts))
            st = nomem(t);
        parts = NULL;
    }
    cJSON_Delete(parts);
    return st;
}

/* One assistant turn: text blocks joined into content, tool_use blocks
 * into tool_calls (thinking dropped). */
static oab_status assistant_turn(tx *t, cJSON *out, const cJSON *content,
                                 const char *where)
{
    char field[128];
    oab__buf text = OAB__BUF_INIT;
    cJSON *calls = cJSON_CreateArray();
    oab_status st = calls ? OAB_OK : nomem(t);
    if (st == OAB_OK && cJSON_IsString(content)) {
        if (oab__buf_puts(&text, content->valuestring))
            st = nomem(t);
    } else if (st == OAB_OK && !cJSON_IsArray(content)) {
        snprintf(field, sizeof field, "%s.content", where);
        st = refuse(t, field, "must be a string or an array of blocks");
    }
    int k = 0;
    const cJSON *blk;
    if (st == OAB_OK && cJSON_IsArray(content))
        cJSON_ArrayForEach(blk, content)
        {
            snprintf(field, sizeof field, "%s.content[%d]", where, k++);
            const char *type = oab__json_str(blk, "type");
            if (type && strcmp(type, "text") == 0 && oab__json_str(blk, "text")) {
                if (oab__buf_puts(&text, oab__json_str(blk, "text")))
                    st = nomem(t);
            } else if (type && strcmp(type, "tool_use") == 0) {
                const char *id = oab__json_str(blk, "id");
                const char *name = oab__json_str(blk, "name");
                const cJSON *input = cJSON_GetObjectItemCaseSensitive(blk, "input");
                char *args = cJSON_IsObject(input) ? oab__json_print(input) : NULL;
                cJSON *c = id && name && args ? push(t, calls, cJSON_CreateObject()) : NULL;
                cJSON *fn = c && add(t, c, "id", cJSON_CreateString(id)) &&
                                    add(t, c, "type", cJSON_CreateString("function"))
                                ? add(t, c, "function", cJSON_CreateObject())
                                : NULL;
                if (!id || !name || !cJSON_IsObject(input))
                    st = refuse(t, field, "a tool_use needs id, name and an object input");
                else if (!fn || !add(t, fn, "name", cJSON_CreateString(name)) ||
                         !add(t, fn, "arguments", cJSON_CreateString(args)))
                    st = nomem(t);
                free(args);
            } else if (!type || (strcmp(type, "thinking") != 0 &&
                                 strcmp(type, "redacted_thinking") != 0)) {
                st = refuse(t, field, "an assistant block of type \"%s\" is not "
                                      "translated", type ? type : "?");
            }
            if (st != OAB_OK)
                break;
        }
    cJSON *m = st == OAB_OK ? push(t, out, cJSON_CreateObject()) : NULL;
    if (st == OAB_OK &&
        (!m || !add(t, m, "role", cJSON_CreateString("assistant")) ||
         !add(t, m, "content", text.len ? cJSON_CreateString(text.data) : cJSON_CreateNull())))
        st = nomem(t);
    if (st == OAB_OK && calls->child) {
        if (!add(t, m, "tool_calls", calls))
            st = nomem(t);
        calls = NULL;
    }
    cJSON_Delete(calls);
    oab__buf_free(&text);
    return st;
}

/* tools and tool_choice of the params -> the body's. */
static oab_status serve_tools(tx *t, const cJSON *params, cJSON *body)
{
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(params, "tools");
    if (tools && !cJSON_IsNull(tools)) {
        if (!cJSON_IsArray(tools))
            return refuse(t, "params.tools", "must be an array");
        cJSON *out = add(t, body, "tools", cJSON_CreateArray());
        int k = 0;
        const cJSON *tl;
        cJSON_ArrayForEach(tl, tools)
        {
            char field[48];
            snprintf(field, sizeof field, "params.tools[%d]", k++);
            const char *name = oab__json_str(tl, "name");
            const char *type = oab__json_str(tl, "type");
            const cJSON *schema = cJSON_GetObjectItemCaseSensitive(tl, "input_schema");
            if (!name || !cJSON_IsObject(schema) || (type && strcmp(type, "custom") != 0))
                return refuse(t, field, "only client tools {name, input_schema} are "
                                        "translated");
            cJSON *o = out ? push(t, out, cJSON_CreateObject()) : NULL;
            cJSON *fn = o && add(t, o, "type", cJSON_CreateString("function"))
                            ? add(t, o, "function", cJSON_CreateObject())
                            : NULL;
            const char *desc = oab__json_str(tl, "description");
            if (!fn || !add(t, fn, "name", cJSON_CreateString(name)) ||
                (desc && !add(t, fn, "description", cJSON_CreateString(desc))) ||
                !add(t, fn, "parameters", dup(schema)))
                return nomem(t);
        }
    }
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(params, "tool_choice");
    if (!tc || cJSON_IsNull(tc))
        return OAB_OK;
    const char *type = oab__json_str(tc, "type");
    const char *name = oab__json_str(tc, "name");
    cJSON *choice = NULL;
    if (type && strcmp(type, "auto") == 0)
        choice = cJSON_CreateString("auto");
    else if (type && strcmp(type, "any") == 0)
        choice = cJSON_CreateString("required");
    else if (type && strcmp(type, "none") == 0)
        choice = cJSON_CreateString("none");
    else if (type && strcmp(type, "tool") == 0 && name) {
        choice = cJSON_CreateObject();
        cJSON *fn = choice && add(t, choice, "type", cJSON_CreateString("function"))
                        ? add(t, choice, "function", cJSON_CreateObject())
                        : NULL;
        if (!fn || !add(t, fn, "name", cJSON_CreateString(name))) {
            cJSON_Delete(choice);
            return nomem(t);
        }
    } else {
        return refuse(t, "params.tool_choice", "type must be auto, any, tool (with a "
                                               "name) or none");
    }
    if (!add(t, body, "tool_choice", choice))
        return nomem(t);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tc, "disable_parallel_tool_use")) &&
        strcmp(type, "none") != 0 &&
        !add(t, body, "parallel_tool_calls", cJSON_CreateFalse()))
        return nomem(t);
    return OAB_OK;
}

static const char *const serve_keys[] = {
    "model",       "max_tokens", "messages",       "system",   "tools",
    "tool_choice", "temperature", "top_p",         "top_k",    "stop_sequences",
    "metadata",    "service_tier",
};

static oab_status serve_body(tx *t, const cJSON *params, cJSON *body)
{
    if (!cJSON_IsObject(params))
        return refuse(t, "params", "not an object");
    const cJSON *f;
    cJSON_ArrayForEach(f, params)
    {
        size_t i = 0;
        while (i < sizeof serve_keys / sizeof *serve_keys && strcmp(serve_keys[i], f->string))
            i++;
        if (i == sizeof serve_keys / sizeof *serve_keys) {
            char field[96];
            snprintf(field, sizeof field, "params.%.80s", f->string);
            return refuse(t, field, "not translated to the OpenAI chat API");
        }
    }
    const char *model = oab__json_str(params, "model");
    long max = positive_int(cJSON_GetObjectItemCaseSensitive(params, "max_tokens"));
    if (!model || !*model)
        return refuse(t, "params.model", "missing");
    if (max <= 0)
        return refuse(t, "params.max_tokens", "required, an integer >= 1");
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(params, "messages");
    if (!cJSON_IsArray(msgs) || !msgs->child)
        return refuse(t, "params.messages", "must be a non-empty array");
    cJSON *out = cJSON_CreateArray();
    if (!add(t, body, "model", cJSON_CreateString(model)) ||
        !add(t, body, "messages", out))
        return nomem(t);
    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(params, "system");
    oab_status st = OAB_OK;
    if (sys && !cJSON_IsNull(sys)) {
        oab__buf b = OAB__BUF_INIT;
        st = system_of(t, &b, sys);
        cJSON *m = st == OAB_OK && b.len ? push(t, out, cJSON_CreateObject()) : NULL;
        if (m && (!add(t, m, "role", cJSON_CreateString("system")) ||
                  !add(t, m, "content", cJSON_CreateString(b.data))))
            st = nomem(t);
        oab__buf_free(&b);
        if (st != OAB_OK)
            return st;
    }
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs)
    {
        char where[48], field[64];
        snprintf(where, sizeof where, "params.messages[%d]", i++);
        const char *role = oab__json_str(m, "role");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (role && strcmp(role, "user") == 0)
            st = user_turn(t, out, content, where);
        else if (role && strcmp(role, "assistant") == 0)
            st = assistant_turn(t, out, content, where);
        else {
            snprintf(field, sizeof field, "%s.role", where);
            st = refuse(t, field, "must be user or assistant");
        }
        if (st != OAB_OK)
            return st;
    }
    if (!add(t, body, "max_tokens", cJSON_CreateNumber((double)max)))
        return nomem(t);
    static const char *const same[] = {"temperature", "top_p", "top_k"};
    for (size_t k = 0; k < 3; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, same[k]);
        if (cJSON_IsNumber(v) && !add(t, body, same[k], dup(v)))
            return nomem(t);
    }
    const cJSON *ss = cJSON_GetObjectItemCaseSensitive(params, "stop_sequences");
    if (cJSON_IsArray(ss) && ss->child && !add(t, body, "stop", dup(ss)))
        return nomem(t);
    if ((st = serve_tools(t, params, body)) != OAB_OK)
        return st;
    const char *user = oab__json_str(cJSON_GetObjectItemCaseSensitive(params, "metadata"),
                                     "user_id");
    if (user && !add(t, body, "user", cJSON_CreateString(user)))
        return nomem(t);
    return t->oom ? nomem(t) : OAB_OK;
}

oab_status oab_anthropic_params_to_openai(char **out, const char *params, size_t len,
                                          oab_error *err)
{
    if (out)
        *out = NULL;
    tx t = {0, err, 0};
    cJSON *root = NULL;
    oab_status st = parse_text(&root, out != NULL, params, len, 0, "params", err);
    if (st != OAB_OK)
        return st;
    cJSON *body = cJSON_CreateObject();
    st = body ? serve_body(&t, root, body) : nomem(&t);
    char *text = st == OAB_OK ? oab__json_print(body) : NULL;
    if (st == OAB_OK && !text)
        st = nomem(&t);
    cJSON_Delete(body);
    cJSON_Delete(root);
    if (st == OAB_OK)
        *out = text;
    return st;
}

/* finish_reason -> stop_reason (the inverse of finish_reason()). */
static const char *stop_reason_of(const char *fr)
{
    static const char *const map[][2] = {
        {"stop", "end_turn"},        {"length", "max_tokens"},
        {"tool_calls", "tool_use"},  {"function_call", "tool_use"},
        {"content_filter", "refusal"},
    };
    for (size_t i = 0; fr && i < sizeof map / sizeof *map; i++)
        if (strcmp(map[i][0], fr) == 0)
            return map[i][1];
    return "end_turn";
}

oab_status oab_anthropic_message_from_openai(char **out, const char *completion,
                                             size_t len, oab_error *err)
{
    if (out)
        *out = NULL;
    tx t = {0, err, 0};
    cJSON *root = NULL;
    oab_status st = parse_text(&root, out != NULL, completion, len, 0, "chat.completion",
                               err);
    if (st != OAB_OK)
        return st;
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "choices"), 0);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(choice, "message");
    if (!cJSON_IsObject(msg)) {
        cJSON_Delete(root);
        return oab__err(err, OAB_EPROTO, 0, "chat.completion: no choices[0].message");
    }
    const char *id = oab__json_str(root, "id");
    const char *model = oab__json_str(root, "model");
    cJSON *o = cJSON_CreateObject();
    char *mid = id ? oab__strdup(id) : oab__strdup("msg_unknown");
    if (!o || !mid) {
        free(mid);
        cJSON_Delete(o);
        cJSON_Delete(root);
        return nomem(&t);
    }
    add(&t, o, "id", cJSON_CreateString(mid));
    free(mid);
    add(&t, o, "type", cJSON_CreateString("message"));
    add(&t, o, "role", cJSON_CreateString("assistant"));
    add(&t, o, "model", cJSON_CreateString(model ? model : ""));
    cJSON *content = add(&t, o, "content", cJSON_CreateArray());
    const char *text = oab__json_str(msg, "content");
    if (!text)
        text = oab__json_str(msg, "refusal");
    if (content && text && *text)
        push(&t, content, text_block(text));
    const cJSON *call;
    cJSON_ArrayForEach(call, cJSON_GetObjectItemCaseSensitive(msg, "tool_calls"))
    {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call, "function");
        const char *args = oab__json_str(fn, "arguments");
        cJSON *input = NULL;
        if (args && *args && oab__json_parse_st(&input, args, strlen(args)) == OAB_ENOMEM)
            t.oom = 1;
        if (!cJSON_IsObject(input)) {
            /* arguments that are not a JSON object: kept as text */
            cJSON_Delete(input);
            input = cJSON_CreateObject();
            if (input && args && *args && !cJSON_AddStringToObject(input, "arguments", args))
                t.oom = 1;
        }
        cJSON *b = content ? push(&t, content, cJSON_CreateObject()) : NULL;
        if (!b) {
            cJSON_Delete(input);
            continue;
        }
        const char *cid = oab__json_str(call, "id");
        const char *name = oab__json_str(fn, "name");
        add(&t, b, "type", cJSON_CreateString("tool_use"));
        add(&t, b, "id", cJSON_CreateString(cid ? cid : ""));
        add(&t, b, "name", cJSON_CreateString(name ? name : ""));
        add(&t, b, "input", input);
    }
    add(&t, o, "stop_reason",
        cJSON_CreateString(stop_reason_of(oab__json_str(choice, "finish_reason"))));
    add(&t, o, "stop_sequence", cJSON_CreateNull());
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "usage");
    long long cached = usage_n(cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens_details"),
                               "cached_tokens");
    long long prompt = usage_n(u, "prompt_tokens");
    cJSON *au = add(&t, o, "usage", cJSON_CreateObject());
    if (au) {
        add(&t, au, "input_tokens",
            cJSON_CreateNumber((double)(prompt > cached ? prompt - cached : 0)));
        add(&t, au, "cache_creation_input_tokens", cJSON_CreateNumber(0));
        add(&t, au, "cache_read_input_tokens", cJSON_CreateNumber((double)cached));
        add(&t, au, "output_tokens", cJSON_CreateNumber((double)usage_n(u, "completion_tokens")));
    }
    char *s = t.oom ? NULL : oab__json_print(o);
    cJSON_Delete(o);
    cJSON_Delete(root);
    if (!s)
        return nomem(&t);
    *out = s;
    return OAB_OK;
}
