/* request_tokens.c - the input tokens of a request and an upper bound
 * of its output, by the rules of OpenAI's cookbook "How to count tokens
 * with tiktoken" (docs/tokens.md says which rules are exact and which
 * approximate):
 *   chat: 3 per message, the tokens of every string field of it (role,
 *         content, name), 1 more for a name, 3 for the reply's priming;
 *   tools: the cookbook's function rule (a fixed cost per function and
 *         per property, plus "name:description" and "key:type:desc");
 *   images: 85 tokens at detail "low", else 765 (a 1024x1024 image:
 *         85 + 170 per 512-pixel tile, 4 tiles);
 *   schemas: the tokens of the schema's compact JSON and its name;
 *   embeddings, completions: the tokens of the input (exact). */
#include "core/expect.h"
#include "core/tokenizer.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/json.h"
#include "util/str.h"

#include <stdlib.h>
#include <string.h>

#define PER_MESSAGE 3
#define PER_NAME 1
#define REPLY_PRIMING 3
#define IMAGE_LOW 85
#define IMAGE_HIGH 765
#define COMPLETIONS_DEFAULT_MAX 16

typedef struct counter {
    const oab_tokenizer *t;
    unsigned long long n;
    oab_error *err;
    oab_status st;
} counter;

static void add_text(counter *c, const char *s)
{
    if (c->st != OAB_OK || !s)
        return;
    size_t k = 0;
    c->st = oab_tokenizer_count(&k, c->t, s, strlen(s));
    if (c->st == OAB_EINVAL)
        oab__err(c->err, c->st, 0, "a string is not valid UTF-8");
    c->n += k;
}

static oab_status bad(counter *c, const char *field, const char *what)
{
    c->st = oab__err(c->err, OAB_EINVAL, 0, "body.%s: %s", field, what);
    return c->st;
}

/* ---- parts of a message's content ---- */

static void add_image(counter *c, const cJSON *img)
{
    const char *detail = cJSON_IsObject(img) ? oab__json_str(img, "detail")
                                             : NULL;
    c->n += detail && strcmp(detail, "low") == 0 ? IMAGE_LOW : IMAGE_HIGH;
}

/* A content part of chat ("text", "image_url") or responses
 * ("input_text", "output_text", "input_image"). */
static void add_part(counter *c, const cJSON *part)
{
    if (cJSON_IsString(part)) {
        add_text(c, part->valuestring);
        return;
    }
    const char *type = oab__json_str(part, "type");
    if (!type)
        return;
    if (!strcmp(type, "text") || !strcmp(type, "input_text") ||
        !strcmp(type, "output_text"))
        add_text(c, oab__json_str(part, "text"));
    else if (!strcmp(type, "image_url"))
        add_image(c, cJSON_GetObjectItemCaseSensitive(part, "image_url"));
    else if (!strcmp(type, "input_image"))
        add_image(c, part);
}

static void add_content(counter *c, const cJSON *content)
{
    if (cJSON_IsString(content)) {
        add_text(c, content->valuestring);
    } else if (cJSON_IsArray(content)) {
        const cJSON *p;
        cJSON_ArrayForEach(p, content) add_part(c, p);
    }
}

/* A message: its overhead, every string field, a name, its content
 * parts, and the names and arguments of its tool calls. */
static void add_message(counter *c, const cJSON *m)
{
    c->n += PER_MESSAGE;
    const cJSON *f;
    cJSON_ArrayForEach(f, m)
    {
        if (!f->string)
            continue;
        if (!strcmp(f->string, "content")) {
            add_content(c, f);
        } else if (!strcmp(f->string, "tool_calls") && cJSON_IsArray(f)) {
            const cJSON *call;
            cJSON_ArrayForEach(call, f)
            {
                const cJSON *fn =
                    cJSON_GetObjectItemCaseSensitive(call, "function");
                add_text(c, oab__json_str(fn, "name"));
                add_text(c, oab__json_str(fn, "arguments"));
            }
        } else if (cJSON_IsString(f)) {
            add_text(c, f->valuestring);
            if (!strcmp(f->string, "name"))
                c->n += PER_NAME;
        }
    }
}

/* ---- tools: the cookbook's function rule ---- */

/* text without one final "." */
static void add_sans_dot(counter *c, oab__buf *b, const char *a,
                         const char *sep1, const char *m, const char *sep2,
                         const char *z)
{
    oab__buf_clear(b);
    oab__buf_puts(b, a);
    oab__buf_puts(b, sep1);
    oab__buf_puts(b, m);
    oab__buf_puts(b, sep2);
    oab__buf_puts(b, z);
    if (!b->data) {
        c->st = OAB_ENOMEM;
        return;
    }
    if (b->len && b->data[b->len - 1] == '.')
        b->data[--b->len] = '\0';
    add_text(c, b->data);
}

static void add_function(counter *c, oab__buf *b, const cJSON *fn, int o200k)
{
    const int func_init = o200k ? 7 : 10, prop_init = 3, prop_key = 3,
              enum_init = -3, enum_item = 3;
    const char *name = oab__json_str(fn, "name");
    const char *desc = oab__json_str(fn, "description");
    c->n += (unsigned long long)func_init;
    /* "name:description" without the description's final "." */
    add_sans_dot(c, b, name ? name : "", ":", desc ? desc : "", "", "");
    const cJSON *props = oab__json_path(fn, "parameters.properties");
    if (!cJSON_IsObject(props) || !props->child)
        return;
    c->n += (unsigned long long)prop_init;
    const cJSON *p;
    cJSON_ArrayForEach(p, props)
    {
        c->n += (unsigned long long)prop_key;
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(p, "enum");
        if (cJSON_IsArray(en)) {
            c->n += (unsigned long long)(long long)enum_init;
            const cJSON *e;
            cJSON_ArrayForEach(e, en)
            {
                c->n += (unsigned long long)enum_item;
                if (cJSON_IsString(e))
                    add_text(c, e->valuestring);
            }
        }
        const char *type = oab__json_str(p, "type");
        const char *pd = oab__json_str(p, "description");
        add_sans_dot(c, b, p->string ? p->string : "", ":", type ? type : "",
                     ":", pd ? pd : "");
    }
}

static void add_tools(counter *c, const cJSON *tools, int o200k)
{
    const int func_end = 12;
    if (!cJSON_IsArray(tools) || !tools->child)
        return;
    oab__buf b = OAB__BUF_INIT;
    int any = 0;
    const cJSON *tool;
    cJSON_ArrayForEach(tool, tools)
    {
        /* chat: {type, function: {...}}; responses: {type, name, ...} */
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tool, "function");
        if (!cJSON_IsObject(fn))
            fn = tool;
        if (!oab__json_str(fn, "name"))
            continue;
        add_function(c, &b, fn, o200k);
        any = 1;
    }
    if (any)
        c->n += (unsigned long long)func_end;
    oab__buf_free(&b);
}

/* ---- structured output ---- */

static void add_schema(counter *c, const cJSON *fmt)
{
    /* chat: {type, json_schema: {name, schema}}; responses: {type, name,
     * schema} */
    const char *type = oab__json_str(fmt, "type");
    if (!type || strcmp(type, "json_schema") != 0)
        return;
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(fmt, "json_schema");
    if (!cJSON_IsObject(js))
        js = fmt;
    add_text(c, oab__json_str(js, "name"));
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(js, "schema");
    if (!schema || c->st != OAB_OK)
        return;
    char *text = oab__json_print(schema);
    if (!text) {
        c->st = OAB_ENOMEM;
        return;
    }
    add_text(c, text);
    free(text);
}

/* ---- the endpoints ---- */

static int is_o200k(const oab_tokenizer *t)
{
    return strcmp(oab_tokenizer_encoding(t), "o200k_base") == 0;
}

/* *out = body[key] as a count >= 0; 0 when absent, -1 when bad. */
static int get_limit(const cJSON *body, const char *key,
                     unsigned long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e15)
        return -1;
    *out = (unsigned long long)v->valuedouble;
    return 1;
}

static oab_status output_bound(counter *c, oab_request_tokens *out,
                               const cJSON *body, const char *const *keys,
                               unsigned long long dflt, int has_dflt)
{
    unsigned long long max = dflt, n = 1;
    int got = has_dflt;
    for (; *keys && got != 2; keys++) {
        int r = get_limit(body, *keys, &max);
        if (r < 0)
            return bad(c, *keys, "not a count");
        if (r > 0)
            got = 2;
    }
    if (get_limit(body, "n", &n) < 0)
        return bad(c, "n", "not a count");
    out->output_bounded = got != 0;
    out->output_max = got ? max * (n ? n : 1) : 0;
    return OAB_OK;
}

static oab_status count_chat(counter *c, oab_request_tokens *out,
                             const cJSON *body)
{
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(body, "messages");
    if (!cJSON_IsArray(msgs))
        return bad(c, "messages", "not an array");
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs)
    {
        if (!cJSON_IsObject(m))
            return bad(c, "messages", "an item is not an object");
        add_message(c, m);
    }
    c->n += REPLY_PRIMING;
    add_tools(c, cJSON_GetObjectItemCaseSensitive(body, "tools"), is_o200k(c->t));
    add_tools(c, cJSON_GetObjectItemCaseSensitive(body, "functions"),
              is_o200k(c->t));
    add_schema(c, cJSON_GetObjectItemCaseSensitive(body, "response_format"));
    static const char *const keys[] = { "max_completion_tokens", "max_tokens",
                                        NULL };
    out->exact = 0;
    return c->st != OAB_OK ? c->st : output_bound(c, out, body, keys, 0, 0);
}

/* A responses input item: a message (role, content) or a function call
 * or its output. */
static void add_item(counter *c, const cJSON *it)
{
    const char *type = oab__json_str(it, "type");
    if (type && !strcmp(type, "function_call")) {
        add_text(c, oab__json_str(it, "name"));
        add_text(c, oab__json_str(it, "arguments"));
    } else if (type && !strcmp(type, "function_call_output")) {
        add_text(c, oab__json_str(it, "output"));
    } else {
        c->n += PER_MESSAGE;
        add_text(c, oab__json_str(it, "role"));
        add_content(c, cJSON_GetObjectItemCaseSensitive(it, "content"));
    }
}

static oab_status count_responses(counter *c, oab_request_tokens *out,
                                  const cJSON *body)
{
    const char *instr = oab__json_str(body, "instructions");
    if (instr) {
        c->n += PER_MESSAGE;
        add_text(c, "system");
        add_text(c, instr);
    }
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(body, "input");
    if (cJSON_IsString(input)) {
        c->n += PER_MESSAGE;
        add_text(c, "user");
        add_text(c, input->valuestring);
    } else if (cJSON_IsArray(input)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, input)
        {
            if (!cJSON_IsObject(it))
                return bad(c, "input", "an item is not an object");
            add_item(c, it);
        }
    } else {
        return bad(c, "input", "not a string or an array");
    }
    c->n += REPLY_PRIMING;
    add_tools(c, cJSON_GetObjectItemCaseSensitive(body, "tools"), is_o200k(c->t));
    add_schema(c, oab__json_path(body, "text.format"));
    static const char *const keys[] = { "max_output_tokens", NULL };
    out->exact = 0;
    return c->st != OAB_OK ? c->st : output_bound(c, out, body, keys, 0, 0);
}

/* A string, an array of strings, an array of token ids, or an array of
 * such arrays (embeddings input, completions prompt). */
static oab_status add_inputs(counter *c, const cJSON *in, const char *field)
{
    if (cJSON_IsString(in)) {
        add_text(c, in->valuestring);
        return c->st;
    }
    if (!cJSON_IsArray(in))
        return bad(c, field, "not a string or an array");
    const cJSON *e;
    cJSON_ArrayForEach(e, in)
    {
        if (cJSON_IsString(e)) {
            add_text(c, e->valuestring);
        } else if (cJSON_IsNumber(e)) {
            c->n++;
        } else if (cJSON_IsArray(e)) {
            const cJSON *id;
            cJSON_ArrayForEach(id, e)
            {
                if (!cJSON_IsNumber(id))
                    return bad(c, field, "a token array holds a non-number");
                c->n++;
            }
        } else {
            return bad(c, field, "an item is not a string or token ids");
        }
    }
    return c->st;
}

/* The counts of a parsed body. */
static oab_status count_body(oab_request_tokens *out, const oab_tokenizer *t,
                             const char *url, const cJSON *b, oab_error *err)
{
    memset(out, 0, sizeof *out);
    counter c = { t, 0, err, OAB_OK };
    oab_status st;
    if (!cJSON_IsObject(b)) {
        st = oab__err(err, OAB_EINVAL, 0, "body: not an object");
    } else if (!strcmp(url, "/v1/chat/completions")) {
        st = count_chat(&c, out, b);
    } else if (!strcmp(url, "/v1/responses")) {
        st = count_responses(&c, out, b);
    } else if (!strcmp(url, "/v1/embeddings")) {
        st = add_inputs(&c, cJSON_GetObjectItemCaseSensitive(b, "input"),
                        "input");
        out->output_bounded = 1;
        out->exact = 1;
    } else if (!strcmp(url, "/v1/completions")) {
        st = add_inputs(&c, cJSON_GetObjectItemCaseSensitive(b, "prompt"),
                        "prompt");
        static const char *const keys[] = { "max_tokens", NULL };
        if (st == OAB_OK)
            st = output_bound(&c, out, b, keys, COMPLETIONS_DEFAULT_MAX, 1);
        out->exact = 1;
    } else {
        st = oab__err(err, OAB_EINVAL, 0, "url '%s': not an endpoint with "
                      "token rules", url);
    }
    if (st == OAB_ENOMEM)
        oab__err(err, st, 0, "out of memory");
    if (st != OAB_OK) {
        memset(out, 0, sizeof *out);
        return st;
    }
    out->input = c.n;
    return OAB_OK;
}

/* Parses JSON text; the error names `what`. */
static oab_status parse(cJSON **out, const char *text, size_t len,
                        const char *what, oab_error *err)
{
    oab_status st = oab__json_parse_st(out, text, len);
    if (st != OAB_OK)
        return oab__err(err, st, 0, "%s%s", what,
                        st == OAB_ENOMEM ? "out of memory" : "not JSON");
    return OAB_OK;
}

oab_status oab_request_tokens_body(oab_request_tokens *out,
                                   const oab_tokenizer *t, const char *url,
                                   const char *body, size_t len,
                                   oab_error *err)
{
    if (!out || !t || !url || !body)
        return oab__err(err, OAB_EINVAL, 0, "a NULL argument");
    memset(out, 0, sizeof *out);
    cJSON *b = NULL;
    oab_status st = parse(&b, body, len, "body: ", err);
    if (st != OAB_OK)
        return st;
    st = count_body(out, t, url, b, err);
    cJSON_Delete(b);
    return st;
}

oab_status oab_request_tokens_line(oab_request_tokens *out, char **model_out,
                                   oab_tokenizers *set, const char *line,
                                   size_t len, const char *fallback_encoding,
                                   oab_error *err)
{
    if (model_out)
        *model_out = NULL;
    if (!out || !set || !line)
        return oab__err(err, OAB_EINVAL, 0, "a NULL argument");
    memset(out, 0, sizeof *out);
    cJSON *j = NULL;
    oab_status st = parse(&j, line, len, "", err);
    if (st != OAB_OK)
        return st;
    const char *url = oab__json_str(j, "url");
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(j, "body");
    const char *model = oab__json_str(body, "model");
    const char *enc = NULL;
    const oab_tokenizer *t = NULL;
    if (!url || !cJSON_IsObject(body) || !model)
        st = oab__err(err, OAB_EINVAL, 0, "%s: missing",
                      !url ? "url" : !cJSON_IsObject(body) ? "body"
                                                           : "body.model");
    if (st == OAB_OK)
        st = oab_encoding_for_model(&enc, model, fallback_encoding, err);
    if (st == OAB_OK)
        st = oab_tokenizers_get(&t, set, enc, err);
    if (st == OAB_OK)
        st = count_body(out, t, url, body, err);
    if (st == OAB_OK && model_out &&
        !(*model_out = oab__strdup(oab__model_name(model))))
        st = oab__err(err, OAB_ENOMEM, 0, "out of memory");
    cJSON_Delete(j);
    return st;
}
