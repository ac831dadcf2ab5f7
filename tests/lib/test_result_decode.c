/* test_result_decode.c - decoding single output/error lines (no I/O in
 * the decoder): every status, the conveniences of chat, responses and
 * embeddings, structured output in the three modes, malformed lines, and
 * the expectation a request body carries (oab__expect_from_body). */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "core/expect.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/jdoc.h"
#include "util/json.h"
#include "util/str.h"
#include "testutil.h"

#include <math.h>

#define WEATHER                                                           \
    "{\"type\":\"object\",\"properties\":{\"location\":{\"type\":"       \
    "\"string\"},\"temperature\":{\"type\":\"number\"},\"condition\":{"  \
    "\"type\":\"string\"},\"humidity\":{\"type\":\"integer\"}},"         \
    "\"required\":[\"location\",\"temperature\",\"condition\","          \
    "\"humidity\"],\"additionalProperties\":false}"

static char *lines[64];
static long n_lines;

/* Loads a fixture file's lines (the last one may lack its newline). */
static void load(const char *name)
{
    for (long i = 0; i < n_lines; i++)
        free(lines[i]);
    n_lines = 0;
    const char *dir = getenv("OAB_TESTS");
    char *path = oab__sprintf("%s/lib/fixtures/results/%s", dir ? dir : "tests",
                              name);
    char *data = NULL;
    size_t len = 0;
    if (oab__read_file(path, &data, &len) != OAB_OK) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    free(path);
    char *p = data, *end = data + len;
    while (p < end && n_lines < 64) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lines[n_lines++] = oab__strndup(p, n);
        p += n + 1;
    }
    free(data);
}

/* The decoded line whose custom_id is cid (searching the loaded file). */
static oab_result *parse_id(const char *cid, const oab_expect *ex)
{
    for (long i = 0; i < n_lines; i++) {
        oab_result *r = NULL;
        if (oab_result_parse(&r, lines[i], strlen(lines[i]), i + 1, ex) !=
            OAB_OK)
            return NULL;
        if (r->custom_id && strcmp(r->custom_id, cid) == 0)
            return r;
        oab_result_free(r);
    }
    fprintf(stderr, "no line for %s\n", cid);
    return NULL;
}

static void test_plain_and_tools(void)
{
    load("output.jsonl");
    oab_result *r = parse_id("plain-1", NULL);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_EQ_INT(r->status, OAB_RESULT_SUCCEEDED);
    CHECK_STR(r->line_id, "batch_req_002");
    CHECK_STR(r->request_id, "req_002");
    CHECK_EQ_INT(r->status_code, 200);
    CHECK_STR(r->output, "Hello! How can I help you today?");
    CHECK_STR(r->finish_reason, "stop");
    CHECK(r->refusal == NULL);
    CHECK_EQ_INT(r->n_tool_calls, 0);
    CHECK_EQ_INT(r->has_usage, 1);
    CHECK_EQ_INT(r->usage.prompt_tokens, 19);
    CHECK_EQ_INT(r->usage.completion_tokens, 10);
    CHECK_EQ_INT(r->usage.total_tokens, 29);
    CHECK_EQ_INT(r->usage.cached_tokens, 4);
    CHECK_EQ_INT(r->usage.reasoning_tokens, 2);
    CHECK_EQ_INT(r->source_line, 2);
    CHECK_EQ_INT(r->output_mode, OAB_OUTPUT_NONE);
    CHECK(r->body_json && strncmp(r->body_json, "{\"id\":\"chatcmpl-", 16) == 0);
    /* the body is the raw text: it parses and holds the choices */
    cJSON *body = r->body_json ? cJSON_Parse(r->body_json) : NULL;
    CHECK(body && cJSON_GetObjectItem(body, "choices"));
    cJSON_Delete(body);
    CHECK(r->error_code == NULL && r->error_message == NULL);
    oab_result_free(r);

    r = parse_id("tools-1", NULL);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_EQ_INT(r->status, OAB_RESULT_SUCCEEDED);
    CHECK(r->output == NULL);
    CHECK_STR(r->finish_reason, "tool_calls");
    CHECK_EQ_INT(r->n_tool_calls, 2);
    if (r->n_tool_calls == 2) {
        CHECK_STR(r->tool_calls[0].id, "call_a");
        CHECK_STR(r->tool_calls[0].name, "get_weather");
        CHECK_STR(r->tool_calls[0].arguments, "{\"city\": \"Paris\"}");
        CHECK_EQ_INT(r->tool_calls[0].arguments_valid, 1);
        CHECK_STR(r->tool_calls[1].id, "call_b");
        CHECK_STR(r->tool_calls[1].arguments, "{\"city\": \"Tok");
        CHECK_EQ_INT(r->tool_calls[1].arguments_valid, 0);
    }
    oab_result_free(r);

    r = parse_id("refusal-1", NULL);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_EQ_INT(r->status, OAB_RESULT_SUCCEEDED);
    CHECK_STR(r->refusal, "I'm sorry, I can't help with that.");
    CHECK(r->output == NULL);
    oab_result_free(r);
}

static void test_errors(void)
{
    load("errors.jsonl");
    oab_result *r = parse_id("http-400", NULL);
    CHECK(r != NULL);
    if (r) {
        CHECK_EQ_INT(r->status, OAB_RESULT_HTTP_ERROR);
        CHECK_EQ_INT(r->status_code, 400);
        CHECK_STR(r->request_id, "req_e1");
        CHECK_STR(r->error_code, "integer_above_max_value");
        CHECK_STR(r->error_message,
                  "Invalid 'max_tokens': integer above maximum value.");
        CHECK(r->body_json && strstr(r->body_json, "\"param\":\"max_tokens\""));
        CHECK(r->output == NULL);
    }
    oab_result_free(r);

    r = parse_id("error-1", NULL);
    CHECK(r != NULL);
    if (r) {
        CHECK_EQ_INT(r->status, OAB_RESULT_ERROR);
        CHECK_EQ_INT(r->status_code, 0);
        CHECK(r->body_json == NULL);
        CHECK_STR(r->error_code, "server_error");
        CHECK_STR(r->error_message,
                  "The server had an error while processing your request.");
    }
    oab_result_free(r);

    r = parse_id("expired-1", NULL);
    CHECK(r && r->status == OAB_RESULT_EXPIRED);
    CHECK(r && r->error_code && strcmp(r->error_code, "batch_expired") == 0);
    oab_result_free(r);
    r = parse_id("cancelled-1", NULL);
    CHECK(r && r->status == OAB_RESULT_CANCELLED);
    CHECK(r && r->error_message && strstr(r->error_message, "cancelled"));
    oab_result_free(r);

    /* an http error whose body has no error object still counts */
    const char *l = "{\"id\":\"x\",\"custom_id\":\"c\",\"response\":{"
                    "\"status_code\":503,\"body\":\"Service Unavailable\"},"
                    "\"error\":null}";
    CHECK_OK(oab_result_parse(&r, l, strlen(l), 7, NULL));
    CHECK(r && r->status == OAB_RESULT_HTTP_ERROR && r->status_code == 503);
    CHECK(r && r->body_json && strcmp(r->body_json, "\"Service Unavailable\"") == 0);
    oab_result_free(r);
    /* neither response nor error */
    l = "{\"id\":\"x\",\"custom_id\":\"c\",\"response\":null,\"error\":null}";
    CHECK_OK(oab_result_parse(&r, l, strlen(l), 1, NULL));
    CHECK(r && r->status == OAB_RESULT_ERROR);
    CHECK(r && r->error_code && strcmp(r->error_code, "no_response") == 0);
    oab_result_free(r);
}

static void test_malformed(void)
{
    load("output.jsonl");
    oab_result *r = NULL;
    /* line 12: not JSON, custom_id recovered */
    CHECK_OK(oab_result_parse(&r, lines[11], strlen(lines[11]), 12, NULL));
    CHECK(r != NULL);
    if (r) {
        CHECK_EQ_INT(r->status, OAB_RESULT_MALFORMED);
        CHECK_STR(r->custom_id, "broken-1");
        CHECK_STR(r->error_code, "invalid_json");
        CHECK(r->error_message && strstr(r->error_message, "line 12"));
        CHECK_EQ_INT(r->source_line, 12);
    }
    oab_result_free(r);
    /* line 13: cut off (the file ends without a newline) */
    CHECK_OK(oab_result_parse(&r, lines[12], strlen(lines[12]), 13, NULL));
    if (r) {
        CHECK_EQ_INT(r->status, OAB_RESULT_MALFORMED);
        CHECK_STR(r->custom_id, "cut-1");
        CHECK_STR(r->error_code, "truncated_line");
        CHECK(r->error_message && strstr(r->error_message, "line 13"));
    }
    oab_result_free(r);
    /* plain garbage, an array, an empty line, a cut custom_id */
    const char *bad[] = {"hello", "[1,2]", "", "{\"custom_id\":\"abc"};
    const char *codes[] = {"invalid_json", "not_an_object", "truncated_line",
                           "truncated_line"};
    for (int i = 0; i < 4; i++) {
        CHECK_OK(oab_result_parse(&r, bad[i], strlen(bad[i]), 3, NULL));
        CHECK(r && r->status == OAB_RESULT_MALFORMED);
        CHECK(r && r->custom_id == NULL);
        CHECK_STR(r ? r->error_code : NULL, codes[i]);
        oab_result_free(r);
    }
    /* escapes in a recovered custom_id */
    const char *esc = "{\"custom_id\" : \"a\\\"b\\u00e9\", \"response\": nope}";
    CHECK_OK(oab_result_parse(&r, esc, strlen(esc), 1, NULL));
    CHECK_STR(r ? r->custom_id : NULL, "a\"b\xc3\xa9");
    oab_result_free(r);
    CHECK_EQ_INT(oab_result_parse(NULL, "{}", 2, 1, NULL), OAB_EINVAL);
}

static void test_structured(void)
{
    oab_schema *s = NULL, *t = NULL;
    oab_error err;
    CHECK_OK(oab_schema_new(&s, "WeatherResult", NULL, WEATHER, 0, &err));
    CHECK_OK(oab_schema_new(&t, "final_result", NULL, WEATHER, 0, &err));
    if (!s || !t)
        return;
    oab_expect native = {s, OAB_OUTPUT_NATIVE};
    oab_expect tool = {t, OAB_OUTPUT_TOOL};
    oab_expect prompted = {s, OAB_OUTPUT_PROMPTED};
    load("output.jsonl");

    oab_result *r = parse_id("native-ok", &native);
    CHECK(r && r->status == OAB_RESULT_SUCCEEDED);
    CHECK(r && r->output_mode == OAB_OUTPUT_NATIVE);
    CHECK_STR(r ? r->parsed_json : NULL,
              "{\"location\":\"Paris\",\"temperature\":18.5,\"condition\":"
              "\"cloudy\",\"humidity\":70}");
    CHECK(r && r->invalid_reason == NULL);
    oab_result_free(r);

    r = parse_id("native-bad", &native);
    CHECK(r && r->status == OAB_RESULT_INVALID_OUTPUT);
    CHECK_STR(r ? r->invalid_reason : NULL,
              "/humidity: expected integer, got string");
    CHECK(r && r->parsed_json && strstr(r->parsed_json, "\"high\""));
    oab_result_free(r);

    r = parse_id("native-refused", &native);
    CHECK(r && r->status == OAB_RESULT_INVALID_OUTPUT);
    CHECK_STR(r ? r->invalid_reason : NULL,
              "the model refused: I can't share that.");
    CHECK(r && r->parsed_json == NULL);
    oab_result_free(r);

    r = parse_id("tool-ok", &tool);
    CHECK(r && r->status == OAB_RESULT_SUCCEEDED);
    CHECK(r && r->output_mode == OAB_OUTPUT_TOOL);
    CHECK_STR(r ? r->parsed_json : NULL,
              "{\"location\":\"Berlin\",\"temperature\":12,\"condition\":"
              "\"rain\",\"humidity\":88}");
    oab_result_free(r);

    r = parse_id("tool-bad", &tool);
    CHECK(r && r->status == OAB_RESULT_INVALID_OUTPUT);
    CHECK(r && r->invalid_reason && strstr(r->invalid_reason, "temperature"));
    oab_result_free(r);

    r = parse_id("tool-none", &tool);
    CHECK(r && r->status == OAB_RESULT_INVALID_OUTPUT);
    CHECK_STR(r ? r->invalid_reason : NULL,
              "no call of the tool \"final_result\" in the answer");
    oab_result_free(r);

    r = parse_id("prompted-ok", &prompted);
    CHECK(r && r->status == OAB_RESULT_SUCCEEDED);
    CHECK(r && r->output_mode == OAB_OUTPUT_PROMPTED);
    CHECK_STR(r ? r->parsed_json : NULL,
              "{\"location\":\"Miami\",\"temperature\":30.5,\"condition\":"
              "\"humid\",\"humidity\":90}");
    oab_result_free(r);

    r = parse_id("prompted-bad", &prompted);
    CHECK(r && r->status == OAB_RESULT_INVALID_OUTPUT);
    CHECK_STR(r ? r->invalid_reason : NULL,
              "/temperature: expected number, got string");
    oab_result_free(r);

    /* native expects strict JSON: the fenced answer is not */
    r = parse_id("prompted-ok", &native);
    CHECK(r && r->status == OAB_RESULT_INVALID_OUTPUT);
    CHECK_STR(r ? r->invalid_reason : NULL, "the output is not valid JSON");
    oab_result_free(r);

    /* failures stay failures whatever is expected */
    load("errors.jsonl");
    r = parse_id("http-400", &native);
    CHECK(r && r->status == OAB_RESULT_HTTP_ERROR && !r->invalid_reason);
    CHECK(r && r->output_mode == OAB_OUTPUT_NATIVE);
    oab_result_free(r);

    /* responses: a function call in tool mode; a cut-off text */
    load("responses.jsonl");
    r = parse_id("r-call", &tool);
    CHECK(r && r->status == OAB_RESULT_SUCCEEDED);
    CHECK(r && r->parsed_json && strstr(r->parsed_json, "\"Paris\""));
    oab_result_free(r);
    r = parse_id("r-incomplete", &native);
    CHECK(r && r->status == OAB_RESULT_INVALID_OUTPUT);
    CHECK_STR(r ? r->invalid_reason : NULL,
              "the output is not valid JSON (cut off: finish_reason length)");
    oab_result_free(r);
    oab_schema_free(s);
    oab_schema_free(t);
}

static void test_responses_embeddings(void)
{
    load("responses.jsonl");
    oab_result *r = parse_id("r-text", NULL);
    CHECK(r && r->status == OAB_RESULT_SUCCEEDED);
    CHECK_STR(r ? r->output : NULL, "Paris is mild today.");
    CHECK_STR(r ? r->finish_reason : NULL, "completed");
    CHECK(r && r->has_usage && r->usage.prompt_tokens == 36 &&
          r->usage.completion_tokens == 87 && r->usage.total_tokens == 123 &&
          r->usage.cached_tokens == 8 && r->usage.reasoning_tokens == 64);
    oab_result_free(r);
    r = parse_id("r-call", NULL);
    CHECK(r && r->n_tool_calls == 1);
    if (r && r->n_tool_calls == 1) {
        CHECK_STR(r->tool_calls[0].id, "call_r1");
        CHECK_STR(r->tool_calls[0].name, "final_result");
        CHECK_EQ_INT(r->tool_calls[0].arguments_valid, 1);
    }
    CHECK(r && r->output == NULL);
    oab_result_free(r);
    r = parse_id("r-refusal", NULL);
    CHECK_STR(r ? r->refusal : NULL, "I can't help with that.");
    oab_result_free(r);
    r = parse_id("r-incomplete", NULL);
    CHECK_STR(r ? r->finish_reason : NULL, "max_output_tokens");
    oab_result_free(r);

    load("embeddings.jsonl");
    r = parse_id("e-float", NULL);
    CHECK(r && r->n_embeddings == 2 && r->dimensions == 3);
    if (r && r->n_embeddings == 2 && r->dimensions == 3) {
        CHECK(fabs(r->embeddings[0] - 0.1) < 1e-12);
        CHECK(fabs(r->embeddings[2] - 0.3) < 1e-12);
        CHECK(fabs(r->embeddings[3] - 0.001) < 1e-12);
        CHECK(fabs(r->embeddings[4] - 25.0) < 1e-12);
        CHECK(r->embeddings[5] == 0.0);
    }
    CHECK(r && r->has_usage && r->usage.prompt_tokens == 8 &&
          r->usage.total_tokens == 8);
    oab_result_free(r);
    r = parse_id("e-b64", NULL);
    CHECK(r && r->n_embeddings == 1 && r->dimensions == 3);
    if (r && r->dimensions == 3) {
        CHECK(r->embeddings[0] == 0.5);
        CHECK(r->embeddings[1] == -1.25);
        CHECK(r->embeddings[2] == 2.0);
    }
    oab_result_free(r);
}

/* The expectation a request body carries, per the builder's contract. */
static void test_expect_from_body(void)
{
    load("input.jsonl");
    struct {
        const char *cid;
        oab_output_mode mode;
        const char *tool;
    } cases[] = {{"plain-1", OAB_OUTPUT_NONE, NULL},
                 {"tools-1", OAB_OUTPUT_NONE, NULL},
                 {"native-ok", OAB_OUTPUT_NATIVE, NULL},
                 {"tool-ok", OAB_OUTPUT_TOOL, "final_result"},
                 {"prompted-ok", OAB_OUTPUT_PROMPTED, NULL}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        cJSON *line = NULL;
        for (long i = 0; i < n_lines && !line; i++) {
            cJSON *j = cJSON_Parse(lines[i]);
            if (j && strcmp(oab__json_str(j, "custom_id"), cases[k].cid) == 0)
                line = j;
            else
                cJSON_Delete(j);
        }
        CHECK(line != NULL);
        oab_output_mode mode = OAB_OUTPUT_NATIVE;
        const char *tool = "x";
        cJSON *s = oab__expect_from_body(cJSON_GetObjectItem(line, "body"),
                                         &mode, &tool);
        CHECK_EQ_INT(mode, cases[k].mode);
        CHECK_STR(tool, cases[k].tool);
        CHECK((s != NULL) == (cases[k].mode != OAB_OUTPUT_NONE));
        if (s)
            CHECK_STR(oab__json_str(cJSON_GetObjectItem(s, "properties") ?
                                        cJSON_GetObjectItem(s, "properties")->child
                                        : NULL,
                                    "type"),
                      "string");
        cJSON_Delete(s);
        cJSON_Delete(line);
    }
    /* /v1/responses shapes */
    const char *bodies[] = {
        "{\"model\":\"m\",\"input\":\"x\",\"text\":{\"format\":{\"type\":"
        "\"json_schema\",\"name\":\"W\",\"schema\":" WEATHER "}}}",
        "{\"model\":\"m\",\"input\":\"x\",\"tools\":[{\"type\":\"function\","
        "\"name\":\"other\",\"parameters\":{}},{\"type\":\"function\",\"name\":"
        "\"final_result\",\"parameters\":" WEATHER "}],\"tool_choice\":{"
        "\"type\":\"function\",\"name\":\"final_result\"}}",
        NULL, /* prompted instructions, built below */
        "{\"model\":\"m\",\"response_format\":{\"type\":\"json_object\"}}",
        "{\"model\":\"m\",\"tool_choice\":{\"type\":\"function\",\"function\":"
        "{\"name\":\"nope\"}},\"tools\":[]}",
    };
    oab_output_mode want[] = {OAB_OUTPUT_NATIVE, OAB_OUTPUT_TOOL,
                              OAB_OUTPUT_PROMPTED, OAB_OUTPUT_NONE,
                              OAB_OUTPUT_NONE};
    for (int k = 0; k < 5; k++) {
        cJSON *b;
        if (bodies[k]) {
            b = cJSON_Parse(bodies[k]);
        } else {
            b = cJSON_CreateObject();
            char *ins = oab__sprintf("Be brief.\n\n%s%s%s", OAB__PROMPTED_PREFIX,
                                     WEATHER, OAB__PROMPTED_SUFFIX);
            cJSON_AddStringToObject(b, "instructions", ins);
            free(ins);
        }
        oab_output_mode mode;
        const char *tool = NULL;
        cJSON *s = oab__expect_from_body(b, &mode, &tool);
        CHECK_EQ_INT(mode, want[k]);
        if (want[k] != OAB_OUTPUT_NONE)
            CHECK(s && cJSON_GetObjectItem(s, "required"));
        if (want[k] == OAB_OUTPUT_TOOL)
            CHECK_STR(tool, "final_result");
        cJSON_Delete(s);
        cJSON_Delete(b);
    }
}

/* The contract with the request builder: what it writes, we find. */
static void test_builder_contract(void)
{
    oab_schema *s = NULL;
    oab_error err;
    CHECK_OK(oab_schema_new(&s, "WeatherResult", NULL, WEATHER, 1, &err));
    if (!s)
        return;
    oab_output_mode modes[] = {OAB_OUTPUT_NATIVE, OAB_OUTPUT_TOOL,
                               OAB_OUTPUT_PROMPTED};
    for (int api = 0; api < 2; api++) {
        for (int m = 0; m < 3; m++) {
            oab_request *req = NULL;
            if (api == 0) {
                oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
                o.model = "gpt-4o-mini";
                o.system_prompt = "You are a weather bot.";
                o.output_schema = s;
                o.output_mode = modes[m];
                CHECK_OK(oab_chat_request_new(&req, "c1", "Paris?", &o, &err));
            } else {
                oab_responses_options o = OAB_RESPONSES_OPTIONS_INIT;
                o.model = "gpt-4o-mini";
                o.instructions = "You are a weather bot.";
                o.output_schema = s;
                o.output_mode = modes[m];
                CHECK_OK(oab_responses_request_new(&req, "c1", "Paris?", &o,
                                                   &err));
            }
            char *line = NULL;
            if (!req || oab_request_to_json(req, &line) != OAB_OK) {
                CHECK(0);
                oab_request_free(req);
                continue;
            }
            cJSON *j = cJSON_Parse(line);
            oab_output_mode got = OAB_OUTPUT_NONE;
            const char *tool = NULL;
            cJSON *found = oab__expect_from_body(
                cJSON_GetObjectItem(j, "body"), &got, &tool);
            CHECK_EQ_INT(got, modes[m]);
            if (got != modes[m])
                fprintf(stderr, "  api %d mode %d: %s\n", api, m, line);
            if (modes[m] == OAB_OUTPUT_TOOL)
                CHECK_STR(tool, oab_schema_name(s));
            char *txt = oab__json_print(found);
            CHECK_STR(txt, oab_schema_json(s));
            free(txt);
            cJSON_Delete(found);
            cJSON_Delete(j);
            free(line);
            oab_request_free(req);
        }
    }
    oab_schema_free(s);
}

/* The small JSON reader the decoder uses: validation and values. */
static void test_reader(void)
{
    oab__jdoc d = OAB__JDOC_INIT;
    const char *good[] = {"{}", "[]", " {\"a\" : [1, -2.5e+3, true, false, null]} ",
                          "\"x\\u00e9\\ud83d\\ude00\"", "0", "-0.0E1",
                          "{\"k\\u0041\":1}"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CHECK_OK(oab__jdoc_parse(&d, good[i], strlen(good[i])));
    const char *bad[] = {"", "{", "{\"a\":}", "[1,]", "01", "1.", "-",
                         "\"\\x\"", "\"a\tb\"", "tru", "nul", "{\"a\" 1}",
                         "[1 2]", "{} x", "\"\\u12g4\"", "{,}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        oab_status st = oab__jdoc_parse(&d, bad[i], strlen(bad[i]));
        CHECK_EQ_INT(st, OAB_EJSON);
        if (st != OAB_EJSON)
            fprintf(stderr, "  accepted: %s\n", bad[i]);
    }
    /* long strings: the 8-byte scan finds quotes, escapes and controls */
    oab__buf b = OAB__BUF_INIT;
    oab__buf_puts(&b, "{\"s\":\"");
    for (int i = 0; i < 100; i++)
        oab__buf_puts(&b, "abcdefg\xc3\xa9\\n");
    oab__buf_puts(&b, "\"}");
    CHECK_OK(oab__jdoc_parse(&d, b.data, b.len));
    char *s = oab__jstr_dup(&d, oab__jget(&d, oab__jroot(&d), "s"), NULL);
    CHECK(s && strlen(s) == 1000 && s[9] == '\n');
    free(s);
    b.data[30] = '\x01';
    CHECK_EQ_INT(oab__jdoc_parse(&d, b.data, b.len), OAB_EJSON);
    oab__buf_free(&b);
    CHECK_OK(oab__jdoc_parse(&d, good[3], strlen(good[3])));
    s = oab__jstr_dup(&d, oab__jroot(&d), NULL);
    CHECK_STR(s, "x\xc3\xa9\xf0\x9f\x98\x80");
    free(s);
    CHECK_OK(oab__jdoc_parse(&d, good[6], strlen(good[6])));
    CHECK(oab__jget(&d, oab__jroot(&d), "kA") != NULL);
    /* nesting is bounded */
    char deep[2100];
    memset(deep, '[', 1050);
    memset(deep + 1050, ']', 1050);
    CHECK_EQ_INT(oab__jdoc_parse(&d, deep, 2100), OAB_EJSON);
    oab__jdoc_free(&d);
}

/* Every prefix of every fixture line: never a crash, and a cut-off line
 * is reported as truncated, with its custom_id once that is complete. */
static void test_every_prefix(void)
{
    const char *files[] = {"output.jsonl", "errors.jsonl", "responses.jsonl",
                           "embeddings.jsonl"};
    long bad = 0, checked = 0;
    for (int f = 0; f < 4; f++) {
        load(files[f]);
        for (long i = 0; i < n_lines; i++) {
            size_t full = strlen(lines[i]);
            oab_result *whole = NULL;
            if (oab_result_parse(&whole, lines[i], full, i + 1, NULL) != OAB_OK)
                bad++;
            int whole_ok = whole && whole->status != OAB_RESULT_MALFORMED;
            for (size_t k = 0; k < full; k++) {
                oab_result *r = NULL;
                /* a copy of exactly k bytes, so ASan sees any overread */
                char *cut = oab__strndup(lines[i], k);
                if (oab_result_parse(&r, cut, k, 1, NULL) != OAB_OK || !r) {
                    bad++;
                } else if (whole_ok) {
                    checked++;
                    if (r->status != OAB_RESULT_MALFORMED ||
                        !r->error_code ||
                        strcmp(r->error_code, "truncated_line") != 0)
                        bad++;
                    /* a recovered custom_id is never a wrong one */
                    if (r->custom_id && strcmp(r->custom_id, whole->custom_id))
                        bad++;
                }
                oab_result_free(r);
                free(cut);
            }
            oab_result_free(whole);
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(checked > 5000);
}

/* Random one- and two-byte changes to fixture lines: never a crash, and
 * whatever the reader accepts, cJSON accepts too (valid JSON). */
static void test_mutations(void)
{
    load("output.jsonl");
    unsigned seed = 12345;
    const char alphabet[] = "{}[]\":,\\ 0123456789.eE+-tfnul\x01\x7f\xc3";
    long disagree = 0, accepted = 0;
    oab__jdoc d = OAB__JDOC_INIT;
    for (int round = 0; round < 20000; round++) {
        long li = (long)(seed % 11); /* the 11 well-formed lines */
        seed = seed * 1103515245u + 12345u;
        size_t len = strlen(lines[li]);
        char *m = oab__strndup(lines[li], len);
        for (int k = 0; k < 1 + round % 2; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            m[at] = alphabet[(seed >> 8) % (sizeof alphabet - 1)];
        }
        oab_result *r = NULL;
        CHECK_OK(oab_result_parse(&r, m, len, 1, NULL));
        oab_result_free(r);
        if (oab__jdoc_parse(&d, m, len) == OAB_OK) {
            accepted++;
            cJSON *j = cJSON_ParseWithLength(m, len);
            if (!j) {
                disagree++;
                fprintf(stderr, "  accepted, cJSON did not: %s\n", m);
            }
            cJSON_Delete(j);
        }
        free(m);
    }
    oab__jdoc_free(&d);
    CHECK_EQ_INT(disagree, 0);
    CHECK(accepted > 100);
}

int main(void)
{
    test_reader();
    test_mutations();
    test_every_prefix();
    test_plain_and_tools();
    test_errors();
    test_malformed();
    test_structured();
    test_responses_embeddings();
    test_expect_from_body();
    test_builder_contract();
    for (long i = 0; i < n_lines; i++)
        free(lines[i]);
    return t_summary("test_result_decode");
}
