/* request.c - builds batch input lines: chat (with tools and the three
 * structured-output modes), responses and embeddings requests.
 *
 * A request is its JSONL line, built once as text: strings are escaped
 * here, JSON the caller hands over (tool parameters, content parts,
 * extra_body) is checked and copied compact, schemas come compact from
 * oab_schema_json(). Fields left unset are absent, never null. */

#include "oaibatch.h"
#include "core/expect.h"
#include "core/request.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/json.h"
#include "util/opts.h"
#include "util/str.h"
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct oab_request {
    char *line;          /* the JSONL line, no newline */
    size_t len;
    size_t body_off;     /* the body's '{' */
    const char *url;     /* static */
    char *custom_id;     /* in the same allocation as the struct */
    char *model;         /* NULL or in the same allocation */
    oab_output_mode mode;
};

#define DEFAULT_TOOL_DESCRIPTION "The final response which ends this conversation"
#define MAX_FIELDS 40

/* ------------------------------------------------------------------ */
/* A line under construction                                            */
/* ------------------------------------------------------------------ */

typedef struct field {
    const char *key;     /* static */
    size_t off, len;     /* the value's bytes in b */
} field;

typedef struct bld {
    oab__buf b;
    field f[MAX_FIELDS];
    int n;
    int nomem;
    size_t body_off;
} bld;

static inline void put(bld *x, const char *s, size_t n)
{
    if (x->b.len + n < x->b.cap) { /* the common case: room left */
        memcpy(x->b.data + x->b.len, s, n);
        x->b.len += n;
        x->b.data[x->b.len] = '\0';
        return;
    }
    if (!x->nomem && oab__buf_append(&x->b, s, n) != OAB_OK)
        x->nomem = 1;
}

#define PUTS(x, lit) put((x), (lit), sizeof(lit) - 1)

static void putz(bld *x, const char *s)
{
    put(x, s, strlen(s));
}

/* Appends s escaped for a JSON string, without the quotes. Escapes what
 * cJSON_PrintUnformatted escapes, nothing else (UTF-8 stays raw). */
static void put_escaped(bld *x, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (x->nomem)
        return;
    if (oab__buf_reserve(&x->b, n + 16) != OAB_OK) {
        x->nomem = 1;
        return;
    }
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n) {
            unsigned char c = (unsigned char)s[j];
            if (c < 0x20 || c == '"' || c == '\\')
                break;
            j++;
        }
        if (j > i)
            put(x, s + i, j - i);
        if (j >= n)
            break;
        unsigned char c = (unsigned char)s[j];
        char e[6] = {'\\', 0, 0, 0, 0, 0};
        size_t en = 2;
        switch (c) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        default:
            e[1] = 'u';
            e[2] = '0';
            e[3] = '0';
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            en = 6;
        }
        put(x, e, en);
        i = j + 1;
    }
}

static void put_str(bld *x, const char *s)
{
    PUTS(x, "\"");
    put_escaped(x, s, strlen(s));
    PUTS(x, "\"");
}

/* Numbers: integers plainly (as cJSON), else the first of %1.15g, %1.16g,
 * %1.17g that reads back exactly (0.8 stays 0.8; 0.1+0.2 is not 0.3). */
static void put_double(bld *x, double d)
{
    char tmp[40];
    int n;
    if (d >= INT_MIN && d <= INT_MAX && d == (double)(int)d) {
        n = snprintf(tmp, sizeof tmp, "%d", (int)d);
    } else {
        n = snprintf(tmp, sizeof tmp, "%1.15g", d);
        if (strtod(tmp, NULL) != d)
            n = snprintf(tmp, sizeof tmp, "%1.16g", d);
        if (strtod(tmp, NULL) != d)
            n = snprintf(tmp, sizeof tmp, "%1.17g", d);
    }
    put(x, tmp, (size_t)n);
}

static void put_ll(bld *x, long long v)
{
    char tmp[OAB__LL_DIGITS];
    const char *p = oab__ll_digits(tmp, v);
    put(x, p, (size_t)(tmp + sizeof tmp - p));
}

/* Starts body member `key` (a static string). */
static void key(bld *x, const char *k)
{
    if (x->n >= MAX_FIELDS) { /* cannot happen: fewer keys than slots */
        x->nomem = 1;
        return;
    }
    if (x->n)
        PUTS(x, ",");
    PUTS(x, "\"");
    putz(x, k);
    PUTS(x, "\":");
    x->f[x->n].key = k;
    x->f[x->n].off = x->b.len;
}

static void end_key(bld *x)
{
    if (x->n < MAX_FIELDS) {
        x->f[x->n].len = x->b.len - x->f[x->n].off;
        x->n++;
    }
}

static int is_set(double d)
{
    return !isnan(d);
}

/* Body member k: the string v, when v is not NULL. */
static void put_str_member(bld *x, const char *k, const char *v)
{
    if (v) {
        key(x, k);
        put_str(x, v);
        end_key(x);
    }
}

/* Body member k: the number d, when it is set (not OAB_UNSET). */
/* A token limit: sent when set (at least 1; -1 means unset). */
static void put_limit_member(bld *x, const char *k, long long n)
{
    if (n >= 1) {
        key(x, k);
        put_ll(x, n);
        end_key(x);
    }
}

static void put_double_member(bld *x, const char *k, double d)
{
    if (is_set(d)) {
        key(x, k);
        put_double(x, d);
        end_key(x);
    }
}

/* Starts a line in an empty builder (`reserve` bytes to begin with):
 * the line up to and including the body's '{', then the body's "model"
 * when there is one. OAB_OK or OAB_ENOMEM. */
static oab_status begin_line(bld *x, size_t reserve, const char *custom_id,
                             const char *url, const char *model,
                             oab_error *err)
{
    x->b = (oab__buf)OAB__BUF_INIT;
    x->n = 0;
    x->nomem = 0;
    if (oab__buf_reserve(&x->b, reserve) != OAB_OK)
        return oab__err(err, OAB_ENOMEM, 0, "out of memory");
    PUTS(x, "{\"custom_id\":");
    put_str(x, custom_id);
    PUTS(x, ",\"method\":\"POST\",\"url\":\"");
    putz(x, url);
    PUTS(x, "\",\"body\":");
    x->body_off = x->b.len;
    PUTS(x, "{");
    put_str_member(x, "model", model);
    return OAB_OK;
}

/* ------------------------------------------------------------------ */
/* Argument checks                                                      */
/* ------------------------------------------------------------------ */

static oab_status check_text(const char *s, const char *what, oab_error *err)
{
    if (s && !oab__utf8_valid(s, strlen(s)))
        return oab__err(err, OAB_EINVAL, 0, "%s: not valid UTF-8", what);
    return OAB_OK;
}

/* *model = the given model without "openai:" (NULL stays NULL), checked:
 * not empty, UTF-8. */
static oab_status check_model(const char *given, const char **model,
                              oab_error *err)
{
    *model = oab__model_name(given);
    if (*model && !**model)
        return oab__err(err, OAB_EINVAL, 0, "model: empty");
    return check_text(*model, "model", err);
}

/* Copies caller JSON compact; `want` is an OAB__JT_* type or 0 for any
 * of object/array (`want2`). */
static oab_status put_json(bld *x, const char *json, char want, char want2,
                           const char *what, oab_error *err)
{
    if (x->nomem)
        return OAB_ENOMEM;
    size_t before = x->b.len;
    char type = 0;
    oab_status st = oab__json_append_compact(&x->b, json, strlen(json), &type);
    if (st == OAB_ENOMEM) {
        x->nomem = 1;
        return OAB_ENOMEM;
    }
    if (st != OAB_OK)
        return oab__err(err, OAB_EJSON, 0, "%s: not valid JSON", what);
    if (type != want && type != want2) {
        x->b.len = before;
        return oab__err(err, OAB_EJSON, 0, "%s: must be a JSON %s", what,
                        want == OAB__JT_OBJECT ? "object" : "array");
    }
    return OAB_OK;
}

/* ------------------------------------------------------------------ */
/* Finishing: extra_body merge, the request object                      */
/* ------------------------------------------------------------------ */

/* Merges extra (a JSON object) into the body: members with a name the
 * builder wrote replace the builder's value in place, the others are
 * appended in their order. Rebuilds x->b. */
static oab_status merge_extra(bld *x, const char *extra, const char **model,
                              char **model_own, oab_error *err)
{
    char type = 0;
    if (oab__json_check(extra, strlen(extra), &type) != OAB_OK)
        return oab__err(err, OAB_EJSON, 0, "extra_body_json: not valid JSON");
    if (type != OAB__JT_OBJECT)
        return oab__err(err, OAB_EJSON, 0,
                        "extra_body_json: must be a JSON object");
    cJSON *ej = oab__json_parse(extra, strlen(extra));
    if (!ej)
        return oab__err(err, OAB_ENOMEM, 0, "extra_body_json: out of memory");
    bld y;
    memset(&y, 0, sizeof y);
    put(&y, x->b.data, x->body_off + 1);
    y.body_off = x->body_off;
    int first = 1;
    for (int i = 0; i < x->n; i++) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(ej, x->f[i].key);
        if (!first)
            PUTS(&y, ",");
        first = 0;
        PUTS(&y, "\"");
        putz(&y, x->f[i].key);
        PUTS(&y, "\":");
        if (e) {
            char *v = cJSON_PrintUnformatted(e);
            if (!v)
                y.nomem = 1;
            else
                putz(&y, v);
            free(v);
        } else {
            put(&y, x->b.data + x->f[i].off, x->f[i].len);
        }
    }
    for (const cJSON *e = ej->child; e; e = e->next) {
        if (cJSON_GetObjectItemCaseSensitive(ej, e->string) != e)
            continue; /* a repeated name: the first one counts */
        int mine = 0;
        for (int i = 0; i < x->n && !mine; i++)
            mine = strcmp(x->f[i].key, e->string) == 0;
        if (mine)
            continue;
        if (!first)
            PUTS(&y, ",");
        first = 0;
        put_str(&y, e->string);
        PUTS(&y, ":");
        char *v = cJSON_PrintUnformatted(e);
        if (!v)
            y.nomem = 1;
        else
            putz(&y, v);
        free(v);
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(ej, "model");
    if (m) {
        *model = NULL;
        if (cJSON_IsString(m)) {
            *model_own = oab__strdup(m->valuestring);
            if (!*model_own)
                y.nomem = 1;
            *model = *model_own;
        }
    }
    cJSON_Delete(ej);
    oab__buf_free(&x->b);
    x->b = y.b;
    if (y.nomem)
        return oab__err(err, OAB_ENOMEM, 0, "out of memory");
    return OAB_OK;
}

static oab_status finish(bld *x, oab_request **out, const char *custom_id,
                         const char *url, const char *model,
                         const char *extra, oab_output_mode mode,
                         oab_error *err)
{
    char *model_own = NULL;
    if (extra) {
        oab_status st = merge_extra(x, extra, &model, &model_own, err);
        if (st != OAB_OK) {
            free(model_own);
            return st;
        }
    }
    PUTS(x, "}}");
    if (x->nomem) {
        free(model_own);
        return oab__err(err, OAB_ENOMEM, 0, "out of memory");
    }
    size_t idn = strlen(custom_id) + 1;
    size_t mn = model ? strlen(model) + 1 : 0;
    oab_request *r = malloc(sizeof *r + idn + mn);
    if (!r) {
        free(model_own);
        return oab__err(err, OAB_ENOMEM, 0, "out of memory");
    }
    r->custom_id = (char *)(r + 1);
    memcpy(r->custom_id, custom_id, idn);
    r->model = NULL;
    if (model) {
        r->model = r->custom_id + idn;
        memcpy(r->model, model, mn);
    }
    free(model_own);
    r->url = url;
    r->mode = mode;
    r->body_off = x->body_off;
    size_t len = 0;
    char *line = oab__buf_take(&x->b, &len);
    /* give back the slack of the growing buffer */
    char *shrunk = realloc(line, len + 1);
    r->line = shrunk ? shrunk : line;
    r->len = len;
    *out = r;
    return OAB_OK;
}

/* ------------------------------------------------------------------ */
/* Pieces shared by chat and responses                                  */
/* ------------------------------------------------------------------ */

static const char *schema_tool_description(const oab_schema *s)
{
    const char *d = oab_schema_description(s);
    return d ? d : DEFAULT_TOOL_DESCRIPTION;
}

/* A token limit: -1 (unset) or at least 1. */
static oab_status check_max_tokens(long v, const char *what, oab_error *err)
{
    if (v == -1 || v >= 1)
        return OAB_OK;
    return oab__err(err, OAB_EINVAL, 0,
                    "%s: %ld, must be at least 1 (or -1, unset)", what, v);
}

static oab_status check_common(const char *custom_id, const oab_tool *tools,
                               size_t n_tools, oab_tool_choice choice,
                               const char *choice_fn, int parallel,
                               const oab_schema *schema,
                               oab_output_mode *mode, oab_error *err)
{
    if (!custom_id || !*custom_id)
        return oab__err(err, OAB_EINVAL, 0, "custom_id: must not be empty");
    oab_status st = check_text(custom_id, "custom_id", err);
    if (st != OAB_OK)
        return st;
    if (n_tools && !tools)
        return oab__err(err, OAB_EINVAL, 0, "tools: NULL with n_tools %zu",
                        n_tools);
    for (size_t i = 0; i < n_tools; i++) {
        if (!tools[i].name || !*tools[i].name)
            return oab__err(err, OAB_EINVAL, 0, "tools[%zu].name: missing", i);
        char what[64];
        snprintf(what, sizeof what, "tools[%zu].description", i);
        if ((st = check_text(tools[i].description, what, err)) != OAB_OK)
            return st;
        snprintf(what, sizeof what, "tools[%zu].name", i);
        if ((st = check_text(tools[i].name, what, err)) != OAB_OK)
            return st;
    }
    if ((unsigned)choice > OAB_TOOL_CHOICE_FUNCTION)
        return oab__err(err, OAB_EINVAL, 0, "tool_choice: unknown value %d",
                        (int)choice);
    if (choice == OAB_TOOL_CHOICE_FUNCTION && (!choice_fn || !*choice_fn))
        return oab__err(err, OAB_EINVAL, 0,
                        "tool_choice_function: needed with "
                        "OAB_TOOL_CHOICE_FUNCTION");
    if ((st = check_text(choice_fn, "tool_choice_function", err)) != OAB_OK)
        return st;
    if (parallel < -1 || parallel > 1)
        return oab__err(err, OAB_EINVAL, 0,
                        "parallel_tool_calls: %d, must be -1 (unset), 0 or 1",
                        parallel);
    if ((unsigned)*mode > OAB_OUTPUT_PROMPTED)
        return oab__err(err, OAB_EINVAL, 0, "output_mode: unknown value %d",
                        (int)*mode);
    if (*mode != OAB_OUTPUT_NONE && !schema)
        return oab__err(err, OAB_EINVAL, 0,
                        "output_mode %s needs output_schema",
                        oab_output_mode_str(*mode));
    if (schema && *mode == OAB_OUTPUT_NONE)
        *mode = OAB_OUTPUT_NATIVE;
    if (schema && (!oab_schema_json(schema) || !oab_schema_name(schema)))
        return oab__err(err, OAB_EINVAL, 0, "output_schema: not a schema");
    if (*mode == OAB_OUTPUT_TOOL) {
        for (size_t i = 0; i < n_tools; i++)
            if (strcmp(tools[i].name, oab_schema_name(schema)) == 0)
                return oab__err(err, OAB_EINVAL, 0,
                                "tools[%zu].name: \"%s\" is the name of the "
                                "output tool",
                                i, tools[i].name);
    }
    return OAB_OK;
}

/* The text the prompted mode adds, escaped, without quotes. */
static void put_prompted_text(bld *x, const oab_schema *s)
{
    put_escaped(x, OAB__PROMPTED_PREFIX, sizeof OAB__PROMPTED_PREFIX - 1);
    const char *j = oab_schema_json(s);
    put_escaped(x, j, strlen(j));
    put_escaped(x, OAB__PROMPTED_SUFFIX, sizeof OAB__PROMPTED_SUFFIX - 1);
}

static void put_tool_choice_word(bld *x, oab_tool_choice c)
{
    switch (c) {
    case OAB_TOOL_CHOICE_AUTO: PUTS(x, "\"auto\""); break;
    case OAB_TOOL_CHOICE_NONE: PUTS(x, "\"none\""); break;
    default: PUTS(x, "\"required\""); break;
    }
}

static oab_status check_double(double d, const char *what, oab_error *err)
{
    if (is_set(d) && !isfinite(d))
        return oab__err(err, OAB_EINVAL, 0, "%s: not a finite number", what);
    return OAB_OK;
}

/* ------------------------------------------------------------------ */
/* Chat                                                                 */
/* ------------------------------------------------------------------ */

static oab_status put_message(bld *x, const oab_message *m, size_t i,
                              oab_error *err)
{
    char what[64];
    if (!m->role || !*m->role)
        return oab__err(err, OAB_EINVAL, 0, "messages[%zu].role: missing", i);
    if (m->content && m->content_json)
        return oab__err(err, OAB_EINVAL, 0,
                        "messages[%zu]: set content or content_json, not both",
                        i);
    if (!m->content && !m->content_json && !m->tool_calls_json)
        return oab__err(err, OAB_EINVAL, 0,
                        "messages[%zu].content: missing", i);
    if (strcmp(m->role, "tool") == 0 && !m->tool_call_id)
        return oab__err(err, OAB_EINVAL, 0,
                        "messages[%zu].tool_call_id: needed for role tool", i);
    const char *texts[4] = {m->role, m->content, m->name, m->tool_call_id};
    const char *names[4] = {"role", "content", "name", "tool_call_id"};
    for (int k = 0; k < 4; k++) {
        snprintf(what, sizeof what, "messages[%zu].%s", i, names[k]);
        oab_status st = check_text(texts[k], what, err);
        if (st != OAB_OK)
            return st;
    }
    PUTS(x, "{\"role\":");
    put_str(x, m->role);
    if (m->content) {
        PUTS(x, ",\"content\":");
        put_str(x, m->content);
    } else if (m->content_json) {
        PUTS(x, ",\"content\":");
        snprintf(what, sizeof what, "messages[%zu].content_json", i);
        oab_status st = put_json(x, m->content_json, OAB__JT_ARRAY,
                                 OAB__JT_STRING, what, err);
        if (st != OAB_OK)
            return st;
    }
    if (m->name) {
        PUTS(x, ",\"name\":");
        put_str(x, m->name);
    }
    if (m->tool_call_id) {
        PUTS(x, ",\"tool_call_id\":");
        put_str(x, m->tool_call_id);
    }
    if (m->tool_calls_json) {
        PUTS(x, ",\"tool_calls\":");
        snprintf(what, sizeof what, "messages[%zu].tool_calls_json", i);
        oab_status st =
            put_json(x, m->tool_calls_json, OAB__JT_ARRAY, 0, what, err);
        if (st != OAB_OK)
            return st;
    }
    PUTS(x, "}");
    return OAB_OK;
}

static oab_status put_tool_parameters(bld *x, const oab_tool *t, size_t i,
                                      oab_error *err)
{
    if (!t->parameters_json) {
        PUTS(x, "{\"type\":\"object\",\"properties\":{}}");
        return OAB_OK;
    }
    char what[64];
    snprintf(what, sizeof what, "tools[%zu].parameters_json", i);
    return put_json(x, t->parameters_json, OAB__JT_OBJECT, 0, what, err);
}

/* Opens a function object: chat {"type":"function","function":{"name":
 * responses {"type":"function","name": (closed by close_function). */
static void open_function(bld *x, int chat, const char *name)
{
    if (chat)
        PUTS(x, "{\"type\":\"function\",\"function\":{\"name\":");
    else
        PUTS(x, "{\"type\":\"function\",\"name\":");
    put_str(x, name);
}

static void close_function(bld *x, int chat)
{
    if (chat)
        PUTS(x, "}}");
    else
        PUTS(x, "}");
}

static void put_strict(bld *x, int strict)
{
    if (strict)
        PUTS(x, ",\"strict\":true");
    else
        PUTS(x, ",\"strict\":false");
}

/* "name":..,["description":..,]"schema":..,"strict":.. of a json_schema
 * format (chat response_format.json_schema, responses text.format). */
static void put_schema_format(bld *x, const oab_schema *schema)
{
    PUTS(x, "\"name\":");
    put_str(x, oab_schema_name(schema));
    if (oab_schema_description(schema)) {
        PUTS(x, ",\"description\":");
        put_str(x, oab_schema_description(schema));
    }
    PUTS(x, ",\"schema\":");
    putz(x, oab_schema_json(schema));
    put_strict(x, oab_schema_strict(schema));
}

/* The end of a chat (chat = 1) or responses (chat = 0) body: tools (the
 * caller's, then the output tool in TOOL mode), tool_choice,
 * parallel_tool_calls, and the native format (chat response_format,
 * responses text). Chat tools carry "strict" only when set; responses
 * tools always (the API requires it). */
static oab_status put_tools_and_format(bld *x, int chat, const oab_tool *tools,
                                       size_t n_tools, oab_tool_choice choice,
                                       const char *choice_fn, int parallel,
                                       const oab_schema *schema,
                                       oab_output_mode mode, oab_error *err)
{
    oab_status st;
    if (n_tools || mode == OAB_OUTPUT_TOOL) {
        key(x, "tools");
        PUTS(x, "[");
        for (size_t i = 0; i < n_tools; i++) {
            const oab_tool *t = &tools[i];
            if (i)
                PUTS(x, ",");
            open_function(x, chat, t->name);
            if (t->description) {
                PUTS(x, ",\"description\":");
                put_str(x, t->description);
            }
            PUTS(x, ",\"parameters\":");
            if ((st = put_tool_parameters(x, t, i, err)) != OAB_OK)
                return st;
            if (t->strict || !chat)
                put_strict(x, t->strict);
            close_function(x, chat);
        }
        if (mode == OAB_OUTPUT_TOOL) {
            if (n_tools)
                PUTS(x, ",");
            open_function(x, chat, oab_schema_name(schema));
            PUTS(x, ",\"description\":");
            put_str(x, schema_tool_description(schema));
            PUTS(x, ",\"parameters\":");
            putz(x, oab_schema_json(schema));
            put_strict(x, oab_schema_strict(schema));
            close_function(x, chat);
        }
        PUTS(x, "]");
        end_key(x);
    }
    if (mode == OAB_OUTPUT_TOOL || choice == OAB_TOOL_CHOICE_FUNCTION) {
        key(x, "tool_choice");
        open_function(x, chat, mode == OAB_OUTPUT_TOOL ? oab_schema_name(schema)
                                                       : choice_fn);
        close_function(x, chat);
        end_key(x);
    } else if (choice != OAB_TOOL_CHOICE_UNSET) {
        key(x, "tool_choice");
        put_tool_choice_word(x, choice);
        end_key(x);
    }
    /* the API refuses parallel_tool_calls on a line without tools */
    if (parallel >= 0 && (n_tools || mode == OAB_OUTPUT_TOOL)) {
        key(x, "parallel_tool_calls");
        if (parallel)
            PUTS(x, "true");
        else
            PUTS(x, "false");
        end_key(x);
    }
    if (mode == OAB_OUTPUT_NATIVE) {
        if (chat) {
            key(x, "response_format");
            PUTS(x, "{\"type\":\"json_schema\",\"json_schema\":{");
        } else {
            key(x, "text");
            PUTS(x, "{\"format\":{\"type\":\"json_schema\",");
        }
        put_schema_format(x, schema);
        PUTS(x, "}}");
        end_key(x);
    }
    return x->nomem ? oab__err(err, OAB_ENOMEM, 0, "out of memory") : OAB_OK;
}

static oab_status chat_body(bld *x, const char *prompt,
                            const oab_chat_options *o, oab_output_mode mode,
                            oab_error *err)
{
    oab_status st;
    const oab_schema *schema = o->output_schema;
    key(x, "messages");
    PUTS(x, "[");
    int first = 1;
    if (mode == OAB_OUTPUT_PROMPTED) {
        PUTS(x, "{\"role\":\"system\",\"content\":\"");
        put_prompted_text(x, schema);
        PUTS(x, "\"}");
        first = 0;
    }
    if (o->system_prompt) {
        if (!first)
            PUTS(x, ",");
        first = 0;
        PUTS(x, "{\"role\":\"system\",\"content\":");
        put_str(x, o->system_prompt);
        PUTS(x, "}");
    }
    for (size_t i = 0; i < o->n_messages; i++) {
        if (!first)
            PUTS(x, ",");
        first = 0;
        if ((st = put_message(x, &o->messages[i], i, err)) != OAB_OK)
            return st;
    }
    if (prompt) {
        if (!first)
            PUTS(x, ",");
        first = 0;
        PUTS(x, "{\"role\":\"user\",\"content\":");
        put_str(x, prompt);
        PUTS(x, "}");
    }
    PUTS(x, "]");
    end_key(x);

    put_limit_member(x, "max_tokens", o->max_tokens);
    put_limit_member(x, "max_completion_tokens", o->max_completion_tokens);
    put_double_member(x, "temperature", o->temperature);
    put_double_member(x, "top_p", o->top_p);
    put_double_member(x, "presence_penalty", o->presence_penalty);
    put_double_member(x, "frequency_penalty", o->frequency_penalty);
    if (o->has_seed) {
        key(x, "seed");
        put_ll(x, o->seed);
        end_key(x);
    }
    if (o->n_stop) {
        key(x, "stop");
        PUTS(x, "[");
        for (size_t i = 0; i < o->n_stop; i++) {
            if (i)
                PUTS(x, ",");
            put_str(x, o->stop[i]);
        }
        PUTS(x, "]");
        end_key(x);
    }
    put_str_member(x, "reasoning_effort", o->reasoning_effort);
    put_str_member(x, "user", o->user);

    return put_tools_and_format(x, 1, o->tools, o->n_tools, o->tool_choice,
                                o->tool_choice_function,
                                o->parallel_tool_calls, schema, mode, err);
}

oab_status oab_chat_request_new(oab_request **out, const char *custom_id,
                                const char *prompt,
                                const oab_chat_options *opts, oab_error *err)
{
    oab__err_clear(err);
    if (!out)
        return oab__err(err, OAB_EINVAL, 0, "out: NULL");
    *out = NULL;
    oab_status st = OAB__OPTIONS_CHECK(opts, OAB_CHAT_OPTIONS_VERSION,
                                       "oab_chat_options", err);
    if (st != OAB_OK)
        return st;
    oab_chat_options dflt = OAB_CHAT_OPTIONS_INIT;
    const oab_chat_options *o = opts ? opts : &dflt;
    oab_output_mode mode = o->output_mode;
    if ((st = check_common(custom_id, o->tools, o->n_tools, o->tool_choice,
                           o->tool_choice_function, o->parallel_tool_calls,
                           o->output_schema, &mode, err)) != OAB_OK ||
        (st = check_max_tokens(o->max_tokens, "max_tokens", err)) != OAB_OK ||
        (st = check_max_tokens(o->max_completion_tokens,
                               "max_completion_tokens", err)) != OAB_OK)
        return st;
    if (!prompt && !o->n_messages && !o->system_prompt)
        return oab__err(err, OAB_EINVAL, 0,
                        "prompt: no prompt and no messages");
    if (o->n_messages && !o->messages)
        return oab__err(err, OAB_EINVAL, 0,
                        "messages: NULL with n_messages %zu", o->n_messages);
    if (o->n_stop && !o->stop)
        return oab__err(err, OAB_EINVAL, 0, "stop: NULL with n_stop %zu",
                        o->n_stop);
    for (size_t i = 0; i < o->n_stop; i++) {
        if (!o->stop[i])
            return oab__err(err, OAB_EINVAL, 0, "stop[%zu]: NULL", i);
        if ((st = check_text(o->stop[i], "stop", err)) != OAB_OK)
            return st;
    }
    const char *model;
    if ((st = check_model(o->model, &model, err)) != OAB_OK ||
        (st = check_text(prompt, "prompt", err)) != OAB_OK ||
        (st = check_text(o->system_prompt, "system_prompt", err)) != OAB_OK ||
        (st = check_text(o->reasoning_effort, "reasoning_effort", err)) !=
            OAB_OK ||
        (st = check_text(o->user, "user", err)) != OAB_OK ||
        (st = check_double(o->temperature, "temperature", err)) != OAB_OK ||
        (st = check_double(o->top_p, "top_p", err)) != OAB_OK ||
        (st = check_double(o->presence_penalty, "presence_penalty", err)) !=
            OAB_OK ||
        (st = check_double(o->frequency_penalty, "frequency_penalty", err)) !=
            OAB_OK)
        return st;

    bld x;
    st = begin_line(&x, 768, custom_id, "/v1/chat/completions", model, err);
    if (st == OAB_OK)
        st = chat_body(&x, prompt, o, mode, err);
    if (st == OAB_OK)
        st = finish(&x, out, custom_id, "/v1/chat/completions", model,
                    o->extra_body_json, mode, err);
    oab__buf_free(&x.b);
    return st;
}

/* ------------------------------------------------------------------ */
/* Responses                                                            */
/* ------------------------------------------------------------------ */

static oab_status responses_body(bld *x, const char *input,
                                 const oab_responses_options *o,
                                 oab_output_mode mode, oab_error *err)
{
    oab_status st;
    const oab_schema *schema = o->output_schema;
    key(x, "input");
    if (o->input_json) {
        size_t start = x->b.len;
        st = put_json(x, o->input_json, OAB__JT_ARRAY, 0, "input_json", err);
        if (st != OAB_OK)
            return st;
        if (input) {
            x->b.len--; /* drop the ']' */
            if (x->b.len - start > 1)
                PUTS(x, ",");
            PUTS(x, "{\"role\":\"user\",\"content\":");
            put_str(x, input);
            PUTS(x, "}]");
        }
    } else {
        put_str(x, input);
    }
    end_key(x);
    if (mode == OAB_OUTPUT_PROMPTED || o->instructions) {
        key(x, "instructions");
        PUTS(x, "\"");
        if (mode == OAB_OUTPUT_PROMPTED) {
            put_prompted_text(x, schema);
            if (o->instructions)
                PUTS(x, "\\n\\n");
        }
        if (o->instructions)
            put_escaped(x, o->instructions, strlen(o->instructions));
        PUTS(x, "\"");
        end_key(x);
    }
    put_limit_member(x, "max_output_tokens", o->max_output_tokens);
    put_double_member(x, "temperature", o->temperature);
    put_double_member(x, "top_p", o->top_p);
    if (o->reasoning_effort) {
        key(x, "reasoning");
        PUTS(x, "{\"effort\":");
        put_str(x, o->reasoning_effort);
        PUTS(x, "}");
        end_key(x);
    }
    put_str_member(x, "user", o->user);
    return put_tools_and_format(x, 0, o->tools, o->n_tools, o->tool_choice,
                                o->tool_choice_function,
                                o->parallel_tool_calls, schema, mode, err);
}

oab_status oab_responses_request_new(oab_request **out, const char *custom_id,
                                     const char *input,
                                     const oab_responses_options *opts,
                                     oab_error *err)
{
    oab__err_clear(err);
    if (!out)
        return oab__err(err, OAB_EINVAL, 0, "out: NULL");
    *out = NULL;
    oab_status st = OAB__OPTIONS_CHECK(opts, OAB_RESPONSES_OPTIONS_VERSION,
                                       "oab_responses_options", err);
    if (st != OAB_OK)
        return st;
    oab_responses_options dflt = OAB_RESPONSES_OPTIONS_INIT;
    const oab_responses_options *o = opts ? opts : &dflt;
    oab_output_mode mode = o->output_mode;
    if ((st = check_common(custom_id, o->tools, o->n_tools, o->tool_choice,
                           o->tool_choice_function, o->parallel_tool_calls,
                           o->output_schema, &mode, err)) != OAB_OK ||
        (st = check_max_tokens(o->max_output_tokens, "max_output_tokens",
                               err)) != OAB_OK)
        return st;
    if (!input && !o->input_json)
        return oab__err(err, OAB_EINVAL, 0, "input: no input and no input_json");
    const char *model;
    if ((st = check_model(o->model, &model, err)) != OAB_OK ||
        (st = check_text(input, "input", err)) != OAB_OK ||
        (st = check_text(o->instructions, "instructions", err)) != OAB_OK ||
        (st = check_text(o->reasoning_effort, "reasoning_effort", err)) !=
            OAB_OK ||
        (st = check_text(o->user, "user", err)) != OAB_OK ||
        (st = check_double(o->temperature, "temperature", err)) != OAB_OK ||
        (st = check_double(o->top_p, "top_p", err)) != OAB_OK)
        return st;
    bld x;
    st = begin_line(&x, 256, custom_id, "/v1/responses", model, err);
    if (st == OAB_OK)
        st = responses_body(&x, input, o, mode, err);
    if (st == OAB_OK)
        st = finish(&x, out, custom_id, "/v1/responses", model,
                    o->extra_body_json, mode, err);
    oab__buf_free(&x.b);
    return st;
}

/* ------------------------------------------------------------------ */
/* Embeddings                                                           */
/* ------------------------------------------------------------------ */

oab_status oab_embeddings_request_new(oab_request **out, const char *custom_id,
                                      const char *model_in,
                                      const char *const *inputs,
                                      size_t n_inputs, int dimensions,
                                      oab_error *err)
{
    oab__err_clear(err);
    if (!out)
        return oab__err(err, OAB_EINVAL, 0, "out: NULL");
    *out = NULL;
    oab_output_mode mode = OAB_OUTPUT_NONE;
    oab_status st = check_common(custom_id, NULL, 0, OAB_TOOL_CHOICE_UNSET,
                                 NULL, -1, NULL, &mode, err);
    if (st != OAB_OK)
        return st;
    if (!n_inputs || !inputs)
        return oab__err(err, OAB_EINVAL, 0, "inputs: none given");
    if (dimensions < 0)
        return oab__err(err, OAB_EINVAL, 0, "dimensions: %d is negative",
                        dimensions);
    for (size_t i = 0; i < n_inputs; i++) {
        if (!inputs[i])
            return oab__err(err, OAB_EINVAL, 0, "inputs[%zu]: NULL", i);
        if (!oab__utf8_valid(inputs[i], strlen(inputs[i])))
            return oab__err(err, OAB_EINVAL, 0, "inputs[%zu]: not valid UTF-8",
                            i);
    }
    const char *model;
    if ((st = check_model(model_in, &model, err)) != OAB_OK)
        return st;
    bld x;
    if ((st = begin_line(&x, 256, custom_id, "/v1/embeddings", model, err)) !=
        OAB_OK)
        return st;
    key(&x, "input");
    if (n_inputs == 1) {
        put_str(&x, inputs[0]);
    } else {
        PUTS(&x, "[");
        for (size_t i = 0; i < n_inputs; i++) {
            if (i)
                PUTS(&x, ",");
            put_str(&x, inputs[i]);
        }
        PUTS(&x, "]");
    }
    end_key(&x);
    if (dimensions > 0) {
        key(&x, "dimensions");
        put_ll(&x, dimensions);
        end_key(&x);
    }
    st = finish(&x, out, custom_id, "/v1/embeddings", model, NULL,
                OAB_OUTPUT_NONE, err);
    oab__buf_free(&x.b);
    return st;
}

/* ------------------------------------------------------------------ */
/* Accessors                                                            */
/* ------------------------------------------------------------------ */

void oab_request_free(oab_request *req)
{
    if (!req)
        return;
    free(req->line);
    free(req);
}

const char *oab_request_custom_id(const oab_request *req)
{
    return req ? req->custom_id : NULL;
}

const char *oab_request_url(const oab_request *req)
{
    return req ? req->url : NULL;
}

const char *oab_request_model(const oab_request *req)
{
    return req ? req->model : NULL;
}

oab_output_mode oab_request_output_mode(const oab_request *req)
{
    return req ? req->mode : OAB_OUTPUT_NONE;
}

oab_status oab_request_to_json(const oab_request *req, char **out)
{
    if (!out)
        return OAB_EINVAL;
    *out = NULL;
    if (!req)
        return OAB_EINVAL;
    *out = oab__strndup(req->line, req->len);
    return *out ? OAB_OK : OAB_ENOMEM;
}

const char *oab__request_line(const oab_request *req, size_t *len,
                              size_t *body_off)
{
    if (len)
        *len = req->len;
    if (body_off)
        *body_off = req->body_off;
    return req->line;
}
