/* error_handling.c - the seed's "Error Handling", done right.
 *
 * The seed's version polls batch_retrieve_job where it means
 * batch_get_status, calls a batch_get_results method that does not exist,
 * sleeps five minutes between polls whatever happens, and keeps results
 * only when everything completed. Here:
 *
 *  - invalid input is refused before anything is sent (a batch of one
 *    request, the seed's "Minimum Request Error");
 *  - a failed call says why: HTTP status, the API's error type and code,
 *    the request id to quote to support, Retry-After;
 *  - the wait polls with backoff and has a timeout; on timeout the batch is
 *    cancelled and what it finished is still read;
 *  - results are read for any terminal status (completed, expired,
 *    cancelled), output file and error file both, and every line that did
 *    not succeed is printed with the way it failed;
 *  - a batch that failed validation prints its errors with line numbers.
 *
 * Exit status: 0 when every line succeeded, 1 otherwise.
 */
#include <stdio.h>

#include "common.h"
#include "oaibatch.h"

/* Everything the client knows about its last failure. */
static void print_detail(oab_client *c, const char *what)
{
    const oab_error_detail *d = oab_client_last_error(c);

    fprintf(stderr, "error: %s: %s\n", what, oab_client_errmsg(c));
    fprintf(stderr, "  code: %s (%s)\n", oab_status_name(d->status),
            oab_strerror(d->status));
    if (d->http_status)
        fprintf(stderr, "  HTTP status: %ld\n", d->http_status);
    if (d->type || d->code)
        fprintf(stderr, "  API error: type %s, code %s%s%s\n",
                d->type ? d->type : "-", d->code ? d->code : "-",
                d->param ? ", param " : "", d->param ? d->param : "");
    if (d->request_id)
        fprintf(stderr, "  request id: %s\n", d->request_id);
    if (d->retry_after_s >= 0)
        fprintf(stderr, "  retry after: %.1f s\n", d->retry_after_s);
    if (d->attempts > 1)
        fprintf(stderr, "  attempts: %d\n", d->attempts);
    switch (d->status) {
    case OAB_ENOKEY:
    case OAB_EAUTH:
        fprintf(stderr, "  hint: check OPENAI_API_KEY\n");
        break;
    case OAB_ECONNECT:
        fprintf(stderr, "  hint: is the server at OPENAI_BASE_URL running?\n");
        break;
    case OAB_ERATELIMIT:
        fprintf(stderr, "  hint: the batch queue limit of the model may be "
                        "full; wait for running batches to end\n");
        break;
    default:
        break;
    }
}

/* Prints one line per result that did not succeed, by kind. */
static int print_failure(const oab_result *r, void *userdata)
{
    (void)userdata;
    if (r->status == OAB_RESULT_SUCCEEDED) {
        printf("  %s: succeeded (%lld tokens)\n", r->custom_id,
               r->has_usage ? r->usage.total_tokens : 0LL);
        return 0;
    }
    printf("  %s: %s", r->custom_id ? r->custom_id : "(unknown custom_id)",
           oab_result_status_str(r->status));
    switch (r->status) {
    case OAB_RESULT_HTTP_ERROR: /* the request itself was refused */
        printf(": HTTP %d", r->status_code);
        break;
    case OAB_RESULT_EXPIRED:   /* not run within the 24 hours */
    case OAB_RESULT_CANCELLED: /* not run before the cancel */
        printf(" (not run: submit this line again)");
        break;
    case OAB_RESULT_MALFORMED: /* a broken line in the result file */
        printf(" (line %ld of the %s file)", r->source_line,
               r->from_error_file ? "error" : "output");
        break;
    default:
        break;
    }
    if (r->error_code)
        printf(": %s", r->error_code);
    if (r->error_message)
        printf(": %s", r->error_message);
    printf("\n");
    return 0;
}

int main(void)
{
    oab_client *c = ex_client();
    oab_request *reqs[2] = {NULL, NULL};
    oab_chat_options o = OAB_CHAT_OPTIONS_INIT;
    oab_wait_options w;
    oab_job *job = NULL;
    oab_summary sum;
    oab_error err;
    oab_status st;
    int rc = 1, s;

    if (!c)
        return 1;
    o.model = ex_model();
    o.max_tokens = 50;
    if (oab_chat_request_new(&reqs[0], "example-1", "Hello world", &o, &err) !=
        OAB_OK) {
        fprintf(stderr, "error: %s\n", err.message);
        goto done;
    }
    o.max_tokens = 100;
    if (oab_chat_request_new(&reqs[1], "example-2", "Write a haiku", &o,
                             &err) != OAB_OK) {
        fprintf(stderr, "error: %s\n", err.message);
        goto done;
    }

    /* 1. Checked before anything is sent: one request is not a batch. */
    st = oab_batch_create_job(c, &job, reqs, 1, NULL);
    printf("A batch of one request: %s\n  %s\n", oab_status_name(st),
           oab_client_errmsg(c));
    if (st != OAB_EVALIDATION)
        goto done; /* it should have been refused */

    /* 2. Submit. */
    st = oab_batch_create_job(c, &job, reqs, 2, NULL);
    if (st != OAB_OK) {
        print_detail(c, "creating the batch");
        goto done;
    }
    printf("Batch submitted: %s\n", job->id);
    fflush(stdout);

    /* 3. Wait with backoff and a timeout (OAB_WAIT_TIMEOUT, default 25 h);
     *    on timeout the batch is cancelled rather than left running. */
    w = ex_wait_options();
    w.cancel_on_timeout = 1;
    {
        oab_job *last = NULL;
        char id[128];
        snprintf(id, sizeof id, "%s", job->id);
        st = oab_batch_wait(c, &last, id, &w);
        if (st == OAB_ETIMEOUT) {
            printf("Timed out after %g s: cancelled; reading what it "
                   "finished\n", w.timeout_s);
            oab_job_free(last);
            last = NULL;
            /* cancelling -> cancelled takes up to 10 minutes */
            w.timeout_s = 15 * 60;
            w.cancel_on_timeout = 0;
            st = oab_batch_wait(c, &last, id, &w);
        }
        if (st != OAB_OK) {
            /* the batch is still there: nothing paid for is lost */
            print_detail(c, "waiting for the batch");
            fprintf(stderr, "  the batch keeps running: ./get_results %s\n",
                    id);
            oab_job_free(last);
            goto done;
        }
        oab_job_free(job);
        job = last;
    }
    printf("Batch ended: %s\n", job->status_text);

    /* 4. A batch that failed validation ran nothing: say which lines. */
    if (job->status == OAB_BATCH_FAILED) {
        size_t i;
        for (i = 0; i < job->n_errors; i++)
            printf("  line %ld: %s: %s\n", job->errors[i].line,
                   job->errors[i].code ? job->errors[i].code : "-",
                   job->errors[i].message ? job->errors[i].message : "");
        goto done;
    }

    /* 5. Any other end (completed, expired, cancelled): read every line,
     *    from the output file and the error file. */
    st = oab_batch_results_stream(c, job, NULL, print_failure, NULL, &sum);
    if (st != OAB_OK) {
        print_detail(c, "reading the results");
        goto done;
    }
    printf("Summary:");
    for (s = 0; s < OAB_RESULT_STATUS_COUNT; s++)
        if (sum.by_status[s])
            printf(" %s %zu", oab_result_status_str((oab_result_status)s),
                   sum.by_status[s]);
    printf(" (of %zu); %lld tokens\n", sum.total, sum.usage.total_tokens);
    rc = sum.total > 0 && sum.by_status[OAB_RESULT_SUCCEEDED] == sum.total &&
                 job->status == OAB_BATCH_COMPLETED
             ? 0
             : 1;

done:
    oab_request_free(reqs[0]);
    oab_request_free(reqs[1]);
    oab_job_free(job);
    oab_client_free(c);
    return rc;
}
