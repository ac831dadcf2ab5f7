/* mock_server.h - starts tests/harness/mock_server.py with a case file,
 * reads its port, asks for its report and stops it. */
#ifndef OAB_TEST_MOCK_SERVER_H
#define OAB_TEST_MOCK_SERVER_H

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* set to keep expected mismatches (the self-test) off stderr */
static int mock_quiet;

typedef struct mock {
    pid_t pid;
    int port;
    char base[96];     /* http://127.0.0.1:PORT/v1 */
    char root[64];     /* http://127.0.0.1:PORT */
} mock;

static inline const char *mock_tests_dir(void)
{
    const char *d = getenv("OAB_TESTS");
    return d ? d : "tests";
}

/* Starts `python argv[0] argv[1] ...` (argv NULL-terminated; the script
 * path first), which prints its port as its first line. Returns 0 on
 * success. */
static inline int mock_spawn(mock *m, const char *const *argv)
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
        const char *py = getenv("OAB_PYTHON");
        if (!py || !*py)
            py = "python3";
        const char *args[16];
        size_t n = 0;
        args[n++] = py;
        for (; argv[n - 1] && n < 15; n++)
            args[n] = argv[n - 1];
        args[n] = NULL;
        execvp(py, (char *const *)args);
        _exit(127);
    }
    close(fds[1]);
    char line[64];
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t r = read(fds[0], line + n, 1);
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    close(fds[0]);
    m->pid = pid;
    m->port = atoi(line);
    if (m->port <= 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fprintf(stderr, "mock %s did not start\n", argv[0]);
        return -1;
    }
    snprintf(m->root, sizeof m->root, "http://127.0.0.1:%d", m->port);
    snprintf(m->base, sizeof m->base, "http://127.0.0.1:%d/v1", m->port);
    return 0;
}

/* Starts the mock with tests/harness/mock_cases/<name>.json. extra may be NULL or
 * a --body-file path. Returns 0 on success. */
static inline int mock_start(mock *m, const char *name, const char *body_file)
{
    char script[1024], casefile[1024];
    snprintf(script, sizeof script, "%s/harness/mock_server.py", mock_tests_dir());
    snprintf(casefile, sizeof casefile, "%s/harness/mock_cases/%s.json", mock_tests_dir(), name);
    const char *argv[] = {script, casefile, body_file ? "--body-file" : NULL, body_file,
                          NULL};
    return mock_spawn(m, argv);
}

static inline size_t mock_collect(char *d, size_t s, size_t n, void *ud)
{
    size_t len = s * n;
    char **buf = ud;
    size_t old = *buf ? strlen(*buf) : 0;
    char *p = realloc(*buf, old + len + 1);
    if (!p)
        return 0;
    memcpy(p + old, d, len);
    p[old + len] = '\0';
    *buf = p;
    return len;
}

/* Fetches the report, stops the server. *report (may be NULL) gets the
 * parsed report (free with cJSON_Delete). Returns 1 when every expected
 * request came and nothing mismatched; prints what went wrong.
 * *connections (may be NULL) gets the number of TCP connections seen. */
/* GETs /__mock/report and stops the server. The parsed report (free with
 * cJSON_Delete), NULL when it did not answer (*rc says why). */
static inline cJSON *mock_fetch_report(mock *m, CURLcode *rc)
{
    char url[160];
    snprintf(url, sizeof url, "%s/__mock/report", m->root);
    char *body = NULL;
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, mock_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    *rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    kill(m->pid, SIGTERM);
    waitpid(m->pid, NULL, 0);
    cJSON *r = *rc == CURLE_OK && body ? cJSON_Parse(body) : NULL;
    free(body);
    return r;
}

static inline int mock_finish_report(mock *m, int *connections, cJSON **report)
{
    CURLcode rc;
    cJSON *r = mock_fetch_report(m, &rc);
    int ok = 0;
    if (!r) {
        fprintf(stderr, "mock: no report (%s)\n", curl_easy_strerror(rc));
    } else {
        const cJSON *mm = cJSON_GetObjectItem(r, "mismatches");
        int served = cJSON_GetObjectItem(r, "served")->valueint;
        int expected = cJSON_GetObjectItem(r, "expected")->valueint;
        if (connections)
            *connections = cJSON_GetObjectItem(r, "connections")->valueint;
        const cJSON *it;
        if (!mock_quiet)
            cJSON_ArrayForEach(it, mm) fprintf(stderr, "mock mismatch: %s\n",
                                               it->valuestring);
        if (served != expected) {
            fprintf(stderr, "mock: %d requests served, %d expected; log:\n", served,
                    expected);
            cJSON_ArrayForEach(it, cJSON_GetObjectItem(r, "log"))
                fprintf(stderr, "  %s\n", it->valuestring);
        }
        int spec = cJSON_IsTrue(cJSON_GetObjectItem(r, "spec_checked"));
        if (!spec)
            fprintf(stderr, "mock: the OpenAPI description was not loaded\n");
        ok = cJSON_GetArraySize(mm) == 0 && served == expected && spec;
    }
    if (report)
        *report = r;
    else
        cJSON_Delete(r);
    return ok;
}

static inline int mock_finish(mock *m, int *connections)
{
    return mock_finish_report(m, connections, NULL);
}

#endif
