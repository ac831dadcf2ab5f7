/* bench_requests.c - the request-area benchmarks.
 *
 *   bench_requests write OUT.jsonl N   builds N seed-shaped requests (one in
 *       three plain, one with the seed's two tools, one with a native
 *       WeatherResult schema) and streams them to OUT.jsonl; one request
 *       is alive at a time.
 *   bench_requests validate IN.jsonl   validates a file; prints a summary.
 *
 * Prints one summary line to stdout; timing is done by run.sh. */
#include "oaibatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const oab_tool tools[] = {
    {"get_weather", "Get current weather information for a location.",
     "{\"additionalProperties\":false,\"properties\":{\"location\":{\"type\":\"string\"},\"units\":{\"default\":\"celsius\",\"type\":\"string\"}},\"required\":[\"location\"],\"type\":\"object\"}",
     0},
    {"calculate", "Perform mathematical calculations.",
     "{\"additionalProperties\":false,\"properties\":{\"expression\":{\"type\":\"string\"}},\"required\":[\"expression\"],\"type\":\"object\"}",
     0},
};

#define SCHEMA "{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\"},\"temperature\":{\"type\":\"number\"},\"condition\":{\"type\":\"string\"},\"humidity\":{\"type\":\"integer\"}},\"required\":[\"location\",\"temperature\",\"condition\",\"humidity\"],\"additionalProperties\":false}"

static int cmd_write(const char *path, long n)
{
    oab_error err;
    oab_schema *schema = NULL;
    if (oab_schema_new(&schema, "WeatherResult", NULL, SCHEMA, 1, &err) != OAB_OK) {
        fprintf(stderr, "schema: %s\n", err.message);
        return 1;
    }
    oab_jsonl_writer *w = NULL;
    if (oab_jsonl_writer_open_path(&w, path) != OAB_OK) {
        fprintf(stderr, "%s: cannot open\n", path);
        return 1;
    }
    char id[32], prompt[160];
    for (long i = 0; i < n; i++) {
        oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
        o.model = "gpt-4o-mini";
        switch (i % 3) {
        case 0:
            snprintf(id, sizeof id, "math-%ld", i);
            snprintf(prompt, sizeof prompt,
                     "What is %ld+%ld? Answer in one sentence, please.", i, i);
            o.max_tokens = 50;
            o.temperature = 0.8;
            break;
        case 1:
            snprintf(id, sizeof id, "weather-%ld", i);
            snprintf(prompt, sizeof prompt,
                     "What's the weather like in S\xc3\xa3o Paulo #%ld?", i);
            o.tools = tools;
            o.n_tools = 2;
            o.max_tokens = 150;
            break;
        default:
            snprintf(id, sizeof id, "structured-%ld", i);
            snprintf(prompt, sizeof prompt,
                     "Get weather information for Paris (%ld) and format it properly",
                     i);
            o.output_schema = schema;
            o.output_mode = OAB_OUTPUT_NATIVE;
            o.max_tokens = 200;
        }
        oab_request *r = NULL;
        if (oab_chat_request_new(&r, id, prompt, &o, &err) != OAB_OK ||
            oab_jsonl_write_request(w, r) != OAB_OK) {
            fprintf(stderr, "request %ld: %s\n", i, err.message);
            return 1;
        }
        oab_request_free(r);
    }
    unsigned long long bytes = oab_jsonl_writer_bytes(w);
    size_t lines = oab_jsonl_writer_lines(w);
    if (oab_jsonl_writer_close(w) != OAB_OK) {
        fprintf(stderr, "%s: cannot close\n", path);
        return 1;
    }
    oab_jsonl_writer_free(w);
    oab_schema_free(schema);
    printf("lines=%zu bytes=%llu\n", lines, bytes);
    return 0;
}

static int cmd_validate(const char *path)
{
    oab_validation *v = NULL;
    oab_status st = oab_validate_path(&v, path, NULL);
    if (!v) {
        fprintf(stderr, "%s: %s\n", path, oab_strerror(st));
        return 1;
    }
    printf("lines=%zu bytes=%llu problems=%zu", v->n_lines, v->n_bytes,
           v->n_problems_total);
    for (size_t i = 0; i < v->n_problems && i < 3; i++)
        printf(" %s@%ld", v->problems[i].code, v->problems[i].line);
    printf("\n");
    oab_validation_free(v);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "write") == 0)
        return cmd_write(argv[2], atol(argv[3]));
    if (argc == 3 && strcmp(argv[1], "validate") == 0)
        return cmd_validate(argv[2]);
    fprintf(stderr, "usage: bench_requests write OUT N | validate IN\n");
    return 2;
}
