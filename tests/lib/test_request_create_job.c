/* Tests of oab_batch_create_job with built requests, against
 * tests/harness/mock_server.py on 127.0.0.1: invalid lists are refused before any
 * request is sent; a valid list is uploaded as the exact JSONL. */
#include "oaibatch.h"
#include "testutil.h"
#include "mock_server.h"

static oab_client *client_for(const mock *m, const char *model)
{
    oab_client_options o = OAB_CLIENT_OPTIONS_INIT;
    o.api_key = "sk-test";
    o.base_url = m->base;
    o.model = model;
    o.max_retries = -1;
    oab_client *c = NULL;
    CHECK_OK(oab_client_new(&c, &o));
    return c;
}

static oab_request *chat(const char *id, const char *model)
{
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    o.model = model;
    o.max_tokens = 50;
    oab_request *r = NULL;
    CHECK_OK(oab_chat_request_new(&r, id, "Hello world", &o, NULL));
    return r;
}

static void expect_refused(oab_client *c, oab_request *const *reqs, size_t n,
                           const oab_batch_options *bo, const char *code,
                           const char *also)
{
    oab_job *job = (oab_job *)1;
    CHECK_EQ_INT(oab_batch_create_job(c, &job, reqs, n, bo), OAB_EVALIDATION);
    CHECK(job == NULL);
    const char *msg = oab_client_errmsg(c);
    CHECK(strstr(msg, code) != NULL);
    if (also)
        CHECK(strstr(msg, also) != NULL);
    if (!strstr(msg, code) || (also && !strstr(msg, also)))
        fprintf(stderr, "  message: %s\n", msg);
    CHECK_EQ_INT(oab_client_last_error(c)->status, OAB_EVALIDATION);
}

static void test_refused(void)
{
    mock m;
    CHECK(mock_start(&m, "create_job_requests_none", NULL) == 0);
    oab_client *c = client_for(&m, NULL);
    if (!c)
        return;
    oab_request *a = chat("a", "gpt-4o-mini"), *b = chat("b", "gpt-4o-mini"),
                *a2 = chat("a", "gpt-4o-mini"), *other = chat("c", "gpt-4o"),
                *nomodel = chat("d", NULL);
    const char *in[] = {"x"};
    oab_request *emb = NULL;
    CHECK_OK(oab_embeddings_request_new(&emb, "e", "text-embedding-3-small", in, 1, 0, NULL));

    oab_request *one[] = {a};
    expect_refused(c, one, 1, NULL, "too_few_requests", NULL);
    expect_refused(c, NULL, 0, NULL, "empty_file", NULL);
    oab_request *dup[] = {a, b, a2};
    expect_refused(c, dup, 3, NULL, "duplicate_custom_id", "requests[2] (custom_id \"a\")");
    oab_request *models[] = {a, other};
    expect_refused(c, models, 2, NULL, "model_mismatch", "requests[1]");
    oab_request *urls[] = {a, emb};
    expect_refused(c, urls, 2, NULL, "url_mismatch", "requests[1]");
    /* the endpoint asked for must be the requests' url */
    oab_batch_options bo = OAB_BATCH_OPTIONS_INIT;
    bo.endpoint = "/v1/responses";
    oab_request *ab[] = {a, b};
    expect_refused(c, ab, 2, &bo, "url_mismatch", "requests[0]");
    /* no model and no default model on the client */
    oab_request *nm[] = {a, nomodel};
    expect_refused(c, nm, 2, NULL, "missing_model", "custom_id \"d\"");

    oab_request *nul[] = {a, NULL};
    CHECK_EQ_INT(oab_batch_create_job(c, NULL, nul, 2, NULL), OAB_EINVAL);
    CHECK_EQ_INT(oab_batch_create_job(NULL, NULL, ab, 2, NULL), OAB_EINVAL);

    /* nothing reached the server */
    CHECK(mock_finish(&m, NULL));
    oab_client_free(c);
    oab_request_free(a);
    oab_request_free(b);
    oab_request_free(a2);
    oab_request_free(other);
    oab_request_free(nomodel);
    oab_request_free(emb);
}

static void test_created(void)
{
    mock m;
    CHECK(mock_start(&m, "create_job_requests", NULL) == 0);
    oab_client *c = client_for(&m, "openai:text-embedding-3-small");
    if (!c)
        return;
    const char *one[] = {"a"}, *two[] = {"b", "c"};
    oab_request *e1 = NULL, *e2 = NULL;
    CHECK_OK(oab_embeddings_request_new(&e1, "e1", NULL, one, 1, 0, NULL));
    CHECK_OK(oab_embeddings_request_new(&e2, "e2", "text-embedding-3-small", two, 2, 8, NULL));
    oab_request *reqs[] = {e1, e2};
    const char *keys[] = {"project", "version"}, *vals[] = {"my-batch-job", "1.0"};
    oab_batch_options bo = OAB_BATCH_OPTIONS_INIT;
    bo.metadata_keys = keys;
    bo.metadata_values = vals;
    bo.n_metadata = 2;
    oab_job *job = NULL;
    oab_status st = oab_batch_create_job(c, &job, reqs, 2, &bo);
    CHECK_OK(st);
    if (st != OAB_OK)
        fprintf(stderr, "  %s\n", oab_client_errmsg(c));
    CHECK(job && strcmp(job->id, "batch_req") == 0);
    CHECK(job && job->status == OAB_BATCH_VALIDATING);
    oab_job_free(job);
    CHECK(mock_finish(&m, NULL));
    oab_client_free(c);
    oab_request_free(e1);
    oab_request_free(e2);
}

int main(void)
{
    oab_global_init();
    test_refused();
    test_created();
    oab_global_cleanup();
    return t_summary("test_request_create_job");
}
