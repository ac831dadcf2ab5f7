/* test_options.c - the one rule of options structs (include/oaibatch.h,
 * "Options structs"). For each of the eight structs, one set up without
 * its _INIT macro and one of another version are refused by every entry
 * point that takes it: OAB_EINVAL, a message naming the struct and the
 * macro, nothing written and nothing sent (a listener on 127.0.0.1 sees no
 * connection). Then the request builders' field checks against the exact
 * JSON they emit (max tokens below 1, parallel_tool_calls without tools),
 * and oab_client_new_v2's message for each bad client option. */
#define _POSIX_C_SOURCE 200809L

#include "oaibatch.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONTAINS(hay, needle) CHECK(strstr((hay), (needle)) != NULL)

static char g_dir[64];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Entries in g_dir (besides . and ..). */
static int dir_entries(void)
{
    DIR *d = opendir(g_dir);
    int n = 0;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static const char k_jsonl[] =
    "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
    "\"body\":{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}\n"
    "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
    "\"body\":{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"y\"}]}}\n";

static const char k_output[] =
    "{\"id\":\"l1\",\"custom_id\":\"a\",\"response\":{\"status_code\":200,"
    "\"request_id\":\"r1\",\"body\":{}},\"error\":null}\n";

/* The two messages the check gives, for a struct and its macro. */
static void check_unmarked(const char *msg, const char *name, const char *macro)
{
    char want[160];
    snprintf(want, sizeof want, "%s: not set up with %s", name, macro);
    if (strstr(msg, want) == NULL)
        fprintf(stderr, "  message: %s\n  want:    %s\n", msg, want);
    CONTAINS(msg, want);
}

static void check_version(const char *msg, const char *name)
{
    char want[160];
    snprintf(want, sizeof want, "%s: version 99 is not this library's ", name);
    if (strstr(msg, want) == NULL)
        fprintf(stderr, "  message: %s\n  want:    %s\n", msg, want);
    CONTAINS(msg, want);
}

/* A struct of "another version": set up with the macro, version bumped. */
#define OTHER_VERSION (OAB_OPTIONS_MARK | 99u)

/* ---- options of calls that take no client ---- */

/* A call refused by the check: OAB_EINVAL, nothing in *out, and the
 * message of check_unmarked (macro given) or check_version (macro NULL). */
static void expect_refused(oab_status st, const void *out, const char *msg,
                           const char *name, const char *macro)
{
    CHECK_EQ_INT(st, OAB_EINVAL);
    CHECK(out == NULL);
    if (macro)
        check_unmarked(msg, name, macro);
    else
        check_version(msg, name);
}

static void test_chat_and_responses(void)
{
    oab_error err;
    oab_request *r = NULL;
    oab_status st;

    /* the example: every double 0, max tokens 0, tri-states 0 */
    oab_chat_options nz = {.version = OAB_CHAT_OPTIONS_VERSION, .model = "m"};
    st = oab_chat_request_new(&r, "a", "hi", &nz, &err);
    expect_refused(st, r, err.message, "oab_chat_options",
                   "OAB_CHAT_OPTIONS_INIT");
    CHECK_EQ_INT(err.status, OAB_EINVAL);
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    o.model = "m";
    o.version = OTHER_VERSION;
    st = oab_chat_request_new(&r, "a", "hi", &o, &err);
    expect_refused(st, r, err.message, "oab_chat_options", NULL);

    oab_responses_options rz = {.version = OAB_RESPONSES_OPTIONS_VERSION,
                                .model = "m"};
    st = oab_responses_request_new(&r, "a", "hi", &rz, &err);
    expect_refused(st, r, err.message, "oab_responses_options",
                   "OAB_RESPONSES_OPTIONS_INIT");
    oab_responses_options ro = OAB_RESPONSES_OPTIONS_INIT;
    ro.model = "m";
    ro.version = OTHER_VERSION;
    st = oab_responses_request_new(&r, "a", "hi", &ro, &err);
    expect_refused(st, r, err.message, "oab_responses_options", NULL);
}

static void test_validate(void)
{
    oab_validation *v = NULL;
    oab_validator *vr = NULL;
    char path[128];
    snprintf(path, sizeof path, "%s/in.jsonl", g_dir);
    write_file(path, k_jsonl);

    oab_validate_options good = OAB_VALIDATE_OPTIONS_INIT;
    CHECK_OK(oab_validate_buffer(&v, k_jsonl, sizeof k_jsonl - 1, &good));
    CHECK(v != NULL);
    oab_validation_free(v);
    v = NULL;

    /* zero = default for every field here, yet still refused: one rule */
    oab_validate_options nz = {.version = OAB_VALIDATE_OPTIONS_VERSION};
    oab_validate_options ov = OAB_VALIDATE_OPTIONS_INIT;
    ov.version = OTHER_VERSION;
    const oab_validate_options *bad[] = {&nz, &ov};
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(oab_validator_new(&vr, bad[i]), OAB_EINVAL);
        CHECK(vr == NULL);
        CHECK_EQ_INT(oab_validate_buffer(&v, k_jsonl, sizeof k_jsonl - 1, bad[i]),
                     OAB_EINVAL);
        CHECK(v == NULL);
        CHECK_EQ_INT(oab_validate_path(&v, path, bad[i]), OAB_EINVAL);
        CHECK(v == NULL);
    }
    unlink(path);
}

static void test_split(void)
{
    oab_error err;
    oab_split *sp = NULL;
    char path[128];
    snprintf(path, sizeof path, "%s/in.jsonl", g_dir);
    write_file(path, k_jsonl);

    oab_split_options nz = {.version = OAB_SPLIT_OPTIONS_VERSION,
                            .max_lines = 1};
    CHECK_EQ_INT(oab_split_path(&sp, path, g_dir, &nz, &err), OAB_EINVAL);
    CHECK(sp == NULL);
    check_unmarked(err.message, "oab_split_options", "OAB_SPLIT_OPTIONS_INIT");
    oab_split_options ov = OAB_SPLIT_OPTIONS_INIT;
    ov.max_lines = 1;
    ov.version = OTHER_VERSION;
    CHECK_EQ_INT(oab_split_path(&sp, path, g_dir, &ov, &err), OAB_EINVAL);
    CHECK(sp == NULL);
    check_version(err.message, "oab_split_options");
    CHECK_EQ_INT(dir_entries(), 1); /* only the input: no part written */

    /* the same with the macro splits (control) */
    ov.version = ((oab_split_options)OAB_SPLIT_OPTIONS_INIT).version;
    ov.margin = 0;
    CHECK_OK(oab_split_path(&sp, path, g_dir, &ov, &err));
    CHECK_EQ_INT(sp ? sp->n_parts : 0, 2);
    for (size_t i = 0; sp && i < sp->n_parts; i++)
        unlink(sp->parts[i].path);
    oab_split_free(sp);
    unlink(path);
}

static int count_cb(const oab_result *r, void *ud)
{
    (void)r;
    ++*(int *)ud;
    return 0;
}

static void test_results_files(void)
{
    oab_error err;
    char path[128];
    snprintf(path, sizeof path, "%s/out.jsonl", g_dir);
    write_file(path, k_output);
    int seen = 0;
    oab_summary sum;
    oab_result_set *set = NULL;

    oab_results_options nz = {.version = OAB_RESULTS_OPTIONS_VERSION};
    oab_results_options ov = OAB_RESULTS_OPTIONS_INIT;
    ov.version = OTHER_VERSION;
    CHECK_EQ_INT(oab_results_stream_files(path, NULL, &nz, count_cb, &seen,
                                          &sum, &err), OAB_EINVAL);
    check_unmarked(err.message, "oab_results_options", "OAB_RESULTS_OPTIONS_INIT");
    CHECK_EQ_INT(oab_results_stream_files(path, NULL, &ov, count_cb, &seen,
                                          &sum, &err), OAB_EINVAL);
    check_version(err.message, "oab_results_options");
    CHECK_EQ_INT(seen, 0);
    CHECK_EQ_INT(sum.total, 0);

    /* input_order without input_path is refused too, but the version is
     * read first: the message is about the version */
    ov.input_order = 1;
    CHECK_EQ_INT(oab_results_collect_files(&set, path, NULL, &ov, &err),
                 OAB_EINVAL);
    CHECK(set == NULL);
    check_version(err.message, "oab_results_options");
    nz.input_order = 1;
    CHECK_EQ_INT(oab_results_collect_files(&set, path, NULL, &nz, &err),
                 OAB_EINVAL);
    CHECK(set == NULL);
    check_unmarked(err.message, "oab_results_options", "OAB_RESULTS_OPTIONS_INIT");

    oab_results_options good = OAB_RESULTS_OPTIONS_INIT;
    CHECK_OK(oab_results_stream_files(path, NULL, &good, count_cb, &seen,
                                      &sum, &err));
    CHECK_EQ_INT(seen, 1);
    unlink(path);
}

/* ---- options of calls on a client: nothing may reach the server ---- */

/* A socket listening on 127.0.0.1 that never accepts; its port. */
static int listen_local(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(fd, 8) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Connections the listener has queued (accepted and closed here). */
static int connections(int fd)
{
    int n = 0, c;
    while ((c = accept(fd, NULL, NULL)) >= 0) {
        close(c);
        n++;
    }
    return n;
}

static const char *msg(oab_client *c)
{
    const oab_error_detail *d = oab_client_last_error(c);
    return d && d->message ? d->message : "";
}

static void test_client_calls(void)
{
    int port = 0;
    int lfd = listen_local(&port);
    CHECK(lfd >= 0);
    if (lfd < 0)
        return;
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", port);
    oab_client_options co = OAB_CLIENT_OPTIONS_INIT;
    co.base_url = base;
    co.max_retries = -1;
    co.timeout_ms = 1000;
    oab_client *c = NULL;
    oab_error err;
    CHECK_OK(oab_client_new_v2(&c, &co, &err));
    if (!c) {
        close(lfd);
        return;
    }
    char path[128];
    snprintf(path, sizeof path, "%s/in.jsonl", g_dir);
    write_file(path, k_jsonl);

    oab_chat_options ch = OAB_CHAT_OPTIONS_INIT;
    ch.model = "m";
    oab_request *reqs[2] = {NULL, NULL};
    CHECK_OK(oab_chat_request_new(&reqs[0], "a", "x", &ch, &err));
    CHECK_OK(oab_chat_request_new(&reqs[1], "b", "y", &ch, &err));

    oab_job *job = NULL;
    oab_result_set *set = NULL;
    const char *done_json = "{\"id\":\"batch_1\",\"object\":\"batch\","
                            "\"status\":\"completed\",\"output_file_id\":\"file-o\"}";
    oab_job *done = NULL;
    CHECK_OK(oab_job_parse(&done, done_json, strlen(done_json), &err));

    /* batch options */
    oab_batch_options bz = {.version = OAB_BATCH_OPTIONS_VERSION};
    oab_batch_options bv = OAB_BATCH_OPTIONS_INIT;
    bv.version = OTHER_VERSION;
    for (int k = 0; k < 2; k++) {
        const oab_batch_options *b = k ? &bv : &bz;
#define CHECK_BATCH_MSG()                                                      \
    do {                                                                       \
        if (k)                                                                 \
            check_version(msg(c), "oab_batch_options");                        \
        else                                                                   \
            check_unmarked(msg(c), "oab_batch_options",                        \
                           "OAB_BATCH_OPTIONS_INIT");                          \
        CHECK_EQ_INT(oab_client_last_error(c)->status, OAB_EINVAL);           \
        CHECK(job == NULL && set == NULL);                                     \
    } while (0)
        CHECK_EQ_INT(oab_batch_create(c, &job, "file-1", b), OAB_EINVAL);
        CHECK_BATCH_MSG();
        CHECK_EQ_INT(oab_batch_create_job_path(c, &job, path, b), OAB_EINVAL);
        CHECK_BATCH_MSG();
        CHECK_EQ_INT(oab_batch_create_job_buffer(c, &job, k_jsonl,
                                                 sizeof k_jsonl - 1, b),
                     OAB_EINVAL);
        CHECK_BATCH_MSG();
        CHECK_EQ_INT(oab_batch_create_job(c, &job, reqs, 2, b), OAB_EINVAL);
        CHECK_BATCH_MSG();
        CHECK_EQ_INT(oab_batch_run(c, &set, &job, reqs, 2, b, NULL), OAB_EINVAL);
        CHECK_BATCH_MSG();
#undef CHECK_BATCH_MSG
    }

    /* wait options */
    oab_wait_options wz = {.version = OAB_WAIT_OPTIONS_VERSION};
    oab_wait_options wv = OAB_WAIT_OPTIONS_INIT;
    wv.version = OTHER_VERSION;
    CHECK_EQ_INT(oab_batch_wait(c, &job, "batch_1", &wz), OAB_EINVAL);
    check_unmarked(msg(c), "oab_wait_options", "OAB_WAIT_OPTIONS_INIT");
    CHECK_EQ_INT(oab_batch_wait(c, &job, "batch_1", &wv), OAB_EINVAL);
    check_version(msg(c), "oab_wait_options");
    /* oab_batch_run checks its wait options before creating anything */
    CHECK_EQ_INT(oab_batch_run(c, &set, &job, reqs, 2, NULL, &wz), OAB_EINVAL);
    check_unmarked(msg(c), "oab_wait_options", "OAB_WAIT_OPTIONS_INIT");
    CHECK_EQ_INT(oab_batch_run(c, &set, &job, reqs, 2, NULL, &wv), OAB_EINVAL);
    check_version(msg(c), "oab_wait_options");
    CHECK(job == NULL && set == NULL);

    /* results options */
    oab_results_options rz = {.version = OAB_RESULTS_OPTIONS_VERSION};
    oab_results_options rv = OAB_RESULTS_OPTIONS_INIT;
    rv.version = OTHER_VERSION;
    int seen = 0;
    oab_summary sum;
    CHECK_EQ_INT(oab_batch_results_stream(c, done, &rz, count_cb, &seen, &sum),
                 OAB_EINVAL);
    check_unmarked(msg(c), "oab_results_options", "OAB_RESULTS_OPTIONS_INIT");
    CHECK_EQ_INT(oab_batch_results_stream(c, done, &rv, count_cb, &seen, &sum),
                 OAB_EINVAL);
    check_version(msg(c), "oab_results_options");
    CHECK_EQ_INT(seen, 0);
    CHECK_EQ_INT(oab_batch_retrieve_job(c, &set, "batch_1", &rz), OAB_EINVAL);
    check_unmarked(msg(c), "oab_results_options", "OAB_RESULTS_OPTIONS_INIT");
    CHECK_EQ_INT(oab_batch_retrieve_job(c, &set, "batch_1", &rv), OAB_EINVAL);
    check_version(msg(c), "oab_results_options");
    CHECK(set == NULL);
    CONTAINS(oab_client_errmsg(c), "invalid argument: oab_results_options");

    /* none of these reached the server */
    CHECK_EQ_INT(connections(lfd), 0);
    /* control: a call with good options does connect (the listener never
     * answers, so it ends after timeout_ms) */
    oab_results_options rg = OAB_RESULTS_OPTIONS_INIT;
    CHECK(oab_batch_retrieve_job(c, &set, "batch_1", &rg) != OAB_OK);
    CHECK(set == NULL);
    CHECK_EQ_INT(connections(lfd), 1);

    oab_job_free(done);
    oab_request_free(reqs[0]);
    oab_request_free(reqs[1]);
    oab_client_free(c);
    close(lfd);
    unlink(path);
}

/* ---- the request builders' fields, against the exact JSON ---- */

#define CHAT_PRE(id)                                                          \
    "{\"custom_id\":\"" id "\",\"method\":\"POST\",\"url\":"                 \
    "\"/v1/chat/completions\",\"body\":{\"model\":\"m\",\"messages\":"       \
    "[{\"role\":\"user\",\"content\":\"hi\"}]"
#define RESP_PRE(id)                                                          \
    "{\"custom_id\":\"" id "\",\"method\":\"POST\",\"url\":"                 \
    "\"/v1/responses\",\"body\":{\"model\":\"m\",\"input\":\"hi\""
#define TOOL_CHAT                                                             \
    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","       \
    "\"parameters\":{\"type\":\"object\",\"properties\":{}}}}]"

/* The line of a request just built (st, r): exactly want. Frees r. */
static void expect_line(oab_status st, oab_request *r, const char *want)
{
    char *line = NULL;
    CHECK_OK(st);
    if (r)
        CHECK_OK(oab_request_to_json(r, &line));
    CHECK_STR(line, want);
    oab_free(line);
    oab_request_free(r);
}

static void expect_chat(const oab_chat_options *o, const char *want)
{
    oab_error err;
    oab_request *r = NULL;
    oab_status st = oab_chat_request_new(&r, "a", "hi", o, &err);
    expect_line(st, r, want);
}

static void expect_responses(const oab_responses_options *o, const char *want)
{
    oab_error err;
    oab_request *r = NULL;
    oab_status st = oab_responses_request_new(&r, "a", "hi", o, &err);
    expect_line(st, r, want);
}

static void test_builder_fields(void)
{
    oab_error err;
    oab_request *r = NULL;

    /* set up with the macro, nothing unset is sent: no zeros, no false */
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    o.model = "m";
    expect_chat(&o, CHAT_PRE("a") "}}");

    /* max tokens: -1 is unset, 1 and up are sent, the rest refused */
    struct {
        long v;
        int ok;
    } cases[] = {{-5, 0}, {0, 0}, {-2, 0}, {-1, 1}, {1, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        for (int field = 0; field < 2; field++) {
            oab_chat_options t = OAB_CHAT_OPTIONS_INIT;
            t.model = "m";
            const char *name = field ? "max_completion_tokens" : "max_tokens";
            if (field)
                t.max_completion_tokens = cases[i].v;
            else
                t.max_tokens = cases[i].v;
            oab_status st = oab_chat_request_new(&r, "a", "hi", &t, &err);
            if (cases[i].ok) {
                CHECK_OK(st);
                oab_request_free(r);
                r = NULL;
                continue;
            }
            CHECK_EQ_INT(st, OAB_EINVAL);
            CHECK(r == NULL);
            char want[96];
            snprintf(want, sizeof want,
                     "%s: %ld, must be at least 1 (or -1, unset)", name,
                     cases[i].v);
            CHECK_STR(err.message, want);
        }
    }
    o.max_tokens = 1;
    o.max_completion_tokens = 7;
    expect_chat(&o, CHAT_PRE("a") ",\"max_tokens\":1,\"max_completion_tokens\":7}}");

    oab_responses_options ro = OAB_RESPONSES_OPTIONS_INIT;
    ro.model = "m";
    ro.max_output_tokens = -5;
    CHECK_EQ_INT(oab_responses_request_new(&r, "a", "hi", &ro, &err), OAB_EINVAL);
    CHECK(r == NULL);
    CHECK_STR(err.message, "max_output_tokens: -5, must be at least 1 (or -1, unset)");
    ro.max_output_tokens = 0;
    CHECK_EQ_INT(oab_responses_request_new(&r, "a", "hi", &ro, &err), OAB_EINVAL);
    CONTAINS(err.message, "max_output_tokens: 0");
    ro.max_output_tokens = -1;
    expect_responses(&ro, RESP_PRE("a") "}}");

    /* parallel_tool_calls: never sent without tools */
    o = (oab_chat_options)OAB_CHAT_OPTIONS_INIT;
    o.model = "m";
    o.parallel_tool_calls = 0;
    expect_chat(&o, CHAT_PRE("a") "}}");
    o.parallel_tool_calls = 1;
    expect_chat(&o, CHAT_PRE("a") "}}");
    oab_tool tool = {"f", NULL, NULL, 0};
    o.tools = &tool;
    o.n_tools = 1;
    o.parallel_tool_calls = 0;
    expect_chat(&o, CHAT_PRE("a") "," TOOL_CHAT ",\"parallel_tool_calls\":false}}");
    o.parallel_tool_calls = -1;
    expect_chat(&o, CHAT_PRE("a") "," TOOL_CHAT "}}");
    o.parallel_tool_calls = 2;
    CHECK_EQ_INT(oab_chat_request_new(&r, "a", "hi", &o, &err), OAB_EINVAL);
    CHECK_STR(err.message, "parallel_tool_calls: 2, must be -1 (unset), 0 or 1");

    /* the output tool of OAB_OUTPUT_TOOL counts as a tool */
    oab_schema *s = NULL;
    CHECK_OK(oab_schema_new(&s, "out", NULL, "{\"type\":\"object\"}", 0, &err));
    o = (oab_chat_options)OAB_CHAT_OPTIONS_INIT;
    o.model = "m";
    o.output_schema = s;
    o.output_mode = OAB_OUTPUT_TOOL;
    o.parallel_tool_calls = 0;
    expect_chat(&o, CHAT_PRE("a") ",\"tools\":[{\"type\":\"function\",\"function\":"
                "{\"name\":\"out\",\"description\":\"The final response which "
                "ends this conversation\",\"parameters\":{\"type\":\"object\"},"
                "\"strict\":false}}],"
                "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":"
                "\"out\"}},\"parallel_tool_calls\":false}}");
    /* native mode has no tool: not sent */
    o.output_mode = OAB_OUTPUT_NATIVE;
    expect_chat(&o, CHAT_PRE("a") ",\"response_format\":{\"type\":\"json_schema\","
                "\"json_schema\":{\"name\":\"out\",\"schema\":{\"type\":\"object\"},"
                "\"strict\":false}}}}");
    oab_schema_free(s);

    ro = (oab_responses_options)OAB_RESPONSES_OPTIONS_INIT;
    ro.model = "m";
    ro.parallel_tool_calls = 0;
    expect_responses(&ro, RESP_PRE("a") "}}");
    ro.tools = &tool;
    ro.n_tools = 1;
    expect_responses(&ro, RESP_PRE("a") ",\"tools\":[{\"type\":\"function\","
                     "\"name\":\"f\",\"parameters\":{\"type\":\"object\","
                     "\"properties\":{}},\"strict\":false}],"
                     "\"parallel_tool_calls\":false}}");
}

/* ---- oab_client_new_v2: which option is wrong ---- */

static void expect_client_error(const oab_client_options *o, oab_status want,
                                const char *message)
{
    oab_error err;
    oab_client *c = (oab_client *)&err; /* must come back NULL */
    CHECK_EQ_INT(oab_client_new_v2(&c, o, &err), want);
    CHECK(c == NULL);
    CHECK_EQ_INT(err.status, want);
    if (strcmp(err.message, message) != 0)
        fprintf(stderr, "  message: %s\n  want:    %s\n", err.message, message);
    CHECK_STR(err.message, message);
    /* the old entry point: same code, same checks */
    c = (oab_client *)&err;
    CHECK_EQ_INT(oab_client_new(&c, o), want);
    CHECK(c == NULL);
}

static void test_client_new(void)
{
    unsetenv("OPENAI_BASE_URL");
    unsetenv("OPENAI_API_KEY");
    unsetenv("AZURE_OPENAI_API_KEY");
    unsetenv("AZURE_OPENAI_ENDPOINT");
    const char *local = "http://127.0.0.1:9/v1";
    oab_error err;

    oab_client_options nz = {.version = OAB_CLIENT_OPTIONS_VERSION,
                             .base_url = "http://127.0.0.1:9/v1"};
    oab_client *c = NULL;
    CHECK_EQ_INT(oab_client_new_v2(&c, &nz, &err), OAB_EINVAL);
    CHECK(c == NULL);
    check_unmarked(err.message, "oab_client_options", "OAB_CLIENT_OPTIONS_INIT");
    oab_client_options ov = OAB_CLIENT_OPTIONS_INIT;
    ov.base_url = local;
    ov.version = OTHER_VERSION;
    CHECK_EQ_INT(oab_client_new_v2(&c, &ov, &err), OAB_EINVAL);
    check_version(err.message, "oab_client_options");
    CHECK_EQ_INT(oab_client_new(&c, &ov), OAB_EINVAL);
    CHECK(c == NULL);

    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    o.base_url = "ftp://127.0.0.1/v1";
    expect_client_error(&o, OAB_EINVAL,
                        "oab_client_options.base_url: the base URL must start "
                        "with http:// or https://");
    o.base_url = NULL;
    setenv("OPENAI_BASE_URL", "127.0.0.1:8089/v1", 1);
    expect_client_error(&o, OAB_EINVAL,
                        "$OPENAI_BASE_URL: the base URL must start with "
                        "http:// or https://");
    unsetenv("OPENAI_BASE_URL");
    expect_client_error(&o, OAB_ENOKEY,
                        "no API key for api.openai.com: set "
                        "oab_client_options.api_key or $OPENAI_API_KEY");
    o.azure = 1;
    o.base_url = "https://res.openai.azure.com/openai";
    expect_client_error(&o, OAB_ENOKEY,
                        "no API key for res.openai.azure.com: set "
                        "oab_client_options.api_key or $AZURE_OPENAI_API_KEY");

    o = (oab_client_options)OAB_CLIENT_OPTIONS_INIT;
    o.base_url = local;
    struct {
        long *field;
        const char *name;
    } ms[] = {{&o.connect_timeout_ms, "connect_timeout_ms"},
              {&o.timeout_ms, "timeout_ms"},
              {&o.retry_base_ms, "retry_base_ms"},
              {&o.retry_max_ms, "retry_max_ms"}};
    char want[160];
    for (size_t i = 0; i < sizeof ms / sizeof *ms; i++) {
        *ms[i].field = -(long)i - 1;
        snprintf(want, sizeof want,
                 "oab_client_options.%s: %ld, must be 0 (default) or more",
                 ms[i].name, *ms[i].field);
        expect_client_error(&o, OAB_EINVAL, want);
        *ms[i].field = 0;
    }
    const int retries[] = {101, -2};
    for (size_t i = 0; i < 2; i++) {
        o.max_retries = retries[i];
        snprintf(want, sizeof want,
                 "oab_client_options.max_retries: %d, must be -1 (none), 0 "
                 "(default 2) or up to 100",
                 retries[i]);
        expect_client_error(&o, OAB_EINVAL, want);
    }
    o.max_retries = 0;

    o.n_extra_headers = 1;
    expect_client_error(&o, OAB_EINVAL,
                        "oab_client_options.extra_headers: NULL with "
                        "n_extra_headers 1");
    /* a header's value may be a secret: the message names it by index */
    const char *hdrs[] = {"X-Ok: 1", "Authorization: Bearer sk-secret\r\nX: y"};
    o.extra_headers = hdrs;
    o.n_extra_headers = 2;
    expect_client_error(&o, OAB_EINVAL,
                        "oab_client_options.extra_headers[1]: not a "
                        "\"Name: value\" line (or holds CR/LF)");
    CHECK_EQ_INT(oab_client_new_v2(&c, &o, &err), OAB_EINVAL);
    CHECK(strstr(err.message, "sk-secret") == NULL);
    hdrs[1] = "no colon";
    expect_client_error(&o, OAB_EINVAL,
                        "oab_client_options.extra_headers[1]: not a "
                        "\"Name: value\" line (or holds CR/LF)");
    o.n_extra_headers = 1;
    o.user_agent_suffix = "me\n";
    expect_client_error(&o, OAB_EINVAL,
                        "oab_client_options.user_agent_suffix: holds CR or LF");

    /* all fixed: a client, and err says nothing */
    o.user_agent_suffix = "me";
    strcpy(err.message, "stale");
    CHECK_OK(oab_client_new_v2(&c, &o, &err));
    CHECK(c != NULL);
    CHECK_STR(err.message, "");
    CHECK_STR(oab_client_base_url(c), local);
    oab_client_free(c);
    c = NULL;
    /* NULL options are the defaults: OpenAI's URL, and no key here */
    CHECK_EQ_INT(oab_client_new_v2(&c, NULL, NULL), OAB_ENOKEY);
    CHECK(c == NULL);
    CHECK_EQ_INT(oab_client_new_v2(NULL, &o, &err), OAB_EINVAL);
    CHECK_STR(err.message, "out: NULL");
}

int main(void)
{
    strcpy(g_dir, "/tmp/oab_test_options_XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_chat_and_responses();
    test_validate();
    test_split();
    test_results_files();
    test_client_calls();
    test_builder_fields();
    test_client_new();
    CHECK_EQ_INT(dir_entries(), 0);
    rmdir(g_dir);
    return t_summary("test_options");
}
