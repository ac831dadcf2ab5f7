/* testmodel.c - the built-in deterministic test model (`builtin:test`):
 * chat completions, responses and embeddings answered without a model.
 * Text answers derive from the prompt; structured outputs (native
 * json_schema, tool parameters, the prompted-mode schema in a system
 * message) get an instance generated to be valid for the schema;
 * embeddings are hash-seeded unit vectors. Usage counts words. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "core/expect.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/str.h"
#include "server.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <math.h>
#include <stdatomic.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* schema instances                                                   */
/* ---------------------------------------------------------------- */

static const cJSON *resolve_ref(const cJSON *root, const char *ref)
{
    if (!ref || ref[0] != '#')
        return NULL;
    const cJSON *cur = root;
    const char *p = ref + 1;
    while (*p == '/') {
        p++;
        char tok[256];
        size_t n = 0;
        while (*p && *p != '/' && n + 1 < sizeof tok) {
            if (p[0] == '~' && p[1] == '1') {
                tok[n++] = '/';
                p += 2;
            } else if (p[0] == '~' && p[1] == '0') {
                tok[n++] = '~';
                p += 2;
            } else {
                tok[n++] = *p++;
            }
        }
        tok[n] = '\0';
        if (cJSON_IsArray(cur))
            cur = cJSON_GetArrayItem(cur, atoi(tok));
        else
            cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
        if (!cur)
            return NULL;
    }
    return cur;
}

/* Past this depth the generator makes the smallest valid value (null when
 * allowed, only required properties, minItems items), so recursive
 * schemas end. */
#define MINIMAL_DEPTH 8

static const char *first_type(const cJSON *schema, int minimal)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(schema, "type");
    if (cJSON_IsString(t))
        return t->valuestring;
    if (cJSON_IsArray(t)) {
        const cJSON *x;
        if (minimal)
            cJSON_ArrayForEach(x, t)
                if (cJSON_IsString(x) && !strcmp(x->valuestring, "null"))
                    return "null";
        cJSON_ArrayForEach(x, t)
            if (cJSON_IsString(x) && strcmp(x->valuestring, "null") != 0)
                return x->valuestring;
        x = cJSON_GetArrayItem(t, 0);
        if (cJSON_IsString(x))
            return x->valuestring;
    }
    if (cJSON_GetObjectItemCaseSensitive(schema, "properties"))
        return "object";
    if (cJSON_GetObjectItemCaseSensitive(schema, "items") ||
        cJSON_GetObjectItemCaseSensitive(schema, "prefixItems"))
        return "array";
    return NULL;
}

/* A string for a "pattern": the first of some common shapes that the
 * regular expression (PCRE2, close to ECMA-262 for these) finds and that
 * fits the length limits; NULL when none does. Static storage. */
static const char *pattern_string(const char *pattern, long long minl,
                                  long long maxl)
{
    static const char *const cands[] = {
        "test", "a", "A", "0", "1", "abc", "ABC", "123", "a1", "A1",
        "abc123", "ABC123", "AB-1234", "test-1", "test_1", "2024-01-01",
        "12:00", "00:00:00", "+15550100", "+1-555-0100", "555-0100",
        "test@example.com", "https://example.com/", "example.com",
        "00000000-0000-4000-8000-000000000000", "#ffffff", "x", "aaaaaaaa",
        "Aa1!aaaa", NULL};
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF, &ec, &eo, NULL);
    if (!re)
        return NULL;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    const char *found = NULL;
    for (int i = 0; cands[i] && md; i++) {
        long long n = (long long)strlen(cands[i]);
        if (n < minl || (maxl >= 0 && n > maxl))
            continue;
        if (pcre2_match(re, (PCRE2_SPTR)cands[i], (PCRE2_SIZE)n, 0, 0, md,
                        NULL) >= 0) {
            found = cands[i];
            break;
        }
    }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return found;
}

static cJSON *gen_string(const cJSON *schema)
{
    const char *pattern = oab__json_str(schema, "pattern");
    if (pattern) {
        const char *p = pattern_string(
            pattern, oab__json_ll(schema, "minLength", 0),
            oab__json_ll(schema, "maxLength", -1));
        if (p)
            return cJSON_CreateString(p);
    }
    const char *fmt = oab__json_str(schema, "format");
    const char *v = "test";
    if (fmt) {
        if (!strcmp(fmt, "date-time"))
            v = "2024-01-01T00:00:00Z";
        else if (!strcmp(fmt, "date"))
            v = "2024-01-01";
        else if (!strcmp(fmt, "time"))
            v = "00:00:00Z";
        else if (!strcmp(fmt, "email") || !strcmp(fmt, "idn-email"))
            v = "test@example.com";
        else if (!strcmp(fmt, "uuid"))
            v = "00000000-0000-4000-8000-000000000000";
        else if (!strcmp(fmt, "uri") || !strcmp(fmt, "url") ||
                 !strcmp(fmt, "iri"))
            v = "https://example.com/";
        else if (!strcmp(fmt, "hostname") || !strcmp(fmt, "idn-hostname"))
            v = "example.com";
        else if (!strcmp(fmt, "ipv4"))
            v = "127.0.0.1";
        else if (!strcmp(fmt, "ipv6"))
            v = "::1";
        else if (!strcmp(fmt, "duration"))
            v = "P1D";
    }
    long long minl = oab__json_ll(schema, "minLength", 0);
    long long maxl = oab__json_ll(schema, "maxLength", -1);
    size_t len = strlen(v);
    if (fmt && minl <= (long long)len)
        return cJSON_CreateString(v);
    if ((long long)len < minl || (maxl >= 0 && (long long)len > maxl)) {
        long long n = minl > 0 ? minl : (maxl >= 0 && maxl < 4 ? maxl : 4);
        if (n > 100000)
            n = 100000;
        char *buf = malloc((size_t)n + 1);
        if (!buf)
            return cJSON_CreateString("");
        for (long long i = 0; i < n; i++)
            buf[i] = "test"[i % 4];
        buf[n] = '\0';
        cJSON *o = cJSON_CreateString(buf);
        free(buf);
        return o;
    }
    return cJSON_CreateString(v);
}

static cJSON *gen_number(const cJSON *schema, int integer)
{
    double lo = -1e300, hi = 1e300;
    const cJSON *x;
    if ((x = cJSON_GetObjectItemCaseSensitive(schema, "minimum")) &&
        cJSON_IsNumber(x))
        lo = x->valuedouble;
    if ((x = cJSON_GetObjectItemCaseSensitive(schema, "exclusiveMinimum")) &&
        cJSON_IsNumber(x))
        lo = x->valuedouble + (integer ? 1 : 0.5);
    if ((x = cJSON_GetObjectItemCaseSensitive(schema, "maximum")) &&
        cJSON_IsNumber(x))
        hi = x->valuedouble;
    if ((x = cJSON_GetObjectItemCaseSensitive(schema, "exclusiveMaximum")) &&
        cJSON_IsNumber(x))
        hi = x->valuedouble - (integer ? 1 : 0.5);
    double v = integer ? 1 : 1.5;
    if (v < lo)
        v = integer ? ceil(lo) : lo;
    if (v > hi)
        v = integer ? floor(hi) : hi;
    double mult = oab__json_num(schema, "multipleOf", 0);
    if (mult > 0) {
        double k = ceil(v / mult);
        if (k * mult > hi)
            k = floor(hi / mult);
        v = k * mult;
    }
    return cJSON_CreateNumber(v);
}

static cJSON *gen(const cJSON *schema, const cJSON *root, int depth);

static cJSON *gen_object(const cJSON *schema, const cJSON *root, int depth)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(schema, "required");
    const cJSON *p;
    cJSON_ArrayForEach(p, props) {
        if (depth >= MINIMAL_DEPTH) {
            /* only the required ones */
            int needed = 0;
            const cJSON *r;
            cJSON_ArrayForEach(r, req)
                if (cJSON_IsString(r) && !strcmp(r->valuestring, p->string))
                    needed = 1;
            if (!needed)
                continue;
        }
        cJSON_AddItemToObject(o, p->string, gen(p, root, depth + 1));
    }
    cJSON_ArrayForEach(p, req) {
        if (cJSON_IsString(p) &&
            !cJSON_GetObjectItemCaseSensitive(o, p->valuestring)) {
            const cJSON *ap = cJSON_GetObjectItemCaseSensitive(
                schema, "additionalProperties");
            cJSON_AddItemToObject(o, p->valuestring,
                                  cJSON_IsObject(ap) ? gen(ap, root, depth + 1)
                                                     : cJSON_CreateString("test"));
        }
    }
    return o;
}

static cJSON *gen_array(const cJSON *schema, const cJSON *root, int depth)
{
    cJSON *a = cJSON_CreateArray();
    const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(schema,
                                                           "prefixItems");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(schema, "items");
    long long minn = oab__json_ll(schema, "minItems", 0);
    long long maxn = oab__json_ll(schema, "maxItems", -1);
    long long n = minn > 1 || depth >= MINIMAL_DEPTH ? minn : 1;
    if (maxn >= 0 && n > maxn)
        n = maxn;
    if (n > 1000)
        n = 1000;
    int np = cJSON_GetArraySize(prefix);
    if (n < np)
        n = np;
    int unique = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(schema,
                                                               "uniqueItems"));
    for (long long i = 0; i < n; i++) {
        const cJSON *is = i < np ? cJSON_GetArrayItem(prefix, (int)i) : items;
        cJSON *v = is && cJSON_IsObject(is) ? gen(is, root, depth + 1)
                                            : cJSON_CreateString("test");
        if (unique && i > 0) {
            /* make items differ: numbers count up, strings get a suffix */
            if (cJSON_IsNumber(v))
                cJSON_SetNumberValue(v, v->valuedouble + (double)i);
            else if (cJSON_IsString(v)) {
                char *t = oab__sprintf("%s%lld", v->valuestring, i);
                cJSON_Delete(v);
                v = cJSON_CreateString(t);
                free(t);
            }
        }
        cJSON_AddItemToArray(a, v);
    }
    return a;
}

static cJSON *gen(const cJSON *schema, const cJSON *root, int depth)
{
    if (depth > 32 || !schema)
        return cJSON_CreateNull();
    if (cJSON_IsTrue(schema))
        return cJSON_CreateString("test");
    if (!cJSON_IsObject(schema))
        return cJSON_CreateNull();
    const char *ref = oab__json_str(schema, "$ref");
    if (ref) {
        const cJSON *t = resolve_ref(root, ref);
        return t ? gen(t, root, depth + 1) : cJSON_CreateNull();
    }
    const cJSON *x;
    if ((x = cJSON_GetObjectItemCaseSensitive(schema, "const")))
        return cJSON_Duplicate(x, 1);
    if ((x = cJSON_GetObjectItemCaseSensitive(schema, "enum")) &&
        cJSON_GetArraySize(x) > 0)
        return cJSON_Duplicate(cJSON_GetArrayItem(x, 0), 1);
    if (((x = cJSON_GetObjectItemCaseSensitive(schema, "anyOf")) ||
         (x = cJSON_GetObjectItemCaseSensitive(schema, "oneOf"))) &&
        cJSON_GetArraySize(x) > 0) {
        /* the first branch that is not just null (deep down: the null
         * branch, if there is one) */
        const cJSON *br, *pick = NULL;
        int minimal = depth >= MINIMAL_DEPTH;
        cJSON_ArrayForEach(br, x) {
            const char *t = oab__json_str(br, "type");
            int is_null = t && !strcmp(t, "null");
            if (is_null == minimal) {
                pick = br;
                break;
            }
        }
        if (!pick)
            pick = cJSON_GetArrayItem(x, 0);
        return gen(pick, root, depth + 1);
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(schema, "allOf")) &&
        cJSON_GetArraySize(x) > 0) {
        cJSON *merged = NULL;
        const cJSON *br;
        cJSON_ArrayForEach(br, x) {
            cJSON *v = gen(br, root, depth + 1);
            if (!merged) {
                merged = v;
            } else if (cJSON_IsObject(merged) && cJSON_IsObject(v)) {
                while (v->child) {
                    cJSON *c = cJSON_DetachItemViaPointer(v, v->child);
                    cJSON_DeleteItemFromObjectCaseSensitive(merged, c->string);
                    cJSON_AddItemToObject(merged, c->string, c);
                }
                cJSON_Delete(v);
            } else {
                cJSON_Delete(v);
            }
        }
        if (cJSON_GetObjectItemCaseSensitive(schema, "properties") &&
            cJSON_IsObject(merged)) {
            cJSON *own = gen_object(schema, root, depth);
            while (own->child) {
                cJSON *c = cJSON_DetachItemViaPointer(own, own->child);
                cJSON_DeleteItemFromObjectCaseSensitive(merged, c->string);
                cJSON_AddItemToObject(merged, c->string, c);
            }
            cJSON_Delete(own);
        }
        return merged;
    }
    const char *type = first_type(schema, depth >= MINIMAL_DEPTH);
    if (!type)
        return cJSON_CreateString("test");
    if (!strcmp(type, "object"))
        return gen_object(schema, root, depth);
    if (!strcmp(type, "array"))
        return gen_array(schema, root, depth);
    if (!strcmp(type, "string"))
        return gen_string(schema);
    if (!strcmp(type, "integer"))
        return gen_number(schema, 1);
    if (!strcmp(type, "number"))
        return gen_number(schema, 0);
    if (!strcmp(type, "boolean"))
        return cJSON_CreateTrue();
    return cJSON_CreateNull();
}

cJSON *srv_tm_instance(const cJSON *schema, const cJSON *root)
{
    return gen(schema, root ? root : schema, 0);
}

/* ---------------------------------------------------------------- */
/* text helpers                                                       */
/* ---------------------------------------------------------------- */

static long count_words(const char *s)
{
    long n = 0;
    int in = 0;
    for (; s && *s; s++) {
        int w = !isspace((unsigned char)*s);
        if (w && !in)
            n++;
        in = w;
    }
    return n;
}

/* Appends the text of a message content (string or parts). */
static void content_text(const cJSON *content, oab__buf *out)
{
    if (cJSON_IsString(content)) {
        oab__buf_puts(out, content->valuestring);
        return;
    }
    const cJSON *part;
    cJSON_ArrayForEach(part, content) {
        const char *t = oab__json_str(part, "text");
        if (t) {
            if (out->len)
                oab__buf_putc(out, ' ');
            oab__buf_puts(out, t);
        }
    }
}

static unsigned long long fnv(const char *s, size_t n)
{
    unsigned long long h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* The deterministic text answer for a prompt. */
static char *text_answer(const char *prompt)
{
    oab__buf b = OAB__BUF_INIT;
    oab__buf_puts(&b, "Test answer to: ");
    /* the first 12 words of the prompt */
    int words = 0, in = 0;
    const char *p = prompt ? prompt : "";
    const char *start = NULL;
    for (; *p && words < 12; p++) {
        int w = !isspace((unsigned char)*p);
        if (w && !in)
            start = p;
        if (!w && in) {
            if (words)
                oab__buf_putc(&b, ' ');
            oab__buf_append(&b, start, (size_t)(p - start));
            words++;
        }
        in = w;
    }
    if (in && words < 12 && start) {
        if (words)
            oab__buf_putc(&b, ' ');
        oab__buf_append(&b, start, (size_t)(p - start));
    }
    return oab__buf_take(&b, NULL);
}

/* Finds the prompted-mode schema in a text; new cJSON or NULL. */
static cJSON *prompted_schema(const char *text)
{
    const char *a = text ? strstr(text, OAB__PROMPTED_PREFIX) : NULL;
    if (!a)
        return NULL;
    a += strlen(OAB__PROMPTED_PREFIX);
    const char *b = strstr(a, OAB__PROMPTED_SUFFIX);
    if (!b)
        return NULL;
    return cJSON_ParseWithLength(a, (size_t)(b - a));
}

static int word_in(const char *word, size_t n, const char *hay)
{
    if (n < 3 || !hay)
        return 0;
    size_t hl = strlen(hay);
    for (size_t i = 0; i + n <= hl; i++) {
        size_t k = 0;
        while (k < n && tolower((unsigned char)hay[i + k]) ==
                            tolower((unsigned char)word[k]))
            k++;
        if (k == n)
            return 1;
    }
    return 0;
}

/* Does a tool (name, description) relate to the prompt? Some word of 3+
 * letters of the name (split at _ - and case) or description appears in
 * the prompt. */
static int tool_relates(const char *name, const char *desc,
                        const char *prompt)
{
    const char *srcs[2] = {name, desc};
    for (int k = 0; k < 2; k++) {
        const char *s = srcs[k];
        if (!s)
            continue;
        const char *w = NULL;
        for (const char *p = s;; p++) {
            int alpha = *p && isalpha((unsigned char)*p) &&
                        !(w && isupper((unsigned char)*p) &&
                          islower((unsigned char)p[-1]));
            if (alpha && !w)
                w = p;
            else if (!alpha && w) {
                if (word_in(w, (size_t)(p - w), prompt))
                    return 1;
                w = isalpha((unsigned char)*p) ? p : NULL;
            }
            if (!*p)
                break;
        }
    }
    return 0;
}

typedef struct tool_ref {
    const char *name;
    const char *desc;
    const cJSON *params;
} tool_ref;

/* 1 when the last message (chat) or input item (responses) is a tool
 * result. */
static int last_turn_is_tool_result(const cJSON *body)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(body, "messages");
    if (!cJSON_IsArray(list))
        list = cJSON_GetObjectItemCaseSensitive(body, "input");
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
        return 0;
    const cJSON *last = cJSON_GetArrayItem(list, cJSON_GetArraySize(list) - 1);
    const char *role = oab__json_str(last, "role");
    const char *type = oab__json_str(last, "type");
    return (role && !strcmp(role, "tool")) ||
           (type && !strcmp(type, "function_call_output"));
}

/* Picks the tool to call (chat: tools[].function, responses: tools[]).
 * Returns 1 and fills *out, 0 for a text answer. */
static int pick_tool(const cJSON *body, int responses, const char *prompt,
                     tool_ref *out)
{
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(body, "tools");
    if (cJSON_GetArraySize(tools) == 0)
        return 0;
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(body, "tool_choice");
    const char *mode = cJSON_IsString(tc) ? tc->valuestring : "auto";
    const char *forced = NULL;
    if (cJSON_IsObject(tc)) {
        forced = oab__json_str(tc, "name");
        if (!forced)
            forced = oab__json_str(
                cJSON_GetObjectItemCaseSensitive(tc, "function"), "name");
        mode = "forced";
    }
    if (!strcmp(mode, "none"))
        return 0;
    /* with tool_choice auto, a conversation whose last turn is a tool
     * result gets a text answer (as pydantic-ai's TestModel does), so a
     * follow-up request after answering tool calls ends the exchange */
    if (!strcmp(mode, "auto") && last_turn_is_tool_result(body))
        return 0;
    const cJSON *t;
    tool_ref first = {NULL, NULL, NULL};
    cJSON_ArrayForEach(t, tools) {
        const char *type = oab__json_str(t, "type");
        if (type && strcmp(type, "function") != 0)
            continue;
        const cJSON *f = responses ? t
                                   : cJSON_GetObjectItemCaseSensitive(
                                         t, "function");
        if (!f)
            f = t;
        tool_ref r = {oab__json_str(f, "name"), oab__json_str(f, "description"),
                      cJSON_GetObjectItemCaseSensitive(f, "parameters")};
        if (!r.name)
            continue;
        if (!first.name)
            first = r;
        if (forced) {
            if (!strcmp(forced, r.name)) {
                *out = r;
                return 1;
            }
            continue;
        }
        if (!strcmp(mode, "auto") && tool_relates(r.name, r.desc, prompt)) {
            *out = r;
            return 1;
        }
    }
    if (!strcmp(mode, "required") && first.name) {
        *out = first;
        return 1;
    }
    return 0;
}

static char *tool_args(const tool_ref *t)
{
    cJSON *inst = t->params ? srv_tm_instance(t->params, t->params)
                            : cJSON_CreateObject();
    char *s = cJSON_PrintUnformatted(inst);
    cJSON_Delete(inst);
    return s;
}

static const char *model_of(const cJSON *body)
{
    const char *m = oab__json_str(body, "model");
    return m ? m : "test";
}

/* ---------------------------------------------------------------- */
/* chat completions                                                   */
/* ---------------------------------------------------------------- */

/* Test knobs for re-asking (server/README.md): $OAB_TESTMODEL_INVALID_FIRST
 * = N spoils the process's first N structured chat answers (the JSON cut
 * in half, so it does not parse); $OAB_TESTMODEL_LENGTH_FIRST = M cuts
 * its first M plain text answers with finish_reason "length". Later
 * answers (a retry's) are whole. 1 when this answer is to be spoiled. */
static int spoil(atomic_long *count, const char *env)
{
    const char *v = getenv(env);
    long n = v && *v ? strtol(v, NULL, 10) : 0;
    return n > 0 && atomic_fetch_add(count, 1) < n;
}

static atomic_long spoiled_invalid, spoiled_length;

static cJSON *chat(const cJSON *body, int *status)
{
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(body, "messages");
    if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0) {
        *status = 400;
        return srv_error_body("Missing required parameter: 'messages'.",
                              "invalid_request_error", "messages",
                              "missing_required_parameter");
    }
    oab__buf all = OAB__BUF_INIT, last_user = OAB__BUF_INIT;
    cJSON *pschema = NULL;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs) {
        const char *role = oab__json_str(m, "role");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content");
        oab__buf t = OAB__BUF_INIT;
        content_text(c, &t);
        if (t.data) {
            if (all.len)
                oab__buf_putc(&all, ' ');
            oab__buf_puts(&all, t.data);
            if (role && (!strcmp(role, "system") || !strcmp(role, "developer"))
                && !pschema)
                pschema = prompted_schema(t.data);
            if (role && !strcmp(role, "user")) {
                oab__buf_clear(&last_user);
                oab__buf_puts(&last_user, t.data);
            }
        }
        oab__buf_free(&t);
    }
    const char *prompt = last_user.data ? last_user.data
                                        : (all.data ? all.data : "");
    cJSON *o = cJSON_CreateObject();
    char id[64];
    snprintf(id, sizeof id, "chatcmpl-%016llx",
             fnv(all.data ? all.data : "", all.len));
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "object", "chat.completion");
    cJSON_AddNumberToObject(o, "created", (double)oab__unix_now());
    cJSON_AddStringToObject(o, "model", model_of(body));
    cJSON *choices = cJSON_AddArrayToObject(o, "choices");
    cJSON *ch = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, ch);
    cJSON_AddNumberToObject(ch, "index", 0);
    cJSON *msg = cJSON_AddObjectToObject(ch, "message");
    cJSON_AddStringToObject(msg, "role", "assistant");
    char *content = NULL;
    tool_ref tool;
    long out_words = 0;
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(body,
                                                       "response_format");
    const char *rft = oab__json_str(rf, "type");
    if (pick_tool(body, 0, prompt, &tool)) {
        cJSON_AddNullToObject(msg, "content");
        cJSON_AddNullToObject(msg, "refusal");
        cJSON *calls = cJSON_AddArrayToObject(msg, "tool_calls");
        cJSON *call = cJSON_CreateObject();
        cJSON_AddItemToArray(calls, call);
        char cid[48];
        snprintf(cid, sizeof cid, "call_%016llx",
                 fnv(tool.name, strlen(tool.name)) ^ fnv(prompt, strlen(prompt)));
        cJSON_AddStringToObject(call, "id", cid);
        cJSON_AddStringToObject(call, "type", "function");
        cJSON *fn = cJSON_AddObjectToObject(call, "function");
        cJSON_AddStringToObject(fn, "name", tool.name);
        char *args = tool_args(&tool);
        cJSON_AddStringToObject(fn, "arguments", args ? args : "{}");
        out_words = count_words(args) + 1;
        free(args);
        cJSON_AddStringToObject(ch, "finish_reason", "tool_calls");
    } else {
        if (rft && !strcmp(rft, "json_schema")) {
            const cJSON *js = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(rf, "json_schema"), "schema");
            cJSON *inst = srv_tm_instance(js, js);
            content = cJSON_PrintUnformatted(inst);
            cJSON_Delete(inst);
        } else if (pschema) {
            cJSON *inst = srv_tm_instance(pschema, pschema);
            content = cJSON_PrintUnformatted(inst);
            cJSON_Delete(inst);
        } else if (rft && !strcmp(rft, "json_object")) {
            cJSON *inst = cJSON_CreateObject();
            char *t = text_answer(prompt);
            cJSON_AddStringToObject(inst, "answer", t);
            free(t);
            content = cJSON_PrintUnformatted(inst);
            cJSON_Delete(inst);
        } else {
            content = text_answer(prompt);
        }
        int structured = (rft && !strcmp(rft, "json_schema")) || pschema;
        const char *finish = "stop";
        if (content && structured &&
            spoil(&spoiled_invalid, "OAB_TESTMODEL_INVALID_FIRST")) {
            content[strlen(content) / 2] = '\0';
        } else if (content && !structured && !rft &&
                   spoil(&spoiled_length, "OAB_TESTMODEL_LENGTH_FIRST")) {
            content[strlen(content) / 2] = '\0';
            finish = "length";
        }
        cJSON_AddStringToObject(msg, "content", content ? content : "");
        cJSON_AddNullToObject(msg, "refusal");
        out_words = count_words(content);
        cJSON_AddStringToObject(ch, "finish_reason", finish);
    }
    cJSON_AddNullToObject(ch, "logprobs");
    long in_words = count_words(all.data);
    if (in_words < 1)
        in_words = 1;
    if (out_words < 1)
        out_words = 1;
    cJSON *u = cJSON_AddObjectToObject(o, "usage");
    cJSON_AddNumberToObject(u, "prompt_tokens", (double)in_words);
    cJSON_AddNumberToObject(u, "completion_tokens", (double)out_words);
    cJSON_AddNumberToObject(u, "total_tokens", (double)(in_words + out_words));
    cJSON *d = cJSON_AddObjectToObject(u, "prompt_tokens_details");
    cJSON_AddNumberToObject(d, "cached_tokens", 0);
    d = cJSON_AddObjectToObject(u, "completion_tokens_details");
    cJSON_AddNumberToObject(d, "reasoning_tokens", 0);
    cJSON_AddStringToObject(o, "system_fingerprint", "fp_oaibatch_test");
    free(content);
    cJSON_Delete(pschema);
    oab__buf_free(&all);
    oab__buf_free(&last_user);
    *status = 200;
    return o;
}

/* ---------------------------------------------------------------- */
/* responses                                                          */
/* ---------------------------------------------------------------- */

static cJSON *responses(const cJSON *body, int *status)
{
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(body, "input");
    if (!input) {
        *status = 400;
        return srv_error_body("Missing required parameter: 'input'.",
                              "invalid_request_error", "input",
                              "missing_required_parameter");
    }
    oab__buf all = OAB__BUF_INIT, last_user = OAB__BUF_INIT;
    cJSON *pschema = NULL;
    const char *instr = oab__json_str(body, "instructions");
    if (instr) {
        oab__buf_puts(&all, instr);
        pschema = prompted_schema(instr);
    }
    if (cJSON_IsString(input)) {
        if (all.len)
            oab__buf_putc(&all, ' ');
        oab__buf_puts(&all, input->valuestring);
        oab__buf_puts(&last_user, input->valuestring);
    } else {
        const cJSON *m;
        cJSON_ArrayForEach(m, input) {
            const char *role = oab__json_str(m, "role");
            oab__buf t = OAB__BUF_INIT;
            content_text(cJSON_GetObjectItemCaseSensitive(m, "content"), &t);
            if (t.data) {
                if (all.len)
                    oab__buf_putc(&all, ' ');
                oab__buf_puts(&all, t.data);
                if (role && (!strcmp(role, "system") ||
                             !strcmp(role, "developer")) && !pschema)
                    pschema = prompted_schema(t.data);
                if (!role || !strcmp(role, "user")) {
                    oab__buf_clear(&last_user);
                    oab__buf_puts(&last_user, t.data);
                }
            }
            oab__buf_free(&t);
        }
    }
    const char *prompt = last_user.data ? last_user.data
                                        : (all.data ? all.data : "");
    unsigned long long h = fnv(all.data ? all.data : "", all.len);
    cJSON *o = cJSON_CreateObject();
    char id[64];
    snprintf(id, sizeof id, "resp_%016llx", h);
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "object", "response");
    cJSON_AddNumberToObject(o, "created_at", (double)oab__unix_now());
    cJSON_AddStringToObject(o, "status", "completed");
    cJSON_AddNullToObject(o, "error");
    cJSON_AddNullToObject(o, "incomplete_details");
    cJSON_AddStringToObject(o, "model", model_of(body));
    cJSON *output = cJSON_AddArrayToObject(o, "output");
    cJSON *item = cJSON_CreateObject();
    cJSON_AddItemToArray(output, item);
    tool_ref tool;
    long out_words = 0;
    char *text = NULL;
    if (pick_tool(body, 1, prompt, &tool)) {
        char fid[48];
        snprintf(fid, sizeof fid, "fc_%016llx", h);
        cJSON_AddStringToObject(item, "type", "function_call");
        cJSON_AddStringToObject(item, "id", fid);
        snprintf(fid, sizeof fid, "call_%016llx", h);
        cJSON_AddStringToObject(item, "call_id", fid);
        cJSON_AddStringToObject(item, "name", tool.name);
        char *args = tool_args(&tool);
        cJSON_AddStringToObject(item, "arguments", args ? args : "{}");
        out_words = count_words(args) + 1;
        free(args);
        cJSON_AddStringToObject(item, "status", "completed");
    } else {
        const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(body, "text"), "format");
        const char *ft = oab__json_str(fmt, "type");
        if (ft && !strcmp(ft, "json_schema")) {
            const cJSON *js = cJSON_GetObjectItemCaseSensitive(fmt, "schema");
            cJSON *inst = srv_tm_instance(js, js);
            text = cJSON_PrintUnformatted(inst);
            cJSON_Delete(inst);
        } else if (pschema) {
            cJSON *inst = srv_tm_instance(pschema, pschema);
            text = cJSON_PrintUnformatted(inst);
            cJSON_Delete(inst);
        } else {
            text = text_answer(prompt);
        }
        char mid[48];
        snprintf(mid, sizeof mid, "msg_%016llx", h);
        cJSON_AddStringToObject(item, "type", "message");
        cJSON_AddStringToObject(item, "id", mid);
        cJSON_AddStringToObject(item, "status", "completed");
        cJSON_AddStringToObject(item, "role", "assistant");
        cJSON *content = cJSON_AddArrayToObject(item, "content");
        cJSON *part = cJSON_CreateObject();
        cJSON_AddItemToArray(content, part);
        cJSON_AddStringToObject(part, "type", "output_text");
        cJSON_AddStringToObject(part, "text", text ? text : "");
        cJSON_AddArrayToObject(part, "annotations");
        out_words = count_words(text);
    }
    long in_words = count_words(all.data);
    if (in_words < 1)
        in_words = 1;
    if (out_words < 1)
        out_words = 1;
    cJSON *u = cJSON_AddObjectToObject(o, "usage");
    cJSON_AddNumberToObject(u, "input_tokens", (double)in_words);
    cJSON *d = cJSON_AddObjectToObject(u, "input_tokens_details");
    cJSON_AddNumberToObject(d, "cached_tokens", 0);
    cJSON_AddNumberToObject(u, "output_tokens", (double)out_words);
    d = cJSON_AddObjectToObject(u, "output_tokens_details");
    cJSON_AddNumberToObject(d, "reasoning_tokens", 0);
    cJSON_AddNumberToObject(u, "total_tokens", (double)(in_words + out_words));
    free(text);
    cJSON_Delete(pschema);
    oab__buf_free(&all);
    oab__buf_free(&last_user);
    *status = 200;
    return o;
}

/* ---------------------------------------------------------------- */
/* embeddings                                                         */
/* ---------------------------------------------------------------- */

static void b64(const unsigned char *p, size_t n, oab__buf *out)
{
    static const char al[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {al[(v >> 18) & 63], al[(v >> 12) & 63],
                     i + 1 < n ? al[(v >> 6) & 63] : '=',
                     i + 2 < n ? al[v & 63] : '='};
        oab__buf_append(out, q, 4);
    }
}

static cJSON *embedding_of(const char *text, size_t len, long dims,
                           int base64)
{
    float *v = malloc((size_t)dims * sizeof *v);
    if (!v)
        return cJSON_CreateNull();
    unsigned long long x = fnv(text, len) | 1;
    double norm = 0;
    for (long i = 0; i < dims; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        double u = (double)((x * 2685821657736338717ULL) >> 11) /
                       9007199254740992.0 * 2.0 - 1.0;
        v[i] = (float)u;
        norm += u * u;
    }
    norm = sqrt(norm);
    for (long i = 0; i < dims; i++)
        v[i] = (float)(v[i] / (norm > 0 ? norm : 1));
    cJSON *out;
    if (base64) {
        oab__buf b = OAB__BUF_INIT;
        b64((const unsigned char *)v, (size_t)dims * sizeof *v, &b);
        out = cJSON_CreateString(b.data ? b.data : "");
        oab__buf_free(&b);
    } else {
        /* printed here: cJSON's number printing is slow for thousands */
        oab__buf b = OAB__BUF_INIT;
        oab__buf_reserve(&b, (size_t)dims * 16 + 2);
        oab__buf_putc(&b, '[');
        for (long i = 0; i < dims; i++) {
            char num[32];
            int k = snprintf(num, sizeof num, "%s%.8g", i ? "," : "",
                             (double)v[i]);
            oab__buf_append(&b, num, (size_t)k);
        }
        oab__buf_putc(&b, ']');
        out = cJSON_CreateRaw(b.data);
        oab__buf_free(&b);
    }
    free(v);
    return out;
}

static cJSON *embeddings(const cJSON *body, int *status)
{
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(body, "input");
    if (!input || (!cJSON_IsString(input) && !cJSON_IsArray(input))) {
        *status = 400;
        return srv_error_body("Missing required parameter: 'input'.",
                              "invalid_request_error", "input",
                              "missing_required_parameter");
    }
    const char *model = model_of(body);
    long dims = strstr(model, "large") ? 3072 : 1536;
    if (strstr(model, "ada"))
        dims = 1536;
    long d = (long)oab__json_ll(body, "dimensions", 0);
    if (d > 0 && d <= 65536)
        dims = d;
    const char *enc = oab__json_str(body, "encoding_format");
    int base64 = enc && !strcmp(enc, "base64");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(o, "data");
    long words = 0;
    int idx = 0;
    /* a string, an array of strings, a token array, or arrays of them */
    int single = cJSON_IsString(input) ||
                 (cJSON_IsArray(input) &&
                  cJSON_IsNumber(cJSON_GetArrayItem(input, 0)));
    const cJSON *it = single ? input : input->child;
    for (; it; it = single ? NULL : it->next) {
        char *text;
        if (cJSON_IsString(it))
            text = oab__strdup(it->valuestring);
        else
            text = cJSON_PrintUnformatted(it);
        if (!text)
            continue;
        words += cJSON_IsString(it) ? count_words(text)
                                    : cJSON_GetArraySize(it);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "object", "embedding");
        cJSON_AddNumberToObject(e, "index", idx++);
        cJSON_AddItemToObject(e, "embedding",
                              embedding_of(text, strlen(text), dims, base64));
        cJSON_AddItemToArray(data, e);
        free(text);
    }
    if (words < 1)
        words = 1;
    cJSON_AddStringToObject(o, "model", model);
    cJSON *u = cJSON_AddObjectToObject(o, "usage");
    cJSON_AddNumberToObject(u, "prompt_tokens", (double)words);
    cJSON_AddNumberToObject(u, "total_tokens", (double)words);
    *status = 200;
    return o;
}

cJSON *srv_tm_answer(const char *url, const cJSON *body, int *status)
{
    if (!cJSON_IsObject(body)) {
        *status = 400;
        return srv_error_body("The body must be a JSON object.",
                              "invalid_request_error", NULL, "invalid_body");
    }
    if (!strcmp(url, "/v1/chat/completions"))
        return chat(body, status);
    if (!strcmp(url, "/v1/responses"))
        return responses(body, status);
    if (!strcmp(url, "/v1/embeddings"))
        return embeddings(body, status);
    if (!strcmp(url, "/v1/completions")) {
        /* legacy completions: one text choice */
        const char *prompt = oab__json_str(body, "prompt");
        char *t = text_answer(prompt ? prompt : "");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", "cmpl-test");
        cJSON_AddStringToObject(o, "object", "text_completion");
        cJSON_AddNumberToObject(o, "created", (double)oab__unix_now());
        cJSON_AddStringToObject(o, "model", model_of(body));
        cJSON *ch = cJSON_AddArrayToObject(o, "choices");
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "text", t);
        cJSON_AddNumberToObject(c, "index", 0);
        cJSON_AddStringToObject(c, "finish_reason", "stop");
        cJSON_AddItemToArray(ch, c);
        long in = count_words(prompt), out = count_words(t);
        cJSON *u = cJSON_AddObjectToObject(o, "usage");
        cJSON_AddNumberToObject(u, "prompt_tokens", (double)in);
        cJSON_AddNumberToObject(u, "completion_tokens", (double)out);
        cJSON_AddNumberToObject(u, "total_tokens", (double)(in + out));
        free(t);
        *status = 200;
        return o;
    }
    *status = 404;
    return srv_error_body("The built-in test model does not serve this URL.",
                          "invalid_request_error", NULL, "unknown_url");
}

void srv_usage_from_body(const cJSON *body, srv_usage *u)
{
    const cJSON *us = cJSON_GetObjectItemCaseSensitive(body, "usage");
    if (!us)
        return;
    if (cJSON_GetObjectItemCaseSensitive(us, "input_tokens")) {
        u->input_tokens += oab__json_ll(us, "input_tokens", 0);
        u->output_tokens += oab__json_ll(us, "output_tokens", 0);
        u->cached_tokens += oab__json_ll(
            cJSON_GetObjectItemCaseSensitive(us, "input_tokens_details"),
            "cached_tokens", 0);
        u->reasoning_tokens += oab__json_ll(
            cJSON_GetObjectItemCaseSensitive(us, "output_tokens_details"),
            "reasoning_tokens", 0);
    } else {
        u->input_tokens += oab__json_ll(us, "prompt_tokens", 0);
        u->output_tokens += oab__json_ll(us, "completion_tokens", 0);
        u->cached_tokens += oab__json_ll(
            cJSON_GetObjectItemCaseSensitive(us, "prompt_tokens_details"),
            "cached_tokens", 0);
        u->reasoning_tokens += oab__json_ll(
            cJSON_GetObjectItemCaseSensitive(us, "completion_tokens_details"),
            "reasoning_tokens", 0);
    }
}
