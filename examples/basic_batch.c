/* basic_batch.c - the seed's "Creating and Submitting a Batch Job".
 *
 * Builds three chat requests (a batch needs at least two), submits them
 * with metadata in one call (validate, upload, create) and prints the
 * batch id. Nothing is waited for: see get_results.c.
 *
 *   $ ./basic_batch
 *   Batch job created: batch_abc123
 */
#include <stdio.h>

#include "common.h"
#include "oaibatch.h"

int main(void)
{
    oab_client *c = ex_client();
    oab_request *reqs[3] = {NULL, NULL, NULL};
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    oab_batch_options bo = OAB_BATCH_OPTIONS_INIT;
    const char *keys[] = {"project", "version"};
    const char *values[] = {"my-batch-job", "1.0"};
    oab_job *job = NULL;
    oab_error err;
    oab_status st;
    int rc = 1;
    size_t i;

    if (!c)
        return 1;
    o.model = ex_model();

    o.max_tokens = 50;
    if (oab_chat_request_new(&reqs[0], "math-question", "What is 2+2?", &o,
                             &err) != OAB_OK)
        goto bad_request;

    o.max_tokens = 100;
    o.temperature = 0.8;
    if (oab_chat_request_new(&reqs[1], "creative-writing",
                             "Write a short poem about coding", &o,
                             &err) != OAB_OK)
        goto bad_request;

    o.max_tokens = 75;
    o.temperature = OAB_UNSET; /* back to "not sent" */
    if (oab_chat_request_new(&reqs[2], "explanation",
                             "Explain quantum computing in one sentence", &o,
                             &err) != OAB_OK)
        goto bad_request;

    /* metadata (optional): at most 16 pairs */
    bo.metadata_keys = keys;
    bo.metadata_values = values;
    bo.n_metadata = 2;

    st = oab_batch_create_job(c, &job, reqs, 3, &bo);
    if (st != OAB_OK) {
        rc = ex_fail(c, "creating the batch", st);
        goto done;
    }
    printf("Batch job created: %s\n", job->id);
    rc = 0;
    goto done;

bad_request:
    fprintf(stderr, "error: building a request: %s\n", err.message);
done:
    for (i = 0; i < 3; i++)
        oab_request_free(reqs[i]);
    oab_job_free(job);
    oab_client_free(c);
    return rc;
}
