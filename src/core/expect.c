/* expect.c - what a request body expects of its answer: the structured-
 * output mode and schema (native response_format / text.format, a forced
 * function tool, or the prompted system text), and model names. The
 * request builder writes these shapes; the result decoder and the
 * built-in test model read them back here. No I/O. */

#include "oaibatch.h"
#include "core/expect.h"
#include "util/json.h"
#include <stdlib.h>
#include <string.h>

const char *oab__model_name(const char *model)
{
    if (!model)
        return NULL;
    const char *colon = strchr(model, ':');
    if (colon && strncmp(model, "openai:", 7) == 0)
        return colon + 1;
    return model;
}

/* ---- what a request expects (contract with the request builder) ---- */

/* A copy of the schema s, or NULL when s is not a schema or (with *oom
 * set) when memory ran out. */
static cJSON *dup_schema(const cJSON *s, int *oom)
{
    if (!cJSON_IsObject(s) && !cJSON_IsBool(s))
        return NULL;
    cJSON *c = cJSON_Duplicate(s, 1);
    if (!c)
        *oom = 1;
    return c;
}

static const cJSON *find_tool(const cJSON *tools, const char *name,
                              int chat)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, tools)
    {
        const char *n = chat ? oab__json_str(
                                   cJSON_GetObjectItemCaseSensitive(t, "function"),
                                   "name")
                             : oab__json_str(t, "name");
        if (n && strcmp(n, name) == 0)
            return t;
    }
    return NULL;
}

static cJSON *prompted_schema(const char *text, int *oom)
{
    if (!text)
        return NULL;
    const char *p = strstr(text, OAB__PROMPTED_PREFIX);
    if (!p)
        return NULL;
    p += strlen(OAB__PROMPTED_PREFIX);
    const char *e = strstr(p, OAB__PROMPTED_SUFFIX);
    size_t n = e ? (size_t)(e - p) : strlen(p);
    cJSON *s = NULL;
    if (oab__json_parse_st(&s, p, n) == OAB_ENOMEM)
        *oom = 1;
    if (s && !cJSON_IsObject(s) && !cJSON_IsBool(s)) {
        cJSON_Delete(s);
        s = NULL;
    }
    return s;
}

static cJSON *expect_from_body(const cJSON *body, oab_output_mode *mode,
                               const char **tool_name, int *oom)
{
    oab_output_mode m_dummy;
    const char *n_dummy;
    if (!mode)
        mode = &m_dummy;
    if (!tool_name)
        tool_name = &n_dummy;
    *mode = OAB_OUTPUT_NONE;
    *tool_name = NULL;
    if (!cJSON_IsObject(body))
        return NULL;
    cJSON *s;
    /* native */
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(body, "response_format");
    const char *rft = oab__json_str(rf, "type");
    if (rft && strcmp(rft, "json_schema") == 0 &&
        (s = dup_schema(oab__json_path(rf, "json_schema.schema"), oom))) {
        *mode = OAB_OUTPUT_NATIVE;
        return s;
    }
    const cJSON *tf = oab__json_path(body, "text.format");
    const char *tft = oab__json_str(tf, "type");
    if (tft && strcmp(tft, "json_schema") == 0 &&
        (s = dup_schema(cJSON_GetObjectItemCaseSensitive(tf, "schema"),
                        oom))) {
        *mode = OAB_OUTPUT_NATIVE;
        return s;
    }
    /* tool */
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(body, "tool_choice");
    const char *tct = oab__json_str(tc, "type");
    if (tct && strcmp(tct, "function") == 0) {
        const char *fname = oab__json_path(tc, "function.name") &&
                                    cJSON_IsString(oab__json_path(tc, "function.name"))
                                ? oab__json_path(tc, "function.name")->valuestring
                                : NULL;
        int chat = fname != NULL;
        if (!fname)
            fname = oab__json_str(tc, "name");
        const cJSON *tools = cJSON_GetObjectItemCaseSensitive(body, "tools");
        const cJSON *tool = fname ? find_tool(tools, fname, chat) : NULL;
        if (!tool && fname) /* the other shape, to be lenient */
            tool = find_tool(tools, fname, !chat);
        if (tool) {
            const cJSON *params =
                cJSON_GetObjectItemCaseSensitive(tool, "parameters");
            if (!params)
                params = oab__json_path(tool, "function.parameters");
            s = params ? dup_schema(params, oom)
                       : cJSON_Parse("{\"type\":\"object\",\"properties\":{}}");
            if (!params && !s)
                *oom = 1;
            if (s) {
                *mode = OAB_OUTPUT_TOOL;
                *tool_name = fname;
                return s;
            }
        }
    }
    /* prompted: a system or developer message of a chat body, or of a
     * responses body's input list */
    const cJSON *msg;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(body, "messages");
    if (!cJSON_IsArray(list))
        list = cJSON_GetObjectItemCaseSensitive(body, "input");
    if (!cJSON_IsArray(list))
        list = NULL;
    cJSON_ArrayForEach(msg, list)
    {
        const char *role = oab__json_str(msg, "role");
        if (!role || (strcmp(role, "system") != 0 &&
                      strcmp(role, "developer") != 0))
            continue;
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
        s = NULL;
        if (cJSON_IsString(content)) {
            s = prompted_schema(content->valuestring, oom);
        } else if (cJSON_IsArray(content)) {
            const cJSON *part;
            cJSON_ArrayForEach(part, content)
            {
                if ((s = prompted_schema(oab__json_str(part, "text"), oom)))
                    break;
            }
        }
        if (s) {
            *mode = OAB_OUTPUT_PROMPTED;
            return s;
        }
    }
    if ((s = prompted_schema(oab__json_str(body, "instructions"), oom))) {
        *mode = OAB_OUTPUT_PROMPTED;
        return s;
    }
    return NULL;
}

cJSON *oab__expect_from_body(const cJSON *body, oab_output_mode *mode,
                             const char **tool_name)
{
    int oom = 0;
    return expect_from_body(body, mode, tool_name, &oom);
}

oab_status oab__expect_from_body_st(cJSON **out, const cJSON *body,
                                    oab_output_mode *mode,
                                    const char **tool_name)
{
    int oom = 0;
    *out = expect_from_body(body, mode, tool_name, &oom);
    if (oom) {
        /* a later candidate may have been found after a failed one: the
         * answer is not trustworthy */
        cJSON_Delete(*out);
        *out = NULL;
        if (mode)
            *mode = OAB_OUTPUT_NONE;
        if (tool_name)
            *tool_name = NULL;
        return OAB_ENOMEM;
    }
    return OAB_OK;
}
