/* test_transport.c - the client, transport, Files and Batches calls and
 * the wait loop against tests/harness/mock_server.py (cases in
 * tests/harness/mock_cases/).
 * Every case asserts what the library returns and, through the mock's
 * report, the exact requests it sent. */
#include <cjson/cJSON.h>
#include "oaibatch.h"
#include "testutil.h"
#include "mock_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#define KEY "sk-test-secret-key"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void clear_env(void)
{
    unsetenv("OPENAI_API_KEY");
    unsetenv("OPENAI_BASE_URL");
    unsetenv("OPENAI_ORG_ID");
    unsetenv("OPENAI_PROJECT_ID");
    unsetenv("AZURE_OPENAI_API_KEY");
    unsetenv("AZURE_OPENAI_ENDPOINT");
}

/* A client for the mock with tiny retry delays. */
static oab_client *client_for(const mock *m, int max_retries)
{
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    o.api_key = KEY;
    o.base_url = m->base;
    o.max_retries = max_retries;
    o.retry_base_ms = 5;
    o.timeout_ms = 20000;
    oab_client *c = NULL;
    CHECK_OK(oab_client_new(&c, &o));
    return c;
}

/* A port nobody listens on. */
static int closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind(s, (struct sockaddr *)&a, sizeof a);
    getsockname(s, (struct sockaddr *)&a, &len);
    close(s);
    return ntohs(a.sin_port);
}

#define START(m, name)                       \
    mock m;                                  \
    if (mock_start(&m, name, NULL) != 0) {   \
        CHECK(!"mock did not start: " name); \
        return;                              \
    }

/* ---- client options ---- */

static void test_options(void)
{
    clear_env();
    oab_client *c = NULL;
    /* OpenAI's base URL needs a key, before any request */
    CHECK_EQ_INT(oab_client_new(&c, NULL), OAB_ENOKEY);
    CHECK(c == NULL);
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    o.base_url = "https://api.openai.com/v1/";
    CHECK_EQ_INT(oab_client_new(&c, &o), OAB_ENOKEY);
    o.azure = 1;
    o.base_url = "https://res.openai.azure.com/openai";
    CHECK_EQ_INT(oab_client_new(&c, &o), OAB_ENOKEY);
    /* a local server needs none */
    o = (oab_client_options)OAB_CLIENT_OPTIONS_INIT;
    o.base_url = "http://127.0.0.1:9/v1/";
    o.model = "openai:gpt-4o-mini";
    CHECK_OK(oab_client_new(&c, &o));
    CHECK_STR(oab_client_base_url(c), "http://127.0.0.1:9/v1");
    CHECK_STR(oab_client_model(c), "gpt-4o-mini");
    CHECK_STR(oab_client_errmsg(c), "");
    CHECK_EQ_INT(oab_client_last_error(c)->status, OAB_OK);
    oab_client_free(c);
    o.model = "gpt-4o-mini";
    CHECK_OK(oab_client_new(&c, &o));
    CHECK_STR(oab_client_model(c), "gpt-4o-mini");
    oab_client_free(c);
    /* env fallbacks */
    setenv("OPENAI_API_KEY", "sk-env", 1);
    setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/env/", 1);
    CHECK_OK(oab_client_new(&c, NULL));
    CHECK_STR(oab_client_base_url(c), "http://127.0.0.1:9/env");
    CHECK(oab_client_model(c) == NULL);
    oab_client_free(c);
    setenv("OPENAI_BASE_URL", "https://api.openai.com/v1", 1);
    CHECK_OK(oab_client_new(&c, NULL)); /* key from the environment */
    oab_client_free(c);
    clear_env();
    /* malformed options */
    o = (oab_client_options)OAB_CLIENT_OPTIONS_INIT;
    o.base_url = "ftp://x";
    CHECK_EQ_INT(oab_client_new(&c, &o), OAB_EINVAL);
    o.base_url = "http://127.0.0.1:9";
    const char *bad[] = {"X-Evil: a\r\nInjected: b"};
    o.extra_headers = bad;
    o.n_extra_headers = 1;
    CHECK_EQ_INT(oab_client_new(&c, &o), OAB_EINVAL);
    o.n_extra_headers = 0;
    o.max_retries = -2;
    CHECK_EQ_INT(oab_client_new(&c, &o), OAB_EINVAL);
    CHECK(oab_client_new(NULL, &o) == OAB_EINVAL);
    oab_client_free(NULL);
}

/* ---- batches ---- */

static void test_retrieve_full(void)
{
    START(m, "retrieve_full");
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    o.api_key = KEY;
    o.base_url = m.base;
    o.organization = "org-1";
    o.project = "proj-1";
    o.user_agent_suffix = "mytool/1.0";
    const char *extra[] = {"X-Extra: yes"};
    o.extra_headers = extra;
    o.n_extra_headers = 1;
    oab_client *c = NULL;
    CHECK_OK(oab_client_new(&c, &o));
    oab_job *j = NULL;
    CHECK_OK(oab_batch_retrieve(c, &j, "batch_full"));
    CHECK_STR(oab_client_last_request_id(c), "req_full");
    if (j) {
        CHECK_STR(j->id, "batch_full");
        CHECK_STR(j->object, "batch");
        CHECK_STR(j->endpoint, "/v1/chat/completions");
        CHECK_STR(j->model, "gpt-4o-mini-2024-07-18");
        CHECK_STR(j->input_file_id, "file-in");
        CHECK_STR(j->output_file_id, "file-out");
        CHECK_STR(j->error_file_id, "file-err");
        CHECK_STR(j->completion_window, "24h");
        CHECK_EQ_INT(j->status, OAB_BATCH_COMPLETED);
        CHECK_STR(j->status_text, "completed");
        CHECK_EQ_INT(j->created_at, 1700000001);
        CHECK_EQ_INT(j->in_progress_at, 1700000002);
        CHECK_EQ_INT(j->expires_at, 1700086401);
        CHECK_EQ_INT(j->finalizing_at, 1700000003);
        CHECK_EQ_INT(j->completed_at, 1700000004);
        CHECK_EQ_INT(j->failed_at, 1700000005);
        CHECK_EQ_INT(j->expired_at, 1700000006);
        CHECK_EQ_INT(j->cancelling_at, 1700000007);
        CHECK_EQ_INT(j->cancelled_at, 1700000008);
        CHECK_EQ_INT(j->has_request_counts, 1);
        CHECK_EQ_INT(j->count_total, 10);
        CHECK_EQ_INT(j->count_completed, 8);
        CHECK_EQ_INT(j->count_failed, 2);
        CHECK_EQ_INT(j->has_usage, 1);
        CHECK_EQ_INT(j->input_tokens, 100);
        CHECK_EQ_INT(j->cached_tokens, 40);
        CHECK_EQ_INT(j->output_tokens, 50);
        CHECK_EQ_INT(j->reasoning_tokens, 20);
        CHECK_EQ_INT(j->total_tokens, 150);
        CHECK_EQ_INT(j->n_metadata, 2);
        if (j->n_metadata == 2) {
            CHECK_STR(j->metadata[0].key, "project");
            CHECK_STR(j->metadata[0].value, "alpha");
            CHECK_STR(j->metadata[1].key, "run");
            CHECK_STR(j->metadata[1].value, "7");
        }
        CHECK_EQ_INT(j->n_errors, 2);
        if (j->n_errors == 2) {
            CHECK_STR(j->errors[0].code, "invalid_json_line");
            CHECK_STR(j->errors[0].message, "bad line");
            CHECK_STR(j->errors[0].param, "body");
            CHECK_EQ_INT(j->errors[0].line, 3);
            CHECK(j->errors[1].param == NULL);
            CHECK_EQ_INT(j->errors[1].line, 0);
        }
        CHECK(j->raw_json && strstr(j->raw_json, "\"batch_full\""));
        oab_job *d = NULL;
        CHECK_OK(oab_job_dup(&d, j));
        if (d) {
            CHECK_STR(d->error_file_id, "file-err");
            CHECK_EQ_INT(d->cached_tokens, 40);
            CHECK(d->raw_json != j->raw_json);
        }
        oab_job_free(d);
        /* the copy of a job without raw JSON, field by field */
        char *raw = j->raw_json;
        j->raw_json = NULL;
        CHECK_OK(oab_job_dup(&d, j));
        if (d) {
            CHECK_STR(d->metadata[1].value, "7");
            CHECK_STR(d->errors[0].param, "body");
            CHECK_EQ_INT(d->errors[0].line, 3);
            CHECK_EQ_INT(d->cancelled_at, 1700000008);
        }
        oab_job_free(d);
        j->raw_json = raw;
    }
    oab_job_free(j);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));
}

static void test_retrieve_min(void)
{
    START(m, "retrieve_min");
    oab_client *c = client_for(&m, 0);
    oab_job *j = NULL;
    CHECK_OK(oab_batch_retrieve(c, &j, "batch_min"));
    if (j) {
        CHECK_EQ_INT(j->status, OAB_BATCH_UNKNOWN);
        CHECK_STR(j->status_text, "paused_for_maintenance");
        CHECK(j->model == NULL);
        CHECK(j->output_file_id == NULL);
        CHECK(j->error_file_id == NULL); /* "" means none */
        CHECK_EQ_INT(j->has_request_counts, 0);
        CHECK_EQ_INT(j->has_usage, 0);
        CHECK_EQ_INT(j->n_metadata, 0);
        CHECK_EQ_INT(j->n_errors, 0);
        CHECK_EQ_INT(j->completed_at, 0);
        CHECK_EQ_INT(j->created_at, 1700000000);
    }
    oab_job_free(j);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));
}

static void test_job_parse(void)
{
    oab_job *j = NULL;
    oab_error e;
    CHECK_EQ_INT(oab_job_parse(&j, "{\"id\":\"b\"}", 10, &e), OAB_EPROTO);
    CHECK(strstr(e.message, "status") != NULL);
    CHECK_EQ_INT(oab_job_parse(&j, "{\"status\":\"failed\"}", 19, &e), OAB_EPROTO);
    CHECK(strstr(e.message, "id") != NULL);
    CHECK_EQ_INT(oab_job_parse(&j, "[1]", 3, &e), OAB_EPROTO);
    CHECK_EQ_INT(oab_job_parse(&j, "{x", 2, &e), OAB_EJSON);
    CHECK(j == NULL);
    const char *ok = "{\"id\":\"b\",\"status\":\"failed\",\"errors\":null,"
                     "\"metadata\":null,\"usage\":null,\"request_counts\":null}";
    CHECK_OK(oab_job_parse(&j, ok, strlen(ok), &e));
    if (j) {
        CHECK_EQ_INT(j->status, OAB_BATCH_FAILED);
        CHECK_EQ_INT(j->n_errors, 0);
    }
    oab_job_free(j);
    oab_file *f = NULL;
    const char *fj = "{\"id\":\"file-1\",\"object\":\"file\",\"bytes\":12,"
                     "\"created_at\":5,\"expires_at\":null,\"filename\":\"a\","
                     "\"purpose\":\"batch_output\"}";
    CHECK_OK(oab_file_parse(&f, fj, strlen(fj), &e));
    if (f) {
        CHECK_STR(f->id, "file-1");
        CHECK_EQ_INT(f->bytes, 12);
        CHECK_EQ_INT(f->expires_at, 0);
        CHECK_STR(f->purpose, "batch_output");
        CHECK(f->status == NULL);
    }
    oab_file_free(f);
    CHECK_EQ_INT(oab_file_parse(&f, "{}", 2, &e), OAB_EPROTO);
}

static void test_create_batch(void)
{
    START(m, "create_batch");
    oab_client *c = client_for(&m, 0);
    oab_batch_options bo = OAB_BATCH_OPTIONS_INIT;
    const char *keys[] = {"project", "note"};
    const char *vals[] = {"alpha", "h\xc3\xa9 \"q\""};
    bo.endpoint = "/v1/embeddings";
    bo.metadata_keys = keys;
    bo.metadata_values = vals;
    bo.n_metadata = 2;
    bo.output_expires_after_s = 7200;
    oab_job *j = NULL;
    CHECK_OK(oab_batch_create(c, &j, "file-in", &bo));
    CHECK(j && j->status == OAB_BATCH_VALIDATING);
    CHECK_STR(oab_client_last_request_id(c), "req_create");
    oab_job_free(j);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));
}

static void test_metadata_limits(void)
{
    /* refused before anything is sent: the port is closed, so a request
     * would give OAB_ECONNECT instead */
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", closed_port());
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    o.base_url = base;
    o.max_retries = -1;
    oab_client *c = NULL;
    CHECK_OK(oab_client_new(&c, &o));
    const char *keys[17], *vals[17];
    char kbuf[17][16];
    for (int i = 0; i < 17; i++) {
        snprintf(kbuf[i], sizeof kbuf[i], "k%d", i);
        keys[i] = kbuf[i];
        vals[i] = "v";
    }
    oab_batch_options bo = OAB_BATCH_OPTIONS_INIT;
    bo.metadata_keys = keys;
    bo.metadata_values = vals;
    bo.n_metadata = 17;
    oab_job *j = NULL;
    CHECK_EQ_INT(oab_batch_create(c, &j, "file-in", &bo), OAB_EINVAL);
    CHECK(strstr(oab_client_errmsg(c), "16") != NULL);
    char longkey[66];
    memset(longkey, 'k', 65);
    longkey[65] = '\0';
    keys[0] = longkey;
    bo.n_metadata = 1;
    CHECK_EQ_INT(oab_batch_create(c, &j, "file-in", &bo), OAB_EINVAL);
    keys[0] = "k";
    static char longval[514];
    memset(longval, 'v', 513);
    longval[513] = '\0';
    vals[0] = longval;
    CHECK_EQ_INT(oab_batch_create(c, &j, "file-in", &bo), OAB_EINVAL);
    /* 512 characters of two bytes each is fine (characters, not bytes) */
    static char utf[1025];
    for (int i = 0; i < 512; i++) {
        utf[2 * i] = (char)0xc3;
        utf[2 * i + 1] = (char)0xa9;
    }
    utf[1024] = '\0';
    vals[0] = utf;
    CHECK_EQ_INT(oab_batch_create(c, &j, "file-in", &bo), OAB_ECONNECT);
    /* list limit */
    oab_job_list *l = NULL;
    CHECK_EQ_INT(oab_batch_list(c, &l, 101, NULL), OAB_EINVAL);
    CHECK_EQ_INT(oab_batch_retrieve(c, &j, ""), OAB_EINVAL);
    oab_client_free(c);
}

static void test_cancel(void)
{
    START(m, "cancel");
    oab_client *c = client_for(&m, 0);
    oab_job *j = NULL;
    CHECK_OK(oab_batch_cancel(c, &j, "batch_1"));
    CHECK(j && j->status == OAB_BATCH_CANCELLING);
    oab_job_free(j);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));
}

typedef struct ids {
    char all[256];
    int n;
    int stop_at;
} ids;

static int collect_id(const oab_job *j, void *ud)
{
    ids *s = ud;
    strcat(s->all, j->id);
    strcat(s->all, " ");
    s->n++;
    return s->stop_at && s->n >= s->stop_at;
}

static void test_list_pages(void)
{
    START(m, "list_pages");
    oab_client *c = client_for(&m, 0);
    ids s;
    memset(&s, 0, sizeof s);
    CHECK_OK(oab_batch_list_all(c, 2, collect_id, &s));
    CHECK_STR(s.all, "batch_1 batch_2 batch_3 batch_4 batch_5 ");
    oab_job_list *l = NULL;
    CHECK_OK(oab_batch_list(c, &l, 0, NULL));
    if (l) {
        CHECK_EQ_INT(l->n, 1);
        CHECK_STR(l->first_id, "batch_9");
        CHECK_STR(l->last_id, "batch_9");
        CHECK_EQ_INT(l->has_more, 0);
        CHECK_STR(l->jobs[0]->id, "batch_9");
    }
    oab_job_list_free(l);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));
}

static void test_file_list(void)
{
    START(m, "file_list");
    oab_client *c = client_for(&m, 0);
    oab_file_page *l = NULL;
    CHECK_OK(oab_file_list(c, &l, "batch_output", 2, "file-a", "asc"));
    if (l) {
        CHECK_EQ_INT(l->n, 2);
        CHECK_STR(l->first_id, "file-b");
        CHECK_STR(l->last_id, "file-c");
        CHECK_EQ_INT(l->has_more, 1);
        CHECK_STR(l->files[0]->id, "file-b");
        CHECK_STR(l->files[0]->purpose, "batch_output");
        CHECK_EQ_INT(l->files[0]->bytes, 120);
        CHECK_EQ_INT(l->files[1]->expires_at, 1700086403);
        CHECK_STR(l->files[1]->filename, "out2.jsonl");
    }
    oab_file_page_free(l);
    l = NULL;
    /* no parameters: none sent; a page without first_id/last_id takes
     * the last item's id as its cursor */
    CHECK_OK(oab_file_list(c, &l, NULL, 0, NULL, NULL));
    if (l) {
        CHECK_EQ_INT(l->n, 1);
        CHECK(l->first_id == NULL);
        CHECK_STR(l->last_id, "file-z");
        CHECK_EQ_INT(l->has_more, 0);
    }
    oab_file_page_free(l);
    l = (oab_file_page *)1;
    /* an item that is not a File object */
    CHECK_EQ_INT(oab_file_list(c, &l, NULL, 0, NULL, NULL), OAB_EPROTO);
    CHECK(l == NULL);
    CHECK(strstr(oab_client_last_error(c)->message, "item 0") != NULL);
    /* refused before anything is sent */
    CHECK_EQ_INT(oab_file_list(c, &l, NULL, 10001, NULL, NULL), OAB_EINVAL);
    CHECK_EQ_INT(oab_file_list(c, &l, NULL, -1, NULL, NULL), OAB_EINVAL);
    CHECK_EQ_INT(oab_file_list(c, &l, NULL, 0, NULL, "up"), OAB_EINVAL);
    CHECK_EQ_INT(oab_file_list(c, NULL, NULL, 0, NULL, NULL), OAB_EINVAL);
    oab_file_page_free(NULL);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));
}

/* ---- files ---- */

static const char *CONTENT =
    "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
    "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[]}}\n";

static void test_upload_buffer(void)
{
    START(m, "upload_buffer");
    oab_client *c = client_for(&m, 0);
    oab_file *f = NULL;
    CHECK_OK(oab_file_upload_buffer(c, &f, CONTENT, strlen(CONTENT), "in.jsonl",
                                    NULL, 86400));
    if (f) {
        CHECK_STR(f->id, "file-up");
        CHECK_STR(f->purpose, "batch");
        CHECK_EQ_INT(f->bytes, (long long)strlen(CONTENT));
    }
    oab_file_free(f);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));
}

static char tmpdir[256];

static void test_upload_path(void)
{
    START(m, "upload_path");
    char path[512];
    snprintf(path, sizeof path, "%s/upload_path.jsonl", tmpdir);
    FILE *fp = fopen(path, "w");
    for (int i = 0; i < 3; i++)
        fputs(CONTENT, fp);
    fclose(fp);
    oab_client *c = client_for(&m, 0);
    oab_file *f = NULL;
    CHECK_OK(oab_file_upload_path(c, &f, path, "batch", 0));
    CHECK(f && f->expires_at == 0);
    oab_file_free(f);
    /* a name of its own; a name the header could not carry is refused
     * with nothing sent (the case expects two uploads only) */
    static const char *const bad[] = { "", "a/b.jsonl", "a\"b", "a\\b",
                                       "a\nb", "a\x7f" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(oab_file_upload_path_as(c, &f, path, bad[i], NULL, 0),
                     OAB_EINVAL);
        CHECK(f == NULL);
        CHECK(strstr(oab_client_errmsg(c), "filename") != NULL);
    }
    CHECK_OK(oab_file_upload_path_as(c, &f, path, "job_1.part001.jsonl",
                                     "batch", 0));
    CHECK(f && strcmp(f->filename, "job_1.part001.jsonl") == 0);
    oab_file_free(f);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/none.jsonl", tmpdir);
    CHECK_EQ_INT(oab_file_upload_path(c, &f, missing, NULL, 0), OAB_EIO);
    CHECK(strstr(oab_client_errmsg(c), "none.jsonl") != NULL);
    oab_client_free(c);
    remove(path);
    CHECK(mock_finish(&m, NULL));
}

static void test_file_ops(void)
{
    START(m, "file_ops");
    oab_client *c = client_for(&m, 0);
    oab_file *f = NULL;
    CHECK_OK(oab_file_retrieve(c, &f, "file-1"));
    CHECK(f && strcmp(f->id, "file-1") == 0);
    oab_file_free(f);
    CHECK_OK(oab_file_delete(c, "file-1"));
    CHECK_EQ_INT(oab_file_delete(c, "file-2"), OAB_ENOTFOUND);
    const oab_error_detail *d = oab_client_last_error(c);
    CHECK_EQ_INT(d->http_status, 404);
    CHECK_STR(d->type, "invalid_request_error");
    CHECK_STR(d->param, "id");
    CHECK(d->code == NULL);
    CHECK_STR(d->request_id, "req_404");
    CHECK_EQ_INT(d->attempts, 1); /* 404 is not retried */
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));
}

/* ---- faults ---- */

static void test_retry_429(void)
{
    START(m, "retry_429");
    oab_client *c = client_for(&m, 0);
    oab_job *j = NULL;
    double t0 = now_s();
    CHECK_OK(oab_batch_retrieve(c, &j, "batch_1"));
    /* Retry-After: 1 was honoured (a lower bound, never flaky) */
    CHECK(now_s() - t0 >= 0.95);
    CHECK_STR(oab_client_last_request_id(c), "req_ok");
    /* the failed first attempt leaves no detail behind a success */
    CHECK_EQ_INT(oab_client_last_error(c)->status, OAB_OK);
    CHECK_STR(oab_client_errmsg(c), "");
    oab_job_free(j);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));

    START(m2, "ratelimit_noretry");
    c = client_for(&m2, -1);
    CHECK_EQ_INT(oab_batch_retrieve(c, &j, "batch_1"), OAB_ERATELIMIT);
    const oab_error_detail *d = oab_client_last_error(c);
    CHECK(d->retry_after_s > 6.99 && d->retry_after_s < 7.01);
    CHECK_EQ_INT(d->attempts, 1);
    CHECK_STR(d->code, "rate_limit_exceeded");
    CHECK_STR(d->request_id, "req_429");
    oab_client_free(c);
    CHECK(mock_finish(&m2, NULL));
}

static void test_retry_after_ms(void)
{
    START(m, "retry_after_ms");
    oab_client *c = client_for(&m, 3);
    oab_job *j = NULL;
    CHECK_OK(oab_batch_retrieve(c, &j, "batch_1"));
    oab_job_free(j);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));
}

static void test_server_500(void)
{
    START(m, "server_500");
    oab_client *c = client_for(&m, 0); /* default: 2 retries */
    oab_job *j = NULL;
    CHECK_EQ_INT(oab_batch_retrieve(c, &j, "batch_1"), OAB_ESERVER);
    CHECK(j == NULL);
    const oab_error_detail *d = oab_client_last_error(c);
    CHECK_EQ_INT(d->status, OAB_ESERVER);
    CHECK_EQ_INT(d->http_status, 500);
    CHECK_EQ_INT(d->attempts, 3);
    CHECK_STR(d->type, "server_error");
    CHECK_STR(d->message, "The server had an error");
    CHECK_STR(d->request_id, "req_500");
    CHECK(strstr(oab_client_errmsg(c), "HTTP 500") != NULL);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));
}

static void test_error_body(void)
{
    START(m, "no_retry_400");
    oab_client *c = client_for(&m, 0);
    oab_job *j = NULL;
    CHECK_EQ_INT(oab_batch_create(c, &j, "file-in", NULL), OAB_EHTTP);
    const oab_error_detail *d = oab_client_last_error(c);
    CHECK_EQ_INT(d->http_status, 400);
    CHECK_STR(d->type, "invalid_request_error");
    CHECK_STR(d->code, "invalid_value");
    CHECK_STR(d->param, "completion_window");
    CHECK_STR(d->message, "Invalid 'completion_window': '48h'.");
    CHECK_STR(d->request_id, "req_400");
    CHECK_EQ_INT(d->attempts, 1);
    CHECK_STR(oab_client_errmsg(c),
              "HTTP 400 (invalid_request_error, invalid_value): Invalid "
              "'completion_window': '48h'. (param completion_window) "
              "[request req_400]");
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));
}

static void test_auth_401(void)
{
    START(m, "auth_401");
    oab_client *c = client_for(&m, 0);
    oab_job *j = NULL;
    CHECK_EQ_INT(oab_batch_retrieve(c, &j, "batch_1"), OAB_EAUTH);
    const oab_error_detail *d = oab_client_last_error(c);
    CHECK_STR(d->code, "invalid_api_key");
    CHECK(strstr(oab_client_errmsg(c), KEY) == NULL);
    CHECK(d->message && strstr(d->message, KEY) == NULL);
    CHECK(strstr(oab_client_errmsg(c), "Incorrect API key provided: ***") != NULL);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));
}

static void test_perm_403(void)
{
    START(m, "perm_403");
    oab_client *c = client_for(&m, 0);
    oab_job *j = NULL;
    CHECK_EQ_INT(oab_batch_retrieve(c, &j, "batch_1"), OAB_EPERM);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));
}

static void test_connection_refused(void)
{
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", closed_port());
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    o.api_key = KEY;
    o.base_url = base;
    o.retry_base_ms = 1;
    oab_client *c = NULL;
    CHECK_OK(oab_client_new(&c, &o));
    oab_job *j = NULL;
    CHECK_EQ_INT(oab_batch_retrieve(c, &j, "batch_1"), OAB_ECONNECT);
    const oab_error_detail *d = oab_client_last_error(c);
    CHECK_EQ_INT(d->http_status, 0);
    CHECK_EQ_INT(d->attempts, 3); /* connection errors are retried */
    CHECK(d->transport != NULL);
    CHECK(strstr(oab_client_errmsg(c), "could not connect") != NULL);
    CHECK(strstr(oab_client_errmsg(c), KEY) == NULL);
    oab_client_free(c);
}

static void test_reset_mid_body(void)
{
    START(m, "reset_mid_body");
    oab_client *c = client_for(&m, 0);
    oab_job *j = NULL;
    CHECK_EQ_INT(oab_batch_retrieve(c, &j, "batch_1"), OAB_ETRANSPORT);
    CHECK_EQ_INT(oab_client_last_error(c)->attempts, 3);
    CHECK(oab_client_last_error(c)->transport != NULL);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));

    START(m2, "reset_then_ok");
    c = client_for(&m2, 0);
    CHECK_OK(oab_batch_retrieve(c, &j, "batch_1"));
    CHECK(j && strcmp(j->id, "batch_1") == 0);
    oab_job_free(j);
    oab_client_free(c);
    CHECK(mock_finish(&m2, NULL));
}

/* A create is sent once after an answer that leaves it open whether the
 * batch was made (a 500: a second create would make and bill a second
 * batch), and again after one that says it was not (a 429). */
static void test_create_once(void)
{
    START(m, "create_once");
    oab_client *c = client_for(&m, 3);
    oab_batch_options bo = OAB_BATCH_OPTIONS_INIT;
    oab_job *j = NULL;
    CHECK_EQ_INT(oab_batch_create(c, &j, "file-in", &bo), OAB_ESERVER);
    CHECK(j == NULL);
    CHECK_EQ_INT(oab_client_last_error(c)->attempts, 1);
    /* the 429, then the batch */
    CHECK_OK(oab_batch_create(c, &j, "file-in", &bo));
    CHECK(j && strcmp(j->id, "batch_2") == 0);
    CHECK_EQ_INT(oab_client_last_error(c)->attempts, 0);
    oab_job_free(j);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));
}

static void test_stall(void)
{
    START(m, "stall");
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    o.base_url = m.base;
    o.timeout_ms = 300;
    o.max_retries = -1;
    oab_client *c = NULL;
    CHECK_OK(oab_client_new(&c, &o));
    oab_job *j = NULL;
    CHECK_EQ_INT(oab_batch_retrieve(c, &j, "batch_1"), OAB_ETIMEOUT);
    CHECK_EQ_INT(oab_client_last_error(c)->attempts, 1);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));
}

static void test_malformed(void)
{
    START(m, "malformed_json");
    oab_client *c = client_for(&m, 0);
    oab_job *j = NULL;
    CHECK_EQ_INT(oab_batch_retrieve(c, &j, "batch_1"), OAB_EPROTO);
    CHECK_STR(oab_client_last_error(c)->request_id, "req_bad");
    CHECK(strstr(oab_client_errmsg(c), "not a JSON object") != NULL);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));

    START(m2, "too_big");
    c = client_for(&m2, 0);
    CHECK_EQ_INT(oab_batch_retrieve(c, &j, "batch_1"), OAB_ELIMIT);
    CHECK_EQ_INT(oab_client_last_error(c)->attempts, 1);
    oab_client_free(c);
    CHECK(mock_finish(&m2, NULL));
}

static void test_should_retry(void)
{
    START(m, "should_retry");
    oab_client *c = client_for(&m, 0);
    oab_job *j = NULL;
    CHECK_EQ_INT(oab_client_last_attempts(c), 0); /* no request yet */
    CHECK_EQ_INT(oab_client_last_attempts(NULL), 0);
    CHECK_OK(oab_batch_retrieve(c, &j, "batch_1"));
    oab_job_free(j);
    CHECK_EQ_INT(oab_client_last_attempts(c), 2); /* the 400, then a 200 */
    CHECK_EQ_INT(oab_batch_retrieve(c, &j, "batch_1"), OAB_ESERVER);
    const oab_error_detail *d = oab_client_last_error(c);
    CHECK_EQ_INT(d->attempts, 1);
    CHECK_EQ_INT(oab_client_last_attempts(c), 1);
    CHECK_STR(d->message, "<html>busy</html>"); /* not JSON: the text */
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));

    START(m2, "upload_retry");
    c = client_for(&m2, 0);
    oab_file *f = NULL;
    CHECK_OK(oab_file_upload_buffer(c, &f, CONTENT, strlen(CONTENT), "in.jsonl",
                                    "batch", 0));
    CHECK(f && strcmp(f->id, "file-up") == 0);
    /* a success after a 500: the first attempt may be stored too */
    CHECK_EQ_INT(oab_client_last_attempts(c), 2);
    oab_file_free(f);
    oab_client_free(c);
    CHECK(mock_finish(&m2, NULL));
}

/* The test bed reports what it should: a wrong request is not silently
 * accepted. */
static void test_mock_selftest(void)
{
    START(m, "mock_selftest");
    oab_client *c = client_for(&m, 0);
    oab_job *j = NULL;
    CHECK_OK(oab_batch_retrieve(c, &j, "batch_1"));
    oab_job_free(j);
    oab_client_free(c);
    /* a body that breaks CreateBatchRequest, sent by hand */
    char url[160];
    snprintf(url, sizeof url, "%s/batches", m.base);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS,
                     "{\"input_file_id\":\"f\",\"endpoint\":\"/v1/chat/completions\","
                     "\"completion_window\":\"48h\",\"colour\":1}");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, mock_collect);
    char *body = NULL;
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
    CHECK_EQ_INT(curl_easy_perform(e), CURLE_OK);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    free(body);
    cJSON *rep = NULL;
    mock_quiet = 1;
    CHECK(!mock_finish_report(&m, NULL, &rep));
    mock_quiet = 0;
    char *text = rep ? cJSON_PrintUnformatted(cJSON_GetObjectItem(rep, "mismatches")) : NULL;
    CHECK(text && strstr(text, "header X-Missing"));
    CHECK(text && strstr(text, "completion_window"));
    CHECK(text && strstr(text, "no property 'colour'"));
    free(text);
    cJSON_Delete(rep);
}

/* ---- downloads ---- */

#define LINE "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-----\n"

static int content_ok(const char *data, size_t len, size_t lines)
{
    size_t ll = strlen(LINE);
    if (len != ll * lines)
        return 0;
    for (size_t i = 0; i < lines; i++)
        if (memcmp(data + i * ll, LINE, ll) != 0)
            return 0;
    return 1;
}

static int file_content_ok(const char *path, size_t lines)
{
    char *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)n + 1);
    size_t got = fread(data, 1, (size_t)n, f);
    fclose(f);
    int ok = content_ok(data, got, lines);
    free(data);
    return ok;
}

static void test_download_resume(void)
{
    START(m, "download_resume");
    oab_client *c = client_for(&m, 0);
    char path[512], part[520];
    snprintf(path, sizeof path, "%s/out.jsonl", tmpdir);
    snprintf(part, sizeof part, "%s.part", path);
    CHECK_OK(oab_file_download_path(c, "file-out", path));
    CHECK(file_content_ok(path, 1000));
    struct stat sb;
    CHECK(stat(part, &sb) != 0); /* renamed */
    remove(path);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));

    /* a .part left by an earlier run is resumed */
    START(m2, "download_part");
    c = client_for(&m2, 0);
    FILE *f = fopen(part, "wb");
    for (int i = 0; i < 700; i++)
        fputc(LINE[i % (sizeof LINE - 1)], f);
    fclose(f);
    CHECK_OK(oab_file_download_path(c, "file-out", path));
    CHECK(file_content_ok(path, 1000));
    remove(path);
    oab_client_free(c);
    CHECK(mock_finish(&m2, NULL));

    /* a .part that is already whole: the server answers 416 */
    START(m4, "download_complete_part");
    c = client_for(&m4, 0);
    f = fopen(part, "wb");
    for (int i = 0; i < 100; i++)
        fputs(LINE, f);
    fclose(f);
    CHECK_OK(oab_file_download_path(c, "file-out", path));
    CHECK(file_content_ok(path, 100));
    remove(path);
    oab_client_free(c);
    CHECK(mock_finish(&m4, NULL));

    /* a server that ignores Range: the start is skipped */
    START(m3, "download_norange");
    c = client_for(&m3, 0);
    char *buf = NULL;
    size_t len = 0;
    CHECK_OK(oab_file_download_buffer(c, "file-out", &buf, &len));
    CHECK(buf && content_ok(buf, len, 100));
    oab_free(buf);
    oab_client_free(c);
    CHECK(mock_finish(&m3, NULL));
}

static void test_download_truncated(void)
{
    START(m, "download_truncated");
    oab_client *c = client_for(&m, 0);
    char path[512], part[520];
    snprintf(path, sizeof path, "%s/trunc.jsonl", tmpdir);
    snprintf(part, sizeof part, "%s.part", path);
    CHECK_EQ_INT(oab_file_download_path(c, "file-out", path), OAB_ETRUNCATED);
    CHECK(strstr(oab_client_errmsg(c), "got 500 of 6800 bytes") != NULL);
    struct stat sb;
    CHECK(stat(path, &sb) != 0);                      /* never renamed */
    CHECK(stat(part, &sb) == 0 && sb.st_size == 500); /* kept to resume */
    remove(part);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));

    START(m2, "download_truncated_noretry");
    c = client_for(&m2, -1);
    char *buf = NULL;
    CHECK_EQ_INT(oab_file_download_buffer(c, "file-out", &buf, NULL), OAB_ETRUNCATED);
    CHECK(buf == NULL);
    oab_client_free(c);
    CHECK(mock_finish(&m2, NULL));

    START(m3, "download_404");
    c = client_for(&m3, 0);
    CHECK_EQ_INT(oab_file_download_path(c, "file-none", path), OAB_ENOTFOUND);
    CHECK(stat(path, &sb) != 0);
    remove(part);
    oab_client_free(c);
    CHECK(mock_finish(&m3, NULL));
}

static int stop_early(const void *data, size_t len, void *ud)
{
    (void)data;
    *(size_t *)ud += len;
    return 1;
}

static void test_download_stop(void)
{
    START(m, "download_stop");
    oab_client *c = client_for(&m, -1);
    size_t got = 0;
    CHECK_EQ_INT(oab_file_download(c, "file-out", 0, stop_early, &got), OAB_ESTOPPED);
    CHECK(got > 0);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));
}

/* ---- client modes ---- */

static void test_azure(void)
{
    START(m, "azure");
    char base[96];
    snprintf(base, sizeof base, "%s/openai", m.root);
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    o.azure = 1;
    o.api_key = "az-key";
    o.base_url = base;
    oab_client *c = NULL;
    CHECK_OK(oab_client_new(&c, &o));
    oab_job *j = NULL;
    CHECK_OK(oab_batch_retrieve(c, &j, "batch_1"));
    oab_job_free(j);
    oab_job_list *l = NULL;
    CHECK_OK(oab_batch_list(c, &l, 5, NULL));
    CHECK(l && l->n == 0 && l->last_id == NULL);
    oab_job_list_free(l);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));
}

static void test_env_fallback(void)
{
    START(m, "env_fallback");
    setenv("OPENAI_API_KEY", "sk-from-env", 1);
    setenv("OPENAI_BASE_URL", m.base, 1);
    setenv("OPENAI_ORG_ID", "org-env", 1);
    setenv("OPENAI_PROJECT_ID", "proj-env", 1);
    oab_client *c = NULL;
    CHECK_OK(oab_client_new(&c, NULL));
    clear_env();
    oab_job *j = NULL;
    CHECK_OK(oab_batch_retrieve(c, &j, "batch_1"));
    oab_job_free(j);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));
}

static void test_reuse(void)
{
    START(m, "reuse_nokey");
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    o.base_url = m.base;
    oab_client *c = NULL;
    CHECK_OK(oab_client_new(&c, &o));
    for (int i = 0; i < 3; i++) {
        oab_job *j = NULL;
        CHECK_OK(oab_batch_retrieve(c, &j, "batch_1"));
        oab_job_free(j);
    }
    oab_client_free(c);
    int conns = 0;
    CHECK(mock_finish(&m, &conns));
    CHECK_EQ_INT(conns, 2); /* one for the client, one for the report */
}

/* ---- waiting ---- */

typedef struct seen {
    int calls;
    int stop_at;
    char statuses[128];
} seen;

static int on_progress(const oab_job *j, void *ud)
{
    seen *s = ud;
    s->calls++;
    strcat(s->statuses, j->status_text);
    strcat(s->statuses, " ");
    return s->stop_at && s->calls >= s->stop_at;
}

static void test_wait(void)
{
    START(m, "wait_poll");
    oab_client *c = client_for(&m, 0);
    seen s;
    memset(&s, 0, sizeof s);
    oab_wait_options w = OAB_WAIT_OPTIONS_INIT;
    w.first_interval_s = 0.01;
    w.factor = 2;
    w.max_interval_s = 0.02;
    w.progress = on_progress;
    w.userdata = &s;
    oab_job *j = NULL;
    CHECK_OK(oab_batch_wait(c, &j, "batch_1", &w));
    CHECK(j && j->status == OAB_BATCH_COMPLETED);
    CHECK(j && j->output_file_id && strcmp(j->output_file_id, "file-out") == 0);
    CHECK_STR(s.statuses, "validating in_progress finalizing completed ");
    oab_job_free(j);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));

    START(m2, "wait_timeout_cancel");
    c = client_for(&m2, 0);
    w = (oab_wait_options)OAB_WAIT_OPTIONS_INIT;
    w.first_interval_s = 0.3;
    w.timeout_s = 0.1;
    w.jitter = 0;
    w.cancel_on_timeout = 1;
    CHECK_EQ_INT(oab_batch_wait(c, &j, "batch_1", &w), OAB_ETIMEOUT);
    CHECK(j && j->status == OAB_BATCH_CANCELLING);
    CHECK(strstr(oab_client_errmsg(c), "cancel requested") != NULL);
    oab_job_free(j);
    oab_client_free(c);
    CHECK(mock_finish(&m2, NULL));

    START(m4, "wait_outage");
    c = client_for(&m4, 0);
    memset(&s, 0, sizeof s);
    w = (oab_wait_options)OAB_WAIT_OPTIONS_INIT;
    w.first_interval_s = 0.01;
    w.progress = on_progress;
    w.userdata = &s;
    CHECK_OK(oab_batch_wait(c, &j, "batch_1", &w));
    CHECK(j && j->status == OAB_BATCH_COMPLETED);
    CHECK_STR(s.statuses, "in_progress completed ");
    oab_job_free(j);
    oab_client_free(c);
    CHECK(mock_finish(&m4, NULL));

    START(m3, "wait_stop");
    c = client_for(&m3, 0);
    memset(&s, 0, sizeof s);
    s.stop_at = 2;
    w = (oab_wait_options)OAB_WAIT_OPTIONS_INIT;
    w.first_interval_s = 0.01;
    w.progress = on_progress;
    w.userdata = &s;
    CHECK_EQ_INT(oab_batch_wait(c, &j, "batch_1", &w), OAB_ESTOPPED);
    CHECK(j && j->status == OAB_BATCH_VALIDATING);
    CHECK_EQ_INT(s.calls, 2);
    oab_job_free(j);
    oab_client_free(c);
    CHECK(mock_finish(&m3, NULL));
}

/* ---- upload + create ---- */

static const char *JL =
    "{\"custom_id\":\"r1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
    "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}}\n"
    "{\"custom_id\":\"r2\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
    "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"yo\"}]}}\n";

static void test_create_job(void)
{
    START(m, "create_job");
    oab_client *c = client_for(&m, 0);
    oab_job *j = NULL;
    CHECK_OK(oab_batch_create_job_buffer(c, &j, JL, strlen(JL), NULL));
    CHECK(j && strcmp(j->input_file_id, "file-job") == 0);
    oab_job_free(j);
    oab_client_free(c);
    CHECK(mock_finish(&m, NULL));

    START(m2, "create_job_path");
    c = client_for(&m2, 0);
    char path[512];
    snprintf(path, sizeof path, "%s/job.jsonl", tmpdir);
    FILE *f = fopen(path, "w");
    fputs(JL, f);
    fclose(f);
    oab_batch_options bo = OAB_BATCH_OPTIONS_INIT;
    bo.input_expires_after_s = 3600;
    bo.output_expires_after_s = 86400;
    CHECK_OK(oab_batch_create_job_path(c, &j, path, &bo));
    CHECK(j && j->status == OAB_BATCH_VALIDATING);
    oab_job_free(j);
    oab_client_free(c);
    remove(path);
    CHECK(mock_finish(&m2, NULL));

    /* invalid input: refused before any request (closed port) */
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", closed_port());
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    o.base_url = base;
    CHECK_OK(oab_client_new(&c, &o));
    const char *dup =
        "{\"custom_id\":\"r1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
        "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\","
        "\"content\":\"hi\"}]}}\n"
        "{\"custom_id\":\"r1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
        "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\","
        "\"content\":\"hi\"}]}}\n";
    CHECK_EQ_INT(oab_batch_create_job_buffer(c, &j, dup, strlen(dup), NULL),
                 OAB_EVALIDATION);
    CHECK(j == NULL);
    CHECK(strstr(oab_client_errmsg(c), "line 2") != NULL);
    CHECK(strstr(oab_client_errmsg(c), "duplicate") != NULL);
    oab_client_free(c);
}

int main(void)
{
    CHECK_OK(oab_global_init());
    snprintf(tmpdir, sizeof tmpdir, "/tmp/oab_transport_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    clear_env();
    test_options();
    test_job_parse();
    test_retrieve_full();
    test_retrieve_min();
    test_create_batch();
    test_metadata_limits();
    test_cancel();
    test_list_pages();
    test_file_list();
    test_upload_buffer();
    test_upload_path();
    test_file_ops();
    test_retry_429();
    test_retry_after_ms();
    test_server_500();
    test_error_body();
    test_auth_401();
    test_perm_403();
    test_connection_refused();
    test_reset_mid_body();
    test_create_once();
    test_stall();
    test_malformed();
    test_should_retry();
    test_mock_selftest();
    test_download_resume();
    test_download_truncated();
    test_download_stop();
    test_azure();
    test_env_fallback();
    test_reuse();
    test_wait();
    test_create_job();
    rmdir(tmpdir);
    oab_global_cleanup();
    return t_summary("test_transport");
}
