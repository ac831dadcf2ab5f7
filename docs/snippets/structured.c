/* structured.c - one schema, three structured-output modes, and the
 * validation the library applies to the answers. No network. */
#include <stdio.h>
#include <string.h>

#include <oaibatch.h>

static const char weather_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"location\":{\"type\":\"string\"},"
    "\"temperature\":{\"type\":\"number\"},"
    "\"condition\":{\"type\":\"string\"},"
    "\"humidity\":{\"type\":\"integer\"}},"
    "\"required\":[\"location\",\"temperature\",\"condition\",\"humidity\"]}";

int main(void)
{
    const oab_output_mode modes[3] = {OAB_OUTPUT_NATIVE, OAB_OUTPUT_TOOL,
                                      OAB_OUTPUT_PROMPTED};
    oab_schema *schema = NULL;
    oab_error err;
    int i, rc = 0;

    /* strict=1: brought to OpenAI's strict rules (additionalProperties
     * false, every property required, optional ones made nullable) */
    if (oab_schema_new(&schema, "WeatherResult", "Weather at a place",
                       weather_schema, 1, &err) != OAB_OK) {
        fprintf(stderr, "schema: %s\n", err.message);
        return 1;
    }
    printf("schema sent: %s\n", oab_schema_json(schema));

    for (i = 0; i < 3; i++) {
        oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
        oab_request *req = NULL;
        char *line = NULL;
        o.model = "gpt-4o-mini";
        o.max_tokens = 200;
        o.output_schema = schema;
        o.output_mode = modes[i];
        if (oab_chat_request_new(&req, oab_output_mode_str(modes[i]),
                                 "Get weather information for Paris", &o,
                                 &err) != OAB_OK ||
            oab_request_to_json(req, &line) != OAB_OK) {
            fprintf(stderr, "request: %s\n", err.message);
            rc = 1;
        } else {
            printf("%s\n", line);
        }
        oab_free(line);
        oab_request_free(req);
    }

    /* The check every answer goes through (oab_result.parsed_json is only
     * set when it passes; otherwise status is OAB_RESULT_INVALID_OUTPUT and
     * invalid_reason says where and why). */
    {
        const char *good = "{\"location\":\"Paris\",\"temperature\":18.5,"
                           "\"condition\":\"sunny\",\"humidity\":60}";
        const char *bad = "{\"location\":\"Paris\",\"temperature\":18.5,"
                          "\"condition\":\"sunny\",\"humidity\":\"60%\"}";
        oab_status st = oab_schema_validate(schema, good, strlen(good), &err);
        printf("good: %s\n", oab_status_name(st));
        st = oab_schema_validate(schema, bad, strlen(bad), &err);
        printf("bad: %s: %s\n", oab_status_name(st), err.message);
    }
    oab_schema_free(schema);
    return rc;
}
