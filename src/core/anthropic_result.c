/* anthropic_result.c - a Message Batch result line -> the OpenAI
 * output/error line shape, so the result decoder, structured-output
 * checks and merging work unchanged (no I/O; docs/providers.md). */

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

/* The chat.completion body of a succeeded message. */
static cJSON *completion_body(oab__atx *t, const cJSON *msg, const char *native)
{
    cJSON *body = cJSON_CreateObject();
    cJSON *choices = body ? oab__ax_add(t, body, "choices", cJSON_CreateArray()) : NULL;
    if (!body || !choices) {
        cJSON_Delete(body);
        return NULL;
    }
    /* key order of OpenAI's object: id, object, created, model, choices, usage */
    cJSON_DetachItemViaPointer(body, choices);
    const char *id = oab__json_str(msg, "id");
    const char *model = oab__json_str(msg, "model");
    oab__ax_add(t, body, "id", id ? cJSON_CreateString(id) : cJSON_CreateNull());
    oab__ax_add(t, body, "object", cJSON_CreateString("chat.completion"));
    oab__ax_add(t, body, "created", cJSON_CreateNumber(0));
    oab__ax_add(t, body, "model", model ? cJSON_CreateString(model) : cJSON_CreateNull());
    oab__ax_add(t, body, "choices", choices);

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
                cJSON *c = oab__ax_push(t, calls, cJSON_CreateObject());
                cJSON *fn = c ? (oab__ax_add(t, c, "id", cid ? cJSON_CreateString(cid)
                                                     : cJSON_CreateNull()),
                                 oab__ax_add(t, c, "type", cJSON_CreateString("function")),
                                 oab__ax_add(t, c, "function", cJSON_CreateObject()))
                              : NULL;
                if (fn) {
                    oab__ax_add(t, fn, "name", cJSON_CreateString(name ? name : ""));
                    oab__ax_add(t, fn, "arguments", cJSON_CreateString(args));
                }
            }
            free(args);
        } /* thinking, redacted_thinking and server tool blocks: not carried */
    }
    cJSON *choice = oab__ax_push(t, choices, cJSON_CreateObject());
    cJSON *m = choice ? (oab__ax_add(t, choice, "index", cJSON_CreateNumber(0)),
                         oab__ax_add(t, choice, "message", cJSON_CreateObject()))
                      : NULL;
    if (m) {
        oab__ax_add(t, m, "role", cJSON_CreateString("assistant"));
        oab__ax_add(t, m, "content", native_json ? cJSON_CreateString(native_json)
                             : has_text  ? cJSON_CreateString(text.data ? text.data : "")
                                         : cJSON_CreateNull());
        oab__ax_add(t, m, "refusal", cJSON_CreateNull());
        if (calls && calls->child) {
            oab__ax_add(t, m, "tool_calls", calls);
            calls = NULL;
        }
        const char *fr = finish_reason(oab__json_str(msg, "stop_reason"),
                                       native_json != NULL);
        oab__ax_add(t, choice, "finish_reason", fr ? cJSON_CreateString(fr) : cJSON_CreateNull());
        oab__ax_add(t, choice, "logprobs", cJSON_CreateNull());
    }
    cJSON_Delete(calls);
    free(native_json);
    oab__buf_free(&text);

    const cJSON *u = cJSON_GetObjectItemCaseSensitive(msg, "usage");
    if (cJSON_IsObject(u)) {
        long long cache_read = oab__ax_usage_n(u, "cache_read_input_tokens");
        long long prompt = oab__ax_usage_n(u, "input_tokens") + cache_read +
                           oab__ax_usage_n(u, "cache_creation_input_tokens");
        long long completion = oab__ax_usage_n(u, "output_tokens");
        cJSON *ou = oab__ax_add(t, body, "usage", cJSON_CreateObject());
        if (ou) {
            oab__ax_add(t, ou, "prompt_tokens", cJSON_CreateNumber((double)prompt));
            oab__ax_add(t, ou, "completion_tokens", cJSON_CreateNumber((double)completion));
            oab__ax_add(t, ou, "total_tokens", cJSON_CreateNumber((double)(prompt + completion)));
            cJSON *d = oab__ax_add(t, ou, "prompt_tokens_details", cJSON_CreateObject());
            if (d)
                oab__ax_add(t, d, "cached_tokens", cJSON_CreateNumber((double)cache_read));
            const cJSON *od = cJSON_GetObjectItemCaseSensitive(u, "output_tokens_details");
            cJSON *cd = cJSON_IsObject(od)
                            ? oab__ax_add(t, ou, "completion_tokens_details", cJSON_CreateObject())
                            : NULL;
            if (cd)
                oab__ax_add(t, cd, "reasoning_tokens",
                    cJSON_CreateNumber((double)oab__ax_usage_n(od, "thinking_tokens")));
        }
    }
    if (t->oom) {
        cJSON_Delete(body);
        return NULL;
    }
    return body;
}

/* {"error":{"message","type","param":null,"code":null}} of an errored result. */
static cJSON *error_body(oab__atx *t, const cJSON *error, int *status)
{
    const cJSON *inner = cJSON_GetObjectItemCaseSensitive(error, "error");
    if (!cJSON_IsObject(inner))
        inner = error;
    const char *type = oab__json_str(inner, "type");
    const char *message = oab__json_str(inner, "message");
    *status = error_status(type);
    cJSON *body = cJSON_CreateObject();
    cJSON *e = body ? oab__ax_add(t, body, "error", cJSON_CreateObject()) : NULL;
    if (e) {
        oab__ax_add(t, e, "message", cJSON_CreateString(message ? message : "the request failed"));
        oab__ax_add(t, e, "type", type ? cJSON_CreateString(type) : cJSON_CreateNull());
        oab__ax_add(t, e, "param", cJSON_CreateNull());
        oab__ax_add(t, e, "code", cJSON_CreateNull());
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
    oab__atx t = {lineno, err, 0};
    char what[48];
    snprintf(what, sizeof what, "results line %ld", lineno);
    cJSON *root = NULL;
    oab_status st = oab__ax_parse_text(&root, out != NULL, line, len, lineno, what, err);
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
    const oab__amap_entry *e = oab__anthropic_map_find(map, sent);
    const char *cid = e ? e->custom_id : sent;
    cJSON *o = cJSON_CreateObject();
    char *line_id = oab__sprintf("batch_req_%s", sent);
    if (!o || !line_id || !oab__ax_add(&t, o, "id", cJSON_CreateString(line_id)) ||
        !oab__ax_add(&t, o, "custom_id", cJSON_CreateString(cid)))
        st = oab__ax_nomem(&t);
    free(line_id);
    int errored = 1;
    if (st != OAB_OK) {
        /* reported below */
    } else if (strcmp(type, "succeeded") == 0) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(result, "message");
        cJSON *body = completion_body(&t, msg, e ? e->native : NULL);
        const char *mid = oab__json_str(msg, "id");
        cJSON *resp = body ? oab__ax_add(&t, o, "response", cJSON_CreateObject()) : NULL;
        if (!resp) {
            cJSON_Delete(body);
            st = oab__ax_nomem(&t);
        } else {
            oab__ax_add(&t, resp, "status_code", cJSON_CreateNumber(200));
            oab__ax_add(&t, resp, "request_id", mid ? cJSON_CreateString(mid) : cJSON_CreateNull());
            oab__ax_add(&t, resp, "body", body);
            oab__ax_add(&t, o, "error", cJSON_CreateNull());
        }
        errored = 0;
    } else if (strcmp(type, "errored") == 0) {
        int status = 500;
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(result, "error");
        cJSON *body = error_body(&t, error, &status);
        const char *rid = oab__json_str(error, "request_id");
        cJSON *resp = body ? oab__ax_add(&t, o, "response", cJSON_CreateObject()) : NULL;
        if (!resp) {
            cJSON_Delete(body);
            st = oab__ax_nomem(&t);
        } else {
            oab__ax_add(&t, resp, "status_code", cJSON_CreateNumber(status));
            oab__ax_add(&t, resp, "request_id", rid ? cJSON_CreateString(rid) : cJSON_CreateNull());
            oab__ax_add(&t, resp, "body", body);
            oab__ax_add(&t, o, "error", cJSON_CreateNull());
        }
    } else if (strcmp(type, "canceled") == 0 || strcmp(type, "expired") == 0) {
        int canceled = type[0] == 'c';
        cJSON *er = (oab__ax_add(&t, o, "response", cJSON_CreateNull()),
                     oab__ax_add(&t, o, "error", cJSON_CreateObject()));
        if (er) {
            oab__ax_add(&t, er, "code", cJSON_CreateString(canceled ? "batch_cancelled"
                                                            : "batch_expired"));
            oab__ax_add(&t, er, "message",
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
        st = oab__ax_nomem(&t);
    char *text = st == OAB_OK ? oab__json_print(o) : NULL;
    if (st == OAB_OK && !text)
        st = oab__ax_nomem(&t);
    cJSON_Delete(o);
    cJSON_Delete(root);
    if (st != OAB_OK)
        return st;
    if (is_error)
        *is_error = errored;
    *out = text;
    return OAB_OK;
}
