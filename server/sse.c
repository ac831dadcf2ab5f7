/* sse.c - `stream: true` answers of the built-in model as OpenAI's event
 * streams, cut from the whole answer: text goes out a word (with its
 * following space) per event. */
#include "oaibatch.h"
#include "util/buf.h"
#include "util/json.h"
#include "sse.h"

#include <stdlib.h>
#include <string.h>

static void event(oab__buf *b, const char *name, cJSON *data)
{
    char *t = cJSON_PrintUnformatted(data);
    cJSON_Delete(data);
    if (name)
        oab__buf_printf(b, "event: %s\n", name);
    oab__buf_puts(b, "data: ");
    oab__buf_puts(b, t ? t : "{}");
    oab__buf_puts(b, "\n\n");
    free(t);
}

/* At most about this many delta events for one text: a long answer's
 * words are merged into pieces of at least its length / SSE_PIECES
 * bytes, so a stream built whole costs its text plus a bounded overhead
 * (one event a word made a 3.8 MB answer a 450 MB stream). */
#define SSE_PIECES 256

/* The length of the next piece of text: words, each with the spaces
 * around it, up to at least min bytes (one word when min is 0). */
static size_t piece(const char *s, size_t min)
{
    size_t n = 0;
    do {
        while (s[n] == ' ')
            n++;
        while (s[n] && s[n] != ' ')
            n++;
        while (s[n] == ' ')
            n++;
    } while (s[n] && n < min);
    return n;
}

static char *piece_dup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* A chunk skeleton of the answer with one choice delta (taken). */
static cJSON *chunk(const cJSON *answer, cJSON *delta, const char *finish)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "id", oab__json_str(answer, "id"));
    cJSON_AddStringToObject(c, "object", "chat.completion.chunk");
    cJSON_AddNumberToObject(c, "created", oab__json_num(answer, "created", 0));
    cJSON_AddStringToObject(c, "model", oab__json_str(answer, "model"));
    const char *fp = oab__json_str(answer, "system_fingerprint");
    if (fp)
        cJSON_AddStringToObject(c, "system_fingerprint", fp);
    cJSON *choices = cJSON_AddArrayToObject(c, "choices");
    if (delta) {
        cJSON *ch = cJSON_CreateObject();
        cJSON_AddNumberToObject(ch, "index", 0);
        cJSON_AddItemToObject(ch, "delta", delta);
        cJSON_AddNullToObject(ch, "logprobs");
        if (finish)
            cJSON_AddStringToObject(ch, "finish_reason", finish);
        else
            cJSON_AddNullToObject(ch, "finish_reason");
        cJSON_AddItemToArray(choices, ch);
    }
    return c;
}

char *srv_sse_chat(const cJSON *answer, int include_usage, size_t *len)
{
    oab__buf b = OAB__BUF_INIT;
    const cJSON *ch = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(answer, "choices"), 0);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(ch, "message");
    const char *content = oab__json_str(msg, "content");
    const cJSON *calls = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls");
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "role", "assistant");
    if (cJSON_GetArraySize(calls) == 0)
        cJSON_AddStringToObject(d, "content", "");
    else
        cJSON_AddNullToObject(d, "content");
    event(&b, NULL, chunk(answer, d, NULL));
    size_t min = content ? strlen(content) / SSE_PIECES : 0;
    for (const char *p = content; p && *p;) {
        size_t n = piece(p, min);
        char *t = piece_dup(p, n);
        d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "content", t ? t : "");
        free(t);
        event(&b, NULL, chunk(answer, d, NULL));
        p += n;
    }
    int i = 0;
    const cJSON *call;
    cJSON_ArrayForEach(call, calls) {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call, "function");
        d = cJSON_CreateObject();
        cJSON *tcs = cJSON_AddArrayToObject(d, "tool_calls");
        cJSON *tc = cJSON_CreateObject();
        cJSON_AddItemToArray(tcs, tc);
        cJSON_AddNumberToObject(tc, "index", i);
        cJSON_AddStringToObject(tc, "id", oab__json_str(call, "id"));
        cJSON_AddStringToObject(tc, "type", "function");
        cJSON *f = cJSON_AddObjectToObject(tc, "function");
        cJSON_AddStringToObject(f, "name", oab__json_str(fn, "name"));
        cJSON_AddStringToObject(f, "arguments", "");
        event(&b, NULL, chunk(answer, d, NULL));
        const char *args = oab__json_str(fn, "arguments");
        d = cJSON_CreateObject();
        tcs = cJSON_AddArrayToObject(d, "tool_calls");
        tc = cJSON_CreateObject();
        cJSON_AddItemToArray(tcs, tc);
        cJSON_AddNumberToObject(tc, "index", i);
        f = cJSON_AddObjectToObject(tc, "function");
        cJSON_AddStringToObject(f, "arguments", args ? args : "");
        event(&b, NULL, chunk(answer, d, NULL));
        i++;
    }
    const char *finish = oab__json_str(ch, "finish_reason");
    event(&b, NULL, chunk(answer, cJSON_CreateObject(),
                          finish ? finish : "stop"));
    if (include_usage) {
        cJSON *c = chunk(answer, NULL, NULL);
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(answer, "usage");
        cJSON_AddItemToObject(c, "usage",
                              u ? cJSON_Duplicate(u, 1) : cJSON_CreateNull());
        event(&b, NULL, c);
    }
    oab__buf_puts(&b, "data: [DONE]\n\n");
    return oab__buf_take(&b, len);
}

static cJSON *typed(const char *type, int *seq)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", type);
    cJSON_AddNumberToObject(o, "sequence_number", (*seq)++);
    return o;
}

char *srv_sse_responses(const cJSON *answer, size_t *len)
{
    oab__buf b = OAB__BUF_INIT;
    int seq = 0;
    cJSON *start = cJSON_Duplicate(answer, 1);
    if (start) {
        cJSON_ReplaceItemInObjectCaseSensitive(start, "status",
                                               cJSON_CreateString(
                                                   "in_progress"));
        cJSON_ReplaceItemInObjectCaseSensitive(start, "output",
                                               cJSON_CreateArray());
    }
    cJSON *e = typed("response.created", &seq);
    cJSON_AddItemToObject(e, "response", start ? start : cJSON_CreateNull());
    event(&b, "response.created", e);
    const cJSON *item;
    int oi = 0;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(answer,
                                                              "output")) {
        const char *type = oab__json_str(item, "type");
        int call = type && !strcmp(type, "function_call");
        const char *text = call ? oab__json_str(item, "arguments")
                                : oab__json_str(cJSON_GetArrayItem(
                                      cJSON_GetObjectItemCaseSensitive(
                                          item, "content"), 0), "text");
        /* the item as it starts: no content yet (no arguments) */
        cJSON *empty = cJSON_Duplicate(item, 1);
        if (empty) {
            cJSON_ReplaceItemInObjectCaseSensitive(empty, "status",
                                                   cJSON_CreateString(
                                                       "in_progress"));
            if (call)
                cJSON_ReplaceItemInObjectCaseSensitive(
                    empty, "arguments", cJSON_CreateString(""));
            else
                cJSON_ReplaceItemInObjectCaseSensitive(empty, "content",
                                                       cJSON_CreateArray());
        }
        e = typed("response.output_item.added", &seq);
        cJSON_AddNumberToObject(e, "output_index", oi);
        cJSON_AddItemToObject(e, "item", empty ? empty : cJSON_CreateNull());
        event(&b, "response.output_item.added", e);
        const cJSON *part = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(item, "content"), 0);
        if (!call) {
            cJSON *p0 = cJSON_Duplicate(part, 1);
            if (p0)
                cJSON_ReplaceItemInObjectCaseSensitive(p0, "text",
                                                       cJSON_CreateString(""));
            e = typed("response.content_part.added", &seq);
            cJSON_AddStringToObject(e, "item_id", oab__json_str(item, "id"));
            cJSON_AddNumberToObject(e, "output_index", oi);
            cJSON_AddNumberToObject(e, "content_index", 0);
            cJSON_AddItemToObject(e, "part", p0 ? p0 : cJSON_CreateNull());
            event(&b, "response.content_part.added", e);
        }
        const char *dn = call ? "response.function_call_arguments.delta"
                              : "response.output_text.delta";
        size_t min = text ? strlen(text) / SSE_PIECES : 0;
        for (const char *p = text; p && *p;) {
            size_t n = piece(p, min);
            char *t = piece_dup(p, n);
            e = typed(dn, &seq);
            cJSON_AddStringToObject(e, "item_id", oab__json_str(item, "id"));
            cJSON_AddNumberToObject(e, "output_index", oi);
            if (!call)
                cJSON_AddNumberToObject(e, "content_index", 0);
            cJSON_AddStringToObject(e, "delta", t ? t : "");
            event(&b, dn, e);
            free(t);
            p += n;
        }
        const char *done = call ? "response.function_call_arguments.done"
                                : "response.output_text.done";
        e = typed(done, &seq);
        cJSON_AddStringToObject(e, "item_id", oab__json_str(item, "id"));
        cJSON_AddNumberToObject(e, "output_index", oi);
        cJSON_AddStringToObject(e, call ? "arguments" : "text",
                                text ? text : "");
        event(&b, done, e);
        if (!call) {
            e = typed("response.content_part.done", &seq);
            cJSON_AddStringToObject(e, "item_id", oab__json_str(item, "id"));
            cJSON_AddNumberToObject(e, "output_index", oi);
            cJSON_AddNumberToObject(e, "content_index", 0);
            cJSON_AddItemToObject(e, "part", cJSON_Duplicate(part, 1));
            event(&b, "response.content_part.done", e);
        }
        e = typed("response.output_item.done", &seq);
        cJSON_AddNumberToObject(e, "output_index", oi);
        cJSON_AddItemToObject(e, "item", cJSON_Duplicate(item, 1));
        event(&b, "response.output_item.done", e);
        oi++;
    }
    e = typed("response.completed", &seq);
    cJSON_AddItemToObject(e, "response", cJSON_Duplicate(answer, 1));
    event(&b, "response.completed", e);
    return oab__buf_take(&b, len);
}
