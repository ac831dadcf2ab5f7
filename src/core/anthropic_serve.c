/* anthropic_serve.c - for a server that offers Anthropic's API in front
 * of OpenAI-compatible upstreams: Messages params -> chat completions
 * body, chat.completion -> Message (no I/O; docs/providers.md). */

#include "oaibatch.h"
#include "core/anthropic.h"
#include "core/anthropic_int.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/json.h"
#include "util/str.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Serving Anthropic's API from OpenAI-compatible upstreams: Messages   */
/* params -> chat completions body, chat.completion -> Message          */
/* ------------------------------------------------------------------ */

/* Text of a system value: a string or an array of text blocks. */
static oab_status system_of(oab__atx *t, oab__buf *b, const cJSON *sys)
{
    if (cJSON_IsString(sys))
        return oab__buf_puts(b, sys->valuestring) ? oab__ax_nomem(t) : OAB_OK;
    if (!cJSON_IsArray(sys))
        return oab__ax_refuse(t, "params.system", "must be a string or an array of text blocks");
    return oab__ax_join_texts(t, b, sys, "\n\n", "params.system",
                              "only text blocks are translated");
}

/* The text of a tool_result's content (a string or text blocks). */
static oab_status tool_result_text(oab__atx *t, oab__buf *b, const cJSON *content,
                                   const char *field)
{
    if (!content || cJSON_IsNull(content) || cJSON_IsString(content))
        return oab__buf_puts(b, cJSON_IsString(content) ? content->valuestring : "")
                   ? oab__ax_nomem(t)
                   : OAB_OK;
    return oab__ax_join_texts(t, b, content, "\n", field,
                      "a tool_result carries text blocks only here");
}

/* An image block -> an image_url part. */
static cJSON *image_part(oab__atx *t, const cJSON *blk, const char *field, oab_status *st)
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
        *st = oab__ax_refuse(t, field, "an image source must be base64 or url");
        return NULL;
    }
    cJSON *p = url ? cJSON_CreateObject() : NULL;
    cJSON *iu = p && oab__ax_add(t, p, "type", cJSON_CreateString("image_url"))
                    ? oab__ax_add(t, p, "image_url", cJSON_CreateObject())
                    : NULL;
    if (!iu || !oab__ax_add(t, iu, "url", cJSON_CreateString(url))) {
        cJSON_Delete(p);
        p = NULL;
        *st = oab__ax_nomem(t);
    }
    free(url);
    return p;
}

/* One user turn: tool_result blocks become tool messages (first, as the
 * OpenAI API wants them right after the assistant's calls), the other
 * blocks one user message. */
static oab_status user_turn(oab__atx *t, cJSON *out, const cJSON *content, const char *where)
{
    char field[128];
    if (cJSON_IsString(content)) {
        cJSON *m = oab__ax_push(t, out, cJSON_CreateObject());
        if (!m || !oab__ax_add(t, m, "role", cJSON_CreateString("user")) ||
            !oab__ax_add(t, m, "content", cJSON_CreateString(content->valuestring)))
            return oab__ax_nomem(t);
        return OAB_OK;
    }
    if (!cJSON_IsArray(content)) {
        snprintf(field, sizeof field, "%s.content", where);
        return oab__ax_refuse(t, field, "must be a string or an array of blocks");
    }
    cJSON *parts = cJSON_CreateArray();
    if (!parts)
        return oab__ax_nomem(t);
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
                st = oab__ax_refuse(t, field, "a tool_result needs tool_use_id");
            } else if ((st = tool_result_text(
                            t, &text, cJSON_GetObjectItemCaseSensitive(blk, "content"),
                            field)) == OAB_OK) {
                cJSON *m = oab__ax_push(t, out, cJSON_CreateObject());
                if (!m || !oab__ax_add(t, m, "role", cJSON_CreateString("tool")) ||
                    !oab__ax_add(t, m, "tool_call_id", cJSON_CreateString(id)) ||
                    !oab__ax_add(t, m, "content", cJSON_CreateString(text.data ? text.data : "")))
                    st = oab__ax_nomem(t);
            }
            oab__buf_free(&text);
        } else if (type && strcmp(type, "text") == 0 && oab__json_str(blk, "text")) {
            cJSON *p = oab__ax_push(t, parts, cJSON_CreateObject());
            if (!p || !oab__ax_add(t, p, "type", cJSON_CreateString("text")) ||
                !oab__ax_add(t, p, "text", cJSON_CreateString(oab__json_str(blk, "text"))))
                st = oab__ax_nomem(t);
        } else if (type && strcmp(type, "image") == 0) {
            cJSON *p = image_part(t, blk, field, &st);
            if (p && !oab__ax_push(t, parts, p))
                st = oab__ax_nomem(t);
        } else {
            st = oab__ax_refuse(t, field, "a user block of type \"%s\" is not translated",
                        type ? type : "?");
        }
        if (st != OAB_OK)
            break;
    }
    if (st == OAB_OK && parts->child) {
        cJSON *m = oab__ax_push(t, out, cJSON_CreateObject());
        if (!m || !oab__ax_add(t, m, "role", cJSON_CreateString("user")) ||
            !oab__ax_add(t, m, "content", parts))
            st = oab__ax_nomem(t);
        parts = NULL;
    }
    cJSON_Delete(parts);
    return st;
}

/* One assistant turn: text blocks joined into content, tool_use blocks
 * into tool_calls (thinking dropped). */
static oab_status assistant_turn(oab__atx *t, cJSON *out, const cJSON *content,
                                 const char *where)
{
    char field[128];
    oab__buf text = OAB__BUF_INIT;
    cJSON *calls = cJSON_CreateArray();
    oab_status st = calls ? OAB_OK : oab__ax_nomem(t);
    if (st == OAB_OK && cJSON_IsString(content)) {
        if (oab__buf_puts(&text, content->valuestring))
            st = oab__ax_nomem(t);
    } else if (st == OAB_OK && !cJSON_IsArray(content)) {
        snprintf(field, sizeof field, "%s.content", where);
        st = oab__ax_refuse(t, field, "must be a string or an array of blocks");
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
                    st = oab__ax_nomem(t);
            } else if (type && strcmp(type, "tool_use") == 0) {
                const char *id = oab__json_str(blk, "id");
                const char *name = oab__json_str(blk, "name");
                const cJSON *input = cJSON_GetObjectItemCaseSensitive(blk, "input");
                char *args = cJSON_IsObject(input) ? oab__json_print(input) : NULL;
                cJSON *c = id && name && args ? oab__ax_push(t, calls, cJSON_CreateObject()) : NULL;
                cJSON *fn = c && oab__ax_add(t, c, "id", cJSON_CreateString(id)) &&
                                    oab__ax_add(t, c, "type", cJSON_CreateString("function"))
                                ? oab__ax_add(t, c, "function", cJSON_CreateObject())
                                : NULL;
                if (!id || !name || !cJSON_IsObject(input))
                    st = oab__ax_refuse(t, field, "a tool_use needs id, name and an object input");
                else if (!fn || !oab__ax_add(t, fn, "name", cJSON_CreateString(name)) ||
                         !oab__ax_add(t, fn, "arguments", cJSON_CreateString(args)))
                    st = oab__ax_nomem(t);
                free(args);
            } else if (!type || (strcmp(type, "thinking") != 0 &&
                                 strcmp(type, "redacted_thinking") != 0)) {
                st = oab__ax_refuse(t, field, "an assistant block of type \"%s\" is not "
                                      "translated", type ? type : "?");
            }
            if (st != OAB_OK)
                break;
        }
    cJSON *m = st == OAB_OK ? oab__ax_push(t, out, cJSON_CreateObject()) : NULL;
    if (st == OAB_OK &&
        (!m || !oab__ax_add(t, m, "role", cJSON_CreateString("assistant")) ||
         !oab__ax_add(t, m, "content",
                      text.len ? cJSON_CreateString(text.data) : cJSON_CreateNull())))
        st = oab__ax_nomem(t);
    if (st == OAB_OK && calls->child) {
        if (!oab__ax_add(t, m, "tool_calls", calls))
            st = oab__ax_nomem(t);
        calls = NULL;
    }
    cJSON_Delete(calls);
    oab__buf_free(&text);
    return st;
}

/* tools and tool_choice of the params -> the body's. */
static oab_status serve_tools(oab__atx *t, const cJSON *params, cJSON *body)
{
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(params, "tools");
    if (tools && !cJSON_IsNull(tools)) {
        if (!cJSON_IsArray(tools))
            return oab__ax_refuse(t, "params.tools", "must be an array");
        cJSON *out = oab__ax_add(t, body, "tools", cJSON_CreateArray());
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
                return oab__ax_refuse(t, field, "only client tools {name, input_schema} are "
                                        "translated");
            cJSON *o = out ? oab__ax_push(t, out, cJSON_CreateObject()) : NULL;
            cJSON *fn = o && oab__ax_add(t, o, "type", cJSON_CreateString("function"))
                            ? oab__ax_add(t, o, "function", cJSON_CreateObject())
                            : NULL;
            const char *desc = oab__json_str(tl, "description");
            if (!fn || !oab__ax_add(t, fn, "name", cJSON_CreateString(name)) ||
                (desc && !oab__ax_add(t, fn, "description", cJSON_CreateString(desc))) ||
                !oab__ax_add(t, fn, "parameters", oab__ax_dup(schema)))
                return oab__ax_nomem(t);
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
        cJSON *fn = choice && oab__ax_add(t, choice, "type", cJSON_CreateString("function"))
                        ? oab__ax_add(t, choice, "function", cJSON_CreateObject())
                        : NULL;
        if (!fn || !oab__ax_add(t, fn, "name", cJSON_CreateString(name))) {
            cJSON_Delete(choice);
            return oab__ax_nomem(t);
        }
    } else {
        return oab__ax_refuse(t, "params.tool_choice", "type must be auto, any, tool (with a "
                                               "name) or none");
    }
    if (!oab__ax_add(t, body, "tool_choice", choice))
        return oab__ax_nomem(t);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tc, "disable_parallel_tool_use")) &&
        strcmp(type, "none") != 0 &&
        !oab__ax_add(t, body, "parallel_tool_calls", cJSON_CreateFalse()))
        return oab__ax_nomem(t);
    return OAB_OK;
}

static const char *const serve_keys[] = {
    "model",       "max_tokens", "messages",       "system",   "tools",
    "tool_choice", "temperature", "top_p",         "top_k",    "stop_sequences",
    "metadata",    "service_tier",
};

static oab_status serve_body(oab__atx *t, const cJSON *params, cJSON *body)
{
    if (!cJSON_IsObject(params))
        return oab__ax_refuse(t, "params", "not an object");
    const cJSON *f;
    cJSON_ArrayForEach(f, params)
    {
        size_t i = 0;
        while (i < sizeof serve_keys / sizeof *serve_keys && strcmp(serve_keys[i], f->string))
            i++;
        if (i == sizeof serve_keys / sizeof *serve_keys) {
            char field[96];
            snprintf(field, sizeof field, "params.%.80s", f->string);
            return oab__ax_refuse(t, field, "not translated to the OpenAI chat API");
        }
    }
    const char *model = oab__json_str(params, "model");
    long max = oab__ax_positive_int(cJSON_GetObjectItemCaseSensitive(params, "max_tokens"));
    if (!model || !*model)
        return oab__ax_refuse(t, "params.model", "missing");
    if (max <= 0)
        return oab__ax_refuse(t, "params.max_tokens", "required, an integer >= 1");
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(params, "messages");
    if (!cJSON_IsArray(msgs) || !msgs->child)
        return oab__ax_refuse(t, "params.messages", "must be a non-empty array");
    cJSON *out = cJSON_CreateArray();
    if (!oab__ax_add(t, body, "model", cJSON_CreateString(model)) ||
        !oab__ax_add(t, body, "messages", out))
        return oab__ax_nomem(t);
    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(params, "system");
    oab_status st = OAB_OK;
    if (sys && !cJSON_IsNull(sys)) {
        oab__buf b = OAB__BUF_INIT;
        st = system_of(t, &b, sys);
        cJSON *m = st == OAB_OK && b.len ? oab__ax_push(t, out, cJSON_CreateObject()) : NULL;
        if (m && (!oab__ax_add(t, m, "role", cJSON_CreateString("system")) ||
                  !oab__ax_add(t, m, "content", cJSON_CreateString(b.data))))
            st = oab__ax_nomem(t);
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
            st = oab__ax_refuse(t, field, "must be user or assistant");
        }
        if (st != OAB_OK)
            return st;
    }
    if (!oab__ax_add(t, body, "max_tokens", cJSON_CreateNumber((double)max)))
        return oab__ax_nomem(t);
    /* passed on as they are; a value of the wrong type is refused rather
     * than dropped, so that a line never runs with settings it did not ask
     * for (null counts as absent) */
    static const char *const same[] = {"temperature", "top_p", "top_k"};
    for (size_t k = 0; k < 3; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, same[k]);
        char field[32];
        snprintf(field, sizeof field, "params.%s", same[k]);
        if (v && !cJSON_IsNull(v) && !cJSON_IsNumber(v))
            return oab__ax_refuse(t, field, "must be a number");
        /* range first: only then is the cast to an integer defined */
        if (k == 2 && cJSON_IsNumber(v) &&
            (!(v->valuedouble >= 0 && v->valuedouble <= 1e9) ||
             v->valuedouble != (double)(long)v->valuedouble))
            return oab__ax_refuse(t, field,
                                  "must be an integer from 0 to 1000000000");
        if (cJSON_IsNumber(v) && !oab__ax_add(t, body, same[k], oab__ax_dup(v)))
            return oab__ax_nomem(t);
    }
    const cJSON *ss = cJSON_GetObjectItemCaseSensitive(params, "stop_sequences");
    if (ss && !cJSON_IsNull(ss)) {
        int ok = cJSON_IsArray(ss);
        for (const cJSON *e = ok ? ss->child : NULL; e; e = e->next)
            ok &= cJSON_IsString(e) != 0;
        if (!ok)
            return oab__ax_refuse(t, "params.stop_sequences",
                                  "must be an array of strings");
    }
    if (cJSON_IsArray(ss) && ss->child && !oab__ax_add(t, body, "stop", oab__ax_dup(ss)))
        return oab__ax_nomem(t);
    if ((st = serve_tools(t, params, body)) != OAB_OK)
        return st;
    const char *user = oab__json_str(cJSON_GetObjectItemCaseSensitive(params, "metadata"),
                                     "user_id");
    if (user && !oab__ax_add(t, body, "user", cJSON_CreateString(user)))
        return oab__ax_nomem(t);
    return t->oom ? oab__ax_nomem(t) : OAB_OK;
}

oab_status oab_anthropic_params_to_openai(char **out, const char *params, size_t len,
                                          oab_error *err)
{
    if (out)
        *out = NULL;
    oab__atx t = {0, err, 0};
    cJSON *root = NULL;
    oab_status st = oab__ax_parse_text(&root, out != NULL, params, len, 0, "params", err);
    if (st == OAB_OK)
        st = oab__ax_refuse_nul(&t, params, len, "params");
    if (st != OAB_OK) {
        cJSON_Delete(root);
        return st;
    }
    cJSON *body = cJSON_CreateObject();
    st = body ? serve_body(&t, root, body) : oab__ax_nomem(&t);
    char *text = st == OAB_OK ? oab__json_print(body) : NULL;
    if (st == OAB_OK && !text)
        st = oab__ax_nomem(&t);
    cJSON_Delete(body);
    cJSON_Delete(root);
    if (st == OAB_OK)
        *out = text;
    return st;
}

/* finish_reason -> stop_reason (the inverse of anthropic_result.c's
 * finish_reason()). */
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
    oab__atx t = {0, err, 0};
    cJSON *root = NULL;
    oab_status st = oab__ax_parse_text(&root, out != NULL, completion, len, 0, "chat.completion",
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
        return oab__ax_nomem(&t);
    }
    oab__ax_add(&t, o, "id", cJSON_CreateString(mid));
    free(mid);
    oab__ax_add(&t, o, "type", cJSON_CreateString("message"));
    oab__ax_add(&t, o, "role", cJSON_CreateString("assistant"));
    oab__ax_add(&t, o, "model", cJSON_CreateString(model ? model : ""));
    cJSON *content = oab__ax_add(&t, o, "content", cJSON_CreateArray());
    const char *text = oab__json_str(msg, "content");
    if (!text)
        text = oab__json_str(msg, "refusal");
    if (content && text && *text)
        oab__ax_push(&t, content, oab__ax_text_block(text));
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
        cJSON *b = content ? oab__ax_push(&t, content, cJSON_CreateObject()) : NULL;
        if (!b) {
            cJSON_Delete(input);
            continue;
        }
        const char *cid = oab__json_str(call, "id");
        const char *name = oab__json_str(fn, "name");
        oab__ax_add(&t, b, "type", cJSON_CreateString("tool_use"));
        oab__ax_add(&t, b, "id", cJSON_CreateString(cid ? cid : ""));
        oab__ax_add(&t, b, "name", cJSON_CreateString(name ? name : ""));
        oab__ax_add(&t, b, "input", input);
    }
    oab__ax_add(&t, o, "stop_reason",
        cJSON_CreateString(stop_reason_of(oab__json_str(choice, "finish_reason"))));
    oab__ax_add(&t, o, "stop_sequence", cJSON_CreateNull());
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "usage");
    long long cached = oab__ax_usage_n(cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens_details"),
                               "cached_tokens");
    long long prompt = oab__ax_usage_n(u, "prompt_tokens");
    cJSON *au = oab__ax_add(&t, o, "usage", cJSON_CreateObject());
    if (au) {
        oab__ax_add(&t, au, "input_tokens",
            cJSON_CreateNumber((double)(prompt > cached ? prompt - cached : 0)));
        oab__ax_add(&t, au, "cache_creation_input_tokens", cJSON_CreateNumber(0));
        oab__ax_add(&t, au, "cache_read_input_tokens", cJSON_CreateNumber((double)cached));
        oab__ax_add(&t, au, "output_tokens",
                    cJSON_CreateNumber((double)oab__ax_usage_n(u, "completion_tokens")));
    }
    char *s = t.oom ? NULL : oab__json_print(o);
    cJSON_Delete(o);
    cJSON_Delete(root);
    if (!s)
        return oab__ax_nomem(&t);
    *out = s;
    return OAB_OK;
}
