/* Tests of the request builder: the exact line of every request in the
 * seed document (plain, tools, native, tool, prompted), responses and
 * embeddings lines, options, extra_body, escaping, numbers, errors. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "core/expect.h"
#include "util/buf.h"
#include "testutil.h"

#define PRE(id) "{\"custom_id\":\"" id "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":"

/* The seed's tools as pydantic-ai derives them from the functions
 * get_weather(ctx, location: str, units: str = "celsius") and
 * calculate(ctx, expression: str). */
#define WEATHER_PARAMS "{\"additionalProperties\":false,\"properties\":{\"location\":{\"type\":\"string\"},\"units\":{\"default\":\"celsius\",\"type\":\"string\"}},\"required\":[\"location\"],\"type\":\"object\"}"
#define CALC_PARAMS "{\"additionalProperties\":false,\"properties\":{\"expression\":{\"type\":\"string\"}},\"required\":[\"expression\"],\"type\":\"object\"}"
#define TOOLS_JSON                                                                         \
    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":" \
    "\"Get current weather information for a location.\",\"parameters\":" WEATHER_PARAMS   \
    "}},{\"type\":\"function\",\"function\":{\"name\":\"calculate\",\"description\":"     \
    "\"Perform mathematical calculations.\",\"parameters\":" CALC_PARAMS "}}]"

/* WeatherResult {location: str, temperature: float, condition: str,
 * humidity: int}, as given, and as sent after the strict rewrite. */
#define WEATHER_SCHEMA_IN "{\n  \"type\": \"object\",\n  \"properties\": {\n    \"location\": {\"type\": \"string\"},\n    \"temperature\": {\"type\": \"number\"},\n    \"condition\": {\"type\": \"string\"},\n    \"humidity\": {\"type\": \"integer\"}\n  },\n  \"required\": [\"location\", \"temperature\", \"condition\", \"humidity\"]\n}"
#define WEATHER_SCHEMA "{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\"},\"temperature\":{\"type\":\"number\"},\"condition\":{\"type\":\"string\"},\"humidity\":{\"type\":\"integer\"}},\"required\":[\"location\",\"temperature\",\"condition\",\"humidity\"],\"additionalProperties\":false}"
#define WEATHER_SCHEMA_ESC "{\\\"type\\\":\\\"object\\\",\\\"properties\\\":{\\\"location\\\":{\\\"type\\\":\\\"string\\\"},\\\"temperature\\\":{\\\"type\\\":\\\"number\\\"},\\\"condition\\\":{\\\"type\\\":\\\"string\\\"},\\\"humidity\\\":{\\\"type\\\":\\\"integer\\\"}},\\\"required\\\":[\\\"location\\\",\\\"temperature\\\",\\\"condition\\\",\\\"humidity\\\"],\\\"additionalProperties\\\":false}"
#define PROMPTED_SYSTEM "Always respond with a JSON object that's compatible with this schema:\\n\\n" WEATHER_SCHEMA_ESC "\\n\\nDon't include any text or Markdown fencing before or after."

static const oab_tool seed_tools[] = {
    {"get_weather", "Get current weather information for a location.",
     WEATHER_PARAMS, 0},
    {"calculate", "Perform mathematical calculations.",
     /* given pretty: sent compact */
     "{ \"additionalProperties\": false,\n \"properties\": {\"expression\": {\"type\": \"string\"}},\n \"required\": [\"expression\"], \"type\": \"object\" }",
     0},
};

/* Every line built must also pass the validator and parse as JSON. */
static oab__buf all_lines = OAB__BUF_INIT;

static void expect_line(oab_request *r, const char *want)
{
    CHECK(r != NULL);
    if (!r)
        return;
    char *got = NULL;
    CHECK_OK(oab_request_to_json(r, &got));
    CHECK_STR(got, want);
    if (got) {
        cJSON *j = cJSON_Parse(got);
        CHECK(j != NULL);
        cJSON_Delete(j);
        oab__buf_puts(&all_lines, got);
        oab__buf_putc(&all_lines, '\n');
    }
    oab_free(got);
}

/* The results side reads the expectation back from the body: the mode,
 * the schema as sent and (tool mode) the tool's name. */
static void expect_readback(oab_request *r, oab_output_mode mode,
                            const char *schema, const char *tool)
{
    char *line = NULL;
    if (!r || oab_request_to_json(r, &line) != OAB_OK)
        return;
    cJSON *j = cJSON_Parse(line);
    oab_output_mode got = OAB_OUTPUT_NONE;
    const char *name = NULL;
    cJSON *sch = oab__expect_from_body(cJSON_GetObjectItem(j, "body"), &got, &name);
    CHECK_EQ_INT(got, mode);
    char *text = sch ? cJSON_PrintUnformatted(sch) : NULL;
    CHECK_STR(text, schema);
    if (tool)
        CHECK_STR(name, tool);
    free(text);
    cJSON_Delete(sch);
    cJSON_Delete(j);
    oab_free(line);
}

static oab_request *chat(const char *id, const char *prompt,
                         const oab_chat_options *o)
{
    oab_request *r = NULL;
    oab_error err;
    oab_status st = oab_chat_request_new(&r, id, prompt, o, &err);
    CHECK_OK(st);
    if (st != OAB_OK)
        fprintf(stderr, "  %s: %s\n", id, err.message);
    return r;
}

static void test_seed_basic(void)
{
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    o.model = "gpt-4o-mini";
    o.max_tokens = 50;
    oab_request *r = chat("math-question", "What is 2+2?", &o);
    expect_line(r, PRE("math-question") "\"What is 2+2?\"}],\"max_tokens\":50}}");
    CHECK_STR(oab_request_custom_id(r), "math-question");
    CHECK_STR(oab_request_url(r), "/v1/chat/completions");
    CHECK_STR(oab_request_model(r), "gpt-4o-mini");
    CHECK_EQ_INT(oab_request_output_mode(r), OAB_OUTPUT_NONE);
    oab_request_free(r);

    o.max_tokens = 100;
    o.temperature = 0.8;
    r = chat("creative-writing", "Write a short poem about coding", &o);
    expect_line(r, PRE("creative-writing") "\"Write a short poem about coding\"}],\"max_tokens\":100,\"temperature\":0.8}}");
    oab_request_free(r);

    o = (oab_chat_options)OAB_CHAT_OPTIONS_INIT;
    o.model = "openai:gpt-4o-mini"; /* the provider prefix is dropped */
    o.max_tokens = 75;
    r = chat("explanation", "Explain quantum computing in one sentence", &o);
    expect_line(r, PRE("explanation") "\"Explain quantum computing in one sentence\"}],\"max_tokens\":75}}");
    oab_request_free(r);
}

static void test_seed_tools(void)
{
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    o.model = "gpt-4o-mini";
    o.tools = seed_tools;
    o.n_tools = 2;
    o.max_tokens = 150;
    oab_request *r = chat("weather-tokyo", "What's the weather like in Tokyo?", &o);
    expect_line(r, PRE("weather-tokyo") "\"What's the weather like in Tokyo?\"}],\"max_tokens\":150," TOOLS_JSON "}}");
    oab_request_free(r);
    o.max_tokens = 100;
    r = chat("calculation", "Calculate 15 * 23 + 7", &o);
    expect_line(r, PRE("calculation") "\"Calculate 15 * 23 + 7\"}],\"max_tokens\":100," TOOLS_JSON "}}");
    oab_request_free(r);
    o.max_tokens = 150;
    r = chat("weather-london", "Get weather for London, UK in fahrenheit", &o);
    expect_line(r, PRE("weather-london") "\"Get weather for London, UK in fahrenheit\"}],\"max_tokens\":150," TOOLS_JSON "}}");
    oab_request_free(r);
}

static void test_seed_structured(void)
{
    oab_error err;
    oab_schema *named = NULL, *plain = NULL;
    CHECK_OK(oab_schema_new(&named, "WeatherResult", NULL, WEATHER_SCHEMA_IN, 1, &err));
    CHECK_OK(oab_schema_new(&plain, NULL, NULL, WEATHER_SCHEMA_IN, 1, &err));
    if (!named || !plain) {
        oab_schema_free(named);
        oab_schema_free(plain);
        return;
    }
    CHECK_STR(oab_schema_json(named), WEATHER_SCHEMA);

    /* native (also the mode of a schema given without one) */
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    o.model = "gpt-4o-mini";
    o.max_tokens = 200;
    o.output_schema = named;
    o.output_mode = OAB_OUTPUT_NATIVE;
    const char *rf = ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"WeatherResult\",\"schema\":" WEATHER_SCHEMA ",\"strict\":true}}}}";
    oab_request *r = chat("structured-paris", "Get weather information for Paris and format it properly", &o);
    oab__buf want = OAB__BUF_INIT;
    oab__buf_printf(&want, "%s%s", PRE("structured-paris") "\"Get weather information for Paris and format it properly\"}],\"max_tokens\":200", rf);
    expect_line(r, want.data);
    CHECK_EQ_INT(oab_request_output_mode(r), OAB_OUTPUT_NATIVE);
    expect_readback(r, OAB_OUTPUT_NATIVE, WEATHER_SCHEMA, NULL);
    oab_request_free(r);
    o.output_mode = OAB_OUTPUT_NONE;
    r = chat("structured-tokyo", "Check weather in Tokyo and return structured data", &o);
    oab__buf_clear(&want);
    oab__buf_printf(&want, "%s%s", PRE("structured-tokyo") "\"Check weather in Tokyo and return structured data\"}],\"max_tokens\":200", rf);
    expect_line(r, want.data);
    CHECK_EQ_INT(oab_request_output_mode(r), OAB_OUTPUT_NATIVE);
    oab_request_free(r);

    /* tool */
    o.output_schema = plain;
    o.output_mode = OAB_OUTPUT_TOOL;
    const char *tool = ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"final_result\",\"description\":\"The final response which ends this conversation\",\"parameters\":" WEATHER_SCHEMA ",\"strict\":true}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"final_result\"}}}}";
    r = chat("tool-mode-1", "Analyze the weather in Berlin", &o);
    oab__buf_clear(&want);
    oab__buf_printf(&want, "%s%s", PRE("tool-mode-1") "\"Analyze the weather in Berlin\"}],\"max_tokens\":200", tool);
    expect_line(r, want.data);
    CHECK_EQ_INT(oab_request_output_mode(r), OAB_OUTPUT_TOOL);
    expect_readback(r, OAB_OUTPUT_TOOL, WEATHER_SCHEMA, "final_result");
    oab_request_free(r);
    r = chat("tool-mode-2", "Get weather data for Madrid", &o);
    oab__buf_clear(&want);
    oab__buf_printf(&want, "%s%s", PRE("tool-mode-2") "\"Get weather data for Madrid\"}],\"max_tokens\":200", tool);
    expect_line(r, want.data);
    oab_request_free(r);

    /* tool mode next to the caller's own tools: the output tool comes last */
    o.tools = seed_tools;
    o.n_tools = 2;
    o.tool_choice = OAB_TOOL_CHOICE_AUTO; /* the output tool is forced anyway */
    o.parallel_tool_calls = 0;
    r = chat("tool-mode-3", "Weather in Oslo?", &o);
    expect_line(r, PRE("tool-mode-3") "\"Weather in Oslo?\"}],\"max_tokens\":200,"
                "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Get current weather information for a location.\",\"parameters\":" WEATHER_PARAMS "}},"
                "{\"type\":\"function\",\"function\":{\"name\":\"calculate\",\"description\":\"Perform mathematical calculations.\",\"parameters\":" CALC_PARAMS "}},"
                "{\"type\":\"function\",\"function\":{\"name\":\"final_result\",\"description\":\"The final response which ends this conversation\",\"parameters\":" WEATHER_SCHEMA ",\"strict\":true}}],"
                "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"final_result\"}},\"parallel_tool_calls\":false}}");
    oab_request_free(r);
    o.tools = NULL;
    o.n_tools = 0;
    o.tool_choice = OAB_TOOL_CHOICE_UNSET;
    o.parallel_tool_calls = -1;

    /* prompted: the schema text is the first message */
    o.output_mode = OAB_OUTPUT_PROMPTED;
    o.max_tokens = 250;
    r = chat("prompted-1", "Get weather for Miami and return as JSON", &o);
    expect_line(r, "{\"custom_id\":\"prompted-1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":["
                   "{\"role\":\"system\",\"content\":\"" PROMPTED_SYSTEM "\"},"
                   "{\"role\":\"user\",\"content\":\"Get weather for Miami and return as JSON\"}],\"max_tokens\":250}}");
    CHECK_EQ_INT(oab_request_output_mode(r), OAB_OUTPUT_PROMPTED);
    expect_readback(r, OAB_OUTPUT_PROMPTED, WEATHER_SCHEMA, NULL);
    oab_request_free(r);
    /* the caller's own system prompt stays, after the schema message */
    o.system_prompt = "You are a meteorologist.";
    r = chat("prompted-2", "Analyze Rome weather data", &o);
    expect_line(r, "{\"custom_id\":\"prompted-2\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":["
                   "{\"role\":\"system\",\"content\":\"" PROMPTED_SYSTEM "\"},"
                   "{\"role\":\"system\",\"content\":\"You are a meteorologist.\"},"
                   "{\"role\":\"user\",\"content\":\"Analyze Rome weather data\"}],\"max_tokens\":250}}");
    oab_request_free(r);

    /* a description goes into native and tool definitions; non-strict */
    oab_schema *described = NULL;
    CHECK_OK(oab_schema_new(&described, "Weather", "Weather at a place",
                            "{\"type\":\"object\",\"properties\":{\"t\":{\"type\":\"number\"}}}", 0, &err));
    o = (oab_chat_options)OAB_CHAT_OPTIONS_INIT;
    o.model = "m";
    o.output_schema = described;
    r = chat("d1", "x", &o);
    expect_line(r, "{\"custom_id\":\"d1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                   "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"Weather\",\"description\":\"Weather at a place\",\"schema\":{\"type\":\"object\",\"properties\":{\"t\":{\"type\":\"number\"}}},\"strict\":false}}}}");
    oab_request_free(r);
    o.output_mode = OAB_OUTPUT_TOOL;
    r = chat("d2", "x", &o);
    expect_line(r, "{\"custom_id\":\"d2\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                   "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"Weather\",\"description\":\"Weather at a place\",\"parameters\":{\"type\":\"object\",\"properties\":{\"t\":{\"type\":\"number\"}}},\"strict\":false}}],"
                   "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"Weather\"}}}}");
    oab_request_free(r);

    oab_schema_free(described);
    oab_schema_free(named);
    oab_schema_free(plain);
    oab__buf_free(&want);
}

static void test_all_options(void)
{
    static const char *const stop[] = {"END", "\n\n"};
    static const oab_message msgs[] = {
        {"developer", "Be brief.", NULL, NULL, NULL, NULL},
        {"user", NULL, "[ {\"type\": \"text\", \"text\": \"What is this?\"},\n  {\"type\": \"image_url\", \"image_url\": {\"url\": \"https://example.com/a.png\"}} ]", "ann", NULL, NULL},
        {"assistant", NULL, NULL, NULL, NULL, "[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"calculate\",\"arguments\":\"{\\\"expression\\\":\\\"1+1\\\"}\"}}]"},
        {"tool", "2", NULL, NULL, "call_1", NULL},
    };
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    o.model = "gpt-4.1-2025-04-14";
    o.system_prompt = "You are helpful.";
    o.messages = msgs;
    o.n_messages = 4;
    o.max_tokens = 10;
    o.max_completion_tokens = 20;
    o.temperature = 0;
    o.top_p = 0.95;
    o.presence_penalty = -0.5;
    o.frequency_penalty = 1.25;
    o.has_seed = 1;
    o.seed = 1234567890123LL;
    o.stop = stop;
    o.n_stop = 2;
    o.reasoning_effort = "low";
    o.user = "u-1";
    o.tools = seed_tools;
    o.n_tools = 1;
    o.tool_choice = OAB_TOOL_CHOICE_FUNCTION;
    o.tool_choice_function = "get_weather";
    o.parallel_tool_calls = 1;
    oab_request *r = chat("all", "And now?", &o);
    expect_line(r, "{\"custom_id\":\"all\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4.1-2025-04-14\",\"messages\":["
                   "{\"role\":\"system\",\"content\":\"You are helpful.\"},"
                   "{\"role\":\"developer\",\"content\":\"Be brief.\"},"
                   "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is this?\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/a.png\"}}],\"name\":\"ann\"},"
                   "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"calculate\",\"arguments\":\"{\\\"expression\\\":\\\"1+1\\\"}\"}}]},"
                   "{\"role\":\"tool\",\"content\":\"2\",\"tool_call_id\":\"call_1\"},"
                   "{\"role\":\"user\",\"content\":\"And now?\"}],"
                   "\"max_tokens\":10,\"max_completion_tokens\":20,\"temperature\":0,\"top_p\":0.95,\"presence_penalty\":-0.5,\"frequency_penalty\":1.25,"
                   "\"seed\":1234567890123,\"stop\":[\"END\",\"\\n\\n\"],\"reasoning_effort\":\"low\",\"user\":\"u-1\","
                   "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Get current weather information for a location.\",\"parameters\":" WEATHER_PARAMS "}}],"
                   "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}},\"parallel_tool_calls\":true}}");
    oab_request_free(r);

    /* tool_choice words; a tool without parameters or description; strict */
    static const oab_tool bare[] = {{"ping", NULL, NULL, 1}};
    const char *words[] = {"auto", "none", "required"};
    for (int i = 0; i < 3; i++) {
        o = (oab_chat_options)OAB_CHAT_OPTIONS_INIT;
        o.model = "m";
        o.tools = bare;
        o.n_tools = 1;
        o.tool_choice = (oab_tool_choice)(OAB_TOOL_CHOICE_AUTO + i);
        r = chat("tc", "x", &o);
        char want[512];
        snprintf(want, sizeof want,
                 "{\"custom_id\":\"tc\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                 "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"ping\",\"parameters\":{\"type\":\"object\",\"properties\":{}},\"strict\":true}}],\"tool_choice\":\"%s\"}}",
                 words[i]);
        expect_line(r, want);
        oab_request_free(r);
    }

    /* no model: absent (filled in from the client by oab_batch_create_job) */
    o = (oab_chat_options)OAB_CHAT_OPTIONS_INIT;
    r = chat("nomodel", "x", &o);
    char *line = NULL;
    CHECK_OK(oab_request_to_json(r, &line));
    CHECK_STR(line, "{\"custom_id\":\"nomodel\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}");
    CHECK(oab_request_model(r) == NULL);
    oab_free(line);
    oab_request_free(r);
    r = NULL;
    CHECK_OK(oab_chat_request_new(&r, "nulls", "x", NULL, NULL));
    oab_request_free(r);
}

static void test_extra_body(void)
{
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    o.model = "gpt-4o-mini";
    o.max_tokens = 50;
    o.temperature = 0.5;
    o.extra_body_json = "{\"max_tokens\": 60, \"logprobs\": true, \"metadata\": {\"a\": \"b\"}, \"model\": \"gpt-4o\"}";
    oab_request *r = chat("x1", "hi", &o);
    expect_line(r, "{\"custom_id\":\"x1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                   "\"max_tokens\":60,\"temperature\":0.5,\"logprobs\":true,\"metadata\":{\"a\":\"b\"}}}");
    CHECK_STR(oab_request_model(r), "gpt-4o");
    oab_request_free(r);

    oab_error err;
    r = NULL;
    o.extra_body_json = "[1]";
    CHECK_EQ_INT(oab_chat_request_new(&r, "x2", "hi", &o, &err), OAB_EJSON);
    CHECK(strstr(err.message, "extra_body_json") != NULL);
    o.extra_body_json = "{\"a\":";
    CHECK_EQ_INT(oab_chat_request_new(&r, "x2", "hi", &o, &err), OAB_EJSON);
    CHECK(r == NULL);
}

static void test_text_and_numbers(void)
{
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    o.model = "m";
    oab_request *r = chat("gr\xc3\xbc\xc3\x9f" "e-\"q\"", "Gr\xc3\xbc\xc3\x9f" "e \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80 tab\tnl\n cr\r bs\\ \x01 \x1f /", &o);
    expect_line(r, "{\"custom_id\":\"gr\xc3\xbc\xc3\x9f" "e-\\\"q\\\"\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
                   "\"Gr\xc3\xbc\xc3\x9f" "e \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80 tab\\tnl\\n cr\\r bs\\\\ \\u0001 \\u001f /\"}]}}");
    CHECK_STR(oab_request_custom_id(r), "gr\xc3\xbc\xc3\x9f" "e-\"q\"");
    oab_request_free(r);

    /* numbers: integers plainly, others in the fewest digits (15, 16 or
       17) that read back exactly, as Python's repr and JSON.stringify */
    static const struct {
        double v;
        const char *text;
    } nums[] = {{0.8, "0.8"}, {0.1 + 0.2, "0.30000000000000004"}, {1.0, "1"},
                {2, "2"}, {-0.0, "0"}, {1e-7, "1e-07"}, {1e21, "1e+21"},
                {123456.789, "123456.789"}, {0.95, "0.95"},
                {1.0 / 3, "0.3333333333333333"}, {2147483647.0, "2147483647"},
                {2147483648.0, "2147483648"}, {-7.5, "-7.5"}};
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        o.temperature = nums[i].v;
        r = chat("n", "x", &o);
        char *line = NULL;
        CHECK_OK(oab_request_to_json(r, &line));
        char buf[64];
        snprintf(buf, sizeof buf, "\"temperature\":%s}}", nums[i].text);
        CHECK(line && strstr(line, buf) != NULL);
        if (line && !strstr(line, buf))
            fprintf(stderr, "  %s not in %s\n", buf, line);
        oab_free(line);
        oab_request_free(r);
    }
}

static void test_errors(void)
{
    oab_error err;
    oab_request *r = (oab_request *)1;
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    o.model = "m";
    CHECK_EQ_INT(oab_chat_request_new(&r, "", "x", &o, &err), OAB_EINVAL);
    CHECK(r == NULL);
    CHECK(strstr(err.message, "custom_id") != NULL);
    CHECK_EQ_INT(oab_chat_request_new(&r, NULL, "x", &o, &err), OAB_EINVAL);
    CHECK_EQ_INT(oab_chat_request_new(&r, "a", NULL, &o, &err), OAB_EINVAL);
    CHECK_EQ_INT(oab_chat_request_new(&r, "a", "bad \xff utf8", &o, &err), OAB_EINVAL);
    CHECK(strstr(err.message, "prompt") && strstr(err.message, "UTF-8"));
    CHECK_EQ_INT(oab_chat_request_new(NULL, "a", "x", &o, &err), OAB_EINVAL);

    oab_tool t = {"f", NULL, "{\"type\":", 0};
    o.tools = &t;
    o.n_tools = 1;
    CHECK_EQ_INT(oab_chat_request_new(&r, "a", "x", &o, &err), OAB_EJSON);
    CHECK(strstr(err.message, "tools[0].parameters_json") != NULL);
    t.parameters_json = "[]";
    CHECK_EQ_INT(oab_chat_request_new(&r, "a", "x", &o, &err), OAB_EJSON);
    t.parameters_json = NULL;
    t.name = "";
    CHECK_EQ_INT(oab_chat_request_new(&r, "a", "x", &o, &err), OAB_EINVAL);
    CHECK(strstr(err.message, "tools[0].name") != NULL);
    o.tools = NULL;
    o.n_tools = 0;

    o.output_mode = OAB_OUTPUT_TOOL;
    CHECK_EQ_INT(oab_chat_request_new(&r, "a", "x", &o, &err), OAB_EINVAL);
    CHECK(strstr(err.message, "output_schema") != NULL);
    o.output_mode = OAB_OUTPUT_NONE;

    o.tool_choice = OAB_TOOL_CHOICE_FUNCTION;
    CHECK_EQ_INT(oab_chat_request_new(&r, "a", "x", &o, &err), OAB_EINVAL);
    o.tool_choice = OAB_TOOL_CHOICE_UNSET;

    o.temperature = INFINITY;
    CHECK_EQ_INT(oab_chat_request_new(&r, "a", "x", &o, &err), OAB_EINVAL);
    CHECK(strstr(err.message, "temperature") != NULL);
    o.temperature = OAB_UNSET;

    oab_message m = {"user", NULL, "{\"not\":\"array\"}", NULL, NULL, NULL};
    o.messages = &m;
    o.n_messages = 1;
    CHECK_EQ_INT(oab_chat_request_new(&r, "a", NULL, &o, &err), OAB_EJSON);
    CHECK(strstr(err.message, "messages[0].content_json") != NULL);
    m.content_json = NULL;
    m.role = "tool";
    m.content = "x";
    CHECK_EQ_INT(oab_chat_request_new(&r, "a", NULL, &o, &err), OAB_EINVAL);
    CHECK(strstr(err.message, "tool_call_id") != NULL);
    o.messages = NULL;
    o.n_messages = 0;

    o.version = 99;
    CHECK_EQ_INT(oab_chat_request_new(&r, "a", "x", &o, &err), OAB_EINVAL);
    CHECK(r == NULL);

    /* the output tool's name may not clash with a caller tool */
    oab_schema *s = NULL;
    CHECK_OK(oab_schema_new(&s, "get_weather", NULL, "{\"type\":\"object\"}", 0, &err));
    o = (oab_chat_options)OAB_CHAT_OPTIONS_INIT;
    o.tools = seed_tools;
    o.n_tools = 2;
    o.output_schema = s;
    o.output_mode = OAB_OUTPUT_TOOL;
    CHECK_EQ_INT(oab_chat_request_new(&r, "a", "x", &o, &err), OAB_EINVAL);
    oab_schema_free(s);

    oab_request_free(NULL);
    char *line = (char *)1;
    CHECK_EQ_INT(oab_request_to_json(NULL, &line), OAB_EINVAL);
    CHECK(line == NULL);
    CHECK(oab_request_custom_id(NULL) == NULL);
}

static void test_responses(void)
{
    oab_error err;
    oab_responses_options o = OAB_RESPONSES_OPTIONS_INIT;
    o.model = "gpt-4.1-mini";
    o.instructions = "Answer briefly.";
    o.max_output_tokens = 100;
    o.temperature = 0.2;
    o.reasoning_effort = "medium";
    oab_request *r = NULL;
    CHECK_OK(oab_responses_request_new(&r, "r1", "What is 2+2?", &o, &err));
    expect_line(r, "{\"custom_id\":\"r1\",\"method\":\"POST\",\"url\":\"/v1/responses\",\"body\":{\"model\":\"gpt-4.1-mini\",\"input\":\"What is 2+2?\",\"instructions\":\"Answer briefly.\",\"max_output_tokens\":100,\"temperature\":0.2,\"reasoning\":{\"effort\":\"medium\"}}}");
    CHECK_STR(oab_request_url(r), "/v1/responses");
    oab_request_free(r);

    /* input items plus a text, tools, tool choice */
    o = (oab_responses_options)OAB_RESPONSES_OPTIONS_INIT;
    o.model = "m";
    o.input_json = "[ {\"role\": \"developer\", \"content\": \"Be kind.\"} ]";
    o.tools = seed_tools;
    o.n_tools = 1;
    o.tool_choice = OAB_TOOL_CHOICE_FUNCTION;
    o.tool_choice_function = "get_weather";
    o.parallel_tool_calls = 0;
    CHECK_OK(oab_responses_request_new(&r, "r2", "Hi", &o, &err));
    expect_line(r, "{\"custom_id\":\"r2\",\"method\":\"POST\",\"url\":\"/v1/responses\",\"body\":{\"model\":\"m\",\"input\":[{\"role\":\"developer\",\"content\":\"Be kind.\"},{\"role\":\"user\",\"content\":\"Hi\"}],"
                   "\"tools\":[{\"type\":\"function\",\"name\":\"get_weather\",\"description\":\"Get current weather information for a location.\",\"parameters\":" WEATHER_PARAMS ",\"strict\":false}],"
                   "\"tool_choice\":{\"type\":\"function\",\"name\":\"get_weather\"},\"parallel_tool_calls\":false}}");
    oab_request_free(r);
    o.input_json = "[]";
    o.tools = NULL;
    o.n_tools = 0;
    o.tool_choice = OAB_TOOL_CHOICE_REQUIRED;
    o.parallel_tool_calls = -1;
    CHECK_OK(oab_responses_request_new(&r, "r3", "Hi", &o, &err));
    expect_line(r, "{\"custom_id\":\"r3\",\"method\":\"POST\",\"url\":\"/v1/responses\",\"body\":{\"model\":\"m\",\"input\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"tool_choice\":\"required\"}}");
    oab_request_free(r);

    /* structured output in the three modes */
    oab_schema *s = NULL;
    CHECK_OK(oab_schema_new(&s, "WeatherResult", NULL, WEATHER_SCHEMA_IN, 1, &err));
    if (!s)
        return;
    o = (oab_responses_options)OAB_RESPONSES_OPTIONS_INIT;
    o.model = "m";
    o.output_schema = s;
    CHECK_OK(oab_responses_request_new(&r, "r4", "Paris", &o, &err));
    expect_line(r, "{\"custom_id\":\"r4\",\"method\":\"POST\",\"url\":\"/v1/responses\",\"body\":{\"model\":\"m\",\"input\":\"Paris\","
                   "\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"WeatherResult\",\"schema\":" WEATHER_SCHEMA ",\"strict\":true}}}}");
    CHECK_EQ_INT(oab_request_output_mode(r), OAB_OUTPUT_NATIVE);
    expect_readback(r, OAB_OUTPUT_NATIVE, WEATHER_SCHEMA, NULL);
    oab_request_free(r);
    o.output_mode = OAB_OUTPUT_TOOL;
    CHECK_OK(oab_responses_request_new(&r, "r5", "Paris", &o, &err));
    expect_line(r, "{\"custom_id\":\"r5\",\"method\":\"POST\",\"url\":\"/v1/responses\",\"body\":{\"model\":\"m\",\"input\":\"Paris\","
                   "\"tools\":[{\"type\":\"function\",\"name\":\"WeatherResult\",\"description\":\"The final response which ends this conversation\",\"parameters\":" WEATHER_SCHEMA ",\"strict\":true}],"
                   "\"tool_choice\":{\"type\":\"function\",\"name\":\"WeatherResult\"}}}");
    expect_readback(r, OAB_OUTPUT_TOOL, WEATHER_SCHEMA, "WeatherResult");
    oab_request_free(r);
    o.output_mode = OAB_OUTPUT_PROMPTED;
    CHECK_OK(oab_responses_request_new(&r, "r6", "Paris", &o, &err));
    expect_line(r, "{\"custom_id\":\"r6\",\"method\":\"POST\",\"url\":\"/v1/responses\",\"body\":{\"model\":\"m\",\"input\":\"Paris\",\"instructions\":\"" PROMPTED_SYSTEM "\"}}");
    oab_request_free(r);
    o.instructions = "Be exact.";
    CHECK_OK(oab_responses_request_new(&r, "r7", "Paris", &o, &err));
    expect_line(r, "{\"custom_id\":\"r7\",\"method\":\"POST\",\"url\":\"/v1/responses\",\"body\":{\"model\":\"m\",\"input\":\"Paris\",\"instructions\":\"" PROMPTED_SYSTEM "\\n\\nBe exact.\"}}");
    expect_readback(r, OAB_OUTPUT_PROMPTED, WEATHER_SCHEMA, NULL);
    oab_request_free(r);
    oab_schema_free(s);

    o = (oab_responses_options)OAB_RESPONSES_OPTIONS_INIT;
    CHECK_EQ_INT(oab_responses_request_new(&r, "r8", NULL, &o, &err), OAB_EINVAL);
    o.input_json = "{\"a\":1}";
    CHECK_EQ_INT(oab_responses_request_new(&r, "r8", NULL, &o, &err), OAB_EJSON);
}

static void test_embeddings(void)
{
    oab_error err;
    oab_request *r = NULL;
    const char *one[] = {"The food was delicious"};
    CHECK_OK(oab_embeddings_request_new(&r, "e1", "text-embedding-3-small", one, 1, 0, &err));
    expect_line(r, "{\"custom_id\":\"e1\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\"text-embedding-3-small\",\"input\":\"The food was delicious\"}}");
    CHECK_STR(oab_request_url(r), "/v1/embeddings");
    oab_request_free(r);
    const char *two[] = {"a", "b\"c"};
    CHECK_OK(oab_embeddings_request_new(&r, "e2", "text-embedding-3-small", two, 2, 256, &err));
    expect_line(r, "{\"custom_id\":\"e2\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\"text-embedding-3-small\",\"input\":[\"a\",\"b\\\"c\"],\"dimensions\":256}}");
    oab_request_free(r);
    CHECK_EQ_INT(oab_embeddings_request_new(&r, "e3", "m", one, 0, 0, &err), OAB_EINVAL);
    CHECK_EQ_INT(oab_embeddings_request_new(&r, "e3", "m", one, 1, -1, &err), OAB_EINVAL);
}

/* Every line built above, as one file, passes the validator except for
 * the mixed urls and models. */
static void test_lines_validate(void)
{
    oab_validation *v = NULL;
    oab_validate_options o = OAB_VALIDATE_OPTIONS_INIT;
    o.max_problems = 1000;
    oab_validate_buffer(&v, all_lines.data, all_lines.len, &o);
    CHECK(v != NULL);
    for (size_t i = 0; v && i < v->n_problems; i++) {
        const char *c = v->problems[i].code;
        int expected = strcmp(c, "url_mismatch") == 0 ||
                       strcmp(c, "model_mismatch") == 0 ||
                       strcmp(c, "duplicate_custom_id") == 0;
        CHECK(expected);
        if (!expected)
            fprintf(stderr, "  line %ld: %s %s\n", v->problems[i].line, c,
                    v->problems[i].message);
    }
    oab_validation_free(v);
    oab__buf_free(&all_lines);
}

int main(void)
{
    test_seed_basic();
    test_seed_tools();
    test_seed_structured();
    test_all_options();
    test_extra_body();
    test_text_and_numbers();
    test_errors();
    test_responses();
    test_embeddings();
    test_lines_validate();
    return t_summary("test_request");
}
