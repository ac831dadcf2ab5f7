/* test_server_client.c - the project's own C client (the library) against
 * `oaibatch serve` (oaibatch-server, started here on a free port): every
 * lifecycle call, cancel, expiry, failed validation, 50,000 lines.
 * usage: test_server_client SERVER_BINARY */
#include "oaibatch.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 8
static pid_t procs[MAX_PROCS];
static int nprocs;
static char tmpdir[256];
static const char *server_bin;

static void kill_all(void)
{
    for (int i = 0; i < nprocs; i++)
        if (procs[i] > 0) {
            kill(procs[i], SIGKILL);
            waitpid(procs[i], NULL, 0);
            procs[i] = 0;
        }
}

static void on_fatal(int sig)
{
    kill_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Starts a server with extra flags; returns its slot, port in *port. */
static int start_server(const char *name, const char *const *extra,
                        int *port)
{
    char data[512], pf[512], logp[512];
    snprintf(data, sizeof data, "%s/%s-data", tmpdir, name);
    snprintf(pf, sizeof pf, "%s/%s.port", tmpdir, name);
    snprintf(logp, sizeof logp, "%s/%s.log", tmpdir, name);
    unlink(pf);
    const char *argv[32];
    int n = 0;
    argv[n++] = server_bin;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--data";
    argv[n++] = data;
    argv[n++] = "--port-file";
    argv[n++] = pf;
    argv[n++] = "--quiet";
    for (int i = 0; extra && extra[i] && n < 30; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
        }
        execv(server_bin, (char *const *)argv);
        _exit(127);
    }
    int slot = nprocs++;
    procs[slot] = pid;
    *port = 0;
    for (int i = 0; i < 3000 && !*port; i++) {
        FILE *f = fopen(pf, "r");
        if (f) {
            if (fscanf(f, "%d", port) != 1)
                *port = 0;
            fclose(f);
        }
        if (!*port)
            nap(0.01);
    }
    CHECK(*port > 0);
    return slot;
}

static void stop_server(int slot)
{
    if (procs[slot] <= 0)
        return;
    kill(procs[slot], SIGTERM);
    int st = 0;
    waitpid(procs[slot], &st, 0);
    procs[slot] = 0;
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static oab_client *client_for(int port)
{
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", port);
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    o.base_url = base;
    o.api_key = "sk-local";
    o.max_retries = -1;
    oab_client *c = NULL;
    CHECK_OK(oab_client_new(&c, &o));
    return c;
}

static char *write_lines(const char *name, long n, const char *extra_line)
{
    char *path = malloc(512);
    snprintf(path, 512, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    for (long i = 0; i < n; i++) {
        fprintf(f,
                "{\"custom_id\":\"q%ld\",\"method\":\"POST\",\"url\":"
                "\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\","
                "\"messages\":[{\"role\":\"user\",\"content\":\"question "
                "%ld\"}]}}\n",
                i, i);
        if (i == 0 && extra_line)
            fprintf(f, "%s\n", extra_line);
    }
    fclose(f);
    return path;
}

static oab_job *wait_job(oab_client *c, const char *id)
{
    oab_wait_options w = OAB_WAIT_OPTIONS_INIT;
    w.first_interval_s = 0.05;
    w.factor = 1.0;
    w.max_interval_s = 0.05;
    w.jitter = 0;
    w.timeout_s = 240;
    oab_job *j = NULL;
    oab_status st = oab_batch_wait(c, &j, id, &w);
    CHECK_OK(st);
    if (st != OAB_OK)
        fprintf(stderr, "wait: %s\n", oab_client_errmsg(c));
    return j;
}

static long count_lines(const char *buf, size_t len, const char *needle)
{
    long n = 0;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end;
        if (nl > p && (!needle || memmem(p, (size_t)(nl - p), needle,
                                         strlen(needle))))
            n++;
        p = nl + 1;
    }
    return n;
}

static void test_lifecycle(void)
{
    int port;
    int srv = start_server("life", NULL, &port);
    oab_client *c = client_for(port);
    char *path = write_lines("life.jsonl", 20, NULL);
    oab_file *f = NULL;
    CHECK_OK(oab_file_upload_path(c, &f, path, "batch", 0));
    CHECK(f && f->id && strncmp(f->id, "file-", 5) == 0);
    struct stat sb;
    stat(path, &sb);
    CHECK_EQ_INT(f ? f->bytes : -1, sb.st_size);
    oab_file *g = NULL;
    CHECK_OK(oab_file_retrieve(c, &g, f->id));
    CHECK_STR(g ? g->purpose : NULL, "batch");
    oab_file_free(g);

    const char *mk[] = {"job"}, *mv[] = {"life"};
    oab_batch_options bo = OAB_BATCH_OPTIONS_INIT;
    bo.metadata_keys = mk;
    bo.metadata_values = mv;
    bo.n_metadata = 1;
    oab_job *j = NULL;
    CHECK_OK(oab_batch_create(c, &j, f->id, &bo));
    CHECK(j && j->status == OAB_BATCH_VALIDATING);
    CHECK(j && j->n_metadata == 1);
    char ids[3][64];
    snprintf(ids[0], sizeof ids[0], "%s", j->id);
    oab_job *done = wait_job(c, j->id);
    CHECK(done && done->status == OAB_BATCH_COMPLETED);
    if (done) {
        CHECK_EQ_INT(done->count_total, 20);
        CHECK_EQ_INT(done->count_completed, 20);
        CHECK_EQ_INT(done->count_failed, 0);
        CHECK(done->in_progress_at && done->finalizing_at &&
              done->completed_at);
        CHECK(done->has_usage && done->input_tokens > 0 &&
              done->total_tokens == done->input_tokens + done->output_tokens);
        CHECK(done->error_file_id == NULL);
        char *buf = NULL;
        size_t len = 0;
        CHECK_OK(oab_file_download_buffer(c, done->output_file_id, &buf,
                                          &len));
        CHECK_EQ_INT(count_lines(buf, len, NULL), 20);
        CHECK_EQ_INT(count_lines(buf, len, "\"custom_id\":\"q7\""), 1);
        CHECK_EQ_INT(count_lines(buf, len, "\"status_code\":200"), 20);
        oab_free(buf);
    }
    oab_job_free(done);
    oab_job_free(j);
    /* list with pagination: newest first */
    for (int i = 1; i < 3; i++) {
        CHECK_OK(oab_batch_create(c, &j, f->id, NULL));
        snprintf(ids[i], sizeof ids[i], "%s", j ? j->id : "");
        oab_job_free(j);
        j = NULL;
    }
    oab_job_list *l = NULL;
    CHECK_OK(oab_batch_list(c, &l, 2, NULL));
    CHECK(l && l->n == 2 && l->has_more);
    if (l && l->n == 2) {
        CHECK_STR(l->jobs[0]->id, ids[2]);
        CHECK_STR(l->jobs[1]->id, ids[1]);
        oab_job_list *l2 = NULL;
        CHECK_OK(oab_batch_list(c, &l2, 2, l->last_id));
        CHECK(l2 && l2->n == 1 && !l2->has_more);
        if (l2 && l2->n == 1)
            CHECK_STR(l2->jobs[0]->id, ids[0]);
        oab_job_list_free(l2);
    }
    oab_job_list_free(l);
    for (int i = 1; i < 3; i++)
        oab_job_free(wait_job(c, ids[i]));
    /* unknown ids, delete */
    CHECK_EQ_INT(oab_batch_retrieve(c, &j, "batch_nope"), OAB_ENOTFOUND);
    CHECK_EQ_INT(oab_client_last_error(c)->http_status, 404);
    CHECK_OK(oab_file_delete(c, f->id));
    CHECK_EQ_INT(oab_file_retrieve(c, &g, f->id), OAB_ENOTFOUND);
    CHECK_EQ_INT(oab_file_delete(c, f->id), OAB_ENOTFOUND);
    oab_file_free(f);
    oab_client_free(c);
    free(path);
    stop_server(srv);
}

static void test_cancel_expire_failed(void)
{
    int port;
    const char *slow[] = {"--latency-ms", "100", "--concurrency", "2", NULL};
    int srv = start_server("cancel", slow, &port);
    oab_client *c = client_for(port);
    char *path = write_lines("cancel.jsonl", 40, NULL);
    oab_file *f = NULL;
    CHECK_OK(oab_file_upload_path(c, &f, path, "batch", 0));
    oab_job *j = NULL, *cj = NULL;
    CHECK_OK(oab_batch_create(c, &j, f ? f->id : "x", NULL));
    nap(0.3);
    CHECK_OK(oab_batch_cancel(c, &cj, j ? j->id : "x"));
    CHECK(cj && (cj->status == OAB_BATCH_CANCELLING ||
                 cj->status == OAB_BATCH_CANCELLED));
    oab_job *done = wait_job(c, j ? j->id : "x");
    CHECK(done && done->status == OAB_BATCH_CANCELLED && done->cancelled_at);
    if (done && done->error_file_id) {
        char *buf = NULL;
        size_t len = 0;
        CHECK_OK(oab_file_download_buffer(c, done->error_file_id, &buf, &len));
        long ne = count_lines(buf, len, "batch_cancelled");
        oab_free(buf);
        long no = 0;
        if (done->output_file_id) {
            CHECK_OK(oab_file_download_buffer(c, done->output_file_id, &buf,
                                              &len));
            no = count_lines(buf, len, NULL);
            oab_free(buf);
        }
        CHECK(ne > 0);
        CHECK_EQ_INT(ne + no, 40);
    } else {
        CHECK(!"cancelled batch has an error file");
    }
    oab_job_free(done);
    oab_job_free(cj);
    oab_job_free(j);
    oab_file_free(f);
    free(path);
    /* failed validation: line 2 is not JSON */
    path = write_lines("bad.jsonl", 3, "{not json");
    CHECK_OK(oab_file_upload_path(c, &f, path, "batch", 0));
    CHECK_OK(oab_batch_create(c, &j, f ? f->id : "x", NULL));
    done = wait_job(c, j ? j->id : "x");
    CHECK(done && done->status == OAB_BATCH_FAILED && done->failed_at);
    CHECK(done && done->n_errors >= 1);
    if (done && done->n_errors >= 1) {
        CHECK_EQ_INT(done->errors[0].line, 2);
        CHECK(done->errors[0].code && done->errors[0].message);
    }
    oab_job_free(done);
    oab_job_free(j);
    oab_file_free(f);
    free(path);
    oab_client_free(c);
    stop_server(srv);

    /* expiry with a one-second window */
    const char *win[] = {"--latency-ms", "200", "--concurrency", "1",
                         "--window-seconds", "1", NULL};
    srv = start_server("expire", win, &port);
    c = client_for(port);
    path = write_lines("exp.jsonl", 30, NULL);
    CHECK_OK(oab_file_upload_path(c, &f, path, "batch", 0));
    CHECK_OK(oab_batch_create(c, &j, f ? f->id : "x", NULL));
    done = wait_job(c, j ? j->id : "x");
    CHECK(done && done->status == OAB_BATCH_EXPIRED && done->expired_at);
    if (done && done->error_file_id) {
        char *buf = NULL;
        size_t len = 0;
        CHECK_OK(oab_file_download_buffer(c, done->error_file_id, &buf, &len));
        CHECK(count_lines(buf, len, "batch_expired") > 0);
        oab_free(buf);
    }
    oab_job_free(done);
    oab_job_free(j);
    oab_file_free(f);
    free(path);
    oab_client_free(c);
    stop_server(srv);
}

static void test_big(void)
{
    int port;
    int srv = start_server("big", NULL, &port);
    oab_client *c = client_for(port);
    char *path = write_lines("big.jsonl", 50000, NULL);
    oab_file *f = NULL;
    CHECK_OK(oab_file_upload_path(c, &f, path, "batch", 0));
    oab_job *j = NULL;
    CHECK_OK(oab_batch_create(c, &j, f ? f->id : "x", NULL));
    oab_job *done = wait_job(c, j ? j->id : "x");
    CHECK(done && done->status == OAB_BATCH_COMPLETED);
    if (done) {
        CHECK_EQ_INT(done->count_completed, 50000);
        char out[512];
        snprintf(out, sizeof out, "%s/big_out.jsonl", tmpdir);
        CHECK_OK(oab_file_download_path(c, done->output_file_id, out));
        struct stat sb;
        CHECK(stat(out, &sb) == 0 && sb.st_size > 50000 * 100);
        FILE *fp = fopen(out, "r");
        long n = 0;
        int ch;
        while (fp && (ch = fgetc(fp)) != EOF)
            n += ch == '\n';
        if (fp)
            fclose(fp);
        CHECK_EQ_INT(n, 50000);
    }
    oab_job_free(done);
    oab_job_free(j);
    oab_file_free(f);
    free(path);
    oab_client_free(c);
    stop_server(srv);
}

static void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_server_client SERVER_BINARY\n");
        return 2;
    }
    server_bin = argv[1];
    snprintf(tmpdir, sizeof tmpdir, "/tmp/oab-srvc-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 2;
    atexit(kill_all);
    signal(SIGSEGV, on_fatal);
    signal(SIGABRT, on_fatal);
    signal(SIGTERM, on_fatal);
    oab_global_init();
    test_lifecycle();
    test_cancel_expire_failed();
    test_big();
    oab_global_cleanup();
    kill_all();
    if (t_fail) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "tail -n 20 %s/*.log >&2", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "no logs\n");
    }
    rm_rf(tmpdir);
    return t_summary("test_server_client");
}
