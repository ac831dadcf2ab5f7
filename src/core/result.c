/* result.c - decoding one line of a batch output or error file (no I/O):
 * status, error, conveniences (chat, responses, embeddings), usage, and
 * structured output checked against its schema. */

#include "oaibatch.h"
#include "core/extract_json.h"
#include "core/result.h"
#include "core/schema.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/jdoc.h"
#include "util/json.h"
#include "util/str.h"
#include <stdlib.h>
#include <string.h>

void oab_result_free(oab_result *r)
{
    if (!r)
        return;
    free(r->custom_id);
    free(r->line_id);
    free(r->request_id);
    free(r->body_json);
    free(r->error_code);
    free(r->error_message);
    free(r->output);
    free(r->refusal);
    free(r->finish_reason);
    for (size_t i = 0; i < r->n_tool_calls; i++) {
        free(r->tool_calls[i].id);
        free(r->tool_calls[i].name);
        free(r->tool_calls[i].arguments);
    }
    free(r->tool_calls);
    free(r->embeddings);
    free(r->parsed_json);
    free(r->invalid_reason);
    free(r);
}

void oab__rdec_free(oab__rdec *d)
{
    if (!d)
        return;
    oab__jdoc_free(&d->doc);
    oab__jdoc_free(&d->sub);
    oab__buf_free(&d->tmp);
}

/* ---- malformed lines ---- */

/* oab__scan_custom_id, with *oom set when memory ran out. */
static char *scan_custom_id(const char *line, size_t len, int *oom)
{
    static const char key[] = "\"custom_id\"";
    size_t kl = sizeof key - 1;
    for (size_t i = 0; i + kl <= len; i++) {
        if (line[i] != '"' || memcmp(line + i, key, kl) != 0)
            continue;
        size_t j = i + kl;
        while (j < len && (line[j] == ' ' || line[j] == '\t'))
            j++;
        if (j >= len || line[j] != ':')
            continue;
        j++;
        while (j < len && (line[j] == ' ' || line[j] == '\t'))
            j++;
        if (j >= len || line[j] != '"')
            continue;
        size_t start = ++j;
        while (j < len && line[j] != '"') {
            if ((unsigned char)line[j] < 0x20)
                return NULL;
            j += line[j] == '\\' ? 2 : 1;
        }
        if (j >= len)
            return NULL; /* the value is cut off: do not guess */
        oab__buf b = OAB__BUF_INIT;
        oab_status st = oab__json_unescape(line + start, j - start, &b);
        char *id = st == OAB_OK ? oab__buf_take(&b, NULL) : NULL;
        if (st == OAB_ENOMEM || (st == OAB_OK && !id))
            *oom = 1;
        oab__buf_free(&b);
        return id;
    }
    return NULL;
}

char *oab__scan_custom_id(const char *line, size_t len)
{
    int oom = 0;
    return scan_custom_id(line, len, &oom);
}

static oab_status decode_malformed(oab_result *r, const oab__jdoc *doc,
                                   const char *line, size_t len,
                                   long source_line, int not_object)
{
    r->status = OAB_RESULT_MALFORMED;
    int oom = 0;
    r->custom_id = scan_custom_id(line, len, &oom);
    if (oom)
        return OAB_ENOMEM;
    const char *code;
    if (not_object) {
        code = "not_an_object";
        r->error_message =
            oab__sprintf("line %ld: not a JSON object", source_line);
    } else if (doc->err_eof) {
        code = "truncated_line";
        r->error_message = oab__sprintf(
            "line %ld: cut off after %zu bytes (the JSON does not end)",
            source_line, len);
    } else {
        code = "invalid_json";
        r->error_message = oab__sprintf(
            "line %ld: not valid JSON (at byte %zu)", source_line,
            doc->err_pos + 1);
    }
    r->error_code = oab__strdup(code);
    return r->error_code && r->error_message ? OAB_OK : OAB_ENOMEM;
}

/* ---- conveniences ---- */

#define DUP(slot, v)                                                   \
    do {                                                               \
        if (oab__jis((v), OAB__J_STRING)) {                            \
            free(slot);                                                \
            (slot) = oab__jstr_dup(doc, (v), NULL);                    \
            if (!(slot))                                               \
                return OAB_ENOMEM;                                     \
        }                                                              \
    } while (0)

static oab_status add_tool_call(oab__rdec *d, oab_result *r,
                                const oab__jv *id, const oab__jv *name,
                                const oab__jv *args)
{
    const oab__jdoc *doc = &d->doc;
    oab_tool_call *tc = realloc(r->tool_calls,
                                (r->n_tool_calls + 1) * sizeof *tc);
    if (!tc)
        return OAB_ENOMEM;
    r->tool_calls = tc;
    tc = &tc[r->n_tool_calls++];
    memset(tc, 0, sizeof *tc);
    DUP(tc->id, id);
    DUP(tc->name, name);
    DUP(tc->arguments, args);
    if (tc->arguments) {
        oab_status st =
            oab__jdoc_parse(&d->sub, tc->arguments, strlen(tc->arguments));
        if (st == OAB_ENOMEM)
            return st;
        tc->arguments_valid =
            st == OAB_OK && oab__jroot(&d->sub)->type == OAB__J_OBJECT;
    }
    return OAB_OK;
}

/* Chat message content: a string, or an array of parts whose text is
 * joined. */
static oab_status take_content(oab__rdec *d, const oab__jv *content,
                               char **slot)
{
    const oab__jdoc *doc = &d->doc;
    if (oab__jis(content, OAB__J_STRING)) {
        DUP(*slot, content);
        return OAB_OK;
    }
    if (!oab__jis(content, OAB__J_ARRAY))
        return OAB_OK;
    oab__buf b = OAB__BUF_INIT;
    int any = 0;
    for (const oab__jv *p = oab__jfirst(doc, content); p;
         p = oab__jnext(doc, p)) {
        const oab__jv *t = oab__jget(doc, p, "text");
        if (oab__jis(t, OAB__J_STRING)) {
            any = 1;
            if (oab__jstr_append(doc, t, &b) != OAB_OK) {
                oab__buf_free(&b);
                return OAB_ENOMEM;
            }
        }
    }
    if (any) {
        free(*slot);
        *slot = oab__buf_take(&b, NULL);
        if (!*slot)
            return OAB_ENOMEM;
    }
    oab__buf_free(&b);
    return OAB_OK;
}

static oab_status decode_chat(oab__rdec *d, oab_result *r,
                              const oab__jv *body)
{
    const oab__jdoc *doc = &d->doc;
    const oab__jv *c0 = oab__jat(doc, oab__jget(doc, body, "choices"), 0);
    if (!c0)
        return OAB_OK;
    DUP(r->finish_reason, oab__jget(doc, c0, "finish_reason"));
    const oab__jv *msg = oab__jget(doc, c0, "message");
    if (!msg) { /* legacy completions */
        DUP(r->output, oab__jget(doc, c0, "text"));
        return OAB_OK;
    }
    oab_status st = take_content(d, oab__jget(doc, msg, "content"),
                                 &r->output);
    if (st != OAB_OK)
        return st;
    DUP(r->refusal, oab__jget(doc, msg, "refusal"));
    const oab__jv *tcs = oab__jget(doc, msg, "tool_calls");
    for (const oab__jv *t = oab__jfirst(doc, tcs); t; t = oab__jnext(doc, t)) {
        const oab__jv *fn = oab__jget(doc, t, "function");
        st = add_tool_call(d, r, oab__jget(doc, t, "id"),
                           oab__jget(doc, fn, "name"),
                           oab__jget(doc, fn, "arguments"));
        if (st != OAB_OK)
            return st;
    }
    return OAB_OK;
}

static oab_status decode_responses(oab__rdec *d, oab_result *r,
                                   const oab__jv *body)
{
    const oab__jdoc *doc = &d->doc;
    oab__buf text = OAB__BUF_INIT, refusal = OAB__BUF_INIT;
    int any_text = 0, any_refusal = 0;
    oab_status st = OAB_OK;
    const oab__jv *out = oab__jget(doc, body, "output");
    for (const oab__jv *it = oab__jfirst(doc, out); it && st == OAB_OK;
         it = oab__jnext(doc, it)) {
        const oab__jv *type = oab__jget(doc, it, "type");
        if (oab__jstr_eq(doc, type, "message")) {
            const oab__jv *parts = oab__jget(doc, it, "content");
            for (const oab__jv *p = oab__jfirst(doc, parts);
                 p && st == OAB_OK; p = oab__jnext(doc, p)) {
                const oab__jv *pt = oab__jget(doc, p, "type");
                if (oab__jstr_eq(doc, pt, "output_text") &&
                    oab__jis(oab__jget(doc, p, "text"), OAB__J_STRING)) {
                    any_text = 1;
                    st = oab__jstr_append(doc, oab__jget(doc, p, "text"),
                                          &text);
                } else if (oab__jstr_eq(doc, pt, "refusal") &&
                           oab__jis(oab__jget(doc, p, "refusal"),
                                    OAB__J_STRING)) {
                    any_refusal = 1;
                    st = oab__jstr_append(doc, oab__jget(doc, p, "refusal"),
                                          &refusal);
                }
            }
        } else if (oab__jstr_eq(doc, type, "function_call")) {
            const oab__jv *id = oab__jget(doc, it, "call_id");
            if (!oab__jis(id, OAB__J_STRING))
                id = oab__jget(doc, it, "id");
            st = add_tool_call(d, r, id, oab__jget(doc, it, "name"),
                               oab__jget(doc, it, "arguments"));
        }
    }
    if (st == OAB_OK && any_text && !(r->output = oab__buf_take(&text, NULL)))
        st = OAB_ENOMEM;
    if (st == OAB_OK && any_refusal &&
        !(r->refusal = oab__buf_take(&refusal, NULL)))
        st = OAB_ENOMEM;
    oab__buf_free(&text);
    oab__buf_free(&refusal);
    if (st != OAB_OK)
        return st;
    const oab__jv *reason = oab__jpath(doc, body, "incomplete_details.reason");
    if (oab__jis(reason, OAB__J_STRING))
        DUP(r->finish_reason, reason);
    else
        DUP(r->finish_reason, oab__jget(doc, body, "status"));
    return OAB_OK;
}

/* base64 of little-endian float32 values (encoding_format "base64"). */
static oab_status b64_floats(const char *s, size_t len, oab__buf *out)
{
    oab_status st = oab__base64_decode(s, len, out);
    if (st != OAB_OK)
        return st;
    return out->len % 4 ? OAB_EJSON : OAB_OK;
}

static oab_status decode_embeddings(oab__rdec *d, oab_result *r,
                                    const oab__jv *data)
{
    const oab__jdoc *doc = &d->doc;
    size_t n = 0, dims = 0;
    /* first pass: count and check that every vector has the same size */
    for (const oab__jv *e = oab__jfirst(doc, data); e; e = oab__jnext(doc, e)) {
        const oab__jv *v = oab__jget(doc, e, "embedding");
        size_t k;
        if (oab__jis(v, OAB__J_ARRAY)) {
            k = v->count;
        } else if (oab__jis(v, OAB__J_STRING)) {
            k = (size_t)v->len * 3 / 4 / 4; /* upper bound; checked below */
            oab__buf_clear(&d->tmp);
            oab_status st = b64_floats(doc->text + v->off, v->len, &d->tmp);
            if (st == OAB_ENOMEM)
                return st;
            if (st != OAB_OK)
                return OAB_OK;
            k = d->tmp.len / 4;
        } else {
            return OAB_OK;
        }
        if (n && k != dims)
            return OAB_OK; /* ragged: leave the vectors out */
        dims = k;
        n++;
    }
    if (!n || !dims)
        return OAB_OK;
    double *vec = malloc(n * dims * sizeof *vec);
    if (!vec)
        return OAB_ENOMEM;
    size_t at = 0;
    for (const oab__jv *e = oab__jfirst(doc, data); e; e = oab__jnext(doc, e)) {
        const oab__jv *v = oab__jget(doc, e, "embedding");
        if (v->type == OAB__J_ARRAY) {
            for (const oab__jv *x = oab__jfirst(doc, v); x;
                 x = oab__jnext(doc, x))
                vec[at++] = oab__jnum(doc, x, 0.0);
        } else {
            oab__buf_clear(&d->tmp);
            if (b64_floats(doc->text + v->off, v->len, &d->tmp) != OAB_OK) {
                free(vec);
                return OAB_ENOMEM;
            }
            for (size_t i = 0; i < dims; i++) {
                const unsigned char *p =
                    (const unsigned char *)d->tmp.data + 4 * i;
                uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
                             (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
                float f;
                memcpy(&f, &u, sizeof f);
                vec[at++] = f;
            }
        }
    }
    r->embeddings = vec;
    r->n_embeddings = n;
    r->dimensions = dims;
    return OAB_OK;
}

int oab__usage_decode(const oab__jdoc *doc, const oab__jv *u, oab_usage *out)
{
    memset(out, 0, sizeof *out);
    if (!oab__jis(u, OAB__J_OBJECT))
        return 0;
    if (oab__jget(doc, u, "input_tokens") ||
        oab__jget(doc, u, "output_tokens")) { /* responses */
        out->prompt_tokens = oab__jll(doc, oab__jget(doc, u, "input_tokens"), 0);
        out->completion_tokens =
            oab__jll(doc, oab__jget(doc, u, "output_tokens"), 0);
        out->cached_tokens = oab__jll(
            doc, oab__jpath(doc, u, "input_tokens_details.cached_tokens"), 0);
        out->reasoning_tokens = oab__jll(
            doc, oab__jpath(doc, u, "output_tokens_details.reasoning_tokens"),
            0);
    } else {
        out->prompt_tokens =
            oab__jll(doc, oab__jget(doc, u, "prompt_tokens"), 0);
        out->completion_tokens =
            oab__jll(doc, oab__jget(doc, u, "completion_tokens"), 0);
        out->cached_tokens = oab__jll(
            doc, oab__jpath(doc, u, "prompt_tokens_details.cached_tokens"), 0);
        out->reasoning_tokens = oab__jll(
            doc,
            oab__jpath(doc, u, "completion_tokens_details.reasoning_tokens"),
            0);
    }
    out->total_tokens = oab__jll(
        doc, oab__jget(doc, u, "total_tokens"),
        out->prompt_tokens + out->completion_tokens);
    return 1;
}

static void decode_usage(const oab__jdoc *doc, oab_result *r,
                         const oab__jv *u)
{
    if (oab__usage_decode(doc, u, &r->usage))
        r->has_usage = 1;
}

static oab_status decode_body(oab__rdec *d, oab_result *r,
                              const oab__jv *body)
{
    const oab__jdoc *doc = &d->doc;
    if (!oab__jis(body, OAB__J_OBJECT))
        return OAB_OK;
    decode_usage(doc, r, oab__jget(doc, body, "usage"));
    const oab__jv *object = oab__jget(doc, body, "object");
    if (oab__jget(doc, body, "choices"))
        return decode_chat(d, r, body);
    if (oab__jstr_eq(doc, object, "response") ||
        oab__jis(oab__jget(doc, body, "output"), OAB__J_ARRAY))
        return decode_responses(d, r, body);
    const oab__jv *data = oab__jget(doc, body, "data");
    if (oab__jis(data, OAB__J_ARRAY) &&
        oab__jget(doc, oab__jfirst(doc, data), "embedding"))
        return decode_embeddings(d, r, data);
    return OAB_OK;
}

/* Copies a string value into *slot; non-zero when out of memory. */
static int take_str(const oab__jdoc *doc, char **slot, const oab__jv *v)
{
    if (!oab__jis(v, OAB__J_STRING))
        return 0;
    free(*slot);
    *slot = oab__jstr_dup(doc, v, NULL);
    return *slot == NULL;
}

/* code and message of an error object (code, else type). */
static oab_status take_error(const oab__jdoc *doc, oab_result *r,
                             const oab__jv *e)
{
    if (oab__jis(e, OAB__J_STRING)) {
        DUP(r->error_message, e);
        return OAB_OK;
    }
    if (!oab__jis(e, OAB__J_OBJECT))
        return OAB_OK;
    const oab__jv *code = oab__jget(doc, e, "code");
    if (!oab__jis(code, OAB__J_STRING))
        code = oab__jget(doc, e, "type");
    if (oab__jis(code, OAB__J_STRING)) {
        DUP(r->error_code, code);
    } else if (oab__jis(code, OAB__J_NUMBER)) {
        free(r->error_code);
        r->error_code = oab__jraw_dup(doc, code);
        if (!r->error_code)
            return OAB_ENOMEM;
    }
    DUP(r->error_message, oab__jget(doc, e, "message"));
    return OAB_OK;
}

oab_status oab__result_decode(oab__rdec *d, oab_result **out,
                              const char *line, size_t len, long source_line)
{
    *out = NULL;
    oab_result *r = calloc(1, sizeof *r);
    if (!r)
        return OAB_ENOMEM;
    r->source_line = source_line;
    oab__jdoc *doc = &d->doc;
    oab_status st = oab__jdoc_parse(doc, line, len);
    if (st == OAB_ENOMEM) {
        free(r);
        return st;
    }
    if (st != OAB_OK || oab__jroot(doc)->type != OAB__J_OBJECT) {
        st = decode_malformed(r, doc, line, len, source_line, st == OAB_OK);
        if (st != OAB_OK) {
            oab_result_free(r);
            return st;
        }
        *out = r;
        return OAB_OK;
    }
    const oab__jv *root = oab__jroot(doc);
    st = OAB_ENOMEM;
    if (take_str(doc, &r->custom_id, oab__jget(doc, root, "custom_id")) ||
        take_str(doc, &r->line_id, oab__jget(doc, root, "id")))
        goto fail;
    const oab__jv *resp = oab__jget(doc, root, "response");
    const oab__jv *err = oab__jget(doc, root, "error");
    const oab__jv *body = NULL;
    if (oab__jis(resp, OAB__J_OBJECT)) {
        r->status_code =
            (int)oab__jll(doc, oab__jget(doc, resp, "status_code"), 0);
        if (take_str(doc, &r->request_id, oab__jget(doc, resp, "request_id")))
            goto fail;
        body = oab__jget(doc, resp, "body");
        if (body && body->type != OAB__J_NULL &&
            !(r->body_json = oab__jraw_dup(doc, body)))
            goto fail;
    }
    if (err && err->type != OAB__J_NULL) {
        if (take_error(doc, r, err) != OAB_OK)
            goto fail;
        if (r->error_code && strcmp(r->error_code, "batch_expired") == 0)
            r->status = OAB_RESULT_EXPIRED;
        else if (r->error_code && strcmp(r->error_code, "batch_cancelled") == 0)
            r->status = OAB_RESULT_CANCELLED;
        else
            r->status = OAB_RESULT_ERROR;
    } else if (oab__jis(resp, OAB__J_OBJECT)) {
        const oab__jv *berr = oab__jget(doc, body, "error");
        if (r->status_code >= 400 ||
            (r->status_code == 0 && berr && berr->type != OAB__J_NULL)) {
            r->status = OAB_RESULT_HTTP_ERROR;
            if (take_error(doc, r, berr) != OAB_OK)
                goto fail;
        } else {
            r->status = OAB_RESULT_SUCCEEDED;
            if (decode_body(d, r, body) != OAB_OK)
                goto fail;
        }
    } else {
        r->status = OAB_RESULT_ERROR;
        if (!(r->error_code = oab__strdup("no_response")) ||
            !(r->error_message = oab__strdup(
                  "the line has neither a response nor an error")))
            goto fail;
    }
    *out = r;
    return OAB_OK;
fail:
    oab_result_free(r);
    return st;
}

/* ---- structured output ---- */

static oab_status set_invalid(oab_result *r, char *reason)
{
    if (!reason)
        return OAB_ENOMEM;
    free(r->invalid_reason);
    r->invalid_reason = reason;
    r->status = OAB_RESULT_INVALID_OUTPUT;
    return OAB_OK;
}

oab_status oab__result_apply_expect(oab_result *r, const oab_expect *expect)
{
    if (!expect || !expect->schema)
        return OAB_OK;
    oab_output_mode mode =
        expect->mode == OAB_OUTPUT_NONE ? OAB_OUTPUT_NATIVE : expect->mode;
    r->output_mode = mode;
    if (r->status != OAB_RESULT_SUCCEEDED)
        return OAB_OK;
    const char *text = NULL;
    const char *what = "the output";
    if (mode == OAB_OUTPUT_TOOL) {
        const char *want = oab_schema_name(expect->schema);
        for (size_t i = 0; i < r->n_tool_calls && !text; i++)
            if (r->tool_calls[i].name && want &&
                strcmp(r->tool_calls[i].name, want) == 0)
                text = r->tool_calls[i].arguments;
        what = "the tool call's arguments";
        if (!text) {
            if (r->refusal)
                return set_invalid(r, oab__sprintf("the model refused: %s",
                                                   r->refusal));
            return set_invalid(
                r, oab__sprintf("no call of the tool \"%s\" in the answer",
                                want ? want : ""));
        }
    } else {
        text = r->output;
        if (r->refusal)
            return set_invalid(
                r, oab__sprintf("the model refused: %s", r->refusal));
        if (!text)
            return set_invalid(r, oab__strdup("no output text in the answer"));
    }
    size_t len = strlen(text);
    cJSON *inst = NULL;
    oab_status pst = mode == OAB_OUTPUT_PROMPTED
                         ? oab__extract_json_st(&inst, text, len)
                         : oab__json_parse_st(&inst, text, len);
    if (pst == OAB_ENOMEM)
        return pst;
    if (!inst) {
        int cut = r->finish_reason &&
                  (strcmp(r->finish_reason, "length") == 0 ||
                   strcmp(r->finish_reason, "max_output_tokens") == 0);
        return set_invalid(
            r, oab__sprintf("%s %s not valid JSON%s", what,
                            mode == OAB_OUTPUT_PROMPTED ? "holds" : "is",
                            cut ? " (cut off: finish_reason length)" : ""));
    }
    free(r->parsed_json);
    r->parsed_json = oab__json_print(inst);
    oab_error e;
    oab__err_clear(&e);
    oab_status vs = oab__schema_validate_json(expect->schema, inst, &e);
    cJSON_Delete(inst);
    if (!r->parsed_json)
        return OAB_ENOMEM;
    if (vs == OAB_ENOMEM)
        return vs;
    if (vs != OAB_OK)
        return set_invalid(r, oab__strdup(e.message[0] ? e.message
                                                       : oab_strerror(vs)));
    return OAB_OK;
}

oab_status oab_result_parse(oab_result **out, const char *line, size_t len,
                            long source_line, const oab_expect *expect)
{
    if (!out)
        return OAB_EINVAL;
    *out = NULL;
    if (!line && len)
        return OAB_EINVAL;
    oab__rdec d = OAB__RDEC_INIT;
    oab_status st = oab__result_decode(&d, out, line ? line : "", len,
                                       source_line);
    oab__rdec_free(&d);
    if (st == OAB_OK && (st = oab__result_apply_expect(*out, expect)) !=
                            OAB_OK) {
        oab_result_free(*out);
        *out = NULL;
    }
    return st;
}
