/* get_results.c - the seed's "Getting Results", done so nothing is lost.
 *
 * Waits for the batch to end (the seed only looks once and gives up), then
 * reads every line: the output file and the error file, also for batches
 * that expired, were cancelled or failed part-way. Prints each custom_id
 * with its response text or its error.
 *
 *   $ ./get_results batch_abc123
 *
 *   math-question:
 *     Response: 2 + 2 = 4.
 *
 *   explanation:
 *     Error: http_error: HTTP 400 invalid_request_error: ...
 *
 * With --no-wait it behaves like the seed: "Job not ready" unless the batch
 * has ended. Exit status: 0 when every line succeeded, 1 otherwise (also
 * when the batch is not ready, or failed).
 */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "oaibatch.h"

static void print_result(const oab_result *r)
{
    printf("\n%s:\n", r->custom_id ? r->custom_id : "(no custom_id)");
    if (r->status != OAB_RESULT_SUCCEEDED) {
        /* one of the ways a line can fail; see error_handling.c */
        printf("  Error: %s", oab_result_status_str(r->status));
        if (r->status_code)
            printf(": HTTP %d", r->status_code);
        if (r->error_code)
            printf(" %s", r->error_code);
        if (r->error_message)
            printf(": %s", r->error_message);
        printf("\n");
    } else if (r->output) {
        printf("  Response: %s\n", r->output);
    } else if (r->refusal) {
        printf("  Refusal: %s\n", r->refusal);
    } else if (r->n_tool_calls) {
        printf("  Made %zu tool calls (see tool_results.c)\n", r->n_tool_calls);
    } else {
        printf("  Response: (empty, finish_reason %s)\n",
               r->finish_reason ? r->finish_reason : "-");
    }
}

int main(int argc, char **argv)
{
    oab_client *c;
    oab_job *job = NULL;
    oab_result_set *set = NULL;
    oab_status st;
    const char *batch_id;
    int no_wait = 0, rc = 1;
    size_t i;

    if (argc == 3 && strcmp(argv[1], "--no-wait") == 0)
        no_wait = 1;
    if (argc != 2 + no_wait) {
        fprintf(stderr, "usage: %s [--no-wait] BATCH_ID\n", argv[0]);
        return 2;
    }
    batch_id = argv[1 + no_wait];
    if (!(c = ex_client()))
        return 1;

    if (no_wait) {
        st = oab_batch_retrieve(c, &job, batch_id);
        if (st != OAB_OK) {
            rc = ex_fail(c, "getting the batch", st);
            goto done;
        }
        if (!oab_batch_status_is_terminal(job->status)) {
            printf("Job not ready. Status: %s\n", job->status_text);
            goto done;
        }
    } else if (ex_wait(c, batch_id, &job) != OAB_OK) {
        goto done;
    }

    if (job->status != OAB_BATCH_COMPLETED)
        printf("Batch ended with status %s; reading what it produced.\n",
               job->status_text);

    /* the seed's batch_retrieve_job: output and error files, merged */
    st = oab_batch_retrieve_job(c, &set, batch_id, NULL);
    if (st != OAB_OK) {
        rc = ex_fail(c, "reading the results", st);
        goto done;
    }
    for (i = 0; i < set->n; i++)
        print_result(set->items[i]);

    printf("\n%zu results: %zu succeeded, %zu failed\n", set->summary.total,
           set->summary.by_status[OAB_RESULT_SUCCEEDED],
           set->summary.total - set->summary.by_status[OAB_RESULT_SUCCEEDED]);
    if (job->status == OAB_BATCH_FAILED)
        printf("The batch failed before running: ./check_status %s shows why\n",
               batch_id);
    rc = (job->status == OAB_BATCH_COMPLETED &&
          set->summary.by_status[OAB_RESULT_SUCCEEDED] == set->summary.total)
             ? 0
             : 1;
done:
    oab_result_set_free(set);
    oab_job_free(job);
    oab_client_free(c);
    return rc;
}
