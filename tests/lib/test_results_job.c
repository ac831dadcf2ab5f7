/* test_results_job.c - results of batches on a server (a fake Files +
 * Batches API on 127.0.0.1, tests/harness/results_fake_api.py, with the
 * data of tests/lib/fixtures/results): both
 * files downloaded, error_file_id "" and null, output_file_id null, a
 * failed batch, a batch not finished, job structs, and oab_batch_run
 * (expectations from the requests, input order, timeout + cancel with
 * partial results). */
#include "oaibatch.h"
#include "util/str.h"
#include "testutil.h"

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define WEATHER                                                           \
    "{\"type\":\"object\",\"properties\":{\"location\":{\"type\":"       \
    "\"string\"},\"temperature\":{\"type\":\"number\"},\"condition\":{"  \
    "\"type\":\"string\"},\"humidity\":{\"type\":\"integer\"}},"         \
    "\"required\":[\"location\",\"temperature\",\"condition\","          \
    "\"humidity\"],\"additionalProperties\":false}"

static char fixdir[1024], script[1100], in_path[1100];

typedef struct fake {
    pid_t pid;
    char base[96];
} fake;

static int fake_start(fake *f, const char *flag)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        if (flag)
            execlp("python3", "python3", script, fixdir, flag, (char *)NULL);
        else
            execlp("python3", "python3", script, fixdir, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char line[32];
    size_t n = 0;
    while (n < sizeof line - 1 && read(fds[0], line + n, 1) == 1 &&
           line[n] != '\n')
        n++;
    line[n] = '\0';
    close(fds[0]);
    f->pid = pid;
    int port = atoi(line);
    if (port <= 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%d/v1", port);
    return 0;
}

static void fake_stop(fake *f)
{
    kill(f->pid, SIGTERM);
    waitpid(f->pid, NULL, 0);
}

static oab_client *client_for(const fake *f)
{
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    o.api_key = "sk-test";
    o.base_url = f->base;
    o.max_retries = -1;
    oab_client *c = NULL;
    CHECK_OK(oab_client_new(&c, &o));
    return c;
}

static void test_retrieve(oab_client *c)
{
    /* downloads go to a private folder under $TMPDIR, removed after */
    char tmpd[] = "/tmp/oab_results_tmpdir_XXXXXX";
    CHECK(mkdtemp(tmpd) != NULL);
    setenv("TMPDIR", tmpd, 1);
    oab_results_options o = OAB_RESULTS_OPTIONS_INIT;
    o.input_path = in_path;
    o.input_order = 1;
    oab_result_set *set = NULL;
    CHECK_OK(oab_batch_retrieve_job(c, &set, "batch_done", &o));
    CHECK(set && set->n == 18);
    if (set && set->n == 18) {
        CHECK_STR(set->items[0]->custom_id, "plain-1");
        CHECK_STR(set->items[16]->custom_id, "missing-1");
        CHECK_EQ_INT(set->items[16]->status, OAB_RESULT_MISSING);
        CHECK_EQ_INT(set->items[4]->status, OAB_RESULT_INVALID_OUTPUT);
        CHECK_EQ_INT(set->summary.by_status[OAB_RESULT_SUCCEEDED], 6);
        CHECK_EQ_INT(set->summary.by_status[OAB_RESULT_HTTP_ERROR], 1);
        CHECK_EQ_INT(set->summary.usage.total_tokens, 179);
    }
    oab_result_set_free(set);

    /* error_file_id "" and null: the output file alone */
    const char *noerr[] = {"batch_noerr", "batch_nullerr"};
    for (int k = 0; k < 2; k++) {
        set = NULL;
        CHECK_OK(oab_batch_retrieve_job(c, &set, noerr[k], &o));
        CHECK(set && set->n == 18);
        if (set) {
            CHECK_EQ_INT(set->summary.by_status[OAB_RESULT_MISSING], 5);
            CHECK_EQ_INT(set->summary.by_status[OAB_RESULT_SUCCEEDED], 6);
        }
        oab_result_set_free(set);
    }
    /* output_file_id null: everything failed */
    set = NULL;
    CHECK_OK(oab_batch_retrieve_job(c, &set, "batch_allfail", &o));
    CHECK(set && set->n == 18);
    if (set) {
        CHECK_EQ_INT(set->summary.by_status[OAB_RESULT_MISSING], 14);
        CHECK_EQ_INT(set->summary.by_status[OAB_RESULT_EXPIRED], 1);
        CHECK_EQ_INT(set->summary.by_status[OAB_RESULT_CANCELLED], 1);
    }
    oab_result_set_free(set);

    /* a failed batch: no files; its errors go to the lines */
    set = NULL;
    CHECK_OK(oab_batch_retrieve_job(c, &set, "batch_failed", &o));
    CHECK(set && set->n == 18);
    if (set && set->n == 18) {
        CHECK_EQ_INT(set->summary.by_status[OAB_RESULT_MISSING], 18);
        CHECK_STR(set->items[1]->error_code, "invalid_request");
        CHECK_STR(set->items[1]->error_message, "Line 2: unsupported model.");
        CHECK_STR(set->items[0]->error_code, "invalid_file");
    }
    oab_result_set_free(set);

    /* not finished: nothing to read yet */
    set = NULL;
    CHECK_EQ_INT(oab_batch_retrieve_job(c, &set, "batch_running", &o),
                 OAB_ESTATE);
    CHECK(set == NULL);
    CHECK(strstr(oab_client_errmsg(c), "in_progress") != NULL);
    CHECK_EQ_INT(oab_batch_retrieve_job(c, &set, "batch_nope", NULL),
                 OAB_ENOTFOUND);
    /* a download cut off is never taken as the whole file */
    oab_status st = oab_batch_retrieve_job(c, &set, "batch_trunc", NULL);
    CHECK(st == OAB_ETRUNCATED || st == OAB_ETRANSPORT);
    CHECK(set == NULL);
    char dir[] = "/tmp/oab_results_tr_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    oab_results_options od = OAB_RESULTS_OPTIONS_INIT;
    od.download_dir = dir;
    st = oab_batch_retrieve_job(c, &set, "batch_trunc", &od);
    CHECK(st == OAB_ETRUNCATED || st == OAB_ETRANSPORT);
    CHECK(set == NULL);
    char *done = oab__sprintf("%s/file-trunc.jsonl", dir);
    char *part = oab__sprintf("%s/file-trunc.jsonl.part", dir);
    CHECK(access(done, F_OK) != 0); /* never renamed into place */
    remove(part);
    rmdir(dir);
    free(done);
    free(part);
    /* nothing was left behind in $TMPDIR, also after the failures */
    CHECK_EQ_INT(rmdir(tmpd), 0);
    unsetenv("TMPDIR");
}

static int count_cb(const oab_result *r, void *ud)
{
    (void)r;
    (*(int *)ud)++;
    return 0;
}

/* A job struct: files named by it, kept in download_dir when asked. */
static void test_job_struct(oab_client *c)
{
    const char *json =
        "{\"id\":\"batch_x\",\"object\":\"batch\",\"endpoint\":"
        "\"/v1/chat/completions\",\"input_file_id\":\"file-in\","
        "\"completion_window\":\"24h\",\"status\":\"expired\","
        "\"created_at\":1,\"output_file_id\":\"file-out\","
        "\"error_file_id\":\"\"}";
    oab_job *job = NULL;
    oab_error err;
    CHECK_OK(oab_job_parse(&job, json, strlen(json), &err));
    if (!job)
        return;
    char dir[] = "/tmp/oab_results_dl_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    oab_results_options o = OAB_RESULTS_OPTIONS_INIT;
    o.input_path = in_path;
    o.download_dir = dir;
    oab_summary s;
    int n = 0;
    CHECK_OK(oab_batch_results_stream(c, job, &o, count_cb, &n, &s));
    CHECK_EQ_INT(n, 18);
    CHECK_EQ_INT(s.by_status[OAB_RESULT_MISSING], 5);
    char *kept = oab__sprintf("%s/file-out.jsonl", dir);
    CHECK(access(kept, R_OK) == 0);
    remove(kept);
    free(kept);
    rmdir(dir);

    /* streamed without a folder; output_file_id null too */
    free(job->output_file_id);
    job->output_file_id = NULL;
    free(job->error_file_id);
    job->error_file_id = oab__strdup("file-err");
    n = 0;
    CHECK_OK(oab_batch_results_stream(c, job, NULL, count_cb, &n, &s));
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_INT(s.by_status[OAB_RESULT_HTTP_ERROR], 1);
    /* a file that does not exist */
    free(job->error_file_id);
    job->error_file_id = oab__strdup("file-gone");
    CHECK_EQ_INT(oab_batch_results_stream(c, job, NULL, count_cb, &n, &s),
                 OAB_ENOTFOUND);
    job->status = OAB_BATCH_IN_PROGRESS;
    CHECK_EQ_INT(oab_batch_results_stream(c, job, NULL, NULL, NULL, &s),
                 OAB_ESTATE);
    CHECK_EQ_INT(oab_batch_results_stream(c, NULL, NULL, NULL, NULL, &s),
                 OAB_EINVAL);
    oab_job_free(job);
}

static oab_request *weather_request(const char *cid, const oab_schema *s)
{
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    o.model = "gpt-4o-mini";
    o.output_schema = s;
    o.output_mode = OAB_OUTPUT_NATIVE;
    o.max_tokens = 200;
    oab_request *r = NULL;
    oab_error err;
    CHECK_OK(oab_chat_request_new(&r, cid, "Weather in Paris?", &o, &err));
    return r;
}

static void test_run(oab_client *c)
{
    oab_schema *s = NULL;
    oab_error err;
    CHECK_OK(oab_schema_new(&s, "WeatherResult", NULL, WEATHER, 1, &err));
    const char *ids[] = {"ok-1", "bad-1", "fail-1", "ok-2"};
    oab_request *reqs[4];
    for (int i = 0; i < 4; i++)
        reqs[i] = weather_request(ids[i], s);
    oab_wait_options w = OAB_WAIT_OPTIONS_INIT;
    w.first_interval_s = 0.05;
    w.max_interval_s = 0.2;
    oab_result_set *set = NULL;
    oab_job *job = NULL;
    CHECK_OK(oab_batch_run(c, &set, &job, reqs, 4, NULL, &w));
    CHECK(job && job->status == OAB_BATCH_COMPLETED);
    CHECK(set && set->n == 4);
    if (set && set->n == 4) {
        for (int i = 0; i < 4; i++)
            CHECK_STR(set->items[i]->custom_id, ids[i]);
        CHECK_EQ_INT(set->items[0]->status, OAB_RESULT_SUCCEEDED);
        CHECK_EQ_INT(set->items[0]->output_mode, OAB_OUTPUT_NATIVE);
        CHECK_STR(set->items[0]->parsed_json,
                  "{\"location\":\"Paris\",\"temperature\":18.5,"
                  "\"condition\":\"cloudy\",\"humidity\":70}");
        CHECK_EQ_INT(set->items[1]->status, OAB_RESULT_INVALID_OUTPUT);
        CHECK_STR(set->items[1]->invalid_reason,
                  "/humidity: expected integer, got string");
        CHECK_EQ_INT(set->items[2]->status, OAB_RESULT_HTTP_ERROR);
        CHECK(set->items[2]->from_error_file);
        CHECK_EQ_INT(set->items[3]->input_line, 4);
        CHECK_EQ_INT(set->summary.usage.total_tokens, 90);
    }
    oab_result_set_free(set);
    oab_job_free(job);
    CHECK_EQ_INT(oab_batch_run(c, &set, NULL, reqs, 0, NULL, &w), OAB_EINVAL);
    for (int i = 0; i < 4; i++)
        oab_request_free(reqs[i]);
    oab_schema_free(s);
}

/* The batch never finishes: timeout, cancel, partial results. */
static void test_run_timeout(oab_client *c)
{
    oab_schema *s = NULL;
    oab_error err;
    CHECK_OK(oab_schema_new(&s, "WeatherResult", NULL, WEATHER, 1, &err));
    const char *ids[] = {"a-1", "a-2", "a-3", "a-4"};
    oab_request *reqs[4];
    for (int i = 0; i < 4; i++)
        reqs[i] = weather_request(ids[i], s);
    oab_wait_options w = OAB_WAIT_OPTIONS_INIT;
    w.first_interval_s = 0.05;
    w.max_interval_s = 0.1;
    w.timeout_s = 0.3;
    oab_result_set *set = NULL;
    oab_job *job = NULL;
    /* without cancel: the job comes back, no results */
    CHECK_EQ_INT(oab_batch_run(c, &set, &job, reqs, 4, NULL, &w),
                 OAB_ETIMEOUT);
    CHECK(set == NULL);
    CHECK(job && job->status == OAB_BATCH_IN_PROGRESS);
    oab_job_free(job);
    job = NULL;
    /* with cancel: the partial results */
    w.cancel_on_timeout = 1;
    CHECK_EQ_INT(oab_batch_run(c, &set, &job, reqs, 4, NULL, &w),
                 OAB_ETIMEOUT);
    CHECK(job && job->status == OAB_BATCH_CANCELLED);
    CHECK(set && set->n == 4);
    if (set && set->n == 4) {
        CHECK_EQ_INT(set->items[0]->status, OAB_RESULT_SUCCEEDED);
        CHECK_EQ_INT(set->items[1]->status, OAB_RESULT_SUCCEEDED);
        CHECK_EQ_INT(set->items[2]->status, OAB_RESULT_CANCELLED);
        CHECK_STR(set->items[3]->custom_id, "a-4");
        CHECK_EQ_INT(set->items[3]->status, OAB_RESULT_CANCELLED);
    }
    CHECK(strstr(oab_client_errmsg(c), "partial") != NULL);
    oab_result_set_free(set);
    oab_job_free(job);
    for (int i = 0; i < 4; i++)
        oab_request_free(reqs[i]);
    oab_schema_free(s);
}

int main(void)
{
    const char *dir = getenv("OAB_TESTS");
    snprintf(fixdir, sizeof fixdir, "%s/lib/fixtures/results", dir ? dir : "tests");
    snprintf(script, sizeof script, "%s/harness/results_fake_api.py",
             dir ? dir : "tests");
    snprintf(in_path, sizeof in_path, "%s/input.jsonl", fixdir);
    fake f;
    if (fake_start(&f, NULL) != 0) {
        fprintf(stderr, "results_fake_api.py did not start\n");
        return 1;
    }
    oab_client *c = client_for(&f);
    if (c) {
        test_retrieve(c);
        test_job_struct(c);
        test_run(c);
    }
    oab_client_free(c);
    fake_stop(&f);

    if (fake_start(&f, "--never-finish") != 0) {
        fprintf(stderr, "results_fake_api.py did not start\n");
        return 1;
    }
    c = client_for(&f);
    if (c)
        test_run_timeout(c);
    oab_client_free(c);
    fake_stop(&f);
    return t_summary("test_results_job");
}
