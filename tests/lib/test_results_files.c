/* test_results_files.c - output + error files merged from disk: every
 * custom_id of the input exactly once, expectations taken from the input,
 * missing ones reported, input order restored, summaries, duplicates,
 * error_file_id/output_file_id absent (NULL paths), stopping. */
#include "oaibatch.h"
#include "util/str.h"
#include "testutil.h"

#include <unistd.h>

#define WEATHER                                                           \
    "{\"type\":\"object\",\"properties\":{\"location\":{\"type\":"       \
    "\"string\"},\"temperature\":{\"type\":\"number\"},\"condition\":{"  \
    "\"type\":\"string\"},\"humidity\":{\"type\":\"integer\"}},"         \
    "\"required\":[\"location\",\"temperature\",\"condition\","          \
    "\"humidity\"],\"additionalProperties\":false}"

static char out_path[1024], err_path[1024], in_path[1024];

static const char *const input_ids[] = {
    "plain-1",    "tools-1",     "refusal-1",   "native-ok",  "native-bad",
    "native-refused", "tool-ok", "tool-bad",    "tool-none",  "prompted-ok",
    "prompted-bad", "http-400",  "error-1",     "expired-1",  "cancelled-1",
    "broken-1",   "missing-1",   "cut-1"};
static const oab_result_status input_status[] = {
    OAB_RESULT_SUCCEEDED,      OAB_RESULT_SUCCEEDED,
    OAB_RESULT_SUCCEEDED,      OAB_RESULT_SUCCEEDED,
    OAB_RESULT_INVALID_OUTPUT, OAB_RESULT_INVALID_OUTPUT,
    OAB_RESULT_SUCCEEDED,      OAB_RESULT_INVALID_OUTPUT,
    OAB_RESULT_INVALID_OUTPUT, OAB_RESULT_SUCCEEDED,
    OAB_RESULT_INVALID_OUTPUT, OAB_RESULT_HTTP_ERROR,
    OAB_RESULT_ERROR,          OAB_RESULT_EXPIRED,
    OAB_RESULT_CANCELLED,      OAB_RESULT_MALFORMED,
    OAB_RESULT_MISSING,        OAB_RESULT_MALFORMED};
#define N_INPUT 18

static const oab_result *find(const oab_result_set *set, const char *cid)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->items[i]->custom_id &&
            strcmp(set->items[i]->custom_id, cid) == 0)
            return set->items[i];
    return NULL;
}

static void test_collect_in_input_order(void)
{
    oab_results_options o = OAB_RESULTS_OPTIONS_INIT;
    o.input_path = in_path;
    o.input_order = 1;
    oab_result_set *set = NULL;
    oab_error err;
    CHECK_OK(oab_results_collect_files(&set, out_path, err_path, &o, &err));
    if (!set)
        return;
    CHECK_EQ_INT(set->n, N_INPUT);
    for (size_t i = 0; i < set->n && i < N_INPUT; i++) {
        const oab_result *r = set->items[i];
        CHECK_STR(r->custom_id, input_ids[i]);
        CHECK_EQ_INT(r->status, input_status[i]);
        CHECK_EQ_INT(r->input_line, (long)i + 1);
        CHECK_EQ_INT(r->duplicate, 0);
    }
    const oab_summary *s = &set->summary;
    CHECK_EQ_INT(s->total, N_INPUT);
    CHECK_EQ_INT(s->by_status[OAB_RESULT_SUCCEEDED], 6);
    CHECK_EQ_INT(s->by_status[OAB_RESULT_INVALID_OUTPUT], 5);
    CHECK_EQ_INT(s->by_status[OAB_RESULT_HTTP_ERROR], 1);
    CHECK_EQ_INT(s->by_status[OAB_RESULT_ERROR], 1);
    CHECK_EQ_INT(s->by_status[OAB_RESULT_EXPIRED], 1);
    CHECK_EQ_INT(s->by_status[OAB_RESULT_CANCELLED], 1);
    CHECK_EQ_INT(s->by_status[OAB_RESULT_MALFORMED], 2);
    CHECK_EQ_INT(s->by_status[OAB_RESULT_MISSING], 1);
    CHECK_EQ_INT(s->duplicates, 0);
    CHECK_EQ_INT(s->usage.prompt_tokens, 119);
    CHECK_EQ_INT(s->usage.completion_tokens, 60);
    CHECK_EQ_INT(s->usage.total_tokens, 179);
    CHECK_EQ_INT(s->usage.cached_tokens, 4);
    CHECK_EQ_INT(s->usage.reasoning_tokens, 2);

    /* expectations came from the input lines, by custom_id */
    const oab_result *r = find(set, "native-bad");
    CHECK(r && r->output_mode == OAB_OUTPUT_NATIVE);
    CHECK_STR(r ? r->invalid_reason : NULL,
              "/humidity: expected integer, got string");
    r = find(set, "tool-ok");
    CHECK(r && r->output_mode == OAB_OUTPUT_TOOL && r->parsed_json &&
          strstr(r->parsed_json, "Berlin"));
    r = find(set, "tool-none");
    CHECK_STR(r ? r->invalid_reason : NULL,
              "no call of the tool \"final_result\" in the answer");
    r = find(set, "prompted-ok");
    CHECK(r && r->output_mode == OAB_OUTPUT_PROMPTED && r->parsed_json &&
          strstr(r->parsed_json, "Miami"));
    r = find(set, "prompted-bad");
    CHECK_STR(r ? r->invalid_reason : NULL,
              "/temperature: expected number, got string");
    r = find(set, "plain-1");
    CHECK(r && r->output_mode == OAB_OUTPUT_NONE && !r->parsed_json);
    CHECK(r && !r->from_error_file && r->source_line == 2);
    r = find(set, "http-400");
    CHECK(r && r->from_error_file && r->source_line == 1);
    r = find(set, "missing-1");
    CHECK(r && r->status == OAB_RESULT_MISSING && r->input_line == 17);
    CHECK_STR(r ? r->error_code : NULL, "missing");
    CHECK(r && r->source_line == 0 && r->line_id == NULL);
    r = find(set, "broken-1");
    CHECK(r && r->input_line == 16 && r->source_line == 12);
    r = find(set, "cut-1");
    CHECK_STR(r ? r->error_code : NULL, "truncated_line");
    oab_result_set_free(set);
}

typedef struct seen {
    int n, stop_at;
    char ids[64][32];
    int from_error[64];
} seen;

static int on_result(const oab_result *r, void *ud)
{
    seen *s = ud;
    if (s->n < 64) {
        snprintf(s->ids[s->n], sizeof s->ids[0], "%s",
                 r->custom_id ? r->custom_id : "");
        s->from_error[s->n] = r->from_error_file;
    }
    s->n++;
    return s->stop_at && s->n >= s->stop_at;
}

static void test_streaming_shapes(void)
{
    oab_results_options o = OAB_RESULTS_OPTIONS_INIT;
    o.input_path = in_path;
    oab_summary s;
    oab_error err;
    seen sn;

    /* file order: output, errors, then the missing ones */
    memset(&sn, 0, sizeof sn);
    CHECK_OK(oab_results_stream_files(out_path, err_path, &o, on_result, &sn,
                                      &s, &err));
    CHECK_EQ_INT(sn.n, N_INPUT);
    CHECK_STR(sn.ids[0], "tool-ok");
    CHECK_STR(sn.ids[12], "cut-1");
    CHECK_STR(sn.ids[13], "http-400");
    CHECK_EQ_INT(sn.from_error[13], 1);
    CHECK_EQ_INT(sn.from_error[12], 0);
    CHECK_STR(sn.ids[17], "missing-1");

    /* error_file_id null or "": no error file */
    memset(&sn, 0, sizeof sn);
    CHECK_OK(oab_results_stream_files(out_path, NULL, &o, on_result, &sn, &s,
                                      &err));
    CHECK_EQ_INT(sn.n, N_INPUT);
    CHECK_EQ_INT(s.by_status[OAB_RESULT_MISSING], 5);
    CHECK_EQ_INT(s.by_status[OAB_RESULT_HTTP_ERROR], 0);

    /* output_file_id null: everything failed */
    memset(&sn, 0, sizeof sn);
    CHECK_OK(oab_results_stream_files(NULL, err_path, &o, on_result, &sn, &s,
                                      &err));
    CHECK_EQ_INT(sn.n, N_INPUT);
    CHECK_EQ_INT(s.by_status[OAB_RESULT_MISSING], 14);
    CHECK_EQ_INT(s.by_status[OAB_RESULT_EXPIRED], 1);
    CHECK_STR(sn.ids[0], "http-400");

    /* no file at all: all missing */
    CHECK_OK(oab_results_stream_files(NULL, NULL, &o, NULL, NULL, &s, &err));
    CHECK_EQ_INT(s.total, N_INPUT);
    CHECK_EQ_INT(s.by_status[OAB_RESULT_MISSING], N_INPUT);

    /* without the input: only what the files hold */
    CHECK_OK(oab_results_stream_files(out_path, err_path, NULL, NULL, NULL,
                                      &s, &err));
    CHECK_EQ_INT(s.total, 17);
    CHECK_EQ_INT(s.by_status[OAB_RESULT_MISSING], 0);
    CHECK_EQ_INT(s.by_status[OAB_RESULT_INVALID_OUTPUT], 0);
    CHECK_EQ_INT(s.by_status[OAB_RESULT_SUCCEEDED], 11);

    /* a custom_id twice (here: the same file given twice) */
    CHECK_OK(oab_results_stream_files(out_path, out_path, &o, NULL, NULL, &s,
                                      &err));
    CHECK_EQ_INT(s.total, 13 + 13 + 5);
    CHECK_EQ_INT(s.duplicates, 13);
    CHECK_EQ_INT(s.by_status[OAB_RESULT_MISSING], 5);

    /* one schema for every line, overriding the input's */
    oab_schema *sch = NULL;
    CHECK_OK(oab_schema_new(&sch, "WeatherResult", NULL, WEATHER, 0, &err));
    oab_results_options o2 = OAB_RESULTS_OPTIONS_INIT;
    o2.schema = sch;
    o2.mode = OAB_OUTPUT_NATIVE;
    oab_result_set *set = NULL;
    CHECK_OK(oab_results_collect_files(&set, out_path, NULL, &o2, &err));
    const oab_result *r = set ? find(set, "plain-1") : NULL;
    CHECK(r && r->status == OAB_RESULT_INVALID_OUTPUT);
    r = set ? find(set, "native-ok") : NULL;
    CHECK(r && r->status == OAB_RESULT_SUCCEEDED);
    oab_result_set_free(set);
    oab_schema_free(sch);

    /* the callback stops the run */
    memset(&sn, 0, sizeof sn);
    sn.stop_at = 3;
    CHECK_EQ_INT(oab_results_stream_files(out_path, err_path, &o, on_result,
                                          &sn, &s, &err),
                 OAB_ESTOPPED);
    CHECK_EQ_INT(sn.n, 3);
    CHECK_EQ_INT(s.total, 3);

    /* errors */
    CHECK_EQ_INT(oab_results_stream_files("/nonexistent/out.jsonl", NULL,
                                          NULL, NULL, NULL, &s, &err),
                 OAB_EIO);
    CHECK(strstr(err.message, "/nonexistent/out.jsonl") != NULL);
    o.input_path = "/nonexistent/in.jsonl";
    CHECK_EQ_INT(oab_results_stream_files(out_path, NULL, &o, NULL, NULL, &s,
                                          &err),
                 OAB_EIO);
    oab_results_options o3 = OAB_RESULTS_OPTIONS_INIT;
    o3.input_order = 1;
    CHECK_EQ_INT(oab_results_collect_files(&set, out_path, NULL, &o3, &err),
                 OAB_EINVAL);
    CHECK(set == NULL);
    oab_result_set_free(NULL);
    oab_result_free(NULL);
}

/* 50,000 input lines with one schema: one copy kept, all checked. */
static void test_many_lines_one_schema(void)
{
    char dir[] = "/tmp/oab_results_XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    char *in = oab__sprintf("%s/in.jsonl", dir);
    char *out = oab__sprintf("%s/out.jsonl", dir);
    FILE *fi = fopen(in, "w"), *fo = fopen(out, "w");
    CHECK(fi && fo);
    if (!fi || !fo)
        return;
    const int n = 50000;
    for (int i = 0; i < n; i++) {
        fprintf(fi,
                "{\"custom_id\":\"r%d\",\"method\":\"POST\",\"url\":"
                "\"/v1/chat/completions\",\"body\":{\"model\":\"m\","
                "\"messages\":[{\"role\":\"user\",\"content\":\"q\"}],"
                "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":"
                "{\"name\":\"W\",\"schema\":%s}}}}\n",
                i, WEATHER);
        if (i % 1000 == 999) /* one answer in a thousand never came */
            continue;
        /* answers in reverse order of thirds, to shuffle the file */
        fprintf(fo,
                "{\"id\":\"b%d\",\"custom_id\":\"r%d\",\"response\":{"
                "\"status_code\":200,\"body\":{\"choices\":[{\"message\":{"
                "\"content\":\"{\\\"location\\\":\\\"X\\\",\\\"temperature\\\":1,"
                "\\\"condition\\\":\\\"c\\\",\\\"humidity\\\":%s}\"}}]}},"
                "\"error\":null}\n",
                i, n - 1 - i, i % 10 == 0 ? "1.5" : "2");
    }
    fclose(fi);
    fclose(fo);
    oab_results_options o = OAB_RESULTS_OPTIONS_INIT;
    o.input_path = in;
    o.input_order = 1;
    oab_result_set *set = NULL;
    oab_error err;
    CHECK_OK(oab_results_collect_files(&set, out, NULL, &o, &err));
    if (set) {
        CHECK_EQ_INT(set->n, n);
        int order_ok = 1;
        for (size_t i = 0; i < set->n; i++)
            order_ok &= set->items[i]->input_line == (long)i + 1;
        CHECK(order_ok);
        CHECK_EQ_INT(set->summary.by_status[OAB_RESULT_MISSING], 50);
        CHECK_EQ_INT(set->summary.by_status[OAB_RESULT_INVALID_OUTPUT], 5000);
        CHECK_EQ_INT(set->summary.by_status[OAB_RESULT_SUCCEEDED],
                     n - 50 - 5000);
        CHECK_STR(set->items[0]->custom_id, "r0");
        CHECK_EQ_INT(set->items[1]->output_mode, OAB_OUTPUT_NATIVE);
    }
    oab_result_set_free(set);
    remove(in);
    remove(out);
    rmdir(dir);
    free(in);
    free(out);
}

int main(void)
{
    const char *dir = getenv("OAB_TESTS");
    if (!dir)
        dir = "tests";
    snprintf(out_path, sizeof out_path, "%s/lib/fixtures/results/output.jsonl", dir);
    snprintf(err_path, sizeof err_path, "%s/lib/fixtures/results/errors.jsonl", dir);
    snprintf(in_path, sizeof in_path, "%s/lib/fixtures/results/input.jsonl", dir);
    test_collect_in_input_order();
    test_streaming_shapes();
    test_many_lines_one_schema();
    return t_summary("test_results_files");
}
