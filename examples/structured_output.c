/* structured_output.c - the seed's "Structured Output" in all three modes.
 *
 *   native   response_format json_schema (OpenAI's structured outputs)
 *   tool     the schema as a function tool that tool_choice forces
 *   prompted the schema in the system prompt; the answer is the text
 *
 * For each mode asked for (default: all three) it submits the seed's two
 * requests, waits, and prints every answer decoded into a C struct
 * WeatherResult after the library has validated it against the schema.
 *
 *   $ ./structured_output native
 *   Batch (native) submitted: batch_abc123
 *
 *   structured-paris (native):
 *     location: Paris
 *     temperature: 18.5
 *     condition: partly cloudy
 *     humidity: 65
 *
 * Exit status 0 when every answer was valid.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "oaibatch.h"

/* class WeatherResult(BaseModel): location: str; temperature: float;
 *                                 condition: str; humidity: int */
typedef struct weather_result {
    char location[128];
    double temperature;
    char condition[128];
    long humidity;
} weather_result;

static const char weather_schema[] =
    "{\"type\":\"object\",\"title\":\"WeatherResult\","
    "\"properties\":{"
    "\"location\":{\"type\":\"string\"},"
    "\"temperature\":{\"type\":\"number\"},"
    "\"condition\":{\"type\":\"string\"},"
    "\"humidity\":{\"type\":\"integer\"}},"
    "\"required\":[\"location\",\"temperature\",\"condition\",\"humidity\"]}";

typedef struct {
    const char *custom_id;
    const char *prompt;
    long max_tokens;
} seed_request;

/* the seed's requests, two per mode */
static const seed_request native_reqs[2] = {
    {"structured-paris",
     "Get weather information for Paris and format it properly", 200},
    {"structured-tokyo", "Check weather in Tokyo and return structured data",
     200},
};
static const seed_request tool_reqs[2] = {
    {"tool-mode-1", "Analyze the weather in Berlin", 200},
    {"tool-mode-2", "Get weather data for Madrid", 200},
};
static const seed_request prompted_reqs[2] = {
    {"prompted-1", "Get weather for Miami and return as JSON", 250},
    {"prompted-2", "Analyze Rome weather data", 250},
};

/* parsed_json is valid for the schema: every member is there, typed */
static int decode(const char *json, weather_result *w)
{
    double humidity;
    return ex_json_string(json, "location", w->location, sizeof w->location) &&
           ex_json_number(json, "temperature", &w->temperature) &&
           ex_json_string(json, "condition", w->condition,
                          sizeof w->condition) &&
           ex_json_number(json, "humidity", &humidity) &&
           (w->humidity = (long)humidity, 1);
}

static int submit(oab_client *c, const oab_schema *schema,
                  oab_output_mode mode, char *batch_id, size_t size)
{
    const seed_request *seed = mode == OAB_OUTPUT_NATIVE ? native_reqs
                               : mode == OAB_OUTPUT_TOOL ? tool_reqs
                                                         : prompted_reqs;
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    oab_request *reqs[2] = {NULL, NULL};
    oab_job *job = NULL;
    oab_error err;
    oab_status st = OAB_OK;
    int i, rc = 1;

    o.model = ex_model();
    o.output_schema = schema;
    o.output_mode = mode;
    for (i = 0; i < 2 && st == OAB_OK; i++) {
        o.max_tokens = seed[i].max_tokens;
        st = oab_chat_request_new(&reqs[i], seed[i].custom_id, seed[i].prompt,
                                  &o, &err);
        if (st != OAB_OK)
            fprintf(stderr, "error: building %s: %s\n", seed[i].custom_id,
                    err.message);
    }
    if (st == OAB_OK) {
        st = oab_batch_create_job(c, &job, reqs, 2, NULL);
        if (st != OAB_OK) {
            ex_fail(c, "creating the batch", st);
        } else {
            printf("Batch (%s) submitted: %s\n", oab_output_mode_str(mode),
                   job->id);
            snprintf(batch_id, size, "%s", job->id);
            rc = 0;
        }
    }
    oab_request_free(reqs[0]);
    oab_request_free(reqs[1]);
    oab_job_free(job);
    return rc;
}

static int show(oab_client *c, const oab_schema *schema, oab_output_mode mode,
                const char *batch_id)
{
    oab_results_options ro = OAB_RESULTS_OPTIONS_INIT;
    oab_result_set *set = NULL;
    oab_job *job = NULL;
    oab_status st;
    size_t i;
    int rc = 0;

    if (ex_wait(c, batch_id, &job) != OAB_OK) {
        oab_job_free(job);
        return 1;
    }
    /* tell the decoder what to expect: it then parses and validates */
    ro.schema = schema;
    ro.mode = mode;
    st = oab_batch_retrieve_job(c, &set, batch_id, &ro);
    if (st != OAB_OK) {
        oab_job_free(job);
        return ex_fail(c, "reading the results", st);
    }
    for (i = 0; i < set->n; i++) {
        const oab_result *r = set->items[i];
        weather_result w;
        printf("\n%s (%s):\n", r->custom_id ? r->custom_id : "?",
               oab_output_mode_str(mode));
        if (r->status == OAB_RESULT_INVALID_OUTPUT) {
            printf("  Invalid output: %s\n",
                   r->invalid_reason ? r->invalid_reason : "?");
            rc = 1;
        } else if (r->status != OAB_RESULT_SUCCEEDED) {
            printf("  Error: %s: %s\n", oab_result_status_str(r->status),
                   r->error_message ? r->error_message : "");
            rc = 1;
        } else if (!r->parsed_json || !decode(r->parsed_json, &w)) {
            printf("  No parsed value (%s)\n",
                   r->refusal ? r->refusal : "no structured output");
            rc = 1;
        } else {
            printf("  location: %s\n", w.location);
            printf("  temperature: %g\n", w.temperature);
            printf("  condition: %s\n", w.condition);
            printf("  humidity: %ld\n", w.humidity);
        }
    }
    oab_result_set_free(set);
    oab_job_free(job);
    return rc;
}

int main(int argc, char **argv)
{
    oab_output_mode modes[3] = {OAB_OUTPUT_NATIVE, OAB_OUTPUT_TOOL,
                                OAB_OUTPUT_PROMPTED};
    char ids[3][128];
    size_t n_modes = 3, i;
    oab_client *c;
    oab_schema *schema = NULL;
    oab_error err;
    int rc = 0;

    if (argc > 1) {
        if (argc > 4) {
            fprintf(stderr, "usage: %s [native|tool|prompted]...\n", argv[0]);
            return 2;
        }
        n_modes = 0;
        for (i = 1; i < (size_t)argc; i++)
            if (oab_output_mode_from_str(&modes[n_modes++], argv[i]) != OAB_OK ||
                modes[n_modes - 1] == OAB_OUTPUT_NONE) {
                fprintf(stderr, "%s: unknown mode '%s' (native, tool, "
                                "prompted)\n", argv[0], argv[i]);
                return 2;
            }
    }

    /* strict: OpenAI's rules (additionalProperties false, all required) */
    if (oab_schema_new(&schema, "WeatherResult", NULL, weather_schema, 1,
                       &err) != OAB_OK) {
        fprintf(stderr, "error: schema: %s\n", err.message);
        return 1;
    }
    if (!(c = ex_client())) {
        oab_schema_free(schema);
        return 1;
    }

    /* submit every mode's batch first: they run at the same time */
    for (i = 0; i < n_modes; i++) {
        ids[i][0] = '\0';
        if (submit(c, schema, modes[i], ids[i], sizeof ids[i]) != 0)
            rc = 1;
    }
    fflush(stdout);
    for (i = 0; i < n_modes; i++)
        if (ids[i][0] && show(c, schema, modes[i], ids[i]) != 0)
            rc = 1;

    oab_client_free(c);
    oab_schema_free(schema);
    return rc;
}
