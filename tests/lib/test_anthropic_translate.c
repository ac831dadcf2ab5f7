/* test_anthropic_translate.c - the I/O-free translation to and from
 * Anthropic's Message Batches, on the committed cases in
 * tests/data/anthropic/ (request_cases.json: OpenAI line -> expected
 * Message Batch request, or the refusal's exact message;
 * result_cases.json: Anthropic result line -> expected OpenAI line), the
 * translated results read back with the ordinary result decoder, the
 * custom_id map, and Message Batch objects -> oab_job. */

#include "oaibatch.h"
#include "testutil.h"
#include <cjson/cJSON.h>

static char *read_text(const char *name)
{
    const char *dir = getenv("OAB_TESTS");
    char path[1024];
    snprintf(path, sizeof path, "%s/data/anthropic/%s", dir ? dir : "tests", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}

/* Compares two JSON values; on a mismatch prints both. */
static void check_json(const char *what, const cJSON *got, const cJSON *want)
{
    if (got && want && cJSON_Compare(got, want, 1)) {
        t_pass++;
        return;
    }
    t_fail++;
    char *g = got ? cJSON_PrintUnformatted(got) : NULL;
    char *w = want ? cJSON_PrintUnformatted(want) : NULL;
    fprintf(stderr, "%s: JSON differs\n   got: %s\n  want: %s\n", what,
            g ? g : "(null)", w ? w : "(null)");
    free(g);
    free(w);
}

/* Replaces the placeholder "GENERATED" (custom_id and map key) by id. */
static void put_generated(cJSON *expect, cJSON *map, const char *id)
{
    cJSON *cid = cJSON_GetObjectItem(expect, "custom_id");
    if (cid && strcmp(cid->valuestring, "GENERATED") == 0)
        cJSON_SetValuestring(cid, id);
    cJSON *e = map ? cJSON_DetachItemFromObject(map, "GENERATED") : NULL;
    if (e)
        cJSON_AddItemToObject(map, id, e);
}

static int generated_shape(const char *id, long lineno)
{
    char tail[32];
    snprintf(tail, sizeof tail, "-%ld", lineno);
    if (strncmp(id, "oab-", 4) != 0 || strlen(id) != 4 + 16 + strlen(tail) ||
        strcmp(id + 20, tail) != 0)
        return 0;
    for (int i = 4; i < 20; i++)
        if (!strchr("0123456789abcdef", id[i]))
            return 0;
    return 1;
}

static void request_cases(void)
{
    char *text = read_text("request_cases.json");
    cJSON *cases = text ? cJSON_Parse(text) : NULL;
    CHECK(cJSON_GetArraySize(cases) >= 40);
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        char *line = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "line"));
        oab_anthropic_options o = OAB_ANTHROPIC_OPTIONS_INIT;
        const cJSON *dm = cJSON_GetObjectItem(c, "default_max_tokens");
        if (dm)
            o.default_max_tokens = (long)dm->valuedouble;
        oab_anthropic_map *map = NULL;
        CHECK_OK(oab_anthropic_map_new(&map));
        char *out = NULL;
        oab_error err;
        oab_status st = oab_anthropic_request_from_openai(&out, line, strlen(line), 1,
                                                          &o, map, &err);
        const cJSON *refusal = cJSON_GetObjectItem(c, "refuse");
        if (refusal) {
            const char *want = cJSON_GetObjectItem(c, "status")->valuestring;
            if (strcmp(oab_status_name(st), want) != 0)
                fprintf(stderr, "case \"%s\"\n", name);
            CHECK_STR(oab_status_name(st), want);
            CHECK_STR(err.message, refusal->valuestring);
            CHECK_EQ_INT(err.line, 1);
            CHECK(out == NULL);
            CHECK_EQ_INT(oab_anthropic_map_count(map), 0);
        } else {
            if (st != OAB_OK)
                fprintf(stderr, "case \"%s\": %s\n", name, err.message);
            CHECK_OK(st);
            cJSON *got = out ? cJSON_Parse(out) : NULL;
            cJSON *want = cJSON_Duplicate(cJSON_GetObjectItem(c, "expect"), 1);
            cJSON *want_map = cJSON_Duplicate(cJSON_GetObjectItem(c, "map"), 1);
            const char *sent = got ? cJSON_GetObjectItem(got, "custom_id")->valuestring : "";
            if (strcmp(cJSON_GetObjectItem(want, "custom_id")->valuestring, "GENERATED") == 0) {
                CHECK(generated_shape(sent, 1));
                /* the same input gives the same id */
                char *again = NULL;
                CHECK_OK(oab_anthropic_request_from_openai(&again, line, strlen(line), 1,
                                                           &o, NULL, NULL));
                CHECK(again && strstr(again, sent) != NULL);
                oab_free(again);
                put_generated(want, want_map, sent);
                CHECK_STR(oab_anthropic_map_custom_id(map, sent),
                          cJSON_GetObjectItem(cJSON_GetObjectItem(c, "line"),
                                              "custom_id")->valuestring);
            }
            check_json(name, got, want);
            char *mj = NULL;
            CHECK_OK(oab_anthropic_map_to_json(map, &mj));
            cJSON *gm = mj ? cJSON_Parse(mj) : NULL;
            if (!want_map)
                want_map = cJSON_CreateObject();
            check_json(name, gm, want_map);
            cJSON_Delete(gm);
            oab_free(mj);
            cJSON_Delete(got);
            cJSON_Delete(want);
            cJSON_Delete(want_map);
        }
        oab_free(out);
        oab_anthropic_map_free(map);
        free(line);
    }
    cJSON_Delete(cases);
    free(text);
}

/* The expected result status of a translated line, read by oab_result_parse. */
static oab_result_status expected_status(const cJSON *expect)
{
    const cJSON *resp = cJSON_GetObjectItem(expect, "response");
    if (cJSON_IsObject(resp))
        return cJSON_GetObjectItem(resp, "status_code")->valueint == 200
                   ? OAB_RESULT_SUCCEEDED
                   : OAB_RESULT_HTTP_ERROR;
    const char *code = cJSON_GetObjectItem(cJSON_GetObjectItem(expect, "error"),
                                           "code")->valuestring;
    return strcmp(code, "batch_expired") == 0 ? OAB_RESULT_EXPIRED : OAB_RESULT_CANCELLED;
}

static void result_cases(void)
{
    char *text = read_text("result_cases.json");
    cJSON *cases = text ? cJSON_Parse(text) : NULL;
    CHECK(cJSON_GetArraySize(cases) >= 10);
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        char *line = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "line"));
        oab_anthropic_map *map = NULL;
        const cJSON *m = cJSON_GetObjectItem(c, "map");
        if (m) {
            char *mj = cJSON_PrintUnformatted(m);
            CHECK_OK(oab_anthropic_map_from_json(&map, mj, strlen(mj), NULL));
            free(mj);
        }
        char *out = NULL;
        int is_error = -1;
        oab_error err;
        oab_status st = oab_anthropic_result_to_openai(&out, &is_error, line,
                                                       strlen(line), 4, map, &err);
        if (st != OAB_OK)
            fprintf(stderr, "case \"%s\": %s\n", name, err.message);
        CHECK_OK(st);
        const cJSON *want = cJSON_GetObjectItem(c, "expect");
        cJSON *got = out ? cJSON_Parse(out) : NULL;
        check_json(name, got, want);
        CHECK_EQ_INT(is_error, cJSON_GetObjectItem(c, "is_error")->valueint);
        /* read as an OpenAI line by the ordinary decoder */
        oab_result *r = NULL;
        CHECK_OK(oab_result_parse(&r, out ? out : "", out ? strlen(out) : 0, 4, NULL));
        if (r) {
            CHECK_EQ_INT(r->status, expected_status(want));
            CHECK_STR(r->custom_id, cJSON_GetObjectItem(want, "custom_id")->valuestring);
        }
        oab_result_free(r);
        cJSON_Delete(got);
        oab_free(out);
        oab_anthropic_map_free(map);
        free(line);
    }
    cJSON_Delete(cases);
    free(text);
}

/* Decoded with the ordinary API: usage, tool calls, errors, structured
 * output validated in native and tool mode. */
static void decoded_results(void)
{
    const char *ok = "{\"custom_id\":\"a\",\"result\":{\"type\":\"succeeded\",\"message\":"
                     "{\"id\":\"msg_1\",\"model\":\"claude-x\",\"content\":[{\"type\":"
                     "\"tool_use\",\"id\":\"toolu_1\",\"name\":\"weather\",\"input\":"
                     "{\"t\":21}}],\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":"
                     "12,\"output_tokens\":3,\"cache_read_input_tokens\":4}}}}";
    oab_schema *s = NULL;
    CHECK_OK(oab_schema_new(&s, "weather", NULL,
                            "{\"type\":\"object\",\"properties\":{\"t\":{\"type\":"
                            "\"integer\"}},\"required\":[\"t\"]}", 0, NULL));
    /* native: through the map's forced tool */
    oab_anthropic_map *map = NULL;
    const char *mj = "{\"a\":{\"custom_id\":\"a\",\"native\":\"weather\"}}";
    CHECK_OK(oab_anthropic_map_from_json(&map, mj, strlen(mj), NULL));
    char *line = NULL;
    CHECK_OK(oab_anthropic_result_to_openai(&line, NULL, ok, strlen(ok), 1, map, NULL));
    oab_expect ex = {s, OAB_OUTPUT_NATIVE};
    oab_result *r = NULL;
    CHECK_OK(oab_result_parse(&r, line, strlen(line), 1, &ex));
    CHECK_EQ_INT(r->status, OAB_RESULT_SUCCEEDED);
    CHECK_STR(r->output, "{\"t\":21}");
    CHECK_STR(r->parsed_json, "{\"t\":21}");
    CHECK(r->invalid_reason == NULL);
    CHECK_STR(r->finish_reason, "stop");
    CHECK_EQ_INT(r->n_tool_calls, 0);
    CHECK_EQ_INT(r->usage.prompt_tokens, 16);
    CHECK_EQ_INT(r->usage.completion_tokens, 3);
    CHECK_EQ_INT(r->usage.total_tokens, 19);
    CHECK_EQ_INT(r->usage.cached_tokens, 4);
    oab_result_free(r);
    oab_free(line);
    oab_anthropic_map_free(map);
    /* tool mode: the same answer without a map is a tool call */
    CHECK_OK(oab_anthropic_result_to_openai(&line, NULL, ok, strlen(ok), 1, NULL, NULL));
    oab_expect et = {s, OAB_OUTPUT_TOOL};
    CHECK_OK(oab_result_parse(&r, line, strlen(line), 1, &et));
    CHECK_EQ_INT(r->status, OAB_RESULT_SUCCEEDED);
    CHECK_EQ_INT(r->n_tool_calls, 1);
    CHECK_STR(r->tool_calls[0].name, "weather");
    CHECK_STR(r->tool_calls[0].id, "toolu_1");
    CHECK_STR(r->parsed_json, "{\"t\":21}");
    CHECK_STR(r->finish_reason, "tool_calls");
    oab_result_free(r);
    oab_free(line);
    /* native answer that does not match the schema: invalid_output */
    const char *bad = "{\"custom_id\":\"a\",\"result\":{\"type\":\"succeeded\",\"message\":"
                      "{\"id\":\"msg_2\",\"model\":\"claude-x\",\"content\":[{\"type\":"
                      "\"tool_use\",\"id\":\"toolu_2\",\"name\":\"weather\",\"input\":"
                      "{\"t\":\"warm\"}}],\"stop_reason\":\"tool_use\"}}}";
    CHECK_OK(oab_anthropic_map_from_json(&map, mj, strlen(mj), NULL));
    CHECK_OK(oab_anthropic_result_to_openai(&line, NULL, bad, strlen(bad), 1, map, NULL));
    CHECK_OK(oab_result_parse(&r, line, strlen(line), 1, &ex));
    CHECK_EQ_INT(r->status, OAB_RESULT_INVALID_OUTPUT);
    CHECK_STR(r->invalid_reason, "/t: expected integer, got string");
    oab_result_free(r);
    oab_free(line);
    oab_anthropic_map_free(map);
    /* errored: the provider's type and message */
    const char *er = "{\"custom_id\":\"e\",\"result\":{\"type\":\"errored\",\"error\":{"
                     "\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
                     "\"message\":\"prompt is too long\"}}}}";
    CHECK_OK(oab_anthropic_result_to_openai(&line, NULL, er, strlen(er), 1, NULL, NULL));
    CHECK_OK(oab_result_parse(&r, line, strlen(line), 1, NULL));
    CHECK_EQ_INT(r->status, OAB_RESULT_HTTP_ERROR);
    CHECK_EQ_INT(r->status_code, 400);
    CHECK_STR(r->error_code, "invalid_request_error");
    CHECK_STR(r->error_message, "prompt is too long");
    oab_result_free(r);
    oab_free(line);
    oab_schema_free(s);
}

static void result_errors(void)
{
    char *out = (char *)"x";
    oab_error err;
    CHECK_EQ_INT(oab_anthropic_result_to_openai(&out, NULL, "{oops", 5, 7, NULL, &err),
                 OAB_EJSON);
    CHECK(out == NULL);
    CHECK_STR(err.message, "results line 7: not JSON");
    CHECK_EQ_INT(err.line, 7);
    const char *nocid = "{\"result\":{\"type\":\"canceled\"}}";
    CHECK_EQ_INT(oab_anthropic_result_to_openai(&out, NULL, nocid, strlen(nocid), 2,
                                                NULL, &err),
                 OAB_EPROTO);
    CHECK_STR(err.message, "results line 2: no custom_id");
    const char *unk = "{\"custom_id\":\"a\",\"result\":{\"type\":\"weird\"}}";
    CHECK_EQ_INT(oab_anthropic_result_to_openai(&out, NULL, unk, strlen(unk), 3, NULL,
                                                &err),
                 OAB_EPROTO);
    CHECK_STR(err.message, "results line 3: unknown result type \"weird\"");
    CHECK_EQ_INT(oab_anthropic_request_from_openai(&out, "[1]", 3, 5, NULL, NULL, &err),
                 OAB_EVALIDATION);
    CHECK_STR(err.message, "line 5: line: not a JSON object");
    CHECK_EQ_INT(oab_anthropic_request_from_openai(&out, "{", 1, 6, NULL, NULL, &err),
                 OAB_EJSON);
    CHECK_STR(err.message, "line 6: not JSON");
}

static void map_json(void)
{
    oab_anthropic_map *m = NULL;
    oab_error err;
    const char *j = "{\"oab-1-1\":{\"custom_id\":\"a b\",\"native\":null},"
                    "\"n\":{\"custom_id\":\"n\",\"native\":\"schema\"}}";
    CHECK_OK(oab_anthropic_map_from_json(&m, j, strlen(j), &err));
    CHECK_EQ_INT(oab_anthropic_map_count(m), 2);
    CHECK_STR(oab_anthropic_map_custom_id(m, "oab-1-1"), "a b");
    CHECK(oab_anthropic_map_custom_id(m, "n") == NULL); /* sent as it is */
    CHECK(oab_anthropic_map_custom_id(m, "zzz") == NULL);
    char *back = NULL;
    CHECK_OK(oab_anthropic_map_to_json(m, &back));
    cJSON *a = cJSON_Parse(j), *b = back ? cJSON_Parse(back) : NULL;
    check_json("map round trip", b, a);
    cJSON_Delete(a);
    cJSON_Delete(b);
    oab_free(back);
    oab_anthropic_map_free(m);
    CHECK_EQ_INT(oab_anthropic_map_from_json(&m, "[]", 2, &err), OAB_EJSON);
    CHECK_STR(err.message, "custom_id map: not a JSON object");
    const char *twice = "{\"x\":{\"custom_id\":\"a\"},\"x\":{\"custom_id\":\"b\"}}";
    CHECK_EQ_INT(oab_anthropic_map_from_json(&m, twice, strlen(twice), &err), OAB_EJSON);
    CHECK_STR(err.message, "custom_id map: id \"x\" is there twice");
    const char *shape = "{\"x\":{\"native\":1}}";
    CHECK_EQ_INT(oab_anthropic_map_from_json(&m, shape, strlen(shape), &err), OAB_EJSON);
    CHECK(m == NULL);

    /* many generated ids: every one maps back */
    CHECK_OK(oab_anthropic_map_new(&m));
    char sent[2000][48];
    for (int i = 0; i < 2000; i++) {
        char line[256], *out = NULL;
        snprintf(line, sizeof line,
                 "{\"custom_id\":\"item %d/x\",\"method\":\"POST\",\"url\":"
                 "\"/v1/chat/completions\",\"body\":{\"model\":\"claude-x\","
                 "\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":"
                 "\"q\"}]}}", i);
        CHECK_OK(oab_anthropic_request_from_openai(&out, line, strlen(line), i + 1, NULL,
                                                   m, NULL));
        cJSON *o = out ? cJSON_Parse(out) : NULL;
        snprintf(sent[i], sizeof sent[i], "%s",
                 o ? cJSON_GetObjectItem(o, "custom_id")->valuestring : "");
        cJSON_Delete(o);
        oab_free(out);
    }
    int all = 1;
    for (int i = 0; i < 2000; i++) {
        char want[32];
        snprintf(want, sizeof want, "item %d/x", i);
        const char *got = oab_anthropic_map_custom_id(m, sent[i]);
        if (!got || strcmp(got, want) != 0)
            all = 0;
    }
    CHECK(all);
    CHECK_EQ_INT(oab_anthropic_map_count(m), 2000);
    oab_anthropic_map_free(m);
}

static oab_job *job_of(const char *json)
{
    oab_job *j = NULL;
    oab_error err;
    oab_status st = oab_anthropic_job_parse(&j, json, strlen(json), &err);
    if (st != OAB_OK)
        fprintf(stderr, "job: %s\n", err.message);
    CHECK_OK(st);
    return j;
}

static void jobs(void)
{
    oab_job *j = job_of(
        "{\"id\":\"msgbatch_1\",\"type\":\"message_batch\",\"processing_status\":"
        "\"in_progress\",\"request_counts\":{\"processing\":2,\"succeeded\":1,"
        "\"errored\":0,\"canceled\":0,\"expired\":0},\"ended_at\":null,"
        "\"created_at\":\"2024-09-24T18:37:24.100435Z\",\"expires_at\":"
        "\"2024-09-25T18:37:24.100435Z\",\"cancel_initiated_at\":null,"
        "\"results_url\":null}");
    CHECK_STR(j->id, "msgbatch_1");
    CHECK_EQ_INT(j->status, OAB_BATCH_IN_PROGRESS);
    CHECK_STR(j->status_text, "in_progress");
    CHECK_EQ_INT(j->created_at, 1727203044);
    CHECK_EQ_INT(j->expires_at, 1727289444);
    CHECK_EQ_INT(j->count_total, 3);
    CHECK_EQ_INT(j->count_completed, 1);
    CHECK_EQ_INT(j->count_failed, 0);
    CHECK(j->output_file_id == NULL && j->error_file_id == NULL);
    CHECK(strstr(j->raw_json, "\"anthropic\":{\"id\":\"msgbatch_1\"") != NULL);
    /* the job copies (raw_json is OpenAI-shaped) */
    oab_job *d = NULL;
    CHECK_OK(oab_job_dup(&d, j));
    CHECK(d && d->status == OAB_BATCH_IN_PROGRESS && d->count_total == 3);
    oab_job_free(d);
    oab_job_free(j);

    j = job_of("{\"id\":\"b\",\"processing_status\":\"canceling\",\"created_at\":"
               "\"2024-09-24T18:37:24Z\",\"cancel_initiated_at\":\"2024-09-24T19:00:00+01:00\"}");
    CHECK_EQ_INT(j->status, OAB_BATCH_CANCELLING);
    CHECK_EQ_INT(j->cancelling_at, 1727200800);
    oab_job_free(j);

    j = job_of("{\"id\":\"b\",\"processing_status\":\"ended\",\"request_counts\":"
               "{\"processing\":0,\"succeeded\":2,\"errored\":1,\"canceled\":0,"
               "\"expired\":0},\"created_at\":\"2024-09-24T18:37:24Z\",\"ended_at\":"
               "\"2024-09-24T18:47:24Z\",\"cancel_initiated_at\":null}");
    CHECK_EQ_INT(j->status, OAB_BATCH_COMPLETED);
    CHECK_EQ_INT(j->completed_at, 1727203644);
    CHECK_EQ_INT(j->count_failed, 1);
    CHECK(oab_batch_status_is_terminal(j->status));
    oab_job_free(j);

    j = job_of("{\"id\":\"b\",\"processing_status\":\"ended\",\"request_counts\":"
               "{\"processing\":0,\"succeeded\":1,\"errored\":0,\"canceled\":2,"
               "\"expired\":0},\"created_at\":\"2024-09-24T18:37:24Z\",\"ended_at\":"
               "\"2024-09-24T18:47:24Z\",\"cancel_initiated_at\":\"2024-09-24T18:40:00Z\"}");
    CHECK_EQ_INT(j->status, OAB_BATCH_CANCELLED);
    CHECK_EQ_INT(j->cancelled_at, 1727203644);
    CHECK_EQ_INT(j->completed_at, 0);
    oab_job_free(j);

    j = job_of("{\"id\":\"b\",\"processing_status\":\"ended\",\"request_counts\":"
               "{\"processing\":0,\"succeeded\":1,\"errored\":0,\"canceled\":0,"
               "\"expired\":3},\"created_at\":\"2024-09-24T18:37:24Z\",\"ended_at\":"
               "\"2024-09-25T18:37:24Z\"}");
    CHECK_EQ_INT(j->status, OAB_BATCH_EXPIRED);
    CHECK_EQ_INT(j->expired_at, 1727289444);
    CHECK_EQ_INT(j->count_failed, 3);
    oab_job_free(j);

    j = job_of("{\"id\":\"b\",\"processing_status\":\"archived_someday\"}");
    CHECK_EQ_INT(j->status, OAB_BATCH_UNKNOWN);
    oab_job_free(j);

    oab_error err;
    CHECK_EQ_INT(oab_anthropic_job_parse(&j, "{\"id\":\"b\"}", 10, &err), OAB_EPROTO);
    CHECK_STR(err.message, "message batch object: no processing_status");
    CHECK_EQ_INT(oab_anthropic_job_parse(&j, "nope", 4, &err), OAB_EJSON);
}

/* The serving direction: Messages params -> chat body, chat.completion
 * -> Message (serve_cases.json). */
static void serve_cases(void)
{
    char *text = read_text("serve_cases.json");
    cJSON *cases = text ? cJSON_Parse(text) : NULL;
    CHECK(cJSON_GetArraySize(cases) >= 10);
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        int params = strcmp(cJSON_GetObjectItem(c, "kind")->valuestring, "params") == 0;
        char *in = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "in"));
        char *out = NULL;
        oab_error err;
        oab_status st = params ? oab_anthropic_params_to_openai(&out, in, strlen(in), &err)
                               : oab_anthropic_message_from_openai(&out, in, strlen(in), &err);
        const cJSON *refusal = cJSON_GetObjectItem(c, "refuse");
        if (refusal) {
            const cJSON *want = cJSON_GetObjectItem(c, "status");
            CHECK_STR(oab_status_name(st), want ? want->valuestring : "OAB_EVALIDATION");
            CHECK_STR(err.message, refusal->valuestring);
            CHECK(out == NULL);
        } else {
            if (st != OAB_OK)
                fprintf(stderr, "case \"%s\": %s\n", name, err.message);
            CHECK_OK(st);
            cJSON *got = out ? cJSON_Parse(out) : NULL;
            check_json(name, got, cJSON_GetObjectItem(c, "expect"));
            cJSON_Delete(got);
        }
        oab_free(out);
        free(in);
    }
    cJSON_Delete(cases);
    free(text);

    /* there and back: an OpenAI tools line through Anthropic's params
     * gives the same conversation */
    const char *line =
        "{\"custom_id\":\"r\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
        "\"body\":{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":"
        "\"S\"},{\"role\":\"user\",\"content\":\"Q\"},{\"role\":\"assistant\","
        "\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
        "\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":1}\"}}]},{\"role\":"
        "\"tool\",\"tool_call_id\":\"c1\",\"content\":\"R\"}],\"max_tokens\":5,"
        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":"
        "{\"type\":\"object\"}}}],\"tool_choice\":\"auto\"}}";
    char *req = NULL, *back = NULL;
    CHECK_OK(oab_anthropic_request_from_openai(&req, line, strlen(line), 1, NULL, NULL, NULL));
    cJSON *rq = req ? cJSON_Parse(req) : NULL;
    char *params = rq ? cJSON_PrintUnformatted(cJSON_GetObjectItem(rq, "params")) : NULL;
    CHECK_OK(oab_anthropic_params_to_openai(&back, params ? params : "",
                                            params ? strlen(params) : 0,
                                            NULL));
    cJSON *b = back ? cJSON_Parse(back) : NULL;
    cJSON *orig = cJSON_Parse(line);
    check_json("round trip messages", cJSON_GetObjectItem(b, "messages"),
               cJSON_GetObjectItem(cJSON_GetObjectItem(orig, "body"), "messages"));
    check_json("round trip tools", cJSON_GetObjectItem(b, "tools"),
               cJSON_GetObjectItem(cJSON_GetObjectItem(orig, "body"), "tools"));
    cJSON_Delete(orig);
    cJSON_Delete(b);
    cJSON_Delete(rq);
    free(params);
    oab_free(req);
    oab_free(back);
}

static void providers(void)
{
    oab_provider p = OAB_PROVIDER_OPENAI;
    CHECK_OK(oab_provider_from_str(&p, "anthropic"));
    CHECK_EQ_INT(p, OAB_PROVIDER_ANTHROPIC);
    CHECK_STR(oab_provider_str(p), "anthropic");
    CHECK_OK(oab_provider_from_str(&p, "openai"));
    CHECK_EQ_INT(p, OAB_PROVIDER_OPENAI);
    CHECK_EQ_INT(oab_provider_from_str(&p, "gemini"), OAB_EINVAL);
}

/* A string holding U+0000 would be cut by the parse (cJSON ends its
 * strings there): both request translations refuse it, naming where,
 * and a "\\u0000" that is an escaped backslash is not one. */
static void nul_strings(void)
{
    static const char line[] =
        "{\"custom_id\":\"r\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
        "\"body\":{\"model\":\"claude-x\",\"max_tokens\":8,\"messages\":"
        "[{\"role\":\"user\",\"content\":\"a\\u0000b\"}]}}";
    char *out = NULL;
    oab_error err;
    oab_anthropic_options o = OAB_ANTHROPIC_OPTIONS_INIT;
    CHECK_EQ_INT(oab_anthropic_request_from_openai(&out, line, strlen(line), 3,
                                                   &o, NULL, &err),
                 OAB_EVALIDATION);
    CHECK(out == NULL);
    CHECK(strstr(err.message, "line 3: body.messages[0].content: holds \\u0000") != NULL);
    CHECK_EQ_INT(err.line, 3);
    static const char params[] =
        "{\"model\":\"m\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\","
        "\"content\":[{\"type\":\"text\",\"text\":\"x\\u0000\"}]}]}";
    CHECK_EQ_INT(oab_anthropic_params_to_openai(&out, params, strlen(params), &err),
                 OAB_EVALIDATION);
    CHECK(out == NULL);
    CHECK(strstr(err.message, "params.messages[0].content[0].text: holds") != NULL);
    /* an escaped backslash then "u0000": plain text, translated */
    static const char fine[] =
        "{\"model\":\"m\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\","
        "\"content\":\"a\\\\u0000b\"}]}";
    CHECK_OK(oab_anthropic_params_to_openai(&out, fine, strlen(fine), &err));
    CHECK(out && strstr(out, "a\\\\u0000b") != NULL);
    oab_free(out);
}

int main(void)
{
    request_cases();
    result_cases();
    decoded_results();
    result_errors();
    map_json();
    jobs();
    serve_cases();
    providers();
    nul_strings();
    return t_summary("test_anthropic_translate");
}
