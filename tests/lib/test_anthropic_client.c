/* test_anthropic_client.c - the library under provider anthropic against
 * tests/harness/anthropic_mock.py on 127.0.0.1 (which checks x-api-key,
 * anthropic-version and the exact shape of the create body, and serves
 * results out of order): create_job -> wait -> results and oab_batch_run
 * with plain, tools and the three structured-output modes, results read
 * as from OpenAI with the ordinary oab_result API; custom_ids mapped both
 * ways, also through another client given the map; cancel, expire, list,
 * delete; refusals before anything is sent; the key never in an error. */
#include "oaibatch.h"
#include "testutil.h"
#include "mock_server.h"

#define KEY "sk-ant-test-SECRET-7f3a9c"

static const char *const SCHEMA =
    "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},"
    "\"t\":{\"type\":\"integer\"}},\"required\":[\"city\",\"t\"]}";

static int start(mock *m)
{
    char script[1024];
    snprintf(script, sizeof script, "%s/harness/anthropic_mock.py", mock_tests_dir());
    const char *argv[] = {script, "--key", KEY, NULL};
    return mock_spawn(m, argv);
}

/* The mock's report; stops the mock. NULL when it did not answer. */
static cJSON *finish(mock *m)
{
    CURLcode rc;
    cJSON *r = mock_fetch_report(m, &rc);
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r, "mismatches"))
        fprintf(stderr, "mock mismatch: %s\n", it->valuestring);
    CHECK(r != NULL);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r, "mismatches")), 0);
    return r;
}

static oab_client *client_for(const mock *m, const char *key, long max_tokens)
{
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    o.provider = OAB_PROVIDER_ANTHROPIC;
    o.api_key = key;
    o.base_url = m->root;
    o.model = "claude-test";
    o.max_retries = -1;
    o.anthropic_max_tokens = max_tokens;
    oab_client *c = NULL;
    CHECK_OK(oab_client_new(&c, &o));
    return c;
}

static const oab_tool WEATHER = {"get_weather", "Weather of a city",
                                 "{\"type\":\"object\",\"properties\":{\"city\":"
                                 "{\"type\":\"string\"}},\"required\":[\"city\"]}",
                                 0};

/* The six requests of the round trip: plain, tools, native, tool,
 * prompted, and one the mock errors. "tools 2" is mapped by the library. */
static void build(oab_request *r[6], oab_schema *s)
{
    const char *ids[6] = {"plain-1", "tools 2", "native-3", "tool-4", "prompted-5", "bad-6"};
    for (int i = 0; i < 6; i++) {
        oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
        o.model = "claude-test"; /* oab_batch_run takes the model from the line */
        o.max_tokens = 50;
        if (i == 0)
            o.system_prompt = "Be brief.";
        if (i == 1) {
            o.tools = &WEATHER;
            o.n_tools = 1;
            o.tool_choice = OAB_TOOL_CHOICE_AUTO;
        }
        if (i >= 2 && i <= 4) {
            o.output_schema = s;
            o.output_mode = i == 2 ? OAB_OUTPUT_NATIVE : i == 3 ? OAB_OUTPUT_TOOL
                                                                : OAB_OUTPUT_PROMPTED;
        }
        oab_error err;
        r[i] = NULL;
        CHECK_OK(oab_chat_request_new(&r[i], ids[i], i == 0 ? "Hello" : "Weather in Paris?",
                                      &o, &err));
    }
}

static const cJSON *request_in(const cJSON *create, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItem(create, "requests"), i);
}

static void check_set(const oab_result_set *set)
{
    CHECK_EQ_INT(set->n, 6);
    if (set->n != 6)
        return;
    oab_result *const *it = set->items;
    CHECK_STR(it[0]->custom_id, "plain-1");
    CHECK_EQ_INT(it[0]->status, OAB_RESULT_SUCCEEDED);
    CHECK_STR(it[0]->output, "Echo: Hello");
    CHECK_STR(it[0]->finish_reason, "stop");
    CHECK(it[0]->has_usage && it[0]->usage.cached_tokens == 2 &&
          it[0]->usage.total_tokens ==
              it[0]->usage.prompt_tokens + it[0]->usage.completion_tokens);
    CHECK_EQ_INT(it[0]->status_code, 200);
    CHECK_STR(it[1]->custom_id, "tools 2"); /* mapped back */
    CHECK_EQ_INT(it[1]->status, OAB_RESULT_SUCCEEDED);
    CHECK_EQ_INT(it[1]->n_tool_calls, 1);
    if (it[1]->n_tool_calls == 1) {
        CHECK_STR(it[1]->tool_calls[0].name, "get_weather");
        CHECK_STR(it[1]->tool_calls[0].arguments, "{\"city\":\"x\"}");
        CHECK(it[1]->tool_calls[0].arguments_valid);
    }
    CHECK_STR(it[1]->finish_reason, "tool_calls");
    const oab_output_mode modes[3] = {OAB_OUTPUT_NATIVE, OAB_OUTPUT_TOOL,
                                      OAB_OUTPUT_PROMPTED};
    for (int k = 2; k <= 4; k++) {
        CHECK_EQ_INT(it[k]->status, OAB_RESULT_SUCCEEDED);
        CHECK_EQ_INT(it[k]->output_mode, modes[k - 2]);
        CHECK_STR(it[k]->parsed_json, "{\"city\":\"x\",\"t\":21}");
        CHECK(it[k]->invalid_reason == NULL);
    }
    CHECK_STR(it[2]->output, "{\"city\":\"x\",\"t\":21}"); /* native: the content */
    CHECK_STR(it[2]->finish_reason, "stop");
    CHECK_EQ_INT(it[3]->n_tool_calls, 1);
    CHECK_STR(it[5]->custom_id, "bad-6");
    CHECK_EQ_INT(it[5]->status, OAB_RESULT_HTTP_ERROR);
    CHECK_EQ_INT(it[5]->status_code, 400);
    CHECK_STR(it[5]->error_code, "invalid_request_error");
    CHECK_STR(it[5]->error_message, "bad-6: this request is bad");
    CHECK(it[5]->from_error_file);
    CHECK_EQ_INT(set->summary.by_status[OAB_RESULT_SUCCEEDED], 5);
    CHECK_EQ_INT(set->summary.by_status[OAB_RESULT_HTTP_ERROR], 1);
}

/* A mock, a client, the schema and the six requests. */
static int setup(mock *m, oab_client **c, oab_schema **s, oab_request *r[6])
{
    if (start(m) != 0) {
        CHECK(0);
        return -1;
    }
    *c = client_for(m, KEY, 0);
    *s = NULL;
    CHECK_OK(oab_schema_new(s, "weather", NULL, SCHEMA, 0, NULL));
    build(r, *s);
    return 0;
}

static void test_run(void)
{
    mock m;
    oab_client *c;
    oab_schema *s;
    oab_request *r[6];
    if (setup(&m, &c, &s, r) != 0)
        return;
    oab_wait_options w = OAB_WAIT_OPTIONS_INIT;
    w.first_interval_s = 0.01;
    oab_result_set *set = NULL;
    oab_job *job = NULL;
    oab_status st = oab_batch_run(c, &set, &job, r, 6, NULL, &w);
    if (st != OAB_OK)
        fprintf(stderr, "run: %s\n", oab_client_errmsg(c));
    CHECK_OK(st);
    CHECK(job && job->status == OAB_BATCH_COMPLETED && job->count_total == 6 &&
          job->count_completed == 5 && job->count_failed == 1);
    if (set)
        check_set(set);
    oab_result_set_free(set);
    oab_job_free(job);
    for (int i = 0; i < 6; i++)
        oab_request_free(r[i]);

    cJSON *rep = finish(&m);
    const cJSON *create = cJSON_GetArrayItem(cJSON_GetObjectItem(rep, "creates"), 0);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(create, "requests")), 6);
    /* the exact params of the plain and native requests */
    char *plain = cJSON_PrintUnformatted(request_in(create, 0));
    CHECK_STR(plain, "{\"custom_id\":\"plain-1\",\"params\":{\"model\":\"claude-test\","
                     "\"max_tokens\":50,\"system\":\"Be brief.\",\"messages\":[{\"role\":"
                     "\"user\",\"content\":\"Hello\"}]}}");
    free(plain);
    const cJSON *sent_j = cJSON_GetObjectItem(request_in(create, 1), "custom_id");
    const char *sent = sent_j ? sent_j->valuestring : "";
    CHECK(strncmp(sent, "oab-", 4) == 0 && strlen(sent) == 22 && strcmp(sent + 20, "-2") == 0);
    char *native = cJSON_PrintUnformatted(
        cJSON_GetObjectItem(cJSON_GetObjectItem(request_in(create, 2), "params"),
                            "tool_choice"));
    CHECK_STR(native, "{\"type\":\"tool\",\"name\":\"weather\","
                      "\"disable_parallel_tool_use\":true}");
    free(native);
    char *prompted = cJSON_PrintUnformatted(
        cJSON_GetObjectItem(cJSON_GetObjectItem(request_in(create, 4), "params"), "system"));
    CHECK(prompted && strstr(prompted, "compatible with this schema") != NULL);
    free(prompted);
    cJSON_Delete(rep);
    oab_schema_free(s);
    oab_client_free(c);
}

typedef struct seen {
    char ids[8][64];
    int n;
} seen;

static int remember(const oab_result *r, void *ud)
{
    seen *s = ud;
    if (s->n < 8)
        snprintf(s->ids[s->n++], sizeof s->ids[0], "%s", r->custom_id ? r->custom_id : "?");
    return 0;
}

static int count_job(const oab_job *job, void *ud)
{
    (void)job;
    ++*(int *)ud;
    return 0;
}

/* create_job -> wait -> results_stream with separate calls; the map
 * handed to another client; list, delete, not found. */
static void test_steps(void)
{
    mock m;
    oab_client *c;
    oab_schema *s;
    oab_request *r[6];
    if (setup(&m, &c, &s, r) != 0)
        return;
    oab_job *job = NULL;
    oab_status st = oab_batch_create_job(c, &job, r, 6, NULL);
    if (st != OAB_OK)
        fprintf(stderr, "create: %s\n", oab_client_errmsg(c));
    CHECK_OK(st);
    CHECK(job && job->status == OAB_BATCH_IN_PROGRESS && job->count_total == 6);
    CHECK_STR(oab_client_last_request_id(c), "req_0001");
    char *id = job ? strdup(job->id) : NULL;
    oab_job_free(job);
    job = NULL;
    oab_wait_options w = OAB_WAIT_OPTIONS_INIT;
    w.first_interval_s = 0.01;
    CHECK_OK(oab_batch_wait(c, &job, id, &w));
    CHECK(job && job->status == OAB_BATCH_COMPLETED);

    /* streamed in the provider's order (reversed), custom_ids mapped */
    seen sn = {{{0}}, 0};
    oab_summary sum;
    CHECK_OK(oab_batch_results_stream(c, job, NULL, remember, &sn, &sum));
    CHECK_EQ_INT(sn.n, 6);
    CHECK_STR(sn.ids[0], "prompted-5");
    CHECK_STR(sn.ids[3], "tools 2");
    CHECK_STR(sn.ids[5], "bad-6"); /* the error file after the output */
    CHECK_EQ_INT(sum.by_status[OAB_RESULT_SUCCEEDED], 5);

    /* the map, as a journal keeps it, read back by another client */
    char *map = NULL;
    CHECK_OK(oab_anthropic_batch_map(c, id, &map));
    CHECK(map && strstr(map, "\"custom_id\":\"tools 2\"") && strstr(map, "\"native\":\"weather\""));
    oab_client *c2 = client_for(&m, KEY, 0);
    char *none = NULL;
    CHECK_OK(oab_anthropic_batch_map(c2, id, &none));
    CHECK_STR(none, "{}");
    oab_free(none);
    CHECK_OK(oab_anthropic_set_batch_map(c2, id, map));
    oab_result_set *set = NULL;
    /* input order needs the input file: write it */
    char dir[] = "/tmp/oab_anth_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char in_path[256];
    snprintf(in_path, sizeof in_path, "%s/in.jsonl", dir);
    FILE *f = fopen(in_path, "w");
    for (int i = 0; f && i < 6; i++) {
        char *line = NULL;
        CHECK_OK(oab_request_to_json(r[i], &line));
        /* the default model, as the library filled it in */
        fprintf(f, "%s\n", line);
        oab_free(line);
    }
    if (f)
        fclose(f);
    oab_results_options ro = OAB_RESULTS_OPTIONS_INIT;
    ro.input_path = in_path;
    ro.input_order = 1;
    ro.download_dir = dir;
    CHECK_OK(oab_batch_retrieve_job(c2, &set, id, &ro));
    if (set)
        check_set(set);
    oab_result_set_free(set);
    char kept[300];
    snprintf(kept, sizeof kept, "%s/%s.anthropic.jsonl", dir, id);
    CHECK(access(kept, F_OK) == 0); /* download_dir keeps the stream */
    const char *leaf[] = {"in.jsonl", ".anthropic.jsonl", ".output.jsonl", ".errors.jsonl"};
    for (int k = 0; k < 4; k++) {
        char p[300];
        snprintf(p, sizeof p, "%s/%s%s", dir, k ? id : "", leaf[k]);
        remove(p);
    }
    CHECK_OK(rmdir(dir));
    /* without the map, the generated id comes back as sent */
    oab_client *c3 = client_for(&m, KEY, 0);
    seen s3 = {{{0}}, 0};
    CHECK_OK(oab_batch_results_stream(c3, job, NULL, remember, &s3, NULL));
    CHECK(strncmp(s3.ids[3], "oab-", 4) == 0);
    oab_client_free(c3);
    oab_client_free(c2);
    oab_free(map);

    /* list: most recent first, Anthropic's cursors */
    oab_job *j2 = NULL;
    oab_request *two[2] = {r[0], r[5]};
    CHECK_OK(oab_batch_create_job(c, &j2, two, 2, NULL));
    oab_job_list *l = NULL;
    CHECK_OK(oab_batch_list(c, &l, 1, NULL));
    CHECK(l && l->n == 1 && l->has_more && j2 && strcmp(l->jobs[0]->id, j2->id) == 0);
    oab_job_list_free(l);
    l = NULL;
    CHECK_OK(oab_batch_list(c, &l, 10, j2 ? j2->id : "x"));
    CHECK(l && l->n == 1 && !l->has_more && strcmp(l->jobs[0]->id, id) == 0);
    oab_job_list_free(l);
    l = NULL;
    CHECK_OK(oab_anthropic_batch_list(c, &l, 5, id, NULL));
    CHECK(l && l->n == 1 && j2 && strcmp(l->jobs[0]->id, j2->id) == 0);
    oab_job_list_free(l);
    int count = 0;
    CHECK_OK(oab_batch_list_all(c, 1, count_job, &count));
    CHECK_EQ_INT(count, 2); /* page by page through after_id */

    /* delete: refused while processing, then done; then not found */
    CHECK_EQ_INT(oab_anthropic_batch_delete(c, j2->id), OAB_EHTTP);
    CHECK(strstr(oab_client_errmsg(c), "must end before it is deleted") != NULL);
    CHECK_STR(oab_client_last_error(c)->type, "invalid_request_error");
    CHECK_OK(oab_anthropic_batch_delete(c, id));
    oab_job *gone = NULL;
    CHECK_EQ_INT(oab_batch_retrieve(c, &gone, id), OAB_ENOTFOUND);
    CHECK(strstr(oab_client_errmsg(c), "not_found_error") != NULL);
    CHECK(gone == NULL);

    oab_job_free(j2);
    oab_job_free(job);
    free(id);
    for (int i = 0; i < 6; i++)
        oab_request_free(r[i]);
    oab_schema_free(s);
    oab_client_free(c);
    cJSON_Delete(finish(&m));
}

static oab_request *plain(const char *id, long max_tokens)
{
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    o.max_tokens = max_tokens;
    oab_request *r = NULL;
    CHECK_OK(oab_chat_request_new(&r, id, "Hi", &o, NULL));
    return r;
}

/* cancel and expire: the job's status and the lines' statuses */
static void test_cancel_expire(void)
{
    mock m;
    if (start(&m) != 0) {
        CHECK(0);
        return;
    }
    oab_client *c = client_for(&m, KEY, 0);
    oab_request *r[3] = {plain("k1", 10), plain("k2", 10), plain("k3", 10)};
    oab_job *job = NULL, *cj = NULL, *fin = NULL;
    CHECK_OK(oab_batch_create_job(c, &job, r, 3, NULL));
    CHECK_OK(oab_batch_cancel(c, &cj, job->id));
    CHECK(cj && cj->status == OAB_BATCH_CANCELLING && cj->cancelling_at > 0);
    oab_wait_options w = OAB_WAIT_OPTIONS_INIT;
    w.first_interval_s = 0.01;
    CHECK_OK(oab_batch_wait(c, &fin, job->id, &w));
    CHECK(fin && fin->status == OAB_BATCH_CANCELLED && fin->cancelled_at > 0);
    oab_result_set *set = NULL;
    CHECK_OK(oab_batch_retrieve_job(c, &set, job->id, NULL));
    CHECK(set && set->summary.by_status[OAB_RESULT_CANCELLED] == 2 &&
          set->summary.by_status[OAB_RESULT_SUCCEEDED] == 1);
    oab_result_set_free(set);
    oab_job_free(job);
    oab_job_free(cj);
    oab_job_free(fin);
    for (int i = 0; i < 3; i++)
        oab_request_free(r[i]);

    oab_request *e[2] = {plain("ok-1", 10), plain("expire-2", 10)};
    job = fin = NULL;
    CHECK_OK(oab_batch_create_job(c, &job, e, 2, NULL));
    CHECK_OK(oab_batch_wait(c, &fin, job->id, &w));
    CHECK(fin && fin->status == OAB_BATCH_EXPIRED);
    set = NULL;
    CHECK_OK(oab_batch_retrieve_job(c, &set, job->id, NULL));
    CHECK(set && set->n == 2);
    for (size_t i = 0; set && i < set->n; i++)
        if (strcmp(set->items[i]->custom_id, "expire-2") == 0) {
            CHECK_EQ_INT(set->items[i]->status, OAB_RESULT_EXPIRED);
            CHECK_STR(set->items[i]->error_code, "batch_expired");
        }
    oab_result_set_free(set);
    oab_job_free(job);
    oab_job_free(fin);
    oab_request_free(e[0]);
    oab_request_free(e[1]);
    oab_client_free(c);
    cJSON_Delete(finish(&m));
}

/* refusals before anything is sent; max_tokens default; the key never in
 * an error; provider chosen by the model; environment fallbacks */
static void test_refusals_and_key(void)
{
    mock m;
    if (start(&m) != 0) {
        CHECK(0);
        return;
    }
    oab_client *c = client_for(&m, KEY, 0);
    oab_request *a = plain("a", 10), *nomax = plain("nomax", -1);
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    o.max_tokens = 10;
    o.extra_body_json = "{\"n\":3}";
    oab_request *n3 = NULL;
    CHECK_OK(oab_chat_request_new(&n3, "n3", "Hi", &o, NULL));
    oab_request *r1[2] = {a, n3};
    oab_job *job = (oab_job *)1;
    CHECK_EQ_INT(oab_batch_create_job(c, &job, r1, 2, NULL), OAB_EVALIDATION);
    CHECK(job == NULL);
    CHECK_STR(oab_client_errmsg(c), "input failed validation: input: line 2: body.n: "
                                    "Anthropic returns one answer per request (only 1 "
                                    "is accepted)");
    oab_request *r2[2] = {a, nomax};
    CHECK_EQ_INT(oab_batch_create_job(c, &job, r2, 2, NULL), OAB_EVALIDATION);
    CHECK(strstr(oab_client_errmsg(c), "line 2: body.max_tokens: Anthropic requires "
                                       "max_tokens") != NULL);
    oab_batch_options bo = OAB_BATCH_OPTIONS_INIT;
    const char *k[] = {"k"}, *v[] = {"v"};
    bo.metadata_keys = k;
    bo.metadata_values = v;
    bo.n_metadata = 1;
    CHECK_EQ_INT(oab_batch_create_job(c, &job, r2, 2, &bo), OAB_EUNSUPPORTED);
    CHECK(strstr(oab_client_errmsg(c), "metadata") != NULL);
    CHECK_EQ_INT(oab_batch_create(c, &job, "file-1", NULL), OAB_EUNSUPPORTED);
    /* with a default, the same line goes */
    oab_client *cd = client_for(&m, KEY, 128);
    CHECK_OK(oab_batch_create_job(cd, &job, r2, 2, NULL));
    oab_job_free(job);
    oab_client_free(cd);

    /* a JSONL file on disk: read line by line, refused with its path */
    char dir[] = "/tmp/oab_anth_path_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/in.jsonl", dir);
    static const char *const lines[2] = {
        "{\"custom_id\":\"file 1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
        "\"body\":{\"model\":\"claude-test\",\"max_tokens\":9,\"messages\":[{\"role\":"
        "\"user\",\"content\":\"one\"}]}}\n",
        "{\"custom_id\":\"file-2\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
        "\"body\":{\"model\":\"claude-test\",\"max_tokens\":9,\"logprobs\":true,"
        "\"messages\":[{\"role\":\"user\",\"content\":\"two\"}]}}\n"};
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(lines[0], f);
        fputs(lines[1], f);
        fclose(f);
    }
    job = NULL;
    CHECK_EQ_INT(oab_batch_create_job_path(c, &job, path, NULL), OAB_EVALIDATION);
    CHECK(strstr(oab_client_errmsg(c), "in.jsonl: line 2: body.logprobs:") != NULL);
    f = fopen(path, "w");
    if (f) {
        fputs(lines[0], f);
        fputs(lines[0] + 0, f); /* the same line twice: refused as a duplicate */
        fclose(f);
    }
    CHECK_EQ_INT(oab_batch_create_job_path(c, &job, path, NULL), OAB_EVALIDATION);
    CHECK(strstr(oab_client_errmsg(c), "duplicate_custom_id") != NULL);
    f = fopen(path, "w");
    if (f) {
        fputs(lines[0], f);
        fputs("{\"custom_id\":\"file-3\",\"method\":\"POST\",\"url\":"
              "\"/v1/chat/completions\",\"body\":{\"model\":\"claude-test\","
              "\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":"
              "\"three\"}]}}", f); /* no newline at the end */
        fclose(f);
    }
    CHECK_OK(oab_batch_create_job_path(c, &job, path, NULL));
    char *pm = NULL;
    CHECK_OK(oab_anthropic_batch_map(c, job ? job->id : "?", &pm));
    CHECK(pm && strstr(pm, "\"custom_id\":\"file 1\""));
    oab_free(pm);
    oab_job_free(job);
    remove(path);
    CHECK_OK(rmdir(dir));

    /* a wrong key: 401, the key in no message */
    oab_client *bad = client_for(&m, "sk-ant-WRONG-key-0042", 0);
    oab_job *j = NULL;
    CHECK_EQ_INT(oab_batch_retrieve(bad, &j, "msgbatch_0001"), OAB_EAUTH);
    const oab_error_detail *d = oab_client_last_error(bad);
    CHECK_STR(d->type, "authentication_error");
    CHECK_STR(d->message, "invalid x-api-key");
    CHECK(strstr(oab_client_errmsg(bad), "sk-ant-WRONG-key-0042") == NULL);
    CHECK(strstr(oab_client_errmsg(c), KEY) == NULL);
    oab_client_free(bad);

    /* provider from the model; key and base URL from the environment */
    setenv("ANTHROPIC_API_KEY", KEY, 1);
    setenv("ANTHROPIC_BASE_URL", m.root, 1);
    oab_client_options eo = OAB_CLIENT_OPTIONS_INIT;
    eo.model = "anthropic:claude-env";
    eo.max_retries = -1;
    oab_client *ce = NULL;
    CHECK_OK(oab_client_new(&ce, &eo));
    CHECK_EQ_INT(oab_client_provider(ce), OAB_PROVIDER_ANTHROPIC);
    CHECK_STR(oab_client_model(ce), "claude-env");
    CHECK_STR(oab_client_base_url(ce), m.root);
    oab_request *r3[2] = {a, plain("b", 10)};
    CHECK_OK(oab_batch_create_job(ce, &job, r3, 2, NULL));
    oab_job_free(job);
    oab_request_free(r3[1]);
    oab_client_free(ce);
    unsetenv("ANTHROPIC_BASE_URL");
    unsetenv("ANTHROPIC_API_KEY");
    /* Anthropic's own URL needs a key */
    oab_client_options no = OAB_CLIENT_OPTIONS_INIT;
    no.provider = OAB_PROVIDER_ANTHROPIC;
    CHECK_EQ_INT(oab_client_new(&ce, &no), OAB_ENOKEY);
    no.provider = 7;
    no.api_key = "x";
    CHECK_EQ_INT(oab_client_new(&ce, &no), OAB_EINVAL);
    /* an OpenAI client has no Anthropic calls */
    oab_client_options oo = OAB_CLIENT_OPTIONS_INIT;
    oo.base_url = m.base;
    oab_client *co = NULL;
    CHECK_OK(oab_client_new(&co, &oo));
    CHECK_EQ_INT(oab_client_provider(co), OAB_PROVIDER_OPENAI);
    CHECK_EQ_INT(oab_anthropic_batch_delete(co, "b"), OAB_EUNSUPPORTED);
    oab_client_free(co);

    oab_request_free(a);
    oab_request_free(nomax);
    oab_request_free(n3);
    oab_client_free(c);
    cJSON *rep = finish(&m);
    /* the refused batches sent nothing: only the defaulted, file and env creates */
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(rep, "creates")), 3);
    const cJSON *file_create = cJSON_GetArrayItem(cJSON_GetObjectItem(rep, "creates"), 1);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(file_create, "requests")), 2);
    CHECK_EQ_INT(cJSON_GetObjectItem(rep, "auth_failures")->valueint, 1);
    char *creates = cJSON_PrintUnformatted(cJSON_GetObjectItem(rep, "creates"));
    CHECK(creates && strstr(creates, "\"max_tokens\":128") && strstr(creates, "claude-env"));
    free(creates);
    cJSON_Delete(rep);
}

int main(void)
{
    unsetenv("ANTHROPIC_API_KEY");
    unsetenv("ANTHROPIC_BASE_URL");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    test_run();
    test_steps();
    test_cancel_expire();
    test_refusals_and_key();
    curl_global_cleanup();
    return t_summary("test_anthropic_client");
}
