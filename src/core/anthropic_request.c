/* anthropic_request.c - an OpenAI batch input line (chat completions
 * body) -> an Anthropic Message Batch request {custom_id, params},
 * refusing, with the line and the field, what cannot be carried (no I/O;
 * the table is in docs/providers.md). */

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
/* Requests: OpenAI input line -> Message Batch request                 */
/* ------------------------------------------------------------------ */

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
    {"function_call", F_REFUSE,
     "the deprecated function_call field is not translated: use tool_choice"},
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

static oab_status check_fields(oab__atx *t, const cJSON *body)
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
            return oab__ax_refuse(t, field, "not a chat completions field this "
                                    "translation knows; Anthropic has no "
                                    "equivalent");
        if (d->how == F_REFUSE || (d->how == F_NEUTRAL && !neutral(d->name, f)))
            return oab__ax_refuse(t, field, "%s", d->why);
    }
    return OAB_OK;
}

/* Text of a system/developer message: a string or an array of text parts. */
static oab_status system_text(oab__atx *t, oab__buf *sys, const cJSON *content,
                              const char *where)
{
    char field[128];
    snprintf(field, sizeof field, "%s.content", where);
    if (cJSON_IsString(content)) {
        if (sys->len && oab__buf_puts(sys, "\n\n"))
            return oab__ax_nomem(t);
        return oab__buf_puts(sys, content->valuestring) ? oab__ax_nomem(t) : OAB_OK;
    }
    if (!cJSON_IsArray(content))
        return oab__ax_refuse(t, field, "must be a string or an array of text parts");
    return oab__ax_join_texts(t, sys, content, "\n\n", field,
                      "a system message carries text parts only");
}

/* An image_url part -> an image block: data: URLs as base64, http(s) as url. */
static oab_status image_block(oab__atx *t, cJSON *blocks, const cJSON *part,
                              const char *field)
{
    const cJSON *iu = cJSON_GetObjectItemCaseSensitive(part, "image_url");
    const char *url = cJSON_IsString(iu) ? iu->valuestring : oab__json_str(iu, "url");
    if (!url)
        return oab__ax_refuse(t, field, "image_url needs a url");
    cJSON *img = cJSON_CreateObject();
    cJSON *src = img && oab__ax_add(t, img, "type", cJSON_CreateString("image"))
                     ? oab__ax_add(t, img, "source", cJSON_CreateObject())
                     : NULL;
    if (!src) {
        cJSON_Delete(img);
        return oab__ax_nomem(t);
    }
    if (strncmp(url, "data:", 5) == 0) {
        const char *semi = strstr(url, ";base64,");
        if (!semi) {
            cJSON_Delete(img);
            return oab__ax_refuse(t, field, "a data: URL must be base64 (data:TYPE;base64,...)");
        }
        char *media = oab__strndup(url + 5, (size_t)(semi - url - 5));
        if (!media || !oab__ax_add(t, src, "type", cJSON_CreateString("base64")) ||
            !oab__ax_add(t, src, "media_type", cJSON_CreateString(media)) ||
            !oab__ax_add(t, src, "data", cJSON_CreateString(semi + 8))) {
            free(media);
            cJSON_Delete(img);
            return oab__ax_nomem(t);
        }
        free(media);
    } else if (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0) {
        if (!oab__ax_add(t, src, "type", cJSON_CreateString("url")) ||
            !oab__ax_add(t, src, "url", cJSON_CreateString(url))) {
            cJSON_Delete(img);
            return oab__ax_nomem(t);
        }
    } else {
        cJSON_Delete(img);
        return oab__ax_refuse(t, field, "an image URL must be data: (base64) or http(s)");
    }
    return oab__ax_push(t, blocks, img) ? OAB_OK : oab__ax_nomem(t);
}

/* Content of a user, assistant or tool message -> a string (kept) or an
 * array of blocks. `role` decides the parts allowed. *out NULL for no
 * content (null or absent). */
static oab_status content_blocks(oab__atx *t, cJSON **out, const cJSON *content,
                                 const char *role, const char *where)
{
    *out = NULL;
    char field[160];
    if (!content || cJSON_IsNull(content))
        return OAB_OK;
    if (cJSON_IsString(content)) {
        *out = cJSON_CreateString(content->valuestring);
        return *out ? OAB_OK : oab__ax_nomem(t);
    }
    if (!cJSON_IsArray(content)) {
        snprintf(field, sizeof field, "%s.content", where);
        return oab__ax_refuse(t, field, "must be a string or an array of parts");
    }
    cJSON *blocks = cJSON_CreateArray();
    if (!blocks)
        return oab__ax_nomem(t);
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
                st = oab__ax_refuse(t, field, "a %s part needs its text", type);
                break;
            }
            if (!oab__ax_push(t, blocks, oab__ax_text_block(text))) {
                st = oab__ax_nomem(t);
                break;
            }
        } else if (type && strcmp(type, "image_url") == 0 && strcmp(role, "user") == 0) {
            if ((st = image_block(t, blocks, p, field)) != OAB_OK)
                break;
        } else {
            st = oab__ax_refuse(t, field, "a %s part of type \"%s\" has no Anthropic "
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
        cJSON *b = oab__ax_text_block(content->valuestring);
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
static oab_status tool_use_blocks(oab__atx *t, cJSON *blocks, const cJSON *calls,
                                  const char *where)
{
    char field[160];
    if (!cJSON_IsArray(calls)) {
        snprintf(field, sizeof field, "%s.tool_calls", where);
        return oab__ax_refuse(t, field, "must be an array");
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
            return oab__ax_refuse(t, field, "needs type \"function\", an id and "
                                    "function.name");
        cJSON *input = NULL;
        if (!args || !*args)
            input = cJSON_CreateObject();
        else if (oab__json_parse_st(&input, args, strlen(args)) == OAB_ENOMEM)
            return oab__ax_nomem(t);
        if (!cJSON_IsObject(input)) {
            cJSON_Delete(input);
            return oab__err(t->err, OAB_EJSON, t->lineno,
                            "line %ld: %s.function.arguments: not a JSON object",
                            t->lineno, field);
        }
        cJSON *b = cJSON_CreateObject();
        if (!b || !oab__ax_add(t, b, "type", cJSON_CreateString("tool_use")) ||
            !oab__ax_add(t, b, "id", cJSON_CreateString(id)) ||
            !oab__ax_add(t, b, "name", cJSON_CreateString(name))) {
            cJSON_Delete(input);
            cJSON_Delete(b);
            return oab__ax_nomem(t);
        }
        if (!oab__ax_add(t, b, "input", input)) { /* oab__ax_add() frees input */
            cJSON_Delete(b);
            return oab__ax_nomem(t);
        }
        if (!oab__ax_push(t, blocks, b))
            return oab__ax_nomem(t);
    }
    return OAB_OK;
}

static cJSON *new_turn(oab__atx *t, cJSON *messages, const char *role, cJSON *content)
{
    cJSON *m = cJSON_CreateObject();
    if (!m || !oab__ax_add(t, m, "role", cJSON_CreateString(role))) {
        cJSON_Delete(m);
        cJSON_Delete(content);
        return NULL;
    }
    if (!oab__ax_add(t, m, "content", content)) {
        cJSON_Delete(m);
        return NULL;
    }
    return oab__ax_push(t, messages, m);
}

/* messages -> system (string) + messages (turns). */
static oab_status tx_messages(oab__atx *t, const cJSON *msgs, cJSON *params)
{
    if (!cJSON_IsArray(msgs) || !msgs->child)
        return oab__ax_refuse(t, "body.messages", "must be a non-empty array");
    oab__buf sys = OAB__BUF_INIT;
    cJSON *turns = cJSON_CreateArray();
    cJSON *tool_turn = NULL; /* the user turn collecting tool results */
    oab_status st = turns ? OAB_OK : oab__ax_nomem(t);
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
            st = oab__ax_refuse(t, field, "missing");
        } else if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
            st = system_text(t, &sys, content, where);
            tool_turn = NULL;
        } else if (strcmp(role, "user") == 0) {
            cJSON *c = NULL;
            st = content_blocks(t, &c, content, role, where);
            if (st == OAB_OK && !c) {
                snprintf(field, sizeof field, "%s.content", where);
                st = oab__ax_refuse(t, field, "a user message needs content");
            } else if (st == OAB_OK && !new_turn(t, turns, "user", c)) {
                st = oab__ax_nomem(t);
            }
            tool_turn = NULL;
        } else if (strcmp(role, "assistant") == 0) {
            cJSON *c = NULL;
            const cJSON *calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
            int has_calls = calls && !cJSON_IsNull(calls);
            st = content_blocks(t, &c, content, role, where);
            if (st == OAB_OK && has_calls) {
                c = as_blocks(c);
                st = c ? tool_use_blocks(t, c, calls, where) : oab__ax_nomem(t);
            }
            if (st == OAB_OK && (!c || (cJSON_IsArray(c) && !c->child) ||
                                 (cJSON_IsString(c) && !c->valuestring[0]))) {
                snprintf(field, sizeof field, "%s.content", where);
                st = oab__ax_refuse(t, field, "an assistant message needs content or "
                                      "tool_calls");
            }
            if (st == OAB_OK) {
                if (!new_turn(t, turns, "assistant", c))
                    st = oab__ax_nomem(t);
                c = NULL;
            }
            cJSON_Delete(c);
            tool_turn = NULL;
        } else if (strcmp(role, "tool") == 0) {
            const char *id = oab__json_str(m, "tool_call_id");
            cJSON *c = NULL;
            if (!id) {
                snprintf(field, sizeof field, "%s.tool_call_id", where);
                st = oab__ax_refuse(t, field, "missing");
            } else {
                st = content_blocks(t, &c, content, "tool", where);
            }
            cJSON *r = NULL;
            if (st == OAB_OK) {
                r = cJSON_CreateObject();
                if (!r || !oab__ax_add(t, r, "type", cJSON_CreateString("tool_result")) ||
                    !oab__ax_add(t, r, "tool_use_id", cJSON_CreateString(id))) {
                    st = oab__ax_nomem(t);
                } else if (c) {
                    cJSON *given = c;
                    c = NULL; /* oab__ax_add() owns it now, also when it fails */
                    if (!oab__ax_add(t, r, "content", given))
                        st = oab__ax_nomem(t);
                }
            }
            if (st == OAB_OK && !tool_turn) {
                cJSON *arr = cJSON_CreateArray();
                cJSON *turn = arr ? new_turn(t, turns, "user", arr) : NULL;
                tool_turn = turn ? cJSON_GetObjectItemCaseSensitive(turn, "content") : NULL;
                if (!tool_turn)
                    st = oab__ax_nomem(t);
            }
            if (st == OAB_OK) {
                if (!oab__ax_push(t, tool_turn, r)) /* push frees r when it fails */
                    st = oab__ax_nomem(t);
            } else {
                cJSON_Delete(c);
                cJSON_Delete(r);
            }
        } else {
            snprintf(field, sizeof field, "%s.role", where);
            st = oab__ax_refuse(t, field, "role \"%s\" has no Anthropic equivalent", role);
        }
    }
    if (st == OAB_OK && !turns->child)
        st = oab__ax_refuse(t, "body.messages", "no user or assistant message "
                                        "(Anthropic needs at least one)");
    if (st == OAB_OK && sys.len && !oab__ax_add(t, params, "system", cJSON_CreateString(sys.data)))
        st = oab__ax_nomem(t);
    if (st == OAB_OK && !oab__ax_add(t, params, "messages", turns))
        st = oab__ax_nomem(t);
    else if (st != OAB_OK)
        cJSON_Delete(turns);
    oab__buf_free(&sys);
    return st;
}

/* tools -> [{name, description, input_schema}] (appended to out). */
static oab_status tx_tools(oab__atx *t, const cJSON *tools, cJSON *out)
{
    if (!cJSON_IsArray(tools))
        return oab__ax_refuse(t, "body.tools", "must be an array");
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
            return oab__ax_refuse(t, field, "only function tools with a name are "
                                    "translated");
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(fn, "parameters");
        const char *desc = oab__json_str(fn, "description");
        cJSON *a = cJSON_CreateObject();
        if (!a || !oab__ax_push(t, out, a) ||
            !oab__ax_add(t, a, "name", cJSON_CreateString(name)) ||
            (desc && !oab__ax_add(t, a, "description", cJSON_CreateString(desc))))
            return oab__ax_nomem(t);
        cJSON *schema = cJSON_IsObject(params)
                            ? oab__ax_dup(params)
                            : cJSON_Parse("{\"type\":\"object\",\"properties\":{}}");
        if (!oab__ax_add(t, a, "input_schema", schema))
            return oab__ax_nomem(t);
    }
    return OAB_OK;
}

/* tool_choice -> {type: auto|none|any|tool[, name]}; NULL when absent. */
static oab_status tx_tool_choice(oab__atx *t, const cJSON *tc, cJSON **out)
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
        return oab__ax_refuse(t, "body.tool_choice", "only \"auto\", \"none\", "
                                             "\"required\" or a named function "
                                             "are translated");
    cJSON *c = cJSON_CreateObject();
    if (!c || !oab__ax_add(t, c, "type", cJSON_CreateString(type)) ||
        (name && !oab__ax_add(t, c, "name", cJSON_CreateString(name)))) {
        cJSON_Delete(c);
        return oab__ax_nomem(t);
    }
    *out = c;
    return OAB_OK;
}

/* response_format: native json_schema -> a forced tool (name returned in
 * *native, borrowed from the body); text -> nothing; json_object refused. */
static oab_status tx_response_format(oab__atx *t, const cJSON *rf, cJSON *tools,
                                     cJSON **choice, const char **native)
{
    *native = NULL;
    if (!rf || cJSON_IsNull(rf))
        return OAB_OK;
    const char *type = oab__json_str(rf, "type");
    if (type && strcmp(type, "text") == 0)
        return OAB_OK;
    if (!type || strcmp(type, "json_schema") != 0)
        return oab__ax_refuse(t, "body.response_format", "type \"%s\" is not translated "
                      "(json_schema is; Anthropic has no plain JSON mode)",
                      type ? type : "?");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(rf, "json_schema");
    const char *name = oab__json_str(js, "name");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(js, "schema");
    const char *stype = oab__json_str(schema, "type");
    if (!name)
        return oab__ax_refuse(t, "body.response_format.json_schema.name", "missing");
    if (!cJSON_IsObject(schema) || (stype && strcmp(stype, "object") != 0) ||
        (!stype && cJSON_GetObjectItemCaseSensitive(schema, "type")))
        return oab__ax_refuse(t, "body.response_format.json_schema.schema",
                      "the root must be an object schema (it becomes a "
                      "tool's input_schema)");
    const cJSON *tl;
    cJSON_ArrayForEach(tl, tools)
    {
        const char *tn = oab__json_str(tl, "name");
        if (tn && strcmp(tn, name) == 0)
            return oab__ax_refuse(t, "body.response_format.json_schema.name",
                          "\"%s\" is also the name of a tool of the request", name);
    }
    const char *desc = oab__json_str(js, "description");
    cJSON *a = cJSON_CreateObject();
    if (!a || !oab__ax_push(t, tools, a) || !oab__ax_add(t, a, "name", cJSON_CreateString(name)) ||
        !oab__ax_add(t, a, "description",
             cJSON_CreateString(desc ? desc : "Give the final answer as this "
                                              "tool's input.")) ||
        !oab__ax_add(t, a, "input_schema", oab__ax_dup(schema)))
        return oab__ax_nomem(t);
    cJSON_Delete(*choice);
    *choice = cJSON_CreateObject();
    if (!*choice || !oab__ax_add(t, *choice, "type", cJSON_CreateString("tool")) ||
        !oab__ax_add(t, *choice, "name", cJSON_CreateString(name)))
        return oab__ax_nomem(t);
    *native = name;
    return OAB_OK;
}

static oab_status tx_sampling(oab__atx *t, const cJSON *body, cJSON *params)
{
    const cJSON *temp = cJSON_GetObjectItemCaseSensitive(body, "temperature");
    const cJSON *top_p = cJSON_GetObjectItemCaseSensitive(body, "top_p");
    const cJSON *stop = cJSON_GetObjectItemCaseSensitive(body, "stop");
    if (temp && !cJSON_IsNull(temp)) {
        if (!cJSON_IsNumber(temp) || temp->valuedouble < 0 || temp->valuedouble > 1)
            return oab__ax_refuse(t, "body.temperature", "Anthropic takes 0 to 1");
        if (!oab__ax_add(t, params, "temperature", oab__ax_dup(temp)))
            return oab__ax_nomem(t);
    }
    if (top_p && !cJSON_IsNull(top_p)) {
        if (!cJSON_IsNumber(top_p) || top_p->valuedouble < 0 || top_p->valuedouble > 1)
            return oab__ax_refuse(t, "body.top_p", "must be a number from 0 to 1");
        if (!oab__ax_add(t, params, "top_p", oab__ax_dup(top_p)))
            return oab__ax_nomem(t);
    }
    if (stop && !cJSON_IsNull(stop)) {
        cJSON *seq = cJSON_CreateArray();
        if (!seq)
            return oab__ax_nomem(t);
        if (cJSON_IsString(stop)) {
            if (!oab__ax_push(t, seq, cJSON_CreateString(stop->valuestring))) {
                cJSON_Delete(seq);
                return oab__ax_nomem(t);
            }
        } else if (cJSON_IsArray(stop)) {
            const cJSON *s;
            cJSON_ArrayForEach(s, stop)
            {
                if (!cJSON_IsString(s)) {
                    cJSON_Delete(seq);
                    return oab__ax_refuse(t, "body.stop", "must be a string or an array "
                                                  "of strings");
                }
                if (!oab__ax_push(t, seq, cJSON_CreateString(s->valuestring))) {
                    cJSON_Delete(seq);
                    return oab__ax_nomem(t);
                }
            }
        } else {
            cJSON_Delete(seq);
            return oab__ax_refuse(t, "body.stop", "must be a string or an array of strings");
        }
        if (!seq->child)
            cJSON_Delete(seq);
        else if (!oab__ax_add(t, params, "stop_sequences", seq))
            return oab__ax_nomem(t);
    }
    return OAB_OK;
}

/* tools, tool_choice, parallel_tool_calls and response_format. */
static oab_status tx_tooling(oab__atx *t, const cJSON *body, cJSON *params,
                             const char **native)
{
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(body, "tools");
    cJSON *out = cJSON_CreateArray();
    cJSON *choice = NULL;
    if (!out)
        return oab__ax_nomem(t);
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
        st = oab__ax_refuse(t, "body.parallel_tool_calls", "must be true or false");
    const char *ctype = choice ? oab__json_str(choice, "type") : "auto";
    if (st == OAB_OK && (cJSON_IsFalse(ptc) || *native) && strcmp(ctype, "none") != 0 &&
        out->child) {
        if (!choice && (!(choice = cJSON_CreateObject()) ||
                        !oab__ax_add(t, choice, "type", cJSON_CreateString("auto"))))
            st = oab__ax_nomem(t);
        if (st == OAB_OK &&
            !oab__ax_add(t, choice, "disable_parallel_tool_use", cJSON_CreateTrue()))
            st = oab__ax_nomem(t);
    }
    if (st == OAB_OK && out->child) {
        if (!oab__ax_add(t, params, "tools", out))
            st = oab__ax_nomem(t);
        out = NULL;
    }
    if (st == OAB_OK && choice) {
        if (!oab__ax_add(t, params, "tool_choice", choice))
            st = oab__ax_nomem(t);
        choice = NULL;
    }
    cJSON_Delete(out);
    cJSON_Delete(choice);
    return st;
}

/* model, max_tokens, messages/system, tooling, sampling, metadata. */
static oab_status tx_body(oab__atx *t, const cJSON *body, const oab_anthropic_options *o,
                          cJSON *params, const char **native)
{
    oab_status st = check_fields(t, body);
    if (st != OAB_OK)
        return st;
    const char *model = oab__json_str(body, "model");
    if (!model || !*model)
        return oab__ax_refuse(t, "body.model", "missing");
    if (strncmp(model, "anthropic:", 10) == 0)
        model += 10;
    if (!oab__ax_add(t, params, "model", cJSON_CreateString(model)))
        return oab__ax_nomem(t);
    long mct = oab__ax_positive_int(
        cJSON_GetObjectItemCaseSensitive(body, "max_completion_tokens"));
    long mt = oab__ax_positive_int(cJSON_GetObjectItemCaseSensitive(body, "max_tokens"));
    if (mct < 0)
        return oab__ax_refuse(t, "body.max_completion_tokens", "must be an integer >= 1");
    if (mt < 0)
        return oab__ax_refuse(t, "body.max_tokens", "must be an integer >= 1");
    long max = mct ? mct : mt ? mt : o->default_max_tokens;
    if (max <= 0)
        return oab__ax_refuse(t, "body.max_tokens", "Anthropic requires max_tokens: set "
                      "max_tokens or max_completion_tokens in the line, or a "
                      "default (anthropic_max_tokens of the client)");
    if (!oab__ax_add(t, params, "max_tokens", cJSON_CreateNumber((double)max)))
        return oab__ax_nomem(t);
    if ((st = tx_messages(t, cJSON_GetObjectItemCaseSensitive(body, "messages"),
                          params)) != OAB_OK ||
        (st = tx_tooling(t, body, params, native)) != OAB_OK ||
        (st = tx_sampling(t, body, params)) != OAB_OK)
        return st;
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(body, "user");
    if (cJSON_IsString(user) && user->valuestring[0]) {
        cJSON *md = oab__ax_add(t, params, "metadata", cJSON_CreateObject());
        if (!md || !oab__ax_add(t, md, "user_id", cJSON_CreateString(user->valuestring)))
            return oab__ax_nomem(t);
    }
    return t->oom ? oab__ax_nomem(t) : OAB_OK;
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
    oab__atx t = {lineno, err, 0};
    char what[40];
    snprintf(what, sizeof what, "line %ld", lineno);
    cJSON *root = NULL;
    oab_status st = oab__ax_parse_text(&root, out != NULL, line, len, lineno, what, err);
    if (st == OAB_OK)
        st = oab__ax_refuse_nul(&t, line, len, "");
    if (st != OAB_OK) {
        cJSON_Delete(root);
        return st;
    }
    const char *cid = oab__json_str(root, "custom_id");
    const char *url = oab__json_str(root, "url");
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(root, "body");
    if (!cJSON_IsObject(root))
        st = oab__ax_refuse(&t, "line", "not a JSON object");
    else if (!cid || !*cid)
        st = oab__ax_refuse(&t, "custom_id", "missing");
    else if (!url || strcmp(url, "/v1/chat/completions") != 0)
        st = oab__ax_refuse(&t, "url", "\"%s\": only /v1/chat/completions lines are "
                    "translated to Anthropic", url ? url : "");
    else if (!cJSON_IsObject(body))
        st = oab__ax_refuse(&t, "body", "missing or not an object");
    cJSON *params = st == OAB_OK ? cJSON_CreateObject() : NULL;
    const char *native = NULL;
    if (st == OAB_OK && !params)
        st = oab__ax_nomem(&t);
    if (st == OAB_OK)
        st = tx_body(&t, body, opts, params, &native);
    char sent[48];
    const char *sent_id = cid;
    if (st == OAB_OK && !oab__anthropic_id_ok(cid)) {
        snprintf(sent, sizeof sent, "oab-%016llx-%ld",
                 (unsigned long long)oab__anthropic_fnv1a(cid),
                 lineno);
        sent_id = sent;
    }
    if (st == OAB_OK && map && (sent_id != cid || native) &&
        oab__anthropic_map_add(map, sent_id, cid, native) != OAB_OK)
        st = oab__ax_nomem(&t);
    oab__buf b = OAB__BUF_INIT;
    if (st == OAB_OK) {
        char *p = oab__json_print(params);
        if (!p || oab__buf_puts(&b, "{\"custom_id\":") ||
            oab__buf_json_string(&b, sent_id, strlen(sent_id)) ||
            oab__buf_puts(&b, ",\"params\":") || oab__buf_puts(&b, p) ||
            oab__buf_putc(&b, '}'))
            st = oab__ax_nomem(&t);
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
