/* test_server_testmodel.c - the built-in test model of `oaibatch serve`:
 * every generated instance is checked with the library's JSON Schema
 * validator, for schemas as given and after the strict rewrite, and the
 * answers of the three structured-output modes are checked the same way. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "core/expect.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/str.h"
#include "testmodel.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static const char *const SCHEMAS[] = {
    "{\"type\":\"string\"}",
    "{\"type\":\"integer\",\"minimum\":10,\"maximum\":20}",
    "{\"type\":\"number\",\"exclusiveMinimum\":5,\"multipleOf\":0.5}",
    "{\"type\":\"integer\",\"exclusiveMaximum\":0}",
    "{\"type\":\"boolean\"}",
    "{\"type\":\"null\"}",
    "{\"enum\":[\"red\",\"green\"]}",
    "{\"const\":{\"a\":[1,2]}}",
    "{\"type\":[\"string\",\"null\"],\"minLength\":12}",
    "{\"type\":\"string\",\"maxLength\":2}",
    "{\"type\":\"string\",\"format\":\"date-time\"}",
    "{\"type\":\"string\",\"format\":\"date\"}",
    "{\"type\":\"string\",\"format\":\"time\"}",
    "{\"type\":\"string\",\"format\":\"email\"}",
    "{\"type\":\"string\",\"format\":\"uuid\"}",
    "{\"type\":\"string\",\"format\":\"ipv4\"}",
    "{\"type\":\"string\",\"format\":\"ipv6\"}",
    "{\"type\":\"string\",\"format\":\"hostname\"}",
    "{\"type\":\"string\",\"pattern\":\"^[A-Z]{2}-[0-9]{4}$\"}",
    "{\"type\":\"string\",\"pattern\":\"^\\\\d+$\"}",
    "{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":3,"
    "\"uniqueItems\":true}",
    "{\"type\":\"array\",\"prefixItems\":[{\"type\":\"string\"},"
    "{\"type\":\"boolean\"}],\"items\":false}",
    "{\"type\":\"array\",\"maxItems\":0}",
    "{\"anyOf\":[{\"type\":\"null\"},{\"type\":\"object\",\"properties\":"
    "{\"x\":{\"type\":\"integer\"}},\"required\":[\"x\"]}]}",
    "{\"oneOf\":[{\"type\":\"string\",\"maxLength\":3},{\"type\":\"integer\"}]}",
    "{\"allOf\":[{\"type\":\"object\",\"properties\":{\"a\":{\"type\":"
    "\"string\"}},\"required\":[\"a\"]},{\"properties\":{\"b\":{\"type\":"
    "\"integer\"}},\"required\":[\"b\"]}]}",
    "{\"type\":\"object\",\"properties\":{\"user\":{\"$ref\":\"#/$defs/User\"},"
    "\"friends\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/User\"},"
    "\"minItems\":2}},\"required\":[\"user\",\"friends\"],"
    "\"additionalProperties\":false,\"$defs\":{\"User\":{\"type\":\"object\","
    "\"properties\":{\"name\":{\"type\":\"string\",\"minLength\":3},\"age\":"
    "{\"type\":\"integer\",\"minimum\":0},\"email\":{\"type\":\"string\","
    "\"format\":\"email\"}},\"required\":[\"name\",\"age\"],"
    "\"additionalProperties\":false}}}",
    "{\"type\":\"object\",\"properties\":{\"tree\":{\"$ref\":\"#/$defs/Node\"}},"
    "\"$defs\":{\"Node\":{\"type\":\"object\",\"properties\":{\"v\":{\"type\":"
    "\"integer\"},\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/$defs/Node\"}}},\"required\":[\"v\"]}}}",
    "{\"type\":\"object\",\"required\":[\"free\"],\"additionalProperties\":"
    "{\"type\":\"integer\"}}",
    "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},"
    "\"temp\":{\"type\":\"number\"},\"unit\":{\"enum\":[\"C\",\"F\"]},"
    "\"when\":{\"type\":\"string\",\"format\":\"date-time\"},\"tags\":"
    "{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},"
    "\"required\":[\"city\"]}",
    NULL};

static void check_schema(const char *text, int strict)
{
    oab_schema *sc = NULL;
    oab_error err;
    oab_status st = oab_schema_new(&sc, "t", NULL, text, strict, &err);
    if (strict && st == OAB_ESCHEMA)
        return; /* not every schema can be made strict */
    CHECK_OK(st);
    if (st != OAB_OK) {
        fprintf(stderr, "  schema: %s (%s)\n", text, err.message);
        return;
    }
    cJSON *schema = cJSON_Parse(oab_schema_json(sc));
    cJSON *inst = srv_tm_instance(schema, schema);
    char *json = cJSON_PrintUnformatted(inst);
    st = oab_schema_validate(sc, json, strlen(json), &err);
    CHECK_OK(st);
    if (st != OAB_OK)
        fprintf(stderr, "  schema%s: %s\n  instance: %s\n  problem: %s\n",
                strict ? " (strict)" : "", oab_schema_json(sc), json,
                err.message);
    /* deterministic */
    cJSON *again = srv_tm_instance(schema, schema);
    char *json2 = cJSON_PrintUnformatted(again);
    CHECK_STR(json2, json);
    free(json);
    free(json2);
    cJSON_Delete(inst);
    cJSON_Delete(again);
    cJSON_Delete(schema);
    oab_schema_free(sc);
}

/* The answer of the model to a chat body, as text (new). */
static char *chat_answer(const char *body_json, int *status)
{
    cJSON *body = cJSON_Parse(body_json);
    cJSON *ans = srv_tm_answer("/v1/chat/completions", body, status);
    const cJSON *msg = oab__json_path(ans, "choices");
    msg = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(msg, 0),
                                           "message");
    const char *content = oab__json_str(msg, "content");
    char *out = NULL;
    if (content) {
        out = oab__strdup(content);
    } else {
        const cJSON *call = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(msg, "tool_calls"), 0);
        out = oab__strdup(oab__json_path(call, "function.arguments")
                              ? oab__json_path(call, "function.arguments")
                                    ->valuestring
                              : NULL);
    }
    cJSON_Delete(ans);
    cJSON_Delete(body);
    return out;
}

static void check_modes(void)
{
    const char *schema = SCHEMAS[26];
    oab_schema *sc = NULL;
    CHECK_OK(oab_schema_new(&sc, "t", NULL, schema, 1, NULL));
    oab__buf b = OAB__BUF_INIT;
    int status = 0;
    oab_error err;
    /* native */
    oab__buf_printf(&b, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
                        "\"content\":\"hi\"}],\"response_format\":{\"type\":"
                        "\"json_schema\",\"json_schema\":{\"name\":\"t\","
                        "\"strict\":true,\"schema\":%s}}}",
                    oab_schema_json(sc));
    char *a = chat_answer(b.data, &status);
    CHECK_EQ_INT(status, 200);
    CHECK(a && oab_schema_validate(sc, a, strlen(a), &err) == OAB_OK);
    free(a);
    /* tool, forced */
    oab__buf_clear(&b);
    oab__buf_printf(&b, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
                        "\"content\":\"hi\"}],\"tools\":[{\"type\":"
                        "\"function\",\"function\":{\"name\":\"t\","
                        "\"parameters\":%s}}],\"tool_choice\":{\"type\":"
                        "\"function\",\"function\":{\"name\":\"t\"}}}",
                    oab_schema_json(sc));
    a = chat_answer(b.data, &status);
    CHECK(a && oab_schema_validate(sc, a, strlen(a), &err) == OAB_OK);
    free(a);
    /* prompted: the schema in a system message, as the library writes it */
    oab__buf_clear(&b);
    oab__buf p = OAB__BUF_INIT;
    oab__buf_puts(&p, OAB__PROMPTED_PREFIX);
    oab__buf_puts(&p, oab_schema_json(sc));
    oab__buf_puts(&p, OAB__PROMPTED_SUFFIX);
    oab__buf_puts(&b, "{\"model\":\"m\",\"messages\":[{\"role\":\"system\","
                      "\"content\":");
    oab__buf_json_string(&b, p.data, p.len);
    oab__buf_puts(&b, "},{\"role\":\"user\",\"content\":\"hi\"}]}");
    a = chat_answer(b.data, &status);
    CHECK(a && oab_schema_validate(sc, a, strlen(a), &err) == OAB_OK);
    free(a);
    oab__buf_free(&p);
    oab__buf_free(&b);
    oab_schema_free(sc);
}

static void check_tool_followup(void)
{
    /* auto: a prompt about weather calls the tool; once the last message
     * is the tool's result, the model answers with text */
    const char *tools =
        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
        "\"get_weather\",\"description\":\"Get current weather.\","
        "\"parameters\":{\"type\":\"object\",\"properties\":{"
        "\"location\":{\"type\":\"string\"}},\"required\":["
        "\"location\"]}}}]";
    char *first = oab__sprintf(
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
        "\"What is the weather in Tokyo?\"}],%s}", tools);
    char *follow = oab__sprintf(
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
        "\"What is the weather in Tokyo?\"},{\"role\":\"assistant\","
        "\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":"
        "\"function\",\"function\":{\"name\":\"get_weather\","
        "\"arguments\":\"{}\"}}]},{\"role\":\"tool\",\"tool_call_id\":"
        "\"call_1\",\"content\":\"22C sunny\"}],%s}", tools);
    const char *texts[2] = {first, follow};
    for (int i = 0; i < 2; i++) {
        cJSON *body = cJSON_Parse(texts[i]);
        int status = 0;
        cJSON *ans = srv_tm_answer("/v1/chat/completions", body, &status);
        CHECK_EQ_INT(status, 200);
        const cJSON *msg = oab__json_path(
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ans, "choices"), 0),
            "message");
        int has_calls = cJSON_GetArraySize(
                            cJSON_GetObjectItemCaseSensitive(msg, "tool_calls")) > 0;
        CHECK_EQ_INT(has_calls, i == 0);
        if (i == 1)
            CHECK(oab__json_str(msg, "content") != NULL);
        cJSON_Delete(ans);
        cJSON_Delete(body);
    }
    free(first);
    free(follow);
}

int main(void)
{
    for (int i = 0; SCHEMAS[i]; i++) {
        check_schema(SCHEMAS[i], 0);
        check_schema(SCHEMAS[i], 1);
    }
    check_modes();
    check_tool_followup();
    return t_summary("test_server_testmodel");
}
